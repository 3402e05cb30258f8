/* patch.c — the PATCH engine (RFC 7644 §3.5.2) for the attributes held in the
 * JSON resource; delta attributes (group members) are in patch_delta.c.
 *
 * Decisions the RFC leaves open, and why:
 *  - add/replace with a value filter that matches nothing creates the value
 *    when the filter is only eq comparisons joined by "and" (Entra sends
 *    emails[type eq "work"].value for a user without a work address);
 *  - replace of matched complex values merges the given sub-attributes, like
 *    replace on a complex attribute (§3.5.2.3), so a type is not lost;
 *  - remove that selects nothing succeeds: to an IdP "already gone" is done;
 *  - a required attribute becoming unassigned is 400 mutability (§3.5.2.2);
 *  - readOnly keys inside a path-less value are ignored (Okta sends "id"),
 *    while an explicit path to a readOnly attribute is 400 mutability.
 */
#include "s2l/resource.h"
#include "s2l/filter.h"
#include "s2l/json_limits.h"
#include "resource_internal.h"
#include "patch_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_MAX_OPERATIONS 1000u

/* What one operation addresses in the resource. */
typedef struct target {
    const s2l_schema *schema;
    const s2l_attr_def *def;      /* top-level attribute */
    const s2l_attr_def *sub;      /* "attr.sub" or "attr[filter].sub", else NULL */
    const s2l_filter *filter;     /* value filter or NULL */
} target;

static int nomem(s2l_patch_ctx *c)
{
    s2l_error_set(c->err, 500, NULL, "out of memory");
    return -1;
}

/* Every top-level attribute leaves the resource through here, so that a
 * required one cannot disappear by any route (remove, replace with null, ""). */
static int drop_attr(s2l_patch_ctx *c, json_t *cont, const s2l_schema *schema, const s2l_attr_def *def)
{
    if (cont == NULL || s2l_json_get_ci(cont, def->name) == NULL)
        return 0;
    if (s2l_res_required(schema, def)) {
        s2l_res_error_attr(c->err, S2L_SCIM_MUTABILITY, def, "cannot remove required attribute");
        return -1;
    }
    s2l_res_del_ci(cont, def->name);
    return 0;
}

static int coerce(s2l_patch_ctx *c, const s2l_attr_def *def, const json_t *in, bool element, json_t **out)
{
    return s2l_res_coerce(def, in, element, &c->pol, out, c->err);
}

/* Copies the sub-attributes of nv into the equal value ov, leaving those
 * that already compare equal alone: re-adding "BJensen@Example.com" must not
 * rewrite the stored "bjensen@example.com". */
static int merge_into(const s2l_attr_def *def, json_t *ov, json_t *nv)
{
    const char *k;
    json_t *v;

    if (!json_is_object(ov) || !json_is_object(nv))
        return 0;
    json_object_foreach(nv, k, v) {
        const s2l_attr_def *sub = s2l_attr_find_sub(def, k);
        const json_t *cur = s2l_json_get_ci(ov, k);
        if (sub != NULL && cur != NULL && s2l_res_value_equal(sub, cur, v))
            continue;
        if (s2l_res_set_ci(ov, k, json_incref(v)) != 0)
            return -1;
    }
    return 0;
}

/* Below this many comparisons a plain scan is cheapest; above it the values
 * are indexed (value_index.c): 20,000 added to 20,000 is linear, not 4e8. */
#define SCAN_PAIRS 4096u

/* Appends the values of `add` (a coerced array) to multi-valued attribute
 * `arr`; a value equal to an existing one updates it instead, so repeating an
 * add is harmless. *last: the last element touched, for the primary rule. */
static int merge_values(const s2l_attr_def *def, json_t *arr, json_t *add, json_t **last)
{
    size_t i, j;
    json_t *nv, *ov;
    s2l_value_index *ix = NULL;
    int rc = -1;

    if (json_array_size(arr) * json_array_size(add) > SCAN_PAIRS && (ix = s2l_value_index_create(def, arr)) == NULL)
        return -1;
    json_array_foreach(add, i, nv) {
        json_t *hit = NULL;
        if (ix != NULL) {
            hit = s2l_value_index_find(ix, nv);
        } else {
            json_array_foreach(arr, j, ov) {
                if (s2l_res_value_equal(def, ov, nv)) {
                    hit = ov;
                    break;
                }
            }
        }
        if (hit != NULL) {
            if (merge_into(def, hit, nv) != 0)
                goto out;
            *last = hit;
        } else {
            if (json_array_append(arr, nv) != 0 || (ix && s2l_value_index_add(ix, json_array_size(arr) - 1) != 0))
                goto out;
            *last = nv;
        }
    }
    rc = 0;
out:
    s2l_value_index_destroy(ix);
    return rc;
}

/* Removes from `cur` every value equal to one of `gone` (keeping the order of
 * the rest). -1 on allocation failure. */
