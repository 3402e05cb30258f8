/* auth.c — the authentication decision for a request and the permission
 * check once the resource is known (see include/s2l/auth.h). */
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_internal.h"
#include "s2l/http_auth.h"

s2l_auth *s2l_auth_hold(s2l_auth *a)
{
    if (a)
        a->refs++;
    return a;
}

void s2l_auth_release(s2l_auth *a)
{
    if (a && --a->refs == 0)
        s2l_auth_free_(a);
}

size_t s2l_auth_count(const s2l_auth *a)
{
    return a->n;
}

bool s2l_auth_has_basic(const s2l_auth *a)
{
    return a->first_basic != NULL;
}

const char *s2l_auth_token_path(const s2l_auth *a)
{
    return a->signing_key.alg != S2L_JWS_UNSUPPORTED ? a->token_path : NULL;
}

const char *s2l_auth_cred_name(const s2l_auth_cred *c)
{
    return c ? c->name : NULL;
}

bool s2l_auth_cred_read_only(const s2l_auth_cred *c)
{
    return c && c->read_only;
}

/* ---- secrets ---- */

s2l_auth_cred *s2l_auth_find_id_(s2l_auth *a, cred_kind kind, const char *id)
{
    unsigned char digest[DIGEST_LEN];
    SHA256((const unsigned char *)id, strlen(id), digest);
    s2l_auth_cred *match = NULL;
    /* Every candidate is compared, so the time taken does not tell how many
     * there are before the right one. */
    for (size_t i = 0; i < a->n; i++) {
        s2l_auth_cred *c = &a->creds[i];
        bool same = c->kind == kind && CRYPTO_memcmp(digest, c->id_digest, DIGEST_LEN) == 0;
        if (same)
            match = c;
    }
    return match;
}

bool s2l_auth_secret_ok_(s2l_auth *a, s2l_auth_cred *c, const char *secret, size_t len)
{
    unsigned char mac[DIGEST_LEN];
    unsigned int mac_len = 0;
    bool have_mac = HMAC(EVP_sha256(), a->cache_key, (int)sizeof a->cache_key, (const unsigned char *)secret, len,
                         mac, &mac_len) != NULL &&
                    mac_len == DIGEST_LEN;
    /* A secret that verified before is recognised by a keyed digest: a
     * provisioning run of thousands of requests pays for the slow hash once. */
    if (have_mac && c->has_verified && CRYPTO_memcmp(mac, c->verified, DIGEST_LEN) == 0)
        return true;
    if (!s2l_secret_hash_verify(&c->secret, secret, len))
        return false;
    if (have_mac) {
        memcpy(c->verified, mac, DIGEST_LEN);
        c->has_verified = true;
    }
    return true;
}

/* ---- decisions ---- */

typedef enum {
    FOUND,          /* a credential matched */
    BAD,            /* wrong or unknown: counts as a failed attempt */
    EXPIRED_TOKEN,  /* a JWT past its exp: 401 naming expiry, not counted */
} outcome;

static void set_detail(s2l_auth_decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_detail(s2l_auth_decision *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->detail, sizeof d->detail, fmt, ap);
    va_end(ap);
}

/* 401 with the challenges: Bearer (with error="invalid_token" when a bearer
 * token was presented, RFC 6750 §3.1) and Basic when a basic credential exists. */
static void unauthenticated(const s2l_auth *a, s2l_auth_decision *d, const char *reason, const char *token_error)
{
    d->status = 401;
    d->reason = reason;
    if (token_error)
        snprintf(d->challenges[0], sizeof d->challenges[0], "%s, error=\"invalid_token\", error_description=\"%s\"",
                 a->bearer_challenge, token_error);
    else
        snprintf(d->challenges[0], sizeof d->challenges[0], "%s", a->bearer_challenge);
    d->n_challenges = 1;
    if (a->first_basic)
        snprintf(d->challenges[d->n_challenges++], sizeof d->challenges[0], "%s", a->basic_challenge);
}

static bool kind_allows(const s2l_auth_cred *c, s2l_jws_alg alg)
{
    return (alg == S2L_JWS_RS256 && c->allow_rs256) || (alg == S2L_JWS_ES256 && c->allow_es256);
}

/* How far a token got: the furthest stage reached names the failure. */
typedef struct jwt_progress {
    int stage;
    const char *reason;
    bool expired;
    int64_t valid_from_s, valid_until_s; /* of the accepted token */
} jwt_progress;

static void progress(jwt_progress *p, int stage, const char *reason)
{
    if (stage >= p->stage) {
        p->stage = stage;
        p->reason = reason;
    }
}

