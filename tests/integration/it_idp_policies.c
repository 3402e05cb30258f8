/* it_idp_policies.c — each value of each policy a mapping sets for what it
 * does not store (mappings/README.md, "Policies"), on a real gateway:
 *
 *   unknown_attributes / unmapped_attributes / unknown_schemas:
 *       keep (stored in the keep attribute, read back, changed by PATCH),
 *       ignore (accepted; a warn log line names the attributes and the
 *       request id, and its total counts up), reject (400 invalidSyntax
 *       naming the path, the directory unchanged);
 *   unknown_manager: keep (it_idp_okta.c), reject (400);
 *   unknown_members: skip (the known members in the same modify, 2xx, a log
 *       line), reject (400, nothing written).
 *
 * Also: values of a type no entry stores; LDAP refusals and syntax checks
 * told with the SCIM attribute path; --check-config and start-up warnings
 * for a mapping that stores a SCIM string in a narrower LDAP syntax.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "it_idp_common.h"

static it_env env;

/* A gateway on env.s with the default mapping changed by `change` (policies
 * as JSON object text merged at the top, entries dropped from User). */
static h_gw *start_variant(const char *policies, const char *const *drop_user, char **mapping_out)
{
    json_t *m = it_default_mapping();
    json_t *set = json_loads(policies, 0, NULL);
    char *config;
    h_gw *g;

    H_REQUIRE(set != NULL && json_object_update(m, set) == 0);
    for (size_t i = 0; drop_user && drop_user[i]; i++)
        it_mapping_drop(m, "User", drop_user[i]);
    *mapping_out = it_mapping_write(m);
    config = it_mapping_config(*mapping_out);
    g = h_gw_start(env.s, config);
    H_REQUIRE(g != NULL);
    free(config);
    json_decref(set);
    json_decref(m);
    return g;
}

static void stop_variant(h_gw *g, char *mapping)
{
    h_gw_stop(g);
    unlink(mapping);
    free(mapping);
}

static const char custom_user[] =
    "{\"schemas\":[\"" IT_URN_USER "\",\"urn:example:custom:1.0:User\"],\"userName\":\"%s\","
    "\"favouriteColour\":\"blue\",\"nickName\":\"Bo\",\"name\":{\"givenName\":\"Bo\",\"shoeSize\":\"44\"},"
    "\"urn:example:custom:1.0:User\":{\"badge\":\"B-12\"},\"honorificPrefix\":null,\"roles\":[]}";

static char *post_custom(h_gw *g, const char *user_name, int want)
{
    char body[1024];
    h_resp r;
    char *id = NULL;

    snprintf(body, sizeof body, custom_user, user_name);
    r = h_http(g, "POST", "/Users", body, NULL);
    H_CHECK_STATUS(r, want);
    if (r.status == 201 && h_jstr(r.json, "id"))
        id = strdup(h_jstr(r.json, "id"));
    h_resp_free(&r);
    return id;
}

static void test_ignore(void)
{
    char *mapping, *id, *line;
    h_gw *g = start_variant("{\"unknown_attributes\":\"ignore\",\"unmapped_attributes\":\"ignore\","
                            "\"unknown_schemas\":\"ignore\"}",
                            (const char *const[]){"nickName", NULL}, &mapping);
    json_t *got, *e;
    long long total;

    id = post_custom(g, "pol.ignore", 201);
    H_REQUIRE(id != NULL);
    got = IT_GET_USER(g, id);
    H_CHECK(h_jget(got, "favouriteColour") == NULL && h_jget(got, "nickName") == NULL);
    H_CHECK(h_jget(got, "name.shoeSize") == NULL && h_jget(got, "urn:example:custom:1.0:User") == NULL);
    H_CHECK_STR(h_jstr(got, "name.givenName"), "Bo");
    H_CHECK_INT(json_array_size(h_jget(got, "schemas")), 1);
    json_decref(got);
    e = it_entry_by_id(env.s, id);
    H_CHECK(e != NULL && h_ldap_attr(e, "scimkept") == NULL && h_ldap_attr(e, "scimnickname") == NULL);
    json_decref(e);
    /* one warn line per kind, naming the request and every attribute */
    line = it_log_line(g, "attributes_ignored", (const char *const[]){"favouriteColour", "nickName", "name.shoeSize", NULL});
    H_CHECK(line != NULL && strstr(line, " warn ") && strstr(line, "req=") && strstr(line, "resource=User"));
    H_CHECK_INT(it_log_num(line, "count"), 3);
    total = it_log_num(line, "total");
    H_CHECK_INT(total, 3);
    free(line);
    line = it_log_line(g, "schemas_ignored", (const char *const[]){"urn:example:custom:1.0:User", NULL});
    H_CHECK(line != NULL && it_log_num(line, "count") >= 1);
    free(line);
    /* the counter counts on, PATCH included */
    {
        h_resp r = it_patch(g, id, "[{\"op\":\"add\",\"path\":\"favouriteColour\",\"value\":\"red\"},"
                                   "{\"op\":\"replace\",\"path\":\"title\",\"value\":\"T\"}]");
        H_CHECK_STATUS(r, 200);
        H_CHECK(h_jget(r.json, "favouriteColour") == NULL);
        H_CHECK_STR(h_jstr(r.json, "title"), "T");
        h_resp_free(&r);
    }
    line = it_log_line(g, "attributes_ignored", (const char *const[]){"favouriteColour", NULL});
    H_CHECK_INT(it_log_num(line, "count"), 1);
    H_CHECK_INT(it_log_num(line, "total"), total + 1);
    free(line);
    free(id);
    stop_variant(g, mapping);
}

