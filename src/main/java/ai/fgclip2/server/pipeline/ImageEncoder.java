package ai.fgclip2.server.pipeline;

import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.pipeline.batch.BatcherConfig;
import ai.fgclip2.server.pipeline.batch.DynamicBatcher;
import ai.fgclip2.server.pipeline.batch.DynamicBatcher.Reservation;
import ai.fgclip2.server.pipeline.image.ImageHeader;
import ai.fgclip2.server.pipeline.batch.TraceSpans;
import ai.fgclip2.server.pipeline.image.ImagePreprocessor;
import ai.fgclip2.server.pipeline.image.RgbImage;
import ai.fgclip2.server.pipeline.image.PreprocessedImage;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Image bytes -> global embedding (and, for region work, the hidden state): decode and resize on the
 * caller's thread, then a cross-request batch of images with the same patch budget (so padding stays small);
 * patches are written straight into the batch tensor.
 */
public final class ImageEncoder implements AutoCloseable {

    /** @param embedding raw MAP-head output; hiddenState null unless requested */
    public record EncodedImage(PreprocessedImage image, float[] embedding, float[] hiddenState) {
    }

    private record Job(ImagePatches patches, boolean withHiddenState) {
        /** Images of one budget and one kind of output share a batch. */
        String batchKey() {
            return patches.image().maxNumPatches() + (withHiddenState ? "+hidden" : "");
        }
    }

    /** An image's pixels and their decoding room: close it when the pixels are no longer needed. */
    public record DecodedImage(RgbImage image, DecodeBudget.Lease room) implements AutoCloseable {
        @Override
        public void close() {
            room.close();
        }
    }

    private final ImagePreprocessor preprocessor;
    private final DecodeBudget decodeBudget;
    private final DynamicBatcher<Job, InferenceEngine.ImageFeatures> batcher;
    private final Timer decodeTimer;
    private final Timer preprocessTimer;
    private final TraceSpans spans;

    public ImageEncoder(ImagePreprocessor preprocessor, DecodeBudget decodeBudget, InferenceEngine engine, BatcherConfig batching, MeterRegistry registry) {
        this(preprocessor, decodeBudget, engine, batching, registry, TraceSpans.NONE);
    }

    /** @param spans records {@code fgclip2.decode} and the batcher's spans in each request's trace */
    public ImageEncoder(ImagePreprocessor preprocessor, DecodeBudget decodeBudget, InferenceEngine engine, BatcherConfig batching, MeterRegistry registry,
                        TraceSpans spans) {
        this.preprocessor = preprocessor;
        this.decodeBudget = decodeBudget;
        this.spans = spans;
        this.batcher = new DynamicBatcher<>(batching, Job::batchKey, items -> engine.images(items.stream().map(Job::patches).toList(), items.get(0).withHiddenState()),
                registry, spans);
        this.decodeTimer = Timer.builder("fgclip2.decode").description("Image decode and RGB conversion").register(registry);
        this.preprocessTimer = Timer.builder("fgclip2.preprocess").description("Patch budget, NaFlex grid and Pillow bilinear resize").register(registry);
        Gauge.builder("fgclip2.decode.pixels", decodeBudget, DecodeBudget::pixelsInUse)
                .description("Declared pixels of the images being decoded now (fgclip2.limits.max-decoding-pixels bounds it)").register(registry);
    }

    /**
     * Decodes and resizes on the caller's thread, in decoding room waited for until {@code roomDeadlineNanos}; throws
     * ImageDecodeException / InvalidPatchBudgetException / QueueFullException.
     * The budget override must already be validated (the request layer does it before any decoding).
     */
    public PreprocessedImage preprocess(byte[] data, ImageHeader header, Integer maxNumPatches, long roomDeadlineNanos) {
        try (DecodedImage decoded = decode(data, header, roomDeadlineNanos)) {
            return preprocess(decoded.image(), maxNumPatches);
        }
    }

    /**
     * The first half of {@link #preprocess(byte[], ImageHeader, Integer, long)}, for callers that also need the original
     * pixels; waits for room for the {@code header}'s declared pixels first, until {@code roomDeadlineNanos}
     * (QueueFullException when none comes in time).
     */
    public DecodedImage decode(byte[] data, ImageHeader header, long roomDeadlineNanos) {
        DecodeBudget.Lease room = decodeBudget.acquire(header.pixels(), roomDeadlineNanos);
        try {
            return new DecodedImage(spans.around("fgclip2.decode", () -> decodeTimer.record(() -> preprocessor.decode(data))), room);
        } catch (RuntimeException | Error e) {
            room.close();
            throw e;
        }
    }

    public PreprocessedImage preprocess(RgbImage image, Integer maxNumPatches) {
        return preprocessTimer.record(() -> preprocessor.preprocess(image, maxNumPatches));
    }

    /** When the images of a request that starts decoding now must have found their decoding room. */
    public long roomDeadline() {
        return decodeBudget.deadlineFromNow();
    }

    /** The declared size, from the header only; throws ImageDecodeException. */
    public ImageHeader header(byte[] data) {
        return preprocessor.header(data);
    }

    /** The patches an image of this header will occupy under the (validated) budget override. */
    public int patchCount(ImageHeader header, Integer maxNumPatches) {
        return preprocessor.patchCount(header, maxNumPatches);
    }

    /** The images of one request, in the room its admission reserved. */
    public List<CompletableFuture<EncodedImage>> encodeAll(List<PreprocessedImage> images, boolean withHiddenState, Admission admission) {
        List<CompletableFuture<InferenceEngine.ImageFeatures>> features =
                batcher.submitAll(images.stream().map(image -> new Job(new ImagePatches(image), withHiddenState)).toList(), admission.images());
        List<CompletableFuture<EncodedImage>> out = new ArrayList<>(images.size());
        for (int i = 0; i < images.size(); i++) {
            PreprocessedImage image = images.get(i);
            out.add(features.get(i).thenApply(f -> new EncodedImage(image, f.embedding(), f.hiddenState())));
        }
        return out;
    }

    /** Room in the image queue for one request (see {@link Admission}). */
    Reservation reserve(int items, long deadlineNanos) {
        return batcher.reserve(items, deadlineNanos);
    }

    public int queueDepth() {
        return batcher.queueDepth();
    }

    @Override
    public void close() {
        batcher.close();
    }
}
