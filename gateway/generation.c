/* generation.c — loading, publishing and retiring configuration generations (see generation.h). */
#include "generation.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/tls.h"
#include "ops/ops.h"
#include "s2l/id_cache.h"
#include "s2l/log.h"

struct s2l_gen_slot {
    pthread_mutex_t lock;        /* current and dead (acquire may come from several loops) */
    s2l_gateway *current;
    s2l_gateway *dead;           /* refs reached 0: freed by the flush event */
    struct event *flush;
    struct event_base *base;
    struct s2l_ops *ops;
    char *config_path;
    unsigned last_generation;
    unsigned worker;             /* the event-loop worker whose slot this is (workers.h) */
};

/* Request ids are unique in the process, across workers and generations. */
static atomic_ullong next_req_id;

/* ---- loading ---- */

/* Whether every server of ldap.uri (space-separated) is ldaps://. */
static bool all_ldaps(const char *uris)
{
    for (const char *p = uris; *p;) {
        p += strspn(p, " ");
        if (*p == '\0')
            break;
        if (strncasecmp(p, "ldaps://", 8) != 0)
            return false;
        p += strcspn(p, " ");
    }
    return true;
}

void s2l_gen_parts_free(s2l_gen_parts *p)
{
    if (p == NULL)
        return;
    if (p->tls)
        SSL_CTX_free(p->tls);
    s2l_auth_release(p->auth);
    s2l_id_cache_destroy(p->id_cache);
    s2l_mapping_destroy(p->mapping);
    s2l_config_destroy(p->cfg);
    *p = (s2l_gen_parts){0};
}

int s2l_gen_parts_load(const char *path, s2l_gen_parts *out, char *errbuf, size_t errlen)
{
    *out = (s2l_gen_parts){0};
    out->cfg = s2l_config_load(path, errbuf, errlen);
    if (out->cfg == NULL)
        return -1;
    s2l_config *cfg = out->cfg;
    out->mapping = s2l_mapping_load(cfg->mapping_path, cfg->schemas_dir, errbuf, errlen);
    if (out->mapping == NULL)
        goto fail;
    if (s2l_mapping_count(out->mapping) == 0) {
        snprintf(errbuf, errlen, "%s: the mapping defines no resource type", cfg->mapping_path);
        goto fail;
    }
    /* AD takes unicodePwd only over an encrypted connection; better to say so now
     * than to fail every password change with "unwilling to perform". */
    if (s2l_mapping_needs_tls(out->mapping) && !cfg->ldap.starttls && !all_ldaps(cfg->ldap.uri)) {
        snprintf(errbuf, errlen,
                 "%s: the mapping writes unicodePwd (Active Directory passwords), which the directory accepts "
                 "only over TLS: use ldaps:// in ldap.uri (every server) or ldap.starttls",
                 cfg->mapping_path);
        goto fail;
    }
    s2l_mapping_set_config_limits(out->mapping, cfg);
    /* Credentials, secret files and keys; certificate, key, cipher lists and client CA. */
    out->auth = s2l_gateway_auth_create(cfg, out->mapping, errbuf, errlen);
    if (out->auth == NULL)
        goto fail;
    if (cfg->tls_cert_file && (out->tls = s2l_tls_server_ctx(cfg, errbuf, errlen)) == NULL)
        goto fail;
    return 0;
fail:
    s2l_gen_parts_free(out);
    return -1;
}

/* ---- references ---- */

static void on_flush(evutil_socket_t fd, short what, void *arg);

s2l_gen_slot *s2l_gen_slot_new(struct event_base *base, struct s2l_ops *ops, const char *config_path,
                               unsigned worker)
{
    s2l_gen_slot *slot = calloc(1, sizeof *slot);
    if (slot == NULL)
        return NULL;
    slot->worker = worker;
    pthread_mutex_init(&slot->lock, NULL);
    slot->base = base;
    slot->ops = ops;
    slot->config_path = strdup(config_path ? config_path : "");
    slot->flush = event_new(base, -1, 0, on_flush, slot);
    if (slot->config_path == NULL || slot->flush == NULL) {
        s2l_gen_slot_free(slot);
        return NULL;
    }
    return slot;
}

