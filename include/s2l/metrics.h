/* metrics.h — counters, gauges and latency histograms with labels, rendered in
 * the Prometheus text exposition format 0.0.4 (GET /metrics).
 *
 * Pure: no I/O, no clock, no libevent. The shell owns one registry, updates it
 * from the event loop and renders it when /metrics is asked for.
 *
 * Model (Prometheus'): a *family* has a name, a help text, a type and a fixed
 * list of label names; a *series* is one combination of label values and
 * holds the numbers. Families render in registration order, series in the
 * order they were first used.
 *
 * Cost: registering a family and the first use of a label combination
 * allocate; everything after that does not. Keep the s2l_series pointer of a
 * combination known in advance (resource type x method, LDAP operation type)
 * and an update is a few additions: no look-up, no allocation, no locking.
 * Combinations known only at run time (an HTTP status, an LDAP result code)
 * go through s2l_metric_with / s2l_metric_series: a hash look-up on the label
 * values, allocating only the first time a combination is seen. A family
 * holds at most max_series combinations (s2l_metrics_set_max_series, default
 * 1000), so a client cannot grow the registry without bound; past it the
 * look-up returns NULL, and every update function ignores a NULL series.
 *
 * Threads: none. A registry and its series belong to the thread that updates
 * them (the event loop); with several event-loop workers, give each its own
 * registry or render them one after the other from their own threads.
 *
 * Numbers: counters and gauges are doubles; histogram bucket counts and
 * _count are 64-bit integers. Rendering uses the shortest text that reads
 * back as the same double ("0.1", "3", "1e+21", "+Inf", "NaN") and does not
 * depend on the locale's decimal point only because the gateway never calls
 * setlocale (the "C" locale is in effect).
 *
 * Ownership: the registry owns every family and series; s2l_metric and
 * s2l_series pointers stay valid until s2l_metrics_free. Names, help texts,
 * label names and label values are copied. s2l_metrics_render returns a
 * malloc'd string.
 */
#ifndef S2L_METRICS_H
#define S2L_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct s2l_metrics s2l_metrics;
typedef struct s2l_metric s2l_metric;   /* a family */
typedef struct s2l_series s2l_series;   /* one label combination of a family */

typedef enum { S2L_METRIC_COUNTER, S2L_METRIC_GAUGE, S2L_METRIC_HISTOGRAM } s2l_metric_type;

/* The Content-Type of what s2l_metrics_render returns. */
#define S2L_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Bucket upper bounds (seconds) for request and LDAP operation latencies:
 * 0.5 ms .. 10 s. */
extern const double s2l_metrics_latency_buckets[];
extern const size_t s2l_metrics_latency_buckets_n;

s2l_metrics *s2l_metrics_new(void);
void s2l_metrics_free(s2l_metrics *r);

/* Most label combinations one family may hold (default 1000; at least 1). */
void s2l_metrics_set_max_series(s2l_metrics *r, size_t max);

/* Registers a family. name: [a-zA-Z_:][a-zA-Z0-9_:]*; labels: NULL or a
 * NULL-terminated list of names [a-zA-Z_][a-zA-Z0-9_]* not starting with "__"
 * (and not "le" for a histogram), at most 8, no duplicates. help: any text
 * (escaped when rendered). A histogram takes n_bounds >= 1 finite, strictly
 * increasing upper bounds (the +Inf bucket is implicit). NULL when an argument
 * is invalid, the name is taken, or on allocation failure. A family without
 * labels has its one series from the start (s2l_metric_with(m)). */
s2l_metric *s2l_metrics_counter(s2l_metrics *r, const char *name, const char *help, const char *const *labels);
s2l_metric *s2l_metrics_gauge(s2l_metrics *r, const char *name, const char *help, const char *const *labels);
s2l_metric *s2l_metrics_histogram(s2l_metrics *r, const char *name, const char *help, const char *const *labels,
                                  const double *bounds, size_t n_bounds);

/* The series for label values, one per label name of the family in order
 * (values may be any text, "" included; NULL counts as ""). Created on first
 * use. NULL when m is NULL, past max_series or out of memory. */
s2l_series *s2l_metric_series(s2l_metric *m, const char *const *values);
/* The same with the values as arguments: s2l_metric_with(requests, "User", "GET", "200").
 * Exactly as many const char * arguments as the family has labels. */
s2l_series *s2l_metric_with(s2l_metric *m, ...);

/* Updates. Each ignores a NULL series and a series of another type. */
void s2l_counter_inc(s2l_series *s);
void s2l_counter_add(s2l_series *s, double v);     /* v < 0 or NaN is ignored: counters only go up */
void s2l_gauge_set(s2l_series *s, double v);
void s2l_gauge_add(s2l_series *s, double v);       /* may be negative */
void s2l_histogram_observe(s2l_series *s, double v); /* NaN is ignored */

/* Reading back (tests, and gauges computed from other gauges). */
double s2l_series_value(const s2l_series *s);      /* counter/gauge value; histogram sum */
uint64_t s2l_series_count(const s2l_series *s);    /* histogram observations (0 for others) */

/* fn runs at the start of every s2l_metrics_render, before anything is read:
 * for gauges that are cheaper to read when asked than to track (connections
 * by state, queue lengths). One hook per registry; a second call replaces it. */
void s2l_metrics_on_collect(s2l_metrics *r, void (*fn)(s2l_metrics *r, void *arg), void *arg);

/* The text exposition format 0.0.4: per family "# HELP", "# TYPE", then its
 * samples (histograms as name_bucket{...,le="..."} cumulative, name_sum,
 * name_count). malloc'd; *len (when not NULL) gets the length; NULL on
 * allocation failure. */
char *s2l_metrics_render(s2l_metrics *r, size_t *len);

#endif
