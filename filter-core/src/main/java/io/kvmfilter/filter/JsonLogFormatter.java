package io.kvmfilter.filter;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * The JSON log layout for {@code java.util.logging}, where kvmfilter logs unless another backend is installed: one
 * JSON object per line, for log shippers (Fluent Bit, Vector, Logstash) to read without patterns. Every record
 * has {@code time} (ISO-8601, UTC), {@code level}, {@code logger} and {@code message}; a kvmfilter failure adds
 * {@code outcome}, {@code variant}, {@code reason}, {@code method}, {@code uri}, {@code request_id},
 * {@code detail} and {@code suppressed}; a record with an exception adds {@code exception}, its stack trace.
 *
 * <p>Enable it in {@code logging.properties}, e.g.
 * {@code java.util.logging.ConsoleHandler.formatter = io.kvmfilter.filter.JsonLogFormatter} (the class must be
 * visible to the system class loader), or with the standalone server's {@code --log-json}.
 */
public final class JsonLogFormatter extends Formatter {

    private static final JsonFactory JSON = new JsonFactory();

    /** Creates the formatter; {@code java.util.logging} does so by name from its configuration. */
    public JsonLogFormatter() {
    }

    @Override
    public String format(LogRecord record) {
        StringWriter out = new StringWriter(256);
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            json.writeStringField("time", record.getInstant().toString());
            json.writeStringField("level", record.getLevel().getName());
            json.writeStringField("logger", record.getLoggerName());
            json.writeStringField("message", formatMessage(record));
            Object[] parameters = record.getParameters();
            if (parameters != null && parameters.length == 1 && parameters[0] instanceof LogFields structured) {
                for (Map.Entry<String, Object> field : structured.fields().entrySet()) {
                    if (field.getValue() instanceof Number number) {
                        json.writeNumberField(field.getKey(), number.longValue());
                    } else {
                        json.writeStringField(field.getKey(), String.valueOf(field.getValue()));
                    }
                }
            }
            if (record.getThrown() != null) {
                StringWriter trace = new StringWriter();
                record.getThrown().printStackTrace(new PrintWriter(trace));
                json.writeStringField("exception", trace.toString());
            }
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("writing a log record as JSON into memory", e);
        }
        return out.append(System.lineSeparator()).toString();
    }
}
