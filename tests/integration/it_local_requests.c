/* it_local_requests.c — requests without an HTTP connection (s2l_req_run_local,
 * what Bulk runs its operations through) take exactly the path of a direct
 * request: the same router (404, 405 + Allow, 401, public routes), the same
 * handlers and LDAP operations on a real slapd, the same reply. The gateway
 * is assembled in-process (s2l_gateway_init, as main does) next to the real
 * binary on the same slapd and configuration, and their answers are compared.
 * Access control is the router's too: a sub-request carrying a read-only
 * credential (its parent's) may read but not write, like that credential
 * over HTTP. A local request's reply is never delivered inside the call that
 * started it, and an aborted one never calls back (ASan checks what it leaves
 * behind).
 *
 * Needs the shell (s2l_shell + libevent) linked in: see S2L_IT_LINKS_SHELL. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef S2L_IT_LINKS_SHELL

#include <event2/event.h>
#include <strings.h>

#include "../../gateway/gateway.h"
#include "../../gateway/http/request.h"
#include "s2l/auth.h"
#include "s2l/config.h"
#include "s2l/mapping.h"

#define URN_USER "urn:ietf:params:scim:schemas:core:2.0:User"
#define READER_TOKEN "local-reader-token-0123456789"
#define USERS_ONLY_TOKEN "local-users-only-token-0123456789"

static struct event_base *base;
static s2l_gateway gw;

/* What a local request answered. */
typedef struct captured {
    bool done;
    int status;
    json_t *body;
    char *headers[16];           /* name, value, ... */
} captured;

static void on_done(void *arg, const s2l_reply *reply)
{
    captured *c = arg;
    h_check_(!c->done, __FILE__, __LINE__, "a local request answered twice");
    c->done = true;
    c->status = reply->status;
    c->body = json_incref(reply->body);
    for (size_t i = 0, k = 0; reply->headers && reply->headers[i] && reply->headers[i + 1] && k + 2 < 16; i += 2) {
        c->headers[k++] = strdup(reply->headers[i]);
        c->headers[k++] = strdup(reply->headers[i + 1]);
    }
}

static const char *cap_header(const captured *c, const char *name)
{
    for (size_t i = 0; i + 1 < 16 && c->headers[i]; i += 2)
        if (strcasecmp(c->headers[i], name) == 0)
            return c->headers[i + 1];
    return NULL;
}

static void cap_free(captured *c)
{
    json_decref(c->body);
    for (size_t i = 0; i < 16; i++)
        free(c->headers[i]);
    memset(c, 0, sizeof *c);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
}

/* Runs the loop until *flag or timeout_ms. */
static bool run_until(const bool *flag, double timeout_ms)
{
    double deadline = h_now_ms() + timeout_ms;
    while (!*flag && h_now_ms() < deadline)
        event_base_loop(base, EVLOOP_ONCE);
    return *flag;
}

/* Runs one local request to its end. */
static void run(captured *c, s2l_method method, const char *path, const char *query, const json_t *body,
                const char *const *headers, bool authenticated, const char *base_url)
{
    s2l_local_req lr = {.method = method,
                        .path = path,
                        .query = query,
                        .headers = headers,
                        .body = body,
                        .base_url = base_url,
                        .authenticated = authenticated};
    memset(c, 0, sizeof *c);
    s2l_req *req = s2l_req_run_local(&gw, &lr, on_done, c);
    H_CHECK(req != NULL);
    /* Never inside the start call, even for a reply the router gives at once. */
    h_check_(!c->done, __FILE__, __LINE__, "%s %s answered inside s2l_req_run_local", s2l_method_name(method),
             path);
    h_check_(run_until(&c->done, 20000), __FILE__, __LINE__, "%s %s: no answer", s2l_method_name(method), path);
}

static void check_error(const captured *c, int status, const char *what)
{
    h_check_(c->status == status, __FILE__, __LINE__, "%s: status %d, want %d", what, c->status, status);
    const char *urn = h_jstr(c->body, "schemas[0]");
    h_check_(urn && strcmp(urn, "urn:ietf:params:scim:api:messages:2.0:Error") == 0 && h_jstr(c->body, "detail"),
             __FILE__, __LINE__, "%s: not a SCIM error", what);
}

static bool pool_up(void)
{
    double deadline = h_now_ms() + 10000;
    while (!s2l_pool_is_up(gw.pool) && h_now_ms() < deadline)
        event_base_loop(base, EVLOOP_ONCE);
    return s2l_pool_is_up(gw.pool);
}

