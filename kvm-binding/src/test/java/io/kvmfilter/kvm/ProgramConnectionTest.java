package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvmfilter.kvm.testing.CSuiteGuests;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Kvm#openConnection} with the C suite's "socket" guest (src-native/tests/guests/socket.c): it greets, echoes,
 * answers commands, and fails on demand. One instance (concurrency 1) with a short queue wait, so a connection that
 * did not give its instance back shows up as a QUEUE_TIMEOUT of the next request.
 */
@ExtendWith(KvmTestEnvironment.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProgramConnectionTest {
    private static final String REMOTE = "127.0.0.1:40123";
    private static Kvm kvm;

    @BeforeAll
    static void start() throws Exception {
        kvm = Kvm.start(ProgramLibrary.parse("{ \"socket\": { \"filename\": \"" + CSuiteGuests.guest("socket")
                + "\", \"concurrency\": 1, \"queue_timeout\": 0.5, \"max_request_time\": 1,"
                + " \"max_request_memory\": 16 },"
                + " \"hello\": { \"filename\": \"" + CSuiteGuests.guest("hello") + "\" } }", null));
    }

    @AfterAll
    static void stop() {
        if (kvm != null) {
            kvm.close();
        }
    }

    /** What the program wrote, taken piece by piece by the test. */
    private static final class Written implements ConnectionOutput {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public void write(byte[] data, int length) {
            bytes.write(data, 0, length);
        }

        /** @return what was written since the last call, as text */
        String take() {
            String text = bytes.toString(StandardCharsets.ISO_8859_1);
            bytes.reset();
            return text;
        }
    }

    private static ConnectionOutcome send(ProgramConnection connection, String text) {
        byte[] data = text.getBytes(StandardCharsets.ISO_8859_1);
        return connection.deliver(data, 0, data.length);
    }

    /** The pool's only instance is free again: a request gets it within the short queue wait. */
    private static void assertInstanceBackInThePool() {
        Result result = kvm.run("socket", Request.get("/"));
        assertThat(result.ok()).as("%s", result).isTrue();
        assertThat(result.bodyAsString()).isEqualTo("socket program\n");
    }

    @Test
    void theProgramGreetsEchoesWritesInBatchesAndClosesOnQuit() {
        Written out = new Written();
        try (ProgramConnection connection = kvm.openConnection("socket", REMOTE, "/chat?room=1", out)) {
            ConnectionOutcome opened = connection.opened();
            assertThat(opened.ok()).as("%s", opened).isTrue();
            assertThat(opened.closed()).isFalse();
            assertThat(out.take()).isEqualTo("hello " + REMOTE + " /chat?room=1\n");
            assertThat(opened.bytesWritten()).isEqualTo(("hello " + REMOTE + " /chat?room=1\n").length());

            ConnectionOutcome echo = send(connection, "ping\n");
            assertThat(echo.ok()).as("%s", echo).isTrue();
            assertThat(echo.closed()).isFalse();
            assertThat(out.take()).isEqualTo("echo: ping\n");
            assertThat(echo.bytesWritten()).isEqualTo("echo: ping\n".length());

            assertThat(send(connection, "batch\n").closed()).isFalse();
            assertThat(out.take()).isEqualTo("one\ntwo\n");

            ConnectionOutcome quit = send(connection, "quit\n");
            assertThat(quit.ok()).as("%s", quit).isTrue();
            assertThat(quit.closed()).isTrue();
            assertThat(out.take()).isEqualTo("bye\n");
            assertThat(connection.isOpen()).isFalse();
            assertThat(connection.bytesIn()).isEqualTo("ping\nbatch\nquit\n".length());

            ConnectionOutcome late = send(connection, "ping\n");
            assertThat(late.failure()).hasValueSatisfying(f -> assertThat(f.kind()).isEqualTo(FailureKind.INVALID_ARGUMENT));
            assertThat(late.closed()).isTrue();
            assertThat(out.take()).isEmpty();
        }
        assertInstanceBackInThePool();
    }

    @Test
    void bytesReachTheProgramExactlyFromTheGivenOffset() {
        Written out = new Written();
        try (ProgramConnection connection = kvm.openConnection("socket", REMOTE, "", out)) {
            out.take();
            byte[] data = {'x', 'x', 0, (byte) 0xff, '\r', '\n', 'z', 'y'};
            ConnectionOutcome echo = connection.deliver(data, 2, 5);
            assertThat(echo.ok()).as("%s", echo).isTrue();
            assertThat(out.bytes.toByteArray()).isEqualTo(new byte[] {'e', 'c', 'h', 'o', ':', ' ', 0, (byte) 0xff, '\r',
                '\n', 'z'});
        }
    }

    @Test
    void aLargeWriteReachesTheOutputWhole() {
        Written out = new Written();
        try (ProgramConnection connection = kvm.openConnection("socket", REMOTE, "", out)) {
            out.take();
            ConnectionOutcome big = send(connection, "big 300\n");
            assertThat(big.ok()).as("%s", big).isTrue();
            assertThat(big.bytesWritten()).isEqualTo(300 * 1024);
            assertThat(out.take()).isEqualTo("x".repeat(300 * 1024));
        }
    }

    @Test
    void closingTellsTheProgramTheReasonAndGivesTheInstanceBack() {
        Written out = new Written();
        ProgramConnection connection = kvm.openConnection("socket", REMOTE, "", out);
        assertThat(connection.isOpen()).isTrue();
        ConnectionOutcome closed = connection.close("idle timeout");
        assertThat(closed.ok()).as("%s", closed).isTrue();
        assertThat(closed.closed()).isTrue();
        assertThat(closed.log()).contains("disconnected: idle timeout");
        assertThat(connection.isOpen()).isFalse();
        assertThat(connection.close("again").closed()).as("closing twice does nothing").isTrue();
        assertInstanceBackInThePool();
    }

    @Test
    void aProgramSpinningPastItsTimeLimitEndsTheSessionWithTimeout() {
        try (ProgramConnection connection = kvm.openConnection("socket", REMOTE, "", new Written())) {
            long start = System.nanoTime();
            ConnectionOutcome spin = send(connection, "spin\n");
            assertThat(System.nanoTime() - start).as("stopped near max_request_time (1 s)").isLessThan(5_000_000_000L);
            assertThat(spin.failure()).hasValueSatisfying(f -> {
                assertThat(f.kind()).isEqualTo(FailureKind.TIMEOUT);
                assertThat(f.step()).isEqualTo("socket");
            });
            assertThat(spin.closed()).isTrue();
            assertThat(connection.isOpen()).isFalse();
        }
        assertInstanceBackInThePool();
    }

    @Test
    void aCrashEndsTheSessionWithAFailureAndIsCounted() {
        long failuresBefore = kvm.stats().program("socket").connectionFailures();
        try (ProgramConnection connection = kvm.openConnection("socket", REMOTE, "", new Written())) {
            ConnectionOutcome crash = send(connection, "crash\n");
            assertThat(crash.failure()).hasValueSatisfying(f -> assertThat(f.kind()).isEqualTo(FailureKind.MEMORY_FAULT));
            assertThat(crash.closed()).isTrue();
        }
        assertThat(kvm.stats().program("socket").connectionFailures()).isEqualTo(failuresBefore + 1);
        assertInstanceBackInThePool();
    }

    @Test
    void memoryWrittenPastMaxRequestMemoryInAllFailsTheSessionOutOfMemory() {
        Written out = new Written();
        try (ProgramConnection connection = kvm.openConnection("socket", REMOTE, "", out)) {
            out.take();
            ConnectionOutcome small = send(connection, "grow 2\n");
            assertThat(small.ok()).as("%s", small).isTrue();
            assertThat(out.take()).isEqualTo("grew 2\n");
            ConnectionOutcome large = send(connection, "grow 32\n");
            assertThat(large.failure()).hasValueSatisfying(f -> assertThat(f.kind()).isEqualTo(FailureKind.OUT_OF_MEMORY));
            assertThat(large.closed()).isTrue();
        }
        assertInstanceBackInThePool();
    }

    @Test
    void theStatisticsCountConnectionsAndTheirBytes() {
        KvmStats.Program before = kvm.stats().program("socket");
        Written out = new Written();
        try (ProgramConnection connection = kvm.openConnection("socket", REMOTE, "/s", out)) {
            send(connection, "ping\n");
            send(connection, "quit\n");
        }
        KvmStats.Program after = kvm.stats().program("socket");
        String written = "hello " + REMOTE + " /s\n" + "echo: ping\n" + "bye\n";
        assertThat(out.take()).isEqualTo(written);
        assertThat(after.connections()).isEqualTo(before.connections() + 1);
        assertThat(after.connectionFailures()).isEqualTo(before.connectionFailures());
        assertThat(after.connectionBytesIn()).isEqualTo(before.connectionBytesIn() + "ping\nquit\n".length());
        assertThat(after.connectionBytesOut()).isEqualTo(before.connectionBytesOut() + written.length());
        assertThat(kvm.statsJson("socket", 0)).contains("\"connections\":" + after.connections())
                .contains("\"connection_bytes_in\":" + after.connectionBytesIn());
    }

    @Test
    void aProgramWithoutTheSocketHandlerIsRefusedByName() {
        assertThat(kvm.takesConnections("socket")).isTrue();
        assertThat(kvm.takesConnections("hello")).isFalse();
        try (ProgramConnection connection = kvm.openConnection("hello", REMOTE, "", new Written())) {
            assertThat(connection.isOpen()).isFalse();
            assertThat(connection.opened().closed()).isTrue();
            assertThat(connection.opened().failure()).hasValueSatisfying(f -> {
                assertThat(f.kind()).isEqualTo(FailureKind.NO_RESPONSE);
                assertThat(f.message()).contains("'hello'").contains("register_func 12");
            });
        }
        assertThat(kvm.openConnection("nonesuch", REMOTE, "", new Written()).opened().failure())
                .hasValueSatisfying(f -> assertThat(f.kind()).isEqualTo(FailureKind.INVALID_ARGUMENT));
    }

    @Test
    void aConnectionHoldsItsInstanceSoTheNextWaitsAndGivesUpAsARequestWould() {
        try (ProgramConnection first = kvm.openConnection("socket", REMOTE, "", new Written())) {
            assertThat(first.isOpen()).isTrue();
            ProgramConnection second = kvm.openConnection("socket", REMOTE, "", new Written());
            assertThat(second.isOpen()).isFalse();
            assertThat(second.opened().failure())
                    .hasValueSatisfying(f -> assertThat(f.kind()).isEqualTo(FailureKind.QUEUE_TIMEOUT));
            Result request = kvm.run("socket", Request.get("/"));
            assertThat(request.failure()).hasValueSatisfying(f -> assertThat(f.kind()).isEqualTo(FailureKind.QUEUE_TIMEOUT));
        }
        assertInstanceBackInThePool();
    }

    @Test
    void anOutputWhoseClientHasGoneEndsTheSession() {
        ProgramConnection connection = kvm.openConnection("socket", REMOTE, "", (data, length) -> {
            throw new IOException("client gone");
        });
        assertThat(connection.opened().closed()).isTrue();
        assertThat(connection.isOpen()).isFalse();
        assertInstanceBackInThePool();
    }

    @Test
    void aCloseFromAnotherThreadWaitsForTheDeliveryRunningNow() throws Exception {
        ProgramConnection connection = kvm.openConnection("socket", REMOTE, "", new Written());
        CompletableFuture<ConnectionOutcome> spin = CompletableFuture.supplyAsync(() -> send(connection, "spin\n"));
        Thread.sleep(300); // the delivery has entered the program (it holds the connection for 1 s)
        long start = System.nanoTime();
        ConnectionOutcome closed = connection.close("time limit");
        assertThat(System.nanoTime() - start).as("waited for the delivery (1 s time limit)").isGreaterThan(400_000_000L);
        assertThat(spin.get(5, TimeUnit.SECONDS).failure()).hasValueSatisfying(f -> assertThat(f.kind()).isEqualTo(FailureKind.TIMEOUT));
        assertThat(closed.ok()).as("the session had ended: nothing to do").isTrue();
        assertThat(closed.closed()).isTrue();
        assertInstanceBackInThePool();
    }

    @Test
    void closingTheKvmClosesItsOpenConnections() throws Exception {
        Kvm own = Kvm.start(ProgramLibrary.parse("{ \"socket\": { \"filename\": \"" + CSuiteGuests.guest("socket")
                + "\" } }", null));
        ProgramConnection connection = own.openConnection("socket", REMOTE, "", new Written());
        assertThat(connection.isOpen()).isTrue();
        own.close();
        assertThat(connection.isOpen()).isFalse();
        assertThat(own.openConnection("socket", REMOTE, "", new Written()).opened().failure())
                .hasValueSatisfying(f -> assertThat(f.kind()).isEqualTo(FailureKind.UNAVAILABLE));
    }
}
