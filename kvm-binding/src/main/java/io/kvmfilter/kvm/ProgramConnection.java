package io.kvmfilter.kvm;

import com.sun.jna.Pointer;
import java.io.IOException;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A client connection handed to a program (the TinyKVM VMOD's {@code steal()}): one instance of the program,
 * taken from its pool by {@link Kvm#openConnection}, serves this connection alone until the session ends. The
 * program learns of the connection when it opens ({@link #opened()}), gets the client's bytes with
 * {@link #deliver}, and hears that the client has gone with {@link #close(String)}; whatever it writes goes to the
 * {@link ConnectionOutput} as it writes it, on the thread making the call.
 *
 * <p>Each step is bounded by the program's {@code max_request_time}; the pages the whole session writes by its
 * {@code max_request_memory}. A step whose outcome says {@link ConnectionOutcome#closed()} has ended the session:
 * the program closed its connection or failed, or the output said the client had gone. The instance is then
 * reset and back in the pool, and the caller closes the client connection. Idle and total time limits are the
 * caller's, since it owns the connection.
 *
 * <p>Thread-safe: calls are serialised, so a timer may close the connection while another thread delivers (the
 * close then waits for the delivery). A connection keeps the program version it started on: invalidating or
 * reloading the program lets it finish there, as running requests do. {@link #close()} (try-with-resources) closes
 * the session with the reason "closed" if it is still open; closing the {@link Kvm} closes every open connection.
 */
public final class ProgramConnection implements AutoCloseable {

    /** The most bytes handed to the output in one call: a large write comes in pieces of this size. */
    private static final int MAX_PIECE = 64 * 1024;

    private final String program;
    private final ProgramNotices notices;
    private final ConnectionOutput output;
    private final Consumer<ProgramConnection> onEnd;
    private final Object lock = new Object();
    /** Bound once per connection and kept here: JNA frees a callback's native thunk once its object is collected. */
    private final KvmNative.SocketWrite write = this::write;

    // Guarded by lock; the native resources are held from a successful acquire until the session ends.
    private LoadedProgram loaded;
    private long instance;
    private long result;
    private long buffer;
    private long bufferSize;
    private byte[] piece = new byte[0];
    private boolean ended;
    private long bytesIn;
    private long bytesOut;
    /** What the output threw that was not an IOException: the caller's defect, thrown again after the call. */
    private RuntimeException thrown;
    private ConnectionOutcome opened;

    private ProgramConnection(String program, ProgramNotices notices, ConnectionOutput output,
            Consumer<ProgramConnection> onEnd) {
        this.program = program;
        this.notices = notices;
        this.output = output;
        this.onEnd = onEnd;
    }

    /** A connection that never had an instance: opening it failed before the program ran. */
    static ProgramConnection refused(String program, Failure failure) {
        ProgramConnection connection = new ProgramConnection(program, null, (data, length) -> {
        }, c -> {
        });
        connection.ended = true;
        connection.opened = ConnectionOutcome.refused(failure);
        return connection;
    }

    /**
     * Takes an instance of the slot's program (waiting in its queue as a request does) and opens the session on it.
     *
     * @param onEnd told once when a session that opened has ended (its instance released)
     */
    static ProgramConnection open(ProgramSlot slot, String remote, String arg, ConnectionOutput output,
            Consumer<ProgramConnection> onEnd) {
        ProgramConnection connection = new ProgramConnection(slot.name(), slot.notices, output, onEnd);
        synchronized (connection.lock) {
            connection.opened = connection.start(slot, remote, arg);
        }
        return connection;
    }

    private ConnectionOutcome start(ProgramSlot slot, String remote, String arg) {
        LoadedProgram candidate;
        try {
            candidate = slot.retain();
        } catch (LoadedProgram.LoadException e) {
            ended = true;
            return ConnectionOutcome.refused(e.failure);
        }
        if (KvmNative.kvmf_program_takes_connections(candidate.handle) != 1) {
            candidate.release();
            ended = true;
            return ConnectionOutcome.refused(new Failure(FailureKind.NO_RESPONSE, program, "program '" + program
                    + "' takes no connections: it registers no socket handler (register_func 12) before"
                    + " wait_for_requests()"));
        }
        long[] out = new long[1];
        int rc = KvmNative.kvmf_program_acquire(candidate.handle, candidate.definition.queueTimeout().toMillis(), out);
        if (rc != 0) {
            // The same failure a request gets from a full or slow queue (QUEUE_TIMEOUT), with the core's message.
            Failure failure = new Failure(FailureKind.fromNative(rc), program, NativeStrings.lastError());
            candidate.release();
            ended = true;
            return ConnectionOutcome.refused(failure);
        }
        loaded = candidate;
        instance = out[0];
        try {
            result = NativeMemory.allocate(NativeLayout.SOCKET_RESULT_SIZE);
            byte[] remoteText = NativeStrings.cString(remote);
            byte[] argText = NativeStrings.cString(arg);
            ConnectionOutcome outcome = call(() -> KvmNative.kvmf_instance_socket_open(instance, remoteText, argText,
                    write, 0, result), false);
            if (!outcome.ok() && !outcome.closed()) {
                // A session that failed to start cannot go on, whatever the core says.
                end();
                return new ConnectionOutcome(outcome.failure(), true, outcome.bytesWritten(), outcome.log(),
                        outcome.runNanos());
            }
            return outcome;
        } catch (RuntimeException | Error e) {
            if (!ended) {
                end();
            }
            throw e;
        }
    }

    /** @return what opening the connection did: the program's greeting, or why there is no session */
    public ConnectionOutcome opened() {
        synchronized (lock) {
            return opened;
        }
    }

    /**
     * Gives the program bytes the client sent. They are copied into native memory once; the program gets them in
     * pieces of at most 64 KiB.
     *
     * @return what the program did with them; after the session has ended, a failure of kind INVALID_ARGUMENT
     *     without running anything
     */
    public ConnectionOutcome deliver(byte[] data, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, data.length);
        synchronized (lock) {
            if (ended) {
                return ConnectionOutcome.refused(new Failure(FailureKind.INVALID_ARGUMENT, program,
                        "the connection's session with program '" + program + "' has ended"));
            }
            if (length == 0) {
                return new ConnectionOutcome(Optional.empty(), false, 0, "", 0);
            }
            if (bufferSize < length) {
                NativeMemory.free(buffer);
                buffer = 0;
                bufferSize = 0;
                buffer = NativeMemory.allocate(length);
                bufferSize = length;
            }
            new Pointer(buffer).write(0, data, offset, length);
            bytesIn += length;
            return call(() -> KvmNative.kvmf_instance_socket_read(instance, buffer, length, result), false);
        }
    }

    /**
     * Tells the program the client has gone (or that the caller closes the connection: the reason says why) and
     * ends the session; the instance goes back to its pool.
     *
     * @param reason what the program is told, e.g. "client closed" or "idle timeout"
     * @return what the program did; closed is always true. Once the session has ended: an outcome without
     *     failure, doing nothing
     */
    public ConnectionOutcome close(String reason) {
        Objects.requireNonNull(reason, "reason");
        synchronized (lock) {
            if (ended) {
                return new ConnectionOutcome(Optional.empty(), true, 0, "", 0);
            }
            byte[] reasonText = NativeStrings.cString(reason);
            return call(() -> KvmNative.kvmf_instance_socket_close(instance, reasonText, result), true);
        }
    }

    /** Closes the session with the reason "closed" if it is still open. Idempotent. */
    @Override
    public void close() {
        close("closed");
    }

    /** @return true until the session has ended (or when it never opened: false) */
    public boolean isOpen() {
        synchronized (lock) {
            return !ended;
        }
    }

    /** @return the program serving this connection */
    public String program() {
        return program;
    }

    /** @return the client bytes delivered to the program so far */
    public long bytesIn() {
        synchronized (lock) {
            return bytesIn;
        }
    }

    /** @return the bytes the program wrote to the connection so far */
    public long bytesOut() {
        synchronized (lock) {
            return bytesOut;
        }
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return "ProgramConnection[" + program + (ended ? ", ended" : ", open") + ", in " + bytesIn + ", out "
                    + bytesOut + "]";
        }
    }

    private interface NativeCall {
        int run();
    }

    /** One native call on the session, under the lock; ends the session when the outcome says so (or always). */
    private ConnectionOutcome call(NativeCall call, boolean endsSession) {
        new Pointer(result).clear(NativeLayout.SOCKET_RESULT_SIZE);
        thrown = null;
        call.run();
        ConnectionOutcome outcome = readOutcome(endsSession);
        bytesOut += outcome.bytesWritten();
        if (!outcome.log().isEmpty()) {
            notices.report(outcome.log());
        }
        if (outcome.closed()) {
            end();
        }
        if (thrown != null) {
            RuntimeException e = thrown;
            thrown = null;
            throw e;
        }
        return outcome;
    }

    /** Reads struct kvmf_socket_result; its strings are copied now, since the next call on the instance frees them. */
    private ConnectionOutcome readOutcome(boolean closed) {
        Pointer r = new Pointer(result);
        long error = r.getLong(NativeLayout.SOCKET_ERROR);
        Optional<Failure> failure = error == 0 ? Optional.empty()
                : Optional.of(new Failure(FailureKind.fromNative(error), program,
                        NativeStrings.fromCString(r.getLong(NativeLayout.SOCKET_ERROR_MESSAGE))));
        return new ConnectionOutcome(failure, closed || r.getLong(NativeLayout.SOCKET_CLOSED) != 0,
                r.getLong(NativeLayout.SOCKET_BYTES_WRITTEN),
                NativeStrings.fromBytes(r.getLong(NativeLayout.SOCKET_LOG), r.getLong(NativeLayout.SOCKET_LOG_LEN)),
                r.getLong(NativeLayout.SOCKET_RUN_NS));
    }

    /** The session has ended: the instance is reset into its pool and the program version let go. */
    private void end() {
        ended = true;
        try {
            KvmNative.kvmf_instance_release(instance);
        } finally {
            instance = 0;
            NativeMemory.free(result);
            result = 0;
            NativeMemory.free(buffer);
            buffer = 0;
            bufferSize = 0;
            loaded.release();
            loaded = null;
            onEnd.accept(this);
        }
    }

    /** The core's kvmf_socket_write_fn: hands the program's bytes to the output, 64 KiB at a time. */
    private int write(long ctx, long data, long len) {
        if (len <= 0) {
            return 0;
        }
        Pointer from = new Pointer(data);
        try {
            for (long at = 0; at < len; ) {
                int n = (int) Math.min(MAX_PIECE, len - at);
                if (piece.length < n) {
                    piece = new byte[n];
                }
                from.read(at, piece, 0, n);
                output.write(piece, n);
                at += n;
            }
            return 0;
        } catch (IOException clientGone) {
            return 1;
        } catch (RuntimeException e) {
            thrown = e;
            return 1;
        }
    }
}
