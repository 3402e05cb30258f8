/* gateway.h — what every part of the running gateway shares (shell).
 *
 * main assembles it (s2l_gateway_init) from a loaded configuration and
 * mapping: the credentials (auth state), the LDAP pool, the route table with
 * every endpoint registered, the directory suffix; the HTTP server and local
 * requests (request.h) borrow it.
 *
 * Ownership: cfg and mapping are borrowed (the caller frees them after
 * s2l_gateway_fini); the pool, the routes, the list cursors, suffix and one reference to the
 * auth state are owned by the gateway. A reload swaps auth (the gateway's
 * reference moves to the new state; requests in flight hold the old one).
 */
#ifndef S2L_GATEWAY_H
#define S2L_GATEWAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2l/auth.h"
#include "s2l/config.h"
#include "s2l/ldap_pool.h"
#include "s2l/mapping.h"

struct event_base;
typedef struct s2l_routes s2l_routes;
typedef struct s2l_cursors s2l_cursors;

typedef struct s2l_gateway {
    const s2l_config *cfg;
    const s2l_mapping *mapping;
    s2l_pool *pool;
    struct event_base *base;
    s2l_routes *routes;          /* every endpoint (http/route.h) */
    char *suffix;                /* common suffix of all base DNs: where id/DN look-ups search */
    s2l_auth *auth;              /* credentials (one reference); swapped by a reload */
    s2l_cursors *cursors;        /* paged listings between requests (s2l/list_cursor.h), one per connection */
    uint64_t next_req_id;        /* request ids for logs, HTTP and local requests alike (without a slot) */

    /* Generations (generation.h): a running gateway is one generation per
     * loaded configuration; each request holds the one it started on. All
     * zero/NULL for a gateway assembled with s2l_gateway_init alone (tests). */
    struct s2l_ops *ops;         /* metrics, process-wide (borrowed), or NULL */
    struct s2l_gen_slot *slot;   /* where it was published, or NULL */
    atomic_uint refs;            /* the slot's while current + one per request */
    unsigned generation;         /* 1 at start, +1 per successful reload */
    unsigned worker;             /* the event-loop worker it serves on (workers.h); 0 with one */
    struct s2l_gw_ldap *ldap;    /* pool + cursors with their own count: generations whose ldap
                                    section is the same share them (gateway.c) */
    struct ssl_ctx_st *tls;      /* this generation's HTTPS context (owned), or NULL */
    struct s2l_gateway *dead_next; /* the slot's list of generations waiting to be freed */
    struct s2l_id_cache *id_cache; /* SCIM id -> DN hints for writes by id (s2l/id_cache.h); owned, per generation */
} s2l_gateway;

/* Creates the auth state, the pool (connecting asynchronously) and the route
 * table with the resources', discovery and token endpoints. 0, or -1 with a
 * message in errbuf. */
int s2l_gateway_init(s2l_gateway *gw, const s2l_config *cfg, const s2l_mapping *mapping,
                     struct event_base *base, char *errbuf, size_t errlen);
/* init for a generation: auth and id_cache are taken (NULL: created from
 * cfg; the workers of one reading share one cache), and with share_ldap_of
 * (not NULL) the pool and cursors are that gateway's (counted), not new
 * ones. On failure both are released. */
int s2l_gateway_assemble(s2l_gateway *gw, const s2l_config *cfg, const s2l_mapping *mapping, s2l_auth *auth,
                         struct s2l_id_cache *id_cache, const s2l_gateway *share_ldap_of, struct event_base *base,
                         char *errbuf, size_t errlen);
/* The metrics to tell when gw's pool retires (its reconnect counts move to the totals). */
void s2l_gateway_ldap_set_ops(s2l_gateway *gw, struct s2l_ops *ops);
/* Whether two configurations' ldap sections make the same pool. */
bool s2l_gateway_same_ldap(const s2l_config *a, const s2l_config *b);
/* Frees what init created; gw may be partly initialised or zeroed. Not from
 * inside an LDAP callback. */
void s2l_gateway_fini(s2l_gateway *gw);

/* The auth state for cfg, whose credentials' resource_types must name types
 * of mapping: what init uses, --check-config checks and a reload swaps in.
 * NULL with a message in errbuf. */
s2l_auth *s2l_gateway_auth_create(const s2l_config *cfg, const s2l_mapping *mapping, char *errbuf, size_t errlen);

#endif
