/*
 * kvmfilter.h — the C API of the kvmfilter sandbox core (libkvmfilter.so).
 *
 * A *program* is a static x86-64 Linux ELF executable. Creating a program boots it once in a
 * tiny KVM virtual machine until it calls wait_for_requests(); that state is frozen. The
 * program then owns up to `concurrency` *instances*, each a VM whose memory starts as a
 * copy-on-write view of the frozen state. A request acquires an instance, runs one handler
 * call in it, reads the response, and releases it; releasing resets the instance to the
 * frozen state (ephemeral programs, or after any failure).
 *
 * Conventions:
 *  - Functions return 0 (KVMF_OK) on success or a positive enum kvmf_error. On failure,
 *    kvmf_last_error() returns a message for the calling thread ("what, where, what is
 *    allowed"), valid until the next call on that thread.
 *  - Every field of the structs below is 8 bytes wide, so that bindings (JNA) cannot get
 *    the layout wrong.
 *  - Thread safety: a program may be used from many threads at once; one instance is used
 *    by one thread at a time (between acquire and release).
 *  - Guest failures never terminate the host process.
 */
#ifndef KVMFILTER_H
#define KVMFILTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KVMF_API_VERSION 1

/* Failure kinds. The names are stable: bindings and the JSON output of kvmrun use them. */
enum kvmf_error {
    KVMF_OK = 0,
    KVMF_TIMEOUT = 1,            /* the request (or boot) ran past its time limit */
    KVMF_OUT_OF_MEMORY = 2,      /* guest memory or the per-request memory limit exhausted */
    KVMF_MEMORY_FAULT = 3,       /* page fault: bad address or forbidden access (address, RIP) */
    KVMF_CPU_EXCEPTION = 4,      /* any other CPU exception or forbidden instruction (vector, RIP) */
    KVMF_BAD_API_CALL = 5,       /* an API call or syscall with an invalid pointer, length or argument */
    KVMF_NO_RESPONSE = 6,        /* the handler returned, or no handler exists, without a response */
    KVMF_PROGRAM_EXIT = 7,       /* the program called exit/exit_group during a request */
    KVMF_BOOT_FAILED = 8,        /* the program did not reach wait_for_requests() */
    KVMF_RESPONSE_TOO_LARGE = 9, /* the response body exceeded max_response_size */
    KVMF_QUEUE_TIMEOUT = 10,     /* no instance became free in time, or the wait queue is full */
    KVMF_INVALID_ARGUMENT = 11,  /* the host caller passed an invalid argument or configuration */
    KVMF_UNAVAILABLE = 12,       /* KVM is missing or not accessible */
    KVMF_INTERNAL = 13,          /* an unexpected host-side failure (ioctl, mmap), with errno */
    KVMF_ERROR_KIND_COUNT = 14
};

/* The stable upper-case name of an error kind ("TIMEOUT", ...); "UNKNOWN" when out of range. */
const char *kvmf_error_name(int kind);

/* The message of the last failure on the calling thread ("" when none). */
const char *kvmf_last_error(void);

/* Library version string, e.g. "kvmfilter 0.1.0 (api 1)". */
const char *kvmf_version(void);

/* What kvmf_layout_size() measures. */
enum kvmf_layout {
    KVMF_LAYOUT_CONFIG = 0,         /* sizeof(struct kvmf_config) */
    KVMF_LAYOUT_RESPONSE = 1,       /* sizeof(struct kvmf_response) */
    KVMF_LAYOUT_PROGRAM_STATS = 2,  /* sizeof(struct kvmf_program_stats) */
    KVMF_LAYOUT_INSTANCE_STATS = 3, /* sizeof(struct kvmf_instance_stats) */
    KVMF_LAYOUT_ERROR_KINDS = 4,    /* KVMF_ERROR_KIND_COUNT */
    KVMF_LAYOUT_SOCKET_RESULT = 5   /* sizeof(struct kvmf_socket_result) */
};

