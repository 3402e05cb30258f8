/* mapping_errors.c — LDAP refusals told in SCIM terms: which SCIM attribute
 * an LDAP attribute holds (see include/s2l/mapping.h).
 *
 * The gateway checks the syntaxes it knows before writing (ldap_syntax.c),
 * but a directory may have its own rules (a custom schema, a constraint
 * overlay). When it refuses, the IdP's admin must learn which SCIM attribute
 * was at fault, not only the LDAP attribute they may never have heard of.
 */
#include "mapping_internal.h"
#include "s2l/ldap_errors.h"

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void path_of(const s2l_mentry *me, const char *sub, char *buf, size_t n)
{
    char type[160] = "";

    if (me->type != NULL)
        snprintf(type, sizeof type, "[type eq \"%s\"]", me->type);
    snprintf(buf, n, "%s%s%s%s%s%s", me->in_ext ? me->schema->id : "", me->in_ext ? ":" : "", me->attr, type,
             sub ? "." : "", sub ? sub : "");
}

char *s2l_rmap_scim_path(const s2l_rmap *rm, const char *ldap_attr)
{
    char buf[512];

    if (ldap_attr == NULL)
        return NULL;
    for (size_t i = 0; i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->attr == NULL || me->read_only)
            continue;
        if (me->ldap != NULL && strcasecmp(me->ldap, ldap_attr) == 0) {
            path_of(me, me->sub, buf, sizeof buf);
            return strdup(buf);
        }
        for (size_t k = 0; k < me->n_subs; k++) {
            if (strcasecmp(me->subs[k].ldap, ldap_attr) == 0 ||
                (me->subs[k].also && strcasecmp(me->subs[k].also, ldap_attr) == 0)) {
                path_of(me, me->subs[k].scim, buf, sizeof buf);
                return strdup(buf);
            }
        }
    }
    if (rm->keep_attr != NULL && strcasecmp(rm->keep_attr, ldap_attr) == 0)
        return strdup("(attributes kept as sent)");
    return NULL;
}

void s2l_rmap_ldap_error(const s2l_rmap *rm, int rc, const char *diag, const char *what, unsigned retry_after,
                         s2l_error *err)
{
    char attr[72];
    char *path = NULL;

    s2l_ldap_error_to_scim(rc, diag, what, retry_after, err);
    if (rm == NULL || err == NULL || err->status != 400)
        return;
    switch (rc) {
    case LDAP_NO_SUCH_ATTRIBUTE:
    case LDAP_UNDEFINED_TYPE:
    case LDAP_INAPPROPRIATE_MATCHING:
    case LDAP_CONSTRAINT_VIOLATION:
    case LDAP_TYPE_OR_VALUE_EXISTS:
    case LDAP_INVALID_SYNTAX:
    case LDAP_OBJECT_CLASS_VIOLATION:
    case LDAP_NOT_ALLOWED_ON_RDN:
    case LDAP_NO_OBJECT_CLASS_MODS:
        break;
    default:
        return;
    }
    if (!s2l_ldap_diag_attr(diag, attr, sizeof attr) || (path = s2l_rmap_scim_path(rm, attr)) == NULL)
        return;
    s2l_error_set(err, err->status, err->scim_type, "%s: the directory refused %s (LDAP attribute \"%s\", %s)%s%s",
                  what && *what ? what : "the resource", path, attr, s2l_ldap_rc_name(rc), diag ? ": " : "",
                  diag ? diag : "");
    free(path);
}
