/* it_workers.c — "workers": 2, two event loops on one listen address, against
 * a real slapd. Every request goes over a fresh connection, so the kernel's
 * SO_REUSEPORT hash spreads them over both loops (the access line names the
 * worker: worker=0 / worker=1).
 *
 *  - both workers serve, each with its own LDAP pool (two subschema reads at
 *    start; /metrics sums both pools' connections);
 *  - creates from several threads land once each in the directory (checked
 *    with ldapsearch), reads through either worker see them;
 *  - the limits are the process's, not a worker's: a credential's rate_limit
 *    burst of 10 admits exactly 10 of 40 requests, and after
 *    auth.failed_attempts.burst bad tokens the next attempt is refused with
 *    429 whichever worker it reaches;
 *  - SIGHUP reloads every worker (each logs event=reloaded ... worker=N): the
 *    new token works and the old one is refused on all connections;
 *  - slapd down: every worker answers 503 + Retry-After; slapd back: both
 *    recover by themselves and together (the second leaves its backoff as
 *    soon as the first pool binds);
 *  - a second gateway on the same address does not silently join the first
 *    one's SO_REUSEPORT group: it refuses to start ("cannot listen");
 *  - SIGTERM under load: the process drains both workers and exits 0 (no
 *    sanitizer report), every request got a whole answer or a refused
 *    connection.
 */
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "it_idp_common.h"

#define TOKEN_B "second-token-0123456789abcdef"
#define TOKEN_NEW "reloaded-token-0123456789abcdef"
#define N_THREADS 4
#define PER_THREAD 15

static int count_in(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static int log_count(h_gw *g, const char *needle)
{
    char *t = it_read_file(h_gw_log_path(g));
    int n = count_in(t, needle);
    free(t);
    return n;
}

static const char *auth_header(const char *token, char *buf, size_t n)
{
    snprintf(buf, n, "Authorization: Bearer %s", token);
    return buf;
}

static int status_with(h_gw *g, const char *token, const char *path)
{
    char hdr[128];
    const char *hdrs[] = {auth_header(token, hdr, sizeof hdr), NULL};
    h_resp r = h_http(g, "GET", path, NULL, hdrs);
    int st = r.status;
    h_resp_free(&r);
    return st;
}

typedef struct job {
    h_gw *g;
    int t;
    int created;
    int failed;
} job;

static void *create_users(void *arg)
{
    job *j = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"wk%d_%d\","
                 "\"name\":{\"familyName\":\"W\"}}",
                 j->t, i);
        h_resp r = h_http(j->g, "POST", "/Users", body, NULL);
        if (r.status == 201)
            j->created++;
        else
            j->failed++;
        h_resp_free(&r);
    }
    return NULL;
}

/* Both workers answered requests (the access lines say which). */
static void check_both_served(h_gw *g, const char *what)
{
    char *t = it_read_file(h_gw_log_path(g));
    int w0 = count_in(t, "event=request req="), w1 = count_in(t, " worker=1 ");
    int w0only = count_in(t, " worker=0 ");
    fprintf(stderr, "%s: %d access lines, worker 0: %d, worker 1: %d\n", what, w0, w0only, w1);
    H_CHECK(w0only > 0 && w1 > 0);
    free(t);
}

