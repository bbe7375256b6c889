package io.kvmfilter.example.tomcat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Deploys the MicroProfile Config war (filters declared without init-params, parameters in
 * WEB-INF/classes/META-INF/microprofile-config.properties, SmallRye Config in WEB-INF/lib) into an embedded
 * Tomcat 11. JSON is minified only because its properties say so: the default rules do not cover it.
 */
class EmbeddedTomcat11MpConfigIT extends MpConfigWarContract {

    private static EmbeddedTomcat tomcat;

    @BeforeAll
    static void deploy() throws Exception {
        tomcat = EmbeddedTomcat.deploy(EmbeddedTomcat.MPCONFIG_WAR, "tomcat11-mpconfig");
    }

    @AfterAll
    static void stop() throws Exception {
        if (tomcat != null) {
            tomcat.close();
        }
    }

    @Override
    ExampleChecks app() {
        return tomcat.app;
    }
}
