package io.kvmfilter.example.tomcat;

import io.kvmfilter.kvm.testing.KvmRequirement;
import org.junit.jupiter.api.Test;

/** The war configured by web.xml init-params: also variants' ETags and the statistics servlet it maps. */
abstract class InitParamsWarContract extends WarContract {

    @Test
    void revalidatesVariantsWithTheirETag() throws Exception {
        KvmRequirement.require("webp", "avif");
        app().variantsRevalidateWithTheirETag();
    }

    @Test
    void reportsStatistics() throws Exception {
        KvmRequirement.require("webp");
        app().statisticsNameBothFilters();
    }
}
