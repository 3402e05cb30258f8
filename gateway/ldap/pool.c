/* pool.c — the LDAP connection pool: configuration, the queue of ops waiting
 * for a connection slot, dispatch to the least-loaded connection, status and
 * statistics (see include/s2l/ldap_pool.h and pool-internal.h). */
#include "pool-internal.h"

#include <stdio.h>
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

s2l_pool *s2l_pool_create(struct event_base *base, const s2l_pool_config *cfg, char *errbuf, size_t errlen)
{
    s2l_pool *pool = NULL;
    const char *err = NULL;

    if (base == NULL || cfg == NULL) {
        err = "no event base or configuration";
        goto fail;
    }
    if (!uri_ok(cfg->uri)) {
        err = "ldap uri must be ldap://, ldaps:// or ldapi://host[:port]";
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
    if (cfg->starttls && strncmp(cfg->uri, "ldaps:", 6) == 0) {
        err = "starttls cannot be combined with an ldaps:// uri";
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
    if (dup_opt(&pool->uri, cfg->uri) || dup_opt(&pool->bind_dn, cfg->bind_dn) ||
        dup_opt(&pool->bind_password, cfg->bind_password) || dup_opt(&pool->tls_ca_file, cfg->tls_ca_file))
        goto oom;
    pool->nconns = cfg->connections ? cfg->connections : 4;
    pool->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 5000;
    pool->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 3000;
    pool->backoff_min_ms = cfg->backoff_min_ms ? cfg->backoff_min_ms : 100;
    pool->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : 5000;
    if (pool->backoff_max_ms < pool->backoff_min_ms)
        pool->backoff_max_ms = pool->backoff_min_ms;
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
    /* Connect on the first loop turn: creation never does network I/O. */
    for (unsigned i = 0; i < pool->nconns; i++) {
        struct timeval now = {0, 0};
        evtimer_add(pool->conns[i].timer, &now);
    }
    s2l_log(S2L_LOG_INFO, "ldap_pool event=create uri=%s connections=%u timeout_ms=%u starttls=%d", pool->uri,
            pool->nconns, pool->timeout_ms, pool->starttls ? 1 : 0);
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
    s2l_strv_free(pool->controls);
    free(pool->uri);
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

static bool has_room(const s2l_pool *pool, const s2l_conn *c)
{
    return c->state == CONN_UP && !c->write_blocked && c->ops.count < pool->max_ops_per_conn;
}

/* The least-loaded connection that is UP, writable, below its cap and not
 * waiting to be recycled. */
static s2l_conn *pick_conn(s2l_pool *pool)
{
    s2l_conn *best = NULL;
    for (unsigned i = 0; i < pool->nconns; i++) {
        s2l_conn *c = &pool->conns[i];
        if (!has_room(pool, c) || c->recycle)
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
    pool->dispatching = false;
}

void s2l_pool_conn_lost_(s2l_pool *pool)
{
    if (s2l_pool_up_count_(pool) > 0)
        return;
    while (pool->queue.head)
        s2l_op_finish_later_(pool->queue.head, LDAP_SERVER_DOWN, pool->down_reason);
}

void s2l_pool_set_controls_(s2l_pool *pool, char **list)
{
    s2l_strv_free(pool->controls);
    pool->controls = list;
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
    return pool && conn >= 1 && conn <= pool->nconns && pool->conns[conn - 1].state == CONN_UP;
}

void s2l_pool_get_stats(const s2l_pool *pool, s2l_pool_stats *out)
{
    *out = pool->stats;
    out->connections_up = s2l_pool_up_count_(pool);
}
