/* op.c — one LDAP operation's lifecycle: start (copy/encode the request),
 * send on a connection, collect the response, complete exactly once or be
 * cancelled (see the state list in pool-internal.h). */
#include "pool-internal.h"

#include <stdlib.h>
#include <string.h>

#include "s2l/log.h"

static const char *const kind_names[] = {"search", "add", "modify", "rename", "delete"};

static void op_on_timer(evutil_socket_t fd, short what, void *arg);

/* ---- allocation ---- */

static s2l_ldap_op *op_create(s2l_pool *pool, op_kind kind, unsigned timeout_ms, s2l_ldap_done_fn *cb, void *arg)
{
    s2l_ldap_op *op = calloc(1, sizeof *op);
    if (op == NULL)
        return NULL;
    op->timer = evtimer_new(pool->base, op_on_timer, op);
    if (op->timer == NULL) {
        free(op);
        return NULL;
    }
    op->pool = pool;
    op->kind = kind;
    op->cb = cb;
    op->arg = arg;
    op->msgid = -1;
    op->conn_id = -1;
    op->start_us = s2l_now_us();
    op->res.msgid = -1;
    unsigned ms = timeout_ms ? timeout_ms : pool->timeout_ms;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(op->timer, &tv);
    pool->stats.ops_started++;
    pool->stats.ops_pending++;
    return op;
}

void s2l_op_free_(s2l_ldap_op *op)
{
    if (op == NULL)
        return;
    if (op->list)
        s2l_op_list_remove_(op);
    if (op->conn)
        s2l_conn_untrack_(op->conn, op);
    event_free(op->timer);
    free(op->dn);
    free(op->filter);
    s2l_strv_free(op->attrs);
    s2l_strv_free(op->post_read);
    free(op->assertion);
    free(op->sort_attr);
    free(op->cookie.bv_val);
    ber_memfree(op->resp_cookie.bv_val);
    s2l_mods_free_(op->mods);
    free(op->newrdn);
    free(op->new_superior);
    json_decref(op->entries);
    free(op->diag);
    free(op->matched);
    op->pool->stats.ops_pending--;
    free(op);
}

/* ---- completion ---- */

/* Runs the callback and frees the op. Only called from event callbacks. */
static void op_complete_now(s2l_ldap_op *op)
{
    s2l_pool *pool = op->pool;
    if (op->list)
        s2l_op_list_remove_(op);
    if (op->conn)
        s2l_conn_untrack_(op->conn, op);
    event_del(op->timer);
    op->state = OP_CALLBACK;

    s2l_ldap_result *res = &op->res;
    res->latency_us = s2l_now_us() - op->start_us;
    res->diag = op->diag;
    res->matched_dn = op->matched;
    res->n_entries = op->n_seen;
    res->cookie = (const unsigned char *)op->resp_cookie.bv_val;
    res->cookie_len = op->resp_cookie.bv_len;
    /* Searches carry their entries; writes carry the post-read entry, if any. */
    res->entries = res->rc != LDAP_SERVER_DOWN && res->rc != LDAP_TIMEOUT ? op->entries : NULL;
    if (op->kind == OP_SEARCH && res->entries == NULL && (res->rc == LDAP_SUCCESS || res->rc == LDAP_SIZELIMIT_EXCEEDED)) {
        /* Callers may rely on an array for every completed search. */
        json_decref(op->entries);
        op->entries = json_array();
        res->entries = op->entries;
        if (res->entries == NULL)
            res->rc = LDAP_NO_MEMORY;
    }

    pool->stats.ops_done++;
    if (res->rc != LDAP_SUCCESS)
        pool->stats.ops_failed++;
    if (res->rc == LDAP_TIMEOUT)
        pool->stats.ops_timed_out++;
    if (s2l_log_enabled(S2L_LOG_DEBUG))
        s2l_log(S2L_LOG_DEBUG, "ldap_op op=%s conn=%d msgid=%d rc=%d entries=%zu latency_us=%llu",
                kind_names[op->kind], op->conn_id, res->msgid, res->rc,
                res->entries ? json_array_size(res->entries) : (size_t)0, (unsigned long long)res->latency_us);

    op->cb(res, op->arg);
    s2l_op_free_(op);
}

