/* it_bulk.c — POST /Bulk (RFC 7644 §3.7) on a real slapd: bulkId references
 * (a group whose members and a user whose manager were created earlier in the
 * same request, also when the group comes first; "bulkId:x" in a path and a
 * PATCH filter), failOnErrors, circular and unknown references, version as
 * If-Match, the limits advertised in /ServiceProviderConfig and enforced
 * (413), and the caller's access applied to every operation. The LDAP
 * entries are checked directly. The gateway runs with bulk_max_operations 6
 * and bulk_max_payload_bytes 8192.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_users_common.h"

#define READER_TOKEN "reader-token-0123456789abcdef"
#define BR "\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:BulkRequest\"]"
#define URN_GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"

static it_env env;

/* Whether text holds needle (either may be missing). */
static bool contains(const char *text, const char *needle)
{
    return text && needle && strstr(text, needle) != NULL;
}

static h_resp bulk(const char *body)
{
    return h_http(env.g, "POST", "/Bulk", body, NULL);
}

/* The BulkResponse item of operation i, checked for shape. */
static const json_t *item(const h_resp *r, size_t i)
{
    const json_t *ops = h_jget(r->json, "Operations");
    const json_t *it = json_array_get(ops, i);
    h_check_(it != NULL, __FILE__, __LINE__, "no result %zu: %.500s", i, r->body);
    return it;
}

static const char *status_of(const h_resp *r, size_t i)
{
    return h_jstr(item(r, i), "status");
}

static char *id_from_location(const char *loc)
{
    const char *slash = loc ? strrchr(loc, '/') : NULL;
    return slash ? strdup(slash + 1) : NULL;
}

static void check_response_shape(const h_resp *r, size_t n)
{
    H_CHECK_STATUS(*r, 200);
    H_CHECK_STR(h_jstr(r->json, "schemas[0]"), "urn:ietf:params:scim:api:messages:2.0:BulkResponse");
    H_CHECK_INT(json_array_size(h_jget(r->json, "Operations")), n);
}

