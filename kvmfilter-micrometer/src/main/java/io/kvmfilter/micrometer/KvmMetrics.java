package io.kvmfilter.micrometer;

import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.KvmListener;
import io.kvmfilter.kvm.KvmStats;
import io.kvmfilter.kvm.StepRun;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * Micrometer metrics of every sandbox ({@link Kvm}) of this class loader — the servlet filter's, the program
 * servlets', and any started in code — and of every result store (the filter's, and any opened in code) when
 * result-store is on the class path.
 *
 * <pre>{@code
 * KvmMetrics metrics = new KvmMetrics();
 * metrics.bindTo(registry);          // e.g. a PrometheusMeterRegistry; Spring Boot does this for a bean
 * ...
 * metrics.close();                   // stops listening and removes the meters
 * }</pre>
 *
 * <p>Meters (tags: {@code kvm} the sandbox's name, {@code program}, and where given {@code outcome}: {@code ok} or
 * the failure kind such as {@code timeout}, {@code queue-timeout}, {@code error-status}; all bounded sets):
 * <ul>
 * <li>{@code kvmfilter.steps} counter: program steps run, by outcome</li>
 * <li>{@code kvmfilter.step.duration} timer with a percentile histogram: time in the program, by outcome (steps
 *     that got an instance)</li>
 * <li>{@code kvmfilter.queue.wait} timer with a percentile histogram: time waiting for a free instance</li>
 * <li>gauges {@code kvmfilter.program.loaded} (1 or 0), {@code kvmfilter.instances},
 *     {@code kvmfilter.instances.busy}, {@code kvmfilter.memory.frozen} and {@code kvmfilter.memory.instances}
 *     (bytes: the frozen image, and what instances copied of it)</li>
 * <li>counters {@code kvmfilter.program.loads}, {@code kvmfilter.program.load.failures}, {@code kvmfilter.resets},
 *     {@code kvmfilter.bytes.in}, {@code kvmfilter.bytes.out}, {@code kvmfilter.cpu.time} (seconds)</li>
 * <li>{@code kvmfilter.responses} counter: what each filter served (tags {@code filter}, {@code outcome}:
 *     {@code applied}, {@code cache-hit}, {@code fallback}, {@code skipped}, {@code passed}; {@code variant},
 *     {@code reason}), when filter-core is on the class path</li>
 * <li>per result store tier (tags {@code store}, the store's name, and {@code tier}): {@code kvmfilter.cache.gets}
 *     (tag {@code result}: {@code hit}, {@code miss}, {@code coalesced}, {@code negative}),
 *     {@code kvmfilter.cache.puts}, {@code kvmfilter.cache.evictions}, {@code kvmfilter.cache.errors}, gauges
 *     {@code kvmfilter.cache.available} (1 or 0), {@code kvmfilter.cache.entries}, {@code kvmfilter.cache.size}
 *     (bytes)</li>
 * </ul>
 * Gauges and the counters read from the sandbox's statistics may lag by up to one second
 * ({@link StatsSnapshot#MAX_AGE_NANOS}); the step counter and timers are exact. A sandbox's meters are removed
 * when it closes, a store's likewise. JMX ({@code io.kvmfilter:type=Kvm}) is unaffected.
 */
public final class KvmMetrics implements MeterBinder, AutoCloseable {

    /** Tag: the name of the sandbox (the filter's is {@code filter-<context>-<filter name>-<n>}). */
    public static final String TAG_KVM = "kvm";
    /** Tag: the program's name in the program library. */
    public static final String TAG_PROGRAM = "program";
    /** Tag: {@code ok} or the failure kind of a step, see {@link StepRun#outcome()}. */
    public static final String TAG_OUTCOME = "outcome";
    /** Tag: the tier of a result store: {@code memory}, {@code disk} or {@code shared}. */
    public static final String TAG_TIER = "tier";

    /** Whether result-store is on the class path (an optional dependency): then its stores get meters too. */
    private static final boolean RESULT_STORE_PRESENT = isPresent("io.kvmfilter.store.ResultStore");
    /** Whether filter-core is on the class path (an optional dependency): then its filters' responses count. */
    private static final boolean FILTER_CORE_PRESENT = isPresent("io.kvmfilter.filter.FilterListeners");

    /** Histogram range of the timers: from a fast minify of a small file to well past any time limit. */
    static final Duration HISTOGRAM_MIN = Duration.ofNanos(50_000);
    static final Duration HISTOGRAM_MAX = Duration.ofSeconds(60);

    private final List<MeterRegistry> registries = new CopyOnWriteArrayList<>();
    private final Map<Kvm, StatsSnapshot<KvmStats>> snapshots = new ConcurrentHashMap<>();
    /** The result stores' meters; null when result-store is not on the class path. */
    private final ResultStoreMeters storeMeters = RESULT_STORE_PRESENT ? new ResultStoreMeters(registries) : null;
    /** The filters' response counters; null when filter-core is not on the class path. */
    private final FilterMeters filterMeters = FILTER_CORE_PRESENT ? new FilterMeters(registries) : null;
    /** The step meters already registered, so a request pays one map lookup, not a registration. */
    private final Map<StepKey, StepMeters> stepMeters = new ConcurrentHashMap<>();
    private final KvmListener listener = new Listener();
    private volatile boolean listening;
    private volatile boolean closed;

    private record StepKey(MeterRegistry registry, String kvm, String program, String outcome) {
    }

    private record StepMeters(Counter steps, Timer duration, Timer queueWait) {
    }

    /**
     * Registers the meters of every running sandbox with the registry and follows sandboxes started later. Binding
     * the same registry again does nothing (steps would otherwise count twice).
     */
    @Override
    public synchronized void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        if (closed) {
            throw new IllegalStateException("KvmMetrics is closed; create a new one");
        }
        if (registries.stream().anyMatch(bound -> bound == registry)) {
            return;
        }
        registries.add(registry);
        if (!listening) {
            listening = true;
            Kvm.addListener(listener); // reports every running Kvm to started() at once
            if (storeMeters != null) {
                storeMeters.start(); // the same for every open store
            }
            if (filterMeters != null) {
                filterMeters.start(); // counters appear with a filter's first response
            }
            return;
        }
        if (storeMeters != null) {
            storeMeters.bindTo(registry);
        }
        for (Kvm kvm : Kvm.running()) {
            registerProgramMeters(registry, kvm);
        }
    }

    /** Stops following sandboxes and removes every meter this binder registered. */
    @Override
    public void close() {
        closed = true;
        Kvm.removeListener(listener);
        if (storeMeters != null) {
            storeMeters.stop();
        }
        if (filterMeters != null) {
            filterMeters.stop();
        }
        for (MeterRegistry registry : registries) {
            for (Meter meter : registry.getMeters()) {
                if (meter.getId().getName().startsWith("kvmfilter.")) {
                    registry.remove(meter);
                }
            }
        }
        registries.clear();
        snapshots.clear();
        stepMeters.clear();
    }

    private final class Listener implements KvmListener {
        @Override
        public void started(Kvm kvm) {
            snapshots.computeIfAbsent(kvm, KvmMetrics::snapshotOf);
            for (MeterRegistry registry : registries) {
                registerProgramMeters(registry, kvm);
            }
        }

        @Override
        public void stepFinished(Kvm kvm, StepRun run) {
            if (!snapshots.containsKey(kvm)) {
                return; // a request that finished after its Kvm closed: its meters are gone and stay gone
            }
            for (MeterRegistry registry : registries) {
                StepMeters meters = stepMeters.computeIfAbsent(
                        new StepKey(registry, kvm.name(), run.program(), run.outcome()), KvmMetrics::registerStepMeters);
                meters.steps().increment();
                meters.queueWait().record(run.queueWaitNanos(), TimeUnit.NANOSECONDS);
                if (run.acquired()) {
                    meters.duration().record(run.runNanos(), TimeUnit.NANOSECONDS);
                }
            }
        }

        @Override
        public void closed(Kvm kvm) {
            snapshots.remove(kvm);
            stepMeters.keySet().removeIf(key -> key.kvm().equals(kvm.name()));
            for (MeterRegistry registry : registries) {
                removeMeters(registry, TAG_KVM, kvm.name());
            }
        }

        @Override
        public String toString() {
            return "KvmMetrics listener";
        }
    }

    private static StepMeters registerStepMeters(StepKey key) {
        Tags program = Tags.of(TAG_KVM, key.kvm(), TAG_PROGRAM, key.program());
        Tags outcome = program.and(TAG_OUTCOME, key.outcome());
        Counter steps = Counter.builder("kvmfilter.steps")
                .description("Program steps run in the sandbox, by outcome")
                .tags(outcome)
                .register(key.registry());
        Timer duration = histogramTimer(key.registry(), "kvmfilter.step.duration",
                "Time a program step spent running in its instance", outcome);
        Timer queueWait = histogramTimer(key.registry(), "kvmfilter.queue.wait",
                "Time a program step waited for a free instance", program);
        return new StepMeters(steps, duration, queueWait);
    }

    /** A timer that publishes a percentile histogram over the range a program step can take. */
    private static Timer histogramTimer(MeterRegistry registry, String name, String description, Tags tags) {
        return Timer.builder(name)
                .description(description)
                .tags(tags)
                .publishPercentileHistogram()
                .minimumExpectedValue(HISTOGRAM_MIN)
                .maximumExpectedValue(HISTOGRAM_MAX)
                .register(registry);
    }

    private void registerProgramMeters(MeterRegistry registry, Kvm kvm) {
        StatsSnapshot<KvmStats> snapshot = snapshots.computeIfAbsent(kvm, KvmMetrics::snapshotOf);
        for (String program : kvm.programNames()) {
            Tags tags = Tags.of(TAG_KVM, kvm.name(), TAG_PROGRAM, program);
            gauge(registry, "kvmfilter.program.loaded", "1 while the program is booted and ready, else 0", null, tags,
                    snapshot, program, p -> p.loaded() ? 1 : 0);
            gauge(registry, "kvmfilter.instances", "Instances (VMs) of the program", null, tags, snapshot, program,
                    KvmStats.Program::instances);
            gauge(registry, "kvmfilter.instances.busy", "Instances running a request now", null, tags, snapshot,
                    program, KvmStats.Program::instancesBusy);
            gauge(registry, "kvmfilter.memory.frozen", "Bytes of the program's frozen memory image", BaseUnits.BYTES,
                    tags, snapshot, program, KvmStats.Program::frozenBytes);
            gauge(registry, "kvmfilter.memory.instances", "Bytes the instances copied of the frozen image",
                    BaseUnits.BYTES, tags, snapshot, program, KvmStats.Program::instanceBytes);
            counter(registry, "kvmfilter.program.loads", "Successful loads (boots) of the program", null, tags,
                    snapshot, program, KvmStats.Program::loads);
            counter(registry, "kvmfilter.program.load.failures", "Loads of the program that failed", null, tags,
                    snapshot, program, KvmStats.Program::loadFailures);
            counter(registry, "kvmfilter.resets", "Instance resets", null, tags, snapshot, program,
                    KvmStats.Program::resets);
            counter(registry, "kvmfilter.bytes.in", "Request bodies copied into the program", BaseUnits.BYTES, tags,
                    snapshot, program, KvmStats.Program::bytesIn);
            counter(registry, "kvmfilter.bytes.out", "Response bodies the program produced", BaseUnits.BYTES, tags,
                    snapshot, program, KvmStats.Program::bytesOut);
            counter(registry, "kvmfilter.cpu.time", "CPU time the program's requests took", "seconds", tags,
                    snapshot, program, p -> p.cpuNanos() / 1e9);
        }
    }

    private static void gauge(MeterRegistry registry, String name, String description, String unit, Tags tags,
            StatsSnapshot<KvmStats> snapshot, String program, ToDoubleFunction<KvmStats.Program> value) {
        Gauge.builder(name, snapshot, s -> value.applyAsDouble(s.get().program(program)))
                .description(description)
                .baseUnit(unit)
                .tags(tags)
                .strongReference(true)
                .register(registry);
    }

    private static void counter(MeterRegistry registry, String name, String description, String unit, Tags tags,
            StatsSnapshot<KvmStats> snapshot, String program, ToDoubleFunction<KvmStats.Program> value) {
        FunctionCounter.builder(name, snapshot, s -> value.applyAsDouble(s.get().program(program)))
                .description(description)
                .baseUnit(unit)
                .tags(tags)
                .register(registry);
    }

    private static StatsSnapshot<KvmStats> snapshotOf(Kvm kvm) {
        return new StatsSnapshot<>(kvm::stats);
    }

    /** Removes this binder's meters that carry the tag with this value (a closed sandbox's or store's). */
    static void removeMeters(MeterRegistry registry, String tag, String value) {
        for (Meter meter : registry.getMeters()) {
            Meter.Id id = meter.getId();
            if (id.getName().startsWith("kvmfilter.") && value.equals(id.getTag(tag))) {
                registry.remove(meter);
            }
        }
    }

    private static boolean isPresent(String className) {
        try {
            Class.forName(className, false, KvmMetrics.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
