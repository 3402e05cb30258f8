/* ldap_text.c — LDAP text helpers (see include/s2l/ldap_text.h). */
#include "s2l/ldap_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- growable text ---- */

void s2l_buf_grow_add_(s2l_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    size_t max = b->max ? b->max : S2L_BUF_DEFAULT_MAX;
    if (n > max || b->len > max - n)
        goto fail;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap = cap > max / 2 ? max + 1 : cap * 2;
        if (cap > max + 1)
            cap = max + 1;
        char *p = realloc(b->s, cap);
        if (p == NULL)
            goto fail;
        b->s = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
    return;
fail:
    b->failed = true;
    b->cap = b->len; /* nothing fits any more: every append comes here */
}

void s2l_buf_add_escaped(s2l_buf *b, const char *value, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c != '*' && c != '(' && c != ')' && c != '\\' && c != 0)
            continue;
        char esc[3] = {'\\', hex[c >> 4], hex[c & 15]};
        s2l_buf_add(b, value + from, i - from);
        s2l_buf_add(b, esc, 3);
        from = i + 1;
    }
    s2l_buf_add(b, value + from, len - from);
}

void s2l_buf_add_eq(s2l_buf *b, const char *attr, const char *value)
{
    s2l_buf_add(b, "(", 1);
    s2l_buf_adds(b, attr);
    s2l_buf_add(b, "=", 1);
    s2l_buf_add_escaped(b, value, strlen(value));
    s2l_buf_add(b, ")", 1);
}

char *s2l_buf_take(s2l_buf *b)
{
    char *s = b->failed ? NULL : b->s;
    if (b->failed)
        free(b->s);
    else if (s == NULL)
        s = strdup("");
    size_t max = b->max;
    *b = (s2l_buf){.max = max};
    return s;
}

void s2l_buf_reset(s2l_buf *b)
{
    free(b->s);
    size_t max = b->max;
    *b = (s2l_buf){.max = max};
}

/* ---- filters ---- */

char *s2l_ldap_eq_filter(const char *attr, const char *value)
{
    s2l_buf b = {0};
    s2l_buf_add_eq(&b, attr, value);
    return s2l_buf_take(&b);
}

char *s2l_ldap_and_eq_filter(const char *filter, const char *attr, const char *value)
{
    s2l_buf b = {0};
    s2l_buf_add(&b, "(&", 2);
    s2l_buf_adds(&b, filter);
    s2l_buf_add_eq(&b, attr, value);
    s2l_buf_add(&b, ")", 1);
    return s2l_buf_take(&b);
}

/* ---- scopes ---- */

int s2l_ldap_scope(s2l_scope scope)
{
    return scope == S2L_SCOPE_SUB ? S2L_LDAP_SCOPE_SUBTREE : S2L_LDAP_SCOPE_ONELEVEL;
}

/* ---- DNs ---- */

/* The first unescaped ',' at or after p, or NULL. */
static const char *next_comma(const char *p)
{
    for (; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == ',')
            return p;
    }
    return NULL;
}

const char *s2l_dn_parent(const char *dn)
{
    const char *c = next_comma(dn);
    return c ? c + 1 + strspn(c + 1, " ") : NULL; /* "uid=a, ou=x" (RFC 2253 spacing) */
}

char *s2l_dn_rdn(const char *dn)
{
    const char *c = next_comma(dn);
    return c ? strndup(dn, (size_t)(c - dn)) : strdup(dn);
}

char *s2l_dn_join(const char *rdn, const char *parent)
{
    if (parent == NULL || parent[0] == 0)
        return strdup(rdn);
    s2l_buf b = {0};
    s2l_buf_adds(&b, rdn);
    s2l_buf_add(&b, ",", 1);
    s2l_buf_adds(&b, parent);
    return s2l_buf_take(&b);
}

char *s2l_dn_with_rdn(const char *dn, const char *new_rdn)
{
    return s2l_dn_join(new_rdn, s2l_dn_parent(dn));
}

size_t s2l_dn_split(const char *dn, const char **starts, size_t max)
{
    if (dn[0] == 0)
        return 0;
    size_t n = 0;
    for (const char *p = dn; p; n++) {
        if (n < max)
            starts[n] = p;
        const char *c = next_comma(p);
        p = c ? c + 1 : NULL;
    }
    return n;
}

/* Length of the RDN starting at p (up to its unescaped ',' or the end). */
static size_t rdn_len(const char *p)
{
    const char *c = next_comma(p);
    return c ? (size_t)(c - p) : strlen(p);
}

bool s2l_dn_is_below(const char *dn, const char *base)
{
    size_t dl = strlen(dn), bl = strlen(base);
    if (bl == 0)
        return dl > 0;
    if (bl >= dl || dn[dl - bl - 1] != ',' || strcasecmp(dn + dl - bl, base) != 0)
        return false;
    /* The ',' must be a separator, not the escaped end of an RDN value. */
    const char *start = dn + dl - bl;
    const char *p = dn;
    while ((p = s2l_dn_parent(p)) != NULL && p < start)
        ;
    return p == start;
}

#define DN_MAX_RDNS 64

char *s2l_dn_common_suffix(const char *const *dns, size_t n)
{
    if (n == 0)
        return strdup("");
    const char *fp[DN_MAX_RDNS];
    size_t fn = s2l_dn_split(dns[0], fp, DN_MAX_RDNS);
    if (fn > DN_MAX_RDNS)
        fn = DN_MAX_RDNS;
    size_t keep = fn; /* trailing RDNs of dns[0] shared by all so far */
    for (size_t i = 1; i < n && keep > 0; i++) {
        const char *op[DN_MAX_RDNS];
        size_t on = s2l_dn_split(dns[i], op, DN_MAX_RDNS);
        if (on > DN_MAX_RDNS)
            on = DN_MAX_RDNS;
        size_t k = 0;
        while (k < keep && k < on) {
            const char *a = fp[fn - 1 - k], *b = op[on - 1 - k];
            size_t al = rdn_len(a), bl = rdn_len(b);
            if (al != bl || strncasecmp(a, b, al) != 0)
                break;
            k++;
        }
        keep = k;
    }
    return strdup(keep ? fp[fn - keep] : "");
}

/* ---- string vectors ---- */

size_t s2l_strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

char **s2l_strv_dup(char *const *v)
{
    if (v == NULL)
        return NULL;
    size_t n = s2l_strv_len(v);
    char **out = calloc(n + 1, sizeof *out);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if ((out[i] = strdup(v[i])) == NULL) {
            s2l_strv_free(out);
            return NULL;
        }
    }
    return out;
}

int s2l_strv_add(char ***v, const char *s, bool nocase)
{
    size_t n = s2l_strv_len(*v);
    for (size_t i = 0; i < n; i++)
        if (nocase ? strcasecmp((*v)[i], s) == 0 : strcmp((*v)[i], s) == 0)
            return 0;
    char *copy = strdup(s);
    char **p = copy ? realloc(*v, (n + 2) * sizeof *p) : NULL;
    if (p == NULL) {
        free(copy);
        return -1;
    }
    p[n] = copy;
    p[n + 1] = NULL;
    *v = p;
    return 0;
}

void s2l_strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}
