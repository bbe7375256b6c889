package io.kvmfilter.example.tomcat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Deploys the MicroProfile Config war into a real Tomcat 10.1 from Debian's tomcat10 package. JSON is minified
 * only because the war's microprofile-config.properties says so: the default rules do not cover it.
 */
class DebianTomcat10MpConfigIT {

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

    @Test
    void convertsImagesByAccept() throws Exception {
        KvmRequirement.require("webp", "avif");
        tomcat.app.imagesAreNegotiated();
    }

    @Test
    void minifiesTextIncludingJsonAsItsPropertiesSay() throws Exception {
        KvmRequirement.require("minify");
        tomcat.app.textIsMinified();
    }

    @Test
    void leavesOtherFilesAlone() throws Exception {
        tomcat.app.filesOutsideTheMappingsAreUntouched();
    }
}
