package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.kvmfilter.kvm.testing.CSuiteGuests;
import io.kvmfilter.kvm.testing.LocalOrigin;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The library's egress policy through Java: the C suite's "fetch" guest fetches from an origin this test runs on
 * 127.0.0.1 (the JDK's HTTP server); allowed, refused for a host not listed and for a loopback address not listed
 * in "addresses", counted in the statistics and their JSON; a policy with a wrong type refused when the library
 * is read, one with a wrong value when the program loads, each with the reason.
 */
@ExtendWith(KvmTestEnvironment.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EgressTest {

    private HttpServer origin;
    private int port;

    @BeforeAll
    void startOrigin() throws IOException {
        origin = LocalOrigin.serving("/hello", "text/plain", exchange -> ("from the origin, X-One="
                + exchange.getRequestHeaders().getFirst("X-One")).getBytes(StandardCharsets.UTF_8));
        port = origin.getAddress().getPort();
    }

    @AfterAll
    void stopOrigin() {
        origin.stop(0);
    }

    private String library(String egress) throws Exception {
        return "{ \"fetch\": { \"filename\": \"" + CSuiteGuests.guest("fetch") + "\"" + egress + " } }";
    }

    private static String body(Kvm kvm, String arg) {
        Result result = kvm.run("fetch", Request.get("/").withArg(arg));
        assertThat(result.ok()).as("%s: %s", arg, result).isTrue();
        return result.bodyAsString();
    }

    @Test
    void aProgramFetchesWhatItsPolicyAllowsAndNothingElse() throws Exception {
        String policy = ", \"egress\": { \"hosts\": [\"127.0.0.1\", \"localhost\"], \"ports\": [" + port + "], "
                + "\"addresses\": [\"127.0.0.1/32\"], \"max_time\": 5, \"max_response_size\": 1 }";
        try (Kvm kvm = Kvm.start(ProgramLibrary.parse(library(policy), null))) {
            String hello = "http://127.0.0.1:" + port + "/hello";
            assertThat(body(kvm, "get:" + hello)).startsWith("200 text/plain|").endsWith("|from the origin, X-One=1");
            assertThat(body(kvm, "result:http://example.com:" + port + "/hello")).as("a host not listed")
                    .isEqualTo("rc=-1");
            assertThat(body(kvm, "result:http://127.0.0.1:1/hello")).as("a port not listed").isEqualTo("rc=-1");
            KvmStats.Program stats = kvm.stats().program("fetch");
            assertThat(stats.fetches()).isEqualTo(3);
            assertThat(stats.fetchRefusals()).isEqualTo(2);
            assertThat(stats.fetchFailures()).isZero();
            assertThat(stats.fetchBytes()).isEqualTo("from the origin, X-One=1".length());
            assertThat(StatsJson.write(kvm.stats(), java.util.regex.Pattern.compile(".*"), 0)).contains("\"fetches\":3").contains("\"fetch_refusals\":2");
        }
    }

    @Test
    void loopbackIsRefusedUnlessTheAddressesListItAndTheRefusalIsLoggedOnce() throws Exception {
        String policy = ", \"egress\": { \"hosts\": [\"127.0.0.1\"], \"ports\": [" + port + "] }";
        java.util.List<java.util.logging.LogRecord> records = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler handler = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        java.util.logging.Logger notices = java.util.logging.Logger.getLogger(ProgramNotices.class.getName());
        notices.addHandler(handler);
        try (Kvm kvm = Kvm.start(ProgramLibrary.parse(library(policy), null))) {
            assertThat(body(kvm, "result:http://127.0.0.1:" + port + "/hello")).isEqualTo("rc=-1");
            assertThat(body(kvm, "result:http://127.0.0.1:" + port + "/hello")).isEqualTo("rc=-1");
            assertThat(records).as("one line for both refusals, in the host's log").hasSize(1);
            String line = new java.util.logging.SimpleFormatter().formatMessage(records.get(0));
            assertThat(line).contains("program 'fetch'").contains("sys_fetch of http://127.0.0.1:" + port)
                    .contains("is loopback, not allowed unless the program's egress addresses list it");
            assertThat(records.get(0).getLevel()).isEqualTo(java.util.logging.Level.WARNING);
            assertThat(kvm.stats().program("fetch").fetchRefusals()).isEqualTo(2);
        } finally {
            notices.removeHandler(handler);
        }
        try (Kvm kvm = Kvm.start(ProgramLibrary.parse(library(""), null))) {
            assertThat(body(kvm, "result:http://127.0.0.1:" + port + "/hello")).as("no policy: no fetch")
                    .isEqualTo("rc=-1");
        }
    }

    @Test
    void policiesWithMistakesAreRefusedWithTheReason() throws Exception {
        assertThatThrownBy(() -> ProgramLibrary.parse(library(", \"egress\": { \"hosts\": \"a.com\" }"), null))
                .isInstanceOf(KvmConfigurationException.class).hasMessageContaining("\"egress\"")
                .hasMessageContaining("\"hosts\" (an array of host names");
        assertThatThrownBy(() -> ProgramLibrary.parse(library(", \"egress\": { \"hosts\": [\"a.com\"], \"colour\": 1 }"),
                null)).isInstanceOf(KvmConfigurationException.class).hasMessageContaining("\"egress\"");
        assertThatThrownBy(() -> ProgramLibrary.parse(library(", \"egress\": { \"hosts\": [\"a.com\"], \"ports\": [] }"),
                null)).as("an empty list allows nothing").isInstanceOf(KvmConfigurationException.class)
                .hasMessageContaining("\"egress\"");
        try (Kvm kvm = Kvm.start(ProgramLibrary.parse(library(", \"egress\": { \"hosts\": [\"a.*.com\"] }"), null))) {
            Result result = kvm.run("fetch", Request.get("/").withArg("result:http://a.com/"));
            assertThat(result.failure()).hasValueSatisfying(f -> assertThat(f.message())
                    .contains("egress hosts = \"a.*.com\"; allowed: host names"));
        }
    }
}
