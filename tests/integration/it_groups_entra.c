/* it_groups_entra.c — Microsoft Entra ID's provisioning of Groups, end to end.
 *
 * Follows the group half of the Entra validator's checklist
 * (docs/IDP-QUIRKS.md): look-ups by displayName that exist / do not exist /
 * differ in case, always with excludedAttributes=members; create (empty
 * members, the ADSCIM schema URN); duplicate; members added in batches (many
 * ids per op, one already there); removed with a value array and with a
 * members[value eq] path; unknown member ids refused without touching LDAP;
 * rename; users' `groups`; member filters; the last member removed; delete,
 * delete twice. After every write the group's `member` values are read from
 * slapd directly and compared as a whole set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_groups_common.h"

#define GROUP_NAME "Entra Sales 7f3a"
#define GROUP_NAME_UPPER "ENTRA SALES 7F3A"
#define GROUP_RENAMED "Entra Sales EMEA 7f3a"
#define GROUP_EXT "5a0b2c1d-7e6f-4a3b-9c8d-1e2f3a4b5c6d"
/* A well-formed UUID that no entry has. */
#define UNKNOWN_ID "0c9a8b7d-1111-4222-8333-944455566677"
#define N_USERS 6

static ig_env env;
static char *uid[N_USERS]; /* SCIM ids of the users */
static char *udn[N_USERS]; /* their DNs, as LDAP holds them */

/* GET /Groups?excludedAttributes=members&filter=displayName eq "<name>" the
 * way Entra sends it ('+' for spaces); totalResults, and no members shown. */
static long lookup(const char *name, char **first_id)
{
    char *enc = h_urlencode(name);
    char *path = enc ? ig_fmt("/Groups?excludedAttributes=members&filter=displayName+eq+%%22%s%%22", enc) : NULL;
    h_resp r;
    long total = -1;
    size_t i;
    json_t *res;

    H_REQUIRE(path != NULL);
    if (first_id)
        *first_id = NULL;
    r = h_http(env.g, "GET", path, NULL, (const char *const[]){"ADSCIMVersion: 2.0", NULL});
    H_CHECK_STATUS(r, 200);
    H_CHECK(it_is_scim_json(&r));
    H_CHECK(json_is_integer(h_jget(r.json, "totalResults")));
    total = (long)h_jint(r.json, "totalResults", -1);
    json_array_foreach(h_jget(r.json, "Resources"), i, res) {
        H_CHECK(h_jget(res, "members") == NULL);
        H_CHECK(h_jstr(res, "displayName") != NULL);
    }
    if (first_id && h_jstr(r.json, "Resources[0].id"))
        *first_id = strdup(h_jstr(r.json, "Resources[0].id"));
    h_resp_free(&r);
    free(path);
    free(enc);
    return total;
}

static void test_lookup_missing(void)
{
    H_CHECK_INT(lookup(GROUP_NAME, NULL), 0);
    /* The probe Entra's Test Connection may use for groups. */
    H_CHECK_INT(lookup("8d4b5c0e-2f1a-4e3b-a6c7-d8e9f0a1b2c3", NULL), 0);
}

