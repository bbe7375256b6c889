package io.kvmfilter.filter;

import io.kvmfilter.kvm.ConnectionOutcome;
import io.kvmfilter.kvm.ConnectionOutput;
import io.kvmfilter.kvm.Failure;
import io.kvmfilter.kvm.ProgramConnection;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One upgraded connection served by a program ({@link ProgramServlet}'s {@code connections}): the client's bytes go
 * to the program as they arrive, the program's bytes to the client through a queue that the container drains as it
 * can write, so no thread ever blocks on a slow client. While the queue holds more than {@link #READ_PAUSE} bytes
 * the client's further bytes are left unread; a program that makes more than {@link #MAX_WAITING} bytes wait for a
 * client that does not read ends its session.
 *
 * <p>How bytes reach the client and come from it is a {@link Transport}'s: the Servlet upgrade's streams
 * ({@link ProgramConnectionUpgrade}, Tomcat) or Jetty's endpoint ({@link JettyConnectionTakeover}). Everything else
 * is here, the same for both: the queue and its bounds, the idle timeout and time limit, when the connection closes
 * and what the program is told.
 *
 * <p>The session ends when the program closes its connection or fails, when the client closes or the connection
 * breaks, or at the idle timeout or time limit (checked on the servlet's timer thread); the connection is closed
 * once the program's last bytes are out. Tomcat closes an upgraded connection that another thread closed only when
 * it next handles it (the client's next byte, or its close): the program's session and instance end at once all
 * the same. A transport reads on one thread at a time (container callbacks for one connection come one at a time);
 * the program's calls are serialised by {@link ProgramConnection}.
 */
final class ProgramConnectionSession implements ConnectionOutput {
    private static final System.Logger LOG = System.getLogger(ProgramServlet.class.getName());

    /** The most program bytes that may wait for the client. */
    static final int MAX_WAITING = 4 << 20;
    /** Above this many waiting bytes the client's input is not read until the client has taken them. */
    static final int READ_PAUSE = 64 << 10;
    /** The most client bytes a transport reads at once. */
    static final int READ_PIECE = 16 << 10;

    /**
     * The client connection under a session: the container's side. The session calls it under its own lock (so
     * one call at a time), except {@link #resumeReading}.
     */
    interface Transport {
        /**
         * @return true when {@link #write} may be called now; when false, the transport calls
         *     {@link #writePossible()} once it may
         */
        boolean isReady() throws IOException;

        /** Hands the client a piece of the program's bytes (the array is the transport's from now on). */
        void write(byte[] piece) throws IOException;

        /** The pieces written so far must reach the client now, not wait for more. */
        void flush() throws IOException;

        /**
         * Reading stopped at {@link #mayRead()} while too many bytes waited for the client; it has taken them: read
         * on. Called without the session's lock, on the thread that drained the queue.
         */
        void resumeReading() throws IOException;

        /** Closes the client connection; called once. */
        void close() throws Exception;
    }

    private final String program;
    private final RequestLine request;
    private final String remote;
    private final TransformStats stats;
    private final ScheduledExecutorService timer;
    private final long idleNanos;

    private volatile ProgramConnection connection;
    private volatile long lastActivity = System.nanoTime();

    // Guarded by this.
    private final ArrayDeque<byte[]> waiting = new ArrayDeque<>();
    private long waitingBytes;
    private boolean unflushed;
    private Transport transport;
    private boolean readPaused;
    private boolean ended;
    private boolean webClosed;
    private boolean failureLogged;
    private ScheduledFuture<?> idleCheck;
    private ScheduledFuture<?> timeLimit;

    /**
     * @param stats counts and logs a failed session (once a minute per reason, as the servlet's failures)
     * @param timer the servlet's timer for the idle timeout and the time limit
     */
    ProgramConnectionSession(String program, RequestLine request, String remote, TransformStats stats,
            ScheduledExecutorService timer, Duration idleTimeout) {
        this.program = program;
        this.request = request;
        this.remote = remote;
        this.stats = stats;
        this.timer = timer;
        this.idleNanos = idleTimeout.toNanos();
    }

    /** @return the idle timeout this session closes its connection at */
    Duration idleTimeout() {
        return Duration.ofNanos(idleNanos);
    }

    /**
     * The program took the connection (its greeting waits in the queue): the timers start now, so a connection
     * whose upgrade never completes still ends.
     */
    void opened(ProgramConnection opened, Duration maxTime) {
        connection = opened;
        synchronized (this) {
            ended = !opened.isOpen();
            try {
                idleCheck = timer.schedule(this::checkIdle, idleNanos, TimeUnit.NANOSECONDS);
                timeLimit = timer.schedule(() -> timeUp("time limit"), maxTime.toNanos(), TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException stopping) {
                // The servlet is being destroyed: its sandbox closes every connection.
            }
        }
    }

    /**
     * The upgrade is done: the waiting bytes can go out through the transport (it calls {@link #writePossible()}
     * when it is ready for them). A session that was closed meanwhile (a time limit) closes it at once.
     *
     * @return whether the transport is to read the client's bytes: false when the session has already ended
     */
    boolean start(Transport upgraded) {
        synchronized (this) {
            transport = upgraded;
            if (webClosed) {
                closeTransport(); // closed by a timer before the upgrade completed
                return false;
            }
            return !ended;
        }
    }

    /** The program's bytes: queued, and handed to the container as far as it takes them now. */
    @Override
    public void write(byte[] data, int length) throws IOException {
        synchronized (this) {
            if (webClosed) {
                throw new IOException("the connection is closed");
            }
            if (waitingBytes + length > MAX_WAITING) {
                throw new IOException("the client does not read: " + waitingBytes + " bytes wait for it");
            }
            waiting.add(Arrays.copyOf(data, length));
            waitingBytes += length;
            drain();
        }
    }

    /** Hands waiting bytes to the container while it is ready; closes the connection after the last ones. */
    private void drain() throws IOException {
        if (transport == null || webClosed) {
            return;
        }
        while (transport.isReady()) {
            byte[] next = waiting.poll();
            if (next == null) {
                if (unflushed) {
                    // A Servlet output may gather small writes until a flush: the client must see each piece now.
                    unflushed = false;
                    transport.flush();
                    continue;
                }
                if (ended) {
                    closeWeb();
                }
                return;
            }
            waitingBytes -= next.length;
            transport.write(next);
            unflushed = true;
            lastActivity = System.nanoTime();
        }
    }

    /**
     * Whether the transport may read the client's next bytes now: not once the session has ended, and not while
     * more than {@link #READ_PAUSE} bytes wait for the client ({@link Transport#resumeReading} follows then).
     */
    boolean mayRead() {
        synchronized (this) {
            if (ended || webClosed) {
                return false;
            }
            if (waitingBytes > READ_PAUSE) {
                readPaused = true;
                return false;
            }
            return true;
        }
    }

    /** Bytes the client sent: they go to the program (on the calling thread, which the program's step holds). */
    void received(byte[] data, int offset, int length) {
        if (length > 0) {
            lastActivity = System.nanoTime();
            after(connection.deliver(data, offset, length));
        }
    }

    /** The transport can take more of the program's bytes: they go out, and reading resumes once few wait. */
    void writePossible() throws IOException {
        boolean resume;
        synchronized (this) {
            drain();
            resume = readPaused && waitingBytes <= READ_PAUSE && !ended && !webClosed;
            if (resume) {
                readPaused = false;
            }
        }
        if (resume) {
            transport().resumeReading();
        }
    }

    private synchronized Transport transport() {
        return transport;
    }

    /** What a step of the program's session did: a failure is logged, an end closes the connection. */
    private void after(ConnectionOutcome outcome) {
        outcome.failure().ifPresent(this::logFailure);
        if (outcome.closed()) {
            synchronized (this) {
                ended = true;
                try {
                    drain();
                } catch (IOException clientGone) {
                    closeWeb();
                }
            }
        }
    }

    private void logFailure(Failure failure) {
        synchronized (this) {
            if (failureLogged) {
                return;
            }
            failureLogged = true;
        }
        ProgramConnection c = connection;
        stats.failure(Outcome.fallback(program, KvmTransform.reason(failure)), failure.message() + " (connection from "
                + remote + ", " + c.bytesIn() + " bytes in, " + c.bytesOut() + " bytes out)", request);
    }

    /**
     * The client has closed its side, or the connection broke: the program is told. After a close the client may
     * still read the program's last bytes, so the connection closes once they are out; after an error at once.
     * Never called from within a program's step (a transport's write reports its failure by throwing).
     */
    void clientGone(String reason, boolean broken) {
        after(connection.close(reason));
        if (broken) {
            synchronized (this) {
                closeWeb();
            }
        }
    }

    private void checkIdle() {
        long idle = System.nanoTime() - lastActivity;
        if (idle < idleNanos) {
            synchronized (this) {
                if (!webClosed) {
                    idleCheck = timer.schedule(this::checkIdle, idleNanos - idle, TimeUnit.NANOSECONDS);
                }
            }
            return;
        }
        timeUp("idle timeout");
    }

    /**
     * The idle timeout or time limit: the program is told why and may say goodbye; a session that has already
     * ended, whose last bytes the client does not take, has its connection closed at once. Runs on the timer
     * thread; closing waits for a delivery running now, which its max_request_time bounds.
     */
    private void timeUp(String reason) {
        boolean alreadyEnded;
        synchronized (this) {
            if (webClosed) {
                return;
            }
            alreadyEnded = ended;
            if (alreadyEnded) {
                closeWeb();
                return;
            }
        }
        after(connection.close(reason));
        synchronized (this) {
            if (!webClosed) {
                // The goodbye gets one more idle time to reach the client.
                idleCheck = timer.schedule(() -> timeUp(reason), idleNanos, TimeUnit.NANOSECONDS);
            }
        }
    }

    /** Closes the client connection once; under this. */
    private void closeWeb() {
        if (webClosed) {
            return;
        }
        webClosed = true;
        waiting.clear();
        waitingBytes = 0;
        cancelTimers();
        if (transport != null) {
            closeTransport();
        }
    }

    private void closeTransport() {
        try {
            transport.close();
        } catch (Exception e) {
            LOG.log(Level.DEBUG, "kvmfilter: closing the connection of program " + program + " failed", e);
        }
    }

    private void cancelTimers() {
        if (idleCheck != null) {
            idleCheck.cancel(false);
        }
        if (timeLimit != null) {
            timeLimit.cancel(false);
        }
    }

    /** The container ended the upgraded connection: the program is told, if it is still there. */
    void destroyed() {
        ProgramConnection c = connection;
        if (c != null) {
            after(c.close("closed"));
        }
        synchronized (this) {
            webClosed = true;
            waiting.clear();
            waitingBytes = 0;
            cancelTimers();
        }
    }
}
