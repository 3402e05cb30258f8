/* test_projection.c — attributes / excludedAttributes (gateway/core/projection.c).
 *
 * Cases are data: tests/data/projection/projection.json,
 *   {"type", "resource", "bases", "cases": [{"name", "type", "resource", "attributes",
 *    "excludedAttributes", "expect" (the resource after apply) | "error",
 *    "wants": [[schema URN or null, "attr", bool], ...]}]}
 * plus returned=request, which no RFC schema has, on a schema built here.
 */
#include "s2l/resource.h"
#include "scim_fixture.h"
#include "unit.h"

static scim_fixture fx;

static const json_t *field(const json_t *file, const json_t *c, const char *key)
{
    const json_t *v = json_object_get(c, key);
    return v ? v : json_object_get(file, key);
}

static const s2l_schema *schema_of(const s2l_resource_type *rt, const char *urn)
{
    if (urn == NULL)
        return NULL;
    if (s2l_schema_is(rt->core, urn))
        return rt->core;
    for (size_t i = 0; i < rt->n_ext; i++)
        if (s2l_schema_is(rt->ext[i], urn))
            return rt->ext[i];
    return NULL;
}

static void run_case(const json_t *file, const json_t *c, const char *fname, void *arg)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    const s2l_resource_type *rt = scim_fixture_rtype(&fx, json_string_value(field(file, c, "type")));
    const json_t *experr = json_object_get(c, "error");
    s2l_error err = {0};
    int failed_before = unit_failed_;
    json_t *res = json_deep_copy(scim_fixture_base(file, field(file, c, "resource")));
    size_t i;
    json_t *w;

    (void)arg;
    s2l_projection *p = s2l_projection_parse(rt, json_string_value(json_object_get(c, "attributes")),
                                             json_string_value(json_object_get(c, "excludedAttributes")), &err);
    if (experr != NULL) {
        const char *contains = json_string_value(json_object_get(experr, "detail_contains"));
        CHECK(p == NULL);
        CHECK_INT(err.status, json_integer_value(json_object_get(experr, "status")));
        CHECK_STR(err.scim_type, json_string_value(json_object_get(experr, "scimType")));
        if (contains != NULL)
            CHECK(strstr(err.detail, contains) != NULL);
    } else {
        CHECK(p != NULL);
        json_array_foreach(json_object_get(c, "wants"), i, w) {
            const s2l_schema *s = schema_of(rt, json_string_value(json_array_get(w, 0)));
            const char *attr = json_string_value(json_array_get(w, 1));
            bool want = json_is_true(json_array_get(w, 2));
            if (s2l_projection_wants(p, rt, s, attr) != want) {
                unit_failed_++;
                fprintf(stderr, "  wants(%s) should be %s\n", attr, want ? "true" : "false");
            } else {
                unit_passed_++;
            }
        }
        s2l_projection_apply(p, rt, res);
        CHECK(json_equal(res, json_object_get(c, "expect")));
    }
    if (unit_failed_ != failed_before) {
        char *got = json_dumps(res, JSON_SORT_KEYS | JSON_COMPACT);
        char *exp = json_dumps(json_object_get(c, "expect"), JSON_SORT_KEYS | JSON_COMPACT);
        fprintf(stderr, "  in %s: case \"%s\" (%s)\n    got     : %s\n    expected: %s\n", fname, name, err.detail,
                got ? got : "-", exp ? exp : "-");
        free(got);
        free(exp);
    }
    s2l_projection_destroy(p);
    json_decref(res);
}

/* p == NULL means the defaults. */
static void test_null_projection(void)
{
    json_t *g = json_pack("{s:s, s:s, s:[{s:s}]}", "id", "g", "displayName", "G", "members", "value", "u");

    CHECK(s2l_projection_wants(NULL, &fx.group_rt, NULL, "members"));
    CHECK(s2l_projection_wants(NULL, &fx.user_rt, fx.user_rt.ext[0], "manager"));
    CHECK(!s2l_projection_wants(NULL, &fx.user_rt, NULL, "password"));
    CHECK(!s2l_projection_wants(NULL, &fx.user_rt, NULL, "noSuchThing"));
    s2l_projection_apply(NULL, &fx.group_rt, g);
    CHECK_INT(json_object_size(g), 3);
    json_decref(g);
}

