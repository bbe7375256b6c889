package io.kvmfilter.filter;

/**
 * The transform used when the sandbox cannot run here (no /dev/kvm, no native library): every variant falls back
 * to the original, so responses keep the headers (Vary, diagnostic header) they would have with the sandbox.
 */
final class UnavailableTransform implements BodyTransform {

    private final String reason;

    /** @param reason why the sandbox is unavailable, for the log */
    UnavailableTransform(String reason) {
        this.reason = reason;
    }

    @Override
    public TransformResult apply(Variant variant, byte[] body, String contentType, String url) {
        return TransformResult.failed("unavailable", reason);
    }
}