void s2l_op_finish_later_(s2l_ldap_op *op, int rc, const char *diag)
{
    s2l_pool *pool = op->pool;
    if (op->list)
        s2l_op_list_remove_(op);
    if (op->conn)
        s2l_conn_untrack_(op->conn, op);
    op->res.rc = rc;
    if (diag != NULL && op->diag == NULL)
        op->diag = strdup(diag); /* best effort: a missing diag is not worth failing for */
    op->state = OP_FINISHING;
    s2l_op_list_push_(&pool->finishing, op);
    event_del(op->timer);
    event_active(op->timer, EV_TIMEOUT, 0);
}

static void op_on_timer(evutil_socket_t fd, short what, void *arg)
{
    s2l_ldap_op *op = arg;
    s2l_pool *pool = op->pool;
    switch (op->state) {
    case OP_FINISHING:
        op_complete_now(op);
        return;
    case OP_QUEUED:
        s2l_log(S2L_LOG_WARN, "ldap_op_timeout op=%s conn=-1 queued=%u latency_us=%llu", kind_names[op->kind],
                pool->queue.count, (unsigned long long)(s2l_now_us() - op->start_us));
        op->res.rc = LDAP_TIMEOUT;
        op_complete_now(op);
        return;
    case OP_SENT: {
        s2l_conn *c = op->conn;
        /* Tell the server to stop working on it; libldap then drops late replies. */
        if (s2l_conn_can_write_small_(c))
            ldap_abandon_ext(c->ld, op->msgid, NULL, NULL);
        s2l_log(S2L_LOG_WARN, "ldap_op_timeout op=%s conn=%u msgid=%d latency_us=%llu", kind_names[op->kind], c->id,
                op->msgid, (unsigned long long)(s2l_now_us() - op->start_us));
        op->res.rc = LDAP_TIMEOUT;
        op_complete_now(op);
        /* A slot was freed. */
        s2l_pool_dispatch_(pool);
        return;
    }
    case OP_CALLBACK:
        return;
    }
}

/* ---- sending ---- */

/* The search's controls into ctrls (room for 3, NULL-terminated): sort, then
 * VLV or paged results. */
static int search_controls(s2l_conn *c, s2l_ldap_op *op, LDAPControl **ctrls)
{
    int rc = LDAP_SUCCESS;
    size_t n = 0;
    LDAPSortKey **keys = NULL;
    if (op->sort_attr != NULL) {
        rc = ldap_create_sort_keylist(&keys, op->sort_attr);
        if (rc != LDAP_SUCCESS)
            goto out;
        /* Critical: an unsorted page would be silently wrong. */
        rc = ldap_create_sort_control(c->ld, keys, 1, &ctrls[n]);
        if (rc != LDAP_SUCCESS)
            goto out;
        n++;
    }
    if (op->vlv_count > 0) {
        if (op->vlv_offset > INT32_MAX || op->vlv_count > INT32_MAX) {
            rc = LDAP_PARAM_ERROR;
            goto out;
        }
        LDAPVLVInfo vi = {0};
        vi.ldvlv_version = 1;
        vi.ldvlv_before_count = 0;
        vi.ldvlv_after_count = (ber_int_t)(op->vlv_count - 1);
        vi.ldvlv_offset = (ber_int_t)(op->vlv_offset ? op->vlv_offset : 1);
        vi.ldvlv_count = 0; /* "no estimate": the server uses its own count */
        rc = ldap_create_vlv_control(c->ld, &vi, &ctrls[n]);
    } else if (op->page_size > 0) {
        if (op->page_size > INT32_MAX) {
            rc = LDAP_PARAM_ERROR;
            goto out;
        }
        /* Critical: a server that ignored it would send everything at once. */
        rc = ldap_create_page_control(c->ld, (ber_int_t)op->page_size, op->cookie.bv_len ? &op->cookie : NULL, 1,
                                      &ctrls[n]);
    }
out:
    if (keys)
        ldap_free_sort_keylist(keys);
    return rc;
}

