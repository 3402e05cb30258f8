/* ldif.c — LDIF change records (RFC 2849); see include/s2l/ldif.h.
 *
 * What `scim2ldap preview` prints must be what an admin can feed to
 * ldapmodify, so every DN and value goes through one encoder that knows the
 * RFC's SAFE-STRING rule and switches to base64 otherwise.
 */
#include "s2l/ldif.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffer ---- */

static void put(s2l_ldif *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap < o->len + n + 1) {
            if (cap > SIZE_MAX / 2) {
                o->failed = true;
                return;
            }
            cap *= 2;
        }
        char *s2 = realloc(o->s, cap);
        if (s2 == NULL) {
            o->failed = true;
            return;
        }
        o->s = s2;
        o->cap = cap;
    }
    memcpy(o->s + o->len, s, n);
    o->len += n;
    o->s[o->len] = 0;
}

static void puts_(s2l_ldif *o, const char *s)
{
    put(o, s, strlen(s));
}

static int status(const s2l_ldif *o)
{
    return o->failed ? -1 : 0;
}

static int fail(s2l_ldif *o)
{
    o->failed = true;
    return -1;
}

void s2l_ldif_reset(s2l_ldif *o)
{
    free(o->s);
    o->s = NULL;
    o->len = o->cap = 0;
    o->failed = false;
}

char *s2l_ldif_take(s2l_ldif *o)
{
    char *s = NULL;
    if (!o->failed)
        s = o->s ? o->s : strdup("");
    else
        free(o->s);
    o->s = NULL;
    o->len = o->cap = 0;
    o->failed = false;
    return s;
}

/* ---- encoding ---- */

bool s2l_ldif_is_safe(const char *value, size_t len)
{
    const unsigned char *v = (const unsigned char *)value;
    if (len == 0)
        return true;
    /* SAFE-INIT-CHAR: not SPACE, ':' or '<' */
    if (v[0] == ' ' || v[0] == ':' || v[0] == '<')
        return false;
    for (size_t i = 0; i < len; i++) {
        /* SAFE-CHAR: %x01-09 / %x0B-0C / %x0E-7F */
        if (v[i] == 0 || v[i] == '\n' || v[i] == '\r' || v[i] > 0x7f)
            return false;
    }
    /* RFC 2849 note 8: values ending with a space SHOULD be base64 */
    return v[len - 1] != ' ';
}

char *s2l_base64_encode(const void *data, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
        return NULL;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    size_t o = 0, i = 0;
    if (out == NULL)
        return NULL;
    for (; i + 2 < len; i += 3) {
        uint32_t n = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = tab[n >> 18 & 63];
        out[o++] = tab[n >> 12 & 63];
        out[o++] = tab[n >> 6 & 63];
        out[o++] = tab[n & 63];
    }
    if (i < len) {
        uint32_t n = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        out[o++] = tab[n >> 18 & 63];
        out[o++] = tab[n >> 12 & 63];
        out[o++] = i + 1 < len ? tab[n >> 6 & 63] : '=';
        out[o++] = '=';
    }
    out[o] = 0;
    return out;
}

/* Valid UTF-8 without control characters: can be shown in a comment line. */
static bool printable_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return false;
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            n = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, cp = c & 0x07;
        else
            return false;
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        /* overlong forms, surrogates, beyond U+10FFFF, C1 controls */
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
            return false;
        i += n + 1;
    }
    return true;
}

static bool valid_name(const char *name)
{
    if (name == NULL || name[0] == 0)
        return false;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == ';' || c == '.'))
            return false;
    }
    return true;
}

int s2l_ldif_attrval(s2l_ldif *o, const char *name, const char *value, size_t len)
{
    if (!valid_name(name) || (value == NULL && len > 0))
        return fail(o);
    if (s2l_ldif_is_safe(value, len)) {
        puts_(o, name);
        if (len > 0) {
            put(o, ": ", 2);
            put(o, value, len);
        } else {
            put(o, ":", 1);
        }
        put(o, "\n", 1);
        return status(o);
    }
    char *b64 = s2l_base64_encode(value, len);
    if (b64 == NULL)
        return fail(o);
    if (o->annotate && printable_utf8((const unsigned char *)value, len)) {
        put(o, "# ", 2);
        puts_(o, name);
        put(o, ": ", 2);
        put(o, value, len);
        put(o, "\n", 1);
    }
    puts_(o, name);
    put(o, ":: ", 3);
    puts_(o, b64);
    put(o, "\n", 1);
    free(b64);
    return status(o);
}

