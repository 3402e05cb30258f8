/* conn_guard.c — framing checks, connection cap and read timeouts in front
 * of evhttp (see conn_guard.h). */
#include "conn_guard.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "s2l/error.h"
#include "s2l/http_frame.h"
#include "s2l/log.h"

/* After the answer: how long, and how much, the client may still send before
 * the socket is closed (closing with unread input would reset the connection,
 * and a reset can destroy the answer before the client reads it). */
#define LINGER_MS 2000
#define LINGER_MAX_BYTES (256 * 1024)
/* An answer the client does not read within this time is given up. */
#define FLUSH_MS 5000

typedef enum { T_NONE = 0, T_HEAD, T_BODY, T_EMIT, T_FLUSH, T_LINGER } timer_kind;
typedef enum { C_OPEN = 0, C_PENDING, C_FLUSHING, C_LINGERING } conn_phase;

typedef struct conn {
    s2l_conn_guard *g;
    struct bufferevent *filter, *inner;
    int fd;                      /* -1 until the socket is known */
    s2l_frame fr;
    struct evbuffer *head;       /* the current request's head, until it is complete */
    size_t no_lf;                /* bytes at the start of the input known to hold no LF */
    unsigned forwarded;          /* complete requests handed to evhttp */
    unsigned answered;           /* replies evhttp was given */
    conn_phase phase;
    s2l_error err;               /* the answer, from C_PENDING on */
    struct event *timer;
    struct event *kick;          /* moves what evhttp wrote on to the socket (see on_filter_out) */
    timer_kind timer_kind;
    unsigned timer_req;          /* fr.requests when a head/body timer was armed */
    size_t discarded;
    unsigned emit_waits;         /* 1 ms waits for evhttp's output before the answer */
    struct evbuffer_cb_entry *out_cb;
} conn;

struct s2l_conn_guard {
    struct event_base *base;
    /* Copied, not borrowed: a reload frees the configuration it came from
     * (s2l_conn_guard_set_limits takes the current one for new connections). */
    unsigned header_timeout_ms, body_timeout_ms;
    s2l_frame_limits frame;
    unsigned open, max;
    conn **by_fd;                /* socket → connection, for s2l_conn_guard_replied */
    size_t n_by_fd;
    uint64_t refused_logged_us;  /* connection-cap refusals are logged at most once a second */
    unsigned refused_quiet;
    bool destroyed;              /* the server is gone; the last connection's finaliser frees g */
};

static void arm(conn *c, timer_kind kind, unsigned ms)
{
    struct timeval tv = {ms / 1000, (long)(ms % 1000) * 1000};
    c->timer_kind = kind;
    evtimer_add(c->timer, &tv);
}

static void disarm(conn *c)
{
    evtimer_del(c->timer);
    c->timer_kind = T_NONE;
}

static void note_fd(conn *c)
{
    if (c->fd >= 0)
        return;
    int fd = (int)bufferevent_getfd(c->inner);
    if (fd < 0)
        return;
    s2l_conn_guard *g = c->g;
    if ((size_t)fd >= g->n_by_fd) {
        size_t n = (size_t)fd * 2 + 64;
        conn **t = realloc(g->by_fd, n * sizeof *t);
        if (t == NULL)
            return;
        memset(t + g->n_by_fd, 0, (n - g->n_by_fd) * sizeof *t);
        g->by_fd = t;
        g->n_by_fd = n;
    }
    g->by_fd[fd] = c;
    c->fd = fd;
}

