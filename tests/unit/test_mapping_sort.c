/* test_mapping_sort.c — sort key selection (gateway/core/mapping_sort.c):
 * which LDAP attribute and ordering rule a SCIM sortBy becomes, what cannot
 * be sorted (400 invalidValue), and the loader's checks of ldap.ordering_rules. */
#include <unistd.h>

#include "mapping_fixture.h"
#include "unit.h"

static mapping_fixture f;

static void expect_key(const s2l_mapping *m, const char *type, const char *by, bool desc, const char *want)
{
    s2l_error err;
    s2l_error_clear(&err);
    char *key = s2l_rmap_sort_key(s2l_mapping_find(m, type), by, desc, &err);
    if (key == NULL || strcmp(key, want) != 0)
        fprintf(stderr, "sortBy %s on %s: got %s (%s), want %s\n", by ? by : "(none)", type, key ? key : "NULL",
                err.detail, want);
    CHECK_STR(key, want);
    free(key);
}

static void expect_refused(const s2l_mapping *m, const char *type, const char *by, const char *detail_part)
{
    s2l_error err;
    s2l_error_clear(&err);
    char *key = s2l_rmap_sort_key(s2l_mapping_find(m, type), by, false, &err);
    if (key != NULL)
        fprintf(stderr, "sortBy %s on %s: got %s, want a refusal\n", by, type, key);
    CHECK(key == NULL);
    CHECK_INT(err.status, 400);
    CHECK_STR(err.scim_type, "invalidValue");
    if (strstr(err.detail, detail_part) == NULL)
        fprintf(stderr, "sortBy %s: detail \"%s\" lacks \"%s\"\n", by, err.detail, detail_part);
    CHECK(strstr(err.detail, by) != NULL && strstr(err.detail, detail_part) != NULL);
    free(key);
}

static void test_openldap(void)
{
    const s2l_mapping *m = f.openldap;
    /* No sortBy: the type's stable order for paging. */
    expect_key(m, "User", NULL, false, "entryUUID");
    expect_key(m, "User", "", false, "entryUUID");
    expect_key(m, "Group", NULL, false, "entryUUID");
    /* The mapping's ordering rule for the LDAP attribute, names case-insensitive. */
    expect_key(m, "User", "userName", false, "uid:caseIgnoreOrderingMatch");
    expect_key(m, "User", "USERNAME", true, "-uid:caseIgnoreOrderingMatch");
    expect_key(m, "User", "displayName", true, "-displayName:caseIgnoreOrderingMatch");
    expect_key(m, "User", "name.familyName", false, "sn:caseIgnoreOrderingMatch");
    expect_key(m, "User", "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName", false,
               "givenName:caseIgnoreOrderingMatch");
    expect_key(m, "User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", false,
               "employeeNumber:caseIgnoreOrderingMatch");
    /* Attributes whose schema has an ORDERING rule need none from the mapping. */
    expect_key(m, "User", "externalId", false, "scimExternalId");
    expect_key(m, "User", "nickName", false, "scimNickName");
    expect_key(m, "User", "timezone", false, "scimTimezone");
    expect_key(m, "User", "id", true, "-entryUUID");
    expect_key(m, "User", "meta.created", false, "createTimestamp");
    expect_key(m, "User", "meta.lastModified", true, "-modifyTimestamp");
    /* Multi-valued: the primary mapping's attribute (work email, not home). */
    expect_key(m, "User", "emails", false, "mail:caseIgnoreOrderingMatch");
    expect_key(m, "User", "emails.value", false, "mail:caseIgnoreOrderingMatch");
    expect_key(m, "User", "phoneNumbers", false, "telephoneNumber:caseIgnoreOrderingMatch");
    expect_key(m, "User", "addresses.locality", false, "l:caseIgnoreOrderingMatch");
    expect_key(m, "Group", "displayName", false, "cn:caseIgnoreOrderingMatch");

    expect_refused(m, "User", "name", "complex");
    expect_refused(m, "User", "emails.type", "not mapped");
    expect_refused(m, "User", "active", "no order");
    expect_refused(m, "User", "password", "write-only");
    expect_refused(m, "User", "groups", "reference");
    expect_refused(m, "User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "complex");
    expect_refused(m, "User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                   "reference");
    expect_refused(m, "User", "meta.version", "meta");
    expect_refused(m, "User", "meta", "meta");
    expect_refused(m, "User", "noSuchAttribute", "not mapped");
    expect_refused(m, "User", "emails[type eq \"work\"]", "filter");
    expect_refused(m, "User", "user name", "not an attribute");
    expect_refused(m, "Group", "members", "reference");
    expect_refused(m, "Group", "userName", "not mapped");
}

/* Directories that order without rules (AD, 389-DS): the bare attribute. */
static void test_without_rules(void)
{
    s2l_mapping *m389 = mf_load_mapping("mappings/389ds.json");
    s2l_mapping *mad = mf_load_mapping("mappings/active-directory.json");
    CHECK(m389 && mad);
    if (m389) {
        expect_key(m389, "User", NULL, false, "uid");
        expect_key(m389, "User", "userName", true, "-uid");
    }
    if (mad) {
        expect_key(mad, "User", NULL, false, "cn");
        expect_key(mad, "User", "displayName", false, "displayName");
    }
    s2l_mapping_destroy(m389);
    s2l_mapping_destroy(mad);
}

/* The default mapping with ldap.ordering_rules of the User type replaced. */
static void expect_load(json_t *rules, const char *error_part)
{
    char dir[] = "/tmp/s2l-sortmap-XXXXXX", path[512], schemas[4096], err[1024] = "";
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/m.json", dir);
    snprintf(schemas, sizeof schemas, "%s/schemas/scim", mf_root());
    json_t *doc = mf_load_json("mappings/openldap.json");
    json_t *ldap = json_object_get(json_array_get(json_object_get(doc, "resource_types"), 0), "ldap");
    json_object_set_new(ldap, "ordering_rules", rules);
    CHECK(json_dump_file(doc, path, 0) == 0);
    s2l_mapping *m = s2l_mapping_load(path, schemas, err, sizeof err);
    if (error_part == NULL) {
        CHECK(m != NULL);
        if (m)
            expect_key(m, "User", "userName", false, "uid:2.5.13.3");
    } else {
        CHECK(m == NULL);
        if (strstr(err, error_part) == NULL || strstr(err, "ordering_rules") == NULL)
            fprintf(stderr, "error \"%s\" lacks \"%s\"\n", err, error_part);
        CHECK(strstr(err, error_part) != NULL && strstr(err, "ordering_rules") != NULL);
    }
    s2l_mapping_destroy(m);
    json_decref(doc);
    unlink(path);
    rmdir(dir);
}

static void test_load(void)
{
    expect_load(json_pack("{s:s}", "uid", "2.5.13.3"), NULL); /* an OID is a rule name too */
    expect_load(json_string("caseIgnoreOrderingMatch"), "must be an object");
    expect_load(json_pack("{s:i}", "uid", 3), "\"uid\"");
    expect_load(json_pack("{s:s}", "uid", "bad rule"), "\"uid\"");
    expect_load(json_pack("{s:s}", "u id", "caseIgnoreOrderingMatch"), "\"u id\"");
    expect_load(json_pack("{s:s}", "uid;lang-en", "caseIgnoreOrderingMatch"), "\"uid;lang-en\"");
}

int main(void)
{
    if (!mf_init(&f)) {
        mf_fini(&f);
        return 1;
    }
    test_openldap();
    test_without_rules();
    test_load();
    mf_fini(&f);
    return UNIT_DONE();
}
