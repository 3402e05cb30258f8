/* it_permanent_errors.c — a request that can never succeed is a 4xx, one that
 * can pass later a 503 + Retry-After (issue 11, item 2), against a real slapd.
 *
 * slapd 2.5's back-mdb stores each RDN twice plus 20 bytes in one record of
 * its DN index, which LMDB limits to 511 bytes: an RDN over 245 bytes fails
 * with LDAP 80 "other" on every attempt (no text on an add, "DN index add
 * failed" on a rename). Checked here:
 *  1. the gateway refuses such names itself (limits.max_rdn_bytes, default
 *     245) with 400 invalidValue, without sending anything, on POST, PUT and
 *     PATCH, for users (uid=<userName>) and groups (cn=<displayName>); names
 *     exactly at the limit are created;
 *  2. with the check off (max_rdn_bytes 0), slapd's own 80 reaches the error
 *     table and is still a 400 without Retry-After, on add and on rename;
 *  3. a transient 80 (the database full: "txn_commit failed") is a 503 with
 *     Retry-After, nothing is half-written, and the same request succeeds
 *     once the directory has room again.
 * The directory is checked directly each time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "it_users_common.h"

#define URN_GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    H_REQUIRE(s != NULL);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static char *user_body(const char *user_name)
{
    json_t *b = json_pack("{s:[s], s:s}", "schemas", IT_URN_USER, "userName", user_name);
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    H_REQUIRE(text != NULL);
    return text;
}

static char *group_body(const char *name)
{
    json_t *b = json_pack("{s:[s], s:s, s:[]}", "schemas", URN_GROUP, "displayName", name, "members");
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    H_REQUIRE(text != NULL);
    return text;
}

static long count(h_slapd *s, const char *base, const char *attr, const char *value)
{
    char *f = it_ldap_eq(attr, value);
    long n = h_ldap_count(s, base, f);
    free(f);
    return n;
}

static long adds_and_renames(h_slapd *s)
{
    h_op_counts c;
    H_REQUIRE(h_slapd_op_counts(s, &c) == 0);
    return c.add + c.modrdn;
}

/* A 400 invalidValue without Retry-After whose detail names `what`. */
static void check_permanent(const h_resp *r, const char *what)
{
    it_check_error_(r, 400, "invalidValue", __FILE__, __LINE__);
    H_CHECK(h_header(r, "Retry-After") == NULL);
    const char *detail = h_jstr(r->json, "detail");
    if (detail == NULL || strstr(detail, what) == NULL)
        fprintf(stderr, "detail \"%s\" does not name %s\n", detail ? detail : "(none)", what);
    H_CHECK(detail != NULL && strstr(detail, what) != NULL);
}

static void names_checked_before_sending(it_env *env)
{
    h_gw *g = env->g;
    h_slapd *s = env->s;

    /* At the limit: "uid=" + 241 = 245 bytes, "cn=" + 242 = 245. */
    char *ok_user = repeat('a', 241), *ok_group = repeat('g', 242);
    char *body = user_body(ok_user);
    char *user_id = IT_CREATE(g, body);
    free(body);
    H_CHECK(user_id != NULL);
    H_CHECK_INT(count(s, H_PEOPLE, "uid", ok_user), 1);
    body = group_body(ok_group);
    h_resp r = h_http(g, "POST", "/Groups", body, NULL);
    H_CHECK_STATUS(r, 201);
    char *group_id = h_jstr(r.json, "id") ? strdup(h_jstr(r.json, "id")) : NULL;
    h_resp_free(&r);
    free(body);
    H_CHECK_INT(count(s, H_GROUPS, "cn", ok_group), 1);

    /* Over it: refused before anything reaches the directory. */
    char *before = h_ldap_snapshot(s);
    long ops = adds_and_renames(s);
    char *long_user = repeat('a', 242), *long_group = repeat('g', 500);

    body = user_body(long_user);
    r = h_http(g, "POST", "/Users", body, NULL);
    check_permanent(&r, "userName");
    h_resp_free(&r);
    free(body);

    body = group_body(long_group);
    r = h_http(g, "POST", "/Groups", body, NULL);
    check_permanent(&r, "displayName");
    h_resp_free(&r);
    free(body);

    /* A rename to a long name: PATCH and PUT. */
    char *ops_text = NULL;
    {
        json_t *o = json_pack("[{s:s, s:s, s:s}]", "op", "replace", "path", "userName", "value", long_user);
        ops_text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
    }
    r = it_patch(g, user_id, ops_text);
    check_permanent(&r, "userName");
    h_resp_free(&r);
    free(ops_text);

    char *path = it_user_path(user_id);
    body = user_body(long_user);
    r = h_http(g, "PUT", path, body, NULL);
    check_permanent(&r, "userName");
    h_resp_free(&r);
    free(body);
    free(path);

    if (group_id) {
        size_t n = strlen(group_id) + 16;
        char *gpath = malloc(n);
        snprintf(gpath, n, "/Groups/%s", group_id);
        json_t *p = json_pack("{s:[s], s:[{s:s, s:s, s:s}]}", "schemas", IT_URN_PATCH, "Operations", "op", "replace",
                              "path", "displayName", "value", long_group);
        char *ptext = json_dumps(p, JSON_COMPACT);
        json_decref(p);
        r = h_http(g, "PATCH", gpath, ptext, NULL);
        check_permanent(&r, "displayName");
        h_resp_free(&r);
        free(ptext);
        free(gpath);
    }

    char *after = h_ldap_snapshot(s);
    H_CHECK(h_snapshot_same(before, after));
    H_CHECK_INT(adds_and_renames(s), ops);
    free(before);
    free(after);
    free(long_user);
    free(long_group);
    free(ok_user);
    free(ok_group);
    free(user_id);
    free(group_id);
}

