package io.kvmfilter.filter;

import jakarta.servlet.DispatcherType;
import java.util.EnumSet;
import org.eclipse.jetty.ee10.servlet.DefaultServlet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/** Embedded Jetty 12 (ee10). Filters are mapped for REQUEST and ASYNC, async supported everywhere. */
final class JettyContainer implements ServletContainer {

    private Server server;
    private ServerConnector connector;

    @Override
    public void start(Deployment deployment) throws Exception {
        server = deployment.maxThreads > 0
                ? new Server(new org.eclipse.jetty.util.thread.QueuedThreadPool(deployment.maxThreads, 2))
                : new Server();
        // One acceptor and one selector, so a small pool still has threads left for requests.
        connector = deployment.maxThreads > 0 ? new ServerConnector(server, 1, 1) : new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        deployment.mimeTypes.forEach((ext, type) -> context.getMimeTypes().addMimeMapping(ext, type));
        deployment.contextParams.forEach(context::setInitParameter);
        for (Deployment.FilterSpec spec : deployment.filters) {
            FilterHolder holder = new FilterHolder(spec.filter());
            holder.setName(spec.name());
            holder.setAsyncSupported(true);
            spec.initParams().forEach(holder::setInitParameter);
            context.addFilter(holder, spec.pattern(), deployment.filtersOnAsyncDispatch
                    ? EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC) : EnumSet.of(DispatcherType.REQUEST));
        }
        for (Deployment.ServletSpec spec : deployment.servlets) {
            ServletHolder holder = new ServletHolder(spec.name(), spec.servlet());
            holder.setAsyncSupported(true);
            spec.initParams().forEach(holder::setInitParameter);
            context.addServlet(holder, spec.pattern());
        }
        if (deployment.staticFiles != null) {
            context.setBaseResourceAsPath(deployment.staticFiles);
            ServletHolder holder = new ServletHolder("default", DefaultServlet.class);
            holder.setInitParameter("etags", "true"); // Jetty sends no ETag otherwise
            holder.setInitParameter("cacheControl", "max-age=60"); // so 304s can be checked to keep it
            holder.setAsyncSupported(true);
            context.addServlet(holder, "/");
        }
        server.setHandler(context);
        server.start();
        if (!context.isAvailable() || !context.isStarted()) {
            throw new IllegalStateException("web application failed to start on " + version() + ": see the log");
        }
    }

    @Override
    public int port() {
        return connector.getLocalPort();
    }

    @Override
    public String version() {
        return "Jetty/" + Server.getVersion();
    }

    @Override
    public void close() throws Exception {
        if (server != null) {
            server.stop();
        }
    }
}
