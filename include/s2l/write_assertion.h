/* write_assertion.h — assertion filters (RFC 4528) for writes during which
 * the directory modifies other entries itself (pure: data in, data out).
 *
 * slapd's memberof overlay (OpenLDAP 2.5) runs its own modifies of other
 * entries — a member's memberOf when a group's member values change; with
 * memberof-refint, the groups listing a deleted entry and the memberOf of a
 * deleted group's members — on a copy of the client's operation, request
 * controls included. The write's assertion is then evaluated on those
 * entries too; where it is false the overlay's modify fails ("memberof_value
 * _modify ... failed err=122" in slapd's log) while the client's write
 * succeeds, and memberOf / member silently stop following. (slapd's refint
 * overlay runs its modifies as separate internal operations without the
 * client's controls: it needs nothing of this.)
 *
 * The assertions built here are true on the target entry through the type's
 * own assertion (s2l_rmap_write_assertion: object filter, id, not protected,
 * If-Match version) and, besides, on exactly the entries the overlay
 * modifies — never on whatever entry now sits at the target's DN: every
 * widening term is AND-ed with (!(entryDN=<target DN>)), so a stale cached
 * DN (the entry deleted and recreated under the same name) still fails with
 * 122 and nothing is written. entryDN (RFC 5020) is OpenLDAP's operational
 * attribute; callers use these only on OpenLDAP (S2L_CONTROL_OPENLDAP_SUBENTRIES).
 */
#ifndef S2L_WRITE_ASSERTION_H
#define S2L_WRITE_ASSERTION_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "s2l/mapping.h"

/* At most this many widening terms; more → NULL (the caller reads first). */
#define S2L_ASSERTION_MAX_TERMS 1024

/* One equality term: attr=value (value len bytes, may hold NUL; escaped per
 * RFC 4515 when written). */
typedef struct s2l_ava {
    const char *attr;
    const char *value;
    size_t len;
} s2l_ava;

/* "(|<assertion>(&(!(entryDN=<self_dn>))(|(<attr>=<value>)...)))", malloc'd;
 * n == 0 gives a copy of assertion. NULL on allocation failure, a NULL
 * argument, an empty attribute name or more than S2L_ASSERTION_MAX_TERMS. */
char *s2l_assertion_widen(const char *assertion, const char *self_dn, const s2l_ava *terms, size_t n);

/* The assertion a DELETE of the entry at dn (type rm, its own assertion
 * given) carries: widened by (<member attribute>=<dn>) for every member
 * (delta, DN-valued) attribute of every type of the mapping — the groups
 * memberof-refint modifies list dn there — and, when rm is a group type, by
 * (<memberOf attribute>=<dn>): the members it modifies list the group in
 * memberOf. NULL on allocation failure, or for a group type when the
 * mapping reads no memberOf attribute (the gateway cannot name the entries
 * then: the caller reads first). */
char *s2l_rmap_delete_assertion(const s2l_rmap *rm, const char *dn, const char *assertion);

/* The assertion a PATCH sent without reading the entry at dn (type rm, its
 * own assertion given) carries, mods being the modify's modifications (the
 * planned ones plus s2l_rmap_delta_mods'): the entry must have the
 * mapping's object classes ((objectClass=<each>): the read path would adopt
 * it in the same write). With member values, widened by
 * (entryDN=<each member DN added or deleted>) — the
 * entries whose memberOf the overlay changes (the placeholder too when it is
 * a DN). The group's own part also says what the modify was planned
 * without reading: when mods add members to a type with an empty-group
 * placeholder, (!<placeholder filter>), or (<placeholder filter>) when they
 * delete the placeholder too (S2L_PH_DELETE_ON_ADD); when the type has a
 * keep attribute (ldap.keep_attribute, where a member's extra
 * sub-attributes are kept and must go with it), no kept item of a member
 * the deltas (s2l_patch_apply's) touch:
 * (!(<keep>={"members":*"value":"<id>"*)) (a substring rule on the keep
 * attribute, which schemas/ldap/scim2ldap.schema gives scimKept; without
 * one slapd finds the filter undefined on a group holding any kept item:
 * 122, the read path).
 * A group holding either fails (122) and the caller takes the path that
 * reads it. NULL on allocation failure or too many terms. */
char *s2l_rmap_patch_assertion(const s2l_rmap *rm, const char *dn, const char *assertion, const json_t *mods,
                               const json_t *deltas);

/* Whether the directory is OpenLDAP (whose memberof overlay behaves as above
 * and which has entryDN), from its root DSE's supportedControl: it lists
 * the subentries control under OpenLDAP's own OID arc (1.3.6.1.4.1.4203.1.10.1). */
#define S2L_CONTROL_OPENLDAP_SUBENTRIES "1.3.6.1.4.1.4203.1.10.1"

#endif
