/* http_text.h — the text of an HTTP request that the shell interprets: URI
 * percent-decoding, query strings, If-Match, Content-Type.
 *
 * Pure: no libevent; strings in, values out. Lenient where real identity
 * providers need it (see ../shared/docs/IDP-QUIRKS.md): Entra ID sends
 * "userName+eq+..." ('+' is a space in a query) and bare feature flags such as
 * "?aadOptscim062020&filter=..." (a key without '=').
 *
 * Ownership: s2l_query owns its memory (s2l_query_fini); the strings it hands
 * out are borrowed from it. s2l_uri_decode returns malloc'd memory.
 */
#ifndef S2L_HTTP_TEXT_H
#define S2L_HTTP_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Percent-decodes s: "%XX" with two hex digits becomes that byte (other '%'
 * stay as they are), and '+' becomes a space when plus is set. "%00" is
 * left as it is: a NUL would cut the C string (an id, a filter) short, and
 * the text must be refused instead (s2l_uri_has_nul). malloc'd; NULL only
 * when out of memory. */
char *s2l_uri_decode(const char *s, bool plus);

/* Whether percent-decoding s would give a NUL byte ("%00"). */
bool s2l_uri_has_nul(const char *s);

typedef struct s2l_query_param {
    const char *name;   /* decoded, never empty */
    const char *value;  /* decoded; "" for a key without '=' */
} s2l_query_param;

typedef struct s2l_query {
    s2l_query_param *params;
    size_t n;
    const char *nul_name; /* the first parameter whose name or value holds "%00" (a NUL; left
                             encoded), or NULL: the request is to be refused */
    char *text_;        /* the decoded copy the params point into (same allocation as params) */
} s2l_query;

/* Parses a raw query string ("a=1&b=x+y", without '?'; NULL or "" = none):
 * parts separated by '&', a part's name before its first '=', both decoded
 * with '+' as space. Empty parts and parts with an empty name ("&&", "=x") are
 * skipped. 0, or -1 when out of memory (q is then empty). q need not be
 * initialised; release it with s2l_query_fini. */
int s2l_query_parse(const char *raw, s2l_query *q);
/* The value of the first parameter called name (case-insensitive), or NULL. */
const char *s2l_query_get(const s2l_query *q, const char *name);
void s2l_query_fini(s2l_query *q);

/* Whether an If-Match header value (RFC 9110 §13.1.1: "*" or a comma-separated
 * list of entity tags) matches the resource's version (an entity tag such as
 * W/"abc", or NULL when the resource has none: then only "*" matches).
 * Comparison is weak: W/"x" and "x" match each other. */
bool s2l_if_match(const char *header, const char *version);

/* Whether a Host header value can go into a URL the gateway renders (Location,
 * meta.location, $ref): a host name (letters, digits, '-', '.', '_'), an IPv4
 * address or a bracketed IPv6 literal, optionally ":port" (1 to 5 digits),
 * at most 255 bytes (RFC 9110 §7.2, RFC 3986 §3.2.2 without percent-encoding
 * and sub-delimiters, which no client needs). Anything else (spaces, quotes,
 * bytes that are not ASCII or not UTF-8) is false: the caller uses its own
 * address instead. */
bool s2l_http_host_ok(const char *host);

/* Whether a Content-Type header announces JSON: application/scim+json or
 * application/json, any parameters, case-insensitive. NULL (no header) is
 * accepted: some clients omit it on JSON bodies. */
bool s2l_content_type_is_json(const char *header);

#endif
