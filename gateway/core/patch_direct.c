/* patch_direct.c — PATCH requests that need no read before the modify
 * (s2l/patch_direct.h says which and why).
 *
 * The decision is made on the request and the mapping alone; the values
 * then come from the same code as the fetch-then-modify path: the patch
 * engine applied to an empty resource (which also validates the values),
 * and the mapping's own LDAP rendering of that resource, of which only the
 * LDAP attributes of the touched mapping entries are kept, each replaced as
 * a whole. Replacing is what the other path would send too for a
 * single-valued attribute whose new value does not depend on the old one.
 */
#include "s2l/patch_direct.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mapping_internal.h"

void s2l_patch_direct_fini(s2l_patch_direct *d)
{
    if (d == NULL)
        return;
    json_decref(d->mods);
    json_decref(d->deltas);
    d->mods = d->deltas = NULL;
}

static bool ieq(const char *a, const char *b)
{
    return a && b && strcasecmp(a, b) == 0;
}

/* The schema a path names (by its URN prefix, else the core) and the rest. */
static const s2l_schema *path_schema(const s2l_rmap *rm, const char *path, const char **rest)
{
    const s2l_schema *all[1 + 64];
    size_t n = 0;
    all[n++] = rm->core;
    for (size_t i = 0; i < rm->n_ext && n < sizeof all / sizeof all[0]; i++)
        all[n++] = rm->ext[i];
    for (size_t i = 0; i < n; i++) {
        size_t len = all[i] && all[i]->id ? strlen(all[i]->id) : 0;
        if (len && strncasecmp(path, all[i]->id, len) == 0 && path[len] == ':') {
            *rest = path + len + 1;
            return all[i];
        }
    }
    *rest = path;
    return strncasecmp(path, "urn:", 4) == 0 ? NULL : rm->core;
}

static bool is_delta_attr(const s2l_rmap *rm, const char *name, size_t len)
{
    for (size_t i = 0; rm->delta_attrs && rm->delta_attrs[i]; i++)
        if (strlen(rm->delta_attrs[i]) == len && strncasecmp(rm->delta_attrs[i], name, len) == 0)
            return true;
    return false;
}

/* The SIMPLE mapping entry for "attr" or "attr.sub" of schema s, or NULL. */
static const s2l_mentry *find_simple(const s2l_rmap *rm, const s2l_schema *s, const char *rest)
{
    const char *dot = strchr(rest, '.');
    size_t alen = dot ? (size_t)(dot - rest) : strlen(rest);
    const char *sub = dot ? dot + 1 : NULL;
    for (size_t i = 0; i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->kind != S2L_ME_SIMPLE || me->schema != s || me->attr == NULL || strlen(me->attr) != alen ||
            strncasecmp(me->attr, rest, alen) != 0)
            continue;
        if ((sub == NULL && me->sub == NULL) || (sub && me->sub && strcasecmp(sub, me->sub) == 0))
            return me;
    }
    return NULL;
}

static bool template_uses(const s2l_template *t, size_t n, const s2l_mentry *me)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < t[i].n_parts; k++) {
            const s2l_tpart *p = &t[i].parts[k];
            if (p->attr && p->schema == me->schema && ieq(p->attr, me->attr) &&
                (p->sub == NULL || me->sub == NULL || ieq(p->sub, me->sub)))
                return true;
        }
    return false;
}

static const char *me_key(const s2l_mentry *me)
{
    return me->write_key ? me->write_key : me->ldap;
}

/* Why the value of me cannot be written without the entry, or NULL. */
static const char *simple_why_not(const s2l_rmap *rm, const s2l_mentry *me)
{
    if (me->by_policy) {
        const s2l_dp_policy *p = &rm->dp_inactive;
        return p->n_set == 0 && p->move_to == NULL ? NULL : "active under a policy that sets flags or moves";
    }
    const char *key = me_key(me);
    if (key == NULL || me->read_only || me->create_only)
        return "an attribute the gateway does not write on update";
    if (me->leaf && (me->leaf->mutability == S2L_MUT_READ_ONLY || me->leaf->mutability == S2L_MUT_IMMUTABLE))
        return "a readOnly or immutable attribute";
    const char *fixed[] = {"objectClass", rm->id_attr, rm->created_attr, rm->modified_attr, rm->version_attr,
                           rm->rdn_attr, rm->keep_attr};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (ieq(fixed[i], key) || ieq(fixed[i], me->ldap))
            return "the RDN, id or a server-kept attribute";
    if (template_uses(rm->rdn, rm->n_rdn, me))
        return "an attribute the RDN is made from (a rename)";
    for (size_t i = 0; i < rm->n_entries; i++) {
        const s2l_mentry *o = &rm->entries[i];
        if (o != me && template_uses(o->templates, o->n_templates, me))
            return "an attribute another attribute's template or fallback uses";
        if (o == me || o->read_only)
            continue;
        bool shared = ieq(me_key(o), key) || ieq(o->ldap, me->ldap);
        for (size_t s = 0; s < o->n_subs && !shared; s++)
            shared = ieq(o->subs[s].ldap, me->ldap) || ieq(o->subs[s].also, me->ldap);
        if (shared)
            return "an LDAP attribute two mapping entries write";
    }
    return NULL;
}

