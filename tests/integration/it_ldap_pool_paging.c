/* it_ldap_pool_paging.c — the pool's paging support against a real slapd:
 * the Simple Paged Results control (RFC 2696) with cookies across ops pinned
 * to one connection, the window that keeps only some entries of a search
 * (memory O(window)), pins that outlive their connection, and the recycling
 * of connections that frees sssvlv's VLV sessions (without it slapd answers
 * 51 after sssvlv-max VLV searches).
 *
 * Needs the pool (s2l_shell + libevent) linked in (S2L_IT_LINKS_SHELL, as for
 * it_ldap_pool). */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef S2L_IT_LINKS_SHELL

#include <event2/event.h>
#include <ldap.h>

#include "s2l/ldap_pool.h"

#define N_USERS 250

static struct event_base *base;

typedef struct rec {
    int calls;
    int rc;
    json_t *entries;
    size_t n_entries;
    bool has_paged, has_vlv;
    unsigned long paged_size, vlv_count;
    unsigned char cookie[256];
    size_t cookie_len;
    s2l_conn_pin conn;
    int *counter;
} rec;

static void on_done(const s2l_ldap_result *r, void *arg)
{
    rec *x = arg;
    x->calls++;
    x->rc = r->rc;
    json_decref(x->entries);
    x->entries = r->entries ? json_incref(r->entries) : NULL;
    x->n_entries = r->n_entries;
    x->has_paged = r->has_paged;
    x->paged_size = r->paged_size;
    x->has_vlv = r->has_vlv;
    x->vlv_count = r->vlv_count;
    x->cookie_len = r->cookie_len < sizeof x->cookie ? r->cookie_len : 0;
    if (x->cookie_len)
        memcpy(x->cookie, r->cookie, x->cookie_len);
    x->conn = r->conn;
    if (x->counter)
        (*x->counter)++;
}

static void rec_clear(rec *x)
{
    json_decref(x->entries);
    memset(x, 0, sizeof *x);
}

static bool run_until_done(rec *x, double timeout_ms)
{
    double deadline = h_now_ms() + timeout_ms;
    while (x->calls == 0 && h_now_ms() < deadline)
        event_base_loop(base, EVLOOP_ONCE);
    return x->calls > 0;
}

static bool run_until_count(int *n, int goal, double timeout_ms)
{
    double deadline = h_now_ms() + timeout_ms;
    while (*n < goal && h_now_ms() < deadline)
        event_base_loop(base, EVLOOP_ONCE);
    return *n >= goal;
}

static bool pool_all_up(s2l_pool *p, unsigned n, double timeout_ms)
{
    double deadline = h_now_ms() + timeout_ms;
    s2l_pool_stats st;
    for (;;) {
        s2l_pool_get_stats(p, &st);
        if (st.connections_up == n || h_now_ms() > deadline)
            break;
        event_base_loop(base, EVLOOP_ONCE);
    }
    return st.connections_up == n;
}

static s2l_pool *make_pool(h_slapd *s, unsigned connections, unsigned vlv_per_conn)
{
    char err[256] = "";
    s2l_pool_config cfg = {.uri = h_slapd_uri(s),
                           .bind_dn = H_ROOTDN,
                           .bind_password = H_ROOTPW,
                           .connections = connections,
                           .timeout_ms = 10000,
                           .connect_timeout_ms = 2000,
                           .backoff_min_ms = 50,
                           .backoff_max_ms = 500,
                           .vlv_per_conn = vlv_per_conn};
    s2l_pool *p = s2l_pool_create(base, &cfg, err, sizeof err);
    if (p == NULL)
        fprintf(stderr, "s2l_pool_create: %s\n", err);
    else if (!pool_all_up(p, connections, 10000))
        fprintf(stderr, "the pool did not come up\n");
    return p;
}

static char *no_attrs[] = {LDAP_NO_ATTRS, NULL};
static char *uid_attr[] = {"uid", NULL};

static s2l_search_req people(void)
{
    return (s2l_search_req){.base = H_PEOPLE, .scope = LDAP_SCOPE_ONELEVEL, .filter = "(uid=pg*)", .attrs = no_attrs};
}

