package io.kvmfilter.kvm;

import com.sun.jna.Pointer;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * What the Java API adds to a call over the C API (target: at most 5 µs). Each pair runs the same request
 * on the test guest twice: once through {@link Kvm#run} and once as the bare native round trip
 * (kvmf_program_acquire, kvmf_instance_run, kvmf_instance_release with buffers prepared in advance).
 * The difference of the two averages is the binding's overhead.
 *
 * <p>Not part of the test run (surefire only runs *Test classes). Run it with JDK 17-22 (JDK 23+ needs the
 * JMH annotation processor in the compiler's annotationProcessorPaths), after {@code make -C src-native}:
 * <pre>
 * cd kvm-binding
 * mvn -q test-compile dependency:build-classpath -Dmdep.outputFile=target/test-classpath.txt -Dmdep.includeScope=test
 * java -cp target/test-classes:target/classes:$(cat target/test-classpath.txt) io.kvmfilter.kvm.CallOverheadBenchmark
 * </pre>
 * On a busy machine the error bars of single runs exceed the overhead; then run it with the argument
 * {@code --interleaved}, which alternates the two kinds of call and prints the difference of their medians,
 * or pass a pattern such as {@code CallOverheadBenchmark.get} to run one pair.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CallOverheadBenchmark {

    /** The program under test: the jt-guest, kept warm (not ephemeral, so no reset per call). */
    @State(Scope.Benchmark)
    public static class Sandbox {
        Kvm kvm;
        LoadedProgram bare;
        Request get = Request.get("/bench");
        Request post = Request.post("/bench", "application/octet-stream", new byte[16 * 1024]).withArg("input");
        long response;
        long postBody;
        final long[] out = new long[1];
        final byte[] getMethod = NativeStrings.cString("GET");
        final byte[] postMethod = NativeStrings.cString("POST");
        final byte[] url = NativeStrings.cString("/bench");
        final byte[] inputArg = NativeStrings.cString("input");
        final byte[] octetStream = NativeStrings.cString("application/octet-stream");

        @Setup(Level.Trial)
        public void start() throws Exception {
            KvmTestEnvironment.requireKvm();
            ProgramLibrary library = ProgramLibrary.parse(KvmTestEnvironment.guestLibrary("bench",
                    "\"ephemeral\": false, \"start\": true"), null);
            kvm = Kvm.start(library, "bench");
            bare = LoadedProgram.load(library.program("bench"), stats -> { });
            response = NativeMemory.allocate(NativeLayout.RESPONSE_SIZE);
            postBody = NativeMemory.copyOf(post.body());
        }

        @TearDown(Level.Trial)
        public void stop() {
            kvm.close();
            bare.release();
            NativeMemory.free(response);
            NativeMemory.free(postBody);
        }
    }

    private static long bareCall(Sandbox s, byte[] method, byte[] arg, byte[] contentType, long body, long bodyLen) {
        if (KvmNative.kvmf_program_acquire(s.bare.handle, 1000, s.out) != 0) {
            throw new IllegalStateException(NativeStrings.lastError());
        }
        try {
            KvmNative.kvmf_instance_run(s.out[0], method, s.url, arg, contentType, body, bodyLen, null, 0, 0, s.response);
            return new Pointer(s.response).getLong(NativeLayout.RESPONSE_STATUS);
        } finally {
            KvmNative.kvmf_instance_release(s.out[0]);
        }
    }

    @Benchmark
    public long getNative(Sandbox s) {
        return bareCall(s, s.getMethod, null, null, 0, 0);
    }

    @Benchmark
    public Result getJava(Sandbox s) {
        return s.kvm.run("bench", s.get);
    }

    @Benchmark
    public long post16kNative(Sandbox s) {
        return bareCall(s, s.postMethod, s.inputArg, s.octetStream, s.postBody, s.post.body().length);
    }

    @Benchmark
    public Result post16kJava(Sandbox s) {
        return s.kvm.run("bench", s.post);
    }

    /**
     * Runs the JMH benchmark; a first argument is JMH's include pattern (default: all of this class).
     * {@code --interleaved [calls]} instead alternates one Java and one bare call, so that load from other
     * processes hits both alike, and prints the percentiles of each and the difference of the medians.
     */
    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--interleaved")) {
            interleaved(args.length > 1 ? Integer.parseInt(args[1]) : 20_000);
            return;
        }
        String include = args.length > 0 ? args[0] : CallOverheadBenchmark.class.getSimpleName();
        new Runner(new OptionsBuilder().include(include).build()).run();
    }

    private static void interleaved(int calls) throws Exception {
        Sandbox s = new Sandbox();
        s.start();
        try {
            long[] javaNanos = new long[calls];
            long[] bareNanos = new long[calls];
            for (int i = 0; i < calls; i++) {
                long t0 = System.nanoTime();
                Result result = s.kvm.run("bench", s.get);
                long t1 = System.nanoTime();
                long status = bareCall(s, s.getMethod, null, null, 0, 0);
                long t2 = System.nanoTime();
                if (!result.ok() || status != 200) {
                    throw new IllegalStateException("the benchmark request failed: " + result + ", bare status " + status);
                }
                javaNanos[i] = t1 - t0;
                bareNanos[i] = t2 - t1;
            }
            Arrays.sort(javaNanos);
            Arrays.sort(bareNanos);
            System.out.printf("GET, %d interleaved calls%n", calls);
            System.out.printf("Kvm.run      p10 %7.1f us  p50 %7.1f us  p90 %7.1f us%n", javaNanos[calls / 10] / 1e3,
                    javaNanos[calls / 2] / 1e3, javaNanos[calls * 9 / 10] / 1e3);
            System.out.printf("bare C API   p10 %7.1f us  p50 %7.1f us  p90 %7.1f us%n", bareNanos[calls / 10] / 1e3,
                    bareNanos[calls / 2] / 1e3, bareNanos[calls * 9 / 10] / 1e3);
            System.out.printf("Java overhead (median difference): %.1f us%n", (javaNanos[calls / 2] - bareNanos[calls / 2]) / 1e3);
        } finally {
            s.stop();
        }
    }
}
