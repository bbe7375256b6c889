package io.kvmfilter.example.tomcat;

/** A war running in some Tomcat, until closed. */
interface Deployment extends AutoCloseable {

    /** The application's checks, against its URL. */
    ExampleChecks app();
}
