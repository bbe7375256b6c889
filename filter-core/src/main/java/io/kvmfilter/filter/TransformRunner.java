package io.kvmfilter.filter;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.kvmfilter.kvm.CacheHint;
import io.kvmfilter.kvm.SelfRequests;
import io.kvmfilter.store.BodyDigests;
import io.kvmfilter.store.ResultKey;
import io.kvmfilter.store.ResultStore;
import io.kvmfilter.store.StoredResult;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.ToIntFunction;

/**
 * Gets a variant's result for one request, the cheapest way: from the result store (memory, disk, shared), by
 * waiting for another request's run of the same input, or by running the programs — through the variant's
 * {@link WaitingLine} and {@link CircuitBreaker}. Never throws for a failure: the answer says what went wrong.
 */
final class TransformRunner implements AutoCloseable {

    /** The reason given when the sandbox cannot run on this host: every response is the original, for good. */
    static final String UNAVAILABLE = "unavailable";

    /**
     * Failures that say nothing about the input: not remembered and not held against the program. A wait for
     * another request's run that ran out is one: that run may well succeed.
     */
    static final Set<String> TRANSIENT = Set.of(WaitingLine.BUSY, WaitingLine.QUEUE_TIMEOUT,
            WaitingLine.CLIENT_GONE, "paused", UNAVAILABLE, "internal", "wait-timeout", "background");
    /** The reason given to requests whose variant is paused. */
    static final String PAUSED = "paused";
    /** The reason given to a request that waited for another request's run longer than maxWait. */
    static final String WAIT_TIMEOUT = "wait-timeout";
    /** The reason given to the request that started a run which took longer than runWait: it goes on. */
    static final String BACKGROUND = "background";
    /** The reason counted for a failure answered from memory without running. */
    static final String REMEMBERED = "remembered";

    /**
     * What a request gets.
     *
     * @param result   the body or the failure
     * @param source   where it came from; null when there is no store
     * @param ranHere  true when this request started the run (its failure is logged; waiters' are only counted)
     * @param key      the store's key of the request, or null when there is no store
     */
    record Answer(TransformResult result, ResultStore.Source source, boolean ranHere, ResultKey key) {
        Answer(TransformResult result, ResultStore.Source source, boolean ranHere) {
            this(result, source, ranHere, null);
        }
    }

    private final BodyTransform transform;
    private final ResultStore store;
    private final ResultKeys keys;
    private final OverloadLimits limits;
    private final ToIntFunction<Variant> permits;
    private final ExecutorService executor;
    /** Ends waits that run out; the filter's own thread, stopped with it (no JDK-wide timer thread is used). */
    private final ScheduledExecutorService timer;
    private final Map<String, WaitingLine> lines = new ConcurrentHashMap<>();
    private final Map<String, CircuitBreaker> breakers = new ConcurrentHashMap<>();
    /**
     * Variant, URL and validator of originals whose conversion failed recently: their next responses stream
     * through from the first byte, without being buffered or looked up (serving an original is never wrong).
     */
    private final Cache<String, Boolean> failedOriginals;
    /** Originals with a strong ETag whose stored result the application may confirm with a 304; null: no store. */
    private final KnownOriginals known;

    /** Originals remembered as failed, at most: about 300 bytes each. */
    static final int MAX_FAILED_ORIGINALS = 10_000;

