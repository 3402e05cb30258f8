/* server.h — the evhttp front end: listen (HTTP or HTTPS), turn each HTTP
 * request into an s2l_req for the router (route.h), send its one reply,
 * authenticate bearer tokens. Shell-internal; it names no handler.
 *
 * Threads: a server belongs to one event loop (one worker's); only
 * s2l_server_in_flight may be called from another thread.
 *
 * Ownership: the server borrows the gateway (config, routes, pool) and owns
 * its evhttp, TLS context and every in-flight HTTP s2l_req.
 */
#ifndef S2L_HTTP_SERVER_H
#define S2L_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "../gateway.h"

typedef struct s2l_server s2l_server;

/* Listens on cfg->listen with the gateway's base. With workers > 1, one
 * server per event-loop worker (workers.h): the socket is bound with
 * SO_REUSEPORT and the connection limit is shared out. */
s2l_server *s2l_server_create(s2l_gateway *gw, unsigned workers, char *errbuf, size_t errlen);
/* Whether cfg->listen is free (no socket of any process holds it): checked
 * once before the workers bind it with SO_REUSEPORT. 0, or -1 with a message. */
int s2l_server_listen_free_port(const s2l_config *cfg, char *errbuf, size_t errlen);
void s2l_server_destroy(s2l_server *srv);

/* Stops accepting connections; done(arg) runs once every in-flight request has
 * been answered or after limits.shutdown_grace_ms, whichever is first. */
void s2l_server_shutdown(s2l_server *srv, void (*done)(void *arg), void *arg);

/* HTTP requests not answered yet. */
unsigned s2l_server_in_flight(const s2l_server *srv);

#endif
