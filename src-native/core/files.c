/*
 * state_file.c — the VMOD's `state` file: the one file a program can open, a host file named by the configuration
 * (config.state_file), kept across restarts of the server. Every VM of the program may open "state" to read it;
 * only storage may open it to write. Descriptors are the VM's own (a small table per instance, part of the state a
 * reset restores); reads and writes go to the host file at the descriptor's position (pread/pwrite), so requests
 * reading and storage writing never share a file offset.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"

int state_file_open_host(struct kvmf_program *p)
{
    p->state_fd = -1;
    if (!p->config.state_file || !*p->config.state_file)
        return KVMF_OK;
    p->state_fd = open(p->config.state_file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (p->state_fd < 0)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: state_file \"%s\" cannot be opened for "
                         "reading and writing: %s", p->config.state_file, strerror(errno));
    return KVMF_OK;
}

/* The open descriptor `fd` of this VM, or NULL. */
static struct state_open *opened(struct kvmf_instance *in, uint64_t fd)
{
    if (fd < STATE_FD_BASE || fd >= STATE_FD_BASE + STATE_FDS)
        return NULL;
    struct state_open *o = &in->files[fd - STATE_FD_BASE];
    return o->open ? o : NULL;
}

bool state_is_fd(struct kvmf_instance *in, uint64_t fd)
{
    return opened(in, fd) != NULL;
}

int64_t state_open(struct kvmf_instance *in, uint64_t path_addr, uint64_t flags)
{
    uint64_t len;
    const char *path = guest_string(in, path_addr, 4096, &len);
    if (!path)
        return -EFAULT;
    if (strcmp(path, "state") && strcmp(path, "./state"))
        return -ENOENT; /* the sandbox has no file system */
    const struct kvmf_program *p = in->program;
    if (p->state_fd < 0)
        return -ENOENT;
    bool writable = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
    if (writable && !p->is_storage) {
        exchange_logf(in, "[kvmfilter] open(\"state\") for writing refused (-EACCES): only storage writes it\n");
        return -EACCES;
    }
    for (int i = 0; i < STATE_FDS; i++) {
        struct state_open *o = &in->files[i];
        if (o->open)
            continue;
        if ((flags & O_TRUNC) && ftruncate(p->state_fd, 0) < 0)
            return -errno;
        *o = (struct state_open){.open = true, .writable = writable, .append = (flags & O_APPEND) != 0};
        return STATE_FD_BASE + i;
    }
    return -EMFILE;
}

int64_t state_read(struct kvmf_instance *in, uint64_t fd, uint64_t buf, uint64_t len)
{
    struct state_open *o = opened(in, fd);
    if (!o)
        return -EBADF;
    void *dst = guest_ptr(in, buf, len);
    if (!dst)
        return -EFAULT;
    ssize_t n = pread(in->program->state_fd, dst, len, (off_t)o->pos);
    if (n < 0)
        return -errno;
    mark_touched(in, buf, (uint64_t)n);
    o->pos += (uint64_t)n;
    return n;
}

int64_t state_write(struct kvmf_instance *in, uint64_t fd, uint64_t buf, uint64_t len)
{
    struct state_open *o = opened(in, fd);
    if (!o)
        return -EBADF;
    if (!o->writable)
        return -EBADF; /* opened read-only */
    const void *src = guest_ptr(in, buf, len);
    if (!src)
        return -EFAULT;
    int hostfd = in->program->state_fd;
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

int64_t state_lseek(struct kvmf_instance *in, uint64_t fd, int64_t offset, uint64_t whence)
{
    struct state_open *o = opened(in, fd);
    if (!o)
        return -EBADF;
    struct stat st;
    if (fstat(in->program->state_fd, &st) < 0)
        return -errno;
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)o->pos
                   : whence == SEEK_END ? (int64_t)st.st_size : -1;
    if (base < 0 || (offset < 0 && -offset > base))
        return -EINVAL;
    o->pos = (uint64_t)(base + offset);
    return (int64_t)o->pos;
}

int64_t state_fstat(struct kvmf_instance *in, uint64_t fd, uint64_t addr)
{
    if (!opened(in, fd))
        return -EBADF;
    struct stat host;
    if (fstat(in->program->state_fd, &host) < 0)
        return -errno;
    uint32_t mode = 0100000 | (in->program->is_storage ? 0600 : 0400); /* a regular file */
    return put_stat(in, addr, mode, (uint64_t)host.st_size);
}

int64_t state_ftruncate(struct kvmf_instance *in, uint64_t fd, uint64_t len)
{
    struct state_open *o = opened(in, fd);
    if (!o || !o->writable)
        return o ? -EINVAL : -EBADF;
    if (len > in->program->config.max_memory)
        return -EFBIG;
    return ftruncate(in->program->state_fd, (off_t)len) < 0 ? -errno : 0;
}

int64_t state_fsync(struct kvmf_instance *in, uint64_t fd)
{
    if (!opened(in, fd))
        return -EBADF;
    return fdatasync(in->program->state_fd) < 0 ? -errno : 0;
}

int64_t state_close(struct kvmf_instance *in, uint64_t fd)
{
    struct state_open *o = opened(in, fd);
    if (!o)
        return -EBADF;
    o->open = false;
    return 0;
}
