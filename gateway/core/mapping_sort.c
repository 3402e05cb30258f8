/* mapping_sort.c — which LDAP sort key a SCIM sortBy means (RFC 7644
 * §3.4.2.3 → RFC 2891).
 *
 * A sortBy names a SCIM attribute; the directory sorts by the LDAP attribute
 * it is mapped to, with the ordering rule the mapping names for that LDAP
 * attribute (ldap.ordering_rules) or, without one, the attribute's own ORDERING
 * rule in the directory's schema. Only what LDAP can order is accepted:
 *
 *   - single-valued attributes and sub-attributes (userName, name.familyName,
 *     an extension's employeeNumber), id, externalId, meta.created,
 *     meta.lastModified;
 *   - multi-valued attributes (emails, emails.value, addresses.locality): RFC
 *     7644 sorts by the primary value. LDAP cannot pick "the value shown as
 *     primary" out of a multi-valued attribute, so the key is the LDAP
 *     attribute of the mapping entry marked primary (else the first entry of
 *     that attribute): emails → mail; where it holds several values the
 *     directory uses the least one (RFC 2891 §2.2), and values of other types
 *     (home emails) do not take part;
 *   - not: complex attributes without a sub-attribute (name), references
 *     (manager, members, groups: DNs have no useful order), booleans, binary
 *     and write-only attributes, attributes the mapping does not map.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mapping_internal.h"

static const char *not_sortable(s2l_error *err, const char *sort_by, const char *why)
{
    s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "sortBy \"%s\": %s", sort_by, why);
    return NULL;
}

/* The LDAP attribute of a multi-valued entry's values, or of one of its
 * sub-attributes (sub NULL or "value": the values themselves). */
static const char *multi_attr(const s2l_mentry *me, const char *sub)
{
    if (me->n_subs == 0)
        return sub == NULL || strcasecmp(sub, "value") == 0 ? me->ldap : NULL;
    for (size_t i = 0; sub && i < me->n_subs; i++)
        if (strcasecmp(me->subs[i].scim, sub) == 0)
            return me->subs[i].ldap;
    return NULL;
}

/* The LDAP attribute sortBy means (borrowed from rm), or NULL + *err. */
static const char *sort_ldap_attr(const s2l_rmap *rm, const char *sort_by, s2l_error *err)
{
    s2l_error perr;
    s2l_error_clear(&perr);
    s2l_path *p = s2l_path_parse(sort_by, strlen(sort_by), &perr);
    if (p == NULL)
        return not_sortable(err, sort_by, "not an attribute name");
    const char *attr = NULL, *why = "attribute not mapped";
    const s2l_schema *view = NULL;
    const char *sub = p->attr.sub;
    const s2l_attr_def *top = p->filter ? NULL : s2l_rtype_find(&rm->rt, p->attr.urn, p->attr.attr, NULL, &view);
    if (p->filter) {
        why = "takes an attribute, not a filter";
        goto out;
    }
    if (top == NULL || (sub && s2l_attr_find_sub(top, sub) == NULL))
        goto out;
    if (s2l_attr_is_common(top) && strcmp(top->name, "id") == 0) {
        attr = sub ? NULL : rm->id_attr;
        goto out;
    }
    if (s2l_attr_is_common(top) && strcmp(top->name, "meta") == 0) {
        if (sub && strcasecmp(sub, "created") == 0)
            attr = rm->created_attr;
        else if (sub && strcasecmp(sub, "lastModified") == 0)
            attr = rm->modified_attr;
        why = "of meta only created and lastModified can be sorted (when the mapping maps them)";
        goto out;
    }
    const s2l_attr_def *leaf = sub ? s2l_attr_find_sub(top, sub) : top;
    if (leaf->type == S2L_T_COMPLEX && !top->multi_valued) {
        why = "a complex attribute: sort by one of its sub-attributes";
        goto out;
    }
    if (leaf->type == S2L_T_BOOLEAN || leaf->type == S2L_T_BINARY) {
        why = "booleans and binary values have no order";
        goto out;
    }
    const s2l_schema *full = s2l_attr_is_common(top) ? rm->core : s2l_rmap_full_schema(rm, view);
    const s2l_mentry *first = NULL, *primary = NULL;
    for (size_t i = 0; i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (!s2l_mentry_stores(me, full, top))
            continue;
        if (me->write_only || me->kind == S2L_ME_REFERENCE || me->is_bool || me->by_policy) {
            why = me->write_only ? "a write-only attribute"
                                 : me->kind == S2L_ME_REFERENCE ? "a reference: its LDAP values are DNs"
                                                                : "booleans have no order";
            goto out;
        }
        if (me->kind == S2L_ME_SIMPLE) {
            bool same = sub ? me->sub && strcasecmp(me->sub, sub) == 0 : me->sub == NULL;
            if (same && me->ldap) {
                attr = me->ldap;
                goto out;
            }
            continue;
        }
        if (me->kind == S2L_ME_MULTI && multi_attr(me, sub)) {
            if (first == NULL)
                first = me;
            if (me->primary && primary == NULL)
                primary = me;
        }
    }
    if (first) /* RFC 7644: by the primary value (see the top of this file) */
        attr = multi_attr(primary ? primary : first, sub);
out:
    s2l_path_destroy(p);
    if (attr == NULL)
        return not_sortable(err, sort_by, why);
    return attr;
}

/* The ordering rule the mapping names for attr, or NULL. */
static const char *ordering_rule(const s2l_rmap *rm, const char *attr)
{
    for (size_t i = 0; rm->ordering_rules && rm->ordering_rules[i] && rm->ordering_rules[i + 1]; i += 2)
        if (strcasecmp(rm->ordering_rules[i], attr) == 0)
            return rm->ordering_rules[i + 1];
    return NULL;
}

char *s2l_rmap_sort_key(const s2l_rmap *rm, const char *sort_by, bool descending, s2l_error *err)
{
    const char *attr = sort_by && sort_by[0] ? sort_ldap_attr(rm, sort_by, err) : rm->sort_attr;
    if (attr == NULL)
        return NULL;
    const char *rule = ordering_rule(rm, attr);
    size_t n = strlen(attr) + (rule ? strlen(rule) + 1 : 0) + 2;
    char *key = malloc(n);
    if (key == NULL) {
        s2l_error_set(err, 500, NULL, "out of memory");
        return NULL;
    }
    snprintf(key, n, "%s%s%s%s", descending ? "-" : "", attr, rule ? ":" : "", rule ? rule : "");
    return key;
}
