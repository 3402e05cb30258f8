/* jwt.c — compact JWS parsing, verification, claims and signing (see include/s2l/jwt.h). */
#include "s2l/jwt.h"

#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "s2l/base64.h"

const char *s2l_jws_alg_name(s2l_jws_alg alg)
{
    switch (alg) {
    case S2L_JWS_HS256: return "HS256";
    case S2L_JWS_RS256: return "RS256";
    case S2L_JWS_ES256: return "ES256";
    case S2L_JWS_UNSUPPORTED: break;
    }
    return "unsupported";
}

s2l_jws_alg s2l_jws_alg_from_name(const char *name)
{
    if (name == NULL)
        return S2L_JWS_UNSUPPORTED;
    if (strcmp(name, "HS256") == 0)
        return S2L_JWS_HS256;
    if (strcmp(name, "RS256") == 0)
        return S2L_JWS_RS256;
    if (strcmp(name, "ES256") == 0)
        return S2L_JWS_ES256;
    return S2L_JWS_UNSUPPORTED;
}

static bool b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool s2l_jwt_shaped(const char *token, size_t len)
{
    if (len == 0 || len > S2L_JWT_MAX_LEN)
        return false;
    int dots = 0;
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        if (token[i] == '.') {
            if (run == 0 || ++dots > 2)
                return false;
            run = 0;
        } else if (!b64url_char(token[i])) {
            return false;
        } else {
            run++;
        }
    }
    return dots == 2 && run > 0;
}

/* Decodes one base64url part into a JSON object. */
static json_t *decode_json_part(const char *p, size_t n)
{
    unsigned char *buf = malloc(s2l_b64_decoded_max(n));
    size_t len;
    json_t *j = NULL;
    if (buf && s2l_b64url_decode(p, n, buf, &len) == 0) {
        json_error_t jerr;
        j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (j && !json_is_object(j)) {
            json_decref(j);
            j = NULL;
        }
    }
    free(buf);
    return j;
}

void s2l_jwt_fini(s2l_jwt *t)
{
    if (t == NULL)
        return;
    json_decref(t->header);
    json_decref(t->claims);
    free(t->sig);
    memset(t, 0, sizeof *t);
}

int s2l_jwt_parse(const char *token, size_t len, s2l_jwt *out, const char **why)
{
    memset(out, 0, sizeof *out);
    if (len > S2L_JWT_MAX_LEN) {
        *why = "token too long";
        return -1;
    }
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (d1 == NULL || d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL) {
        *why = "not three dot-separated parts";
        return -1;
    }
    size_t hl = (size_t)(d1 - token), pl = (size_t)(d2 - d1 - 1), sl = len - (size_t)(d2 + 1 - token);
    out->header = decode_json_part(token, hl);
    if (out->header == NULL) {
        *why = "header is not base64url-encoded JSON object";
        goto err;
    }
    out->claims = decode_json_part(d1 + 1, pl);
    if (out->claims == NULL) {
        *why = "payload is not a base64url-encoded JSON object";
        goto err;
    }
    out->sig = malloc(s2l_b64_decoded_max(sl));
    if (out->sig == NULL || s2l_b64url_decode(d2 + 1, sl, out->sig, &out->sig_len) < 0) {
        *why = "signature is not base64url";
        goto err;
    }
    const json_t *alg = json_object_get(out->header, "alg");
    if (!json_is_string(alg)) {
        *why = "header has no alg";
        goto err;
    }
    /* RFC 7515 §4.1.11: an extension we do not understand must make the token invalid. */
    if (json_object_get(out->header, "crit") != NULL) {
        *why = "header has crit";
        goto err;
    }
    out->alg = s2l_jws_alg_from_name(json_string_value(alg));
    const json_t *kid = json_object_get(out->header, "kid");
    out->kid = json_is_string(kid) ? json_string_value(kid) : NULL;
    out->signed_len = (size_t)(d2 - token);
    return 0;
err:
    s2l_jwt_fini(out);
    return -1;
}

bool s2l_jwk_matches(const s2l_jwk *key, const s2l_jwt *t)
{
    if (key->alg != t->alg || t->alg == S2L_JWS_UNSUPPORTED)
        return false;
    return key->kid == NULL || t->kid == NULL || strcmp(key->kid, t->kid) == 0;
}

/* ---- ECDSA signature forms ---- */

int s2l_ecdsa_raw_to_der(const unsigned char raw[64], unsigned char *der, size_t cap, size_t *der_len)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, 32, NULL), *s = BN_bin2bn(raw + 32, 32, NULL);
    int rc = -1;
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1)
        goto out;
    r = s = NULL; /* owned by sig now */
    int n = i2d_ECDSA_SIG(sig, NULL);
    if (n <= 0 || (size_t)n > cap)
        goto out;
    unsigned char *p = der;
    if (i2d_ECDSA_SIG(sig, &p) != n)
        goto out;
    *der_len = (size_t)n;
    rc = 0;
out:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return rc;
}

int s2l_ecdsa_der_to_raw(const unsigned char *der, size_t len, unsigned char raw[64])
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    int rc = -1;
    if (sig == NULL || p != der + len)
        goto out;
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_num_bytes(r) > 32 || BN_num_bytes(s) > 32 || BN_bn2binpad(r, raw, 32) != 32 ||
        BN_bn2binpad(s, raw + 32, 32) != 32)
        goto out;
    rc = 0;
out:
    ECDSA_SIG_free(sig);
    return rc;
}

/* ---- signatures ---- */

