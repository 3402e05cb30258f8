/* it_users_entra.c — Microsoft Entra ID's provisioning of Users, end to end.
 *
 * Follows the Entra SCIM validator's checklist (docs/IDP-QUIRKS.md) against a
 * private slapd and the real gateway: Test Connection probe, create, duplicate,
 * matching by userName / externalId (URL-encoded the way Entra sends it), the
 * verbose PATCH shapes (capitalised ops, "True"/"False" strings, dotted and URN
 * keys in a no-path value, filtered paths), disable / enable (the ppolicy lock
 * really stops binds), manager add / replace / remove in every value form,
 * rename (DN changes, id stays) and delete (twice). After every write the
 * entry is read from LDAP directly, not through the gateway.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_users_common.h"

#define USER_NAME "Test_User_4f3c7a1e@contoso.example"
#define USER_NAME_UPPER "TEST_USER_4F3C7A1E@CONTOSO.EXAMPLE"
#define EXTERNAL_ID "0a21f0f2-8d2a-4f8e-bf98-7850c2cfb3e4"
#define USER_PW "Entra-Pass-1"

static it_env env;

/* Entra's Test Connection: a random GUID that matches nobody. */
static void test_connection_probe(void)
{
    static const char *const attrs[] = {"userName", "externalId"};

    for (size_t i = 0; i < 2; i++) {
        char *f = it_eq_filter(attrs[i], "6f1c2e9a-33b5-4a57-9a7e-0c3b0d6f1e42");
        char *path = it_filter_path(f, NULL);
        h_resp r = h_http(env.g, "GET", path, NULL, (const char *const[]){"ADSCIMVersion: 2.0", NULL});

        H_CHECK_STATUS(r, 200);
        H_CHECK(it_is_scim_json(&r));
        H_CHECK(r.json && json_is_integer(h_jget(r.json, "totalResults")));
        H_CHECK_INT(h_jint(r.json, "totalResults", -1), 0);
        H_CHECK(r.json && json_array_size(h_jget(r.json, "Resources")) == 0);
        H_CHECK(r.json && json_is_string(h_jget(r.json, "schemas[0]")) &&
                strcmp(h_jstr(r.json, "schemas[0]"), IT_URN_LIST) == 0);
        h_resp_free(&r);
        free(path);
        free(f);
    }
}

static const char create_body[] =
    "{\"schemas\":[\"" IT_URN_USER "\",\"" IT_URN_ENT "\"],"
    "\"externalId\":\"" EXTERNAL_ID "\","
    "\"userName\":\"" USER_NAME "\","
    "\"active\":true,"
    "\"displayName\":\"Test User\","
    "\"emails\":[{\"primary\":true,\"type\":\"work\",\"value\":\"test.user@contoso.example\"}],"
    "\"meta\":{\"resourceType\":\"User\"},"
    "\"name\":{\"formatted\":\"Test User\",\"familyName\":\"User\",\"givenName\":\"Test\"},"
    "\"" IT_URN_ENT "\":{\"employeeNumber\":\"1001\",\"department\":\"Sales\","
    "\"organization\":\"Contoso\"}}";

