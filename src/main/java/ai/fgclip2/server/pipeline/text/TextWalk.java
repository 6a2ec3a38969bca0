package ai.fgclip2.server.pipeline.text;

/**
 * Which text projection a text goes through. {@link #SHORT} and {@link #BOX} use the 64-position table,
 * {@link #LONG} the 196-position one; {@link #AUTO} is resolved per text by its token count.
 */
public enum TextWalk {
    /** Global embedding for short texts ({@code text_model.head}), compared with image embeddings. */
    SHORT,
    /** Box embedding ({@code boxtext_head}), compared with region and dense features. */
    BOX,
    /** Global embedding for long captions ({@code longtext_head}), compared with image embeddings. */
    LONG,
    /** {@link #SHORT} when the tokens plus EOS fit the short length, otherwise {@link #LONG}. */
    AUTO
}
