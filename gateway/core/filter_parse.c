/* filter_parse.c — SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2).
 *
 * A hand-written recursive-descent parser over the raw bytes. Recursion only
 * happens on "(", "not (" and "[", each of which is checked against max_depth
 * before descending, so hostile input such as "((((..." fails cleanly instead of
 * exhausting the stack. "and"/"or" chains are parsed iteratively and turned into
 * balanced trees, which keeps the promise in filter.h that a tree is never
 * deeper than max_depth and lets consumers recurse over it.
 *
 * Character classes are ASCII-only on purpose: <ctype.h> depends on the locale,
 * and SCIM names and keywords are ASCII by definition (RFC 7643 §2.1).
 */
#include "s2l/filter.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { TK_END, TK_LPAREN, TK_RPAREN, TK_LBRACK, TK_RBRACK, TK_STRING, TK_WORD } tok_kind;

/* A token is a byte range of the input; strings are decoded only when used,
 * so a token for a string covers just its opening quote. */
typedef struct token {
    tok_kind kind;
    size_t start, end;
} token;

typedef struct parser {
    const char *s;
    size_t len;
    size_t pos;
    unsigned max_depth;
    unsigned depth;          /* open "(" / "not (" / "[" groups */
    bool in_brackets;        /* inside a value filter, where valuePaths cannot nest */
    const char *what;        /* "filter" or "path", for error messages */
    const char *scim_type;   /* invalidFilter or invalidPath */
    s2l_error *err;
    bool failed;             /* the first error wins; later ones are consequences */
} parser;

/* One operand of an and/or chain with the height of its tree. */
typedef struct operand {
    s2l_filter *f;
    unsigned height;
} operand;

typedef struct chain {
    operand *v;
    size_t n, cap;
} chain;

static const char *const op_names[] = { "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le" };

static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
static char lower(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    return c;
}

/* Bytes that end a word: whitespace and the characters that are tokens on their own. */
static bool is_delim(char c)
{
    return is_space(c) || c == '(' || c == ')' || c == '[' || c == ']' || c == '"';
}

static bool ci_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

static void fail(parser *p, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(parser *p, int status, const char *fmt, ...)
{
    char msg[S2L_ERROR_DETAIL_MAX];
    va_list ap;

    if (p->failed)
        return;
    p->failed = true;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s2l_error_set(p->err, status, status == 400 ? p->scim_type : NULL, "%s", msg);
}

static void fail_oom(parser *p)
{
    fail(p, 500, "out of memory while parsing %s", p->what);
}

static void fail_depth(parser *p)
{
    fail(p, 400, "%s nests deeper than %u", p->what, p->max_depth);
}

/* Quotes input bytes for an error detail. Client text may hold anything, so
 * only printable ASCII is copied verbatim and long words are cut. */
static void quote_bytes(const char *s, size_t n, char *out, size_t cap)
{
    const size_t shown = 32;
    size_t o = 0, i;

    out[o++] = '\'';
    /* 8 bytes of headroom: one "\xNN" plus the closing quote and terminator */
    for (i = 0; i < n && i < shown && o + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
    }
    if (i < n && o + 5 < cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o++] = '\'';
    out[o] = '\0';
}

static void describe(const parser *p, token t, char *out, size_t cap)
{
    switch (t.kind) {
    case TK_END:
        snprintf(out, cap, "end of %s", p->what);
        break;
    case TK_STRING:
        snprintf(out, cap, "string");
        break;
    default:
        quote_bytes(p->s + t.start, t.end - t.start, out, cap);
        break;
    }
}

static void unexpected(parser *p, token t, const char *expected)
{
    char what[64];

    describe(p, t, what, sizeof what);
    fail(p, 400, "unexpected %s at offset %zu (expected %s)", what, t.start, expected);
}

/* An offending byte inside a word (attribute path, number). */
static void unexpected_at(parser *p, size_t at, size_t word_end, const char *expected)
{
    token t = { at < word_end ? TK_WORD : TK_END, at, at < word_end ? at + 1 : at };
    char what[64];

    if (t.kind == TK_END)
        snprintf(what, sizeof what, "end of attribute path");
    else
        describe(p, t, what, sizeof what);
    fail(p, 400, "unexpected %s at offset %zu (expected %s)", what, at, expected);
}

static token peek(const parser *p)
{
    size_t i = p->pos;
    token t;

    while (i < p->len && is_space(p->s[i]))
        i++;
    t.start = i;
    t.end = i + 1;
    if (i >= p->len) {
        t.kind = TK_END;
        t.end = i;
        return t;
    }
    switch (p->s[i]) {
    case '(': t.kind = TK_LPAREN; return t;
    case ')': t.kind = TK_RPAREN; return t;
    case '[': t.kind = TK_LBRACK; return t;
    case ']': t.kind = TK_RBRACK; return t;
    case '"': t.kind = TK_STRING; return t;
    default: break;
    }
    while (i < p->len && !is_delim(p->s[i]))
        i++;
    t.kind = TK_WORD;
    t.end = i;
    return t;
}

static bool word_is(const parser *p, token t, const char *kw)
{
    size_t n = strlen(kw);
    return t.kind == TK_WORD && t.end - t.start == n && ci_eq(p->s + t.start, kw, n);
}

static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* ---- attribute paths ---- */

/* End of the ATTRNAME (or "$ref") starting at i, or i when there is none. */
static size_t scan_name(const char *s, size_t i, size_t end)
{
    if (i < end && s[i] == '$')
        return (end - i >= 4 && ci_eq(s + i, "$ref", 4)) ? i + 4 : i;
    if (i >= end || !is_alpha(s[i]))
        return i;
    for (i++; i < end && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '-' || s[i] == '_'); i++)
        ;
    return i;
}

