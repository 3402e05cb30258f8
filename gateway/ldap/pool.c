/* pool.c — the LDAP connection pool: configuration, the queue of ops waiting
 * for a connection slot, dispatch to the least-loaded connection, the choice
 * of server (failover, failback), status and statistics (see
 * include/s2l/ldap_pool.h and pool-internal.h). */
#include "pool-internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "s2l/log.h"

/* Sanity caps on configuration, so a typo cannot ask for a million sockets. */
#define MAX_CONNECTIONS 256
#define MAX_OPS_PER_CONN 65536
/* Ops may wait in the queue up to this many times the pool's total slots;
 * beyond that new ops fail fast with LDAP_BUSY (503) instead of piling up. */
#define QUEUE_FACTOR 16
/* More servers than this in ldap.uri is a configuration mistake. */
#define MAX_SERVERS 16
#define DEFAULT_FAILBACK_MS 300000u

/* ---- small helpers shared by the pool files ---- */

/* xorshift64*: jitter only, nothing secret. */
uint64_t s2l_pool_random_(s2l_pool *pool)
{
    uint64_t x = pool->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    pool->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

void s2l_op_list_push_(op_list *l, s2l_ldap_op *op)
{
    op->list = l;
    op->next = NULL;
    op->prev = l->tail;
    if (l->tail)
        l->tail->next = op;
    else
        l->head = op;
    l->tail = op;
    l->count++;
}

void s2l_op_list_push_front_(op_list *l, s2l_ldap_op *op)
{
    op->list = l;
    op->prev = NULL;
    op->next = l->head;
    if (l->head)
        l->head->prev = op;
    else
        l->tail = op;
    l->head = op;
    l->count++;
}

void s2l_op_list_remove_(s2l_ldap_op *op)
{
    op_list *l = op->list;
    if (l == NULL)
        return;
    if (op->prev)
        op->prev->next = op->next;
    else
        l->head = op->next;
    if (op->next)
        op->next->prev = op->prev;
    else
        l->tail = op->prev;
    l->count--;
    op->prev = op->next = NULL;
    op->list = NULL;
}

s2l_ldap_op *s2l_op_list_pop_(op_list *l)
{
    s2l_ldap_op *op = l->head;
    if (op)
        s2l_op_list_remove_(op);
    return op;
}

/* ---- creation ---- */

static int dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    if (src == NULL || src[0] == '\0')
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -1;
}

static bool uri_ok(const char *uri)
{
    LDAPURLDesc *lud = NULL;
    if (uri == NULL || ldap_url_parse(uri, &lud) != LDAP_URL_SUCCESS)
        return false;
    bool ok = strcmp(lud->lud_scheme, "ldap") == 0 || strcmp(lud->lud_scheme, "ldaps") == 0 ||
              strcmp(lud->lud_scheme, "ldapi") == 0;
    ldap_free_urldesc(lud);
    return ok;
}

/* "ldap://a ldap://b" → {"ldap://a", "ldap://b", NULL}; NULL on allocation
 * failure, an empty list (*n = 0) for a blank string. */
static char **split_uris(const char *list, unsigned *n)
{
    static const char ws[] = " \t\r\n";
    size_t cap = 1;
    for (const char *p = list; *p; p++)
        cap += strchr(ws, *p) != NULL;
    char **v = calloc(cap + 1, sizeof *v);
    if (v == NULL)
        return NULL;
    unsigned k = 0;
    for (const char *p = list; *p;) {
        p += strspn(p, ws);
        size_t len = strcspn(p, ws);
        if (len == 0)
            break;
        if ((v[k] = strndup(p, len)) == NULL) {
            s2l_strv_free(v);
            return NULL;
        }
        k++;
        p += len;
    }
    *n = k;
    return v;
}

static void on_failback_timer(evutil_socket_t fd, short what, void *arg);

