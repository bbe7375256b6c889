package io.kvmfilter.example.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kvmfilter.kvm.testing.KvmRequirement;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two standalone servers (two JVMs) joined to one Hazelcast cluster on 127.0.0.1 through {@code --cluster-name},
 * each with its own {@code --cache-dir}: an image converted on one is served by the other without running a
 * program, and a restart with the cache directory runs no program either.
 */
class ClusterIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String IMAGE = "rocket.jpg";

    @TempDir
    Path tmp;

    /** A port free right now, for a cluster member both servers must know before they start. */
    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static JsonNode counters(JarServer server) throws Exception {
        return JSON.readTree(server.get("/_kvm/stats").body()).path("filter:main").path("counters");
    }

    private static JsonNode tiers(JarServer server) throws Exception {
        return JSON.readTree(server.get("/_kvm/stats").body()).path("filter:main").path("store").path("tiers");
    }

    /** Conversions that ran a program: applied minus those served from the store. */
    private static long programRuns(JarServer server) throws Exception {
        JsonNode counters = counters(server);
        return counters.path("applied=webp").asLong() - counters.path("cache-hit=webp").asLong();
    }

    private static void awaitClusterOfTwo(JarServer server) throws Exception {
        for (int i = 0; i < 120 && !server.log().contains("Members {size:2"); i++) {
            Thread.sleep(500);
        }
        assertThat(server.log()).as("the member joined its peer").contains("Members {size:2");
    }

    private static long entries(Path dir) throws Exception {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> f.toString().endsWith(".entry")).count();
        }
    }

    @Test
    void anImageConvertedOnOneServerIsServedByTheOtherAndAfterARestartWithoutRunningAProgram() throws Exception {
        KvmRequirement.require("webp");
        String cluster = "kvmfilter-it-" + UUID.randomUUID().toString().substring(0, 8);
        int portA = freePort();
        int portB = freePort();
        Path cacheA = tmp.resolve("cache-a");
        Path cacheB = tmp.resolve("cache-b");
        byte[] converted;
        try (JarServer a = JarServer.start(tmp, "--port", "0", "--stats", "--cache-dir", cacheA.toString(),
                "--cluster-name", cluster, "--cluster-port", String.valueOf(portA),
                "--cluster-members", "127.0.0.1:" + portB);
                JarServer b = JarServer.start(tmp, "--port", "0", "--stats", "--cache-dir", cacheB.toString(),
                        "--cluster-name", cluster, "--cluster-port", String.valueOf(portB),
                        "--cluster-members", "127.0.0.1:" + portA)) {
            awaitClusterOfTwo(a);
            awaitClusterOfTwo(b);

            HttpResponse<byte[]> onA = a.get(IMAGE, "Accept", "image/webp");
            assertThat(onA.headers().firstValue("X-KVM-Transform")).hasValue("applied=webp");
            converted = onA.body();
            assertThat(programRuns(a)).isEqualTo(1);
            // The shared write is queued after the response: give it a moment to reach the cluster.
            Thread.sleep(1000);

            HttpResponse<byte[]> onB = b.get(IMAGE, "Accept", "image/webp");
            assertThat(onB.headers().firstValue("X-KVM-Transform")).hasValue("applied=webp");
            assertThat(onB.body()).isEqualTo(converted);
            assertThat(programRuns(b)).as("program runs on the second server").isZero();
            assertThat(tiers(b).path("shared").path("hits").asLong()).isEqualTo(1);
            // Copied into the second server's own tiers: its disk has it too.
            assertThat(entries(cacheB)).isEqualTo(1);
            a.stop();
            b.stop();
        }
        assertThat(entries(cacheA)).as("the first server's directory after it stopped").isEqualTo(1);

        try (JarServer restarted = JarServer.start(tmp, "--port", "0", "--stats", "--cache-dir", cacheA.toString())) {
            HttpResponse<byte[]> again = restarted.get(IMAGE, "Accept", "image/webp");
            assertThat(again.headers().firstValue("X-KVM-Transform")).hasValue("applied=webp");
            assertThat(again.body()).isEqualTo(converted);
            assertThat(programRuns(restarted)).as("program runs after the restart").isZero();
            assertThat(tiers(restarted).path("disk").path("hits").asLong()).isEqualTo(1);
        }
    }
}