static void attrpath_fini(s2l_attrpath *a)
{
    free(a->urn);
    free(a->attr);
    free(a->sub);
    a->urn = a->attr = a->sub = NULL;
}

/* Parses [URN ":"] ATTRNAME ["." ATTRNAME] spanning exactly [start, end).
 * URNs contain ':' and '.', so a name starting with "urn:" is split at its last
 * ':' (RFC 7644 §3.10: the attribute follows the schema URN). */
static int parse_attrpath(parser *p, size_t start, size_t end, s2l_attrpath *out)
{
    const char *s = p->s;
    size_t name = start, name_end, sub = 0, sub_end = 0;
    int rc = -1;

    if (end - start > 4 && ci_eq(s + start, "urn:", 4)) {
        size_t colon = end - 1;
        while (s[colon] != ':')
            colon--;
        if (colon == start + 3) {
            unexpected_at(p, colon + 1, end, "a schema URN followed by ':' and an attribute name");
            goto out;
        }
        for (size_t i = start; i < colon; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c <= 0x20 || c >= 0x7f) {
                unexpected_at(p, i, end, "a schema URN");
                goto out;
            }
        }
        name = colon + 1;
        out->urn = dup_range(s + start, colon - start);
        if (out->urn == NULL) {
            fail_oom(p);
            goto out;
        }
    }
    name_end = scan_name(s, name, end);
    if (name_end == name) {
        unexpected_at(p, name, end, "an attribute name");
        goto out;
    }
    if (name_end < end) {
        if (s[name_end] != '.') {
            unexpected_at(p, name_end, end, "'.' or the end of the attribute path");
            goto out;
        }
        sub = name_end + 1;
        sub_end = scan_name(s, sub, end);
        if (sub_end == sub) {
            unexpected_at(p, sub, end, "a sub-attribute name");
            goto out;
        }
        if (sub_end < end) {
            unexpected_at(p, sub_end, end, "the end of the attribute path");
            goto out;
        }
    }
    out->attr = dup_range(s + name, name_end - name);
    if (out->attr == NULL || (sub_end > sub && (out->sub = dup_range(s + sub, sub_end - sub)) == NULL)) {
        fail_oom(p);
        goto out;
    }
    rc = 0;
out:
    if (rc < 0)
        attrpath_fini(out);
    return rc;
}

