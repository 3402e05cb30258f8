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
    json_t *todo;            /* ids or DNs still to resolve */
    size_t next;             /* next index in todo to start */
    unsigned pending;        /* searches in flight */
    bool ended;              /* done() has been called */
    json_t *map;             /* borrowed */
    s2l_lookup_done_fn *done;
    void *arg;
    char **attrs;            /* attributes asked for */
    dn_op *dn_ops;           /* one per DN (DN lookups) */
};

static void lookup_free(void *p)
{
    lookup *lk = p;
    json_decref(lk->todo);
    if (lk->attrs) {
        for (size_t i = 0; lk->attrs[i]; i++)
            free(lk->attrs[i]);
        free(lk->attrs);
    }
    free(lk->dn_ops);
    free(lk);
}

/* The LDAP attributes that hold ids across all resource types (normally just
 * entryUUID), plus the ones a reference's "display" comes from. */
static char **id_attrs(const s2l_mapping *m, bool with_display)
{
    size_t n = s2l_mapping_count(m);
    char **v = calloc(n + 3, sizeof *v);
    if (v == NULL)
        return NULL;
    size_t k = 0;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        const char *a = s2l_rmap_info_of(s2l_mapping_at(m, i))->id_attr;
        bool dup = false;
        for (size_t j = 0; j < k; j++)
            dup = dup || strcasecmp(v[j], a) == 0;
        if (!dup)
            ok = (v[k++] = strdup(a)) != NULL;
    }
    if (ok && with_display) {
        ok = (v[k++] = strdup("displayName")) != NULL;
        ok = ok && (v[k++] = strdup("cn")) != NULL;
    }
    if (!ok) {
        for (size_t j = 0; j < k; j++)
            free(v[j]);
        free(v);
        return NULL;
    }
    return v;
}

static const char *first_value(const json_t *entry, const char *attr)
{
    json_t *vals = s2l_json_get_ci(json_object_get(entry, "attrs"), attr);
    return json_string_value(json_array_get(vals, 0));
}

