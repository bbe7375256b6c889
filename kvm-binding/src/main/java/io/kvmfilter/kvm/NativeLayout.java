package io.kvmfilter.kvm;

/**
 * Byte offsets of the fields of the kvmfilter.h structs. Every field there is 8 bytes wide, so a field's
 * offset is 8 times its position; the names below follow the header's field order.
 */
final class NativeLayout {
    private NativeLayout() {
    }

    private static long field(int index) {
        return 8L * index;
    }

    /** struct kvmf_config. */
    static final long CONFIG_MAX_MEMORY = field(0);
    static final long CONFIG_MAX_REQUEST_MEMORY = field(1);
    static final long CONFIG_MAX_RESPONSE_SIZE = field(2);
    static final long CONFIG_MAX_BOOT_TIME_MS = field(3);
    static final long CONFIG_MAX_REQUEST_TIME_MS = field(4);
    static final long CONFIG_ON_ERROR_TIME_MS = field(5);
    static final long CONFIG_CONCURRENCY = field(6);
    static final long CONFIG_MAX_QUEUE = field(7);
    static final long CONFIG_EPHEMERAL = field(8);
    static final long CONFIG_DEBUG = field(9);
    static final long CONFIG_ARGUMENTS = field(10);
    static final long CONFIG_ARGUMENTS_LEN = field(11);
    static final long CONFIG_ENVIRONMENT = field(12);
    static final long CONFIG_ENVIRONMENT_LEN = field(13);
    static final long CONFIG_SHARED_MEMORY = field(14);
    static final long CONFIG_STORAGE = field(15);
    static final long CONFIG_STATE_FILE = field(16);
    static final long CONFIG_ALLOWED_PATHS = field(17);
    static final long CONFIG_ALLOWED_PATHS_LEN = field(18);
    static final long CONFIG_MAX_STORAGE_MEMORY = field(19);
    static final long CONFIG_MAX_STORAGE_TIME_MS = field(20);
    static final long CONFIG_EGRESS = field(21);
    static final long CONFIG_EGRESS_LEN = field(22);
    static final long CONFIG_SIZE = field(23);

    /** struct kvmf_response. */
    static final long RESPONSE_STATUS = field(0);
    static final long RESPONSE_ERROR = field(1);
    static final long RESPONSE_CONTENT_TYPE = field(2);
    static final long RESPONSE_CONTENT_TYPE_LEN = field(3);
    static final long RESPONSE_BODY = field(4);
    static final long RESPONSE_BODY_LEN = field(5);
    static final long RESPONSE_HEADERS = field(6);
    static final long RESPONSE_HEADERS_LEN = field(7);
    static final long RESPONSE_ERROR_MESSAGE = field(8);
    static final long RESPONSE_LOG = field(9);
    static final long RESPONSE_LOG_LEN = field(10);
    static final long RESPONSE_ON_ERROR_USED = field(11);
    static final long RESPONSE_CACHEABLE = field(12);
    static final long RESPONSE_TTL_MS = field(13);
    static final long RESPONSE_GRACE_MS = field(14);
    static final long RESPONSE_KEEP_MS = field(15);
    static final long RESPONSE_RUN_NS = field(16);
    static final long RESPONSE_CPU_NS = field(17);
    static final long RESPONSE_DIRTY_PAGES = field(18);
    static final long RESPONSE_EXITS = field(19);
    static final long RESPONSE_TRAP_EXITS = field(20);
    static final long RESPONSE_STREAMED_BYTES = field(21);
    static final long RESPONSE_STREAM_BEGUN = field(22);
    static final long RESPONSE_STREAM_STOPPED = field(23);
    static final long RESPONSE_SIZE = field(24);

    /** KVMF_ERROR_KIND_COUNT: the length of failures_by_kind, KVMF_OK included. */
    static final int ERROR_KIND_COUNT = 14;

