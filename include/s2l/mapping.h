/* mapping.h — the attribute-mapping engine: SCIM resources <-> LDAP entries.
 *
 * Pure: mapping files and JSON in, JSON out; no LDAP handle. An LDAP entry is
 * represented as JSON so it can be tested data-driven and logged:
 *
 *   entry  = {"dn": "uid=jdoe,ou=people,dc=example,dc=org",
 *             "attrs": {"uid": ["jdoe"], "entryUUID": ["..."], ...}}
 *   attrs  = {"<ldap attribute>": ["value", ...], ...}   (names compare case-insensitively)
 *   mods   = [{"op": "add"|"delete"|"replace", "attr": "mail", "values": ["..."]}, ...]
 *            ("values" may be empty/absent for delete-all / replace-with-nothing)
 *   Binary values go under "<attr>;base64" as base64 strings, as the LDAP pool
 *   reads and sends them (objectGUID read; AD's unicodePwd written).
 *
 * References (enterprise manager, group members) are SCIM ids on the SCIM side
 * and DNs on the LDAP side. Pure code cannot look ids up, so translation is
 * two-phase: the caller asks which ids/DNs are involved, resolves them with
 * LDAP searches, and passes the answers back in as maps.
 *
 * Ownership: s2l_mapping_load returns a mapping owned by the caller
 * (s2l_mapping_destroy). s2l_rmap pointers and everything reachable from them
 * (resource types, schema views, strings) borrow from the mapping. json_t*
 * results are new references owned by the caller.
 */
#ifndef S2L_MAPPING_H
#define S2L_MAPPING_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "s2l/error.h"
#include "s2l/filter.h"
#include "s2l/json_limits.h"
#include "s2l/ldap_text.h"
#include "s2l/resource.h"
#include "s2l/schema.h"
#include "s2l/subschema.h"

typedef struct s2l_mapping s2l_mapping;
typedef struct s2l_rmap s2l_rmap;

/* Settings of one resource type's mapping, as read from the mapping file. */
typedef struct s2l_rmap_info {
    const char *name;            /* "User" */
    const char *endpoint;        /* "/Users" */
    const char *base_dn;         /* where entries live and are created */
    s2l_scope scope;             /* search scope under base_dn */
    const char *object_filter;   /* LDAP filter selecting this type, e.g. "(objectClass=inetOrgPerson)" */
    const char *id_attr;         /* LDAP attribute holding the SCIM id (default "entryUUID") */
    bool id_is_uuid;             /* ids must look like UUIDs (malformed → 404 without asking LDAP) */
    const char *rdn_attr;        /* "uid" */
    const char *created_attr;    /* "createTimestamp" or NULL */
    const char *modified_attr;   /* "modifyTimestamp" or NULL */
    const char *version_attr;    /* "entryCSN" or NULL */
    const char *sort_attr;       /* LDAP attribute giving a stable order for paging */
    const char *unique_attr;     /* LDAP attribute checked for uniqueness before add (e.g. "uid"), or NULL */
} s2l_rmap_info;

/* Where a User's read-only `groups` come from. */
typedef enum {
    S2L_GROUPS_NONE,        /* not mapped */
    S2L_GROUPS_ATTRIBUTE,   /* an attribute of the entry (memberOf overlay): requested like any other */
    S2L_GROUPS_SEARCH,      /* the caller searches the groups (s2l_rmap_member_filter on the group
                             * type) and puts their DNs into the entry under `attr` before rendering */
} s2l_groups_source;

typedef struct s2l_rmap_groups {
    s2l_groups_source source;
    const char *attr;            /* LDAP attribute ("memberOf"), or the virtual one filled by the caller */
    const char *group_type;      /* resource type of the groups ("Group") */
} s2l_rmap_groups;

/* How `active: false` is carried out in LDAP (room for more methods later). */
typedef enum {
    S2L_DEPROVISION_NONE,   /* active not mapped, or mapped as a plain boolean */
    S2L_DEPROVISION_LOCK,   /* ppolicy lock: pwdAccountLockedTime 000001010000Z present = inactive */
} s2l_deprovision;

