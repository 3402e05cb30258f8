/* put_direct.c — PUT requests written as one modify on the cached DN
 * (s2l/put_direct.h says which and why).
 *
 * The LDAP values are the mapping's own rendering of the body, the same
 * s2l_map_ldap_attrs_noted call the reading path plans with; only the
 * comparison with the stored entry is left out, so every written attribute
 * is replaced (s2l_map_replace_all_mods) and `active` comes from the same
 * deprovision planner, without the entry (which it needs only for flags and
 * moves, refused here).
 */
#include "s2l/put_direct.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping_internal.h"
#include "s2l/ldap_text.h"

void s2l_put_direct_fini(s2l_put_direct *d)
{
    if (d == NULL)
        return;
    json_decref(d->mods);
    free(d->requires);
    d->mods = NULL;
    d->requires = NULL;
}

/* Why the type or the body rules the direct path out before rendering, or
 * NULL; *refs: the body names other resources. */
static const char *static_why_not(const s2l_rmap *rm, const json_t *new_resource, bool *has_refs, int *rc)
{
    const char *const *delta = s2l_rmap_delta_attrs(rm);
    if (delta && delta[0])
        return "a type with member lists (PUT replaces them as a set)";
    for (size_t i = 0; i < rm->n_entries; i++)
        if (rm->entries[i].by_policy && (rm->dp_inactive.n_set > 0 || rm->dp_inactive.move_to != NULL))
            return "active under a policy that sets flags or moves";
    json_t *refs = s2l_rmap_ref_ids(rm, new_resource);
    if (refs == NULL) {
        *rc = -1;
        return "out of memory";
    }
    *has_refs = json_array_size(refs) > 0;
    json_decref(refs);
    return NULL;
}

/* Whether the body's name is the cached DN's first RDN, as the directory wrote it. */
static int same_name(const s2l_rmap *rm, const json_t *new_resource, const char *dn)
{
    s2l_error err;
    s2l_error_clear(&err);
    char *rdn_new = s2l_map_rdn(rm, new_resource, NULL, &err);
    if (rdn_new == NULL)
        return err.status == 500 ? -1 : 0;
    char *rdn_old = s2l_dn_rdn(dn);
    int same = rdn_old == NULL ? -1 : strcmp(rdn_old, rdn_new) == 0;
    free(rdn_new);
    free(rdn_old);
    return same;
}

/* What the plan assumes of the stored entry, as a filter: no kept items
 * (the reading path would delete them), and for every value the deprovision
 * planner deletes without knowing it is there (the lock value when `active`
 * is true: an IdP's PUT always says so, and most accounts are not locked)
 * that it is not there — those deletes leave mods, so a modify on an
 * unlocked account does not fail on an absent value; a locked one fails the
 * assertion and takes the reading path, which unlocks it. The filters one
 * after the other, to be AND-ed with the assertion (malloc'd; "" when
 * nothing is assumed), NULL on allocation failure. */
static char *take_requires(const s2l_rmap *rm, json_t *mods)
{
    s2l_buf b = {0};
    if (rm->keep_attr != NULL) {
        s2l_buf_adds(&b, "(!(");
        s2l_buf_adds(&b, rm->keep_attr);
        s2l_buf_adds(&b, "=*))");
    }
    for (size_t m = json_array_size(mods); m-- > 0;) {
        json_t *mod = json_array_get(mods, m);
        const json_t *vals = json_object_get(mod, "values");
        if (strcmp(json_string_value(json_object_get(mod, "op")), "delete") != 0 || json_array_size(vals) == 0)
            continue;
        const char *attr = json_string_value(json_object_get(mod, "attr"));
        size_t i;
        const json_t *v;
        json_array_foreach(vals, i, v) {
            s2l_buf_adds(&b, "(!");
            s2l_buf_add_eq(&b, attr, json_string_value(v));
            s2l_buf_adds(&b, ")");
        }
        json_array_remove(mods, m);
    }
    return s2l_buf_take(&b);
}

int s2l_put_plan_direct(const s2l_rmap *rm, const json_t *new_resource, const char *dn, const json_t *ids,
                        s2l_put_direct *out)
{
    *out = (s2l_put_direct){0};
    int rc = 0;
    bool has_refs = false;
    if (rm == NULL || !json_is_object(new_resource) || dn == NULL) {
        out->why_not = "no resource";
        return 0;
    }
    if ((out->why_not = static_why_not(rm, new_resource, &has_refs, &rc)) != NULL)
        return rc;
    int same = same_name(rm, new_resource, dn);
    if (same <= 0) {
        out->why_not = same < 0 ? "out of memory" : "a new name (a rename) or a name that does not map";
        return same;
    }
    if (has_refs && ids == NULL) {
        out->why_not = "references to other resources, not looked up yet";
        out->needs_ids = true;
        return 0;
    }

    s2l_error err;
    s2l_error_clear(&err);
    json_t *notes = json_object(), *mods = json_array(), *attrs = NULL;
    rc = -1;
    if (notes == NULL || mods == NULL)
        goto out;
    attrs = s2l_map_ldap_attrs_noted(rm, new_resource, ids, false, notes, &err);
    if (attrs == NULL) {
        out->why_not = "the values do not map (the reading path answers)";
        rc = err.status == 500 ? -1 : 0;
        goto out;
    }
    /* the reading path reports what policies did (a manager id that is not
     * there, kept); it is rare enough to leave to it */
    if (json_object_size(notes) > 0) {
        out->why_not = "a policy skipped or kept part of the body";
        rc = 0;
        goto out;
    }
    if (rm->keep_attr != NULL && json_array_size(s2l_map_get_ci(attrs, rm->keep_attr)) > 0) {
        out->why_not = "values the keep attribute holds (unknown or unmapped attributes)";
        rc = 0;
        goto out;
    }
    if (s2l_map_replace_all_mods(rm, attrs, new_resource, mods) < 0)
        goto out;
    const char *sup = NULL;
    s2l_error_clear(&err);
    if (s2l_dp_plan_active(rm, NULL, new_resource, mods, &sup, &err) < 0 || sup != NULL) {
        out->why_not = "active under this policy needs the entry";
        rc = err.status == 500 ? -1 : 0;
        goto out;
    }
    if ((out->requires = take_requires(rm, mods)) == NULL)
        goto out;
    out->mods = mods;
    mods = NULL;
    rc = 1;
out:
    if (rc < 0)
        out->why_not = "out of memory";
    json_decref(notes);
    json_decref(mods);
    json_decref(attrs);
    return rc;
}
