/* test_schema.c — the SCIM schema model: parsing the shipped RFC 7643 schema
 * files, lookups through resource types, views, rendering, bad definitions. */
#include "s2l/schema.h"
#include "unit.h"

#include <stdbool.h>

static json_t *load_json(const char *rel)
{
    const char *root = getenv("S2L_SOURCE_DIR");
    char path[4096];
    json_error_t je;
    snprintf(path, sizeof path, "%s/%s", root ? root : ".", rel);
    json_t *j = json_load_file(path, 0, &je);
    if (j == NULL)
        fprintf(stderr, "%s:%d: %s\n", path, je.line, je.text);
    return j;
}

static s2l_schema *load_schema(const char *rel)
{
    s2l_error err = {0};
    json_t *j = load_json(rel);
    s2l_schema *s = j ? s2l_schema_from_json(j, &err) : NULL;
    if (j && s == NULL)
        fprintf(stderr, "%s: %s\n", rel, err.detail);
    json_decref(j);
    return s;
}

static void test_user_schema(void)
{
    s2l_schema *u = load_schema("schemas/scim/user.json");
    CHECK(u != NULL);
    if (u == NULL)
        return;
    CHECK_STR(u->id, S2L_URN_USER);
    CHECK(s2l_schema_is(u, "URN:IETF:params:scim:schemas:core:2.0:user"));
    CHECK_INT(u->n_attrs, 21);

    const s2l_attr_def *un = s2l_schema_find(u, "USERNAME");
    CHECK(un && strcmp(un->name, "userName") == 0);
    CHECK(un && un->required && !un->case_exact && un->uniqueness == S2L_UNIQ_SERVER);
    CHECK(un && un->schema == u && un->parent == NULL);

    const s2l_attr_def *pw = s2l_schema_find(u, "password");
    CHECK(pw && pw->mutability == S2L_MUT_WRITE_ONLY && pw->returned == S2L_RET_NEVER);

    const s2l_attr_def *emails = s2l_schema_find(u, "emails");
    CHECK(emails && emails->type == S2L_T_COMPLEX && emails->multi_valued);
    const s2l_attr_def *et = s2l_attr_find_sub(emails, "Type");
    CHECK(et && et->n_canonical == 3 && strcmp(et->canonical_values[1], "home") == 0);
    CHECK(et && et->parent == emails && et->schema == u);
    const s2l_attr_def *prim = s2l_attr_find_sub(emails, "primary");
    CHECK(prim && prim->type == S2L_T_BOOLEAN);

    const s2l_attr_def *groups = s2l_schema_find(u, "groups");
    CHECK(groups && groups->mutability == S2L_MUT_READ_ONLY);
    const s2l_attr_def *gref = s2l_attr_find_sub(groups, "$ref");
    CHECK(gref && gref->type == S2L_T_REFERENCE && gref->n_reference_types == 2);

    const s2l_attr_def *x509 = s2l_schema_find(u, "x509Certificates");
    CHECK(x509 && s2l_attr_find_sub(x509, "value") && s2l_attr_find_sub(x509, "value")->type == S2L_T_BINARY);
    const s2l_attr_def *active = s2l_schema_find(u, "active");
    CHECK(active && active->type == S2L_T_BOOLEAN);
    CHECK(s2l_schema_find(u, "id") == NULL); /* common attributes are not in the schema itself */
    CHECK(s2l_schema_find(u, "nosuch") == NULL);
    CHECK(s2l_attr_find_sub(un, "x") == NULL);
    s2l_schema_destroy(u);
}

static void test_group_and_enterprise(void)
{
    s2l_schema *g = load_schema("schemas/scim/group.json");
    s2l_schema *e = load_schema("schemas/scim/enterprise_user.json");
    CHECK(g && e);
    if (g && e) {
        CHECK_STR(g->id, S2L_URN_GROUP);
        const s2l_attr_def *m = s2l_schema_find(g, "members");
        CHECK(m && m->multi_valued && m->n_sub == 4 && s2l_attr_find_sub(m, "display"));
        const s2l_attr_def *mv = s2l_attr_find_sub(m, "value");
        CHECK(mv && mv->mutability == S2L_MUT_IMMUTABLE);
        CHECK_STR(e->id, S2L_URN_ENTERPRISE);
        const s2l_attr_def *mgr = s2l_schema_find(e, "manager");
        CHECK(mgr && mgr->type == S2L_T_COMPLEX && !mgr->multi_valued);
        const s2l_attr_def *dn = s2l_attr_find_sub(mgr, "displayName");
        CHECK(dn && dn->mutability == S2L_MUT_READ_ONLY);
        CHECK(s2l_schema_find(e, "employeeNumber") != NULL);
    }
    s2l_schema_destroy(g);
    s2l_schema_destroy(e);
}

