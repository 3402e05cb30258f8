/* json_limits.c — one walk over a parsed body: nesting, value count, array
 * lengths and case-variant keys (see include/s2l/json_limits.h). */
#include "s2l/json_limits.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct walk {
    unsigned max_depth, max_nodes, max_values;
    unsigned long nodes;
    char path[160];          /* where we are, for messages: "Operations[0].value" */
    size_t plen;
    s2l_error *err;
} walk;

/* Appends ".key" or "[index]" to the path, keeping it NUL-terminated and cut
 * at the buffer's end; returns the length to restore afterwards. */
static size_t path_push(walk *w, const char *key, size_t index)
{
    size_t saved = w->plen;
    size_t room = sizeof w->path - w->plen;
    int n;
    if (room <= 1)
        return saved;
    if (key != NULL)
        n = snprintf(w->path + w->plen, room, "%s%s", w->plen ? "." : "", key);
    else
        n = snprintf(w->path + w->plen, room, "[%zu]", index);
    if (n > 0)
        w->plen += (size_t)n < room ? (size_t)n : room - 1;
    return saved;
}

static void path_pop(walk *w, size_t saved)
{
    w->plen = saved;
    w->path[saved] = '\0';
}

static int duplicate(walk *w, const char *first, const char *second)
{
    s2l_error_set(w->err, 400, S2L_SCIM_INVALID_SYNTAX,
                  "attribute \"%s%s%s\" is given twice, as \"%s\" and \"%s\"; attribute names are case-insensitive",
                  w->path, w->plen ? "." : "", first, first, second);
    return -1;
}

/* FNV-1a over the ASCII-lowercased key: equal ignoring case → equal hash. */
static uint32_t fold_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * 16777619u;
    }
    return h;
}

/* Keys of one object that are equal ignoring case. The object's keys are
 * already distinct byte for byte (the parser rejects exact duplicates), so any
 * case-insensitive match is a case variant. Small objects (every SCIM
 * resource) compare pairwise; big ones use a hash set so a 50,000-key object
 * costs linear time. */
static int check_keys(walk *w, json_t *obj)
{
    size_t n = json_object_size(obj);
    const char *key;
    json_t *v;

    if (n < 2)
        return 0;
    if (n <= 16) {
        const char *keys[16];
        size_t k = 0;
        json_object_foreach(obj, key, v) {
            for (size_t i = 0; i < k; i++)
                if (strcasecmp(keys[i], key) == 0)
                    return duplicate(w, keys[i], key);
            keys[k++] = key;
        }
        return 0;
    }
    size_t cap = 32;
    while (cap < 2 * n)
        cap *= 2;
    const char **slots = calloc(cap, sizeof *slots);
    if (slots == NULL) {
        s2l_error_set(w->err, 500, NULL, "out of memory");
        return -1;
    }
    int rc = 0;
    json_object_foreach(obj, key, v) {
        size_t i = fold_hash(key) & (cap - 1);
        while (slots[i] != NULL && strcasecmp(slots[i], key) != 0)
            i = (i + 1) & (cap - 1);
        if (slots[i] != NULL) {
            rc = duplicate(w, slots[i], key);
            break;
        }
        slots[i] = key;
    }
    free(slots);
    return rc;
}

static int visit(walk *w, json_t *v, unsigned depth)
{
    if (++w->nodes > w->max_nodes) {
        s2l_error_set(w->err, 413, NULL, "the request body has more than %u JSON values (limits.max_json_nodes)",
                      w->max_nodes);
        return -1;
    }
    if (!json_is_object(v) && !json_is_array(v))
        return 0;
    if (depth > w->max_depth) {
        s2l_error_set(w->err, 400, S2L_SCIM_INVALID_SYNTAX,
                      "the request body is nested more than %u levels deep (at \"%s\") (limits.max_json_depth)",
                      w->max_depth, w->plen ? w->path : "the top");
        return -1;
    }
    if (json_is_array(v)) {
        size_t n = json_array_size(v);
        if (n > w->max_values) {
            s2l_error_set(w->err, 413, NULL,
                          "\"%s\" has %zu values; at most %u are accepted in one request "
                          "(limits.max_values_per_attribute)",
                          w->plen ? w->path : "the request body", n, w->max_values);
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            size_t saved = path_push(w, NULL, i);
            int rc = visit(w, json_array_get(v, i), depth + 1);
            path_pop(w, saved);
            if (rc < 0)
                return -1;
        }
        return 0;
    }
    if (check_keys(w, v) < 0)
        return -1;
    const char *key;
    json_t *child;
    json_object_foreach(v, key, child) {
        size_t saved = path_push(w, key, 0);
        int rc = visit(w, child, depth + 1);
        path_pop(w, saved);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int s2l_json_check(const json_t *body, const s2l_json_limits *lim, s2l_error *err)
{
    walk w = {.max_depth = S2L_JSON_MAX_DEPTH_DEFAULT,
              .max_nodes = S2L_JSON_MAX_NODES_DEFAULT,
              .max_values = S2L_JSON_MAX_VALUES_DEFAULT,
              .err = err};
    if (lim != NULL) {
        if (lim->max_depth)
            w.max_depth = lim->max_depth;
        if (lim->max_nodes)
            w.max_nodes = lim->max_nodes;
        if (lim->max_values)
            w.max_values = lim->max_values;
    }
    if (body == NULL)
        return 0;
    /* The walk only reads; jansson's iteration macros want a non-const value. */
    return visit(&w, (json_t *)body, 1);
}
