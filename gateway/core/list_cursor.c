/* list_cursor.c — the table of paged-listing cursors (see include/s2l/list_cursor.h). */
#include "s2l/list_cursor.h"

#include <stdlib.h>
#include <string.h>

struct s2l_cursors {
    s2l_cursor *c;
    unsigned n;
};

s2l_cursors *s2l_cursors_create(unsigned n)
{
    s2l_cursors *t = calloc(1, sizeof *t);
    if (t == NULL || (t->c = calloc(n ? n : 1, sizeof *t->c)) == NULL) {
        free(t);
        return NULL;
    }
    t->n = n;
    for (unsigned i = 0; i < n; i++)
        t->c[i].conn = i + 1;
    return t;
}

void s2l_cursor_reset(s2l_cursor *c)
{
    free(c->key);
    free(c->cookie);
    c->key = NULL;
    c->cookie = NULL;
    c->cookie_len = 0;
    c->gen = 0;
    c->pos = 0;
    c->ended = false;
    c->count = 0;
    c->count_exact = false;
}

void s2l_cursors_destroy(s2l_cursors *t)
{
    if (t == NULL)
        return;
    for (unsigned i = 0; i < t->n; i++)
        s2l_cursor_reset(&t->c[i]);
    free(t->c);
    free(t);
}

s2l_cursor *s2l_cursors_take(s2l_cursors *t, const char *key, unsigned long pos, uint64_t now_us,
                             uint64_t max_idle_us, s2l_cursor_conn_ok_fn *conn_ok, void *arg, bool *resumed)
{
    s2l_cursor *lru = NULL;
    *resumed = false;
    for (unsigned i = 0; i < t->n; i++) {
        s2l_cursor *c = &t->c[i];
        if (c->busy || (conn_ok && !conn_ok(arg, c->conn)))
            continue;
        if (c->key && strcmp(c->key, key) == 0 && c->pos == pos && now_us - c->used_us < max_idle_us) {
            c->busy = true;
            *resumed = true;
            return c;
        }
        /* Walks nobody continues are the cheapest to give up: prefer cursors
         * without one, then the least recently used. */
        if (lru == NULL || (lru->key && (c->key == NULL || c->used_us < lru->used_us)))
            lru = c;
    }
    if (lru) {
        s2l_cursor_reset(lru);
        lru->busy = true;
    }
    return lru;
}

int s2l_cursor_begin(s2l_cursor *c, const char *key, unsigned gen)
{
    s2l_cursor_reset(c);
    if ((c->key = strdup(key)) == NULL)
        return -1;
    c->gen = gen;
    return 0;
}

int s2l_cursor_advance(s2l_cursor *c, unsigned long n, const unsigned char *cookie, size_t len)
{
    unsigned char *copy = NULL;
    if (len > 0 && (copy = malloc(len)) == NULL) {
        s2l_cursor_reset(c);
        return -1;
    }
    if (len > 0)
        memcpy(copy, cookie, len);
    free(c->cookie);
    c->cookie = copy;
    c->cookie_len = len;
    c->pos += n;
    c->ended = len == 0;
    return 0;
}

void s2l_cursors_release(s2l_cursors *t, s2l_cursor *c, uint64_t now_us)
{
    (void)t;
    c->busy = false;
    c->used_us = now_us;
}
