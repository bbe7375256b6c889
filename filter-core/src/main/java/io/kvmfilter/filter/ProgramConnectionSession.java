package io.kvmfilter.filter;

import io.kvmfilter.kvm.ConnectionOutcome;
import io.kvmfilter.kvm.ConnectionOutput;
import io.kvmfilter.kvm.Failure;
import io.kvmfilter.kvm.ProgramConnection;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.WebConnection;
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
 * to the program as they arrive (a ReadListener), the program's bytes to the client through a queue that a
 * WriteListener drains, so no thread ever blocks on a slow client. While the queue holds more than
 * {@link #READ_PAUSE} bytes the client's further bytes are left unread; a program that makes more than
 * {@link #MAX_WAITING} bytes wait for a client that does not read ends its session.
 *
 * <p>The session ends when the program closes its connection or fails, when the client closes or the connection
 * breaks, or at the idle timeout or time limit (checked on the servlet's timer thread); the connection is closed
 * once the program's last bytes are out. Tomcat closes an upgraded connection that another thread closed only when
 * it next handles it (the client's next byte, or its close): the program's session and instance end at once all
 * the same. Container callbacks for one connection come one at a time (both Jetty and
 * Tomcat serialise them), so only one of them reads at a time; the program's calls are serialised by
 * {@link ProgramConnection}.
 */
final class ProgramConnectionSession implements ConnectionOutput {
    private static final System.Logger LOG = System.getLogger(ProgramServlet.class.getName());

    /** The most program bytes that may wait for the client. */
    static final int MAX_WAITING = 4 << 20;
    /** Above this many waiting bytes the client's input is not read until the client has taken them. */
    static final int READ_PAUSE = 64 << 10;
    private static final int READ_PIECE = 16 << 10;

    private final String program;
    private final RequestLine request;
    private final String remote;
    private final TransformStats stats;
    private final ScheduledExecutorService timer;
    private final long idleNanos;
    private final byte[] readBuffer = new byte[READ_PIECE];

    private volatile ProgramConnection connection;
    private volatile long lastActivity = System.nanoTime();

    // Guarded by this.
    private final ArrayDeque<byte[]> waiting = new ArrayDeque<>();
    private long waitingBytes;
    private boolean unflushed;
    private WebConnection web;
    private ServletInputStream in;
    private ServletOutputStream out;
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

    /** The upgrade is done: the connection's streams exist, and the waiting bytes can go out. */
    void start(WebConnection upgraded) throws IOException {
        synchronized (this) {
            web = upgraded;
            in = upgraded.getInputStream();
            out = upgraded.getOutputStream();
            // The container calls onWritePossible once it can write: the greeting goes out then.
            out.setWriteListener(new Writes());
            if (!ended) {
                in.setReadListener(new Reads());
            }
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
        if (out == null || webClosed) {
            return;
        }
        while (out.isReady()) {
            byte[] next = waiting.poll();
            if (next == null) {
                if (unflushed) {
                    // Jetty gathers small writes until a flush: the client must see each piece now.
                    unflushed = false;
                    out.flush();
                    continue;
                }
                if (ended) {
                    closeWeb();
                }
                return;
            }
            waitingBytes -= next.length;
            out.write(next);
            unflushed = true;
            lastActivity = System.nanoTime();
        }
    }

    /** Reads what the client sent while it is there, giving each piece to the program. */
    private void readAvailable() throws IOException {
        for (;;) {
            synchronized (this) {
                if (ended || webClosed) {
                    return;
                }
                if (waitingBytes > READ_PAUSE) {
                    readPaused = true; // onWritePossible reads on once the client has taken them
                    return;
                }
            }
            if (!in.isReady()) {
                return; // onDataAvailable or onAllDataRead follows
            }
            int n = in.read(readBuffer);
            if (n < 0) {
                return;
            }
            if (n > 0) {
                lastActivity = System.nanoTime();
                after(connection.deliver(readBuffer, 0, n));
            }
        }
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
     */
    private void clientGone(String reason, boolean broken) {
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
        if (web != null) {
            try {
                web.close();
            } catch (Exception e) {
                LOG.log(Level.DEBUG, "kvmfilter: closing the connection of program " + program + " failed", e);
            }
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

    /** The client's bytes. */
    private final class Reads implements ReadListener {
        @Override
        public void onDataAvailable() throws IOException {
            readAvailable();
        }

        @Override
        public void onAllDataRead() {
            clientGone("client closed", false);
        }

        @Override
        public void onError(Throwable t) {
            clientGone("client error", true);
        }
    }

    /** The container can take more of the program's bytes. */
    private final class Writes implements WriteListener {
        @Override
        public void onWritePossible() throws IOException {
            boolean resume;
            synchronized (ProgramConnectionSession.this) {
                drain();
                resume = readPaused && waitingBytes <= READ_PAUSE && !ended && !webClosed;
                if (resume) {
                    readPaused = false;
                }
            }
            if (resume) {
                readAvailable();
            }
        }

        @Override
        public void onError(Throwable t) {
            clientGone("client error", true);
        }
    }
}