static void free_generation(s2l_gateway *gw)
{
    s2l_config *cfg = (s2l_config *)gw->cfg;
    s2l_mapping *mapping = (s2l_mapping *)gw->mapping;
    s2l_gateway_fini(gw);
    if (gw->tls)
        SSL_CTX_free(gw->tls);
    s2l_mapping_destroy(mapping);
    s2l_config_destroy(cfg);
    free(gw);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    s2l_gen_slot *slot = arg;
    pthread_mutex_lock(&slot->lock);
    s2l_gateway *dead = slot->dead;
    slot->dead = NULL;
    pthread_mutex_unlock(&slot->lock);
    while (dead) {
        s2l_gateway *next = dead->dead_next;
        s2l_log(S2L_LOG_INFO, "event=generation_retired generation=%u worker=%u", dead->generation, slot->worker);
        free_generation(dead);
        dead = next;
    }
}

void s2l_gateway_hold(s2l_gateway *gw)
{
    if (gw && gw->slot)
        atomic_fetch_add(&gw->refs, 1);
}

void s2l_gateway_release(s2l_gateway *gw)
{
    if (gw == NULL || gw->slot == NULL || atomic_fetch_sub(&gw->refs, 1) != 1)
        return;
    /* Possibly inside an LDAP callback of the pool the generation may own:
     * freed from the slot's event instead. */
    s2l_gen_slot *slot = gw->slot;
    pthread_mutex_lock(&slot->lock);
    gw->dead_next = slot->dead;
    slot->dead = gw;
    pthread_mutex_unlock(&slot->lock);
    event_active(slot->flush, 0, 0);
}

s2l_gateway *s2l_gen_acquire(s2l_gen_slot *slot)
{
    pthread_mutex_lock(&slot->lock);
    s2l_gateway *gw = slot->current;
    if (gw)
        atomic_fetch_add(&gw->refs, 1);
    pthread_mutex_unlock(&slot->lock);
    return gw;
}

uint64_t s2l_gateway_next_req_id(s2l_gateway *gw)
{
    return gw->slot ? atomic_fetch_add(&next_req_id, 1) + 1 : ++gw->next_req_id;
}

void s2l_gen_slot_free(s2l_gen_slot *slot)
{
    if (slot == NULL)
        return;
    s2l_gateway *cur = slot->current;
    slot->current = NULL;
    if (cur && atomic_fetch_sub(&cur->refs, 1) == 1) {
        cur->dead_next = slot->dead;
        slot->dead = cur;
    }
    /* Generations still held by requests that never ended (the shutdown
     * grace expired) are left to the exit. */
    if (slot->flush)
        on_flush(-1, 0, slot);
    if (slot->flush)
        event_free(slot->flush);
    pthread_mutex_destroy(&slot->lock);
    free(slot->config_path);
    free(slot);
}

/* ---- building and publishing ---- */

/* A generation from parts (taken), sharing prev's pool when the ldap sections match. */
static s2l_gateway *build(s2l_gen_slot *slot, s2l_gen_parts *parts, const s2l_gateway *prev, char *errbuf,
                          size_t errlen)
{
    s2l_gateway *gw = calloc(1, sizeof *gw);
    if (gw == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        s2l_gen_parts_free(parts);
        return NULL;
    }
    bool share = prev && s2l_gateway_same_ldap(prev->cfg, parts->cfg);
    s2l_auth *auth = parts->auth;
    parts->auth = NULL; /* assemble takes it, also on failure */
    struct s2l_id_cache *cache = parts->id_cache;
    parts->id_cache = NULL; /* assemble takes it too */
    if (s2l_gateway_assemble(gw, parts->cfg, parts->mapping, auth, cache, share ? prev : NULL, slot->base, errbuf,
                             errlen) < 0) {
        s2l_gateway_fini(gw);
        free(gw);
        s2l_gen_parts_free(parts);
        return NULL;
    }
    gw->tls = parts->tls;
    *parts = (s2l_gen_parts){0}; /* cfg and mapping now belong to the generation */
    gw->ops = slot->ops;
    gw->slot = slot;
    atomic_init(&gw->refs, 1); /* the slot's */
    gw->generation = ++slot->last_generation;
    gw->worker = slot->worker;
    s2l_gateway_ldap_set_ops(gw, slot->ops);
    return gw;
}

