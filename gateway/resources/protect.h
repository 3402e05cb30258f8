/* protect.h — the look-up that every write (PUT, PATCH, DELETE) starts with,
 * honouring the mapping's provisioning.protected filter (mappings/README.md,
 * "Provisioning scope").
 *
 * The directory decides, exactly: the entry is searched with
 * s2l_rmap_write_id_filter, (&<type>(<id>)(!<protected>)). A hit (or an LDAP
 * error) advances the op as res_fetch_by_id does (read it with
 * res_fetched). Only a miss, on a type with a protected filter, costs a second
 * search by id alone: found means protected (403, nothing written), not found
 * 404. In both cases the request has been answered and the op does not
 * advance. Without a protected filter it is res_fetch_by_id. */
#ifndef S2L_RESOURCES_PROTECT_H
#define S2L_RESOURCES_PROTECT_H

#include "common.h"

/* 1 (started), or -1 when the request was answered (malformed id: 404; out of memory). */
int res_fetch_for_write(res_op *op, char *const *attrs);

#endif
