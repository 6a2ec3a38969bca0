package ai.fgclip2.server.pipeline.text;

/**
 * Model-ready token ids of one text.
 *
 * @param ids       content ids, EOS (1), then pad (0) up to exactly the walk's length (64 or 196)
 * @param walk      the walk the ids were built for; never {@link TextWalk#AUTO}
 * @param tokens    content tokens plus EOS after truncation, so {@code ids[tokens - 1]} is EOS
 * @param truncated whether content tokens were dropped to fit the length
 */
public record TokenizedText(long[] ids, TextWalk walk, int tokens, boolean truncated) {
}