static int remove_values(const s2l_attr_def *def, json_t *cur, const json_t *gone)
{
    if (json_array_size(cur) * json_array_size(gone) <= SCAN_PAIRS) {
        for (size_t i = json_array_size(cur); i-- > 0;) {
            for (size_t j = 0; j < json_array_size(gone); j++) {
                if (s2l_res_value_equal(def, json_array_get(cur, i), json_array_get(gone, j))) {
                    json_array_remove(cur, i);
                    break;
                }
            }
        }
        return 0;
    }
    s2l_value_index *ix = s2l_value_index_create(def, gone);
    json_t *kept = json_array();
    int rc = -1;
    if (ix == NULL || kept == NULL)
        goto out;
    for (size_t i = 0; i < json_array_size(cur); i++) {
        json_t *v = json_array_get(cur, i);
        if (s2l_value_index_find(ix, v) == NULL && json_array_append(kept, v) != 0)
            goto out;
    }
    rc = json_array_clear(cur) == 0 && json_array_extend(cur, kept) == 0 ? 0 : -1;
out:
    s2l_value_index_destroy(ix);
    json_decref(kept);
    return rc;
}

/* Immutable attributes (RFC 7643 §2.2) may be set once, never changed. */
static int check_immutable(s2l_patch_ctx *c, const s2l_attr_def *def, const json_t *cur, const json_t *nv)
{
    if (def->mutability != S2L_MUT_IMMUTABLE || cur == NULL)
        return 0;
    if (nv != NULL && s2l_res_value_equal(def, cur, nv))
        return 0;
    if (nv != NULL && def->multi_valued && json_is_array(cur) && json_is_array(nv) &&
        json_array_size(cur) == json_array_size(nv)) {
        bool all = true;
        for (size_t i = 0; all && i < json_array_size(nv); i++)
            all = s2l_res_value_equal(def, json_array_get(cur, i), json_array_get(nv, i));
        if (all)
            return 0;
    }
    s2l_res_error_attr(c->err, S2L_SCIM_MUTABILITY, def, "cannot change immutable attribute");
    return -1;
}

/* add/replace/remove of a whole top-level attribute ("emails", "name", "manager"). */
static int op_whole(s2l_patch_ctx *c, s2l_patch_op op, const target *t, const json_t *value)
{
    json_t *cont = s2l_res_container(c->resource, c->rt, t->schema, op != S2L_PATCH_REMOVE);
    json_t *cur = s2l_json_get_ci(cont, t->def->name);
    json_t *v = NULL;
    json_t *last = NULL;
    int rc = -1;

    if (cont == NULL && op != S2L_PATCH_REMOVE)
        return nomem(c);
    if (op == S2L_PATCH_REMOVE) {
        if (value != NULL && !json_is_null(value) && t->def->multi_valued) {
            /* Only the listed values go (Entra removes one member/email this way). */
            if (coerce(c, t->def, value, false, &v) != 0)
                goto out;
            if (v != NULL && json_is_array(cur) && remove_values(t->def, cur, v) != 0) {
                rc = nomem(c);
                goto out;
            }
            if (cur == NULL || json_array_size(cur) > 0) {
                rc = 0;
                goto out;
            }
        }
        if (check_immutable(c, t->def, cur, NULL) != 0)
            goto out;
        rc = drop_attr(c, cont, t->schema, t->def);
        goto out;
    }
    if (coerce(c, t->def, value, false, &v) != 0)
        goto out;
    if (v == NULL) {
        /* Null / [] / "" for a reference: RFC 7643 §2.5 treats it as unassigned.
         * Adding nothing to a multi-valued attribute changes nothing. */
        rc = op == S2L_PATCH_ADD && t->def->multi_valued ? 0 : drop_attr(c, cont, t->schema, t->def);
        goto out;
    }
    if (t->def->multi_valued) {
        if (op == S2L_PATCH_ADD && json_is_array(cur)) {
            /* An immutable list may only gain values while it is empty. */
            if (check_immutable(c, t->def, json_array_size(cur) ? cur : NULL, v) != 0)
                goto out;
            if (merge_values(t->def, cur, v, &last) != 0) {
                rc = nomem(c);
                goto out;
            }
            s2l_res_fix_primary(t->def, cur, last);
            rc = 0;
            goto out;
        }
    } else if (t->def->type == S2L_T_COMPLEX && json_is_object(cur)) {
        /* RFC 7644 §3.5.2.3: sub-attributes not given are left unchanged. */
        json_t *merged = json_deep_copy(cur);
        if (merged == NULL || json_object_update(merged, v) != 0) {
            json_decref(merged);
            rc = nomem(c);
            goto out;
        }
        json_decref(v);
        v = merged;
    }
    if (check_immutable(c, t->def, cur, v) != 0)
        goto out;
    rc = s2l_res_set_ci(cont, t->def->name, v) == 0 ? 0 : nomem(c);
    v = NULL;
out:
    json_decref(v);
    return rc;
}