static const char *claims_reason(s2l_jwt_claims_result r)
{
    switch (r) {
    case S2L_JWT_VALID: return "ok";
    case S2L_JWT_EXPIRED: return "token_expired";
    case S2L_JWT_NOT_YET_VALID: return "jwt_not_yet_valid";
    case S2L_JWT_WRONG_ISSUER: return "jwt_wrong_issuer";
    case S2L_JWT_WRONG_AUDIENCE: return "jwt_wrong_audience";
    case S2L_JWT_NO_EXPIRY: return "jwt_no_expiry";
    }
    return "jwt_invalid";
}

/* Tries the keys of one issuer; 1 when a key verified the signature. */
static int verify_with(const s2l_jwt *t, const char *token, const s2l_jwk *keys, size_t n, jwt_progress *p)
{
    bool kid_known = false;
    for (size_t i = 0; i < n; i++) {
        const s2l_jwk *k = &keys[i];
        if (k->kid != NULL && t->kid != NULL && strcmp(k->kid, t->kid) != 0)
            continue;
        kid_known = true;
        if (!s2l_jwk_matches(k, t))
            continue;
        if (s2l_jwt_verify(t, token, k))
            return 1;
    }
    progress(p, kid_known ? 3 : 2, kid_known ? "jwt_bad_signature" : "jwt_unknown_kid");
    return 0;
}

/* Tokens our own token endpoint issued: the signing key, our issuer and
 * audience, and "sub" naming an oauth_client credential that still exists. */
/* The window in which a verified token stays valid: [nbf - skew, exp + skew). */
static void validity(const s2l_jwt *t, unsigned skew_s, int64_t *from, int64_t *until)
{
    const json_t *nbf = json_object_get(t->claims, "nbf"), *exp = json_object_get(t->claims, "exp");
    double f = json_is_number(nbf) ? json_number_value(nbf) - skew_s : 0;
    double u = json_number_value(exp) + skew_s;
    *from = f < 0 ? 0 : f > 4e12 ? (int64_t)4e12 : (int64_t)f;
    *until = u < 0 ? 0 : u > 4e12 ? (int64_t)4e12 : (int64_t)u;
}

static outcome check_own_token(s2l_auth *a, const s2l_jwt *t, const char *token, int64_t now_s,
                               s2l_auth_cred **found, jwt_progress *p)
{
    if (verify_with(t, token, &a->signing_key, 1, p) == 0)
        return BAD;
    const char *iss[] = {a->issuer}, *aud[] = {a->audience};
    s2l_jwt_expect e = {iss, 1, aud, 1, now_s, 60};
    s2l_jwt_claims_result r = s2l_jwt_check_claims(t, &e);
    if (r != S2L_JWT_VALID) {
        progress(p, 4, claims_reason(r));
        p->expired = r == S2L_JWT_EXPIRED;
        return BAD;
    }
    const char *sub = s2l_jwt_claim_str(t, "sub");
    s2l_auth_cred *c = sub ? s2l_auth_find_id_(a, CRED_OAUTH_CLIENT, sub) : NULL;
    if (c == NULL) {
        progress(p, 4, "jwt_unknown_client");
        return BAD;
    }
    *found = c;
    validity(t, 60, &p->valid_from_s, &p->valid_until_s);
    return FOUND;
}