int s2l_ldif_comment(s2l_ldif *o, const char *text)
{
    const char *p = text ? text : "";
    do {
        size_t n = strcspn(p, "\r\n");
        put(o, "#", 1);
        if (n > 0) {
            put(o, " ", 1);
            put(o, p, n);
        }
        put(o, "\n", 1);
        p += n;
        if (*p == '\r' && p[1] == '\n')
            p++;
        if (*p)
            p++;
    } while (*p);
    return status(o);
}

int s2l_ldif_separator(s2l_ldif *o)
{
    if (o->len > 0)
        put(o, "\n", 1);
    return status(o);
}

static int dn_line(s2l_ldif *o, const char *dn)
{
    if (dn == NULL)
        return fail(o);
    s2l_ldif_separator(o);
    return s2l_ldif_attrval(o, "dn", dn, strlen(dn));
}

/* The values of one attribute: an array of strings (a lone string is one value). */
static int values(s2l_ldif *o, const char *name, const json_t *vals)
{
    size_t i;
    const json_t *v;
    if (vals == NULL)
        return 0;
    if (json_is_string(vals))
        return s2l_ldif_attrval(o, name, json_string_value(vals), json_string_length(vals));
    if (!json_is_array(vals))
        return fail(o);
    json_array_foreach(vals, i, v) {
        if (!json_is_string(v) || s2l_ldif_attrval(o, name, json_string_value(v), json_string_length(v)) < 0)
            return fail(o);
    }
    return 0;
}

int s2l_ldif_add(s2l_ldif *o, const char *dn, const json_t *attrs)
{
    const char *name;
    const json_t *vals;
    if (!json_is_object(attrs) || dn_line(o, dn) < 0)
        return fail(o);
    puts_(o, "changetype: add\n");
    json_object_foreach((json_t *)attrs, name, vals) {
        if (values(o, name, vals) < 0)
            return -1;
    }
    return status(o);
}

int s2l_ldif_modify(s2l_ldif *o, const char *dn, const json_t *mods)
{
    size_t i;
    const json_t *m;
    if (!json_is_array(mods) || dn_line(o, dn) < 0)
        return fail(o);
    puts_(o, "changetype: modify\n");
    json_array_foreach(mods, i, m) {
        const char *op = json_string_value(json_object_get(m, "op"));
        const char *attr = json_string_value(json_object_get(m, "attr"));
        if (op == NULL || (strcmp(op, "add") != 0 && strcmp(op, "delete") != 0 && strcmp(op, "replace") != 0) ||
            attr == NULL)
            return fail(o);
        /* "add: mail" is an attrval-spec of its own kind: the name is the value */
        if (!valid_name(attr))
            return fail(o);
        puts_(o, op);
        put(o, ": ", 2);
        puts_(o, attr);
        put(o, "\n", 1);
        if (values(o, attr, json_object_get(m, "values")) < 0)
            return -1;
        put(o, "-\n", 2);
    }
    return status(o);
}

int s2l_ldif_modrdn(s2l_ldif *o, const char *dn, const char *newrdn, bool deleteoldrdn, const char *newsuperior)
{
    if (newrdn == NULL || dn_line(o, dn) < 0)
        return fail(o);
    puts_(o, "changetype: modrdn\n");
    s2l_ldif_attrval(o, "newrdn", newrdn, strlen(newrdn));
    puts_(o, deleteoldrdn ? "deleteoldrdn: 1\n" : "deleteoldrdn: 0\n");
    if (newsuperior)
        s2l_ldif_attrval(o, "newsuperior", newsuperior, strlen(newsuperior));
    return status(o);
}

int s2l_ldif_delete(s2l_ldif *o, const char *dn)
{
    if (dn_line(o, dn) < 0)
        return fail(o);
    puts_(o, "changetype: delete\n");
    return status(o);
}
