/* test_write_assertion.c — assertions widened for slapd's memberof overlay
 * (s2l/write_assertion.h): the exact filters, RFC 4515 escaping of DNs, the
 * exclusion of the target's own DN, and what each shipped mapping gives for
 * deletes and member changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping_fixture.h"
#include "s2l/write_assertion.h"
#include "unit.h"

static mapping_fixture mf;

static void test_widen(void)
{
    /* no terms: the assertion itself */
    char *f = s2l_assertion_widen("(entryUUID=x)", "cn=g,o=x", NULL, 0);
    CHECK_STR(f, "(entryUUID=x)");
    free(f);

    s2l_ava one = {"member", "uid=a,o=x", 9};
    f = s2l_assertion_widen("(entryUUID=x)", "uid=a,o=x", &one, 1);
    CHECK_STR(f, "(|(entryUUID=x)(&(!(entryDN=uid=a,o=x))(member=uid=a,o=x)))");
    free(f);

    s2l_ava two[] = {{"entryDN", "uid=a,o=x", 9}, {"entryDN", "uid=b,o=x", 9}};
    f = s2l_assertion_widen("(a=1)", "cn=g,o=x", two, 2);
    CHECK_STR(f, "(|(a=1)(&(!(entryDN=cn=g,o=x))(|(entryDN=uid=a,o=x)(entryDN=uid=b,o=x))))");
    free(f);

    /* RFC 4515: * ( ) \ and NUL in the values (a DN may hold all of them,
     * escaped or not) and in the target's DN cannot add filter syntax */
    static const char evil[] = "cn=a*(b)\\2c\0x,o=x";
    s2l_ava e = {"member", evil, sizeof evil - 1};
    f = s2l_assertion_widen("(a=1)", "cn=(*)\\,o=x", &e, 1);
    CHECK_STR(f, "(|(a=1)(&(!(entryDN=cn=\\28\\2a\\29\\5c,o=x))(member=cn=a\\2a\\28b\\29\\5c2c\\00x,o=x)))");
    free(f);

    /* refused: NULL arguments, empty attribute, too many terms */
    CHECK(s2l_assertion_widen(NULL, "cn=g", &one, 1) == NULL);
    CHECK(s2l_assertion_widen("(a=1)", NULL, &one, 1) == NULL);
    CHECK(s2l_assertion_widen("(a=1)", "cn=g", NULL, 1) == NULL);
    s2l_ava empty = {"", "v", 1};
    CHECK(s2l_assertion_widen("(a=1)", "cn=g", &empty, 1) == NULL);
    s2l_ava *many = calloc(S2L_ASSERTION_MAX_TERMS + 1, sizeof *many);
    CHECK(many != NULL);
    for (size_t i = 0; many && i <= S2L_ASSERTION_MAX_TERMS; i++)
        many[i] = (s2l_ava){"entryDN", "uid=a", 5};
    CHECK(many && s2l_assertion_widen("(a=1)", "cn=g", many, S2L_ASSERTION_MAX_TERMS + 1) == NULL);
    f = many ? s2l_assertion_widen("(a=1)", "cn=g", many, S2L_ASSERTION_MAX_TERMS) : NULL;
    CHECK(f != NULL);
    free(f);
    free(many);
}

static void test_delete(void)
{
    const s2l_rmap *u = s2l_mapping_find(mf.openldap, "User");
    const s2l_rmap *g = s2l_mapping_find(mf.openldap, "Group");
    /* a user: the groups listing it in member */
    char *f = s2l_rmap_delete_assertion(u, "uid=a,ou=people,dc=example,dc=org", "(A)");
    CHECK_STR(f, "(|(A)(&(!(entryDN=uid=a,ou=people,dc=example,dc=org))(member=uid=a,ou=people,dc=example,dc=org)))");
    free(f);
    /* a group: the groups listing it (nested) and the members listing it in memberOf */
    f = s2l_rmap_delete_assertion(g, "cn=g,ou=groups,dc=example,dc=org", "(A)");
    CHECK_STR(f, "(|(A)(&(!(entryDN=cn=g,ou=groups,dc=example,dc=org))(|(member=cn=g,ou=groups,dc=example,dc=org)"
                 "(memberOf=cn=g,ou=groups,dc=example,dc=org))))");
    free(f);
    /* escaped */
    f = s2l_rmap_delete_assertion(u, "uid=a\\29(*,o=x", "(A)");
    CHECK_STR(f, "(|(A)(&(!(entryDN=uid=a\\5c29\\28\\2a,o=x))(member=uid=a\\5c29\\28\\2a,o=x)))");
    free(f);

    /* variants: uniqueMember groups, memberUid groups (RDN values, never a DN:
     * not a term), users' groups by search (no memberOf attribute) */
    const s2l_rmap *vu = s2l_mapping_find(mf.variants, "User");
    const s2l_rmap *vg = s2l_mapping_find(mf.variants, "Group");
    f = s2l_rmap_delete_assertion(vu, "uid=a,o=x", "(A)");
    CHECK_STR(f, "(|(A)(&(!(entryDN=uid=a,o=x))(uniqueMember=uid=a,o=x)))");
    free(f);
    /* a group type without a memberOf the gateway knows: it cannot name the
     * members the overlay modifies, so no assertion (the caller reads first) */
    CHECK(s2l_rmap_delete_assertion(vg, "cn=g,o=x", "(A)") == NULL);
    CHECK(s2l_rmap_delete_assertion(u, NULL, "(A)") == NULL);
    CHECK(s2l_rmap_delete_assertion(u, "uid=a", NULL) == NULL);
}

