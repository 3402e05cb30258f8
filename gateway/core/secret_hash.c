/* secret_hash.c — PBKDF2-SHA256 and scrypt hash strings (see include/s2l/secret_hash.h). */
#include "s2l/secret_hash.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s2l/base64.h"

#define SCRYPT_MAX_MEM ((uint64_t)512 << 20)

s2l_hash_params s2l_hash_defaults(s2l_hash_kind kind)
{
    s2l_hash_params p = {.kind = kind};
    if (kind == S2L_HASH_SCRYPT) {
        p.ln = 15;
        p.r = 8;
        p.p = 3;
    } else {
        p.kind = S2L_HASH_PBKDF2_SHA256;
        p.iterations = 600000;
    }
    return p;
}

/* What scrypt needs: 128 * r * (N + p) bytes plus slack. */
static uint64_t scrypt_mem(const s2l_hash_params *p)
{
    return 128u * (uint64_t)p->r * (((uint64_t)1 << p->ln) + p->p + 2);
}

static int check_params(const s2l_hash_params *p, char *err, size_t errlen)
{
    if (p->kind == S2L_HASH_PBKDF2_SHA256) {
        if (p->iterations < S2L_PBKDF2_MIN_ITERATIONS || p->iterations > S2L_PBKDF2_MAX_ITERATIONS) {
            snprintf(err, errlen, "PBKDF2 iterations must be from %u to %u", S2L_PBKDF2_MIN_ITERATIONS,
                     S2L_PBKDF2_MAX_ITERATIONS);
            return -1;
        }
        return 0;
    }
    if (p->kind != S2L_HASH_SCRYPT) {
        snprintf(err, errlen, "unknown hash function");
        return -1;
    }
    if (p->ln < S2L_SCRYPT_MIN_LN || p->ln > S2L_SCRYPT_MAX_LN || p->r < 1 || p->r > 32 || p->p < 1 ||
        p->p > 16) {
        snprintf(err, errlen, "scrypt parameters out of range (ln %u-%u, r 1-32, p 1-16)", S2L_SCRYPT_MIN_LN,
                 S2L_SCRYPT_MAX_LN);
        return -1;
    }
    if (scrypt_mem(p) > SCRYPT_MAX_MEM) {
        snprintf(err, errlen, "scrypt parameters need more than %llu MiB",
                 (unsigned long long)(SCRYPT_MAX_MEM >> 20));
        return -1;
    }
    return 0;
}

static int derive(const s2l_hash_params *p, const char *secret, size_t len, const unsigned char *salt,
                  size_t salt_len, unsigned char *dk, size_t dk_len)
{
    if (p->kind == S2L_HASH_PBKDF2_SHA256)
        return PKCS5_PBKDF2_HMAC(secret, (int)len, salt, (int)salt_len, (int)p->iterations, EVP_sha256(),
                                 (int)dk_len, dk) == 1
                   ? 0
                   : -1;
    return EVP_PBE_scrypt(secret, len, salt, salt_len, (uint64_t)1 << p->ln, p->r, p->p, scrypt_mem(p) + 65536,
                          dk, dk_len) == 1
               ? 0
               : -1;
}

int s2l_secret_hash_make(const char *secret, size_t len, const s2l_hash_params *p, char *out, size_t outlen,
                         char *err, size_t errlen)
{
    unsigned char salt[16], dk[32];
    char salt_txt[32], dk_txt[48];
    if (check_params(p, err, errlen) < 0)
        return -1;
    if (len == 0) {
        snprintf(err, errlen, "the secret is empty");
        return -1;
    }
    if (RAND_bytes(salt, sizeof salt) != 1 || derive(p, secret, len, salt, sizeof salt, dk, sizeof dk) < 0) {
        snprintf(err, errlen, "hashing failed (OpenSSL)");
        return -1;
    }
    s2l_b64_encode(salt, sizeof salt, salt_txt);
    s2l_b64_encode(dk, sizeof dk, dk_txt);
    OPENSSL_cleanse(dk, sizeof dk);
    int n;
    if (p->kind == S2L_HASH_PBKDF2_SHA256)
        n = snprintf(out, outlen, "$pbkdf2-sha256$i=%u$%s$%s", p->iterations, salt_txt, dk_txt);
    else
        n = snprintf(out, outlen, "$scrypt$ln=%u,r=%u,p=%u$%s$%s", p->ln, p->r, p->p, salt_txt, dk_txt);
    if (n < 0 || (size_t)n >= outlen) {
        snprintf(err, errlen, "output buffer too small");
        return -1;
    }
    return 0;
}

