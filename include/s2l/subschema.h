/* subschema.h — the directory's LDAP schema as it publishes it (RFC 4512 §4.1).
 *
 * Pure: description strings in, a lookup structure out. The values of the
 * subschema subentry's attributeTypes, objectClasses and matchingRules are
 * parsed one by one (or all at once from an LDIF dump of the subentry), then
 * s2l_subschema_finish resolves attribute supertypes and sorts the name
 * indexes, so that lookups afterwards are binary searches and inherited
 * fields are read, not recomputed:
 *
 *   s2l_subschema *s = s2l_subschema_create();
 *   for each value v of attributeTypes: s2l_subschema_add_attribute_type(s, v, len, &err);
 *   for each value v of objectClasses:  s2l_subschema_add_object_class(s, v, len, &err);
 *   s2l_subschema_finish(s);
 *   const s2l_ldap_attr_type *at = s2l_subschema_attr(s, "mail");
 *   at->equality  → "caseIgnoreIA5Match" (own or inherited through SUP)
 *
 * The parser is tolerant of what real servers send: OIDs in quotes (Samba),
 * no blank after "(" (Samba), non-numeric OIDs such as "nsUniqueId-oid"
 * (389-DS), keywords in any order, unknown "X-…" extensions. A description
 * that cannot be read at all is reported (NULL + *err) and the caller may skip
 * it: one bad value must not lose the rest of the schema.
 *
 * What the gateway knows about matching rules (which rules fold case, which
 * ignore insignificant spaces, …) is in s2l_ldap_rule_kind_of; the filter
 * translator (mapping.h, s2l_mapping_apply_subschema) builds on it.
 *
 * Ownership: an s2l_subschema owns every string and description in it;
 * pointers handed out by the lookups borrow from it and live until
 * s2l_subschema_destroy, or until their description is replaced: adding a
 * description whose OID or one of its names is already known replaces the
 * earlier one (that is how mapping-file overrides work).
 * Not thread-safe while it is being built; read-only use afterwards is.
 */
#ifndef S2L_SUBSCHEMA_H
#define S2L_SUBSCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "s2l/error.h"

typedef struct s2l_subschema s2l_subschema;

typedef enum {
    S2L_AT_USER_APPLICATIONS,     /* the default */
    S2L_AT_DIRECTORY_OPERATION,
    S2L_AT_DISTRIBUTED_OPERATION,
    S2L_AT_DSA_OPERATION
} s2l_at_usage;

typedef struct s2l_ldap_attr_type s2l_ldap_attr_type;
struct s2l_ldap_attr_type {
    char *oid;                    /* as written (numeric, or a descriptor like "nsUniqueId-oid") */
    char **names;                 /* n_names short names, first is the primary one */
    size_t n_names;
    char *desc;                   /* DESC or NULL */
    bool obsolete;
    /* as written in this description (NULL when absent) */
    char *sup;                    /* supertype name or OID */
    char *equality, *ordering, *substr;
    char *syntax;                 /* syntax OID */
    unsigned syntax_len;          /* the {n} bound, 0 when none */
    bool single_value, collective, no_user_modification;
    s2l_at_usage usage;
    /* resolved by s2l_subschema_finish: own value, else the supertype's (recursively) */
    const s2l_ldap_attr_type *sup_type;  /* NULL without SUP or when SUP is unknown */
    const char *eff_equality, *eff_ordering, *eff_substr, *eff_syntax;
    unsigned eff_syntax_len;
};

typedef enum { S2L_OC_STRUCTURAL, S2L_OC_ABSTRACT, S2L_OC_AUXILIARY } s2l_oc_kind;

typedef struct s2l_ldap_object_class {
    char *oid;
    char **names;
    size_t n_names;
    char *desc;
    bool obsolete;
    char **sups;                  /* superclass names/OIDs as written */
    size_t n_sups;
    s2l_oc_kind kind;             /* STRUCTURAL when the description names none (RFC 4512) */
    char **must, **may;           /* attribute names/OIDs as written (this class only) */
    size_t n_must, n_may;
} s2l_ldap_object_class;