static json_t *mods_of(const char *text)
{
    json_error_t je;
    json_t *m = json_loads(text, 0, &je);
    if (m == NULL)
        fprintf(stderr, "bad test JSON: %s\n", text);
    return m;
}

/* the default Group's object classes, which a PATCH assertion requires */
#define GCLASSES "(objectClass=top)(objectClass=groupOfNames)(objectClass=scimGroup)"
/* no kept item of member <id> (the default Group keeps items in scimKept) */
#define NOKEPT(id) "(!(scimKept={\"members\":*\"value\":\"" id "\"*))"

/* s2l_rmap_patch_assertion with mods and deltas as JSON text (deltas may be NULL). */
static char *pa(const s2l_rmap *rm, const char *dn, const char *mods, const char *deltas)
{
    json_t *m = mods_of(mods), *d = deltas ? mods_of(deltas) : NULL;
    char *f = m ? s2l_rmap_patch_assertion(rm, dn, "(A)", m, d) : NULL;
    json_decref(m);
    json_decref(d);
    return f;
}

static void test_members(void)
{
    const s2l_rmap *g = s2l_mapping_find(mf.openldap, "Group");
    const char *gdn = "cn=g,ou=groups,dc=example,dc=org";
    /* adds: the group must not hold the placeholder (member=) nor kept items
     * of the members added (the read path would replace them) */
    char *f = pa(g, gdn, "[{\"op\":\"add\",\"attr\":\"member\",\"values\":[\"uid=a,o=x\",\"uid=b,o=x\"]}]",
                 "[{\"attr\":\"members\",\"add\":[{\"value\":\"ida\"},{\"value\":\"idb\"}],\"remove\":[]}]");
    CHECK_STR(f, "(|(&(A)" GCLASSES "(!(member=))" NOKEPT("ida") NOKEPT("idb")
                 ")(&(!(entryDN=cn=g,ou=groups,dc=example,dc=org))(|(entryDN=uid=a,o=x)(entryDN=uid=b,o=x))))");
    free(f);
    /* removals only: no placeholder condition (the modify never touches it);
     * kept items of the member removed must not be there (they go with it) */
    f = pa(g, gdn, "[{\"op\":\"delete\",\"attr\":\"member\",\"values\":[\"uid=a,o=x\"]}]",
           "[{\"attr\":\"members\",\"add\":[],\"remove\":[{\"value\":\"ida\"}]}]");
    CHECK_STR(f, "(|(&(A)" GCLASSES NOKEPT("ida") ")(&(!(entryDN=cn=g,ou=groups,dc=example,dc=org))(entryDN=uid=a,o=x)))");
    free(f);
    /* ids escaped for the filter; an id JSON would escape: any kept member item */
    f = pa(g, gdn, "[{\"op\":\"delete\",\"attr\":\"member\",\"values\":[\"uid=a,o=x\"]}]",
           "[{\"attr\":\"members\",\"add\":[],\"remove\":[{\"value\":\"i*(d)\"},{\"value\":\"q\\\"uote\"}]}]");
    CHECK_STR(f, "(|(&(A)" GCLASSES "(!(scimKept={\"members\":*\"value\":\"i\\2a\\28d\\29\"*))(!(scimKept={\"members\":*))"
                 ")(&(!(entryDN=cn=g,ou=groups,dc=example,dc=org))(entryDN=uid=a,o=x)))");
    free(f);
    /* both, with an attribute change: only member values become terms */
    f = pa(g, gdn,
           "[{\"op\":\"replace\",\"attr\":\"scimExternalId\",\"values\":[\"e\"]},"
           "{\"op\":\"add\",\"attr\":\"MEMBER\",\"values\":[\"uid=(a),o=x\"]},"
           "{\"op\":\"delete\",\"attr\":\"member\",\"values\":[\"uid=b,o=x\"]}]",
           "[{\"attr\":\"members\",\"add\":[{\"value\":\"ida\"}],\"remove\":[{\"value\":\"idb\"}]}]");
    CHECK_STR(f, "(|(&(A)" GCLASSES "(!(member=))" NOKEPT("ida") NOKEPT("idb")
                 ")(&(!(entryDN=cn=g,ou=groups,dc=example,dc=org))(|(entryDN=uid=\\28a\\29,o=x)(entryDN=uid=b,o=x))))");
    free(f);
    /* no member values: the classes only (a write on an entry lacking one
     * would adopt it on the read path) */
    f = pa(g, gdn, "[{\"op\":\"replace\",\"attr\":\"scimExternalId\",\"values\":[\"e\"]}]", NULL);
    CHECK_STR(f, "(&(A)" GCLASSES ")");
    free(f);
    /* a placeholder that is a DN (variants' uniqueMember groups, no keep attribute) */
    const s2l_rmap *vg = s2l_mapping_find(mf.variants, "Group");
    f = pa(vg, "cn=g,o=x", "[{\"op\":\"add\",\"attr\":\"uniqueMember\",\"values\":[\"uid=a,o=x\"]}]",
           "[{\"attr\":\"members\",\"add\":[{\"value\":\"ida\"}],\"remove\":[]}]");
    CHECK_STR(f, "(|(&(A)(objectClass=groupOfUniqueNames)(!(uniqueMember=cn=scim2ldap-placeholder)))"
                 "(&(!(entryDN=cn=g,o=x))(entryDN=uid=a,o=x)))");
    free(f);
    /* the retry for a group holding the placeholder (S2L_PH_DELETE_ON_ADD):
     * its delete assumes it is there; "" names no entry: no term */
    f = pa(g, gdn,
           "[{\"op\":\"add\",\"attr\":\"member\",\"values\":[\"uid=a,o=x\"]},"
           "{\"op\":\"delete\",\"attr\":\"member\",\"values\":[\"\"]}]",
           "[{\"attr\":\"members\",\"add\":[{\"value\":\"ida\"}],\"remove\":[]}]");
    CHECK_STR(f, "(|(&(A)" GCLASSES "(member=)" NOKEPT("ida")
                 ")(&(!(entryDN=cn=g,ou=groups,dc=example,dc=org))(entryDN=uid=a,o=x)))");
    free(f);
    /* a placeholder that is a DN is an entry memberof modifies: a term */
    f = pa(vg, "cn=g,o=x",
           "[{\"op\":\"add\",\"attr\":\"uniqueMember\",\"values\":[\"uid=a,o=x\"]},"
           "{\"op\":\"delete\",\"attr\":\"uniqueMember\",\"values\":[\"CN=scim2ldap-placeholder\"]}]",
           NULL);
    CHECK_STR(f, "(|(&(A)(objectClass=groupOfUniqueNames)(uniqueMember=cn=scim2ldap-placeholder))(&(!(entryDN=cn=g,o=x))"
                 "(|(entryDN=uid=a,o=x)(entryDN=CN=scim2ldap-placeholder))))");
    free(f);
    /* memberUid holds RDN values: no entry memberof modifies, no term */
    const s2l_rmap *pg = s2l_mapping_find(mf.variants, "PosixGroup");
    f = pa(pg, "cn=p,o=x", "[{\"op\":\"add\",\"attr\":\"memberUid\",\"values\":[\"jdoe\"]}]", NULL);
    CHECK(f != NULL && strstr(f, "entryDN") == NULL && strncmp(f, "(&(A)", 5) == 0);
    free(f);
    /* nothing to write: the assertion as it is */
    f = pa(g, gdn, "[]", NULL);
    CHECK_STR(f, "(A)");
    free(f);
    /* too many member values: none (the caller reads first) */
    json_t *m = json_array();
    json_t *vals = json_array();
    for (int i = 0; i <= S2L_ASSERTION_MAX_TERMS; i++)
        json_array_append_new(vals, json_sprintf("uid=u%d,o=x", i));
    json_array_append_new(m, json_pack("{s:s, s:s, s:o}", "op", "add", "attr", "member", "values", vals));
    CHECK(s2l_rmap_patch_assertion(g, gdn, "(A)", m, NULL) == NULL);
    json_decref(m);
    CHECK(s2l_rmap_patch_assertion(g, gdn, "(A)", NULL, NULL) == NULL);
}

int main(void)
{
    if (!mf_init(&mf))
        return 1;
    test_widen();
    test_delete();
    test_members();
    mf_fini(&mf);
    return UNIT_DONE();
}
