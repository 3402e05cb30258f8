/* mapping_read.c — LDAP → SCIM: which attributes to request, which DNs to
 * resolve, and rendering an entry as a canonical resource
 * (see include/s2l/mapping.h). */
#include "mapping_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- attributes to request ---- */

static int strv_add_unique(char ***v, size_t *n, size_t *cap, const char *s)
{
    if (s == NULL)
        return 0;
    for (size_t i = 0; i < *n; i++)
        if (strcasecmp((*v)[i], s) == 0)
            return 0;
    if (*n + 2 > *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        char **p = realloc(*v, nc * sizeof *p);
        if (p == NULL)
            return -1;
        *v = p;
        *cap = nc;
    }
    if (((*v)[*n] = strdup(s)) == NULL)
        return -1;
    (*n)++;
    (*v)[*n] = NULL;
    return 0;
}

typedef struct strv_ctx {
    char ***v;
    size_t *n, *cap;
} strv_ctx;

static int strv_add_cb(void *ctx, const char *attr)
{
    strv_ctx *c = ctx;
    return strv_add_unique(c->v, c->n, c->cap, attr);
}

/* The view of the schema an entry's attribute lives in (what projections know). */
static const s2l_schema *view_of(const s2l_rmap *rm, const s2l_mentry *me)
{
    for (size_t i = 0; me->in_ext && i < rm->n_ext; i++)
        if (rm->ext[i] == me->schema)
            return rm->ext_views[i];
    return NULL;
}

char **s2l_rmap_read_attrs(const s2l_rmap *rm, const s2l_projection *p)
{
    char **v = NULL;
    size_t n = 0, cap = 0;
    const char *always[] = {rm->id_attr, rm->rdn_attr, rm->created_attr, rm->modified_attr, rm->version_attr,
                            rm->keep_attr};

    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
        if (strv_add_unique(&v, &n, &cap, always[i]) < 0)
            goto fail;
    for (size_t i = 0; i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->attr == NULL || me->write_only || me->virtual_attr)
            continue;
        if (!s2l_projection_wants(p, &rm->rt, view_of(rm, me), me->attr))
            continue;
        if (me->delta && rm->range_size > 0) {
            /* AD's incremental retrieval: the first range; the rest is read by the
             * handlers (s2l_range_parse) */
            char ranged[256];
            snprintf(ranged, sizeof ranged, "%s;range=0-%u", me->ldap, rm->range_size - 1);
            if (strv_add_unique(&v, &n, &cap, ranged) < 0)
                goto fail;
            continue;
        }
        if (strv_add_unique(&v, &n, &cap, me->ldap) < 0)
            goto fail;
        if (me->by_policy) {
            strv_ctx sc = {&v, &n, &cap};
            if (s2l_dp_read_attrs(rm, strv_add_cb, &sc) < 0)
                goto fail;
        }
        for (size_t k = 0; k < me->n_subs; k++)
            if (strv_add_unique(&v, &n, &cap, me->subs[k].ldap) < 0 ||
                strv_add_unique(&v, &n, &cap, me->subs[k].also) < 0)
                goto fail;
    }
    return v;
fail:
    s2l_strv_free(v);
    return NULL;
}

/* ---- references ---- */

static bool is_placeholder(const s2l_mentry *me, const char *v)
{
    return me->has_placeholder && strcasecmp(v, me->placeholder) == 0;
}

/* DN of one LDAP value of a reference attribute (malloc'd), NULL for the placeholder. */
static char *value_dn(const s2l_rmap *rm, const s2l_mentry *me, const char *v, bool *oom)
{
    char *dn;
    if (v == NULL || is_placeholder(me, v))
        return NULL;
    dn = me->ref_rdn ? s2l_map_rdn_to_dn(me, rm, v) : strdup(v);
    if (dn == NULL)
        *oom = true;
    return dn;
}

/* Calls fn for every DN held by reference entry me in entry. */
typedef int dn_fn(const char *dn, void *arg);