/* Loads and validates a mapping file. schema_dir holds the SCIM schema JSON files
 * (schemas/scim; every file ending in .json is loaded). On error returns NULL and writes "<file>: <json path>: <what>" or
 * "<file>:<line>:<column>: <what>" into errbuf. */
s2l_mapping *s2l_mapping_load(const char *path, const char *schema_dir, char *errbuf, size_t errlen);
void s2l_mapping_destroy(s2l_mapping *m);

size_t s2l_mapping_count(const s2l_mapping *m);

/* What the directory and the gateway accept in one request, enforced by the
 * mapping. s2l_mapping_load starts from the defaults; the gateway copies its
 * configuration in once after loading (limits.* keys).
 *
 * max_rdn_bytes: the longest entry name (RDN, e.g. "uid=<userName>") the
 * mapping writes, counted as the directory stores it (RFC 4514 specials as
 * "\XX", 3 bytes). OpenLDAP's back-mdb keeps each RDN twice (as given and
 * normalised) plus 20 bytes in one record of its DN index, which LMDB limits to
 * 511 bytes: a longer RDN fails with LDAP 80 (MDB_BAD_VALSIZE) on every
 * attempt. 245 = the longest ASCII RDN that fits. Entries that would exceed it
 * get 400 invalidValue before anything is sent; 0 turns the check off. */
#define S2L_MAX_RDN_BYTES_DEFAULT 245
typedef struct s2l_mapping_limits {
    unsigned max_rdn_bytes;
    s2l_json_limits json;        /* request bodies: every resource type view points here */
} s2l_mapping_limits;
void s2l_mapping_set_limits(s2l_mapping *m, const s2l_mapping_limits *lim);
/* s2l_mapping_set_limits with a configuration's limits.max_rdn_bytes,
 * max_json_depth, max_json_nodes and max_values_per_attribute (the gateway at
 * start, and preview with --config, so both refuse the same bodies). */
struct s2l_config;
void s2l_mapping_set_config_limits(s2l_mapping *m, const struct s2l_config *cfg);
const s2l_mapping_limits *s2l_mapping_limits_of(const s2l_mapping *m);
const s2l_rmap *s2l_mapping_at(const s2l_mapping *m, size_t i);
/* By resource type name ("User") or endpoint segment ("Users", "users"); case-insensitive. */
const s2l_rmap *s2l_mapping_find(const s2l_mapping *m, const char *name);

const s2l_rmap_info *s2l_rmap_info_of(const s2l_rmap *rm);
/* The resource type with schema views holding only mapped attributes (+ id, externalId, meta). */
const s2l_resource_type *s2l_rmap_rtype(const s2l_rmap *rm);

/* Top-level attributes changed only by value-level deltas (e.g. "members"),
 * NULL-terminated; NULL or empty when the type has none. (Added by the lead for
 * the handlers; implement with exactly these names.) Borrowed: pass as
 * s2l_patch_opts.delta_attrs and turn the deltas into LDAP modifications with
 * s2l_rmap_delta_mods. */
const char *const *s2l_rmap_delta_attrs(const s2l_rmap *rm);
/* True unless the mapping says "unknown_attributes": "reject" (kept for
 * callers of the older boolean; handlers pass s2l_rmap_policies instead). */
bool s2l_rmap_ignores_unknown(const s2l_rmap *rm);

/* The mapping's policies (mappings/README.md, "Policies") for this type,
 * with its full schemas: pass as s2l_norm_opts.policies and
 * s2l_patch_opts.policies. Borrowed. */
const s2l_policies *s2l_rmap_policies(const s2l_rmap *rm);

/* What the loader found risky but not wrong (a SCIM string stored in an LDAP
 * attribute with a narrower syntax and nowhere else to go): an array of
 * "<file>: <json path>: <what>" strings, possibly empty. Borrowed. main logs
 * them at start and --check-config prints them. */
const json_t *s2l_mapping_warnings(const s2l_mapping *m);

/* Source of a type's read-only `groups` attribute (source NONE when unmapped). */
const s2l_rmap_groups *s2l_rmap_groups_of(const s2l_rmap *rm);

