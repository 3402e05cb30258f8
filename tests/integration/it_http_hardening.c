/* it_http_hardening.c — issue 11, HTTP side, through the real gateway on a
 * real slapd, with the directory checked directly:
 *  - a NUL (raw, or %00) in the path, a query value or a header is a SCIM 400
 *    and never matches a shorter id or filter (the reproducers of items 3-5:
 *    "filter=%00..." listed every user, "DELETE /Users/<id>%00junk" deleted
 *    <id>, "POST /Users/%00" created a user, a valid token + NUL + junk was
 *    accepted); an empty filter= is 400 invalidFilter;
 *  - two Authorization headers are 400 invalidSyntax, even when both hold the
 *    valid token (item 6: the first one used to win);
 *  - HTTP framing errors get a SCIM error, not evhttp's HTML page, and close
 *    the connection (item 10): bad chunk sizes, conflicting Content-Length,
 *    Content-Length with Transfer-Encoding, a declared body past any limit
 *    (413), a request line or headers too long (414/431), unknown methods
 *    (501), other HTTP versions (505), a body on HEAD;
 *  - what stays valid keeps working: chunked bodies with extensions and
 *    trailers, HTTP/1.0, pipelined requests on one connection, Expect:
 *    100-continue, Connection: close.
 * Every refused request leaves the directory exactly as it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_users_common.h"

static it_env env;

#define USER(name) "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"" name "\"}"

/* A raw request; the status and SCIM shape of its answer checked. */
static void raw_error(const char *what, const void *req, size_t len, int status, const char *scim_type)
{
    char *before = h_ldap_snapshot(env.s);
    h_resp r = h_http_raw(env.g, req, len);
    fprintf(stderr, "-- %s: %d\n", what, r.status);
    it_check_error_(&r, status, scim_type, __FILE__, __LINE__);
    /* the guard closes the connection after a framing error */
    H_CHECK(h_header(&r, "Connection") != NULL && strcmp(h_header(&r, "Connection"), "close") == 0);
    char *after = h_ldap_snapshot(env.s);
    H_CHECK(h_snapshot_same(before, after));
    free(before);
    free(after);
    h_resp_free(&r);
}

static void raw_error_s(const char *what, const char *req, int status, const char *scim_type)
{
    raw_error(what, req, strlen(req), status, scim_type);
}

/* An HTTP request (h_http) that must fail without changing the directory. */
static void http_error(const char *method, const char *path, const char *body, const char *const *headers,
                       int status, const char *scim_type)
{
    char *before = h_ldap_snapshot(env.s);
    h_resp r = h_http(env.g, method, path, body, headers);
    fprintf(stderr, "-- %s %s: %d %s\n", method, path, r.status, r.body ? r.body : "");
    it_check_error_(&r, status, scim_type, __FILE__, __LINE__);
    char *after = h_ldap_snapshot(env.s);
    H_CHECK(h_snapshot_same(before, after));
    free(before);
    free(after);
    h_resp_free(&r);
}

