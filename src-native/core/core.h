/*
 * core.h — internal types and functions of the sandbox core. Only kvmfilter.h is public.
 */
#ifndef KVMF_CORE_H
#define KVMF_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvm_sregs;
struct trap_frame;

#include "../include/kvmfilter.h"
#define KVM_ABI_HOST
#include "../sdk/kvm_abi.h"
#include "layout.h"

#define KVMF_VERSION "0.1.0"

/* ---- errors (error.c) ---------------------------------------------------------------- */

/* Records a message for kvmf_last_error() and returns `kind`. */
int kvmf_fail(int kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* KVMF_INTERNAL naming the failed call and errno. */
int kvmf_fail_errno(const char *call);

/* Adds to a statistics counter: written only by the thread holding the instance, read by any. */
#define STAT_ADD(field, value) __atomic_fetch_add(&(field), (value), __ATOMIC_RELAXED)

/* ---- time ----------------------------------------------------------------------------- */

uint64_t now_ns(void);
uint64_t thread_cpu_ns(void);

/* ---- growable byte buffer (buffer.c) --------------------------------------------------- */

struct buffer {
    char *data;
    size_t len;
    size_t cap;
};

/* Appends up to `limit - len` bytes; returns false when truncated or out of memory. */
bool buffer_append(struct buffer *b, const void *data, size_t len, size_t limit);
void buffer_clear(struct buffer *b);
void buffer_free(struct buffer *b);

/* ---- KVM (kvm.c) ----------------------------------------------------------------------- */

/* What the host's KVM offers, probed once. */
struct kvm_host {
    int fd;                     /* /dev/kvm */
    int run_size;               /* KVM_GET_VCPU_MMAP_SIZE */
    void *cpuid;                /* struct kvm_cpuid2 *, from KVM_GET_SUPPORTED_CPUID */
    uint64_t xcr0;              /* XCR0 the guest gets (0 when KVM does not manage it, as on PVM) */
    bool xsave;                 /* the stub may use xrstor */
    bool fsgsbase;              /* CR4.FSGSBASE may be set: programs may use wrfsbase themselves */
    uint64_t hwcap;             /* AT_HWCAP: CPUID.1:EDX */
    bool exit_on_emulation_failure; /* KVM_CAP_EXIT_ON_EMULATION_FAILURE offered (Linux 5.14+) */
    bool on_qemu_tcg;           /* this host is itself a QEMU TCG guest (kvm.c: the TSS type) */
};

/* Opens /dev/kvm once per process; KVMF_UNAVAILABLE with an actionable message on failure. */
int kvm_host_get(const struct kvm_host **out);

/* One VM with one vCPU over one memory slot. */
struct vm {
    int fd;
    int vcpu_fd;
    struct kvm_run *run;
    uint8_t *mem;               /* host mapping of guest memory (see guest_memory_map) */
    uint64_t mem_size;          /* the program's memory, from guest address 0 */
    bool dirty_log;
    bool manual_protect;        /* KVM_GET_DIRTY_LOG leaves pages writable until KVM_CLEAR_DIRTY_LOG */
    struct kvm_sregs *user_sregs; /* ring-3 segment state, the template for vm_enter_user() */
};

/* `shm_size` bytes at guest address `shm_addr` (0: none) are the program's shared area: a memory slot
 * of their own, never dirty-logged, at mem + shm_addr in the host. */
int vm_create(struct vm *vm, uint8_t *mem, uint64_t mem_size, bool dirty_log, uint64_t shm_addr, uint64_t shm_size);
void vm_destroy(struct vm *vm);
/* Sets the FS base (arch_prctl) while the vCPU is stopped in the stub. */
int vm_set_fs_base(struct vm *vm, uint64_t fs_base);
/* Sets the FS and GS bases at once (a thread switch). */
int vm_set_segment_bases(struct vm *vm, uint64_t fs_base, uint64_t gs_base);
/* Makes the next KVM_RUN start directly in ring 3 with the frame's registers and `fs_base`, through
 * the sync-regs area (no separate ioctls, no pass through the stub). */
void vm_enter_user(struct vm *vm, const struct trap_frame *f, uint64_t fs_base);
/* The ring-3 registers of the last exit (valid for exits taken in ring 3, such as API page
 * stores), as a trap frame. */
void vm_exit_regs(const struct vm *vm, struct trap_frame *f);
/* The registers of a vCPU stopped by a signal (KVM_RUN returned EINTR), wherever it was: whether it is in ring 3
 * with no event on its way in (only then may other registers be loaded), and its FS base. */
int vm_interrupted_regs(struct vm *vm, struct trap_frame *f, bool *in_user, uint64_t *fs_base);
/* Continues the interrupted ring-3 code with the frame's general registers (segments unchanged). */
void vm_resume_user(struct vm *vm, const struct trap_frame *f);
/* Fetches the dirty page bitmap of the program's memory slot into `bitmap`: bit i is page
 * USER_MIN / PAGE_SIZE + i. KVM then clears it and write-protects the pages again, unless
 * manual_protect: then that is vm_clear_dirty_log()'s job. */
int vm_get_dirty_log(struct vm *vm, uint64_t *bitmap);
/* With manual_protect: write-protects again, and forgets, the pages set in `bitmap` (same layout). */
int vm_clear_dirty_log(struct vm *vm, uint64_t *bitmap);
/* Reads the FS base of the vCPU (used once, when freezing). */
int vm_get_fs_base(struct vm *vm, uint64_t *fs_base);

/* ---- guest memory image (sysarea.c, paging.c, elf.c) ------------------------------------ */

struct elf_image {
    uint64_t entry;
    uint64_t phdr_addr;
    uint64_t phnum;
    uint64_t load_start;        /* lowest loaded address */
    uint64_t load_end;          /* end of the highest segment (memsz) */
};

/* Validates a static ELF executable and copies its segments into `mem`; the page table entries
 * for them are added to `pt`. KVMF_INVALID_ARGUMENT with a precise message when malformed. */
struct page_tables;
int elf_load(const uint8_t *elf, uint64_t len, uint8_t *mem, uint64_t mem_size,
             struct page_tables *pt, struct elf_image *out);

/* Page-table builder writing into guest memory (the pool at PT_POOL_ADDR). */
struct page_tables {
    uint8_t *mem;
    uint64_t mem_size;
    uint64_t next_free;         /* next free page of the pool */
};

#define PTE_PRESENT 0x1ULL
#define PTE_WRITE 0x2ULL
#define PTE_USER 0x4ULL
#define PTE_ACCESSED 0x20ULL
#define PTE_DIRTY 0x40ULL
#define PTE_HUGE 0x80ULL
#define PTE_NX (1ULL << 63)

void pt_init(struct page_tables *pt, uint8_t *mem, uint64_t mem_size);
/* Maps [addr, addr+len) identity with 4 KiB pages and `flags` (PTE_* without PRESENT). */
int pt_map(struct page_tables *pt, uint64_t addr, uint64_t len, uint64_t flags);
/* Same with 2 MiB pages; addr and len must be 2 MiB aligned. */
int pt_map_huge(struct page_tables *pt, uint64_t addr, uint64_t len, uint64_t flags);
/* Writes GDT, TSS, IDT, the stub, the user trap page, GS table, stub data and FPU image. */
int sysarea_write(uint8_t *mem, struct page_tables *pt);

/* ---- the trap frame ---------------------------------------------------------------------- */

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};
_Static_assert(sizeof(struct trap_frame) == FRAME_QWORDS * 8, "frame layout matches stub.S");

