/* test_patch.c — the PATCH engine (gateway/core/patch.c, patch_delta.c).
 *
 * Most cases are data: tests/data/patch/ (one JSON file per source), each file
 *   {"type": "User"|"Group"|"UserView", "delta_attrs": [...], "bases": {...},
 *    "cases": [{"name", "before" (object or "@base"), "request",
 *               "expect" (whole resource) | "expect_changes" (RFC 7386 merge patch on before)
 *               | "error": {"status", "scimType", "detail_contains"},
 *               "deltas" (expected; absent = none), "max_operations", "ignore_unknown"}]}
 * with "type"/"delta_attrs"/"before" at file level as defaults for its cases.
 * The rest checks what data cannot express: limits, ownership, no partial output.
 */
#include "s2l/resource.h"
#include "scim_fixture.h"
#include "unit.h"

#include <time.h>

static scim_fixture fx;

static const json_t *field(const json_t *file, const json_t *c, const char *key)
{
    const json_t *v = json_object_get(c, key);
    return v ? v : json_object_get(file, key);
}

static void show(const char *what, const json_t *j)
{
    char *s = j ? json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    fprintf(stderr, "    %s: %s\n", what, s ? s : "(null)");
    free(s);
}

static void run_case(const json_t *file, const json_t *c, const char *fname, void *arg)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    const s2l_resource_type *rt = scim_fixture_rtype(&fx, json_string_value(field(file, c, "type")));
    const json_t *before = scim_fixture_base(file, field(file, c, "before"));
    const json_t *request = json_object_get(c, "request");
    const json_t *experr = json_object_get(c, "error");
    const json_t *jdelta = field(file, c, "delta_attrs");
    const char *delta_names[8] = {0};
    s2l_patch_opts opts = {0};
    s2l_error err = {0};
    json_t *res = json_deep_copy(before);
    json_t *req_copy = json_deep_copy(request);
    json_t *deltas = NULL;
    json_t *want = NULL;
    int failed_before = unit_failed_;
    int rc = -1;
    size_t i;
    json_t *d;

    (void)arg;
    if (rt == NULL || res == NULL || request == NULL || json_array_size(jdelta) >= 8) {
        fprintf(stderr, "%s: %s: malformed case\n", fname, name ? name : "?");
        unit_failed_++;
        goto out;
    }
    json_array_foreach(jdelta, i, d) delta_names[i] = json_string_value(d);
    opts.delta_attrs = json_is_array(jdelta) ? delta_names : NULL;
    opts.max_operations = (unsigned)json_integer_value(json_object_get(c, "max_operations"));
    opts.ignore_unknown = json_is_true(json_object_get(c, "ignore_unknown"));

    rc = s2l_patch_apply(rt, res, request, &opts, &deltas, &err);

    CHECK(json_equal(req_copy, (json_t *)request)); /* the request is borrowed, never changed */
    if (experr != NULL) {
        const char *contains = json_string_value(json_object_get(experr, "detail_contains"));
        CHECK_INT(rc, -1);
        CHECK_INT(err.status, json_integer_value(json_object_get(experr, "status")));
        CHECK_STR(err.scim_type, json_string_value(json_object_get(experr, "scimType")));
        CHECK(deltas == NULL);
        if (contains != NULL)
            CHECK(strstr(err.detail, contains) != NULL);
    } else {
        CHECK_INT(rc, 0);
        if (json_object_get(c, "expect") != NULL)
            want = json_deep_copy(scim_fixture_base(file, json_object_get(c, "expect")));
        else if (json_object_get(c, "expect_changes") != NULL)
            want = scim_fixture_merge(before, json_object_get(c, "expect_changes"));
        else
            want = json_deep_copy(before);
        CHECK(json_equal(res, want));
        const json_t *wd = json_object_get(c, "deltas");
        CHECK(json_is_null(wd) || wd == NULL ? deltas == NULL : json_equal(deltas, (json_t *)wd));
    }
    if (unit_failed_ != failed_before) {
        fprintf(stderr, "  in %s: case \"%s\" (rc=%d status=%d scimType=%s detail=%s)\n", fname, name, rc,
                err.status, err.scim_type ? err.scim_type : "-", err.detail);
        show("got     ", res);
        show("expected", want);
        show("deltas  ", deltas);
    }
