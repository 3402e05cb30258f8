/* config.c — one declarative table of configuration keys (see include/s2l/config.h).
 *
 * The table says, for every key, its JSON path, type, range, default and where it
 * lands in s2l_config. Loading walks the file once to reject unknown keys, then
 * the table to read and check each value, so a new key is one table row.
 */
#include "s2l/config.h"
#include "s2l/json_limits.h"
#include "s2l/mapping.h"

#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { K_OBJECT, K_STRING, K_PATH, K_UINT, K_SIZE, K_BOOL, K_TOKENS, K_SECRET_FILE, K_ARRAY, K_URIS } key_kind;

typedef struct key_def {
    const char *path;        /* dotted JSON path */
    key_kind kind;
    size_t offset;           /* into s2l_config (unused for K_OBJECT) */
    unsigned long long min, max;
    const char *def;         /* default as text; NULL = none (required if `required`) */
    bool required;
} key_def;
/* K_ARRAY keeps a JSON array as given (a copy) for the module that owns its
 * meaning to check, e.g. auth.credentials (gateway/core/auth_load.c). */

#define OFF(f) offsetof(s2l_config, f)
/* Defaults that live with the code enforcing them, as table text. */
#define STR_(x) #x
#define STR(x) STR_(x)

static const key_def keys[] = {
    {"listen", K_STRING, OFF(listen), 0, 0, "127.0.0.1:8080", false},
    {"base_path", K_STRING, OFF(base_path), 0, 0, "/scim/v2", false},
    {"public_url", K_STRING, OFF(public_url), 0, 0, NULL, false},
    {"tls", K_OBJECT, 0, 0, 0, NULL, false},
    {"tls.cert_file", K_PATH, OFF(tls_cert_file), 0, 0, NULL, false},
    {"tls.key_file", K_PATH, OFF(tls_key_file), 0, 0, NULL, false},
    {"tls.min_version", K_STRING, OFF(tls_min_version), 0, 0, "1.2", false},
    {"tls.ciphers", K_STRING, OFF(tls_ciphers), 0, 0, NULL, false},
    {"tls.ciphersuites", K_STRING, OFF(tls_ciphersuites), 0, 0, NULL, false},
    {"tls.client_ca_file", K_PATH, OFF(tls_client_ca_file), 0, 0, NULL, false},
    {"auth", K_OBJECT, 0, 0, 0, NULL, true},
    {"auth.bearer_tokens", K_TOKENS, 0, 0, 0, NULL, false},
    {"auth.credentials", K_ARRAY, OFF(auth.credentials), 0, 0, NULL, false},
    {"auth.realm", K_STRING, OFF(auth.realm), 0, 0, "scim2ldap", false},
    {"auth.failed_attempts", K_OBJECT, 0, 0, 0, NULL, false},
    {"auth.failed_attempts.burst", K_UINT, OFF(auth.failed_burst), 0, 100000, "20", false},
    {"auth.failed_attempts.per_minute", K_UINT, OFF(auth.failed_per_minute), 1, 100000, "10", false},
    {"auth.token_endpoint", K_OBJECT, 0, 0, 0, NULL, false},
    {"auth.token_endpoint.path", K_STRING, OFF(auth.token.path), 0, 0, "/oauth/token", false},
    {"auth.token_endpoint.signing_key_file", K_PATH, OFF(auth.token.signing_key_file), 0, 0, NULL, false},
    {"auth.token_endpoint.algorithm", K_STRING, OFF(auth.token.algorithm), 0, 0, NULL, false},
    {"auth.token_endpoint.issuer", K_STRING, OFF(auth.token.issuer), 0, 0, "scim2ldap", false},
    {"auth.token_endpoint.audience", K_STRING, OFF(auth.token.audience), 0, 0, "scim2ldap", false},
    {"auth.token_endpoint.lifetime_s", K_UINT, OFF(auth.token.lifetime_s), 60, 86400, "3600", false},
    {"auth.token_endpoint.failed_attempts", K_OBJECT, 0, 0, 0, NULL, false},
    {"auth.token_endpoint.failed_attempts.burst", K_UINT, OFF(auth.token.failed_burst), 0, 100000, "5", false},
    {"auth.token_endpoint.failed_attempts.per_minute", K_UINT, OFF(auth.token.failed_per_minute), 1, 100000, "5",
     false},
    {"ldap", K_OBJECT, 0, 0, 0, NULL, true},
    {"ldap.uri", K_URIS, OFF(ldap.uri), 1, S2L_MAX_LDAP_SERVERS, NULL, true},
    {"ldap.bind_dn", K_STRING, OFF(ldap.bind_dn), 0, 0, "", false},
    {"ldap.bind_password", K_STRING, OFF(ldap.bind_password), 0, 0, NULL, false},
    {"ldap.bind_password_file", K_SECRET_FILE, OFF(ldap.bind_password), 0, 0, NULL, false},
    {"ldap.connections", K_UINT, OFF(ldap.connections), 1, 64, "4", false},
    {"ldap.timeout_ms", K_UINT, OFF(ldap.timeout_ms), 10, 600000, "5000", false},
    {"ldap.connect_timeout_ms", K_UINT, OFF(ldap.connect_timeout_ms), 10, 600000, "3000", false},
    {"ldap.backoff_max_ms", K_UINT, OFF(ldap.backoff_max_ms), 100, 600000, "5000", false},
    {"ldap.failback_after_ms", K_UINT, OFF(ldap.failback_after_ms), 0, 86400000, "300000", false},
    {"ldap.starttls", K_BOOL, OFF(ldap.starttls), 0, 0, "false", false},
    {"ldap.tls_ca_file", K_PATH, OFF(ldap.tls_ca_file), 0, 0, NULL, false},
    {"ldap.tls_verify", K_BOOL, OFF(ldap.tls_verify), 0, 0, "true", false},
    {"ldap.vlv_per_connection", K_UINT, OFF(ldap.vlv_per_connection), 0, 100000, "2", false},
    {"ldap.id_cache_entries", K_UINT, OFF(ldap.id_cache_entries), 0, 10000000, "32768", false},
    {"mapping", K_PATH, OFF(mapping_path), 0, 0, NULL, true},
    {"schemas", K_PATH, OFF(schemas_dir), 0, 0, NULL, false},
    {"limits", K_OBJECT, 0, 0, 0, NULL, false},
    {"limits.max_body_bytes", K_SIZE, OFF(limits.max_body_bytes), 1024, 1ULL << 30, "1048576", false},
    {"limits.request_timeout_ms", K_UINT, OFF(limits.request_timeout_ms), 100, 3600000, "30000", false},
    {"limits.max_results", K_UINT, OFF(limits.max_results), 1, 100000, "1000", false},
    {"limits.default_count", K_UINT, OFF(limits.default_count), 1, 100000, "100", false},
    {"limits.max_filter_length", K_UINT, OFF(limits.max_filter_length), 16, 1048576, "4096", false},
    {"limits.max_filter_depth", K_UINT, OFF(limits.max_filter_depth), 1, 256, "32", false},
    {"limits.max_patch_operations", K_UINT, OFF(limits.max_patch_operations), 1, 1000000, "1000", false},
    {"limits.max_list_scan", K_UINT, OFF(limits.max_list_scan), 1, 10000000, "200000", false},
    {"limits.bulk_max_operations", K_UINT, OFF(limits.bulk_max_operations), 1, 100000, "1000", false},
    {"limits.bulk_max_payload_bytes", K_SIZE, OFF(limits.bulk_max_payload_bytes), 1024, 1ULL << 30, "1048576",
     false},
    {"limits.shutdown_grace_ms", K_UINT, OFF(limits.shutdown_grace_ms), 0, 600000, "10000", false},
    {"limits.max_values_per_attribute", K_UINT, OFF(limits.max_values_per_attribute), 1, 10000000,
     STR(S2L_JSON_MAX_VALUES_DEFAULT), false},
    /* jansson itself refuses nesting deeper than 2048. */
    {"limits.max_json_depth", K_UINT, OFF(limits.max_json_depth), 2, 2048, STR(S2L_JSON_MAX_DEPTH_DEFAULT), false},
    {"limits.max_json_nodes", K_UINT, OFF(limits.max_json_nodes), 16, 100000000, STR(S2L_JSON_MAX_NODES_DEFAULT),
     false},
    {"limits.max_rdn_bytes", K_UINT, OFF(limits.max_rdn_bytes), 0, 65535, STR(S2L_MAX_RDN_BYTES_DEFAULT), false},
    /* HTTP connections (gateway/http/conn_guard.c) */
    {"limits.max_connections", K_UINT, OFF(limits.max_connections), 1, 1000000, "1024", false},
    {"limits.max_header_bytes", K_UINT, OFF(limits.max_header_bytes), 1024, 1048576, "65536", false},
    {"limits.header_timeout_ms", K_UINT, OFF(limits.header_timeout_ms), 100, 3600000, "20000", false},
    {"limits.body_timeout_ms", K_UINT, OFF(limits.body_timeout_ms), 100, 3600000, "60000", false},
    {"limits.idle_timeout_ms", K_UINT, OFF(limits.idle_timeout_ms), 100, 3600000, "60000", false},
    {"behaviour", K_OBJECT, 0, 0, 0, NULL, false},
    {"behaviour.user_patch_returns_body", K_BOOL, OFF(behaviour.user_patch_returns_body), 0, 0, "true", false},
    {"behaviour.group_patch_returns_body", K_BOOL, OFF(behaviour.group_patch_returns_body), 0, 0, "false", false},
    {"behaviour.exact_filters", K_BOOL, OFF(behaviour.exact_filters), 0, 0, "false", false},
    {"behaviour.direct_put", K_BOOL, OFF(behaviour.direct_put), 0, 0, "true", false},
    {"log_level", K_STRING, OFF(log_level), 0, 0, "info", false},
    /* Event-loop workers (gateway/workers.h); 0 = one per online CPU. */
    {"workers", K_UINT, OFF(workers), 0, 64, "0", false},
    /* Operating (gateway/ops): metrics, audit log. */
    {"metrics", K_OBJECT, 0, 0, 0, NULL, false},
    {"metrics.enabled", K_BOOL, OFF(metrics.enabled), 0, 0, "true", false},
    {"metrics.listen", K_STRING, OFF(metrics.listen), 0, 0, NULL, false},
    {"metrics.token", K_STRING, OFF(metrics.token), 0, 0, NULL, false},
    {"audit", K_OBJECT, 0, 0, 0, NULL, false},
    {"audit.enabled", K_BOOL, OFF(audit.enabled), 0, 0, "false", false},
    {"audit.file", K_PATH, OFF(audit.file), 0, 0, NULL, false},
    {"access_log", K_STRING, OFF(access_log), 0, 0, "text", false},
};

