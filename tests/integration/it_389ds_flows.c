/* it_389ds_flows.c — Entra ID and Okta provisioning against a real 389
 * Directory Server (2.3) through mappings/389ds.json, end to end.
 *
 * One throwaway instance for the whole suite (harness_389.c). After every
 * write the entry is read over LDAP: nsUniqueId is the SCIM id, entryusn the
 * version, nsAccountLock carries active (a locked account cannot bind),
 * passwords are stored hashed — by 389's own storage scheme with the shipped
 * mapping, by the gateway ({CRYPT}, {SSHA512}) with "scheme" set — and the
 * user binds with the password the IdP sent; groupOfNames groups hold member
 * DNs and the MemberOf plugin fills memberOf.
 */
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_dir_common.h"

#define URN_GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"

static dir_env env;

static bool is_hashed(const char *stored, const char *cleartext)
{
    return stored && stored[0] == '{' && strchr(stored, '}') != NULL && strstr(stored, cleartext) == NULL;
}

/* ---------------------------------------------------------------- Entra users */

#define ENTRA_USER "Lee.Gu@contoso.example"

static char *entra_user(void)
{
    h_resp r = h_http(env.g, "POST", "/Users",
                      "{\"schemas\":[\"" IT_URN_USER "\",\"" IT_URN_ENT "\"],"
                      "\"externalId\":\"a1c3e5f7-0b2d-4f6a-8c9e-1d3f5a7b9c0e\",\"userName\":\"" ENTRA_USER "\","
                      "\"active\":true,\"displayName\":\"Lee Gu\","
                      "\"emails\":[{\"primary\":true,\"type\":\"work\",\"value\":\"lee.gu@contoso.example\"}],"
                      "\"name\":{\"formatted\":\"Lee Gu\",\"familyName\":\"Gu\",\"givenName\":\"Lee\"},"
                      "\"" IT_URN_ENT "\":{\"department\":\"Engineering\"}}",
                      NULL);
    H_CHECK_STATUS(r, 201);
    H_REQUIRE(r.status == 201 && h_jstr(r.json, "id") != NULL);
    char *id = strdup(h_jstr(r.json, "id"));
    const char *version = h_jstr(r.json, "meta.version");
    H_CHECK(version != NULL && strncmp(version, "W/\"", 3) == 0);
    H_CHECK_STR(h_header(&r, "ETag"), version);
    H_CHECK(json_is_true(h_jget(r.json, "active")));
    h_resp_free(&r);

    json_t *e = dir_entry(env.s, id);
    H_REQUIRE(e != NULL);
    H_CHECK_STR(h_ldap_attr(e, "nsuniqueid"), id);
    H_CHECK(it_dn_is(h_jstr(e, "dn"), "uid", ENTRA_USER, H_PEOPLE));
    H_CHECK_STR(h_ldap_attr(e, "cn"), "Lee Gu");
    H_CHECK_STR(h_ldap_attr(e, "ou"), "Engineering");
    H_CHECK_STR(h_ldap_attr(e, "scimexternalid"), "a1c3e5f7-0b2d-4f6a-8c9e-1d3f5a7b9c0e");
    H_CHECK(h_ldap_attr(e, "nsaccountlock") == NULL);
    H_CHECK(h_ldap_attr(e, "entryusn") != NULL);
    json_decref(e);

    char *f = it_eq_filter("userName", ENTRA_USER), *got = NULL;
    H_CHECK_INT(IT_LIST_COUNT(env.g, f, &got), 1);
    H_CHECK_STR(got, id);
    free(got);
    free(f);
    f = it_eq_filter("id", id);
    got = NULL;
    H_CHECK_INT(IT_LIST_COUNT(env.g, f, &got), 1);
    H_CHECK_STR(got, id);
    free(got);
    free(f);
    r = dir_get(env.g, "/Users", "not-an-nsuniqueid");
    H_CHECK_STATUS(r, 404);
    h_resp_free(&r);
    return id;
}

