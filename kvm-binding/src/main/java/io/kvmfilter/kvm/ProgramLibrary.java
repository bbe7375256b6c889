package io.kvmfilter.kvm;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * An immutable set of program definitions, read from a JSON document in the TinyKVM VMOD's library
 * format: a top-level object whose entries are groups (settings shared by programs) or programs (entries
 * with {@code "group"}, {@code "filename"} or {@code "uri"}). A program takes its group's settings
 * (the built-in defaults when it names no group) and overrides them with its own. Comments are allowed;
 * unknown keys, wrong types and out-of-range values are errors naming the program and key.
 *
 * <pre>{@code
 * {
 *   "images": { "concurrency": 2, "max_request_time": 8.0, "max_memory": 512 },
 *   "webp":   { "group": "images", "uri": "bundled:webp" },
 *   "thumbs": { "group": "images", "filename": "programs/thumbs", "sha256": "…", "start": true }
 * }
 * }</pre>
 *
 * Keys (units as in the VMOD): concurrency, max_boot_time, max_request_time, on_error_time, queue_timeout
 * (seconds, decimals allowed), max_memory, max_request_memory, max_response_size (MiB), max_queue,
 * ephemeral, debug, reads_url, start, reload, main_arguments, environment, warmup_requests, warmup_url, warmup_body,
 * warmup_content_type, trim_idle_time, storage, shared_memory (MiB); for programs
 * only: group, filename, uri, sha256, state_file. See {@link ProgramDefinition} for their meaning and docs/java-api.md
 * for defaults.
 */
public final class ProgramLibrary {
    /** Class path resource of the bundled library ({@link #bundled()}). */
    static final String BUNDLED_LIBRARY = "io/kvmfilter/kvm/bundled-programs.json";
    /** Class path folder of the bundled programs ("bundled:NAME" sources). */
    static final String BUNDLED_PROGRAMS = "io/kvmfilter/programs/";

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** A program's layered settings (kept so configure() can override them) and its definition. */
    private record Entry(Map<String, Object> settings, ProgramDefinition definition) {
    }

    private final Map<String, Entry> programs;
    private final URI base;

    private ProgramLibrary(Map<String, Entry> programs, URI base) {
        this.programs = Collections.unmodifiableMap(programs);
        this.base = base;
    }

    /** @return the library bundled with kvm-binding: webp, avif and minify with working defaults */
    public static ProgramLibrary bundled() {
        return load(URI.create("classpath:" + BUNDLED_LIBRARY));
    }

    /** @return a library with no programs, to build on with {@link #configure} */
    public static ProgramLibrary empty() {
        return new ProgramLibrary(new LinkedHashMap<>(), null);
    }

    /**
     * Reads a library from a file:, classpath: or https: URI. An https: URI must end with {@code #sha256=HEX}, the
     * document's SHA-256: it is fetched once, kept in the download directory and verified at every read.
     *
     * @throws KvmConfigurationException when it cannot be read or is invalid
     */
    public static ProgramLibrary load(URI location) {
        Objects.requireNonNull(location, "location");
        URI source = location;
        if ("https".equals(location.getScheme())) {
            source = ProgramDownloads.pinned("Program library",
                    ProgramDownloads.check("Program library", location.toString()), Optional.empty());
        }
        return parse(new String(ProgramFiles.read(source, "program library"), StandardCharsets.UTF_8), source);
    }

