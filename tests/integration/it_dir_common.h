/* it_dir_common.h — shared by the suites against other directories
 * (it_ad_*.c: Samba AD DC, it_389ds_*.c: 389-DS), on top of harness.h and
 * it_users_common.h.
 *
 * Each suite starts its server once (provisioning costs seconds) and runs
 * every case against it. When the server cannot run on this machine (not
 * root, packages missing) the suite is skipped — unless
 * S2L_REQUIRE_DIRECTORIES=1 (tests/run.sh), where that is a failure.
 */
#ifndef S2L_IT_DIR_COMMON_H
#define S2L_IT_DIR_COMMON_H

#include "it_users_common.h"
#include "s2l/mapping.h"

typedef struct dir_env {
    h_slapd *s;
    h_gw *g;
} dir_env;

/* Starts the server (start) and a gateway on it; false when the suite must
 * skip. The printed timings are what the suite adds to CI. */
static inline bool dir_env_start(dir_env *env, h_slapd *(*start)(void), const char *(*unavailable)(void),
                                 const char *what)
{
    const char *why = unavailable();
    double t0 = h_now_ms();

    env->s = NULL;
    env->g = NULL;
    if (why != NULL) {
        if (h_require_directories()) {
            h_check_(false, __FILE__, __LINE__, "%s cannot run here: %s", what, why);
            return false;
        }
        H_SKIP("%s cannot run here: %s", what, why);
        return false;
    }
    env->s = start();
    H_REQUIRE(env->s != NULL);
    fprintf(stderr, "%s: ready after %.1f s at %s\n", what, (h_now_ms() - t0) / 1000, h_slapd_uri(env->s));
    /* debug logging: the most the gateway ever writes, checked for passwords at the end */
    env->g = h_gw_start(env->s, "{\"log_level\":\"debug\"}");
    H_REQUIRE(env->g != NULL);
    return true;
}

/* Checks that none of the NULL-terminated secrets appear in the gateway's log. */
static inline void dir_check_log_clean(dir_env *env, const char *const *secrets)
{
    FILE *f = env->g ? fopen(h_gw_log_path(env->g), "rb") : NULL;
    char *log = NULL;
    size_t len = 0;
    if (f) {
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        log = n >= 0 ? calloc((size_t)n + 1, 1) : NULL;
        len = log ? fread(log, 1, (size_t)n, f) : 0;
        fclose(f);
    }
    H_CHECK(log == NULL || len > 0); /* debug logging writes something */
    H_CHECK(log != NULL);
    for (size_t i = 0; log && secrets[i]; i++) {
        bool clean = strstr(log, secrets[i]) == NULL;
        if (!clean)
            fprintf(stderr, "the gateway log holds the password \"%s\"\n", secrets[i]);
        H_CHECK(clean);
    }
    free(log);
}

static inline void dir_env_stop(dir_env *env)
{
    if (env->g)
        h_gw_stop(env->g);
    env->g = NULL;
    h_slapd_destroy(env->s);
    env->s = NULL;
}

/* The LDAP filter finding the entry with SCIM id `id` the way the directory
 * keeps it: objectGUID as escaped bytes (AD), else nsUniqueId (389-DS). */
static inline char *dir_id_filter(h_slapd *s, const char *id)
{
    if (h_dir_kind_of(s) == H_DIR_SAMBA) {
        unsigned char g[16];
        char *f = malloc(16 * 3 + 16);
        size_t o = 0;
        if (f == NULL || !s2l_guid_parse(id, g)) {
            free(f);
            return NULL;
        }
        o += (size_t)sprintf(f, "(objectGUID=");
        for (size_t i = 0; i < 16; i++)
            o += (size_t)sprintf(f + o, "\\%02x", g[i]);
        sprintf(f + o, ")");
        return f;
    }
    return it_ldap_eq("nsUniqueId", id);
}

/* The entry with SCIM id `id`, read over LDAP (not through the gateway); NULL if none. */
static inline json_t *dir_entry(h_slapd *s, const char *id)
{
    char *f = id ? dir_id_filter(s, id) : NULL;
    json_t *all = f ? h_ldap_search(s, h_dir_suffix(s), f, NULL) : NULL;
    json_t *e = json_array_size(all) == 1 ? json_incref(json_array_get(all, 0)) : NULL;
    json_decref(all);
    free(f);
    return e;
}

static inline char *dir_dn(h_slapd *s, const char *id)
{
    json_t *e = dir_entry(s, id);
    char *dn = e && h_jstr(e, "dn") ? strdup(h_jstr(e, "dn")) : NULL;
    json_decref(e);
    return dn;
}

/* "/Groups/<id>" or "/Users/<id>" (malloc'd). */
static inline char *dir_path(const char *endpoint, const char *id)
{
    size_t n = strlen(endpoint) + strlen(id) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", endpoint, id);
    return p;
}

/* A PatchOp on endpoint/id. */
static inline h_resp dir_patch(h_gw *g, const char *endpoint, const char *id, const char *operations)
{
    size_t n = strlen(operations) + strlen(IT_URN_PATCH) + 64;
    char *body = malloc(n), *path = dir_path(endpoint, id);
    h_resp r;
    snprintf(body, n, "{\"schemas\":[\"%s\"],\"Operations\":%s}", IT_URN_PATCH, operations);
    r = h_http(g, "PATCH", path, body, NULL);
    free(body);
    free(path);
    return r;
}

static inline h_resp dir_get(h_gw *g, const char *endpoint, const char *id)
{
    char *path = dir_path(endpoint, id);
    h_resp r = h_http(g, "GET", path, NULL, NULL);
    free(path);
    return r;
}

static inline h_resp dir_delete(h_gw *g, const char *endpoint, const char *id)
{
    char *path = dir_path(endpoint, id);
    h_resp r = h_http(g, "DELETE", path, NULL, NULL);
    free(path);
    return r;
}

/* Whether a SCIM multi-valued reference (members, groups) holds id. */
static inline bool dir_refs_hold(const json_t *arr, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *x = json_string_value(json_object_get(v, "value"));
        if (x && strcmp(x, id) == 0)
            return true;
    }
    return false;
}

/* Whether entry holds DN value dn for attr, compared as DNs (case-insensitively). */
static inline bool dir_has_dn(const json_t *entry, const char *attr, const char *dn)
{
    return h_ldap_has_value(entry, attr, dn, true);
}

#endif
