/* mapping_load.c — reading and validating a mapping file (mappings/README.md),
 * building the schema views, the accessors and s2l_mapping_destroy.
 *
 * Everything an admin can get wrong is caught here, at start, with the file
 * and the JSON path of the mistake, so that translation at run time can trust
 * the structures without re-checking them.
 */
#include "mapping_internal.h"
#include "s2l/config.h"

#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WHERE_MAX 256

typedef struct load_ctx {
    const char *file;
    char *errbuf;
    size_t errlen;
    s2l_mapping *m;
} load_ctx;

static void lerr(load_ctx *c, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void lerr(load_ctx *c, const char *where, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (c->errbuf == NULL || c->errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->errbuf, c->errlen, "%s: %s: %s", c->file, where, msg);
}

/* Builds "<base><suffix>" into buf (WHERE_MAX); a path that does not fit is
 * reported rather than silently cut. */
static bool where_fmt(load_ctx *c, char *buf, const char *base, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool where_fmt(load_ctx *c, char *buf, const char *base, const char *fmt, ...)
{
    char suffix[WHERE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(suffix, sizeof suffix, fmt, ap);
    va_end(ap);
    int m = n < 0 ? -1 : snprintf(buf, WHERE_MAX, "%s%s", base, suffix);
    if (n < 0 || (size_t)n >= sizeof suffix || m < 0 || m >= WHERE_MAX) {
        lerr(c, base, "JSON path too long");
        return false;
    }
    return true;
}

static bool oom(load_ctx *c, const char *where)
{
    lerr(c, where, "out of memory");
    return false;
}

/* The first key of obj that is not in known (NULL-terminated), or NULL. */
static const char *first_unknown_key(const json_t *obj, const char *const *known)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        bool ok = false;
        for (size_t i = 0; known[i] && !ok; i++)
            ok = strcmp(k, known[i]) == 0;
        if (!ok)
            return k;
    }
    return NULL;
}

/* Refuses keys the format does not know: a typo must not silently do nothing. */
static bool check_keys(load_ctx *c, const json_t *obj, const char *where, const char *const *known)
{
    const char *k = first_unknown_key(obj, known);
    if (k)
        lerr(c, where, "unknown key \"%s\"", k);
    return k == NULL;
}

/* A string member: required → error when absent; *out is a malloc'd copy or NULL. */
static bool get_string(load_ctx *c, const json_t *obj, const char *key, const char *where, bool required,
                       bool allow_empty, char **out)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL || (json_is_null(v) && !required)) {
        if (required)
            lerr(c, where, "\"%s\" is required", key);
        return !required;
    }
    if (!json_is_string(v) || (!allow_empty && json_string_length(v) == 0) ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        lerr(c, where, "\"%s\" must be a %sstring", key, allow_empty ? "" : "non-empty ");
        return false;
    }
    *out = strdup(json_string_value(v));
    return *out != NULL || oom(c, where);
}

static bool get_bool(load_ctx *c, const json_t *obj, const char *key, const char *where, bool *out)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return true;
    if (!json_is_boolean(v)) {
        lerr(c, where, "\"%s\" must be true or false", key);
        return false;
    }
    *out = json_is_true(v);
    return true;
}

/* An LDAP attribute description: a name (RFC 4512 keystring) or a numeric OID. */
static bool ldap_attr_ok(const char *s)
{
    if (s == NULL || *s == 0)
        return false;
    if (isdigit((unsigned char)*s)) {
        for (; *s; s++)
            if (!isdigit((unsigned char)*s) && *s != '.')
                return false;
        return true;
    }
    if (!isalpha((unsigned char)*s))
        return false;
    for (s++; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != ';')
            return false;
    return true;
}

static bool get_ldap_attr(load_ctx *c, const json_t *obj, const char *key, const char *where, bool required,
                          char **out)
{
    if (!get_string(c, obj, key, where, required, false, out))
        return false;
    if (*out != NULL && !ldap_attr_ok(*out)) {
        lerr(c, where, "\"%s\": \"%s\" is not an LDAP attribute name", key, *out);
        free(*out);
        *out = NULL;
        return false;
    }
    return true;
}

static void strv_free_n(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* A string or an array of strings. */
static bool get_strv(load_ctx *c, const json_t *obj, const char *key, const char *where, bool allow_empty_str,
                     char ***out, size_t *n_out)
{
    const json_t *v = json_object_get(obj, key);
    size_t n;
    char **arr = NULL;

    *out = NULL;
    *n_out = 0;
    if (json_is_string(v)) {
        n = 1;
    } else if (json_is_array(v) && json_array_size(v) > 0) {
        n = json_array_size(v);
    } else {
        lerr(c, where, "\"%s\" must be a string or a non-empty array of strings", key);
        return false;
    }
    arr = calloc(n, sizeof *arr);
    if (arr == NULL)
        return oom(c, where);
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_is_string(v) ? v : json_array_get(v, i);
        if (!json_is_string(e) || (!allow_empty_str && json_string_length(e) == 0)) {
            lerr(c, where, "\"%s\"[%zu] must be a %sstring", key, i, allow_empty_str ? "" : "non-empty ");
            strv_free_n(arr, n);
            return false;
        }
        if ((arr[i] = strdup(json_string_value(e))) == NULL) {
            strv_free_n(arr, n);
            return oom(c, where);
        }
    }
    *out = arr;
    *n_out = n;
    return true;
}

/* ---- SCIM paths ---- */

typedef struct scim_ref {
    const s2l_schema *schema;    /* schema holding attr (the core schema for common attributes) */
    bool in_ext;
    const s2l_attr_def *top;
    const s2l_attr_def *leaf;    /* sub when given, else top */
    bool has_sub;
} scim_ref;

/* Resolves "[urn:]attr[.sub]" against the full schemas of a resource type. */
static bool resolve_scim(load_ctx *c, const s2l_resource_type *full, const char *text, const char *where,
                         scim_ref *out)
{
    const char *rest = text, *dot;
    const s2l_schema *urn_schema = s2l_rtype_split_urn(full, text, &rest);
    char attr[WHERE_MAX];

    memset(out, 0, sizeof *out);
    dot = strchr(rest, '.');
    size_t alen = dot ? (size_t)(dot - rest) : strlen(rest);
    if (alen == 0 || alen >= sizeof attr || (dot && dot[1] == 0)) {
        lerr(c, where, "\"%s\" is not an attribute path", text);
        return false;
    }
    memcpy(attr, rest, alen);
    attr[alen] = 0;
    out->top = s2l_rtype_find(full, urn_schema ? urn_schema->id : NULL, attr, NULL, &out->schema);
    if (out->top == NULL) {
        lerr(c, where, "\"%s\": no such attribute in the schemas of this resource type", text);
        return false;
    }
    out->in_ext = out->schema != full->core;
    out->leaf = out->top;
    if (dot) {
        out->has_sub = true;
        out->leaf = s2l_attr_find_sub(out->top, dot + 1);
        if (out->leaf == NULL) {
            lerr(c, where, "\"%s\": attribute %s has no sub-attribute \"%s\"", text, out->top->name, dot + 1);
            return false;
        }
    }
    return true;
}

/* Parses "text {attr.sub} text" ("{{" and "}}" stand for braces). Placeholders
 * must name single-valued simple attributes: a template yields one value. */
static bool parse_template(load_ctx *c, const s2l_resource_type *full, const char *text, const char *where,
                           s2l_template *t)
{
    s2l_strbuf lit = {0};
    const char *p = text;
    bool ok = false;

    memset(t, 0, sizeof *t);
    if ((t->text = strdup(text)) == NULL)
        return oom(c, where);
    size_t cap = strlen(text) + 1; /* never more parts than characters + 1 */
    t->parts = calloc(cap, sizeof *t->parts);
    if (t->parts == NULL) {
        oom(c, where);
        goto out;
    }
    while (*p) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            s2l_sb_add(&lit, p, 1);
            p += 2;
            continue;
        }
        if (*p == '}') {
            lerr(c, where, "template \"%s\": unmatched '}'", text);
            goto out;
        }
        if (*p != '{') {
            s2l_sb_add(&lit, p++, 1);
            continue;
        }
        const char *close = strchr(p, '}');
        if (close == NULL || close == p + 1) {
            lerr(c, where, "template \"%s\": %s", text, close ? "empty placeholder" : "unterminated '{'");
            goto out;
        }
        if (lit.len > 0) {
            if ((t->parts[t->n_parts++].literal = s2l_sb_take(&lit)) == NULL) {
                oom(c, where);
                goto out;
            }
        }
        char *name = strndup(p + 1, (size_t)(close - p - 1));
        scim_ref ref;
        if (name == NULL) {
            oom(c, where);
            goto out;
        }
        bool found = resolve_scim(c, full, name, where, &ref);
        free(name);
        if (!found)
            goto out;
        if (ref.leaf->type == S2L_T_COMPLEX || ref.leaf->multi_valued || ref.top->multi_valued) {
            lerr(c, where, "template \"%s\": %s is not a single-valued simple attribute", text,
                 ref.leaf->name);
            goto out;
        }
        s2l_tpart *tp = &t->parts[t->n_parts++];
        tp->schema = ref.schema;
        tp->in_ext = ref.in_ext;
        tp->attr = strdup(ref.top->name);
        tp->sub = ref.has_sub ? strdup(ref.leaf->name) : NULL;
        if (tp->attr == NULL || (ref.has_sub && tp->sub == NULL)) {
            oom(c, where);
            goto out;
        }
        p = close + 1;
    }
    if (lit.failed) {
        oom(c, where);
        goto out;
    }
    if (lit.len > 0 && (t->parts[t->n_parts++].literal = s2l_sb_take(&lit)) == NULL) {
        oom(c, where);
        goto out;
    }
    ok = true;
