package io.kvmfilter.filter.bench;

import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.ProgramLibrary;
import io.kvmfilter.kvm.Request;
import io.kvmfilter.kvm.Result;
import io.kvmfilter.kvm.Step;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.locks.LockSupport;

/**
 * Does host code run slower right after a sandbox call? Times the same piece of Java work on one thread right
 * after another run of itself, right after a minify call in the sandbox, and (controls) right after an 85 us busy
 * wait and an 85 us sleep, and prints the medians as a Markdown table. The works: loads spread over many pages
 * (bound by the TLB) and loads within a few pages (bound by the data caches).
 *
 * <p>A program, not a test: after {@code filter-core/bench/run.sh} has written the class path,
 * {@code cp=filter-core/target; java -cp $cp/test-classes:$cp/classes:$(cat $cp/bench-classpath.txt)
 * io.kvmfilter.filter.bench.AfterGuestCost}
 */
public final class AfterGuestCost {

    private static final int ROUNDS = 10_000;
    private static final int STEPS = 2_000;
    private static final long GAP_NANOS = 85_000;
    /** 8 MiB of ints, visited one page at a time: more pages than the TLB holds. */
    private static final int[] NEXT_WIDE = permutation(2 * 1024 * 1024, 1024, 1);
    /** 256 KiB of ints, visited in random order: 64 pages. */
    private static final int[] NEXT_NARROW = permutation(64 * 1024, 1, 2);
    private static int position;

    private AfterGuestCost() {
    }

    /** A piece of host work, timed on its own. */
    private interface Work {
        void run();
    }

    /** What runs between two pieces of work. */
    private interface Gap {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        byte[] json = FilterBenchmark.oneKilobyteJson();
        ProgramLibrary library = ProgramLibrary.bundled().configure("minify", Map.<String, Object>of("concurrency", 1));
        try (Kvm kvm = Kvm.start(library, "after-guest-cost")) {
            Request request = Request.post("/data.json", "application/json", json);
            List<Step> steps = List.of(Step.of("minify"));
            Gap sandbox = () -> {
                Result result = kvm.chain(steps, request);
                if (!result.ok()) {
                    throw new IllegalStateException("minify failed: " + result);
                }
            };
            Gap spin = () -> {
                long end = System.nanoTime() + GAP_NANOS;
                while (System.nanoTime() < end) {
                    Thread.onSpinWait();
                }
            };
            Gap sleep = () -> LockSupport.parkNanos(GAP_NANOS);
            Map<String, Work> works = new LinkedHashMap<>();
            works.put("2000 loads, one per page over 8 MiB (TLB-bound)", () -> walk(NEXT_WIDE));
            works.put("2000 loads within 256 KiB (64 pages)", () -> walk(NEXT_NARROW));
            System.out.println("| host work | right after itself | after a sandbox call (minify) | after an 85 us"
                    + " busy wait | after an 85 us sleep |");
            System.out.println("|---|---|---|---|---|");
            for (Map.Entry<String, Work> work : works.entrySet()) {
                StringBuilder row = new StringBuilder("| " + work.getKey());
                row.append(String.format(Locale.ROOT, " | %.1f us", median(work.getValue(), null)));
                for (Gap gap : List.of(sandbox, spin, sleep)) {
                    row.append(String.format(Locale.ROOT, " | %.1f us", median(work.getValue(), gap)));
                }
                System.out.println(row.append(" |"));
            }
        }
    }

    /** Median time of the work run right after the gap (or right after itself when gap is null). */
    private static double median(Work work, Gap gap) throws Exception {
        long[] nanos = new long[ROUNDS];
        for (int pass = 0; pass < 2; pass++) { // the first pass warms up the JIT
            for (int i = 0; i < ROUNDS; i++) {
                work.run();
                if (gap != null) {
                    gap.run();
                }
                long t0 = System.nanoTime();
                work.run();
                nanos[i] = System.nanoTime() - t0;
            }
        }
        Arrays.sort(nanos);
        return nanos[ROUNDS / 2] / 1e3;
    }

    private static void walk(int[] next) {
        int at = position % next.length; // indexes off the cycle point to 0, which is on it
        for (int i = 0; i < STEPS; i++) {
            at = next[at];
        }
        position = at;
    }

    /**
     * A single cycle through every stride-th index in random order (stride 1024 ints: one load per 4 KiB page),
     * so each step lands somewhere unpredictable. Other indexes point to 0 and are never visited.
     */
    private static int[] permutation(int size, int stride, long seed) {
        int count = size / stride;
        int[] order = new int[count];
        Arrays.setAll(order, i -> i * stride);
        Random random = new Random(seed);
        for (int i = count - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int[] next = new int[size];
        for (int i = 0; i < count; i++) {
            next[order[i]] = order[(i + 1) % count];
        }
        return next;
    }
}
