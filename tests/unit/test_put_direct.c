/* test_put_direct.c — the one-modify PUT planner (s2l/put_direct.h) on the
 * shipped mappings: which bodies qualify, what the assertion must add, and
 * that its modify leaves an entry exactly as the reading path's plan
 * (s2l_rmap_plan_update_entry) leaves it, for stored entries the gateway
 * wrote itself (no values the resource does not show). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mapping_fixture.h"
#include "s2l/put_direct.h"
#include "unit.h"

static mapping_fixture mf;

#define USER_URN "urn:ietf:params:scim:schemas:core:2.0:User"
#define ENT_URN "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define USER_DN_BOB "uid=bob,ou=people,dc=example,dc=org"

static json_t *parse(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (j == NULL)
        fprintf(stderr, "bad test JSON (%s): %s\n", je.text, text);
    return j;
}

/* A PUT body as the handler has it: normalised for replace. */
static json_t *body_of(const s2l_rmap *rm, const char *text)
{
    json_t *raw = parse(text);
    s2l_error err;
    s2l_error_clear(&err);
    s2l_norm_opts opts = {.policies = s2l_rmap_policies(rm)};
    json_t *res = raw ? s2l_resource_normalize(s2l_rmap_rtype(rm), raw, S2L_NORM_REPLACE, &opts, &err) : NULL;
    if (raw && res == NULL)
        fprintf(stderr, "normalize refused %s: %s\n", text, err.detail);
    json_decref(raw);
    return res;
}

static int plan(const char *type, const char *body, const char *dn, s2l_put_direct *d)
{
    const s2l_rmap *rm = s2l_mapping_find(mf.openldap, type);
    json_t *res = body_of(rm, body);
    if (res == NULL) {
        *d = (s2l_put_direct){0};
        return -2;
    }
    int rc = s2l_put_plan_direct(rm, res, dn, NULL, d);
    json_decref(res);
    return rc;
}

static void expect_read(const char *type, const char *body, const char *dn, const char *why_part)
{
    s2l_put_direct d;
    int rc = plan(type, body, dn, &d);
    CHECK_INT(rc, 0);
    CHECK(d.mods == NULL && d.requires == NULL);
    CHECK(d.why_not && strstr(d.why_not, why_part) != NULL);
    if (rc != 0 || d.why_not == NULL || strstr(d.why_not, why_part) == NULL)
        fprintf(stderr, "  %s: rc %d why_not \"%s\", want \"%s\"\n", body, rc, d.why_not ? d.why_not : "", why_part);
    s2l_put_direct_fini(&d);
}

/* The mod on attr in d (NULL when none). */
static const json_t *mod_of(const s2l_put_direct *d, const char *attr)
{
    size_t i;
    const json_t *m;
    json_array_foreach(d->mods, i, m) {
        if (strcasecmp(json_string_value(json_object_get(m, "attr")), attr) == 0)
            return m;
    }
    return NULL;
}