/* PATCH, If-Match, disable and enable with nsAccountLock. */
static void entra_user_updates(const char *id)
{
    char *dn = dir_dn(env.s, id);
    H_REQUIRE(dn != NULL);
    h_resp r = dir_get(env.g, "/Users", id);
    char *etag = h_header(&r, "ETag") ? strdup(h_header(&r, "ETag")) : NULL;
    H_CHECK(etag != NULL);
    h_resp_free(&r);
    r = it_patch(env.g, id, "[{\"op\":\"Replace\",\"path\":\"" IT_URN_ENT ":department\",\"value\":\"Research\"}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    json_t *e = dir_entry(env.s, id);
    H_CHECK_STR(e ? h_ldap_attr(e, "ou") : NULL, "Research");
    json_decref(e);
    /* entryusn moved on: the old ETag no longer matches */
    char *path = it_user_path(id), hdr[256];
    snprintf(hdr, sizeof hdr, "If-Match: %s", etag ? etag : "");
    r = h_http(env.g, "PATCH", path,
               "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"x\"}]}",
               (const char *const[]){hdr, NULL});
    H_CHECK_STATUS(r, 412);
    h_resp_free(&r);

    /* a password to bind with, then deactivate: 389 refuses the bind (53) */
    r = it_patch(env.g, id, "[{\"op\":\"Add\",\"path\":\"password\",\"value\":\"Entra-Pass-77\"}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, "Entra-Pass-77"), LDAP_SUCCESS);
    r = it_patch(env.g, id, "[{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"False\"}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    e = dir_entry(env.s, id);
    H_CHECK(e && h_ldap_has_value(e, "nsaccountlock", "TRUE", true));
    json_decref(e);
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, "Entra-Pass-77"), LDAP_UNWILLING_TO_PERFORM);
    r = dir_get(env.g, "/Users", id);
    H_CHECK(json_is_false(h_jget(r.json, "active")));
    h_resp_free(&r);
    char *got = NULL;
    H_CHECK_INT(IT_LIST_COUNT(env.g, "active eq false", &got), 1);
    H_CHECK_STR(got, id);
    free(got);
    r = it_patch(env.g, id, "[{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"True\"}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    e = dir_entry(env.s, id);
    H_CHECK(e && h_ldap_attr(e, "nsaccountlock") == NULL);
    json_decref(e);
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, "Entra-Pass-77"), LDAP_SUCCESS);
    H_CHECK_INT(IT_LIST_COUNT(env.g, "active eq false", NULL), 0);
    free(path);
    free(etag);
    free(dn);
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
    free(id);
}

/* ---------------------------------------------------------------- Okta users, passwords */

#define OKTA_USER "amy.wong@example.com"
#define OKTA_PW "Okta-Pass-1!"
#define OKTA_PW2 "Okta-Pass-2?"

/* With the shipped mapping 389-DS hashes the password itself. */
/* How many times the gateway's (debug) log says a write went straight to the cached DN. */
static int direct_writes(void)
{
    FILE *f = fopen(h_gw_log_path(env.g), "rb");
    char line[4096];
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, "event=update_path") && strstr(line, "path=direct") ? 1 : 0;
    if (f)
        fclose(f);
    return n;
}

/* Okta's profile pushes are PUTs; active false / true through nsAccountLock.
 * The password stays. 389-DS does not list the assertion control (RFC 4528)
 * in its root DSE, so no write goes to a cached DN without reading: the
 * gateway never sends a control the server does not announce. */
static void okta_profile_puts(const char *id, const char *dn)
{

    static const char *const actives[] = {"true", "false", "true"};
    for (int i = 0; i < 3; i++) {
        char body[1024], path[256];
        snprintf(body, sizeof body,
                 "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"" OKTA_USER "\","
                 "\"name\":{\"givenName\":\"Amy\",\"familyName\":\"Wong-%d\"},"
                 "\"emails\":[{\"primary\":true,\"value\":\"" OKTA_USER "\",\"type\":\"work\"}],"
                 "\"displayName\":\"Amy Wong %d\",\"title\":\"Pilot %d\",\"externalId\":\"00u9zyx8WVU7tsr6q5p4\","
                 "\"groups\":[],\"active\":%s}",
                 i, i, i, actives[i]);
        snprintf(path, sizeof path, "/Users/%s", id);
        h_resp r = h_http(env.g, "PUT", path, body, NULL);
        H_CHECK_STATUS(r, 200);
        H_CHECK(json_is_boolean(h_jget(r.json, "active")) && json_is_true(h_jget(r.json, "active")) == (i != 1));
        h_resp_free(&r);
        json_t *e = dir_entry(env.s, id);
        char want[64];
        snprintf(want, sizeof want, "Pilot %d", i);
        H_CHECK_STR(e ? h_ldap_attr(e, "title") : NULL, want);
        snprintf(want, sizeof want, "Wong-%d", i);
        H_CHECK_STR(e ? h_ldap_attr(e, "sn") : NULL, want);
        H_CHECK(e && (i == 1) == h_ldap_has_value(e, "nsaccountlock", "TRUE", true));
        json_decref(e);
        H_CHECK_INT(h_ldap_bind_rc(env.s, dn, OKTA_PW2), i == 1 ? LDAP_UNWILLING_TO_PERFORM : LDAP_SUCCESS);
    }
    H_CHECK_INT(direct_writes(), 0);
}

