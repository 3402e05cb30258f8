/* resource.c — request-body normalisation (POST/PUT) and the value rules it
 * shares with PATCH (see include/s2l/resource.h, resource_internal.h).
 *
 * Leniency is deliberate and limited to what identity providers are known to
 * send (shared/docs/IDP-QUIRKS.md): names in any case, "True"/"False" for
 * booleans, one object where an array is due, unknown schema URNs. Everything
 * else that does not fit the schema view is a 400 naming the attribute.
 */
#include "s2l/resource.h"
#include "s2l/json_limits.h"
#include "resource_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- small helpers ---- */

json_t *s2l_json_get_ci(const json_t *obj, const char *key)
{
    const char *k;
    json_t *v;
    json_t *found = NULL;

    if (!json_is_object(obj) || key == NULL)
        return NULL;
    /* An exact match wins over a case variant, so a well-formed resource
     * never has its value shadowed by a sloppy duplicate. */
    v = json_object_get(obj, key);
    if (v != NULL)
        return v;
    /* Misses are common (mapped attributes absent from an LDAP entry); the
     * first-letter test keeps them from costing a strcasecmp per key. */
    int first = tolower((unsigned char)key[0]);
    json_object_foreach((json_t *)obj, k, v) {
        if (tolower((unsigned char)k[0]) == first && strcasecmp(k, key) == 0) {
            found = v;
            break;
        }
    }
    return found;
}

void s2l_res_del_ci(json_t *obj, const char *key)
{
    const char *k;
    json_t *v;
    void *tmp;

    if (!json_is_object(obj))
        return;
    json_object_foreach_safe(obj, tmp, k, v) {
        if (strcasecmp(k, key) == 0)
            json_object_del(obj, k);
    }
}

int s2l_res_set_ci(json_t *obj, const char *key, json_t *v)
{
    if (v == NULL)
        return -1;
    s2l_res_del_ci(obj, key);
    return json_object_set_new(obj, key, v);
}

void s2l_res_error_attr(s2l_error *err, const char *scim_type, const s2l_attr_def *def, const char *what)
{
    const char *parent = def->parent ? def->parent->name : "";
    s2l_error_set(err, 400, scim_type, "%s '%s%s%s'", what, parent, def->parent ? "." : "", def->name);
}

bool s2l_res_required(const s2l_schema *schema, const s2l_attr_def *def)
{
    if (def->required)
        return true;
    return def->parent == NULL && s2l_schema_is(schema, S2L_URN_GROUP) &&
           strcasecmp(def->name, "displayName") == 0;
}

json_t *s2l_res_container(json_t *resource, const s2l_resource_type *rt, const s2l_schema *schema,
                          bool create)
{
    json_t *c;

    if (schema == NULL || schema == rt->core)
        return resource;
    c = s2l_json_get_ci(resource, schema->id);
    if (json_is_object(c) || !create)
        return json_is_object(c) ? c : NULL;
    c = json_object();
    if (c == NULL || s2l_res_set_ci(resource, schema->id, c) != 0)
        return NULL;
    return c;
}

/* ---- policies and notes ---- */

void s2l_notes_add(json_t *notes, const char *key, const char *text)
{
    json_t *arr;
    size_t i;
    json_t *e;

    if (!json_is_object(notes) || key == NULL || text == NULL)
        return;
    arr = json_object_get(notes, key);
    if (arr == NULL) {
        arr = json_array();
        if (arr == NULL || json_object_set_new(notes, key, arr) < 0)
            return;
    }
    json_array_foreach(arr, i, e) {
        if (strcmp(json_string_value(e), text) == 0)
            return;
    }
    json_array_append_new(arr, json_string(text));
}

void s2l_res_pol_init(s2l_res_pol *p, bool ignore_unknown, const s2l_policies *pol, json_t *notes)
{
    memset(p, 0, sizeof *p);
    p->notes = notes;
    if (pol != NULL) {
        p->unknown = pol->unknown;
        p->unmapped = pol->unmapped;
        p->schemas = pol->schemas;
        p->full = pol->full;
        p->schemas_strict = true;
        return;
    }
    p->unknown = p->unmapped = ignore_unknown ? S2L_POLICY_IGNORE : S2L_POLICY_REJECT;
    p->schemas = S2L_POLICY_KEEP; /* before policies, schemas were kept as given */
}

