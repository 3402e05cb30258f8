/* it_groups_concurrency.c — membership changes racing on one group.
 *
 * Entra and Okta send membership changes of one group from several workers
 * at once. Because every change is a value-level modify (never "read the list,
 * write it back"), racing adds and removes must all succeed and none may be
 * lost; the empty-group placeholder must survive races on the last member
 * and on the first addition. Each round releases N_THREADS requests together
 * (barrier) and then compares the `member` set in LDAP as a whole.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_groups_common.h"

#define N_THREADS 8
#define N_USERS 16
#define PREFIX "par"
#define GROUP_NAME "Parallel Group"

static ig_env env;
static char *gid;
static char *uid[N_USERS], *udn[N_USERS];

typedef struct job {
    pthread_barrier_t *start;
    const char *method;
    char *path;
    char *body;
    int status; /* answer, read by the main thread after the join */
    char detail[160];
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    h_resp r;

    pthread_barrier_wait(j->start);
    r = h_http(env.g, j->method, j->path, j->body, NULL);
    j->status = r.status;
    snprintf(j->detail, sizeof j->detail, "%.150s", h_jstr(r.json, "detail") ? h_jstr(r.json, "detail") : r.err);
    h_resp_free(&r);
    return NULL;
}

/* Runs the jobs at once, waits for all, checks each answered want_status and
 * frees their texts. Assertions run here, on the main thread only. */
static void run_together_(job *jobs, size_t n, int want_status, const char *file, int line)
{
    pthread_barrier_t start;
    pthread_t th[N_THREADS];
    size_t started = 0;

    H_REQUIRE(n <= N_THREADS && pthread_barrier_init(&start, NULL, (unsigned)n) == 0);
    for (size_t i = 0; i < n; i++) {
        jobs[i].start = &start;
        H_REQUIRE(jobs[i].path != NULL && pthread_create(&th[i], NULL, run_job, &jobs[i]) == 0);
        started++;
    }
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (size_t i = 0; i < n; i++) {
        h_check_(jobs[i].status == want_status, file, line, "%s %s %s: %d (%s), want %d", jobs[i].method,
                 jobs[i].path, jobs[i].body ? jobs[i].body : "", jobs[i].status, jobs[i].detail, want_status);
        free(jobs[i].path);
        free(jobs[i].body);
    }
}
#define RUN_TOGETHER(jobs, n, status) run_together_((jobs), (n), (status), __FILE__, __LINE__)

/* A PATCH job on the group adding (add) or removing user u, Entra-style. */
static job member_job(bool add, size_t u)
{
    job j = {.method = "PATCH", .path = ig_group_path(gid, NULL)};

    j.body = ig_fmt("{\"schemas\":[\"%s\"],\"Operations\":[{\"op\":\"%s\",\"path\":\"members\","
                    "\"value\":[{\"value\":\"%s\"}]}]}",
                    IT_URN_PATCH, add ? "Add" : "Remove", uid[u]);
    return j;
}

/* The group's members in LDAP must be exactly users [from, to); whether the
 * placeholder was there goes to *placeholder (optional). */
static void check_range_(size_t from, size_t to, bool *placeholder, const char *file, int line)
{
    const char *want[N_USERS + 1];
    size_t n = 0;

    for (size_t i = from; i < to; i++)
        want[n++] = udn[i];
    want[n] = NULL;
    ig_check_members_(env.s, gid, want, placeholder, file, line);
}
#define CHECK_RANGE(from, to, ph) check_range_((from), (to), (ph), __FILE__, __LINE__)

static void setup(void)
{
    static const char *const attrs[] = {"entryUUID", NULL};
    json_t *arr;

    H_REQUIRE(h_ldap_add_users(env.s, PREFIX, 0, N_USERS) == 0);
    arr = h_ldap_search(env.s, H_PEOPLE, "(uid=" PREFIX "*)", attrs);
    H_REQUIRE(json_array_size(arr) == N_USERS);
    for (size_t i = 0; i < N_USERS; i++) {
        char *dn = h_ldap_user_dn(PREFIX, i);
        size_t k;
        json_t *e;

        H_REQUIRE(dn != NULL);
        json_array_foreach(arr, k, e) {
            if (strcasecmp(h_jstr(e, "dn"), dn) == 0) {
                uid[i] = strdup(h_ldap_attr(e, "entryuuid"));
                udn[i] = strdup(h_jstr(e, "dn"));
            }
        }
        H_REQUIRE(uid[i] != NULL && udn[i] != NULL);
        free(dn);
    }
    json_decref(arr);
    gid = IG_GROUP(env.g, "{\"schemas\":[\"" IG_URN_GROUP "\"],\"displayName\":\"" GROUP_NAME "\",\"members\":[]}");
    H_REQUIRE(gid != NULL);
}

