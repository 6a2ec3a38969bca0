package ai.fgclip2.packaging;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Builds a kustomization the way {@code kustomize build} does for the features k8s/ uses: resources (files and
 * folders), components, strategic-merge patches, image tags and metadata labels. Patches merge objects field by field and lists
 * of named items (containers, env, volumes) by name; other lists are replaced. That is the subset of strategic
 * merge these manifests need; anything else in a kustomization fails here rather than being ignored.
 */
final class KustomizeRender {
    static final String FILE_NAME = "kustomization.yaml";
    private static final List<String> SUPPORTED = List.of(
            "apiVersion", "kind", "resources", "components", "patches", "images", "labels");
    private static final YAMLMapper YAML = new YAMLMapper();

    private KustomizeRender() {
    }

    /** One entry of {@code images:}. */
    record ImageOverride(String name, String newName, String newTag) {
    }

    static JsonNode readKustomization(Path folder) {
        JsonNode kustomization = YAML.readTree(folder.resolve(FILE_NAME));
        for (String field : kustomization.propertyNames()) {
            if (!SUPPORTED.contains(field)) {
                throw new AssertionError(folder.resolve(FILE_NAME) + ": " + field + " is not supported by this check");
            }
        }
        return kustomization;
    }

    /** Every file or folder a kustomization refers to. */
    static List<Path> references(Path folder) {
        JsonNode kustomization = readKustomization(folder);
        List<Path> referenced = new ArrayList<>();
        kustomization.path("resources").values().forEach(r -> referenced.add(folder.resolve(r.asString()).normalize()));
        kustomization.path("components").values().forEach(c -> referenced.add(folder.resolve(c.asString()).normalize()));
        kustomization.path("patches").values().forEach(p -> referenced.add(folder.resolve(p.path("path").asString()).normalize()));
        return referenced;
    }

    static List<ObjectNode> render(Path folder) {
        JsonNode kustomization = readKustomization(folder);
        List<ObjectNode> objects = new ArrayList<>();
        for (JsonNode resource : kustomization.path("resources").values()) {
            Path path = folder.resolve(resource.asString()).normalize();
            objects.addAll(Files.isDirectory(path) ? render(path) : readObjects(path));
        }
        for (JsonNode component : kustomization.path("components").values()) {
            objects.addAll(render(folder.resolve(component.asString()).normalize()));
        }
        for (JsonNode patchEntry : kustomization.path("patches").values()) {
            for (ObjectNode patch : readObjects(folder.resolve(patchEntry.path("path").asString()))) {
                ObjectNode target = objects.stream()
                        .filter(o -> o.path("kind").equals(patch.path("kind"))
                                && o.path("metadata").path("name").equals(patch.path("metadata").path("name")))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError(folder + ": patch for a missing object " + patch.path("kind")
                                + "/" + patch.path("metadata").path("name").asString()));
                objects.set(objects.indexOf(target), (ObjectNode) merge(target, patch));
            }
        }
        for (JsonNode labels : kustomization.path("labels").values()) {
            if (labels.path("includeSelectors").asBoolean() || labels.path("includeTemplates").asBoolean()) {
                throw new AssertionError(folder + ": labels on selectors or templates are not supported by this check");
            }
            objects.forEach(o -> labels.path("pairs").properties().forEach(pair ->
                    ((ObjectNode) o.path("metadata")).withObjectProperty("labels").set(pair.getKey(), pair.getValue())));
        }
        for (JsonNode image : kustomization.path("images").values()) {
            ImageOverride override = new ImageOverride(image.path("name").asString(),
                    image.path("newName").asString(null), image.path("newTag").asString(null));
            objects.forEach(o -> setImages(o, override));
        }
        return objects;
    }

    static List<ObjectNode> readObjects(Path file) {
        List<ObjectNode> objects = new ArrayList<>();
        try (var documents = YAML.readerFor(ObjectNode.class).<ObjectNode>readValues(file.toFile())) {
            documents.forEachRemaining(objects::add);
        }
        return objects;
    }

    static JsonNode merge(JsonNode base, JsonNode patch) {
        if (base.isObject() && patch.isObject()) {
            ObjectNode merged = ((ObjectNode) base).deepCopy();
            patch.properties().forEach(e -> merged.set(e.getKey(),
                    merged.has(e.getKey()) ? merge(merged.get(e.getKey()), e.getValue()) : e.getValue()));
            return merged;
        }
        if (base.isArray() && patch.isArray() && allNamed(base) && allNamed(patch)) {
            ArrayNode merged = ((ArrayNode) base).deepCopy();
            for (JsonNode item : patch.values()) {
                int index = indexOfName(merged, item.path("name").asString());
                if (index < 0) {
                    merged.add(item);
                } else {
                    merged.set(index, merge(merged.get(index), item));
                }
            }
            return merged;
        }
        return patch;
    }

    private static boolean allNamed(JsonNode array) {
        return array.values().stream().allMatch(item -> item.path("name").isString());
    }

    private static int indexOfName(ArrayNode array, String name) {
        for (int i = 0; i < array.size(); i++) {
            if (array.get(i).path("name").asString().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    /** Rewrites every {@code image:} whose name (without tag) is the override's name, like kustomize. */
    private static void setImages(JsonNode node, ImageOverride override) {
        if (node.isObject()) {
            ObjectNode object = (ObjectNode) node;
            JsonNode image = object.get("image");
            if (image != null && image.isString()) {
                String[] nameAndTag = splitImage(image.asString());
                if (nameAndTag[0].equals(override.name())) {
                    String name = override.newName() != null ? override.newName() : nameAndTag[0];
                    String tag = override.newTag() != null ? override.newTag() : nameAndTag[1];
                    object.put("image", tag == null ? name : name + ":" + tag);
                }
            }
            object.values().forEach(child -> setImages(child, override));
        } else if (node.isArray()) {
            node.values().forEach(item -> setImages(item, override));
        }
    }

    /** {name, tag or null}; a colon in a registry host:port is not a tag. */
    static String[] splitImage(String image) {
        int colon = image.lastIndexOf(':');
        if (colon < 0 || image.indexOf('/', colon) >= 0) {
            return new String[] {image, null};
        }
        return new String[] {image.substring(0, colon), image.substring(colon + 1)};
    }
}
