package io.kvmfilter.micrometer;

/**
 * What a tier of the result cache (in memory, on disk, shared across nodes) reports, for
 * {@link KvmMetrics#addCacheTier}. Counters only grow; every method is called when a registry is read (a
 * Prometheus scrape), from any thread, so each must be cheap and thread-safe.
 */
public interface CacheTierStats {

    /** @return lookups that found a result */
    long hits();

    /** @return lookups that found nothing (and so ran the program, or waited for a run in progress) */
    long misses();

    /** @return lookups that waited for another request's run of the same variant instead of running their own */
    long coalescedWaits();

    /** @return lookups answered from a remembered failure (the original served without running the program) */
    long negativeHits();

    /** @return entries removed to make room or because they expired */
    long evictions();

    /** @return entries held now */
    long entries();

    /** @return bytes held now (the weight the tier is bounded by) */
    long sizeBytes();
}
