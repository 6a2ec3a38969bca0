package ai.fgclip2.server.pipeline.batch;

import java.util.List;

/** Runs one batch of compatible items (all with the same batch key) through the model. */
@FunctionalInterface
public interface BatchProcessor<I, R> {

    /** Returns exactly one result per item, in the items' order. */
    List<R> process(List<I> items) throws Exception;
}