s2l_attr_policy s2l_res_pol_apply(const s2l_res_pol *p, bool unmapped, const char *path, s2l_error *err)
{
    s2l_attr_policy pol = unmapped ? p->unmapped : p->unknown;

    switch (pol) {
    case S2L_POLICY_KEEP:
        s2l_notes_add(p->notes, "kept", path);
        break;
    case S2L_POLICY_IGNORE:
        s2l_notes_add(p->notes, "ignored", path);
        break;
    case S2L_POLICY_REJECT:
    default:
        s2l_notes_add(p->notes, "rejected", path);
        s2l_error_set(err, 400, S2L_SCIM_INVALID_SYNTAX, "%s attribute '%s'",
                      unmapped ? "this server does not store" : "unknown", path);
        pol = S2L_POLICY_REJECT;
        break;
    }
    return pol;
}

s2l_attr_policy s2l_res_pol_schema(const s2l_res_pol *p, const char *urn, s2l_error *err)
{
    if (!p->schemas_strict)
        return S2L_POLICY_KEEP;
    switch (p->schemas) {
    case S2L_POLICY_KEEP:
        s2l_notes_add(p->notes, "kept_schemas", urn);
        return S2L_POLICY_KEEP;
    case S2L_POLICY_IGNORE:
        s2l_notes_add(p->notes, "ignored_schemas", urn);
        return S2L_POLICY_IGNORE;
    case S2L_POLICY_REJECT:
    default:
        s2l_notes_add(p->notes, "rejected_schemas", urn);
        s2l_error_set(err, 400, S2L_SCIM_INVALID_SYNTAX, "unknown schema '%s'", urn);
        return S2L_POLICY_REJECT;
    }
}

const s2l_attr_def *s2l_res_full_def(const s2l_res_pol *p, const s2l_attr_def *def)
{
    const s2l_attr_def *top;

    if (p == NULL || p->full == NULL || def == NULL || def->schema == NULL)
        return NULL;
    top = s2l_rtype_find(p->full, s2l_attr_is_common(def->parent ? def->parent : def) ? NULL : def->schema->id,
                         def->parent ? def->parent->name : def->name, NULL, NULL);
    if (top == NULL || def->parent == NULL)
        return top;
    return s2l_attr_find_sub(top, def->name);
}

bool s2l_res_split_urn_key(const char *key, char *urn, size_t cap, const char **attr)
{
    const char *colon = strrchr(key, ':');
    size_t n;

    if (strncasecmp(key, "urn:", 4) != 0 || colon == NULL || colon - key < 5 || colon[1] == '\0')
        return false;
    n = (size_t)(colon - key);
    if (n >= cap)
        return false;
    memcpy(urn, key, n);
    urn[n] = '\0';
    *attr = colon + 1;
    return true;
}

bool s2l_res_is_unassigned(const json_t *v)
{
    return v == NULL || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0) ||
           (json_is_object(v) && json_object_size(v) == 0);
}

/* ---- name resolution ---- */

static bool starts_with_urn(const char *name)
{
    return strncasecmp(name, "urn:", 4) == 0;
}

s2l_res_kind s2l_res_resolve(const s2l_resource_type *rt, const s2l_schema *within, const char *name,
                             s2l_res_ref *out)
{
    s2l_res_kind kind = S2L_RES_UNKNOWN;
    const s2l_schema *schema = within;
    const char *rest = name;
    char *attr = NULL;

    memset(out, 0, sizeof *out);
    if (rt == NULL || name == NULL)
        goto out;
    if (within == NULL) {
        for (size_t i = 0; i <= rt->n_ext; i++) {
            const s2l_schema *s = i == 0 ? rt->core : rt->ext[i - 1];
            if (s2l_schema_is(s, name)) {
                out->schema = s;
                kind = S2L_RES_SCHEMA;
                goto out;
            }
        }
        schema = s2l_rtype_split_urn(rt, name, &rest);
        if (schema == NULL && starts_with_urn(name))
            goto out;
    }
    const char *dot = strchr(rest, '.');
    size_t len = dot ? (size_t)(dot - rest) : strlen(rest);
    if (len == 0)
        goto out;
    attr = strndup(rest, len);
    if (attr == NULL)
        goto out;
    out->def = s2l_rtype_find(rt, schema ? schema->id : NULL, attr, NULL, &out->schema);
    if (out->def == NULL)
        goto out;
    if (dot != NULL) {
        out->sub = s2l_attr_find_sub(out->def, dot + 1);
        if (out->sub == NULL)
            goto out;
    }
    kind = S2L_RES_ATTR;
out:
    free(attr);
    if (kind == S2L_RES_UNKNOWN)
        memset(out, 0, sizeof *out);
    return kind;
}

