package io.kvmfilter.filter;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.KvmConfigurationException;
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
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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
 * of 16 or more bytes, the signing one first), {@code cacheSize} (bytes of results kept, default 64MiB),
 * {@code clientHints} ({@code true}: option requests use {@link ClientHints} for what their URL leaves open, and
 * responses carry {@code Accept-CH}), {@code saveDataQuality} (the quality for {@code Save-Data: on}, default 50),
 * {@code watermark} (a mark file put on every image made, see {@link Watermark}) with {@code watermarkOpacity},
 * {@code watermarkGravity}, {@code watermarkSize} and {@code watermarkMargin}.
 */
public class ImageServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final System.Logger LOG = System.getLogger(ImageServlet.class.getName());
    /** The response header saying what the endpoint did: applied=image, cache-hit=image, failed=REASON. */
    public static final String DIAGNOSTIC_HEADER = ProgramServlet.FAILURE_HEADER;
    private static final List<String> PARAMETERS = parameters();
    private static final Map<String, String> TYPES = Map.of("webp", "image/webp", "avif", "image/avif", "jpeg",
            "image/jpeg", "png", "image/png");

    private transient Path directory;
    private transient ImageOptionSettings settings;
    private transient Cache<String, byte[]> results;
    private final transient BodyDigests digests = new BodyDigests(BodyDigests.DEFAULT_MAX_ENTRIES);
    private transient volatile Kvm kvm;
    private transient volatile String unavailable;

    private static List<String> parameters() {
        List<String> names = new ArrayList<>(List.of("directory", "cacheSize"));
        names.addAll(ImageOptionSettings.NAMES);
        return List.copyOf(names);
    }

    @Override
    public void init() throws ServletException {
        ProgramLibrary library;
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
            settings = ImageOptionSettings.of(this::getInitParameter, name -> "init-param " + name);
            String size = getInitParameter("cacheSize");
            long cacheBytes = size == null ? 64L << 20 : KvmFilterSpec.parseSize("cacheSize", size.trim());
            results = Caffeine.newBuilder().maximumWeight(cacheBytes)
                    .weigher((String key, byte[] body) -> body.length + key.length()).executor(Runnable::run).build();
            library = settings.watermark().isPresent() ? settings.watermark().get().grant(ProgramLibrary.bundled())
                    : ProgramLibrary.bundled();
        } catch (IllegalArgumentException | IOException | KvmConfigurationException e) {
            throw new ServletException("ImageServlet '" + getServletName() + "': " + e.getMessage(), e);
        }
        try {
            kvm = Kvm.start(library, "images-" + SandboxNames.of(getServletContext(), getServletName()));
        } catch (KvmUnavailableException e) {
            unavailable = e.getMessage();
            LOG.log(Level.WARNING, "kvmfilter: image servlet {0}: the sandbox is not available, option requests get"
                    + " 503: {1}", getServletName(), e.getMessage());
        }
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
        if (settings.clientHints()) {
            response.setHeader("Accept-CH", ClientHints.ACCEPT_CH);
        }
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
        List<String> vary = new ArrayList<>();
        try {
            options = ImageOptions.parse(query, settings.limits(), settings.clientHints()
                    ? ClientHints.of(request::getHeader) : null, settings.saveDataQuality(), vary);
        } catch (ImageOptions.InvalidOptionException e) {
            ProgramServlet.fail(response, 400, "invalid-option", e.getMessage());
            return;
        }
        if (options.isEmpty()) {
            send(response, request, original, type == null ? "application/octet-stream" : type, "original");
            return;
        }
        if (settings.signer().isPresent() && !settings.signer().get().verify(request.getRequestURI(), query)) {
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
                && r.quality() > 0), settings.limits().formats(), MediaTypes.baseType(type));
        String arg = settings.programArg(options.get(), format);
        if (options.get().format().equals("auto")) {
            vary.add(0, "Accept");
        }
        if (!vary.isEmpty()) {
            response.setHeader("Vary", String.join(", ", vary));
        }
        // The original's SHA-256, remembered by size and modification time and trusted only after a CRC32C of the
        // bytes matches: a file changed in place within the same second is never answered from before.
        String modified = String.valueOf(Files.getLastModifiedTime(file).toMillis());
        String key = request.getPathInfo() + "\n" + digests.digest(request.getPathInfo(),
                BodyDigests.Validator.of(null, modified, original.length), original) + "\n" + arg
                + settings.watermark().map(mark -> "\nwatermark=" + mark.sha256()).orElse("");
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