static char *test_create(void)
{
    static const char body[] = "{\"schemas\":[\"" IG_URN_GROUP "\",\"" IG_URN_ADSCIM "\"],"
                               "\"externalId\":\"" GROUP_EXT "\","
                               "\"displayName\":\"" GROUP_NAME "\","
                               "\"members\":[]}";
    h_resp r = h_http(env.g, "POST", "/Groups", body, NULL);
    char *id;
    json_t *e;
    bool placeholder = false;

    H_CHECK_STATUS(r, 201);
    H_REQUIRE(r.status == 201 && h_jstr(r.json, "id") != NULL);
    id = strdup(h_jstr(r.json, "id"));
    H_REQUIRE(id != NULL);
    H_CHECK(it_is_scim_json(&r));
    H_CHECK_STR(h_jstr(r.json, "displayName"), GROUP_NAME);
    H_CHECK_STR(h_jstr(r.json, "externalId"), GROUP_EXT);
    H_CHECK_STR(h_jstr(r.json, "meta.resourceType"), "Group");
    H_CHECK(h_header(&r, "Location") != NULL);
    /* Empty: no members, and certainly not the placeholder. */
    H_CHECK(json_array_size(h_jget(r.json, "members")) == 0);
    h_resp_free(&r);

    e = it_entry_by_id(env.s, id);
    H_REQUIRE(e != NULL);
    H_CHECK(it_dn_is(h_jstr(e, "dn"), "cn", GROUP_NAME, H_GROUPS));
    H_CHECK(h_ldap_has_value(e, "objectclass", "groupOfNames", true));
    H_CHECK_STR(h_ldap_attr(e, "scimexternalid"), GROUP_EXT);
    json_decref(e);
    /* groupOfNames must have a member: only the placeholder is there. */
    IG_CHECK_NO_MEMBERS(env.s, id, &placeholder);
    H_CHECK(placeholder);
    IG_CHECK_SCIM_NO_MEMBERS(env.g, id);
    return id;
}

/* The same displayName, exactly and in another case (cn is caseIgnore): 409
 * uniqueness, nothing written. */
static void test_duplicate(void)
{
    static const char *const names[] = {GROUP_NAME, GROUP_NAME_UPPER};
    char *before = h_ldap_snapshot(env.s);

    for (size_t i = 0; i < 2; i++) {
        char *body = ig_fmt("{\"schemas\":[\"%s\"],\"displayName\":\"%s\",\"members\":[]}", IG_URN_GROUP, names[i]);
        h_resp r = h_http(env.g, "POST", "/Groups", body, NULL);

        IT_CHECK_ERROR(r, 409, "uniqueness");
        h_resp_free(&r);
        free(body);
    }
    {
        char *after = h_ldap_snapshot(env.s);
        H_CHECK(h_snapshot_same(before, after));
        free(after);
    }
    free(before);
}

static void test_lookup_existing(const char *gid)
{
    char *got = NULL;

    H_CHECK_INT(lookup(GROUP_NAME, &got), 1);
    H_CHECK_STR(got, gid);
    free(got);
    H_CHECK_INT(lookup(GROUP_NAME_UPPER, &got), 1);
    H_CHECK_STR(got, gid);
    free(got);
    H_CHECK_INT(lookup("entra sales 7F3A", &got), 1);
    H_CHECK_STR(got, gid);
    free(got);
    /* A prefix of the name is not a match: eq is exact, '*' is no wildcard. */
    H_CHECK_INT(lookup("Entra Sales", NULL), 0);
    H_CHECK_INT(lookup("Entra*", NULL), 0);
    H_CHECK_INT(lookup("*", NULL), 0);

    /* GET by id excluding members. */
    {
        char *path = ig_group_path(gid, "excludedAttributes=members");
        h_resp r = h_http(env.g, "GET", path, NULL, NULL);

        H_CHECK_STATUS(r, 200);
        H_CHECK_STR(h_jstr(r.json, "id"), gid);
        H_CHECK_STR(h_jstr(r.json, "displayName"), GROUP_NAME);
        H_CHECK(h_jget(r.json, "members") == NULL);
        H_CHECK(h_header(&r, "ETag") != NULL);
        h_resp_free(&r);
        free(path);
    }
}

/* One op per batch, several ids in it, as Entra sends them ("$ref": null). */
static char *add_op(const char *op, const size_t *idx, size_t n)
{
    json_t *vals = json_array();
    json_t *ops = NULL;
    char *text = NULL;

    for (size_t i = 0; vals && i < n; i++)
        json_array_append_new(vals, json_pack("{s:n, s:s}", "$ref", "value", uid[idx[i]]));
    if (vals)
        ops = json_pack("[{s:s, s:s, s:o}]", "op", op, "path", "members", "value", vals);
    if (ops)
        text = json_dumps(ops, JSON_COMPACT);
    json_decref(ops);
    return text;
}