/* The same requests, local and over HTTP, give the same answers. */
static void test_same_as_http(h_gw *g, h_slapd *s)
{
    const char *bu = h_gw_base_url(g);
    json_t *user = json_pack("{s:[s], s:s, s:{s:s, s:s}, s:[{s:s, s:s, s:b}]}", "schemas", URN_USER, "userName",
                             "local.user", "name", "givenName", "Lo", "familyName", "Cal", "emails", "value",
                             "local.user@example.org", "type", "work", "primary", 1);
    captured c;

    run(&c, S2L_POST, "/Users", NULL, user, NULL, true, bu);
    H_CHECK_INT(c.status, 201);
    const char *id = h_jstr(c.body, "id");
    H_REQUIRE(id != NULL);
    char *uid = strdup(id);
    char location[512];
    snprintf(location, sizeof location, "%s/Users/%s", bu, uid);
    H_CHECK_STR(cap_header(&c, "Location"), location);
    H_CHECK(cap_header(&c, "ETag") != NULL);
    cap_free(&c);
    /* Written to the directory, as a direct POST would. */
    json_t *e = h_ldap_entry(s, "uid=local.user," H_PEOPLE);
    H_CHECK(e != NULL);
    H_CHECK_STR(h_ldap_attr(e, "entryuuid"), uid);
    H_CHECK_STR(h_ldap_attr(e, "mail"), "local.user@example.org");
    json_decref(e);

    /* GET by id: the same body and ETag as over HTTP. */
    char path[256];
    snprintf(path, sizeof path, "/Users/%s", uid);
    run(&c, S2L_GET, path, NULL, NULL, NULL, true, bu);
    H_CHECK_INT(c.status, 200);
    h_resp r = h_http(g, "GET", path, NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK(c.body && r.json && json_equal(c.body, r.json));
    H_CHECK_STR(cap_header(&c, "ETag"), h_header(&r, "ETag"));
    h_resp_free(&r);
    cap_free(&c);

    /* A filtered list, with '+' as a space and a bare flag (as Entra sends). */
    run(&c, S2L_GET, "/Users", "aadOptscim062020&filter=userName+eq+%22local.user%22", NULL, NULL, true, bu);
    H_CHECK_INT(c.status, 200);
    H_CHECK_INT(h_jint(c.body, "totalResults", -1), 1);
    H_CHECK_STR(h_jstr(c.body, "Resources[0].id"), uid);
    r = h_http(g, "GET", "/Users?aadOptscim062020&filter=userName+eq+%22local.user%22", NULL, NULL);
    H_CHECK(c.body && r.json && json_equal(c.body, r.json));
    h_resp_free(&r);
    cap_free(&c);

    /* PATCH through the same update state machine: a rename. */
    json_t *patch = json_pack("{s:[s], s:[{s:s, s:s, s:s}]}", "schemas",
                              "urn:ietf:params:scim:api:messages:2.0:PatchOp", "Operations", "op", "replace", "path",
                              "userName", "value", "local.renamed");
    run(&c, S2L_PATCH, path, NULL, patch, NULL, true, bu);
    H_CHECK_INT(c.status, 200);
    H_CHECK_STR(h_jstr(c.body, "userName"), "local.renamed");
    cap_free(&c);
    e = h_ldap_entry(s, "uid=local.renamed," H_PEOPLE);
    H_CHECK(e != NULL);
    H_CHECK_STR(h_ldap_attr(e, "entryuuid"), uid);
    json_decref(e);

    /* Errors come from the same places: the router, the handlers. */
    run(&c, S2L_PUT, "/Users", NULL, user, NULL, true, bu);
    check_error(&c, 405, "PUT /Users");
    H_CHECK_STR(cap_header(&c, "Allow"), "GET, POST");
    cap_free(&c);
    run(&c, S2L_GET, "/Nothing", NULL, NULL, NULL, true, bu);
    check_error(&c, 404, "GET /Nothing");
    cap_free(&c);
    run(&c, S2L_GET, "/Users/not-a-uuid", NULL, NULL, NULL, true, bu);
    check_error(&c, 404, "GET /Users/not-a-uuid");
    cap_free(&c);
    run(&c, S2L_POST, "/Users", NULL, user, NULL, true, bu); /* the old userName is free again... */
    H_CHECK_INT(c.status, 201);
    cap_free(&c);
    run(&c, S2L_POST, "/Users", NULL, user, NULL, true, bu); /* ...once */
    check_error(&c, 409, "POST /Users twice");
    H_CHECK_STR(h_jstr(c.body, "scimType"), "uniqueness");
    cap_free(&c);
    json_t *not_object = json_pack("[s]", "x");
    run(&c, S2L_POST, "/Users", NULL, not_object, NULL, true, bu);
    check_error(&c, 400, "POST /Users with an array");
    cap_free(&c);
    json_decref(not_object);

    json_decref(patch);
    json_decref(user);
    free(uid);
}

/* Authentication is the route's: a local request the caller does not vouch
 * for needs credentials like any other; public routes need none. */
static void test_authentication(void)
{
    captured c;
    run(&c, S2L_GET, "/Users", "count=1", NULL, NULL, false, "");
    check_error(&c, 401, "GET /Users without a token");
    H_CHECK(cap_header(&c, "WWW-Authenticate") != NULL);
    cap_free(&c);

    const char *bad[] = {"Authorization", "Bearer not-the-token-at-all", NULL};
    run(&c, S2L_GET, "/Users", "count=1", NULL, bad, false, "");
    check_error(&c, 401, "GET /Users with a wrong token");
    cap_free(&c);

    const char *good[] = {"authorization", "Bearer " H_TOKEN, NULL};
    run(&c, S2L_GET, "/Users", "count=1", NULL, good, false, "");
    H_CHECK_INT(c.status, 200);
    cap_free(&c);

    run(&c, S2L_GET, "/ServiceProviderConfig", NULL, NULL, NULL, false, "https://scim.example.org/scim/v2");
    H_CHECK_INT(c.status, 200);
    H_CHECK_STR(h_jstr(c.body, "meta.location"), "https://scim.example.org/scim/v2/ServiceProviderConfig");
    cap_free(&c);
}

/* The credential a parent request authenticated with, from the in-process
 * gateway's auth state (borrowed from gw.auth). */
static const s2l_auth_cred *cred_for(const char *token)
{
    char header[128];
    snprintf(header, sizeof header, "Bearer %s", token);
    s2l_auth_input in = {.authorization = header, .now_ms = 0};
    s2l_auth_decision d;
    s2l_auth_authenticate(gw.auth, &in, &d);
    H_CHECK_INT(d.status, 0);
    return d.cred;
}

/* read_only and resource_types apply to a sub-request's credential (checked
 * by the router before any handler runs: LDAP is unchanged), and to a local
 * request that authenticates itself; a vouched request without a credential
 * is a trusted caller's. */
static void test_access(h_slapd *s, const char *bu)
{
    json_t *user = json_pack("{s:[s], s:s}", "schemas", URN_USER, "userName", "local.denied");
    json_t *group = json_pack("{s:[s], s:s}", "schemas", "urn:ietf:params:scim:schemas:core:2.0:Group",
                              "displayName", "local.denied.group");
    s2l_local_req lr = {.method = S2L_POST, .path = "/Users", .body = user, .base_url = bu, .authenticated = true,
                        .auth = gw.auth, .cred = cred_for(READER_TOKEN)};
    captured c = {0};
    char *before = h_ldap_snapshot(s);

    H_REQUIRE(s2l_req_run_local(&gw, &lr, on_done, &c) != NULL);
    H_CHECK(run_until(&c.done, 20000));
    check_error(&c, 403, "POST /Users with a read-only credential");
    H_CHECK_STR(h_jstr(c.body, "detail"), "this credential is read-only");
    cap_free(&c);
    /* ... before the method is looked at, as over HTTP */
    lr.method = S2L_PUT;
    H_REQUIRE(s2l_req_run_local(&gw, &lr, on_done, &c) != NULL);
    H_CHECK(run_until(&c.done, 20000));
    check_error(&c, 403, "PUT /Users with a read-only credential");
    cap_free(&c);
    /* reading is fine */
    lr.method = S2L_GET;
    lr.body = NULL;
    lr.query = "count=1";
    H_REQUIRE(s2l_req_run_local(&gw, &lr, on_done, &c) != NULL);
    H_CHECK(run_until(&c.done, 20000));
    H_CHECK_INT(c.status, 200);
    cap_free(&c);

    /* resource_types: Users only */
    s2l_local_req lg = {.method = S2L_POST, .path = "/Groups", .body = group, .base_url = bu,
                        .authenticated = true, .auth = gw.auth, .cred = cred_for(USERS_ONLY_TOKEN)};
    H_REQUIRE(s2l_req_run_local(&gw, &lg, on_done, &c) != NULL);
    H_CHECK(run_until(&c.done, 20000));
    check_error(&c, 403, "POST /Groups with a Users-only credential");
    cap_free(&c);

    /* not vouched for: the router authenticates the header, then checks access */
    const char *reader[] = {"Authorization", "Bearer " READER_TOKEN, NULL};
    run(&c, S2L_POST, "/Users", NULL, user, reader, false, bu);
    check_error(&c, 403, "POST /Users authenticated as the reader");
    cap_free(&c);

    char *after = h_ldap_snapshot(s);
    H_CHECK(h_snapshot_same(before, after));
    free(before);
    free(after);

    /* vouched for without a credential: a trusted caller */
    run(&c, S2L_POST, "/Groups", NULL, group, NULL, true, bu);
    H_CHECK_INT(c.status, 201);
    cap_free(&c);
    json_decref(user);
    json_decref(group);
}

/* An aborted local request never calls back and leaves nothing behind, at
 * any point: before it started, and with LDAP operations in flight. */
static void test_abort(void)
{
    captured c = {0};
    s2l_local_req lr = {.method = S2L_GET, .path = "/Users", .query = "count=5", .authenticated = true};

    s2l_req *req = s2l_req_run_local(&gw, &lr, on_done, &c);
    H_REQUIRE(req != NULL);
    s2l_req_abort(req); /* before its first loop turn */

    req = s2l_req_run_local(&gw, &lr, on_done, &c);
    H_REQUIRE(req != NULL);
    event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK); /* routed: its search is in flight */
    s2l_req_abort(req);

    bool never = false;
    run_until(&never, 300);
    H_CHECK(!c.done);

    /* A short deadline answers 503 + Retry-After through the same reply path. */
    lr.timeout_ms = 1;
    lr.path = "/Users";
    lr.query = NULL;
    req = s2l_req_run_local(&gw, &lr, on_done, &c);
    H_REQUIRE(req != NULL);
    H_CHECK(run_until(&c.done, 5000));
    /* 1 ms is usually too short for the search; a fast directory may still make it. */
    H_CHECK(c.status == 503 || c.status == 200);
    if (c.status == 503)
        H_CHECK(cap_header(&c, "Retry-After") != NULL);
    cap_free(&c);
}

