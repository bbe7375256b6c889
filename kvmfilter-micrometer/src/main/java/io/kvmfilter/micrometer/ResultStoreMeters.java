package io.kvmfilter.micrometer;

import io.kvmfilter.store.ResultStore;
import io.kvmfilter.store.ResultStoreListener;
import io.kvmfilter.store.TierStatistics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.BaseUnits;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * The meters of every open {@link ResultStore} (tags {@code store}, its name, and {@code tier}: {@code memory},
 * {@code disk}, {@code shared}), added when a store opens and removed when it closes. Only loaded when
 * result-store is on the class path, so KvmMetrics works without it.
 */
final class ResultStoreMeters implements ResultStoreListener {

    /** Tag: the store's name (the filter names its store after its first filter). */
    static final String TAG_STORE = "store";

    private final List<MeterRegistry> registries;
    private final Map<ResultStore, StatsSnapshot<List<TierStatistics>>> snapshots = new ConcurrentHashMap<>();

    ResultStoreMeters(List<MeterRegistry> registries) {
        this.registries = registries;
    }

    /** Follows the stores: hears of those open now at once, then of each opening and closing. */
    void start() {
        ResultStore.addListener(this);
    }

    /** Stops following the stores (the meters are removed by KvmMetrics). */
    void stop() {
        ResultStore.removeListener(this);
        snapshots.clear();
    }

    /** Registers the meters of the stores open now with a registry bound later. */
    void bindTo(MeterRegistry registry) {
        snapshots.forEach((store, snapshot) -> register(registry, store, snapshot));
    }

    @Override
    public void opened(ResultStore store) {
        StatsSnapshot<List<TierStatistics>> snapshot = snapshots.computeIfAbsent(store,
                s -> new StatsSnapshot<>(s::statistics));
        for (MeterRegistry registry : registries) {
            register(registry, store, snapshot);
        }
    }

    @Override
    public void closed(ResultStore store) {
        if (snapshots.remove(store) != null) {
            for (MeterRegistry registry : registries) {
                KvmMetrics.removeMeters(registry, TAG_STORE, store.name());
            }
        }
    }

    @Override
    public String toString() {
        return "KvmMetrics' result store meters";
    }

    private static void register(MeterRegistry registry, ResultStore store,
            StatsSnapshot<List<TierStatistics>> snapshot) {
        // The tier list from a read of its own: the snapshot's first read is left to the first scrape.
        for (TierStatistics tier : store.statistics()) {
            String name = tier.getTier();
            Tags tags = Tags.of(TAG_STORE, store.name(), KvmMetrics.TAG_TIER, name);
            String gets = "kvmfilter.cache.gets";
            String getsDescription = "Result store lookups, by result";
            counter(registry, gets, getsDescription, tags.and("result", "hit"), snapshot, name,
                    TierStatistics::getHits);
            counter(registry, gets, getsDescription, tags.and("result", "miss"), snapshot, name,
                    TierStatistics::getMisses);
            counter(registry, gets, getsDescription, tags.and("result", "coalesced"), snapshot, name,
                    TierStatistics::getCoalesced);
            counter(registry, gets, getsDescription, tags.and("result", "negative"), snapshot, name,
                    TierStatistics::getNegativeHits);
            counter(registry, "kvmfilter.cache.puts", "Results written to the tier", tags, snapshot, name,
                    TierStatistics::getStores);
            counter(registry, "kvmfilter.cache.evictions", "Entries evicted or expired", tags, snapshot, name,
                    TierStatistics::getEvictions);
            counter(registry, "kvmfilter.cache.errors", "Reads and writes that failed (I/O, a shared cache that"
                    + " did not answer in time), and damaged entries dropped", tags, snapshot, name,
                    t -> t.getErrors() + t.getDamaged());
            gauge(registry, "kvmfilter.cache.available", "1 while the tier can be used, else 0", null, tags,
                    snapshot, name, t -> t.isAvailable() ? 1 : 0);
            gauge(registry, "kvmfilter.cache.entries", "Entries held (NaN when the tier cannot tell)", null, tags,
                    snapshot, name, t -> t.getEntries() < 0 ? Double.NaN : t.getEntries());
            gauge(registry, "kvmfilter.cache.size", "Bytes held (NaN when the tier cannot tell)", BaseUnits.BYTES,
                    tags, snapshot, name, t -> t.getBytes() < 0 ? Double.NaN : t.getBytes());
        }
    }

    private static void counter(MeterRegistry registry, String name, String description, Tags tags,
            StatsSnapshot<List<TierStatistics>> snapshot, String tier, ToDoubleFunction<TierStatistics> value) {
        FunctionCounter.builder(name, snapshot, s -> value.applyAsDouble(tier(s.get(), tier))).description(description)
                .tags(tags).register(registry);
    }

    private static void gauge(MeterRegistry registry, String name, String description, String unit, Tags tags,
            StatsSnapshot<List<TierStatistics>> snapshot, String tier, ToDoubleFunction<TierStatistics> value) {
        Gauge.builder(name, snapshot, s -> value.applyAsDouble(tier(s.get(), tier))).description(description)
                .baseUnit(unit).tags(tags).strongReference(true).register(registry);
    }

    private static TierStatistics tier(List<TierStatistics> tiers, String name) {
        for (TierStatistics tier : tiers) {
            if (tier.getTier().equals(name)) {
                return tier;
            }
        }
        throw new IllegalStateException("the result store has no tier " + name);
    }
}
