/* resource.h — SCIM resources as JSON: request normalisation, projection, PATCH.
 *
 * Pure. All functions work on jansson values against a resource type view
 * (schema.h), i.e. only mapped attributes exist; anything else is "unknown".
 *
 * Canonical form (what normalise produces and what mapping.h consumes):
 *  - attribute names in their schema spelling ("userName", "name.givenName");
 *  - core attributes at top level, extension attributes nested under the URN key;
 *  - booleans as JSON booleans (IdPs send "True"/"False"), integers as integers;
 *  - multi-valued attributes always arrays (OneLogin may send one object);
 *  - readOnly attributes dropped (RFC 7643 §2.2: ignored on input); "schemas"
 *    kept as given; "id"/"meta" dropped.
 *
 * Ownership: functions returning json_t* return a new reference owned by the
 * caller; inputs are borrowed and never modified unless stated.
 */
#ifndef S2L_RESOURCE_H
#define S2L_RESOURCE_H

#include <stdbool.h>
#include <jansson.h>

#include "s2l/error.h"
#include "s2l/schema.h"

typedef enum {
    S2L_NORM_CREATE,   /* POST: required attributes must be present */
    S2L_NORM_REPLACE,  /* PUT: required attributes must be present; immutable checked by caller */
} s2l_norm_mode;

/* What happens to request content the mapping does not store
 * (mappings/README.md, "Policies"). */
typedef enum {
    S2L_POLICY_REJECT = 0,  /* 400 invalidSyntax naming the SCIM path */
    S2L_POLICY_IGNORE,      /* accepted and dropped (the caller logs the note and counts it) */
    S2L_POLICY_KEEP,        /* accepted and kept as sent: the canonical resource holds it raw */
} s2l_attr_policy;

typedef struct s2l_policies {
    s2l_attr_policy unknown;       /* attributes and sub-attributes in no schema of the type */
    s2l_attr_policy unmapped;      /* attributes of the type's schemas that the mapping does not map */
    s2l_attr_policy schemas;       /* schema URNs (in "schemas", or as keys) that are not the type's */
    const s2l_resource_type *full; /* the type with its complete schemas (tells unmapped from unknown);
                                      NULL: everything outside the view is unknown */
} s2l_policies;

/* Notes: what the policies did to a request, for the caller's log line and
 * counters. A JSON object of arrays of SCIM paths (each listed once):
 *   "ignored", "kept", "rejected"                  attributes (unknown or unmapped)
 *   "ignored_schemas", "kept_schemas", "rejected_schemas"   schema URNs
 *   "skipped_members", "kept_references"           (mapping.h: ids that did not resolve)
 * Appends text under key (creating the array); duplicates are not added.
 * NULL notes is a no-op. */
void s2l_notes_add(json_t *notes, const char *key, const char *text);

typedef struct s2l_norm_opts {
    bool ignore_unknown;   /* without policies: true = drop attributes not in the view; false = 400 naming
                              it; schema URNs are accepted either way */
    const s2l_policies *policies; /* when set, replaces ignore_unknown (s2l_rmap_policies) */
    json_t *notes;         /* optional object receiving the notes (see s2l_notes_add) */
} s2l_norm_opts;

/* Validates and canonicalises a request body for POST/PUT. NULL + *err
 * (400 invalidValue / invalidSyntax) on wrong types, missing required attributes,
 * unknown attributes (unless ignored), bad canonical values.
 * Decisions: names match case-insensitively; extension attributes may come
 * nested under the URN key or URN-qualified; null, [] and {} mean absent;
 * strings are kept as given; canonicalValues (e.g. emails.type) are not
 * enforced; of several primary:true values the first keeps it, the others
 * become false; a manager given as a bare id or one-element array becomes
 * {"value": id} and "" means absent; Group.displayName is required (RFC 7643
 * §4.2) although the schema says otherwise; the RFC 7643 §2.4 sub-attributes
 * (type, primary, display, value, $ref) of a multi-valued attribute are
 * dropped, not rejected, when the view lacks them. Anything else outside the
 * view follows the policies: null, [] and {} are "unassigned" and never
 * noted; KEEP puts the value as sent into the canonical resource (top level,
 * under its extension URN, or inside its complex value); unknown URNs in
 * "schemas" are kept (KEEP) or removed (IGNORE). A required extension
 * (ext_required) must be present. */
json_t *s2l_resource_normalize(const s2l_resource_type *rt, const json_t *body, s2l_norm_mode mode,
                               const s2l_norm_opts *opts, s2l_error *err);