/* ---- guest address space bookkeeping (memory.c) ----------------------------------------- */

struct range {
    uint64_t addr;
    uint64_t len;
};

/* Where brk and mmap hand out memory. Copied as a whole when freezing and resetting. */
struct address_space {
    uint64_t brk_start;
    uint64_t brk;
    uint64_t brk_high;          /* highest brk since the frozen state: above is known zero */
    uint64_t mmap_floor;        /* mmap hands out memory top-down; below the floor is fresh */
    uint64_t mmap_top;          /* start of the stack region */
    struct range *holes;        /* freed ranges inside [mmap_floor, mmap_top), sorted */
    size_t nholes;
    size_t holes_cap;
};

int as_copy(struct address_space *dst, const struct address_space *src);
void as_free(struct address_space *as);

/* ---- programs and instances --------------------------------------------------------------- */

/* PHASE_STORAGE: a function called in the storage instance (storage_callv, or a storage task). PHASE_SOCKET: a
 * delivery to a taken-over connection's VM (socket.c). */
enum phase { PHASE_BOOT, PHASE_REQUEST, PHASE_ON_ERROR, PHASE_STORAGE, PHASE_SOCKET };

/* Pages a request (or a connection) may dirty beyond max_request_memory before it counts as out of memory: its
 * stack, its input and libc's own bookkeeping, so that a program which stays within its allocations (brk and mmap
 * are charged against max_request_memory) is never refused. */
#define DIRTY_SLACK (U(2) << 20)

struct header {
    char *text;                 /* "Name: value", NUL-terminated */
    size_t len;
};

struct header_list {
    struct header *items;
    size_t count;
    size_t cap;
    size_t bytes;               /* sum of the items' lengths: what the list makes the host hold */
};

