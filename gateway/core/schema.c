/* schema.c — the SCIM schema model (see include/s2l/schema.h).
 *
 * Schema files are trusted configuration, but they are edited by hand, so every
 * problem is reported with the JSON path of the offending member; the mapping
 * loader prefixes the file name.
 */
#include "s2l/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SCHEMA_URN_SCHEMA "urn:ietf:params:scim:schemas:core:2.0:Schema"

/* ---- names ---- */

static const char *const type_names[] = {
    [S2L_T_STRING] = "string",     [S2L_T_BOOLEAN] = "boolean", [S2L_T_DECIMAL] = "decimal",
    [S2L_T_INTEGER] = "integer",   [S2L_T_DATETIME] = "dateTime", [S2L_T_BINARY] = "binary",
    [S2L_T_REFERENCE] = "reference", [S2L_T_COMPLEX] = "complex",
};
static const char *const mutability_names[] = {
    [S2L_MUT_READ_WRITE] = "readWrite", [S2L_MUT_READ_ONLY] = "readOnly",
    [S2L_MUT_IMMUTABLE] = "immutable",  [S2L_MUT_WRITE_ONLY] = "writeOnly",
};
static const char *const returned_names[] = {
    [S2L_RET_DEFAULT] = "default", [S2L_RET_ALWAYS] = "always",
    [S2L_RET_NEVER] = "never",     [S2L_RET_REQUEST] = "request",
};
static const char *const uniqueness_names[] = {
    [S2L_UNIQ_NONE] = "none", [S2L_UNIQ_SERVER] = "server", [S2L_UNIQ_GLOBAL] = "global",
};

#define NAME_OF(table, v) \
    ((size_t)(v) < sizeof(table) / sizeof((table)[0]) ? (table)[(v)] : "unknown")

const char *s2l_attr_type_name(s2l_attr_type t) { return NAME_OF(type_names, t); }
const char *s2l_mutability_name(s2l_mutability m) { return NAME_OF(mutability_names, m); }
const char *s2l_returned_name(s2l_returned r) { return NAME_OF(returned_names, r); }
const char *s2l_uniqueness_name(s2l_uniqueness u) { return NAME_OF(uniqueness_names, u); }

/* Index of s in names (case-sensitive: RFC 7643 spells these exactly), or -1. */
static int name_index(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

/* ---- the common attributes (RFC 7643 §3.1) ----
 *
 * They belong to every resource type but are not part of any schema's
 * attribute list (RFC 7643 §7 says /Schemas must not list them), so they live
 * in one static pseudo-schema that s2l_rtype_find consults after the core
 * schema. Static data: no allocation, nothing to free, safe to share between
 * threads because it is never written. */

static s2l_schema common_schema;
static s2l_attr_def common_attrs[3];

static char *const uri_ref[] = {"uri"};

#define META_SUB(nm, ty, ce, desc) { \
    .name = nm, .type = ty, .case_exact = ce, .mutability = S2L_MUT_READ_ONLY, \
    .returned = S2L_RET_DEFAULT, .uniqueness = S2L_UNIQ_NONE, .description = desc, \
    .parent = &common_attrs[2], .schema = &common_schema }

static s2l_attr_def meta_subs[] = {
    META_SUB("resourceType", S2L_T_STRING, true, "The name of the resource type of the resource."),
    META_SUB("created", S2L_T_DATETIME, false, "The date and time the resource was added."),
    META_SUB("lastModified", S2L_T_DATETIME, false, "The most recent date and time the resource was modified."),
    { .name = "location", .type = S2L_T_REFERENCE, .case_exact = true,
      .mutability = S2L_MUT_READ_ONLY, .returned = S2L_RET_DEFAULT, .uniqueness = S2L_UNIQ_NONE,
      .description = "The URI of the resource being returned.",
      .reference_types = (char **)uri_ref, .n_reference_types = 1,
      .parent = &common_attrs[2], .schema = &common_schema },
    META_SUB("version", S2L_T_STRING, true, "The version of the resource being returned."),
};