/* ---- value checks ---- */

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* xsd:dateTime (RFC 7643 §2.3.5): [-]YYYY-MM-DDThh:mm:ss[.fff][Z|(+|-)hh:mm]. */
static bool is_datetime(const char *s)
{
    if (*s == '-')
        s++;
    if (strlen(s) < 19 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2) || s[10] != 'T' || !digits(s + 11, 2) || s[13] != ':' ||
        !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
        return false;
    s += 19;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return false;
        while (isdigit((unsigned char)*s))
            s++;
    }
    if (*s == 'Z')
        return s[1] == '\0';
    if (*s == '+' || *s == '-')
        return strlen(s) == 6 && digits(s + 1, 2) && s[3] == ':' && digits(s + 4, 2);
    return *s == '\0';
}

/* Base64 alphabet (RFC 4648 §4), padding only at the end; line breaks are
 * tolerated because certificates are often pasted PEM-style. */
static bool is_base64(const char *s)
{
    bool pad = false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            pad = true;
            continue;
        }
        if (pad || !(isalnum(c) || c == '+' || c == '/'))
            return false;
    }
    return true;
}

static int coerce_simple(const s2l_attr_def *def, const json_t *in, json_t **out, s2l_error *err)
{
    switch (def->type) {
    case S2L_T_BOOLEAN:
        if (json_is_boolean(in)) {
            *out = json_incref((json_t *)in);
            return 0;
        }
        /* Entra sends "True"/"False" (IDP-QUIRKS.md). */
        if (json_is_string(in) && strcasecmp(json_string_value(in), "true") == 0) {
            *out = json_true();
            return 0;
        }
        if (json_is_string(in) && strcasecmp(json_string_value(in), "false") == 0) {
            *out = json_false();
            return 0;
        }
        s2l_res_error_attr(err, S2L_SCIM_INVALID_VALUE, def, "expected a boolean for");
        return -1;
    case S2L_T_INTEGER:
        if (!json_is_integer(in)) {
            s2l_res_error_attr(err, S2L_SCIM_INVALID_VALUE, def, "expected an integer for");
            return -1;
        }
        break;
    case S2L_T_DECIMAL:
        if (!json_is_number(in)) {
            s2l_res_error_attr(err, S2L_SCIM_INVALID_VALUE, def, "expected a number for");
            return -1;
        }
        *out = json_real(json_number_value(in));
        if (*out == NULL)
            goto nomem;
        return 0;
    case S2L_T_DATETIME:
        if (!json_is_string(in) || !is_datetime(json_string_value(in))) {
            s2l_res_error_attr(err, S2L_SCIM_INVALID_VALUE, def, "expected an xsd:dateTime for");
            return -1;
        }
        break;
    case S2L_T_BINARY:
        if (!json_is_string(in) || !is_base64(json_string_value(in))) {
            s2l_res_error_attr(err, S2L_SCIM_INVALID_VALUE, def, "expected base64 for");
            return -1;
        }
        break;
    case S2L_T_STRING:
    case S2L_T_REFERENCE:
    case S2L_T_COMPLEX:
    default:
        if (!json_is_string(in)) {
            s2l_res_error_attr(err, S2L_SCIM_INVALID_VALUE, def, "expected a string for");
            return -1;
        }
        break;
    }
    *out = json_incref((json_t *)in);
    return 0;
nomem:
    s2l_error_set(err, 500, NULL, "out of memory");
    return -1;
}

