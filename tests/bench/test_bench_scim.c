/* test_bench_scim.c — the benchmark's user profiles: what post-users creates,
 * what put-user sends (everything as created but displayName and title), and
 * that the raw side's LDAP attributes (modify-profile) are exactly what the
 * default mapping makes of the PUT body: checked against mappings/openldap.json
 * through the gateway's own normalisation and translation (s2l_core). */
#include "bench_scim.h"
#include "mapping_fixture.h"
#include "unit.h"

#include <jansson.h>
#include <strings.h>

static json_t *parse(const char *s)
{
    json_error_t je;
    json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL)
        fprintf(stderr, "not JSON (%s): %s\n", je.text, s);
    return j;
}

static const char *jstr(const json_t *o, const char *path)
{
    char key[64];
    const char *dot = strchr(path, '.');
    if (dot == NULL)
        return json_string_value(json_object_get(o, path));
    snprintf(key, sizeof key, "%.*s", (int)(dot - path), path);
    return jstr(json_object_get(o, key), dot + 1);
}

/* LDAP attribute names are case-insensitive. */
static json_t *get_ci(const json_t *o, const char *name)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        if (strcasecmp(k, name) == 0)
            return v;
    }
    return NULL;
}

static void test_user_index(void)
{
    size_t i = 99;
    CHECK(s2l_bench_user_index("gw-nosync-c16-000042", &i));
    CHECK_INT(i, 42);
    CHECK(s2l_bench_user_index("p-1234567", &i));
    CHECK_INT(i, 1234567);
    CHECK(!s2l_bench_user_index("u000", &i));
    CHECK(!s2l_bench_user_index("p-", &i));
    CHECK(!s2l_bench_user_index("-5", &i));
    CHECK(!s2l_bench_user_index("p-12b", &i));
    CHECK(!s2l_bench_user_index("p-99999999999999999999999999", &i));
}

static void test_created_and_changed(void)
{
    s2l_bench_profile c, a, b;
    CHECK_INT(s2l_bench_profile_created(&c, "p", 7), 0);
    CHECK_STR(c.user_name, "p-000007");
    CHECK_STR(c.external_id, "ext-p-000007");
    CHECK_STR(c.given_name, "Given");
    CHECK_STR(c.family_name, "Family 7");
    CHECK_STR(c.formatted, "Given Family 7");
    CHECK_STR(c.display_name, "Display p-000007");
    CHECK_STR(c.email, "p-000007@example.org");
    CHECK_STR(c.title, "");

    /* As created, but displayName and title, which differ from change to change. */
    CHECK_INT(s2l_bench_profile_changed(&a, c.user_name, 3), 0);
    CHECK_INT(s2l_bench_profile_changed(&b, c.user_name, 4), 0);
    CHECK_STR(a.user_name, c.user_name);
    CHECK_STR(a.external_id, c.external_id);
    CHECK_STR(a.given_name, c.given_name);
    CHECK_STR(a.family_name, c.family_name);
    CHECK_STR(a.formatted, c.formatted);
    CHECK_STR(a.email, c.email);
    CHECK(strcmp(a.display_name, c.display_name) != 0);
    CHECK(a.title[0] != '\0');
    CHECK(strcmp(a.display_name, b.display_name) != 0);
    CHECK(strcmp(a.title, b.title) != 0);

    CHECK_INT(s2l_bench_profile_changed(&a, "u000", 1), -1);
    char long_prefix[S2L_BENCH_PROFILE_MAX + 8];
    memset(long_prefix, 'x', sizeof long_prefix - 1);
    long_prefix[sizeof long_prefix - 1] = '\0';
    CHECK_INT(s2l_bench_profile_created(&c, long_prefix, 1), -1);
}

static void test_json(void)
{
    s2l_bench_profile c, p;
    char buf[2048];
    CHECK_INT(s2l_bench_profile_created(&c, "p", 12), 0);
    int n = s2l_bench_user_json(buf, sizeof buf, &c, NULL, false);
    CHECK(n > 0 && (size_t)n == strlen(buf));
    json_t *j = parse(buf);
    CHECK(json_is_object(j));
    CHECK_STR(json_string_value(json_array_get(json_object_get(j, "schemas"), 0)),
              "urn:ietf:params:scim:schemas:core:2.0:User");
    CHECK_STR(jstr(j, "userName"), "p-000012");
    CHECK_STR(jstr(j, "externalId"), "ext-p-000012");
    CHECK_STR(jstr(j, "name.givenName"), "Given");
    CHECK_STR(jstr(j, "name.familyName"), "Family 12");
    CHECK_STR(jstr(j, "displayName"), "Display p-000012");
    json_t *mail = json_array_get(json_object_get(j, "emails"), 0);
    CHECK_STR(jstr(mail, "value"), "p-000012@example.org");
    CHECK_STR(jstr(mail, "type"), "work");
    CHECK(json_is_true(json_object_get(mail, "primary")));
    CHECK(json_is_true(json_object_get(j, "active")));
    CHECK(json_object_get(j, "title") == NULL);
    CHECK(json_object_get(j, "id") == NULL);
    CHECK(json_object_get(j, "groups") == NULL);
    json_decref(j);

    CHECK_INT(s2l_bench_profile_changed(&p, "p-000012", 5), 0);
    n = s2l_bench_user_json(buf, sizeof buf, &p, "abc-123", true);
    CHECK(n > 0);
    j = parse(buf);
    CHECK_STR(jstr(j, "id"), "abc-123");
    CHECK_STR(jstr(j, "userName"), "p-000012");
    CHECK_STR(jstr(j, "externalId"), "ext-p-000012");
    CHECK_STR(jstr(j, "title"), p.title);
    CHECK_STR(jstr(j, "displayName"), p.display_name);
    CHECK(json_is_array(json_object_get(j, "groups")) && json_array_size(json_object_get(j, "groups")) == 0);
    json_decref(j);

    CHECK_INT(s2l_bench_user_json(buf, (size_t)n, &p, "abc-123", true), -1);   /* no room for the NUL */
    CHECK_INT(s2l_bench_user_json(buf, (size_t)n + 1, &p, "abc-123", true), n);
}

