/* ldap_escape.c — escaping values for LDAP filters (RFC 4515) and DNs (RFC 4514),
 * and reading the first RDN of a DN back (see include/s2l/mapping.h).
 *
 * Every value that reaches an LDAP filter or a DN from a SCIM request goes
 * through here, so a '*' or ')' typed by a user can never become filter syntax
 * or a wildcard, and a ',' in a userName can never make a new DN level.
 */
#include "s2l/mapping.h"
#include "mapping_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char hexdigits[] = "0123456789abcdef";

/* Worst case every byte becomes three ("\2a"); refuse sizes where that overflows. */
static char *alloc_escaped(size_t len)
{
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    return malloc(len * 3 + 1);
}

char *s2l_ldap_escape_filter_value(const char *value, size_t len)
{
    char *out = alloc_escaped(len);
    size_t o = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c == '*' || c == '(' || c == ')' || c == '\\' || c == 0) {
            out[o++] = '\\';
            out[o++] = hexdigits[c >> 4];
            out[o++] = hexdigits[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = 0;
    return out;
}

char *s2l_ldap_escape_dn_value(const char *value, size_t len)
{
    char *out = alloc_escaped(len);
    size_t o = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c == 0) {
            /* NUL has no backslash form in RFC 4514; only the hex pair works. */
            out[o++] = '\\';
            out[o++] = '0';
            out[o++] = '0';
        } else if (c == '"' || c == '+' || c == ',' || c == ';' || c == '<' || c == '>' || c == '\\' ||
                   (i == 0 && (c == ' ' || c == '#')) || (i == len - 1 && c == ' ')) {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = 0;
    return out;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int s2l_dn_first_rdn(const char *dn, char **attr_out, char **value_out, size_t *value_len)
{
    const char *eq = strchr(dn, '=');
    char *attr = NULL, *val = NULL;
    size_t o = 0, n = strlen(dn);
    int rc = -1;

    *attr_out = NULL;
    *value_out = NULL;
    if (eq == NULL || eq == dn)
        goto out;
    attr = strndup(dn, (size_t)(eq - dn));
    val = malloc(n + 1);
    if (attr == NULL || val == NULL)
        goto out;
    for (const char *p = eq + 1; *p; p++) {
        if (*p == ',' || *p == '+')
            break; /* end of the first RDN (or of its first AVA) */
        if (*p != '\\') {
            val[o++] = *p;
            continue;
        }
        int h1 = hexval((unsigned char)p[1]), h2 = h1 >= 0 ? hexval((unsigned char)p[2]) : -1;
        if (h1 >= 0 && h2 >= 0) {
            val[o++] = (char)(h1 * 16 + h2);
            p += 2;
        } else if (p[1] != 0) {
            val[o++] = p[1];
            p++;
        } else {
            goto out; /* a DN cannot end in a lone backslash */
        }
    }
    val[o] = 0;
    rc = 0;
out:
    if (rc < 0) {
        free(attr);
        free(val);
        return -1;
    }
    *attr_out = attr;
    *value_out = val;
    if (value_len)
        *value_len = o;
    return 0;
}
