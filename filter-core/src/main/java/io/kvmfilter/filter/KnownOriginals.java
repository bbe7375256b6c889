package io.kvmfilter.filter;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.kvmfilter.store.ResultKey;
import io.kvmfilter.store.ResultStore;
import io.kvmfilter.store.StoredResult;
import jakarta.servlet.http.HttpServletResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Originals with a strong ETag whose variants were served from stored results, per URL: the next request for
 * such a variant asks the application only whether the original is still the same, with
 * {@code If-None-Match} and that ETag, and on its 304 gets the stored result without the application producing
 * the body at all (docs/configuration.md, "Result storage"). This is how a caching proxy revalidates.
 *
 * <p>Only a strong ETag promises byte-identical bodies (RFC 9110 §8.8.1), so weak ETags and Last-Modified are
 * never used this way: their bodies are read and checked on every request ({@code BodyDigests}). The stored
 * result is taken from the memory tier before the application is asked, so a 304 always has a body to go with.
 *
 * <p>A 304 carries only some of the headers of its 200 (RFC 9110 §15.4.5), so the application's other headers
 * of the last 200 are kept too and added where the 304 lacks them, as a cache freshens a stored response
 * (RFC 9111 §4.3.4). Never kept: the framing headers, and {@code Set-Cookie}, which belongs to one client; a
 * response marked {@code private} or {@code no-store} is not revalidated this way at all.
 */
final class KnownOriginals {

    /** Originals remembered, at most: a few hundred bytes each (the chain text is shared with the variant's). */
    static final int MAX_ENTRIES = 50_000;

    /** Headers of the application's 200 that are not kept: framing, the container's own, one client's. */
    private static final Set<String> NOT_KEPT = Set.of("content-length", "content-type", "content-range",
            "transfer-encoding", "connection", "keep-alive", "date", "server", "set-cookie", "etag");

    /** One header line of the application's 200. */
    record Header(String name, String value) {
    }

    /**
     * The original a URL answered last: its strong ETag, type and headers, and the store's key of each variant
     * served from it.
     */
    private record Known(String etag, String contentType, List<Header> headers, Map<String, ResultKey> keys) {
    }

    /**
     * A request that may be answered by the application's 304.
     *
     * @param variant     the variant the request gets
     * @param etag        the original's strong ETag, sent as If-None-Match
     * @param contentType the original's Content-Type (a 304 need not carry it)
     * @param result      the stored result, already taken from memory
     * @param headers     the application's other headers of its last 200
     */
    record Revalidation(Variant variant, String etag, String contentType, StoredResult result,
            List<Header> headers) {
    }

    private final ResultStore store;
    private final Cache<String, Known> known;

    KnownOriginals(ResultStore store) {
        this.store = store;
        this.known = Caffeine.newBuilder().maximumSize(MAX_ENTRIES).executor(Runnable::run).build();
    }

    /**
     * Remembers that this variant of the URL was served from {@code key}'s result; only originals with a strong
     * ETag are remembered.
     *
     * @param response the response before the filter's own headers were set: the application's headers
     */
    void served(Variant variant, String url, String etag, String contentType, ResultKey key,
            HttpServletResponse response) {
        if (etag == null || contentType == null || key == null || !ETags.isStrong(etag) || forOneClient(response)) {
            known.invalidate(url); // no strong ETag (any more), or headers that must not reach another client
            return;
        }
        String tag = etag.trim();
        Known last = known.getIfPresent(url);
        boolean sameOriginal = last != null && last.etag().equals(tag) && last.contentType().equals(contentType);
        if (sameOriginal && key.equals(last.keys().get(variant.name()))) {
            return; // nothing new to keep
        }
        Map<String, ResultKey> keys = new HashMap<>(sameOriginal ? last.keys() : Map.of());
        keys.put(variant.name(), key);
        known.put(url, new Known(tag, contentType, applicationHeaders(response), Map.copyOf(keys)));
    }

    /**
     * A response a shared cache must not keep ({@code private}, {@code no-store}): its headers may be one
     * client's, so they are never replayed to another (its body, a result of identical bytes, may still be).
     */
    private static boolean forOneClient(HttpServletResponse response) {
        for (String value : response.getHeaders("Cache-Control")) {
            String directives = value.toLowerCase(Locale.ROOT);
            if (directives.contains("private") || directives.contains("no-store")) {
                return true;
            }
        }
        return false;
    }

    private static List<Header> applicationHeaders(HttpServletResponse response) {
        List<Header> headers = new ArrayList<>();
        Set<String> seen = new HashSet<>(); // Tomcat names a header once per value
        for (String name : response.getHeaderNames()) {
            String lower = name.toLowerCase(Locale.ROOT);
            if (!NOT_KEPT.contains(lower) && seen.add(lower)) {
                for (String value : response.getHeaders(name)) {
                    headers.add(new Header(name, value));
                }
            }
        }
        return List.copyOf(headers);
    }

    /**
     * The revalidation for a request of the URL, when the URL's last original had a strong ETag and the result of
     * the variant this request gets is in memory right now.
     *
     * @param variantFor the variant the request gets for an original of the given Content-Type, if any
     */
    Optional<Revalidation> revalidation(String url, Function<String, Optional<Variant>> variantFor) {
        Known last = known.getIfPresent(url);
        if (last == null) {
            return Optional.empty();
        }
        Optional<Variant> variant = variantFor.apply(last.contentType());
        ResultKey key = variant.map(v -> last.keys().get(v.name())).orElse(null);
        if (key == null) {
            return Optional.empty();
        }
        return store.successInMemory(key).map(result -> new Revalidation(variant.get(), last.etag(),
                last.contentType(), result, last.headers()));
    }

    /** Forgets the URL's original: its application answered a revalidation in a way that cannot be trusted. */
    void forget(String url) {
        known.invalidate(url);
    }
}
