package io.kvmfilter.filter;

import jakarta.servlet.ServletContext;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.regex.Pattern;

/**
 * The filters and program servlets of one web application, kept in a ServletContext attribute so that
 * {@link KvmStatsServlet} can report them.
 */
final class StatsRegistry {

    /** What a registered component reports. */
    interface Source {
        /** Outcome counters, e.g. {@code applied=webp}. */
        Map<String, Long> counters();

        /** The sandbox statistics as JSON, empty when no sandbox runs. */
        Optional<String> statsJson();

        /** The result store's and waiting lines' statistics as JSON, empty when there are none. */
        default Optional<String> storeJson() {
            return Optional.empty();
        }

        /** Reloads the matching programs on their next use; returns how many were unloaded. */
        int invalidate(Pattern programNames);
    }

    private static final String ATTRIBUTE = StatsRegistry.class.getName();

    private StatsRegistry() {
    }

    @SuppressWarnings("unchecked")
    private static ConcurrentMap<String, Source> sources(ServletContext context) {
        synchronized (context) {
            Object existing = context.getAttribute(ATTRIBUTE);
            if (existing instanceof ConcurrentMap<?, ?> map) {
                return (ConcurrentMap<String, Source>) map;
            }
            ConcurrentMap<String, Source> created = new ConcurrentHashMap<>();
            context.setAttribute(ATTRIBUTE, created);
            return created;
        }
    }

    /** Registers a component under "filter:name" or "servlet:name". */
    static void register(ServletContext context, String key, Source source) {
        if (context != null) {
            sources(context).put(key, source);
        }
    }

    static void unregister(ServletContext context, String key, Source source) {
        if (context != null) {
            sources(context).remove(key, source);
        }
    }

    /** Everything registered in this web application, sorted by key. */
    static Map<String, Source> all(ServletContext context) {
        return new TreeMap<>(sources(context));
    }
}
