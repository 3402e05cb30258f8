/* conn.c — one pooled LDAP connection: the connect/StartTLS/bind/root-DSE
 * state machine, the read handler that drains libldap, write backpressure,
 * failure and reconnect with backoff (see the diagram in pool-internal.h).
 *
 * libldap facts this relies on (OpenLDAP 2.5):
 *  - With LDAP_OPT_CONNECT_ASYNC *and* a network timeout, the first request
 *    starts a non-blocking connect and returns LDAP_X_CONNECTING; sending again
 *    once the fd is writable completes the connect and sends.
 *  - After connecting libldap puts the socket back into blocking mode; we set
 *    O_NONBLOCK again so reads and writes never block the loop. A request that
 *    cannot be written fully stays in libldap ("WRITING"), is finished by
 *    ldap_result() when the fd is writable, and makes further sends return
 *    LDAP_BUSY until then.
 *  - ldap_result() with a zero timeout may consume bytes without completing a
 *    message and return 0; one retry covers a message that became complete.
 */
#include "pool-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "s2l/ldap_errors.h"
#include "s2l/log.h"

/* Messages handled per read event before yielding to other connections and
 * the HTTP side. */
#define DRAIN_BUDGET 64

static const char *const state_names[] = {"down", "connecting", "starttls", "binding", "rootdse", "up", "backoff"};

static void conn_on_read(evutil_socket_t fd, short what, void *arg);
static void conn_on_write(evutil_socket_t fd, short what, void *arg);
static void conn_on_timer(evutil_socket_t fd, short what, void *arg);
static void conn_send_first(s2l_conn *c);

/* ---- msgid table ---- */

static unsigned bucket_of(const s2l_conn *c, int msgid)
{
    return ((unsigned)msgid * 2654435761u) & (c->nbuckets - 1);
}

void s2l_conn_track_(s2l_conn *c, s2l_ldap_op *op)
{
    unsigned b = bucket_of(c, op->msgid);
    op->hnext = c->buckets[b];
    c->buckets[b] = op;
    op->conn = c;
    s2l_op_list_push_(&c->ops, op);
}

void s2l_conn_untrack_(s2l_conn *c, s2l_ldap_op *op)
{
    s2l_ldap_op **pp = &c->buckets[bucket_of(c, op->msgid)];
    while (*pp && *pp != op)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = op->hnext;
    op->hnext = NULL;
    op->conn = NULL;
    if (op->list == &c->ops)
        s2l_op_list_remove_(op);
}

static s2l_ldap_op *conn_find(const s2l_conn *c, int msgid)
{
    s2l_ldap_op *op = c->buckets[bucket_of(c, msgid)];
    while (op && op->msgid != msgid)
        op = op->hnext;
    return op;
}

/* ---- lifecycle ---- */

int s2l_conn_init_(s2l_conn *c, s2l_pool *pool, unsigned id)
{
    memset(c, 0, sizeof *c);
    c->pool = pool;
    c->id = id;
    c->fd = -1;
    c->hs_msgid = -1;
    c->state = CONN_DOWN;
    /* The table holds at most max_ops_per_conn ops; keep chains short. */
    c->nbuckets = 16;
    while (c->nbuckets < pool->max_ops_per_conn * 2 && c->nbuckets < (1u << 20))
        c->nbuckets <<= 1;
    c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
    c->timer = evtimer_new(pool->base, conn_on_timer, c);
    if (c->buckets == NULL || c->timer == NULL)
        return -1;
    return 0;
}

/* Unbinds and forgets the socket; ops are left to the caller. */
static void conn_teardown(s2l_conn *c)
{
    if (c->rev)
        event_del(c->rev);
    if (c->wev)
        event_del(c->wev);
    if (c->timer)
        event_del(c->timer);
    if (c->ld) {
        ldap_unbind_ext(c->ld, NULL, NULL);
        c->ld = NULL;
    }
    c->fd = -1;
    c->hs_msgid = -1;
    c->write_blocked = false;
    s2l_strv_free(c->rootdse);
    c->rootdse = NULL;
    c->n_rootdse = 0;
    c->rootdse_seen = false;
    c->gen++;
}

