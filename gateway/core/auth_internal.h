/* auth_internal.h — the auth state's layout, shared by auth_load.c (building it
 * from the configuration), auth.c (request decisions) and auth_token.c (the
 * token endpoint). Not for other modules: they use include/s2l/auth.h. */
#ifndef S2L_AUTH_INTERNAL_H
#define S2L_AUTH_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "s2l/auth.h"
#include "s2l/jwt.h"
#include "s2l/rate_limit.h"
#include "s2l/secret_hash.h"

#define CRED_NAME_MAX 64
#define DIGEST_LEN 32

typedef enum { CRED_BEARER, CRED_BASIC, CRED_OAUTH_CLIENT, CRED_JWT } cred_kind;

struct s2l_auth_cred {
    char name[CRED_NAME_MAX + 1];
    cred_kind kind;
    int64_t not_after_s;          /* 0 = never expires */
    bool read_only;
    char **resource_types;        /* names/endpoints as configured; NULL = every type */
    size_t n_resource_types;
    s2l_cidr *allow_from;         /* empty = any source */
    size_t n_allow_from;
    bool rate_limited;
    s2l_rate rate;               /* its bucket is limits->buckets[index in creds] */

    /* bearer: SHA-256 of the token */
    unsigned char token_digest[DIGEST_LEN];

    /* basic and oauth_client: SHA-256 of the user name / client id (compared
     * in constant time like the secret), the slow hash, and a keyed digest of
     * the last secret that verified, so that only the first request of a
     * client pays for the slow hash */
    unsigned char id_digest[DIGEST_LEN];
    char *client_id;
    s2l_secret_hash secret;
    unsigned char verified[DIGEST_LEN];
    bool has_verified;

    /* jwt */
    char **issuers;
    size_t n_issuers;
    char **audiences;
    size_t n_audiences;
    s2l_jwks keys;
    bool allow_rs256, allow_es256;
    unsigned skew_s;
};

/* Verified JWTs, so that a token an IdP sends with every request for an hour
 * is checked with public-key cryptography once (RS256 ~0.1 ms, ES256 ~0.2 ms)
 * and then recognised by its digest. Direct-mapped; an entry is good only
 * inside the token's own validity (exp/nbf with the skew already applied). */
#define JWT_CACHE_SLOTS 64

typedef struct jwt_cache_entry {
    unsigned char digest[DIGEST_LEN];   /* SHA-256 of the token text */
    int64_t valid_from_s, valid_until_s;
    s2l_auth_cred *cred;
} jwt_cache_entry;

/* What the rate limits count: the per-credential buckets and the
 * failed-attempt tables. Its own lock and count, because the auth states of
 * several event-loop workers built from one reading of the configuration
 * share it (s2l_auth_share_limits): a limit is then one limit for the
 * process, whichever worker a request arrives on. */
typedef struct auth_limits {
    pthread_mutex_t lock;
    atomic_uint refs;
    s2l_bucket *buckets;                /* one per credential, in creds order */
    size_t n;
    s2l_source_limiter *failures;       /* SCIM requests; NULL = no limit */
    s2l_source_limiter *token_failures; /* the token endpoint; NULL = no limit */
} auth_limits;

/* Under the limits' lock: a failed attempt from source / whether source may try. */
void s2l_auth_limits_fail_(auth_limits *l, bool token_endpoint, const s2l_ip *source, int64_t now_ms);
int s2l_auth_limits_check_(auth_limits *l, bool token_endpoint, const s2l_ip *source, int64_t now_ms, int *retry);

struct s2l_auth {
    unsigned refs;
    auth_limits *limits;
    jwt_cache_entry jwt_cache[JWT_CACHE_SLOTS];
    s2l_auth_cred *creds;
    size_t n;
    const s2l_auth_cred *first_basic;   /* timing decoy for unknown user names */
    const s2l_auth_cred *first_client;  /* the same for unknown client ids */
    unsigned char cache_key[DIGEST_LEN]; /* random per state: keys the verified-secret digests */
    char bearer_challenge[128];          /* realm is at most 100 characters (config.c) */
    char basic_challenge[160];
    char *realm;

    /* token endpoint; on when signing_key.alg is set */
    char *token_path;
    s2l_jwk signing_key;
    char *issuer;
    char *audience;
    unsigned lifetime_s;
};

/* Whether secret verifies for c (basic / oauth_client), using and filling the cache. */
bool s2l_auth_secret_ok_(s2l_auth *a, s2l_auth_cred *c, const char *secret, size_t len);
/* The basic/oauth_client credential of that kind whose user name / client id is
 * id, compared against every candidate without an early exit; NULL if none. */
s2l_auth_cred *s2l_auth_find_id_(s2l_auth *a, cred_kind kind, const char *id);
/* Frees everything (refs ignored). */
void s2l_auth_free_(s2l_auth *a);

#endif