/* ---- values ---- */

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (is_digit(c))
            v |= (unsigned)(c - '0');
        else if (lower(c) >= 'a' && lower(c) <= 'f')
            v |= (unsigned)(lower(c) - 'a' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 when it is malformed. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t len;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

static size_t utf8_put(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Decodes the JSON string whose opening quote is at p->pos and leaves p->pos
 * after the closing quote. U+0000 is refused: consumers (LDAP filter values,
 * logs) use C strings, and a silently truncated value would change the filter. */
static json_t *parse_string(parser *p)
{
    const char *s = p->s;
    size_t open = p->pos, i = open + 1, o = 0;
    char *buf = malloc(p->len - open);   /* decoded text is never longer than the source */
    json_t *v = NULL;

    if (buf == NULL) {
        fail_oom(p);
        goto out;
    }
    for (;;) {
        if (i >= p->len) {
            fail(p, 400, "unterminated string starting at offset %zu", open);
            goto out;
        }
        unsigned char c = (unsigned char)s[i];
        if (c == '"')
            break;
        if (c < 0x20) {
            fail(p, 400, "control character 0x%02x in string at offset %zu", c, i);
            goto out;
        }
        if (c >= 0x80) {
            size_t n = utf8_len((const unsigned char *)s + i, p->len - i);
            if (n == 0) {
                fail(p, 400, "invalid UTF-8 in string at offset %zu", i);
                goto out;
            }
            memcpy(buf + o, s + i, n);
            o += n;
            i += n;
            continue;
        }
        if (c != '\\') {
            buf[o++] = (char)c;
            i++;
            continue;
        }
        if (i + 1 >= p->len) {
            fail(p, 400, "unterminated string starting at offset %zu", open);
            goto out;
        }
        static const char escapes[] = "\"\\/bfnrt", decoded[] = "\"\\/\b\f\n\r\t";
        char e = s[i + 1];
        const char *simple = e != '\0' ? strchr(escapes, e) : NULL;
        if (simple != NULL) {
            buf[o++] = decoded[simple - escapes];
            i += 2;
            continue;
        }
        if (e != 'u') {
            char what[64];
            quote_bytes(s + i, 2, what, sizeof what);
            fail(p, 400, "invalid escape %s in string at offset %zu", what, i);
            goto out;
        }
        unsigned cp, lo;
        if (p->len - i < 6 || hex4(s + i + 2, &cp) < 0) {
            fail(p, 400, "invalid \\u escape in string at offset %zu", i);
            goto out;
        }
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            fail(p, 400, "unpaired surrogate \\u%04x in string at offset %zu", cp, i);
            goto out;
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (p->len - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' || hex4(s + i + 8, &lo) < 0 ||
                lo < 0xdc00 || lo > 0xdfff) {
                fail(p, 400, "unpaired surrogate \\u%04x in string at offset %zu", cp, i);
                goto out;
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            i += 6;
        }
        if (cp == 0) {
            fail(p, 400, "\\u0000 is not allowed in string at offset %zu", i);
            goto out;
        }
        o += utf8_put(buf + o, cp);
        i += 6;
    }
    v = json_stringn(buf, o);
    if (v == NULL) {
        fail_oom(p);
        goto out;
    }
    p->pos = i + 1;
out:
    free(buf);
    return v;
}

/* JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 * Returns the length of the number at s (0 when malformed) and whether it is an integer. */
static size_t scan_number(const char *s, size_t n, bool *integer)
{
    size_t i = 0;

    *integer = true;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && is_digit(s[i]))
        while (i < n && is_digit(s[i]))
            i++;
    else
        return 0;
    if (i < n && s[i] == '.') {
        *integer = false;
        if (++i >= n || !is_digit(s[i]))
            return 0;
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        *integer = false;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i]))
            return 0;
        while (i < n && is_digit(s[i]))
            i++;
    }
    return i;
}

static json_t *parse_number(parser *p, token t)
{
    size_t n = t.end - t.start;
    bool integer;
    char *text = NULL;
    json_t *v = NULL;

    if (scan_number(p->s + t.start, n, &integer) != n) {
        unexpected(p, t, "a string, number, true, false or null");
        goto out;
    }
    text = dup_range(p->s + t.start, n);
    if (text == NULL) {
        fail_oom(p);
        goto out;
    }
    /* Integers beyond 64 bits still compare sensibly as reals. */
    errno = 0;
    long long ll = integer ? strtoll(text, NULL, 10) : 0;
    if (integer && errno != ERANGE)
        v = json_integer((json_int_t)ll);
    else {
        errno = 0;
        double d = strtod(text, NULL);
        if (errno == ERANGE && isinf(d)) {
            fail(p, 400, "number out of range at offset %zu", t.start);
            goto out;
        }
        v = json_real(d);
    }
    if (v == NULL) {
        fail_oom(p);
        goto out;
    }
    p->pos = t.end;
out:
    free(text);
    return v;
}

