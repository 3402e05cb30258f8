/* test_mapping_filter.c — SCIM filter → LDAP filter translation: the cases in
 * tests/data/mapping/filters.json (parsed with s2l_filter_parse), trees built
 * by hand (values the text grammar cannot carry, e.g. NUL), the reference ids a
 * filter needs, the id filter and the group-membership filter. */
#include "s2l/filter.h"
#include "s2l/mapping.h"
#include "mapping_fixture.h"
#include "unit.h"

static mapping_fixture fx;

static void run_filter_cases(void)
{
    json_t *cases = mf_load_json("tests/data/mapping/filters.json");
    size_t i;
    json_t *c;

    CHECK(json_array_size(cases) > 0);
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *text = json_string_value(json_object_get(c, "filter"));
        const json_t *ids = json_object_get(c, "ids");
        const json_t *want_err = json_object_get(c, "error");
        const char *want = json_string_value(json_object_get(c, "expect"));
        const s2l_rmap *rm = mf_rmap(&fx, c);
        s2l_error err = {0};

        s2l_filter *f = text ? s2l_filter_parse(text, strlen(text), NULL, &err) : NULL;
        if (f == NULL || rm == NULL) {
            fprintf(stderr, "filter \"%s\": cannot parse \"%s\": %s\n", name, text ? text : "", err.detail);
            CHECK(false);
            continue;
        }
        char *got = s2l_rmap_ldap_filter(rm, f, ids, &err);
        if (want_err) {
            bool ok = got == NULL && mf_error_matches(want_err, &err);
            if (!ok)
                fprintf(stderr, "filter \"%s\": got %s / error %d \"%s\"\n", name, got ? got : "(null)", err.status,
                        err.detail);
            CHECK(ok);
        } else {
            if (got == NULL)
                fprintf(stderr, "filter \"%s\": error %d %s\n", name, err.status, err.detail);
            CHECK_STR(got, want);
        }
        free(got);
        s2l_filter_destroy(f);
    }
    json_decref(cases);
}

/* ---- hand-built trees ---- */

static s2l_filter *node(s2l_filter_kind k, s2l_filter *l, s2l_filter *r)
{
    s2l_filter *f = calloc(1, sizeof *f);
    if (f == NULL)
        abort();
    f->kind = k;
    f->left = l;
    f->right = r;
    return f;
}

static s2l_filter *cmp(const char *urn, const char *attr, const char *sub, s2l_cmp_op op, json_t *value)
{
    s2l_filter *f = node(S2L_F_CMP, NULL, NULL);
    f->path.urn = urn ? strdup(urn) : NULL;
    f->path.attr = strdup(attr);
    f->path.sub = sub ? strdup(sub) : NULL;
    f->op = op;
    f->value = value;
    return f;
}

static void free_tree(s2l_filter *f)
{
    if (f == NULL)
        return;
    free_tree(f->left);
    free_tree(f->right);
    free(f->path.urn);
    free(f->path.attr);
    free(f->path.sub);
    json_decref(f->value);
    free(f);
}

static void expect_tree(const s2l_rmap *rm, s2l_filter *f, const json_t *ids, const char *want)
{
    s2l_error err = {0};
    char *got = s2l_rmap_ldap_filter(rm, f, ids, &err);
    if (got == NULL)
        fprintf(stderr, "tree: error %d %s\n", err.status, err.detail);
    CHECK_STR(got, want);
    free(got);
    free_tree(f);
}

