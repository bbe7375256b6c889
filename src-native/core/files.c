/*
 * files.c — the files a program can open. The VMOD's `state` file: a host file named by the configuration
 * (config.state_file), kept across restarts of the server; every VM of the program may open "state" to read it,
 * only storage may open it to write. And allowed_paths (config.allowed_paths): read-only host files a program opens
 * by the path the library gives, opened once when the program is created (so the program reads what was there, and
 * a path cannot be swapped for a symlink later). Every other path does not exist.
 * Descriptors are the VM's own (a small table per instance, part of the state a reset restores); reads and writes
 * go to the host file at the descriptor's position (pread/pwrite), so VMs never share a file offset.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"

/* Opens the allowed paths, "guest path\0host path\0" pairs. */
static int open_allowed(struct kvmf_program *p)
{
    const char *at = p->allowed_paths, *end = at + p->config.allowed_paths_len;
    while (at < end) {
        const char *guest = at, *host = guest + strlen(guest) + 1;
        if (host >= end)
            return kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: allowed_paths must be pairs of a path "
                             "the program opens and a host file; \"%s\" has no host file", guest);
        at = host + strlen(host) + 1;
        if (guest[0] != '/' || host[0] != '/')
            return kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: allowed path \"%s\" -> \"%s\": both "
                             "must be absolute paths", guest, host);
        if (!strcmp(guest, "/state"))
            return kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: allowed path \"/state\" would hide "
                             "the state file; choose another path");
        if (p->allowed_count == ALLOWED_PATHS_MAX)
            return kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: more than %d allowed paths",
                             ALLOWED_PATHS_MAX);
        int fd = open(host, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
            return kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: allowed path \"%s\" cannot be opened "
                             "for reading: %s", host, strerror(errno));
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            return kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: allowed path \"%s\" is not a regular "
                             "file (directories and devices are not supported)", host);
        }
        p->allowed[p->allowed_count++] = (struct allowed_file){.path = guest, .fd = fd};
    }
    return KVMF_OK;
}

int files_open_host(struct kvmf_program *p)
{
    p->state_fd = -1;
    int rc = open_allowed(p);
    if (rc != KVMF_OK || !p->config.state_file || !*p->config.state_file)
        return rc;
    p->state_fd = open(p->config.state_file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (p->state_fd < 0)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: state_file \"%s\" cannot be opened for "
                         "reading and writing: %s", p->config.state_file, strerror(errno));
    return KVMF_OK;
}

void files_close_host(struct kvmf_program *p)
{
    if (p->state_fd >= 0)
        close(p->state_fd);
    p->state_fd = -1;
    for (size_t i = 0; i < p->allowed_count; i++)
        close(p->allowed[i].fd);
    p->allowed_count = 0;
    free(p->state_file);
    free(p->allowed_paths);
    p->state_file = p->allowed_paths = NULL;
}

#define NO_FILE (-2)

/* The file a path names: an allowed path's index, STATE_FILE, or NO_FILE. (Allowed paths are absolute, so they
 * never read "state".) */
static int file_of(const struct kvmf_program *p, const char *path)
{
    for (size_t i = 0; i < p->allowed_count; i++)
        if (!strcmp(p->allowed[i].path, path))
            return (int)i;
    if ((!strcmp(path, "state") || !strcmp(path, "./state")) && p->state_fd >= 0)
        return STATE_FILE;
    return NO_FILE;
}

/* The host descriptor behind a file of file_of. */
static int fd_of(const struct kvmf_program *p, int file)
{
    return file == STATE_FILE ? p->state_fd : p->allowed[file].fd;
}

/* The host descriptor behind an open file. */
static int host_fd(const struct kvmf_instance *in, const struct open_file *o)
{
    return fd_of(in->program, o->file);
}

/* The open descriptor `fd` of this VM, or NULL. */
static struct open_file *opened(struct kvmf_instance *in, uint64_t fd)
{
    if (fd < FILE_FD_BASE || fd >= FILE_FD_BASE + OPEN_FILES_MAX)
        return NULL;
    struct open_file *o = &in->files[fd - FILE_FD_BASE];
    return o->open ? o : NULL;
}

bool file_is_fd(struct kvmf_instance *in, uint64_t fd)
{
    return opened(in, fd) != NULL;
}

int64_t file_open(struct kvmf_instance *in, uint64_t path_addr, uint64_t flags)
{
    uint64_t len;
    const char *path = guest_string(in, path_addr, 4096, &len);
    if (!path)
        return -EFAULT;
    const struct kvmf_program *p = in->program;
    bool writable = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
    int file = file_of(p, path);
    if (file == NO_FILE)
        return -ENOENT; /* the sandbox has no file system */
    if (writable && file != STATE_FILE) {
        exchange_logf(in, "[kvmfilter] open(\"%.200s\") for writing refused (-EACCES): allowed paths are "
                      "read-only\n", path);
        return -EACCES;
    }
    if (writable && !p->is_storage) {
        exchange_logf(in, "[kvmfilter] open(\"state\") for writing refused (-EACCES): only storage writes it\n");
        return -EACCES;
    }
    for (int i = 0; i < OPEN_FILES_MAX; i++) {
        struct open_file *o = &in->files[i];
        if (o->open)
            continue;
        if (file == STATE_FILE && (flags & O_TRUNC) && ftruncate(p->state_fd, 0) < 0)
            return -errno;
        *o = (struct open_file){.open = true, .writable = writable, .append = (flags & O_APPEND) != 0, .file = file};
        return FILE_FD_BASE + i;
    }
    return -EMFILE;
}

