/* ldap_text.h — LDAP text: growable capped strings, filter pieces, DNs,
 * search scopes and string vectors.
 *
 * Pure: strings in, strings out; no LDAP handle, no libevent. Every value that
 * goes into a filter here is escaped (RFC 4515); DNs are split at unescaped
 * commas only (RFC 4514), so an escaped "\," inside an RDN value never counts.
 * DN functions do not validate or normalise: they work on the text as given.
 *
 * Ownership: functions returning char * / char ** return malloc'd memory owned
 * by the caller (free / s2l_strv_free); NULL means out of memory (or, for
 * s2l_buf, past the buffer's cap). const char * returns point into the input.
 */
#ifndef S2L_LDAP_TEXT_H
#define S2L_LDAP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* ---- growable text with a hard cap (curl's dynbuf) ----
 *
 * Append unconditionally; the first allocation failure or an append past `max`
 * makes the buffer `failed` (sticky) and every later append a no-op, so callers
 * check once, at s2l_buf_take. A zeroed s2l_buf is ready to use with the
 * default cap. Fields are readable; change them only through these functions. */
#define S2L_BUF_DEFAULT_MAX (1u << 20)

typedef struct s2l_buf {
    char *s;            /* NUL-terminated content (NULL while empty) */
    size_t len, cap;    /* len < cap while allocated; cap <= max + 1; cap == len once failed */
    size_t max;         /* most bytes the content may hold; 0 = S2L_BUF_DEFAULT_MAX */
    bool failed;        /* out of memory or past max: the content is unusable */
} s2l_buf;

/* The growing (and failing) path of s2l_buf_add. */
void s2l_buf_grow_add_(s2l_buf *b, const char *s, size_t n);

/* Appends n bytes of s. Inline: mapping and rendering append in small pieces
 * on the request path, and most appends fit. */
static inline void s2l_buf_add(s2l_buf *b, const char *s, size_t n)
{
    if (n < b->cap - b->len) { /* fits: never true for an empty or failed buffer */
        memcpy(b->s + b->len, s, n);
        b->len += n;
        b->s[b->len] = 0;
    } else {
        s2l_buf_grow_add_(b, s, n);
    }
}

static inline void s2l_buf_adds(s2l_buf *b, const char *s)
{
    s2l_buf_add(b, s, strlen(s));
}
/* Appends value escaped for a filter (RFC 4515: * ( ) \ NUL as \XX). */
void s2l_buf_add_escaped(s2l_buf *b, const char *value, size_t len);
/* Appends "(attr=<escaped value>)". */
void s2l_buf_add_eq(s2l_buf *b, const char *attr, const char *value);
/* The content (malloc'd; "" when nothing was added), or NULL if failed; b is
 * reset either way (its memory moves to the caller or is freed). */
char *s2l_buf_take(s2l_buf *b);
/* Frees the content and resets b. */
void s2l_buf_reset(s2l_buf *b);

/* ---- filters ---- */

/* "(attr=<escaped value>)". */
char *s2l_ldap_eq_filter(const char *attr, const char *value);
/* "(&<filter>(attr=<escaped value>))": an equality within an object filter. */
char *s2l_ldap_and_eq_filter(const char *filter, const char *attr, const char *value);

/* ---- search scopes ---- */

/* A mapping's search scope under a base DN. The values are the LDAP ones
 * (RFC 4511 singleLevel = 1, wholeSubtree = 2; libldap's LDAP_SCOPE_*). */
typedef enum { S2L_SCOPE_ONE = 1, S2L_SCOPE_SUB = 2 } s2l_scope;

#define S2L_LDAP_SCOPE_BASE 0
#define S2L_LDAP_SCOPE_ONELEVEL 1
#define S2L_LDAP_SCOPE_SUBTREE 2

/* The LDAP scope for a mapping scope (anything but SUB searches one level). */
int s2l_ldap_scope(s2l_scope scope);

/* ---- DNs ---- */

/* The parent of dn: what follows its first unescaped ',' (and any spaces
 * after it); NULL for a one-RDN DN. */
const char *s2l_dn_parent(const char *dn);
/* The first RDN of dn as written ("uid=a\,b" of "uid=a\,b,ou=x"). */
char *s2l_dn_rdn(const char *dn);
/* "rdn,parent", or a copy of rdn when parent is NULL or empty. */
char *s2l_dn_join(const char *rdn, const char *parent);
/* The dn an entry at dn gets when its RDN becomes new_rdn (same parent). */
char *s2l_dn_with_rdn(const char *dn, const char *new_rdn);
/* Where each RDN of dn starts (in order, at most max); the number of RDNs,
 * which may exceed max (then only the first max are stored). "" has none. */
size_t s2l_dn_split(const char *dn, const char **starts, size_t max);
/* Whether dn lies strictly below base (case-insensitive text comparison of the
 * trailing RDNs, as written). */
bool s2l_dn_is_below(const char *dn, const char *base);
/* The longest run of trailing RDNs shared by all n DNs (RDNs compared
 * case-insensitively as written), "" when none; at most 64 RDNs per DN count. */
char *s2l_dn_common_suffix(const char *const *dns, size_t n);

/* ---- string vectors (NULL-terminated arrays of malloc'd strings) ---- */

size_t s2l_strv_len(char *const *v);
/* A deep copy; NULL in gives NULL out (check the input to tell it from OOM). */
char **s2l_strv_dup(char *const *v);
/* Appends a copy of s unless it is already there (case-insensitively when
 * nocase); *v may be NULL (an empty vector). 0, or -1 on allocation failure
 * (then *v is unchanged). */
int s2l_strv_add(char ***v, const char *s, bool nocase);
void s2l_strv_free(char **v);

#endif
