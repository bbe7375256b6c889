package io.kvmfilter.filter;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signed option URLs (issue #17): HMAC-SHA256 over the path and the options, so that a page can hand out only the
 * image variants its server chose, and nobody can ask the server for others. The signature is the query parameter
 * {@code s}, base64url without padding, over the canonical text {@code PATH?NAME=VALUE&...} with the options sorted
 * by name and {@code s} left out: the same options in another order sign alike, the same options on another path do
 * not.
 *
 * <p>Several keys may be configured for rotation: a URL signs with the first, verifies with any. Keys are secrets of
 * at least 16 bytes.
 */
public final class UrlSigner {

    /** The query parameter carrying the signature. */
    public static final String PARAMETER = "s";
    private static final String ALGORITHM = "HmacSHA256";

    private final List<SecretKeySpec> keys;

    /**
     * @param keys the secrets, the one new URLs are signed with first
     * @throws IllegalArgumentException when there is none, or one is shorter than 16 bytes
     */
    public UrlSigner(List<byte[]> keys) {
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("give at least one signing key");
        }
        List<SecretKeySpec> specs = new ArrayList<>();
        for (byte[] key : keys) {
            if (key.length < 16) {
                throw new IllegalArgumentException("a signing key must have at least 16 bytes, got " + key.length);
            }
            specs.add(new SecretKeySpec(key.clone(), ALGORITHM));
        }
        this.keys = List.copyOf(specs);
    }

    /**
     * @param path  the URL's path, as the server sees it ({@code /images/cat.jpg})
     * @param query the options, without {@code s} (may be null or empty)
     * @return {@code path?query&s=SIGNATURE}
     */
    public String sign(String path, String query) {
        String options = query == null ? "" : query;
        String signature = signature(keys.get(0), canonical(path, options));
        return path + "?" + (options.isEmpty() ? "" : options + "&") + PARAMETER + "=" + signature;
    }

    /**
     * @param path  the request's path
     * @param query the request's query string, with its {@code s}
     * @return true when {@code s} is the signature of the path and the other parameters under one of the keys
     */
    public boolean verify(String path, String query) {
        if (query == null) {
            return false;
        }
        String given = null;
        List<String> rest = new ArrayList<>();
        for (String pair : query.split("&", -1)) {
            if (pair.startsWith(PARAMETER + "=")) {
                if (given != null) {
                    return false; // two signatures: which one would count?
                }
                given = pair.substring(PARAMETER.length() + 1);
            } else if (!pair.isEmpty()) {
                rest.add(pair);
            }
        }
        if (given == null) {
            return false;
        }
        byte[] expectedInput = given.getBytes(StandardCharsets.US_ASCII);
        String text = canonical(path, String.join("&", rest));
        for (SecretKeySpec key : keys) {
            if (MessageDigest.isEqual(signature(key, text).getBytes(StandardCharsets.US_ASCII), expectedInput)) {
                return true; // constant time per key
            }
        }
        return false;
    }

    /** {@code PATH?A=1&B=2}: the options sorted by name (a name given twice keeps both, in their order). */
    static String canonical(String path, String query) {
        Map<String, List<String>> sorted = new TreeMap<>();
        for (String pair : query.split("&", -1)) {
            if (!pair.isEmpty()) {
                int equals = pair.indexOf('=');
                sorted.computeIfAbsent(equals < 0 ? pair : pair.substring(0, equals), n -> new ArrayList<>())
                        .add(pair);
            }
        }
        List<String> pairs = new ArrayList<>();
        sorted.values().forEach(pairs::addAll);
        return path + "?" + String.join("&", pairs);
    }

    private static String signature(SecretKeySpec key, String text) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            byte[] digest = mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required of every Java platform", e);
        }
    }

    /**
     * Signs an option URL from the command line, for pages built by other tools:
     * {@code java -cp filter-core.jar io.kvmfilter.filter.UrlSigner KEY /images/cat.jpg 'w=320&fmt=auto'}.
     * KEY is the secret itself, or {@code @FILE} to read it from a file (its bytes, a trailing newline dropped).
     */
    public static void main(String[] args) throws java.io.IOException {
        if (args.length < 2 || args.length > 3) {
            System.err.println("usage: UrlSigner KEY|@KEYFILE PATH [QUERY]");
            System.exit(2);
        }
        byte[] key;
        if (args[0].startsWith("@")) {
            String text = java.nio.file.Files.readString(java.nio.file.Path.of(args[0].substring(1)));
            key = (text.endsWith("\n") ? text.substring(0, text.length() - 1) : text).getBytes(StandardCharsets.UTF_8);
        } else {
            key = args[0].getBytes(StandardCharsets.UTF_8);
        }
        try {
            System.out.println(new UrlSigner(List.of(key)).sign(args[1], args.length == 3 ? args[2] : ""));
        } catch (IllegalArgumentException e) {
            System.err.println("UrlSigner: " + e.getMessage());
            System.exit(2);
        }
    }
}
