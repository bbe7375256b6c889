package io.kvmfilter.filter;

import io.kvmfilter.kvm.CacheHint;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The transform of the result storage tests, counting its runs. Variant "upper" upper-cases the body; variant
 * "url" answers the URL it was given (a program that reads its URL). A body containing FAIL-&lt;reason&gt; fails with
 * that reason; one containing SLOW runs 0.5 s (within the default maxWait), LONG 2 s; one containing HOLD waits until
 * {@link #release()} is called; one containing TTL-&lt;ms&gt; says its answer stays fresh that long.
 */
final class StorageTestTransform implements BodyTransform {

    final AtomicInteger calls = new AtomicInteger();
    private volatile CountDownLatch hold = new CountDownLatch(1);

    void release() {
        hold.countDown();
    }

    void holdAgain() {
        hold = new CountDownLatch(1);
    }

    @Override
    public TransformResult apply(Variant variant, byte[] body, String contentType, String url) {
        calls.incrementAndGet();
        String text = new String(body, StandardCharsets.ISO_8859_1);
        try {
            if (text.contains("HOLD") && !hold.await(60, TimeUnit.SECONDS)) {
                return TransformResult.failed("timeout", "held for 60 s");
            }
            if (text.contains("SLOW")) {
                Thread.sleep(500);
            }
            if (text.contains("LONG")) {
                Thread.sleep(2000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return TransformResult.failed("internal", "interrupted");
        }
        int fail = text.indexOf("FAIL-");
        if (fail >= 0) {
            int end = fail + 5;
            while (end < text.length() && Character.isLetter(text.charAt(end))) {
                end++;
            }
            return TransformResult.failed(text.substring(fail + 5, end), "test failure");
        }
        String out = variant.name().equals("url") ? "url " + url + " type " + contentType
                : text.toUpperCase(Locale.ROOT);
        int ttl = text.indexOf("TTL-");
        if (ttl >= 0) { // TTL-<ms>: the answer stays fresh that long, as a program's sys_set_cacheable says
            int end = ttl + 4;
            while (end < text.length() && Character.isDigit(text.charAt(end))) {
                end++;
            }
            Duration fresh = Duration.ofMillis(Long.parseLong(text.substring(ttl + 4, end)));
            return TransformResult.applied(out.getBytes(StandardCharsets.ISO_8859_1), null,
                    Optional.of(new CacheHint(true, fresh, Duration.ZERO, Duration.ZERO)));
        }
        return TransformResult.applied(out.getBytes(StandardCharsets.ISO_8859_1), null);
    }
}
