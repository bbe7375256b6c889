package io.kvmfilter.filter;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One request passing through the filter, from {@code doFilter} to the written response: its wrappers, what the
 * request said (Accept, If-None-Match, HEAD), and the parts that act on it — the {@link TransformDecision}, the
 * {@link ConditionalRequest} and the {@link ResponseFinisher}. {@link #finish()} runs once, when the application
 * is done (end of the filter chain, or {@code AsyncContext.complete()}).
 *
 * <p>(Not to be confused with the C core's {@code exchange}, one run of a guest program.)
 */
final class FilterCall implements TransformResponse.Callbacks, TransformAsyncContext.Owner {

    /**
     * Prefix of the request attribute holding the call, so an ASYNC dispatch of the same request finds it again;
     * each filter instance appends its own number, so two instances on one request both work.
     */
    static final String ATTRIBUTE_PREFIX = FilterCall.class.getName() + "#";

    private static final System.Logger LOG = System.getLogger(KvmFilter.class.getName());
    /**
     * The container's time limit of a request suspended while its result is made. The wait limit, the waiting
     * line and the programs' own time limits end every wait long before; this only covers a bug of ours.
     */
    static final long SUSPENDED_TIMEOUT_MILLIS = 5 * 60_000L;

    private final HttpServletRequest originalRequest;
    private final HttpServletResponse originalResponse;
    private final AtomicBoolean clientGone = new AtomicBoolean();
    /** Set at the first byte when the response streams through because its conversion failed recently. */
    private Variant rememberedFailure;

    private final TransformDecision decision;
    private final RequestLine line;
    private final TransformResponse response;
    private final TransformRequest request;
    private final ResponseFinisher finisher;
    private boolean finished;
    /** The URL's image options, when they were refused: the original is served. */
    private final FilterImageOptions.Asked refusal;
    private volatile String asyncFailure;

    /**
     * Wraps the request and response and registers this call under {@code attributeName}.
     *
     * @param path the path inside the web application, whose extension predicts the media type
     */
    FilterCall(FilterServices services, HttpServletRequest request, HttpServletResponse response, String path,
            String attributeName) {
        KvmFilterConfig config = services.config();
        this.originalRequest = request;
        this.originalResponse = response;
        this.decision = new TransformDecision(config);
        this.line = RequestLine.of(request);
        boolean head = "HEAD".equals(request.getMethod());
        FilterImageOptions imageOptions = config.imageOptions().orElse(null);
        FilterImageOptions.Asked asked = imageOptions == null ? null
                : imageOptions.asked(path, request.getRequestURI(), request.getQueryString(), request::getHeader)
                        .orElse(null);
        Negotiation negotiation = Negotiation.of(joined(request, "Accept"), config.variantsForWildcards(),
                imageOptions, asked);
        this.refusal = negotiation.refusal().orElse(null);
        String guessed = request.getServletContext() == null ? null : request.getServletContext().getMimeType(path);
        String predictedType = MediaTypes.baseType(guessed);
        // Unless the path's extension says the response cannot be transformed (a video, say), HEAD runs as GET;
        // for such paths it would only make the application send bytes nobody uses.
        boolean mayTransform = predictedType == null || decision.ruleFor(predictedType).isPresent();
        // Range is hidden only when a variant may be served: the application must produce the whole body. When
        // the path's type and Accept already say the original will be served, the application answers the Range.
        boolean hideRange = mayTransform && (predictedType == null
                || decision.servedVariant(predictedType, negotiation).isPresent());
        // A hidden Range of a GET is answered by the filter if the response ends up untransformed after all.
        RangeRequest range = hideRange && "GET".equals(request.getMethod())
                ? RangeRequest.of(request.getHeader("Range"), request.getHeader("If-Range")) : null;
        // Conditional GETs and HEADs are answered by the filter: only it knows the ETag of the variant served.
        boolean answerConditions = mayTransform && ("GET".equals(request.getMethod())
                || "HEAD".equals(request.getMethod()));
        ConditionalRequest conditional = new ConditionalRequest(decision, negotiation, predictedType,
                answerConditions ? joined(request, "If-None-Match") : null,
                answerConditions ? HttpDates.parse(request.getHeader("If-Modified-Since")) : -1);
        // The variant's result at hand for the original's last strong ETag? Then the application is only asked
        // whether that is still its original, and its 304 is answered with the stored result (KnownOriginals).
        boolean producesBody = "GET".equals(request.getMethod()) || head && config.headAsGet();
        KnownOriginals.Revalidation revalidation = answerConditions && producesBody
                ? services.runner().known().flatMap(known -> known.revalidation(line.url(),
                        type -> decision.servedVariant(MediaTypes.baseType(type), negotiation))).orElse(null)
                : null;
        this.response = new TransformResponse(response, this, config.maxBodySize(), range, conditional);
        this.request = new TransformRequest(request, this.response, this, config.headAsGet() && mayTransform,
                hideRange, answerConditions, revalidation == null ? null : revalidation.etag());
        SelfRequestRelay selfRequests = config.selfRequests() && request.getServletContext() != null
                ? new SelfRequestRelay(new SelfRequestDispatcher(request.getServletContext(), request, response,
                        FilterServices.SELF_REQUEST_DEPTH, services.selfRequestsRunning()))
                : null;
        this.finisher = new ResponseFinisher(services, decision, conditional, negotiation, this.response, line, head,
                revalidation, selfRequests);
        request.setAttribute(attributeName, this);
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

    // --- the response wrapper's questions -----------------------------------------------------------------------

    @Override
    public String reasonToPassAtFirstOutput() {
        Optional<TransformDecision.Skip> skip = decision.atFirstOutput(new TransformDecision.ResponseHead(
                response.getStatus(), response.getHeader("Content-Encoding"), response.getContentType(),
                response.declaredContentLength()));
        if (skip.isEmpty() && refusal != null && FilterImageOptions.SOURCES.contains(MediaTypes.baseType(
                response.getContentType()))) {
            line.debug(() -> "image options refused: " + refusal.detail());
            return refusal.refusal(); // the original, not even buffered
        }
        if (skip.isEmpty()) {
            // Did converting this very original fail a moment ago? Then it is not even buffered.
            Optional<Variant> failed = finisher.rememberedFailureAtFirstOutput();
            if (failed.isPresent()) {
                rememberedFailure = failed.get();
                line.debug(() -> "converting this original to " + failed.get().name() + " failed recently");
                return TransformRunner.REMEMBERED;
            }
            return null;
        }
        line.debug(skip.get().explanation());
        return skip.get().reason();
    }

    @Override
    public void passingThrough(String reason) {
        line.debug(() -> "streaming the original untransformed: " + reason);
        if (rememberedFailure != null) {
            finisher.passingThroughRemembered(rememberedFailure);
        } else {
            finisher.passingThrough(reason);
        }
    }

    // --- finishing ----------------------------------------------------------------------------------------------

    /**
     * Transforms (or not) and writes the response; runs once, whoever calls it first. Called from the
     * application's {@code AsyncContext.complete()}: the request cannot be suspended again, a wait holds the thread.
     */
    @Override
    public synchronized void finish() throws IOException {
        if (finished) {
            return;
        }
        finished = true;
        finisher.finish(suspension(false));
    }

    /** As {@link #finish()}, at the end of the filter chain: a wait suspends the request where it can. */
    synchronized void finishAtChainEnd() throws IOException {
        if (finished) {
            return;
        }
        finished = true;
        finisher.finish(suspension(true));
    }

    private ResponseFinisher.Suspension suspension(boolean mayStartAsync) {
        return new ResponseFinisher.Suspension() {
            @Override
            public AsyncContext suspend() {
                if (!mayStartAsync || !originalRequest.isAsyncSupported() || originalRequest.isAsyncStarted()) {
                    return null;
                }
                AsyncContext async;
                try {
                    async = originalRequest.startAsync(originalRequest, originalResponse);
                } catch (IllegalStateException e) {
                    return null;
                }
                async.setTimeout(SUSPENDED_TIMEOUT_MILLIS);
                async.addListener(new AsyncListener() {
                    @Override
                    public void onComplete(AsyncEvent event) {
                    }

                    @Override
                    public void onTimeout(AsyncEvent event) {
                        clientGone.set(true);
                        LOG.log(Level.WARNING, "kvmfilter: {0} was suspended longer than {1} ms", line.forLog(),
                                SUSPENDED_TIMEOUT_MILLIS);
                    }

                    @Override
                    public void onError(AsyncEvent event) {
                        // The container saw the connection fail: queued work for this request is dropped.
                        clientGone.set(true);
                    }

                    @Override
                    public void onStartAsync(AsyncEvent event) {
                    }
                });
                return async;
            }

            @Override
            public boolean getAsBoolean() {
                return clientGone.get();
            }
        };
    }

    /** The application threw: forget the body, the container writes the error. */
    synchronized void abandon() {
        finished = true;
        if (response.state() != TransformResponse.State.PASSING) {
            response.drop();
        }
    }

    // --- asynchronous requests ----------------------------------------------------------------------------------

    @Override
    public void asyncFailed(String what) {
        asyncFailure = what;
    }

    @Override
    public void asyncCompleted() {
        synchronized (this) {
            if (finished || asyncFailure != null) {
                return;
            }
        }
        LOG.log(Level.WARNING, "kvmfilter: asynchronous request {0} completed without passing through the filter"
                + " again: map the filter for the ASYNC dispatcher type (and asyncSupported=true)", line.forLog());
        try {
            finish();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "kvmfilter: could not write the response of " + line.forLog(), e);
        }
    }

    @Override
    public void writeFailed(IOException e) {
        line.debug(() -> "writing the response failed: " + e);
    }
}
