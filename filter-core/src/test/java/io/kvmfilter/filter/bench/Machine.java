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
