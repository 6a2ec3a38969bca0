package ai.fgclip2.server.clip;

import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.pipeline.Admission;
import ai.fgclip2.server.pipeline.ImageEncoder;
import ai.fgclip2.server.pipeline.RegionEncoder;
import ai.fgclip2.server.pipeline.RegionEncoder.EncodedRegions;
import ai.fgclip2.server.pipeline.TextEncoder;
import ai.fgclip2.server.pipeline.image.ImageDecodeException;
import ai.fgclip2.server.pipeline.image.ImageHeader;
import ai.fgclip2.server.pipeline.image.InvalidPatchBudgetException;
import ai.fgclip2.server.pipeline.image.PreprocessedImage;
import ai.fgclip2.server.pipeline.image.RgbImage;
import ai.fgclip2.server.pipeline.text.TextWalk;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * What every use case runs on: the three encoders, the input checks, the model's SigLIP score constants and the
 * engine (for products of region features with class embeddings),
 * plus the steps they share (an image preprocessed with its pointer, class embeddings from labels and templates).
 */
public record ClipPipeline(TextEncoder texts, ImageEncoder images, RegionEncoder regions, InputChecks checks, SiglipScores scores, InferenceEngine engine) {

    /** {@link #preprocessAll} for a request with one image. */
    public PreprocessedImage preprocess(ImageInput image, Integer maxNumPatches) {
        return preprocessAll(List.of(image), maxNumPatches).get(0);
    }

