package io.kvmfilter.example.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the packaged jar the way the README does ({@code java -jar jetty-example.jar}) as a separate process
 * and checks what a user sees: the listening line, the served files, the usage on bad arguments and a clean
 * stop on SIGTERM.
 */
class MainIT {

    private static final Path JAR = Path.of(System.getProperty("jettyExample.jar", "target/jetty-example.jar"));
    private static final Pattern LISTENING = Pattern.compile("Listening on http://127\\.0\\.0\\.1:(\\d+)/");
    private static final long TIMEOUT_SECONDS = 60;
    /** The JVM's exit status after SIGTERM: 128 + 15. */
    private static final int EXIT_ON_SIGTERM = 143;

    private final HttpClient http = HttpClient.newHttpClient();
    private final List<Process> started = new ArrayList<>();

    @TempDir
    Path temp;

    @AfterEach
    void killLeftovers() {
        started.forEach(Process::destroyForcibly);
    }

    @Test
    void servesBundledSampleImageWithItsBytesAndContentType() throws Exception {
        Server server = start("--port", "0");

        HttpResponse<byte[]> response = get(server.url("grace_hopper.jpg"));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("image/jpeg");
        assertThat(response.body()).isEqualTo(bundledSample("grace_hopper.jpg"));
    }

    @Test
    void servesGivenDirectory() throws Exception {
        Files.writeString(temp.resolve("hello.css"), "body { color: red; }\n");
        Server server = start("--port", "0", "--dir", temp.toString());

        HttpResponse<byte[]> response = get(server.url("hello.css"));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("text/css"));
        assertThat(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo("body { color: red; }\n");
        assertThat(get(server.url("grace_hopper.jpg")).statusCode())
                .as("the bundled samples are not served when --dir is given").isEqualTo(404);
    }

    @Test
    void answersMissingFileWith404() throws Exception {
        Server server = start("--port", "0");

        assertThat(get(server.url("no-such-file.png")).statusCode()).isEqualTo(404);
    }

    @Test
    void stopsCleanlyOnSigterm() throws Exception {
        Server server = start("--port", "0");
        assertThat(get(server.url("palette_color.png")).statusCode()).isEqualTo(200);

        server.process.destroy(); // SIGTERM on Linux

        assertThat(server.process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
        assertThat(server.process.exitValue()).isEqualTo(EXIT_ON_SIGTERM);
        assertThat(accepts(server.port)).as("port %d closed after stop", server.port).isFalse();
    }

    @Test
    void rejectsUnknownArgumentWithUsage() throws Exception {
        assertRejected(List.of("--verbose"), "unknown argument '--verbose'");
    }

    @Test
    void rejectsBadPorts() throws Exception {
        assertRejected(List.of("--port", "eighty"), "--port 'eighty' is not a number; allowed: 0 to 65535");
        assertRejected(List.of("--port", "65536"), "--port 65536 is out of range; allowed: 0 to 65535");
        assertRejected(List.of("--port"), "--port needs a value");
    }

    @Test
    void rejectsMissingDirectory() throws Exception {
        Path missing = temp.resolve("missing");
        assertRejected(List.of("--dir", missing.toString()), "--dir " + missing + " is not a directory");
    }

    private void assertRejected(List<String> args, String expectedMessage) throws Exception {
        Launched launched = launch(args);
        Process process = launched.process();
        assertThat(process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("exited").isTrue();
        String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String stderr = Files.readString(launched.stderr());

        assertThat(process.exitValue()).as("exit status for %s", args).isEqualTo(1);
        assertThat(stderr).contains("jetty-example: " + expectedMessage).contains("usage: java -jar jetty-example.jar");
        assertThat(stdout).doesNotContain("Listening");
    }

    /** Starts the jar and waits for its listening line. */
    private Server start(String... args) throws Exception {
        Launched launched = launch(List.of(args));
        Process process = launched.process();
        BufferedReader stdout = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line = CompletableFuture.supplyAsync(() -> readLine(stdout)).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        assertThat(line).as(() -> "first line on stdout; stderr was:\n" + readQuietly(launched.stderr()))
                .matches(LISTENING);
        Matcher matcher = LISTENING.matcher(line);
        assertThat(matcher.matches()).isTrue();
        int port = Integer.parseInt(matcher.group(1));
        assertThat(port).as("--port 0 picks a free port").isPositive();
        return new Server(process, port);
    }

    /** Starts the jar; its stderr (Jetty's log) goes to a file so a full pipe can never block it. */
    private Launched launch(List<String> args) throws IOException {
        assertThat(JAR).as("the packaged jar (run after mvn package)").isRegularFile();
        List<String> command = new ArrayList<>(List.of(javaExecutable(), "-jar", JAR.toString()));
        command.addAll(args);
        Path log = Files.createTempFile(temp, "stderr", ".log");
        Process process = new ProcessBuilder(command).redirectError(log.toFile()).start();
        started.add(process);
        return new Launched(process, log);
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String readLine(BufferedReader reader) {
        try {
            return reader.readLine();
        } catch (IOException e) {
            throw new IllegalStateException("reading the server's stdout", e);
        }
    }

    private HttpResponse<byte[]> get(URI uri) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static byte[] bundledSample(String name) throws IOException {
        try (InputStream in = Main.class.getResourceAsStream("/" + Main.SAMPLES + name)) {
            assertThat(in).as("sample %s on the class path", name).isNotNull();
            return in.readAllBytes();
        }
    }

    private static boolean accepts(int port) throws IOException {
        try {
            new Socket("127.0.0.1", port).close();
            return true;
        } catch (ConnectException e) {
            return false;
        }
    }

    private record Launched(Process process, Path stderr) {
    }

    private record Server(Process process, int port) {
        URI url(String path) {
            return URI.create("http://127.0.0.1:" + port + "/" + path);
        }
    }
}
