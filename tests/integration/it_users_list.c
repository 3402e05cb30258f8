/* it_users_list.c — GET /Users as IdPs use it: `eq` filters on userName
 * (case-insensitive), externalId (case-exact) and id, combined with `and`;
 * 400 invalidFilter for attributes the mapping does not map; startIndex/count
 * paging with integer totals, the configured caps and a stable order across
 * pages; attributes / excludedAttributes. Users added straight into LDAP (not
 * through the gateway) are listed like the others.
 *
 * The gateway runs with limits.max_results 10 and default_count 4 so the caps
 * are visible with a small directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_users_common.h"

#define N_SCIM 12   /* users created through the gateway */
#define N_LDAP 25   /* users added directly with h_ldap_add_users */
#define N_ALL (N_SCIM + N_LDAP)
#define MAX_RESULTS 10
#define DEFAULT_COUNT 4

static it_env env;
static char *scim_ids[N_SCIM];

static void seed(void)
{
    for (int i = 0; i < N_SCIM; i++) {
        char body[512];

        snprintf(body, sizeof body,
                 "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"list.user.%02d\",\"externalId\":\"ext-%02d\","
                 "\"name\":{\"givenName\":\"List\",\"familyName\":\"User%02d\"},"
                 "\"emails\":[{\"type\":\"work\",\"value\":\"list.user.%02d@example.org\"}]}",
                 i, i, i, i);
        scim_ids[i] = IT_CREATE(env.g, body);
        H_REQUIRE(scim_ids[i] != NULL);
    }
    H_REQUIRE(h_ldap_add_users(env.s, "bulk", 0, N_LDAP) == 0);
}

static void expect_one(const char *filter, const char *id)
{
    char *got = NULL;
    long n = IT_LIST_COUNT(env.g, filter, &got);

    h_check_(n == (id ? 1 : 0), __FILE__, __LINE__, "filter %s: %ld results, want %d", filter, n, id ? 1 : 0);
    if (id)
        h_check_(got && strcmp(got, id) == 0, __FILE__, __LINE__, "filter %s: found %s, want %s", filter,
                 got ? got : "nothing", id);
    free(got);
}

static void test_filters(void)
{
    char f[256];
    char *bulk_id = NULL;

    expect_one("userName eq \"list.user.03\"", scim_ids[3]);
    expect_one("userName eq \"LIST.User.03\"", scim_ids[3]);
    expect_one("USERNAME EQ \"list.user.03\"", scim_ids[3]);
    expect_one("(userName eq \"list.user.03\")", scim_ids[3]);
    expect_one("externalId eq \"ext-07\"", scim_ids[7]);
    /* externalId is caseExact (RFC 7643 §3.1). */
    expect_one("externalId eq \"EXT-07\"", NULL);
    expect_one("userName eq \"list.user.0\"", NULL);

    snprintf(f, sizeof f, "id eq \"%s\"", scim_ids[5]);
    expect_one(f, scim_ids[5]);
    expect_one("id eq \"7c9e6679-7425-40de-944b-e07fc1f90ae7\"", NULL);
    expect_one("id eq \"not-a-uuid\"", NULL);

    expect_one("userName eq \"list.user.03\" and externalId eq \"ext-03\"", scim_ids[3]);
    expect_one("userName eq \"list.user.03\" and externalId eq \"ext-04\"", NULL);
    H_CHECK_INT(IT_LIST_COUNT(env.g, "userName eq \"list.user.01\" or userName eq \"list.user.02\"", NULL), 2);
    snprintf(f, sizeof f, "externalId eq \"ext-09\" and id eq \"%s\"", scim_ids[9]);
    expect_one(f, scim_ids[9]);
    snprintf(f, sizeof f, "externalId eq \"ext-09\" AND id eq \"%s\"", scim_ids[8]);
    expect_one(f, NULL);

    /* A user the gateway did not create. */
    H_CHECK_INT(IT_LIST_COUNT(env.g, "userName eq \"bulk000007\"", &bulk_id), 1);
    {
        char *dn = h_ldap_user_dn("bulk", 7);
        json_t *e = h_ldap_entry(env.s, dn);

        H_CHECK_STR(bulk_id, h_ldap_attr(e, "entryuuid"));
        json_decref(e);
        free(dn);
    }
    free(bulk_id);

    /* Every RFC 7643 attribute is mapped (it_discovery.c): filters on them work. */
    {
        static const char *const mapped[] = {"ims.value eq \"x\"", "x509Certificates.value eq \"x\"",
                                             "entitlements.value eq \"x\"", "profileUrl eq \"x\"",
                                             "userName eq \"list.user.03\" and timezone eq \"UTC\""};
        for (size_t i = 0; i < sizeof mapped / sizeof mapped[0]; i++)
            H_CHECK_INT(IT_LIST_COUNT(env.g, mapped[i], NULL), 0);
    }
    /* Attributes in no schema cannot be filtered. */
    {
        static const char *const unknown[] = {"favouriteColour eq \"x\"", "emails.colour eq \"x\"",
                                              "userName eq \"list.user.03\" and shoeSize eq \"9\""};
        for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
            char *path = it_filter_path(unknown[i], NULL);
            h_resp r = h_http(env.g, "GET", path, NULL, NULL);

            IT_CHECK_ERROR(r, 400, "invalidFilter");
            h_resp_free(&r);
            free(path);
        }
    }
}

