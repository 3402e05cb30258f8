/* test_bulk.c — BulkRequest parsing and planning (gateway/core/bulk.c):
 * request-level errors (400, 413), per-operation refusals, bulkId references
 * in data, PATCH paths and operation paths, the run order (forward references
 * wait, cycles are refused), resolution with the ids created so far, and the
 * BulkResponse items. */
#include "s2l/bulk.h"
#include "unit.h"

static json_t *parse_json(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (j == NULL)
        fprintf(stderr, "bad test JSON: %s: %s\n", e.text, text);
    return j;
}

static s2l_bulk *parse(const char *text, size_t max_ops, s2l_error *err)
{
    json_t *j = parse_json(text);
    s2l_error_clear(err);
    s2l_bulk *b = s2l_bulk_parse(j, max_ops, err);
    json_decref(j);
    return b;
}

static void expect_request_error(const char *text, size_t max_ops, int status, const char *type)
{
    s2l_error err;
    s2l_bulk *b = parse(text, max_ops, &err);
    CHECK(b == NULL);
    CHECK_INT(err.status, status);
    if (type)
        CHECK_STR(err.scim_type, type);
    else
        CHECK(err.scim_type == NULL);
    s2l_bulk_destroy(b);
}

#define URN "\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:BulkRequest\"]"

static void test_request_errors(void)
{
    expect_request_error("[]", 10, 400, "invalidSyntax");
    expect_request_error("{" URN "}", 10, 400, "invalidSyntax");
    expect_request_error("{" URN ",\"Operations\":{}}", 10, 400, "invalidSyntax");
    expect_request_error("{\"schemas\":[\"urn:nope\"],\"Operations\":[]}", 10, 400, "invalidSyntax");
    expect_request_error("{" URN ",\"failOnErrors\":\"1\",\"Operations\":[]}", 10, 400, "invalidValue");
    expect_request_error("{" URN ",\"failOnErrors\":-1,\"Operations\":[]}", 10, 400, "invalidValue");
    /* maxOperations: 413 (RFC 7644 §3.7.4). */
    expect_request_error("{" URN ",\"Operations\":[{\"method\":\"DELETE\",\"path\":\"/Users/a\"},"
                         "{\"method\":\"DELETE\",\"path\":\"/Users/b\"},{\"method\":\"DELETE\",\"path\":\"/Users/c\"}]}",
                         2, 413, NULL);

    /* No schemas and lower-case "operations" are taken; an empty list is fine. */
    s2l_error err;
    s2l_bulk *b = parse("{\"operations\":[],\"failOnErrors\":0}", 10, &err);
    CHECK(b != NULL && b->n == 0 && b->fail_on_errors == 0);
    s2l_bulk_destroy(b);
}

static void test_operation_errors(void)
{
    s2l_error err;
    s2l_bulk *b = parse("{" URN ",\"failOnErrors\":3,\"Operations\":["
                        "{\"method\":\"GET\",\"path\":\"/Users\"},"
                        "{\"method\":\"post\",\"path\":\"Users\",\"data\":{}},"
                        "{\"method\":\"POST\",\"path\":\"/Users\"},"
                        "{\"method\":\"POST\",\"path\":\"/Bulk\",\"data\":{}},"
                        "{\"method\":\"DELETE\",\"path\":\"/Users/x\",\"version\":7},"
                        "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"\",\"data\":{}},"
                        "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"u1\",\"data\":{}},"
                        "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"u1\",\"data\":{}},"
                        "{\"method\":\"PATCH\",\"path\":\"/Users/bulkId:nobody\",\"data\":{}},"
                        "{\"method\":\"delete\",\"path\":\"/Users/abc\",\"version\":\"W/\\\"1\\\"\"},"
                        "7]}",
                        20, &err);
    CHECK(b != NULL);
    if (b == NULL) {
        fprintf(stderr, "parse: %d %s\n", err.status, err.detail);
        return;
    }
    CHECK_INT(b->n, 11);
    CHECK_INT(b->fail_on_errors, 3);
    static const int want[] = {400, 400, 400, 400, 400, 400, 0, 400, 400, 0, 400};
    for (size_t i = 0; i < b->n; i++) {
        if (b->ops[i].error.status != want[i])
            fprintf(stderr, "operation %zu: %d %s\n", i, b->ops[i].error.status, b->ops[i].error.detail);
        CHECK_INT(b->ops[i].error.status, want[i]);
    }
    CHECK_STR(b->ops[1].method, "POST"); /* methods are case-insensitive */
    CHECK(strstr(b->ops[7].error.detail, "earlier") != NULL);
    CHECK(strstr(b->ops[8].error.detail, "nobody") != NULL);
    CHECK_STR(b->ops[9].method, "DELETE");
    CHECK_STR(b->ops[9].version, "W/\"1\"");
    s2l_bulk_destroy(b);
}

static bool has_ref(const s2l_bulk_op *op, const char *id)
{
    for (size_t i = 0; op->refs && op->refs[i]; i++)
        if (strcmp(op->refs[i], id) == 0)
            return true;
    return false;
}

