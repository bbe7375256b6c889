package io.kvmfilter.store;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The registered {@link ResultStoreListener}s and the stores open now, for this class loader. Opening, closing and
 * adding a listener take one lock, so a listener hears of every open store exactly once and of its close after that.
 */
final class StoreListeners {
    private static final System.Logger LOG = System.getLogger(ResultStore.class.getName());

    private static final List<ResultStoreListener> LISTENERS = new ArrayList<>();
    private static final Set<ResultStore> OPEN = new LinkedHashSet<>();

    private StoreListeners() {
    }

    static synchronized void add(ResultStoreListener listener) {
        LISTENERS.add(listener);
        for (ResultStore store : OPEN) {
            call(listener, () -> listener.opened(store));
        }
    }

    static synchronized boolean remove(ResultStoreListener listener) {
        return LISTENERS.remove(listener);
    }

    static synchronized List<ResultStore> open() {
        return List.copyOf(OPEN);
    }

    static synchronized void opened(ResultStore store) {
        OPEN.add(store);
        for (ResultStoreListener listener : LISTENERS) {
            call(listener, () -> listener.opened(store));
        }
    }

    /** @return false when the store was closed already */
    static synchronized boolean closed(ResultStore store) {
        if (!OPEN.remove(store)) {
            return false;
        }
        for (ResultStoreListener listener : LISTENERS) {
            call(listener, () -> listener.closed(store));
        }
        return true;
    }

    /** A failing listener must not keep a store from opening or closing. */
    private static void call(ResultStoreListener listener, Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "kvmfilter: result store listener " + listener + " failed, ignored: " + e);
        }
    }
}
