/* test_patch_direct.c — the one-modify PATCH planner (s2l/patch_direct.h),
 * the write assertion and the scope check, on the shipped mappings; and the
 * id -> DN cache (s2l/id_cache.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping_fixture.h"
#include "s2l/id_cache.h"
#include "s2l/patch_direct.h"
#include "unit.h"

static mapping_fixture mf;

/* Plans ops (JSON text of the Operations array) on type; returns 1/0/-1 and
 * leaves the plan in *d (caller frees). */
static int plan(const char *type, const char *ops, s2l_patch_direct *d)
{
    const s2l_rmap *rm = s2l_mapping_find(mf.openldap, type);
    char body[4096];
    snprintf(body, sizeof body, "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":%s}",
             ops);
    json_error_t je;
    json_t *req = json_loads(body, 0, &je);
    if (req == NULL) {
        fprintf(stderr, "bad test JSON: %s\n", body);
        return -2;
    }
    s2l_patch_opts opts = {.delta_attrs = s2l_rmap_delta_attrs(rm), .policies = s2l_rmap_policies(rm)};
    int rc = s2l_patch_plan_direct(rm, req, &opts, d);
    json_decref(req);
    return rc;
}

/* The mods as compact JSON text (malloc'd). */
static char *mods_text(const s2l_patch_direct *d)
{
    return json_dumps(d->mods, JSON_COMPACT | JSON_SORT_KEYS);
}

static void expect_direct(const char *type, const char *ops, const char *want_mods)
{
    s2l_patch_direct d;
    int rc = plan(type, ops, &d);
    CHECK_INT(rc, 1);
    if (rc != 1)
        fprintf(stderr, "  %s: not direct: %s\n", ops, d.why_not ? d.why_not : "?");
    char *t = rc == 1 ? mods_text(&d) : NULL;
    if (want_mods)
        CHECK_STR(t, want_mods);
    free(t);
    s2l_patch_direct_fini(&d);
}

static void expect_fetch(const char *type, const char *ops, const char *why_part)
{
    s2l_patch_direct d;
    int rc = plan(type, ops, &d);
    CHECK_INT(rc, 0);
    CHECK(d.mods == NULL);
    if (rc != 0)
        fprintf(stderr, "  %s: planned as direct\n", ops);
    if (why_part) {
        CHECK(d.why_not && strstr(d.why_not, why_part) != NULL);
        if (d.why_not && strstr(d.why_not, why_part) == NULL)
            fprintf(stderr, "  %s: why_not \"%s\", want \"%s\"\n", ops, d.why_not, why_part);
    }
    s2l_patch_direct_fini(&d);
}

static void test_direct_shapes(void)
{
    expect_direct("User", "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"Boss\"}]",
                  "[{\"attr\":\"title\",\"op\":\"replace\",\"values\":[\"Boss\"]}]");
    /* add on a single-valued attribute is a replace; op names in any case */
    expect_direct("User", "[{\"op\":\"Add\",\"path\":\"nickName\",\"value\":\"N\"}]",
                  "[{\"attr\":\"scimNickName\",\"op\":\"replace\",\"values\":[\"N\"]}]");
    /* extension attribute by URN path */
    expect_direct("User",
                  "[{\"op\":\"replace\",\"path\":\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
                  "department\",\"value\":\"Ops\"}]",
                  "[{\"attr\":\"ou\",\"op\":\"replace\",\"values\":[\"Ops\"]}]");
    /* active (ppolicy lock) both ways, path-less form (Okta) */
    expect_direct("User", "[{\"op\":\"replace\",\"value\":{\"active\":false}}]",
                  "[{\"attr\":\"pwdAccountLockedTime\",\"op\":\"replace\",\"values\":[\"000001010000Z\"]}]");
    /* true: only the gateway's own lock value goes; a failed-bind lockout time stays */
    expect_direct("User", "[{\"op\":\"replace\",\"path\":\"active\",\"value\":true}]",
                  "[{\"attr\":\"pwdAccountLockedTime\",\"op\":\"delete\",\"values\":[\"000001010000Z\"]}]");
    /* Entra's "True"/"False" strings go through the engine's coercion */
    expect_direct("User", "[{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"False\"}]",
                  "[{\"attr\":\"pwdAccountLockedTime\",\"op\":\"replace\",\"values\":[\"000001010000Z\"]}]");
    /* several attributes, a sub-attribute without template use */
    expect_direct("User",
                  "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"A\"},"
                  "{\"op\":\"replace\",\"path\":\"name.middleName\",\"value\":\"M\"}]",
                  "[{\"attr\":\"title\",\"op\":\"replace\",\"values\":[\"A\"]},"
                  "{\"attr\":\"scimMiddleName\",\"op\":\"replace\",\"values\":[\"M\"]}]");
    /* a password is hashed by the mapping as on the other path */
    s2l_patch_direct d;
    CHECK_INT(plan("User", "[{\"op\":\"replace\",\"path\":\"password\",\"value\":\"Secret-123\"}]", &d), 1);
    const char *pw = json_string_value(json_array_get(json_object_get(json_array_get(d.mods, 0), "values"), 0));
    CHECK(pw && strncmp(pw, "{CRYPT}", 7) == 0);
    s2l_patch_direct_fini(&d);
    /* members: add by value, remove without keep attribute is checked below */
    CHECK_INT(plan("Group", "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"u1\"},{\"value\":\"u2\"}]}]",
                   &d),
              1);
    CHECK_INT(json_array_size(d.mods), 0);
    CHECK_INT(json_array_size(d.deltas), 1);
    CHECK_INT(json_array_size(json_object_get(json_array_get(d.deltas, 0), "add")), 2);
    s2l_patch_direct_fini(&d);
}

