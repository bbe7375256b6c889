package io.kvmfilter.filter;

/** The result store and overload limits on embedded Tomcat (11, and 10.1 in the second run). */
class TomcatResultStorageTest extends ResultStorageContract {
    @Override
    ServletContainer newContainer() {
        return new TomcatContainer();
    }
}
