/* conn_guard.h — every client connection, before evhttp reads it: framing
 * checks, the connection cap, header and body read timeouts.
 *
 * evhttp (libevent 2.1) has no hook between the socket and its parser, and
 * answers framing errors with HTML or not at all. The guard puts a filtering
 * bufferevent between them (evhttp_set_bevcb): the bytes of each request go
 * through the framing scanner (s2l/http_frame.h) and reach evhttp only when
 * they are valid (a request's head as a whole, its body as it arrives, chunk
 * size lines normalised, trailers dropped). Anything else ends the
 * connection with a SCIM error, written by the guard itself:
 *   - framing errors (http_frame.h): 400 / 413 / 414 / 417 / 431 / 501 / 505;
 *   - more than limits.max_connections open connections: 503 + Retry-After
 *     (the connection was accepted: the kernel queue stays short);
 *   - a request whose headers take longer than limits.header_timeout_ms from
 *     its first byte, or whose body takes longer than limits.body_timeout_ms
 *     after its headers: 408.
 * The answer waits until evhttp has answered every complete request before
 * it on the connection (pipelining keeps its order); then nothing more is
 * read into evhttp, the connection sends FIN after the answer, discards what
 * the client still sends for a short while (so that the client reads the
 * answer rather than a reset) and is closed. Idle keep-alive connections are
 * closed by evhttp after limits.idle_timeout_ms (server.c).
 *
 * Ownership: the guard belongs to the server; create it before evhttp binds,
 * destroy it after evhttp_free (which frees every connection, and with it
 * the guard's state for it). libevent finalises the connections' bufferevents
 * later (at the latest in event_base_free): a guard destroyed with
 * connections left is freed by the last of them.
 */
#ifndef S2L_HTTP_CONN_GUARD_H
#define S2L_HTTP_CONN_GUARD_H

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "s2l/config.h"

typedef struct s2l_conn_guard s2l_conn_guard;

/* workers: how many event-loop workers share limits.max_connections (each
 * guard admits its share, rounded up; workers.h). */
s2l_conn_guard *s2l_conn_guard_create(struct event_base *base, const s2l_config *cfg, unsigned workers);
void s2l_conn_guard_destroy(s2l_conn_guard *g);
/* The header/body timeouts and size limits for connections from now on
 * (copied; max_connections stays what it was at create: it sizes the
 * descriptor budget). Called with the current generation's configuration. */
void s2l_conn_guard_set_limits(s2l_conn_guard *g, const s2l_config *cfg);

/* Wraps the bufferevent of a new connection (plain or TLS, not connected to
 * its socket yet; taken over, also on failure). The bufferevent evhttp
 * should use, or NULL. */
struct bufferevent *s2l_conn_guard_wrap(s2l_conn_guard *g, struct bufferevent *inner);

/* evhttp was handed the reply of a request on the connection whose
 * bufferevent is bev (fd: its socket, read before the reply was sent).
 * Only compares bev, never reads it. */
void s2l_conn_guard_replied(s2l_conn_guard *g, const struct bufferevent *bev, int fd);

/* Open client connections right now. */
unsigned s2l_conn_guard_open(const s2l_conn_guard *g);

/* The connection cap in force (limits.max_connections, lowered to fit the
 * process's descriptor limit). */
unsigned s2l_conn_guard_max(const s2l_conn_guard *g);

#endif