/* The size in bytes of a struct of this header as this library was built (or the count, for
 * KVMF_LAYOUT_ERROR_KINDS); 0 for an unknown value. Bindings that lay the structs out themselves
 * compare these at load. */
uint64_t kvmf_layout_size(int which);

/*
 * Checks that /dev/kvm can be opened and has the capabilities the core needs. Returns
 * KVMF_OK or KVMF_UNAVAILABLE with an actionable message in kvmf_last_error(): the device,
 * the errno, and the fix (the `kvm` group, `--device /dev/kvm`, loading the module).
 */
int kvmf_check_kvm(void);

/* Program configuration. Fill with kvmf_config_defaults() and change what you need. */
struct kvmf_config {
    uint64_t max_memory;          /* bytes of guest memory, address space included (default 256 MiB) */
    uint64_t max_request_memory;  /* bytes a single request may dirty or allocate (default 64 MiB) */
    uint64_t max_response_size;   /* bytes of response body (default 64 MiB) */
    uint64_t max_boot_time_ms;    /* time to reach wait_for_requests() (default 10000) */
    uint64_t max_request_time_ms; /* time for one request (default 8000) */
    uint64_t on_error_time_ms;    /* time for the on_error second chance (default 1000) */
    uint64_t concurrency;         /* instances, i.e. requests running at once (default 1) */
    uint64_t max_queue;           /* threads that may wait for a free instance (default 256) */
    uint64_t ephemeral;           /* 1: reset after every request (default); 0: only after failures */
    uint64_t debug;               /* 1: sys_is_debug() answers 1 and KVM_DEBUG=1 */
    const char *arguments;        /* main arguments after argv[0], each NUL-terminated, back to back */
    uint64_t arguments_len;       /* total bytes of `arguments` */
    const char *environment;      /* extra "NAME=value" strings, each NUL-terminated, back to back */
    uint64_t environment_len;     /* total bytes of `environment` */
    uint64_t shared_memory;       /* bytes of the shared memory area (0x10700), a multiple of 4096; 0: none */
    uint64_t storage;             /* 1: the program has a storage instance (storage_callv and tasks), booted first */
    const char *state_file;       /* host file the program sees as "state" (storage writes, all read); NULL: none */
    const char *allowed_paths;    /* read-only host files the program may open: pairs of NUL-terminated strings,
                                     the path the program opens then the host file, back to back; NULL: none */
    uint64_t allowed_paths_len;   /* total bytes of `allowed_paths` */
    uint64_t max_storage_memory;  /* bytes of the storage instance's memory (config.storage); 0: max_memory */
    uint64_t max_storage_time_ms; /* time for one storage call or task; 0: max_request_time_ms */
    const char *egress;           /* the egress policy (sys_fetch): "key=value" strings, each NUL-terminated, back
                                     to back; keys in docs/security.md; NULL: the program may not fetch */
    uint64_t egress_len;          /* total bytes of `egress` */
};

void kvmf_config_defaults(struct kvmf_config *config);

typedef struct kvmf_program kvmf_program;
typedef struct kvmf_instance kvmf_instance;

/*
 * Loads `elf` (copied; the caller may free it afterwards), boots it until wait_for_requests()
 * within max_boot_time_ms, and freezes it. `name` becomes argv[0] and KVM_NAME. On failure
 * *out is NULL and the error is KVMF_INVALID_ARGUMENT (bad ELF or config: the message names the
 * header, segment or setting), KVMF_BOOT_FAILED (the message includes the cause and the
 * program's last output), KVMF_UNAVAILABLE or KVMF_INTERNAL.
 */
int kvmf_program_create(const char *name, const void *elf, uint64_t elf_len,
                        const struct kvmf_config *config, kvmf_program **out);

/*
 * Destroys the program and its instances. No instance may be acquired at that time
 * (KVMF_INVALID_ARGUMENT otherwise, and nothing is destroyed).
 */
int kvmf_program_destroy(kvmf_program *program);

