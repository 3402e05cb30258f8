/* it_ad_flows.c — Entra ID and Okta provisioning against a real Samba AD DC
 * (4.17, the directory Windows AD's LDAP behaviour is tested on) through
 * mappings/active-directory.json, end to end.
 *
 * One throwaway domain controller for the whole suite (harness_ad.c), LDAPS
 * with its own CA. After every write the entry is read over LDAP, not
 * through the gateway: objectGUID is the SCIM id, userAccountControl changes
 * only bit 0x2, unicodePwd works (the user binds with the IdP's password;
 * a weak one is a 400 and changes nothing), sAMAccountName is derived and
 * unique (409), groups hold the users' DNs in member and AD sets memberOf.
 */
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_dir_common.h"

#define URN_GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"

static dir_env env;

static long uac_of(const json_t *e)
{
    const char *v = e ? h_ldap_attr(e, "useraccountcontrol") : NULL;
    return v ? strtol(v, NULL, 10) : -1;
}

static long uac(const char *id)
{
    json_t *e = dir_entry(env.s, id);
    long v = uac_of(e);
    json_decref(e);
    return v;
}

/* ---------------------------------------------------------------- Entra users */

#define ENTRA_USER "Adele.Vance@contoso.example"
#define ENTRA_EXT "8b1d0f34-2c57-4d0e-9a41-5f2e3c6b7a90"

static const char entra_create[] =
    "{\"schemas\":[\"" IT_URN_USER "\",\"" IT_URN_ENT "\"],"
    "\"externalId\":\"" ENTRA_EXT "\","
    "\"userName\":\"" ENTRA_USER "\","
    "\"active\":true,"
    "\"displayName\":\"Adele Vance\","
    "\"emails\":[{\"primary\":true,\"type\":\"work\",\"value\":\"adele.vance@contoso.example\"}],"
    "\"meta\":{\"resourceType\":\"User\"},"
    "\"name\":{\"formatted\":\"Adele Vance\",\"familyName\":\"Vance\",\"givenName\":\"Adele\"},"
    "\"title\":\"Retail Manager\","
    "\"" IT_URN_ENT "\":{\"employeeNumber\":\"4711\",\"department\":\"Retail\",\"organization\":\"Contoso\"}}";

static char *entra_user_create(void)
{
    h_resp r = h_http(env.g, "POST", "/Users", entra_create, NULL);
    char *id;

    H_CHECK_STATUS(r, 201);
    H_REQUIRE(r.status == 201 && h_jstr(r.json, "id") != NULL);
    id = strdup(h_jstr(r.json, "id"));
    /* the id is objectGUID as Windows writes it, and the resource says so everywhere */
    unsigned char g[16];
    H_CHECK(s2l_guid_parse(id, g));
    H_CHECK_STR(h_jstr(r.json, "userName"), ENTRA_USER);
    H_CHECK(json_is_true(h_jget(r.json, "active")));
    H_CHECK_STR(h_jstr(r.json, IT_URN_ENT ".department"), "Retail");
    H_CHECK(h_jstr(r.json, "meta.created") != NULL && strchr(h_jstr(r.json, "meta.created"), 'T') != NULL);
    H_CHECK(h_jstr(r.json, "meta.version") != NULL && strncmp(h_jstr(r.json, "meta.version"), "W/\"", 3) == 0);
    H_CHECK_STR(h_header(&r, "ETag"), h_jstr(r.json, "meta.version"));
    h_resp_free(&r);

    json_t *e = dir_entry(env.s, id);
    H_REQUIRE(e != NULL);
    char *guid = h_ldap_guid(e);
    H_CHECK_STR(guid, id);
    free(guid);
    H_CHECK(it_dn_is(h_jstr(e, "dn"), "CN", ENTRA_USER, H_AD_PEOPLE));
    H_CHECK(h_ldap_has_value(e, "objectclass", "user", true));
    H_CHECK_STR(h_ldap_attr(e, "userprincipalname"), ENTRA_USER);
    /* derived from userName: what precedes '@', at most 20 characters */
    H_CHECK_STR(h_ldap_attr(e, "samaccountname"), "Adele.Vance");
    H_CHECK_STR(h_ldap_attr(e, "displayname"), "Adele Vance");
    H_CHECK_STR(h_ldap_attr(e, "givenname"), "Adele");
    H_CHECK_STR(h_ldap_attr(e, "sn"), "Vance");
    H_CHECK_STR(h_ldap_attr(e, "mail"), "adele.vance@contoso.example");
    H_CHECK_STR(h_ldap_attr(e, "department"), "Retail");
    H_CHECK_STR(h_ldap_attr(e, "company"), "Contoso");
    H_CHECK_STR(h_ldap_attr(e, "employeenumber"), "4711");
    H_CHECK_STR(h_ldap_attr(e, "msds-cloudextensionattribute1"), ENTRA_EXT);
    /* NORMAL_ACCOUNT, enabled, in the add itself (no password: nothing to set first) */
    H_CHECK_INT(uac_of(e), 512);
    H_CHECK(h_ldap_attr(e, "usncreated") && h_ldap_attr(e, "usnchanged") &&
            strcmp(h_ldap_attr(e, "usncreated"), h_ldap_attr(e, "usnchanged")) == 0);
    json_decref(e);
    return id;
}

