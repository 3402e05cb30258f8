/* preview.c — the LDAP operations of a SCIM request, offline (see
 * include/s2l/preview.h).
 *
 * The steps below follow the handlers in gateway/resources one for one
 * (create: normalise → ids → to_ldap; replace: normalise → read the stored
 * entry → members as replace-all deltas → plan → delta mods; patch: read →
 * patch a copy → probe the placeholder → plan → delta mods; rename: modrdn
 * first, the modify on the new DN, then reference fix-ups). Only the
 * directory's answers are stood in for. Keep the two in step: a change to the
 * order or the options of a pure call there belongs here too.
 */
#include "s2l/preview.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s2l/audit.h"
#include "s2l/ldif.h"
#include "s2l/resource.h"

/* ---- JSON paths of culprits ---- */

#define MAX_SEGS 24
#define MAX_CANDIDATES 32
#define MAX_NAMES 6

typedef struct jseg {
    const char *key;   /* object member, or NULL for an array index */
    size_t index;
} jseg;

typedef struct jpath {
    jseg seg[MAX_SEGS];
    size_t n;
} jpath;

typedef struct locate_ctx {
    const char *names[MAX_NAMES]; /* the attribute path split at '.' */
    char name_buf[256];
    size_t n_names;
    jpath found[MAX_CANDIDATES];
    size_t n_found;
    size_t best_depth;             /* names matched by the found candidates */
} locate_ctx;

static bool is_ident(const char *k)
{
    if (!((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= 'A' && k[0] <= 'Z') || k[0] == '_' || k[0] == '$'))
        return false;
    for (const char *p = k + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '$'))
            return false;
    return true;
}

static void path_format(const jpath *p, char *out, size_t outlen)
{
    size_t o = 0;
    int n = snprintf(out, outlen, "$");
    o = n > 0 ? (size_t)n : 0;
    for (size_t i = 0; i < p->n && o < outlen; i++) {
        if (p->seg[i].key == NULL) {
            n = snprintf(out + o, outlen - o, "[%zu]", p->seg[i].index);
        } else if (is_ident(p->seg[i].key)) {
            n = snprintf(out + o, outlen - o, ".%s", p->seg[i].key);
        } else {
            /* ["urn:...:User"] with JSON string escapes for '"' and '\' */
            n = snprintf(out + o, outlen - o, "[\"");
            o += n > 0 ? (size_t)n : 0;
            for (const char *k = p->seg[i].key; *k && o + 3 < outlen; k++) {
                if (*k == '"' || *k == '\\')
                    out[o++] = '\\';
                out[o++] = *k;
            }
            out[o < outlen ? o : outlen - 1] = 0;
            n = snprintf(out + o, outlen - o, "\"]");
        }
        o += n > 0 ? (size_t)n : 0;
    }
    if (o >= outlen && outlen > 0)
        out[outlen - 1] = 0;
}

static void found_add(locate_ctx *c, const jpath *p, size_t depth)
{
    if (depth > c->best_depth) {
        c->best_depth = depth;
        c->n_found = 0;
    }
    if (depth == c->best_depth && c->n_found < MAX_CANDIDATES)
        c->found[c->n_found++] = *p;
}

/* How many of names[i..] a member key stands for: 1 for a plain name, more
 * for a dotted ("name.givenName") or URN-qualified one; 0 when it does not
 * match. */
static size_t key_matches(const locate_ctx *c, size_t i, const char *key)
{
    const char *tail = strrchr(key, ':');
    tail = tail ? tail + 1 : key;
    size_t m = 0;
    const char *p = tail;
    while (i + m < c->n_names) {
        size_t len = strcspn(p, ".");
        if (len != strlen(c->names[i + m]) || strncasecmp(p, c->names[i + m], len) != 0)
            return 0;
        m++;
        if (p[len] == 0)
            return m;
        p += len + 1;
    }
    return 0;
}

static void walk(locate_ctx *c, const json_t *node, jpath *p, size_t i)
{
    if (p->n >= MAX_SEGS)
        return;
    if (i > 0)
        found_add(c, p, i);
    if (i == c->n_names)
        return;
    if (json_is_array(node)) {
        size_t k;
        const json_t *v;
        json_array_foreach(node, k, v) {
            p->seg[p->n++] = (jseg){NULL, k};
            walk(c, v, p, i);
            p->n--;
        }
        return;
    }
    if (!json_is_object(node))
        return;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)node, key, v) {
        size_t m = key_matches(c, i, key);
        p->seg[p->n++] = (jseg){key, 0};
        if (m > 0)
            walk(c, v, p, i + m);
        else if (strncasecmp(key, "urn:", 4) == 0 && json_is_object(v))
            walk(c, v, p, i); /* an extension's container: its keys are attribute names */
        p->n--;
    }
}