send_status s2l_op_send_(s2l_conn *c, s2l_ldap_op *op, int *rc_out)
{
    LDAPControl *ctrls[3] = {NULL, NULL, NULL};
    int msgid = -1, rc;

    switch (op->kind) {
    case OP_SEARCH:
        rc = search_controls(c, op, ctrls);
        if (rc == LDAP_SUCCESS)
            rc = ldap_search_ext(c->ld, op->dn, op->scope, op->filter, op->attrs, 0, ctrls[0] ? ctrls : NULL, NULL,
                                 NULL, op->size_limit, &msgid);
        ldap_control_free(ctrls[0]);
        ldap_control_free(ctrls[1]);
        if (rc == LDAP_SUCCESS && op->vlv_count > 0 && ++c->vlv_sent >= c->pool->vlv_per_conn &&
            c->pool->vlv_per_conn > 0)
            c->recycle = true; /* see "VLV sessions" in ldap_pool.h */
        break;
    case OP_ADD:
    case OP_MODIFY: {
        /* Both controls are non-critical: a server without them still does the write. */
        LDAPControl permissive = {.ldctl_oid = LDAP_CONTROL_X_PERMISSIVE_MODIFY, .ldctl_iscritical = 0};
        LDAPControl postread = {.ldctl_oid = LDAP_CONTROL_POST_READ, .ldctl_iscritical = 0};
        LDAPControl relax = {.ldctl_oid = S2L_CONTROL_RELAX, .ldctl_iscritical = 0};
        LDAPControl *wctrls[5] = {NULL, NULL, NULL, NULL, NULL};
        LDAPControl *assert_ctrl = NULL;
        size_t n = 0;
        if (op->assertion) {
            /* critical: a server that cannot check it must not do the write */
            rc = ldap_create_assertion_control(c->ld, op->assertion, 1, &assert_ctrl);
            if (rc != LDAP_SUCCESS) {
                *rc_out = rc;
                return SEND_FAILED;
            }
            wctrls[n++] = assert_ctrl;
        }
        if (op->permissive)
            wctrls[n++] = &permissive;
        if (op->relax)
            wctrls[n++] = &relax;
        if (op->post_read) {
            rc = s2l_read_control_value_(op->post_read, &postread.ldctl_value);
            if (rc != LDAP_SUCCESS) {
                ldap_control_free(assert_ctrl);
                *rc_out = rc;
                return SEND_FAILED;
            }
            wctrls[n++] = &postread;
        }
        if (op->kind == OP_ADD)
            rc = ldap_add_ext(c->ld, op->dn, op->mods, n ? wctrls : NULL, NULL, &msgid);
        else
            rc = ldap_modify_ext(c->ld, op->dn, op->mods, n ? wctrls : NULL, NULL, &msgid);
        ber_memfree(postread.ldctl_value.bv_val);
        ldap_control_free(assert_ctrl);
        break;
    }
    case OP_RENAME:
        rc = ldap_rename(c->ld, op->dn, op->newrdn, op->new_superior, op->delete_old_rdn ? 1 : 0, NULL, NULL, &msgid);
        break;
    case OP_DELETE: {
        LDAPControl *assert_ctrl = NULL, *dctrls[2] = {NULL, NULL};
        rc = op->assertion ? ldap_create_assertion_control(c->ld, op->assertion, 1, &assert_ctrl) : LDAP_SUCCESS;
        if (rc != LDAP_SUCCESS) {
            *rc_out = rc;
            return SEND_FAILED;
        }
        dctrls[0] = assert_ctrl;
        rc = ldap_delete_ext(c->ld, op->dn, assert_ctrl ? dctrls : NULL, NULL, &msgid);
        ldap_control_free(assert_ctrl);
        break;
    }
    default:
        rc = LDAP_PARAM_ERROR;
        break;
    }

    *rc_out = rc;
    if (rc == LDAP_SUCCESS) {
        op->msgid = msgid;
        op->res.msgid = msgid;
        op->res.conn = (s2l_conn_pin){c->id + 1, c->gen};
        op->conn_id = (int)c->id;
        op->state = OP_SENT;
        s2l_conn_track_(c, op);
        /* Sent, but libldap kept part of it for later: stop using this
         * connection until the socket drains. */
        int err = LDAP_SUCCESS;
        ldap_get_option(c->ld, LDAP_OPT_RESULT_CODE, &err);
        if (err == LDAP_BUSY)
            s2l_conn_block_writes_(c);
        return SEND_OK;
    }
    if (rc == LDAP_BUSY) {
        s2l_conn_block_writes_(c);
        return SEND_BUSY;
    }
    if (rc == LDAP_FILTER_ERROR || rc == LDAP_PARAM_ERROR || rc == LDAP_NO_MEMORY || rc == LDAP_ENCODING_ERROR ||
        rc == LDAP_NOT_SUPPORTED)
        return SEND_FAILED;
    return SEND_BROKEN;
}

/* ---- responses ---- */

