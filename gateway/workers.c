/* workers.c — N event loops serving one address (see workers.h). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "workers.h"

#include <sched.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/server.h"
#include "ops/ops.h"
#include "s2l/cpu_count.h"
#include "s2l/id_cache.h"
#include "s2l/log.h"

typedef struct worker {
    s2l_workers *all;
    unsigned index;
    struct event_base *base;
    s2l_gen_slot *slot;
    s2l_server *srv;
    pthread_t thread;
    bool started;                /* thread running (index > 0) */
    /* Activated from worker 0's thread (libevent's thread support makes
     * event_active safe there); they run on this worker's loop. */
    struct event *stop_ev, *reload_ev;
    struct event *report_timer;  /* its pool state for /metrics on other workers */
    bool stopping;
    /* A reload's parts, read by worker 0 for this worker, until its loop takes them. */
    pthread_mutex_t pending_lock;
    s2l_gen_parts pending;
    bool has_pending;
} worker;

struct s2l_workers {
    unsigned n;
    struct s2l_ops *ops;
    worker *w;
};

/* The cgroup v2 CPU quota of the process's cgroup (a container's --cpus, a
 * unit's CPUQuota=), in whole CPUs; 0 when there is none or no cgroup v2. */
static unsigned cgroup_quota(void)
{
    FILE *f = fopen("/sys/fs/cgroup/cpu.max", "r");
    if (f == NULL)
        return 0;
    char line[128] = "";
    bool ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    return ok ? s2l_cpu_quota_cpus(line) : 0;
}

unsigned s2l_workers_wanted(const s2l_config *cfg)
{
    if (cfg->workers > 0)
        return cfg->workers;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    unsigned affinity = sched_getaffinity(0, sizeof set, &set) == 0 ? (unsigned)CPU_COUNT(&set) : 0;
    unsigned n = s2l_cpu_usable(online > 0 ? (unsigned)online : 1, affinity, cgroup_quota());
    return n > S2L_OPS_MAX_WORKERS ? S2L_OPS_MAX_WORKERS : n;
}

/* ---- on a worker's own loop ---- */

static void on_drained(void *arg)
{
    worker *w = arg;
    s2l_log(S2L_LOG_DEBUG, "event=worker_stopped worker=%u", w->index);
    event_base_loopexit(w->base, NULL);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    worker *w = arg;
    if (w->stopping)
        return;
    w->stopping = true;
    if (w->report_timer)
        event_del(w->report_timer);
    s2l_server_shutdown(w->srv, on_drained, w);
}

static void on_reload(evutil_socket_t fd, short what, void *arg)
{
    worker *w = arg;
    pthread_mutex_lock(&w->pending_lock);
    s2l_gen_parts parts = w->pending;
    bool have = w->has_pending;
    w->pending = (s2l_gen_parts){0};
    w->has_pending = false;
    pthread_mutex_unlock(&w->pending_lock);
    char err[1024] = "";
    if (have)
        s2l_gen_reload_parts(w->slot, &parts, err, sizeof err); /* logs either way */
}

static void on_report(evutil_socket_t fd, short what, void *arg)
{
    worker *w = arg;
    s2l_ops_worker_report(w->all->ops, w->index);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    s2l_ops_worker_thread(w->all->ops, w->index);
    s2l_ops_worker_report(w->all->ops, w->index);
    event_base_dispatch(w->base);
    return NULL;
}

/* ---- reading the files for every worker ---- */

/* n sets of parts from one configuration file, worker 0's first (already in
 * sets[0] when have_first): every worker gets its own configuration and
 * mapping (a mapping is changed by its pool's subschema reader), and every
 * auth state counts against worker 0's rate limits. All or nothing: 0, or
 * -1 with errbuf set and every set freed. */
