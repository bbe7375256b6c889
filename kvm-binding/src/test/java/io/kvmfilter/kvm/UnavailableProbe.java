package io.kvmfilter.kvm;

/**
 * Started by {@link KvmUnavailableTest} in a child JVM without access to /dev/kvm: prints what
 * Kvm.checkAvailable() and Kvm.start() throw, one line each, as "ClassName: message".
 */
public final class UnavailableProbe {
    private UnavailableProbe() {
    }

    public static void main(String[] args) {
        try {
            Kvm.checkAvailable();
            System.out.println("checkAvailable: no exception");
        } catch (RuntimeException e) {
            System.out.println("checkAvailable: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        try (Kvm kvm = Kvm.start(ProgramLibrary.bundled())) {
            System.out.println("start: no exception " + kvm);
        } catch (RuntimeException e) {
            System.out.println("start: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
