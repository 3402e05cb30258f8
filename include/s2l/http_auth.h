/* http_auth.h — the text formats of authentication: the Authorization header
 * (RFC 7235 §2.1, RFC 6750 §2.1, RFC 7617), Basic credentials, and
 * application/x-www-form-urlencoded bodies (OAuth token requests).
 *
 * Pure: strings in, values out. Parsed credentials point into the caller's
 * buffers (header value, decode buffer); form values are a new JSON object
 * owned by the caller.
 */
#ifndef S2L_HTTP_AUTH_H
#define S2L_HTTP_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    S2L_AUTHZ_NONE = 0,   /* no header, or only white space */
    S2L_AUTHZ_BEARER,     /* "Bearer <token>" */
    S2L_AUTHZ_BASIC,      /* "Basic <base64>" */
    S2L_AUTHZ_RAW,        /* one word without a scheme: Okta's "Header" mode sends "Authorization: <token>" */
    S2L_AUTHZ_OTHER,      /* another scheme (Negotiate, Digest, ...) */
    S2L_AUTHZ_MALFORMED,  /* a known scheme without credentials, or credentials with spaces */
} s2l_authz_scheme;

typedef struct s2l_authz {
    s2l_authz_scheme scheme;
    const char *cred;     /* the token or the base64 text: points into the header value
                           * (NULL with NONE and MALFORMED) */
    size_t cred_len;
} s2l_authz;

/* Schemes are case-insensitive; spaces around the credentials are ignored. */
void s2l_authz_parse(const char *value, s2l_authz *out);

/* Basic credentials up to this many decoded bytes are accepted. */
#define S2L_BASIC_MAX 1024

/* Decodes "user:password" (RFC 7617) into buf (at least S2L_BASIC_MAX + 4
 * bytes); *user and *password point into buf, NUL-terminated. -1 when the
 * text is not base64, has no colon, is too long or contains a NUL or a control
 * character. The caller wipes buf afterwards. */
int s2l_basic_decode(const char *b64, size_t len, char *buf, size_t cap, const char **user, const char **password);

/* Percent-decodes s[0, len) ('+' as a space when plus); malloc'd, NULL when a
 * %-escape is malformed or decodes to NUL. */
char *s2l_form_decode(const char *s, size_t len, bool plus);

/* Parses a form body into {"name": "value", ...}. NULL with *why (static
 * text) on malformed escapes, NUL bytes, an empty name, a parameter given
 * twice (RFC 6749 §3.2) or more than 32 parameters. */
json_t *s2l_form_parse(const char *body, size_t len, const char **why);

#endif