void s2l_conn_fini_(s2l_conn *c)
{
    conn_teardown(c);
    /* Freed here, not in conn_teardown: teardown may run inside these events' callbacks. */
    if (c->rev)
        event_free(c->rev);
    if (c->wev)
        event_free(c->wev);
    if (c->timer)
        event_free(c->timer);
    free(c->buckets);
    c->rev = c->wev = c->timer = NULL;
    c->buckets = NULL;
    c->state = CONN_DOWN;
}

static void conn_arm_timer(s2l_conn *c, unsigned ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
}

const char *s2l_conn_uri_(const s2l_conn *c)
{
    return c->pool->uris[c->srv];
}

/* A backoff is waited out in slices of at most this long, so that a pool
 * sees within one slice that another pool of the process got the directory
 * back (s2l_pool_up_epoch_). */
#define BACKOFF_SLICE_MS 100u

void s2l_conn_retry_in_(s2l_conn *c, unsigned delay_ms)
{
    /* The next attempt goes to whatever server is current then (see s2l_conn_start_). */
    c->srv = c->pool->srv;
    c->state = CONN_BACKOFF;
    c->next_attempt_us = s2l_now_us() + (uint64_t)delay_ms * 1000;
    c->up_epoch = s2l_pool_up_epoch_();
    conn_arm_timer(c, delay_ms < BACKOFF_SLICE_MS ? delay_ms : BACKOFF_SLICE_MS);
}

/* A backoff slice ended: attempt now when the backoff is over or another
 * pool reconnected meanwhile, else wait another slice. */
static void conn_backoff_tick(s2l_conn *c)
{
    uint64_t now = s2l_now_us();
    if (now >= c->next_attempt_us || s2l_pool_up_epoch_() != c->up_epoch) {
        s2l_conn_start_(c);
        return;
    }
    uint64_t left_ms = (c->next_attempt_us - now + 999) / 1000;
    conn_arm_timer(c, left_ms < BACKOFF_SLICE_MS ? (unsigned)left_ms : BACKOFF_SLICE_MS);
}

void s2l_conn_restart_(s2l_conn *c, unsigned delay_ms)
{
    conn_teardown(c);
    s2l_conn_retry_in_(c, delay_ms);
}

