package io.kvmfilter.filter.bench;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Serves the folder's files under /strong/ from memory with a strong ETag (a content hash, as a build pipeline or
 * an object store gives) and Last-Modified, answering If-None-Match with 304, the way an origin that vouches for
 * its bytes does. Jetty's DefaultServlet only sends weak ETags; this is the benchmark's origin for the "strong
 * validator" case.
 */
final class StrongEtagServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    private record File(byte[] bytes, String etag, long modified, String type) {
    }

    private final transient Path folder;
    private final transient Map<String, File> files = new ConcurrentHashMap<>();

    StrongEtagServlet(Path folder) {
        this.folder = folder;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String name = request.getPathInfo() == null ? "" : request.getPathInfo().substring(1);
        File file;
        try {
            file = files.computeIfAbsent(name, this::load);
        } catch (IllegalArgumentException e) {
            response.sendError(404);
            return;
        }
        response.setHeader("ETag", file.etag());
        response.setDateHeader("Last-Modified", file.modified());
        // Conditional GET (RFC 9110 §13.1.2), as any origin with content hashes answers it.
        String ifNoneMatch = request.getHeader("If-None-Match");
        if (ifNoneMatch != null && (ifNoneMatch.trim().equals("*") || java.util.Arrays.stream(ifNoneMatch.split(","))
                .map(tag -> tag.trim().replaceFirst("^W/", "")).anyMatch(file.etag()::equals))) {
            response.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
            return;
        }
        response.setContentType(file.type());
        response.setContentLength(file.bytes().length);
        response.getOutputStream().write(file.bytes());
    }

    private File load(String name) {
        Path path = folder.resolve(name).normalize();
        if (name.isEmpty() || !path.startsWith(folder) || !Files.isRegularFile(path)) {
            throw new IllegalArgumentException("no file " + name);
        }
        try {
            byte[] bytes = Files.readAllBytes(path);
            String etag = "\"" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes), 0, 16)
                    + "\"";
            String type = name.endsWith(".jpg") ? "image/jpeg" : name.endsWith(".json") ? "application/json"
                    : "application/octet-stream";
            return new File(bytes, etag, Files.getLastModifiedTime(path).toMillis(), type);
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot serve " + path + ": " + e, e);
        }
    }
}
