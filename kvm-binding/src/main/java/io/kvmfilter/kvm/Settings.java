package io.kvmfilter.kvm;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The configuration keys of a program library: their JSON types, units, ranges and defaults, and the
 * conversion of a layered key → value map (built-in defaults, group, program, configure) into a
 * {@link ProgramDefinition}. Keys and units follow the TinyKVM VMOD where it has them.
 */
final class Settings {
    private Settings() {
    }

    static final long MIB = 1024L * 1024L;

    // Defaults: the same values as kvmf_config_defaults() in kvmfilter.h, plus the binding's own keys.
    static final int DEFAULT_CONCURRENCY = 1;
    static final Duration DEFAULT_MAX_BOOT_TIME = Duration.ofSeconds(10);
    static final Duration DEFAULT_MAX_REQUEST_TIME = Duration.ofSeconds(8);
    static final Duration DEFAULT_ON_ERROR_TIME = Duration.ofSeconds(1);
    static final long DEFAULT_MAX_MEMORY_MIB = 256;
    static final long DEFAULT_MAX_REQUEST_MEMORY_MIB = 64;
    static final long DEFAULT_MAX_RESPONSE_SIZE_MIB = 64;
    static final int DEFAULT_MAX_QUEUE = 256;
    static final boolean DEFAULT_EPHEMERAL = true;
    static final String DEFAULT_WARMUP_URL = "/";
    /** An instance idle this long gives back the memory its requests made it copy. */
    static final Duration DEFAULT_TRIM_IDLE_TIME = Duration.ofSeconds(60);
    static final String DEFAULT_WARMUP_CONTENT_TYPE = "application/octet-stream";
    /** Internal: the resolved state_file, a Path. */
    static final String STATE_FILE = "state_path";
    /** Internal: the resolved warmup_body. */
    static final String WARMUP_SOURCE = "warmup_source";
    /** A program without "group" takes the built-in defaults, under this name (as the VMOD's "test" group). */
    static final String DEFAULT_GROUP = "test";

    // Ranges.
    static final int MAX_CONCURRENCY = 1024;
    static final double MAX_SECONDS = 3600;
    static final long MAX_MEMORY_MIB = 64L * 1024;
    /** A response body becomes a Java array, which holds at most 2 GiB. */
    static final long MAX_RESPONSE_SIZE_MIB = 2047;
    static final int MAX_QUEUE_LIMIT = 1_000_000;
    static final int MAX_WARMUP_REQUESTS = 100_000;
    /** Files a program may open (ALLOWED_PATHS_MAX of the core). */
    static final int MAX_ALLOWED_PATHS = 64;

    /** Where a key may appear. */
    enum Scope { GROUP_OR_PROGRAM, PROGRAM_ONLY }

    /** One configuration key: its scope, what is allowed (for messages) and its parser. */
    record Key(String name, Scope scope, String allowed, Parser parser) {
    }

    @FunctionalInterface
    interface Parser {
        /** @return the typed value, or null when the node is not allowed */
        Object parse(JsonNode node);
    }

    static final String SOURCE = "source"; // internal: the resolved file/uri

    static final Map<String, Key> KEYS = new LinkedHashMap<>();

    private static void key(String name, Scope scope, String allowed, Parser parser) {
        KEYS.put(name, new Key(name, scope, allowed, parser));
    }