static json_t *node_at(const json_t *doc, const jpath *p, size_t n)
{
    json_t *cur = (json_t *)doc;
    for (size_t i = 0; i < n && cur; i++)
        cur = p->seg[i].key ? json_object_get(cur, p->seg[i].key) : json_array_get(cur, p->seg[i].index);
    return cur;
}

/* Re-runs the failed step on a changed input: true when it fails the same way. */
typedef bool (*same_error_fn)(const json_t *doc, void *arg);

static bool remove_at(json_t *doc, const jpath *p)
{
    if (p->n == 0)
        return false;
    json_t *parent = node_at(doc, p, p->n - 1);
    const jseg *last = &p->seg[p->n - 1];
    if (last->key)
        return json_object_del(parent, last->key) == 0;
    return json_array_remove(parent, last->index) == 0;
}

/* The quoted attribute path in an error detail ("unknown attribute 'name.givenNme'"). */
static bool detail_attr(locate_ctx *c, const char *detail)
{
    const char *a = strchr(detail, '\'');
    const char *b = a ? strchr(a + 1, '\'') : NULL;
    if (b == NULL || b == a + 1 || (size_t)(b - a) >= sizeof c->name_buf)
        return false;
    memcpy(c->name_buf, a + 1, (size_t)(b - a - 1));
    c->name_buf[b - a - 1] = 0;
    /* a URN-qualified name: the attribute path follows the last ':' */
    char *s = strrchr(c->name_buf, ':');
    s = s ? s + 1 : c->name_buf;
    c->n_names = 0;
    for (char *tok = strtok(s, "."); tok && c->n_names < MAX_NAMES; tok = strtok(NULL, "."))
        c->names[c->n_names++] = tok;
    return c->n_names > 0;
}

/* The path of what an error is about, below root (at base in doc). Candidates
 * are the places holding the attribute the detail names (or the longest part
 * of its path); when there are several, the one whose removal makes the error
 * go away is it; else their common prefix. */
static void locate(const json_t *doc, const jpath *base, const char *detail, same_error_fn same, void *arg,
                   char *out, size_t outlen)
{
    locate_ctx c = {0};
    jpath p = *base;
    const json_t *root = node_at(doc, base, base->n);

    path_format(base, out, outlen);
    if (root == NULL || !detail_attr(&c, detail))
        return;
    /* Something absent has no path of its own: the document (or operation)
     * lacking it is the culprit, not some other value of the same name. */
    if (strncmp(detail, "missing required", 16) == 0)
        return;
    walk(&c, root, &p, 0);
    if (c.n_found == 0)
        return;
    /* A partial match ending on an array: the culprit is one of its values. */
    if (c.best_depth < c.n_names && c.n_found == 1 && json_is_array(node_at(doc, &c.found[0], c.found[0].n)) &&
        c.found[0].n < MAX_SEGS) {
        jpath arr = c.found[0];
        size_t n = json_array_size(node_at(doc, &arr, arr.n));
        c.n_found = 0;
        for (size_t k = 0; k < n && c.n_found < MAX_CANDIDATES; k++) {
            c.found[c.n_found] = arr;
            c.found[c.n_found].seg[arr.n] = (jseg){NULL, k};
            c.found[c.n_found++].n = arr.n + 1;
        }
        if (c.n_found == 0) {
            path_format(&arr, out, outlen);
            return;
        }
    }
    if (c.n_found == 1) {
        path_format(&c.found[0], out, outlen);
        return;
    }
    for (size_t k = 0; same && k < c.n_found; k++) {
        json_t *copy = json_deep_copy(doc);
        bool gone = copy && remove_at(copy, &c.found[k]) && !same(copy, arg);
        json_decref(copy);
        if (gone) {
            path_format(&c.found[k], out, outlen);
            return;
        }
    }
    jpath common = c.found[0];
    for (size_t k = 1; k < c.n_found; k++) {
        size_t n = 0;
        while (n < common.n && n < c.found[k].n &&
               ((common.seg[n].key && c.found[k].seg[n].key && strcmp(common.seg[n].key, c.found[k].seg[n].key) == 0) ||
                (!common.seg[n].key && !c.found[k].seg[n].key && common.seg[n].index == c.found[k].seg[n].index)))
            n++;
        common.n = n;
    }
    path_format(&common, out, outlen);
}

/* ---- errors ---- */

static void set_err(s2l_preview_err *e, s2l_preview_input input, const s2l_error *err, const char *path)
{
    if (e == NULL)
        return;
    e->err = *err;
    if (e->err.status == 0)
        s2l_error_set(&e->err, 500, NULL, "failed without saying why");
    e->input = input;
    snprintf(e->path, sizeof e->path, "%s", path);
}

static void set_oom(s2l_preview_err *e, s2l_preview_input input)
{
    s2l_error err;
    s2l_error_set(&err, 500, NULL, "out of memory");
    set_err(e, input, &err, "$");
}

