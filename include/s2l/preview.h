/* preview.h — what the gateway would send to LDAP for a SCIM request, worked
 * out offline (`scim2ldap preview`).
 *
 * Pure. It calls the same pure functions, in the same order and with the same
 * options, as the resource handlers (gateway/resources/{create,update,list}.c):
 * s2l_resource_normalize and s2l_patch_apply with the mapping's policies,
 * s2l_rmap_ref_ids, s2l_rmap_to_ldap, s2l_rmap_to_scim, s2l_rmap_plan_update,
 * s2l_rmap_check_deltas, s2l_rmap_delta_mods, s2l_rmap_delta_kept_mods,
 * s2l_rmap_adopt_mods, s2l_mapping_reference_fixups and s2l_rmap_ldap_filter. Where a handler asks
 * the directory, preview supplies what can be known without one:
 *
 *  - Reference ids (manager, members) resolve through known_ids (id → DN);
 *    any other id X stands for the symbolic DN "scimId=X" (RFC 4514-escaped),
 *    so it shows up as `member: scimId=X`; where LDAP holds the referenced
 *    entry's RDN value instead of its DN (posix memberUid) that is "X" itself.
 *  - The stored entry (PUT, PATCH) is the one the gateway writes for
 *    `current` (s2l_rmap_to_ldap), read back the way an update reads it (the
 *    update attributes only: no member list, no password) through
 *    s2l_rmap_to_scim. Its DN is current_dn when given, else the one the RDN
 *    template makes.
 *  - The empty-group placeholder probe (PATCH of a type with a placeholder)
 *    answers "held" when `current` has no values of the delta attribute. When
 *    the removals empty the set, the modify shown is the retry the handler
 *    sends after LDAP refused the first one with 65 (objectClassViolation),
 *    with a note saying so.
 *
 * Ownership: inputs are borrowed; json_t* results are new references.
 */
#ifndef S2L_PREVIEW_H
#define S2L_PREVIEW_H

#include <stddef.h>
#include <jansson.h>

#include "s2l/error.h"
#include "s2l/filter.h"
#include "s2l/mapping.h"

typedef enum {
    S2L_PREVIEW_CREATE,    /* POST /Users: body is the resource */
    S2L_PREVIEW_REPLACE,   /* PUT /Users/{id}: body is the resource, current the stored one */
    S2L_PREVIEW_PATCH,     /* PATCH /Users/{id}: body is a PatchOp request, current the stored resource */
} s2l_preview_kind;

typedef struct s2l_preview_in {
    const s2l_mapping *mapping;
    const s2l_rmap *rm;               /* the resource type addressed */
    s2l_preview_kind kind;
    const json_t *body;
    const json_t *current;            /* REPLACE/PATCH: the resource as GET returns it */
    const char *current_dn;           /* REPLACE/PATCH: its DN, or NULL (from the RDN template) */
    const json_t *known_ids;          /* SCIM id → DN for references, or NULL */
    unsigned max_patch_operations;    /* limits.max_patch_operations; 0 = the engine's default */
    bool show_secrets;                /* print secret values (hashed as they would be sent) instead of
                                       * a marker; for applying the LDIF (preview --show-secrets) */
} s2l_preview_in;

/* Which input an error is about. */
typedef enum { S2L_PREVIEW_IN_BODY, S2L_PREVIEW_IN_CURRENT, S2L_PREVIEW_IN_FILTER } s2l_preview_input;

typedef struct s2l_preview_err {
    s2l_error err;                /* what the gateway would answer: status, scimType, detail */
    s2l_preview_input input;
    char path[256];               /* JSON path of the culprit in that input ("$.emails[1].value"), "$"
                                   * when nothing narrower is known; "" for filters */
} s2l_preview_err;

/* The LDAP operations the request makes, in order (JSON array):
 *   {"op": "add", "dn": "...", "attrs": {...}}
 *   {"op": "modrdn", "dn": "...", "newrdn": "uid=new", "deleteoldrdn": true}
 *   {"op": "modify", "dn": "...", "mods": [...]}          (dn: after the rename)
 *   {"op": "note", "text": "..."}    what LDIF cannot express: the retry that a
 *                                    placeholder needs, reference fix-ups
 *                                    after a rename (searches, then modifies)
 * An update that changes nothing gives only a note. NULL + *err when the
 * gateway would refuse the request (err->err is the SCIM error it answers). */
json_t *s2l_preview_write(const s2l_preview_in *in, s2l_preview_err *err);

/* The LDAP filter of a list request (GET /Users?filter=...): what the handler
 * searches with below the type's base DN. malloc'd; NULL + *err (400
 * invalidFilter, input FILTER) when the gateway would refuse it. lim may be NULL. */
char *s2l_preview_filter(const s2l_rmap *rm, const char *filter, const s2l_filter_limits *lim,
                         const json_t *known_ids, s2l_preview_err *err);

/* The operations of s2l_preview_write as LDIF (RFC 2849, ldif.h; notes
 * become comment blocks; base64 values annotated). malloc'd; NULL on
 * allocation failure or malformed ops. */
char *s2l_preview_ldif(const json_t *ops);

/* The symbolic DN standing for an unresolved id: "scimId=<id, RFC 4514-escaped>"
 * (malloc'd). */
char *s2l_preview_symbolic_dn(const char *id);

#endif
