/* it_discovery.c — the discovery endpoints (RFC 7644 §4) and HTTP-level
 * behaviour shared by all routes: /ServiceProviderConfig, /Schemas (only
 * attributes the mapping maps; password writeOnly / returned never),
 * /ResourceTypes, 405 for methods a route does not have, 404 for unknown
 * routes, case-insensitive resource names, and requests that do not use
 * keep-alive.
 *
 * The expected attribute lists are derived from mappings/openldap.json, so
 * this test follows the mapping rather than restating it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_users_common.h"

#define URN_SPC "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
#define URN_GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"

static it_env env;

/* Top-level SCIM attributes the mapping maps for resource type `type`, split
 * into core names and extension names: {"core": {name: true}, "<urn>": {...}}.
 * id, externalId and meta are common attributes, not schema attributes. */
static json_t *mapped_attributes(const char *type)
{
    json_error_t jerr;
    json_t *m = json_load_file(S2L_SOURCE_DIR "/mappings/openldap.json", 0, &jerr);
    json_t *out = json_object();
    size_t i;
    json_t *rt;

    H_REQUIRE(m != NULL && out != NULL);
    json_array_foreach(json_object_get(m, "resource_types"), i, rt) {
        size_t j;
        json_t *a;

        const char *rt_name = json_string_value(json_object_get(rt, "name"));

        if (rt_name == NULL || strcmp(rt_name, type) != 0)
            continue;
        json_array_foreach(json_object_get(rt, "attributes"), j, a) {
            const char *scim = json_string_value(json_object_get(a, "scim"));
            char urn[256] = "core", name[128];
            const char *colon = strrchr(scim, ':');
            const char *start = colon ? colon + 1 : scim;
            size_t len = strcspn(start, ".");
            json_t *set;

            if (colon)
                snprintf(urn, sizeof urn, "%.*s", (int)(colon - scim), scim);
            snprintf(name, sizeof name, "%.*s", (int)len, start);
            if (strcmp(name, "externalId") == 0 || strcmp(name, "id") == 0 || strcmp(name, "meta") == 0)
                continue;
            set = json_object_get(out, urn);
            if (set == NULL) {
                set = json_object();
                json_object_set_new(out, urn, set);
            }
            json_object_set_new(set, name, json_true());
        }
    }
    json_decref(m);
    return out;
}

static const json_t *find_attr(const json_t *schema, const char *name)
{
    size_t i;
    json_t *a;

    json_array_foreach(json_object_get(schema, "attributes"), i, a) {
        const char *n = json_string_value(json_object_get(a, "name"));
        if (n && strcmp(n, name) == 0)
            return a;
    }
    return NULL;
}

/* The schema's attribute names equal `want` (a set), ignoring id/externalId/meta. */
static void check_attr_set(const json_t *schema, const json_t *want, const char *what)
{
    size_t i;
    json_t *a;
    const char *k;
    json_t *v;

    h_check_(schema != NULL, __FILE__, __LINE__, "%s: schema missing", what);
    json_array_foreach(json_object_get(schema, "attributes"), i, a) {
        const char *n = json_string_value(json_object_get(a, "name"));
        if (n && (strcmp(n, "id") == 0 || strcmp(n, "externalId") == 0 || strcmp(n, "meta") == 0))
            continue;
        h_check_(n && json_object_get(want, n) != NULL, __FILE__, __LINE__,
                 "%s: /Schemas lists %s, which the mapping does not map", what, n ? n : "(unnamed)");
    }
    json_object_foreach((json_t *)want, k, v) {
        h_check_(find_attr(schema, k) != NULL, __FILE__, __LINE__, "%s: mapped attribute %s missing from /Schemas",
                 what, k);
    }
}

static const json_t *find_by(const json_t *list, const char *key, const char *value)
{
    size_t i;
    json_t *r;

    json_array_foreach(list, i, r) {
        const char *v = json_string_value(json_object_get(r, key));
        if (v && strcmp(v, value) == 0)
            return r;
    }
    return NULL;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t a = s ? strlen(s) : 0, b = strlen(tail);
    return s && a >= b && strcmp(s + a - b, tail) == 0;
}

