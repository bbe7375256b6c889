package io.kvmfilter.store;

import java.nio.ByteBuffer;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A node's claim on making one key's result for the whole cluster, kept in the shared cache beside the results
 * under {@code claim:<key id>}: the first node to put it there runs the programs, the others wait for its result
 * instead of running their own. The value is the time the claim ends (so a claim whose node died lapses) and a
 * random token (so a node only ever removes its own claim).
 *
 * @param id      the cache key of the claim; null when nothing is held in the cluster (the tier cannot answer)
 * @param value   what this node put there; null when it is another node's claim or none is held
 * @param untilMs when the claim lapses (epoch milliseconds)
 */
record ClusterClaim(String id, byte[] value, long untilMs) {

    /** The cache key of a result's claim. */
    static String idOf(ResultKey key) {
        return "claim:" + key.id();
    }

    /** A new claim of this node, lapsing at untilMs. */
    static ClusterClaim create(ResultKey key, long untilMs) {
        byte[] value = ByteBuffer.allocate(16).putLong(untilMs).putLong(ThreadLocalRandom.current().nextLong())
                .array();
        return new ClusterClaim(idOf(key), value, untilMs);
    }

    /** Another node's claim, as read from the cache. */
    static ClusterClaim held(String id, byte[] value) {
        return new ClusterClaim(id, null, untilOf(value));
    }

    /** When the claim with this value lapses; 0 (long lapsed) for a value that is not a claim. */
    static long untilOf(byte[] value) {
        return value != null && value.length == 16 ? ByteBuffer.wrap(value).getLong() : 0;
    }

    /** This node holds the claim (and must release it), or no cluster-wide claim could be made. */
    boolean mine() {
        return value != null || id == null;
    }
}