static int foreach_ref_dn(const s2l_rmap *rm, const s2l_mentry *me, const json_t *entry, dn_fn *fn, void *arg)
{
    const json_t *vals = s2l_map_entry_values(entry, me->ldap);
    json_t *list = json_is_string(vals) ? json_pack("[O]", vals) : json_incref((json_t *)vals);
    size_t i;
    json_t *e;
    int rc = 0;

    if (vals != NULL && list == NULL)
        return -1;
    json_array_foreach(list, i, e) {
        bool oom = false;
        char *dn = value_dn(rm, me, json_string_value(e), &oom);
        if (oom) {
            rc = -1;
            break;
        }
        if (dn == NULL)
            continue;
        rc = fn(dn, arg);
        free(dn);
        if (rc != 0)
            break;
    }
    json_decref(list);
    return rc;
}

/* Groups hold up to hundreds of thousands of DNs: duplicates are found with a
 * hash set, not by scanning what was collected so far. */
typedef struct dn_collect {
    json_t *out;                    /* array of DNs, first occurrence order */
    json_t *seen;                   /* object used as a set */
} dn_collect;

static int collect_dn(const char *dn, void *arg)
{
    dn_collect *c = arg;
    if (json_object_get(c->seen, dn))
        return 0;
    if (json_object_set_new(c->seen, dn, json_true()) < 0)
        return -1;
    return json_array_append_new(c->out, json_string(dn));
}

json_t *s2l_rmap_ref_dns(const s2l_rmap *rm, const json_t *entry)
{
    dn_collect c = {json_array(), json_object()};
    if (c.out == NULL || c.seen == NULL)
        goto fail;
    for (size_t i = 0; i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->kind == S2L_ME_REFERENCE && !me->write_only && foreach_ref_dn(rm, me, entry, collect_dn, &c) < 0)
            goto fail;
    }
    json_decref(c.seen);
    return c.out;
fail:
    json_decref(c.out);
    json_decref(c.seen);
    return NULL;
}

/* refs[dn], tolerating a different case in the DN (servers normalise differently). */
static const json_t *ref_lookup(const json_t *refs, const char *dn)
{
    const json_t *r = s2l_map_get_ci(refs, dn);
    return json_is_object(r) && json_is_string(json_object_get(r, "id")) ? r : NULL;
}

static char *join_url(const char *base_url, const char *endpoint, const char *id)
{
    s2l_strbuf b = {0};
    s2l_sb_adds(&b, base_url);
    s2l_sb_adds(&b, endpoint);
    s2l_sb_adds(&b, "/");
    s2l_sb_adds(&b, id);
    return s2l_sb_take(&b);
}

static bool canon_has(const s2l_attr_def *d, const char *v)
{
    for (size_t i = 0; d && v && i < d->n_canonical; i++)
        if (strcasecmp(d->canonical_values[i], v) == 0)
            return true;
    return false;
}

typedef struct ref_render {
    const s2l_rmap *rm;
    const s2l_mentry *me;
    const s2l_attr_def *view_def;   /* the attribute in the view: which sub-attributes to fill */
    const json_t *refs;
    const char *base_url;
    json_t *out;                    /* array of rendered values */
    json_t *seen_ids;               /* set of ids already rendered */
} ref_render;