static void check_list_shape(const h_resp *r, const char *what)
{
    const json_t *res = h_jget(r->json, "Resources");

    h_check_(it_is_scim_json(r), __FILE__, __LINE__, "%s: not application/scim+json", what);
    h_check_(h_jstr(r->json, "schemas[0]") && strcmp(h_jstr(r->json, "schemas[0]"), IT_URN_LIST) == 0, __FILE__,
             __LINE__, "%s: not a ListResponse", what);
    h_check_(json_is_integer(h_jget(r->json, "totalResults")) &&
                 (size_t)h_jint(r->json, "totalResults", -1) == json_array_size(res) && json_array_size(res) > 0,
             __FILE__, __LINE__, "%s: totalResults does not count Resources", what);
}

static void test_service_provider_config(void)
{
    h_resp r = h_http(env.g, "GET", "/ServiceProviderConfig", NULL, NULL);
    const json_t *schemes;
    bool bearer = false;
    size_t i;
    json_t *s;

    H_CHECK_STATUS(r, 200);
    H_CHECK(it_is_scim_json(&r));
    H_CHECK_STR(h_jstr(r.json, "schemas[0]"), URN_SPC);
    H_CHECK(json_is_true(h_jget(r.json, "patch.supported")));
    H_CHECK(json_is_true(h_jget(r.json, "filter.supported")));
    H_CHECK(json_is_integer(h_jget(r.json, "filter.maxResults")));
    H_CHECK(json_integer_value(h_jget(r.json, "filter.maxResults")) > 0);
    /* Resources carry ETags and If-Match is honoured. */
    H_CHECK(json_is_true(h_jget(r.json, "etag.supported")));
    H_CHECK(json_is_boolean(h_jget(r.json, "bulk.supported")));
    H_CHECK(json_is_boolean(h_jget(r.json, "sort.supported")));
    H_CHECK(json_is_boolean(h_jget(r.json, "changePassword.supported")));
    schemes = h_jget(r.json, "authenticationSchemes");
    H_CHECK(json_array_size(schemes) > 0);
    json_array_foreach(schemes, i, s) {
        const char *t = json_string_value(json_object_get(s, "type"));
        if (t && strcmp(t, "oauthbearertoken") == 0)
            bearer = true;
        /* No basic credential is configured here: Basic must not be offered. */
        H_CHECK(t == NULL || strcmp(t, "httpbasic") != 0);
    }
    H_CHECK(bearer);
    h_resp_free(&r);
}

