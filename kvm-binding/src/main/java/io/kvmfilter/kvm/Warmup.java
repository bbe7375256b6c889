package io.kvmfilter.kvm;

import com.sun.jna.Pointer;

/**
 * Eager start and warm-up of a freshly loaded program, before any request can reach it: creates every
 * instance, then runs warmup_requests requests of warmup_url on each (POSTs of warmup_body when one is given,
 * else GETs), flagged as warm-up (kvm_request.info_flags 0x1) so programs can tell them apart. Warm-up requests
 * are the only ones an instance learns its hot pages from (pages kept writable, see docs/architecture.md).
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
        WarmupRequest request = WarmupRequest.of(definition);
        long response = NativeMemory.allocate(NativeLayout.RESPONSE_SIZE);
        try {
            // One round = one request on every instance: holding all of them makes each acquire a different one,
            // and releasing after each request keeps to the core's acquire-run-release cycle.
            for (int round = 1; round <= definition.warmupRequests(); round++) {
                warmupRound(program, round, request, response);
            }
        } finally {
            NativeMemory.free(response);
            request.free();
        }
    }

    /** The warm-up request in native form: a GET, or a POST of the warm-up body. */
    private record WarmupRequest(byte[] method, byte[] url, byte[] contentType, long body, long bodyLength,
            String description) {

        static WarmupRequest of(ProgramDefinition definition) throws LoadedProgram.LoadException {
            byte[] url = NativeStrings.cString(definition.warmupUrl());
            if (definition.warmupBody().isEmpty()) {
                return new WarmupRequest(NativeStrings.cString("GET"), url, null, 0, 0,
                        "GET " + definition.warmupUrl());
            }
            byte[] bytes;
            try {
                bytes = ProgramFiles.read(definition.warmupBody().get(), "warm-up body");
            } catch (KvmConfigurationException e) {
                throw new LoadedProgram.LoadException(new Failure(FailureKind.INVALID_ARGUMENT, definition.name(),
                        e.getMessage()));
            }
            return new WarmupRequest(NativeStrings.cString("POST"), url,
                    NativeStrings.cString(definition.warmupContentType()), NativeMemory.copyOf(bytes), bytes.length,
                    "POST " + definition.warmupUrl() + " of " + definition.warmupBody().get() + " ("
                            + bytes.length + " bytes, " + definition.warmupContentType() + ")");
        }

        void free() {
            NativeMemory.free(body);
        }
    }

    private static void warmupRound(LoadedProgram program, int round, WarmupRequest request, long response)
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
                int rc = KvmNative.kvmf_instance_run(instances[i], request.method(), request.url(), null,
                        request.contentType(), request.body(), request.bodyLength(), null, 0, KvmNative.RUN_WARMUP,
                        response);
                if (rc != 0) {
                    String message = NativeStrings.fromCString(new Pointer(response).getLong(
                            NativeLayout.RESPONSE_ERROR_MESSAGE));
                    throw new LoadedProgram.LoadException(new Failure(FailureKind.fromNative(rc), name,
                            "warm-up request " + round + " (" + request.description() + ") on instance " + i
                                    + " failed: " + message));
                }
                long status = new Pointer(response).getLong(NativeLayout.RESPONSE_STATUS);
                if (request.body() != 0 && status >= 400) {
                    // A body chosen to teach the program what real requests do, refused by it: a wrong file or type.
                    throw new LoadedProgram.LoadException(new Failure(FailureKind.INVALID_ARGUMENT, name,
                            "warm-up request " + round + " (" + request.description() + ") was answered with status "
                                    + status + "; give a warmup_body and warmup_content_type the program accepts"));
                }
            }
        } finally {
            for (int i = 0; i < acquired; i++) {
                KvmNative.kvmf_instance_release(instances[i]);
            }
        }
    }
}