static int render_ref(const char *dn, void *arg)
{
    ref_render *r = arg;
    const json_t *ref = ref_lookup(r->refs, dn);
    const char *id, *type, *display;
    json_t *v;

    if (ref == NULL)
        return 0; /* dangling reference: the entry it named is gone */
    id = json_string_value(json_object_get(ref, "id"));
    type = json_string_value(json_object_get(ref, "type"));
    display = json_string_value(json_object_get(ref, "display"));
    if (type == NULL && r->me->n_ref_types == 1)
        type = r->me->ref_types[0];
    if (json_object_get(r->seen_ids, id))
        return 0;
    if (json_object_set_new(r->seen_ids, id, json_true()) < 0)
        return -1;
    v = json_pack("{s:s}", "value", id);
    if (v == NULL)
        return -1;
    const s2l_attr_def *ref_sub = s2l_attr_find_sub(r->view_def, "$ref");
    const s2l_rmap *target = s2l_map_ref_target(r->rm, type);
    if (ref_sub && target && r->base_url) {
        char *url = join_url(r->base_url, target->endpoint, id);
        if (url == NULL || json_object_set_new(v, "$ref", json_string(url)) < 0) {
            free(url);
            json_decref(v);
            return -1;
        }
        free(url);
    }
    const s2l_attr_def *type_sub = s2l_attr_find_sub(r->view_def, "type");
    if (type_sub && type) {
        /* members carry the resource type; a user's groups say how they are held,
         * and memberOf lists direct memberships only */
        const char *tv = canon_has(type_sub, type) || type_sub->n_canonical == 0 ? type
                         : canon_has(type_sub, "direct") ? "direct" : NULL;
        if (tv && json_object_set_new(v, "type", json_string(tv)) < 0) {
            json_decref(v);
            return -1;
        }
    }
    const s2l_attr_def *disp_sub = s2l_attr_find_sub(r->view_def, "display");
    if (disp_sub == NULL)
        disp_sub = s2l_attr_find_sub(r->view_def, "displayName");
    if (disp_sub && display && json_object_set_new(v, disp_sub->name, json_string(display)) < 0) {
        json_decref(v);
        return -1;
    }
    return json_array_append_new(r->out, v);
}

/* ---- values ---- */

/* A SCIM value of type def->type from LDAP text (new reference), or NULL when
 * the text does not fit the type (left out rather than failing the read). */
static json_t *typed_value(const s2l_attr_def *def, const char *text)
{
    char *end;

    switch (def->type) {
    case S2L_T_BOOLEAN:
        return NULL; /* handled by bool_value */
    case S2L_T_INTEGER: {
        errno = 0;
        long long n = strtoll(text, &end, 10);
        if (errno || end == text || *end)
            return NULL;
        return json_integer((json_int_t)n);
    }
    case S2L_T_DECIMAL: {
        errno = 0;
        double d = strtod(text, &end);
        if (errno || end == text || *end)
            return NULL;
        return json_real(d);
    }
    case S2L_T_DATETIME: {
        char *ts = s2l_gtime_to_rfc3339(text);
        json_t *v = json_string(ts ? ts : text);
        free(ts);
        return v;
    }
    default:
        return json_string(text);
    }
}

/* SCIM text of an LDAP value of attribute name: Postal Address lines ('$')
 * become newlines again (see ldap_form in mapping_write.c). malloc'd. */
static char *scim_form(const char *name, const char *text)
{
    s2l_strbuf b = {0};

    if (s2l_ldap_syntax_of(name) != S2L_LSYN_POSTAL || (strchr(text, '$') == NULL && strchr(text, '\\') == NULL))
        return strdup(text);
    for (const char *p = text; *p; p++) {
        if (*p == '$') {
            s2l_sb_adds(&b, "\n");
        } else if (*p == '\\' && (strncasecmp(p + 1, "24", 2) == 0 || strncasecmp(p + 1, "5c", 2) == 0)) {
            s2l_sb_adds(&b, p[1] == '2' ? "$" : "\\");
            p += 2;
        } else {
            s2l_sb_add(&b, p, 1);
        }
    }
    if (b.len == 0 && !b.failed)
        s2l_sb_adds(&b, "");
    return s2l_sb_take(&b);
}

static json_t *typed_ldap_value(const s2l_attr_def *def, const char *ldap_attr, const char *text)
{
    char *t = scim_form(ldap_attr, text);
    json_t *v = t ? typed_value(def, t) : NULL;
    free(t);
    return v;
}

/* Whether LDAP value v is the representation repr: compared case-insensitively,
 * and as an instant on a GeneralizedTime attribute (a lock time written
 * "00000101000000Z" is the "000001010000Z" one), as the directory's equality
 * does, so that filters on the boolean can be left to LDAP. */
