/* mapping_transform.c — the "transform" of a derived attribute: a rule that
 * turns a template's value into one the directory accepts, e.g. AD's
 * sAMAccountName (the pre-Windows 2000 logon name: at most 20 characters,
 * none of "/\[]:;|=,+*?<> ) from a userName such as "jane.doe@example.com":
 *
 *   {"ldap": "sAMAccountName", "template": ["{userName}"], "create_only": true,
 *    "transform": {"cut_at": "@", "invalid_chars": "\"/\\[]:;|=,+*?<>",
 *                  "replacement": "_", "max_length": 20}}
 *
 * Steps, in order: cut at the first `cut_at`, replace (or drop) invalid
 * characters, lower-case, cut to max_length characters (never inside a UTF-8
 * sequence), then drop trailing dots and spaces (AD refuses them).
 * Also holds the loader's error helper for the directory features.
 */
#include "mapping_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void s2l_load_err_set(s2l_load_err *e, const char *where, const char *fmt, ...)
{
    va_list ap;
    snprintf(e->where, sizeof e->where, "%s", where);
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

static bool opt_string(const json_t *j, const char *key, const char *where, bool allow_empty, char **out,
                       s2l_load_err *e)
{
    const json_t *v = json_object_get(j, key);
    if (v == NULL)
        return true;
    if (!json_is_string(v) || (!allow_empty && json_string_length(v) == 0) ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        s2l_load_err_set(e, where, "\"%s\" must be a %sstring", key, allow_empty ? "" : "non-empty ");
        return false;
    }
    if ((*out = strdup(json_string_value(v))) == NULL) {
        s2l_load_err_set(e, where, "out of memory");
        return false;
    }
    return true;
}

bool s2l_transform_parse(s2l_transform *t, const json_t *j, const char *where, s2l_load_err *e)
{
    static const char *const keys[] = {"cut_at", "invalid_chars", "replacement", "max_length", "lower_case", NULL};
    const char *k;
    json_t *v;

    if (!json_is_object(j)) {
        s2l_load_err_set(e, where, "must be an object");
        return false;
    }
    json_object_foreach((json_t *)j, k, v) {
        bool known = false;
        for (size_t i = 0; keys[i]; i++)
            known = known || strcmp(keys[i], k) == 0;
        if (!known) {
            s2l_load_err_set(e, where, "unknown key \"%s\"", k);
            return false;
        }
    }
    t->on = true;
    if (!opt_string(j, "cut_at", where, false, &t->cut_at, e) ||
        !opt_string(j, "invalid_chars", where, false, &t->invalid_chars, e) ||
        !opt_string(j, "replacement", where, true, &t->replacement, e))
        return false;
    for (const char *p = t->invalid_chars; p && *p; p++) {
        if ((unsigned char)*p >= 0x80) {
            s2l_load_err_set(e, where, "\"invalid_chars\" must be ASCII characters");
            return false;
        }
    }
    if (t->replacement && t->invalid_chars && strpbrk(t->replacement, t->invalid_chars)) {
        s2l_load_err_set(e, where, "\"replacement\" must not hold an invalid character");
        return false;
    }
    const json_t *ml = json_object_get(j, "max_length");
    if (ml != NULL) {
        if (!json_is_integer(ml) || json_integer_value(ml) < 1 || json_integer_value(ml) > 65536) {
            s2l_load_err_set(e, where, "\"max_length\" must be an integer from 1 to 65536");
            return false;
        }
        t->max_length = (size_t)json_integer_value(ml);
    }
    const json_t *lc = json_object_get(j, "lower_case");
    if (lc != NULL) {
        if (!json_is_boolean(lc)) {
            s2l_load_err_set(e, where, "\"lower_case\" must be true or false");
            return false;
        }
        t->lower_case = json_is_true(lc);
    }
    return true;
}

void s2l_transform_fini(s2l_transform *t)
{
    free(t->cut_at);
    free(t->invalid_chars);
    free(t->replacement);
    memset(t, 0, sizeof *t);
}

char *s2l_transform_apply(const s2l_transform *t, const char *v)
{
    s2l_strbuf b = {0};
    size_t n = strlen(v);

    if (t->cut_at) {
        const char *cut = strstr(v, t->cut_at);
        if (cut)
            n = (size_t)(cut - v);
    }
    size_t chars = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        /* a UTF-8 sequence is one character: copy it whole, or stop before it */
        size_t len = ch < 0x80 ? 1 : ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc0 ? 2 : 1;
        if (i + len > n)
            len = n - i;
        if (len == 1 && ch < 0x80 && t->invalid_chars && strchr(t->invalid_chars, ch)) {
            const char *r = t->replacement ? t->replacement : "";
            size_t rl = strlen(r);
            /* a replacement counts like the characters it brings */
            if (t->max_length && chars + rl > t->max_length)
                break;
            s2l_sb_add(&b, r, rl);
            chars += rl;
            continue;
        }
        if (t->max_length && chars + 1 > t->max_length)
            break;
        if (len == 1 && t->lower_case) {
            char lc = (char)tolower(ch);
            s2l_sb_add(&b, &lc, 1);
        } else {
            s2l_sb_add(&b, v + i, len);
        }
        chars++;
        i += len - 1;
    }
    while (!b.failed && b.len > 0 && (b.s[b.len - 1] == '.' || b.s[b.len - 1] == ' '))
        b.len--;
    if (!b.failed && b.s == NULL)
        s2l_sb_add(&b, "", 0);
    if (!b.failed && b.s)
        b.s[b.len] = 0;
    return s2l_sb_take(&b);
}