typedef struct s2l_ldap_matching_rule {
    char *oid;
    char **names;
    size_t n_names;
    char *syntax;                 /* the assertion syntax */
} s2l_ldap_matching_rule;

s2l_subschema *s2l_subschema_create(void);
void s2l_subschema_destroy(s2l_subschema *s);

/* Parses one RFC 4512 description (text need not be NUL-terminated) and adds
 * it. 0, or -1 + *err (400, detail "…at offset N…") when it cannot be read,
 * or 500 on out of memory. Lookups need s2l_subschema_finish afterwards. */
int s2l_subschema_add_attribute_type(s2l_subschema *s, const char *text, size_t len, s2l_error *err);
int s2l_subschema_add_object_class(s2l_subschema *s, const char *text, size_t len, s2l_error *err);
int s2l_subschema_add_matching_rule(s2l_subschema *s, const char *text, size_t len, s2l_error *err);

/* Adds every attributeTypes / objectClasses / matchingRules value of an LDIF
 * dump of the subschema subentry (`ldapsearch -b cn=Subschema -s base
 * attributeTypes objectClasses matchingRules`; folded lines and base64 values
 * are read; other attributes are ignored). Values that cannot be parsed are
 * skipped and counted in *skipped (may be NULL); the first problem is in *err.
 * Returns the number of descriptions added, -1 on out of memory. Call
 * s2l_subschema_finish afterwards. */
long s2l_subschema_add_ldif(s2l_subschema *s, const char *text, size_t len, size_t *skipped, s2l_error *err);

/* Adds the attributeTypes / objectClasses / matchingRules values of the
 * subschema subentry as an LDAP layer hands entries over
 * ({"dn": ..., "attrs": {"attributeTypes": ["( ... )", ...], ...}}, names
 * compared case-insensitively, options ignored). Returns and reports like
 * s2l_subschema_add_ldif. */
long s2l_subschema_add_entry(s2l_subschema *s, const json_t *entry, size_t *skipped, s2l_error *err);

/* Resolves SUP chains (attribute types) for the lookups. Unknown supertypes
 * and cycles leave sup_type NULL (the description's own fields still count).
 * May be called again after more descriptions were added. 0, -1 on out of memory. */
int s2l_subschema_finish(s2l_subschema *s);

size_t s2l_subschema_attr_count(const s2l_subschema *s);
size_t s2l_subschema_class_count(const s2l_subschema *s);
/* The i-th description in the order added (i < count). */
const s2l_ldap_attr_type *s2l_subschema_attr_at(const s2l_subschema *s, size_t i);
const s2l_ldap_object_class *s2l_subschema_class_at(const s2l_subschema *s, size_t i);
/* True when no attribute type declares any matching rule (Active Directory /
 * Samba publish syntaxes only): callers then infer rules from syntaxes. */
bool s2l_subschema_rules_unpublished(const s2l_subschema *s);

/* By name (case-insensitive) or OID; an attribute description's options are
 * ignored ("cn;lang-de" is cn). NULL when unknown. */
const s2l_ldap_attr_type *s2l_subschema_attr(const s2l_subschema *s, const char *name_or_oid);
const s2l_ldap_object_class *s2l_subschema_class(const s2l_subschema *s, const char *name_or_oid);
const s2l_ldap_matching_rule *s2l_subschema_rule(const s2l_subschema *s, const char *name_or_oid);

/* Whether at is known by this name or OID (case-insensitive names). */
bool s2l_ldap_attr_is(const s2l_ldap_attr_type *at, const char *name_or_oid);
/* The primary name (or the OID when it has none). */
const char *s2l_ldap_attr_name(const s2l_ldap_attr_type *at);

/* Attribute types an entry of object class `oc` must / may hold, through all
 * its superclasses, each once, by primary name (names the schema does not
 * know are kept as written). NULL-terminated, malloc'd (free the array only:
 * the strings borrow from s). NULL on out of memory or an unknown class. */
const char **s2l_subschema_class_attrs(const s2l_subschema *s, const char *oc, bool must);

