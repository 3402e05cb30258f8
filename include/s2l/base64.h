/* base64.h — RFC 4648 base64: the standard alphabet (HTTP Basic credentials,
 * password-hash strings) and base64url without padding (JWS, RFC 7515 §2).
 *
 * Pure functions on caller-provided buffers; no allocation except the _alloc
 * variant (caller frees).
 */
#ifndef S2L_BASE64_H
#define S2L_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* Characters needed to encode n bytes without padding (no NUL counted). */
size_t s2l_b64_encoded_len(size_t n);
/* Bytes a decoder may write for n input characters (an upper bound). */
size_t s2l_b64_decoded_max(size_t n);

/* Encodes without padding; out must hold s2l_b64_encoded_len(n) + 1 (NUL-terminated). */
void s2l_b64url_encode(const unsigned char *in, size_t n, char *out);
void s2l_b64_encode(const unsigned char *in, size_t n, char *out);
/* malloc'd base64url text, or NULL when out of memory. */
char *s2l_b64url_encode_alloc(const unsigned char *in, size_t n);

/* Decodes base64url without padding ('=' is refused, as RFC 7515 requires).
 * out must hold s2l_b64_decoded_max(n) bytes. 0 and *out_len, or -1 when the
 * text is not base64url (bad character, impossible length). */
int s2l_b64url_decode(const char *in, size_t n, unsigned char *out, size_t *out_len);
/* Standard alphabet; padding optional, but when present it must be right. */
int s2l_b64_decode(const char *in, size_t n, unsigned char *out, size_t *out_len);

#endif
