/* jwt_keys.c — JWK / JWKS / PEM keys for JWS (see include/s2l/jwt.h). */
#include "s2l/jwt.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s2l/base64.h"

#define MIN_RSA_BITS 2048

void s2l_jwk_fini(s2l_jwk *k)
{
    if (k == NULL)
        return;
    free(k->kid);
    EVP_PKEY_free(k->pkey);
    if (k->secret) {
        OPENSSL_cleanse(k->secret, k->secret_len);
        free(k->secret);
    }
    memset(k, 0, sizeof *k);
}

void s2l_jwks_fini(s2l_jwks *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->n; i++)
        s2l_jwk_fini(&set->keys[i]);
    free(set->keys);
    set->keys = NULL;
    set->n = 0;
}

static int push_key(s2l_jwks *set, s2l_jwk *k)
{
    s2l_jwk *grown = realloc(set->keys, (set->n + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    set->keys = grown;
    set->keys[set->n++] = *k;
    memset(k, 0, sizeof *k);
    return 0;
}

/* The algorithm a public or private key works with; UNSUPPORTED (why set) otherwise. */
static s2l_jws_alg alg_of_pkey(EVP_PKEY *pkey, const char **why)
{
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        if (EVP_PKEY_get_bits(pkey) < MIN_RSA_BITS) {
            *why = "RSA key shorter than 2048 bits";
            return S2L_JWS_UNSUPPORTED;
        }
        return S2L_JWS_RS256;
    }
    if (EVP_PKEY_is_a(pkey, "EC")) {
        char group[64] = "";
        size_t glen = 0;
        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen) == 1 &&
            (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0))
            return S2L_JWS_ES256;
        *why = "EC key not on the P-256 curve";
        return S2L_JWS_UNSUPPORTED;
    }
    *why = "neither an RSA nor an EC P-256 key";
    return S2L_JWS_UNSUPPORTED;
}

/* base64url member of a JWK into a fresh buffer. */
static unsigned char *member_bytes(const json_t *jwk, const char *name, size_t *len)
{
    const char *v = json_string_value(json_object_get(jwk, name));
    if (v == NULL)
        return NULL;
    size_t n = strlen(v);
    unsigned char *buf = malloc(s2l_b64_decoded_max(n) + 1);
    if (buf && (s2l_b64url_decode(v, n, buf, len) < 0 || *len == 0)) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    if (pkey) {
        /* An EC point not on the curve (invalid-curve attacks) fails here. */
        EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        if (check == NULL || EVP_PKEY_public_check(check) != 1) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
        EVP_PKEY_CTX_free(check);
    }
    return pkey;
}

static EVP_PKEY *rsa_from_jwk(const json_t *jwk)
{
    size_t nl = 0, el = 0;
    unsigned char *n = member_bytes(jwk, "n", &nl), *e = member_bytes(jwk, "e", &el);
    BIGNUM *bn = n ? BN_bin2bn(n, (int)nl, NULL) : NULL, *be = e ? BN_bin2bn(e, (int)el, NULL) : NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) == 1)
        pkey = pkey_from_params("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    free(n);
    free(e);
    return pkey;
}

static EVP_PKEY *ec_from_jwk(const json_t *jwk)
{
    size_t xl = 0, yl = 0;
    unsigned char *x = member_bytes(jwk, "x", &xl), *y = member_bytes(jwk, "y", &yl);
    unsigned char point[65];
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    if (x && y && xl == 32 && yl == 32 && bld) {
        point[0] = 0x04; /* uncompressed */
        memcpy(point + 1, x, 32);
        memcpy(point + 33, y, 32);
        if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point) == 1)
            pkey = pkey_from_params("EC", bld);
    }
    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);
    return pkey;
}

int s2l_jwk_from_json(const json_t *jwk, s2l_jwk *out, const char **why, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(jwk)) {
        snprintf(err, errlen, "a key is not a JSON object");
        return -1;
    }
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *use = json_string_value(json_object_get(jwk, "use"));
    const char *alg = json_string_value(json_object_get(jwk, "alg"));
    const json_t *kid = json_object_get(jwk, "kid");
    if (kty == NULL) {
        snprintf(err, errlen, "a key has no \"kty\"");
        return -1;
    }
    if (use && strcmp(use, "sig") != 0) {
        *why = "not a signature key (use)";
        return 1;
    }
    s2l_jws_alg want;
    if (strcmp(kty, "RSA") == 0) {
        want = S2L_JWS_RS256;
    } else if (strcmp(kty, "EC") == 0) {
        const char *crv = json_string_value(json_object_get(jwk, "crv"));
        if (crv == NULL || strcmp(crv, "P-256") != 0) {
            *why = "EC key on another curve than P-256";
            return 1;
        }
        want = S2L_JWS_ES256;
    } else {
        *why = "key type other than RSA or EC";
        return 1;
    }
    if (alg && s2l_jws_alg_from_name(alg) != want) {
        *why = "key meant for another algorithm";
        return 1;
    }
    EVP_PKEY *pkey = want == S2L_JWS_RS256 ? rsa_from_jwk(jwk) : ec_from_jwk(jwk);
    if (pkey == NULL) {
        snprintf(err, errlen, "malformed %s key%s%s", kty, json_is_string(kid) ? " " : "",
                 json_is_string(kid) ? json_string_value(kid) : "");
        return -1;
    }
    const char *reason = NULL;
    if (alg_of_pkey(pkey, &reason) != want) {
        EVP_PKEY_free(pkey);
        *why = reason;
        return 1;
    }
    out->alg = want;
    out->pkey = pkey;
    if (json_is_string(kid) && (out->kid = strdup(json_string_value(kid))) == NULL) {
        s2l_jwk_fini(out);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int s2l_jwks_add_json(s2l_jwks *set, const json_t *doc, char *err, size_t errlen)
{
    const json_t *keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        snprintf(err, errlen, "not a JWK Set (no \"keys\" array)");
        return -1;
    }
    int added = 0;
    size_t i;
    const json_t *k;
    json_array_foreach(keys, i, k) {
        s2l_jwk key;
        const char *why = NULL;
        int rc = s2l_jwk_from_json(k, &key, &why, err, errlen);
        if (rc < 0)
            return -1;
        if (rc > 0)
            continue;
        if (push_key(set, &key) < 0) {
            s2l_jwk_fini(&key);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        added++;
    }
    if (added == 0) {
        snprintf(err, errlen, "no RSA or EC P-256 signature key in the set");
        return -1;
    }
    return added;
}

int s2l_jwks_add_file(s2l_jwks *set, const char *path, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        snprintf(err, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        return -1;
    }
    char inner[256];
    int rc = s2l_jwks_add_json(set, doc, inner, sizeof inner);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, inner);
    json_decref(doc);
    return rc;
}

