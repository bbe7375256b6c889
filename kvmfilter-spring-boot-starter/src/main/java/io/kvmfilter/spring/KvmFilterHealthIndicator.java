package io.kvmfilter.spring;

import io.kvmfilter.filter.KvmFilter;
import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.KvmStats;
import io.kvmfilter.kvm.KvmUnavailableException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * The {@code kvmfilter} health component: DOWN when the sandbox is not available (the filters then serve every
 * original untransformed) or a program failed to load and is not loaded now; UP otherwise. Details: the sandbox's
 * state and, per sandbox and program, whether it is loaded, its loads and load failures, instances and busy ones.
 * Programs boot on first use unless {@code "start": true}, so "not loaded" alone is healthy.
 */
public class KvmFilterHealthIndicator extends AbstractHealthIndicator {

    private final Supplier<List<KvmFilter>> filters;

    /** @param filters the application's filters, looked up at each check */
    public KvmFilterHealthIndicator(Supplier<List<KvmFilter>> filters) {
        super("kvmfilter health check failed");
        this.filters = filters;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        List<KvmFilter> all = filters.get();
        boolean running = !all.isEmpty() && all.stream().allMatch(KvmFilter::sandboxRunning);
        if (!running) {
            builder.down().withDetail("sandbox", "unavailable").withDetail("reason", unavailableReason(all));
            return;
        }
        builder.up().withDetail("sandbox", "available");
        List<String> failed = new ArrayList<>();
        Map<String, Object> sandboxes = new LinkedHashMap<>();
        for (Kvm kvm : Kvm.running()) {
            Map<String, Object> programs = new LinkedHashMap<>();
            for (KvmStats.Program program : kvm.stats().programs().values()) {
                Map<String, Object> detail = new LinkedHashMap<>();
                detail.put("loaded", program.loaded());
                detail.put("loads", program.loads());
                detail.put("loadFailures", program.loadFailures());
                detail.put("instances", program.instances());
                detail.put("instancesBusy", program.instancesBusy());
                programs.put(program.name(), detail);
                if (program.loadFailures() > 0 && !program.loaded()) {
                    failed.add(kvm.name() + "/" + program.name());
                }
            }
            sandboxes.put(kvm.name(), programs);
        }
        builder.withDetail("sandboxes", sandboxes);
        if (!failed.isEmpty()) {
            builder.down().withDetail("failedPrograms", failed);
        }
    }

    private static String unavailableReason(List<KvmFilter> filters) {
        if (filters.isEmpty()) {
            return "no KvmFilter is registered";
        }
        try {
            Kvm.checkAvailable();
            return "the filter has not started its sandbox (not initialised yet, or stopped)";
        } catch (KvmUnavailableException | LinkageError e) {
            return e.getMessage();
        }
    }
}
