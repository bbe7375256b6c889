package io.kvmfilter.kvm;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Programs and libraries from https: URIs. Each is pinned by its SHA-256 (the URI's fragment
 * {@code #sha256=HEX}, or the program's "sha256" key): fetched once, kept in the download directory under its
 * checksum, and verified again every time it is read, so a damaged copy is fetched again and a changed file on the
 * server is refused rather than run.
 *
 * <p>System properties: {@code kvmfilter.downloads} (the directory; default {@code ~/.cache/kvmfilter/downloads}),
 * {@code kvmfilter.trustStore}, {@code kvmfilter.trustStorePassword} and {@code kvmfilter.trustStoreType}
 * (default PKCS12): the certificates trusted for downloads, for servers with a private CA; without them the JVM's
 * default trust applies.
 */
final class ProgramDownloads {
    private static final System.Logger LOG = System.getLogger(ProgramDownloads.class.getName());
    private static final String PIN = "sha256=";
    /** The largest file fetched: larger than any program's memory may be. */
    static final long MAX_BYTES = 512L * 1024 * 1024;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration FETCH_TIMEOUT = Duration.ofSeconds(120);

    private ProgramDownloads() {
    }

    /**
     * Checks an https: URI as a library or program source: a host, no user information, an optional
     * {@code #sha256=HEX} fragment.
     */
    static URI check(String where, String uri) {
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            throw new KvmConfigurationException(where + ": \"" + uri + "\" is not a valid https: URI (" + e.getMessage()
                    + ")", e);
        }
        if (parsed.getHost() == null || parsed.getRawUserInfo() != null) {
            throw new KvmConfigurationException(where + ": \"" + uri + "\" must name a host and no user information,"
                    + " e.g. https://programs.example.com/webp#sha256=<64 hex digits>");
        }
        if (parsed.getFragment() != null) {
            pinOf(where, parsed);
        }
        return parsed.normalize();
    }

    /**
     * @param key the program's "sha256" setting
     * @return the source with its checksum in the fragment, from the fragment or the key (which must agree)
     */
    static URI pinned(String where, URI source, Optional<String> key) {
        Optional<String> fragment = source.getFragment() == null ? Optional.empty() : Optional.of(pinOf(where, source));
        if (fragment.isPresent() && key.isPresent() && !fragment.get().equals(key.get())) {
            throw new KvmConfigurationException(where + ": the URI's #sha256 (" + fragment.get() + ") and the key"
                    + " \"sha256\" (" + key.get() + ") differ; give one");
        }
        String pin = fragment.or(() -> key).orElseThrow(() -> new KvmConfigurationException(where + ": " + source
                + " is fetched over the network, so its SHA-256 is required: give \"sha256\" or end the URI with"
                + " #sha256=<64 hex digits>"));
        try {
            return new URI(source.getScheme(), source.getSchemeSpecificPart(), PIN + pin);
        } catch (URISyntaxException e) {
            throw new IllegalStateException("a checked URI cannot become invalid: " + source, e);
        }
    }

    private static String pinOf(String where, URI uri) {
        String fragment = uri.getFragment();
        if (fragment == null || !fragment.matches("sha256=[0-9a-fA-F]{64}")) {
            throw new KvmConfigurationException(where + ": the fragment of " + uri + " must be #sha256= and 64"
                    + " hexadecimal digits, got #" + fragment);
        }
        return fragment.substring(PIN.length()).toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * Reads a pinned https: source: the verified copy in the download directory, or the server's file, verified
     * and then kept.
     *
     * @throws KvmConfigurationException saying what failed: the checksum, the server's answer, the network
     */
    static byte[] read(URI source, String what) {
        String pin = pinOf(what, source);
        Path directory = directory();
        Path copy = directory.resolve(pin);
        if (Files.isRegularFile(copy)) {
            try {
                byte[] bytes = Files.readAllBytes(copy);
                if (ProgramFiles.sha256(bytes).equals(pin)) {
                    return bytes;
                }
                LOG.log(System.Logger.Level.WARNING, "kvmfilter: the downloaded copy " + copy + " of " + what
                        + " does not match its SHA-256 any more; fetching it again from " + withoutPin(source));
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "kvmfilter: cannot read the downloaded copy " + copy + " of "
                        + what + " (" + e + "); fetching it again");
            }
        }
        byte[] bytes = fetch(withoutPin(source), what);
        String actual = ProgramFiles.sha256(bytes);
        if (!actual.equals(pin)) {
            throw new KvmConfigurationException("Cannot use " + what + " from " + withoutPin(source) + ": it has SHA-256 "
                    + actual + " but the library pins " + pin + "; the file on the server changed or the pin is wrong");
        }
        keep(directory, copy, bytes, what);
        return bytes;
    }

    private static URI withoutPin(URI source) {
        try {
            return new URI(source.getScheme(), source.getSchemeSpecificPart(), null);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] fetch(URI uri, String what) {
        HttpClient client = HttpClient.newBuilder().sslContext(sslContext()).connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NORMAL).build(); // NORMAL never follows https to http
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(FETCH_TIMEOUT).GET().build();
        try {
            HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = response.body()) {
                if (response.statusCode() != 200) {
                    throw new KvmConfigurationException("Cannot fetch " + what + " from " + uri + ": the server answered "
                            + response.statusCode() + " (200 is needed)");
                }
                byte[] bytes = body.readNBytes((int) MAX_BYTES + 1);
                if (bytes.length > MAX_BYTES) {
                    throw new KvmConfigurationException("Cannot fetch " + what + " from " + uri + ": it is larger than "
                            + (MAX_BYTES >> 20) + " MiB");
                }
                return bytes;
            }
        } catch (IOException e) {
            throw new KvmConfigurationException("Cannot fetch " + what + " from " + uri + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KvmConfigurationException("Cannot fetch " + what + " from " + uri + ": interrupted", e);
        }
    }

    /** Writes the verified bytes: a temporary file, then an atomic rename, so a reader never sees half a file. */
    private static void keep(Path directory, Path copy, byte[] bytes, String what) {
        try {
            Files.createDirectories(directory);
            Path temporary = Files.createTempFile(directory, copy.getFileName().toString(), ".part");
            try {
                Files.write(temporary, bytes);
                try {
                    Files.move(temporary, copy, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(temporary, copy, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(temporary);
            }
        } catch (IOException e) {
            // The bytes are verified: run them; only the next start fetches again.
            LOG.log(System.Logger.Level.WARNING, "kvmfilter: cannot keep " + what + " in " + directory + " (" + e
                    + "); it will be fetched again at the next load");
        }
    }

    static Path directory() {
        String configured = System.getProperty("kvmfilter.downloads");
        return configured != null && !configured.isBlank() ? Path.of(configured)
                : Path.of(System.getProperty("user.home"), ".cache", "kvmfilter", "downloads");
    }

    private static SSLContext sslContext() {
        String store = System.getProperty("kvmfilter.trustStore");
        try {
            if (store == null || store.isBlank()) {
                return SSLContext.getDefault();
            }
            String password = System.getProperty("kvmfilter.trustStorePassword", "");
            KeyStore keys = KeyStore.getInstance(System.getProperty("kvmfilter.trustStoreType", "PKCS12"));
            try (InputStream in = Files.newInputStream(Path.of(store))) {
                keys.load(in, password.toCharArray());
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(keys);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new KvmConfigurationException("Cannot use the trust store kvmfilter.trustStore=" + store + ": " + e, e);
        }
    }
}
