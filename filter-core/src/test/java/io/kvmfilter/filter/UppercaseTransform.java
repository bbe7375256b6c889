package io.kvmfilter.filter;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A simple real transform for the servlet mechanics tests (no sandbox needed): variant "upper" upper-cases text
 * in its charset and removes spaces (so the length changes); the negotiated image variants "avif" and "webp" replace the body by a short marker
 * ("webp from 2048 bytes"). Bodies containing FAIL-&lt;reason&gt; fail with that reason; bodies containing GROW
 * come out twice as long; bodies containing WRONGTYPE come back as text/html.
 */
final class UppercaseTransform implements BodyTransform {

    final AtomicInteger calls = new AtomicInteger();

    @Override
    public TransformResult apply(Variant variant, byte[] body, String contentType, String url) {
        calls.incrementAndGet();
        String ascii = new String(body, StandardCharsets.ISO_8859_1);
        int fail = ascii.indexOf("FAIL-");
        if (fail >= 0) {
            int end = fail + 5;
            while (end < ascii.length() && (Character.isLetter(ascii.charAt(end)) || ascii.charAt(end) == '-')) {
                end++;
            }
            return TransformResult.failed(ascii.substring(fail + 5, end).toLowerCase(Locale.ROOT), "test failure");
        }
        if (ascii.contains("THROW")) {
            throw new IllegalStateException("transform bug");
        }
        if (ascii.contains("WRONGTYPE")) {
            return TransformResult.applied("<script>alert(1)</script>".getBytes(StandardCharsets.US_ASCII),
                    "text/html");
        }
        if (ascii.contains("GROW")) {
            byte[] doubled = new byte[body.length * 2];
            System.arraycopy(body, 0, doubled, 0, body.length);
            System.arraycopy(body, 0, doubled, body.length, body.length);
            return TransformResult.applied(doubled, null);
        }
        if (variant.name().equals("upper")) {
            Charset charset = charsetOf(contentType);
            String upper = new String(body, charset).toUpperCase(Locale.ROOT).replace(" ", "");
            return TransformResult.applied(upper.getBytes(charset), null);
        }
        return TransformResult.applied((variant.name() + " from " + body.length + " bytes").getBytes(StandardCharsets.US_ASCII),
                null);
    }

    private static Charset charsetOf(String contentType) {
        int at = contentType.toLowerCase(Locale.ROOT).indexOf("charset=");
        if (at < 0) {
            return StandardCharsets.ISO_8859_1;
        }
        return Charset.forName(contentType.substring(at + 8).replace("\"", "").trim());
    }
}
