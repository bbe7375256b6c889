package io.kvmfilter.filter;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;

/**
 * The Jetty connection an upgraded endpoint belongs to while a program serves it ({@link JettyConnectionTakeover}):
 * the {@link ProgramConnectionSession}'s transport over Jetty's core I/O. The client's bytes are filled on Jetty's
 * threads when the endpoint says they are there ({@code onFillable}, never on a selector thread: the connection's
 * read callback is a blocking one, so Jetty dispatches it) and go to the program on that thread; the program's bytes
 * are written asynchronously, one piece at a time, the session's queue holding the rest. While the session pauses
 * reading no fill-interest is registered, so the client's further bytes wait in the socket.
 *
 * <p>Jetty's own idle timeout of the endpoint is only a backstop, longer than the session's: the session closes an
 * idle connection after its idle timeout, and after one more idle time for the program's goodbye.
 */
final class JettyProgramConnection extends AbstractConnection implements Connection.UpgradeTo,
        ProgramConnectionSession.Transport {

    private final ProgramConnectionSession session;
    private final ByteBuffer readBuffer = BufferUtil.allocate(ProgramConnectionSession.READ_PIECE);
    private final Callback written = new Written();
    /** Bytes Jetty's HTTP connection had read past the request; taken by the first onFillable. */
    private volatile byte[] early;

    // Guarded by this.
    private boolean pending;
    private boolean writing;
    private Throwable writeFailure;

    JettyProgramConnection(EndPoint endPoint, Executor executor, ProgramConnectionSession session) {
        super(endPoint, executor);
        this.session = session;
    }

    @Override
    public void onUpgradeTo(ByteBuffer buffered) {
        byte[] bytes = new byte[buffered.remaining()];
        buffered.get(bytes);
        early = bytes;
    }

    @Override
    public void onOpen() {
        super.onOpen();
        getEndPoint().setIdleTimeout(backstop(session.idleTimeout()));
        boolean read = session.start(this);
        try {
            session.writePossible(); // the greeting
        } catch (IOException e) {
            dispatch(() -> session.clientGone("client error", true));
            return;
        }
        if (read) {
            if (early != null) {
                dispatch(this::onFillable); // the program runs on a pool thread, not on the one completing the 101
            } else {
                fillInterested();
            }
        }
    }

    /** Twice the idle timeout and a second: the session's own timer always closes first. */
    static long backstop(Duration idleTimeout) {
        long millis = idleTimeout.toMillis();
        return millis > (Long.MAX_VALUE - 1000) / 2 ? Long.MAX_VALUE : 2 * millis + 1000;
    }

    @Override
    public void onFillable() {
        try {
            byte[] first = early;
            if (first != null) {
                early = null;
                session.received(first, 0, first.length);
            }
            while (session.mayRead()) { // else the session has ended, or resumeReading follows
                BufferUtil.clear(readBuffer);
                int n = getEndPoint().fill(readBuffer);
                if (n > 0) {
                    session.received(readBuffer.array(), readBuffer.arrayOffset() + readBuffer.position(), n);
                } else if (n == 0) {
                    fillInterested();
                    return;
                } else {
                    session.clientGone("client closed", false);
                    return;
                }
            }
        } catch (IOException e) {
            session.clientGone("client error", true);
        }
    }

    @Override
    public void onFillInterestedFailed(Throwable cause) {
        // Jetty's backstop idle timeout, or the endpoint failed: on a pool thread, since the program is told.
        String reason = cause instanceof TimeoutException ? "idle timeout" : "client error";
        dispatch(() -> session.clientGone(reason, true));
    }

    @Override
    public void onClose(Throwable cause) {
        super.onClose(cause);
        // Usually the session closed it and this does nothing; else (server stopping) the program is told.
        dispatch(session::destroyed);
    }

    private void dispatch(Runnable task) {
        try {
            getExecutor().execute(task);
        } catch (RejectedExecutionException stopping) {
            task.run();
        }
    }

    @Override
    public boolean isReady() {
        synchronized (this) {
            return !pending;
        }
    }

    @Override
    public void write(byte[] piece) throws IOException {
        synchronized (this) {
            pending = true;
            writing = true;
        }
        Throwable failure;
        try {
            getEndPoint().write(written, ByteBuffer.wrap(piece));
        } finally {
            synchronized (this) {
                writing = false;
                failure = writeFailure;
                writeFailure = null;
            }
        }
        if (failure != null) {
            throw new IOException("writing to the client failed: " + failure, failure);
        }
    }

    @Override
    public void flush() {
        // Each piece is written as it comes: nothing is gathered.
    }

    @Override
    public void resumeReading() {
        fillInterested();
    }

    @Override
    public void close() {
        getEndPoint().close();
    }

    /**
     * A piece has been written. Completed at once inside {@link #write} (the session's drain goes on with the next
     * piece, and a failure is thrown from there, within the program's step), or later on a Jetty thread: then the
     * session is told, as a WriteListener would be.
     */
    private final class Written implements Callback {
        @Override
        public void succeeded() {
            boolean later;
            synchronized (JettyProgramConnection.this) {
                pending = false;
                later = !writing;
            }
            if (later) {
                try {
                    session.writePossible();
                } catch (IOException e) {
                    session.clientGone("client error", true);
                }
            }
        }

        @Override
        public void failed(Throwable x) {
            boolean later;
            synchronized (JettyProgramConnection.this) {
                pending = false;
                later = !writing;
                if (!later) {
                    writeFailure = x;
                }
            }
            if (later) {
                session.clientGone("client error", true);
            }
        }
    }
}
