/* put_direct.h — which PUT requests can be written without reading the
 * entry first, and the LDAP modify they become (pure: data in, data out).
 *
 * A PUT (RFC 7644 §3.5.1) gives the whole resource: its LDAP attributes come
 * from the body alone, as on the path that reads the entry first (update.c),
 * which renders the stored entry only to leave unchanged attributes out of
 * the modify and to find a rename. Sent to the cached DN of the id, the same
 * change is one modify replacing every attribute the mapping writes, when:
 *   - the name the body gives is the cached DN's own RDN (no rename);
 *   - the type has no member lists (delta attributes: a PUT replaces them
 *     as a set, which needs the stored one); the other resources the body
 *     names (manager) are looked up by id first (the cache is not trusted
 *     for them: a stale DN would be written as the reference), so such a PUT
 *     is that search and the modify;
 *   - `active` is a plain attribute or a lock-only deprovision policy (flags
 *     change from their stored value; a move is a rename);
 *   - the body gives nothing the keep attribute would hold (unknown or
 *     unmapped attributes), and no policy had to skip or keep anything;
 *     the entry's own kept items are asserted absent ("requires"), since the
 *     other path would delete them and this one does not see them;
 *   - `active: true` under the lock policy deletes no lock value: the
 *     assertion says the account is not locked by the gateway (a locked one
 *     takes the reading path, which unlocks it).
 * Everything else, and any error in the body, takes the path that reads:
 * this planner never rejects a request, it only says "direct" or not (why).
 *
 * What differs from the reading path, by design: an attribute whose value
 * is unchanged is replaced anyway (the entry's version and modifyTimestamp
 * move even when nothing changed), and so values the resource does not show
 * (a second cn another tool added, which the other path leaves alone while
 * the SCIM value stays the same) go, as on any PUT that changes that
 * attribute. `behaviour.direct_put: false` keeps the reading path for every
 * PUT (README "Scaling out").
 */
#ifndef S2L_PUT_DIRECT_H
#define S2L_PUT_DIRECT_H

#include <jansson.h>

#include "s2l/mapping.h"

typedef struct s2l_put_direct {
    json_t *mods;         /* [{"op","attr","values"}] (new reference), when direct */
    char *requires;       /* malloc'd filters to AND into the assertion: what the plan assumes of the
                             entry (no kept items, not locked when active is true); may be "" */
    const char *why_not;  /* when not direct: why (static string, for logs and BENCHMARKS.md) */
    bool needs_ids;       /* not direct yet: plan again once the body's references are in ids */
} s2l_put_direct;

/* new_resource: the PUT body normalised (S2L_NORM_REPLACE); dn: the id's
 * cached DN; ids: SCIM id → DN of the resources it names, or NULL (not
 * looked up yet). 1: direct (out->mods, out->requires); 0: read first
 * (out->why_not), or, with out->needs_ids, look the body's references up
 * (s2l_rmap_ref_ids) and plan again with them; -1: out of memory. */
int s2l_put_plan_direct(const s2l_rmap *rm, const json_t *new_resource, const char *dn, const json_t *ids,
                        s2l_put_direct *out);
void s2l_put_direct_fini(s2l_put_direct *d);

#endif
