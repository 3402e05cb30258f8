/* it_users_okta.c — Okta's (and OneLogin's) provisioning of Users, end to end.
 *
 * Okta looks users up with startIndex/count, creates them with a password,
 * `groups: []` and an externalId, updates profiles with PUT (a full replace:
 * attributes left out must disappear from LDAP) and deactivates / changes
 * passwords with a no-path PATCH. OneLogin may send `emails` as an object and
 * the old schema URN. Every write is checked in LDAP directly, and the
 * password by binding with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_users_common.h"

#define OKTA_USER "isabelle.davis@example.com"
#define OKTA_EXT "00ujl29u0le5T6Aj10h7"
#define OKTA_PW "1mz050nQ!okta"
#define OKTA_PW2 "Second-Pass-22"
#define OKTA_PW3 "Third-Pass-333"

static it_env env;

static void test_lookup_empty(void)
{
    char *f = it_eq_filter("userName", OKTA_USER);
    char *path = it_filter_path(f, "startIndex=1&count=100");
    h_resp r = h_http(env.g, "GET", path, NULL, NULL);

    H_CHECK_STATUS(r, 200);
    H_CHECK(it_is_scim_json(&r));
    H_CHECK(json_is_integer(h_jget(r.json, "totalResults")));
    H_CHECK_INT(h_jint(r.json, "totalResults", -1), 0);
    H_CHECK(json_is_integer(h_jget(r.json, "startIndex")));
    H_CHECK_INT(h_jint(r.json, "startIndex", -1), 1);
    H_CHECK(json_is_integer(h_jget(r.json, "itemsPerPage")));
    H_CHECK_INT(h_jint(r.json, "itemsPerPage", -1), 0);
    h_resp_free(&r);
    free(path);
    free(f);
}

static const char create_body[] =
    "{\"schemas\":[\"" IT_URN_USER "\"],"
    "\"userName\":\"" OKTA_USER "\","
    "\"name\":{\"givenName\":\"Isabelle\",\"familyName\":\"Davis\"},"
    "\"emails\":[{\"primary\":true,\"value\":\"isabelle.davis@example.com\",\"type\":\"work\"}],"
    "\"displayName\":\"Isabelle Davis\","
    "\"title\":\"Analyst\","
    "\"phoneNumbers\":[{\"type\":\"work\",\"value\":\"+1 555 0200\"},{\"type\":\"mobile\",\"value\":\"+1 555 0201\"}],"
    "\"addresses\":[{\"type\":\"work\",\"streetAddress\":\"2 Side St\",\"locality\":\"Portland\","
    "\"region\":\"OR\",\"postalCode\":\"97201\",\"country\":\"US\"}],"
    "\"externalId\":\"" OKTA_EXT "\","
    "\"groups\":[],"
    "\"password\":\"" OKTA_PW "\","
    "\"active\":true}";

static char *test_create(void)
{
    h_resp r = h_http(env.g, "POST", "/Users", create_body, NULL);
    char *id = NULL, *dn;
    json_t *e;
    char *before, *after;

    H_CHECK_STATUS(r, 201);
    H_REQUIRE(r.status == 201 && h_jstr(r.json, "id") != NULL);
    /* Okta treats an empty body as an error. */
    H_CHECK(r.body_len > 0);
    id = strdup(h_jstr(r.json, "id"));
    H_REQUIRE(id != NULL);
    H_CHECK(h_header(&r, "Location") != NULL);
    H_CHECK(h_jget(r.json, "password") == NULL);
    H_CHECK(r.body && strstr(r.body, OKTA_PW) == NULL);
    H_CHECK(json_array_size(h_jget(r.json, "groups")) == 0);
    H_CHECK_STR(h_jstr(r.json, "externalId"), OKTA_EXT);
    H_CHECK(h_jstr(r.json, "phoneNumbers[0].value") != NULL);
    h_resp_free(&r);

    e = it_entry_by_id(env.s, id);
    H_REQUIRE(e != NULL);
    H_CHECK(it_dn_is(h_jstr(e, "dn"), "uid", OKTA_USER, H_PEOPLE));
    H_CHECK_STR(h_ldap_attr(e, "cn"), "Isabelle Davis");
    H_CHECK_STR(h_ldap_attr(e, "sn"), "Davis");
    H_CHECK_STR(h_ldap_attr(e, "givenname"), "Isabelle");
    H_CHECK_STR(h_ldap_attr(e, "telephonenumber"), "+1 555 0200");
    H_CHECK_STR(h_ldap_attr(e, "mobile"), "+1 555 0201");
    H_CHECK_STR(h_ldap_attr(e, "street"), "2 Side St");
    H_CHECK_STR(h_ldap_attr(e, "l"), "Portland");
    H_CHECK_STR(h_ldap_attr(e, "st"), "OR");
    H_CHECK_STR(h_ldap_attr(e, "postalcode"), "97201");
    H_CHECK_STR(h_ldap_attr(e, "c"), "US");
    H_CHECK_STR(h_ldap_attr(e, "title"), "Analyst");
    H_CHECK_STR(h_ldap_attr(e, "scimexternalid"), OKTA_EXT);
    H_CHECK(h_ldap_attr(e, "userpassword") != NULL);
    /* Stored, but not as the clear text the IdP sent. */
    H_CHECK(h_ldap_attr(e, "userpassword") && strcmp(h_ldap_attr(e, "userpassword"), OKTA_PW) != 0);
    H_CHECK(h_ldap_attr(e, "pwdaccountlockedtime") == NULL);
    json_decref(e);

    dn = it_dn_by_id(env.s, id);
    H_CHECK(h_ldap_bind_ok(env.s, dn, OKTA_PW));
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, "not-the-password"), LDAP_INVALID_CREDENTIALS);
    free(dn);

    /* Found by the lookup Okta does before every create. */
    {
        char *f = it_eq_filter("userName", OKTA_USER), *got = NULL;

        H_CHECK_INT(IT_LIST_COUNT(env.g, f, &got), 1);
        H_CHECK_STR(got, id);
        free(got);
        free(f);
    }
    /* A second create of the same user: 409, directory unchanged. */
    before = h_ldap_snapshot(env.s);
    r = h_http(env.g, "POST", "/Users", create_body, NULL);
    IT_CHECK_ERROR(r, 409, "uniqueness");
    h_resp_free(&r);
    after = h_ldap_snapshot(env.s);
    H_CHECK(h_snapshot_same(before, after));
    free(before);
    free(after);
    return id;
}