static char *okta_user(void)
{
    h_resp r = h_http(env.g, "POST", "/Users",
                      "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"" OKTA_USER "\","
                      "\"name\":{\"givenName\":\"Amy\",\"familyName\":\"Wong\"},"
                      "\"emails\":[{\"primary\":true,\"value\":\"" OKTA_USER "\",\"type\":\"work\"}],"
                      "\"displayName\":\"Amy Wong\",\"externalId\":\"00u9zyx8WVU7tsr6q5p4\",\"groups\":[],"
                      "\"password\":\"" OKTA_PW "\",\"active\":true}",
                      NULL);
    H_CHECK_STATUS(r, 201);
    H_REQUIRE(r.status == 201 && h_jstr(r.json, "id") != NULL);
    char *id = strdup(h_jstr(r.json, "id"));
    H_CHECK(h_jget(r.json, "password") == NULL);
    H_CHECK(r.body && strstr(r.body, OKTA_PW) == NULL);
    h_resp_free(&r);

    json_t *e = dir_entry(env.s, id);
    H_REQUIRE(e != NULL);
    H_CHECK(is_hashed(h_ldap_attr(e, "userpassword"), OKTA_PW));
    fprintf(stderr, "389-DS stored the password as %.24s...\n", h_ldap_attr(e, "userpassword"));
    json_decref(e);
    char *dn = dir_dn(env.s, id);
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, OKTA_PW), LDAP_SUCCESS);
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, "wrong-password"), LDAP_INVALID_CREDENTIALS);

    r = it_patch(env.g, id, "[{\"op\":\"replace\",\"value\":{\"password\":\"" OKTA_PW2 "\"}}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, OKTA_PW2), LDAP_SUCCESS);
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, OKTA_PW), LDAP_INVALID_CREDENTIALS);
    e = dir_entry(env.s, id);
    H_CHECK(e && is_hashed(h_ldap_attr(e, "userpassword"), OKTA_PW2));
    json_decref(e);

    /* Okta's deactivation: a no-path PATCH */
    r = it_patch(env.g, id, "[{\"op\":\"replace\",\"value\":{\"active\":false}}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, OKTA_PW2), LDAP_UNWILLING_TO_PERFORM);
    r = it_patch(env.g, id, "[{\"op\":\"replace\",\"value\":{\"active\":true}}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, OKTA_PW2), LDAP_SUCCESS);
    okta_profile_puts(id, dn);
    free(dn);
    return id;
}

/* The gateway hashes instead ("scheme": "{CRYPT}" and "{SSHA512}"): 389
 * verifies both. The gateway binds as Directory Manager, which 389 lets
 * store pre-hashed values. */
static bool set_scheme(json_t *m, const void *arg)
{
    json_t *attrs = json_object_get(json_array_get(json_object_get(m, "resource_types"), 0), "attributes");
    size_t i;
    json_t *a;
    json_array_foreach(attrs, i, a) {
        if (json_is_string(json_object_get(a, "scim")) && strcmp(json_string_value(json_object_get(a, "scim")), "password") == 0)
            return json_object_set_new(a, "scheme", json_string(arg)) == 0;
    }
    return false;
}

static void gateway_hashing(const char *scheme, const char *user)
{
    char name[32];
    snprintf(name, sizeof name, "hash%zu", strlen(scheme));
    json_error_t jerr;
    char *in = NULL, *out = NULL, *extra = NULL;
    json_t *m = NULL;
    in = malloc(strlen(S2L_SOURCE_DIR) + 64);
    sprintf(in, "%s/mappings/389ds.json", S2L_SOURCE_DIR);
    out = malloc(strlen(h_slapd_dir(env.s)) + 64);
    sprintf(out, "%s/mapping-%s.json", h_slapd_dir(env.s), name);
    m = json_load_file(in, 0, &jerr);
    H_REQUIRE(m != NULL && set_scheme(m, scheme) && json_dump_file(m, out, JSON_INDENT(2)) == 0);
    extra = malloc(strlen(out) + 32);
    sprintf(extra, "{\"mapping\":\"%s\"}", out);
    h_gw *g = h_gw_start(env.s, extra);
    H_REQUIRE(g != NULL);

    char body[512];
    snprintf(body, sizeof body, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"%s\",\"password\":\"Hash-Me-123\"}",
             user);
    char *id = IT_CREATE(g, body);
    H_REQUIRE(id != NULL);
    json_t *e = dir_entry(env.s, id);
    const char *stored = e ? h_ldap_attr(e, "userpassword") : NULL;
    H_CHECK(stored && strncmp(stored, scheme, strlen(scheme)) == 0);
    H_CHECK(is_hashed(stored, "Hash-Me-123"));
    char *dn = dir_dn(env.s, id);
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, "Hash-Me-123"), LDAP_SUCCESS);
    H_CHECK_INT(h_ldap_bind_rc(env.s, dn, "Hash-Me-124"), LDAP_INVALID_CREDENTIALS);
    free(dn);
    json_decref(e);
    h_resp r = dir_delete(g, "/Users", id);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    h_gw_stop(g);
    free(id);
    free(extra);
    free(in);
    free(out);
    json_decref(m);
}