out:
    free(lit.s);
    if (!ok)
        s2l_template_fini(t);
    return ok;
}

static bool get_templates(load_ctx *c, const s2l_resource_type *full, const json_t *obj, const char *key,
                          const char *where, s2l_template **out, size_t *n_out)
{
    char **texts = NULL;
    size_t n = 0;
    bool ok = false;

    *out = NULL;
    *n_out = 0;
    if (!get_strv(c, obj, key, where, false, &texts, &n))
        return false;
    s2l_template *t = calloc(n, sizeof *t);
    if (t == NULL) {
        oom(c, where);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!parse_template(c, full, texts[i], where, &t[i])) {
            for (size_t k = 0; k < i; k++)
                s2l_template_fini(&t[k]);
            free(t);
            goto out;
        }
    }
    *out = t;
    *n_out = n;
    ok = true;
out:
    strv_free_n(texts, n);
    return ok;
}

/* ---- entries ---- */

static void mentry_fini(s2l_mentry *me)
{
    free(me->where);
    free(me->attr);
    free(me->sub);
    free(me->ldap);
    for (size_t i = 0; i < me->n_subs; i++) {
        free(me->subs[i].scim);
        free(me->subs[i].ldap);
        free(me->subs[i].also);
    }
    free(me->subs);
    free(me->type);
    for (size_t i = 0; i < me->n_templates; i++)
        s2l_template_fini(&me->templates[i]);
    free(me->templates);
    strv_free_n(me->constants, me->n_constants);
    free(me->boolean.when_true);
    free(me->boolean.when_false);
    strv_free_n(me->ref_types, me->n_ref_types);
    free(me->placeholder);
    free(me->write_key);
    s2l_transform_fini(&me->transform);
}

/* "true"/"false" members of a "boolean" object: a string, or null for "absent". */
static bool get_bool_repr(load_ctx *c, const json_t *b, const char *key, const char *where, char **out)
{
    const json_t *v = json_object_get(b, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_string(v) || json_string_length(v) == 0) {
        lerr(c, where, "boolean \"%s\" must be a non-empty string or null (attribute absent)", key);
        return false;
    }
    *out = strdup(json_string_value(v));
    return *out != NULL || oom(c, where);
}

static bool get_tristate(load_ctx *c, const json_t *b, const char *key, const char *where, int *out)
{
    const json_t *v = json_object_get(b, key);
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_boolean(v)) {
        lerr(c, where, "boolean \"%s\" must be true, false or null", key);
        return false;
    }
    *out = json_is_true(v) ? 1 : 0;
    return true;
}

static bool parse_boolean(load_ctx *c, const json_t *j, const char *where, s2l_mentry *me, s2l_rmap *rm)
{
    static const char *const bool_keys[] = {"true", "false", "absent", "other", NULL};
    const json_t *b = json_object_get(j, "boolean");
    const json_t *d = json_object_get(j, "deprovision");
    char bw[WHERE_MAX];

    me->is_bool = true;
    me->boolean.absent = -1;
    me->boolean.other = -1;
    if (d != NULL) {
        if (b != NULL) {
            lerr(c, where, "\"deprovision\" and \"boolean\" exclude each other");
            return false;
        }
        if (!json_is_string(d) || strcmp(json_string_value(d), "lock") != 0) {
            lerr(c, where, "\"deprovision\": the supported method is \"lock\"");
            return false;
        }
        if (strcasecmp(me->attr, "active") != 0) {
            lerr(c, where, "\"deprovision\" applies to \"active\" only");
            return false;
        }
        /* ppolicy: the special time 000001010000Z locks until an admin unlocks;
         * other times come from failed-bind lockouts, which IdPs must not see
         * as a deprovisioning, so they read as active. */
        if (me->ldap == NULL && (me->ldap = strdup("pwdAccountLockedTime")) == NULL)
            return oom(c, where);
        if ((me->boolean.when_false = strdup("000001010000Z")) == NULL)
            return oom(c, where);
        me->boolean.absent = 1;
        me->boolean.other = 1;
        rm->deprovision = S2L_DEPROVISION_LOCK;
        return true;
    }
    if (b == NULL) {
        /* LDAP Boolean syntax (RFC 4517 §3.3.3) */
        if ((me->boolean.when_true = strdup("TRUE")) == NULL || (me->boolean.when_false = strdup("FALSE")) == NULL)
            return oom(c, where);
        return true;
    }
    if (!where_fmt(c, bw, where, ".boolean"))
        return false;
    if (!json_is_object(b)) {
        lerr(c, bw, "must be an object");
        return false;
    }
    if (!check_keys(c, b, bw, bool_keys) || !get_bool_repr(c, b, "true", bw, &me->boolean.when_true) ||
        !get_bool_repr(c, b, "false", bw, &me->boolean.when_false) ||
        !get_tristate(c, b, "absent", bw, &me->boolean.absent) ||
        !get_tristate(c, b, "other", bw, &me->boolean.other))
        return false;
    if (me->boolean.when_true == NULL && me->boolean.when_false == NULL) {
        lerr(c, bw, "\"true\" and \"false\" cannot both be absent");
        return false;
    }
    if (me->boolean.when_true && me->boolean.when_false &&
        strcasecmp(me->boolean.when_true, me->boolean.when_false) == 0) {
        lerr(c, bw, "\"true\" and \"false\" must differ");
        return false;
    }
    /* A value written as "absent" must read back as itself. */
    if (me->boolean.when_true == NULL && me->boolean.absent == 0) {
        lerr(c, bw, "true is written as an absent attribute, so \"absent\" cannot be false");
        return false;
    }
    if (me->boolean.when_false == NULL && me->boolean.absent == 1) {
        lerr(c, bw, "false is written as an absent attribute, so \"absent\" cannot be true");
        return false;
    }
    if (me->boolean.when_true == NULL)
        me->boolean.absent = 1;
    if (me->boolean.when_false == NULL)
        me->boolean.absent = 0;
    return true;
}

static bool parse_reference(load_ctx *c, const json_t *j, const char *where, s2l_mentry *me,
                            const scim_ref *ref)
{
    const json_t *rv = json_object_get(j, "reference_value");
    const json_t *src = json_object_get(j, "source");

    me->kind = S2L_ME_REFERENCE;
    if (ref->has_sub || ref->top->type != S2L_T_COMPLEX || s2l_attr_find_sub(ref->top, "value") == NULL) {
        lerr(c, where, "\"reference\" needs a complex attribute with a \"value\" sub-attribute, not \"%s\"",
             ref->leaf->name);
        return false;
    }
    if (!get_strv(c, j, "reference", where, false, &me->ref_types, &me->n_ref_types))
        return false;
    if (rv != NULL) {
        if (!json_is_string(rv) ||
            (strcmp(json_string_value(rv), "dn") != 0 && strcmp(json_string_value(rv), "rdn") != 0)) {
            lerr(c, where, "\"reference_value\" must be \"dn\" or \"rdn\"");
            return false;
        }
        me->ref_rdn = strcmp(json_string_value(rv), "rdn") == 0;
        if (me->ref_rdn && me->n_ref_types != 1) {
            lerr(c, where, "\"reference_value\": \"rdn\" needs exactly one referenced resource type");
            return false;
        }
    }
    if (json_object_get(j, "placeholder") != NULL) {
        if (!ref->top->multi_valued) {
            lerr(c, where, "\"placeholder\" only applies to multi-valued references");
            return false;
        }
        if (!get_string(c, j, "placeholder", where, true, true, &me->placeholder))
            return false;
        me->has_placeholder = true;
    }
    if (!get_bool(c, j, "delta", where, &me->delta))
        return false;
    if (me->delta && !ref->top->multi_valued) {
        lerr(c, where, "\"delta\" only applies to multi-valued attributes");
        return false;
    }
    if (src != NULL) {
        if (!json_is_string(src) ||
            (strcmp(json_string_value(src), "attribute") != 0 && strcmp(json_string_value(src), "search") != 0)) {
            lerr(c, where, "\"source\" must be \"attribute\" or \"search\"");
            return false;
        }
        me->virtual_attr = strcmp(json_string_value(src), "search") == 0;
        if (me->virtual_attr && ref->top->mutability != S2L_MUT_READ_ONLY) {
            lerr(c, where, "\"source\": \"search\" only applies to read-only attributes (groups)");
            return false;
        }
    }
    return true;
}

