package io.kvmfilter.example.tomcat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Deploys the packaged war (configured by web.xml init-params, the filter's jars in WEB-INF/lib) into an embedded
 * Tomcat 11 (Servlet 6.1) and checks it over HTTP.
 */
class EmbeddedTomcat11IT extends InitParamsWarContract {

    private static EmbeddedTomcat tomcat;

    @BeforeAll
    static void deploy() throws Exception {
        tomcat = EmbeddedTomcat.deploy(EmbeddedTomcat.WAR, "tomcat11-plain");
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