static void test_references(void)
{
    /* The group comes first and names users created after it: it waits. */
    h_resp r = bulk("{" BR ",\"Operations\":["
                    "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"team\",\"data\":{\"schemas\":[\"" URN_GROUP "\"],"
                    "\"displayName\":\"bulk team\",\"members\":[{\"value\":\"bulkId:alice\"},{\"value\":\"bulkId:bob\"}]}},"
                    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"alice\",\"data\":{\"schemas\":[\"" IT_URN_USER "\"],"
                    "\"userName\":\"bulk.alice\"}},"
                    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"bob\",\"data\":{\"schemas\":[\"" IT_URN_USER "\",\""
                    IT_URN_ENT "\"],\"userName\":\"bulk.bob\",\"" IT_URN_ENT "\":{\"manager\":{\"value\":\"bulkId:alice\"}}}},"
                    "{\"method\":\"PATCH\",\"path\":\"/Groups/bulkId:team\",\"data\":{\"schemas\":[\"" IT_URN_PATCH "\"],"
                    "\"Operations\":[{\"op\":\"remove\",\"path\":\"members[value eq \\\"bulkId:bob\\\"]\"}]}}"
                    "]}");
    check_response_shape(&r, 4);
    /* Run order: alice, bob, the group, the PATCH. */
    H_CHECK_STR(h_jstr(item(&r, 0), "bulkId"), "alice");
    H_CHECK_STR(h_jstr(item(&r, 1), "bulkId"), "bob");
    H_CHECK_STR(h_jstr(item(&r, 2), "bulkId"), "team");
    H_CHECK_STR(h_jstr(item(&r, 3), "method"), "PATCH");
    for (size_t i = 0; i < 3; i++) {
        H_CHECK_STR(status_of(&r, i), "201");
        H_CHECK_STR(h_jstr(item(&r, i), "method"), "POST");
        H_CHECK(h_jstr(item(&r, i), "location") && strncmp(h_jstr(item(&r, i), "location"), h_gw_base_url(env.g),
                                                           strlen(h_gw_base_url(env.g))) == 0);
        H_CHECK(h_jstr(item(&r, i), "version") != NULL);
        H_CHECK(h_jget(item(&r, i), "response") == NULL);
    }
    H_CHECK(strcmp(status_of(&r, 3), "200") == 0 || strcmp(status_of(&r, 3), "204") == 0);
    char *alice = id_from_location(h_jstr(item(&r, 0), "location"));
    char *group = id_from_location(h_jstr(item(&r, 2), "location"));
    H_CHECK(contains(h_jstr(item(&r, 3), "location"), group));
    h_resp_free(&r);

    /* In LDAP: bob's manager is alice; the group holds alice only (bob was removed by the PATCH). */
    char *alice_dn = it_dn_by_id(env.s, alice);
    json_t *bob = h_ldap_entry(env.s, "uid=bulk.bob," H_PEOPLE);
    H_REQUIRE(alice_dn && bob);
    H_CHECK(h_ldap_has_value(bob, "manager", alice_dn, true));
    json_t *g = h_ldap_entry(env.s, "cn=bulk team," H_GROUPS);
    H_REQUIRE(g != NULL);
    H_CHECK(h_ldap_has_value(g, "member", alice_dn, true));
    H_CHECK(!h_ldap_has_value(g, "member", "uid=bulk.bob," H_PEOPLE, true));
    H_CHECK_STR(h_ldap_attr(g, "entryuuid"), group);
    json_decref(g);
    json_decref(bob);
    free(alice_dn);

    /* version is If-Match: a stale one is 412, the current one works; DELETE by path. */
    char body[2048];
    snprintf(body, sizeof body,
             "{\"Operations\":[{\"method\":\"PUT\",\"path\":\"/Users/%s\",\"version\":\"W/\\\"stale\\\"\","
             "\"data\":{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"bulk.alice\",\"title\":\"x\"}},"
             "{\"method\":\"DELETE\",\"path\":\"/Groups/%s\"}]}",
             alice, group);
    r = bulk(body);
    check_response_shape(&r, 2);
    H_CHECK_STR(status_of(&r, 0), "412");
    H_CHECK_STR(h_jstr(item(&r, 0), "response.status"), "412");
    H_CHECK(h_jstr(item(&r, 0), "location") != NULL); /* a failed PUT still names its resource */
    H_CHECK_STR(status_of(&r, 1), "204");
    h_resp_free(&r);
    H_CHECK(h_ldap_entry(env.s, "cn=bulk team," H_GROUPS) == NULL);
    json_t *a = h_ldap_entry(env.s, "uid=bulk.alice," H_PEOPLE);
    H_CHECK(a && h_ldap_attr(a, "title") == NULL);
    json_decref(a);
    free(alice);
    free(group);
}

