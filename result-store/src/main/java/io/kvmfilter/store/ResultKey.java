package io.kvmfilter.store;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Everything a program chain receives, so a stored result is only ever served for identical inputs.
 *
 * <p>Two keys are equal exactly when all their parts are equal; the tiers that store by {@link #id()} (disk, shared)
 * keep {@link #canonical()} with each entry and compare it on every read, so two keys whose ids collided would
 * still never be confused.
 *
 * @param chain       the program chain and everything that shapes its output: each step's program, argument and
 *                    program identity (its binary and settings), as the caller describes them
 * @param contentType the original's full Content-Type as the programs receive it (with its charset)
 * @param body        the identity of the original body: a SHA-256 digest, see {@link BodyDigests}
 * @param url         the request URL (path and query) when a program of the chain reads it; empty otherwise, so
 *                    identical bodies under different URLs share one result
 */
public record ResultKey(String chain, String contentType, String body, String url) {

    /** Changes whenever the meaning of the parts or the canonical form changes: old entries then never match. */
    static final String FORMAT = "kvmfilter-result-key/1";

    /**
     * Checks that no part is null.
     *
     * @throws NullPointerException naming the missing part
     */
    public ResultKey {
        Objects.requireNonNull(chain, "chain");
        Objects.requireNonNull(contentType, "contentType");
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(url, "url");
    }

    /**
     * The key as one unambiguous string: each part is preceded by its length, so no choice of parts can produce
     * the canonical form of other parts.
     *
     * @return the canonical form, stored with each entry
     */
    public String canonical() {
        StringBuilder out = new StringBuilder(FORMAT.length() + chain.length() + contentType.length() + body.length()
                + url.length() + 32);
        out.append(FORMAT);
        for (String part : new String[] {chain, contentType, body, url}) {
            out.append('\n').append(part.length()).append(':').append(part);
        }
        return out.toString();
    }

    /**
     * A short name of the key for file names and shared-cache keys: the SHA-256 of the canonical form, in hex.
     *
     * @return 64 lower-case hex digits
     */
    public String id() {
        return Digests.sha256Hex(canonical().getBytes(StandardCharsets.UTF_8));
    }
}
