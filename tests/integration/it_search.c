/* it_search.c — POST /{Resource}/.search and POST /.search (RFC 7644 §3.4.3)
 * answer what GET does with the same parameters (compared body for body),
 * the root search concatenates the types in mapping order (totals and
 * paging across types), the credential's access applies to each type
 * (read-only may search, a Users-only credential sees Users only), request
 * errors per RFC; and If-None-Match on GET by id (RFC 7232): 304 with the
 * ETag and no body while the version matches, "*" for any existing resource.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_users_common.h"

#define N_USERS 12
#define N_GROUPS 3
#define READER_TOKEN "reader-token-0123456789abcdef"
#define USERS_ONLY_TOKEN "users-only-token-0123456789abcdef"

static it_env env;
static char *user_ids[N_USERS];

static void seed(void)
{
    for (int i = 0; i < N_USERS; i++) {
        char body[512];
        /* displayNames out of userName order, so sorting shows */
        snprintf(body, sizeof body,
                 "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"search.user.%02d\","
                 "\"displayName\":\"search user %c\",\"emails\":[{\"type\":\"work\",\"value\":\"s%02d@example.org\"}]}",
                 i, 'a' + (i * 5) % N_USERS, i);
        user_ids[i] = IT_CREATE(env.g, body);
        H_REQUIRE(user_ids[i] != NULL);
    }
    for (int i = 0; i < N_GROUPS; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"search group %d\","
                 "\"members\":[{\"value\":\"%s\"}]}",
                 i, user_ids[i]);
        h_resp r = h_http(env.g, "POST", "/Groups", body, NULL);
        H_CHECK_STATUS(r, 201);
        h_resp_free(&r);
    }
    H_REQUIRE(h_ldap_add_users(env.s, "other", 0, 30) == 0);
}

/* POST <type>/.search with body vs GET <type>?query: same status and body. */
static void same_as_get(const char *type, const char *body, const char *query)
{
    char post_path[64], get_path[1024];
    snprintf(post_path, sizeof post_path, "%s/.search", type);
    snprintf(get_path, sizeof get_path, "%s?%s", type, query);
    h_resp p = h_http(env.g, "POST", post_path, body, NULL);
    h_resp g = h_http(env.g, "GET", get_path, NULL, NULL);
    h_check_(p.status == g.status, __FILE__, __LINE__, "%s %s: .search %d, GET %d", type, body, p.status, g.status);
    h_check_(p.json && g.json && json_equal(p.json, g.json), __FILE__, __LINE__,
             "%s %s: .search and GET differ:\n  .search: %.400s\n  GET:     %.400s", type, body, p.body, g.body);
    h_resp_free(&p);
    h_resp_free(&g);
}

#define SR "\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:SearchRequest\"]"

static void test_type_search(void)
{
    same_as_get("/Users", "{" SR "}", "");
    same_as_get("/Users", "{" SR ",\"filter\":\"userName sw \\\"search.user\\\"\",\"count\":5}",
                "filter=userName%20sw%20%22search.user%22&count=5");
    same_as_get("/Users",
                "{" SR ",\"filter\":\"userName sw \\\"search.user\\\"\",\"sortBy\":\"displayName\","
                "\"sortOrder\":\"descending\",\"startIndex\":3,\"count\":4,\"attributes\":[\"displayName\",\"userName\"]}",
                "filter=userName%20sw%20%22search.user%22&sortBy=displayName&sortOrder=descending&startIndex=3"
                "&count=4&attributes=displayName,userName");
    same_as_get("/Users", "{" SR ",\"excludedAttributes\":[\"emails\",\"groups\"],\"startIndex\":40,\"count\":10}",
                "excludedAttributes=emails,groups&startIndex=40&count=10");
    same_as_get("/Users", "{\"filter\":\"emails.value eq \\\"s03@example.org\\\"\"}",
                "filter=emails.value%20eq%20%22s03@example.org%22");
    same_as_get("/Groups", "{" SR ",\"filter\":\"displayName sw \\\"search\\\"\",\"sortBy\":\"displayName\"}",
                "filter=displayName%20sw%20%22search%22&sortBy=displayName");
    /* Errors are the GET's errors. */
    same_as_get("/Users", "{\"filter\":\"userName eq\"}", "filter=userName%20eq");
    same_as_get("/Users", "{\"filter\":\"timezone eq \\\"UTC\\\"\"}", "filter=timezone%20eq%20%22UTC%22");
    same_as_get("/Users", "{\"sortBy\":\"password\"}", "sortBy=password");

    /* A malformed SearchRequest. */
    static const struct {
        const char *body, *type;
    } bad[] = {
        {"{\"filter\":42}", "invalidValue"},
        {"{\"count\":\"ten\"}", "invalidValue"},
        {"{\"attributes\":{\"a\":1}}", "invalidValue"},
        {"{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"]}", "invalidSyntax"},
        {"[1]", "invalidSyntax"},
        {"{not json", "invalidSyntax"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h_resp r = h_http(env.g, "POST", "/Users/.search", bad[i].body, NULL);
        IT_CHECK_ERROR(r, 400, bad[i].type);
        h_resp_free(&r);
    }
    /* Only POST. */
    h_resp r = h_http(env.g, "GET", "/Users/.search", NULL, NULL);
    IT_CHECK_ERROR(r, 405, NULL);
    H_CHECK(h_header(&r, "Allow") && strstr(h_header(&r, "Allow"), "POST") != NULL);
    h_resp_free(&r);
    r = h_http(env.g, "PUT", "/.search", "{}", NULL);
    IT_CHECK_ERROR(r, 405, NULL);
    h_resp_free(&r);
}

