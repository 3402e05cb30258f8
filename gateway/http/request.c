/* request.c — a request's LDAP ops, its deadline, the one reply path, and
 * the local transport (requests without an HTTP connection). */
#include "request.h"

#include <event2/event.h>
#include <ldap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../generation.h"
#include "../ops/audit_log.h"
#include "../ops/ops.h"
#include "request-internal.h"
#include "route.h"
#include "s2l/ldap_errors.h"
#include "s2l/ldap_text.h"
#include "s2l/log.h"
#include "s2l/mapping.h"

struct s2l_req_adopted {
    void *ptr;
    void (*free_fn)(void *);
    s2l_req_adopted *next;
};

struct s2l_req_op {
    s2l_req *req;
    s2l_ldap_op *op;
    s2l_req_ldap_cb *cb;
    void *arg;
    s2l_ops_ldap kind;           /* for the metrics */
    s2l_req_op *prev, *next;
};

const char *s2l_method_name(s2l_method m)
{
    switch (m) {
    case S2L_GET: return "GET";
    case S2L_POST: return "POST";
    case S2L_PUT: return "PUT";
    case S2L_PATCH: return "PATCH";
    case S2L_DELETE: return "DELETE";
    case S2L_HEAD: return "HEAD";
    case S2L_OPTIONS: return "OPTIONS";
    case S2L_TRACE: return "TRACE";
    case S2L_CONNECT: return "CONNECT";
    }
    return "?";
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

s2l_req *s2l_req_create_(s2l_gateway *gw, const s2l_req_spec *spec)
{
    s2l_req *req = calloc(1, sizeof *req);
    if (req == NULL)
        return NULL;
    req->gw = gw;
    req->id = s2l_gateway_next_req_id(gw);
    req->start_us = s2l_now_us();
    req->method = spec->method;
    req->method_name = s2l_method_name(spec->method);
    req->transport = spec->transport;
    req->transport_ctx = spec->transport_ctx;
    req->authenticated = spec->authenticated;
    if (spec->authenticated && spec->cred) {
        req->auth = s2l_auth_hold(spec->auth);
        req->cred = spec->cred;
    }
    req->base_url = strdup(spec->base_url ? spec->base_url : "");
    req->path = spec->path ? s2l_uri_decode(spec->path, false) : NULL;
    req->path_nul = s2l_uri_has_nul(spec->path);
    req->deadline = evtimer_new(gw->base, on_deadline, req);
    if (req->base_url == NULL || (spec->path && req->path == NULL) || req->deadline == NULL ||
        s2l_query_parse(spec->query, &req->query) < 0) {
        if (req->deadline)
            event_free(req->deadline);
        s2l_auth_release(req->auth);
        free(req->base_url);
        free(req->path);
        free(req);
        return NULL;
    }
    s2l_gateway_hold(gw); /* the generation the request runs on, to its end */
    s2l_ops_request_start(gw->ops);
    unsigned ms = spec->timeout_ms ? spec->timeout_ms : gw->cfg->limits.request_timeout_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(req->deadline, &tv);
    return req;
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
}

/* Cancels what is pending: from here on no callback of the request runs. */
static void stop(s2l_req *req)
{
    while (req->ops) {
        s2l_req_op *o = req->ops;
        unlink_op(o);
        s2l_ldap_cancel(o->op);
        free(o);
    }
    if (req->deadline) {
        event_free(req->deadline);
        req->deadline = NULL;
    }
}

static void local_free(s2l_req *req);

static void release(s2l_req *req)
{
    if (req->state_free)
        req->state_free(req->state);
    while (req->adopted) {
        s2l_req_adopted *a = req->adopted;
        req->adopted = a->next;
        a->free_fn(a->ptr);
        free(a);
    }
    local_free(req);
    s2l_query_fini(&req->query);
    json_decref(req->body);
    free(req->path);
    free(req->base_url);
    free(req->param_copy);
    s2l_audit_free(req);
    s2l_auth_release(req->auth);
    s2l_gateway_release(req->gw);
    free(req);
}

/* The access line. The path is the client's (percent-decoded, so it may hold
 * any byte): it goes in quoted and escaped, and bounded, so that it can neither
 * forge a line or a field nor push the fields after it out of the line. The
 * credential's name comes from the configuration. */
static void log_access(const s2l_req *req, int status)
{
    if ((!s2l_log_enabled(S2L_LOG_INFO) && status < 500) || strcmp(req->gw->cfg->access_log, "json") == 0)
        return; /* the JSON access line: ops/audit_log.c */
    char path[1024];
    const char *p = req->path ? req->path : "?";
    s2l_log_quote(path, sizeof path, p, strlen(p));
    s2l_log(status >= 500 ? S2L_LOG_WARN : S2L_LOG_INFO,
            "event=request req=%llu worker=%u method=%s path=%s status=%d cred=%s ldap_ops=%d latency_us=%llu",
            (unsigned long long)req->id, req->gw->worker, req->method_name ? req->method_name : "?", path, status,
            req->cred ? s2l_auth_cred_name(req->cred) : "-", req->ldap_ops_done,
            (unsigned long long)(s2l_now_us() - req->start_us));
}

/* The request ends here and only here: cancel what is pending, log, hand the
 * reply to the transport, free. */
static void finish_reply(s2l_req *req, const s2l_reply *reply)
{
    stop(req);
    log_access(req, reply->status);
    const s2l_rmap *rm = req->route ? req->route->resource : NULL;
    s2l_ops_request_done(req->gw->ops, rm ? s2l_rmap_info_of(rm)->name : "none", req->method_name, reply->status,
                         s2l_now_us() - req->start_us);
    s2l_audit_request_done(req, reply);
    req->transport->reply(req, reply);
    release(req);
}

static void finish(s2l_req *req, int status, json_t *body, const char *const *headers)
{
    s2l_reply reply = {status, body, headers, NULL, 0};
    finish_reply(req, &reply);
    json_decref(body);
}

void s2l_req_reply_text(s2l_req *req, int status, const char *text, size_t len, const char *const *headers)
{
    s2l_reply reply = {status, NULL, headers, text, len};
    finish_reply(req, &reply);
}

void s2l_req_abort(s2l_req *req)
{
    if (req == NULL)
        return;
    stop(req);
    s2l_log(S2L_LOG_DEBUG, "event=request_aborted req=%llu", (unsigned long long)req->id);
    s2l_ops_request_aborted(req->gw->ops);
    release(req);
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
    if (status >= 500) {
        /* the detail may quote the client (a name, a path): quoted and escaped */
        char detail[sizeof err->detail + 64];
        s2l_log_quote(detail, sizeof detail, err->detail, strlen(err->detail));
        s2l_log(S2L_LOG_ERROR, "event=internal_error req=%llu detail=%s", (unsigned long long)req->id, detail);
    }
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
    /* names the SCIM attribute when the directory refused one of its values */
    s2l_rmap_ldap_error(req->route ? req->route->resource : NULL, res->rc, res->diag, what, s2l_pool_retry_after(req->gw->pool), &err);
    s2l_log(err.status >= 500 ? S2L_LOG_WARN : S2L_LOG_DEBUG,
            "event=ldap_error req=%llu msgid=%d rc=%d status=%d", (unsigned long long)req->id, res->msgid,
            res->rc, err.status);
    s2l_req_reply_error(req, &err);
}

int s2l_req_adopt(s2l_req *req, void *ptr, void (*free_fn)(void *))
{
    s2l_req_adopted *a = malloc(sizeof *a);
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

void s2l_req_set_deadline(s2l_req *req, unsigned ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if (req->deadline)
        evtimer_add(req->deadline, &tv);
}

const char *s2l_req_query(const s2l_req *req, const char *name)
{
    return s2l_query_get(&req->query, name);
}

const char *s2l_req_header(const s2l_req *req, const char *name)
{
    return req->transport->header ? req->transport->header(req, name) : NULL;
}

const char *s2l_req_body_raw(const s2l_req *req, size_t *len)
{
    *len = 0;
    return req->transport->body ? req->transport->body(req, len) : NULL;
}

/* ---- LDAP ops on behalf of a request ---- */

static void on_op_done(const s2l_ldap_result *res, void *arg)
{
    s2l_req_op *o = arg;
    s2l_req *req = o->req;
    unlink_op(o);
    req->ldap_ops_done++;
    s2l_ops_ldap_done(req->gw->ops, o->kind, res->rc, res->latency_us);
    s2l_audit_note_result(req, o->kind, res->rc);
    s2l_req_ldap_cb *cb = o->cb;
    void *cb_arg = o->arg;
    free(o);
    cb(req, res, cb_arg);
}

static s2l_req_op *new_op(s2l_req *req, s2l_ops_ldap kind, s2l_req_ldap_cb *cb, void *arg)
{
    s2l_req_op *o = calloc(1, sizeof *o);
    if (o == NULL)
        return NULL;
    o->kind = kind;
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
    return 0;
}

int s2l_req_ldap_search(s2l_req *req, const s2l_search_req *sr, s2l_req_ldap_cb *cb, void *arg)
{
    s2l_req_op *o = new_op(req, S2L_OPS_SEARCH, cb, arg);
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
    s2l_req_op *o = new_op(req, S2L_OPS_ADD, cb, arg);
    if (o == NULL)
        return -1;
    s2l_write_opts wo = {.post_read = post_read_if_supported(req, post_read)};
    s2l_audit_note_write(req, S2L_OPS_ADD, dn, NULL, attrs);
    return link_op(req, o, s2l_ldap_add_ext(req->gw->pool, dn, attrs, &wo, 0, on_op_done, o));
}

/* Adopting an entry made by another tool adds object classes; OpenLDAP
 * refuses a new structural class (person -> inetOrgPerson) unless the
 * modify carries the Relax Rules control. slapd does not list that control
 * in its root DSE, and servers ignore a non-critical control they lack, so
 * it goes with every modify that adds object classes. */
static bool adds_object_class(const json_t *mods)
{
    size_t i;
    json_t *m;
    json_array_foreach(mods, i, m) {
        const char *attr = json_string_value(json_object_get(m, "attr"));
        const char *op = json_string_value(json_object_get(m, "op"));
        if (attr && op && strcasecmp(attr, "objectClass") == 0 && strcmp(op, "add") == 0)
            return true;
    }
    return false;
}

int s2l_req_ldap_modify(s2l_req *req, const char *dn, const json_t *mods, char *const *post_read,
                        s2l_req_ldap_cb *cb, void *arg)
{
    s2l_req_op *o = new_op(req, S2L_OPS_MODIFY, cb, arg);
    if (o == NULL)
        return -1;
    /* Permissive: a member already present is success for an IdP, and the
     * whole PATCH stays one modify. */
    s2l_write_opts wo = {.permissive = true, .post_read = post_read_if_supported(req, post_read),
                         .relax = adds_object_class(mods)};
    s2l_audit_note_write(req, S2L_OPS_MODIFY, dn, NULL, mods);
    return link_op(req, o, s2l_ldap_modify_ext(req->gw->pool, dn, mods, &wo, 0, on_op_done, o));
}

int s2l_req_ldap_modify_assert(s2l_req *req, const char *dn, const json_t *mods, char *const *post_read,
                               const char *assertion, s2l_req_ldap_cb *cb, void *arg)
{
    s2l_req_op *o = new_op(req, S2L_OPS_MODIFY, cb, arg);
    if (o == NULL)
        return -1;
    s2l_write_opts wo = {.permissive = true, .post_read = post_read_if_supported(req, post_read),
                         .relax = adds_object_class(mods), .assertion = assertion};
    s2l_audit_note_write(req, S2L_OPS_MODIFY, dn, NULL, mods);
    return link_op(req, o, s2l_ldap_modify_ext(req->gw->pool, dn, mods, &wo, 0, on_op_done, o));
}

int s2l_req_ldap_delete_assert(s2l_req *req, const char *dn, const char *assertion, s2l_req_ldap_cb *cb,
                               void *arg)
{
    s2l_req_op *o = new_op(req, S2L_OPS_DELETE, cb, arg);
    if (o == NULL)
        return -1;
    s2l_write_opts wo = {.assertion = assertion};
    s2l_audit_note_write(req, S2L_OPS_DELETE, dn, NULL, NULL);
    return link_op(req, o, s2l_ldap_delete_ext(req->gw->pool, dn, &wo, 0, on_op_done, o));
}

int s2l_req_ldap_rename(s2l_req *req, const char *dn, const char *newrdn, s2l_req_ldap_cb *cb, void *arg)
{
    s2l_req_op *o = new_op(req, S2L_OPS_RENAME, cb, arg);
    if (o == NULL)
        return -1;
    s2l_audit_note_write(req, S2L_OPS_RENAME, dn, newrdn, NULL);
    return link_op(req, o, s2l_ldap_rename(req->gw->pool, dn, newrdn, NULL, true, 0, on_op_done, o));
}

int s2l_req_ldap_move(s2l_req *req, const char *dn, const char *newrdn, const char *new_superior,
                      s2l_req_ldap_cb *cb, void *arg)
{
    s2l_req_op *o = new_op(req, S2L_OPS_RENAME, cb, arg);
    if (o == NULL)
        return -1;
    s2l_audit_note_move(req, dn, newrdn, new_superior);
    return link_op(req, o, s2l_ldap_rename(req->gw->pool, dn, newrdn, new_superior, true, 0, on_op_done, o));
}

int s2l_req_ldap_delete(s2l_req *req, const char *dn, s2l_req_ldap_cb *cb, void *arg)
{
    s2l_req_op *o = new_op(req, S2L_OPS_DELETE, cb, arg);
    if (o == NULL)
        return -1;
    s2l_audit_note_write(req, S2L_OPS_DELETE, dn, NULL, NULL);
    return link_op(req, o, s2l_ldap_delete(req->gw->pool, dn, 0, on_op_done, o));
}

/* ---- the local transport ---- */

typedef struct local_io {
    char **headers;              /* name, value, name, value, ..., NULL */
    s2l_local_done_fn *done;
    void *arg;
    struct event *start;         /* dispatches on the next loop turn */
} local_io;

static bool is_local(const s2l_req *req);

static void local_free(s2l_req *req)
{
    if (!is_local(req))
        return;
    local_io *io = req->transport_ctx;
    if (io->start)
        event_free(io->start);
    s2l_strv_free(io->headers);
    free(io);
}

static const char *local_header(const s2l_req *req, const char *name)
{
    local_io *io = req->transport_ctx;
    for (size_t i = 0; io->headers && io->headers[i] && io->headers[i + 1]; i += 2)
        if (strcasecmp(io->headers[i], name) == 0)
            return io->headers[i + 1];
    return NULL;
}

static void local_reply(s2l_req *req, const s2l_reply *reply)
{
    local_io *io = req->transport_ctx;
    io->done(io->arg, reply);
}

static const s2l_req_transport local_transport = {
    .header = local_header,
    .body = NULL,                /* local requests carry JSON (req->body) */
    .reply = local_reply,
};

static bool is_local(const s2l_req *req)
{
    return req->transport == &local_transport;
}

static void on_local_start(evutil_socket_t fd, short what, void *arg)
{
    s2l_req *req = arg;
    s2l_routes_dispatch(req->gw->routes, req);
}

s2l_req *s2l_req_run_local(s2l_gateway *gw, const s2l_local_req *lr, s2l_local_done_fn *done, void *arg)
{
    local_io *io = calloc(1, sizeof *io);
    if (io == NULL)
        return NULL;
    io->done = done;
    io->arg = arg;
    /* The path as a client would send it: base_path + the relative path. */
    const char *bp = gw->cfg->base_path;
    size_t n = strlen(bp) + strlen(lr->path ? lr->path : "") + 1;
    char *full = malloc(n);
    if (full)
        snprintf(full, n, "%s%s", bp, lr->path ? lr->path : "");
    size_t nh = 0;
    while (lr->headers && lr->headers[nh] && lr->headers[nh + 1])
        nh += 2;
    bool ok = full != NULL;
    if (ok && nh) {
        ok = (io->headers = calloc(nh + 1, sizeof *io->headers)) != NULL;
        for (size_t i = 0; ok && i < nh; i++)
            ok = (io->headers[i] = strdup(lr->headers[i])) != NULL;
    }
    s2l_req_spec spec = {.method = lr->method,
                         .path = full,
                         .query = lr->query,
                         .base_url = lr->base_url,
                         .transport = &local_transport,
                         .transport_ctx = io,
                         .authenticated = lr->authenticated,
                         .auth = lr->auth,
                         .cred = lr->cred,
                         .timeout_ms = lr->timeout_ms};
    s2l_req *req = ok ? s2l_req_create_(gw, &spec) : NULL;
    free(full);
    if (req == NULL) {
        s2l_strv_free(io->headers);
        free(io);
        return NULL;
    }
    req->body = lr->body ? json_incref((json_t *)lr->body) : NULL;
    io->start = evtimer_new(gw->base, on_local_start, req);
    if (io->start == NULL) {
        s2l_req_abort(req);
        return NULL;
    }
    struct timeval now = {0, 0};
    evtimer_add(io->start, &now);
    return req;
}