static void entra_user_lookups(const char *id)
{
    /* Test Connection: a random GUID matches nobody */
    char *f = it_eq_filter("userName", "0b7e3f3c-2f5a-4c58-8d8e-4b9e7f2a1c3d"), *got = NULL;
    H_CHECK_INT(IT_LIST_COUNT(env.g, f, NULL), 0);
    free(f);
    f = it_eq_filter("userName", ENTRA_USER);
    H_CHECK_INT(IT_LIST_COUNT(env.g, f, &got), 1);
    H_CHECK_STR(got, id);
    free(got);
    free(f);
    f = it_eq_filter("externalId", ENTRA_EXT);
    got = NULL;
    H_CHECK_INT(IT_LIST_COUNT(env.g, f, &got), 1);
    H_CHECK_STR(got, id);
    free(got);
    free(f);
    /* the id as a filter: objectGUID's bytes, escaped */
    f = it_eq_filter("id", id);
    got = NULL;
    H_CHECK_INT(IT_LIST_COUNT(env.g, f, &got), 1);
    H_CHECK_STR(got, id);
    free(got);
    free(f);

    h_resp r = dir_get(env.g, "/Users", id);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "id"), id);
    H_CHECK_STR(h_jstr(r.json, "emails[0].value"), "adele.vance@contoso.example");
    h_resp_free(&r);
    /* a malformed id or an unknown GUID: 404 */
    r = dir_get(env.g, "/Users", "not-a-guid");
    H_CHECK_STATUS(r, 404);
    h_resp_free(&r);
    r = dir_get(env.g, "/Users", "00000000-1111-2222-3333-444444444444");
    H_CHECK_STATUS(r, 404);
    h_resp_free(&r);
}

