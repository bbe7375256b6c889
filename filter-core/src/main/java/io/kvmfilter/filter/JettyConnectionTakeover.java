package io.kvmfilter.filter;

import jakarta.servlet.http.HttpServletRequest;
import java.util.concurrent.Executor;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;

/**
 * Connection takeover ({@link ProgramServlet}'s {@code connections}) on Jetty 12 (ee10), whose Servlet upgrade
 * does not pass the client's bytes on: the servlet answers 101 as usual, but instead of {@code request.upgrade} the
 * core request gets {@link HttpStream#UPGRADE_CONNECTION_ATTRIBUTE} naming a {@link JettyProgramConnection}. Once
 * the 101 is out, Jetty's HTTP/1.1 connection hands its endpoint to it ({@code EndPoint.upgrade}), with the bytes it
 * had already read past the request; Jetty's own WebSocket upgrades the same way.
 *
 * <p>The only class of the filter that the servlet calls on Jetty; it and {@link JettyProgramConnection} are loaded
 * only after the servlet has found Jetty's classes by name ({@code ProgramServlet.jettyCoreVisible}), so on any
 * other container no Jetty class is ever loaded.
 */
final class JettyConnectionTakeover {

    private final Request core;
    private final EndPoint endPoint;
    private final Executor executor;

    private JettyConnectionTakeover(Request core, EndPoint endPoint, Executor executor) {
        this.core = core;
        this.endPoint = endPoint;
        this.executor = executor;
    }

    /**
     * The core connection under a servlet request, or null when the request is not an ee10 request of this Jetty
     * (another environment, or Jetty classes of the web application's own).
     */
    static JettyConnectionTakeover of(HttpServletRequest request) {
        ServletContextRequest servletRequest = ServletContextRequest.getServletContextRequest(request);
        if (servletRequest == null) {
            return null;
        }
        ConnectionMetaData meta = servletRequest.getConnectionMetaData();
        Connection http = meta.getConnection();
        if (http == null || http.getEndPoint() == null) {
            return null;
        }
        // The attribute must be on the request Jetty's HTTP connection looks at: the innermost one.
        return new JettyConnectionTakeover(Request.unWrap(servletRequest), http.getEndPoint(),
                meta.getConnector().getExecutor());
    }

    /**
     * The connection goes to the session once the 101 the servlet is answering is complete (after its service
     * method returns); its head is the servlet response's.
     */
    void upgradeTo(ProgramConnectionSession session) {
        core.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE,
                new JettyProgramConnection(endPoint, executor, session));
    }
}