static void test_fail_on_errors(void)
{
    /* Without failOnErrors every operation runs; errors are per operation. */
    h_resp r = bulk("{\"Operations\":["
                    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"dup\",\"data\":{\"userName\":\"bulk.alice\"}},"
                    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"c\",\"data\":{\"userName\":\"bulk.carol\"}},"
                    "{\"method\":\"POST\",\"path\":\"/Groups\",\"data\":{\"displayName\":\"bulk dup group\","
                    "\"members\":[{\"value\":\"bulkId:dup\"}]}},"
                    "{\"method\":\"DELETE\",\"path\":\"/Users/7c9e6679-7425-40de-944b-e07fc1f90ae7\"}]}");
    check_response_shape(&r, 4);
    H_CHECK_STR(status_of(&r, 0), "409");
    H_CHECK_STR(h_jstr(item(&r, 0), "response.scimType"), "uniqueness");
    H_CHECK(h_jstr(item(&r, 0), "location") == NULL); /* a failed POST has none */
    H_CHECK_STR(status_of(&r, 1), "201");
    /* Its member was never created: the reference does not resolve. */
    H_CHECK_STR(status_of(&r, 2), "409");
    H_CHECK(contains(h_jstr(item(&r, 2), "response.detail"), "dup"));
    H_CHECK_STR(status_of(&r, 3), "404");
    h_resp_free(&r);
    H_CHECK(h_ldap_entry(env.s, "cn=bulk dup group," H_GROUPS) == NULL);
    json_t *carol = h_ldap_entry(env.s, "uid=bulk.carol," H_PEOPLE);
    H_CHECK(carol != NULL);
    json_decref(carol);

    /* failOnErrors 1: the first error stops the rest, which never run. */
    char *before = h_ldap_snapshot(env.s);
    r = bulk("{" BR ",\"failOnErrors\":1,\"Operations\":["
             "{\"method\":\"POST\",\"path\":\"/Users\",\"data\":{\"userName\":\"bulk.carol\"}},"
             "{\"method\":\"POST\",\"path\":\"/Users\",\"data\":{\"userName\":\"bulk.dave\"}}]}");
    check_response_shape(&r, 1);
    H_CHECK_STR(status_of(&r, 0), "409");
    h_resp_free(&r);
    char *after = h_ldap_snapshot(env.s);
    H_CHECK(h_snapshot_same(before, after));
    free(after);
    /* failOnErrors 2: runs on after the first error, stops at the second. */
    r = bulk("{\"failOnErrors\":2,\"Operations\":["
             "{\"method\":\"POST\",\"path\":\"/Users\",\"data\":{\"userName\":\"bulk.carol\"}},"
             "{\"method\":\"POST\",\"path\":\"/Users\",\"data\":{\"userName\":\"bulk.dave\"}},"
             "{\"method\":\"PATCH\",\"path\":\"/Users/not-an-id\",\"data\":{\"Operations\":[]}},"
             "{\"method\":\"POST\",\"path\":\"/Users\",\"data\":{\"userName\":\"bulk.erin\"}}]}");
    check_response_shape(&r, 3);
    H_CHECK_STR(status_of(&r, 1), "201");
    H_CHECK_STR(status_of(&r, 2), "404");
    h_resp_free(&r);
    json_t *e = h_ldap_entry(env.s, "uid=bulk.dave," H_PEOPLE);
    H_CHECK(e != NULL);
    json_decref(e);
    H_CHECK(h_ldap_entry(env.s, "uid=bulk.erin," H_PEOPLE) == NULL);
    free(before);
}

static void test_circular_and_unknown(void)
{
    char *before = h_ldap_snapshot(env.s);
    h_resp r = bulk("{" BR ",\"Operations\":["
                    "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"g1\",\"data\":{\"displayName\":\"bulk g1\","
                    "\"members\":[{\"value\":\"bulkId:g2\"}]}},"
                    "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"g2\",\"data\":{\"displayName\":\"bulk g2\","
                    "\"members\":[{\"value\":\"bulkId:g1\"}]}},"
                    "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"me\",\"data\":{\"displayName\":\"bulk me\","
                    "\"members\":[{\"value\":\"bulkId:me\"}]}},"
                    "{\"method\":\"PATCH\",\"path\":\"/Groups/bulkId:nobody\",\"data\":{\"Operations\":[]}},"
                    "{\"method\":\"GET\",\"path\":\"/Users\"}]}");
    check_response_shape(&r, 5);
    /* The two that can run come first (the unknown reference, the bad method), then the cycle. */
    H_CHECK_STR(status_of(&r, 0), "400");
    H_CHECK(contains(h_jstr(item(&r, 0), "response.detail"), "nobody"));
    H_CHECK_STR(status_of(&r, 1), "400");
    for (size_t i = 2; i < 5; i++) {
        H_CHECK_STR(status_of(&r, i), "409");
        H_CHECK(contains(h_jstr(item(&r, i), "response.detail"), "circular"));
    }
    h_resp_free(&r);
    char *after = h_ldap_snapshot(env.s);
    H_CHECK(h_snapshot_same(before, after));
    free(before);
    free(after);
}

