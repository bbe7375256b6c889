package io.kvmfilter.kvm;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The registered {@link KvmListener}s and the Kvms running now, for this class loader. Starting, closing and adding
 * a listener take one lock, so a listener sees every Kvm started exactly once and its close after that; step
 * reports read the listener list without locking.
 */
final class Listeners {
    private static final System.Logger LOG = System.getLogger(Kvm.class.getName());

    private static final List<KvmListener> LISTENERS = new CopyOnWriteArrayList<>();
    private static final Set<Kvm> RUNNING = new LinkedHashSet<>();

    private Listeners() {
    }

    static synchronized void add(KvmListener listener) {
        LISTENERS.add(listener);
        for (Kvm kvm : RUNNING) {
            call(listener, () -> listener.started(kvm));
        }
    }

    static synchronized boolean remove(KvmListener listener) {
        return LISTENERS.remove(listener);
    }

    static synchronized List<Kvm> running() {
        return List.copyOf(new ArrayList<>(RUNNING));
    }

    static synchronized void started(Kvm kvm) {
        RUNNING.add(kvm);
        for (KvmListener listener : LISTENERS) {
            call(listener, () -> listener.started(kvm));
        }
    }

    static synchronized void closed(Kvm kvm) {
        if (RUNNING.remove(kvm)) {
            for (KvmListener listener : LISTENERS) {
                call(listener, () -> listener.closed(kvm));
            }
        }
    }

    static void stepFinished(Kvm kvm, StepRun run) {
        for (KvmListener listener : LISTENERS) {
            call(listener, () -> listener.stepFinished(kvm, run));
        }
    }

    /** A failing listener must not fail the request or the Kvm that reported to it. */
    private static void call(KvmListener listener, Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            // One line: a listener failing on every request must not fill the log with stack traces.
            LOG.log(Level.WARNING, "kvmfilter: listener " + listener + " failed, ignored: " + e);
            LOG.log(Level.DEBUG, "kvmfilter: listener failure", e);
        }
    }
}
