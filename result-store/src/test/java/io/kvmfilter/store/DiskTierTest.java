package io.kvmfilter.store;

import static io.kvmfilter.store.ResultStoreTest.KEY;
import static io.kvmfilter.store.ResultStoreTest.body;
import static io.kvmfilter.store.ResultStoreTest.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The disk tier: restarts, damage, the size bound, the directory lock. */
class DiskTierTest {

    @TempDir
    Path dir;

    private ResultStore open() {
        return ResultStore.builder().directory(dir, 1 << 20).build();
    }

    private List<Path> entries() throws Exception {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> f.toString().endsWith(".entry")).toList();
        }
    }

    @Test
    void aResultSurvivesARestartAndIsServedWithoutRunningTheTransform() throws Exception {
        try (ResultStore store = open()) {
            store.get(KEY, () -> CompletableFuture.completedFuture(body("from the first run"))).get();
        }
        AtomicInteger runs = new AtomicInteger();
        try (ResultStore restarted = open()) {
            ResultStore.Found found = restarted.get(KEY, () -> {
                runs.incrementAndGet();
                return CompletableFuture.completedFuture(body("again"));
            }).get();
            assertThat(found.source()).isEqualTo(ResultStore.Source.DISK);
            assertThat(text(found)).isEqualTo("from the first run");
            assertThat(found.result().contentType()).isEqualTo("image/webp");
            // Now in memory too.
            assertThat(restarted.lookup(KEY).orElseThrow().source()).isEqualTo(ResultStore.Source.MEMORY);
        }
        assertThat(runs).hasValue(0);
    }

    @Test
    void aResultsOwnLifetimeHoldsOnDiskAndInTheMemoryCopyMadeFromIt() throws Exception {
        try (ResultStore store = open()) {
            store.put(KEY, StoredResult.success("short-lived".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    "image/webp", java.time.Duration.ofMillis(600)));
        }
        try (ResultStore restarted = open()) {
            ResultStore.Found found = restarted.lookup(KEY).orElseThrow();
            assertThat(found.source()).isEqualTo(ResultStore.Source.DISK);
            assertThat(found.result().lifetime()).as("what is left of it").isLessThanOrEqualTo(
                    java.time.Duration.ofMillis(600));
            Thread.sleep(900);
            assertThat(restarted.lookup(KEY)).as("gone from memory and disk after its lifetime").isEmpty();
        }
    }

    @Test
    void anEntryWrittenBeforeLifetimesExistedIsStillRead() throws Exception {
        try (ResultStore store = open()) {
            store.put(KEY, body("version one"));
        }
        // Rewrite the entry in format 1: the same fields without the lifetime and the header count (none: 4 bytes
        // before the checksum), with its own checksum.
        Path entry = entries().get(0);
        java.nio.ByteBuffer v3 = java.nio.ByteBuffer.wrap(Files.readAllBytes(entry));
        java.nio.ByteBuffer v1 = java.nio.ByteBuffer.allocate(v3.capacity() - 8 - 4);
        v1.putInt(v3.getInt(0)).putInt(1).putLong(v3.getLong(8));
        v1.put(v3.array(), 24, v3.capacity() - 24 - 4 - 4);
        v1.putInt(Digests.crc32c(v1.array(), 0, v1.position()));
        Files.write(entry, v1.array());
        try (ResultStore restarted = open()) {
            ResultStore.Found found = restarted.lookup(KEY).orElseThrow();
            assertThat(text(found)).isEqualTo("version one");
            assertThat(found.result().lifetime()).isNull();
        }
    }

    @Test
    void theHeadersOfAProgramAreKeptWithItsResult() throws Exception {
        try (ResultStore store = open()) {
            store.put(KEY, body("with headers").withHeaders(java.util.List.of("X-Made-By: test", "Link: </a>; rel=x")));
        }
        try (ResultStore restarted = open()) {
            ResultStore.Found found = restarted.lookup(KEY).orElseThrow();
            assertThat(found.source()).isEqualTo(ResultStore.Source.DISK);
            assertThat(text(found)).isEqualTo("with headers");
            assertThat(found.result().headers()).containsExactly("X-Made-By: test", "Link: </a>; rel=x");
        }
    }

    @Test
    void aDamagedEntryIsDroppedAndNeverServed() throws Exception {
        try (ResultStore store = open()) {
            store.put(KEY, body("precious bytes"));
        }
        Path entry = entries().get(0);
        byte[] bytes = Files.readAllBytes(entry);
        bytes[bytes.length / 2] ^= 0x01; // one flipped bit in the body
        Files.write(entry, bytes);
        try (ResultStore restarted = open()) {
            assertThat(restarted.lookup(KEY)).isEmpty();
            TierStatistics disk = restarted.statistics().get(1);
            assertThat(disk.getDamaged()).isEqualTo(1);
            assertThat(disk.getEntries()).isZero();
        }
        assertThat(entries()).isEmpty();
    }

    @Test
    void aTruncatedEntryAndAStrangerFileAreDroppedToo() throws Exception {
        try (ResultStore store = open()) {
            store.put(KEY, body("precious bytes"));
        }
        Path entry = entries().get(0);
        byte[] bytes = Files.readAllBytes(entry);
        Files.write(entry, java.util.Arrays.copyOf(bytes, bytes.length - 5));
        try (ResultStore restarted = open()) {
            assertThat(restarted.lookup(KEY)).isEmpty();
            assertThat(restarted.statistics().get(1).getDamaged()).isEqualTo(1);
            restarted.put(KEY, body("precious bytes"));
        }
        Files.writeString(entries().get(0), "not an entry at all, but long enough to have a checksum");
        try (ResultStore restarted = open()) {
            assertThat(restarted.lookup(KEY)).isEmpty();
        }
    }

    @Test
    void anEntryOfAnotherKeyUnderThisKeysNameIsNotServed() throws Exception {
        ResultKey other = new ResultKey("avif", "image/png", "digest-1", "");
        try (ResultStore store = open()) {
            store.put(other, body("avif bytes"));
        }
        // Pretend the ids collided: the other key's file under this key's name.
        Path otherFile = entries().get(0);
        Path mine = otherFile.getParent().getParent().resolve(KEY.id().substring(0, 2)).resolve(KEY.id() + ".entry");
        Files.createDirectories(mine.getParent());
        Files.move(otherFile, mine);
        try (ResultStore restarted = open()) {
            assertThat(restarted.lookup(KEY)).isEmpty();
        }
    }

    @Test
    void theDirectoryStaysWithinItsSizeByDeletingEntries() throws Exception {
        try (ResultStore store = ResultStore.builder().memoryBytes(1 << 20).directory(dir, 200_000).build()) {
            for (int i = 0; i < 100; i++) {
                store.put(new ResultKey("webp", "image/png", "digest-" + i, ""),
                        StoredResult.success(new byte[10_000], "image/webp"));
            }
            TierStatistics disk = store.statistics().get(1);
            assertThat(disk.getBytes()).isLessThanOrEqualTo(200_000);
            assertThat(disk.getEvictions()).isGreaterThanOrEqualTo(80);
            long onDisk = 0;
            for (Path entry : entries()) {
                onDisk += Files.size(entry);
            }
            assertThat(onDisk).isEqualTo(disk.getBytes());
        }
    }

    @Test
    void leftoverTemporaryFilesAreDeletedAtStart() throws Exception {
        try (ResultStore store = open()) {
            store.put(KEY, body("x"));
        }
        Path leftover = dir.resolve("tmp").resolve("half-written.tmp");
        Files.write(leftover, new byte[100]);
        try (ResultStore restarted = open()) {
            assertThat(leftover).doesNotExist();
            assertThat(restarted.lookup(KEY)).isPresent();
        }
    }

    @Test
    void aSecondStoreOnTheSameDirectoryIsRefused() {
        try (ResultStore store = open()) {
            assertThatThrownBy(this::open).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(dir.toString()).hasMessageContaining("in use by another result store");
        }
        open().close();
    }

    @Test
    void failuresNeverReachTheDisk() throws Exception {
        try (ResultStore store = open()) {
            store.get(KEY, () -> CompletableFuture.completedFuture(StoredResult.failure("error-status"))).get();
        }
        assertThat(entries()).isEmpty();
    }
}
