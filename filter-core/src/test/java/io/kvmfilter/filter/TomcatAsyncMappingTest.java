package io.kvmfilter.filter;

/** A filter without the ASYNC mapping on Tomcat. */
class TomcatAsyncMappingTest extends AsyncMappingContract {
    @Override
    ServletContainer newContainer() {
        return new TomcatContainer();
    }

    @Override
    boolean recoversMissingAsyncMapping() {
        return true;
    }
}
