package io.kvmfilter.store;

import java.lang.System.Logger.Level;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import javax.cache.Cache;
import javax.cache.CacheException;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.spi.CachingProvider;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Where transformed bodies are kept for reuse, in up to three tiers looked up in order:
 * <ol>
 * <li><b>memory</b>: Caffeine in the heap, weighed in bytes; also holds remembered failures;</li>
 * <li><b>disk</b>: checksummed files in a directory, size-bounded, surviving restarts (optional);</li>
 * <li><b>shared</b>: a JCache cache shared by the servers of a cluster (optional).</li>
 * </ol>
 * A result found in a lower tier is copied into the tiers above it; a new result goes into all of them.
 *
 * <p><b>Single-flight.</b> {@link #get} runs the transform once per key however many requests ask at the same
 * time: the others receive the same future (counted as coalesced) and hold nothing while they wait; each caller
 * bounds its own wait (say, with {@link CompletableFuture#orTimeout}) without disturbing the others. With a shared
 * tier this holds across the cluster: the node that runs first puts a claim beside the results (at most
 * {@link Builder#claimTime}), and the other nodes wait for its result instead of running their own (counted as
 * coalesced in the shared tier); a claim released without a result, or lapsed, lets the next node run.
 *
 * <p>Build one with {@link #builder()}; it is thread-safe. {@link #close()} stops the shared tier's threads and
 * releases the directory.
 */
public final class ResultStore implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ResultStore.class.getName());
    /** How often a node waiting for another node's result looks for it in the shared tier. */
    static final Duration CLUSTER_POLL = Duration.ofMillis(50);

    /** Where a result came from. */
    public enum Source {
        /** the memory tier */
        MEMORY,
        /** the disk tier */
        DISK,
        /** the shared tier */
        SHARED,
        /** this request ran the transform */
        COMPUTED,
        /** another request ran the transform while this one waited */
        COALESCED
    }

    /**
     * A result and where it came from.
     *
     * @param result the result (a failure when the transform failed or a failure is remembered)
     * @param source where it came from
     */
    public record Found(StoredResult result, Source source) {
    }

    /** An open shared cache and how to close it. */
    public interface SharedCache extends AutoCloseable {
        /** @return the cache, keyed by {@link ResultKey#id()}, valued by entry bytes */
        Cache<String, byte[]> cache();

        /** @return what the log calls it: provider and cache name */
        String description();

        @Override
        void close();
    }

    /** Opens the shared cache; runs in the background and may block (a client looking for its cluster). */
    @FunctionalInterface
    public interface SharedCacheOpener {
        /**
         * @return the open cache
         * @throws RuntimeException when it cannot be opened: the store then serves from its local tiers
         */
        SharedCache open();
    }

    private final MemoryTier memory;
    private final DiskTier disk;
    private final SharedTier shared;
    private final Duration claimTime;
    /** Polls the shared tier for results another node is making; one daemon thread, created when first needed. */
    private volatile ScheduledExecutorService clusterWaits;
    private final ConcurrentMap<ResultKey, CompletableFuture<Found>> inFlight = new ConcurrentHashMap<>();
    private final ObjectName objectName;
    private final String name;

    /** Names the stores built without a name, so that each open store has its own. */
    private static final AtomicLong UNNAMED = new AtomicLong();

    private ResultStore(Builder b) {
        memory = new MemoryTier(b.memoryBytes, b.timeToLive, b.failureTime);
        disk = b.directory == null ? null : new DiskTier(b.directory, b.diskBytes, b.timeToLive);
        shared = b.sharedOpener == null ? null
                : new SharedTier(b.sharedOpener, b.sharedMaxEntryBytes, b.sharedTimeout, b.sharedRetryInterval,
                        b.timeToLive);
        claimTime = b.claimTime;
        objectName = register(b.name);
        name = b.name != null ? b.name : "result-store-" + UNNAMED.incrementAndGet();
        StoreListeners.opened(this);
    }

    /** @return the name given to the builder (the filter's is its first filter's), else {@code result-store-<n>} */
    public String name() {
        return name;
    }

    /**
     * Registers a listener for every store of this class loader; it hears at once of the stores open now.
     *
     * @param listener called on the opening and closing threads; it must be quick and must not throw
     */
    public static void addListener(ResultStoreListener listener) {
        StoreListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** @return true when the listener was registered (it then hears nothing more) */
    public static boolean removeListener(ResultStoreListener listener) {
        return StoreListeners.remove(listener);
    }

    /** @return the stores of this class loader opened and not yet closed, oldest first */
    public static List<ResultStore> openStores() {
        return StoreListeners.open();
    }

    /** @return a builder with the defaults: 64 MiB of memory, failures remembered 60 s, no disk, no shared tier */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The result for this key: stored, or made by the transform, which runs at most once at a time per key.
     *
     * @param key       the key
     * @param transform makes the result when no tier has it; called on this thread, its future may complete on any
     * @return a future of the result; it completes exceptionally only when the transform throws or its future fails
     */
    public CompletableFuture<Found> get(ResultKey key, Supplier<CompletableFuture<StoredResult>> transform) {
        Optional<StoredResult> inMemory = memory.get(key);
        if (inMemory.isPresent()) {
            return CompletableFuture.completedFuture(new Found(inMemory.get(), Source.MEMORY));
        }
        CompletableFuture<Found> mine = new CompletableFuture<>();
        CompletableFuture<Found> running = inFlight.putIfAbsent(key, mine);
        if (running != null) {
            memory.counters().coalesced.increment();
            return running.thenApply(found -> new Found(found.result(), Source.COALESCED));
        }
        Optional<Found> below = lookupBelowMemory(key);
        if (below.isPresent()) {
            inFlight.remove(key, mine);
            mine.complete(below.get());
            return mine.copy();
        }
        if (shared == null) {
            make(key, mine, transform, null);
        } else {
            makeOrWait(key, mine, transform);
        }
        return mine.copy();
    }

    /**
     * Single-flight across the cluster: claims the key in the shared tier and makes the result, or, when another
     * node holds the claim, waits for that node's result (polling, holding no thread) and makes it here only if
     * the claim is released or lapses without one.
     */
    private void makeOrWait(ResultKey key, CompletableFuture<Found> mine,
            Supplier<CompletableFuture<StoredResult>> transform) {
        ClusterClaim claim = shared.claim(key, System.currentTimeMillis() + claimTime.toMillis());
        if (claim.mine()) {
            // The node that held the claim before may have stored its result and released it between this node's
            // lookup and its claim: look once more before running.
            Optional<StoredResult> madeMeanwhile = claim.value() == null ? Optional.empty() : shared.peek(key);
            if (madeMeanwhile.isPresent()) {
                shared.release(claim);
                completeFromCluster(key, mine, madeMeanwhile.get());
                return;
            }
            make(key, mine, transform, claim);
            return;
        }
        shared.countClusterWait();
        pollCluster(key, mine, transform, claim);
    }

    private void pollCluster(ResultKey key, CompletableFuture<Found> mine,
            Supplier<CompletableFuture<StoredResult>> transform, ClusterClaim claim) {
        try {
            waits().schedule(() -> {
                try {
                    Optional<StoredResult> made = shared.peek(key);
                    if (made.isPresent()) {
                        completeFromCluster(key, mine, made.get());
                    } else if (shared.stillClaimed(claim)) {
                        pollCluster(key, mine, transform, claim);
                    } else {
                        makeOrWait(key, mine, transform); // released without a result, or lapsed
                    }
                } catch (RuntimeException | Error e) {
                    inFlight.remove(key, mine);
                    mine.completeExceptionally(e);
                }
            }, CLUSTER_POLL.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closed) {
            inFlight.remove(key, mine);
            mine.completeExceptionally(new IllegalStateException("the result store is closed", closed));
        }
    }

    /** Another node's result: kept in this node's tiers too, and the answer of every request waiting here. */
    private void completeFromCluster(ResultKey key, CompletableFuture<Found> mine, StoredResult made) {
        keepLocally(key, made);
        inFlight.remove(key, mine);
        mine.complete(new Found(made, Source.SHARED));
    }

    private ScheduledExecutorService waits() {
        ScheduledExecutorService waits = clusterWaits;
        if (waits == null) {
            synchronized (this) {
                waits = clusterWaits;
                if (waits == null) {
                    ScheduledThreadPoolExecutor created = new ScheduledThreadPoolExecutor(1, runnable -> {
                        Thread thread = new Thread(runnable, "kvmfilter-cluster-waits-" + name);
                        thread.setDaemon(true);
                        return thread;
                    });
                    created.setRemoveOnCancelPolicy(true);
                    clusterWaits = waits = created;
                }
            }
        }
        return waits;
    }

    /** Runs the transform and stores what it made; under a cluster claim, releases the claim after storing. */
    private void make(ResultKey key, CompletableFuture<Found> mine, Supplier<CompletableFuture<StoredResult>> transform,
            ClusterClaim claim) {
        CompletableFuture<StoredResult> made;
        try {
            made = Objects.requireNonNull(transform.get(), "the transform returned no future");
        } catch (RuntimeException | Error e) {
            made = CompletableFuture.failedFuture(e);
        }
        made.whenComplete((result, error) -> {
            if (error != null) {
                inFlight.remove(key, mine);
                mine.completeExceptionally(error);
                if (claim != null) {
                    shared.release(claim);
                }
                return;
            }
            // Into memory before leaving the in-flight map: a request arriving in between finds one or the other.
            memory.put(key, result);
            long now = System.currentTimeMillis();
            // On disk before anyone is answered: once a client has its response the result survives a restart
            // (the write is one file, small beside the conversion that made it).
            try {
                if (result.ok() && result.storable() && disk != null) {
                    disk.put(key, result, now);
                }
            } finally {
                inFlight.remove(key, mine);
                mine.complete(new Found(result, Source.COMPUTED));
            }
            if (claim != null) {
                shared.putAndRelease(key, result, now, claim); // a failure only releases the claim
            } else if (result.ok() && result.storable() && shared != null) {
                shared.put(key, result, now);
            }
        });
    }

    /**
     * The stored result for this key, from the first tier that has it, without running anything.
     *
     * @param key the key
     * @return the result and its tier, or empty
     */
    public Optional<Found> lookup(ResultKey key) {
        Optional<StoredResult> inMemory = memory.get(key);
        if (inMemory.isPresent()) {
            return Optional.of(new Found(inMemory.get(), Source.MEMORY));
        }
        return lookupBelowMemory(key);
    }

    /**
     * The stored success for this key if the memory tier holds it, counted as a hit; nothing else is asked and
     * nothing counted when it does not (the request then goes the usual way, {@link #get}, which counts the miss).
     *
     * @param key the key
     * @return the result, or empty
     */
    public Optional<StoredResult> successInMemory(ResultKey key) {
        return memory.successIfPresent(key);
    }

    private Optional<Found> lookupBelowMemory(ResultKey key) {
        if (disk != null) {
            Optional<StoredResult> onDisk = disk.get(key);
            if (onDisk.isPresent()) {
                memory.put(key, onDisk.get());
                return Optional.of(new Found(onDisk.get(), Source.DISK));
            }
        }
        if (shared != null) {
            Optional<StoredResult> inCluster = shared.get(key);
            if (inCluster.isPresent()) {
                keepLocally(key, inCluster.get());
                return Optional.of(new Found(inCluster.get(), Source.SHARED));
            }
        }
        return Optional.empty();
    }

    /** A result from the cluster, copied into this node's memory and disk. */
    private void keepLocally(ResultKey key, StoredResult fromCluster) {
        memory.put(key, fromCluster);
        if (disk != null) {
            disk.put(key, fromCluster, System.currentTimeMillis());
        }
    }

    /**
     * Stores a storable result in every tier (a failure only in memory).
     *
     * @param key    the key
     * @param result the result
     */
    public void put(ResultKey key, StoredResult result) {
        memory.put(key, result);
        if (result.ok() && result.storable()) {
            long now = System.currentTimeMillis();
            if (disk != null) {
                disk.put(key, result, now);
            }
            if (shared != null) {
                shared.put(key, result, now);
            }
        }
    }

    /** Forgets everything the memory tier holds, remembered failures included (the disk and shared tiers stay). */
    public void clearMemory() {
        memory.invalidateAll();
    }

    /** @return transforms running now, each possibly awaited by several requests */
    public int inFlight() {
        return inFlight.size();
    }

    /** @return the statistics of each configured tier: memory, then disk and shared when configured */
    public List<TierStatistics> statistics() {
        List<TierStatistics> all = new ArrayList<>(3);
        all.add(memory.statistics());
        if (disk != null) {
            all.add(disk.statistics());
        }
        if (shared != null) {
            all.add(shared.statistics());
        }
        return all;
    }

    /** Stops the shared tier, releases the directory and removes the MBean; stored files stay. Again: nothing. */
    @Override
    public void close() {
        if (!StoreListeners.closed(this)) {
            return;
        }
        if (objectName != null) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(objectName);
            } catch (JMException e) {
                LOG.log(Level.DEBUG, "kvmfilter: result store: MBean already gone: " + e);
            }
        }
        ScheduledExecutorService waits = clusterWaits;
        if (waits != null) {
            waits.shutdownNow();
        }
        if (shared != null) {
            shared.close();
        }
        if (disk != null) {
            disk.close();
        }
    }

    // --- JMX ----------------------------------------------------------------------------------------------------

    /** The store's statistics in JMX, as {@code io.kvmfilter:type=ResultStore,name=<name>}. */
    public interface ResultStoreMXBean {
        /** @return the memory tier's statistics */
        TierStatistics getMemory();

        /** @return the disk tier's statistics, or null when there is no disk tier */
        TierStatistics getDisk();

        /** @return the shared tier's statistics, or null when there is no shared tier */
        TierStatistics getShared();

        /** @return transforms running now */
        int getInFlight();
    }

    private ObjectName register(String name) {
        if (name == null) {
            return null;
        }
        ResultStoreMXBean bean = new ResultStoreMXBean() {
            @Override
            public TierStatistics getMemory() {
                return memory.statistics();
            }

            @Override
            public TierStatistics getDisk() {
                return disk == null ? null : disk.statistics();
            }

            @Override
            public TierStatistics getShared() {
                return shared == null ? null : shared.statistics();
            }

            @Override
            public int getInFlight() {
                return inFlight.size();
            }
        };
        try {
            ObjectName on = new ObjectName("io.kvmfilter:type=ResultStore,name=" + ObjectName.quote(name));
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            server.registerMBean(bean, on);
            return on;
        } catch (JMException e) {
            LOG.log(Level.WARNING, "kvmfilter: result store " + name + " not registered in JMX: " + e);
            return null;
        }
    }

    // --- JCache -------------------------------------------------------------------------------------------------

    /**
     * Opens a cache through the JCache API: {@code Caching.getCachingProvider(provider)} (or the only provider on the
     * class path), its cache manager for {@code config} (or its default), and the named cache, created with
     * {@code String} keys and {@code byte[]} values when the provider's configuration does not define it. The cache
     * manager is closed with the store.
     *
     * @param provider  the CachingProvider class name, or null for the only one on the class path
     * @param config    the provider's configuration file, or null for its default
     * @param cacheName the cache's name
     * @param loader    the class loader to look the provider up in
     * @return the opener
     */
    public static SharedCacheOpener jcache(String provider, URI config, String cacheName, ClassLoader loader) {
        Objects.requireNonNull(cacheName, "cacheName");
        return () -> {
            CachingProvider caching = provider == null ? Caching.getCachingProvider(loader)
                    : Caching.getCachingProvider(provider, loader);
            CacheManager manager = caching.getCacheManager(config == null ? caching.getDefaultURI() : config, loader);
            Cache<String, byte[]> cache = cacheNamed(manager, cacheName);
            String description = caching.getClass().getName() + " cache " + cacheName;
            return new SharedCache() {
                @Override
                public Cache<String, byte[]> cache() {
                    return cache;
                }

                @Override
                public String description() {
                    return description;
                }

                @Override
                public void close() {
                    manager.close();
                }
            };
        };
    }

    /**
     * The named cache of a cache manager the caller owns (it is not closed with the store), created when absent.
     *
     * @param manager   the cache manager
     * @param cacheName the cache's name
     * @return the opener
     */
    public static SharedCacheOpener jcache(CacheManager manager, String cacheName) {
        Objects.requireNonNull(manager, "manager");
        Objects.requireNonNull(cacheName, "cacheName");
        return () -> {
            Cache<String, byte[]> cache = cacheNamed(manager, cacheName);
            return new SharedCache() {
                @Override
                public Cache<String, byte[]> cache() {
                    return cache;
                }

                @Override
                public String description() {
                    return manager.getCachingProvider().getClass().getName() + " cache " + cacheName;
                }

                @Override
                public void close() {
                    // The caller's manager: the caller closes it.
                }
            };
        };
    }

    private static Cache<String, byte[]> cacheNamed(CacheManager manager, String cacheName) {
        Cache<String, byte[]> cache = manager.getCache(cacheName, String.class, byte[].class);
        if (cache != null) {
            return cache;
        }
        try {
            return manager.createCache(cacheName,
                    new MutableConfiguration<String, byte[]>().setTypes(String.class, byte[].class));
        } catch (CacheException e) {
            // Another member created it at the same moment.
            Cache<String, byte[]> created = manager.getCache(cacheName, String.class, byte[].class);
            if (created == null) {
                throw e;
            }
            return created;
        }
    }

    // --- configuration ------------------------------------------------------------------------------------------

    /** Collects and checks the store's settings; each setter checks its argument at once. */
    public static final class Builder {

        /** Memory tier size by default. */
        public static final long DEFAULT_MEMORY_BYTES = 64L << 20;
        /** Disk tier size by default. */
        public static final long DEFAULT_DISK_BYTES = 1L << 30;
        /** How long a failure is remembered by default. */
        public static final Duration DEFAULT_FAILURE_TIME = Duration.ofSeconds(60);
        /** Largest entry the shared tier takes by default: bigger results stay local. */
        public static final int DEFAULT_SHARED_MAX_ENTRY_BYTES = 8 << 20;
        /** How long a request waits for the shared cache by default before it counts as a miss. */
        public static final Duration DEFAULT_SHARED_TIMEOUT = Duration.ofMillis(250);
        /** How long the shared tier is skipped after a failure by default. */
        public static final Duration DEFAULT_SHARED_RETRY_INTERVAL = Duration.ofSeconds(30);
        /** How long a node's claim on making a result for the cluster lasts at most: above any program's time limit. */
        public static final Duration DEFAULT_CLAIM_TIME = Duration.ofSeconds(30);

        private long memoryBytes = DEFAULT_MEMORY_BYTES;
        private Duration timeToLive;
        private Duration failureTime = DEFAULT_FAILURE_TIME;
        private Path directory;
        private long diskBytes = DEFAULT_DISK_BYTES;
        private SharedCacheOpener sharedOpener;
        private int sharedMaxEntryBytes = DEFAULT_SHARED_MAX_ENTRY_BYTES;
        private Duration sharedTimeout = DEFAULT_SHARED_TIMEOUT;
        private Duration sharedRetryInterval = DEFAULT_SHARED_RETRY_INTERVAL;
        private Duration claimTime = DEFAULT_CLAIM_TIME;
        private String name;

        private Builder() {
        }

        /**
         * @param bytes the most bytes the memory tier holds, above 0
         * @return this builder
         * @throws IllegalArgumentException when not above 0
         */
        public Builder memoryBytes(long bytes) {
            memoryBytes = positive("memoryBytes", bytes);
            return this;
        }

        /**
         * @param ttl how long a result is served after it was made, in every tier; null (the default) for as long
         *            as it fits
         * @return this builder
         * @throws IllegalArgumentException when zero or negative
         */
        public Builder timeToLive(Duration ttl) {
            if (ttl != null && (ttl.isZero() || ttl.isNegative())) {
                throw new IllegalArgumentException("timeToLive " + ttl + " is not above 0; allowed: above 0, or none");
            }
            timeToLive = ttl;
            return this;
        }

        /**
         * @param time how long a failure is remembered (answered without running the program again); zero turns
         *             remembering off
         * @return this builder
         * @throws IllegalArgumentException when negative
         */
        public Builder failureTime(Duration time) {
            Objects.requireNonNull(time, "failureTime");
            if (time.isNegative()) {
                throw new IllegalArgumentException("failureTime " + time + " is negative; allowed: 0 or more");
            }
            failureTime = time;
            return this;
        }

        /**
         * @param dir   the disk tier's directory, created if absent; null for no disk tier
         * @param bytes the most bytes of entry files it holds, above 0
         * @return this builder
         * @throws IllegalArgumentException when bytes is not above 0
         */
        public Builder directory(Path dir, long bytes) {
            directory = dir;
            diskBytes = positive("diskBytes", bytes);
            return this;
        }

        /**
         * @param opener opens the shared cache (see {@link #jcache}); null for no shared tier
         * @return this builder
         */
        public Builder shared(SharedCacheOpener opener) {
            sharedOpener = opener;
            return this;
        }

        /**
         * @param time how long a node's claim on making a result for the cluster lasts at most, above 0: the other
         *             nodes wait for its result that long (each request still bounded by its own wait), then make
         *             it themselves; a claim is released as soon as its result is stored
         * @return this builder
         * @throws IllegalArgumentException when it is not above 0
         */
        public Builder claimTime(Duration time) {
            claimTime = positive("claimTime", time);
            return this;
        }

        /**
         * @param maxEntryBytes the largest result shared, above 0 (bigger ones stay in the local tiers)
         * @param timeout       how long a lookup waits for the shared cache, above 0
         * @param retryInterval how long the shared tier is skipped after a failure, above 0
         * @return this builder
         * @throws IllegalArgumentException when a value is not above 0
         */
        public Builder sharedLimits(int maxEntryBytes, Duration timeout, Duration retryInterval) {
            sharedMaxEntryBytes = (int) positive("sharedMaxEntryBytes", maxEntryBytes);
            sharedTimeout = positive("sharedTimeout", timeout);
            sharedRetryInterval = positive("sharedRetryInterval", retryInterval);
            return this;
        }

        /**
         * @param storeName the JMX name ({@code io.kvmfilter:type=ResultStore,name=...}); null for no MBean
         * @return this builder
         */
        public Builder name(String storeName) {
            name = storeName;
            return this;
        }

        /**
         * Opens the store: creates the directory and indexes its entries, starts opening the shared cache in the
         * background.
         *
         * @return the store
         * @throws IllegalArgumentException when the directory cannot be used, naming it and why
         */
        public ResultStore build() {
            return new ResultStore(this);
        }

        private static long positive(String what, long value) {
            if (value <= 0) {
                throw new IllegalArgumentException(what + " " + value + " is not above 0; allowed: above 0");
            }
            return value;
        }

        private static Duration positive(String what, Duration value) {
            Objects.requireNonNull(value, what);
            if (value.isZero() || value.isNegative()) {
                throw new IllegalArgumentException(what + " " + value + " is not above 0; allowed: above 0");
            }
            return value;
        }
    }
}
