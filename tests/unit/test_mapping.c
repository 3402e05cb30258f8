/* test_mapping.c — the mapping engine, data-driven: SCIM → LDAP entries,
 * LDAP entries → SCIM, update plans and member deltas (tests/data/mapping/<what>.json),
 * plus the accessors, the attributes requested, the references to resolve and
 * discovery. */
#include "s2l/mapping.h"
#include "s2l/resource.h"
#include "mapping_fixture.h"
#include "unit.h"

static mapping_fixture fx;
static json_t *empty; /* {} for cases without ids/refs */

static const char *case_name(const json_t *c)
{
    const char *n = json_string_value(json_object_get(c, "name"));
    return n ? n : "(unnamed)";
}

/* Checks an outcome against "expect" or "error"; got may be NULL. */
static void check_outcome(const char *what, const json_t *c, const json_t *got, const s2l_error *err,
                          bool (*same)(const json_t *, const json_t *))
{
    const json_t *want = json_object_get(c, "expect"), *want_err = json_object_get(c, "error");
    if (want_err != NULL) {
        bool ok = got == NULL && mf_error_matches(want_err, err);
        if (!ok) {
            fprintf(stderr, "%s \"%s\": expected error, got status %d \"%s\"\n", what, case_name(c), err->status,
                    err->detail);
            mf_show(what, case_name(c), got, want_err);
        }
        CHECK(ok);
        return;
    }
    bool ok = got != NULL && same(got, want);
    if (!ok) {
        if (got == NULL)
            fprintf(stderr, "%s \"%s\": error %d %s\n", what, case_name(c), err->status, err->detail);
        mf_show(what, case_name(c), got, want);
    }
    CHECK(ok);
}

static bool same_entry(const json_t *got, const json_t *want)
{
    return json_equal(json_object_get(got, "dn"), json_object_get(want, "dn")) &&
           mf_same_attrs(json_object_get(got, "attrs"), json_object_get(want, "attrs"));
}

static bool same_json(const json_t *got, const json_t *want)
{
    return json_equal(got, want);
}

static bool same_plan(const json_t *got, const json_t *want)
{
    return json_equal(json_object_get(got, "newrdn"), json_object_get(want, "newrdn")) &&
           mf_same_mods(json_object_get(got, "mods"), json_object_get(want, "mods"));
}

static bool same_mods(const json_t *got, const json_t *want)
{
    return mf_same_mods(got, want);
}

static void run_file(const char *rel, void (*run)(const json_t *c, const s2l_rmap *rm))
{
    json_t *cases = mf_load_json(rel);
    size_t i;
    json_t *c;
    CHECK(json_array_size(cases) > 0);
    json_array_foreach(cases, i, c) {
        const s2l_rmap *rm = mf_rmap(&fx, c);
        CHECK(rm != NULL);
        if (rm != NULL)
            run(c, rm);
    }
    json_decref(cases);
}

static void run_to_ldap(const json_t *c, const s2l_rmap *rm)
{
    s2l_error err = {0};
    json_t *ids = json_object_get(c, "ids");
    json_t *got = s2l_rmap_to_ldap(rm, json_object_get(c, "resource"), ids ? ids : empty, &err);
    check_outcome("to_ldap", c, got, &err, same_entry);
    /* what the policies did comes back as notes (none unless the case says so) */
    if (got != NULL && !json_equal(json_object_get(got, "notes"), json_object_get(c, "notes")) &&
        !(json_object_get(got, "notes") == NULL && json_object_get(c, "notes") == NULL)) {
        mf_show("to_ldap notes", case_name(c), json_object_get(got, "notes"), json_object_get(c, "notes"));
        CHECK(false);
    }
    /* the first objectClass value leads, as configured */
    if (got)
        CHECK(json_array_size(json_object_get(json_object_get(got, "attrs"), "objectClass")) > 0);
    json_decref(got);
}

static void run_to_scim(const json_t *c, const s2l_rmap *rm)
{
    s2l_error err = {0};
    json_t *refs = json_object_get(c, "refs");
    json_t *got = s2l_rmap_to_scim(rm, json_object_get(c, "entry"), refs ? refs : empty,
                                   json_string_value(json_object_get(c, "base_url")), &err);
    check_outcome("to_scim", c, got, &err, same_json);
    json_decref(got);
}