static const char *reason(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

static void on_out_changed(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg);
static void close_now(conn *c);

/* Writes the answer to the socket's own buffer (evhttp is done with every
 * request before it) and waits for it to leave. */
static void emit(conn *c)
{
    note_fd(c);
    if (evbuffer_get_length(bufferevent_get_output(c->filter)) > 0) {
        /* evhttp's last answer is still on its way (on_kick); not forever */
        if (++c->emit_waits > FLUSH_MS)
            close_now(c);
        else
            arm(c, T_EMIT, 1);
        return;
    }
    c->phase = C_FLUSHING;
    struct evbuffer *out = bufferevent_get_output(c->inner);
    c->out_cb = evbuffer_add_cb(out, on_out_changed, c);
    arm(c, T_FLUSH, FLUSH_MS);
    if (c->err.status == 0) { /* the client asked for the close: no answer of ours */
        if (evbuffer_get_length(out) == 0)
            on_out_changed(out, NULL, c);
        return;
    }
    json_t *j = s2l_error_to_json(&c->err);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    char ra[32] = "";
    if (c->err.retry_after > 0)
        snprintf(ra, sizeof ra, "Retry-After: %d\r\n", c->err.retry_after);
    size_t len = body ? strlen(body) : 0;
    evbuffer_add_printf(out,
                        "HTTP/1.1 %d %s\r\nContent-Type: application/scim+json; charset=utf-8\r\n"
                        "Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
                        c->err.status, reason(c->err.status), len, ra);
    if (body && !c->fr.head_method) /* no body in an answer to HEAD */
        evbuffer_add(out, body, len);
    free(body);
}

/* Ends the connection with err (status 0: without an answer of ours, once
 * evhttp has answered): no more bytes reach evhttp. */
static void refuse(conn *c, const s2l_error *err, struct evbuffer *src)
{
    if (c->phase != C_OPEN)
        return;
    c->phase = C_PENDING;
    c->err = *err;
    if (src)
        evbuffer_drain(src, evbuffer_get_length(src));
    evbuffer_drain(c->head, evbuffer_get_length(c->head));
    c->no_lf = 0;
    disarm(c);
    if (c->err.status != 503 && c->err.status != 0) {
        char detail[S2L_ERROR_DETAIL_MAX + 8];
        s2l_log_quote(detail, sizeof detail, c->err.detail, strlen(c->err.detail));
        s2l_log(S2L_LOG_INFO, "event=http_refused status=%d reason=%s requests=%u", c->err.status, detail,
                c->fr.requests);
    }
    if (c->answered >= c->forwarded)
        arm(c, T_EMIT, 0); /* not from inside a bufferevent callback */
}

static void on_out_changed(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    conn *c = arg;
    if (c->phase != C_FLUSHING || evbuffer_get_length(buf) > 0)
        return;
    evbuffer_remove_cb_entry(buf, c->out_cb);
    c->out_cb = NULL;
    /* Sent: FIN, then discard what the client still sends for a while. */
    c->phase = C_LINGERING;
    if (c->fd >= 0)
        shutdown(c->fd, SHUT_WR);
    arm(c, T_LINGER, LINGER_MS);
}

static void close_now(conn *c)
{
    /* evhttp frees the connection on EOF (nothing of a request was handed to
     * the application), and with it this filter and c. */
    bufferevent_trigger_event(c->filter, BEV_EVENT_EOF | BEV_EVENT_READING, 0);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    conn *c = arg;
    timer_kind kind = c->timer_kind;
    c->timer_kind = T_NONE;
    s2l_error err;
    switch (kind) {
    case T_HEAD:
        s2l_error_set(&err, 408, NULL, "the request headers did not arrive within %u ms",
                      c->g->header_timeout_ms);
        refuse(c, &err, bufferevent_get_input(c->inner));
        break;
    case T_BODY:
        s2l_error_set(&err, 408, NULL, "the request body did not arrive within %u ms",
                      c->g->body_timeout_ms);
        refuse(c, &err, bufferevent_get_input(c->inner));
        break;
    case T_EMIT:
        emit(c);
        break;
    case T_FLUSH:
    case T_LINGER:
        close_now(c);
        break;
    case T_NONE:
        break;
    }
}

/* A request was handed to evhttp in full. A client that asked for the
 * close gets it once the answers have left; what it sends after is not read. */
static void request_done(conn *c, struct evbuffer *src)
{
    c->forwarded++;
    if (c->fr.last_close) {
        s2l_error none;
        s2l_error_clear(&none);
        refuse(c, &none, src);
    }
}

/* Head and body timers follow the scanner. */
static void update_timers(conn *c, size_t pending)
{
    if (c->phase != C_OPEN)
        return;
    timer_kind want = s2l_frame_in_head(&c->fr, pending) ? T_HEAD : s2l_frame_in_body(&c->fr) ? T_BODY : T_NONE;
    if (want == c->timer_kind && (want == T_NONE || c->timer_req == c->fr.requests))
        return;
    if (want == T_NONE) {
        disarm(c);
        return;
    }
    c->timer_req = c->fr.requests;
    arm(c, want, want == T_HEAD ? c->g->header_timeout_ms : c->g->body_timeout_ms);
}

static enum bufferevent_filter_result in_filter(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t lim,
                                                enum bufferevent_flush_mode mode, void *arg)
{
    conn *c = arg;
    note_fd(c);
    if (c->phase != C_OPEN) {
        size_t n = evbuffer_get_length(src);
        evbuffer_drain(src, n);
        c->discarded += n;
        if (c->phase == C_LINGERING && c->discarded > LINGER_MAX_BYTES)
            arm(c, T_LINGER, 0);
        return BEV_NEED_MORE;
    }
    bool moved = false;
    s2l_error err;
    for (;;) {
        size_t avail = evbuffer_get_length(src);
        uint64_t want;
        if (s2l_frame_wants_data(&c->fr, &want)) {
            size_t take = avail < want ? avail : (size_t)want;
            if (take == 0)
                break;
            evbuffer_remove_buffer(src, dst, take);
            moved = true;
            if (s2l_frame_data(&c->fr, take) & S2L_FRAME_REQUEST_DONE)
                request_done(c, src);
            if (c->phase != C_OPEN)
                break;
            continue;
        }
        if (c->no_lf >= avail)
            break;
        struct evbuffer_ptr start;
        evbuffer_ptr_set(src, &start, c->no_lf, EVBUFFER_PTR_SET);
        struct evbuffer_ptr lf = evbuffer_search(src, "\n", 1, &start);
        if (lf.pos < 0) {
            c->no_lf = avail;
            if (s2l_frame_partial(&c->fr, c->no_lf, &err) < 0) {
                refuse(c, &err, src);
                return moved ? BEV_OK : BEV_NEED_MORE;
            }
            break;
        }
        size_t line_len = (size_t)lf.pos;
        const unsigned char *data = evbuffer_pullup(src, (ev_ssize_t)line_len + 1);
        if (data == NULL)
            break;
        s2l_frame_action action;
        int ev = s2l_frame_line(&c->fr, (const char *)data, line_len, &action, &err);
        c->no_lf = 0;
        if (ev < 0) {
            refuse(c, &err, src);
            return moved ? BEV_OK : BEV_NEED_MORE; /* what came before goes to evhttp */
        }
        switch (action) {
        case S2L_FRAME_HOLD:
            evbuffer_remove_buffer(src, c->head, line_len + 1);
            break;
        case S2L_FRAME_DROP:
            evbuffer_drain(src, line_len + 1);
            break;
        case S2L_FRAME_CHUNK:
            evbuffer_drain(src, line_len + 1);
            evbuffer_add_printf(dst, "%llx\r\n", (unsigned long long)c->fr.chunk_size);
            moved = true;
            break;
        case S2L_FRAME_CRLF:
            evbuffer_drain(src, line_len + 1);
            evbuffer_add(dst, "\r\n", 2);
            moved = true;
            break;
        }
        if (ev & S2L_FRAME_HEAD_DONE) {
            /* evhttp is told to keep the connection: the guard closes it
             * after the answer has left (request_done). */
            if (c->fr.last_http10)
                evbuffer_add(c->head, "Connection: keep-alive\r\n", 24);
            evbuffer_add(c->head, "\r\n", 2);
            evbuffer_add_buffer(dst, c->head);
            moved = true;
        }
        if (ev & S2L_FRAME_REQUEST_DONE) {
            request_done(c, src);
            if (c->phase != C_OPEN)
                break;
        }
    }
    update_timers(c, evbuffer_get_length(src) + evbuffer_get_length(c->head));
    /* BEV_OK makes the filter run evhttp's read callback; it then calls us
     * again while input is left, which ends with BEV_NEED_MORE. */
    return moved ? BEV_OK : BEV_NEED_MORE;
}

static enum bufferevent_filter_result out_filter(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t lim,
                                                 enum bufferevent_flush_mode mode, void *arg)
{
    conn *c = arg;
    if (c->phase == C_FLUSHING || c->phase == C_LINGERING) {
        evbuffer_drain(src, evbuffer_get_length(src)); /* the connection's last answer is out */
        return BEV_OK;
    }
    evbuffer_add_buffer(dst, src);
    return BEV_OK;
}

/* libevent 2.1's filter moves output on only when it is added while writing
 * is enabled, but evhttp adds its answer first and enables writing after:
 * the move is kicked from the event loop, after evhttp is done. */
static void on_filter_out(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    conn *c = arg;
    if (info->n_added > 0)
        event_active(c->kick, EV_TIMEOUT, 0);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    conn *c = arg;
    /* May run evhttp's write callback, which may free the connection (and c). */
    bufferevent_flush(c->filter, EV_WRITE, BEV_NORMAL);
}

static void conn_free(void *arg)
{
    conn *c = arg;
    s2l_conn_guard *g = c->g;
    if (c->fd >= 0 && (size_t)c->fd < g->n_by_fd && g->by_fd[c->fd] == c)
        g->by_fd[c->fd] = NULL;
    if (c->out_cb)
        evbuffer_remove_cb_entry(bufferevent_get_output(c->inner), c->out_cb);
    if (c->timer)
        event_free(c->timer);
    if (c->kick)
        event_free(c->kick);
    if (c->head)
        evbuffer_free(c->head);
    g->open--;
    free(c);
    if (g->destroyed && g->open == 0) {
        free(g->by_fd);
        free(g);
    }
}

struct bufferevent *s2l_conn_guard_wrap(s2l_conn_guard *g, struct bufferevent *inner)
{
    if (inner == NULL)
        return NULL;
    conn *c = calloc(1, sizeof *c);
    if (c == NULL || (c->timer = evtimer_new(g->base, on_timer, c)) == NULL ||
        (c->kick = event_new(g->base, -1, 0, on_kick, c)) == NULL || (c->head = evbuffer_new()) == NULL) {
        if (c) {
            if (c->timer)
                event_free(c->timer);
            if (c->kick)
                event_free(c->kick);
            free(c);
        }
        bufferevent_free(inner);
        return NULL;
    }
    c->g = g;
    c->inner = inner;
    c->fd = -1;
    s2l_frame_init(&c->fr, &g->frame);
    c->filter = bufferevent_filter_new(inner, in_filter, out_filter, BEV_OPT_CLOSE_ON_FREE, conn_free, c);
    if (c->filter == NULL) {
        event_free(c->timer);
        event_free(c->kick);
        evbuffer_free(c->head);
        free(c);
        bufferevent_free(inner);
        return NULL;
    }
    evbuffer_add_cb(bufferevent_get_output(c->filter), on_filter_out, c);
    g->open++;
    if (g->open > g->max) {
        uint64_t now = s2l_now_us();
        if (now - g->refused_logged_us >= 1000000) {
            s2l_log(S2L_LOG_WARN, "event=connection_refused open=%u max_connections=%u refused_since_last=%u",
                    g->open - 1, g->max, g->refused_quiet + 1);
            g->refused_logged_us = now;
            g->refused_quiet = 0;
        } else {
            g->refused_quiet++;
        }
        s2l_error err;
        s2l_error_set(&err, 503, NULL, "too many open connections (limits.max_connections = %u)", g->max);
        err.retry_after = 5;
        refuse(c, &err, NULL);
    }
    return c->filter;
}

void s2l_conn_guard_replied(s2l_conn_guard *g, const struct bufferevent *bev, int fd)
{
    if (g == NULL || bev == NULL || fd < 0 || (size_t)fd >= g->n_by_fd)
        return;
    conn *c = g->by_fd[fd];
    if (c == NULL || c->filter != bev)
        return;
    c->answered++;
    if (c->phase == C_PENDING && c->answered >= c->forwarded && c->timer_kind != T_EMIT)
        arm(c, T_EMIT, 0);
}

unsigned s2l_conn_guard_open(const s2l_conn_guard *g)
{
    return g->open;
}

unsigned s2l_conn_guard_max(const s2l_conn_guard *g)
{
    return g->max;
}

void s2l_conn_guard_set_limits(s2l_conn_guard *g, const s2l_config *cfg)
{
    g->header_timeout_ms = cfg->limits.header_timeout_ms;
    g->body_timeout_ms = cfg->limits.body_timeout_ms;
    g->frame = (s2l_frame_limits){.max_head = cfg->limits.max_header_bytes};
    g->frame.max_body = cfg->limits.max_body_bytes > cfg->limits.bulk_max_payload_bytes
                            ? cfg->limits.max_body_bytes
                            : cfg->limits.bulk_max_payload_bytes;
}

s2l_conn_guard *s2l_conn_guard_create(struct event_base *base, const s2l_config *cfg, unsigned workers)
{
    s2l_conn_guard *g = calloc(1, sizeof *g);
    if (g == NULL)
        return NULL;
    if (workers == 0)
        workers = 1;
    g->base = base;
    s2l_conn_guard_set_limits(g, cfg);
    /* The limit is the process's: each worker's guard takes its share. */
    g->max = (cfg->limits.max_connections + workers - 1) / workers;
    /* Past the descriptor limit accept() fails and the listener spins: keep
     * room for every worker's LDAP connections, logs and the listeners. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        rlim_t used = 64 + (rlim_t)cfg->ldap.connections * workers;
        rlim_t room = (rl.rlim_cur > 2 * used ? rl.rlim_cur - used : rl.rlim_cur / 2) / workers;
        if ((rlim_t)g->max > room) {
            s2l_log(S2L_LOG_WARN,
                    "event=max_connections_lowered configured=%u used=%u reason=\"descriptor limit %llu\"", g->max,
                    (unsigned)room, (unsigned long long)rl.rlim_cur);
            g->max = (unsigned)room;
        }
    }
    return g;
}

void s2l_conn_guard_destroy(s2l_conn_guard *g)
{
    if (g == NULL)
        return;
    /* evhttp_free frees the connections, but libevent finalises their
     * bufferevents later (deferred, at the latest in event_base_free): the
     * last one frees g. */
    if (g->open > 0) {
        g->destroyed = true;
        return;
    }
    free(g->by_fd);
    free(g);
}
