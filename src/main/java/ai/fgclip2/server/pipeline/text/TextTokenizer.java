package ai.fgclip2.server.pipeline.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * FG-CLIP 2 text tokenization: Python-style lower-casing, Gemma BPE without special tokens, no BOS, EOS
 * appended (kept last when truncating), right-padded with pad to exactly the walk's length. The model
 * has no attention mask and pools the last position, so the padded length is part of the model's input.
 *
 * <p>Thread-safe: the native tokenizer encodes concurrently. {@link #close()} must not race with
 * {@link #tokenize}.
 */
public final class TextTokenizer implements AutoCloseable {
    public static final long PAD_ID = 0;
    public static final long EOS_ID = 1;

    private final HuggingFaceTokenizer tokenizer;
    private final int shortLength;
    private final int longLength;

    /**
     * @param tokenizerJson the model's {@code tokenizer.json}
     * @param shortLength   ids per short/box text ({@code max_position_embeddings}, 64 in published models)
     * @param longLength    ids per long text ({@code longtext_len}, 196 in published models)
     */
    public TextTokenizer(Path tokenizerJson, int shortLength, int longLength) throws IOException {
        if (shortLength < 1 || longLength < 1) {
            throw new IllegalArgumentException("text lengths must be positive: short " + shortLength + ", long " + longLength);
        }
        this.shortLength = shortLength;
        this.longLength = longLength;
        // DJL would otherwise truncate to 512 tokens and pad; EOS, truncation and padding are ours.
        this.tokenizer = HuggingFaceTokenizer.builder()
                .optTokenizerPath(tokenizerJson)
                .optAddSpecialTokens(false)
                .optTruncation(false)
                .optPadding(false)
                .build();
    }

    /** The padded length of a resolved walk. */
    public int length(TextWalk walk) {
        return switch (walk) {
            case SHORT, BOX -> shortLength;
            case LONG -> longLength;
            case AUTO -> throw new IllegalArgumentException("AUTO has no fixed length; resolve it per text");
        };
    }

    public TokenizedText tokenize(String text, TextWalk walk) {
        long[] content = tokenizer.encode(PythonCase.lower(text), false, false).getIds();
        TextWalk resolved = walk != TextWalk.AUTO ? walk : content.length + 1 <= shortLength ? TextWalk.SHORT : TextWalk.LONG;
        int length = length(resolved);
        int kept = Math.min(content.length, length - 1);
        long[] ids = new long[length];
        System.arraycopy(content, 0, ids, 0, kept);
        ids[kept] = EOS_ID;
        Arrays.fill(ids, kept + 1, length, PAD_ID);
        return new TokenizedText(ids, resolved, kept + 1, kept < content.length);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
