/* metrics.c — the metrics registry and its Prometheus text rendering (see
 * include/s2l/metrics.h).
 *
 * Series of a family are kept twice: in a singly linked list in creation
 * order (rendering) and in a chained hash table on the label values
 * (look-up of run-time combinations). Histogram bucket counts live in the
 * series allocation itself, so an observation touches one cache line or two.
 */
#include "s2l/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LABELS 8

const double s2l_metrics_latency_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,    0.25,  0.5,    1,     2.5,  5,     10};
const size_t s2l_metrics_latency_buckets_n = sizeof s2l_metrics_latency_buckets / sizeof s2l_metrics_latency_buckets[0];

struct s2l_series {
    s2l_metric *family;
    s2l_series *next;          /* creation order */
    s2l_series *chain;         /* hash bucket */
    uint32_t hash;
    char **values;             /* n_labels label values */
    double value;              /* counter, gauge; histogram sum */
    uint64_t count;            /* histogram observations */
    uint64_t buckets[];        /* histogram: n_bounds + 1 (the last is +Inf), not cumulative */
};

struct s2l_metric {
    s2l_metrics *registry;
    s2l_metric *next;
    s2l_metric_type type;
    char *name, *help;
    char *labels[MAX_LABELS];
    size_t n_labels;
    double *bounds;
    size_t n_bounds;
    s2l_series *first, *last;
    s2l_series **table;        /* hash buckets */
    size_t n_table, n_series;
};

struct s2l_metrics {
    s2l_metric *first, *last;
    size_t max_series;
    void (*collect)(s2l_metrics *r, void *arg);
    void *collect_arg;
};

/* ---- names ---- */

static bool valid_metric_name(const char *s)
{
    if (s == NULL || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == ':'))
        return false;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
              *s == ':'))
            return false;
    return true;
}

static bool valid_label_name(const char *s)
{
    if (s == NULL || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_') ||
        strncmp(s, "__", 2) == 0)
        return false;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

/* ---- registry ---- */

s2l_metrics *s2l_metrics_new(void)
{
    s2l_metrics *r = calloc(1, sizeof *r);
    if (r)
        r->max_series = 1000;
    return r;
}

void s2l_metrics_set_max_series(s2l_metrics *r, size_t max)
{
    if (r)
        r->max_series = max ? max : 1;
}

void s2l_metrics_on_collect(s2l_metrics *r, void (*fn)(s2l_metrics *r, void *arg), void *arg)
{
    if (r) {
        r->collect = fn;
        r->collect_arg = arg;
    }
}

static void series_free(s2l_series *s, size_t n_labels)
{
    for (size_t i = 0; s->values && i < n_labels; i++)
        free(s->values[i]);
    free(s->values);
    free(s);
}

static void family_free(s2l_metric *m)
{
    for (s2l_series *s = m->first, *next; s; s = next) {
        next = s->next;
        series_free(s, m->n_labels);
    }
    for (size_t i = 0; i < m->n_labels; i++)
        free(m->labels[i]);
    free(m->table);
    free(m->bounds);
    free(m->name);
    free(m->help);
    free(m);
}

void s2l_metrics_free(s2l_metrics *r)
{
    if (r == NULL)
        return;
    for (s2l_metric *m = r->first, *next; m; m = next) {
        next = m->next;
        family_free(m);
    }
    free(r);
}

/* FNV-1a over the values, each followed by a 0xff byte (never in UTF-8), so
 * ("a", "b") and ("ab", "") hash apart. */
static uint32_t hash_values(const char *const *values, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        for (const unsigned char *p = (const unsigned char *)(values[i] ? values[i] : ""); *p; p++)
            h = (h ^ *p) * 16777619u;
        h = (h ^ 0xffu) * 16777619u;
    }
    return h;
}

static s2l_series *series_new(s2l_metric *m, const char *const *values, uint32_t hash)
{
    size_t nb = m->type == S2L_METRIC_HISTOGRAM ? m->n_bounds + 1 : 0;
    s2l_series *s = calloc(1, sizeof *s + nb * sizeof s->buckets[0]);
    if (s == NULL)
        return NULL;
    s->family = m;
    s->hash = hash;
    if (m->n_labels) {
        s->values = calloc(m->n_labels, sizeof *s->values);
        if (s->values == NULL) {
            free(s);
            return NULL;
        }
        for (size_t i = 0; i < m->n_labels; i++) {
            s->values[i] = strdup(values && values[i] ? values[i] : "");
            if (s->values[i] == NULL) {
                series_free(s, m->n_labels);
                return NULL;
            }
        }
    }
    return s;
}

/* Doubles the hash table when it holds more series than buckets. */
static int table_grow(s2l_metric *m)
{
    size_t n = m->n_table ? m->n_table * 2 : 16;
    s2l_series **t = calloc(n, sizeof *t);
    if (t == NULL)
        return -1;
    for (s2l_series *s = m->first; s; s = s->next) {
        s->chain = t[s->hash & (n - 1)];
        t[s->hash & (n - 1)] = s;
    }
    free(m->table);
    m->table = t;
    m->n_table = n;
    return 0;
}

