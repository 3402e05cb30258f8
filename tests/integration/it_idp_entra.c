/* it_idp_entra.c — what Microsoft Entra ID sends with its default attribute
 * mappings (tests/data/idp/entra.json), stored and read back whole.
 *
 * A user with the free-text country Entra sends ("United States": kept in co,
 * not refused by c), the enterprise extension with costCenter and division, a
 * manager set and then cleared with ""; the verbose PATCH (capitalised ops,
 * filtered paths, "False"); a group created with Entra's extra schema URN and
 * a member batch holding an id whose create failed. Every step is checked in
 * the response, in a fresh GET and in the LDAP entry itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_idp_common.h"

static it_env env;

static void check_ldap_user(const char *id, const char *country_co, const char *country_c)
{
    json_t *e = it_entry_by_id(env.s, id);

    H_REQUIRE(e != NULL);
    H_CHECK_STR(h_ldap_attr(e, "co"), country_co);
    if (country_c != NULL)
        H_CHECK_STR(h_ldap_attr(e, "c"), country_c);
    else
        H_CHECK(h_ldap_attr(e, "c") == NULL); /* free text is no ISO 3166 code */
    H_CHECK_STR(h_ldap_attr(e, "l"), "San Diego");
    H_CHECK_STR(h_ldap_attr(e, "street"), "9256 Towne Center Dr., Suite 400");
    H_CHECK_STR(h_ldap_attr(e, "postaladdress"), "Building 40");
    H_CHECK_STR(h_ldap_attr(e, "telephonenumber"), "+1 858 555 0110");
    H_CHECK_STR(h_ldap_attr(e, "mobile"), "+1 858 555 0111");
    H_CHECK_STR(h_ldap_attr(e, "facsimiletelephonenumber"), "+1 858 555 0112");
    H_CHECK_STR(h_ldap_attr(e, "employeenumber"), "1001");
    H_CHECK_STR(h_ldap_attr(e, "ou"), "Retail");
    H_CHECK_STR(h_ldap_attr(e, "o"), "Contoso");
    H_CHECK_STR(h_ldap_attr(e, "scimdivision"), "North America");
    H_CHECK_STR(h_ldap_attr(e, "title"), "Marketing Assistant");
    H_CHECK_STR(h_ldap_attr(e, "preferredlanguage"), "en-US");
    /* everything found a home of its own: nothing had to be kept as JSON */
    H_CHECK(h_ldap_attr(e, "scimkept") == NULL);
    json_decref(e);
}

static void test_user(json_t *data)
{
    char *mgr_id = IT_CREATE_JSON(env.g, json_object_get(data, "manager"));
    char *mgr_dn;
    json_t *body, *got, *e;
    char *id, *path;
    h_resp r;

    H_REQUIRE(mgr_id != NULL);
    mgr_dn = it_dn_by_id(env.s, mgr_id);
    body = it_subst(json_object_get(data, "create"), "{manager_id}", mgr_id);

    r = h_http_json(env.g, "POST", "/Users", body);
    H_CHECK_STATUS(r, 201);
    H_REQUIRE(r.status == 201 && h_jstr(r.json, "id") != NULL);
    id = strdup(h_jstr(r.json, "id"));
    IT_CHECK_HOLDS(body, r.json);
    h_resp_free(&r);
    got = IT_GET_USER(env.g, id);
    IT_CHECK_HOLDS(body, got);
    H_CHECK_STR(h_jstr(got, "addresses[0].country"), "United States");
    json_decref(got);
    check_ldap_user(id, "United States", NULL);
    e = it_entry_by_id(env.s, id);
    H_CHECK(h_ldap_has_value(e, "manager", mgr_dn, true));
    H_CHECK_STR(h_ldap_attr(e, "scimcostcenter"), "CC-4010");
    json_decref(e);

    /* Entra's lookups */
    H_CHECK_INT(IT_LIST_COUNT(env.g, "userName eq \"alexw@CONTOSO.example\"", NULL), 1);
    H_CHECK_INT(IT_LIST_COUNT(env.g, "externalId eq \"AlexW\"", NULL), 1);
    H_CHECK_INT(IT_LIST_COUNT(env.g, "addresses.country eq \"United States\"", NULL), 1);
    H_CHECK_INT(IT_LIST_COUNT(env.g, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter eq \"CC-4010\"", NULL), 1);

    /* The verbose PATCH: a free-text country again, costCenter, locale, "False". */
    path = it_user_path(id);
    r = h_http_json(env.g, "PATCH", path, json_object_get(data, "patch_verbose"));
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "externalId"), "AlexW-2");
    H_CHECK_STR(h_jstr(r.json, "addresses[0].country"), "Deutschland");
    H_CHECK_STR(h_jstr(r.json, "locale"), "de-DE");
    H_CHECK(json_is_false(h_jget(r.json, "active")));
    H_CHECK_STR(h_jstr(r.json, IT_URN_ENT ".costCenter"), "CC-5020");
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "co"), "Deutschland");
    H_CHECK(h_ldap_attr(e, "c") == NULL);
    H_CHECK_STR(h_ldap_attr(e, "scimlocale"), "de-DE");
    H_CHECK_STR(h_ldap_attr(e, "scimcostcenter"), "CC-5020");
    H_CHECK_STR(h_ldap_attr(e, "scimexternalid"), "AlexW-2");
    H_CHECK_STR(h_ldap_attr(e, "pwdaccountlockedtime"), IT_LOCKED);
    /* untouched by the PATCH */
    H_CHECK_STR(h_ldap_attr(e, "l"), "San Diego");
    H_CHECK_STR(h_ldap_attr(e, "scimdivision"), "North America");
    json_decref(e);

    /* An ISO code goes to c as well. */
    r = h_http_json(env.g, "PATCH", path, json_object_get(data, "patch_country_iso"));
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "addresses[0].country"), "DE");
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "co"), "DE");
    H_CHECK_STR(h_ldap_attr(e, "c"), "DE");
    json_decref(e);

    /* manager "": removed */
    r = h_http_json(env.g, "PATCH", path, json_object_get(data, "patch_manager_empty"));
    H_CHECK_STATUS(r, 200);
    H_CHECK(h_jget(r.json, IT_URN_ENT ".manager") == NULL);
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK_INT(it_nvals(e, "manager"), 0);
    json_decref(e);

    /* A full replacement with the create payload puts everything back. */
    json_object_set_new(body, "active", json_true());
    r = h_http_json(env.g, "PUT", path, body);
    H_CHECK_STATUS(r, 200);
    IT_CHECK_HOLDS(body, r.json);
    H_CHECK(h_jget(r.json, "locale") == NULL);
    h_resp_free(&r);
    check_ldap_user(id, "United States", NULL);
    e = it_entry_by_id(env.s, id);
    H_CHECK(h_ldap_attr(e, "scimlocale") == NULL);
    H_CHECK(h_ldap_attr(e, "pwdaccountlockedtime") == NULL);
    H_CHECK(h_ldap_has_value(e, "manager", mgr_dn, true));
    json_decref(e);

    free(path);
    json_decref(body);
    free(id);
    free(mgr_id);
    free(mgr_dn);
}

