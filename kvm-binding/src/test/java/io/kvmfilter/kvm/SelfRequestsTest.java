package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvmfilter.kvm.testing.CSuiteGuests;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Self-requests through the Java API: the C suite's "fetch" guest calls sys_request; the handler a Request carries
 * gets the program's method and path and answers it; a Refusal becomes its errno for the program, any other
 * failure -EIO; without a handler, and for sys_fetch of a program without an egress policy, -EPERM.
 */
@ExtendWith(KvmTestEnvironment.class)
class SelfRequestsTest {

    private static Kvm start() throws Exception {
        return Kvm.start(ProgramLibrary.parse("{ \"fetch\": { \"filename\": \"" + CSuiteGuests.guest("fetch") + "\" } }",
                null));
    }

    private static String body(Kvm kvm, String arg, SelfRequests handler) {
        Result result = kvm.run("fetch", Request.get("/").withArg(arg).withSelfRequests(handler));
        assertThat(result.ok()).as("%s: %s", arg, result).isTrue();
        return result.bodyAsString();
    }

    @Test
    void theHandlerAnswersTheProgramsSelfRequests() throws Exception {
        AtomicReference<SelfRequests.Call> seen = new AtomicReference<>();
        try (Kvm kvm = start()) {
            String answer = body(kvm, "self:/inside/page?x=1", call -> {
                seen.set(call);
                return new SelfRequests.Answer(203, "text/x-inside", List.of("X-Inside: yes"),
                        "from the inside".getBytes(StandardCharsets.UTF_8));
            });
            assertThat(answer).isEqualTo("203 text/x-inside|X-Inside: yes\r\n|from the inside");
            assertThat(seen.get().method()).isEqualTo("GET");
            assertThat(seen.get().path()).isEqualTo("/inside/page?x=1");
            assertThat(seen.get().timeLeft()).isPositive();
            assertThat(seen.get().maxBody()).isPositive();
            assertThat(body(kvm, "self:/loop", call -> {
                throw new SelfRequests.Refusal(SelfRequests.Refusal.ELOOP, "a loop");
            })).isEqualTo("rc=-40");
            assertThat(body(kvm, "self:/broken", call -> {
                throw new IllegalStateException("the handler's own defect");
            })).as("the program gets -EIO; the host goes on").isEqualTo("rc=-5");
            assertThat(body(kvm, "self:/none", null)).as("no handler").isEqualTo("rc=-1");
            assertThat(body(kvm, "result:http://127.0.0.1/", call -> {
                throw new AssertionError("sys_fetch never reaches the self-request handler");
            })).as("sys_fetch without an egress policy").isEqualTo("rc=-1");
        }
    }
}