s2l_deprovision s2l_rmap_deprovision(const s2l_rmap *rm);

/* For S2L_GROUPS_SEARCH: the LDAP filter finding entries of group type group_rm
 * whose member attribute holds the entry `member_dn` (by DN, or by RDN value
 * for memberUid-style groups). malloc'd; NULL when group_rm has no members. */
char *s2l_rmap_member_filter(const s2l_rmap *group_rm, const char *member_dn);

/* ---- reading: LDAP → SCIM ---- */

/* LDAP attributes to request (NULL-terminated, owned by the caller: free with
 * s2l_strv_free) for output under projection p (NULL = defaults); always includes
 * the id, meta and RDN attributes. */
char **s2l_rmap_read_attrs(const s2l_rmap *rm, const s2l_projection *p);
/* The same for the default projection, computed once at load (borrowed). */
char *const *s2l_rmap_default_read_attrs(const s2l_rmap *rm);
/* What an update reads first: the defaults minus delta attributes (borrowed). */
char *const *s2l_rmap_update_read_attrs(const s2l_rmap *rm);

/* DNs held by reference attributes of entry that the caller must resolve before
 * rendering (array of strings, possibly empty). */
json_t *s2l_rmap_ref_dns(const s2l_rmap *rm, const json_t *entry);

/* Renders an entry as a canonical SCIM resource: schemas, id, externalId, meta
 * (resourceType, created, lastModified, version as W/"…", location under
 * base_url), mapped attributes; write-only attributes never appear.
 * refs maps DN → {"id": "...", "type": "User"|"Group", "display": "..."?} for
 * reference values; a DN missing from refs is left out (dangling reference).
 * NULL + *err when the entry lacks its id attribute. */
json_t *s2l_rmap_to_scim(const s2l_rmap *rm, const json_t *entry, const json_t *refs,
                         const char *base_url, s2l_error *err);

/* meta.version (the ETag) of an entry, e.g. W/"<entryCSN>"; malloc'd, NULL if unavailable. */
char *s2l_rmap_version(const s2l_rmap *rm, const json_t *entry);

/* ---- writing: SCIM → LDAP ---- */

/* SCIM ids held by reference attributes of a canonical resource (array of strings). */
json_t *s2l_rmap_ref_ids(const s2l_rmap *rm, const json_t *resource);

/* Translates a canonical resource into the LDAP entry to add: {"dn":..., "attrs":{...}}
 * including objectClass, templates, constants, defaults, write-only attributes.
 * ids maps SCIM id → DN for references; an id missing from ids → 400
 * invalidValue, unless a policy skips it (members) or keeps it (manager).
 * When policies did something, the result also has "notes" (s2l_notes_add
 * format) for the caller to log and count. */
json_t *s2l_rmap_to_ldap(const s2l_rmap *rm, const json_t *resource, const json_t *ids, s2l_error *err);

/* What turns entry `old_resource` into `new_resource` (both canonical; old as read
 * back through s2l_rmap_to_scim): {"newrdn": "uid=new" | null, "mods": [...]}.
 * Only attributes the mapping writes are touched; attributes equal in both are
 * left alone; write-only attributes absent from new are left alone, and so is
 * a boolean whose LDAP form cannot say "absent" (deprovisioning lock); delta
 * attributes (s2l_rmap_delta_attrs) are never touched (use
 * s2l_rmap_delta_mods); the RDN attribute is changed by the rename, not by
 * mods. Each mod is {"op":"replace"} with the complete new value set (empty:
 * delete if present), except the keep attribute, which changes item by item
 * ("delete" / "add"). ids must also hold the old resource's references
 * (update.c's build_old puts them there): without them a reference the new
 * resource drops may stay (fuzz_resource_write met a kept manager). "notes"
 * as for s2l_rmap_to_ldap. */
json_t *s2l_rmap_plan_update(const s2l_rmap *rm, const json_t *old_resource, const json_t *new_resource,
                             const json_t *ids, s2l_error *err);

