package io.kvmfilter.filter;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;

/**
 * One request passing through the filter: its wrappers, what the request said (Accept, If-None-Match, HEAD) and
 * the response-side decision, made once the status and headers are known. {@link #finish()} runs once, when the
 * application is done (end of the filter chain, or {@code AsyncContext.complete()}).
 */
final class Exchange {

    /**
     * Prefix of the request attribute holding the exchange, so an ASYNC dispatch of the same request finds it
     * again; each filter instance appends its own number, so two instances on one request both work.
     */
    static final String ATTRIBUTE_PREFIX = Exchange.class.getName() + "#";

    private static final System.Logger LOG = System.getLogger(KvmFilter.class.getName());

    private final KvmFilter filter;
    private final KvmFilterConfig config;
    private final HttpServletRequest originalRequest;
    private final HttpServletResponse originalResponse;
    private final boolean head;
    private final Negotiation negotiation;
    private final String predictedType;
    private final TransformResponse response;
    private final TransformRequest request;
    private String strippedVariant;
    private final List<String> strippedTags = new ArrayList<>();
    private boolean finished;
    private volatile String asyncFailure;

    Exchange(KvmFilter filter, HttpServletRequest request, HttpServletResponse response, String path) {
        this.filter = filter;
        this.config = filter.config();
        this.originalRequest = request;
        this.originalResponse = response;
        this.head = "HEAD".equals(request.getMethod());
        this.negotiation = Negotiation.of(joined(request, "Accept"), config.variantsForWildcards());
        String guessed = request.getServletContext() == null ? null : request.getServletContext().getMimeType(path);
        this.predictedType = MediaTypes.baseType(guessed);
        // Unless the path's extension says the response cannot be transformed (a video, say), Range is hidden and
        // HEAD runs as GET; for such paths both would only make the application send bytes nobody uses.
        boolean mayTransform = predictedType == null
                || (config.ruleFor(predictedType).isPresent() && config.mimeTypeIncluded(predictedType));
        this.response = new TransformResponse(response, this, config.maxBodySize());
        this.request = new TransformRequest(request, this, config.headAsGet() && mayTransform, mayTransform,
                mapIfNoneMatch(joined(request, "If-None-Match")));
        request.setAttribute(filter.attributeName(), this);
    }

    TransformRequest request() {
        return request;
    }

    TransformResponse response() {
        return response;
    }

    /** All lines of a list-valued header joined with commas (RFC 9110 §5.3), or null when absent. */
    private static String joined(HttpServletRequest request, String name) {
        Enumeration<String> lines = request.getHeaders(name);
        if (lines == null) { // the container does not give access to headers this way
            return request.getHeader(name);
        }
        List<String> values = Collections.list(lines);
        return values.isEmpty() ? null : String.join(", ", values);
    }

    // --- If-None-Match ------------------------------------------------------------------------------------------

    /**
     * Removes the suffix of the variant this request would be served from the tags in If-None-Match, so the
     * application compares its own tag. Tags of our other variants are left out: they cannot match this response,
     * and some applications (Jetty's DefaultServlet) ignore anything after "--" when comparing. Tags without our
     * suffix name the original: they are left out too when the path's type says a variant will be served.
     */
    private String mapIfNoneMatch(String header) {
        if (header == null) {
            return null;
        }
        Optional<Variant> predicted = predictedType == null ? Optional.empty() : servedVariant(predictedType);
        List<String> mapped = new ArrayList<>();
        for (String tag : ETags.split(header)) {
            String variant = ETags.variantOf(tag);
            if (variant == null || variantNamed(variant).isEmpty()) {
                if (predicted.isEmpty()) {
                    mapped.add(tag);
                }
            } else if (wouldServe(variant)) {
                String base = ETags.withoutSuffix(tag, variant);
                strippedVariant = variant;
                strippedTags.add(base);
                mapped.add(base);
            }
        }
        return mapped.isEmpty() ? null : String.join(", ", mapped);
    }

    /** The variant a response of this media type would get for this request; empty for the original. */
    private Optional<Variant> servedVariant(String mediaType) {
        if (!config.mimeTypeIncluded(mediaType)) {
            return Optional.empty();
        }
        return config.ruleFor(mediaType).flatMap(rule -> negotiation.choose(rule, mediaType));
    }

