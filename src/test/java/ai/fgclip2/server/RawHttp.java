package ai.fgclip2.server;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * HTTP/1.1 over a plain loopback socket, for what HTTP clients will not send: malformed requests, bodies that
 * stall or trickle, chunked bodies cut short.
 */
public final class RawHttp implements AutoCloseable {
    private final Socket socket;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();

    private RawHttp(Socket socket) {
        this.socket = socket;
    }

    /** A connection whose reads give up after {@code readTimeout}. */
    public static RawHttp connect(int port, Duration readTimeout) {
        try {
            Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout((int) readTimeout.toMillis());
            return new RawHttp(socket);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public RawHttp send(String text) {
        return send(text.getBytes(UTF_8));
    }

    public RawHttp send(byte[] bytes) {
        if (!trySend(bytes)) {
            throw new AssertionError("the server closed the connection while the request was being sent");
        }
        return this;
    }

    /** Sends, and reports false instead of failing when the server has closed the connection. */
    public boolean trySend(byte[] bytes) {
        try {
            socket.getOutputStream().write(bytes);
            socket.getOutputStream().flush();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public record Response(int status, Map<String, String> headers, String body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        public JsonNode json() {
            return ServerTestSupport.JSON.readTree(body);
        }
    }

    /** The next complete response; fails when the connection closes or the read times out before it. */
    public Response response() {
        try {
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[8192];
            while (true) {
                Response complete = parseIfComplete(received.toByteArray());
                if (complete != null) {
                    return complete;
                }
                int n = in.read(buffer);
                if (n < 0) {
                    throw new AssertionError("connection closed before a complete response: " + received.toString(UTF_8));
                }
                received.write(buffer, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no complete response within the read timeout; received: " + received.toString(UTF_8), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The response in {@code bytes} once it is complete (Content-Length or chunked); null while more is needed. */
    private static Response parseIfComplete(byte[] bytes) {
        String text = new String(bytes, ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        if (end < 0) {
            return null;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        String[] lines = text.substring(0, end).split("\r\n");
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        String body = text.substring(end + 4);
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            if (!body.endsWith("0\r\n\r\n")) {
                return null;
            }
            body = dechunk(body);
        } else if (body.length() < Integer.parseInt(headers.getOrDefault("content-length", "0"))) {
            return null;
        }
        return new Response(Integer.parseInt(lines[0].split(" ")[1]), headers, new String(body.getBytes(ISO_8859_1), UTF_8));
    }

    private static String dechunk(String chunked) {
        StringBuilder out = new StringBuilder();
        int at = 0;
        while (true) {
            int lineEnd = chunked.indexOf("\r\n", at);
            int size = Integer.parseInt(chunked.substring(at, lineEnd).trim(), 16);
            if (size == 0) {
                return out.toString();
            }
            out.append(chunked, lineEnd + 2, lineEnd + 2 + size);
            at = lineEnd + 2 + size + 2;
        }
    }
}