static char *test_create(void)
{
    h_resp r = h_http(env.g, "POST", "/Users", create_body, NULL);
    const char *id, *loc, *etag, *version;
    char *out = NULL;
    json_t *e;

    H_CHECK_STATUS(r, 201);
    H_REQUIRE(r.status == 201 && r.json != NULL);
    H_CHECK(it_is_scim_json(&r));
    id = h_jstr(r.json, "id");
    H_REQUIRE(id != NULL);
    out = strdup(id);
    H_REQUIRE(out != NULL);
    loc = h_header(&r, "Location");
    H_CHECK(loc != NULL);
    H_CHECK_STR(loc, h_jstr(r.json, "meta.location"));
    H_CHECK(loc && strlen(loc) > strlen(id) && strcmp(loc + strlen(loc) - strlen(id), id) == 0);
    etag = h_header(&r, "ETag");
    version = h_jstr(r.json, "meta.version");
    H_CHECK(etag != NULL && version != NULL);
    H_CHECK_STR(etag, version);
    H_CHECK_STR(h_jstr(r.json, "meta.resourceType"), "User");
    H_CHECK(h_jstr(r.json, "meta.created") != NULL);
    H_CHECK_STR(h_jstr(r.json, "userName"), USER_NAME);
    H_CHECK_STR(h_jstr(r.json, "externalId"), EXTERNAL_ID);
    H_CHECK_STR(h_jstr(r.json, "emails[0].value"), "test.user@contoso.example");
    H_CHECK_STR(h_jstr(r.json, "name.givenName"), "Test");
    H_CHECK_STR(h_jstr(r.json, IT_URN_ENT ".employeeNumber"), "1001");
    H_CHECK(json_is_true(h_jget(r.json, "active")));
    H_CHECK(h_jget(r.json, "password") == NULL);
    h_resp_free(&r);

    /* What landed in the directory. */
    e = it_entry_by_id(env.s, out);
    H_REQUIRE(e != NULL);
    H_CHECK(it_dn_is(h_jstr(e, "dn"), "uid", USER_NAME, H_PEOPLE));
    H_CHECK(h_ldap_has_value(e, "objectclass", "inetOrgPerson", true));
    H_CHECK_STR(h_ldap_attr(e, "uid"), USER_NAME);
    H_CHECK_STR(h_ldap_attr(e, "cn"), "Test User");
    H_CHECK_STR(h_ldap_attr(e, "sn"), "User");
    H_CHECK_STR(h_ldap_attr(e, "givenname"), "Test");
    H_CHECK_STR(h_ldap_attr(e, "displayname"), "Test User");
    H_CHECK_STR(h_ldap_attr(e, "mail"), "test.user@contoso.example");
    H_CHECK_INT(it_nvals(e, "mail"), 1);
    H_CHECK_STR(h_ldap_attr(e, "employeenumber"), "1001");
    H_CHECK_STR(h_ldap_attr(e, "ou"), "Sales");
    H_CHECK_STR(h_ldap_attr(e, "o"), "Contoso");
    H_CHECK_STR(h_ldap_attr(e, "scimexternalid"), EXTERNAL_ID);
    H_CHECK(h_ldap_attr(e, "pwdaccountlockedtime") == NULL);
    json_decref(e);
    return out;
}

/* Same userName, exactly and in another case: 409 uniqueness, nothing written. */
static void test_duplicate(void)
{
    char *before = h_ldap_snapshot(env.s);
    static const char *const names[] = {USER_NAME, USER_NAME_UPPER};

    for (size_t i = 0; i < 2; i++) {
        json_t *body = json_loads(create_body, 0, NULL);
        h_resp r;
        char *after;

        H_REQUIRE(body != NULL);
        json_object_set_new(body, "userName", json_string(names[i]));
        json_object_set_new(body, "externalId", json_string("another-external-id"));
        r = h_http_json(env.g, "POST", "/Users", body);
        IT_CHECK_ERROR(r, 409, "uniqueness");
        h_resp_free(&r);
        json_decref(body);
        after = h_ldap_snapshot(env.s);
        H_CHECK(h_snapshot_same(before, after));
        free(after);
    }
    free(before);
}

static void test_get(const char *id)
{
    char *path = it_user_path(id);
    char lower[128];
    h_resp r = h_http(env.g, "GET", path, NULL, NULL);

    H_CHECK_STATUS(r, 200);
    H_CHECK(it_is_scim_json(&r));
    H_CHECK_STR(h_jstr(r.json, "id"), id);
    H_CHECK_STR(h_jstr(r.json, "userName"), USER_NAME);
    H_CHECK(h_header(&r, "ETag") != NULL);
    H_CHECK_STR(h_header(&r, "ETag"), h_jstr(r.json, "meta.version"));
    h_resp_free(&r);

    /* Resource names are case-insensitive. */
    snprintf(lower, sizeof lower, "/users/%s", id);
    r = h_http(env.g, "GET", lower, NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "id"), id);
    h_resp_free(&r);
    free(path);
}

/* Matching: userName (any case), externalId, and the raw form Entra puts on
 * the wire: '+' for spaces, literal quotes, the '@' percent-encoded. */