    static {
        key("group", Scope.PROGRAM_ONLY, "the name of a group defined in the same library", Settings::string);
        key("filename", Scope.PROGRAM_ONLY, "a file path, relative to the library's directory", Settings::nonEmptyString);
        key("uri", Scope.PROGRAM_ONLY, "a file:, classpath:, bundled: or https: URI (https: with its sha256)",
                Settings::nonEmptyString);
        key("sha256", Scope.PROGRAM_ONLY, "64 hexadecimal digits", node -> {
            String s = string(node) instanceof String str ? str : null;
            return s != null && s.matches("[0-9a-fA-F]{64}") ? s.toLowerCase(java.util.Locale.ROOT) : null;
        });
        key("concurrency", Scope.GROUP_OR_PROGRAM, "an integer from 1 to " + MAX_CONCURRENCY,
                node -> integer(node, 1, MAX_CONCURRENCY));
        key("max_boot_time", Scope.GROUP_OR_PROGRAM, "seconds, a number above 0 and at most 3600 (decimals allowed)",
                node -> seconds(node, false));
        key("max_request_time", Scope.GROUP_OR_PROGRAM, "seconds, a number above 0 and at most 3600 (decimals allowed)",
                node -> seconds(node, false));
        key("on_error_time", Scope.GROUP_OR_PROGRAM, "seconds, a number above 0 and at most 3600 (decimals allowed)",
                node -> seconds(node, false));
        key("queue_timeout", Scope.GROUP_OR_PROGRAM, "seconds, a number from 0 to 3600 (decimals allowed)",
                node -> seconds(node, true));
        key("max_memory", Scope.GROUP_OR_PROGRAM, "MiB, an integer from 1 to " + MAX_MEMORY_MIB,
                node -> integer(node, 1, MAX_MEMORY_MIB));
        key("max_request_memory", Scope.GROUP_OR_PROGRAM, "MiB, an integer from 1 to " + MAX_MEMORY_MIB,
                node -> integer(node, 1, MAX_MEMORY_MIB));
        // The VMOD's settings for Go programs: a guest's addresses are its memory here, so max_memory grows to the
        // address space asked for; fixed mappings already go where they are asked (the VMOD's false).
        key("address_space", Scope.GROUP_OR_PROGRAM, "MiB, an integer from 1 to " + MAX_MEMORY_MIB
                + " (max_memory becomes at least this: a guest's addresses are its memory)",
                node -> integer(node, 1, MAX_MEMORY_MIB));
        key("relocate_fixed_mmap", Scope.GROUP_OR_PROGRAM, "false (kvmfilter places a fixed mapping where the program"
                + " asks, the VMOD's false; true is not supported)", node -> Boolean.FALSE.equals(bool(node))
                ? Boolean.FALSE : null);
        key("max_response_size", Scope.GROUP_OR_PROGRAM, "MiB, an integer from 1 to " + MAX_RESPONSE_SIZE_MIB,
                node -> integer(node, 1, MAX_RESPONSE_SIZE_MIB));
        key("max_queue", Scope.GROUP_OR_PROGRAM, "an integer from 0 to " + MAX_QUEUE_LIMIT,
                node -> integer(node, 0, MAX_QUEUE_LIMIT));
        key("ephemeral", Scope.GROUP_OR_PROGRAM, "true or false", Settings::bool);
        key("storage", Scope.GROUP_OR_PROGRAM, "true or false", Settings::bool);
        key("state_file", Scope.PROGRAM_ONLY, "a file path, relative to the library's directory (the program's "
                + "\"state\" file)", Settings::nonEmptyString);
        key("max_storage_memory", Scope.GROUP_OR_PROGRAM, "MiB, an even integer from 32 to " + MAX_MEMORY_MIB
                + " (the storage instance's memory; default max_memory)", node -> {
                    Object mib = integer(node, 32, MAX_MEMORY_MIB);
                    return mib instanceof Long l && l % 2 == 0 ? l : null;
                });
        key("max_storage_time", Scope.GROUP_OR_PROGRAM, "seconds, a number above 0 and at most 3600 (decimals allowed;"
                + " the time for one storage call or task; default max_request_time)", node -> seconds(node, false));
        key("shared_memory", Scope.GROUP_OR_PROGRAM, "MiB, an integer from 0 (none) to " + MAX_MEMORY_MIB,
                node -> integer(node, 0, MAX_MEMORY_MIB));
        key("debug", Scope.GROUP_OR_PROGRAM, "true or false", Settings::bool);
        key("reads_url", Scope.GROUP_OR_PROGRAM, "true or false", Settings::bool);
        key("start", Scope.GROUP_OR_PROGRAM, "true or false", Settings::bool);
        key("reload", Scope.GROUP_OR_PROGRAM, "true or false", Settings::bool);
        key("main_arguments", Scope.GROUP_OR_PROGRAM, "an array of strings", node -> strings(node, null));
        key("environment", Scope.GROUP_OR_PROGRAM, "an array of \"NAME=value\" strings",
                node -> strings(node, Pattern.compile("[^=\\x00]+=[^\\x00]*")));
        key("allowed_paths", Scope.GROUP_OR_PROGRAM, "an array of read-only files: absolute paths, or {\"real\": "
                + "host file, \"virtual\": \"/path the program opens\"} objects (a relative \"real\" is in the "
                + "library's directory; \"prefix\" directories and \"writable\" files are not supported: list each "
                + "file; only the state file is written, by storage)", Settings::allowedPaths);
        key("egress", Scope.GROUP_OR_PROGRAM, "an object: \"hosts\" (an array of host names, \"*.domain\" or \"*\"; "
                + "required), \"schemes\" (\"http\", \"https\"), \"ports\" (integers 1 to 65535), \"addresses\" "
                + "(non-public IP addresses or ranges allowed, \"10.0.0.0/8\"), \"max_response_size\" (MiB, 1 to 4095), "
                + "\"max_concurrent\" (1 to 4096), \"max_time\" (seconds, 0 to 3600), \"max_redirects\" (0 to 20), "
                + "\"insecure_tls\" (true or false)", Settings::egress);
        key("warmup_requests", Scope.GROUP_OR_PROGRAM, "an integer from 0 to " + MAX_WARMUP_REQUESTS,
                node -> integer(node, 0, MAX_WARMUP_REQUESTS));
        key("warmup_url", Scope.GROUP_OR_PROGRAM, "a string starting with \"/\"", node -> {
            Object s = string(node);
            return s instanceof String str && str.startsWith("/") ? str : null;
        });
        key("trim_idle_time", Scope.GROUP_OR_PROGRAM, "seconds, a number from 0 (never) to 3600 (decimals allowed)",
                node -> seconds(node, true));
        key("warmup_body", Scope.GROUP_OR_PROGRAM,
                "a file path relative to the library's directory, or a file:, classpath: or bundled: URI",
                Settings::nonEmptyString);
        key("warmup_content_type", Scope.GROUP_OR_PROGRAM, "a media type such as \"image/jpeg\" (at most 1024 "
                + "characters, no control characters)", node -> {
                    Object s = nonEmptyString(node);
                    return s instanceof String str && str.length() <= 1024
                            && str.chars().noneMatch(c -> c < 0x20 || c == 0x7f) ? str : null;
                });
    }