static bool parse_multi(load_ctx *c, const json_t *j, const char *where, s2l_mentry *me, const scim_ref *ref)
{
    const json_t *l = json_object_get(j, "ldap");

    me->kind = S2L_ME_MULTI;
    if (ref->has_sub) {
        lerr(c, where, "map the values of multi-valued \"%s\" with \"type\", not a sub-attribute path",
             ref->top->name);
        return false;
    }
    if (json_object_get(j, "type") != NULL) {
        const char *tv = json_string_value(json_object_get(j, "type"));
        if (ref->top->type != S2L_T_COMPLEX ||
            (s2l_attr_find_sub(ref->top, "type") == NULL && (tv == NULL || strcmp(tv, "*") != 0))) {
            lerr(c, where, "\"type\": %s has no \"type\" sub-attribute", ref->top->name);
            return false;
        }
        if (!get_string(c, j, "type", where, true, false, &me->type))
            return false;
        if (strcmp(me->type, "*") == 0) {
            /* Values no other entry stores, each as JSON text: nothing is lost. */
            me->catch_all = true;
            free(me->type);
            me->type = NULL;
            if (json_object_get(j, "primary") != NULL) {
                lerr(c, where, "\"primary\" does not apply to \"type\": \"*\" (the values keep their own)");
                return false;
            }
            if (!json_is_string(l)) {
                lerr(c, where, "\"type\": \"*\" needs one LDAP attribute in \"ldap\" (values are stored as JSON)");
                return false;
            }
            return get_ldap_attr(c, j, "ldap", where, true, &me->ldap);
        }
    }
    if (!get_bool(c, j, "primary", where, &me->primary))
        return false;
    if (me->primary && (ref->top->type != S2L_T_COMPLEX || s2l_attr_find_sub(ref->top, "primary") == NULL)) {
        lerr(c, where, "\"primary\": %s has no \"primary\" sub-attribute", ref->top->name);
        return false;
    }
    if (json_is_object(l)) {
        char lw[WHERE_MAX];
        const char *k;
        json_t *v;
        size_t i = 0;
        if (!where_fmt(c, lw, where, ".ldap"))
            return false;
        if (ref->top->type != S2L_T_COMPLEX || json_object_size(l) == 0) {
            lerr(c, lw, "a per-sub-attribute map needs a complex attribute and at least one entry");
            return false;
        }
        me->subs = calloc(json_object_size(l), sizeof *me->subs);
        if (me->subs == NULL)
            return oom(c, lw);
        json_object_foreach((json_t *)l, k, v) {
            const s2l_attr_def *sd = s2l_attr_find_sub(ref->top, k);
            if (sd == NULL || sd->type == S2L_T_BOOLEAN || strcasecmp(k, "type") == 0) {
                lerr(c, lw, "\"%s\" is not a string sub-attribute of %s", k, ref->top->name);
                return false;
            }
            /* "attr" or ["attr", "also"]: the second gets the value when it fits its syntax */
            const json_t *first = json_is_array(v) ? json_array_get(v, 0) : v;
            const json_t *second = json_is_array(v) ? json_array_get(v, 1) : NULL;
            if (!json_is_string(first) || !ldap_attr_ok(json_string_value(first)) ||
                (json_is_array(v) && (json_array_size(v) > 2 || json_array_size(v) == 0)) ||
                (second != NULL && (!json_is_string(second) || !ldap_attr_ok(json_string_value(second))))) {
                lerr(c, lw, "\"%s\" must name an LDAP attribute, or two in an array", k);
                return false;
            }
            me->subs[i].scim = strdup(sd->name);
            me->subs[i].ldap = strdup(json_string_value(first));
            me->subs[i].also = second ? strdup(json_string_value(second)) : NULL;
            me->n_subs = ++i;
            if (me->subs[i - 1].scim == NULL || me->subs[i - 1].ldap == NULL ||
                (second != NULL && me->subs[i - 1].also == NULL))
                return oom(c, lw);
        }
        return true;
    }
    if (ref->top->type == S2L_T_COMPLEX && s2l_attr_find_sub(ref->top, "value") == NULL) {
        lerr(c, where, "\"ldap\": %s has no \"value\"; map its sub-attributes with an object", ref->top->name);
        return false;
    }
    return get_ldap_attr(c, j, "ldap", where, true, &me->ldap);
}

/* Keys a kind of entry understands; another known key is a mistake (it would
 * be silently ignored otherwise). */
static bool check_kind_keys(load_ctx *c, const json_t *j, const char *where, const s2l_mentry *me)
{
    static const char *const derived[] = {"ldap", "template", "transform", "create_only", "description", NULL};
    static const char *const password[] = {"scim", "ldap", "scheme", "description", NULL};
    static const char *const constant[] = {"ldap", "constant", "description", NULL};
    static const char *const simple[] = {"scim", "ldap", "fallback", "read_only", "description", NULL};
    static const char *const boolean[] = {"scim", "ldap", "boolean", "deprovision", "read_only", "description", NULL};
    static const char *const multi[] = {"scim", "ldap", "type", "primary", "read_only", "description", NULL};
    static const char *const reference[] = {"scim", "ldap", "reference", "reference_value", "placeholder", "delta",
                                            "source", "read_only", "description", NULL};
    const char *const *known = me->is_password              ? password
                               : me->kind == S2L_ME_DERIVED    ? derived
                               : me->kind == S2L_ME_CONSTANT ? constant
                               : me->kind == S2L_ME_MULTI    ? multi
                               : me->kind == S2L_ME_REFERENCE ? reference
                               : me->is_bool                 ? boolean
                                                             : simple;
    const char *k = first_unknown_key(j, known);
    if (k)
        lerr(c, where, "\"%s\" does not apply to this kind of entry", k);
    return k == NULL;
}

static bool parse_entry_kind(load_ctx *c, s2l_rmap *rm, const s2l_resource_type *full, const json_t *j,
                             const char *where, s2l_mentry *me);

static bool parse_entry(load_ctx *c, s2l_rmap *rm, const s2l_resource_type *full, const json_t *j,
                        const char *where, s2l_mentry *me)
{
    return parse_entry_kind(c, rm, full, j, where, me) && check_kind_keys(c, j, where, me);
}

static bool parse_entry_kind(load_ctx *c, s2l_rmap *rm, const s2l_resource_type *full, const json_t *j,
                             const char *where, s2l_mentry *me)
{
    static const char *const keys[] = {"scim", "ldap", "type", "primary", "fallback", "template", "constant",
                                       "boolean", "deprovision", "reference", "reference_value",
                                       "placeholder", "delta", "source", "read_only", "scheme", "transform",
                                       "create_only", "description", NULL};
    const json_t *scim = json_object_get(j, "scim");
    scim_ref ref;

    if (!json_is_object(j)) {
        lerr(c, where, "must be an object");
        return false;
    }
    if ((me->where = strdup(where)) == NULL)
        return oom(c, where);
    if (!check_keys(c, j, where, keys))
        return false;

    if (scim == NULL) {
        bool has_t = json_object_get(j, "template") != NULL, has_c = json_object_get(j, "constant") != NULL;
        if (has_t == has_c) {
            lerr(c, where, "an entry without \"scim\" needs exactly one of \"template\" or \"constant\"");
            return false;
        }
        if (!get_ldap_attr(c, j, "ldap", where, true, &me->ldap))
            return false;
        if (has_t) {
            me->kind = S2L_ME_DERIVED;
            if (!get_bool(c, j, "create_only", where, &me->create_only))
                return false;
            if (json_object_get(j, "transform") != NULL) {
                s2l_load_err e;
                char tw[WHERE_MAX];
                if (!where_fmt(c, tw, where, ".transform"))
                    return false;
                if (!s2l_transform_parse(&me->transform, json_object_get(j, "transform"), tw, &e)) {
                    lerr(c, e.where, "%s", e.msg);
                    return false;
                }
            }
            return get_templates(c, full, j, "template", where, &me->templates, &me->n_templates);
        }
        me->kind = S2L_ME_CONSTANT;
        return get_strv(c, j, "constant", where, false, &me->constants, &me->n_constants);
    }
    if (!json_is_string(scim)) {
        lerr(c, where, "\"scim\" must be a string");
        return false;
    }
    if (!resolve_scim(c, full, json_string_value(scim), where, &ref))
        return false;
    if (s2l_attr_is_common(ref.top) && strcmp(ref.top->name, "externalId") != 0) {
        lerr(c, where, "\"%s\" is provided by the server (id attribute and meta settings), not mapped",
             ref.top->name);
        return false;
    }
    me->schema = ref.schema;
    me->in_ext = ref.in_ext;
    me->top = ref.top;
    me->leaf = ref.leaf;
    if ((me->attr = strdup(ref.top->name)) == NULL)
        return oom(c, where);
    if (ref.has_sub && (me->sub = strdup(ref.leaf->name)) == NULL)
        return oom(c, where);
    me->write_only = ref.top->mutability == S2L_MUT_WRITE_ONLY || ref.leaf->mutability == S2L_MUT_WRITE_ONLY;
    me->read_only = ref.top->mutability == S2L_MUT_READ_ONLY || ref.leaf->mutability == S2L_MUT_READ_ONLY;
    bool ro = false;
    if (!get_bool(c, j, "read_only", where, &ro))
        return false;
    me->read_only = me->read_only || ro;
    if (me->read_only && me->write_only) {
        lerr(c, where, "%s is write-only and cannot be read-only as well", ref.leaf->name);
        return false;
    }

    if (json_object_get(j, "reference") != NULL) {
        if (!get_ldap_attr(c, j, "ldap", where, true, &me->ldap))
            return false;
        return parse_reference(c, j, where, me, &ref);
    }
    if (ref.top->multi_valued)
        return parse_multi(c, j, where, me, &ref);

    me->kind = S2L_ME_SIMPLE;
    if (ref.leaf->type == S2L_T_COMPLEX) {
        lerr(c, where, "\"%s\" is complex: map its sub-attributes (\"%s.<sub>\")", ref.top->name, ref.top->name);
        return false;
    }
    if (!get_ldap_attr(c, j, "ldap", where, ref.leaf->type != S2L_T_BOOLEAN, &me->ldap))
        return false;
    if (ref.leaf->type == S2L_T_BOOLEAN) {
        /* {"scim": "active"} alone: carried out by the type's "deprovision" policy */
        if (me->ldap == NULL && strcasecmp(me->attr, "active") == 0 && !ref.has_sub &&
            json_object_get(j, "boolean") == NULL && json_object_get(j, "deprovision") == NULL) {
            me->is_bool = true;
            me->by_policy = true;
            return true;
        }
        if (!parse_boolean(c, j, where, me, rm))
            return false;
        if (me->ldap == NULL) {
            lerr(c, where, "\"ldap\" is required");
            return false;
        }
        return true;
    }
    if (strcasecmp(me->attr, "password") == 0 && !me->in_ext && me->write_only) {
        /* The password is written per "scheme": hashed here, encoded for AD,
         * or left to the directory; never stored as sent by accident. */
        const json_t *sch = json_object_get(j, "scheme");
        me->is_password = true;
        me->pw_scheme = strcasecmp(me->ldap, "unicodePwd") == 0 ? S2L_PW_UNICODEPWD : S2L_PW_CRYPT_SHA512;
        if (sch != NULL && (!json_is_string(sch) || !s2l_pw_scheme_parse(json_string_value(sch), &me->pw_scheme))) {
            lerr(c, where, "\"scheme\" must be \"{CRYPT}\", \"{SSHA512}\", \"{SSHA256}\", \"{SSHA}\", "
                           "\"directory\" or \"unicodePwd\"");
            return false;
        }
        if ((me->pw_scheme == S2L_PW_UNICODEPWD) != (strcasecmp(me->ldap, "unicodePwd") == 0)) {
            lerr(c, where, "\"scheme\": \"unicodePwd\" goes with the LDAP attribute unicodePwd (Active "
                           "Directory) and only with it");
            return false;
        }
        if (s2l_pw_scheme_binary(me->pw_scheme)) {
            size_t n = strlen(me->ldap) + sizeof ";base64";
            if ((me->write_key = malloc(n)) == NULL)
                return oom(c, where);
            snprintf(me->write_key, n, "%s;base64", me->ldap);
        }
        return true;
    }
    if (json_object_get(j, "fallback") != NULL &&
        !get_templates(c, full, j, "fallback", where, &me->templates, &me->n_templates))
        return false;
    return true;
}