static void test_rtype(void)
{
    s2l_schema *u = load_schema("schemas/scim/user.json");
    s2l_schema *e = load_schema("schemas/scim/enterprise_user.json");
    CHECK(u && e);
    if (!u || !e) {
        s2l_schema_destroy(u);
        s2l_schema_destroy(e);
        return;
    }
    const s2l_schema *exts[] = {e};
    const bool req[] = {false};
    s2l_resource_type rt = {.name = "User", .endpoint = "/Users", .core = u, .ext = exts,
                            .ext_required = req, .n_ext = 1};
    const s2l_schema *where = NULL;

    const s2l_attr_def *d = s2l_rtype_find(&rt, NULL, "id", NULL, &where);
    CHECK(d && where == u && d->returned == S2L_RET_ALWAYS && d->case_exact &&
          d->mutability == S2L_MUT_READ_ONLY && d->uniqueness == S2L_UNIQ_SERVER);
    CHECK(s2l_attr_is_common(d));
    d = s2l_rtype_find(&rt, NULL, "externalid", NULL, &where);
    CHECK(d && where == u && d->case_exact && d->mutability == S2L_MUT_READ_WRITE);
    d = s2l_rtype_find(&rt, S2L_URN_USER, "meta", "lastModified", &where);
    CHECK(d && where == u && d->type == S2L_T_DATETIME && d->parent && strcmp(d->parent->name, "meta") == 0);
    d = s2l_rtype_find(&rt, NULL, "meta", "version", NULL);
    CHECK(d && d->case_exact);
    /* common attributes are not in extensions */
    CHECK(s2l_rtype_find(&rt, S2L_URN_ENTERPRISE, "id", NULL, &where) == NULL && where == NULL);

    d = s2l_rtype_find(&rt, NULL, "manager", "value", &where);
    CHECK(d && where == e && strcmp(d->name, "value") == 0);
    d = s2l_rtype_find(&rt, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user", "department",
                       NULL, &where);
    CHECK(d && where == e);
    CHECK(s2l_rtype_find(&rt, S2L_URN_USER, "department", NULL, NULL) == NULL);
    CHECK(s2l_rtype_find(&rt, "urn:nope", "userName", NULL, NULL) == NULL);
    CHECK(s2l_rtype_find(&rt, NULL, "name", "nosuch", NULL) == NULL);
    CHECK(s2l_rtype_find(&rt, NULL, "userName", "sub", NULL) == NULL);
    d = s2l_rtype_find(&rt, NULL, "NAME", "GIVENNAME", &where);
    CHECK(d && where == u && strcmp(d->name, "givenName") == 0);

    const char *rest = NULL;
    CHECK(s2l_rtype_split_urn(&rt, S2L_URN_ENTERPRISE ":manager.value", &rest) == e);
    CHECK_STR(rest, "manager.value");
    CHECK(s2l_rtype_split_urn(&rt, "URN:ietf:params:scim:schemas:core:2.0:User:name.givenName", &rest) == u);
    CHECK_STR(rest, "name.givenName");
    CHECK(s2l_rtype_split_urn(&rt, "userName", &rest) == NULL);
    CHECK(s2l_rtype_split_urn(&rt, S2L_URN_USER, &rest) == NULL); /* no ':' after the URN */
    CHECK(s2l_rtype_split_urn(&rt, "urn:ietf:params:scim:schemas:core:2.0:Userx:a", &rest) == NULL);

    s2l_schema_destroy(u);
    s2l_schema_destroy(e);
}

/* A longer URN that extends a shorter one must win. */
static void test_split_longest(void)
{
    s2l_error err = {0};
    json_t *a = json_pack("{s:s, s:[{s:s, s:s}]}", "id", "urn:x:A", "attributes", "name", "p", "type", "string");
    json_t *b = json_pack("{s:s, s:[{s:s, s:s}]}", "id", "urn:x:A:B", "attributes", "name", "q", "type", "string");
    s2l_schema *sa = s2l_schema_from_json(a, &err), *sb = s2l_schema_from_json(b, &err);
    CHECK(sa && sb);
    if (sa && sb) {
        const s2l_schema *exts[] = {sb};
        s2l_resource_type rt = {.name = "T", .core = sa, .ext = exts, .n_ext = 1};
        const char *rest = NULL;
        CHECK(s2l_rtype_split_urn(&rt, "urn:x:A:B:q", &rest) == sb);
        CHECK_STR(rest, "q");
        CHECK(s2l_rtype_split_urn(&rt, "urn:x:a:p", &rest) == sa);
        CHECK_STR(rest, "p");
    }
    s2l_schema_destroy(sa);
    s2l_schema_destroy(sb);
    json_decref(a);
    json_decref(b);
}

