/* filter.h — SCIM filters (RFC 7644 §3.4.2.2) and attribute paths (§3.5.2, §3.10).
 *
 * Pure: text in, tree out. The same grammar serves GET ?filter=, PATCH "path"
 * (attrPath / valuePath [subAttr]) and value filters inside brackets.
 * Evaluation against JSON (s2l_filter_match) serves PATCH value paths; the
 * translation to LDAP filters lives in the mapping module (mapping.h), which
 * knows which LDAP attribute holds what.
 *
 * Ownership: s2l_filter_parse / s2l_path_parse return trees owned by the caller,
 * freed with s2l_filter_destroy / s2l_path_destroy. Strings inside are owned by
 * the tree; `value` is a jansson reference owned by the node.
 */
#ifndef S2L_FILTER_H
#define S2L_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "s2l/error.h"
#include "s2l/schema.h"

/* An attribute reference as written: [urn ":"] attr ["." sub]. */
typedef struct s2l_attrpath {
    char *urn;        /* schema URN when the name was qualified, else NULL */
    char *attr;       /* attribute name as written (compare case-insensitively) */
    char *sub;        /* sub-attribute name or NULL */
} s2l_attrpath;

typedef enum {
    S2L_F_AND, S2L_F_OR, S2L_F_NOT,
    S2L_F_CMP,        /* path op value */
    S2L_F_PRESENT,    /* path pr */
    S2L_F_VALUEPATH   /* path[inner]: path.attr is multi-valued/complex, inner applies to each value */
} s2l_filter_kind;

typedef enum { S2L_OP_EQ, S2L_OP_NE, S2L_OP_CO, S2L_OP_SW, S2L_OP_EW,
               S2L_OP_GT, S2L_OP_GE, S2L_OP_LT, S2L_OP_LE } s2l_cmp_op;

typedef struct s2l_filter s2l_filter;
struct s2l_filter {
    s2l_filter_kind kind;
    s2l_filter *left;     /* AND/OR: left operand; NOT: operand; VALUEPATH: inner filter */
    s2l_filter *right;    /* AND/OR: right operand */
    s2l_attrpath path;    /* CMP/PRESENT/VALUEPATH */
    s2l_cmp_op op;        /* CMP */
    json_t *value;        /* CMP: string, integer, real, true, false or null */
};

#define S2L_FILTER_DEFAULT_MAX_LENGTH 4096
#define S2L_FILTER_DEFAULT_MAX_DEPTH   32
#define S2L_FILTER_DEPTH_CAP           256   /* larger max_depth values are clamped: each level
                                                costs the parser up to ~0.5 KiB of stack */

/* Depth guarantee: no root-to-leaf path of a parsed tree crosses more than
 * max_depth and/or/not/valuePath nodes (and/or chains are built balanced, so
 * "a or b or c ..." costs log2(n) levels, not n). Code walking a parsed tree may
 * therefore recurse. Parentheses count against max_depth too. */
typedef struct s2l_filter_limits {
    size_t max_length;    /* bytes of filter text; 0 = default (4096) */
    unsigned max_depth;   /* nesting of and/or/not/()/[]; 0 = default (32) */
} s2l_filter_limits;

/* Parses a filter. NULL + *err (400 invalidFilter) on a syntax error or a limit,
 * with the byte offset in the detail ("unexpected 'x' at offset 12 (expected ...)");
 * 500 on out of memory. text need not be NUL-terminated. */
s2l_filter *s2l_filter_parse(const char *text, size_t len, const s2l_filter_limits *lim, s2l_error *err);
void s2l_filter_destroy(s2l_filter *f);

/* A PATCH path: attrPath, or valuePath with an optional ".sub" after "]". */
typedef struct s2l_path {
    s2l_attrpath attr;    /* attr.sub is set for "name.givenName"; for "emails[...].value", attr.sub is NULL */
    s2l_filter *filter;   /* the bracketed value filter, or NULL */
    char *filter_sub;     /* "value" in emails[type eq "work"].value, else NULL */
} s2l_path;

/* Parses a PATCH path. NULL + *err (400 invalidPath) on a syntax error. */
s2l_path *s2l_path_parse(const char *text, size_t len, s2l_error *err);
void s2l_path_destroy(s2l_path *p);

/* Evaluates filter f against one JSON object `value` (a resource, or one value of a
 * multi-valued complex attribute when `within` is that attribute's definition).
 * Attribute names match case-insensitively; string comparisons honour caseExact
 * from the definitions when known (within / rt may be NULL: then case-insensitive).
 * A multi-valued attribute matches when any value does; a complex value without a
 * sub-attribute stands for its "value"; dateTimes compare chronologically; "ne" is
 * "not eq" (true for an absent attribute); "eq null" is "not pr". A bare value (an
 * element of a simple multi-valued attribute) is addressed as "value".
 * Extension attributes are looked up under their URN key (canonical form). */
bool s2l_filter_match(const s2l_filter *f, const json_t *value, const s2l_resource_type *rt,
                      const s2l_attr_def *within);

/* Text form, for logs and tests (malloc'd, caller frees; NULL on out of memory).
 * Canonical: lower-case keywords, every and/or run parenthesised and flat
 * ("(a pr or b pr or c pr)"), values as JSON. It parses back to an equivalent tree. */
char *s2l_filter_to_string(const s2l_filter *f);

const char *s2l_cmp_op_name(s2l_cmp_op op);

#endif
