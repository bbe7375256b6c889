package io.kvmfilter.filter;

import java.util.Map;

/**
 * A log message that also has named fields. It is logged as the only parameter of a {@code "{0}"} message, so a
 * text layout prints its {@code toString()} and {@link JsonLogFormatter} writes the fields as JSON members.
 */
interface LogFields {

    /** The fields in the order they are written; values already bounded, absent ones left out. */
    Map<String, Object> fields();
}
