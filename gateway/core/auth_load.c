/* auth_load.c — building the auth state from the configuration (see include/s2l/auth.h).
 *
 * auth.credentials is kept by config.c as the JSON the operator wrote; this
 * file is the one place that knows its shape. Errors name the file and the
 * JSON path ("config.json: auth.credentials[2].password_hash: ..."), never a
 * secret's value.
 */
#include <errno.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth_internal.h"

#define FAILURE_TABLE_SIZE 4096
#define MAX_SKEW_S 600

typedef struct loader {
    const s2l_config *cfg;
    const char *file;
    char *dir;
    const char *const *known_types;
    char *errbuf;
    size_t errlen;
} loader;

static int fail_at(loader *L, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail_at(loader *L, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(L->errbuf, L->errlen, "%s: %s: %s", L->file, path, msg);
    return -1;
}

static char *resolve(const loader *L, const char *p)
{
    if (p[0] == '/')
        return strdup(p);
    size_t n = strlen(L->dir) + strlen(p) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", L->dir, p);
    return out;
}

static void free_secret(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

/* ---- generic readers ---- */

static bool in_list(const char *k, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(k, list[i]) == 0)
            return true;
    return false;
}

/* Exactly one of <base>, <base>_file, <base>_env gives the secret (malloc'd). */
static int read_secret(loader *L, const json_t *obj, const char *path, const char *base, char **out)
{
    char kf[64], ke[64], p[160];
    snprintf(kf, sizeof kf, "%s_file", base);
    snprintf(ke, sizeof ke, "%s_env", base);
    const json_t *v = json_object_get(obj, base), *f = json_object_get(obj, kf), *e = json_object_get(obj, ke);
    int given = (v != NULL) + (f != NULL) + (e != NULL);
    *out = NULL;
    if (given != 1)
        return fail_at(L, path, "give exactly one of %s, %s and %s", base, kf, ke);
    if (v) {
        snprintf(p, sizeof p, "%s.%s", path, base);
        if (!json_is_string(v) || json_string_length(v) == 0)
            return fail_at(L, p, "must be a non-empty string");
        *out = strdup(json_string_value(v));
    } else if (e) {
        snprintf(p, sizeof p, "%s.%s", path, ke);
        const char *name = json_string_value(e);
        if (name == NULL || name[0] == 0)
            return fail_at(L, p, "must name an environment variable");
        const char *val = getenv(name);
        if (val == NULL || val[0] == 0)
            return fail_at(L, p, "the environment variable %s is not set", name);
        *out = strdup(val);
    } else {
        snprintf(p, sizeof p, "%s.%s", path, kf);
        if (!json_is_string(f))
            return fail_at(L, p, "must be a file name");
        char *file = resolve(L, json_string_value(f));
        FILE *fp = file ? fopen(file, "r") : NULL;
        if (fp == NULL) {
            int rc = fail_at(L, p, "cannot read %s: %s", file ? file : "?", strerror(errno));
            free(file);
            return rc;
        }
        char buf[4096];
        size_t n = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
        free(file);
        buf[n] = 0;
        /* A trailing newline is an editor artefact, not part of the secret. */
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = 0;
        if (n == 0 || strlen(buf) != n)
            return fail_at(L, p, "the file is empty or holds a NUL byte");
        *out = strdup(buf);
        OPENSSL_cleanse(buf, sizeof buf);
    }
    if (*out == NULL)
        return fail_at(L, path, "out of memory");
    return 0;
}

/* A string or an array of strings → a NULL-terminated copy. */
static int read_strings(loader *L, const json_t *v, const char *path, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (json_is_string(v)) {
        *out = calloc(2, sizeof **out);
        if (*out == NULL || ((*out)[0] = strdup(json_string_value(v))) == NULL)
            return fail_at(L, path, "out of memory");
        *n = 1;
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail_at(L, path, "must be a string or a non-empty array of strings");
    *out = calloc(json_array_size(v) + 1, sizeof **out);
    if (*out == NULL)
        return fail_at(L, path, "out of memory");
    size_t i;
    const json_t *s;
    json_array_foreach(v, i, s) {
        if (!json_is_string(s) || json_string_length(s) == 0)
            return fail_at(L, path, "must hold non-empty strings");
        if (((*out)[i] = strdup(json_string_value(s))) == NULL)
            return fail_at(L, path, "out of memory");
        (*n)++;
    }
    return 0;
}

static void free_strings(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

/* Two digits at s, as a number; -1 if they are not digits. */
static int two(const char *s)
{
    return s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' ? (s[0] - '0') * 10 + (s[1] - '0') : -1;
}

/* ISO 8601: "2026-01-31" (valid through that day, UTC) or
 * "2026-01-31T18:00:00Z" / "...+02:00" (fraction of seconds allowed). */
static int parse_time(const char *s, int64_t *out)
{
    struct tm tm = {0};
    size_t len = strlen(s);
    if (len < 10 || s[4] != '-' || s[7] != '-')
        return -1;
    int y1 = two(s), y2 = two(s + 2), mo = two(s + 5), d = two(s + 8);
    if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || d > 31)
        return -1;
    tm.tm_year = y1 * 100 + y2 - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    int64_t offset = 0;
    if (len == 10) {
        tm.tm_mday += 1; /* the whole day counts */
    } else {
        const char *t = s + 10;
        if ((*t != 'T' && *t != 't' && *t != ' ') || strlen(t) < 6)
            return -1;
        int h = two(t + 1), mi = two(t + 4), sec = 0;
        if (h < 0 || h > 23 || t[3] != ':' || mi < 0 || mi > 59)
            return -1;
        t += 6;
        if (*t == ':') {
            sec = two(t + 1);
            if (sec < 0 || sec > 60)
                return -1;
            t += 3;
            if (*t == '.') {
                t++;
                if (*t < '0' || *t > '9')
                    return -1;
                while (*t >= '0' && *t <= '9')
                    t++;
            }
        }
        if ((*t == 'Z' || *t == 'z') && t[1] == 0) {
            offset = 0;
        } else if ((*t == '+' || *t == '-') && strlen(t) >= 3) {
            int oh = two(t + 1), om = 0;
            const char *m = t + 3;
            if (*m == ':')
                m++;
            if (*m) {
                om = two(m);
                if (om < 0 || m[2] != 0)
                    return -1;
            }
            if (oh < 0 || oh > 23 || om > 59)
                return -1;
            offset = (oh * 3600 + om * 60) * (*t == '+' ? 1 : -1);
        } else {
            return -1; /* a time without a zone is ambiguous */
        }
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
    }
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (int64_t)t - offset;
    return 0;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CRED_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._:@+-[]", c)))
            return false;
    }
    return true;
}

static bool type_known(const loader *L, const char *t)
{
    if (L->known_types == NULL)
        return true;
    for (size_t i = 0; L->known_types[i]; i++) {
        const char *k = L->known_types[i];
        if (strcasecmp(k, t) == 0 || (k[0] == '/' && strcasecmp(k + 1, t) == 0))
            return true;
    }
    return false;
}

/* ---- one credential ---- */

static const char *const common_keys[] = {"name", "kind", "not_after", "read_only", "resource_types", "allow_from",
                                          "rate_limit", NULL};
static const char *const bearer_keys[] = {"token", "token_file", "token_env", NULL};
static const char *const basic_keys[] = {"username", "password_hash", "password_hash_file", "password_hash_env", NULL};
static const char *const client_keys[] = {"client_id", "secret_hash", "secret_hash_file", "secret_hash_env", NULL};
static const char *const jwt_keys[] = {"issuer", "audience", "jwks_file", "public_key_file", "public_key_kid",
                                       "algorithms", "clock_skew_s", NULL};

static int load_common(loader *L, const json_t *j, const char *path, s2l_auth_cred *c, int64_t now_ms)
{
    char p[160];
    const json_t *v;
    if ((v = json_object_get(j, "not_after")) != NULL) {
        snprintf(p, sizeof p, "%s.not_after", path);
        if (!json_is_string(v) || parse_time(json_string_value(v), &c->not_after_s) < 0)
            return fail_at(L, p, "must be an ISO 8601 date (2026-01-31) or time with zone (2026-01-31T18:00:00Z)");
        if (c->not_after_s <= 0)
            return fail_at(L, p, "is out of range");
    }
    if ((v = json_object_get(j, "read_only")) != NULL) {
        snprintf(p, sizeof p, "%s.read_only", path);
        if (!json_is_boolean(v))
            return fail_at(L, p, "must be true or false");
        c->read_only = json_is_true(v);
    }
    if ((v = json_object_get(j, "resource_types")) != NULL) {
        snprintf(p, sizeof p, "%s.resource_types", path);
        if (read_strings(L, v, p, &c->resource_types, &c->n_resource_types) < 0)
            return -1;
        for (size_t i = 0; i < c->n_resource_types; i++)
            if (!type_known(L, c->resource_types[i]))
                return fail_at(L, p, "\"%s\" is not a resource type of the mapping", c->resource_types[i]);
    }
    if ((v = json_object_get(j, "allow_from")) != NULL) {
        snprintf(p, sizeof p, "%s.allow_from", path);
        if (!json_is_array(v) || json_array_size(v) == 0)
            return fail_at(L, p, "must be a non-empty array of CIDR blocks");
        c->allow_from = calloc(json_array_size(v), sizeof *c->allow_from);
        if (c->allow_from == NULL)
            return fail_at(L, p, "out of memory");
        size_t i;
        const json_t *s;
        json_array_foreach(v, i, s) {
            const char *why = "must be a string";
            if (!json_is_string(s) || s2l_cidr_parse(json_string_value(s), &c->allow_from[i], &why) < 0)
                return fail_at(L, p, "[%zu] %s", i, why);
            c->n_allow_from++;
        }
    }
    if ((v = json_object_get(j, "rate_limit")) != NULL) {
        snprintf(p, sizeof p, "%s.rate_limit", path);
        const json_t *ps = json_object_get(v, "per_second"), *b = json_object_get(v, "burst");
        const char *k;
        const json_t *x;
        if (!json_is_object(v))
            return fail_at(L, p, "must be an object {\"per_second\": n, \"burst\": n}");
        json_object_foreach((json_t *)v, k, x) {
            if (strcmp(k, "per_second") != 0 && strcmp(k, "burst") != 0)
                return fail_at(L, p, "%s: unknown key", k);
        }
        if (!json_is_number(ps) || json_number_value(ps) <= 0 || json_number_value(ps) > 1e6)
            return fail_at(L, p, "per_second must be a number above 0");
        c->rate.per_second = json_number_value(ps);
        if (b != NULL && (!json_is_integer(b) || json_integer_value(b) < 1 || json_integer_value(b) > 1000000))
            return fail_at(L, p, "burst must be an integer from 1 to 1000000");
        /* Without a burst, one second's worth of requests may come at once. */
        c->rate.burst = b ? (double)json_integer_value(b) : (c->rate.per_second < 1 ? 1 : c->rate.per_second);
        c->rate_limited = true;
    }
    return 0;
}

static int load_bearer(loader *L, const json_t *j, const char *path, s2l_auth_cred *c)
{
    char *tok = NULL;
    if (read_secret(L, j, path, "token", &tok) < 0)
        return -1;
    const char *why = NULL;
    int rc = s2l_config_token_digest(tok, c->token_digest, &why);
    free_secret(tok);
    return rc < 0 ? fail_at(L, path, "token: %s", why) : 0;
}

static int load_hashed(loader *L, const json_t *j, const char *path, s2l_auth_cred *c, const char *id_key,
                       const char *secret_key)
{
    char p[160], err[256];
    snprintf(p, sizeof p, "%s.%s", path, id_key);
    const char *id = json_string_value(json_object_get(j, id_key));
    if (id == NULL || id[0] == 0)
        return fail_at(L, p, "is required (a non-empty string)");
    if (strchr(id, ':') && c->kind == CRED_BASIC)
        return fail_at(L, p, "must not contain ':' (RFC 7617)");
    SHA256((const unsigned char *)id, strlen(id), c->id_digest);
    if ((c->client_id = strdup(id)) == NULL)
        return fail_at(L, p, "out of memory");
    char *hash = NULL;
    if (read_secret(L, j, path, secret_key, &hash) < 0)
        return -1;
    int rc = s2l_secret_hash_parse(hash, &c->secret, err, sizeof err);
    free_secret(hash);
    if (rc < 0) {
        snprintf(p, sizeof p, "%s.%s", path, secret_key);
        return fail_at(L, p, "%s", err);
    }
    return 0;
}

static int load_jwt(loader *L, const json_t *j, const char *path, s2l_auth_cred *c)
{
    char p[160], err[512];
    const json_t *v;
    snprintf(p, sizeof p, "%s.issuer", path);
    if ((v = json_object_get(j, "issuer")) == NULL)
        return fail_at(L, p, "is required");
    if (read_strings(L, v, p, &c->issuers, &c->n_issuers) < 0)
        return -1;
    snprintf(p, sizeof p, "%s.audience", path);
    if ((v = json_object_get(j, "audience")) == NULL)
        return fail_at(L, p, "is required");
    if (read_strings(L, v, p, &c->audiences, &c->n_audiences) < 0)
        return -1;
    c->allow_rs256 = c->allow_es256 = true;
    if ((v = json_object_get(j, "algorithms")) != NULL) {
        char **algs = NULL;
        size_t n = 0;
        snprintf(p, sizeof p, "%s.algorithms", path);
        if (read_strings(L, v, p, &algs, &n) < 0) {
            free_strings(algs);
            return -1;
        }
        c->allow_rs256 = c->allow_es256 = false;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(algs[i], "RS256") == 0) {
                c->allow_rs256 = true;
            } else if (strcmp(algs[i], "ES256") == 0) {
                c->allow_es256 = true;
            } else {
                fail_at(L, p, "\"%s\" is not allowed (RS256 and ES256 only)", algs[i]);
                free_strings(algs);
                return -1;
            }
        }
        free_strings(algs);
    }
    c->skew_s = 60;
    if ((v = json_object_get(j, "clock_skew_s")) != NULL) {
        snprintf(p, sizeof p, "%s.clock_skew_s", path);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > MAX_SKEW_S)
            return fail_at(L, p, "must be an integer from 0 to %d", MAX_SKEW_S);
        c->skew_s = (unsigned)json_integer_value(v);
    }
    const json_t *jwks = json_object_get(j, "jwks_file"), *pem = json_object_get(j, "public_key_file");
    const json_t *kid = json_object_get(j, "public_key_kid");
    if (jwks == NULL && pem == NULL)
        return fail_at(L, path, "give jwks_file or public_key_file (or both)");
    if (kid && (!json_is_string(kid) || pem == NULL)) {
        snprintf(p, sizeof p, "%s.public_key_kid", path);
        return fail_at(L, p, "must be a string, with public_key_file");
    }
    const json_t *files[2] = {jwks, pem};
    const char *keys[2] = {"jwks_file", "public_key_file"};
    for (int i = 0; i < 2; i++) {
        if (files[i] == NULL)
            continue;
        snprintf(p, sizeof p, "%s.%s", path, keys[i]);
        if (!json_is_string(files[i]))
            return fail_at(L, p, "must be a file name");
        char *f = resolve(L, json_string_value(files[i]));
        if (f == NULL)
            return fail_at(L, p, "out of memory");
        int rc = i == 0 ? s2l_jwks_add_file(&c->keys, f, err, sizeof err)
                        : s2l_jwks_add_pem_file(&c->keys, f, json_string_value(kid), err, sizeof err);
        free(f);
        if (rc < 0)
            return fail_at(L, p, "%s", err);
    }
    return 0;
}