/* "name.givenName", "manager.value": one sub-attribute of a single-valued complex attribute. */
static int op_sub_single(s2l_patch_ctx *c, s2l_patch_op op, const target *t, const json_t *value)
{
    json_t *cont = s2l_res_container(c->resource, c->rt, t->schema, op != S2L_PATCH_REMOVE);
    json_t *obj = s2l_json_get_ci(cont, t->def->name);
    json_t *v = NULL;

    if (op != S2L_PATCH_REMOVE && coerce(c, t->sub, value, false, &v) != 0)
        return -1;
    if (v != NULL) {
        if (cont == NULL)
            goto fail_nomem;
        if (!json_is_object(obj)) {
            obj = json_object();
            if (obj == NULL || s2l_res_set_ci(cont, t->def->name, obj) != 0)
                goto fail_nomem;
        }
        if (s2l_res_set_ci(obj, t->sub->name, v) != 0)
            return nomem(c);
    } else if (json_is_object(obj)) {
        s2l_res_del_ci(obj, t->sub->name);
    }
    if (obj != NULL && s2l_res_complex_is_void(t->def, obj))
        return drop_attr(c, cont, t->schema, t->def);
    return 0;
fail_nomem:
    json_decref(v);
    return nomem(c);
}

/* Sets (v != NULL) or removes sub in each element of arr selected by filter
 * (all when filter is NULL); elements left empty are dropped. *n_hit counts
 * the selected elements, *last is the first one set. */
static int set_sub_in(s2l_patch_ctx *c, const target *t, json_t *arr, const json_t *v, size_t *n_hit,
                      json_t **last)
{
    *n_hit = 0;
    for (size_t i = json_array_size(arr); i-- > 0;) {
        json_t *el = json_array_get(arr, i);
        if (t->filter != NULL && !s2l_filter_match(t->filter, el, c->rt, t->def))
            continue;
        if (!json_is_object(el))
            continue;
        (*n_hit)++;
        if (v != NULL) {
            if (s2l_res_set_ci(el, t->sub->name, json_incref((json_t *)v)) != 0)
                return nomem(c);
            *last = el;  /* walking backwards: ends at the first one, which keeps primary */
        } else {
            s2l_res_del_ci(el, t->sub->name);
            if (json_object_size(el) == 0)
                json_array_remove(arr, i);
        }
    }
    return 0;
}

/* Collects the comparisons of a filter made only of `sub eq value` joined by
 * "and" into obj; false when the filter has any other shape. */
static bool eq_and_only(const s2l_filter *f, const s2l_attr_def *def, json_t *obj)
{
    if (f == NULL)
        return false;
    if (f->kind == S2L_F_AND)
        return eq_and_only(f->left, def, obj) && eq_and_only(f->right, def, obj);
    if (f->kind != S2L_F_CMP || f->op != S2L_OP_EQ || f->path.sub != NULL || f->value == NULL)
        return false;
    if (f->path.urn != NULL && !s2l_schema_is(def->schema, f->path.urn))
        return false;
    const s2l_attr_def *sub = s2l_attr_find_sub(def, f->path.attr);
    if (sub == NULL || sub->type == S2L_T_COMPLEX)
        return false;
    return json_object_set(obj, sub->name, f->value) == 0;
}

/* Creates the value that a filtered add/replace addressed but did not find. */
static int create_filtered(s2l_patch_ctx *c, const target *t, json_t *cont, const json_t *v)
{
    json_t *seed = json_object();
    json_t *el = NULL;
    json_t *arr;
    int rc = -1;

    if (seed == NULL)
        return nomem(c);
    if (!eq_and_only(t->filter, t->def, seed)) {
        s2l_res_error_attr(c->err, S2L_SCIM_NO_TARGET, t->def, "no value matches the filter on");
        goto out;
    }
    if (t->sub != NULL ? json_object_set(seed, t->sub->name, (json_t *)v) != 0
                       : json_object_update(seed, (json_t *)v) != 0) {
        rc = nomem(c);
        goto out;
    }
    /* The filter literals become values: check them like any other input. */
    if (coerce(c, t->def, seed, true, &el) != 0)
        goto out;
    if (el == NULL) {
        rc = 0;
        goto out;
    }
    arr = s2l_json_get_ci(cont, t->def->name);
    if (!json_is_array(arr)) {
        arr = json_array();
        if (arr == NULL || s2l_res_set_ci(cont, t->def->name, arr) != 0) {
            rc = nomem(c);
            goto out;
        }
    }
    if (json_array_append(arr, el) != 0) {
        rc = nomem(c);
        goto out;
    }
    s2l_res_fix_primary(t->def, arr, el);
    rc = 0;
out:
    json_decref(seed);
    json_decref(el);
    return rc;
}