static void test_shapes(void)
{
    /* Okta's profile push: every mapped attribute replaced, absent ones emptied */
    s2l_put_direct d;
    int rc = plan("User",
                  "{\"schemas\":[\"" USER_URN "\"],\"userName\":\"bob\",\"name\":{\"givenName\":\"Bob\","
                  "\"familyName\":\"Smith\"},\"emails\":[{\"primary\":true,\"value\":\"bob@x.org\",\"type\":\"work\"}],"
                  "\"displayName\":\"Bob Smith\",\"locale\":\"en-US\",\"externalId\":\"00u1\",\"groups\":[],"
                  "\"active\":true}",
                  USER_DN_BOB, &d);
    CHECK_INT(rc, 1);
    if (rc == 1) {
        CHECK_STR(json_string_value(json_array_get(json_object_get(mod_of(&d, "cn"), "values"), 0)), "Bob Smith");
        CHECK_STR(json_string_value(json_array_get(json_object_get(mod_of(&d, "mail"), "values"), 0)), "bob@x.org");
        CHECK_STR(json_string_value(json_object_get(mod_of(&d, "title"), "op")), "replace");
        CHECK_INT(json_array_size(json_object_get(mod_of(&d, "title"), "values")), 0); /* not in the body: emptied */
        CHECK(mod_of(&d, "uid") == NULL);      /* the RDN stays */
        CHECK(mod_of(&d, "scimKept") == NULL); /* asserted empty instead */
        CHECK(mod_of(&d, "memberOf") == NULL); /* read-only */
        CHECK(mod_of(&d, "userPassword") == NULL); /* no password in the body: left alone */
        /* active: true asks only that the gateway's lock is not there (a
         * failed-bind lockout stays, as on the reading path) */
        CHECK(mod_of(&d, "pwdAccountLockedTime") == NULL);
        CHECK_STR(d.requires, "(!(scimKept=*))(!(pwdAccountLockedTime=000001010000Z))");
    }
    s2l_put_direct_fini(&d);

    /* active: false locks; a password is hashed as on the other path */
    rc = plan("User",
              "{\"schemas\":[\"" USER_URN "\"],\"userName\":\"bob\",\"active\":false,\"password\":\"Pw-12345\"}",
              USER_DN_BOB, &d);
    CHECK_INT(rc, 1);
    if (rc == 1) {
        const json_t *lock = mod_of(&d, "pwdAccountLockedTime");
        CHECK_STR(json_string_value(json_array_get(json_object_get(lock, "values"), 0)), "000001010000Z");
        const char *pw =
            json_string_value(json_array_get(json_object_get(mod_of(&d, "userPassword"), "values"), 0));
        CHECK(pw && strncmp(pw, "{CRYPT}", 7) == 0);
        CHECK_STR(d.requires, "(!(scimKept=*))");
    }
    s2l_put_direct_fini(&d);

    /* a name the directory escaped like the mapping does is still the same name */
    rc = plan("User", "{\"schemas\":[\"" USER_URN "\"],\"userName\":\"a,b\"}", "uid=a\\,b,ou=people,dc=example,dc=org",
              &d);
    CHECK_INT(rc, 1);
    s2l_put_direct_fini(&d);
}

static void test_read_first(void)
{
    /* a rename, also by case only */
    expect_read("User", "{\"schemas\":[\"" USER_URN "\"],\"userName\":\"robert\"}", USER_DN_BOB, "rename");
    expect_read("User", "{\"schemas\":[\"" USER_URN "\"],\"userName\":\"Bob\"}", USER_DN_BOB, "rename");
    /* a manager: its id is looked up first (needs_ids), then planned with it */
    const char *with_manager = "{\"schemas\":[\"" USER_URN "\",\"" ENT_URN "\"],\"userName\":\"bob\",\"" ENT_URN
                               "\":{\"manager\":{\"value\":\"2819c223-7f76-453a-919d-413861904646\"}}}";
    expect_read("User", with_manager, USER_DN_BOB, "references");
    const s2l_rmap *rm = s2l_mapping_find(mf.openldap, "User");
    json_t *res = body_of(rm, with_manager);
    s2l_put_direct d;
    CHECK_INT(res ? s2l_put_plan_direct(rm, res, USER_DN_BOB, NULL, &d) : -2, 0);
    CHECK(d.needs_ids);
    s2l_put_direct_fini(&d);
    json_t *ids = json_pack("{s:s}", "2819c223-7f76-453a-919d-413861904646", "uid=boss,ou=people,dc=example,dc=org");
    CHECK_INT(res ? s2l_put_plan_direct(rm, res, USER_DN_BOB, ids, &d) : -2, 1);
    CHECK_STR(json_string_value(json_array_get(json_object_get(mod_of(&d, "manager"), "values"), 0)),
              "uid=boss,ou=people,dc=example,dc=org");
    CHECK(!d.needs_ids);
    s2l_put_direct_fini(&d);
    /* not found: the policy keeps it (unknown_manager "keep"): the reading path does that */
    json_object_clear(ids);
    CHECK_INT(res ? s2l_put_plan_direct(rm, res, USER_DN_BOB, ids, &d) : -2, 0);
    CHECK(d.why_not && strstr(d.why_not, "policy") != NULL);
    CHECK(!d.needs_ids);
    s2l_put_direct_fini(&d);
    json_decref(ids);
    json_decref(res);
    /* what the keep attribute holds: an unknown attribute, an unknown extension */
    expect_read("User", "{\"schemas\":[\"" USER_URN "\"],\"userName\":\"bob\",\"shoeSize\":44}", USER_DN_BOB,
                "keep attribute");
    expect_read("User",
                "{\"schemas\":[\"" USER_URN "\",\"urn:example:okta:custom\"],\"userName\":\"bob\","
                "\"urn:example:okta:custom\":{\"badge\":\"7\"}}",
                USER_DN_BOB, "keep attribute");
    /* groups: members are replaced as a set */
    expect_read("Group", "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"g\"}",
                "cn=g,ou=groups,dc=example,dc=org", "member lists");
}

