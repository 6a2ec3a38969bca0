package ai.fgclip2.server.clip;

import java.time.Duration;

/**
 * What one request may ask for; the README lists the defaults ({@code fgclip2.limits.*}).
 *
 * @param inferenceDeadline how long a request's results are worth waiting for: work still queued then is dropped
 * @param maxItems      texts or images per embedding request
 * @param maxLabels     labels, vocabulary entries, templates or rank candidates
 * @param maxPrompts    labels x templates of one request
 * @param maxBoxes      boxes or detections per image
 * @param maxNumPatches largest patch budget a request may ask for
 * @param maxDenseTexts texts per dense-similarity request
 * @param maxRequestPixels  declared pixels of all images of one request (decoding work)
 * @param maxRequestPatches patches of all images of one request (vision-tower work)
 * @param maxDetections detections per rescoring request (one image)
 */
public record Limits(int maxItems, int maxTextChars, int maxLabels, int maxPrompts, int maxBoxes, int maxNumPatches, int maxDenseTexts,
                     Duration inferenceDeadline, long maxRequestPixels, int maxRequestPatches,
                     int maxDetections) {
}