typedef struct norm_check {
    const s2l_rmap *rm;
    s2l_norm_mode mode;
    const char *detail;
} norm_check;

static bool norm_same_error(const json_t *doc, void *arg)
{
    norm_check *nc = arg;
    s2l_error err;
    s2l_error_clear(&err);
    s2l_norm_opts opts = {.policies = s2l_rmap_policies(nc->rm)};
    json_t *r = s2l_resource_normalize(s2l_rmap_rtype(nc->rm), doc, nc->mode, &opts, &err);
    json_decref(r);
    return r == NULL && strcmp(err.detail, nc->detail) == 0;
}

/* s2l_resource_normalize as the handlers call it; on error, where in doc. */
static json_t *normalize(const s2l_rmap *rm, const json_t *doc, s2l_norm_mode mode, s2l_preview_input input,
                         s2l_preview_err *e)
{
    s2l_error err;
    s2l_error_clear(&err);
    s2l_norm_opts opts = {.policies = s2l_rmap_policies(rm)};
    json_t *r = s2l_resource_normalize(s2l_rmap_rtype(rm), doc, mode, &opts, &err);
    if (r == NULL) {
        char path[256];
        norm_check nc = {rm, mode, err.detail};
        jpath root = {.n = 0};
        locate(doc, &root, err.detail, norm_same_error, &nc, path, sizeof path);
        set_err(e, input, &err, path);
    }
    return r;
}

/* ---- references ---- */

char *s2l_preview_symbolic_dn(const char *id)
{
    char *esc = s2l_ldap_escape_dn_value(id, strlen(id));
    size_t n = esc ? strlen(esc) + sizeof "scimId=" : 0;
    char *dn = esc ? malloc(n) : NULL;
    if (dn)
        snprintf(dn, n, "scimId=%s", esc);
    free(esc);
    return dn;
}

/* Adds id → DN to ids for every id in list not known yet: from known_ids,
 * else the symbolic DN. */
static int resolve_ids(json_t *ids, const json_t *list, const json_t *known)
{
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v) {
        const char *id = json_string_value(v);
        if (id == NULL || json_object_get(ids, id))
            continue;
        const json_t *dn = json_object_get(known, id);
        if (json_is_string(dn)) {
            if (json_object_set(ids, id, (json_t *)dn) < 0)
                return -1;
            continue;
        }
        char *sym = s2l_preview_symbolic_dn(id);
        if (sym == NULL || json_object_set_new(ids, id, json_string(sym)) < 0) {
            free(sym);
            return -1;
        }
        free(sym);
    }
    return 0;
}

/* The ids delta values refer to (as update_resolve_new_ids collects them). */
static json_t *delta_ids(const json_t *deltas)
{
    json_t *out = json_array();
    size_t i;
    const json_t *d;
    json_array_foreach(deltas, i, d) {
        const char *lists[] = {"add", "remove"};
        for (size_t l = 0; l < 2; l++) {
            size_t j;
            const json_t *v;
            json_array_foreach(json_object_get(d, lists[l]), j, v) {
                json_t *id = json_object_get(v, "value");
                if (json_is_string(id) && out)
                    json_array_append(out, id);
            }
        }
    }
    return out;
}

/* ---- operations ---- */

