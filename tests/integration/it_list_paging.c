/* it_list_paging.c — listing a directory larger than limits.max_list_scan
 * page by page to its end, the way Okta's import does (startIndex 1, 101,
 * 201, ... with count 100, while startIndex <= totalResults), on two slapds:
 *
 *   - with sssvlv (VLV + server-side sort): every page is one VLV search,
 *     totalResults is exact on every page, the order is the mapping's
 *     sort_attribute (entryUUID) and sortBy/sortOrder sort (userName,
 *     displayName, ascending and descending);
 *   - without it (paged results only): pages are walked with the paged-results
 *     control and resumed from one request to the next; no duplicate, no gap,
 *     the same page twice is the same, the total is exact at the end; a jump
 *     past max_list_scan is 400 tooMany, sortBy is 400.
 *
 * Both directories hold 5,000 users (added straight into LDAP) and the
 * gateway runs with max_list_scan 1000. The expected set of ids is read from
 * LDAP, not from the gateway. IdP look-ups (filter userName eq) stay one plain
 * search (slapd's own operation counters).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "it_users_common.h"

#define N_USERS 5000
#define PAGE 100
#define CONFIG "{\"limits\":{\"max_list_scan\":1000,\"max_results\":200}}"

/* entryUUID of every user, from LDAP: {uuid: true}. */
static json_t *ldap_ids(h_slapd *s)
{
    static const char *const attrs[] = {"entryUUID", NULL};
    json_t *all = h_ldap_search(s, H_PEOPLE, "(objectClass=inetOrgPerson)", attrs);
    json_t *ids = json_object();
    size_t i;
    json_t *e;
    H_REQUIRE(all != NULL && ids != NULL);
    json_array_foreach(all, i, e) json_object_set_new(ids, h_ldap_attr(e, "entryuuid"), json_true());
    json_decref(all);
    return ids;
}

typedef struct page {
    int status;
    long total, start, items;
    json_t *ids;       /* in order */
    json_t *user_names;
} page;

static page get_page(h_gw *g, const char *query)
{
    char path[512];
    page p = {0};
    snprintf(path, sizeof path, "/Users?%s", query);
    h_resp r = h_http(g, "GET", path, NULL, NULL);
    p.status = r.status;
    p.ids = json_array();
    p.user_names = json_array();
    if (r.status == 200) {
        p.total = (long)h_jint(r.json, "totalResults", -1);
        p.start = (long)h_jint(r.json, "startIndex", -1);
        p.items = (long)h_jint(r.json, "itemsPerPage", -1);
        size_t i;
        json_t *v;
        json_array_foreach(h_jget(r.json, "Resources"), i, v) {
            json_array_append_new(p.ids, json_string(h_jstr(v, "id") ? h_jstr(v, "id") : "?"));
            json_array_append_new(p.user_names, json_string(h_jstr(v, "userName") ? h_jstr(v, "userName") : "?"));
        }
        h_check_((long)json_array_size(p.ids) == p.items, __FILE__, __LINE__, "%s: %zu Resources, itemsPerPage %ld",
                 path, json_array_size(p.ids), p.items);
    } else {
        fprintf(stderr, "GET %s: %d %.300s\n", path, r.status, r.body ? r.body : "");
    }
    h_resp_free(&r);
    return p;
}

static void page_free(page *p)
{
    json_decref(p->ids);
    json_decref(p->user_names);
}

/* Okta's import loop: pages of PAGE while startIndex <= totalResults. Every
 * id once, all of `want`; returns the ids in order. exact_totals: every page
 * says N (VLV); otherwise the last page must. */