static void fail(char *errbuf, size_t errlen, const char *file, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void fail(char *errbuf, size_t errlen, const char *file, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (path)
        snprintf(errbuf, errlen, "%s: %s: %s", file, path, msg);
    else
        snprintf(errbuf, errlen, "%s: %s", file, msg);
}

static const key_def *find_key(const char *path)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i].path, path) == 0)
            return &keys[i];
    return NULL;
}

/* Rejects keys the table does not know, so a typo ("conections") is an error
 * rather than a silently ignored setting. */
static int check_unknown(const json_t *obj, const char *prefix, const char *file, char *errbuf, size_t errlen)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        char path[256];
        if (prefix[0])
            snprintf(path, sizeof path, "%s.%s", prefix, k);
        else
            snprintf(path, sizeof path, "%s", k);
        const key_def *d = find_key(path);
        if (d == NULL) {
            fail(errbuf, errlen, file, path, "unknown key");
            return -1;
        }
        if (d->kind == K_OBJECT) {
            if (!json_is_object(v)) {
                fail(errbuf, errlen, file, path, "must be an object");
                return -1;
            }
            if (check_unknown(v, path, file, errbuf, errlen) < 0)
                return -1;
        }
    }
    return 0;
}

static json_t *lookup(json_t *root, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = root;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save))
        cur = json_is_object(cur) ? json_object_get(cur, tok) : NULL;
    return cur;
}