/* One guest run: boot, a request, or on_error. Filled by the trap handlers. */
struct exchange {
    enum phase phase;
    uint64_t deadline_ns;
    bool finished;              /* a response, a freeze point or a failure ended the run */
    int error;                  /* KVMF_OK or the failure kind */
    char message[512];
    bool froze;                 /* boot reached wait_for_requests (paused or not) */
    bool paused_mode;           /* boot reached wait_for_requests_paused */
    uint64_t paused_req_addr;   /* its struct kvm_request pointer */
    bool enomem;                /* an allocation failed: a later crash is out-of-memory */
    uint64_t request_alloc;     /* bytes brk/mmap handed out during this run and not given back */
    uint64_t request_peak;      /* the most request_alloc has been in this run */
    uint64_t fetch_ns;          /* time sys_fetch spent in this run (the egress policy's max_time_ms) */
    int64_t status;
    uint64_t ctype_addr, ctype_len;
    uint64_t body_addr, body_len;
    struct header_list request_headers;
    struct header_list response_headers;
    struct buffer response_header_text;
    struct buffer log;
    int64_t cacheable, ttl_ms, grace_ms, keep_ms;
    char method[16];
    /* begin_streaming_response (stream.c): the body comes from the program's callback, into stream_body */
    bool streaming;
    bool stream_post;           /* the streaming POST handler (4) is running on a segment of the body */
    bool chunk_ready;           /* the callback returned: rax:rdx ({data, len}, or 4's result) in chunk_addr, chunk_len */
    uint64_t stream_cb, stream_arg, stream_total, stream_sp, chunk_addr, chunk_len;
    uint64_t stream_written;    /* body bytes the callbacks gave, gathered or passed to the sink */
    bool stream_begun;          /* the sink's begin was called */
    bool stream_stopped;        /* the sink asked to stop */
    struct buffer stream_body, stream_ctype;
    /* PHASE_STORAGE: what storage_return handed back (at most storage_result_max bytes) */
    struct buffer storage_result;
    uint64_t storage_result_max;
    bool storage_returned;
    const struct buffer *restore_data; /* live update: storage_return copies this into the buffer it names */
};

/* Compiled regular expressions (regex.c): PCRE2 codes, NULL where free. */
#define REGEX_SET_MAX 64
struct regex_set {
    void *code[REGEX_SET_MAX];
};

/* The files a VM has open (files.c): fds FILE_FD_BASE .. FILE_FD_BASE + OPEN_FILES_MAX - 1. */
#define FILE_FD_BASE 3
#define OPEN_FILES_MAX 8
#define ALLOWED_PATHS_MAX 64
#define STATE_FILE (-1)          /* open_file.file of the state file; 0.. index allowed_paths */
struct open_file {
    bool open, writable, append;
    int file;
    uint64_t pos;
};
/* A read-only host file a program may open (config.allowed_paths), opened when the program is created. */
struct allowed_file {
    const char *path;           /* what the program opens (points into kvmf_program.allowed_paths) */
    int fd;
};

/* The threads of a program (threads.c), run one at a time on the instance's vCPU. */
#define THREADS_MAX 64
enum thread_state { THREAD_FREE, THREAD_RUNNING, THREAD_RUNNABLE, THREAD_WAITING };
struct guest_thread {
    int32_t tid;
    uint8_t state;              /* enum thread_state */
    bool timed;                 /* its futex wait has a timeout */
    uint32_t bitset;            /* its futex wait's bitset */
    uint64_t futex;             /* the word it waits on */
    uint64_t clear_tid;         /* set_tid_address, CLONE_CHILD_CLEARTID: zeroed and woken at its exit */
    uint64_t fs_base;           /* while it does not run */
    uint64_t gs_base;           /* its entry of the GS table: vcpuid() reads it (multiprocess workers 1..) */
    uint8_t worker;             /* 0, or the multiprocess worker this thread is (multiprocess.c) */
    struct trap_frame frame;    /* where it resumes, in resume form (not kept for the running thread) */
    void *xsave;                /* its vector state (struct kvm_xsave), likewise */
};
struct thread_set {
    struct guest_thread *items; /* [THREADS_MAX]; NULL while the program has never had a second thread */
    uint32_t count;             /* threads alive */
    uint32_t current;           /* the running one */
    int32_t next_tid;
    bool switched;              /* the current syscall made another thread run: the frame already says where */
    uint64_t slice_start_ns;    /* when the running thread began to run */
    bool mp_active;             /* multiprocess.c: workers were started and multiprocess_wait has not ended */
    uint32_t mp_running;        /* how many of them have not ended */
    uint64_t main_clear_tid;    /* set_tid_address before there was a set */
};

/* The epoll instance and the wake-up pipe of a language runtime (netpoll.c). */
struct netpoll {
    bool epoll, pipe;           /* created (and not closed) */
    bool watched;               /* the pipe's read end is registered with the epoll instance */
    uint32_t watched_events;
    uint64_t watched_data;      /* its epoll_event data, handed back with its event */
    uint64_t pending;           /* bytes written to the pipe and not read */
};