static json_t *import_all(h_gw *g, const json_t *want, bool exact_totals)
{
    json_t *seen = json_object(), *order = json_array();
    long start = 1, total = 1, pages = 0, last_total = -1;
    while (start <= total && pages < N_USERS / PAGE + 5) {
        char q[128];
        snprintf(q, sizeof q, "startIndex=%ld&count=%d&attributes=userName", start, PAGE);
        page p = get_page(g, q);
        H_REQUIRE(p.status == 200);
        H_CHECK_INT(p.start, start);
        if (exact_totals)
            H_CHECK_INT(p.total, N_USERS);
        /* The total always admits what was seen and announces what is left. */
        h_check_(p.total >= start - 1 + p.items, __FILE__, __LINE__, "page %ld: total %ld < %ld", start, p.total,
                 start - 1 + p.items);
        size_t i;
        json_t *v;
        json_array_foreach(p.ids, i, v) {
            const char *id = json_string_value(v);
            h_check_(json_object_get(seen, id) == NULL, __FILE__, __LINE__, "id %s on two pages (page %ld)", id,
                     start);
            h_check_(json_object_get(want, id) != NULL, __FILE__, __LINE__, "id %s is not in LDAP", id);
            json_object_set_new(seen, id, json_true());
            json_array_append(order, v);
        }
        total = p.total;
        last_total = p.total;
        if (p.items == 0 && start <= total) {
            h_check_(false, __FILE__, __LINE__, "empty page at %ld of %ld", start, total);
            page_free(&p);
            break;
        }
        start += p.items;
        pages++;
        page_free(&p);
    }
    H_CHECK_INT(json_object_size(seen), json_object_size(want));
    H_CHECK_INT(last_total, N_USERS);
    json_decref(seen);
    return order;
}

static bool sorted_strings(const json_t *a, bool descending)
{
    for (size_t i = 1; i < json_array_size(a); i++) {
        int c = strcasecmp(json_string_value(json_array_get(a, i - 1)), json_string_value(json_array_get(a, i)));
        if (descending ? c < 0 : c > 0) {
            fprintf(stderr, "out of order at %zu: %s, %s\n", i, json_string_value(json_array_get(a, i - 1)),
                    json_string_value(json_array_get(a, i)));
            return false;
        }
    }
    return true;
}

/* One IdP look-up = one plain search in slapd (no second phase, no VLV). The
 * gateway may reopen a connection in the background after VLV searches (a
 * bind and a root DSE read), so a measurement that shows more is taken again
 * a little later; a look-up that really made two searches fails every time. */
static void check_lookup_is_one_search(h_slapd *s, h_gw *g)
{
    h_op_counts a, b;
    for (int attempt = 0; attempt < 5; attempt++) {
        if (attempt)
            usleep(200000);
        H_REQUIRE(h_slapd_op_counts(s, &a) == 0);
        page p = get_page(g, "filter=userName%20eq%20%22pl000042%22&startIndex=1&count=100");
        H_CHECK_INT(p.status, 200);
        H_CHECK_INT(p.total, 1);
        H_CHECK_STR(json_string_value(json_array_get(p.user_names, 0)), "pl000042");
        page_free(&p);
        H_REQUIRE(h_slapd_op_counts(s, &b) == 0);
        if (b.search - a.search == 1 && b.bind == a.bind)
            break;
    }
    /* The user's groups come with memberOf: nothing else is read. */
    H_CHECK_INT(b.search - a.search, 1);
}