static void test_parallel_adds(void)
{
    job jobs[N_THREADS];
    bool placeholder = true;

    /* Eight first additions to an empty group: each races to drop the placeholder. */
    for (size_t i = 0; i < N_THREADS; i++)
        jobs[i] = member_job(true, i);
    RUN_TOGETHER(jobs, N_THREADS, 204);
    CHECK_RANGE(0, 8, &placeholder);
    H_CHECK(!placeholder);
}

static void test_mixed(void)
{
    job jobs[N_THREADS];

    /* Four removals (0..3) racing four additions (8..11). */
    for (size_t i = 0; i < 4; i++) {
        jobs[2 * i] = member_job(false, i);
        jobs[2 * i + 1] = member_job(true, 8 + i);
    }
    RUN_TOGETHER(jobs, N_THREADS, 204);
    CHECK_RANGE(4, 12, NULL);

    /* The same member added by everyone at once: one value. */
    for (size_t i = 0; i < N_THREADS; i++)
        jobs[i] = member_job(true, 12);
    RUN_TOGETHER(jobs, N_THREADS, 204);
    CHECK_RANGE(4, 13, NULL);
    /* And removed by everyone at once: gone, the rest untouched. */
    for (size_t i = 0; i < N_THREADS; i++)
        jobs[i] = member_job(false, 12);
    RUN_TOGETHER(jobs, N_THREADS, 204);
    CHECK_RANGE(4, 12, NULL);
}

static void test_parallel_emptying(void)
{
    job jobs[N_THREADS];
    bool placeholder = false;

    /* Every member removed at once: whichever removal comes last would empty
     * the group and has to bring the placeholder. */
    for (size_t i = 0; i < N_THREADS; i++)
        jobs[i] = member_job(false, 4 + i);
    RUN_TOGETHER(jobs, N_THREADS, 204);
    IG_CHECK_NO_MEMBERS(env.s, gid, &placeholder);
    H_CHECK(placeholder);
    IG_CHECK_SCIM_NO_MEMBERS(env.g, gid);

    /* Refill, half with members that were there before. */
    for (size_t i = 0; i < N_THREADS; i++)
        jobs[i] = member_job(true, 8 + i);
    RUN_TOGETHER(jobs, N_THREADS, 204);
    CHECK_RANGE(8, 16, &placeholder);
    H_CHECK(!placeholder);
}

/* A rename racing member additions: every request succeeds and the group
 * ends with the new name and every member. */
static void test_rename_race(void)
{
    job jobs[N_THREADS];
    char *dn;

    jobs[0] = (job){.method = "PATCH", .path = ig_group_path(gid, NULL)};
    jobs[0].body = ig_fmt("{\"schemas\":[\"%s\"],\"Operations\":[{\"op\":\"Replace\",\"path\":\"displayName\","
                          "\"value\":\"Parallel Group Renamed\"}]}",
                          IT_URN_PATCH);
    for (size_t i = 1; i < N_THREADS; i++)
        jobs[i] = member_job(true, i);
    RUN_TOGETHER(jobs, N_THREADS, 204);
    dn = it_dn_by_id(env.s, gid);
    H_CHECK(it_dn_is(dn, "cn", "Parallel Group Renamed", H_GROUPS));
    CHECK_RANGE(1, 16, NULL);
    free(dn);
}

int main(void)
{
    if (ig_env_start(&env, NULL, NULL)) {
        setup();
        test_parallel_adds();
        test_mixed();
        test_parallel_emptying();
        test_rename_race();
    }
    free(gid);
    for (size_t i = 0; i < N_USERS; i++) {
        free(uid[i]);
        free(udn[i]);
    }
    ig_env_stop(&env);
    return H_DONE();
}