struct kvmf_program;

struct kvmf_instance {
    struct kvmf_program *program;
    uint32_t index;
    struct vm vm;
    bool is_boot;               /* the boot VM: memory shared with the frozen image, no reset */
    bool needs_reset;
    bool dirty_current;   /* `touched` holds every guest write: the vCPU has not run since collect_dirty */
    bool busy;
    uint64_t npages;
    uint64_t *dirty;            /* KVM dirty log buffer */
    uint64_t *touched;          /* pages written since the last reset (guest and host) */
    uint64_t *resident;         /* pages the instance holds a private copy of, since its last trim */
    uint64_t resident_pages;    /* how many (read by stats under the program's lock) */
    uint64_t released_ns;       /* when it was last released: trim.c gives idle instances' memory back */
    /* Hot pages (see collect_dirty): left writable across requests. Indexed like `touched`. */
    uint64_t *hot;              /* NULL when the VM cannot keep pages writable */
    uint64_t *written_before;   /* pages the previous request wrote */
    uint64_t *to_protect;       /* scratch, laid out like `dirty` */
    uint8_t *hot_idle;          /* per page: requests in a row that left a hot page unwritten */
    uint64_t hot_count;
    bool learning;              /* the current request is a warm-up: the hot set may change */
    uint64_t fs_base;
    struct address_space as;
    struct exchange ex;
    struct regex_set regexes;   /* compiled during the current request; freed before the next */
    struct thread_set threads;  /* threads.c: the program's threads in this VM (reset with its memory) */
    struct netpoll netpoll;     /* netpoll.c: likewise */
    struct open_file files[OPEN_FILES_MAX]; /* the state file opened by this VM; reset with the memory */
    uint64_t input_addr, input_len; /* where the request's input block lives */
    struct stream_sink {        /* kvmf_instance_stream_to: for the current or next run only */
        kvmf_stream_begin_fn begin;
        kvmf_stream_write_fn write;
        void *ctx;
    } sink;
    struct fetch_handler {      /* kvmf_instance_fetch_with: for the current or next run only */
        kvmf_fetch_fn fn;
        void *ctx;
    } fetch;
    void *curl;                 /* curl_fetch.c: this instance's libcurl handle (its open connections), or NULL */
    struct socket_session {     /* socket.c: the taken-over connection this instance serves */
        bool active;            /* kvmf_instance_socket_open succeeded and the session has not ended */
        bool waiting;           /* the program paused in wait_for_socket_events_paused during this run */
        bool closed_by_program; /* close()/shutdown() of its descriptor, a SOCKET_DISCONNECT write, or a return */
        bool write_stopped;     /* the caller's write asked to stop: the client has gone */
        uint64_t events_addr, events_max; /* the program's event array at its pause */
        struct trap_frame frame;           /* its registers at the pause */
        uint64_t remote_addr, arg_addr, reason_addr, data_addr; /* the session's block of guest memory */
        uint64_t request_alloc, request_peak; /* the exchange's allocation counts, kept across deliveries */
        uint64_t bytes_written; /* during the current call */
        kvmf_socket_write_fn write;
        void *ctx;
    } socket;
    /* statistics (written only by the thread holding the instance) */
    struct kvmf_instance_stats stats;
    uint64_t failures_by_kind[KVMF_ERROR_KIND_COUNT];
    uint64_t on_error_answers;
    uint64_t unsupported_calls;
    uint64_t refused_calls;     /* init-only calls made during a request */
    uint64_t warmups;           /* warm-up requests run (not in stats.invocations) */
    uint64_t connections, connection_failures, connection_bytes_in, connection_bytes_out; /* socket.c */
    char error_message[600];
};

struct handlers {
    uint64_t get, post, request, stream, on_error;
    uint64_t frontend;          /* handler 0: the generic handler of programs that register no handler 3 */
    uint64_t serialize, restore; /* handlers 6 and 7: live update of storage (storage.c) */
    uint64_t socket;            /* handler 12: serves taken-over connections (socket.c) */
};

/* Storage functions a program may list with sys_storage_allow. */
#define STORAGE_ALLOW_MAX 256
struct storage_tasks;

/* Distinct unsupported call numbers logged once each per program; more are only counted. */
#define UNSUPPORTED_LOGGED_MAX 128

