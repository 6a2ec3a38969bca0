package ai.fgclip2.server.web;

import ai.fgclip2.server.clip.Problem;
import ai.fgclip2.server.clip.ProblemException;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.Part;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URLDecoder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.catalina.core.ApplicationPart;
import org.apache.tomcat.util.http.fileupload.FileItem;
import org.apache.tomcat.util.http.fileupload.FileUpload;
import org.apache.tomcat.util.http.fileupload.FileUploadException;
import org.apache.tomcat.util.http.fileupload.UploadContext;
import org.apache.tomcat.util.http.fileupload.disk.DiskFileItemFactory;
import org.apache.tomcat.util.http.fileupload.impl.FileCountLimitExceededException;
import org.springframework.util.FastByteArrayOutputStream;

/**
 * A request whose body has already been received (by {@link RequestBodyFilter}): the stream, the reader and the
 * multipart parts all read that buffer. Parameters are the query string's plus, for multipart, the form fields
 * (the container's own parsing would read the consumed socket stream).
 */
final class BufferedRequest extends HttpServletRequestWrapper {
    private static final File TEMP = new File(System.getProperty("java.io.tmpdir"));
    private final FastByteArrayOutputStream body;
    private final int maxParts;
    private List<Part> parts;
    private Map<String, String[]> parameters;

    BufferedRequest(HttpServletRequest request, FastByteArrayOutputStream body, int maxParts) {
        super(request);
        this.body = body;
        this.maxParts = maxParts;
    }

    @Override
    public int getContentLength() {
        return body.size();
    }

    @Override
    public long getContentLengthLong() {
        return body.size();
    }

    @Override
    public ServletInputStream getInputStream() {
        InputStream bytes = body.getInputStream();
        return new ServletInputStream() {
            @Override
            public int read() throws IOException {
                return bytes.read();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return bytes.read(b, off, len);
            }

            @Override
            public boolean isFinished() {
                try {
                    return bytes.available() == 0;
                } catch (IOException e) {
                    return true;
                }
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setReadListener(ReadListener listener) {
                throw new IllegalStateException("The body was already received; read it directly.");
            }
        };
    }

    @Override
    public BufferedReader getReader() {
        String encoding = getCharacterEncoding();
        Charset charset = encoding == null ? StandardCharsets.UTF_8 : Charset.forName(encoding);
        return new BufferedReader(new InputStreamReader(body.getInputStream(), charset));
    }

    @Override
    public synchronized Collection<Part> getParts() throws IOException, ServletException {
        if (parts == null) {
            parts = parseParts();
        }
        return parts;
    }

    @Override
    public Part getPart(String name) throws IOException, ServletException {
        for (Part part : getParts()) {
            if (part.getName().equals(name)) {
                return part;
            }
        }
        return null;
    }

    @Override
    public String getParameter(String name) {
        String[] values = getParameterMap().get(name);
        return values == null ? null : values[0];
    }

    @Override
    public String[] getParameterValues(String name) {
        return getParameterMap().get(name);
    }

    @Override
    public Enumeration<String> getParameterNames() {
        return Collections.enumeration(getParameterMap().keySet());
    }

    @Override
    public synchronized Map<String, String[]> getParameterMap() {
        if (parameters == null) {
            Map<String, List<String>> values = new LinkedHashMap<>();
            queryParameters(getQueryString(), values);
            if (isMultipart()) {
                try {
                    for (Part part : getParts()) {
                        if (part.getSubmittedFileName() == null) {
                            values.computeIfAbsent(part.getName(), k -> new ArrayList<>()).add(((ApplicationPart) part).getString("UTF-8"));
                        }
                    }
                } catch (IOException | ServletException e) {
                    // getParts() reports the failure to the handler; parameters are just the query string's then
                }
            }
            Map<String, String[]> map = new LinkedHashMap<>();
            values.forEach((name, list) -> map.put(name, list.toArray(String[]::new)));
            parameters = Collections.unmodifiableMap(map);
        }
        return parameters;
    }

    private boolean isMultipart() {
        String type = getContentType();
        return type != null && type.toLowerCase(java.util.Locale.ROOT).startsWith("multipart/");
    }

    private List<Part> parseParts() throws ServletException {
        if (!isMultipart()) {
            throw new ServletException("The request is not multipart.");
        }
        // everything stays in memory: the body is there already and bounded by fgclip2.limits.max-request-bytes
        FileUpload upload = new FileUpload();
        upload.setFileItemFactory(new DiskFileItemFactory(Integer.MAX_VALUE, TEMP));
        upload.setFileCountMax(maxParts);
        try {
            List<Part> result = new ArrayList<>();
            for (FileItem item : upload.parseRequest(new BodyContext())) {
                result.add(new ApplicationPart(item, TEMP));
            }
            return result;
        } catch (FileCountLimitExceededException e) {
            throw new ServletException(new ProblemException(Problem.LIMIT_EXCEEDED, "The multipart body has more than " + maxParts
                    + " parts; the limit is fgclip2.limits.max-items plus " + RequestBodyFilter.FORM_FIELD_PARTS + " form fields."));
        } catch (FileUploadException e) {
            throw new ServletException(new ProblemException(Problem.INVALID_REQUEST, "The multipart body is malformed."));
        }
    }

    private static void queryParameters(String query, Map<String, List<String>> into) {
        if (query == null || query.isEmpty()) {
            return;
        }
        for (String pair : query.split("&")) {
            int equals = pair.indexOf('=');
            String name = equals < 0 ? pair : pair.substring(0, equals);
            String value = equals < 0 ? "" : pair.substring(equals + 1);
            try {
                into.computeIfAbsent(URLDecoder.decode(name, StandardCharsets.UTF_8), k -> new ArrayList<>())
                        .add(URLDecoder.decode(value, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                // a malformed escape: the parameter is left out, as the container does
            }
        }
    }

    private final class BodyContext implements UploadContext {
        @Override
        public String getCharacterEncoding() {
            return BufferedRequest.this.getCharacterEncoding();
        }

        @Override
        public String getContentType() {
            return BufferedRequest.this.getContentType();
        }

        @Override
        public InputStream getInputStream() {
            return body.getInputStream();
        }

        @Override
        public long contentLength() {
            return body.size();
        }
    }
}