int64_t file_read(struct kvmf_instance *in, uint64_t fd, uint64_t buf, uint64_t len)
{
    struct open_file *o = opened(in, fd);
    if (!o)
        return -EBADF;
    void *dst = guest_ptr(in, buf, len);
    if (!dst)
        return -EFAULT;
    ssize_t n = pread(host_fd(in, o), dst, len, (off_t)o->pos);
    if (n < 0)
        return -errno;
    mark_touched(in, buf, (uint64_t)n);
    o->pos += (uint64_t)n;
    return n;
}

int64_t file_write(struct kvmf_instance *in, uint64_t fd, uint64_t buf, uint64_t len)
{
    struct open_file *o = opened(in, fd);
    if (!o)
        return -EBADF;
    if (!o->writable)
        return -EBADF; /* opened read-only */
    const void *src = guest_ptr(in, buf, len);
    if (!src)
        return -EFAULT;
    int hostfd = host_fd(in, o);
    if (o->append) {
        struct stat st;
        if (fstat(hostfd, &st) < 0)
            return -errno;
        o->pos = (uint64_t)st.st_size;
    }
    /* Bounded like the program's memory: storage cannot fill the host's disk. */
    if (o->pos > in->program->config.max_memory || len > in->program->config.max_memory - o->pos)
        return -EFBIG;
    ssize_t n = pwrite(hostfd, src, len, (off_t)o->pos);
    if (n < 0)
        return -errno;
    o->pos += (uint64_t)n;
    return n;
}

int64_t file_lseek(struct kvmf_instance *in, uint64_t fd, int64_t offset, uint64_t whence)
{
    struct open_file *o = opened(in, fd);
    if (!o)
        return -EBADF;
    struct stat st;
    if (fstat(host_fd(in, o), &st) < 0)
        return -errno;
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)o->pos
                   : whence == SEEK_END ? (int64_t)st.st_size : -1;
    if (base < 0 || (offset < 0 && -offset > base))
        return -EINVAL;
    o->pos = (uint64_t)(base + offset);
    return (int64_t)o->pos;
}

/* The state file is the owner's to write in storage; every other file is read-only. */
static int64_t stat_file(struct kvmf_instance *in, int hostfd, bool state, uint64_t addr)
{
    struct stat host;
    if (fstat(hostfd, &host) < 0)
        return -errno;
    uint32_t mode = 0100000 | (state && in->program->is_storage ? 0600 : 0400); /* a regular file */
    return put_stat(in, addr, mode, (uint64_t)host.st_size);
}

int64_t file_fstat(struct kvmf_instance *in, uint64_t fd, uint64_t addr)
{
    struct open_file *o = opened(in, fd);
    if (!o)
        return -EBADF;
    return stat_file(in, host_fd(in, o), o->file == STATE_FILE, addr);
}

int64_t file_stat_path(struct kvmf_instance *in, const char *path, uint64_t addr)
{
    const struct kvmf_program *p = in->program;
    int file = file_of(p, path);
    return file == NO_FILE ? -ENOENT : stat_file(in, fd_of(p, file), file == STATE_FILE, addr);
}

int64_t file_access(struct kvmf_instance *in, const char *path, uint64_t mode)
{
    const struct kvmf_program *p = in->program;
    int file = file_of(p, path);
    if (file == NO_FILE)
        return -ENOENT;
    if ((mode & X_OK) || ((mode & W_OK) && !(file == STATE_FILE && p->is_storage)))
        return -EACCES; /* nothing here runs; only storage writes, and only the state file */
    return 0;
}

int64_t file_ftruncate(struct kvmf_instance *in, uint64_t fd, uint64_t len)
{
    struct open_file *o = opened(in, fd);
    if (!o || !o->writable)
        return o ? -EINVAL : -EBADF;
    if (len > in->program->config.max_memory)
        return -EFBIG;
    return ftruncate(host_fd(in, o), (off_t)len) < 0 ? -errno : 0;
}

int64_t file_fsync(struct kvmf_instance *in, uint64_t fd)
{
    struct open_file *o = opened(in, fd);
    if (!o)
        return -EBADF;
    if (!o->writable)
        return 0; /* nothing of a read-only file to sync */
    return fdatasync(host_fd(in, o)) < 0 ? -errno : 0;
}

int64_t file_close(struct kvmf_instance *in, uint64_t fd)
{
    struct open_file *o = opened(in, fd);
    if (!o)
        return -EBADF;
    o->open = false;
    return 0;
}
