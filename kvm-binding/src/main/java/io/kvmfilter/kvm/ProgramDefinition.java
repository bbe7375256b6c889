package io.kvmfilter.kvm;

import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The effective settings of one program: its group's settings overridden by its own and by
 * {@link ProgramLibrary#configure}. Immutable. The JSON keys, units and defaults are listed in
 * docs/java-api.md and in {@link ProgramLibrary}.
 *
 * @param name the program name (the library key); argv[0] and KVM_NAME of the program
 * @param group the group the defaults came from ("test" when none was named)
 * @param source where the ELF is read from: file:, classpath: or bundled:NAME
 * @param sha256 the expected SHA-256 of the ELF as 64 lower-case hex digits, checked at every load when present
 * @param concurrency instances, i.e. requests running at once ({@code concurrency})
 * @param maxBootTime time to reach wait_for_requests() ({@code max_boot_time}, seconds)
 * @param maxRequestTime time for one request ({@code max_request_time}, seconds)
 * @param onErrorTime time for the on_error second chance ({@code on_error_time}, seconds)
 * @param queueTimeout how long a request waits for a free instance ({@code queue_timeout}, seconds)
 * @param maxMemory bytes of guest memory, address space included ({@code max_memory}, MiB in JSON)
 * @param maxRequestMemory bytes one request may dirty or allocate ({@code max_request_memory}, MiB in JSON)
 * @param maxResponseSize bytes of response body ({@code max_response_size}, MiB in JSON)
 * @param maxQueue threads that may wait for a free instance ({@code max_queue})
 * @param ephemeral reset after every request ({@code ephemeral}); otherwise only after failures
 * @param debug the program's sys_is_debug() answers 1 and KVM_DEBUG=1 ({@code debug})
 * @param mainArguments arguments after argv[0] ({@code main_arguments})
 * @param environment extra "NAME=value" variables ({@code environment})
 * @param start boot and create all instances when the Kvm starts, instead of on first use ({@code start})
 * @param reload reload the program when its file changes ({@code reload}; file sources only)
 * @param warmupRequests requests run on each instance after start-up, flagged as warm-up ({@code warmup_requests}):
 *     the only requests from which an instance learns which pages to keep writable (hot pages)
 * @param warmupUrl the URL of the warm-up requests ({@code warmup_url})
 * @param warmupBody the body of the warm-up requests, which are then POSTs ({@code warmup_body}: a file:,
 *     classpath: or bundled: source); GETs when empty. A body like the real ones teaches the instance the pages
 *     real requests write.
 * @param warmupContentType the content type of the warm-up body ({@code warmup_content_type})
 * @param trimIdleTime how long an instance stays idle before it gives back the memory its requests made it copy
 *     ({@code trim_idle_time}, seconds; zero: never)
 * @param readsUrl the program looks at the request's URL ({@code reads_url}, default true): a result cache must then
 *                 keep results of different URLs apart; false lets identical bodies under any URL share one result
 * @param sharedMemory bytes of the shared memory area ({@code shared_memory}, MiB in JSON, as in the VMOD; 0: none):
 *     one block mapped into every instance of the program, never reset (shared_memory_area() in the SDK)
 * @param storage the program has a storage instance ({@code storage}, as in the VMOD): booted first, never reset but
 *     after a failure, reached from requests through storage_callv and storage tasks
 * @param stateFile the host file the program sees as {@code state} ({@code state_file}): readable by every VM of the
 *     program, writable by its storage only, kept across restarts
 * @param allowedPaths read-only host files the program may open ({@code allowed_paths}): the path the program opens
 *     → the host file, opened when the program is created
 * @param maxStorageMemory bytes of the storage instance's memory ({@code max_storage_memory}, MiB in JSON; 0: maxMemory)
 * @param maxStorageTime time for one storage call or task ({@code max_storage_time}, seconds; zero: maxRequestTime)
 * @param egress where the program may fetch from ({@code egress}); empty: it may not fetch
 */
public record ProgramDefinition(
        String name,
        String group,
        URI source,
        Optional<String> sha256,
        int concurrency,
        Duration maxBootTime,
        Duration maxRequestTime,
        Duration onErrorTime,
        Duration queueTimeout,
        long maxMemory,
        long maxRequestMemory,
        long maxResponseSize,
        int maxQueue,
        boolean ephemeral,
        boolean debug,
        List<String> mainArguments,
        List<String> environment,
        boolean start,
        boolean reload,
        int warmupRequests,
        String warmupUrl,
        Optional<URI> warmupBody,
        String warmupContentType,
        Duration trimIdleTime,
        boolean readsUrl,
        long sharedMemory,
        boolean storage,
        Optional<java.nio.file.Path> stateFile,
        Map<String, java.nio.file.Path> allowedPaths,
        long maxStorageMemory,
        Duration maxStorageTime,
        Optional<EgressPolicy> egress) {

    /** Checks that no component is null and copies the lists. */
    public ProgramDefinition {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(sha256, "sha256");
        Objects.requireNonNull(maxBootTime, "maxBootTime");
        Objects.requireNonNull(maxRequestTime, "maxRequestTime");
        Objects.requireNonNull(onErrorTime, "onErrorTime");
        Objects.requireNonNull(queueTimeout, "queueTimeout");
        mainArguments = List.copyOf(mainArguments);
        environment = List.copyOf(environment);
        Objects.requireNonNull(warmupUrl, "warmupUrl");
        Objects.requireNonNull(warmupBody, "warmupBody");
        Objects.requireNonNull(warmupContentType, "warmupContentType");
        Objects.requireNonNull(trimIdleTime, "trimIdleTime");
        Objects.requireNonNull(stateFile, "stateFile");
        allowedPaths = Collections.unmodifiableMap(new LinkedHashMap<>(allowedPaths));
        Objects.requireNonNull(maxStorageTime, "maxStorageTime");
        Objects.requireNonNull(egress, "egress");
    }
}