static bool hmac_sha256(const s2l_jwk *key, const char *data, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    return HMAC(EVP_sha256(), key->secret, (int)key->secret_len, (const unsigned char *)data, len, out, &n) != NULL &&
           n == 32;
}

static bool pkey_verify(EVP_PKEY *pkey, const char *data, size_t len, const unsigned char *sig, size_t sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
              EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)data, len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

bool s2l_jwt_verify(const s2l_jwt *t, const char *token, const s2l_jwk *key)
{
    if (t->alg != key->alg)
        return false;
    switch (key->alg) {
    case S2L_JWS_HS256: {
        unsigned char mac[32];
        return key->secret != NULL && t->sig_len == 32 && hmac_sha256(key, token, t->signed_len, mac) &&
               CRYPTO_memcmp(mac, t->sig, 32) == 0;
    }
    case S2L_JWS_RS256:
        return key->pkey != NULL && t->sig_len == (size_t)EVP_PKEY_get_size(key->pkey) &&
               pkey_verify(key->pkey, token, t->signed_len, t->sig, t->sig_len);
    case S2L_JWS_ES256: {
        unsigned char der[80];
        size_t der_len;
        return key->pkey != NULL && t->sig_len == 64 &&
               s2l_ecdsa_raw_to_der(t->sig, der, sizeof der, &der_len) == 0 &&
               pkey_verify(key->pkey, token, t->signed_len, der, der_len);
    }
    case S2L_JWS_UNSUPPORTED: break;
    }
    return false;
}

/* ---- claims ---- */

const char *s2l_jwt_claim_str(const s2l_jwt *t, const char *name)
{
    return json_string_value(json_object_get(t->claims, name));
}

static bool in_list(const char *v, const char *const *list, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        if (strcmp(v, list[i]) == 0)
            return true;
    return false;
}

s2l_jwt_claims_result s2l_jwt_check_claims(const s2l_jwt *t, const s2l_jwt_expect *e)
{
    if (!in_list(s2l_jwt_claim_str(t, "iss"), e->issuers, e->n_issuers))
        return S2L_JWT_WRONG_ISSUER;
    const json_t *aud = json_object_get(t->claims, "aud");
    bool aud_ok = false;
    if (json_is_string(aud)) {
        aud_ok = in_list(json_string_value(aud), e->audiences, e->n_audiences);
    } else if (json_is_array(aud)) {
        size_t i;
        const json_t *a;
        json_array_foreach(aud, i, a) aud_ok = aud_ok || in_list(json_string_value(a), e->audiences, e->n_audiences);
    }
    if (!aud_ok)
        return S2L_JWT_WRONG_AUDIENCE;
    const json_t *exp = json_object_get(t->claims, "exp");
    if (!json_is_number(exp))
        return S2L_JWT_NO_EXPIRY;
    /* RFC 7519 §4.1.4: the token is valid only before exp. */
    if ((double)(e->now_s - (int64_t)e->skew_s) >= json_number_value(exp))
        return S2L_JWT_EXPIRED;
    const json_t *nbf = json_object_get(t->claims, "nbf");
    if (nbf != NULL && (!json_is_number(nbf) || (double)(e->now_s + (int64_t)e->skew_s) < json_number_value(nbf)))
        return S2L_JWT_NOT_YET_VALID;
    return S2L_JWT_VALID;
}

/* ---- signing ---- */

static int sign_bytes(const s2l_jwk *key, const char *data, size_t len, unsigned char *sig, size_t *sig_len)
{
    if (key->alg == S2L_JWS_HS256) {
        if (!hmac_sha256(key, data, len, sig))
            return -1;
        *sig_len = 32;
        return 0;
    }
    unsigned char der[1100];
    size_t der_len = sizeof der;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = -1;
    if (ctx == NULL || key->pkey == NULL || EVP_PKEY_get_size(key->pkey) > (int)sizeof der ||
        EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key->pkey) != 1 ||
        EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)data, len) != 1)
        goto out;
    if (key->alg == S2L_JWS_ES256) {
        if (s2l_ecdsa_der_to_raw(der, der_len, sig) < 0)
            goto out;
        *sig_len = 64;
    } else {
        memcpy(sig, der, der_len);
        *sig_len = der_len;
    }
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

static char *b64url_json(const json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    char *out = text ? s2l_b64url_encode_alloc((const unsigned char *)text, strlen(text)) : NULL;
    free(text);
    return out;
}

char *s2l_jwt_sign(const s2l_jwk *key, const json_t *claims)
{
    if (key->alg == S2L_JWS_UNSUPPORTED)
        return NULL;
    json_t *header = json_pack("{s:s, s:s}", "alg", s2l_jws_alg_name(key->alg), "typ", "JWT");
    if (header && key->kid)
        json_object_set_new(header, "kid", json_string(key->kid));
    char *h = header ? b64url_json(header) : NULL;
    char *p = b64url_json(claims);
    char *out = NULL;
    unsigned char sig[1100];
    size_t sig_len;
    if (h && p) {
        size_t hl = strlen(h), pl = strlen(p);
        size_t cap = hl + pl + 2 + s2l_b64_encoded_len(sizeof sig) + 1;
        out = malloc(cap);
        if (out) {
            memcpy(out, h, hl);
            out[hl] = '.';
            memcpy(out + hl + 1, p, pl);
            out[hl + 1 + pl] = 0;
            if (sign_bytes(key, out, hl + 1 + pl, sig, &sig_len) == 0) {
                out[hl + 1 + pl] = '.';
                s2l_b64url_encode(sig, sig_len, out + hl + pl + 2);
            } else {
                free(out);
                out = NULL;
            }
        }
    }
    json_decref(header);
    free(h);
    free(p);
    return out;
}
