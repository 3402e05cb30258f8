/* lookup.c — id <-> DN resolution (see lookup.h).
 *
 * A lookup's state belongs to the request (s2l_req_adopt): if the request ends
 * early (deadline, error reply) its pending searches are cancelled and the
 * state is freed with the request, so no callback ever sees freed memory.
 */
#include "lookup.h"

#include <ldap.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s2l/ldap_text.h"
#include "s2l/mapping.h"
#include "s2l/resource.h"

#define IDS_PER_SEARCH 200   /* keeps each OR filter well under server filter limits */
#define ID_SEARCHES 4        /* id searches outstanding at once per request */
#define DN_WINDOW 128        /* base searches outstanding at once per request */

typedef struct lookup lookup;

typedef struct dn_op {
    lookup *lk;
    size_t idx;              /* which DN of todo this search is for */
} dn_op;

struct lookup {
    s2l_req *req;
    json_t *todo;            /* ids or DNs still to resolve */
    size_t next;             /* next index in todo to start */
    unsigned pending;        /* searches in flight */
    bool ended;              /* done() has been called */
    json_t *map;             /* borrowed */
    json_t *refs;            /* borrowed, or NULL: ids also filled as DN → reference (s2l_lookup_ids_refs) */
    s2l_lookup_done_fn *done;
    void *arg;
    char **attrs;            /* attributes asked for */
    dn_op *dn_ops;           /* one per DN (DN lookups) */
};

static void lookup_free(void *p)
{
    lookup *lk = p;
    json_decref(lk->todo);
    s2l_strv_free(lk->attrs);
    free(lk->dn_ops);
    free(lk);
}

/* The LDAP attributes that hold ids across all resource types (normally just
 * entryUUID), plus the ones a reference's "display" comes from. */
static char **id_attrs(const s2l_mapping *m, bool with_display)
{
    char **v = NULL;
    for (size_t i = 0; i < s2l_mapping_count(m); i++)
        if (s2l_strv_add(&v, s2l_rmap_info_of(s2l_mapping_at(m, i))->id_attr, true) < 0)
            goto fail;
    if (with_display && (s2l_strv_add(&v, "displayName", true) < 0 || s2l_strv_add(&v, "cn", true) < 0))
        goto fail;
    return v;
fail:
    s2l_strv_free(v);
    return NULL;
}

static const char *first_value(const json_t *entry, const char *attr)
{
    json_t *vals = s2l_json_get_ci(json_object_get(entry, "attrs"), attr);
    return json_string_value(json_array_get(vals, 0));
}

/* Which mapped type a DN belongs to: the one whose base DN it sits under
 * (the deepest, when bases nest). */
static const s2l_rmap *type_of_dn(const s2l_mapping *m, const char *dn)
{
    const s2l_rmap *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < s2l_mapping_count(m); i++) {
        const s2l_rmap *rm = s2l_mapping_at(m, i);
        const char *base = s2l_rmap_info_of(rm)->base_dn;
        size_t bl = strlen(base);
        if (bl > best_len && s2l_dn_is_below(dn, base)) {
            best = rm;
            best_len = bl;
        }
    }
    return best;
}

/* {"id","type","display"} for an entry of a mapped type at dn (new reference),
 * or NULL when it belongs to no mapped type or has no id. */
static json_t *ref_of_entry(const s2l_mapping *m, const char *dn, const json_t *e)
{
    const s2l_rmap *rm = type_of_dn(m, dn);
    if (rm == NULL)
        return NULL;
    const s2l_rmap_info *info = s2l_rmap_info_of(rm);
    char *id = s2l_rmap_entry_id(rm, e); /* binary ids (objectGUID) as their string */
    const char *display = first_value(e, "displayName");
    if (display == NULL)
        display = first_value(e, "cn");
    json_t *ref = id ? json_pack("{s:s, s:s}", "id", id, "type", info->name) : NULL;
    if (ref && display)
        json_object_set_new(ref, "display", json_string(display));
    free(id);
    return ref;
}

static void end(lookup *lk, const s2l_ldap_result *err)
{
    if (lk->ended)
        return;
    lk->ended = true;
    lk->done(lk->arg, err);
}

static void end_oom(lookup *lk)
{
    s2l_ldap_result fake = {.rc = LDAP_NO_MEMORY};
    end(lk, &fake);
}

static void maybe_done(lookup *lk)
{
    if (lk->pending == 0 && lk->next >= json_array_size(lk->todo))
        end(lk, NULL);
}

