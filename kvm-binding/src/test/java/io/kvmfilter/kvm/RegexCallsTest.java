package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvmfilter.kvm.testing.CSuiteGuests;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The regular-expression calls through the Java binding, four requests at once (the C suite's test_api.c runs
 * them one at a time): every instance uses the pattern the program compiled during initialisation, compiles and
 * frees its own, and no request reaches the patterns of the one before it. The guest is the C suite's "regex".
 */
@ExtendWith(KvmTestEnvironment.class)
class RegexCallsTest {

    private static final int THREADS = 4;
    private static final String BASIC = "handles=64,65 n1=12 [X-Value: 666] n2=11 [b@a and d@c] first=13 "
            + "[[a@b] and c@d] nospace=-28 at=4 none=-1 invalid=-22 copied=1 after_free=-22";

    @Test
    void concurrentRequestsShareTheProgramsPatternsAndNeverEachOthers() throws Exception {
        String library = "{ \"regex\": { \"filename\": \"" + CSuiteGuests.guest("regex")
                + "\", \"concurrency\": " + THREADS + ", \"queue_timeout\": 60 } }";
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try (Kvm kvm = Kvm.start(ProgramLibrary.parse(library, null))) {
            List<Future<?>> runs = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                runs.add(pool.submit(() -> {
                    for (int i = 0; i < 25; i++) {
                        Result basic = kvm.run("regex", Request.get("/regex").withArg("basic")
                                .withHeaders(List.of("X-Value: 5", "X-Copy-Me: 123")));
                        assertThat(basic.bodyAsString()).as(basic.toString()).isEqualTo(BASIC);
                        assertThat(basic.headers()).containsExactly("X-Copy-Me: 123", "X-Value: 666");
                        Result next = kvm.run("regex", Request.get("/regex").withArg("other-handle"));
                        assertThat(next.bodyAsString()).as(next.toString()).isEqualTo("other=-22 boot=0");
                    }
                    return null;
                }));
            }
            for (Future<?> run : runs) {
                run.get(120, TimeUnit.SECONDS);
            }
            Result backtrack = kvm.run("regex", Request.get("/regex").withArg("backtrack"));
            assertThat(backtrack.bodyAsString()).isEqualTo("backtrack=-7");
        } finally {
            pool.shutdownNow();
        }
    }
}