static int load_cred(loader *L, const json_t *j, const char *path, s2l_auth_cred *c, int64_t now_ms)
{
    char p[160];
    if (!json_is_object(j))
        return fail_at(L, path, "must be an object");
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *kind = json_string_value(json_object_get(j, "kind"));
    snprintf(p, sizeof p, "%s.name", path);
    if (name == NULL || !name_ok(name))
        return fail_at(L, p, "is required: 1-%d characters of A-Z a-z 0-9 . _ : @ + - (it is shown in logs)",
                       CRED_NAME_MAX);
    snprintf(c->name, sizeof c->name, "%s", name);
    const char *const *kind_keys;
    snprintf(p, sizeof p, "%s.kind", path);
    if (kind == NULL)
        return fail_at(L, p, "is required: bearer, basic, oauth_client or jwt");
    if (strcmp(kind, "bearer") == 0) {
        c->kind = CRED_BEARER;
        kind_keys = bearer_keys;
    } else if (strcmp(kind, "basic") == 0) {
        c->kind = CRED_BASIC;
        kind_keys = basic_keys;
    } else if (strcmp(kind, "oauth_client") == 0) {
        c->kind = CRED_OAUTH_CLIENT;
        kind_keys = client_keys;
    } else if (strcmp(kind, "jwt") == 0) {
        c->kind = CRED_JWT;
        kind_keys = jwt_keys;
    } else {
        return fail_at(L, p, "must be bearer, basic, oauth_client or jwt");
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)j, k, v) {
        if (!in_list(k, common_keys) && !in_list(k, kind_keys)) {
            snprintf(p, sizeof p, "%s.%s", path, k);
            return fail_at(L, p, "unknown key for a %s credential", kind);
        }
    }
    if (load_common(L, j, path, c, now_ms) < 0)
        return -1;
    switch (c->kind) {
    case CRED_BEARER: return load_bearer(L, j, path, c);
    case CRED_BASIC: return load_hashed(L, j, path, c, "username", "password_hash");
    case CRED_OAUTH_CLIENT: return load_hashed(L, j, path, c, "client_id", "secret_hash");
    case CRED_JWT: return load_jwt(L, j, path, c);
    }
    return -1;
}

