package io.kvmfilter.filter;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.KvmUnavailableException;
import io.kvmfilter.kvm.ProgramLibrary;
import io.kvmfilter.kvm.Request;
import io.kvmfilter.kvm.Result;
import io.kvmfilter.store.BodyDigests;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The image endpoint (issue #17): images from a directory, with per-request options in the URL's query
 * ({@link ImageOptions}: {@code /img/cat.jpg?w=320&fmt=auto}), made by the bundled {@code image} program and kept
 * in memory for the next request. A bad option answers 400 naming it; with signing keys configured, a request with
 * options whose {@code s} ({@link UrlSigner}) is missing or wrong answers 403 and nothing runs. Without options the
 * file is served as it is.
 *
 * <p>Init-params: {@code directory} (required: the images; nothing outside it is served, symbolic links included),
 * {@code maxWidth}, {@code maxHeight} (CSS pixels, default 4096), {@code maxDpr} (3), {@code maxPixels}
 * (25000000), {@code formats} (comma-separated, default {@code auto, webp, avif, jpeg, png}), {@code presets}
 * ({@code name: query} entries separated by {@code ;}, e.g. {@code thumb: w=200&h=200; hero: w=1280}),
 * {@code presetsOnly} ({@code true}: requests may only name presets), {@code signingKeys} (comma-separated secrets
 * of 16 or more bytes, the signing one first), {@code cacheSize} (bytes of results kept, default 64MiB).
 */
public class ImageServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final System.Logger LOG = System.getLogger(ImageServlet.class.getName());
    /** The response header saying what the endpoint did: applied=image, cache-hit=image, failed=REASON. */
    public static final String DIAGNOSTIC_HEADER = ProgramServlet.FAILURE_HEADER;
    private static final List<String> PARAMETERS = List.of("directory", "maxWidth", "maxHeight", "maxDpr",
            "maxPixels", "formats", "presets", "presetsOnly", "signingKeys", "cacheSize");
    private static final Map<String, String> TYPES = Map.of("webp", "image/webp", "avif", "image/avif", "jpeg",
            "image/jpeg", "png", "image/png");

    private transient Path directory;
    private transient ImageOptions.Limits limits;
    private transient UrlSigner signer;
    private transient Cache<String, byte[]> results;
    private final transient BodyDigests digests = new BodyDigests(BodyDigests.DEFAULT_MAX_ENTRIES);
    private transient volatile Kvm kvm;
    private transient volatile String unavailable;

    @Override
    public void init() throws ServletException {
        try {
            for (String param : Collections.list(getInitParameterNames())) {
                if (!PARAMETERS.contains(param)) {
                    throw new IllegalArgumentException("unknown init-param '" + param + "': allowed are "
                            + String.join(", ", PARAMETERS));
                }
            }
            String dir = getInitParameter("directory");
            if (dir == null || dir.isBlank()) {
                throw new IllegalArgumentException("init-param 'directory' is required: the folder of the images");
            }
            directory = Path.of(dir.trim()).toRealPath();
            ImageOptions.Limits d = ImageOptions.Limits.DEFAULT;
            Set<String> formats = d.formats();
            String formatList = getInitParameter("formats");
            if (formatList != null) {
                formats = new HashSet<>();
                for (String format : formatList.split(",")) {
                    formats.add(format.trim());
                }
            }
            limits = new ImageOptions.Limits(intParam("maxWidth", d.maxWidth()), intParam("maxHeight", d.maxHeight()),
                    getInitParameter("maxDpr") == null ? d.maxDpr() : Double.parseDouble(getInitParameter("maxDpr")),
                    getInitParameter("maxPixels") == null ? d.maxPixels()
                            : Long.parseLong(getInitParameter("maxPixels").trim()),
                    formats, presets(getInitParameter("presets")), Boolean.parseBoolean(getInitParameter("presetsOnly")));
            String keys = getInitParameter("signingKeys");
            if (keys != null && !keys.isBlank()) {
                List<byte[]> secrets = new ArrayList<>();
                for (String key : keys.split(",")) {
                    secrets.add(key.trim().getBytes(StandardCharsets.UTF_8));
                }
                signer = new UrlSigner(secrets);
            }
            String size = getInitParameter("cacheSize");
            long cacheBytes = size == null ? 64L << 20 : KvmFilterSpec.parseSize("cacheSize", size.trim());
            results = Caffeine.newBuilder().maximumWeight(cacheBytes)
                    .weigher((String key, byte[] body) -> body.length + key.length()).executor(Runnable::run).build();
        } catch (IllegalArgumentException | IOException e) {
            throw new ServletException("ImageServlet '" + getServletName() + "': " + e.getMessage(), e);
        }
        try {
            kvm = Kvm.start(ProgramLibrary.bundled(), "images-" + SandboxNames.of(getServletContext(), getServletName()));
        } catch (KvmUnavailableException e) {
            unavailable = e.getMessage();
            LOG.log(Level.WARNING, "kvmfilter: image servlet {0}: the sandbox is not available, option requests get"
                    + " 503: {1}", getServletName(), e.getMessage());
        }
    }

    private int intParam(String name, int absent) {
        String value = getInitParameter(name);
        return value == null ? absent : Integer.parseInt(value.trim());
    }

    /** "thumb: w=200&h=200; hero: w=1280" → name → query. */
    static Map<String, String> presets(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        for (String entry : text.split(";")) {
            if (entry.isBlank()) {
                continue;
            }
            int colon = entry.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("init-param 'presets': \"" + entry.trim() + "\" must be NAME: QUERY,"
                        + " e.g. thumb: w=200&h=200");
            }
            out.put(entry.substring(0, colon).trim(), entry.substring(colon + 1).trim());
        }
        return out;
    }

    @Override
    public void destroy() {
        Kvm started = kvm;
        if (started != null) {
            started.close();
        }
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Path file = file(request.getPathInfo());
        byte[] original;
        try {
            original = file == null ? null : Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            original = null;
        }
        if (original == null) {
            ProgramServlet.fail(response, 404, "not-found", "no image " + request.getPathInfo());
            return;
        }
        String type = getServletContext().getMimeType(file.getFileName().toString());
        String query = request.getQueryString();
        Optional<ImageOptions> options;
        try {
            options = ImageOptions.parse(query, limits);
        } catch (ImageOptions.InvalidOptionException e) {
            ProgramServlet.fail(response, 400, "invalid-option", e.getMessage());
            return;
        }
        if (options.isEmpty()) {
            send(response, request, original, type == null ? "application/octet-stream" : type, "original");
            return;
        }
        if (signer != null && !signer.verify(request.getRequestURI(), query)) {
            ProgramServlet.fail(response, 403, "bad-signature", "this URL's options are not signed by this server (parameter s)");
            return;
        }
        Kvm started = kvm;
        if (started == null) {
            ProgramServlet.fail(response, 503, "unavailable", "the sandbox is not available: " + unavailable);
            return;
        }
        List<AcceptHeader.Range> accepted = AcceptHeader.parse(request.getHeader("Accept"));
        String format = options.get().resolve(t -> accepted.stream().anyMatch(r -> r.type().equals(t)
                && r.quality() > 0), limits.formats());
        String arg = options.get().programArg(format);
        if (options.get().format().equals("auto")) {
            response.setHeader("Vary", "Accept");
        }
        // The original's SHA-256, remembered by size and modification time and trusted only after a CRC32C of the
        // bytes matches: a file changed in place within the same second is never answered from before.
        String modified = String.valueOf(Files.getLastModifiedTime(file).toMillis());
        String key = request.getPathInfo() + "\n" + digests.digest(request.getPathInfo(),
                BodyDigests.Validator.of(null, modified, original.length), original) + "\n" + arg;
        byte[] made = results.getIfPresent(key);
        if (made != null) {
            send(response, request, made, TYPES.get(format), "cache-hit=image");
            return;
        }
        Result result = started.run("image", new Request("POST", request.getRequestURI(), arg,
                type == null ? "application/octet-stream" : type, original, List.of()));
        if (!result.ok()) {
            int status = result.status() >= 400 && result.status() < 500 ? result.status() : 502;
            String why = result.status() >= 400 && result.status() < 500 ? result.bodyAsString().strip()
                    : result.failure().map(f -> f.message()).orElse("failed");
            ProgramServlet.fail(response, status, status == 502 ? KvmTransform.reason(result.failure().orElseThrow()) : "rejected",
                    "the image could not be made: " + why);
            return;
        }
        results.put(key, result.body());
        send(response, request, result.body(), TYPES.get(format), "applied=image");
    }

    /** The file under the directory for the path, or null when there is none or it lies outside. */
    private Path file(String pathInfo) throws IOException {
        if (pathInfo == null || pathInfo.isEmpty() || pathInfo.contains("\0")) {
            return null;
        }
        Path candidate = directory.resolve(pathInfo.substring(1)).normalize();
        if (!candidate.startsWith(directory) || !Files.isRegularFile(candidate)) {
            return null;
        }
        Path real = candidate.toRealPath();
        return real.startsWith(directory) ? real : null; // no symbolic link out of the directory
    }

    private static void send(HttpServletResponse response, HttpServletRequest request, byte[] body, String type,
            String diagnostic) throws IOException {
        response.setStatus(200);
        response.setContentType(type);
        response.setHeader(DIAGNOSTIC_HEADER, diagnostic);
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setContentLength(body.length);
        if (!"HEAD".equals(request.getMethod())) {
            response.getOutputStream().write(body);
        }
    }
}
