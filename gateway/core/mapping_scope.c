/* mapping_scope.c — the provisioning scope of a resource type (the
 * "provisioning" block, mappings/README.md), and the DN and LDAP-filter
 * syntax checks the loader uses for it and for "deprovision":
 *
 *   "provisioning": {
 *     "protected": "(|(adminCount=1)(memberOf=CN=Domain Admins,CN=Users,DC=example,DC=test))",
 *     "default_groups": ["CN=All Staff,OU=Groups,DC=example,DC=test"],
 *     "boundary": "DC=example,DC=test"
 *   }
 *
 * protected: entries the gateway never modifies, renames, disables or deletes
 * (they stay readable). Checked by LDAP itself, exactly: a write looks the
 * entry up with (&<type>(<id>)(!<protected>)), and only a miss costs a second
 * look-up to tell 404 from 403. default_groups: groups of a type in this
 * mapping that every entry created through SCIM joins. boundary: a DN no
 * create, rename or move leaves (default: base_dn).
 */
#include "mapping_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- DNs ---- */

/* Lower case, no spaces around ',' '=' '+' outside escapes: enough to compare
 * the DNs an admin writes with those a server returns. malloc'd. */
static char *dn_norm(const char *dn)
{
    size_t n = strlen(dn);
    char *out = malloc(n + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = dn[i];
        if (c == '\\' && i + 1 < n) {
            *o++ = c;
            *o++ = (char)tolower((unsigned char)dn[++i]);
            continue;
        }
        if (c == ' ') {
            /* a space next to a separator (or at an end) is not part of a value */
            size_t j = i;
            while (j < n && dn[j] == ' ')
                j++;
            bool before_sep = j == n || dn[j] == ',' || dn[j] == '=' || dn[j] == '+';
            bool after_sep = o == out || o[-1] == ',' || o[-1] == '=' || o[-1] == '+';
            if (before_sep || after_sep) {
                i = j - 1;
                continue;
            }
        }
        *o++ = (char)tolower((unsigned char)c);
    }
    *o = 0;
    return out;
}

bool s2l_dn_under(const char *dn, const char *base, bool or_equal)
{
    if (dn == NULL || base == NULL)
        return false;
    char *d = dn_norm(dn), *b = dn_norm(base);
    bool r = false;
    if (d && b) {
        size_t dl = strlen(d), bl = strlen(b);
        if (bl == 0)
            r = or_equal || dl > 0; /* everything is below the root */
        else if (dl == bl)
            r = or_equal && strcmp(d, b) == 0;
        else if (dl > bl)
            r = d[dl - bl - 1] == ',' && strcmp(d + dl - bl, b) == 0 &&
                !(dl - bl >= 2 && d[dl - bl - 2] == '\\' && (dl - bl < 3 || d[dl - bl - 3] != '\\'));
    }
    free(d);
    free(b);
    return r;
}

bool s2l_dn_syntax_ok(const char *dn)
{
    const char *p = dn;
    if (dn == NULL || *dn == 0)
        return false;
    for (;;) {
        /* attribute type: a name or a numeric OID */
        while (*p == ' ')
            p++;
        const char *a = p;
        while (isalnum((unsigned char)*p) || *p == '-' || *p == '.')
            p++;
        if (p == a || !(isalpha((unsigned char)*a) || isdigit((unsigned char)*a)))
            return false;
        while (*p == ' ')
            p++;
        if (*p++ != '=')
            return false;
        const char *v = p;
        while (*p && *p != ',' && *p != '+') {
            if (*p == '\\') {
                if (p[1] == 0)
                    return false;
                p++;
            } else if (*p == '"' || *p == ';' || *p == '<' || *p == '>') {
                return false;
            }
            p++;
        }
        if (p == v)
            return false;
        if (*p == 0)
            return true;
        p++;
    }
}

/* ---- RFC 4515 filters ---- */

typedef struct fscan {
    const char *p;
    const char *why;
    int depth;
} fscan;

static bool f_filter(fscan *s);

static bool f_attr(fscan *s)
{
    const char *a = s->p;
    while (isalnum((unsigned char)*s->p) || *s->p == '-' || *s->p == '.' || *s->p == ';')
        s->p++;
    if (s->p == a) {
        s->why = "an attribute name is missing";
        return false;
    }
    return true;
}

/* An assertion value up to ')' ("*" allowed for substrings/presence). */
static bool f_value(fscan *s, bool stars)
{
    for (; *s->p && *s->p != ')'; s->p++) {
        if (*s->p == '(') {
            s->why = "'(' in a value must be escaped as \\28";
            return false;
        }
        if (*s->p == '*' && !stars) {
            s->why = "'*' in a value must be escaped as \\2a";
            return false;
        }
        if (*s->p == '\\') {
            if (!isxdigit((unsigned char)s->p[1]) || !isxdigit((unsigned char)s->p[2])) {
                s->why = "'\\' must be followed by two hex digits";
                return false;
            }
            s->p += 2;
        }
    }
    return true;
}