static void run_plan(const json_t *c, const s2l_rmap *rm)
{
    s2l_error err = {0};
    json_t *ids = json_object_get(c, "ids");
    json_t *got = s2l_rmap_plan_update(rm, json_object_get(c, "old"), json_object_get(c, "new"),
                                       ids ? ids : empty, &err);
    check_outcome("plan", c, got, &err, same_plan);
    if (got != NULL && !json_equal(json_object_get(got, "notes"), json_object_get(c, "notes")) &&
        !(json_object_get(got, "notes") == NULL && json_object_get(c, "notes") == NULL)) {
        mf_show("plan notes", case_name(c), json_object_get(got, "notes"), json_object_get(c, "notes"));
        CHECK(false);
    }
    json_decref(got);
}

static void run_delta(const json_t *c, const s2l_rmap *rm)
{
    s2l_error err = {0};
    json_t *ids = json_object_get(c, "ids");
    json_t *mods = json_array();
    /* "placeholder": which S2L_PH_* flags the caller passes; default both */
    const char *ph = json_string_value(json_object_get(c, "placeholder"));
    unsigned flags = ph == NULL                         ? S2L_PH_DELETE_ON_ADD | S2L_PH_ADD_ON_REMOVE
                     : strcmp(ph, "absent") == 0        ? 0
                     : strcmp(ph, "present") == 0       ? S2L_PH_DELETE_ON_ADD
                     : strcmp(ph, "add_on_remove") == 0 ? S2L_PH_ADD_ON_REMOVE
                                                        : S2L_PH_DELETE_ON_ADD | S2L_PH_ADD_ON_REMOVE;
    json_t *notes = json_object();
    int rc = s2l_rmap_check_deltas(rm, json_object_get(c, "deltas"), ids ? ids : empty, notes, &err);
    if (rc == 0)
        rc = s2l_rmap_delta_mods(rm, json_object_get(c, "deltas"), ids ? ids : empty, flags, mods, &err);
    check_outcome("delta", c, rc == 0 ? mods : NULL, &err, same_mods);
    if (rc == 0 && json_object_get(c, "notes") != NULL && !json_equal(notes, json_object_get(c, "notes"))) {
        mf_show("delta notes", case_name(c), notes, json_object_get(c, "notes"));
        CHECK(false);
    }
    json_decref(notes);
    json_decref(mods);
}

/* Round trip: what to_ldap writes reads back as the same resource (for what the mapping keeps). */
static void test_round_trip(void)
{
    const s2l_rmap *rm = s2l_mapping_find(fx.openldap, "Users");
    s2l_error err = {0};
    json_t *res = json_pack("{s:s, s:{s:s, s:s, s:s}, s:b, s:[{s:s, s:s}, {s:s, s:s}], s:[{s:s, s:s}], s:{s:s}}",
                            "userName", "rt", "name", "formatted", "R T", "familyName", "T", "givenName", "R",
                            "active", 0, "emails", "value", "w@x.org", "type", "work", "value", "h@x.org", "type",
                            "home", "phoneNumbers", "value", "+1", "type", "fax",
                            S2L_URN_ENTERPRISE, "department", "D");
    json_t *entry = s2l_rmap_to_ldap(rm, res, empty, &err);
    CHECK(entry != NULL);
    if (entry == NULL) {
        json_decref(res);
        return;
    }
    json_object_set_new(json_object_get(entry, "attrs"), "entryUUID",
                        json_pack("[s]", "2819c223-7f76-453a-919d-413861904646"));
    json_t *back = s2l_rmap_to_scim(rm, entry, empty, NULL, &err);
    CHECK(back != NULL);
    if (back) {
        CHECK_STR(json_string_value(json_object_get(back, "userName")), "rt");
        CHECK(json_equal(json_object_get(back, "name"), json_object_get(res, "name")));
        CHECK(json_is_false(json_object_get(back, "active")));
        json_t *emails = json_object_get(back, "emails");
        CHECK_INT(json_array_size(emails), 2);
        CHECK_STR(json_string_value(json_object_get(json_array_get(emails, 1), "type")), "home");
        CHECK_STR(json_string_value(json_object_get(json_object_get(back, S2L_URN_ENTERPRISE), "department")), "D");
        /* and a plan between the two is empty */
        json_t *plan = s2l_rmap_plan_update(rm, back, res, empty, &err);
        CHECK(plan && json_array_size(json_object_get(plan, "mods")) == 0 && json_is_null(json_object_get(plan, "newrdn")));
        json_decref(plan);
    }
    json_decref(back);
    json_decref(entry);
    json_decref(res);
}

