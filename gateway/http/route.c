/* route.c — the route table and the router (see route.h). */
#include "route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "request-internal.h"
#include "request_auth.h"

#define MAX_SEGMENTS 16          /* patterns; request paths may be longer (they just do not match) */

typedef enum { SEG_LITERAL, SEG_ONE, SEG_REST } seg_kind;

typedef struct seg {
    seg_kind kind;
    const char *text;            /* literal, in the row's pattern copy */
    size_t len;
} seg;

typedef struct row {
    s2l_route r;                 /* r.pattern points at pattern */
    char *pattern;
    seg segs[MAX_SEGMENTS];
    size_t n_segs;
    size_t group;                /* index of the first row with the same pattern (and root flag) */
    size_t run_end;              /* rows [this, run_end) share this row's literal first segment: one
                                    comparison of the path's first segment serves them all */
} row;

struct s2l_routes {
    row *rows;
    size_t n, cap;
    size_t n_root;               /* rows with S2L_ROUTE_ROOT */
};

s2l_routes *s2l_routes_create(void)
{
    return calloc(1, sizeof(s2l_routes));
}

void s2l_routes_destroy(s2l_routes *rt)
{
    if (rt == NULL)
        return;
    for (size_t i = 0; i < rt->n; i++)
        free(rt->rows[i].pattern);
    free(rt->rows);
    free(rt);
}

/* Splits a pattern into segments; -1 when malformed. */
static int compile(row *w)
{
    const char *p = w->pattern;
    if (*p == '/')
        p++;
    w->n_segs = 0;
    while (*p) {
        size_t len = strcspn(p, "/");
        if (len == 0 || w->n_segs == MAX_SEGMENTS)
            return -1;
        seg *s = &w->segs[w->n_segs++];
        s->text = p;
        s->len = len;
        s->kind = len == 2 && strncmp(p, "{}", 2) == 0 ? SEG_ONE
                  : len == 1 && *p == '*'              ? SEG_REST
                                                       : SEG_LITERAL;
        p += len;
        if (*p == '/')
            p++;
        if (s->kind == SEG_REST && *p)
            return -1; /* "*" only last */
    }
    return 0;
}

static inline char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* ASCII case-insensitive equality of n bytes (segments are short: no libc call). */
static bool same_ci(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

/* Whether a and b start with the same literal segment (and are both root or not). */
static bool same_first(const row *a, const row *b)
{
    return a->n_segs > 0 && b->n_segs > 0 && a->segs[0].kind == SEG_LITERAL && b->segs[0].kind == SEG_LITERAL &&
           a->segs[0].len == b->segs[0].len && same_ci(a->segs[0].text, b->segs[0].text, a->segs[0].len) &&
           (a->r.flags & S2L_ROUTE_ROOT) == (b->r.flags & S2L_ROUTE_ROOT);
}

int s2l_routes_add(s2l_routes *rt, const s2l_route *r)
{
    if (r->pattern == NULL || r->handler == NULL || (r->methods & S2L_ANY_METHOD) == 0)
        return -1;
    if (rt->n == rt->cap) {
        size_t cap = rt->cap ? rt->cap * 2 : 16;
        row *rows = realloc(rt->rows, cap * sizeof *rows);
        if (rows == NULL)
            return -1;
        rt->rows = rows;
        rt->cap = cap;
    }
    row *w = &rt->rows[rt->n];
    *w = (row){.r = *r, .pattern = strdup(r->pattern)};
    if (w->pattern == NULL || compile(w) < 0) {
        free(w->pattern);
        return -1;
    }
    w->r.pattern = w->pattern;
    w->group = rt->n;
    for (size_t i = 0; i < rt->n; i++) {
        if (strcasecmp(rt->rows[i].pattern, w->pattern) == 0 &&
            (rt->rows[i].r.flags & S2L_ROUTE_ROOT) == (w->r.flags & S2L_ROUTE_ROOT)) {
            w->group = rt->rows[i].group;
            break;
        }
    }
    rt->n_root += (w->r.flags & S2L_ROUTE_ROOT) != 0;
    w->run_end = rt->n + 1;
    if (rt->n > 0 && same_first(&rt->rows[rt->n - 1], w))
        for (size_t i = rt->n; i-- > 0 && rt->rows[i].run_end == rt->n;)
            rt->rows[i].run_end = rt->n + 1;
    rt->n++;
    return 0;
}

/* ---- matching ---- */

typedef struct path_segs {
    const char *text[MAX_SEGMENTS + 1];
    size_t len[MAX_SEGMENTS + 1];
    size_t n;                    /* MAX_SEGMENTS + 1 = "more than any pattern can match" */
    const char *end;             /* end of the path (without a trailing '/') */
} path_segs;

static void split_path(const char *path, path_segs *ps)
{
    size_t len = strlen(path);
    if (len > 0 && path[len - 1] == '/')
        len--; /* "/Users/" is "/Users" */
    const char *p = path, *end = path + len;
    if (p < end && *p == '/')
        p++;
    ps->n = 0;
    ps->end = end;
    while (p < end && ps->n <= MAX_SEGMENTS) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        size_t l = slash ? (size_t)(slash - p) : (size_t)(end - p);
        ps->text[ps->n] = p;
        ps->len[ps->n] = l;
        ps->n++;
        p += l + (slash != NULL);
        if (slash && p == end) { /* "a//": an empty last segment */
            if (ps->n <= MAX_SEGMENTS) {
                ps->text[ps->n] = p;
                ps->len[ps->n] = 0;
                ps->n++;
            }
        }
    }
}