/* PUT body as Okta sends it: the whole profile, with id and meta echoed. */
static h_resp put_user(const char *id, const char *user_name, const char *given, const char *email,
                       const char *password)
{
    json_t *body = json_pack("{s:[s], s:s, s:s, s:s, s:{s:s, s:s}, s:[{s:b, s:s, s:s}], s:b, s:[]}", "schemas",
                             IT_URN_USER, "id", id, "userName", user_name, "externalId", OKTA_EXT, "name",
                             "givenName", given, "familyName", "Davis", "emails", "primary", 1, "value", email,
                             "type", "work", "active", 1, "groups");
    char *path = it_user_path(id);
    h_resp r;

    if (password && body)
        json_object_set_new(body, "password", json_string(password));
    if (body == NULL || path == NULL) {
        memset(&r, 0, sizeof r);
        snprintf(r.err, sizeof r.err, "out of memory");
    } else {
        r = h_http_json(env.g, "PUT", path, body);
    }
    json_decref(body);
    free(path);
    return r;
}

static void test_put(const char *id)
{
    char *dn_before = it_dn_by_id(env.s, id);
    h_resp r;
    json_t *e;
    char *dn;

    H_REQUIRE(dn_before != NULL);
    /* Full replace: displayName, title, phone numbers and the address are not
     * in the body any more, so they must go; the password is write-only and
     * absent, so it stays. */
    r = put_user(id, OKTA_USER, "Isabel", "isabel.davis@example.com", NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK(it_is_scim_json(&r));
    H_CHECK_STR(h_jstr(r.json, "id"), id);
    H_CHECK_STR(h_jstr(r.json, "name.givenName"), "Isabel");
    H_CHECK(h_jget(r.json, "displayName") == NULL);
    H_CHECK(h_jget(r.json, "phoneNumbers") == NULL);
    H_CHECK(h_jget(r.json, "title") == NULL);
    H_CHECK(h_jget(r.json, "addresses") == NULL);
    H_CHECK(h_jget(r.json, "password") == NULL);
    H_CHECK(h_header(&r, "ETag") != NULL);
    h_resp_free(&r);

    e = it_entry_by_id(env.s, id);
    H_REQUIRE(e != NULL);
    H_CHECK_STR(h_jstr(e, "dn"), dn_before);
    H_CHECK_STR(h_ldap_attr(e, "givenname"), "Isabel");
    H_CHECK_STR(h_ldap_attr(e, "cn"), "Isabel Davis");
    H_CHECK_STR(h_ldap_attr(e, "mail"), "isabel.davis@example.com");
    H_CHECK_INT(it_nvals(e, "mail"), 1);
    H_CHECK(h_ldap_attr(e, "displayname") == NULL);
    H_CHECK(h_ldap_attr(e, "title") == NULL);
    H_CHECK(h_ldap_attr(e, "telephonenumber") == NULL);
    H_CHECK(h_ldap_attr(e, "mobile") == NULL);
    H_CHECK(h_ldap_attr(e, "street") == NULL);
    H_CHECK(h_ldap_attr(e, "l") == NULL);
    H_CHECK(h_ldap_attr(e, "postalcode") == NULL);
    H_CHECK_STR(h_ldap_attr(e, "scimexternalid"), OKTA_EXT);
    H_CHECK(h_ldap_attr(e, "userpassword") != NULL);
    json_decref(e);
    H_CHECK(h_ldap_bind_ok(env.s, dn_before, OKTA_PW));

    /* PUT with a password: the new one binds, the old one does not. */
    r = put_user(id, OKTA_USER, "Isabel", "isabel.davis@example.com", OKTA_PW2);
    H_CHECK_STATUS(r, 200);
    H_CHECK(h_jget(r.json, "password") == NULL);
    h_resp_free(&r);
    H_CHECK(h_ldap_bind_ok(env.s, dn_before, OKTA_PW2));
    H_CHECK(!h_ldap_bind_ok(env.s, dn_before, OKTA_PW));

    /* PUT with another userName: a rename, same entry. */
    r = put_user(id, "isabel.davis@example.com", "Isabel", "isabel.davis@example.com", NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "userName"), "isabel.davis@example.com");
    H_CHECK_STR(h_jstr(r.json, "id"), id);
    h_resp_free(&r);
    dn = it_dn_by_id(env.s, id);
    H_CHECK(it_dn_is(dn, "uid", "isabel.davis@example.com", H_PEOPLE));
    {
        json_t *old = h_ldap_entry(env.s, dn_before);

        H_CHECK(old == NULL);
        json_decref(old);
    }
    H_CHECK(dn && h_ldap_bind_ok(env.s, dn, OKTA_PW2));
    free(dn);

    /* PUT on an id that does not exist: 404, nothing written. */
    {
        char *before = h_ldap_snapshot(env.s), *after;

        r = put_user("9b2d7c1e-5a4f-4e3d-8c2b-1a0f9e8d7c6b", "ghost@example.com", "G", "g@example.com", NULL);
        IT_CHECK_ERROR(r, 404, NULL);
        h_resp_free(&r);
        after = h_ldap_snapshot(env.s);
        H_CHECK(h_snapshot_same(before, after));
        free(before);
        free(after);
    }
    free(dn_before);
}