bool s2l_res_complex_is_void(const s2l_attr_def *def, const json_t *v)
{
    if (!json_is_object(v) || json_object_size(v) == 0)
        return true;
    if (def->multi_valued || s2l_attr_find_sub(def, "value") == NULL)
        return false;
    const json_t *val = s2l_json_get_ci(v, "value");
    return json_is_string(val) && json_string_length(val) == 0;
}

/* RFC 7643 §2.4 gives every multi-valued attribute the sub-attributes type,
 * primary, display, value and $ref. Clients send them even where a schema
 * leaves one out (members.display in RFC 7643 §8.4), so they are not
 * "unknown": when the definition lacks one, it is dropped without an error. */
static bool is_default_sub(const s2l_attr_def *def, const char *name)
{
    static const char *const names[] = {"type", "primary", "display", "value", "$ref"};

    if (!def->multi_valued)
        return false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i]) == 0)
            return true;
    return false;
}

static int coerce_complex(const s2l_attr_def *def, const json_t *in, const s2l_res_pol *pol, json_t **out,
                          s2l_error *err)
{
    const s2l_attr_def *vsub = s2l_attr_find_sub(def, "value");
    json_t *obj = NULL;
    json_t *wrapped = NULL;
    const char *k;
    json_t *v;
    int rc = -1;

    *out = NULL;
    /* Entra sends manager as a bare id (IDP-QUIRKS.md); "" clears it. */
    if (json_is_string(in) && !def->multi_valued && vsub != NULL) {
        if (json_string_length(in) == 0)
            return 0;
        wrapped = json_pack("{s:O}", vsub->name, in);
        if (wrapped == NULL)
            goto nomem;
        in = wrapped;
    }
    if (!json_is_object(in)) {
        s2l_res_error_attr(err, S2L_SCIM_INVALID_VALUE, def, "expected an object for");
        goto out;
    }
    obj = json_object();
    if (obj == NULL)
        goto nomem;
    json_object_foreach((json_t *)in, k, v) {
        const s2l_attr_def *sub = s2l_attr_find_sub(def, k);
        json_t *cv = NULL;
        if (sub == NULL) {
            if (is_default_sub(def, k) || s2l_res_is_unassigned(v))
                continue;
            const char *parent = def->parent ? def->parent->name : "";
            char path[512];
            snprintf(path, sizeof path, "%s%s%s.%s", parent, def->parent ? "." : "", def->name, k);
            const s2l_attr_def *full = s2l_res_full_def(pol, def);
            s2l_attr_policy p = s2l_res_pol_apply(pol, full && s2l_attr_find_sub(full, k), path, err);
            if (p == S2L_POLICY_REJECT)
                goto out;
            if (p == S2L_POLICY_KEEP && s2l_res_set_ci(obj, k, json_deep_copy(v)) != 0)
                goto nomem;
            continue;
        }
        /* RFC 7643 §2.2: readOnly values sent by clients are ignored. */
        if (sub->mutability == S2L_MUT_READ_ONLY)
            continue;
        if (s2l_res_coerce(sub, v, false, pol, &cv, err) != 0)
            goto out;
        if (cv == NULL)
            s2l_res_del_ci(obj, sub->name);
        else if (s2l_res_set_ci(obj, sub->name, cv) != 0)
            goto nomem;
    }
    if (!s2l_res_complex_is_void(def, obj)) {
        *out = obj;
        obj = NULL;
    }
    rc = 0;
    goto out;
nomem:
    s2l_error_set(err, 500, NULL, "out of memory");
out:
    json_decref(obj);
    json_decref(wrapped);
    return rc;
}

void s2l_res_fix_primary(const s2l_attr_def *def, json_t *arr, const json_t *keep)
{
    const s2l_attr_def *psub = s2l_attr_find_sub(def, "primary");
    size_t i;
    json_t *el;

    if (psub == NULL || !json_is_array(arr))
        return;
    if (keep == NULL || !json_is_true(json_object_get(keep, psub->name))) {
        keep = NULL;
        json_array_foreach(arr, i, el) {
            if (json_is_true(json_object_get(el, psub->name))) {
                keep = el;
                break;
            }
        }
    }
    json_array_foreach(arr, i, el) {
        if (el != keep && json_is_true(json_object_get(el, psub->name)))
            json_object_set_new(el, psub->name, json_false());
    }
}