static void test_schemas(void)
{
    json_t *mapped = mapped_attributes("User");
    h_resp r = h_http(env.g, "GET", "/Schemas", NULL, NULL);
    const json_t *list, *user, *ent, *a;

    H_CHECK_STATUS(r, 200);
    check_list_shape(&r, "GET /Schemas");
    list = h_jget(r.json, "Resources");
    user = find_by(list, "id", IT_URN_USER);
    ent = find_by(list, "id", IT_URN_ENT);
    H_CHECK(find_by(list, "id", URN_GROUP) != NULL);
    check_attr_set(user, json_object_get(mapped, "core"), "User");
    check_attr_set(ent, json_object_get(mapped, IT_URN_ENT), "enterprise User");
    /* The default mapping keeps every RFC 7643 §4 attribute (a few spelled
     * out, so that check_attr_set cannot pass on an empty list). */
    H_CHECK(find_attr(user, "x509Certificates") != NULL);
    H_CHECK(find_attr(user, "entitlements") != NULL);
    H_CHECK(find_attr(user, "ims") != NULL);
    H_CHECK(find_attr(ent, "costCenter") != NULL);
    H_CHECK(find_attr(ent, "division") != NULL);

    a = find_attr(user, "password");
    H_CHECK(a != NULL);
    H_CHECK_STR(h_jstr(a, "mutability"), "writeOnly");
    H_CHECK_STR(h_jstr(a, "returned"), "never");
    a = find_attr(user, "userName");
    H_CHECK(a && json_is_true(h_jget(a, "required")));
    H_CHECK_STR(h_jstr(a, "uniqueness"), "server");
    a = find_attr(user, "groups");
    H_CHECK_STR(h_jstr(a, "mutability"), "readOnly");
    /* Sub-attributes follow the mapping too: all six of name are mapped. */
    a = find_attr(user, "name");
    H_CHECK(a && json_array_size(h_jget(a, "subAttributes")) == 6);
    H_CHECK(a && find_by(h_jget(a, "subAttributes"), "name", "givenName") != NULL);
    H_CHECK(a && find_by(h_jget(a, "subAttributes"), "name", "middleName") != NULL);
    H_CHECK_STR(h_jstr(user, "meta.resourceType"), "Schema");
    H_CHECK(ends_with(h_jstr(user, "meta.location"), "/Schemas/" IT_URN_USER));
    h_resp_free(&r);

    r = h_http(env.g, "GET", "/Schemas/" IT_URN_USER, NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK(it_is_scim_json(&r));
    H_CHECK_STR(h_jstr(r.json, "id"), IT_URN_USER);
    check_attr_set(r.json, json_object_get(mapped, "core"), "GET /Schemas/<User>");
    h_resp_free(&r);

    r = h_http(env.g, "GET", "/Schemas/" IT_URN_ENT, NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "id"), IT_URN_ENT);
    a = find_attr(r.json, "manager");
    H_CHECK(a != NULL);
    h_resp_free(&r);

    r = h_http(env.g, "GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Nothing", NULL, NULL);
    IT_CHECK_ERROR(r, 404, NULL);
    h_resp_free(&r);
    json_decref(mapped);
}

static void test_resource_types(void)
{
    h_resp r = h_http(env.g, "GET", "/ResourceTypes", NULL, NULL);
    const json_t *user;

    H_CHECK_STATUS(r, 200);
    check_list_shape(&r, "GET /ResourceTypes");
    user = find_by(h_jget(r.json, "Resources"), "name", "User");
    H_CHECK(user != NULL);
    H_CHECK(find_by(h_jget(r.json, "Resources"), "name", "Group") != NULL);
    H_CHECK_STR(h_jstr(user, "endpoint"), "/Users");
    H_CHECK_STR(h_jstr(user, "schema"), IT_URN_USER);
    H_CHECK_STR(h_jstr(user, "schemaExtensions[0].schema"), IT_URN_ENT);
    H_CHECK(json_is_false(h_jget(user, "schemaExtensions[0].required")));
    H_CHECK_STR(h_jstr(user, "meta.resourceType"), "ResourceType");
    H_CHECK(ends_with(h_jstr(user, "meta.location"), "/ResourceTypes/User"));
    h_resp_free(&r);

    r = h_http(env.g, "GET", "/ResourceTypes/User", NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "name"), "User");
    H_CHECK_STR(h_jstr(r.json, "endpoint"), "/Users");
    h_resp_free(&r);

    r = h_http(env.g, "GET", "/ResourceTypes/Widget", NULL, NULL);
    IT_CHECK_ERROR(r, 404, NULL);
    h_resp_free(&r);
}

/* Methods a route does not support: 405, a SCIM error and an Allow header
 * (RFC 9110 §15.5.6). */