static int add_note(json_t *ops, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int add_note(json_t *ops, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return json_array_append_new(ops, json_pack("{s:s, s:s}", "op", "note", "text", text));
}

/* POST: normalise → resolve reference ids → the entry to add. */
static json_t *preview_create(const s2l_preview_in *in, s2l_preview_err *e)
{
    json_t *res = normalize(in->rm, in->body, S2L_NORM_CREATE, S2L_PREVIEW_IN_BODY, e);
    json_t *ids = json_object(), *ops = json_array(), *entry = NULL, *refids = NULL;
    s2l_error err;
    s2l_error_clear(&err);
    if (res == NULL)
        goto fail;
    if (ids == NULL || ops == NULL || (refids = s2l_rmap_ref_ids(in->rm, res)) == NULL ||
        resolve_ids(ids, refids, in->known_ids) < 0) {
        set_oom(e, S2L_PREVIEW_IN_BODY);
        goto fail;
    }
    entry = s2l_rmap_to_ldap(in->rm, res, ids, &err);
    if (entry == NULL) {
        set_err(e, S2L_PREVIEW_IN_BODY, &err, "$");
        goto fail;
    }
    if (json_array_append_new(ops, json_pack("{s:s, s:O, s:O}", "op", "add", "dn", json_object_get(entry, "dn"),
                                             "attrs", json_object_get(entry, "attrs"))) < 0) {
        set_oom(e, S2L_PREVIEW_IN_BODY);
        goto fail;
    }
    goto out;
fail:
    json_decref(ops);
    ops = NULL;
out:
    json_decref(res);
    json_decref(ids);
    json_decref(entry);
    json_decref(refids);
    return ops;
}

/* The update's view of the stored entry: the entry written for `current`,
 * with only the attributes an update reads (*entry_out), rendered as the
 * handler's old resource; ids learns current's references. *dn_out receives
 * the DN. */
static json_t *stored_resource(const s2l_preview_in *in, json_t *ids, char **dn_out, json_t **current_out,
                               json_t **entry_out, s2l_preview_err *e)
{
    const s2l_rmap_info *info = s2l_rmap_info_of(in->rm);
    json_t *cur = normalize(in->rm, in->current, S2L_NORM_REPLACE, S2L_PREVIEW_IN_CURRENT, e);
    json_t *refids = NULL, *written = NULL, *entry = NULL, *attrs = NULL, *refs = NULL, *old = NULL;
    s2l_error err;
    s2l_error_clear(&err);

    *dn_out = NULL;
    if (cur == NULL)
        return NULL;
    if ((refids = s2l_rmap_ref_ids(in->rm, cur)) == NULL || resolve_ids(ids, refids, in->known_ids) < 0)
        goto oom;
    written = s2l_rmap_to_ldap(in->rm, cur, ids, &err);
    if (written == NULL) {
        set_err(e, S2L_PREVIEW_IN_CURRENT, &err, "$");
        goto out;
    }
    /* What an update asks LDAP for: no delta attributes, no write-only ones. */
    attrs = json_object();
    if (attrs == NULL)
        goto oom;
    char *const *want = s2l_rmap_update_read_attrs(in->rm);
    const char *name;
    json_t *vals;
    json_object_foreach(json_object_get(written, "attrs"), name, vals) {
        for (size_t i = 0; want && want[i]; i++) {
            if (strcasecmp(want[i], name) == 0) {
                if (json_object_set(attrs, name, vals) < 0)
                    goto oom;
                break;
            }
        }
    }
    const char *id = json_string_value(json_object_get(in->current, "id"));
    if (json_object_set_new(attrs, info->id_attr, json_pack("[s]", id && *id ? id : "current")) < 0)
        goto oom;
    const char *dn = in->current_dn ? in->current_dn : json_string_value(json_object_get(written, "dn"));
    entry = json_pack("{s:s, s:O}", "dn", dn, "attrs", attrs);
    refs = json_object();
    if (entry == NULL || refs == NULL || (*dn_out = strdup(dn)) == NULL)
        goto oom;
    /* DN → id for the references the entry holds, as the look-ups would find them */
    const char *rid;
    json_t *rdn;
    json_object_foreach(ids, rid, rdn) {
        if (json_object_set_new(refs, json_string_value(rdn), json_pack("{s:s}", "id", rid)) < 0)
            goto oom;
    }
    old = s2l_rmap_to_scim(in->rm, entry, refs, NULL, &err);
    if (old == NULL)
        set_err(e, S2L_PREVIEW_IN_CURRENT, &err, "$");
    goto out;
oom:
    set_oom(e, S2L_PREVIEW_IN_CURRENT);
out:
    if (old == NULL) {
        free(*dn_out);
        *dn_out = NULL;
        json_decref(cur);
        cur = NULL;
    }
    *current_out = cur;
    *entry_out = old ? json_incref(entry) : NULL;
    json_decref(refids);
    json_decref(written);
    json_decref(entry);
    json_decref(attrs);
    json_decref(refs);
    return old;
}

static const char *parent_of(const char *dn)
{
    for (const char *p = dn; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == ',')
            return p + 1;
    }
    return NULL;
}

typedef struct patch_check {
    const s2l_preview_in *in;
    const json_t *old;
    const char *detail;
} patch_check;

static bool patch_same_error(const json_t *doc, void *arg)
{
    patch_check *pc = arg;
    json_t *copy = json_deep_copy(pc->old), *deltas = NULL;
    s2l_error err;
    s2l_error_clear(&err);
    s2l_patch_opts opts = {.delta_attrs = s2l_rmap_delta_attrs(pc->in->rm),
                           .max_operations = pc->in->max_patch_operations,
                           .policies = s2l_rmap_policies(pc->in->rm)};
    int rc = copy ? s2l_patch_apply(s2l_rmap_rtype(pc->in->rm), copy, doc, &opts, &deltas, &err) : 0;
    json_decref(copy);
    json_decref(deltas);
    return rc < 0 && strcmp(err.detail, pc->detail) == 0;
}

/* Where in the PatchOp request a patch error is: "Operations[i]: ..." names
 * the operation; the attribute named in the rest is looked for in its value,
 * else the path or the value is the culprit. */
