package ai.fgclip2.server.web;

import ai.fgclip2.server.clip.Embeddings;
import ai.fgclip2.server.clip.Embeddings.TextVector;
import ai.fgclip2.server.clip.ImageInput;
import ai.fgclip2.server.clip.Problem;
import ai.fgclip2.server.clip.ProblemException;
import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.pipeline.text.TextWalk;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
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

    private final Embeddings embeddings;
    private final ApiModels.ModelRef modelRef;

    public OpenAiController(Embeddings embeddings, InferenceEngine engine) {
        this.embeddings = embeddings;
        this.modelRef = ApiModels.ModelRef.of(engine.model());
    }

    @PostMapping(path = "/v1/embeddings", consumes = MediaType.APPLICATION_JSON_VALUE)
    public EmbeddingList embeddings(@RequestBody JsonNode body) {
        if (body == null || !body.isObject()) {
            throw new ProblemException(Problem.INVALID_REQUEST, "The body must be a JSON object with 'input'.");
        }
        if (body.has("dimensions") && !body.get("dimensions").isNull()) {
            throw new ProblemException(Problem.UNSUPPORTED_PARAMETER, "'dimensions' is not supported: FG-CLIP 2 embeddings have a fixed size and "
                    + "are not Matryoshka-trained; omit the parameter.", "/dimensions");
        }
        String format = optionalString(body, "encoding_format", "float");
        if (!format.equals("float") && !format.equals("base64")) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'encoding_format' must be float or base64; got '" + format + "'.", "/encoding_format");
        }
        String modality = optionalString(body, "modality", "text");
        if (!modality.equals("text") && !modality.equals("image")) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'modality' must be text or image; got '" + modality + "'.", "/modality");
        }
        optionalString(body, "model", null); // must be a string when given; the answer names the model actually served
        List<String> inputs = inputs(body.get("input"));
        List<float[]> vectors = new ArrayList<>();
        int tokens = 0;
        if (modality.equals("text")) {
            for (TextVector v : embeddings.texts("input", inputs, TextWalk.AUTO, true)) {
                vectors.add(v.embedding());
                tokens += v.tokens();
            }
        } else {
            List<ImageInput> images = new ArrayList<>(inputs.size());
            for (int i = 0; i < inputs.size(); i++) {
                images.add(ImageStrings.decode(inputs.get(i), "/input/" + i));
            }
            embeddings.images("input", images, null, true).forEach(v -> vectors.add(v.embedding()));
        }
        List<Embedding> data = new ArrayList<>();
        for (int i = 0; i < vectors.size(); i++) {
            float[] unit = vectors.get(i);
            data.add(new Embedding("embedding", i, format.equals("base64") ? base64(unit) : unit));
        }
        return new EmbeddingList("list", modelRef.id(), modelRef, data, new Usage(tokens, tokens));
    }

    /** A field that is a string when present (null counts as absent); any other JSON type is a 400, not converted. */
    private static String optionalString(JsonNode body, String field, String absent) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return absent;
        }
        if (!value.isString()) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'" + field + "' must be a string.", "/" + field);
        }
        return value.asString();
    }

    private static List<String> inputs(JsonNode input) {
        if (input == null || input.isNull()) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'input' is required: a string or an array of strings.", "/input");
        }
        if (input.isString()) {
            return List.of(input.asString());
        }
        if (!input.isArray()) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'input' must be a string or an array of strings.", "/input");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < input.size(); i++) {
            if (!input.get(i).isString()) {
                throw new ProblemException(Problem.INVALID_REQUEST, "'input[" + i + "]' must be a string (token arrays are not accepted).", "/input/" + i);
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
