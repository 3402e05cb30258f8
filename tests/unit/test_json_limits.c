/* test_json_limits.c — the one walk over a request body
 * (gateway/core/json_limits.c): case-variant keys at any level, nesting,
 * value count and array lengths, with the status, scimType and where. */
#include "s2l/json_limits.h"
#include "unit.h"

#include <stdbool.h>

static json_t *parse(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (j == NULL)
        fprintf(stderr, "bad test JSON: %s: %s\n", text, je.text);
    return j;
}

/* Checks text against lim; want_status 0 = accepted. */
static s2l_error check(const char *text, const s2l_json_limits *lim, int want_status, const char *want_type,
                       const char *in_detail)
{
    s2l_error e;
    s2l_error_clear(&e);
    json_t *j = parse(text);
    CHECK(j != NULL);
    int rc = s2l_json_check(j, lim, &e);
    CHECK_INT(rc, want_status ? -1 : 0);
    CHECK_INT(e.status, want_status);
    if (want_status && want_type)
        CHECK_STR(e.scim_type, want_type);
    if (want_status && !want_type)
        CHECK(e.scim_type == NULL);
    if (in_detail && strstr(e.detail, in_detail) == NULL)
        fprintf(stderr, "detail \"%s\" lacks \"%s\"\n", e.detail, in_detail);
    CHECK(in_detail == NULL || strstr(e.detail, in_detail) != NULL);
    json_decref(j);
    return e;
}

static void test_case_variant_keys(void)
{
    check("{\"userName\":\"a\",\"displayName\":\"b\"}", NULL, 0, NULL, NULL);
    /* The case: both spellings, the last one would win. */
    check("{\"userName\":\"a\",\"UserName\":\"b\"}", NULL, 400, S2L_SCIM_INVALID_SYNTAX,
          "\"userName\" is given twice, as \"userName\" and \"UserName\"");
    check("{\"schemas\":[],\"USERNAME\":\"a\",\"username\":\"b\"}", NULL, 400, S2L_SCIM_INVALID_SYNTAX,
          "\"USERNAME\"");
    /* Nested: a sub-attribute, named with its parent. */
    check("{\"userName\":\"a\",\"name\":{\"givenName\":\"x\",\"GivenName\":\"y\"}}", NULL, 400,
          S2L_SCIM_INVALID_SYNTAX, "\"name.givenName\"");
    /* Inside a multi-valued attribute's value. */
    check("{\"emails\":[{\"value\":\"a@x\"},{\"value\":\"b@x\",\"Value\":\"c@x\"}]}", NULL, 400,
          S2L_SCIM_INVALID_SYNTAX, "\"emails[1].value\"");
    /* In an extension object. */
    check("{\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
          "{\"department\":\"a\",\"Department\":\"b\"}}",
          NULL, 400, S2L_SCIM_INVALID_SYNTAX, "enterprise:2.0:User.department");
    /* PATCH: in an operation, and in its value at any depth. */
    check("{\"Operations\":[{\"op\":\"add\",\"OP\":\"remove\",\"path\":\"title\"}]}", NULL, 400,
          S2L_SCIM_INVALID_SYNTAX, "\"Operations[0].op\"");
    check("{\"Operations\":[{\"op\":\"replace\",\"value\":{\"userName\":\"a\",\"USERNAME\":\"b\"}}]}", NULL, 400,
          S2L_SCIM_INVALID_SYNTAX, "\"Operations[0].value.userName\"");
    check("{\"Operations\":[{\"op\":\"add\",\"value\":{\"name\":{\"familyName\":\"a\",\"FAMILYNAME\":\"b\"}}}]}",
          NULL, 400, S2L_SCIM_INVALID_SYNTAX, "Operations[0].value.name.familyName");
    /* Distinct names that only look alike are fine; non-ASCII is not folded. */
    check("{\"name\":\"a\",\"name.givenName\":\"b\",\"names\":\"c\"}", NULL, 0, NULL, NULL);
    check("{\"\xc3\xa9t\xc3\xa9\":\"a\",\"\xc3\x89T\xc3\x89\":\"b\"}", NULL, 0, NULL, NULL);
}

