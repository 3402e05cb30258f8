/* workers.h — the gateway's event loops: `workers` of them, each on its own
 * thread, all serving the one listen address (shell).
 *
 * A worker is a whole gateway on one libevent base: its own configuration
 * generations (generation.h: its copy of the configuration and mapping, its
 * LDAP pool, list cursors and subschema reader) and its own HTTP listener. With more than one worker the listeners are bound to the same
 * address with SO_REUSEPORT: the kernel spreads new connections over them
 * and a connection stays on the worker that accepted it, so a request never
 * crosses threads; the request path takes two short locks, the metrics'
 * (ops.h) and the id cache's (s2l/id_cache.h). This is lloadd's and h2o's model (one loop per core, each
 * with its own upstream connections) rather than one accept loop handing
 * sockets to others.
 *
 * Shared by all: the id -> DN cache of a configuration reading (an IdP's
 * connections land on different workers), the rate limits (auth.h), the
 * metrics and audit log (s2l_ops, locked), the log (one write per line),
 * request ids. Worker 0 runs on the caller's thread, takes
 * the signals and carries the process-wide timers and the metrics.listen
 * listener; the others block every signal.
 *
 * Stopping (SIGTERM): every worker stops accepting and drains its requests
 * (limits.shutdown_grace_ms); the process exits when all have. Reload
 * (SIGHUP): every worker loads the files on its own loop and publishes its
 * new generation (or keeps the old one and logs why); reloading is
 * per worker, so one that fails (a file changed between the reads) says so
 * in its own log line (worker=N).
 *
 * Per worker, so multiplied by `workers`: ldap.connections and the list
 * cursors (a pager that reconnects may reach another worker, which then
 * walks from the start); limits.max_connections is shared out (README
 * "Workers").
 *
 * Ownership: the workers own their bases, slots and servers; ops is borrowed.
 */
#ifndef S2L_WORKERS_H
#define S2L_WORKERS_H

#include <stddef.h>

#include "generation.h"

struct event_base;
struct s2l_ops;
typedef struct s2l_workers s2l_workers;

/* The number of workers a configuration asks for; 0 = one per CPU the
 * process may use (affinity mask and cgroup v2 quota: s2l/cpu_count.h). */
unsigned s2l_workers_wanted(const s2l_config *cfg);

/* n workers for the configuration file: worker 0 from parts (taken, also on
 * failure), the others read the files themselves. Every listener is bound;
 * nothing runs until s2l_workers_run. NULL with errbuf set. With n > 1,
 * libevent's thread support must be on (evthread_use_pthreads) before this. */
s2l_workers *s2l_workers_create(unsigned n, const char *config_path, s2l_gen_parts *parts, struct s2l_ops *ops,
                                char *errbuf, size_t errlen);
void s2l_workers_free(s2l_workers *ws);

unsigned s2l_workers_count(const s2l_workers *ws);
/* Worker 0's base and slot: signals, timers, the metrics listener. */
struct event_base *s2l_workers_main_base(s2l_workers *ws);
s2l_gen_slot *s2l_workers_main_slot(s2l_workers *ws);

/* Runs every loop until all have stopped: the others on their own threads,
 * worker 0 on the caller's. 0, or -1 when a thread could not start (then
 * the ones that did are stopped). */
int s2l_workers_run(s2l_workers *ws);

/* From worker 0's loop (a signal): */
void s2l_workers_stop(s2l_workers *ws);    /* drain every worker, then return from run */
void s2l_workers_break(s2l_workers *ws);   /* leave every loop now */
void s2l_workers_reload(s2l_workers *ws);  /* every worker reloads its configuration */

/* HTTP requests in flight over all workers (any thread). */
unsigned s2l_workers_in_flight(const s2l_workers *ws);

#endif