int s2l_res_coerce(const s2l_attr_def *def, const json_t *in, bool element, const s2l_res_pol *pol,
                   json_t **out, s2l_error *err)
{
    json_t *arr = NULL;
    size_t i;
    json_t *item;

    *out = NULL;
    /* RFC 7643 §2.5: null, [] and {} are "unassigned", whatever the attribute's type */
    if (s2l_res_is_unassigned(in))
        return 0;
    if (def->multi_valued && !element) {
        arr = json_array();
        if (arr == NULL)
            goto nomem;
        if (!json_is_array(in)) {
            /* OneLogin sends one object where an array is due (IDP-QUIRKS.md). */
            json_t *one = NULL;
            if (s2l_res_coerce(def, in, true, pol, &one, err) != 0)
                goto fail;
            if (one != NULL && json_array_append_new(arr, one) != 0)
                goto nomem;
        } else {
            json_array_foreach(in, i, item) {
                json_t *one = NULL;
                if (s2l_res_coerce(def, item, true, pol, &one, err) != 0)
                    goto fail;
                if (one != NULL && json_array_append_new(arr, one) != 0)
                    goto nomem;
            }
        }
        if (json_array_size(arr) == 0) {
            json_decref(arr);
            return 0;
        }
        s2l_res_fix_primary(def, arr, NULL);
        *out = arr;
        return 0;
    }
    if (json_is_array(in)) {
        /* Entra may wrap manager in a one-element array. */
        if (def->type == S2L_T_COMPLEX && !def->multi_valued && json_array_size(in) <= 1)
            return s2l_res_coerce(def, json_array_get(in, 0), true, pol, out, err);
        s2l_res_error_attr(err, S2L_SCIM_INVALID_VALUE, def, "expected a single value for");
        return -1;
    }
    if (def->type == S2L_T_COMPLEX)
        return coerce_complex(def, in, pol, out, err);
    return coerce_simple(def, in, out, err);
nomem:
    s2l_error_set(err, 500, NULL, "out of memory");
fail:
    json_decref(arr);
    return -1;
}

static bool scalar_equal(const s2l_attr_def *def, const json_t *a, const json_t *b)
{
    if (json_is_string(a) && json_is_string(b)) {
        if (def != NULL && def->case_exact)
            return strcmp(json_string_value(a), json_string_value(b)) == 0;
        return strcasecmp(json_string_value(a), json_string_value(b)) == 0;
    }
    return json_equal((json_t *)a, (json_t *)b);
}

bool s2l_res_value_equal(const s2l_attr_def *def, const json_t *a, const json_t *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (def->type != S2L_T_COMPLEX)
        return scalar_equal(def, a, b);
    if (!json_is_object(a) || !json_is_object(b))
        return false;
    const s2l_attr_def *vsub = s2l_attr_find_sub(def, "value");
    if (vsub != NULL) {
        const json_t *av = s2l_json_get_ci(a, vsub->name), *bv = s2l_json_get_ci(b, vsub->name);
        if (av != NULL && bv != NULL) {
            const s2l_attr_def *tsub = s2l_attr_find_sub(def, "type");
            const json_t *at = tsub ? s2l_json_get_ci(a, tsub->name) : NULL;
            const json_t *bt = tsub ? s2l_json_get_ci(b, tsub->name) : NULL;
            if (!scalar_equal(vsub, av, bv))
                return false;
            return at == NULL || bt == NULL || scalar_equal(tsub, at, bt);
        }
    }
    for (size_t i = 0; i < def->n_sub; i++) {
        const json_t *av = s2l_json_get_ci(a, def->sub[i].name), *bv = s2l_json_get_ci(b, def->sub[i].name);
        if ((av == NULL) != (bv == NULL))
            return false;
        if (av != NULL && !scalar_equal(&def->sub[i], av, bv))
            return false;
    }
    return true;
}

/* ---- normalisation ---- */

typedef struct norm_ctx {
    const s2l_resource_type *rt;
    s2l_res_pol pol;
    json_t *out;
    s2l_error *err;
} norm_ctx;