static bool keep_some(const s2l_attr_def *d, void *arg)
{
    (void)arg;
    static const char *const keep[] = {"userName", "name", "givenName", "emails", "password", "phoneNumbers",
                                       NULL};
    /* phoneNumbers is kept but none of its sub-attributes: it must disappear */
    for (size_t i = 0; keep[i]; i++)
        if (strcmp(d->name, keep[i]) == 0)
            return true;
    return d->parent != NULL && strcmp(d->parent->name, "emails") == 0 && strcmp(d->name, "value") == 0;
}

static void test_filter_view(void)
{
    s2l_schema *u = load_schema("schemas/scim/user.json");
    CHECK(u != NULL);
    if (u == NULL)
        return;
    s2l_schema *v = s2l_schema_filter(u, keep_some, NULL);
    CHECK(v != NULL);
    if (v) {
        CHECK_INT(v->n_attrs, 4);
        CHECK(s2l_schema_find(v, "phoneNumbers") == NULL);
        const s2l_attr_def *n = s2l_schema_find(v, "name");
        CHECK(n && n->n_sub == 1 && n->schema == v);
        const s2l_attr_def *g = s2l_attr_find_sub(n, "givenName");
        CHECK(g && g->parent == n && g->schema == v);
        CHECK(s2l_attr_find_sub(n, "familyName") == NULL);
        const s2l_attr_def *em = s2l_schema_find(v, "emails");
        CHECK(em && em->n_sub == 1 && em->multi_valued);
        CHECK(s2l_schema_find(v, "password") && s2l_schema_find(v, "password")->returned == S2L_RET_NEVER);
        CHECK_STR(v->id, u->id);
    }
    s2l_schema_destroy(u); /* the view must not borrow from its source */
    if (v) {
        json_t *j = s2l_schema_to_json(v, NULL);
        CHECK(j && json_array_size(json_object_get(j, "attributes")) == 4);
        json_decref(j);
    }
    s2l_schema_destroy(v);
}

static void test_to_json_round_trip(void)
{
    json_t *src = load_json("schemas/scim/user.json");
    s2l_error err = {0};
    s2l_schema *u = src ? s2l_schema_from_json(src, &err) : NULL;
    CHECK(u != NULL);
    if (u) {
        json_t *j = s2l_schema_to_json(u, "https://scim.example.org/scim/v2");
        CHECK(j != NULL);
        CHECK_STR(json_string_value(json_object_get(json_object_get(j, "meta"), "location")),
                  "https://scim.example.org/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User");
        CHECK_STR(json_string_value(json_array_get(json_object_get(j, "schemas"), 0)),
                  "urn:ietf:params:scim:schemas:core:2.0:Schema");
        /* every attribute and characteristic of the file survives a parse + render */
        json_t *a1 = json_object_get(src, "attributes"), *a2 = json_object_get(j, "attributes");
        CHECK_INT(json_array_size(a2), json_array_size(a1));
        size_t i;
        json_t *x;
        json_array_foreach(a1, i, x) {
            json_t *y = json_array_get(a2, i);
            const char *keys[] = {"name", "type", "multiValued", "required", "mutability", "returned",
                                  "referenceTypes", "subAttributes", NULL};
            for (size_t k = 0; keys[k]; k++) {
                json_t *vx = json_object_get(x, keys[k]), *vy = json_object_get(y, keys[k]);
                if (vx == NULL)
                    continue;
                if (!json_equal(vx, vy) && strcmp(keys[k], "subAttributes") != 0)
                    fprintf(stderr, "attribute %zu key %s differs\n", i, keys[k]);
                if (strcmp(keys[k], "subAttributes") == 0)
                    CHECK_INT(json_array_size(vy), json_array_size(vx));
                else
                    CHECK(json_equal(vx, vy));
            }
        }
        /* /Schemas must not list the common attributes (RFC 7643 §7) */
        json_array_foreach(a2, i, x) {
            const char *nm = json_string_value(json_object_get(x, "name"));
            CHECK(strcmp(nm, "id") != 0 && strcmp(nm, "meta") != 0 && strcmp(nm, "externalId") != 0);
        }
        s2l_schema *u2 = s2l_schema_from_json(j, &err);
        json_t *j2 = u2 ? s2l_schema_to_json(u2, "https://scim.example.org/scim/v2") : NULL;
        CHECK(j2 && json_equal(j, j2));
        json_decref(j2);
        s2l_schema_destroy(u2);
        json_decref(j);
    }
    s2l_schema_destroy(u);
    json_decref(src);
}

