/* discovery.c — /ServiceProviderConfig, /Schemas, /ResourceTypes.
 * Schemas and resource types come from the mapping (only mapped attributes are
 * advertised); the service provider config states what this build really does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "s2l/schema.h"

#define URN_SPC "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
#define OID_SORT "1.2.840.113556.1.4.473"

void s2l_res_service_provider_config(s2l_req *req)
{
    const s2l_config *cfg = req->gw->cfg;
    if (req->param) {
        s2l_req_fail(req, 404, NULL, "no such endpoint %s", req->path);
        return;
    }
    char loc[1024];
    snprintf(loc, sizeof loc, "%s/ServiceProviderConfig", req->base_url);
    json_t *schemes = req->gw->auth ? s2l_auth_schemes_json(req->gw->auth) : json_array();
    if (schemes == NULL) {
        s2l_req_fail(req, 503, NULL, "out of memory");
        return;
    }
    json_t *body = json_pack(
        "{s:[s], s:s, s:{s:b}, s:{s:b, s:i, s:i}, s:{s:b, s:I}, s:{s:b}, s:{s:b}, s:{s:b},"
        " s:o, s:{s:s, s:s}}",
        "schemas", URN_SPC,
        "documentationUri", "https://github.com/scim2ldap/scim2ldap#readme",
        "patch", "supported", 1,
        "bulk", "supported", 1, "maxOperations", (int)cfg->limits.bulk_max_operations, "maxPayloadSize",
        (int)(cfg->limits.bulk_max_payload_bytes > INT32_MAX ? INT32_MAX : cfg->limits.bulk_max_payload_bytes),
        "filter", "supported", 1, "maxResults", (json_int_t)cfg->limits.max_results,
        "changePassword", "supported", 1,
        /* sortBy is pushed down: the truth is whether the directory (as last
         * seen by the pool) offers server-side sorting. */
        "sort", "supported", s2l_pool_supports_control(req->gw->pool, OID_SORT),
        "etag", "supported", 1,
        /* What the configured credentials accept (httpbasic only when a basic
         * credential exists): Okta reads this to offer its auth choices. */
        "authenticationSchemes", schemes,
        "meta", "resourceType", "ServiceProviderConfig", "location", loc);
    if (body == NULL) {
        s2l_req_fail(req, 503, NULL, "out of memory");
        return;
    }
    s2l_req_reply_json(req, 200, body, NULL);
}

static json_t *list_response(json_t *items)
{
    return json_pack("{s:[s], s:I, s:i, s:I, s:o}", "schemas", S2L_URN_LIST, "totalResults",
                     (json_int_t)json_array_size(items), "startIndex", 1, "itemsPerPage",
                     (json_int_t)json_array_size(items), "Resources", items);
}

/* One of a list by its "id" (schemas: URN) or "name" (resource types). */
static void reply_one_or_list(s2l_req *req, json_t *items, const char *key, const char *want, const char *what)
{
    if (items == NULL) {
        s2l_req_fail(req, 503, NULL, "out of memory");
        return;
    }
    if (want == NULL) {
        s2l_req_reply_json(req, 200, list_response(items), NULL);
        return;
    }
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        const char *v = json_string_value(json_object_get(it, key));
        if (v && strcasecmp(v, want) == 0) {
            json_incref(it);
            json_decref(items);
            s2l_req_reply_json(req, 200, it, NULL);
            return;
        }
    }
    json_decref(items);
    s2l_req_fail(req, 404, NULL, "no such %s: %s", what, want);
}

void s2l_res_schemas(s2l_req *req)
{
    reply_one_or_list(req, s2l_mapping_schemas_json(req->gw->mapping, req->base_url), "id", req->param,
                      "schema");
}

void s2l_res_resource_types(s2l_req *req)
{
    reply_one_or_list(req, s2l_mapping_resource_types_json(req->gw->mapping, req->base_url), "name", req->param,
                      "resource type");
}
