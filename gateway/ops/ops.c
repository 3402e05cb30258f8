/* ops.c — the gateway's metric families and the hooks that move them (see ops.h). */
#include "ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../resources/policy_report.h"
#include "ops-internal.h"


static const char *const op_names[S2L_OPS_N] = {"search", "add", "modify", "modrdn", "delete"};

static void collect(s2l_metrics *r, void *arg);

char *s2l_ops_render(s2l_ops *ops, size_t *len)
{
    pthread_mutex_lock(&ops->lock);
    char *text = s2l_metrics_render(ops->reg, len);
    pthread_mutex_unlock(&ops->lock);
    return text;
}

s2l_ops *s2l_ops_new(void)
{
    s2l_ops *o = calloc(1, sizeof *o);
    if (o == NULL || (o->reg = s2l_metrics_new()) == NULL) {
        free(o);
        return NULL;
    }
    o->audit_fd = -1;
    pthread_mutex_init(&o->lock, NULL);
    const double *lb = s2l_metrics_latency_buckets;
    size_t nb = s2l_metrics_latency_buckets_n;
    s2l_metric *build = s2l_metrics_gauge(o->reg, "scim2ldap_build_info", "Version of the running gateway (always 1).",
                                          (const char *const[]){"version", NULL});
    s2l_gauge_set(s2l_metric_with(build, S2L_VERSION), 1);
    o->requests = s2l_metrics_counter(o->reg, "scim2ldap_http_requests_total",
                                      "HTTP requests answered, by resource type, method and status class.",
                                      (const char *const[]){"resource_type", "method", "status", NULL});
    o->request_seconds =
        s2l_metrics_histogram(o->reg, "scim2ldap_http_request_duration_seconds",
                              "Time from a request's arrival to its reply, by resource type and method.",
                              (const char *const[]){"resource_type", "method", NULL}, lb, nb);
    o->in_flight = s2l_metrics_gauge(o->reg, "scim2ldap_http_requests_in_flight", "Requests not answered yet.", NULL);
    o->ldap_ops = s2l_metrics_counter(o->reg, "scim2ldap_ldap_operations_total",
                                      "LDAP operations completed, by operation and LDAP result code "
                                      "(negative: libldap's local codes, -1 server down, -5 timeout).",
                                      (const char *const[]){"operation", "result", NULL});
    o->ldap_seconds = s2l_metrics_histogram(o->reg, "scim2ldap_ldap_operation_duration_seconds",
                                            "Time from an LDAP operation's start to its result, by operation.",
                                            (const char *const[]){"operation", NULL}, lb, nb);
    for (size_t i = 0; i < S2L_OPS_N; i++) {
        o->ldap_seconds_of[i] = s2l_metric_with(o->ldap_seconds, op_names[i]);
        o->ldap_success_of[i] = s2l_metric_with(o->ldap_ops, op_names[i], "0");
    }
    o->conns = s2l_metrics_gauge(o->reg, "scim2ldap_ldap_connections",
                                 "LDAP pool connections by state: usable (bound to the current server), draining "
                                 "(bound, finishing work on a previous server), down (connecting or waiting to).",
                                 (const char *const[]){"state", NULL});
    o->queued = s2l_metrics_gauge(o->reg, "scim2ldap_ldap_operations_pending",
                                  "LDAP operations started and not completed (in flight or queued).", NULL);
    o->reconnects = s2l_metrics_counter(o->reg, "scim2ldap_ldap_reconnects_total",
                                        "LDAP connections that came back up after having been lost.", NULL);
    o->failovers = s2l_metrics_counter(o->reg, "scim2ldap_ldap_failovers_total",
                                       "Moves of the pool to the next server of ldap.uri.", NULL);
    o->failbacks = s2l_metrics_counter(o->reg, "scim2ldap_ldap_failbacks_total",
                                       "Moves of the pool back to the first server of ldap.uri.", NULL);
    o->auth_failures = s2l_metrics_counter(o->reg, "scim2ldap_auth_failures_total",
                                           "Requests refused by authentication or access control, by reason.",
                                           (const char *const[]){"reason", NULL});
    o->policy_attrs = s2l_metrics_counter(o->reg, "scim2ldap_policy_attributes_total",
                                          "Attribute paths the mapping's policies ignored, kept or rejected.",
                                          (const char *const[]){"action", NULL});
    o->policy_schemas = s2l_metrics_counter(o->reg, "scim2ldap_policy_schemas_total",
                                            "Unknown schema URNs the mapping's policy ignored, kept or rejected.",
                                            (const char *const[]){"action", NULL});
    o->members_skipped = s2l_metrics_counter(o->reg, "scim2ldap_policy_members_skipped_total",
                                             "Group member ids left out (unknown_members: skip).", NULL);
    o->references_kept = s2l_metrics_counter(o->reg, "scim2ldap_policy_references_kept_total",
                                             "Manager values kept as sent (unknown_manager: keep).", NULL);
    o->reloads = s2l_metrics_counter(o->reg, "scim2ldap_config_reloads_total",
                                     "Configuration reloads (SIGHUP), by result.", (const char *const[]){"result", NULL});
    o->audit_lines = s2l_metrics_counter(o->reg, "scim2ldap_audit_lines_total",
                                         "Audit log lines, by whether they were written.",
                                         (const char *const[]){"result", NULL});
    o->generation = s2l_metrics_gauge(o->reg, "scim2ldap_config_generation",
                                      "Number of the configuration generation serving new requests (1 at start).",
                                      NULL);
    s2l_gauge_set(s2l_metric_with(o->generation), 1);
    /* Both results exist from the start, so an alert on failures sees 0 first. */
    s2l_metric_with(o->reloads, "success");
    s2l_metric_with(o->reloads, "failure");
    if (o->requests == NULL || o->request_seconds == NULL || o->in_flight == NULL || o->ldap_ops == NULL ||
        o->ldap_seconds_of[S2L_OPS_N - 1] == NULL || o->ldap_success_of[S2L_OPS_N - 1] == NULL || o->conns == NULL || o->queued == NULL || o->reconnects == NULL ||
        o->failovers == NULL || o->failbacks == NULL || o->auth_failures == NULL || o->policy_attrs == NULL ||
        o->policy_schemas == NULL || o->members_skipped == NULL || o->references_kept == NULL ||
        o->reloads == NULL || o->generation == NULL || o->audit_lines == NULL) {
        s2l_ops_free(o);
        return NULL;
    }
    s2l_metrics_on_collect(o->reg, collect, o);
    return o;
}