/* GET /Users?<query>: checks the ListResponse and returns the ids in order
 * (array of strings; NULL on a failed request). */
static json_t *page_ids_(const char *query, long want_total, long want_start, long want_items, const char *file,
                         int line)
{
    char path[256];
    h_resp r;
    json_t *ids = json_array();
    const json_t *res;
    size_t i;
    json_t *v;

    snprintf(path, sizeof path, "/Users%s%s", query[0] ? "?" : "", query);
    r = h_http(env.g, "GET", path, NULL, NULL);
    h_check_status_(&r, 200, file, line);
    if (r.status != 200 || ids == NULL) {
        h_resp_free(&r);
        json_decref(ids);
        return NULL;
    }
    h_check_(json_is_integer(h_jget(r.json, "totalResults")) && json_is_integer(h_jget(r.json, "startIndex")) &&
                 json_is_integer(h_jget(r.json, "itemsPerPage")),
             file, line, "%s: totalResults/startIndex/itemsPerPage must be integers: %.300s", path, r.body);
    h_check_(h_jint(r.json, "totalResults", -1) == want_total, file, line, "%s: totalResults %lld, want %ld",
             path, h_jint(r.json, "totalResults", -1), want_total);
    h_check_(h_jint(r.json, "startIndex", -1) == want_start, file, line, "%s: startIndex %lld, want %ld", path,
             h_jint(r.json, "startIndex", -1), want_start);
    h_check_(h_jint(r.json, "itemsPerPage", -1) == want_items, file, line, "%s: itemsPerPage %lld, want %ld",
             path, h_jint(r.json, "itemsPerPage", -1), want_items);
    res = h_jget(r.json, "Resources");
    h_check_((long)json_array_size(res) == want_items, file, line, "%s: %zu Resources, want %ld", path,
             json_array_size(res), want_items);
    json_array_foreach(res, i, v) {
        json_array_append_new(ids, json_string(h_jstr(v, "id") ? h_jstr(v, "id") : ""));
    }
    h_resp_free(&r);
    return ids;
}
#define PAGE_IDS(q, total, start, items) page_ids_((q), (total), (start), (items), __FILE__, __LINE__)

static bool same_ids(const json_t *a, const json_t *b)
{
    return a && b && json_equal((json_t *)a, (json_t *)b);
}

