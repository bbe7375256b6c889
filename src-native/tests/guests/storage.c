/* storage — the storage calls (0x10706-0x1070A, 0x10011, 0x10013). Storage keeps a total (100 after its boot) and
 * the request VMs reach it. GET arguments:
 *   type          "request=R storage=S": sys_is_storage() here and in storage, and storage's KVM_TYPE
 *   add:N         adds N to the total in storage; "total=T"
 *   total         "total=T"
 *   echo:RES      three buffers joined in storage, handed back into a RES-byte result buffer; "len=L [text]"
 *   resume        storage_return then the function runs on and records that it did; "resumed=1" on "total"-like
 *                 "resumed" afterwards
 *   noreturn      storage_noreturn("bye"); what follows it in the function would crash
 *   crash         a NULL write in storage (the request fails; storage starts again from its boot image)
 *   loop          a loop without end in storage (the request times out; storage starts again)
 *   oom           allocates in storage until memory runs out
 *   meminfo       "request=R storage=S": get_meminfo()'s max_memory in MiB here and in storage
 *   nested        storage calls storage: "nested=R" (-EDEADLK)
 *   forbidden     calls a function that is not in the allow-list (the request fails)
 *   bad-buffer    a buffer pointing into the system area (the request fails)
 *   task:N        queues a task that adds N; "id=I"
 *   periodic      queues a task adding 1 every 20 ms; "id=I"
 *   stop:I        stop_storage_task(I); "stopped=R"
 *   slow-add:MS   a storage function that runs MS milliseconds, then adds 7; "total=T"
 *   task-crash    queues a task that crashes in storage every 30 ms; "id=I"
 *   task-loop     queues a task that loops in storage without end, once; "id=I"
 *   return-twice  storage_return called twice (the call fails)
 *   no-return     a function that returns without storage_return: "len=0"
 *   save          storage writes "total=T" to the state file; "saved=N" (bytes written)
 *   read-state    this request VM reads the state file; "state=[...] size=S"
 *   write-state   this request VM tries to open the state file for writing; "open=-1 errno=E"
 * At boot, storage takes its total from the state file when it holds "total=T".
 * Live update: handler 6 hands the total over as text, handler 7 takes it (unless LIVE_RESTORE=crash in the
 * environment: then it crashes). */
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

static long total;      /* storage's state */
static int resumed;     /* storage: set after a storage_return resumed */
static const char *storage_type; /* storage: its KVM_TYPE */

static void answer(const char *text)
{
    respond_text(200, text);
}

/* ---- functions that run in storage ---- */

static void st_type(size_t n, struct virtbuffer b[], size_t res)
{
    (void)n, (void)b, (void)res;
    char out[64];
    snprintf(out, sizeof out, "storage=%d type=%s", sys_is_storage(), storage_type ? storage_type : "?");
    storage_return(out, strlen(out));
}

static void st_add(size_t n, struct virtbuffer b[], size_t res)
{
    (void)res;
    char number[32] = "";
    if (n == 1 && b[0].len < sizeof number)
        memcpy(number, b[0].data, b[0].len);
    total += atol(number);
    char out[32];
    snprintf(out, sizeof out, "total=%ld", total);
    storage_return(out, strlen(out));
}

static void st_total(size_t n, struct virtbuffer b[], size_t res)
{
    (void)n, (void)b, (void)res;
    char out[64];
    snprintf(out, sizeof out, "total=%ld resumed=%d", total, resumed);
    storage_return(out, strlen(out));
}

static void st_echo(size_t n, struct virtbuffer b[], size_t res)
{
    char joined[256];
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (len + b[i].len > sizeof joined)
            break;
        memcpy(joined + len, b[i].data, b[i].len);
        len += b[i].len;
    }
    char out[300];
    int m = snprintf(out, sizeof out, "res=%zu %.*s", res, (int)len, joined);
    storage_return(out, (size_t)m);
}

static void st_resume(size_t n, struct virtbuffer b[], size_t res)
{
    (void)n, (void)b, (void)res;
    storage_return("returned", 8);
    resumed = 1; /* runs after the result went back */
}

static void st_noreturn(size_t n, struct virtbuffer b[], size_t res)
{
    (void)n, (void)b, (void)res;
    storage_noreturn("bye", 3);
}

static void st_crash(size_t n, struct virtbuffer b[], size_t res)
{
    (void)n, (void)b, (void)res;
    total = -1; /* lost: the crash sends storage back to its boot image */
    *(volatile int *)0 = 1;
}

static void st_loop(size_t n, struct virtbuffer b[], size_t res)
{
    (void)n, (void)b, (void)res;
    total = -2;
    for (volatile int i = 0;; i++) {
    }
}

