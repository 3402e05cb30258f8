/* mapping_caps.c — what the directory can decide about each LDAP attribute a
 * mapping filters on (s2l_ldap_caps): the matching rules and syntax of the
 * attribute type in the directory's subschema (or the built-in standard
 * schema), overridden by the mapping's "ldap_attribute_types". Computed when
 * the mapping is loaded and again by s2l_mapping_apply_subschema, so the
 * filter translator only reads precomputed fields. */
#include "mapping_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool s2l_map_load_overrides(s2l_mapping *m, const json_t *list, char *msg, size_t msglen)
{
    size_t i;
    const json_t *v;

    if (!json_is_array(list)) {
        snprintf(msg, msglen, "must be an array of attribute type descriptions");
        return false;
    }
    m->ldap_overrides = s2l_subschema_create();
    if (m->ldap_overrides == NULL) {
        snprintf(msg, msglen, "out of memory");
        return false;
    }
    json_array_foreach(list, i, v) {
        s2l_error err = {0};
        if (!json_is_string(v)) {
            snprintf(msg, msglen, "[%zu]: must be a string like \"( 2.5.4.20 NAME 'telephoneNumber' "
                                  "EQUALITY telephoneNumberMatch ... )\"", i);
            return false;
        }
        if (s2l_subschema_add_attribute_type(m->ldap_overrides, json_string_value(v), json_string_length(v), &err) < 0) {
            snprintf(msg, msglen, "[%zu]: %s", i, err.detail);
            return false;
        }
        const s2l_ldap_attr_type *at = s2l_subschema_attr_at(m->ldap_overrides, s2l_subschema_attr_count(m->ldap_overrides) - 1);
        if (at == NULL || at->n_names == 0) {
            snprintf(msg, msglen, "[%zu]: the description must have a NAME (mappings name attributes)", i);
            return false;
        }
    }
    if (s2l_subschema_finish(m->ldap_overrides) < 0) {
        snprintf(msg, msglen, "out of memory");
        return false;
    }
    return true;
}

/* A field of at, its own or inherited; a supertype the override set does not
 * define is looked up in base (an override may say "SUP name"). */
typedef enum { F_EQ, F_ORD, F_SUB, F_SYNTAX } field;

static const char *own_field(const s2l_ldap_attr_type *at, field f)
{
    switch (f) {
    case F_EQ: return at->equality;
    case F_ORD: return at->ordering;
    case F_SUB: return at->substr;
    case F_SYNTAX: return at->syntax;
    }
    return NULL;
}

static const char *field_of(const s2l_ldap_attr_type *at, const s2l_subschema *base, field f)
{
    for (int depth = 0; at != NULL && depth < 32; depth++) {
        const char *v = own_field(at, f);
        if (v != NULL)
            return v;
        if (at->sup_type != NULL)
            at = at->sup_type;
        else if (at->sup != NULL && base != NULL)
            at = s2l_subschema_attr(base, at->sup);
        else
            break;
    }
    return NULL;
}

/* Active Directory publishes syntaxes only; its matching follows from them.
 * Strings are case-insensitive there; their space handling is unknown, which
 * S2L_MR_INFERRED_CASE_IGNORE tells the translator. */
static void infer_from_syntax(s2l_ldap_caps *c)
{
    switch (c->syntax) {
    case S2L_SYN_DIRECTORY_STRING:
        c->eq = c->sub = S2L_MR_INFERRED_CASE_IGNORE;
        c->ord = S2L_MR_NONE; /* locale collation, not SCIM's byte order */
        break;
    case S2L_SYN_INTEGER: c->eq = c->ord = S2L_MR_INTEGER; break;
    case S2L_SYN_GENERALIZED_TIME: c->eq = c->ord = S2L_MR_GENERALIZED_TIME; break;
    case S2L_SYN_DN: c->eq = S2L_MR_DN; break;
    case S2L_SYN_BOOLEAN: c->eq = S2L_MR_BOOLEAN; break;
    case S2L_SYN_OID: c->eq = S2L_MR_OID; break;
    case S2L_SYN_OCTET_STRING: c->eq = S2L_MR_OCTET_STRING; break;
    default: break;
    }
}

static s2l_ldap_caps caps_of(const char *attr, const s2l_subschema *over, const s2l_subschema *base)
{
    s2l_ldap_caps c = {0};
    const s2l_ldap_attr_type *at = attr ? s2l_subschema_attr(over, attr) : NULL;
    const s2l_subschema *own = over;

    if (attr == NULL)
        return c;
    if (at == NULL) {
        at = s2l_subschema_attr(base, attr);
        own = base;
    }
    if (at == NULL)
        return c; /* unknown: the translator decides nothing with it */
    c.known = true;
    c.single_value = at->single_value;
    c.eq = s2l_ldap_rule_kind_of(field_of(at, base, F_EQ));
    c.ord = s2l_ldap_rule_kind_of(field_of(at, base, F_ORD));
    c.sub = s2l_ldap_rule_kind_of(field_of(at, base, F_SUB));
    c.syntax = s2l_ldap_syntax_kind_of(field_of(at, base, F_SYNTAX));
    if (own == base && s2l_subschema_rules_unpublished(base) && c.eq == S2L_MR_NONE && c.ord == S2L_MR_NONE &&
        c.sub == S2L_MR_NONE)
        infer_from_syntax(&c);
    return c;
}

static void apply_rmap(s2l_rmap *rm, const s2l_subschema *over, const s2l_subschema *base)
{
    rm->id_caps = caps_of(rm->id_attr, over, base);
    rm->created_caps = caps_of(rm->created_attr, over, base);
    rm->modified_caps = caps_of(rm->modified_attr, over, base);
    for (size_t i = 0; i < rm->n_entries; i++) {
        s2l_mentry *me = &rm->entries[i];
        me->caps = caps_of(me->ldap, over, base);
        for (size_t k = 0; k < me->n_subs; k++) {
            me->subs[k].caps = caps_of(me->subs[k].ldap, over, base);
            me->subs[k].also_caps = caps_of(me->subs[k].also, over, base);
        }
    }
}

int s2l_mapping_apply_subschema(s2l_mapping *m, const s2l_subschema *schema, char *errbuf, size_t errlen)
{
    s2l_subschema *builtin = NULL;

    if (schema == NULL) {
        builtin = s2l_subschema_builtin();
        if (builtin == NULL) {
            if (errbuf && errlen)
                snprintf(errbuf, errlen, "out of memory");
            return -1;
        }
        schema = builtin;
    }
    for (size_t i = 0; i < m->n_rmaps; i++)
        apply_rmap(&m->rmaps[i], m->ldap_overrides, schema);
    s2l_subschema_destroy(builtin);
    return 0;
}