static void test_match(const char *id)
{
    struct {
        const char *attr, *value;
    } cases[] = {
        {"userName", USER_NAME},
        {"userName", USER_NAME_UPPER},
        {"username", USER_NAME},
        {"externalId", EXTERNAL_ID},
    };
    static const char *const raw[] = {
        "/Users?filter=userName+eq+\"Test_User_4f3c7a1e%40contoso.example\"",
        "/Users?filter=userName+eq+%22test_user_4f3c7a1e%40contoso.example%22",
        "/Users?filter=externalId+eq+\"" EXTERNAL_ID "\"",
        "/Users?filter=userName%20eq%20%22Test_User_4f3c7a1e%40contoso.example%22&startIndex=1&count=100",
        /* A parameter without "=value" (valid in a URI query; Entra's
         * aadOptscim062020 tenant-URL flag has this shape) is ignored like
         * any unknown parameter. */
        "/Users?aadOptscim062020&filter=userName+eq+%22Test_User_4f3c7a1e%40contoso.example%22",
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *f = it_eq_filter(cases[i].attr, cases[i].value);
        char *got = NULL;

        H_CHECK_INT(IT_LIST_COUNT(env.g, f, &got), 1);
        H_CHECK_STR(got, id);
        free(got);
        free(f);
    }
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        h_resp r = h_http(env.g, "GET", raw[i], NULL, NULL);

        H_CHECK_STATUS(r, 200);
        H_CHECK_INT(h_jint(r.json, "totalResults", -1), 1);
        H_CHECK_STR(h_jstr(r.json, "Resources[0].id"), id);
        h_resp_free(&r);
    }
    {
        char *got = NULL;

        H_CHECK_INT(IT_LIST_COUNT(env.g, "userName eq \"Test_User_4f3c7a1e@contoso.example.nope\"", &got), 0);
        H_CHECK(got == NULL);
    }
}

/* The "patch replace attributes verbose" test of Entra's validator, with
 * filtered paths that create the values they name. One LDAP modify. */