static bool strv_has(char **v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcasecmp(v[i], s) == 0)
            return true;
    return false;
}

static void test_read_attrs(void)
{
    const s2l_rmap *rm = s2l_mapping_find(fx.openldap, "User");
    char **v = s2l_rmap_read_attrs(rm, NULL);
    CHECK(v != NULL);
    const char *want[] = {"entryUUID", "uid", "createTimestamp", "modifyTimestamp", "entryCSN", "scimExternalId", "cn",
                          "sn", "mail", "scimHomeEmail", "street", "c", "pwdAccountLockedTime", "memberOf",
                          "employeeNumber", "manager", NULL};
    for (size_t i = 0; want[i]; i++) {
        if (!strv_has(v, want[i]))
            fprintf(stderr, "read_attrs lacks %s\n", want[i]);
        CHECK(strv_has(v, want[i]));
    }
    CHECK(!strv_has(v, "userPassword")); /* write-only: never requested */
    CHECK(!strv_has(v, "objectClass"));
    size_t n = 0;
    for (; v && v[n]; n++)
        for (size_t k = 0; k < n; k++)
            CHECK(strcasecmp(v[k], v[n]) != 0);
    s2l_strv_free(v);

    s2l_error err = {0};
    s2l_projection *p = s2l_projection_parse(s2l_rmap_rtype(rm), "userName,emails", NULL, &err);
    CHECK(p != NULL);
    v = s2l_rmap_read_attrs(rm, p);
    CHECK(strv_has(v, "uid") && strv_has(v, "mail") && strv_has(v, "scimHomeEmail") && strv_has(v, "entryUUID"));
    CHECK(!strv_has(v, "cn") && !strv_has(v, "memberOf") && !strv_has(v, "manager"));
    s2l_strv_free(v);
    s2l_projection_destroy(p);

    p = s2l_projection_parse(s2l_rmap_rtype(rm), NULL, "groups,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", &err);
    CHECK(p != NULL);
    v = s2l_rmap_read_attrs(rm, p);
    CHECK(strv_has(v, "uid") && !strv_has(v, "memberOf") && !strv_has(v, "manager") && strv_has(v, "ou"));
    s2l_strv_free(v);
    s2l_projection_destroy(p);

    /* groups found by a search are not an LDAP attribute of the user */
    v = s2l_rmap_read_attrs(s2l_mapping_find(fx.variants, "User"), NULL);
    CHECK(!strv_has(v, "scimGroups") && strv_has(v, "scimActive") && !strv_has(v, "createTimestamp"));
    CHECK(!strv_has(v, "cn") && !strv_has(v, "description")); /* derived/constant: never read */
    s2l_strv_free(v);
}