/* Specificity of w for ps (higher is more specific), or -1 when it does not
 * match: position by position from the left, a literal weighs more than "{}",
 * which weighs more than a "*" that took something; a "*" that took nothing
 * weighs nothing (so a pattern and the same pattern plus "*" tie on the
 * shorter path). Captures the parameter. */
static long long match_row(const row *w, const path_segs *ps, size_t from, const char **param, size_t *param_len)
{
    long long score = 0, weight = 1LL << (2 * MAX_SEGMENTS);
    *param = NULL;
    *param_len = 0;
    if (from > 0) { /* the first segment, a literal, is known to match */
        score += 3 * weight;
        weight /= 4;
    }
    for (size_t i = from; i < w->n_segs; i++, weight /= 4) {
        const seg *s = &w->segs[i];
        if (s->kind == SEG_REST) {
            if (i >= ps->n)
                return score;
            *param = ps->text[i];
            *param_len = (size_t)(ps->end - ps->text[i]);
            return score + weight;
        }
        if (i >= ps->n || ps->len[i] == 0)
            return -1;
        if (s->kind == SEG_ONE) {
            *param = ps->text[i];
            *param_len = ps->len[i];
            score += 2 * weight;
        } else if (s->len == ps->len[i] && same_ci(s->text, ps->text[i], s->len)) {
            score += 3 * weight;
        } else {
            return -1;
        }
    }
    return ps->n == w->n_segs ? score : -1;
}

/* The best row for the path, with the union of the methods of the rows that
 * share its pattern; NULL when none matches. */
