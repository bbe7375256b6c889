package io.kvmfilter.filter;

import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;

/**
 * The filter's question "should this response be transformed, and by which rule?", answered from plain values:
 * no servlet objects, so every answer can be checked without a container. Each check is one question, cheapest
 * first; a "no" comes with the reason token of the diagnostic header ({@code skipped=too-large}) and an
 * explanation for the debug log, built only when asked for.
 */
final class TransformDecision {

    /** What is known of a response when the decision is made. */
    record ResponseHead(int status, String contentEncoding, String contentType, long declaredLength) {
    }

    /**
     * Why a response is not transformed.
     *
     * @param reason      the token of the diagnostic header: {@code status}, {@code encoded}, {@code no-type},
     *                    {@code no-rule}, {@code excluded-type}, {@code too-large}, {@code too-small},
     *                    {@code too-many-pixels}
     * @param explanation the log line's text
     */
    record Skip(String reason, Supplier<String> explanation) {
    }

    private final KvmFilterConfig config;

    TransformDecision(KvmFilterConfig config) {
        this.config = config;
    }

    /**
     * Why a response must be streamed untransformed from its first byte on, or empty to buffer it (also when
     * the answer needs what is not known yet, such as a Content-Type set later).
     */
    Optional<Skip> atFirstOutput(ResponseHead head) {
        return skip(head, head.declaredLength(), null);
    }

    /** Why a complete response must be served as it is, or empty to transform it. */
    Optional<Skip> atEnd(ResponseHead head, byte[] body) {
        return skip(head, body.length, body);
    }

    /**
     * @param size the body's size, -1 when not known
     * @param body the whole body; null at the first byte, when some answers are not known yet
     */
    private Optional<Skip> skip(ResponseHead head, long size, byte[] body) {
        boolean atEnd = body != null;
        // Did the application answer with a status we transform (200 by default)? A 206 never is.
        int status = head.status();
        if (!config.statuses().contains(status)) {
            return skip("status", () -> "status " + status + " is not transformed");
        }
        // Is the body already encoded (gzip, br)? Container compression runs after us; this is the application's.
        String encoding = head.contentEncoding();
        if (encoding != null && !encoding.trim().equalsIgnoreCase("identity")) {
            return skip("encoded", () -> "body already has Content-Encoding " + encoding);
        }
        // Do we know the media type yet? Without one there is nothing to match rules against.
        String type = MediaTypes.baseType(head.contentType());
        if (type == null) {
            return atEnd ? skip("no-type", () -> "no Content-Type") : Optional.empty();
        }
        // Does a rule cover this media type?
        if (config.ruleFor(type).isEmpty()) {
            return skip("no-rule", () -> "no rule for " + type);
        }
        // Is the media type left out by includedMimeTypes / excludedMimeTypes?
        if (!config.mimeTypeIncluded(type)) {
            return skip("excluded-type", () -> type + " is excluded by the mime type lists");
        }
        // Is the body larger than we may hold in memory?
        if (size > config.maxBodySize()) {
            return skip("too-large", () -> "body of " + size + " bytes is larger than maxBodySize "
                    + config.maxBodySize());
        }
        // Is the body too small to gain anything from a program run?
        if (size >= 0 && size < config.minBodySize()) {
            return skip("too-small", () -> "body of " + size + " bytes is smaller than minBodySize "
                    + config.minBodySize());
        }
        // Does the image header declare more pixels than we let a program decode (a decompression bomb)?
        if (atEnd && type.startsWith("image/")) {
            OptionalLong pixels = ImageHeaders.pixels(body);
            if (pixels.isPresent() && pixels.getAsLong() > config.maxPixels()) {
                return skip("too-many-pixels", () -> "image declares " + pixels.getAsLong()
                        + " pixels, more than maxPixels " + config.maxPixels());
            }
        }
        return Optional.empty();
    }

    private static Optional<Skip> skip(String reason, Supplier<String> explanation) {
        return Optional.of(new Skip(reason, explanation));
    }

    /** The rule of a response of this media type when the filter could transform it (covered and included). */
    Optional<Rule> ruleFor(String contentType) {
        String type = MediaTypes.baseType(contentType);
        if (type == null || !config.mimeTypeIncluded(type)) {
            return Optional.empty();
        }
        return config.ruleFor(type);
    }

    /** The variant a response of this base media type would get for this Accept; empty for the original. */
    Optional<Variant> servedVariant(String mediaType, Negotiation negotiation) {
        return ruleFor(mediaType).flatMap(rule -> negotiation.choose(rule, mediaType));
    }
}