static void test_fetch_shapes(void)
{
    /* templates: cn falls back to "{name.givenName} {name.familyName}" / "{displayName}" */
    expect_fetch("User", "[{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"D\"}]", "template");
    expect_fetch("User", "[{\"op\":\"replace\",\"path\":\"name.givenName\",\"value\":\"G\"}]", "template");
    /* the RDN: a rename */
    expect_fetch("User", "[{\"op\":\"replace\",\"path\":\"userName\",\"value\":\"u\"}]", "RDN");
    expect_fetch("Group", "[{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"g\"}]", "RDN");
    /* value filters, removes, multi-valued, complex, unknown */
    expect_fetch("User", "[{\"op\":\"replace\",\"path\":\"emails[type eq \\\"work\\\"].value\",\"value\":\"a@b\"}]",
                 "filter");
    expect_fetch("User", "[{\"op\":\"remove\",\"path\":\"title\"}]", "remove");
    expect_fetch("User", "[{\"op\":\"add\",\"path\":\"emails\",\"value\":[{\"value\":\"a@b\",\"type\":\"work\"}]}]",
                 "scalar");
    expect_fetch("User", "[{\"op\":\"replace\",\"path\":\"name\",\"value\":{\"givenName\":\"x\"}}]", "scalar");
    expect_fetch("User", "[{\"op\":\"replace\",\"path\":\"noSuchAttribute\",\"value\":\"x\"}]", "unmapped");
    expect_fetch("User", "[{\"op\":\"replace\",\"path\":\"urn:example:unknown:attr\",\"value\":\"x\"}]", "schema");
    expect_fetch("User", "[{\"op\":\"replace\",\"value\":{\"name\":{\"givenName\":\"x\"}}}]", "complex");
    /* readOnly / immutable */
    expect_fetch("User", "[{\"op\":\"replace\",\"path\":\"id\",\"value\":\"x\"}]", NULL);
    /* one bad operation spoils the request */
    expect_fetch("User",
                 "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"ok\"},"
                 "{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"D\"}]",
                 "template");
    /* members: wholesale, all, kept items (the default Group keeps member items) */
    expect_fetch("Group", "[{\"op\":\"replace\",\"path\":\"members\",\"value\":[{\"value\":\"u1\"}]}]", "wholesale");
    expect_fetch("Group", "[{\"op\":\"remove\",\"path\":\"members\"}]", "all members");
    /* a removal by value is direct even where the type keeps items: the write's
     * assertion says the group holds none (test_write_assertion) */
    expect_direct("Group", "[{\"op\":\"remove\",\"path\":\"members[value eq \\\"u1\\\"]\"}]", "[]");
    /* Azure's members[].displayName is kept by policy in the keep attribute */
    expect_fetch("Group",
                 "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"u1\",\"displayName\":\"U One\"}]}]",
                 "keep attribute");
    /* display is rendered, not kept: direct */
    expect_direct("Group",
                  "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"u1\",\"display\":\"U One\"}]}]",
                  "[]");
    /* no operations, an unknown op; invalid values are left to the full path */
    expect_fetch("User", "[]", "no operations");
    expect_fetch("User", "[{\"op\":\"move\",\"path\":\"title\",\"value\":\"x\"}]", "op");
    expect_fetch("User", "[{\"op\":\"replace\",\"path\":\"active\",\"value\":\"maybe\"}]", "engine");
}

static void test_assertion(void)
{
    const s2l_rmap *u = s2l_mapping_find(mf.openldap, "User");
    const char *id = "1c2d3e4f-0000-4000-8000-00000000abcd";
    char *plain = s2l_rmap_write_assertion(u, id, NULL);
    char *idf = s2l_rmap_write_id_filter(u, id);
    CHECK_STR(plain, idf);
    CHECK(plain && strstr(plain, id) != NULL);
    char *star = s2l_rmap_write_assertion(u, id, " * ");
    CHECK_STR(star, idf);
    char *weak = s2l_rmap_write_assertion(u, id, "W/\"20260101000000.000000Z#000000#000#000000\"");
    CHECK(weak && strstr(weak, "(entryCSN=20260101000000.000000Z#000000#000#000000)") != NULL);
    CHECK(weak && strncmp(weak, "(&", 2) == 0 && strstr(weak, idf) != NULL);
    char *strong = s2l_rmap_write_assertion(u, id, "\"abc\"");
    CHECK(strong && strstr(strong, "(entryCSN=abc)") != NULL);
    /* escaped: a version cannot inject filter syntax */
    char *evil = s2l_rmap_write_assertion(u, id, "W/\"x)(uid=*\"");
    CHECK(evil && strstr(evil, "(entryCSN=x\\29\\28uid=\\2a)") != NULL);
    /* not one plain ETag: no assertion (the full path compares) */
    CHECK(s2l_rmap_write_assertion(u, id, "W/\"a\", W/\"b\"") == NULL);
    CHECK(s2l_rmap_write_assertion(u, id, "garbage") == NULL);
    /* Group: entryCSN by default too */
    const s2l_rmap *g = s2l_mapping_find(mf.openldap, "Group");
    char *gplain = s2l_rmap_write_assertion(g, id, "W/\"abc\"");
    CHECK(gplain && strstr(gplain, "(entryCSN=abc)") != NULL);
    free(plain);
    free(idf);
    free(star);
    free(weak);
    free(strong);
    free(evil);
    free(gplain);
}

