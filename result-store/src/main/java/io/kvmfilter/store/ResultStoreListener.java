package io.kvmfilter.store;

/**
 * Observes every {@link ResultStore} of this class loader: when it opens and when it closes. Metrics bind through
 * this (kvmfilter-micrometer's {@code KvmMetrics} reads each open store's {@link ResultStore#statistics()}), so
 * the code that opens a store, such as the servlet filter, needs to know nothing about metrics.
 *
 * <p>Calls come on the thread that opens or closes the store, one at a time; a listener that throws is logged and
 * ignored.
 */
public interface ResultStoreListener {

    /** A store was opened, or was already open when this listener was added. */
    default void opened(ResultStore store) {
    }

    /** A store was closed; it reports no more. */
    default void closed(ResultStore store) {
    }
}
