/*
 * syscalls.c — the Linux system calls a static glibc or musl program makes, emulated.
 *
 * A table of small handlers indexed by syscall number. There are no files (but the `state` file and the read-only
 * allowed paths of files.c), sockets, processes or threads: those calls get the error a locked-down Linux would give. Anything not
 * in the table answers -ENOSYS and is counted (and logged once per number).
 * Arguments: rdi, rsi, rdx, r10, r8, r9. Pointers are checked with guest_ptr(): a bad one
 * gives -EFAULT, exactly like Linux, and the program goes on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include "core.h"

#define A0 f->rdi
#define A1 f->rsi
#define A2 f->rdx
#define A3 f->r10
#define A4 f->r8
#define A5 f->r9

#define MAX_IOV 1024
#define MAX_RANDOM (1ULL << 20)
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

typedef int64_t (*syscall_fn)(struct kvmf_instance *in, struct trap_frame *f);

static bool is_std_fd(uint64_t fd)
{
    return fd <= 2;
}

static int64_t sys_read(struct kvmf_instance *in, struct trap_frame *f)
{
    if (file_is_fd(in, A0))
        return file_read(in, A0, A1, A2);
    if (netpoll_is_fd(in, A0))
        return netpoll_read(in, A0, A1, A2);
    return A0 == 0 ? 0 : -EBADF; /* stdin is empty */
}

static int64_t sys_write(struct kvmf_instance *in, struct trap_frame *f)
{
    if (file_is_fd(in, A0))
        return file_write(in, A0, A1, A2);
    if (socket_is_fd(in, A0))
        return socket_write(in, A1, A2);
    if (netpoll_is_fd(in, A0))
        return netpoll_write(in, A0, A1, A2);
    if (A0 != 1 && A0 != 2)
        return -EBADF;
    const void *p = guest_ptr(in, A1, A2);
    if (!p)
        return -EFAULT;
    exchange_log(in, p, A2);
    return (int64_t)A2;
}

static int64_t sys_writev(struct kvmf_instance *in, struct trap_frame *f)
{
    bool to_socket = socket_is_fd(in, A0);
    if (A0 != 1 && A0 != 2 && !to_socket)
        return -EBADF;
    if (A2 > MAX_IOV)
        return -EINVAL;
    const uint64_t *iov = guest_ptr(in, A1, A2 * 16);
    if (!iov)
        return -EFAULT;
    int64_t total = 0;
    for (uint64_t i = 0; i < A2; i++) {
        const void *p = guest_ptr(in, iov[2 * i], iov[2 * i + 1]);
        if (!p)
            return total ? total : -EFAULT;
        if (to_socket) {
            int64_t rc = socket_write(in, iov[2 * i], iov[2 * i + 1]);
            if (rc < 0)
                return total ? total : rc;
            if ((uint64_t)rc < iov[2 * i + 1])
                return total + rc; /* the client went midway */
        } else {
            exchange_log(in, p, iov[2 * i + 1]);
        }
        total += (int64_t)iov[2 * i + 1];
    }
    return total;
}

static int64_t sys_close(struct kvmf_instance *in, struct trap_frame *f)
{
    if (file_is_fd(in, A0))
        return file_close(in, A0);
    if (socket_is_fd(in, A0))
        return socket_shutdown(in);
    if (netpoll_is_fd(in, A0))
        return netpoll_close(in, A0);
    return is_std_fd(A0) ? 0 : -EBADF;
}

/* A language runtime's netpoller (Go's): one epoll instance and one wake-up pipe, no real descriptors. */
static int64_t sys_epoll_create(struct kvmf_instance *in, struct trap_frame *f)
{
    (void)f;
    return netpoll_epoll_create(in);
}

static int64_t sys_pipe(struct kvmf_instance *in, struct trap_frame *f)
{
    return netpoll_pipe(in, A0);
}

static int64_t sys_epoll_ctl(struct kvmf_instance *in, struct trap_frame *f)
{
    return netpoll_epoll_ctl(in, A0, A1, A2, A3);
}

static int64_t sys_epoll_wait(struct kvmf_instance *in, struct trap_frame *f)
{
    return netpoll_epoll_wait(in, f);
}

/* send() and sendto() without an address: on a taken-over connection, a write. */
static int64_t sys_sendto(struct kvmf_instance *in, struct trap_frame *f)
{
    if (!socket_is_fd(in, A0))
        return is_std_fd(A0) || file_is_fd(in, A0) ? -ENOTSOCK : -EBADF;
    return A4 ? -EISCONN : socket_write(in, A1, A2);
}

