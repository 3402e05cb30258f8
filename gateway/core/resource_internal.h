/* resource_internal.h — helpers shared by resource.c, projection.c and patch.c.
 *
 * Not part of the public contract (include/s2l/resource.h); only the three
 * translation units that implement it include this file.
 *
 * Ownership: definitions and schemas are borrowed from the resource type;
 * json_t* results of s2l_res_coerce are new references owned by the caller.
 */
#ifndef S2L_RESOURCE_INTERNAL_H
#define S2L_RESOURCE_INTERNAL_H

#include <stdbool.h>
#include <jansson.h>

#include "s2l/error.h"
#include "s2l/resource.h"
#include "s2l/schema.h"

typedef enum {
    S2L_RES_UNKNOWN,   /* not an attribute (or schema) of the resource type */
    S2L_RES_SCHEMA,    /* exactly the URN of one of the type's schemas */
    S2L_RES_ATTR,      /* an attribute, possibly "attr.sub" */
} s2l_res_kind;

typedef struct s2l_res_ref {
    const s2l_schema *schema;  /* schema the attribute lives in (core for id/externalId/meta) */
    const s2l_attr_def *def;   /* top-level attribute (S2L_RES_ATTR) */
    const s2l_attr_def *sub;   /* sub-attribute for "attr.sub", else NULL */
} s2l_res_ref;

/* Resolves a name as clients write it: "userName", "name.givenName",
 * "urn:...:enterprise:2.0:User:manager.value" or a bare schema URN. With
 * `within` set only that schema's attributes are considered and URNs are not
 * accepted (keys nested under an extension's URN key). Case-insensitive. */
s2l_res_kind s2l_res_resolve(const s2l_resource_type *rt, const s2l_schema *within, const char *name,
                             s2l_res_ref *out);

/* The policies in effect for one request (from s2l_norm_opts / s2l_patch_opts). */
typedef struct s2l_res_pol {
    s2l_attr_policy unknown, unmapped, schemas;
    const s2l_resource_type *full;  /* NULL: nothing counts as unmapped */
    json_t *notes;                  /* borrowed, may be NULL */
    bool schemas_strict;            /* policies given: unknown schema URNs follow `schemas` */
} s2l_res_pol;

void s2l_res_pol_init(s2l_res_pol *p, bool ignore_unknown, const s2l_policies *pol, json_t *notes);

/* Applies the policy for content outside the view at `path` (as written):
 * `unmapped` when the full schemas know it. REJECT sets *err (400
 * invalidSyntax naming the path) and notes "rejected"; IGNORE and KEEP note
 * "ignored" / "kept". Returns the policy applied. */
s2l_attr_policy s2l_res_pol_apply(const s2l_res_pol *p, bool unmapped, const char *path, s2l_error *err);

/* The same for a schema URN that is not one of the type's. */
s2l_attr_policy s2l_res_pol_schema(const s2l_res_pol *p, const char *urn, s2l_error *err);

/* The definition of view attribute def (top-level or sub) in the full
 * schemas, or NULL. */
const s2l_attr_def *s2l_res_full_def(const s2l_res_pol *p, const s2l_attr_def *def);

/* "urn:example:ext:1.0:User:badge" (an attribute of an extension the type
 * does not have): the URN (copied into urn, cap bytes) and *attr pointing
 * at "badge" (split at the last ':'). False when key is no such name. */
bool s2l_res_split_urn_key(const char *key, char *urn, size_t cap, const char **attr);

/* null, [], {}: "unassigned" (RFC 7643 §2.5). */
bool s2l_res_is_unassigned(const json_t *v);

/* Canonicalises a value for def (RFC 7643 types, IdP quirks: "True"/"False",
 * a single object where an array is due, a bare id or one-element array for a
 * single-valued complex attribute with a "value" sub-attribute). `element`:
 * coerce one value of a multi-valued attribute rather than the whole array.
 * Returns 0 with *out set to a new reference, or to NULL when the value is
 * "absent" (null, empty array, empty object, manager ""); -1 with *err
 * (400 invalidValue naming the attribute) otherwise. readOnly sub-attributes
 * are dropped; sub-attributes outside the view follow pol (KEEP copies them
 * into the value as sent). */
int s2l_res_coerce(const s2l_attr_def *def, const json_t *in, bool element, const s2l_res_pol *pol,
                   json_t **out, s2l_error *err);

/* Whether two values of def denote the same value: strings honour caseExact;
 * complex values with a "value" sub-attribute compare value (and type when both
 * carry one), other complex values compare every sub-attribute. */
bool s2l_res_value_equal(const s2l_attr_def *def, const json_t *a, const json_t *b);

/* The values of a multi-valued attribute indexed for s2l_res_value_equal
 * (value_index.c), so that matching thousands of values against thousands
 * costs linear time. The index borrows arr; positions are arr's.
 * _find returns the first (lowest position) indexed value equal to v, or
 * NULL; _add indexes the element at pos after an append (-1: no memory). */
typedef struct s2l_value_index s2l_value_index;
s2l_value_index *s2l_value_index_create(const s2l_attr_def *def, const json_t *arr);
json_t *s2l_value_index_find(const s2l_value_index *ix, const json_t *v);
int s2l_value_index_add(s2l_value_index *ix, size_t pos);
void s2l_value_index_destroy(s2l_value_index *ix);

/* Enforces "at most one primary:true" (RFC 7643 §2.4) in the array of a
 * multi-valued complex attribute: `keep` (an element of arr, or NULL for the
 * first one marked primary) stays primary, every other one is set to false. */
void s2l_res_fix_primary(const s2l_attr_def *def, json_t *arr, const json_t *keep);

/* Required in effect: the schema flag, plus Group.displayName which RFC 7643
 * §4.2 calls REQUIRED although the §8.7.1 schema says "required": false. */
bool s2l_res_required(const s2l_schema *schema, const s2l_attr_def *def);

/* A complex single-valued value that no longer says anything: empty, or a
 * reference whose "value" is "" (Entra clears manager that way). */
bool s2l_res_complex_is_void(const s2l_attr_def *def, const json_t *v);

/* The object holding schema's attributes in a canonical resource: the
 * resource itself for the core schema, else resource[schema->id]; created
 * when `create` is set. NULL when absent (or allocation failed with create). */
json_t *s2l_res_container(json_t *resource, const s2l_resource_type *rt, const s2l_schema *schema,
                          bool create);

/* Removes every member of obj whose key equals key case-insensitively. */
void s2l_res_del_ci(json_t *obj, const char *key);

/* Sets obj[key] (stealing v) after removing case variants of key; -1 on allocation failure. */
int s2l_res_set_ci(json_t *obj, const char *key, json_t *v);

/* Fills *err with 400/scim_type and "<what> '<attribute path>'"-style detail for def. */
void s2l_res_error_attr(s2l_error *err, const char *scim_type, const s2l_attr_def *def, const char *what);

#endif
