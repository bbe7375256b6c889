package io.kvmfilter.filter;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Optional;

/**
 * Writes one response once the decision is made: the transformed body with its corrected headers, or the
 * original. Every response the filter handled is counted under its {@link Outcome}, which the diagnostic header
 * also names when a rule covers the type.
 */
final class ResponseFinisher {

    private final FilterServices services;
    private final TransformDecision decision;
    private final ConditionalRequest conditional;
    private final Negotiation negotiation;
    private final TransformResponse response;
    private final RequestLine request;
    private final boolean headersOnly;

    /**
     * @param headersOnly a HEAD request answered as GET: headers of the transformed response, no body
     */
    ResponseFinisher(FilterServices services, TransformDecision decision, ConditionalRequest conditional,
            Negotiation negotiation, TransformResponse response, RequestLine request, boolean headersOnly) {
        this.services = services;
        this.decision = decision;
        this.conditional = conditional;
        this.negotiation = negotiation;
        this.response = response;
        this.request = request;
        this.headersOnly = headersOnly;
    }

    /**
     * The response streams untransformed from now on (decided at its first byte, or it outgrew maxBodySize):
     * its headers still say Vary when negotiable, and why it was not transformed. Counted like a buffered
     * response left alone, so the counters add up to the responses the filter handled.
     */
    void passingThrough(String reason) {
        Optional<Rule> rule = decision.ruleFor(response.getContentType());
        Outcome outcome = Outcome.untouched(rule.isPresent(), reason);
        describe(rule, outcome);
        services.stats().count(outcome);
    }

    /** Transforms (or not) and writes the response the application is done with. */
    void finish() throws IOException {
        response.flushWriter();
        switch (response.state()) {
            case PASSING:
                response.flushBuffer();
                return;
            case DROPPED:
                return;
            case NOT_MODIFIED:
                conditional.completeNotModified(response);
                return;
            default:
                break;
        }
        // Did the application answer 304 Not Modified? Then the 304 must carry the variant's ETag and Vary.
        if (response.getStatus() == HttpServletResponse.SC_NOT_MODIFIED) {
            conditional.completeNotModified(response);
            return;
        }
        // Did something commit the response past us (a Servlet 6.1 sendRedirect our wrapper does not know)?
        if (response.isCommitted()) {
            request.debug(() -> "response was committed outside the filter: leaving it alone");
            return;
        }
        byte[] body = response.body();
        String contentType = response.getContentType();
        Optional<Rule> rule = decision.ruleFor(contentType);
        Optional<TransformDecision.Skip> skip = decision.atEnd(head(), body);
        if (skip.isPresent()) {
            request.debug(skip.get().explanation());
            sendOriginal(body, rule, Outcome.untouched(rule.isPresent(), skip.get().reason()));
            return;
        }
        String type = MediaTypes.baseType(contentType);
        // Which variant does the client accept (avif, then webp, then the original)?
        Optional<Variant> chosen = negotiation.choose(rule.get(), type);
        if (chosen.isEmpty()) {
            request.debug(() -> "client accepts no variant of " + type);
            sendOriginal(body, rule, Outcome.untouched(true, "not-accepted"));
            return;
        }
        Variant variant = chosen.get();
        // Does the client have this variant already (the hidden If-None-Match, If-Modified-Since)? A 304 then.
        String etag = response.getHeader("ETag");
        if (response.notModified(etag == null ? null : ETags.withSuffix(etag, variant.name(), !variant.negotiated()))) {
            variantHeaders(variant, rule.get());
            response.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
            return;
        }
        // Was this very body converted to this variant before?
        TransformCache cache = services.cache();
        String cacheKey = cache.enabled() ? TransformCache.key(variant, body, contentType) : null;
        TransformCache.Entry cached = cacheKey == null ? null : cache.get(cacheKey);
        if (cached != null) {
            services.stats().count(Outcome.cacheHit(variant.name()));
            sendTransformed(cached.body(), variant, rule.get());
            return;
        }
        TransformResult result;
        try {
            result = services.transform().apply(variant, body, contentType, request.url());
        } catch (RuntimeException e) {
            // A bug or a request the binding refuses (say, a header it cannot pass): still serve the original.
            result = TransformResult.failed("internal", e.toString());
        }
        if (!result.ok()) {
            fallBack(body, rule, variant, result.failure(), result.detail());
            return;
        }
        // Did the program answer another type than the variant's? A program cannot choose what the client is told
        // it gets (an image rule answering text/html would be stored XSS): that is a failure.
        Optional<String> wrongType = wrongType(result.contentType(), variant, contentType);
        if (wrongType.isPresent()) {
            fallBack(body, rule, variant, "wrong-type", wrongType.get());
            return;
        }
        // Did the program make the body larger, when it should shrink it?
        if (services.config().requireSmaller() && result.body().length > body.length) {
            fallBack(body, rule, variant, "larger", result.body().length + " bytes from " + body.length);
            return;
        }
        // Did a program say its answer must not be reused (sys_set_cacheable)? Then it is not stored.
        if (cacheKey != null && result.reusable()) {
            cache.put(cacheKey, new TransformCache.Entry(result.body(), result.contentType()));
        }
        sendTransformed(result.body(), variant, rule.get());
    }

