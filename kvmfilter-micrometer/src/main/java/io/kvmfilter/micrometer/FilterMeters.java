package io.kvmfilter.micrometer;

import io.kvmfilter.filter.FilterListener;
import io.kvmfilter.filter.FilterListeners;
import io.kvmfilter.filter.FilterOutcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code kvmfilter.responses}: what every filter did with each response (tags {@code filter}, {@code outcome}:
 * {@code applied}, {@code cache-hit}, {@code fallback}, {@code skipped}, {@code passed}; {@code variant} and
 * {@code reason}, {@code none} where they do not apply). Only loaded when filter-core is on the class path.
 */
final class FilterMeters implements FilterListener {

    /** Tag: the filter's name, {@code <context>-<filter name>}. */
    static final String TAG_FILTER = "filter";
    private static final String NONE = "none";

    private final List<MeterRegistry> registries;
    /** The counters already registered, so a response pays one map lookup, not a registration. */
    private final Map<Key, Counter> counters = new ConcurrentHashMap<>();

    private record Key(MeterRegistry registry, FilterOutcome outcome) {
    }

    FilterMeters(List<MeterRegistry> registries) {
        this.registries = registries;
    }

    void start() {
        FilterListeners.add(this);
    }

    void stop() {
        FilterListeners.remove(this);
        counters.clear();
    }

    @Override
    public void responseFinished(FilterOutcome outcome) {
        for (MeterRegistry registry : registries) {
            counters.computeIfAbsent(new Key(registry, outcome), key -> Counter.builder("kvmfilter.responses")
                    .description("Responses the filter finished, by what it served")
                    .tag(TAG_FILTER, outcome.filter())
                    .tag(KvmMetrics.TAG_OUTCOME, outcome.kind())
                    .tag("variant", outcome.variant() == null ? NONE : outcome.variant())
                    .tag("reason", outcome.reason() == null ? NONE : outcome.reason())
                    .register(registry)).increment();
        }
    }

    @Override
    public String toString() {
        return "KvmMetrics' filter response meters";
    }
}