static int norm_key(norm_ctx *c, const s2l_schema *within, const char *key, const json_t *val);

static bool is_type_schema(const s2l_resource_type *rt, const char *urn)
{
    for (size_t i = 0; i <= rt->n_ext; i++)
        if (s2l_schema_is(i == 0 ? rt->core : rt->ext[i - 1], urn))
            return true;
    return false;
}

static int norm_schemas(norm_ctx *c, const json_t *val)
{
    size_t i;
    json_t *v;
    json_t *kept = NULL;

    if (!json_is_array(val)) {
        s2l_error_set(c->err, 400, S2L_SCIM_INVALID_SYNTAX, "'schemas' must be an array of URNs");
        return -1;
    }
    json_array_foreach(val, i, v) {
        if (!json_is_string(v)) {
            s2l_error_set(c->err, 400, S2L_SCIM_INVALID_SYNTAX, "'schemas' must be an array of URNs");
            return -1;
        }
    }
    /* The type's own URNs always stay; others (Entra's ADSCIM one, OneLogin's
     * urn:scim:schemas:core:2.0) follow the schemas policy. */
    kept = json_array();
    if (kept == NULL)
        goto nomem;
    json_array_foreach(val, i, v) {
        const char *urn = json_string_value(v);
        if (!is_type_schema(c->rt, urn)) {
            s2l_attr_policy p = s2l_res_pol_schema(&c->pol, urn, c->err);
            if (p == S2L_POLICY_REJECT) {
                json_decref(kept);
                return -1;
            }
            if (p == S2L_POLICY_IGNORE)
                continue;
        }
        if (json_array_append(kept, v) != 0)
            goto nomem;
    }
    if (s2l_res_set_ci(c->out, "schemas", kept) != 0) {
        kept = NULL;
        goto nomem;
    }
    return 0;
nomem:
    json_decref(kept);
    s2l_error_set(c->err, 500, NULL, "out of memory");
    return -1;
}

static int norm_nested(norm_ctx *c, const s2l_schema *schema, const json_t *val)
{
    const char *k;
    json_t *v;

    if (json_is_null(val))
        return 0;
    if (!json_is_object(val)) {
        s2l_error_set(c->err, 400, S2L_SCIM_INVALID_VALUE, "expected an object for '%s'", schema->id);
        return -1;
    }
    json_object_foreach((json_t *)val, k, v) {
        if (norm_key(c, schema, k, v) != 0)
            return -1;
    }
    return 0;
}

static int norm_attr(norm_ctx *c, const s2l_res_ref *ref, const json_t *val)
{
    json_t *cont = NULL;
    json_t *cur;
    json_t *v = NULL;
    const s2l_attr_def *target = ref->sub ? ref->sub : ref->def;
    int rc = -1;

    /* RFC 7643 §2.2: readOnly values (id, meta, groups) are ignored on input. */
    if (ref->def->mutability == S2L_MUT_READ_ONLY || target->mutability == S2L_MUT_READ_ONLY)
        return 0;
    if (ref->sub != NULL && ref->def->multi_valued) {
        s2l_res_error_attr(c->err, S2L_SCIM_INVALID_VALUE, ref->sub,
                           "a dotted name cannot address a multi-valued attribute:");
        return -1;
    }
    if (s2l_res_coerce(target, val, false, &c->pol, &v, c->err) != 0)
        return -1;
    cont = s2l_res_container(c->out, c->rt, ref->schema, v != NULL);
    if (cont == NULL) {
        if (v == NULL)
            return 0;
        goto nomem;
    }
    cur = s2l_json_get_ci(cont, ref->def->name);
    if (ref->sub != NULL) {
        if (!json_is_object(cur)) {
            if (v == NULL)
                return 0;
            cur = json_object();
            if (cur == NULL || s2l_res_set_ci(cont, ref->def->name, cur) != 0)
                goto nomem;
        }
        if (v == NULL)
            s2l_res_del_ci(cur, ref->sub->name);
        else if (s2l_res_set_ci(cur, ref->sub->name, v) != 0)
            goto nomem_stolen;
        v = NULL;
        if (s2l_res_complex_is_void(ref->def, cur))
            s2l_res_del_ci(cont, ref->def->name);
    } else if (v == NULL) {
        s2l_res_del_ci(cont, ref->def->name);
    } else if (ref->def->type == S2L_T_COMPLEX && !ref->def->multi_valued && json_is_object(cur)) {
        /* "name" and "name.givenName" in one body complement each other. */
        if (json_object_update(cur, v) != 0)
            goto nomem;
    } else {
        if (s2l_res_set_ci(cont, ref->def->name, v) != 0)
            goto nomem_stolen;
        v = NULL;
    }
    rc = 0;
    goto out;
nomem_stolen:
    v = NULL;
nomem:
    s2l_error_set(c->err, 500, NULL, "out of memory");
out:
    json_decref(v);
    return rc;
}