static void test_serving(it_env *env)
{
    h_gw *g = env->g;
    /* two pools, two subschema reads */
    H_CHECK(h_gw_log_wait(g, "event=subschema source=directory", 2, 20000));
    H_CHECK(log_count(g, "workers=2") >= 1);

    pthread_t th[N_THREADS];
    job jobs[N_THREADS];
    for (int t = 0; t < N_THREADS; t++) {
        jobs[t] = (job){.g = g, .t = t};
        H_REQUIRE(pthread_create(&th[t], NULL, create_users, &jobs[t]) == 0);
    }
    int created = 0;
    for (int t = 0; t < N_THREADS; t++) {
        pthread_join(th[t], NULL);
        created += jobs[t].created;
        H_CHECK_INT(jobs[t].failed, 0);
    }
    H_CHECK_INT(created, N_THREADS * PER_THREAD);
    /* the directory has each exactly once */
    H_CHECK_INT(h_ldap_count(env->s, H_PEOPLE, "(uid=wk*)"), N_THREADS * PER_THREAD);
    /* every one found through whichever worker answers */
    for (int t = 0; t < N_THREADS; t++) {
        for (int i = 0; i < PER_THREAD; i += 7) {
            char q[128];
            snprintf(q, sizeof q, "/Users?filter=userName%%20eq%%20%%22wk%d_%d%%22", t, i);
            h_resp r = h_http(g, "GET", q, NULL, NULL);
            H_CHECK_STATUS(r, 200);
            H_CHECK_INT(h_jint(r.json, "totalResults", -1), 1);
            h_resp_free(&r);
        }
    }
    check_both_served(g, "after the creates");

    /* /metrics: both pools' connections (4 each), reported within a second */
    bool eight = false;
    for (int k = 0; k < 50 && !eight; k++) {
        h_resp r = h_http_at(g, "GET", "/metrics", NULL, NULL);
        eight = r.body && strstr(r.body, "scim2ldap_ldap_connections{state=\"usable\"} 8\n") != NULL;
        if (!eight && k == 49)
            fprintf(stderr, "metrics:\n%.2000s\n", r.body ? r.body : "");
        h_resp_free(&r);
        if (!eight)
            usleep(100000);
    }
    H_CHECK(eight);
}

static void test_shared_limits(it_env *env)
{
    h_gw *g = env->g;
    /* TOKEN_B: burst 10, refilled every ~17 minutes: 10 of 40 pass */
    int ok = 0, limited = 0;
    for (int i = 0; i < 40; i++) {
        int st = status_with(g, TOKEN_B, "/Users?count=1");
        ok += st == 200;
        limited += st == 429;
    }
    fprintf(stderr, "rate limit: %d passed, %d refused\n", ok, limited);
    H_CHECK_INT(ok, 10);
    H_CHECK_INT(limited, 30);

    /* failed attempts: burst 6 per source; the 7th bad token is refused as too many
     * (429), and so is a good one from the same address, on any worker */
    for (int i = 0; i < 6; i++)
        H_CHECK_INT(status_with(g, "wrong-token-0123456789abcdef", "/Users?count=1"), 401);
    int st = status_with(g, "wrong-token-0123456789abcdef", "/Users?count=1");
    H_CHECK_INT(st, 429);
    for (int i = 0; i < 6; i++)
        H_CHECK_INT(status_with(g, H_TOKEN, "/Users?count=1"), 429);
}

static void test_reload(it_env *env)
{
    h_gw *g = env->g;
    char *text = it_read_file(h_gw_config_path(g));
    json_t *cfg = json_loads(text, 0, NULL);
    free(text);
    H_REQUIRE(cfg != NULL);
    json_object_set_new(json_object_get(cfg, "auth"), "bearer_tokens", json_pack("[s]", TOKEN_NEW));
    json_object_del(json_object_get(cfg, "auth"), "credentials");
    /* room for the 20 refused old-token attempts below */
    json_object_set_new(json_object_get(cfg, "auth"), "failed_attempts", json_pack("{s:i}", "burst", 1000));
    H_REQUIRE(json_dump_file(cfg, h_gw_config_path(g), JSON_INDENT(2)) == 0);
    json_decref(cfg);
    H_CHECK(h_gw_signal(g, SIGHUP) == 0);
    H_CHECK(h_gw_log_wait(g, "event=reloaded what=config", 2, 10000));
    H_CHECK(log_count(g, "worker=0\n") + log_count(g, "worker=1\n") >= 2);
    H_CHECK_INT(log_count(g, "event=reload_failed"), 0);
    int fresh = 0, old = 0;
    for (int i = 0; i < 20; i++) {
        fresh += status_with(g, TOKEN_NEW, "/Users?count=1") == 200;
        old += status_with(g, H_TOKEN, "/Users?count=1") == 401;
    }
    H_CHECK_INT(fresh, 20);
    H_CHECK_INT(old, 20);
}

