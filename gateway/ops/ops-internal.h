/* ops-internal.h — the s2l_ops struct, for the files of gateway/ops only. */
#ifndef S2L_OPS_INTERNAL_H
#define S2L_OPS_INTERNAL_H

#include <pthread.h>

#include "ops.h"

struct s2l_ops {
    s2l_metrics *reg;
    s2l_metric *requests, *request_seconds, *in_flight;
    s2l_metric *ldap_ops, *ldap_seconds;
    s2l_series *ldap_seconds_of[S2L_OPS_N];
    s2l_series *ldap_success_of[S2L_OPS_N]; /* result "0": no formatting, no look-up */
    s2l_metric *conns, *queued, *reconnects, *failovers, *failbacks;
    s2l_metric *auth_failures;
    s2l_metric *policy_attrs, *policy_schemas, *members_skipped, *references_kept;
    s2l_metric *reloads, *generation;
    /* Every hook and the rendering hold lock: the registry is not
     * thread-safe (metrics.h) and several event-loop workers update it. An
     * uncontended lock costs ~20 ns against ~100 us of work per request. */
    pthread_mutex_t lock;
    /* Per worker: its current generation's pool (borrowed), the thread that
     * owns it, and what it last reported. Rendering reads the pool of the
     * worker it runs on directly and the others' reports (at most one
     * second old): a pool is only ever touched by its own loop. */
    struct ops_worker {
        const s2l_pool *pool;
        pthread_t thread;
        bool has_thread;
        s2l_pool_stats stats;
        unsigned conns;
    } workers[S2L_OPS_MAX_WORKERS];
    uint64_t retired_reconnects, retired_failovers, retired_failbacks;
    struct s2l_ops_listener *listener;   /* ops_http.c */
    _Atomic int audit_fd;                /* audit_log.c: -1 = off, 2 = stderr; written under lock */
    s2l_metric *audit_lines;
};

/* ops_http.c: frees the metrics.listen listener (NULL is fine). */
void s2l_ops_listener_free_(struct s2l_ops_listener *l);

#endif
