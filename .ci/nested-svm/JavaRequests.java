import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.KvmStats;
import io.kvmfilter.kvm.ProgramLibrary;
import io.kvmfilter.kvm.Request;
import io.kvmfilter.kvm.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;

/**
 * Requests through the whole Java stack (kvm-binding, JNA, libkvmfilter from the jar, the bundled programs),
 * for the emulated-SVM CI stage: run once on the host (PVM) and once inside the guest (hardware KVM), the
 * two outputs must be the same line for line. One line per request: program, input, status, content type,
 * size and SHA-256 of the body; then one line of exit counts per program (printed, not compared: they
 * are the cost, which may differ between hosts).
 *
 * <p>Usage: java -cp KVM_BINDING_CLASSPATH:. JavaRequests SAMPLES_DIR
 */
public final class JavaRequests {
    public static void main(String[] args) throws Exception {
        Path samples = Path.of(args[0]);
        ProgramLibrary library = ProgramLibrary.bundled();
        for (String program : new String[] {"webp", "avif", "minify"}) {
            // Emulated hardware runs guests tens of times slower than the limits expect.
            library = library.configure(program, Map.of("max_request_time", 600.0, "max_boot_time", 600.0,
                    "concurrency", 1));
        }
        int failed = 0;
        try (Kvm kvm = Kvm.start(library)) {
            Object[][] requests = {
                {"webp", "grace_hopper.jpg", "image/jpeg"},
                {"avif", "grace_hopper.jpg", "image/jpeg"},
                {"minify", "bootstrap.css", "text/css"},
                {"minify", "twitter.json", "application/json"}, // the same instance again, after its reset
            };
            for (Object[] r : requests) {
                String program = (String) r[0], file = (String) r[1];
                byte[] input = Files.readAllBytes(samples.resolve(file));
                Result result = kvm.run(program, Request.post("/" + file, (String) r[2], input));
                String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(result.body()));
                System.out.printf("java %s %s: status %d, %s, %d bytes, sha256 %s%s%n", program, file, result.status(),
                        result.contentType(), result.body().length, digest,
                        result.ok() ? "" : ", FAILED: " + result.failure().map(Object::toString).orElse(""));
                failed += result.ok() ? 0 : 1;
            }
            KvmStats stats = kvm.stats();
            for (String program : new String[] {"webp", "avif", "minify"}) {
                KvmStats.Program p = stats.program(program);
                System.out.printf("stats %s: %d requests, %d exits (%.1f per request), %d through the trap stub%n",
                        program, p.invocations(), p.exits(), p.exitsPerRequest(), p.trapExits());
            }
        }
        System.exit(failed == 0 ? 0 : 1);
    }
}
