import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;

/**
 * A fgclip2-server client in plain Java 17 (java.net.http.HttpClient, no dependencies): zero-shot labels for an
 * image. Run it without compiling:
 *
 * <pre>java examples/Client.java IMAGE [URL]      # URL defaults to http://localhost:8080</pre>
 *
 * It prints the JSON answer of POST /v1/classify (use any JSON library to read it). The test suite runs it
 * against the demo model (ClientExamplesTest).
 */
public class Client {
    public static void main(String[] args) throws Exception {
        String url = args.length > 1 ? args[1] : "http://localhost:8080";
        String image = Base64.getEncoder().encodeToString(Files.readAllBytes(Path.of(args[0])));
        String body = """
                {"image": "%s", "labels": ["a cat", "a dog", "a kitchen", "a person"], "topK": 4}""".formatted(image);

        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(url + "/v1/classify"))
                .header("Content-Type", "application/json")
                .timeout(Duration.ofMinutes(2))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            // errors are RFC 9457 problems (application/problem+json): "detail" says what was wrong
            System.err.println("HTTP " + response.statusCode() + ": " + response.body());
            System.exit(1);
        }
        System.out.println(response.body());
    }
}