/* References in values, PATCH paths and operation paths; the order. */
static void test_references_and_order(void)
{
    s2l_error err;
    s2l_bulk *b = parse(
        "{" URN ",\"Operations\":["
        /* 0: a group of users created later: waits for 1 and 2 */
        "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"g\",\"data\":{\"displayName\":\"G\","
        "\"members\":[{\"value\":\"bulkId:alice\"},{\"value\":\"bulkId:bob\"}]}},"
        "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"alice\",\"data\":{\"userName\":\"alice\"}},"
        "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"bob\",\"data\":{\"userName\":\"bob\","
        "\"title\":\"says bulkId:alice in text\",\"urn:x:manager\":{\"value\":\"bulkId:alice\"}}},"
        /* 3: PATCH of the group, naming a member in its path filter */
        "{\"method\":\"PATCH\",\"path\":\"/Groups/bulkId:g\",\"data\":{\"Operations\":[{\"op\":\"remove\","
        "\"path\":\"members[value eq \\\"bulkId:bob\\\"]\"}]}},"
        /* 4, 5: a cycle; 6 waits on it; 7 names itself */
        "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"c1\",\"data\":{\"members\":[{\"value\":\"bulkId:c2\"}]}},"
        "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"c2\",\"data\":{\"members\":[{\"value\":\"bulkId:c1\"}]}},"
        "{\"method\":\"DELETE\",\"path\":\"/Groups/bulkId:c1\"},"
        "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"self\",\"data\":{\"members\":[{\"value\":\"bulkId:self\"}]}},"
        "{\"method\":\"DELETE\",\"path\":\"/Users/plain\"}"
        "]}",
        100, &err);
    CHECK(b != NULL);
    if (b == NULL)
        return;
    CHECK(has_ref(&b->ops[0], "alice") && has_ref(&b->ops[0], "bob") && !has_ref(&b->ops[0], "g"));
    CHECK(has_ref(&b->ops[2], "alice") && b->ops[2].refs[1] == NULL); /* text mentioning a bulkId is not one */
    CHECK(has_ref(&b->ops[3], "g") && has_ref(&b->ops[3], "bob"));
    CHECK(b->ops[8].refs == NULL);
    static const size_t order[] = {1, 2, 0, 3, 8, 4, 5, 6, 7};
    for (size_t i = 0; i < b->n; i++)
        CHECK_INT(b->order[i], order[i]);
    for (size_t i = 0; i < 4; i++)
        CHECK_INT(b->ops[i].error.status, 0);
    for (size_t i = 4; i < 8; i++) {
        CHECK_INT(b->ops[i].error.status, 409);
        CHECK(strstr(b->ops[i].error.detail, "circular") != NULL);
    }
    CHECK_INT(b->ops[8].error.status, 0);

    /* Resolution: every reference replaced, the rest untouched. */
    json_t *ids = json_pack("{s:s, s:s, s:s}", "alice", "id-a", "bob", "id-b", "g", "id-g");
    char *path = NULL;
    json_t *data = NULL;
    CHECK_INT(s2l_bulk_resolve(&b->ops[0], ids, &path, &data, &err), 0);
    CHECK_STR(path, "/Groups");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(data, "members"), 1), "value")),
              "id-b");
    free(path);
    json_decref(data);
    CHECK_INT(s2l_bulk_resolve(&b->ops[2], ids, &path, &data, &err), 0);
    CHECK_STR(json_string_value(json_object_get(data, "title")), "says bulkId:alice in text");
    CHECK_STR(json_string_value(json_object_get(json_object_get(data, "urn:x:manager"), "value")), "id-a");
    free(path);
    json_decref(data);
    CHECK_INT(s2l_bulk_resolve(&b->ops[3], ids, &path, &data, &err), 0);
    CHECK_STR(path, "/Groups/id-g");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(data, "Operations"), 0), "path")),
              "members[value eq \"id-b\"]");
    free(path);
    json_decref(data);
    CHECK_INT(s2l_bulk_resolve(&b->ops[8], ids, &path, &data, &err), 0);
    CHECK(data == NULL);
    CHECK_STR(path, "/Users/plain");
    free(path);

    /* A reference whose POST failed (no id): 409. */
    json_object_del(ids, "bob");
    s2l_error_clear(&err);
    CHECK_INT(s2l_bulk_resolve(&b->ops[3], ids, &path, &data, &err), -1);
    CHECK(path == NULL && data == NULL);
    CHECK_INT(err.status, 409);
    CHECK(strstr(err.detail, "bob") != NULL);
    json_decref(ids);
    s2l_bulk_destroy(b);
}

static void test_results(void)
{
    s2l_error err;
    s2l_bulk *b = parse("{\"Operations\":[{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"q\",\"data\":{}}]}",
                        5, &err);
    CHECK(b != NULL);
    if (b == NULL)
        return;
    json_t *r = s2l_bulk_result(&b->ops[0], 201, NULL, "https://h/scim/v2/Users/1", "W/\"1\"");
    CHECK_STR(json_string_value(json_object_get(r, "status")), "201");
    CHECK_STR(json_string_value(json_object_get(r, "method")), "POST");
    CHECK_STR(json_string_value(json_object_get(r, "bulkId")), "q");
    CHECK_STR(json_string_value(json_object_get(r, "location")), "https://h/scim/v2/Users/1");
    CHECK_STR(json_string_value(json_object_get(r, "version")), "W/\"1\"");
    CHECK(json_object_get(r, "response") == NULL);
    json_decref(r);
    json_t *e = json_pack("{s:s}", "detail", "nope");
    r = s2l_bulk_result(&b->ops[0], 409, e, NULL, NULL);
    CHECK_STR(json_string_value(json_object_get(r, "status")), "409");
    CHECK(json_object_get(r, "location") == NULL && json_object_get(r, "version") == NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(r, "response"), "detail")), "nope");
    json_decref(r);
    json_decref(e);
    s2l_bulk_destroy(b);
}

int main(void)
{
    test_request_errors();
    test_operation_errors();
    test_references_and_order();
    test_results();
    return UNIT_DONE();
}
