package ai.fgclip2.server.pipeline.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import org.junit.jupiter.api.Test;

/** Expected strings are what CPython 3.11 {@code str.lower()} returns for the same input. */
class PythonCaseTest {

    @Test
    void finalSigmaFollowsTheUnicodeContextNotWordBoundaries() {
        assertThat(PythonCase.lower("ΟΔΟΣ ΣΟΦΟΣ")).isEqualTo("οδος σοφος");
        assertThat(PythonCase.lower("Σ")).isEqualTo("σ");
        assertThat(PythonCase.lower("ΣA")).isEqualTo("σa");
        assertThat(PythonCase.lower("A Σ")).isEqualTo("a σ");
        assertThat(PythonCase.lower("A.Σ")).isEqualTo("a.ς");
        assertThat(PythonCase.lower("AΣ\u0301")).isEqualTo("aς\u0301");
        // Java's String.toLowerCase gives "a_ς" and "aσ_b" here
        assertThat(PythonCase.lower("A_Σ")).isEqualTo("a_σ");
        assertThat(PythonCase.lower("AΣ_b")).isEqualTo("aς_b");
    }

    @Test
    void capitalIWithDotBecomesTwoCodePoints() {
        assertThat(PythonCase.lower("İstanbul")).isEqualTo("i\u0307stanbul");
    }

    @Test
    void ignoresTheDefaultLocale() {
        Locale previous = Locale.getDefault();
        try {
            Locale.setDefault(Locale.forLanguageTag("tr-TR"));
            assertThat(PythonCase.lower("TITLE")).isEqualTo("title");
        } finally {
            Locale.setDefault(previous);
        }
    }

    @Test
    void supplementaryCharactersAndUncasedTextPassThrough() {
        assertThat(PythonCase.lower("Red helmet 红色头盔 🪖 ")).isEqualTo("red helmet 红色头盔 🪖 ");
        assertThat(PythonCase.lower("𐐀")).isEqualTo("𐐨"); // Deseret, outside the BMP
        assertThat(PythonCase.lower("")).isEmpty();
    }
}