    /**
     * Why a program's Content-Type is not the variant's, or empty when it is (or the program gave none): a
     * negotiated variant must answer its output type, any other the original's type (parameters may differ).
     */
    static Optional<String> wrongType(String programType, Variant variant, String originalType) {
        if (programType == null) {
            return Optional.empty();
        }
        String expected = variant.outputType().orElse(MediaTypes.baseType(originalType));
        String answered = MediaTypes.baseType(programType);
        if (answered.equals(expected)) {
            return Optional.empty();
        }
        return Optional.of("the program answered Content-Type '" + programType + "', the variant's type is "
                + expected);
    }

    private TransformDecision.ResponseHead head() {
        return new TransformDecision.ResponseHead(response.getStatus(), response.getHeader("Content-Encoding"),
                response.getContentType(), response.declaredContentLength());
    }

    /** A program failed: counted and logged with its detail, the original served. */
    private void fallBack(byte[] body, Optional<Rule> rule, Variant variant, String failure, String detail)
            throws IOException {
        Outcome outcome = Outcome.fallback(variant.name(), failure);
        services.stats().failure(outcome, detail, request.forLog());
        describe(rule, outcome);
        response.sendOriginal(body, headersOnly);
    }

    /** Serves the original body, counted under its outcome; a 304 when the hidden preconditions say so. */
    private void sendOriginal(byte[] body, Optional<Rule> rule, Outcome outcome) throws IOException {
        describe(rule, outcome);
        if (response.notModified(response.getHeader("ETag"))) {
            response.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
            return;
        }
        services.stats().count(outcome);
        response.sendOriginal(body, headersOnly);
    }

    /** Vary when the resource is negotiable and the diagnostic header, when a rule covers the type. */
    private void describe(Optional<Rule> rule, Outcome outcome) {
        if (rule.isPresent()) {
            if (rule.get().negotiable()) {
                ConditionalRequest.addVaryAccept(response);
            }
            diagnostic(outcome);
        }
    }

    /**
     * Serves a transformed body. Its Content-Type is the variant's output type, or the original Content-Type (with
     * its charset) for a variant that keeps the format: never what a program chose. {@code nosniff} keeps browsers
     * from guessing another type from the bytes.
     */
    private void sendTransformed(byte[] body, Variant variant, Rule rule) throws IOException {
        variantHeaders(variant, rule);
        Outcome applied = Outcome.applied(variant.name());
        diagnostic(applied);
        services.stats().count(applied);
        request.debug(() -> "applied " + variant.name() + ": " + body.length + " bytes");
        response.send(body, headersOnly);
    }

    /** The headers of a variant's 200, and of the 304 standing for it. */
    private void variantHeaders(Variant variant, Rule rule) {
        variant.outputType().ifPresent(response::setContentType);
        response.setHeader("X-Content-Type-Options", "nosniff");
        String etag = response.getHeader("ETag");
        if (etag != null) {
            // Transformed text gets a weak tag: Tomcat never compresses a response with a strong one.
            response.setHeader("ETag", ETags.withSuffix(etag, variant.name(), !variant.negotiated()));
        }
        if (rule.negotiable()) {
            ConditionalRequest.addVaryAccept(response);
        }
        response.setHeader("Accept-Ranges", "none");
    }

    private void diagnostic(Outcome outcome) {
        services.config().diagnosticHeader().ifPresent(name -> response.setHeader(name, outcome.text()));
    }
}
