package io.kvmfilter.filter;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpUpgradeHandler;
import jakarta.servlet.http.WebConnection;
import java.io.IOException;

/**
 * The {@link HttpUpgradeHandler} of a connection {@link ProgramServlet} hands to a program ({@code connections}).
 * The container creates it (hence public, with a public no-arg constructor) when the servlet calls
 * {@code request.upgrade}; the servlet then gives it the session it opened, before the container calls
 * {@link #init} (after the servlet's service method has returned). Not for use by applications: created any other
 * way it has no session and closes the connection.
 */
public final class ProgramConnectionUpgrade implements HttpUpgradeHandler {

    private volatile ProgramConnectionSession session;

    /** For the container. */
    public ProgramConnectionUpgrade() {
    }

    /** Hands over the session the servlet opened, before the container calls {@link #init}. */
    void serve(ProgramConnectionSession opened) {
        session = opened;
    }

    /** The connection is upgraded: the program's greeting goes out, and the client's bytes go to it from now on. */
    @Override
    public void init(WebConnection connection) {
        ProgramConnectionSession opened = session;
        try {
            if (opened == null) {
                connection.close();
                return;
            }
            new Streams(opened, connection).start();
        } catch (Exception e) {
            // An upgraded connection has nobody to throw to: it ends, and the program is told.
            if (opened != null) {
                opened.destroyed();
            }
            try {
                connection.close();
            } catch (Exception ignored) {
                // already broken
            }
        }
    }

    /** The container has ended the connection. */
    @Override
    public void destroy() {
        ProgramConnectionSession opened = session;
        if (opened != null) {
            opened.destroyed();
        }
    }

    /**
     * The session's transport over the upgraded connection's Servlet streams: a ReadListener reads the client's
     * bytes, a WriteListener says when the output takes more.
     */
    private static final class Streams implements ProgramConnectionSession.Transport {
        private final ProgramConnectionSession session;
        private final WebConnection web;
        private final ServletInputStream in;
        private final ServletOutputStream out;
        private final byte[] readBuffer = new byte[ProgramConnectionSession.READ_PIECE];

        Streams(ProgramConnectionSession session, WebConnection web) throws IOException {
            this.session = session;
            this.web = web;
            this.in = web.getInputStream();
            this.out = web.getOutputStream();
        }

        void start() throws IOException {
            // Under the session's lock: a timer's goodbye must not reach isReady before the listener is set.
            synchronized (session) {
                boolean read = session.start(this);
                // The container calls onWritePossible once it can write: the greeting goes out then.
                out.setWriteListener(new Writes());
                if (read) {
                    in.setReadListener(new Reads());
                }
            }
        }

        @Override
        public boolean isReady() {
            return out.isReady();
        }

        @Override
        public void write(byte[] piece) throws IOException {
            out.write(piece);
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void resumeReading() throws IOException {
            readAvailable();
        }

        @Override
        public void close() throws Exception {
            web.close();
        }

        /** Reads what the client sent while it is there, giving each piece to the program. */
        private void readAvailable() throws IOException {
            while (session.mayRead() && in.isReady()) { // else onDataAvailable, onAllDataRead or resumeReading follows
                int n = in.read(readBuffer);
                if (n < 0) {
                    return;
                }
                session.received(readBuffer, 0, n);
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
                session.clientGone("client closed", false);
            }

            @Override
            public void onError(Throwable t) {
                session.clientGone("client error", true);
            }
        }

        /** The container can take more of the program's bytes. */
        private final class Writes implements WriteListener {
            @Override
            public void onWritePossible() throws IOException {
                session.writePossible();
            }

            @Override
            public void onError(Throwable t) {
                session.clientGone("client error", true);
            }
        }
    }
}