s2l_pool *s2l_pool_create(struct event_base *base, const s2l_pool_config *cfg, char *errbuf, size_t errlen)
{
    s2l_pool *pool = NULL;
    const char *err = NULL;
    char errmsg[160];

    if (base == NULL || cfg == NULL) {
        err = "no event base or configuration";
        goto fail;
    }
    if (cfg->connections > MAX_CONNECTIONS) {
        err = "too many ldap connections (max 256)";
        goto fail;
    }
    if (cfg->max_ops_per_conn > MAX_OPS_PER_CONN) {
        err = "max_ops_per_conn too large (max 65536)";
        goto fail;
    }
    if (cfg->bind_password && cfg->bind_password[0] && (cfg->bind_dn == NULL || cfg->bind_dn[0] == '\0')) {
        err = "a bind password needs a bind dn";
        goto fail;
    }

    pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        goto oom;
    pool->base = base;
    if (cfg->uri == NULL || (pool->uris = split_uris(cfg->uri, &pool->nservers)) == NULL) {
        if (cfg->uri != NULL)
            goto oom;
        err = "no ldap uri";
        goto fail;
    }
    if (pool->nservers == 0) {
        err = "no ldap uri";
        goto fail;
    }
    if (pool->nservers > MAX_SERVERS) {
        err = "too many ldap servers (max 16)";
        goto fail;
    }
    for (unsigned i = 0; i < pool->nservers; i++) {
        if (!uri_ok(pool->uris[i])) {
            snprintf(errmsg, sizeof errmsg, "ldap uri must be ldap://, ldaps:// or ldapi://host[:port]: %.80s",
                     pool->uris[i]);
            err = errmsg;
            goto fail;
        }
        if (cfg->starttls && strncmp(pool->uris[i], "ldaps:", 6) == 0) {
            err = "starttls cannot be combined with an ldaps:// uri";
            goto fail;
        }
    }
    if (dup_opt(&pool->bind_dn, cfg->bind_dn) || dup_opt(&pool->bind_password, cfg->bind_password) ||
        dup_opt(&pool->tls_ca_file, cfg->tls_ca_file))
        goto oom;
    pool->nconns = cfg->connections ? cfg->connections : 4;
    pool->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 5000;
    pool->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 3000;
    pool->backoff_min_ms = cfg->backoff_min_ms ? cfg->backoff_min_ms : 100;
    pool->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : 5000;
    if (pool->backoff_max_ms < pool->backoff_min_ms)
        pool->backoff_max_ms = pool->backoff_min_ms;
    pool->failback_after_ms = cfg->failback_after_ms ? cfg->failback_after_ms : DEFAULT_FAILBACK_MS;
    pool->max_ops_per_conn = cfg->max_ops_per_conn ? cfg->max_ops_per_conn : 256;
    pool->vlv_per_conn = cfg->vlv_per_conn;
    pool->queue_max = pool->nconns * pool->max_ops_per_conn * QUEUE_FACTOR;
    pool->starttls = cfg->starttls;
    pool->tls_verify = cfg->tls_verify;
    pool->rng = (s2l_now_us() ^ ((uint64_t)getpid() << 32)) | 1;
    snprintf(pool->down_reason, sizeof pool->down_reason, "no directory connection is up yet");

    pool->conns = calloc(pool->nconns, sizeof *pool->conns);
    if (pool->conns == NULL)
        goto oom;
    for (unsigned i = 0; i < pool->nconns; i++) {
        if (s2l_conn_init_(&pool->conns[i], pool, i) != 0) {
            pool->nconns = i + 1; /* so destroy cleans up the partial one too */
            goto oom;
        }
    }
    if (s2l_conn_init_(&pool->probe, pool, pool->nconns) != 0)
        goto oom;
    pool->probe.probe = true;
    pool->failback_timer = evtimer_new(base, on_failback_timer, pool);
    if (pool->failback_timer == NULL)
        goto oom;
    /* Connect on the first loop turn: creation never does network I/O. */
    for (unsigned i = 0; i < pool->nconns; i++) {
        struct timeval now = {0, 0};
        evtimer_add(pool->conns[i].timer, &now);
    }
    char failback[32] = "never";
    if (pool->nservers > 1 && pool->failback_after_ms != S2L_POOL_NO_FAILBACK)
        snprintf(failback, sizeof failback, "%u", pool->failback_after_ms);
    s2l_log(S2L_LOG_INFO,
            "ldap_pool event=create uri=%s servers=%u connections=%u timeout_ms=%u starttls=%d failback_after_ms=%s",
            pool->uris[0], pool->nservers, pool->nconns, pool->timeout_ms, pool->starttls ? 1 : 0, failback);
    return pool;

oom:
    err = "out of memory";
fail:
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s", err);
    s2l_pool_destroy(pool);
    return NULL;
}

