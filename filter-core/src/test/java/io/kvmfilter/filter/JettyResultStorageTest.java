package io.kvmfilter.filter;

/** The result store and overload limits on embedded Jetty 12 (ee10). */
class JettyResultStorageTest extends ResultStorageContract {
    @Override
    ServletContainer newContainer() {
        return new JettyContainer();
    }
}