static void test_add_batches(const char *gid)
{
    ig_ops o;
    h_op_counts d;
    char *ops;
    bool placeholder = true;

    /* First batch: three users in one op, one LDAP modify (and, before it, the
     * same modify without the placeholder's delete, which the assertion
     * refuses: the group still holds the placeholder; update.c). */
    ops = add_op("Add", (const size_t[]){0, 1, 2}, 3);
    H_REQUIRE(ops != NULL);
    ig_ops_begin(env.s, &o);
    IG_PATCH_204(env.g, gid, ops);
    d = ig_ops_end(env.s, &o);
    free(ops);
    H_CHECK_INT(d.modify, 2);
    H_CHECK_INT(d.modrdn, 0);
    H_CHECK_INT(d.add + d.del, 0);
    ig_check_members_(env.s, gid, (const char *const[]){udn[0], udn[1], udn[2], NULL}, &placeholder, __FILE__,
                      __LINE__);
    /* mappings/README.md: the placeholder goes with the next addition. */
    H_CHECK(!placeholder);

    /* Second batch: two new users and one already there (success, no duplicate). */
    ops = add_op("Add", (const size_t[]){3, 4, 1}, 3);
    H_REQUIRE(ops != NULL);
    ig_ops_begin(env.s, &o);
    IG_PATCH_204(env.g, gid, ops);
    d = ig_ops_end(env.s, &o);
    free(ops);
    H_CHECK_INT(d.modify, 1);
    IG_CHECK_MEMBERS(env.s, gid, udn[0], udn[1], udn[2], udn[3], udn[4]);

    /* Only members already there: 204, and the members are unchanged. */
    ops = add_op("add", (const size_t[]){0, 4}, 2);
    H_REQUIRE(ops != NULL);
    IG_PATCH_204(env.g, gid, ops);
    free(ops);
    IG_CHECK_MEMBERS(env.s, gid, udn[0], udn[1], udn[2], udn[3], udn[4]);
    IG_CHECK_SCIM_MEMBERS(env.g, gid, uid[0], uid[1], uid[2], uid[3], uid[4]);
}

/* An id that resolves to nothing (a member whose create failed at Entra):
 * skipped by default ("unknown_members": "skip"), the request still answers
 * 204 and, with nothing else in it, LDAP is untouched. The mixed case (known
 * and unknown ids in one batch) is in it_idp_policies.c. */
static void test_unknown_member(const char *gid)
{
    char *bodies[2];
    char *before = h_ldap_snapshot(env.s);

    bodies[0] = ig_fmt("[{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]", UNKNOWN_ID);
    bodies[1] = ig_fmt("[{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"value\":\"not-a-uuid\"}]}]");
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        H_REQUIRE(bodies[i] != NULL);
        IG_PATCH_204(env.g, gid, bodies[i]);
        free(bodies[i]);
    }
    {
        char *after = h_ldap_snapshot(env.s);
        H_CHECK(h_snapshot_same(before, after));
        free(after);
    }
    free(before);
}

static void test_remove(const char *gid)
{
    ig_ops o;
    h_op_counts d;
    char *ops;

    /* Entra's default: a value array naming just the member to remove.
     * Removing one member must never remove all. */
    ops = add_op("Remove", (const size_t[]){1}, 1);
    H_REQUIRE(ops != NULL);
    ig_ops_begin(env.s, &o);
    IG_PATCH_204(env.g, gid, ops);
    d = ig_ops_end(env.s, &o);
    free(ops);
    H_CHECK_INT(d.modify, 1);
    IG_CHECK_MEMBERS(env.s, gid, udn[0], udn[2], udn[3], udn[4]);

    /* Several at once. */
    ops = add_op("Remove", (const size_t[]){0, 4}, 2);
    H_REQUIRE(ops != NULL);
    IG_PATCH_204(env.g, gid, ops);
    free(ops);
    IG_CHECK_MEMBERS(env.s, gid, udn[2], udn[3]);

    /* With the flag on: a filtered path, lower-case op. */
    ops = ig_fmt("[{\"op\":\"remove\",\"path\":\"members[value eq \\\"%s\\\"]\"}]", uid[2]);
    H_REQUIRE(ops != NULL);
    ig_ops_begin(env.s, &o);
    IG_PATCH_204(env.g, gid, ops);
    d = ig_ops_end(env.s, &o);
    free(ops);
    H_CHECK_INT(d.modify, 1);
    IG_CHECK_MEMBERS(env.s, gid, udn[3]);

    /* Removing someone who is not a member (twice the same remove, a user who
     * never was one): 204, members unchanged. */
    ops = add_op("Remove", (const size_t[]){2, 5}, 2);
    H_REQUIRE(ops != NULL);
    IG_PATCH_204(env.g, gid, ops);
    free(ops);
    IG_CHECK_MEMBERS(env.s, gid, udn[3]);
    IG_CHECK_SCIM_MEMBERS(env.g, gid, uid[3]);
}

