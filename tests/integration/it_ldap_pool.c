/* it_ldap_pool.c — the asynchronous LDAP pool against a real private slapd:
 * pipelining over few connections, sort + VLV, timeouts, cancel, connection
 * loss and automatic recovery, write backpressure, a wrong bind password.
 *
 * Needs the pool (s2l_shell + libevent) linked in; see the note at the end of
 * this file for how CMake provides that (S2L_IT_LINKS_SHELL). */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef S2L_IT_LINKS_SHELL

#include <event2/event.h>
#include <ldap.h>

#include "s2l/ldap_errors.h"
#include "s2l/ldap_pool.h"

#include "it_ldap_pool_common.h"

#define OID_SORT "1.2.840.113556.1.4.473"
#define OID_VLV "2.16.840.1.113730.3.4.9"

/* ---- the loop, bounded by time ---- */

static double tick_last_ms, tick_max_gap_ms;

/* A 5 ms tick keeps EVLOOP_ONCE returning and measures loop stalls: a
 * blocking call inside the pool would show as a large gap. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    double now = h_now_ms();
    if (tick_last_ms > 0 && now - tick_last_ms > tick_max_gap_ms)
        tick_max_gap_ms = now - tick_last_ms;
    tick_last_ms = now;
}

static void reset_gap(void)
{
    tick_last_ms = 0;
    tick_max_gap_ms = 0;
}

static bool pool_up(void *p)
{
    return s2l_pool_is_up(p);
}

static bool all_up(void *p)
{
    s2l_pool_stats st;
    s2l_pool_get_stats(p, &st);
    return st.connections_up == 4;
}

/* ---- helpers ---- */

static s2l_pool *make_pool(h_slapd *s, const char *password, unsigned max_ops, unsigned backoff_max)
{
    char err[256] = "";
    s2l_pool_config cfg = {
        .uri = h_slapd_uri(s),
        .bind_dn = H_ROOTDN,
        .bind_password = password,
        .connections = 4,
        .timeout_ms = 10000,
        .connect_timeout_ms = 2000,
        .backoff_min_ms = 50,
        .backoff_max_ms = backoff_max,
        .max_ops_per_conn = max_ops,
    };
    s2l_pool *p = s2l_pool_create(base, &cfg, err, sizeof err);
    if (p == NULL)
        fprintf(stderr, "s2l_pool_create: %s\n", err);
    return p;
}

static const char *first_value(const json_t *entry, const char *attr)
{
    return json_string_value(json_array_get(json_object_get(json_object_get(entry, "attrs"), attr), 0));
}

/* ---- tests ---- */

static void test_up_and_rootdse(s2l_pool *p)
{
    H_REQUIRE(run_until(all_up, p, 5000));
    H_CHECK(s2l_pool_supports_control(p, OID_SORT));
    H_CHECK(s2l_pool_supports_control(p, OID_VLV));
    H_CHECK(!s2l_pool_supports_control(p, "1.2.3.4.5.6.7"));
    H_CHECK_INT(s2l_pool_retry_after(p), 1);
}

/* Completion is never delivered inside the start call, whatever the path. */
static void test_never_inside_start(s2l_pool *p)
{
    rec ok = {0}, bad = {0}, bad2 = {0};
    s2l_ldap_op *op;
    s2l_search_req req = {.base = H_SUFFIX, .scope = LDAP_SCOPE_BASE, .filter = "(objectClass=*)"};
    START(op, s2l_ldap_search(p, &req, 0, on_done, &ok));
    H_CHECK(op != NULL);
    H_CHECK_INT(ok.calls, 0);

    /* Encoding failures (a value that is neither string, integer nor bool). */
    json_t *mods = json_pack("[{s:s, s:s, s:[f]}]", "op", "replace", "attr", "description", "values", 1.5);
    START(op, s2l_ldap_modify_ext(p, H_SUFFIX, mods, NULL, 0, on_done, &bad));
    json_decref(mods);
    H_CHECK(op != NULL);
    H_CHECK_INT(bad.calls, 0);
    START(op, s2l_ldap_add_ext(p, "uid=x," H_PEOPLE, NULL, NULL, 0, on_done, &bad2));
    H_CHECK_INT(bad2.calls, 0);

    /* A filter libldap cannot encode. */
    rec badf = {0};
    s2l_search_req broken = {.base = H_SUFFIX, .scope = LDAP_SCOPE_SUBTREE, .filter = "(((uid=x"};
    START(op, s2l_ldap_search(p, &broken, 0, on_done, &badf));
    H_CHECK_INT(badf.calls, 0);

    H_CHECK(run_until(rec_done, &ok, 3000));
    H_CHECK(run_until(rec_done, &badf, 1000));
    H_CHECK_INT(badf.rc, LDAP_FILTER_ERROR);
    s2l_error e;
    s2l_ldap_error_to_scim(badf.rc, badf.diag, NULL, 1, &e);
    H_CHECK_INT(e.status, 400);
    H_CHECK_STR(e.scim_type, "invalidFilter");
    rec_clear(&badf);
    H_CHECK(run_until(rec_done, &bad, 1000));
    H_CHECK(run_until(rec_done, &bad2, 1000));
    H_CHECK_INT(ok.rc, LDAP_SUCCESS);
    H_CHECK_INT(json_array_size(ok.entries), 1);
    H_CHECK_INT(bad.rc, LDAP_PARAM_ERROR);
    H_CHECK_INT(bad2.rc, LDAP_PARAM_ERROR);
    run_for(50);
    /* Exactly once. */
    H_CHECK_INT(ok.calls, 1);
    H_CHECK_INT(bad.calls, 1);
    H_CHECK_INT(g_calls_in_start, 0);
    rec_clear(&ok);
    rec_clear(&bad);
    rec_clear(&bad2);
}

