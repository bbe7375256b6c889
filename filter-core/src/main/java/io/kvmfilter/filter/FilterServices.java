package io.kvmfilter.filter;

/**
 * What one started filter instance gives each of its requests: frozen configuration, the runner (the result
 * store, the waiting lines and the transform: the sandbox, or the stand-in when KVM is unavailable) and the
 * counters, and the bound of the programs' self-requests. Passed to every {@link FilterCall} so that no request-time class reaches back into {@link KvmFilter}.
 */
record FilterServices(KvmFilterConfig config, TransformRunner runner, TransformStats stats,
        java.util.concurrent.Semaphore selfRequestsRunning) {

    /** Self-requests of the filter's programs running at once (with selfRequests). */
    static final int SELF_REQUEST_CONCURRENCY = 16;
    /** How deep they may nest before the program gets -ELOOP. */
    static final int SELF_REQUEST_DEPTH = 3;
}
