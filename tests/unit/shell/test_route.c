/* test_route.c — the route table (gateway/http/route.c): pattern syntax,
 * case-insensitive matching, specificity, captures, the Allow set, root rows. */
#include <stdlib.h>
#include <string.h>

#include "../../../gateway/http/route.h"
#include "unit.h"

static void h_list(s2l_req *req) { (void)req; }
static void h_create(s2l_req *req) { (void)req; }
static void h_item(s2l_req *req) { (void)req; }
static void h_search(s2l_req *req) { (void)req; }
static void h_schemas(s2l_req *req) { (void)req; }
static void h_token(s2l_req *req) { (void)req; }

static s2l_routes *table(void)
{
    static const int users_data = 1;
    const s2l_route rows[] = {
        {.pattern = "/Users", .methods = S2L_GET, .handler = h_list, .data = &users_data},
        {.pattern = "/Users", .methods = S2L_POST, .handler = h_create},
        {.pattern = "/Users/{}", .methods = S2L_GET | S2L_PUT | S2L_PATCH | S2L_DELETE, .handler = h_item},
        {.pattern = "/Users/.search", .methods = S2L_ANY_METHOD, .handler = h_search},
        {.pattern = "/Schemas/*", .methods = S2L_GET, .handler = h_schemas, .auth = S2L_AUTH_NONE},
        {.pattern = "/oauth/token", .methods = S2L_POST, .handler = h_token, .auth = S2L_AUTH_NONE,
         .flags = S2L_ROUTE_ROOT | S2L_ROUTE_RAW_BODY},
    };
    s2l_routes *rt = s2l_routes_create();
    for (size_t i = 0; rt && i < sizeof rows / sizeof rows[0]; i++)
        CHECK_INT(s2l_routes_add(rt, &rows[i]), 0);
    return rt;
}

/* The handler the route for (path, method) would run, the Allow set and the capture. */
static s2l_handler_fn *route_of(const s2l_routes *rt, const char *path, bool root, s2l_method m, unsigned *allow,
                                char *param, size_t plen)
{
    const char *p = NULL;
    size_t pl = 0;
    const s2l_route *r = s2l_routes_match(rt, path, root, m, allow, &p, &pl);
    snprintf(param, plen, "%.*s", p ? (int)pl : 4, p ? p : "NULL");
    return r ? r->handler : NULL;
}

static void test_matching(void)
{
    s2l_routes *rt = table();
    unsigned allow;
    char param[128];

    CHECK(route_of(rt, "/Users", false, S2L_GET, &allow, param, sizeof param) == h_list);
    CHECK_INT(allow, S2L_GET | S2L_POST);
    CHECK_STR(param, "NULL");
    CHECK(route_of(rt, "/uSeRs/", false, S2L_POST, &allow, param, sizeof param) == h_create); /* case, trailing '/' */
    CHECK(route_of(rt, "/Users", false, S2L_DELETE, &allow, param, sizeof param) == NULL);
    CHECK_INT(allow, S2L_GET | S2L_POST); /* 405 with Allow: GET, POST */

    CHECK(route_of(rt, "/USERS/2819c223-7f76", false, S2L_PATCH, &allow, param, sizeof param) == h_item);
    CHECK_STR(param, "2819c223-7f76");
    CHECK_INT(allow, S2L_GET | S2L_PUT | S2L_PATCH | S2L_DELETE);
    CHECK(route_of(rt, "/Users/abc", false, S2L_POST, &allow, param, sizeof param) == NULL);
    CHECK_INT(allow, S2L_GET | S2L_PUT | S2L_PATCH | S2L_DELETE);

    /* A literal beats "{}": /Users/.search is not the user ".search". */
    CHECK(route_of(rt, "/Users/.SEARCH", false, S2L_POST, &allow, param, sizeof param) == h_search);
    CHECK_INT(allow, S2L_ANY_METHOD);

    /* Deeper than any pattern, empty segments, unknown: no route (404). */
    CHECK(route_of(rt, "/Users/abc/def", false, S2L_GET, &allow, param, sizeof param) == NULL);
    CHECK_INT(allow, 0);
    CHECK(route_of(rt, "/Users//", false, S2L_GET, &allow, param, sizeof param) == NULL);
    CHECK_INT(allow, 0);
    CHECK(route_of(rt, "//Users", false, S2L_GET, &allow, param, sizeof param) == NULL);
    CHECK(route_of(rt, "/Groups", false, S2L_GET, &allow, param, sizeof param) == NULL);
    CHECK(route_of(rt, "", false, S2L_GET, &allow, param, sizeof param) == NULL);
    CHECK(route_of(rt, "/", false, S2L_GET, &allow, param, sizeof param) == NULL);

    /* "*" takes the rest, or nothing. */
    CHECK(route_of(rt, "/Schemas", false, S2L_GET, &allow, param, sizeof param) == h_schemas);
    CHECK_STR(param, "NULL");
    CHECK(route_of(rt, "/schemas/", false, S2L_GET, &allow, param, sizeof param) == h_schemas);
    CHECK_STR(param, "NULL");
    CHECK(route_of(rt, "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", false, S2L_GET, &allow, param,
                   sizeof param) == h_schemas);
    CHECK_STR(param, "urn:ietf:params:scim:schemas:core:2.0:User");
    CHECK(route_of(rt, "/Schemas/a/b/", false, S2L_GET, &allow, param, sizeof param) == h_schemas);
    CHECK_STR(param, "a/b");
    CHECK(route_of(rt, "/Schemas/x", false, S2L_POST, &allow, param, sizeof param) == NULL);
    CHECK_INT(allow, S2L_GET);

    /* Root rows match absolute paths only, relative rows never do. */
    CHECK(route_of(rt, "/oauth/token", true, S2L_POST, &allow, param, sizeof param) == h_token);
    CHECK(route_of(rt, "/oauth/token", false, S2L_POST, &allow, param, sizeof param) == NULL);
    CHECK(route_of(rt, "/Users", true, S2L_GET, &allow, param, sizeof param) == NULL);

    /* Data and flags come back with the row. */
    const char *p;
    size_t pl;
    const s2l_route *r = s2l_routes_match(rt, "/users", false, S2L_GET, &allow, &p, &pl);
    CHECK(r && r->data && *(const int *)r->data == 1 && r->auth == S2L_AUTH_REQUIRED);
    r = s2l_routes_match(rt, "/oauth/token", true, S2L_POST, &allow, &p, &pl);
    CHECK(r && r->auth == S2L_AUTH_NONE && (r->flags & S2L_ROUTE_RAW_BODY));
    s2l_routes_destroy(rt);
}