    /**
     * TinyKVM VMOD keys that kvmfilter does not support, each with the reason given in its error message (what the
     * key does there, and what to do here instead).
     */
    static final Map<String, String> VMOD_ONLY_KEYS = vmodOnlyKeys();

    private static Map<String, String> vmodOnlyKeys() {
        String goPrograms = "the VMOD needs it for Go programs; kvmfilter runs Go programs without it, with cgo or "
                + "without (give them max_memory of at least 1024 MiB)";
        String hugePages = "kvmfilter maps the guest's heap with 2 MiB pages already and does not back guests with "
                + "host huge pages";
        String memory = "kvmfilter limits memory with max_memory (the whole VM) and max_request_memory (one request)";
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("remapping", goPrograms);
        keys.put("executable_remapping", goPrograms);
        keys.put("dylink_address_hint", "kvmfilter runs static programs only (static PIE included)");
        keys.put("hugepages", hugePages);
        keys.put("hugepage_arena_size", hugePages);
        keys.put("request_hugepage_arena_size", hugePages);
        keys.put("split_hugepages", hugePages);
        keys.put("executable_heap", "kvmfilter never makes the heap executable: a program cannot write code and run it");
        keys.put("current_working_directory", "kvmfilter programs see no file system");
        keys.put("req_mem_limit_after_reset", "kvmfilter gives idle instances' memory back after trim_idle_time "
                + "instead");
        keys.put("ephemeral_keep_working_memory", "kvmfilter keeps the pages requests wrote until trim_idle_time "
                + "anyway");
        keys.put("max_main_memory", memory);
        keys.put("max_req_mem", memory);
        keys.put("limit_req_mem", memory);
        keys.put("warmup", "kvmfilter's warm-up is warmup_requests, warmup_url and warmup_body");
        keys.put("cold_start_file", "kvmfilter boots programs from their ELF on every start");
        keys.put("verbose", "kvmfilter logs every failure with its cause; the program's own output is in its log");
        keys.put("key", "kvmfilter has no live-update upload; programs reload with \"reload\": true or invalidation");
        keys.put("server", "kvmfilter has no socket server programs yet (connection takeover: issue #16)");
        return java.util.Collections.unmodifiableMap(keys);
    }

    // ---- JSON value parsers: return null for a value of the wrong type or range ----

    private static Object string(JsonNode node) {
        return node.isTextual() && node.textValue().indexOf('\0') < 0 ? node.textValue() : null;
    }

    private static Object nonEmptyString(JsonNode node) {
        Object s = string(node);
        return s instanceof String str && !str.isBlank() ? str : null;
    }

    private static Object bool(JsonNode node) {
        return node.isBoolean() ? node.booleanValue() : null;
    }