void s2l_conn_fail_(s2l_conn *c, int rc, const char *why)
{
    s2l_pool *pool = c->pool;
    /* A recycled connection that cannot come back counts as lost. */
    bool was_up = c->state == CONN_UP || c->recycling;
    char *diag = NULL;
    if (c->ld)
        ldap_get_option(c->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
    if (c->probe) {
        /* The first server is still not there: nothing to fail, try later. */
        s2l_log(S2L_LOG_INFO, "ldap_pool event=failback_probe result=failed uri=%s state=%s rc=%d err=\"%s\" why=%s",
                s2l_conn_uri_(c), state_names[c->state], rc, ldap_err2string(rc), why);
        ldap_memfree(diag);
        conn_teardown(c);
        c->state = CONN_DOWN;
        s2l_pool_probe_done_(pool, false);
        return;
    }
    /* A server that stays down would log a line per attempt; keep the first
     * failure of a streak and then only attempts 2, 4, 8, ... visible. */
    unsigned streak = c->failures + 1;
    s2l_log_level level = was_up ? S2L_LOG_WARN : (streak & (streak - 1)) == 0 ? S2L_LOG_INFO : S2L_LOG_DEBUG;
    s2l_log(level, "ldap_conn conn=%u event=down state=%s rc=%d err=\"%s\" why=%s attempt=%u uri=%s%s%s%s", c->id,
            state_names[c->state], rc, ldap_err2string(rc), why, streak, s2l_conn_uri_(c), diag ? " diag=\"" : "",
            diag ? diag : "", diag ? "\"" : "");
    snprintf(pool->down_reason, sizeof pool->down_reason, "no directory connection is up (last failure: %s: %s)", why,
             ldap_err2string(rc));
    ldap_memfree(diag);

    conn_teardown(c);
    c->recycle = c->recycling = false;
    c->state = CONN_DOWN;
    while (c->ops.head)
        s2l_op_finish_later_(c->ops.head, LDAP_SERVER_DOWN, "the directory connection was lost");
    /* Pinned ops belong to the session that just ended. */
    while (c->pinned.head)
        s2l_op_finish_later_(c->pinned.head, LDAP_SERVER_DOWN, "the directory connection was lost");

    c->failures++;
    /* Same server with backoff, or the next server (failover). */
    s2l_pool_conn_failed_(pool, c);
    if (was_up)
        s2l_pool_conn_lost_(pool);
}

/* Options applied to every new handle. Bounded connect: the network timeout
 * is what makes libldap's connect non-blocking (and bounds TLS handshakes). */
static int conn_set_options(s2l_conn *c)
{
    s2l_pool *pool = c->pool;
    int version = LDAP_VERSION3, rc;
    struct timeval net = {(time_t)(pool->connect_timeout_ms / 1000),
                          (suseconds_t)(pool->connect_timeout_ms % 1000) * 1000};
    if ((rc = ldap_set_option(c->ld, LDAP_OPT_PROTOCOL_VERSION, &version)) != LDAP_OPT_SUCCESS)
        return rc;
    if ((rc = ldap_set_option(c->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF)) != LDAP_OPT_SUCCESS)
        return rc;
    if ((rc = ldap_set_option(c->ld, LDAP_OPT_RESTART, LDAP_OPT_ON)) != LDAP_OPT_SUCCESS)
        return rc;
    if ((rc = ldap_set_option(c->ld, LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON)) != LDAP_OPT_SUCCESS)
        return rc;
    if ((rc = ldap_set_option(c->ld, LDAP_OPT_NETWORK_TIMEOUT, &net)) != LDAP_OPT_SUCCESS)
        return rc;
    /* Keepalive finds a peer that vanished while the connection is idle. */
    int idle = 60, probes = 3, interval = 10;
    ldap_set_option(c->ld, LDAP_OPT_X_KEEPALIVE_IDLE, &idle);
    ldap_set_option(c->ld, LDAP_OPT_X_KEEPALIVE_PROBES, &probes);
    ldap_set_option(c->ld, LDAP_OPT_X_KEEPALIVE_INTERVAL, &interval);

    bool tls = pool->starttls || strncmp(s2l_conn_uri_(c), "ldaps:", 6) == 0;
    if (tls) {
        int req = pool->tls_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
        if ((rc = ldap_set_option(c->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &req)) != LDAP_OPT_SUCCESS)
            return rc;
        if (pool->tls_ca_file &&
            (rc = ldap_set_option(c->ld, LDAP_OPT_X_TLS_CACERTFILE, pool->tls_ca_file)) != LDAP_OPT_SUCCESS)
            return rc;
        /* Per-handle TLS options only take effect in a fresh context. */
        int is_server = 0;
        if ((rc = ldap_set_option(c->ld, LDAP_OPT_X_TLS_NEWCTX, &is_server)) != LDAP_OPT_SUCCESS)
            return rc;
    }
    return LDAP_SUCCESS;
}

void s2l_conn_start_(s2l_conn *c)
{
    s2l_pool *pool = c->pool;
    c->attempt_start_us = s2l_now_us();
    /* Every attempt goes to the current server; the probe always to the first. */
    c->srv = c->probe ? 0 : pool->srv;
    int rc = ldap_initialize(&c->ld, pool->uris[c->srv]);
    if (rc != LDAP_SUCCESS) {
        c->ld = NULL;
        s2l_conn_fail_(c, rc, "initialize");
        return;
    }
    rc = conn_set_options(c);
    if (rc != LDAP_SUCCESS) {
        s2l_conn_fail_(c, rc, "options");
        return;
    }
    c->state = CONN_CONNECTING;
    conn_arm_timer(c, pool->connect_timeout_ms);
    conn_send_first(c);
}

/* Socket-level timeouts bound the blocking parts of the handshake that
 * libldap does not bound itself (TLS after its first poll); 0 clears them. */
static void conn_socket_timeouts(s2l_conn *c, unsigned ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int conn_set_nonblocking(s2l_conn *c)
{
    int fl = fcntl(c->fd, F_GETFL);
    if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return 0;
}

/* (Re)creates the fd events for this attempt's socket. */
static int conn_watch_fd(s2l_conn *c)
{
    s2l_pool *pool = c->pool;
    int fd = -1;
    if (ldap_get_option(c->ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS || fd < 0)
        return -1;
    if (fd == c->fd && c->rev && c->wev)
        return 0;
    c->fd = fd;
    if (c->rev)
        event_free(c->rev);
    if (c->wev)
        event_free(c->wev);
    c->rev = event_new(pool->base, fd, EV_READ | EV_PERSIST, conn_on_read, c);
    c->wev = event_new(pool->base, fd, EV_WRITE, conn_on_write, c);
    if (c->rev == NULL || c->wev == NULL)
        return -1;
    conn_socket_timeouts(c, pool->connect_timeout_ms);
    return 0;
}

static int conn_send_bind(s2l_conn *c, int *msgid)
{
    s2l_pool *pool = c->pool;
    struct berval cred = {0, NULL};
    if (pool->bind_password) {
        cred.bv_val = pool->bind_password;
        cred.bv_len = strlen(pool->bind_password);
    }
    return ldap_sasl_bind(c->ld, pool->bind_dn ? pool->bind_dn : "", LDAP_SASL_SIMPLE, &cred, NULL, NULL, msgid);
}

/* The first request of an attempt also drives the async connect. */
static void conn_send_first(s2l_conn *c)
{
    s2l_pool *pool = c->pool;
    int msgid = -1;
    int rc = pool->starttls ? ldap_start_tls(c->ld, NULL, NULL, &msgid) : conn_send_bind(c, &msgid);
    if (rc == LDAP_X_CONNECTING) {
        if (conn_watch_fd(c) != 0) {
            s2l_conn_fail_(c, LDAP_LOCAL_ERROR, "watch");
            return;
        }
        event_add(c->wev, NULL);
        return;
    }
    if (rc != LDAP_SUCCESS) {
        s2l_conn_fail_(c, rc, "connect");
        return;
    }
    if (conn_watch_fd(c) != 0 || event_add(c->rev, NULL) != 0) {
        s2l_conn_fail_(c, LDAP_LOCAL_ERROR, "watch");
        return;
    }
    c->hs_msgid = msgid;
    c->state = pool->starttls ? CONN_STARTTLS : CONN_BINDING;
    s2l_log(S2L_LOG_DEBUG, "ldap_conn conn=%u event=%s msgid=%d", c->id, state_names[c->state], msgid);
}

static void conn_up(s2l_conn *c)
{
    s2l_pool *pool = c->pool;
    event_del(c->timer);
    if (c->probe) {
        uint64_t latency = s2l_now_us() - c->attempt_start_us;
        s2l_log(S2L_LOG_INFO, "ldap_pool event=failback_probe result=up uri=%s latency_us=%llu", s2l_conn_uri_(c),
                (unsigned long long)latency);
        conn_teardown(c);
        c->state = CONN_DOWN;
        s2l_pool_probe_done_(pool, true);
        return;
    }
    conn_socket_timeouts(c, 0);
    if (conn_set_nonblocking(c) != 0) {
        s2l_conn_fail_(c, LDAP_LOCAL_ERROR, "fcntl");
        return;
    }
    c->state = CONN_UP;
    c->hs_msgid = -1;
    c->failures = 0;
    c->vlv_sent = 0;
    bool recycled = c->recycling;
    if (c->was_up && !recycled)
        pool->stats.reconnects++;
    c->recycling = false;
    c->was_up = true;
    pool->down_reason[0] = '\0';
    /* A recycle is routine (every vlv_per_conn listed pages): not worth an info line. */
    s2l_log(recycled ? S2L_LOG_DEBUG : S2L_LOG_INFO, "ldap_conn conn=%u event=up controls=%zu latency_us=%llu uri=%s",
            c->id, c->n_rootdse, (unsigned long long)(s2l_now_us() - c->attempt_start_us), s2l_conn_uri_(c));
    s2l_pool_conn_up_(pool, c);
    if (!recycled)
        s2l_pool_notify_up_(pool, c);
    s2l_pool_dispatch_(pool);
}

void s2l_conn_recycle_(s2l_conn *c)
{
    s2l_log(S2L_LOG_DEBUG, "ldap_conn conn=%u event=recycle vlv_searches=%u", c->id, c->vlv_sent);
    c->recycle = false;
    c->recycling = true;
    c->pool->stats.recycles++;
    /* At once, to whichever server is current. */
    s2l_conn_restart_(c, 0);
}

static void conn_send_rootdse(s2l_conn *c)
{
    static char *attrs[] = {"supportedControl", NULL};
    int msgid = -1;
    int rc = ldap_search_ext(c->ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL, NULL, 1, &msgid);
    if (rc != LDAP_SUCCESS) {
        s2l_conn_fail_(c, rc, "rootdse");
        return;
    }
    c->hs_msgid = msgid;
    c->state = CONN_ROOTDSE;
}

static void rootdse_entry(s2l_conn *c, LDAPMessage *msg)
{
    struct berval **vals = ldap_get_values_len(c->ld, msg, "supportedControl");
    size_t n = vals ? (size_t)ldap_count_values_len(vals) : 0;
    char **list = calloc(n + 1, sizeof *list);
    if (list == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        list[i] = strndup(vals[i]->bv_val, vals[i]->bv_len);
        if (list[i] == NULL) {
            s2l_strv_free(list);
            list = NULL;
            goto out;
        }
    }
    s2l_strv_free(c->rootdse);
    c->rootdse = list;
    c->n_rootdse = n;
    c->rootdse_seen = true;
out:
    ldap_value_free_len(vals);
}

/* A response to the connection's own handshake request. */
static void conn_handshake_msg(s2l_conn *c, LDAPMessage *msg)
{
    s2l_pool *pool = c->pool;
    if (c->state == CONN_ROOTDSE && ldap_msgtype(msg) == LDAP_RES_SEARCH_ENTRY) {
        rootdse_entry(c, msg);
        ldap_msgfree(msg);
        return;
    }
    int err = LDAP_OTHER;
    int rc = ldap_parse_result(c->ld, msg, &err, NULL, NULL, NULL, NULL, 1);
    if (rc != LDAP_SUCCESS)
        err = rc;

    switch (c->state) {
    case CONN_STARTTLS:
        if (err != LDAP_SUCCESS) {
            s2l_conn_fail_(c, err, "starttls");
            return;
        }
        /* The handshake itself blocks, bounded by the socket timeouts set in
         * conn_watch_fd; it happens once per connection, never per request. */
        rc = ldap_install_tls(c->ld);
        if (rc != LDAP_SUCCESS) {
            s2l_conn_fail_(c, rc, "tls handshake");
            return;
        }
        rc = conn_send_bind(c, &c->hs_msgid);
        if (rc != LDAP_SUCCESS) {
            s2l_conn_fail_(c, rc, "bind");
            return;
        }
        c->state = CONN_BINDING;
        return;
    case CONN_BINDING:
        if (err != LDAP_SUCCESS) {
            s2l_conn_fail_(c, err, "bind");
            return;
        }
        if (conn_set_nonblocking(c) != 0) {
            s2l_conn_fail_(c, LDAP_LOCAL_ERROR, "fcntl");
            return;
        }
        conn_send_rootdse(c);
        return;
    case CONN_ROOTDSE:
        /* A root DSE we may not read is not fatal: we just know no controls. */
        if (err != LDAP_SUCCESS)
            s2l_log(S2L_LOG_WARN, "ldap_conn conn=%u event=rootdse rc=%d err=\"%s\"", c->id, err, ldap_err2string(err));
        if (c->rootdse_seen) {
            char **list = c->rootdse;
            c->rootdse = NULL;
            s2l_pool_set_controls_(pool, list);
        }
        conn_up(c);
        return;
    default:
        return;
    }
}

/* Routes one message; may run an op's callback, after which the connection
 * may be gone (callers compare c->gen). */
static void conn_route_msg(s2l_conn *c, LDAPMessage *msg)
{
    int msgid = ldap_msgid(msg);
    if (msgid == 0) {
        /* Unsolicited notification: the only one defined is the Notice of
         * Disconnection; the server is about to close. */
        ldap_msgfree(msg);
        s2l_conn_fail_(c, LDAP_SERVER_DOWN, "notice of disconnection");
        return;
    }
    if (msgid == c->hs_msgid && c->state != CONN_UP) {
        conn_handshake_msg(c, msg);
        return;
    }
    s2l_ldap_op *op = conn_find(c, msgid);
    if (op == NULL) {
        /* Late answer for an op that timed out or was cancelled. */
        ldap_msgfree(msg);
        return;
    }
    int type = ldap_msgtype(msg);
    bool final = type != LDAP_RES_SEARCH_ENTRY && type != LDAP_RES_SEARCH_REFERENCE && type != LDAP_RES_INTERMEDIATE;
    unsigned gen = c->gen;
    int rc = LDAP_SUCCESS;
    if (final) {
        /* Peek at the code before the op (and its result) is gone. */
        ldap_parse_result(c->ld, msg, &rc, NULL, NULL, NULL, NULL, 0);
    }
    s2l_op_handle_msg_(c, op, msg);
    if (!final || c->gen != gen)
        return;
    if (s2l_ldap_rc_breaks_connection(rc)) {
        s2l_conn_fail_(c, rc, "result");
        return;
    }
    s2l_pool_dispatch_(c->pool);
}

static void conn_drain(s2l_conn *c)
{
    unsigned gen = c->gen;
    int got = 0;
    bool retried = false;
    for (int i = 0; i < DRAIN_BUDGET; i++) {
        LDAPMessage *msg = NULL;
        struct timeval zero = {0, 0};
        int t = ldap_result(c->ld, LDAP_RES_ANY, LDAP_MSG_ONE, &zero, &msg);
        if (t < 0) {
            int err = LDAP_SERVER_DOWN;
            ldap_get_option(c->ld, LDAP_OPT_RESULT_CODE, &err);
            s2l_conn_fail_(c, err != LDAP_SUCCESS ? err : LDAP_SERVER_DOWN, "read");
            return;
        }
        if (t == 0) {
            if (got == 0 && !retried) {
                retried = true;
                continue;
            }
            return;
        }
        got++;
        conn_route_msg(c, msg);
        if (c->gen != gen)
            return;
    }
    /* Budget spent: libldap may hold more already read, which the fd would
     * not report again. Continue on the next loop turn. */
    event_active(c->rev, EV_READ, 0);
}

static void conn_on_read(evutil_socket_t fd, short what, void *arg)
{
    s2l_conn *c = arg;
    if (c->ld == NULL || c->state == CONN_CONNECTING)
        return;
    conn_drain(c);
}

static bool fd_writable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) && !(p.revents & (POLLERR | POLLHUP));
}

bool s2l_conn_can_write_small_(const s2l_conn *c)
{
    /* A partial write of an abandon would corrupt the stream (libldap writes
     * it directly); POLLOUT guarantees room for far more than its few bytes. */
    return c != NULL && c->ld != NULL && !c->write_blocked && c->fd >= 0 && fd_writable(c->fd);
}

void s2l_conn_block_writes_(s2l_conn *c)
{
    if (c->write_blocked)
        return;
    c->write_blocked = true;
    c->pool->stats.write_stalls++;
    s2l_log(S2L_LOG_DEBUG, "ldap_conn conn=%u event=write_blocked pending=%u", c->id, c->ops.count);
    event_add(c->wev, NULL);
}

static void conn_on_write(evutil_socket_t fd, short what, void *arg)
{
    s2l_conn *c = arg;
    if (c->state == CONN_CONNECTING) {
        conn_send_first(c);
        return;
    }
    if (!c->write_blocked || c->ld == NULL)
        return;
    /* ldap_result() finishes libldap's pending write when the fd is writable.
     * It cannot tell us whether it got everything out; if the socket is full
     * again it did not, so wait for the next EV_WRITE. */
    unsigned gen = c->gen;
    LDAPMessage *msg = NULL;
    struct timeval zero = {0, 0};
    int t = ldap_result(c->ld, LDAP_RES_ANY, LDAP_MSG_ONE, &zero, &msg);
    if (t < 0) {
        s2l_conn_fail_(c, LDAP_SERVER_DOWN, "write");
        return;
    }
    if (t > 0) {
        conn_route_msg(c, msg);
        if (c->gen != gen)
            return;
    }
    if (!fd_writable(c->fd)) {
        event_add(c->wev, NULL);
        return;
    }
    c->write_blocked = false;
    s2l_log(S2L_LOG_DEBUG, "ldap_conn conn=%u event=write_unblocked", c->id);
    s2l_pool_dispatch_(c->pool);
}

static void conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
    s2l_conn *c = arg;
    switch (c->state) {
    case CONN_DOWN:
        s2l_conn_start_(c);
        return;
    case CONN_BACKOFF:
        conn_backoff_tick(c);
        return;
    case CONN_CONNECTING:
    case CONN_STARTTLS:
    case CONN_BINDING:
    case CONN_ROOTDSE:
        s2l_conn_fail_(c, LDAP_TIMEOUT, "connect timeout");
        return;
    case CONN_UP:
        return;
    }
}
