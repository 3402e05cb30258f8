/* filter_print.c — the canonical text form of a filter (s2l_filter_to_string).
 *
 * The form is meant for logs and tests and is itself a valid filter that parses
 * back to an equivalent tree:
 *   - every and/or group is parenthesised, and a run of the same operator is
 *     printed flat ("(a pr or b pr or c pr)"), so the text does not depend on
 *     how the parser balanced the chain;
 *   - operators and keywords are lower case, names are printed as written;
 *   - values are JSON (strings escaped, reals with enough digits to round-trip);
 *   - "not (...)" and "attr[...]" carry their own delimiters, so their operand is
 *     printed without an extra pair of parentheses.
 */
#include "s2l/filter.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growable string; `failed` sticks after an allocation failure so callers
 * can append unconditionally and check once at the end. */
typedef struct strbuf {
    char *p;
    size_t len, cap;
    bool failed;
} strbuf;

static void sb_add(strbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (n >= SIZE_MAX - b->len) {
        b->failed = true;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap = cap > SIZE_MAX / 2 ? b->len + n + 1 : cap * 2;
        char *np = realloc(b->p, cap);
        if (np == NULL) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(strbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void print_path(strbuf *b, const s2l_attrpath *a)
{
    if (a->urn != NULL) {
        sb_str(b, a->urn);
        sb_add(b, ":", 1);
    }
    sb_str(b, a->attr != NULL ? a->attr : "?");
    if (a->sub != NULL) {
        sb_add(b, ".", 1);
        sb_str(b, a->sub);
    }
}

/* Shortest of %.15g / %.17g that reads back as the same double, always with a
 * '.' or exponent so that it parses as a real again. */
static void print_real(strbuf *b, double d)
{
    char text[40];

    if (!isfinite(d)) {
        sb_str(b, "null");
        return;
    }
    snprintf(text, sizeof text, "%.15g", d);
    if (strtod(text, NULL) != d)
        snprintf(text, sizeof text, "%.17g", d);
    sb_str(b, text);
    if (strpbrk(text, ".eE") == NULL)
        sb_add(b, ".0", 2);
}

static void print_value(strbuf *b, const json_t *v)
{
    char text[32];
    char *s;

    switch (json_typeof(v)) {
    case JSON_INTEGER:
        snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        sb_str(b, text);
        break;
    case JSON_REAL:
        print_real(b, json_real_value(v));
        break;
    case JSON_STRING:
        s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (s == NULL) {
            b->failed = true;
            break;
        }
        sb_str(b, s);
        free(s);
        break;
    case JSON_TRUE:
        sb_str(b, "true");
        break;
    case JSON_FALSE:
        sb_str(b, "false");
        break;
    default:
        sb_str(b, "null");
        break;
    }
}

static void print_filter(strbuf *b, const s2l_filter *f, bool bare);

/* Operands of the same and/or kind are spliced into the parent's run. */
static void print_run(strbuf *b, const s2l_filter *f, s2l_filter_kind kind, bool *first)
{
    if (f->kind == kind) {
        print_run(b, f->left, kind, first);
        print_run(b, f->right, kind, first);
        return;
    }
    if (!*first)
        sb_str(b, kind == S2L_F_AND ? " and " : " or ");
    *first = false;
    print_filter(b, f, false);
}

static void print_filter(strbuf *b, const s2l_filter *f, bool bare)
{
    bool first = true;

    if (f == NULL) {
        sb_str(b, "?");
        return;
    }
    switch (f->kind) {
    case S2L_F_AND:
    case S2L_F_OR:
        if (!bare)
            sb_add(b, "(", 1);
        print_run(b, f, f->kind, &first);
        if (!bare)
            sb_add(b, ")", 1);
        break;
    case S2L_F_NOT:
        sb_str(b, "not (");
        print_filter(b, f->left, true);
        sb_add(b, ")", 1);
        break;
    case S2L_F_VALUEPATH:
        print_path(b, &f->path);
        sb_add(b, "[", 1);
        print_filter(b, f->left, true);
        sb_add(b, "]", 1);
        break;
    case S2L_F_PRESENT:
        print_path(b, &f->path);
        sb_str(b, " pr");
        break;
    case S2L_F_CMP:
        print_path(b, &f->path);
        sb_add(b, " ", 1);
        sb_str(b, s2l_cmp_op_name(f->op));
        sb_add(b, " ", 1);
        print_value(b, f->value);
        break;
    }
}

char *s2l_filter_to_string(const s2l_filter *f)
{
    strbuf b = { NULL, 0, 0, false };

    print_filter(&b, f, false);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
