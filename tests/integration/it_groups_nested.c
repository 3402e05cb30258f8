/* it_groups_nested.c — groups as members of groups.
 *
 * A member id may name a Group as well as a User: it becomes that group's DN
 * in `member`, and reads back with type "Group" and a $ref under /Groups.
 * Covers create with mixed members, add / remove of a group member, member
 * filters with group ids (no transitive expansion), a cycle (the gateway
 * must not follow members when rendering), memberOf on nested groups, and a
 * nested group deleted or renamed under its parents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_groups_common.h"

#define UNKNOWN_ID "3f2e1d0c-bbbb-4ccc-8ddd-eeeeffff0000"

enum { LEAF, MID, TOP, N_GROUPS };
static const char *const group_names[N_GROUPS] = {"Nested Leaf", "Nested Mid", "Nested Top"};

static ig_env env;
static char *uid[3], *udn[3];
static char *gid[N_GROUPS];

static char *dn_of(const char *id)
{
    return it_dn_by_id(env.s, id);
}

/* POST /Groups with members given as ids (users or groups). */
static char *make_group(const char *name, const char *const *ids)
{
    json_t *members = json_array();
    json_t *body;
    char *text, *id;

    for (size_t i = 0; members && ids && ids[i]; i++)
        json_array_append_new(members, json_pack("{s:s}", "value", ids[i]));
    body = json_pack("{s:[s], s:s, s:o}", "schemas", IG_URN_GROUP, "displayName", name, "members", members);
    text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    H_REQUIRE(text != NULL);
    id = IG_GROUP(env.g, text);
    H_REQUIRE(id != NULL);
    free(text);
    json_decref(body);
    return id;
}

#define IDS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_create(void)
{
    char *leaf;

    for (size_t i = 0; i < 3; i++) {
        char name[32];

        snprintf(name, sizeof name, "nested.user%zu", i);
        uid[i] = IG_USER(env.g, name);
        H_REQUIRE(uid[i] != NULL);
        udn[i] = dn_of(uid[i]);
        H_REQUIRE(udn[i] != NULL);
    }
    gid[LEAF] = make_group(group_names[LEAF], IDS(uid[0]));
    gid[MID] = make_group(group_names[MID], IDS(gid[LEAF], uid[1]));
    gid[TOP] = make_group(group_names[TOP], IDS(gid[MID], uid[2]));

    leaf = dn_of(gid[LEAF]);
    H_REQUIRE(leaf != NULL);
    IG_CHECK_MEMBERS(env.s, gid[MID], leaf, udn[1]);
    {
        char *mid = dn_of(gid[MID]);
        IG_CHECK_MEMBERS(env.s, gid[TOP], mid, udn[2]);
        /* memberof gives groups their parents too. */
        H_CHECK(mid && h_ldap_wait_value(env.s, leaf, "memberOf", mid, true, 3000));
        free(mid);
    }
    ig_check_scim_members_(env.g, gid[MID], IDS(gid[LEAF], uid[1]), IDS("Group", "User"), __FILE__, __LINE__);
    ig_check_scim_members_(env.g, gid[TOP], IDS(gid[MID], uid[2]), IDS("Group", "User"), __FILE__, __LINE__);
    /* The 201 of a create with a group member renders it as a Group. */
    {
        char *body = ig_fmt("{\"schemas\":[\"%s\"],\"displayName\":\"Nested Probe\",\"members\":[{\"value\":\"%s\"}]}",
                            IG_URN_GROUP, gid[LEAF]);
        h_resp r = h_http(env.g, "POST", "/Groups", body, NULL);
        char *path;

        H_CHECK_STATUS(r, 201);
        H_CHECK_STR(h_jstr(r.json, "members[0].value"), gid[LEAF]);
        H_CHECK_STR(h_jstr(r.json, "members[0].type"), "Group");
        path = h_jstr(r.json, "id") ? ig_group_path(h_jstr(r.json, "id"), NULL) : NULL;
        h_resp_free(&r);
        if (path) {
            r = h_http(env.g, "DELETE", path, NULL, NULL);
            H_CHECK_STATUS(r, 204);
            h_resp_free(&r);
        }
        free(path);
        free(body);
    }
    free(leaf);
}