#define N_ADDS 2000

/* 2,000 adds pipelined over 4 connections (64 in flight each, the rest queued). */
static void test_pipelined_adds(s2l_pool *p, h_slapd *s)
{
    rec *recs = calloc(N_ADDS, sizeof *recs);
    H_REQUIRE(recs != NULL);
    int done = 0;
    s2l_pool_stats before, mid, after;
    s2l_pool_get_stats(p, &before);
    double t0 = h_now_ms();
    for (int i = 0; i < N_ADDS; i++) {
        char uid[32], sn[32];
        snprintf(uid, sizeof uid, "pool%05d", i);
        snprintf(sn, sizeof sn, "S%05d", (i * 7919) % N_ADDS);
        json_t *attrs = user_attrs(uid, sn);
        char *dn = user_dn(uid);
        recs[i].counter = &done;
        s2l_ldap_op *op;
        START(op, s2l_ldap_add_ext(p, dn, attrs, NULL, 0, on_done, &recs[i]));
        H_CHECK(op != NULL);
        json_decref(attrs);
        free(dn);
    }
    /* Nothing completed inside the loop above; everything is in flight or queued. */
    s2l_pool_get_stats(p, &mid);
    H_CHECK_INT(done, 0);
    H_CHECK_INT(mid.ops_pending, N_ADDS);
    counter_goal g = {&done, N_ADDS};
    H_CHECK(run_until(reached, &g, 60000));
    double ms = h_now_ms() - t0;
    int ok = 0;
    for (int i = 0; i < N_ADDS; i++)
        if (recs[i].calls == 1 && recs[i].rc == LDAP_SUCCESS)
            ok++;
    H_CHECK_INT(ok, N_ADDS);
    if (ok != N_ADDS)
        fprintf(stderr, "first add: rc=%d diag=%s\n", recs[0].rc, recs[0].diag);
    s2l_pool_get_stats(p, &after);
    H_CHECK_INT(after.ops_done - before.ops_done, N_ADDS);
    H_CHECK_INT(after.ops_failed - before.ops_failed, 0);
    H_CHECK_INT(after.ops_pending, 0);
    fprintf(stderr, "pipelined %d adds in %.0f ms (%.0f/s)\n", N_ADDS, ms, N_ADDS / (ms / 1000.0));
    free(recs);

    /* Verify through the pool and independently through the harness. */
    rec r = {0};
    static char *const attrs[] = {"uid", NULL};
    s2l_search_req req = {.base = H_PEOPLE, .scope = LDAP_SCOPE_ONELEVEL, .filter = "(uid=pool*)", .attrs = attrs};
    s2l_ldap_op *op;
    START(op, s2l_ldap_search(p, &req, 0, on_done, &r));
    H_CHECK(run_until(rec_done, &r, 10000));
    H_CHECK_INT(r.rc, LDAP_SUCCESS);
    H_CHECK_INT(json_array_size(r.entries), N_ADDS);
    H_CHECK_INT(h_ldap_count(s, H_PEOPLE, "(uid=pool*)"), N_ADDS);
    rec_clear(&r);
}