static int load_sets(const char *config_path, s2l_gen_parts *sets, unsigned n, bool have_first, char *errbuf,
                     size_t errlen)
{
    for (unsigned i = have_first ? 1 : 0; i < n; i++) {
        if (s2l_gen_parts_load(config_path, &sets[i], errbuf, errlen) < 0)
            goto fail;
        if (i > 0 && !s2l_auth_share_limits(sets[i].auth, sets[0].auth)) {
            snprintf(errbuf, errlen, "%s: the credentials changed while the workers read the file: try again",
                     config_path);
            s2l_gen_parts_free(&sets[i]);
            goto fail;
        }
    }
    /* One id -> DN cache for all: an IdP's requests come over several
     * connections, which the kernel spreads over the workers. */
    if (n > 1) {
        struct s2l_id_cache *cache = s2l_id_cache_create(sets[0].cfg->ldap.id_cache_entries);
        if (cache == NULL) {
            snprintf(errbuf, errlen, "out of memory");
            goto fail;
        }
        for (unsigned i = 0; i < n; i++)
            sets[i].id_cache = s2l_id_cache_hold(cache);
        s2l_id_cache_destroy(cache);
    }
    return 0;
fail:
    for (unsigned i = 0; i < n; i++)
        s2l_gen_parts_free(&sets[i]);
    return -1;
}

/* ---- building ---- */

static struct event_base *new_base(void)
{
    /* Timers are armed against the real time, not the time cached when the
     * loop woke up: a callback that parses and maps a 1 MB body takes long
     * enough that an LDAP deadline armed after it would otherwise fire early. */
    struct event_config *ecfg = event_config_new();
    if (ecfg == NULL || event_config_set_flag(ecfg, EVENT_BASE_FLAG_NO_CACHE_TIME) != 0) {
        event_config_free(ecfg);
        return NULL;
    }
    struct event_base *base = event_base_new_with_config(ecfg);
    event_config_free(ecfg);
    return base;
}