static void patch_error_path(const s2l_preview_in *in, const json_t *old, const s2l_error *err, char *out,
                             size_t outlen)
{
    size_t idx;
    int used = 0;
    snprintf(out, outlen, "$");
    if (sscanf(err->detail, "Operations[%zu]: %n", &idx, &used) < 1 || used == 0) {
        if (json_object_get(in->body, "Operations") && strstr(err->detail, "Operations"))
            snprintf(out, outlen, "$.Operations");
        return;
    }
    const json_t *op = json_array_get(json_object_get(in->body, "Operations"), idx);
    jpath base = {.seg = {{"Operations", 0}, {NULL, idx}}, .n = 2};
    patch_check pc = {in, old, err->detail};
    const char *rest = err->detail + used;
    /* an attribute inside the operation's value */
    if (json_is_object(json_object_get(op, "value"))) {
        jpath vbase = base;
        char vpath[256];
        vbase.seg[vbase.n++] = (jseg){"value", 0};
        path_format(&vbase, vpath, sizeof vpath);
        locate(in->body, &vbase, rest, patch_same_error, &pc, out, outlen);
        if (strcmp(out, vpath) != 0)
            return; /* found something narrower than the value itself */
    }
    bool about_path = err->scim_type && (strcmp(err->scim_type, S2L_SCIM_INVALID_PATH) == 0 ||
                                         strcmp(err->scim_type, S2L_SCIM_NO_TARGET) == 0 ||
                                         strcmp(err->scim_type, S2L_SCIM_MUTABILITY) == 0 ||
                                         strcmp(err->scim_type, S2L_SCIM_INVALID_FILTER) == 0);
    const char *member = about_path && json_object_get(op, "path")   ? "path"
                         : !about_path && json_object_get(op, "value") ? "value"
                         : json_object_get(op, "path")                 ? "path"
                                                                       : NULL;
    if (strncmp(rest, "unknown op", 10) == 0 || strncmp(rest, "missing \"op\"", 12) == 0)
        member = json_object_get(op, "op") ? "op" : NULL;
    if (member)
        base.seg[base.n++] = (jseg){member, 0};
    path_format(&base, out, outlen);
}

/* Is the set of values of the delta attributes empty once deltas apply? Only
 * for value-level changes (a replace-all is written as given). */
static bool deltas_empty_set(const json_t *current, const json_t *deltas)
{
    size_t i;
    const json_t *d;
    json_array_foreach(deltas, i, d) {
        if (json_is_true(json_object_get(d, "replace_all")) || json_array_size(json_object_get(d, "remove")) == 0)
            continue;
        const json_t *have = s2l_json_get_ci(current, json_string_value(json_object_get(d, "attr")));
        size_t left = 0, k;
        const json_t *v;
        json_array_foreach(have, k, v) {
            const char *id = json_string_value(json_object_get(v, "value"));
            bool removed = false;
            size_t r;
            const json_t *rv;
            json_array_foreach(json_object_get(d, "remove"), r, rv) {
                const char *rid = json_string_value(json_object_get(rv, "value"));
                if (id && rid && strcmp(id, rid) == 0)
                    removed = true;
            }
            if (!removed)
                left++;
        }
        if (left == 0 && json_array_size(json_object_get(d, "add")) == 0)
            return true;
    }
    return false;
}

/* Whether current holds no values of any delta attribute (the group is empty,
 * so it holds the placeholder). */
static bool delta_attrs_empty(const s2l_rmap *rm, const json_t *current)
{
    const char *const *d = s2l_rmap_delta_attrs(rm);
    for (size_t i = 0; d && d[i]; i++)
        if (json_array_size(s2l_json_get_ci(current, d[i])) > 0)
            return false;
    return true;
}

/* Rename fix-ups the gateway runs after the update (referential_integrity:
 * gateway), as notes. */
static int fixup_notes(const s2l_preview_in *in, json_t *ops, const char *old_dn, const char *new_dn)
{
    if (!s2l_mapping_refint_by_gateway(in->mapping))
        return 0;
    json_t *fix = s2l_mapping_reference_fixups(in->mapping, in->rm, old_dn, new_dn);
    if (fix == NULL)
        return -1;
    size_t i;
    json_t *f;
    int rc = 0;
    json_array_foreach(fix, i, f) {
        const char *ph = json_string_value(json_object_get(f, "placeholder"));
        const char *attr = json_string_value(json_object_get(f, "attr"));
        rc |= add_note(ops,
                       "After the rename (referential_integrity \"gateway\"), references to the old name are fixed:\n"
                       "  search %s below %s\n"
                       "  filter %s\n"
                       "  each entry found: add %s: %s\n"
                       "                    delete %s: %s%s",
                       json_integer_value(json_object_get(f, "scope")) == 2 ? "the subtree" : "one level",
                       json_string_value(json_object_get(f, "base")), json_string_value(json_object_get(f, "filter")),
                       attr, json_string_value(json_object_get(f, "new")), attr,
                       json_string_value(json_object_get(f, "old")),
                       ph ? "\n  (with the empty-group placeholder added if LDAP refuses to empty the set)" : "");
    }
    json_decref(fix);
    return rc;
}