/* The entry shape, and binary values as "<attr>;base64". */
static void test_entry_shape(s2l_pool *p, h_slapd *s)
{
    H_REQUIRE(h_ldap_ldif(s, "dn: uid=shape," H_PEOPLE "\n"
                             "objectClass: inetOrgPerson\n"
                             "uid: shape\n"
                             "cn: Sh\xc3\xa4pe\n"
                             "sn: Shape\n"
                             "mail: a@example.org\n"
                             "mail: b@example.org\n"
                             "jpegPhoto:: /9j/4AAQSkZJRgABAQ==\n") == 1);
    rec r = {0};
    static char *const attrs[] = {"cn", "mail", "jpegPhoto", "entryUUID", NULL};
    s2l_search_req req = {.base = "uid=shape," H_PEOPLE, .scope = LDAP_SCOPE_BASE, .attrs = attrs};
    s2l_ldap_op *op;
    START(op, s2l_ldap_search(p, &req, 0, on_done, &r));
    H_CHECK(run_until(rec_done, &r, 5000));
    H_CHECK_INT(r.rc, LDAP_SUCCESS);
    H_REQUIRE(json_array_size(r.entries) == 1);
    json_t *e = json_array_get(r.entries, 0);
    H_CHECK_STR(json_string_value(json_object_get(e, "dn")), "uid=shape," H_PEOPLE);
    H_CHECK_STR(first_value(e, "cn"), "Sh\xc3\xa4pe");
    H_CHECK_INT(json_array_size(json_object_get(json_object_get(e, "attrs"), "mail")), 2);
    H_CHECK(first_value(e, "entryUUID") != NULL && strlen(first_value(e, "entryUUID")) == 36);
    H_CHECK(first_value(e, "jpegPhoto") == NULL);
    H_CHECK_STR(first_value(e, "jpegPhoto;base64"), "/9j/4AAQSkZJRgABAQ==");
    rec_clear(&r);

    /* A search that finds nothing still has an (empty) array. */
    s2l_search_req none = {.base = H_PEOPLE, .scope = LDAP_SCOPE_SUBTREE, .filter = "(uid=does-not-exist)"};
    START(op, s2l_ldap_search(p, &none, 0, on_done, &r));
    H_CHECK(run_until(rec_done, &r, 5000));
    H_CHECK_INT(r.rc, LDAP_SUCCESS);
    H_CHECK(json_is_array(r.entries) && json_array_size(r.entries) == 0);
    rec_clear(&r);

    /* No such base: an error result, the matched DN is reported. */
    s2l_search_req nobase = {.base = "ou=nowhere," H_SUFFIX, .scope = LDAP_SCOPE_SUBTREE};
    START(op, s2l_ldap_search(p, &nobase, 0, on_done, &r));
    H_CHECK(run_until(rec_done, &r, 5000));
    H_CHECK_INT(r.rc, LDAP_NO_SUCH_OBJECT);
    rec_clear(&r);
}

/* Server-side sort + VLV: the page, its position and the total. */
static void test_sort_vlv(s2l_pool *p)
{
    if (!s2l_pool_supports_control(p, OID_VLV)) {
        H_SKIP("sssvlv not loaded");
        return;
    }
    rec r = {0};
    static char *const attrs[] = {"sn", NULL};
    s2l_search_req req = {.base = H_PEOPLE,
                          .scope = LDAP_SCOPE_ONELEVEL,
                          .filter = "(uid=pool*)",
                          .attrs = attrs,
                          .sort_attr = "sn:caseIgnoreOrderingMatch",
                          .vlv_offset = 101,
                          .vlv_count = 10};
    s2l_ldap_op *op;
    START(op, s2l_ldap_search(p, &req, 0, on_done, &r));
    H_CHECK(run_until(rec_done, &r, 10000));
    H_CHECK_INT(r.rc, LDAP_SUCCESS);
    H_CHECK(r.has_vlv);
    H_CHECK_INT(r.vlv_rc, LDAP_SUCCESS);
    H_CHECK_INT(r.vlv_target, 101);
    H_CHECK_INT(r.vlv_count, N_ADDS);
    H_CHECK_INT(json_array_size(r.entries), 10);
    /* sn values are S00000..S01999 (a permutation): page 101..110 is S00100..S00109. */
    for (size_t i = 0; i < json_array_size(r.entries); i++) {
        char want[16];
        snprintf(want, sizeof want, "S%05zu", 100 + i);
        H_CHECK_STR(first_value(json_array_get(r.entries, i), "sn"), want);
    }
    rec_clear(&r);

    /* Sort only, descending. */
    s2l_search_req sorted = {.base = H_PEOPLE,
                             .scope = LDAP_SCOPE_ONELEVEL,
                             .filter = "(|(uid=pool00001)(uid=pool00002)(uid=pool00003))",
                             .attrs = attrs,
                             .sort_attr = "-sn:caseIgnoreOrderingMatch"};
    START(op, s2l_ldap_search(p, &sorted, 0, on_done, &r));
    H_CHECK(run_until(rec_done, &r, 5000));
    H_CHECK_INT(r.rc, LDAP_SUCCESS);
    H_CHECK(!r.has_sort || r.sort_rc == 0);
    H_REQUIRE(json_array_size(r.entries) == 3);
    const char *a = first_value(json_array_get(r.entries, 0), "sn");
    const char *b = first_value(json_array_get(r.entries, 1), "sn");
    const char *c = first_value(json_array_get(r.entries, 2), "sn");
    H_CHECK(a && b && c && strcmp(a, b) > 0 && strcmp(b, c) > 0);
    rec_clear(&r);

    /* Sorting on an attribute without an ordering rule: the server refuses
     * (critical control), it is not silently unsorted. */
    sorted.sort_attr = "sn";
    START(op, s2l_ldap_search(p, &sorted, 0, on_done, &r));
    H_CHECK(run_until(rec_done, &r, 5000));
    H_CHECK(r.rc != LDAP_SUCCESS);
    rec_clear(&r);
}

