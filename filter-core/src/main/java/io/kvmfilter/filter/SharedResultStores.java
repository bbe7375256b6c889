package io.kvmfilter.filter;

import io.kvmfilter.store.ResultStore;
import jakarta.servlet.ServletContext;
import java.util.HashMap;
import java.util.Map;

/**
 * One result store per web application and set of settings, shared by its filter instances: a filter takes it
 * at init and gives it back at destroy; the last one closes it. Kept in a ServletContext attribute (one per web
 * application and class loader); a filter without a context (unit tests) gets a store of its own.
 */
final class SharedResultStores {

    private static final String ATTRIBUTE = SharedResultStores.class.getName();

    private final Map<String, Counted> stores = new HashMap<>();

    private static final class Counted {
        final ResultStore store;
        int users;

        Counted(ResultStore store) {
            this.store = store;
        }
    }

    private SharedResultStores() {
    }

    private static SharedResultStores of(ServletContext context) {
        synchronized (context) {
            Object existing = context.getAttribute(ATTRIBUTE);
            if (existing instanceof SharedResultStores stores) {
                return stores;
            }
            SharedResultStores created = new SharedResultStores();
            context.setAttribute(ATTRIBUTE, created);
            return created;
        }
    }

    /**
     * The store for these settings, opened when no filter of the application uses one yet.
     *
     * @param name for JMX and the log: the first filter's name
     * @throws IllegalArgumentException when the store cannot be opened (its directory, say)
     */
    static ResultStore acquire(ServletContext context, ResultStorage settings, String name) {
        if (context == null) {
            return open(settings, name);
        }
        SharedResultStores stores = of(context);
        synchronized (stores) {
            Counted counted = stores.stores.get(identity(settings));
            if (counted == null) {
                counted = new Counted(open(settings, name));
                stores.stores.put(identity(settings), counted);
            }
            counted.users++;
            return counted.store;
        }
    }

    /** Gives a store back; the last user closes it. */
    static void release(ServletContext context, ResultStorage settings, ResultStore store) {
        if (context == null) {
            store.close();
            return;
        }
        SharedResultStores stores = of(context);
        synchronized (stores) {
            Counted counted = stores.stores.get(identity(settings));
            if (counted == null || counted.store != store) {
                store.close();
                return;
            }
            if (--counted.users == 0) {
                stores.stores.remove(identity(settings));
                store.close();
            }
        }
    }

    /** Settings given in code are shared only with filters given the very same opener. */
    private static String identity(ResultStorage settings) {
        return settings + settings.sharedOpener().map(o -> "@" + System.identityHashCode(o)).orElse("");
    }

    private static ResultStore open(ResultStorage settings, String name) {
        ResultStore.Builder builder = ResultStore.builder()
                .memoryBytes(settings.memoryBytes())
                .timeToLive(settings.timeToLive().orElse(null))
                .failureTime(settings.failureTime())
                .name(name);
        settings.directory().ifPresent(dir -> builder.directory(dir, settings.directoryBytes()));
        ResultStore.SharedCacheOpener opener = settings.sharedOpener().orElse(null);
        if (opener == null && settings.sharedProvider().isPresent()) {
            String provider = settings.sharedProvider().get();
            opener = ResultStore.jcache(provider.equalsIgnoreCase("default") ? null : provider,
                    settings.sharedConfig().orElse(null), settings.sharedName(),
                    Thread.currentThread().getContextClassLoader());
        }
        if (opener != null) {
            builder.shared(opener).sharedLimits((int) settings.sharedMaxEntry(), settings.sharedTimeout(),
                    ResultStore.Builder.DEFAULT_SHARED_RETRY_INTERVAL).claimTime(settings.sharedClaimTime());
        }
        return builder.build();
    }
}