/* ---- the whole state ---- */

static void cred_fini(s2l_auth_cred *c)
{
    free_strings(c->resource_types);
    free(c->allow_from);
    free(c->client_id);
    free_strings(c->issuers);
    free_strings(c->audiences);
    s2l_jwks_fini(&c->keys);
    OPENSSL_cleanse(c, sizeof *c);
}

static void limits_release(auth_limits *l);

void s2l_auth_free_(s2l_auth *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->n; i++)
        cred_fini(&a->creds[i]);
    free(a->creds);
    limits_release(a->limits);
    s2l_jwk_fini(&a->signing_key);
    free(a->token_path);
    free(a->issuer);
    free(a->audience);
    free(a->realm);
    OPENSSL_cleanse(a->cache_key, sizeof a->cache_key);
    free(a);
}

static void limits_release(auth_limits *l)
{
    if (l == NULL || atomic_fetch_sub(&l->refs, 1) != 1)
        return;
    s2l_source_limiter_destroy(l->failures);
    s2l_source_limiter_destroy(l->token_failures);
    free(l->buckets);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

void s2l_auth_limits_fail_(auth_limits *l, bool token_endpoint, const s2l_ip *source, int64_t now_ms)
{
    s2l_source_limiter *t = token_endpoint ? l->token_failures : l->failures;
    if (t == NULL)
        return;
    pthread_mutex_lock(&l->lock);
    s2l_source_limiter_fail(t, source, now_ms);
    pthread_mutex_unlock(&l->lock);
}

int s2l_auth_limits_check_(auth_limits *l, bool token_endpoint, const s2l_ip *source, int64_t now_ms, int *retry)
{
    s2l_source_limiter *t = token_endpoint ? l->token_failures : l->failures;
    if (t == NULL)
        return 0;
    pthread_mutex_lock(&l->lock);
    int rc = s2l_source_limiter_check(t, source, now_ms, retry);
    pthread_mutex_unlock(&l->lock);
    return rc;
}

/* Same credentials in the same order with the same rates and the same
 * failed-attempt settings: two readings of one configuration. */
static bool same_limits(const s2l_auth *a, const s2l_auth *b)
{
    if (a->n != b->n || (a->limits->failures == NULL) != (b->limits->failures == NULL) ||
        (a->limits->token_failures == NULL) != (b->limits->token_failures == NULL))
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const s2l_auth_cred *x = &a->creds[i], *y = &b->creds[i];
        if (strcmp(x->name, y->name) != 0 || x->rate_limited != y->rate_limited ||
            (x->rate_limited && (x->rate.per_second != y->rate.per_second || x->rate.burst != y->rate.burst)))
            return false;
    }
    return true;
}

