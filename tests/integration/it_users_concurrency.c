/* it_users_concurrency.c — IdPs retry and run requests in parallel. Racing
 * requests on the same user must each get a clean answer, and the directory
 * must end up consistent:
 *   - the same userName created by several clients at once (also differing
 *     in case): exactly one 201, every other answer 409 uniqueness, one entry;
 *   - PATCHes of different attributes of one user at once: all 200, and no
 *     change is lost (each is a modify of its own attribute only);
 *   - the same user deleted by several clients at once: one 204, the rest 404.
 * Bounded: a few rounds of N_THREADS requests, released together by a barrier.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_users_common.h"

#define N_THREADS 6
#define ROUNDS 5

static it_env env;

typedef struct job {
    pthread_barrier_t *start;
    const char *method;
    char path[160];
    char body[512];
    int status;          /* answer */
    char scim_type[32];  /* scimType of an error answer */
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    h_resp r;

    pthread_barrier_wait(j->start);
    r = h_http(env.g, j->method, j->path, j->body[0] ? j->body : NULL, NULL);
    j->status = r.status;
    snprintf(j->scim_type, sizeof j->scim_type, "%s", h_jstr(r.json, "scimType") ? h_jstr(r.json, "scimType") : "");
    h_resp_free(&r);
    return NULL;
}

/* Runs n jobs at once and waits for all of them. */
static void run_together(job *jobs, int n)
{
    pthread_barrier_t start;
    pthread_t th[N_THREADS];

    H_REQUIRE(n <= N_THREADS && pthread_barrier_init(&start, NULL, (unsigned)n) == 0);
    for (int i = 0; i < n; i++) {
        jobs[i].start = &start;
        H_REQUIRE(pthread_create(&th[i], NULL, run_job, &jobs[i]) == 0);
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
}

static void test_create_race(void)
{
    for (int round = 0; round < ROUNDS; round++) {
        job jobs[N_THREADS];
        int created = 0, conflicts = 0;
        char uid_filter[64];

        memset(jobs, 0, sizeof jobs);
        for (int i = 0; i < N_THREADS; i++) {
            jobs[i].method = "POST";
            snprintf(jobs[i].path, sizeof jobs[i].path, "/Users");
            /* Every other client spells the name in upper case. */
            snprintf(jobs[i].body, sizeof jobs[i].body,
                     "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"%s.%d\",\"externalId\":\"client-%d\"}",
                     i % 2 ? "RACE.USER" : "race.user", round, i);
        }
        run_together(jobs, N_THREADS);
        for (int i = 0; i < N_THREADS; i++) {
            if (jobs[i].status == 201)
                created++;
            else if (jobs[i].status == 409 && strcmp(jobs[i].scim_type, "uniqueness") == 0)
                conflicts++;
            else
                h_check_(false, __FILE__, __LINE__, "round %d client %d: %d %s, want 201 or 409 uniqueness", round, i,
                         jobs[i].status, jobs[i].scim_type);
        }
        h_check_(created == 1 && conflicts == N_THREADS - 1, __FILE__, __LINE__,
                 "round %d: %d created, %d conflicts; want exactly one create", round, created, conflicts);
        snprintf(uid_filter, sizeof uid_filter, "(uid=race.user.%d)", round);
        H_CHECK_INT(h_ldap_count(env.s, H_PEOPLE, uid_filter), 1);
    }
}

static void test_patch_race(void)
{
    static const struct {
        const char *path, *ldap;
    } attrs[] = {
        {"title", "title"},
        {"displayName", "displayname"},
        {"nickName", "scimnickname"},
        {IT_URN_ENT ":employeeNumber", "employeenumber"},
        {"name.givenName", "givenname"},
        {"preferredLanguage", "preferredlanguage"},
    };
    char *id = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"patch.race\","
                                "\"name\":{\"familyName\":\"Race\"}}");

    H_REQUIRE(id != NULL);
    for (int round = 0; round < ROUNDS; round++) {
        job jobs[N_THREADS];
        json_t *e;

        memset(jobs, 0, sizeof jobs);
        for (int i = 0; i < N_THREADS; i++) {
            jobs[i].method = "PATCH";
            snprintf(jobs[i].path, sizeof jobs[i].path, "/Users/%s", id);
            snprintf(jobs[i].body, sizeof jobs[i].body,
                     "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"%s\","
                     "\"value\":\"%s%d\"}]}",
                     attrs[i].path, i == 5 ? "en-" : "v", round);
        }
        run_together(jobs, N_THREADS);
        for (int i = 0; i < N_THREADS; i++)
            h_check_(jobs[i].status == 200, __FILE__, __LINE__, "round %d PATCH %s: %d %s", round, attrs[i].path,
                     jobs[i].status, jobs[i].scim_type);
        e = it_entry_by_id(env.s, id);
        for (int i = 0; i < N_THREADS; i++) {
            char want[32];

            snprintf(want, sizeof want, "%s%d", i == 5 ? "en-" : "v", round);
            h_check_(h_ldap_attr(e, attrs[i].ldap) && strcmp(h_ldap_attr(e, attrs[i].ldap), want) == 0, __FILE__,
                     __LINE__, "round %d: %s is %s, want %s (a concurrent PATCH lost this change)", round,
                     attrs[i].ldap, h_ldap_attr(e, attrs[i].ldap) ? h_ldap_attr(e, attrs[i].ldap) : "(none)", want);
        }
        H_CHECK_STR(h_ldap_attr(e, "uid"), "patch.race");
        H_CHECK_STR(h_ldap_attr(e, "sn"), "Race");
        json_decref(e);
    }
    free(id);
}

static void test_delete_race(void)
{
    for (int round = 0; round < ROUNDS; round++) {
        char body[128];
        char *id;
        job jobs[N_THREADS];
        int deleted = 0, missing = 0;

        snprintf(body, sizeof body, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"delete.race.%d\"}", round);
        id = IT_CREATE(env.g, body);
        H_REQUIRE(id != NULL);
        memset(jobs, 0, sizeof jobs);
        for (int i = 0; i < N_THREADS; i++) {
            jobs[i].method = "DELETE";
            snprintf(jobs[i].path, sizeof jobs[i].path, "/Users/%s", id);
        }
        run_together(jobs, N_THREADS);
        for (int i = 0; i < N_THREADS; i++) {
            if (jobs[i].status == 204)
                deleted++;
            else if (jobs[i].status == 404)
                missing++;
            else
                h_check_(false, __FILE__, __LINE__, "round %d DELETE: %d %s, want 204 or 404", round, jobs[i].status,
                         jobs[i].scim_type);
        }
        h_check_(deleted == 1 && missing == N_THREADS - 1, __FILE__, __LINE__,
                 "round %d: %d deleted, %d not found; want exactly one 204", round, deleted, missing);
        {
            json_t *e = it_entry_by_id(env.s, id);

            H_CHECK(e == NULL);
            json_decref(e);
        }
        free(id);
    }
}

int main(void)
{
    if (it_env_start(&env, NULL)) {
        test_create_race();
        test_patch_race();
        test_delete_race();
    }
    it_env_stop(&env);
    return H_DONE();
}
