/* jose_fixture.h — test keys and JWS tokens made with OpenSSL directly, NOT
 * with gateway/core/jwt.c, so that tests check the gateway against an
 * independent implementation. Keys are generated at run time; nothing private
 * is stored in the repository. Shared by unit and integration tests
 * (static functions; include once per test program). */
#ifndef S2L_JOSE_FIXTURE_H
#define S2L_JOSE_FIXTURE_H

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline EVP_PKEY *jf_rsa_key(unsigned bits)
{
    return EVP_RSA_gen(bits);
}

static inline EVP_PKEY *jf_ec_key(void)
{
    return EVP_EC_gen("P-256");
}

static inline int jf_write_pem(EVP_PKEY *key, const char *path, int private_key)
{
    FILE *f = fopen(path, "w");
    int ok = f != NULL && (private_key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
                                       : PEM_write_PUBKEY(f, key));
    if (f)
        fclose(f);
    return ok ? 0 : -1;
}

/* base64url without padding (malloc'd). */
static inline char *jf_b64url(const unsigned char *in, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (out == NULL)
        return NULL;
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = 0;
    for (char *p = out; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    return out;
}

static inline char *jf_b64url_bn(const BIGNUM *bn, int width)
{
    unsigned char buf[1024];
    int n = width ? BN_bn2binpad(bn, buf, width) : BN_bn2bin(bn, buf);
    return n > 0 ? jf_b64url(buf, (size_t)n) : NULL;
}

/* The public JWK of an RSA or EC P-256 key. */
static inline json_t *jf_public_jwk(EVP_PKEY *key, const char *kid)
{
    json_t *j = NULL;
    if (EVP_PKEY_is_a(key, "RSA")) {
        BIGNUM *n = NULL, *e = NULL;
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n);
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e);
        char *ns = n ? jf_b64url_bn(n, 0) : NULL, *es = e ? jf_b64url_bn(e, 0) : NULL;
        if (ns && es)
            j = json_pack("{s:s, s:s, s:s, s:s}", "kty", "RSA", "use", "sig", "n", ns, "e", es);
        free(ns);
        free(es);
        BN_free(n);
        BN_free(e);
    } else {
        BIGNUM *x = NULL, *y = NULL;
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x);
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
        char *xs = x ? jf_b64url_bn(x, 32) : NULL, *ys = y ? jf_b64url_bn(y, 32) : NULL;
        if (xs && ys)
            j = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", xs, "y", ys);
        free(xs);
        free(ys);
        BN_free(x);
        BN_free(y);
    }
    if (j && kid)
        json_object_set_new(j, "kid", json_string(kid));
    return j;
}

/* A compact JWS over header_json and payload_json (used verbatim). alg picks
 * the signature: "RS256"/"ES256" with key, "HS256" with secret, "none" empty.
 * malloc'd; NULL on failure. */
static inline char *jf_sign(const char *alg, const char *header_json, const char *payload_json, EVP_PKEY *key,
                     const unsigned char *secret, size_t secret_len)
{
    char *h = jf_b64url((const unsigned char *)header_json, strlen(header_json));
    char *p = jf_b64url((const unsigned char *)payload_json, strlen(payload_json));
    size_t cap = strlen(h) + strlen(p) + 2048;
    char *out = malloc(cap);
    unsigned char sig[1024];
    size_t sig_len = 0;
    snprintf(out, cap, "%s.%s", h, p);
    if (strcmp(alg, "HS256") == 0) {
        unsigned int n = 0;
        HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)out, strlen(out), sig, &n);
        sig_len = n;
    } else if (strcmp(alg, "RS256") == 0 || strcmp(alg, "ES256") == 0) {
        unsigned char der[1024];
        size_t der_len = sizeof der;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key);
        EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)out, strlen(out));
        EVP_MD_CTX_free(ctx);
        if (strcmp(alg, "RS256") == 0) {
            memcpy(sig, der, der_len);
            sig_len = der_len;
        } else {
            const unsigned char *q = der;
            ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)der_len);
            const BIGNUM *r, *s;
            ECDSA_SIG_get0(es, &r, &s);
            BN_bn2binpad(r, sig, 32);
            BN_bn2binpad(s, sig + 32, 32);
            sig_len = 64;
            ECDSA_SIG_free(es);
        }
    }
    char *sg = jf_b64url(sig, sig_len);
    size_t len = strlen(out);
    snprintf(out + len, cap - len, ".%s", sg);
    free(h);
    free(p);
    free(sg);
    return out;
}

#endif
