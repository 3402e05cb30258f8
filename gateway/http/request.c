/* request.c — a request's LDAP ops, its deadline, and the one reply path. */
#include "request.h"

#include <sys/queue.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <ldap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "request-internal.h"
#include "s2l/ldap_errors.h"
#include "s2l/log.h"
#include "server.h"

struct s2l_req_adopted {
    void *ptr;
    void (*free_fn)(void *);
    struct s2l_req_adopted *next;
};

struct s2l_req_op {
    s2l_req *req;
    s2l_ldap_op *op;
    s2l_req_ldap_cb *cb;
    void *arg;
    s2l_req_op *prev, *next;
};

static uint64_t now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    s2l_req *req = arg;
    s2l_error err;
    s2l_error_set(&err, 503, NULL, "the directory did not answer within %u ms",
                  req->gw->cfg->limits.request_timeout_ms);
    err.retry_after = 5;
    s2l_req_reply_error(req, &err);
}

s2l_req *s2l_req_create_(s2l_server *srv, s2l_gateway *gw, struct evhttp_request *evreq, uint64_t id,
                         uint64_t start_us)
{
    s2l_req *req = calloc(1, sizeof *req);
    if (req == NULL)
        return NULL;
    req->srv = srv;
    req->gw = gw;
    req->evreq = evreq;
    req->id = id;
    req->start_us = start_us;
    TAILQ_INIT(&req->query);
    req->deadline = evtimer_new(gw->base, on_deadline, req);
    if (req->deadline == NULL) {
        free(req);
        return NULL;
    }
    unsigned ms = gw->cfg->limits.request_timeout_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(req->deadline, &tv);
    return req;
}

static void free_text(const void *data, size_t len, void *arg)
{
    free((void *)data);
}

static void unlink_op(s2l_req_op *o)
{
    s2l_req *req = o->req;
    if (o->prev)
        o->prev->next = o->next;
    else
        req->ops = o->next;
    if (o->next)
        o->next->prev = o->prev;
    req->n_ops--;
}

/* The access line. The path is the client's (percent-decoded, so it may hold
 * any byte): it goes in quoted and escaped, and bounded, so that it can neither
 * forge a line or a field nor push the fields after it out of the line. */
static void log_access(const s2l_req *req, int status)
{
    if (!s2l_log_enabled(S2L_LOG_INFO) && status < 500)
        return;
    char path[1024];
    const char *p = req->path ? req->path : "?";
    s2l_log_quote(path, sizeof path, p, strlen(p));
    s2l_log(status >= 500 ? S2L_LOG_WARN : S2L_LOG_INFO,
            "event=request req=%llu method=%s path=%s status=%d ldap_ops=%d latency_us=%llu",
            (unsigned long long)req->id, req->method_name ? req->method_name : "?", path, status,
            req->ldap_ops_done, (unsigned long long)(now_us() - req->start_us));
}

/* The request ends here and only here: cancel what is pending, send, log, free. */
static void finish(s2l_req *req, int status, json_t *body, const char *const *headers)
{
    while (req->ops) {
        s2l_req_op *o = req->ops;
        unlink_op(o);
        s2l_ldap_cancel(o->op);
        free(o);
    }
    if (req->deadline)
        event_free(req->deadline);

    struct evkeyvalq *out = evhttp_request_get_output_headers(req->evreq);
    struct evbuffer *buf = NULL;
    if (body) {
        evhttp_add_header(out, "Content-Type", "application/scim+json; charset=utf-8");
        char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        buf = evbuffer_new();
        /* On success the buffer owns text and frees it after sending. */
        if (text && buf && evbuffer_add_reference(buf, text, strlen(text), free_text, NULL) == 0)
            text = NULL;
        free(text);
    }
    for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
        evhttp_add_header(out, headers[i], headers[i + 1]);

    log_access(req, status);

    evhttp_send_reply(req->evreq, status, NULL, buf);
    if (buf)
        evbuffer_free(buf);
    json_decref(body);

    if (req->state_free)
        req->state_free(req->state);
    while (req->adopted) {
        struct s2l_req_adopted *a = req->adopted;
        req->adopted = a->next;
        a->free_fn(a->ptr);
        free(a);
    }
    if (req->query_parsed)
        evhttp_clear_headers(&req->query);
    json_decref(req->body);
    free(req->path);
    free(req->base_url);
    free(req->resource_id);
    s2l_server *srv = req->srv;
    free(req);
    s2l_server_request_done_(srv);
}

void s2l_req_reply_json(s2l_req *req, int status, json_t *body, const char *const *headers)
{
    finish(req, status, body, headers);
}

void s2l_req_reply_error(s2l_req *req, const s2l_error *err)
{
    int status = err->status ? err->status : 500;
    if (status == 503 || err->retry_after) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", err->retry_after > 0 ? err->retry_after : 1);
        const char *hdr[] = {"Retry-After", ra, NULL};
        finish(req, status, s2l_error_to_json(err), hdr);
        return;
    }
    if (status >= 500)
        s2l_log(S2L_LOG_ERROR, "event=internal_error req=%llu detail=\"%s\"", (unsigned long long)req->id,
                err->detail);
    finish(req, status, s2l_error_to_json(err), NULL);
}

