package io.kvmfilter.jetty;

import io.kvmfilter.filter.KvmFilter;
import io.kvmfilter.filter.KvmFilterConfig;
import io.kvmfilter.filter.KvmStatsServlet;
import jakarta.servlet.DispatcherType;
import java.util.EnumSet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.FilterMapping;
import org.eclipse.jetty.ee10.servlet.ServletHandler;
import org.eclipse.jetty.ee10.webapp.AbstractConfiguration;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.ee10.webapp.WebXmlConfiguration;
import org.eclipse.jetty.server.Server;

/**
 * The Jetty module {@code kvmfilter}: a web application configuration, found by Jetty through
 * {@link java.util.ServiceLoader} once the module's jars are on the server class path, that puts {@link KvmFilter}
 * in front of every ee10 web application, mapped to {@code /*} for REQUEST and ASYNC dispatches.
 *
 * <p>The filter reads its parameters as in any web application (docs/configuration.md): system properties and
 * environment variables (or MicroProfile Config), then the application's own {@code kvmfilter.<parameter>}
 * context-params. The server-wide values of {@code start.d/kvmfilter.ini} ({@code kvmfilter.<parameter>=...},
 * server attributes set by {@code etc/kvmfilter.xml}) become context-params of each application that does not set
 * the same one itself, so an application's web.xml wins over the server's defaults.
 */
public class KvmFilterConfiguration extends AbstractConfiguration {

    /** The filter's name in every web application. */
    public static final String FILTER_NAME = "kvmfilter";
    /** Prefix of the server attributes (and module properties) holding server-wide parameters. */
    public static final String ATTRIBUTE_PREFIX = "kvmfilter.";
    /** Server attribute: a path at which each web application gets the statistics servlet. */
    public static final String STATS_PATH_ATTRIBUTE = ATTRIBUTE_PREFIX + "statsPath";

    /** Runs after web.xml is known to the context, and is on for every web application. */
    public KvmFilterConfiguration() {
        super(new Builder()
                .addDependencies(WebXmlConfiguration.class)
                // The filter's own dependencies stay out of the applications' sight: they bring their own if any.
                .hide("com.fasterxml.jackson.", "com.sun.jna."));
    }

    @Override
    public void configure(WebAppContext context) throws Exception {
        Server server = context.getServer();
        if (server != null) {
            for (String parameter : KvmFilterConfig.PARAMETERS) {
                String key = ATTRIBUTE_PREFIX + parameter;
                Object value = server.getAttribute(key);
                // A context-param of the application's own web.xml replaces this when the descriptor is applied.
                if (value != null && !value.toString().isBlank() && context.getInitParameter(key) == null) {
                    context.setInitParameter(key, value.toString().trim());
                }
            }
        }
        FilterHolder holder = new FilterHolder(new KvmFilter());
        holder.setName(FILTER_NAME);
        holder.setAsyncSupported(true);
        ServletHandler handler = context.getServletHandler();
        handler.addFilter(holder);
        FilterMapping mapping = new FilterMapping();
        mapping.setFilterName(FILTER_NAME);
        mapping.setPathSpec("/*");
        mapping.setDispatcherTypes(EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
        // First in the chain: the filter sees the response the application's own filters produced.
        handler.prependFilterMapping(mapping);

        Object statsPath = server == null ? null : server.getAttribute(STATS_PATH_ATTRIBUTE);
        if (statsPath != null && !statsPath.toString().isBlank()) {
            context.addServlet(KvmStatsServlet.class, statsPath.toString().trim());
        }
    }
}
