package ai.fgclip2.server.pipeline.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.fgclip2.exporter.synth.BundledTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextTokenizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path folder;
    static TextTokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        Path json = folder.resolve("tokenizer.json");
        BundledTokenizer.writeTo(json);
        tokenizer = new TextTokenizer(json, 64, 196);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    private static JsonNode resource(String name) throws IOException {
        try (InputStream in = TextTokenizerTest.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return JSON.readTree(in);
        }
    }

    private static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }

    private static int contentTokens(long[] expected) {
        int eos = 0;
        while (expected[eos] != TextTokenizer.EOS_ID || (eos + 1 < expected.length && expected[eos + 1] != TextTokenizer.PAD_ID)) {
            eos++;
        }
        return eos;
    }

    @Test
    void reproducesEveryReferenceCase() throws IOException {
        JsonNode cases = resource("/fixtures/fgclip2-tiny/tokenizer_cases.json").get("cases");
        assertThat(cases.size()).isEqualTo(15);
        for (JsonNode c : cases) {
            String text = c.get("text").asText();
            assertThat(PythonCase.lower(text)).as("lowercased %s", text).isEqualTo(c.get("lowercased").asText());
            long[] shortIds = longs(c.get("short_ids"));
            long[] longIds = longs(c.get("long_ids"));

            TokenizedText asShort = tokenizer.tokenize(text, TextWalk.SHORT);
            assertThat(asShort.ids()).as("short ids of %s", text).containsExactly(shortIds);
            assertThat(asShort.walk()).isEqualTo(TextWalk.SHORT);
            TokenizedText asBox = tokenizer.tokenize(text, TextWalk.BOX);
            assertThat(asBox.ids()).as("box ids of %s", text).containsExactly(shortIds);
            assertThat(asBox.walk()).isEqualTo(TextWalk.BOX);
            TokenizedText asLong = tokenizer.tokenize(text, TextWalk.LONG);
            assertThat(asLong.ids()).as("long ids of %s", text).containsExactly(longIds);
            assertThat(asLong.walk()).isEqualTo(TextWalk.LONG);

            // the reference long ids show how many content tokens the text has (up to 195)
            int content = contentTokens(longIds);
            assertThat(asLong.tokens()).as("long tokens of %s", text).isEqualTo(content + 1);
            assertThat(asShort.tokens()).isEqualTo(Math.min(content + 1, 64));
            assertThat(asShort.truncated()).as("short truncated %s", text).isEqualTo(content + 1 > 64);
            assertThat(asShort.ids()[asShort.tokens() - 1]).isEqualTo(TextTokenizer.EOS_ID);

            TokenizedText auto = tokenizer.tokenize(text, TextWalk.AUTO);
            if (content + 1 <= 64) {
                assertThat(auto.walk()).as("auto walk of %s", text).isEqualTo(TextWalk.SHORT);
                assertThat(auto.ids()).containsExactly(shortIds);
            } else {
                assertThat(auto.walk()).as("auto walk of %s", text).isEqualTo(TextWalk.LONG);
                assertThat(auto.ids()).containsExactly(longIds);
            }
        }
    }

    @Test
    void tokenCountsMatchTheEndToEndFixture() throws IOException {
        for (JsonNode group : resource("/fixtures/fgclip2-e2e/cases.json").get("texts")) {
            TextWalk walk = TextWalk.valueOf(group.get("walk").asText().toUpperCase(Locale.ROOT));
            JsonNode texts = group.get("texts");
            JsonNode counts = group.get("tokens_including_eos");
            for (int i = 0; i < texts.size(); i++) {
                TokenizedText t = tokenizer.tokenize(texts.get(i).asText(), walk);
                assertThat(t.tokens()).as("%s tokens of %s", walk, texts.get(i).asText()).isEqualTo(counts.get(i).asInt());
                assertThat(t.ids()).hasSize(tokenizer.length(walk));
            }
        }
    }

    @Test
    void textsFarBeyondDjlsDefaultLimitKeepTheirFirstTokens() throws IOException {
        // the reference case "word0 word1 ..." has more than 195 tokens, so a longer text that starts with it
        // must keep exactly the reference's first 195 tokens, whatever DJL's 512-token default would do
        JsonNode wordsCase = null;
        for (JsonNode c : resource("/fixtures/fgclip2-tiny/tokenizer_cases.json").get("cases")) {
            if (c.get("text").asText().startsWith("word0 word1")) {
                wordsCase = c;
            }
        }
        assertThat(wordsCase).isNotNull();
        StringBuilder text = new StringBuilder(wordsCase.get("text").asText());
        for (int i = 0; text.length() < 20_000; i++) {
            text.append(" extra").append(i).append(" 红色的塑料椅子");
        }
        TokenizedText t = tokenizer.tokenize(text.toString(), TextWalk.AUTO);
        assertThat(t.walk()).isEqualTo(TextWalk.LONG);
        assertThat(t.truncated()).isTrue();
        assertThat(t.tokens()).isEqualTo(196);
        assertThat(t.ids()).containsExactly(longs(wordsCase.get("long_ids")));
    }

    @Test
    void explicitShortWalkTruncatesKeepingEosLast() {
        String text = "a detailed description of a sunny kitchen ".repeat(20);
        TokenizedText asShort = tokenizer.tokenize(text, TextWalk.SHORT);
        TokenizedText asLong = tokenizer.tokenize(text, TextWalk.LONG);
        assertThat(asShort.truncated()).isTrue();
        assertThat(asShort.tokens()).isEqualTo(64);
        long[] expected = Arrays.copyOf(asLong.ids(), 64);
        expected[63] = TextTokenizer.EOS_ID;
        assertThat(asShort.ids()).containsExactly(expected);
    }

    @Test
    void autoIsNotALength() {
        assertThatThrownBy(() -> tokenizer.length(TextWalk.AUTO)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void concurrentUseGivesTheSameIds() throws Exception {
        List<String> texts = IntStream.range(0, 200).mapToObj(i -> "Photo number " + i + " of a ΣΟΦΟΣ cat, 红色 " + i).toList();
        List<long[]> sequential = texts.stream().map(s -> tokenizer.tokenize(s, TextWalk.AUTO).ids()).toList();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<long[]>> futures = new ArrayList<>();
            for (String s : texts) {
                futures.add(pool.submit(() -> tokenizer.tokenize(s, TextWalk.AUTO).ids()));
            }
            for (int i = 0; i < texts.size(); i++) {
                assertThat(futures.get(i).get()).containsExactly(sequential.get(i));
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
