package io.kvmfilter.filter;

import static io.kvmfilter.filter.KvmFilterConfig.PARAMETERS;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_CACHE_DIRECTORY;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_CACHE_DIRECTORY_SIZE;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_CACHE_SIZE;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_CACHE_TIME_TO_LIVE;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_MAX_WAIT;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_MAX_WAITERS;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_RUN_WAIT;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_PAUSE_AFTER_FAILURES;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_PAUSE_TIME;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_REMEMBER_FAILURES;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_SHARED_CACHE;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_SHARED_CACHE_CONFIG;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_SHARED_CACHE_MAX_ENTRY_SIZE;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_SHARED_CACHE_NAME;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_SHARED_CACHE_CLAIM_TIME;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_SHARED_CACHE_TIMEOUT;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_DIAGNOSTIC_HEADER;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_PROGRAM_HEADERS;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_EXCLUDED_METHODS;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_EXCLUDED_MIME_TYPES;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_EXCLUDED_PATHS;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_HEAD_AS_GET;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_IMAGE_OPTIONS;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_INCLUDED_METHODS;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_INCLUDED_MIME_TYPES;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_INCLUDED_PATHS;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_LIBRARY;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_MAX_BODY_SIZE;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_MAX_PIXELS;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_MIN_BODY_SIZE;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_PROGRAM_SETTINGS;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_QUEUE_TIMEOUT;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_REQUIRE_SMALLER;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_SELF_REQUESTS;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_RULES;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_STATUSES;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_TIMEOUT;
import static io.kvmfilter.filter.KvmFilterConfig.PARAM_VARIANTS_FOR_WILDCARDS;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text form of the configuration: one parameter name and its text value, as init-params, context-params and
 * MicroProfile Config give them ({@code maxBodySize = 8MiB}, {@code timeout = 500ms}). Parses the text and sets
 * the typed value on a {@link KvmFilterConfig.Builder}, which checks it; the typed builder knows nothing of text.
 * The same parsers read {@link ProgramServlet}'s and {@link KvmStatsServlet}'s parameters.
 */
