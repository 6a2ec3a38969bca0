package ai.fgclip2.server.config;

import ai.fgclip2.server.clip.ClipPipeline;
import ai.fgclip2.server.clip.Gallery;
import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.index.GalleryIndex;
import ai.fgclip2.server.index.HnswSettings;
import ai.fgclip2.server.index.elasticsearch.ElasticsearchGalleryIndex;
import ai.fgclip2.server.index.elasticsearch.ElasticsearchSettings;
import ai.fgclip2.server.index.lucene.LuceneGalleryIndex;
import java.nio.file.Path;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The gallery: its index backend from {@code fgclip2.index.*} and the use case over it. */
@Configuration(proxyBeanMethods = false)
public class GalleryConfiguration {

    @Bean(destroyMethod = "close")
    GalleryIndex galleryIndex(Fgclip2Properties properties) {
        return galleryIndex(properties.index(), properties.cache().dir());
    }

    /** Also used by the bulk indexing job, which runs without Spring. */
    public static GalleryIndex galleryIndex(Fgclip2Properties.Index index, Path cacheDir) {
        HnswSettings hnsw = new HnswSettings(index.maxConnections(), index.beamWidth());
        return switch (index.backend()) {
            case LUCENE -> new LuceneGalleryIndex(index.dir() != null ? index.dir() : cacheDir.resolve("index"), hnsw,
                    LuceneGalleryIndex.Tuning.searchThreads(index.luceneSearchThreads()));
            case ELASTICSEARCH -> {
                Fgclip2Properties.Elasticsearch es = index.elasticsearch();
                yield new ElasticsearchGalleryIndex(new ElasticsearchSettings(es.urls(), es.apiKey(), es.caCertificate(), es.indexPrefix(), es.timeout()), hnsw);
            }
        };
    }

    @Bean
    Gallery gallery(ClipPipeline pipeline, GalleryIndex index, InferenceEngine engine, Fgclip2Properties properties) {
        return gallery(pipeline, index, engine, properties.index());
    }

    public static Gallery gallery(ClipPipeline pipeline, GalleryIndex index, InferenceEngine engine, Fgclip2Properties.Index settings) {
        return new Gallery(pipeline, index, new Gallery.Model(engine.model().id(), engine.model().revision(), engine.model().manifest().precision(),
                engine.hiddenSize()), new Gallery.Settings(settings.numCandidates(), settings.maxWindow(), settings.quantize()));
    }
}