/* Value filters and "emails.value" on a multi-valued complex attribute. */
static int op_multi_select(s2l_patch_ctx *c, s2l_patch_op op, const target *t, const json_t *value)
{
    json_t *cont = s2l_res_container(c->resource, c->rt, t->schema, op != S2L_PATCH_REMOVE);
    json_t *arr = s2l_json_get_ci(cont, t->def->name);
    json_t *v = NULL;
    json_t *last = NULL;
    size_t n_hit = 0;
    int rc = -1;

    if (op != S2L_PATCH_REMOVE) {
        if (cont == NULL)
            return nomem(c);
        if (coerce(c, t->sub ? t->sub : t->def, value, t->sub == NULL, &v) != 0)
            return -1;
    }
    if (t->sub != NULL) {
        if (set_sub_in(c, t, arr, v, &n_hit, &last) != 0)
            goto out;
    } else {
        for (size_t i = json_array_size(arr); i-- > 0;) {
            json_t *el = json_array_get(arr, i);
            if (!s2l_filter_match(t->filter, el, c->rt, t->def))
                continue;
            n_hit++;
            if (v == NULL) {
                json_array_remove(arr, i);
            } else if (!json_is_object(el) || json_object_update(el, v) != 0) {
                rc = nomem(c);
                goto out;
            } else {
                last = el;
            }
        }
    }
    if (n_hit == 0 && v != NULL) {
        if (t->filter != NULL) {
            rc = create_filtered(c, t, cont, v);
            goto out;
        }
        /* "emails.value" with no emails yet: the first value. */
        target all = *t;
        json_t *el = json_pack("{s:O}", t->sub->name, v);
        json_t *one = json_pack("[o]", el);
        all.sub = NULL;
        rc = one == NULL ? nomem(c) : op_whole(c, S2L_PATCH_ADD, &all, one);
        json_decref(one);
        goto out;
    }
    if (json_is_array(arr)) {
        s2l_res_fix_primary(t->def, arr, last);
        if (json_array_size(arr) == 0 && drop_attr(c, cont, t->schema, t->def) != 0)
            goto out;
    }
    rc = 0;
out:
    json_decref(v);
    return rc;
}

/* ---- content outside the view (policies) ---- */

/* The object holding attributes of the schema with URN `urn` (NULL or the
 * core URN: the resource itself), created when `create` is set. */
static json_t *raw_container(s2l_patch_ctx *c, const char *urn, bool create)
{
    json_t *cont;

    if (urn == NULL || s2l_schema_is(c->rt->core, urn))
        return c->resource;
    cont = s2l_json_get_ci(c->resource, urn);
    if (json_is_object(cont) || !create)
        return json_is_object(cont) ? cont : NULL;
    cont = json_object();
    if (cont == NULL || s2l_res_set_ci(c->resource, urn, cont) != 0)
        return NULL;
    return cont;
}

/* Applies op to cont[key] (or cont[key][sub]) as sent: what KEEP means for
 * attributes the mapping stores as they come. An unassigned value clears. */
static int raw_apply(s2l_patch_ctx *c, s2l_patch_op op, json_t *cont, const char *key, const char *sub,
                     const json_t *value)
{
    json_t *cur;

    if (cont == NULL)
        return op == S2L_PATCH_REMOVE || s2l_res_is_unassigned(value) ? 0 : nomem(c);
    if (sub != NULL) {
        json_t *obj = s2l_json_get_ci(cont, key);
        if (!json_is_object(obj)) {
            if (op == S2L_PATCH_REMOVE || s2l_res_is_unassigned(value))
                return 0;
            obj = json_object();
            if (obj == NULL || s2l_res_set_ci(cont, key, obj) != 0)
                return nomem(c);
        }
        int rc = raw_apply(c, op, obj, sub, NULL, value);
        if (rc == 0 && json_object_size(obj) == 0)
            s2l_res_del_ci(cont, key);
        return rc;
    }
    if (op == S2L_PATCH_REMOVE || s2l_res_is_unassigned(value)) {
        if (op != S2L_PATCH_ADD)
            s2l_res_del_ci(cont, key);
        return 0;
    }
    cur = s2l_json_get_ci(cont, key);
    if (op == S2L_PATCH_ADD && json_is_array(cur)) {
        json_t *more = json_is_array(value) ? json_deep_copy(value) : json_pack("[O]", value);
        if (more == NULL || json_array_extend(cur, more) != 0) {
            json_decref(more);
            return nomem(c);
        }
        json_decref(more);
        return 0;
    }
    if (s2l_res_set_ci(cont, key, json_deep_copy(value)) != 0)
        return nomem(c);
    return 0;
}

/* The definition in the full schemas of attribute attr (in schema urn, or
 * any), with the schema it lives in; NULL when unknown. */
