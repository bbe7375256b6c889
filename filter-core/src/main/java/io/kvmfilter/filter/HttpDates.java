package io.kvmfilter.filter;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** HTTP dates (RFC 9110 §5.6.7) in their preferred form, {@code Sun, 06 Nov 1994 08:49:37 GMT}. */
final class HttpDates {

    private static final DateTimeFormatter FORMAT = DateTimeFormatter.RFC_1123_DATE_TIME.withLocale(Locale.ROOT);

    private HttpDates() {
    }

    /** An HTTP date of epoch milliseconds (in GMT, the form RFC 9110 prefers). */
    static String format(long epochMillis) {
        return FORMAT.format(java.time.Instant.ofEpochMilli(epochMillis).atZone(java.time.ZoneOffset.UTC));
    }

    /** Epoch milliseconds of an HTTP date, or -1 when the text is null or not one. */
    static long parse(String text) {
        if (text == null) {
            return -1;
        }
        try {
            return ZonedDateTime.parse(text.trim(), FORMAT).toInstant().toEpochMilli();
        } catch (DateTimeParseException e) {
            return -1;
        }
    }
}
