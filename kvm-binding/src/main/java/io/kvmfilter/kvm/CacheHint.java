package io.kvmfilter.kvm;

import java.time.Duration;
import java.util.Objects;

/**
 * What a program said about caching its answer, with {@code sys_set_cacheable(cached, ttl_ms, grace_ms, keep_ms)}
 * (the TinyKVM VMOD's hint). The core reports it; kvm-binding passes it on; what to do with it is the caller's
 * choice (the filter does not store an answer its program called uncacheable).
 *
 * @param cacheable whether the answer may be reused for the same input
 * @param ttl       how long it stays fresh; zero when not given
 * @param grace     how long a stale answer may still be served while a new one is made; zero when not given
 * @param keep      how long a stale answer is kept for revalidation; zero when not given
 */
public record CacheHint(boolean cacheable, Duration ttl, Duration grace, Duration keep) {

    /** Checks the components: none null, none negative. */
    public CacheHint {
        Objects.requireNonNull(ttl, "ttl");
        Objects.requireNonNull(grace, "grace");
        Objects.requireNonNull(keep, "keep");
        if (ttl.isNegative() || grace.isNegative() || keep.isNegative()) {
            throw new IllegalArgumentException("cache hint durations cannot be negative: ttl " + ttl + ", grace "
                    + grace + ", keep " + keep);
        }
    }

    /** The hint of the native fields; the core guarantees nothing about their range, so negatives become zero. */
    static CacheHint ofNative(long cacheable, long ttlMs, long graceMs, long keepMs) {
        return new CacheHint(cacheable == 1, millis(ttlMs), millis(graceMs), millis(keepMs));
    }

    private static Duration millis(long ms) {
        return Duration.ofMillis(Math.max(0, ms));
    }

    /**
     * The hint of a chain whose earlier steps said {@code this} and a later step said {@code later}: the later
     * step's, except that an uncacheable step anywhere makes the whole answer uncacheable.
     */
    CacheHint then(CacheHint later) {
        return cacheable ? later : this;
    }
}