static void entra_user_patch(const char *id)
{
    json_t *before = dir_entry(env.s, id);
    h_resp r = it_patch(env.g, id,
                        "[{\"op\":\"Replace\",\"path\":\"displayName\",\"value\":\"Adele V.\"},"
                        "{\"op\":\"Replace\",\"path\":\"" IT_URN_ENT ":department\",\"value\":\"Marketing\"},"
                        "{\"op\":\"Add\",\"path\":\"phoneNumbers[type eq \\\"mobile\\\"].value\",\"value\":\"+1 555 0101\"}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    json_t *e = dir_entry(env.s, id);
    H_REQUIRE(e != NULL);
    H_CHECK_STR(h_ldap_attr(e, "displayname"), "Adele V.");
    H_CHECK_STR(h_ldap_attr(e, "department"), "Marketing");
    H_CHECK_STR(h_ldap_attr(e, "mobile"), "+1 555 0101");
    /* the version moved on with uSNChanged */
    H_CHECK(before && strcmp(h_ldap_attr(before, "usnchanged"), h_ldap_attr(e, "usnchanged")) != 0);
    /* sAMAccountName is written on create only */
    H_CHECK_STR(h_ldap_attr(e, "samaccountname"), "Adele.Vance");
    json_decref(e);
    json_decref(before);
}

/* active false / true change bit 0x2 and nothing else: another flag an admin
 * set (DONT_EXPIRE_PASSWORD, 0x10000) survives both. */
static void entra_user_disable_enable(const char *id)
{
    char *dn = dir_dn(env.s, id);
    char *ldif = NULL;
    H_REQUIRE(dn != NULL);
    ldif = malloc(strlen(dn) + 128);
    sprintf(ldif, "dn: %s\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 66048\n-\n", dn);
    H_CHECK_INT(h_ldap_ldif_rc(env.s, ldif), 0);
    free(ldif);

    h_resp r = it_patch(env.g, id, "[{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"False\"}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    H_CHECK_INT(uac(id), 66050);
    /* still readable, with active false (Entra requires it), and found by it */
    r = dir_get(env.g, "/Users", id);
    H_CHECK_STATUS(r, 200);
    H_CHECK(json_is_false(h_jget(r.json, "active")));
    h_resp_free(&r);
    char *got = NULL;
    H_CHECK_INT(IT_LIST_COUNT(env.g, "active eq false", &got), 1);
    H_CHECK_STR(got, id);
    free(got);
    /* the same request again changes nothing */
    json_t *e1 = dir_entry(env.s, id);
    r = it_patch(env.g, id, "[{\"op\":\"Replace\",\"path\":\"active\",\"value\":false}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    json_t *e2 = dir_entry(env.s, id);
    H_CHECK(e1 && e2 && strcmp(h_ldap_attr(e1, "usnchanged"), h_ldap_attr(e2, "usnchanged")) == 0);
    json_decref(e1);
    json_decref(e2);

    r = it_patch(env.g, id, "[{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"True\"}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    H_CHECK_INT(uac(id), 66048);
    got = NULL;
    H_CHECK_INT(IT_LIST_COUNT(env.g, "active eq false", &got), 0);
    free(got);
    free(dn);
}

/* The planner's flag change, replayed on a stale read: if userAccountControl
 * changed after the gateway read it, AD refuses the modify (the delete of the
 * old value fails) instead of the gateway overwriting the change. */
static void flag_change_is_race_safe(const char *id)
{
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/mappings/active-directory.json", S2L_SOURCE_DIR);
    char schemas[4096];
    snprintf(schemas, sizeof schemas, "%s/schemas/scim", S2L_SOURCE_DIR);
    s2l_mapping *m = s2l_mapping_load(path, schemas, err, sizeof err);
    H_REQUIRE(m != NULL);
    const s2l_rmap *u = s2l_mapping_find(m, "User");
    char *dn = dir_dn(env.s, id);
    H_REQUIRE(dn != NULL);
    /* what the gateway read (512), then someone sets DONT_EXPIRE_PASSWORD */
    json_t *read = json_pack("{s:s, s:{s:[s], s:[s], s:[s], s:[s]}}", "dn", dn, "attrs", "userAccountControl", "512",
                             "cn", ENTRA_USER, "userPrincipalName", ENTRA_USER, "objectGUID", "0123456789abcdef");
    char ldif[1024];
    snprintf(ldif, sizeof ldif, "dn: %s\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 66048\n-\n", dn);
    H_CHECK_INT(h_ldap_ldif_rc(env.s, ldif), 0);
    s2l_error e = {0};
    json_t *old = s2l_rmap_to_scim(u, read, NULL, NULL, &e), *ids = json_object();
    json_t *nw = json_deep_copy(old);
    json_object_set_new(nw, "active", json_false());
    json_t *plan = s2l_rmap_plan_update_entry(u, read, old, nw, ids, &e);
    json_t *mods = json_object_get(plan, "mods");
    if (plan == NULL)
        fprintf(stderr, "plan: %d %s\n", e.status, e.detail);
    H_CHECK_INT(json_array_size(mods), 2);
    H_CHECK_STR(json_string_value(json_object_get(json_array_get(mods, 0), "op")), "delete");
    snprintf(ldif, sizeof ldif, "dn: %s\nchangetype: modify\n%s: userAccountControl\nuserAccountControl: %s\n-\n"
                                "%s: userAccountControl\nuserAccountControl: %s\n-\n", dn,
             json_string_value(json_object_get(json_array_get(mods, 0), "op")),
             json_string_value(json_array_get(json_object_get(json_array_get(mods, 0), "values"), 0)),
             json_string_value(json_object_get(json_array_get(mods, 1), "op")),
             json_string_value(json_array_get(json_object_get(json_array_get(mods, 1), "values"), 0)));
    H_CHECK_INT(h_ldap_ldif_rc(env.s, ldif), LDAP_NO_SUCH_ATTRIBUTE);
    H_CHECK_INT(uac(id), 66048); /* the concurrent change stands */
    snprintf(ldif, sizeof ldif, "dn: %s\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 512\n-\n", dn);
    H_CHECK_INT(h_ldap_ldif_rc(env.s, ldif), 0);
    json_decref(read);
    json_decref(old);
    json_decref(nw);
    json_decref(ids);
    json_decref(plan);
    s2l_mapping_destroy(m);
    free(dn);
}

static void entra_user_manager(const char *id)
{
    char *boss = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"Megan.Bowen@contoso.example\","
                                  "\"active\":true,\"displayName\":\"Megan Bowen\"}");
    H_REQUIRE(boss != NULL);
    char *ops = malloc(strlen(boss) + 256);
    sprintf(ops, "[{\"op\":\"Add\",\"path\":\"" IT_URN_ENT ":manager\",\"value\":\"%s\"}]", boss);
    h_resp r = it_patch(env.g, id, ops);
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    char *boss_dn = dir_dn(env.s, boss);
    json_t *e = dir_entry(env.s, id);
    H_CHECK(e && boss_dn && dir_has_dn(e, "manager", boss_dn));
    json_decref(e);
    r = dir_get(env.g, "/Users", id);
    H_CHECK_STR(h_jstr(r.json, IT_URN_ENT ".manager.value"), boss);
    h_resp_free(&r);
    /* deleting the manager: AD removes the link itself (referential_integrity "directory") */
    r = dir_delete(env.g, "/Users", boss);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    e = dir_entry(env.s, id);
    H_CHECK(e && h_ldap_attr(e, "manager") == NULL);
    json_decref(e);
    free(ops);
    free(boss);
    free(boss_dn);
}

static void user_delete(char *id)
{
    h_resp r = dir_delete(env.g, "/Users", id);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    json_t *e = dir_entry(env.s, id);
    H_CHECK(e == NULL);
    json_decref(e);
    r = dir_get(env.g, "/Users", id);
    H_CHECK_STATUS(r, 404);
    h_resp_free(&r);
    r = dir_delete(env.g, "/Users", id);
    H_CHECK_STATUS(r, 404);
    h_resp_free(&r);
    free(id);
}

/* ---------------------------------------------------------------- Okta users */

#define OKTA_USER "isabelle.davis@example.com"
#define OKTA_PW "Okta-Pass-1!"
#define OKTA_PW2 "Okta-Pass-2?"
#define OKTA_PW3 "Okta-Pass-3#"

static const char okta_create[] =
    "{\"schemas\":[\"" IT_URN_USER "\"],"
    "\"userName\":\"" OKTA_USER "\","
    "\"name\":{\"givenName\":\"Isabelle\",\"familyName\":\"Davis\"},"
    "\"emails\":[{\"primary\":true,\"value\":\"isabelle.davis@example.com\",\"type\":\"work\"}],"
    "\"displayName\":\"Isabelle Davis\","
    "\"phoneNumbers\":[{\"type\":\"work\",\"value\":\"+1 555 0200\"}],"
    "\"addresses\":[{\"type\":\"work\",\"streetAddress\":\"2 Side St\",\"locality\":\"Portland\","
    "\"region\":\"OR\",\"postalCode\":\"97201\",\"country\":\"US\"}],"
    "\"externalId\":\"00u1abcd2EFGH3ijk4l5\","
    "\"groups\":[],"
    "\"password\":\"" OKTA_PW "\","
    "\"active\":true}";

static char *okta_user_create(void)
{
    h_resp r = h_http(env.g, "POST", "/Users", okta_create, NULL);
    H_CHECK_STATUS(r, 201);
    H_REQUIRE(r.status == 201 && h_jstr(r.json, "id") != NULL);
    char *id = strdup(h_jstr(r.json, "id"));
    H_CHECK(h_jget(r.json, "password") == NULL);
    H_CHECK(r.body && strstr(r.body, OKTA_PW) == NULL);
    h_resp_free(&r);

    json_t *e = dir_entry(env.s, id);
    H_REQUIRE(e != NULL);
    H_CHECK_STR(h_ldap_attr(e, "samaccountname"), "isabelle.davis");
    H_CHECK_STR(h_ldap_attr(e, "streetaddress"), "2 Side St");
    H_CHECK_STR(h_ldap_attr(e, "l"), "Portland");
    H_CHECK_STR(h_ldap_attr(e, "c"), "US");
    H_CHECK_STR(h_ldap_attr(e, "telephonenumber"), "+1 555 0200");
    /* added disabled with its password, then enabled by a modify: the
     * order AD needs (an account is enabled only once it has a password) */
    H_CHECK_INT(uac_of(e), 512);
    H_CHECK(h_ldap_attr(e, "usncreated") && h_ldap_attr(e, "usnchanged") &&
            strtoll(h_ldap_attr(e, "usnchanged"), NULL, 10) > strtoll(h_ldap_attr(e, "usncreated"), NULL, 10));
    json_decref(e);
    /* unicodePwd is write-only in AD: the proof is a bind, over LDAPS */
    char *dn = dir_dn(env.s, id);
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, OKTA_PW), LDAP_SUCCESS);
    H_CHECK_INT(h_ldap_bind_rc(env.s, OKTA_USER, OKTA_PW), LDAP_SUCCESS); /* by userPrincipalName */
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, "Not-The-Pass-1"), LDAP_INVALID_CREDENTIALS);
    free(dn);

    /* Okta's look-up before a create, with paging parameters */
    char *f = it_eq_filter("userName", OKTA_USER), *path = it_filter_path(f, "startIndex=1&count=100");
    r = h_http(env.g, "GET", path, NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(h_jint(r.json, "totalResults", -1), 1);
    H_CHECK_STR(h_jstr(r.json, "Resources[0].id"), id);
    h_resp_free(&r);
    free(path);
    free(f);
    /* the same user again: 409 */
    r = h_http(env.g, "POST", "/Users", okta_create, NULL);
    IT_CHECK_ERROR(r, 409, "uniqueness");
    h_resp_free(&r);
    return id;
}