static s2l_attr_def common_attrs[3] = {
    { .name = "id", .type = S2L_T_STRING, .case_exact = true, .mutability = S2L_MUT_READ_ONLY,
      .returned = S2L_RET_ALWAYS, .uniqueness = S2L_UNIQ_SERVER,
      .description = "A unique identifier for a SCIM resource as defined by the service provider.",
      .schema = &common_schema },
    { .name = "externalId", .type = S2L_T_STRING, .case_exact = true,
      .mutability = S2L_MUT_READ_WRITE, .returned = S2L_RET_DEFAULT, .uniqueness = S2L_UNIQ_NONE,
      .description = "An identifier for the resource as defined by the provisioning client.",
      .schema = &common_schema },
    { .name = "meta", .type = S2L_T_COMPLEX, .mutability = S2L_MUT_READ_ONLY,
      .returned = S2L_RET_DEFAULT, .uniqueness = S2L_UNIQ_NONE,
      .description = "A complex attribute containing resource metadata.",
      .sub = meta_subs, .n_sub = sizeof meta_subs / sizeof meta_subs[0],
      .schema = &common_schema },
};

static s2l_schema common_schema = {
    .id = "urn:ietf:params:scim:schemas:core:2.0:Common",
    .name = "Common",
    .description = "Attributes common to all resources (RFC 7643 section 3.1)",
    .attrs = common_attrs,
    .n_attrs = sizeof common_attrs / sizeof common_attrs[0],
};

const s2l_schema *s2l_schema_common(void) { return &common_schema; }

bool s2l_attr_is_common(const s2l_attr_def *def)
{
    return def != NULL && def->schema == &common_schema;
}

/* ---- freeing ---- */

static void strv_free_n(char **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Frees what def owns, not def itself (definitions live in arrays). */
static void attr_fini(s2l_attr_def *def)
{
    free(def->name);
    free(def->description);
    strv_free_n(def->canonical_values, def->n_canonical);
    strv_free_n(def->reference_types, def->n_reference_types);
    for (size_t i = 0; i < def->n_sub; i++)
        attr_fini(&def->sub[i]);
    free(def->sub);
}

void s2l_schema_destroy(s2l_schema *s)
{
    if (s == NULL || s == &common_schema)
        return;
    for (size_t i = 0; i < s->n_attrs; i++)
        attr_fini(&s->attrs[i]);
    free(s->attrs);
    free(s->id);
    free(s->name);
    free(s->description);
    free(s);
}

/* ---- parsing ---- */

/* Optional string member: 0 and *out = NULL when absent; -1 on a wrong type or no memory. */
static int opt_string(const json_t *obj, const char *key, char **out, const char *where, s2l_error *err)
{
    *out = NULL;
    const json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        s2l_error_set(err, 500, NULL, "%s.%s: must be a string", where, key);
        return -1;
    }
    *out = strdup(json_string_value(v));
    if (*out == NULL) {
        s2l_error_set(err, 500, NULL, "out of memory");
        return -1;
    }
    return 0;
}

static int opt_bool(const json_t *obj, const char *key, bool *out, const char *where, s2l_error *err)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v)) {
        s2l_error_set(err, 500, NULL, "%s.%s: must be true or false", where, key);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

/* Optional enumerated member, spelled as in RFC 7643; *out keeps its default when absent. */
static int opt_enum(const json_t *obj, const char *key, const char *const *names, size_t n, int *out,
                    const char *where, s2l_error *err)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    int idx = json_is_string(v) ? name_index(names, n, json_string_value(v)) : -1;
    if (idx < 0) {
        s2l_error_set(err, 500, NULL, "%s.%s: unknown value%s%s%s", where, key,
                      json_is_string(v) ? " \"" : "", json_is_string(v) ? json_string_value(v) : "",
                      json_is_string(v) ? "\"" : "");
        return -1;
    }
    *out = idx;
    return 0;
}

