package io.kvmfilter.filter;

/** The filter with the real sandbox on embedded Jetty 12. */
class JettySandboxTest extends SandboxFilterContract {
    @Override
    ServletContainer newContainer() {
        return new JettyContainer();
    }
}