int main(void)
{
    h_slapd *s = h_slapd_start(NULL);
    H_REQUIRE(s != NULL);
    char why[256];
    if (!h_gw_can_run(s, why, sizeof why)) {
        const char *require = getenv("S2L_REQUIRE_GATEWAY");
        if (require && strcmp(require, "1") == 0)
            H_CHECK(!"the gateway binary must run (S2L_REQUIRE_GATEWAY=1)");
        H_SKIP("%s", why);
        h_slapd_destroy(s);
        return H_DONE();
    }
    /* the harness's token plus a read-only and a Users-only credential */
    h_gw *g = h_gw_start(s, "{\"auth\":{\"credentials\":["
                            "{\"name\":\"reader\",\"kind\":\"bearer\",\"token\":\"" READER_TOKEN "\","
                            "\"read_only\":true},"
                            "{\"name\":\"users-only\",\"kind\":\"bearer\",\"token\":\"" USERS_ONLY_TOKEN "\","
                            "\"resource_types\":[\"Users\"]}]}}");
    H_REQUIRE(g != NULL);

    char err[1024] = "";
    s2l_config *cfg = s2l_config_load(h_gw_config_path(g), err, sizeof err);
    H_REQUIRE(cfg != NULL);
    s2l_mapping *mapping = s2l_mapping_load(cfg->mapping_path, cfg->schemas_dir, err, sizeof err);
    H_REQUIRE(mapping != NULL);
    base = event_base_new();
    H_REQUIRE(base != NULL);
    struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {0, 5000};
    H_REQUIRE(tick != NULL && event_add(tick, &tv) == 0);
    if (s2l_gateway_init(&gw, cfg, mapping, base, err, sizeof err) < 0) {
        fprintf(stderr, "s2l_gateway_init: %s\n", err);
        H_REQUIRE(false);
    }
    H_REQUIRE(pool_up());

    test_same_as_http(g, s);
    test_authentication();
    test_access(s, h_gw_base_url(g));
    test_abort();

    s2l_gateway_fini(&gw);
    event_free(tick);
    event_base_free(base);
    s2l_mapping_destroy(mapping);
    s2l_config_destroy(cfg);
    h_gw_stop(g);
    h_slapd_destroy(s);
    return H_DONE();
}

#else /* !S2L_IT_LINKS_SHELL */

/* CMake links this test with s2l_shell and defines S2L_IT_LINKS_SHELL. */
int main(void)
{
    H_SKIP("it_local_requests is not linked with s2l_shell (S2L_IT_LINKS_SHELL undefined)");
    return H_DONE();
}

#endif
