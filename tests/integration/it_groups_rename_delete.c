/* it_groups_rename_delete.c — renaming and deleting the entries groups point
 * at, with and without slapd's refint overlay.
 *
 * A user's userName is its RDN and a group's displayName is its RDN, so both
 * renames are modrdns that change the DN that `member` (and `manager`) values
 * hold. The same scenario runs against four directories:
 *
 *   - refint overlay, mapping "referential_integrity": "directory"
 *   - refint overlay, mapping default ("gateway": the gateway fixes up too)
 *   - memberof only (its memberof-refint is on in the test slapd.conf)
 *   - neither overlay: only the gateway can keep `member` right (and users'
 *     `groups` come from a search of the groups, "source": "search")
 *
 * Names full of RFC 4514/4515 specials run through the same steps. After
 * each step the `member` values are compared in LDAP as whole sets.
 * slapd's refint applies its changes after answering, so the checks first
 * wait (bounded) for the expected values, then compare.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_groups_common.h"

enum { ALICE, BOB, CAROL, DAVE, N_USERS };
enum { G_TEAM, G_PROJECT, G_SOLO, G_PARENT, N_GROUPS };

static const char *const user_names[N_USERS] = {"alice.rd", "bob.rd", "carol.rd", "dave.rd"};
static const char *const group_names[N_GROUPS] = {"RD Team", "RD Project", "RD Solo", "RD Parent"};

typedef struct variant {
    const char *name;
    h_slapd_opts opts;
    const char *refint_mode; /* mapping "referential_integrity", NULL = as shipped */
    bool groups_by_search;   /* users' groups with "source": "search" (no memberOf) */
} variant;

typedef struct world {
    ig_env env;
    bool user_groups;        /* users' `groups` can be checked */
    bool memberof_overlay;   /* memberOf is maintained in LDAP */
    char *uid[N_USERS];
    char *gid[N_GROUPS];
} world;

/* The current DN of an id (malloc'd). */
static char *dn_of(world *w, const char *id)
{
    return it_dn_by_id(w->env.s, id);
}

/* Waits (bounded) until group gid holds every DN of want and none of gone,
 * then compares its whole member set with want. */
static void settle_members_(world *w, size_t g, const char *const *want, const char *const *gone, const char *file,
                            int line)
{
    char *gdn = dn_of(w, w->gid[g]);

    h_check_(gdn != NULL, file, line, "group %s is gone", group_names[g]);
    if (gdn == NULL)
        return;
    for (size_t i = 0; want && want[i]; i++)
        h_check_(h_ldap_wait_value(w->env.s, gdn, "member", want[i], true, 5000), file, line,
                 "%s never got member %s", gdn, want[i]);
    for (size_t i = 0; gone && gone[i]; i++)
        h_check_(h_ldap_wait_value(w->env.s, gdn, "member", gone[i], false, 5000), file, line,
                 "%s still has member %s", gdn, gone[i]);
    ig_check_members_(w->env.s, w->gid[g], want, NULL, file, line);
    free(gdn);
}
#define SETTLE(w, g, want, gone) settle_members_((w), (g), (want), (gone), __FILE__, __LINE__)
#define DNS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Users' `groups` over SCIM: exactly the given group indexes. */
static void check_user_groups_(world *w, size_t u, const size_t *groups, size_t n, const char *file, int line)
{
    char *path = it_user_path(w->uid[u]);
    h_resp r;
    json_t *arr;

    if (!w->user_groups)
        goto out;
    r = h_http(w->env.g, "GET", path, NULL, NULL);
    h_check_status_(&r, 200, file, line);
    arr = h_jget(r.json, "groups");
    h_check_(json_array_size(arr) == n, file, line, "user %s: %zu groups, want %zu: %.300s", user_names[u],
             json_array_size(arr), n, r.body ? r.body : "");
    for (size_t k = 0; k < n; k++) {
        bool found = false;
        size_t i;
        json_t *v;

        json_array_foreach(arr, i, v) {
            const char *id = h_jstr(v, "value");
            found = found || (id && strcmp(id, w->gid[groups[k]]) == 0);
        }
        h_check_(found, file, line, "user %s: group %s not in groups", user_names[u], group_names[groups[k]]);
    }
    h_resp_free(&r);
out:
    free(path);
}
#define CHECK_USER_GROUPS(w, u, ...)                                                                       \
    check_user_groups_((w), (u), (const size_t[]){__VA_ARGS__},                                           \
                       sizeof((const size_t[]){__VA_ARGS__}) / sizeof(size_t), __FILE__, __LINE__)