void s2l_req_fail(s2l_req *req, int status, const char *scim_type, const char *fmt, ...)
{
    s2l_error err;
    s2l_error_clear(&err);
    err.status = status;
    err.scim_type = scim_type;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.detail, sizeof err.detail, fmt, ap);
    va_end(ap);
    if (status == 503)
        err.retry_after = (int)s2l_pool_retry_after(req->gw->pool);
    s2l_req_reply_error(req, &err);
}

void s2l_req_fail_ldap(s2l_req *req, const s2l_ldap_result *res, const char *what)
{
    s2l_error err;
    s2l_error_clear(&err);
    s2l_ldap_error_to_scim(res->rc, res->diag, what, s2l_pool_retry_after(req->gw->pool), &err);
    s2l_log(err.status >= 500 ? S2L_LOG_WARN : S2L_LOG_DEBUG,
            "event=ldap_error req=%llu msgid=%d rc=%d status=%d", (unsigned long long)req->id, res->msgid,
            res->rc, err.status);
    s2l_req_reply_error(req, &err);
}

int s2l_req_adopt(s2l_req *req, void *ptr, void (*free_fn)(void *))
{
    struct s2l_req_adopted *a = malloc(sizeof *a);
    if (a == NULL) {
        free_fn(ptr);
        return -1;
    }
    a->ptr = ptr;
    a->free_fn = free_fn;
    a->next = req->adopted;
    req->adopted = a;
    return 0;
}

const char *s2l_req_query(s2l_req *req, const char *name)
{
    return req->query_parsed ? evhttp_find_header(&req->query, name) : NULL;
}

const char *s2l_req_header(s2l_req *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req->evreq), name);
}

/* ---- LDAP ops on behalf of a request ---- */

static void on_op_done(const s2l_ldap_result *res, void *arg)
{
    s2l_req_op *o = arg;
    s2l_req *req = o->req;
    unlink_op(o);
    req->ldap_ops_done++;
    s2l_req_ldap_cb *cb = o->cb;
    void *cb_arg = o->arg;
    free(o);
    cb(req, res, cb_arg);
}

static s2l_req_op *new_op(s2l_req *req, s2l_req_ldap_cb *cb, void *arg)
{
    s2l_req_op *o = calloc(1, sizeof *o);
    if (o == NULL)
        return NULL;
    o->req = req;
    o->cb = cb;
    o->arg = arg;
    return o;
}

static int link_op(s2l_req *req, s2l_req_op *o, s2l_ldap_op *op)
{
    if (op == NULL) {
        free(o);
        return -1;
    }
    o->op = op;
    o->next = req->ops;
    if (req->ops)
        req->ops->prev = o;
    req->ops = o;
    req->n_ops++;
    return 0;
}

int s2l_req_ldap_search(s2l_req *req, const s2l_search_req *sr, s2l_req_ldap_cb *cb, void *arg)
{
    s2l_req_op *o = new_op(req, cb, arg);
    if (o == NULL)
        return -1;
    return link_op(req, o, s2l_ldap_search(req->gw->pool, sr, 0, on_op_done, o));
}

/* The post-read control only when the server listed it in its root DSE. */
static char *const *post_read_if_supported(s2l_req *req, char *const *post_read)
{
    return post_read && s2l_pool_supports_control(req->gw->pool, LDAP_CONTROL_POST_READ) ? post_read : NULL;
}

int s2l_req_ldap_add(s2l_req *req, const char *dn, const json_t *attrs, char *const *post_read,
                     s2l_req_ldap_cb *cb, void *arg)
{
    s2l_req_op *o = new_op(req, cb, arg);
    if (o == NULL)
        return -1;
    s2l_write_opts wo = {.post_read = post_read_if_supported(req, post_read)};
    return link_op(req, o, s2l_ldap_add_ext(req->gw->pool, dn, attrs, &wo, 0, on_op_done, o));
}

int s2l_req_ldap_modify(s2l_req *req, const char *dn, const json_t *mods, char *const *post_read,
                        s2l_req_ldap_cb *cb, void *arg)
{
    s2l_req_op *o = new_op(req, cb, arg);
    if (o == NULL)
        return -1;
    /* Permissive: a member already present is success for an IdP, and the
     * whole PATCH stays one modify. */
    s2l_write_opts wo = {.permissive = true, .post_read = post_read_if_supported(req, post_read)};
    return link_op(req, o, s2l_ldap_modify_ext(req->gw->pool, dn, mods, &wo, 0, on_op_done, o));
}

int s2l_req_ldap_rename(s2l_req *req, const char *dn, const char *newrdn, s2l_req_ldap_cb *cb, void *arg)
{
    s2l_req_op *o = new_op(req, cb, arg);
    if (o == NULL)
        return -1;
    return link_op(req, o, s2l_ldap_rename(req->gw->pool, dn, newrdn, NULL, true, 0, on_op_done, o));
}

int s2l_req_ldap_delete(s2l_req *req, const char *dn, s2l_req_ldap_cb *cb, void *arg)
{
    s2l_req_op *o = new_op(req, cb, arg);
    if (o == NULL)
        return -1;
    return link_op(req, o, s2l_ldap_delete(req->gw->pool, dn, 0, on_op_done, o));
}
