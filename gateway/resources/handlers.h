/* handlers.h — SCIM endpoint handlers (shell). Each takes a routed request and
 * ends it with exactly one reply, possibly later from an LDAP completion. */
#ifndef S2L_RESOURCES_HANDLERS_H
#define S2L_RESOURCES_HANDLERS_H

#include "../http/request.h"

/* /{Resource} and /{Resource}/{id} for any mapped resource type (req->rm set). */
void s2l_handle_list(s2l_req *req);
void s2l_handle_get(s2l_req *req);
void s2l_handle_create(s2l_req *req);
void s2l_handle_replace(s2l_req *req);
void s2l_handle_patch(s2l_req *req);
void s2l_handle_delete(s2l_req *req);

/* Discovery: /ServiceProviderConfig, /Schemas[/urn], /ResourceTypes[/name]. */
void s2l_handle_service_provider_config(s2l_req *req);
void s2l_handle_schemas(s2l_req *req, const char *urn);
void s2l_handle_resource_types(s2l_req *req, const char *name);

#endif