static const row *best_row(const s2l_routes *rt, const char *path, bool root, unsigned *allow,
                           const char **param, size_t *param_len)
{
    *allow = 0;
    *param = NULL;
    *param_len = 0;
    if (root && rt->n_root == 0)
        return NULL;
    path_segs ps;
    split_path(path, &ps);
    const row *best = NULL;
    long long best_score = -1;
    size_t run_end = 0;          /* rows before this share a first segment that matched */
    for (size_t i = 0; i < rt->n; i++) {
        const row *w = &rt->rows[i];
        if (((w->r.flags & S2L_ROUTE_ROOT) != 0) != root)
            continue;
        size_t from = 0;
        if (i < run_end) {
            from = 1;
        } else if (w->n_segs > 0 && w->segs[0].kind == SEG_LITERAL) {
            if (ps.n == 0 || w->segs[0].len != ps.len[0] || !same_ci(w->segs[0].text, ps.text[0], ps.len[0])) {
                i = w->run_end - 1; /* the whole run fails */
                continue;
            }
            run_end = w->run_end;
            from = 1;
        }
        const char *pp;
        size_t pl;
        long long score = match_row(w, &ps, from, &pp, &pl);
        /* On a tie the shorter pattern wins (the exact one over the one with "*"), then the first. */
        if (score > best_score || (score == best_score && score >= 0 && w->n_segs < best->n_segs)) {
            best = w;
            best_score = score;
            *param = pp;
            *param_len = pl;
        }
    }
    if (best == NULL)
        return NULL;
    for (size_t i = best->group; i < rt->n; i++)
        if (rt->rows[i].group == best->group)
            *allow |= rt->rows[i].r.methods;
    return best;
}

/* The row with best's pattern that takes method, or NULL. */
static const row *row_for_method(const s2l_routes *rt, const row *best, s2l_method method)
{
    for (size_t i = best->group; i < rt->n; i++)
        if (rt->rows[i].group == best->group && (rt->rows[i].r.methods & method))
            return &rt->rows[i];
    return NULL;
}

const s2l_route *s2l_routes_match(const s2l_routes *rt, const char *path, bool root, s2l_method method,
                                  unsigned *allow, const char **param, size_t *param_len)
{
    const row *best = best_row(rt, path, root, allow, param, param_len);
    const row *w = best ? row_for_method(rt, best, method) : NULL;
    return w ? &w->r : NULL;
}

void s2l_methods_format(unsigned methods, char *buf, size_t len)
{
    static const s2l_method order[] = {S2L_GET, S2L_POST, S2L_PUT, S2L_PATCH, S2L_DELETE,
                                       S2L_HEAD, S2L_OPTIONS, S2L_TRACE, S2L_CONNECT};
    size_t o = 0;
    if (len == 0)
        return;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (!(methods & order[i]))
            continue;
        int n = snprintf(buf + o, len - o, "%s%s", o ? ", " : "", s2l_method_name(order[i]));
        if (n < 0 || (size_t)n >= len - o) {
            buf[o] = 0; /* whole names only */
            return;
        }
        o += (size_t)n;
    }
}

/* ---- dispatch ---- */

static int read_json_body(s2l_req *req)
{
    if (req->body) { /* a local request's JSON */
        if (!json_is_object(req->body)) {
            s2l_req_fail(req, 400, S2L_SCIM_INVALID_SYNTAX, "request body must be a JSON object");
            return -1;
        }
        return 0;
    }
    size_t len = 0;
    const char *data = s2l_req_body_raw(req, &len);
    if (data == NULL || len == 0)
        return 0;
    if (len > req->gw->cfg->limits.max_body_bytes) {
        s2l_req_fail(req, 413, NULL, "request body of %zu bytes exceeds the limit of %zu bytes", len,
                     req->gw->cfg->limits.max_body_bytes);
        return -1;
    }
    if (!s2l_content_type_is_json(s2l_req_header(req, "Content-Type"))) {
        s2l_req_fail(req, 415, NULL, "Content-Type must be application/scim+json or application/json");
        return -1;
    }
    json_error_t jerr;
    req->body = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (req->body == NULL) {
        s2l_req_fail(req, 400, S2L_SCIM_INVALID_SYNTAX, "request body is not valid JSON: %s at line %d column %d",
                     jerr.text, jerr.line, jerr.column);
        return -1;
    }
    if (!json_is_object(req->body)) {
        s2l_req_fail(req, 400, S2L_SCIM_INVALID_SYNTAX, "request body must be a JSON object");
        return -1;
    }
    return 0;
}

static void method_not_allowed(s2l_req *req, unsigned allow)
{
    char allowed[96];
    s2l_methods_format(allow, allowed, sizeof allowed);
    s2l_error err;
    s2l_error_set(&err, 405, NULL, "method %s is not allowed on %s", req->method_name, req->path);
    const char *hdr[] = {"Allow", allowed, NULL};
    s2l_req_reply_json(req, 405, s2l_error_to_json(&err), hdr);
}

