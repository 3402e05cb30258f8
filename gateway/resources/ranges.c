/* ranges.c — AD range retrieval in the handlers (see ranges.h). */
#include "ranges.h"

#include <ldap.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s2l/log.h"
#include "s2l/mapping.h"

/* A server that keeps answering with ranges that do not end: give up. */
#define MAX_RANGE_STEPS 100000

typedef struct ranges_ctx {
    s2l_req *req;
    s2l_lookup_done_fn *done;
    void *arg;
    unsigned pending;
    bool failed;
} ranges_ctx;

/* One attribute of one entry being read range after range. */
typedef struct range_walk {
    ranges_ctx *ctx;
    json_t *entry;               /* a reference of ours */
    char *attr;                  /* "member" */
    unsigned long from;          /* the next range starts here */
    unsigned steps;
} range_walk;

static void walk_free(void *p)
{
    range_walk *w = p;
    json_decref(w->entry);
    free(w->attr);
    free(w);
}

static int walk_next(range_walk *w, const char *next);

static void walk_finished(range_walk *w)
{
    ranges_ctx *c = w->ctx;
    if (--c->pending == 0 && !c->failed)
        c->done(c->arg, NULL);
}

static void on_range(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    range_walk *w = arg;
    ranges_ctx *c = w->ctx;
    if (c->failed)
        return;
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        c->failed = true;
        c->done(c->arg, res);
        return;
    }
    /* the next range's values go into the entry under their ranged name, then merge */
    json_t *got = json_object_get(json_array_get(res->entries, 0), "attrs"), *attrs = json_object_get(w->entry, "attrs");
    const char *key;
    json_t *vals;
    json_object_foreach(got, key, vals) {
        size_t n;
        unsigned long lo, hi;
        bool last;
        if (s2l_range_parse(key, &n, &lo, &hi, &last) && n == strlen(w->attr) && strncasecmp(key, w->attr, n) == 0)
            json_object_set(attrs, key, vals);
    }
    json_t *todo = s2l_entry_merge_ranges(w->entry);
    if (todo == NULL) {
        c->failed = true;
        s2l_req_fail(req, 503, NULL, "out of memory");
        return;
    }
    const char *next = NULL;
    size_t i;
    json_t *t;
    json_array_foreach(todo, i, t) {
        if (strcasecmp(json_string_value(json_object_get(t, "attr")), w->attr) == 0 &&
            (unsigned long)json_integer_value(json_object_get(t, "from")) > w->from) {
            next = json_string_value(json_object_get(t, "next"));
            w->from = (unsigned long)json_integer_value(json_object_get(t, "from"));
        }
    }
    if (next == NULL || ++w->steps > MAX_RANGE_STEPS) {
        if (next)
            s2l_log(S2L_LOG_WARN, "event=range_retrieval_stopped req=%llu attr=%s steps=%u",
                    (unsigned long long)req->id, w->attr, w->steps);
        json_decref(todo);
        walk_finished(w);
        return;
    }
    int rc = walk_next(w, next);
    json_decref(todo);
    if (rc < 0) {
        c->failed = true;
        s2l_req_fail(req, 503, NULL, "out of memory");
    }
}

static int walk_next(range_walk *w, const char *next)
{
    char *attrs[] = {(char *)next, NULL};
    s2l_search_req sr = {.base = json_string_value(json_object_get(w->entry, "dn")), .scope = LDAP_SCOPE_BASE,
                         .filter = "(objectClass=*)", .attrs = attrs, .size_limit = 1};
    return sr.base ? s2l_req_ldap_search(w->ctx->req, &sr, on_range, w) : -1;
}

int s2l_ranges_complete(s2l_req *req, json_t *entries, s2l_lookup_done_fn *done, void *arg)
{
    ranges_ctx *c = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e) {
        json_t *todo = s2l_entry_merge_ranges(e);
        if (todo == NULL)
            goto oom;
        size_t k;
        json_t *t;
        json_array_foreach(todo, k, t) {
            if (c == NULL) {
                if ((c = calloc(1, sizeof *c)) == NULL || s2l_req_adopt(req, c, free) < 0) {
                    c = NULL; /* freed by s2l_req_adopt */
                    json_decref(todo);
                    goto oom;
                }
                *c = (ranges_ctx){.req = req, .done = done, .arg = arg};
            }
            range_walk *w = calloc(1, sizeof *w);
            if (w == NULL || s2l_req_adopt(req, w, walk_free) < 0) {
                json_decref(todo);
                goto oom;
            }
            w->ctx = c;
            w->entry = json_incref(e);
            w->from = (unsigned long)json_integer_value(json_object_get(t, "from"));
            if ((w->attr = strdup(json_string_value(json_object_get(t, "attr")))) == NULL ||
                walk_next(w, json_string_value(json_object_get(t, "next"))) < 0) {
                json_decref(todo);
                goto oom;
            }
            c->pending++;
        }
        json_decref(todo);
    }
    return c && c->pending > 0 ? 1 : 0;
oom:
    if (c)
        c->failed = true;
    s2l_req_fail(req, 503, NULL, "out of memory");
    return -1;
}