/* The output the program wrote while booting (stdout, stderr, sys_log), bounded. */
const char *kvmf_program_boot_log(const kvmf_program *program);

/*
 * Takes a free instance, creating it on first use (up to `concurrency`), waiting up to
 * timeout_ms for one to become free. KVMF_QUEUE_TIMEOUT when none became free in time or
 * when max_queue threads are already waiting.
 */
int kvmf_program_acquire(kvmf_program *program, uint64_t timeout_ms, kvmf_instance **out);

/*
 * Gives the instance back: resets it to the frozen state when the program is ephemeral or
 * the last request failed, then wakes one waiting thread. The last response becomes invalid.
 */
void kvmf_instance_release(kvmf_instance *instance);

/* Creates every instance not yet created (eager start); returns the first failure. */
int kvmf_program_prepare_instances(kvmf_program *program);

/*
 * Gives back the memory of instances that have been free for at least idle_ms: the private copies
 * of pages their requests wrote (madvise MADV_DONTNEED), so that a server returns to its baseline
 * after a burst. The next request on such an instance pays page faults again. Only ephemeral
 * programs are trimmed. *trimmed_bytes (may be NULL) gets how much was given back.
 */
int kvmf_program_trim(kvmf_program *program, uint64_t idle_ms, uint64_t *trimmed_bytes);

/*
 * Live update: moves the state of `from`'s storage into `to`'s (a new version of the program, with storage). The
 * old storage's serialize handler (register_func 6) hands its state to storage_return(data, len); the new storage's
 * restore handler (7) is called with that length and answers storage_return(buffer, len) naming where the state goes;
 * the host copies it there and the handler runs on. KVMF_OK also when there is nothing to move (no storage, or no
 * handler 6 in the old or 7 in the new version); on a failure `to` keeps the storage it booted with. *moved_bytes
 * (when given) is the size of the state moved.
 */
int kvmf_program_live_update(kvmf_program *from, kvmf_program *to, uint64_t *moved_bytes);

/* Flags of kvmf_instance_run. */
/* Marks the request as warm-up (kvm_request.info_flags 0x1): the host's own request, not a client's. Only
 * warm-up requests teach an instance its hot pages (pages kept writable); they are counted in
 * kvmf_program_stats.warmups, not in the request counters. */
#define KVMF_RUN_WARMUP 0x1u

/* The response of one request. Pointers refer to memory owned by the instance and stay
 * valid until kvmf_instance_release(). */
struct kvmf_response {
    int64_t status;               /* HTTP status from the program; 0 when the request failed */
    int64_t error;                /* enum kvmf_error; KVMF_OK when the program answered */
    const char *content_type;     /* not NUL-terminated */
    uint64_t content_type_len;
    const uint8_t *body;
    uint64_t body_len;
    const char *headers;          /* extra response headers, "Name: value\n" each */
    uint64_t headers_len;
    const char *error_message;    /* NUL-terminated; "" on success */
    const char *log;              /* program output during the request, bounded; not NUL-terminated */
    uint64_t log_len;
    int64_t on_error_used;        /* 1 when the answer came from the on_error handler */
    int64_t cacheable;            /* sys_set_cacheable: -1 never called, 0 or 1 */
    int64_t ttl_ms;               /* sys_set_cacheable hints (0 when not given) */
    int64_t grace_ms;
    int64_t keep_ms;
    uint64_t run_ns;              /* wall time from entering the guest to the response */
    uint64_t cpu_ns;              /* CPU time of the calling thread for the request */
    uint64_t dirty_pages;         /* guest pages the request wrote (host copies included) */
    uint64_t exits;               /* returns from the guest to the host (KVM_RUN), on_error included */
    uint64_t trap_exits;          /* those through the trap stub: syscalls, faults, API calls by `out`
                                     where ring-3 port I/O faults (PVM); the rest exited directly */
    uint64_t streamed_bytes;      /* body bytes handed to the stream's write (kvmf_instance_stream_to) */
    int64_t stream_begun;         /* 1 when the stream's begin was called: the head went to the caller */
    int64_t stream_stopped;       /* 1 when begin or write asked to stop (the client had gone) */
};