/* Modify / rename / delete, and LDAP errors through the SCIM table. */
static void test_write_ops(s2l_pool *p, h_slapd *s)
{
    rec r = {0};
    s2l_ldap_op *op;
    s2l_error e;

    json_t *attrs = user_attrs("pool00000", "dup");
    START(op, s2l_ldap_add_ext(p, "uid=pool00000," H_PEOPLE, attrs, NULL, 0, on_done, &r));
    json_decref(attrs);
    H_CHECK(run_until(rec_done, &r, 5000));
    H_CHECK_INT(r.rc, LDAP_ALREADY_EXISTS);
    s2l_ldap_error_to_scim(r.rc, r.diag, "user \"pool00000\"", 1, &e);
    H_CHECK_INT(e.status, 409);
    rec_clear(&r);

    json_t *mods = json_pack("[{s:s,s:s,s:[s,s]}, {s:s,s:s,s:[i]}, {s:s,s:s}]", "op", "replace", "attr", "mail",
                             "values", "x@example.org", "y@example.org", "op", "add", "attr", "employeeNumber",
                             "values", 42, "op", "delete", "attr", "description");
    START(op, s2l_ldap_modify_ext(p, "uid=pool00001," H_PEOPLE, mods, NULL, 0, on_done, &r));
    json_decref(mods);
    H_CHECK(run_until(rec_done, &r, 5000));
    /* Deleting an absent attribute: noSuchAttribute, and nothing applied. */
    H_CHECK_INT(r.rc, LDAP_NO_SUCH_ATTRIBUTE);
    rec_clear(&r);

    mods = json_pack("[{s:s,s:s,s:[s,s]}, {s:s,s:s,s:[i]}]", "op", "replace", "attr", "mail", "values",
                     "x@example.org", "y@example.org", "op", "add", "attr", "employeeNumber", "values", 42);
    START(op, s2l_ldap_modify_ext(p, "uid=pool00001," H_PEOPLE, mods, NULL, 0, on_done, &r));
    json_decref(mods);
    H_CHECK(run_until(rec_done, &r, 5000));
    H_CHECK_INT(r.rc, LDAP_SUCCESS);
    rec_clear(&r);
    json_t *entry = h_ldap_entry(s, "uid=pool00001," H_PEOPLE);
    H_CHECK(entry && h_ldap_has_value(entry, "mail", "y@example.org", false));
    H_CHECK(entry && h_ldap_has_value(entry, "employeenumber", "42", false));
    json_decref(entry);

    /* Invalid syntax names the attribute. */
    mods = json_pack("[{s:s,s:s,s:[s]}]", "op", "replace", "attr", "telephoneNumber", "values", "");
    START(op, s2l_ldap_modify_ext(p, "uid=pool00001," H_PEOPLE, mods, NULL, 0, on_done, &r));
    json_decref(mods);
    H_CHECK(run_until(rec_done, &r, 5000));
    H_CHECK(r.rc == LDAP_INVALID_SYNTAX || r.rc == LDAP_CONSTRAINT_VIOLATION);
    s2l_ldap_error_to_scim(r.rc, r.diag, "user \"pool00001\"", 1, &e);
    H_CHECK_INT(e.status, 400);
    H_CHECK(strstr(e.detail, "telephoneNumber") != NULL);
    rec_clear(&r);

    START(op, s2l_ldap_rename(p, "uid=pool00002," H_PEOPLE, "uid=renamed", NULL, true, 0, on_done, &r));
    H_CHECK(run_until(rec_done, &r, 5000));
    H_CHECK_INT(r.rc, LDAP_SUCCESS);
    rec_clear(&r);
    H_CHECK_INT(h_ldap_count(s, H_PEOPLE, "(uid=renamed)"), 1);
    H_CHECK_INT(h_ldap_count(s, H_PEOPLE, "(uid=pool00002)"), 0);

    START(op, s2l_ldap_delete(p, "uid=renamed," H_PEOPLE, 0, on_done, &r));
    H_CHECK(run_until(rec_done, &r, 5000));
    H_CHECK_INT(r.rc, LDAP_SUCCESS);
    rec_clear(&r);
    START(op, s2l_ldap_delete(p, "uid=renamed," H_PEOPLE, 0, on_done, &r));
    H_CHECK(run_until(rec_done, &r, 5000));
    H_CHECK_INT(r.rc, LDAP_NO_SUCH_OBJECT);
    s2l_ldap_error_to_scim(r.rc, r.diag, "user \"renamed\"", 1, &e);
    H_CHECK_INT(e.status, 404);
    rec_clear(&r);

    /* Put pool00002 back for later tests. */
    attrs = user_attrs("pool00002", "S00002");
    START(op, s2l_ldap_add_ext(p, "uid=pool00002," H_PEOPLE, attrs, NULL, 0, on_done, &r));
    json_decref(attrs);
    H_CHECK(run_until(rec_done, &r, 5000));
    H_CHECK_INT(r.rc, LDAP_SUCCESS);
    rec_clear(&r);
    H_CHECK_INT(g_calls_in_start, 0);
}