/* Objects past the pairwise size use the hash set: same answers. */
static void test_case_variant_keys_in_big_objects(void)
{
    char text[8192];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "{");
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s\"attr%03d\":%d", i ? "," : "", i, i);
    n += (size_t)snprintf(text + n, sizeof text - n, "}");
    check(text, NULL, 0, NULL, NULL);

    /* The same with one key repeated in upper case near the end. */
    text[n - 1] = '\0';
    snprintf(text + n - 1, sizeof text - (n - 1), ",\"ATTR123\":1}");
    check(text, NULL, 400, S2L_SCIM_INVALID_SYNTAX, "as \"attr123\" and \"ATTR123\"");

    /* Keys whose hashes collide in a small table still compare by text. */
    check("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10,\"k\":11,\"l\":12,"
          "\"m\":13,\"n\":14,\"o\":15,\"p\":16,\"q\":17,\"Q\":18}",
          NULL, 400, S2L_SCIM_INVALID_SYNTAX, "\"q\" and \"Q\"");
}

static void test_depth(void)
{
    s2l_json_limits lim = {.max_depth = 4};
    check("{\"a\":{\"b\":{\"c\":[1]}}}", &lim, 0, NULL, NULL);     /* 4 levels */
    check("{\"a\":{\"b\":{\"c\":[[1]]}}}", &lim, 400, S2L_SCIM_INVALID_SYNTAX, "more than 4 levels");
    check("{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}", &lim, 400, S2L_SCIM_INVALID_SYNTAX, "at \"a.b.c.d\"");
    /* Scalars do not nest. */
    check("\"just a string\"", &lim, 0, NULL, NULL);

    /* The default allows every real SCIM body and stops a deep one. */
    char deep[400];
    size_t n = 0;
    for (int i = 0; i < S2L_JSON_MAX_DEPTH_DEFAULT + 1; i++)
        deep[n++] = '[';
    for (int i = 0; i < S2L_JSON_MAX_DEPTH_DEFAULT + 1; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    check(deep, NULL, 400, S2L_SCIM_INVALID_SYNTAX, "nested more than");
    deep[n - 1] = '\0';
    memmove(deep, deep + 1, n - 1);
    check(deep, NULL, 0, NULL, NULL);
}

static void test_nodes(void)
{
    s2l_json_limits lim = {.max_nodes = 10};
    /* 1 object + 1 array + 8 numbers = 10 values. */
    check("{\"a\":[1,2,3,4,5,6,7,8]}", &lim, 0, NULL, NULL);
    check("{\"a\":[1,2,3,4,5,6,7,8,9]}", &lim, 413, NULL, "more than 10 JSON values");
    check("{\"a\":{\"b\":1,\"c\":2},\"d\":[{},{},{},{},{}],\"e\":null}", &lim, 413, NULL, NULL);
}

static void test_values_per_attribute(void)
{
    s2l_json_limits lim = {.max_values = 3};
    check("{\"emails\":[{\"value\":\"a\"},{\"value\":\"b\"},{\"value\":\"c\"}]}", &lim, 0, NULL, NULL);
    check("{\"emails\":[\"a\",\"b\",\"c\",\"d\"]}", &lim, 413, NULL, "\"emails\" has 4 values; at most 3");
    check("{\"Operations\":[{\"op\":\"add\",\"path\":\"members\",\"value\":[{},{},{},{},{}]}]}", &lim, 413, NULL,
          "\"Operations[0].value\" has 5 values");
    check("[1,2,3,4]", &lim, 413, NULL, "the request body");
}

/* 0 in a field means its default; NULL limits are the defaults. */
static void test_defaults(void)
{
    s2l_json_limits zero = {0};
    char *big = malloc(3 * (S2L_JSON_MAX_VALUES_DEFAULT + 1) + 16);
    CHECK(big != NULL);
    if (big == NULL)
        return;
    size_t n = (size_t)sprintf(big, "{\"a\":[");
    for (int i = 0; i <= S2L_JSON_MAX_VALUES_DEFAULT; i++)
        n += (size_t)sprintf(big + n, "%s1", i ? "," : "");
    sprintf(big + n, "]}");
    check(big, &zero, 413, NULL, "at most 20000");
    check(big, NULL, 413, NULL, "at most 20000");
    free(big);

    s2l_error e;
    s2l_error_clear(&e);
    CHECK_INT(s2l_json_check(NULL, NULL, &e), 0);
}

int main(void)
{
    test_case_variant_keys();
    test_case_variant_keys_in_big_objects();
    test_depth();
    test_nodes();
    test_values_per_attribute();
    test_defaults();
    return UNIT_DONE();
}
