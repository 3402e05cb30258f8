/* server.c — accept, authenticate, route. Replies are sent only by request.c. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../resources/handlers.h"
#include "oauth_token.h"
#include "request-internal.h"
#include "request_auth.h"
#include "tls.h"
#include "s2l/log.h"

struct s2l_server {
    s2l_gateway *gw;
    struct evhttp *http;
    struct evhttp_bound_socket *listener;
    SSL_CTX *ssl_ctx;
    unsigned in_flight;
    uint64_t next_id;
    bool shutting_down;
    struct event *grace_timer;
    void (*shutdown_done)(void *arg);
    void *shutdown_arg;
};

static uint64_t now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

static struct bufferevent *make_tls_bev(struct event_base *base, void *arg)
{
    s2l_server *srv = arg;
    SSL *ssl = SSL_new(srv->ssl_ctx);
    if (ssl == NULL)
        return NULL;
    return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

static int setup_tls(s2l_server *srv, char *errbuf, size_t errlen)
{
    srv->ssl_ctx = s2l_tls_server_ctx(srv->gw->cfg, errbuf, errlen);
    if (srv->ssl_ctx == NULL)
        return -1;
    evhttp_set_bevcb(srv->http, make_tls_bev, srv);
    return 0;
}

/* ---- routing ---- */

static bool seg_eq(const char *seg, size_t len, const char *name)
{
    return strlen(name) == len && strncasecmp(seg, name, len) == 0;
}

/* Credentials, expiry, allow_from and rate limits (request_auth.c, over the
 * pure auth module). false: the 401/403/429 has been sent. */
static bool authorized(s2l_req *req)
{
    return s2l_http_authenticate(req);
}

static bool content_type_ok(s2l_req *req)
{
    const char *ct = s2l_req_header(req, "Content-Type");
    if (ct == NULL)
        return true; /* lenient: some clients omit it on JSON bodies */
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; \t");
    return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
           (n == 21 && strncasecmp(ct, "application/scim+json", 21) == 0);
}

static int read_body(s2l_req *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req->evreq);
    size_t len = evbuffer_get_length(in);
    if (len == 0)
        return 0;
    if (len > req->gw->cfg->limits.max_body_bytes) {
        s2l_req_fail(req, 413, NULL, "request body of %zu bytes exceeds the limit of %zu bytes", len,
                     req->gw->cfg->limits.max_body_bytes);
        return -1;
    }
    if (!content_type_ok(req)) {
        s2l_req_fail(req, 415, NULL, "Content-Type must be application/scim+json or application/json");
        return -1;
    }
    const char *data = (const char *)evbuffer_pullup(in, -1);
    json_error_t jerr;
    req->body = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (req->body == NULL) {
        s2l_req_fail(req, 400, S2L_SCIM_INVALID_SYNTAX, "request body is not valid JSON: %s at line %d column %d",
                     jerr.text, jerr.line, jerr.column);
        return -1;
    }
    if (!json_is_object(req->body)) {
        s2l_req_fail(req, 400, S2L_SCIM_INVALID_SYNTAX, "request body must be a JSON object");
        return -1;
    }
    return 0;
}

static void method_not_allowed(s2l_req *req, const char *allowed)
{
    s2l_error err;
    s2l_error_set(&err, 405, NULL, "method %s is not allowed on %s", req->method_name, req->path);
    const char *hdr[] = {"Allow", allowed, NULL};
    s2l_req_reply_json(req, 405, s2l_error_to_json(&err), hdr);
}

static void route_resource(s2l_req *req, const char *rest)
{
    bool has_id = rest[0] == '/' && rest[1] != 0;
    if (rest[0] == '/' && rest[1] == 0)
        has_id = false;
    if (has_id) {
        const char *id = rest + 1;
        if (strchr(id, '/')) {
            s2l_req_fail(req, 404, NULL, "no such endpoint %s", req->path);
            return;
        }
        req->resource_id = strdup(id);
        if (req->resource_id == NULL) {
            s2l_req_fail(req, 503, NULL, "out of memory");
            return;
        }
        switch (req->method) {
        case EVHTTP_REQ_GET: s2l_handle_get(req); return;
        case EVHTTP_REQ_PUT: s2l_handle_replace(req); return;
        case EVHTTP_REQ_PATCH: s2l_handle_patch(req); return;
        case EVHTTP_REQ_DELETE: s2l_handle_delete(req); return;
        default: method_not_allowed(req, "GET, PUT, PATCH, DELETE"); return;
        }
    }
    switch (req->method) {
    case EVHTTP_REQ_GET: s2l_handle_list(req); return;
    case EVHTTP_REQ_POST: s2l_handle_create(req); return;
    default: method_not_allowed(req, "GET, POST"); return;
    }
}

