package io.kvmfilter.filter;

import io.kvmfilter.kvm.Failure;
import io.kvmfilter.kvm.FailureKind;
import io.kvmfilter.kvm.HeaderField;
import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.KvmConfigurationException;
import io.kvmfilter.kvm.ProgramLibrary;
import io.kvmfilter.kvm.Request;
import io.kvmfilter.kvm.Result;
import io.kvmfilter.kvm.SelfRequests;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Runs variants in the KVM sandbox through kvm-binding: each variant's steps become one {@link Kvm#chain} call.
 * Concurrency is bounded by the programs' instance pools (their {@code concurrency} and {@code queue_timeout}).
 */
final class KvmTransform implements BodyTransform, AutoCloseable {

    /** The header in which a program says why it answered an error status (see docs/writing-programs.md). */
    static final String FAILED_HEADER = "X-Failed";

    /**
     * How a program says it cannot carry an animation (the bundled avif and image programs answer 415 with an
     * {@code X-Failed} starting so): not a failure but a skip, since the original is the right answer.
     */
    static final String ANIMATED_REASON_PREFIX = "animated input";

    private static final io.kvmfilter.kvm.CacheHint NOT_CACHEABLE = new io.kvmfilter.kvm.CacheHint(false, Duration.ZERO,
            Duration.ZERO, Duration.ZERO);

    private final Kvm kvm;
    /** The last program's headers kept with a result (the filter's programHeaders). */
    private final Set<String> programHeaders;

    private KvmTransform(Kvm kvm, Set<String> programHeaders) {
        this.kvm = kvm;
        this.programHeaders = programHeaders;
    }

    /**
     * Starts the sandbox with the library; results keep the last program's headers named in programHeaders.
     *
     * @throws io.kvmfilter.kvm.KvmUnavailableException when KVM or the native library is not usable here
     * @throws KvmConfigurationException when an eagerly started program cannot be loaded
     */
    static KvmTransform start(ProgramLibrary library, String name, Set<String> programHeaders) {
        return new KvmTransform(Kvm.start(library, name), programHeaders);
    }

    @Override
    public TransformResult apply(Variant variant, byte[] body, String contentType, String url) {
        return apply(variant, body, contentType, url, null);
    }

    @Override
    public TransformResult apply(Variant variant, byte[] body, String contentType, String url,
            SelfRequests selfRequests) {
        AtomicBoolean selfRequested = new AtomicBoolean();
        SelfRequests counted = selfRequests == null ? null : call -> {
            selfRequested.set(true);
            return selfRequests.request(call);
        };
        TransformResult result = run(variant, body, contentType, url, counted);
        // A result made from other resources of the application changes when they do: it is not kept.
        return selfRequested.get() && result.ok() ? TransformResult.applied(result.body(), result.contentType(),
                Optional.of(NOT_CACHEABLE), result.headers()) : result;
    }

    private TransformResult run(Variant variant, byte[] body, String contentType, String url, SelfRequests self) {
        Result result = kvm.chain(variant.steps(), Request.post(url, contentType, body).withSelfRequests(self));
        if (!result.ok()) {
            Failure failure = result.failure().orElseThrow();
            String failed = failedHeader(result.headers());
            String detail = detail(failure, failed);
            if (failure.kind() == FailureKind.ERROR_STATUS && result.status() == 415
                    && failed.startsWith(ANIMATED_REASON_PREFIX)) {
                return TransformResult.failed(TransformResult.ANIMATED, detail);
            }
            return TransformResult.failed(reason(failure), detail);
        }
        if (result.body().length == 0) {
            return TransformResult.failed("empty", "the chain answered status " + result.status() + " with no body");
        }
        return TransformResult.applied(result.body(), result.contentType().isEmpty() ? null : result.contentType(),
                result.cacheHint(), ProgramHeaders.allowed(result.headers(), programHeaders));
    }

    /**
     * What the log says about a failure: the step and the binding's message, plus the program's own reason when it
     * answered an error status with an {@code X-Failed} header (programs/common: "what and where", such as the
     * decoder's complaint about a truncated JPEG), which the status alone does not tell; {@code failed} is that header's
     * value, or "".
     */
    static String detail(Failure failure, String failed) {
        String detail = failure.step() + ": " + failure.message();
        return failed.isEmpty() ? detail : detail + "; " + FAILED_HEADER + ": " + failed;
    }

    /** The value of the program's {@code X-Failed} header, or "" when it sent none. */
    private static String failedHeader(List<String> headers) {
        for (String field : headers) {
            HeaderField header = HeaderField.parse(field);
            if (header != null && header.name().equalsIgnoreCase(FAILED_HEADER)) {
                return header.value();
            }
        }
        return "";
    }

    /** The failure kind as it appears in the diagnostic header: TIMEOUT becomes timeout, QUEUE_TIMEOUT queue-timeout. */
    static String reason(Failure failure) {
        return failure.kind().name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The sandbox's statistics as JSON, for programs matching the pattern. */
    String statsJson(String programPattern, int indentation) {
        return kvm.statsJson(programPattern, indentation);
    }

    /** Makes the matching programs load again on next use; returns how many were unloaded. */
    int invalidate(java.util.regex.Pattern programNames) {
        return kvm.invalidate(programNames);
    }

    @Override
    public void close() {
        kvm.close();
    }
}