bool s2l_auth_share_limits(s2l_auth *a, s2l_auth *from)
{
    if (a == NULL || from == NULL || a->limits == from->limits)
        return a != NULL && from != NULL;
    if (!same_limits(a, from))
        return false;
    atomic_fetch_add(&from->limits->refs, 1);
    limits_release(a->limits);
    a->limits = from->limits;
    return true;
}

static s2l_source_limiter *limiter(unsigned burst, unsigned per_minute)
{
    s2l_rate r = {.per_second = per_minute / 60.0, .burst = burst};
    return s2l_source_limiter_create(&r, FAILURE_TABLE_SIZE);
}

static int load_token_endpoint(loader *L, s2l_auth *a)
{
    const s2l_config *cfg = L->cfg;
    char err[512];
    if (cfg->auth.token.signing_key_file == NULL) {
        if (a->first_client)
            return fail_at(L, "auth.token_endpoint.signing_key_file",
                           "is required when oauth_client credentials are configured");
        return 0;
    }
    if (s2l_jwk_load_signing_file(&a->signing_key, cfg->auth.token.signing_key_file, err, sizeof err) < 0)
        return fail_at(L, "auth.token_endpoint.signing_key_file", "%s", err);
    if (cfg->auth.token.algorithm) {
        s2l_jws_alg want = s2l_jws_alg_from_name(cfg->auth.token.algorithm);
        if (want == S2L_JWS_UNSUPPORTED)
            return fail_at(L, "auth.token_endpoint.algorithm", "must be HS256, RS256 or ES256");
        if (want != a->signing_key.alg)
            return fail_at(L, "auth.token_endpoint.algorithm", "is %s, but the key file holds a %s key",
                           cfg->auth.token.algorithm, s2l_jws_alg_name(a->signing_key.alg));
    }
    a->token_path = strdup(cfg->auth.token.path);
    a->issuer = strdup(cfg->auth.token.issuer);
    a->audience = strdup(cfg->auth.token.audience);
    a->lifetime_s = cfg->auth.token.lifetime_s;
    if (a->token_path == NULL || a->issuer == NULL || a->audience == NULL)
        return fail_at(L, "auth.token_endpoint", "out of memory");
    if (cfg->auth.token.failed_burst > 0 &&
        (a->limits->token_failures = limiter(cfg->auth.token.failed_burst, cfg->auth.token.failed_per_minute)) == NULL)
        return fail_at(L, "auth.token_endpoint", "out of memory");
    return 0;
}

