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
#include "s2l/password.h"
#include "s2l/resource.h"
#include "s2l/schema.h"
#include "ldap_syntax.h"
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
    char *also;                 /* a second LDAP attribute written when the value fits its syntax
                                   ("country": ["co", "c"]: c only for ISO codes); read when ldap is empty */
    s2l_ldap_caps caps;
    s2l_ldap_caps also_caps;    /* of also, when set */
} s2l_me_sub;

/* A derived value's rule (mapping_transform.c), e.g. sAMAccountName from
 * userName: cut at '@', replace characters AD refuses, at most 20 characters. */
typedef struct s2l_transform {
    bool on;
    char *cut_at;               /* keep what precedes its first occurrence (NULL: all) */
    char *invalid_chars;        /* each of these characters (ASCII) becomes `replacement` */
    char *replacement;          /* "" drops them */
    size_t max_length;          /* in characters (code points); 0 = no limit */
    bool lower_case;            /* ASCII letters in lower case */
} s2l_transform;

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
    bool catch_all;             /* "type": "*": every value no other entry stores, each kept as JSON text */
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
    /* directories (mapping_ids.c, mapping_deprovision.c, mapping_transform.c) */
    bool by_policy;             /* `active` carried out by the type's deprovision policy (no ldap) */
    bool is_password;           /* the SCIM password: written per pw_scheme */
    s2l_pw_scheme pw_scheme;
    char *write_key;            /* key the written value goes under: ldap, or "<ldap>;base64" when binary */
    s2l_transform transform;    /* DERIVED: applied to the template's value */
    bool create_only;           /* DERIVED: written on create, never changed by an update */
} s2l_mentry;

/* How the SCIM id is kept (ldap.id_syntax). */
typedef enum {
    S2L_IDSYN_ANY,              /* any text, compared as is */
    S2L_IDSYN_UUID,             /* 8-4-4-4-12 hex (entryUUID) */
    S2L_IDSYN_GUID,             /* 16 binary bytes shown in AD's mixed-endian GUID form (objectGUID) */
    S2L_IDSYN_NSUNIQUEID,       /* 389-DS: 8-8-8-8 hex (nsUniqueId) */
} s2l_id_syntax;

/* One attribute a "set" deprovisioning policy changes (mapping_deprovision.c). */
typedef struct s2l_dp_set {
    char *ldap;
    bool is_flag;               /* integer bit flags (userAccountControl) */
    unsigned long long flag;    /* is_flag: bits set while inactive, cleared while active */
    bool has_initial;
    unsigned long long initial; /* is_flag: value written on create, before the flag (512) */
    char *value;                /* !is_flag: the value meaning inactive ("TRUE") */
    char *active_value;         /* !is_flag: written when active; NULL = attribute removed */
} s2l_dp_set;

/* What `active: false` (or DELETE) does to an entry; components combine. */
typedef struct s2l_dp_policy {
    bool configured;
    bool hard_delete;           /* DELETE: delete the entry (the default) */
    bool lock;                  /* ppolicy: pwdAccountLockedTime 000001010000Z */
    s2l_dp_set *set;
    size_t n_set;
    char *move_to;              /* container the entry is moved to, or NULL */
} s2l_dp_policy;

struct s2l_rmap {
    s2l_rmap_info info;         /* strings point into the owned copies below */
    char *name, *endpoint, *description, *base_dn, *object_filter, *id_attr, *rdn_attr;
    char *created_attr, *modified_attr, *version_attr, *sort_attr, *unique_attr;
    char **ordering_rules;      /* ldap.ordering_rules: attr, rule, attr, rule, ..., NULL (or NULL) */
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
    struct s2l_put_attr *put_attrs; /* what a PUT without the entry does with each written attribute
                                   (s2l_map_put_attrs_build, at load), n_put_attrs of them */
    size_t n_put_attrs;
    size_t ***render_entries;   /* [view][attr]: indexes of the entries rendering that attribute of the
                                   view (0: core, 1 + i: extension i), SIZE_MAX-terminated; at load
                                   (s2l_map_render_index); NULL: rendering scans every entry */
    s2l_rmap_groups groups;
    s2l_deprovision deprovision;
    /* directories */
    s2l_id_syntax id_syntax;
    s2l_dp_policy dp_inactive;  /* deprovision.active_false */
    s2l_dp_policy dp_delete;    /* deprovision.delete */
    char *protected_filter;     /* provisioning.protected, or NULL */
    char **default_groups;      /* provisioning.default_groups (DNs) */
    size_t n_default_groups;
    char *boundary;             /* provisioning.boundary; defaults to base_dn */
    unsigned range_size;        /* ldap.range_retrieval: delta attributes read as "member;range=0-<n-1>" (0: whole) */
    char *keep_attr;            /* ldap.keep_attribute: where content kept by policy lives (JSON values) */
    s2l_policies policies;      /* the mapping's policies with this type's full schemas */
    s2l_resource_type full_rt;  /* the type with its complete schemas (policies.full) */
    s2l_attr_policy unknown_manager; /* single-valued references that do not resolve: KEEP or REJECT */
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
    char **secret_attrs;        /* NULL-terminated: write-only LDAP attributes + "secret_attributes" */
    /* policies (mappings/README.md "Policies") */
    s2l_attr_policy unknown_attrs, unmapped_attrs, unknown_schemas;
    int unknown_manager;        /* -1: default (KEEP where a type has keep_attribute, else REJECT) */
    bool skip_unknown_members;  /* "unknown_members": "skip" (default) */
    json_t *warnings;           /* array of strings: what the loader found risky (narrow syntaxes) */
    s2l_mapping_limits limits;  /* s2l_mapping_set_limits; defaults at load */
    s2l_subschema *ldap_overrides; /* "ldap_attribute_types", or NULL */
};

