/* it_idp_adopt.c — users and groups that existed before the IdP was
 * connected (added with plain ldapadd: only the standard object classes) are
 * adopted by their first update: the same modify adds the mapping's classes
 * the entry lacks, and nothing else about the entry changes — attributes the
 * mapping does not own stay as they were.
 *
 * Entra's flow (match by userName / displayName, PATCH with externalId,
 * locale and active false, member add), Okta's PUT, and a person-only entry
 * under a mapping whose object_filter finds persons (inetOrgPerson added,
 * which OpenLDAP allows only with the Relax Rules control the gateway sends).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_idp_common.h"

static it_env env;

#define SEED_LDIF                                                                                                 \
    "dn: uid=legacy.anna," H_PEOPLE "\n"                                                                          \
    "objectClass: inetOrgPerson\n"                                                                                \
    "uid: legacy.anna\n"                                                                                          \
    "cn: Anna Legacy\n"                                                                                           \
    "sn: Legacy\n"                                                                                                \
    "mail: anna@legacy.example\n"                                                                                 \
    "roomNumber: 4711\n"                                                                                          \
    "description: seeded by ldapadd\n"                                                                            \
    "\n"                                                                                                          \
    "dn: uid=legacy.ben," H_PEOPLE "\n"                                                                           \
    "objectClass: inetOrgPerson\n"                                                                                \
    "uid: legacy.ben\n"                                                                                           \
    "cn: Ben Legacy\n"                                                                                            \
    "sn: Legacy\n"                                                                                                \
    "carLicense: B-EN 42\n"                                                                                       \
    "\n"                                                                                                          \
    "dn: cn=Legacy Team," H_GROUPS "\n"                                                                           \
    "objectClass: groupOfNames\n"                                                                                 \
    "cn: Legacy Team\n"                                                                                           \
    "member: uid=legacy.anna," H_PEOPLE "\n"                                                                      \
    "description: seeded group\n"                                                                                 \
    "businessCategory: legacy\n"

static bool has_class(const json_t *e, const char *oc)
{
    return h_ldap_has_value(e, "objectclass", oc, true);
}

static void test_entra_user(void)
{
    char *id = NULL, *path;
    h_resp r;
    json_t *e;

    H_CHECK_INT(IT_LIST_COUNT(env.g, "userName eq \"Legacy.Anna\"", &id), 1);
    H_REQUIRE(id != NULL);
    path = it_user_path(id);
    r = it_patch(env.g, id,
                 "[{\"op\":\"Replace\",\"path\":\"externalId\",\"value\":\"5e2a7c1f-aaaa-4bbb-8ccc-0123456789ab\"},"
                 "{\"op\":\"Add\",\"path\":\"locale\",\"value\":\"sv-SE\"},"
                 "{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"False\"}]");
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "externalId"), "5e2a7c1f-aaaa-4bbb-8ccc-0123456789ab");
    H_CHECK_STR(h_jstr(r.json, "locale"), "sv-SE");
    H_CHECK(json_is_false(h_jget(r.json, "active")));
    H_CHECK_STR(h_jstr(r.json, "emails[0].value"), "anna@legacy.example");
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_REQUIRE(e != NULL);
    H_CHECK(has_class(e, "scimUser") && has_class(e, "inetOrgPerson") && has_class(e, "person"));
    H_CHECK_STR(h_ldap_attr(e, "scimexternalid"), "5e2a7c1f-aaaa-4bbb-8ccc-0123456789ab");
    H_CHECK_STR(h_ldap_attr(e, "scimlocale"), "sv-SE");
    H_CHECK_STR(h_ldap_attr(e, "pwdaccountlockedtime"), IT_LOCKED);
    /* what the mapping does not own is untouched */
    H_CHECK_STR(h_ldap_attr(e, "roomnumber"), "4711");
    H_CHECK_STR(h_ldap_attr(e, "description"), "seeded by ldapadd");
    H_CHECK_STR(h_ldap_attr(e, "cn"), "Anna Legacy");
    H_CHECK_STR(h_ldap_attr(e, "mail"), "anna@legacy.example");
    json_decref(e);
    /* and Entra's lookup by externalId finds it now */
    H_CHECK_INT(IT_LIST_COUNT(env.g, "externalId eq \"5e2a7c1f-aaaa-4bbb-8ccc-0123456789ab\"", NULL), 1);
    free(path);
    free(id);
}

static void test_okta_put(void)
{
    char *id = NULL, *path;
    h_resp r;
    json_t *e;

    H_CHECK_INT(IT_LIST_COUNT(env.g, "userName eq \"legacy.ben\"", &id), 1);
    H_REQUIRE(id != NULL);
    path = it_user_path(id);
    r = h_http(env.g, "PUT", path,
               "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"legacy.ben\",\"externalId\":\"00uOKTA1\","
               "\"name\":{\"givenName\":\"Ben\",\"familyName\":\"Legacy\"},\"locale\":\"en-US\","
               "\"emails\":[{\"primary\":true,\"type\":\"work\",\"value\":\"ben@legacy.example\"}],\"active\":true}",
               NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "locale"), "en-US");
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK(has_class(e, "scimUser"));
    H_CHECK_STR(h_ldap_attr(e, "scimexternalid"), "00uOKTA1");
    H_CHECK_STR(h_ldap_attr(e, "mail"), "ben@legacy.example");
    H_CHECK_STR(h_ldap_attr(e, "carlicense"), "B-EN 42");
    json_decref(e);
    free(path);
    free(id);
}

