/* it_reload.c — SIGHUP reloads configuration, mapping and credentials as a
 * new generation, against a real slapd:
 *
 *  - in flight: a PATCH whose LDAP modify is held back (h_proxy) while the
 *    mapping changes under it finishes on the generation it started on (its
 *    title lands where the old mapping puts it), the next PATCH uses the new
 *    mapping;
 *  - under a bounded load (threads doing GET and PATCH, fixed count) several
 *    reloads that switch the mapping back and forth fail no request;
 *  - a new token works after the reload, a removed one stops working;
 *  - a broken mapping is refused: logged with the reason (the file and what
 *    is wrong), the old generation keeps serving, --check-config refuses the
 *    same file with the same reason, scim2ldap_config_reloads_total{result=
 *    "failure"} counts it;
 *  - the LDAP pool is kept when the ldap section did not change and rebuilt
 *    when it did (log ldap_pool=kept / rebuilt), and requests work after both;
 *  - a change that needs a restart (listen) is refused with that reason.
 */
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "it_idp_common.h"

#define TAG_MODIFY 0x66
#define NEW_TOKEN "new-token-0123456789abcdef"
#define OLD_TOKEN "old-token-0123456789abcdef"
#define N_THREADS 3
#define PER_THREAD 60

static h_slapd *slapd;
static h_proxy *proxy;
static h_gw *gw;
static char *mapping_a, *mapping_b;
static json_t *cfg;  /* the gateway's configuration file as JSON */
static int reloads;  /* successful ones so far */

static char *mapping_with_title_in(const char *attr)
{
    json_t *m = it_default_mapping();
    it_mapping_drop(m, "User", "title");
    json_array_append_new(it_mapping_attrs(m, "User"), json_pack("{s:s, s:s}", "scim", "title", "ldap", attr));
    char *path = it_mapping_write(m);
    json_decref(m);
    return path;
}

/* Writes cfg with the given mapping and sends SIGHUP; waits for the outcome. */
static void reload_with(const char *mapping, bool expect_ok)
{
    json_object_set_new(cfg, "mapping", json_string(mapping));
    H_REQUIRE(json_dump_file(cfg, h_gw_config_path(gw), JSON_INDENT(2)) == 0);
    static int failures;
    H_CHECK(h_gw_signal(gw, SIGHUP) == 0);
    if (expect_ok)
        H_CHECK(h_gw_log_wait(gw, "event=reloaded what=config", ++reloads, 10000));
    else
        H_CHECK(h_gw_log_wait(gw, "event=reload_failed what=config", ++failures, 10000));
}

static char *user_path(const char *id)
{
    char *p = malloc(256);
    snprintf(p, 256, "/Users/%s", id);
    return p;
}

static char *patch_title(const char *v)
{
    char *b = malloc(512);
    snprintf(b, 512,
             "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],"
             "\"Operations\":[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"%s\"}]}",
             v);
    return b;
}

typedef struct patch_job {
    const char *path;
    const char *body;
    int status;
} patch_job;

static void *run_patch(void *arg)
{
    patch_job *j = arg;
    h_resp r = h_http(gw, "PATCH", j->path, j->body, NULL);
    j->status = r.status;
    h_resp_free(&r);
    return NULL;
}

static void test_in_flight(const char *id, const char *dn)
{
    char *path = user_path(id);
    char *body = patch_title("Held");
    patch_job j = {path, body, 0};
    h_proxy_hold_at(proxy, TAG_MODIFY, 1);
    pthread_t th;
    H_REQUIRE(pthread_create(&th, NULL, run_patch, &j) == 0);
    double end = h_now_ms() + 10000;
    while (!h_proxy_holding(proxy) && h_now_ms() < end)
        usleep(10000);
    H_REQUIRE(h_proxy_holding(proxy));
    reload_with(mapping_b, true); /* title -> businessCategory from now on */
    h_proxy_release(proxy);
    pthread_join(th, NULL);
    H_CHECK_INT(j.status, 200);
    json_t *e = h_ldap_entry(slapd, dn);
    H_CHECK_STR(h_ldap_attr(e, "title"), "Held"); /* the old generation's mapping */
    H_CHECK(h_ldap_attr(e, "businesscategory") == NULL);
    json_decref(e);
    free(body);

    body = patch_title("After");
    h_resp r = h_http(gw, "PATCH", path, body, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "title"), "After");
    h_resp_free(&r);
    e = h_ldap_entry(slapd, dn);
    H_CHECK_STR(h_ldap_attr(e, "businesscategory"), "After"); /* the new one */
    H_CHECK_STR(h_ldap_attr(e, "title"), "Held");
    json_decref(e);
    free(body);
    free(path);
}

