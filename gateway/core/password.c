/* password.c — password hashing and encoding (see include/s2l/password.h).
 *
 * SHA-512 crypt follows Ulrich Drepper's "Unix crypt using SHA-256 and
 * SHA-512" specification step by step (the step numbers below are its); the
 * {SSHA*} schemes are RFC 2307-style base64(digest(password + salt) + salt).
 * Intermediate buffers that held the password are cleared before returning.
 */
#include "s2l/password.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define CRYPT_SALT_MAX 16
#define CRYPT_ROUNDS_DEFAULT 5000
#define CRYPT_ROUNDS_MIN 1000
#define CRYPT_ROUNDS_MAX 999999999UL
#define SSHA_SALT_LEN 16

static const char b64crypt[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static const struct {
    s2l_pw_scheme s;
    const char *name;
} schemes[] = {
    {S2L_PW_CRYPT_SHA512, "{CRYPT}"}, {S2L_PW_SSHA512, "{SSHA512}"}, {S2L_PW_SSHA256, "{SSHA256}"},
    {S2L_PW_SSHA, "{SSHA}"},          {S2L_PW_DIRECTORY, "directory"}, {S2L_PW_UNICODEPWD, "unicodePwd"},
};

bool s2l_pw_scheme_parse(const char *name, s2l_pw_scheme *out)
{
    for (size_t i = 0; name && i < sizeof schemes / sizeof schemes[0]; i++) {
        if (strcasecmp(name, schemes[i].name) == 0) {
            *out = schemes[i].s;
            return true;
        }
    }
    return false;
}

const char *s2l_pw_scheme_name(s2l_pw_scheme s)
{
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (schemes[i].s == s)
            return schemes[i].name;
    return "?";
}

bool s2l_pw_scheme_binary(s2l_pw_scheme s)
{
    return s == S2L_PW_UNICODEPWD;
}

void s2l_pw_free(char *value, size_t len)
{
    if (value == NULL)
        return;
    OPENSSL_cleanse(value, len);
    free(value);
}

/* ---- SHA-512 crypt ---- */

static bool md_add(EVP_MD_CTX *c, const void *p, size_t n)
{
    return EVP_DigestUpdate(c, p, n) == 1;
}

static bool md_start(EVP_MD_CTX *c)
{
    return EVP_DigestInit_ex(c, EVP_sha512(), NULL) == 1;
}

static bool md_end(EVP_MD_CTX *c, unsigned char out[64])
{
    unsigned int n = 0;
    return EVP_DigestFinal_ex(c, out, &n) == 1 && n == 64;
}

/* Parses "[$6$][rounds=N$]salt[$...]" into the salt (≤ 16 chars) and rounds. */
static bool crypt_setting(const char *setting, char salt[CRYPT_SALT_MAX + 1], unsigned long *rounds, bool *custom)
{
    const char *p = setting;
    *rounds = CRYPT_ROUNDS_DEFAULT;
    *custom = false;
    if (strncmp(p, "$6$", 3) == 0)
        p += 3;
    if (strncmp(p, "rounds=", 7) == 0) {
        char *end;
        unsigned long r = strtoul(p + 7, &end, 10);
        if (end == p + 7 || *end != '$')
            return false;
        *rounds = r < CRYPT_ROUNDS_MIN ? CRYPT_ROUNDS_MIN : r > CRYPT_ROUNDS_MAX ? CRYPT_ROUNDS_MAX : r;
        *custom = true;
        p = end + 1;
    }
    size_t n = strcspn(p, "$");
    if (n > CRYPT_SALT_MAX)
        n = CRYPT_SALT_MAX;
    memcpy(salt, p, n);
    salt[n] = 0;
    return true;
}

static char *b64_24(char *out, unsigned b2, unsigned b1, unsigned b0, int n)
{
    unsigned w = (b2 << 16) | (b1 << 8) | b0;
    while (n-- > 0) {
        *out++ = b64crypt[w & 0x3f];
        w >>= 6;
    }
    return out;
}

char *s2l_sha512_crypt(const char *key, size_t klen, const char *setting)
{
    char salt[CRYPT_SALT_MAX + 1];
    unsigned long rounds;
    bool custom;
    unsigned char a[64], b[64], dp[64], ds[64];
    unsigned char *p_seq = NULL, s_seq[CRYPT_SALT_MAX];
    char *out = NULL;
    EVP_MD_CTX *c = NULL;
    bool ok = false;

    if (setting == NULL || !crypt_setting(setting, salt, &rounds, &custom))
        return NULL;
    size_t slen = strlen(salt);
    c = EVP_MD_CTX_new();
    p_seq = malloc(klen ? klen : 1);
    if (c == NULL || p_seq == NULL)
        goto out;
    /* 1-8: digest B = sha512(key salt key) */
    if (!md_start(c) || !md_add(c, key, klen) || !md_add(c, salt, slen) || !md_add(c, key, klen) || !md_end(c, b))
        goto out;
    /* 1-3, 9-12: digest A */
    if (!md_start(c) || !md_add(c, key, klen) || !md_add(c, salt, slen))
        goto out;
    size_t cnt;
    for (cnt = klen; cnt > 64; cnt -= 64)
        if (!md_add(c, b, 64))
            goto out;
    if (!md_add(c, b, cnt))
        goto out;
    for (cnt = klen; cnt > 0; cnt >>= 1)
        if (!((cnt & 1) ? md_add(c, b, 64) : md_add(c, key, klen)))
            goto out;
    if (!md_end(c, a))
        goto out;
    /* 13-16: P sequence from digest DP = sha512(key repeated klen times) */
    if (!md_start(c))
        goto out;
    for (cnt = 0; cnt < klen; cnt++)
        if (!md_add(c, key, klen))
            goto out;
    if (!md_end(c, dp))
        goto out;
    for (cnt = 0; cnt < klen; cnt++)
        p_seq[cnt] = dp[cnt % 64];
    /* 17-20: S sequence from digest DS = sha512(salt repeated 16 + A[0] times) */
    if (!md_start(c))
        goto out;
    for (cnt = 0; cnt < 16u + a[0]; cnt++)
        if (!md_add(c, salt, slen))
            goto out;
    if (!md_end(c, ds))
        goto out;
    for (cnt = 0; cnt < slen; cnt++)
        s_seq[cnt] = ds[cnt % 64];
    /* 21: the rounds */
    for (unsigned long r = 0; r < rounds; r++) {
        if (!md_start(c))
            goto out;
        if (!((r & 1) ? md_add(c, p_seq, klen) : md_add(c, a, 64)))
            goto out;
        if (r % 3 != 0 && !md_add(c, s_seq, slen))
            goto out;
        if (r % 7 != 0 && !md_add(c, p_seq, klen))
            goto out;
        if (!((r & 1) ? md_add(c, a, 64) : md_add(c, p_seq, klen)))
            goto out;
        if (!md_end(c, a))
            goto out;
    }
    /* 22: "$6$[rounds=N$]salt$" + 86 characters */
    out = malloc(3 + 7 + 20 + 1 + slen + 1 + 86 + 1);
    if (out == NULL)
        goto out;
    char *o = out;
    o += sprintf(o, "$6$");
    if (custom)
        o += sprintf(o, "rounds=%lu$", rounds);
    memcpy(o, salt, slen);
    o += slen;
    *o++ = '$';
    static const unsigned char order[21][3] = {
        {0, 21, 42},  {22, 43, 1},  {44, 2, 23},  {3, 24, 45},  {25, 46, 4},  {47, 5, 26},  {6, 27, 48},
        {28, 49, 7},  {50, 8, 29},  {9, 30, 51},  {31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13},
        {56, 14, 35}, {15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41},
    };
    for (size_t i = 0; i < 21; i++)
        o = b64_24(o, a[order[i][0]], a[order[i][1]], a[order[i][2]], 4);
    o = b64_24(o, 0, 0, a[63], 2);
    *o = 0;
    ok = true;
out:
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    OPENSSL_cleanse(dp, sizeof dp);
    OPENSSL_cleanse(ds, sizeof ds);
    OPENSSL_cleanse(s_seq, sizeof s_seq);
    if (p_seq) {
        OPENSSL_cleanse(p_seq, klen ? klen : 1);
        free(p_seq);
    }
    EVP_MD_CTX_free(c);
    if (!ok) {
        free(out);
        return NULL;
    }
    return out;
}

/* ---- {SSHA*} ---- */

static const EVP_MD *ssha_md(s2l_pw_scheme s)
{
    return s == S2L_PW_SSHA512 ? EVP_sha512() : s == S2L_PW_SSHA256 ? EVP_sha256() : EVP_sha1();
}

static char *ssha(s2l_pw_scheme s, const char *pw, size_t len, const unsigned char *salt, size_t slen,
                  size_t *out_len)
{
    unsigned char buf[EVP_MAX_MD_SIZE + 64];
    unsigned int dlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    char *out = NULL;

    if (c == NULL || slen > 64 || EVP_DigestInit_ex(c, ssha_md(s), NULL) != 1 || EVP_DigestUpdate(c, pw, len) != 1 ||
        EVP_DigestUpdate(c, salt, slen) != 1 || EVP_DigestFinal_ex(c, buf, &dlen) != 1)
        goto out;
    memcpy(buf + dlen, salt, slen);
    const char *prefix = s2l_pw_scheme_name(s);
    size_t plen = strlen(prefix), blen = (dlen + slen + 2) / 3 * 4;
    out = malloc(plen + blen + 1);
    if (out == NULL)
        goto out;
    memcpy(out, prefix, plen);
    EVP_EncodeBlock((unsigned char *)out + plen, buf, (int)(dlen + slen));
    *out_len = plen + blen;
out:
    OPENSSL_cleanse(buf, sizeof buf);
    EVP_MD_CTX_free(c);
    return out;
}

/* ---- unicodePwd ---- */

/* "\"pw\"" as UTF-16LE; NULL for invalid UTF-8. */
static char *unicode_pwd(const char *pw, size_t len, size_t *out_len)
{
    /* at most one UTF-16 unit (2 bytes) per input byte, 4 bytes per 4-byte sequence, plus the quotes */
    unsigned char *out = malloc(2 * len + 4);
    size_t o = 0, i = 0;
    if (out == NULL)
        return NULL;
    out[o++] = '"';
    out[o++] = 0;
    while (i < len) {
        unsigned char ch = (unsigned char)pw[i];
        uint32_t cp;
        size_t n;
        if (ch < 0x80) {
            cp = ch;
            n = 1;
        } else if (ch >= 0xc2 && ch <= 0xdf) {
            cp = ch & 0x1f;
            n = 2;
        } else if (ch >= 0xe0 && ch <= 0xef) {
            cp = ch & 0x0f;
            n = 3;
        } else if (ch >= 0xf0 && ch <= 0xf4) {
            cp = ch & 0x07;
            n = 4;
        } else {
            goto bad;
        }
        if (i + n > len)
            goto bad;
        for (size_t k = 1; k < n; k++) {
            if (((unsigned char)pw[i + k] & 0xc0) != 0x80)
                goto bad;
            cp = (cp << 6) | ((unsigned char)pw[i + k] & 0x3f);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            goto bad;
        i += n;
        if (cp >= 0x10000) {
            uint32_t v = cp - 0x10000;
            uint16_t hi = (uint16_t)(0xd800 | (v >> 10)), lo = (uint16_t)(0xdc00 | (v & 0x3ff));
            out[o++] = (unsigned char)(hi & 0xff);
            out[o++] = (unsigned char)(hi >> 8);
            out[o++] = (unsigned char)(lo & 0xff);
            out[o++] = (unsigned char)(lo >> 8);
        } else {
            out[o++] = (unsigned char)(cp & 0xff);
            out[o++] = (unsigned char)(cp >> 8);
        }
    }
    out[o++] = '"';
    out[o++] = 0;
    *out_len = o;
    return (char *)out;
bad:
    OPENSSL_cleanse(out, 2 * len + 4);
    free(out);
    return NULL;
}

/* ---- entry points ---- */

static char *dup_text(const char *s, size_t len, size_t *out_len)
{
    char *out = malloc(len + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, s, len);
    out[len] = 0;
    *out_len = len;
    return out;
}

char *s2l_pw_encode_salted(s2l_pw_scheme s, const char *pw, size_t len, const unsigned char *salt, size_t salt_len,
                           size_t *out_len)
{
    switch (s) {
    case S2L_PW_DIRECTORY:
        return dup_text(pw, len, out_len);
    case S2L_PW_UNICODEPWD:
        return unicode_pwd(pw, len, out_len);
    case S2L_PW_SSHA:
    case S2L_PW_SSHA256:
    case S2L_PW_SSHA512:
        return ssha(s, pw, len, salt, salt_len, out_len);
    case S2L_PW_CRYPT_SHA512: {
        char setting[CRYPT_SALT_MAX + 1];
        size_t n = salt_len > CRYPT_SALT_MAX ? CRYPT_SALT_MAX : salt_len;
        for (size_t i = 0; i < n; i++) {
            if (salt[i] == 0 || strchr(b64crypt, salt[i]) == NULL)
                return NULL;
            setting[i] = (char)salt[i];
        }
        setting[n] = 0;
        char *h = s2l_sha512_crypt(pw, len, setting);
        if (h == NULL)
            return NULL;
        size_t hl = strlen(h);
        char *out = malloc(7 + hl + 1);
        if (out != NULL) {
            memcpy(out, "{CRYPT}", 7);
            memcpy(out + 7, h, hl + 1);
            *out_len = 7 + hl;
        }
        free(h);
        return out;
    }
    }
    return NULL;
}

char *s2l_pw_encode(s2l_pw_scheme s, const char *pw, size_t len, size_t *out_len)
{
    unsigned char salt[SSHA_SALT_LEN];
    size_t n = sizeof salt;

    if (s == S2L_PW_CRYPT_SHA512 || s == S2L_PW_SSHA || s == S2L_PW_SSHA256 || s == S2L_PW_SSHA512) {
        if (RAND_bytes(salt, (int)sizeof salt) != 1)
            return NULL;
        if (s == S2L_PW_CRYPT_SHA512) {
            for (size_t i = 0; i < sizeof salt; i++)
                salt[i] = (unsigned char)b64crypt[salt[i] & 0x3f];
            n = CRYPT_SALT_MAX;
        }
    }
    return s2l_pw_encode_salted(s, pw, len, salt, n, out_len);
}

bool s2l_pw_verify(const char *stored, size_t stored_len, const char *pw, size_t len)
{
    bool ok = false;
    if (stored == NULL)
        return false;
    if (stored_len > 7 && strncasecmp(stored, "{CRYPT}", 7) == 0) {
        char *setting = strndup(stored + 7, stored_len - 7);
        char *h = setting ? s2l_sha512_crypt(pw, len, setting) : NULL;
        ok = h && strlen(h) == stored_len - 7 && CRYPTO_memcmp(h, stored + 7, stored_len - 7) == 0;
        free(setting);
        free(h);
        return ok;
    }
    for (s2l_pw_scheme s = S2L_PW_SSHA512; s <= S2L_PW_SSHA; s++) {
        const char *prefix = s2l_pw_scheme_name(s);
        size_t plen = strlen(prefix);
        if (stored_len <= plen || strncasecmp(stored, prefix, plen) != 0)
            continue;
        unsigned char raw[EVP_MAX_MD_SIZE + 64 + 3];
        size_t blen = stored_len - plen;
        if (blen % 4 != 0 || blen / 4 * 3 > sizeof raw)
            return false;
        int n = EVP_DecodeBlock(raw, (const unsigned char *)stored + plen, (int)blen);
        size_t dlen = (size_t)EVP_MD_get_size(ssha_md(s));
        if (n < 0)
            return false;
        size_t rlen = (size_t)n;
        for (size_t k = blen; k > 0 && stored[plen + k - 1] == '='; k--)
            rlen--; /* EVP_DecodeBlock counts padding as data */
        if (rlen <= dlen)
            return false;
        size_t out_len = 0;
        char *again = ssha(s, pw, len, raw + dlen, rlen - dlen, &out_len);
        ok = again && out_len == stored_len && CRYPTO_memcmp(again + plen, stored + plen, blen) == 0;
        free(again);
        OPENSSL_cleanse(raw, sizeof raw);
        return ok;
    }
    return false;
}