static lookup *lookup_create(s2l_req *req, json_t **map, s2l_lookup_done_fn *done, void *arg, bool dns)
{
    if (*map == NULL && (*map = json_object()) == NULL)
        return NULL;
    lookup *lk = calloc(1, sizeof *lk);
    if (lk == NULL)
        return NULL;
    lk->req = req;
    lk->map = *map;
    lk->done = done;
    lk->arg = arg;
    lk->todo = json_array();
    lk->attrs = id_attrs(req->gw->mapping, dns);
    if (lk->todo == NULL || lk->attrs == NULL) {
        lookup_free(lk);
        return NULL;
    }
    return s2l_req_adopt(req, lk, lookup_free) == 0 ? lk : NULL;
}

/* The start functions' answer when out of memory. */
static int start_failed(s2l_req *req)
{
    s2l_req_fail(req, 503, NULL, "out of memory");
    return -1;
}

/* ---- ids → DNs ---- */

/* Starts searches up to the window; -1 when one could not be started. */
static int start_ids(lookup *lk);

static void on_ids(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    lookup *lk = arg;
    lk->pending--;
    if (lk->ended)
        return;
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        end(lk, res);
        return;
    }
    size_t i;
    json_t *e;
    const s2l_mapping *m = req->gw->mapping;
    json_array_foreach(res->entries, i, e) {
        const char *dn = json_string_value(json_object_get(e, "dn"));
        /* the id as each type reads it (binary ids decoded) */
        for (size_t k = 0; dn && k < s2l_mapping_count(m); k++) {
            char *id = s2l_rmap_entry_id(s2l_mapping_at(m, k), e);
            if (id)
                json_object_set_new(lk->map, id, json_string(dn));
            free(id);
        }
        json_t *ref = dn && lk->refs ? ref_of_entry(m, dn, e) : NULL;
        if (ref)
            json_object_set_new(lk->refs, dn, ref);
    }
    if (start_ids(lk) < 0)
        end_oom(lk);
    else
        maybe_done(lk);
}

/* (|(entryUUID=a)(entryUUID=b)...) for ids [from, to): each id in the form
 * of every type it can be an id of (objectGUID as escaped bytes), once. */
static char *ids_filter(const s2l_mapping *m, const lookup *lk, size_t from, size_t to)
{
    s2l_buf b = {0};
    s2l_buf_add(&b, "(|", 2);
    for (size_t i = from; i < to; i++) {
        const char *id = json_string_value(json_array_get(lk->todo, i));
        char *prev = NULL;
        for (size_t k = 0; id && k < s2l_mapping_count(m); k++) {
            char *term = s2l_rmap_id_assertion(s2l_mapping_at(m, k), id);
            if (term == NULL || (prev && strcmp(prev, term) == 0)) { /* malformed for it, or the same term */
                free(term);
                continue;
            }
            s2l_buf_adds(&b, term);
            free(prev);
            prev = term;
        }
        free(prev);
    }
    s2l_buf_add(&b, ")", 1);
    return s2l_buf_take(&b);
}

static int start_ids(lookup *lk)
{
    s2l_req *req = lk->req;
    size_t n = json_array_size(lk->todo);
    while (lk->next < n && lk->pending < ID_SEARCHES) {
        size_t to = lk->next + IDS_PER_SEARCH < n ? lk->next + IDS_PER_SEARCH : n;
        char *f = ids_filter(req->gw->mapping, lk, lk->next, to);
        lk->next = to;
        s2l_search_req sr = {.base = req->gw->suffix, .scope = LDAP_SCOPE_SUBTREE, .filter = f,
                             .attrs = lk->attrs};
        int rc = f ? s2l_req_ldap_search(req, &sr, on_ids, lk) : -1;
        free(f);
        if (rc < 0)
            return -1;
        lk->pending++;
    }
    return 0;
}

/* An id that cannot exist for any type (not a UUID) is not worth a filter term. */
static bool plausible_id(const s2l_mapping *m, const char *id)
{
    for (size_t i = 0; i < s2l_mapping_count(m); i++) {
        char *f = s2l_rmap_id_filter(s2l_mapping_at(m, i), id);
        if (f) {
            free(f);
            return true;
        }
    }
    return false;
}

static bool wanted_id(s2l_req *req, const json_t *map, const json_t *v)
{
    const char *id = json_string_value(v);
    return id && !json_object_get(map, id) && plausible_id(req->gw->mapping, id);
}

int s2l_lookup_ids(s2l_req *req, const json_t *ids, json_t **map, s2l_lookup_done_fn *done, void *arg)
{
    return s2l_lookup_ids_refs(req, ids, map, NULL, done, arg);
}

