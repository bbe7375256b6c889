package io.kvmfilter.kvm;

import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A snapshot of the statistics of a {@link Kvm}: per program (counters summed over every load of the
 * program since the Kvm started, reloads included) and per instance of the currently loaded program.
 *
 * @param programs statistics by program name, in library order
 */
public record KvmStats(Map<String, Program> programs) {
    /** Copies the map. */
    public KvmStats {
        programs = Collections.unmodifiableMap(new LinkedHashMap<>(programs));
    }

    /**
     * @return the statistics of one program
     * @throws IllegalArgumentException when there is no such program
     */
    public Program program(String name) {
        Program p = programs.get(name);
        if (p == null) {
            throw new IllegalArgumentException("No program '" + name + "'; programs: " + programs.keySet());
        }
        return p;
    }

    /**
     * Statistics of one program. Times are in nanoseconds, memory in bytes.
     *
     * @param name the program name
     * @param loaded true while a booted program is current (not unloaded or never loaded)
     * @param loads successful loads (boots), reloads included
     * @param loadFailures loads that failed (file missing, checksum, boot failure)
     * @param invocations requests run in the sandbox
     * @param failures requests that failed in the sandbox, any kind
     * @param failuresByKind failures by kind (every kind present, zeros included); QUEUE_TIMEOUT counts
     *     acquires that gave up, ERROR_STATUS answers at or above a step's error threshold
     * @param onErrorAnswers failures answered by the program's on_error handler
     * @param resets instance resets
     * @param resetNanos total time spent resetting
     * @param runNanos total wall time in requests
     * @param cpuNanos total CPU time in requests
     * @param bytesIn request bodies copied into the guests
     * @param bytesOut response bodies produced
     * @param dirtyPages guest pages dirtied by requests
     * @param queueWaits acquires that had to wait for a free instance
     * @param queueTimeouts acquires that gave up (no free instance in time, or the queue was full)
     * @param queueWaitNanos total time spent waiting for instances
     * @param instances instances of the current program created so far
     * @param instancesBusy instances running a request right now
     * @param bootNanos time the current program's boot took
     * @param frozenBytes bytes of the current program's frozen memory image
     * @param instanceBytes bytes its instances hold now as private copies of the pages requests wrote
     * @param maxMemory configured max_memory
     * @param maxRequestMemory configured max_request_memory
     * @param unsupportedCalls system or API calls answered with -ENOSYS
     * @param refusedCalls initialisation-only calls (register_func) a request made, refused with -EPERM
     * @param warmups warm-up requests run (warmup_requests); the request counters above leave them out
     * @param exits exits from the guest to the host during requests: each costs a few microseconds on
     *     hardware KVM and about 25 on PVM, so {@link #exitsPerRequest()} is the sandbox's cost per request
     * @param trapExits the exits that went through the sandbox's trap stub (system calls the host answers,
     *     faults); API calls exit directly
     * @param trimmedBytes memory idle instances gave back ({@code trim_idle_time})
     * @param storageCalls storage_callv calls that ran in the program's storage instance ({@code storage})
     * @param storageFailures storage runs (calls and tasks) that crashed, timed out or ran out of memory: after
     *     each, storage started again from its boot image
     * @param storageTasks storage tasks run
     * @param storageTaskFailures storage tasks that failed, or found storage busy for their whole time
     * @param fetches sys_fetch calls made under the program's egress policy
     * @param fetchRefusals fetches the egress policy refused (host, port, address, redirects, limits)
     * @param fetchFailures fetches that failed otherwise (time, size, network)
     * @param fetchBytes response bytes fetched
     * @param connections client connections handed to the program ({@link Kvm#openConnection})
     * @param connectionFailures of those, sessions ended by a failure of the program (time, memory, crash...)
     * @param connectionBytesIn bytes of the clients delivered to the program's connections
     * @param connectionBytesOut bytes the program wrote to its connections
     * @param instanceStats per instance of the current program
     */
    public record Program(
            String name,
            boolean loaded,
            long loads,
            long loadFailures,
            long invocations,
            long failures,
            Map<FailureKind, Long> failuresByKind,
            long onErrorAnswers,
            long resets,
            long resetNanos,
            long runNanos,
            long cpuNanos,
            long bytesIn,
            long bytesOut,
            long dirtyPages,
            long queueWaits,
            long queueTimeouts,
            long queueWaitNanos,
            long instances,
            long instancesBusy,
            long bootNanos,
            long frozenBytes,
            long instanceBytes,
            long maxMemory,
            long maxRequestMemory,
            long unsupportedCalls,
            long refusedCalls,
            long warmups,
            long exits,
            long trapExits,
            long trimmedBytes,
            long storageCalls,
            long storageFailures,
            long storageTasks,
            long storageTaskFailures,
            long fetches,
            long fetchRefusals,
            long fetchFailures,
            long fetchBytes,
            long connections,
            long connectionFailures,
            long connectionBytesIn,
            long connectionBytesOut,
            List<Instance> instanceStats) {

        /** Copies the collections. */
        public Program {
            Objects.requireNonNull(name, "name");
            failuresByKind = Collections.unmodifiableMap(new EnumMap<>(failuresByKind));
            instanceStats = List.copyOf(instanceStats);
        }

        /** @return failures of one kind */
        public long failures(FailureKind kind) {
            return failuresByKind.getOrDefault(kind, 0L);
        }

        /** @return exits to the host per request on average (0 before the first request) */
        public double exitsPerRequest() {
            return invocations == 0 ? 0 : (double) exits / invocations;
        }

        /** @return requests that ran past max_request_time */
        public long timeouts() {
            return failures(FailureKind.TIMEOUT);
        }
    }

    /**
     * Statistics of one instance of the current program. Times in nanoseconds.
     *
     * @param index the instance number, 0 .. instances-1
     * @param invocations requests run
     * @param failures requests that failed
     * @param resets resets
     * @param resetNanos time spent resetting
     * @param runNanos wall time in requests
     * @param cpuNanos CPU time in requests
     * @param bytesIn request bodies copied in
     * @param bytesOut response bodies produced
     * @param dirtyPages pages dirtied by all requests
     * @param lastDirtyPages pages dirtied by the last request
     * @param busy true while running a request
     * @param exits exits from the guest to the host during requests
     * @param trapExits the exits that went through the trap stub
     */
    public record Instance(int index, long invocations, long failures, long resets, long resetNanos, long runNanos,
            long cpuNanos, long bytesIn, long bytesOut, long dirtyPages, long lastDirtyPages, boolean busy, long exits,
            long trapExits) {
    }
}
