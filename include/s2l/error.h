/* error.h — the one error value that pure code fills and the HTTP shell renders.
 *
 * Ownership: an s2l_error is a plain value (no heap); scim_type points to a
 * static string. Pure modules report failures by filling an s2l_error and
 * returning -1/NULL; only gateway/http renders it (as a SCIM Error response).
 */
#ifndef S2L_ERROR_H
#define S2L_ERROR_H

#include <jansson.h>

#define S2L_ERROR_DETAIL_MAX 256

/* scimType values defined by RFC 7644 §3.12 */
#define S2L_SCIM_INVALID_FILTER "invalidFilter"
#define S2L_SCIM_TOO_MANY       "tooMany"
#define S2L_SCIM_UNIQUENESS     "uniqueness"
#define S2L_SCIM_MUTABILITY     "mutability"
#define S2L_SCIM_INVALID_SYNTAX "invalidSyntax"
#define S2L_SCIM_INVALID_PATH   "invalidPath"
#define S2L_SCIM_NO_TARGET      "noTarget"
#define S2L_SCIM_INVALID_VALUE  "invalidValue"
#define S2L_SCIM_INVALID_VERS   "invalidVers"
#define S2L_SCIM_SENSITIVE      "sensitive"

#define S2L_SCIM_ERROR_URN "urn:ietf:params:scim:api:messages:2.0:Error"

typedef struct s2l_error {
    int status;              /* HTTP status (400, 404, ...); 0 means "no error" */
    const char *scim_type;   /* one of S2L_SCIM_* or NULL */
    int retry_after;         /* seconds, for 503; 0 = none */
    char detail[S2L_ERROR_DETAIL_MAX];
} s2l_error;

/* Fills *e (if e is not NULL). detail is printf-formatted and truncated to fit. */
void s2l_error_set(s2l_error *e, int status, const char *scim_type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Resets *e to "no error". */
void s2l_error_clear(s2l_error *e);

/* The SCIM Error resource for *e (new reference). */
json_t *s2l_error_to_json(const s2l_error *e);

#endif