/* members[value eq "<group id>"] finds the direct parent only. */
static void test_filters(void)
{
    static const struct {
        size_t member_group; /* member looked for: a group (index) or, if >= N_GROUPS, user 0 */
        size_t expect;       /* the one group expected */
    } cases[] = {{LEAF, MID}, {MID, TOP}, {N_GROUPS, LEAF}};

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *id = cases[i].member_group < N_GROUPS ? gid[cases[i].member_group] : uid[0];
        char *f = ig_fmt("members[value eq \"%s\"]", id);
        char *p = f ? ig_filter_path(f, "excludedAttributes=members") : NULL;
        h_resp r;

        H_REQUIRE(p != NULL);
        r = h_http(env.g, "GET", p, NULL, NULL);
        H_CHECK_STATUS(r, 200);
        H_CHECK_INT(h_jint(r.json, "totalResults", -1), 1);
        H_CHECK_STR(h_jstr(r.json, "Resources[0].id"), gid[cases[i].expect]);
        h_resp_free(&r);
        free(p);
        free(f);
    }
    /* The top group holds nobody's group. */
    {
        char *f = ig_fmt("members.value eq \"%s\"", gid[TOP]);
        char *p = f ? ig_filter_path(f, NULL) : NULL;
        h_resp r;

        H_REQUIRE(p != NULL);
        r = h_http(env.g, "GET", p, NULL, NULL);
        H_CHECK_STATUS(r, 200);
        H_CHECK_INT(h_jint(r.json, "totalResults", -1), 0);
        h_resp_free(&r);
        free(p);
        free(f);
    }
}

static void test_add_remove_group_member(void)
{
    char *leaf = dn_of(gid[LEAF]), *mid = dn_of(gid[MID]);
    char *ops;

    H_REQUIRE(leaf && mid);
    /* Entra-shaped add: a group and a user in one value array. */
    ops = ig_fmt("[{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"$ref\":null,\"value\":\"%s\"},"
                 "{\"$ref\":null,\"value\":\"%s\"}]}]",
                 gid[LEAF], uid[0]);
    H_REQUIRE(ops != NULL);
    IG_PATCH_204(env.g, gid[TOP], ops);
    free(ops);
    IG_CHECK_MEMBERS(env.s, gid[TOP], mid, udn[2], leaf, udn[0]);
    ig_check_scim_members_(env.g, gid[TOP], IDS(gid[MID], uid[2], gid[LEAF], uid[0]),
                           IDS("Group", "User", "Group", "User"), __FILE__, __LINE__);

    /* Remove the group member by path filter, then the user by value array. */
    ops = ig_fmt("[{\"op\":\"remove\",\"path\":\"members[value eq \\\"%s\\\"]\"}]", gid[LEAF]);
    H_REQUIRE(ops != NULL);
    IG_PATCH_204(env.g, gid[TOP], ops);
    free(ops);
    IG_CHECK_MEMBERS(env.s, gid[TOP], mid, udn[2], udn[0]);
    ops = ig_fmt("[{\"op\":\"Remove\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]", uid[0]);
    H_REQUIRE(ops != NULL);
    IG_PATCH_204(env.g, gid[TOP], ops);
    free(ops);
    IG_CHECK_MEMBERS(env.s, gid[TOP], mid, udn[2]);

    /* An unknown id, even typed as a Group: skipped (204) and nothing written. */
    {
        char *before = h_ldap_snapshot(env.s), *after;

        ops = ig_fmt("[{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\",\"type\":\"Group\"}]}]",
                     UNKNOWN_ID);
        H_REQUIRE(ops != NULL);
        IG_PATCH_204(env.g, gid[TOP], ops);
        after = h_ldap_snapshot(env.s);
        H_CHECK(h_snapshot_same(before, after));
        free(after);
        free(before);
        free(ops);
    }
    free(leaf);
    free(mid);
}