static char *make_group(world *w, const char *name, const char *const *member_ids)
{
    json_t *members = json_array();
    json_t *body;
    char *text, *id;

    for (size_t i = 0; members && member_ids[i]; i++)
        json_array_append_new(members, json_pack("{s:s}", "value", member_ids[i]));
    body = json_pack("{s:[s], s:s, s:o}", "schemas", IG_URN_GROUP, "displayName", name, "members", members);
    text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    H_REQUIRE(text != NULL);
    id = IG_GROUP(w->env.g, text);
    H_REQUIRE(id != NULL);
    free(text);
    json_decref(body);
    return id;
}

static void setup(world *w)
{
    json_t *body;
    char *text;

    for (size_t i = 0; i < N_USERS; i++) {
        w->uid[i] = IG_USER(w->env.g, user_names[i]);
        H_REQUIRE(w->uid[i] != NULL);
    }
    /* bob reports to alice: `manager` is the other reference to a user. */
    body = json_pack("[{s:s, s:s, s:s}]", "op", "replace", "path", IT_URN_ENT ":manager", "value", w->uid[ALICE]);
    text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    H_REQUIRE(text != NULL);
    {
        h_resp r = it_patch(w->env.g, w->uid[BOB], text);
        H_CHECK_STATUS(r, 200);
        h_resp_free(&r);
    }
    free(text);
    json_decref(body);

    w->gid[G_TEAM] = make_group(w, group_names[G_TEAM], DNS(w->uid[ALICE], w->uid[BOB]));
    w->gid[G_PROJECT] = make_group(w, group_names[G_PROJECT], DNS(w->uid[ALICE], w->uid[CAROL]));
    w->gid[G_SOLO] = make_group(w, group_names[G_SOLO], DNS(w->uid[CAROL]));
    w->gid[G_PARENT] = make_group(w, group_names[G_PARENT], DNS(w->gid[G_TEAM], w->uid[DAVE]));
}

/* Renames a user over SCIM: PATCH replace userName, or PUT with the new one. */
static void rename_user(world *w, const char *id, const char *given, const char *new_name, bool use_put)
{
    char *path = it_user_path(id);
    json_t *body = use_put ? json_pack("{s:[s], s:s, s:{s:s, s:s}}", "schemas", IT_URN_USER, "userName", new_name,
                                       "name", "givenName", given, "familyName", "Member")
                           : json_pack("{s:[s], s:[{s:s, s:s, s:s}]}", "schemas", IT_URN_PATCH, "Operations", "op",
                                       "Replace", "path", "userName", "value", new_name);
    h_resp r = h_http_json(w->env.g, use_put ? "PUT" : "PATCH", path, body);
    char *dn;

    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "userName"), new_name);
    h_resp_free(&r);
    dn = dn_of(w, id);
    H_CHECK(it_dn_is(dn, "uid", new_name, H_PEOPLE));
    free(dn);
    json_decref(body);
    free(path);
}

