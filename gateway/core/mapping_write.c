/* mapping_write.c — SCIM → LDAP: the entry to add, the plan for an update,
 * group-member deltas, and the reference ids a resource needs resolved
 * (see include/s2l/mapping.h).
 *
 * One function (s2l_map_ldap_attrs) computes the LDAP attribute set of a
 * resource; creating uses it once, updating runs it on both the old and the new
 * resource and compares, so an LDAP attribute fed by several SCIM attributes
 * (cn from a template) is always computed from the whole resource.
 */
#include "mapping_internal.h"

#include <ctype.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Stands in for a reference of the old resource that could not be resolved:
 * it never equals a real value, so the attribute is rewritten rather than
 * silently kept. Control characters cannot appear in a DN from LDAP. */
#define UNRESOLVED_MARK "\x01unresolved"

/* The values array of LDAP attribute name in attrs, created when missing. */
static json_t *values_of(json_t *attrs, const char *name)
{
    json_t *v = s2l_map_get_ci(attrs, name);
    if (v != NULL)
        return v;
    v = json_array();
    if (v == NULL || json_object_set_new(attrs, name, v) < 0)
        return NULL;
    return v;
}

/* Values a linear scan checks for duplicates as they are added; a longer
 * list is de-duplicated once when complete (s2l_map_dedupe_strings), so
 * 20,000 emails cost linear time instead of 200 million comparisons. */
#define SCAN_MAX 16

/* Adds one value (not empty: LDAP has no empty values) unless already there
 * (past SCAN_MAX values: removed later by s2l_map_ldap_attrs). */
static int add_value(json_t *attrs, const char *name, const char *val, size_t len)
{
    json_t *arr, *e;
    size_t i;

    if (len == 0)
        return 0;
    if ((arr = values_of(attrs, name)) == NULL)
        return -1;
    if (json_array_size(arr) < SCAN_MAX) {
        json_array_foreach(arr, i, e) {
            if (json_string_length(e) == len && memcmp(json_string_value(e), val, len) == 0)
                return 0;
        }
    }
    return json_array_append_new(arr, json_stringn(val, len));
}

static int add_scalar(json_t *attrs, const char *name, const json_t *v)
{
    size_t len = 0;
    if (!json_is_string(v) && !json_is_integer(v) && !json_is_real(v))
        return 0;
    char *text = s2l_map_scalar_text(v, &len);
    if (text == NULL)
        return -1;
    int rc = add_value(attrs, name, text, len);
    free(text);
    return rc;
}

static int add_template(json_t *attrs, const s2l_mentry *me, const json_t *resource, bool *done)
{
    bool oom = false;
    *done = false;
    for (size_t i = 0; i < me->n_templates; i++) {
        char *v = s2l_template_eval(&me->templates[i], resource, &oom);
        if (oom)
            return -1;
        if (v == NULL || *v == 0) {
            free(v);
            continue;
        }
        int rc = add_value(attrs, me->ldap, v, strlen(v));
        free(v);
        *done = true;
        return rc;
    }
    return 0;
}

static const json_t *scim_value(const s2l_mentry *me, const json_t *resource)
{
    const json_t *v = s2l_map_get_ci(s2l_map_container(resource, me->schema, me->in_ext), me->attr);
    if (me->sub != NULL)
        v = s2l_map_get_ci(v, me->sub);
    return json_is_null(v) ? NULL : v;
}

static int simple_attrs(json_t *attrs, const s2l_mentry *me, const json_t *resource)
{
    const json_t *v = scim_value(me, resource);
    bool done = false;

    if (me->is_bool) {
        const char *repr = json_is_true(v) ? me->boolean.when_true : json_is_false(v) ? me->boolean.when_false : NULL;
        return repr ? add_value(attrs, me->ldap, repr, strlen(repr)) : 0;
    }
    if (me->leaf->type == S2L_T_DATETIME && json_is_string(v)) {
        /* stored as GeneralizedTime, so LDAP can order it (read back as RFC 3339) */
        char *gt = s2l_rfc3339_to_gtime(json_string_value(v));
        if (gt != NULL) {
            int rc = add_value(attrs, me->ldap, gt, strlen(gt));
            free(gt);
            return rc;
        }
    }
    if (v != NULL && !(json_is_string(v) && json_string_length(v) == 0))
        return add_scalar(attrs, me->ldap, v);
    return add_template(attrs, me, resource, &done);
}

