package io.kvmfilter.example.tomcat;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvmfilter.kvm.testing.KvmRequirement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Both example wars in one Debian Tomcat 10.1: each has filters named "images" and "text", each in its own class
 * loader. Regression: the second application's filters once failed to start because the sandboxes' JVM-wide
 * (JMX) names collided ("A Kvm named 'filter-images-1' is already running").
 */
class DebianTomcat10TwoAppsIT {

    private static DebianTomcat tomcat;

    @BeforeAll
    static void deploy() throws Exception {
        tomcat = DebianTomcat.deploy("tomcat10-two-apps", List.of(EmbeddedTomcat.WAR, EmbeddedTomcat.MPCONFIG_WAR));
    }

    @AfterAll
    static void stop() {
        if (tomcat != null) {
            tomcat.close();
        }
    }

    @Test
    void bothApplicationsTransformWithFiltersOfTheSameName() throws Exception {
        KvmRequirement.require("webp", "avif", "minify");
        assertThat(tomcat.log()).doesNotContain("already running");
        for (ExampleChecks app : tomcat.apps) {
            app.imagesAreNegotiated();
            app.textIsMinified();
        }
    }
}