static char *read_small_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536;
    char *buf = malloc(cap + 1);
    size_t n = buf ? fread(buf, 1, cap, f) : 0;
    bool more = buf && !feof(f);
    fclose(f);
    if (buf == NULL || more) {
        snprintf(err, errlen, "%s: %s", path, buf ? "larger than 64 KiB" : "out of memory");
        if (buf) {
            OPENSSL_cleanse(buf, cap);
            free(buf);
        }
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

static void free_secret_text(char *buf, size_t len)
{
    if (buf) {
        OPENSSL_cleanse(buf, len);
        free(buf);
    }
}

int s2l_jwks_add_pem_file(s2l_jwks *set, const char *path, const char *kid, char *err, size_t errlen)
{
    size_t len;
    char *text = read_small_file(path, &len, err, errlen);
    if (text == NULL)
        return -1;
    BIO *bio = BIO_new_mem_buf(text, (int)len);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    if (pkey == NULL && bio && BIO_reset(bio) == 1) {
        X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (cert) {
            pkey = X509_get_pubkey(cert);
            X509_free(cert);
        }
    }
    BIO_free(bio);
    free_secret_text(text, len);
    ERR_clear_error();
    if (pkey == NULL) {
        snprintf(err, errlen, "%s: no PEM public key or certificate", path);
        return -1;
    }
    const char *why = NULL;
    s2l_jwk key = {0};
    key.alg = alg_of_pkey(pkey, &why);
    key.pkey = pkey;
    if (key.alg == S2L_JWS_UNSUPPORTED) {
        snprintf(err, errlen, "%s: %s", path, why);
        s2l_jwk_fini(&key);
        return -1;
    }
    if ((kid && (key.kid = strdup(kid)) == NULL) || push_key(set, &key) < 0) {
        s2l_jwk_fini(&key);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* A kid that names the key without revealing it: the first 12 bytes of a
 * SHA-256 over the public key (or over a label and the HMAC secret). */
static int set_fingerprint_kid(s2l_jwk *key)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    if (key->alg == S2L_JWS_HS256) {
        static const char label[] = "scim2ldap HS256 key id";
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        bool ok = c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
                  EVP_DigestUpdate(c, label, sizeof label - 1) == 1 &&
                  EVP_DigestUpdate(c, key->secret, key->secret_len) == 1 &&
                  EVP_DigestFinal_ex(c, digest, NULL) == 1;
        EVP_MD_CTX_free(c);
        if (!ok)
            return -1;
    } else {
        unsigned char *der = NULL;
        int n = i2d_PUBKEY(key->pkey, &der);
        if (n <= 0)
            return -1;
        SHA256(der, (size_t)n, digest);
        OPENSSL_free(der);
    }
    key->kid = s2l_b64url_encode_alloc(digest, 12);
    return key->kid ? 0 : -1;
}

int s2l_jwk_load_signing_file(s2l_jwk *key, const char *path, char *err, size_t errlen)
{
    memset(key, 0, sizeof *key);
    size_t len, size;
    char *text = read_small_file(path, &size, err, errlen);
    if (text == NULL)
        return -1;
    len = size;
    int rc = -1;
    if (strstr(text, "-----BEGIN") != NULL) {
        BIO *bio = BIO_new_mem_buf(text, (int)len);
        EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        ERR_clear_error();
        if (pkey == NULL) {
            snprintf(err, errlen, "%s: not a PEM private key (unencrypted PKCS#8, RSA or EC)", path);
            goto out;
        }
        const char *why = NULL;
        key->pkey = pkey;
        key->alg = alg_of_pkey(pkey, &why);
        if (key->alg == S2L_JWS_UNSUPPORTED) {
            snprintf(err, errlen, "%s: %s", path, why);
            goto out;
        }
    } else {
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            len--;
        if (len < 32) {
            snprintf(err, errlen, "%s: an HS256 secret must be at least 32 bytes", path);
            goto out;
        }
        key->secret = malloc(len);
        if (key->secret == NULL) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        memcpy(key->secret, text, len);
        key->secret_len = len;
        key->alg = S2L_JWS_HS256;
    }
    if (set_fingerprint_kid(key) < 0) {
        snprintf(err, errlen, "%s: cannot fingerprint the key", path);
        goto out;
    }
    rc = 0;
out:
    free_secret_text(text, size);
    if (rc < 0)
        s2l_jwk_fini(key);
    return rc;
}