/* The body as the gateway takes it: normalised for a PUT (the mapping's policies). */
static json_t *canonical(const s2l_rmap *rm, const char *body)
{
    s2l_error err = {0};
    json_t *b = parse(body);
    s2l_norm_opts opts = {.policies = s2l_rmap_policies(rm)};
    json_t *r = b ? s2l_resource_normalize(s2l_rmap_rtype(rm), b, S2L_NORM_REPLACE, &opts, &err) : NULL;
    if (r == NULL)
        fprintf(stderr, "normalize: %d %s\n", err.status, err.detail);
    json_decref(b);
    return r;
}

/* The attributes of a profile's body, as the default mapping writes them,
 * are exactly the raw side's (objectClass and the RDN aside). */
static void test_against_mapping(const s2l_rmap *rm)
{
    s2l_bench_profile c, p;
    s2l_bench_ldap_value v[S2L_BENCH_PROFILE_LDAP_MAX];
    char created[2048], put[2048];
    s2l_error err = {0};
    json_t *ids = json_object();

    CHECK_INT(s2l_bench_profile_created(&c, "gw-nosync-c16", 3), 0);
    CHECK_INT(s2l_bench_profile_changed(&p, c.user_name, 8), 0);
    CHECK(s2l_bench_user_json(created, sizeof created, &c, NULL, false) > 0);
    CHECK(s2l_bench_user_json(put, sizeof put, &p, "00000000-0000-4000-8000-000000000001", true) > 0);
    json_t *old_res = canonical(rm, created), *new_res = canonical(rm, put);
    CHECK(old_res != NULL && new_res != NULL);
    if (old_res == NULL || new_res == NULL)
        goto out;

    json_t *add = s2l_rmap_to_ldap(rm, new_res, ids, &err);
    CHECK(add != NULL);
    json_t *attrs = json_object_get(add, "attrs");
    size_t n = s2l_bench_profile_ldap(&p, v);
    CHECK_INT(n, 7);
    CHECK_INT(json_object_size(attrs), n + 2);   /* + objectClass, uid */
    CHECK_STR(json_string_value(json_array_get(get_ci(attrs, "uid"), 0)), p.user_name);
    CHECK(json_array_size(get_ci(attrs, "objectClass")) > 0);
    for (size_t i = 0; i < n; i++) {
        json_t *vals = get_ci(attrs, v[i].attr);
        if (json_array_size(vals) != 1 || strcmp(json_string_value(json_array_get(vals, 0)), v[i].value) != 0) {
            char *got = vals ? json_dumps(vals, JSON_COMPACT) : NULL;
            fprintf(stderr, "%s: the mapping writes %s, the raw side %s\n", v[i].attr, got ? got : "nothing",
                    v[i].value);
            free(got);
            CHECK(false);
        }
    }
    /* The created profile: the same less title. */
    CHECK_INT(s2l_bench_profile_ldap(&c, v), 6);

    /* Against the user as created, the PUT changes displayName and title only: no rename. */
    json_t *plan = s2l_rmap_plan_update(rm, old_res, new_res, ids, &err);
    CHECK(plan != NULL);
    CHECK(json_is_null(json_object_get(plan, "newrdn")));
    json_t *mods = json_object_get(plan, "mods");
    CHECK_INT(json_array_size(mods), 2);
    size_t i;
    json_t *m;
    json_array_foreach(mods, i, m) {
        const char *a = jstr(m, "attr");
        CHECK(a && (strcasecmp(a, "displayName") == 0 || strcasecmp(a, "title") == 0));
        CHECK_STR(jstr(m, "op"), "replace");
    }
    json_decref(plan);
    json_decref(add);
out:
    json_decref(old_res);
    json_decref(new_res);
    json_decref(ids);
}

int main(void)
{
    test_user_index();
    test_created_and_changed();
    test_json();
    mapping_fixture f;
    CHECK(mf_init(&f));
    if (f.openldap)
        test_against_mapping(s2l_mapping_find(f.openldap, "User"));
    mf_fini(&f);
    return UNIT_DONE();
}