/* ---- the same result as the reading path ---- */

/* attrs after mods (the LDAP modify semantics the planners use). */
static void apply_mods(json_t *attrs, const json_t *mods)
{
    size_t i;
    const json_t *m;
    json_array_foreach(mods, i, m) {
        const char *op = json_string_value(json_object_get(m, "op"));
        const char *attr = json_string_value(json_object_get(m, "attr"));
        const json_t *vals = json_object_get(m, "values");
        json_t *cur = NULL;
        const char *k;
        json_t *v;
        json_object_foreach(attrs, k, v) {
            if (strcasecmp(k, attr) == 0) {
                cur = v;
                attr = k;
                break;
            }
        }
        if (strcmp(op, "replace") == 0) {
            if (json_array_size(vals) == 0)
                json_object_del(attrs, attr);
            else
                json_object_set_new(attrs, attr, json_deep_copy(vals));
        } else if (strcmp(op, "add") == 0) {
            if (cur == NULL)
                json_object_set_new(attrs, attr, cur = json_array());
            json_array_extend(cur, (json_t *)vals);
        } else if (cur != NULL) {
            size_t j;
            const json_t *dv;
            json_array_foreach(vals, j, dv) {
                for (size_t c = json_array_size(cur); c-- > 0;)
                    if (json_equal(json_array_get(cur, c), dv))
                        json_array_remove(cur, c);
            }
            if (json_array_size(vals) == 0 || json_array_size(cur) == 0)
                json_object_del(attrs, attr);
        }
    }
}

/* Whether filter terms "(!(a=v))" in requires hold on attrs (the only kind the planner makes). */
static bool requires_hold(const char *requires, const json_t *attrs)
{
    const char *p = requires;
    while (p && *p) {
        const char *eq = strchr(p, '='), *end = strstr(p, "))");
        if (strncmp(p, "(!(", 3) != 0 || eq == NULL || end == NULL)
            return false;
        char attr[64], val[128];
        snprintf(attr, sizeof attr, "%.*s", (int)(eq - p - 3), p + 3);
        snprintf(val, sizeof val, "%.*s", (int)(end - eq - 1), eq + 1);
        const char *k;
        const json_t *vs;
        json_object_foreach((json_t *)attrs, k, vs) {
            if (strcasecmp(k, attr) != 0)
                continue;
            size_t i;
            const json_t *v;
            json_array_foreach(vs, i, v) {
                if (strcmp(val, "*") == 0 || strcmp(json_string_value(v), val) == 0)
                    return false;
            }
        }
        p = end + 2;
    }
    return true;
}

/* old_text: the resource the gateway stored (rendered as it writes it);
 * new_text: the PUT. Both planners applied to the stored attributes must
 * give the same attributes, or the direct one must refuse. */
static void expect_same_as_reading(const char *old_text, const char *new_text, bool want_direct)
{
    const s2l_rmap *rm = s2l_mapping_find(mf.openldap, "User");
    s2l_error err;
    s2l_error_clear(&err);
    json_t *ids = json_object();
    json_t *old_body = body_of(rm, old_text);
    json_t *entry = old_body ? s2l_rmap_to_ldap(rm, old_body, ids, &err) : NULL;
    json_t *new_res = body_of(rm, new_text);
    CHECK(entry != NULL && new_res != NULL);
    if (entry == NULL || new_res == NULL)
        goto out;
    json_object_set_new(json_object_get(entry, "attrs"), "entryUUID",
                        json_pack("[s]", "2819c223-7f76-453a-919d-413861904646"));
    json_t *old_res = s2l_rmap_to_scim(rm, entry, ids, NULL, &err);
    json_t *plan = old_res ? s2l_rmap_plan_update_entry(rm, entry, old_res, new_res, ids, &err) : NULL;
    CHECK(plan != NULL && json_is_null(json_object_get(plan, "newrdn")));
    s2l_put_direct d;
    int rc = s2l_put_plan_direct(rm, new_res, json_string_value(json_object_get(entry, "dn")), ids, &d);
    CHECK_INT(rc, want_direct ? 1 : 0);
    if (plan && rc == 1) {
        json_t *a = json_deep_copy(json_object_get(entry, "attrs"));
        json_t *b = json_deep_copy(json_object_get(entry, "attrs"));
        CHECK(requires_hold(d.requires, b));
        apply_mods(a, json_object_get(plan, "mods"));
        apply_mods(b, d.mods);
        bool same = mf_same_attrs(a, b);
        CHECK(same);
        if (!same)
            mf_show("direct PUT vs reading path", new_text, b, a);
        json_decref(a);
        json_decref(b);
    }
    s2l_put_direct_fini(&d);
    json_decref(plan);
    json_decref(old_res);
out:
    json_decref(ids);
    json_decref(old_body);
    json_decref(entry);
    json_decref(new_res);
}