/* Takes parts, also on failure. */
static int build_worker(s2l_workers *ws, worker *w, const char *config_path, s2l_gen_parts *parts, char *errbuf,
                        size_t errlen)
{
    w->base = new_base();
    w->slot = w->base ? s2l_gen_slot_new(w->base, ws->ops, config_path, w->index) : NULL;
    if (w->slot == NULL) {
        s2l_gen_parts_free(parts);
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    if (s2l_gen_start(w->slot, parts, errbuf, errlen) < 0)
        return -1;
    s2l_gateway *gw = s2l_gen_acquire(w->slot);
    w->srv = s2l_server_create(gw, ws->n, errbuf, errlen);
    s2l_gateway_release(gw);
    if (w->srv == NULL)
        return -1;
    w->stop_ev = event_new(w->base, -1, 0, on_stop, w);
    w->reload_ev = event_new(w->base, -1, 0, on_reload, w);
    if (w->stop_ev == NULL || w->reload_ev == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    if (ws->n > 1) {
        struct timeval every = {1, 0};
        w->report_timer = event_new(w->base, -1, EV_PERSIST, on_report, w);
        if (w->report_timer == NULL || event_add(w->report_timer, &every) < 0) {
            snprintf(errbuf, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

s2l_workers *s2l_workers_create(unsigned n, const char *config_path, s2l_gen_parts *parts, struct s2l_ops *ops,
                                char *errbuf, size_t errlen)
{
    s2l_workers *ws = calloc(1, sizeof *ws);
    if (ws)
        ws->w = calloc(n ? n : 1, sizeof *ws->w);
    if (ws == NULL || ws->w == NULL || n == 0 || n > S2L_OPS_MAX_WORKERS) {
        free(ws ? ws->w : NULL);
        free(ws);
        s2l_gen_parts_free(parts);
        snprintf(errbuf, errlen, n ? "out of memory" : "no worker");
        return NULL;
    }
    ws->n = n;
    ws->ops = ops;
    for (unsigned i = 0; i < n; i++) {
        ws->w[i].all = ws;
        ws->w[i].index = i;
        pthread_mutex_init(&ws->w[i].pending_lock, NULL);
    }
    s2l_gen_parts *sets = calloc(n, sizeof *sets);
    if (sets == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        s2l_gen_parts_free(parts);
        s2l_workers_free(ws);
        return NULL;
    }
    sets[0] = *parts;
    *parts = (s2l_gen_parts){0};
    /* With SO_REUSEPORT a busy address would be joined, not refused. */
    if ((n > 1 && s2l_server_listen_free_port(sets[0].cfg, errbuf, errlen) < 0) ||
        load_sets(config_path, sets, n, true, errbuf, errlen) < 0) {
        for (unsigned i = 0; i < n; i++)
            s2l_gen_parts_free(&sets[i]);
        free(sets);
        s2l_workers_free(ws);
        return NULL;
    }
    for (unsigned i = 0; i < n; i++) {
        if (build_worker(ws, &ws->w[i], config_path, &sets[i], errbuf, errlen) < 0) {
            for (unsigned j = i + 1; j < n; j++)
                s2l_gen_parts_free(&sets[j]);
            free(sets);
            s2l_workers_free(ws);
            return NULL;
        }
    }
    free(sets);
    return ws;
}

void s2l_workers_free(s2l_workers *ws)
{
    if (ws == NULL)
        return;
    for (unsigned i = 0; i < ws->n; i++) {
        worker *w = &ws->w[i];
        if (w->report_timer)
            event_free(w->report_timer);
        if (w->stop_ev)
            event_free(w->stop_ev);
        if (w->reload_ev)
            event_free(w->reload_ev);
        s2l_server_destroy(w->srv);
        s2l_gen_slot_free(w->slot);
        if (w->base)
            event_base_free(w->base);
        s2l_gen_parts_free(&w->pending);
        pthread_mutex_destroy(&w->pending_lock);
    }
    free(ws->w);
    free(ws);
}

unsigned s2l_workers_count(const s2l_workers *ws)
{
    return ws->n;
}

struct event_base *s2l_workers_main_base(s2l_workers *ws)
{
    return ws->w[0].base;
}

s2l_gen_slot *s2l_workers_main_slot(s2l_workers *ws)
{
    return ws->w[0].slot;
}

/* ---- running ---- */

int s2l_workers_run(s2l_workers *ws)
{
    int rc = 0;
    /* The other threads block every signal: they reach worker 0's loop. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (unsigned i = 1; i < ws->n; i++) {
        if (pthread_create(&ws->w[i].thread, NULL, worker_main, &ws->w[i]) != 0) {
            s2l_log(S2L_LOG_ERROR, "event=worker_start_failed worker=%u", i);
            rc = -1;
            break;
        }
        ws->w[i].started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0) {
        s2l_ops_worker_thread(ws->ops, 0);
        event_base_dispatch(ws->w[0].base);
    } else {
        for (unsigned i = 1; i < ws->n; i++)
            if (ws->w[i].started)
                event_base_loopbreak(ws->w[i].base);
    }
    for (unsigned i = 1; i < ws->n; i++)
        if (ws->w[i].started)
            pthread_join(ws->w[i].thread, NULL);
    return rc;
}

void s2l_workers_stop(s2l_workers *ws)
{
    /* Worker 0 last: its loop's end is where run() starts joining. */
    for (unsigned i = 1; i < ws->n; i++)
        event_active(ws->w[i].stop_ev, EV_READ, 0);
    on_stop(-1, 0, &ws->w[0]);
}

void s2l_workers_break(s2l_workers *ws)
{
    for (unsigned i = 0; i < ws->n; i++)
        event_base_loopbreak(ws->w[i].base);
}

void s2l_workers_reload(s2l_workers *ws)
{
    /* Read here, for all, so that every worker gets the same reading (and one
     * limit per credential), or none does. */
    char err[1024] = "";
    s2l_gen_parts *sets = calloc(ws->n, sizeof *sets);
    if (sets == NULL || load_sets(s2l_gen_slot_path(ws->w[0].slot), sets, ws->n, false, err, sizeof err) < 0) {
        s2l_gen_reload_failed(ws->w[0].slot, sets ? err : "out of memory");
        free(sets);
        return;
    }
    for (unsigned i = 1; i < ws->n; i++) {
        worker *w = &ws->w[i];
        pthread_mutex_lock(&w->pending_lock);
        s2l_gen_parts_free(&w->pending); /* a reload it has not taken yet: this one replaces it */
        w->pending = sets[i];
        w->has_pending = true;
        pthread_mutex_unlock(&w->pending_lock);
        event_active(w->reload_ev, EV_READ, 0);
    }
    s2l_gen_reload_parts(ws->w[0].slot, &sets[0], err, sizeof err);
    free(sets);
}

unsigned s2l_workers_in_flight(const s2l_workers *ws)
{
    unsigned n = 0;
    for (unsigned i = 0; i < ws->n; i++)
        n += ws->w[i].srv ? s2l_server_in_flight(ws->w[i].srv) : 0;
    return n;
}
