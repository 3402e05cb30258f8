/* config.h — the gateway configuration (JSON), loaded and validated in one place.
 *
 * Every key is declared once in a table in gateway/core/config.c with its type,
 * range and default (the Redis model): unknown keys, wrong types and
 * out-of-range values are fatal at start and reported with the file and the
 * JSON path; syntax errors with file:line:column.
 *
 * Secrets: bearer tokens are kept only as SHA-256 digests (a "sha256:<hex>"
 * token in the file is already one), so a memory dump or a log line never
 * holds a usable token. Environment overrides (applied after the file):
 *   SCIM2LDAP_BIND_PASSWORD   replaces ldap.bind_password / bind_password_file
 *   SCIM2LDAP_BEARER_TOKENS   comma-separated tokens, replace auth.bearer_tokens
 *
 * Ownership: s2l_config_load returns a config owned by the caller
 * (s2l_config_destroy frees it and every string in it).
 */
#ifndef S2L_CONFIG_H
#define S2L_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define S2L_TOKEN_DIGEST_LEN 32
#define S2L_MAX_LDAP_SERVERS 16

struct json_t;

typedef struct s2l_config {
    char *path;                  /* the config file */
    char *listen;                /* "host:port" as given */
    char *listen_host;           /* parsed */
    unsigned listen_port;
    unsigned workers;            /* event loops (gateway/workers.h); 0 = one per online CPU */
    char *base_path;             /* "/scim/v2", no trailing slash ("" allowed) */
    char *public_url;            /* external base URL for Location/meta.location, or NULL (derive from Host) */
    char *tls_cert_file;         /* HTTPS when both set */
    char *tls_key_file;
    char *tls_min_version;       /* "1.2" (default) or "1.3" */
    char *tls_ciphers;           /* OpenSSL cipher list for TLS 1.2, or NULL (OpenSSL's default) */
    char *tls_ciphersuites;      /* TLS 1.3 cipher suites, or NULL (OpenSSL's default) */
    char *tls_client_ca_file;    /* mTLS: clients must present a certificate from these CAs, or NULL */

    unsigned char (*token_digests)[S2L_TOKEN_DIGEST_LEN]; /* auth.bearer_tokens */
    size_t n_tokens;

    /* The rest of "auth"; credentials are checked and built by s2l_auth_create (auth.h). */
    struct {
        struct json_t *credentials;  /* auth.credentials as given (an array), or NULL */
        char *realm;                 /* WWW-Authenticate realm */
        unsigned failed_burst;       /* failed attempts a source may make before 429; 0 = no limit */
        unsigned failed_per_minute;  /* and how many more it gets back per minute */
        struct {
            char *path;              /* "/oauth/token" */
            char *signing_key_file;  /* HS256 secret or RS256/ES256 PEM private key; NULL = no endpoint */
            char *algorithm;         /* expected algorithm of that key, or NULL (from the key) */
            char *issuer;            /* "iss" of issued tokens */
            char *audience;          /* "aud" of issued tokens */
            unsigned lifetime_s;     /* access token lifetime */
            unsigned failed_burst;   /* the endpoint's own failed-attempt limit */
            unsigned failed_per_minute;
        } token;
    } auth;

    struct {
        char *uri;                   /* the servers in order of preference, separated by one space
                                        ("ldap.uri": a string, or an array of strings) */
        size_t n_uris;
        char *bind_dn;
        char *bind_password;
        unsigned connections;
        unsigned timeout_ms;
        unsigned connect_timeout_ms;
        unsigned backoff_max_ms;
        unsigned failback_after_ms;  /* 0 = never go back to the first server */
        bool starttls;
        char *tls_ca_file;
        bool tls_verify;
        unsigned vlv_per_connection; /* VLV searches before a connection is reopened (sssvlv sessions; 0 = never) */
        unsigned id_cache_entries;   /* SCIM id -> DN pairs kept for writes by id (0 = none) */
    } ldap;

    char *mapping_path;          /* absolute */
    char *schemas_dir;           /* SCIM schema JSON folder, absolute */

    struct {
        size_t max_body_bytes;       /* 413 past this */
        unsigned request_timeout_ms; /* whole-request deadline */
        unsigned max_results;        /* cap on count= (and itemsPerPage) */
        unsigned default_count;      /* count when none is given */
        unsigned max_filter_length;
        unsigned max_filter_depth;
        unsigned max_patch_operations;
        unsigned max_list_scan;      /* most entries one list request may walk through where the directory
                                        cannot page for it (no VLV): skipping to startIndex, counting */
        unsigned bulk_max_operations;   /* /Bulk: operations per request (413 past it) */
        size_t bulk_max_payload_bytes;  /* /Bulk: request body size (413 past it) */
        unsigned shutdown_grace_ms;  /* in-flight requests get this long on SIGTERM */
        /* Request bodies (json_limits.h): 413 / 400 past these. */
        unsigned max_values_per_attribute; /* elements of any one JSON array */
        unsigned max_json_depth;     /* nesting of objects/arrays */
        unsigned max_json_nodes;     /* JSON values in one body */
        unsigned max_rdn_bytes;      /* longest entry name written (mapping.h); 0 = unchecked */
        /* HTTP connections (gateway/http/conn_guard.c) */
        unsigned max_connections;    /* open client connections; past it: 503 and close */
        unsigned max_header_bytes;   /* request line + headers (431/414 past it) */
        unsigned header_timeout_ms;  /* from a request's first byte to the end of its headers (408) */
        unsigned body_timeout_ms;    /* from the end of the headers to the end of the body (408) */
        unsigned idle_timeout_ms;    /* a keep-alive connection with nothing to do is closed */
    } limits;

    struct {
        bool user_patch_returns_body;  /* true: 200 + resource; false: 204 */
        bool group_patch_returns_body; /* default false: 204 (Entra) */
        bool exact_filters;            /* true: trust no LDAP comparison (S2L_SPLIT_STRICT): every
                                          filter result exact for any directory content; default
                                          false: look-ups trust the directory (s2l/mapping.h) */
        bool direct_put;               /* default true: a PUT on a cached id may be one modify that
                                          replaces every mapped attribute (s2l/put_direct.h); false:
                                          every PUT reads the entry first */
    } behaviour;

    char *log_level;             /* "error" | "warn" | "info" | "debug" */

    /* Operating (gateway/ops/ops.h). */
    struct {
        bool enabled;                /* /metrics answers (default true) */
        char *listen;                /* "host:port" of its own listener, or NULL: the main one */
        char *listen_host;           /* parsed */
        unsigned listen_port;
        char *token;                 /* always NULL after loading: kept only as its digest */
        unsigned char token_digest[S2L_TOKEN_DIGEST_LEN];
        bool has_token;              /* /metrics wants "Authorization: Bearer <metrics.token>" */
    } metrics;
    struct {
        bool enabled;                /* one JSON line per write attempt (s2l/audit.h) */
        char *file;                  /* appended to, reopened on SIGHUP; NULL = stderr */
    } audit;
    char *access_log;            /* "text" (event=request lines) or "json" (one JSON object per line) */
} s2l_config;

/* Loads, validates and applies environment overrides. NULL + a message in errbuf
 * ("<file>: <json path>: <problem>" or "<file>:<line>:<col>: <problem>"). */
s2l_config *s2l_config_load(const char *path, char *errbuf, size_t errlen);
void s2l_config_destroy(s2l_config *c);

/* The digest a bearer token is kept as: SHA-256 of a plain token (at least 16
 * characters), or the value of "sha256:<64 hex digits>". 0, or -1 with *why. */
int s2l_config_token_digest(const char *token, unsigned char out[S2L_TOKEN_DIGEST_LEN], const char **why);

/* Constant-time check of a presented bearer token against the configured digests. */
bool s2l_config_token_ok(const s2l_config *c, const char *token, size_t len);

#endif