/* What the caller knows about the empty-group placeholder of a delta
 * attribute (flags). Without it the member set is never read, so the handler
 * probes for the placeholder (s2l_rmap_placeholder_filter) and retries a
 * removal that LDAP refuses for emptying the set (65) with ADD_ON_REMOVE. */
#define S2L_PH_DELETE_ON_ADD 0x1 /* the entry holds the placeholder: adds delete it */
#define S2L_PH_ADD_ON_REMOVE 0x2 /* removals add it (the set may become empty) */

/* LDAP modifications for value-level deltas of a delta attribute (see
 * s2l_patch_apply): add → {"op":"add"} of just the new DNs, remove →
 * {"op":"delete"} of just those; replace_all → {"op":"replace"} of the new set
 * (the placeholder alone when it is empty).
 * ids maps SCIM id → DN; an added id missing from ids → 400 invalidValue, a
 * removed one is skipped (it cannot be a member). Appends to mods.
 * ph_flags (S2L_PH_*) say when to add or delete the placeholder around the
 * changes. The caller sends these with the LDAP Permissive Modify control so
 * that adding a present value succeeds, and handles deleting an absent one. */
int s2l_rmap_delta_mods(const s2l_rmap *rm, const json_t *deltas, const json_t *ids, unsigned ph_flags,
                        json_t *mods, s2l_error *err);

/* Member ids that deltas add but ids does not resolve (members whose create
 * failed at the IdP). Policy "unknown_members": "skip" (default) notes them
 * under "skipped_members" (s2l_delta_mods then leaves them out of the same
 * modify); "reject" fails with 400 invalidValue naming them. */
int s2l_rmap_check_deltas(const s2l_rmap *rm, const json_t *deltas, const json_t *ids, json_t *notes,
                          s2l_error *err);

/* Modifications of the keep attribute that follow member deltas: the kept
 * sub-attributes of a member (Azure's members[].displayName) are added with
 * it and deleted with it. entry is the group as the update read it (its keep
 * attribute). Appends to mods; nothing when the type keeps nothing. */
int s2l_rmap_delta_kept_mods(const s2l_rmap *rm, const json_t *deltas, const json_t *entry, json_t *mods,
                             s2l_error *err);

/* Adoption of entries made by other tools (plain ldapadd): when mods is not
 * empty and the entry (as read for the update: s2l_rmap_update_read_attrs
 * includes objectClass) lacks object classes of the mapping, prepends
 * {"op":"add","attr":"objectClass","values":[the missing ones]} so the same
 * modify adds them. Nothing else about the entry changes. 0, or -1 on
 * allocation failure. */
int s2l_rmap_adopt_mods(const s2l_rmap *rm, const json_t *entry, json_t *mods);

/* The SCIM path an LDAP attribute of rm holds ("addresses[type eq
 * \"work\"].country", "name.familyName"), malloc'd; NULL when the mapping
 * does not write it. */
char *s2l_rmap_scim_path(const s2l_rmap *rm, const char *ldap_attr);

/* s2l_ldap_error_to_scim, with the SCIM attribute path named when the
 * directory refused a value of an attribute the mapping writes. */
void s2l_rmap_ldap_error(const s2l_rmap *rm, int rc, const char *diag, const char *what, unsigned retry_after,
                         s2l_error *err);

/* A filter matching an entry of rm whose delta attribute holds its empty-group
 * placeholder, e.g. "(member=)" (malloc'd), or NULL when rm has no placeholder. */
char *s2l_rmap_placeholder_filter(const s2l_rmap *rm);

/* LDAP attributes whose values must never be logged (audit.h): those of
 * write-only SCIM attributes (password -> userPassword) of every type, plus
 * the mapping's "secret_attributes". NULL-terminated, borrowed, computed at
 * load; names as the mapping spells them. */
const char *const *s2l_mapping_secret_attrs(const s2l_mapping *m);

/* ---- referential integrity ---- */

/* True when the mapping says "referential_integrity": "gateway" (the default):
 * after a rename or delete the gateway fixes references to the entry itself.
 * "directory" means an overlay (slapd's refint) does it. */
bool s2l_mapping_refint_by_gateway(const s2l_mapping *m);