static bool is_number_token(const parser *p, token t)
{
    bool integer;
    size_t n = t.end - t.start;
    return n > 0 && scan_number(p->s + t.start, n, &integer) == n;
}

/* An unquoted word can stand for a string only when it is what a quoted
 * one could hold without escapes: UTF-8 text without control characters,
 * quotes or backslashes. */
static bool is_plain_text(const parser *p, token t)
{
    const unsigned char *s = (const unsigned char *)p->s;
    for (size_t i = t.start; i < t.end;) {
        if (s[i] < 0x20 || s[i] == '"' || s[i] == '\\' || s[i] == 0x7f)
            return false;
        size_t n = utf8_len(s + i, t.end - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* Words of the grammar itself never become values. */
static bool is_keyword(const parser *p, token t)
{
    static const char *const kw[] = {"and", "or", "not", "pr"};
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
        if (word_is(p, t, kw[i]))
            return true;
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
        if (word_is(p, t, op_names[i]))
            return true;
    return false;
}

/* A comparison value: a JSON string, number, true, false or null. An
 * unquoted word that is none of these is taken as a string: RFC 7644 wants
 * quotes, but clients (the Azure reference suite) send
 * `name.familyName eq Employee` and `meta.created gt 2015-10-10T14:38:21-07:00`,
 * and the meaning is not in doubt. Keywords of the grammar stay errors. */
static json_t *parse_value(parser *p)
{
    token t = peek(p);

    if (t.kind == TK_STRING) {
        p->pos = t.start;
        return parse_string(p);
    }
    if (t.kind == TK_WORD) {
        json_t *v = NULL;
        if (word_is(p, t, "true"))
            v = json_true();
        else if (word_is(p, t, "false"))
            v = json_false();
        else if (word_is(p, t, "null"))
            v = json_null();
        else if (is_number_token(p, t) || is_keyword(p, t) || !is_plain_text(p, t))
            return parse_number(p, t);
        else
            v = json_stringn(p->s + t.start, t.end - t.start);
        if (v == NULL) {
            fail_oom(p);
            return NULL;
        }
        p->pos = t.end;
        return v;
    }
    unexpected(p, t, "a string, number, true, false or null");
    return NULL;
}

/* ---- filters ---- */

static s2l_filter *node_create(parser *p, s2l_filter_kind kind)
{
    s2l_filter *f = calloc(1, sizeof *f);
    if (f == NULL)
        fail_oom(p);
    else
        f->kind = kind;
    return f;
}

static int chain_push(parser *p, chain *c, s2l_filter *f, unsigned height)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        operand *v = cap > SIZE_MAX / sizeof *v ? NULL : realloc(c->v, cap * sizeof *v);
        if (v == NULL) {
            fail_oom(p);
            return -1;
        }
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n].f = f;
    c->v[c->n].height = height;
    c->n++;
    return 0;
}

static void chain_fini(chain *c)
{
    for (size_t i = 0; i < c->n; i++)
        s2l_filter_destroy(c->v[i].f);
    free(c->v);
    c->v = NULL;
    c->n = c->cap = 0;
}

/* Links the operands v[lo, hi) under preallocated nodes, splitting in the middle. */
static s2l_filter *balance(const operand *v, size_t lo, size_t hi, s2l_filter **nodes, size_t *next,
                           unsigned *height)
{
    unsigned hl, hr;
    s2l_filter *n;
    size_t mid;

    if (hi - lo == 1) {
        *height = v[lo].height;
        return v[lo].f;
    }
    mid = lo + (hi - lo) / 2;
    n = nodes[(*next)++];
    n->left = balance(v, lo, mid, nodes, next, &hl);
    n->right = balance(v, mid, hi, nodes, next, &hr);
    *height = 1 + (hl > hr ? hl : hr);
    return n;
}

/* Turns the chain's operands into one tree of `kind` nodes; the chain is emptied
 * either way. All nodes are allocated first so that linking cannot fail halfway. */
static s2l_filter *chain_build(parser *p, chain *c, s2l_filter_kind kind, unsigned *height)
{
    s2l_filter **nodes = NULL;
    s2l_filter *f = NULL;
    size_t next = 0, i;

    if (c->n == 1) {
        f = c->v[0].f;
        *height = c->v[0].height;
        c->n = 0;
        goto out;
    }
    nodes = calloc(c->n - 1, sizeof *nodes);
    if (nodes == NULL) {
        fail_oom(p);
        goto out;
    }
    for (i = 0; i < c->n - 1; i++) {
        nodes[i] = node_create(p, kind);
        if (nodes[i] == NULL)
            goto out;
    }
    f = balance(c->v, 0, c->n, nodes, &next, height);
    c->n = 0;
    if (*height > p->max_depth) {
        fail_depth(p);
        s2l_filter_destroy(f);
        f = NULL;
    }
out:
    if (nodes != NULL && f == NULL && c->n > 0)
        for (i = 0; i < c->n - 1; i++)
            free(nodes[i]);
    free(nodes);
    chain_fini(c);
    return f;
}

static s2l_filter *parse_chain(parser *p, int level, unsigned *height);

/* "(" filter ")" or "[" filter "]", with `open` the opening token. */
static s2l_filter *parse_group(parser *p, token open, tok_kind close, unsigned *height)
{
    s2l_filter *f = NULL;
    token t;

    if (p->depth >= p->max_depth) {
        fail_depth(p);
        return NULL;
    }
    p->depth++;
    p->pos = open.end;
    f = parse_chain(p, 0, height);
    if (f != NULL) {
        t = peek(p);
        if (t.kind != close) {
            unexpected(p, t, close == TK_RPAREN ? "'and', 'or' or ')'" : "'and', 'or' or ']'");
            s2l_filter_destroy(f);
            f = NULL;
        } else
            p->pos = t.end;
    }
    p->depth--;
    return f;
}

static bool op_lookup(const parser *p, token t, s2l_cmp_op *op)
{
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
        if (word_is(p, t, op_names[i])) {
            *op = (s2l_cmp_op)i;
            return true;
        }
    return false;
}

/* After "attr[valFilter]": "." subAttr ("pr" | compareOp compValue), at the
 * token `dot`. Joins the comparison to the bracket's filter with "and". */
static int sub_condition(parser *p, token dot, s2l_filter *vp)
{
    size_t end = scan_name(p->s, dot.start + 1, dot.end);
    if (end == dot.start + 1 || end != dot.end) {
        unexpected_at(p, end, dot.end, end == dot.start + 1 ? "a sub-attribute name" : "an operator");
        return -1;
    }
    s2l_filter *cmp = node_create(p, S2L_F_PRESENT);
    s2l_filter *both = cmp ? node_create(p, S2L_F_AND) : NULL;
    if (both == NULL)
        goto fail;
    cmp->path.attr = dup_range(p->s + dot.start + 1, end - dot.start - 1);
    if (cmp->path.attr == NULL) {
        fail_oom(p);
        goto fail;
    }
    p->pos = dot.end;
    token t = peek(p);
    if (word_is(p, t, "pr")) {
        p->pos = t.end;
    } else if (t.kind == TK_WORD && op_lookup(p, t, &cmp->op)) {
        cmp->kind = S2L_F_CMP;
        p->pos = t.end;
        cmp->value = parse_value(p);
        if (cmp->value == NULL)
            goto fail;
    } else {
        unexpected(p, t, "an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)");
        goto fail;
    }
    both->left = vp->left;
    both->right = cmp;
    vp->left = both;
    return 0;
fail:
    s2l_filter_destroy(cmp);
    s2l_filter_destroy(both);
    return -1;
}

/* attrPath "pr" | attrPath compareOp compValue | attrPath "[" valFilter "]"
 * | attrPath "[" valFilter "]" "." subAttr ("pr" | compareOp compValue) */
static s2l_filter *parse_attr_expr(parser *p, token name, unsigned *height)
{
    s2l_filter *f = node_create(p, S2L_F_PRESENT);
    unsigned inner;
    token t;

    if (f == NULL)
        goto fail;
    if (parse_attrpath(p, name.start, name.end, &f->path) < 0)
        goto fail;
    p->pos = name.end;
    t = peek(p);
    if (t.kind == TK_LBRACK) {
        if (p->in_brackets) {
            fail(p, 400, "unexpected '[' at offset %zu (value filters cannot nest)", t.start);
            goto fail;
        }
        if (f->path.sub != NULL) {
            fail(p, 400, "unexpected '[' at offset %zu (a value filter needs an attribute, not a sub-attribute)",
                 t.start);
            goto fail;
        }
        p->in_brackets = true;
        f->left = parse_group(p, t, TK_RBRACK, &inner);
        p->in_brackets = false;
        if (f->left == NULL)
            goto fail;
        f->kind = S2L_F_VALUEPATH;
        *height = inner + 1;
        t = peek(p);
        if (t.kind == TK_WORD && p->s[t.start] == '.' && !p->in_brackets) {
            /* emails[type eq "work"].value eq "x": what Entra sends when the
             * matching attribute is a filtered path. It means
             * emails[type eq "work" and value eq "x"], and becomes that tree. */
            if (sub_condition(p, t, f) < 0)
                goto fail;
            *height = inner + 2;
        }
        if (*height > p->max_depth) {
            fail_depth(p);
            goto fail;
        }
        return f;
    }
    *height = 0;
    if (word_is(p, t, "pr")) {
        p->pos = t.end;
        return f;
    }
    if (t.kind != TK_WORD || !op_lookup(p, t, &f->op)) {
        unexpected(p, t, "an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) or '['");
        goto fail;
    }
    f->kind = S2L_F_CMP;
    p->pos = t.end;
    f->value = parse_value(p);
    if (f->value == NULL)
        goto fail;
    return f;
fail:
    s2l_filter_destroy(f);
    return NULL;
}

/* "not" "(" filter ")" | "(" filter ")" | attribute expression */
static s2l_filter *parse_unary(parser *p, unsigned *height)
{
    token t = peek(p);
    s2l_filter *f = NULL, *inner;
    unsigned h;

    if (t.kind == TK_LPAREN)
        return parse_group(p, t, TK_RPAREN, height);
    if (word_is(p, t, "not")) {
        p->pos = t.end;
        t = peek(p);
        if (t.kind != TK_LPAREN) {
            unexpected(p, t, "'(' after 'not'");
            return NULL;
        }
        inner = parse_group(p, t, TK_RPAREN, &h);
        if (inner == NULL)
            return NULL;
        f = node_create(p, S2L_F_NOT);
        if (f == NULL) {
            s2l_filter_destroy(inner);
            return NULL;
        }
        f->left = inner;
        *height = h + 1;
        if (*height > p->max_depth) {
            fail_depth(p);
            s2l_filter_destroy(f);
            return NULL;
        }
        return f;
    }
    /* "and"/"or" are kept out of attribute position: no schema uses such names,
     * and "a pr and or b pr" deserves an error about the 'or'. */
    if (t.kind == TK_WORD && !word_is(p, t, "and") && !word_is(p, t, "or"))
        return parse_attr_expr(p, t, height);
    unexpected(p, t, "an attribute path, '(' or 'not'");
    return NULL;
}

/* level 0: operands joined by "or"; level 1: by "and" (which binds tighter). */
static s2l_filter *parse_chain(parser *p, int level, unsigned *height)
{
    const char *kw = level == 0 ? "or" : "and";
    chain c = { NULL, 0, 0 };
    s2l_filter *f;
    unsigned h;
    token t;

    for (;;) {
        f = level == 0 ? parse_chain(p, 1, &h) : parse_unary(p, &h);
        if (f == NULL)
            goto fail;
        if (chain_push(p, &c, f, h) < 0) {
            s2l_filter_destroy(f);
            goto fail;
        }
        t = peek(p);
        if (!word_is(p, t, kw))
            break;
        p->pos = t.end;
    }
    return chain_build(p, &c, level == 0 ? S2L_F_OR : S2L_F_AND, height);
fail:
    chain_fini(&c);
    return NULL;
}

static void parser_init(parser *p, const char *text, size_t len, unsigned max_depth, const char *what,
                        const char *scim_type, s2l_error *err)
{
    memset(p, 0, sizeof *p);
    p->s = text != NULL ? text : "";
    p->len = text != NULL ? len : 0;
    p->max_depth = max_depth == 0 ? S2L_FILTER_DEFAULT_MAX_DEPTH
                 : max_depth > S2L_FILTER_DEPTH_CAP ? S2L_FILTER_DEPTH_CAP : max_depth;
    p->what = what;
    p->scim_type = scim_type;
    p->err = err;
}

s2l_filter *s2l_filter_parse(const char *text, size_t len, const s2l_filter_limits *lim, s2l_error *err)
{
    size_t max_length = lim != NULL && lim->max_length != 0 ? lim->max_length : S2L_FILTER_DEFAULT_MAX_LENGTH;
    s2l_filter *f = NULL;
    parser p;
    unsigned h;
    token t;

    parser_init(&p, text, len, lim != NULL ? lim->max_depth : 0, "filter", S2L_SCIM_INVALID_FILTER, err);
    if (p.len > max_length) {
        fail(&p, 400, "filter is longer than %zu bytes", max_length);
        goto out;
    }
    if (peek(&p).kind == TK_END) {
        fail(&p, 400, "filter is empty");
        goto out;
    }
    f = parse_chain(&p, 0, &h);
    if (f == NULL)
        goto out;
    t = peek(&p);
    if (t.kind != TK_END) {
        unexpected(&p, t, "'and', 'or' or end of filter");
        s2l_filter_destroy(f);
        f = NULL;
    }
out:
    return f;
}

/* Frees without recursion (by rotating left children up), so even a tree built
 * by hand, outside the parser's depth limit, cannot exhaust the stack. */
void s2l_filter_destroy(s2l_filter *f)
{
    while (f != NULL) {
        if (f->left != NULL) {
            s2l_filter *l = f->left;
            f->left = l->right;
            l->right = f;
            f = l;
        } else {
            s2l_filter *r = f->right;
            attrpath_fini(&f->path);
            json_decref(f->value);
            free(f);
            f = r;
        }
    }
}

/* ---- PATCH paths ---- */

s2l_path *s2l_path_parse(const char *text, size_t len, s2l_error *err)
{
    s2l_path *path = NULL;
    parser p;
    unsigned h;
    token t;

    parser_init(&p, text, len, 0, "path", S2L_SCIM_INVALID_PATH, err);
    if (p.len > S2L_FILTER_DEFAULT_MAX_LENGTH) {
        fail(&p, 400, "path is longer than %d bytes", S2L_FILTER_DEFAULT_MAX_LENGTH);
        goto fail;
    }
    path = calloc(1, sizeof *path);
    if (path == NULL) {
        fail_oom(&p);
        goto fail;
    }
    t = peek(&p);
    if (t.kind != TK_WORD) {
        unexpected(&p, t, "an attribute path");
        goto fail;
    }
    if (parse_attrpath(&p, t.start, t.end, &path->attr) < 0)
        goto fail;
    p.pos = t.end;
    t = peek(&p);
    if (t.kind == TK_LBRACK) {
        if (path->attr.sub != NULL) {
            fail(&p, 400, "unexpected '[' at offset %zu (a value filter needs an attribute, not a sub-attribute)",
                 t.start);
            goto fail;
        }
        p.in_brackets = true;
        path->filter = parse_group(&p, t, TK_RBRACK, &h);
        if (path->filter == NULL)
            goto fail;
        t = peek(&p);
        if (t.kind == TK_WORD && p.s[t.start] == '.') {
            size_t end = scan_name(p.s, t.start + 1, t.end);
            if (end == t.start + 1 || end != t.end) {
                unexpected_at(&p, end, t.end, end == t.start + 1 ? "a sub-attribute name" : "end of path");
                goto fail;
            }
            path->filter_sub = dup_range(p.s + t.start + 1, end - t.start - 1);
            if (path->filter_sub == NULL) {
                fail_oom(&p);
                goto fail;
            }
            p.pos = t.end;
            t = peek(&p);
        }
    }
    if (t.kind != TK_END) {
        unexpected(&p, t, path->filter != NULL && path->filter_sub == NULL ? "'.' and a sub-attribute, or end of path"
                                                                      : "end of path");
        goto fail;
    }
    return path;
fail:
    s2l_path_destroy(path);
    return NULL;
}

void s2l_path_destroy(s2l_path *p)
{
    if (p == NULL)
        return;
    attrpath_fini(&p->attr);
    s2l_filter_destroy(p->filter);
    free(p->filter_sub);
    free(p);
}

const char *s2l_cmp_op_name(s2l_cmp_op op)
{
    return (unsigned)op < sizeof op_names / sizeof op_names[0] ? op_names[op] : "?";
}