/* Several operations in one request are one LDAP modify, all or nothing. */
static void test_multiple_ops(const char *gid)
{
    ig_ops o;
    h_op_counts d;
    char *ops = ig_fmt("[{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"},{\"value\":\"%s\"}]},"
                       "{\"op\":\"Remove\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]},"
                       "{\"op\":\"Replace\",\"path\":\"externalId\",\"value\":\"ext-2\"}]",
                       uid[0], uid[1], uid[3]);

    H_REQUIRE(ops != NULL);
    ig_ops_begin(env.s, &o);
    IG_PATCH_204(env.g, gid, ops);
    d = ig_ops_end(env.s, &o);
    free(ops);
    H_CHECK_INT(d.modify, 1);
    IG_CHECK_MEMBERS(env.s, gid, udn[0], udn[1]);
    {
        json_t *e = it_entry_by_id(env.s, gid);
        H_CHECK_STR(h_ldap_attr(e, "scimexternalid"), "ext-2");
        json_decref(e);
    }

    /* The same user added and removed in one request: the later op wins. */
    ops = ig_fmt("[{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]},"
                 "{\"op\":\"Remove\",\"path\":\"members[value eq \\\"%s\\\"]\"}]",
                 uid[2], uid[2]);
    H_REQUIRE(ops != NULL);
    IG_PATCH_204(env.g, gid, ops);
    free(ops);
    IG_CHECK_MEMBERS(env.s, gid, udn[0], udn[1]);

    /* A failing op after good ones: nothing of the request is applied. */
    {
        char *before = h_ldap_snapshot(env.s);
        char *after;
        h_resp r;

        ops = ig_fmt("[{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]},"
                     "{\"op\":\"Replace\",\"path\":\"displayName\",\"value\":\"Half Renamed\"},"
                     "{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"value\":\"\"}]}]",
                     uid[5]);
        H_REQUIRE(ops != NULL);
        r = ig_patch(env.g, gid, NULL, ops);
        IT_CHECK_ERROR(r, 400, "invalidValue");
        h_resp_free(&r);
        free(ops);
        after = h_ldap_snapshot(env.s);
        H_CHECK(h_snapshot_same(before, after));
        free(after);
        free(before);
    }
}

/* attributes=... asks for the resource back: 200 with the members. */
static void test_patch_with_body(const char *gid)
{
    char *ops = add_op("Add", (const size_t[]){2}, 1);
    h_resp r = ig_patch(env.g, gid, "attributes=members,displayName", ops);
    size_t i;
    json_t *m;
    int seen = 0;

    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "id"), gid);
    H_CHECK_STR(h_jstr(r.json, "displayName"), GROUP_NAME);
    H_CHECK_INT(json_array_size(h_jget(r.json, "members")), 3);
    json_array_foreach(h_jget(r.json, "members"), i, m) {
        const char *v = h_jstr(m, "value");
        seen += v && (strcmp(v, uid[0]) == 0 || strcmp(v, uid[1]) == 0 || strcmp(v, uid[2]) == 0);
    }
    H_CHECK_INT(seen, 3);
    h_resp_free(&r);
    free(ops);
    IG_CHECK_MEMBERS(env.s, gid, udn[0], udn[1], udn[2]);

    /* excludedAttributes asks for a body too, without the members. */
    ops = add_op("Add", (const size_t[]){1}, 1);
    r = ig_patch(env.g, gid, "excludedAttributes=members", ops);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "id"), gid);
    H_CHECK(h_jget(r.json, "members") == NULL);
    h_resp_free(&r);
    free(ops);
    IG_CHECK_MEMBERS(env.s, gid, udn[0], udn[1], udn[2]);
}

