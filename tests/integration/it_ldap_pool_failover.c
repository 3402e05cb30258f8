/* it_ldap_pool_failover.c — the pool with several LDAP servers, against two
 * real private slapd instances A and B (independent, no replication, so the
 * directory itself tells which server took a write):
 *   - the pool uses the first server; every write lands there only;
 *   - A killed with ops in flight: they complete with LDAP_SERVER_DOWN, are not
 *     re-sent to B, and the pool fails over to B by itself;
 *   - failback probes while A is still down disturb nothing;
 *   - A back: the pool fails back after failback_after_ms with no op failing
 *     during the planned switch;
 *   - both down: ops fail fast (503 + Retry-After), reconnect attempts back
 *     off (no busy loop), recovery on whichever server comes back first;
 *   - a pool created while the first server is unreachable starts on the next.
 *
 * Needs the pool (s2l_shell + libevent) linked in, like it_ldap_pool.c. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef S2L_IT_LINKS_SHELL

#include <event2/event.h>
#include <ldap.h>

#include "s2l/ldap_errors.h"
#include "s2l/ldap_pool.h"

#include "it_ldap_pool_common.h"

#define NCONN 4
#define FAILBACK_MS 800

static h_slapd *A, *B;

static s2l_pool *make_pool(const char *uris, unsigned failback_ms)
{
    char err[256] = "";
    s2l_pool_config cfg = {
        .uri = uris,
        .bind_dn = H_ROOTDN,
        .bind_password = H_ROOTPW,
        .connections = NCONN,
        .timeout_ms = 10000,
        .connect_timeout_ms = 2000,
        .backoff_min_ms = 50,
        .backoff_max_ms = 400,
        .failback_after_ms = failback_ms,
    };
    s2l_pool *p = s2l_pool_create(base, &cfg, err, sizeof err);
    if (p == NULL)
        fprintf(stderr, "s2l_pool_create: %s\n", err);
    return p;
}

static s2l_pool_stats stats(s2l_pool *p)
{
    s2l_pool_stats st;
    s2l_pool_get_stats(p, &st);
    return st;
}

typedef struct on_server {
    s2l_pool *p;
    unsigned server;
} on_server;

/* Every connection usable on the given server. */
static bool all_on(void *arg)
{
    on_server *w = arg;
    s2l_pool_stats st = stats(w->p);
    return st.server == w->server && st.connections_usable == NCONN && st.connections_up == NCONN;
}

static int add_user(s2l_pool *p, const char *uid)
{
    rec r = {0};
    json_t *attrs = user_attrs(uid, "Failover");
    char *dn = user_dn(uid);
    s2l_ldap_op *op;
    START(op, s2l_ldap_add_ext(p, dn, attrs, NULL, 0, on_done, &r));
    json_decref(attrs);
    free(dn);
    int rc = run_until(rec_done, &r, 10000) ? r.rc : -1000;
    rec_clear(&r);
    return rc;
}

static long count_on(h_slapd *s, const char *uid)
{
    char filter[128];
    snprintf(filter, sizeof filter, "(uid=%s)", uid);
    return h_ldap_count(s, H_PEOPLE, filter);
}

/* A steady trickle of ops (at most `window` in flight: a search, then an add,
 * alternately) while the loop runs until done(ctx) or the deadline. */
typedef struct trickle {
    s2l_pool *p;
    const char *prefix;
    int window, in_flight, started, ok, failed, adds_ok;
    int first_rc;
    char first_diag[160];
} trickle;

typedef struct trickle_op {
    trickle *t;
    bool add;
} trickle_op;

static void trickle_done(const s2l_ldap_result *r, void *arg)
{
    trickle_op *o = arg;
    trickle *t = o->t;
    t->in_flight--;
    if (r->rc == LDAP_SUCCESS) {
        t->ok++;
        t->adds_ok += o->add;
    } else {
        if (t->failed++ == 0) {
            t->first_rc = r->rc;
            snprintf(t->first_diag, sizeof t->first_diag, "%s", r->diag ? r->diag : "");
        }
    }
    free(o);
}

static void trickle_top_up(trickle *t)
{
    static const s2l_search_req one = {.base = H_SUFFIX, .scope = LDAP_SCOPE_BASE};
    while (t->in_flight < t->window) {
        trickle_op *o = calloc(1, sizeof *o);
        H_REQUIRE(o != NULL);
        o->t = t;
        o->add = t->started % 2 == 1;
        s2l_ldap_op *op;
        if (o->add) {
            char uid[64];
            snprintf(uid, sizeof uid, "%s%05d", t->prefix, t->started);
            json_t *attrs = user_attrs(uid, "Trickle");
            char *dn = user_dn(uid);
            START(op, s2l_ldap_add_ext(t->p, dn, attrs, NULL, 0, trickle_done, o));
            json_decref(attrs);
            free(dn);
        } else {
            START(op, s2l_ldap_search(t->p, &one, 0, trickle_done, o));
        }
        t->started++;
        t->in_flight++;
    }
}