/* Whether a value of a multi-valued complex attribute belongs to entry me:
 * its type matches, or it has none and me is the preferred (primary) type. */
static bool value_is_mine(const s2l_mentry *me, const json_t *elem)
{
    if (me->type == NULL)
        return true;
    const json_t *t = s2l_map_get_ci(elem, "type");
    if (json_is_string(t) && json_string_length(t) > 0)
        return strcasecmp(json_string_value(t), me->type) == 0;
    return me->primary;
}

static int multi_attrs(json_t *attrs, const s2l_mentry *me, const json_t *resource)
{
    const json_t *v = scim_value(me, resource), *elem;
    /* canonical form has arrays; a lone value (OneLogin) is still unambiguous */
    json_t *list = json_is_array(v) ? json_incref((json_t *)v) : v ? json_pack("[O]", v) : NULL;
    size_t i;
    int rc = 0;

    if (v != NULL && list == NULL)
        return -1;
    json_array_foreach(list, i, elem) {
        if (!json_is_object(elem)) {
            rc = me->ldap ? add_scalar(attrs, me->ldap, elem) : 0;
        } else if (!value_is_mine(me, elem)) {
            continue;
        } else if (me->ldap) {
            rc = add_scalar(attrs, me->ldap, s2l_map_get_ci(elem, "value"));
        } else {
            /* Sub-attributes spread over several LDAP attributes cannot keep
             * two values apart, so only the first value of this type is stored. */
            for (size_t k = 0; k < me->n_subs && rc == 0; k++)
                rc = add_scalar(attrs, me->subs[k].ldap, s2l_map_get_ci(elem, me->subs[k].scim));
            break;
        }
        if (rc < 0)
            break;
    }
    json_decref(list);
    return rc;
}

/* The LDAP form of a referenced id: its DN, or its RDN value. NULL + *err when
 * id is unknown (unless lenient) or on allocation failure; *skip when unknown
 * and the caller should leave it out. */
static char *ref_ldap_value(const s2l_rmap *rm, const s2l_mentry *me, const char *id, const json_t *ids,
                            bool lenient, s2l_error *err)
{
    const char *dn = json_string_value(json_object_get(ids, id));
    char *attr = NULL, *val = NULL;

    if (dn == NULL) {
        if (lenient)
            return strdup(UNRESOLVED_MARK);
        s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "%s: no %s with id \"%s\"", me->attr,
                      me->n_ref_types == 1 ? me->ref_types[0] : "resource", id);
        return NULL;
    }
    if (!me->ref_rdn) {
        char *copy = strdup(dn);
        if (copy == NULL)
            s2l_error_set(err, 500, NULL, "out of memory");
        return copy;
    }
    if (s2l_dn_first_rdn(dn, &attr, &val, NULL) < 0) {
        s2l_error_set(err, 500, NULL, "%s: cannot read the RDN of \"%s\" (%s)", rm->name, dn, me->attr);
        return NULL;
    }
    free(attr);
    return val;
}

