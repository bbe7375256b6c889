package io.kvmfilter.example.tomcat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Deploys the packaged war (configured by web.xml init-params, the filter's jars in WEB-INF/lib) into an embedded
 * Tomcat 11 (Servlet 6.1) and checks it over HTTP.
 */
class EmbeddedTomcat11IT {

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

    @Test
    void convertsImagesByAccept() throws Exception {
        KvmRequirement.require("webp", "avif");
        tomcat.app.imagesAreNegotiated();
    }

    @Test
    void revalidatesVariantsWithTheirETag() throws Exception {
        KvmRequirement.require("webp", "avif");
        tomcat.app.variantsRevalidateWithTheirETag();
    }

    @Test
    void minifiesText() throws Exception {
        KvmRequirement.require("minify");
        tomcat.app.textIsMinified();
    }

    @Test
    void leavesOtherFilesAlone() throws Exception {
        tomcat.app.filesOutsideTheMappingsAreUntouched();
    }

    @Test
    void reportsStatistics() throws Exception {
        KvmRequirement.require("webp");
        tomcat.app.statisticsNameBothFilters();
    }
}