struct kvmf_program {
    char *name;
    struct kvmf_config config;
    char *arguments;            /* owned copies of the config blobs */
    char *environment;
    const struct kvm_host *host;
    int memfd;                  /* the frozen image */
    int shm_fd;                 /* the shared memory area (-1: none), mapped into every VM of the program */
    uint64_t shm_addr, shm_size; /* where the guest sees it: above max_memory, after an unmapped gap */
    uint64_t map_size;          /* bytes of a VM's host mapping: memory, gap and shared area */
    int state_fd;               /* config.state_file opened read-write (-1: none) */
    char *state_file;           /* owned copy of config.state_file */
    char *allowed_paths;        /* owned copy of config.allowed_paths */
    struct egress_policy *egress; /* parsed config.egress; NULL: the program may not fetch */
    uint64_t fetches, fetch_refusals, fetch_failures, fetch_bytes; /* sys_fetch (curl_fetch.c), atomic */
    uint64_t fetches_running;   /* now, against the policy's max_concurrent */
    uint64_t fetch_refusal_logged_ns; /* when a refusal or failure was last logged (once a minute) */
    struct allowed_file allowed[ALLOWED_PATHS_MAX];
    size_t allowed_count;
    struct open_file frozen_files[OPEN_FILES_MAX]; /* what the boot VM had open at the freeze */
    struct thread_set frozen_threads; /* the threads at the freeze (the one that froze runs each request) */
    struct netpoll frozen_netpoll;
    uint8_t *frozen;            /* read-only mapping of the frozen image */
    uint64_t mem_size;
    struct address_space frozen_as;
    struct trap_frame frozen_frame; /* registers at the freeze point */
    uint64_t frozen_fs_base;
    struct handlers handlers;
    struct regex_set boot_regexes; /* compiled during boot: every instance may use them */
    /* Storage (storage.c): a program with config.storage has a second program, booted first from the same
     * ELF with KVM_TYPE=storage, one instance that is never reset except after a failure. */
    struct kvmf_program *storage; /* NULL when the program has no storage */
    bool is_storage;              /* this is the storage program */
    uint64_t storage_allowed[STORAGE_ALLOW_MAX]; /* sys_storage_allow during boot; none: every function */
    size_t storage_allowed_count;
    struct storage_tasks *tasks;  /* the storage program's task queue and thread, created at the first task */
    uint64_t storage_calls, storage_failures, storage_tasks_run, storage_task_failures; /* on the storage program */
    bool paused_mode;
    uint64_t paused_req_addr;
    uint64_t stack_top;         /* main stack */
    uint64_t request_stack_top;
    struct elf_image elf;
    struct buffer boot_log;
    uint64_t boot_ns;
    /* the pool */
    pthread_mutex_t lock;
    pthread_cond_t freed;
    struct kvmf_instance **instances; /* [concurrency], NULL until created */
    bool *reserved;                   /* [concurrency], true while the slot's instance is created or replaced */
    uint32_t created;                 /* slots below this have been used; some may be empty (a failed creation) */
    uint32_t creating;                /* slots reserved now */
    uint32_t live;                    /* instances in `instances` */
    uint64_t waiters;
    uint64_t queue_waits, queue_timeouts, queue_wait_ns;
    uint64_t trimmed_bytes;     /* memory given back by kvmf_program_trim (under `lock`) */
    /* unsupported calls already logged (under `lock`), to log each (kind, number) once */
    struct { const char *what; uint64_t number; } unsupported_logged[UNSUPPORTED_LOGGED_MAX];
    size_t unsupported_logged_count;
    bool unsupported_overflow_logged;
};

/* program.c: the host mapping of a VM's guest memory: the program's memory from the memfd (shared for
 * the boot VM, a private copy-on-write view for an instance), then the unmapped gap and the shared
 * area, so that mem + A is guest address A everywhere. NULL on failure (kvmf_last_error). */
uint8_t *guest_memory_map(struct kvmf_program *p, bool private_copy);
void guest_memory_unmap(struct kvmf_program *p, uint8_t *mem);

/* memory.c */
/* Host pointer for guest range [addr, addr+len) if it lies in user memory (the program's memory
 * above the system area, or the shared area), else NULL. */
void *guest_ptr(struct kvmf_instance *in, uint64_t addr, uint64_t len);
/* Copies into guest memory and records the pages as written (for the reset). */
void guest_write(struct kvmf_instance *in, uint64_t addr, const void *src, uint64_t len);
void mark_touched(struct kvmf_instance *in, uint64_t addr, uint64_t len);
/* Reads a NUL-terminated guest string of at most max bytes; NULL when invalid. */
const char *guest_string(struct kvmf_instance *in, uint64_t addr, uint64_t max, uint64_t *len_out);
int64_t mem_brk(struct kvmf_instance *in, uint64_t new_brk);
int64_t mem_mmap(struct kvmf_instance *in, uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags,
                 int64_t fd);
int64_t mem_munmap(struct kvmf_instance *in, uint64_t addr, uint64_t len);
int64_t mem_mremap(struct kvmf_instance *in, uint64_t old_addr, uint64_t old_len, uint64_t new_len,
                   uint64_t flags);