static void okta_user_password_and_status(const char *id)
{
    char *dn = dir_dn(env.s, id);
    H_REQUIRE(dn != NULL);
    /* Okta's password change: a no-path replace */
    h_resp r = it_patch(env.g, id, "[{\"op\":\"replace\",\"value\":{\"password\":\"" OKTA_PW2 "\"}}]");
    H_CHECK(r.status == 200 || r.status == 204);
    H_CHECK(r.body == NULL || strstr(r.body, OKTA_PW2) == NULL);
    h_resp_free(&r);
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, OKTA_PW2), LDAP_SUCCESS);
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, OKTA_PW), LDAP_INVALID_CREDENTIALS);

    /* AD's password policy refuses a short one: a clear 400, nothing changed */
    json_t *before = dir_entry(env.s, id);
    r = it_patch(env.g, id, "[{\"op\":\"replace\",\"value\":{\"password\":\"abc\"}}]");
    IT_CHECK_ERROR(r, 400, "invalidValue");
    H_CHECK(r.body && strstr(r.body, "password policy") != NULL);
    H_CHECK(r.body && strstr(r.body, "\"abc\"") == NULL);
    h_resp_free(&r);
    json_t *after = dir_entry(env.s, id);
    H_CHECK(before && after && strcmp(h_ldap_attr(before, "usnchanged"), h_ldap_attr(after, "usnchanged")) == 0);
    json_decref(before);
    json_decref(after);
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, OKTA_PW2), LDAP_SUCCESS);
    /* the same with a deactivation in the request: still the password's 400
     * (not a conflict on userAccountControl), the account still enabled */
    r = it_patch(env.g, id, "[{\"op\":\"replace\",\"value\":{\"active\":false,\"password\":\"abc\"}}]");
    IT_CHECK_ERROR(r, 400, "invalidValue");
    H_CHECK(r.body && strstr(r.body, "password policy") != NULL);
    h_resp_free(&r);
    H_CHECK_INT(uac(id), 512);

    /* deactivate: the account cannot log in (data 533); reactivate: it can */
    r = it_patch(env.g, id, "[{\"op\":\"replace\",\"value\":{\"active\":false}}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    H_CHECK_INT(uac(id), 514);
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, OKTA_PW2), LDAP_INVALID_CREDENTIALS);
    /* a password and the enable in one request: the password is set first */
    r = it_patch(env.g, id, "[{\"op\":\"replace\",\"value\":{\"active\":true,\"password\":\"" OKTA_PW3 "\"}}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    H_CHECK_INT(uac(id), 512);
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, OKTA_PW3), LDAP_SUCCESS);

    /* PUT, as Okta sends profile updates: everything again, with the id */
    json_t *body = json_pack("{s:[s], s:s, s:s, s:{s:s, s:s}, s:[{s:b, s:s, s:s}], s:b}", "schemas", IT_URN_USER,
                             "id", id, "userName", OKTA_USER, "name", "givenName", "Isabel", "familyName", "Davis",
                             "emails", "primary", 1, "value", "isabel.davis@example.com", "type", "work", "active", 1);
    char *path = it_user_path(id);
    r = h_http_json(env.g, "PUT", path, body);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "name.givenName"), "Isabel");
    h_resp_free(&r);
    json_t *e = dir_entry(env.s, id);
    H_CHECK_STR(e ? h_ldap_attr(e, "givenname") : NULL, "Isabel");
    H_CHECK_STR(e ? h_ldap_attr(e, "mail") : NULL, "isabel.davis@example.com");
    H_CHECK_INT(uac_of(e), 512);
    json_decref(e);
    /* a PUT without a password leaves it alone */
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, OKTA_PW3), LDAP_SUCCESS);
    json_decref(body);
    free(path);
    free(dn);
}