    /** Would this request be served the named variant, judging by the path's media type and Accept? */
    private boolean wouldServe(String variantName) {
        for (Rule rule : config.ruleList()) {
            if (rule.variants().stream().noneMatch(v -> v.name().equals(variantName))) {
                continue;
            }
            String sourceType = predictedType;
            if (sourceType == null) {
                sourceType = rule.sourceTypes().stream().filter(t -> !t.endsWith("/*")).findFirst().orElse(null);
            } else if (!rule.covers(sourceType)) {
                continue;
            }
            if (sourceType != null && negotiation.choose(rule, sourceType)
                    .filter(v -> v.name().equals(variantName)).isPresent()) {
                return true;
            }
        }
        return false;
    }

    // --- the decision -------------------------------------------------------------------------------------------

    /**
     * Called before the first body byte: a reason to stream the response untransformed right away, or null to
     * buffer it (also when the decision needs what is not known yet, such as a Content-Type set later).
     */
    String reasonToPassAtFirstOutput() {
        return reasonNotToTransform(null);
    }

    /**
     * Why this response must not be transformed, or null. Each check answers one question, cheapest first.
     *
     * @param body the whole body when the application is done; null at the first byte, when some answers are not
     *             known yet
     */
    private String reasonNotToTransform(byte[] body) {
        boolean atEnd = body != null;
        // Did the application answer with a status we transform (200 by default)? A 206 never is.
        int status = response.getStatus();
        if (!config.statuses().contains(status)) {
            log(() -> "status " + status + " is not transformed");
            return "status";
        }
        // Is the body already encoded (gzip, br)? Container compression runs after us; this is the application's.
        String encoding = response.getHeader("Content-Encoding");
        if (encoding != null && !encoding.trim().equalsIgnoreCase("identity")) {
            log(() -> "body already has Content-Encoding " + encoding);
            return "encoded";
        }
        // Do we know the media type yet? Without one there is nothing to match rules against.
        String type = MediaTypes.baseType(response.getContentType());
        if (type == null) {
            if (atEnd) {
                log("no Content-Type");
                return "no-type";
            }
            return null;
        }
        // Does a rule cover this media type?
        if (config.ruleFor(type).isEmpty()) {
            log(() -> "no rule for " + type);
            return "no-rule";
        }
        // Is the media type left out by includedMimeTypes / excludedMimeTypes?
        if (!config.mimeTypeIncluded(type)) {
            log(() -> type + " is excluded by the mime type lists");
            return "excluded-type";
        }
        long size = atEnd ? body.length : response.declaredContentLength();
        // Is the body larger than we may hold in memory?
        if (size > config.maxBodySize()) {
            log(() -> "body of " + size + " bytes is larger than maxBodySize " + config.maxBodySize());
            return "too-large";
        }
        // Is the body too small to gain anything from a program run?
        if (size >= 0 && size < config.minBodySize()) {
            log(() -> "body of " + size + " bytes is smaller than minBodySize " + config.minBodySize());
            return "too-small";
        }
        // Does the image header declare more pixels than we let a program decode (a decompression bomb)?
        if (atEnd && type.startsWith("image/")) {
            OptionalLong pixels = ImageHeaders.pixels(body);
            if (pixels.isPresent() && pixels.getAsLong() > config.maxPixels()) {
                log(() -> "image declares " + pixels.getAsLong() + " pixels, more than maxPixels "
                        + config.maxPixels());
                return "too-many-pixels";
            }
        }
        return null;
    }

    /** The rule for the response's media type when the filter could transform it (type covered and included). */
    private Optional<Rule> candidateRule() {
        String type = MediaTypes.baseType(response.getContentType());
        if (type == null || !config.mimeTypeIncluded(type)) {
            return Optional.empty();
        }
        return config.ruleFor(type);
    }

    /**
     * Headers of a response streamed untransformed: still Vary when negotiable, and why it was not transformed.
     * Counted like a buffered response left alone, so the counters add up to the responses the filter handled.
     */
    void beforePassThrough(String reason) {
        Optional<Rule> rule = candidateRule();
        String outcome = untouched(rule, reason);
        if (rule.isPresent()) {
            if (rule.get().negotiable()) {
                addVaryAccept();
            }
            diagnostic(outcome);
        }
        filter.stats().count(outcome);
    }