static void test_vlv(void)
{
    h_slapd *s = h_slapd_start(NULL); /* sssvlv is on by default */
    H_REQUIRE(s != NULL);
    H_REQUIRE(h_ldap_add_users(s, "pl", 0, N_USERS) == 0);
    h_gw *g = h_gw_start(s, CONFIG);
    H_REQUIRE(g != NULL);
    json_t *want = ldap_ids(s);
    H_REQUIRE(json_object_size(want) == N_USERS);

    /* The whole directory, 5x max_list_scan, in the order of entryUUID. */
    json_t *order = import_all(g, want, true);
    H_CHECK(sorted_strings(order, false));
    json_decref(order);

    /* count=0: just the exact total. */
    page p = get_page(g, "count=0");
    H_CHECK(p.status == 200 && p.total == N_USERS && p.items == 0);
    page_free(&p);
    /* Past the end: an empty page, still the exact total. */
    p = get_page(g, "startIndex=5001&count=10");
    H_CHECK(p.status == 200 && p.total == N_USERS && p.items == 0);
    page_free(&p);
    p = get_page(g, "startIndex=4996&count=10");
    H_CHECK(p.status == 200 && p.total == N_USERS && p.items == 5);
    page_free(&p);

    /* sortBy userName, both ways, and a page in the middle. */
    p = get_page(g, "sortBy=userName&count=100&attributes=userName");
    H_CHECK(p.status == 200 && p.total == N_USERS && p.items == 100);
    H_CHECK(sorted_strings(p.user_names, false));
    H_CHECK_STR(json_string_value(json_array_get(p.user_names, 0)), "pl000000");
    page_free(&p);
    p = get_page(g, "sortBy=userName&sortOrder=descending&count=100&attributes=userName");
    H_CHECK(p.status == 200 && p.items == 100 && sorted_strings(p.user_names, true));
    H_CHECK_STR(json_string_value(json_array_get(p.user_names, 0)), "pl004999");
    page_free(&p);
    p = get_page(g, "sortBy=USERNAME&sortOrder=Descending&startIndex=4001&count=3&attributes=userName");
    H_CHECK(p.status == 200 && p.items == 3);
    H_CHECK_STR(json_string_value(json_array_get(p.user_names, 0)), "pl000999");
    H_CHECK_STR(json_string_value(json_array_get(p.user_names, 2)), "pl000997");
    page_free(&p);

    check_lookup_is_one_search(s, g);
    h_gw_stop(g);
    json_decref(want);

    /* VLV is not capped by slapd's size limit for ordinary binds (500): the
     * window is what is returned. */
    H_CHECK_INT(h_ldap_ldif(s, "dn: uid=svc,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: svc\n"
                               "cn: svc\nsn: svc\nuserPassword: svc-Secret-1\n"),
                1);
    g = h_gw_start(s, "{\"ldap\":{\"bind_dn\":\"uid=svc,ou=people,dc=example,dc=org\","
                      "\"bind_password\":\"svc-Secret-1\"}}");
    H_REQUIRE(g != NULL);
    p = get_page(g, "startIndex=4902&count=100");
    H_CHECK(p.status == 200 && p.total == N_USERS + 1 && p.items == 100);
    page_free(&p);
    h_gw_stop(g);
    h_slapd_destroy(s);
}

/* sortBy displayName on users created through the gateway: case-insensitive,
 * a user without a displayName last (first when descending), a filter and a
 * window on the sorted result; what cannot be sorted is 400. */