    /**
     * Decodes and resizes a request's images on the caller's thread, after reading every image's header and
     * checking the request's work budget (declared pixels and patches summed in order; the image that goes over
     * is named), so that nothing is decoded for a request that would be refused. A bad image is a
     * {@link ProblemException} at the image's pointer. The budget override must already be checked.
     */
    public List<PreprocessedImage> preprocessAll(List<ImageInput> inputs, Integer maxNumPatches) {
        List<ImageHeader> headers = checkWork(inputs, maxNumPatches);
        long roomDeadline = images.roomDeadline();
        List<PreprocessedImage> prepared = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            ImageInput image = inputs.get(i);
            ImageHeader header = headers.get(i);
            prepared.add(imageStep(image, () -> images.preprocess(image.bytes(), header, maxNumPatches, roomDeadline)));
        }
        return prepared;
    }

    /**
     * The decoded original of a one-image request, for callers that draw over it; the work budget as above. Close it
     * when done with the pixels: it holds their decoding room.
     */
    public ImageEncoder.DecodedImage decode(ImageInput image, Integer maxNumPatches) {
        ImageHeader header = checkWork(List.of(image), maxNumPatches).get(0);
        return imageStep(image, () -> images.decode(image.bytes(), header, images.roomDeadline()));
    }

    /** {@link #preprocessAll}'s second half for an image decoded with {@link #decode}. */
    public PreprocessedImage preprocess(RgbImage image, Integer maxNumPatches) {
        try {
            return images.preprocess(image, maxNumPatches);
        } catch (InvalidPatchBudgetException e) {
            throw new ProblemException(Problem.INVALID_REQUEST, e.getMessage(), "/maxNumPatches");
        }
    }

    /** The images' headers, read once: decoding reserves its room from them. */
    private List<ImageHeader> checkWork(List<ImageInput> inputs, Integer maxNumPatches) {
        List<ImageHeader> headers = new ArrayList<>(inputs.size());
        long pixels = 0;
        long patches = 0;
        for (ImageInput image : inputs) {
            ImageHeader header = imageStep(image, () -> images.header(image.bytes()));
            pixels += header.pixels();
            patches += imageStep(image, () -> images.patchCount(header, maxNumPatches));
            checks.requestWork(pixels, patches, image.pointer());
            headers.add(header);
        }
        return headers;
    }

    private static <T> T imageStep(ImageInput image, Supplier<T> step) {
        try {
            return step.get();
        } catch (ImageDecodeException e) {
            throw new ProblemException(problemOf(e), e.getMessage(), image.pointer());
        } catch (InvalidPatchBudgetException e) {
            throw new ProblemException(Problem.INVALID_REQUEST, e.getMessage(), "/maxNumPatches");
        }
    }

    static Problem problemOf(ImageDecodeException e) {
        return switch (e.reason()) {
            case TOO_LARGE -> Problem.IMAGE_TOO_LARGE;
            case UNSUPPORTED_FORMAT -> Problem.UNSUPPORTED_IMAGE_FORMAT;
            default -> Problem.INVALID_IMAGE;
        };
    }

    /**
     * Room in the text and image queues for one request, taken together, with the request's deadline; a full queue
     * refuses the whole request (QueueFullException) before any of it is queued, and so do texts that even at this
     * server's fastest rate could not be embedded before the deadline (LIMIT_EXCEEDED).
     */
    public Admission admit(int textItems, int imageItems) {
        Duration deadline = checks.limits().inferenceDeadline();
        Optional<Duration> least = texts.fastestTime(textItems);
        if (least.isPresent() && least.get().compareTo(deadline) > 0) {
            throw textsBeyondDeadline(textItems, least.get(), deadline);
        }
        return Admission.of(texts, textItems, images, imageItems, deadline);
    }

    /**
     * Text room for one step of a background vocabulary build: steps are small, and the request that registered the
     * vocabulary is not waiting for them, so they are not refused for their estimated time (a step that outlives the
     * deadline fails as any request does).
     */
    public Admission admitStep(int textItems) {
        return Admission.of(texts, textItems, images, 0, checks.limits().inferenceDeadline());
    }

    /** An image with its boxes under {@code /boxes}: counted, checked against the image and clipped to it. */
    public BoxedImage boxedImage(ImageInput image, List<List<Double>> boxes, Integer maxNumPatches) {
        checks.items(boxes, "boxes", checks.limits().maxBoxes());
        return boxedImage(image, boxes, maxNumPatches, i -> "/boxes/" + i);
    }

    /** The same for boxes the caller has counted; {@code boxPointer} names box i in the request. */
    public BoxedImage boxedImage(ImageInput image, List<List<Double>> boxes, Integer maxNumPatches, IntFunction<String> boxPointer) {
        Integer budget = checks.maxNumPatches(maxNumPatches);
        PreprocessedImage prepared = preprocess(image, budget);
        float[][] clipped = new float[boxes.size()][];
        for (int i = 0; i < boxes.size(); i++) {
            clipped[i] = checks.box(boxes.get(i), prepared.originalWidth(), prepared.originalHeight(), boxPointer.apply(i));
        }
        return new BoxedImage(prepared, clipped);
    }

    /**
     * Texts that could not all be embedded before the deadline even alone at this server's fastest rate: queuing them
     * would cost that long for nothing, so the request is refused at once.
     */
    private static ProblemException textsBeyondDeadline(int textItems, Duration least, Duration deadline) {
        return new ProblemException(Problem.LIMIT_EXCEEDED, String.format(Locale.ROOT, "The request needs %d text embeddings that are not cached; "
                + "at the fastest rate this server has run (%.1f texts/s) that takes at least %d s, beyond the inference deadline of %d s "
                + "(fgclip2.limits.inference-deadline). Send fewer labels x templates, or register them once as a vocabulary "
                + "(PUT /v1/vocabularies/{name}), which is built in the background.", textItems, textItems / (least.toNanos() / 1e9),
                least.toSeconds(), deadline.toSeconds()));
    }

    /** A preprocessed image and its checked boxes (original pixels, clipped to the image). */
    public record BoxedImage(PreprocessedImage image, float[][] boxes) {
    }

    /** Region features of a boxed image, in the request's admitted room. */
    public CompletableFuture<EncodedRegions> encodeRegions(BoxedImage boxed, Admission admission) {
        return regions.encode(boxed.image(), boxed.boxes(), admission);
    }

    /** A boxed image's region features and the class embeddings they are scored against. */
    public record BoxesAndClasses(EncodedRegions regions, ClassMatrix classes) {
    }

    /**
     * Box classification's inputs in one admission: the region features of the boxes and the class embeddings
     * (which {@code classes} starts in the admitted room; {@code uncachedPrompts} is the text room they need),
     * computed side by side.
     */
    public BoxesAndClasses boxesAndClasses(BoxedImage boxed, int uncachedPrompts, Function<Admission, CompletableFuture<ClassMatrix>> classes) {
        try (Admission admission = admit(uncachedPrompts, 1)) {
            CompletableFuture<ClassMatrix> classFuture = classes.apply(admission);
            EncodedRegions regions = Await.result(encodeRegions(boxed, admission), admission);
            return new BoxesAndClasses(regions, Await.result(classFuture, admission));
        }
    }

    /** The prompts of a label set: each label, or each label in each template. */
    public static List<String> prompts(List<String> labels, List<String> templates) {
        List<String> prompts = new ArrayList<>();
        for (String label : labels) {
            if (templates != null && !templates.isEmpty()) {
                templates.forEach(template -> prompts.add(template.replace("{}", label)));
            } else {
                prompts.add(label);
            }
        }
        return prompts;
    }

    /**
     * One unit vector per label: the label itself, or (with templates) each filled-in template embedded,
     * normalised, averaged and re-normalised, as the official zero-shot and box-classification protocols do.
     */
    public CompletableFuture<List<float[]>> classEmbeddings(List<String> labels, List<String> templates, TextWalk walk, Admission admission) {
        List<String> prompts = prompts(labels, templates);
        int perLabel = prompts.size() / labels.size();
        return texts.embeddings(prompts, walk, admission).thenApply(embeddings -> {
            List<float[]> classes = new ArrayList<>(labels.size());
            for (int label = 0; label < labels.size(); label++) {
                classes.add(Scoring.averageTemplates(embeddings.subList(label * perLabel, (label + 1) * perLabel)));
            }
            return classes;
        });
    }
}
