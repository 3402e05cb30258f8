/* server.h — the evhttp front end: listen (HTTP or HTTPS), authenticate, route,
 * and the one place that sends replies (request.c). Shell-internal.
 *
 * Ownership: the server borrows the gateway (config, mapping, pool) and owns
 * its evhttp, TLS context and every in-flight s2l_req.
 */
#ifndef S2L_HTTP_SERVER_H
#define S2L_HTTP_SERVER_H

#include <stddef.h>

#include "request.h"

s2l_server *s2l_server_create(s2l_gateway *gw, char *errbuf, size_t errlen);
void s2l_server_destroy(s2l_server *srv);

/* Stops accepting connections; done(arg) runs once every in-flight request has
 * been answered or after limits.shutdown_grace_ms, whichever is first. */
void s2l_server_shutdown(s2l_server *srv, void (*done)(void *arg), void *arg);

/* Internal to gateway/http: request bookkeeping. */
void s2l_server_request_done_(s2l_server *srv);
unsigned s2l_server_in_flight(const s2l_server *srv);

#endif
