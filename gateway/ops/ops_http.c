/* ops_http.c — /healthz, /readyz and /metrics: as rows of a generation's route
 * table, and on the optional metrics.listen listener (see ops.h).
 *
 * Why no SCIM token on the health endpoints: they are asked by load
 * balancers, orchestrators and the container's health check, which carry no
 * IdP credential, and they say nothing about the directory's data (only "up"
 * or "not ready" and why). /metrics holds no data either (counts, no names),
 * but it can be limited to a scraper with its own token (metrics.token), which
 * is deliberately not a SCIM credential: a scraper must not be able to write.
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../generation.h"
#include "ops-internal.h"
#include "s2l/log.h"

/* What one of the three endpoints answers. */
typedef struct ops_answer {
    int status;
    const char *content_type;
    char *body;                  /* malloc'd */
    size_t len;
    unsigned retry_after;        /* 503: seconds */
    bool challenge;              /* 401: WWW-Authenticate: Bearer */
} ops_answer;

/* {"status":"<state>"[,"reason":"<reason>"]}: both are fixed texts of this file. */
static void set_json(ops_answer *a, int status, const char *state, const char *reason)
{
    a->status = status;
    a->content_type = "application/json";
    size_t n = strlen(state) + (reason ? strlen(reason) : 0) + 40;
    a->body = malloc(n);
    if (a->body) {
        int len = reason ? snprintf(a->body, n, "{\"status\":\"%s\",\"reason\":\"%s\"}\n", state, reason)
                         : snprintf(a->body, n, "{\"status\":\"%s\"}\n", state);
        a->len = len > 0 ? (size_t)len : 0;
    }
}

static bool metrics_token_ok(const s2l_config *cfg, const char *authorization)
{
    if (!cfg->metrics.has_token)
        return true;
    if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7) != 0)
        return false;
    const char *t = authorization + 7;
    while (*t == ' ')
        t++;
    unsigned char d[S2L_TOKEN_DIGEST_LEN];
    SHA256((const unsigned char *)t, strlen(t), d);
    return CRYPTO_memcmp(d, cfg->metrics.token_digest, sizeof d) == 0;
}

typedef enum { EP_HEALTHZ, EP_READYZ, EP_METRICS } endpoint;

static void answer(s2l_gateway *gw, endpoint ep, const char *authorization, ops_answer *a)
{
    *a = (ops_answer){0};
    switch (ep) {
    case EP_HEALTHZ:
        set_json(a, 200, "alive", NULL);
        return;
    case EP_READYZ:
        if (gw->mapping == NULL || s2l_mapping_count(gw->mapping) == 0) {
            set_json(a, 503, "not ready", "no mapping loaded");
            a->retry_after = 5;
        } else if (gw->pool == NULL || !s2l_pool_is_up(gw->pool)) {
            set_json(a, 503, "not ready", "no bound LDAP connection");
            a->retry_after = gw->pool ? s2l_pool_retry_after(gw->pool) : 5;
        } else {
            set_json(a, 200, "ready", NULL);
        }
        return;
    case EP_METRICS:
        if (!gw->cfg->metrics.enabled || gw->ops == NULL) {
            set_json(a, 404, "off", "metrics.enabled is false");
        } else if (!metrics_token_ok(gw->cfg, authorization)) {
            set_json(a, 401, "unauthorized", "metrics.token required");
            a->challenge = true;
        } else {
            a->status = 200;
            a->content_type = S2L_METRICS_CONTENT_TYPE;
            a->body = s2l_ops_render(gw->ops, &a->len);
        }
        return;
    }
}

/* ---- as routes ---- */

static void reply(s2l_req *req, endpoint ep)
{
    ops_answer a;
    answer(req->gw, ep, s2l_req_header(req, "Authorization"), &a);
    if (a.body == NULL) {
        s2l_req_fail(req, 503, NULL, "out of memory");
        return;
    }
    char ra[16];
    snprintf(ra, sizeof ra, "%u", a.retry_after ? a.retry_after : 1);
    const char *hdr[] = {"Content-Type", a.content_type, "Cache-Control", "no-store", NULL, NULL, NULL};
    if (a.retry_after) {
        hdr[4] = "Retry-After";
        hdr[5] = ra;
    } else if (a.challenge) {
        hdr[4] = "WWW-Authenticate";
        hdr[5] = "Bearer realm=\"metrics\"";
    }
    s2l_req_reply_text(req, a.status, a.body, a.len, hdr);
    free(a.body);
}

static void on_healthz(s2l_req *req)
{
    reply(req, EP_HEALTHZ);
}

static void on_readyz(s2l_req *req)
{
    reply(req, EP_READYZ);
}

static void on_metrics(s2l_req *req)
{
    reply(req, EP_METRICS);
}