/* One (path, value) of the request: the touched entry is appended to
 * touched; member paths only set *members. NULL = fine, else why not. */
static const char *check_path(const s2l_rmap *rm, const char *op, const char *path, const json_t *value,
                              const s2l_mentry **touched, size_t *n_touched, size_t max_touched, bool *members)
{
    if (path == NULL || *path == '\0')
        return "an operation without a path and without an object value";
    const char *rest;
    const s2l_schema *s = path_schema(rm, path, &rest);
    if (s == NULL)
        return "an unknown schema";
    const char *bracket = strchr(rest, '[');
    size_t name_len = bracket ? (size_t)(bracket - rest) : strcspn(rest, ".");
    if (s == rm->core && is_delta_attr(rm, rest, name_len)) {
        if (strcmp(op, "replace") == 0)
            return "members replaced wholesale";
        if (bracket && strcmp(op, "remove") != 0)
            return "a value filter on members other than a removal";
        const char *close = bracket ? strchr(bracket, ']') : NULL;
        if (rest[name_len] == '.' || (bracket && (close == NULL || close[1] != '\0')))
            return "a sub-attribute of members";
        if (strcmp(op, "remove") == 0 && bracket == NULL && value == NULL)
            return "all members removed";
        *members = true;
        return NULL;
    }
    if (bracket)
        return "a value filter";
    if (strcmp(op, "remove") == 0)
        return "a remove (required attributes, stored values)";
    if (!(json_is_string(value) || json_is_boolean(value) || json_is_integer(value) || json_is_real(value)))
        return "a value that is not a single scalar";
    const s2l_mentry *me = find_simple(rm, s, rest);
    if (me == NULL)
        return "not a single-valued attribute of the mapping (multi-valued, complex, unmapped or unknown)";
    const char *why = simple_why_not(rm, me);
    if (why)
        return why;
    for (size_t i = 0; i < *n_touched; i++)
        if (touched[i] == me)
            return "the same attribute twice";
    if (*n_touched == max_touched)
        return "too many operations";
    touched[(*n_touched)++] = me;
    return NULL;
}

/* The request's operations checked; NULL when every one is direct. */
static const char *check_ops(const s2l_rmap *rm, const json_t *ops, const s2l_mentry **touched, size_t *n_touched,
                             size_t max_touched, bool *members)
{
    size_t i;
    const json_t *o;
    if (!json_is_array(ops) || json_array_size(ops) == 0)
        return "no operations";
    json_array_foreach(ops, i, o) {
        const char *name = json_string_value(s2l_json_get_ci(o, "op"));
        const json_t *path = s2l_json_get_ci(o, "path");
        const json_t *value = s2l_json_get_ci(o, "value");
        char op[8];
        if (name == NULL || strlen(name) >= sizeof op)
            return "an unknown op";
        for (size_t k = 0; name[k]; k++)
            op[k] = (char)((name[k] >= 'A' && name[k] <= 'Z') ? name[k] + 32 : name[k]);
        op[strlen(name)] = '\0';
        if (strcmp(op, "add") != 0 && strcmp(op, "replace") != 0 && strcmp(op, "remove") != 0)
            return "an unknown op";
        if (path != NULL && !json_is_string(path))
            return "a path that is not a string";
        const char *why;
        if (path == NULL && strcmp(op, "remove") != 0 && json_is_object(value)) {
            const char *k;
            const json_t *v;
            json_object_foreach((json_t *)value, k, v) {
                if (json_is_array(v) || json_is_object(v))
                    return "a path-less value with a complex or multi-valued attribute";
                if ((why = check_path(rm, op, k, v, touched, n_touched, max_touched, members)) != NULL)
                    return why;
            }
            continue;
        }
        if ((why = check_path(rm, op, json_string_value(path), value, touched, n_touched, max_touched, members)))
            return why;
    }
    return NULL;
}

static int replace_mod(json_t *mods, const char *attr, json_t *values)
{
    json_t *m = json_pack("{s:s, s:s, s:O}", "op", "replace", "attr", attr, "values", values);
    return m ? json_array_append_new(mods, m) : -1;
}

