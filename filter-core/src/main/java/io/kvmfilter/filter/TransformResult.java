package io.kvmfilter.filter;

import io.kvmfilter.kvm.CacheHint;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a {@link BodyTransform} produced: a body and its type, or a failure reason.
 *
 * @param body        transformed body (null on failure)
 * @param contentType Content-Type of the transformed body, null to keep the variant's or the original's
 * @param cacheHint   what the programs said about reusing the body ({@code sys_set_cacheable}); empty when
 *                    nothing was said
 * @param failure     short reason token such as {@code timeout} or {@code error-status}; null on success
 * @param detail      human-readable detail of the failure for the log; null on success
 * @param headers     the response headers the chain's last program set ("Name: value"); the filter's
 *                    programHeaders say which reach the client
 */
record TransformResult(byte[] body, String contentType, Optional<CacheHint> cacheHint, String failure,
        String detail, List<String> headers) {

    /**
     * The failure reason of an input the variant cannot represent (an animation for a still-image format): the
     * original is served as {@code skipped=animated}, neither counted as a failure nor remembered as one.
     */
    static final String ANIMATED = "animated";

    TransformResult {
        Objects.requireNonNull(cacheHint, "cacheHint");
        headers = List.copyOf(headers);
    }

    static TransformResult applied(byte[] body, String contentType) {
        return applied(body, contentType, Optional.empty());
    }

    static TransformResult applied(byte[] body, String contentType, Optional<CacheHint> cacheHint) {
        return applied(body, contentType, cacheHint, List.of());
    }

    static TransformResult applied(byte[] body, String contentType, Optional<CacheHint> cacheHint,
            List<String> headers) {
        return new TransformResult(Objects.requireNonNull(body, "body"), contentType, cacheHint, null, null, headers);
    }

    static TransformResult failed(String reason, String detail) {
        return new TransformResult(null, null, Optional.empty(), Objects.requireNonNull(reason, "reason"), detail,
                List.of());
    }

    boolean ok() {
        return failure == null;
    }

    /** False only when a program said its answer must not be reused. */
    boolean reusable() {
        return cacheHint.map(CacheHint::cacheable).orElse(true);
    }
}