static bool is_repr(const s2l_mentry *me, const char *v, const char *repr)
{
    if (repr == NULL)
        return false;
    if (strcasecmp(v, repr) == 0)
        return true;
    return me->caps.eq == S2L_MR_GENERALIZED_TIME && s2l_gtime_same_instant(v, repr);
}

static json_t *bool_value(const s2l_mentry *me, const json_t *entry)
{
    const json_t *vals = s2l_map_entry_values(entry, me->ldap);
    const char *first = s2l_map_entry_first(entry, me->ldap);
    int b;

    if (vals == NULL || first == NULL) {
        b = me->boolean.absent;
    } else if (is_repr(me, first, me->boolean.when_false)) {
        b = 0;
    } else if (is_repr(me, first, me->boolean.when_true)) {
        b = 1;
    } else {
        b = me->boolean.other;
    }
    return b < 0 ? NULL : json_boolean(b);
}

/* Sets obj[key] = v (stolen); v NULL means "nothing to set". */
static int set_opt(json_t *obj, const char *key, json_t *v)
{
    return v ? json_object_set_new(obj, key, v) : 0;
}

static int render_simple(const s2l_rmap *rm, const s2l_mentry *me, const json_t *entry, json_t *container)
{
    json_t *v;
    if (me->by_policy) {
        v = json_boolean(s2l_dp_entry_active(rm, entry));
    } else if (me->is_bool) {
        v = bool_value(me, entry);
    } else {
        const char *text = s2l_map_entry_first(entry, me->ldap);
        v = text ? typed_ldap_value(me->leaf, me->ldap, text) : NULL;
    }
    if (v == NULL)
        return 0;
    if (me->sub == NULL)
        return json_object_set_new(container, me->attr, v);
    json_t *obj = json_object_get(container, me->attr);
    if (obj == NULL) {
        obj = json_object();
        if (obj == NULL || json_object_set_new(container, me->attr, obj) < 0) {
            json_decref(v);
            return -1;
        }
    }
    return json_object_set_new(obj, me->sub, v);
}

/* Values of a "type": "*" entry: JSON texts as written (a text that is not
 * JSON, written by another tool, reads as its "value"). */
static int render_catch_all(const s2l_mentry *me, const json_t *entry, json_t *arr)
{
    const json_t *vals = s2l_map_entry_values(entry, me->ldap);
    json_t *list = json_is_string(vals) ? json_pack("[O]", vals) : json_incref((json_t *)vals);
    size_t i;
    json_t *e;
    int rc = 0;

    json_array_foreach(list, i, e) {
        const char *text = json_string_value(e);
        json_t *v = text ? json_loads(text, 0, NULL) : NULL;
        if (!json_is_object(v)) {
            json_decref(v);
            v = text ? json_pack("{s:s}", "value", text) : NULL;
        }
        if (v != NULL && json_array_append_new(arr, v) < 0)
            rc = -1;
    }
    json_decref(list);
    return rc;
}