/* attributes / excludedAttributes (RFC 7644 §3.9): a parsed list of attribute paths. */
typedef struct s2l_projection s2l_projection;

/* Parses the comma-separated query values (either may be NULL). NULL + *err
 * (400 invalidValue) when a name is not an attribute of rt. Names may be
 * "attr", "attr.sub", URN-qualified, or a bare extension URN (all of it).
 * When both are given, excluded trims the attributes list. */
s2l_projection *s2l_projection_parse(const s2l_resource_type *rt, const char *attributes,
                                     const char *excluded, s2l_error *err);
void s2l_projection_destroy(s2l_projection *p);

/* True when the top-level attribute `name` (schema-qualified by `schema`, or a
 * core/common attribute when schema is NULL or the core schema) would appear in
 * output under projection p (p may be NULL = defaults). Honours returned=always/
 * never/request. Used to decide which LDAP attributes to fetch. */
bool s2l_projection_wants(const s2l_projection *p, const s2l_resource_type *rt,
                          const s2l_schema *schema, const char *name);

/* Applies p to a full canonical resource in place: removes what is not wanted
 * (sub-attribute granularity), keeps returned=always (id, schemas), drops
 * returned=never. */
void s2l_projection_apply(const s2l_projection *p, const s2l_resource_type *rt, json_t *resource);

/* Attributes whose PATCH operations are not applied to the JSON resource but
 * reported as value-level deltas (group members: never read to be changed).
 * Operations combine in order: replace (or remove without value) sets
 * replace_all and discards earlier deltas; the last add/remove of an id wins.
 * Only `value eq "<id>"` filters (or-joined) can select values (else 400
 * invalidFilter); values keep only "value" and "type"; ids compare per the
 * caseExact of the attribute's "value" sub-attribute. */
typedef struct s2l_patch_delta {
    const char *attr;      /* top-level attribute name, e.g. "members" */
    json_t *add;           /* array of values (objects) to add */
    json_t *remove;        /* array of values (objects with "value") to remove */
    bool replace_all;      /* true: the attribute was replaced by `add` (or cleared when add is empty) */
} s2l_patch_delta;

typedef struct s2l_patch_opts {
    const char *const *delta_attrs;  /* NULL-terminated list of top-level attribute names, or NULL */
    unsigned max_operations;         /* 0 = default (1000) */
    bool ignore_unknown;             /* true: operations on attributes not in the view are skipped
                                        (as s2l_norm_opts); false: 400 invalidPath / invalidValue */
    const s2l_policies *policies;    /* when set, replaces ignore_unknown: KEEP applies add/replace/remove
                                        of a whole unknown attribute (or "attr.sub") to the raw resource */
    json_t *notes;                   /* optional notes object (s2l_notes_add) */
} s2l_patch_opts;

/* Applies a PatchOp request (RFC 7644 §3.5.2) to `resource` (a canonical
 * resource, modified in place) with every IdP form in shared/docs/IDP-QUIRKS.md:
 * op names case-insensitive; "True"/"False"; add on single-valued = replace;
 * no-path values with dotted and URN keys; value filters; manager as object/
 * array/string/"" ; etc. All or nothing: on error *err is set (400 with
 * invalidSyntax/invalidPath/noTarget/invalidValue/mutability/invalidFilter)
 * and resource is left in an unspecified state (callers patch a copy).
 * Decisions: a filtered add/replace that matches nothing creates the value when
 * the filter is only eq comparisons joined by "and", else 400 noTarget; replace
 * of matched complex values merges sub-attributes; a remove that selects
 * nothing succeeds; a required attribute becoming unassigned (remove, null) is
 * 400 mutability (RFC 7644 §3.5.2.2); readOnly keys in a path-less value are
 * ignored, an explicit path to one is 400 mutability; more than max_operations
 * is 400 invalidValue; re-adding an equal value (same value [+type]) updates
 * it instead of duplicating it.
 * deltas: on success, when opts->delta_attrs is set, *deltas receives a JSON
 * array of {"attr":..., "add":[...], "remove":[...], "replace_all":bool} (new
 * reference) for the delta attributes touched; NULL when none. */
int s2l_patch_apply(const s2l_resource_type *rt, json_t *resource, const json_t *patch_request,
                    const s2l_patch_opts *opts, json_t **deltas, s2l_error *err);

/* Case-insensitive lookup of an object member (SCIM names are case-insensitive). */
json_t *s2l_json_get_ci(const json_t *obj, const char *key);

#endif
