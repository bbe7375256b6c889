package io.kvmfilter.example.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
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

/**
 * The packaged jar started as a separate process the way the README does ({@code java -jar jetty-example.jar}),
 * with its standard error (Jetty's and the filter's log) in a file, so a full pipe can never block it.
 */
final class JarServer implements AutoCloseable {

    static final Path JAR = Path.of(System.getProperty("jettyExample.jar", "target/jetty-example.jar"));
    static final Pattern LISTENING = Pattern.compile("Listening on http://127\\.0\\.0\\.1:(\\d+)/");
    static final long TIMEOUT_SECONDS = 60;

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    final Process process;
    final Path stderr;
    final int port;
    /** Standard output after the listening line, collected by a thread until the stream ends. */
    private final StringBuffer laterStdout = new StringBuffer();

    private JarServer(Process process, Path stderr, int port, BufferedReader stdout) {
        this.process = process;
        this.stderr = stderr;
        this.port = port;
        Thread reader = new Thread(() -> {
            try {
                for (String line = stdout.readLine(); line != null; line = stdout.readLine()) {
                    laterStdout.append(line).append('\n');
                }
            } catch (IOException closedWhenDestroyed) {
                // Process.destroy() closes the stream: whatever came before is collected.
            }
        }, "stdout of " + JAR.getFileName());
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts the jar without waiting for anything. */
    static Process launch(List<String> args, Path stderr) throws IOException {
        assertThat(JAR).as("the packaged jar (run after mvn package)").isRegularFile();
        List<String> command = new ArrayList<>(List.of(javaExecutable(), "-jar", JAR.toString()));
        command.addAll(args);
        return new ProcessBuilder(command).redirectError(stderr.toFile()).start();
    }

    /** Starts the jar and waits for its listening line, which must be the first line on standard output. */
    static JarServer start(Path tempDir, String... args) throws Exception {
        Path log = Files.createTempFile(tempDir, "stderr", ".log");
        Process process = launch(List.of(args), log);
        try {
            BufferedReader stdout = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String line = CompletableFuture.supplyAsync(() -> readLine(stdout))
                    .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            assertThat(line).as(() -> "first line on stdout; stderr was:\n" + readQuietly(log)).matches(LISTENING);
            Matcher matcher = LISTENING.matcher(line);
            assertThat(matcher.matches()).isTrue();
            int port = Integer.parseInt(matcher.group(1));
            assertThat(port).as("--port 0 picks a free port").isPositive();
            return new JarServer(process, log, port, stdout);
        } catch (Exception | AssertionError e) {
            process.destroyForcibly();
            throw e;
        }
    }

    URI url(String path) {
        return URI.create("http://127.0.0.1:" + port + "/" + (path.startsWith("/") ? path.substring(1) : path));
    }

    /** GET with the given request headers (name, value, name, value...). */
    HttpResponse<byte[]> get(String path, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(url(path)).GET();
        if (headers.length > 0) {
            request.headers(headers);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** POST without a body. */
    HttpResponse<byte[]> post(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(url(path)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    /** POST of a body with its content type. */
    HttpResponse<byte[]> post(String path, String contentType, String body) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(url(path)).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** What the server wrote to standard output after its listening line, so far. */
    String stdoutAfterListening() {
        return laterStdout.toString();
    }

    String log() {
        return readQuietly(stderr);
    }

    /** Stops the server as SIGTERM does (Jetty stops, filters are destroyed, stores closed) and waits for it. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }

    static String readQuietly(Path file) {
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
}