static void free_list_ops(op_list *l)
{
    while (l->head)
        s2l_op_free_(l->head);
}

void s2l_pool_destroy(s2l_pool *pool)
{
    if (pool == NULL)
        return;
    free_list_ops(&pool->queue);
    free_list_ops(&pool->finishing);
    if (pool->conns) {
        for (unsigned i = 0; i < pool->nconns; i++) {
            free_list_ops(&pool->conns[i].ops);
            free_list_ops(&pool->conns[i].pinned);
            s2l_conn_fini_(&pool->conns[i]);
        }
        free(pool->conns);
    }
    if (pool->probe.pool)
        s2l_conn_fini_(&pool->probe);
    if (pool->failback_timer)
        event_free(pool->failback_timer);
    if (pool->up_ev)
        event_free(pool->up_ev);
    s2l_strv_free(pool->controls);
    s2l_strv_free(pool->uris);
    free(pool->bind_dn);
    if (pool->bind_password) {
        /* Do not leave the directory password in freed heap memory. */
        volatile char *p = pool->bind_password;
        while (*p)
            *p++ = '\0';
        free(pool->bind_password);
    }
    free(pool->tls_ca_file);
    free(pool);
}

/* ---- dispatch ---- */

unsigned s2l_pool_up_count_(const s2l_pool *pool)
{
    unsigned n = 0;
    for (unsigned i = 0; i < pool->nconns; i++)
        if (pool->conns[i].state == CONN_UP || pool->conns[i].recycling)
            n++;
    return n;
}

bool s2l_pool_conn_usable_(const s2l_pool *pool, const s2l_conn *c)
{
    return c->state == CONN_UP && c->srv == pool->srv;
}

static unsigned usable_count(const s2l_pool *pool)
{
    unsigned n = 0;
    for (unsigned i = 0; i < pool->nconns; i++)
        n += s2l_pool_conn_usable_(pool, &pool->conns[i]);
    return n;
}

/* Whether c can send one more op now: UP, writable, below its cap. */
static bool has_room(const s2l_pool *pool, const s2l_conn *c)
{
    return c->state == CONN_UP && !c->write_blocked && c->ops.count < pool->max_ops_per_conn;
}

/* The least-loaded usable connection that has room and is not waiting to be
 * recycled. */
static s2l_conn *pick_conn(s2l_pool *pool)
{
    s2l_conn *best = NULL;
    for (unsigned i = 0; i < pool->nconns; i++) {
        s2l_conn *c = &pool->conns[i];
        if (!s2l_pool_conn_usable_(pool, c) || !has_room(pool, c) || c->recycle)
            continue;
        if (best == NULL || c->ops.count < best->ops.count)
            best = c;
    }
    return best;
}

/* Sends op on c. false when c cannot take more now (op is back where it was
 * queued, at the front) or has just failed. */
