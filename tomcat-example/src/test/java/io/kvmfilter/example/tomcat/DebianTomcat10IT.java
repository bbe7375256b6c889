package io.kvmfilter.example.tomcat;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Deploys the packaged war into a real Tomcat 10.1 from Debian's tomcat10 package (installed when missing, see
 * {@link DebianTomcat}) and checks it over HTTP.
 */
class DebianTomcat10IT extends InitParamsWarContract {

    private DebianTomcat tomcat;

    @Override
    Deployment deploy() throws Exception {
        tomcat = DebianTomcat.deploy(EmbeddedTomcat.WAR, "tomcat10-plain");
        return tomcat;
    }

    @Test
    void runsDebiansTomcat101() {
        assertThat(tomcat.log()).as("Tomcat's version line").containsPattern("Server version( name)?: *Apache Tomcat/10\\.1\\.");
    }
}