static int render_multi(const s2l_mentry *me, const json_t *entry, json_t *arr, bool *primary_done)
{
    const s2l_attr_def *top = me->top;
    bool complex = top->type == S2L_T_COMPLEX;

    if (me->catch_all)
        return render_catch_all(me, entry, arr);
    if (me->ldap != NULL) {
        const json_t *vals = s2l_map_entry_values(entry, me->ldap);
        json_t *list = json_is_string(vals) ? json_pack("[O]", vals) : json_incref((json_t *)vals);
        size_t i;
        json_t *e;
        int rc = 0;
        json_array_foreach(list, i, e) {
            const s2l_attr_def *vd = complex ? s2l_attr_find_sub(top, "value") : top;
            json_t *tv = typed_ldap_value(vd, me->ldap, json_string_value(e)), *elem;
            if (tv == NULL)
                continue;
            if (!complex) {
                rc = json_array_append_new(arr, tv);
            } else {
                elem = json_pack("{s:o}", "value", tv);
                if (elem != NULL && me->type)
                    rc |= json_object_set_new(elem, "type", json_string(me->type));
                if (elem != NULL && me->primary && !*primary_done) {
                    rc |= json_object_set_new(elem, "primary", json_true());
                    *primary_done = true;
                }
                rc |= elem ? json_array_append_new(arr, elem) : -1;
            }
            if (rc < 0)
                break;
        }
        json_decref(list);
        return rc;
    }
    json_t *elem = json_object();
    int rc = elem ? 0 : -1;
    for (size_t k = 0; rc == 0 && k < me->n_subs; k++) {
        const char *attr = me->subs[k].ldap;
        const char *text = s2l_map_entry_first(entry, attr);
        const s2l_attr_def *sd = s2l_attr_find_sub(top, me->subs[k].scim);
        if (text == NULL && me->subs[k].also != NULL)
            text = s2l_map_entry_first(entry, attr = me->subs[k].also);
        if (text && sd)
            rc = set_opt(elem, me->subs[k].scim, typed_ldap_value(sd, attr, text));
    }
    if (rc == 0 && json_object_size(elem) > 0) {
        if (me->type)
            rc |= json_object_set_new(elem, "type", json_string(me->type));
        if (me->primary && !*primary_done) {
            rc |= json_object_set_new(elem, "primary", json_true());
            *primary_done = true;
        }
        rc |= json_array_append(arr, elem);
    }
    json_decref(elem);
    return rc;
}

/* Renders every entry mapping top-level attribute `def` (of the view `view`, full schema `full`). */
/* Whether mapping entry me renders attribute def of schema full (catch-all
 * entries included). */
static bool renders(const s2l_mentry *me, const s2l_attr_def *def, const s2l_schema *full)
{
    return me->schema == full && !me->write_only && me->attr != NULL && me->attr[0] == def->name[0] &&
           strcmp(me->attr, def->name) == 0;
}

int s2l_map_render_index(s2l_rmap *rm)
{
    size_t n_views = 1 + rm->n_ext;
    if ((rm->render_entries = calloc(n_views, sizeof *rm->render_entries)) == NULL)
        return -1;
    for (size_t v = 0; v < n_views; v++) {
        const s2l_schema *view = v == 0 ? rm->core_view : rm->ext_views[v - 1];
        const s2l_schema *full = v == 0 ? rm->core : rm->ext[v - 1];
        if (view == NULL)
            continue; /* rendered by scanning every entry */
        if ((rm->render_entries[v] = calloc(view->n_attrs + 1, sizeof(size_t *))) == NULL)
            return -1;
        for (size_t a = 0; a < view->n_attrs; a++) {
            size_t n = 0;
            for (size_t i = 0; i < rm->n_entries; i++)
                n += renders(&rm->entries[i], &view->attrs[a], full);
            size_t *list = malloc((n + 1) * sizeof *list);
            if (list == NULL)
                return -1;
            n = 0;
            for (size_t i = 0; i < rm->n_entries; i++)
                if (renders(&rm->entries[i], &view->attrs[a], full))
                    list[n++] = i;
            list[n] = SIZE_MAX;
            rm->render_entries[v][a] = list;
        }
    }
    return 0;
}

void s2l_map_render_index_free(s2l_rmap *rm)
{
    if (rm->render_entries == NULL)
        return;
    for (size_t v = 0; v < 1 + rm->n_ext; v++) {
        for (size_t a = 0; rm->render_entries[v] && rm->render_entries[v][a]; a++)
            free(rm->render_entries[v][a]);
        free(rm->render_entries[v]);
    }
    free(rm->render_entries);
    rm->render_entries = NULL;
}

/* The next entry index of list (or, without one, of every entry) from *k on; SIZE_MAX at the end. */
static size_t next_entry(const s2l_rmap *rm, const size_t *list, size_t *k)
{
    if (list)
        return list[(*k)++];
    return *k < rm->n_entries ? (*k)++ : SIZE_MAX;
}