    /**
     * @param store   the result store, or null to run every request
     * @param permits how many runs of a variant may go on at once (its programs' instances)
     */
    TransformRunner(BodyTransform transform, ResultStore store, ResultKeys keys, OverloadLimits limits,
            ToIntFunction<Variant> permits, String name, Duration failureTime) {
        this.transform = transform;
        this.store = store;
        this.keys = keys;
        this.limits = limits;
        this.permits = permits;
        AtomicInteger threads = new AtomicInteger();
        // Runs are bounded by the lines' permits, so the pool needs no bound of its own.
        this.executor = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "kvmfilter-" + name + "-run-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        this.failedOriginals = store == null || failureTime.isZero() ? null : Caffeine.newBuilder()
                .maximumSize(MAX_FAILED_ORIGINALS).expireAfterWrite(failureTime).executor(Runnable::run).build();
        this.known = store == null ? null : new KnownOriginals(store);
        this.timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "kvmfilter-" + name + "-timer");
            thread.setDaemon(true);
            return thread;
        });
    }

    boolean storing() {
        return store != null;
    }

    ResultStore store() {
        return store;
    }

    /** The originals a request may revalidate with the application instead of having it produce them. */
    Optional<KnownOriginals> known() {
        return Optional.ofNullable(known);
    }

    /**
     * The result for this request. The future is already complete for a stored result; otherwise it completes on
     * a run thread, or when the wait limit runs out.
     *
     * @param abandoned true once the client is gone
     * @param selfRequests answers the programs' self-requests when this request runs them; null: refused
     */
    CompletableFuture<Answer> run(Variant variant, byte[] body, String contentType, String url, String path,
            String etag, String lastModified, BooleanSupplier abandoned, SelfRequests selfRequests) {
        if (store == null) {
            return runPrograms(variant, body, contentType, url, abandoned, selfRequests)
                    .thenApply(result -> new Answer(result, null, true));
        }
        ResultKey key = keys.key(variant, contentType, body, url, path, etag, lastModified);
        AtomicBoolean ranHere = new AtomicBoolean();
        CompletableFuture<ResultStore.Found> found = store.get(key, () -> {
            ranHere.set(true);
            return runPrograms(variant, body, contentType, url, abandoned, selfRequests)
                    .thenApply(TransformRunner::stored);
        });
        if (!found.isDone() && !ranHere.get()) {
            // Waiting for another request's run: at most maxWait, then the original.
            found = bounded(found, limits.maxWait());
        } else if (!found.isDone() && limits.runWait() != null) {
            // This request's own run: at most runWait; the run goes on and stores its result for the next ones.
            found = bounded(found, limits.runWait());
        }
        return found.handle((f, error) -> {
            if (error != null) {
                Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                        ? error.getCause() : error;
                if (cause instanceof TimeoutException && ranHere.get()) {
                    // Counted, not logged as a failure: nothing failed, and the next request gets the result.
                    return new Answer(TransformResult.failed(BACKGROUND, "the conversion took longer than runWait "
                            + limits.runWait().toMillis() + " ms; it goes on, and the next requests get its result"),
                            null, false);
                }
                if (cause instanceof TimeoutException) {
                    return new Answer(TransformResult.failed(WAIT_TIMEOUT, "another request's run of the same"
                            + " input took longer than maxWait " + limits.maxWait().toMillis() + " ms"),
                            ResultStore.Source.COALESCED, false);
                }
                return new Answer(TransformResult.failed("internal", cause.toString()), null, ranHere.get());
            }
            return new Answer(result(f.result()), f.source(), ranHere.get(), key);
        });
    }

    /**
     * Remembers that this original (by URL and validator) failed for the variant; without a validator nothing is
     * remembered, as the next response may be another body.
     */
    void rememberFailure(Variant variant, String url, String etag, String lastModified, long length) {
        String key = failedOriginalKey(variant, url, etag, lastModified, length);
        if (key != null) {
            failedOriginals.put(key, Boolean.TRUE);
        }
    }

    /** Did this original fail for the variant within rememberFailures? Decided from the headers alone. */
    boolean failureRemembered(Variant variant, String url, String etag, String lastModified, long length) {
        String key = failedOriginalKey(variant, url, etag, lastModified, length);
        return key != null && failedOriginals.getIfPresent(key) != null;
    }

    private String failedOriginalKey(Variant variant, String url, String etag, String lastModified, long length) {
        if (failedOriginals == null) {
            return null;
        }
        BodyDigests.Validator validator = BodyDigests.Validator.of(etag, lastModified, length);
        return validator == null ? null : variant.name() + "\n" + url + "\n" + validator.value();
    }

    /** The future, failed with a TimeoutException when it takes longer than `limit` (the run goes on). */
    private CompletableFuture<ResultStore.Found> bounded(CompletableFuture<ResultStore.Found> waiting,
            Duration limit) {
        CompletableFuture<ResultStore.Found> bounded = new CompletableFuture<>();
        ScheduledFuture<?> timeout;
        try {
            timeout = timer.schedule(() -> bounded.completeExceptionally(new TimeoutException()),
                    limit.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            return waiting; // stopping: the run ends soon anyway
        }
        waiting.whenComplete((found, error) -> {
            timeout.cancel(false);
            if (error != null) {
                bounded.completeExceptionally(error);
            } else {
                bounded.complete(found);
            }
        });
        return bounded;
    }

    private CompletableFuture<TransformResult> runPrograms(Variant variant, byte[] body, String contentType,
            String url, BooleanSupplier abandoned, SelfRequests selfRequests) {
        CircuitBreaker breaker = breakers.computeIfAbsent(variant.name(),
                v -> new CircuitBreaker(limits.pauseAfterFailures(), limits.pauseTime(), System::nanoTime));
        if (!breaker.allow()) {
            return CompletableFuture.completedFuture(TransformResult.failed(PAUSED, "variant " + variant.name()
                    + " is paused after " + limits.pauseAfterFailures() + " failures in a row"));
        }
        WaitingLine line = lines.computeIfAbsent(variant.name(), v -> new WaitingLine(
                Math.max(1, permits.applyAsInt(variant)), limits.maxWaiters(), limits.maxWait(), executor, timer));
        return line.submit(() -> transform.apply(variant, body, contentType, url, selfRequests), abandoned)
                .whenComplete((result, error) -> {
                    if (result != null && (result.ok() || TransformResult.ANIMATED.equals(result.failure()))) {
                        // An animation the variant cannot carry is a right answer, not a reason to pause it.
                        breaker.succeeded();
                    } else if (result == null || TRANSIENT.contains(result.failure())) {
                        breaker.abandoned();
                    } else {
                        breaker.failed();
                    }
                });
    }

    private static StoredResult stored(TransformResult result) {
        if (result.ok()) {
            if (!result.reusable()) {
                return StoredResult.unstorable(result.body(), result.contentType()).withHeaders(result.headers());
            }
            // A program's ttl (sys_set_cacheable) bounds how long every tier serves its answer.
            Duration ttl = result.cacheHint().map(CacheHint::ttl).filter(t -> !t.isZero()).orElse(null);
            return (ttl == null ? StoredResult.success(result.body(), result.contentType())
                    : StoredResult.success(result.body(), result.contentType(), ttl)).withHeaders(result.headers());
        }
        // The detail travels with the reason, so a request answered from memory can still say what was wrong.
        String reason = result.failure() + (result.detail() == null ? "" : "\n" + result.detail());
        return TRANSIENT.contains(result.failure()) ? StoredResult.transientFailure(reason)
                : StoredResult.failure(reason);
    }

    private static TransformResult result(StoredResult stored) {
        if (stored.ok()) {
            return TransformResult.applied(stored.body(), stored.contentType(), Optional.empty(), stored.headers());
        }
        String text = stored.failure();
        int newline = text.indexOf('\n');
        return newline < 0 ? TransformResult.failed(text, null)
                : TransformResult.failed(text.substring(0, newline), text.substring(newline + 1));
    }

    /** How often each variant was paused, for the counters. */
    Map<String, Long> pauses() {
        Map<String, Long> out = new java.util.TreeMap<>();
        breakers.forEach((variant, breaker) -> out.put(variant, breaker.pauses()));
        return out;
    }

    /** Runs, waiters and refusals of each variant's waiting line, for the statistics. */
    Map<String, Map<String, Long>> lines() {
        Map<String, Map<String, Long>> out = new java.util.TreeMap<>();
        lines.forEach((variant, line) -> {
            Map<String, Long> values = new java.util.LinkedHashMap<>();
            values.put("running", (long) line.running());
            values.put("waiting", (long) line.waiting());
            values.put("busy", line.rejected());
            values.put("queue_timeouts", line.expired());
            values.put("client_gone", line.dropped());
            values.put("pauses", breakers.containsKey(variant) ? breakers.get(variant).pauses() : 0L);
            out.put(variant, values);
        });
        return out;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        executor.shutdownNow();
    }
}
