/* gateway.c — assembling the shared parts of the running gateway (see gateway.h). */
#include "gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/oauth_token.h"
#include "ops/ops.h"
#include "http/route.h"
#include "resources/resources.h"
#include "subschema_reader.h"
#include "s2l/id_cache.h"
#include "s2l/ldap_text.h"
#include "s2l/list_cursor.h"

/* The longest common suffix of all base DNs: where id and DN look-ups search. */
static char *common_suffix(const s2l_mapping *m)
{
    size_t n = s2l_mapping_count(m);
    const char **dns = calloc(n ? n : 1, sizeof *dns);
    if (dns == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        dns[i] = s2l_rmap_info_of(s2l_mapping_at(m, i))->base_dn;
    char *suffix = s2l_dn_common_suffix(dns, n);
    free(dns);
    return suffix;
}

s2l_auth *s2l_gateway_auth_create(const s2l_config *cfg, const s2l_mapping *mapping, char *errbuf, size_t errlen)
{
    /* Every type's name and endpoint ("User", "/Users", ...), NULL-terminated;
     * borrowed from the mapping, needed only while the state is built. */
    size_t n = s2l_mapping_count(mapping);
    const char **names = calloc(2 * n + 1, sizeof *names);
    if (names == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const s2l_rmap_info *info = s2l_rmap_info_of(s2l_mapping_at(mapping, i));
        names[2 * i] = info->name;
        names[2 * i + 1] = info->endpoint;
    }
    s2l_auth *auth = s2l_auth_create(cfg, names, errbuf, errlen);
    free(names);
    return auth;
}

/* The pool and the list cursors (which name its connections), counted:
 * generations with the same ldap section share them, and the last one to go
 * destroys them (never from inside an LDAP callback: generations are freed
 * from their own event, generation.c). */
struct s2l_gw_ldap {
    s2l_pool *pool;
    s2l_cursors *cursors;
    atomic_uint refs;
    struct s2l_ops *ops;         /* told when the pool retires (its counters), or NULL */
    /* The directory's subschema for the filter split, read when the pool binds
     * (again) and applied to the newest generation's mapping: a generation
     * that keeps the pool hands its mapping over (refresh), since a kept pool
     * does not reconnect. */
    s2l_subschema_reader *schema;
};

static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

bool s2l_gateway_same_ldap(const s2l_config *a, const s2l_config *b)
{
    return same_str(a->ldap.uri, b->ldap.uri) && same_str(a->ldap.bind_dn, b->ldap.bind_dn) &&
           same_str(a->ldap.bind_password, b->ldap.bind_password) && a->ldap.connections == b->ldap.connections &&
           a->ldap.timeout_ms == b->ldap.timeout_ms && a->ldap.connect_timeout_ms == b->ldap.connect_timeout_ms &&
           a->ldap.backoff_max_ms == b->ldap.backoff_max_ms && a->ldap.failback_after_ms == b->ldap.failback_after_ms &&
           a->ldap.starttls == b->ldap.starttls && same_str(a->ldap.tls_ca_file, b->ldap.tls_ca_file) &&
           a->ldap.tls_verify == b->ldap.tls_verify && a->ldap.vlv_per_connection == b->ldap.vlv_per_connection;
}

int s2l_gateway_init(s2l_gateway *gw, const s2l_config *cfg, const s2l_mapping *mapping,
                     struct event_base *base, char *errbuf, size_t errlen)
{
    return s2l_gateway_assemble(gw, cfg, mapping, NULL, NULL, NULL, base, errbuf, errlen);
}

int s2l_gateway_assemble(s2l_gateway *gw, const s2l_config *cfg, const s2l_mapping *mapping, s2l_auth *auth,
                         struct s2l_id_cache *id_cache, const s2l_gateway *share_ldap_of, struct event_base *base,
                         char *errbuf, size_t errlen)
{
    *gw = (s2l_gateway){.cfg = cfg, .mapping = mapping, .base = base, .id_cache = id_cache};
    gw->auth = auth ? auth : s2l_gateway_auth_create(cfg, mapping, errbuf, errlen);
    if (gw->auth == NULL)
        return -1;
    gw->suffix = common_suffix(mapping);
    gw->routes = s2l_routes_create();
    /* Per generation: a reload starts with an empty cache (ids may now map
     * to other base DNs). */
    if (gw->id_cache == NULL)
        gw->id_cache = s2l_id_cache_create(cfg->ldap.id_cache_entries);
    if (gw->suffix == NULL || gw->routes == NULL || gw->id_cache == NULL ||
        s2l_resources_register(gw->routes, mapping) < 0 || s2l_ops_register(gw->routes, cfg) < 0) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    if (s2l_oauth_token_register(gw->routes, cfg, errbuf, errlen) < 0)
        return -1;
    if (share_ldap_of && share_ldap_of->ldap) {
        gw->ldap = share_ldap_of->ldap;
        atomic_fetch_add(&gw->ldap->refs, 1);
        gw->pool = gw->ldap->pool;
        gw->cursors = gw->ldap->cursors;
        /* The mapping is the generation's own (const for requests); the
         * reader updates its matching rules before any request uses it. */
        s2l_subschema_reader_refresh(gw->ldap->schema, (s2l_mapping *)mapping);
        return 0;
    }
    gw->ldap = calloc(1, sizeof *gw->ldap);
    gw->cursors = s2l_cursors_create(cfg->ldap.connections ? cfg->ldap.connections : 4);
    if (gw->ldap) {
        atomic_init(&gw->ldap->refs, 1);
        gw->ldap->cursors = gw->cursors;
    }
    if (gw->ldap == NULL || gw->cursors == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    s2l_pool_config pc = {.uri = cfg->ldap.uri,
                          .bind_dn = cfg->ldap.bind_dn,
                          .bind_password = cfg->ldap.bind_password,
                          .connections = cfg->ldap.connections,
                          .timeout_ms = cfg->ldap.timeout_ms,
                          .connect_timeout_ms = cfg->ldap.connect_timeout_ms,
                          .backoff_min_ms = 100,
                          .backoff_max_ms = cfg->ldap.backoff_max_ms,
                          .starttls = cfg->ldap.starttls,
                          .tls_ca_file = cfg->ldap.tls_ca_file,
                          .tls_verify = cfg->ldap.tls_verify,
                          .vlv_per_conn = cfg->ldap.vlv_per_connection,
                          .failback_after_ms = cfg->ldap.failback_after_ms ? cfg->ldap.failback_after_ms
                                                                           : S2L_POOL_NO_FAILBACK};
    char err[1024] = "";
    gw->pool = s2l_pool_create(base, &pc, err, sizeof err);
    if (gw->pool == NULL) {
        snprintf(errbuf, errlen, "LDAP: %s", err);
        return -1;
    }
    gw->ldap->pool = gw->pool;
    gw->ldap->schema = s2l_subschema_reader_create(gw->pool, (s2l_mapping *)mapping);
    if (gw->ldap->schema == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* Tells the metrics which pool retires (its reconnect counts move to the totals). */
void s2l_gateway_ldap_set_ops(s2l_gateway *gw, struct s2l_ops *ops)
{
    if (gw->ldap)
        gw->ldap->ops = ops;
}

void s2l_gateway_fini(s2l_gateway *gw)
{
    if (gw->ldap == NULL) { /* partly initialised before the pool existed */
        s2l_cursors_destroy(gw->cursors);
    } else if (atomic_fetch_sub(&gw->ldap->refs, 1) == 1) {
        s2l_ops_pool_retired(gw->ldap->ops, gw->ldap->pool);
        s2l_subschema_reader_destroy(gw->ldap->schema); /* before the pool */
        s2l_pool_destroy(gw->ldap->pool);
        s2l_cursors_destroy(gw->ldap->cursors);
        free(gw->ldap);
    }
    gw->ldap = NULL;
    gw->cursors = NULL;
    s2l_routes_destroy(gw->routes);
    s2l_id_cache_destroy(gw->id_cache);
    gw->id_cache = NULL;
    free(gw->suffix);
    s2l_auth_release(gw->auth);
    gw->pool = NULL;
    gw->routes = NULL;
    gw->suffix = NULL;
    gw->auth = NULL;
}