/* PUT and PATCH. */
static json_t *preview_update(const s2l_preview_in *in, s2l_preview_err *e)
{
    json_t *ids = json_object(), *ops = json_array();
    json_t *old = NULL, *cur = NULL, *new_res = NULL, *deltas = NULL, *more = NULL, *plan = NULL, *mods = NULL;
    json_t *entry = NULL;
    char *dn = NULL, *new_dn = NULL;
    unsigned ph_flags = 0;
    bool ph_retry = false;
    s2l_error err;
    s2l_error_clear(&err);

    if (ids == NULL || ops == NULL) {
        set_oom(e, S2L_PREVIEW_IN_BODY);
        goto fail;
    }
    if (in->kind == S2L_PREVIEW_REPLACE) {
        /* the handler normalises the body before reading the entry */
        new_res = normalize(in->rm, in->body, S2L_NORM_REPLACE, S2L_PREVIEW_IN_BODY, e);
        if (new_res == NULL)
            goto fail;
    } else if (in->body == NULL) {
        s2l_error_set(&err, 400, S2L_SCIM_INVALID_SYNTAX, "a PatchOp request body is required");
        set_err(e, S2L_PREVIEW_IN_BODY, &err, "$");
        goto fail;
    }
    if ((old = stored_resource(in, ids, &dn, &cur, &entry, e)) == NULL)
        goto fail;

    if (in->kind == S2L_PREVIEW_REPLACE) {
        /* members are replaced wholesale by what the body says (put_after_refs) */
        const char *const *delta = s2l_rmap_delta_attrs(in->rm);
        for (size_t i = 0; delta && delta[i]; i++) {
            json_t *vals = s2l_json_get_ci(new_res, delta[i]);
            json_t *add = vals ? json_incref(vals) : json_array();
            json_t *d = add ? json_pack("{s:s, s:o, s:[], s:b}", "attr", delta[i], "add", add, "remove",
                                        "replace_all", 1)
                            : NULL;
            if (d == NULL || (deltas == NULL && (deltas = json_array()) == NULL)) {
                json_decref(d);
                set_oom(e, S2L_PREVIEW_IN_BODY);
                goto fail;
            }
            json_array_append_new(deltas, d);
            json_object_del(new_res, delta[i]);
            json_object_del(old, delta[i]);
        }
    } else {
        new_res = json_deep_copy(old);
        if (new_res == NULL) {
            set_oom(e, S2L_PREVIEW_IN_BODY);
            goto fail;
        }
        s2l_patch_opts opts = {.delta_attrs = s2l_rmap_delta_attrs(in->rm),
                               .max_operations = in->max_patch_operations,
                               .policies = s2l_rmap_policies(in->rm)};
        if (s2l_patch_apply(s2l_rmap_rtype(in->rm), new_res, in->body, &opts, &deltas, &err) < 0) {
            char path[256];
            if (err.status == 0)
                s2l_error_set(&err, 400, S2L_SCIM_INVALID_VALUE, "invalid PATCH request");
            patch_error_path(in, old, &err, path, sizeof path);
            set_err(e, S2L_PREVIEW_IN_BODY, &err, path);
            goto fail;
        }
        /* the placeholder probe: an empty group holds it */
        char *phf = json_array_size(deltas) ? s2l_rmap_placeholder_filter(in->rm) : NULL;
        if (phf) {
            if (delta_attrs_empty(in->rm, cur))
                ph_flags |= S2L_PH_DELETE_ON_ADD;
            /* LDAP refuses (65) a removal that empties the set; the handler
             * retries once with the placeholder added: show that modify */
            if (deltas_empty_set(cur, deltas)) {
                ph_flags |= S2L_PH_ADD_ON_REMOVE;
                ph_retry = true;
            }
        }
        free(phf);
    }

    /* ids of the new resource and of the deltas (update_resolve_new_ids) */
    if ((more = s2l_rmap_ref_ids(in->rm, new_res)) == NULL || resolve_ids(ids, more, in->known_ids) < 0) {
        set_oom(e, S2L_PREVIEW_IN_BODY);
        goto fail;
    }
    json_decref(more);
    if ((more = delta_ids(deltas)) == NULL || resolve_ids(ids, more, in->known_ids) < 0) {
        set_oom(e, S2L_PREVIEW_IN_BODY);
        goto fail;
    }

    plan = s2l_rmap_plan_update(in->rm, old, new_res, ids, &err);
    if (plan == NULL) {
        if (err.status == 0)
            s2l_error_set(&err, 400, S2L_SCIM_INVALID_VALUE, "the change cannot be stored");
        set_err(e, S2L_PREVIEW_IN_BODY, &err, "$");
        goto fail;
    }
    mods = json_deep_copy(json_object_get(plan, "mods"));
    if (mods == NULL)
        mods = json_array();
    if (mods == NULL) {
        set_oom(e, S2L_PREVIEW_IN_BODY);
        goto fail;
    }
    /* as update.c: unknown members per policy (every id resolves here, to a
     * symbolic DN at least), kept sub-attributes of members, adoption */
    if (deltas && (s2l_rmap_check_deltas(in->rm, deltas, ids, NULL, &err) < 0 ||
                   s2l_rmap_delta_mods(in->rm, deltas, ids, ph_flags, mods, &err) < 0 ||
                   s2l_rmap_delta_kept_mods(in->rm, deltas, entry, mods, &err) < 0)) {
        if (err.status == 0)
            s2l_error_set(&err, 400, S2L_SCIM_INVALID_VALUE, "invalid member change");
        set_err(e, S2L_PREVIEW_IN_BODY, &err, "$");
        goto fail;
    }
    if (s2l_rmap_adopt_mods(in->rm, entry, mods) < 0) {
        set_oom(e, S2L_PREVIEW_IN_BODY);
        goto fail;
    }

    const char *newrdn = json_string_value(json_object_get(plan, "newrdn"));
    if (newrdn) {
        const char *parent = parent_of(dn);
        size_t n = strlen(newrdn) + (parent ? strlen(parent) + 1 : 0) + 1;
        new_dn = malloc(n);
        if (new_dn == NULL) {
            set_oom(e, S2L_PREVIEW_IN_BODY);
            goto fail;
        }
        snprintf(new_dn, n, "%s%s%s", newrdn, parent ? "," : "", parent ? parent : "");
        if (json_array_append_new(ops, json_pack("{s:s, s:s, s:s, s:b}", "op", "modrdn", "dn", dn, "newrdn", newrdn,
                                                 "deleteoldrdn", 1)) < 0) {
            set_oom(e, S2L_PREVIEW_IN_BODY);
            goto fail;
        }
    }
    if (json_array_size(mods) > 0) {
        if (ph_retry &&
            add_note(ops, "The removals empty the set, which LDAP refuses (65, objectClassViolation) for this\n"
                          "object class; the gateway then sends the modify once more with the empty-group\n"
                          "placeholder added. This is that second modify.") < 0) {
            set_oom(e, S2L_PREVIEW_IN_BODY);
            goto fail;
        }
        if (json_array_append_new(ops, json_pack("{s:s, s:s, s:O}", "op", "modify", "dn", new_dn ? new_dn : dn,
                                                 "mods", mods)) < 0) {
            set_oom(e, S2L_PREVIEW_IN_BODY);
            goto fail;
        }
    }
    if (new_dn && fixup_notes(in, ops, dn, new_dn) < 0) {
        set_oom(e, S2L_PREVIEW_IN_BODY);
        goto fail;
    }
    if (json_array_size(ops) == 0 &&
        add_note(ops, "No change: the resource already says this; the gateway sends nothing to LDAP.") < 0) {
        set_oom(e, S2L_PREVIEW_IN_BODY);
        goto fail;
    }
    goto out;
fail:
    json_decref(ops);
    ops = NULL;
out:
    json_decref(ids);
    json_decref(old);
    json_decref(cur);
    json_decref(new_res);
    json_decref(deltas);
    json_decref(more);
    json_decref(plan);
    json_decref(mods);
    json_decref(entry);
    free(dn);
    free(new_dn);
    return ops;
}