/* shutdown(): the connection closes, whichever way is named (the host closes both at once). */
static int64_t sys_shutdown(struct kvmf_instance *in, struct trap_frame *f)
{
    if (!socket_is_fd(in, A0))
        return is_std_fd(A0) || file_is_fd(in, A0) ? -ENOTSOCK : -EBADF;
    return A1 > 2 ? -EINVAL : socket_shutdown(in);
}

/* A character device, which is what stdin/stdout/stderr look like. */
/* Writes a struct stat (x86-64 layout, 144 bytes) with the fields a program looks at: the type and permission
 * bits, the size and its blocks; one link, 4 KiB blocks. */
int64_t put_stat(struct kvmf_instance *in, uint64_t addr, uint32_t mode, uint64_t size)
{
    if (!guest_ptr(in, addr, 144))
        return -EFAULT;
    uint8_t st[144] = {0};
    uint64_t nlink = 1, blksize = 4096, blocks = (size + 511) / 512;
    memcpy(st + 16, &nlink, 8);
    memcpy(st + 24, &mode, 4);
    memcpy(st + 48, &size, 8);
    memcpy(st + 56, &blksize, 8);
    memcpy(st + 64, &blocks, 8);
    guest_write(in, addr, st, sizeof st);
    return 0;
}

static int64_t fill_stat(struct kvmf_instance *in, uint64_t fd, uint64_t addr)
{
    if (!is_std_fd(fd))
        return -EBADF;
    return put_stat(in, addr, 020000 | 0620, 0); /* S_IFCHR | rw--w---- */
}

static int64_t sys_fstat(struct kvmf_instance *in, struct trap_frame *f)
{
    if (file_is_fd(in, A0))
        return file_fstat(in, A0, A1);
    return fill_stat(in, A0, A1);
}

/* open("state") and openat(AT_FDCWD, "state"): the state file; every other path does not exist. */
static int64_t sys_open(struct kvmf_instance *in, struct trap_frame *f)
{
    return file_open(in, A0, A1);
}

static int64_t sys_openat(struct kvmf_instance *in, struct trap_frame *f)
{
    if ((int32_t)A0 != AT_FDCWD)
        return -ENOENT;
    return file_open(in, A1, A2);
}

static int64_t sys_ftruncate(struct kvmf_instance *in, struct trap_frame *f)
{
    return file_ftruncate(in, A0, A1);
}

static int64_t sys_fsync(struct kvmf_instance *in, struct trap_frame *f)
{
    if (is_std_fd(A0))
        return -EINVAL;
    return file_fsync(in, A0);
}

static int64_t sys_newfstatat(struct kvmf_instance *in, struct trap_frame *f)
{
    uint64_t len;
    const char *path = guest_string(in, A1, 4096, &len);
    if (!path)
        return -EFAULT;
    if (len == 0 && (A3 & AT_EMPTY_PATH))
        return file_is_fd(in, A0) ? file_fstat(in, A0, A2) : fill_stat(in, A0, A2);
    return (int32_t)A0 == AT_FDCWD || path[0] == '/' ? file_stat_path(in, path, A2) : -ENOENT;
}

static int64_t sys_stat(struct kvmf_instance *in, struct trap_frame *f)
{
    const char *path = guest_string(in, A0, 4096, NULL);
    return path ? file_stat_path(in, path, A1) : -EFAULT;
}

static int64_t sys_access(struct kvmf_instance *in, struct trap_frame *f)
{
    const char *path = guest_string(in, A0, 4096, NULL);
    return path ? file_access(in, path, A1) : -EFAULT;
}

static int64_t sys_faccessat(struct kvmf_instance *in, struct trap_frame *f)
{
    const char *path = guest_string(in, A1, 4096, NULL);
    if (!path)
        return -EFAULT;
    return (int32_t)A0 == AT_FDCWD || path[0] == '/' ? file_access(in, path, A2) : -ENOENT;
}

static int64_t sys_no_file(struct kvmf_instance *in, struct trap_frame *f)
{
    (void)in;
    (void)f;
    return -ENOENT; /* the sandbox has no file system */
}

static int64_t sys_no_network(struct kvmf_instance *in, struct trap_frame *f)
{
    (void)in;
    (void)f;
    return -EACCES; /* network access is denied */
}

