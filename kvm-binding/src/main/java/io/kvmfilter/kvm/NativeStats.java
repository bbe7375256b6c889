package io.kvmfilter.kvm;

import com.sun.jna.Pointer;

/**
 * A struct kvmf_program_stats read in one copy, as raw values in header order (see {@link NativeLayout}).
 * Counters of programs already destroyed (after invalidation) are added up with {@link #plusCounters}.
 */
final class NativeStats {
    static final int FIELDS = (int) (NativeLayout.PSTATS_SIZE / 8);

    final long[] values;

    private NativeStats(long[] values) {
        this.values = values;
    }

    static NativeStats zero() {
        return new NativeStats(new long[FIELDS]);
    }

    /** @throws KvmException when the core refuses (which means a binding bug) */
    static NativeStats read(long program) {
        long address = NativeMemory.allocate(NativeLayout.PSTATS_SIZE);
        try {
            int rc = KvmNative.kvmf_program_stats(program, address);
            if (rc != 0) {
                throw new KvmException("kvmf_program_stats failed: " + NativeStrings.lastError());
            }
            long[] values = new long[FIELDS];
            new Pointer(address).read(0, values, 0, FIELDS);
            return new NativeStats(values);
        } finally {
            NativeMemory.free(address);
        }
    }

    long get(long offset) {
        return values[slot(offset)];
    }

    /** The index in a field array of the field at this byte offset. */
    private static int slot(long offset) {
        return (int) (offset / 8);
    }

    /** @return the failures of a native kind (1..13) */
    long failuresOfKind(int kind) {
        return values[(int) (NativeLayout.PSTATS_FAILURES_BY_KIND / 8) + kind];
    }

    /** Fields from instances to max_request_memory are gauges or settings of the current program, not counters. */
    private static final int FIRST_GAUGE = (int) (NativeLayout.PSTATS_INSTANCES / 8);
    private static final int LAST_GAUGE = (int) (NativeLayout.PSTATS_MAX_REQUEST_MEMORY / 8);

    /** @return this plus other's counters (gauges and settings are taken from this) */
    NativeStats plusCounters(NativeStats other) {
        long[] sum = values.clone();
        for (int i = 0; i < FIELDS; i++) {
            boolean counter = i < FIRST_GAUGE || i > LAST_GAUGE;
            if (counter) {
                sum[i] += other.values[i];
            }
        }
        return new NativeStats(sum);
    }

    /** @return the statistics of instance index, read in one copy */
    static KvmStats.Instance readInstance(long program, int index) {
        long address = NativeMemory.allocate(NativeLayout.ISTATS_SIZE);
        try {
            int rc = KvmNative.kvmf_instance_stats(program, index, address);
            if (rc != 0) {
                throw new KvmException("kvmf_instance_stats(" + index + ") failed: " + NativeStrings.lastError());
            }
            long[] v = new long[(int) (NativeLayout.ISTATS_SIZE / 8)];
            new Pointer(address).read(0, v, 0, v.length);
            return new KvmStats.Instance(index, v[slot(NativeLayout.ISTATS_INVOCATIONS)],
                    v[slot(NativeLayout.ISTATS_FAILURES)], v[slot(NativeLayout.ISTATS_RESETS)],
                    v[slot(NativeLayout.ISTATS_RESET_NS)], v[slot(NativeLayout.ISTATS_RUN_NS)],
                    v[slot(NativeLayout.ISTATS_CPU_NS)], v[slot(NativeLayout.ISTATS_BYTES_IN)],
                    v[slot(NativeLayout.ISTATS_BYTES_OUT)], v[slot(NativeLayout.ISTATS_DIRTY_PAGES)],
                    v[slot(NativeLayout.ISTATS_LAST_DIRTY_PAGES)], v[slot(NativeLayout.ISTATS_BUSY)] != 0,
                    v[slot(NativeLayout.ISTATS_EXITS)], v[slot(NativeLayout.ISTATS_TRAP_EXITS)]);
        } finally {
            NativeMemory.free(address);
        }
    }
}
