/* buffer.c — a growable byte buffer with a hard limit, and the header lists built on it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core.h"

bool buffer_append(struct buffer *b, const void *data, size_t len, size_t limit)
{
    bool complete = true;
    if (b->len >= limit)
        return len == 0;
    if (len > limit - b->len) {
        len = limit - b->len;
        complete = false;
    }
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown)
            return false;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return complete;
}

void buffer_clear(struct buffer *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buffer_free(struct buffer *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int header_list_add(struct header_list *l, const char *text, size_t len)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct header *grown = realloc(l->items, cap * sizeof *grown);
        if (!grown)
            return -1;
        l->items = grown;
        l->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, text, len);
    copy[len] = '\0';
    l->items[l->count].text = copy;
    l->items[l->count].len = len;
    l->count++;
    l->bytes += len;
    return 0;
}

void header_list_clear(struct header_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i].text);
    l->count = 0;
    l->bytes = 0;
}

static bool header_has_name(const struct header *h, const char *name, size_t name_len)
{
    return h->len > name_len && h->text[name_len] == ':' && strncasecmp(h->text, name, name_len) == 0;
}

long header_list_find(const struct header_list *l, const char *name, size_t name_len)
{
    for (size_t i = 0; i < l->count; i++)
        if (header_has_name(&l->items[i], name, name_len))
            return (long)i;
    return -1;
}

size_t header_list_remove_all(struct header_list *l, const char *name, size_t name_len)
{
    size_t kept = 0;
    for (size_t i = 0; i < l->count; i++) {
        struct header *h = &l->items[i];
        if (header_has_name(h, name, name_len)) {
            l->bytes -= h->len;
            free(h->text);
        } else {
            l->items[kept++] = *h;
        }
    }
    size_t removed = l->count - kept;
    l->count = kept;
    return removed;
}
