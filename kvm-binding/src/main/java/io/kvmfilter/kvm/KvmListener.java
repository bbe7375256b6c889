package io.kvmfilter.kvm;

/**
 * Observes every {@link Kvm} of this class loader: when it starts, each program step it runs, and when it closes.
 * Metrics bind through this (kvmfilter-micrometer's {@code KvmMetrics}), so the code that starts a Kvm, such as
 * the servlet filter, needs to know nothing about metrics.
 *
 * <p>Register with {@link Kvm#addListener}. Methods are called on the thread that starts, runs or closes the Kvm
 * (for {@link #stepFinished}: the request thread), so they must be quick and must not block; an exception they
 * throw is logged and otherwise ignored.
 */
public interface KvmListener {

    /** A Kvm started (or was already running when this listener was added). */
    default void started(Kvm kvm) {
    }

    /** One step of a call finished: it ran, failed, or gave up waiting for an instance. */
    default void stepFinished(Kvm kvm, StepRun run) {
    }

    /** A Kvm is closing: no more steps will be reported for it. */
    default void closed(Kvm kvm) {
    }
}
