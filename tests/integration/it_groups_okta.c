/* it_groups_okta.c — Okta's Push Groups, end to end.
 *
 * Okta looks a group up by displayName (startIndex/count), creates it with its
 * members, renames it with a no-path replace whose value also carries the id
 * (to be ignored), changes membership with a `remove` (members[value eq]) and
 * an `add` in one request or with a `replace` of the whole list, may PUT the
 * whole group, and deletes it. After every write the `member` values are read
 * from slapd directly, and the LDAP work is counted: one request is one
 * modify (plus a modrdn for a rename).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_groups_common.h"

#define GROUP_NAME "Okta Engineering"
#define GROUP_RENAMED "Okta Platform Engineering"
#define OTHER_NAME "Okta Operations"
#define UNKNOWN_ID "6b7c8d9e-aaaa-4bbb-8ccc-ddddeeeeffff"
#define N_USERS 5

static ig_env env;
static char *uid[N_USERS];
static char *udn[N_USERS];

/* Okta's look-up before a push: filter plus startIndex/count. */
static long lookup(const char *name, char **first_id)
{
    char *f = it_eq_filter("displayName", name);
    char *path = f ? ig_filter_path(f, "startIndex=1&count=100") : NULL;
    h_resp r;
    long total;

    H_REQUIRE(path != NULL);
    if (first_id)
        *first_id = NULL;
    r = h_http(env.g, "GET", path, NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK(json_is_integer(h_jget(r.json, "totalResults")));
    H_CHECK(json_is_integer(h_jget(r.json, "startIndex")));
    H_CHECK(json_is_integer(h_jget(r.json, "itemsPerPage")));
    total = (long)h_jint(r.json, "totalResults", -1);
    if (first_id && h_jstr(r.json, "Resources[0].id"))
        *first_id = strdup(h_jstr(r.json, "Resources[0].id"));
    h_resp_free(&r);
    free(path);
    free(f);
    return total;
}

/* {"value": id, "display": ...} per index, as Okta sends members. */
static json_t *members_json(const size_t *idx, size_t n)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s}", "value", uid[idx[i]], "display", "Okta User"));
    return arr;
}

/* Sends ops (a json_t array, stolen) and checks 204 and what it cost in LDAP:
 * exactly want_modify modifies (-1: at most one) and want_modrdn modrdns, no
 * add or delete. */
static void patch_counted_(const char *gid, json_t *ops, long want_modify, long want_modrdn, const char *file,
                           int line)
{
    char *text = ops ? json_dumps(ops, JSON_COMPACT) : NULL;
    ig_ops o;
    h_op_counts d;

    h_check_(text != NULL, file, line, "out of memory");
    if (text == NULL)
        goto out;
    ig_ops_begin(env.s, &o);
    ig_patch_204_(env.g, gid, text, file, line);
    d = ig_ops_end(env.s, &o);
    h_check_((want_modify < 0 ? d.modify >= 0 && d.modify <= 1 : d.modify == want_modify) && d.modrdn == want_modrdn && d.add == 0 && d.del == 0, file, line,
             "PATCH %s: %ld modify, %ld modrdn, %ld add, %ld delete; want %ld modify, %ld modrdn", text, d.modify,
             d.modrdn, d.add, d.del, want_modify, want_modrdn);
out:
    free(text);
    json_decref(ops);
}
#define PATCH_COUNTED(gid, ops, nmod, nmodrdn) patch_counted_((gid), (ops), (nmod), (nmodrdn), __FILE__, __LINE__)

