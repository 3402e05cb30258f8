/* secret_hash.h — slow salted hashes of passwords and client secrets
 * (PBKDF2-HMAC-SHA256 or scrypt, both from OpenSSL), in a self-describing
 * text form that names the function and its cost:
 *
 *   $pbkdf2-sha256$i=600000$<salt>$<hash>
 *   $scrypt$ln=15,r=8,p=3$<salt>$<hash>        (N = 2^ln)
 *
 * salt and hash in base64 (standard alphabet, no padding). The cost is read
 * back from the string, so old hashes keep working when the defaults change.
 *
 * Ownership: plain values, no allocation.
 */
#ifndef S2L_SECRET_HASH_H
#define S2L_SECRET_HASH_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { S2L_HASH_PBKDF2_SHA256 = 1, S2L_HASH_SCRYPT } s2l_hash_kind;

typedef struct s2l_hash_params {
    s2l_hash_kind kind;
    unsigned iterations;     /* PBKDF2 */
    unsigned ln, r, p;       /* scrypt: N = 2^ln */
} s2l_hash_params;

/* Defaults: PBKDF2 600000 iterations (about 0.1-0.2 s on one core); scrypt
 * ln=15, r=8, p=3 (32 MiB; OWASP's equivalent of N=2^17, p=1). */
s2l_hash_params s2l_hash_defaults(s2l_hash_kind kind);

/* Accepted cost ranges (so a typo cannot make a hash free or take minutes). */
#define S2L_PBKDF2_MIN_ITERATIONS 10000u
#define S2L_PBKDF2_MAX_ITERATIONS 10000000u
#define S2L_SCRYPT_MIN_LN 10u
#define S2L_SCRYPT_MAX_LN 20u

#define S2L_SECRET_HASH_TEXT_MAX 256
#define S2L_HASH_SALT_MAX 64
#define S2L_HASH_DK_MAX 64

typedef struct s2l_secret_hash {
    s2l_hash_params params;
    unsigned char salt[S2L_HASH_SALT_MAX];
    size_t salt_len;
    unsigned char dk[S2L_HASH_DK_MAX];
    size_t dk_len;
} s2l_secret_hash;

/* Hashes secret with a fresh random 16-byte salt into out (at least
 * S2L_SECRET_HASH_TEXT_MAX bytes). 0, or -1 with a reason in err. */
int s2l_secret_hash_make(const char *secret, size_t len, const s2l_hash_params *p, char *out, size_t outlen,
                         char *err, size_t errlen);
/* Parses the text form. 0, or -1 with a reason in err (never echoing the text). */
int s2l_secret_hash_parse(const char *text, s2l_secret_hash *out, char *err, size_t errlen);
/* Whether secret hashes to h (constant-time comparison of the result). */
bool s2l_secret_hash_verify(const s2l_secret_hash *h, const char *secret, size_t len);

#endif
