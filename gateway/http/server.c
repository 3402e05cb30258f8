/* server.c — the HTTP transport: accept (HTTP or HTTPS), hand each evhttp
 * request to the router as an s2l_req, send its one reply. The server knows no
 * handler and no credential: routes come from the table (route.h), and the
 * router authenticates through request_auth.h. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../generation.h"
#include "conn_guard.h"
#include "request-internal.h"
#include "s2l/http_text.h"
#include "route.h"
#include "s2l/log.h"
#include "tls.h"

struct s2l_server {
    s2l_gateway *gw;             /* the gateway it was created with: without a slot, the only one */
    s2l_gen_slot *slot;          /* with generations: where each request takes the current one */
    s2l_req_transport transport; /* arg = the server; per request: the evhttp request */
    struct evhttp *http;
    struct evhttp_bound_socket *listener;
    SSL_CTX *ssl_ctx;
    s2l_conn_guard *guard;       /* every connection goes through it (conn_guard.h) */
    atomic_uint in_flight;       /* read by the main thread's memory trim (workers.h) */
    bool shutting_down;
    struct event *grace_timer;
    void (*shutdown_done)(void *arg);
    void *shutdown_arg;
};

/* The generation a new request runs on (held; s2l_gateway_release). */
static s2l_gateway *current(s2l_server *srv)
{
    if (srv->slot == NULL)
        return srv->gw;
    return s2l_gen_acquire(srv->slot);
}

/* A new connection's bufferevent (TLS or plain), behind the guard. NULL
 * makes evhttp use an unguarded one of its own: that is only when out of
 * memory, and then an error is close anyway. A reload may bring a new
 * certificate: new connections take the current generation's context (an
 * SSL holds its own reference to it). */
static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
    s2l_server *srv = arg;
    struct bufferevent *inner;
    s2l_gateway *gw = current(srv);
    if (gw)
        s2l_conn_guard_set_limits(srv->guard, gw->cfg); /* a reload may have changed them */
    if (srv->ssl_ctx) {
        SSL *ssl = SSL_new(gw && gw->tls ? gw->tls : srv->ssl_ctx);
        if (ssl == NULL) {
            s2l_gateway_release(gw);
            return NULL;
        }
        inner = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    } else {
        inner = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    s2l_gateway_release(gw);
    return s2l_conn_guard_wrap(srv->guard, inner);
}

static int setup_tls(s2l_server *srv, char *errbuf, size_t errlen)
{
    srv->ssl_ctx = s2l_tls_server_ctx(srv->gw->cfg, errbuf, errlen);
    return srv->ssl_ctx ? 0 : -1;
}

/* The connection's bufferevent and socket, for s2l_conn_guard_replied. */
static struct bufferevent *conn_bev(struct evhttp_request *evreq, int *fd)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(evreq);
    struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
    *fd = bev ? (int)bufferevent_getfd(bev) : -1;
    return bev;
}

/* ---- the transport ---- */

static void request_done(s2l_server *srv);

static const char *ev_header(const s2l_req *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req->transport_ctx), name);
}

static const char *ev_body(const s2l_req *req, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req->transport_ctx);
    *len = evbuffer_get_length(in);
    return *len ? (const char *)evbuffer_pullup(in, -1) : NULL;
}