/* The two filter shapes IdPs use to ask "which groups hold this member". */
static char *member_filter(int shape, const char *id)
{
    return shape == 0 ? ig_fmt("members[value eq \"%s\"]", id) : ig_fmt("members.value eq \"%s\"", id);
}

/* Users' read-only `groups` (memberOf), and the member filters. */
static void test_groups_and_filters(const char *gid)
{
    char *path = it_user_path(uid[0]);
    h_resp r = h_http(env.g, "GET", path, NULL, NULL);

    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(json_array_size(h_jget(r.json, "groups")), 1);
    H_CHECK_STR(h_jstr(r.json, "groups[0].value"), gid);
    h_resp_free(&r);
    free(path);
    path = it_user_path(uid[5]);
    r = h_http(env.g, "GET", path, NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(json_array_size(h_jget(r.json, "groups")), 0);
    h_resp_free(&r);
    free(path);

    for (int shape = 0; shape < 2; shape++) {
        char *f = member_filter(shape, uid[1]);
        char *p = f ? ig_filter_path(f, "excludedAttributes=members") : NULL;

        H_REQUIRE(p != NULL);
        r = h_http(env.g, "GET", p, NULL, NULL);
        H_CHECK_STATUS(r, 200);
        H_CHECK_INT(h_jint(r.json, "totalResults", -1), 1);
        H_CHECK_STR(h_jstr(r.json, "Resources[0].id"), gid);
        H_CHECK(h_jget(r.json, "Resources[0].members") == NULL);
        h_resp_free(&r);
        free(p);
        free(f);

        /* A user that is not a member, and an id that is nobody. */
        for (int k = 0; k < 2; k++) {
            f = member_filter(shape, k == 0 ? uid[5] : UNKNOWN_ID);
            p = f ? ig_filter_path(f, NULL) : NULL;
            H_REQUIRE(p != NULL);
            r = h_http(env.g, "GET", p, NULL, NULL);
            H_CHECK_STATUS(r, 200);
            H_CHECK_INT(h_jint(r.json, "totalResults", -1), 0);
            h_resp_free(&r);
            free(p);
            free(f);
        }
    }
}

/* Replace displayName: a modrdn, the id and the members stay. */
static void test_rename(const char *gid)
{
    ig_ops o;
    h_op_counts d;
    char *old_dn = it_dn_by_id(env.s, gid);
    char *new_dn;

    H_REQUIRE(old_dn != NULL);
    ig_ops_begin(env.s, &o);
    IG_PATCH_204(env.g, gid, "[{\"op\":\"Replace\",\"path\":\"displayName\",\"value\":\"" GROUP_RENAMED "\"}]");
    d = ig_ops_end(env.s, &o);
    H_CHECK_INT(d.modrdn, 1);
    H_CHECK(d.modify <= 1);
    new_dn = it_dn_by_id(env.s, gid);
    H_CHECK(it_dn_is(new_dn, "cn", GROUP_RENAMED, H_GROUPS));
    H_CHECK(!ig_ldap_exists(env.s, old_dn));
    IG_CHECK_MEMBERS(env.s, gid, udn[0], udn[1], udn[2]);
    {
        json_t *e = it_entry_by_id(env.s, gid);
        /* The old name is not left behind as a second cn value. */
        H_CHECK_INT(it_nvals(e, "cn"), 1);
        H_CHECK_STR(h_ldap_attr(e, "cn"), GROUP_RENAMED);
        json_decref(e);
    }
    /* memberof follows the rename. */
    H_CHECK(new_dn && h_ldap_wait_value(env.s, udn[0], "memberOf", new_dn, true, 3000));
    H_CHECK(h_ldap_wait_value(env.s, udn[0], "memberOf", old_dn, false, 3000));
    H_CHECK_INT(lookup(GROUP_NAME, NULL), 0);
    H_CHECK_INT(lookup(GROUP_RENAMED, NULL), 1);
    IG_CHECK_SCIM_MEMBERS(env.g, gid, uid[0], uid[1], uid[2]);
    free(new_dn);
    free(old_dn);
}

/* Removing every member leaves a group with no members: the placeholder in
 * LDAP (groupOfNames needs one), nothing over SCIM. Then it can fill again. */
static void test_remove_last(const char *gid)
{
    char *ops = add_op("Remove", (const size_t[]){0, 1, 2}, 3);
    bool placeholder = false;

    H_REQUIRE(ops != NULL);
    IG_PATCH_204(env.g, gid, ops);
    free(ops);
    IG_CHECK_NO_MEMBERS(env.s, gid, &placeholder);
    H_CHECK(placeholder);
    IG_CHECK_SCIM_NO_MEMBERS(env.g, gid);

    /* Once more: removing from an empty group is fine too. */
    ops = ig_fmt("[{\"op\":\"remove\",\"path\":\"members[value eq \\\"%s\\\"]\"}]", uid[0]);
    H_REQUIRE(ops != NULL);
    IG_PATCH_204(env.g, gid, ops);
    free(ops);
    IG_CHECK_NO_MEMBERS(env.s, gid, &placeholder);
    H_CHECK(placeholder);

    ops = add_op("Add", (const size_t[]){5}, 1);
    H_REQUIRE(ops != NULL);
    IG_PATCH_204(env.g, gid, ops);
    free(ops);
    IG_CHECK_MEMBERS(env.s, gid, udn[5]);
    IG_CHECK_SCIM_MEMBERS(env.g, gid, uid[5]);
}

static void test_delete(const char *gid)
{
    char *path = ig_group_path(gid, NULL);
    char *dn = it_dn_by_id(env.s, gid);
    h_resp r;

    H_REQUIRE(path != NULL && dn != NULL);
    r = h_http(env.g, "DELETE", path, NULL, NULL);
    H_CHECK_STATUS(r, 204);
    H_CHECK(r.body_len == 0);
    h_resp_free(&r);
    H_CHECK(!ig_ldap_exists(env.s, dn));
    H_CHECK(h_ldap_wait_value(env.s, udn[5], "memberOf", dn, false, 3000));
    /* The member users are untouched. */
    H_CHECK(ig_ldap_exists(env.s, udn[5]));

    r = h_http(env.g, "GET", path, NULL, NULL);
    IT_CHECK_ERROR(r, 404, NULL);
    h_resp_free(&r);
    /* Delete twice, and PATCH the deleted group. */
    r = h_http(env.g, "DELETE", path, NULL, NULL);
    IT_CHECK_ERROR(r, 404, NULL);
    h_resp_free(&r);
    r = ig_patch(env.g, gid, NULL, "[{\"op\":\"Replace\",\"path\":\"displayName\",\"value\":\"Ghost\"}]");
    IT_CHECK_ERROR(r, 404, NULL);
    h_resp_free(&r);
    H_CHECK_INT(lookup(GROUP_RENAMED, NULL), 0);
    free(path);
    free(dn);
}

int main(void)
{
    char *gid = NULL;

    if (ig_env_start(&env, NULL, NULL)) {
        ig_make_users(&env, "entra.member%zu@contoso.example", N_USERS, uid, udn);
        test_lookup_missing();
        gid = test_create();
        test_duplicate();
        test_lookup_existing(gid);
        test_add_batches(gid);
        test_unknown_member(gid);
        test_remove(gid);
        test_multiple_ops(gid);
        test_patch_with_body(gid);
        test_groups_and_filters(gid);
        test_rename(gid);
        test_remove_last(gid);
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