/* Two userNames that derive the same sAMAccountName: the second is a 409. */
static void samaccountname_clash(void)
{
    char *a = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"pat.lee@one.example\","
                               "\"active\":true,\"displayName\":\"Pat Lee\"}");
    H_REQUIRE(a != NULL);
    h_resp r = h_http(env.g, "POST", "/Users",
                      "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"pat.lee@two.example\","
                      "\"active\":true,\"displayName\":\"Pat Lee Two\"}",
                      NULL);
    IT_CHECK_ERROR(r, 409, "uniqueness");
    h_resp_free(&r);
    /* a long userName is cut to 20 characters */
    char *b = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":"
                               "\"christopher.montgomery-smith@contoso.example\",\"active\":false}");
    H_REQUIRE(b != NULL);
    json_t *e = dir_entry(env.s, b);
    H_CHECK_STR(e ? h_ldap_attr(e, "samaccountname") : NULL, "christopher.montgome");
    /* created disabled */
    H_CHECK_INT(uac_of(e), 514);
    json_decref(e);
    user_delete(a);
    user_delete(b);
}

/* ---------------------------------------------------------------- groups */

static char *group_create(const char *name, const char *ext)
{
    char body[512];
    snprintf(body, sizeof body, "{\"schemas\":[\"" URN_GROUP "\"],\"displayName\":\"%s\",\"externalId\":\"%s\","
                                "\"members\":[]}", name, ext);
    h_resp r = h_http(env.g, "POST", "/Groups", body, NULL);
    H_CHECK_STATUS(r, 201);
    char *id = r.status == 201 && h_jstr(r.json, "id") ? strdup(h_jstr(r.json, "id")) : NULL;
    H_CHECK(r.json && json_array_size(h_jget(r.json, "members")) == 0);
    h_resp_free(&r);
    return id;
}