    /** struct kvmf_program_stats. */
    static final long PSTATS_INVOCATIONS = field(0);
    static final long PSTATS_FAILURES = field(1);
    static final long PSTATS_FAILURES_BY_KIND = field(2);
    static final long PSTATS_ON_ERROR_ANSWERS = field(2 + ERROR_KIND_COUNT);
    static final long PSTATS_RESETS = field(3 + ERROR_KIND_COUNT);
    static final long PSTATS_RESET_NS = field(4 + ERROR_KIND_COUNT);
    static final long PSTATS_RUN_NS = field(5 + ERROR_KIND_COUNT);
    static final long PSTATS_CPU_NS = field(6 + ERROR_KIND_COUNT);
    static final long PSTATS_BYTES_IN = field(7 + ERROR_KIND_COUNT);
    static final long PSTATS_BYTES_OUT = field(8 + ERROR_KIND_COUNT);
    static final long PSTATS_DIRTY_PAGES = field(9 + ERROR_KIND_COUNT);
    static final long PSTATS_QUEUE_WAITS = field(10 + ERROR_KIND_COUNT);
    static final long PSTATS_QUEUE_TIMEOUTS = field(11 + ERROR_KIND_COUNT);
    static final long PSTATS_QUEUE_WAIT_NS = field(12 + ERROR_KIND_COUNT);
    static final long PSTATS_INSTANCES = field(13 + ERROR_KIND_COUNT);
    static final long PSTATS_INSTANCES_BUSY = field(14 + ERROR_KIND_COUNT);
    static final long PSTATS_BOOT_NS = field(15 + ERROR_KIND_COUNT);
    static final long PSTATS_FROZEN_BYTES = field(16 + ERROR_KIND_COUNT);
    static final long PSTATS_INSTANCE_BYTES = field(17 + ERROR_KIND_COUNT);
    static final long PSTATS_MAX_MEMORY = field(18 + ERROR_KIND_COUNT);
    static final long PSTATS_MAX_REQUEST_MEMORY = field(19 + ERROR_KIND_COUNT);
    static final long PSTATS_UNSUPPORTED_CALLS = field(20 + ERROR_KIND_COUNT);
    static final long PSTATS_REFUSED_CALLS = field(21 + ERROR_KIND_COUNT);
    static final long PSTATS_WARMUPS = field(22 + ERROR_KIND_COUNT);
    static final long PSTATS_EXITS = field(23 + ERROR_KIND_COUNT);
    static final long PSTATS_TRAP_EXITS = field(24 + ERROR_KIND_COUNT);
    static final long PSTATS_TRIMMED_BYTES = field(25 + ERROR_KIND_COUNT);
    static final long PSTATS_STORAGE_CALLS = field(26 + ERROR_KIND_COUNT);
    static final long PSTATS_STORAGE_FAILURES = field(27 + ERROR_KIND_COUNT);
    static final long PSTATS_STORAGE_TASKS = field(28 + ERROR_KIND_COUNT);
    static final long PSTATS_STORAGE_TASK_FAILURES = field(29 + ERROR_KIND_COUNT);
    static final long PSTATS_FETCHES = field(30 + ERROR_KIND_COUNT);
    static final long PSTATS_FETCH_REFUSALS = field(31 + ERROR_KIND_COUNT);
    static final long PSTATS_FETCH_FAILURES = field(32 + ERROR_KIND_COUNT);
    static final long PSTATS_FETCH_BYTES = field(33 + ERROR_KIND_COUNT);
    static final long PSTATS_CONNECTIONS = field(34 + ERROR_KIND_COUNT);
    static final long PSTATS_CONNECTION_FAILURES = field(35 + ERROR_KIND_COUNT);
    static final long PSTATS_CONNECTION_BYTES_IN = field(36 + ERROR_KIND_COUNT);
    static final long PSTATS_CONNECTION_BYTES_OUT = field(37 + ERROR_KIND_COUNT);
    static final long PSTATS_SIZE = field(38 + ERROR_KIND_COUNT);

    /** struct kvmf_fetch_request (read by a FetchHandler; the core owns it). */
    static final long FETCH_REQUEST_URL = field(0);
    static final long FETCH_REQUEST_URL_LEN = field(1);
    static final long FETCH_REQUEST_METHOD = field(2);
    static final long FETCH_REQUEST_BODY = field(3);
    static final long FETCH_REQUEST_BODY_LEN = field(4);
    static final long FETCH_REQUEST_FIELDS = field(5);
    static final long FETCH_REQUEST_FIELDS_LEN = field(6);
    static final long FETCH_REQUEST_SELF = field(7);
    static final long FETCH_REQUEST_FOLLOW_LOCATION = field(8);
    static final long FETCH_REQUEST_TIME_LEFT_MS = field(9);
    static final long FETCH_REQUEST_MAX_BODY = field(10);
    static final long FETCH_REQUEST_INSECURE_TLS = field(11);
    static final long FETCH_REQUEST_SIZE = field(12);

    /** struct kvmf_socket_result (the outcome of one delivery to a connection's program). */
    static final long SOCKET_ERROR = field(0);
    static final long SOCKET_CLOSED = field(1);
    static final long SOCKET_BYTES_WRITTEN = field(2);
    static final long SOCKET_ERROR_MESSAGE = field(3);
    static final long SOCKET_LOG = field(4);
    static final long SOCKET_LOG_LEN = field(5);
    static final long SOCKET_RUN_NS = field(6);
    static final long SOCKET_RESULT_SIZE = field(7);

    /** struct kvmf_instance_stats. */
    static final long ISTATS_INVOCATIONS = field(0);
    static final long ISTATS_FAILURES = field(1);
    static final long ISTATS_RESETS = field(2);
    static final long ISTATS_RESET_NS = field(3);
    static final long ISTATS_RUN_NS = field(4);
    static final long ISTATS_CPU_NS = field(5);
    static final long ISTATS_BYTES_IN = field(6);
    static final long ISTATS_BYTES_OUT = field(7);
    static final long ISTATS_DIRTY_PAGES = field(8);
    static final long ISTATS_LAST_DIRTY_PAGES = field(9);
    static final long ISTATS_BUSY = field(10);
    static final long ISTATS_EXITS = field(11);
    static final long ISTATS_TRAP_EXITS = field(12);
    static final long ISTATS_SIZE = field(13);
}
