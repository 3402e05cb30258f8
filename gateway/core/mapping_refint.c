/* mapping_refint.c — which references to fix when an entry is renamed or
 * deleted and the directory does not do it (see mapping.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mapping_internal.h"

bool s2l_mapping_refint_by_gateway(const s2l_mapping *m)
{
    return m->refint_by_gateway;
}

static bool refers_to(const s2l_mentry *me, const s2l_rmap *target)
{
    if (me->kind != S2L_ME_REFERENCE || me->read_only || me->virtual_attr || me->ldap == NULL)
        return false;
    for (size_t i = 0; i < me->n_ref_types; i++)
        if (strcasecmp(me->ref_types[i], target->name) == 0)
            return true;
    return false;
}

/* The value a reference holds for dn: the DN itself, or its RDN value. */
static char *ref_value(const s2l_mentry *me, const char *dn)
{
    if (dn == NULL)
        return NULL;
    if (!me->ref_rdn)
        return strdup(dn);
    char *attr = NULL, *val = NULL;
    if (s2l_dn_first_rdn(dn, &attr, &val, NULL) < 0)
        return NULL;
    free(attr);
    return val;
}

static json_t *fixup(const s2l_rmap *holder, const s2l_mentry *me, const char *old_dn, const char *new_dn)
{
    char *oldv = ref_value(me, old_dn);
    char *newv = new_dn ? ref_value(me, new_dn) : NULL;
    char *f = oldv ? s2l_ldap_and_eq_filter(holder->object_filter, me->ldap, oldv) : NULL;
    json_t *out = NULL;
    if (f == NULL || (new_dn && newv == NULL))
        goto done;
    out = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s?}", "base", holder->base_dn, "scope",
                    s2l_ldap_scope(holder->info.scope), "filter", f, "attr", me->ldap, "old", oldv, "new", newv);
    if (out && me->has_placeholder)
        json_object_set_new(out, "placeholder", json_string(me->placeholder));
done:
    free(oldv);
    free(newv);
    free(f);
    return out;
}

json_t *s2l_mapping_reference_fixups(const s2l_mapping *m, const s2l_rmap *target, const char *old_dn,
                                     const char *new_dn)
{
    json_t *out = json_array();
    for (size_t r = 0; out && r < m->n_rmaps; r++) {
        const s2l_rmap *holder = &m->rmaps[r];
        for (size_t i = 0; i < holder->n_entries; i++) {
            const s2l_mentry *me = &holder->entries[i];
            if (!refers_to(me, target))
                continue;
            /* An RDN-valued reference only changes when the RDN value does. */
            json_t *f = fixup(holder, me, old_dn, new_dn);
            if (f == NULL) {
                json_decref(out);
                return NULL;
            }
            const char *nv = json_string_value(json_object_get(f, "new"));
            if (nv && strcmp(nv, json_string_value(json_object_get(f, "old"))) == 0) {
                json_decref(f);
                continue;
            }
            json_array_append_new(out, f);
        }
    }
    return out;
}
