/* fuzz_patch.c — libFuzzer target for the PATCH engine and request normalisation
 * (gateway/core/patch.c, patch_delta.c, resource.c, projection.c).
 *
 * One JSON input is used every way it can be: as a PatchOp request against a
 * User, a Group with members as delta attribute and a mapped User view; as a
 * POST body; and, when it is a string, as an attributes= list. Checks, besides
 * memory safety:
 *  - failures are 400 with a scimType (500 only for allocation failure) and a detail;
 *  - the request is never modified, deltas are produced only on success;
 *  - a patched User is still a valid resource: normalising it succeeds, so the
 *    engine cannot leave a wrong type, a lost userName or a non-array behind.
 * Seeds: tests/fuzz/corpus/patch (requests of tests/data/patch).
 */
#include "s2l/resource.h"
#include "../unit/scim_fixture.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static scim_fixture fx;
static json_t *user_base, *group_base;

static const char user_text[] =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"u1\",\"userName\":\"bjensen\","
    "\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"Jensen\"},\"active\":true,"
    "\"emails\":[{\"value\":\"b@example.com\",\"type\":\"work\",\"primary\":true},{\"value\":\"h@example.org\",\"type\":\"home\"}],"
    "\"addresses\":[{\"type\":\"work\",\"streetAddress\":\"1 Main St\"}],"
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"employeeNumber\":\"7\",\"manager\":{\"value\":\"m1\"}}}";
static const char group_text[] =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"id\":\"g1\",\"displayName\":\"G\"}";

static bool error_ok(const s2l_error *e)
{
    if (e->detail[0] == '\0')
        return false;
    /* 413: a body past the JSON limits (json_limits.h). */
    return e->status == 500 || (e->status == 400 && e->scim_type != NULL) ||
           (e->status == 413 && e->scim_type == NULL);
}

/* The repository root: $S2L_SOURCE_DIR, else three levels above this file. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (getenv("S2L_SOURCE_DIR") == NULL) {
        char root[4096];
        snprintf(root, sizeof root, "%s", __FILE__);
        /* A relative __FILE__ ("tests/fuzz/fuzz_patch.c") runs out of
         * slashes: then the root is the working directory. */
        for (int up = 0; up < 3; up++) {
            char *slash = strrchr(root, '/');
            if (slash == NULL) {
                snprintf(root, sizeof root, ".");
                break;
            }
            *slash = '\0';
        }
        setenv("S2L_SOURCE_DIR", root[0] ? root : "/", 1);
    }
    user_base = json_loads(user_text, 0, NULL);
    group_base = json_loads(group_text, 0, NULL);
    if (scim_fixture_init(&fx) != 0 || user_base == NULL || group_base == NULL)
        abort();
    return 0;
}

static void patch_one(const s2l_resource_type *rt, const json_t *base, const json_t *req, bool with_deltas,
                      bool check_valid)
{
    const char *names[] = {"members", NULL};
    s2l_patch_opts opts = {.delta_attrs = with_deltas ? names : NULL, .max_operations = 64};
    s2l_error err;
    json_t *res = json_deep_copy(base);
    json_t *deltas = NULL;

    s2l_error_clear(&err);
    if (res == NULL)
        return;
    if (s2l_patch_apply(rt, res, req, &opts, &deltas, &err) != 0) {
        if (deltas != NULL || !error_ok(&err))
            abort();
    } else if (deltas != NULL && !json_is_array(deltas)) {
        abort();
    } else if (check_valid) {
        /* The base holds attributes the view lacks; only the view's must be valid. */
        s2l_norm_opts nopts = {.ignore_unknown = rt == &fx.view_rt};
        json_t *again = s2l_resource_normalize(rt, res, S2L_NORM_REPLACE, &nopts, &err);
        if (again == NULL && err.status != 500) {
            fprintf(stderr, "patched resource no longer valid: %s\n", err.detail);
            abort();
        }
        json_decref(again);
    }
    json_decref(deltas);
    json_decref(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    json_t *copy;
    s2l_error err;

    if (in == NULL)
        return 0;
    copy = json_deep_copy(in);
    patch_one(&fx.user_rt, user_base, in, false, true);
    patch_one(&fx.view_rt, user_base, in, false, true);
    patch_one(&fx.group_rt, group_base, in, true, true);
    patch_one(&fx.group_rt, group_base, in, false, true);

    s2l_error_clear(&err);
    json_t *n = s2l_resource_normalize(&fx.user_rt, in, S2L_NORM_CREATE, NULL, &err);
    if (n == NULL && !error_ok(&err))
        abort();
    json_decref(n);

    if (json_is_string(in)) {
        s2l_error_clear(&err);
        s2l_projection *p = s2l_projection_parse(&fx.user_rt, json_string_value(in), json_string_value(in), &err);
        if (p == NULL && !error_ok(&err))
            abort();
        json_t *r = json_deep_copy(user_base);
        s2l_projection_apply(p, &fx.user_rt, r);
        (void)s2l_projection_wants(p, &fx.user_rt, NULL, "members");
        s2l_projection_destroy(p);
        json_decref(r);
    }
    if (copy == NULL || !json_equal(copy, in))
        abort();
    json_decref(copy);
    json_decref(in);
    return 0;
}
