/* fuzz_route.c — libFuzzer target for what the router makes of a request
 * target: the path and query split at '?', percent-decoding, the NUL check
 * (s2l_uri_has_nul, s2l_query.nul_name), the query parameters, and the route
 * table (gateway/http/route.c) with the rows the gateway registers for the
 * default mapping (resources.c), matched for every method.
 *
 * Checks, besides memory safety:
 *  - a decoded path or query value never holds a NUL (it is refused, or
 *    "%00" stays as text), and nul_name / has_nul are set exactly when the raw
 *    text holds "%00";
 *  - matching is consistent: a route is returned only for a method in the
 *    Allow set; the same path in upper case matches the same row (literals
 *    are case-insensitive) and, without a trailing '/', the same path with
 *    one does too; a captured parameter lies inside the path.
 *
 * Links the shell library (route.c), not only s2l_core: see CMakeLists.txt.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/http/route.h"
#include "s2l/http_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void handler(s2l_req *req)
{
    (void)req;
}

static s2l_routes *table(void)
{
    static s2l_routes *rt;
    if (rt)
        return rt;
    rt = s2l_routes_create();
    static const s2l_route rows[] = {
        {.pattern = "/ServiceProviderConfig/*", .methods = S2L_GET, .auth = S2L_AUTH_NONE},
        {.pattern = "/serviceConfiguration/*", .methods = S2L_GET, .auth = S2L_AUTH_NONE},
        {.pattern = "/Schemas/*", .methods = S2L_GET, .auth = S2L_AUTH_NONE},
        {.pattern = "/ResourceTypes/*", .methods = S2L_GET, .auth = S2L_AUTH_NONE},
        {.pattern = "/Bulk", .methods = S2L_POST, .flags = S2L_ROUTE_RAW_BODY},
        {.pattern = "/Me/*", .methods = S2L_ANY_METHOD},
        {.pattern = "/.search", .methods = S2L_POST},
        {.pattern = "/oauth/token", .methods = S2L_POST, .flags = S2L_ROUTE_ROOT | S2L_ROUTE_RAW_BODY,
         .auth = S2L_AUTH_NONE},
        {.pattern = "/Users", .methods = S2L_GET},
        {.pattern = "/Users", .methods = S2L_POST},
        {.pattern = "/Users/{}", .methods = S2L_GET},
        {.pattern = "/Users/{}", .methods = S2L_PUT},
        {.pattern = "/Users/{}", .methods = S2L_PATCH},
        {.pattern = "/Users/{}", .methods = S2L_DELETE},
        {.pattern = "/Users/.search", .methods = S2L_POST},
        {.pattern = "/Groups", .methods = S2L_GET | S2L_POST},
        {.pattern = "/Groups/{}", .methods = S2L_GET | S2L_PUT | S2L_PATCH | S2L_DELETE},
        {.pattern = "/Groups/.search", .methods = S2L_POST},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        s2l_route r = rows[i];
        r.handler = handler;
        if (s2l_routes_add(rt, &r) < 0)
            abort();
    }
    return rt;
}

static void check_match(const s2l_routes *rt, const char *path, bool root)
{
    static const s2l_method methods[] = {S2L_GET, S2L_POST, S2L_PUT, S2L_PATCH, S2L_DELETE,
                                         S2L_HEAD, S2L_OPTIONS, S2L_TRACE, S2L_CONNECT};
    size_t len = strlen(path);
    char *upper = strdup(path), *slash = malloc(len + 2);
    if (upper == NULL || slash == NULL)
        abort();
    for (char *p = upper; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    snprintf(slash, len + 2, "%s/", path);
    for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
        unsigned allow = 0, allow2 = 0;
        const char *param = NULL, *param2 = NULL;
        size_t plen = 0, plen2 = 0;
        const s2l_route *r = s2l_routes_match(rt, path, root, methods[m], &allow, &param, &plen);
        if (r && (!(allow & methods[m]) || !(r->methods & methods[m])))
            abort();
        if (r == NULL && (allow & methods[m]))
            abort();
        if (param && (param < path || param + plen > path + len))
            abort();
        if (r && param == NULL && strstr(r->pattern, "{}") != NULL)
            abort();
        const s2l_route *ru = s2l_routes_match(rt, upper, root, methods[m], &allow2, &param2, &plen2);
        if (ru != r || allow2 != allow)
            abort();
        if (len > 0 && path[len - 1] != '/') {
            const s2l_route *rs = s2l_routes_match(rt, slash, root, methods[m], &allow2, &param2, &plen2);
            if (rs != r || allow2 != allow)
                abort();
        }
    }
    free(upper);
    free(slash);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *target = malloc(size + 1);
    if (target == NULL)
        return 0;
    memcpy(target, data, size);
    target[size] = 0; /* the request line holds no NUL (the framing checks refuse it) */
    char *q = strchr(target, '?');
    if (q)
        *q++ = 0;

    bool raw_nul = strstr(target, "%00") != NULL;
    if (s2l_uri_has_nul(target) != raw_nul)
        abort();
    char *path = s2l_uri_decode(target, false);
    if (path == NULL) {
        free(target);
        return 0;
    }
    check_match(table(), path, false);
    check_match(table(), path, true);

    s2l_query query;
    if (q && s2l_query_parse(q, &query) == 0) {
        bool any_nul = false;
        for (size_t i = 0; i < query.n; i++) {
            /* decoding never lengthens, and a name is never empty */
            if (query.params[i].name[0] == 0 || strlen(query.params[i].value) > strlen(q))
                abort();
            any_nul = any_nul || strstr(query.params[i].name, "%00") || strstr(query.params[i].value, "%00");
        }
        /* nul_name only when the raw text holds "%00" (and then the decoded text shows it) */
        if (query.nul_name && (strstr(q, "%00") == NULL || !any_nul))
            abort();
        if (query.nul_name && s2l_query_get(&query, query.nul_name) == NULL)
            abort();
        s2l_query_fini(&query);
    }
    free(path);
    free(target);
    return 0;
}
