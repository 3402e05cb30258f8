/* bulk.c — BulkRequest parsing, bulkId references and run order (see include/s2l/bulk.h). */
#include "s2l/bulk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s2l/ldap_text.h"

#define BULK_PREFIX "bulkId:"
#define BULK_PREFIX_LEN (sizeof BULK_PREFIX - 1)

/* ---- small helpers ---- */

static const json_t *member(const json_t *obj, const char *name)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (strcasecmp(k, name) == 0)
            return v;
    }
    return NULL;
}

static int oom(s2l_error *err)
{
    s2l_error_set(err, 500, NULL, "out of memory");
    return -1;
}

/* Adds id to the NULL-terminated vector *v unless present. */
static int strv_add_unique(char ***v, const char *id, size_t len)
{
    size_t n = 0;
    for (; *v && (*v)[n]; n++)
        if (strlen((*v)[n]) == len && strncmp((*v)[n], id, len) == 0)
            return 0;
    char **nv = realloc(*v, (n + 2) * sizeof *nv);
    if (nv == NULL)
        return -1;
    *v = nv;
    if ((nv[n] = strndup(id, len)) == NULL) {
        nv[n] = NULL;
        return -1;
    }
    nv[n + 1] = NULL;
    return 0;
}

/* ---- references ---- */

/* The bulkId a whole string value refers to ("bulkId:x" → x), or NULL. */
static const char *whole_ref(const char *s)
{
    return strncmp(s, BULK_PREFIX, BULK_PREFIX_LEN) == 0 && s[BULK_PREFIX_LEN] ? s + BULK_PREFIX_LEN : NULL;
}

/* Calls fn for every quoted "bulkId:x" in a PATCH path (filter values). */
typedef int quoted_fn(void *ctx, const char *id, size_t len);
static int each_quoted_ref(const char *path, quoted_fn *fn, void *ctx)
{
    for (const char *p = strstr(path, "\"" BULK_PREFIX); p; p = strstr(p + 1, "\"" BULK_PREFIX)) {
        const char *id = p + 1 + BULK_PREFIX_LEN;
        const char *end = strchr(id, '"');
        if (end == NULL || end == id)
            continue;
        if (fn(ctx, id, (size_t)(end - id)) < 0)
            return -1;
    }
    return 0;
}

static int collect_quoted(void *ctx, const char *id, size_t len)
{
    return strv_add_unique(ctx, id, len);
}

/* The references of data (recursively); in_patch_ops: the PatchOp's
 * "Operations" array, whose "path" members may hold quoted references. */
static int collect_refs(const json_t *v, bool patch_path, char ***refs)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        const char *id = whole_ref(s);
        if (id && strv_add_unique(refs, id, strlen(id)) < 0)
            return -1;
        if (patch_path && each_quoted_ref(s, collect_quoted, refs) < 0)
            return -1;
        return 0;
    }
    if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e) {
            if (collect_refs(e, false, refs) < 0)
                return -1;
        }
        return 0;
    }
    if (json_is_object(v)) {
        const char *k;
        const json_t *e;
        json_object_foreach((json_t *)v, k, e) {
            if (collect_refs(e, strcasecmp(k, "path") == 0, refs) < 0)
                return -1;
        }
    }
    return 0;
}

/* The bulkId in the last segment of an operation's path ("/Groups/bulkId:x"). */
static const char *path_ref(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? whole_ref(slash + 1) : NULL;
}

/* ---- parsing ---- */

/* The operation's first problem is the one it is answered with. */
static void op_error(s2l_bulk_op *op, int status, const char *type, const char *msg)
{
    if (op->error.status == 0)
        s2l_error_set(&op->error, status, type, "%s", msg);
}