static void test_limits(void)
{
    h_resp spc = h_http(env.g, "GET", "/ServiceProviderConfig", NULL, NULL);
    H_CHECK(json_is_true(h_jget(spc.json, "bulk.supported")));
    H_CHECK_INT(h_jint(spc.json, "bulk.maxOperations", -1), 6);
    H_CHECK_INT(h_jint(spc.json, "bulk.maxPayloadSize", -1), 8192);
    h_resp_free(&spc);

    char *before = h_ldap_snapshot(env.s);
    /* 7 operations > maxOperations 6. */
    char body[16384];
    size_t n = (size_t)snprintf(body, sizeof body, "{" BR ",\"Operations\":[");
    for (int i = 0; i < 7; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "%s{\"method\":\"POST\",\"path\":\"/Users\",\"data\":"
                                                         "{\"userName\":\"bulk.limit.%d\"}}", i ? "," : "", i);
    snprintf(body + n, sizeof body - n, "]}");
    h_resp r = bulk(body);
    IT_CHECK_ERROR(r, 413, NULL);
    H_CHECK(contains(h_jstr(r.json, "detail"), "maxOperations"));
    h_resp_free(&r);
    /* A body larger than maxPayloadSize 8192 (but below max_body_bytes). */
    n = (size_t)snprintf(body, sizeof body, "{\"Operations\":[{\"method\":\"POST\",\"path\":\"/Users\",\"data\":"
                                           "{\"userName\":\"bulk.big\",\"title\":\"");
    while (n < 9000)
        body[n++] = 'x';
    snprintf(body + n, sizeof body - n, "\"}}]}");
    r = bulk(body);
    IT_CHECK_ERROR(r, 413, NULL);
    H_CHECK(contains(h_jstr(r.json, "detail"), "maxPayloadSize"));
    h_resp_free(&r);
    char *after = h_ldap_snapshot(env.s);
    H_CHECK(h_snapshot_same(before, after));
    free(after);
    free(before);

    /* Not a BulkRequest. */
    r = bulk("{\"Operations\":7}");
    IT_CHECK_ERROR(r, 400, "invalidSyntax");
    h_resp_free(&r);
    r = bulk("{nope");
    IT_CHECK_ERROR(r, 400, "invalidSyntax");
    h_resp_free(&r);
    const char *ct[] = {"Content-Type: text/plain", NULL};
    r = h_http(env.g, "POST", "/Bulk", "{\"Operations\":[]}", ct);
    IT_CHECK_ERROR(r, 415, NULL);
    h_resp_free(&r);
    r = h_http(env.g, "GET", "/Bulk", NULL, NULL);
    IT_CHECK_ERROR(r, 405, NULL);
    h_resp_free(&r);
    r = bulk("{\"Operations\":[]}");
    check_response_shape(&r, 0);
    h_resp_free(&r);
}

/* Each operation is checked against the caller's credential: a read-only
 * one gets 403 for every write, and nothing changes. */
static void test_access(void)
{
    char *before = h_ldap_snapshot(env.s);
    const char *hdr[] = {"Authorization: Bearer " READER_TOKEN, NULL};
    h_resp r = h_http(env.g, "POST", "/Bulk",
                      "{\"Operations\":[{\"method\":\"POST\",\"path\":\"/Users\",\"data\":{\"userName\":\"bulk.ro\"}},"
                      "{\"method\":\"DELETE\",\"path\":\"/Users/7c9e6679-7425-40de-944b-e07fc1f90ae7\"}]}",
                      hdr);
    check_response_shape(&r, 2);
    H_CHECK_STR(status_of(&r, 0), "403");
    H_CHECK_STR(status_of(&r, 1), "403");
    h_resp_free(&r);
    char *after = h_ldap_snapshot(env.s);
    H_CHECK(h_snapshot_same(before, after));
    free(before);
    free(after);
    const char *bad[] = {"Authorization: Bearer wrong-token-0123456789", NULL};
    r = h_http(env.g, "POST", "/Bulk", "{\"Operations\":[]}", bad);
    IT_CHECK_ERROR(r, 401, NULL);
    h_resp_free(&r);
}

int main(void)
{
    if (it_env_start(&env, "{\"limits\":{\"bulk_max_operations\":6,\"bulk_max_payload_bytes\":8192},"
                           "\"auth\":{\"credentials\":[{\"name\":\"reader\",\"kind\":\"bearer\",\"token\":\""
                           READER_TOKEN "\",\"read_only\":true}]}}")) {
        test_references();
        test_fail_on_errors();
        test_circular_and_unknown();
        test_limits();
        test_access();
    }
    it_env_stop(&env);
    return H_DONE();
}
