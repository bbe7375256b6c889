package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The filter's servlet mechanics on embedded Tomcat. The default test run uses Tomcat 11; a second run of this
 * class (pom: execution tomcat-10.1) swaps in Tomcat 10.1 and sets {@code kvmfilter.test.tomcatMajor=10}.
 */
class TomcatFilterTest extends FilterMechanicsContract {

    @Override
    ServletContainer newContainer() {
        return new TomcatContainer();
    }

    @Test
    void runsOnTheExpectedTomcatVersion() {
        String major = System.getProperty("kvmfilter.test.tomcatMajor", "11");
        assertThat(containerVersion()).startsWith("Apache Tomcat/" + major + ".");
    }
}
