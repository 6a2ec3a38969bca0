package ai.fgclip2.server.pipeline.text;

/**
 * Python's {@code str.lower()}, which FG-CLIP 2 applies to every text before tokenizing.
 *
 * <p>It differs from Java's {@code String.toLowerCase} in two ways: it never depends on a locale (Java's
 * default locale turns 'I' into dotless 'ı' under Turkish), and it decides the final form of capital sigma
 * with the Unicode Final_Sigma context (a cased letter before it, none after it, skipping case-ignorable
 * characters) where Java uses word boundaries, so the two disagree on strings such as {@code "A_Σ"} and
 * {@code "AΣ_b"}. (Both give 'ς' for a word-final sigma, as in "ΟΔΟΣ".) Everything else is the full Unicode lowercase mapping, which adds a code point only for
 * 'İ' (U+0130 to "i̇"). Case data comes from the JVM's Unicode version (13.0 in Java 17); Python 3.11 uses
 * 14.0, so letters added in Unicode 14 (such as the Vithkuqi script) stay unchanged here.
 */
public final class PythonCase {
    private static final int CAPITAL_SIGMA = 0x03A3;
    private static final int SMALL_SIGMA = 0x03C3;
    private static final int FINAL_SIGMA = 0x03C2;
    private static final int CAPITAL_I_WITH_DOT = 0x0130;

    private PythonCase() {
    }

    public static String lower(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); ) {
            int codePoint = text.codePointAt(i);
            if (codePoint == CAPITAL_SIGMA) {
                out.appendCodePoint(isFinalSigma(text, i) ? FINAL_SIGMA : SMALL_SIGMA);
            } else if (codePoint == CAPITAL_I_WITH_DOT) {
                out.append("i\u0307");
            } else {
                out.appendCodePoint(Character.toLowerCase(codePoint));
            }
            i += Character.charCount(codePoint);
        }
        return out.toString();
    }

    /** Unicode Final_Sigma: {@code cased case-ignorable* Σ} not followed by {@code case-ignorable* cased}. */
    private static boolean isFinalSigma(String text, int sigmaIndex) {
        int before = sigmaIndex;
        int previous = -1;
        while (before > 0) {
            previous = text.codePointBefore(before);
            before -= Character.charCount(previous);
            if (!isCaseIgnorable(previous)) {
                break;
            }
            previous = -1;
        }
        if (previous < 0 || !isCased(previous)) {
            return false;
        }
        for (int after = sigmaIndex + 1; after < text.length(); ) {
            int next = text.codePointAt(after);
            if (!isCaseIgnorable(next)) {
                return !isCased(next);
            }
            after += Character.charCount(next);
        }
        return true;
    }

    /** Unicode derived property Cased: Lowercase, Uppercase or titlecase letter (Java's predicates include Other_Lowercase/Other_Uppercase). */
    private static boolean isCased(int codePoint) {
        return Character.isLowerCase(codePoint) || Character.isUpperCase(codePoint) || Character.isTitleCase(codePoint);
    }

    /** Unicode derived property Case_Ignorable: categories Mn, Me, Cf, Lm, Sk, or Word_Break MidLetter, MidNumLet, Single_Quote. */
    private static boolean isCaseIgnorable(int codePoint) {
        switch (Character.getType(codePoint)) {
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.FORMAT,
                 Character.MODIFIER_LETTER, Character.MODIFIER_SYMBOL:
                return true;
            default:
                break;
        }
        return switch (codePoint) {
            // Word_Break=Single_Quote, MidNumLet, MidLetter (Unicode WordBreakProperty.txt)
            case 0x0027,
                 0x002E, 0x2018, 0x2019, 0x2024, 0xFE52, 0xFF07, 0xFF0E,
                 0x003A, 0x00B7, 0x0387, 0x055F, 0x05F4, 0x2027, 0xFE13, 0xFE55, 0xFF1A -> true;
            default -> false;
        };
    }
}