/* ---- directory features: loading (each fills *e on failure) ---- */

/* Where and what went wrong, for the loader's message "<file>: <where>: <msg>". */
typedef struct s2l_load_err {
    char where[256];
    char msg[512];
} s2l_load_err;
void s2l_load_err_set(s2l_load_err *e, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "deprovision" of a resource type (after its entries are parsed). */
/* The full schema (core or an extension) behind one of rm's schema views, or NULL. */
const s2l_schema *s2l_rmap_full_schema(const s2l_rmap *rm, const s2l_schema *view);
/* Whether mapping entry me stores SCIM attribute top of schema full (derived
 * and constant entries store nothing; common attributes match by definition). */
bool s2l_mentry_stores(const s2l_mentry *me, const s2l_schema *full, const s2l_attr_def *top);

bool s2l_dp_parse(s2l_rmap *rm, const json_t *j, const char *where, s2l_load_err *e);
/* Cross-checks once every resource type is loaded (active mapping, move targets). */
bool s2l_dp_finish(s2l_rmap *rm, const char *where, s2l_load_err *e);
void s2l_dp_fini(s2l_dp_policy *p);
/* "provisioning" of a resource type, and its checks against the other types. */
bool s2l_scope_parse(s2l_rmap *rm, const json_t *j, const char *where, s2l_load_err *e);
bool s2l_scope_finish(s2l_rmap *rm, const char *where, s2l_load_err *e);
/* "transform" of a derived entry. */
bool s2l_transform_parse(s2l_transform *t, const json_t *j, const char *where, s2l_load_err *e);
void s2l_transform_fini(s2l_transform *t);
/* The transformed value (malloc'd; NULL on allocation failure). */
char *s2l_transform_apply(const s2l_transform *t, const char *v);

/* ---- directory features: run time ---- */

/* `active` of an entry under rm's active_false policy. */
bool s2l_dp_entry_active(const s2l_rmap *rm, const json_t *entry);
/* LDAP attributes the policy reads (appended to a NULL-terminated vector). */
int s2l_dp_read_attrs(const s2l_rmap *rm, int (*add)(void *ctx, const char *attr), void *ctx);
/* On create: the policy's attributes for resource (active true/false/absent)
 * are added to attrs; *container is the parent to create the entry under
 * (base_dn, or the move target of an inactive user; borrowed). */
int s2l_dp_create_attrs(const s2l_rmap *rm, const json_t *resource, json_t *attrs, const char **container,
                        s2l_error *err);
/* Appends the mods (and sets *newsuperior, borrowed) that bring entry to
 * state `active` under policy p. */
int s2l_dp_plan(const s2l_rmap *rm, const s2l_dp_policy *p, const json_t *entry, bool active, json_t *mods,
                const char **newsuperior, s2l_error *err);
/* The active_false mods for new_resource's explicit `active` (none when it
 * says nothing), for s2l_rmap_plan_update_entry. */
int s2l_dp_plan_active(const s2l_rmap *rm, const json_t *entry, const json_t *new_resource, json_t *mods,
                       const char **newsuperior, s2l_error *err);
/* new_resource's explicit `active` planned without the entry, for writes
 * sent without reading it first (patch_direct.c, put_direct.c): mods get
 * what the reading path would write whatever the entry's state — inactive:
 * the lock value, each plain item's value (replace) — and requires (filter
 * terms, one after the other) what the entry must hold for "nothing to do"
 * to be right — active: not locked with the gateway's value, no plain item
 * at its inactive value; an entry that is fails the assertion and takes the
 * reading path, which changes it. requires NULL: active is written as the
 * deletes of exactly those values instead (and the add of a plain item's
 * active value), which LDAP refuses (16) when they are not there — the PATCH
 * choice, where `active: true` mostly reactivates an account. 1 planned
 * (nothing when the resource says nothing of active), 0 the policy needs
 * the entry (flag items, a move), -1 out of memory. */
int s2l_dp_plan_active_blind(const s2l_rmap *rm, const json_t *new_resource, json_t *mods, s2l_buf *requires);
/* The LDAP filter text under which an entry reads as inactive (malloc'd);
 * NULL + *err (400 invalidFilter) when the policy cannot be expressed as a
 * filter (move only). */
char *s2l_dp_inactive_filter(const s2l_rmap *rm, s2l_error *err);

/* DNs compared the way the gateway can: case-insensitively, with spaces after
 * separators ignored. True when dn equals base (or_equal) or lies below it. */
bool s2l_dn_under(const char *dn, const char *base, bool or_equal);
/* Whether text is a DN the loader accepts: attr=value RDNs separated by ','. */
bool s2l_dn_syntax_ok(const char *dn);
/* RFC 4515 syntax check of an LDAP filter; *why says what is wrong. */
bool s2l_ldap_filter_syntax_ok(const char *f, const char **why);

/* The SCIM id value held by attribute id_attr of entry, binary-aware: the raw
 * bytes (text or "<attr>;base64"), malloc'd with *len; NULL when absent. */
unsigned char *s2l_map_entry_bytes(const json_t *entry, const char *attr, size_t *len);

/* ---- LDAP capabilities (mapping_caps.c) ---- */

/* Parses "ldap_attribute_types" (an array of RFC 4512 attribute type
 * descriptions) into m->ldap_overrides; false + a message naming the entry. */
bool s2l_map_load_overrides(s2l_mapping *m, const json_t *list, char *msg, size_t msglen);

/* Appends every LDAP attribute rm writes, each once (mapping_write.c). */
int s2l_map_written_attrs(const s2l_rmap *rm, json_t *names);

/* ---- helpers (mapping_util.c) ---- */

/* Case-insensitive member lookup in a JSON object. */
json_t *s2l_map_get_ci(const json_t *obj, const char *key);

/* Removes every member of obj whose key equals key case-insensitively. */
void s2l_map_del_ci(json_t *obj, const char *key);

/* Values of LDAP attribute `name` in entry (an array of strings; a single string
 * is accepted as one value), or NULL when absent. */
const json_t *s2l_map_entry_values(const json_t *entry, const char *name);
/* While a fold index is active for an entry's attrs object (one per thread,
 * nested uses save the previous one), s2l_map_entry_values finds names of
 * any case in it by one hash look-up. begin: false (nothing to end) when
 * attrs is not an object or out of memory. */
typedef struct s2l_map_fold_index {
    const json_t *attrs;
    json_t *folded;                /* lower-case name -> values (borrowed) */
    bool complete;                 /* every name is in folded (none too long) */
    struct s2l_map_fold_index *prev;
} s2l_map_fold_index;
bool s2l_map_fold_index_begin(s2l_map_fold_index *idx, const json_t *attrs);
/* rm->render_entries from its views and entries (mapping_read.c); -1 on OOM. */
int s2l_map_render_index(s2l_rmap *rm);
void s2l_map_render_index_free(s2l_rmap *rm);
void s2l_map_fold_index_end(s2l_map_fold_index *idx);
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
/* 0 when an RDN from s2l_map_rdn is within the mapping's max_rdn_bytes (as the
 * directory stores it); else -1 and *err (400 invalidValue naming the SCIM
 * attribute). For RDNs about to be written (add, rename). */
int s2l_map_check_rdn(const s2l_rmap *rm, const char *rdn, s2l_error *err);

/* Long value lists in linear time (mapping_util.c). s2l_map_dedupe_strings
 * removes repeated strings from arr in place, keeping first occurrences in
 * order (arrays holding anything but strings are left alone); 0, or -1 on
 * allocation failure. s2l_map_strings_within: 1 when every string of a is
 * in b, 0 when one is not, -1 when either holds a non-string or on
 * allocation failure (the caller compares another way). */
int s2l_map_dedupe_strings(json_t *arr);
int s2l_map_strings_within(const json_t *a, const json_t *b);

/* LDAP attribute set of a resource (mapping_write.c): {"attr": ["v", ...]} with
 * every written attribute, without objectClass. lenient: references whose id is
 * missing from ids become an opaque marker instead of an error (old side of a plan). */
json_t *s2l_map_ldap_attrs(const s2l_rmap *rm, const json_t *resource, const json_t *ids, bool lenient,
                           s2l_error *err);
/* The same, recording in notes (may be NULL) what the policies did: values no
 * entry stores ("ignored"), ids that do not resolve ("skipped_members",
 * "kept_references"). */
json_t *s2l_map_ldap_attrs_noted(const s2l_rmap *rm, const json_t *resource, const json_t *ids, bool lenient,
                                 json_t *notes, s2l_error *err);

/* A boolean stored as absence for one value (ppolicy's lock: no
 * pwdAccountLockedTime = active) whose other LDAP values read as that value
 * too (a failed-bind lockout time reads as active): writing the value
 * without the entry must not replace the attribute with nothing, which
 * would delete those; only the one LDAP value meaning the opposite may go.
 * That value, or NULL when "replace with nothing" is exact. */
const char *s2l_map_bool_opposite(const s2l_mentry *me);

/* One LDAP attribute the mapping writes, as updates treat it
 * (s2l_rmap_plan_update, s2l_map_replace_all_mods): looked up once at load
 * instead of per request and attribute. */
typedef struct s2l_put_attr {
    const char *attr;           /* borrowed from written_names */
    const s2l_mentry **cond;    /* left alone when the resource has no value for one of these (write-only,
                                   lock booleans); malloc'd, n_cond of them */
    size_t n_cond;
    const char *opposite;       /* s2l_map_bool_opposite of the attribute's boolean entry, or NULL */
    json_t *clear;              /* {"op":"replace","attr":attr,"values":[]}, made once: most attributes
                                   of a PUT are absent, and their mods are shared (never changed) */
} s2l_put_attr;
/* Builds rm->put_attrs from rm->written_names (the attributes an update
 * may rewrite: not server ones, the RDN's, delta or create-only ones, nor
 * the keep attribute, which changes item by item). 0, or -1 on allocation failure. s2l_map_put_attrs_free
 * releases them. */
int s2l_map_put_attrs_build(s2l_rmap *rm);
void s2l_map_put_attrs_free(s2l_rmap *rm);

/* Appends to mods a "replace" of every LDAP attribute the mapping writes
 * with its values in a_new (s2l_map_ldap_attrs of new_resource; none: delete
 * if present), leaving out what s2l_rmap_plan_update never touches (server
 * attributes, the RDN attribute, delta attributes, omitted write-only and
 * lock booleans) and the keep attribute; a boolean stored as absence with
 * s2l_map_bool_opposite gets a "delete" of that one value instead. The
 * mods of attributes without values are shared with rm (and the values of
 * the others with a_new): callers must not change them. 0, or -1 on
 * allocation failure. */
int s2l_map_replace_all_mods(const s2l_rmap *rm, const json_t *a_new, const json_t *new_resource, json_t *mods);

/* ---- the keep attribute (mapping_keep.c) ---- */

/* Serialised kept items of a residual (what no entry stores): one JSON text
 * per top-level key, one per value for delta attributes. Appends to vals. */
int s2l_keep_serialize(const s2l_rmap *rm, const json_t *residual, json_t *vals);
/* Merges the kept items of entry into a rendered resource. */
int s2l_keep_merge(const s2l_rmap *rm, const json_t *entry, json_t *resource);
/* Whether a kept JSON text belongs to a delta attribute (managed by
 * s2l_rmap_delta_kept_mods, never by plans). When item_out is not NULL it
 * receives the parsed value (new reference) and attr_out the attribute. */
bool s2l_keep_item_is_delta(const s2l_rmap *rm, const char *text, const char **attr_out, json_t **item_out);

/* Canonical JSON text of one value kept by a catch-all entry: "value" first,
 * then the other keys sorted (so "value eq" is a prefix match). malloc'd. */
char *s2l_map_json_value_text(const json_t *value);

/* A growable string with a hard cap: the one of ldap_text.h (s2l_buf) under
 * the names the mapping code uses. */
typedef s2l_buf s2l_strbuf;
#define s2l_sb_add s2l_buf_add
#define s2l_sb_adds s2l_buf_adds
/* Takes the string (NULL if failed) and resets b. */
#define s2l_sb_take s2l_buf_take

#endif