/* poll(fds, nfds, timeout) and ppoll: the standard descriptors and open files are always ready for what is asked
 * (reading stdin gives end-of-file at once), any other descriptor is POLLNVAL. Nothing here ever becomes ready
 * later, so there is no waiting: a timeout has passed at once. (Rust's runtime polls fds 0-2 at start-up to see
 * that they are open.) */
static int64_t sys_poll(struct kvmf_instance *in, struct trap_frame *f)
{
    uint64_t n = A1;
    if (n > 4096)
        return -EINVAL;
    struct pollfd *fds = n ? guest_ptr(in, A0, n * sizeof *fds) : NULL;
    if (n && !fds)
        return -EFAULT;
    int64_t ready = 0;
    for (uint64_t i = 0; i < n; i++) {
        int fd = fds[i].fd;
        short revents = 0;
        if (fd < 0)
            revents = 0; /* ignored, as Linux does */
        else if (is_std_fd((uint64_t)fd) || file_is_fd(in, (uint64_t)fd))
            revents = fds[i].events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
        else
            revents = POLLNVAL;
        fds[i].revents = revents;
        ready += revents != 0;
    }
    if (n)
        mark_touched(in, A0, n * sizeof *fds);
    return ready;
}

static int64_t sys_lseek(struct kvmf_instance *in, struct trap_frame *f)
{
    if (file_is_fd(in, A0))
        return file_lseek(in, A0, (int64_t)A1, A2);
    return is_std_fd(A0) ? -ESPIPE : -EBADF;
}

static int64_t sys_ioctl(struct kvmf_instance *in, struct trap_frame *f)
{
    return is_std_fd(A0) || file_is_fd(in, A0) ? -ENOTTY : -EBADF;
}

static int64_t sys_fcntl(struct kvmf_instance *in, struct trap_frame *f)
{
    if (file_is_fd(in, A0))
        return A1 == F_GETFL ? (in->program->is_storage ? O_RDWR : O_RDONLY) : 0;
    if (!is_std_fd(A0))
        return -EBADF;
    return A1 == F_GETFL ? O_RDWR : 0;
}

static int64_t sys_mmap(struct kvmf_instance *in, struct trap_frame *f)
{
    return mem_mmap(in, A0, A1, A2, A3, (int64_t)A4);
}

static int64_t sys_munmap(struct kvmf_instance *in, struct trap_frame *f)
{
    return mem_munmap(in, A0, A1);
}

static int64_t sys_mremap(struct kvmf_instance *in, struct trap_frame *f)
{
    return mem_mremap(in, A0, A1, A2, A3);
}

static int64_t sys_brk(struct kvmf_instance *in, struct trap_frame *f)
{
    return mem_brk(in, A0);
}

static int64_t sys_zero(struct kvmf_instance *in, struct trap_frame *f)
{
    (void)in;
    (void)f;
    return 0; /* accepted, nothing to do: mprotect, madvise, sigaltstack, set_robust_list... */
}

static int64_t sys_rt_sigaction(struct kvmf_instance *in, struct trap_frame *f)
{
    if (A2) {
        if (!guest_ptr(in, A2, 32))
            return -EFAULT;
        uint8_t none[32] = {0};
        guest_write(in, A2, none, sizeof none);
    }
    return 0; /* handlers are accepted but never called: no signals are delivered */
}

static int64_t sys_rt_sigprocmask(struct kvmf_instance *in, struct trap_frame *f)
{
    if (A2) {
        if (A3 > 128 || !guest_ptr(in, A2, A3))
            return -EFAULT;
        uint8_t none[128] = {0};
        guest_write(in, A2, none, A3);
    }
    return 0;
}

static int64_t sys_one(struct kvmf_instance *in, struct trap_frame *f)
{
    (void)in;
    (void)f;
    return 1; /* getpid: the only process */
}

static int64_t sys_uname(struct kvmf_instance *in, struct trap_frame *f)
{
    if (!guest_ptr(in, A0, 6 * 65))
        return -EFAULT;
    char u[6][65];
    memset(u, 0, sizeof u);
    strcpy(u[0], "Linux");
    strcpy(u[1], "kvmfilter");
    strcpy(u[2], "6.1.0");
    strcpy(u[3], "#1 kvmfilter sandbox");
    strcpy(u[4], "x86_64");
    strcpy(u[5], "(none)");
    guest_write(in, A0, u, sizeof u);
    return 0;
}

