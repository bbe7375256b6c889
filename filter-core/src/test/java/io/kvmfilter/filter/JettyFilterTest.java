package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The filter's servlet mechanics on embedded Jetty 12 (ee10). */
class JettyFilterTest extends FilterMechanicsContract {

    @Override
    ServletContainer newContainer() {
        return new JettyContainer();
    }

    @Test
    void runsOnJetty12() {
        assertThat(containerVersion()).startsWith("Jetty/12.");
    }
}
