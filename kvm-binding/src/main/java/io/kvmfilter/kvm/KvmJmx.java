package io.kvmfilter.kvm;

/** The MXBean registered for a {@link Kvm}: totals from its statistics. */
final class KvmJmx implements KvmMXBean {
    private final Kvm kvm;

    KvmJmx(Kvm kvm) {
        this.kvm = kvm;
    }

    @Override
    public String getName() {
        return kvm.name();
    }

    @Override
    public String getNativeVersion() {
        return Kvm.nativeVersion();
    }

    @Override
    public String[] getProgramNames() {
        return kvm.programNames().toArray(new String[0]);
    }

    @Override
    public int getLoadedPrograms() {
        return (int) kvm.stats().programs().values().stream().filter(KvmStats.Program::loaded).count();
    }

    @Override
    public long getInvocations() {
        return kvm.stats().programs().values().stream().mapToLong(KvmStats.Program::invocations).sum();
    }

    @Override
    public long getFailures() {
        return kvm.stats().programs().values().stream().mapToLong(KvmStats.Program::failures).sum();
    }

    @Override
    public long getTimeouts() {
        return kvm.stats().programs().values().stream().mapToLong(KvmStats.Program::timeouts).sum();
    }

    @Override
    public long getQueueTimeouts() {
        return kvm.stats().programs().values().stream().mapToLong(KvmStats.Program::queueTimeouts).sum();
    }

    @Override
    public long getInstancesBusy() {
        return kvm.stats().programs().values().stream().mapToLong(KvmStats.Program::instancesBusy).sum();
    }

    @Override
    public long getConnections() {
        return kvm.stats().programs().values().stream().mapToLong(KvmStats.Program::connections).sum();
    }

    @Override
    public String getStatsJson() {
        return kvm.statsJson(".*", 2);
    }

    @Override
    public String statsJson(String programPattern, int indentation) {
        return kvm.statsJson(programPattern, indentation);
    }

    @Override
    public int invalidate(String programPattern) {
        return kvm.invalidate(StatsJson.compile(programPattern));
    }
}
