package ai.fgclip2.server.router;

import ai.fgclip2.server.backends.OnnxEngine;
import ai.fgclip2.server.core.ImageEncoder;
import ai.fgclip2.server.core.ImageEncoder.EncodedImage;
import ai.fgclip2.server.core.TextEncoder;
import ai.fgclip2.server.core.TextEncoder.EncodedText;
import ai.fgclip2.server.core.image.PreprocessedImage;
import ai.fgclip2.server.core.text.TextWalk;
import ai.fgclip2.server.scoring.Scoring;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/**
 * OpenAI-compatible {@code POST /v1/embeddings}: texts by default, images (data: URLs) with
 * {@code "modality": "image"}. Embeddings are L2-normalised; {@code encoding_format} float or base64.
 */
@RestController
public class OpenAiController {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Embedding(String object, int index, Object embedding) {
    }

    public record Usage(int prompt_tokens, int total_tokens) {
    }

    public record EmbeddingList(String object, String model, ApiModels.ModelRef fgclip2_model, List<Embedding> data, Usage usage) {
    }

    private final TextEncoder textEncoder;
    private final ImageEncoder imageEncoder;
    private final RequestChecks checks;
    private final ApiModels.ModelRef modelRef;

    public OpenAiController(TextEncoder textEncoder, ImageEncoder imageEncoder, OnnxEngine engine, RequestChecks checks) {
        this.textEncoder = textEncoder;
        this.imageEncoder = imageEncoder;
        this.checks = checks;
        this.modelRef = ApiModels.ModelRef.of(engine.model());
    }

    @PostMapping(path = "/v1/embeddings", consumes = MediaType.APPLICATION_JSON_VALUE)
    public EmbeddingList embeddings(@RequestBody JsonNode body) {
        if (body == null || !body.isObject()) {
            throw new ApiException(ProblemType.INVALID_REQUEST, "The body must be a JSON object with 'input'.");
        }
        if (body.has("dimensions") && !body.get("dimensions").isNull()) {
            throw new ApiException(ProblemType.UNSUPPORTED_PARAMETER, "'dimensions' is not supported: FG-CLIP 2 embeddings have a fixed size and "
                    + "are not Matryoshka-trained; omit the parameter.", "/dimensions");
        }
        String format = body.path("encoding_format").asString("float");
        if (!format.equals("float") && !format.equals("base64")) {
            throw new ApiException(ProblemType.INVALID_REQUEST, "'encoding_format' must be float or base64; got '" + format + "'.", "/encoding_format");
        }
        String modality = body.path("modality").asString("text");
        if (!modality.equals("text") && !modality.equals("image")) {
            throw new ApiException(ProblemType.INVALID_REQUEST, "'modality' must be text or image; got '" + modality + "'.", "/modality");
        }
        List<String> inputs = inputs(body.get("input"));
        checks.items(inputs, "input", checks.limits().maxItems());
        List<float[]> vectors = new ArrayList<>();
        int tokens = 0;
        if (modality.equals("text")) {
            for (int i = 0; i < inputs.size(); i++) {
                checks.text(inputs.get(i), "/input/" + i);
            }
            for (EncodedText e : Futures.await(textEncoder.encode(inputs, TextWalk.AUTO))) {
                vectors.add(e.embedding());
                tokens += e.tokens();
            }
        } else {
            List<CompletableFuture<EncodedImage>> futures = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) {
                String pointer = "/input/" + i;
                byte[] bytes = checks.imageBytes(inputs.get(i), pointer);
                PreprocessedImage prepared = ItemPointer.at(pointer, () -> imageEncoder.preprocess(bytes, null));
                futures.add(imageEncoder.encode(prepared, false));
            }
            futures.forEach(f -> vectors.add(Futures.await(f).embedding()));
        }
        List<Embedding> data = new ArrayList<>();
        for (int i = 0; i < vectors.size(); i++) {
            float[] unit = Scoring.normalize(vectors.get(i));
            data.add(new Embedding("embedding", i, format.equals("base64") ? base64(unit) : unit));
        }
        String requested = body.path("model").asString(modelRef.id());
        return new EmbeddingList("list", requested, modelRef, data, new Usage(tokens, tokens));
    }

    private static List<String> inputs(JsonNode input) {
        if (input == null || input.isNull()) {
            throw new ApiException(ProblemType.INVALID_REQUEST, "'input' is required: a string or an array of strings.", "/input");
        }
        if (input.isString()) {
            return List.of(input.asString());
        }
        if (!input.isArray()) {
            throw new ApiException(ProblemType.INVALID_REQUEST, "'input' must be a string or an array of strings.", "/input");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < input.size(); i++) {
            if (!input.get(i).isString()) {
                throw new ApiException(ProblemType.INVALID_REQUEST, "'input[" + i + "]' must be a string (token arrays are not accepted).", "/input/" + i);
            }
            out.add(input.get(i).asString());
        }
        return out;
    }

    /** OpenAI's base64 format: little-endian float32 bytes. */
    private static String base64(float[] vector) {
        ByteBuffer bytes = ByteBuffer.allocate(4 * vector.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : vector) {
            bytes.putFloat(v);
        }
        return Base64.getEncoder().encodeToString(bytes.array());
    }
}