/* Mistakes that only show across entries. */
static bool check_entries(load_ctx *c, const s2l_rmap *rm)
{
    for (size_t i = 0; i < rm->n_entries; i++) {
        const s2l_mentry *a = &rm->entries[i];
        if (a->attr == NULL)
            continue;
        for (size_t k = 0; k < i; k++) {
            const s2l_mentry *b = &rm->entries[k];
            if (b->top != a->top)
                continue;
            if (a->kind == S2L_ME_MULTI && b->kind == S2L_ME_MULTI && (a->catch_all || b->catch_all)) {
                if (a->catch_all && b->catch_all) {
                    lerr(c, a->where, "%s has a \"type\": \"*\" entry already at %s", a->attr, b->where);
                    return false;
                }
                continue;
            }
            if (a->kind == S2L_ME_MULTI && b->kind == S2L_ME_MULTI) {
                /* an untyped entry takes every value, so it cannot share the attribute */
                if (a->type == NULL || b->type == NULL || strcasecmp(a->type, b->type) == 0) {
                    lerr(c, a->where, "values of %s%s%s are already mapped at %s", a->attr,
                         a->type ? " of type " : "", a->type ? a->type : "", b->where);
                    return false;
                }
                if (a->primary && b->primary) {
                    lerr(c, a->where, "only one type of %s can be primary (see %s)", a->attr, b->where);
                    return false;
                }
                continue;
            }
            if (a->kind == S2L_ME_SIMPLE && b->kind == S2L_ME_SIMPLE && a->leaf != b->leaf)
                continue;
            lerr(c, a->where, "%s%s%s is already mapped at %s", a->attr, a->sub ? "." : "", a->sub ? a->sub : "",
                 b->where);
            return false;
        }
    }
    return true;
}

/* ---- views ---- */

typedef struct keep_arg {
    const s2l_rmap *rm;
} keep_arg;

static bool keep_def(const s2l_attr_def *def, void *arg)
{
    const s2l_rmap *rm = ((const keep_arg *)arg)->rm;
    const s2l_attr_def *top = def->parent ? def->parent : def;

    for (size_t i = 0; i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->top != top)
            continue;
        if (def->parent == NULL)
            return true;
        switch (me->kind) {
        case S2L_ME_SIMPLE:
            if (me->leaf == def)
                return true;
            break;
        case S2L_ME_REFERENCE:
            return true; /* value, $ref, type, display: all rendered from the reference */
        case S2L_ME_MULTI:
            if (me->catch_all)
                return true; /* JSON text holds every sub-attribute */
            if (strcasecmp(def->name, "type") == 0 && me->type != NULL)
                return true;
            if (strcasecmp(def->name, "primary") == 0 && me->primary)
                return true;
            if (strcasecmp(def->name, "value") == 0 && me->ldap != NULL)
                return true;
            for (size_t k = 0; k < me->n_subs; k++)
                if (strcasecmp(def->name, me->subs[k].scim) == 0)
                    return true;
            break;
        default:
            break;
        }
    }
    return false;
}

/* Mutability set by the mapping (read_only) must show in the view, because
 * normalisation, PATCH and /Schemas all take it from there. */
static void apply_overrides(s2l_rmap *rm, s2l_schema *view, const s2l_schema *full)
{
    /* RFC 7643 §4.2 calls Group.displayName REQUIRED (the §8.7.1 schema says
     * otherwise); normalisation enforces it, so /Schemas says so. */
    if (s2l_schema_is(full, S2L_URN_GROUP))
        for (size_t k = 0; k < view->n_attrs; k++)
            if (strcasecmp(view->attrs[k].name, "displayName") == 0)
                view->attrs[k].required = true;
    for (size_t i = 0; i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->schema != full || !me->read_only)
            continue;
        for (size_t k = 0; k < view->n_attrs; k++) {
            s2l_attr_def *d = &view->attrs[k];
            if (strcmp(d->name, me->attr) != 0)
                continue;
            if (me->sub == NULL)
                d->mutability = S2L_MUT_READ_ONLY;
            for (size_t s = 0; s < d->n_sub; s++)
                if (me->sub == NULL || strcmp(d->sub[s].name, me->sub) == 0)
                    d->sub[s].mutability = S2L_MUT_READ_ONLY;
        }
    }
}

static bool build_views(load_ctx *c, s2l_rmap *rm, const char *where)
{
    keep_arg ka = {rm};

    rm->core_view = s2l_schema_filter(rm->core, keep_def, &ka);
    if (rm->core_view == NULL)
        return oom(c, where);
    apply_overrides(rm, rm->core_view, rm->core);
    for (size_t i = 0; i < rm->n_ext; i++) {
        rm->ext_views[i] = s2l_schema_filter(rm->ext[i], keep_def, &ka);
        if (rm->ext_views[i] == NULL)
            return oom(c, where);
        apply_overrides(rm, rm->ext_views[i], rm->ext[i]);
        rm->ext_views_const[i] = rm->ext_views[i];
    }
    rm->rt.name = rm->name;
    rm->rt.endpoint = rm->endpoint;
    rm->rt.description = rm->description;
    rm->rt.core = rm->core_view;
    rm->rt.ext = rm->ext_views_const;
    rm->rt.ext_required = rm->ext_required;
    rm->rt.n_ext = rm->n_ext;
    rm->rt.json_limits = &rm->mapping->limits.json;
    return true;
}

/* ---- resource types ---- */

static const s2l_schema *find_schema(const s2l_mapping *m, const char *urn)
{
    for (size_t i = 0; i < m->n_schemas; i++)
        if (s2l_schema_is(m->schemas[i], urn))
            return m->schemas[i];
    return NULL;
}

static bool balanced_filter(const char *f)
{
    int depth = 0;
    if (f[0] != '(')
        return false;
    for (const char *p = f; *p; p++) {
        if (depth == 0 && p != f)
            return false; /* text after the closing parenthesis */
        if (*p == '(')
            depth++;
        else if (*p == ')')
            depth--;
    }
    return depth == 0;
}

/* "ordering_rules": {"uid": "caseIgnoreOrderingMatch", ...}: the ordering
 * rule sent with a server-side sort on that LDAP attribute (slapd needs one for
 * attributes whose schema has no ORDERING rule). Kept as pairs attr, rule. */
static bool parse_ordering_rules(load_ctx *c, s2l_rmap *rm, const json_t *j, const char *where)
{
    if (j == NULL)
        return true;
    if (!json_is_object(j)) {
        lerr(c, where, "\"ordering_rules\" must be an object of LDAP attribute: ordering rule");
        return false;
    }
    if ((rm->ordering_rules = calloc(2 * json_object_size(j) + 1, sizeof *rm->ordering_rules)) == NULL) {
        oom(c, where);
        return false;
    }
    size_t n = 0;
    const char *attr;
    const json_t *rule;
    json_object_foreach((json_t *)j, attr, rule) {
        /* A rule is a name or a numeric OID, the same shape as an attribute name. */
        if (!ldap_attr_ok(attr) || strchr(attr, ';') || !json_is_string(rule) ||
            !ldap_attr_ok(json_string_value(rule)) || strchr(json_string_value(rule), ';')) {
            lerr(c, where, "\"ordering_rules\": \"%s\" must be an LDAP attribute name mapped to an ordering rule name",
                 attr);
            return false;
        }
        if ((rm->ordering_rules[n] = strdup(attr)) == NULL ||
            (rm->ordering_rules[n + 1] = strdup(json_string_value(rule))) == NULL) {
            oom(c, where);
            return false;
        }
        n += 2;
    }
    return true;
}