int s2l_lookup_ids_refs(s2l_req *req, const json_t *ids, json_t **map, json_t **refs, s2l_lookup_done_fn *done,
                        void *arg)
{
    /* The usual case, nothing to resolve, allocates nothing. */
    lookup *lk = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        if (!wanted_id(req, *map, v))
            continue;
        if (lk == NULL) {
            if ((lk = lookup_create(req, map, done, arg, refs != NULL)) == NULL)
                return start_failed(req);
            if (refs && *refs == NULL && (*refs = json_object()) == NULL)
                return start_failed(req);
            lk->refs = refs ? *refs : NULL;
        }
        json_array_append(lk->todo, v);
    }
    if (lk == NULL)
        return 0;
    if (start_ids(lk) < 0)
        return start_failed(req);
    return 1;
}

/* ---- DNs → ids ---- */

static int start_dns(lookup *lk);

static void on_dn(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    dn_op *d = arg;
    lookup *lk = d->lk;
    lk->pending--;
    if (lk->ended)
        return;
    /* A dangling reference (noSuchObject) is simply not rendered. */
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        end(lk, res);
        return;
    }
    /* Keyed by the DN as the referencing entry holds it, which may differ in
     * case or spacing from the entry's own DN. */
    const char *asked = json_string_value(json_array_get(lk->todo, d->idx));
    json_t *e = json_array_get(res->entries, 0);
    const char *dn = json_string_value(json_object_get(e, "dn"));
    json_t *ref = dn && asked ? ref_of_entry(req->gw->mapping, dn, e) : NULL;
    if (ref)
        json_object_set_new(lk->map, asked, ref);
    if (start_dns(lk) < 0)
        end_oom(lk);
    else
        maybe_done(lk);
}

static int start_dns(lookup *lk)
{
    size_t n = json_array_size(lk->todo);
    while (lk->next < n && lk->pending < DN_WINDOW) {
        dn_op *d = &lk->dn_ops[lk->next];
        d->lk = lk;
        d->idx = lk->next++;
        s2l_search_req sr = {.base = json_string_value(json_array_get(lk->todo, d->idx)),
                             .scope = LDAP_SCOPE_BASE, .filter = "(objectClass=*)", .attrs = lk->attrs,
                             .size_limit = 1};
        if (s2l_req_ldap_search(lk->req, &sr, on_dn, d) < 0)
            return -1;
        lk->pending++;
    }
    return 0;
}

static bool wanted_dn(const json_t *map, const json_t *v)
{
    const char *dn = json_string_value(v);
    return dn && dn[0] && !json_object_get(map, dn);
}

int s2l_lookup_dns(s2l_req *req, const json_t *dns, json_t **map, s2l_lookup_done_fn *done, void *arg)
{
    lookup *lk = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(dns, i, v) {
        if (!wanted_dn(*map, v))
            continue;
        if (lk == NULL && (lk = lookup_create(req, map, done, arg, true)) == NULL)
            return start_failed(req);
        json_array_append(lk->todo, v);
    }
    if (lk == NULL)
        return 0;
    if ((lk->dn_ops = calloc(json_array_size(lk->todo), sizeof *lk->dn_ops)) == NULL || start_dns(lk) < 0)
        return start_failed(req);
    return 1;
}

/* ---- a group's members through memberOf ---- */

static void on_members_of(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    lookup *lk = arg;
    lk->pending--;
    if (lk->ended)
        return;
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        end(lk, res);
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(res->entries, i, e) {
        const char *dn = json_string_value(json_object_get(e, "dn"));
        json_t *ref = dn ? ref_of_entry(req->gw->mapping, dn, e) : NULL;
        if (ref)
            json_object_set_new(lk->map, dn, ref);
    }
    maybe_done(lk);
}

int s2l_lookup_members_of(s2l_req *req, const char *group_dn, const char *memberof_attr, json_t **map,
                          s2l_lookup_done_fn *done, void *arg)
{
    const s2l_mapping *m = req->gw->mapping;
    lookup *lk = lookup_create(req, map, done, arg, true);
    char *f = lk ? s2l_ldap_eq_filter(memberof_attr, group_dn) : NULL;
    if (f == NULL)
        return start_failed(req);
    for (size_t i = 0; i < s2l_mapping_count(m); i++) {
        const s2l_rmap_info *info = s2l_rmap_info_of(s2l_mapping_at(m, i));
        s2l_search_req sr = {.base = info->base_dn, .scope = s2l_ldap_scope(info->scope), .filter = f,
                             .attrs = lk->attrs};
        if (s2l_req_ldap_search(req, &sr, on_members_of, lk) < 0) {
            free(f);
            return start_failed(req);
        }
        lk->pending++;
    }
    free(f);
    return lk->pending ? 1 : 0;
}