static void test_reject(void)
{
    char *mapping;
    h_gw *g = start_variant("{\"unknown_attributes\":\"reject\",\"unmapped_attributes\":\"reject\","
                            "\"unknown_schemas\":\"reject\",\"unknown_manager\":\"reject\","
                            "\"unknown_members\":\"reject\"}",
                            (const char *const[]){"nickName", NULL}, &mapping);
    char *before = h_ldap_snapshot(env.s), *after, *uid, *gid = NULL, *line;
    static const struct {
        const char *body, *type, *names;
    } bad[] = {
        {"{\"userName\":\"r1\",\"favouriteColour\":\"blue\"}", "invalidSyntax", "favouriteColour"},
        {"{\"userName\":\"r2\",\"nickName\":\"Bo\"}", "invalidSyntax", "nickName"},
        {"{\"userName\":\"r3\",\"name\":{\"shoeSize\":\"9\"}}", "invalidSyntax", "name.shoeSize"},
        {"{\"schemas\":[\"" IT_URN_USER "\",\"urn:example:custom:1.0:User\"],\"userName\":\"r4\"}", "invalidSyntax",
         "urn:example:custom:1.0:User"},
        {"{\"userName\":\"r5\",\"" IT_URN_ENT "\":{\"manager\":{\"value\":\"Jane Boss\"}}}", "invalidValue",
         "Jane Boss"},
    };
    h_resp r;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = h_http(g, "POST", "/Users", bad[i].body, NULL);
        IT_CHECK_ERROR(r, 400, bad[i].type);
        H_CHECK(r.body && strstr(r.body, bad[i].names) != NULL);
        h_resp_free(&r);
    }
    /* null and [] are "unassigned", never refused */
    uid = IT_CREATE(g, "{\"userName\":\"r6\",\"nickName\":null,\"favouriteColour\":[],\"roles\":[]}");
    H_CHECK(uid != NULL);
    after = h_ldap_snapshot(env.s);
    H_CHECK(strlen(after) > strlen(before)); /* r6 only */
    free(after);
    line = it_log_line(g, "attributes_rejected", (const char *const[]){"favouriteColour", NULL});
    H_CHECK(line != NULL);
    free(line);

    /* members: one unknown id refuses the whole change */
    r = h_http(g, "POST", "/Groups", "{\"displayName\":\"Reject Group\",\"members\":[{\"value\":\"d6f0e1c2-0000-4000-8000-00000000beef\"}]}",
               NULL);
    IT_CHECK_ERROR(r, 400, "invalidValue");
    h_resp_free(&r);
    r = h_http(g, "POST", "/Groups", "{\"displayName\":\"Reject Group\"}", NULL);
    H_CHECK_STATUS(r, 201);
    if (h_jstr(r.json, "id"))
        gid = strdup(h_jstr(r.json, "id"));
    h_resp_free(&r);
    H_REQUIRE(gid != NULL && uid != NULL);
    before = (free(before), h_ldap_snapshot(env.s));
    {
        char body[512], path[128];
        snprintf(path, sizeof path, "/Groups/%s", gid);
        snprintf(body, sizeof body,
                 "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":[{\"op\":\"add\",\"path\":\"members\","
                 "\"value\":[{\"value\":\"%s\"},{\"value\":\"d6f0e1c2-0000-4000-8000-00000000beef\"}]}]}",
                 uid);
        r = h_http(g, "PATCH", path, body, NULL);
        IT_CHECK_ERROR(r, 400, "invalidValue");
        h_resp_free(&r);
    }
    after = h_ldap_snapshot(env.s);
    H_CHECK(h_snapshot_same(before, after));
    free(after);
    free(before);
    free(uid);
    free(gid);
    stop_variant(g, mapping);
}

static void test_keep(void)
{
    char *mapping, *id;
    h_gw *g = start_variant("{\"unmapped_attributes\":\"keep\"}", (const char *const[]){"nickName", NULL}, &mapping);
    json_t *got, *e;
    h_resp r;

    id = post_custom(g, "pol.keep", 201);
    H_REQUIRE(id != NULL);
    got = IT_GET_USER(g, id);
    H_CHECK_STR(h_jstr(got, "favouriteColour"), "blue");
    H_CHECK_STR(h_jstr(got, "nickName"), "Bo");
    H_CHECK_STR(h_jstr(got, "name.shoeSize"), "44");
    H_CHECK_STR(h_jstr(got, "urn:example:custom:1.0:User.badge"), "B-12");
    json_decref(got);
    e = it_entry_by_id(env.s, id);
    H_CHECK(h_ldap_has_value(e, "scimkept", "{\"nickName\":\"Bo\"}", false));
    H_CHECK(h_ldap_has_value(e, "scimkept", "{\"favouriteColour\":\"blue\"}", false));
    H_CHECK(h_ldap_has_value(e, "scimkept", "{\"name\":{\"shoeSize\":\"44\"}}", false));
    H_CHECK_INT(it_nvals(e, "scimkept"), 5); /* + the custom extension and its URN */
    json_decref(e);

    /* PATCH on kept attributes: replace, remove, and a path-less value */
    r = it_patch(g, id, "[{\"op\":\"replace\",\"path\":\"nickName\",\"value\":\"Bobby\"},"
                        "{\"op\":\"remove\",\"path\":\"favouriteColour\"},"
                        "{\"op\":\"replace\",\"value\":{\"urn:example:custom:1.0:User:badge\":\"B-13\"}}]");
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "nickName"), "Bobby");
    H_CHECK(h_jget(r.json, "favouriteColour") == NULL);
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK(h_ldap_has_value(e, "scimkept", "{\"nickName\":\"Bobby\"}", false));
    H_CHECK(!h_ldap_has_value(e, "scimkept", "{\"favouriteColour\":\"blue\"}", false));
    H_CHECK(h_ldap_has_value(e, "scimkept", "{\"name\":{\"shoeSize\":\"44\"}}", false));
    json_decref(e);
    /* a PUT without them: gone */
    {
        char *path = it_user_path(id);
        r = h_http(g, "PUT", path, "{\"userName\":\"pol.keep\"}", NULL);
        H_CHECK_STATUS(r, 200);
        h_resp_free(&r);
        free(path);
    }
    e = it_entry_by_id(env.s, id);
    H_CHECK_INT(it_nvals(e, "scimkept"), 0);
    json_decref(e);
    free(id);
    stop_variant(g, mapping);
}