static char *test_create(void)
{
    json_t *body = json_pack("{s:[s], s:s, s:o}", "schemas", IG_URN_GROUP, "displayName", GROUP_NAME, "members",
                             members_json((const size_t[]){0, 1}, 2));
    h_resp r;
    char *gid;
    bool placeholder = true;

    H_CHECK_INT(lookup(GROUP_NAME, NULL), 0);
    H_REQUIRE(body != NULL);
    /* With an id that is nobody among its members: the group is written with
     * the others ("unknown_members": "skip"); deleted again for what follows. */
    {
        json_t *bad = json_deep_copy(body);

        H_REQUIRE(bad != NULL);
        json_array_append_new(json_object_get(bad, "members"), json_pack("{s:s}", "value", UNKNOWN_ID));
        r = h_http_json(env.g, "POST", "/Groups", bad);
        H_CHECK_STATUS(r, 201);
        H_CHECK_INT(json_array_size(h_jget(r.json, "members")), 2);
        if (r.status == 201 && h_jstr(r.json, "id") != NULL) {
            char *path = ig_fmt("/Groups/%s", h_jstr(r.json, "id"));
            h_resp d = h_http(env.g, "DELETE", path, NULL, NULL);
            H_CHECK_STATUS(d, 204);
            h_resp_free(&d);
            free(path);
        }
        h_resp_free(&r);
        json_decref(bad);
    }
    r = h_http_json(env.g, "POST", "/Groups", body);
    json_decref(body);
    H_CHECK_STATUS(r, 201);
    H_REQUIRE(r.status == 201 && h_jstr(r.json, "id") != NULL);
    /* Okta treats an empty body as an error. */
    H_CHECK(r.body_len > 0);
    H_CHECK_STR(h_jstr(r.json, "displayName"), GROUP_NAME);
    H_CHECK_INT(json_array_size(h_jget(r.json, "members")), 2);
    gid = strdup(h_jstr(r.json, "id"));
    H_REQUIRE(gid != NULL);
    h_resp_free(&r);

    ig_check_members_(env.s, gid, (const char *const[]){udn[0], udn[1], NULL}, &placeholder, __FILE__, __LINE__);
    H_CHECK(!placeholder);
    IG_CHECK_SCIM_MEMBERS(env.g, gid, uid[0], uid[1]);
    {
        char *got = NULL;
        H_CHECK_INT(lookup(GROUP_NAME, &got), 1);
        H_CHECK_STR(got, gid);
        free(got);
    }
    return gid;
}

/* Rename: no-path replace whose value carries the id too (ignored). */
static void test_rename(const char *gid)
{
    char *old_dn = it_dn_by_id(env.s, gid);
    char *new_dn;

    H_REQUIRE(old_dn != NULL);
    PATCH_COUNTED(gid,
                  json_pack("[{s:s, s:{s:s, s:s}}]", "op", "replace", "value", "id", gid, "displayName",
                            GROUP_RENAMED),
                  0, 1);
    new_dn = it_dn_by_id(env.s, gid);
    H_CHECK(it_dn_is(new_dn, "cn", GROUP_RENAMED, H_GROUPS));
    H_CHECK(!ig_ldap_exists(env.s, old_dn));
    IG_CHECK_MEMBERS(env.s, gid, udn[0], udn[1]);
    H_CHECK(new_dn && h_ldap_wait_value(env.s, udn[1], "memberOf", new_dn, true, 3000));
    H_CHECK_INT(lookup(GROUP_NAME, NULL), 0);
    H_CHECK_INT(lookup(GROUP_RENAMED, NULL), 1);

    /* The same name again (Okta re-pushes): nothing to do, still 204. */
    PATCH_COUNTED(gid,
                  json_pack("[{s:s, s:{s:s, s:s}}]", "op", "replace", "value", "id", gid, "displayName",
                            GROUP_RENAMED),
                  0, 0);
    H_CHECK(it_dn_is(new_dn, "cn", GROUP_RENAMED, H_GROUPS));
    IG_CHECK_MEMBERS(env.s, gid, udn[0], udn[1]);
    free(new_dn);
    free(old_dn);
}

/* Okta's membership change: remove (filtered path) and add in one request. */
static void test_remove_add(const char *gid)
{
    char *path = ig_fmt("members[value eq \"%s\"]", uid[0]);
    char *gdn;

    H_REQUIRE(path != NULL);
    PATCH_COUNTED(gid,
                  json_pack("[{s:s, s:s}, {s:s, s:s, s:o}]", "op", "remove", "path", path, "op", "add", "path",
                            "members", "value", members_json((const size_t[]){2, 3}, 2)),
                  1, 0);
    IG_CHECK_MEMBERS(env.s, gid, udn[1], udn[2], udn[3]);
    gdn = it_dn_by_id(env.s, gid);
    H_CHECK(gdn && h_ldap_wait_value(env.s, udn[0], "memberOf", gdn, false, 3000));
    free(gdn);
    IG_CHECK_SCIM_MEMBERS(env.g, gid, uid[1], uid[2], uid[3]);
    free(path);
}