/* With the gateway's check off, slapd answers 80 itself. */
static void directory_answer_is_permanent_too(it_env *env)
{
    h_gw *g = h_gw_start(env->s, "{\"limits\":{\"max_rdn_bytes\":0}}");
    H_REQUIRE(g != NULL);
    h_slapd *s = env->s;

    char *long_user = repeat('b', 300);
    char *before = h_ldap_snapshot(s);
    long ops = adds_and_renames(s);

    /* Add: 80 without a text. */
    char *body = user_body(long_user);
    h_resp r = h_http(g, "POST", "/Users", body, NULL);
    check_permanent(&r, "too long");
    h_resp_free(&r);
    free(body);

    /* Rename: 80 "DN index add failed". */
    body = user_body("short.name");
    char *id = IT_CREATE(g, body);
    free(body);
    H_REQUIRE(id != NULL);
    char *mid = h_ldap_snapshot(s);
    json_t *o = json_pack("[{s:s, s:s, s:s}]", "op", "replace", "path", "userName", "value", long_user);
    char *ops_text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    r = it_patch(g, id, ops_text);
    check_permanent(&r, "too long");
    h_resp_free(&r);
    free(ops_text);
    char *after = h_ldap_snapshot(s);
    H_CHECK(h_snapshot_same(mid, after));
    H_CHECK_INT(count(s, H_PEOPLE, "uid", long_user), 0);
    H_CHECK_INT(count(s, H_PEOPLE, "uid", "short.name"), 1);
    /* The add and the rename did reach slapd (plus the successful add). */
    H_CHECK(adds_and_renames(s) >= ops + 3);

    free(before);
    free(mid);
    free(after);
    free(id);
    free(long_user);
    h_gw_stop(g);
}

/* Rewrites slapd.conf's maxsize (bytes) and restarts slapd with it. When the
 * database file is already bigger, LMDB keeps its size: no room to grow. */
static void restart_with_maxsize(h_slapd *s, const char *size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/slapd.conf", h_slapd_dir(s));
    FILE *f = fopen(path, "r");
    H_REQUIRE(f != NULL);
    char *text = NULL;
    size_t cap = 0, len = 0;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char out[4200];
        if (strncmp(line, "maxsize ", 8) == 0)
            snprintf(out, sizeof out, "maxsize %s\n", size);
        else
            snprintf(out, sizeof out, "%s", line);
        size_t n = strlen(out);
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            text = realloc(text, cap);
            H_REQUIRE(text != NULL);
        }
        memcpy(text + len, out, n + 1);
        len += n;
    }
    fclose(f);
    f = fopen(path, "w");
    H_REQUIRE(f != NULL && text != NULL);
    fputs(text, f);
    fclose(f);
    free(text);
    H_REQUIRE(h_slapd_restart(s) == 0);
}

/* After slapd restarted, the gateway's pool reconnects with backoff and
 * directory requests answer 503 until then: waits (bounded) for other
 * answers. With several workers (S2L_TEST_WORKERS) each has its own pool and
 * a connection lands on any of them, so it takes 10 answers in a row on new
 * connections (a worker still reconnecting answers 503 and starts the count
 * again). True when they are 200. */
static bool wait_directory_back(h_gw *g, int max_ms)
{
    double t0 = h_now_ms();
    int status = 0, in_a_row = 0;
    for (;;) {
        h_resp r = h_http(g, "GET", "/Users?filter=userName%20eq%20%22readiness.probe%22", NULL, NULL);
        status = r.status;
        h_resp_free(&r);
        in_a_row = status == 503 ? 0 : in_a_row + 1;
        if (in_a_row >= 10 || (status != 503 && status != 200) || h_now_ms() - t0 > max_ms)
            break;
        usleep(status == 503 ? 20000 : 1000);
    }
    return status == 200 && in_a_row >= 10;
}

static void transient_other_is_retryable(it_env *env)
{
    h_slapd *s = env->s;
    h_gw *g = env->g;

    restart_with_maxsize(s, "65536");
    H_REQUIRE(wait_directory_back(g, 20000));

    /* Fill the database: creates succeed until one does not. */
    char name[64], *body = NULL;
    h_resp r = {0};
    int created = 0;
    for (int i = 0; i < 400; i++) {
        snprintf(name, sizeof name, "fill.%03d", i);
        body = user_body(name);
        r = h_http(g, "POST", "/Users", body, NULL);
        free(body);
        if (r.status != 201)
            break;
        created++;
        h_resp_free(&r);
    }
    fprintf(stderr, "database full after %d creates\n", created);
    it_check_error_(&r, 503, NULL, __FILE__, __LINE__);
    const char *ra = h_header(&r, "Retry-After");
    H_CHECK(ra != NULL && atoi(ra) >= 1);
    const char *detail = h_jstr(r.json, "detail");
    H_CHECK(detail != NULL && strstr(detail, "txn_commit failed") != NULL);
    h_resp_free(&r);
    /* Nothing of the refused user was written. */
    H_CHECK_INT(count(s, H_PEOPLE, "uid", name), 0);

    /* Room again: the same request now succeeds, with no restart of the gateway. */
    restart_with_maxsize(s, "4294967296");
    H_REQUIRE(wait_directory_back(g, 20000));
    body = user_body(name);
    char *id = IT_CREATE(g, body);
    free(body);
    H_CHECK(id != NULL);
    H_CHECK_INT(count(s, H_PEOPLE, "uid", name), 1);
    free(id);
}

int main(void)
{
    it_env env;
    if (!it_env_start(&env, NULL))
        return H_DONE();
    names_checked_before_sending(&env);
    directory_answer_is_permanent_too(&env);
    transient_other_is_retryable(&env);
    it_env_stop(&env);
    return H_DONE();
}
