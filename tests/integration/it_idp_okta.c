/* it_idp_okta.c — what Okta's SCIM 2.0 app sends for a user
 * (tests/data/idp/okta.json): create with locale, password, groups: [] and a
 * free-text managerId in manager.value; profile updates by PUT; deactivation
 * by a path-less PATCH. Each answer, a fresh GET and the LDAP entry are
 * checked: every value is kept, the password works for a bind, attributes a
 * PUT leaves out are gone, the manager that is no user id is kept as sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_idp_common.h"

static it_env env;

int main(void)
{
    json_t *data = it_idp_load("okta");
    json_t *create = json_object_get(data, "create");
    json_t *body, *got, *e;
    char *id = NULL, *path = NULL, *dn = NULL;
    h_resp r;

    if (!it_env_start(&env, NULL))
        goto out;

    r = h_http_json(env.g, "POST", "/Users", create);
    H_CHECK_STATUS(r, 201);
    H_REQUIRE(r.status == 201 && h_jstr(r.json, "id") != NULL);
    H_CHECK(r.body_len > 0); /* Okta treats an empty body as an error */
    id = strdup(h_jstr(r.json, "id"));
    IT_CHECK_HOLDS(create, r.json);
    h_resp_free(&r);
    got = IT_GET_USER(env.g, id);
    IT_CHECK_HOLDS(create, got);
    H_CHECK_STR(h_jstr(got, "locale"), "en-US");
    H_CHECK_STR(h_jstr(got, IT_URN_ENT ".manager.value"), "Jane Boss");
    H_CHECK(h_jget(got, "password") == NULL);
    json_decref(got);

    dn = it_dn_by_id(env.s, id);
    e = it_entry_by_id(env.s, id);
    H_REQUIRE(e != NULL && dn != NULL);
    H_CHECK_STR(h_ldap_attr(e, "scimlocale"), "en-US");
    H_CHECK_STR(h_ldap_attr(e, "scimtimezone"), "America/Los_Angeles");
    H_CHECK_STR(h_ldap_attr(e, "scimmiddlename"), "K");
    H_CHECK_STR(h_ldap_attr(e, "scimhonorificprefix"), "Mr.");
    H_CHECK_STR(h_ldap_attr(e, "scimnickname"), "Ike");
    H_CHECK_STR(h_ldap_attr(e, "labeleduri"), "https://example.com/people/isaac");
    H_CHECK_STR(h_ldap_attr(e, "employeetype"), "Employee");
    H_CHECK_STR(h_ldap_attr(e, "c"), "US");
    H_CHECK_STR(h_ldap_attr(e, "co"), "US");
    H_CHECK_STR(h_ldap_attr(e, "scimcostcenter"), "R&D");
    H_CHECK_STR(h_ldap_attr(e, "scimdivision"), "Engineering");
    /* managerId is free text: no DN in manager, the value kept as sent */
    H_CHECK_INT(it_nvals(e, "manager"), 0);
    H_CHECK(h_ldap_attr(e, "scimkept") != NULL && strstr(h_ldap_attr(e, "scimkept"), "Jane Boss") != NULL);
    json_decref(e);
    H_CHECK(h_ldap_bind_ok(env.s, dn, "1mz050nq!Q"));
    {
        char *line = it_log_line(env.g, "references_kept", (const char *const[]){"Jane Boss", NULL});
        H_CHECK(line != NULL && it_log_num(line, "count") == 1);
        free(line);
    }

    /* Okta's profile update: PUT of the whole user */
    path = it_user_path(id);
    body = it_subst(json_object_get(data, "put"), "{id}", id);
    r = h_http_json(env.g, "PUT", path, body);
    H_CHECK_STATUS(r, 200);
    IT_CHECK_HOLDS(body, r.json);
    H_CHECK(h_jget(r.json, "nickName") == NULL);
    H_CHECK(h_jget(r.json, "profileUrl") == NULL);
    H_CHECK(h_jget(r.json, "name.honorificPrefix") == NULL);
    h_resp_free(&r);
    got = IT_GET_USER(env.g, id);
    IT_CHECK_HOLDS(body, got);
    H_CHECK_STR(h_jstr(got, IT_URN_ENT ".manager.value"), "John Chief");
    json_decref(got);
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "scimlocale"), "en-GB");
    H_CHECK_STR(h_ldap_attr(e, "scimmiddlename"), "Kent");
    H_CHECK_STR(h_ldap_attr(e, "c"), "GB");
    H_CHECK_STR(h_ldap_attr(e, "l"), "London");
    H_CHECK(h_ldap_attr(e, "street") == NULL);
    H_CHECK(h_ldap_attr(e, "scimnickname") == NULL && h_ldap_attr(e, "labeleduri") == NULL);
    H_CHECK(h_ldap_attr(e, "scimhonorificprefix") == NULL && h_ldap_attr(e, "o") == NULL);
    H_CHECK(h_ldap_attr(e, "mobile") == NULL);
    H_CHECK_INT(it_nvals(e, "scimkept"), 1);
    H_CHECK(strstr(h_ldap_attr(e, "scimkept"), "John Chief") != NULL);
    json_decref(e);
    /* a PUT without password leaves it alone */
    H_CHECK(h_ldap_bind_ok(env.s, dn, "1mz050nq!Q"));
    json_decref(body);

    /* deactivation */
    r = h_http_json(env.g, "PATCH", path, json_object_get(data, "deactivate"));
    H_CHECK_STATUS(r, 200);
    H_CHECK(json_is_false(h_jget(r.json, "active")));
    H_CHECK_STR(h_jstr(r.json, "locale"), "en-GB");
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "pwdaccountlockedtime"), IT_LOCKED);
    json_decref(e);
    H_CHECK(!h_ldap_bind_ok(env.s, dn, "1mz050nq!Q"));

out:
    it_env_stop(&env);
    free(id);
    free(path);
    free(dn);
    json_decref(data);
    return H_DONE();
}
