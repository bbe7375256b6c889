package io.kvmfilter.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

/**
 * Names original bodies by their SHA-256 digest without hashing the same original again on every request.
 *
 * <p>When the origin gives a validator for the body, the digest is remembered under the resource and validator:
 * <ul>
 * <li>a <b>strong ETag</b> promises byte-identical bodies (RFC 9110 §8.8.1), so the remembered digest is used as it
 * is, after comparing the body's length: the body is not read at all;</li>
 * <li>a <b>weak ETag</b>, or <b>Last-Modified with the length</b>, does not: servers derive both from the file's
 * size and modification second, so a file rewritten in place within the same second keeps them. Such a digest is
 * used only after a CRC32C of the body (hardware-accelerated, some 20 times cheaper than SHA-256) matches the one
 * remembered with it; otherwise the body is hashed again.</li>
 * </ul>
 * Without a validator every body is hashed. The memo is bounded in entries, least useful first out.
 */
public final class BodyDigests {

    /** Resources whose digest is remembered, by default: about 200 bytes each. */
    public static final int DEFAULT_MAX_ENTRIES = 100_000;

    /** What the origin said identifies this body: an ETag, or Last-Modified and length. */
    public record Validator(String value, boolean strong) {

        /**
         * The validator of a response, if it has one.
         *
         * @param etag          the ETag header, or null
         * @param lastModified  the Last-Modified header, or null
         * @param contentLength the body's length
         * @return the ETag (strong unless {@code W/}), else Last-Modified with the length (not strong), else null
         */
        public static Validator of(String etag, String lastModified, long contentLength) {
            if (etag != null && !etag.isBlank()) {
                String tag = etag.trim();
                return new Validator("etag " + tag, !tag.startsWith("W/"));
            }
            if (lastModified != null && !lastModified.isBlank()) {
                return new Validator("last-modified " + lastModified.trim() + " length " + contentLength, false);
            }
            return null;
        }
    }

    private record Remembered(String sha256, int crc32c, int length) {
    }

    private final Cache<String, Remembered> memo;
    private final LongAdder hashed = new LongAdder();
    private final LongAdder trusted = new LongAdder();
    private final LongAdder checked = new LongAdder();

    /** @param maxEntries resources to remember (0: hash every body) */
    public BodyDigests(int maxEntries) {
        if (maxEntries < 0) {
            throw new IllegalArgumentException("maxEntries " + maxEntries + " is negative; allowed: 0 or more");
        }
        memo = Caffeine.newBuilder().maximumSize(maxEntries).executor(Runnable::run).build();
    }

    /**
     * The SHA-256 of the body, in hex, computed or known from an earlier response with the same validator.
     *
     * @param resource  what the validator belongs to (the request path): validators are only unique per resource
     * @param validator the response's validator, or null
     * @param body      the whole body
     * @return 64 lower-case hex digits
     */
    public String digest(String resource, Validator validator, byte[] body) {
        Objects.requireNonNull(body, "body");
        if (validator == null) {
            hashed.increment();
            return Digests.sha256Hex(body);
        }
        String memoKey = resource + "\n" + validator.value();
        Remembered known = memo.getIfPresent(memoKey);
        if (known != null && known.length() == body.length) {
            if (validator.strong()) {
                trusted.increment();
                return known.sha256();
            }
            if (Digests.crc32c(body, 0, body.length) == known.crc32c()) {
                checked.increment();
                return known.sha256();
            }
        }
        hashed.increment();
        String sha = Digests.sha256Hex(body);
        memo.put(memoKey, new Remembered(sha, Digests.crc32c(body, 0, body.length), body.length));
        return sha;
    }

    /** @return bodies hashed with SHA-256 (no validator, or the first time, or changed) */
    public long hashed() {
        return hashed.sum();
    }

    /** @return bodies whose digest came from a strong ETag, unread */
    public long trusted() {
        return trusted.sum();
    }

    /** @return bodies whose digest came from a weak validator after their CRC32C matched */
    public long checked() {
        return checked.sum();
    }
}