static const s2l_attr_def *full_find(const s2l_patch_ctx *c, const char *urn, const char *attr,
                                     const s2l_schema **schema)
{
    *schema = NULL;
    if (c->pol.full == NULL)
        return NULL;
    return s2l_rtype_find(c->pol.full, urn, attr, NULL, schema);
}

/* A key of a path-less value that the view does not know. */
static int op_key_unknown(s2l_patch_ctx *c, s2l_patch_op op, const s2l_schema *within, const char *key,
                          const json_t *value)
{
    const char *urn = within != NULL && within != c->rt->core ? within->id : NULL;
    const s2l_schema *fs = NULL;
    const s2l_attr_def *fd;
    char path[512];
    s2l_attr_policy p;
    const char *dot = strchr(key, '.');
    char attr[256];

    if (s2l_res_is_unassigned(value)) {
        /* replace with null says "unassigned": a kept value goes */
        if (op == S2L_PATCH_REPLACE && urn == NULL && strncasecmp(key, "urn:", 4) != 0)
            s2l_res_del_ci(c->resource, key);
        return 0;
    }
    if (urn != NULL)
        snprintf(path, sizeof path, "%s:%s", urn, key);
    else
        snprintf(path, sizeof path, "%s", key);
    if (urn == NULL && strncasecmp(key, "urn:", 4) == 0 && json_is_object(value)) {
        p = s2l_res_pol_schema(&c->pol, key, c->err);
        if (!c->pol.schemas_strict)
            p = s2l_res_pol_apply(&c->pol, false, path, c->err);
        if (p != S2L_POLICY_KEEP)
            return p == S2L_POLICY_REJECT ? -1 : 0;
        return raw_apply(c, op, c->resource, key, NULL, value);
    }
    snprintf(attr, sizeof attr, "%.*s", dot ? (int)(dot - key) : (int)strlen(key), key);
    fd = full_find(c, urn, attr, &fs);
    if (fd != NULL && dot != NULL && s2l_attr_find_sub(fd, dot + 1) == NULL)
        fd = NULL;
    p = s2l_res_pol_apply(&c->pol, fd != NULL, path, c->err);
    if (p != S2L_POLICY_KEEP)
        return p == S2L_POLICY_REJECT ? -1 : 0;
    if (fd != NULL) {
        const s2l_attr_def *fsub = dot ? s2l_attr_find_sub(fd, dot + 1) : NULL;
        return raw_apply(c, op, raw_container(c, fs ? fs->id : NULL, true), fd->name, fsub ? fsub->name : NULL,
                         value);
    }
    char uurn[400];
    const char *uattr;
    if (urn == NULL && !json_is_object(value) && s2l_res_split_urn_key(key, uurn, sizeof uurn, &uattr))
        return raw_apply(c, op, raw_container(c, uurn, true), uattr, NULL, value);
    return raw_apply(c, op, raw_container(c, urn, true), key, NULL, value);
}

static int op_value(s2l_patch_ctx *c, s2l_patch_op op, const s2l_schema *within, const json_t *value);

static int apply_target(s2l_patch_ctx *c, s2l_patch_op op, const s2l_schema *schema, const s2l_attr_def *def,
                        const s2l_attr_def *sub, const s2l_filter *filter, const json_t *value)
{
    target t = {schema, def, sub, filter};

    if (filter != NULL || (sub != NULL && def->multi_valued))
        return op_multi_select(c, op, &t, value);
    if (sub != NULL)
        return op_sub_single(c, op, &t, value);
    return op_whole(c, op, &t, value);
}

/* One key of a path-less add/replace value (or of a URN-keyed object in it). */
static int op_key(s2l_patch_ctx *c, s2l_patch_op op, const s2l_schema *within, const char *key,
                  const json_t *value)
{
    s2l_res_ref ref;

    if (within == NULL && strcasecmp(key, "schemas") == 0)
        return 0;
    switch (s2l_res_resolve(c->rt, within, key, &ref)) {
    case S2L_RES_SCHEMA:
        return op_value(c, op, ref.schema, value);
    case S2L_RES_ATTR:
        break;
    case S2L_RES_UNKNOWN:
    default:
        return op_key_unknown(c, op, within, key, value);
    }
    /* Okta sends {"id": ..., "displayName": ...}: readOnly keys are ignored here. */
    if (ref.def->mutability == S2L_MUT_READ_ONLY || (ref.sub && ref.sub->mutability == S2L_MUT_READ_ONLY))
        return 0;
    if (s2l_patch_is_delta(c, ref.def)) {
        if (ref.sub != NULL) {
            s2l_res_error_attr(c->err, S2L_SCIM_INVALID_PATH, ref.sub, "cannot modify");
            return -1;
        }
        return s2l_patch_delta_op(c, op, ref.def, NULL, value);
    }
    return apply_target(c, op, ref.schema, ref.def, ref.sub, NULL, value);
}

