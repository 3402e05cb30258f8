/* resources.c — the route table rows of the SCIM endpoints (see resources.h).
 * Adding an endpoint is one more row here (or in its own module). A row that
 * reads or writes a resource type names it (.resource): the router checks the
 * credential's access to it before the handler runs. */
#include "resources.h"

#include <stdio.h>
#include <string.h>

#include "common.h"

/* /Bulk, /Me, /.search: what the service provider says it does not do. */
static void not_implemented(s2l_req *req)
{
    const char *p = req->path[0] == '/' ? req->path + 1 : req->path;
    s2l_req_fail(req, 501, NULL, "%.*s is not supported by this service provider", (int)strcspn(p, "/"), p);
}

static void search_not_implemented(s2l_req *req)
{
    s2l_req_fail(req, 501, NULL, "POST .search is not supported; use GET with filter");
}

int s2l_resources_register(s2l_routes *rt, const s2l_mapping *m)
{
    static const s2l_route fixed[] = {
        /* Discovery carries no directory data and is public (RFC 7644 §4). */
        {.pattern = "/ServiceProviderConfig/*", .methods = S2L_GET, .handler = s2l_res_service_provider_config,
         .auth = S2L_AUTH_NONE},
        {.pattern = "/serviceConfiguration/*", .methods = S2L_GET, .handler = s2l_res_service_provider_config,
         .auth = S2L_AUTH_NONE}, /* the draft-era name some clients still use */
        {.pattern = "/Schemas/*", .methods = S2L_GET, .handler = s2l_res_schemas, .auth = S2L_AUTH_NONE},
        {.pattern = "/ResourceTypes/*", .methods = S2L_GET, .handler = s2l_res_resource_types,
         .auth = S2L_AUTH_NONE},
        {.pattern = "/Bulk/*", .methods = S2L_ANY_METHOD, .handler = not_implemented},
        {.pattern = "/Me/*", .methods = S2L_ANY_METHOD, .handler = not_implemented},
        {.pattern = "/.search/*", .methods = S2L_ANY_METHOD, .handler = not_implemented},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (s2l_routes_add(rt, &fixed[i]) < 0)
            return -1;

    for (size_t i = 0; i < s2l_mapping_count(m); i++) {
        const s2l_rmap *rm = s2l_mapping_at(m, i);
        const char *ep = s2l_rmap_info_of(rm)->endpoint; /* "/Users" */
        char one[256], search[256];
        if (snprintf(one, sizeof one, "%s/{}", ep) >= (int)sizeof one ||
            snprintf(search, sizeof search, "%s/.search", ep) >= (int)sizeof search)
            return -1;
        const s2l_route rows[] = {
            {.pattern = ep, .methods = S2L_GET, .handler = s2l_res_list, .data = rm, .resource = rm},
            {.pattern = ep, .methods = S2L_POST, .handler = s2l_res_create, .data = rm, .resource = rm},
            {.pattern = one, .methods = S2L_GET, .handler = s2l_res_get, .data = rm, .resource = rm},
            {.pattern = one, .methods = S2L_PUT, .handler = s2l_res_replace, .data = rm, .resource = rm},
            {.pattern = one, .methods = S2L_PATCH, .handler = s2l_res_patch, .data = rm, .resource = rm},
            {.pattern = one, .methods = S2L_DELETE, .handler = s2l_res_delete, .data = rm, .resource = rm},
            {.pattern = search, .methods = S2L_ANY_METHOD, .handler = search_not_implemented, .data = rm,
             .resource = rm},
        };
        for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++)
            if (s2l_routes_add(rt, &rows[k]) < 0)
                return -1;
    }
    return 0;
}
