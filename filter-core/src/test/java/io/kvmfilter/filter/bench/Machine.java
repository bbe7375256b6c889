package io.kvmfilter.filter.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The machine a benchmark ran on, in one line: CPU model, cores, RAM, kernel and which KVM module serves /dev/kvm. */
final class Machine {

    private Machine() {
    }

    static String describe() {
        String model = firstValue("/proc/cpuinfo", "model name").orElse("unknown CPU");
        String memKb = firstValue("/proc/meminfo", "MemTotal").orElse("0 kB").replace("kB", "").trim();
        double memGiB = Long.parseLong(memKb) / 1024.0 / 1024.0;
        String kernel = System.getProperty("os.version");
        String kvm = Files.isDirectory(Path.of("/sys/module/kvm_pvm")) ? "PVM (kvm_pvm, software virtualization)"
                : Files.isDirectory(Path.of("/sys/module/kvm_intel")) ? "kvm_intel"
                : Files.isDirectory(Path.of("/sys/module/kvm_amd")) ? "kvm_amd" : "unknown module";
        return String.format(Locale.ROOT, "\"%s\", %d cores, %.0f GiB RAM, kernel %s, /dev/kvm: %s", model,
                Runtime.getRuntime().availableProcessors(), memGiB, kernel, kvm);
    }

    /** The machine-wide CPU counters of /proc/stat's "cpu" line (user nice system idle iowait irq softirq steal). */
    static long[] cpuTicks() {
        try {
            String line = Files.readAllLines(Path.of("/proc/stat")).get(0);
            String[] fields = line.trim().split("\\s+");
            long[] ticks = new long[8];
            for (int i = 0; i < ticks.length && i + 1 < fields.length; i++) {
                ticks[i] = Long.parseLong(fields[i + 1]);
            }
            return ticks;
        } catch (IOException | RuntimeException e) {
            return new long[8];
        }
    }

    /** The share of the machine's CPU time that was idle (idle + iowait) between two {@link #cpuTicks()} readings. */
    static double idleShare(long[] before, long[] after) {
        long total = 0;
        for (int i = 0; i < before.length; i++) {
            total += after[i] - before[i];
        }
        long idle = (after[3] - before[3]) + (after[4] - before[4]);
        return total == 0 ? Double.NaN : (double) idle / total;
    }

    private static java.util.Optional<String> firstValue(String file, String key) {
        try {
            List<String> lines = Files.readAllLines(Path.of(file));
            return lines.stream().filter(l -> l.startsWith(key)).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim());
        } catch (IOException e) {
            return java.util.Optional.empty();
        }
    }
}
