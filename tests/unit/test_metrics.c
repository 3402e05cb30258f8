/* test_metrics.c — the metrics registry: registration rules, counters, gauges,
 * histograms with fixed buckets, label look-up and its cap, escaping, number
 * formatting, the collect hook, no allocation on updates and on look-ups of
 * known series; every rendering is validated by the strict exposition parser
 * in prom_parse.h, which is itself tested against malformed input. */
#include <malloc.h>

#include "s2l/metrics.h"
#include "prom_parse.h"
#include "unit.h"

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

static json_t *parse_ok(const char *text)
{
    char err[256] = "";
    json_t *p = prom_parse(text, err, sizeof err);
    if (p == NULL)
        fprintf(stderr, "exposition rejected: %s\n---\n%s---\n", err, text);
    CHECK(p != NULL);
    return p;
}

static void parse_bad(const char *text, const char *why)
{
    char err[256] = "";
    json_t *p = prom_parse(text, err, sizeof err);
    if (p != NULL)
        fprintf(stderr, "parser accepted %s:\n%s", why, text);
    CHECK(p == NULL);
    json_decref(p);
}

static void test_parser(void)
{
    json_t *p = parse_ok("# HELP a_total A \\\\ b\\nc\n# TYPE a_total counter\na_total{x=\"1\",y=\"q\\\"\\\\\\n\"} 3 1700000000000\n"
                         "# some comment\nb 1e3\nc{} NaN\n");
    CHECK(p != NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(p, "a_total"), "help")), "A \\ b\nc");
    CHECK(prom_value(p, "a_total", "x", "1", "y", "q\"\\\n", NULL) == 3);
    CHECK(prom_value(p, "b", NULL) == 1000);
    CHECK(isnan(prom_value(p, "c", NULL)));
    CHECK(isnan(prom_value(p, "a_total", "x", "1", NULL))); /* labels must match exactly */
    json_decref(p);

    parse_bad("a 1", "no final newline");
    parse_bad("a 1\na 2\n", "a series twice");
    parse_bad("a{x=\"1\"} 1\nb 1\na{x=\"2\"} 1\n", "a family split in two groups");
    parse_bad("# TYPE a counter\n# TYPE a counter\na 1\n", "two TYPE lines");
    parse_bad("# HELP a x\n# HELP a y\na 1\n", "two HELP lines");
    parse_bad("a 1\n# TYPE a counter\n", "TYPE after the samples");
    parse_bad("# TYPE a counters\na 1\n", "an unknown type");
    parse_bad("# TYPE a counter\na -1\n", "a negative counter");
    parse_bad("1a 1\n", "a bad metric name");
    parse_bad("a{1x=\"1\"} 1\n", "a bad label name");
    parse_bad("a{x=\"\\t\"} 1\n", "a bad escape in a label value");
    parse_bad("a{x=\"1} 1\n", "an unterminated label value");
    parse_bad("a{x=\"1\",x=\"2\"} 1\n", "a label twice");
    parse_bad("a one\n", "a bad value");
    parse_bad("a 1 2 3\n", "trailing text");
    parse_bad("# HELP a \\t\na 1\n", "a bad escape in HELP");
    parse_bad("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
              "buckets not cumulative");
    parse_bad("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "no +Inf bucket");
    parse_bad("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n", "+Inf differs from _count");
    parse_bad("# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n"
              "h_sum 1\nh_count 1\n",
              "bounds not increasing");
    parse_bad("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", "no _sum");
    parse_bad("# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n", "a bucket without le");
}

