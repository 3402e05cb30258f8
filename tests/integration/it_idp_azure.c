/* it_idp_azure.c — the users of the Azure reference Postman suite
 * (tests/data/idp/azure.json), checked more closely than the suite does:
 * null and [] are "unassigned" (accepted, nothing stored), an other-type
 * email and a second address are kept as JSON next to the typed attributes,
 * a manager that is no user id is kept, a misspelled attribute is kept as
 * sent by the default mapping, and a member's displayName sent in a group
 * PATCH reads back with that member and goes with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_idp_common.h"

static it_env env;

static char *test_omalley(json_t *data)
{
    json_t *body = json_object_get(data, "omalley");
    json_t *got, *e;
    char *id;
    h_resp r = h_http_json(env.g, "POST", "/Users", body);

    H_CHECK_STATUS(r, 201);
    H_REQUIRE(r.status == 201 && h_jstr(r.json, "id") != NULL);
    id = strdup(h_jstr(r.json, "id"));
    IT_CHECK_HOLDS(body, r.json);
    H_CHECK(json_is_true(h_jget(r.json, "active")));
    H_CHECK(h_jget(r.json, "roles") == NULL && h_jget(r.json, "name.honorificPrefix") == NULL);
    h_resp_free(&r);
    got = IT_GET_USER(env.g, id);
    IT_CHECK_HOLDS(body, got);
    json_decref(got);

    e = it_entry_by_id(env.s, id);
    H_REQUIRE(e != NULL);
    H_CHECK_STR(h_ldap_attr(e, "mail"), "anna33@example.com");
    H_CHECK_STR(h_ldap_attr(e, "scimemail"), "{\"value\":\"anna33@gmail.com\",\"primary\":false,\"type\":\"other\"}");
    H_CHECK_STR(h_ldap_attr(e, "co"), "Bermuda");
    H_CHECK(h_ldap_attr(e, "c") == NULL);
    /* Postal Address lines are '$'-separated in LDAP */
    H_CHECK_STR(h_ldap_attr(e, "postaladdress"), "9132 Jennifer Way Suite 040$South Nancy, MI 55645");
    H_CHECK_STR(h_ldap_attr(e, "physicaldeliveryofficename"), "18522 Lisa Unions\nEast Gregory, CT 52311");
    H_CHECK_STR(h_ldap_attr(e, "facsimiletelephonenumber"), "312-320-0500");
    H_CHECK_STR(h_ldap_attr(e, "preferredlanguage"), "xh");
    H_CHECK(h_ldap_attr(e, "scimhonorificprefix") == NULL && h_ldap_attr(e, "scimrole") == NULL);
    H_CHECK(h_ldap_attr(e, "scimkept") == NULL);
    json_decref(e);
    return id;
}

static void test_enterprise(json_t *data)
{
    json_t *body = json_object_get(data, "enterprise");
    json_t *got, *e;
    char *id = IT_CREATE_JSON(env.g, body);

    H_REQUIRE(id != NULL);
    got = IT_GET_USER(env.g, id);
    IT_CHECK_HOLDS(body, got);
    H_CHECK_STR(h_jstr(got, IT_URN_ENT ".manager.value"), "SuzzyQ");
    H_CHECK_STR(h_jstr(got, IT_URN_ENT ".department"), "bob");
    json_decref(got);
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "ou"), "bob");
    H_CHECK_STR(h_ldap_attr(e, "scimhomeemail"), "testinghome@bob3.com");
    H_CHECK_INT(it_nvals(e, "manager"), 0);
    json_decref(e);
    free(id);
}

static void test_put_misspelled(json_t *data, const char *id)
{
    json_t *body = json_object_get(data, "put_misspelled");
    char *path = it_user_path(id);
    h_resp r = h_http_json(env.g, "PUT", path, body);
    json_t *e;

    H_CHECK_STATUS(r, 200);
    IT_CHECK_HOLDS(body, r.json);
    H_CHECK(json_is_false(h_jget(r.json, "active")));
    /* "adreses" is in no schema: the default mapping keeps it as sent ... */
    H_CHECK_STR(h_jstr(r.json, "adreses[0].country"), "Germany");
    /* ... and the addresses the PUT does not name are gone */
    H_CHECK(h_jget(r.json, "addresses") == NULL && h_jget(r.json, "phoneNumbers") == NULL);
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK(h_ldap_attr(e, "co") == NULL && h_ldap_attr(e, "scimemail") == NULL);
    H_CHECK(h_ldap_attr(e, "scimkept") != NULL && strncmp(h_ldap_attr(e, "scimkept"), "{\"adreses\":", 11) == 0);
    H_CHECK_STR(h_ldap_attr(e, "pwdaccountlockedtime"), IT_LOCKED);
    json_decref(e);
    {
        char *line = it_log_line(env.g, "attributes_kept", (const char *const[]){"adreses", NULL});
        H_CHECK(line != NULL);
        free(line);
    }
    free(path);
}

/* The suite's "Patch add user4 to group1" sends {"displayName":"new User",
 * "value":id}: the default mapping keeps it with the member. */
static void test_member_display(const char *uid)
{
    char *dn = it_dn_by_id(env.s, uid);
    char body[512], path[128];
    h_resp r = h_http(env.g, "POST", "/Groups",
                      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"Group1DisplayName\","
                      "\"members\":[]}",
                      NULL);
    json_t *g;

    H_CHECK_STATUS(r, 201);
    H_REQUIRE(r.status == 201 && h_jstr(r.json, "id") != NULL && dn != NULL);
    snprintf(path, sizeof path, "/Groups/%s", h_jstr(r.json, "id"));
    h_resp_free(&r);
    snprintf(body, sizeof body,
             "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":[{\"name\":\"addMember\",\"op\":\"add\","
             "\"path\":\"members\",\"value\":[{\"displayName\":\"new User\",\"value\":\"%s\"}]}]}",
             uid);
    r = h_http(env.g, "PATCH", path, body, NULL);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    r = h_http(env.g, "GET", path, NULL, NULL);
    H_CHECK_STR(h_jstr(r.json, "members[0].value"), uid);
    H_CHECK_STR(h_jstr(r.json, "members[0].displayName"), "new User");
    h_resp_free(&r);
    g = h_ldap_search(env.s, H_GROUPS, "(cn=Group1DisplayName)", NULL);
    H_CHECK(h_ldap_has_value(json_array_get(g, 0), "member", dn, true));
    H_CHECK_INT(it_nvals(json_array_get(g, 0), "scimkept"), 1);
    json_decref(g);

    /* removal takes the kept displayName with it */
    snprintf(body, sizeof body,
             "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":[{\"op\":\"remove\",\"path\":\"members[value eq \\\"%s\\\"]\"}]}",
             uid);
    r = h_http(env.g, "PATCH", path, body, NULL);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    g = h_ldap_search(env.s, H_GROUPS, "(cn=Group1DisplayName)", NULL);
    H_CHECK_INT(it_nvals(json_array_get(g, 0), "scimkept"), 0);
    H_CHECK(!h_ldap_has_value(json_array_get(g, 0), "member", dn, true));
    json_decref(g);
    r = h_http(env.g, "GET", path, NULL, NULL);
    H_CHECK(r.body && strstr(r.body, "new User") == NULL);
    h_resp_free(&r);
    free(dn);
}

int main(void)
{
    json_t *data = it_idp_load("azure");

    if (it_env_start(&env, NULL)) {
        char *id = test_omalley(data);
        test_enterprise(data);
        test_put_misspelled(data, id);
        test_member_display(id);
        free(id);
    }
    it_env_stop(&env);
    json_decref(data);
    return H_DONE();
}
