package io.kvmfilter.filter;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Transformed bodies, kept so the same input is not converted again (an AVIF encode takes most of a second).
 * Keyed by variant and the SHA-256 of the original body and its content type, so an entry is valid whatever URL or
 * ETag served it. Bounded by the total size of the stored bodies; the least recently used entries go first.
 */
final class TransformCache {

    /** A stored result. */
    record Entry(byte[] body, String contentType) {
    }

    private final long capacity;
    private final Map<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long size;

    /** @param capacity the most bytes of transformed bodies to keep; 0 turns the cache off */
    TransformCache(long capacity) {
        this.capacity = capacity;
    }

    boolean enabled() {
        return capacity > 0;
    }

    /** The key of a variant of a body. */
    static String key(Variant variant, byte[] body, String contentType) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(variant.toString().getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(String.valueOf(contentType).getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(body);
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }

    synchronized Entry get(String key) {
        return entries.get(key);
    }

    /** Stores a result unless it alone exceeds the capacity; evicts the least recently used to make room. */
    synchronized void put(String key, Entry entry) {
        long entrySize = entry.body().length;
        if (entrySize > capacity) {
            return;
        }
        Entry previous = entries.put(key, entry);
        if (previous != null) {
            size -= previous.body().length;
        }
        size += entrySize;
        Iterator<Map.Entry<String, Entry>> oldest = entries.entrySet().iterator();
        while (size > capacity && oldest.hasNext()) {
            size -= oldest.next().getValue().body().length;
            oldest.remove();
        }
    }

    synchronized long size() {
        return size;
    }
}