/* replace of the whole member list: what it says, nothing else. */
static void test_replace(const char *gid)
{
    bool placeholder = true;

    PATCH_COUNTED(gid,
                  json_pack("[{s:s, s:s, s:o}]", "op", "replace", "path", "members", "value",
                            members_json((const size_t[]){3, 4}, 2)),
                  1, 0);
    IG_CHECK_MEMBERS(env.s, gid, udn[3], udn[4]);

    /* The same list again: nothing changes. */
    PATCH_COUNTED(gid,
                  json_pack("[{s:s, s:s, s:o}]", "op", "replace", "path", "members", "value",
                            members_json((const size_t[]){4, 3}, 2)),
                  -1, 0);
    IG_CHECK_MEMBERS(env.s, gid, udn[3], udn[4]);

    /* An empty list empties the group: the placeholder stays for LDAP. */
    PATCH_COUNTED(gid, json_pack("[{s:s, s:s, s:[]}]", "op", "replace", "path", "members", "value"), 1, 0);
    IG_CHECK_NO_MEMBERS(env.s, gid, &placeholder);
    H_CHECK(placeholder);
    IG_CHECK_SCIM_NO_MEMBERS(env.g, gid);

    /* And from empty to one member: the placeholder is not kept next to it. */
    PATCH_COUNTED(gid,
                  json_pack("[{s:s, s:s, s:o}]", "op", "replace", "path", "members", "value",
                            members_json((const size_t[]){0}, 1)),
                  1, 0);
    ig_check_members_(env.s, gid, (const char *const[]){udn[0], NULL}, &placeholder, __FILE__, __LINE__);
    H_CHECK(!placeholder);

    /* An unknown id in the list ("unknown_members": "skip"): the known ones
     * become the members, 204; then back to the one member. */
    {
        json_t *vals = members_json((const size_t[]){1, 2}, 2);
        json_t *ops;
        char *text;

        json_array_append_new(vals, json_pack("{s:s}", "value", UNKNOWN_ID));
        ops = json_pack("[{s:s, s:s, s:o}]", "op", "replace", "path", "members", "value", vals);
        text = ops ? json_dumps(ops, JSON_COMPACT) : NULL;
        H_REQUIRE(text != NULL);
        IG_PATCH_204(env.g, gid, text);
        IG_CHECK_MEMBERS(env.s, gid, udn[1], udn[2]);
        free(text);
        json_decref(ops);
    }
    PATCH_COUNTED(gid,
                  json_pack("[{s:s, s:s, s:o}]", "op", "replace", "path", "members", "value",
                            members_json((const size_t[]){0}, 1)),
                  1, 0);
    IG_CHECK_MEMBERS(env.s, gid, udn[0]);
}

/* PUT: the whole group; members absent from the body are gone. */
static void test_put(const char *gid)
{
    char *path = ig_group_path(gid, NULL);
    json_t *body;
    h_resp r;
    bool placeholder = true;

    H_REQUIRE(path != NULL);
    body = json_pack("{s:[s], s:s, s:s, s:o}", "schemas", IG_URN_GROUP, "id", gid, "displayName", GROUP_RENAMED,
                     "members", members_json((const size_t[]){1, 2, 4}, 3));
    r = h_http_json(env.g, "PUT", path, body);
    json_decref(body);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "id"), gid);
    H_CHECK_INT(json_array_size(h_jget(r.json, "members")), 3);
    h_resp_free(&r);
    IG_CHECK_MEMBERS(env.s, gid, udn[1], udn[2], udn[4]);

    /* A rename and a member change in one PUT. */
    body = json_pack("{s:[s], s:s, s:o}", "schemas", IG_URN_GROUP, "displayName", GROUP_NAME, "members",
                     members_json((const size_t[]){2}, 1));
    r = h_http_json(env.g, "PUT", path, body);
    json_decref(body);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "displayName"), GROUP_NAME);
    h_resp_free(&r);
    {
        char *dn = it_dn_by_id(env.s, gid);
        H_CHECK(it_dn_is(dn, "cn", GROUP_NAME, H_GROUPS));
        free(dn);
    }
    IG_CHECK_MEMBERS(env.s, gid, udn[2]);

    /* Without members: a full replace empties the group. */
    body = json_pack("{s:[s], s:s}", "schemas", IG_URN_GROUP, "displayName", GROUP_NAME);
    r = h_http_json(env.g, "PUT", path, body);
    json_decref(body);
    H_CHECK_STATUS(r, 200);
    H_CHECK(json_array_size(h_jget(r.json, "members")) == 0);
    h_resp_free(&r);
    IG_CHECK_NO_MEMBERS(env.s, gid, &placeholder);
    H_CHECK(placeholder);

    /* Unknown member in a PUT: skipped, the known one goes in (200); then
     * the group is emptied again. */
    body = json_pack("{s:[s], s:s, s:[{s:s}, {s:s}]}", "schemas", IG_URN_GROUP, "displayName", GROUP_NAME,
                     "members", "value", UNKNOWN_ID, "value", uid[3]);
    r = h_http_json(env.g, "PUT", path, body);
    json_decref(body);
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(json_array_size(h_jget(r.json, "members")), 1);
    h_resp_free(&r);
    IG_CHECK_MEMBERS(env.s, gid, udn[3]);
    body = json_pack("{s:[s], s:s}", "schemas", IG_URN_GROUP, "displayName", GROUP_NAME);
    r = h_http_json(env.g, "PUT", path, body);
    json_decref(body);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    IG_CHECK_NO_MEMBERS(env.s, gid, &placeholder);
    free(path);
}

