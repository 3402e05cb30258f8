/* mapping_internal.h — the loaded mapping as the mapping_*.c files share it.
 *
 * Not part of the public contract (include/s2l/mapping.h); only the mapping
 * translation units and ldap_escape.c include this file.
 *
 * Ownership: everything hangs off the s2l_mapping and is freed by
 * s2l_mapping_destroy. `const` pointers to schemas and definitions borrow from
 * the full schemas the mapping loaded (not from the views).
 */
#ifndef S2L_MAPPING_INTERNAL_H
#define S2L_MAPPING_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "s2l/error.h"
#include "s2l/mapping.h"
#include "s2l/schema.h"
#include "s2l/subschema.h"

/* What the directory can decide about one LDAP attribute: its matching rules
 * and syntax, from the directory's subschema or the built-in standard schema,
 * with the mapping's "ldap_attribute_types" on top (mapping_caps.c). Read by
 * the filter translator (mapping_filter*.c); computed once, never per request. */
typedef struct s2l_ldap_caps {
    bool known;                 /* the schema describes the attribute */
    bool single_value;          /* SINGLE-VALUE: the first value is every value */
    s2l_mr_kind eq, ord, sub;   /* equality, ordering and substrings rules (NONE when absent) */
    s2l_syntax_kind syntax;     /* what stored values may contain */
} s2l_ldap_caps;

/* One "{...}" or literal piece of a template. */
typedef struct s2l_tpart {
    char *literal;              /* literal text, or NULL for a placeholder */
    const s2l_schema *schema;   /* placeholder: schema of attr (core or an extension) */
    bool in_ext;                /* placeholder: attr lives under the extension's URN key */
    char *attr;                 /* placeholder: top-level SCIM attribute (schema spelling) */
    char *sub;                  /* placeholder: sub-attribute of a single-valued complex, or NULL */
} s2l_tpart;

typedef struct s2l_template {
    char *text;                 /* as written, for messages */
    s2l_tpart *parts;
    size_t n_parts;
} s2l_template;

typedef enum {
    S2L_ME_SIMPLE,      /* a single-valued SCIM attribute (or sub-attribute) <-> one LDAP attribute */
    S2L_ME_MULTI,       /* the values (optionally of one "type") of a multi-valued SCIM attribute */
    S2L_ME_REFERENCE,   /* SCIM ids (value sub-attribute) <-> DNs or RDN values */
    S2L_ME_DERIVED,     /* an LDAP attribute computed from templates only (never read) */
    S2L_ME_CONSTANT,    /* an LDAP attribute with fixed values (never read) */
} s2l_me_kind;

/* An LDAP attribute holding one sub-attribute of a typed complex value (addresses). */
typedef struct s2l_me_sub {
    char *scim;                 /* "streetAddress" */
    char *ldap;                 /* "street" */
    s2l_ldap_caps caps;
} s2l_me_sub;

/* How a SCIM boolean is written to and read from LDAP. */
typedef struct s2l_me_bool {
    char *when_true;            /* LDAP value meaning true, or NULL: true is "attribute absent" */
    char *when_false;           /* LDAP value meaning false, or NULL: false is "attribute absent" */
    int absent;                 /* reading of an absent attribute: 1 true, 0 false, -1 SCIM attribute absent */
    int other;                  /* reading of any other value: 1, 0, or -1 (ignored) */
} s2l_me_bool;

typedef struct s2l_mentry {
    s2l_me_kind kind;
    char *where;                /* "$.resource_types[0].attributes[3]", for run-time messages */
    /* SCIM side (NULL attr for DERIVED/CONSTANT) */
    const s2l_schema *schema;   /* full schema of attr */
    bool in_ext;                /* attr lives under the extension URN key */
    char *attr;                 /* top-level attribute, schema spelling */
    char *sub;                  /* SIMPLE: sub-attribute of a single-valued complex attribute */
    const s2l_attr_def *top;    /* definition of attr in the full schema */
    const s2l_attr_def *leaf;   /* SIMPLE: the definition holding the value (top or its sub) */
    /* LDAP side */
    char *ldap;                 /* the LDAP attribute (NULL for MULTI with subs) */
    s2l_ldap_caps caps;         /* of ldap */
    s2l_me_sub *subs;           /* MULTI of a complex type without "value": per sub-attribute */
    size_t n_subs;
    /* MULTI */
    char *type;                 /* the "type" these values carry, or NULL (untyped) */
    bool primary;               /* render primary:true on the first value; also takes untyped values */
    /* SIMPLE fallbacks / DERIVED templates */
    s2l_template *templates;
    size_t n_templates;
    /* CONSTANT */
    char **constants;
    size_t n_constants;
    /* booleans */
    bool is_bool;
    s2l_me_bool boolean;
    /* REFERENCE */
    char **ref_types;           /* resource type names the ids may belong to ("User", "Group") */
    size_t n_ref_types;
    bool ref_rdn;               /* LDAP holds the referenced entry's RDN value, not its DN */
    bool has_placeholder;
    char *placeholder;          /* written when the value set would be empty, never shown */
    bool delta;                 /* value-level PATCH changes (never read to be modified) */
    bool virtual_attr;          /* filled by the caller (groups found by a search), not requested */
    /* access */
    bool read_only;             /* read from LDAP, never written */
    bool write_only;            /* written, never requested or returned */
} s2l_mentry;

