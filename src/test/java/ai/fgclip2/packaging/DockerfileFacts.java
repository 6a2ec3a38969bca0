package ai.fgclip2.packaging;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.json.JsonMapper;

/**
 * The parts of the Dockerfile's final stage that Kubernetes must agree with.
 *
 * @param env     ENV defaults of the image
 * @param volumes VOLUME paths: the only writable places under a read-only root filesystem
 * @param userId  numeric USER id
 */
record DockerfileFacts(Map<String, String> env, List<String> volumes, long userId) {
    static final Path DOCKERFILE = Path.of("Dockerfile");
    private static final Pattern ENV_PAIR = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"([^\"]*)\"|(\\S*))");

    static DockerfileFacts load() throws Exception {
        // Instructions with their continuation lines joined; comments dropped.
        String joined = String.join("\n", Files.readAllLines(DOCKERFILE).stream()
                .filter(line -> !line.stripLeading().startsWith("#")).toList()).replaceAll("\\\\\n", " ");
        Map<String, String> env = new LinkedHashMap<>();
        List<String> volumes = List.of();
        Long user = null;
        for (String line : joined.split("\n")) {
            String[] instruction = line.strip().split("\\s+", 2);
            if (instruction.length < 2) {
                continue;
            }
            String arguments = instruction[1];
            switch (instruction[0].toUpperCase()) {
                case "FROM" -> { // only the final stage counts
                    env.clear();
                    volumes = List.of();
                    user = null;
                }
                case "ENV" -> {
                    Matcher pair = ENV_PAIR.matcher(arguments);
                    while (pair.find()) {
                        env.put(pair.group(1), pair.group(3) != null ? pair.group(3) : pair.group(4));
                    }
                }
                case "VOLUME" -> volumes = List.of(new JsonMapper().readValue(arguments, String[].class));
                case "USER" -> user = Long.parseLong(arguments.split(":")[0].strip());
                default -> { }
            }
        }
        if (user == null) {
            throw new AssertionError("the Dockerfile's final stage must set a numeric USER");
        }
        return new DockerfileFacts(Map.copyOf(env), volumes, user);
    }
}
