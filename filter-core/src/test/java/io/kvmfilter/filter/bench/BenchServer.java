package io.kvmfilter.filter.bench;

import io.kvmfilter.filter.KvmFilter;
import io.kvmfilter.filter.KvmStatsServlet;
import jakarta.servlet.DispatcherType;
import java.nio.file.Path;
import java.util.EnumSet;
import org.eclipse.jetty.ee10.servlet.DefaultServlet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * One embedded Jetty 12 (ee10) server on 127.0.0.1 serving a folder with Jetty's DefaultServlet (weak ETags), and
 * under /strong/ with {@link StrongEtagServlet} (strong ETags), the filter's statistics at /_kvm/stats, with or without a KvmFilter in front. Every server of a run is set up the same way, so the filter is the only difference.
 */
final class BenchServer implements AutoCloseable {

    private final Server server;
    private final ServerConnector connector;
    private final KvmFilter filter;
    private final ServerTimes times;

    /**
     * @param files  the folder served at /
     * @param filter the filter mapped to /* for REQUEST and ASYNC, or null for none
     */
    BenchServer(Path files, KvmFilter filter) throws Exception {
        this(files, filter, null);
    }

    /** As above, recording inside the server how long each request of {@code timedPath} took. */
    BenchServer(Path files, KvmFilter filter, String timedPath) throws Exception {
        this.filter = filter;
        server = new Server();
        connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        context.setBaseResourceAsPath(files);
        if (filter != null) {
            FilterHolder holder = new FilterHolder(filter);
            holder.setName("bench");
            holder.setAsyncSupported(true);
            context.addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
        }
        context.addServlet(new ServletHolder("strong", new StrongEtagServlet(files)), "/strong/*");
        context.addServlet(new ServletHolder("stats", new KvmStatsServlet()), "/_kvm/stats");
        ServletHolder fileServlet = new ServletHolder("default", DefaultServlet.class);
        fileServlet.setInitParameter("etags", "true");
        fileServlet.setAsyncSupported(true);
        context.addServlet(fileServlet, "/");
        times = timedPath == null ? null : new ServerTimes(timedPath, context);
        server.setHandler(times == null ? context : times);
        server.start();
        if (!context.isAvailable()) {
            server.stop();
            throw new IllegalStateException("the benchmark web application did not start: see the log above");
        }
    }

    String url(String path) {
        return "http://127.0.0.1:" + connector.getLocalPort() + path;
    }

    /** The filter, or null on the server without one. */
    KvmFilter filter() {
        return filter;
    }

    /** The server-side times of the timed path, or null when none was asked for. */
    ServerTimes times() {
        return times;
    }

    static String jettyVersion() {
        return Server.getVersion();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