static void test_refs(void)
{
    const s2l_rmap *u = s2l_mapping_find(fx.openldap, "User");
    const s2l_rmap *g = s2l_mapping_find(fx.openldap, "Group");
    const s2l_rmap *pg = s2l_mapping_find(fx.variants, "PosixGroups");
    json_error_t je;

    json_t *entry = json_loads("{\"dn\":\"uid=a,ou=people,dc=example,dc=org\",\"attrs\":{\"memberof\":[\"cn=g1,ou=groups,"
                               "dc=example,dc=org\",\"cn=g1,ou=groups,dc=example,dc=org\"],\"manager\":\"uid=m,ou=people,"
                               "dc=example,dc=org\",\"userPassword\":[\"x\"]}}", 0, &je);
    json_t *dns = s2l_rmap_ref_dns(u, entry);
    json_t *want = json_pack("[s,s]", "cn=g1,ou=groups,dc=example,dc=org", "uid=m,ou=people,dc=example,dc=org");
    CHECK(dns && mf_same_values(dns, want));
    json_decref(dns);
    json_decref(want);
    json_decref(entry);

    entry = json_loads("{\"dn\":\"cn=g,ou=groups,dc=example,dc=org\",\"attrs\":{\"member\":[\"\",\"uid=a,ou=people,dc="
                       "example,dc=org\"]}}", 0, &je);
    dns = s2l_rmap_ref_dns(g, entry);
    CHECK(dns && json_array_size(dns) == 1); /* the placeholder is not a reference */
    json_decref(dns);
    json_decref(entry);

    entry = json_loads("{\"dn\":\"cn=g,ou=posix,dc=example,dc=org\",\"attrs\":{\"memberUid\":[\"j,doe\"]}}", 0, &je);
    dns = s2l_rmap_ref_dns(pg, entry);
    CHECK(dns && json_array_size(dns) == 1);
    CHECK_STR(json_string_value(json_array_get(dns, 0)), "uid=j\\,doe,ou=people,dc=example,dc=org");
    json_decref(dns);
    json_decref(entry);

    json_t *res = json_loads("{\"userName\":\"a\",\"groups\":[{\"value\":\"ro\"}],\"" S2L_URN_ENTERPRISE "\":{\"manager\":"
                             "{\"value\":\"m1\"}}}", 0, &je);
    json_t *ids = s2l_rmap_ref_ids(u, res);
    CHECK(ids && json_array_size(ids) == 1 && strcmp(json_string_value(json_array_get(ids, 0)), "m1") == 0);
    json_decref(ids);
    json_decref(res);
    res = json_loads("{\"displayName\":\"g\",\"members\":[{\"value\":\"a\"},{\"value\":\"b\"},{\"value\":\"a\"}]}", 0, &je);
    ids = s2l_rmap_ref_ids(g, res);
    CHECK(ids && json_array_size(ids) == 2);
    json_decref(ids);
    json_decref(res);
}