static int parse_op(s2l_bulk_op *op, const json_t *j, s2l_error *err)
{
    if (!json_is_object(j)) {
        op_error(op, 400, S2L_SCIM_INVALID_SYNTAX, "an operation must be a JSON object");
        return 0;
    }
    static const char *const methods[] = {"POST", "PUT", "PATCH", "DELETE"};
    const json_t *m = member(j, "method");
    for (size_t i = 0; json_is_string(m) && i < sizeof methods / sizeof methods[0]; i++)
        if (strcasecmp(json_string_value(m), methods[i]) == 0)
            op->method = methods[i];
    const json_t *b = member(j, "bulkId"), *ver = member(j, "version"), *p = member(j, "path");
    if ((json_is_string(b) && (op->bulk_id = strdup(json_string_value(b))) == NULL) ||
        (json_is_string(ver) && (op->version = strdup(json_string_value(ver))) == NULL) ||
        (json_is_string(p) && (op->path = strdup(json_string_value(p))) == NULL))
        return oom(err);
    const json_t *data = member(j, "data");
    if (data && !json_is_null(data))
        op->data = json_incref((json_t *)data);
    if (op->method == NULL)
        op_error(op, 400, S2L_SCIM_INVALID_VALUE, "method must be POST, PUT, PATCH or DELETE");
    else if (op->path == NULL || op->path[0] != '/')
        op_error(op, 400, S2L_SCIM_INVALID_VALUE, "path must be a resource path such as /Users or /Users/{id}");
    else if (strcasecmp(op->path + 1, "Bulk") == 0 || strncasecmp(op->path + 1, "Bulk/", 5) == 0)
        op_error(op, 400, S2L_SCIM_INVALID_VALUE, "a bulk operation cannot be a bulk request");
    else if (b && (!json_is_string(b) || json_string_length(b) == 0))
        op_error(op, 400, S2L_SCIM_INVALID_VALUE, "bulkId must be a non-empty string");
    else if (ver && !json_is_string(ver))
        op_error(op, 400, S2L_SCIM_INVALID_VALUE, "version must be a string");
    else if (strcmp(op->method, "DELETE") != 0 && !json_is_object(op->data))
        op_error(op, 400, S2L_SCIM_INVALID_SYNTAX, "data must be the resource (or PatchOp) the operation sends");
    if (op->data && collect_refs(op->data, false, &op->refs) < 0)
        return oom(err);
    const char *pr = op->path ? path_ref(op->path) : NULL;
    if (pr && strv_add_unique(&op->refs, pr, strlen(pr)) < 0)
        return oom(err);
    return 0;
}

/* The first POST operation with bulkId id, or -1. (If it is refused, the
 * operations that refer to it fail with 409 when they run.) */
static long definer(const s2l_bulk *b, const char *id)
{
    for (size_t i = 0; i < b->n; i++) {
        const s2l_bulk_op *op = &b->ops[i];
        if (op->bulk_id && op->method && strcmp(op->method, "POST") == 0 && strcmp(op->bulk_id, id) == 0)
            return (long)i;
    }
    return -1;
}

/* The run order: the earliest operation whose references are all defined by
 * operations placed before it; when none is, everything left is on (or waits
 * on) a cycle and is refused. */
static int plan(s2l_bulk *b, s2l_error *err)
{
    if ((b->order = calloc(b->n ? b->n : 1, sizeof *b->order)) == NULL)
        return oom(err);
    bool *placed = calloc(b->n ? b->n : 1, sizeof *placed);
    if (placed == NULL)
        return oom(err);
    size_t done = 0;
    while (done < b->n) {
        size_t pick = b->n;
        for (size_t i = 0; i < b->n && pick == b->n; i++) {
            if (placed[i])
                continue;
            bool ready = true;
            for (size_t r = 0; ready && b->ops[i].refs && b->ops[i].refs[r]; r++) {
                long d = definer(b, b->ops[i].refs[r]);
                ready = d < 0 || placed[d]; /* unknown ones fail when run */
            }
            if (ready)
                pick = i;
        }
        if (pick == b->n) {
            for (size_t i = 0; i < b->n; i++) {
                if (placed[i])
                    continue;
                op_error(&b->ops[i], 409, NULL,
                         "circular bulkId references: this operation refers to a resource of the request that "
                         "cannot be created before it");
                placed[i] = true;
                b->order[done++] = i;
            }
            break;
        }
        placed[pick] = true;
        b->order[done++] = pick;
    }
    free(placed);
    return 0;
}

