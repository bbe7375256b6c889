package io.kvmfilter.example.tomcat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Deploys the MicroProfile Config war into a real Tomcat 10.1 from Debian's tomcat10 package. JSON is minified
 * only because the war's microprofile-config.properties says so: the default rules do not cover it.
 */
class DebianTomcat10MpConfigIT extends MpConfigWarContract {

    private static DebianTomcat tomcat;

    @BeforeAll
    static void deploy() throws Exception {
        tomcat = DebianTomcat.deploy(EmbeddedTomcat.MPCONFIG_WAR, "tomcat10-mpconfig");
    }

    @AfterAll
    static void stop() {
        if (tomcat != null) {
            tomcat.close();
        }
    }

    @Override
    ExampleChecks app() {
        return tomcat.app;
    }
}