static void publish(s2l_gen_slot *slot, s2l_gateway *gw)
{
    pthread_mutex_lock(&slot->lock);
    s2l_gateway *old = slot->current;
    slot->current = gw;
    pthread_mutex_unlock(&slot->lock);
    s2l_ops_set_pool(slot->ops, slot->worker, gw->pool);
    s2l_gateway_release(old);
}

int s2l_gen_start(s2l_gen_slot *slot, s2l_gen_parts *parts, char *errbuf, size_t errlen)
{
    s2l_gateway *gw = build(slot, parts, NULL, errbuf, errlen);
    if (gw == NULL)
        return -1;
    publish(slot, gw);
    return 0;
}

/* What a reload cannot change (the sockets are bound once). NULL when nothing. */
static const char *needs_restart(const s2l_config *old, const s2l_config *fresh)
{
    if (strcmp(old->listen, fresh->listen) != 0)
        return "listen changed (the socket is bound at start): restart to apply it";
    if (old->workers != fresh->workers)
        return "workers changed (the event loops start with the process): restart to apply it";
    if ((old->tls_cert_file == NULL) != (fresh->tls_cert_file == NULL))
        return "HTTPS was switched on or off (tls.cert_file): restart to apply it";
    if ((old->metrics.listen == NULL) != (fresh->metrics.listen == NULL) ||
        (old->metrics.listen && strcmp(old->metrics.listen, fresh->metrics.listen) != 0))
        return "metrics.listen changed (the socket is bound at start): restart to apply it";
    return NULL;
}

static void log_failure(const s2l_gen_slot *slot, const char *why)
{
    char quoted[1200];
    s2l_log_quote(quoted, sizeof quoted, why, strlen(why));
    s2l_log(S2L_LOG_WARN, "event=reload_failed what=config reason=%s action=kept_old worker=%u", quoted, slot->worker);
}

const char *s2l_gen_slot_path(const s2l_gen_slot *slot)
{
    return slot->config_path;
}

void s2l_gen_reload_failed(s2l_gen_slot *slot, const char *why)
{
    log_failure(slot, why);
    s2l_ops_reload(slot->ops, slot->worker, false, slot->current ? slot->current->generation : 0);
}

int s2l_gen_reload_parts(s2l_gen_slot *slot, s2l_gen_parts *parts, char *errbuf, size_t errlen)
{
    uint64_t t0 = s2l_now_us();
    s2l_gateway *prev = s2l_gen_acquire(slot);
    int rc = -1;
    const char *restart = prev ? needs_restart(prev->cfg, parts->cfg) : NULL;
    if (restart) {
        snprintf(errbuf, errlen, "%s: %s", slot->config_path, restart);
        s2l_gen_parts_free(parts);
        goto out;
    }
    s2l_gateway *gw = build(slot, parts, prev, errbuf, errlen);
    if (gw == NULL)
        goto out;
    bool kept_pool = prev && gw->pool == prev->pool;
    s2l_log_set_level_name(gw->cfg->log_level);
    publish(slot, gw);
    size_t wi;
    json_t *w;
    json_array_foreach(s2l_mapping_warnings(gw->mapping), wi, w)
        s2l_log(S2L_LOG_WARN, "event=mapping_warning detail=\"%s\"", json_string_value(w));
    s2l_log(S2L_LOG_INFO,
            "event=reloaded what=config generation=%u previous=%u ldap_pool=%s types=%zu credentials=%zu "
            "mapping=\"%s\" duration_us=%llu worker=%u",
            gw->generation, prev ? prev->generation : 0, kept_pool ? "kept" : "rebuilt",
            s2l_mapping_count(gw->mapping), s2l_auth_count(gw->auth), gw->cfg->mapping_path,
            (unsigned long long)(s2l_now_us() - t0), slot->worker);
    rc = 0;
out:
    if (rc < 0)
        log_failure(slot, errbuf);
    s2l_ops_reload(slot->ops, slot->worker, rc == 0, slot->current ? slot->current->generation : 0);
    s2l_gateway_release(prev);
    return rc;
}