/* Whether an entry with these object classes (NULL-terminated names) may hold
 * attribute `attr` (MUST or MAY of one of them or of a superclass, or
 * extensibleObject). Unknown classes contribute nothing. */
bool s2l_subschema_allows(const s2l_subschema *s, const char *const *classes, const char *attr);

/* ---- what a matching rule does ---- */

/* The rules the gateway knows, by what they mean for comparing values. The
 * same kind covers a rule's equality, ordering and substrings variants
 * (caseIgnoreMatch, caseIgnoreOrderingMatch, caseIgnoreSubstringsMatch). */
typedef enum {
    S2L_MR_NONE = 0,        /* no rule: an assertion with it is Undefined */
    S2L_MR_UNKNOWN,         /* a rule the gateway does not know: never used in filters */
    S2L_MR_CASE_IGNORE,     /* Directory String, Unicode case folded, insignificant spaces (RFC 4518) */
    S2L_MR_CASE_EXACT,      /* the same without case folding */
    S2L_MR_CASE_IGNORE_IA5, /* IA5 (ASCII) strings, case folded, insignificant spaces */
    S2L_MR_CASE_EXACT_IA5,
    S2L_MR_CASE_IGNORE_LIST,/* caseIgnoreListMatch (postal addresses) */
    S2L_MR_TELEPHONE,       /* spaces and hyphens ignored; OpenLDAP compares letters exactly */
    S2L_MR_NUMERIC_STRING,  /* spaces ignored, digits only */
    S2L_MR_OCTET_STRING,    /* byte for byte */
    S2L_MR_INTEGER,         /* numeric value */
    S2L_MR_GENERALIZED_TIME,/* chronological */
    S2L_MR_UUID,            /* RFC 4530: hex digits, any case */
    S2L_MR_DN,              /* distinguishedNameMatch and uniqueMemberMatch */
    S2L_MR_BOOLEAN,
    S2L_MR_OID,             /* objectIdentifierMatch */
    S2L_MR_CSN,             /* OpenLDAP change sequence numbers */
    /* inferred from a syntax when the server publishes no rules (Active
     * Directory): case-insensitive strings whose space handling is unknown */
    S2L_MR_INFERRED_CASE_IGNORE
} s2l_mr_kind;

/* The kind of a rule given by name (case-insensitive) or OID; NULL → NONE. */
s2l_mr_kind s2l_ldap_rule_kind_of(const char *rule);
const char *s2l_mr_kind_name(s2l_mr_kind k);

/* What the values of a syntax may contain (what a server validates). */
typedef enum {
    S2L_SYN_UNKNOWN = 0,
    S2L_SYN_DIRECTORY_STRING, /* non-empty UTF-8 */
    S2L_SYN_IA5,              /* ASCII */
    S2L_SYN_PRINTABLE,        /* A-Z a-z 0-9 ' ( ) + , - . = / : ? space (also Telephone Number, Country String) */
    S2L_SYN_NUMERIC_STRING,   /* digits and spaces */
    S2L_SYN_INTEGER,
    S2L_SYN_GENERALIZED_TIME,
    S2L_SYN_UUID,
    S2L_SYN_DN,
    S2L_SYN_BOOLEAN,
    S2L_SYN_OCTET_STRING,
    S2L_SYN_OID
} s2l_syntax_kind;

s2l_syntax_kind s2l_ldap_syntax_kind_of(const char *syntax_oid);
/* Whether a value of n bytes may occur in a syntax of that kind (UNKNOWN: true). */
bool s2l_ldap_syntax_allows(s2l_syntax_kind k, const char *v, size_t n);

/* The built-in descriptions of the standard attribute types the shipped
 * mappings use (RFC 4512/4519/4524/2798/2307bis, OpenLDAP's operational
 * attributes, ppolicy, memberOf and schemas/ldap/scim2ldap.schema), as
 * OpenLDAP 2.5 publishes them. Used when the directory's own subschema cannot
 * be read. A new subschema, owned by the caller; NULL on out of memory. */
s2l_subschema *s2l_subschema_builtin(void);

#endif
