package io.kvmfilter.kvm;

/**
 * The JMX view of a {@link Kvm}, registered as {@code io.kvmfilter:type=Kvm,name=<name>} while it runs.
 * Attributes are totals over all programs; {@link #statsJson(String, int)} gives the details.
 */
public interface KvmMXBean {
    /** @return the Kvm's name (the ObjectName's name key) */
    String getName();

    /** @return the version of the native core, e.g. "kvmfilter 0.1.0 (api 1)" */
    String getNativeVersion();

    /** @return the programs of the library */
    String[] getProgramNames();

    /** @return programs booted and current right now */
    int getLoadedPrograms();

    /** @return requests run in the sandbox, all programs */
    long getInvocations();

    /** @return requests that failed in the sandbox, all programs */
    long getFailures();

    /** @return requests that ran past their time limit */
    long getTimeouts();

    /** @return acquires that gave up waiting for a free instance */
    long getQueueTimeouts();

    /** @return instances running a request right now */
    long getInstancesBusy();

    /** @return client connections handed to programs, all programs */
    long getConnections();

    /** @return statistics of all programs as indented JSON */
    String getStatsJson();

    /**
     * @param programPattern a regular expression matched against whole program names
     * @param indentation spaces per level; 0 for compact JSON
     * @return statistics of the matching programs as JSON
     */
    String statsJson(String programPattern, int indentation);

    /**
     * Unloads the matching programs; the next request reloads them.
     *
     * @param programPattern a regular expression matched against whole program names
     * @return how many programs were unloaded
     */
    int invalidate(String programPattern);
}
