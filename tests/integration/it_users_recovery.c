/* it_users_recovery.c — the directory dies under load and comes back.
 *
 * Four client threads POST users (bounded: 300 requests each, 60 s) while the
 * test SIGKILLs slapd and restarts it ~1.5 s later. Afterwards:
 *   - every request answered 2xx is in LDAP (nothing acknowledged is lost);
 *   - every other answer is 503 with Retry-After (no 500, no 404, no hang,
 *     no connection dropped without an answer);
 *   - while slapd is down a request gets its 503 in under a second;
 *   - after the restart the gateway serves 2xx again by itself, within a few
 *     seconds (polled, bounded).
 * A second, idle outage checks that a request arriving on idle (now dead)
 * connections also fails fast, and that no write slips through while down.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "it_users_common.h"

#define N_THREADS 4
#define MAX_PER_THREAD 300
#define LOAD_MAX_MS 60000.0
/* Pause between a thread's requests: short before the kill, so several
 * requests are in flight when slapd dies, longer afterwards so the 300
 * requests last past the restart. */
#define PACE_BEFORE_MS 2
#define PACE_MS 40
#define DOWN_MS 1500
#define RECOVER_MAX_MS 15000.0  /* polling bound */
#define RECOVER_WANT_MS 10000.0 /* "a few seconds": generous for a 2-core box under load */
#define FAST_503_MS 1000.0
/* Slowest acceptable answer under load: the LDAP timeout (5 s in the harness
 * config) plus scheduling slack; anything longer is a hang. */
#define SLOWEST_MS 6500.0

typedef struct outcome {
    int status;          /* 0: no complete answer */
    bool retry_after;    /* a Retry-After header with delay-seconds */
    double start_ms, ms; /* when sent (h_now_ms) and how long it took */
    char *id;            /* 2xx: the id the gateway returned */
    char err[192];       /* status 0: why (as h_resp.err) */
} outcome;

typedef struct worker {
    int index;
    pthread_t thread;
    int n;               /* outcomes recorded */
    outcome res[MAX_PER_THREAD];
} worker;