/* Relative paths are relative to the config file's folder, so a config can be
 * moved together with its mapping. */
static char *resolve_path(const char *dir, const char *p)
{
    if (p[0] == '/')
        return strdup(p);
    size_t n = strlen(dir) + strlen(p) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", dir, p);
    return out;
}

static char **str_slot(s2l_config *c, const key_def *d)
{
    return (char **)((char *)c + d->offset);
}

static int hex_digest(const char *hex, unsigned char out[S2L_TOKEN_DIGEST_LEN])
{
    if (strlen(hex) != 2 * S2L_TOKEN_DIGEST_LEN)
        return -1;
    for (size_t i = 0; i < S2L_TOKEN_DIGEST_LEN; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            char ch = hex[2 * i + (size_t)j];
            v <<= 4;
            if (ch >= '0' && ch <= '9')
                v |= (unsigned)(ch - '0');
            else if (ch >= 'a' && ch <= 'f')
                v |= (unsigned)(ch - 'a' + 10);
            else if (ch >= 'A' && ch <= 'F')
                v |= (unsigned)(ch - 'A' + 10);
            else
                return -1;
        }
        out[i] = (unsigned char)v;
    }
    return 0;
}

int s2l_config_token_digest(const char *tok, unsigned char out[S2L_TOKEN_DIGEST_LEN], const char **why)
{
    if (strncasecmp(tok, "sha256:", 7) == 0) {
        if (hex_digest(tok + 7, out) < 0) {
            *why = "\"sha256:\" must be followed by 64 hex digits";
            return -1;
        }
        return 0;
    }
    /* Plain tokens shorter than 16 characters are refused: an IdP secret that
     * short is guessable. */
    if (strlen(tok) < 16) {
        *why = "a bearer token must be at least 16 characters";
        return -1;
    }
    SHA256((const unsigned char *)tok, strlen(tok), out);
    return 0;
}