/* What must change elsewhere when an entry of type `target` at old_dn is renamed
 * to new_dn, or deleted (new_dn NULL): one item per reference attribute that may
 * point at it,
 *   {"base": DN, "scope": <LDAP scope: 1 one level, 2 subtree>, "filter": "(&<type filter>(member=<old>))",
 *    "attr": "member", "old": "<old value>", "new": "<new value>" | null,
 *    "placeholder": "<empty-group placeholder>" (when the holder has one)}
 * where the values are DNs, or RDN values for RDN-valued references (posix
 * memberUid). The caller searches, then modifies each entry found: add new,
 * delete old (adding the placeholder if LDAP refuses to empty the set). NULL
 * on allocation failure or an unparsable DN. */
json_t *s2l_mapping_reference_fixups(const s2l_mapping *m, const s2l_rmap *target, const char *old_dn,
                                     const char *new_dn);

/* ---- searching ---- */

/* SCIM ids that a filter compares reference attributes with (manager.value eq,
 * members.value eq): array of strings to resolve to DNs first. */
json_t *s2l_rmap_filter_ref_ids(const s2l_rmap *rm, const s2l_filter *f);

/* Today's translation, kept until the list handler uses s2l_rmap_split_filter:
 * the LDAP filter (RFC 4515, every value escaped) for SCIM filter f ANDed with
 * the type's object_filter, taking LDAP's matching for SCIM's; f may be NULL
 * (all). ids maps SCIM id → DN for references. malloc'd; NULL + *err (400
 * invalidFilter) for an unmapped attribute or an operator it does not support. */
char *s2l_rmap_ldap_filter(const s2l_rmap *rm, const s2l_filter *f, const json_t *ids, s2l_error *err);

/* The server-side sort key (RFC 2891) for SCIM sortBy (RFC 7644 §3.4.2.3) on
 * rm, as "[-]attr[:orderingRule]" (s2l_search_req.sort_attr): the LDAP
 * attribute sort_by is mapped to (multi-valued: the primary mapping's; see
 * mapping_sort.c), with the ordering rule of ldap.ordering_rules for it if
 * any. sort_by NULL or "": the type's ldap.sort_attribute (the stable order of
 * paging). malloc'd; NULL + *err (400 invalidValue) when the attribute cannot
 * be sorted (not mapped, complex, a reference, boolean, binary, write-only). */
char *s2l_rmap_sort_key(const s2l_rmap *rm, const char *sort_by, bool descending, s2l_error *err);

/* ---- exact filtering: LDAP narrows, the gateway decides ----
 *
 * LDAP's matching rules are not SCIM's comparisons: caseIgnoreMatch ignores
 * leading, trailing and repeated spaces, telephoneNumberMatch ignores spaces
 * and hyphens, most attributes have no ORDERING rule (so "gt" is Undefined),
 * some none at all (facsimileTelephoneNumber), a SCIM caseExact attribute may
 * sit on a case-ignoring rule, "not" inside "emails[...]" applies per value.
 * The split gives, for a SCIM filter:
 *   - an LDAP filter that is a SUPERSET of the matching entries: never
 *     narrower than the truth, whatever the directory holds (at worst the
 *     type's object filter alone);
 *   - whether that is the answer, or the gateway must evaluate the COMPLETE
 *     SCIM filter on every candidate with s2l_rmap_filter_match (the residue).
 * Per comparison it uses what the directory can decide (the attribute's
 * equality/ordering/substrings rules and syntax, s2l_mapping_apply_subschema)
 * and the SCIM attribute's type and caseExact.
 *
 * Residue-free by default ("trusting the directory"): a positive comparison
 * whose LDAP form is exact for values stored the way the gateway writes them
 * needs no post-filter — one LDAP value per single-valued SCIM attribute,
 * strings without leading, trailing or repeated spaces and without characters
 * the directory's Unicode normalisation changes. That keeps the IdPs' look-ups
 * (userName, externalId, displayName eq; emails[type eq "work" and value eq];
 * members[value eq]; id eq) one indexed search with no post-filter; a stored
 * "bjensen " is then found by userName eq "bjensen", as the directory's own
 * uniqueness check would see it. Under "not"/"ne" nothing is trusted (the LDAP
 * filter stays a superset there too). One place where trust also narrows the
 * LDAP filter: a value filter pinning a type and a value that the type's own
 * LDAP attribute can hold (emails[type eq "work" and value eq "a@b"]) leaves
 * out the "type": "*" JSON catch-all, where the gateway keeps such a value
 * only when it carries sub-attributes of its own (unknown_attributes: keep);
 * the default-mode filter is then a superset of the gateway's own writes, the
 * strict one of anything. S2L_SPLIT_STRICT trusts nothing: the result is exact
 * for any directory content, at the price of post-filtering those look-ups
 * too. */
