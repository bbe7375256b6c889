package io.kvmfilter.filter;

/**
 * Runs a variant's program chain over a buffered body. The filter's servlet mechanics depend only on this seam;
 * {@link KvmTransform} implements it with the KVM sandbox.
 *
 * <p>Implementations must be thread-safe and must not throw for program failures: they report them as a failed
 * {@link TransformResult}, and the filter then serves the original.
 */
interface BodyTransform {

    /**
     * Transforms one body.
     *
     * @param variant     the variant chosen for this request
     * @param body        the complete original body
     * @param contentType the original Content-Type, with its charset parameter when there is one
     * @param url         the request URI (path and query), given to the programs as the request's URL
     * @return the transformed body and type, or the reason of the failure
     */
    TransformResult apply(Variant variant, byte[] body, String contentType, String url);

    /**
     * The same, with the programs' self-requests answered by selfRequests (null: refused). A transform that
     * cannot carry them ignores it.
     */
    default TransformResult apply(Variant variant, byte[] body, String contentType, String url,
            io.kvmfilter.kvm.SelfRequests selfRequests) {
        return apply(variant, body, contentType, url);
    }
}