    /**
     * The outcome of a response served as the application wrote it: {@code skipped=<reason>} when a rule covers
     * its type (the diagnostic header says so too), {@code passed=<reason>} when none does (no header).
     */
    private static String untouched(Optional<Rule> rule, String reason) {
        return (rule.isPresent() ? "skipped=" : "passed=") + reason;
    }

    // --- finishing ----------------------------------------------------------------------------------------------

    /** Transforms (or not) and writes the response; runs once, whoever calls it first. */
    synchronized void finish() throws IOException {
        if (finished) {
            return;
        }
        finished = true;
        response.flushWriter();
        switch (response.state()) {
            case PASSING:
                response.flushBuffer();
                return;
            case DROPPED:
                return;
            case NOT_MODIFIED:
                notModified();
                return;
            default:
                break;
        }
        int status = response.getStatus();
        // Did the application answer 304 Not Modified? Then the 304 must carry the variant's ETag and Vary.
        if (status == HttpServletResponse.SC_NOT_MODIFIED) {
            notModified();
            return;
        }
        // Did something commit the response past us (a Servlet 6.1 sendRedirect our wrapper does not know)?
        if (originalResponse.isCommitted()) {
            log("response was committed outside the filter: leaving it alone");
            return;
        }
        byte[] body = response.body();
        String reason = reasonNotToTransform(body);
        Optional<Rule> rule = candidateRule();
        if (reason != null) {
            sendOriginal(body, rule, untouched(rule, reason));
            return;
        }
        String contentType = response.getContentType();
        String type = MediaTypes.baseType(contentType);
        // Which variant does the client accept (avif, then webp, then the original)?
        Optional<Variant> chosen = negotiation.choose(rule.get(), type);
        if (chosen.isEmpty()) {
            log(() -> "client accepts no variant of " + type);
            sendOriginal(body, rule, "skipped=not-accepted");
            return;
        }
        Variant variant = chosen.get();
        // Was this very body converted to this variant before?
        TransformCache cache = filter.cache();
        String cacheKey = cache.enabled() ? TransformCache.key(variant, body, contentType) : null;
        TransformCache.Entry cached = cacheKey == null ? null : cache.get(cacheKey);
        if (cached != null) {
            filter.stats().count("cache-hit=" + variant.name());
            sendTransformed(Outcome.applied(cached.body(), cached.contentType()), variant, rule.get(), contentType);
            return;
        }
        Outcome outcome;
        try {
            outcome = filter.transform().apply(variant, body, contentType, requestUrl());
        } catch (RuntimeException e) {
            // A bug or a request the binding refuses (say, a header it cannot pass): still serve the original.
            outcome = Outcome.failed("internal", e.toString());
        }
        if (!outcome.ok()) {
            filter.stats().failure(variant.name(), outcome.failure(), outcome.detail(), uri());
            sendOriginal(body, rule, "fallback=" + variant.name() + ":" + outcome.failure());
            return;
        }
        // Did the program make the body larger, when it should shrink it?
        if (config.requireSmaller() && outcome.body().length > body.length) {
            filter.stats().failure(variant.name(), "larger", outcome.body().length + " bytes from " + body.length,
                    uri());
            sendOriginal(body, rule, "fallback=" + variant.name() + ":larger");
            return;
        }
        if (cacheKey != null) {
            cache.put(cacheKey, new TransformCache.Entry(outcome.body(), outcome.contentType()));
        }
        sendTransformed(outcome, variant, rule.get(), contentType);
    }

    /**
     * Serves the original body. The outcome goes into the diagnostic header when a rule covers the type, and is
     * counted (failures were counted with their detail already).
     */
    private void sendOriginal(byte[] body, Optional<Rule> rule, String outcome) throws IOException {
        if (rule.isPresent()) {
            if (rule.get().negotiable()) {
                addVaryAccept();
            }
            diagnostic(outcome);
        }
        if (!outcome.startsWith("fallback=")) {
            filter.stats().count(outcome);
        }
        response.send(body, head);
    }