static void groups_flow(const char *uid1, const char *uid2)
{
    char *udn1 = dir_dn(env.s, uid1), *udn2 = dir_dn(env.s, uid2);
    H_REQUIRE(udn1 != NULL && udn2 != NULL);

    /* Entra: create empty, then add and remove members with path "members" */
    char *gid = group_create("Retail Staff", "e0f3c2a1-7d65-4b4f-9c0a-1d2e3f4a5b6c");
    H_REQUIRE(gid != NULL);
    json_t *e = dir_entry(env.s, gid);
    H_REQUIRE(e != NULL);
    char *guid = h_ldap_guid(e);
    H_CHECK_STR(guid, gid);
    free(guid);
    H_CHECK(it_dn_is(h_jstr(e, "dn"), "CN", "Retail Staff", H_AD_GROUPS));
    H_CHECK(h_ldap_has_value(e, "objectclass", "group", true));
    H_CHECK_STR(h_ldap_attr(e, "samaccountname"), "Retail Staff");
    H_CHECK(h_ldap_attr(e, "member") == NULL);
    json_decref(e);

    char ops[512];
    snprintf(ops, sizeof ops, "[{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]", uid1);
    h_resp r = dir_patch(env.g, "/Groups", gid, ops);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    e = dir_entry(env.s, gid);
    H_CHECK(e && dir_has_dn(e, "member", udn1));
    json_decref(e);
    /* AD keeps memberOf; the user shows the group */
    e = dir_entry(env.s, uid1);
    char *gdn = dir_dn(env.s, gid);
    H_CHECK(e && gdn && dir_has_dn(e, "memberof", gdn));
    json_decref(e);
    r = dir_get(env.g, "/Users", uid1);
    H_CHECK(r.json && dir_refs_hold(h_jget(r.json, "groups"), gid));
    h_resp_free(&r);

    /* Okta: add the second with lower-case ops, read the group, remove by filter */
    snprintf(ops, sizeof ops, "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\",\"display\":\"x\"}]}]",
             uid2);
    r = dir_patch(env.g, "/Groups", gid, ops);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    r = dir_get(env.g, "/Groups", gid);
    H_CHECK_STATUS(r, 200);
    H_CHECK(r.json && json_array_size(h_jget(r.json, "members")) == 2);
    H_CHECK(r.json && dir_refs_hold(h_jget(r.json, "members"), uid1) && dir_refs_hold(h_jget(r.json, "members"), uid2));
    h_resp_free(&r);
    snprintf(ops, sizeof ops, "[{\"op\":\"remove\",\"path\":\"members[value eq \\\"%s\\\"]\"}]", uid1);
    r = dir_patch(env.g, "/Groups", gid, ops);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    /* Entra's remove with a value list; removing an absent member is fine */
    snprintf(ops, sizeof ops, "[{\"op\":\"Remove\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"},{\"value\":\"%s\"}]}]",
             uid2, uid1);
    r = dir_patch(env.g, "/Groups", gid, ops);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    e = dir_entry(env.s, gid);
    H_CHECK(e && h_ldap_attr(e, "member") == NULL);
    json_decref(e);
    e = dir_entry(env.s, uid1);
    H_CHECK(e && !dir_has_dn(e, "memberof", gdn));
    json_decref(e);

    /* a group in a group, found by displayName, renamed, deleted */
    char *outer = group_create("All Retail", "f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9");
    H_REQUIRE(outer != NULL);
    snprintf(ops, sizeof ops, "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]", gid);
    r = dir_patch(env.g, "/Groups", outer, ops);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    e = dir_entry(env.s, outer);
    H_CHECK(e && dir_has_dn(e, "member", gdn));
    json_decref(e);
    r = h_http(env.g, "GET", "/Groups?filter=displayName%20eq%20%22All%20Retail%22", NULL, NULL);
    H_CHECK_INT(h_jint(r.json, "totalResults", -1), 1);
    H_CHECK_STR(h_jstr(r.json, "Resources[0].id"), outer);
    h_resp_free(&r);
    r = dir_patch(env.g, "/Groups", gid, "[{\"op\":\"Replace\",\"path\":\"displayName\",\"value\":\"Retail Team\"}]");
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    char *gdn2 = dir_dn(env.s, gid); /* same id, new DN; AD follows in member */
    H_CHECK(gdn2 && it_dn_is(gdn2, "CN", "Retail Team", H_AD_GROUPS));
    e = dir_entry(env.s, outer);
    H_CHECK(e && gdn2 && dir_has_dn(e, "member", gdn2));
    json_decref(e);
    r = dir_delete(env.g, "/Groups", gid);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    e = dir_entry(env.s, outer);
    H_CHECK(e && h_ldap_attr(e, "member") == NULL);
    json_decref(e);
    r = dir_delete(env.g, "/Groups", outer);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    free(gid);
    free(outer);
    free(gdn);
    free(gdn2);
    free(udn1);
    free(udn2);
}

