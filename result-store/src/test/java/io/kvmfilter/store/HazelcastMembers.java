package io.kvmfilter.store;

import com.hazelcast.cache.HazelcastCachingProvider;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import javax.cache.CacheManager;
import javax.cache.Caching;

/** Real Hazelcast members on 127.0.0.1, each on a port the system picks, joined over TCP/IP. */
final class HazelcastMembers {

    private HazelcastMembers() {
    }

    /**
     * @param cluster the cluster name (one per test, so tests never join each other)
     * @param join    "127.0.0.1:port" of a member to join, or null for the first member
     */
    static HazelcastInstance start(String cluster, String join) {
        Config config = new Config();
        config.setClusterName(cluster);
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", "jdk");
        // Leaving quickly matters more here than a graceful partition hand-over.
        config.setProperty("hazelcast.graceful.shutdown.max.wait", "5");
        NetworkConfig network = config.getNetworkConfig();
        network.setPort(0).setPortAutoIncrement(false);
        network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        JoinConfig joining = network.getJoin();
        joining.getMulticastConfig().setEnabled(false);
        joining.getAutoDetectionConfig().setEnabled(false);
        joining.getTcpIpConfig().setEnabled(true);
        if (join != null) {
            joining.getTcpIpConfig().addMember(join);
        }
        return Hazelcast.newHazelcastInstance(config);
    }

    static String address(HazelcastInstance member) {
        return "127.0.0.1:" + member.getCluster().getLocalMember().getAddress().getPort();
    }

    /** The JCache manager of this member: the store only ever sees the JCache API. */
    static CacheManager cacheManager(HazelcastInstance member) {
        return Caching.getCachingProvider(HazelcastCachingProvider.MEMBER_CACHING_PROVIDER)
                .getCacheManager(null, null, HazelcastCachingProvider.propertiesByInstanceItself(member));
    }
}
