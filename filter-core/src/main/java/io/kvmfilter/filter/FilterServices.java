package io.kvmfilter.filter;

/**
 * What one started filter instance gives each of its requests: frozen configuration, the runner (the result
 * store, the waiting lines and the transform: the sandbox, or the stand-in when KVM is unavailable) and the
 * counters. Passed to every {@link FilterCall} so that no request-time class reaches back into {@link KvmFilter}.
 */
record FilterServices(KvmFilterConfig config, TransformRunner runner, TransformStats stats) {
}
