package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvmfilter.kvm.testing.CSuiteGuests;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Kvm#run(String, Request, ResponseStream)} with the C suite's "stream" guest: the head and the pieces reach
 * the stream as the program makes them, a stream that throws stops the program, a failure after the head says the
 * head went, and a program that answers whole still answers in the Result.
 */
@ExtendWith(KvmTestEnvironment.class)
class ResponseStreamTest {

    /** Records what it is given; throws IOException at the piece numbered `failAt` (0: never). */
    private static final class Recorder implements ResponseStream {
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        final List<Integer> pieces = new ArrayList<>();
        int status;
        String contentType;
        long contentLength = -1;
        List<String> headers;
        int failAt;

        @Override
        public void begin(int status, String contentType, long contentLength, List<String> headers,
                Optional<CacheHint> cacheHint) {
            this.status = status;
            this.contentType = contentType;
            this.contentLength = contentLength;
            this.headers = headers;
        }

        @Override
        public void write(byte[] data, int length) throws IOException {
            pieces.add(length);
            if (pieces.size() == failAt) {
                throw new IOException("client gone");
            }
            body.write(data, 0, length);
        }
    }

    private static Kvm start() throws Exception {
        return Kvm.start(ProgramLibrary.parse("{ \"stream\": { \"filename\": \"" + CSuiteGuests.guest("stream")
                + "\", \"max_request_time\": 5 } }", null));
    }

    @Test
    void piecesReachTheStreamAsTheProgramMakesThem() throws Exception {
        try (Kvm kvm = start()) {
            Recorder recorder = new Recorder();
            Result result = kvm.run("stream", Request.get("/").withArg("ok:3000"), recorder);
            assertThat(result.ok()).as("%s", result).isTrue();
            assertThat(result.streamed()).isTrue();
            assertThat(result.streamedBytes()).isEqualTo(3000);
            assertThat(result.body()).as("the body went to the stream, not into the Result").isEmpty();
            assertThat(recorder.status).isEqualTo(200);
            assertThat(recorder.contentType).isEqualTo("text/x-stream");
            assertThat(recorder.contentLength).isEqualTo(3000);
            assertThat(recorder.headers).contains("X-Streamed: yes");
            assertThat(recorder.pieces).containsExactly(777, 777, 777, 669);
            StringBuilder expected = new StringBuilder();
            for (int i = 0; i < 3000; i++) {
                expected.append((char) ('0' + i % 10));
            }
            assertThat(recorder.body.toString()).isEqualTo(expected.toString());
            assertThat(kvm.stats().programs().get("stream").bytesOut()).isEqualTo(3000);
        }
    }

    @Test
    void aStreamThatThrowsStopsTheProgramWithoutAFailure() throws Exception {
        try (Kvm kvm = start()) {
            Recorder recorder = new Recorder();
            recorder.failAt = 2;
            Result result = kvm.run("stream", Request.get("/").withArg("ok:3000"), recorder);
            assertThat(result.ok()).as("%s", result).isTrue();
            assertThat(result.streamStopped()).isTrue();
            assertThat(recorder.pieces).as("no callback ran after the stream stopped").hasSize(2);
            assertThat(kvm.stats().programs().get("stream").failures()).isZero();
            Result next = kvm.run("stream", Request.get("/").withArg("ok:10"));
            assertThat(next.bodyAsString()).as("the next request, on a reset instance").isEqualTo("0123456789");
            assertThat(next.streamed()).isFalse();
        }
    }

    @Test
    void aFailureAfterTheHeadIsReportedAsStreamed() throws Exception {
        try (Kvm kvm = start()) {
            Recorder recorder = new Recorder();
            Result result = kvm.run("stream", Request.get("/").withArg("crash"), recorder);
            assertThat(result.failure()).hasValueSatisfying(f -> assertThat(f.kind()).isEqualTo(FailureKind.MEMORY_FAULT));
            assertThat(result.streamed()).as("the head had gone: the caller cannot answer otherwise").isTrue();
            assertThat(recorder.status).isEqualTo(200);
            assertThat(recorder.pieces).isEmpty();
        }
    }

    @Test
    void aProgramThatAnswersWholeAnswersInTheResult() throws Exception {
        try (Kvm kvm = Kvm.start(ProgramLibrary.parse("{ \"hello\": { \"filename\": \"" + CSuiteGuests.guest("hello")
                + "\" } }", null))) {
            Recorder recorder = new Recorder();
            Result result = kvm.run("hello", Request.get("/"), recorder);
            assertThat(result.ok()).isTrue();
            assertThat(result.streamed()).isFalse();
            assertThat(result.body()).isNotEmpty();
            assertThat(recorder.contentLength).as("the stream was not called").isEqualTo(-1);
        }
    }

    @Test
    void aBodyReadFromAStreamGoesToTheStreamingPostHandlerInSegments() throws Exception {
        byte[] body = new byte[200_000];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) (i * 7 + i / 1000);
        }
        try (Kvm kvm = start()) {
            Step step = new Step("stream", "", Step.DEFAULT_ERROR_THRESHOLD);
            Request post = new Request("POST", "/", "", "application/octet-stream", null, List.of());
            Result result = kvm.run(step, post, new java.io.ByteArrayInputStream(body), body.length, new Recorder());
            assertThat(result.bodyAsString()).as("%s", result).isEqualTo("segments=4 bytes=200000 in-order=1 same=1");

            Result shortBody = kvm.run(step, post, new java.io.ByteArrayInputStream(body, 0, 10), 1000, new Recorder());
            assertThat(shortBody.failure()).hasValueSatisfying(f -> {
                assertThat(f.kind()).isEqualTo(FailureKind.INVALID_ARGUMENT);
                assertThat(f.message()).isEqualTo("the request body could not be read: the body ended after 10 of 1000 bytes");
            });
        }
    }
}
