package io.kvmfilter.filter;

import jakarta.servlet.http.HttpUpgradeHandler;
import jakarta.servlet.http.WebConnection;

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
            opened.start(connection);
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
}
