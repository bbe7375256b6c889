package io.kvmfilter.store;

import com.hazelcast.core.HazelcastInstance;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The second cluster member, in a JVM of its own: a Hazelcast member with a result store over it, driven through
 * standard input one command a line ({@code get DIGEST}, {@code put DIGEST TEXT}), answering one line each. It
 * exits when its input closes, so it never outlives the test.
 */
public final class ClusterMemberProcess {

    private ClusterMemberProcess() {
    }

    public static void main(String[] args) throws Exception {
        HazelcastInstance member = HazelcastMembers.start(args[0], args[1]);
        try (ResultStore store = ResultStore.builder()
                .shared(ResultStore.jcache(HazelcastMembers.cacheManager(member), args[2])).build()) {
            System.out.println("ready " + member.getCluster().getMembers().size());
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) {
                String[] words = line.split(" ", 3);
                ResultKey key = new ResultKey("webp", "image/png", words[1], "");
                if (words[0].equals("put")) {
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