static void test_paging(void)
{
    json_t *seen = json_object();
    json_t *p, *again, *a, *b;
    size_t i;
    json_t *v;
    long total = N_ALL;

    H_REQUIRE(seen != NULL);
    /* Defaults: default_count items from 1. */
    p = PAGE_IDS("", total, 1, DEFAULT_COUNT);
    json_decref(p);

    /* Walk all pages: every user once, no duplicates. */
    for (long start = 1; start <= total; start += MAX_RESULTS) {
        char q[64];
        long items = total - start + 1 < MAX_RESULTS ? total - start + 1 : MAX_RESULTS;

        snprintf(q, sizeof q, "startIndex=%ld&count=%d", start, MAX_RESULTS);
        p = PAGE_IDS(q, total, start, items);
        json_array_foreach(p, i, v) {
            h_check_(json_object_get(seen, json_string_value(v)) == NULL, __FILE__, __LINE__,
                     "id %s on two pages", json_string_value(v));
            json_object_set_new(seen, json_string_value(v), json_true());
        }
        json_decref(p);
    }
    H_CHECK_INT(json_object_size(seen), total);
    for (int k = 0; k < N_SCIM; k++)
        h_check_(json_object_get(seen, scim_ids[k]) != NULL, __FILE__, __LINE__, "user %d never listed", k);

    /* Stable order: the same page twice, and two half pages = one page. */
    p = PAGE_IDS("startIndex=11&count=10", total, 11, 10);
    again = PAGE_IDS("startIndex=11&count=10", total, 11, 10);
    H_CHECK(same_ids(p, again));
    a = PAGE_IDS("startIndex=11&count=5", total, 11, 5);
    b = PAGE_IDS("startIndex=16&count=5", total, 16, 5);
    if (a && b)
        json_array_extend(a, b);
    H_CHECK(same_ids(p, a));
    json_decref(p);
    json_decref(again);
    json_decref(a);
    json_decref(b);

    /* Caps and odd values (RFC 7644 §3.4.2.4). */
    p = PAGE_IDS("count=50", total, 1, MAX_RESULTS);
    json_decref(p);
    p = PAGE_IDS("count=0", total, 1, 0);
    json_decref(p);
    p = PAGE_IDS("count=-3", total, 1, 0);
    json_decref(p);
    a = PAGE_IDS("startIndex=0&count=3", total, 1, 3);
    b = PAGE_IDS("startIndex=1&count=3", total, 1, 3);
    H_CHECK(same_ids(a, b));
    json_decref(a);
    a = PAGE_IDS("startIndex=-5&count=3", total, 1, 3);
    H_CHECK(same_ids(a, b));
    json_decref(a);
    json_decref(b);
    p = PAGE_IDS("startIndex=37&count=10", total, 37, 1);
    json_decref(p);
    p = PAGE_IDS("startIndex=38&count=10", total, 38, 0);
    json_decref(p);
    p = PAGE_IDS("startIndex=1000&count=10", total, 1000, 0);
    json_decref(p);

    /* Paging with a filter (Okta's lookup). */
    p = PAGE_IDS("filter=userName%20eq%20%22list.user.11%22&startIndex=1&count=100", 1, 1, 1);
    H_CHECK_STR(json_string_value(json_array_get(p, 0)), scim_ids[11]);
    json_decref(p);

    /* Nothing is cached: a user deleted behind the gateway's back is gone. */
    {
        char *dn = h_ldap_user_dn("bulk", 0);
        char ldif[256];

        snprintf(ldif, sizeof ldif, "dn: %s\nchangetype: delete\n", dn);
        H_CHECK_INT(h_ldap_ldif(env.s, ldif), 1);
        p = PAGE_IDS("count=1", total - 1, 1, 1);
        json_decref(p);
        free(dn);
    }
    json_decref(seen);
}

static void test_projection(void)
{
    char path[128];
    h_resp r;

    r = h_http(env.g, "GET", "/Users?filter=userName%20eq%20%22list.user.02%22&attributes=userName", NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "Resources[0].id"), scim_ids[2]);
    H_CHECK_STR(h_jstr(r.json, "Resources[0].userName"), "list.user.02");
    H_CHECK(h_jget(r.json, "Resources[0].emails") == NULL);
    H_CHECK(h_jget(r.json, "Resources[0].name") == NULL);
    h_resp_free(&r);

    r = h_http(env.g, "GET", "/Users?filter=userName%20eq%20%22list.user.02%22&excludedAttributes=emails,name",
               NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "Resources[0].userName"), "list.user.02");
    H_CHECK(h_jget(r.json, "Resources[0].emails") == NULL);
    H_CHECK(h_jget(r.json, "Resources[0].name") == NULL);
    h_resp_free(&r);

    snprintf(path, sizeof path, "/Users/%s?attributes=emails", scim_ids[2]);
    r = h_http(env.g, "GET", path, NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "id"), scim_ids[2]);
    H_CHECK_STR(h_jstr(r.json, "emails[0].value"), "list.user.02@example.org");
    H_CHECK(h_jget(r.json, "name") == NULL);
    h_resp_free(&r);
}

int main(void)
{
    if (it_env_start(&env, "{\"limits\":{\"max_results\":10,\"default_count\":4}}")) {
        seed();
        test_filters();
        test_paging();
        test_projection();
        for (int i = 0; i < N_SCIM; i++)
            free(scim_ids[i]);
    }
    it_env_stop(&env);
    return H_DONE();
}