static it_env env;
static worker workers[N_THREADS];
static atomic_bool stop_load;
static atomic_int n_ok;
static atomic_int pace_ms = PACE_BEFORE_MS;
static double load_deadline;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool retry_after_ok(const h_resp *r)
{
    const char *v = h_header(r, "Retry-After");

    if (v == NULL || *v == 0)
        return false;
    for (const char *p = v; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

static void user_name(char *buf, size_t len, int thread, int i)
{
    snprintf(buf, len, "rec-%d-%03d", thread, i);
}

static void *load(void *arg)
{
    worker *w = arg;

    for (int i = 0; i < MAX_PER_THREAD && !atomic_load(&stop_load) && h_now_ms() < load_deadline; i++) {
        char name[32], body[160];
        outcome *o = &w->res[i];
        h_resp r;

        user_name(name, sizeof name, w->index, i);
        snprintf(body, sizeof body, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"%s\"}", name);
        o->start_ms = h_now_ms();
        r = h_http(env.g, "POST", "/Users", body, NULL);
        o->status = r.status;
        o->ms = r.ms;
        o->retry_after = retry_after_ok(&r);
        snprintf(o->err, sizeof o->err, "%s", r.err);
        if (r.status >= 200 && r.status < 300) {
            const char *id = h_jstr(r.json, "id");
            o->id = id ? strdup(id) : NULL;
            atomic_fetch_add(&n_ok, 1);
        }
        h_resp_free(&r);
        w->n = i + 1;
        sleep_ms(atomic_load(&pace_ms));
    }
    return NULL;
}

/* Waits until at least `want` requests succeeded in total (bounded). */
static bool wait_ok(int want, double max_ms)
{
    double until = h_now_ms() + max_ms;

    while (atomic_load(&n_ok) < want && h_now_ms() < until)
        sleep_ms(20);
    return atomic_load(&n_ok) >= want;
}

/* A request while the directory is down: 503 + Retry-After, fast. */
static void check_fast_503(const char *method, const char *path, const char *body)
{
    h_resp r = h_http(env.g, method, path, body, NULL);

    IT_CHECK_ERROR(r, 503, NULL);
    h_check_(retry_after_ok(&r), __FILE__, __LINE__, "%s %s: 503 without a Retry-After delay (got %s)", method,
             path, h_header(&r, "Retry-After") ? h_header(&r, "Retry-After") : "none");
    h_check_(r.ms < FAST_503_MS, __FILE__, __LINE__, "%s %s: the 503 took %.0f ms (want < %.0f)", method, path,
             r.ms, FAST_503_MS);
    fprintf(stderr, "down: %s %s -> %d in %.0f ms\n", method, path, r.status, r.ms);
    h_resp_free(&r);
}

/* Polls until a directory request succeeds; returns the time it took, or -1. */
static double wait_recovered(double since)
{
    while (h_now_ms() - since < RECOVER_MAX_MS) {
        h_resp r = h_http(env.g, "GET", "/Users?filter=userName%20eq%20%22recovery.probe%22", NULL, NULL);
        int st = r.status;

        h_resp_free(&r);
        if (st == 200)
            return h_now_ms() - since;
        sleep_ms(100);
    }
    return -1;
}

/* uid -> entryUUID of every user in the directory. */
static json_t *directory_users(void)
{
    static const char *const attrs[] = {"uid", "entryUUID", NULL};
    json_t *all = h_ldap_search(env.s, H_PEOPLE, "(objectClass=inetOrgPerson)", attrs);
    json_t *map = json_object();
    size_t i;
    json_t *e;

    H_REQUIRE(all != NULL && map != NULL);
    json_array_foreach(all, i, e) {
        const char *uid = h_ldap_attr(e, "uid"), *uuid = h_ldap_attr(e, "entryuuid");
        if (uid && uuid)
            json_object_set_new(map, uid, json_string(uuid));
    }
    json_decref(all);
    return map;
}

static void test_outage_under_load(void)
{
    double t_kill, t_restart, recovered;
    int ok_before_restart;
    int n_total = 0, n_2xx = 0, n_503 = 0, n_other = 0, n_2xx_after = 0, n_503_stored = 0;
    double slowest = 0;
    json_t *dir;

    load_deadline = h_now_ms() + LOAD_MAX_MS;
    for (int t = 0; t < N_THREADS; t++) {
        workers[t].index = t;
        H_REQUIRE(pthread_create(&workers[t].thread, NULL, load, &workers[t]) == 0);
    }
    H_CHECK(wait_ok(40, 10000));

    /* Crash the directory in the middle of the load. */
    t_kill = h_now_ms();
    H_CHECK_INT(h_slapd_kill(env.s), 0);
    atomic_store(&pace_ms, PACE_MS);
    check_fast_503("GET", "/Users?filter=userName%20eq%20%22rec-0-000%22", NULL);
    check_fast_503("POST", "/Users", "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"while.down\"}");
    sleep_ms(300);
    check_fast_503("GET", "/Users?filter=userName%20eq%20%22rec-0-000%22", NULL);
    while (h_now_ms() - t_kill < DOWN_MS)
        sleep_ms(20);
    ok_before_restart = atomic_load(&n_ok);
    t_restart = h_now_ms();
    H_CHECK_INT(h_slapd_restart(env.s), 0);

    recovered = wait_recovered(t_restart);
    fprintf(stderr, "recovery: directory requests succeed %.0f ms after the restart\n", recovered);
    h_check_(recovered >= 0 && recovered < RECOVER_WANT_MS, __FILE__, __LINE__,
             "the gateway did not serve 2xx again within %.0f ms of the restart (%.0f)", RECOVER_WANT_MS, recovered);
    /* Let the load run on the recovered gateway for a while. */
    H_CHECK(wait_ok(ok_before_restart + 20, 10000));
    atomic_store(&stop_load, true);
    for (int t = 0; t < N_THREADS; t++)
        pthread_join(workers[t].thread, NULL);

    /* Judge every answer. */
    dir = directory_users();
    for (int t = 0; t < N_THREADS; t++) {
        for (int i = 0; i < workers[t].n; i++) {
            const outcome *o = &workers[t].res[i];
            char name[32];
            const char *stored_id;

            user_name(name, sizeof name, t, i);
            stored_id = json_string_value(json_object_get(dir, name));
            n_total++;
            if (o->ms > slowest)
                slowest = o->ms;
            if (o->status >= 200 && o->status < 300) {
                n_2xx++;
                if (o->start_ms > t_restart)
                    n_2xx_after++;
                h_check_(o->id && stored_id && strcmp(o->id, stored_id) == 0, __FILE__, __LINE__,
                         "POST %s answered %d (id %s) but LDAP has %s", name, o->status, o->id ? o->id : "none",
                         stored_id ? stored_id : "no such user");
            } else if (o->status == 503) {
                n_503++;
                if (stored_id)
                    n_503_stored++;
                h_check_(o->retry_after, __FILE__, __LINE__, "POST %s: 503 without Retry-After", name);
            } else {
                n_other++;
                h_check_(false, __FILE__, __LINE__, "POST %s (sent %.0f ms after the kill): got %d%s%s, want 2xx or 503",
                         name, o->start_ms - t_kill, o->status, o->err[0] ? " — " : "", o->err);
            }
        }
    }
    json_decref(dir);
    fprintf(stderr,
            "load: %d requests: %d 2xx (%d sent after the restart), %d 503 (%d of them stored anyway), %d other; "
            "slowest %.0f ms\n",
            n_total, n_2xx, n_2xx_after, n_503, n_503_stored, n_other, slowest);
    /* The outage was really seen by the load, and the load really recovered. */
    H_CHECK(n_503 > 0);
    H_CHECK(n_2xx_after > 0);
    h_check_(slowest < SLOWEST_MS, __FILE__, __LINE__, "slowest answer %.0f ms: a request hung", slowest);

    for (int t = 0; t < N_THREADS; t++)
        for (int i = 0; i < workers[t].n; i++)
            free(workers[t].res[i].id);
}

/* An idle gateway whose pooled connections die silently. */
static void test_idle_outage(void)
{
    char *id = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"idle.user\",\"title\":\"Kept\"}");
    char *path = id ? it_user_path(id) : NULL;
    char *before, *after;
    double t_restart, recovered;

    H_REQUIRE(id != NULL && path != NULL);
    before = h_ldap_snapshot(env.s);
    H_CHECK_INT(h_slapd_kill(env.s), 0);
    /* Every kind of request: 503 quickly; none is a 404 or a 500. */
    check_fast_503("GET", path, NULL);
    check_fast_503("PATCH", path,
                   "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"Lost\"}]}");
    check_fast_503("PUT", path, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"idle.user\"}");
    check_fast_503("DELETE", path, NULL);
    check_fast_503("POST", "/Users", "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"idle.new\"}");
    check_fast_503("GET", "/Users?startIndex=1&count=5", NULL);

    t_restart = h_now_ms();
    H_CHECK_INT(h_slapd_restart(env.s), 0);
    recovered = wait_recovered(t_restart);
    fprintf(stderr, "idle recovery: %.0f ms after the restart\n", recovered);
    h_check_(recovered >= 0 && recovered < RECOVER_WANT_MS, __FILE__, __LINE__,
             "idle gateway did not recover within %.0f ms (%.0f)", RECOVER_WANT_MS, recovered);
    /* Nothing was written while down. */
    after = h_ldap_snapshot(env.s);
    H_CHECK(h_snapshot_same(before, after));
    {
        h_resp r = h_http(env.g, "GET", path, NULL, NULL);

        H_CHECK_STATUS(r, 200);
        H_CHECK_STR(h_jstr(r.json, "title"), "Kept");
        h_resp_free(&r);
    }
    /* And writes work again. */
    {
        char *id2 = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"after.recovery\"}");
        json_t *e = id2 ? it_entry_by_id(env.s, id2) : NULL;

        H_CHECK(e != NULL);
        json_decref(e);
        free(id2);
    }
    free(before);
    free(after);
    free(path);
    free(id);
}

int main(void)
{
    /* A hung request must show up as a failure, not stall the suite. */
    setenv("S2L_HTTP_TIMEOUT_MS", "15000", 1);
    if (it_env_start(&env, NULL)) {
        test_outage_under_load();
        test_idle_outage();
    }
    it_env_stop(&env);
    return H_DONE();
}