struct s2l_rmap {
    s2l_rmap_info info;         /* strings point into the owned copies below */
    char *name, *endpoint, *description, *base_dn, *object_filter, *id_attr, *rdn_attr;
    char *created_attr, *modified_attr, *version_attr, *sort_attr, *unique_attr;
    char **object_classes;
    size_t n_object_classes;
    s2l_template *rdn;          /* RDN value templates (fallbacks in order) */
    size_t n_rdn;
    s2l_mentry *entries;
    size_t n_entries;
    char **delta_attrs;         /* NULL-terminated top-level SCIM names */
    char **default_read_attrs;  /* s2l_rmap_read_attrs(rm, NULL), computed at load */
    char **update_read_attrs;   /* the same minus delta attributes, computed at load */
    json_t *written_names;      /* LDAP attributes the mapping writes (s2l_map_written_attrs), at load */
    s2l_rmap_groups groups;
    s2l_deprovision deprovision;
    s2l_ldap_caps id_caps, created_caps, modified_caps;
    /* the resource type and its views */
    s2l_resource_type rt;
    const s2l_schema *core;     /* full schemas */
    const s2l_schema **ext;
    s2l_schema *core_view;
    s2l_schema **ext_views;
    const s2l_schema **ext_views_const;
    bool *ext_required;
    size_t n_ext;
    const s2l_mapping *mapping;
};

struct s2l_mapping {
    char *path;
    s2l_schema **schemas;       /* every schema file of schema_dir */
    size_t n_schemas;
    s2l_rmap *rmaps;
    size_t n_rmaps;
    bool ignore_unknown;
    bool refint_by_gateway;     /* "referential_integrity": "gateway" */
    s2l_subschema *ldap_overrides; /* "ldap_attribute_types", or NULL */
};

/* ---- LDAP capabilities (mapping_caps.c) ---- */

/* Parses "ldap_attribute_types" (an array of RFC 4512 attribute type
 * descriptions) into m->ldap_overrides; false + a message naming the entry. */
bool s2l_map_load_overrides(s2l_mapping *m, const json_t *list, char *msg, size_t msglen);

/* Appends every LDAP attribute rm writes, each once (mapping_write.c). */
int s2l_map_written_attrs(const s2l_rmap *rm, json_t *names);

/* ---- helpers (mapping_util.c) ---- */

/* Case-insensitive member lookup in a JSON object. */
json_t *s2l_map_get_ci(const json_t *obj, const char *key);

/* Values of LDAP attribute `name` in entry (an array of strings; a single string
 * is accepted as one value), or NULL when absent. */
const json_t *s2l_map_entry_values(const json_t *entry, const char *name);
/* The first value, or NULL. */
const char *s2l_map_entry_first(const json_t *entry, const char *name);

/* Where a SCIM attribute of a canonical resource lives: the resource itself for
 * core attributes, the extension object for extension ones (NULL if absent). */
const json_t *s2l_map_container(const json_t *resource, const s2l_schema *schema, bool in_ext);

/* Evaluates a template against a canonical resource: malloc'd string, or NULL
 * when a placeholder is missing/empty (*oom set on allocation failure). */
char *s2l_template_eval(const s2l_template *t, const json_t *resource, bool *oom);
void s2l_template_fini(s2l_template *t);

/* The text of a scalar JSON value as LDAP stores it (strings, integers, reals);
 * malloc'd; NULL for other types or on allocation failure. */
char *s2l_map_scalar_text(const json_t *v, size_t *len);

/* GeneralizedTime "20261123201200Z" <-> RFC 3339 "2026-11-23T20:12:00Z". NULL when malformed. */
char *s2l_gtime_to_rfc3339(const char *gt);
char *s2l_rfc3339_to_gtime(const char *ts);
/* Whether two GeneralizedTimes name the same instant ("000001010000Z" and
 * "00000101000000Z"), as generalizedTimeMatch says. */
bool s2l_gtime_same_instant(const char *a, const char *b);

/* 8-4-4-4-12 hex digits. */
bool s2l_is_uuid(const char *s);

/* The resource type a reference of type `type_name` points to, or NULL. */
const s2l_rmap *s2l_map_ref_target(const s2l_rmap *rm, const char *type_name);

/* For an RDN-valued reference: the DN of the referenced entry holding RDN value
 * `value` (malloc'd), built from the target type's RDN attribute and base DN. */
char *s2l_map_rdn_to_dn(const s2l_mentry *me, const s2l_rmap *rm, const char *value);

/* The first RDN of dn split into attribute and unescaped value (both malloc'd). */
int s2l_dn_first_rdn(const char *dn, char **attr_out, char **value_out, size_t *value_len);

/* "<rdn_attr>=<escaped value>" from the RDN templates; NULL + *err when no
 * template applies. *raw_out (when not NULL) receives the unescaped value. */
char *s2l_map_rdn(const s2l_rmap *rm, const json_t *resource, char **raw_out, s2l_error *err);

/* LDAP attribute set of a resource (mapping_write.c): {"attr": ["v", ...]} with
 * every written attribute, without objectClass. lenient: references whose id is
 * missing from ids become an opaque marker instead of an error (old side of a plan). */
json_t *s2l_map_ldap_attrs(const s2l_rmap *rm, const json_t *resource, const json_t *ids, bool lenient,
                           s2l_error *err);

/* A growable string with a hard cap (S2L_MAP_STR_MAX). */
#define S2L_MAP_STR_MAX (1u << 20)
typedef struct s2l_strbuf {
    char *s;
    size_t len, cap;
    bool failed;                /* out of memory or past the cap; the content is then unusable */
} s2l_strbuf;
void s2l_sb_add(s2l_strbuf *b, const char *s, size_t n);
void s2l_sb_adds(s2l_strbuf *b, const char *s);
/* Takes the string (NULL if failed) and resets b. */
char *s2l_sb_take(s2l_strbuf *b);

#endif