static bool ev_peer(const s2l_req *req, s2l_ip *out)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(req->transport_ctx);
    const struct sockaddr *sa = conn ? evhttp_connection_get_addr(conn) : NULL;
    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET)
        return s2l_ip_from_bytes(&((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4, out) == 0;
    if (sa->sa_family == AF_INET6)
        return s2l_ip_from_bytes(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16, out) == 0;
    return false;
}

static void free_text(const void *data, size_t len, void *arg)
{
    free((void *)data);
}

static void ev_reply(s2l_req *req, const s2l_reply *reply)
{
    s2l_server *srv = req->transport->arg;
    struct evhttp_request *evreq = req->transport_ctx;
    struct evkeyvalq *out = evhttp_request_get_output_headers(evreq);
    struct evbuffer *buf = NULL;
    bool own_type = false; /* e.g. the token endpoint's application/json */
    for (size_t i = 0; reply->headers && reply->headers[i] && reply->headers[i + 1]; i += 2)
        own_type = own_type || strcasecmp(reply->headers[i], "Content-Type") == 0;
    if (reply->body) {
        if (!own_type)
            evhttp_add_header(out, "Content-Type", "application/scim+json; charset=utf-8");
        char *text = json_dumps(reply->body, JSON_COMPACT | JSON_ENCODE_ANY);
        buf = evbuffer_new();
        /* On success the buffer owns text and frees it after sending. */
        if (text && buf && evbuffer_add_reference(buf, text, strlen(text), free_text, NULL) == 0)
            text = NULL;
        free(text);
    } else if (reply->text) {
        buf = evbuffer_new();
        if (buf)
            evbuffer_add(buf, reply->text, reply->text_len);
    }
    for (size_t i = 0; reply->headers && reply->headers[i] && reply->headers[i + 1]; i += 2)
        evhttp_add_header(out, reply->headers[i], reply->headers[i + 1]);
    int fd;
    struct bufferevent *bev = conn_bev(evreq, &fd);
    evhttp_send_reply(evreq, reply->status, NULL, buf);
    s2l_conn_guard_replied(srv->guard, bev, fd);
    if (buf)
        evbuffer_free(buf);
    request_done(srv);
}

static s2l_method method_of(enum evhttp_cmd_type m)
{
    switch (m) {
    case EVHTTP_REQ_GET: return S2L_GET;
    case EVHTTP_REQ_POST: return S2L_POST;
    case EVHTTP_REQ_HEAD: return S2L_HEAD;
    case EVHTTP_REQ_PUT: return S2L_PUT;
    case EVHTTP_REQ_DELETE: return S2L_DELETE;
    case EVHTTP_REQ_OPTIONS: return S2L_OPTIONS;
    case EVHTTP_REQ_TRACE: return S2L_TRACE;
    case EVHTTP_REQ_CONNECT: return S2L_CONNECT;
    case EVHTTP_REQ_PATCH: return S2L_PATCH;
    }
    return S2L_OPTIONS; /* not reached: evhttp only hands over the methods above */
}

/* Base URL for Location and $ref: public_url when configured, otherwise from
 * the Host header the client used (so it works behind a port mapping). A Host
 * that is no plain host[:port] (not ASCII, not UTF-8, quotes, spaces) would
 * end up in every rendered URL, where it cannot be JSON text: the listen
 * address stands in for it. */
static void make_base_url(const s2l_config *cfg, struct evhttp_request *evreq, char *buf, size_t len)
{
    if (cfg->public_url) {
        snprintf(buf, len, "%s%s", cfg->public_url, cfg->base_path);
    } else {
        const char *host = evhttp_find_header(evhttp_request_get_input_headers(evreq), "Host");
        char fallback[300];
        if (!s2l_http_host_ok(host)) {
            bool v6 = strchr(cfg->listen_host, ':') != NULL;
            snprintf(fallback, sizeof fallback, "%s%s%s:%u", v6 ? "[" : "", cfg->listen_host, v6 ? "]" : "",
                     cfg->listen_port);
            host = fallback;
        }
        snprintf(buf, len, "%s://%s%s", cfg->tls_cert_file ? "https" : "http", host, cfg->base_path);
    }
}

static void on_request(struct evhttp_request *evreq, void *arg)
{
    s2l_server *srv = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(evreq);
    s2l_gateway *gw = current(srv); /* the request holds its own reference from here on */
    char base_url[1024];
    make_base_url(gw->cfg, evreq, base_url, sizeof base_url);
    s2l_req_spec spec = {.method = method_of(evhttp_request_get_command(evreq)),
                         .path = uri ? evhttp_uri_get_path(uri) : NULL,
                         .query = uri ? evhttp_uri_get_query(uri) : NULL,
                         .base_url = base_url,
                         .transport = &srv->transport,
                         .transport_ctx = evreq};
    s2l_req *req = s2l_req_create_(gw, &spec);
    s2l_gateway_release(gw);
    if (req == NULL) {
        int fd;
        struct bufferevent *bev = conn_bev(evreq, &fd);
        evhttp_send_error(evreq, 503, "Service Unavailable");
        s2l_conn_guard_replied(srv->guard, bev, fd);
        return;
    }
    srv->in_flight++;
    if (srv->shutting_down) {
        s2l_error err;
        s2l_error_set(&err, 503, NULL, "the gateway is shutting down");
        err.retry_after = 5;
        s2l_req_reply_error(req, &err);
        return;
    }
    s2l_routes_dispatch(req->gw->routes, req);
}

static void request_done(s2l_server *srv)
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
    return atomic_load(&srv->in_flight);
}