/* ---------------------------------------------------------------- groups */

static void groups_flow(const char *uid1, const char *uid2)
{
    char *udn1 = dir_dn(env.s, uid1), *udn2 = dir_dn(env.s, uid2);
    H_REQUIRE(udn1 && udn2);
    h_resp r = h_http(env.g, "POST", "/Groups",
                      "{\"schemas\":[\"" URN_GROUP "\"],\"displayName\":\"Engineering\",\"members\":[]}", NULL);
    H_CHECK_STATUS(r, 201);
    H_REQUIRE(r.status == 201 && h_jstr(r.json, "id"));
    char *gid = strdup(h_jstr(r.json, "id"));
    h_resp_free(&r);
    json_t *e = dir_entry(env.s, gid);
    H_REQUIRE(e != NULL);
    H_CHECK(h_ldap_has_value(e, "objectclass", "groupOfNames", true));
    H_CHECK(h_ldap_attr(e, "member") == NULL); /* 389's groupOfNames may be empty */
    json_decref(e);
    char *gdn = dir_dn(env.s, gid);

    char ops[512];
    snprintf(ops, sizeof ops, "[{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"},{\"value\":\"%s\"}]}]",
             uid1, uid2);
    r = dir_patch(env.g, "/Groups", gid, ops);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    e = dir_entry(env.s, gid);
    H_CHECK(e && dir_has_dn(e, "member", udn1) && dir_has_dn(e, "member", udn2));
    json_decref(e);
    /* the MemberOf plugin */
    e = dir_entry(env.s, uid1);
    H_CHECK(e && gdn && dir_has_dn(e, "memberof", gdn));
    json_decref(e);
    r = dir_get(env.g, "/Users", uid1);
    H_CHECK(r.json && dir_refs_hold(h_jget(r.json, "groups"), gid));
    h_resp_free(&r);
    r = dir_get(env.g, "/Groups", gid);
    H_CHECK(r.json && json_array_size(h_jget(r.json, "members")) == 2);
    h_resp_free(&r);

    /* Okta removes one by filter; Entra removes with a value list (one absent) */
    snprintf(ops, sizeof ops, "[{\"op\":\"remove\",\"path\":\"members[value eq \\\"%s\\\"]\"}]", uid1);
    r = dir_patch(env.g, "/Groups", gid, ops);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    snprintf(ops, sizeof ops, "[{\"op\":\"Remove\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"},{\"value\":\"%s\"}]}]",
             uid1, uid2);
    r = dir_patch(env.g, "/Groups", gid, ops);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    e = dir_entry(env.s, gid);
    H_CHECK(e && h_ldap_attr(e, "member") == NULL);
    json_decref(e);
    e = dir_entry(env.s, uid2);
    H_CHECK(e && !dir_has_dn(e, "memberof", gdn));
    json_decref(e);

    /* deleting a member user: the gateway takes it out of the group */
    snprintf(ops, sizeof ops, "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]", uid2);
    r = dir_patch(env.g, "/Groups", gid, ops);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);

    r = dir_delete(env.g, "/Groups", gid);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    e = dir_entry(env.s, gid);
    H_CHECK(e == NULL);
    json_decref(e);
    free(gid);
    free(gdn);
    free(udn1);
    free(udn2);
}

/* The groupOfUniqueNames flavour (mappings/README.md, "Group flavours"):
 * uniqueMember holds the DNs, and the MemberOf plugin follows it too. */
