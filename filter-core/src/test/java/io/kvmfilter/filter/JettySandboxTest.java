package io.kvmfilter.filter;

/** The filter with the real sandbox on embedded Jetty 12. */
class JettySandboxTest extends SandboxFilterContract {
    @Override
    ServletContainer newContainer() {
        return new JettyContainer();
    }

    /** Jetty 12's Servlet upgrade ends the upgraded input at once: ProgramServlet keeps connections off. */
    @Override
    boolean upgradePassesClientBytes() {
        return false;
    }
}
