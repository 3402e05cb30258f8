/* gateway.h — what every part of the running gateway shares (shell).
 *
 * main assembles it (s2l_gateway_init) from a loaded configuration and
 * mapping: the LDAP pool, the route table with every endpoint registered, the
 * directory suffix; the HTTP server and local requests (request.h) borrow it.
 *
 * Ownership: cfg and mapping are borrowed (the caller frees them after
 * s2l_gateway_fini); the pool, the routes and suffix are owned by the gateway.
 */
#ifndef S2L_GATEWAY_H
#define S2L_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "s2l/config.h"
#include "s2l/ldap_pool.h"
#include "s2l/mapping.h"

struct event_base;
typedef struct s2l_routes s2l_routes;

typedef struct s2l_gateway {
    const s2l_config *cfg;
    const s2l_mapping *mapping;
    s2l_pool *pool;
    struct event_base *base;
    s2l_routes *routes;          /* every endpoint (http/route.h) */
    char *suffix;                /* common suffix of all base DNs: where id/DN look-ups search */
    uint64_t next_req_id;        /* request ids for logs, HTTP and local requests alike */
} s2l_gateway;

/* Creates the pool (connecting asynchronously) and the route table with the
 * resources' and discovery endpoints. 0, or -1 with a message in errbuf. */
int s2l_gateway_init(s2l_gateway *gw, const s2l_config *cfg, const s2l_mapping *mapping,
                     struct event_base *base, char *errbuf, size_t errlen);
/* Frees what init created; gw may be partly initialised or zeroed. Not from
 * inside an LDAP callback. */
void s2l_gateway_fini(s2l_gateway *gw);

#endif