/*
 * A streaming response (begin_streaming_response) passed on as the program produces it, instead of gathered
 * into response->body. `begin` is called once with the head before the first piece (status, content type,
 * headers and caching hints as in the final response, body NULL and body_len the announced content length;
 * valid during the call); `write` once per piece
 * (the data is valid during the call). Either returns 0 to go on; anything else stops the stream (the client
 * has gone): the program's remaining callbacks are not run, the request ends without a failure (the instance is
 * reset at release). A failure after `begin` is reported as usual, but on_error is not run, since the head has
 * gone. Time spent in these calls is not charged to the program's time limit. Responses that do not stream
 * are returned whole as before.
 */
typedef int (*kvmf_stream_begin_fn)(void *ctx, const struct kvmf_response *head);
typedef int (*kvmf_stream_write_fn)(void *ctx, const uint8_t *data, uint64_t len);

/* Sets where the next kvmf_instance_run on this instance streams to (it applies to that run only); NULL
 * functions gather the body, the default. */
int kvmf_instance_stream_to(kvmf_instance *instance, kvmf_stream_begin_fn begin, kvmf_stream_write_fn write,
                            void *ctx);

/*
 * Outbound requests of a program: sys_fetch (0x20000) and sys_request (0x20001, to the server itself). The core
 * reads the program's request, hands it to the caller's handler and maps the answer into the program's memory
 * (counted against its request memory). Without a handler every such call is refused (-EPERM for the program):
 * where a program may connect is the host's policy, decided in the handler.
 */
struct kvmf_fetch_request {
    const char *url;              /* not NUL-terminated; valid during the call */
    uint64_t url_len;
    const char *method;           /* "GET" or "POST", NUL-terminated */
    const uint8_t *body;          /* the POST body, NULL for a GET */
    uint64_t body_len;
    const char *fields;           /* extra request header lines, "Name: value\n" each */
    uint64_t fields_len;
    int64_t self;                 /* 1 for sys_request: url is a path of the server itself */
    int64_t follow_location;      /* 1 when the program asked to follow redirects */
    uint64_t time_left_ms;        /* what the request's time limit leaves: the handler's time is the program's */
    uint64_t max_body;            /* the most body bytes the program can take (its request memory left) */
    int64_t insecure_tls;         /* 1 when the program asked not to verify TLS (dont_verify_host) */
};

typedef struct kvmf_fetch_reply kvmf_fetch_reply;

/* Makes the request. Returns 0 when `reply` holds the answer (set with kvmf_fetch_reply_*), or a positive errno
 * the program gets negated: EPERM (not allowed), ETIMEDOUT, EFBIG (larger than max_body), EIO (any other). */
typedef int (*kvmf_fetch_fn)(void *ctx, const struct kvmf_fetch_request *request, kvmf_fetch_reply *reply);

/* Sets the handler of the next kvmf_instance_run's outbound requests (that run only): its self-requests, and the
 * fetches of a program without an egress policy. A program with one (config.egress) always fetches by libcurl
 * within it, whatever the handler. Calls no one handles are refused (-EPERM). */
int kvmf_instance_fetch_with(kvmf_instance *instance, kvmf_fetch_fn fetch, void *ctx);

/* During the handler: the answer's status and Content-Type (not NUL-terminated; cut to 127 bytes). */
int kvmf_fetch_reply_status(kvmf_fetch_reply *reply, int64_t status, const char *content_type,
                            uint64_t content_type_len);
/* During the handler: one response header line "Name: value" (without line end); at most 64 KiB of them. */
int kvmf_fetch_reply_header(kvmf_fetch_reply *reply, const char *line, uint64_t len);
/* During the handler: more of the body. KVMF_RESPONSE_TOO_LARGE past max_body (nothing is kept then): stop. */
int kvmf_fetch_reply_body(kvmf_fetch_reply *reply, const void *data, uint64_t len);