static void test_accessors(void)
{
    CHECK_INT(s2l_mapping_count(fx.openldap), 2);
    const s2l_rmap *u = s2l_mapping_at(fx.openldap, 0), *g = s2l_mapping_at(fx.openldap, 1);
    CHECK(s2l_mapping_at(fx.openldap, 2) == NULL);
    CHECK(s2l_mapping_find(fx.openldap, "users") == u && s2l_mapping_find(fx.openldap, "/Users") == u);
    CHECK(s2l_mapping_find(fx.openldap, "GROUP") == g && s2l_mapping_find(fx.openldap, "Nope") == NULL);

    const s2l_rmap_info *in = s2l_rmap_info_of(u);
    CHECK_STR(in->name, "User");
    CHECK_STR(in->endpoint, "/Users");
    CHECK_STR(in->base_dn, "ou=people,dc=example,dc=org");
    CHECK_INT(in->scope, S2L_SCOPE_ONE);
    CHECK_STR(in->object_filter, "(objectClass=inetOrgPerson)");
    CHECK_STR(in->id_attr, "entryUUID");
    CHECK(in->id_is_uuid);
    CHECK_STR(in->rdn_attr, "uid");
    CHECK_STR(in->created_attr, "createTimestamp");
    CHECK_STR(in->modified_attr, "modifyTimestamp");
    CHECK_STR(in->version_attr, "entryCSN");
    CHECK_STR(in->sort_attr, "entryUUID");
    CHECK_STR(in->unique_attr, "uid");
    CHECK(s2l_rmap_ignores_unknown(u));
    CHECK(!s2l_rmap_ignores_unknown(s2l_mapping_at(fx.strict, 0)));
    CHECK(s2l_rmap_ignores_unknown(s2l_mapping_at(fx.variants, 0)));
    /* policies: the default keeps, "strict" rejects, unset means ignore */
    const s2l_policies *pol = s2l_rmap_policies(u);
    CHECK_INT(pol->unknown, S2L_POLICY_KEEP);
    CHECK_INT(pol->unmapped, S2L_POLICY_KEEP);
    CHECK_INT(pol->schemas, S2L_POLICY_KEEP);
    CHECK(pol->full != NULL && pol->full->core != NULL && s2l_schema_find(pol->full->core, "userName") != NULL);
    pol = s2l_rmap_policies(s2l_mapping_at(fx.strict, 0));
    CHECK_INT(pol->unknown, S2L_POLICY_REJECT);
    CHECK_INT(pol->unmapped, S2L_POLICY_REJECT);
    CHECK_INT(pol->schemas, S2L_POLICY_REJECT);
    pol = s2l_rmap_policies(s2l_mapping_find(fx.posix, "User"));
    CHECK_INT(pol->unmapped, S2L_POLICY_IGNORE);
    CHECK_INT(json_array_size(s2l_mapping_warnings(fx.openldap)), 0);
    CHECK(json_array_size(s2l_mapping_warnings(fx.posix)) > 0);
    CHECK_INT(s2l_rmap_deprovision(u), S2L_DEPROVISION_LOCK);
    CHECK_INT(s2l_rmap_deprovision(s2l_mapping_at(fx.variants, 0)), S2L_DEPROVISION_NONE);

    const char *const *d = s2l_rmap_delta_attrs(g);
    CHECK(d && d[0] && strcmp(d[0], "members") == 0 && d[1] == NULL);
    d = s2l_rmap_delta_attrs(u);
    CHECK(d && d[0] == NULL);

    const s2l_rmap_groups *gr = s2l_rmap_groups_of(u);
    CHECK_INT(gr->source, S2L_GROUPS_ATTRIBUTE);
    CHECK_STR(gr->attr, "memberOf");
    CHECK_STR(gr->group_type, "Group");
    CHECK_INT(s2l_rmap_groups_of(g)->source, S2L_GROUPS_NONE);
    gr = s2l_rmap_groups_of(s2l_mapping_find(fx.variants, "User"));
    CHECK_INT(gr->source, S2L_GROUPS_SEARCH);
    CHECK_STR(gr->group_type, "PosixGroup");

    /* variants: defaults and nulls */
    in = s2l_rmap_info_of(s2l_mapping_find(fx.variants, "User"));
    CHECK_INT(in->scope, S2L_SCOPE_SUB);
    CHECK(in->created_attr == NULL && in->version_attr == NULL);
    CHECK_STR(in->modified_attr, "modifyTimestamp");
    CHECK_STR(in->unique_attr, "uid"); /* from userName's uniqueness */
    in = s2l_rmap_info_of(s2l_mapping_find(fx.variants, "PosixGroup"));
    CHECK(!in->id_is_uuid);
    CHECK(in->unique_attr == NULL);
    CHECK_STR(in->endpoint, "/PosixGroups");
    CHECK_STR(s2l_rmap_info_of(s2l_mapping_find(fx.variants, "Group"))->endpoint, "/Groups");

    /* views: only mapped attributes, with the mapping's read-only override */
    const s2l_resource_type *rt = s2l_rmap_rtype(u);
    CHECK_STR(rt->name, "User");
    CHECK(rt->n_ext == 1 && !rt->ext_required[0]);
    CHECK(s2l_rtype_find(rt, NULL, "profileUrl", NULL, NULL) != NULL);
    CHECK(s2l_rtype_find(rt, NULL, "name", "middleName", NULL) != NULL);
    CHECK(s2l_rtype_find(rt, NULL, "emails", "display", NULL) != NULL); /* values kept as JSON hold it */
    CHECK(s2l_rtype_find(rt, NULL, "emails", "primary", NULL) != NULL);
    CHECK(s2l_rtype_find(rt, NULL, "id", NULL, NULL) != NULL);
    CHECK(s2l_rtype_find(rt, NULL, "costCenter", NULL, NULL) != NULL);
    const s2l_resource_type *prt = s2l_rmap_rtype(s2l_mapping_find(fx.posix, "User"));
    CHECK(s2l_rtype_find(prt, NULL, "profileUrl", NULL, NULL) == NULL);
    CHECK(s2l_rtype_find(prt, NULL, "name", "middleName", NULL) == NULL);
    CHECK(s2l_rtype_find(prt, NULL, "emails", "display", NULL) == NULL);
    CHECK(s2l_rtype_find(rt, NULL, "manager", "displayName", NULL) != NULL);
    const s2l_attr_def *title = s2l_rtype_find(s2l_rmap_rtype(s2l_mapping_find(fx.variants, "User")), NULL, "title",
                                               NULL, NULL);
    CHECK(title && title->mutability == S2L_MUT_READ_ONLY);

    json_t *e = json_pack("{s:{s:[s]}}", "attrs", "entrycsn", "20261123.1Z#0#0#0");
    char *v = s2l_rmap_version(u, e);
    CHECK_STR(v, "W/\"20261123.1Z#0#0#0\"");
    free(v);
    json_decref(e);
    e = json_pack("{s:{}}", "attrs");
    CHECK(s2l_rmap_version(u, e) == NULL);
    json_decref(e);
}

