/* test_value_index.c — the index that makes PATCH on long multi-valued
 * attributes linear (gateway/core/value_index.c): it finds exactly what a
 * scan with s2l_res_value_equal finds (the first equal value), and a PATCH
 * adding and removing thousands of values gives the result the scan gives. */
#include "s2l/resource.h"
#include "../../gateway/core/resource_internal.h"
#include "scim_fixture.h"
#include "unit.h"

static scim_fixture fx;

static json_t *scan_first(const s2l_attr_def *def, const json_t *arr, const json_t *v)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        if (s2l_res_value_equal(def, e, v))
            return e;
    }
    return NULL;
}

/* Deterministic pseudo-random numbers. */
static unsigned long rnd_state = 12345;
static unsigned rnd(unsigned n)
{
    rnd_state = rnd_state * 6364136223846793005ul + 1442695040888963407ul;
    return (unsigned)((rnd_state >> 33) % n);
}

static json_t *email(unsigned k, bool upper, int type)
{
    char v[64];
    snprintf(v, sizeof v, upper ? "User%u@Example.ORG" : "user%u@example.org", k);
    static const char *const types[] = {"work", "home", "other"};
    return type < 0 ? json_pack("{s:s}", "value", v) : json_pack("{s:s, s:s}", "value", v, "type", types[type]);
}

static void test_find_matches_scan(void)
{
    const s2l_attr_def *emails = s2l_schema_find(fx.user, "emails");
    const s2l_attr_def *addresses = s2l_schema_find(fx.user, "addresses");
    CHECK(emails != NULL && addresses != NULL);

    /* Emails: case variants, with and without type, duplicates. */
    json_t *arr = json_array();
    for (int i = 0; i < 300; i++)
        json_array_append_new(arr, email(rnd(120), rnd(2), (int)rnd(4) - 1));
    s2l_value_index *ix = s2l_value_index_create(emails, arr);
    CHECK(ix != NULL);
    int mismatches = 0;
    for (int i = 0; i < 2000; i++) {
        json_t *probe = email(rnd(160), rnd(2), (int)rnd(4) - 1);
        if (s2l_value_index_find(ix, probe) != scan_first(emails, arr, probe))
            mismatches++;
        json_decref(probe);
    }
    CHECK_INT(mismatches, 0);
    /* Values appended later are found too, after earlier equal ones. */
    json_t *late = email(500, false, 0);
    CHECK(s2l_value_index_find(ix, late) == NULL);
    json_array_append(arr, late);
    CHECK_INT(s2l_value_index_add(ix, json_array_size(arr) - 1), 0);
    CHECK(s2l_value_index_find(ix, late) == json_array_get(arr, json_array_size(arr) - 1));
    json_decref(late);
    s2l_value_index_destroy(ix);
    json_decref(arr);

    /* Addresses have no "value": every sub-attribute counts. */
    arr = json_array();
    for (int i = 0; i < 200; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s}", "locality", rnd(2) ? "Paris" : "PARIS", "country",
                                             rnd(2) ? "FR" : "DE"));
    ix = s2l_value_index_create(addresses, arr);
    mismatches = 0;
    for (int i = 0; i < 200; i++) {
        json_t *probe = rnd(3) ? json_pack("{s:s, s:s}", "locality", "paris", "country", rnd(2) ? "fr" : "de")
                               : json_pack("{s:s}", "locality", "Paris");
        if (s2l_value_index_find(ix, probe) != scan_first(addresses, arr, probe))
            mismatches++;
        json_decref(probe);
    }
    CHECK_INT(mismatches, 0);
    s2l_value_index_destroy(ix);
    json_decref(arr);
}

/* PATCH add and remove on 3,000 emails: the result the plain scan defines. */
static void test_patch_long_lists(void)
{
    json_t *res = json_pack("{s:[s], s:s, s:[]}", "schemas", "urn:ietf:params:scim:schemas:core:2.0:User", "userName",
                            "many", "emails");
    json_t *have = json_object_get(res, "emails");
    for (unsigned i = 0; i < 3000; i++)
        json_array_append_new(have, email(i, false, 0));
    /* Adds 3,000: half already there (in another case), half new. */
    json_t *add = json_array();
    for (unsigned i = 1500; i < 4500; i++)
        json_array_append_new(add, email(i, true, 0));
    json_t *req = json_pack("{s:[s], s:[{s:s, s:s, s:o}]}", "schemas", "urn:ietf:params:scim:api:messages:2.0:PatchOp",
                            "Operations", "op", "add", "path", "emails", "value", add);
    s2l_error err;
    CHECK_INT(s2l_patch_apply(&fx.user_rt, res, req, NULL, NULL, &err), 0);
    json_t *emails = json_object_get(res, "emails");
    CHECK_INT(json_array_size(emails), 4500);
    /* Existing values keep their spelling; new ones come in order. */
    CHECK_STR(json_string_value(json_object_get(json_array_get(emails, 1500), "value")), "user1500@example.org");
    CHECK_STR(json_string_value(json_object_get(json_array_get(emails, 3000), "value")), "User3000@Example.ORG");
    json_decref(req);

    /* Removes every even one, given in upper case. */
    json_t *gone = json_array();
    for (unsigned i = 0; i < 4500; i += 2)
        json_array_append_new(gone, email(i, true, -1));
    req = json_pack("{s:[s], s:[{s:s, s:s, s:o}]}", "schemas", "urn:ietf:params:scim:api:messages:2.0:PatchOp",
                    "Operations", "op", "remove", "path", "emails", "value", gone);
    CHECK_INT(s2l_patch_apply(&fx.user_rt, res, req, NULL, NULL, &err), 0);
    emails = json_object_get(res, "emails");
    CHECK_INT(json_array_size(emails), 2250);
    CHECK_STR(json_string_value(json_object_get(json_array_get(emails, 0), "value")), "user1@example.org");
    CHECK_STR(json_string_value(json_object_get(json_array_get(emails, 2249), "value")), "User4499@Example.ORG");
    json_decref(req);
    json_decref(res);
}

int main(void)
{
    if (scim_fixture_init(&fx) != 0) {
        fprintf(stderr, "cannot load the SCIM schemas\n");
        return 1;
    }
    test_find_matches_scan();
    test_patch_long_lists();
    scim_fixture_fini(&fx);
    return UNIT_DONE();
}