/* A secret value is never printed: a hashed one (e.g. "{CRYPT}$6$…", salted
 * afresh on every write) keeps its scheme so the admin sees how it is stored,
 * anything else (cleartext the directory hashes, unicodePwd) becomes a marker.
 * Both are valid LDIF values. */
static json_t *redacted_value(const json_t *v)
{
    const char *text = json_string_value(v);
    const char *close = text && text[0] == '{' ? strchr(text, '}') : NULL;
    if (close)
        return json_sprintf("%.*s(hashed when sent; not shown)", (int)(close - text + 1), text);
    return json_string("(secret; not shown)");
}

static void redact_values(json_t *vals)
{
    size_t i;
    json_t *v;
    json_array_foreach(vals, i, v) json_array_set_new(vals, i, redacted_value(v));
}

static void redact_secrets(json_t *ops, const s2l_mapping *m)
{
    const char *const *secret = s2l_mapping_secret_attrs(m);
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op) {
        const char *name;
        json_t *vals;
        json_object_foreach(json_object_get(op, "attrs"), name, vals) {
            if (s2l_audit_is_secret(name, secret))
                redact_values(vals);
        }
        size_t k;
        json_t *mod;
        json_array_foreach(json_object_get(op, "mods"), k, mod) {
            if (s2l_audit_is_secret(json_string_value(json_object_get(mod, "attr")), secret))
                redact_values(json_object_get(mod, "values"));
        }
    }
}

