package io.kvmfilter.kvm;

import com.sun.jna.Pointer;
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
 * <p>Not part of the test run. Run it with (JDK 17-22; JDK 23+ needs the JMH annotation processor in
 * the compiler's annotationProcessorPaths):
 * <pre>
 * mvn -pl kvm-binding -am test-compile exec:exec -Dexec.executable=java -Dexec.classpathScope=test \
 *     -Dexec.args="-cp %classpath io.kvmfilter.kvm.CallOverheadBenchmark"
 * </pre>
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

    /** Runs the benchmark; extra arguments are passed to JMH's include pattern (default: all of this class). */
    public static void main(String[] args) throws Exception {
        String include = args.length > 0 ? args[0] : CallOverheadBenchmark.class.getSimpleName();
        new Runner(new OptionsBuilder().include(include).build()).run();
    }
}