/* Allocates guest memory for host-provided input (request data). 0 when out of memory. */
uint64_t mem_alloc_input(struct kvmf_instance *in, uint64_t len);
void as_layout(struct address_space *as, uint64_t brk_start, uint64_t mmap_top);

/* syscalls.c: handles the Linux syscall in the frame; may finish the exchange. */
void syscall_dispatch(struct kvmf_instance *in, struct trap_frame *f);
/* api.c: handles the TinyKVM API call in the frame; may finish the exchange. */
void api_dispatch(struct kvmf_instance *in, struct trap_frame *f);
/* The header set a call names (0/4 request, 1/5 response), or NULL. */
struct header_list *api_header_set(struct kvmf_instance *in, uint64_t where);
/* Adds header text to a set within its bounds; -1 (the run failed as BAD_API_CALL) when it breaks one. */
int api_add_header_text(struct kvmf_instance *in, struct header_list *set, const char *h, uint64_t len,
                        const char *who);

/* storage.c: the storage calls (KVM_CALL_IS_STORAGE ... KVM_CALL_STORAGE_NORETURN); the result for rax. */
int64_t storage_dispatch(struct kvmf_instance *in, struct trap_frame *f, uint32_t number);
/* fetch.c: sys_fetch (self false) and sys_request (self true), through the run's kvmf_instance_fetch_with handler. */
int64_t fetch_call(struct kvmf_instance *in, struct trap_frame *f, bool self);
/* fetch.c: the reply a handler fills, for curl_fetch's hops: header lines or body dropped, the body's length. */
void fetch_reply_clear_headers(kvmf_fetch_reply *reply);
void fetch_reply_clear_body(kvmf_fetch_reply *reply);
uint64_t fetch_reply_body_len(const kvmf_fetch_reply *reply);

/* egress.c: a program's egress policy, parsed from config.egress ("key=value" strings; NULL *out when empty). */
struct egress_policy;
struct sockaddr;
int egress_parse(const char *blob, uint64_t len, struct egress_policy **out);
void egress_free(struct egress_policy *policy);
/* Whether a URL's scheme ("http"), host (a name or IP literal) and port may be fetched; why says why not. */
bool egress_url_allowed(const struct egress_policy *policy, const char *scheme, const char *host, unsigned port,
                        char *why, size_t why_cap);
/* Whether a connection may go to this address (public, or in the policy's addresses); why says why not. */
bool egress_address_allowed(const struct egress_policy *policy, const struct sockaddr *address, char *why,
                            size_t why_cap);
uint64_t egress_max_response_size(const struct egress_policy *policy);
uint64_t egress_max_concurrent(const struct egress_policy *policy);
uint64_t egress_max_time_ms(const struct egress_policy *policy);
uint64_t egress_max_redirects(const struct egress_policy *policy);
bool egress_insecure_tls(const struct egress_policy *policy);

/* curl_fetch.c: sys_fetch by libcurl within the program's egress policy (a kvmf_fetch_fn for instance in);
 * curl_fetch_release closes the instance's connections. */
int curl_fetch(struct kvmf_instance *in, const struct kvmf_fetch_request *request, kvmf_fetch_reply *reply);
void curl_fetch_release(struct kvmf_instance *in);

/* socket.c: the calls of a taken-over connection's VM. wait_for_socket_events_paused (0x10002 in PHASE_SOCKET)
 * ends the delivery; sys_sockets_write (0x10500) the result for rax. socket_is_fd: whether fd is the connection's;
 * socket_write and socket_shutdown serve write()/sendto() and close()/shutdown() on it. */
void socket_wait(struct kvmf_instance *in, struct trap_frame *f);
int64_t socket_sockets_write(struct kvmf_instance *in, struct trap_frame *f);
bool socket_is_fd(const struct kvmf_instance *in, uint64_t fd);
int64_t socket_write(struct kvmf_instance *in, uint64_t addr, uint64_t len);
int64_t socket_shutdown(struct kvmf_instance *in);

/* threads.c: the thread system calls (results for rax; thread_exit: false when the last thread exits, which ends
 * the program), and the sets' lifetime. A call that makes another thread run leaves its frame in *f. */
int64_t thread_clone(struct kvmf_instance *in, struct trap_frame *f);
/* A new runnable thread that starts with `frame` (in resume form) and the running thread's FS base and vector
 * state, as multiprocess worker `worker` (0: none); NULL when THREADS_MAX live (or the run failed). */