/* Deactivate / reactivate and change the password with no-path PATCHes. */
static void test_patch_nopath(const char *id)
{
    char *dn = it_dn_by_id(env.s, id);
    char *path = it_user_path(id);
    h_resp r;
    json_t *e;

    H_REQUIRE(dn != NULL && path != NULL);
    r = it_patch(env.g, id, "[{\"op\":\"replace\",\"value\":{\"active\":false}}]");
    H_CHECK_STATUS(r, 200);
    H_CHECK(json_is_false(h_jget(r.json, "active")));
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "pwdaccountlockedtime"), IT_LOCKED);
    H_CHECK_STR(h_ldap_attr(e, "givenname"), "Isabel");
    json_decref(e);
    H_CHECK(!h_ldap_bind_ok(env.s, dn, OKTA_PW2));
    r = h_http(env.g, "GET", path, NULL, NULL);
    H_CHECK(json_is_false(h_jget(r.json, "active")));
    h_resp_free(&r);

    r = it_patch(env.g, id, "[{\"op\":\"replace\",\"value\":{\"active\":true}}]");
    H_CHECK_STATUS(r, 200);
    H_CHECK(json_is_true(h_jget(r.json, "active")));
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK(e && h_ldap_attr(e, "pwdaccountlockedtime") == NULL);
    json_decref(e);
    H_CHECK(h_ldap_bind_ok(env.s, dn, OKTA_PW2));

    /* Password change. */
    r = it_patch(env.g, id, "[{\"op\":\"replace\",\"value\":{\"password\":\"" OKTA_PW3 "\"}}]");
    H_CHECK_STATUS(r, 200);
    H_CHECK(h_jget(r.json, "password") == NULL);
    H_CHECK(r.body && strstr(r.body, OKTA_PW3) == NULL);
    h_resp_free(&r);
    H_CHECK(h_ldap_bind_ok(env.s, dn, OKTA_PW3));
    H_CHECK(!h_ldap_bind_ok(env.s, dn, OKTA_PW2));

    /* A deactivated user keeps its password: reactivating restores the login. */
    r = it_patch(env.g, id, "[{\"op\":\"replace\",\"value\":{\"active\":false}}]");
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    H_CHECK(!h_ldap_bind_ok(env.s, dn, OKTA_PW3));
    /* A PUT that says active:true (Okta's reactivation through a profile push). */
    r = put_user(id, "isabel.davis@example.com", "Isabel", "isabel.davis@example.com", NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK(json_is_true(h_jget(r.json, "active")));
    h_resp_free(&r);
    H_CHECK(h_ldap_bind_ok(env.s, dn, OKTA_PW3));
    free(path);
    free(dn);
}

