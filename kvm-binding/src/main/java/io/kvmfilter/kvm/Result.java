package io.kvmfilter.kvm;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * The answer of a program or chain. Immutable. {@link #ok()} is true when every step answered with a
 * status below its error threshold; otherwise {@link #failure()} says which step failed and why, and
 * status, content type and body are whatever that step produced (often nothing).
 */
public final class Result {
    private final int status;
    private final String contentType;
    private final List<String> headers;
    private final byte[] body;
    private final Failure failure;
    private final boolean onErrorUsed;
    private final long elapsedNanos;
    private final String log;
    private final CacheHint cacheHint;
    private long streamedBytes;
    private boolean streamed;
    private boolean streamStopped;

    Result(int status, String contentType, List<String> headers, byte[] body, Failure failure,
            boolean onErrorUsed, long elapsedNanos, String log, CacheHint cacheHint) {
        this.status = status;
        this.contentType = contentType;
        this.headers = List.copyOf(headers);
        this.body = body;
        this.failure = failure;
        this.onErrorUsed = onErrorUsed;
        this.elapsedNanos = elapsedNanos;
        this.log = log;
        this.cacheHint = cacheHint;
    }

    static final byte[] NO_BODY = new byte[0];

    /** Records what went to a {@link ResponseStream} (set once, by the runner, before the Result is handed out). */
    Result streamed(boolean begun, long bytes, boolean stopped) {
        this.streamed = begun;
        this.streamedBytes = bytes;
        this.streamStopped = stopped;
        return this;
    }

    static Result failed(Failure failure, long startNanos) {
        return new Result(0, "", List.of(), NO_BODY, failure, false, System.nanoTime() - startNanos, "", null);
    }

    /** @return true when the call produced a usable answer */
    public boolean ok() {
        return failure == null;
    }

    /** @return the HTTP status the (last run) program answered; 0 when it did not answer */
    public int status() {
        return status;
    }

    /** @return the content type of the answer; "" when none */
    public String contentType() {
        return contentType;
    }

    /**
     * @return the headers the last step set ("Name: value" each); headers of earlier chain steps only
     *     when the chain was run with mergeHeaders
     */
    public List<String> headers() {
        return headers;
    }

    /** @return the body; do not modify the returned array (it is not copied) */
    public byte[] body() {
        return body;
    }

    /** @return the body decoded as UTF-8 */
    public String bodyAsString() {
        return new String(body, StandardCharsets.UTF_8);
    }

    /** @return why the call failed, or empty when {@link #ok()} */
    public Optional<Failure> failure() {
        return Optional.ofNullable(failure);
    }

    /**
     * @return true when the answer came from the program's on_error handler after a failure: then
     *     {@link #ok()} is false, {@link #failure()} gives the original failure, and status, content type and body
     *     are the on_error answer (which a caller may choose to serve, as the VMOD does)
     */
    public boolean onErrorUsed() {
        return onErrorUsed;
    }

    /**
     * @return true when the answer went to the {@link ResponseStream} of
     *     {@link Kvm#run(String, Request, ResponseStream)} (its head was given): then {@link #body()} is empty,
     *     and a failure came after the head, too late to answer otherwise
     */
    public boolean streamed() {
        return streamed;
    }

    /** @return body bytes given to the {@link ResponseStream} */
    public long streamedBytes() {
        return streamedBytes;
    }

    /** @return true when the {@link ResponseStream} stopped the stream by throwing (the client had gone) */
    public boolean streamStopped() {
        return streamStopped;
    }

    /** @return wall time of the whole call in the binding, waiting included */
    public long elapsedNanos() {
        return elapsedNanos;
    }

    /** @return what the programs wrote (stdout, stderr, sys_log) during this call, bounded by the core */
    public String log() {
        return log;
    }

    /**
     * @return what the programs said about caching the answer with {@code sys_set_cacheable}; empty when no step
     *     called it. In a chain the last step that called it counts, except that a step that called the answer
     *     uncacheable makes the whole answer uncacheable.
     */
    public Optional<CacheHint> cacheHint() {
        return Optional.ofNullable(cacheHint);
    }

    @Override
    public String toString() {
        return "Result[" + (ok() ? "ok" : failure.toString()) + ", status " + status + ", " + contentType
                + ", " + (streamed ? streamedBytes + " bytes streamed" + (streamStopped ? " (stopped)" : "")
                        : body.length + " bytes") + (onErrorUsed ? ", on_error" : "") + "]";
    }
}