/* Removing a whole extension (path = its URN): each attribute goes through drop_attr. */
static int remove_schema(s2l_patch_ctx *c, const s2l_schema *schema)
{
    json_t *cont = s2l_res_container(c->resource, c->rt, schema, false);

    if (schema == c->rt->core) {
        s2l_error_set(c->err, 400, S2L_SCIM_MUTABILITY, "the core schema cannot be removed");
        return -1;
    }
    for (size_t i = 0; cont != NULL && i < schema->n_attrs; i++) {
        const s2l_attr_def *def = &schema->attrs[i];
        if (s2l_patch_is_delta(c, def) || def->mutability == S2L_MUT_READ_ONLY)
            continue;
        if (drop_attr(c, cont, schema, def) != 0)
            return -1;
    }
    if (cont != NULL && json_object_size(cont) == 0)
        s2l_res_del_ci(c->resource, schema->id);
    return 0;
}

/* An add/replace value holding attributes: path-less (within NULL: any
 * schema, URN-qualified keys allowed) or under a schema URN. */
static int op_value(s2l_patch_ctx *c, s2l_patch_op op, const s2l_schema *within, const json_t *value)
{
    const char *k;
    json_t *v;

    if (within != NULL && within != c->rt->core && json_is_null(value))
        return op == S2L_PATCH_REPLACE ? remove_schema(c, within) : 0;
    if (!json_is_object(value)) {
        s2l_error_set(c->err, 400, S2L_SCIM_INVALID_VALUE, "expected an object of attributes%s%s",
                      within ? " for " : "", within ? within->id : "");
        return -1;
    }
    json_object_foreach((json_t *)value, k, v) {
        if (op_key(c, op, within, k, v) != 0)
            return -1;
    }
    return 0;
}

/* Resolves an explicit path; *unknown when it names something outside the
 * view (the caller applies the policies), with *urn_schema the schema of a
 * URN prefix the type knows. */
static int resolve_path(s2l_patch_ctx *c, const char *text, s2l_path **pp, target *t, bool *unknown,
                        const s2l_schema **urn_schema)
{
    const char *rest = text;
    const s2l_schema *schema = s2l_rtype_split_urn(c->rt, text, &rest);
    s2l_path *p;

    *unknown = false;
    *urn_schema = schema;
    /* The schemas are known here, so the URN is split off before parsing:
     * "urn:...:2.0:User:manager" is ambiguous to a grammar alone. */
    p = s2l_path_parse(rest, strlen(rest), c->err);
    if (p == NULL)
        return -1;
    *pp = p;
    if (p->attr.urn != NULL) {
        if (schema != NULL) {
            s2l_error_set(c->err, 400, S2L_SCIM_INVALID_PATH, "invalid path '%s'", text);
            return -1;
        }
        for (size_t i = 0; i <= c->rt->n_ext && schema == NULL; i++) {
            const s2l_schema *s = i == 0 ? c->rt->core : c->rt->ext[i - 1];
            if (s2l_schema_is(s, p->attr.urn))
                schema = s;
        }
        *urn_schema = schema;
        if (schema == NULL)
            goto unknown;
    }
    t->def = s2l_rtype_find(c->rt, schema ? schema->id : NULL, p->attr.attr, NULL, &t->schema);
    if (t->def == NULL)
        goto unknown;
    t->filter = p->filter;
    const char *subname = p->filter ? p->filter_sub : p->attr.sub;
    if (p->filter != NULL && p->attr.sub != NULL) {
        s2l_error_set(c->err, 400, S2L_SCIM_INVALID_PATH, "invalid path '%s'", text);
        return -1;
    }
    if (p->filter != NULL && !(t->def->multi_valued && t->def->type == S2L_T_COMPLEX) &&
        !s2l_patch_is_delta(c, t->def)) {
        s2l_res_error_attr(c->err, S2L_SCIM_INVALID_PATH, t->def,
                           "a value filter needs a multi-valued complex attribute, not");
        return -1;
    }
    if (subname != NULL) {
        t->sub = s2l_attr_find_sub(t->def, subname);
        if (t->sub == NULL) {
            if (s2l_patch_is_delta(c, t->def)) {
                s2l_error_set(c->err, 400, S2L_SCIM_INVALID_PATH, "unknown attribute '%s.%s' in path",
                              t->def->name, subname);
                return -1;
            }
            goto unknown;
        }
    }
    return 0;
unknown:
    *unknown = true;
    return 0;
}

/* An explicit path outside the view: the policies decide; KEEP applies the
 * operation to the raw resource (whole attribute or attr.sub, no filters). */
