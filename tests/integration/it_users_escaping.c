/* it_users_escaping.c — userNames and externalIds shaped like LDAP filter or
 * DN syntax must be plain data: create works, the DN is escaped correctly
 * (RFC 4514: it parses back to exactly the userName), `eq` finds exactly that
 * one user and never acts as a wildcard (RFC 4515), and modify, rename and
 * delete reach the right entry. Decoy users make any wildcard visible.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_users_common.h"

static it_env env;

/* Users a wildcard or a broken escape would also match. */
static const char *const decoys[] = {"a", "x", "admin", "adminx", "comma", "hash.lead", "uid"};

static const char *const names[] = {
    "*",
    "a)(uid=*",
    "*)(|(objectClass=*)",
    "x\\",
    "\\2a",
    "admin*",
    "#hash.lead",
    "comma,user",
    "plus+user",
    "equals=user",
    "semi;colon<angle>",
    "quote\"user",
    ("tr\xc3\xa9s.\xc3\xbcnic\xc3\xb8" "de"), /* split: \xb8de would be one escape */
    "a,b+c=d\\#e\"f<g>h;i",
};
#define N_NAMES (sizeof names / sizeof names[0])

static char *create_named(const char *user_name, const char *external_id)
{
    json_t *body = json_pack("{s:[s], s:s}", "schemas", IT_URN_USER, "userName", user_name);
    char *id;

    H_REQUIRE(body != NULL);
    if (external_id)
        json_object_set_new(body, "externalId", json_string(external_id));
    id = IT_CREATE_JSON(env.g, body);
    json_decref(body);
    if (id == NULL)
        fprintf(stderr, "  (userName was %s)\n", user_name);
    return id;
}

static void check_stored(const char *id, const char *user_name)
{
    json_t *e = it_entry_by_id(env.s, id);
    const char *dn = e ? h_jstr(e, "dn") : NULL;

    h_check_(e != NULL, __FILE__, __LINE__, "no entry for userName %s", user_name);
    h_check_(it_dn_is(dn, "uid", user_name, H_PEOPLE), __FILE__, __LINE__,
             "userName %s stored under DN %s (does not parse back to uid=<userName>," H_PEOPLE ")", user_name,
             dn ? dn : "(none)");
    h_check_(h_ldap_has_value(e, "uid", user_name, false) && it_nvals(e, "uid") == 1, __FILE__, __LINE__,
             "userName %s: uid is %s", user_name, h_ldap_attr(e, "uid") ? h_ldap_attr(e, "uid") : "(none)");
    json_decref(e);
}

static void check_found_once(const char *attr, const char *value, const char *id)
{
    char *f = it_eq_filter(attr, value);
    char *got = NULL;
    long n;

    H_REQUIRE(f != NULL);
    n = IT_LIST_COUNT(env.g, f, &got);
    h_check_(n == (id ? 1 : 0), __FILE__, __LINE__, "filter %s: %ld results, want %d", f, n, id ? 1 : 0);
    if (id)
        h_check_(got && strcmp(got, id) == 0, __FILE__, __LINE__, "filter %s: found %s, want %s", f,
                 got ? got : "nothing", id);
    free(got);
    free(f);
}

static void test_before_any(void)
{
    /* With only decoys present, these match nothing. */
    for (size_t i = 0; i < N_NAMES; i++)
        check_found_once("userName", names[i], NULL);
    check_found_once("externalId", "*", NULL);
}