/* Adds one token (plain, or "sha256:<hex>") as a digest. */
static int add_token(s2l_config *c, const char *tok, const char *file, const char *path, char *errbuf,
                     size_t errlen)
{
    unsigned char (*grown)[S2L_TOKEN_DIGEST_LEN] =
        realloc(c->token_digests, (c->n_tokens + 1) * sizeof *c->token_digests);
    if (grown == NULL) {
        fail(errbuf, errlen, file, path, "out of memory");
        return -1;
    }
    c->token_digests = grown;
    const char *why = NULL;
    if (s2l_config_token_digest(tok, c->token_digests[c->n_tokens], &why) < 0) {
        fail(errbuf, errlen, file, path, "%s", why);
        return -1;
    }
    c->n_tokens++;
    return 0;
}

static int read_secret_file(const char *p, char **out, const char *file, const char *path, char *errbuf,
                            size_t errlen)
{
    FILE *f = fopen(p, "r");
    if (f == NULL) {
        fail(errbuf, errlen, file, path, "cannot read %s: %s", p, strerror(errno));
        return -1;
    }
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* A trailing newline is an editor artefact, not part of the password. */
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = 0;
    free(*out);
    *out = strdup(buf);
    OPENSSL_cleanse(buf, sizeof buf);
    return *out ? 0 : -1;
}

static bool uri_scheme_ok(const char *u)
{
    return strncmp(u, "ldap://", 7) == 0 || strncmp(u, "ldaps://", 8) == 0 || strncmp(u, "ldapi://", 8) == 0;
}

/* One URI of ldap.uri ("ldap.uri" or "ldap.uri[i]" in messages) appended to
 * the space-separated list in *slot. */