/* Cancel: the callback never runs, for queued, sent and finishing ops, also
 * when cancelled from inside another op's callback. */
static void test_cancel(s2l_pool *p, h_slapd *s)
{
    rec a = {0}, b = {0}, c = {0};
    s2l_ldap_op *op_a, *op_b, *op_c;
    s2l_pool_stats before, after;
    s2l_pool_get_stats(p, &before);

    static char *const attrs[] = {"uid", NULL};
    s2l_search_req big = {.base = H_PEOPLE, .scope = LDAP_SCOPE_SUBTREE, .filter = "(uid=pool*)", .attrs = attrs};
    START(op_a, s2l_ldap_search(p, &big, 0, on_done, &a));
    s2l_ldap_cancel(op_a); /* before it was even written */

    /* On the wire: the server is stopped so it cannot have answered yet. */
    pid_t pid = slapd_pid(s);
    H_REQUIRE(pid > 0);
    stop_slapd(pid);
    START(op_b, s2l_ldap_search(p, &big, 0, on_done, &b));
    run_for(20);
    if (b.calls)
        fprintf(stderr, "b: rc=%d diag=%s\n", b.rc, b.diag);
    H_REQUIRE(b.calls == 0);
    s2l_ldap_cancel(op_b);
    kill(pid, SIGCONT);
    /* The connections stay usable after abandons. */
    s2l_search_req one = {.base = H_SUFFIX, .scope = LDAP_SCOPE_BASE};
    for (int i = 0; i < 8; i++) {
        START(op_c, s2l_ldap_search(p, &one, 0, on_done, &c));
        H_CHECK(run_until(rec_done, &c, 5000));
        H_CHECK_INT(c.rc, LDAP_SUCCESS);
        rec_clear(&c);
    }
    run_for(300);
    H_CHECK_INT(a.calls, 0);
    H_CHECK_INT(b.calls, 0);
    rec_clear(&a);
    rec_clear(&b);

    /* From inside another op's callback, while the victim is on the wire:
     * the server is stopped so both stay pending; a's short deadline fires. */
    stop_slapd(pid);
    START(op_b, s2l_ldap_search(p, &one, 5000, on_done, &b));
    START(op_a, s2l_ldap_search(p, &one, 200, on_done, &a));
    a.cancel_other = op_b;
    H_CHECK(run_until(rec_done, &a, 3000));
    H_CHECK_INT(a.rc, LDAP_TIMEOUT);
    kill(pid, SIGCONT);
    run_for(300);
    H_CHECK_INT(b.calls, 0);
    rec_clear(&a);
    rec_clear(&b);

    s2l_pool_get_stats(p, &after);
    H_CHECK_INT(after.ops_cancelled - before.ops_cancelled, 3);
    H_CHECK_INT(after.ops_pending, 0);
}

