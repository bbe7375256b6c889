package io.kvmfilter.filter;

/**
 * Hears of every response each started {@link KvmFilter} of this class loader finishes. Metrics bind through this
 * (kvmfilter-micrometer's {@code KvmMetrics} counts {@code kvmfilter.responses}), so the filter needs to know
 * nothing about metrics. Register with {@link FilterListeners#add}.
 */
@FunctionalInterface
public interface FilterListener {

    /**
     * Called on the request's thread once the filter has decided what to serve; it must be quick and must not
     * throw (a listener that throws is logged, one line, and ignored).
     */
    void responseFinished(FilterOutcome outcome);
}
