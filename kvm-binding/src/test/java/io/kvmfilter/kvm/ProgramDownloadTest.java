package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.kvmfilter.kvm.testing.CSuiteGuests;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Programs and libraries from https: URIs, against a real HTTPS server on 127.0.0.1 with a certificate made for the
 * test (keytool) and trusted through kvmfilter.trustStore: fetched once and kept by checksum, a damaged copy fetched
 * again, a changed file refused, a missing pin, plain http and a failing server each a precise error.
 */
@ExtendWith(KvmTestEnvironment.class)
class ProgramDownloadTest {

    private static HttpsServer server;
    private static final Map<String, byte[]> FILES = new ConcurrentHashMap<>();
    private static final Map<String, AtomicInteger> FETCHES = new ConcurrentHashMap<>();
    private static byte[] hello;
    private static String helloSha;
    private static Path downloads;

    @BeforeAll
    static void startServer(@TempDir Path dir) throws Exception {
        Path keys = dir.resolve("server.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "server", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-storetype", "PKCS12",
                "-keystore", keys.toString(), "-storepass", "secret1", "-keypass", "secret1")
                .redirectErrorStream(true).start();
        String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(keytool.waitFor()).as("keytool: %s", output).isZero();
        KeyStore serverKeys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keys)) {
            serverKeys.load(in, "secret1".toCharArray());
        }
        KeyManagerFactory managers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        managers.init(serverKeys, "secret1".toCharArray());
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(managers.getKeyManagers(), null, null);
        // The client trusts exactly this certificate.
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("server", serverKeys.getCertificate("server"));
        Path trustStore = dir.resolve("trust.p12");
        try (OutputStream out = Files.newOutputStream(trustStore)) {
            trusted.store(out, "secret2".toCharArray());
        }
        System.setProperty("kvmfilter.trustStore", trustStore.toString());
        System.setProperty("kvmfilter.trustStorePassword", "secret2");
        downloads = dir.resolve("downloads");
        System.setProperty("kvmfilter.downloads", downloads.toString());

        hello = Files.readAllBytes(CSuiteGuests.guest("hello"));
        helloSha = ProgramFiles.sha256(hello);
        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            FETCHES.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            byte[] body = FILES.get(path);
            exchange.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
            if (body != null) {
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        server.start();
    }

    @AfterAll
    static void stopServer() {
        server.stop(0);
        System.clearProperty("kvmfilter.trustStore");
        System.clearProperty("kvmfilter.trustStorePassword");
        System.clearProperty("kvmfilter.downloads");
    }

    @BeforeEach
    void serveFresh() throws Exception {
        if (Files.isDirectory(downloads)) {
            try (var kept = Files.list(downloads)) {
                for (Path file : kept.toList()) {
                    Files.delete(file);
                }
            }
        }
        FILES.clear();
        FETCHES.clear();
        FILES.put("/programs/hello", hello);
    }

    private static String url(String path) {
        return "https://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    private static int fetches(String path) {
        AtomicInteger n = FETCHES.get(path);
        return n == null ? 0 : n.get();
    }

    private static Result runHello(String library) throws Exception {
        try (Kvm kvm = Kvm.start(ProgramLibrary.parse(library, null))) {
            return kvm.run("hello", Request.get("/"));
        }
    }

    @Test
    void aProgramIsFetchedOnceKeptByItsChecksumAndVerifiedAtEveryLoad() throws Exception {
        String library = "{ \"hello\": { \"uri\": \"" + url("/programs/hello") + "\", \"sha256\": \"" + helloSha + "\" } }";
        assertThat(runHello(library).ok()).isTrue();
        assertThat(fetches("/programs/hello")).isEqualTo(1);
        Path copy = downloads.resolve(helloSha);
        assertThat(copy).hasBinaryContent(hello);

        assertThat(runHello(library).ok()).as("a second start loads the kept copy").isTrue();
        assertThat(fetches("/programs/hello")).isEqualTo(1);

        Files.write(copy, "damaged".getBytes(StandardCharsets.UTF_8));
        assertThat(runHello(library).ok()).as("a damaged copy is never run: it is fetched again").isTrue();
        assertThat(fetches("/programs/hello")).isEqualTo(2);
        assertThat(copy).hasBinaryContent(hello);

        String pinnedInUri = "{ \"hello\": { \"uri\": \"" + url("/programs/hello") + "#sha256=" + helloSha + "\" } }";
        assertThat(runHello(pinnedInUri).ok()).as("the pin may be the URI's fragment").isTrue();
        assertThat(fetches("/programs/hello")).isEqualTo(2);
    }

    @Test
    void aFileThatChangedOnTheServerIsRefusedAndNotKept() throws Exception {
        FILES.put("/programs/changed", "#!/bin/sh\necho not the program\n".getBytes(StandardCharsets.UTF_8));
        String pin = "ab".repeat(32);
        Result result = runHello("{ \"hello\": { \"uri\": \"" + url("/programs/changed") + "\", \"sha256\": \"" + pin
                + "\" } }");
        assertThat(result.failure()).hasValueSatisfying(f -> {
            assertThat(f.kind()).isEqualTo(FailureKind.BOOT_FAILED);
            assertThat(f.message()).contains("the library pins " + pin).contains("the file on the server changed");
        });
        assertThat(downloads.resolve(pin)).doesNotExist();
    }

    @Test
    void aServerThatFailsIsAPreciseLoadFailure() throws Exception {
        Result result = runHello("{ \"hello\": { \"uri\": \"" + url("/programs/missing") + "\", \"sha256\": \""
                + "cd".repeat(32) + "\" } }");
        assertThat(result.failure()).hasValueSatisfying(f -> {
            assertThat(f.kind()).isEqualTo(FailureKind.BOOT_FAILED);
            assertThat(f.message()).contains("/programs/missing").contains("the server answered 404");
        });
    }

    @Test
    void aNetworkSourceNeedsItsChecksumAndHttps() {
        assertThatThrownBy(() -> ProgramLibrary.parse("{ \"hello\": { \"uri\": \"" + url("/programs/hello") + "\" } }",
                null)).isInstanceOf(KvmConfigurationException.class)
                .hasMessageContaining("its SHA-256 is required: give \"sha256\" or end the URI with #sha256=");
        assertThatThrownBy(() -> ProgramLibrary.parse("{ \"hello\": { \"uri\": \"http://127.0.0.1/hello\", \"sha256\": \""
                + helloSha + "\" } }", null)).isInstanceOf(KvmConfigurationException.class)
                .hasMessageContaining("plain http is refused");
        assertThatThrownBy(() -> ProgramLibrary.parse("{ \"hello\": { \"uri\": \"" + url("/programs/hello")
                + "#sha256=" + helloSha + "\", \"sha256\": \"" + "ef".repeat(32) + "\" } }", null))
                .isInstanceOf(KvmConfigurationException.class).hasMessageContaining("differ");
    }

    @Test
    void aLibraryComesOverHttpsPinnedByItsFragment() throws Exception {
        byte[] library = ("{ \"hello\": { \"uri\": \"" + url("/programs/hello") + "\", \"sha256\": \"" + helloSha
                + "\" } }").getBytes(StandardCharsets.UTF_8);
        FILES.put("/library.json", library);
        URI pinned = URI.create(url("/library.json") + "#sha256=" + ProgramFiles.sha256(library));
        try (Kvm kvm = Kvm.start(ProgramLibrary.load(pinned))) {
            assertThat(kvm.run("hello", Request.get("/")).ok()).isTrue();
        }
        ProgramLibrary.load(pinned);
        assertThat(fetches("/library.json")).as("kept like a program").isEqualTo(1);
        assertThatThrownBy(() -> ProgramLibrary.load(URI.create(url("/library.json"))))
                .isInstanceOf(KvmConfigurationException.class).hasMessageContaining("#sha256=");
    }
}