static void test_method_not_allowed(const char *id)
{
    char user_path[128];
    struct {
        const char *method, *path, *body;
    } cases[] = {
        {"DELETE", "/Users", NULL},
        {"PUT", "/Users", "{\"userName\":\"x\"}"},
        {"PATCH", "/Users", "{\"Operations\":[]}"},
        {"POST", user_path, "{\"userName\":\"x\"}"},
        {"DELETE", "/ServiceProviderConfig", NULL},
        {"POST", "/Schemas", "{}"},
        {"PUT", "/ResourceTypes/User", "{}"},
    };
    char *before = h_ldap_snapshot(env.s), *after;

    snprintf(user_path, sizeof user_path, "/Users/%s", id);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        h_resp r = h_http(env.g, cases[i].method, cases[i].path, cases[i].body, NULL);

        IT_CHECK_ERROR(r, 405, NULL);
        h_check_(h_header(&r, "Allow") != NULL, __FILE__, __LINE__, "%s %s: 405 without an Allow header",
                 cases[i].method, cases[i].path);
        h_resp_free(&r);
    }
    after = h_ldap_snapshot(env.s);
    H_CHECK(h_snapshot_same(before, after));
    free(before);
    free(after);
}

/* What the service provider says it does not do answers 501 (RFC 7644
 * §3.7 for bulk, §3.11 for /Me). */
static void test_not_implemented(void)
{
    h_resp spc = h_http(env.g, "GET", "/ServiceProviderConfig", NULL, NULL);
    h_resp r;

    if (json_is_false(h_jget(spc.json, "bulk.supported"))) {
        r = h_http(env.g, "POST", "/Bulk", "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:BulkRequest\"],"
                                          "\"Operations\":[]}", NULL);
        IT_CHECK_ERROR(r, 501, NULL);
        h_resp_free(&r);
    }
    h_resp_free(&spc);
    r = h_http(env.g, "GET", "/Me", NULL, NULL);
    IT_CHECK_ERROR(r, 501, NULL);
    h_resp_free(&r);
}

static void test_routes(const char *id)
{
    static const char *const spellings[] = {"/users", "/USERS", "/uSeRs"};
    char path[160];
    h_resp r;

    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        snprintf(path, sizeof path, "%s?filter=userName%%20eq%%20%%22disco.user%%22", spellings[i]);
        r = h_http(env.g, "GET", path, NULL, NULL);
        H_CHECK_STATUS(r, 200);
        H_CHECK_INT(h_jint(r.json, "totalResults", -1), 1);
        h_resp_free(&r);
        snprintf(path, sizeof path, "%s/%s", spellings[i], id);
        r = h_http(env.g, "GET", path, NULL, NULL);
        H_CHECK_STATUS(r, 200);
        H_CHECK_STR(h_jstr(r.json, "id"), id);
        h_resp_free(&r);
    }
    r = h_http(env.g, "GET", "/Nothing", NULL, NULL);
    IT_CHECK_ERROR(r, 404, NULL);
    h_resp_free(&r);
    r = h_http_at(env.g, "GET", "/elsewhere/Users", NULL, NULL);
    H_CHECK_STATUS(r, 404);
    h_resp_free(&r);
}

/* Clients that do not use keep-alive, and one that asks for it: every answer
 * is complete and self-delimiting. */
static void test_connections(void)
{
    char req[512];
    h_resp r;
    int n;

    n = snprintf(req, sizeof req,
                 "GET %s/ServiceProviderConfig HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n",
                 h_gw_base_path(env.g), h_gw_token(env.g));
    r = h_http_raw(env.g, req, (size_t)n);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "schemas[0]"), URN_SPC);
    h_resp_free(&r);

    r = h_http(env.g, "GET", "/ServiceProviderConfig", NULL, (const char *const[]){"Connection: keep-alive", NULL});
    H_CHECK_STATUS(r, 200);
    H_CHECK(r.json != NULL);
    h_resp_free(&r);
    /* Still serving. */
    r = h_http(env.g, "GET", "/ResourceTypes/User", NULL, NULL);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
}

int main(void)
{
    if (it_env_start(&env, NULL)) {
        char *id = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"disco.user\"}");

        H_REQUIRE(id != NULL);
        test_service_provider_config();
        test_schemas();
        test_resource_types();
        test_method_not_allowed(id);
        test_routes(id);
        test_not_implemented();
        test_connections();
        free(id);
    }
    it_env_stop(&env);
    return H_DONE();
}
