package io.kvmfilter.filter;

import io.kvmfilter.kvm.HeaderField;
import io.kvmfilter.store.ResultStore;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;

/**
 * Writes one response once the decision is made: the transformed body with its corrected headers, or the
 * original. Every response the filter handled is counted under its {@link Outcome}, which the diagnostic header
 * also names when a rule covers the type.
 */
final class ResponseFinisher {

    private static final System.Logger LOG = System.getLogger(KvmFilter.class.getName());

    /**
     * How the finisher may wait without a container thread: suspend the request (Servlet async) when the
     * container allows it here, and learn whether the client has gone meanwhile.
     */
    interface Suspension extends BooleanSupplier {
        /** The request suspended, or null when it cannot be (not async-supported, or already asynchronous). */
        AsyncContext suspend();

        /** True once the client has gone: its queued work is dropped. */
        @Override
        boolean getAsBoolean();
    }

    private final FilterServices services;
    private final TransformDecision decision;
    private final ConditionalRequest conditional;
    private final Negotiation negotiation;
    private final TransformResponse response;
    private final RequestLine request;
    private final boolean headersOnly;
    private final KnownOriginals.Revalidation revalidation;
    private final SelfRequestRelay selfRequests;

    /**
     * @param headersOnly  a HEAD request answered as GET: headers of the transformed response, no body
     * @param revalidation the stored result the application was asked to confirm with a 304, or null
     * @param selfRequests carries the programs' self-requests to this request's thread, or null (refused)
     */
    ResponseFinisher(FilterServices services, TransformDecision decision, ConditionalRequest conditional,
            Negotiation negotiation, TransformResponse response, RequestLine request, boolean headersOnly,
            KnownOriginals.Revalidation revalidation, SelfRequestRelay selfRequests) {
        this.selfRequests = selfRequests;
        this.services = services;
        this.decision = decision;
        this.conditional = conditional;
        this.negotiation = negotiation;
        this.response = response;
        this.request = request;
        this.headersOnly = headersOnly;
        this.revalidation = revalidation;
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

    /**
     * At the first byte: the variant this response would get, when converting this very original (same URL and
     * validator) failed within {@code rememberFailures}. Then it streams through untransformed, unbuffered.
     */
    Optional<Variant> rememberedFailureAtFirstOutput() {
        String contentType = response.getContentType();
        Optional<Rule> rule = decision.ruleFor(contentType);
        if (rule.isEmpty()) {
            return Optional.empty();
        }
        Optional<Variant> variant = negotiation.choose(rule.get(), MediaTypes.baseType(contentType));
        return variant.filter(v -> services.runner().failureRemembered(v, request.url(), response.getHeader("ETag"),
                response.getHeader("Last-Modified"), response.declaredContentLength()));
    }

    /** The response streams through because its conversion failed recently: counted as remembered. */
    void passingThroughRemembered(Variant variant) {
        Outcome outcome = Outcome.fallback(variant.name(), TransformRunner.REMEMBERED);
        describe(decision.ruleFor(response.getContentType()), outcome);
        services.stats().count(outcome);
    }

    /**
     * Transforms (or not) and writes the response the application is done with. When the result is not at hand
     * (a run must wait for a free instance, or for another request's run of the same input) the request is
     * suspended where it can be, and written later from a container thread.
     */
    void finish(Suspension suspension) throws IOException {
        response.flushWriter();
        switch (response.state()) {
            case PASSING:
                response.flushBuffer();
                return;
            case DROPPED:
                return;
            case NOT_MODIFIED:
                applicationAnsweredNotModified();
                return;
            default:
                break;
        }
        // Did the application answer 304 Not Modified? Then the 304 must carry the variant's ETag and Vary.
        if (response.getStatus() == HttpServletResponse.SC_NOT_MODIFIED) {
            applicationAnsweredNotModified();
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
        // Did the URL ask for image options that cannot be taken (malformed, unsigned)? The original, as it is.
        Optional<FilterImageOptions.Asked> refused = negotiation.refusal();
        if (refused.isPresent() && FilterImageOptions.SOURCES.contains(type)) {
            request.debug(() -> "image options refused: " + refused.get().detail());
            sendOriginal(body, rule, Outcome.untouched(true, refused.get().refusal()));
            return;
        }
        // Which variant does the client accept (avif, then webp, then the original)?
        Optional<Variant> chosen = negotiation.choose(rule.get(), type);
        if (chosen.isEmpty()) {
            request.debug(() -> "client accepts no variant of " + type);
            sendOriginal(body, rule, Outcome.untouched(true, "not-accepted"));
            return;
        }
        serve(chosen.get(), body, rule.get(), contentType, suspension, Set.of());
    }

    /**
     * The application answered 304: to the filter's own If-None-Match (the stored result is served), or to
     * conditions of its own (the 304 gets the variant's ETag and Vary).
     */
    private void applicationAnsweredNotModified() throws IOException {
        if (revalidation != null) {
            serveConfirmed(revalidation);
        } else {
            conditional.completeNotModified(response);
        }
    }

    /**
     * Whether the client has this variant already (the hidden If-None-Match, If-Modified-Since, against the ETag
     * the variant's 200 would carry): then the response is made that 304, with the variant's headers.
     */
    private boolean answeredClientsCondition(Variant variant, Rule rule) {
        String etag = response.getHeader("ETag");
        String variantEtag = etag == null ? null : ETags.withSuffix(etag, variant.name(), !variant.negotiated());
        if (!response.notModified(variantEtag)) {
            return false;
        }
        variantHeaders(variant, rule);
        response.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
        return true;
    }

    /**
     * The application answered 304 to the filter's If-None-Match: its original is still the one whose result was
     * taken from the store, which is served as the 200 the client asked for, with the application's headers of
     * its last 200 where the 304 lacks them. The body was never produced.
     */
    private void serveConfirmed(KnownOriginals.Revalidation confirmed) throws IOException {
        Variant variant = confirmed.variant();
        String etag = response.getHeader("ETag");
        if (etag != null && !ETags.weakMatch(etag, confirmed.etag())) {
            // A 304 naming another tag than the one asked about: forget the URL, its next request reads the body.
            services.runner().known().ifPresent(known -> known.forget(request.url()));
            request.debug(() -> "the application answered 304 with ETag " + etag + " to If-None-Match "
                    + confirmed.etag() + ": the URL is forgotten");
        }
        response.setStatus(HttpServletResponse.SC_OK);
        for (KnownOriginals.Header header : confirmed.headers()) {
            if (!response.containsHeader(header.name())) {
                response.addHeader(header.name(), header.value());
            }
        }
        response.setHeader("ETag", confirmed.etag());
        response.setContentType(confirmed.contentType());
        Rule rule = decision.ruleFor(confirmed.contentType()).orElseThrow();
        if (answeredClientsCondition(variant, rule)) {
            return;
        }
        request.debug(() -> "the application confirmed " + confirmed.etag() + " with a 304: the stored "
                + variant.name() + " result is still right");
        services.stats().count(Outcome.cacheHit(variant.name()));
        sendTransformed(confirmed.result().body(), confirmed.result().headers(), variant, rule);
    }

    /**
     * Serves {@code variant} of the body: a 304 when the client has it, else its stored or new result.
     *
     * @param animatedIn variants already found unable to carry this animation
     */
    private void serve(Variant variant, byte[] body, Rule rule, String contentType, Suspension suspension,
            Set<Variant> animatedIn) throws IOException {
        if (answeredClientsCondition(variant, rule)) {
            return;
        }
        String etag = response.getHeader("ETag");
        // Stored, being made by another request, or to be made now? (TransformRunner)
        // The validators belong to the resource with its query: /img?w=1 and /img?w=2 are two resources.
        CompletableFuture<TransformRunner.Answer> pending = services.runner().run(variant, body, contentType,
                request.url(), request.url(), etag, response.getHeader("Last-Modified"), suspension, selfRequests);
        if (pending.isDone()) {
            answer(pending.join(), body, rule, variant, contentType, suspension, animatedIn);
            return;
        }
        // Can we wait without holding this thread? Then the answer is written when it comes. Not when the programs
        // may self-request: those are answered on this thread while it waits.
        AsyncContext async = selfRequests == null ? suspension.suspend() : null;
        if (async != null) {
            request.debug(() -> "suspended while " + variant.name() + " runs");
            pending.whenComplete((answer, error) -> async.start(() -> {
                try {
                    answer(answer != null ? answer : new TransformRunner.Answer(TransformResult.failed("internal",
                            String.valueOf(error)), null, true), body, rule, variant, contentType, suspension,
                            animatedIn);
                } catch (IOException | RuntimeException e) {
                    LOG.log(Level.DEBUG, "kvmfilter: " + request.forLog() + ": writing the response failed: " + e);
                } finally {
                    try {
                        async.complete();
                    } catch (IllegalStateException e) {
                        // The container ended the request already (its async timeout, a broken connection).
                    }
                }
            }));
            return;
        }
        TransformRunner.Answer answer;
        try {
            if (selfRequests != null) {
                selfRequests.serveUntil(pending);
            }
            answer = pending.get(); // bounded: by maxWait, the programs' time limits and the waiting line
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            answer = new TransformRunner.Answer(TransformResult.failed("internal", "interrupted"), null, true);
        } catch (ExecutionException e) {
            answer = new TransformRunner.Answer(TransformResult.failed("internal", e.getCause().toString()), null,
                    true);
        }
        answer(answer, body, rule, variant, contentType, suspension, animatedIn);
    }

    /** Writes what the runner answered: the result, or the original with the reason it was not transformed. */
    private void answer(TransformRunner.Answer answer, byte[] body, Rule rule, Variant variant, String contentType,
            Suspension suspension, Set<Variant> animatedIn) throws IOException {
        TransformResult result = answer.result();
        boolean stored = answer.source() == ResultStore.Source.MEMORY || answer.source() == ResultStore.Source.DISK
                || answer.source() == ResultStore.Source.SHARED;
        if (TransformResult.ANIMATED.equals(result.failure())) {
            // Every frame or none: the next variant the client accepts may carry the animation (webp does, avif
            // does not); else the original keeps the animation a still image would lose. (Called back on a
            // resumed request, the next run is waited for on this thread: the request is asynchronous already.)
            Set<Variant> cannot = new HashSet<>(animatedIn);
            cannot.add(variant);
            Optional<Variant> next = negotiation.choose(rule, MediaTypes.baseType(contentType), cannot);
            if (next.isPresent()) {
                request.debug(() -> variant.name() + " cannot carry the animation: trying " + next.get().name());
                serve(next.get(), body, rule, contentType, suspension, Set.copyOf(cannot));
            } else {
                sendOriginal(body, Optional.of(rule), Outcome.untouched(true, TransformResult.ANIMATED));
            }
            return;
        }
        if (!result.ok()) {
            if (stored || !TransformRunner.TRANSIENT.contains(result.failure())) {
                services.runner().rememberFailure(variant, request.url(), response.getHeader("ETag"),
                        response.getHeader("Last-Modified"), body.length);
            } else if (!TransformRunner.UNAVAILABLE.equals(result.failure())) {
                mustRevalidate();
            }
            if (stored) {
                // A remembered failure: the original at once, counted, not logged again.
                sendOriginal(body, Optional.of(rule), Outcome.fallback(variant.name(), TransformRunner.REMEMBERED));
            } else if (!answer.ranHere()) {
                // The run this request waited for failed (or took too long): logged by the request that ran it.
                sendOriginal(body, Optional.of(rule), Outcome.fallback(variant.name(), result.failure()));
            } else {
                fallBack(body, Optional.of(rule), variant, result.failure(), result.detail());
            }
            return;
        }
        // Did the program answer another type than the variant's? A program cannot choose what the client is told
        // it gets (an image rule answering text/html would be stored XSS): that is a failure.
        Optional<String> wrongType = wrongType(result.contentType(), variant, contentType);
        if (wrongType.isPresent()) {
            fallBack(body, Optional.of(rule), variant, "wrong-type", wrongType.get());
            return;
        }
        // Did the program make the body larger, when it should shrink it?
        if (services.config().requireSmaller() && !variant.requested() && result.body().length > body.length) {
            fallBack(body, Optional.of(rule), variant, "larger", result.body().length + " bytes from " + body.length);
            return;
        }
        if (stored) {
            services.stats().count(Outcome.cacheHit(variant.name()));
        }
        // With a strong ETag, the next request may only ask the application whether this is still its original.
        String etag = response.getHeader("ETag");
        if (etag != null && answer.key() != null && result.reusable()) {
            services.runner().known().ifPresent(known -> known.served(variant, request.url(), etag, contentType,
                    answer.key(), response));
        }
        sendTransformed(result.body(), result.headers(), variant, rule);
        if (stored) {
            // Served from the store: no run of this request holds the original, and nothing reads it again.
            response.releaseBody();
        }
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
        services.stats().failure(outcome, detail, request);
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

    /**
     * The original is served for a moment's reason (the line was full, a wait ran out, the variant is paused): the
     * next request may well get the variant, so no cache may reuse this answer without asking again. Otherwise a
     * CDN would keep serving the original for the whole max-age the application gave it. The application's
     * directives stay ({@code private} must not be lost); {@code no-cache} is added.
     */
    private void mustRevalidate() {
        String given = response.getHeader("Cache-Control");
        String directives = given == null ? "" : given.toLowerCase(Locale.ROOT);
        if (directives.isBlank()) {
            response.setHeader("Cache-Control", "no-cache");
        } else if (!directives.contains("no-cache") && !directives.contains("no-store")) {
            response.setHeader("Cache-Control", given + ", no-cache");
        }
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
     * from guessing another type from the bytes. The program's own headers pass only when programHeaders lists
     * them: the first field of a name replaces the application's, the others are added.
     */
    private void sendTransformed(byte[] body, List<String> programHeaders, Variant variant, Rule rule)
            throws IOException {
        variantHeaders(variant, rule);
        Set<String> replaced = new HashSet<>();
        for (String field : ProgramHeaders.allowed(programHeaders, services.config().programHeaders())) {
            HeaderField header = HeaderField.parse(field);
            if (replaced.add(header.key())) {
                response.setHeader(header.name(), header.value());
            } else {
                response.addHeader(header.name(), header.value());
            }
        }
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
        if (rule.negotiable() || variant.requested()) {
            ConditionalRequest.addVaryAccept(response);
        }
        if (variant.requested()) {
            negotiation.optionHeaders(response);
        }
        response.setHeader("Accept-Ranges", "none");
    }

    private void diagnostic(Outcome outcome) {
        services.config().diagnosticHeader().ifPresent(name -> response.setHeader(name, outcome.text()));
    }
}
