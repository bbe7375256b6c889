package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** Failures are all counted but logged at most once a minute per variant and reason (System.Logger on JUL). */
class TransformStatsTest {

    private static final RequestLine REQUEST = new RequestLine("GET", "/a.jpg", null, "r-1");

    /** A handler keeping the WARNING and more severe records of the filter's logger. */
    private static Handler collector(List<LogRecord> records) {
        return new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                    records.add(record);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
    }

    @Test
    void repeatedFailuresAreCountedButLoggedOnce() {
        List<LogRecord> records = new ArrayList<>();
        Handler handler = collector(records);
        Logger logger = Logger.getLogger(KvmFilter.class.getName());
        logger.addHandler(handler);
        try {
            TransformStats stats = new TransformStats();
            for (int i = 0; i < 5; i++) {
                stats.failure(Outcome.fallback("webp", "timeout"), "ran 5 s", REQUEST);
            }
            stats.failure(Outcome.fallback("avif", "timeout"), "ran 5 s", REQUEST);
            assertThat(stats.snapshot()).containsEntry("fallback=webp:timeout", 5L)
                    .containsEntry("fallback=avif:timeout", 1L);
            assertThat(records).hasSize(2);
            assertThat(new java.util.logging.SimpleFormatter().formatMessage(records.get(0))).isEqualTo(
                    "kvmfilter: variant webp failed (timeout) for GET /a.jpg (request r-1): ran 5 s; serving the original");
        } finally {
            logger.removeHandler(handler);
        }
    }

    @Test
    void programTextCannotForgeLogLines() {
        List<LogRecord> records = new ArrayList<>();
        Handler handler = collector(records);
        Logger logger = Logger.getLogger(KvmFilter.class.getName());
        logger.addHandler(handler);
        try {
            new TransformStats().failure(Outcome.fallback("forge", "error-status"),
                    "webp: status 415; X-Failed: bad\r\n2026-12-02 SEVERE admin password reset",
                    new RequestLine("GET", "/a\n.jpg", null, "r-2"));
            String line = new java.util.logging.SimpleFormatter().formatMessage(records.get(0));
            assertThat(line).doesNotContain("\r", "\n")
                    .contains("X-Failed: bad\\r\\n2026-12-02 SEVERE admin password reset")
                    .contains("GET /a\\n.jpg");
        } finally {
            logger.removeHandler(handler);
        }
    }

    @Test
    void aStartedFiltersOutcomesReachTheListenersInParts() {
        List<FilterOutcome> heard = new CopyOnWriteArrayList<>();
        FilterListener listener = heard::add;
        TransformStats stats = new TransformStats();
        FilterListeners.add(listener);
        try {
            stats.count(Outcome.applied("webp"));
            assertThat(heard).as("not started: not reported").isEmpty();
            stats.publishAs("ROOT-main");
            stats.count(Outcome.applied("webp"));
            stats.count(Outcome.untouched(true, "too-large"));
            stats.failure(Outcome.fallback("avif", "timeout"), "ran 5 s", REQUEST);
            assertThat(heard).containsExactly(new FilterOutcome("ROOT-main", "applied", "webp", null),
                    new FilterOutcome("ROOT-main", "skipped", null, "too-large"),
                    new FilterOutcome("ROOT-main", "fallback", "avif", "timeout"));
        } finally {
            assertThat(FilterListeners.remove(listener)).isTrue();
        }
        stats.count(Outcome.applied("webp"));
        assertThat(heard).as("removed: hears nothing more").hasSize(3);
    }
}