static void on_grace_expired(evutil_socket_t fd, short what, void *arg)
{
    s2l_server *srv = arg;
    if (srv->shutdown_done) {
        s2l_log(S2L_LOG_WARN, "event=shutdown_grace_expired in_flight=%u", atomic_load(&srv->in_flight));
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
    s2l_gateway *gw = current(srv);
    unsigned grace = gw->cfg->limits.shutdown_grace_ms;
    struct timeval tv = {grace / 1000, (grace % 1000) * 1000};
    srv->grace_timer = evtimer_new(gw->base, on_grace_expired, srv);
    s2l_gateway_release(gw);
    if (srv->grace_timer)
        evtimer_add(srv->grace_timer, &tv);
}

/* The listening socket shared with the other workers: bound with
 * SO_REUSEPORT (the kernel spreads new connections over the sockets of the
 * group). s2l_server_listen_free_port checked first that no other process
 * holds the address. */
static struct evhttp_bound_socket *bind_shared(struct evhttp *http, struct event_base *base, const s2l_config *cfg)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%u", cfg->listen_port);
    if (getaddrinfo(cfg->listen_host, port, &hints, &ai) != 0 || ai == NULL) {
        errno = EADDRNOTAVAIL;
        return NULL;
    }
    struct evconnlistener *l =
        evconnlistener_new_bind(base, NULL, NULL,
                                LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_FREE |
                                    LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_DISABLED,
                                -1, ai->ai_addr, (int)ai->ai_addrlen);
    freeaddrinfo(ai);
    if (l == NULL)
        return NULL;
    struct evhttp_bound_socket *bound = evhttp_bind_listener(http, l);
    if (bound == NULL)
        evconnlistener_free(l);
    else
        evconnlistener_enable(l);
    return bound;
}

int s2l_server_listen_free_port(const s2l_config *cfg, char *errbuf, size_t errlen)
{
    /* Bound without SO_REUSEPORT: fails when any socket holds the address,
     * including another gateway's SO_REUSEPORT group, which the workers'
     * sockets would otherwise silently join. */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%u", cfg->listen_port);
    int gai = getaddrinfo(cfg->listen_host, port, &hints, &ai);
    if (gai != 0 || ai == NULL) {
        snprintf(errbuf, errlen, "cannot listen on %s: %s", cfg->listen, gai ? gai_strerror(gai) : "no address");
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1, rc = -1;
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
        bind(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        rc = 0;
    if (rc < 0)
        snprintf(errbuf, errlen, "cannot listen on %s: %s", cfg->listen, strerror(errno));
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return rc;
}

s2l_server *s2l_server_create(s2l_gateway *gw, unsigned workers, char *errbuf, size_t errlen)
{
    const s2l_config *cfg = gw->cfg;
    s2l_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    srv->gw = gw;
    srv->slot = gw->slot;
    srv->transport = (s2l_req_transport){.header = ev_header, .body = ev_body, .peer = ev_peer, .reply = ev_reply, .arg = srv};
    srv->http = evhttp_new(gw->base);
    srv->guard = s2l_conn_guard_create(gw->base, cfg, workers);
    if (srv->http == NULL || srv->guard == NULL) {
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
    size_t biggest = cfg->limits.max_body_bytes > cfg->limits.bulk_max_payload_bytes
                         ? cfg->limits.max_body_bytes
                         : cfg->limits.bulk_max_payload_bytes; /* /Bulk has its own limit */
    size_t hard = biggest * 2 + 65536;
    evhttp_set_max_body_size(srv->http, (ev_ssize_t)hard);
    /* The guard refuses longer heads first, with a SCIM 431/414. */
    evhttp_set_max_headers_size(srv->http, (ev_ssize_t)cfg->limits.max_header_bytes);
    /* Idle keep-alive connections (and a client that stops reading a reply). */
    struct timeval idle = {cfg->limits.idle_timeout_ms / 1000, (long)(cfg->limits.idle_timeout_ms % 1000) * 1000};
    evhttp_set_timeout_tv(srv->http, &idle);
    evhttp_set_default_content_type(srv->http, "application/scim+json");
    evhttp_set_gencb(srv->http, on_request, srv);
    if (cfg->tls_cert_file && setup_tls(srv, errbuf, errlen) < 0)
        goto err;
    evhttp_set_bevcb(srv->http, make_bev, srv);
    srv->listener = workers > 1 ? bind_shared(srv->http, gw->base, cfg)
                                : evhttp_bind_socket_with_handle(srv->http, cfg->listen_host,
                                                                 (ev_uint16_t)cfg->listen_port);
    if (srv->listener == NULL) {
        snprintf(errbuf, errlen, "cannot listen on %s: %s", cfg->listen, strerror(errno));
        goto err;
    }
    /* No Nagle: a reply larger than one segment (a list page) would otherwise
     * wait for the client's delayed ACK (40 ms) before its last segment.
     * Accepted sockets inherit the option from the listener on Linux. */
    int one = 1;
    setsockopt(evhttp_bound_socket_get_fd(srv->listener), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
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
        evhttp_free(srv->http); /* frees every connection: before the guard */
    s2l_conn_guard_destroy(srv->guard);
    if (srv->ssl_ctx)
        SSL_CTX_free(srv->ssl_ctx);
    free(srv);
}