static void route(s2l_req *req)
{
    const char *p = req->path;
    if (p[0] == '/')
        p++;
    size_t seg = strcspn(p, "/");
    const char *rest = p + seg;
    const char *arg = rest[0] == '/' && rest[1] ? rest + 1 : NULL;

    /* Discovery endpoints carry no directory data and are public (RFC 7644 §4). */
    if (seg_eq(p, seg, "ServiceProviderConfig") || seg_eq(p, seg, "serviceConfiguration")) {
        if (req->method != EVHTTP_REQ_GET)
            method_not_allowed(req, "GET");
        else if (arg)
            s2l_req_fail(req, 404, NULL, "no such endpoint %s", req->path);
        else
            s2l_handle_service_provider_config(req);
        return;
    }
    if (seg_eq(p, seg, "Schemas")) {
        if (req->method != EVHTTP_REQ_GET)
            method_not_allowed(req, "GET");
        else
            s2l_handle_schemas(req, arg);
        return;
    }
    if (seg_eq(p, seg, "ResourceTypes")) {
        if (req->method != EVHTTP_REQ_GET)
            method_not_allowed(req, "GET");
        else
            s2l_handle_resource_types(req, arg);
        return;
    }

    if (!authorized(req))
        return;
    if (read_body(req) < 0)
        return;

    if (seg_eq(p, seg, "Bulk") || seg_eq(p, seg, "Me") || seg_eq(p, seg, ".search")) {
        s2l_req_fail(req, 501, NULL, "%.*s is not supported by this service provider", (int)seg, p);
        return;
    }
    char name[128];
    if (seg == 0 || seg >= sizeof name) {
        s2l_req_fail(req, 404, NULL, "no such endpoint %s", req->path);
        return;
    }
    memcpy(name, p, seg);
    name[seg] = 0;
    req->rm = s2l_mapping_find(req->gw->mapping, name);
    /* s2l_mapping_find also matches type names ("User"); only endpoints are routes. */
    if (req->rm == NULL || strcasecmp(s2l_rmap_info_of(req->rm)->endpoint + 1, name) != 0) {
        s2l_req_fail(req, 404, NULL, "no such endpoint %s", req->path);
        return;
    }
    if (!s2l_http_permit(req)) /* read_only, resource_types */
        return;
    if (seg_eq(rest, strlen(rest), "/.search")) {
        s2l_req_fail(req, 501, NULL, "POST .search is not supported; use GET with filter");
        return;
    }
    route_resource(req, rest);
}

static const char *method_name(enum evhttp_cmd_type m)
{
    switch (m) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    }
    return "?";
}

/* Base URL for Location and $ref: public_url when configured, otherwise from
 * the Host header the client used (so it works behind a port mapping). */
static char *make_base_url(s2l_req *req)
{
    const s2l_config *cfg = req->gw->cfg;
    char buf[1024];
    if (cfg->public_url) {
        snprintf(buf, sizeof buf, "%s%s", cfg->public_url, cfg->base_path);
    } else {
        const char *host = s2l_req_header(req, "Host");
        char fallback[300];
        if (host == NULL || host[0] == 0 || strpbrk(host, "/\\\"<> ") != NULL) {
            snprintf(fallback, sizeof fallback, "%s:%u", cfg->listen_host, cfg->listen_port);
            host = fallback;
        }
        snprintf(buf, sizeof buf, "%s://%s%s", cfg->tls_cert_file ? "https" : "http", host, cfg->base_path);
    }
    return strdup(buf);
}

/* Query parameters, '+' decoded as space (Entra sends "userName+eq+..."). Unlike
 * evhttp_parse_query_str, a key without '=' is kept with an empty value:
 * Entra's feature flags arrive as "?aadOptscim062020&filter=...". */
static int parse_query(const char *q, struct evkeyvalq *out)
{
    char *copy = strdup(q);
    if (copy == NULL)
        return -1;
    int rc = 0;
    char *save = NULL;
    for (char *part = strtok_r(copy, "&", &save); part && rc == 0; part = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(part, '=');
        if (eq)
            *eq = 0;
        char *key = evhttp_uridecode(part, 1, NULL);
        char *value = evhttp_uridecode(eq ? eq + 1 : "", 1, NULL);
        if (key == NULL || value == NULL || key[0] == 0)
            rc = key && value ? 0 : -1; /* "&&" or "=x": skip; allocation failure: error */
        else if (evhttp_add_header(out, key, value) != 0)
            rc = -1;
        free(key);
        free(value);
    }
    free(copy);
    return rc;
}