static bool send_on(s2l_pool *pool, s2l_conn *c, s2l_ldap_op *op, op_list *from)
{
    int rc = LDAP_SUCCESS;
    switch (s2l_op_send_(c, op, &rc)) {
    case SEND_OK:
        return true;
    case SEND_BUSY:
        /* c is now write-blocked; another connection may take it. */
        s2l_op_list_push_front_(from, op);
        return false;
    case SEND_FAILED:
        s2l_op_finish_later_(op, rc, NULL);
        return true;
    case SEND_BROKEN:
        /* Not the op's fault: retry it elsewhere (or fail it below if that
         * was the last connection). A pinned op has nowhere else to go. */
        if (from == &pool->queue)
            s2l_op_list_push_front_(from, op);
        else
            s2l_op_finish_later_(op, LDAP_SERVER_DOWN, "the directory connection was lost");
        s2l_conn_fail_(c, rc, "send");
        return false;
    }
    return false;
}

/* After a failback, connections still UP on the previous server drain: once
 * idle they are closed and reconnect to the current server. The first one
 * goes alone; the rest follow once a connection is usable on the current
 * server, so the pool never has nothing up in between (ops wait in the queue
 * instead of failing) and a failed first attempt leaves the others usable. */
static bool draining_idle(const s2l_pool *pool, const s2l_conn *c)
{
    return c->state == CONN_UP && c->srv != pool->srv && c->ops.count == 0 && c->pinned.count == 0 &&
           !c->write_blocked;
}

static void retire_drained(s2l_pool *pool)
{
    bool any = false;
    for (unsigned i = 0; i < pool->nconns && !any; i++)
        any = draining_idle(pool, &pool->conns[i]);
    if (!any)
        return; /* the usual case: one cheap pass */
    /* Every connection that is not UP is on its way to the current server. */
    bool heading = false;
    for (unsigned i = 0; i < pool->nconns; i++)
        heading = heading || pool->conns[i].state != CONN_UP;
    bool usable = usable_count(pool) > 0;
    for (unsigned i = 0; i < pool->nconns; i++) {
        s2l_conn *c = &pool->conns[i];
        if (!draining_idle(pool, c))
            continue;
        if (!usable && heading)
            return;
        s2l_log(S2L_LOG_INFO, "ldap_conn conn=%u event=retire uri=%s", c->id, s2l_conn_uri_(c));
        c->srv = pool->srv;
        s2l_conn_restart_(c, 0);
        heading = true;
    }
}

void s2l_pool_dispatch_(s2l_pool *pool)
{
    if (pool->dispatching)
        return;
    pool->dispatching = true;
    for (unsigned i = 0; i < pool->nconns; i++) {
        s2l_conn *c = &pool->conns[i];
        if (c->recycle && c->state == CONN_UP && c->ops.count == 0 && c->pinned.count == 0)
            s2l_conn_recycle_(c);
        while (c->pinned.head && has_room(pool, c)) {
            s2l_ldap_op *op = s2l_op_list_pop_(&c->pinned);
            if (!send_on(pool, c, op, &c->pinned))
                break;
        }
    }
    while (pool->queue.head) {
        s2l_conn *c = pick_conn(pool);
        if (c == NULL)
            break;
        send_on(pool, c, s2l_op_list_pop_(&pool->queue), &pool->queue);
    }
    if (pool->nservers > 1)
        retire_drained(pool);
    pool->dispatching = false;
}

void s2l_pool_conn_lost_(s2l_pool *pool)
{
    if (s2l_pool_up_count_(pool) > 0)
        return;
    while (pool->queue.head)
        s2l_op_finish_later_(pool->queue.head, LDAP_SERVER_DOWN, pool->down_reason);
}

/* ---- servers: failover and failback ---- */

unsigned s2l_pool_backoff_ms_(s2l_pool *pool, unsigned failures)
{
    uint64_t base = pool->backoff_min_ms;
    for (unsigned i = 1; i < failures && base < pool->backoff_max_ms; i++)
        base *= 2;
    if (base > pool->backoff_max_ms)
        base = pool->backoff_max_ms;
    /* "Equal jitter": half fixed, half random, so N connections (and N
     * gateways) do not reconnect in lockstep. */
    uint64_t half = base / 2;
    return (unsigned)(base - half + s2l_pool_random_(pool) % (half + 1));
}

