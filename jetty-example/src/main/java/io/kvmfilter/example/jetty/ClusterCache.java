package io.kvmfilter.example.jetty;

import com.hazelcast.cache.HazelcastCachingProvider;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.kvmfilter.store.ResultStore;
import java.util.List;
import javax.cache.CacheManager;
import javax.cache.Caching;

/**
 * The demo's shared result tier: an embedded Hazelcast member that joins the other servers named on the command
 * line over TCP/IP (no multicast), and its JCache cache, which the filter's result store uses like any JCache
 * cache. Servers started with the same {@code --cluster-name} and each other's addresses share their results.
 */
final class ClusterCache {

    /** The JCache cache holding the results. */
    static final String CACHE_NAME = "kvmfilter-results";

    private ClusterCache() {
    }

    /**
     * Starts the member (it waits a few seconds for the others, then runs alone until they come) and returns the
     * opener of its cache for {@code KvmFilterConfig.Builder.sharedCache}.
     *
     * @param name      the cluster name: only members with the same name join
     * @param address   the interface to bind, such as 127.0.0.1
     * @param port      the member's port; 0 picks a free one
     * @param members   "host:port" of the other members
     */
    static ResultStore.SharedCacheOpener start(String name, String address, int port, List<String> members) {
        Config config = new Config();
        config.setClusterName(name);
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", "jdk");
        NetworkConfig network = config.getNetworkConfig();
        network.setPort(port).setPortAutoIncrement(false);
        network.getInterfaces().setEnabled(true).addInterface(address);
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(true);
        members.forEach(join.getTcpIpConfig()::addMember);
        HazelcastInstance member = Hazelcast.newHazelcastInstance(config);
        CacheManager manager = Caching.getCachingProvider(HazelcastCachingProvider.MEMBER_CACHING_PROVIDER,
                ClusterCache.class.getClassLoader()).getCacheManager(null, ClusterCache.class.getClassLoader(),
                HazelcastCachingProvider.propertiesByInstanceItself(member));
        return ResultStore.jcache(manager, CACHE_NAME);
    }
}