static void test_registration(void)
{
    s2l_metrics *r = s2l_metrics_new();
    double b[] = {0.1, 1};
    double bad_b[] = {1, 1};
    CHECK(s2l_metrics_counter(r, "ok_total", "x", NULL) != NULL);
    CHECK(s2l_metrics_counter(r, "ok_total", "x", NULL) == NULL); /* taken */
    CHECK(s2l_metrics_gauge(r, "ok_total", "x", NULL) == NULL);
    CHECK(s2l_metrics_counter(r, "9bad", "x", NULL) == NULL);
    CHECK(s2l_metrics_counter(r, "bad-name", "x", NULL) == NULL);
    CHECK(s2l_metrics_counter(r, "", "x", NULL) == NULL);
    CHECK(s2l_metrics_counter(r, "a:b_c", "x", NULL) != NULL);
    CHECK(s2l_metrics_counter(r, "l1", "x", L("__reserved")) == NULL);
    CHECK(s2l_metrics_counter(r, "l2", "x", L("a:b")) == NULL);
    CHECK(s2l_metrics_counter(r, "l3", "x", L("a", "a")) == NULL);
    CHECK(s2l_metrics_counter(r, "l4", "x", L("a", "b", "c", "d", "e", "f", "g", "h", "i")) == NULL);
    CHECK(s2l_metrics_counter(r, "l5", "x", L("le")) != NULL); /* "le" is only reserved in histograms */
    CHECK(s2l_metrics_histogram(r, "h1", "x", L("le"), b, 2) == NULL);
    CHECK(s2l_metrics_histogram(r, "h2", "x", NULL, b, 0) == NULL);
    CHECK(s2l_metrics_histogram(r, "h3", "x", NULL, bad_b, 2) == NULL);
    double inf_b[] = {1, INFINITY};
    CHECK(s2l_metrics_histogram(r, "h4", "x", NULL, inf_b, 2) == NULL);
    CHECK(s2l_metrics_histogram(r, "h5", "x", NULL, b, 2) != NULL);
    CHECK(s2l_metrics_counter(NULL, "n", "x", NULL) == NULL);
    s2l_metrics_free(r);
}

