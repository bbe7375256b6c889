package io.kvmfilter.kvm;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The place of one program in a {@link Kvm}: loads it on first use (or eagerly), hands out references to
 * the current {@link LoadedProgram}, unloads it on invalidation or when its file changed, and keeps the
 * statistics of earlier loads.
 */
final class ProgramSlot {
    private static final System.Logger LOG = System.getLogger(ProgramSlot.class.getName());

    /** After a failed load, requests get the same failure for this long before a new load is tried. */
    static final long LOAD_RETRY_DELAY_NANOS = 2_000_000_000L;

    final ProgramDefinition definition;
    private volatile LoadedProgram current;
    private final Object loadLock = new Object();
    private boolean closed;
    private LoadedProgram.LoadException lastLoadFailure;
    private long lastLoadFailureAt;
    /**
     * A program with storage that was unloaded (invalidated, or its file changed), kept with a reference until the
     * next load has taken over its storage's state (live update), under loadLock.
     */
    private LoadedProgram predecessor;
    /** Fingerprint of the file at the last load attempt, so reload also retries a fixed file. */
    private volatile String lastSeenFingerprint;

    private final AtomicLong loads = new AtomicLong();
    private final AtomicLong loadFailures = new AtomicLong();
    private final AtomicLong errorStatuses = new AtomicLong();
    private NativeStats retired = NativeStats.zero();
    /** The sandbox's notices about this program, to the host's log (once a minute per kind). */
    final ProgramNotices notices;

    ProgramSlot(ProgramDefinition definition) {
        this.definition = definition;
        this.notices = new ProgramNotices(definition.name());
    }

    String name() {
        return definition.name();
    }

    /**
     * @return the current program with a reference taken (release it when done), loading it if needed
     * @throws LoadedProgram.LoadException when it cannot be loaded, or the Kvm is closed
     */
    LoadedProgram retain() throws LoadedProgram.LoadException {
        for (;;) {
            LoadedProgram program = current;
            if (program != null && program.retain()) {
                return program;
            }
            synchronized (loadLock) {
                if (current != null) {
                    continue; // loaded (or replaced) meanwhile: take a reference outside the lock
                }
                if (closed) {
                    throw new LoadedProgram.LoadException(new Failure(FailureKind.UNAVAILABLE, name(),
                            "the Kvm running program '" + name() + "' is closed"));
                }
                if (lastLoadFailure != null && System.nanoTime() - lastLoadFailureAt < LOAD_RETRY_DELAY_NANOS) {
                    throw lastLoadFailure;
                }
                current = loadLocked();
            }
        }
    }

    private LoadedProgram loadLocked() throws LoadedProgram.LoadException {
        lastSeenFingerprint = ProgramFiles.fingerprint(definition.source());
        try {
            LoadedProgram program = LoadedProgram.load(definition, this::addRetired);
            try {
                if (definition.start() || definition.warmupRequests() > 0) {
                    Warmup.prepare(program);
                }
            } catch (LoadedProgram.LoadException e) {
                program.release();
                throw e;
            }
            loads.incrementAndGet();
            lastLoadFailure = null;
            if (predecessor != null) {
                liveUpdate(predecessor, program);
                predecessor.release();
                predecessor = null;
            }
            return program;
        } catch (LoadedProgram.LoadException e) {
            loadFailures.incrementAndGet();
            lastLoadFailure = e;
            lastLoadFailureAt = System.nanoTime();
            LOG.log(Level.WARNING, "kvmfilter: program '" + name() + "' failed to load: " + e.failure);
            throw e;
        }
    }

    /**
     * Moves the state of the old version's storage into the new one's (the program's live-update handlers 6 and 7).
     * A failure is logged and leaves the new version with the storage it booted with.
     */
    private void liveUpdate(LoadedProgram from, LoadedProgram to) {
        long moved = NativeMemory.allocate(8);
        try {
            int rc = KvmNative.kvmf_program_live_update(from.handle, to.handle, moved);
            if (rc != 0) {
                LOG.log(Level.WARNING, "kvmfilter: program '" + name() + "': its storage starts afresh, the live "
                        + "update failed: " + FailureKind.fromNative(rc) + ": " + NativeStrings.lastError());
            } else {
                long bytes = new com.sun.jna.Pointer(moved).getLong(0);
                LOG.log(Level.INFO, "kvmfilter: program '" + name() + "': live update moved " + bytes
                        + " bytes of storage state to the new version");
            }
        } finally {
            NativeMemory.free(moved);
        }
    }