static void st_oom(size_t n, struct virtbuffer b[], size_t res)
{
    (void)n, (void)b, (void)res;
    for (;;) {
        char *p = malloc(1 << 20);
        if (!p)
            *(volatile int *)0 = 2; /* a crash after a refused allocation: out of memory */
        memset(p, 1, 1 << 20);
    }
}

static void st_meminfo(size_t n, struct virtbuffer b[], size_t res)
{
    (void)n, (void)b, (void)res;
    struct meminfo m;
    get_meminfo(&m);
    char text[32];
    int len = snprintf(text, sizeof text, "%llu", (unsigned long long)(m.max_memory >> 20));
    storage_return(text, (size_t)len);
}

static void st_nested(size_t n, struct virtbuffer b[], size_t res)
{
    (void)n, (void)b, (void)res;
    long r = storage_callv(st_total, 0, NULL, NULL, 0);
    char out[32];
    snprintf(out, sizeof out, "nested=%ld", r);
    storage_return(out, strlen(out));
}

static void st_forbidden(size_t n, struct virtbuffer b[], size_t res)
{
    (void)n, (void)b, (void)res;
    storage_return("reached", 7);
}

static void st_return_twice(size_t n, struct virtbuffer b[], size_t res)
{
    (void)n, (void)b, (void)res;
    storage_return("one", 3);
    storage_return("two", 3);
}

static void st_no_return(size_t n, struct virtbuffer b[], size_t res)
{
    (void)n, (void)b, (void)res;
}

static void st_save(size_t n, struct virtbuffer b[], size_t res)
{
    (void)n, (void)b, (void)res;
    char text[64], out[32];
    int len = snprintf(text, sizeof text, "total=%ld", total);
    int fd = open("state", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    long written = fd < 0 ? -errno : (long)write(fd, text, (size_t)len);
    if (fd >= 0)
        close(fd);
    snprintf(out, sizeof out, "saved=%ld", written);
    storage_return(out, strlen(out));
}

static void task_add(void *data, size_t len)
{
    char number[32] = "";
    if (len < sizeof number)
        memcpy(number, data, len);
    total += atol(number);
}

static void st_slow_add(size_t n, struct virtbuffer b[], size_t res)
{
    (void)res;
    char ms[16] = "";
    if (n == 1 && b[0].len < sizeof ms)
        memcpy(ms, b[0].data, b[0].len);
    long spin_ns = atol(ms) * 1000000L;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
        clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < spin_ns);
    total += 7;
    char text[32];
    int len = snprintf(text, sizeof text, "total=%ld", total);
    storage_return(text, (size_t)len);
}

static void task_crash(void *data, size_t len)
{
    (void)data, (void)len;
    total = -3;
    *(volatile int *)0 = 3;
}

static void task_loop(void *data, size_t len)
{
    (void)data, (void)len;
    total = -4;
    for (volatile int i = 0;; i++) {
    }
}

static void on_serialize(void)
{
    char out[32];
    snprintf(out, sizeof out, "%ld", total);
    storage_return(out, strlen(out));
}

static char restored[32];

static void on_restore(size_t len)
{
    const char *how = getenv("LIVE_RESTORE");
    if (how && !strcmp(how, "crash"))
        *(volatile int *)0 = 3;
    storage_return(restored, sizeof restored - 1); /* the host writes the state here, then this runs on */
    restored[len < sizeof restored ? len : sizeof restored - 1] = '\0';
    total = atol(restored);
}

/* ---- the request side ---- */

static long call(storage_func fn, const char *text, char *out, size_t out_len)
{
    struct virtbuffer one = {text, text ? strlen(text) : 0};
    long r = storage_callv(fn, text ? 1 : 0, &one, out, out_len);
    if (r >= 0 && (size_t)r < out_len)
        out[r] = '\0';
    return r;
}

