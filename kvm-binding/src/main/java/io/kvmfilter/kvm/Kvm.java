package io.kvmfilter.kvm;

import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * A started program library with warm instance pools: the entry point of the binding. Thread-safe.
 *
 * <pre>{@code
 * try (Kvm kvm = Kvm.start(ProgramLibrary.bundled())) {
 *     Result webp = kvm.run("webp", Request.post("/cat.jpg", "image/jpeg", jpegBytes));
 *     byte[] body = webp.ok() ? webp.body() : jpegBytes;   // fall back to the original
 * }
 * }</pre>
 *
 * Programs are booted on first use, or when the Kvm starts for programs with {@code "start": true}. Each
 * program has {@code concurrency} instances; a request waits up to {@code queue_timeout} for a free one
 * (the core's bounded queue). Guest failures never throw: they come back as a {@link Result} with a
 * {@link Failure}. Statistics are available as {@link #stats()}, as JSON ({@link #statsJson}) and over
 * JMX ({@link KvmMXBean}, {@code io.kvmfilter:type=Kvm,name=<name>}, unregistered by {@link #close()}).
 */
public final class Kvm implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Kvm.class.getName());

    /** Bounds on how often idle instances are asked to give their memory back ({@code trim_idle_time}). */
    private static final long MIN_TRIM_CHECK_INTERVAL_MS = 50;
    private static final long MAX_TRIM_CHECK_INTERVAL_MS = 10_000;

    /** How often files of programs with {@code "reload": true} are checked for changes. */
    static final long RELOAD_CHECK_INTERVAL_MS = 1000;

    private static final AtomicInteger DEFAULT_NAMES = new AtomicInteger();
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");

    private final String name;
    private final Map<String, ProgramSlot> slots;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final ObjectName objectName;
    private final ScheduledExecutorService reloadWatcher;
    private final ScheduledExecutorService trimmer;
    private final ExecutorService starter;
    /** Sessions open now: closing the Kvm closes them, so none keeps a program alive past it. */
    private final Set<ProgramConnection> connections = ConcurrentHashMap.newKeySet();

    private Kvm(String name, ProgramLibrary library) {
        this.name = name;
        Map<String, ProgramSlot> map = new LinkedHashMap<>();
        boolean anyReload = false;
        long shortestTrimMillis = Long.MAX_VALUE;
        for (String program : library.programNames()) {
            ProgramDefinition definition = library.program(program);
            map.put(program, new ProgramSlot(definition));
            anyReload |= definition.reload();
            if (!definition.trimIdleTime().isZero()) {
                shortestTrimMillis = Math.min(shortestTrimMillis, definition.trimIdleTime().toMillis());
            }
        }
        this.slots = Collections.unmodifiableMap(map);
        this.starter = Executors.newCachedThreadPool(daemonThreads("kvmfilter-" + name + "-start"));
        if (anyReload) {
            reloadWatcher = Executors.newSingleThreadScheduledExecutor(daemonThreads("kvmfilter-" + name + "-reload"));
            reloadWatcher.scheduleWithFixedDelay(this::checkForChangedFiles, RELOAD_CHECK_INTERVAL_MS,
                    RELOAD_CHECK_INTERVAL_MS, TimeUnit.MILLISECONDS);
        } else {
            reloadWatcher = null;
        }
        if (shortestTrimMillis != Long.MAX_VALUE) {
            // Checked twice per idle time, so an instance gives its memory back at most 1.5 idle times after its
            // last request.
            long interval = Math.max(MIN_TRIM_CHECK_INTERVAL_MS, Math.min(MAX_TRIM_CHECK_INTERVAL_MS,
                    shortestTrimMillis / 2));
            trimmer = Executors.newSingleThreadScheduledExecutor(daemonThreads("kvmfilter-" + name + "-trim"));
            trimmer.scheduleWithFixedDelay(this::trimIdleInstances, interval, interval, TimeUnit.MILLISECONDS);
        } else {
            trimmer = null;
        }
        this.objectName = registerMBean();
    }

    /**
     * Checks that the native library loads and KVM is usable, without starting anything.
     *
     * @throws KvmUnavailableException saying what is missing and how to fix it (library path, /dev/kvm
     *     permissions, the kvm group, --device /dev/kvm)
     */
    public static void checkAvailable() {
        NativeLoader.ensureLoaded();
        int rc = KvmNative.kvmf_check_kvm();
        if (rc != 0) {
            String message = NativeStrings.lastError();
            throw new KvmUnavailableException(message.isEmpty() ? "KVM is not usable (" + FailureKind.fromNative(rc)
                    + "); check that /dev/kvm exists and is readable and writable by this process" : message);
        }
    }

    /**
     * Starts a library under a generated name ("kvm-1", "kvm-2", ...).
     *
     * @see #start(ProgramLibrary, String)
     */
    public static Kvm start(ProgramLibrary library) {
        return start(library, "kvm-" + DEFAULT_NAMES.incrementAndGet());
    }

    /**
     * Checks KVM, registers the JMX bean and boots every program with {@code "start": true} (in parallel,
     * waiting for them); other programs boot on first use.
     *
     * @param name the name in JMX and logs: letters, digits, '.', '_' and '-'
     * @throws KvmUnavailableException when the native library or KVM is not usable
     * @throws KvmConfigurationException when an eagerly started program cannot be loaded (the message names
     *     each program and why), or the name is already in use in JMX
     */
    public static Kvm start(ProgramLibrary library, String name) {
        Objects.requireNonNull(library, "library");
        Objects.requireNonNull(name, "name");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("Kvm name \"" + name
                    + "\" is not allowed; use letters, digits, '.', '_' and '-'");
        }
        checkAvailable();
        Kvm kvm = new Kvm(name, library);
        try {
            kvm.startEagerPrograms();
        } catch (RuntimeException e) {
            kvm.close();
            throw e;
        }
        Listeners.started(kvm);
        return kvm;
    }

    private void startEagerPrograms() {
        Map<String, Future<?>> starts = new LinkedHashMap<>();
        for (ProgramSlot slot : slots.values()) {
            if (slot.definition.start()) {
                starts.put(slot.name(), startAsync(slot.name()));
            }
        }
        List<String> failures = new ArrayList<>();
        for (Map.Entry<String, Future<?>> e : starts.entrySet()) {
            try {
                e.getValue().get();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new KvmException("Interrupted while starting program '" + e.getKey() + "'", ie);
            } catch (java.util.concurrent.ExecutionException ee) {
                failures.add(ee.getCause().getMessage());
            }
        }
        if (!failures.isEmpty()) {
            throw new KvmConfigurationException("Kvm '" + name + "': " + failures.size() + " program(s) with \"start\": true"
                    + " could not be started: " + String.join("; ", failures));
        }
    }

    /**
     * Boots a program and creates all its instances (running its warm-up requests) in the background.
     *
     * @return completes when the program is ready, or exceptionally with a {@link KvmException} saying why not
     * @throws IllegalArgumentException when there is no such program
     */
    public CompletableFuture<Void> startAsync(String program) {
        ProgramSlot slot = slot(program);
        CompletableFuture<Void> done = new CompletableFuture<>();
        starter.execute(() -> {
            try {
                slot.start();
                done.complete(null);
            } catch (LoadedProgram.LoadException e) {
                done.completeExceptionally(new KvmException("program '" + program + "': " + e.failure.kind() + ": "
                        + e.failure.message()));
            } catch (RuntimeException | Error e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    /**
     * Runs one program: a request with a body goes to its POST handler, one without to its GET handler.
     * The same as a one-step {@link #chain} with {@code request.arg()} and the default error threshold 400.
     *
     * @return the answer; guest failures, timeouts and full queues come back as a failed Result, never thrown
     */
    public Result run(String program, Request request) {
        Objects.requireNonNull(program, "program");
        Objects.requireNonNull(request, "request");
        return chain(List.of(new Step(program, request.arg(), Step.DEFAULT_ERROR_THRESHOLD)), request);
    }

    /**
     * As {@link #run(String, Request)}, but a program that answers with a streaming response
     * (begin_streaming_response) has its head and body given to {@code stream} as it produces them, without
     * holding the body: then the Result's {@link Result#streamed()} is true and its body empty. A program that
     * answers whole is answered in the Result as usual, and nothing is given to the stream. An IOException from
     * the stream stops it ({@link Result#streamStopped()}); any other exception it throws is logged and the call
     * fails as INTERNAL.
     */
    public Result run(String program, Request request, ResponseStream stream) {
        Objects.requireNonNull(program, "program");
        Objects.requireNonNull(request, "request");
        return run(new Step(program, request.arg(), Step.DEFAULT_ERROR_THRESHOLD), request, stream);
    }

    /**
     * As {@link #run(String, Request, ResponseStream)} for one step: its program, argument and error threshold
     * (a status at or above it fails the call, unless it was streamed: the head had gone).
     */
    public Result run(Step step, Request request, ResponseStream stream) {
        Objects.requireNonNull(step, "step");
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(stream, "stream");
        if (closed.get()) {
            return Result.failed(new Failure(FailureKind.UNAVAILABLE, step.program(), "Kvm '" + name + "' is closed"),
                    System.nanoTime());
        }
        return ChainRunner.run(this, slots, List.of(step), request, false, stream, null);
    }

    /**
     * As {@link #run(Step, Request, ResponseStream)} for a call with a body read from {@code body}: exactly
     * {@code length} bytes, straight into native memory, so the JVM heap never holds the body (it may be as large
     * as the program's memory allows). The request's own body must be null. A body that ends early fails the call
     * as INVALID_ARGUMENT, naming how much came.
     */
    public Result run(Step step, Request request, InputStream body, long length, ResponseStream stream) {
        Objects.requireNonNull(step, "step");
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(stream, "stream");
        if (request.body() != null) {
            throw new IllegalArgumentException("give the body either in the Request or as a stream, not both");
        }
        if (length < 0) {
            throw new IllegalArgumentException("body length " + length + " is negative");
        }
        if (closed.get()) {
            return Result.failed(new Failure(FailureKind.UNAVAILABLE, step.program(), "Kvm '" + name + "' is closed"),
                    System.nanoTime());
        }
        return ChainRunner.run(this, slots, List.of(step), request, false, stream,
                new ChainRunner.BodySource(body, length));
    }

    /**
     * Runs a chain: the first step gets the request; each later step gets the previous step's body and
     * content type as a POST (same URL and headers, its own arg). A failure, or a status at or above a step's
     * error threshold, stops the chain. The result carries the headers of the last step run only.
     */
    public Result chain(List<Step> steps, Request request) {
        return chain(steps, request, false);
    }

    /**
     * As {@link #chain(List, Request)}; with mergeHeaders the result carries the headers of every step, a
     * later step's header replacing an earlier one of the same name.
     */
    public Result chain(List<Step> steps, Request request, boolean mergeHeaders) {
        Objects.requireNonNull(steps, "steps");
        Objects.requireNonNull(request, "request");
        if (closed.get()) {
            return Result.failed(new Failure(FailureKind.UNAVAILABLE, steps.isEmpty() ? "" : steps.get(0).program(),
                    "Kvm '" + name + "' is closed"), System.nanoTime());
        }
        return ChainRunner.run(this, slots, List.copyOf(steps), request, mergeHeaders, null, null);
    }

    /**
     * The VMOD's to_string(): runs a program and returns its body as UTF-8 text.
     *
     * @return the body, or defaultValue when the call failed
     */
    public String toString(String program, Request request, String defaultValue) {
        Result result = run(program, request);
        return result.ok() ? new String(result.body(), StandardCharsets.UTF_8) : defaultValue;
    }

    /**
     * Hands a client connection to a program that takes connections (it registered the socket handler,
     * {@code register_func 12}): takes one of its instances, waiting in its queue as a request does, and opens the
     * session, in which the program usually greets the client. The instance serves this connection alone until the
     * session ends; what the program writes goes to {@code output}, on the thread of each call.
     *
     * <p>Never throws for what the program or the pool does: when no session could be opened (no free instance
     * within {@code queue_timeout} or a full queue: QUEUE_TIMEOUT, as for a request; the program failed to load; it
     * takes no connections; no such program; the Kvm is closed), or the program failed while opening, the
     * connection's {@link ProgramConnection#opened()} says so and it is not open.
     *
     * @param program the program's name
     * @param remote the client's address as "ip:port", which the program's connect event carries
     * @param arg what the program's connect event carries besides, e.g. the request's path and query
     * @param output where the program's bytes go (the client's socket)
     * @return the connection; close it when done (try-with-resources)
     */
    public ProgramConnection openConnection(String program, String remote, String arg, ConnectionOutput output) {
        Objects.requireNonNull(program, "program");
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(arg, "arg");
        Objects.requireNonNull(output, "output");
        if (closed.get()) {
            return ProgramConnection.refused(program, new Failure(FailureKind.UNAVAILABLE, program,
                    "Kvm '" + name + "' is closed"));
        }
        ProgramSlot slot = slots.get(program);
        if (slot == null) {
            return ProgramConnection.refused(program, new Failure(FailureKind.INVALID_ARGUMENT, program, "no program '"
                    + program + "' in this Kvm; programs: " + String.join(", ", slots.keySet())));
        }
        ProgramConnection connection = ProgramConnection.open(slot, remote, arg, output, connections::remove);
        if (connection.isOpen()) {
            connections.add(connection);
            if (closed.get()) {
                connection.close("shutdown"); // the Kvm closed while this one opened: close() has not seen it
            }
        }
        return connection;
    }

    /**
     * @return true when the program takes connections ({@link #openConnection}): it registered the socket handler
     *     ({@code register_func 12}). Loads the program when it is not loaded; false when it cannot be loaded (a
     *     request then says why) or the Kvm is closed
     * @throws IllegalArgumentException when there is no such program
     */
    public boolean takesConnections(String program) {
        ProgramSlot slot = slot(program);
        return !closed.get() && slot.takesConnections();
    }

    /**
     * Unloads the programs whose whole name matches: the next request loads them again, from their file as
     * it is then. Requests running now finish on the old program, which is destroyed when the last one ends.
     * A remembered load failure is forgotten too, so the next request tries again.
     *
     * @return how many programs were unloaded
     */
    public int invalidate(Pattern programNames) {
        Objects.requireNonNull(programNames, "programNames");
        int count = 0;
        for (ProgramSlot slot : slots.values()) {
            if (programNames.matcher(slot.name()).matches() && slot.invalidate()) {
                count++;
            }
        }
        return count;
    }

    /** @return statistics of every program */
    public KvmStats stats() {
        Map<String, KvmStats.Program> programs = new LinkedHashMap<>();
        for (ProgramSlot slot : slots.values()) {
            programs.put(slot.name(), slot.stats());
        }
        return new KvmStats(programs);
    }

    /**
     * The VMOD's stats(pattern, indentation).
     *
     * @param programPattern a regular expression matched against whole program names (".*" for all)
     * @param indentation spaces per level; 0 for compact JSON
     * @return a JSON object keyed by program name
     * @throws IllegalArgumentException when the pattern is invalid or indentation negative
     */
    public String statsJson(String programPattern, int indentation) {
        return StatsJson.write(stats(), StatsJson.compile(programPattern), indentation);
    }

    /** @return the program names, in library order */
    public Set<String> programNames() {
        return slots.keySet();
    }

    /** @return the effective definition of a program */
    public ProgramDefinition program(String program) {
        return slot(program).definition;
    }

    /**
     * @return what a program wrote (stdout, stderr, sys_log) while booting, bounded by the core; "" when it is
     *     not loaded
     * @throws IllegalArgumentException when there is no such program
     */
    public String bootLog(String program) {
        return slot(program).bootLog();
    }

    /** @return the name of this Kvm in JMX and logs */
    public String name() {
        return name;
    }

    /**
     * Adds a listener for every Kvm of this class loader: it is told at once about each Kvm running now, then
     * about every start, step and close. Adding the same listener twice reports everything twice.
     */
    public static void addListener(KvmListener listener) {
        Listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** @return true when the listener was registered (it then hears nothing more) */
    public static boolean removeListener(KvmListener listener) {
        return Listeners.remove(listener);
    }

    /** @return the Kvms of this class loader started and not yet closed, oldest first */
    public static List<Kvm> running() {
        return Listeners.running();
    }

    /** @return the version of the native core, e.g. "kvmfilter 0.1.0 (api 1)" */
    public static String nativeVersion() {
        return NativeLoader.version();
    }

    /**
     * Stops accepting requests, closes the open connections (their programs are told "shutdown"), unregisters the
     * JMX bean and unloads every program; programs are destroyed as soon as their running requests finish.
     * Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        Listeners.closed(this);
        if (reloadWatcher != null) {
            reloadWatcher.shutdownNow();
        }
        if (trimmer != null) {
            trimmer.shutdownNow();
        }
        starter.shutdown();
        for (ProgramConnection connection : List.copyOf(connections)) {
            connection.close("shutdown");
        }
        if (objectName != null) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(objectName);
            } catch (JMException e) {
                LOG.log(Level.WARNING, "kvmfilter: could not unregister " + objectName, e);
            }
        }
        for (ProgramSlot slot : slots.values()) {
            slot.close();
        }
    }

    @Override
    public String toString() {
        return "Kvm[" + name + ", programs " + slots.keySet() + (closed.get() ? ", closed" : "") + "]";
    }

    private ProgramSlot slot(String program) {
        ProgramSlot slot = slots.get(program);
        if (slot == null) {
            throw new IllegalArgumentException("No program '" + program + "' in Kvm '" + name + "'; programs: "
                    + String.join(", ", slots.keySet()));
        }
        return slot;
    }

    private void trimIdleInstances() {
        for (ProgramSlot slot : slots.values()) {
            try {
                slot.trimIdleInstances();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "kvmfilter: giving back the memory of program '" + slot.name()
                        + "' failed", e);
            }
        }
    }

    private void checkForChangedFiles() {
        for (ProgramSlot slot : slots.values()) {
            try {
                slot.reloadIfChanged();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "kvmfilter: checking program '" + slot.name() + "' for changes failed", e);
            }
        }
    }

    private ObjectName registerMBean() {
        ObjectName objectName;
        try {
            // The name was checked against NAME, whose characters need no quoting in an ObjectName.
            objectName = new ObjectName("io.kvmfilter:type=Kvm,name=" + name);
        } catch (JMException e) {
            throw new IllegalStateException("a checked name always makes a valid ObjectName", e);
        }
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            server.registerMBean(new KvmJmx(this), objectName);
            return objectName;
        } catch (InstanceAlreadyExistsException e) {
            close();
            throw new KvmConfigurationException("A Kvm named '" + name + "' is already running (JMX " + objectName
                    + "); close it first or start this one under another name");
        } catch (JMException | SecurityException e) {
            LOG.log(Level.WARNING, "kvmfilter: could not register " + objectName + " in JMX; statistics stay available"
                    + " through Kvm.stats()", e);
            return null;
        }
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