/* Okta creates without a name: cn and sn fall back to the userName. */
static void test_minimal_create(void)
{
    char *id = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"minimal.okta\"}");
    json_t *e = id ? it_entry_by_id(env.s, id) : NULL;

    H_CHECK(e != NULL);
    H_CHECK_STR(h_ldap_attr(e, "cn"), "minimal.okta");
    H_CHECK_STR(h_ldap_attr(e, "sn"), "minimal.okta");
    H_CHECK(h_ldap_attr(e, "userpassword") == NULL);
    json_decref(e);
    /* A password given later, with a path this time. */
    if (id) {
        char *dn = it_dn_by_id(env.s, id);
        h_resp r = it_patch(env.g, id, "[{\"op\":\"add\",\"path\":\"password\",\"value\":\"Minimal-Pass-1\"}]");

        H_CHECK_STATUS(r, 200);
        H_CHECK(h_jget(r.json, "password") == NULL);
        h_resp_free(&r);
        H_CHECK(dn && h_ldap_bind_ok(env.s, dn, "Minimal-Pass-1"));
        free(dn);
    }
    free(id);

    /* A formatted name wins for cn. */
    id = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"formatted.okta\","
                          "\"name\":{\"formatted\":\"Dr. Fran Q. Okta\",\"givenName\":\"Fran\",\"familyName\":\"Okta\"}}");
    e = id ? it_entry_by_id(env.s, id) : NULL;
    H_CHECK_STR(h_ldap_attr(e, "cn"), "Dr. Fran Q. Okta");
    H_CHECK_STR(h_ldap_attr(e, "sn"), "Okta");
    json_decref(e);
    free(id);
}

/* Created inactive (Okta imports / staged users): locked from the start;
 * then PUT with active:false after a reactivation locks it again. */
static void test_inactive(void)
{
    char *id = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"staged.okta\","
                                "\"password\":\"Staged-Pass-1\",\"active\":false}");
    char *dn = id ? it_dn_by_id(env.s, id) : NULL;
    char *path = id ? it_user_path(id) : NULL;
    json_t *e;
    h_resp r;

    H_REQUIRE(dn != NULL && path != NULL);
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "pwdaccountlockedtime"), IT_LOCKED);
    json_decref(e);
    H_CHECK(!h_ldap_bind_ok(env.s, dn, "Staged-Pass-1"));

    r = h_http(env.g, "PUT", path, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"staged.okta\",\"active\":true}",
               NULL);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    H_CHECK(h_ldap_bind_ok(env.s, dn, "Staged-Pass-1"));
    r = h_http(env.g, "PUT", path, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"staged.okta\",\"active\":false}",
               NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK(json_is_false(h_jget(r.json, "active")));
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "pwdaccountlockedtime"), IT_LOCKED);
    json_decref(e);
    H_CHECK(!h_ldap_bind_ok(env.s, dn, "Staged-Pass-1"));
    free(path);
    free(dn);
    free(id);
}

/* OneLogin: old schema URN, emails as an object, lower-case PATCH ops. */
static void test_onelogin(void)
{
    char *id = IT_CREATE(env.g, "{\"schemas\":[\"urn:scim:schemas:core:2.0\"],\"userName\":\"onelogin.user@example.com\","
                                "\"name\":{\"givenName\":\"One\",\"familyName\":\"Login\"},"
                                "\"emails\":{\"value\":\"one.login@example.com\",\"type\":\"work\",\"primary\":true}}");
    json_t *e = id ? it_entry_by_id(env.s, id) : NULL;
    h_resp r;

    H_CHECK(e != NULL);
    H_CHECK_STR(h_ldap_attr(e, "mail"), "one.login@example.com");
    json_decref(e);
    if (id == NULL)
        return;
    r = it_patch(env.g, id, "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"Onboarded\"},"
                            "{\"op\":\"add\",\"path\":\"emails\",\"value\":[{\"value\":\"one.login@example.org\",\"type\":\"work\"}]}]");
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "title"), "Onboarded");
    H_CHECK(h_ldap_has_value(e, "mail", "one.login@example.org", false));
    json_decref(e);
    free(id);
}

int main(void)
{
    char *id;

    if (it_env_start(&env, NULL)) {
        test_lookup_empty();
        id = test_create();
        test_put(id);
        test_patch_nopath(id);
        test_minimal_create();
        test_inactive();
        test_onelogin();
        free(id);
    }
    it_env_stop(&env);
    return H_DONE();
}