static bool trickle_run(trickle *t, done_fn *done, void *ctx, double timeout_ms)
{
    double deadline = h_now_ms() + timeout_ms;
    bool reached_goal = false;
    while (h_now_ms() < deadline) {
        if (done && done(ctx)) {
            reached_goal = true;
            break;
        }
        trickle_top_up(t);
        event_base_loop(base, EVLOOP_ONCE);
    }
    /* Let the last ones finish (no new ones). */
    double drain = h_now_ms() + 10000;
    while (t->in_flight > 0 && h_now_ms() < drain)
        event_base_loop(base, EVLOOP_ONCE);
    H_CHECK_INT(t->in_flight, 0);
    return reached_goal || done == NULL;
}

/* ---- tests ---- */

/* Bad lists are refused; whitespace of any kind separates URIs. */
static void test_config(void)
{
    char err[160] = "";
    s2l_pool_config cfg = {.uri = "ldap://127.0.0.1:1/ http://127.0.0.1:2/"};
    H_CHECK(s2l_pool_create(base, &cfg, err, sizeof err) == NULL);
    H_CHECK(strstr(err, "http://127.0.0.1:2/") != NULL);
    cfg.uri = "   ";
    H_CHECK(s2l_pool_create(base, &cfg, err, sizeof err) == NULL);
    cfg.uri = "ldap://127.0.0.1:1/ ldaps://127.0.0.1:2/";
    cfg.starttls = true;
    H_CHECK(s2l_pool_create(base, &cfg, err, sizeof err) == NULL);
    cfg.starttls = false;
    cfg.uri = "\tldap://127.0.0.1:1/\n ldap://127.0.0.1:2/ ";
    s2l_pool *p = s2l_pool_create(base, &cfg, err, sizeof err);
    H_CHECK(p != NULL);
    if (p) {
        H_CHECK_STR(s2l_pool_server_uri(p), "ldap://127.0.0.1:1/");
        s2l_pool_destroy(p);
    }
}

/* The pool connects to the first server that is reachable: a port nobody
 * listens on first, then A. */
static void test_first_unreachable(void)
{
    char uris[256];
    /* Port 1 (tcpmux) has no listener on a test machine: refused at once. */
    snprintf(uris, sizeof uris, "ldap://127.0.0.1:1/ %s %s", h_slapd_uri(A), h_slapd_uri(B));
    s2l_pool *p = make_pool(uris, S2L_POOL_NO_FAILBACK);
    H_REQUIRE(p != NULL);
    double t0 = h_now_ms();
    on_server w = {p, 1};
    H_CHECK(run_until(all_on, &w, 5000));
    fprintf(stderr, "first server unreachable: up on the second after %.0f ms\n", h_now_ms() - t0);
    H_CHECK_STR(s2l_pool_server_uri(p), h_slapd_uri(A));
    H_CHECK_INT(add_user(p, "fo-start"), LDAP_SUCCESS);
    H_CHECK_INT(count_on(A, "fo-start"), 1);
    H_CHECK_INT(count_on(B, "fo-start"), 0);
    s2l_pool_destroy(p);
}

#define N_INFLIGHT 20