/* The full-schema counterpart of a view schema (same URN). */
static const s2l_schema *full_schema_of(const s2l_resource_type *full, const s2l_schema *view)
{
    for (size_t i = 0; full && view && i <= full->n_ext; i++) {
        const s2l_schema *s = i == 0 ? full->core : full->ext[i - 1];
        if (s2l_schema_is(s, view->id))
            return s;
    }
    return NULL;
}

/* Stores val (as sent) at the canonical place of an attribute kept by policy:
 * the schema spelling and container when the full schemas know it, else the
 * key as written (under the extension URN when nested in one). */
static int keep_raw(norm_ctx *c, const s2l_schema *within, const char *key, const s2l_res_ref *fref,
                    const json_t *val)
{
    json_t *cont, *copy;

    if (fref != NULL && fref->def != NULL) {
        cont = fref->schema == NULL || fref->schema == c->pol.full->core
                   ? c->out
                   : s2l_res_container(c->out, c->rt, fref->schema, true);
        if (cont == NULL)
            goto nomem;
        if (fref->sub != NULL) {
            json_t *obj = s2l_json_get_ci(cont, fref->def->name);
            if (!json_is_object(obj)) {
                obj = json_object();
                if (obj == NULL || s2l_res_set_ci(cont, fref->def->name, obj) != 0)
                    goto nomem;
            }
            cont = obj;
            key = fref->sub->name;
        } else {
            key = fref->def->name;
        }
    } else {
        cont = within != NULL && within != c->rt->core ? s2l_res_container(c->out, c->rt, within, true) : c->out;
        if (cont == NULL)
            goto nomem;
    }
    copy = json_deep_copy(val);
    if (copy == NULL || s2l_res_set_ci(cont, key, copy) != 0)
        goto nomem;
    return 0;
nomem:
    s2l_error_set(c->err, 500, NULL, "out of memory");
    return -1;
}

/* A key the view does not know: unmapped (in the type's full schemas),
 * an unknown extension (a URN-keyed object), or unknown. */
static int norm_unknown(norm_ctx *c, const s2l_schema *within, const char *key, const json_t *val)
{
    s2l_res_ref fref;
    s2l_res_kind kind = S2L_RES_UNKNOWN;
    char path[512];
    s2l_attr_policy p;

    /* RFC 7643 §2.5: unassigned says nothing, about any attribute. */
    if (s2l_res_is_unassigned(val))
        return 0;
    memset(&fref, 0, sizeof fref);
    if (c->pol.full != NULL)
        kind = s2l_res_resolve(c->pol.full, full_schema_of(c->pol.full, within), key, &fref);
    if (within != NULL && within != c->rt->core)
        snprintf(path, sizeof path, "%s:%s", within->id, key);
    else
        snprintf(path, sizeof path, "%s", key);
    if (kind != S2L_RES_ATTR && within == NULL && strncasecmp(key, "urn:", 4) == 0 && json_is_object(val)) {
        /* attributes of an extension the type does not have */
        p = s2l_res_pol_schema(&c->pol, key, c->err);
        if (!c->pol.schemas_strict)
            p = s2l_res_pol_apply(&c->pol, false, path, c->err);
    } else {
        p = s2l_res_pol_apply(&c->pol, kind == S2L_RES_ATTR, path, c->err);
    }
    if (p == S2L_POLICY_REJECT)
        return -1;
    if (p == S2L_POLICY_IGNORE)
        return 0;
    char urn[400];
    const char *attr;
    if (kind != S2L_RES_ATTR && within == NULL && !json_is_object(val) &&
        s2l_res_split_urn_key(key, urn, sizeof urn, &attr)) {
        /* "urn:...:attr": under its URN, as if sent nested */
        json_t *cont = s2l_json_get_ci(c->out, urn), *copy = json_deep_copy(val);
        if (!json_is_object(cont)) {
            cont = json_object();
            if (cont == NULL || s2l_res_set_ci(c->out, urn, cont) != 0) {
                json_decref(copy);
                s2l_error_set(c->err, 500, NULL, "out of memory");
                return -1;
            }
        }
        if (copy == NULL || s2l_res_set_ci(cont, attr, copy) != 0) {
            s2l_error_set(c->err, 500, NULL, "out of memory");
            return -1;
        }
        return 0;
    }
    return keep_raw(c, within, key, kind == S2L_RES_ATTR ? &fref : NULL, val);
}