int s2l_ops_register(s2l_routes *rt, const s2l_config *cfg)
{
    const s2l_route rows[] = {
        {.pattern = "/healthz", .methods = S2L_GET | S2L_HEAD, .handler = on_healthz, .auth = S2L_AUTH_NONE,
         .flags = S2L_ROUTE_ROOT},
        {.pattern = "/readyz", .methods = S2L_GET | S2L_HEAD, .handler = on_readyz, .auth = S2L_AUTH_NONE,
         .flags = S2L_ROUTE_ROOT},
        {.pattern = "/metrics", .methods = S2L_GET, .handler = on_metrics, .auth = S2L_AUTH_NONE,
         .flags = S2L_ROUTE_ROOT},
    };
    size_t n = cfg->metrics.listen ? 2 : 3; /* with its own listener, /metrics is only there */
    for (size_t i = 0; i < n; i++)
        if (s2l_routes_add(rt, &rows[i]) < 0)
            return -1;
    return 0;
}

/* ---- metrics.listen ---- */

struct s2l_ops_listener {
    struct evhttp *http;
    s2l_gen_slot *slot;
};

void s2l_ops_listener_free_(struct s2l_ops_listener *l)
{
    if (l == NULL)
        return;
    if (l->http)
        evhttp_free(l->http);
    free(l);
}

static void on_listener_request(struct evhttp_request *evreq, void *arg)
{
    struct s2l_ops_listener *l = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(evreq);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    struct evkeyvalq *out = evhttp_request_get_output_headers(evreq);
    endpoint ep;
    if (path && strcmp(path, "/metrics") == 0)
        ep = EP_METRICS;
    else if (path && strcmp(path, "/healthz") == 0)
        ep = EP_HEALTHZ;
    else if (path && strcmp(path, "/readyz") == 0)
        ep = EP_READYZ;
    else {
        evhttp_add_header(out, "Content-Type", "application/json");
        struct evbuffer *b = evbuffer_new();
        if (b)
            evbuffer_add_printf(b, "{\"status\":\"only /metrics, /healthz and /readyz answer here\"}\n");
        evhttp_send_reply(evreq, 404, "Not Found", b);
        if (b)
            evbuffer_free(b);
        return;
    }
    enum evhttp_cmd_type cmd = evhttp_request_get_command(evreq);
    if (cmd != EVHTTP_REQ_GET && !(cmd == EVHTTP_REQ_HEAD && ep != EP_METRICS)) {
        evhttp_add_header(out, "Allow", ep == EP_METRICS ? "GET" : "GET, HEAD");
        evhttp_send_reply(evreq, 405, "Method Not Allowed", NULL);
        return;
    }
    s2l_gateway *gw = s2l_gen_acquire(l->slot);
    if (gw == NULL) {
        evhttp_send_error(evreq, 503, "Service Unavailable");
        return;
    }
    ops_answer a;
    answer(gw, ep, evhttp_find_header(evhttp_request_get_input_headers(evreq), "Authorization"), &a);
    s2l_gateway_release(gw);
    if (a.body == NULL) {
        evhttp_send_error(evreq, 503, "Service Unavailable");
        return;
    }
    evhttp_add_header(out, "Content-Type", a.content_type);
    evhttp_add_header(out, "Cache-Control", "no-store");
    char ra[16];
    if (a.retry_after) {
        snprintf(ra, sizeof ra, "%u", a.retry_after);
        evhttp_add_header(out, "Retry-After", ra);
    }
    if (a.challenge)
        evhttp_add_header(out, "WWW-Authenticate", "Bearer realm=\"metrics\"");
    struct evbuffer *b = evbuffer_new();
    if (b)
        evbuffer_add(b, a.body, a.len);
    evhttp_send_reply(evreq, a.status, NULL, b);
    if (b)
        evbuffer_free(b);
    free(a.body);
}

int s2l_ops_listen(s2l_ops *ops, struct event_base *base, s2l_gen_slot *slot, const s2l_config *cfg,
                   char *errbuf, size_t errlen)
{
    if (cfg->metrics.listen == NULL)
        return 0;
    struct s2l_ops_listener *l = calloc(1, sizeof *l);
    if (l == NULL || (l->http = evhttp_new(base)) == NULL) {
        free(l);
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    l->slot = slot;
    evhttp_set_allowed_methods(l->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
    evhttp_set_max_body_size(l->http, 4096);
    evhttp_set_max_headers_size(l->http, 16 * 1024);
    evhttp_set_timeout(l->http, 30);
    evhttp_set_gencb(l->http, on_listener_request, l);
    if (evhttp_bind_socket(l->http, cfg->metrics.listen_host, (ev_uint16_t)cfg->metrics.listen_port) != 0) {
        snprintf(errbuf, errlen, "cannot listen on %s (metrics.listen): %s", cfg->metrics.listen, strerror(errno));
        s2l_ops_listener_free_(l);
        return -1;
    }
    ops->listener = l;
    return 0;
}