/* Per-op deadline against an unresponsive server (SIGSTOP). */
static void test_timeout(s2l_pool *p, h_slapd *s)
{
    pid_t pid = slapd_pid(s);
    H_REQUIRE(pid > 0);
    s2l_pool_stats before, after;
    s2l_pool_get_stats(p, &before);
    stop_slapd(pid);
    rec r[5] = {{0}};
    s2l_search_req one = {.base = H_SUFFIX, .scope = LDAP_SCOPE_BASE};
    double t0 = h_now_ms();
    for (int i = 0; i < 5; i++) {
        s2l_ldap_op *op;
        START(op, s2l_ldap_search(p, &one, 300, on_done, &r[i]));
        H_CHECK(op != NULL);
    }
    H_CHECK(run_until(rec_done, &r[4], 3000));
    for (int i = 0; i < 5; i++) {
        H_CHECK_INT(r[i].rc, LDAP_TIMEOUT);
        double took = r[i].done_ms - t0;
        H_CHECK(took >= 290 && took < 1000);
    }
    kill(pid, SIGCONT);
    /* The same connections work again (no reconnect needed). */
    rec ok = {0};
    s2l_ldap_op *op;
    START(op, s2l_ldap_search(p, &one, 0, on_done, &ok));
    H_CHECK(run_until(rec_done, &ok, 5000));
    H_CHECK_INT(ok.rc, LDAP_SUCCESS);
    s2l_pool_get_stats(p, &after);
    H_CHECK_INT(after.ops_timed_out - before.ops_timed_out, 5);
    H_CHECK_INT(after.reconnects, before.reconnects);
    for (int i = 0; i < 5; i++)
        rec_clear(&r[i]);
    rec_clear(&ok);
}

/* Requests larger than the socket buffers while the server is stopped: libldap
 * returns LDAP_BUSY and the pool waits for EV_WRITE instead of blocking. */
#define N_BIG 160
#define BIG_VALUE (256 * 1024)

static void test_backpressure(s2l_pool *p, h_slapd *s)
{
    pid_t pid = slapd_pid(s);
    H_REQUIRE(pid > 0);
    char *value = malloc(BIG_VALUE + 1);
    H_REQUIRE(value != NULL);
    memset(value, 'v', BIG_VALUE);
    value[BIG_VALUE] = '\0';
    stop_slapd(pid);
    run_for(20);
    reset_gap();
    rec *recs = calloc(N_BIG, sizeof *recs);
    H_REQUIRE(recs != NULL);
    int done = 0;
    for (int i = 0; i < N_BIG; i++) {
        char dn[64];
        snprintf(dn, sizeof dn, "uid=pool%05d," H_PEOPLE, 100 + i % 20);
        value[0] = (char)('a' + i % 26);
        json_t *mods = json_pack("[{s:s,s:s,s:[s]}]", "op", "replace", "attr", "description", "values", value);
        recs[i].counter = &done;
        s2l_ldap_op *op;
        START(op, s2l_ldap_modify_ext(p, dn, mods, NULL, 20000, on_done, &recs[i]));
        json_decref(mods);
        H_CHECK(op != NULL);
        run_for(1);
    }
    /* ~10 MB cannot all be in the kernel buffers of a stopped peer, yet the
     * loop kept ticking: nothing blocked. */
    run_for(200);
    double gap = tick_max_gap_ms;
    H_CHECK(gap < 250);
    fprintf(stderr, "backpressure: max loop gap %.1f ms while %d MB were queued\n", gap,
            N_BIG * (BIG_VALUE / 1024) / 1024);
    H_CHECK_INT(done, 0);
    s2l_pool_stats st;
    s2l_pool_get_stats(p, &st);
    H_CHECK(st.write_stalls > 0); /* the path under test was really taken */
    kill(pid, SIGCONT);
    counter_goal g = {&done, N_BIG};
    H_CHECK(run_until(reached, &g, 30000));
    int ok = 0;
    for (int i = 0; i < N_BIG; i++)
        if (recs[i].rc == LDAP_SUCCESS)
            ok++;
    H_CHECK_INT(ok, N_BIG);
    free(recs);
    free(value);
    /* The stream stayed in sync: a plain search still works. */
    rec r = {0};
    s2l_search_req one = {.base = "uid=pool00100," H_PEOPLE, .scope = LDAP_SCOPE_BASE};
    s2l_ldap_op *op;
    START(op, s2l_ldap_search(p, &one, 0, on_done, &r));
    H_CHECK(run_until(rec_done, &r, 5000));
    H_CHECK_INT(r.rc, LDAP_SUCCESS);
    H_CHECK_INT(json_array_size(r.entries), 1);
    rec_clear(&r);
}

#define N_PENDING 50

