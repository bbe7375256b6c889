package io.kvmfilter.example.tomcat;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import org.apache.catalina.Context;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.Wrapper;
import org.apache.catalina.startup.Tomcat;

/** An embedded Tomcat 11 on a free loopback port running one packaged war, as a user would deploy it. */
final class EmbeddedTomcat implements Deployment {

    static final Path WAR = Path.of(System.getProperty("tomcatExample.war", "target/tomcat-example.war"));
    static final Path MPCONFIG_WAR = Path.of(System.getProperty("tomcatExample.mpconfigWar",
            "target/tomcat-example-mpconfig.war"));
    static final Path BUILD = Path.of(System.getProperty("tomcatExample.buildDir", "target"));

    private final Tomcat tomcat;
    final ExampleChecks app;

    private EmbeddedTomcat(Tomcat tomcat, ExampleChecks app) {
        this.tomcat = tomcat;
        this.app = app;
    }

    @Override
    public ExampleChecks app() {
        return app;
    }

    /** Deploys the war at /example and starts Tomcat; fails when the application does not start. */
    static EmbeddedTomcat deploy(Path war, String baseName) throws Exception {
        assertThat(war).as("the packaged war (run after mvn package)").isRegularFile();
        Path base = BUILD.resolve(baseName);
        deleteRecursively(base);
        Files.createDirectories(base.resolve("webapps"));

        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.toString());
        // The port first: getConnector() creates the connector with the port set at that moment (8080 unless set),
        // so the other way round the test would bind 127.0.0.1:8080 and fail while a demo or a Tomcat runs.
        tomcat.setPort(0);
        tomcat.getConnector().setProperty("address", "127.0.0.1");
        Context context = tomcat.addWebapp("/example", war.toAbsolutePath().toString());
        // tomcat-embed-core has no JSP engine: drop the JSP servlet the default web.xml adds.
        context.addLifecycleListener(event -> {
            if (Lifecycle.CONFIGURE_START_EVENT.equals(event.getType())) {
                Wrapper jsp = (Wrapper) context.findChild("jsp");
                if (jsp != null) {
                    context.removeChild(jsp);
                    context.removeServletMapping("*.jsp");
                    context.removeServletMapping("*.jspx");
                }
            }
        });
        tomcat.start();
        assertThat(tomcat.getConnector().getPort()).as("the connector's configured port (0: any free one)").isZero();
        EmbeddedTomcat started = new EmbeddedTomcat(tomcat, new ExampleChecks(
                URI.create("http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + "/example/")));
        if (context.getState() != LifecycleState.STARTED) {
            started.close();
            throw new AssertionError(war + " did not start (state " + context.getState() + "); see the log above");
        }
        return started;
    }

    @Override
    public void close() throws LifecycleException {
        tomcat.stop();
        tomcat.destroy();
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
    }
}