static void test_ldap_down(it_env *env)
{
    h_gw *g = env->g;
    H_REQUIRE(h_slapd_stop(env->s) == 0);
    int unavailable = 0, with_retry = 0;
    for (int i = 0; i < 16; i++) {
        char hdr[128];
        const char *hdrs[] = {auth_header(TOKEN_NEW, hdr, sizeof hdr), NULL};
        h_resp r = h_http(g, "GET", "/Users?filter=userName%20eq%20%22wk0_0%22", NULL, hdrs);
        unavailable += r.status == 503;
        with_retry += r.status == 503 && h_header(&r, "Retry-After") != NULL;
        h_resp_free(&r);
    }
    H_CHECK_INT(unavailable, 16);
    H_CHECK_INT(with_retry, 16);
    /* long enough for both pools' reconnect backoff to reach its cap (5 s) */
    sleep(6);
    H_REQUIRE(h_slapd_restart(env->s) == 0);
    /* both recover by themselves, and together: once one loop answers 200,
     * the other leaves its backoff within a slice (pool.c up epoch) instead
     * of waiting it out, so 300 ms later 16 fresh connections in a row, spread
     * over both loops, all get 200 */
    double end = h_now_ms() + 30000;
    while (h_now_ms() < end && status_with(g, TOKEN_NEW, "/Users?filter=userName%20eq%20%22wk0_0%22") != 200)
        usleep(50000);
    usleep(300000);
    int ok = 0;
    for (int i = 0; i < 16; i++)
        ok += status_with(g, TOKEN_NEW, "/Users?filter=userName%20eq%20%22wk0_0%22") == 200;
    H_CHECK_INT(ok, 16);
    H_CHECK(log_count(g, "event=subschema source=directory") >= 4); /* both pools bound again */
}

static void test_address_taken(it_env *env)
{
    char extra[128];
    snprintf(extra, sizeof extra, "{\"workers\": 2, \"listen\": \"127.0.0.1:%d\"}", h_gw_port(env->g));
    h_gw *second = h_gw_start(env->s, extra);
    H_CHECK(second == NULL);
    if (second)
        h_gw_kill(second);
}

typedef struct load {
    h_gw *g;
    volatile bool stop;
    int whole, refused, other;
} load;

static void *run_load(void *arg)
{
    load *l = arg;
    for (int i = 0; i < 400 && !l->stop; i++) {
        char hdr[128];
        const char *hdrs[] = {auth_header(TOKEN_NEW, hdr, sizeof hdr), NULL};
        h_resp r = h_http(l->g, "GET", "/Users?count=5", NULL, hdrs);
        if (r.status == 200 && r.json != NULL)
            l->whole++;
        else if (r.status == 0)
            l->refused++; /* the listener closed: connection refused */
        else if (r.status == 503)
            l->whole++;   /* "shutting down" is a whole answer too */
        else
            l->other++;
        h_resp_free(&r);
    }
    return NULL;
}

static void test_sigterm(it_env *env)
{
    load l = {.g = env->g};
    pthread_t th[2];
    for (int t = 0; t < 2; t++)
        H_REQUIRE(pthread_create(&th[t], NULL, run_load, &l) == 0);
    usleep(300000);
    H_CHECK(h_gw_signal(env->g, SIGTERM) == 0);
    H_CHECK(h_gw_log_wait(env->g, "event=stopped", 1, 15000));
    l.stop = true;
    for (int t = 0; t < 2; t++)
        pthread_join(th[t], NULL);
    fprintf(stderr, "under SIGTERM: %d answered, %d refused, %d other\n", l.whole, l.refused, l.other);
    H_CHECK(l.whole > 0);
    H_CHECK_INT(l.other, 0);
    H_CHECK(h_gw_stop(env->g)); /* exit status 0, no sanitizer report */
    env->g = NULL;
}

int main(void)
{
    it_env env;
    const char *extra = "{\"workers\": 2,"
                        " \"auth\": {\"failed_attempts\": {\"burst\": 6, \"per_minute\": 1},"
                        "   \"credentials\": [{\"name\": \"limited\", \"kind\": \"bearer\", \"token\": \"" TOKEN_B "\","
                        "     \"rate_limit\": {\"per_second\": 0.001, \"burst\": 10}}]}}";
    if (!it_env_start(&env, extra))
        return H_DONE();
    test_serving(&env);
    test_shared_limits(&env);
    test_reload(&env);
    test_ldap_down(&env);
    test_address_taken(&env);
    test_sigterm(&env);
    it_env_stop(&env);
    return H_DONE();
}