static void test_scope(void)
{
    const s2l_rmap *u = s2l_mapping_find(mf.openldap, "User");
    CHECK(s2l_rmap_dn_in_scope(u, "uid=a,ou=people,dc=example,dc=org"));
    CHECK(s2l_rmap_dn_in_scope(u, "uid=a,OU=People,dc=example,dc=org"));
    CHECK(!s2l_rmap_dn_in_scope(u, "uid=a,ou=sub,ou=people,dc=example,dc=org")); /* scope one */
    CHECK(!s2l_rmap_dn_in_scope(u, "uid=a,ou=groups,dc=example,dc=org"));
    CHECK(!s2l_rmap_dn_in_scope(u, "ou=people,dc=example,dc=org"));
    CHECK(!s2l_rmap_dn_in_scope(u, NULL));
}

static void test_cache(void)
{
    s2l_id_cache *c = s2l_id_cache_create(3);
    CHECK(c != NULL);
    CHECK(s2l_id_cache_get(c, "User", "a") == NULL);
    CHECK_INT(s2l_id_cache_put(c, "User", "a", "uid=a,o=x"), 0);
    CHECK_INT(s2l_id_cache_put(c, "Group", "a", "cn=a,o=x"), 0); /* same id, other type */
    CHECK_STR(s2l_id_cache_get(c, "User", "a"), "uid=a,o=x");
    CHECK_STR(s2l_id_cache_get(c, "Group", "a"), "cn=a,o=x");
    /* refresh in place (a rename) */
    CHECK_INT(s2l_id_cache_put(c, "User", "a", "uid=b,o=x"), 0);
    CHECK_STR(s2l_id_cache_get(c, "User", "a"), "uid=b,o=x");
    /* "type\0id" keys: no confusion between ("Us", "era") and ("User", "a") */
    CHECK(s2l_id_cache_get(c, "Us", "era") == NULL);
    /* least recently used goes first: Group/a was used before User/a */
    CHECK_INT(s2l_id_cache_put(c, "User", "b", "uid=bb,o=x"), 0);
    CHECK_STR(s2l_id_cache_get(c, "User", "a"), "uid=b,o=x");
    CHECK_INT(s2l_id_cache_put(c, "User", "c", "uid=c,o=x"), 0);
    CHECK(s2l_id_cache_get(c, "Group", "a") == NULL);
    CHECK_STR(s2l_id_cache_get(c, "User", "b"), "uid=bb,o=x");
    s2l_id_cache_stats st;
    s2l_id_cache_get_stats(c, &st);
    CHECK_INT(st.size, 3);
    CHECK_INT(st.evictions, 1);
    s2l_id_cache_drop(c, "User", "b");
    CHECK(s2l_id_cache_get(c, "User", "b") == NULL);
    s2l_id_cache_drop(c, "User", "nope");
    s2l_id_cache_get_stats(c, &st);
    CHECK_INT(st.size, 2);
    /* many: bounded, every recent one found */
    for (int i = 0; i < 1000; i++) {
        char id[16], dn[32];
        snprintf(id, sizeof id, "%d", i);
        snprintf(dn, sizeof dn, "uid=%d,o=x", i);
        s2l_id_cache_put(c, "User", id, dn);
    }
    s2l_id_cache_get_stats(c, &st);
    CHECK_INT(st.size, 3);
    CHECK_STR(s2l_id_cache_get(c, "User", "999"), "uid=999,o=x");
    CHECK(s2l_id_cache_get(c, "User", "996") == NULL);
    s2l_id_cache_destroy(c);

    /* capacity 0 holds nothing */
    c = s2l_id_cache_create(0);
    CHECK_INT(s2l_id_cache_put(c, "User", "a", "uid=a"), 0);
    CHECK(s2l_id_cache_get(c, "User", "a") == NULL);
    s2l_id_cache_destroy(c);
}

int main(void)
{
    if (!mf_init(&mf))
        return 1;
    test_direct_shapes();
    test_fetch_shapes();
    test_assertion();
    test_scope();
    test_cache();
    mf_fini(&mf);
    return UNIT_DONE();
}
