/* ldap_errors.h — the one table from LDAP result codes to SCIM errors.
 * Pure (uses only result-code numbers). */
#ifndef S2L_LDAP_ERRORS_H
#define S2L_LDAP_ERRORS_H

#include <stdbool.h>
#include <stddef.h>
#include "s2l/error.h"

/* Fills *err for LDAP result rc (must not be LDAP_SUCCESS). `what` names the
 * object for the detail ("user \"jdoe\""), diag is the server's message (may be NULL),
 * retry_after is used for 503s. E.g. 68 → 409 uniqueness, 32 → 404, 65/19/21/17/
 * 18/20/16 → 400 invalidValue with the attribute named, 50 → 403, 51/52/-1/-11/
 * -5/3 → 503 (+ Retry-After). 80 and 53 depend on the diagnostic: 80 without
 * one (back-mdb refusing an over-long RDN) or "DN index add failed" → 400, any
 * other 80 → 503; 53 naming a server state (read-only, restricted, shadow
 * context, no naming context) → 503, any other 53 → 400 invalidValue.
 * Permanent failures are never 503. Client mistakes never map to 500. */
void s2l_ldap_error_to_scim(int rc, const char *diag, const char *what, unsigned retry_after, s2l_error *err);

/* The attribute a server diagnostic is about ("c: value #0 invalid per
 * syntax" → "c"), copied into out; false when it names none. */
bool s2l_ldap_diag_attr(const char *diag, char *out, size_t cap);

/* RFC 4511 name of a result code ("invalidAttributeSyntax"), "unknown" if none. */
const char *s2l_ldap_rc_name(int rc);

/* True when rc means the connection (not the request) is broken. */
bool s2l_ldap_rc_breaks_connection(int rc);

#endif