static const json_t *find_by(const json_t *arr, const char *key, const char *val)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) {
        if (json_is_string(json_object_get(x, key)) && strcmp(json_string_value(json_object_get(x, key)), val) == 0)
            return x;
    }
    return NULL;
}

static void test_discovery(void)
{
    json_t *s = s2l_mapping_schemas_json(fx.openldap, "https://h/scim/v2");
    CHECK_INT(json_array_size(s), 3);
    const json_t *user = find_by(s, "id", S2L_URN_USER);
    CHECK(user != NULL);
    const json_t *attrs = json_object_get(user, "attributes");
    const json_t *pw = find_by(attrs, "name", "password");
    CHECK(pw && strcmp(json_string_value(json_object_get(pw, "mutability")), "writeOnly") == 0 &&
          strcmp(json_string_value(json_object_get(pw, "returned")), "never") == 0);
    const json_t *groups = find_by(attrs, "name", "groups");
    CHECK(groups && strcmp(json_string_value(json_object_get(groups, "mutability")), "readOnly") == 0);
    const json_t *un = find_by(attrs, "name", "userName");
    CHECK(un && strcmp(json_string_value(json_object_get(un, "uniqueness")), "server") == 0 &&
          json_is_false(json_object_get(un, "caseExact")));
    CHECK(find_by(attrs, "name", "profileUrl") != NULL && find_by(attrs, "name", "ims") != NULL);
    CHECK(find_by(attrs, "name", "id") == NULL && find_by(attrs, "name", "externalId") == NULL);
    const json_t *emails = find_by(attrs, "name", "emails");
    CHECK(emails && json_array_size(json_object_get(emails, "subAttributes")) == 4);
    CHECK_STR(json_string_value(json_object_get(json_object_get(user, "meta"), "location")),
              "https://h/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User");
    json_decref(s);

    json_t *r = s2l_mapping_resource_types_json(fx.openldap, "https://h/scim/v2");
    CHECK_INT(json_array_size(r), 2);
    const json_t *ru = find_by(r, "id", "User");
    CHECK(ru && strcmp(json_string_value(json_object_get(ru, "endpoint")), "/Users") == 0);
    const json_t *ext = json_array_get(json_object_get(ru, "schemaExtensions"), 0);
    CHECK(ext && strcmp(json_string_value(json_object_get(ext, "schema")), S2L_URN_ENTERPRISE) == 0 &&
          json_is_false(json_object_get(ext, "required")));
    CHECK_STR(json_string_value(json_array_get(json_object_get(ru, "schemas"), 0)),
              "urn:ietf:params:scim:schemas:core:2.0:ResourceType");
    CHECK_STR(json_string_value(json_object_get(json_object_get(ru, "meta"), "location")),
              "https://h/scim/v2/ResourceTypes/User");
    const json_t *rg = find_by(r, "id", "Group");
    CHECK(rg && json_object_get(rg, "schemaExtensions") == NULL);
    json_decref(r);

    /* a schema shared by two types is listed once; the read-only override shows */
    s = s2l_mapping_schemas_json(fx.variants, NULL);
    CHECK_INT(json_array_size(s), 3);
    const json_t *title = find_by(json_object_get(find_by(s, "id", S2L_URN_USER), "attributes"), "name", "title");
    CHECK(title && strcmp(json_string_value(json_object_get(title, "mutability")), "readOnly") == 0);
    json_decref(s);
}

int main(void)
{
    if (!mf_init(&fx)) {
        CHECK(false);
        mf_fini(&fx);
        return UNIT_DONE();
    }
    empty = json_object();
    run_file("tests/data/mapping/to_ldap.json", run_to_ldap);
    run_file("tests/data/mapping/to_scim.json", run_to_scim);
    run_file("tests/data/mapping/plans.json", run_plan);
    run_file("tests/data/mapping/deltas.json", run_delta);
    test_round_trip();
    test_read_attrs();
    test_refs();
    test_accessors();
    test_discovery();
    json_decref(empty);
    mf_fini(&fx);
    return UNIT_DONE();
}
