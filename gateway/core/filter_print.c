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
#include "s2l/ldap_text.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_path(s2l_buf *b, const s2l_attrpath *a)
{
    if (a->urn != NULL) {
        s2l_buf_adds(b, a->urn);
        s2l_buf_add(b, ":", 1);
    }
    s2l_buf_adds(b, a->attr != NULL ? a->attr : "?");
    if (a->sub != NULL) {
        s2l_buf_add(b, ".", 1);
        s2l_buf_adds(b, a->sub);
    }
}

/* Shortest of %.15g / %.17g that reads back as the same double, always with a
 * '.' or exponent so that it parses as a real again. */
static void print_real(s2l_buf *b, double d)
{
    char text[40];

    if (!isfinite(d)) {
        s2l_buf_adds(b, "null");
        return;
    }
    snprintf(text, sizeof text, "%.15g", d);
    if (strtod(text, NULL) != d)
        snprintf(text, sizeof text, "%.17g", d);
    s2l_buf_adds(b, text);
    if (strpbrk(text, ".eE") == NULL)
        s2l_buf_add(b, ".0", 2);
}

static void print_value(s2l_buf *b, const json_t *v)
{
    char text[32];
    char *s;

    switch (json_typeof(v)) {
    case JSON_INTEGER:
        snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s2l_buf_adds(b, text);
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
        s2l_buf_adds(b, s);
        free(s);
        break;
    case JSON_TRUE:
        s2l_buf_adds(b, "true");
        break;
    case JSON_FALSE:
        s2l_buf_adds(b, "false");
        break;
    default:
        s2l_buf_adds(b, "null");
        break;
    }
}

static void print_filter(s2l_buf *b, const s2l_filter *f, bool bare);

/* Operands of the same and/or kind are spliced into the parent's run. */
static void print_run(s2l_buf *b, const s2l_filter *f, s2l_filter_kind kind, bool *first)
{
    if (f->kind == kind) {
        print_run(b, f->left, kind, first);
        print_run(b, f->right, kind, first);
        return;
    }
    if (!*first)
        s2l_buf_adds(b, kind == S2L_F_AND ? " and " : " or ");
    *first = false;
    print_filter(b, f, false);
}

static void print_filter(s2l_buf *b, const s2l_filter *f, bool bare)
{
    bool first = true;

    if (f == NULL) {
        s2l_buf_adds(b, "?");
        return;
    }
    switch (f->kind) {
    case S2L_F_AND:
    case S2L_F_OR:
        if (!bare)
            s2l_buf_add(b, "(", 1);
        print_run(b, f, f->kind, &first);
        if (!bare)
            s2l_buf_add(b, ")", 1);
        break;
    case S2L_F_NOT:
        s2l_buf_adds(b, "not (");
        print_filter(b, f->left, true);
        s2l_buf_add(b, ")", 1);
        break;
    case S2L_F_VALUEPATH:
        print_path(b, &f->path);
        s2l_buf_add(b, "[", 1);
        print_filter(b, f->left, true);
        s2l_buf_add(b, "]", 1);
        break;
    case S2L_F_PRESENT:
        print_path(b, &f->path);
        s2l_buf_adds(b, " pr");
        break;
    case S2L_F_CMP:
        print_path(b, &f->path);
        s2l_buf_add(b, " ", 1);
        s2l_buf_adds(b, s2l_cmp_op_name(f->op));
        s2l_buf_add(b, " ", 1);
        print_value(b, f->value);
        break;
    }
}

char *s2l_filter_to_string(const s2l_filter *f)
{
    s2l_buf b = {.max = SIZE_MAX / 4}; /* bounded by the filter, not by a cap */

    print_filter(&b, f, false);
    return s2l_buf_take(&b);
}
