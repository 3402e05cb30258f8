/* password.h — what the gateway writes for a SCIM `password`: a hash the
 * directory verifies at bind time, AD's unicodePwd encoding, or the value as
 * sent for directories that hash it themselves.
 *
 * Pure (OpenSSL's digests and RAND_bytes only): data in, data out, no LDAP.
 * Nothing here logs; callers must never log or return the input or output.
 *
 * Schemes (mapping key "scheme" on the password attribute, mappings/README.md):
 *   "{CRYPT}"     SHA-512 crypt ("$6$", 5000 rounds, 16-character salt): slapd
 *                 (crypt(3)), 389-DS (CRYPT-SHA512) and most directories verify it
 *   "{SSHA512}"   salted SHA-512 (slapd needs the pw-sha2 module; 389 built in)
 *   "{SSHA256}"   salted SHA-256 (likewise)
 *   "{SSHA}"      salted SHA-1 (every directory; weakest)
 *   "directory"   sent as received: the directory hashes it (slapd's
 *                 ppolicy_hash_cleartext, 389's password storage scheme); it
 *                 can then also check its password policy
 *   "unicodePwd"  Active Directory: "\"" password "\"" as UTF-16LE bytes (the
 *                 value is binary; AD takes it only over LDAPS or StartTLS)
 *
 * Ownership: returned buffers are malloc'd and owned by the caller, who should
 * clear them (s2l_pw_free) once sent.
 */
#ifndef S2L_PASSWORD_H
#define S2L_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    S2L_PW_CRYPT_SHA512 = 0, /* the default for userPassword */
    S2L_PW_SSHA512,
    S2L_PW_SSHA256,
    S2L_PW_SSHA,
    S2L_PW_DIRECTORY,
    S2L_PW_UNICODEPWD,
} s2l_pw_scheme;

/* "{CRYPT}", "{SSHA512}", ... (case-insensitive). False for an unknown name. */
bool s2l_pw_scheme_parse(const char *name, s2l_pw_scheme *out);
const char *s2l_pw_scheme_name(s2l_pw_scheme s);
/* True when the stored value is binary (unicodePwd). */
bool s2l_pw_scheme_binary(s2l_pw_scheme s);

/* The value to store for password pw (UTF-8, len bytes) with a fresh random
 * salt. *out_len receives its length (binary for unicodePwd, else text and also
 * NUL-terminated). NULL on allocation or randomness failure, or (unicodePwd) a
 * password that is not valid UTF-8. */
char *s2l_pw_encode(s2l_pw_scheme s, const char *pw, size_t len, size_t *out_len);
/* The same with a given salt (tests): salt_len bytes for the {SSHA*} schemes,
 * up to 16 characters of [./0-9A-Za-z] for {CRYPT}; ignored by the others. */
char *s2l_pw_encode_salted(s2l_pw_scheme s, const char *pw, size_t len, const unsigned char *salt, size_t salt_len,
                           size_t *out_len);
/* Whether `stored` (as s2l_pw_encode wrote it; "{CRYPT}$6$rounds=N$..." too)
 * is the hash of pw. For tests and checks; the directory verifies binds. */
bool s2l_pw_verify(const char *stored, size_t stored_len, const char *pw, size_t len);

/* SHA-512 crypt (Drepper's specification) of key with salt ("$6$[rounds=N$]salt"
 * or a bare salt): "$6$[rounds=N$]salt$hash", malloc'd; NULL on bad input. */
char *s2l_sha512_crypt(const char *key, size_t key_len, const char *setting);

/* Clears and frees a value from s2l_pw_encode. */
void s2l_pw_free(char *value, size_t len);

#endif