static void test_trees(void)
{
    const s2l_rmap *u = s2l_mapping_find(fx.openldap, "User");

    /* a NUL inside a value stays a value (\00), never a terminator */
    expect_tree(u, cmp(NULL, "userName", NULL, S2L_OP_EQ, json_stringn("a\0*)", 4)), NULL,
                "(&(objectClass=inetOrgPerson)(uid=a\\00\\2a\\29))");
    expect_tree(u, cmp(NULL, "userName", NULL, S2L_OP_SW, json_string("\\(")), NULL,
                "(&(objectClass=inetOrgPerson)(uid=\\5c\\28*))");
    /* UTF-8 passes through */
    expect_tree(u, cmp(NULL, "displayName", NULL, S2L_OP_EQ, json_string("J\xc3\xbcrgen")), NULL,
                "(&(objectClass=inetOrgPerson)(displayName=J\xc3\xbcrgen))");
    /* null: absence */
    expect_tree(u, cmp(NULL, "title", NULL, S2L_OP_EQ, json_null()), NULL,
                "(&(objectClass=inetOrgPerson)(!(title=*)))");
    expect_tree(u, cmp(NULL, "title", NULL, S2L_OP_NE, json_null()), NULL, "(&(objectClass=inetOrgPerson)(title=*))");
    /* valuePath built by hand: emails[type eq "work" and value ew ".org"] */
    s2l_filter *vp = node(S2L_F_VALUEPATH,
                          node(S2L_F_AND, cmp(NULL, "type", NULL, S2L_OP_EQ, json_string("WORK")),
                               cmp(NULL, "value", NULL, S2L_OP_EW, json_string(".org"))),
                          NULL);
    vp->path.attr = strdup("emails");
    /* the typed attribute, or values kept as JSON whose type says WORK */
    expect_tree(u, vp, NULL,
                "(&(objectClass=inetOrgPerson)(|(mail=*.org)(&(scimEmail=*)(|(scimEmail=*\"type\":\"WORK\",*)"
                "(scimEmail=*\"type\":\"WORK\"}))(|(scimEmail=*\"value\":\"*.org\",*)(scimEmail=*\"value\":\"*.org\"})))))");
    /* or of constants folds away */
    expect_tree(u,
                node(S2L_F_OR, cmp(NULL, "meta", "resourceType", S2L_OP_EQ, json_string("Group")),
                     cmp(NULL, "userName", NULL, S2L_OP_EQ, json_string("x"))),
                NULL, "(&(objectClass=inetOrgPerson)(uid=x))");
    expect_tree(u,
                node(S2L_F_OR, cmp(NULL, "meta", "resourceType", S2L_OP_EQ, json_string("User")),
                     cmp(NULL, "userName", NULL, S2L_OP_EQ, json_string("x"))),
                NULL, "(objectClass=inetOrgPerson)");
    /* meta.resourceType is caseExact (RFC 7643 3.1): "user" is no resource type here */
    expect_tree(u,
                node(S2L_F_OR, cmp(NULL, "meta", "resourceType", S2L_OP_EQ, json_string("user")),
                     cmp(NULL, "userName", NULL, S2L_OP_EQ, json_string("x"))),
                NULL, "(&(objectClass=inetOrgPerson)(uid=x))");
    /* no filter: the object filter */
    s2l_error err = {0};
    char *all = s2l_rmap_ldap_filter(u, NULL, NULL, &err);
    CHECK_STR(all, "(objectClass=inetOrgPerson)");
    free(all);

    /* a number for a string attribute is compared as its text; an object is an error */
    expect_tree(u, cmp(S2L_URN_ENTERPRISE, "employeeNumber", NULL, S2L_OP_EQ, json_integer(42)), NULL,
                "(&(objectClass=inetOrgPerson)(employeeNumber=42))");
    s2l_filter *bad = cmp(NULL, "userName", NULL, S2L_OP_EQ, json_object());
    char *got = s2l_rmap_ldap_filter(u, bad, NULL, &err);
    CHECK(got == NULL && err.status == 400 && strcmp(err.scim_type, S2L_SCIM_INVALID_FILTER) == 0);
    free(got);
    free_tree(bad);

    /* the object filter of a type that is already an AND is spliced, not nested */
    const s2l_rmap *pu = s2l_mapping_find(fx.posix, "User");
    expect_tree(pu, cmp(NULL, "userName", NULL, S2L_OP_EQ, json_string("a")), NULL,
                "(&(objectClass=inetOrgPerson)(objectClass=posixAccount)(uid=a))");
}