static int op_path_unknown(s2l_patch_ctx *c, s2l_patch_op op, const char *text, const s2l_path *p,
                           const s2l_schema *urn_schema, const json_t *value)
{
    const char *urn = urn_schema ? urn_schema->id : p->attr.urn;
    const char *subname = p->filter ? p->filter_sub : p->attr.sub;
    const s2l_schema *fs = NULL;
    const s2l_attr_def *fd = NULL;
    s2l_attr_policy pol;

    if (urn_schema != NULL || p->attr.urn == NULL)
        fd = full_find(c, urn, p->attr.attr, &fs);
    if (fd != NULL && subname != NULL && s2l_attr_find_sub(fd, subname) == NULL)
        fd = NULL;
    if (op != S2L_PATCH_REMOVE && s2l_res_is_unassigned(value)) {
        /* unassigned says nothing to keep; a value kept earlier goes */
        if (p->filter != NULL || op == S2L_PATCH_ADD)
            return 0;
        if (fd != NULL) {
            const s2l_attr_def *fsub = subname ? s2l_attr_find_sub(fd, subname) : NULL;
            return raw_apply(c, op, raw_container(c, fs ? fs->id : NULL, false), fd->name,
                             fsub ? fsub->name : NULL, value);
        }
        return raw_apply(c, op, raw_container(c, urn, false), p->attr.attr, subname, value);
    }
    if (p->attr.urn != NULL && urn_schema == NULL && c->pol.schemas_strict) {
        pol = s2l_res_pol_schema(&c->pol, p->attr.urn, c->err);
    } else {
        pol = s2l_res_pol_apply(&c->pol, fd != NULL, text, c->err);
    }
    if (pol == S2L_POLICY_REJECT) {
        c->err->scim_type = S2L_SCIM_INVALID_PATH; /* RFC 7644 §3.5.2: the path names nothing we store */
        return -1;
    }
    if (pol == S2L_POLICY_IGNORE)
        return 0;
    if (p->filter != NULL) {
        /* values kept as sent cannot be selected by a filter: nothing to do */
        s2l_notes_add(c->pol.notes, "ignored", text);
        return 0;
    }
    if (fd != NULL) {
        const s2l_attr_def *fsub = subname ? s2l_attr_find_sub(fd, subname) : NULL;
        return raw_apply(c, op, raw_container(c, fs ? fs->id : NULL, op != S2L_PATCH_REMOVE), fd->name,
                         fsub ? fsub->name : NULL, value);
    }
    return raw_apply(c, op, raw_container(c, urn, op != S2L_PATCH_REMOVE), p->attr.attr, subname, value);
}

static int op_path(s2l_patch_ctx *c, s2l_patch_op op, const char *text, const json_t *value)
{
    s2l_res_ref ref;
    s2l_path *p = NULL;
    target t = {0};
    bool unknown = false;
    const s2l_schema *urn_schema = NULL;
    int rc = -1;

    /* A bare extension URN as path addresses the extension as a whole. */
    if (s2l_res_resolve(c->rt, NULL, text, &ref) == S2L_RES_SCHEMA)
        return op == S2L_PATCH_REMOVE ? remove_schema(c, ref.schema) : op_value(c, op, ref.schema, value);
    if (resolve_path(c, text, &p, &t, &unknown, &urn_schema) != 0)
        goto out;
    if (unknown) {
        rc = op_path_unknown(c, op, text, p, urn_schema, value);
        goto out;
    }
    if (s2l_patch_is_delta(c, t.def)) {
        rc = s2l_patch_delta_op(c, op, t.def, p, value);
        goto out;
    }
    if (t.def->mutability == S2L_MUT_READ_ONLY || (t.sub && t.sub->mutability == S2L_MUT_READ_ONLY)) {
        s2l_res_error_attr(c->err, S2L_SCIM_MUTABILITY, t.sub ? t.sub : t.def, "cannot modify readOnly attribute");
        goto out;
    }
    rc = apply_target(c, op, t.schema, t.def, t.sub, t.filter, value);
out:
    s2l_path_destroy(p);
    return rc;
}