    private static Object integer(JsonNode node, long min, long max) {
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
            return null;
        }
        long v = node.longValue();
        return v >= min && v <= max ? v : null;
    }

    private static Object seconds(JsonNode node, boolean zeroAllowed) {
        if (!node.isNumber()) {
            return null;
        }
        BigDecimal s = node.decimalValue();
        boolean aboveMin = zeroAllowed ? s.signum() >= 0 : s.signum() > 0;
        if (!aboveMin || s.compareTo(BigDecimal.valueOf(MAX_SECONDS)) > 0) {
            return null;
        }
        long nanos = s.movePointRight(9).longValue();
        Duration d = Duration.ofNanos(nanos);
        // The core counts milliseconds: a positive time below 1 ms would become "no time at all".
        if (!d.isZero() && d.toMillis() == 0) {
            return null;
        }
        return d;
    }

    private static Object strings(JsonNode node, Pattern each) {
        if (!node.isArray()) {
            return null;
        }
        List<String> out = new ArrayList<>();
        for (JsonNode element : node) {
            if (!element.isTextual() || element.textValue().indexOf('\0') >= 0) {
                return null;
            }
            if (each != null && !each.matcher(element.textValue()).matches()) {
                return null;
            }
            out.add(element.textValue());
        }
        return List.copyOf(out);
    }

    /**
     * allowed_paths: [guest path, host path as written] pairs, or null. A string is both; an object gives "real" and
     * optionally "virtual" (absolute), and "prefix" or "writable" only as false.
     */
    private static Object allowedPaths(JsonNode node) {
        if (!node.isArray() || node.size() > MAX_ALLOWED_PATHS) {
            return null;
        }
        List<List<String>> out = new ArrayList<>();
        for (JsonNode element : node) {
            String real;
            String virtual;
            if (element.isTextual()) {
                real = virtual = element.textValue();
            } else if (element.isObject() && element.path("real").isTextual()) {
                for (Iterator<String> names = element.fieldNames(); names.hasNext(); ) {
                    String name = names.next();
                    boolean off = (name.equals("prefix") || name.equals("writable")) && element.get(name).isBoolean()
                            && !element.get(name).booleanValue();
                    if (!name.equals("real") && !name.equals("virtual") && !off) {
                        return null;
                    }
                }
                real = element.get("real").textValue();
                virtual = element.has("virtual") ? element.get("virtual").textValue() : real;
            } else {
                return null;
            }
            if (real == null || virtual == null || real.isEmpty() || !virtual.startsWith("/") || virtual.equals("/state")
                    || real.indexOf('\0') >= 0 || virtual.indexOf('\0') >= 0) {
                return null;
            }
            out.add(List.of(virtual, real));
        }
        return List.copyOf(out);
    }

    /** egress: an {@link EgressPolicy}, or null when a member is unknown or of the wrong type or range. */
    private static Object egress(JsonNode node) {
        if (!node.isObject() || !node.path("hosts").isArray() || node.get("hosts").isEmpty()) {
            return null;
        }
        Pattern item = Pattern.compile("[^,\\x00]+");
        Object hosts = strings(node.get("hosts"), item);
        Object schemes = node.has("schemes") ? strings(node.get("schemes"), item) : List.of();
        Object addresses = node.has("addresses") ? strings(node.get("addresses"), item) : List.of();
        List<Integer> ports = new ArrayList<>();
        for (JsonNode port : node.path("ports")) {
            Object p = integer(port, 1, 65535);
            if (p == null) {
                return null;
            }
            ports.add(((Long) p).intValue());
        }
        Object size = node.has("max_response_size") ? integer(node.get("max_response_size"), 1, 4095)
                : EgressPolicy.DEFAULT_MAX_RESPONSE_SIZE / MIB;
        Object concurrent = node.has("max_concurrent") ? integer(node.get("max_concurrent"), 1, 4096)
                : (long) EgressPolicy.DEFAULT_MAX_CONCURRENT;
        Object time = node.has("max_time") ? seconds(node.get("max_time"), true) : Duration.ZERO;
        Object redirects = node.has("max_redirects") ? integer(node.get("max_redirects"), 0, 20)
                : (long) EgressPolicy.DEFAULT_MAX_REDIRECTS;
        Object insecure = node.has("insecure_tls") ? bool(node.get("insecure_tls")) : Boolean.FALSE;
        Set<String> known = Set.of("hosts", "schemes", "ports", "addresses", "max_response_size", "max_concurrent",
                "max_time", "max_redirects", "insecure_tls");
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            if (!known.contains(names.next())) {
                return null;
            }
        }
        // Given lists must name something: an empty "ports" or "schemes" would allow nothing at all.
        boolean emptyList = node.has("ports") && (!node.get("ports").isArray() || ports.isEmpty())
                || node.has("schemes") && node.get("schemes").isEmpty();
        if (hosts == null || schemes == null || addresses == null || emptyList || size == null || concurrent == null
                || time == null || redirects == null || insecure == null) {
            return null;
        }
        @SuppressWarnings("unchecked")
        EgressPolicy policy = new EgressPolicy((List<String>) hosts, (List<String>) schemes, ports,
                (List<String>) addresses, (Long) size * MIB, ((Long) concurrent).intValue(), (Duration) time,
                ((Long) redirects).intValue(), (Boolean) insecure);
        return policy;
    }

    /** @return a short description of a JSON value for messages: the value and its JSON type */
    static String describe(JsonNode node) {
        String text = node.toString();
        if (text.length() > 60) {
            text = text.substring(0, 57) + "...";
        }
        String type = node.isTextual() ? "a string" : node.isBoolean() ? "a boolean" : node.isIntegralNumber()
                ? "an integer" : node.isNumber() ? "a decimal number" : node.isArray() ? "an array"
                : node.isObject() ? "an object" : node.isNull() ? "null" : "a " + node.getNodeType();
        return text + " (" + type + ")";
    }

    // ---- from layered settings to a definition ----

    @SuppressWarnings("unchecked")
    static ProgramDefinition definition(String name, String group, Map<String, Object> settings) {
        long maxMemory = Math.max(mib(settings, "max_memory", DEFAULT_MAX_MEMORY_MIB), mib(settings, "address_space", 0));
        long maxRequestMemory = mib(settings, "max_request_memory", DEFAULT_MAX_REQUEST_MEMORY_MIB);
        Duration maxRequestTime = (Duration) settings.getOrDefault("max_request_time", DEFAULT_MAX_REQUEST_TIME);
        if (maxRequestMemory > maxMemory) {
            throw new KvmConfigurationException("Program '" + name + "': max_request_memory (" + maxRequestMemory / MIB
                    + " MiB) is larger than max_memory (" + maxMemory / MIB + " MiB); allowed: at most max_memory");
        }
        URI source = (URI) settings.get(SOURCE);
        Optional<String> sha256 = Optional.ofNullable((String) settings.get("sha256"));
        if (source != null && "https".equals(source.getScheme())) {
            source = ProgramDownloads.pinned("Program '" + name + "'", source, sha256);
            sha256 = Optional.of(source.getFragment().substring("sha256=".length()));
        }
        return new ProgramDefinition(
                name,
                group,
                source,
                sha256,
                Math.toIntExact((Long) settings.getOrDefault("concurrency", (long) DEFAULT_CONCURRENCY)),
                (Duration) settings.getOrDefault("max_boot_time", DEFAULT_MAX_BOOT_TIME),
                maxRequestTime,
                (Duration) settings.getOrDefault("on_error_time", DEFAULT_ON_ERROR_TIME),
                // Without queue_timeout a request waits up to one request time for a free instance.
                (Duration) settings.getOrDefault("queue_timeout", maxRequestTime),
                maxMemory,
                maxRequestMemory,
                mib(settings, "max_response_size", DEFAULT_MAX_RESPONSE_SIZE_MIB),
                Math.toIntExact((Long) settings.getOrDefault("max_queue", (long) DEFAULT_MAX_QUEUE)),
                (Boolean) settings.getOrDefault("ephemeral", DEFAULT_EPHEMERAL),
                (Boolean) settings.getOrDefault("debug", false),
                (List<String>) settings.getOrDefault("main_arguments", List.of()),
                (List<String>) settings.getOrDefault("environment", List.of()),
                (Boolean) settings.getOrDefault("start", false),
                (Boolean) settings.getOrDefault("reload", false),
                Math.toIntExact((Long) settings.getOrDefault("warmup_requests", 0L)),
                (String) settings.getOrDefault("warmup_url", DEFAULT_WARMUP_URL),
                Optional.ofNullable((URI) settings.get(WARMUP_SOURCE)),
                (String) settings.getOrDefault("warmup_content_type", DEFAULT_WARMUP_CONTENT_TYPE),
                (Duration) settings.getOrDefault("trim_idle_time", DEFAULT_TRIM_IDLE_TIME),
                // A program is assumed to read its URL unless its library entry says otherwise.
                (Boolean) settings.getOrDefault("reads_url", true),
                mib(settings, "shared_memory", 0),
                (Boolean) settings.getOrDefault("storage", false),
                Optional.ofNullable((java.nio.file.Path) settings.get(STATE_FILE)),
                (Map<String, java.nio.file.Path>) settings.getOrDefault("allowed_paths", Map.of()),
                mib(settings, "max_storage_memory", 0),
                (Duration) settings.getOrDefault("max_storage_time", Duration.ZERO),
                Optional.ofNullable((EgressPolicy) settings.get("egress")));
    }

    private static long mib(Map<String, Object> settings, String key, long defaultMib) {
        return (Long) settings.getOrDefault(key, defaultMib) * MIB;
    }
}