/*
 * Runs one request in an acquired instance. `method`, `url`, `arg`, `content_type` are
 * NUL-terminated (arg and content_type may be NULL, meaning ""). A POST (body != NULL) calls
 * the POST handler, otherwise the GET handler; a program that registered the generic request
 * handler gets every request there, with `headers` ("Name: value" lines separated by '\n').
 * Returns the same value as response->error. After a failure the instance answers with
 * on_error (when registered) or not at all; either way it is reset when released.
 */
int kvmf_instance_run(kvmf_instance *instance, const char *method, const char *url,
                      const char *arg, const char *content_type, const void *body,
                      uint64_t body_len, const char *headers, uint64_t headers_len,
                      uint64_t flags, struct kvmf_response *response);

/*
 * Connection takeover (the VMOD's steal()): a client connection handed to a program that registered the socket
 * handler (register_func 12). One acquired instance serves one connection, as one long run made of deliveries:
 * kvmf_instance_socket_open calls the handler, which loops on wait_for_socket_events_paused (0x10002), and
 * delivers SOCKET_CONNECT then SOCKET_WRITABLE; kvmf_instance_socket_read delivers bytes from the client
 * (SOCKET_READ, in pieces of at most 64 KiB, each followed by SOCKET_WRITABLE); kvmf_instance_socket_close delivers
 * SOCKET_DISCONNECT with the reason, and ends the session. What the program writes to the connection
 * (sys_sockets_write 0x10500, or write() on the event's descriptor) goes to `write` as it writes it; the time
 * `write` takes is not the program's.
 *
 * Each delivery is bounded by max_request_time_ms; the pages a connection writes, in all, by max_request_memory.
 * A failure, the program closing its descriptor (close() or shutdown(), or a SOCKET_DISCONNECT entry given to
 * sys_sockets_write), or `write` asking to stop ends the session (result->closed); a delivery after the end is
 * refused (KVMF_INVALID_ARGUMENT). The instance is reset when released. Idle and total time limits are the
 * caller's: it owns the connection.
 */

/* Takes the program's bytes (valid during the call). 0 goes on; anything else means the client has gone. */
typedef int (*kvmf_socket_write_fn)(void *ctx, const uint8_t *data, uint64_t len);

/* The outcome of one delivery. */
struct kvmf_socket_result {
    int64_t error;                /* enum kvmf_error; KVMF_OK when the program took the event */
    int64_t closed;               /* 1 when the session has ended: close the connection */
    uint64_t bytes_written;       /* bytes the program wrote to the connection during this call */
    const char *error_message;    /* NUL-terminated; "" on success; valid until the next call on the instance */
    const char *log;              /* program output during this call, bounded; not NUL-terminated */
    uint64_t log_len;
    uint64_t run_ns;              /* wall time of this call in the guest and the host's calls for it */
};

/* 1 when the program registered the socket handler (register_func 12) and can be handed connections, else 0. */
int kvmf_program_takes_connections(const kvmf_program *program);

/* Starts a session on an acquired instance: `remote` (the client's address, "ip:port") and `arg` (the request's
 * path and query, say) are what the program's events carry; both NUL-terminated, NULL meaning "". Returns the
 * same value as result->error; KVMF_NO_RESPONSE when the program takes no connections. */
int kvmf_instance_socket_open(kvmf_instance *instance, const char *remote, const char *arg,
                              kvmf_socket_write_fn write, void *ctx, struct kvmf_socket_result *result);
/* Delivers bytes the client sent. */
int kvmf_instance_socket_read(kvmf_instance *instance, const void *data, uint64_t len,
                              struct kvmf_socket_result *result);
/* Tells the program the client has gone (or the host closes the connection: `reason` says why, NULL meaning
 * "closed") and ends the session. A session already ended returns KVMF_OK at once. */