static void nul_bytes(const char *id)
{
    char path[256];
    /* item 3: the filter used to be cut at the NUL, and an empty one means none */
    h_resp r = h_http(env.g, "GET", "/Users?filter=%00userName%20eq%20%22nobody%22", NULL, NULL);
    IT_CHECK_ERROR(r, 400, "invalidFilter");
    H_CHECK(h_jget(r.json, "Resources") == NULL);
    h_resp_free(&r);
    r = h_http(env.g, "GET", "/Users?filter=", NULL, NULL);
    IT_CHECK_ERROR(r, 400, "invalidFilter");
    h_resp_free(&r);
    r = h_http(env.g, "GET", "/Users?startIndex=1&filter=&count=5", NULL, NULL);
    IT_CHECK_ERROR(r, 400, "invalidFilter");
    h_resp_free(&r);
    r = h_http(env.g, "GET", "/Users?filter=userName%20eq%20%22nul.a%00%22", NULL, NULL);
    IT_CHECK_ERROR(r, 400, "invalidFilter");
    h_resp_free(&r);
    r = h_http(env.g, "GET", "/Users?count=%00", NULL, NULL);
    IT_CHECK_ERROR(r, 400, "invalidValue");
    h_resp_free(&r);
    /* "%2500" is the text "%00": a filter value like any other */
    r = h_http(env.g, "GET", "/Users?filter=userName%20eq%20%22nul%2500%22", NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(h_jint(r.json, "totalResults", -1), 0);
    h_resp_free(&r);
    /* Entra's bare flag and a normal filter still work */
    r = h_http(env.g, "GET", "/Users?aadOptscim062020&filter=userName+eq+%22nul.a%22", NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(h_jint(r.json, "totalResults", -1), 1);
    h_resp_free(&r);

    /* item 4: ids and endpoints */
    snprintf(path, sizeof path, "/Users/%s%%00junk", id);
    http_error("DELETE", path, NULL, NULL, 400, "invalidValue");
    H_CHECK_INT(h_ldap_count(env.s, H_PEOPLE, "(uid=nul.a)"), 1);
    http_error("GET", path, NULL, NULL, 400, "invalidValue");
    http_error("POST", "/Users/%00", USER("nul.created"), NULL, 400, "invalidValue");
    http_error("POST", "/Users%00", USER("nul.created"), NULL, 400, "invalidValue");
    H_CHECK_INT(h_ldap_count(env.s, H_PEOPLE, "(uid=nul.created)"), 0);
    snprintf(path, sizeof path, "/Users%%00/%s", id);
    http_error("GET", path, NULL, NULL, 400, "invalidValue");
    snprintf(path, sizeof path, "/Users/%s%%00", id);
    http_error("PATCH", path,
               "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"title\","
               "\"value\":\"x\"}]}",
               NULL, 400, "invalidValue");

    /* item 5: a raw NUL after a valid token (and anywhere in a header or the line) */
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s/Users/%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s",
                     h_gw_base_path(env.g), id, H_TOKEN);
    memcpy(req + n, "\0junk\r\n\r\n", 9);
    raw_error("token + NUL + junk", req, (size_t)n + 9, 400, "invalidSyntax");
    n = snprintf(req, sizeof req, "DELETE %s/Users/%s", h_gw_base_path(env.g), id);
    n += snprintf(req + n + 1, sizeof req - (size_t)n - 1, "junk HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
                  H_TOKEN) + 1; /* the NUL stays in between */
    raw_error("NUL in the request line", req, (size_t)n, 400, "invalidSyntax");
    H_CHECK_INT(h_ldap_count(env.s, H_PEOPLE, "(uid=nul.a)"), 1);

    /* the user is still there and reachable */
    snprintf(path, sizeof path, "/Users/%s", id);
    r = h_http(env.g, "GET", path, NULL, NULL);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
}

static void two_authorizations(const char *id)
{
    char path[128], good[128];
    snprintf(path, sizeof path, "/Users/%s", id);
    snprintf(good, sizeof good, "Authorization: Bearer %s", H_TOKEN);
    const char *both_good[] = {good, good, NULL};
    http_error("GET", path, NULL, both_good, 400, "invalidSyntax");
    http_error("DELETE", path, NULL, both_good, 400, "invalidSyntax");
    const char *good_bad[] = {good, "Authorization: Bearer wrong-token-0000000000", NULL};
    http_error("GET", path, NULL, good_bad, 400, "invalidSyntax");
    const char *bad_good[] = {"Authorization: Bearer wrong-token-0000000000", good, NULL};
    http_error("POST", "/Users", USER("auth.twice"), bad_good, 400, "invalidSyntax");
    /* public routes too: auth never picks one */
    http_error("GET", "/ServiceProviderConfig", NULL, both_good, 400, "invalidSyntax");
    H_CHECK_INT(h_ldap_count(env.s, H_PEOPLE, "(uid=nul.a)"), 1);
    H_CHECK_INT(h_ldap_count(env.s, H_PEOPLE, "(uid=auth.twice)"), 0);
}

static void framing(void)
{
    char head[512];
    const char *bp = h_gw_base_path(env.g);
    snprintf(head, sizeof head,
             "POST %s/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/scim+json\r\n",
             bp, H_TOKEN);
    char req[4096];
    static const struct {
        const char *what, *rest;
        int status;
        const char *scim_type;
    } cases[] = {
        {"bad chunk size", "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400, "invalidSyntax"},
        {"negative chunk size", "Transfer-Encoding: chunked\r\n\r\n-2\r\n{}\r\n0\r\n\r\n", 400, "invalidSyntax"},
        {"chunk longer than its size", "Transfer-Encoding: chunked\r\n\r\n1\r\n{}\r\n0\r\n\r\n", 400,
         "invalidSyntax"},
        {"huge chunk size", "Transfer-Encoding: chunked\r\n\r\nfffffffffff\r\n", 413, ""},
        {"two Content-Length", "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{} ", 400, "invalidSyntax"},
        {"equal Content-Length twice", "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400, "invalidSyntax"},
        {"Content-Length list", "Content-Length: 2, 2\r\n\r\n{}", 400, "invalidSyntax"},
        {"Content-Length and chunked", "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
         400, "invalidSyntax"},
        {"gzip transfer coding", "Transfer-Encoding: gzip\r\n\r\n", 501, ""},
        {"declared body past every limit", "Content-Length: 99999999999\r\n\r\n", 413, ""},
        {"declared body past 2 x limit + 64 KiB", "Content-Length: 2162689\r\n\r\n", 413, ""},
        {"obs-fold", "X-A: a\r\n b\r\nContent-Length: 2\r\n\r\n{}", 400, "invalidSyntax"},
        {"header without a colon", "Oops\r\nContent-Length: 2\r\n\r\n{}", 400, "invalidSyntax"},
        {"Expect other than 100-continue", "Expect: something\r\nContent-Length: 2\r\n\r\n{}", 417, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(req, sizeof req, "%s%s", head, cases[i].rest);
        raw_error_s(cases[i].what, req, cases[i].status, cases[i].scim_type);
    }
    raw_error_s("unknown method", "BREW /scim/v2/Users HTTP/1.1\r\nHost: x\r\n\r\n", 501, "");
    raw_error_s("HTTP/2.0", "GET /scim/v2/Users HTTP/2.0\r\nHost: x\r\n\r\n", 505, "");
    raw_error_s("HTTP/0.9-style line", "GET /scim/v2/Users\r\n\r\n", 400, "invalidSyntax");
    raw_error_s("space in the target", "GET /scim/v2/Us ers HTTP/1.1\r\nHost: x\r\n\r\n", 400, "invalidSyntax");
    /* HEAD with a body: 400 without a body (an answer to HEAD has none) */
    snprintf(req, sizeof req, "HEAD %s/ServiceProviderConfig HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nGET /", bp);
    h_resp r = h_http_raw(env.g, req, strlen(req));
    H_CHECK_STATUS(r, 400);
    H_CHECK(r.body_len == 0);
    H_CHECK_STR(h_header(&r, "Connection"), "close");
    h_resp_free(&r);

    /* Over-long request line and headers (limits.max_header_bytes, 64 KiB). */
    size_t big = 70 * 1024;
    char *huge = malloc(big + 256);
    H_REQUIRE(huge != NULL);
    int n = snprintf(huge, big + 256, "GET %s/Users?filter=", bp);
    memset(huge + n, 'a', big);
    n += (int)big;
    n += snprintf(huge + n, 256, " HTTP/1.1\r\nHost: x\r\n\r\n");
    raw_error("request line of 70 KiB", huge, (size_t)n, 414, "");
    n = snprintf(huge, big + 256, "GET %s/Users HTTP/1.1\r\nHost: x\r\n", bp);
    while ((size_t)n < big)
        n += snprintf(huge + n, big + 256 - (size_t)n, "X-Filler-%06d: %0100d\r\n", n, 0);
    n += snprintf(huge + n, big + 256 - (size_t)n, "\r\n");
    raw_error("headers of 70 KiB", huge, (size_t)n, 431, "");
    free(huge);
}

/* What stays valid: chunked with extensions and trailers, HTTP/1.0, Expect. */
static void still_valid(void)
{
    const char *bp = h_gw_base_path(env.g);
    char req[2048];
    const char *body = USER("chunked.user");
    size_t blen = strlen(body);
    size_t half = blen / 2;
    snprintf(req, sizeof req,
             "POST %s/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/scim+json\r\n"
             "Transfer-Encoding: chunked\r\n\r\n%zx;ext=1\r\n%.*s\r\n%zX\r\n%s\r\n0\r\nX-Checksum: none\r\n\r\n",
             bp, H_TOKEN, half, (int)half, body, blen - half, body + half);
    h_resp r = h_http_raw(env.g, req, strlen(req));
    H_CHECK_STATUS(r, 201);
    H_CHECK_STR(h_jstr(r.json, "userName"), "chunked.user");
    h_resp_free(&r);
    H_CHECK_INT(h_ldap_count(env.s, H_PEOPLE, "(uid=chunked.user)"), 1);

    /* HTTP/1.0 (no keep-alive): answered, then closed */
    snprintf(req, sizeof req, "GET %s/ServiceProviderConfig HTTP/1.0\r\n\r\n", bp);
    r = h_http_raw(env.g, req, strlen(req));
    H_CHECK_STATUS(r, 200);
    H_CHECK(h_jget(r.json, "patch") != NULL);
    h_resp_free(&r);

    /* Expect: 100-continue with the body sent at once */
    body = USER("expect.user");
    snprintf(req, sizeof req,
             "POST %s/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/scim+json\r\n"
             "Expect: 100-continue\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
             bp, H_TOKEN, strlen(body), body);
    r = h_http_raw(env.g, req, strlen(req));
    /* a 100 Continue may come first: the final answer is what counts */
    H_CHECK(r.status == 201 || r.status == 100);
    h_resp_free(&r);
    H_CHECK_INT(h_ldap_count(env.s, H_PEOPLE, "(uid=expect.user)"), 1);
}

int main(void)
{
    if (!it_env_start(&env, NULL))
        return H_DONE();
    char *id = IT_CREATE(env.g, USER("nul.a"));
    H_REQUIRE(id != NULL);
    char *id2 = IT_CREATE(env.g, USER("nul.b"));
    H_REQUIRE(id2 != NULL);

    nul_bytes(id);
    two_authorizations(id);
    framing();
    still_valid();
    /* the gateway logged each refusal as one quoted line */
    H_CHECK(h_gw_log_wait(env.g, "event=http_refused status=400 reason=\"more than one Content-Length header\"", 1,
                          5000));

    free(id);
    free(id2);
    it_env_stop(&env);
    return H_DONE();
}
