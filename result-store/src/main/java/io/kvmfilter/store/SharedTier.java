package io.kvmfilter.store;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.cache.Cache;

/**
 * Results in a cache shared by the servers of a cluster, through JCache (JSR-107): any provider serves (Hazelcast,
 * Infinispan, Redisson for Redis...). Entries are {@link EntryCodec} bytes under the key's id, so the full key and a
 * checksum travel with every body and are checked on every read.
 *
 * <p>The cluster must never slow or fail a request: the cache is opened in the background (a client may wait long
 * for an absent cluster), every read waits at most the shared timeout, writes are queued and dropped when the queue
 * is full, and after a failure the tier is skipped for the retry interval. An outage is logged once when it starts
 * and once when the cache answers again; in between, the local tiers serve alone.
 */
final class SharedTier implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ResultStore.class.getName());
    /** Writes waiting for the cluster; beyond, new writes are dropped (a later request stores the result again). */
    static final int MAX_QUEUED_OPERATIONS = 256;
    /** Threads talking to the cluster: reads wait for them, so a few, but a slow cluster must not cost many. */
    static final int THREADS = 4;

    private final ResultStore.SharedCacheOpener opener;
    private final int maxEntryBytes;
    private final Duration timeout;
    private final Duration retryInterval;
    private final Duration timeToLive;
    private final TierCounters counters = new TierCounters();
    private final ThreadPoolExecutor executor;
    private final AtomicBoolean opening = new AtomicBoolean();
    private final AtomicBoolean down = new AtomicBoolean();
    private volatile ResultStore.SharedCache cache;
    private volatile long skipUntilNanos;
    /** Whether the log said the cache is open. */
    private volatile boolean announced;

    SharedTier(ResultStore.SharedCacheOpener opener, int maxEntryBytes, Duration timeout, Duration retryInterval,
            Duration timeToLive) {
        this.opener = opener;
        this.maxEntryBytes = maxEntryBytes;
        this.timeout = timeout;
        this.retryInterval = retryInterval;
        this.timeToLive = timeToLive;
        AtomicInteger threadNumber = new AtomicInteger();
        executor = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(MAX_QUEUED_OPERATIONS), runnable -> {
                    Thread thread = new Thread(runnable, "kvmfilter-shared-results-" + threadNumber.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        executor.allowCoreThreadTimeOut(true);
        openInBackground();
    }

    private void openInBackground() {
        if (!opening.compareAndSet(false, true)) {
            return;
        }
        try {
            executor.execute(() -> {
                try {
                    cache = opener.open();
                    answered();
                } catch (RuntimeException | Error e) {
                    failed("cannot be opened", e);
                } finally {
                    opening.set(false);
                }
            });
        } catch (RejectedExecutionException e) {
            opening.set(false);
        }
    }

    /** The cache to use now, or null while it is not open or skipped after a failure. */
    private Cache<String, byte[]> usable() {
        ResultStore.SharedCache open = cache;
        if (System.nanoTime() - skipUntilNanos < 0) {
            return null;
        }
        if (open == null) {
            openInBackground();
            return null;
        }
        return open.cache();
    }

    Optional<StoredResult> get(ResultKey key) {
        return read(key, true);
    }

    private Optional<StoredResult> read(ResultKey key, boolean counted) {
        Cache<String, byte[]> shared = usable();
        if (shared == null) {
            miss(counted);
            return Optional.empty();
        }
        String id = key.id();
        byte[] bytes;
        try {
            bytes = call(() -> shared.get(id));
        } catch (RuntimeException e) {
            if (!Thread.currentThread().isInterrupted()) {
                failed("failed to answer", e);
            }
            miss(counted);
            return Optional.empty();
        }
        if (bytes == null) {
            miss(counted);
            return Optional.empty();
        }
        EntryCodec.Decoded decoded;
        try {
            decoded = EntryCodec.decode(bytes);
        } catch (EntryCodec.DamagedEntryException e) {
            counters.damaged.increment();
            miss(counted);
            LOG.log(Level.WARNING, "kvmfilter: result store: dropped damaged shared entry {0}: {1}", id,
                    e.getMessage());
            submitQuietly(() -> shared.remove(id, bytes));
            return Optional.empty();
        }
        long now = System.currentTimeMillis();
        if (!decoded.canonicalKey().equals(key.canonical())
                || !decoded.result().freshAt(decoded.createdMillis(), now, timeToLive)) {
            miss(counted);
            return Optional.empty();
        }
        if (counted) {
            counters.hits.increment();
        }
        return Optional.of(decoded.result().lifetimeLeft(decoded.createdMillis(), now));
    }

    private void miss(boolean counted) {
        if (counted) {
            counters.misses.increment();
        }
    }

    /**
     * Claims the making of this key's result for this node until untilMs. When another node holds a live claim,
     * that claim comes back (not {@link ClusterClaim#mine()}): wait for its result. A tier that cannot answer, or
     * a lapsed claim that cannot be taken over, gives a claim of nobody's: each node then makes its own result
     * (duplicate work, never a stall).
     */
    ClusterClaim claim(ResultKey key, long untilMs) {
        ClusterClaim nobody = new ClusterClaim(null, null, untilMs);
        Cache<String, byte[]> shared = usable();
        if (shared == null) {
            return nobody;
        }
        ClusterClaim mine = ClusterClaim.create(key, untilMs);
        try {
            return call(() -> {
                if (shared.putIfAbsent(mine.id(), mine.value())) {
                    return mine;
                }
                byte[] held = shared.get(mine.id());
                if (held == null) {
                    return shared.putIfAbsent(mine.id(), mine.value()) ? mine : nobody;
                }
                if (ClusterClaim.untilOf(held) > System.currentTimeMillis()) {
                    return ClusterClaim.held(mine.id(), held);
                }
                // Its node ended or died without releasing it: take it over, unless another node just did.
                return shared.replace(mine.id(), held, mine.value()) ? mine : nobody;
            });
        } catch (RuntimeException e) {
            failed("failed to answer", e);
            return nobody;
        }
    }

    /** Whether another node's claim is still there and live (false once it was released or lapsed). */
    boolean stillClaimed(ClusterClaim claim) {
        Cache<String, byte[]> shared = usable();
        if (shared == null || claim.untilMs() <= System.currentTimeMillis()) {
            return false;
        }
        try {
            byte[] held = call(() -> shared.get(claim.id()));
            return ClusterClaim.untilOf(held) > System.currentTimeMillis();
        } catch (RuntimeException e) {
            failed("failed to answer", e);
            return false;
        }
    }

    /**
     * Queues the write of a result made under a claim, then the release of the claim, in that order, so that a
     * node waiting for it finds the result before the claim is gone.
     */
    void putAndRelease(ResultKey key, StoredResult result, long createdMillis, ClusterClaim claim) {
        Cache<String, byte[]> shared = usable();
        if (shared == null || claim.value() == null) {
            put(key, result, createdMillis);
            return;
        }
        byte[] bytes = shareable(key, result, createdMillis);
        String id = key.id();
        submitQuietly(() -> {
            if (bytes != null) {
                shared.put(id, bytes);
                counters.stores.increment();
            }
            shared.remove(claim.id(), claim.value());
        });
    }

    /** Queues the release of this node's claim without a result (the run failed, or another node's was found). */
    void release(ClusterClaim claim) {
        Cache<String, byte[]> shared = usable();
        if (shared != null && claim.value() != null) {
            submitQuietly(() -> shared.remove(claim.id(), claim.value()));
        }
    }

    /** Runs a cluster operation on the tier's threads, waiting at most the shared timeout. */
    private <T> T call(Callable<T> operation) {
        Future<T> pending = executor.submit(operation);
        try {
            T answer = pending.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            answered();
            return answer;
        } catch (TimeoutException e) {
            pending.cancel(true);
            throw new IllegalStateException("no answer within " + timeout.toMillis() + " ms", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause; // the cache's own exception, as the log names it
            }
            throw new IllegalStateException(e.getCause().toString(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** One wait for another node's run of a key, for the statistics. */
    void countClusterWait() {
        counters.coalesced.increment();
    }

    /** The stored result without counting a lookup (the polls of a wait for another node). */
    Optional<StoredResult> peek(ResultKey key) {
        return read(key, false);
    }

    /** Queues the write of a success no larger than the entry limit; never waits for the cluster. */
    void put(ResultKey key, StoredResult result, long createdMillis) {
        Cache<String, byte[]> shared = usable();
        byte[] bytes = shared == null ? null : shareable(key, result, createdMillis);
        if (bytes == null) {
            return;
        }
        String id = key.id();
        submitQuietly(() -> {
            shared.put(id, bytes);
            counters.stores.increment();
        });
    }

    /** The entry of a success no larger than the entry limit, or null for a result the cluster does not keep. */
    private byte[] shareable(ResultKey key, StoredResult result, long createdMillis) {
        if (!result.ok() || !result.storable() || (long) result.body().length > maxEntryBytes) {
            return null;
        }
        byte[] bytes = EntryCodec.encode(key, result, createdMillis);
        return bytes.length > maxEntryBytes ? null : bytes;
    }

    private void submitQuietly(Runnable operation) {
        try {
            executor.execute(() -> {
                try {
                    operation.run();
                    answered();
                } catch (RuntimeException e) {
                    failed("failed to store", e);
                }
            });
        } catch (RejectedExecutionException e) {
            // The queue is full (the cluster is slow): this write is dropped, a later request stores it again.
            counters.errors.increment();
        }
    }

    private void answered() {
        if (down.compareAndSet(true, false)) {
            LOG.log(Level.INFO, "kvmfilter: result store: the shared cache answers again");
        } else if (cache != null && !announced) {
            announced = true;
            LOG.log(Level.INFO, "kvmfilter: result store: shared cache {0} open", cache.description());
        }
    }

    private void failed(String what, Throwable e) {
        counters.errors.increment();
        skipUntilNanos = System.nanoTime() + retryInterval.toNanos();
        if (down.compareAndSet(false, true)) {
            LOG.log(Level.WARNING, "kvmfilter: result store: the shared cache " + what + " (" + e
                    + "); serving from the local tiers only, trying again every " + retryInterval.toSeconds()
                    + " s (logged once until it answers again)");
        }
    }

    TierStatistics statistics() {
        boolean available = cache != null && !down.get();
        return counters.snapshot("shared", available, -1, -1);
    }

    @Override
    public void close() {
        executor.shutdownNow();
        ResultStore.SharedCache open = cache;
        cache = null;
        if (open != null) {
            try {
                open.close();
            } catch (RuntimeException e) {
                LOG.log(Level.DEBUG, "kvmfilter: result store: closing the shared cache: " + e);
            }
        }
    }
}
