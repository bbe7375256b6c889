package io.kvmfilter.example.tomcat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Tomcat 10.1 from Debian's {@code tomcat10} package, run the way an administrator would run a second
 * instance: {@code catalina.sh run} with CATALINA_HOME=/usr/share/tomcat10 and its own CATALINA_BASE under
 * target/, listening on a free loopback port, with the war copied into its webapps/. It runs as the current user
 * (Debian's service runs as user tomcat, which may not open /dev/kvm).
 *
 * <p>When the package is missing it is installed with apt-get if the tests run as root (as CI does), like
 * src-native/mk/prereqs.sh installs the build's packages; otherwise the test fails with the command to run.
 */
final class DebianTomcat implements Deployment {

    /** Debian's Tomcat 10.1 installation; -Dtomcat10.home=... points elsewhere (an unpacked Apache Tomcat). */
    static final Path HOME = Path.of(System.getProperty("tomcat10.home", "/usr/share/tomcat10"));
    static final String PACKAGE = "tomcat10";
    private static final long START_TIMEOUT_SECONDS = 120;
    private static final long STOP_TIMEOUT_SECONDS = 60;

    final Process process;
    final Path base;
    /** The first application; {@link #apps} has all of them, in the order given. */
    final ExampleChecks app;
    final List<ExampleChecks> apps;

    private DebianTomcat(Process process, Path base, List<ExampleChecks> apps) {
        this.process = process;
        this.base = base;
        this.app = apps.get(0);
        this.apps = apps;
    }

    @Override
    public ExampleChecks app() {
        return app;
    }

    /** Installs Debian's tomcat10 when it is missing and this runs as root; fails saying what to do otherwise. */
    static void ensureInstalled() throws Exception {
        if (Files.isExecutable(HOME.resolve("bin/catalina.sh"))) {
            return;
        }
        String install = "apt-get install -y --no-install-recommends " + PACKAGE;
        boolean root = "root".equals(System.getProperty("user.name"));
        boolean apt = Files.isExecutable(Path.of("/usr/bin/apt-get"));
        if (!root || !apt) {
            fail(HOME.resolve("bin/catalina.sh") + " is missing: the test deploys the war into Debian's Tomcat 10.1."
                    + " Install it (as root) with: apt-get update && " + install
                    + (apt ? "" : " (no apt-get here: point -Dtomcat10.home at an unpacked Apache Tomcat 10.1)"));
        }
        // Say what is installed and why before installing it, as src-native/mk/prereqs.sh does.
        System.err.println("DebianTomcat: installing the Debian package " + PACKAGE + " (" + install + "):"
                + " the DebianTomcat10*IT tests deploy the wars into a real Tomcat 10.1 as an administrator would,"
                + " and " + HOME.resolve("bin/catalina.sh") + " is missing");
        run(List.of("apt-get", "-q", "update"));
        run(List.of("apt-get", "-q", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "--no-install-recommends",
                PACKAGE));
        assertThat(HOME.resolve("bin/catalina.sh")).as("catalina.sh after installing " + PACKAGE).isExecutable();
    }

    /**
     * Runs an apt-get command with its output in target/apt.log: written straight to the test JVM's own stdout it
     * would corrupt the channel Maven reads the test's results from (a warning in every build that installs).
     */
    private static void run(List<String> command) throws Exception {
        Path log = EmbeddedTomcat.BUILD.resolve("apt.log").toAbsolutePath();
        Files.createDirectories(log.getParent());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().put("DEBIAN_FRONTEND", "noninteractive");
        System.err.println("DebianTomcat: " + String.join(" ", command) + " (output in " + log + ")");
        Process process = builder.start();
        if (!process.waitFor(15, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            fail(String.join(" ", command) + " did not finish in 15 minutes; its output is in " + log);
        }
        if (process.exitValue() != 0) {
            fail(String.join(" ", command) + " failed with exit status " + process.exitValue() + "; its output is in "
                    + log);
        }
    }

    /**
     * Creates a fresh CATALINA_BASE in target/{baseName}, copies the war to its webapps/example.war, starts
     * {@code catalina.sh run} and waits until the application answers.
     */
    static DebianTomcat deploy(Path war, String baseName) throws Exception {
        return deploy(baseName, List.of(war));
    }

    /**
     * The same with several wars in one Tomcat, as webapps/example.war, example2.war, ...: each application gets
     * its own class loader, as in production.
     */
    static DebianTomcat deploy(String baseName, List<Path> wars) throws Exception {
        ensureInstalled();
        for (Path war : wars) {
            assertThat(war).as("the packaged war (run after mvn package)").isRegularFile();
        }
        Path base = EmbeddedTomcat.BUILD.resolve(baseName).toAbsolutePath();
        EmbeddedTomcat.deleteRecursively(base);
        for (String dir : List.of("conf", "logs", "temp", "webapps", "work")) {
            Files.createDirectories(base.resolve(dir));
        }
        // Debian keeps the default configuration in $CATALINA_HOME/etc, Apache's distribution in conf/.
        Path defaults = Files.isDirectory(HOME.resolve("conf")) ? HOME.resolve("conf") : HOME.resolve("etc");
        for (String file : List.of("web.xml", "catalina.properties", "logging.properties", "context.xml")) {
            Files.copy(defaults.resolve(file), base.resolve("conf").resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        int port = freePort();
        Files.writeString(base.resolve("conf/server.xml"), serverXml(port));
        List<ExampleChecks> apps = new java.util.ArrayList<>();
        for (int i = 0; i < wars.size(); i++) {
            String context = i == 0 ? "example" : "example" + (i + 1);
            Files.copy(wars.get(i), base.resolve("webapps/" + context + ".war"));
            apps.add(new ExampleChecks(URI.create("http://127.0.0.1:" + port + "/" + context + "/")));
        }

        ProcessBuilder builder = new ProcessBuilder(HOME.resolve("bin/catalina.sh").toString(), "run")
                .redirectErrorStream(true).redirectOutput(base.resolve("logs/catalina.out").toFile());
        Map<String, String> env = builder.environment();
        env.put("CATALINA_HOME", HOME.toString());
        env.put("CATALINA_BASE", base.toString());
        env.put("CATALINA_TMPDIR", base.resolve("temp").toString());
        env.put("CATALINA_PID", "");
        env.put("JAVA_HOME", System.getProperty("java.home"));
        // JNA calls native code: JDK 22+ warns without this; JDK 17 accepts it silently.
        env.put("CATALINA_OPTS", "--enable-native-access=ALL-UNNAMED");
        Process process = builder.start();
        DebianTomcat tomcat = new DebianTomcat(process, base, apps);
        try {
            for (ExampleChecks each : apps) {
                tomcat.awaitApplication(each);
            }
        } catch (Exception | AssertionError e) {
            tomcat.close();
            throw e;
        }
        return tomcat;
    }

    /** Polls until the application serves a file; fails early when Tomcat exits or the application fails. */
    private void awaitApplication(ExampleChecks app) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_TIMEOUT_SECONDS);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                fail("Tomcat exited with status " + process.exitValue() + " before the application started:\n" + log());
            }
            if (log().contains("startup failed")) {
                fail("the application did not start in Tomcat:\n" + log());
            }
            try {
                HttpResponse<byte[]> response = app.get("SOURCES.txt");
                if (response.statusCode() == 200) {
                    return;
                }
            } catch (IOException notListeningYet) {
                // keep polling
            }
            Thread.sleep(250);
        }
        fail("the application did not answer within " + START_TIMEOUT_SECONDS + " s:\n" + log());
    }

    /** Tomcat's console output and its logs, for failure messages. */
    String log() {
        StringBuilder text = new StringBuilder();
        try (var files = Files.list(base.resolve("logs"))) {
            for (Path file : files.sorted().toList()) {
                text.append("--- ").append(file.getFileName()).append('\n')
                        .append(Files.readString(file, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            text.append("(logs unreadable: ").append(e).append(")");
        }
        return text.toString();
    }

    /** Stops Tomcat with SIGTERM (its shutdown hook stops the applications) and waits for it. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** One HTTP connector on the loopback interface; no shutdown port (SIGTERM stops it). */
    private static String serverXml(int port) {
        return """
                <?xml version="1.0" encoding="UTF-8"?>
                <Server port="-1" shutdown="SHUTDOWN">
                  <Listener className="org.apache.catalina.startup.VersionLoggerListener"/>
                  <Service name="Catalina">
                    <Connector address="127.0.0.1" port="%d" protocol="HTTP/1.1" connectionTimeout="20000"/>
                    <Engine name="Catalina" defaultHost="localhost">
                      <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="false"/>
                    </Engine>
                  </Service>
                </Server>
                """.formatted(port);
    }
}