static int64_t readlink_common(struct kvmf_instance *in, uint64_t path_addr, uint64_t buf, uint64_t size)
{
    const char *path = guest_string(in, path_addr, 4096, NULL);
    if (!path)
        return -EFAULT;
    if (strcmp(path, "/proc/self/exe") != 0)
        return -ENOENT;
    char exe[300];
    int n = snprintf(exe, sizeof exe, "/program/%s", in->program->name);
    uint64_t len = (uint64_t)n < size ? (uint64_t)n : size;
    if (!guest_ptr(in, buf, len))
        return -EFAULT;
    guest_write(in, buf, exe, len);
    return (int64_t)len;
}

static int64_t sys_readlink(struct kvmf_instance *in, struct trap_frame *f)
{
    return readlink_common(in, A0, A1, A2);
}

static int64_t sys_readlinkat(struct kvmf_instance *in, struct trap_frame *f)
{
    return readlink_common(in, A1, A2, A3);
}

static int64_t write_time(struct kvmf_instance *in, clockid_t clock, uint64_t addr, bool micro)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    int64_t out[2] = {ts.tv_sec, micro ? ts.tv_nsec / 1000 : ts.tv_nsec};
    if (!guest_ptr(in, addr, sizeof out))
        return -EFAULT;
    guest_write(in, addr, out, sizeof out);
    return 0;
}

static int64_t sys_clock_gettime(struct kvmf_instance *in, struct trap_frame *f)
{
    clockid_t clock;
    switch (A0) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
        clock = CLOCK_REALTIME;
        break;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        clock = CLOCK_MONOTONIC;
        break;
    case CLOCK_PROCESS_CPUTIME_ID:
    case CLOCK_THREAD_CPUTIME_ID:
        clock = CLOCK_THREAD_CPUTIME_ID; /* the guest's CPU time is its vCPU thread's */
        break;
    default:
        return -EINVAL;
    }
    return write_time(in, clock, A1, false);
}

static int64_t sys_clock_getres(struct kvmf_instance *in, struct trap_frame *f)
{
    if (!A1)
        return 0;
    int64_t res[2] = {0, 1};
    if (!guest_ptr(in, A1, sizeof res))
        return -EFAULT;
    guest_write(in, A1, res, sizeof res);
    return 0;
}

static int64_t sys_gettimeofday(struct kvmf_instance *in, struct trap_frame *f)
{
    return A0 ? write_time(in, CLOCK_REALTIME, A0, true) : 0;
}

static int64_t sys_time(struct kvmf_instance *in, struct trap_frame *f)
{
    int64_t now = (int64_t)time(NULL);
    if (A0) {
        if (!guest_ptr(in, A0, 8))
            return -EFAULT;
        guest_write(in, A0, &now, 8);
    }
    return now;
}

static int64_t sys_getrandom(struct kvmf_instance *in, struct trap_frame *f)
{
    uint64_t len = A1 > MAX_RANDOM ? MAX_RANDOM : A1;
    uint8_t *p = guest_ptr(in, A0, len);
    if (!p)
        return -EFAULT;
    uint64_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(p + done, len - done, 0);
        if (n < 0 && errno != EINTR)
            return -EIO;
        if (n > 0)
            done += (uint64_t)n;
    }
    mark_touched(in, A0, len);
    return (int64_t)len;
}

static int64_t sys_arch_prctl(struct kvmf_instance *in, struct trap_frame *f)
{
    switch (A0) {
    case ARCH_SET_FS:
        if (A1 >= (1ULL << 47))
            return -EPERM; /* not a canonical user address */
        if (vm_set_fs_base(&in->vm, A1) != KVMF_OK) {
            exchange_fail(in, KVMF_INTERNAL, "%s", kvmf_last_error());
            return -EIO;
        }
        in->fs_base = A1;
        return 0;
    case ARCH_GET_FS:
        if (!guest_ptr(in, A1, 8))
            return -EFAULT;
        guest_write(in, A1, &in->fs_base, 8);
        return 0;
    default:
        return -EINVAL; /* GS belongs to the sandbox (vcpuid), CET and the rest are absent */
    }
}

static int64_t rlimit_value(uint64_t resource, struct kvmf_instance *in, uint64_t out[2])
{
    const uint64_t infinity = ~0ULL;
    switch (resource) {
    case 3: /* RLIMIT_STACK */
        out[0] = out[1] = MAIN_STACK_SIZE;
        break;
    case 2: /* RLIMIT_DATA */
    case 9: /* RLIMIT_AS */
        out[0] = out[1] = in->vm.mem_size;
        break;
    case 7: /* RLIMIT_NOFILE */
        out[0] = out[1] = 3;
        break;
    default:
        if (resource >= 16)
            return -EINVAL;
        out[0] = out[1] = infinity;
    }
    return 0;
}

