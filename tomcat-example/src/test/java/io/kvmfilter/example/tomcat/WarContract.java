package io.kvmfilter.example.tomcat;

import io.kvmfilter.kvm.testing.KvmRequirement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What every war of the example must do in every Tomcat: each subclass deploys one war into one Tomcat in
 * {@link #deploy()}, once for all its tests, and the tests check the application over HTTP.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class WarContract {

    private Deployment deployment;

    /** Deploys the war and starts its Tomcat. */
    abstract Deployment deploy() throws Exception;

    @BeforeAll
    void start() throws Exception {
        deployment = deploy();
    }

    @AfterAll
    void stop() throws Exception {
        if (deployment != null) {
            deployment.close();
        }
    }

    /** The deployed application. */
    ExampleChecks app() {
        return deployment.app();
    }

    @Test
    void convertsImagesByAccept() throws Exception {
        KvmRequirement.require("webp", "avif");
        app().imagesAreNegotiated();
    }

    /** The MicroProfile Config war minifies JSON only because its properties say so (the default rules do not). */
    @Test
    void minifiesText() throws Exception {
        KvmRequirement.require("minify");
        app().textIsMinified();
    }

    @Test
    void leavesOtherFilesAlone() throws Exception {
        app().filesOutsideTheMappingsAreUntouched();
    }
}