static int ref_attrs(json_t *attrs, const s2l_rmap *rm, const s2l_mentry *me, const json_t *resource,
                     const json_t *ids, bool lenient, s2l_error *err)
{
    const json_t *v = scim_value(me, resource), *elem;
    json_t *list = json_is_array(v) ? json_incref((json_t *)v) : v ? json_pack("[O]", v) : json_array();
    json_t *seen = json_object(); /* duplicates by hash: member lists can be long */
    size_t i, added = 0;
    int rc = -1;

    if (list == NULL || seen == NULL) {
        json_decref(list);
        json_decref(seen);
        s2l_error_set(err, 500, NULL, "out of memory");
        return -1;
    }
    json_array_foreach(list, i, elem) {
        const json_t *idv = json_is_object(elem) ? s2l_map_get_ci(elem, "value") : elem;
        const char *id = json_string_value(idv);
        if (id == NULL || *id == 0)
            continue;
        char *lv = ref_ldap_value(rm, me, id, ids, lenient, err);
        if (lv == NULL)
            goto out;
        int arc = 0;
        if (*lv && json_object_get(seen, lv) == NULL) {
            arc = json_object_set_new(seen, lv, json_true());
            if (arc == 0)
                arc = json_array_append_new(values_of(attrs, me->ldap), json_string(lv));
        }
        free(lv);
        if (arc < 0) {
            s2l_error_set(err, 500, NULL, "out of memory");
            goto out;
        }
        added++;
    }
    if (added == 0 && me->has_placeholder) {
        /* not add_value: the placeholder may be the empty DN, which add_value would drop */
        json_t *arr = values_of(attrs, me->ldap);
        if (arr == NULL || json_array_append_new(arr, json_string(me->placeholder)) < 0) {
            s2l_error_set(err, 500, NULL, "out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(list);
    json_decref(seen);
    return rc;
}

json_t *s2l_map_ldap_attrs(const s2l_rmap *rm, const json_t *resource, const json_t *ids, bool lenient,
                           s2l_error *err)
{
    json_t *attrs = json_object();
    int rc = 0;

    if (attrs == NULL) {
        s2l_error_set(err, 500, NULL, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < rm->n_entries && rc == 0; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->read_only)
            continue;
        switch (me->kind) {
        case S2L_ME_SIMPLE:
            rc = simple_attrs(attrs, me, resource);
            break;
        case S2L_ME_MULTI:
            rc = multi_attrs(attrs, me, resource);
            break;
        case S2L_ME_REFERENCE:
            rc = ref_attrs(attrs, rm, me, resource, ids, lenient, err);
            if (rc < 0)
                goto fail;
            break;
        case S2L_ME_DERIVED: {
            bool done;
            rc = add_template(attrs, me, resource, &done);
            break;
        }
        case S2L_ME_CONSTANT:
            for (size_t k = 0; k < me->n_constants && rc == 0; k++)
                rc = add_value(attrs, me->ldap, me->constants[k], strlen(me->constants[k]));
            break;
        }
    }
    if (rc < 0) {
        s2l_error_set(err, 500, NULL, "out of memory");
        goto fail;
    }
    /* attributes that ended up without values are "absent" */
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(attrs, tmp, k, v) {
        if (json_array_size(v) == 0)
            json_object_del(attrs, k);
        else if (json_array_size(v) > SCAN_MAX && s2l_map_dedupe_strings(v) < 0)
            goto oom;
    }
    return attrs;
oom:
    s2l_error_set(err, 500, NULL, "out of memory");
fail:
    json_decref(attrs);
    return NULL;
}

json_t *s2l_rmap_to_ldap(const s2l_rmap *rm, const json_t *resource, const json_t *ids, s2l_error *err)
{
    json_t *attrs = NULL, *oc = NULL, *out = NULL;
    char *rdn = NULL, *raw = NULL, *dn = NULL;
    s2l_strbuf b = {0};

    attrs = s2l_map_ldap_attrs(rm, resource, ids, false, err);
    if (attrs == NULL)
        goto out;
    rdn = s2l_map_rdn(rm, resource, &raw, err);
    if (rdn == NULL || s2l_map_check_rdn(rm, rdn, err) < 0)
        goto fail;
    /* LDAP refuses an entry whose naming value is not among its attribute values. */
    if (add_value(attrs, rm->rdn_attr, raw, strlen(raw)) < 0)
        goto oom;
    oc = json_array();
    if (oc == NULL)
        goto oom;
    for (size_t i = 0; i < rm->n_object_classes; i++)
        if (json_array_append_new(oc, json_string(rm->object_classes[i])) < 0)
            goto oom;
    s2l_sb_adds(&b, rdn);
    s2l_sb_adds(&b, ",");
    s2l_sb_adds(&b, rm->base_dn);
    if ((dn = s2l_sb_take(&b)) == NULL)
        goto oom;
    /* objectClass first: easier to read in logs and LDIF dumps */
    json_t *ordered = json_object();
    if (ordered == NULL || json_object_set(ordered, "objectClass", oc) < 0 ||
        json_object_update(ordered, attrs) < 0) {
        json_decref(ordered);
        goto oom;
    }
    out = json_pack("{s:s, s:o}", "dn", dn, "attrs", ordered);
    if (out == NULL)
        goto oom;
    goto out;
oom:
    s2l_error_set(err, 500, NULL, "out of memory");
fail:
    json_decref(out);
    out = NULL;
out:
    json_decref(attrs);
    json_decref(oc);
    free(rdn);
    free(raw);
    free(dn);
    return out;
}

/* ---- updates ---- */

static bool same_set(const json_t *a, const json_t *b)
{
    size_t i, k;
    const json_t *x, *y;

    if (json_array_size(a) != json_array_size(b))
        return false;
    /* Long lists of strings (what LDAP values are) by hashing, not n². */
    if (json_array_size(a) > SCAN_MAX) {
        int within = s2l_map_strings_within(a, b);
        if (within >= 0)
            return within == 1;
    }
    json_array_foreach(a, i, x) {
        bool found = false;
        json_array_foreach(b, k, y) {
            if (json_equal(x, y)) {
                found = true;
                break;
            }
        }
        if (!found)
            return false;
    }
    return true;
}

static bool is_server_attr(const s2l_rmap *rm, const char *a)
{
    const char *const fixed[] = {"objectClass", rm->id_attr, rm->created_attr, rm->modified_attr,
                                 rm->version_attr, rm->rdn_attr};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (fixed[i] && strcasecmp(fixed[i], a) == 0)
            return true;
    return false;
}

/* LDAP attributes the update must not touch: delta attributes (members change
 * only through s2l_rmap_delta_mods, never by rewriting the list), and those
 * new_resource says nothing about: write-only attributes not sent again (the
 * password stays) and booleans whose LDAP form has no "absent" (an omitted
 * active must not unlock). */
static bool left_alone(const s2l_rmap *rm, const char *ldap, const json_t *new_resource)
{
    for (size_t i = 0; i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->ldap == NULL || me->read_only || tolower((unsigned char)me->ldap[0]) != tolower((unsigned char)ldap[0]) ||
            strcasecmp(me->ldap, ldap) != 0)
            continue;
        if (me->delta)
            return true;
        if (!(me->write_only || (me->is_bool && me->boolean.absent != -1)))
            continue;
        if (scim_value(me, new_resource) == NULL)
            return true;
    }
    return false;
}

/* Every LDAP attribute the mapping writes, in mapping order, each once
 * (computed once at load: rm->written_names). */
int s2l_map_written_attrs(const s2l_rmap *rm, json_t *names)
{
    for (size_t i = 0; i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->read_only)
            continue;
        for (size_t k = 0; k <= me->n_subs; k++) {
            const char *a = k < me->n_subs ? me->subs[k].ldap : me->ldap;
            if (a == NULL)
                continue;
            bool seen = false;
            size_t j;
            json_t *e;
            json_array_foreach(names, j, e) {
                seen = seen || strcasecmp(json_string_value(e), a) == 0;
            }
            if (!seen && json_array_append_new(names, json_string(a)) < 0)
                return -1;
        }
    }
    return 0;
}

json_t *s2l_rmap_plan_update(const s2l_rmap *rm, const json_t *old_resource, const json_t *new_resource,
                             const json_t *ids, s2l_error *err)
{
    json_t *a_old = NULL, *a_new = NULL, *names = NULL, *mods = NULL, *plan = NULL, *empty = NULL;
    char *rdn_old = NULL, *rdn_new = NULL;
    s2l_error ignored = {0};
    size_t i;
    json_t *e;

    a_new = s2l_map_ldap_attrs(rm, new_resource, ids, false, err);
    if (a_new == NULL)
        goto out;
    a_old = s2l_map_ldap_attrs(rm, old_resource, ids, true, err);
    if (a_old == NULL)
        goto out;
    rdn_new = s2l_map_rdn(rm, new_resource, NULL, err);
    if (rdn_new == NULL)
        goto out;
    rdn_old = s2l_map_rdn(rm, old_resource, NULL, &ignored);
    /* Only a new name must fit: an entry the directory already holds keeps its own. */
    if ((rdn_old == NULL || strcmp(rdn_old, rdn_new) != 0) && s2l_map_check_rdn(rm, rdn_new, err) < 0)
        goto out;
    names = json_incref(rm->written_names);
    mods = json_array();
    empty = json_array();
    if (names == NULL || mods == NULL || empty == NULL)
        goto oom;
    json_array_foreach(names, i, e) {
        const char *a = json_string_value(e);
        if (is_server_attr(rm, a) || left_alone(rm, a, new_resource))
            continue;
        json_t *ov = s2l_map_get_ci(a_old, a), *nv = s2l_map_get_ci(a_new, a);
        if (same_set(ov ? ov : empty, nv ? nv : empty))
            continue;
        json_t *mod = json_pack("{s:s, s:s, s:O}", "op", "replace", "attr", a, "values", nv ? nv : empty);
        if (mod == NULL || json_array_append_new(mods, mod) < 0)
            goto oom;
    }
    plan = json_pack("{s:o, s:O}", "newrdn",
                     rdn_old && strcmp(rdn_old, rdn_new) == 0 ? json_null() : json_string(rdn_new), "mods", mods);
    if (plan == NULL)
        goto oom;
    goto out;
oom:
    s2l_error_set(err, 500, NULL, "out of memory");
out:
    json_decref(a_old);
    json_decref(a_new);
    json_decref(names);
    json_decref(mods);
    json_decref(empty);
    free(rdn_old);
    free(rdn_new);
    return plan;
}

/* ---- deltas ---- */

static const s2l_mentry *delta_entry(const s2l_rmap *rm, const char *attr)
{
    for (size_t i = 0; attr && i < rm->n_entries; i++)
        if (rm->entries[i].delta && strcasecmp(rm->entries[i].attr, attr) == 0)
            return &rm->entries[i];
    return NULL;
}

static int append_mod(json_t *mods, const char *op, const char *attr, json_t *values)
{
    json_t *mod = json_pack("{s:s, s:s, s:O}", "op", op, "attr", attr, "values", values);
    return mod ? json_array_append_new(mods, mod) : -1;
}

/* LDAP values for the ids in list (objects with "value"); unknown ids are an
 * error when must_exist, else skipped. */
static json_t *delta_values(const s2l_rmap *rm, const s2l_mentry *me, const json_t *list, const json_t *ids,
                            bool must_exist, s2l_error *err)
{
    /* A full member list can hold 100,000 ids: duplicates via a hash set. */
    json_t *vals = json_array(), *seen = json_object(), *elem;
    size_t i;

    if (vals == NULL || seen == NULL)
        goto oom;
    json_array_foreach((json_t *)list, i, elem) {
        const json_t *idv = json_is_object(elem) ? s2l_map_get_ci(elem, "value") : elem;
        const char *id = json_string_value(idv);
        if (id == NULL || *id == 0) {
            s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "%s: a value without \"value\"", me->attr);
            goto fail;
        }
        if (!must_exist && json_object_get(ids, id) == NULL)
            continue;
        char *lv = ref_ldap_value(rm, me, id, ids, false, err);
        if (lv == NULL)
            goto fail;
        int rc = 0;
        if (json_object_get(seen, lv) == NULL) {
            rc = json_object_set_new(seen, lv, json_true());
            if (rc == 0)
                rc = json_array_append_new(vals, json_string(lv));
        }
        free(lv);
        if (rc < 0)
            goto oom;
    }
    json_decref(seen);
    return vals;
oom:
    s2l_error_set(err, 500, NULL, "out of memory");
fail:
    json_decref(vals);
    json_decref(seen);
    return NULL;
}