static bool f_item(fscan *s)
{
    if (*s->p == ':') { /* (:dn:rule:=value) */
        s->p++;
    } else {
        if (!f_attr(s))
            return false;
    }
    if (*s->p == ':') {
        /* extensible: [":dn"] [":" rule] ":=" */
        while (*s->p == ':' && s->p[1] != '=') {
            s->p++;
            if (!f_attr(s))
                return false;
        }
        if (s->p[0] != ':' || s->p[1] != '=') {
            s->why = "an extensible match needs \":=\"";
            return false;
        }
        s->p += 2;
        return f_value(s, false);
    }
    if ((s->p[0] == '~' || s->p[0] == '>' || s->p[0] == '<') && s->p[1] == '=') {
        s->p += 2;
        return f_value(s, false);
    }
    if (*s->p != '=') {
        s->why = "a comparison operator (=, ~=, >=, <=, :=) is missing";
        return false;
    }
    s->p++;
    return f_value(s, true);
}

static bool f_filter(fscan *s)
{
    if (*s->p != '(') {
        s->why = "'(' expected";
        return false;
    }
    if (++s->depth > 64) {
        s->why = "nested too deeply";
        return false;
    }
    s->p++;
    if (*s->p == '&' || *s->p == '|') {
        s->p++;
        while (*s->p == '(')
            if (!f_filter(s))
                return false;
    } else if (*s->p == '!') {
        s->p++;
        if (!f_filter(s))
            return false;
    } else if (!f_item(s)) {
        return false;
    }
    if (*s->p != ')') {
        s->why = "')' expected";
        return false;
    }
    s->p++;
    s->depth--;
    return true;
}

bool s2l_ldap_filter_syntax_ok(const char *f, const char **why)
{
    fscan s = {f, NULL, 0};
    bool ok = f && f_filter(&s);
    if (ok && *s.p != 0) {
        ok = false;
        s.why = "text after the closing ')'";
    }
    if (why)
        *why = ok ? NULL : s.why ? s.why : "empty";
    return ok;
}

/* ---- the provisioning block ---- */

bool s2l_scope_parse(s2l_rmap *rm, const json_t *j, const char *where, s2l_load_err *e)
{
    static const char *const keys[] = {"protected", "default_groups", "boundary", "description", NULL};
    char w[256];

    snprintf(w, sizeof w, "%s.provisioning", where);
    if (j != NULL) {
        if (!json_is_object(j)) {
            s2l_load_err_set(e, w, "must be an object");
            return false;
        }
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v) {
            bool known = false;
            for (size_t i = 0; keys[i]; i++)
                known = known || strcmp(keys[i], k) == 0;
            if (!known) {
                s2l_load_err_set(e, w, "unknown key \"%s\"", k);
                return false;
            }
        }
        const json_t *prot = json_object_get(j, "protected");
        if (prot != NULL) {
            const char *why = NULL;
            if (!json_is_string(prot) || !s2l_ldap_filter_syntax_ok(json_string_value(prot), &why)) {
                s2l_load_err_set(e, w, "\"protected\" must be an LDAP filter (RFC 4515)%s%s", why ? ": " : "",
                                 why ? why : "");
                return false;
            }
            if ((rm->protected_filter = strdup(json_string_value(prot))) == NULL)
                goto oom;
        }
        const json_t *dg = json_object_get(j, "default_groups");
        if (dg != NULL) {
            if (!json_is_array(dg)) {
                s2l_load_err_set(e, w, "\"default_groups\" must be an array of group DNs");
                return false;
            }
            rm->default_groups = calloc(json_array_size(dg) + 1, sizeof *rm->default_groups);
            if (rm->default_groups == NULL)
                goto oom;
            for (size_t i = 0; i < json_array_size(dg); i++) {
                const json_t *g = json_array_get(dg, i);
                if (!json_is_string(g) || !s2l_dn_syntax_ok(json_string_value(g))) {
                    s2l_load_err_set(e, w, "\"default_groups\"[%zu] must be a DN", i);
                    return false;
                }
                if ((rm->default_groups[i] = strdup(json_string_value(g))) == NULL)
                    goto oom;
                rm->n_default_groups = i + 1;
            }
        }
        const json_t *bd = json_object_get(j, "boundary");
        if (bd != NULL) {
            if (!json_is_string(bd) || !s2l_dn_syntax_ok(json_string_value(bd))) {
                s2l_load_err_set(e, w, "\"boundary\" must be a DN");
                return false;
            }
            if (!s2l_dn_under(rm->base_dn, json_string_value(bd), true)) {
                s2l_load_err_set(e, w, "\"boundary\": the base DN %s lies outside it", rm->base_dn);
                return false;
            }
            if ((rm->boundary = strdup(json_string_value(bd))) == NULL)
                goto oom;
        }
    }
    if (rm->boundary == NULL && (rm->boundary = strdup(rm->base_dn)) == NULL)
        goto oom;
    return true;