/* Which mapped type a DN belongs to: the one whose base DN it sits under. */
static const s2l_rmap *type_of_dn(const s2l_mapping *m, const char *dn)
{
    size_t dl = strlen(dn);
    const s2l_rmap *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < s2l_mapping_count(m); i++) {
        const s2l_rmap *rm = s2l_mapping_at(m, i);
        const char *base = s2l_rmap_info_of(rm)->base_dn;
        size_t bl = strlen(base);
        if (bl < dl && dn[dl - bl - 1] == ',' && strcasecmp(dn + dl - bl, base) == 0 && bl > best_len) {
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

static void end(s2l_req *req, lookup *lk, const s2l_ldap_result *err)
{
    if (lk->ended)
        return;
    lk->ended = true;
    lk->done(req, lk->arg, err);
}

static void end_oom(s2l_req *req, lookup *lk)
{
    s2l_ldap_result fake = {.rc = LDAP_NO_MEMORY};
    end(req, lk, &fake);
}

static void maybe_done(s2l_req *req, lookup *lk)
{
    if (lk->pending == 0 && lk->next >= json_array_size(lk->todo))
        end(req, lk, NULL);
}

/* ---- ids → DNs ---- */

/* Both return false when the lookup ended (req and lk may be gone). */
static bool start_ids(s2l_req *req, lookup *lk);

static void on_ids(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    lookup *lk = arg;
    lk->pending--;
    if (lk->ended)
        return;
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        end(req, lk, res);
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
    }
    if (start_ids(req, lk))
        maybe_done(req, lk);
}

/* (|(entryUUID=a)(entryUUID=b)...) for ids [from, to): each id in the form
 * of every type it can be an id of (objectGUID as escaped bytes). */
static char *ids_filter(const s2l_mapping *m, const lookup *lk, size_t from, size_t to)
{
    size_t cap = 256, len = 0;
    char *f = malloc(cap);
    if (f == NULL)
        return NULL;
    f[len++] = '(';
    f[len++] = '|';
    for (size_t i = from; i < to; i++) {
        const char *id = json_string_value(json_array_get(lk->todo, i));
        char *prev = NULL;
        for (size_t k = 0; id && k < s2l_mapping_count(m); k++) {
            char *term = s2l_rmap_id_assertion(s2l_mapping_at(m, k), id);
            if (term == NULL || (prev && strcmp(prev, term) == 0)) { /* malformed for it, or the same term */
                free(term);
                continue;
            }
            size_t need = len + strlen(term) + 4;
            if (need > cap) {
                cap = need * 2;
                char *g = realloc(f, cap);
                if (g == NULL) {
                    free(term);
                    free(prev);
                    goto fail;
                }
                f = g;
            }
            memcpy(f + len, term, strlen(term));
            len += strlen(term);
            free(prev);
            prev = term;
        }
        free(prev);
    }
    f[len++] = ')';
    f[len] = 0;
    return f;
fail:
    free(f);
    return NULL;
}

static bool start_ids(s2l_req *req, lookup *lk)
{
    size_t n = json_array_size(lk->todo);
    while (lk->next < n && lk->pending < ID_SEARCHES) {
        size_t to = lk->next + IDS_PER_SEARCH < n ? lk->next + IDS_PER_SEARCH : n;
        char *f = ids_filter(req->gw->mapping, lk, lk->next, to);
        lk->next = to;
        s2l_search_req sr = {.base = req->gw->suffix, .scope = LDAP_SCOPE_SUBTREE, .filter = f,
                             .attrs = lk->attrs};
        int rc = f ? s2l_req_ldap_search(req, &sr, on_ids, lk) : -1;
        free(f);
        if (rc < 0) {
            end_oom(req, lk);
            return false;
        }
        lk->pending++;
    }
    return true;
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

static lookup *lookup_create(s2l_req *req, json_t *map, s2l_lookup_done_fn *done, void *arg, bool dns)
{
    lookup *lk = calloc(1, sizeof *lk);
    if (lk == NULL)
        return NULL;
    lk->map = map;
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

void s2l_lookup_ids(s2l_req *req, const json_t *ids, json_t *map, s2l_lookup_done_fn *done, void *arg)
{
    if (json_array_size(ids) == 0) { /* the usual case: nothing refers to anything */
        done(req, arg, NULL);
        return;
    }
    lookup *lk = lookup_create(req, map, done, arg, false);
    if (lk == NULL) {
        s2l_ldap_result fake = {.rc = LDAP_NO_MEMORY};
        done(req, arg, &fake);
        return;
    }
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        const char *id = json_string_value(v);
        if (id && !json_object_get(map, id) && plausible_id(req->gw->mapping, id))
            json_array_append(lk->todo, v);
    }
    if (start_ids(req, lk))
        maybe_done(req, lk);
}

/* ---- DNs → ids ---- */

static bool start_dns(s2l_req *req, lookup *lk);

static void on_dn(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    dn_op *d = arg;
    lookup *lk = d->lk;
    lk->pending--;
    if (lk->ended)
        return;
    /* A dangling reference (noSuchObject) is simply not rendered. */
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        end(req, lk, res);
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
    if (start_dns(req, lk))
        maybe_done(req, lk);
}

static bool start_dns(s2l_req *req, lookup *lk)
{
    size_t n = json_array_size(lk->todo);
    while (lk->next < n && lk->pending < DN_WINDOW) {
        dn_op *d = &lk->dn_ops[lk->next];
        d->lk = lk;
        d->idx = lk->next++;
        s2l_search_req sr = {.base = json_string_value(json_array_get(lk->todo, d->idx)),
                             .scope = LDAP_SCOPE_BASE, .filter = "(objectClass=*)", .attrs = lk->attrs,
                             .size_limit = 1};
        if (s2l_req_ldap_search(req, &sr, on_dn, d) < 0) {
            end_oom(req, lk);
            return false;
        }
        lk->pending++;
    }
    return true;
}

void s2l_lookup_dns(s2l_req *req, const json_t *dns, json_t *map, s2l_lookup_done_fn *done, void *arg)
{
    if (json_array_size(dns) == 0) {
        done(req, arg, NULL);
        return;
    }
    lookup *lk = lookup_create(req, map, done, arg, true);
    if (lk == NULL) {
        s2l_ldap_result fake = {.rc = LDAP_NO_MEMORY};
        done(req, arg, &fake);
        return;
    }
    size_t i;
    json_t *v;
    json_array_foreach(dns, i, v) {
        const char *dn = json_string_value(v);
        if (dn && dn[0] && !json_object_get(map, dn))
            json_array_append(lk->todo, v);
    }
    size_t n = json_array_size(lk->todo);
    lk->dn_ops = n ? calloc(n, sizeof *lk->dn_ops) : NULL;
    if (n && lk->dn_ops == NULL) {
        end_oom(req, lk);
        return;
    }
    if (start_dns(req, lk))
        maybe_done(req, lk);
}

/* ---- a group's members through memberOf ---- */

static void on_members_of(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    lookup *lk = arg;
    lk->pending--;
    if (lk->ended)
        return;
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        end(req, lk, res);
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
    maybe_done(req, lk);
}

void s2l_lookup_members_of(s2l_req *req, const char *group_dn, const char *memberof_attr, json_t *map,
                           s2l_lookup_done_fn *done, void *arg)
{
    lookup *lk = lookup_create(req, map, done, arg, true);
    char *esc = group_dn ? s2l_ldap_escape_filter_value(group_dn, strlen(group_dn)) : NULL;
    size_t n = esc ? strlen(memberof_attr) + strlen(esc) + 4 : 0;
    char *f = esc ? malloc(n) : NULL;
    if (f)
        snprintf(f, n, "(%s=%s)", memberof_attr, esc);
    free(esc);
    if (lk == NULL || f == NULL) {
        free(f);
        s2l_ldap_result fake = {.rc = LDAP_NO_MEMORY};
        if (lk)
            end(req, lk, &fake);
        else
            done(req, arg, &fake);
        return;
    }
    const s2l_mapping *m = req->gw->mapping;
    for (size_t i = 0; i < s2l_mapping_count(m); i++) {
        const s2l_rmap_info *info = s2l_rmap_info_of(s2l_mapping_at(m, i));
        s2l_search_req sr = {.base = info->base_dn,
                             .scope = info->scope == S2L_SCOPE_SUB ? LDAP_SCOPE_SUBTREE : LDAP_SCOPE_ONELEVEL,
                             .filter = f, .attrs = lk->attrs};
        if (s2l_req_ldap_search(req, &sr, on_members_of, lk) < 0) {
            free(f);
            end_oom(req, lk);
            return;
        }
        lk->pending++;
    }
    free(f);
    maybe_done(req, lk);
}