typedef struct load_job {
    const char *path;
    int n_failed;
    int n_done;
    char first_failure[400];
} load_job;

static void *run_load(void *arg)
{
    load_job *j = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],"
                 "\"Operations\":[{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"Load %d\"}]}",
                 i);
        h_resp r = i % 2 ? h_http(gw, "PATCH", j->path, body, NULL) : h_http(gw, "GET", j->path, NULL, NULL);
        if (r.status != 200) {
            if (j->n_failed++ == 0)
                snprintf(j->first_failure, sizeof j->first_failure, "%s -> %d %s", i % 2 ? "PATCH" : "GET",
                         r.status, r.err);
        }
        __atomic_add_fetch(&j->n_done, 1, __ATOMIC_RELAXED);
        h_resp_free(&r);
    }
    return NULL;
}

static void test_under_load(const char *id)
{
    char *path = user_path(id);
    load_job jobs[N_THREADS];
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        jobs[i] = (load_job){.path = path};
        H_REQUIRE(pthread_create(&th[i], NULL, run_load, &jobs[i]) == 0);
    }
    /* Reloads while the load runs (the load is bounded by count; the reloads by number). */
    for (int k = 0; k < 4; k++) {
        /* each reload after a few more requests were answered: interleaved, whatever the machine's speed */
        double end = h_now_ms() + 20000;
        for (;;) {
            int d = 0;
            for (int i = 0; i < N_THREADS; i++)
                d += __atomic_load_n(&jobs[i].n_done, __ATOMIC_RELAXED);
            if (d >= (k + 1) * 10 || h_now_ms() > end)
                break;
            usleep(2000);
        }
        reload_with(k % 2 ? mapping_b : mapping_a, true);
    }
    /* The reloads happened while the load ran (a racy read, only for this check). */
    int done_during = 0;
    for (int i = 0; i < N_THREADS; i++)
        done_during += __atomic_load_n(&jobs[i].n_done, __ATOMIC_RELAXED);
    fprintf(stderr, "requests done when the last reload was logged: %d of %d\n", done_during, N_THREADS * PER_THREAD);
    H_CHECK(done_during > 0 && done_during < N_THREADS * PER_THREAD);
    int failed = 0, done = 0;
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(th[i], NULL);
        failed += jobs[i].n_failed;
        done += jobs[i].n_done;
        if (jobs[i].n_failed)
            fprintf(stderr, "load thread %d: %d failed, first: %s\n", i, jobs[i].n_failed, jobs[i].first_failure);
    }
    H_CHECK_INT(failed, 0);
    H_CHECK_INT(done, N_THREADS * PER_THREAD);
    free(path);
}

static void test_tokens(const char *id)
{
    char *path = user_path(id);
    const char *const old_tok[] = {"Authorization: Bearer " OLD_TOKEN, NULL};
    const char *const new_tok[] = {"Authorization: Bearer " NEW_TOKEN, NULL};
    h_resp r = h_http(gw, "GET", path, NULL, old_tok);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    r = h_http(gw, "GET", path, NULL, new_tok);
    H_CHECK_STATUS(r, 401);
    h_resp_free(&r);
    json_t *toks = json_pack("[s, s]", H_TOKEN, NEW_TOKEN);
    json_object_set_new(json_object_get(cfg, "auth"), "bearer_tokens", toks);
    reload_with(mapping_b, true);
    r = h_http(gw, "GET", path, NULL, new_tok);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    r = h_http(gw, "GET", path, NULL, old_tok);
    H_CHECK_STATUS(r, 401);
    h_resp_free(&r);
    free(path);
}

static void test_broken(const char *id, const char *dn)
{
    /* The mapping file itself becomes broken: an unknown key. */
    json_t *m = it_default_mapping();
    json_object_set_new(m, "resource_tipes", json_array());
    char *broken = it_mapping_write(m);
    json_decref(m);
    reload_with(broken, false);
    char *line = it_log_line(gw, "reload_failed", NULL);
    H_CHECK(line && strstr(line, broken) != NULL && strstr(line, "resource_tipes") != NULL &&
            strstr(line, "action=kept_old") != NULL);
    if (line)
        fprintf(stderr, "refused as expected: %s\n", line);
    free(line);
    /* --check-config refuses the same file for the same reason. */
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s --check-config %s 2>&1", S2L_BINARY, h_gw_config_path(gw));
    FILE *p = popen(cmd, "r");
    char out[4096] = "";
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = 0;
    int st = p ? pclose(p) : -1;
    H_CHECK(st != 0);
    H_CHECK(strstr(out, "resource_tipes") != NULL);

    /* The old generation (mapping B) serves on. */
    char *path = user_path(id);
    char *body = patch_title("Still B");
    h_resp r = h_http(gw, "PATCH", path, body, NULL);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    json_t *e = h_ldap_entry(slapd, dn);
    H_CHECK_STR(h_ldap_attr(e, "businesscategory"), "Still B");
    json_decref(e);

    /* metrics count both outcomes */
    r = h_http_at(gw, "GET", "/metrics", NULL, NULL);
    H_CHECK_STATUS(r, 200);
    char want[128];
    snprintf(want, sizeof want, "scim2ldap_config_reloads_total{result=\"success\"} %d\n", reloads);
    H_CHECK(r.body && strstr(r.body, want) != NULL);
    H_CHECK(r.body && strstr(r.body, "scim2ldap_config_reloads_total{result=\"failure\"} 1\n") != NULL);
    snprintf(want, sizeof want, "scim2ldap_config_generation %d\n", reloads + 1);
    H_CHECK(r.body && strstr(r.body, want) != NULL);
    h_resp_free(&r);
    unlink(broken);
    free(broken);
    free(body);
    free(path);
}

