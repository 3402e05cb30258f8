/* write_assertion.c — assertions for writes during which slapd's memberof
 * overlay modifies other entries (s2l/write_assertion.h says why and how). */
#include "s2l/write_assertion.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mapping_internal.h"

static void add_term(s2l_strbuf *b, const char *attr, const char *value, size_t len)
{
    s2l_sb_adds(b, "(");
    s2l_sb_adds(b, attr);
    s2l_sb_adds(b, "=");
    s2l_buf_add_escaped(b, value, len);
    s2l_sb_adds(b, ")");
}

char *s2l_assertion_widen(const char *assertion, const char *self_dn, const s2l_ava *terms, size_t n)
{
    if (assertion == NULL || self_dn == NULL || (n > 0 && terms == NULL) || n > S2L_ASSERTION_MAX_TERMS)
        return NULL;
    if (n == 0)
        return strdup(assertion);
    for (size_t i = 0; i < n; i++)
        if (terms[i].attr == NULL || terms[i].attr[0] == '\0' || (terms[i].value == NULL && terms[i].len > 0))
            return NULL;
    s2l_strbuf b = {0};
    s2l_sb_adds(&b, "(|");
    s2l_sb_adds(&b, assertion);
    s2l_sb_adds(&b, "(&(!");
    add_term(&b, "entryDN", self_dn, strlen(self_dn));
    s2l_sb_adds(&b, ")");
    if (n > 1)
        s2l_sb_adds(&b, "(|");
    for (size_t i = 0; i < n; i++)
        add_term(&b, terms[i].attr, terms[i].value ? terms[i].value : "", terms[i].len);
    s2l_sb_adds(&b, n > 1 ? ")))" : "))");
    return s2l_sb_take(&b);
}

/* The entry is a DN-valued member list (members of a group type). */
static bool is_member_list(const s2l_mentry *me)
{
    return me->kind == S2L_ME_REFERENCE && me->delta && !me->read_only && !me->ref_rdn && me->ldap != NULL;
}

static bool has_attr(const s2l_ava *terms, size_t n, const char *attr)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(terms[i].attr, attr) == 0)
            return true;
    return false;
}

char *s2l_rmap_delete_assertion(const s2l_rmap *rm, const char *dn, const char *assertion)
{
    enum { MAX = 64 };
    s2l_ava terms[MAX];
    size_t n = 0;
    if (rm == NULL || dn == NULL || assertion == NULL)
        return NULL;
    const s2l_mapping *m = rm->mapping;
    size_t len = strlen(dn);
    /* the groups listing dn (memberof-refint removes it from them) */
    for (size_t t = 0; m && t < m->n_rmaps; t++) {
        const s2l_rmap *r = &m->rmaps[t];
        for (size_t i = 0; i < r->n_entries; i++) {
            const s2l_mentry *me = &r->entries[i];
            if (is_member_list(me) && !has_attr(terms, n, me->ldap) && n < MAX)
                terms[n++] = (s2l_ava){me->ldap, dn, len};
        }
    }
    bool group = false;
    for (size_t i = 0; i < rm->n_entries && !group; i++)
        group = is_member_list(&rm->entries[i]);
    if (group) {
        /* the members listing the group in memberOf (memberof drops it there) */
        const char *memberof = NULL;
        for (size_t t = 0; m && t < m->n_rmaps && memberof == NULL; t++) {
            const s2l_rmap_groups *g = &m->rmaps[t].groups;
            if (g->source == S2L_GROUPS_ATTRIBUTE && g->attr && g->attr[0])
                memberof = g->attr;
        }
        if (memberof == NULL)
            return NULL;
        if (!has_attr(terms, n, memberof) && n < MAX)
            terms[n++] = (s2l_ava){memberof, dn, len};
    }
    return s2l_assertion_widen(assertion, dn, terms, n);
}

static bool is_delta_ldap(const s2l_rmap *rm, const char *attr, const s2l_mentry **out)
{
    for (size_t i = 0; attr && i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (is_member_list(me) && strcasecmp(me->ldap, attr) == 0) {
            *out = me;
            return true;
        }
    }
    return false;
}

char *s2l_rmap_members_assertion(const s2l_rmap *rm, const char *dn, const char *assertion, const json_t *mods)
{
    if (rm == NULL || dn == NULL || assertion == NULL || !json_is_array(mods))
        return NULL;
    size_t n = 0, i, k;
    json_t *mod, *v;
    bool adds_to_placeholder_type = false;
    json_array_foreach((json_t *)mods, i, mod) {
        const s2l_mentry *me = NULL;
        if (is_delta_ldap(rm, json_string_value(json_object_get(mod, "attr")), &me)) {
            n += json_array_size(json_object_get(mod, "values"));
            const char *op = json_string_value(json_object_get(mod, "op"));
            adds_to_placeholder_type = adds_to_placeholder_type || (op && strcmp(op, "add") == 0 && me->has_placeholder);
        }
    }
    if (n > S2L_ASSERTION_MAX_TERMS)
        return NULL;
    s2l_ava *terms = calloc(n ? n : 1, sizeof *terms);
    char *base = NULL, *out = NULL;
    if (terms == NULL)
        return NULL;
    n = 0;
    json_array_foreach((json_t *)mods, i, mod) {
        const s2l_mentry *me = NULL;
        if (!is_delta_ldap(rm, json_string_value(json_object_get(mod, "attr")), &me))
            continue;
        json_array_foreach(json_object_get(mod, "values"), k, v) {
            if (json_is_string(v))
                terms[n++] = (s2l_ava){"entryDN", json_string_value(v), json_string_length(v)};
        }
    }
    /* what the modify was planned without reading: the group holds no
     * placeholder (adds would delete it) and no kept items (a member's kept
     * sub-attributes go with it; the keep attribute has no substring rule to
     * name one member's items, so: none at all) */
    if (adds_to_placeholder_type || (n > 0 && rm->keep_attr != NULL)) {
        char *ph = adds_to_placeholder_type ? s2l_rmap_placeholder_filter(rm) : NULL;
        s2l_strbuf b = {0};
        if (adds_to_placeholder_type && ph == NULL)
            goto out;
        s2l_sb_adds(&b, "(&");
        s2l_sb_adds(&b, assertion);
        if (ph) {
            s2l_sb_adds(&b, "(!");
            s2l_sb_adds(&b, ph);
            s2l_sb_adds(&b, ")");
        }
        if (n > 0 && rm->keep_attr != NULL) {
            s2l_sb_adds(&b, "(!(");
            s2l_sb_adds(&b, rm->keep_attr);
            s2l_sb_adds(&b, "=*))");
        }
        s2l_sb_adds(&b, ")");
        free(ph);
        if ((base = s2l_sb_take(&b)) == NULL)
            goto out;
    }
    out = s2l_assertion_widen(base ? base : assertion, dn, terms, n);
out:
    free(base);
    free(terms);
    return out;
}