/* ---------------------------------------------------------------- range retrieval */

#define RANGE_USERS 25

static json_t *range_user(size_t i, void *ctx)
{
    (void)ctx;
    char dn[256], cn[64];
    snprintf(cn, sizeof cn, "range%02zu@example.com", i);
    snprintf(dn, sizeof dn, "CN=%s,%s", cn, H_AD_PEOPLE);
    char sam[32];
    snprintf(sam, sizeof sam, "range%02zu", i);
    return json_pack("{s:s, s:{s:[s,s,s,s], s:[s], s:[s], s:[s]}}", "dn", dn, "attrs", "objectClass", "top", "person",
                     "organizationalPerson", "user", "cn", cn, "sAMAccountName", sam, "userPrincipalName", cn);
}

static size_t members_in(const json_t *j)
{
    const json_t *ms = h_jget(j, "members");
    json_t *seen = json_object();
    for (size_t i = 0; i < json_array_size(ms); i++) {
        const char *v = h_jstr(json_array_get(ms, i), "value");
        if (v)
            json_object_set_new(seen, v, json_true());
    }
    size_t n = json_object_size(seen);
    json_decref(seen);
    return n;
}

/* Big groups: AD hands out at most MaxValRange (1500) values of member per
 * read, as "member;range=0-1499", and the client reads on. Samba AD answers
 * ranges only when asked, so the gateway asks (ldap.range_retrieval); here in
 * ranges of 10 for 25 members (1,600 users would cost Samba ~2 minutes of
 * adds), which takes the same path as 1500 for 1,600: GET, list and the body of
 * a PATCH show every member. */
