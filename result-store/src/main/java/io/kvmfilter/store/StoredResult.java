package io.kvmfilter.store;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What a program chain made of an input: a body and its type, or a failure.
 *
 * <p>Only {@link #storable()} results are kept. A storable success goes into every tier; a storable failure is kept
 * in the memory tier for the store's failure time, so a broken original is not run again on every request (a
 * negative entry). Other results (a body its program said must not be reused, a failure that says nothing about
 * the input: busy, paused) only answer the requests that waited for them. Failures never reach the disk or shared
 * tiers.
 *
 * @param body        the transformed body; null for a failure
 * @param contentType its Content-Type as the program gave it, or null to keep the caller's
 * @param failure     a short reason such as {@code timeout} or {@code error-status}; null on success
 * @param storable    whether the store may keep it
 * @param lifetime    how long its program said it stays fresh (in every tier, whatever the store's time to
 *                    live); null for as long as the store keeps it
 * @param headers     response headers its program set ("Name: value"), kept with the body in every tier; which of
 *                    them reach a client is the filter's choice (its programHeaders)
 */
public record StoredResult(byte[] body, String contentType, String failure, boolean storable, Duration lifetime,
        List<String> headers) {

    /** What an entry costs beyond its strings and body: object headers, the key's record, the map's node. */
    static final int OVERHEAD_BYTES = 160;

    /** @throws IllegalArgumentException unless exactly one of body and failure is given, or for a lifetime of zero or less */
    public StoredResult {
        if ((body == null) == (failure == null)) {
            throw new IllegalArgumentException("a stored result has either a body or a failure, not both or neither");
        }
        if (lifetime != null && (lifetime.isNegative() || lifetime.isZero())) {
            throw new IllegalArgumentException("a result's lifetime must be above zero, not " + lifetime);
        }
        headers = headers == null ? List.of() : List.copyOf(headers);
    }

    /** A result as the canonical constructor makes it, without headers. */
    StoredResult(byte[] body, String contentType, String failure, boolean storable, Duration lifetime) {
        this(body, contentType, failure, storable, lifetime, List.of());
    }

    /**
     * The same result with the response headers its program set.
     *
     * @param programHeaders "Name: value" fields
     * @return the result with them
     */
    public StoredResult withHeaders(List<String> programHeaders) {
        return new StoredResult(body, contentType, failure, storable, lifetime, programHeaders);
    }

    /**
     * A transformed body.
     *
     * @param body        the body (not copied: it must not change afterwards)
     * @param contentType its type, or null
     * @return the result
     */
    public static StoredResult success(byte[] body, String contentType) {
        return new StoredResult(Objects.requireNonNull(body, "body"), contentType, null, true, null);
    }

    /**
     * A transformed body that its program said stays fresh for {@code lifetime} (its {@code sys_set_cacheable}
     * ttl): no tier serves it longer, even when the store's own time to live is longer.
     *
     * @param body        the body (not copied: it must not change afterwards)
     * @param contentType its type, or null
     * @param lifetime    above zero
     * @return the result
     */
    public static StoredResult success(byte[] body, String contentType, Duration lifetime) {
        return new StoredResult(Objects.requireNonNull(body, "body"), contentType, null, true,
                Objects.requireNonNull(lifetime, "lifetime"));
    }

    /**
     * A transformed body that must not be reused (its program said so): given to the waiting requests only.
     *
     * @param body        the body
     * @param contentType its type, or null
     * @return the result
     */
    public static StoredResult unstorable(byte[] body, String contentType) {
        return new StoredResult(Objects.requireNonNull(body, "body"), contentType, null, false, null);
    }

    /**
     * A failure that depends on the input (the program rejected it, timed out on it): remembered for a while.
     *
     * @param reason the short reason
     * @return the result
     */
    public static StoredResult failure(String reason) {
        return new StoredResult(null, null, Objects.requireNonNull(reason, "reason"), true, null);
    }

    /**
     * A failure that says nothing about the input (busy, paused, interrupted): given to the waiting requests only.
     *
     * @param reason the short reason
     * @return the result
     */
    public static StoredResult transientFailure(String reason) {
        return new StoredResult(null, null, Objects.requireNonNull(reason, "reason"), false, null);
    }

    /** @return true for a transformed body */
    public boolean ok() {
        return failure == null;
    }

    /**
     * Whether a result made at {@code createdMillis} is still served at {@code nowMillis}: within the store's
     * time to live (null: no limit) and within its own lifetime, if it has one.
     */
    boolean freshAt(long createdMillis, long nowMillis, Duration storeTimeToLive) {
        long age = nowMillis - createdMillis;
        return (storeTimeToLive == null || age <= storeTimeToLive.toMillis())
                && (lifetime == null || age <= lifetime.toMillis());
    }

    /**
     * This result as read at {@code nowMillis} from a tier that kept it since {@code createdMillis}: its lifetime,
     * if any, is what is left of it, so a copy in memory does not outlive it (at least 1 ms: it was fresh).
     */
    StoredResult lifetimeLeft(long createdMillis, long nowMillis) {
        if (lifetime == null) {
            return this;
        }
        long left = Math.max(1, lifetime.toMillis() - (nowMillis - createdMillis));
        return new StoredResult(body, contentType, failure, storable, Duration.ofMillis(left), headers);
    }

    /** Bytes this result holds in memory, for the memory tier's weigher. */
    int weight(ResultKey key) {
        long strings = 2L * (key.chain().length() + key.contentType().length() + key.body().length()
                + key.url().length() + (contentType == null ? 0 : contentType.length())
                + (failure == null ? 0 : failure.length()) + headers.stream().mapToLong(String::length).sum());
        long total = OVERHEAD_BYTES + strings + (body == null ? 0 : body.length);
        return (int) Math.min(Integer.MAX_VALUE, total);
    }
}