static int opt_strv(const json_t *obj, const char *key, char ***out, size_t *n_out, const char *where,
                    s2l_error *err)
{
    *out = NULL;
    *n_out = 0;
    const json_t *arr = json_object_get(obj, key);
    if (arr == NULL)
        return 0;
    if (!json_is_array(arr)) {
        s2l_error_set(err, 500, NULL, "%s.%s: must be an array of strings", where, key);
        return -1;
    }
    size_t n = json_array_size(arr);
    if (n == 0)
        return 0;
    char **v = calloc(n, sizeof *v);
    if (v == NULL) {
        s2l_error_set(err, 500, NULL, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(arr, i);
        if (!json_is_string(e)) {
            s2l_error_set(err, 500, NULL, "%s.%s[%zu]: must be a string", where, key, i);
            strv_free_n(v, i);
            return -1;
        }
        v[i] = strdup(json_string_value(e));
        if (v[i] == NULL) {
            s2l_error_set(err, 500, NULL, "out of memory");
            strv_free_n(v, i);
            return -1;
        }
    }
    *out = v;
    *n_out = n;
    return 0;
}

static int parse_attrs(const json_t *arr, s2l_attr_def **out, size_t *n_out, const s2l_attr_def *parent,
                       const char *where, s2l_error *err);

/* Parses one attribute definition into *def (zeroed by the caller). where is its JSON path. */
static int parse_attr(const json_t *j, s2l_attr_def *def, const s2l_attr_def *parent, const char *where,
                      s2l_error *err)
{
    int type = S2L_T_STRING, mut = S2L_MUT_READ_WRITE, ret = S2L_RET_DEFAULT, uniq = S2L_UNIQ_NONE;

    if (!json_is_object(j)) {
        s2l_error_set(err, 500, NULL, "%s: must be an object", where);
        return -1;
    }
    const json_t *name = json_object_get(j, "name");
    if (!json_is_string(name) || json_string_length(name) == 0) {
        s2l_error_set(err, 500, NULL, "%s.name: missing or not a non-empty string", where);
        return -1;
    }
    def->name = strdup(json_string_value(name));
    if (def->name == NULL) {
        s2l_error_set(err, 500, NULL, "out of memory");
        return -1;
    }
    def->parent = parent;
    if (json_object_get(j, "type") == NULL) {
        s2l_error_set(err, 500, NULL, "%s.type: missing", where);
        return -1;
    }
    if (opt_enum(j, "type", type_names, sizeof type_names / sizeof type_names[0], &type, where, err) < 0 ||
        opt_enum(j, "mutability", mutability_names, sizeof mutability_names / sizeof mutability_names[0],
                 &mut, where, err) < 0 ||
        opt_enum(j, "returned", returned_names, sizeof returned_names / sizeof returned_names[0], &ret,
                 where, err) < 0 ||
        opt_enum(j, "uniqueness", uniqueness_names, sizeof uniqueness_names / sizeof uniqueness_names[0],
                 &uniq, where, err) < 0 ||
        opt_bool(j, "multiValued", &def->multi_valued, where, err) < 0 ||
        opt_bool(j, "required", &def->required, where, err) < 0 ||
        opt_bool(j, "caseExact", &def->case_exact, where, err) < 0 ||
        opt_string(j, "description", &def->description, where, err) < 0 ||
        opt_strv(j, "canonicalValues", &def->canonical_values, &def->n_canonical, where, err) < 0 ||
        opt_strv(j, "referenceTypes", &def->reference_types, &def->n_reference_types, where, err) < 0)
        return -1;
    def->type = (s2l_attr_type)type;
    def->mutability = (s2l_mutability)mut;
    def->returned = (s2l_returned)ret;
    def->uniqueness = (s2l_uniqueness)uniq;

    const json_t *subs = json_object_get(j, "subAttributes");
    if (def->type == S2L_T_COMPLEX) {
        if (parent != NULL) {
            /* RFC 7643 §2.3.8: a complex attribute must not contain sub-attributes that have sub-attributes. */
            s2l_error_set(err, 500, NULL, "%s: complex attributes cannot be nested", where);
            return -1;
        }
        if (!json_is_array(subs) || json_array_size(subs) == 0) {
            s2l_error_set(err, 500, NULL, "%s.subAttributes: a complex attribute needs a non-empty array",
                          where);
            return -1;
        }
        char sub_where[512];
        int len = snprintf(sub_where, sizeof sub_where, "%s.subAttributes", where);
        if (len < 0 || (size_t)len >= sizeof sub_where) {
            s2l_error_set(err, 500, NULL, "%s: path too long", where);
            return -1;
        }
        if (parse_attrs(subs, &def->sub, &def->n_sub, def, sub_where, err) < 0)
            return -1;
    } else if (subs != NULL) {
        s2l_error_set(err, 500, NULL, "%s.subAttributes: only complex attributes have sub-attributes", where);
        return -1;
    }
    return 0;
}

static int parse_attrs(const json_t *arr, s2l_attr_def **out, size_t *n_out, const s2l_attr_def *parent,
                       const char *where, s2l_error *err)
{
    size_t n = json_array_size(arr);
    s2l_attr_def *defs = calloc(n ? n : 1, sizeof *defs);
    size_t done = 0;
    int rc = -1;

    if (defs == NULL) {
        s2l_error_set(err, 500, NULL, "out of memory");
        goto out;
    }
    for (; done < n; done++) {
        char item[512];
        int len = snprintf(item, sizeof item, "%s[%zu]", where, done);
        if (len < 0 || (size_t)len >= sizeof item) {
            s2l_error_set(err, 500, NULL, "%s: path too long", where);
            goto out;
        }
        if (parse_attr(json_array_get(arr, done), &defs[done], parent, item, err) < 0) {
            done++; /* the failed one is partially filled and must be finalised too */
            goto out;
        }
        for (size_t k = 0; k < done; k++) {
            if (strcasecmp(defs[k].name, defs[done].name) == 0) {
                s2l_error_set(err, 500, NULL, "%s.name: duplicate attribute \"%s\"", item, defs[done].name);
                done++;
                goto out;
            }
        }
    }
    rc = 0;
out:
    if (rc < 0 && defs != NULL) {
        for (size_t k = 0; k < done; k++)
            attr_fini(&defs[k]);
        free(defs);
        defs = NULL;
        done = 0;
    }
    *out = defs;
    *n_out = done;
    return rc;
}

/* Points every definition at its schema (done once the schema's address is final). */
static void set_schema(s2l_attr_def *defs, size_t n, const s2l_schema *s)
{
    for (size_t i = 0; i < n; i++) {
        defs[i].schema = s;
        set_schema(defs[i].sub, defs[i].n_sub, s);
    }
}

s2l_schema *s2l_schema_from_json(const json_t *schema_json, s2l_error *err)
{
    s2l_schema *s = NULL;
    const json_t *id, *attrs;

    if (!json_is_object(schema_json)) {
        s2l_error_set(err, 500, NULL, "$: a schema must be an object");
        goto fail;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        s2l_error_set(err, 500, NULL, "out of memory");
        goto fail;
    }
    id = json_object_get(schema_json, "id");
    if (!json_is_string(id) || json_string_length(id) == 0) {
        s2l_error_set(err, 500, NULL, "$.id: missing or not a non-empty string");
        goto fail;
    }
    s->id = strdup(json_string_value(id));
    if (s->id == NULL) {
        s2l_error_set(err, 500, NULL, "out of memory");
        goto fail;
    }
    if (opt_string(schema_json, "name", &s->name, "$", err) < 0 ||
        opt_string(schema_json, "description", &s->description, "$", err) < 0)
        goto fail;
    attrs = json_object_get(schema_json, "attributes");
    if (!json_is_array(attrs)) {
        s2l_error_set(err, 500, NULL, "$.attributes: missing or not an array");
        goto fail;
    }
    if (parse_attrs(attrs, &s->attrs, &s->n_attrs, NULL, "$.attributes", err) < 0)
        goto fail;
    set_schema(s->attrs, s->n_attrs, s);
    return s;
fail:
    s2l_schema_destroy(s);
    return NULL;
}

/* ---- filtering (building views) ---- */

static int copy_strv(char **src, size_t n, char ***dst)
{
    *dst = NULL;
    if (n == 0)
        return 0;
    char **v = calloc(n, sizeof *v);
    if (v == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        v[i] = strdup(src[i]);
        if (v[i] == NULL) {
            strv_free_n(v, i);
            return -1;
        }
    }
    *dst = v;
    return 0;
}

/* Deep copy of src's own fields (not sub-attributes) into the zeroed *dst. */
static int copy_attr_fields(const s2l_attr_def *src, s2l_attr_def *dst)
{
    *dst = *src;
    dst->name = NULL;
    dst->description = NULL;
    dst->canonical_values = NULL;
    dst->reference_types = NULL;
    dst->sub = NULL;
    dst->n_sub = 0;
    dst->n_canonical = 0;
    dst->n_reference_types = 0;
    dst->name = strdup(src->name);
    if (dst->name == NULL)
        return -1;
    if (src->description && (dst->description = strdup(src->description)) == NULL)
        return -1;
    if (copy_strv(src->canonical_values, src->n_canonical, &dst->canonical_values) < 0)
        return -1;
    dst->n_canonical = src->n_canonical;
    if (copy_strv(src->reference_types, src->n_reference_types, &dst->reference_types) < 0)
        return -1;
    dst->n_reference_types = src->n_reference_types;
    return 0;
}

/* Copies the kept definitions of src[0..n) into a new array. *n_out = 0 (and
 * *out = NULL) when none is kept. -1 on out of memory. */
static int filter_attrs(const s2l_attr_def *src, size_t n, const s2l_attr_def *parent, s2l_attr_keep_fn *keep,
                        void *arg, s2l_attr_def **out, size_t *n_out)
{
    s2l_attr_def *defs = calloc(n ? n : 1, sizeof *defs);
    size_t k = 0;
    int rc = -1;

    *out = NULL;
    *n_out = 0;
    if (defs == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (!keep(&src[i], arg))
            continue;
        s2l_attr_def *d = &defs[k];
        if (copy_attr_fields(&src[i], d) < 0) {
            attr_fini(d);
            memset(d, 0, sizeof *d);
            goto out;
        }
        d->parent = parent;
        k++;
        if (src[i].type == S2L_T_COMPLEX && src[i].n_sub > 0) {
            if (filter_attrs(src[i].sub, src[i].n_sub, d, keep, arg, &d->sub, &d->n_sub) < 0)
                goto out;
            if (d->n_sub == 0) {
                k--;
                attr_fini(d);
                memset(d, 0, sizeof *d);
            }
        }
    }
    rc = 0;
out:
    if (rc < 0 || k == 0) {
        for (size_t i = 0; i < k; i++)
            attr_fini(&defs[i]);
        free(defs);
        return rc;
    }
    /* The sub-attributes' parent pointers point into defs, so it cannot be
     * shrunk with realloc; the few unused slots are not worth a second copy. */
    *out = defs;
    *n_out = k;
    return 0;
}

s2l_schema *s2l_schema_filter(const s2l_schema *s, s2l_attr_keep_fn *keep, void *arg)
{
    s2l_schema *v = calloc(1, sizeof *v);
    if (v == NULL)
        return NULL;
    if ((v->id = strdup(s->id)) == NULL ||
        (s->name && (v->name = strdup(s->name)) == NULL) ||
        (s->description && (v->description = strdup(s->description)) == NULL) ||
        filter_attrs(s->attrs, s->n_attrs, NULL, keep, arg, &v->attrs, &v->n_attrs) < 0) {
        s2l_schema_destroy(v);
        return NULL;
    }
    set_schema(v->attrs, v->n_attrs, v);
    return v;
}

/* ---- lookups ---- */

static const s2l_attr_def *find_in(const s2l_attr_def *defs, size_t n, const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(defs[i].name, name) == 0)
            return &defs[i];
    return NULL;
}