int s2l_rmap_delta_mods(const s2l_rmap *rm, const json_t *deltas, const json_t *ids, unsigned ph_flags,
                        json_t *mods, s2l_error *err)
{
    size_t i;
    json_t *d, *add = NULL, *rem = NULL, *ph = NULL;
    int rc = -1;

    json_array_foreach((json_t *)deltas, i, d) {
        const s2l_mentry *me = delta_entry(rm, json_string_value(json_object_get(d, "attr")));
        if (me == NULL) {
            s2l_error_set(err, 500, NULL, "%s: \"%s\" is not a delta attribute", rm->name,
                          json_string_value(json_object_get(d, "attr")) ? json_string_value(json_object_get(d, "attr")) : "?");
            goto out;
        }
        const json_t *jadd = json_object_get(d, "add"), *jrem = json_object_get(d, "remove");
        add = delta_values(rm, me, jadd, ids, true, err);
        rem = add ? delta_values(rm, me, jrem, ids, false, err) : NULL;
        ph = me->has_placeholder ? json_pack("[s]", me->placeholder) : json_array();
        if (add == NULL || rem == NULL)
            goto out;
        if (ph == NULL)
            goto oom;
        if (json_is_true(json_object_get(d, "replace_all"))) {
            if (append_mod(mods, "replace", me->ldap, json_array_size(add) ? add : ph) < 0)
                goto oom;
        } else {
            /* placeholder first on removal, so the group is never left without a member */
            bool ph_add = json_array_size(rem) && json_array_size(ph) && (ph_flags & S2L_PH_ADD_ON_REMOVE);
            bool ph_del = json_array_size(add) && json_array_size(ph) && (ph_flags & S2L_PH_DELETE_ON_ADD);
            if (ph_add && append_mod(mods, "add", me->ldap, ph) < 0)
                goto oom;
            if (json_array_size(add) && append_mod(mods, "add", me->ldap, add) < 0)
                goto oom;
            if (json_array_size(rem) && append_mod(mods, "delete", me->ldap, rem) < 0)
                goto oom;
            if (ph_del && append_mod(mods, "delete", me->ldap, ph) < 0)
                goto oom;
        }
        json_decref(add);
        json_decref(rem);
        json_decref(ph);
        add = rem = ph = NULL;
    }
    rc = 0;
    goto out;
oom:
    s2l_error_set(err, 500, NULL, "out of memory");
out:
    json_decref(add);
    json_decref(rem);
    json_decref(ph);
    return rc;
}