static void test_render(void)
{
    s2l_metrics *r = s2l_metrics_new();
    s2l_metric *req = s2l_metrics_counter(r, "scim2ldap_requests_total", "SCIM requests by type, method and status",
                                          L("resource_type", "method", "status"));
    s2l_metric *inflight = s2l_metrics_gauge(r, "scim2ldap_requests_in_flight", "Requests being served", NULL);
    double bounds[] = {0.005, 0.1, 1};
    s2l_metric *lat = s2l_metrics_histogram(r, "scim2ldap_request_duration_seconds", "Latency", L("method"), bounds, 3);
    s2l_metric *esc = s2l_metrics_gauge(r, "weird", "help with \\ backslash\nand newline \"quoted\"", L("v"));
    s2l_metric *empty = s2l_metrics_counter(r, "never_used_total", "no series yet", L("x"));
    CHECK(req && inflight && lat && esc && empty);

    s2l_series *get200 = s2l_metric_with(req, "User", "GET", "200");
    CHECK(get200 != NULL);
    CHECK(s2l_metric_with(req, "User", "GET", "200") == get200);
    CHECK(s2l_metric_series(req, L("User", "GET", "200")) == get200);
    CHECK(s2l_metric_with(req, "User", "GET", "404") != get200);
    CHECK(s2l_metric_with(req, "UserGET", "", "200") != get200); /* the separator keeps these apart */
    s2l_counter_inc(get200);
    s2l_counter_inc(get200);
    s2l_counter_add(get200, 0.5);
    s2l_counter_add(get200, -3);   /* ignored */
    s2l_counter_add(get200, NAN);  /* ignored */
    s2l_counter_inc(s2l_metric_with(req, "Group", "PATCH", "204"));
    CHECK(s2l_series_value(get200) == 2.5);

    s2l_series *g = s2l_metric_with(inflight);
    s2l_gauge_add(g, 3);
    s2l_gauge_add(g, -1);
    CHECK(s2l_series_value(g) == 2);
    s2l_gauge_set(g, -0.25);
    s2l_counter_inc(g); /* the wrong type: ignored */
    CHECK(s2l_series_value(g) == -0.25);

    s2l_series *lp = s2l_metric_with(lat, "PATCH");
    double obs[] = {0.001, 0.005, 0.0051, 0.1, 0.5, 2, 30, NAN};
    for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++)
        s2l_histogram_observe(lp, obs[i]);
    CHECK_INT(s2l_series_count(lp), 7);
    s2l_metric_with(lat, "GET"); /* a series with no observations renders zeros */

    s2l_gauge_set(s2l_metric_with(esc, "a\"b\\c\nd"), 1e21);
    s2l_gauge_set(s2l_metric_with(esc, ""), 0.1);
    s2l_gauge_set(s2l_metric_with(esc, "inf"), INFINITY);
    s2l_gauge_set(s2l_metric_with(esc, "nan"), NAN);
    s2l_gauge_set(s2l_metric_with(esc, "J\xc3\xbcrgen"), 123456789012);

    /* NULL series are ignored everywhere */
    s2l_counter_inc(NULL);
    s2l_gauge_set(NULL, 1);
    s2l_histogram_observe(NULL, 1);

    size_t len = 0;
    char *text = s2l_metrics_render(r, &len);
    CHECK(text != NULL && strlen(text) == len);
    CHECK_STR(text,
              "# HELP scim2ldap_requests_total SCIM requests by type, method and status\n"
              "# TYPE scim2ldap_requests_total counter\n"
              "scim2ldap_requests_total{resource_type=\"User\",method=\"GET\",status=\"200\"} 2.5\n"
              "scim2ldap_requests_total{resource_type=\"User\",method=\"GET\",status=\"404\"} 0\n"
              "scim2ldap_requests_total{resource_type=\"UserGET\",method=\"\",status=\"200\"} 0\n"
              "scim2ldap_requests_total{resource_type=\"Group\",method=\"PATCH\",status=\"204\"} 1\n"
              "# HELP scim2ldap_requests_in_flight Requests being served\n"
              "# TYPE scim2ldap_requests_in_flight gauge\n"
              "scim2ldap_requests_in_flight -0.25\n"
              "# HELP scim2ldap_request_duration_seconds Latency\n"
              "# TYPE scim2ldap_request_duration_seconds histogram\n"
              "scim2ldap_request_duration_seconds_bucket{method=\"PATCH\",le=\"0.005\"} 2\n"
              "scim2ldap_request_duration_seconds_bucket{method=\"PATCH\",le=\"0.1\"} 4\n"
              "scim2ldap_request_duration_seconds_bucket{method=\"PATCH\",le=\"1\"} 5\n"
              "scim2ldap_request_duration_seconds_bucket{method=\"PATCH\",le=\"+Inf\"} 7\n"
              "scim2ldap_request_duration_seconds_sum{method=\"PATCH\"} 32.6111\n"
              "scim2ldap_request_duration_seconds_count{method=\"PATCH\"} 7\n"
              "scim2ldap_request_duration_seconds_bucket{method=\"GET\",le=\"0.005\"} 0\n"
              "scim2ldap_request_duration_seconds_bucket{method=\"GET\",le=\"0.1\"} 0\n"
              "scim2ldap_request_duration_seconds_bucket{method=\"GET\",le=\"1\"} 0\n"
              "scim2ldap_request_duration_seconds_bucket{method=\"GET\",le=\"+Inf\"} 0\n"
              "scim2ldap_request_duration_seconds_sum{method=\"GET\"} 0\n"
              "scim2ldap_request_duration_seconds_count{method=\"GET\"} 0\n"
              "# HELP weird help with \\\\ backslash\\nand newline \"quoted\"\n"
              "# TYPE weird gauge\n"
              "weird{v=\"a\\\"b\\\\c\\nd\"} 1e+21\n"
              "weird{v=\"\"} 0.1\n"
              "weird{v=\"inf\"} +Inf\n"
              "weird{v=\"nan\"} NaN\n"
              "weird{v=\"J\xc3\xbcrgen\"} 123456789012\n"
              "# HELP never_used_total no series yet\n"
              "# TYPE never_used_total counter\n");

    /* the parser agrees, and gives back exactly the values and label texts */
    json_t *p = parse_ok(text);
    CHECK(prom_value(p, "scim2ldap_requests_total", "resource_type", "User", "method", "GET", "status", "200", NULL) ==
          2.5);
    CHECK(prom_value(p, "weird", "v", "a\"b\\c\nd", NULL) == 1e21);
    CHECK(prom_value(p, "scim2ldap_request_duration_seconds_bucket", "method", "PATCH", "le", "0.1", NULL) == 4);
    CHECK(prom_value(p, "scim2ldap_request_duration_seconds_sum", "method", "PATCH", NULL) == 32.6111);
    CHECK_STR(json_string_value(json_object_get(json_object_get(p, "weird"), "help")),
              "help with \\ backslash\nand newline \"quoted\"");
    json_decref(p);
    free(text);
    s2l_metrics_free(r);

    /* an empty registry renders as "" */
    r = s2l_metrics_new();
    text = s2l_metrics_render(r, NULL);
    CHECK_STR(text, "");
    free(text);
    s2l_metrics_free(r);
}

static int collected;

static void collect(s2l_metrics *r, void *arg)
{
    collected++;
    s2l_gauge_set(s2l_metric_with(arg, "bound"), 3);
}