static void test_names(char **ids)
{
    for (size_t i = 0; i < N_NAMES; i++) {
        char *path;
        h_resp r;

        ids[i] = create_named(names[i], NULL);
        if (ids[i] == NULL)
            continue;
        check_stored(ids[i], names[i]);
        path = it_user_path(ids[i]);
        r = h_http(env.g, "GET", path, NULL, NULL);
        H_CHECK_STATUS(r, 200);
        h_check_(h_jstr(r.json, "userName") && strcmp(h_jstr(r.json, "userName"), names[i]) == 0, __FILE__,
                 __LINE__, "GET: userName %s, want %s", h_jstr(r.json, "userName"), names[i]);
        h_resp_free(&r);
        free(path);
    }
    /* Each is found exactly, by its own userName only. */
    for (size_t i = 0; i < N_NAMES; i++)
        if (ids[i])
            check_found_once("userName", names[i], ids[i]);
    /* Creating one again is a conflict with itself, not with anyone else. */
    {
        char *before = h_ldap_snapshot(env.s), *after;
        json_t *body = json_pack("{s:[s], s:s}", "schemas", IT_URN_USER, "userName", "*");
        h_resp r = h_http_json(env.g, "POST", "/Users", body);

        IT_CHECK_ERROR(r, 409, "uniqueness");
        h_resp_free(&r);
        json_decref(body);
        after = h_ldap_snapshot(env.s);
        H_CHECK(h_snapshot_same(before, after));
        free(before);
        free(after);
    }
}

static bool ci_match(const char *op, const char *s, const char *v)
{
    size_t sl = strlen(s), vl = strlen(v);

    if (strcmp(op, "sw") == 0)
        return sl >= vl && strncasecmp(s, v, vl) == 0;
    if (strcmp(op, "ew") == 0)
        return sl >= vl && strncasecmp(s + sl - vl, v, vl) == 0;
    for (size_t i = 0; i + vl <= sl; i++)
        if (strncasecmp(s + i, v, vl) == 0)
            return true;
    return false;
}

/* Substring operators escape their values too: `co "*"` finds the users
 * whose userName holds a '*', not everyone. */
static void test_substrings(char **ids)
{
    static const struct {
        const char *op, *value;
    } probes[] = {{"co", "*"}, {"sw", "*"}, {"ew", "*"}, {"sw", "a)("}, {"co", ")(uid="}, {"ew", "\\\\"},
                  {"co", "\\\\2a"}, {"sw", "#"}, {"co", ","}, {"co", "+"}, {"co", "="}, {"co", "\\\""}};

    for (size_t p = 0; p < sizeof probes / sizeof probes[0]; p++) {
        char quoted[64], filter[96];
        json_t *v;
        const char *raw;
        long want = 0, got;

        /* probes[].value is written as the inside of a JSON string. */
        snprintf(quoted, sizeof quoted, "\"%s\"", probes[p].value);
        v = json_loads(quoted, JSON_DECODE_ANY, NULL);
        raw = json_string_value(v);
        H_REQUIRE(raw != NULL);
        for (size_t i = 0; i < N_NAMES; i++)
            if (ids[i] && ci_match(probes[p].op, names[i], raw))
                want++;
        for (size_t i = 0; i < sizeof decoys / sizeof decoys[0]; i++)
            if (ci_match(probes[p].op, decoys[i], raw))
                want++;
        snprintf(filter, sizeof filter, "userName %s %s", probes[p].op, quoted);
        got = IT_LIST_COUNT(env.g, filter, NULL);
        h_check_(got == want, __FILE__, __LINE__, "filter %s: %ld results, want %ld", filter, got, want);
        json_decref(v);
    }
}

/* A modify reaches the entry through its escaped DN. */
static void test_modify(char **ids)
{
    for (size_t i = 0; i < N_NAMES; i++) {
        json_t *e;
        h_resp r;

        if (ids[i] == NULL)
            continue;
        r = it_patch(env.g, ids[i], "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"Escaped\"}]");
        H_CHECK_STATUS(r, 200);
        h_resp_free(&r);
        e = it_entry_by_id(env.s, ids[i]);
        h_check_(e && h_ldap_attr(e, "title") && strcmp(h_ldap_attr(e, "title"), "Escaped") == 0, __FILE__,
                 __LINE__, "userName %s: title not written", names[i]);
        json_decref(e);
    }
    /* The decoys were not touched. */
    for (size_t i = 0; i < sizeof decoys / sizeof decoys[0]; i++) {
        char *f = it_ldap_eq("uid", decoys[i]);
        json_t *all = h_ldap_search(env.s, H_PEOPLE, f, NULL);

        h_check_(json_array_size(all) == 1 && h_ldap_attr(json_array_get(all, 0), "title") == NULL, __FILE__,
                 __LINE__, "decoy %s was modified or lost", decoys[i]);
        json_decref(all);
        free(f);
    }
}

