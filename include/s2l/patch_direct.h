/* patch_direct.h — which PATCH requests can be written without reading the
 * entry first, and the LDAP modify they become (pure: data in, data out).
 *
 * A PATCH whose every operation sets a value that does not depend on what
 * the entry holds now is one LDAP modify: "replace"/"add" of a single-valued
 * attribute that maps 1:1 to its own LDAP attribute, `active` (a boolean
 * attribute, or a deprovision policy of the lock and plain items: true
 * deletes exactly the values that say "inactive", which LDAP refuses with
 * 16 when they are not there) and member add/remove deltas
 * of delta attributes. Everything else needs the stored values and takes the
 * fetch-then-modify path (update.c), which also produces every error: this
 * planner never rejects a request, it only says "direct" or "not direct".
 * (Member deltas go out this way only with an assertion widened for slapd's
 * memberof overlay, which says too that the group holds no placeholder and
 * no kept member items — s2l/write_assertion.h — since neither is read.)
 *
 * Not direct (reason strings say which), e.g.: a value filter other than a
 * member removal by value; remove of a non-member attribute; multi-valued or
 * complex values; an attribute used by the RDN or by another attribute's
 * template or fallback (cn from givenName/displayName in the default
 * mapping: the new cn depends on the stored values); an LDAP attribute
 * written by two mapping entries; immutable/readOnly attributes; an
 * unmapped or unknown attribute (kept by policy in the keep attribute, which
 * is rewritten as a whole); members replaced wholesale; member items with
 * sub-attributes the keep attribute would hold; `active` under a policy with
 * flag items or a move (they change from the stored value).
 */
#ifndef S2L_PATCH_DIRECT_H
#define S2L_PATCH_DIRECT_H

#include <stdbool.h>
#include <jansson.h>

#include "s2l/mapping.h"
#include "s2l/resource.h"

typedef struct s2l_patch_direct {
    json_t *mods;        /* [{"op","attr","values"}] for the attributes (new reference) */
    json_t *deltas;      /* member deltas as s2l_patch_apply gives them, or NULL */
    const char *why_not; /* when not direct: why (static string, for logs and BENCHMARKS.md) */
} s2l_patch_direct;

/* 1: direct (out->mods set, out->deltas maybe); 0: needs the entry
 * (out->why_not); -1: out of memory. opts as for s2l_patch_apply. */
int s2l_patch_plan_direct(const s2l_rmap *rm, const json_t *patch_request, const s2l_patch_opts *opts,
                          s2l_patch_direct *out);
void s2l_patch_direct_fini(s2l_patch_direct *d);

/* Whether dn is where the type's search finds entries (the parent is base_dn
 * for scope one, below base_dn for sub): a cached DN outside it (a reload
 * moved the base) is not used. */
bool s2l_rmap_dn_in_scope(const s2l_rmap *rm, const char *dn);

/* The assertion a write to an entry found by a cached DN carries: the type's
 * write filter for id (object filter, id, not protected), and with version
 * (an entry version as in an ETag, W/"..." or "...") the version attribute
 * equal to it. malloc'd; NULL when id is malformed, version is not one plain
 * ETag or the type has no version attribute but one is asked. */
char *s2l_rmap_write_assertion(const s2l_rmap *rm, const char *id, const char *if_match);

#endif