const s2l_attr_def *s2l_schema_find(const s2l_schema *s, const char *name)
{
    return s ? find_in(s->attrs, s->n_attrs, name) : NULL;
}

const s2l_attr_def *s2l_attr_find_sub(const s2l_attr_def *def, const char *name)
{
    return def ? find_in(def->sub, def->n_sub, name) : NULL;
}

bool s2l_schema_is(const s2l_schema *s, const char *urn)
{
    return s != NULL && urn != NULL && strcasecmp(s->id, urn) == 0;
}

/* Looks attr (and sub) up in one schema, the core one also holding the common attributes. */
static const s2l_attr_def *find_attr_sub(const s2l_schema *s, bool is_core, const char *attr, const char *sub)
{
    const s2l_attr_def *def = s2l_schema_find(s, attr);
    if (def == NULL && is_core)
        def = s2l_schema_find(&common_schema, attr);
    if (def == NULL || sub == NULL)
        return def;
    return s2l_attr_find_sub(def, sub);
}

const s2l_attr_def *s2l_rtype_find(const s2l_resource_type *rt, const char *urn, const char *attr,
                                   const char *sub, const s2l_schema **schema_out)
{
    const s2l_attr_def *def = NULL;
    const s2l_schema *where = NULL;

    if (rt == NULL || attr == NULL)
        goto out;
    if (urn == NULL || s2l_schema_is(rt->core, urn)) {
        def = find_attr_sub(rt->core, true, attr, sub);
        where = rt->core;
    }
    for (size_t i = 0; def == NULL && i < rt->n_ext; i++) {
        if (urn != NULL && !s2l_schema_is(rt->ext[i], urn))
            continue;
        def = find_attr_sub(rt->ext[i], false, attr, sub);
        where = rt->ext[i];
    }
out:
    if (schema_out != NULL)
        *schema_out = def ? where : NULL;
    return def;
}