static const char *type_of(const json_t *res)
{
    return h_jstr(res, "meta.resourceType");
}

/* Root: users then groups; totals add up; the window spans the types. */
static void test_root_search(void)
{
    const char *f = "{" SR ",\"filter\":\"displayName sw \\\"search\\\"\",\"sortBy\":\"displayName\"}";
    h_resp all = h_http(env.g, "POST", "/.search", f, NULL);
    H_CHECK_STATUS(all, 200);
    H_CHECK_INT(h_jint(all.json, "totalResults", -1), N_USERS + N_GROUPS);
    H_CHECK_INT(h_jint(all.json, "itemsPerPage", -1), N_USERS + N_GROUPS);
    H_CHECK_INT(h_jint(all.json, "startIndex", -1), 1);
    const json_t *res = h_jget(all.json, "Resources");
    for (size_t i = 0; i < json_array_size(res); i++)
        H_CHECK_STR(type_of(json_array_get(res, i)), i < N_USERS ? "User" : "Group");
    /* Each type in the order its GET gives. */
    h_resp users = h_http(env.g, "GET", "/Users?filter=displayName%20sw%20%22search%22&sortBy=displayName", NULL, NULL);
    h_resp groups = h_http(env.g, "GET", "/Groups?filter=displayName%20sw%20%22search%22&sortBy=displayName", NULL,
                           NULL);
    for (size_t i = 0; i < json_array_size(res); i++) {
        const json_t *want = i < N_USERS ? json_array_get(h_jget(users.json, "Resources"), i)
                                         : json_array_get(h_jget(groups.json, "Resources"), i - N_USERS);
        H_CHECK(want && json_equal((json_t *)want, json_array_get(res, i)));
    }

    /* A window across the boundary: users 10..12, groups 1..2. */
    h_resp w = h_http(env.g, "POST", "/.search",
                      "{\"filter\":\"displayName sw \\\"search\\\"\",\"sortBy\":\"displayName\",\"startIndex\":10,"
                      "\"count\":5}",
                      NULL);
    H_CHECK_STATUS(w, 200);
    H_CHECK_INT(h_jint(w.json, "totalResults", -1), N_USERS + N_GROUPS);
    H_CHECK_INT(h_jint(w.json, "startIndex", -1), 10);
    H_CHECK_INT(h_jint(w.json, "itemsPerPage", -1), 5);
    for (size_t i = 0; i < 5; i++)
        H_CHECK(json_equal(json_array_get(h_jget(w.json, "Resources"), i), json_array_get(res, 9 + i)));
    h_resp_free(&w);
    /* Past the users: groups only; past everything: empty; count 0: the total. */
    w = h_http(env.g, "POST", "/.search",
               "{\"filter\":\"displayName sw \\\"search\\\"\",\"sortBy\":\"displayName\",\"startIndex\":14}", NULL);
    H_CHECK_INT(h_jint(w.json, "itemsPerPage", -1), 2);
    H_CHECK(json_equal(json_array_get(h_jget(w.json, "Resources"), 0), json_array_get(res, 13)));
    h_resp_free(&w);
    w = h_http(env.g, "POST", "/.search", "{\"filter\":\"displayName sw \\\"search\\\"\",\"startIndex\":16}", NULL);
    H_CHECK(w.status == 200 && h_jint(w.json, "itemsPerPage", -1) == 0 &&
            h_jint(w.json, "totalResults", -1) == N_USERS + N_GROUPS);
    h_resp_free(&w);
    w = h_http(env.g, "POST", "/.search", "{\"count\":0}", NULL);
    H_CHECK(w.status == 200 && h_jint(w.json, "itemsPerPage", -1) == 0 &&
            h_jint(w.json, "totalResults", -1) == N_USERS + 30 + N_GROUPS);
    h_resp_free(&w);

    /* An attribute only Users map: Groups contribute nothing. */
    w = h_http(env.g, "POST", "/.search", "{\"filter\":\"userName sw \\\"search.user.0\\\"\"}", NULL);
    H_CHECK_STATUS(w, 200);
    H_CHECK_INT(h_jint(w.json, "totalResults", -1), 10);
    h_resp_free(&w);
    /* What no type can answer is that type's error. */
    w = h_http(env.g, "POST", "/.search", "{\"filter\":\"userName eq\"}", NULL);
    IT_CHECK_ERROR(w, 400, "invalidFilter");
    h_resp_free(&w);
    w = h_http(env.g, "POST", "/.search", "{\"filter\":\"noSuchAttribute eq \\\"x\\\"\"}", NULL);
    IT_CHECK_ERROR(w, 400, "invalidFilter");
    h_resp_free(&w);
    h_resp_free(&users);
    h_resp_free(&groups);
    h_resp_free(&all);
}