struct guest_thread *thread_spawn(struct kvmf_instance *in, const struct trap_frame *frame, uint8_t worker);
/* The running thread, or NULL while the program has had one thread only. */
struct guest_thread *thread_current(struct kvmf_instance *in);
int64_t thread_futex(struct kvmf_instance *in, struct trap_frame *f);
int64_t thread_yield(struct kvmf_instance *in, struct trap_frame *f, bool sleeping);
bool thread_exit(struct kvmf_instance *in, struct trap_frame *f);
int64_t thread_set_tid_address(struct kvmf_instance *in, uint64_t addr);
int32_t threads_current_tid(const struct kvmf_instance *in);
/* The current thread waits on `key` (a futex word's address, or another file's token) until thread_wake, or, when
 * `timed`, until nothing else can run; the result is for the thread that runs now, as for a syscall. */
int64_t thread_block(struct kvmf_instance *in, struct trap_frame *f, uint64_t key, uint32_t bitset, bool timed);
/* The same at an API call (whose frame already resumes past its `out`). */
int64_t thread_block_at_api_call(struct kvmf_instance *in, struct trap_frame *f, uint64_t key);
struct guest_thread *thread_waiting_on(struct kvmf_instance *in, uint64_t key);
void thread_wake(struct guest_thread *t, int64_t result);
bool threads_others_runnable(const struct kvmf_instance *in);
/* At a tick of the run's timer (KVM_RUN interrupted): preempts the running thread when its quantum is over and
 * another can run; re-arms the timer. */
void threads_tick(struct kvmf_instance *in);
/* At the start of a run: the running thread's quantum starts, and the timer is armed for it. */
void threads_run_begins(struct kvmf_instance *in);
int threads_copy(struct thread_set *dst, const struct thread_set *src);
void threads_free(struct thread_set *s);

/* multiprocess.c: the VMOD's multiprocess calls (KVM_CALL_MULTIPROCESS...), results for rax; a worker's thread
 * ending (its function returned, it exited, or a clone worker reached multiprocess_wait); and whether the run's
 * handler return at HANDLER_RETURN_ADDR was a worker's function returning (then it has ended it). */
int64_t multiprocess_dispatch(struct kvmf_instance *in, struct trap_frame *f, uint32_t number);
void multiprocess_worker_ended(struct kvmf_instance *in);
bool multiprocess_worker_returned(struct kvmf_instance *in, struct trap_frame *f);

/* netpoll.c: epoll_create(1), pipe(2), epoll_ctl, epoll_wait/epoll_pwait, and read/write/close on their
 * descriptors; results for rax. */
bool netpoll_is_fd(const struct kvmf_instance *in, uint64_t fd);
int64_t netpoll_epoll_create(struct kvmf_instance *in);
int64_t netpoll_pipe(struct kvmf_instance *in, uint64_t fds_addr);
int64_t netpoll_epoll_ctl(struct kvmf_instance *in, uint64_t epfd, uint64_t op, uint64_t fd, uint64_t event_addr);
int64_t netpoll_epoll_wait(struct kvmf_instance *in, struct trap_frame *f);
int64_t netpoll_read(struct kvmf_instance *in, uint64_t fd, uint64_t buf, uint64_t len);
int64_t netpoll_write(struct kvmf_instance *in, uint64_t fd, uint64_t buf, uint64_t len);
int64_t netpoll_close(struct kvmf_instance *in, uint64_t fd);

/* Stops the storage program's task thread (before the program is destroyed). */
void storage_tasks_stop(struct kvmf_program *storage);

/* Checks the status and content type of a response a call gives (sys_backend_response, the streaming one);
 * the content type's host pointer, or NULL when the run failed as BAD_API_CALL. */
const char *api_response_head(struct kvmf_instance *in, int16_t status, uint64_t ctype, uint64_t ctype_len,
                              const char *who);

/* stream.c: begin_streaming_response ends the handler's part of the run; stream_collect then calls the program's
 * callback until it has produced content_length bytes (or fails), gathering them as the response body. */
void stream_begin(struct kvmf_instance *in, struct trap_frame *f);
void stream_collect(struct kvmf_instance *in);
/* The response headers as "Name: value\n" lines, in ex->response_header_text (built afresh). */
const struct buffer *response_header_text(struct exchange *ex);

/* files.c: the files a program may open, the `state` file and allowed_paths (the syscalls' side). */
int files_open_host(struct kvmf_program *p);
void files_close_host(struct kvmf_program *p);
/* stat() of a path: an allowed path's host file, -ENOENT for any other. */
int64_t file_stat_path(struct kvmf_instance *in, const char *path, uint64_t addr);
/* access() of a path: 0 when it can be opened with `mode`, -ENOENT or -EACCES otherwise. */
int64_t file_access(struct kvmf_instance *in, const char *path, uint64_t mode);
bool file_is_fd(struct kvmf_instance *in, uint64_t fd);
int64_t file_open(struct kvmf_instance *in, uint64_t path_addr, uint64_t flags);
int64_t file_read(struct kvmf_instance *in, uint64_t fd, uint64_t buf, uint64_t len);
int64_t file_write(struct kvmf_instance *in, uint64_t fd, uint64_t buf, uint64_t len);
int64_t file_lseek(struct kvmf_instance *in, uint64_t fd, int64_t offset, uint64_t whence);
int64_t file_fstat(struct kvmf_instance *in, uint64_t fd, uint64_t addr);
/* A struct stat at guest address `addr` (syscalls.c). */
int64_t put_stat(struct kvmf_instance *in, uint64_t addr, uint32_t mode, uint64_t size);
int64_t file_ftruncate(struct kvmf_instance *in, uint64_t fd, uint64_t len);
int64_t file_fsync(struct kvmf_instance *in, uint64_t fd);
int64_t file_close(struct kvmf_instance *in, uint64_t fd);

