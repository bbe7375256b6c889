package io.kvmfilter.example.tomcat;

import org.junit.jupiter.api.Test;

/**
 * The checks of the war configured by web.xml init-params, whatever Tomcat it is deployed in: each subclass deploys
 * it once for its tests and names the deployed application in {@link #app()}.
 */
abstract class InitParamsWarContract {

    /** The deployed application. */
    abstract ExampleChecks app();

    @Test
    void convertsImagesByAccept() throws Exception {
        KvmRequirement.require("webp", "avif");
        app().imagesAreNegotiated();
    }

    @Test
    void revalidatesVariantsWithTheirETag() throws Exception {
        KvmRequirement.require("webp", "avif");
        app().variantsRevalidateWithTheirETag();
    }

    @Test
    void minifiesText() throws Exception {
        KvmRequirement.require("minify");
        app().textIsMinified();
    }

    @Test
    void leavesOtherFilesAlone() throws Exception {
        app().filesOutsideTheMappingsAreUntouched();
    }

    @Test
    void reportsStatistics() throws Exception {
        KvmRequirement.require("webp");
        app().statisticsNameBothFilters();
    }
}
