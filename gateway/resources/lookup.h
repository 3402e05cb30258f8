/* lookup.h — SCIM id <-> DN resolution for references (manager, members, groups).
 *
 * Ids resolve with one search per chunk of ids ((|(entryUUID=a)(entryUUID=b)...),
 * indexed), DNs with base-scope searches (O(1) each, pipelined in a bounded
 * window). Both run as LDAP ops of the request, so a reply cancels them.
 *
 * Each start function returns 1 when searches started: done(arg, err) then
 * runs exactly once, later (never inside the start call), unless the request
 * ends first; 0 when there was nothing to resolve (done is not called; the
 * caller goes on at once); -1 when out of memory (the request has been
 * answered with 503; done is not called).
 *
 * Ownership: `*map` is the caller's and filled in place; when it is NULL it
 * is created (json_object) only if something is looked up, so a request with
 * nothing to resolve allocates nothing. The lookup's own state belongs to the
 * request (freed when it ends).
 */
#ifndef S2L_RESOURCES_LOOKUP_H
#define S2L_RESOURCES_LOOKUP_H

#include "../http/request.h"

/* err is NULL on success; otherwise the LDAP failure to answer with. */
typedef void s2l_lookup_done_fn(void *arg, const s2l_ldap_result *err);

/* ids: array of SCIM id strings → map[id] = dn for those found. */
int s2l_lookup_ids(s2l_req *req, const json_t *ids, json_t **map, s2l_lookup_done_fn *done, void *arg);

/* The same, also filling *refs (created when NULL and something is looked
 * up) as s2l_lookup_dns would for the entries found: refs[dn] = {"id",
 * "type", "display"?}, so rendering them afterwards needs no second look-up
 * (a direct PUT's answer naming the manager it just wrote). */
int s2l_lookup_ids_refs(s2l_req *req, const json_t *ids, json_t **map, json_t **refs, s2l_lookup_done_fn *done,
                        void *arg);

/* dns: array of DN strings → map[dn] = {"id":..., "type":"User"|"Group", "display":...?}
 * for those that exist and belong to a mapped resource type. */
int s2l_lookup_dns(s2l_req *req, const json_t *dns, json_t **map, s2l_lookup_done_fn *done, void *arg);

/* The members of the group at group_dn, resolved through the attribute the
 * directory maintains on members (memberof_attr, e.g. memberOf): one search per
 * mapped type, (memberOf=<group dn>), instead of one per member. Fills
 * map[dn] = {"id","type","display"} keyed by each member's own DN; members the
 * attribute does not cover are simply not added (resolve those afterwards). */
int s2l_lookup_members_of(s2l_req *req, const char *group_dn, const char *memberof_attr, json_t **map,
                          s2l_lookup_done_fn *done, void *arg);

#endif