static void parse_controls(s2l_conn *c, s2l_ldap_op *op, LDAPControl **ctrls)
{
    if (ctrls == NULL)
        return;
    LDAPControl *vlv = ldap_control_find(LDAP_CONTROL_VLVRESPONSE, ctrls, NULL);
    if (vlv != NULL) {
        ber_int_t target = 0, count = 0;
        struct berval *context = NULL;
        int err = 0;
        if (ldap_parse_vlvresponse_control(c->ld, vlv, &target, &count, &context, &err) == LDAP_SUCCESS) {
            op->res.has_vlv = true;
            op->res.vlv_target = target > 0 ? (unsigned long)target : 0;
            op->res.vlv_count = count > 0 ? (unsigned long)count : 0;
            op->res.vlv_rc = err;
            if (context)
                ber_bvfree(context);
        }
    }
    LDAPControl *post = ldap_control_find(LDAP_CONTROL_POST_READ, ctrls, NULL);
    if (post != NULL && op->entries == NULL) {
        json_t *e = s2l_entry_from_read_control_(post);
        /* Without it the caller reads the entry back itself; not an error. */
        if (e != NULL && (op->entries = json_array()) != NULL)
            json_array_append_new(op->entries, e);
        else
            json_decref(e);
    }
    LDAPControl *paged = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, NULL);
    if (paged != NULL && op->resp_cookie.bv_val == NULL) {
        ber_int_t size = 0;
        struct berval cookie = {0, NULL};
        if (ldap_parse_pageresponse_control(c->ld, paged, &size, &cookie) == LDAP_SUCCESS) {
            op->res.has_paged = true;
            op->res.paged_size = size > 0 ? (unsigned long)size : 0;
            op->resp_cookie = cookie;
        }
    }
    LDAPControl *sort = ldap_control_find(LDAP_CONTROL_SORTRESPONSE, ctrls, NULL);
    if (sort != NULL) {
        ber_int_t result = 0;
        char *attr = NULL;
        if (ldap_parse_sortresponse_control(c->ld, sort, &result, &attr) == LDAP_SUCCESS) {
            op->res.has_sort = true;
            op->res.sort_rc = (int)result;
            if (attr)
                ldap_memfree(attr);
        }
    }
}

static void handle_entry(s2l_conn *c, s2l_ldap_op *op, LDAPMessage *msg)
{
    size_t pos = op->n_seen++;
    if (op->entries_oom || (op->window && (pos < op->keep_from || pos - op->keep_from >= op->keep_count)))
        return;
    if (op->entries == NULL)
        op->entries = json_array();
    json_t *e = op->entries ? s2l_entry_to_json_(c->ld, msg) : NULL;
    if (e == NULL || json_array_append_new(op->entries, e) != 0) {
        /* Keep reading to the end of the search (the connection stays in sync),
         * then fail the op: a partial list must not look complete. */
        op->entries_oom = true;
        json_decref(op->entries);
        op->entries = NULL;
    }
}

void s2l_op_handle_msg_(s2l_conn *c, s2l_ldap_op *op, LDAPMessage *msg)
{
    int type = ldap_msgtype(msg);
    if (type == LDAP_RES_SEARCH_ENTRY) {
        handle_entry(c, op, msg);
        ldap_msgfree(msg);
        return;
    }
    if (type == LDAP_RES_SEARCH_REFERENCE || type == LDAP_RES_INTERMEDIATE) {
        /* Continuation references point at other servers; we do not chase them. */
        ldap_msgfree(msg);
        return;
    }

    int err = LDAP_OTHER;
    char *matched = NULL, *diag = NULL;
    LDAPControl **ctrls = NULL;
    int rc = ldap_parse_result(c->ld, msg, &err, &matched, &diag, NULL, &ctrls, 1);
    if (rc != LDAP_SUCCESS)
        err = rc;
    if (matched && matched[0])
        op->matched = strdup(matched);
    if (diag && diag[0])
        op->diag = strdup(diag);
    ldap_memfree(matched);
    ldap_memfree(diag);
    parse_controls(c, op, ctrls);
    ldap_controls_free(ctrls);
    if (op->entries_oom && err == LDAP_SUCCESS)
        err = LDAP_NO_MEMORY;
    /* sssvlv's answer when its sessions are used up: reopen this connection
     * (see "VLV sessions" in ldap_pool.h); the caller may retry. */
    if (err == LDAP_BUSY && op->vlv_count > 0)
        c->recycle = true;
    op->res.rc = err;
    op_complete_now(op);
}