/* Leaf ∋ Top ∋ Mid ∋ Leaf: LDAP allows it; rendering must show only direct
 * members (no expansion, no endless loop). */
static void test_cycle(void)
{
    char *top = dn_of(gid[TOP]);
    char *ops = ig_fmt("[{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]", gid[TOP]);
    h_resp r;

    H_REQUIRE(top && ops);
    IG_PATCH_204(env.g, gid[LEAF], ops);
    IG_CHECK_MEMBERS(env.s, gid[LEAF], udn[0], top);
    ig_check_scim_members_(env.g, gid[LEAF], IDS(uid[0], gid[TOP]), IDS("User", "Group"), __FILE__, __LINE__);
    r = h_http(env.g, "GET", "/Groups?filter=displayName%20sw%20%22Nested%22", NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(h_jint(r.json, "totalResults", -1), 3);
    h_resp_free(&r);
    /* Undo it with Okta's replace of the whole list. */
    free(ops);
    ops = ig_fmt("[{\"op\":\"replace\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]", uid[0]);
    H_REQUIRE(ops != NULL);
    IG_PATCH_204(env.g, gid[LEAF], ops);
    IG_CHECK_MEMBERS(env.s, gid[LEAF], udn[0]);
    free(ops);
    free(top);
}

/* A nested group renamed, then deleted: its parent's member follows. */
static void test_rename_delete_nested(void)
{
    char *old = dn_of(gid[LEAF]), *cur, *path;
    h_resp r;

    H_REQUIRE(old != NULL);
    IG_PATCH_204(env.g, gid[LEAF], "[{\"op\":\"Replace\",\"path\":\"displayName\",\"value\":\"Nested Leaf 2\"}]");
    cur = dn_of(gid[LEAF]);
    H_REQUIRE(cur != NULL);
    H_CHECK(it_dn_is(cur, "cn", "Nested Leaf 2", H_GROUPS));
    {
        char *mid = dn_of(gid[MID]);
        H_CHECK(mid && h_ldap_wait_value(env.s, mid, "member", cur, true, 5000));
        H_CHECK(mid && h_ldap_wait_value(env.s, mid, "member", old, false, 5000));
        free(mid);
    }
    IG_CHECK_MEMBERS(env.s, gid[MID], cur, udn[1]);
    ig_check_scim_members_(env.g, gid[MID], IDS(gid[LEAF], uid[1]), IDS("Group", "User"), __FILE__, __LINE__);

    path = ig_group_path(gid[LEAF], NULL);
    H_REQUIRE(path != NULL);
    r = h_http(env.g, "DELETE", path, NULL, NULL);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    H_CHECK(!ig_ldap_exists(env.s, cur));
    {
        char *mid = dn_of(gid[MID]);
        H_CHECK(mid && h_ldap_wait_value(env.s, mid, "member", cur, false, 5000));
        free(mid);
    }
    IG_CHECK_MEMBERS(env.s, gid[MID], udn[1]);
    IG_CHECK_SCIM_MEMBERS(env.g, gid[MID], uid[1]);
    /* Top still holds Mid; the users are untouched. */
    {
        char *mid = dn_of(gid[MID]);
        IG_CHECK_MEMBERS(env.s, gid[TOP], mid, udn[2]);
        free(mid);
    }
    H_CHECK(ig_ldap_exists(env.s, udn[0]));
    free(path);
    free(cur);
    free(old);
}

int main(void)
{
    if (ig_env_start(&env, NULL, NULL)) {
        test_create();
        test_filters();
        test_add_remove_group_member();
        test_cycle();
        test_rename_delete_nested();
    }
    for (size_t i = 0; i < 3; i++) {
        free(uid[i]);
        free(udn[i]);
    }
    for (size_t i = 0; i < N_GROUPS; i++)
        free(gid[i]);
    ig_env_stop(&env);
    return H_DONE();
}