/* A whole walk, 100 entries a page: every entry once, on one connection. */
static void test_paged_walk(s2l_pool *p)
{
    json_t *seen = json_object();
    unsigned char cookie[256];
    size_t cookie_len = 0;
    s2l_conn_pin pin = {0, 0};
    int pages = 0;
    rec r = {0};
    do {
        s2l_search_req sr = people();
        sr.page_size = 100;
        sr.cookie = cookie;
        sr.cookie_len = cookie_len;
        sr.pin = pin;
        rec_clear(&r);
        H_REQUIRE(s2l_ldap_search(p, &sr, 0, on_done, &r) != NULL);
        H_REQUIRE(run_until_done(&r, 10000));
        H_CHECK_INT(r.rc, LDAP_SUCCESS);
        H_CHECK(r.has_paged);
        H_CHECK(r.conn.conn >= 1 && r.conn.conn <= 4);
        if (pin.conn)
            H_CHECK(r.conn.conn == pin.conn && r.conn.gen == pin.gen);
        pin = r.conn;
        H_CHECK_INT(r.n_entries, json_array_size(r.entries));
        H_CHECK(r.n_entries <= 100);
        size_t i;
        json_t *e;
        json_array_foreach(r.entries, i, e) {
            const char *dn = json_string_value(json_object_get(e, "dn"));
            h_check_(dn && json_object_get(seen, dn) == NULL, __FILE__, __LINE__, "dn %s twice", dn ? dn : "?");
            json_object_set_new(seen, dn ? dn : "?", json_true());
        }
        memcpy(cookie, r.cookie, r.cookie_len);
        cookie_len = r.cookie_len;
        pages++;
    } while (cookie_len > 0 && r.rc == LDAP_SUCCESS && pages < 10);
    H_CHECK_INT(json_object_size(seen), N_USERS);
    H_CHECK(pages == 3 || pages == 4); /* 100 + 100 + 50 (+ an empty last page) */
    rec_clear(&r);
    json_decref(seen);
}

/* A window keeps entries [10, 15) of 250 and counts them all; keep_count 0
 * only counts. */
static void test_window(s2l_pool *p)
{
    rec r = {0};
    s2l_search_req sr = people();
    sr.attrs = uid_attr;
    sr.window = true;
    sr.keep_from = 10;
    sr.keep_count = 5;
    H_REQUIRE(s2l_ldap_search(p, &sr, 0, on_done, &r) != NULL);
    H_REQUIRE(run_until_done(&r, 10000));
    H_CHECK_INT(r.rc, LDAP_SUCCESS);
    H_CHECK_INT(r.n_entries, N_USERS);
    H_CHECK_INT(json_array_size(r.entries), 5);
    rec_clear(&r);

    sr.keep_count = 0;
    sr.size_limit = 100;
    H_REQUIRE(s2l_ldap_search(p, &sr, 0, on_done, &r) != NULL);
    H_REQUIRE(run_until_done(&r, 10000));
    H_CHECK_INT(r.rc, LDAP_SIZELIMIT_EXCEEDED);
    H_CHECK_INT(r.n_entries, 100);
    H_CHECK_INT(json_array_size(r.entries), 0);
    rec_clear(&r);
}

/* slapd keeps one paged search per connection: a second one there makes the
 * first's cookie stale (why the gateway never shares a connection between
 * walks); a pin to a session that has ended fails with LDAP_SERVER_DOWN. */
static void test_pins(s2l_pool *p, h_slapd *s)
{
    rec a = {0}, b = {0};
    s2l_search_req sr = people();
    sr.page_size = 10;
    H_REQUIRE(s2l_ldap_search(p, &sr, 0, on_done, &a) != NULL);
    H_REQUIRE(run_until_done(&a, 10000));
    H_CHECK_INT(a.rc, LDAP_SUCCESS);
    H_REQUIRE(a.cookie_len > 0);

    /* Another walk on the same connection, then the first one's next page. */
    sr.pin = a.conn;
    sr.filter = "(uid=pg0001*)";
    sr.page_size = 3;
    H_REQUIRE(s2l_ldap_search(p, &sr, 0, on_done, &b) != NULL);
    H_REQUIRE(run_until_done(&b, 10000));
    H_CHECK_INT(b.rc, LDAP_SUCCESS);
    H_CHECK(b.conn.conn == a.conn.conn);
    rec_clear(&b);
    sr.filter = "(uid=pg*)";
    sr.page_size = 10;
    sr.cookie = a.cookie;
    sr.cookie_len = a.cookie_len;
    H_REQUIRE(s2l_ldap_search(p, &sr, 0, on_done, &b) != NULL);
    H_REQUIRE(run_until_done(&b, 10000));
    H_CHECK(b.rc == LDAP_UNWILLING_TO_PERFORM || b.rc == LDAP_PROTOCOL_ERROR);
    rec_clear(&b);

    /* A session that is gone: a wrong generation, a connection number out of range. */
    sr.cookie = NULL;
    sr.cookie_len = 0;
    sr.pin = (s2l_conn_pin){a.conn.conn, a.conn.gen + 7};
    H_REQUIRE(s2l_ldap_search(p, &sr, 0, on_done, &b) != NULL);
    H_REQUIRE(run_until_done(&b, 10000));
    H_CHECK_INT(b.rc, LDAP_SERVER_DOWN);
    rec_clear(&b);
    sr.pin = (s2l_conn_pin){99, 0};
    H_REQUIRE(s2l_ldap_search(p, &sr, 0, on_done, &b) != NULL);
    H_REQUIRE(run_until_done(&b, 10000));
    H_CHECK_INT(b.rc, LDAP_SERVER_DOWN);
    rec_clear(&b);

    /* slapd restarts: the next page of a walk cannot go anywhere else. */
    sr.pin = a.conn;
    sr.cookie = a.cookie;
    sr.cookie_len = a.cookie_len;
    H_REQUIRE(h_slapd_restart(s) == 0);
    H_REQUIRE(s2l_ldap_search(p, &sr, 0, on_done, &b) != NULL);
    H_REQUIRE(run_until_done(&b, 10000));
    H_CHECK(b.rc == LDAP_SERVER_DOWN);
    rec_clear(&b);
    rec_clear(&a);
    H_CHECK(pool_all_up(p, 4, 10000));
}