/* A rename onto another group's name: 409 uniqueness, nothing changes. */
static void test_rename_conflict(const char *gid)
{
    char *body = ig_fmt("{\"schemas\":[\"%s\"],\"displayName\":\"%s\",\"members\":[{\"value\":\"%s\"}]}",
                        IG_URN_GROUP, OTHER_NAME, uid[3]);
    char *other = body ? IG_GROUP(env.g, body) : NULL;
    char *before, *after, *ops;
    h_resp r;

    H_REQUIRE(other != NULL);
    IG_CHECK_MEMBERS(env.s, other, udn[3]);
    /* the group holds the placeholder: the one-modify path's first try
     * (without the placeholder's delete) is refused by its assertion, the
     * second deletes it (update.c) */
    PATCH_COUNTED(gid, json_pack("[{s:s, s:s, s:o}]", "op", "add", "path", "members", "value",
                                 members_json((const size_t[]){0, 1}, 2)),
                  2, 0);
    before = h_ldap_snapshot(env.s);
    ops = ig_fmt("[{\"op\":\"replace\",\"value\":{\"id\":\"%s\",\"displayName\":\"%s\"}},"
                 "{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]",
                 gid, OTHER_NAME, uid[4]);
    H_REQUIRE(ops != NULL);
    r = ig_patch(env.g, gid, NULL, ops);
    IT_CHECK_ERROR(r, 409, "uniqueness");
    h_resp_free(&r);
    after = h_ldap_snapshot(env.s);
    H_CHECK(h_snapshot_same(before, after));
    IG_CHECK_MEMBERS(env.s, gid, udn[0], udn[1]);
    IG_CHECK_MEMBERS(env.s, other, udn[3]);

    /* DELETE of the other group: its member keeps its place in ours. */
    {
        char *path = ig_group_path(other, NULL);
        char *odn = it_dn_by_id(env.s, other);

        r = h_http(env.g, "DELETE", path, NULL, NULL);
        H_CHECK_STATUS(r, 204);
        h_resp_free(&r);
        H_CHECK(!ig_ldap_exists(env.s, odn));
        H_CHECK(odn && h_ldap_wait_value(env.s, udn[3], "memberOf", odn, false, 3000));
        free(odn);
        free(path);
    }
    free(ops);
    free(after);
    free(before);
    free(other);
    free(body);
}

static void test_delete(const char *gid)
{
    char *path = ig_group_path(gid, NULL);
    char *dn = it_dn_by_id(env.s, gid);
    h_resp r;

    H_REQUIRE(path != NULL && dn != NULL);
    r = h_http(env.g, "DELETE", path, NULL, NULL);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    H_CHECK(!ig_ldap_exists(env.s, dn));
    H_CHECK(h_ldap_wait_value(env.s, udn[0], "memberOf", dn, false, 3000));
    /* Users stay (Okta never deletes them with the group). */
    for (size_t i = 0; i < N_USERS; i++)
        H_CHECK(ig_ldap_exists(env.s, udn[i]));
    H_CHECK_INT(lookup(GROUP_NAME, NULL), 0);
    r = h_http(env.g, "DELETE", path, NULL, NULL);
    IT_CHECK_ERROR(r, 404, NULL);
    h_resp_free(&r);
    free(path);
    free(dn);
}

/* A bogus token: 401 with a SCIM error body, and nothing written. */
static void test_bad_auth(void)
{
    char *before = h_ldap_snapshot(env.s);
    char *after;
    h_resp r = h_http(env.g, "POST", "/Groups", "{\"displayName\":\"Intruders\"}",
                      (const char *const[]){"Authorization: Bearer not-the-token-0000000000", NULL});

    IT_CHECK_ERROR(r, 401, NULL);
    h_resp_free(&r);
    after = h_ldap_snapshot(env.s);
    H_CHECK(h_snapshot_same(before, after));
    free(after);
    free(before);
}

int main(void)
{
    char *gid = NULL;

    if (ig_env_start(&env, NULL, NULL)) {
        ig_make_users(&env, "okta.user%zu@example.com", N_USERS, uid, udn);
        test_bad_auth();
        gid = test_create();
        test_rename(gid);
        test_remove_add(gid);
        test_replace(gid);
        test_put(gid);
        test_rename_conflict(gid);
        test_delete(gid);
    }
    free(gid);
    for (size_t i = 0; i < N_USERS; i++) {
        free(uid[i]);
        free(udn[i]);
    }
    ig_env_stop(&env);
    return H_DONE();
}