/* A definition that must be refused, with the JSON path in the message. */
static void expect_error(const char *text, const char *want_substr)
{
    json_error_t je;
    s2l_error err = {0};
    json_t *j = json_loads(text, 0, &je);
    CHECK(j != NULL);
    s2l_schema *s = s2l_schema_from_json(j, &err);
    CHECK(s == NULL);
    CHECK_INT(err.status, 500);
    if (strstr(err.detail, want_substr) == NULL)
        fprintf(stderr, "error \"%s\" lacks \"%s\"\n", err.detail, want_substr);
    CHECK(strstr(err.detail, want_substr) != NULL);
    s2l_schema_destroy(s);
    json_decref(j);
}

static void test_bad_definitions(void)
{
    expect_error("[]", "$:");
    expect_error("{\"attributes\":[]}", "$.id");
    expect_error("{\"id\":\"urn:x\"}", "$.attributes");
    expect_error("{\"id\":\"urn:x\",\"attributes\":[{\"type\":\"string\"}]}", "$.attributes[0].name");
    expect_error("{\"id\":\"urn:x\",\"attributes\":[{\"name\":\"a\",\"type\":\"string\"},{\"name\":\"b\"}]}",
                 "$.attributes[1].type: missing");
    expect_error("{\"id\":\"urn:x\",\"attributes\":[{\"name\":\"a\",\"type\":\"text\"}]}",
                 "$.attributes[0].type: unknown value \"text\"");
    expect_error("{\"id\":\"urn:x\",\"attributes\":[{\"name\":\"a\",\"type\":\"string\",\"mutability\":\"readwrite\"}]}",
                 "$.attributes[0].mutability");
    expect_error("{\"id\":\"urn:x\",\"attributes\":[{\"name\":\"a\",\"type\":\"string\",\"multiValued\":\"yes\"}]}",
                 "$.attributes[0].multiValued");
    expect_error("{\"id\":\"urn:x\",\"attributes\":[{\"name\":\"a\",\"type\":\"complex\"}]}",
                 "$.attributes[0].subAttributes");
    expect_error("{\"id\":\"urn:x\",\"attributes\":[{\"name\":\"a\",\"type\":\"complex\",\"subAttributes\":"
                 "[{\"name\":\"b\",\"type\":\"string\"},{\"name\":\"c\",\"type\":\"complex\",\"subAttributes\":"
                 "[{\"name\":\"d\",\"type\":\"string\"}]}]}]}",
                 "$.attributes[0].subAttributes[1]: complex attributes cannot be nested");
    expect_error("{\"id\":\"urn:x\",\"attributes\":[{\"name\":\"a\",\"type\":\"string\",\"subAttributes\":[]}]}",
                 "only complex");
    expect_error("{\"id\":\"urn:x\",\"attributes\":[{\"name\":\"a\",\"type\":\"string\"},{\"name\":\"A\",\"type\":\"string\"}]}",
                 "$.attributes[1].name: duplicate");
    expect_error("{\"id\":\"urn:x\",\"attributes\":[{\"name\":\"a\",\"type\":\"string\",\"canonicalValues\":[1]}]}",
                 "$.attributes[0].canonicalValues[0]");
    expect_error("{\"id\":\"urn:x\",\"attributes\":[{\"name\":\"a\",\"type\":\"string\",\"description\":5}]}",
                 "$.attributes[0].description");
}

static void test_names(void)
{
    CHECK_STR(s2l_attr_type_name(S2L_T_DATETIME), "dateTime");
    CHECK_STR(s2l_attr_type_name(S2L_T_COMPLEX), "complex");
    CHECK_STR(s2l_mutability_name(S2L_MUT_WRITE_ONLY), "writeOnly");
    CHECK_STR(s2l_mutability_name(S2L_MUT_IMMUTABLE), "immutable");
    CHECK_STR(s2l_returned_name(S2L_RET_REQUEST), "request");
    CHECK_STR(s2l_uniqueness_name(S2L_UNIQ_GLOBAL), "global");
    CHECK_STR(s2l_attr_type_name((s2l_attr_type)99), "unknown");
    CHECK_STR(s2l_schema_common()->attrs[0].name, "id");
}

int main(void)
{
    test_user_schema();
    test_group_and_enterprise();
    test_rtype();
    test_split_longest();
    test_filter_view();
    test_to_json_round_trip();
    test_bad_definitions();
    test_names();
    return UNIT_DONE();
}