static void test_sort_display_name(void)
{
    it_env env;
    if (!it_env_start(&env, NULL)) {
        it_env_stop(&env);
        return;
    }
    static const char *const names[] = {"delta", "Alpha", "charlie", "Bravo", "echo", NULL};
    for (int i = 0; i < 6; i++) {
        char body[512];
        if (names[i])
            snprintf(body, sizeof body,
                     "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"sort.%d\",\"displayName\":\"%s\"}", i,
                     names[i]);
        else
            snprintf(body, sizeof body, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"sort.%d\"}", i);
        char *id = IT_CREATE(env.g, body);
        H_REQUIRE(id != NULL);
        free(id);
    }
    H_REQUIRE(h_ldap_add_users(env.s, "other", 0, 60) == 0);
    static const char *const asc[] = {"sort.1", "sort.3", "sort.2", "sort.0", "sort.4", "sort.5"};
    page p = get_page(env.g, "filter=userName%20sw%20%22sort.%22&sortBy=displayName&attributes=userName");
    H_CHECK(p.status == 200 && p.total == 6 && p.items == 6);
    for (int i = 0; i < 6 && i < p.items; i++)
        H_CHECK_STR(json_string_value(json_array_get(p.user_names, (size_t)i)), asc[i]);
    page_free(&p);
    p = get_page(env.g, "filter=userName%20sw%20%22sort.%22&sortBy=displayName&sortOrder=descending"
                        "&attributes=userName");
    H_CHECK(p.status == 200 && p.items == 6);
    for (int i = 0; i < 6 && i < p.items; i++)
        H_CHECK_STR(json_string_value(json_array_get(p.user_names, (size_t)i)), asc[5 - i]);
    page_free(&p);
    p = get_page(env.g, "filter=userName%20sw%20%22sort.%22&sortBy=displayName&startIndex=2&count=2"
                        "&attributes=userName");
    H_CHECK(p.status == 200 && p.total == 6 && p.items == 2);
    H_CHECK_STR(json_string_value(json_array_get(p.user_names, 0)), "sort.3");
    H_CHECK_STR(json_string_value(json_array_get(p.user_names, 1)), "sort.2");
    page_free(&p);
    /* sortOrder without sortBy is ignored (RFC 7644 §3.4.2.3). */
    p = get_page(env.g, "sortOrder=sideways&count=1");
    H_CHECK_INT(p.status, 200);
    page_free(&p);

    static const char *const bad[] = {"sortBy=name", "sortBy=password", "sortBy=groups", "sortBy=nope",
                                      "sortBy=emails%5Btype%20eq%20%22work%22%5D", "sortBy=userName&sortOrder=up"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "/Users?%s", bad[i]);
        h_resp r = h_http(env.g, "GET", path, NULL, NULL);
        IT_CHECK_ERROR(r, 400, "invalidValue");
        h_resp_free(&r);
    }
    it_env_stop(&env);
}