static void test_user_rename(world *w)
{
    char *old = dn_of(w, w->uid[ALICE]);
    char *cur, *bob;

    H_REQUIRE(old != NULL);
    rename_user(w, w->uid[ALICE], user_names[ALICE], "alice.renamed", false);
    cur = dn_of(w, w->uid[ALICE]);
    bob = dn_of(w, w->uid[BOB]);
    H_REQUIRE(cur != NULL && bob != NULL);
    SETTLE(w, G_TEAM, DNS(cur, bob), DNS(old));
    {
        char *carol = dn_of(w, w->uid[CAROL]);
        SETTLE(w, G_PROJECT, DNS(cur, carol), DNS(old));
        free(carol);
    }
    /* manager follows as well. */
    H_CHECK(h_ldap_wait_value(w->env.s, bob, "manager", cur, true, 5000));
    H_CHECK(h_ldap_wait_value(w->env.s, bob, "manager", old, false, 5000));
    IG_CHECK_SCIM_MEMBERS(w->env.g, w->gid[G_TEAM], w->uid[ALICE], w->uid[BOB]);
    CHECK_USER_GROUPS(w, ALICE, G_TEAM, G_PROJECT);
    free(old);
    old = cur;

    /* Again, with PUT (Okta's way). */
    rename_user(w, w->uid[ALICE], user_names[ALICE], "alice.final", true);
    cur = dn_of(w, w->uid[ALICE]);
    H_REQUIRE(cur != NULL);
    SETTLE(w, G_TEAM, DNS(cur, bob), DNS(old));
    H_CHECK(h_ldap_wait_value(w->env.s, bob, "manager", cur, true, 5000));
    IG_CHECK_SCIM_MEMBERS(w->env.g, w->gid[G_PROJECT], w->uid[ALICE], w->uid[CAROL]);
    CHECK_USER_GROUPS(w, ALICE, G_TEAM, G_PROJECT);
    free(cur);
    free(old);
    free(bob);
}

/* A group renamed: groups holding it (G_PARENT) and its members' memberOf follow. */
static void test_group_rename(world *w)
{
    char *old = dn_of(w, w->gid[G_TEAM]);
    char *cur, *dave, *alice;

    H_REQUIRE(old != NULL);
    IG_PATCH_204(w->env.g, w->gid[G_TEAM], "[{\"op\":\"Replace\",\"path\":\"displayName\",\"value\":\"RD Team 2\"}]");
    cur = dn_of(w, w->gid[G_TEAM]);
    dave = dn_of(w, w->uid[DAVE]);
    alice = dn_of(w, w->uid[ALICE]);
    H_REQUIRE(cur != NULL && dave != NULL && alice != NULL);
    H_CHECK(it_dn_is(cur, "cn", "RD Team 2", H_GROUPS));
    SETTLE(w, G_PARENT, DNS(cur, dave), DNS(old));
    IG_CHECK_SCIM_MEMBERS(w->env.g, w->gid[G_TEAM], w->uid[ALICE], w->uid[BOB]);
    ig_check_scim_members_(w->env.g, w->gid[G_PARENT], DNS(w->gid[G_TEAM], w->uid[DAVE]), DNS("Group", "User"),
                           __FILE__, __LINE__);
    if (w->memberof_overlay) {
        H_CHECK(h_ldap_wait_value(w->env.s, alice, "memberOf", cur, true, 5000));
        H_CHECK(h_ldap_wait_value(w->env.s, alice, "memberOf", old, false, 5000));
    }
    CHECK_USER_GROUPS(w, ALICE, G_TEAM, G_PROJECT);
    free(alice);
    free(dave);
    free(cur);
    free(old);
}

static void delete_at(world *w, const char *endpoint, const char *id)
{
    char *path = ig_fmt("/%s/%s", endpoint, id);
    h_resp r;

    H_REQUIRE(path != NULL);
    r = h_http(w->env.g, "DELETE", path, NULL, NULL);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    free(path);
}

