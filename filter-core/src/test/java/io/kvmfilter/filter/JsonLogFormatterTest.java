package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;
import org.junit.jupiter.api.Test;

/** The filter's own log records through the JSON layout, as a log shipper reads them: one object per line. */
class JsonLogFormatterTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the filter's logger writes through a handler with the JSON layout while {@code logging} runs. */
    private static String logged(Runnable logging) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        StreamHandler handler = new StreamHandler(bytes, new JsonLogFormatter());
        Logger logger = Logger.getLogger(KvmFilter.class.getName());
        logger.addHandler(handler);
        try {
            logging.run();
        } finally {
            logger.removeHandler(handler);
            handler.close();
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aFailureIsOneObjectWithItsFields() throws Exception {
        String text = logged(() -> new TransformStats().failure(Outcome.fallback("webp", "error-status"),
                "webp: step 1 ('webp') answered status 422; X-Failed: bad\r\nSEVERE forged line",
                new RequestLine("GET", "/photos/a\n.jpg", "w=200", "req-42")));

        assertThat(text.lines()).as(text).hasSize(1);
        JsonNode line = JSON.readTree(text);
        assertThat(line.get("level").asText()).isEqualTo("WARNING");
        assertThat(line.get("logger").asText()).isEqualTo(KvmFilter.class.getName());
        assertThat(line.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d.*Z");
        assertThat(line.get("outcome").asText()).isEqualTo("fallback=webp:error-status");
        assertThat(line.get("variant").asText()).isEqualTo("webp");
        assertThat(line.get("reason").asText()).isEqualTo("error-status");
        assertThat(line.get("method").asText()).isEqualTo("GET");
        assertThat(line.get("uri").asText()).isEqualTo("/photos/a\\n.jpg");
        assertThat(line.get("request_id").asText()).isEqualTo("req-42");
        assertThat(line.get("detail").asText()).contains("X-Failed: bad\\r\\nSEVERE forged line");
        assertThat(line.get("suppressed").asLong()).isZero();
        assertThat(line.get("message").asText())
                .startsWith("kvmfilter: variant webp failed (error-status) for GET /photos/a\\n.jpg (request req-42)");
    }

    @Test
    void anExceptionComesWithItsStackTrace() throws Exception {
        String text = logged(() -> Logger.getLogger(KvmFilter.class.getName()).log(Level.SEVERE, "could not start",
                new IllegalStateException("no /dev/kvm")));

        assertThat(text.lines()).as(text).hasSize(1);
        JsonNode line = JSON.readTree(text);
        assertThat(line.get("message").asText()).isEqualTo("could not start");
        assertThat(line.get("exception").asText()).startsWith("java.lang.IllegalStateException: no /dev/kvm")
                .contains("at io.kvmfilter.filter.JsonLogFormatterTest");
        assertThat(line.has("outcome")).as("no failure fields on other records").isFalse();
    }
}
