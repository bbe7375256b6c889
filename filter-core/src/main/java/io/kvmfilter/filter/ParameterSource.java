package io.kvmfilter.filter;

import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import java.lang.System.Logger.Level;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * Reads filter parameters with the conventional precedence: the process's configuration (MicroProfile Config
 * when an implementation is present, otherwise system properties and environment variables read directly) over
 * the filter's init-param over the context-param over the built-in default.
 *
 * <p>Names: init-param {@code maxBodySize}; context-param {@code kvmfilter.maxBodySize}; process configuration
 * {@code kvmfilter.<filter-name>.maxBodySize} for one filter instance, then {@code kvmfilter.maxBodySize} for
 * all. Environment variables are found as MicroProfile Config finds them: the key itself, then with every
 * non-alphanumeric character as {@code _}, then that in upper case ({@code KVMFILTER_MAXBODYSIZE}). Without
 * MicroProfile Config a system property wins over an environment variable, as MicroProfile Config's own
 * ordinals (400 and 300) have it.
 */
final class ParameterSource {

    /** Prefix of context-params and MicroProfile Config keys. */
    static final String PREFIX = "kvmfilter.";

    private static final System.Logger LOG = System.getLogger(KvmFilter.class.getName());

    /** A parameter's text and where it was found, for error messages. */
    record Value(String text, String origin) {
    }

    /** The process's configuration outside the servlet container: a key's text and where it was found. */
    interface ProcessConfig {
        Optional<Value> get(String key);
    }

    private final FilterConfig filterConfig;
    private final ProcessConfig processConfig;

    ParameterSource(FilterConfig filterConfig) {
        this(filterConfig, MicroProfile.available() ? MicroProfile::get
                : systemAndEnvironment(System.getProperties(), System.getenv()));
    }

    /** With a given process configuration (tests give their own properties and environment). */
    ParameterSource(FilterConfig filterConfig, ProcessConfig processConfig) {
        this.filterConfig = filterConfig;
        this.processConfig = processConfig;
    }

    /**
     * System properties, then environment variables, read directly: what a deployment without MicroProfile Config
     * has. The environment is searched under the key, its {@code _} form and that in upper case.
     */
    static ProcessConfig systemAndEnvironment(Properties properties, Map<String, String> environment) {
        return key -> {
            String property = properties.getProperty(key);
            if (property != null) {
                return Optional.of(new Value(property, "system property " + key));
            }
            String underscores = key.replaceAll("[^A-Za-z0-9]", "_");
            for (String name : new String[] {key, underscores, underscores.toUpperCase(Locale.ROOT)}) {
                String value = environment.get(name);
                if (value != null) {
                    return Optional.of(new Value(value, "environment variable " + name));
                }
            }
            return Optional.empty();
        };
    }

    /** Builds the validated configuration, failing with the parameter, its value, its origin and what is allowed. */
    KvmFilterConfig read() {
        for (String name : Collections.list(filterConfig.getInitParameterNames())) {
            if (!KvmFilterConfig.PARAMETERS.contains(name)) {
                throw new IllegalArgumentException("unknown init-param '" + name + "' of filter '"
                        + filterConfig.getFilterName() + "': allowed are "
                        + String.join(", ", KvmFilterConfig.PARAMETERS));
            }
        }
        KvmFilterConfig.Builder builder = KvmFilterConfig.builder();
        for (String name : KvmFilterConfig.PARAMETERS) {
            Optional<Value> value = lookup(name);
            if (value.isPresent()) {
                try {
                    builder.parameter(name, value.get().text());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(e.getMessage() + " (from " + value.get().origin() + ")", e);
                }
            }
        }
        try {
            return builder.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + " (filter '" + filterConfig.getFilterName() + "')", e);
        }
    }

    /** The value of one parameter from the highest-precedence source that has it. */
    Optional<Value> lookup(String name) {
        Optional<Value> value = processConfig.get(PREFIX + filterConfig.getFilterName() + "." + name);
        if (value.isEmpty()) {
            value = processConfig.get(PREFIX + name);
        }
        if (value.isPresent()) {
            return value;
        }
        String init = filterConfig.getInitParameter(name);
        if (init != null) {
            return Optional.of(new Value(init, "init-param " + name + " of filter '"
                    + filterConfig.getFilterName() + "'"));
        }
        ServletContext context = filterConfig.getServletContext();
        String contextValue = context == null ? null : context.getInitParameter(PREFIX + name);
        if (contextValue != null) {
            return Optional.of(new Value(contextValue, "context-param " + PREFIX + name));
        }
        return Optional.empty();
    }

    /**
     * The only place that touches MicroProfile Config types: loaded on first use, so the API jar may be absent.
     */
    private static final class MicroProfile {

        static boolean available() {
            try {
                org.eclipse.microprofile.config.ConfigProvider.getConfig();
                return true;
            } catch (LinkageError e) {
                LOG.log(Level.DEBUG, "MicroProfile Config API not on the class path: reading system properties and"
                        + " environment variables directly");
                return false;
            } catch (IllegalStateException | java.util.ServiceConfigurationError e) {
                LOG.log(Level.DEBUG, "no MicroProfile Config implementation present: reading system properties and"
                        + " environment variables directly ({0})", e.getMessage());
                return false;
            }
        }

        static Optional<Value> get(String key) {
            return org.eclipse.microprofile.config.ConfigProvider.getConfig().getOptionalValue(key, String.class)
                    .map(text -> new Value(text, "MicroProfile Config " + key));
        }
    }
}