static void test_specificity(void)
{
    s2l_routes *rt = s2l_routes_create();
    const s2l_route rows[] = {
        {.pattern = "/a/*", .methods = S2L_GET, .handler = h_list},
        {.pattern = "/a", .methods = S2L_POST, .handler = h_create},
        {.pattern = "/a/{}", .methods = S2L_GET, .handler = h_item},
        {.pattern = "/a/{}/b", .methods = S2L_GET, .handler = h_search},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        CHECK_INT(s2l_routes_add(rt, &rows[i]), 0);
    unsigned allow;
    char param[64];
    /* The exact pattern wins over a "*" that takes nothing. */
    CHECK(route_of(rt, "/a", false, S2L_POST, &allow, param, sizeof param) == h_create);
    CHECK_INT(allow, S2L_POST);
    /* "{}" wins over "*" for one segment; "*" takes deeper paths. */
    CHECK(route_of(rt, "/a/x", false, S2L_GET, &allow, param, sizeof param) == h_item);
    CHECK(route_of(rt, "/a/x/b", false, S2L_GET, &allow, param, sizeof param) == h_search);
    CHECK_STR(param, "x");
    CHECK(route_of(rt, "/a/x/c", false, S2L_GET, &allow, param, sizeof param) == h_list);
    CHECK_STR(param, "x/c");

    /* Rows sharing a first segment need not be registered together. */
    CHECK_INT(s2l_routes_add(rt, &(s2l_route){.pattern = "/b", .methods = S2L_GET, .handler = h_schemas}), 0);
    CHECK_INT(s2l_routes_add(rt, &(s2l_route){.pattern = "/A/x/b", .methods = S2L_GET, .handler = h_token}), 0);
    CHECK(route_of(rt, "/a/x/b", false, S2L_GET, &allow, param, sizeof param) == h_token);
    CHECK(route_of(rt, "/a/y/b", false, S2L_GET, &allow, param, sizeof param) == h_search);
    CHECK(route_of(rt, "/B", false, S2L_GET, &allow, param, sizeof param) == h_schemas);
    CHECK(route_of(rt, "/a", false, S2L_POST, &allow, param, sizeof param) == h_create);
    s2l_routes_destroy(rt);
}

static void test_malformed_rows(void)
{
    s2l_routes *rt = s2l_routes_create();
    const s2l_route bad[] = {
        {.pattern = "/a/*/b", .methods = S2L_GET, .handler = h_list},   /* "*" not last */
        {.pattern = "/a//b", .methods = S2L_GET, .handler = h_list},    /* empty segment */
        {.pattern = "/a", .methods = 0, .handler = h_list},             /* no method */
        {.pattern = "/a", .methods = S2L_GET, .handler = NULL},         /* no handler */
        {.pattern = NULL, .methods = S2L_GET, .handler = h_list},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(s2l_routes_add(rt, &bad[i]), -1);
    unsigned allow;
    char param[8];
    CHECK(route_of(rt, "/a", false, S2L_GET, &allow, param, sizeof param) == NULL);
    /* Patterns are copied. */
    char pattern[16] = "/copied";
    CHECK_INT(s2l_routes_add(rt, &(s2l_route){.pattern = pattern, .methods = S2L_GET, .handler = h_list}), 0);
    strcpy(pattern, "/changed");
    CHECK(route_of(rt, "/copied", false, S2L_GET, &allow, param, sizeof param) == h_list);
    s2l_routes_destroy(rt);
    s2l_routes_destroy(NULL);
}

static void test_methods_format(void)
{
    char buf[96];
    s2l_methods_format(S2L_DELETE | S2L_GET | S2L_PATCH | S2L_PUT, buf, sizeof buf);
    CHECK_STR(buf, "GET, PUT, PATCH, DELETE");
    s2l_methods_format(S2L_POST | S2L_GET, buf, sizeof buf);
    CHECK_STR(buf, "GET, POST");
    s2l_methods_format(0, buf, sizeof buf);
    CHECK_STR(buf, "");
    s2l_methods_format(S2L_ANY_METHOD, buf, 12); /* cut at a whole name */
    CHECK_STR(buf, "GET, POST");
    CHECK_STR(s2l_method_name(S2L_PATCH), "PATCH");
}

int main(void)
{
    test_matching();
    test_specificity();
    test_malformed_rows();
    test_methods_format();
    return UNIT_DONE();
}
