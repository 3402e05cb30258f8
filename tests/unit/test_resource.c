/* test_resource.c — request normalisation and s2l_json_get_ci (gateway/core/resource.c).
 *
 * Cases are data: tests/data/resource/normalize.json,
 *   {"type": default, "cases": [{"name", "type", "mode": "create"|"replace", "ignore_unknown",
 *                                "body", "expect" | "error": {"status", "scimType", "detail_contains"}}]}
 */
#include "s2l/resource.h"
#include "scim_fixture.h"
#include "unit.h"

static scim_fixture fx;

static void show(const char *what, const json_t *j)
{
    char *s = j ? json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    fprintf(stderr, "    %s: %s\n", what, s ? s : "(null)");
    free(s);
}

static void run_case(const json_t *file, const json_t *c, const char *fname, void *arg)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    const json_t *jtype = json_object_get(c, "type");
    const s2l_resource_type *rt = scim_fixture_rtype(&fx, json_string_value(jtype ? jtype : json_object_get(file, "type")));
    const char *mode = json_string_value(json_object_get(c, "mode"));
    const json_t *body = json_object_get(c, "body");
    const json_t *experr = json_object_get(c, "error");
    s2l_norm_opts opts = {.ignore_unknown = json_is_true(json_object_get(c, "ignore_unknown"))};
    s2l_error err = {0};
    json_t *body_copy = json_deep_copy(body);
    int failed_before = unit_failed_;

    (void)arg;
    if (rt == NULL || body == NULL) {
        fprintf(stderr, "%s: %s: malformed case\n", fname, name ? name : "?");
        unit_failed_++;
        json_decref(body_copy);
        return;
    }
    json_t *got = s2l_resource_normalize(rt, body, mode && strcmp(mode, "replace") == 0 ? S2L_NORM_REPLACE : S2L_NORM_CREATE,
                                         &opts, &err);
    CHECK(json_equal(body_copy, (json_t *)body)); /* the body is borrowed, never changed */
    if (experr != NULL) {
        const char *contains = json_string_value(json_object_get(experr, "detail_contains"));
        CHECK(got == NULL);
        CHECK_INT(err.status, json_integer_value(json_object_get(experr, "status")));
        CHECK_STR(err.scim_type, json_string_value(json_object_get(experr, "scimType")));
        if (contains != NULL)
            CHECK(strstr(err.detail, contains) != NULL);
    } else {
        CHECK(got != NULL);
        CHECK(json_equal(got, json_object_get(c, "expect")));
    }
    if (unit_failed_ != failed_before) {
        fprintf(stderr, "  in %s: case \"%s\" (status=%d scimType=%s detail=%s)\n", fname, name, err.status,
                err.scim_type ? err.scim_type : "-", err.detail);
        show("got     ", got);
        show("expected", json_object_get(c, "expect"));
    }
    json_decref(got);
    json_decref(body_copy);
}

static void test_get_ci(void)
{
    json_t *o = json_pack("{s:i, s:i, s:i}", "userName", 1, "USERNAME", 2, "Emails", 3);

    CHECK_INT(json_integer_value(s2l_json_get_ci(o, "userName")), 1); /* the exact spelling wins */
    CHECK_INT(json_integer_value(s2l_json_get_ci(o, "USERNAME")), 2);
    CHECK_INT(json_integer_value(s2l_json_get_ci(o, "emails")), 3);
    CHECK_INT(json_integer_value(s2l_json_get_ci(o, "eMaIlS")), 3);
    CHECK(s2l_json_get_ci(o, "email") == NULL);
    CHECK(s2l_json_get_ci(o, NULL) == NULL);
    CHECK(s2l_json_get_ci(NULL, "x") == NULL);
    json_t *a = json_array();
    CHECK(s2l_json_get_ci(a, "x") == NULL);
    json_decref(a);
    json_decref(o);
}

/* opts may be NULL (= strict) and the result is a fresh object, not the body. */
static void test_null_opts_and_ownership(void)
{
    json_t *body = json_pack("{s:s, s:s}", "userName", "u", "shoe", "9");
    s2l_error err = {0};

    CHECK(s2l_resource_normalize(&fx.user_rt, body, S2L_NORM_CREATE, NULL, &err) == NULL);
    CHECK_STR(err.scim_type, S2L_SCIM_INVALID_SYNTAX);
    json_object_del(body, "shoe");
    json_t *got = s2l_resource_normalize(&fx.user_rt, body, S2L_NORM_CREATE, NULL, &err);
    CHECK(got != NULL && got != body);
    CHECK_INT(got ? got->refcount : 0, 1);
    json_decref(got);
    json_decref(body);
}

int main(void)
{
    if (scim_fixture_init(&fx) != 0) {
        fprintf(stderr, "cannot build resource types from schemas/scim\n");
        return 1;
    }
    int n = scim_fixture_each_case("tests/data/resource", run_case, NULL);
    CHECK(n >= 40);
    printf("%d data-driven normalisation cases\n", n);
    test_get_ci();
    test_null_opts_and_ownership();
    scim_fixture_fini(&fx);
    return UNIT_DONE();
}