static void test_patch_verbose(const char *id)
{
    static const char ops[] =
        "[{\"op\":\"Replace\",\"path\":\"displayName\",\"value\":\"Dana Example\"},"
        "{\"op\":\"Replace\",\"path\":\"emails[type eq \\\"work\\\"].value\",\"value\":\"dana@contoso.example\"},"
        "{\"op\":\"Replace\",\"path\":\"name.givenName\",\"value\":\"Dana\"},"
        "{\"op\":\"Replace\",\"path\":\"name.familyName\",\"value\":\"Example\"},"
        "{\"op\":\"Replace\",\"path\":\"name.formatted\",\"value\":\"Dana Example\"},"
        "{\"op\":\"Add\",\"path\":\"phoneNumbers[type eq \\\"work\\\"].value\",\"value\":\"+1 555 0100\"},"
        "{\"op\":\"Add\",\"path\":\"phoneNumbers[type eq \\\"mobile\\\"].value\",\"value\":\"+1 555 0101\"},"
        "{\"op\":\"Add\",\"path\":\"phoneNumbers[type eq \\\"fax\\\"].value\",\"value\":\"+1 555 0102\"},"
        "{\"op\":\"Replace\",\"path\":\"addresses[type eq \\\"work\\\"].streetAddress\",\"value\":\"1 Main St\"},"
        "{\"op\":\"Replace\",\"path\":\"addresses[type eq \\\"work\\\"].locality\",\"value\":\"Springfield\"},"
        "{\"op\":\"Replace\",\"path\":\"addresses[type eq \\\"work\\\"].region\",\"value\":\"IL\"},"
        "{\"op\":\"Replace\",\"path\":\"addresses[type eq \\\"work\\\"].postalCode\",\"value\":\"62701\"},"
        "{\"op\":\"Replace\",\"path\":\"addresses[type eq \\\"work\\\"].country\",\"value\":\"US\"},"
        "{\"op\":\"Replace\",\"path\":\"" IT_URN_ENT ":employeeNumber\",\"value\":\"E-2002\"},"
        "{\"op\":\"Replace\",\"path\":\"" IT_URN_ENT ":department\",\"value\":\"Engineering\"},"
        "{\"op\":\"Add\",\"path\":\"title\",\"value\":\"Engineer\"},"
        "{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"True\"}]";
    h_op_counts a, b;
    h_resp r;
    json_t *e;

    H_CHECK_INT(h_slapd_op_counts(env.s, &a), 0);
    r = it_patch(env.g, id, ops);
    H_CHECK_INT(h_slapd_op_counts(env.s, &b), 0);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "id"), id);
    H_CHECK_STR(h_jstr(r.json, "displayName"), "Dana Example");
    H_CHECK_STR(h_jstr(r.json, "name.givenName"), "Dana");
    H_CHECK_STR(h_jstr(r.json, "emails[0].value"), "dana@contoso.example");
    H_CHECK(json_is_true(h_jget(r.json, "active")));
    H_CHECK(h_header(&r, "ETag") != NULL);
    h_resp_free(&r);
    /* All in one modify: all or nothing. */
    H_CHECK_INT(b.modify - a.modify, 1);
    H_CHECK_INT(b.add - a.add, 0);
    H_CHECK_INT(b.modrdn - a.modrdn, 0);

    e = it_entry_by_id(env.s, id);
    H_REQUIRE(e != NULL);
    H_CHECK_STR(h_ldap_attr(e, "displayname"), "Dana Example");
    H_CHECK_STR(h_ldap_attr(e, "mail"), "dana@contoso.example");
    H_CHECK_INT(it_nvals(e, "mail"), 1);
    H_CHECK_STR(h_ldap_attr(e, "givenname"), "Dana");
    H_CHECK_STR(h_ldap_attr(e, "sn"), "Example");
    H_CHECK_STR(h_ldap_attr(e, "cn"), "Dana Example");
    H_CHECK_STR(h_ldap_attr(e, "telephonenumber"), "+1 555 0100");
    H_CHECK_STR(h_ldap_attr(e, "mobile"), "+1 555 0101");
    H_CHECK_STR(h_ldap_attr(e, "facsimiletelephonenumber"), "+1 555 0102");
    H_CHECK_STR(h_ldap_attr(e, "street"), "1 Main St");
    H_CHECK_STR(h_ldap_attr(e, "l"), "Springfield");
    H_CHECK_STR(h_ldap_attr(e, "st"), "IL");
    H_CHECK_STR(h_ldap_attr(e, "postalcode"), "62701");
    H_CHECK_STR(h_ldap_attr(e, "c"), "US");
    H_CHECK_STR(h_ldap_attr(e, "employeenumber"), "E-2002");
    H_CHECK_STR(h_ldap_attr(e, "ou"), "Engineering");
    H_CHECK_INT(it_nvals(e, "ou"), 1);
    H_CHECK_STR(h_ldap_attr(e, "title"), "Engineer");
    H_CHECK(h_ldap_attr(e, "pwdaccountlockedtime") == NULL);
    /* Untouched. */
    H_CHECK_STR(h_ldap_attr(e, "uid"), USER_NAME);
    H_CHECK_STR(h_ldap_attr(e, "scimexternalid"), EXTERNAL_ID);
    json_decref(e);
}

/* Entra's default mapping sends physicalDeliveryOfficeName as
 * addresses[type eq "other"].formatted (IDP-QUIRKS.md lists the shape): the
 * request must be accepted, and the rest of it applied, whether or not the
 * mapping stores that value. */
static void test_other_address(const char *id)
{
    h_resp r = it_patch(env.g, id,
                        "[{\"op\":\"Add\",\"path\":\"addresses[type eq \\\"other\\\"].formatted\",\"value\":\"Building 1\"},"
                        "{\"op\":\"Replace\",\"path\":\"title\",\"value\":\"Office\"}]");
    json_t *e;
    char *other;

    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "title"), "Office");
    json_decref(e);

    /* The same value in a create. */
    other = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"office.user@contoso.example\","
                             "\"addresses\":[{\"type\":\"work\",\"locality\":\"Redmond\"},"
                             "{\"type\":\"other\",\"formatted\":\"Building 1\"}]}");
    if (other) {
        e = it_entry_by_id(env.s, other);
        H_CHECK_STR(h_ldap_attr(e, "l"), "Redmond");
        json_decref(e);
    }
    free(other);
}