out:
    json_decref(res);
    json_decref(req_copy);
    json_decref(deltas);
    json_decref(want);
}

static json_t *op_n(size_t n)
{
    json_t *ops = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(ops, json_pack("{s:s, s:s, s:s}", "op", "replace", "path", "displayName",
                                             "value", "x"));
    return json_pack("{s:[s], s:o}", "schemas", S2L_URN_PATCH, "Operations", ops);
}

/* Default limit of 1000 operations; the limit counts, not the content. */
static void test_max_operations(void)
{
    json_t *res = json_pack("{s:s}", "userName", "a");
    json_t *ok = op_n(1000), *toomany = op_n(1001);
    s2l_error err = {0};

    CHECK_INT(s2l_patch_apply(&fx.user_rt, res, ok, NULL, NULL, &err), 0);
    CHECK_INT(s2l_patch_apply(&fx.user_rt, res, toomany, NULL, NULL, &err), -1);
    CHECK_INT(err.status, 400);
    json_decref(res);
    json_decref(ok);
    json_decref(toomany);
}

/* An error clears *deltas even when earlier operations produced some, and a
 * NULL err is tolerated. */
static void test_no_partial_deltas(void)
{
    const char *names[] = {"members", NULL};
    s2l_patch_opts opts = {.delta_attrs = names};
    json_t *res = json_pack("{s:s}", "displayName", "g");
    json_t *req = json_loads("{\"Operations\":[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"u1\"}]},"
                             "{\"op\":\"jump\"}]}", 0, NULL);
    json_t *sentinel = json_string("sentinel");
    json_t *deltas = sentinel;

    CHECK_INT(s2l_patch_apply(&fx.group_rt, res, req, &opts, &deltas, NULL), -1);
    CHECK(deltas == NULL);
    json_decref(sentinel);
    json_decref(res);
    json_decref(req);
}

/* Delta bookkeeping is hashed: 20,000 members in one add and the removal of
 * every other one stay fast and exact. */
static void test_many_members(void)
{
    const char *names[] = {"members", NULL};
    s2l_patch_opts opts = {.delta_attrs = names};
    json_t *add = json_array(), *rem = json_array();
    char id[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "u%05d", i);
        json_array_append_new(add, json_pack("{s:s, s:n}", "value", id, "$ref"));
        if (i % 2 == 0)
            json_array_append_new(rem, json_pack("{s:s}", "value", id));
    }
    json_t *req = json_pack("{s:[{s:s, s:s, s:o}, {s:s, s:s, s:o}]}", "Operations", "op", "Add", "path", "members",
                            "value", add, "op", "Remove", "path", "members", "value", rem);
    json_t *res = json_pack("{s:s}", "displayName", "g");
    json_t *deltas = NULL;
    s2l_error err = {0};
    clock_t t0 = clock();

    CHECK_INT(s2l_patch_apply(&fx.group_rt, res, req, &opts, &deltas, &err), 0);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    json_t *d0 = json_array_get(deltas, 0);
    CHECK_INT(json_array_size(json_object_get(d0, "add")), 10000);
    CHECK_INT(json_array_size(json_object_get(d0, "remove")), 10000);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(d0, "add"), 0), "value")), "u00001");
    CHECK(secs < 5.0);
    json_decref(deltas);
    json_decref(res);
    json_decref(req);
}

int main(void)
{
    if (scim_fixture_init(&fx) != 0) {
        fprintf(stderr, "cannot build resource types from schemas/scim\n");
        return 1;
    }
    int n = scim_fixture_each_case("tests/data/patch", run_case, NULL);
    CHECK(n > 100);
    printf("%d data-driven PATCH cases\n", n);
    test_max_operations();
    test_no_partial_deltas();
    test_many_members();
    scim_fixture_fini(&fx);
    return UNIT_DONE();
}