    /** Loads the program now unless it is loaded, and creates all its instances (eager start). */
    void start() throws LoadedProgram.LoadException {
        LoadedProgram program = retain();
        try {
            // Already done at load for "start": true; creates the instances a lazily loaded program lacks.
            int rc = KvmNative.kvmf_program_prepare_instances(program.handle);
            if (rc != 0) {
                throw new LoadedProgram.LoadException(new Failure(FailureKind.fromNative(rc), name(),
                        "creating the " + definition.concurrency() + " instances failed: " + NativeStrings.lastError()));
            }
        } finally {
            program.release();
        }
    }

    /**
     * Unloads the program: the next request loads it again; requests running now finish on the old one.
     *
     * @return true when a loaded program (or a remembered load failure) was dropped
     */
    boolean invalidate() {
        LoadedProgram old;
        LoadedProgram toRelease;
        boolean hadFailure;
        synchronized (loadLock) {
            old = current;
            current = null;
            hadFailure = lastLoadFailure != null;
            lastLoadFailure = null;
            toRelease = old;
            if (old != null && definition.storage() && !closed) {
                // Its storage's state goes to the next version at its load; an older one kept for that is let go.
                toRelease = predecessor;
                predecessor = old;
            }
        }
        if (toRelease != null) {
            toRelease.release();
        }
        return old != null || hadFailure;
    }

    /**
     * Gives back the memory of instances idle for the program's trim_idle_time, if it is loaded (never loads it).
     *
     * @throws KvmException when the core refuses (a failed madvise)
     */
    void trimIdleInstances() {
        long idleMillis = definition.trimIdleTime().toMillis();
        LoadedProgram program = current;
        if (idleMillis == 0 || program == null || !program.retain()) {
            return;
        }
        try {
            if (KvmNative.kvmf_program_trim(program.handle, idleMillis, 0) != 0) {
                throw new KvmException("kvmf_program_trim failed: " + NativeStrings.lastError());
            }
        } finally {
            program.release();
        }
    }

    /**
     * @return true when the program registered the socket handler (register_func 12); loads it if needed, and is
     *     false when it cannot be loaded
     */
    boolean takesConnections() {
        LoadedProgram program;
        try {
            program = retain();
        } catch (LoadedProgram.LoadException e) {
            return false;
        }
        try {
            return KvmNative.kvmf_program_takes_connections(program.handle) == 1;
        } finally {
            program.release();
        }
    }

    /** Unloads when reload is on and the file changed since the last load attempt. */
    boolean reloadIfChanged() {
        if (!definition.reload()) {
            return false;
        }
        String now = ProgramFiles.fingerprint(definition.source());
        if (now != null && !now.equals(lastSeenFingerprint)) {
            lastSeenFingerprint = now;
            LOG.log(Level.INFO, "kvmfilter: program '" + name() + "' changed on disk (" + definition.source()
                    + "); the next request loads the new file");
            return invalidate();
        }
        return false;
    }

    void close() {
        LoadedProgram kept;
        synchronized (loadLock) {
            closed = true;
            kept = predecessor;
            predecessor = null;
        }
        invalidate();
        if (kept != null) {
            kept.release();
        }
    }

    /** @return what the loaded program wrote while booting, or "" when it is not loaded */
    String bootLog() {
        LoadedProgram program = current;
        if (program == null || !program.retain()) {
            return "";
        }
        try {
            return program.bootLog();
        } finally {
            program.release();
        }
    }

    void countErrorStatus() {
        errorStatuses.incrementAndGet();
    }

    private void addRetired(NativeStats last) {
        synchronized (this) {
            retired = retired.plusCounters(last);
        }
    }

