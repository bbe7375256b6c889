package io.kvmfilter.kvm;

import com.sun.jna.Pointer;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One booted generation of a program (a kvmf_program), reference counted: the {@link ProgramSlot} holds
 * one reference while the program is current, and every request holds one while it runs. Invalidation
 * drops the slot's reference; the native program is destroyed when the last request releases it, so
 * in-flight requests finish on the old program.
 */
final class LoadedProgram {
    private static final System.Logger LOG = System.getLogger(LoadedProgram.class.getName());

    final ProgramDefinition definition;
    final long handle;
    private final AtomicInteger references = new AtomicInteger(1);
    private final Consumer<NativeStats> onDestroy;

    private LoadedProgram(ProgramDefinition definition, long handle, Consumer<NativeStats> onDestroy) {
        this.definition = definition;
        this.handle = handle;
        this.onDestroy = onDestroy;
    }

    /** Thrown when a program cannot be loaded; carries the failure to report. */
    static final class LoadException extends Exception {
        private static final long serialVersionUID = 1L;
        final transient Failure failure;

        LoadException(Failure failure) {
            super(failure.message(), null, false, false);
            this.failure = failure;
        }
    }

    /**
     * Reads the ELF, checks its SHA-256 when configured and boots it.
     *
     * @param onDestroy receives the final statistics just before the native program is destroyed
     */
    static LoadedProgram load(ProgramDefinition definition, Consumer<NativeStats> onDestroy) throws LoadException {
        String name = definition.name();
        byte[] elf;
        try {
            elf = ProgramFiles.read(definition.source(), "program '" + name + "'");
            if (definition.sha256().isPresent()) {
                ProgramFiles.checkSha256(elf, definition.sha256().get(), "'" + name + "'", definition.source());
            }
        } catch (KvmException e) {
            throw new LoadException(new Failure(FailureKind.BOOT_FAILED, name, e.getMessage()));
        }
        long config = NativeMemory.allocate(NativeLayout.CONFIG_SIZE);
        long arguments = 0;
        long environment = 0;
        long stateFile = 0;
        long allowedPaths = 0;
        long egress = 0;
        long image = 0;
        try {
            KvmNative.kvmf_config_defaults(config);
            Pointer c = new Pointer(config);
            c.setLong(NativeLayout.CONFIG_MAX_MEMORY, definition.maxMemory());
            c.setLong(NativeLayout.CONFIG_MAX_REQUEST_MEMORY, definition.maxRequestMemory());
            c.setLong(NativeLayout.CONFIG_MAX_RESPONSE_SIZE, definition.maxResponseSize());
            c.setLong(NativeLayout.CONFIG_MAX_BOOT_TIME_MS, Math.max(1, definition.maxBootTime().toMillis()));
            c.setLong(NativeLayout.CONFIG_MAX_REQUEST_TIME_MS, Math.max(1, definition.maxRequestTime().toMillis()));
            c.setLong(NativeLayout.CONFIG_ON_ERROR_TIME_MS, Math.max(1, definition.onErrorTime().toMillis()));
            c.setLong(NativeLayout.CONFIG_CONCURRENCY, definition.concurrency());
            c.setLong(NativeLayout.CONFIG_MAX_QUEUE, definition.maxQueue());
            c.setLong(NativeLayout.CONFIG_EPHEMERAL, definition.ephemeral() ? 1 : 0);
            c.setLong(NativeLayout.CONFIG_DEBUG, definition.debug() ? 1 : 0);
            c.setLong(NativeLayout.CONFIG_SHARED_MEMORY, definition.sharedMemory());
            c.setLong(NativeLayout.CONFIG_STORAGE, definition.storage() ? 1 : 0);
            c.setLong(NativeLayout.CONFIG_MAX_STORAGE_MEMORY, definition.maxStorageMemory());
            c.setLong(NativeLayout.CONFIG_MAX_STORAGE_TIME_MS, definition.maxStorageTime().toMillis());
            if (definition.stateFile().isPresent()) {
                stateFile = NativeMemory.copyOf(NativeStrings.cString(definition.stateFile().get().toString()));
                c.setLong(NativeLayout.CONFIG_STATE_FILE, stateFile);
            }
            if (!definition.mainArguments().isEmpty()) {
                byte[] packed = NativeStrings.packed(definition.mainArguments());
                arguments = NativeMemory.copyOf(packed);
                c.setLong(NativeLayout.CONFIG_ARGUMENTS, arguments);
                c.setLong(NativeLayout.CONFIG_ARGUMENTS_LEN, packed.length);
            }
            if (!definition.environment().isEmpty()) {
                byte[] packed = NativeStrings.packed(definition.environment());
                environment = NativeMemory.copyOf(packed);
                c.setLong(NativeLayout.CONFIG_ENVIRONMENT, environment);
                c.setLong(NativeLayout.CONFIG_ENVIRONMENT_LEN, packed.length);
            }
            if (!definition.allowedPaths().isEmpty()) {
                List<String> pairs = new ArrayList<>();
                definition.allowedPaths().forEach((guest, host) -> {
                    pairs.add(guest);
                    pairs.add(host.toString());
                });
                byte[] packed = NativeStrings.packed(pairs);
                allowedPaths = NativeMemory.copyOf(packed);
                c.setLong(NativeLayout.CONFIG_ALLOWED_PATHS, allowedPaths);
                c.setLong(NativeLayout.CONFIG_ALLOWED_PATHS_LEN, packed.length);
            }
            if (definition.egress().isPresent()) {
                byte[] packed = NativeStrings.packed(definition.egress().get().entries());
                egress = NativeMemory.copyOf(packed);
                c.setLong(NativeLayout.CONFIG_EGRESS, egress);
                c.setLong(NativeLayout.CONFIG_EGRESS_LEN, packed.length);
            }
            image = NativeMemory.copyOf(elf);
            long[] out = new long[1];
            int rc = KvmNative.kvmf_program_create(NativeStrings.cString(name), image, elf.length, config, out);
            if (rc != 0) {
                throw new LoadException(new Failure(FailureKind.fromNative(rc), name, NativeStrings.lastError()));
            }
            return new LoadedProgram(definition, out[0], onDestroy);
        } finally {
            NativeMemory.free(config);
            NativeMemory.free(arguments);
            NativeMemory.free(environment);
            NativeMemory.free(stateFile);
            NativeMemory.free(allowedPaths);
            NativeMemory.free(egress);
            NativeMemory.free(image);
        }
    }

    /** @return true when a reference was taken; false when the program is already being destroyed */
    boolean retain() {
        for (;;) {
            int count = references.get();
            if (count == 0) {
                return false;
            }
            if (references.compareAndSet(count, count + 1)) {
                return true;
            }
        }
    }

    /** Drops a reference; the last one destroys the native program. */
    void release() {
        if (references.decrementAndGet() == 0) {
            destroy();
        }
    }

    private void destroy() {
        try {
            onDestroy.accept(NativeStats.read(handle));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "kvmfilter: could not read the final statistics of program '" + definition.name() + "'", e);
        }
        int rc = KvmNative.kvmf_program_destroy(handle);
        if (rc != 0) {
            // Cannot happen while the reference count is right: every instance is released before the last reference.
            LOG.log(Level.ERROR, "kvmfilter: kvmf_program_destroy('" + definition.name() + "') failed: "
                    + NativeStrings.lastError());
        }
    }

    /** @return the output the program wrote while booting */
    String bootLog() {
        return NativeStrings.fromCString(KvmNative.kvmf_program_boot_log(handle));
    }
}