/* No-path replace with dotted and URN keys; Add on a single-valued attribute
 * replaces it. */
static void test_patch_nopath(const char *id)
{
    static const char ops[] =
        "[{\"op\":\"replace\",\"value\":{\"displayName\":\"Dee Example\",\"name.givenName\":\"Dee\","
        "\"name.familyName\":\"Sample\",\"" IT_URN_ENT ":employeeNumber\":\"E-3003\"}},"
        "{\"op\":\"Add\",\"path\":\"title\",\"value\":\"Lead\"},"
        "{\"op\":\"Add\",\"path\":\"nickName\",\"value\":\"Babs\"}]";
    h_resp r = it_patch(env.g, id, ops);
    json_t *e;

    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "name.familyName"), "Sample");
    H_CHECK_STR(h_jstr(r.json, IT_URN_ENT ".employeeNumber"), "E-3003");
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_REQUIRE(e != NULL);
    H_CHECK_STR(h_ldap_attr(e, "displayname"), "Dee Example");
    H_CHECK_STR(h_ldap_attr(e, "givenname"), "Dee");
    H_CHECK_STR(h_ldap_attr(e, "sn"), "Sample");
    H_CHECK_INT(it_nvals(e, "sn"), 1);
    H_CHECK_STR(h_ldap_attr(e, "employeenumber"), "E-3003");
    H_CHECK_STR(h_ldap_attr(e, "title"), "Lead");
    H_CHECK_INT(it_nvals(e, "title"), 1);
    H_CHECK_STR(h_ldap_attr(e, "scimnickname"), "Babs");
    json_decref(e);
}

/* active "False" locks the account (and binds fail), "True" unlocks it. */
static void test_disable_enable(const char *id)
{
    char *dn = it_dn_by_id(env.s, id);
    h_resp r;
    json_t *e;
    char *path;

    H_REQUIRE(dn != NULL);
    /* Entra never sends passwords; give the account one to prove the lock. */
    H_REQUIRE(it_set_password(env.s, dn, USER_PW));
    H_CHECK(h_ldap_bind_ok(env.s, dn, USER_PW));

    r = it_patch(env.g, id, "[{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"False\"}]");
    H_CHECK_STATUS(r, 200);
    H_CHECK(json_is_false(h_jget(r.json, "active")));
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "pwdaccountlockedtime"), IT_LOCKED);
    json_decref(e);
    H_CHECK(!h_ldap_bind_ok(env.s, dn, USER_PW));
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, USER_PW), LDAP_INVALID_CREDENTIALS);

    /* GET shows it inactive. */
    path = it_user_path(id);
    r = h_http(env.g, "GET", path, NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK(json_is_false(h_jget(r.json, "active")));
    h_resp_free(&r);

    /* Disabling again is fine and changes nothing that matters. */
    r = it_patch(env.g, id, "[{\"op\":\"Replace\",\"path\":\"active\",\"value\":false}]");
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "pwdaccountlockedtime"), IT_LOCKED);
    json_decref(e);

    r = it_patch(env.g, id, "[{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"True\"}]");
    H_CHECK_STATUS(r, 200);
    H_CHECK(json_is_true(h_jget(r.json, "active")));
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK(e != NULL && h_ldap_attr(e, "pwdaccountlockedtime") == NULL);
    json_decref(e);
    H_CHECK(h_ldap_bind_ok(env.s, dn, USER_PW));

    r = h_http(env.g, "GET", path, NULL, NULL);
    H_CHECK(json_is_true(h_jget(r.json, "active")));
    h_resp_free(&r);
    free(path);
    free(dn);
}