static outcome check_jwt(s2l_auth *a, const char *token, size_t len, const unsigned char digest[DIGEST_LEN],
                         int64_t now_s, s2l_auth_cred **found, const char **reason)
{
    jwt_cache_entry *slot = &a->jwt_cache[digest[0] % JWT_CACHE_SLOTS];
    if (slot->cred && CRYPTO_memcmp(slot->digest, digest, DIGEST_LEN) == 0) {
        if (now_s >= slot->valid_from_s && now_s < slot->valid_until_s) {
            *found = slot->cred;
            return FOUND;
        }
        slot->cred = NULL; /* outside its window: check it in full (and name the reason) */
    }
    s2l_jwt t;
    const char *why;
    jwt_progress p = {0, "jwt_unknown_issuer", false, 0, 0};
    if (s2l_jwt_parse(token, len, &t, &why) < 0) {
        *reason = "jwt_malformed";
        return BAD;
    }
    outcome o = BAD;
    if (t.alg == S2L_JWS_UNSUPPORTED) {
        /* "none" and anything else we do not implement. */
        p.reason = "jwt_alg_not_allowed";
        goto done;
    }
    const char *iss = s2l_jwt_claim_str(&t, "iss");
    if (iss == NULL)
        goto done;
    if (a->signing_key.alg != S2L_JWS_UNSUPPORTED && strcmp(iss, a->issuer) == 0 &&
        (o = check_own_token(a, &t, token, now_s, found, &p)) == FOUND)
        goto done;
    for (size_t i = 0; i < a->n; i++) {
        s2l_auth_cred *c = &a->creds[i];
        bool issuer = false;
        for (size_t k = 0; c->kind == CRED_JWT && k < c->n_issuers; k++)
            issuer = issuer || strcmp(c->issuers[k], iss) == 0;
        if (!issuer)
            continue;
        if (!kind_allows(c, t.alg)) {
            progress(&p, 1, "jwt_alg_not_allowed");
            continue;
        }
        if (verify_with(&t, token, c->keys.keys, c->keys.n, &p) == 0)
            continue;
        s2l_jwt_expect e = {(const char *const *)c->issuers, c->n_issuers, (const char *const *)c->audiences,
                            c->n_audiences, now_s, c->skew_s};
        s2l_jwt_claims_result r = s2l_jwt_check_claims(&t, &e);
        if (r == S2L_JWT_VALID) {
            *found = c;
            validity(&t, c->skew_s, &p.valid_from_s, &p.valid_until_s);
            o = FOUND;
            goto done;
        }
        progress(&p, 4, claims_reason(r));
        p.expired = p.expired || r == S2L_JWT_EXPIRED;
    }
    o = BAD;
done:
    s2l_jwt_fini(&t);
    if (o != FOUND) {
        *reason = p.expired ? "token_expired" : p.reason;
        return p.expired ? EXPIRED_TOKEN : BAD;
    }
    memcpy(slot->digest, digest, DIGEST_LEN);
    slot->valid_from_s = p.valid_from_s;
    slot->valid_until_s = p.valid_until_s;
    slot->cred = *found;
    return FOUND;
}

static outcome check_bearer(s2l_auth *a, const char *token, size_t len, bool raw, int64_t now_s,
                            s2l_auth_cred **found, const char **reason)
{
    unsigned char digest[DIGEST_LEN];
    SHA256((const unsigned char *)token, len, digest);
    s2l_auth_cred *match = NULL;
    for (size_t i = 0; i < a->n; i++) {
        s2l_auth_cred *c = &a->creds[i];
        bool same = c->kind == CRED_BEARER && CRYPTO_memcmp(digest, c->token_digest, DIGEST_LEN) == 0;
        if (same)
            match = c;
    }
    if (match) {
        *found = match;
        return FOUND;
    }
    if (!raw && s2l_jwt_shaped(token, len))
        return check_jwt(a, token, len, digest, now_s, found, reason);
    *reason = "unknown_token";
    return BAD;
}

static outcome check_basic(s2l_auth *a, const char *b64, size_t len, s2l_auth_cred **found, const char **reason)
{
    char buf[S2L_BASIC_MAX + 8];
    const char *user, *password;
    outcome o = BAD;
    if (s2l_basic_decode(b64, len, buf, sizeof buf, &user, &password) < 0) {
        *reason = "malformed_basic";
        goto out;
    }
    s2l_auth_cred *c = s2l_auth_find_id_(a, CRED_BASIC, user);
    if (c == NULL) {
        /* Spend the same time as for a wrong password, so that probing does
         * not tell which user names exist. */
        if (a->first_basic)
            (void)s2l_secret_hash_verify(&a->first_basic->secret, password, strlen(password));
        *reason = "unknown_user";
        goto out;
    }
    if (!s2l_auth_secret_ok_(a, c, password, strlen(password))) {
        *reason = "wrong_password";
        goto out;
    }
    *found = c;
    o = FOUND;
out:
    OPENSSL_cleanse(buf, sizeof buf);
    return o;
}

static bool source_allowed(const s2l_auth_cred *c, const s2l_ip *src)
{
    if (c->n_allow_from == 0)
        return true;
    for (size_t i = 0; src && i < c->n_allow_from; i++)
        if (s2l_cidr_match(&c->allow_from[i], src))
            return true;
    return false;
}