static int check_unique(loader *L, s2l_auth *a)
{
    for (size_t i = 0; i < a->n; i++) {
        for (size_t k = 0; k < i; k++) {
            const s2l_auth_cred *x = &a->creds[i], *y = &a->creds[k];
            if (strcmp(x->name, y->name) == 0)
                return fail_at(L, "auth.credentials", "two credentials are named \"%s\"", x->name);
            if (x->kind == y->kind && (x->kind == CRED_BASIC || x->kind == CRED_OAUTH_CLIENT) &&
                strcmp(x->client_id, y->client_id) == 0)
                return fail_at(L, "auth.credentials", "credentials \"%s\" and \"%s\" have the same %s", y->name,
                               x->name, x->kind == CRED_BASIC ? "username" : "client_id");
            if (x->kind == CRED_BEARER && y->kind == CRED_BEARER &&
                memcmp(x->token_digest, y->token_digest, DIGEST_LEN) == 0)
                return fail_at(L, "auth.credentials", "credentials \"%s\" and \"%s\" have the same token", y->name,
                               x->name);
        }
    }
    return 0;
}

s2l_auth *s2l_auth_create(const s2l_config *cfg, const char *const *resource_types, char *errbuf, size_t errlen)
{
    loader L = {.cfg = cfg, .file = cfg->path ? cfg->path : "config", .known_types = resource_types,
                .errbuf = errbuf, .errlen = errlen};
    char *pathcopy = strdup(L.file);
    s2l_auth *a = calloc(1, sizeof *a);
    const json_t *list = cfg->auth.credentials;
    size_t n_cfg = json_array_size(list);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;

    errbuf[0] = 0;
    if (pathcopy == NULL || a == NULL || (L.dir = strdup(dirname(pathcopy))) == NULL)
        goto oom;
    a->refs = 1;
    a->creds = calloc(cfg->n_tokens + n_cfg + 1, sizeof *a->creds);
    if (a->creds == NULL || RAND_bytes(a->cache_key, sizeof a->cache_key) != 1)
        goto oom;
    for (size_t i = 0; i < cfg->n_tokens; i++) {
        s2l_auth_cred *c = &a->creds[a->n++];
        snprintf(c->name, sizeof c->name, "bearer_tokens[%zu]", i);
        c->kind = CRED_BEARER;
        memcpy(c->token_digest, cfg->token_digests[i], DIGEST_LEN);
    }
    for (size_t i = 0; i < n_cfg; i++) {
        char path[64];
        snprintf(path, sizeof path, "auth.credentials[%zu]", i);
        s2l_auth_cred *c = &a->creds[a->n++];
        if (load_cred(&L, json_array_get(list, i), path, c, now_ms) < 0)
            goto err;
        if (c->kind == CRED_BASIC && a->first_basic == NULL)
            a->first_basic = c;
        if (c->kind == CRED_OAUTH_CLIENT && a->first_client == NULL)
            a->first_client = c;
    }
    if (a->n == 0) {
        fail_at(&L, "auth", "at least one credential is required");
        goto err;
    }
    if ((a->limits = calloc(1, sizeof *a->limits)) == NULL)
        goto oom;
    pthread_mutex_init(&a->limits->lock, NULL);
    atomic_init(&a->limits->refs, 1);
    if ((a->limits->buckets = calloc(a->n, sizeof *a->limits->buckets)) == NULL)
        goto oom;
    a->limits->n = a->n;
    for (size_t i = 0; i < a->n; i++)
        if (a->creds[i].rate_limited)
            s2l_bucket_init(&a->limits->buckets[i], &a->creds[i].rate, now_ms);
    if (check_unique(&L, a) < 0 || load_token_endpoint(&L, a) < 0)
        goto err;
    if (cfg->auth.failed_burst > 0 &&
        (a->limits->failures = limiter(cfg->auth.failed_burst, cfg->auth.failed_per_minute)) == NULL)
        goto oom;
    if ((a->realm = strdup(cfg->auth.realm)) == NULL)
        goto oom;
    snprintf(a->bearer_challenge, sizeof a->bearer_challenge, "Bearer realm=\"%s\"", cfg->auth.realm);
    snprintf(a->basic_challenge, sizeof a->basic_challenge, "Basic realm=\"%s\", charset=\"UTF-8\"", cfg->auth.realm);
    free(L.dir);
    free(pathcopy);
    return a;
oom:
    snprintf(errbuf, errlen, "%s: auth: out of memory", L.file);
err:
    free(L.dir);
    free(pathcopy);
    s2l_auth_free_(a);
    return NULL;
}
