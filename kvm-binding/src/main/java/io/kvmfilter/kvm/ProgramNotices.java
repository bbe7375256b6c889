package io.kvmfilter.kvm;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sandbox's notices about what a program did (the "[kvmfilter] ..." lines the core writes into a request's log:
 * a refused fetch, an unsupported call, a write to a read-only file) brought to the host's log, where an operator
 * sees them: each kind of notice at most once a minute, with how many were left out since. A kind is the notice's
 * text up to its first '(' or ':', so "sys_fetch of URL refused (...)" lines share one minute whatever the URL.
 * One per program.
 */
final class ProgramNotices {
    private static final System.Logger LOG = System.getLogger(ProgramNotices.class.getName());
    private static final String PREFIX = "[kvmfilter] ";
    private static final long INTERVAL_NANOS = 60_000_000_000L;
    private static final int MAX_KINDS = 1024;

    /** When each (program, kind) was last logged, and how many were left out since. */
    private record Last(AtomicLong at, AtomicLong suppressed) {
    }

    private final ConcurrentHashMap<String, Last> last = new ConcurrentHashMap<>();
    private final String program;

    ProgramNotices(String program) {
        this.program = program;
    }

    /** Logs the notices among a step's log lines, within the once-a-minute bound. */
    void report(String log) {
        if (log.isEmpty() || !log.contains(PREFIX)) {
            return;
        }
        for (String line : log.split("\n")) {
            if (line.startsWith(PREFIX)) {
                notice(line.substring(PREFIX.length()), System.nanoTime());
            }
        }
    }

    private void notice(String text, long now) {
        String kind = kindOf(text);
        if (last.size() >= MAX_KINDS && !last.containsKey(kind)) {
            kind = "(other notices)"; // bounded: a program cannot grow this map without end
        }
        Last entry = last.computeIfAbsent(kind, k -> new Last(new AtomicLong(now - INTERVAL_NANOS), new AtomicLong()));
        long before = entry.at().get();
        if (now - before < INTERVAL_NANOS || !entry.at().compareAndSet(before, now)) {
            entry.suppressed().incrementAndGet();
            return;
        }
        long suppressed = entry.suppressed().getAndSet(0);
        LOG.log(System.Logger.Level.WARNING, "kvmfilter: program ''{0}'': {1}{2}", program, text,
                suppressed == 0 ? "" : " (" + suppressed + " more such notices since the last message)");
    }

    private static String kindOf(String text) {
        int end = text.length();
        for (char stop : new char[] {'(', ':'}) {
            int at = text.indexOf(stop);
            if (at >= 0 && at < end) {
                end = at;
            }
        }
        return text.substring(0, Math.min(end, 120));
    }
}