static bool first_done(void *p)
{
    rec *r = p;
    for (int i = 0; i < N_PENDING; i++)
        if (r[i].calls)
            return true;
    return false;
}

/* slapd dies with ops pending: all complete at once with LDAP_SERVER_DOWN, new
 * ops fail fast, and the pool comes back by itself after a restart. */
static void test_kill_and_recover(s2l_pool *p, h_slapd *s)
{
    pid_t pid = slapd_pid(s);
    H_REQUIRE(pid > 0);
    s2l_pool_stats before;
    s2l_pool_get_stats(p, &before);
    stop_slapd(pid); /* keep them pending */
    rec r[N_PENDING];
    memset(r, 0, sizeof r);
    int done = 0;
    s2l_search_req one = {.base = H_SUFFIX, .scope = LDAP_SCOPE_BASE};
    for (int i = 0; i < N_PENDING; i++) {
        s2l_ldap_op *op;
        r[i].counter = &done;
        START(op, s2l_ldap_search(p, &one, 20000, on_done, &r[i]));
    }
    run_for(100);
    H_CHECK_INT(done, 0);
    double t_kill = h_now_ms();
    h_slapd_kill(s);
    H_CHECK(!h_slapd_running(s));
    H_CHECK(run_until(first_done, r, 5000));
    counter_goal g = {&done, N_PENDING};
    H_CHECK(run_until(reached, &g, 2000));
    double first = 1e18, last = 0;
    int down = 0;
    for (int i = 0; i < N_PENDING; i++) {
        if (r[i].rc == LDAP_SERVER_DOWN)
            down++;
        if (r[i].done_ms < first)
            first = r[i].done_ms;
        if (r[i].done_ms > last)
            last = r[i].done_ms;
    }
    H_CHECK_INT(down, N_PENDING);
    fprintf(stderr, "kill: first failure after %.0f ms, spread %.1f ms\n", first - t_kill, last - first);
    H_CHECK(first - t_kill < 2000);
    H_CHECK(last - first < 100);
    H_CHECK(!s2l_pool_is_up(p));
    H_CHECK(s2l_pool_retry_after(p) >= 1);

    /* New ops fail fast while nothing is up. */
    rec f = {0};
    s2l_ldap_op *op;
    double t0 = h_now_ms();
    START(op, s2l_ldap_search(p, &one, 0, on_done, &f));
    H_CHECK(op != NULL);
    H_CHECK_INT(f.calls, 0);
    H_CHECK(run_until(rec_done, &f, 1000));
    H_CHECK_INT(f.rc, LDAP_SERVER_DOWN);
    H_CHECK(f.done_ms - t0 < 50);
    s2l_error e;
    s2l_ldap_error_to_scim(f.rc, f.diag, "users", s2l_pool_retry_after(p), &e);
    H_CHECK_INT(e.status, 503);
    H_CHECK(e.retry_after >= 1);
    rec_clear(&f);

    /* Let it fail a few attempts, then bring slapd back. */
    run_for(400);
    H_REQUIRE(h_slapd_restart(s) == 0);
    double t_up = h_now_ms();
    H_CHECK(run_until(all_up, p, 5000));
    fprintf(stderr, "recovered %.0f ms after slapd answered\n", h_now_ms() - t_up);
    START(op, s2l_ldap_search(p, &one, 0, on_done, &f));
    H_CHECK(run_until(rec_done, &f, 5000));
    H_CHECK_INT(f.rc, LDAP_SUCCESS);
    rec_clear(&f);
    s2l_pool_stats after;
    s2l_pool_get_stats(p, &after);
    H_CHECK_INT(after.reconnects - before.reconnects, 4);
    H_CHECK(s2l_pool_supports_control(p, OID_VLV));
    for (int i = 0; i < N_PENDING; i++)
        rec_clear(&r[i]);
}

/* A wrong bind password never brings a connection up; ops fail with a 503. */
static void test_wrong_password(h_slapd *s)
{
    s2l_pool *p = make_pool(s, "not-the-password", 0, 200);
    H_REQUIRE(p != NULL);
    H_CHECK(!run_until(pool_up, p, 1000));
    rec r = {0};
    s2l_search_req one = {.base = H_SUFFIX, .scope = LDAP_SCOPE_BASE};
    s2l_ldap_op *op;
    START(op, s2l_ldap_search(p, &one, 0, on_done, &r));
    H_CHECK(run_until(rec_done, &r, 1000));
    H_CHECK_INT(r.rc, LDAP_SERVER_DOWN);
    H_CHECK(strstr(r.diag, "bind") != NULL);
    s2l_error e;
    s2l_ldap_error_to_scim(r.rc, r.diag, "users", s2l_pool_retry_after(p), &e);
    H_CHECK_INT(e.status, 503);
    H_CHECK(e.retry_after >= 1);
    s2l_pool_stats st;
    s2l_pool_get_stats(p, &st);
    H_CHECK_INT(st.connections_up, 0);
    rec_clear(&r);

    /* Destroy with an op still pending (deferred): its callback never runs. */
    START(op, s2l_ldap_search(p, &one, 0, on_done, &r));
    s2l_pool_destroy(p);
    run_for(50);
    H_CHECK_INT(r.calls, 0);
}

