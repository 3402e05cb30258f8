/* mapping_check.c — the mapping against a directory's subschema and root DSE
 * (scim2ldap check --live; see s2l_mapping_check_directory in mapping.h).
 *
 * Pure: the subschema and the root DSE's controls come in, findings go out.
 * Each finding names the resource type, the LDAP attribute or class and, where
 * there is one, the SCIM attribute it comes from, so the admin can find the
 * line of the mapping to change.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mapping_internal.h"

#define SYN_COUNTRY "1.3.6.1.4.1.1466.115.121.1.11"

static int add(json_t *out, const char *level, const s2l_rmap *rm, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int add(json_t *out, const char *level, const s2l_rmap *rm, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *f = json_pack("{s:s, s:s?, s:s}", "level", level, "type", rm ? rm->name : NULL, "text", msg);
    return f ? json_array_append_new(out, f) : -1;
}

/* "title" or "addresses[type eq \"work\"].country" for messages. */
static void scim_name(const s2l_mentry *me, const char *sub, char *buf, size_t len)
{
    if (me->attr == NULL) {
        snprintf(buf, len, "(derived)");
        return;
    }
    const char *s = sub ? sub : me->sub;
    if (me->type)
        snprintf(buf, len, "%s[type eq \"%s\"]%s%s", me->attr, me->type, s ? "." : "", s ? s : "");
    else
        snprintf(buf, len, "%s%s%s", me->attr, s ? "." : "", s ? s : "");
}

/* The SCIM definition holding the value an LDAP attribute gets. */
static const s2l_attr_def *value_def(const s2l_mentry *me, const char *sub)
{
    const s2l_attr_def *top = me->top;
    if (top == NULL)
        return NULL;
    if (me->leaf && sub == NULL)
        return me->leaf;
    const char *want = sub ? sub : "value";
    for (size_t i = 0; i < top->n_sub; i++)
        if (strcasecmp(top->sub[i].name, want) == 0)
            return &top->sub[i];
    return top->type == S2L_T_COMPLEX ? NULL : top;
}

/* What can go wrong with one LDAP attribute the mapping writes from SCIM. */
static int check_written(json_t *out, const s2l_subschema *s, const s2l_rmap *rm, const s2l_mentry *me,
                         const char *ldap, const char *sub, bool guarded, const char *const *classes)
{
    char scim[300];
    scim_name(me, sub, scim, sizeof scim);
    char bare[256];
    snprintf(bare, sizeof bare, "%.*s", (int)strcspn(ldap, ";"), ldap); /* "unicodePwd;base64" */
    const s2l_ldap_attr_type *at = s2l_subschema_attr(s, bare);
    if (at == NULL)
        return add(out, "error", rm, "LDAP attribute %s (from SCIM %s): the directory has no such attribute type",
                   bare, scim);
    if (!s2l_subschema_allows(s, classes, bare) && strcasecmp(bare, "objectClass") != 0 &&
        at->usage == S2L_AT_USER_APPLICATIONS)
        if (add(out, "error", rm, "LDAP attribute %s (from SCIM %s) is not allowed by the object classes of %s",
                bare, scim, rm->name) < 0)
            return -1;
    if (at->no_user_modification &&
        add(out, "error", rm, "LDAP attribute %s (from SCIM %s) cannot be written (NO-USER-MODIFICATION)", bare,
            scim) < 0)
        return -1;
    const s2l_attr_def *def = value_def(me, sub);
    bool many = (me->kind == S2L_ME_MULTI && me->type == NULL && !me->primary && me->top && me->top->multi_valued) ||
                (me->kind == S2L_ME_REFERENCE && me->top && me->top->multi_valued);
    if (at->single_value && many &&
        add(out, "error", rm,
            "LDAP attribute %s is SINGLE-VALUE but SCIM %s is multi-valued: a second value would be refused", bare,
            scim) < 0)
        return -1;
    if (def == NULL || me->is_password || me->is_bool)
        return 0;
    const char *syn = at->eff_syntax;
    s2l_syntax_kind k = s2l_ldap_syntax_kind_of(syn);
    bool text = def->type == S2L_T_STRING || def->type == S2L_T_REFERENCE;
    if (syn && strcmp(syn, SYN_COUNTRY) == 0 && text && !guarded)
        return add(out, "error", rm,
                   "LDAP attribute %s takes a two-letter country code (Country String) but SCIM %s is free text: "
                   "map it to co, or list %s as the second attribute (\"ldap\": [\"co\", \"%s\"])",
                   bare, scim, bare, bare);
    if (k == S2L_SYN_INTEGER && def->type != S2L_T_INTEGER && !(me->kind == S2L_ME_DERIVED))
        return add(out, "error", rm, "LDAP attribute %s is INTEGER but SCIM %s is %s", bare, scim,
                   def->type == S2L_T_BOOLEAN ? "a boolean" : def->type == S2L_T_DECIMAL ? "a decimal" : "text");
    if (k == S2L_SYN_BOOLEAN && def->type != S2L_T_BOOLEAN)
        return add(out, "error", rm, "LDAP attribute %s is Boolean but SCIM %s is not a boolean", bare, scim);
    if (k == S2L_SYN_DN && me->kind != S2L_ME_REFERENCE && text)
        return add(out, "warning", rm, "LDAP attribute %s holds DNs but SCIM %s is free text", bare, scim);
    if (k == S2L_SYN_GENERALIZED_TIME && def->type != S2L_T_DATETIME)
        return add(out, "error", rm, "LDAP attribute %s is Generalized Time but SCIM %s is not a dateTime", bare,
                   scim);
    /* narrow syntaxes the loader knows are already its warnings (s2l_mapping_warnings) */
    if ((k == S2L_SYN_IA5 || k == S2L_SYN_PRINTABLE || k == S2L_SYN_NUMERIC_STRING) && text && !guarded &&
        s2l_ldap_syntax_of(bare) == S2L_LSYN_UNKNOWN)
        return add(out, "warning", rm, "LDAP attribute %s accepts only %s characters; SCIM %s is any text: some "
                                       "values will be refused",
                   bare, k == S2L_SYN_IA5 ? "ASCII" : k == S2L_SYN_PRINTABLE ? "printable" : "numeric", scim);
    return 0;
}