static void test_entra_group(void)
{
    char *gid = NULL, *new_uid = IT_CREATE(env.g, "{\"userName\":\"fresh.member\"}");
    char *new_dn = it_dn_by_id(env.s, new_uid ? new_uid : "");
    char body[512], path[128];
    h_resp r;
    json_t *g;

    H_REQUIRE(new_uid && new_dn);
    r = h_http(env.g, "GET", "/Groups?excludedAttributes=members&filter=displayName%20eq%20%22legacy%20team%22", NULL,
               NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(h_jint(r.json, "totalResults", -1), 1);
    if (h_jstr(r.json, "Resources[0].id"))
        gid = strdup(h_jstr(r.json, "Resources[0].id"));
    h_resp_free(&r);
    H_REQUIRE(gid != NULL);
    snprintf(path, sizeof path, "/Groups/%s", gid);
    snprintf(body, sizeof body,
             "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":[{\"op\":\"Replace\",\"path\":\"externalId\","
             "\"value\":\"grp-ext-1\"},{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]}",
             new_uid);
    r = h_http(env.g, "PATCH", path, body, NULL);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    g = h_ldap_entry(env.s, "cn=Legacy Team," H_GROUPS);
    H_REQUIRE(g != NULL);
    H_CHECK(has_class(g, "scimGroup"));
    H_CHECK_STR(h_ldap_attr(g, "scimexternalid"), "grp-ext-1");
    H_CHECK(h_ldap_has_value(g, "member", new_dn, true));
    H_CHECK(h_ldap_has_value(g, "member", "uid=legacy.anna," H_PEOPLE, true));
    H_CHECK_STR(h_ldap_attr(g, "description"), "seeded group");
    H_CHECK_STR(h_ldap_attr(g, "businesscategory"), "legacy");
    json_decref(g);

    /* a member change alone adopts a group too */
    H_CHECK(h_ldap_ldif(env.s, "dn: cn=Legacy Two," H_GROUPS "\nobjectClass: groupOfNames\ncn: Legacy Two\n"
                               "member: uid=legacy.ben," H_PEOPLE "\n") == 1);
    r = h_http(env.g, "GET", "/Groups?filter=displayName%20eq%20%22Legacy%20Two%22", NULL, NULL);
    H_REQUIRE(h_jstr(r.json, "Resources[0].id") != NULL);
    snprintf(path, sizeof path, "/Groups/%s", h_jstr(r.json, "Resources[0].id"));
    h_resp_free(&r);
    snprintf(body, sizeof body,
             "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":[{\"op\":\"add\",\"path\":\"members\","
             "\"value\":[{\"value\":\"%s\"}]}]}",
             new_uid);
    r = h_http(env.g, "PATCH", path, body, NULL);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    g = h_ldap_entry(env.s, "cn=Legacy Two," H_GROUPS);
    H_CHECK(has_class(g, "scimGroup") && h_ldap_has_value(g, "member", new_dn, true));
    json_decref(g);
    free(gid);
    free(new_uid);
    free(new_dn);
}

/* A person (not inetOrgPerson) under a mapping that finds persons: the update
 * adds organizationalPerson, inetOrgPerson and scimUser (a structural class
 * change, allowed by the Relax Rules control). */
static void test_person(void)
{
    json_t *m = it_default_mapping();
    char *mapping, *config, *id = NULL;
    h_gw *g2;
    size_t i;
    json_t *rt, *e;
    h_resp r;

    json_array_foreach(json_object_get(m, "resource_types"), i, rt) {
        if (strcmp(json_string_value(json_object_get(rt, "name")), "User") == 0)
            json_object_set_new(json_object_get(rt, "ldap"), "object_filter", json_string("(objectClass=person)"));
    }
    mapping = it_mapping_write(m);
    config = it_mapping_config(mapping);
    H_CHECK(h_ldap_ldif(env.s, "dn: uid=old.person," H_PEOPLE "\nobjectClass: person\nobjectClass: uidObject\n"
                               "uid: old.person\ncn: Old Person\nsn: Person\ntelephoneNumber: +1 555 0100\n") == 1);
    g2 = h_gw_start(env.s, config);
    H_REQUIRE(g2 != NULL);
    H_CHECK_INT(IT_LIST_COUNT(g2, "userName eq \"old.person\"", &id), 1);
    H_REQUIRE(id != NULL);
    r = it_patch(g2, id, "[{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"Old P.\"},"
                         "{\"op\":\"add\",\"path\":\"externalId\",\"value\":\"op-1\"}]");
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "displayName"), "Old P.");
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK(has_class(e, "inetOrgPerson") && has_class(e, "scimUser") && has_class(e, "uidObject"));
    H_CHECK_STR(h_ldap_attr(e, "displayname"), "Old P.");
    H_CHECK_STR(h_ldap_attr(e, "telephonenumber"), "+1 555 0100");
    json_decref(e);
    h_gw_stop(g2);
    unlink(mapping);
    free(mapping);
    free(config);
    free(id);
    json_decref(m);
}

int main(void)
{
    if (it_env_start(&env, NULL)) {
        H_REQUIRE(h_ldap_ldif(env.s, SEED_LDIF) == 3);
        test_entra_user();
        test_okta_put();
        test_entra_group();
        test_person();
    }
    it_env_stop(&env);
    return H_DONE();
}