/* regex.c: the regular-expression calls (KVM_CALL_REGEX_*); the result for rax. */
int64_t regex_dispatch(struct kvmf_instance *in, struct trap_frame *f, uint32_t number);
/* Frees every pattern of the set. */
void regex_set_clear(struct regex_set *set);

/* exchange.c: the bookkeeping of one guest run. */
/* Ends the current run with a failure (keeps the first one). */
void exchange_fail(struct kvmf_instance *in, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void exchange_log(struct kvmf_instance *in, const char *text, size_t len);
/* Appends one formatted line to the run's log (cut at 512 bytes). */
void exchange_logf(struct kvmf_instance *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void exchange_reset(struct exchange *ex, enum phase phase, uint64_t deadline_ns);
void exchange_free(struct exchange *ex);
void note_unsupported(struct kvmf_instance *in, const char *what, uint64_t number);

/* vcpu.c: runs the guest until the exchange is finished (response, freeze, failure). */
void vcpu_run(struct kvmf_instance *in);
/* fault.c: ends the run with the failure a CPU exception in the guest stands for, precisely named. */
void fault_classify(struct kvmf_instance *in, struct trap_frame *f);
/* The privileged instruction whose first bytes are at `code` ("hlt", "wrmsr"...), or NULL. */
const char *privileged_instruction(const uint8_t *code);
/* timer.c: arms the calling thread's timer to interrupt KVM_RUN at deadline_ns (and every 2 ms
 * after), or disarms it. */
int timer_arm(uint64_t deadline_ns);
void timer_disarm(void);

/* header_list.c */
int header_list_add(struct header_list *l, const char *text, size_t len);
void header_list_clear(struct header_list *l);
/* Index of the header whose name matches (case-insensitive), or -1. */
long header_list_find(const struct header_list *l, const char *name, size_t name_len);
/* Removes every header whose name matches, in one pass; returns how many. */
size_t header_list_remove_all(struct header_list *l, const char *name, size_t name_len);

/* config.c: KVMF_OK, or KVMF_INVALID_ARGUMENT naming the setting, its value and what is allowed. */
int config_check(const struct kvmf_config *c);
/* boot.c: builds the guest image in `mem` (system area, ELF, heap, stacks, initial stack) and runs
 * the program to wait_for_requests(); fills the program's frozen state. */
int boot_program(struct kvmf_program *p, uint8_t *mem, const void *elf, uint64_t elf_len);

/* instance.c */
int instance_create(struct kvmf_program *p, uint32_t index, struct kvmf_instance **out);
void instance_destroy(struct kvmf_instance *in);
/* Replaces the instance's VM and vCPU by new ones over the same memory, keeping track of the pages
 * written so far. For the rare exits after which KVM's vCPU state cannot be trusted for the next
 * run (an MMIO access the sandbox refused, an instruction KVM could not emulate). */
int instance_renew_vm(struct kvmf_instance *in);
/* Points the trap frame at `target` in ring 3 through the entry trampoline (or the stub's FPU
 * reset without XSAVE), with the instance's FS base: how every run enters the program. */
void frame_enter_user(struct kvmf_instance *in, uint64_t target);
/* Makes the next KVM_RUN start the run the trap frame describes. */
int instance_launch(struct kvmf_instance *in);
/* Starts a call of guest function `fn` with up to 6 arguments on the request stack. */
void instance_prepare_call(struct kvmf_instance *in, uint64_t fn, const uint64_t *args, int nargs);
/* The same on a stack whose top is `stack_top` (16-byte aligned). */
void instance_prepare_call_at(struct kvmf_instance *in, uint64_t fn, const uint64_t *args, int nargs,
                              uint64_t stack_top);

/* reset.c */
/* Adds the guest's writes since the last call to the instance's written pages; *count = how many. */
int dirty_collect(struct kvmf_instance *in, uint64_t *count);
/* Restores every page written since the last reset, and the address space, from the frozen state. */
int instance_reset(struct kvmf_instance *in);

#endif