static int64_t sys_prlimit64(struct kvmf_instance *in, struct trap_frame *f)
{
    if (A0 != 0 && A0 != 1)
        return -ESRCH;
    uint64_t lim[2];
    int64_t rc = rlimit_value(A1, in, lim);
    if (rc < 0)
        return rc;
    if (A3) {
        if (!guest_ptr(in, A3, sizeof lim))
            return -EFAULT;
        guest_write(in, A3, lim, sizeof lim);
    }
    return A2 ? -EPERM : 0; /* limits are the sandbox's to set */
}

static int64_t sys_getrlimit(struct kvmf_instance *in, struct trap_frame *f)
{
    uint64_t lim[2];
    int64_t rc = rlimit_value(A0, in, lim);
    if (rc < 0)
        return rc;
    if (!guest_ptr(in, A1, sizeof lim))
        return -EFAULT;
    guest_write(in, A1, lim, sizeof lim);
    return 0;
}

static int64_t sys_futex(struct kvmf_instance *in, struct trap_frame *f)
{
    return thread_futex(in, f);
}

static int64_t sys_clone(struct kvmf_instance *in, struct trap_frame *f)
{
    return thread_clone(in, f);
}

/* sched_yield: another thread may run. nanosleep, clock_nanosleep: the same, and time passes for the threads
 * (a timed wait may end), but not for real: waiting would only burn the request's time. */
static int64_t sys_yield(struct kvmf_instance *in, struct trap_frame *f)
{
    return thread_yield(in, f, false);
}

static int64_t sys_sleep(struct kvmf_instance *in, struct trap_frame *f)
{
    return thread_yield(in, f, true);
}

static int64_t sys_gettid(struct kvmf_instance *in, struct trap_frame *f)
{
    (void)f;
    return threads_current_tid(in);
}

static int64_t sys_set_tid_address(struct kvmf_instance *in, struct trap_frame *f)
{
    return thread_set_tid_address(in, A0);
}

static int64_t sys_sched_getaffinity(struct kvmf_instance *in, struct trap_frame *f)
{
    if (A1 < 8)
        return -EINVAL;
    if (!guest_ptr(in, A2, 8))
        return -EFAULT;
    uint64_t one_cpu = 1;
    guest_write(in, A2, &one_cpu, 8);
    return 8;
}

static int64_t sys_sysinfo(struct kvmf_instance *in, struct trap_frame *f)
{
    uint8_t info[112] = {0};
    uint64_t total = in->vm.mem_size, free_ram = in->as.mmap_floor - in->as.brk_high;
    uint16_t procs = 1;
    uint32_t unit = 1;
    memcpy(info + 32, &total, 8);
    memcpy(info + 40, &free_ram, 8);
    memcpy(info + 80, &procs, 2);
    memcpy(info + 104, &unit, 4);
    if (!guest_ptr(in, A0, sizeof info))
        return -EFAULT;
    guest_write(in, A0, info, sizeof info);
    return 0;
}

static int64_t sys_getcwd(struct kvmf_instance *in, struct trap_frame *f)
{
    if (A1 < 2)
        return -ERANGE;
    if (!guest_ptr(in, A0, 2))
        return -EFAULT;
    guest_write(in, A0, "/", 2);
    return 2;
}

static int64_t sys_exit(struct kvmf_instance *in, struct trap_frame *f)
{
    if (f->rax == 60 && thread_exit(in, f)) /* exit (not exit_group) of one thread among others */
        return (int64_t)f->rax;          /* (the frame is the next thread's now) */
    exchange_fail(in, KVMF_PROGRAM_EXIT, "the program called exit with status %lld", (long long)(int)A0);
    return 0;
}

static int64_t sys_kill(struct kvmf_instance *in, struct trap_frame *f)
{
    int sig = (int)(f->rax == 62 ? A1 : f->rax == 200 ? A1 : A2); /* kill, tkill, tgkill */
    if (sig == 0 || sig == SIGURG || sig == SIGCHLD || sig == SIGWINCH || sig == SIGCONT)
        return 0; /* signals whose default is to be ignored: lost (Go's runtime sends SIGURG to preempt, and then
                   * preempts at its next function call instead) */
    const char *name = sigabbrev_np(sig);
    exchange_fail(in, KVMF_PROGRAM_EXIT, "the program sent itself signal %d (SIG%s)%s", sig, name ? name : "?",
                  sig == SIGABRT ? ": abort() or a failed assertion" : "");
    return 0;
}