/* Raises a counter to total (counters read from elsewhere only go up). */
static void counter_to(s2l_series *s, double total)
{
    double now = s2l_series_value(s);
    if (total > now)
        s2l_counter_add(s, total - now);
}

/* A worker's pool state: read directly on its own thread, else its last report. */
static void worker_stats(s2l_ops *o, unsigned i, s2l_pool_stats *st, unsigned *conns)
{
    struct ops_worker *w = &o->workers[i];
    if (w->pool && w->has_thread && pthread_equal(w->thread, pthread_self())) {
        s2l_pool_get_stats(w->pool, st);
        *conns = s2l_pool_conn_count(w->pool);
    } else if (w->pool) {
        *st = w->stats;
        *conns = w->conns;
    } else {
        *st = (s2l_pool_stats){0};
        *conns = 0;
    }
}

/* Called by s2l_metrics_render, under the lock. */
static void collect(s2l_metrics *r, void *arg)
{
    s2l_ops *o = arg;
    s2l_pool_stats st = {0};
    unsigned total = 0;
    for (unsigned i = 0; i < S2L_OPS_MAX_WORKERS; i++) {
        s2l_pool_stats one;
        unsigned conns;
        worker_stats(o, i, &one, &conns);
        total += conns;
        st.connections_up += one.connections_up;
        st.connections_usable += one.connections_usable;
        st.ops_pending += one.ops_pending;
        st.reconnects += one.reconnects;
        st.failovers += one.failovers;
        st.failbacks += one.failbacks;
    }
    unsigned up = st.connections_up, usable = st.connections_usable;
    s2l_gauge_set(s2l_metric_with(o->conns, "usable"), usable);
    s2l_gauge_set(s2l_metric_with(o->conns, "draining"), up > usable ? up - usable : 0);
    s2l_gauge_set(s2l_metric_with(o->conns, "down"), total > up ? total - up : 0);
    s2l_gauge_set(s2l_metric_with(o->queued), st.ops_pending);
    counter_to(s2l_metric_with(o->reconnects), (double)(o->retired_reconnects + st.reconnects));
    counter_to(s2l_metric_with(o->failovers), (double)(o->retired_failovers + st.failovers));
    counter_to(s2l_metric_with(o->failbacks), (double)(o->retired_failbacks + st.failbacks));

    const s2l_policy_counters *pc = s2l_policy_counters_get();
    counter_to(s2l_metric_with(o->policy_attrs, "ignored"), (double)pc->attributes_ignored);
    counter_to(s2l_metric_with(o->policy_attrs, "kept"), (double)pc->attributes_kept);
    counter_to(s2l_metric_with(o->policy_attrs, "rejected"), (double)pc->attributes_rejected);
    counter_to(s2l_metric_with(o->policy_schemas, "ignored"), (double)pc->schemas_ignored);
    counter_to(s2l_metric_with(o->policy_schemas, "kept"), (double)pc->schemas_kept);
    counter_to(s2l_metric_with(o->policy_schemas, "rejected"), (double)pc->schemas_rejected);
    counter_to(s2l_metric_with(o->members_skipped), (double)pc->members_skipped);
    counter_to(s2l_metric_with(o->references_kept), (double)pc->references_kept);
    (void)r;
}

/* Reads the worker's pool: on its own thread only. Under the lock. */
static void report_locked(s2l_ops *ops, unsigned worker)
{
    struct ops_worker *w = &ops->workers[worker];
    if (w->pool) {
        s2l_pool_get_stats(w->pool, &w->stats);
        w->conns = s2l_pool_conn_count(w->pool);
    }
}

