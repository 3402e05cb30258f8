/* it_list_post_filter.c — GET /Users and POST /Users/.search with filters the
 * directory cannot decide exactly (the gateway post-filters LDAP's superset,
 * gateway/resources/list.c), against a private slapd and the real gateway.
 *
 * Users are written straight into LDAP with the values the issue names
 * (double and trailing spaces, phone formats, no ORDERING rule on sn or
 * title), plus users created through the gateway whose values the default
 * mapping keeps as JSON (an "other" email in scimEmail) or in two attributes
 * (country: co and c). Every expected answer is computed from the directory's
 * state as ldapsearch reads it (h_ldap_search), with SCIM's rules written out
 * here (ASCII case folding, spaces exact), and compared with the gateway's:
 *   - exact result sets and totalResults, also for count=0;
 *   - paging across pages (startIndex/count): each page's totalResults exact,
 *     the pages together the answer, no entry twice;
 *   - sortBy with a post-filter: the order of the directory's sort;
 *   - POST .search answers what GET answers;
 *   - the bound: a second gateway with limits.max_list_scan 10 answers 400
 *     tooMany naming the comparison LDAP could not decide, and still answers
 *     post-filtered look-ups with few candidates and the hot paths;
 *   - the IdPs' look-up (userName eq) stays one LDAP search (cn=Monitor);
 *   - the same on a slapd without sssvlv (slapd's own paged results; sortBy
 *     is then a 400).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "it_users_common.h"

#define N_LDAP 30

static it_env env;
static json_t *state; /* every user as ldapsearch reads it */

static const char *sns[] = {"Trail ", "Trail", "alpha", "Mason", "zeta", "Baker"};
static const char *titles[] = {"ENGINEER  II", "ENGINEER II", "Manager", NULL};

static void seed(void)
{
    for (int i = 0; i < N_LDAP; i++) {
        char ldif[1024], title[64] = "", phone[64] = "";
        if (titles[i % 4])
            snprintf(title, sizeof title, "title: %s\n", titles[i % 4]);
        if (i % 3 == 0)
            snprintf(phone, sizeof phone, "telephoneNumber: +1-555-01%02d\n", i);
        else if (i % 3 == 1)
            snprintf(phone, sizeof phone, "telephoneNumber: +1 555 01%02d\n", i);
        /* "Trail " with its trailing space: base64, or LDIF would drop it */
        const char *sn = sns[i % 6];
        char snline[64];
        if (strcmp(sn, "Trail ") == 0)
            snprintf(snline, sizeof snline, "sn:: VHJhaWwg\n");
        else
            snprintf(snline, sizeof snline, "sn: %s\n", sn);
        snprintf(ldif, sizeof ldif,
                 "dn: uid=pf%02d," H_PEOPLE "\nobjectClass: inetOrgPerson\nuid: pf%02d\ncn: PF %02d\n%s%s%s"
                 "mail: pf%02d@example.org\n",
                 i, i, i, snline, title, phone, i);
        H_REQUIRE(h_ldap_ldif(env.s, ldif) == 1);
    }
    char *a = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"pf.other\","
                               "\"name\":{\"familyName\":\"Other\"},"
                               "\"emails\":[{\"type\":\"work\",\"value\":\"pf.a@example.org\"},"
                               "{\"type\":\"other\",\"value\":\"Pf.Other@Example.org\"}]}");
    char *b = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"pf.addr\","
                               "\"name\":{\"familyName\":\"Addr\"},"
                               "\"addresses\":[{\"type\":\"work\",\"country\":\"DE\",\"locality\":\"Berlin\"}]}");
    H_REQUIRE(a && b);
    free(a);
    free(b);
    static const char *const attrs[] = {"uid", "sn", "title", "telephoneNumber", "entryUUID", "mail",
                                        "scimEmail", "co", "c", NULL};
    state = h_ldap_search(env.s, H_PEOPLE, "(objectClass=inetOrgPerson)", attrs);
    H_REQUIRE(json_array_size(state) == N_LDAP + 2);
    /* the "other" email is really kept as JSON: the case the filter must see through */
    json_t *one = h_ldap_search(env.s, H_PEOPLE, "(scimEmail=*Pf.Other@Example.org*)", attrs);
    H_CHECK_INT(json_array_size(one), 1);
    json_decref(one);
}

/* ---- SCIM's rules on the directory's state ---- */

typedef bool pred_fn(const json_t *e);

static bool has_ci(const json_t *e, const char *attr, const char *want)
{
    json_t *v = json_object_get(json_object_get(e, "attrs"), attr);
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) if (strcasecmp(json_string_value(x), want) == 0) return true;
    return false;
}

