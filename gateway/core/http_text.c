/* http_text.c — URI decoding, query strings, If-Match, Content-Type
 * (see include/s2l/http_text.h). */
#include "s2l/http_text.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0, len) into out (room for len + 1); returns out. */
static char *decode_into(char *out, const char *s, size_t len, bool plus)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int h1, h2;
        if (c == '+' && plus) {
            c = ' ';
        } else if (c == '%' && i + 2 < len && (h1 = hexval((unsigned char)s[i + 1])) >= 0 &&
                   (h2 = hexval((unsigned char)s[i + 2])) >= 0 && (h1 | h2) != 0) {
            c = (unsigned char)(h1 * 16 + h2);
            i += 2;
        }
        out[o++] = (char)c;
    }
    out[o] = 0;
    return out;
}

bool s2l_uri_has_nul(const char *s)
{
    return s != NULL && strstr(s, "%00") != NULL;
}

char *s2l_uri_decode(const char *s, bool plus)
{
    size_t len = strlen(s);
    char *out = malloc(len + 1);
    return out ? decode_into(out, s, len, plus) : NULL;
}

int s2l_query_parse(const char *raw, s2l_query *q)
{
    *q = (s2l_query){0};
    if (raw == NULL || raw[0] == 0)
        return 0;
    size_t len = strlen(raw), parts = 1;
    for (size_t i = 0; i < len; i++)
        parts += raw[i] == '&';
    /* One allocation: the params, then a copy holding every decoded name and
     * value (each decodes to at most its own length, so the part's own bytes
     * and its '&' or '=' suffice). */
    if (parts > (SIZE_MAX - len - 1) / sizeof *q->params)
        return -1;
    q->params = malloc(parts * sizeof *q->params + len + 1);
    if (q->params == NULL)
        return -1;
    q->text_ = (char *)(q->params + parts);
    const char *p = raw;
    while (p <= raw + len) {
        const char *end = strchr(p, '&');
        if (end == NULL)
            end = raw + len;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *name_end = eq ? eq : end;
        char *name = q->text_ + (p - raw);
        decode_into(name, p, (size_t)(name_end - p), true);
        const char *value = name + strlen(name); /* "" (the name's own terminator) */
        if (eq)
            value = decode_into(q->text_ + (eq + 1 - raw), eq + 1, (size_t)(end - eq - 1), true);
        if (name[0]) {
            q->params[q->n++] = (s2l_query_param){name, value};
            /* in the raw text: "%2500" is the text "%00", not a NUL */
            for (const char *x = p; q->nul_name == NULL && x + 3 <= end; x++)
                if (x[0] == '%' && x[1] == '0' && x[2] == '0')
                    q->nul_name = name;
        }
        p = end + 1;
    }
    return 0;
}

const char *s2l_query_get(const s2l_query *q, const char *name)
{
    for (size_t i = 0; i < q->n; i++)
        if (strcasecmp(q->params[i].name, name) == 0)
            return q->params[i].value;
    return NULL;
}

void s2l_query_fini(s2l_query *q)
{
    free(q->params); /* text_ lives in the same block */
    *q = (s2l_query){0};
}

bool s2l_if_match(const char *header, const char *version)
{
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        bool quoted = false;
        while (*e && (quoted || *e != ',')) {
            if (*e == '"')
                quoted = !quoted;
            e++;
        }
        size_t len = (size_t)(e - p);
        while (len && p[len - 1] == ' ')
            len--;
        if (len == 1 && *p == '*')
            return true;
        if (version) {
            /* Weak comparison: W/"x" matches "x" and W/"x". */
            const char *a = p, *b = version;
            size_t al = len, bl = strlen(version);
            if (al > 2 && strncmp(a, "W/", 2) == 0)
                a += 2, al -= 2;
            if (bl > 2 && strncmp(b, "W/", 2) == 0)
                b += 2, bl -= 2;
            if (al == bl && strncmp(a, b, al) == 0)
                return true;
        }
        p = e;
    }
    return false;
}

bool s2l_http_host_ok(const char *host)
{
    if (host == NULL || host[0] == '\0' || strlen(host) > 255)
        return false;
    const char *p = host;
    if (*p == '[') {
        /* IPv6 literal: hex digits, ':' and '.' (an embedded IPv4 address) */
        for (p++; isxdigit((unsigned char)*p) || *p == ':' || *p == '.'; p++)
            ;
        if (*p != ']' || p == host + 1)
            return false;
        p++;
    } else {
        for (; isalnum((unsigned char)*p) || *p == '-' || *p == '.' || *p == '_'; p++)
            ;
        if (p == host)
            return false;
    }
    if (*p == '\0')
        return true;
    if (*p != ':')
        return false;
    size_t digits = 0;
    for (p++; isdigit((unsigned char)*p); p++)
        digits++;
    return *p == '\0' && digits >= 1 && digits <= 5;
}

bool s2l_content_type_is_json(const char *ct)
{
    if (ct == NULL)
        return true;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; \t");
    return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
           (n == 21 && strncasecmp(ct, "application/scim+json", 21) == 0);
}
