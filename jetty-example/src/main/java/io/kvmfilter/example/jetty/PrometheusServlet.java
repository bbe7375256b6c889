package io.kvmfilter.example.jetty;

import io.kvmfilter.micrometer.KvmMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;

/**
 * {@code --prometheus PATH}: the metrics of every sandbox ({@link KvmMetrics}) and of the JVM (memory, threads,
 * CPU) in the Prometheus text format, for a Prometheus server to scrape. See docs/prometheus.md.
 */
final class PrometheusServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    /** The Prometheus text exposition format, version 0.0.4: what every scraper reads. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final transient PrometheusMeterRegistry registry;

    private PrometheusServlet(PrometheusMeterRegistry registry) {
        this.registry = registry;
    }

    /** Creates the registry, binds the meters and mounts the servlet at the exact path. */
    static void install(ServletContextHandler context, String path) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new KvmMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        context.addServlet(new ServletHolder("prometheus", new PrometheusServlet(registry)), path);
    }

    /**
     * @return the path, when it is one exact path under the root
     * @throws IllegalArgumentException naming what is wrong
     */
    static String checkPath(String path) {
        if (!path.startsWith("/") || path.length() < 2 || path.contains("*") || path.endsWith("/")
                || path.startsWith(Main.KVM_PREFIX)) {
            throw new IllegalArgumentException("--prometheus '" + path + "' is not allowed; give an exact path such as"
                    + " /metrics (starting with '/', without '*' or a trailing '/', not under " + Main.KVM_PREFIX + ")");
        }
        return path;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        byte[] text = registry.scrape().getBytes(StandardCharsets.UTF_8);
        response.setContentType(CONTENT_TYPE);
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(text.length);
        response.getOutputStream().write(text);
    }
}