static void check_manager(const char *id, const char *manager_id, const char *manager_dn)
{
    char *path = it_user_path(id);
    h_resp r = h_http(env.g, "GET", path, NULL, NULL);
    json_t *e = it_entry_by_id(env.s, id);

    H_CHECK_STATUS(r, 200);
    if (manager_id) {
        H_CHECK_STR(h_jstr(r.json, IT_URN_ENT ".manager.value"), manager_id);
        H_CHECK_INT(it_nvals(e, "manager"), 1);
        H_CHECK(h_ldap_has_value(e, "manager", manager_dn, true));
    } else {
        H_CHECK(h_jget(r.json, IT_URN_ENT ".manager") == NULL);
        H_CHECK_INT(it_nvals(e, "manager"), 0);
    }
    json_decref(e);
    h_resp_free(&r);
    free(path);
}

/* The manager in every shape Entra sends it; LDAP holds the manager's DN. */
static void test_manager(const char *id)
{
    char *m1 = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"boss.one@contoso.example\","
                                "\"name\":{\"givenName\":\"Boss\",\"familyName\":\"One\"}}");
    char *m2 = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"boss.two@contoso.example\"}");
    char *m1_dn = it_dn_by_id(env.s, m1 ? m1 : "");
    char *m2_dn = it_dn_by_id(env.s, m2 ? m2 : "");
    char ops[512];
    h_resp r;
    json_t *e;

    H_REQUIRE(m1 && m2 && m1_dn && m2_dn);

    /* Add with a bare string id (what Entra sends by default). */
    snprintf(ops, sizeof ops, "[{\"op\":\"Add\",\"path\":\"%s:manager\",\"value\":\"%s\"}]", IT_URN_ENT, m1);
    r = it_patch(env.g, id, ops);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, IT_URN_ENT ".manager.value"), m1);
    h_resp_free(&r);
    check_manager(id, m1, m1_dn);

    /* Replace with an object. */
    snprintf(ops, sizeof ops, "[{\"op\":\"Replace\",\"path\":\"%s:manager\",\"value\":{\"value\":\"%s\"}}]",
             IT_URN_ENT, m2);
    r = it_patch(env.g, id, ops);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    check_manager(id, m2, m2_dn);

    /* Replace with an array of one object. */
    snprintf(ops, sizeof ops, "[{\"op\":\"Replace\",\"path\":\"%s:manager\",\"value\":[{\"value\":\"%s\"}]}]",
             IT_URN_ENT, m1);
    r = it_patch(env.g, id, ops);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    check_manager(id, m1, m1_dn);

    /* An id that is no User ("unknown_manager": "keep", the default): kept as
     * sent and read back, the LDAP manager (a DN) goes; a real id again
     * becomes a DN reference. (The "reject" policy: it_idp_policies.c.) */
    snprintf(ops, sizeof ops, "[{\"op\":\"Replace\",\"path\":\"%s:manager\",\"value\":{\"value\":\"%s\"}}]",
             IT_URN_ENT, "3e1f4c5d-0000-4000-8000-000000000000");
    r = it_patch(env.g, id, ops);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, IT_URN_ENT ".manager.value"), "3e1f4c5d-0000-4000-8000-000000000000");
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK_INT(it_nvals(e, "manager"), 0);
    H_CHECK(h_ldap_attr(e, "scimkept") != NULL && strstr(h_ldap_attr(e, "scimkept"), "3e1f4c5d") != NULL);
    json_decref(e);
    snprintf(ops, sizeof ops, "[{\"op\":\"Replace\",\"path\":\"%s:manager\",\"value\":{\"value\":\"%s\"}}]",
             IT_URN_ENT, m1);
    r = it_patch(env.g, id, ops);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK(h_ldap_attr(e, "scimkept") == NULL);
    json_decref(e);
    check_manager(id, m1, m1_dn);

    /* "" means remove. */
    snprintf(ops, sizeof ops, "[{\"op\":\"Replace\",\"path\":\"%s:manager\",\"value\":\"\"}]", IT_URN_ENT);
    r = it_patch(env.g, id, ops);
    H_CHECK_STATUS(r, 200);
    H_CHECK(h_jget(r.json, IT_URN_ENT ".manager") == NULL);
    h_resp_free(&r);
    check_manager(id, NULL, NULL);

    /* Add as an object again, then Remove by path. */
    snprintf(ops, sizeof ops, "[{\"op\":\"Add\",\"path\":\"%s:manager\",\"value\":{\"value\":\"%s\"}}]", IT_URN_ENT,
             m2);
    r = it_patch(env.g, id, ops);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    check_manager(id, m2, m2_dn);
    snprintf(ops, sizeof ops, "[{\"op\":\"Remove\",\"path\":\"%s:manager\"}]", IT_URN_ENT);
    r = it_patch(env.g, id, ops);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    check_manager(id, NULL, NULL);

    /* Removing an absent manager is not an error for an IdP. */
    r = it_patch(env.g, id, ops);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    check_manager(id, NULL, NULL);

    /* A manager deleted behind the subordinate's back (no refint here): the
     * subordinate stays readable and writable, showing no manager. */
    {
        char *m3 = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"boss.three@contoso.example\"}");
        char *m3_path = m3 ? it_user_path(m3) : NULL;
        char *path = it_user_path(id);

        H_REQUIRE(m3_path != NULL && path != NULL);
        snprintf(ops, sizeof ops, "[{\"op\":\"Add\",\"path\":\"%s:manager\",\"value\":\"%s\"}]", IT_URN_ENT, m3);
        r = it_patch(env.g, id, ops);
        H_CHECK_STATUS(r, 200);
        h_resp_free(&r);
        r = h_http(env.g, "DELETE", m3_path, NULL, NULL);
        H_CHECK_STATUS(r, 204);
        h_resp_free(&r);
        r = h_http(env.g, "GET", path, NULL, NULL);
        H_CHECK_STATUS(r, 200);
        H_CHECK(h_jget(r.json, IT_URN_ENT ".manager") == NULL);
        h_resp_free(&r);
        r = it_patch(env.g, id, "[{\"op\":\"Replace\",\"path\":\"title\",\"value\":\"Orphaned\"}]");
        H_CHECK_STATUS(r, 200);
        h_resp_free(&r);
        snprintf(ops, sizeof ops, "[{\"op\":\"Replace\",\"path\":\"%s:manager\",\"value\":{\"value\":\"%s\"}}]",
                 IT_URN_ENT, m2);
        r = it_patch(env.g, id, ops);
        H_CHECK_STATUS(r, 200);
        h_resp_free(&r);
        check_manager(id, m2, m2_dn);
        snprintf(ops, sizeof ops, "[{\"op\":\"Remove\",\"path\":\"%s:manager\"}]", IT_URN_ENT);
        r = it_patch(env.g, id, ops);
        H_CHECK_STATUS(r, 200);
        h_resp_free(&r);
        check_manager(id, NULL, NULL);
        free(path);
        free(m3_path);
        free(m3);
    }
    free(m1);
    free(m2);
    free(m1_dn);
    free(m2_dn);
}