static void test_filter_ref_ids(void)
{
    const s2l_rmap *u = s2l_mapping_find(fx.openldap, "User");
    const s2l_rmap *g = s2l_mapping_find(fx.openldap, "Group");
    const char *texts[] = {
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"m1\" and userName eq \"u\" "
        "or not (groups.value eq \"g1\") or manager.value eq \"m1\" or displayName eq \"d\"",
        "members[value eq \"a\"] or members.value eq \"b\" or members.value pr or displayName eq \"c\"",
    };
    const char *want[][3] = {{"m1", "g1", NULL}, {"a", "b", NULL}};
    const s2l_rmap *rms[] = {u, g};
    for (size_t i = 0; i < 2; i++) {
        s2l_error err = {0};
        s2l_filter *f = s2l_filter_parse(texts[i], strlen(texts[i]), NULL, &err);
        CHECK(f != NULL);
        if (f == NULL)
            continue;
        json_t *ids = s2l_rmap_filter_ref_ids(rms[i], f);
        CHECK_INT(json_array_size(ids), 2);
        for (size_t k = 0; want[i][k]; k++)
            CHECK_STR(json_string_value(json_array_get(ids, k)), want[i][k]);
        json_decref(ids);
        s2l_filter_destroy(f);
    }
    json_t *none = s2l_rmap_filter_ref_ids(u, NULL);
    CHECK(none && json_array_size(none) == 0);
    json_decref(none);
}

static void test_id_filter(void)
{
    const s2l_rmap *u = s2l_mapping_find(fx.openldap, "User");
    char *f = s2l_rmap_id_filter(u, "2819c223-7f76-453a-919d-413861904646");
    CHECK_STR(f, "(&(objectClass=inetOrgPerson)(entryUUID=2819c223-7f76-453a-919d-413861904646))");
    free(f);
    CHECK(s2l_rmap_id_filter(u, "2819c223-7f76-453a-919d-41386190464") == NULL);
    CHECK(s2l_rmap_id_filter(u, "2819c223-7f76-453a-919d-41386190464*") == NULL);
    CHECK(s2l_rmap_id_filter(u, "2819c223x7f76-453a-919d-413861904646") == NULL);
    CHECK(s2l_rmap_id_filter(u, "") == NULL);
    f = s2l_rmap_id_filter(u, "2819C223-7F76-453A-919D-413861904646");
    CHECK(f != NULL);
    free(f);
    f = s2l_rmap_id_filter(s2l_mapping_find(fx.variants, "PosixGroup"), "x*)");
    CHECK_STR(f, "(&(objectClass=posixGroup)(entryUUID=x\\2a\\29))");
    free(f);
}

static void test_member_filter(void)
{
    char *f = s2l_rmap_member_filter(s2l_mapping_find(fx.openldap, "Group"), "uid=a*b,ou=people,dc=example,dc=org");
    CHECK_STR(f, "(&(objectClass=groupOfNames)(member=uid=a\\2ab,ou=people,dc=example,dc=org))");
    free(f);
    f = s2l_rmap_member_filter(s2l_mapping_find(fx.variants, "PosixGroup"), "uid=j\\,doe,ou=people,dc=example,dc=org");
    CHECK_STR(f, "(&(objectClass=posixGroup)(memberUid=j,doe))");
    free(f);
    CHECK(s2l_rmap_member_filter(s2l_mapping_find(fx.openldap, "User"), "uid=a") == NULL);
}

int main(void)
{
    if (!mf_init(&fx)) {
        CHECK(false);
        mf_fini(&fx);
        return UNIT_DONE();
    }
    run_filter_cases();
    test_trees();
    test_filter_ref_ids();
    test_id_filter();
    test_member_filter();
    mf_fini(&fx);
    return UNIT_DONE();
}