    private void sendTransformed(Outcome outcome, Variant variant, Rule rule, String originalType)
            throws IOException {
        String type = outcome.contentType() != null ? outcome.contentType()
                : variant.outputType().orElse(originalType);
        if (!MediaTypes.baseType(type).equals(MediaTypes.baseType(originalType))) {
            response.setContentType(type);
        } else if (type.indexOf(';') > 0 && originalType.indexOf(';') < 0) {
            response.setContentType(type);
        } // same base type: keep the original Content-Type with its charset
        String etag = response.getHeader("ETag");
        if (etag != null) {
            // Transformed text gets a weak tag: Tomcat never compresses a response with a strong one.
            response.setHeader("ETag", ETags.withSuffix(etag, variant.name(), !variant.negotiated()));
        }
        if (rule.negotiable()) {
            addVaryAccept();
        }
        response.setHeader("Accept-Ranges", "none");
        String applied = "applied=" + variant.name();
        diagnostic(applied);
        filter.stats().count(applied);
        log(() -> "applied " + variant.name() + ": " + outcome.body().length + " bytes");
        response.send(outcome.body(), head);
    }

    /** A 304 carries the ETag and Vary the 200 would have. */
    private void notModified() {
        String etag = response.getHeader("ETag");
        if (etag != null && strippedVariant != null
                && strippedTags.stream().anyMatch(tag -> ETags.weakMatch(tag, etag))) {
            boolean negotiated = variantNamed(strippedVariant).map(Variant::negotiated).orElse(true);
            response.setHeader("ETag", ETags.withSuffix(etag, strippedVariant, !negotiated));
        } else if (etag != null && strippedVariant == null) {
            // Not modified by date (If-Modified-Since): the 304 names the variant the 200 would have been.
            String type = MediaTypes.baseType(response.getContentType());
            Optional<Variant> served = servedVariant(type != null ? type : predictedType != null ? predictedType
                    : "");
            served.ifPresent(v -> response.setHeader("ETag", ETags.withSuffix(etag, v.name(), !v.negotiated())));
        }
        if (negotiable()) {
            addVaryAccept();
        }
    }

    /** Is the resource negotiable, judged by what is known: the response type, the stripped tag, the path? */
    private boolean negotiable() {
        Optional<Rule> rule = candidateRule();
        if (rule.isPresent()) {
            return rule.get().negotiable();
        }
        if (strippedVariant != null) {
            return variantNamed(strippedVariant).map(Variant::negotiated).orElse(false);
        }
        return predictedType != null && config.mimeTypeIncluded(predictedType)
                && config.ruleFor(predictedType).map(Rule::negotiable).orElse(false);
    }

    private Optional<Variant> variantNamed(String name) {
        return config.ruleList().stream().flatMap(rule -> rule.variants().stream())
                .filter(v -> v.name().equals(name)).findFirst();
    }

    private void addVaryAccept() {
        for (String vary : response.getHeaders("Vary")) {
            for (String field : vary.split(",")) {
                String f = field.trim().toLowerCase(Locale.ROOT);
                if (f.equals("accept") || f.equals("*")) {
                    return;
                }
            }
        }
        response.addHeader("Vary", "Accept");
    }

    private void diagnostic(String value) {
        config.diagnosticHeader().ifPresent(name -> response.setHeader(name, value));
    }

    // --- failures and async -------------------------------------------------------------------------------------

    /** The application threw: forget the body, the container writes the error. */
    synchronized void abandon() {
        finished = true;
        if (response.state() != TransformResponse.State.PASSING) {
            response.drop();
        }
    }

    /** The asynchronous request timed out or failed: unless the application completes it, the container answers. */
    void asyncFailed(String what) {
        asyncFailure = what;
    }

    /** The container completed the asynchronous request; it should have been finished by now. */
    void asyncCompleted() {
        synchronized (this) {
            if (finished || asyncFailure != null) {
                return;
            }
        }
        LOG.log(Level.WARNING, "kvmfilter: asynchronous request {0} completed without passing through the filter"
                + " again: map the filter for the ASYNC dispatcher type (and asyncSupported=true)", uri());
        try {
            finish();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "kvmfilter: could not write the response of " + uri(), e);
        }
    }

    void log(String reason) {
        if (LOG.isLoggable(Level.DEBUG)) {
            LOG.log(Level.DEBUG, "kvmfilter: " + uri() + ": " + reason);
        }
    }

    /** Logs a decision whose message is built only when DEBUG is on: most responses pass here unlogged. */
    private void log(Supplier<String> reason) {
        if (LOG.isLoggable(Level.DEBUG)) {
            log(reason.get());
        }
    }

    private String requestUrl() {
        String query = originalRequest.getQueryString();
        return originalRequest.getRequestURI() + (query == null ? "" : "?" + query);
    }

    private String uri() {
        return originalRequest.getMethod() + " " + originalRequest.getRequestURI();
    }
}