json_t *s2l_preview_write(const s2l_preview_in *in, s2l_preview_err *e)
{
    if (e)
        *e = (s2l_preview_err){.input = S2L_PREVIEW_IN_BODY};
    if (in == NULL || in->rm == NULL || in->mapping == NULL ||
        (in->kind != S2L_PREVIEW_CREATE && in->current == NULL)) {
        s2l_error err;
        s2l_error_set(&err, 500, NULL, "preview: missing input");
        set_err(e, S2L_PREVIEW_IN_BODY, &err, "$");
        return NULL;
    }
    json_t *ops = in->kind == S2L_PREVIEW_CREATE ? preview_create(in, e) : preview_update(in, e);
    if (ops && !in->show_secrets)
        redact_secrets(ops, in->mapping);
    return ops;
}

char *s2l_preview_filter(const s2l_rmap *rm, const char *text, const s2l_filter_limits *lim,
                         const json_t *known_ids, s2l_preview_err *e)
{
    s2l_error err;
    s2l_error_clear(&err);
    if (e)
        *e = (s2l_preview_err){.input = S2L_PREVIEW_IN_FILTER};
    s2l_filter *f = NULL;
    json_t *refids = NULL, *ids = json_object();
    char *out = NULL;
    if (ids == NULL)
        goto oom;
    /* an empty filter is "all", as in the list handler */
    if (text && text[0]) {
        f = s2l_filter_parse(text, strlen(text), lim, &err);
        if (f == NULL) {
            if (err.status == 0)
                s2l_error_set(&err, 400, S2L_SCIM_INVALID_FILTER, "invalid filter");
            set_err(e, S2L_PREVIEW_IN_FILTER, &err, "");
            goto out;
        }
    }
    refids = f ? s2l_rmap_filter_ref_ids(rm, f) : json_array();
    if (refids == NULL || resolve_ids(ids, refids, known_ids) < 0)
        goto oom;
    /* what the list handler sends: the split's LDAP filter, and what the
     * gateway then decides itself (gateway/resources/list.c) */
    s2l_filter_split sp;
    if (s2l_rmap_split_filter(rm, f, ids, 0, &sp, &err) < 0) {
        if (err.status == 0)
            s2l_error_set(&err, 400, S2L_SCIM_INVALID_FILTER, "the filter cannot be translated");
        set_err(e, S2L_PREVIEW_IN_FILTER, &err, "");
        goto out;
    }
    if (!sp.residue) {
        out = sp.ldap_filter;
        sp.ldap_filter = NULL;
    } else {
        size_t n = strlen(sp.ldap_filter) + strlen(sp.not_pushed) + 64;
        if ((out = malloc(n)) != NULL)
            snprintf(out, n, "%s\n# post-filtered by the gateway: %s", sp.ldap_filter, sp.not_pushed);
    }
    s2l_filter_split_fini(&sp);
    if (out == NULL)
        goto oom;
    goto out;
oom:
    set_oom(e, S2L_PREVIEW_IN_FILTER);
    e->path[0] = 0;
out:
    s2l_filter_destroy(f);
    json_decref(refids);
    json_decref(ids);
    return out;
}

char *s2l_preview_ldif(const json_t *ops)
{
    s2l_ldif o = {.annotate = true};
    size_t i;
    const json_t *op;
    json_array_foreach(ops, i, op) {
        const char *kind = json_string_value(json_object_get(op, "op"));
        const char *dn = json_string_value(json_object_get(op, "dn"));
        if (kind == NULL) {
            s2l_ldif_reset(&o);
            return NULL;
        }
        if (strcmp(kind, "add") == 0)
            s2l_ldif_add(&o, dn, json_object_get(op, "attrs"));
        else if (strcmp(kind, "modify") == 0)
            s2l_ldif_modify(&o, dn, json_object_get(op, "mods"));
        else if (strcmp(kind, "modrdn") == 0)
            s2l_ldif_modrdn(&o, dn, json_string_value(json_object_get(op, "newrdn")),
                            json_is_true(json_object_get(op, "deleteoldrdn")), NULL);
        else if (strcmp(kind, "delete") == 0)
            s2l_ldif_delete(&o, dn);
        else if (strcmp(kind, "note") == 0) {
            s2l_ldif_separator(&o);
            s2l_ldif_comment(&o, json_string_value(json_object_get(op, "text")));
        } else {
            s2l_ldif_reset(&o);
            return NULL;
        }
    }
    return s2l_ldif_take(&o);
}