#define S2L_SPLIT_STRICT 0x1u

typedef struct s2l_filter_split {
    char *ldap_filter;  /* malloc'd RFC 4515 filter ANDed with the type's object filter */
    bool residue;       /* true: evaluate f on every entry LDAP returns (s2l_rmap_filter_match);
                           false: LDAP's result is the answer (server-side paging applies) */
    char *not_pushed;   /* malloc'd when residue: the comparisons LDAP cannot decide and why,
                           e.g. "title gt \"x\" (title: no ORDERING rule)", for logs and the
                           detail of a 400 tooMany; NULL otherwise */
} s2l_filter_split;

/* Splits f (NULL: every entry of the type). ids maps SCIM id → DN for
 * references (s2l_rmap_filter_ref_ids). flags: 0 or S2L_SPLIT_STRICT.
 * 0, or -1 + *err: 400 invalidFilter for what no resource can be compared
 * with (an unmapped or write-only attribute, a malformed dateTime, gt/ge/lt/le
 * on a boolean as RFC 7644 §3.4.2.2 requires, a complex attribute without a
 * sub-attribute), 500 on out of memory. On success the caller owns *out
 * (s2l_filter_split_fini). */
int s2l_rmap_split_filter(const s2l_rmap *rm, const s2l_filter *f, const json_t *ids, unsigned flags,
                          s2l_filter_split *out, s2l_error *err);
void s2l_filter_split_fini(s2l_filter_split *s);

/* LDAP attributes to read so that s2l_rmap_filter_match can evaluate f on the
 * rendered entry: the id, meta and RDN attributes and those of every attribute
 * f names (NULL-terminated, free with s2l_strv_free; NULL on out of memory).
 * The caller adds them to what the response needs, resolves reference DNs as
 * for output, and renders with s2l_rmap_to_scim before matching; groups found
 * by a search (S2L_GROUPS_SEARCH) must be filled in first as for output. */
char **s2l_rmap_filter_attrs(const s2l_rmap *rm, const s2l_filter *f);

/* Whether a canonical resource of rm (as s2l_rmap_to_scim renders it) matches
 * f with RFC 7643/7644 semantics and the type's caseExact: the reference the
 * split is tested against (s2l_filter_match on the type's schema view). */
bool s2l_rmap_filter_match(const s2l_rmap *rm, const s2l_filter *f, const json_t *resource);

/* Takes the directory's subschema (read at start and on reload; NULL: the
 * built-in standard schema, which a loaded mapping starts with) and computes,
 * per LDAP attribute the mapping filters on, what the directory can decide;
 * the mapping's "ldap_attribute_types" override it. Pure and done once: the
 * split reads the result. Not concurrent with filter translation on m (call it
 * before requests use the mapping, or on the loop that serves them). schema
 * may be destroyed afterwards. 0, or -1 (out of memory, message in errbuf). */
int s2l_mapping_apply_subschema(s2l_mapping *m, const s2l_subschema *schema, char *errbuf, size_t errlen);

