/* jwt.h — JSON Web Tokens (RFC 7519) in the JWS compact serialization
 * (RFC 7515): parsing, signature verification, claim checks and signing with
 * OpenSSL's EVP interface.
 *
 * Algorithms: HS256, RS256 and ES256 only. The KEY decides the algorithm
 * (an RSA key verifies RS256 only, an EC P-256 key ES256 only, an HMAC secret
 * HS256 only) and the token's "alg" must equal it, so "alg":"none" or an
 * HS256 token "signed" with an RSA public key as the secret never verifies.
 * HMAC secrets never come from a key set or a PEM file of public keys.
 *
 * Ownership: s2l_jwt, s2l_jwk and s2l_jwks are embedded values with
 * _fini functions that free what they own (header/claims JSON, key material).
 * Strings returned by accessors are borrowed from the object.
 */
#ifndef S2L_JWT_H
#define S2L_JWT_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Tokens longer than this are refused before any decoding (Entra's are ~2 KB). */
#define S2L_JWT_MAX_LEN 16384

typedef enum { S2L_JWS_UNSUPPORTED = 0, S2L_JWS_HS256, S2L_JWS_RS256, S2L_JWS_ES256 } s2l_jws_alg;

const char *s2l_jws_alg_name(s2l_jws_alg alg);
/* "HS256" | "RS256" | "ES256"; anything else, "none" included, is UNSUPPORTED. */
s2l_jws_alg s2l_jws_alg_from_name(const char *name);

/* ---- keys ---- */

typedef struct s2l_jwk {
    char *kid;               /* NULL when the key has none */
    s2l_jws_alg alg;         /* the one algorithm this key works with */
    EVP_PKEY *pkey;          /* RS256/ES256 (public, or a private key that signs) */
    unsigned char *secret;   /* HS256 */
    size_t secret_len;
} s2l_jwk;

typedef struct s2l_jwks {
    s2l_jwk *keys;
    size_t n;
} s2l_jwks;

void s2l_jwk_fini(s2l_jwk *k);
void s2l_jwks_fini(s2l_jwks *set);

/* Adds the usable keys of a JWK Set ({"keys":[...]}, RFC 7517): RSA keys of
 * at least 2048 bits and EC P-256 keys, with "use" absent or "sig" and "alg"
 * absent or matching. Other keys (encryption keys, other curves, "oct") are
 * skipped, as an OIDC provider's set may hold them; a set without any usable
 * key is an error. Number of keys added, or -1 with err. */
int s2l_jwks_add_json(s2l_jwks *set, const json_t *doc, char *err, size_t errlen);
int s2l_jwks_add_file(s2l_jwks *set, const char *path, char *err, size_t errlen);
/* Adds a PEM public key ("BEGIN PUBLIC KEY") or the key of a certificate
 * ("BEGIN CERTIFICATE"); kid may be NULL (then it matches any token kid).
 * 0 or -1 with err. */
int s2l_jwks_add_pem_file(s2l_jwks *set, const char *path, const char *kid, char *err, size_t errlen);
/* The key of one JWK object, for tests and the set loader. 0, 1 (skipped:
 * not a signature key we use; why says what) or -1 (malformed; err). */
int s2l_jwk_from_json(const json_t *jwk, s2l_jwk *out, const char **why, char *err, size_t errlen);

/* The token endpoint's signing key from a file: a PEM private key (RSA of at
 * least 2048 bits → RS256, EC P-256 → ES256), or else the file's bytes (a
 * trailing newline dropped, at least 32 of them) as an HS256 secret. The kid
 * is a fingerprint of the key, the same on every gateway that has the file.
 * 0 or -1 with err (never quoting the file's content). */
int s2l_jwk_load_signing_file(s2l_jwk *key, const char *path, char *err, size_t errlen);

/* ---- tokens ---- */

typedef struct s2l_jwt {
    json_t *header;          /* JOSE header (object) */
    json_t *claims;          /* payload (object) */
    s2l_jws_alg alg;         /* UNSUPPORTED for "none" and anything unknown */
    const char *kid;         /* borrowed from header, or NULL */
    size_t signed_len;       /* the first signed_len bytes of the token are signed */
    unsigned char *sig;
    size_t sig_len;
} s2l_jwt;

/* Cheap shape test: three non-empty base64url parts separated by dots. */
bool s2l_jwt_shaped(const char *token, size_t len);
/* Decodes a compact JWS. -1 with *why (static text) when it is not one: wrong
 * number of parts, bad base64url, header or payload not a JSON object, "alg"
 * missing, a "crit" header (no extension is understood), longer than
 * S2L_JWT_MAX_LEN. On success the caller calls s2l_jwt_fini. */
int s2l_jwt_parse(const char *token, size_t len, s2l_jwt *out, const char **why);
void s2l_jwt_fini(s2l_jwt *t);

/* Whether key may check t: same algorithm, and the kids agree (a token kid
 * must equal the key's; a key without kid matches any token). */
bool s2l_jwk_matches(const s2l_jwk *key, const s2l_jwt *t);
/* Verifies t's signature (token is the text t was parsed from). The key's
 * algorithm is used; a token whose alg differs fails. */
bool s2l_jwt_verify(const s2l_jwt *t, const char *token, const s2l_jwk *key);

typedef struct s2l_jwt_expect {
    const char *const *issuers;   /* "iss" must equal one */
    size_t n_issuers;
    const char *const *audiences; /* "aud" (string or array) must contain one */
    size_t n_audiences;
    int64_t now_s;                /* seconds since the epoch */
    unsigned skew_s;              /* tolerated clock difference */
} s2l_jwt_expect;

typedef enum {
    S2L_JWT_VALID = 0,
    S2L_JWT_EXPIRED,          /* exp <= now - skew */
    S2L_JWT_NOT_YET_VALID,    /* nbf > now + skew */
    S2L_JWT_WRONG_ISSUER,
    S2L_JWT_WRONG_AUDIENCE,
    S2L_JWT_NO_EXPIRY,        /* no numeric "exp": tokens that never expire are refused */
} s2l_jwt_claims_result;

s2l_jwt_claims_result s2l_jwt_check_claims(const s2l_jwt *t, const s2l_jwt_expect *e);
/* A string claim, or NULL. */
const char *s2l_jwt_claim_str(const s2l_jwt *t, const char *name);

/* "<header>.<payload>.<signature>" for claims (borrowed) signed with key; the
 * header carries alg, typ "JWT" and the key's kid. malloc'd; NULL on failure. */
char *s2l_jwt_sign(const s2l_jwk *key, const json_t *claims);

/* ECDSA P-256 signatures: JWS carries r||s (64 bytes), OpenSSL speaks DER.
 * 0 or -1 (malformed, or a value that does not fit 32 bytes). */
int s2l_ecdsa_raw_to_der(const unsigned char raw[64], unsigned char *der, size_t cap, size_t *der_len);
int s2l_ecdsa_der_to_raw(const unsigned char *der, size_t len, unsigned char raw[64]);

#endif
