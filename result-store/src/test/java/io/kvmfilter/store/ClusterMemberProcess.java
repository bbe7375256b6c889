package io.kvmfilter.store;

import com.hazelcast.core.HazelcastInstance;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The second cluster member, in a JVM of its own: a Hazelcast member with a result store over it, driven through
 * standard input one command a line, answering one line each: {@code get DIGEST}, {@code put DIGEST TEXT},
 * {@code make DIGEST} (asks its store for the result with a transform that runs until {@code finish DIGEST TEXT}
 * gives it its result: this member then holds the cluster claim on it). Its claims last 2 s. It exits when its
 * input closes, so it never outlives the test.
 */
public final class ClusterMemberProcess {

    /** How long this member's claims last: short, so that a test can see one lapse. */
    static final Duration CLAIM_TIME = Duration.ofSeconds(2);

    private ClusterMemberProcess() {
    }

    public static void main(String[] args) throws Exception {
        HazelcastInstance member = HazelcastMembers.start(args[0], args[1]);
        Map<String, CompletableFuture<StoredResult>> making = new HashMap<>();
        try (ResultStore store = ResultStore.builder().claimTime(CLAIM_TIME)
                .shared(ResultStore.jcache(HazelcastMembers.cacheManager(member), args[2])).build()) {
            // Ready once its shared tier is open (it opens in the background): before, its writes and claims
            // would stay local, and the test would race with the opening.
            for (int i = 0; i < 200 && !store.statistics().get(1).isAvailable(); i++) {
                Thread.sleep(50);
            }
            System.out.println("ready " + member.getCluster().getMembers().size());
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) {
                String[] words = line.split(" ", 3);
                ResultKey key = new ResultKey("webp", "image/png", words[1], "");
                if (words[0].equals("make")) {
                    CompletableFuture<StoredResult> run = new CompletableFuture<>();
                    making.put(words[1], run);
                    store.get(key, () -> run);
                    System.out.println("making");
                } else if (words[0].equals("finish")) {
                    making.remove(words[1]).complete(StoredResult.success(
                            words[2].getBytes(StandardCharsets.UTF_8), "image/webp"));
                    System.out.println("finished");
                } else if (words[0].equals("put")) {
                    store.put(key, StoredResult.success(words[2].getBytes(StandardCharsets.UTF_8), "image/webp"));
                    System.out.println("stored");
                } else {
                    Optional<ResultStore.Found> found = store.lookup(key);
                    System.out.println(found.map(f -> "hit " + f.source() + " "
                            + new String(f.result().body(), StandardCharsets.UTF_8)).orElse("miss"));
                }
                System.out.flush();
            }
        } finally {
            member.getLifecycleService().terminate();
        }
    }
}