/* Replace userName: modrdn, the DN follows, entryUUID (the id) stays. */
static void test_rename(const char *id)
{
    static const char new_name[] = "Renamed_User_4f3c7a1e@contoso.example";
    char *old_dn = it_dn_by_id(env.s, id);
    char *new_dn;
    h_op_counts a, b;
    h_resp r;
    char *got = NULL, *f;
    char *before, *after;

    H_REQUIRE(old_dn != NULL);
    H_CHECK_INT(h_slapd_op_counts(env.s, &a), 0);
    r = it_patch(env.g, id, "[{\"op\":\"Replace\",\"path\":\"userName\",\"value\":\"" "Renamed_User_4f3c7a1e@contoso.example" "\"}]");
    H_CHECK_INT(h_slapd_op_counts(env.s, &b), 0);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "id"), id);
    H_CHECK_STR(h_jstr(r.json, "userName"), new_name);
    H_CHECK(h_jstr(r.json, "meta.location") && strstr(h_jstr(r.json, "meta.location"), id) != NULL);
    h_resp_free(&r);
    H_CHECK_INT(b.modrdn - a.modrdn, 1);

    new_dn = it_dn_by_id(env.s, id);
    H_CHECK(it_dn_is(new_dn, "uid", new_name, H_PEOPLE));
    {
        json_t *gone = h_ldap_entry(env.s, old_dn);

        H_CHECK(gone == NULL);
        json_decref(gone);
    }
    {
        json_t *e = it_entry_by_id(env.s, id);

        H_CHECK_STR(h_ldap_attr(e, "uid"), new_name);
        H_CHECK_INT(it_nvals(e, "uid"), 1);
        /* Everything else survived the rename. */
        H_CHECK_STR(h_ldap_attr(e, "givenname"), "Dee");
        H_CHECK_STR(h_ldap_attr(e, "scimexternalid"), EXTERNAL_ID);
        json_decref(e);
    }
    f = it_eq_filter("userName", new_name);
    H_CHECK_INT(IT_LIST_COUNT(env.g, f, &got), 1);
    H_CHECK_STR(got, id);
    free(got);
    free(f);
    f = it_eq_filter("userName", USER_NAME);
    H_CHECK_INT(IT_LIST_COUNT(env.g, f, NULL), 0);
    free(f);

    /* Renaming onto another user's userName: 409, nothing changes. */
    before = h_ldap_snapshot(env.s);
    r = it_patch(env.g, id, "[{\"op\":\"Replace\",\"path\":\"userName\",\"value\":\"BOSS.ONE@contoso.example\"}]");
    IT_CHECK_ERROR(r, 409, "uniqueness");
    h_resp_free(&r);
    after = h_ldap_snapshot(env.s);
    H_CHECK(h_snapshot_same(before, after));
    free(before);
    free(after);

    /* Rename together with another change in the same request: both or neither. */
    r = it_patch(env.g, id,
                 "[{\"op\":\"Replace\",\"path\":\"userName\",\"value\":\"" USER_NAME "\"},"
                 "{\"op\":\"Replace\",\"path\":\"title\",\"value\":\"Back\"}]");
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    {
        json_t *e = it_entry_by_id(env.s, id);

        H_CHECK(e && it_dn_is(h_jstr(e, "dn"), "uid", USER_NAME, H_PEOPLE));
        H_CHECK_STR(h_ldap_attr(e, "title"), "Back");
        json_decref(e);
    }
    free(old_dn);
    free(new_dn);
}