/* Group create with Entra's ADSCIM URN, then a member batch with an id that
 * never resolved: the known ones go in, the answer is 204, one log line. */
static void test_group(void)
{
    char *u1 = IT_CREATE(env.g, "{\"userName\":\"g.one@contoso.example\"}");
    char *u2 = IT_CREATE(env.g, "{\"userName\":\"g.two@contoso.example\"}");
    char *u1_dn = it_dn_by_id(env.s, u1 ? u1 : ""), *u2_dn = it_dn_by_id(env.s, u2 ? u2 : "");
    const char *ghost = "0c4e5f63-1c0b-4c7e-9d9b-6b7f0e2a9c01";
    char body[1024], path[128];
    char *line;
    h_resp r;
    json_t *e;

    H_REQUIRE(u1 && u2 && u1_dn && u2_dn);
    r = h_http(env.g, "POST", "/Groups",
               "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\","
               "\"http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group\"],"
               "\"externalId\":\"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159\",\"displayName\":\"Entra Marketing\","
               "\"members\":[]}",
               NULL);
    H_CHECK_STATUS(r, 201);
    H_REQUIRE(r.status == 201 && h_jstr(r.json, "id") != NULL);
    snprintf(path, sizeof path, "/Groups/%s", h_jstr(r.json, "id"));
    h_resp_free(&r);

    snprintf(body, sizeof body,
             "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":[{\"op\":\"Add\",\"path\":\"members\","
             "\"value\":[{\"$ref\":null,\"value\":\"%s\"},{\"$ref\":null,\"value\":\"%s\"},"
             "{\"$ref\":null,\"value\":\"%s\"}]}]}",
             u1, ghost, u2);
    r = h_http(env.g, "PATCH", path, body, NULL);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    e = h_ldap_search(env.s, H_GROUPS, "(cn=Entra Marketing)", NULL);
    H_CHECK_INT(json_array_size(e), 1);
    H_CHECK(h_ldap_has_value(json_array_get(e, 0), "member", u1_dn, true));
    H_CHECK(h_ldap_has_value(json_array_get(e, 0), "member", u2_dn, true));
    H_CHECK_INT(it_nvals(json_array_get(e, 0), "member"), 2);
    json_decref(e);
    line = it_log_line(env.g, "members_skipped", (const char *const[]){ghost, "resource=Group", NULL});
    H_CHECK(line != NULL && strstr(line, " warn ") != NULL && strstr(line, "req=") != NULL);
    H_CHECK_INT(it_log_num(line, "count"), 1);
    H_CHECK(it_log_num(line, "total") >= 1);
    free(line);
    /* Entra retries the same batch: the same answer, nothing new */
    r = h_http(env.g, "PATCH", path, body, NULL);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);

    /* Entra's lookup; the extra schema URN was kept and reads back */
    r = h_http(env.g, "GET", "/Groups?excludedAttributes=members&filter=displayName%20eq%20%22Entra%20Marketing%22",
               NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(h_jint(r.json, "totalResults", -1), 1);
    H_CHECK(h_jget(r.json, "Resources[0].members") == NULL);
    h_resp_free(&r);
    r = h_http(env.g, "GET", path, NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "schemas[1]"), "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group");
    H_CHECK_INT(json_array_size(h_jget(r.json, "members")), 2);
    h_resp_free(&r);
    free(u1);
    free(u2);
    free(u1_dn);
    free(u2_dn);
}

int main(void)
{
    json_t *data = it_idp_load("entra");

    if (it_env_start(&env, NULL)) {
        test_user(data);
        test_group();
    }
    it_env_stop(&env);
    json_decref(data);
    return H_DONE();
}