/* "name=<uint>" at *s, advancing past it. */
static int read_param(const char **s, const char *name, unsigned *out)
{
    size_t nl = strlen(name);
    if (strncmp(*s, name, nl) != 0 || (*s)[nl] != '=')
        return -1;
    const char *v = *s + nl + 1;
    if (*v < '0' || *v > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long x = strtoul(v, &end, 10);
    if (errno || x > 0xffffffffu)
        return -1;
    *out = (unsigned)x;
    *s = end;
    return 0;
}

static int decode_field(const char *start, size_t len, unsigned char *out, size_t cap, size_t *out_len)
{
    unsigned char buf[S2L_HASH_DK_MAX + 8];
    if (len == 0 || s2l_b64_decoded_max(len) > sizeof buf || s2l_b64_decode(start, len, buf, out_len) < 0 ||
        *out_len > cap)
        return -1;
    memcpy(out, buf, *out_len);
    return 0;
}

int s2l_secret_hash_parse(const char *text, s2l_secret_hash *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *s = text;
    if (strncmp(s, "$pbkdf2-sha256$", 15) == 0) {
        out->params.kind = S2L_HASH_PBKDF2_SHA256;
        s += 15;
        if (read_param(&s, "i", &out->params.iterations) < 0)
            goto bad;
    } else if (strncmp(s, "$scrypt$", 8) == 0) {
        out->params.kind = S2L_HASH_SCRYPT;
        s += 8;
        if (read_param(&s, "ln", &out->params.ln) < 0 || *s++ != ',' || read_param(&s, "r", &out->params.r) < 0 ||
            *s++ != ',' || read_param(&s, "p", &out->params.p) < 0)
            goto bad;
    } else {
        snprintf(err, errlen, "not a password hash (expected $pbkdf2-sha256$... or $scrypt$...; "
                              "make one with `scim2ldap hash-secret`)");
        return -1;
    }
    if (*s++ != '$')
        goto bad;
    const char *salt = s;
    const char *dollar = strchr(salt, '$');
    if (dollar == NULL)
        goto bad;
    if (decode_field(salt, (size_t)(dollar - salt), out->salt, sizeof out->salt, &out->salt_len) < 0 ||
        decode_field(dollar + 1, strlen(dollar + 1), out->dk, sizeof out->dk, &out->dk_len) < 0)
        goto bad;
    if (out->salt_len < 8 || out->dk_len < 16) {
        snprintf(err, errlen, "the hash's salt or digest is too short");
        return -1;
    }
    return check_params(&out->params, err, errlen);
bad:
    snprintf(err, errlen, "malformed password hash");
    return -1;
}

bool s2l_secret_hash_verify(const s2l_secret_hash *h, const char *secret, size_t len)
{
    unsigned char dk[S2L_HASH_DK_MAX];
    if (h->dk_len == 0 || h->dk_len > sizeof dk ||
        derive(&h->params, secret, len, h->salt, h->salt_len, dk, h->dk_len) < 0)
        return false;
    bool ok = CRYPTO_memcmp(dk, h->dk, h->dk_len) == 0;
    OPENSSL_cleanse(dk, sizeof dk);
    return ok;
}
