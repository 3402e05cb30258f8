/* it_idp_onelogin.c — what OneLogin sends for a user
 * (tests/data/idp/onelogin.json): its own schema URN urn:scim:schemas:core:2.0
 * next to the standard one, emails as one object, name.middleName, timezone
 * and userType; updates by PUT and a PATCH with lower-case op names. Every
 * value is read back and found in the LDAP entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_idp_common.h"

static it_env env;

int main(void)
{
    json_t *data = it_idp_load("onelogin");
    json_t *create = json_object_get(data, "create");
    json_t *got, *e;
    char *id = NULL, *path = NULL;
    h_resp r;

    if (!it_env_start(&env, NULL))
        goto out;

    r = h_http_json(env.g, "POST", "/Users", create);
    H_CHECK_STATUS(r, 201);
    H_REQUIRE(r.status == 201 && h_jstr(r.json, "id") != NULL);
    id = strdup(h_jstr(r.json, "id"));
    IT_CHECK_HOLDS(create, r.json);
    h_resp_free(&r);
    got = IT_GET_USER(env.g, id);
    IT_CHECK_HOLDS(create, got);
    /* the non-standard URN is not an error; the default mapping keeps it */
    H_CHECK(json_array_size(h_jget(got, "schemas")) >= 2);
    H_CHECK_STR(h_jstr(got, "emails[0].value"), "mia.wong@example.org");
    json_decref(got);
    e = it_entry_by_id(env.s, id);
    H_REQUIRE(e != NULL);
    H_CHECK_STR(h_ldap_attr(e, "scimmiddlename"), "Li");
    H_CHECK_STR(h_ldap_attr(e, "scimtimezone"), "Asia/Singapore");
    H_CHECK_STR(h_ldap_attr(e, "employeetype"), "Contractor");
    H_CHECK_STR(h_ldap_attr(e, "mail"), "mia.wong@example.org");
    H_CHECK_STR(h_ldap_attr(e, "telephonenumber"), "+65 6555 0199");
    H_CHECK(h_ldap_attr(e, "scimkept") != NULL && strstr(h_ldap_attr(e, "scimkept"), "urn:scim:schemas:core:2.0"));
    json_decref(e);
    {
        char *line = it_log_line(env.g, "schemas_kept", (const char *const[]){"urn:scim:schemas:core:2.0", NULL});
        H_CHECK(line != NULL);
        free(line);
    }

    path = it_user_path(id);
    r = h_http_json(env.g, "PUT", path, json_object_get(data, "put"));
    H_CHECK_STATUS(r, 200);
    IT_CHECK_HOLDS(json_object_get(data, "put"), r.json);
    H_CHECK(h_jget(r.json, "title") == NULL && h_jget(r.json, "phoneNumbers") == NULL);
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "scimmiddlename"), "Lin");
    H_CHECK_STR(h_ldap_attr(e, "scimtimezone"), "Asia/Tokyo");
    H_CHECK_STR(h_ldap_attr(e, "employeetype"), "Employee");
    H_CHECK(h_ldap_attr(e, "title") == NULL && h_ldap_attr(e, "telephonenumber") == NULL);
    json_decref(e);

    r = h_http_json(env.g, "PATCH", path, json_object_get(data, "patch"));
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "title"), "Senior Buyer");
    H_CHECK_STR(h_jstr(r.json, "name.honorificSuffix"), "PhD");
    H_CHECK_STR(h_jstr(r.json, "name.middleName"), "Lin");
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "scimhonorificsuffix"), "PhD");
    H_CHECK_STR(h_ldap_attr(e, "title"), "Senior Buyer");
    json_decref(e);

out:
    it_env_stop(&env);
    free(id);
    free(path);
    json_decref(data);
    return H_DONE();
}