int s2l_patch_plan_direct(const s2l_rmap *rm, const json_t *patch_request, const s2l_patch_opts *opts,
                          s2l_patch_direct *out)
{
    enum { MAX_TOUCHED = 64 };
    const s2l_mentry *touched[MAX_TOUCHED];
    size_t n_touched = 0;
    bool members = false;
    *out = (s2l_patch_direct){0};

    out->why_not = check_ops(rm, s2l_json_get_ci(patch_request, "Operations"), touched, &n_touched, MAX_TOUCHED,
                             &members);
    if (out->why_not)
        return 0;

    /* The values as the engine makes them, on a resource holding nothing. */
    s2l_error err;
    s2l_error_clear(&err);
    json_t *res = json_pack("{s:[s]}", "schemas", rm->core->id);
    json_t *attrs = NULL, *deltas = NULL, *mods = json_array(), *empty = json_array();
    int rc = -1;
    if (res == NULL || mods == NULL || empty == NULL)
        goto out;
    s2l_patch_opts po = *opts;
    po.notes = NULL;
    if (s2l_patch_apply(s2l_rmap_rtype(rm), res, patch_request, &po, &deltas, &err) < 0) {
        out->why_not = "the patch engine refuses it on an empty resource (the full path answers)";
        rc = 0;
        goto out;
    }
    if (n_touched > 0) {
        s2l_error_clear(&err);
        attrs = s2l_map_ldap_attrs_noted(rm, res, NULL, false, NULL, &err);
        if (attrs == NULL) {
            out->why_not = "the values do not map (the full path answers)";
            rc = err.status == 500 ? -1 : 0;
            goto out;
        }
    }
    for (size_t i = 0; i < n_touched; i++) {
        const s2l_mentry *me = touched[i];
        if (me->by_policy)
            continue;
        json_t *v = s2l_map_get_ci(attrs, me_key(me));
        const char *opposite = json_array_size(v) == 0 ? s2l_map_bool_opposite(me) : NULL;
        if (opposite) {
            /* active: true under the lock: only the gateway's lock value goes (a
             * failed-bind lockout stays, as on the other path); absent → 16, and
             * the other path finds nothing to do */
            json_t *m = json_pack("{s:s, s:s, s:[s]}", "op", "delete", "attr", me_key(me), "values", opposite);
            if (m == NULL || json_array_append_new(mods, m) < 0)
                goto out;
            continue;
        }
        if (replace_mod(mods, me_key(me), json_is_array(v) ? v : empty) < 0)
            goto out;
    }
    for (size_t i = 0; i < n_touched; i++) {
        if (!touched[i]->by_policy)
            continue;
        const char *sup = NULL;
        s2l_error_clear(&err);
        if (s2l_dp_plan_active(rm, NULL, res, mods, &sup, &err) < 0 || sup != NULL) {
            out->why_not = "active under this policy needs the entry";
            rc = err.status == 500 ? -1 : 0;
            goto out;
        }
    }
    if (members) {
        size_t k;
        json_t *d;
        json_array_foreach(deltas, k, d) {
            if (json_is_true(json_object_get(d, "replace_all"))) {
                out->why_not = "members replaced wholesale";
                rc = 0;
                goto out;
            }
        }
        /* items the keep attribute would hold (sub-attributes beyond the
         * value) are merged with the stored ones: that needs the entry */
        json_t *kept = json_array();
        if (kept == NULL || s2l_rmap_delta_kept_mods(rm, deltas, NULL, kept, &err) < 0) {
            json_decref(kept);
            goto out;
        }
        size_t n_kept = json_array_size(kept);
        json_decref(kept);
        if (n_kept > 0) {
            out->why_not = "member items with sub-attributes the keep attribute holds";
            rc = 0;
            goto out;
        }
    }
    out->mods = mods;
    out->deltas = deltas;
    mods = deltas = NULL;
    rc = 1;
out:
    json_decref(res);
    json_decref(attrs);
    json_decref(deltas);
    json_decref(mods);
    json_decref(empty);
    return rc;
}

bool s2l_rmap_dn_in_scope(const s2l_rmap *rm, const char *dn)
{
    if (dn == NULL)
        return false;
    if (rm->info.scope == S2L_SCOPE_SUB)
        return s2l_dn_under(dn, rm->base_dn, false);
    const char *parent = s2l_dn_parent(dn);
    return parent && s2l_dn_under(parent, rm->base_dn, true) && s2l_dn_under(rm->base_dn, parent, true);
}

char *s2l_rmap_write_assertion(const s2l_rmap *rm, const char *id, const char *if_match)
{
    char *f = s2l_rmap_write_id_filter(rm, id);
    if (f == NULL || if_match == NULL)
        return f;
    /* one ETag: W/"<csn>" or "<csn>"; "*" asks only that the entry exists */
    const char *p = if_match + strspn(if_match, " ");
    size_t len = strlen(p);
    while (len && p[len - 1] == ' ')
        len--;
    if (len == 1 && *p == '*')
        return f;
    if (len > 2 && strncmp(p, "W/", 2) == 0)
        p += 2, len -= 2;
    if (rm->version_attr == NULL || len < 3 || p[0] != '"' || p[len - 1] != '"' ||
        memchr(p + 1, '"', len - 2) != NULL || memchr(p, ',', len) != NULL) {
        free(f);
        return NULL;
    }
    char *v = s2l_ldap_escape_filter_value(p + 1, len - 2);
    s2l_strbuf b = {0};
    s2l_sb_adds(&b, "(&");
    s2l_sb_adds(&b, f);
    s2l_sb_adds(&b, "(");
    s2l_sb_adds(&b, rm->version_attr);
    s2l_sb_adds(&b, "=");
    s2l_sb_adds(&b, v ? v : "");
    s2l_sb_adds(&b, "))");
    free(f);
    if (v == NULL) {
        free(s2l_sb_take(&b));
        return NULL;
    }
    free(v);
    return s2l_sb_take(&b);
}
