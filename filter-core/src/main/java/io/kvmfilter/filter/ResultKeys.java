package io.kvmfilter.filter;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.kvmfilter.kvm.KvmConfigurationException;
import io.kvmfilter.kvm.ProgramDefinition;
import io.kvmfilter.kvm.ProgramLibrary;
import io.kvmfilter.kvm.Step;
import io.kvmfilter.store.BodyDigests;
import io.kvmfilter.store.ResultKey;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Makes the result store's key of a request: everything the variant's programs receive and everything that
 * shapes what they answer, so a stored result is served only for identical inputs (docs/configuration.md,
 * "Result storage"):
 * <ul>
 * <li>the chain: each step's program, argument and error threshold, and the program's output identity (the
 * SHA-256 of its binary, its arguments and environment), so a new binary never gets an old result;</li>
 * <li>the original's Content-Type, as the programs receive it (with its charset);</li>
 * <li>the original body, by SHA-256 ({@link BodyDigests}: not hashed again when the origin's validator vouches);</li>
 * <li>the URL with its query, unless every program of the chain declares {@code reads_url: false} in the
 * library (the bundled ones do): then identical bodies under different URLs share a result.</li>
 * </ul>
 * Programs receive no request headers, so none are part of the key.
 */
final class ResultKeys {

    private final Map<String, String> identities;
    private final Set<String> urlBlind;
    private final BodyDigests digests;

    /** A variant's chain part and whether it reads the URL, made once per variant: the variants are few. */
    private record Chain(String text, boolean readsUrl) {
    }

    /** Bounded: option URLs make a variant per option set (FilterImageOptions). */
    private final Cache<Variant, Chain> chains = Caffeine.newBuilder().maximumSize(10_000).executor(Runnable::run)
            .build();

    /**
     * @param identities program name to output identity; programs not in it are named by their name only
     * @param urlBlind   programs that declared they do not read the URL; every other program is assumed to
     */
    ResultKeys(Map<String, String> identities, Set<String> urlBlind, BodyDigests digests) {
        this.identities = Map.copyOf(identities);
        this.urlBlind = Set.copyOf(urlBlind);
        this.digests = digests;
    }

    /** The keys of a filter running these programs of the library; reads each program's binary once, now. */
    static ResultKeys of(ProgramLibrary library, Set<String> programs, BodyDigests digests) {
        return of(library, programs, digests, Map.of());
    }

    /**
     * As {@link #of(ProgramLibrary, Set, BodyDigests)}, with more of what a program's output depends on beyond its
     * binary and settings (the watermark file the image program reads), by program.
     */
    static ResultKeys of(ProgramLibrary library, Set<String> programs, BodyDigests digests,
            Map<String, String> inputs) {
        Map<String, String> identities = new HashMap<>();
        Set<String> urlBlind = new HashSet<>();
        for (String program : programs) {
            ProgramDefinition definition = library.program(program);
            try {
                identities.put(program, library.outputIdentity(program));
            } catch (KvmConfigurationException e) {
                // The sandbox reports an unreadable binary when it loads it; the key still names the source.
                identities.put(program, "source=" + definition.source());
            }
            if (!definition.readsUrl()) {
                urlBlind.add(program);
            }
            if (inputs.containsKey(program)) {
                identities.put(program, identities.get(program) + " " + inputs.get(program));
            }
        }
        return new ResultKeys(identities, urlBlind, digests);
    }

    /**
     * The key of one request.
     *
     * @param path         the request path: validators are unique per resource only
     * @param etag         the original's ETag, or null
     * @param lastModified the original's Last-Modified, or null
     */
    ResultKey key(Variant variant, String contentType, byte[] body, String url, String path, String etag,
            String lastModified) {
        Chain chain = chains.get(variant, this::chainOf);
        String digest = digests.digest(path, BodyDigests.Validator.of(etag, lastModified, body.length), body);
        return new ResultKey(chain.text(), contentType == null ? "" : contentType, "sha256=" + digest,
                chain.readsUrl() ? url : "");
    }

    private Chain chainOf(Variant variant) {
        StringBuilder chain = new StringBuilder();
        boolean readsUrl = false;
        for (Step step : variant.steps()) {
            chain.append(step.program().length()).append(':').append(step.program())
                    .append(" identity=").append(identities.getOrDefault(step.program(), "unknown"))
                    .append(" threshold=").append(step.errorThreshold())
                    .append(" arg=").append(step.arg().length()).append(':').append(step.arg()).append('\n');
            readsUrl |= !urlBlind.contains(step.program());
        }
        return new Chain(chain.toString(), readsUrl);
    }
}
