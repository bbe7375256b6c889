package io.kvmfilter.kvm;

import com.sun.jna.Pointer;

/**
 * Eager start and warm-up of a freshly loaded program, before any request can reach it: creates every
 * instance, then runs warmup_requests GET requests of warmup_url on each, flagged as warm-up
 * (kvm_request.info_flags 0x1) so programs can tell them apart.
 */
final class Warmup {
    private Warmup() {
    }

    /** Instances are all free while warming up; this only guards against a core that disagrees. */
    private static final long ACQUIRE_TIMEOUT_MS = 10_000;

    static void prepare(LoadedProgram program) throws LoadedProgram.LoadException {
        ProgramDefinition definition = program.definition;
        String name = definition.name();
        int rc = KvmNative.kvmf_program_prepare_instances(program.handle);
        if (rc != 0) {
            throw new LoadedProgram.LoadException(new Failure(FailureKind.fromNative(rc), name,
                    "creating the " + definition.concurrency() + " instances failed: " + NativeStrings.lastError()));
        }
        if (definition.warmupRequests() == 0) {
            return;
        }
        byte[] get = NativeStrings.cString("GET");
        byte[] url = NativeStrings.cString(definition.warmupUrl());
        long response = NativeMemory.allocate(NativeLayout.RESPONSE_SIZE);
        try {
            // One round = one request on every instance: holding all of them makes each acquire a different one,
            // and releasing after each request keeps to the core's acquire-run-release cycle.
            for (int round = 1; round <= definition.warmupRequests(); round++) {
                warmupRound(program, round, get, url, response);
            }
        } finally {
            NativeMemory.free(response);
        }
    }

    private static void warmupRound(LoadedProgram program, int round, byte[] get, byte[] url, long response)
            throws LoadedProgram.LoadException {
        ProgramDefinition definition = program.definition;
        String name = definition.name();
        long[] instances = new long[definition.concurrency()];
        int acquired = 0;
        try {
            long[] out = new long[1];
            for (; acquired < instances.length; acquired++) {
                int rc = KvmNative.kvmf_program_acquire(program.handle, ACQUIRE_TIMEOUT_MS, out);
                if (rc != 0) {
                    throw new LoadedProgram.LoadException(new Failure(FailureKind.fromNative(rc), name,
                            "warm-up could not acquire instance " + acquired + ": " + NativeStrings.lastError()));
                }
                instances[acquired] = out[0];
            }
            for (int i = 0; i < instances.length; i++) {
                int rc = KvmNative.kvmf_instance_run(instances[i], get, url, null, null, 0, 0, null, 0,
                        KvmNative.RUN_WARMUP, response);
                if (rc != 0) {
                    String message = NativeStrings.fromCString(new Pointer(response).getLong(
                            NativeLayout.RESPONSE_ERROR_MESSAGE));
                    throw new LoadedProgram.LoadException(new Failure(FailureKind.fromNative(rc), name,
                            "warm-up request " + round + " (GET " + definition.warmupUrl() + ") on instance " + i
                                    + " failed: " + message));
                }
            }
        } finally {
            for (int i = 0; i < acquired; i++) {
                KvmNative.kvmf_instance_release(instances[i]);
            }
        }
    }
}