static int parse_op(s2l_patch_ctx *c, const json_t *o, s2l_patch_op *op, const char **path, const json_t **value)
{
    const json_t *jop = s2l_json_get_ci(o, "op");
    const json_t *jpath = s2l_json_get_ci(o, "path");
    const char *name;

    if (!json_is_object(o)) {
        s2l_error_set(c->err, 400, S2L_SCIM_INVALID_SYNTAX, "an operation must be an object");
        return -1;
    }
    if (!json_is_string(jop)) {
        s2l_error_set(c->err, 400, S2L_SCIM_INVALID_SYNTAX, "missing \"op\"");
        return -1;
    }
    name = json_string_value(jop);
    /* Entra capitalises op names (Add/Replace/Remove). */
    if (strcasecmp(name, "add") == 0)
        *op = S2L_PATCH_ADD;
    else if (strcasecmp(name, "replace") == 0)
        *op = S2L_PATCH_REPLACE;
    else if (strcasecmp(name, "remove") == 0)
        *op = S2L_PATCH_REMOVE;
    else {
        s2l_error_set(c->err, 400, S2L_SCIM_INVALID_SYNTAX, "unknown op \"%s\"", name);
        return -1;
    }
    if (jpath != NULL && !json_is_null(jpath) && !json_is_string(jpath)) {
        s2l_error_set(c->err, 400, S2L_SCIM_INVALID_PATH, "\"path\" must be a string");
        return -1;
    }
    *path = json_is_string(jpath) && json_string_length(jpath) > 0 ? json_string_value(jpath) : NULL;
    *value = s2l_json_get_ci(o, "value");
    if (*op != S2L_PATCH_REMOVE && *value == NULL) {
        s2l_error_set(c->err, 400, S2L_SCIM_INVALID_SYNTAX, "\"%s\" needs a \"value\"", name);
        return -1;
    }
    if (*op == S2L_PATCH_REMOVE && *path == NULL) {
        s2l_error_set(c->err, 400, S2L_SCIM_NO_TARGET, "\"remove\" needs a \"path\"");
        return -1;
    }
    return 0;
}

static int check_envelope(const json_t *req, unsigned max_ops, const json_t **ops, s2l_error *err)
{
    const json_t *schemas;
    size_t i;
    json_t *s;
    bool found = false;

    if (!json_is_object(req)) {
        s2l_error_set(err, 400, S2L_SCIM_INVALID_SYNTAX, "the request body must be a JSON object");
        return -1;
    }
    schemas = s2l_json_get_ci(req, "schemas");
    if (schemas != NULL) {
        json_array_foreach(schemas, i, s) {
            if (json_is_string(s) && strcasecmp(json_string_value(s), S2L_URN_PATCH) == 0)
                found = true;
        }
        if (!found) {
            s2l_error_set(err, 400, S2L_SCIM_INVALID_SYNTAX, "\"schemas\" must contain %s", S2L_URN_PATCH);
            return -1;
        }
    }
    *ops = s2l_json_get_ci(req, "Operations");
    if (!json_is_array(*ops) || json_array_size(*ops) == 0) {
        s2l_error_set(err, 400, S2L_SCIM_INVALID_SYNTAX, "\"Operations\" must be a non-empty array");
        return -1;
    }
    if (json_array_size(*ops) > max_ops) {
        s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "too many operations (%zu, at most %u)",
                      json_array_size(*ops), max_ops);
        return -1;
    }
    return 0;
}

int s2l_patch_apply(const s2l_resource_type *rt, json_t *resource, const json_t *patch_request,
                    const s2l_patch_opts *opts, json_t **deltas, s2l_error *err)
{
    s2l_error scratch;
    s2l_patch_ctx c = {.rt = rt, .resource = resource, .err = err ? err : &scratch};
    unsigned max_ops = opts && opts->max_operations ? opts->max_operations : DEFAULT_MAX_OPERATIONS;
    const json_t *ops;
    size_t i;
    json_t *o;
    int rc = -1;

    if (deltas != NULL)
        *deltas = NULL;
    c.delta_names = opts ? opts->delta_attrs : NULL;
    s2l_res_pol_init(&c.pol, opts && opts->ignore_unknown, opts ? opts->policies : NULL, opts ? opts->notes : NULL);
    if (rt == NULL || rt->core == NULL || !json_is_object(resource)) {
        s2l_error_set(c.err, 500, NULL, "no resource to patch");
        goto out;
    }
    if (s2l_json_check(patch_request, rt->json_limits, c.err) < 0)
        goto out;
    if (check_envelope(patch_request, max_ops, &ops, c.err) != 0)
        goto out;
    json_array_foreach(ops, i, o) {
        s2l_patch_op op;
        const char *path;
        const json_t *value;
        int orc = parse_op(&c, o, &op, &path, &value);
        if (orc == 0)
            orc = path ? op_path(&c, op, path, value) : op_value(&c, op, NULL, value);
        if (orc != 0) {
            char detail[S2L_ERROR_DETAIL_MAX];
            memcpy(detail, c.err->detail, sizeof detail);
            s2l_error_set(c.err, c.err->status, c.err->scim_type, "Operations[%zu]: %s", i, detail);
            goto out;
        }
    }
    /* An extension whose last attribute went is not kept as an empty object. */
    for (size_t e = 0; e < rt->n_ext; e++) {
        json_t *cont = s2l_res_container(resource, rt, rt->ext[e], false);
        if (cont != NULL && json_object_size(cont) == 0)
            s2l_res_del_ci(resource, rt->ext[e]->id);
    }
    if (deltas != NULL && s2l_patch_deltas_json(&c, deltas) != 0) {
        s2l_error_set(c.err, 500, NULL, "out of memory");
        goto out;
    }
    rc = 0;
out:
    s2l_patch_ctx_fini(&c);
    return rc;
}
