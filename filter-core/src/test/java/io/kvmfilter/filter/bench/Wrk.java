package io.kvmfilter.filter.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs the {@code wrk} load generator against one URL and reads the figures the benchmark reports. */
final class Wrk {

    /** What one wrk run measured. Latencies in microseconds. */
    record Result(List<String> command, double requestsPerSecond, long requests, double p50Micros,
            double p99Micros, long socketErrors, long non2xx, String output) {
    }

    private static final Pattern REQUESTS_PER_SECOND = Pattern.compile("(?m)^Requests/sec:\\s+([0-9.]+)");
    private static final Pattern REQUESTS = Pattern.compile("(?m)^\\s*([0-9]+) requests in ");
    private static final Pattern PERCENTILE = Pattern.compile("(?m)^\\s+(50|99)%\\s+([0-9.]+)(us|ms|s|m)\\s*$");
    private static final Pattern SOCKET_ERRORS = Pattern.compile(
            "Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)");
    private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses: ([0-9]+)");

    private Wrk() {
    }

    /**
     * Runs {@code wrk -t threads -c connections -d seconds --latency --timeout timeout -H 'Accept: accept' url}.
     * The process is killed if it runs much longer than asked, so a stuck run cannot hang the benchmark.
     */
    static Result run(String url, String accept, int connections, int seconds, int timeoutSeconds)
            throws IOException, InterruptedException {
        // One wrk thread per core at most: the machine has 2 cores and the server needs them too.
        int threads = Math.min(connections, 2);
        List<String> command = List.of("wrk", "-t", Integer.toString(threads), "-c", Integer.toString(connections),
                "-d", seconds + "s", "--latency", "--timeout", timeoutSeconds + "s", "-H", "Accept: " + accept, url);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output;
        try (InputStream in = process.getInputStream()) {
            ByteArrayOutputStream collected = new ByteArrayOutputStream();
            in.transferTo(collected);
            output = collected.toString();
        }
        if (!process.waitFor(seconds + timeoutSeconds + 30L, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException("wrk did not finish: " + String.join(" ", command));
        }
        if (process.exitValue() != 0) {
            throw new IOException("wrk exited with " + process.exitValue() + ": " + String.join(" ", command)
                    + "\n" + output);
        }
        return parse(command, output);
    }

    static Result parse(List<String> command, String output) {
        double p50 = Double.NaN;
        double p99 = Double.NaN;
        Matcher m = PERCENTILE.matcher(output);
        while (m.find()) {
            double micros = toMicros(Double.parseDouble(m.group(2)), m.group(3));
            if (m.group(1).equals("50")) {
                p50 = micros;
            } else {
                p99 = micros;
            }
        }
        long socketErrors = 0;
        Matcher errors = SOCKET_ERRORS.matcher(output);
        if (errors.find()) {
            for (int group = 1; group <= 4; group++) {
                socketErrors += Long.parseLong(errors.group(group));
            }
        }
        Matcher non2xx = NON_2XX.matcher(output);
        return new Result(new ArrayList<>(command), number(REQUESTS_PER_SECOND, output, command),
                (long) number(REQUESTS, output, command), p50, p99, socketErrors,
                non2xx.find() ? Long.parseLong(non2xx.group(1)) : 0, output);
    }

    private static double number(Pattern pattern, String output, List<String> command) {
        Matcher m = pattern.matcher(output);
        if (!m.find()) {
            throw new IllegalStateException("wrk output has no match for " + pattern + " (" + String.join(" ", command)
                    + "):\n" + output);
        }
        return Double.parseDouble(m.group(1));
    }

    private static double toMicros(double value, String unit) {
        return switch (unit) {
            case "us" -> value;
            case "ms" -> value * 1e3;
            case "s" -> value * 1e6;
            case "m" -> value * 60e6;
            default -> throw new IllegalArgumentException("unknown wrk time unit " + unit);
        };
    }

    /** A latency for the table: microseconds below 1 ms, milliseconds below 10 s. */
    static String formatLatency(double micros) {
        if (Double.isNaN(micros)) {
            return "n/a";
        }
        if (micros < 1000) {
            return String.format(Locale.ROOT, "%.0f µs", micros);
        }
        if (micros < 10_000) {
            return String.format(Locale.ROOT, "%.2f ms", micros / 1e3);
        }
        if (micros < 10_000_000) {
            return String.format(Locale.ROOT, "%.0f ms", micros / 1e3);
        }
        return String.format(Locale.ROOT, "%.1f s", micros / 1e6);
    }
}
