package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Listeners hear every start, step (with its outcome and timings) and close of the Kvms of this class loader. */
@ExtendWith(KvmTestEnvironment.class)
class KvmListenerTest {

    /** Records what it hears about one Kvm name. */
    static final class Recorder implements KvmListener {
        final String name;
        final List<String> events = new CopyOnWriteArrayList<>();
        final List<StepRun> steps = new CopyOnWriteArrayList<>();

        Recorder(String name) {
            this.name = name;
        }

        @Override
        public void started(Kvm kvm) {
            if (kvm.name().equals(name)) {
                events.add("started");
            }
        }

        @Override
        public void stepFinished(Kvm kvm, StepRun run) {
            if (kvm.name().equals(name)) {
                steps.add(run);
            }
        }

        @Override
        public void closed(Kvm kvm) {
            if (kvm.name().equals(name)) {
                events.add("closed");
            }
        }
    }

    @Test
    void everyStepIsReportedWithItsOutcomeAndTimes() {
        Recorder recorder = new Recorder("listened");
        Kvm.addListener(recorder);
        try {
            Kvm kvm = Kvm.start(ProgramLibrary.parse(KvmTestEnvironment.guestLibrary("guest",
                    "\"max_request_time\": 0.2"), null), "listened");
            try {
                assertThat(Kvm.running()).contains(kvm);
                assertThat(kvm.run("guest", Request.get("/a")).ok()).isTrue();
                assertThat(kvm.run("guest", Request.get("/b").withArg("status:503")).ok()).isFalse();
                assertThat(kvm.run("guest", Request.get("/c").withArg("spin")).ok()).isFalse();
            } finally {
                kvm.close();
            }
            assertThat(Kvm.running()).doesNotContain(kvm);
        } finally {
            assertThat(Kvm.removeListener(recorder)).isTrue();
        }
        assertThat(recorder.events).containsExactly("started", "closed");
        assertThat(recorder.steps).extracting(StepRun::outcome).containsExactly("ok", "error-status", "timeout");
        assertThat(recorder.steps).allSatisfy(run -> {
            assertThat(run.program()).isEqualTo("guest");
            assertThat(run.acquired()).isTrue();
            assertThat(run.queueWaitNanos()).isNotNegative();
            assertThat(run.runNanos()).isPositive();
        });
        assertThat(recorder.steps.get(2).runNanos()).as("the spin ran until max_request_time").isGreaterThan(150_000_000L);
    }

    @Test
    void aListenerAddedLaterHearsOfRunningKvmsAndAFailingOneHarmsNothing() {
        try (Kvm kvm = Kvm.start(ProgramLibrary.parse(KvmTestEnvironment.guestLibrary("guest", ""), null), "late")) {
            Recorder recorder = new Recorder("late");
            KvmListener failing = new KvmListener() {
                @Override
                public void stepFinished(Kvm k, StepRun run) {
                    throw new IllegalStateException("a broken listener");
                }
            };
            Kvm.addListener(failing);
            Kvm.addListener(recorder);
            // The failing listener's warning is expected here: keep it out of the build log.
            Logger log = Logger.getLogger(Kvm.class.getName());
            Level level = log.getLevel();
            log.setLevel(Level.SEVERE);
            try {
                assertThat(recorder.events).containsExactly("started");
                assertThat(kvm.run("guest", Request.get("/a")).bodyAsString()).isEqualTo("/a|");
                assertThat(recorder.steps).hasSize(1);
            } finally {
                log.setLevel(level);
                Kvm.removeListener(failing);
                Kvm.removeListener(recorder);
            }
            assertThat(Kvm.removeListener(recorder)).as("already removed").isFalse();
        }
    }
}