static void test_paged_only(void)
{
    h_slapd_opts o = h_slapd_defaults();
    o.sssvlv = false;
    h_slapd *s = h_slapd_start(&o);
    H_REQUIRE(s != NULL);
    H_REQUIRE(h_ldap_add_users(s, "pl", 0, N_USERS) == 0);
    h_gw *g = h_gw_start(s, CONFIG);
    H_REQUIRE(g != NULL);
    json_t *want = ldap_ids(s);
    H_REQUIRE(json_object_size(want) == N_USERS);

    json_t *order = import_all(g, want, false);
    H_CHECK_INT(json_array_size(order), N_USERS);

    /* Stable order: a page asked afresh (a walk from the start, within
     * max_list_scan) is the page the import saw, and so is a resumed one. */
    page p = get_page(g, "startIndex=501&count=100&attributes=userName");
    H_CHECK(p.status == 200 && p.items == 100);
    for (size_t i = 0; i < 100 && i < json_array_size(p.ids); i++)
        H_CHECK_STR(json_string_value(json_array_get(p.ids, i)), json_string_value(json_array_get(order, 500 + i)));
    page_free(&p);
    p = get_page(g, "startIndex=601&count=100&attributes=userName");
    H_CHECK(p.status == 200 && p.items == 100);
    H_CHECK_STR(json_string_value(json_array_get(p.ids, 0)), json_string_value(json_array_get(order, 600)));
    page_free(&p);

    /* Two listings interleaved (another filter): each resumes its own walk. */
    json_t *seen = json_object();
    for (long start = 1; start <= 400; start += PAGE) {
        char q[160];
        snprintf(q, sizeof q, "startIndex=%ld&count=%d", start, PAGE);
        page a = get_page(g, q);
        snprintf(q, sizeof q, "filter=userName%%20sw%%20%%22pl001%%22&startIndex=%ld&count=%d", start, PAGE);
        page b = get_page(g, q);
        H_CHECK(a.status == 200 && a.items == PAGE);
        H_CHECK(b.status == 200 && b.total == 1000 && b.items == PAGE);
        for (size_t i = 0; i < json_array_size(a.ids); i++)
            H_CHECK_STR(json_string_value(json_array_get(a.ids, i)),
                        json_string_value(json_array_get(order, (size_t)start - 1 + i)));
        for (size_t i = 0; i < json_array_size(b.user_names); i++) {
            const char *un = json_string_value(json_array_get(b.user_names, i));
            H_CHECK(strncmp(un, "pl001", 5) == 0 && json_object_get(seen, un) == NULL);
            json_object_set_new(seen, un, json_true());
        }
        page_free(&a);
        page_free(&b);
    }
    H_CHECK_INT(json_object_size(seen), 400);
    json_decref(seen);

    /* A deleted user ahead of the walk is simply not listed. */
    p = get_page(g, "startIndex=1&count=100");
    page_free(&p);
    char *dn = h_ldap_user_dn("pl", 4000);
    char ldif[256];
    snprintf(ldif, sizeof ldif, "dn: %s\nchangetype: delete\n", dn);
    H_CHECK_INT(h_ldap_ldif(s, ldif), 1);
    free(dn);
    long total = 0, seen_n = 0;
    for (long start = 101; start <= 4999; start += p.items) {
        char q[64];
        snprintf(q, sizeof q, "startIndex=%ld&count=%d", start, 200);
        p = get_page(g, q);
        H_REQUIRE(p.status == 200);
        seen_n += p.items;
        total = p.total;
        page_free(&p);
        if (p.items == 0)
            break;
    }
    H_CHECK_INT(seen_n, N_USERS - 1 - 100);
    H_CHECK_INT(total, N_USERS - 1);

    /* Without VLV a page far from where any walk stands is a walk past
     * max_list_scan: refused. sortBy needs the directory to sort. */
    h_resp r = h_http(g, "GET", "/Users?startIndex=3001&count=10", NULL, NULL);
    IT_CHECK_ERROR(r, 400, "tooMany");
    h_resp_free(&r);
    r = h_http(g, "GET", "/Users?sortBy=userName", NULL, NULL);
    IT_CHECK_ERROR(r, 400, "invalidValue");
    h_resp_free(&r);
    /* count=0: the total, counted up to max_list_scan. */
    p = get_page(g, "count=0");
    H_CHECK(p.status == 200 && p.total == 1000 && p.items == 0);
    page_free(&p);

    check_lookup_is_one_search(s, g);
    json_decref(order);
    json_decref(want);
    h_gw_stop(g);

    /* Bound as an ordinary user, slapd's default size limit (500) also caps
     * a paged walk: a clear 400, not a short list that looks complete. */
    H_CHECK_INT(h_ldap_ldif(s, "dn: uid=svc,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: svc\n"
                               "cn: svc\nsn: svc\nuserPassword: svc-Secret-1\n"),
                1);
    g = h_gw_start(s, "{\"ldap\":{\"bind_dn\":\"uid=svc,ou=people,dc=example,dc=org\","
                      "\"bind_password\":\"svc-Secret-1\"}}");
    H_REQUIRE(g != NULL);
    p = get_page(g, "startIndex=1&count=100");
    H_CHECK(p.status == 200 && p.items == 100);
    page_free(&p);
    r = h_http(g, "GET", "/Users?startIndex=401&count=200", NULL, NULL);
    IT_CHECK_ERROR(r, 400, "tooMany");
    H_CHECK(h_jstr(r.json, "detail") && strstr(h_jstr(r.json, "detail"), "size limit") != NULL);
    h_resp_free(&r);
    h_gw_stop(g);
    h_slapd_destroy(s);
}

int main(void)
{
    char why[256];
    h_slapd *probe = h_slapd_start(NULL);
    H_REQUIRE(probe != NULL);
    bool can = h_gw_can_run(probe, why, sizeof why);
    h_slapd_destroy(probe);
    if (!can) {
        const char *req = getenv("S2L_REQUIRE_GATEWAY");
        if (req && strcmp(req, "1") == 0)
            h_check_(false, __FILE__, __LINE__, "the gateway cannot run: %s", why);
        else
            H_SKIP("the gateway cannot run yet (%s)", why);
        return H_DONE();
    }
    test_vlv();
    test_sort_display_name();
    test_paged_only();
    return H_DONE();
}
