/* buffer.c — a growable byte buffer with a hard limit. */
#include <stdlib.h>
#include <string.h>

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