static bool same_values(const s2l_series *s, const char *const *values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s->values[i], values && values[i] ? values[i] : "") != 0)
            return false;
    return true;
}

s2l_series *s2l_metric_series(s2l_metric *m, const char *const *values)
{
    if (m == NULL)
        return NULL;
    if (m->n_labels == 0)
        return m->first;
    uint32_t h = hash_values(values, m->n_labels);
    if (m->n_table) {
        for (s2l_series *s = m->table[h & (m->n_table - 1)]; s; s = s->chain)
            if (s->hash == h && same_values(s, values, m->n_labels))
                return s;
    }
    if (m->n_series >= m->registry->max_series)
        return NULL;
    if (m->n_series >= m->n_table && table_grow(m) < 0)
        return NULL;
    s2l_series *s = series_new(m, values, h);
    if (s == NULL)
        return NULL;
    s->chain = m->table[h & (m->n_table - 1)];
    m->table[h & (m->n_table - 1)] = s;
    if (m->last)
        m->last->next = s;
    else
        m->first = s;
    m->last = s;
    m->n_series++;
    return s;
}

s2l_series *s2l_metric_with(s2l_metric *m, ...)
{
    const char *values[MAX_LABELS] = {NULL};
    if (m == NULL)
        return NULL;
    va_list ap;
    va_start(ap, m);
    for (size_t i = 0; i < m->n_labels; i++)
        values[i] = va_arg(ap, const char *);
    va_end(ap);
    return s2l_metric_series(m, values);
}

static s2l_metric *family_new(s2l_metrics *r, s2l_metric_type type, const char *name, const char *help,
                              const char *const *labels, const double *bounds, size_t n_bounds)
{
    if (r == NULL || !valid_metric_name(name))
        return NULL;
    for (s2l_metric *m = r->first; m; m = m->next)
        if (strcmp(m->name, name) == 0)
            return NULL;
    size_t n = 0;
    for (; labels && labels[n]; n++) {
        if (n >= MAX_LABELS || !valid_label_name(labels[n]) ||
            (type == S2L_METRIC_HISTOGRAM && strcmp(labels[n], "le") == 0))
            return NULL;
        for (size_t k = 0; k < n; k++)
            if (strcmp(labels[k], labels[n]) == 0)
                return NULL;
    }
    if (type == S2L_METRIC_HISTOGRAM) {
        if (bounds == NULL || n_bounds == 0)
            return NULL;
        for (size_t i = 0; i < n_bounds; i++)
            if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
                return NULL;
    }
    s2l_metric *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->registry = r;
    m->type = type;
    m->n_labels = n;
    m->name = strdup(name);
    m->help = strdup(help ? help : "");
    bool ok = m->name && m->help;
    for (size_t i = 0; ok && i < n; i++)
        ok = (m->labels[i] = strdup(labels[i])) != NULL;
    if (ok && type == S2L_METRIC_HISTOGRAM) {
        m->bounds = malloc(n_bounds * sizeof *m->bounds);
        ok = m->bounds != NULL;
        if (ok) {
            memcpy(m->bounds, bounds, n_bounds * sizeof *m->bounds);
            m->n_bounds = n_bounds;
        }
    }
    if (ok && n == 0) {
        /* the one series of an unlabelled family exists from the start */
        m->first = m->last = series_new(m, NULL, 0);
        ok = m->first != NULL;
        m->n_series = ok ? 1 : 0;
    }
    if (!ok) {
        family_free(m);
        return NULL;
    }
    if (r->last)
        r->last->next = m;
    else
        r->first = m;
    r->last = m;
    return m;
}

s2l_metric *s2l_metrics_counter(s2l_metrics *r, const char *name, const char *help, const char *const *labels)
{
    return family_new(r, S2L_METRIC_COUNTER, name, help, labels, NULL, 0);
}

s2l_metric *s2l_metrics_gauge(s2l_metrics *r, const char *name, const char *help, const char *const *labels)
{
    return family_new(r, S2L_METRIC_GAUGE, name, help, labels, NULL, 0);
}

s2l_metric *s2l_metrics_histogram(s2l_metrics *r, const char *name, const char *help, const char *const *labels,
                                  const double *bounds, size_t n_bounds)
{
    return family_new(r, S2L_METRIC_HISTOGRAM, name, help, labels, bounds, n_bounds);
}

/* ---- updates: the hot path ---- */

void s2l_counter_inc(s2l_series *s)
{
    if (s && s->family->type == S2L_METRIC_COUNTER)
        s->value += 1;
}

void s2l_counter_add(s2l_series *s, double v)
{
    if (s && s->family->type == S2L_METRIC_COUNTER && v >= 0)
        s->value += v;
}

void s2l_gauge_set(s2l_series *s, double v)
{
    if (s && s->family->type == S2L_METRIC_GAUGE)
        s->value = v;
}