/* The current server has no usable connection and an attempt on it failed:
 * move every connection that is not UP to the next server. Within a round of
 * the list that is immediate; after the whole list failed, the next round
 * waits a backoff that grows with the number of rounds. */
static void failover(s2l_pool *pool)
{
    unsigned from = pool->srv;
    pool->srv = (pool->srv + 1) % pool->nservers;
    pool->tried++;
    pool->stats.failovers++;
    unsigned round = pool->tried / pool->nservers;
    bool wrapped = pool->tried % pool->nservers == 0;
    /* While everything stays down a line per round would flood the log: the
     * first failover of a streak is a warning, then rounds 2, 4, 8, ... */
    unsigned r = round + 1;
    s2l_log_level level = pool->tried == 1 ? S2L_LOG_WARN : (r & (r - 1)) == 0 ? S2L_LOG_INFO : S2L_LOG_DEBUG;
    s2l_log(level, "ldap_pool event=failover from=%s to=%s round=%u%s", pool->uris[from], pool->uris[pool->srv], r,
            wrapped ? " backoff=1 (every server failed)" : "");
    for (unsigned i = 0; i < pool->nconns; i++) {
        s2l_conn *c = &pool->conns[i];
        if (c->state == CONN_UP)
            continue; /* draining on an earlier server, or usable again if that is the new current one */
        s2l_conn_restart_(c, wrapped ? s2l_pool_backoff_ms_(pool, round) : 0);
    }
}

void s2l_pool_conn_failed_(s2l_pool *pool, s2l_conn *c)
{
    if (c->srv != pool->srv) {
        /* A draining connection to a server we already left: rejoin at once. */
        s2l_conn_retry_in_(c, 0);
        return;
    }
    if (pool->nservers > 1 && usable_count(pool) == 0) {
        failover(pool);
        return;
    }
    /* The server is in use by other connections (or is the only one): retry it. */
    s2l_conn_retry_in_(c, s2l_pool_backoff_ms_(pool, c->failures));
}

static void arm_failback(s2l_pool *pool)
{
    if (pool->srv == 0 || pool->failback_after_ms == S2L_POOL_NO_FAILBACK ||
        evtimer_pending(pool->failback_timer, NULL) || pool->probe.state != CONN_DOWN)
        return;
    struct timeval tv = {(time_t)(pool->failback_after_ms / 1000), (suseconds_t)(pool->failback_after_ms % 1000) * 1000};
    evtimer_add(pool->failback_timer, &tv);
}

void s2l_pool_conn_up_(s2l_pool *pool, s2l_conn *c)
{
    if (c->srv != pool->srv)
        return; /* retired by the next dispatch */
    pool->tried = 0;
    arm_failback(pool);
}

static void on_failback_timer(evutil_socket_t fd, short what, void *arg)
{
    s2l_pool *pool = arg;
    if (pool->srv == 0 || pool->probe.state != CONN_DOWN)
        return;
    s2l_log(S2L_LOG_INFO, "ldap_pool event=failback_probe uri=%s current=%s", pool->uris[0], pool->uris[pool->srv]);
    s2l_conn_start_(&pool->probe);
}

void s2l_pool_probe_done_(s2l_pool *pool, bool up)
{
    if (pool->srv == 0)
        return;
    if (!up) {
        arm_failback(pool);
        return;
    }
    unsigned from = pool->srv;
    pool->srv = 0;
    pool->tried = 0;
    pool->stats.failbacks++;
    s2l_log(S2L_LOG_WARN, "ldap_pool event=failback from=%s to=%s", pool->uris[from], pool->uris[0]);
    /* Connections not UP restart on the first server now; UP ones drain. */
    for (unsigned i = 0; i < pool->nconns; i++) {
        s2l_conn *c = &pool->conns[i];
        if (c->state != CONN_UP)
            s2l_conn_restart_(c, 0);
    }
    s2l_pool_dispatch_(pool);
}