static void test_pool(const char *id)
{
    char *path = user_path(id);
    /* Unchanged ldap section: kept (every reload so far). */
    H_CHECK(h_gw_log_wait(gw, "ldap_pool=kept", reloads, 1000));
    char *line = it_log_line(gw, "reloaded", (const char *const[]){"ldap_pool=rebuilt", NULL});
    H_CHECK(line == NULL);
    free(line);
    /* Straight to slapd instead of through the proxy, with another pool size: rebuilt. */
    json_t *ldap = json_object_get(cfg, "ldap");
    json_object_set_new(ldap, "uri", json_string(h_slapd_uri(slapd)));
    json_object_set_new(ldap, "connections", json_integer(2));
    int before = h_proxy_count(proxy, 0x63);
    reload_with(mapping_b, true);
    line = it_log_line(gw, "reloaded", (const char *const[]){"ldap_pool=rebuilt", NULL});
    H_CHECK(line != NULL);
    free(line);
    /* The new pool needs a moment to bind: /readyz says when. */
    double end = h_now_ms() + 10000;
    int st = 0;
    while (h_now_ms() < end) {
        h_resp r = h_http_at(gw, "GET", "/readyz", NULL, NULL);
        st = r.status;
        h_resp_free(&r);
        if (st == 200)
            break;
        usleep(20000);
    }
    H_CHECK_INT(st, 200);
    h_resp r = h_http(gw, "GET", path, NULL, NULL);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    H_CHECK_INT(h_proxy_count(proxy, 0x63), before); /* the GET did not go through the old pool */
    free(path);

    /* listen cannot change without a restart: refused, and said so. */
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", h_free_port());
    json_t *old_listen = json_incref(json_object_get(cfg, "listen"));
    json_object_set_new(cfg, "listen", json_string(listen));
    reload_with(mapping_b, false);
    line = it_log_line(gw, "reload_failed", (const char *const[]){"listen changed", NULL});
    H_CHECK(line != NULL);
    free(line);
    json_object_set_new(cfg, "listen", old_listen);
}

int main(void)
{
    slapd = h_slapd_start(NULL);
    H_REQUIRE(slapd != NULL);
    proxy = h_proxy_start(h_slapd_port(slapd));
    H_REQUIRE(proxy != NULL);
    mapping_a = mapping_with_title_in("title");
    mapping_b = mapping_with_title_in("businessCategory");
    char extra[4500];
    snprintf(extra, sizeof extra,
             "{\"ldap\":{\"uri\":\"%s\",\"timeout_ms\":60000},\"mapping\":\"%s\","
             "\"auth\":{\"bearer_tokens\":[\"%s\",\"%s\"]}}",
             h_proxy_uri(proxy), mapping_a, H_TOKEN, OLD_TOKEN);
    gw = h_gw_start(slapd, extra);
    H_REQUIRE(gw != NULL);
    char *text = it_read_file(h_gw_config_path(gw));
    cfg = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    H_REQUIRE(cfg != NULL);

    char *id = IT_CREATE(gw, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"rl.user\","
                             "\"name\":{\"givenName\":\"R\",\"familyName\":\"L\"}}");
    H_REQUIRE(id != NULL);
    const char *dn = "uid=rl.user," H_PEOPLE;
    test_in_flight(id, dn);
    test_under_load(id);
    test_tokens(id);
    test_broken(id, dn);
    test_pool(id);
    free(id);

    H_CHECK(h_gw_stop(gw)); /* also: no sanitizer report (retired generations freed) */
    json_decref(cfg);
    h_proxy_stop(proxy);
    unlink(mapping_a);
    unlink(mapping_b);
    free(mapping_a);
    free(mapping_b);
    h_slapd_destroy(slapd);
    return H_DONE();
}
