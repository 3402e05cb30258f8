/* json_limits.h — what a parsed request body may hold, checked in one walk.
 *
 * Pure. A body is parsed whole by jansson, bounded only by its size
 * (limits.max_body_bytes); every later step (normalisation, PATCH, mapping)
 * copies and compares values, so its memory and CPU follow the number of JSON
 * values, the nesting and the length of each array. This check bounds those
 * before any of that starts, and it rejects what the parser lets through but
 * SCIM forbids: two keys of one object that differ only in case ("userName"
 * and "UserName" — attribute names are case-insensitive, RFC 7643 §2.1;
 * jansson's JSON_REJECT_DUPLICATES only catches exact duplicates).
 *
 * Called at the start of s2l_resource_normalize (POST/PUT bodies) and of
 * s2l_patch_apply (PATCH bodies), with the limits of the resource type view
 * (s2l_resource_type.json_limits, set from the configuration by the mapping).
 */
#ifndef S2L_JSON_LIMITS_H
#define S2L_JSON_LIMITS_H

#include <jansson.h>

#include "s2l/error.h"

/* Defaults (the configuration table in gateway/core/config.c uses these). A
 * 1 MiB body (limits.max_body_bytes) holds about 20,000 group members as
 * {"value":"<uuid>"}: an Okta "replace members" of a group that size passes. */
#define S2L_JSON_MAX_DEPTH_DEFAULT 32
#define S2L_JSON_MAX_NODES_DEFAULT 100000
#define S2L_JSON_MAX_VALUES_DEFAULT 20000

typedef struct s2l_json_limits {
    unsigned max_depth;   /* nesting of objects/arrays; the body object is level 1 (0 = default) */
    unsigned max_nodes;   /* JSON values of any kind, containers included (0 = default) */
    unsigned max_values;  /* elements of any one array: values of one multi-valued attribute,
                             PATCH operations (0 = default) */
} s2l_json_limits;

/* 0 when body is within lim (NULL = the defaults) and no object has two keys
 * equal ignoring ASCII case; else -1 and *err:
 *   400 invalidSyntax  case-variant keys, naming both spellings and where
 *                      ("name.givenName", "Operations[0].value.userName");
 *   400 invalidSyntax  nesting deeper than max_depth;
 *   413                more than max_nodes values, or an array with more than
 *                      max_values elements (naming the attribute);
 *   500                allocation failure.
 * The walk stops at the first problem, so its cost is bounded by the limits. */
int s2l_json_check(const json_t *body, const s2l_json_limits *lim, s2l_error *err);

#endif