/* Values of a type no entry stores (no "type": "*" entry): per unmapped_attributes. */
static void test_unplaced_types(void)
{
    static const char body[] = "{\"userName\":\"%s\",\"emails\":[{\"type\":\"work\",\"value\":\"w@x.example\"},"
                               "{\"type\":\"other\",\"value\":\"o@x.example\"}]}";
    char text[512], *mapping, *line;
    h_gw *g = start_variant("{\"unmapped_attributes\":\"ignore\"}", (const char *const[]){NULL}, &mapping);
    json_t *m = it_default_mapping();
    json_t *attrs = it_mapping_attrs(m, "User");
    h_resp r;

    stop_variant(g, mapping);
    for (size_t i = json_array_size(attrs); i-- > 0;) {
        json_t *a = json_array_get(attrs, i);
        if (strcmp(json_string_value(json_object_get(a, "scim")), "emails") == 0 &&
            json_object_get(a, "type") && strcmp(json_string_value(json_object_get(a, "type")), "*") == 0)
            json_array_remove(attrs, i);
    }
    for (int pass = 0; pass < 2; pass++) {
        char *config;
        json_object_set_new(m, "unmapped_attributes", json_string(pass == 0 ? "ignore" : "reject"));
        mapping = it_mapping_write(m);
        config = it_mapping_config(mapping);
        g = h_gw_start(env.s, config);
        H_REQUIRE(g != NULL);
        snprintf(text, sizeof text, body, pass == 0 ? "types.ignore" : "types.reject");
        r = h_http(g, "POST", "/Users", text, NULL);
        if (pass == 0) {
            H_CHECK_STATUS(r, 201);
            H_CHECK_INT(json_array_size(h_jget(r.json, "emails")), 1);
            line = it_log_line(g, "attributes_ignored", (const char *const[]){"emails[type eq 'other']", NULL});
            H_CHECK(line != NULL);
            free(line);
        } else {
            IT_CHECK_ERROR(r, 400, "invalidSyntax");
            H_CHECK(r.body && strstr(r.body, "other") != NULL);
        }
        h_resp_free(&r);
        free(config);
        stop_variant(g, mapping);
    }
    json_decref(m);
}