static int64_t sys_quiet_enosys(struct kvmf_instance *in, struct trap_frame *f)
{
    (void)in;
    (void)f;
    return -ENOSYS; /* expected to be absent (rseq, membarrier): not worth a warning */
}

static const syscall_fn table[] = {
    [0] = sys_read,
    [1] = sys_write,
    [2] = sys_open,
    [3] = sys_close,
    [4] = sys_stat,              /* stat */
    [5] = sys_fstat,
    [6] = sys_stat,              /* lstat (allowed paths are files, never links) */
    [7] = sys_poll,
    [8] = sys_lseek,
    [9] = sys_mmap,
    [10] = sys_zero,             /* mprotect */
    [11] = sys_munmap,
    [12] = sys_brk,
    [13] = sys_rt_sigaction,
    [14] = sys_rt_sigprocmask,
    [16] = sys_ioctl,
    [19] = sys_read,             /* readv: stdin is empty */
    [20] = sys_writev,
    [21] = sys_access,           /* access */
    [22] = sys_pipe,
    [24] = sys_yield,            /* sched_yield */
    [25] = sys_mremap,
    [28] = sys_zero,             /* madvise */
    [35] = sys_sleep,            /* nanosleep */
    [39] = sys_one,              /* getpid */
    [41] = sys_no_network,       /* socket */
    [42] = sys_no_network,       /* connect */
    [44] = sys_sendto,
    [48] = sys_shutdown,
    [56] = sys_clone,
    [60] = sys_exit,
    [62] = sys_kill,
    [63] = sys_uname,
    [72] = sys_fcntl,
    [79] = sys_getcwd,
    [89] = sys_readlink,
    [96] = sys_gettimeofday,
    [97] = sys_getrlimit,
    [99] = sys_sysinfo,
    [102] = sys_zero,            /* getuid */
    [104] = sys_zero,            /* getgid */
    [107] = sys_zero,            /* geteuid */
    [108] = sys_zero,            /* getegid */
    [110] = sys_zero,            /* getppid */
    [131] = sys_zero,            /* sigaltstack */
    [158] = sys_arch_prctl,
    [186] = sys_gettid,
    [200] = sys_kill,            /* tkill */
    [201] = sys_time,
    [202] = sys_futex,
    [204] = sys_sched_getaffinity,
    [213] = sys_epoll_create,
    [218] = sys_set_tid_address,
    [228] = sys_clock_gettime,
    [229] = sys_clock_getres,
    [230] = sys_sleep,           /* clock_nanosleep */
    [231] = sys_exit,            /* exit_group */
    [232] = sys_epoll_wait,
    [233] = sys_epoll_ctl,
    [234] = sys_kill,            /* tgkill */
    [74] = sys_fsync,
    [75] = sys_fsync,            /* fdatasync */
    [77] = sys_ftruncate,
    [257] = sys_openat,
    [262] = sys_newfstatat,
    [267] = sys_readlinkat,
    [269] = sys_faccessat,       /* faccessat */
    [271] = sys_poll,            /* ppoll: the same (no signals ever arrive) */
    [273] = sys_zero,            /* set_robust_list */
    [281] = sys_epoll_wait,      /* epoll_pwait: no signals to mask */
    [291] = sys_epoll_create,    /* epoll_create1 */
    [293] = sys_pipe,            /* pipe2 */
    [302] = sys_prlimit64,
    [318] = sys_getrandom,
    [324] = sys_quiet_enosys,    /* membarrier */
    [332] = sys_no_file,         /* statx */
    [334] = sys_quiet_enosys,    /* rseq */
    [435] = sys_quiet_enosys,    /* clone3: glibc then uses clone */
    [439] = sys_faccessat,       /* faccessat2 */
};

void syscall_dispatch(struct kvmf_instance *in, struct trap_frame *f)
{
    uint64_t nr = f->rax;
    syscall_fn fn = nr < sizeof table / sizeof table[0] ? table[nr] : NULL;
    if (fn) {
        f->rax = (uint64_t)fn(in, f);
    } else {
        note_unsupported(in, "syscall", nr);
        f->rax = (uint64_t)(int64_t)-ENOSYS;
    }
}