void s2l_gauge_add(s2l_series *s, double v)
{
    if (s && s->family->type == S2L_METRIC_GAUGE)
        s->value += v;
}

void s2l_histogram_observe(s2l_series *s, double v)
{
    if (s == NULL || s->family->type != S2L_METRIC_HISTOGRAM || isnan(v))
        return;
    const double *b = s->family->bounds;
    size_t n = s->family->n_bounds, i = 0;
    /* "le": a value equal to a bound belongs to that bucket */
    while (i < n && v > b[i])
        i++;
    s->buckets[i]++;
    s->count++;
    s->value += v;
}

double s2l_series_value(const s2l_series *s)
{
    return s ? s->value : 0;
}

uint64_t s2l_series_count(const s2l_series *s)
{
    return s && s->family->type == S2L_METRIC_HISTOGRAM ? s->count : 0;
}

/* ---- rendering ---- */

typedef struct out {
    char *s;
    size_t len, cap;
    bool failed;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *p = realloc(o->s, cap);
        if (p == NULL) {
            o->failed = true;
            return;
        }
        o->s = p;
        o->cap = cap;
    }
    memcpy(o->s + o->len, s, n);
    o->len += n;
    o->s[o->len] = 0;
}

static void puts_(out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* HELP text: backslash and newline escaped. Label values: also the double quote. */
static void put_escaped(out *o, const char *s, bool quote)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" : quote && *s == '"' ? "\\\"" : NULL;
        if (rep == NULL)
            continue;
        put(o, run, (size_t)(s - run));
        puts_(o, rep);
        run = s + 1;
    }
    put(o, run, (size_t)(s - run));
}

/* The shortest decimal text that reads back as v. */
static void put_double(out *o, double v)
{
    char buf[40];
    if (isnan(v)) {
        puts_(o, "NaN");
        return;
    }
    if (isinf(v)) {
        puts_(o, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    puts_(o, buf);
}

static void put_u64(out *o, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    puts_(o, buf);
}

/* name{l1="v1",...[,le="x"]} */
static void put_series_name(out *o, const s2l_metric *m, const s2l_series *s, const char *suffix, const char *le)
{
    puts_(o, m->name);
    puts_(o, suffix);
    if (m->n_labels == 0 && le == NULL)
        return;
    put(o, "{", 1);
    for (size_t i = 0; i < m->n_labels; i++) {
        if (i)
            put(o, ",", 1);
        puts_(o, m->labels[i]);
        put(o, "=\"", 2);
        put_escaped(o, s->values[i], true);
        put(o, "\"", 1);
    }
    if (le) {
        if (m->n_labels)
            put(o, ",", 1);
        put(o, "le=\"", 4);
        puts_(o, le);
        put(o, "\"", 1);
    }
    put(o, "}", 1);
}

static void render_histogram(out *o, const s2l_metric *m, const s2l_series *s)
{
    uint64_t cum = 0;
    for (size_t i = 0; i <= m->n_bounds; i++) {
        char le[40];
        out tmp = {0};
        if (i < m->n_bounds) {
            put_double(&tmp, m->bounds[i]);
            snprintf(le, sizeof le, "%s", tmp.s ? tmp.s : "");
            free(tmp.s);
        } else {
            snprintf(le, sizeof le, "+Inf");
        }
        cum += s->buckets[i];
        put_series_name(o, m, s, "_bucket", le);
        put(o, " ", 1);
        put_u64(o, cum);
        put(o, "\n", 1);
    }
    put_series_name(o, m, s, "_sum", NULL);
    put(o, " ", 1);
    put_double(o, s->value);
    put(o, "\n", 1);
    put_series_name(o, m, s, "_count", NULL);
    put(o, " ", 1);
    put_u64(o, s->count);
    put(o, "\n", 1);
}

char *s2l_metrics_render(s2l_metrics *r, size_t *len)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    out o = {0};
    if (r == NULL)
        return NULL;
    if (r->collect)
        r->collect(r, r->collect_arg);
    put(&o, "", 0); /* an empty registry renders as "" */
    for (const s2l_metric *m = r->first; m; m = m->next) {
        puts_(&o, "# HELP ");
        puts_(&o, m->name);
        put(&o, " ", 1);
        put_escaped(&o, m->help, false);
        puts_(&o, "\n# TYPE ");
        puts_(&o, m->name);
        put(&o, " ", 1);
        puts_(&o, type_names[m->type]);
        put(&o, "\n", 1);
        for (const s2l_series *s = m->first; s; s = s->next) {
            if (m->type == S2L_METRIC_HISTOGRAM) {
                render_histogram(&o, m, s);
                continue;
            }
            put_series_name(&o, m, s, "", NULL);
            put(&o, " ", 1);
            put_double(&o, s->value);
            put(&o, "\n", 1);
        }
    }
    if (o.failed) {
        free(o.s);
        return NULL;
    }
    if (len)
        *len = o.len;
    return o.s;
}