static void test_user_delete(world *w)
{
    char *bob = dn_of(w, w->uid[BOB]);
    char *carol = dn_of(w, w->uid[CAROL]);
    char *alice = dn_of(w, w->uid[ALICE]);
    bool placeholder = false;

    H_REQUIRE(bob && carol && alice);
    delete_at(w, "Users", w->uid[BOB]);
    H_CHECK(!ig_ldap_exists(w->env.s, bob));
    SETTLE(w, G_TEAM, DNS(alice), DNS(bob));
    IG_CHECK_SCIM_MEMBERS(w->env.g, w->gid[G_TEAM], w->uid[ALICE]);

    /* carol is the only member of RD Solo: that group must survive, empty. */
    delete_at(w, "Users", w->uid[CAROL]);
    SETTLE(w, G_PROJECT, DNS(alice), DNS(carol));
    {
        char *solo = dn_of(w, w->gid[G_SOLO]);
        H_CHECK(solo != NULL);
        H_CHECK(solo && h_ldap_wait_value(w->env.s, solo, "member", carol, false, 5000));
        free(solo);
    }
    IG_CHECK_NO_MEMBERS(w->env.s, w->gid[G_SOLO], &placeholder);
    H_CHECK(placeholder);
    IG_CHECK_SCIM_NO_MEMBERS(w->env.g, w->gid[G_SOLO]);
    /* And it can be filled again. */
    {
        char *ops = ig_fmt("[{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]", w->uid[DAVE]);
        char *dave = dn_of(w, w->uid[DAVE]);

        H_REQUIRE(ops != NULL && dave != NULL);
        IG_PATCH_204(w->env.g, w->gid[G_SOLO], ops);
        IG_CHECK_MEMBERS(w->env.s, w->gid[G_SOLO], dave);
        free(dave);
        free(ops);
    }
    free(alice);
    free(carol);
    free(bob);
}

/* A group deleted while it is a member of another group. */
static void test_group_delete(world *w)
{
    char *team = dn_of(w, w->gid[G_TEAM]);
    char *dave = dn_of(w, w->uid[DAVE]);

    H_REQUIRE(team && dave);
    delete_at(w, "Groups", w->gid[G_TEAM]);
    H_CHECK(!ig_ldap_exists(w->env.s, team));
    SETTLE(w, G_PARENT, DNS(dave), DNS(team));
    IG_CHECK_SCIM_MEMBERS(w->env.g, w->gid[G_PARENT], w->uid[DAVE]);
    CHECK_USER_GROUPS(w, ALICE, G_PROJECT);
    free(dave);
    free(team);
}

/* Names full of RFC 4514 / RFC 4515 specials: the DNs in `member` carry
 * escapes, and whoever follows a rename must find them with an escaped
 * filter value. */