s2l_bulk *s2l_bulk_parse(const json_t *body, size_t max_operations, s2l_error *err)
{
    if (!json_is_object(body)) {
        s2l_error_set(err, 400, S2L_SCIM_INVALID_SYNTAX, "a BulkRequest must be a JSON object");
        return NULL;
    }
    const json_t *schemas = member(body, "schemas");
    if (schemas) {
        bool found = false;
        size_t i;
        const json_t *s;
        json_array_foreach(schemas, i, s) found = found || (json_is_string(s) &&
                                                            strcmp(json_string_value(s), S2L_URN_BULK_REQUEST) == 0);
        if (!found) {
            s2l_error_set(err, 400, S2L_SCIM_INVALID_SYNTAX, "schemas must list %s", S2L_URN_BULK_REQUEST);
            return NULL;
        }
    }
    const json_t *ops = member(body, "Operations");
    if (!json_is_array(ops)) {
        s2l_error_set(err, 400, S2L_SCIM_INVALID_SYNTAX, "a BulkRequest needs an \"Operations\" array");
        return NULL;
    }
    if (json_array_size(ops) > max_operations) {
        s2l_error_set(err, 413, NULL, "the bulk request has %zu operations; maxOperations is %zu",
                      json_array_size(ops), max_operations);
        return NULL;
    }
    const json_t *foe = member(body, "failOnErrors");
    if (foe && !json_is_null(foe) && (!json_is_integer(foe) || json_integer_value(foe) < 0)) {
        s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "failOnErrors must be a positive integer");
        return NULL;
    }
    s2l_bulk *b = calloc(1, sizeof *b);
    if (b == NULL || (b->ops = calloc(json_array_size(ops) ? json_array_size(ops) : 1, sizeof *b->ops)) == NULL) {
        free(b);
        oom(err);
        return NULL;
    }
    b->fail_on_errors = json_is_integer(foe) ? (long)json_integer_value(foe) : 0;
    size_t i;
    const json_t *j;
    json_array_foreach(ops, i, j) {
        b->ops[i].index = i;
        b->n = i + 1;
        if (parse_op(&b->ops[i], j, err) < 0) {
            s2l_bulk_destroy(b);
            return NULL;
        }
    }
    /* A bulkId names one resource: a second POST with it is refused. */
    for (i = 0; i < b->n; i++) {
        s2l_bulk_op *op = &b->ops[i];
        if (op->bulk_id == NULL || op->error.status || strcmp(op->method, "POST") != 0)
            continue;
        long first = definer(b, op->bulk_id);
        if (first >= 0 && (size_t)first < i)
            op_error(op, 400, S2L_SCIM_INVALID_VALUE, "this bulkId is used by an earlier operation");
    }
    /* References to bulkIds no POST of the request defines. */
    for (i = 0; i < b->n; i++) {
        s2l_bulk_op *op = &b->ops[i];
        for (size_t r = 0; op->refs && op->refs[r]; r++) {
            if (definer(b, op->refs[r]) >= 0)
                continue;
            char msg[S2L_ERROR_DETAIL_MAX];
            snprintf(msg, sizeof msg, "bulkId \"%.150s\" is not defined by a POST operation of this request",
                     op->refs[r]);
            op_error(op, 400, S2L_SCIM_INVALID_VALUE, msg);
        }
    }
    if (plan(b, err) < 0) {
        s2l_bulk_destroy(b);
        return NULL;
    }
    return b;
}

void s2l_bulk_destroy(s2l_bulk *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n; i++) {
        free(b->ops[i].bulk_id);
        free(b->ops[i].version);
        free(b->ops[i].path);
        json_decref(b->ops[i].data);
        s2l_strv_free(b->ops[i].refs);
    }
    free(b->ops);
    free(b->order);
    free(b);
}

/* ---- resolution ---- */

typedef struct resolve_ctx {
    const json_t *ids;
    s2l_error *err;
    s2l_buf *out;
    const char *missing;
} resolve_ctx;

static const char *id_of(const json_t *ids, const char *bulk_id, size_t len)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)ids, k, v) {
        if (strlen(k) == len && strncmp(k, bulk_id, len) == 0)
            return json_string_value(v);
    }
    return NULL;
}

static int unresolved(s2l_error *err, const char *id, size_t len)
{
    s2l_error_set(err, 409, NULL, "bulkId \"%.*s\" did not resolve: the operation creating it failed", (int)len, id);
    return -1;
}