/* The SCIM path in errors: a value the gateway knows LDAP would refuse
 * (INTEGER), and one the directory refuses (an attribute the entry's classes
 * do not allow). --check-config and the start-up log warn about both. */
static void test_errors_name_scim(void)
{
    json_t *m = it_default_mapping();
    json_t *attrs = it_mapping_attrs(m, "User");
    char *mapping, *config, *line;
    h_gw *g;
    h_resp r;

    it_mapping_drop(m, "User", "nickName");
    it_mapping_drop(m, "User", "title");
    json_array_append_new(attrs, json_pack("{s:s, s:s}", "scim", "nickName", "ldap", "uidNumber"));
    json_array_append_new(attrs, json_pack("{s:s, s:s}", "scim", "title", "ldap", "homeDirectory"));
    mapping = it_mapping_write(m);
    config = it_mapping_config(mapping);
    g = h_gw_start(env.s, config);
    H_REQUIRE(g != NULL);

    r = h_http(g, "POST", "/Users", "{\"userName\":\"syn.one\",\"nickName\":\"Bob\"}", NULL);
    IT_CHECK_ERROR(r, 400, "invalidValue");
    H_CHECK(r.body && strstr(r.body, "nickName") && strstr(r.body, "uidNumber") && strstr(r.body, "INTEGER"));
    h_resp_free(&r);
    r = h_http(g, "POST", "/Users", "{\"userName\":\"syn.two\",\"title\":\"Engineer\"}", NULL);
    IT_CHECK_ERROR(r, 400, "invalidValue");
    H_CHECK(r.body && strstr(r.body, "refused title") && strstr(r.body, "homeDirectory"));
    h_resp_free(&r);
    H_CHECK_INT(h_ldap_count(env.s, H_PEOPLE, "(|(uid=syn.one)(uid=syn.two))"), 0);

    line = it_log_line(g, "mapping_warning", (const char *const[]){"uidNumber", NULL});
    H_CHECK(line != NULL && strstr(line, "nickName") != NULL);
    free(line);
    {
        char cmd[4200], out[4096] = "";
        size_t n = 0;
        FILE *p;
        snprintf(cmd, sizeof cmd, "'%s' --check-config '%s' 2>&1", S2L_BINARY, h_gw_config_path(g));
        p = popen(cmd, "r");
        H_REQUIRE(p != NULL);
        n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        H_CHECK_INT(WEXITSTATUS(pclose(p)), 0);
        H_CHECK(strstr(out, "warning: ") && strstr(out, "uidNumber (INTEGER syntax)") &&
                strstr(out, "homeDirectory (IA5 String syntax)") && strstr(out, "2 warnings"));
    }
    h_gw_stop(g);
    unlink(mapping);
    free(mapping);
    free(config);
    json_decref(m);
}

/* "unknown_members": "skip" (the default) on a group create. */
static void test_skip_on_create(void)
{
    char *uid = IT_CREATE(env.g, "{\"userName\":\"skip.member\"}");
    char *dn = it_dn_by_id(env.s, uid ? uid : "");
    char body[512], *line;
    h_resp r;
    json_t *e;

    H_REQUIRE(uid && dn);
    snprintf(body, sizeof body,
             "{\"displayName\":\"Skip Group\",\"members\":[{\"value\":\"%s\"},{\"value\":\"never-created-42\"}]}", uid);
    r = h_http(env.g, "POST", "/Groups", body, NULL);
    H_CHECK_STATUS(r, 201);
    H_CHECK_INT(json_array_size(h_jget(r.json, "members")), 1);
    h_resp_free(&r);
    e = h_ldap_entry(env.s, "cn=Skip Group," H_GROUPS);
    H_CHECK(e && h_ldap_has_value(e, "member", dn, true) && it_nvals(e, "member") == 1);
    json_decref(e);
    line = it_log_line(env.g, "members_skipped", (const char *const[]){"never-created-42", NULL});
    H_CHECK(line != NULL && it_log_num(line, "count") == 1);
    free(line);
    free(uid);
    free(dn);
}

int main(void)
{
    if (it_env_start(&env, NULL)) {
        test_ignore();
        test_reject();
        test_keep();
        test_unplaced_types();
        test_errors_name_scim();
        test_skip_on_create();
    }
    it_env_stop(&env);
    return H_DONE();
}