static bool p_title_two_spaces(const json_t *e)
{
    const char *t = h_ldap_attr(e, "title");
    return t && strcasecmp(t, "ENGINEER  II") == 0;
}

static bool p_sn_gt_m(const json_t *e)
{
    const char *sn = h_ldap_attr(e, "sn");
    return sn && strcasecmp(sn, "M") > 0;
}

static bool p_not_title_lt_n(const json_t *e)
{
    const char *t = h_ldap_attr(e, "title");
    return !(t && strcasecmp(t, "N") < 0);
}

static bool p_sn_eq_trail_space(const json_t *e)
{
    const char *sn = h_ldap_attr(e, "sn");
    return sn && strcasecmp(sn, "trail ") == 0; /* not "Trail" */
}

static bool p_sn_ew_space(const json_t *e)
{
    const char *sn = h_ldap_attr(e, "sn");
    return sn && strlen(sn) > 0 && sn[strlen(sn) - 1] == ' ';
}

static bool p_phone_sw(const json_t *e)
{
    const char *p = h_ldap_attr(e, "telephonenumber");
    return p && strncmp(p, "+1 5", 4) == 0;
}

static bool p_all(const json_t *e)
{
    (void)e;
    return true;
}

static bool p_other_email(const json_t *e)
{
    return h_ldap_attr(e, "scimemail") != NULL && strcmp(h_ldap_attr(e, "uid"), "pf.other") == 0;
}

static bool p_work_email(const json_t *e)
{
    return has_ci(e, "mail", "PF.A@example.org");
}

static bool p_country(const json_t *e)
{
    return has_ci(e, "co", "de") || (h_ldap_attr(e, "co") == NULL && has_ci(e, "c", "de"));
}

/* The entryUUIDs of the users p selects, in the order of `state` (by DN). */
static json_t *expected(pred_fn *p)
{
    json_t *ids = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(state, i, e) if (p(e)) json_array_append_new(ids, json_string(h_ldap_attr(e, "entryuuid")));
    return ids;
}

static bool contains(const json_t *ids, const char *id)
{
    size_t i;
    json_t *x;
    json_array_foreach(ids, i, x) if (id && strcmp(json_string_value(x), id) == 0) return true;
    return false;
}

/* GET /Users?filter=f&<extra>: the ids of the page; *total from the reply. */
static json_t *get_page(h_gw *g, const char *f, const char *extra, long *total, int want_status)
{
    char *path = it_filter_path(f, extra);
    h_resp r = h_http(g, "GET", path, NULL, NULL);
    json_t *ids = NULL;
    H_CHECK_STATUS(r, want_status);
    if (r.status == 200 && want_status == 200) {
        ids = json_array();
        *total = (long)h_jint(r.json, "totalResults", -1);
        json_t *res = h_jget(r.json, "Resources");
        H_CHECK_INT(h_jint(r.json, "itemsPerPage", -1), json_array_size(res));
        size_t i;
        json_t *x;
        json_array_foreach(res, i, x) json_array_append_new(ids, json_string(h_jstr(x, "id")));
    }
    h_resp_free(&r);
    free(path);
    return ids;
}

/* The whole answer in one request, and again a page of 4 at a time. */
static void check_filter(const char *f, pred_fn *p)
{
    json_t *want = expected(p);
    long total = -1;
    json_t *got = get_page(env.g, f, "count=100", &total, 200);
    bool same = got && json_array_size(got) == json_array_size(want) && total == (long)json_array_size(want);
    for (size_t i = 0; same && i < json_array_size(got); i++)
        same = contains(want, json_string_value(json_array_get(got, i)));
    h_check_(same, __FILE__, __LINE__, "filter %s: %zu results (totalResults %ld), want %zu", f,
             got ? json_array_size(got) : 0, total, json_array_size(want));
    json_decref(got);

    /* count=0: the total alone */
    got = get_page(env.g, f, "count=0", &total, 200);
    H_CHECK_INT(total, json_array_size(want));
    H_CHECK_INT(json_array_size(got), 0);
    json_decref(got);

    /* pages of 4: each with the exact total; together the answer, once each */
    json_t *seen = json_array();
    for (long start = 1; start <= (long)json_array_size(want) + 4; start += 4) {
        char extra[64];
        snprintf(extra, sizeof extra, "startIndex=%ld&count=4", start);
        got = get_page(env.g, f, extra, &total, 200);
        if (got == NULL)
            break;
        long left = (long)json_array_size(want) - (start - 1);
        H_CHECK_INT(total, json_array_size(want));
        H_CHECK_INT(json_array_size(got), left < 0 ? 0 : left > 4 ? 4 : left);
        size_t i;
        json_t *x;
        json_array_foreach(got, i, x) {
            h_check_(contains(want, json_string_value(x)) && !contains(seen, json_string_value(x)), __FILE__,
                     __LINE__, "filter %s page %ld: %s not in the answer, or twice", f, start,
                     json_string_value(x));
            json_array_append(seen, x);
        }
        json_decref(got);
    }
    h_check_(json_array_size(seen) == json_array_size(want), __FILE__, __LINE__,
             "filter %s: the pages hold %zu users, want %zu", f, json_array_size(seen), json_array_size(want));
    json_decref(seen);
    json_decref(want);
}