/* Renames into and out of special characters. */
static void test_rename(void)
{
    static const char *const steps[] = {"plain.rename", "ren,a+m=e\\#\"<>;", "#ren*", "plain.again"};
    char *id = create_named(steps[0], NULL);

    if (id == NULL)
        return;
    for (size_t i = 1; i < sizeof steps / sizeof steps[0]; i++) {
        json_t *ops = json_pack("[{s:s, s:s, s:s}]", "op", "replace", "path", "userName", "value", steps[i]);
        char *text = ops ? json_dumps(ops, JSON_COMPACT) : NULL;
        h_resp r;

        H_REQUIRE(text != NULL);
        r = it_patch(env.g, id, text);
        H_CHECK_STATUS(r, 200);
        h_resp_free(&r);
        check_stored(id, steps[i]);
        check_found_once("userName", steps[i], id);
        check_found_once("userName", steps[i - 1], NULL);
        free(text);
        json_decref(ops);
    }
    free(id);
}

/* externalId values are filter data too. */
static void test_external_ids(void)
{
    static const char ext[] = "*)(uid=*";
    char *id = create_named("ext.escape", ext);
    char *id2 = create_named("ext.escape2", "ext\\2a(");

    H_REQUIRE(id != NULL && id2 != NULL);
    check_found_once("externalId", ext, id);
    check_found_once("externalId", "ext\\2a(", id2);
    check_found_once("externalId", "*", NULL);
    check_found_once("externalId", "ext*", NULL);
    {
        json_t *e = it_entry_by_id(env.s, id);

        H_CHECK_STR(h_ldap_attr(e, "scimexternalid"), ext);
        json_decref(e);
    }
    /* Combined with and: both halves are exact. */
    {
        char *a = it_eq_filter("userName", "ext.escape"), *b = it_eq_filter("externalId", ext);
        char f[256];
        char *got = NULL;

        snprintf(f, sizeof f, "%s and %s", a, b);
        H_CHECK_INT(IT_LIST_COUNT(env.g, f, &got), 1);
        H_CHECK_STR(got, id);
        free(got);
        free(a);
        free(b);
    }
    free(id);
    free(id2);
}

static void test_delete(char **ids)
{
    for (size_t i = 0; i < N_NAMES; i++) {
        char *path;
        h_resp r;
        json_t *e;

        if (ids[i] == NULL)
            continue;
        path = it_user_path(ids[i]);
        r = h_http(env.g, "DELETE", path, NULL, NULL);
        H_CHECK_STATUS(r, 204);
        h_resp_free(&r);
        e = it_entry_by_id(env.s, ids[i]);
        h_check_(e == NULL, __FILE__, __LINE__, "userName %s: still in LDAP after DELETE", names[i]);
        json_decref(e);
        free(path);
    }
    for (size_t i = 0; i < sizeof decoys / sizeof decoys[0]; i++) {
        char *f = it_ldap_eq("uid", decoys[i]);

        h_check_(h_ldap_count(env.s, H_PEOPLE, f) == 1, __FILE__, __LINE__, "decoy %s was deleted", decoys[i]);
        free(f);
    }
}

int main(void)
{
    char *ids[N_NAMES] = {0};

    if (it_env_start(&env, NULL)) {
        for (size_t i = 0; i < sizeof decoys / sizeof decoys[0]; i++) {
            char *id = create_named(decoys[i], NULL);

            H_REQUIRE(id != NULL);
            free(id);
        }
        test_before_any();
        test_names(ids);
        test_substrings(ids);
        test_modify(ids);
        test_rename();
        test_external_ids();
        test_delete(ids);
        for (size_t i = 0; i < N_NAMES; i++)
            free(ids[i]);
    }
    it_env_stop(&env);
    return H_DONE();
}