int kvmf_instance_socket_close(kvmf_instance *instance, const char *reason, struct kvmf_socket_result *result);

/* Statistics of a program, summed over its instances. All counters only grow. */
struct kvmf_program_stats {
    uint64_t invocations;         /* requests run */
    uint64_t failures;            /* requests that failed, any kind */
    uint64_t failures_by_kind[KVMF_ERROR_KIND_COUNT];
    uint64_t on_error_answers;    /* failures answered by on_error */
    uint64_t resets;              /* instance resets */
    uint64_t reset_ns;            /* total time spent resetting */
    uint64_t run_ns;              /* total wall time in requests */
    uint64_t cpu_ns;              /* total CPU time in requests */
    uint64_t bytes_in;            /* request bodies copied into guests */
    uint64_t bytes_out;           /* response bodies produced */
    uint64_t dirty_pages;         /* pages dirtied by requests */
    uint64_t queue_waits;         /* acquires that had to wait */
    uint64_t queue_timeouts;      /* acquires that gave up */
    uint64_t queue_wait_ns;       /* total time spent waiting */
    uint64_t instances;           /* instances that exist now */
    uint64_t instances_busy;      /* instances acquired right now */
    uint64_t boot_ns;             /* time the boot took */
    uint64_t frozen_bytes;        /* bytes of the frozen memory image in use */
    uint64_t instance_bytes;      /* bytes instances hold as private copies of written pages, now */
    uint64_t max_memory;          /* configured limits, for reports */
    uint64_t max_request_memory;
    uint64_t unsupported_calls;   /* syscalls or API calls answered with -ENOSYS */
    uint64_t refused_calls;       /* init-only calls (register_func) refused during requests */
    uint64_t warmups;             /* warm-up requests (KVMF_RUN_WARMUP) run; the counters above leave them out */
    uint64_t exits;               /* guest exits to the host in requests (exits / invocations: the cost) */
    uint64_t trap_exits;          /* those that went through the trap stub (see kvmf_response) */
    uint64_t trimmed_bytes;       /* memory given back by kvmf_program_trim, in all */
    uint64_t storage_calls;       /* storage_callv calls that ran in storage (config.storage) */
    uint64_t storage_failures;    /* storage runs (calls and tasks) that failed: each restarted storage */
    uint64_t storage_tasks;       /* storage tasks run */
    uint64_t storage_task_failures; /* storage tasks that failed or found storage busy past their time */
    uint64_t fetches;             /* sys_fetch calls made under the egress policy (config.egress) */
    uint64_t fetch_refusals;      /* sys_fetch calls the policy refused (host, address, limits) */
    uint64_t fetch_failures;      /* fetches that failed otherwise (timeout, too large, network) */
    uint64_t fetch_bytes;         /* response bytes fetched */
    uint64_t connections;         /* connections handed to the program (kvmf_instance_socket_open) */
    uint64_t connection_failures; /* of those, ended by a failure of the program (time, memory, crash...) */
    uint64_t connection_bytes_in; /* bytes of the clients delivered to programs (SOCKET_READ) */
    uint64_t connection_bytes_out; /* bytes programs wrote to their connections */
};

int kvmf_program_stats(const kvmf_program *program, struct kvmf_program_stats *out);

/* Statistics of one instance: index 0 .. instances-1 of the instances that exist now, in slot order (one being
 * replaced after a failed reset is left out meanwhile). */
struct kvmf_instance_stats {
    uint64_t invocations;
    uint64_t failures;
    uint64_t resets;
    uint64_t reset_ns;
    uint64_t run_ns;
    uint64_t cpu_ns;
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t dirty_pages;
    uint64_t last_dirty_pages;
    uint64_t busy;                /* 1 while acquired */
    uint64_t exits;               /* guest exits to the host in requests (see kvmf_response) */
    uint64_t trap_exits;
};

int kvmf_instance_stats(const kvmf_program *program, uint64_t index, struct kvmf_instance_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* KVMFILTER_H */
