package io.kvmfilter.filter;

/** A real embedded servlet container started for a test on a free port of 127.0.0.1. */
interface ServletContainer extends AutoCloseable {

    /** Starts the deployment; throws when the web application (or a filter's init) fails. */
    void start(Deployment deployment) throws Exception;

    /** The port the container listens on. */
    int port();

    /** Container name and version, e.g. "Apache Tomcat/11.0.25". */
    String version();

    @Override
    void close() throws Exception;
}
