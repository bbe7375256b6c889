/* header_list.c — lists of "Name: value" header fields, as a guest run's request and response hold them. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core.h"

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
