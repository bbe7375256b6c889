package io.kvmfilter.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Results in files of one directory, surviving restarts.
 *
 * <ul>
 * <li>One file per entry, {@code <dir>/<2 hex>/<key id>.entry}, in the {@link EntryCodec} form: the full key and a
 * CRC32C checksum travel with the body, and every read checks both. A damaged file (bad checksum, truncated, not
 * ours) is deleted and counted, never served.</li>
 * <li>Writes go to {@code <dir>/tmp/} first and are renamed into place atomically: a crash leaves either the old
 * file, the new one or a temporary file that the next start deletes. (No fsync: a file the kernel lost in a crash
 * fails its checksum and is dropped.)</li>
 * <li>The total size is bounded: an in-memory index of the files (Caffeine, weighed by file size) evicts the
 * entries least likely to be used again and deletes their files. At start the index is rebuilt from the
 * directory, oldest files first.</li>
 * <li>One store per directory: a lock file ({@code <dir>/.lock}) keeps a second process away.</li>
 * </ul>
 */
final class DiskTier implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ResultStore.class.getName());
    private static final Pattern ENTRY_NAME = Pattern.compile("[0-9a-f]{64}\\.entry");
    /** I/O errors are logged at most once a minute: a full disk must not flood the log. */
    private static final long ERROR_LOG_INTERVAL_NANOS = 60_000_000_000L;

    private final Path dir;
    private final Path tmp;
    private final Duration timeToLive;
    private final Cache<String, Long> index;
    private final TierCounters counters = new TierCounters();
    private final FileChannel lockChannel;
    private final FileLock lock;
    private volatile long lastErrorLog = System.nanoTime() - ERROR_LOG_INTERVAL_NANOS;

    /**
     * Opens (creating if needed) the directory and indexes the entries already in it.
     *
     * @param dir        the directory
     * @param maxBytes   the most bytes of entry files to keep
     * @param timeToLive how long an entry is served after it was made; null for as long as it fits
     * @throws IllegalArgumentException when the directory cannot be created, read or written, or another store
     *                                  uses it, naming the directory and the reason
     */
    DiskTier(Path dir, long maxBytes, Duration timeToLive) {
        this.dir = dir.toAbsolutePath().normalize();
        this.tmp = this.dir.resolve("tmp");
        this.timeToLive = timeToLive;
        try {
            Files.createDirectories(tmp);
        } catch (IOException e) {
            throw new IllegalArgumentException("cache directory " + this.dir + " cannot be created: " + e, e);
        }
        if (!Files.isWritable(this.dir)) {
            throw new IllegalArgumentException("cache directory " + this.dir + " is not writable");
        }
        try {
            lockChannel = FileChannel.open(this.dir.resolve(".lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new IllegalArgumentException("cache directory " + this.dir + ": cannot open its lock file: " + e, e);
        }
        FileLock acquired;
        try {
            acquired = lockChannel.tryLock();
        } catch (IOException | OverlappingFileLockException e) {
            acquired = null;
        }
        if (acquired == null) {
            closeQuietly(lockChannel);
            throw new IllegalArgumentException("cache directory " + this.dir + " is in use by another result store"
                    + " (give each server, and each web application, a directory of its own)");
        }
        lock = acquired;
        index = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((String id, Long size) -> (int) Math.min(Integer.MAX_VALUE, size))
                .removalListener((String id, Long size, com.github.benmanes.caffeine.cache.RemovalCause cause) -> {
                    if (cause.wasEvicted() && id != null) {
                        counters.evictions.increment();
                        delete(file(id));
                    }
                })
                .executor(Runnable::run)
                .build();
        deleteTemporaryFiles();
        indexExistingEntries();
    }

    private void deleteTemporaryFiles() {
        try (Stream<Path> files = Files.list(tmp)) {
            files.forEach(DiskTier::delete);
        } catch (IOException e) {
            throw new IllegalArgumentException("cache directory " + dir + ": cannot list " + tmp + ": " + e, e);
        }
    }

    private void indexExistingEntries() {
        List<Path> entries = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir, 2)) {
            files.filter(f -> ENTRY_NAME.matcher(f.getFileName().toString()).matches()).forEach(entries::add);
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalArgumentException("cache directory " + dir + " cannot be read: " + e, e);
        }
        // Oldest first, so when the directory holds more than the limit allows the newest entries stay.
        entries.sort(Comparator.comparingLong(DiskTier::modified));
        for (Path entry : entries) {
            String name = entry.getFileName().toString();
            try {
                index.put(name.substring(0, 64), Files.size(entry));
            } catch (IOException e) {
                // Gone since the listing: nothing to index.
            }
        }
        index.cleanUp();
        LOG.log(Level.INFO, "kvmfilter: result store directory {0}: {1} entries, {2} bytes", dir,
                index.estimatedSize(), weightedSize());
    }

    private static long modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    private Path file(String id) {
        return dir.resolve(id.substring(0, 2)).resolve(id + ".entry");
    }

    /** The stored success for this key, after checking its checksum and full key; empty when absent or damaged. */
    Optional<StoredResult> get(ResultKey key) {
        String id = key.id();
        if (index.getIfPresent(id) == null) {
            counters.misses.increment();
            return Optional.empty();
        }
        Path file = file(id);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            index.invalidate(id);
            counters.misses.increment();
            return Optional.empty();
        } catch (IOException e) {
            counters.errors.increment();
            logError("cannot read " + file, e);
            counters.misses.increment();
            return Optional.empty();
        }
        EntryCodec.Decoded decoded;
        try {
            decoded = EntryCodec.decode(bytes);
        } catch (EntryCodec.DamagedEntryException e) {
            index.invalidate(id);
            delete(file);
            counters.damaged.increment();
            counters.misses.increment();
            LOG.log(Level.WARNING, "kvmfilter: result store: dropped damaged entry {0}: {1}", file, e.getMessage());
            return Optional.empty();
        }
        if (!decoded.canonicalKey().equals(key.canonical())) {
            // Another key with the same SHA-256: in practice never, but never served either.
            counters.misses.increment();
            return Optional.empty();
        }
        long now = System.currentTimeMillis();
        if (!decoded.result().freshAt(decoded.createdMillis(), now, timeToLive)) {
            index.invalidate(id);
            delete(file);
            counters.evictions.increment();
            counters.misses.increment();
            return Optional.empty();
        }
        counters.hits.increment();
        return Optional.of(decoded.result().lifetimeLeft(decoded.createdMillis(), now));
    }

    /** Writes a success: to a temporary file, then renamed into place. Failures to write are counted and logged. */
    void put(ResultKey key, StoredResult result, long createdMillis) {
        if (!result.ok() || !result.storable()) {
            return;
        }
        String id = key.id();
        byte[] bytes = EntryCodec.encode(key, result, createdMillis);
        Path target = file(id);
        Path temporary = null;
        try {
            Files.createDirectories(target.getParent());
            temporary = Files.createTempFile(tmp, id, ".tmp");
            Files.write(temporary, bytes);
            try {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the file system of " + dir + " cannot rename atomically", e);
            }
            temporary = null;
            index.put(id, (long) bytes.length);
            counters.stores.increment();
        } catch (IOException e) {
            counters.errors.increment();
            logError("cannot write " + target, e);
        } finally {
            if (temporary != null) {
                delete(temporary);
            }
        }
    }

    private void logError(String what, IOException e) {
        long now = System.nanoTime();
        if (now - lastErrorLog >= ERROR_LOG_INTERVAL_NANOS) {
            lastErrorLog = now;
            LOG.log(Level.WARNING, "kvmfilter: result store: " + what + ": " + e
                    + " (the entry is not used; such errors are logged at most once a minute)");
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // A file we cannot delete is only space: its entry is out of the index and never read again.
        }
    }

    private long weightedSize() {
        return index.policy().eviction().map(e -> e.weightedSize().orElse(-1L)).orElse(-1L);
    }

    Path directory() {
        return dir;
    }

    TierStatistics statistics() {
        index.cleanUp();
        return counters.snapshot("disk", true, index.estimatedSize(), weightedSize());
    }

    /** Releases the directory's lock; the files stay for the next start. */
    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException e) {
            // Closing the channel releases it too.
        }
        closeQuietly(lockChannel);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing left to do
        }
    }
}