static void test_delete(const char *id)
{
    char *path = it_user_path(id);
    char *dn = it_dn_by_id(env.s, id);
    h_resp r;

    H_REQUIRE(dn != NULL);
    r = h_http(env.g, "DELETE", path, NULL, NULL);
    H_CHECK_STATUS(r, 204);
    H_CHECK_INT(r.body_len, 0);
    h_resp_free(&r);
    {
        json_t *by_dn = h_ldap_entry(env.s, dn), *by_id = it_entry_by_id(env.s, id);

        H_CHECK(by_dn == NULL);
        H_CHECK(by_id == NULL);
        json_decref(by_dn);
        json_decref(by_id);
    }

    r = h_http(env.g, "GET", path, NULL, NULL);
    IT_CHECK_ERROR(r, 404, NULL);
    h_resp_free(&r);
    /* Delete twice. */
    r = h_http(env.g, "DELETE", path, NULL, NULL);
    IT_CHECK_ERROR(r, 404, NULL);
    h_resp_free(&r);
    /* A PATCH on the deleted user. */
    r = it_patch(env.g, id, "[{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"False\"}]");
    IT_CHECK_ERROR(r, 404, NULL);
    h_resp_free(&r);
    {
        char *f = it_eq_filter("userName", USER_NAME);

        H_CHECK_INT(IT_LIST_COUNT(env.g, f, NULL), 0);
        free(f);
    }
    free(path);
    free(dn);
}

int main(void)
{
    char *id;

    if (it_env_start(&env, NULL)) {
        test_connection_probe();
        id = test_create();
        test_duplicate();
        test_get(id);
        test_match(id);
        test_patch_verbose(id);
        test_patch_nopath(id);
        test_other_address(id);
        test_disable_enable(id);
        test_manager(id);
        test_rename(id);
        test_delete(id);
        free(id);
    }
    it_env_stop(&env);
    return H_DONE();
}
