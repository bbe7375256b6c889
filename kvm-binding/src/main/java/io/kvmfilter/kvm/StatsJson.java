package io.kvmfilter.kvm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Statistics as JSON, like the VMOD's stats(pattern, indentation): an object keyed by program name with
 * snake_case keys named after the fields of struct kvmf_program_stats and kvmf_instance_stats.
 */
final class StatsJson {
    private StatsJson() {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    static String write(KvmStats stats, Pattern programs, int indentation) {
        if (indentation < 0) {
            throw new IllegalArgumentException("indentation " + indentation + " is negative; give 0 (compact) or more spaces");
        }
        ObjectNode root = JSON.createObjectNode();
        for (Map.Entry<String, KvmStats.Program> e : stats.programs().entrySet()) {
            if (programs.matcher(e.getKey()).matches()) {
                root.set(e.getKey(), program(e.getValue()));
            }
        }
        ObjectWriter writer = JSON.writer();
        if (indentation > 0) {
            DefaultIndenter indenter = new DefaultIndenter(" ".repeat(indentation), "\n");
            writer = writer.with(new DefaultPrettyPrinter().withObjectIndenter(indenter).withArrayIndenter(indenter));
        }
        try {
            return writer.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of numbers and strings always serializes", e);
        }
    }

    private static ObjectNode program(KvmStats.Program p) {
        ObjectNode o = JSON.createObjectNode();
        o.put("loaded", p.loaded());
        o.put("loads", p.loads());
        o.put("load_failures", p.loadFailures());
        o.put("invocations", p.invocations());
        o.put("failures", p.failures());
        ObjectNode byKind = o.putObject("failures_by_kind");
        p.failuresByKind().forEach((kind, count) -> byKind.put(kind.name(), count));
        o.put("on_error_answers", p.onErrorAnswers());
        o.put("timeouts", p.timeouts());
        o.put("resets", p.resets());
        o.put("reset_ns", p.resetNanos());
        o.put("run_ns", p.runNanos());
        o.put("cpu_ns", p.cpuNanos());
        o.put("bytes_in", p.bytesIn());
        o.put("bytes_out", p.bytesOut());
        o.put("dirty_pages", p.dirtyPages());
        o.put("queue_waits", p.queueWaits());
        o.put("queue_timeouts", p.queueTimeouts());
        o.put("queue_wait_ns", p.queueWaitNanos());
        o.put("instances", p.instances());
        o.put("instances_busy", p.instancesBusy());
        o.put("boot_ns", p.bootNanos());
        o.put("frozen_bytes", p.frozenBytes());
        o.put("instance_bytes", p.instanceBytes());
        o.put("max_memory", p.maxMemory());
        o.put("max_request_memory", p.maxRequestMemory());
        o.put("unsupported_calls", p.unsupportedCalls());
        o.put("refused_calls", p.refusedCalls());
        o.put("warmups", p.warmups());
        o.put("exits", p.exits());
        o.put("trap_exits", p.trapExits());
        o.put("trimmed_bytes", p.trimmedBytes());
        o.put("storage_calls", p.storageCalls());
        o.put("storage_failures", p.storageFailures());
        o.put("storage_tasks", p.storageTasks());
        o.put("storage_task_failures", p.storageTaskFailures());
        o.put("fetches", p.fetches());
        o.put("fetch_refusals", p.fetchRefusals());
        o.put("fetch_failures", p.fetchFailures());
        o.put("fetch_bytes", p.fetchBytes());
        o.put("connections", p.connections());
        o.put("connection_failures", p.connectionFailures());
        o.put("connection_bytes_in", p.connectionBytesIn());
        o.put("connection_bytes_out", p.connectionBytesOut());
        o.put("exits_per_request", p.exitsPerRequest());
        ArrayNode instances = o.putArray("instance_stats");
        for (KvmStats.Instance i : p.instanceStats()) {
            ObjectNode n = instances.addObject();
            n.put("index", i.index());
            n.put("invocations", i.invocations());
            n.put("failures", i.failures());
            n.put("resets", i.resets());
            n.put("reset_ns", i.resetNanos());
            n.put("run_ns", i.runNanos());
            n.put("cpu_ns", i.cpuNanos());
            n.put("bytes_in", i.bytesIn());
            n.put("bytes_out", i.bytesOut());
            n.put("dirty_pages", i.dirtyPages());
            n.put("last_dirty_pages", i.lastDirtyPages());
            n.put("busy", i.busy());
            n.put("exits", i.exits());
            n.put("trap_exits", i.trapExits());
        }
        return o;
    }

    /** @return the regular expression, with a message naming it when invalid */
    static Pattern compile(String regex) {
        try {
            return Pattern.compile(regex);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException("Program pattern \"" + regex + "\" is not a valid regular expression: "
                    + e.getDescription().toLowerCase(Locale.ROOT), e);
        }
    }
}
