package io.kvmfilter.micrometer;

import java.util.function.Supplier;

/**
 * Statistics read at most once per {@link #MAX_AGE_NANOS}: a scrape reads a dozen meters per program or store tier,
 * and each full read copies every program's and instance's counters out of the native core (or every tier's out of
 * a result store).
 *
 * @param <T> what one read gives, e.g. a Kvm's {@code KvmStats}
 */
final class StatsSnapshot<T> {

    /** Gauges and counters fed from statistics may be this old when read. */
    static final long MAX_AGE_NANOS = 1_000_000_000L;

    private final Supplier<T> read;
    private T stats;
    private long readAt;

    StatsSnapshot(Supplier<T> read) {
        this.read = read;
    }

    /** @return the statistics, from a read at most {@link #MAX_AGE_NANOS} old */
    synchronized T get() {
        long now = System.nanoTime();
        if (stats == null || now - readAt >= MAX_AGE_NANOS) {
            stats = read.get();
            readAt = now;
        }
        return stats;
    }
}
