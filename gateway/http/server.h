/* server.h — the evhttp front end: listen (HTTP or HTTPS), turn each HTTP
 * request into an s2l_req for the router (route.h), send its one reply,
 * authenticate bearer tokens. Shell-internal; it names no handler.
 *
 * Ownership: the server borrows the gateway (config, routes, pool) and owns
 * its evhttp, TLS context and every in-flight HTTP s2l_req.
 */
#ifndef S2L_HTTP_SERVER_H
#define S2L_HTTP_SERVER_H

#include <stddef.h>

#include "../gateway.h"

typedef struct s2l_server s2l_server;

s2l_server *s2l_server_create(s2l_gateway *gw, char *errbuf, size_t errlen);
void s2l_server_destroy(s2l_server *srv);

/* Stops accepting connections; done(arg) runs once every in-flight request has
 * been answered or after limits.shutdown_grace_ms, whichever is first. */
void s2l_server_shutdown(s2l_server *srv, void (*done)(void *arg), void *arg);

/* HTTP requests not answered yet. */
unsigned s2l_server_in_flight(const s2l_server *srv);

#endif
