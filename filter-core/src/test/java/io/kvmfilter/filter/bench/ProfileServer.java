package io.kvmfilter.filter.bench;

import io.kvmfilter.filter.KvmFilter;
import io.kvmfilter.filter.KvmFilterConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One of {@link FilterBenchmark}'s servers alone in its JVM, so that a profiler attached to the process sees only
 * that server: {@code plain} (no filter), {@code filter} (result cache off) or {@code cached} (default cache), with
 * the benchmark's rules and settings, serving the benchmark's 1 KB JSON at {@code /data.json}. Prints the URL and
 * runs until killed. Used for the profile in docs/benchmarks.md:
 * <pre>
 * java -XX:+PreserveFramePointer -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit -cp ... \
 *     io.kvmfilter.filter.bench.ProfileServer filter &amp;
 * wrk -t 2 -c 16 -d 40s -H 'Accept: application/json' URL &amp;   # then, after 30 s of warm-up:
 * perf record -F 999 -g -p PID -- sleep 10
 * </pre>
 */
public final class ProfileServer {

    private ProfileServer() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length == 1 ? args[0] : "";
        long cacheSize = switch (mode) {
            case "plain", "filter" -> 0;
            case "cached" -> KvmFilterConfig.DEFAULT_CACHE_SIZE;
            default -> throw new IllegalArgumentException("usage: ProfileServer plain|filter|cached");
        };
        Path files = Files.createTempDirectory("kvmfilter-profile");
        files.toFile().deleteOnExit();
        Path json = Files.write(files.resolve("data.json"), FilterBenchmark.oneKilobyteJson());
        json.toFile().deleteOnExit();
        KvmFilter filter = mode.equals("plain") ? null : new KvmFilter(KvmFilterConfig.builder()
                .rules(FilterBenchmark.JSON_RULE)
                .cacheSize(cacheSize)
                .queueTimeout(FilterBenchmark.QUEUE_TIMEOUT)
                .programSetting("minify", "concurrency", FilterBenchmark.DEFAULT_CONCURRENCY)
                .build());
        BenchServer server = new BenchServer(files, filter);
        System.out.println(server.url("/data.json"));
        Thread.sleep(Long.MAX_VALUE);
    }
}
