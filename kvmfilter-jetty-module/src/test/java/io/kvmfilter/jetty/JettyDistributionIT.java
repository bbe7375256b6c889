package io.kvmfilter.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvmfilter.kvm.testing.KvmRequirement;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The module in a real Jetty 12 distribution (jetty-home), used the way docs/jetty-distribution.md says: unpack the
 * module into a new base, {@code --add-modules=http,kvmfilter}, set parameters in {@code start.d/kvmfilter.ini},
 * drop a war that knows nothing of kvmfilter into {@code webapps/}, start Jetty, and read transformed responses
 * over HTTP.
 */
class JettyDistributionIT {

    static final Path JETTY_HOME = Path.of(System.getProperty("jetty.home", "target/jetty-home"));
    static final Path MODULE_ZIP = Path.of(System.getProperty("kvmfilter.jettyBaseZip", "target/missing.zip"));
    static final long TIMEOUT_SECONDS = 90;
    /** Jetty's line for a started connector: {@code Started oejs.ServerConnector@...{HTTP/1.1, (http/1.1)}{127.0.0.1:PORT}}. */
    static final Pattern STARTED = Pattern.compile("Started oejs\\.ServerConnector@[^\\n]*\\{127\\.0\\.0\\.1:(\\d+)}");

    static final String CSS = "/* comments and spaces for minify to remove */\nbody   {\n    margin :  0 ;\n}\n";

    @TempDir
    Path temp;

    @Test
    void addModulesKvmfilterTransformsTheResponsesOfAPlainWar() throws Exception {
        KvmRequirement.require("minify");
        assertThat(JETTY_HOME.resolve("start.jar")).as("jetty-home unpacked by the build").isRegularFile();
        Path base = Files.createDirectories(temp.resolve("jetty-base"));
        unzip(MODULE_ZIP, base);

        Process add = start(base, Map.of(), "--add-modules=http,kvmfilter");
        assertThat(add.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("--add-modules finished").isTrue();
        assertThat(add.exitValue()).as(() -> read(base.resolve("jetty.log"))).isZero();
        Path ini = base.resolve("start.d/kvmfilter.ini");
        assertThat(ini).as("the module's ini-template, written by --add-modules").isRegularFile();
        assertThat(Files.readString(ini)).contains("# kvmfilter.rules=");
        Files.writeString(ini, "kvmfilter.rules=text/css -> minify\nkvmfilter.statsPath=/_kvm/stats\n",
                StandardOpenOption.APPEND);
        writeWar(base.resolve("webapps/shop.war"));

        // An environment variable, read directly: a Jetty distribution has no MicroProfile Config implementation.
        Process jetty = start(base, Map.of("KVMFILTER_EXCLUDEDPATHS", "/raw/*"),
                "jetty.http.host=127.0.0.1", "jetty.http.port=0");
        try {
            int port = awaitPort(jetty, base.resolve("jetty.log"));
            String shop = "http://127.0.0.1:" + port + "/shop/";

            HttpResponse<String> css = get(shop + "site.css");
            assertThat(css.statusCode()).as(() -> read(base.resolve("jetty.log"))).isEqualTo(200);
            assertThat(css.headers().firstValue("X-KVM-Transform")).as(() -> read(base.resolve("jetty.log")))
                    .hasValue("applied=minify");
            assertThat(css.body()).isEqualTo("body{margin:0}");

            HttpResponse<String> raw = get(shop + "raw/site.css");
            assertThat(raw.headers().firstValue("X-KVM-Transform")).as("KVMFILTER_EXCLUDEDPATHS").isEmpty();
            assertThat(raw.body()).isEqualTo(CSS);

            HttpResponse<String> stats = get(shop + "_kvm/stats");
            assertThat(stats.statusCode()).isEqualTo(200);
            assertThat(stats.body()).contains("applied=minify");
        } finally {
            jetty.destroy();
            if (!jetty.waitFor(30, TimeUnit.SECONDS)) {
                jetty.destroyForcibly();
            }
        }
        assertThat(read(base.resolve("jetty.log"))).as("the filter started in the web application")
                .contains("kvmfilter: filter kvmfilter started");
    }

    /** Runs start.jar in the base, its output appended to jetty.log. */
    private static Process start(Path base, Map<String, String> environment, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-jar", JETTY_HOME.resolve("start.jar").toString(),
                "jetty.home=" + JETTY_HOME.toAbsolutePath(), "jetty.base=" + base.toAbsolutePath()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(base.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(base.resolve("jetty.log").toFile()));
        builder.environment().putAll(environment);
        return builder.start();
    }

    private static int awaitPort(Process jetty, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (System.nanoTime() < deadline) {
            Matcher matcher = STARTED.matcher(read(log));
            if (matcher.find()) {
                return Integer.parseInt(matcher.group(1));
            }
            assertThat(jetty.isAlive()).as(() -> "Jetty exited early:\n" + read(log)).isTrue();
            Thread.sleep(100);
        }
        throw new AssertionError("Jetty did not start within " + TIMEOUT_SECONDS + " s:\n" + read(log));
    }

    /** A war with two style sheets and no trace of kvmfilter: not even a web.xml. */
    private static void writeWar(Path war) throws IOException {
        Files.createDirectories(war.getParent());
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(war))) {
            for (String name : List.of("site.css", "raw/site.css")) {
                zip.putNextEntry(new ZipEntry(name));
                zip.write(CSS.getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        }
    }

    private static void unzip(Path zipFile, Path target) throws IOException {
        assertThat(zipFile).as("the module's jetty-base zip (mvn package)").isRegularFile();
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(zipFile))) {
            for (ZipEntry entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
                Path file = target.resolve(entry.getName()).normalize();
                assertThat(file.startsWith(target)).as(entry.getName()).isTrue();
                if (entry.isDirectory()) {
                    Files.createDirectories(file);
                } else {
                    Files.createDirectories(file.getParent());
                    try (OutputStream out = Files.newOutputStream(file)) {
                        zip.transferTo(out);
                    }
                }
            }
        }
    }

    private static HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String read(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(" + file + " unreadable: " + e + ")";
        }
    }
}
