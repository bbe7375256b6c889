package io.kvmfilter.example.tomcat;

import org.junit.jupiter.api.Test;

/**
 * The checks of the MicroProfile Config war, whatever Tomcat it is deployed in. JSON is minified only because the
 * war's microprofile-config.properties says so: the default rules do not cover it.
 */
abstract class MpConfigWarContract {

    /** The deployed application. */
    abstract ExampleChecks app();

    @Test
    void convertsImagesByAccept() throws Exception {
        KvmRequirement.require("webp", "avif");
        app().imagesAreNegotiated();
    }

    @Test
    void minifiesTextIncludingJsonAsItsPropertiesSay() throws Exception {
        KvmRequirement.require("minify");
        app().textIsMinified();
    }

    @Test
    void leavesOtherFilesAlone() throws Exception {
        app().filesOutsideTheMappingsAreUntouched();
    }
}