static h_resp as(const char *token, const char *method, const char *path, const char *body)
{
    char auth[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    const char *hdr[] = {auth, NULL};
    return h_http(env.g, method, path, body, hdr);
}

static void test_access(void)
{
    /* A search reads: a read-only credential may. */
    h_resp r = as(READER_TOKEN, "POST", "/Users/.search", "{\"count\":1}");
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    r = as(READER_TOKEN, "POST", "/.search", "{\"count\":1}");
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    /* A Users-only credential: Users, never Groups. */
    r = as(USERS_ONLY_TOKEN, "POST", "/Groups/.search", "{}");
    IT_CHECK_ERROR(r, 403, NULL);
    h_resp_free(&r);
    r = as(USERS_ONLY_TOKEN, "POST", "/.search", "{\"filter\":\"displayName sw \\\"search\\\"\"}");
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(h_jint(r.json, "totalResults", -1), N_USERS);
    const json_t *res = h_jget(r.json, "Resources");
    for (size_t i = 0; i < json_array_size(res); i++)
        H_CHECK_STR(type_of(json_array_get(res, i)), "User");
    h_resp_free(&r);
    /* No credential: 401 before anything. */
    r = as("wrong-token-0123456789abcdef", "POST", "/.search", "{}");
    IT_CHECK_ERROR(r, 401, NULL);
    h_resp_free(&r);
}

static h_resp get_if_none_match(const char *path, const char *inm)
{
    char hdr[256];
    snprintf(hdr, sizeof hdr, "If-None-Match: %s", inm);
    const char *h[] = {hdr, NULL};
    return h_http(env.g, "GET", path, NULL, h);
}

static void test_if_none_match(void)
{
    char *path = it_user_path(user_ids[4]);
    h_resp r = h_http(env.g, "GET", path, NULL, NULL);
    H_CHECK_STATUS(r, 200);
    char *etag = h_header(&r, "ETag") ? strdup(h_header(&r, "ETag")) : NULL;
    H_REQUIRE(etag != NULL && strncmp(etag, "W/\"", 3) == 0);
    H_CHECK_STR(h_jstr(r.json, "meta.version"), etag);
    h_resp_free(&r);

    char list[300];
    snprintf(list, sizeof list, "\"other\", %s", etag + 2); /* a list; the strong form compares weakly */
    const char *matching[] = {etag, list, "*"};
    for (size_t i = 0; i < 3; i++) {
        r = get_if_none_match(path, matching[i]);
        H_CHECK_STATUS(r, 304);
        H_CHECK_STR(h_header(&r, "ETag"), etag);
        H_CHECK_INT(r.body_len, 0);
        h_resp_free(&r);
    }
    r = get_if_none_match(path, "W/\"not-the-version\"");
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "id"), user_ids[4]);
    h_resp_free(&r);

    /* After a change the old version no longer matches. */
    h_resp p = it_patch(env.g, user_ids[4], "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"changed\"}]");
    H_CHECK(p.status == 200 || p.status == 204);
    h_resp_free(&p);
    r = get_if_none_match(path, etag);
    H_CHECK_STATUS(r, 200);
    H_CHECK(h_header(&r, "ETag") && strcmp(h_header(&r, "ETag"), etag) != 0);
    H_CHECK_STR(h_jstr(r.json, "title"), "changed");
    h_resp_free(&r);

    /* "*" does not make a missing resource exist. */
    r = get_if_none_match("/Users/7c9e6679-7425-40de-944b-e07fc1f90ae7", "*");
    IT_CHECK_ERROR(r, 404, NULL);
    h_resp_free(&r);
    free(etag);
    free(path);
}

int main(void)
{
    if (it_env_start(&env, "{\"auth\":{\"credentials\":["
                           "{\"name\":\"reader\",\"kind\":\"bearer\",\"token\":\"" READER_TOKEN "\",\"read_only\":true},"
                           "{\"name\":\"users-only\",\"kind\":\"bearer\",\"token\":\"" USERS_ONLY_TOKEN "\","
                           "\"resource_types\":[\"Users\"]}]}}")) {
        seed();
        test_type_search();
        test_root_search();
        test_access();
        test_if_none_match();
        for (int i = 0; i < N_USERS; i++)
            free(user_ids[i]);
    }
    it_env_stop(&env);
    return H_DONE();
}