static int vlv_burst(s2l_pool *p, int n, int *busy)
{
    int done = 0;
    rec *rs = calloc((size_t)n, sizeof *rs);
    H_REQUIRE(rs != NULL);
    for (int i = 0; i < n; i++) {
        s2l_search_req sr = people();
        sr.attrs = uid_attr;
        sr.sort_attr = "uid:caseIgnoreOrderingMatch";
        sr.vlv_offset = (unsigned long)(1 + i % N_USERS);
        sr.vlv_count = 3;
        rs[i].counter = &done;
        H_REQUIRE(s2l_ldap_search(p, &sr, 0, on_done, &rs[i]) != NULL);
    }
    H_CHECK(run_until_count(&done, n, 30000));
    int ok = 0;
    for (int i = 0; i < n; i++) {
        if (rs[i].rc == LDAP_SUCCESS && rs[i].has_vlv && rs[i].vlv_count == N_USERS)
            ok++;
        else if (rs[i].rc == LDAP_BUSY)
            (*busy)++;
        rec_clear(&rs[i]);
    }
    free(rs);
    return ok;
}

/* sssvlv keeps every VLV search's session until its connection closes (the
 * test slapd: sssvlv-max 64, sssvlv-maxperconn 64). A pool that recycles its
 * connection every 4 VLV searches serves 300 of them, sequential or at once,
 * with one connection, and slapd refuses none. */
static void test_vlv_recycle(h_slapd *s)
{
    s2l_pool *p = make_pool(s, 1, 4);
    H_REQUIRE(p != NULL);
    int busy = 0, ok = 0;
    for (int i = 0; i < 150; i++)
        ok += vlv_burst(p, 1, &busy);
    ok += vlv_burst(p, 150, &busy);
    H_CHECK_INT(ok, 300);
    H_CHECK_INT(busy, 0);
    s2l_pool_stats st;
    s2l_pool_get_stats(p, &st);
    H_CHECK(st.recycles >= 300 / 4 - 1);
    H_CHECK_INT(st.reconnects, 0);
    H_CHECK_INT(st.ops_failed, 0);
    s2l_pool_destroy(p);

    /* Without counting (vlv_per_conn 0): slapd refuses once its sessions are
     * used up, which the test above would meet without the pool's help; that
     * answer marks the connection for a recycle. slapd frees the old
     * connection's sessions a moment after it closes, so a few more searches
     * may be refused (each recycling again) before they go through again. */
    p = make_pool(s, 1, 0);
    H_REQUIRE(p != NULL);
    busy = 0;
    ok = 0;
    int tail_ok = 0;
    for (int i = 0; i < 100; i++) {
        int n = vlv_burst(p, 1, &busy);
        ok += n;
        tail_ok = n ? tail_ok + 1 : 0;
    }
    H_CHECK(busy >= 1 && busy < 30);
    H_CHECK_INT(ok + busy, 100);
    H_CHECK(tail_ok >= 10); /* recovered */
    s2l_pool_get_stats(p, &st);
    H_CHECK_INT(st.recycles, busy);
    s2l_pool_destroy(p);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    H_REQUIRE(base != NULL);
    h_slapd_opts o = h_slapd_defaults();
    o.sssvlv = true;
    h_slapd *s = h_slapd_start(&o);
    H_REQUIRE(s != NULL);
    H_REQUIRE(h_ldap_add_users(s, "pg", 0, N_USERS) == 0);

    s2l_pool *p = make_pool(s, 4, 0);
    H_REQUIRE(p != NULL);
    H_CHECK(s2l_pool_supports_control(p, LDAP_CONTROL_PAGEDRESULTS));
    H_CHECK_INT(s2l_pool_conn_count(p), 4);
    H_CHECK(s2l_pool_conn_is_up(p, 1) && !s2l_pool_conn_is_up(p, 0) && !s2l_pool_conn_is_up(p, 5));
    test_paged_walk(p);
    test_window(p);
    test_pins(p, s);
    s2l_pool_destroy(p);
    /* Last: the second half uses up slapd's sssvlv sessions until it restarts. */
    test_vlv_recycle(s);

    event_base_free(base);
    h_slapd_destroy(s);
    return H_DONE();
}

#else /* !S2L_IT_LINKS_SHELL */

int main(void)
{
    const char *req = getenv("S2L_REQUIRE_GATEWAY");
    H_SKIP("it_ldap_pool_paging is not linked with s2l_shell (S2L_IT_LINKS_SHELL undefined)");
    if (req && strcmp(req, "1") == 0)
        h_check_(false, __FILE__, __LINE__, "it_ldap_pool_paging must be built with s2l_shell");
    return H_DONE();
}

#endif
