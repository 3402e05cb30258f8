/* gateway.c — assembling the shared parts of the running gateway (see gateway.h). */
#include "gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/oauth_token.h"
#include "http/route.h"
#include "resources/resources.h"
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

int s2l_gateway_init(s2l_gateway *gw, const s2l_config *cfg, const s2l_mapping *mapping,
                     struct event_base *base, char *errbuf, size_t errlen)
{
    *gw = (s2l_gateway){.cfg = cfg, .mapping = mapping, .base = base};
    gw->auth = s2l_gateway_auth_create(cfg, mapping, errbuf, errlen);
    if (gw->auth == NULL)
        return -1;
    gw->suffix = common_suffix(mapping);
    gw->routes = s2l_routes_create();
    gw->cursors = s2l_cursors_create(cfg->ldap.connections ? cfg->ldap.connections : 4);
    gw->id_cache = s2l_id_cache_create(cfg->ldap.id_cache_entries);
    if (gw->suffix == NULL || gw->routes == NULL || gw->cursors == NULL || gw->id_cache == NULL ||
        s2l_resources_register(gw->routes, mapping) < 0) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    if (s2l_oauth_token_register(gw->routes, cfg, errbuf, errlen) < 0)
        return -1;
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
    return 0;
}

void s2l_gateway_fini(s2l_gateway *gw)
{
    s2l_pool_destroy(gw->pool);
    s2l_routes_destroy(gw->routes);
    s2l_cursors_destroy(gw->cursors);
    gw->cursors = NULL;
    s2l_id_cache_destroy(gw->id_cache);
    gw->id_cache = NULL;
    free(gw->suffix);
    s2l_auth_release(gw->auth);
    gw->pool = NULL;
    gw->routes = NULL;
    gw->suffix = NULL;
    gw->auth = NULL;
}