/* An attribute the mapping only reads (ids, timestamps, memberOf). */
static int check_read(json_t *out, const s2l_subschema *s, const s2l_rmap *rm, const char *what, const char *ldap)
{
    if (ldap == NULL || s2l_subschema_attr(s, ldap) != NULL)
        return 0;
    return add(out, "error", rm, "LDAP attribute %s (%s): the directory has no such attribute type", ldap, what);
}

static bool listed(const char *const *v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcasecmp(v[i], s) == 0)
            return true;
    return false;
}

static int check_type(json_t *out, const s2l_subschema *s, const s2l_rmap *rm)
{
    /* object classes */
    for (size_t i = 0; i < rm->n_object_classes; i++)
        if (s2l_subschema_class(s, rm->object_classes[i]) == NULL &&
            add(out, "error", rm, "object class %s: the directory has no such object class",
                rm->object_classes[i]) < 0)
            return -1;
    const char **classes = calloc(rm->n_object_classes + 1, sizeof *classes);
    if (classes == NULL)
        return -1;
    for (size_t i = 0; i < rm->n_object_classes; i++)
        classes[i] = rm->object_classes[i];
    int rc = 0;
    /* written attributes */
    for (size_t i = 0; i < rm->n_entries && rc == 0; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->read_only || me->by_policy)
            continue;
        if (me->ldap)
            rc = check_written(out, s, rm, me, me->write_key ? me->write_key : me->ldap, NULL, false, classes);
        for (size_t k = 0; k < me->n_subs && rc == 0; k++) {
            rc = check_written(out, s, rm, me, me->subs[k].ldap, me->subs[k].scim, false, classes);
            if (rc == 0 && me->subs[k].also)
                rc = check_written(out, s, rm, me, me->subs[k].also, me->subs[k].scim, true, classes);
        }
    }
    /* MUST attributes nobody writes */
    for (size_t i = 0; i < rm->n_object_classes && rc == 0; i++) {
        const char **must = s2l_subschema_class_attrs(s, rm->object_classes[i], true);
        for (size_t k = 0; must && must[k] && rc == 0; k++) {
            bool written = strcasecmp(must[k], "objectClass") == 0 ||
                           (rm->rdn_attr && strcasecmp(must[k], rm->rdn_attr) == 0);
            size_t j;
            json_t *w;
            json_array_foreach(rm->written_names, j, w) {
                const char *n = json_string_value(w);
                size_t nl = strcspn(n, ";");
                const s2l_ldap_attr_type *at = s2l_subschema_attr(s, n);
                written = written || (strlen(must[k]) == nl && strncasecmp(n, must[k], nl) == 0) ||
                          (at && s2l_ldap_attr_is(at, must[k]));
            }
            /* written by the deprovisioning policy (userAccountControl) */
            for (size_t d = 0; d < rm->dp_inactive.n_set; d++)
                written = written || strcasecmp(rm->dp_inactive.set[d].ldap, must[k]) == 0;
            if (!written)
                rc = add(out, "error", rm,
                         "object class %s requires %s, which the mapping never writes: every create would be "
                         "refused",
                         rm->object_classes[i], must[k]);
        }
        free(must);
    }
    /* attributes only read */
    if (rc == 0)
        rc = check_read(out, s, rm, "the SCIM id", rm->id_attr);
    if (rc == 0)
        rc = check_read(out, s, rm, "meta.created", rm->created_attr);
    if (rc == 0)
        rc = check_read(out, s, rm, "meta.lastModified", rm->modified_attr);
    if (rc == 0)
        rc = check_read(out, s, rm, "meta.version", rm->version_attr);
    if (rc == 0 && rm->groups.source == S2L_GROUPS_ATTRIBUTE && rm->groups.attr &&
        s2l_subschema_attr(s, rm->groups.attr) == NULL)
        rc = add(out, "error", rm,
                 "LDAP attribute %s (the user's groups) is not in the directory's schema: enable the memberof "
                 "overlay (slapd) or the MemberOf plugin (389-DS)",
                 rm->groups.attr);
    free(classes);
    return rc;
}

json_t *s2l_mapping_check_directory(const s2l_mapping *m, const s2l_subschema *s, const char *const *controls)
{
    json_t *out = json_array();
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < m->n_rmaps; i++)
        if (check_type(out, s, &m->rmaps[i]) < 0)
            goto oom;
    /* (Permissive modify is not asked for: slapd honours it without listing
     * it, and the gateway sends it non-critical and copes without it.) */
    if (controls) {
        static const struct {
            const char *oid, *name, *why;
        } wanted[] = {
            {"1.3.6.1.1.13.2", "post-read (RFC 4527)", "each write then needs a second search to read the entry back"},
            {"1.2.840.113556.1.4.473", "server-side sort (RFC 2891)", "listings without a filter are walked page by page"},
            {"2.16.840.1.113730.3.4.9", "virtual list view", "deep startIndex pages are walked instead of jumped to"},
        };
        for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++)
            if (!listed(controls, wanted[i].oid) &&
                add(out, "warning", NULL, "the directory does not offer the %s control (%s): %s", wanted[i].name,
                    wanted[i].oid, wanted[i].why) < 0)
                goto oom;
    }
    return out;
oom:
    json_decref(out);
    return NULL;
}