void s2l_ops_set_pool(s2l_ops *ops, unsigned worker, const s2l_pool *pool)
{
    if (ops == NULL || worker >= S2L_OPS_MAX_WORKERS)
        return;
    pthread_mutex_lock(&ops->lock);
    ops->workers[worker].pool = pool;
    report_locked(ops, worker);
    pthread_mutex_unlock(&ops->lock);
}

void s2l_ops_worker_thread(s2l_ops *ops, unsigned worker)
{
    if (ops == NULL || worker >= S2L_OPS_MAX_WORKERS)
        return;
    pthread_mutex_lock(&ops->lock);
    ops->workers[worker].thread = pthread_self();
    ops->workers[worker].has_thread = true;
    pthread_mutex_unlock(&ops->lock);
}

void s2l_ops_worker_report(s2l_ops *ops, unsigned worker)
{
    if (ops == NULL || worker >= S2L_OPS_MAX_WORKERS)
        return;
    pthread_mutex_lock(&ops->lock);
    report_locked(ops, worker);
    pthread_mutex_unlock(&ops->lock);
}

void s2l_ops_pool_retired(s2l_ops *ops, const s2l_pool *pool)
{
    if (ops == NULL || pool == NULL)
        return;
    s2l_pool_stats st;
    s2l_pool_get_stats(pool, &st); /* on the pool's own thread: it is retired there */
    pthread_mutex_lock(&ops->lock);
    ops->retired_reconnects += st.reconnects;
    ops->retired_failovers += st.failovers;
    ops->retired_failbacks += st.failbacks;
    for (unsigned i = 0; i < S2L_OPS_MAX_WORKERS; i++)
        if (ops->workers[i].pool == pool)
            ops->workers[i].pool = NULL;
    pthread_mutex_unlock(&ops->lock);
}

void s2l_ops_request_start(s2l_ops *ops)
{
    if (ops == NULL)
        return;
    pthread_mutex_lock(&ops->lock);
    s2l_gauge_add(s2l_metric_with(ops->in_flight), 1);
    pthread_mutex_unlock(&ops->lock);
}

void s2l_ops_request_aborted(s2l_ops *ops)
{
    if (ops == NULL)
        return;
    pthread_mutex_lock(&ops->lock);
    s2l_gauge_add(s2l_metric_with(ops->in_flight), -1);
    pthread_mutex_unlock(&ops->lock);
}

void s2l_ops_request_done(s2l_ops *ops, const char *resource_type, const char *method, int status,
                          uint64_t latency_us)
{
    if (ops == NULL)
        return;
    static const char *const classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    const char *cls = status >= 100 && status < 600 ? classes[status / 100 - 1] : "other";
    pthread_mutex_lock(&ops->lock);
    s2l_gauge_add(s2l_metric_with(ops->in_flight), -1);
    s2l_counter_inc(s2l_metric_with(ops->requests, resource_type, method, cls));
    s2l_histogram_observe(s2l_metric_with(ops->request_seconds, resource_type, method), (double)latency_us / 1e6);
    pthread_mutex_unlock(&ops->lock);
}

void s2l_ops_ldap_done(s2l_ops *ops, s2l_ops_ldap kind, int rc, uint64_t latency_us)
{
    if (ops == NULL || kind >= S2L_OPS_N)
        return;
    char code[16];
    if (rc != 0)
        snprintf(code, sizeof code, "%d", rc);
    pthread_mutex_lock(&ops->lock);
    if (rc == 0)
        s2l_counter_inc(ops->ldap_success_of[kind]);
    else
        s2l_counter_inc(s2l_metric_with(ops->ldap_ops, op_names[kind], code));
    s2l_histogram_observe(ops->ldap_seconds_of[kind], (double)latency_us / 1e6);
    pthread_mutex_unlock(&ops->lock);
}

void s2l_ops_auth_failure(s2l_ops *ops, const char *reason)
{
    if (ops == NULL)
        return;
    pthread_mutex_lock(&ops->lock);
    s2l_counter_inc(s2l_metric_with(ops->auth_failures, reason ? reason : "other"));
    pthread_mutex_unlock(&ops->lock);
}

void s2l_ops_reload(s2l_ops *ops, unsigned worker, bool ok, unsigned generation)
{
    if (ops == NULL || worker != 0)
        return;
    pthread_mutex_lock(&ops->lock);
    s2l_counter_inc(s2l_metric_with(ops->reloads, ok ? "success" : "failure"));
    s2l_gauge_set(s2l_metric_with(ops->generation), generation);
    pthread_mutex_unlock(&ops->lock);
}

void s2l_ops_close_listener(s2l_ops *ops)
{
    if (ops == NULL)
        return;
    s2l_ops_listener_free_(ops->listener);
    ops->listener = NULL;
}

void s2l_ops_free(s2l_ops *ops)
{
    if (ops == NULL)
        return;
    s2l_ops_listener_free_(ops->listener);
    if (ops->audit_fd > 2)
        close(ops->audit_fd);
    s2l_metrics_free(ops->reg);
    pthread_mutex_destroy(&ops->lock);
    free(ops);
}
