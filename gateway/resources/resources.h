/* resources.h — the SCIM endpoints of the gateway, registered in the route
 * table: every mapped resource type (list, create, get, replace, patch,
 * delete), discovery (/ServiceProviderConfig, /Schemas, /ResourceTypes, public)
 * and the answers for what is not implemented (501: /Bulk, /Me, .search). */
#ifndef S2L_RESOURCES_H
#define S2L_RESOURCES_H

#include "../http/route.h"
#include "s2l/mapping.h"

/* 0, or -1 when out of memory. The rows borrow m (it must outlive rt). */
int s2l_resources_register(s2l_routes *rt, const s2l_mapping *m);

#endif