static void test_exact_results(void)
{
    check_filter("title eq \"ENGINEER  II\"", p_title_two_spaces);
    check_filter("name.familyName gt \"M\"", p_sn_gt_m);
    check_filter("not (title lt \"N\")", p_not_title_lt_n);
    check_filter("name.familyName eq \"TRAIL \"", p_sn_eq_trail_space);
    check_filter("name.familyName ew \" \"", p_sn_ew_space);
    check_filter("phoneNumbers.value sw \"+1 5\"", p_phone_sw);
    check_filter("emails.value eq \"pf.other@example.org\"", p_other_email);
    check_filter("emails[type eq \"other\" and value co \"OTHER@\"]", p_other_email);
    check_filter("emails[type eq \"work\" and value eq \"PF.A@example.org\"]", p_work_email);
    check_filter("addresses[type eq \"work\" and country eq \"de\"]", p_country);
    /* id is caseExact: an id in upper case is nobody's, so "ne" keeps everyone */
    char f[128], *up = strdup(h_ldap_attr(json_array_get(state, 0), "entryuuid"));
    for (char *c = up; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    snprintf(f, sizeof f, "id ne \"%s\"", up);
    check_filter(f, p_all);
    free(up);
}

/* sortBy with a post-filter: the directory sorts the candidates (userName:
 * uid), the gateway cuts the page after matching. */
static int by_uid_desc(const void *a, const void *b)
{
    return -strcasecmp(h_ldap_attr(*(json_t *const *)a, "uid"), h_ldap_attr(*(json_t *const *)b, "uid"));
}

static void test_sorted(void)
{
    size_t n = 0;
    json_t *sel[N_LDAP + 2];
    size_t i;
    json_t *e;
    json_array_foreach(state, i, e) if (p_sn_gt_m(e)) sel[n++] = e;
    qsort(sel, n, sizeof sel[0], by_uid_desc);
    long total = -1;
    json_t *got = get_page(env.g, "name.familyName gt \"M\"", "sortBy=userName&sortOrder=descending&startIndex=3&count=5",
                           &total, 200);
    H_CHECK_INT(total, n);
    H_REQUIRE(got != NULL);
    H_CHECK_INT(json_array_size(got), n - 2 < 5 ? n - 2 : 5);
    for (i = 0; i < json_array_size(got) && i + 2 < n; i++)
        H_CHECK_STR(json_string_value(json_array_get(got, i)), h_ldap_attr(sel[i + 2], "entryuuid"));
    json_decref(got);
}

/* POST /Users/.search answers what the GET with the same parameters answers. */
static void test_search(void)
{
    long total = -1;
    json_t *want = get_page(env.g, "name.familyName gt \"M\"", "startIndex=2&count=3", &total, 200);
    h_resp r = h_http(env.g, "POST", "/Users/.search",
                      "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:SearchRequest\"],"
                      "\"filter\":\"name.familyName gt \\\"M\\\"\",\"startIndex\":2,\"count\":3}",
                      NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(h_jint(r.json, "totalResults", -1), total);
    json_t *res = h_jget(r.json, "Resources");
    H_CHECK_INT(json_array_size(res), json_array_size(want));
    for (size_t i = 0; i < json_array_size(res) && i < json_array_size(want); i++)
        H_CHECK_STR(h_jstr(json_array_get(res, i), "id"), json_string_value(json_array_get(want, i)));
    h_resp_free(&r);
    json_decref(want);
}

/* The IdPs' look-up stays one LDAP search. */
static void test_hot_path_one_search(void)
{
    h_op_counts before, after;
    H_REQUIRE(h_slapd_op_counts(env.s, &before) == 0);
    H_CHECK_INT(IT_LIST_COUNT(env.g, "userName eq \"pf07\"", NULL), 1);
    H_REQUIRE(h_slapd_op_counts(env.s, &after) == 0);
    H_CHECK_INT(after.search - before.search, 1);
}

/* limits.max_list_scan bounds the candidates examined. */
static void test_bound(void)
{
    h_gw *small = h_gw_start(env.s, "{\"limits\":{\"max_list_scan\":10}}");
    H_REQUIRE(small != NULL);
    const char *paths[] = {"count=4", "count=100", "count=0", NULL};
    for (size_t i = 0; paths[i]; i++) {
        char *path = it_filter_path("name.familyName gt \"M\"", paths[i]);
        h_resp r = h_http(small, "GET", path, NULL, NULL);
        IT_CHECK_ERROR(r, 400, "tooMany");
        const char *detail = h_jstr(r.json, "detail");
        h_check_(detail && strstr(detail, "familyName gt") && strstr(detail, "sn") && strstr(detail, "max_list_scan"),
                 __FILE__, __LINE__, "tooMany must name what LDAP could not decide: %s", detail ? detail : "-");
        h_resp_free(&r);
        free(path);
    }
    /* few candidates: post-filtered under the bound all the same */
    long total = -1;
    json_t *got = get_page(small, "userName eq \"pf00\" and title eq \"ENGINEER  II\"", NULL, &total, 200);
    H_CHECK_INT(total, 1);
    json_decref(got);
    got = get_page(small, "userName eq \"pf01\" and title eq \"ENGINEER  II\"", NULL, &total, 200);
    H_CHECK_INT(total, 0);
    json_decref(got);
    H_CHECK_INT(IT_LIST_COUNT(small, "userName eq \"pf03\"", NULL), 1);
    h_gw_stop(small);
}

/* The look-ups trust the directory by default: sn=Trail also finds "Trail "
 * (caseIgnoreMatch ignores the space); behaviour.exact_filters trusts
 * nothing, and the same filter finds "Trail" alone. */
static bool p_sn_eq_trail(const json_t *e)
{
    const char *sn = h_ldap_attr(e, "sn");
    return sn && strcasecmp(sn, "trail") == 0;
}

static bool p_sn_eq_trail_trusted(const json_t *e)
{
    const char *sn = h_ldap_attr(e, "sn");
    return sn && (strcasecmp(sn, "trail") == 0 || strcasecmp(sn, "trail ") == 0);
}

static void test_exact_filters_option(void)
{
    json_t *trusted = expected(p_sn_eq_trail_trusted), *exact = expected(p_sn_eq_trail);
    H_REQUIRE(json_array_size(trusted) > json_array_size(exact) && json_array_size(exact) > 0);
    long total = -1;
    json_t *got = get_page(env.g, "name.familyName eq \"Trail\"", "count=100", &total, 200);
    H_CHECK_INT(total, json_array_size(trusted));
    json_decref(got);
    h_gw *strict = h_gw_start(env.s, "{\"behaviour\":{\"exact_filters\":true}}");
    H_REQUIRE(strict != NULL);
    got = get_page(strict, "name.familyName eq \"Trail\"", "count=100", &total, 200);
    H_CHECK_INT(total, json_array_size(exact));
    for (size_t i = 0; got && i < json_array_size(got); i++)
        H_CHECK(contains(exact, json_string_value(json_array_get(got, i))));
    json_decref(got);
    /* paged: the exact total on every page */
    got = get_page(strict, "name.familyName eq \"Trail\"", "startIndex=1&count=1", &total, 200);
    H_CHECK_INT(total, json_array_size(exact));
    json_decref(got);
    /* the IdPs' look-up still answers */
    H_CHECK_INT(IT_LIST_COUNT(strict, "userName eq \"pf03\"", NULL), 1);
    h_gw_stop(strict);
    json_decref(trusted);
    json_decref(exact);
}

/* slapd without sssvlv: paged results of its own, no sorting. */
static void test_without_sssvlv(void)
{
    h_slapd_opts o = h_slapd_defaults();
    o.sssvlv = false;
    env.s = h_slapd_start(&o);
    H_REQUIRE(env.s != NULL);
    env.g = h_gw_start(env.s, NULL);
    H_REQUIRE(env.g != NULL);
    seed();
    check_filter("name.familyName gt \"M\"", p_sn_gt_m);
    check_filter("title eq \"ENGINEER  II\"", p_title_two_spaces);
    check_filter("emails.value eq \"pf.other@example.org\"", p_other_email);
    /* sortBy needs the directory's sort: a clear 400, as without a post-filter */
    long total;
    json_t *got = get_page(env.g, "name.familyName gt \"M\"", "sortBy=userName", &total, 400);
    json_decref(got);
}

int main(void)
{
    if (!it_env_start(&env, NULL))
        return H_DONE();
    seed();
    test_exact_results();
    test_sorted();
    test_search();
    test_hot_path_one_search();
    test_bound();
    test_exact_filters_option();
    json_decref(state);
    it_env_stop(&env);
    test_without_sssvlv();
    json_decref(state);
    it_env_stop(&env);
    return H_DONE();
}
