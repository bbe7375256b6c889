package io.kvmfilter.store;

import java.beans.ConstructorProperties;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A snapshot of one tier's counters (memory, disk or shared). Counters count since the store started; entries and
 * bytes are what the tier holds now (-1 when the tier cannot tell, as a shared cache whose size is the cluster's).
 * The getters make it an open type for JMX.
 */
public final class TierStatistics {

    private final String tier;
    private final boolean available;
    private final long hits;
    private final long misses;
    private final long coalesced;
    private final long negativeHits;
    private final long stores;
    private final long evictions;
    private final long damaged;
    private final long errors;
    private final long entries;
    private final long bytes;

    /**
     * @param tier         memory, disk or shared
     * @param available    false while the tier cannot be used (a shared cache that does not answer)
     * @param hits         lookups answered with a stored result
     * @param misses       lookups that found nothing
     * @param coalesced    requests that waited for another request's transform instead of running their own
     * @param negativeHits lookups answered with a remembered failure
     * @param stores       results written to the tier
     * @param evictions    entries removed to stay within the size limit, or because they expired
     * @param damaged      entries found damaged (bad checksum, truncated) and dropped
     * @param errors       reads or writes that failed (I/O errors, a shared cache that did not answer in time)
     * @param entries      entries held now, or -1
     * @param bytes        bytes held now, or -1
     */
    @ConstructorProperties({"tier", "available", "hits", "misses", "coalesced", "negativeHits", "stores",
            "evictions", "damaged", "errors", "entries", "bytes"})
    public TierStatistics(String tier, boolean available, long hits, long misses, long coalesced, long negativeHits,
            long stores, long evictions, long damaged, long errors, long entries, long bytes) {
        this.tier = tier;
        this.available = available;
        this.hits = hits;
        this.misses = misses;
        this.coalesced = coalesced;
        this.negativeHits = negativeHits;
        this.stores = stores;
        this.evictions = evictions;
        this.damaged = damaged;
        this.errors = errors;
        this.entries = entries;
        this.bytes = bytes;
    }

    /** @return memory, disk or shared */
    public String getTier() {
        return tier;
    }

    /** @return false while the tier cannot be used */
    public boolean isAvailable() {
        return available;
    }

    /** @return lookups answered with a stored result */
    public long getHits() {
        return hits;
    }

    /** @return lookups that found nothing */
    public long getMisses() {
        return misses;
    }

    /** @return requests that waited for another request's transform */
    public long getCoalesced() {
        return coalesced;
    }

    /** @return lookups answered with a remembered failure */
    public long getNegativeHits() {
        return negativeHits;
    }

    /** @return results written to the tier */
    public long getStores() {
        return stores;
    }

    /** @return entries removed for size or age */
    public long getEvictions() {
        return evictions;
    }

    /** @return damaged entries dropped */
    public long getDamaged() {
        return damaged;
    }

    /** @return failed reads and writes */
    public long getErrors() {
        return errors;
    }

    /** @return entries held now, or -1 */
    public long getEntries() {
        return entries;
    }

    /** @return bytes held now, or -1 */
    public long getBytes() {
        return bytes;
    }

    /** @return the statistics as name/value pairs in a fixed order, for the stats JSON */
    public Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("available", available);
        map.put("hits", hits);
        map.put("misses", misses);
        map.put("coalesced", coalesced);
        map.put("negative_hits", negativeHits);
        map.put("stores", stores);
        map.put("evictions", evictions);
        map.put("damaged", damaged);
        map.put("errors", errors);
        map.put("entries", entries);
        map.put("bytes", bytes);
        return map;
    }

    @Override
    public String toString() {
        return tier + toMap();
    }
}