static void test_special_names(world *w)
{
    static const char user1[] = "Doe, John+Jr <j>;#1 \\ \"q\"*";
    static const char user2[] = "#Doe (renamed), John=2 ";
    static const char group1[] = "R&D, \"Core\" + Ops\\Team <1>*";
    static const char group2[] = " R&D; renamed=(2)";
    char *u = IG_USER(w->env.g, user1);
    char *dave = dn_of(w, w->uid[DAVE]);
    char *g, *udn, *gdn, *body, *f, *p;
    json_t *j;
    h_resp r;

    H_REQUIRE(u != NULL && dave != NULL);
    udn = dn_of(w, u);
    H_REQUIRE(udn != NULL);
    H_CHECK(it_dn_is(udn, "uid", user1, H_PEOPLE));
    j = json_pack("{s:[s], s:s, s:[{s:s}, {s:s}]}", "schemas", IG_URN_GROUP, "displayName", group1, "members",
                  "value", u, "value", w->uid[DAVE]);
    body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    H_REQUIRE(body != NULL);
    g = IG_GROUP(w->env.g, body);
    free(body);
    H_REQUIRE(g != NULL);
    gdn = dn_of(w, g);
    H_CHECK(it_dn_is(gdn, "cn", group1, H_GROUPS));
    IG_CHECK_MEMBERS(w->env.s, g, udn, dave);

    /* Found by displayName and by member, the specials taken literally. */
    f = it_eq_filter("displayName", group1);
    p = f ? ig_filter_path(f, NULL) : NULL;
    H_REQUIRE(p != NULL);
    r = h_http(w->env.g, "GET", p, NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(h_jint(r.json, "totalResults", -1), 1);
    H_CHECK_STR(h_jstr(r.json, "Resources[0].id"), g);
    h_resp_free(&r);
    free(p);
    free(f);
    f = ig_fmt("members[value eq \"%s\"]", u);
    p = f ? ig_filter_path(f, NULL) : NULL;
    H_REQUIRE(p != NULL);
    r = h_http(w->env.g, "GET", p, NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(h_jint(r.json, "totalResults", -1), 1);
    H_CHECK_STR(h_jstr(r.json, "Resources[0].id"), g);
    h_resp_free(&r);
    free(p);
    free(f);

    /* The user renamed: the member value follows. */
    rename_user(w, u, user1, user2, false);
    {
        char *old = udn;

        udn = dn_of(w, u);
        H_REQUIRE(udn != NULL);
        H_CHECK(gdn && h_ldap_wait_value(w->env.s, gdn, "member", udn, true, 5000));
        H_CHECK(gdn && h_ldap_wait_value(w->env.s, gdn, "member", old, false, 5000));
        free(old);
    }
    IG_CHECK_MEMBERS(w->env.s, g, udn, dave);

    /* The group renamed. */
    j = json_pack("[{s:s, s:s, s:s}]", "op", "Replace", "path", "displayName", "value", group2);
    body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    IG_PATCH_204(w->env.g, g, body);
    free(body);
    free(gdn);
    gdn = dn_of(w, g);
    H_CHECK(it_dn_is(gdn, "cn", group2, H_GROUPS));
    IG_CHECK_MEMBERS(w->env.s, g, udn, dave);

    /* The user deleted: its escaped DN leaves the group. */
    delete_at(w, "Users", u);
    H_CHECK(gdn && h_ldap_wait_value(w->env.s, gdn, "member", udn, false, 5000));
    IG_CHECK_MEMBERS(w->env.s, g, dave);
    IG_CHECK_SCIM_MEMBERS(w->env.g, g, w->uid[DAVE]);
    free(gdn);
    free(udn);
    free(g);
    free(dave);
    free(u);
}

static bool edit_mapping(json_t *m, const void *arg)
{
    const variant *v = arg;

    if (v->refint_mode && json_object_set_new(m, "referential_integrity", json_string(v->refint_mode)) != 0)
        return false;
    if (v->groups_by_search) {
        json_t *groups = ig_mapping_attr(m, "User", "groups");

        if (groups == NULL || json_object_set_new(groups, "source", json_string("search")) != 0)
            return false;
    }
    return true;
}

static void run(const variant *v)
{
    world w;
    char *extra = NULL;

    memset(&w, 0, sizeof w);
    fprintf(stderr, "=== %s\n", v->name);
    w.memberof_overlay = v->opts.memberof;
    w.user_groups = v->opts.memberof || v->groups_by_search;
    if (!ig_env_start_slapd(&w.env, &v->opts))
        goto out;
    if (v->refint_mode || v->groups_by_search) {
        extra = ig_mapping_variant(w.env.s, "mappings/openldap.json", "variant", edit_mapping, v);
        H_REQUIRE(extra != NULL);
    }
    ig_env_start_gw(&w.env, extra);
    setup(&w);
    test_user_rename(&w);
    test_group_rename(&w);
    test_user_delete(&w);
    test_group_delete(&w);
    test_special_names(&w);
out:
    for (size_t i = 0; i < N_USERS; i++)
        free(w.uid[i]);
    for (size_t i = 0; i < N_GROUPS; i++)
        free(w.gid[i]);
    free(extra);
    ig_env_stop(&w.env);
}

int main(void)
{
    variant v[4];

    v[0] = (variant){"refint overlay, referential_integrity=directory", h_slapd_all(), "directory", false};
    v[1] = (variant){"refint overlay, mapping as shipped (gateway fixes up too)", h_slapd_all(), NULL, false};
    v[2] = (variant){"memberof only, no refint overlay", h_slapd_defaults(), NULL, false};
    v[3] = (variant){"neither memberof nor refint: the gateway alone, groups by search", h_slapd_defaults(), NULL,
                     true};
    v[3].opts.memberof = false;
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        run(&v[i]);
    return H_DONE();
}