/* Past its queue bound the pool refuses new ops (LDAP_BUSY → 503) instead of
 * letting them pile up; the rest complete normally. */
static void test_queue_bound(h_slapd *s)
{
    s2l_pool *p = make_pool(s, H_ROOTPW, 1, 1000); /* 4 slots, queue of 4 * 1 * 16 */
    H_REQUIRE(p != NULL);
    H_REQUIRE(run_until(all_up, p, 5000));
    enum { N = 100 };
    rec r[N];
    memset(r, 0, sizeof r);
    int done = 0;
    s2l_search_req one = {.base = H_SUFFIX, .scope = LDAP_SCOPE_BASE};
    for (int i = 0; i < N; i++) {
        s2l_ldap_op *op;
        r[i].counter = &done;
        START(op, s2l_ldap_search(p, &one, 0, on_done, &r[i]));
    }
    counter_goal g = {&done, N};
    H_CHECK(run_until(reached, &g, 10000));
    int ok = 0, busy = 0;
    for (int i = 0; i < N; i++) {
        ok += r[i].rc == LDAP_SUCCESS;
        busy += r[i].rc == LDAP_BUSY;
        rec_clear(&r[i]);
    }
    H_CHECK_INT(ok, 4 + 64);
    H_CHECK_INT(busy, N - 4 - 64);
    s2l_error e;
    s2l_ldap_error_to_scim(LDAP_BUSY, NULL, NULL, 1, &e);
    H_CHECK_INT(e.status, 503);
    s2l_pool_destroy(p);
}

/* Bad configurations are refused with a message. */
static void test_bad_config(void)
{
    char err[128] = "";
    s2l_pool_config cfg = {.uri = "http://127.0.0.1/"};
    H_CHECK(s2l_pool_create(base, &cfg, err, sizeof err) == NULL);
    H_CHECK(err[0] != '\0');
    cfg.uri = "ldaps://127.0.0.1:1/";
    cfg.starttls = true;
    err[0] = '\0';
    H_CHECK(s2l_pool_create(base, &cfg, err, sizeof err) == NULL);
    H_CHECK(err[0] != '\0');
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    H_REQUIRE(base != NULL);
    struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval five_ms = {0, 5000};
    event_add(tick, &five_ms);

    h_slapd_opts o = h_slapd_defaults();
    o.sssvlv = true;
    o.dbnosync = true;
    h_slapd *s = h_slapd_start(&o);
    H_REQUIRE(s != NULL);

    test_bad_config();
    s2l_pool *p = make_pool(s, H_ROOTPW, 64, 1000);
    H_REQUIRE(p != NULL);
    test_up_and_rootdse(p);
    test_never_inside_start(p);
    test_pipelined_adds(p, s);
    test_entry_shape(p, s);
    test_sort_vlv(p);
    test_write_ops(p, s);
    test_cancel(p, s);
    test_timeout(p, s);
    test_backpressure(p, s);
    test_queue_bound(s);
    test_wrong_password(s);
    test_kill_and_recover(p, s);
    H_CHECK_INT(g_calls_in_start, 0);

    s2l_pool_destroy(p);
    event_free(tick);
    event_base_free(base);
    h_slapd_destroy(s);
    return H_DONE();
}

#else /* !S2L_IT_LINKS_SHELL */

/* The integration targets link only the harness by default; this test also
 * needs the pool. CMake: target_link_libraries(it_ldap_pool PRIVATE s2l_shell)
 * and target_compile_definitions(it_ldap_pool PRIVATE S2L_IT_LINKS_SHELL). */
int main(void)
{
    const char *req = getenv("S2L_REQUIRE_GATEWAY");
    H_SKIP("it_ldap_pool is not linked with s2l_shell (S2L_IT_LINKS_SHELL undefined)");
    if (req && strcmp(req, "1") == 0) {
        h_check_(false, __FILE__, __LINE__, "it_ldap_pool must be built with s2l_shell");
        return H_DONE();
    }
    return H_DONE();
}

#endif