oom:
    s2l_load_err_set(e, w, "out of memory");
    return false;
}

/* The group type (and its member entry) a default group DN belongs to: the
 * type whose base DN holds it and whose delta reference takes rm's entries. */
static const s2l_rmap *group_type_of(const s2l_rmap *rm, const char *dn, const s2l_mentry **member)
{
    const s2l_mapping *m = rm->mapping;
    for (size_t i = 0; i < m->n_rmaps; i++) {
        const s2l_rmap *g = &m->rmaps[i];
        if (!s2l_dn_under(dn, g->base_dn, false))
            continue;
        for (size_t k = 0; k < g->n_entries; k++) {
            const s2l_mentry *me = &g->entries[k];
            if (me->kind != S2L_ME_REFERENCE || !me->delta)
                continue;
            for (size_t t = 0; t < me->n_ref_types; t++) {
                if (strcasecmp(me->ref_types[t], rm->name) == 0) {
                    *member = me;
                    return g;
                }
            }
        }
    }
    return NULL;
}

bool s2l_scope_finish(s2l_rmap *rm, const char *where, s2l_load_err *e)
{
    char w[256];
    snprintf(w, sizeof w, "%s.provisioning", where);
    for (size_t i = 0; i < rm->n_default_groups; i++) {
        const s2l_mentry *me = NULL;
        if (group_type_of(rm, rm->default_groups[i], &me) == NULL) {
            s2l_load_err_set(e, w, "\"default_groups\"[%zu]: %s is not below the base DN of a group type whose "
                                   "members (\"delta\": true) take %s",
                             i, rm->default_groups[i], rm->name);
            return false;
        }
    }
    return true;
}

/* ---- run time ---- */

const char *s2l_rmap_protected_filter(const s2l_rmap *rm)
{
    return rm->protected_filter;
}

char *s2l_rmap_write_id_filter(const s2l_rmap *rm, const char *id)
{
    char *f = s2l_rmap_id_filter(rm, id);
    if (f == NULL || rm->protected_filter == NULL)
        return f;
    /* f is "(&<object filter>(<id>))" or "(&(a)(b)(<id>))": append the exclusion inside */
    s2l_strbuf b = {0};
    size_t n = strlen(f);
    if (strncmp(f, "(&", 2) == 0) {
        s2l_sb_add(&b, f, n - 1);
    } else {
        s2l_sb_adds(&b, "(&");
        s2l_sb_adds(&b, f);
    }
    s2l_sb_adds(&b, "(!");
    s2l_sb_adds(&b, rm->protected_filter);
    s2l_sb_adds(&b, "))");
    free(f);
    return s2l_sb_take(&b);
}

json_t *s2l_rmap_default_group_adds(const s2l_rmap *rm, const char *member_dn, s2l_error *err)
{
    json_t *out = json_array();
    if (out == NULL)
        goto oom;
    for (size_t i = 0; i < rm->n_default_groups; i++) {
        const s2l_mentry *me = NULL;
        if (group_type_of(rm, rm->default_groups[i], &me) == NULL)
            continue; /* checked at load */
        char *val = NULL, *attr = NULL;
        if (me->ref_rdn) {
            if (s2l_dn_first_rdn(member_dn, &attr, &val, NULL) < 0) {
                json_decref(out);
                s2l_error_set(err, 500, NULL, "cannot read the RDN of %s", member_dn);
                return NULL;
            }
            free(attr);
        } else if ((val = strdup(member_dn)) == NULL) {
            goto oom;
        }
        json_t *item = json_pack("{s:s, s:[{s:s, s:s, s:[s]}]}", "dn", rm->default_groups[i], "mods", "op", "add",
                                 "attr", me->ldap, "values", val);
        free(val);
        if (item == NULL || json_array_append_new(out, item) < 0)
            goto oom;
    }
    return out;
oom:
    json_decref(out);
    s2l_error_set(err, 500, NULL, "out of memory");
    return NULL;
}

const char *s2l_rmap_boundary(const s2l_rmap *rm)
{
    return rm->boundary;
}

bool s2l_rmap_dn_in_boundary(const s2l_rmap *rm, const char *dn)
{
    return s2l_dn_under(dn, rm->boundary, true);
}

bool s2l_mapping_needs_tls(const s2l_mapping *m)
{
    for (size_t i = 0; i < m->n_rmaps; i++)
        for (size_t k = 0; k < m->rmaps[i].n_entries; k++)
            if (m->rmaps[i].entries[k].is_password && m->rmaps[i].entries[k].pw_scheme == S2L_PW_UNICODEPWD)
                return true;
    return false;
}
