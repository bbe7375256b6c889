package io.kvmfilter.filter;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The registered {@link FilterListener}s of this class loader; reporting reads the list without locking. */
public final class FilterListeners {
    /** KvmFilter's logger, by name: loading KvmFilter would need the Servlet API, which metrics alone do not. */
    private static final System.Logger LOG = System.getLogger("io.kvmfilter.filter.KvmFilter");

    private static final List<FilterListener> LISTENERS = new CopyOnWriteArrayList<>();

    private FilterListeners() {
    }

    /** Registers a listener for the responses of every filter of this class loader, from now on. */
    public static void add(FilterListener listener) {
        if (listener == null) {
            throw new NullPointerException("listener");
        }
        LISTENERS.add(listener);
    }

    /** @return true when the listener was registered (it then hears nothing more) */
    public static boolean remove(FilterListener listener) {
        return LISTENERS.remove(listener);
    }

    static boolean any() {
        return !LISTENERS.isEmpty();
    }

    static void finished(FilterOutcome outcome) {
        for (FilterListener listener : LISTENERS) {
            try {
                listener.responseFinished(outcome);
            } catch (RuntimeException e) {
                // One line: a listener failing on every response must not fill the log with stack traces.
                LOG.log(Level.WARNING, "kvmfilter: filter listener " + listener + " failed, ignored: " + e);
            }
        }
    }
}
