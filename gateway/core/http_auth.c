/* http_auth.c — Authorization header, Basic credentials, form bodies (see include/s2l/http_auth.h). */
#include "s2l/http_auth.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s2l/base64.h"

#define FORM_MAX_PARAMS 32

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

void s2l_authz_parse(const char *value, s2l_authz *out)
{
    memset(out, 0, sizeof *out);
    if (value == NULL)
        return;
    while (is_space(*value))
        value++;
    size_t len = strlen(value);
    while (len > 0 && is_space(value[len - 1]))
        len--;
    if (len == 0)
        return;
    size_t word = 0;
    while (word < len && !is_space(value[word]))
        word++;
    if (word == len) {
        /* One word: a known scheme without credentials, or a bare token. */
        bool scheme_only = (len == 6 && strncasecmp(value, "Bearer", 6) == 0) ||
                           (len == 5 && strncasecmp(value, "Basic", 5) == 0);
        if (scheme_only) {
            out->scheme = S2L_AUTHZ_MALFORMED;
            return;
        }
        out->scheme = S2L_AUTHZ_RAW;
        out->cred = value;
        out->cred_len = len;
        return;
    }
    const char *cred = value + word;
    while (is_space(*cred))
        cred++;
    size_t cred_len = len - (size_t)(cred - value);
    if (word == 6 && strncasecmp(value, "Bearer", 6) == 0)
        out->scheme = S2L_AUTHZ_BEARER;
    else if (word == 5 && strncasecmp(value, "Basic", 5) == 0)
        out->scheme = S2L_AUTHZ_BASIC;
    else
        out->scheme = S2L_AUTHZ_OTHER;
    if (out->scheme != S2L_AUTHZ_OTHER) {
        for (size_t i = 0; i < cred_len; i++) {
            unsigned char c = (unsigned char)cred[i];
            if (c <= 0x20 || c == 0x7f) {
                out->scheme = S2L_AUTHZ_MALFORMED;
                return;
            }
        }
    }
    out->cred = cred;
    out->cred_len = cred_len;
}

int s2l_basic_decode(const char *b64, size_t len, char *buf, size_t cap, const char **user, const char **password)
{
    size_t n;
    if (cap < S2L_BASIC_MAX + 4 || s2l_b64_decoded_max(len) > cap - 1 ||
        s2l_b64_decode(b64, len, (unsigned char *)buf, &n) < 0 || n > S2L_BASIC_MAX)
        return -1;
    buf[n] = 0;
    char *colon = NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c < 0x20 || c == 0x7f)
            return -1;
        if (c == ':' && colon == NULL)
            colon = buf + i;
    }
    if (colon == NULL)
        return -1;
    *colon = 0;
    *user = buf;
    *password = colon + 1;
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *s2l_form_decode(const char *s, size_t len, bool plus)
{
    char *out = malloc(len + 1);
    size_t o = 0;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 1 < len ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == 0) {
            free(out);
            return NULL;
        } else {
            out[o++] = plus && c == '+' ? ' ' : c;
        }
    }
    out[o] = 0;
    return out;
}

json_t *s2l_form_parse(const char *body, size_t len, const char **why)
{
    json_t *form = json_object();
    size_t count = 0, pos = 0;
    if (form == NULL) {
        *why = "out of memory";
        return NULL;
    }
    while (pos < len) {
        const char *part = body + pos;
        const char *amp = memchr(part, '&', len - pos);
        size_t plen = amp ? (size_t)(amp - part) : len - pos;
        pos += plen + 1;
        if (plen == 0)
            continue; /* "a=1&&b=2" */
        const char *eq = memchr(part, '=', plen);
        size_t klen = eq ? (size_t)(eq - part) : plen;
        char *key = s2l_form_decode(part, klen, true);
        char *val = eq ? s2l_form_decode(eq + 1, plen - klen - 1, true) : strdup("");
        const char *problem = NULL;
        if (key == NULL || val == NULL)
            problem = "malformed percent-encoding";
        else if (key[0] == 0)
            problem = "a parameter without a name";
        else if (json_object_get(form, key) != NULL)
            problem = "a parameter given more than once";
        else if (++count > FORM_MAX_PARAMS)
            problem = "too many parameters";
        else if (json_object_set_new(form, key, json_string(val)) != 0)
            problem = "a parameter that is not UTF-8";
        free(key);
        free(val);
        if (problem) {
            *why = problem;
            json_decref(form);
            return NULL;
        }
    }
    return form;
}