static void test_failover_failback(void)
{
    char uris[256];
    snprintf(uris, sizeof uris, "%s %s", h_slapd_uri(A), h_slapd_uri(B));
    s2l_pool *p = make_pool(uris, FAILBACK_MS);
    H_REQUIRE(p != NULL);
    on_server on_a = {p, 0}, on_b = {p, 1};
    H_REQUIRE(run_until(all_on, &on_a, 5000));

    /* 1. Writes go to the first server only. */
    H_CHECK_INT(add_user(p, "fo-a1"), LDAP_SUCCESS);
    H_CHECK_INT(count_on(A, "fo-a1"), 1);
    H_CHECK_INT(count_on(B, "fo-a1"), 0);

    /* 2. A dies with writes in flight (stopped first, so none is answered). */
    pid_t pid = slapd_pid(A);
    H_REQUIRE(pid > 0);
    stop_slapd(pid);
    rec r[N_INFLIGHT];
    memset(r, 0, sizeof r);
    int done = 0;
    for (int i = 0; i < N_INFLIGHT; i++) {
        char uid[32];
        snprintf(uid, sizeof uid, "fo-lost%02d", i);
        json_t *attrs = user_attrs(uid, "Lost");
        char *dn = user_dn(uid);
        r[i].counter = &done;
        s2l_ldap_op *op;
        START(op, s2l_ldap_add_ext(p, dn, attrs, NULL, 20000, on_done, &r[i]));
        json_decref(attrs);
        free(dn);
    }
    run_for(100);
    H_CHECK_INT(done, 0);
    s2l_pool_stats before = stats(p);
    double t_kill = h_now_ms();
    h_slapd_kill(A);
    counter_goal g = {&done, N_INFLIGHT};
    H_CHECK(run_until(reached, &g, 3000));
    int down = 0;
    for (int i = 0; i < N_INFLIGHT; i++) {
        down += r[i].rc == LDAP_SERVER_DOWN;
        rec_clear(&r[i]);
    }
    H_CHECK_INT(down, N_INFLIGHT);
    /* The failover itself: B takes over without anyone asking. */
    H_CHECK(run_until(all_on, &on_b, 5000));
    double failover_ms = h_now_ms() - t_kill;
    fprintf(stderr, "failover: every connection on the second server %.0f ms after the kill\n", failover_ms);
    s2l_pool_stats after = stats(p);
    H_CHECK(after.failovers > before.failovers);
    H_CHECK_STR(s2l_pool_server_uri(p), h_slapd_uri(B));
    /* Nothing in flight was re-sent to B: the pool cannot know what A applied. */
    H_CHECK_INT(h_ldap_count(B, H_PEOPLE, "(uid=fo-lost*)"), 0);

    /* 3. Writes now go to B. */
    H_CHECK_INT(add_user(p, "fo-b1"), LDAP_SUCCESS);
    H_CHECK_INT(count_on(B, "fo-b1"), 1);

    /* 4. Failback probes against the dead A (every FAILBACK_MS) disturb nothing. */
    trickle t = {.p = p, .prefix = "fo-t1-", .window = 8};
    trickle_run(&t, NULL, NULL, 2.5 * FAILBACK_MS);
    H_CHECK(t.ok > 20);
    H_CHECK_INT(t.failed, 0);
    if (t.failed)
        fprintf(stderr, "first failure: rc=%d diag=%s\n", t.first_rc, t.first_diag);
    s2l_pool_stats st = stats(p);
    H_CHECK_INT(st.server, 1);
    H_CHECK_INT(st.failbacks, 0);
    H_CHECK_INT(st.failovers, after.failovers);
    H_CHECK_INT(h_ldap_count(B, H_PEOPLE, "(uid=fo-t1-*)"), t.adds_ok);

    /* 5. A comes back: the pool fails back by itself within failback_after_ms
     * (+ slack), while ops keep flowing; none fails in the planned switch. */
    H_REQUIRE(h_slapd_restart(A) == 0);
    double t_up = h_now_ms();
    trickle t2 = {.p = p, .prefix = "fo-t2-", .window = 8};
    H_CHECK(trickle_run(&t2, all_on, &on_a, FAILBACK_MS + 5000));
    fprintf(stderr, "failback: every connection on the first server %.0f ms after it answered (failback_after_ms %d)\n",
            h_now_ms() - t_up, FAILBACK_MS);
    H_CHECK_INT(t2.failed, 0);
    if (t2.failed)
        fprintf(stderr, "first failure: rc=%d diag=%s\n", t2.first_rc, t2.first_diag);
    st = stats(p);
    H_CHECK_INT(st.failbacks, 1);
    /* Every acknowledged add is on exactly one of the two servers. */
    long on_a2 = h_ldap_count(A, H_PEOPLE, "(uid=fo-t2-*)"), on_b2 = h_ldap_count(B, H_PEOPLE, "(uid=fo-t2-*)");
    H_CHECK_INT(on_a2 + on_b2, t2.adds_ok);
    fprintf(stderr, "during the failback: %d ops ok (%ld adds on the second server, %ld on the first)\n", t2.ok, on_b2,
            on_a2);
    H_CHECK_INT(add_user(p, "fo-a2"), LDAP_SUCCESS);
    H_CHECK_INT(count_on(A, "fo-a2"), 1);
    H_CHECK_INT(count_on(B, "fo-a2"), 0);

    /* 6. Both down: fast failures with a Retry-After, attempts back off. */
    h_slapd_kill(A);
    h_slapd_kill(B);
    s2l_pool_stats st_down;
    double wait_down = h_now_ms() + 3000;
    do {
        run_for(10);
        st_down = stats(p);
    } while (st_down.connections_up > 0 && h_now_ms() < wait_down);
    H_CHECK_INT(st_down.connections_up, 0);
    s2l_search_req one = {.base = H_SUFFIX, .scope = LDAP_SCOPE_BASE};
    for (int i = 0; i < 5; i++) {
        rec f = {0};
        s2l_ldap_op *op;
        double t0 = h_now_ms();
        START(op, s2l_ldap_search(p, &one, 0, on_done, &f));
        H_CHECK(run_until(rec_done, &f, 1000));
        H_CHECK_INT(f.rc, LDAP_SERVER_DOWN);
        /* Fast: the next loop turn, not a timeout (generous for a busy machine). */
        H_CHECK(f.done_ms - t0 < 500);
        s2l_error e;
        s2l_ldap_error_to_scim(f.rc, f.diag, "users", s2l_pool_retry_after(p), &e);
        H_CHECK_INT(e.status, 503);
        H_CHECK(e.retry_after >= 1);
        rec_clear(&f);
        run_for(100);
    }
    s2l_pool_stats st_a = stats(p);
    run_for(1500);
    s2l_pool_stats st_b = stats(p);
    /* Backoff 50 ms doubling to 400 ms per round of two servers: a handful of
     * rounds in 1.5 s, not a busy loop. */
    uint64_t rounds = (st_b.failovers - st_a.failovers) / 2;
    fprintf(stderr, "all down: %llu rounds of failovers in 1.5 s\n", (unsigned long long)rounds);
    H_CHECK(rounds >= 1 && rounds <= 20);
    H_CHECK_INT(st_b.connections_up, 0);

    /* 7. The second server comes back first: the pool recovers on it. */
    H_REQUIRE(h_slapd_restart(B) == 0);
    t_up = h_now_ms();
    H_CHECK(run_until(all_on, &on_b, 5000));
    fprintf(stderr, "recovery: every connection on the second server %.0f ms after it answered\n", h_now_ms() - t_up);
    H_CHECK_INT(add_user(p, "fo-b2"), LDAP_SUCCESS);
    H_CHECK_INT(count_on(B, "fo-b2"), 1);

    /* 8. ... and back to the first once it is there again. */
    H_REQUIRE(h_slapd_restart(A) == 0);
    H_CHECK(run_until(all_on, &on_a, FAILBACK_MS + 5000));
    H_CHECK_INT(add_user(p, "fo-a3"), LDAP_SUCCESS);
    H_CHECK_INT(count_on(A, "fo-a3"), 1);
    H_CHECK_INT(count_on(B, "fo-a3"), 0);
    H_CHECK_INT(stats(p).ops_pending, 0);
    s2l_pool_destroy(p);
}