static int norm_key(norm_ctx *c, const s2l_schema *within, const char *key, const json_t *val)
{
    s2l_res_ref ref;

    switch (s2l_res_resolve(c->rt, within, key, &ref)) {
    case S2L_RES_SCHEMA:
        return norm_nested(c, ref.schema, val);
    case S2L_RES_ATTR:
        return norm_attr(c, &ref, val);
    case S2L_RES_UNKNOWN:
    default:
        break;
    }
    return norm_unknown(c, within, key, val);
}

static int check_required(norm_ctx *c, const s2l_schema *schema)
{
    json_t *cont = s2l_res_container(c->out, c->rt, schema, false);

    for (size_t i = 0; schema != NULL && i < schema->n_attrs; i++) {
        const s2l_attr_def *def = &schema->attrs[i];
        if (!s2l_res_required(schema, def) || def->mutability == S2L_MUT_READ_ONLY)
            continue;
        if (s2l_json_get_ci(cont, def->name) == NULL) {
            s2l_res_error_attr(c->err, S2L_SCIM_INVALID_VALUE, def, "missing required attribute");
            return -1;
        }
    }
    return 0;
}

json_t *s2l_resource_normalize(const s2l_resource_type *rt, const json_t *body, s2l_norm_mode mode,
                               const s2l_norm_opts *opts, s2l_error *err)
{
    norm_ctx c = {.rt = rt, .err = err};
    const char *k;
    json_t *v;
    json_t *result = NULL;

    /* Both modes need the required attributes: PUT replaces the whole resource. */
    (void)mode;
    s2l_res_pol_init(&c.pol, opts && opts->ignore_unknown, opts ? opts->policies : NULL, opts ? opts->notes : NULL);
    if (rt == NULL || rt->core == NULL) {
        s2l_error_set(err, 500, NULL, "no resource type");
        goto out;
    }
    if (s2l_json_check(body, rt->json_limits, err) < 0)
        goto out;
    if (!json_is_object(body)) {
        s2l_error_set(err, 400, S2L_SCIM_INVALID_SYNTAX, "the request body must be a JSON object");
        goto out;
    }
    c.out = json_object();
    if (c.out == NULL) {
        s2l_error_set(err, 500, NULL, "out of memory");
        goto out;
    }
    json_object_foreach((json_t *)body, k, v) {
        int rc = strcasecmp(k, "schemas") == 0 ? norm_schemas(&c, v) : norm_key(&c, NULL, k, v);
        if (rc != 0)
            goto out;
    }
    for (size_t i = 0; i <= rt->n_ext; i++) {
        const s2l_schema *s = i == 0 ? rt->core : rt->ext[i - 1];
        json_t *cont = s2l_res_container(c.out, rt, s, false);
        if (i > 0 && cont != NULL && json_object_size(cont) == 0) {
            s2l_res_del_ci(c.out, s->id);
            cont = NULL;
        }
        if (i > 0 && cont == NULL && rt->ext_required && rt->ext_required[i - 1]) {
            s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "missing required extension '%s'", s->id);
            goto out;
        }
        if (check_required(&c, s) != 0)
            goto out;
    }
    result = c.out;
    c.out = NULL;
out:
    json_decref(c.out);
    return result;
}
