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

/* The member list (DN-valued or not: memberUid holds RDN values) attr is. */
static bool is_delta_ldap(const s2l_rmap *rm, const char *attr, const s2l_mentry **out)
{
    for (size_t i = 0; attr && i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->kind == S2L_ME_REFERENCE && me->delta && !me->read_only && me->ldap &&
            strcasecmp(me->ldap, attr) == 0) {
            *out = me;
            return true;
        }
    }
    return false;
}

/* What one member modification assumes about the group's placeholder. */
enum { PH_ANY, PH_ABSENT, PH_PRESENT };

/* (!(<keep>={"<attr>":*"value":"<id>"*)): the kept items of member id, as
 * item_text_of writes them (compact JSON, sorted keys); an id that JSON
 * would escape: every kept item of attr. */
static void add_no_kept_item(s2l_strbuf *b, const char *keep, const char *attr, const char *id)
{
    s2l_sb_adds(b, "(!(");
    s2l_sb_adds(b, keep);
    s2l_sb_adds(b, "={\"");
    s2l_buf_add_escaped(b, attr, strlen(attr));
    s2l_sb_adds(b, "\":*");
    bool plain = id != NULL;
    for (const char *p = id; plain && *p; p++)
        plain = *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20;
    if (plain) {
        s2l_sb_adds(b, "\"value\":\"");
        s2l_buf_add_escaped(b, id, strlen(id));
        s2l_sb_adds(b, "\"*");
    }
    s2l_sb_adds(b, "))");
}

char *s2l_rmap_patch_assertion(const s2l_rmap *rm, const char *dn, const char *assertion, const json_t *mods,
                               const json_t *deltas)
{
    if (rm == NULL || dn == NULL || assertion == NULL || !json_is_array(mods))
        return NULL;
    size_t n = 0, i, k;
    json_t *mod, *v;
    json_array_foreach((json_t *)mods, i, mod) {
        const s2l_mentry *me = NULL;
        if (is_delta_ldap(rm, json_string_value(json_object_get(mod, "attr")), &me))
            n += json_array_size(json_object_get(mod, "values"));
    }
    if (n > S2L_ASSERTION_MAX_TERMS)
        return NULL;
    s2l_ava *terms = calloc(n ? n : 1, sizeof *terms);
    int *ph = calloc(rm->n_entries ? rm->n_entries : 1, sizeof *ph);
    char *base = NULL, *out = NULL;
    if (terms == NULL || ph == NULL)
        goto out;
    /* The modify was planned without reading the group: adds assume it does
     * not hold the empty-group placeholder (they would delete it), a delete
     * of the placeholder assumes it does. */
    n = 0;
    bool conditions = false;
    json_array_foreach((json_t *)mods, i, mod) {
        const s2l_mentry *me = NULL;
        if (!is_delta_ldap(rm, json_string_value(json_object_get(mod, "attr")), &me))
            continue;
        const char *op = json_string_value(json_object_get(mod, "op"));
        size_t e = (size_t)(me - rm->entries);
        if (me->has_placeholder && op && strcmp(op, "add") == 0 && ph[e] == PH_ANY)
            ph[e] = PH_ABSENT;
        json_array_foreach(json_object_get(mod, "values"), k, v) {
            if (!json_is_string(v))
                continue;
            if (me->has_placeholder && strcasecmp(json_string_value(v), me->placeholder) == 0) {
                if (op && strcmp(op, "delete") == 0)
                    ph[e] = PH_PRESENT;
                if (me->placeholder[0] == '\0')
                    continue; /* no entry: nothing for memberof to modify */
            }
            if (!me->ref_rdn) /* RDN values (memberUid) name no entry memberof modifies */
                terms[n++] = (s2l_ava){"entryDN", json_string_value(v), json_string_length(v)};
        }
    }
    s2l_strbuf b = {0};
    s2l_sb_adds(&b, "(&");
    s2l_sb_adds(&b, assertion);
    /* the entry has the mapping's object classes: the read path would add
     * the missing ones to any write (adopting an entry another tool made) */
    for (size_t c = 0; json_array_size(mods) > 0 && c < rm->n_object_classes; c++) {
        conditions = true;
        s2l_buf_add_eq(&b, "objectClass", rm->object_classes[c]);
    }
    for (size_t e = 0; e < rm->n_entries; e++) {
        const s2l_mentry *me = &rm->entries[e];
        if (ph[e] == PH_ANY)
            continue;
        conditions = true;
        s2l_sb_adds(&b, ph[e] == PH_ABSENT ? "(!" : "");
        s2l_buf_add_eq(&b, me->ldap, me->placeholder);
        s2l_sb_adds(&b, ph[e] == PH_ABSENT ? ")" : "");
    }
    /* and no kept items of the members touched (a member's kept
     * sub-attributes go with it, and an add replaces them) */
    json_t *d;
    json_array_foreach(rm->keep_attr ? (json_t *)deltas : NULL, i, d) {
        const char *attr = json_string_value(json_object_get(d, "attr"));
        const char *lists[] = {"add", "remove"};
        for (size_t l = 0; attr && l < 2; l++) {
            json_array_foreach(json_object_get(d, lists[l]), k, v) {
                const json_t *id = json_is_object(v) ? s2l_map_get_ci(v, "value") : v;
                conditions = true;
                add_no_kept_item(&b, rm->keep_attr, attr, json_string_value(id));
            }
        }
    }
    s2l_sb_adds(&b, ")");
    if ((base = s2l_sb_take(&b)) == NULL)
        goto out;
    out = s2l_assertion_widen(conditions ? base : assertion, dn, terms, n);
out:
    free(base);
    free(terms);
    free(ph);
    return out;
}