static void test_collect_and_cap(void)
{
    s2l_metrics *r = s2l_metrics_new();
    s2l_metric *conns = s2l_metrics_gauge(r, "scim2ldap_ldap_connections", "Pool connections by state", L("state"));
    s2l_metrics_on_collect(r, collect, conns);
    char *text = s2l_metrics_render(r, NULL);
    CHECK_INT(collected, 1);
    CHECK(text && strstr(text, "scim2ldap_ldap_connections{state=\"bound\"} 3\n"));
    free(text);

    /* the cap: past max_series a look-up gives NULL, known series still work */
    s2l_metrics_set_max_series(r, 3);
    s2l_metric *codes = s2l_metrics_counter(r, "codes_total", "x", L("code"));
    s2l_series *a = s2l_metric_with(codes, "1");
    s2l_metric_with(codes, "2");
    s2l_metric_with(codes, "3");
    CHECK(s2l_metric_with(codes, "4") == NULL);
    CHECK(s2l_metric_with(codes, "1") == a);
    s2l_counter_inc(s2l_metric_with(codes, "5"));
    text = s2l_metrics_render(r, NULL);
    json_t *p = parse_ok(text);
    CHECK(isnan(prom_value(p, "codes_total", "code", "4", NULL)));
    CHECK(prom_value(p, "codes_total", "code", "1", NULL) == 0);
    json_decref(p);
    free(text);

    /* many series: the hash table grows and every look-up still finds its own */
    s2l_metrics_set_max_series(r, 100000);
    s2l_metric *many = s2l_metrics_counter(r, "many_total", "x", L("a", "b"));
    char va[16], vb[16];
    for (int i = 0; i < 5000; i++) {
        snprintf(va, sizeof va, "%d", i % 97);
        snprintf(vb, sizeof vb, "%d", i);
        s2l_counter_add(s2l_metric_with(many, va, vb), i);
    }
    int wrong = 0;
    for (int i = 0; i < 5000; i++) {
        snprintf(va, sizeof va, "%d", i % 97);
        snprintf(vb, sizeof vb, "%d", i);
        if (s2l_series_value(s2l_metric_with(many, va, vb)) != i)
            wrong++;
    }
    CHECK_INT(wrong, 0);
    text = s2l_metrics_render(r, NULL);
    p = parse_ok(text);
    CHECK_INT(json_array_size(json_object_get(json_object_get(p, "many_total"), "samples")), 5000);
    json_decref(p);
    free(text);
    s2l_metrics_free(r);
}

/* Updates through kept series, and look-ups of series that exist, allocate
 * nothing (glibc's heap statistics do not move; under ASan mallinfo2 is not
 * the allocator's, so this only proves something in the plain build). */
static void test_no_allocation(void)
{
    s2l_metrics *r = s2l_metrics_new();
    s2l_metric *c = s2l_metrics_counter(r, "c_total", "x", L("method", "status"));
    s2l_metric *h = s2l_metrics_histogram(r, "h_seconds", "x", L("op"), s2l_metrics_latency_buckets,
                                          s2l_metrics_latency_buckets_n);
    s2l_series *kept = s2l_metric_with(c, "GET", "200");
    s2l_series *hk = s2l_metric_with(h, "search");
    s2l_metric_with(c, "PATCH", "400");
    struct mallinfo2 before = mallinfo2();
    for (int i = 0; i < 100000; i++) {
        s2l_counter_inc(kept);
        s2l_histogram_observe(hk, (double)(i % 2000) / 1000.0);
        s2l_counter_inc(s2l_metric_with(c, "PATCH", "400"));
    }
    struct mallinfo2 after = mallinfo2();
    CHECK(before.uordblks == after.uordblks);
    CHECK(s2l_series_value(kept) == 100000);
    CHECK_INT(s2l_series_count(hk), 100000);
    char *text = s2l_metrics_render(r, NULL);
    json_t *p = parse_ok(text);
    /* i/1000 for i in 0..1999, 50 rounds: 1 value <= 0.0005 per round (0), 2 <= 0.001 */
    CHECK(prom_value(p, "h_seconds_bucket", "op", "search", "le", "0.0005", NULL) == 50);
    CHECK(prom_value(p, "h_seconds_bucket", "op", "search", "le", "0.001", NULL) == 100);
    CHECK(prom_value(p, "h_seconds_bucket", "op", "search", "le", "1", NULL) == 50 * 1001);
    CHECK(prom_value(p, "h_seconds_bucket", "op", "search", "le", "+Inf", NULL) == 100000);
    json_decref(p);
    free(text);
    s2l_metrics_free(r);
}

int main(void)
{
    test_parser();
    test_registration();
    test_render();
    test_collect_and_cap();
    test_no_allocation();
    return UNIT_DONE();
}
