package io.kvmfilter.filter;

import io.kvmfilter.store.ResultStore;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The result store settings of a filter (see docs/configuration.md, "Result storage"): the memory tier's size
 * ({@code cacheSize}; 0 turns storing off), how long results and failures are kept, the optional directory and the
 * optional shared JCache cache. Filters of one web application with equal settings share one store.
 *
 * @param memoryBytes      {@code cacheSize}: bytes of results in memory; 0 for no store at all
 * @param timeToLive       {@code cacheTimeToLive}: how long a result is served after it was made, or empty
 * @param failureTime      {@code rememberFailures}: how long a failure is answered without running again; 0 off
 * @param directory        {@code cacheDirectory}: the disk tier's directory, or empty
 * @param directoryBytes   {@code cacheDirectorySize}: the most bytes of files in it
 * @param sharedProvider   {@code sharedCache}: a JCache CachingProvider class, {@code default} for the only one
 *                         on the class path, or empty for no shared tier
 * @param sharedConfig     {@code sharedCacheConfig}: the provider's configuration file, or empty for its default
 * @param sharedName       {@code sharedCacheName}: the shared cache's name
 * @param sharedMaxEntry   {@code sharedCacheMaxEntrySize}: the largest result shared
 * @param sharedTimeout    {@code sharedCacheTimeout}: how long a lookup waits for the shared cache
 * @param sharedClaimTime  {@code sharedCacheClaimTime}: how long a node's claim on a conversion holds
 * @param sharedOpener     a shared cache given in code ({@link KvmFilterConfig.Builder#sharedCache}), or empty
 */
record ResultStorage(long memoryBytes, Optional<Duration> timeToLive, Duration failureTime,
        Optional<Path> directory, long directoryBytes, Optional<String> sharedProvider, Optional<URI> sharedConfig,
        String sharedName, long sharedMaxEntry, Duration sharedTimeout, Duration sharedClaimTime,
        Optional<ResultStore.SharedCacheOpener> sharedOpener) {

    /** Default of {@code cacheDirectorySize}: 1 GiB. */
    static final long DEFAULT_DIRECTORY_BYTES = 1L << 30;
    /** Default of {@code rememberFailures}: a broken original is decoded at most once a minute. */
    static final Duration DEFAULT_FAILURE_TIME = Duration.ofSeconds(60);
    /** Default of {@code sharedCacheName}. */
    static final String DEFAULT_SHARED_NAME = "kvmfilter-results";
    /** Default of {@code sharedCacheMaxEntrySize}: larger results are kept on the node only. */
    static final long DEFAULT_SHARED_MAX_ENTRY = 8L << 20;
    /** Default of {@code sharedCacheTimeout}: a slow cluster costs a request at most this much. */
    static final Duration DEFAULT_SHARED_TIMEOUT = Duration.ofMillis(250);

    boolean enabled() {
        return memoryBytes > 0;
    }

    @Override
    public String toString() {
        if (!enabled()) {
            return "off";
        }
        return "memory " + memoryBytes + " bytes" + timeToLive.map(t -> ", time to live " + t).orElse("")
                + ", failures " + failureTime
                + directory.map(d -> ", directory " + d + " (" + directoryBytes + " bytes)").orElse("")
                + (sharedOpener.isPresent() ? ", shared cache given in code"
                        : sharedProvider.map(p -> ", shared cache " + sharedName + " of " + p
                                + sharedConfig.map(c -> " configured by " + c).orElse("")).orElse(""));
    }
}
