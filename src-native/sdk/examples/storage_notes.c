/* storage_notes.c — notes kept in storage: POST adds the body as a note, GET lists them. Request VMs are reset
 * after every request; storage keeps its memory, so the notes outlive the requests that wrote them. (From kvmrun,
 * where each request of a sequence differs only in its argument, a GET with the argument "add:TEXT" adds TEXT.)
 * Library: { "storage_notes": { "filename": "storage_notes", "storage": true, "concurrency": 4 } }
 * Try it: kvmrun --storage --arg add:one --arg add:two --arg list storage_notes */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvm_api.h"

static char *notes;     /* storage's memory: one note per line */
static size_t notes_len;

/* Runs in storage: appends buffer 0 as a line, hands back how many bytes the notes now hold. */
static void add_note(size_t n, struct virtbuffer buffers[], size_t res)
{
    (void)res;
    if (n == 1) {
        char *grown = realloc(notes, notes_len + buffers[0].len + 1);
        if (grown) {
            notes = grown;
            memcpy(notes + notes_len, buffers[0].data, buffers[0].len);
            notes_len += buffers[0].len;
            notes[notes_len++] = '\n';
        }
    }
    char text[32];
    int len = snprintf(text, sizeof text, "%zu bytes", notes_len);
    storage_return(text, (size_t)len);
}

/* Runs in storage: hands back the notes (storage_callv cuts them at the caller's buffer). */
static void list_notes(size_t n, struct virtbuffer buffers[], size_t res)
{
    (void)n, (void)buffers, (void)res;
    storage_return(notes, notes_len);
}

/* Live update, in the old version's storage: hands the notes to the new version. */
static void on_serialize(void)
{
    storage_return(notes, notes_len);
}

/* Live update, in the new version's storage: the host copies the old notes into the buffer named. */
static void on_restore(size_t len)
{
    char *copy = calloc(1, len + 1);
    storage_return(copy, copy ? len : 0);
    if (copy) {
        free(notes);
        notes = copy;
        notes_len = len;
    }
}

static void answer(long len, const char *out)
{
    if (len < 0)
        kvm_respond_str(503, "text/plain", "storage is not available");
    kvm_respond(200, "text/plain", out, (size_t)len);
}

static char out[65536];

static void on_get(const char *url, const char *arg)
{
    (void)url;
    if (!strncmp(arg, "add:", 4))
        answer(kvm_storage_call(add_note, arg + 4, strlen(arg + 4), out, sizeof out), out);
    else
        answer(kvm_storage_call(list_notes, NULL, 0, out, sizeof out), out);
}

static void on_post(const char *url, const char *arg, const char *content_type, const uint8_t *data, size_t len)
{
    (void)url, (void)arg, (void)content_type;
    answer(kvm_storage_call(add_note, data, len, out, sizeof out), out);
}

int main(void)
{
    if (!kvm_is_sandboxed()) {
        puts("storage_notes runs in the sandbox: kvmrun --storage storage_notes");
        return 0;
    }
    /* Both the storage instance and the request program run main(); only these may be called in storage. */
    sys_storage_allow((void (*)(void))add_note);
    sys_storage_allow((void (*)(void))list_notes);
    kvm_set_get_handler(on_get);
    kvm_set_post_handler(on_post);
    register_func(KVM_HANDLER_LIVE_UPDATE_SERIALIZE, (void *)on_serialize);
    register_func(KVM_HANDLER_LIVE_UPDATE_RESTORE, (void *)on_restore);
    wait_for_requests();
    return 0;
}