static bool parse_ldap_settings(load_ctx *c, s2l_rmap *rm, const s2l_resource_type *full, const json_t *l,
                                const char *where)
{
    static const char *const keys[] = {"base_dn", "scope", "object_classes", "object_filter", "rdn",
                                       "id_attribute", "id_syntax", "created_attribute", "modified_attribute",
                                       "version_attribute", "sort_attribute", "unique_attribute",
                                       "ordering_rules", "keep_attribute", "range_retrieval", NULL};
    char *scope = NULL, *syntax = NULL, **rdn_texts = NULL;
    size_t n_rdn_texts = 0;
    bool ok = false;

    if (!json_is_object(l)) {
        lerr(c, where, "must be an object");
        return false;
    }
    if (!check_keys(c, l, where, keys) || !get_string(c, l, "base_dn", where, true, false, &rm->base_dn) ||
        !get_string(c, l, "scope", where, false, false, &scope) ||
        !get_strv(c, l, "object_classes", where, false, &rm->object_classes, &rm->n_object_classes) ||
        !get_string(c, l, "object_filter", where, true, false, &rm->object_filter) ||
        !get_ldap_attr(c, l, "id_attribute", where, false, &rm->id_attr) ||
        !get_string(c, l, "id_syntax", where, false, false, &syntax) ||
        !get_strv(c, l, "rdn", where, false, &rdn_texts, &n_rdn_texts) ||
        !get_ldap_attr(c, l, "keep_attribute", where, false, &rm->keep_attr))
        goto out; /* "rdn" is required: get_strv refuses a missing member */
    const json_t *rr = json_object_get(l, "range_retrieval");
    if (rr != NULL) {
        if (!json_is_integer(rr) || json_integer_value(rr) < 0 || json_integer_value(rr) > 1000000) {
            lerr(c, where, "\"range_retrieval\" must be an integer from 0 (off) to 1000000 (values per range)");
            goto out;
        }
        rm->range_size = (unsigned)json_integer_value(rr);
    }
    if (scope == NULL || strcmp(scope, "one") == 0) {
        rm->info.scope = S2L_SCOPE_ONE;
    } else if (strcmp(scope, "sub") == 0) {
        rm->info.scope = S2L_SCOPE_SUB;
    } else {
        lerr(c, where, "\"scope\" must be \"one\" or \"sub\"");
        goto out;
    }
    if (!balanced_filter(rm->object_filter)) {
        lerr(c, where, "\"object_filter\": \"%s\" is not a parenthesised LDAP filter", rm->object_filter);
        goto out;
    }
    if (rm->id_attr == NULL && (rm->id_attr = strdup("entryUUID")) == NULL) {
        oom(c, where);
        goto out;
    }
    /* Each directory's own unique id has a known form: defaults by name. */
    static const struct { const char *name, *attr; s2l_id_syntax syn; } syntaxes[] = {
        {"uuid", "entryUUID", S2L_IDSYN_UUID}, {"guid", "objectGUID", S2L_IDSYN_GUID},
        {"nsuniqueid", "nsUniqueId", S2L_IDSYN_NSUNIQUEID}, {"any", NULL, S2L_IDSYN_ANY},
    };
    rm->id_syntax = S2L_IDSYN_ANY;
    bool syntax_ok = syntax == NULL;
    for (size_t i = 0; i < sizeof syntaxes / sizeof syntaxes[0]; i++) {
        if (syntax ? strcmp(syntax, syntaxes[i].name) == 0
                   : syntaxes[i].attr && strcasecmp(rm->id_attr, syntaxes[i].attr) == 0) {
            rm->id_syntax = syntaxes[i].syn;
            syntax_ok = true;
        }
    }
    if (!syntax_ok) {
        lerr(c, where, "\"id_syntax\" must be \"uuid\", \"guid\", \"nsuniqueid\" or \"any\"");
        goto out;
    }
    rm->info.id_is_uuid = rm->id_syntax == S2L_IDSYN_UUID;
    /* Timestamps default to OpenLDAP's operational attributes; null turns one off. */
    static const struct { const char *key, *def; size_t off; } meta_keys[] = {
        {"created_attribute", "createTimestamp", offsetof(s2l_rmap, created_attr)},
        {"modified_attribute", "modifyTimestamp", offsetof(s2l_rmap, modified_attr)},
        {"version_attribute", "entryCSN", offsetof(s2l_rmap, version_attr)},
        {"sort_attribute", NULL, offsetof(s2l_rmap, sort_attr)},
        {"unique_attribute", NULL, offsetof(s2l_rmap, unique_attr)},
    };
    for (size_t i = 0; i < sizeof meta_keys / sizeof meta_keys[0]; i++) {
        char **dst = (char **)((char *)rm + meta_keys[i].off);
        const json_t *v = json_object_get(l, meta_keys[i].key);
        if (!get_ldap_attr(c, l, meta_keys[i].key, where, false, dst))
            goto out;
        if (v == NULL && meta_keys[i].def && (*dst = strdup(meta_keys[i].def)) == NULL) {
            oom(c, where);
            goto out;
        }
    }
    if (rm->sort_attr == NULL && (rm->sort_attr = strdup(rm->id_attr)) == NULL) {
        oom(c, where);
        goto out;
    }
    if (!parse_ordering_rules(c, rm, json_object_get(l, "ordering_rules"), where))
        goto out;
    rm->rdn = calloc(n_rdn_texts, sizeof *rm->rdn);
    if (rm->rdn == NULL) {
        oom(c, where);
        goto out;
    }
    for (size_t i = 0; i < n_rdn_texts; i++) {
        char *eq = strchr(rdn_texts[i], '=');
        if (eq == NULL || eq == rdn_texts[i]) {
            lerr(c, where, "\"rdn\": \"%s\" must look like attr={template}", rdn_texts[i]);
            goto out;
        }
        *eq = 0;
        if (!ldap_attr_ok(rdn_texts[i]) || (rm->rdn_attr && strcasecmp(rm->rdn_attr, rdn_texts[i]) != 0)) {
            lerr(c, where, "\"rdn\": every template must name the same LDAP attribute");
            goto out;
        }
        if (rm->rdn_attr == NULL && (rm->rdn_attr = strdup(rdn_texts[i])) == NULL) {
            oom(c, where);
            goto out;
        }
        if (!parse_template(c, full, eq + 1, where, &rm->rdn[i]))
            goto out;
        rm->n_rdn = i + 1;
        if (rm->rdn[i].n_parts == 0) {
            lerr(c, where, "\"rdn\": empty value template");
            goto out;
        }
    }
    ok = true;
out:
    free(scope);
    free(syntax);
    strv_free_n(rdn_texts, n_rdn_texts);
    return ok;
}

static bool parse_rmap(load_ctx *c, s2l_rmap *rm, const json_t *j, const char *where)
{
    static const char *const keys[] = {"name", "endpoint", "description", "schema", "extensions", "ldap",
                                       "attributes", "deprovision", "provisioning", NULL};
    char w[WHERE_MAX], *schema_urn = NULL;
    const json_t *exts, *attrs;
    s2l_resource_type full = {0};
    bool ok = false;

    if (!json_is_object(j)) {
        lerr(c, where, "must be an object");
        return false;
    }
    if (!check_keys(c, j, where, keys) || !get_string(c, j, "name", where, true, false, &rm->name) ||
        !get_string(c, j, "endpoint", where, false, false, &rm->endpoint) ||
        !get_string(c, j, "description", where, false, true, &rm->description) ||
        !get_string(c, j, "schema", where, true, false, &schema_urn))
        goto out;
    if (rm->endpoint == NULL) {
        size_t n = strlen(rm->name) + 3;
        if ((rm->endpoint = malloc(n)) == NULL) {
            oom(c, where);
            goto out;
        }
        snprintf(rm->endpoint, n, "/%ss", rm->name);
    } else if (rm->endpoint[0] != '/' || strchr(rm->endpoint + 1, '/') != NULL) {
        lerr(c, where, "\"endpoint\" must look like \"/Users\"");
        goto out;
    }
    if ((rm->core = find_schema(c->m, schema_urn)) == NULL) {
        lerr(c, where, "\"schema\": no schema \"%s\" in the schema folder", schema_urn);
        goto out;
    }

    exts = json_object_get(j, "extensions");
    if (exts != NULL && !json_is_array(exts)) {
        lerr(c, where, "\"extensions\" must be an array");
        goto out;
    }
    size_t n_ext = json_array_size(exts);
    rm->ext = calloc(n_ext + 1, sizeof *rm->ext);
    rm->ext_views = calloc(n_ext + 1, sizeof *rm->ext_views);
    rm->ext_views_const = calloc(n_ext + 1, sizeof *rm->ext_views_const);
    rm->ext_required = calloc(n_ext + 1, sizeof *rm->ext_required);
    if (!rm->ext || !rm->ext_views || !rm->ext_views_const || !rm->ext_required) {
        oom(c, where);
        goto out;
    }
    for (size_t i = 0; i < n_ext; i++) {
        static const char *const ext_keys[] = {"schema", "required", NULL};
        const json_t *e = json_array_get(exts, i);
        char *urn = NULL;
        if (!where_fmt(c, w, where, ".extensions[%zu]", i))
            goto out;
        if (!json_is_object(e)) {
            lerr(c, w, "must be an object");
            goto out;
        }
        if (!check_keys(c, e, w, ext_keys) || !get_string(c, e, "schema", w, true, false, &urn) ||
            !get_bool(c, e, "required", w, &rm->ext_required[i])) {
            free(urn);
            goto out;
        }
        rm->ext[i] = find_schema(c->m, urn);
        if (rm->ext[i] == NULL || rm->ext[i] == rm->core) {
            lerr(c, w, "\"schema\": %s \"%s\"", rm->ext[i] ? "core schema used as extension:" :
                 "no such schema in the schema folder:", urn);
            free(urn);
            goto out;
        }
        free(urn);
        for (size_t k = 0; k < i; k++) {
            if (rm->ext[k] == rm->ext[i]) {
                lerr(c, w, "\"schema\": listed twice");
                goto out;
            }
        }
        rm->n_ext = i + 1;
    }
    full.name = rm->name;
    full.core = rm->core;
    full.ext = rm->ext;
    full.n_ext = rm->n_ext;

    if (!where_fmt(c, w, where, ".ldap"))
        goto out;
    if (json_object_get(j, "ldap") == NULL) {
        lerr(c, where, "\"ldap\" is required");
        goto out;
    }
    if (!parse_ldap_settings(c, rm, &full, json_object_get(j, "ldap"), w))
        goto out;

    attrs = json_object_get(j, "attributes");
    if (!json_is_array(attrs) || json_array_size(attrs) == 0) {
        lerr(c, where, "\"attributes\" must be a non-empty array");
        goto out;
    }
    rm->entries = calloc(json_array_size(attrs), sizeof *rm->entries);
    if (rm->entries == NULL) {
        oom(c, where);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(attrs); i++) {
        if (!where_fmt(c, w, where, ".attributes[%zu]", i))
            goto out;
        rm->n_entries = i + 1;
        if (!parse_entry(c, rm, &full, json_array_get(attrs, i), w, &rm->entries[i]))
            goto out;
    }
    if (!check_entries(c, rm))
        goto out;
    {
        s2l_load_err e;
        if (!s2l_dp_parse(rm, json_object_get(j, "deprovision"), where, &e) ||
            !s2l_scope_parse(rm, json_object_get(j, "provisioning"), where, &e)) {
            lerr(c, e.where, "%s", e.msg);
            goto out;
        }
    }
    ok = true;
out:
    free(schema_urn);
    return ok;
}