/* ---- public API ---- */

/* The common tail of every start call: queue, or fail on the next loop turn. */
static s2l_ldap_op *op_submit(s2l_ldap_op *op, int encode_rc)
{
    s2l_pool *pool = op->pool;
    if (encode_rc != LDAP_SUCCESS) {
        s2l_op_finish_later_(op, encode_rc, "the request could not be encoded");
        return op;
    }
    if (s2l_pool_up_count_(pool) == 0) {
        s2l_op_finish_later_(op, LDAP_SERVER_DOWN, pool->down_reason[0] ? pool->down_reason : "no directory connection is up");
        return op;
    }
    if (pool->queue.count >= pool->queue_max) {
        s2l_op_finish_later_(op, LDAP_BUSY, "too many directory operations waiting");
        return op;
    }
    op_list *queue = &pool->queue;
    if (op->pin.conn) {
        s2l_conn *c = op->pin.conn <= pool->nconns ? &pool->conns[op->pin.conn - 1] : NULL;
        if (c == NULL || c->state != CONN_UP || (op->pin.gen && op->pin.gen != c->gen)) {
            s2l_op_finish_later_(op, LDAP_SERVER_DOWN, "the directory connection of this paged search was closed");
            return op;
        }
        queue = &c->pinned;
    }
    op->state = OP_QUEUED;
    s2l_op_list_push_(queue, op);
    s2l_pool_dispatch_(pool);
    return op;
}

static int dup_str(char **dst, const char *src)
{
    if (src == NULL)
        return LDAP_SUCCESS;
    *dst = strdup(src);
    return *dst ? LDAP_SUCCESS : LDAP_NO_MEMORY;
}

s2l_ldap_op *s2l_ldap_search(s2l_pool *pool, const s2l_search_req *req, unsigned timeout_ms, s2l_ldap_done_fn *cb,
                             void *arg)
{
    s2l_ldap_op *op = op_create(pool, OP_SEARCH, timeout_ms, cb, arg);
    if (op == NULL)
        return NULL;
    int rc = LDAP_SUCCESS;
    op->scope = req->scope;
    op->size_limit = req->size_limit;
    op->vlv_offset = req->vlv_offset;
    op->vlv_count = req->vlv_count;
    op->page_size = req->page_size;
    op->pin = req->pin;
    op->window = req->window;
    op->keep_from = req->keep_from;
    op->keep_count = req->keep_count;
    if (req->cookie_len > 0) {
        if ((op->cookie.bv_val = malloc(req->cookie_len)) == NULL)
            rc = LDAP_NO_MEMORY;
        else {
            memcpy(op->cookie.bv_val, req->cookie, req->cookie_len);
            op->cookie.bv_len = req->cookie_len;
        }
    }
    /* Paged results and VLV cannot be combined (RFC 2696 vs. the VLV draft). */
    if (rc == LDAP_SUCCESS && req->vlv_count > 0 && req->page_size > 0)
        rc = LDAP_PARAM_ERROR;
    if (rc == LDAP_SUCCESS)
        rc = dup_str(&op->dn, req->base ? req->base : "");
    if (rc == LDAP_SUCCESS)
        rc = dup_str(&op->filter, req->filter ? req->filter : "(objectClass=*)");
    if (rc == LDAP_SUCCESS)
        rc = dup_str(&op->sort_attr, req->sort_attr && req->sort_attr[0] ? req->sort_attr : NULL);
    /* VLV is defined over a sorted list; there is no sensible default order. */
    if (rc == LDAP_SUCCESS && req->vlv_count > 0 && (req->sort_attr == NULL || req->sort_attr[0] == '\0'))
        rc = LDAP_PARAM_ERROR;
    if (rc == LDAP_SUCCESS && req->attrs != NULL) {
        op->attrs = s2l_strv_dup(req->attrs);
        if (op->attrs == NULL)
            rc = LDAP_NO_MEMORY;
    }
    return op_submit(op, rc);
}

static int apply_write_opts(s2l_ldap_op *op, const s2l_write_opts *opts)
{
    if (opts == NULL)
        return LDAP_SUCCESS;
    op->permissive = opts->permissive;
    op->relax = opts->relax;
    if (opts->post_read) {
        op->post_read = s2l_strv_dup(opts->post_read);
        if (op->post_read == NULL)
            return LDAP_NO_MEMORY;
    }
    if (opts->assertion)
        return dup_str(&op->assertion, opts->assertion);
    return LDAP_SUCCESS;
}

