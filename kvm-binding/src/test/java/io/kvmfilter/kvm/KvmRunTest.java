package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Running one program on the real core: GET, POST, arguments, environment, logs, toString. */
@ExtendWith(KvmTestEnvironment.class)
class KvmRunTest {
    private static Kvm kvm;

    @BeforeAll
    static void start() {
        kvm = KvmTestEnvironment.startGuest("echo",
                "\"main_arguments\": [\"alpha\", \"beta\"], \"environment\": [\"COLOR=blue\"]");
    }

    @AfterAll
    static void stop() {
        if (kvm != null) {
            kvm.close();
        }
    }

    @Test
    void getGoesToTheGetHandlerWithUrlAndArg() {
        Result result = kvm.run("echo", Request.get("/images/cat.jpg").withArg("size=small"));
        assertThat(result.failure()).isEmpty();
        assertThat(result.ok()).isTrue();
        assertThat(result.status()).isEqualTo(200);
        assertThat(result.contentType()).isEqualTo("text/plain");
        assertThat(result.bodyAsString()).isEqualTo("/images/cat.jpg|size=small");
        assertThat(result.onErrorUsed()).isFalse();
        assertThat(result.elapsedNanos()).isPositive();
    }

    @Test
    void postGoesToThePostHandlerWithBodyAndContentType() {
        byte[] body = "hello, sandbox".getBytes(StandardCharsets.UTF_8);
        Result result = kvm.run("echo", Request.post("/p", "text/x-greeting", body).withArg("!"));
        assertThat(result.ok()).isTrue();
        assertThat(result.contentType()).isEqualTo("text/x-greeting");
        assertThat(result.bodyAsString()).isEqualTo("hello, sandbox|!");
    }

    @Test
    void emptyPostBodyIsStillAPost() {
        Result result = kvm.run("echo", Request.post("/p", "application/octet-stream", new byte[0]).withArg("input"));
        assertThat(result.bodyAsString()).isEqualTo("application/octet-stream;0");
    }

    @Test
    void binaryBodiesArriveUnchanged() {
        byte[] body = new byte[200_000];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) (i * 31 + 7);
        }
        Result result = kvm.run("echo", Request.post("/bin", "application/octet-stream", body).withArg("input"));
        assertThat(result.bodyAsString()).isEqualTo("application/octet-stream;200000");
    }

    @Test
    void programSeesItsNameArgumentsAndEnvironment() {
        assertThat(kvm.run("echo", Request.get("/").withArg("argv")).bodyAsString()).isEqualTo("echo alpha beta");
        assertThat(kvm.run("echo", Request.get("/").withArg("env:COLOR")).bodyAsString()).isEqualTo("blue");
        assertThat(kvm.run("echo", Request.get("/").withArg("env:KVM_NAME")).bodyAsString()).isEqualTo("echo");
    }

    @Test
    void statusContentTypeAndHeadersComeFromTheProgram() {
        Result teapot = kvm.run("echo", Request.get("/").withArg("status:201"));
        assertThat(teapot.status()).isEqualTo(201);
        assertThat(teapot.ok()).isTrue();
        Result typed = kvm.run("echo", Request.get("/t").withArg("ctype:application/json"));
        assertThat(typed.contentType()).isEqualTo("application/json");
        Result headed = kvm.run("echo", Request.get("/h").withArg("header:X-Answer: 42"));
        assertThat(headed.headers()).contains("X-Answer: 42");
    }

    @Test
    void programOutputIsInTheLog() {
        Result result = kvm.run("echo", Request.get("/").withArg("log:hello-from-the-guest"));
        assertThat(result.ok()).isTrue();
        assertThat(result.log()).contains("hello-from-the-guest");
    }

    @Test
    void toStringGivesTheBodyOrTheDefault() {
        assertThat(kvm.toString("echo", Request.get("/s"), "default")).isEqualTo("/s|");
        assertThat(kvm.toString("echo", Request.get("/s").withArg("fault"), "default")).isEqualTo("default");
        assertThat(kvm.toString("nope", Request.get("/s"), "default")).isEqualTo("default");
    }

    @Test
    void unknownProgramIsAnInvalidArgumentNamingThePrograms() {
        Result result = kvm.run("nope", Request.get("/"));
        assertThat(result.ok()).isFalse();
        assertThat(result.failure()).hasValueSatisfying(f -> {
            assertThat(f.kind()).isEqualTo(FailureKind.INVALID_ARGUMENT);
            assertThat(f.step()).isEqualTo("nope");
            assertThat(f.message()).contains("no program 'nope'", "programs: echo");
        });
    }

    @Test
    void genericHandlerGetsMethodUrlArgBodyAndHeaders() {
        try (Kvm generic = KvmTestEnvironment.startGuest("generic", "\"main_arguments\": [\"generic\"]")) {
            Result get = generic.run("generic", Request.get("/g").withArg("a1")
                    .withHeaders(List.of("Accept: image/webp", "X-Long: " + "v".repeat(300))));
            assertThat(get.bodyAsString()).isEqualTo("GET /g arg=a1 body=0 headers=Accept: image/webp;X-Long: "
                    + "v".repeat(300) + " warmups=0");
            Result post = generic.run("generic", new Request("PUT", "/p", "", "text/plain", new byte[7], List.of()));
            assertThat(post.bodyAsString()).isEqualTo("PUT /p arg= body=7 headers= warmups=0");
        }
    }

    @Test
    void manyRequestHeadersPass() {
        List<String> headers = new java.util.ArrayList<>();
        for (int i = 0; i < 100; i++) {
            headers.add("X-H" + i + ": " + i);
        }
        try (Kvm generic = KvmTestEnvironment.startGuest("generic", "\"main_arguments\": [\"generic\"]")) {
            Result result = generic.run("generic", Request.get("/").withHeaders(headers));
            assertThat(result.bodyAsString()).contains("X-H0: 0;X-H1: 1", "X-H99: 99 warmups=0");
        }
    }

    @Test
    void requestHeadersAreAccepted() {
        Result result = kvm.run("echo", Request.get("/hdr").withHeaders(List.of("Accept: image/webp", "X-A: b")));
        assertThat(result.bodyAsString()).isEqualTo("/hdr|");
    }

    @Test
    void bootOutputIsKept() {
        kvm.run("echo", Request.get("/"));
        assertThat(kvm.bootLog("echo")).contains("jt-guest booting");
    }

    @Test
    void nativeVersionNamesTheApi() {
        assertThat(Kvm.nativeVersion()).contains("(api 1)");
    }
}