/* The mapping against a directory (scim2ldap check --live): what the
 * directory's subschema lacks or contradicts — object classes it does not
 * have; attributes the mapping writes or reads that it does not have, that
 * the type's object classes do not allow, or that cannot be written
 * (NO-USER-MODIFICATION); MUST attributes of the classes the mapping never
 * writes; SINGLE-VALUE attributes fed by multi-valued SCIM attributes;
 * syntax mismatches (free text into a Country String such as c, text into
 * INTEGER, Boolean or Generalized Time); a memberOf the mapping reads but the
 * schema lacks (no overlay) — and, when controls (the root DSE's
 * supportedControl values, NULL-terminated) is not NULL, the controls the
 * gateway uses that the directory does not offer (post-read, sort, VLV). Array of
 * {"level": "error"|"warning", "type": "User" (absent for the directory
 * itself), "text": "..."}; errors make the mapping fail there, warnings cost
 * speed or refuse some values. NULL on out of memory. */
json_t *s2l_mapping_check_directory(const s2l_mapping *m, const s2l_subschema *schema, const char *const *controls);

/* The LDAP filter that finds the entry with SCIM id `id` (malloc'd), or NULL when
 * the id is malformed for this mapping (callers answer 404). */
char *s2l_rmap_id_filter(const s2l_rmap *rm, const char *id);

/* ---- discovery ---- */

/* GET /Schemas list items, GET /ResourceTypes list items (arrays), each with
 * meta.location under base_url. */
json_t *s2l_mapping_schemas_json(const s2l_mapping *m, const char *base_url);
json_t *s2l_mapping_resource_types_json(const s2l_mapping *m, const char *base_url);

/* ---- escaping (RFC 4515 filter values, RFC 4514 DN attribute values) ---- */

/* malloc'd escaped copies; len is the input length (values may hold NUL). */
char *s2l_ldap_escape_filter_value(const char *value, size_t len);
char *s2l_ldap_escape_dn_value(const char *value, size_t len);


/* ---- directories: ids, deprovisioning, provisioning scope, passwords ----
 * (mappings/README.md: "ldap.id_syntax", "deprovision", "provisioning",
 * "scheme"; README.md "Directories") */

/* The SCIM id of an entry (malloc'd): the id attribute's value, or for
 * binary ids (objectGUID) its canonical string. NULL when the entry lacks it. */
char *s2l_rmap_entry_id(const s2l_rmap *rm, const json_t *entry);
/* "(<id attribute>=<value>)" matching SCIM id `id`, without the type's
 * object filter: escaped per RFC 4515, binary ids as "\xx" per byte
 * (objectGUID). malloc'd; NULL when id is malformed for the type (404). */
char *s2l_rmap_id_assertion(const s2l_rmap *rm, const char *id);

/* AD GUIDs: the 16 bytes of objectGUID <-> "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
 * (lower case; the first three groups are little-endian, as Windows shows
 * them). Parsing accepts either case; false when malformed. */
void s2l_guid_format(const unsigned char bytes[16], char out[37]);
bool s2l_guid_parse(const char *s, unsigned char out[16]);

/* A deprovisioning policy as configured ("deprovision": {"active_false": ...,
 * "delete": ...}); strings borrowed from the mapping. */
typedef struct s2l_dp_info {
    bool configured;         /* active_false: a policy exists; delete: not the default */
    bool hard_delete;        /* delete: the entry is deleted (the default) */
    bool lock;               /* ppolicy lock */
    size_t n_set;            /* attributes / flags set */
    const char *move_to;     /* container the entry is moved to, or NULL */
} s2l_dp_info;
void s2l_rmap_deprovision_info(const s2l_rmap *rm, bool on_delete, s2l_dp_info *out);

/* s2l_rmap_plan_update with the entry as read (the same fetch the old
 * resource was rendered from), which the active_false policy needs: flags
 * change by one bit with a delete of the old value and an add of the new one
 * in the same modify, so a concurrent change makes LDAP refuse the modify
 * (16/20) instead of being overwritten; a move adds "newsuperior": DN (modrdn
 * with new superior, together with "newrdn"). Policy mods come after the
 * attribute mods, so a password set in the same request precedes enabling.
 * entry NULL: flags and moves cannot be planned (500). */
json_t *s2l_rmap_plan_update_entry(const s2l_rmap *rm, const json_t *entry, const json_t *old_resource,
                                   const json_t *new_resource, const json_t *ids, s2l_error *err);