/* returned=request: only when named, at attribute and sub-attribute level. */
static void test_returned_request(void)
{
    const char *text =
        "{\"id\":\"urn:example:params:scim:schemas:Thing\",\"attributes\":["
        "{\"name\":\"label\",\"type\":\"string\",\"multiValued\":false,\"required\":true,\"caseExact\":false,"
        " \"mutability\":\"readWrite\",\"returned\":\"default\",\"uniqueness\":\"none\"},"
        "{\"name\":\"secretish\",\"type\":\"string\",\"multiValued\":false,\"required\":false,\"caseExact\":false,"
        " \"mutability\":\"readWrite\",\"returned\":\"request\",\"uniqueness\":\"none\"},"
        "{\"name\":\"box\",\"type\":\"complex\",\"multiValued\":false,\"required\":false,"
        " \"mutability\":\"readWrite\",\"returned\":\"default\",\"subAttributes\":["
        "  {\"name\":\"a\",\"type\":\"string\",\"multiValued\":false,\"required\":false,\"caseExact\":false,"
        "   \"mutability\":\"readWrite\",\"returned\":\"default\",\"uniqueness\":\"none\"},"
        "  {\"name\":\"b\",\"type\":\"string\",\"multiValued\":false,\"required\":false,\"caseExact\":false,"
        "   \"mutability\":\"readWrite\",\"returned\":\"request\",\"uniqueness\":\"none\"},"
        "  {\"name\":\"c\",\"type\":\"string\",\"multiValued\":false,\"required\":false,\"caseExact\":false,"
        "   \"mutability\":\"readWrite\",\"returned\":\"always\",\"uniqueness\":\"none\"}]}]}";
    json_t *sj = json_loads(text, 0, NULL);
    s2l_error err = {0};
    s2l_schema *s = sj ? s2l_schema_from_json(sj, &err) : NULL;
    s2l_resource_type rt = {.name = "Thing", .endpoint = "/Things", .core = s};
    const char *res_text = "{\"id\":\"1\",\"label\":\"L\",\"secretish\":\"S\",\"box\":{\"a\":\"A\",\"b\":\"B\",\"c\":\"C\"}}";

    CHECK(s != NULL);
    if (s == NULL)
        goto out;
    s2l_projection *p = s2l_projection_parse(&rt, NULL, NULL, &err);
    json_t *r = json_loads(res_text, 0, NULL);
    CHECK(!s2l_projection_wants(p, &rt, NULL, "secretish"));
    s2l_projection_apply(p, &rt, r);
    CHECK(json_object_get(r, "secretish") == NULL);
    CHECK(json_object_get(json_object_get(r, "box"), "b") == NULL);
    CHECK(json_object_get(json_object_get(r, "box"), "a") != NULL);
    s2l_projection_destroy(p);
    json_decref(r);

    p = s2l_projection_parse(&rt, "secretish,box.b", NULL, &err);
    r = json_loads(res_text, 0, NULL);
    CHECK(s2l_projection_wants(p, &rt, NULL, "secretish"));
    CHECK(!s2l_projection_wants(p, &rt, NULL, "label"));
    s2l_projection_apply(p, &rt, r);
    CHECK_STR(json_string_value(json_object_get(r, "secretish")), "S");
    CHECK_STR(json_string_value(json_object_get(json_object_get(r, "box"), "b")), "B");
    CHECK_STR(json_string_value(json_object_get(json_object_get(r, "box"), "c")), "C"); /* returned=always */
    CHECK(json_object_get(json_object_get(r, "box"), "a") == NULL);
    CHECK(json_object_get(r, "label") == NULL);
    CHECK_STR(json_string_value(json_object_get(r, "id")), "1");
    s2l_projection_destroy(p);
    json_decref(r);

    p = s2l_projection_parse(&rt, NULL, "box.c,id", &err);
    r = json_loads(res_text, 0, NULL);
    s2l_projection_apply(p, &rt, r);
    CHECK_STR(json_string_value(json_object_get(json_object_get(r, "box"), "c")), "C");
    CHECK_STR(json_string_value(json_object_get(r, "id")), "1");
    s2l_projection_destroy(p);
    json_decref(r);
out:
    s2l_schema_destroy(s);
    json_decref(sj);
}

/* Many names: the list grows without a fixed limit. */
static void test_long_list(void)
{
    size_t cap = 3000 * 11 + 1, len = 0;
    char *list = malloc(cap);
    s2l_error err = {0};

    CHECK(list != NULL);
    if (list == NULL)
        return;
    for (int i = 0; i < 3000; i++)
        len += (size_t)snprintf(list + len, cap - len, "%s", i % 2 ? "userName," : "emails.value,");
    list[len - 1] = '\0';
    s2l_projection *p = s2l_projection_parse(&fx.user_rt, list, NULL, &err);
    CHECK(p != NULL);
    CHECK(s2l_projection_wants(p, &fx.user_rt, NULL, "emails"));
    CHECK(!s2l_projection_wants(p, &fx.user_rt, NULL, "name"));
    s2l_projection_destroy(p);
    free(list);
}

int main(void)
{
    if (scim_fixture_init(&fx) != 0) {
        fprintf(stderr, "cannot build resource types from schemas/scim\n");
        return 1;
    }
    int n = scim_fixture_each_case("tests/data/projection", run_case, NULL);
    CHECK(n >= 20);
    printf("%d data-driven projection cases\n", n);
    test_null_projection();
    test_returned_request();
    test_long_list();
    scim_fixture_fini(&fx);
    return UNIT_DONE();
}
