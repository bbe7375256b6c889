package io.kvmfilter.filter;

/** A filter without the ASYNC mapping on Jetty 12. */
class JettyAsyncMappingTest extends AsyncMappingContract {
    @Override
    ServletContainer newContainer() {
        return new JettyContainer();
    }

    @Override
    boolean recoversMissingAsyncMapping() {
        return false;
    }
}
