package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Chains on the real core: body and content type flow, error thresholds, header isolation. */
@ExtendWith(KvmTestEnvironment.class)
class KvmChainTest {
    private static Kvm kvm;

    @BeforeAll
    static void start() {
        String guest = KvmTestEnvironment.guest().toString();
        kvm = Kvm.start(ProgramLibrary.parse("{ \"first\": { \"filename\": \"" + guest + "\" },"
                + " \"second\": { \"filename\": \"" + guest + "\" }, \"third\": { \"filename\": \"" + guest + "\" } }", null));
    }

    @AfterAll
    static void stop() {
        if (kvm != null) {
            kvm.close();
        }
    }

    @Test
    void eachStepGetsThePreviousBodyAsPost() {
        Result result = kvm.chain(List.of(Step.of("first", "a"), Step.of("second", "b"), Step.of("third", "c")),
                Request.get("/x"));
        assertThat(result.ok()).as(result.toString()).isTrue();
        assertThat(result.bodyAsString()).isEqualTo("/x|a|b|c");
        assertThat(result.contentType()).isEqualTo("text/plain");
    }

    @Test
    void theCacheHintOfAProgramReachesTheResult() {
        Result result = kvm.run("first", Request.get("/x").withArg("cacheable:1"));
        assertThat(result.cacheHint()).contains(new CacheHint(true, java.time.Duration.ofSeconds(5),
                java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(2)));
        assertThat(kvm.run("first", Request.get("/x").withArg("a")).cacheHint()).as("not called").isEmpty();
    }

    @Test
    void oneUncacheableStepMakesTheChainUncacheable() {
        Result result = kvm.chain(List.of(Step.of("first", "cacheable:0"), Step.of("second", "cacheable:1")),
                Request.get("/x"));
        assertThat(result.ok()).isTrue();
        assertThat(result.cacheHint()).map(CacheHint::cacheable).contains(false);
        Result later = kvm.chain(List.of(Step.of("first", "a"), Step.of("second", "cacheable:1")), Request.get("/x"));
        assertThat(later.cacheHint()).map(CacheHint::cacheable).contains(true);
    }

    @Test
    void eachStepGetsThePreviousContentType() {
        Result result = kvm.chain(List.of(Step.of("first", "ctype:image/x-test"), Step.of("second", "input")),
                Request.get("/x"));
        assertThat(result.bodyAsString()).isEqualTo("image/x-test;" + "/x|ctype:image/x-test".length());
    }

    @Test
    void aStatusAtTheThresholdStopsTheChain() {
        long before = kvm.stats().program("second").invocations();
        Result result = kvm.chain(List.of(Step.of("first", "status:503"), Step.of("second", "b")), Request.get("/x"));
        assertThat(result.ok()).isFalse();
        assertThat(result.status()).isEqualTo(503);
        Failure failure = result.failure().orElseThrow();
        assertThat(failure.kind()).isEqualTo(FailureKind.ERROR_STATUS);
        assertThat(failure.step()).isEqualTo("first");
        assertThat(failure.message()).contains("step 1 ('first') answered status 503");
        assertThat(kvm.stats().program("second").invocations()).as("second step not run").isEqualTo(before);
        assertThat(kvm.stats().program("first").failures(FailureKind.ERROR_STATUS)).isPositive();
    }

    @Test
    void aHigherThresholdLetsTheChainGoOn() {
        Result result = kvm.chain(List.of(new Step("first", "status:404", 500), Step.of("second", "b")), Request.get("/x"));
        assertThat(result.ok()).isTrue();
        assertThat(result.bodyAsString()).isEqualTo("status 404|b");
    }

    @Test
    void aCrashInAStepNamesThatStep() {
        Result result = kvm.chain(List.of(Step.of("first", "a"), Step.of("second", "ud2"), Step.of("third", "c")),
                Request.get("/x"));
        Failure failure = result.failure().orElseThrow();
        assertThat(failure.kind()).isEqualTo(FailureKind.CPU_EXCEPTION);
        assertThat(failure.step()).isEqualTo("second");
    }

    @Test
    void intermediateHeadersDoNotLeakUnlessAsked() {
        List<Step> steps = List.of(Step.of("first", "header:X-Step: one"), Step.of("second", "header:X-Last: two"));
        Result isolated = kvm.chain(steps, Request.get("/x"));
        assertThat(isolated.headers()).contains("X-Last: two").noneMatch(h -> h.startsWith("X-Step"));
        Result merged = kvm.chain(steps, Request.get("/x"), true);
        assertThat(merged.headers()).contains("X-Step: one", "X-Last: two");
    }

    @Test
    void emptyChainAndUnknownStepsAreInvalidArguments() {
        assertThat(kvm.chain(List.of(), Request.get("/")).failure().orElseThrow().kind())
                .isEqualTo(FailureKind.INVALID_ARGUMENT);
        Failure unknown = kvm.chain(List.of(Step.of("first"), Step.of("fourth")), Request.get("/")).failure().orElseThrow();
        assertThat(unknown.kind()).isEqualTo(FailureKind.INVALID_ARGUMENT);
        assertThat(unknown.step()).isEqualTo("fourth");
    }

    @Test
    void aPostRequestFlowsThroughTheChain() {
        Result result = kvm.chain(List.of(Step.of("first", "1"), Step.of("second", "2")),
                Request.post("/p", "text/csv", "a,b".getBytes()));
        assertThat(result.bodyAsString()).isEqualTo("a,b|1|2");
        assertThat(result.contentType()).isEqualTo("text/csv");
    }
}