static int add_uri(char **slot, size_t *n, const char *u, size_t len, const key_def *d, const char *where,
                   const char *file, char *errbuf, size_t errlen)
{
    char *one = strndup(u, len);
    if (one == NULL)
        return -1;
    int rc = -1;
    if (len == 0 || strcspn(one, " \t\r\n") != len) {
        fail(errbuf, errlen, file, where, "must be a URI without spaces");
    } else if (!uri_scheme_ok(one)) {
        fail(errbuf, errlen, file, where, "must start with ldap://, ldaps:// or ldapi://");
    } else if (*n >= d->max) {
        fail(errbuf, errlen, file, d->path, "at most %llu servers", d->max);
    } else {
        size_t old = *slot ? strlen(*slot) : 0;
        char *grown = realloc(*slot, old + len + 2);
        if (grown != NULL) {
            if (old)
                grown[old++] = ' ';
            memcpy(grown + old, one, len + 1);
            *slot = grown;
            (*n)++;
            rc = 0;
        }
    }
    free(one);
    return rc;
}

/* ldap.uri: one URI, several separated by whitespace (as in ldap.conf), or an
 * array of URIs; stored as one space-separated list, the pool's format. */
static int apply_uris(s2l_config *c, const key_def *d, json_t *v, const char *file, char *errbuf, size_t errlen)
{
    char **slot = str_slot(c, d);
    size_t n = 0;
    free(*slot);
    *slot = NULL;
    if (json_is_string(v)) {
        const char *p = json_string_value(v);
        static const char ws[] = " \t\r\n";
        for (p += strspn(p, ws); *p; p += strspn(p, ws)) {
            size_t len = strcspn(p, ws);
            if (add_uri(slot, &n, p, len, d, d->path, file, errbuf, errlen) < 0)
                return -1;
            p += len;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *u;
        json_array_foreach(v, i, u) {
            char where[64];
            snprintf(where, sizeof where, "%s[%zu]", d->path, i);
            if (!json_is_string(u)) {
                fail(errbuf, errlen, file, where, "must be a string");
                return -1;
            }
            if (add_uri(slot, &n, json_string_value(u), json_string_length(u), d, where, file, errbuf, errlen) < 0)
                return -1;
        }
    } else {
        fail(errbuf, errlen, file, d->path, "must be a URI or an array of URIs");
        return -1;
    }
    if (n < d->min) {
        fail(errbuf, errlen, file, d->path, "needs at least one ldap://, ldaps:// or ldapi:// URI");
        return -1;
    }
    c->ldap.n_uris = n;
    return 0;
}

static int parse_uint(const char *text, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static int apply_key(s2l_config *c, const key_def *d, json_t *v, const char *dir, const char *file,
                     char *errbuf, size_t errlen)
{
    switch (d->kind) {
    case K_OBJECT:
        return 0;
    case K_STRING:
    case K_PATH:
    case K_SECRET_FILE: {
        const char *s;
        if (v) {
            if (!json_is_string(v)) {
                fail(errbuf, errlen, file, d->path, "must be a string");
                return -1;
            }
            s = json_string_value(v);
        } else {
            s = d->def;
        }
        if (s == NULL)
            return 0;
        char **slot = str_slot(c, d);
        if (d->kind == K_SECRET_FILE) {
            char *p = resolve_path(dir, s);
            int rc = p ? read_secret_file(p, slot, file, d->path, errbuf, errlen) : -1;
            free(p);
            return rc;
        }
        free(*slot);
        *slot = d->kind == K_PATH ? resolve_path(dir, s) : strdup(s);
        return *slot ? 0 : -1;
    }
    case K_UINT:
    case K_SIZE: {
        unsigned long long val;
        if (v) {
            if (!json_is_integer(v) || json_integer_value(v) < 0) {
                fail(errbuf, errlen, file, d->path, "must be a non-negative integer");
                return -1;
            }
            val = (unsigned long long)json_integer_value(v);
        } else if (parse_uint(d->def, &val) < 0) {
            return -1;
        }
        if (val < d->min || val > d->max) {
            fail(errbuf, errlen, file, d->path, "%llu is out of range [%llu, %llu]", val, d->min, d->max);
            return -1;
        }
        if (d->kind == K_UINT)
            *(unsigned *)((char *)c + d->offset) = (unsigned)val;
        else
            *(size_t *)((char *)c + d->offset) = (size_t)val;
        return 0;
    }
    case K_BOOL: {
        bool b;
        if (v) {
            if (!json_is_boolean(v)) {
                fail(errbuf, errlen, file, d->path, "must be true or false");
                return -1;
            }
            b = json_is_true(v);
        } else {
            b = strcmp(d->def, "true") == 0;
        }
        *(bool *)((char *)c + d->offset) = b;
        return 0;
    }
    case K_URIS:
        return apply_uris(c, d, v, file, errbuf, errlen);
    case K_ARRAY: {
        if (v == NULL)
            return 0;
        if (!json_is_array(v)) {
            fail(errbuf, errlen, file, d->path, "must be an array");
            return -1;
        }
        json_t **slot = (json_t **)((char *)c + d->offset);
        json_decref(*slot);
        *slot = json_deep_copy(v);
        return *slot ? 0 : -1;
    }
    case K_TOKENS: {
        if (v == NULL)
            return 0;
        if (!json_is_array(v)) {
            fail(errbuf, errlen, file, d->path, "must be an array of strings");
            return -1;
        }
        size_t i;
        json_t *t;
        json_array_foreach(v, i, t) {
            char p[64];
            snprintf(p, sizeof p, "%s[%zu]", d->path, i);
            if (!json_is_string(t)) {
                fail(errbuf, errlen, file, p, "must be a string");
                return -1;
            }
            if (add_token(c, json_string_value(t), file, p, errbuf, errlen) < 0)
                return -1;
        }
        return 0;
    }
    }
    return -1;
}

/* "host:port" (IPv6 as "[::1]:8080") → a malloc'd host and the port. -1 when
 * malformed (*host NULL) or out of memory (*host NULL, *port set). */
static int parse_host_port(const char *l, char **host, unsigned *port)
{
    const char *colon = strrchr(l, ':');
    unsigned long long p;
    *host = NULL;
    *port = 0;
    if (colon == NULL || colon == l || parse_uint(colon + 1, &p) < 0 || p == 0 || p > 65535)
        return -1;
    const char *h = l;
    size_t hl = (size_t)(colon - l);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    *port = (unsigned)p;
    *host = strndup(h, hl);
    return *host ? 0 : -1;
}

static int split_listen(s2l_config *c, const char *file, char *errbuf, size_t errlen)
{
    if (parse_host_port(c->listen, &c->listen_host, &c->listen_port) < 0) {
        if (c->listen_port == 0)
            fail(errbuf, errlen, file, "listen", "must be \"host:port\" with a port from 1 to 65535");
        return -1;
    }
    return 0;
}

/* metrics.listen, parsed like listen; and metrics.token kept only as its digest. */
static int check_metrics(s2l_config *c, const char *file, char *errbuf, size_t errlen)
{
    if (c->metrics.listen) {
        if (parse_host_port(c->metrics.listen, &c->metrics.listen_host, &c->metrics.listen_port) < 0) {
            if (c->metrics.listen_port == 0)
                fail(errbuf, errlen, file, "metrics.listen", "must be \"host:port\" with a port from 1 to 65535");
            return -1;
        }
        if (strcmp(c->metrics.listen_host, c->listen_host) == 0 && c->metrics.listen_port == c->listen_port) {
            fail(errbuf, errlen, file, "metrics.listen", "must differ from listen (leave it out to serve "
                                                         "/metrics on the main listener)");
            return -1;
        }
    }
    if (c->metrics.token) {
        const char *why = NULL;
        int rc = s2l_config_token_digest(c->metrics.token, c->metrics.token_digest, &why);
        OPENSSL_cleanse(c->metrics.token, strlen(c->metrics.token));
        free(c->metrics.token);
        c->metrics.token = NULL;
        if (rc < 0) {
            fail(errbuf, errlen, file, "metrics.token", "%s", why);
            return -1;
        }
        c->metrics.has_token = true;
    }
    if (strcmp(c->access_log, "text") != 0 && strcmp(c->access_log, "json") != 0) {
        fail(errbuf, errlen, file, "access_log", "must be \"text\" or \"json\"");
        return -1;
    }
    return 0;
}

static int apply_env(s2l_config *c, const char *file, char *errbuf, size_t errlen)
{
    const char *pw = getenv("SCIM2LDAP_BIND_PASSWORD");
    if (pw) {
        free(c->ldap.bind_password);
        c->ldap.bind_password = strdup(pw);
        if (c->ldap.bind_password == NULL)
            return -1;
    }
    const char *toks = getenv("SCIM2LDAP_BEARER_TOKENS");
    if (toks && toks[0]) {
        free(c->token_digests);
        c->token_digests = NULL;
        c->n_tokens = 0;
        char *copy = strdup(toks);
        if (copy == NULL)
            return -1;
        char *save = NULL;
        int rc = 0;
        for (char *t = strtok_r(copy, ",", &save); t && rc == 0; t = strtok_r(NULL, ",", &save))
            rc = add_token(c, t, file, "SCIM2LDAP_BEARER_TOKENS", errbuf, errlen);
        OPENSSL_cleanse(copy, strlen(toks));
        free(copy);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int check_semantics(s2l_config *c, const char *file, char *errbuf, size_t errlen)
{
    if (c->n_tokens == 0 && json_array_size(c->auth.credentials) == 0) {
        fail(errbuf, errlen, file, "auth",
             "at least one credential is required: auth.credentials, auth.bearer_tokens or "
             "SCIM2LDAP_BEARER_TOKENS");
        return -1;
    }
    if ((c->tls_cert_file == NULL) != (c->tls_key_file == NULL)) {
        fail(errbuf, errlen, file, "tls", "cert_file and key_file go together");
        return -1;
    }
    if (strcmp(c->tls_min_version, "1.2") != 0 && strcmp(c->tls_min_version, "1.3") != 0) {
        fail(errbuf, errlen, file, "tls.min_version", "must be \"1.2\" or \"1.3\"");
        return -1;
    }
    if (c->tls_cert_file == NULL && (c->tls_ciphers || c->tls_ciphersuites || c->tls_client_ca_file)) {
        fail(errbuf, errlen, file, "tls", "ciphers, ciphersuites and client_ca_file need cert_file and key_file");
        return -1;
    }
    if (strlen(c->auth.realm) > 100) {
        fail(errbuf, errlen, file, "auth.realm", "must be at most 100 characters");
        return -1;
    }
    for (const char *r = c->auth.realm; *r; r++) {
        if (*r < 0x20 || *r == 0x7f || *r == '"' || *r == '\\') {
            fail(errbuf, errlen, file, "auth.realm", "must be printable text without quotes or backslashes");
            return -1;
        }
    }
    if (c->auth.token.path[0] != '/') {
        fail(errbuf, errlen, file, "auth.token_endpoint.path", "must start with '/'");
        return -1;
    }
    /* It becomes a route (gateway/http/route.h), where "*", "{}" and empty
     * segments would match more than the one path. */
    for (const char *p = c->auth.token.path + 1; *p; p += *p == '/') {
        size_t n = strcspn(p, "/");
        if ((n == 0 && p[0] == '/') || (n == 1 && p[0] == '*') || (n == 2 && strncmp(p, "{}", 2) == 0)) {
            fail(errbuf, errlen, file, "auth.token_endpoint.path", "must be a plain path (no '*', '{}' or '//')");
            return -1;
        }
        p += n;
    }
    size_t bl = strlen(c->base_path);
    if (bl > 0 && c->base_path[0] != '/') {
        fail(errbuf, errlen, file, "base_path", "must start with '/'");
        return -1;
    }
    while (bl > 0 && c->base_path[bl - 1] == '/')
        c->base_path[--bl] = 0;
    if (c->limits.default_count > c->limits.max_results) {
        fail(errbuf, errlen, file, "limits.default_count", "must not exceed limits.max_results");
        return -1;
    }
    static const char *levels[] = {"error", "warn", "info", "debug"};
    bool ok = false;
    for (size_t i = 0; i < 4; i++)
        ok = ok || strcmp(c->log_level, levels[i]) == 0;
    if (!ok) {
        fail(errbuf, errlen, file, "log_level", "must be one of error, warn, info, debug");
        return -1;
    }
    if (c->public_url) {
        size_t pl = strlen(c->public_url);
        while (pl > 0 && c->public_url[pl - 1] == '/')
            c->public_url[--pl] = 0;
    }
    return 0;
}

s2l_config *s2l_config_load(const char *path, char *errbuf, size_t errlen)
{
    json_error_t jerr;
    s2l_config *c = NULL;
    char *dircopy = NULL;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        snprintf(errbuf, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        goto err;
    }
    if (!json_is_object(root)) {
        fail(errbuf, errlen, path, NULL, "the configuration must be a JSON object");
        goto err;
    }
    if (check_unknown(root, "", path, errbuf, errlen) < 0)
        goto err;
    c = calloc(1, sizeof *c);
    dircopy = strdup(path);
    if (c == NULL || dircopy == NULL || (c->path = strdup(path)) == NULL)
        goto oom;
    const char *dir = dirname(dircopy);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const key_def *d = &keys[i];
        json_t *v = lookup(root, d->path);
        if (v == NULL && d->required) {
            fail(errbuf, errlen, path, d->path, "is required");
            goto err;
        }
        if (apply_key(c, d, v, dir, path, errbuf, errlen) < 0) {
            if (errbuf[0] == 0)
                fail(errbuf, errlen, path, d->path, "out of memory");
            goto err;
        }
    }
    if (json_object_get(json_object_get(root, "ldap"), "bind_password") &&
        json_object_get(json_object_get(root, "ldap"), "bind_password_file")) {
        fail(errbuf, errlen, path, "ldap", "give bind_password or bind_password_file, not both");
        goto err;
    }
    if (c->schemas_dir == NULL) {
        /* Default: schemas/scim beside the mappings folder, as laid out in the repository. */
        char *mcopy = strdup(c->mapping_path);
        if (mcopy == NULL)
            goto oom;
        char *mdir = dirname(mcopy);
        c->schemas_dir = resolve_path(mdir, "../schemas/scim");
        free(mcopy);
        if (c->schemas_dir == NULL)
            goto oom;
    }
    if (apply_env(c, path, errbuf, errlen) < 0 || split_listen(c, path, errbuf, errlen) < 0 ||
        check_metrics(c, path, errbuf, errlen) < 0 || check_semantics(c, path, errbuf, errlen) < 0)
        goto err;
    if (c->ldap.bind_password == NULL && (c->ldap.bind_password = strdup("")) == NULL)
        goto oom;
    free(dircopy);
    json_decref(root);
    return c;
oom:
    fail(errbuf, errlen, path, NULL, "out of memory");
err:
    free(dircopy);
    json_decref(root);
    s2l_config_destroy(c);
    return NULL;
}

void s2l_config_destroy(s2l_config *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const key_def *d = &keys[i];
        if (d->kind == K_STRING || d->kind == K_PATH || d->kind == K_URIS) {
            char **slot = str_slot(c, d);
            free(*slot);
            *slot = NULL;
        }
    }
    if (c->ldap.bind_password) {
        OPENSSL_cleanse(c->ldap.bind_password, strlen(c->ldap.bind_password));
        free(c->ldap.bind_password);
    }
    free(c->token_digests);
    json_decref(c->auth.credentials);
    free(c->listen_host);
    free(c->metrics.listen_host);
    free(c->path);
    free(c);
}

bool s2l_config_token_ok(const s2l_config *c, const char *token, size_t len)
{
    unsigned char digest[S2L_TOKEN_DIGEST_LEN];
    SHA256((const unsigned char *)token, len, digest);
    /* Compare against every digest without an early exit, so the time taken does
     * not tell which (or whether any) configured token came close. */
    int match = 0;
    for (size_t i = 0; i < c->n_tokens; i++)
        match |= CRYPTO_memcmp(digest, c->token_digests[i], S2L_TOKEN_DIGEST_LEN) == 0;
    return match != 0;
}