/* What DELETE does to entry (its policy): {"delete": true} by default, else
 * {"delete": false, "mods": [...], "newsuperior": DN|null} (disable, then move
 * out of the type's search scope, so the resource answers 404 afterwards as
 * RFC 7644 §3.6 requires). */
json_t *s2l_rmap_plan_delete(const s2l_rmap *rm, const json_t *entry, s2l_error *err);

/* What DELETE reads before s2l_rmap_plan_delete: the version attribute and
 * the attributes of the delete policy ("1.1" when none). NULL-terminated,
 * free with s2l_strv_free; NULL on out of memory. */
char **s2l_rmap_delete_read_attrs(const s2l_rmap *rm);

/* Whether attr is an integer flag of a deprovisioning policy (e.g.
 * userAccountControl): its changes are a delete of the value read plus an
 * add, so LDAP refusing the delete (16, 19/20) means someone changed the
 * attribute since it was read (the handlers plan once more, then 409). */
bool s2l_rmap_is_policy_flag(const s2l_rmap *rm, const char *attr);

/* Active Directory enables an account only once it has a password: for a
 * new entry (s2l_rmap_to_ldap's answer) that sets a unicodePwd password and
 * is active, the active_false flags (userAccountControl 0x2) are set in
 * add_entry (created disabled, 514, with its password) and the modifications
 * that enable it afterwards are returned (delete 514, add 512). Otherwise an
 * empty array and add_entry unchanged. NULL + *err on out of memory. */
json_t *s2l_rmap_enable_after_password(const s2l_rmap *rm, json_t *add_entry, s2l_error *err);

/* provisioning.protected: the LDAP filter of entries never modified,
 * renamed, disabled or deleted (borrowed), or NULL. */
const char *s2l_rmap_protected_filter(const s2l_rmap *rm);
/* The filter finding the entry with SCIM id `id` only when it is not
 * protected: (&<object filter><id>(!<protected>)). A miss is told apart from a
 * missing entry with s2l_rmap_id_filter (then 403). malloc'd; NULL when id is
 * malformed. Without a protected filter it equals s2l_rmap_id_filter. */
char *s2l_rmap_write_id_filter(const s2l_rmap *rm, const char *id);
/* provisioning.default_groups: for a new entry at member_dn, one item per group
 *   {"dn": "<group DN>", "mods": [{"op": "add", "attr": "member", "values": [...]}]}
 * (the group type's member attribute and value form). Array, possibly empty. */
json_t *s2l_rmap_default_group_adds(const s2l_rmap *rm, const char *member_dn, s2l_error *err);
/* provisioning.boundary (default: base_dn): no entry is created, renamed or
 * moved outside it. */
const char *s2l_rmap_boundary(const s2l_rmap *rm);
bool s2l_rmap_dn_in_boundary(const s2l_rmap *rm, const char *dn);

/* ---- AD range retrieval (ldap.range_retrieval; big groups' member) ---- */

/* Whether key is "<attr>;range=<lo>-<hi>" or "<attr>;range=<lo>-*" (last):
 * the length of <attr> and the bounds. */
bool s2l_range_parse(const char *key, size_t *base_len, unsigned long *lo, unsigned long *hi, bool *last);
/* Moves every ranged attribute of entry ({"dn","attrs"}) into its plain name
 * (values appended) and returns what is still to read: an array of
 * {"attr": "member", "next": "member;range=<hi+1>-*", "from": hi+1} for the
 * ranges that did not end in "*" (empty when the entry is complete); NULL on
 * out of memory. The caller reads "next" on the entry's DN (base scope), puts
 * the returned attributes into entry's attrs and calls this again. */
json_t *s2l_entry_merge_ranges(json_t *entry);
/* ldap.range_retrieval of the type: values per range its delta attributes
 * (member) are read in, or 0 (read whole: every directory but AD). */
unsigned s2l_rmap_range_size(const s2l_rmap *rm);

/* True when a mapped password is AD's unicodePwd, which the directory takes
 * only over LDAPS or StartTLS (the gateway refuses to start otherwise). */
bool s2l_mapping_needs_tls(const s2l_mapping *m);

#endif
