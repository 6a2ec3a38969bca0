package ai.fgclip2.server.clip;

import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.engine.ModelFiles;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An engine without ONNX Runtime for use-case tests: every output is a fixed pseudo-random function of its input
 * (token ids and head, patch values and grid, box coordinates), so a test can ask the fake for the raw vectors it
 * expects and compute the use case's result independently. Counts its runs.
 */
final class FakeEngine implements InferenceEngine {
    static final int DIMENSIONS = 8;
    final AtomicInteger textRuns = new AtomicInteger();
    final AtomicInteger imageRuns = new AtomicInteger();
    /** How long each text batch takes, to stand in for a slow model. */
    volatile long textBatchMillis;

    @Override
    public ModelFiles model() {
        throw new UnsupportedOperationException("the fake has no model files");
    }

    @Override
    public int hiddenSize() {
        return DIMENSIONS;
    }

    @Override
    public String provider() {
        return "fake";
    }

    @Override
    public String providerFallback() {
        return null;
    }

    @Override
    public ai.fgclip2.server.engine.QuantizationAgreement quantizationAgreement() {
        return null;
    }

    @Override
    public float[][] text(List<long[]> ids, TextHead head) {
        textRuns.incrementAndGet();
        if (textBatchMillis > 0) {
            try {
                Thread.sleep(textBatchMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        float[][] out = new float[ids.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = textVector(ids.get(i), head);
        }
        return out;
    }

    static float[] textVector(long[] ids, TextHead head) {
        return vector(31L * Arrays.hashCode(ids) + head.ordinal(), DIMENSIONS);
    }

    @Override
    public List<ImageFeatures> images(List<? extends PatchSource> images, boolean withHiddenState) {
        imageRuns.incrementAndGet();
        List<ImageFeatures> out = new ArrayList<>(images.size());
        for (PatchSource image : images) {
            long seed = imageSeed(image);
            out.add(new ImageFeatures(vector(seed, DIMENSIONS), withHiddenState ? vector(seed + 1, image.patchCount() * DIMENSIONS) : null));
        }
        return out;
    }

    /** The grid and every patch value decide the image's vectors. */
    static long imageSeed(PatchSource image) {
        FloatBuffer patches = FloatBuffer.allocate(image.patchCount() * 768);
        image.writePatches(patches);
        return 131L * Arrays.hashCode(patches.array()) + 17L * image.gridRows() + image.gridCols();
    }

    @Override
    public RegionFeatures regions(RegionQuery query) {
        float[][] regions = new float[query.boxes().length][];
        for (int b = 0; b < regions.length; b++) {
            regions[b] = regionVector(query.hiddenState(), query.boxes()[b]);
        }
        long denseSeed = Arrays.hashCode(query.hiddenState());
        return new RegionFeatures(vector(denseSeed, query.gridRows() * query.gridCols() * DIMENSIONS), regions);
    }

    static float[] regionVector(float[] hiddenState, float[] box) {
        return vector(7L * Arrays.hashCode(hiddenState) + Arrays.hashCode(box), DIMENSIONS);
    }

    @Override
    public void close() {
    }

    private static float[] vector(long seed, int length) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] out = new float[length];
        for (int i = 0; i < length; i++) {
            out[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return out;
    }
}