/* ---- ids to resolve ---- */

/* seen is a hash set: a full member list can hold 100,000 ids. */
static int add_unique_string(json_t *arr, json_t *seen, const char *s)
{
    if (s == NULL || *s == 0 || json_object_get(seen, s))
        return 0;
    if (json_object_set_new(seen, s, json_true()) < 0)
        return -1;
    return json_array_append_new(arr, json_string(s));
}

json_t *s2l_rmap_ref_ids(const s2l_rmap *rm, const json_t *resource)
{
    json_t *out = json_array();
    json_t *seen = json_object();
    if (seen == NULL)
        goto fail;

    for (size_t i = 0; out && i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->kind != S2L_ME_REFERENCE || me->read_only)
            continue;
        const json_t *v = scim_value(me, resource), *elem;
        size_t k;
        if (json_is_array(v)) {
            json_array_foreach(v, k, elem) {
                const json_t *idv = json_is_object(elem) ? s2l_map_get_ci(elem, "value") : elem;
                if (add_unique_string(out, seen, json_string_value(idv)) < 0)
                    goto fail;
            }
        } else if (v != NULL) {
            const json_t *idv = json_is_object(v) ? s2l_map_get_ci(v, "value") : v;
            if (add_unique_string(out, seen, json_string_value(idv)) < 0)
                goto fail;
        }
    }
    json_decref(seen);
    return out;
fail:
    json_decref(out);
    json_decref(seen);
    return NULL;
}

char *s2l_rmap_placeholder_filter(const s2l_rmap *rm)
{
    for (size_t i = 0; i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->kind != S2L_ME_REFERENCE || !me->has_placeholder)
            continue;
        char *esc = s2l_ldap_escape_filter_value(me->placeholder, strlen(me->placeholder));
        size_t n = esc ? strlen(me->ldap) + strlen(esc) + 4 : 0;
        char *f = esc ? malloc(n) : NULL;
        if (f)
            snprintf(f, n, "(%s=%s)", me->ldap, esc);
        free(esc);
        return f;
    }
    return NULL;
}