static void test_same_as_reading(void)
{
    const char *full = "{\"schemas\":[\"" USER_URN "\",\"" ENT_URN "\"],\"userName\":\"bob\",\"externalId\":\"e1\","
                       "\"name\":{\"givenName\":\"Bob\",\"familyName\":\"Smith\",\"middleName\":\"M\"},"
                       "\"displayName\":\"Bob Smith\",\"title\":\"Eng\",\"locale\":\"en-US\",\"active\":true,"
                       "\"emails\":[{\"value\":\"bob@x.org\",\"type\":\"work\",\"primary\":true},"
                       "{\"value\":\"bob@home.org\",\"type\":\"home\"}],"
                       "\"phoneNumbers\":[{\"value\":\"+1 555\",\"type\":\"work\",\"primary\":true},"
                       "{\"value\":\"+1 666\",\"type\":\"mobile\"}],"
                       "\"addresses\":[{\"type\":\"work\",\"primary\":true,\"streetAddress\":\"1 Main St\","
                       "\"locality\":\"Town\",\"postalCode\":\"12345\",\"country\":\"US\"}],"
                       "\"" ENT_URN "\":{\"department\":\"R&D\",\"employeeNumber\":\"42\"}}";
    const char *small = "{\"schemas\":[\"" USER_URN "\"],\"userName\":\"bob\",\"name\":{\"givenName\":\"Bob\","
                        "\"familyName\":\"Smith\"},\"emails\":[{\"primary\":true,\"value\":\"bob@x.org\","
                        "\"type\":\"work\"}],\"displayName\":\"Bob Smith\",\"active\":true}";
    const char *locked = "{\"schemas\":[\"" USER_URN "\"],\"userName\":\"bob\",\"displayName\":\"B\",\"active\":false}";
    /* nothing changes */
    expect_same_as_reading(full, full, true);
    expect_same_as_reading(small, small, true);
    /* attributes go, come and change */
    expect_same_as_reading(full, small, true);
    expect_same_as_reading(small, full, true);
    /* lock and unlock: locking is direct; unlocking the gateway's lock needs the
     * reading path (the assertion says "not locked", requires_hold fails) */
    expect_same_as_reading(small, locked, true);
    expect_same_as_reading(locked, locked, true);
    {
        const s2l_rmap *rm = s2l_mapping_find(mf.openldap, "User");
        s2l_error err;
        s2l_error_clear(&err);
        json_t *ids = json_object(), *ob = body_of(rm, locked);
        json_t *entry = ob ? s2l_rmap_to_ldap(rm, ob, ids, &err) : NULL;
        s2l_put_direct d;
        json_t *nr = body_of(rm, small);
        CHECK_INT(entry && nr ? s2l_put_plan_direct(rm, nr, USER_DN_BOB, NULL, &d) : -1, 1);
        CHECK(entry && !requires_hold(d.requires, json_object_get(entry, "attrs")));
        s2l_put_direct_fini(&d);
        json_decref(nr);
        json_decref(entry);
        json_decref(ob);
        json_decref(ids);
    }
}

int main(void)
{
    if (!mf_init(&mf)) {
        fprintf(stderr, "cannot load the mappings\n");
        return 1;
    }
    test_shapes();
    test_read_first();
    test_same_as_reading();
    mf_fini(&mf);
    return UNIT_DONE();
}