/* Copies s with every quoted "bulkId:x" replaced. */
static char *resolve_quoted(const char *s, const json_t *ids, s2l_error *err)
{
    s2l_buf b = {.max = 1u << 20};
    const char *p = s;
    for (const char *q = strstr(p, "\"" BULK_PREFIX); q; q = strstr(p, "\"" BULK_PREFIX)) {
        const char *id = q + 1 + BULK_PREFIX_LEN;
        const char *end = strchr(id, '"');
        if (end == NULL || end == id) {
            s2l_buf_add(&b, p, (size_t)(id - p));
            p = id;
            continue;
        }
        const char *rid = id_of(ids, id, (size_t)(end - id));
        if (rid == NULL) {
            s2l_buf_reset(&b);
            unresolved(err, id, (size_t)(end - id));
            return NULL;
        }
        s2l_buf_add(&b, p, (size_t)(q - p) + 1);
        s2l_buf_adds(&b, rid);
        p = end;
    }
    s2l_buf_adds(&b, p);
    char *r = s2l_buf_take(&b);
    if (r == NULL)
        oom(err);
    return r;
}

/* A copy of v with references replaced (new reference), or NULL + *err. */
static json_t *resolve_json(const json_t *v, bool patch_path, const json_t *ids, s2l_error *err)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        const char *id = whole_ref(s);
        if (id) {
            const char *rid = id_of(ids, id, strlen(id));
            if (rid == NULL) {
                unresolved(err, id, strlen(id));
                return NULL;
            }
            return json_string(rid);
        }
        if (patch_path && strstr(s, "\"" BULK_PREFIX)) {
            char *r = resolve_quoted(s, ids, err);
            json_t *j = r ? json_string(r) : NULL;
            free(r);
            return j;
        }
        return json_incref((json_t *)v);
    }
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e) {
            json_t *c = resolve_json(e, false, ids, err);
            if (c == NULL || json_array_append_new(a, c) != 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        const json_t *e;
        json_object_foreach((json_t *)v, k, e) {
            json_t *c = resolve_json(e, strcasecmp(k, "path") == 0, ids, err);
            if (c == NULL || json_object_set_new(o, k, c) != 0) {
                json_decref(o);
                return NULL;
            }
        }
        return o;
    }
    return json_incref((json_t *)v);
}

int s2l_bulk_resolve(const s2l_bulk_op *op, const json_t *ids, char **out_path, json_t **out_data, s2l_error *err)
{
    *out_path = NULL;
    *out_data = NULL;
    const char *pr = path_ref(op->path);
    if (pr) {
        const char *rid = id_of(ids, pr, strlen(pr));
        if (rid == NULL)
            return unresolved(err, pr, strlen(pr));
        size_t keep = (size_t)(pr - BULK_PREFIX_LEN - op->path);
        size_t n = keep + strlen(rid) + 1;
        if ((*out_path = malloc(n)) == NULL)
            return oom(err);
        snprintf(*out_path, n, "%.*s%s", (int)keep, op->path, rid);
    } else if ((*out_path = strdup(op->path)) == NULL) {
        return oom(err);
    }
    if (op->data) {
        s2l_error_clear(err);
        *out_data = resolve_json(op->data, false, ids, err);
        if (*out_data == NULL) {
            if (err->status == 0)
                oom(err);
            free(*out_path);
            *out_path = NULL;
            return -1;
        }
    }
    return 0;
}

json_t *s2l_bulk_result(const s2l_bulk_op *op, int status, const json_t *error_body, const char *location,
                        const char *version)
{
    char st[16];
    snprintf(st, sizeof st, "%d", status);
    json_t *r = json_pack("{s:s, s:s}", "method", op->method ? op->method : "?", "status", st);
    if (r == NULL)
        return NULL;
    if (op->bulk_id)
        json_object_set_new(r, "bulkId", json_string(op->bulk_id));
    if (version)
        json_object_set_new(r, "version", json_string(version));
    if (location)
        json_object_set_new(r, "location", json_string(location));
    if (status >= 400 && error_body)
        json_object_set(r, "response", (json_t *)error_body);
    return r;
}