static void range_retrieval_flow(void)
{
    char path[4096];
    json_error_t jerr;
    snprintf(path, sizeof path, "%s/mappings/active-directory.json", S2L_SOURCE_DIR);
    json_t *m = json_load_file(path, 0, &jerr);
    H_REQUIRE(m != NULL);
    json_t *grt = json_array_get(json_object_get(m, "resource_types"), 1);
    H_REQUIRE(strcmp(json_string_value(json_object_get(grt, "name")), "Group") == 0);
    json_object_set_new(json_object_get(grt, "ldap"), "range_retrieval", json_integer(10));
    char *mapping = dir_write_mapping(m);
    json_decref(m);
    snprintf(path, sizeof path, "{\"mapping\":\"%s\"}", mapping);
    h_gw *g = h_gw_start(env.s, path);
    H_REQUIRE(g != NULL);

    H_REQUIRE(h_ldap_add_gen(env.s, RANGE_USERS, range_user, NULL) == 0);
    json_t *vals = json_array();
    for (size_t i = 0; i < RANGE_USERS; i++) {
        char dn[256];
        snprintf(dn, sizeof dn, "CN=range%02zu@example.com,%s", i, H_AD_PEOPLE);
        json_array_append_new(vals, json_string(dn));
    }
    json_t *ge = json_pack("{s:s, s:{s:[s,s], s:[s], s:[s], s:o}}", "dn", "CN=Range Test," H_AD_GROUPS, "attrs",
                           "objectClass", "top", "group", "cn", "Range Test", "sAMAccountName", "Range Test", "member",
                           vals);
    H_REQUIRE(h_ldap_add_entry(env.s, ge) == 0);
    json_decref(ge);

    /* the list: the group with all its members */
    h_resp r = h_http(g, "GET", "/Groups?filter=displayName%20eq%20%22Range%20Test%22", NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(h_jint(r.json, "totalResults", -1), 1);
    H_CHECK_INT(members_in(h_jget(r.json, "Resources[0]")), RANGE_USERS);
    char *gid = h_jstr(r.json, "Resources[0].id") ? strdup(h_jstr(r.json, "Resources[0].id")) : NULL;
    h_resp_free(&r);
    H_REQUIRE(gid != NULL);
    /* GET by id */
    r = dir_get(g, "/Groups", gid);
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(members_in(r.json), RANGE_USERS);
    /* each member is the user, by its objectGUID */
    const char *first = h_jstr(r.json, "members[0].value");
    json_t *fe = first ? dir_entry(env.s, first) : NULL;
    H_CHECK(fe && h_jstr(fe, "dn") && strncasecmp(h_jstr(fe, "dn"), "CN=range", 8) == 0);
    json_decref(fe);
    h_resp_free(&r);
    /* one more through PATCH, the body asked for: 26 */
    char *extra = IT_CREATE(g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"range.extra@example.com\"}");
    H_REQUIRE(extra != NULL);
    char body[512], ppath[256];
    snprintf(body, sizeof body, "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":[{\"op\":\"add\",\"path\":"
                                "\"members\",\"value\":[{\"value\":\"%s\"}]}]}", extra);
    snprintf(ppath, sizeof ppath, "/Groups/%s?attributes=members", gid);
    r = h_http(g, "PATCH", ppath, body, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(members_in(r.json), RANGE_USERS + 1);
    H_CHECK(r.json && dir_refs_hold(h_jget(r.json, "members"), extra));
    h_resp_free(&r);
    json_t *gl = dir_entry(env.s, gid);
    H_CHECK(gl && json_array_size(json_object_get(json_object_get(gl, "attrs"), "member")) == RANGE_USERS + 1);
    json_decref(gl);

    h_gw_stop(g);
    unlink(mapping);
    free(mapping);
    free(gid);
    free(extra);
}

static bool ad_disabled(const json_t *e)
{
    return (uac_of(e) & 2) == 2;
}

int main(void)
{
    if (!dir_env_start(&env, h_ad_start, h_ad_unavailable, "Samba AD DC"))
        return H_DONE();
    double t0 = h_now_ms();

    char *entra = entra_user_create();
    entra_user_lookups(entra);
    entra_user_patch(entra);
    entra_user_disable_enable(entra);
    flag_change_is_race_safe(entra);
    entra_user_manager(entra);

    char *okta = okta_user_create();
    okta_user_password_and_status(okta);
    samaccountname_clash();

    groups_flow(entra, okta);
    dir_list_paging(&env);
    user_delete(entra);
    user_delete(okta);
    static const dir_policy_case policies = {.mapping = "mappings/active-directory.json", .rdn_attr = "CN",
                                             .people = H_AD_PEOPLE, .groups = H_AD_GROUPS, .suffix = H_AD_SUFFIX,
                                             .inactive = ad_disabled};
    dir_policies_flow(&env, &policies);
    range_retrieval_flow();
    fprintf(stderr, "Samba AD DC: flows took %.1f s\n", (h_now_ms() - t0) / 1000);
    static const char *const secrets[] = {OKTA_PW, OKTA_PW2, OKTA_PW3, NULL};
    dir_check_log_clean(&env, secrets);
    dir_env_stop(&env);
    return H_DONE();
}