static void on_get(const char *url, const char *arg)
{
    (void)url;
    char out[512] = "", text[600];
    if (!strcmp(arg, "type")) {
        call(st_type, NULL, out, sizeof out);
        snprintf(text, sizeof text, "request=%d %s", sys_is_storage(), out);
        answer(text);
    } else if (!strncmp(arg, "add:", 4)) {
        call(st_add, arg + 4, out, sizeof out);
        answer(out);
    } else if (!strcmp(arg, "total") || !strcmp(arg, "resumed")) {
        call(st_total, NULL, out, sizeof out);
        answer(out);
    } else if (!strncmp(arg, "echo:", 5)) {
        struct virtbuffer three[3] = {{"one,", 4}, {"", 0}, {"two,three", 9}};
        long r = storage_callv(st_echo, 3, three, out, (size_t)atol(arg + 5));
        snprintf(text, sizeof text, "len=%ld [%.*s]", r, r > 0 ? (int)r : 0, out);
        answer(text);
    } else if (!strcmp(arg, "resume")) {
        call(st_resume, NULL, out, sizeof out);
        answer(out);
    } else if (!strcmp(arg, "noreturn")) {
        call(st_noreturn, NULL, out, sizeof out);
        answer(out);
    } else if (!strcmp(arg, "crash")) {
        call(st_crash, NULL, out, sizeof out);
        answer("survived the crash");
    } else if (!strcmp(arg, "loop")) {
        call(st_loop, NULL, out, sizeof out);
        answer("survived the loop");
    } else if (!strcmp(arg, "oom")) {
        call(st_oom, NULL, out, sizeof out);
        answer("survived");
    } else if (!strcmp(arg, "meminfo")) {
        long r = call(st_meminfo, NULL, out, sizeof out - 1);
        out[r > 0 ? r : 0] = '\0';
        struct meminfo m;
        get_meminfo(&m);
        char text[64];
        snprintf(text, sizeof text, "request=%llu storage=%s", (unsigned long long)(m.max_memory >> 20), out);
        answer(text);
    } else if (!strcmp(arg, "nested")) {
        call(st_nested, NULL, out, sizeof out);
        answer(out);
    } else if (!strcmp(arg, "forbidden")) {
        call(st_forbidden, NULL, out, sizeof out);
        answer(out);
    } else if (!strcmp(arg, "bad-buffer")) {
        struct virtbuffer bad = {(const void *)0x2000, 16};
        storage_callv(st_total, 1, &bad, out, sizeof out);
        answer("survived");
    } else if (!strncmp(arg, "task:", 5)) {
        long id = sys_storage_task(task_add, arg + 5, strlen(arg + 5), 0, 0);
        snprintf(text, sizeof text, "id=%ld", id);
        answer(text);
    } else if (!strcmp(arg, "periodic")) {
        long id = sys_storage_task(task_add, "1", 1, 0, 20);
        snprintf(text, sizeof text, "id=%ld", id);
        answer(text);
    } else if (!strncmp(arg, "slow-add:", 9)) {
        call(st_slow_add, arg + 9, out, sizeof out);
        answer(out);
    } else if (!strcmp(arg, "task-crash") || !strcmp(arg, "task-loop")) {
        bool crash = !strcmp(arg, "task-crash");
        long id = sys_storage_task(crash ? task_crash : task_loop, NULL, 0, 0, crash ? 30 : 0);
        snprintf(text, sizeof text, "id=%ld", id);
        answer(text);
    } else if (!strncmp(arg, "stop:", 5)) {
        snprintf(text, sizeof text, "stopped=%ld", stop_storage_task(atol(arg + 5)));
        answer(text);
    } else if (!strcmp(arg, "return-twice")) {
        call(st_return_twice, NULL, out, sizeof out);
        answer(out);
    } else if (!strcmp(arg, "save")) {
        call(st_save, NULL, out, sizeof out);
        answer(out);
    } else if (!strcmp(arg, "read-state")) {
        int fd = open("state", O_RDONLY);
        char data[128] = "";
        struct stat st = {0};
        long n = fd < 0 ? -errno : (long)read(fd, data, sizeof data - 1);
        if (fd >= 0) {
            fstat(fd, &st);
            close(fd);
        }
        snprintf(text, sizeof text, "state=[%s] n=%ld size=%lld", data, n, (long long)st.st_size);
        answer(text);
    } else if (!strcmp(arg, "write-state")) {
        int fd = open("state", O_WRONLY);
        snprintf(text, sizeof text, "open=%d errno=%d", fd, fd < 0 ? errno : 0);
        answer(text);
    } else if (!strcmp(arg, "no-return")) {
        long r = call(st_no_return, NULL, out, sizeof out);
        snprintf(text, sizeof text, "len=%ld", r);
        answer(text);
    } else {
        answer("unknown argument");
    }
}

int main(void)
{
    if (sys_is_storage()) {
        total = 100;
        storage_type = getenv("KVM_TYPE");
        char saved[64] = "";
        int fd = open("state", O_RDONLY);
        if (fd >= 0) {
            ssize_t n = read(fd, saved, sizeof saved - 1);
            close(fd);
            if (n > 6 && !strncmp(saved, "total=", 6))
                total = atol(saved + 6);
        }
    }
    /* Every function but st_forbidden may be called from request VMs. */
    storage_func allowed[] = {st_type, st_add, st_total, st_echo, st_resume, st_noreturn, st_crash, st_loop,
                              st_oom, st_nested, st_return_twice, st_no_return, st_save, st_meminfo,
                              st_slow_add};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        sys_storage_allow((void (*)(void))allowed[i]);
    sys_storage_allow((void (*)(void))task_add);
    sys_storage_allow((void (*)(void))task_crash);
    sys_storage_allow((void (*)(void))task_loop);
    register_func(1, (void *)on_get);
    register_func(6, (void *)on_serialize);
    register_func(7, (void *)on_restore);
    wait_for_requests();
    return 0;
}
