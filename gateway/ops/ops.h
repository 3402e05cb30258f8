/* ops.h — running the gateway as a service: the metrics it exports, the
 * health endpoints, the hooks the request path calls to count (shell).
 *
 * One s2l_ops per process, made by main and shared by every configuration
 * generation (generation.h): counters survive a reload. The request path
 * calls the s2l_ops_* hooks below with req->gw->ops, which is NULL for a
 * gateway assembled by hand (tests): every hook accepts NULL and does nothing.
 *
 * Routes (registered per generation by s2l_ops_register, no SCIM token):
 *   GET /healthz  (and HEAD) 200 while the process answers (liveness)
 *   GET /readyz   (and HEAD) 200 when the generation's mapping is loaded and its LDAP
 *                 pool has a bound connection, else 503 + Retry-After
 *   GET /metrics  Prometheus text (s2l/metrics.h); with metrics.token, only
 *                 with "Authorization: Bearer <that token>" (401 otherwise);
 *                 404 when metrics.enabled is false. With metrics.listen the
 *                 same three also answer on that address (s2l_ops_listen)
 *                 and /metrics is not on the main listener.
 *
 * Threads: with several event-loop workers (workers.h) every hook may be
 * called from any worker's thread: they take the ops lock. A worker's pool is
 * read only on that worker's thread (s2l_ops_worker_report).
 *
 * Ownership: ops owns its registry and its listener; generations borrow ops.
 */
#ifndef S2L_OPS_H
#define S2L_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "../gateway.h"
#include "../http/route.h"
#include "s2l/ldap_pool.h"
#include "s2l/metrics.h"

typedef struct s2l_ops s2l_ops;

/* The registry with every family registered; NULL when out of memory. */
s2l_ops *s2l_ops_new(void);
void s2l_ops_free(s2l_ops *ops);
/* The Prometheus text of every family (malloc'd), rendered under the lock. */
char *s2l_ops_render(s2l_ops *ops, size_t *len);

/* Workers (workers.h): at most this many. */
#define S2L_OPS_MAX_WORKERS 64
/* Called on a worker's own thread when its loop starts. */
void s2l_ops_worker_thread(s2l_ops *ops, unsigned worker);
/* Copies the worker's pool state for rendering on other threads (its own
 * thread, once a second). */
void s2l_ops_worker_report(s2l_ops *ops, unsigned worker);

/* Adds /healthz, /readyz and (unless metrics.listen moves it) /metrics to a
 * generation's route table. -1 when out of memory. */
int s2l_ops_register(s2l_routes *rt, const s2l_config *cfg);

/* metrics.listen: a second HTTP listener on the loop for /metrics, /healthz
 * and /readyz only (nothing else answers there), reading the current
 * generation from slot at each request. 0, or -1 with a message. */
struct s2l_gen_slot;
int s2l_ops_listen(s2l_ops *ops, struct event_base *base, struct s2l_gen_slot *slot, const s2l_config *cfg,
                   char *errbuf, size_t errlen);

/* Closes the metrics.listen listener (before its loop's base is freed; s2l_ops_free does it too). */
void s2l_ops_close_listener(s2l_ops *ops);

/* ---- hooks ---- */

/* LDAP operation kinds (label "operation"). */
typedef enum { S2L_OPS_SEARCH, S2L_OPS_ADD, S2L_OPS_MODIFY, S2L_OPS_RENAME, S2L_OPS_DELETE, S2L_OPS_N } s2l_ops_ldap;

void s2l_ops_request_start(s2l_ops *ops);
/* A request answered: its resource type ("none" when the route names none), method, status, latency. */
void s2l_ops_request_done(s2l_ops *ops, const char *resource_type, const char *method, int status,
                          uint64_t latency_us);
/* A request ended without a reply (aborted sub-request). */
void s2l_ops_request_aborted(s2l_ops *ops);
void s2l_ops_ldap_done(s2l_ops *ops, s2l_ops_ldap kind, int rc, uint64_t latency_us);
/* reason: a static key ("unknown_token", "forbidden_resource_type", ...). */
void s2l_ops_auth_failure(s2l_ops *ops, const char *reason);
/* A configuration reload: ok or refused; generation is the number now
 * serving. Counted once per SIGHUP: worker 0's (every worker logs its own). */
void s2l_ops_reload(s2l_ops *ops, unsigned worker, bool ok, unsigned generation);
/* The worker's pool whose connection states are exported (its current
 * generation's); the exported states are the sum over the workers. A pool
 * that is replaced hands its reconnect/failover totals over first
 * (s2l_ops_pool_retired), so those counters never go down. */
void s2l_ops_set_pool(s2l_ops *ops, unsigned worker, const s2l_pool *pool);
void s2l_ops_pool_retired(s2l_ops *ops, const s2l_pool *pool);

#endif