static const char *policy_name(s2l_attr_policy p)
{
    return p == S2L_POLICY_KEEP ? "keep" : p == S2L_POLICY_IGNORE ? "ignore" : "reject";
}

/* The mapping's policies as this type applies them; "keep" needs a place. */
static bool finish_policies(load_ctx *c, s2l_rmap *rm, const char *where)
{
    const s2l_mapping *m = c->m;
    static const char *const keys[] = {"unknown_attributes", "unmapped_attributes", "unknown_schemas"};
    const s2l_attr_policy vals[] = {m->unknown_attrs, m->unmapped_attrs, m->unknown_schemas};

    for (size_t i = 0; i < 3; i++) {
        if (vals[i] == S2L_POLICY_KEEP && rm->keep_attr == NULL) {
            lerr(c, where, "\"%s\": \"keep\" needs \"ldap.keep_attribute\" (where kept content is stored)", keys[i]);
            return false;
        }
    }
    rm->full_rt.name = rm->name;
    rm->full_rt.endpoint = rm->endpoint;
    rm->full_rt.description = rm->description;
    rm->full_rt.core = rm->core;
    rm->full_rt.ext = rm->ext;
    rm->full_rt.ext_required = rm->ext_required;
    rm->full_rt.n_ext = rm->n_ext;
    rm->full_rt.json_limits = rm->rt.json_limits;
    rm->policies.unknown = m->unknown_attrs;
    rm->policies.unmapped = m->unmapped_attrs;
    rm->policies.schemas = m->unknown_schemas;
    rm->policies.full = &rm->full_rt;
    if (m->unknown_manager == S2L_POLICY_KEEP && rm->keep_attr == NULL) {
        for (size_t i = 0; i < rm->n_entries; i++) {
            const s2l_mentry *me = &rm->entries[i];
            if (me->kind == S2L_ME_REFERENCE && !me->top->multi_valued && !me->read_only) {
                lerr(c, where, "\"unknown_manager\": \"keep\" needs \"ldap.keep_attribute\" (where %s is kept)",
                     me->attr);
                return false;
            }
        }
    }
    rm->unknown_manager = m->unknown_manager >= 0 ? (s2l_attr_policy)m->unknown_manager
                          : rm->keep_attr ? S2L_POLICY_KEEP : S2L_POLICY_REJECT;
    (void)policy_name;
    return true;
}

/* A SCIM value that may not fit the LDAP syntax chosen for it is refused at
 * run time (400 naming the SCIM path) unless it has somewhere else to go: say
 * so at start, so the admin can map it differently. */
static int warn_syntax(load_ctx *c, const s2l_rmap *rm, const s2l_mentry *me, const char *scim_path,
                       const char *ldap, const char *also, const s2l_attr_def *leaf)
{
    s2l_ldap_syntax syn = s2l_ldap_syntax_of(ldap);
    char msg[768];

    if (!s2l_ldap_syntax_narrow(syn))
        return 0;
    if (also != NULL && !s2l_ldap_syntax_narrow(s2l_ldap_syntax_of(also)))
        return 0;
    if (leaf != NULL && ((leaf->type == S2L_T_INTEGER && syn == S2L_LSYN_INTEGER) ||
                         (leaf->type == S2L_T_BOOLEAN) || (leaf->type == S2L_T_DATETIME && syn == S2L_LSYN_GENTIME)))
        return 0;
    /* values of a multi-valued attribute that do not fit go to its "type": "*" entry */
    if (me->kind == S2L_ME_MULTI) {
        for (size_t i = 0; i < rm->n_entries; i++)
            if (rm->entries[i].catch_all && rm->entries[i].top == me->top)
                return 0;
    }
    snprintf(msg, sizeof msg,
             "%s: %s: %s is stored in LDAP attribute %s (%s syntax), which is narrower than a SCIM %s: "
             "values outside it are refused with 400",
             c->file, me->where, scim_path, ldap, s2l_ldap_syntax_name(syn),
             leaf ? s2l_attr_type_name(leaf->type) : "string");
    return json_array_append_new(c->m->warnings, json_string(msg));
}

