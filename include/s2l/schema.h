/* schema.h — the SCIM schema model (RFC 7643 §7), loaded from schema JSON.
 *
 * Schemas are read from files shaped exactly like what GET /Schemas returns
 * (schemas/scim/<name>.json). The mapping module later derives a *view* holding only
 * the attributes an admin mapped; PATCH, filters and rendering all work against
 * such a view, so "unknown attribute" simply means "not in the view".
 *
 * Ownership: an s2l_schema owns all its strings and attribute definitions;
 * s2l_schema_destroy frees everything. s2l_attr_def pointers handed out by the
 * lookup functions borrow from their schema and live as long as it does.
 * Attribute names compare case-insensitively (RFC 7643 §2.1).
 */
#ifndef S2L_SCHEMA_H
#define S2L_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "s2l/error.h"

#define S2L_URN_USER       "urn:ietf:params:scim:schemas:core:2.0:User"
#define S2L_URN_GROUP      "urn:ietf:params:scim:schemas:core:2.0:Group"
#define S2L_URN_ENTERPRISE "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define S2L_URN_LIST       "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define S2L_URN_PATCH      "urn:ietf:params:scim:api:messages:2.0:PatchOp"

typedef enum {
    S2L_T_STRING, S2L_T_BOOLEAN, S2L_T_DECIMAL, S2L_T_INTEGER,
    S2L_T_DATETIME, S2L_T_BINARY, S2L_T_REFERENCE, S2L_T_COMPLEX
} s2l_attr_type;

typedef enum { S2L_MUT_READ_WRITE, S2L_MUT_READ_ONLY, S2L_MUT_IMMUTABLE, S2L_MUT_WRITE_ONLY } s2l_mutability;
typedef enum { S2L_RET_DEFAULT, S2L_RET_ALWAYS, S2L_RET_NEVER, S2L_RET_REQUEST } s2l_returned;
typedef enum { S2L_UNIQ_NONE, S2L_UNIQ_SERVER, S2L_UNIQ_GLOBAL } s2l_uniqueness;

typedef struct s2l_attr_def s2l_attr_def;
typedef struct s2l_schema s2l_schema;

struct s2l_attr_def {
    char *name;                    /* canonical spelling, e.g. "userName" */
    s2l_attr_type type;
    bool multi_valued;
    bool required;
    bool case_exact;
    s2l_mutability mutability;
    s2l_returned returned;
    s2l_uniqueness uniqueness;
    char *description;             /* may be NULL */
    char **canonical_values;       /* n_canonical strings */
    size_t n_canonical;
    char **reference_types;        /* n_reference_types strings */
    size_t n_reference_types;
    s2l_attr_def *sub;             /* sub-attributes of a complex attribute */
    size_t n_sub;
    const s2l_attr_def *parent;    /* NULL for top-level attributes */
    const s2l_schema *schema;      /* the schema this attribute belongs to */
};

struct s2l_schema {
    char *id;                      /* URN */
    char *name;                    /* may be NULL */
    char *description;             /* may be NULL */
    s2l_attr_def *attrs;
    size_t n_attrs;
};

/* Parses one schema object (RFC 7643 §7 form). NULL + *err on a malformed definition. */
s2l_schema *s2l_schema_from_json(const json_t *schema_json, s2l_error *err);
void s2l_schema_destroy(s2l_schema *s);

/* A new schema holding only the attributes for which keep(def, arg) is true
 * (sub-attributes are filtered the same way; a complex attribute whose
 * sub-attributes are all dropped is dropped too). */
typedef bool s2l_attr_keep_fn(const s2l_attr_def *def, void *arg);
s2l_schema *s2l_schema_filter(const s2l_schema *s, s2l_attr_keep_fn *keep, void *arg);

/* Case-insensitive lookups; NULL when absent. */
const s2l_attr_def *s2l_schema_find(const s2l_schema *s, const char *name);
const s2l_attr_def *s2l_attr_find_sub(const s2l_attr_def *def, const char *name);

/* The schema as RFC 7643 §7 JSON (new reference), with meta.location under base_url
 * when base_url is not NULL. */
json_t *s2l_schema_to_json(const s2l_schema *s, const char *base_url);

/* "urn:...:User" → true when urn equals the schema id, case-insensitively. */
bool s2l_schema_is(const s2l_schema *s, const char *urn);

/* Names of types/mutability/returned/uniqueness as in RFC 7643 ("readWrite", ...). */
const char *s2l_attr_type_name(s2l_attr_type t);
const char *s2l_mutability_name(s2l_mutability m);
const char *s2l_returned_name(s2l_returned r);
const char *s2l_uniqueness_name(s2l_uniqueness u);

struct s2l_json_limits;

/* A resource type: one core schema plus extension schemas (RFC 7643 §6).
 * It borrows the schemas (they are owned by whoever built it, normally the mapping). */
typedef struct s2l_resource_type {
    const char *name;              /* "User" */
    const char *endpoint;          /* "/Users" */
    const char *description;
    const s2l_schema *core;
    const s2l_schema **ext;        /* n_ext extension schemas */
    const bool *ext_required;      /* n_ext flags */
    size_t n_ext;
    /* Bounds on request bodies (json_limits.h) checked by s2l_resource_normalize
     * and s2l_patch_apply; NULL = the defaults. The mapping points it at the
     * configured limits (s2l_mapping_set_limits). */
    const struct s2l_json_limits *json_limits;
} s2l_resource_type;

/* Resolves an attribute of a resource type: urn may be NULL (core first, then
 * extensions in order) or a schema URN; sub may be NULL. Returns the attribute
 * (the sub-attribute when sub is given) and sets *schema_out when not NULL.
 * Common attributes id/externalId/meta are part of the core schema view. */
const s2l_attr_def *s2l_rtype_find(const s2l_resource_type *rt, const char *urn, const char *attr,
                                   const char *sub, const s2l_schema **schema_out);

/* If name starts with the URN of one of rt's schemas followed by ':', returns that
 * schema and sets *rest to the remainder ("urn:...:User:manager.value" → "manager.value").
 * NULL otherwise. Matching is case-insensitive and picks the longest URN. */
const s2l_schema *s2l_rtype_split_urn(const s2l_resource_type *rt, const char *name, const char **rest);

/* The common attributes id, externalId and meta (RFC 7643 §3.1) as a static
 * pseudo-schema (id "urn:ietf:params:scim:schemas:core:2.0:Common"); never
 * destroyed. s2l_rtype_find consults it after the core schema, so they resolve
 * on every resource type without appearing in /Schemas (RFC 7643 §7). Their
 * def->schema is this pseudo-schema; s2l_rtype_find reports the core schema
 * through *schema_out because they live at the top level of a resource. */
const s2l_schema *s2l_schema_common(void);
bool s2l_attr_is_common(const s2l_attr_def *def);

#endif
