package io.kvmfilter.filter;

import java.util.Objects;

/**
 * What a {@link BodyTransform} produced: a body and its type, or a failure reason.
 *
 * @param body        transformed body (null on failure)
 * @param contentType Content-Type of the transformed body, null to keep the variant's or the original's
 * @param failure     short reason token such as {@code timeout} or {@code error-status}; null on success
 * @param detail      human-readable detail of the failure for the log; null on success
 */
record Outcome(byte[] body, String contentType, String failure, String detail) {

    static Outcome applied(byte[] body, String contentType) {
        return new Outcome(Objects.requireNonNull(body, "body"), contentType, null, null);
    }

    static Outcome failed(String reason, String detail) {
        return new Outcome(null, null, Objects.requireNonNull(reason, "reason"), detail);
    }

    boolean ok() {
        return failure == null;
    }
}