static bool unique_names(json_t *m, const void *arg)
{
    (void)arg;
    json_t *g = json_array_get(json_object_get(m, "resource_types"), 1);
    json_t *ldap = json_object_get(g, "ldap");
    size_t i;
    json_t *a;
    json_object_set_new(ldap, "object_classes", json_pack("[s,s,s]", "top", "groupOfUniqueNames", "scimGroup"));
    json_object_set_new(ldap, "object_filter", json_string("(objectClass=groupOfUniqueNames)"));
    json_array_foreach(json_object_get(g, "attributes"), i, a) {
        if (strcmp(json_string_value(json_object_get(a, "scim")), "members") == 0)
            json_object_set_new(a, "ldap", json_string("uniqueMember"));
    }
    return true;
}

static void unique_member_groups(const char *uid)
{
    json_error_t jerr;
    char *in = malloc(strlen(S2L_SOURCE_DIR) + 64), *out = malloc(strlen(h_slapd_dir(env.s)) + 64);
    sprintf(in, "%s/mappings/389ds.json", S2L_SOURCE_DIR);
    sprintf(out, "%s/mapping-unique.json", h_slapd_dir(env.s));
    json_t *m = json_load_file(in, 0, &jerr);
    H_REQUIRE(m != NULL && unique_names(m, NULL) && json_dump_file(m, out, JSON_INDENT(2)) == 0);
    char *extra = malloc(strlen(out) + 32);
    sprintf(extra, "{\"mapping\":\"%s\"}", out);
    h_gw *g = h_gw_start(env.s, extra);
    H_REQUIRE(g != NULL);

    char body[512];
    snprintf(body, sizeof body, "{\"schemas\":[\"" URN_GROUP "\"],\"displayName\":\"Unique Crew\","
                                "\"members\":[{\"value\":\"%s\"}]}", uid);
    h_resp r = h_http(g, "POST", "/Groups", body, NULL);
    H_CHECK_STATUS(r, 201);
    char *gid = r.status == 201 && h_jstr(r.json, "id") ? strdup(h_jstr(r.json, "id")) : NULL;
    H_CHECK(r.json && dir_refs_hold(h_jget(r.json, "members"), uid));
    h_resp_free(&r);
    H_REQUIRE(gid != NULL);
    char *udn = dir_dn(env.s, uid), *gdn = dir_dn(env.s, gid);
    json_t *e = dir_entry(env.s, gid);
    H_CHECK(e && h_ldap_has_value(e, "objectclass", "groupOfUniqueNames", true) && dir_has_dn(e, "uniquemember", udn));
    json_decref(e);
    e = dir_entry(env.s, uid);
    H_CHECK(e && gdn && dir_has_dn(e, "memberof", gdn));
    json_decref(e);
    r = dir_get(g, "/Users", uid);
    H_CHECK(r.json && dir_refs_hold(h_jget(r.json, "groups"), gid));
    h_resp_free(&r);
    char ops[256];
    snprintf(ops, sizeof ops, "[{\"op\":\"remove\",\"path\":\"members[value eq \\\"%s\\\"]\"}]", uid);
    r = dir_patch(g, "/Groups", gid, ops);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    e = dir_entry(env.s, gid);
    H_CHECK(e && h_ldap_attr(e, "uniquemember") == NULL);
    json_decref(e);
    r = dir_delete(g, "/Groups", gid);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    h_gw_stop(g);
    json_decref(m);
    free(in);
    free(out);
    free(extra);
    free(gid);
    free(udn);
    free(gdn);
}

static bool ds_locked(const json_t *e)
{
    return h_ldap_has_value(e, "nsaccountlock", "TRUE", true);
}

int main(void)
{
    if (!dir_env_start(&env, h_389ds_start, h_389ds_unavailable, "389-DS"))
        return H_DONE();
    double t0 = h_now_ms();
    char *entra = entra_user();
    entra_user_updates(entra);
    char *okta = okta_user();
    groups_flow(entra, okta);
    unique_member_groups(okta);
    gateway_hashing("{CRYPT}", "hash.crypt@example.com");
    gateway_hashing("{SSHA512}", "hash.ssha512@example.com");
    dir_list_paging(&env);
    user_delete(entra);
    user_delete(okta);
    static const dir_policy_case policies = {.mapping = "mappings/389ds.json", .rdn_attr = "cn", .people = H_PEOPLE,
                                             .groups = H_GROUPS, .suffix = H_SUFFIX, .inactive = ds_locked};
    dir_policies_flow(&env, &policies);
    fprintf(stderr, "389-DS: flows took %.1f s\n", (h_now_ms() - t0) / 1000);
    static const char *const secrets[] = {OKTA_PW, OKTA_PW2, "Entra-Pass-77", NULL};
    dir_check_log_clean(&env, secrets);
    dir_env_stop(&env);
    return H_DONE();
}
