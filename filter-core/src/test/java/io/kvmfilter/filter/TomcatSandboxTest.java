package io.kvmfilter.filter;

/** The filter with the real sandbox on embedded Tomcat. */
class TomcatSandboxTest extends SandboxFilterContract {
    @Override
    ServletContainer newContainer() {
        return new TomcatContainer();
    }
}