static int collect_warnings(load_ctx *c, const s2l_rmap *rm)
{
    char path[300];

    for (size_t i = 0; i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        int rc = 0;
        if (me->read_only || me->kind == S2L_ME_REFERENCE || me->kind == S2L_ME_CONSTANT || me->catch_all ||
            (me->kind == S2L_ME_SIMPLE && me->is_bool))
            continue;
        if (me->kind == S2L_ME_DERIVED) {
            snprintf(path, sizeof path, "a template");
            rc = warn_syntax(c, rm, me, path, me->ldap, NULL, NULL);
        } else if (me->kind == S2L_ME_SIMPLE) {
            snprintf(path, sizeof path, "%s%s%s", me->attr, me->sub ? "." : "", me->sub ? me->sub : "");
            rc = warn_syntax(c, rm, me, path, me->ldap, NULL, me->leaf);
        } else if (me->ldap != NULL) {
            const s2l_attr_def *vd = s2l_attr_find_sub(me->top, "value");
            snprintf(path, sizeof path, "%s%s%s%s", me->attr, me->type ? "[type eq \"" : "", me->type ? me->type : "",
                     me->type ? "\"]" : "");
            rc = warn_syntax(c, rm, me, path, me->ldap, NULL, vd ? vd : me->top);
        } else {
            for (size_t k = 0; k < me->n_subs && rc == 0; k++) {
                snprintf(path, sizeof path, "%s%s%s%s.%s", me->attr, me->type ? "[type eq \"" : "",
                         me->type ? me->type : "", me->type ? "\"]" : "", me->subs[k].scim);
                rc = warn_syntax(c, rm, me, path, me->subs[k].ldap, me->subs[k].also,
                                 s2l_attr_find_sub(me->top, me->subs[k].scim));
            }
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Settings that depend on the entries or on other resource types. */
static bool finish_rmap(load_ctx *c, s2l_rmap *rm, const char *where)
{
    size_t n_delta = 0;

    for (size_t i = 0; i < rm->n_entries; i++) {
        s2l_mentry *me = &rm->entries[i];
        for (size_t k = 0; k < me->n_ref_types; k++) {
            const s2l_rmap *t = s2l_map_ref_target(rm, me->ref_types[k]);
            if (t == NULL) {
                lerr(c, me->where, "\"reference\": no resource type \"%s\" in this mapping", me->ref_types[k]);
                return false;
            }
            if (me->ref_rdn && t->rdn_attr == NULL) {
                lerr(c, me->where, "\"reference_value\": %s has no RDN attribute", t->name);
                return false;
            }
        }
        if (me->kind == S2L_ME_REFERENCE && strcasecmp(me->attr, "groups") == 0 && !me->in_ext) {
            rm->groups.source = me->virtual_attr ? S2L_GROUPS_SEARCH : S2L_GROUPS_ATTRIBUTE;
            rm->groups.attr = me->ldap;
            rm->groups.group_type = me->ref_types[0];
        }
        if (me->delta)
            n_delta++;
        /* Unless configured, the uniqueness check before an add uses the
         * LDAP attribute of the schema's server-unique attribute (userName). */
        if (rm->unique_attr == NULL && me->kind == S2L_ME_SIMPLE && me->sub == NULL &&
            me->leaf->uniqueness != S2L_UNIQ_NONE && (rm->unique_attr = strdup(me->ldap)) == NULL)
            return oom(c, where);
    }
    rm->delta_attrs = calloc(n_delta + 1, sizeof *rm->delta_attrs);
    if (rm->delta_attrs == NULL)
        return oom(c, where);
    n_delta = 0;
    for (size_t i = 0; i < rm->n_entries; i++)
        if (rm->entries[i].delta)
            rm->delta_attrs[n_delta++] = rm->entries[i].attr; /* borrowed from the entry */
    if (!build_views(c, rm, where))
        return false;
    {
        s2l_load_err e;
        if (!s2l_dp_finish(rm, where, &e) || !s2l_scope_finish(rm, where, &e)) {
            lerr(c, e.where, "%s", e.msg);
            return false;
        }
    }
    if (!finish_policies(c, rm, where))
        return false;

    rm->info.name = rm->name;
    rm->info.endpoint = rm->endpoint;
    rm->info.base_dn = rm->base_dn;
    rm->info.object_filter = rm->object_filter;
    rm->info.id_attr = rm->id_attr;
    rm->info.rdn_attr = rm->rdn_attr;
    rm->info.created_attr = rm->created_attr;
    rm->info.modified_attr = rm->modified_attr;
    rm->info.version_attr = rm->version_attr;
    rm->info.sort_attr = rm->sort_attr;
    rm->info.unique_attr = rm->unique_attr;
    return true;
}

static void rmap_fini(s2l_rmap *rm)
{
    free(rm->name);
    free(rm->endpoint);
    free(rm->description);
    free(rm->base_dn);
    free(rm->object_filter);
    free(rm->id_attr);
    free(rm->rdn_attr);
    free(rm->created_attr);
    free(rm->modified_attr);
    free(rm->version_attr);
    free(rm->sort_attr);
    s2l_strv_free(rm->ordering_rules);
    free(rm->unique_attr);
    free(rm->keep_attr);
    s2l_strv_free(rm->default_read_attrs);
    s2l_strv_free(rm->update_read_attrs);
    json_decref(rm->written_names);
    s2l_map_put_attrs_free(rm);
    s2l_map_render_index_free(rm);
    strv_free_n(rm->object_classes, rm->n_object_classes);
    for (size_t i = 0; i < rm->n_rdn; i++)
        s2l_template_fini(&rm->rdn[i]);
    free(rm->rdn);
    for (size_t i = 0; i < rm->n_entries; i++)
        mentry_fini(&rm->entries[i]);
    free(rm->entries);
    free(rm->delta_attrs);
    s2l_dp_fini(&rm->dp_inactive);
    s2l_dp_fini(&rm->dp_delete);
    free(rm->protected_filter);
    strv_free_n(rm->default_groups, rm->n_default_groups);
    free(rm->boundary);
    s2l_schema_destroy(rm->core_view);
    for (size_t i = 0; rm->ext_views && i < rm->n_ext; i++)
        s2l_schema_destroy(rm->ext_views[i]);
    free(rm->ext_views);
    free(rm->ext_views_const);
    free(rm->ext);
    free(rm->ext_required);
}

void s2l_mapping_destroy(s2l_mapping *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_rmaps; i++)
        rmap_fini(&m->rmaps[i]);
    free(m->rmaps);
    for (size_t i = 0; i < m->n_schemas; i++)
        s2l_schema_destroy(m->schemas[i]);
    free(m->schemas);
    s2l_strv_free(m->secret_attrs);
    s2l_subschema_destroy(m->ldap_overrides);
    free(m->path);
    json_decref(m->warnings);
    free(m);
}

/* ---- schema folder ---- */

static int json_file_filter(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

static bool load_schemas(load_ctx *c, const char *dir)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, json_file_filter, alphasort);
    bool ok = false;

    if (n < 0) {
        lerr(c, "$", "cannot read the schema folder %s", dir);
        return false;
    }
    c->m->schemas = calloc((size_t)n + 1, sizeof *c->m->schemas);
    if (c->m->schemas == NULL) {
        oom(c, "$");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        json_error_t je;
        s2l_error err = {0};
        int len = snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (len < 0 || (size_t)len >= sizeof path) {
            lerr(c, "$", "schema path too long in %s", dir);
            goto out;
        }
        json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
        if (j == NULL) {
            snprintf(c->errbuf, c->errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
            goto out;
        }
        s2l_schema *s = s2l_schema_from_json(j, &err);
        json_decref(j);
        if (s == NULL) {
            snprintf(c->errbuf, c->errlen, "%s: %s", path, err.detail);
            goto out;
        }
        if (find_schema(c->m, s->id) != NULL) {
            snprintf(c->errbuf, c->errlen, "%s: $.id: schema %s is defined twice", path, s->id);
            s2l_schema_destroy(s);
            goto out;
        }
        c->m->schemas[c->m->n_schemas++] = s;
    }
    ok = true;
out:
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return ok;
}

/* Adds name to the NULL-terminated list *v (n entries) unless it is there. */
static bool strv_add_unique(char ***v, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcasecmp((*v)[i], name) == 0)
            return true;
    char **nv = realloc(*v, (*n + 2) * sizeof *nv);
    if (nv == NULL)
        return false;
    *v = nv;
    if ((nv[*n] = strdup(name)) == NULL) {
        nv[*n] = NULL;
        return false;
    }
    nv[++*n] = NULL;
    return true;
}

/* Attributes whose values are never logged: write-only ones (passwords) and
 * those the mapping lists under "secret_attributes". */
static bool load_secret_attrs(load_ctx *c, const json_t *j)
{
    size_t n = 0;
    c->m->secret_attrs = calloc(1, sizeof *c->m->secret_attrs);
    if (c->m->secret_attrs == NULL)
        return oom(c, "$");
    for (size_t r = 0; r < c->m->n_rmaps; r++) {
        const s2l_rmap *rm = &c->m->rmaps[r];
        for (size_t i = 0; i < rm->n_entries; i++)
            if (rm->entries[i].write_only && rm->entries[i].ldap &&
                !strv_add_unique(&c->m->secret_attrs, &n, rm->entries[i].ldap))
                return oom(c, "$");
    }
    const json_t *sa = json_object_get(j, "secret_attributes");
    if (sa == NULL)
        return true;
    if (!json_is_array(sa)) {
        lerr(c, "$.secret_attributes", "must be an array of LDAP attribute names");
        return false;
    }
    size_t i;
    const json_t *v;
    json_array_foreach(sa, i, v) {
        if (!json_is_string(v) || !ldap_attr_ok(json_string_value(v))) {
            char w[64];
            snprintf(w, sizeof w, "$.secret_attributes[%zu]", i);
            lerr(c, w, "must be an LDAP attribute name");
            return false;
        }
        if (!strv_add_unique(&c->m->secret_attrs, &n, json_string_value(v)))
            return oom(c, "$");
    }
    return true;
}

/* Attributes read before an update: the defaults minus delta attributes (a
 * group's members are never read to be changed). */
static char **update_attrs_of_(const s2l_rmap *rm);

/* ... plus objectClass: an update adds the mapping's classes an entry lacks
 * (s2l_rmap_adopt_mods), so entries made by other tools become manageable. */
static char **update_attrs_of(const s2l_rmap *rm)
{
    char **v = update_attrs_of_(rm);
    size_t n = 0;

    if (v == NULL)
        return NULL;
    while (v[n])
        n++;
    char **w = realloc(v, (n + 2) * sizeof *w);
    if (w == NULL || (w[n] = strdup("objectClass")) == NULL) {
        s2l_strv_free(w ? w : v);
        return NULL;
    }
    w[n + 1] = NULL;
    return w;
}

static char **update_attrs_of_(const s2l_rmap *rm)
{
    if (rm->delta_attrs == NULL || rm->delta_attrs[0] == NULL)
        return s2l_rmap_read_attrs(rm, NULL);
    s2l_strbuf b = {0};
    for (size_t i = 0; rm->delta_attrs[i]; i++) {
        if (i)
            s2l_sb_adds(&b, ",");
        s2l_sb_adds(&b, rm->delta_attrs[i]);
    }
    char *ex = s2l_sb_take(&b);
    s2l_error err;
    s2l_projection *p = ex ? s2l_projection_parse(&rm->rt, NULL, ex, &err) : NULL;
    free(ex);
    char **attrs = p ? s2l_rmap_read_attrs(rm, p) : NULL;
    s2l_projection_destroy(p);
    return attrs;
}

/* One policy key: a string among `allowed` ('|'-separated), or the default. */
static bool get_policy(load_ctx *c, const json_t *j, const char *key, const char *allowed, int dflt, int *out)
{
    const json_t *v = json_object_get(j, key);
    char where[64];

    *out = dflt;
    if (v == NULL)
        return true;
    snprintf(where, sizeof where, "$.%s", key);
    const char *s = json_string_value(v);
    if (s != NULL) {
        static const struct { const char *name; int val; } names[] = {
            {"keep", S2L_POLICY_KEEP}, {"ignore", S2L_POLICY_IGNORE}, {"reject", S2L_POLICY_REJECT},
            {"skip", S2L_POLICY_IGNORE}};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            size_t n = strlen(names[i].name);
            const char *hit = strstr(allowed, names[i].name);
            if (strcmp(s, names[i].name) == 0 && hit && (hit[n] == '|' || hit[n] == 0)) {
                *out = names[i].val;
                return true;
            }
        }
    }
    s2l_strbuf b = {0};
    for (const char *p = allowed; *p;) {
        const char *e = strchr(p, '|');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        s2l_sb_adds(&b, p == allowed ? "\"" : e ? ", \"" : " or \"");
        s2l_sb_add(&b, p, n);
        s2l_sb_adds(&b, "\"");
        p += n + (e ? 1 : 0);
    }
    char *list = s2l_sb_take(&b);
    lerr(c, where, "must be %s", list ? list : allowed);
    free(list);
    return false;
}