/* The part of path below base_path, or NULL when path is not under it. */
static const char *below_base(const char *path, const char *base_path)
{
    size_t bl = strlen(base_path);
    if (strncasecmp(path, base_path, bl) != 0 || (path[bl] != '/' && path[bl] != 0))
        return NULL;
    return path + bl;
}

/* Text no handler may see: a NUL (it would cut an id or a filter short,
 * and a shorter id or no filter is another request) and an empty filter
 * (which would mean "no filter"). -1 when refused (the reply is sent). */
static int refuse_uri_text(s2l_req *req)
{
    if (req->path_nul) {
        s2l_req_fail(req, 400, S2L_SCIM_INVALID_VALUE, "the request path holds a NUL byte (%%00)");
        return -1;
    }
    const char *name = req->query.nul_name;
    if (name) {
        bool filter = strcasecmp(name, "filter") == 0;
        s2l_req_fail(req, 400, filter ? S2L_SCIM_INVALID_FILTER : S2L_SCIM_INVALID_VALUE,
                     "query parameter \"%.64s\" holds a NUL byte (%%00)", name);
        return -1;
    }
    const char *filter = s2l_req_query(req, "filter");
    if (filter && filter[strspn(filter, " \t")] == 0) {
        s2l_req_fail(req, 400, S2L_SCIM_INVALID_FILTER, "the filter is empty");
        return -1;
    }
    return 0;
}

void s2l_routes_dispatch(const s2l_routes *rt, s2l_req *req)
{
    if (req->path == NULL) {
        s2l_req_fail(req, 400, NULL, "malformed request URI");
        return;
    }
    if (refuse_uri_text(req) < 0)
        return;
    unsigned allow = 0;
    const char *param = NULL;
    size_t param_len = 0;
    const row *best = best_row(rt, req->path, true, &allow, &param, &param_len);
    if (best == NULL) {
        const char *bp = req->gw->cfg->base_path;
        const char *rel = below_base(req->path, bp);
        if (rel == NULL) {
            s2l_req_fail(req, 404, NULL, "no such endpoint %s (the SCIM base path is %s)", req->path,
                         bp[0] ? bp : "/");
            return;
        }
        /* The access log and messages show the path below base_path. */
        memmove(req->path, rel, strlen(rel) + 1);
        best = best_row(rt, req->path, false, &allow, &param, &param_len);
    }
    bool public_route = best && best->r.auth == S2L_AUTH_NONE;
    if (!public_route) {
        /* credentials, expiry, allow_from, rate limits: false = 401/403/429 sent */
        if (!req->authenticated && !s2l_http_authenticate(req))
            return;
        if ((best == NULL || !(best->r.flags & S2L_ROUTE_RAW_BODY)) && read_json_body(req) < 0)
            return;
    }
    if (best == NULL) {
        s2l_req_fail(req, 404, NULL, "no such endpoint %s", req->path);
        return;
    }
    /* read_only and resource_types, before the method is looked at: a
     * read-only credential gets 403 for any writing method on a type. A
     * vouched local request without a credential is a trusted caller's. */
    if (!public_route && best->r.resource && (req->cred || !req->authenticated) &&
        !s2l_http_permit(req, best->r.resource))
        return;
    const row *w = row_for_method(rt, best, req->method);
    if (w == NULL) {
        method_not_allowed(req, allow);
        return;
    }
    if (param && param_len) {
        /* Usually the capture ends the path: no copy. */
        if (param[param_len] == 0)
            req->param = param;
        else if ((req->param = req->param_copy = strndup(param, param_len)) == NULL) {
            s2l_req_fail(req, 503, NULL, "out of memory");
            return;
        }
    }
    req->route = &w->r;
    req->route_data = w->r.data;
    w->r.handler(req);
}