    /**
     * Parses a library document.
     *
     * @param json the JSON document
     * @param base where relative filenames are resolved from (the document's own location), or null for
     *     the working directory
     * @throws KvmConfigurationException naming the program (or group), key, value and what is allowed
     */
    public static ProgramLibrary parse(String json, URI base) {
        Objects.requireNonNull(json, "json");
        String where = base == null ? "Program library" : "Program library " + base;
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new KvmConfigurationException(where + " is not valid JSON: " + e.getOriginalMessage() + " at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr(), e);
        }
        if (root == null || !root.isObject()) {
            throw new KvmConfigurationException(where + " must be a JSON object of groups and programs, got "
                    + (root == null ? "nothing" : Settings.describe(root)));
        }
        Map<String, Map<String, Object>> groups = new LinkedHashMap<>();
        groups.put(Settings.DEFAULT_GROUP, new LinkedHashMap<>());
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            requireObject(where, e.getKey(), e.getValue());
            if (!isProgram(e.getValue())) {
                Map<String, Object> group = groups.computeIfAbsent(e.getKey(), k -> new LinkedHashMap<>());
                applyKeys(where, "Group '" + e.getKey() + "'", (ObjectNode) e.getValue(), group, false, base);
            }
        }
        Map<String, Entry> programs = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (isProgram(e.getValue())) {
                String name = e.getKey();
                String owner = "Program '" + name + "'";
                checkName(where, name);
                JsonNode groupNode = e.getValue().get("group");
                String groupName = Settings.DEFAULT_GROUP;
                if (groupNode != null) {
                    if (!groupNode.isTextual()) {
                        throw new KvmConfigurationException(where + ": " + owner + ": key \"group\" must be "
                                + Settings.KEYS.get("group").allowed() + ", got " + Settings.describe(groupNode));
                    }
                    groupName = groupNode.textValue();
                }
                Map<String, Object> group = groups.get(groupName);
                if (group == null) {
                    throw new KvmConfigurationException(where + ": " + owner + ": group '" + groupName
                            + "' is not defined; defined groups: " + String.join(", ", new TreeMap<>(groups).keySet()));
                }
                Map<String, Object> settings = new LinkedHashMap<>(group);
                applyKeys(where, owner, (ObjectNode) e.getValue(), settings, true, base);
                settings.put("group", groupName);
                programs.put(name, entry(where, name, settings));
            }
        }
        return new ProgramLibrary(programs, base);
    }

    /**
     * @return a library with this library's programs and other's, other's definitions replacing same-named ones
     */
    public ProgramLibrary merge(ProgramLibrary other) {
        Map<String, Entry> merged = new LinkedHashMap<>(programs);
        merged.putAll(other.programs);
        return new ProgramLibrary(merged, other.base != null ? other.base : base);
    }

    /**
     * Overrides settings of one program, as the VMOD's configure(): the keys and JSON types of a library
     * entry, given as Java values (Number, Boolean, String, List of String). The group cannot be changed;
     * a program not yet defined is added when the overrides give "filename" or "uri" (and optionally "group").
     *
     * @return a new library with the program changed or added
     * @throws KvmConfigurationException naming the program, key, value and what is allowed
     */
    public ProgramLibrary configure(String program, Map<String, Object> overrides) {
        Objects.requireNonNull(program, "program");
        Objects.requireNonNull(overrides, "overrides");
        String where = "configure(\"" + program + "\")";
        String owner = "Program '" + program + "'";
        JsonNode node;
        try {
            node = JSON.valueToTree(overrides);
        } catch (IllegalArgumentException e) {
            throw new KvmConfigurationException(where + ": the overrides cannot be expressed as JSON: " + e.getMessage(), e);
        }
        Entry existing = programs.get(program);
        Map<String, Object> settings;
        if (existing != null) {
            if (node.has("group")) {
                throw new KvmConfigurationException(where + ": " + owner + ": key \"group\" cannot be changed by configure;"
                        + " its group's settings were applied when the library was read. Set the settings themselves");
            }
            settings = new LinkedHashMap<>(existing.settings());
        } else {
            checkName(where, program);
            if (!node.has("filename") && !node.has("uri")) {
                throw new KvmConfigurationException(where + ": " + owner + " is not in the library (programs: "
                        + String.join(", ", new TreeMap<>(programs).keySet())
                        + "); to add it, give \"filename\" or \"uri\"");
            }
            if (node.has("group")) {
                throw new KvmConfigurationException(where + ": " + owner + ": key \"group\" is not available in configure;"
                        + " a program added by configure starts from the built-in defaults");
            }
            settings = new LinkedHashMap<>();
            settings.put("group", Settings.DEFAULT_GROUP);
        }
        applyKeys(where, owner, (ObjectNode) node, settings, true, base);
        Map<String, Entry> changed = new LinkedHashMap<>(programs);
        changed.put(program, entry(where, program, settings));
        return new ProgramLibrary(changed, base);
    }

    /** @return the program names, in library order */
    public Set<String> programNames() {
        return programs.keySet();
    }

    /**
     * @return the effective definition of a program
     * @throws IllegalArgumentException when the library has no such program
     */
    public ProgramDefinition program(String name) {
        Entry entry = programs.get(name);
        if (entry == null) {
            throw new IllegalArgumentException("No program '" + name + "' in the library; programs: "
                    + String.join(", ", programs.keySet()));
        }
        return entry.definition();
    }

    /**
     * What a program's output depends on besides its request: the SHA-256 of its binary (read now), its main
     * arguments and its environment. A result cache that outlives the process puts it into its keys, so results of
     * an older binary or other settings are never served.
     *
     * @param name the program
     * @return a short text that changes when any of those changes
     * @throws IllegalArgumentException when the library has no such program
     * @throws KvmConfigurationException when the binary cannot be read
     */
    public String outputIdentity(String name) {
        ProgramDefinition definition = program(name);
        byte[] binary = ProgramFiles.read(definition.source(), "program '" + name + "'");
        return "sha256=" + ProgramFiles.sha256(binary) + " args=" + definition.mainArguments() + " env="
                + definition.environment();
    }

    @Override
    public String toString() {
        return "ProgramLibrary" + programs.keySet();
    }

    // ---- parsing helpers ----

    /** The VMOD's rule: an entry with any of these keys defines a program, otherwise a group. */
    private static boolean isProgram(JsonNode entry) {
        return entry.has("group") || entry.has("filename") || entry.has("uri");
    }

    private static void requireObject(String where, String name, JsonNode value) {
        if (!value.isObject()) {
            throw new KvmConfigurationException(where + ": entry '" + name + "' must be an object (a group, or a program"
                    + " with \"group\", \"filename\" or \"uri\"), got " + Settings.describe(value));
        }
    }

    private static void checkName(String where, String name) {
        if (name.isBlank() || name.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new KvmConfigurationException(where + ": program name \"" + name
                    + "\" is not allowed; give a non-blank name without control characters");
        }
    }

    private static Entry entry(String where, String name, Map<String, Object> settings) {
        if (!settings.containsKey(Settings.SOURCE)) {
            throw new KvmConfigurationException(where + ": Program '" + name
                    + "' has no \"filename\" or \"uri\", so it cannot be loaded; give one of them");
        }
        try {
            return new Entry(settings, Settings.definition(name, (String) settings.get("group"), settings));
        } catch (KvmConfigurationException e) {
            throw new KvmConfigurationException(where + ": " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static void applyKeys(String where, String owner, ObjectNode object, Map<String, Object> settings,
            boolean program, URI base) {
        for (Map.Entry<String, JsonNode> e : object.properties()) {
            String key = e.getKey();
            JsonNode value = e.getValue();
            Settings.Key spec = Settings.KEYS.get(key);
            if (spec == null) {
                String vmodReason = Settings.VMOD_ONLY_KEYS.get(key);
                if (vmodReason != null) {
                    throw new KvmConfigurationException(where + ": " + owner + ": key \"" + key
                            + "\" is a TinyKVM VMOD setting that kvmfilter does not support: " + vmodReason
                            + "; remove it");
                }
                throw new KvmConfigurationException(where + ": " + owner + ": unknown key \"" + key + "\""
                        + suggestion(key) + "; allowed keys: " + String.join(", ", Settings.KEYS.keySet()));
            }
            if (spec.scope() == Settings.Scope.PROGRAM_ONLY && !program) {
                throw new KvmConfigurationException(where + ": " + owner + ": key \"" + key + "\" is only allowed in a"
                        + " program (an entry with \"group\", \"filename\" or \"uri\")");
            }
            Object parsed = spec.parser().parse(value);
            if (parsed == null) {
                throw new KvmConfigurationException(where + ": " + owner + ": key \"" + key + "\" must be "
                        + spec.allowed() + ", got " + Settings.describe(value));
            }
            if (key.equals("filename") || key.equals("uri")) {
                String other = key.equals("filename") ? "uri" : "filename";
                if (object.has(other)) {
                    throw new KvmConfigurationException(where + ": " + owner + ": give either \"filename\" or \"uri\","
                            + " not both (\"filename\" is a path, \"uri\" a file:, classpath:, bundled: or https: URI)");
                }
                settings.put(Settings.SOURCE, key.equals("uri")
                        ? ProgramFiles.resolveUri(where + ": " + owner + ": key \"uri\"", (String) parsed, base)
                        : ProgramFiles.resolveFilename((String) parsed, base));
            } else if (key.equals("state_file")) {
                settings.put(Settings.STATE_FILE, hostPath(where + ": " + owner, key, (String) parsed, base));
            } else if (key.equals("allowed_paths")) {
                Map<String, java.nio.file.Path> files = new LinkedHashMap<>();
                for (List<String> pair : (List<List<String>>) parsed) {
                    if (files.put(pair.get(0), hostPath(where + ": " + owner, key, pair.get(1), base)) != null) {
                        throw new KvmConfigurationException(where + ": " + owner + ": key \"allowed_paths\" names \""
                                + pair.get(0) + "\" twice");
                    }
                }
                settings.put(key, Collections.unmodifiableMap(files));
            } else if (key.equals("warmup_body")) {
                String body = (String) parsed;
                settings.put(Settings.WARMUP_SOURCE, body.matches("(file|classpath|bundled):.*")
                        ? ProgramFiles.resolveUri(where + ": " + owner + ": key \"warmup_body\"", body, base)
                        : ProgramFiles.resolveFilename(body, base));
            } else if (!key.equals("group")) {
                settings.put(key, parsed);
            }
        }
    }

    /** A host file's path: absolute, or relative to the library's directory (to the working one otherwise). */
    private static java.nio.file.Path hostPath(String where, String key, String value, URI base) {
        try {
            java.nio.file.Path path = java.nio.file.Path.of(value);
            if (!path.isAbsolute() && base != null && "file".equals(base.getScheme())) {
                java.nio.file.Path dir = java.nio.file.Path.of(base).getParent();
                path = dir == null ? path : dir.resolve(path);
            }
            return path.toAbsolutePath().normalize();
        } catch (IllegalArgumentException e) { // InvalidPathException, or a base that is not a file
            throw new KvmConfigurationException(where + ": key \"" + key + "\": \"" + value + "\" is not a valid file path: "
                    + e.getMessage(), e);
        }
    }

    /** @return ", did you mean "x"?" for a key within two edits of a known key, else "" */
    private static String suggestion(String key) {
        for (String known : Settings.KEYS.keySet()) {
            if (editDistance(key, known) <= 2) {
                return " (did you mean \"" + known + "\"?)";
            }
        }
        return "";
    }

    private static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
