package io.kvmfilter.store;

import java.util.concurrent.atomic.LongAdder;

/** The live counters of one tier; {@link #snapshot} turns them into a {@link TierStatistics}. */
final class TierCounters {

    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder coalesced = new LongAdder();
    final LongAdder negativeHits = new LongAdder();
    final LongAdder stores = new LongAdder();
    final LongAdder evictions = new LongAdder();
    final LongAdder damaged = new LongAdder();
    final LongAdder errors = new LongAdder();

    TierStatistics snapshot(String tier, boolean available, long entries, long bytes) {
        return new TierStatistics(tier, available, hits.sum(), misses.sum(), coalesced.sum(), negativeHits.sum(),
                stores.sum(), evictions.sum(), damaged.sum(), errors.sum(), entries, bytes);
    }
}