const s2l_schema *s2l_rtype_split_urn(const s2l_resource_type *rt, const char *name, const char **rest)
{
    const s2l_schema *best = NULL;
    size_t best_len = 0;

    if (rt == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i <= rt->n_ext; i++) {
        const s2l_schema *s = i == 0 ? rt->core : rt->ext[i - 1];
        if (s == NULL)
            continue;
        size_t len = strlen(s->id);
        if (len > best_len && strncasecmp(name, s->id, len) == 0 && name[len] == ':') {
            best = s;
            best_len = len;
        }
    }
    if (best != NULL && rest != NULL)
        *rest = name + best_len + 1;
    return best;
}

/* ---- rendering ---- */

static json_t *strv_json(char *const *v, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        if (json_array_append_new(arr, json_string(v[i])) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *attr_json(const s2l_attr_def *d)
{
    json_t *j = json_object();
    int bad = 0;

    if (j == NULL)
        return NULL;
    bad |= json_object_set_new(j, "name", json_string(d->name));
    bad |= json_object_set_new(j, "type", json_string(s2l_attr_type_name(d->type)));
    if (d->n_sub > 0) {
        json_t *subs = json_array();
        bad |= json_object_set_new(j, "subAttributes", subs);
        for (size_t i = 0; !bad && i < d->n_sub; i++)
            bad |= json_array_append_new(subs, attr_json(&d->sub[i]));
    }
    bad |= json_object_set_new(j, "multiValued", json_boolean(d->multi_valued));
    if (d->description)
        bad |= json_object_set_new(j, "description", json_string(d->description));
    bad |= json_object_set_new(j, "required", json_boolean(d->required));
    if (d->n_canonical > 0)
        bad |= json_object_set_new(j, "canonicalValues", strv_json(d->canonical_values, d->n_canonical));
    bad |= json_object_set_new(j, "caseExact", json_boolean(d->case_exact));
    if (d->type == S2L_T_REFERENCE)
        bad |= json_object_set_new(j, "referenceTypes", strv_json(d->reference_types, d->n_reference_types));
    bad |= json_object_set_new(j, "mutability", json_string(s2l_mutability_name(d->mutability)));
    bad |= json_object_set_new(j, "returned", json_string(s2l_returned_name(d->returned)));
    bad |= json_object_set_new(j, "uniqueness", json_string(s2l_uniqueness_name(d->uniqueness)));
    if (bad) {
        json_decref(j);
        return NULL;
    }
    return j;
}

json_t *s2l_schema_to_json(const s2l_schema *s, const char *base_url)
{
    json_t *j = json_object(), *attrs = json_array(), *meta = json_object();
    char *loc = NULL;
    int bad = 0;

    if (j == NULL || attrs == NULL || meta == NULL)
        goto fail;
    bad |= json_object_set_new(j, "schemas", json_pack("[s]", SCHEMA_URN_SCHEMA));
    bad |= json_object_set_new(j, "id", json_string(s->id));
    if (s->name)
        bad |= json_object_set_new(j, "name", json_string(s->name));
    if (s->description)
        bad |= json_object_set_new(j, "description", json_string(s->description));
    for (size_t i = 0; !bad && i < s->n_attrs; i++)
        bad |= json_array_append_new(attrs, attr_json(&s->attrs[i]));
    bad |= json_object_set(j, "attributes", attrs);
    bad |= json_object_set_new(meta, "resourceType", json_string("Schema"));
    if (base_url != NULL) {
        size_t n = strlen(base_url) + strlen("/Schemas/") + strlen(s->id) + 1;
        loc = malloc(n);
        if (loc == NULL)
            goto fail;
        snprintf(loc, n, "%s/Schemas/%s", base_url, s->id);
        bad |= json_object_set_new(meta, "location", json_string(loc));
    }
    bad |= json_object_set(j, "meta", meta);
    if (bad)
        goto fail;
    json_decref(attrs);
    json_decref(meta);
    free(loc);
    return j;
fail:
    json_decref(j);
    json_decref(attrs);
    json_decref(meta);
    free(loc);
    return NULL;
}