static void on_request(struct evhttp_request *evreq, void *arg)
{
    s2l_server *srv = arg;
    s2l_req *req = s2l_req_create_(srv, srv->gw, evreq, ++srv->next_id, now_us());
    if (req == NULL) {
        evhttp_send_error(evreq, 503, "Service Unavailable");
        return;
    }
    srv->in_flight++;
    req->method = evhttp_request_get_command(evreq);
    req->method_name = method_name(req->method);

    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(evreq);
    const char *raw_path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *raw_query = uri ? evhttp_uri_get_query(uri) : NULL;
    req->base_url = make_base_url(req);
    char *decoded = raw_path ? evhttp_uridecode(raw_path, 0, NULL) : NULL;
    if (req->base_url == NULL || decoded == NULL) {
        free(decoded);
        s2l_req_fail(req, 400, NULL, "malformed request URI");
        return;
    }
    if (s2l_oauth_token_path_is(srv->gw, decoded)) {
        req->path = decoded;
        s2l_oauth_token_handle(req);
        return;
    }
    const char *bp = srv->gw->cfg->base_path;
    size_t bl = strlen(bp);
    if (strncasecmp(decoded, bp, bl) != 0 || (decoded[bl] != '/' && decoded[bl] != 0)) {
        req->path = decoded;
        s2l_req_fail(req, 404, NULL, "no such endpoint %s (the SCIM base path is %s)", decoded, bl ? bp : "/");
        return;
    }
    req->path = strdup(decoded + bl);
    free(decoded);
    if (req->path == NULL) {
        s2l_req_fail(req, 503, NULL, "out of memory");
        return;
    }
    req->query_parsed = true;
    if (raw_query && parse_query(raw_query, &req->query) < 0) {
        s2l_req_fail(req, 400, S2L_SCIM_INVALID_VALUE, "malformed query string");
        return;
    }
    if (srv->shutting_down) {
        s2l_error err;
        s2l_error_set(&err, 503, NULL, "the gateway is shutting down");
        err.retry_after = 5;
        s2l_req_reply_error(req, &err);
        return;
    }
    route(req);
}

void s2l_server_request_done_(s2l_server *srv)
{
    srv->in_flight--;
    if (srv->shutting_down && srv->in_flight == 0 && srv->shutdown_done) {
        void (*done)(void *) = srv->shutdown_done;
        srv->shutdown_done = NULL;
        done(srv->shutdown_arg);
    }
}

unsigned s2l_server_in_flight(const s2l_server *srv)
{
    return srv->in_flight;
}

static void on_grace_expired(evutil_socket_t fd, short what, void *arg)
{
    s2l_server *srv = arg;
    if (srv->shutdown_done) {
        s2l_log(S2L_LOG_WARN, "event=shutdown_grace_expired in_flight=%u", srv->in_flight);
        void (*done)(void *) = srv->shutdown_done;
        srv->shutdown_done = NULL;
        done(srv->shutdown_arg);
    }
}

void s2l_server_shutdown(s2l_server *srv, void (*done)(void *arg), void *arg)
{
    if (srv->shutting_down)
        return;
    srv->shutting_down = true;
    srv->shutdown_done = done;
    srv->shutdown_arg = arg;
    if (srv->listener) {
        evhttp_del_accept_socket(srv->http, srv->listener);
        srv->listener = NULL;
    }
    if (srv->in_flight == 0) {
        srv->shutdown_done = NULL;
        done(arg);
        return;
    }
    struct timeval tv = {srv->gw->cfg->limits.shutdown_grace_ms / 1000,
                         (srv->gw->cfg->limits.shutdown_grace_ms % 1000) * 1000};
    srv->grace_timer = evtimer_new(srv->gw->base, on_grace_expired, srv);
    if (srv->grace_timer)
        evtimer_add(srv->grace_timer, &tv);
}

s2l_server *s2l_server_create(s2l_gateway *gw, char *errbuf, size_t errlen)
{
    const s2l_config *cfg = gw->cfg;
    s2l_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    srv->gw = gw;
    srv->http = evhttp_new(gw->base);
    if (srv->http == NULL) {
        snprintf(errbuf, errlen, "evhttp_new failed");
        goto err;
    }
    /* Every method reaches us, so that unsupported ones get a SCIM 405 body
     * instead of evhttp's HTML page; PATCH is not allowed by evhttp's default. */
    evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                              EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                              EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    /* evhttp's own cap protects memory before our handler runs; it is set
     * above the configured limit so that ordinary oversize bodies reach the
     * handler and get a SCIM 413 body, while absurd ones are cut off early. */
    size_t hard = cfg->limits.max_body_bytes * 2 + 65536;
    evhttp_set_max_body_size(srv->http, (ev_ssize_t)hard);
    evhttp_set_max_headers_size(srv->http, 64 * 1024);
    evhttp_set_timeout(srv->http, 120); /* idle keep-alive connections */
    evhttp_set_default_content_type(srv->http, "application/scim+json");
    evhttp_set_gencb(srv->http, on_request, srv);
    if (cfg->tls_cert_file && setup_tls(srv, errbuf, errlen) < 0)
        goto err;
    srv->listener = evhttp_bind_socket_with_handle(srv->http, cfg->listen_host, (ev_uint16_t)cfg->listen_port);
    if (srv->listener == NULL) {
        snprintf(errbuf, errlen, "cannot listen on %s: %s", cfg->listen, strerror(errno));
        goto err;
    }
    return srv;
err:
    s2l_server_destroy(srv);
    return NULL;
}

void s2l_server_destroy(s2l_server *srv)
{
    if (srv == NULL)
        return;
    if (srv->grace_timer)
        event_free(srv->grace_timer);
    if (srv->http)
        evhttp_free(srv->http);
    if (srv->ssl_ctx)
        SSL_CTX_free(srv->ssl_ctx);
    free(srv);
}