void s2l_pool_set_controls_(s2l_pool *pool, char **list)
{
    s2l_strv_free(pool->controls);
    pool->controls = list;
}

/* ---- the up hook ---- */

static void on_up_ev(evutil_socket_t fd, short what, void *arg)
{
    s2l_pool *pool = arg;
    if (pool->up_fn && usable_count(pool) > 0)
        pool->up_fn(pool, pool->up_arg);
}

void s2l_pool_set_up_hook(s2l_pool *pool, s2l_pool_up_fn *fn, void *arg)
{
    pool->up_fn = fn;
    pool->up_arg = arg;
    if (fn && pool->up_ev == NULL)
        pool->up_ev = event_new(pool->base, -1, 0, on_up_ev, pool);
    if (pool->up_ev == NULL)
        pool->up_fn = NULL; /* out of memory: no hook (s2l_pool_up_fn users fall back) */
}

/* The directory answers again, seen by one pool: every other pool of the
 * process in backoff retries within a timer slice (conn.c) instead of
 * waiting out a backoff of up to ldap.backoff_max_ms, so that all event-loop
 * workers serve again together after an outage. */
static atomic_uint up_epoch;

unsigned s2l_pool_up_epoch_(void)
{
    return atomic_load_explicit(&up_epoch, memory_order_relaxed);
}

void s2l_pool_notify_up_(s2l_pool *pool, s2l_conn *c)
{
    (void)c;
    if (usable_count(pool) != 1)
        return;
    atomic_fetch_add_explicit(&up_epoch, 1, memory_order_relaxed);
    if (pool->up_fn && pool->up_ev)
        event_active(pool->up_ev, 0, 1);
}

/* ---- status ---- */

bool s2l_pool_is_up(const s2l_pool *pool)
{
    return pool != NULL && s2l_pool_up_count_(pool) > 0;
}

unsigned s2l_pool_retry_after(const s2l_pool *pool)
{
    if (pool == NULL || s2l_pool_up_count_(pool) > 0)
        return 1;
    uint64_t now = s2l_now_us();
    uint64_t best = UINT64_MAX;
    for (unsigned i = 0; i < pool->nconns; i++) {
        const s2l_conn *c = &pool->conns[i];
        uint64_t wait = 0; /* an attempt in progress may succeed any moment */
        if (c->state == CONN_BACKOFF)
            wait = c->next_attempt_us > now ? c->next_attempt_us - now : 0;
        if (wait < best)
            best = wait;
    }
    uint64_t secs = (best + 999999u) / 1000000u;
    return secs < 1 ? 1 : secs > 3600 ? 3600 : (unsigned)secs;
}

bool s2l_pool_supports_control(const s2l_pool *pool, const char *oid)
{
    if (pool == NULL || oid == NULL || pool->controls == NULL)
        return false;
    for (size_t i = 0; pool->controls[i]; i++)
        if (strcmp(pool->controls[i], oid) == 0)
            return true;
    return false;
}

unsigned s2l_pool_conn_count(const s2l_pool *pool)
{
    return pool ? pool->nconns : 0;
}

bool s2l_pool_conn_is_up(const s2l_pool *pool, unsigned conn)
{
    /* Up on the current server: one draining after a failback is about to be retired. */
    return pool && conn >= 1 && conn <= pool->nconns && s2l_pool_conn_usable_(pool, &pool->conns[conn - 1]);
}

void s2l_pool_get_stats(const s2l_pool *pool, s2l_pool_stats *out)
{
    *out = pool->stats;
    out->connections_up = s2l_pool_up_count_(pool);
    out->connections_usable = usable_count(pool);
    out->server = pool->srv;
}

const char *s2l_pool_server_uri(const s2l_pool *pool)
{
    return pool->uris[pool->srv];
}
