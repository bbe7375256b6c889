package io.kvmfilter.filter;

import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import java.lang.System.Logger.Level;
import java.util.Collections;
import java.util.Optional;

/**
 * Reads filter parameters with the conventional precedence: MicroProfile Config (when an implementation is
 * present) over the filter's init-param over the context-param over the built-in default.
 *
 * <p>Names: init-param {@code maxBodySize}; context-param {@code kvmfilter.maxBodySize}; MicroProfile Config
 * {@code kvmfilter.<filter-name>.maxBodySize} for one filter instance, then {@code kvmfilter.maxBodySize} for
 * all. MicroProfile Config also finds environment variables by their upper-case form with every
 * non-alphanumeric character as {@code _} ({@code KVMFILTER_MAXBODYSIZE}).
 */
final class ParameterSource {

    /** Prefix of context-params and MicroProfile Config keys. */
    static final String PREFIX = "kvmfilter.";

    private static final System.Logger LOG = System.getLogger(KvmFilter.class.getName());

    /** A parameter's text and where it was found, for error messages. */
    record Value(String text, String origin) {
    }

    private final FilterConfig filterConfig;
    private final boolean microProfile;

    ParameterSource(FilterConfig filterConfig) {
        this.filterConfig = filterConfig;
        this.microProfile = MicroProfile.available();
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
        if (microProfile) {
            String instanceKey = PREFIX + filterConfig.getFilterName() + "." + name;
            Optional<String> value = MicroProfile.get(instanceKey);
            if (value.isPresent()) {
                return Optional.of(new Value(value.get(), "MicroProfile Config " + instanceKey));
            }
            value = MicroProfile.get(PREFIX + name);
            if (value.isPresent()) {
                return Optional.of(new Value(value.get(), "MicroProfile Config " + PREFIX + name));
            }
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
                LOG.log(Level.DEBUG, "MicroProfile Config API not on the class path: using init-params only");
                return false;
            } catch (IllegalStateException | java.util.ServiceConfigurationError e) {
                LOG.log(Level.DEBUG, "no MicroProfile Config implementation present: using init-params only ({0})",
                        e.getMessage());
                return false;
            }
        }

        static Optional<String> get(String key) {
            return org.eclipse.microprofile.config.ConfigProvider.getConfig().getOptionalValue(key, String.class);
        }
    }
}