static int render_attr(const s2l_rmap *rm, const s2l_attr_def *def, const s2l_schema *full, const size_t *list,
                       const json_t *entry, const json_t *refs, const char *base_url, json_t *container)
{
    json_t *arr = NULL, *kept = NULL;
    bool primary_done = false;
    int rc = 0;
    size_t k, i;

    /* Values kept as JSON carry their own primary flag: when one has it, the
     * typed entries do not claim primary for their first value. */
    for (k = 0; def->multi_valued && rc == 0 && (i = next_entry(rm, list, &k)) != SIZE_MAX;) {
        const s2l_mentry *me = &rm->entries[i];
        if (!me->catch_all || !renders(me, def, full))
            continue;
        if (kept == NULL && (kept = json_array()) == NULL)
            return -1;
        rc = render_catch_all(me, entry, kept);
    }
    for (size_t j = 0; j < json_array_size(kept); j++)
        if (json_is_true(json_object_get(json_array_get(kept, j), "primary")))
            primary_done = true;

    /* the entries of this attribute, listed at load (s2l_map_render_index) */
    for (k = 0; rc == 0 && (i = next_entry(rm, list, &k)) != SIZE_MAX;) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->catch_all || !renders(me, def, full))
            continue;
        switch (me->kind) {
        case S2L_ME_SIMPLE:
            rc = render_simple(rm, me, entry, container);
            break;
        case S2L_ME_MULTI:
            if (arr == NULL && (arr = json_array()) == NULL)
                return -1;
            rc = render_multi(me, entry, arr, &primary_done);
            break;
        case S2L_ME_REFERENCE: {
            ref_render r = {rm, me, def, refs, base_url, json_array(), json_object()};
            if (r.out == NULL || r.seen_ids == NULL) {
                json_decref(r.out);
                json_decref(r.seen_ids);
                return -1;
            }
            rc = foreach_ref_dn(rm, me, entry, render_ref, &r);
            if (rc == 0 && json_array_size(r.out) > 0) {
                if (def->multi_valued) {
                    if (arr == NULL && (arr = json_array()) == NULL)
                        rc = -1;
                    else
                        rc = json_array_extend(arr, r.out);
                } else {
                    rc = json_object_set(container, def->name, json_array_get(r.out, 0));
                }
            }
            json_decref(r.out);
            json_decref(r.seen_ids);
            break;
        }
        default:
            break;
        }
    }
    if (rc == 0 && json_array_size(kept) > 0) {
        if (arr == NULL)
            arr = json_incref(kept);
        else
            rc = json_array_extend(arr, kept);
    }
    if (rc == 0 && arr != NULL && json_array_size(arr) > 0)
        rc = json_object_set(container, def->name, arr);
    json_decref(arr);
    json_decref(kept);
    return rc;
}

static int render_schema(const s2l_rmap *rm, size_t v, const s2l_schema *view, const s2l_schema *full,
                         const json_t *entry, const json_t *refs, const char *base_url, json_t *container)
{
    size_t *const *lists = rm->render_entries ? rm->render_entries[v] : NULL;
    for (size_t i = 0; i < view->n_attrs; i++)
        if (render_attr(rm, &view->attrs[i], full, lists ? lists[i] : NULL, entry, refs, base_url, container) < 0)
            return -1;
    return 0;
}

char *s2l_rmap_version(const s2l_rmap *rm, const json_t *entry)
{
    const char *csn = rm->version_attr ? s2l_map_entry_first(entry, rm->version_attr) : NULL;
    if (csn == NULL || strchr(csn, '"') != NULL)
        return NULL;
    s2l_strbuf b = {0};
    s2l_sb_adds(&b, "W/\"");
    s2l_sb_adds(&b, csn);
    s2l_sb_adds(&b, "\"");
    return s2l_sb_take(&b);
}