final class KvmFilterSpec {

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(|B|KiB|MiB|GiB|k|K|M|G)");
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m)");
    private static final Pattern SETTING = Pattern.compile("([A-Za-z0-9_.-]+?)\\.([A-Za-z0-9_]+)\\s*=\\s*(.*)");

    private KvmFilterSpec() {
    }

    /**
     * Sets one parameter from its text form.
     *
     * @param name one of {@link KvmFilterConfig#PARAMETERS}
     * @throws InvalidParameterException naming the parameter, the value and what is allowed
     */
    static void apply(KvmFilterConfig.Builder builder, String name, String text) {
        String v = text.trim();
        switch (name) {
            case PARAM_RULES -> builder.rules(v);
            case PARAM_INCLUDED_PATHS -> builder.includedPaths(list(v));
            case PARAM_EXCLUDED_PATHS -> builder.excludedPaths(list(v));
            case PARAM_INCLUDED_MIME_TYPES -> builder.includedMimeTypes(list(v));
            case PARAM_EXCLUDED_MIME_TYPES -> builder.excludedMimeTypes(list(v));
            case PARAM_INCLUDED_METHODS -> builder.includedMethods(list(v));
            case PARAM_EXCLUDED_METHODS -> builder.excludedMethods(list(v));
            case PARAM_STATUSES -> builder.statuses(parseStatuses(v));
            case PARAM_MIN_BODY_SIZE -> builder.minBodySize(parseSize(name, v));
            case PARAM_MAX_BODY_SIZE -> builder.maxBodySize(parseSize(name, v));
            case PARAM_MAX_PIXELS -> builder.maxPixels(parseCount(name, v));
            case PARAM_CACHE_SIZE -> builder.cacheSize(parseSize(name, v));
            case PARAM_CACHE_TIME_TO_LIVE -> builder.cacheTimeToLive(v.equalsIgnoreCase("none") ? null
                    : parseDuration(name, v));
            case PARAM_REMEMBER_FAILURES -> builder.rememberFailures(parseDuration(name, v));
            case PARAM_CACHE_DIRECTORY -> builder.cacheDirectory(parsePath(name, v));
            case PARAM_CACHE_DIRECTORY_SIZE -> builder.cacheDirectorySize(parseSize(name, v));
            case PARAM_SHARED_CACHE -> builder.sharedCache(v, builder.sharedCacheConfigValue(),
                    builder.sharedCacheNameValue());
            case PARAM_SHARED_CACHE_CONFIG -> builder.sharedCache(builder.sharedCacheValue(),
                    parseUri(name, v), builder.sharedCacheNameValue());
            case PARAM_SHARED_CACHE_NAME -> builder.sharedCache(builder.sharedCacheValue(),
                    builder.sharedCacheConfigValue(), v);
            case PARAM_SHARED_CACHE_MAX_ENTRY_SIZE -> builder.sharedCacheLimits(parseSize(name, v),
                    builder.sharedCacheTimeoutValue());
            case PARAM_SHARED_CACHE_TIMEOUT -> builder.sharedCacheLimits(builder.sharedCacheMaxEntrySizeValue(),
                    parseDuration(name, v));
            case PARAM_SHARED_CACHE_CLAIM_TIME -> builder.sharedCacheClaimTime(parseDuration(name, v));
            case PARAM_MAX_WAITERS -> builder.maxWaiters(Math.toIntExact(Math.min(Integer.MAX_VALUE,
                    parseCount(name, v))));
            case PARAM_MAX_WAIT -> builder.maxWait(parseDuration(name, v));
            case PARAM_RUN_WAIT -> builder.runWait(parseDuration(name, v));
            case PARAM_PAUSE_AFTER_FAILURES -> builder.pauseAfterFailures(Math.toIntExact(Math.min(
                    Integer.MAX_VALUE, parseCount(name, v))), builder.pauseTimeValue());
            case PARAM_PAUSE_TIME -> builder.pauseAfterFailures(builder.pauseAfterFailuresValue(),
                    parseDuration(name, v));
            case PARAM_HEAD_AS_GET -> builder.headAsGet(parseBoolean(name, v));
            case PARAM_VARIANTS_FOR_WILDCARDS -> builder.variantsForWildcards(parseBoolean(name, v));
            case PARAM_REQUIRE_SMALLER -> builder.requireSmaller(parseBoolean(name, v));
            case PARAM_SELF_REQUESTS -> builder.selfRequests(parseBoolean(name, v));
            case PARAM_DIAGNOSTIC_HEADER -> builder.diagnosticHeader(v);
            case PARAM_PROGRAM_HEADERS -> builder.programHeaders(v.isBlank() ? new String[0] : v.trim().split("[,\\s]+"));
            case PARAM_LIBRARY -> builder.library(parseUri(name, v));
            case PARAM_PROGRAM_SETTINGS -> programSettings(builder, v);
            case PARAM_TIMEOUT -> builder.timeout(parseDuration(name, v));
            case PARAM_QUEUE_TIMEOUT -> builder.queueTimeout(parseDuration(name, v));
            case PARAM_IMAGE_OPTIONS -> builder.imageOptions(list(v));
            default -> {
                if (!KvmFilterConfig.IMAGE_OPTION_SETTINGS.contains(name)) {
                    throw new IllegalArgumentException("unknown kvmfilter parameter '" + name
                            + "': allowed are " + String.join(", ", PARAMETERS));
                }
                builder.imageOptionSetting(name, v);
            }
        }
    }

    /**
     * {@code program.key=value} entries separated by ';' or new lines; values are booleans, numbers, JSON objects
     * or arrays (for keys such as {@code egress}), or text.
     */
    private static void programSettings(KvmFilterConfig.Builder builder, String text) {
        for (String entry : text.split("[;\\n]")) {
            String trimmed = entry.trim();
            if (trimmed.isEmpty()) {
                continue;
            }
            Matcher m = SETTING.matcher(trimmed);
            if (!m.matches()) {
                throw new InvalidParameterException(PARAM_PROGRAM_SETTINGS, trimmed,
                        "entries 'program.key=value' separated by ';' or new lines");
            }
            builder.programSetting(m.group(1), m.group(2), settingValue(trimmed, m.group(3).trim()));
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private static Object settingValue(String entry, String text) {
        if (text.startsWith("{") || text.startsWith("[")) {
            try {
                return JSON.readValue(text, Object.class);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new InvalidParameterException(PARAM_PROGRAM_SETTINGS, entry, "a value starting with '"
                        + text.charAt(0) + "' must be JSON (an object or an array): "
                        + e.getOriginalMessage());
            }
        }
        if (text.equals("true") || text.equals("false")) {
            return Boolean.valueOf(text);
        }
        if (text.matches("-?\\d{1,18}")) {
            return Long.valueOf(text);
        }
        if (text.matches("-?\\d+\\.\\d+")) {
            return Double.valueOf(text);
        }
        return text;
    }

    /** Items separated by commas and/or white space. */
    private static String[] list(String text) {
        List<String> items = new ArrayList<>();
        for (String item : text.split("[,\\s]+")) {
            if (!item.isEmpty()) {
                items.add(item);
            }
        }
        return items.toArray(String[]::new);
    }

    private static List<Integer> parseStatuses(String text) {
        List<Integer> codes = new ArrayList<>();
        for (String item : list(text)) {
            try {
                codes.add(Integer.parseInt(item));
            } catch (NumberFormatException e) {
                throw new InvalidParameterException(PARAM_STATUSES, item,
                        "status codes such as 200, separated by commas");
            }
        }
        return codes;
    }

    /** A byte count with an optional unit: 65536, 512KiB, 8MiB, 1GiB (k, K, M, G mean the same). */
    static long parseSize(String param, String text) {
        Matcher m = SIZE.matcher(text);
        if (!m.matches()) {
            throw new InvalidParameterException(param, text,
                    "a byte count with an optional unit: 65536, 512KiB, 8MiB, 1GiB");
        }
        long unit = switch (m.group(2)) {
            case "KiB", "k", "K" -> 1024L;
            case "MiB", "M" -> 1024L * 1024;
            case "GiB", "G" -> 1024L * 1024 * 1024;
            default -> 1L;
        };
        try {
            return Math.multiplyExact(Long.parseLong(m.group(1)), unit);
        } catch (ArithmeticException | NumberFormatException e) {
            throw new InvalidParameterException(param, text, "a byte count of at most 1GiB");
        }
    }

    /** A whole number; '_' may group digits (50_000_000). */
    static long parseCount(String param, String text) {
        try {
            return Long.parseLong(text.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new InvalidParameterException(param, text, "a whole number such as 50000000");
        }
    }

    /** A duration in ms, s or m: 500ms, 5s, 2m. */
    static Duration parseDuration(String param, String text) {
        Matcher m = DURATION.matcher(text);
        if (!m.matches()) {
            throw new InvalidParameterException(param, text, "a duration such as 500ms, 5s or 2m");
        }
        long amount;
        try {
            amount = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new InvalidParameterException(param, text, "a duration such as 500ms, 5s or 2m");
        }
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            default -> Duration.ofMinutes(amount);
        };
    }

    /** true or false, in any case. */
    static boolean parseBoolean(String param, String text) {
        if (text.equalsIgnoreCase("true")) {
            return true;
        }
        if (text.equalsIgnoreCase("false")) {
            return false;
        }
        throw new InvalidParameterException(param, text, "true or false");
    }

    private static URI parseUri(String param, String text) {
        try {
            return new URI(text);
        } catch (URISyntaxException e) {
            throw new InvalidParameterException(param, text, "a file: or classpath: URI (" + e.getReason() + ")");
        }
    }

    /** A directory path; relative paths are resolved against the working directory. */
    private static Path parsePath(String param, String text) {
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            throw new InvalidParameterException(param, text, "a directory path (" + e.getReason() + ")");
        }
    }
}
