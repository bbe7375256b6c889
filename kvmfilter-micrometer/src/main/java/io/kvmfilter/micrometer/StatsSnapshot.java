package io.kvmfilter.micrometer;

import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.KvmStats;

/**
 * The statistics of one Kvm, read at most once per {@link #MAX_AGE_NANOS}: a scrape reads a dozen meters per
 * program, and each full read copies every program's and instance's counters out of the native core.
 */
final class StatsSnapshot {

    /** Gauges and counters fed from a Kvm's statistics may be this old when read. */
    static final long MAX_AGE_NANOS = 1_000_000_000L;

    private final Kvm kvm;
    private KvmStats stats;
    private long readAt;

    StatsSnapshot(Kvm kvm) {
        this.kvm = kvm;
    }

    /** @return the statistics of one program, from a read at most {@link #MAX_AGE_NANOS} old */
    synchronized KvmStats.Program program(String name) {
        long now = System.nanoTime();
        if (stats == null || now - readAt >= MAX_AGE_NANOS) {
            stats = kvm.stats();
            readAt = now;
        }
        return stats.program(name);
    }
}