void s2l_auth_authenticate(s2l_auth *a, const s2l_auth_input *in, s2l_auth_decision *d)
{
    memset(d, 0, sizeof *d);
    int retry = 0;
    if (in->source && s2l_auth_limits_check_(a->limits, false, in->source, in->now_ms, &retry) < 0) {
        d->status = 429;
        d->reason = "too_many_failures";
        d->retry_after = retry;
        set_detail(d, "too many failed authentication attempts from this address; retry after %d seconds", retry);
        return;
    }
    int64_t now_s = in->now_ms / 1000;
    s2l_authz z;
    s2l_authz_parse(in->authorization, &z);
    s2l_auth_cred *c = NULL;
    const char *reason = "unknown_token";
    outcome o;
    switch (z.scheme) {
    case S2L_AUTHZ_NONE:
        unauthenticated(a, d, "no_credentials", NULL);
        set_detail(d, "authentication required: Authorization: Bearer <token>%s",
                   a->first_basic ? " or Basic <credentials>" : "");
        return;
    case S2L_AUTHZ_OTHER:
        unauthenticated(a, d, "unsupported_scheme", NULL);
        set_detail(d, "unsupported authentication scheme; use Bearer%s", a->first_basic ? " or Basic" : "");
        return;
    case S2L_AUTHZ_MALFORMED:
        o = BAD;
        reason = "malformed_credentials";
        break;
    case S2L_AUTHZ_BASIC:
        o = a->first_basic ? check_basic(a, z.cred, z.cred_len, &c, &reason) : BAD;
        if (a->first_basic == NULL)
            reason = "no_basic_credentials";
        break;
    case S2L_AUTHZ_BEARER:
    case S2L_AUTHZ_RAW:
    default:
        o = check_bearer(a, z.cred, z.cred_len, z.scheme == S2L_AUTHZ_RAW, now_s, &c, &reason);
        break;
    }
    bool bearer = z.scheme == S2L_AUTHZ_BEARER || z.scheme == S2L_AUTHZ_RAW;
    if (o == EXPIRED_TOKEN) {
        unauthenticated(a, d, reason, "The access token expired");
        set_detail(d, "the access token has expired");
        return;
    }
    if (o == BAD) {
        if (in->source)
            s2l_auth_limits_fail_(a->limits, false, in->source, in->now_ms);
        unauthenticated(a, d, reason, bearer ? "The access token is invalid" : NULL);
        set_detail(d, "the credentials are not valid");
        return;
    }
    d->cred = c;
    if (c->not_after_s > 0 && now_s >= c->not_after_s) {
        unauthenticated(a, d, "credential_expired", bearer ? "The credential expired" : NULL);
        set_detail(d, "the credential has expired");
        return;
    }
    if (!source_allowed(c, in->source)) {
        d->status = 403;
        d->reason = "source_not_allowed";
        set_detail(d, "this credential may not be used from this address");
        return;
    }
    int taken = 0;
    if (c->rate_limited) {
        pthread_mutex_lock(&a->limits->lock);
        taken = s2l_bucket_take(&a->limits->buckets[c - a->creds], &c->rate, in->now_ms, &retry);
        pthread_mutex_unlock(&a->limits->lock);
    }
    if (taken < 0) {
        d->status = 429;
        d->reason = "rate_limited";
        d->retry_after = retry;
        set_detail(d, "request rate limit exceeded; retry after %d seconds", retry);
        return;
    }
    d->reason = "ok";
}

/* ---- permissions once the resource is known ---- */

static bool names_type(const char *configured, const char *type_name, const char *endpoint)
{
    if (strcasecmp(configured, type_name) == 0)
        return true;
    const char *e = endpoint[0] == '/' ? endpoint + 1 : endpoint;
    const char *c = configured[0] == '/' ? configured + 1 : configured;
    return strcasecmp(c, e) == 0;
}

int s2l_auth_permit(const s2l_auth_cred *c, const char *type_name, const char *endpoint, bool write,
                    s2l_error *err)
{
    if (c == NULL) {
        s2l_error_set(err, 403, NULL, "not authenticated");
        return -1;
    }
    if (c->resource_types) {
        bool ok = false;
        for (size_t i = 0; i < c->n_resource_types; i++)
            ok = ok || names_type(c->resource_types[i], type_name, endpoint);
        if (!ok) {
            s2l_error_set(err, 403, NULL, "this credential may not access %s", endpoint);
            return -1;
        }
    }
    if (write && c->read_only) {
        s2l_error_set(err, 403, NULL, "this credential is read-only");
        return -1;
    }
    return 0;
}

json_t *s2l_auth_schemes_json(const s2l_auth *a)
{
    json_t *list = json_array();
    json_t *bearer = json_pack("{s:s, s:s, s:s, s:b}", "type", "oauthbearertoken", "name", "OAuth Bearer Token",
                               "description",
                               "A bearer token: a static secret token, an access token from the token endpoint, "
                               "or a JWT from a trusted issuer",
                               "primary", 1);
    if (list == NULL || bearer == NULL || json_array_append_new(list, bearer) != 0) {
        json_decref(list);
        return NULL;
    }
    if (a->first_basic) {
        json_t *basic = json_pack("{s:s, s:s, s:s}", "type", "httpbasic", "name", "HTTP Basic", "description",
                                  "Authentication with a user name and password (RFC 7617)");
        if (basic == NULL || json_array_append_new(list, basic) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}
