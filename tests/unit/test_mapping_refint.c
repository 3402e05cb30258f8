/* test_mapping_refint.c — which references the gateway fixes after a rename or
 * delete (s2l_mapping_reference_fixups), for DN-valued and RDN-valued references. */
#include "mapping_fixture.h"
#include "unit.h"

static json_t *find_item(const json_t *items, const char *attr)
{
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        if (strcasecmp(json_string_value(json_object_get(it, "attr")), attr) == 0)
            return it;
    }
    return NULL;
}

static void test_openldap(const mapping_fixture *fx)
{
    const s2l_rmap *users = s2l_mapping_find(fx->openldap, "Users");
    const s2l_rmap *groups = s2l_mapping_find(fx->openldap, "Groups");
    CHECK(s2l_mapping_refint_by_gateway(fx->openldap)); /* the default */

    /* a user renamed: group members and managers that hold its DN */
    json_t *f = s2l_mapping_reference_fixups(fx->openldap, users, "uid=a\\2a,ou=people,dc=example,dc=org",
                                             "uid=b,ou=people,dc=example,dc=org");
    CHECK(f != NULL);
    json_t *member = find_item(f, "member");
    json_t *manager = find_item(f, "manager");
    CHECK(member != NULL);
    CHECK(manager != NULL);
    if (member) {
        CHECK_STR(json_string_value(json_object_get(member, "base")), "ou=groups,dc=example,dc=org");
        /* the DN is a filter value: escaped, so "\2a" cannot act as a wildcard */
        CHECK_STR(json_string_value(json_object_get(member, "filter")),
                  "(&(objectClass=groupOfNames)(member=uid=a\\5c2a,ou=people,dc=example,dc=org))");
        CHECK_STR(json_string_value(json_object_get(member, "old")), "uid=a\\2a,ou=people,dc=example,dc=org");
        CHECK_STR(json_string_value(json_object_get(member, "new")), "uid=b,ou=people,dc=example,dc=org");
        CHECK(json_object_get(member, "placeholder") != NULL);
    }
    if (manager)
        CHECK(json_object_get(manager, "placeholder") == NULL);
    json_decref(f);

    /* a user deleted: new is null */
    f = s2l_mapping_reference_fixups(fx->openldap, users, "uid=a,ou=people,dc=example,dc=org", NULL);
    member = find_item(f, "member");
    CHECK(member != NULL && json_is_null(json_object_get(member, "new")));
    json_decref(f);

    /* a group renamed: only group membership (nested groups) refers to groups */
    f = s2l_mapping_reference_fixups(fx->openldap, groups, "cn=g,ou=groups,dc=example,dc=org",
                                     "cn=h,ou=groups,dc=example,dc=org");
    CHECK(find_item(f, "member") != NULL);
    CHECK(find_item(f, "manager") == NULL);
    json_decref(f);
}

/* tests/data/mapping/variants.json: uniqueMember groups with a placeholder DN,
 * and posixGroup memberUid references holding uids. */
static void test_rdn_valued(const mapping_fixture *fx)
{
    const s2l_rmap *users = s2l_mapping_find(fx->variants, "User");
    CHECK(users != NULL);
    if (users == NULL)
        return;
    json_t *f = s2l_mapping_reference_fixups(fx->variants, users, "uid=old,ou=people,dc=example,dc=org",
                                             "uid=new,ou=people,dc=example,dc=org");
    json_t *mu = find_item(f, "memberUid");
    json_t *um = find_item(f, "uniqueMember");
    CHECK(mu != NULL);
    CHECK(um != NULL);
    if (mu) {
        /* RDN-valued references hold the uid, not the DN */
        CHECK_STR(json_string_value(json_object_get(mu, "old")), "old");
        CHECK_STR(json_string_value(json_object_get(mu, "new")), "new");
        CHECK(strstr(json_string_value(json_object_get(mu, "filter")), "(memberUid=old)") != NULL);
    }
    if (um)
        CHECK_STR(json_string_value(json_object_get(um, "placeholder")), "cn=scim2ldap-placeholder");
    json_decref(f);
    /* a move that keeps the RDN value changes no RDN-valued reference, only DN-valued ones */
    f = s2l_mapping_reference_fixups(fx->variants, users, "uid=same,ou=a,dc=example,dc=org",
                                     "uid=same,ou=b,dc=example,dc=org");
    CHECK(find_item(f, "memberUid") == NULL);
    CHECK(find_item(f, "uniqueMember") != NULL);
    json_decref(f);
}

int main(void)
{
    mapping_fixture fx;
    if (!mf_init(&fx))
        return 1;
    test_openldap(&fx);
    test_rdn_valued(&fx);
    mf_fini(&fx);
    return UNIT_DONE();
}