/* Top-level policies (mappings/README.md, "Policies"). */
static bool parse_policies(load_ctx *c, const json_t *j)
{
    int ua, um, us, mgr, mem;

    if (!get_policy(c, j, "unknown_attributes", "keep|ignore|reject", S2L_POLICY_IGNORE, &ua) ||
        !get_policy(c, j, "unmapped_attributes", "keep|ignore|reject", S2L_POLICY_IGNORE, &um) ||
        !get_policy(c, j, "unknown_schemas", "keep|ignore|reject", S2L_POLICY_IGNORE, &us) ||
        !get_policy(c, j, "unknown_manager", "keep|reject", -1, &mgr) ||
        !get_policy(c, j, "unknown_members", "skip|reject", S2L_POLICY_IGNORE, &mem))
        return false;
    c->m->unknown_attrs = (s2l_attr_policy)ua;
    c->m->unmapped_attrs = (s2l_attr_policy)um;
    c->m->unknown_schemas = (s2l_attr_policy)us;
    c->m->unknown_manager = mgr;
    c->m->skip_unknown_members = mem == S2L_POLICY_IGNORE;
    c->m->ignore_unknown = ua != S2L_POLICY_REJECT;
    return true;
}

s2l_mapping *s2l_mapping_load(const char *path, const char *schema_dir, char *errbuf, size_t errlen)
{
    static const char *const keys[] = {"unknown_attributes", "referential_integrity", "resource_types",
                                       "secret_attributes", "description", "unmapped_attributes",
                                       "unknown_schemas", "unknown_manager", "unknown_members",
                                       "ldap_attribute_types", NULL};
    load_ctx c = {.file = path, .errbuf = errbuf, .errlen = errlen};
    json_error_t je;
    json_t *j = NULL;
    const json_t *rts, *ua;
    char w[WHERE_MAX];
    bool ok = false;

    if (errbuf && errlen)
        errbuf[0] = 0;
    c.m = calloc(1, sizeof *c.m);
    if (c.m == NULL || (c.m->path = strdup(path)) == NULL) {
        oom(&c, "$");
        goto out;
    }
    c.m->limits = (s2l_mapping_limits){.max_rdn_bytes = S2L_MAX_RDN_BYTES_DEFAULT,
                                       .json = {.max_depth = S2L_JSON_MAX_DEPTH_DEFAULT,
                                                .max_nodes = S2L_JSON_MAX_NODES_DEFAULT,
                                                .max_values = S2L_JSON_MAX_VALUES_DEFAULT}};
    j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) {
        snprintf(errbuf, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        goto out;
    }
    if (!load_schemas(&c, schema_dir))
        goto out;
    if (!json_is_object(j)) {
        lerr(&c, "$", "must be an object");
        goto out;
    }
    if (!check_keys(&c, j, "$", keys))
        goto out;
    (void)ua;
    if (!parse_policies(&c, j))
        goto out;
    if ((c.m->warnings = json_array()) == NULL) {
        oom(&c, "$");
        goto out;
    }
    /* Default "gateway": where the directory does maintain references (refint),
     * the gateway's own search simply finds nothing left to fix. */
    c.m->refint_by_gateway = true;
    json_t *ri = json_object_get(j, "referential_integrity");
    if (ri != NULL) {
        if (!json_is_string(ri) || (strcmp(json_string_value(ri), "gateway") != 0 &&
                                    strcmp(json_string_value(ri), "directory") != 0)) {
            lerr(&c, "$.referential_integrity", "must be \"gateway\" or \"directory\"");
            goto out;
        }
        c.m->refint_by_gateway = strcmp(json_string_value(ri), "gateway") == 0;
    }
    const json_t *over = json_object_get(j, "ldap_attribute_types");
    if (over != NULL) {
        char msg[400];
        if (!s2l_map_load_overrides(c.m, over, msg, sizeof msg)) {
            lerr(&c, "$.ldap_attribute_types", "%s", msg);
            goto out;
        }
    }
    rts = json_object_get(j, "resource_types");
    if (!json_is_array(rts) || json_array_size(rts) == 0) {
        lerr(&c, "$.resource_types", "must be a non-empty array");
        goto out;
    }
    c.m->rmaps = calloc(json_array_size(rts), sizeof *c.m->rmaps);
    if (c.m->rmaps == NULL) {
        oom(&c, "$");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(rts); i++) {
        s2l_rmap *rm = &c.m->rmaps[i];
        rm->mapping = c.m;
        c.m->n_rmaps = i + 1;
        if (!where_fmt(&c, w, "$.resource_types", "[%zu]", i) || !parse_rmap(&c, rm, json_array_get(rts, i), w))
            goto out;
        for (size_t k = 0; k < i; k++) {
            if (strcasecmp(c.m->rmaps[k].name, rm->name) == 0 ||
                strcasecmp(c.m->rmaps[k].endpoint, rm->endpoint) == 0) {
                lerr(&c, w, "name or endpoint already used by $.resource_types[%zu]", k);
                goto out;
            }
        }
    }
    for (size_t i = 0; i < c.m->n_rmaps; i++) {
        if (!where_fmt(&c, w, "$.resource_types", "[%zu]", i) || !finish_rmap(&c, &c.m->rmaps[i], w))
            goto out;
    }
    /* Most requests ask for the default attributes, and every update reads the
     * same set minus delta attributes: both computed once, not per request. */
    for (size_t i = 0; i < c.m->n_rmaps; i++) {
        s2l_rmap *rm = &c.m->rmaps[i];
        rm->default_read_attrs = s2l_rmap_read_attrs(rm, NULL);
        rm->update_read_attrs = update_attrs_of(rm);
        rm->written_names = json_array();
        if (rm->default_read_attrs == NULL || rm->update_read_attrs == NULL || rm->written_names == NULL ||
            s2l_map_written_attrs(rm, rm->written_names) < 0 || s2l_map_put_attrs_build(rm) < 0 ||
            collect_warnings(&c, rm) < 0 ||
            s2l_map_render_index(rm) < 0) {
            lerr(&c, "$", "out of memory");
            goto out;
        }
    }
    if (!load_secret_attrs(&c, j))
        goto out;
    /* Filters work from the start with the standard schema; the gateway applies
     * the directory's own subschema once it has read it. */
    if (s2l_mapping_apply_subschema(c.m, NULL, NULL, 0) < 0) {
        lerr(&c, "$", "out of memory");
        goto out;
    }
    ok = true;
out:
    json_decref(j);
    if (!ok) {
        s2l_mapping_destroy(c.m);
        return NULL;
    }
    return c.m;
}

/* ---- accessors ---- */

size_t s2l_mapping_count(const s2l_mapping *m) { return m->n_rmaps; }

void s2l_mapping_set_limits(s2l_mapping *m, const s2l_mapping_limits *lim)
{
    /* Every resource type's view points at m->limits.json, so this one copy
     * reaches s2l_resource_normalize and s2l_patch_apply. */
    m->limits = *lim;
}

void s2l_mapping_set_config_limits(s2l_mapping *m, const s2l_config *cfg)
{
    s2l_mapping_set_limits(m, &(s2l_mapping_limits){
                                  .max_rdn_bytes = cfg->limits.max_rdn_bytes,
                                  .json = {.max_depth = cfg->limits.max_json_depth,
                                           .max_nodes = cfg->limits.max_json_nodes,
                                           .max_values = cfg->limits.max_values_per_attribute},
                              });
}

const s2l_mapping_limits *s2l_mapping_limits_of(const s2l_mapping *m) { return &m->limits; }

char *const *s2l_rmap_default_read_attrs(const s2l_rmap *rm) { return rm->default_read_attrs; }

char *const *s2l_rmap_update_read_attrs(const s2l_rmap *rm) { return rm->update_read_attrs; }

const s2l_rmap *s2l_mapping_at(const s2l_mapping *m, size_t i)
{
    return i < m->n_rmaps ? &m->rmaps[i] : NULL;
}

const s2l_rmap *s2l_mapping_find(const s2l_mapping *m, const char *name)
{
    if (name == NULL)
        return NULL;
    if (name[0] == '/')
        name++;
    for (size_t i = 0; i < m->n_rmaps; i++) {
        const s2l_rmap *rm = &m->rmaps[i];
        if (strcasecmp(rm->name, name) == 0 || strcasecmp(rm->endpoint + 1, name) == 0)
            return rm;
    }
    return NULL;
}

bool s2l_rmap_ignores_unknown(const s2l_rmap *rm) { return rm->mapping->ignore_unknown; }
const s2l_rmap_info *s2l_rmap_info_of(const s2l_rmap *rm) { return &rm->info; }
const s2l_resource_type *s2l_rmap_rtype(const s2l_rmap *rm) { return &rm->rt; }
const char *const *s2l_rmap_delta_attrs(const s2l_rmap *rm) { return (const char *const *)rm->delta_attrs; }
const s2l_rmap_groups *s2l_rmap_groups_of(const s2l_rmap *rm) { return &rm->groups; }
s2l_deprovision s2l_rmap_deprovision(const s2l_rmap *rm) { return rm->deprovision; }
const char *const *s2l_mapping_secret_attrs(const s2l_mapping *m) { return (const char *const *)m->secret_attrs; }
const s2l_policies *s2l_rmap_policies(const s2l_rmap *rm) { return &rm->policies; }
const json_t *s2l_mapping_warnings(const s2l_mapping *m) { return m->warnings; }