/* Adds and modifies differ only in how the JSON becomes LDAPMods. */
static s2l_ldap_op *write_op(s2l_pool *pool, op_kind kind, const char *dn, const json_t *json,
                             const s2l_write_opts *opts, unsigned timeout_ms, s2l_ldap_done_fn *cb, void *arg)
{
    s2l_ldap_op *op = op_create(pool, kind, timeout_ms, cb, arg);
    if (op == NULL)
        return NULL;
    int rc = dup_str(&op->dn, dn ? dn : "");
    if (rc == LDAP_SUCCESS)
        rc = apply_write_opts(op, opts);
    if (rc == LDAP_SUCCESS)
        op->mods = kind == OP_ADD ? s2l_mods_from_attrs_(json, &rc) : s2l_mods_from_json_(json, &rc);
    return op_submit(op, rc);
}

s2l_ldap_op *s2l_ldap_add_ext(s2l_pool *pool, const char *dn, const json_t *attrs, const s2l_write_opts *opts,
                              unsigned timeout_ms, s2l_ldap_done_fn *cb, void *arg)
{
    return write_op(pool, OP_ADD, dn, attrs, opts, timeout_ms, cb, arg);
}

s2l_ldap_op *s2l_ldap_modify_ext(s2l_pool *pool, const char *dn, const json_t *mods, const s2l_write_opts *opts,
                                 unsigned timeout_ms, s2l_ldap_done_fn *cb, void *arg)
{
    return write_op(pool, OP_MODIFY, dn, mods, opts, timeout_ms, cb, arg);
}

s2l_ldap_op *s2l_ldap_rename(s2l_pool *pool, const char *dn, const char *newrdn, const char *new_superior,
                             bool delete_old_rdn, unsigned timeout_ms, s2l_ldap_done_fn *cb, void *arg)
{
    s2l_ldap_op *op = op_create(pool, OP_RENAME, timeout_ms, cb, arg);
    if (op == NULL)
        return NULL;
    int rc = dup_str(&op->dn, dn ? dn : "");
    if (rc == LDAP_SUCCESS)
        rc = newrdn ? dup_str(&op->newrdn, newrdn) : LDAP_PARAM_ERROR;
    if (rc == LDAP_SUCCESS)
        rc = dup_str(&op->new_superior, new_superior);
    op->delete_old_rdn = delete_old_rdn;
    return op_submit(op, rc);
}

s2l_ldap_op *s2l_ldap_delete(s2l_pool *pool, const char *dn, unsigned timeout_ms, s2l_ldap_done_fn *cb, void *arg)
{
    s2l_ldap_op *op = op_create(pool, OP_DELETE, timeout_ms, cb, arg);
    if (op == NULL)
        return NULL;
    int rc = dup_str(&op->dn, dn ? dn : "");
    return op_submit(op, rc);
}

s2l_ldap_op *s2l_ldap_delete_ext(s2l_pool *pool, const char *dn, const s2l_write_opts *opts, unsigned timeout_ms,
                                 s2l_ldap_done_fn *cb, void *arg)
{
    s2l_ldap_op *op = op_create(pool, OP_DELETE, timeout_ms, cb, arg);
    if (op == NULL)
        return NULL;
    int rc = dup_str(&op->dn, dn ? dn : "");
    if (rc == LDAP_SUCCESS && opts && opts->assertion)
        rc = dup_str(&op->assertion, opts->assertion);
    return op_submit(op, rc);
}

void s2l_ldap_cancel(s2l_ldap_op *op)
{
    if (op == NULL)
        return;
    s2l_pool *pool = op->pool;
    switch (op->state) {
    case OP_CALLBACK:
        /* Its own callback is running; it is freed when that returns. */
        return;
    case OP_SENT: {
        s2l_conn *c = op->conn;
        if (s2l_conn_can_write_small_(c))
            ldap_abandon_ext(c->ld, op->msgid, NULL, NULL);
        s2l_op_free_(op);
        pool->stats.ops_cancelled++;
        /* A slot was freed; dispatch never runs callbacks, so this is safe here. */
        s2l_pool_dispatch_(pool);
        return;
    }
    case OP_QUEUED:
    case OP_FINISHING:
        s2l_op_free_(op);
        pool->stats.ops_cancelled++;
        return;
    }
}