/* failback never: the pool stays on the server that works. */
static void test_no_failback(void)
{
    char uris[256];
    snprintf(uris, sizeof uris, "%s %s", h_slapd_uri(A), h_slapd_uri(B));
    s2l_pool *p = make_pool(uris, S2L_POOL_NO_FAILBACK);
    H_REQUIRE(p != NULL);
    on_server on_a = {p, 0}, on_b = {p, 1};
    H_REQUIRE(run_until(all_on, &on_a, 5000));
    h_slapd_kill(A);
    H_CHECK(run_until(all_on, &on_b, 5000));
    H_REQUIRE(h_slapd_restart(A) == 0);
    run_for(2.5 * FAILBACK_MS);
    s2l_pool_stats st = stats(p);
    H_CHECK_INT(st.server, 1);
    H_CHECK_INT(st.failbacks, 0);
    s2l_pool_destroy(p);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    H_REQUIRE(base != NULL);
    /* A 5 ms tick keeps EVLOOP_ONCE returning. */
    struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval five_ms = {0, 5000};
    H_REQUIRE(tick != NULL && event_add(tick, &five_ms) == 0);

    h_slapd_opts o = h_slapd_defaults();
    o.memberof = o.ppolicy = o.monitor = false;
    A = h_slapd_start(&o);
    H_REQUIRE(A != NULL);
    B = h_slapd_start(&o);
    H_REQUIRE(B != NULL);

    test_config();
    test_first_unreachable();
    test_failover_failback();
    test_no_failback();
    H_CHECK_INT(g_calls_in_start, 0);

    event_free(tick);
    event_base_free(base);
    h_slapd_destroy(A);
    h_slapd_destroy(B);
    return H_DONE();
}

#else /* !S2L_IT_LINKS_SHELL */

int main(void)
{
    const char *req = getenv("S2L_REQUIRE_GATEWAY");
    H_SKIP("it_ldap_pool_failover is not linked with s2l_shell (S2L_IT_LINKS_SHELL undefined)");
    if (req && strcmp(req, "1") == 0)
        h_check_(false, __FILE__, __LINE__, "it_ldap_pool_failover must be built with s2l_shell");
    return H_DONE();
}

#endif
