/* auth.h — who may call the gateway, and what they may do.
 *
 * Credentials (auth.credentials in the configuration, plus the
 * auth.bearer_tokens shorthand) are of four kinds:
 *   bearer        a static token ("Authorization: Bearer <token>", or the bare
 *                 token as Okta's "Header" mode sends it)
 *   basic         a user name and a slow salted password hash (HTTP Basic)
 *   oauth_client  a client id and secret hash that may get access tokens from
 *                 the token endpoint (RFC 6749 §4.4); those tokens are JWTs
 *                 signed with auth.token_endpoint.signing_key_file, so every
 *                 gateway with the same key and client accepts them
 *   jwt           tokens issued elsewhere (Entra ID, any OIDC provider),
 *                 checked against a JWKS file or PEM keys, issuer and audience
 * and each may carry not_after, read_only, resource_types, allow_from and a
 * rate_limit.
 *
 * The state is ONE object built from a configuration (s2l_auth_create) and
 * reference counted: the gateway holds one reference, and a request that
 * authenticated holds another until it ends (the credential it names is
 * borrowed from the state). A reload builds a new state and swaps the
 * gateway's pointer; requests in flight keep the old one alive, and the last
 * s2l_auth_release frees it. The mutable parts (rate-limit buckets,
 * failed-attempt counters per source address, the cache of verified
 * passwords) belong to one generation and start afresh on a reload.
 * One event loop uses a state; the rate-limit part (buckets and
 * failed-attempt tables) may be shared by the states of several loops
 * (s2l_auth_share_limits) and is then locked.
 *
 * Pure: the clock and the client address come in as values; no libevent, no
 * LDAP. Secrets never reach a log line or an error text: details name the
 * problem ("the credential has expired"), never the secret, and 401 details
 * never say which credential was meant.
 */
#ifndef S2L_AUTH_H
#define S2L_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2l/cidr.h"
#include "s2l/config.h"
#include "s2l/error.h"

typedef struct s2l_auth s2l_auth;
typedef struct s2l_auth_cred s2l_auth_cred;

/* Builds the state from cfg (borrowed; nothing in the state points into it):
 * parses and checks every credential, reads secrets from *_file and *_env,
 * loads JWKS/PEM keys and the token signing key. resource_types, when not
 * NULL, is a NULL-terminated list of the mapping's type names and endpoints
 * ("User", "/Users", ...) that credentials' resource_types must name.
 * NULL with "<file>: <json path>: <problem>" in errbuf. One reference. */
s2l_auth *s2l_auth_create(const s2l_config *cfg, const char *const *resource_types, char *errbuf, size_t errlen);
s2l_auth *s2l_auth_hold(s2l_auth *a);
/* Drops a reference; the last one frees the state. NULL is fine. */
void s2l_auth_release(s2l_auth *a);
/* a counts against from's rate limits from now on (per-credential buckets,
 * failed attempts per source address): for the per-worker states built from
 * one reading of the configuration (gateway/workers.h). false, with a
 * unchanged, when their credentials or limits differ. */
bool s2l_auth_share_limits(s2l_auth *a, s2l_auth *from);

size_t s2l_auth_count(const s2l_auth *a);
bool s2l_auth_has_basic(const s2l_auth *a);
/* The token endpoint's path ("/oauth/token"), or NULL when it is off (no
 * auth.token_endpoint.signing_key_file). */
const char *s2l_auth_token_path(const s2l_auth *a);

/* A credential's name (for logs; never a secret) and settings. */
const char *s2l_auth_cred_name(const s2l_auth_cred *c);
bool s2l_auth_cred_read_only(const s2l_auth_cred *c);

/* ---- the decision for one request ---- */

typedef struct s2l_auth_input {
    const char *authorization;   /* the Authorization header value, or NULL */
    const s2l_ip *source;        /* the client address, or NULL if unknown (allow_from then fails) */
    int64_t now_ms;              /* wall clock, milliseconds since the epoch */
} s2l_auth_input;

#define S2L_AUTH_CHALLENGE_MAX 384

typedef struct s2l_auth_decision {
    int status;                  /* 0: allowed; otherwise 401, 403 or 429 */
    const s2l_auth_cred *cred;   /* the credential presented when known (also with 403, 429 and expiry);
                                  * borrowed from the state */
    const char *reason;          /* static key for the log: "ok", "no_credentials", "unknown_token",
                                  * "wrong_password", "credential_expired", "token_expired",
                                  * "jwt_bad_signature", "source_not_allowed", "rate_limited", ... */
    int retry_after;             /* seconds, with 429 */
    char detail[S2L_ERROR_DETAIL_MAX]; /* for the SCIM error body */
    size_t n_challenges;         /* WWW-Authenticate values to send with 401 */
    char challenges[2][S2L_AUTH_CHALLENGE_MAX];
} s2l_auth_decision;

/* Authenticates one request:
 *   - a source that used up its failed attempts (auth.failed_attempts) → 429 before
 *     anything is checked;
 *   - no or unknown credentials → 401 with a Bearer challenge (and a Basic one
 *     when a basic credential exists); a presented but wrong credential counts
 *     as a failed attempt of the source;
 *   - an expired credential or token → 401 whose detail names expiry;
 *   - a source outside the credential's allow_from → 403;
 *   - the credential's rate_limit exhausted → 429.
 * Comparisons of secrets are constant-time and never stop at the first match. */
void s2l_auth_authenticate(s2l_auth *a, const s2l_auth_input *in, s2l_auth_decision *d);

/* What an authenticated credential may do once the resource type is known
 * (name "User", endpoint "/Users"): resource_types and read_only (writes are
 * POST, PUT, PATCH and DELETE). 0, or -1 with a 403 in err. */
int s2l_auth_permit(const s2l_auth_cred *c, const char *type_name, const char *endpoint, bool write,
                    s2l_error *err);

/* ---- the token endpoint (RFC 6749 §4.4 client credentials) ---- */

typedef struct s2l_token_request {
    const char *authorization;   /* header value or NULL (HTTP Basic client authentication) */
    const char *content_type;    /* or NULL */
    const char *body;            /* form (or JSON) body, not NUL-terminated */
    size_t body_len;
    const s2l_ip *source;
    int64_t now_ms;
} s2l_token_request;

typedef struct s2l_token_reply {
    int status;                  /* 200, 400, 401 or 429 */
    json_t *body;                /* new reference: the token response or {"error", "error_description"} */
    int retry_after;             /* with 429 */
    char challenge[S2L_AUTH_CHALLENGE_MAX]; /* WWW-Authenticate with 401, else "" */
    const char *reason;          /* static key for the log */
    const s2l_auth_cred *cred;   /* the client's credential when known (for the log) */
} s2l_token_reply;

/* Answers a token request; body is NULL only when out of memory. The token
 * endpoint counts its failed attempts per source separately
 * (auth.token_endpoint.failed_attempts). */
void s2l_auth_issue_token(s2l_auth *a, const s2l_token_request *r, s2l_token_reply *out);

/* RFC 7643 §5 authenticationSchemes for /ServiceProviderConfig: oauthbearertoken,
 * plus httpbasic when a basic credential exists. New reference. */
json_t *s2l_auth_schemes_json(const s2l_auth *a);

#endif