    /** @return the statistics of this program: earlier loads plus the current one */
    KvmStats.Program stats() {
        LoadedProgram program = current;
        boolean loaded = program != null && program.retain();
        NativeStats totals;
        List<KvmStats.Instance> instances = new ArrayList<>();
        try {
            NativeStats now = loaded ? NativeStats.read(program.handle) : NativeStats.zero();
            synchronized (this) {
                totals = now.plusCounters(retired);
            }
            if (loaded) {
                long count = now.get(NativeLayout.PSTATS_INSTANCES);
                try {
                    for (int i = 0; i < count; i++) {
                        instances.add(NativeStats.readInstance(program.handle, i));
                    }
                } catch (KvmException replacedMeanwhile) {
                    // An instance that failed its reset is being replaced: the list is one shorter this time.
                }
            }
        } finally {
            if (loaded) {
                program.release();
            }
        }
        Map<FailureKind, Long> byKind = new EnumMap<>(FailureKind.class);
        for (int kind = 1; kind <= FailureKind.NATIVE_KIND_COUNT; kind++) {
            byKind.put(FailureKind.fromNative(kind), totals.failuresOfKind(kind));
        }
        byKind.put(FailureKind.ERROR_STATUS, errorStatuses.get());
        return new KvmStats.Program(name(), loaded, loads.get(), loadFailures.get(),
                totals.get(NativeLayout.PSTATS_INVOCATIONS),
                totals.get(NativeLayout.PSTATS_FAILURES),
                byKind,
                totals.get(NativeLayout.PSTATS_ON_ERROR_ANSWERS),
                totals.get(NativeLayout.PSTATS_RESETS),
                totals.get(NativeLayout.PSTATS_RESET_NS),
                totals.get(NativeLayout.PSTATS_RUN_NS),
                totals.get(NativeLayout.PSTATS_CPU_NS),
                totals.get(NativeLayout.PSTATS_BYTES_IN),
                totals.get(NativeLayout.PSTATS_BYTES_OUT),
                totals.get(NativeLayout.PSTATS_DIRTY_PAGES),
                totals.get(NativeLayout.PSTATS_QUEUE_WAITS),
                totals.get(NativeLayout.PSTATS_QUEUE_TIMEOUTS),
                totals.get(NativeLayout.PSTATS_QUEUE_WAIT_NS),
                totals.get(NativeLayout.PSTATS_INSTANCES),
                totals.get(NativeLayout.PSTATS_INSTANCES_BUSY),
                totals.get(NativeLayout.PSTATS_BOOT_NS),
                totals.get(NativeLayout.PSTATS_FROZEN_BYTES),
                totals.get(NativeLayout.PSTATS_INSTANCE_BYTES),
                loaded ? totals.get(NativeLayout.PSTATS_MAX_MEMORY) : definition.maxMemory(),
                loaded ? totals.get(NativeLayout.PSTATS_MAX_REQUEST_MEMORY) : definition.maxRequestMemory(),
                totals.get(NativeLayout.PSTATS_UNSUPPORTED_CALLS),
                totals.get(NativeLayout.PSTATS_REFUSED_CALLS),
                totals.get(NativeLayout.PSTATS_WARMUPS),
                totals.get(NativeLayout.PSTATS_EXITS),
                totals.get(NativeLayout.PSTATS_TRAP_EXITS),
                totals.get(NativeLayout.PSTATS_TRIMMED_BYTES),
                totals.get(NativeLayout.PSTATS_STORAGE_CALLS),
                totals.get(NativeLayout.PSTATS_STORAGE_FAILURES),
                totals.get(NativeLayout.PSTATS_STORAGE_TASKS),
                totals.get(NativeLayout.PSTATS_STORAGE_TASK_FAILURES),
                totals.get(NativeLayout.PSTATS_FETCHES),
                totals.get(NativeLayout.PSTATS_FETCH_REFUSALS),
                totals.get(NativeLayout.PSTATS_FETCH_FAILURES),
                totals.get(NativeLayout.PSTATS_FETCH_BYTES),
                totals.get(NativeLayout.PSTATS_CONNECTIONS),
                totals.get(NativeLayout.PSTATS_CONNECTION_FAILURES),
                totals.get(NativeLayout.PSTATS_CONNECTION_BYTES_IN),
                totals.get(NativeLayout.PSTATS_CONNECTION_BYTES_OUT),
                instances);
    }
}
