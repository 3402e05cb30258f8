/* it_ldap_pool_common.h — what the pool's integration tests (it_ldap_pool*.c)
 * share: the event loop bounded by time, callbacks that record a result,
 * stopping slapd without killing it, entry helpers. Include once, after
 * harness.h, event2/event.h and s2l/ldap_pool.h; the test defines nothing of
 * this itself. Functions are static inline so a test need not use them all. */
#ifndef S2L_IT_LDAP_POOL_COMMON_H
#define S2L_IT_LDAP_POOL_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "harness.h"
#include "s2l/ldap_pool.h"

static struct event_base *base;


/* ---- the loop, bounded by time ---- */

typedef bool done_fn(void *ctx);

static inline bool run_until(done_fn *done, void *ctx, double timeout_ms)
{
    double deadline = h_now_ms() + timeout_ms;
    while (done == NULL || !done(ctx)) {
        if (h_now_ms() > deadline)
            return false;
        event_base_loop(base, EVLOOP_ONCE);
    }
    return true;
}

static inline void run_for(double ms)
{
    run_until(NULL, NULL, ms);
}

/* ---- recording callbacks ---- */

static bool g_in_start;      /* set around every start call */
static int g_calls_in_start; /* callbacks that ran inside one: must stay 0 */

typedef struct rec {
    int calls;
    int rc;
    double done_ms;
    json_t *entries;
    bool has_vlv, has_sort;
    unsigned long vlv_target, vlv_count;
    int vlv_rc, sort_rc;
    char diag[256];
    s2l_ldap_op *cancel_other; /* cancelled from inside this callback */
    int *counter;              /* incremented on completion */
} rec;

static inline void on_done(const s2l_ldap_result *r, void *arg)
{
    rec *x = arg;
    if (g_in_start)
        g_calls_in_start++;
    x->calls++;
    x->rc = r->rc;
    x->done_ms = h_now_ms();
    json_decref(x->entries);
    x->entries = r->entries ? json_incref(r->entries) : NULL;
    x->has_vlv = r->has_vlv;
    x->vlv_target = r->vlv_target;
    x->vlv_count = r->vlv_count;
    x->vlv_rc = r->vlv_rc;
    x->has_sort = r->has_sort;
    x->sort_rc = r->sort_rc;
    snprintf(x->diag, sizeof x->diag, "%s", r->diag ? r->diag : "");
    if (x->counter)
        (*x->counter)++;
    if (x->cancel_other) {
        s2l_ldap_cancel(x->cancel_other);
        x->cancel_other = NULL;
    }
}

static inline void rec_clear(rec *x)
{
    json_decref(x->entries);
    memset(x, 0, sizeof *x);
}

static inline bool rec_done(void *p)
{
    return ((rec *)p)->calls > 0;
}

typedef struct counter_goal {
    int *counter;
    int goal;
} counter_goal;

static inline bool reached(void *p)
{
    counter_goal *g = p;
    return *g->counter >= g->goal;
}

/* Starts an op with g_in_start set; a start returns NULL only without memory. */
#define START(op, expr) \
    do { \
        g_in_start = true; \
        (op) = (expr); \
        g_in_start = false; \
        H_CHECK((op) != NULL); \
    } while (0)

/* ---- slapd and entries ---- */

static inline pid_t slapd_pid(h_slapd *s)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/slapd.pid", h_slapd_dir(s));
    long pid = 0;
    FILE *f = NULL;
    /* Bounded retries: slapd writes the file once it is up. */
    for (int attempt = 0; attempt < 200 && pid <= 0; attempt++) {
        if (attempt)
            usleep(10000);
        f = fopen(path, "r");
        if (f) {
            if (fscanf(f, "%ld", &pid) != 1)
                pid = 0;
            fclose(f);
        }
    }
    if (pid <= 0)
        fprintf(stderr, "cannot read %s: %s\n", path, f ? "no pid in it" : strerror(errno));
    return (pid_t)pid;
}

/* Whether every thread of pid is stopped ('T' in /proc/<pid>/task/<tid>/stat). */
static inline bool all_threads_stopped(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/task", (long)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return false;
    bool stopped = true;
    int seen = 0;
    struct dirent *de;
    while (stopped && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char stat_path[384], buf[512];
        snprintf(stat_path, sizeof stat_path, "%s/%s/stat", path, de->d_name);
        FILE *f = fopen(stat_path, "r");
        if (f == NULL)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *paren = strrchr(buf, ')');
        seen++;
        if (paren == NULL || paren[1] != ' ' || (paren[2] != 'T' && paren[2] != 't'))
            stopped = false;
    }
    closedir(d);
    return stopped && seen > 0;
}

/* SIGSTOP and wait until the signal has really stopped every thread, so no
 * request sent afterwards can be answered. */
static inline void stop_slapd(pid_t pid)
{
    kill(pid, SIGSTOP);
    double deadline = h_now_ms() + 2000;
    while (!all_threads_stopped(pid) && h_now_ms() < deadline)
        usleep(1000);
    H_CHECK(all_threads_stopped(pid));
}

static inline json_t *user_attrs(const char *uid, const char *sn)
{
    return json_pack("{s:[s,s], s:[s], s:[s], s:[s]}", "objectClass", "top", "inetOrgPerson", "uid", uid, "cn", uid,
                     "sn", sn);
}

static inline char *user_dn(const char *uid)
{
    size_t n = strlen(uid) + sizeof ",ou=people,dc=example,dc=org" + 8;
    char *dn = malloc(n);
    if (dn)
        snprintf(dn, n, "uid=%s,%s", uid, H_PEOPLE);
    return dn;
}

#endif