static int render_meta(const s2l_rmap *rm, const json_t *entry, const char *id, const char *base_url, json_t *res)
{
    json_t *meta = json_pack("{s:s}", "resourceType", rm->name);
    char *created = NULL, *modified = NULL, *version = NULL, *loc = NULL;
    int rc = -1;

    if (meta == NULL)
        goto out;
    if (rm->created_attr && s2l_map_entry_first(entry, rm->created_attr))
        created = s2l_gtime_to_rfc3339(s2l_map_entry_first(entry, rm->created_attr));
    if (rm->modified_attr && s2l_map_entry_first(entry, rm->modified_attr))
        modified = s2l_gtime_to_rfc3339(s2l_map_entry_first(entry, rm->modified_attr));
    version = s2l_rmap_version(rm, entry);
    if (base_url && (loc = join_url(base_url, rm->endpoint, id)) == NULL)
        goto out;
    if ((created && json_object_set_new(meta, "created", json_string(created)) < 0) ||
        (modified && json_object_set_new(meta, "lastModified", json_string(modified)) < 0) ||
        (loc && json_object_set_new(meta, "location", json_string(loc)) < 0) ||
        (version && json_object_set_new(meta, "version", json_string(version)) < 0))
        goto out;
    rc = json_object_set(res, "meta", meta);
out:
    json_decref(meta);
    free(created);
    free(modified);
    free(version);
    free(loc);
    return rc;
}

static json_t *to_scim(const s2l_rmap *rm, const json_t *entry, const json_t *refs, const char *base_url,
                       s2l_error *err);

/* Rendering looks up every LDAP attribute the mapping reads, most of them
 * absent from a given entry; a miss used to scan the entry's attributes
 * with strcasecmp (callgrind: ~14% of a GET). An index by folded name, made
 * once per rendered entry, turns each miss into one hash look-up. */
json_t *s2l_rmap_to_scim(const s2l_rmap *rm, const json_t *entry, const json_t *refs, const char *base_url,
                         s2l_error *err)
{
    s2l_map_fold_index idx;
    bool indexed = s2l_map_fold_index_begin(&idx, json_object_get(entry, "attrs"));
    json_t *res = to_scim(rm, entry, refs, base_url, err);
    if (indexed)
        s2l_map_fold_index_end(&idx);
    return res;
}

static json_t *to_scim(const s2l_rmap *rm, const json_t *entry, const json_t *refs, const char *base_url,
                       s2l_error *err)
{
    char *id = s2l_rmap_entry_id(rm, entry);
    json_t *res = NULL, *schemas = NULL;

    if (id == NULL) {
        const char *dn = json_string_value(json_object_get(entry, "dn"));
        s2l_error_set(err, 500, NULL, "%s entry %s has no %s", rm->name, dn ? dn : "(no dn)", rm->id_attr);
        return NULL;
    }
    schemas = json_pack("[s]", rm->core->id);
    res = json_object();
    if (schemas == NULL || res == NULL || json_object_set(res, "schemas", schemas) < 0 ||
        json_object_set_new(res, "id", json_string(id)) < 0)
        goto oom;
    /* externalId is common (not in the core view) but sits right after id */
    for (size_t i = 0; i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->top != NULL && s2l_attr_is_common(me->top) && render_simple(rm, me, entry, res) < 0)
            goto oom;
    }
    if (render_meta(rm, entry, id, base_url, res) < 0 ||
        render_schema(rm, 0, rm->core_view, rm->core, entry, refs, base_url, res) < 0)
        goto oom;
    for (size_t i = 0; i < rm->n_ext; i++) {
        json_t *ext = json_object();
        if (ext == NULL || render_schema(rm, 1 + i, rm->ext_views[i], rm->ext[i], entry, refs, base_url, ext) < 0) {
            json_decref(ext);
            goto oom;
        }
        if (json_object_size(ext) > 0 &&
            (json_object_set(res, rm->ext[i]->id, ext) < 0 ||
             json_array_append_new(schemas, json_string(rm->ext[i]->id)) < 0)) {
            json_decref(ext);
            goto oom;
        }
        json_decref(ext);
    }
    if (s2l_keep_merge(rm, entry, res) < 0)
        goto oom;
    json_decref(schemas);
    free(id);
    return res;
oom:
    s2l_error_set(err, 500, NULL, "out of memory");
    json_decref(schemas);
    json_decref(res);
    free(id);
    return NULL;
}
