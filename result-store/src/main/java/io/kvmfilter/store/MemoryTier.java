package io.kvmfilter.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import java.time.Duration;
import java.util.Optional;

/**
 * Results in the heap, on Caffeine: W-TinyLFU admission (a one-off image does not push out the popular ones), the
 * total weighed in bytes, successes kept for the store's time to live (or until evicted), failures for the
 * failure time. Keyed by the whole {@link ResultKey}, so equal keys are the only match.
 */
final class MemoryTier {

    private final Cache<ResultKey, StoredResult> cache;
    private final TierCounters counters = new TierCounters();
    private final boolean remembersFailures;

    /**
     * @param maxBytes    the most bytes to hold (above 0)
     * @param timeToLive  how long a success is kept; null for as long as it fits
     * @param failureTime how long a failure is remembered; zero for never
     */
    MemoryTier(long maxBytes, Duration timeToLive, Duration failureTime) {
        long successNanos = timeToLive == null ? Long.MAX_VALUE : timeToLive.toNanos();
        long failureNanos = failureTime.toNanos();
        remembersFailures = failureNanos > 0;
        cache = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((ResultKey key, StoredResult result) -> result.weight(key))
                .expireAfter(new Expiry<ResultKey, StoredResult>() {
                    @Override
                    public long expireAfterCreate(ResultKey key, StoredResult result, long now) {
                        if (!result.ok()) {
                            return failureNanos;
                        }
                        return result.lifetime() == null ? successNanos
                                : Math.min(successNanos, result.lifetime().toNanos());
                    }

                    @Override
                    public long expireAfterUpdate(ResultKey key, StoredResult result, long now, long remaining) {
                        return expireAfterCreate(key, result, now);
                    }

                    @Override
                    public long expireAfterRead(ResultKey key, StoredResult result, long now, long remaining) {
                        return remaining;
                    }
                })
                .removalListener((ResultKey key, StoredResult result, com.github.benmanes.caffeine.cache.RemovalCause
                        cause) -> {
                    if (cause.wasEvicted()) {
                        counters.evictions.increment();
                    }
                })
                // Maintenance (eviction, the listener) runs on the writing thread: no pool threads of ours to stop.
                .executor(Runnable::run)
                .build();
    }

    /** The stored result, counted as a hit, a negative hit or a miss. */
    Optional<StoredResult> get(ResultKey key) {
        StoredResult result = cache.getIfPresent(key);
        if (result == null) {
            counters.misses.increment();
            return Optional.empty();
        }
        (result.ok() ? counters.hits : counters.negativeHits).increment();
        return Optional.of(result);
    }

    /** The stored success, counted as a hit; a failure or nothing is not counted. */
    Optional<StoredResult> successIfPresent(ResultKey key) {
        StoredResult result = cache.getIfPresent(key);
        if (result == null || !result.ok()) {
            return Optional.empty();
        }
        counters.hits.increment();
        return Optional.of(result);
    }

    /** Keeps a storable success or failure (the latter only when failures are remembered at all). */
    void put(ResultKey key, StoredResult result) {
        if (!result.storable() || (!result.ok() && !remembersFailures)) {
            return;
        }
        cache.put(key, result);
        counters.stores.increment();
    }

    void invalidateAll() {
        cache.invalidateAll();
    }

    TierCounters counters() {
        return counters;
    }

    TierStatistics statistics() {
        cache.cleanUp();
        long bytes = cache.policy().eviction().map(e -> e.weightedSize().orElse(-1L)).orElse(-1L);
        return counters.snapshot("memory", true, cache.estimatedSize(), bytes);
    }
}
