/* test_search_request.c — SearchRequest bodies (RFC 7644 §3.4.3) as the query
 * of the equivalent GET (gateway/core/search_request.c). */
#include "s2l/search_request.h"
#include "unit.h"

static char *query_of(const char *text, long start, long count, s2l_error *err)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    s2l_search_params p;
    s2l_error_clear(err);
    char *q = NULL;
    if (s2l_search_params_parse(j, &p, err) == 0) {
        q = s2l_search_params_query(&p, start, count);
        s2l_search_params_fini(&p);
    }
    json_decref(j);
    return q;
}

static void expect_query(const char *body, long start, long count, const char *want)
{
    s2l_error err;
    char *q = query_of(body, start, count, &err);
    if (q == NULL)
        fprintf(stderr, "%s: %d %s\n", body, err.status, err.detail);
    CHECK_STR(q, want);
    free(q);
}

static void expect_error(const char *body, const char *type)
{
    s2l_error err;
    char *q = query_of(body, -1, -1, &err);
    CHECK(q == NULL);
    CHECK_INT(err.status, 400);
    CHECK_STR(err.scim_type, type);
    free(q);
}

int main(void)
{
    expect_query("{}", -1, -1, "");
    expect_query("{\"schemas\":[\"" S2L_URN_SEARCH_REQUEST "\"],"
                 "\"attributes\":[\"displayName\",\"userName\"],\"excludedAttributes\":[],"
                 "\"filter\":\"displayName sw \\\"smith\\\"\",\"startIndex\":1,\"count\":10,"
                 "\"sortBy\":\"userName\",\"sortOrder\":\"descending\"}",
                 -1, -1,
                 "filter=displayName%20sw%20%22smith%22&attributes=displayName%2CuserName&excludedAttributes="
                 "&sortBy=userName&sortOrder=descending&startIndex=1&count=10");
    /* Names are case-insensitive; a comma-separated string is a list too; unknown members are ignored. */
    expect_query("{\"FILTER\":\"userName eq \\\"a&b=c\\\"\",\"Attributes\":\"emails,name.givenName\",\"x\":1}",
                 -1, -1, "filter=userName%20eq%20%22a%26b%3Dc%22&attributes=emails%2Cname.givenName");
    /* The root search's window per type replaces startIndex and count. */
    expect_query("{\"startIndex\":50,\"count\":5,\"sortBy\":\"meta.created\"}", 3, 0,
                 "sortBy=meta.created&startIndex=3&count=0");
    expect_query("{\"filter\":\"emails[type eq \\\"work\\\"]\"}", 1, 100,
                 "filter=emails%5Btype%20eq%20%22work%22%5D&startIndex=1&count=100");

    expect_error("[]", "invalidSyntax");
    expect_error("{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"]}", "invalidSyntax");
    expect_error("{\"filter\":3}", "invalidValue");
    expect_error("{\"count\":\"10\"}", "invalidValue");
    expect_error("{\"startIndex\":1.5}", "invalidValue");
    expect_error("{\"attributes\":[\"a\",2]}", "invalidValue");
    expect_error("{\"sortOrder\":true}", "invalidValue");
    return UNIT_DONE();
}
