package io.kvmfilter.filter;

import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts what the filter did (applied, fallback, skipped, by variant and reason) and logs failures at most once
 * per {@link #LOG_INTERVAL_NANOS} per variant and reason, with the number of failures not logged in between.
 */
final class TransformStats {

    /** Failures of one kind are logged at most once a minute: a broken program must not flood the log. */
    static final long LOG_INTERVAL_NANOS = 60_000_000_000L;

    private static final System.Logger LOG = System.getLogger(KvmFilter.class.getName());

    private final String consequence;
    /** The filter's name for {@link FilterListeners}, once it has started; null: not reported. */
    private volatile String published;
    private final Map<String, LongAdder> counters = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> lastLogged = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> suppressed = new ConcurrentHashMap<>();

    /** The filter's: a failure means the original is served. */
    TransformStats() {
        this("serving the original");
    }

    /** @param consequence what the log line says happens after a failure, e.g. "serving the original" */
    TransformStats(String consequence) {
        this.consequence = consequence;
    }

    /** From now on every outcome counted is also reported to the {@link FilterListeners} under this name. */
    void publishAs(String filterName) {
        published = filterName;
    }

    /** Adds one to the counter of this outcome, e.g. {@code applied=webp} or {@code fallback=webp:timeout}. */
    void count(Outcome outcome) {
        counters.computeIfAbsent(outcome.text(), k -> new LongAdder()).increment();
        String name = published;
        if (name != null && FilterListeners.any()) {
            FilterListeners.finished(new FilterOutcome(name, outcome.kind().word(), outcome.variant(),
                    outcome.reason()));
        }
    }

    /**
     * Counts and logs a failure; the log line is skipped when the same failure was logged less than a minute ago.
     * The detail (often a program's own words) and the URI are escaped ({@link FailureLog}): neither can forge log lines.
     *
     * @param fallback an outcome of kind {@link Outcome.Kind#FALLBACK}
     * @param request  the request, named in the log line
     */
    void failure(Outcome fallback, String detail, RequestLine request) {
        if (fallback.kind() != Outcome.Kind.FALLBACK) {
            throw new IllegalArgumentException("not a failure: " + fallback);
        }
        String variant = fallback.variant();
        String reason = fallback.reason();
        String key = variant + ":" + reason;
        count(fallback);
        long now = System.nanoTime();
        AtomicLong last = lastLogged.computeIfAbsent(key, k -> new AtomicLong(now - LOG_INTERVAL_NANOS));
        long previous = last.get();
        if (now - previous >= LOG_INTERVAL_NANOS && last.compareAndSet(previous, now)) {
            LongAdder skipped = suppressed.get(key);
            long skippedCount = skipped == null ? 0 : skipped.sumThenReset();
            LOG.log(Level.WARNING, "{0}", new FailureLog(fallback, request, detail, consequence, skippedCount));
        } else {
            suppressed.computeIfAbsent(key, k -> new LongAdder()).increment();
        }
    }

    /** A snapshot of all counters, sorted by name. */
    Map<String, Long> snapshot() {
        Map<String, Long> copy = new TreeMap<>();
        counters.forEach((name, adder) -> copy.put(name, adder.sum()));
        return copy;
    }
}
