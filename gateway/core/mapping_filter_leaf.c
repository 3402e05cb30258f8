/* mapping_filter_leaf.c — one SCIM comparison on one LDAP attribute: the
 * LDAP assertion that is a superset of it, and whether that is exact, given
 * what the attribute's matching rules do (s2l_ldap_caps) and what SCIM says
 * (RFC 7644 §3.4.2.2: exact strings, case-folded where caseExact is false,
 * gt/ge/lt/le lexicographic; dateTimes chronological; numbers numeric).
 *
 * What the directory does, measured on OpenLDAP 2.5 (tests/data/subschema):
 *   - caseIgnore/caseExact(IA5)Match ignore leading, trailing and repeated
 *     spaces (RFC 4518) and apply Unicode normalisation; caseIgnore folds
 *     Unicode case. So "a  b" equals "a b" there, and a substring piece with a
 *     leading or trailing space can miss what SCIM finds: pieces are trimmed.
 *   - telephoneNumberMatch ignores spaces and hyphens, but compares letters
 *     exactly (OpenLDAP; RFC 4517 says it ignores case).
 *   - without an ORDERING (SUBSTR, EQUALITY) rule the assertion is Undefined,
 *     also under "not": it is never sent; an assertion value the rule's syntax
 *     refuses (non-ASCII for IA5, "#" for telephone numbers) is Undefined too.
 *   - a syntax bounds what can be stored: an IA5 attribute holds no "ü", so
 *     eq "jürgen@x" is false for everyone without asking.
 * The bounds these functions return follow mapping_filter_internal.h.
 */
#include "mapping_filter_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- what a value looks like ---- */

static bool is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static bool has_letters(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z'))
            return true;
    return false;
}

static bool has_upper(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] >= 'A' && v[i] <= 'Z')
            return true;
    return false;
}

static bool ascii_text(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
            return false;
    return true;
}

/* Printable ASCII without leading, trailing or repeated spaces: text the
 * directory's string preparation leaves as it is (but for case). */
static bool canonical(const char *v, size_t n)
{
    if (n == 0 || !ascii_text(v, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] == ' ' && (i == 0 || i == n - 1 || v[i - 1] == ' '))
            return false;
    return true;
}

static bool canonical_integer(const char *v, size_t n)
{
    size_t i = v[0] == '-' ? 1 : 0;
    if (n == i || n - i > 18)
        return false;
    if (v[i] == '0')
        return n - i == 1 && i == 0;
    for (; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return false;
    return true;
}

/* ---- what a rule does ---- */

static bool rfc4518_kind(s2l_mr_kind k) /* insignificant spaces handled as RFC 4518 says */
{
    return k == S2L_MR_CASE_IGNORE || k == S2L_MR_CASE_EXACT || k == S2L_MR_CASE_IGNORE_IA5 ||
           k == S2L_MR_CASE_EXACT_IA5;
}

static bool folding_kind(s2l_mr_kind k)
{
    return k == S2L_MR_CASE_IGNORE || k == S2L_MR_CASE_IGNORE_IA5 || k == S2L_MR_INFERRED_CASE_IGNORE;
}

static bool string_kind(s2l_mr_kind k)
{
    return rfc4518_kind(k) || k == S2L_MR_INFERRED_CASE_IGNORE;
}

static bool ia5_kind(s2l_mr_kind k)
{
    return k == S2L_MR_CASE_IGNORE_IA5 || k == S2L_MR_CASE_EXACT_IA5;
}

static bool phone_kind(s2l_mr_kind k)
{
    return k == S2L_MR_TELEPHONE || k == S2L_MR_NUMERIC_STRING;
}

/* Whether v can be the value of an assertion with a rule of kind k without
 * making it Undefined. */
static bool assertable(s2l_mr_kind k, const char *v, size_t n)
{
    if (n == 0 || memchr(v, 0, n) != NULL)
        return false;
    if (ia5_kind(k))
        return s2l_ldap_syntax_allows(S2L_SYN_IA5, v, n);
    if (k == S2L_MR_TELEPHONE)
        return s2l_ldap_syntax_allows(S2L_SYN_PRINTABLE, v, n);
    if (k == S2L_MR_NUMERIC_STRING)
        return s2l_ldap_syntax_allows(S2L_SYN_NUMERIC_STRING, v, n);
    return true;
}

/* Whether no value the attribute can store contains v (or a case variant of
 * it): then eq/co/sw/ew are false without asking. */
static bool cannot_hold(const s2l_ldap_caps *caps, const char *v, size_t n)
{
    switch (caps->syntax) {
    case S2L_SYN_IA5:
    case S2L_SYN_PRINTABLE:
    case S2L_SYN_NUMERIC_STRING:
        return !s2l_ldap_syntax_allows(caps->syntax, v, n);
    default:
        return false;
    }
}

/* Telephone numbers: the characters the rule does not ignore. */
static size_t phone_significant(const char *v, size_t n, bool hyphens)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] != ' ' && !(hyphens && v[i] == '-'))
            k++;
    return k;
}

/* ---- building bounds ---- */

/* Why LDAP does not decide a comparison exactly (notes name the attribute and,
 * where given, the rule's kind). */
#define R_SPACES "ignores leading, trailing and repeated spaces"
#define R_FOLDS "ignores case, the SCIM attribute is caseExact"
#define R_CASE "compares case, SCIM does not"
#define R_INVALID "the value is not valid for the rule (Undefined)"
#define R_PHONE "ignores spaces and hyphens"
#define R_NUMERIC "ignores spaces"
#define R_LETTERS "compares letters exactly"
#define R_FIRST "holds several values, SCIM reads the first"
#define R_NUMBERS "compares numbers, SCIM compares text"
#define R_NO_EQ "no EQUALITY rule"
#define R_NO_SUB "no SUBSTR rule"
#define R_NO_ORD "no ORDERING rule"
#define R_EQ_RULE "its EQUALITY rule is not SCIM's comparison"
#define R_SUB_RULE "its SUBSTR rule is not SCIM's comparison"
#define R_ORD_RULE "its ORDERING rule is not SCIM's order"
#define R_SUBSTR "normalises spaces and Unicode in substrings"
#define R_SHORT "too short a value to narrow the search"
#define R_TEXT "compared as text"
#define R_NOT_INT "not an integer comparison"
#define R_UNKNOWN "not in the directory's schema"
#define R_NUMBER_READ "a value may not read as a number"
#define R_MULTI_GT "several values: one may equal the bound while another passes it"

/* "(attr=*)": some value. Exact for values that always render (strings,
 * dateTimes); numbers that do not parse are left out when rendered, and an
 * attribute outside the known schema is trusted to exist. */
static int presence(fctx *c, const char *attr, const s2l_ldap_caps *caps, s2l_attr_type t, bnd *out)
{
    lf p;
    if (s2l_mf_present(c, attr, &p) < 0)
        return -1;
    if (caps->known && t != S2L_T_INTEGER && t != S2L_T_DECIMAL && t != S2L_T_BOOLEAN)
        return s2l_mf_exact(c, p, out);
    return s2l_mf_upper(c, p, true, attr, caps->known ? R_NUMBER_READ : R_UNKNOWN, -1, out);
}

/* A superset that only says "has a value". */
static int only_presence(fctx *c, const char *attr, const char *why, int kind, bnd *out)
{
    lf p;
    if (s2l_mf_present(c, attr, &p) < 0)
        return -1;
    return s2l_mf_upper(c, p, false, attr, why, kind, out);
}

/* An assertion (attr<op><pre>value<post>) as bounds: exact when strict, else a
 * superset, exact on trust or not. */
static int assertion(fctx *c, const char *attr, const char *op, const char *pre, const char *v, size_t n,
                     const char *post, bool strict, bool trusted, const char *why, int kind, bnd *out)
{
    lf a;
    if (s2l_mf_leaf(c, attr, op, pre, v, n, post, &a) < 0)
        return -1;
    if (strict)
        return s2l_mf_exact(c, a, out);
    return s2l_mf_upper(c, a, trusted, attr, why, kind, out);
}

/* ---- strings ---- */

static int str_eq(fctx *c, const char *attr, const s2l_ldap_caps *caps, bool ce, bool reads_all, const char *v,
                  size_t n, bnd *out)
{
    s2l_mr_kind k = caps->eq;

    if (cannot_hold(caps, v, n)) {
        *out = s2l_mf_bconst(false);
        return 0;
    }
    if (string_kind(k)) {
        if (!folding_kind(k) && !ce && has_letters(v, n))
            return only_presence(c, attr, R_CASE, k, out);
        if (!assertable(k, v, n))
            return only_presence(c, attr, R_INVALID, k, out);
        bool folds_against = folding_kind(k) && ce;
        return assertion(c, attr, "=", "", v, n, "", false, canonical(v, n) && !folds_against,
                         folds_against ? R_FOLDS : R_SPACES, k, out);
    }
    if (phone_kind(k)) {
        if (has_letters(v, n))
            return only_presence(c, attr, R_LETTERS, k, out);
        if (!assertable(k, v, n) || phone_significant(v, n, k == S2L_MR_TELEPHONE) == 0)
            return only_presence(c, attr, R_INVALID, k, out);
        return assertion(c, attr, "=", "", v, n, "", false, false, k == S2L_MR_TELEPHONE ? R_PHONE : R_NUMERIC, k,
                         out);
    }
    switch (k) {
    case S2L_MR_OCTET_STRING:
        if (!ce && has_letters(v, n))
            return only_presence(c, attr, R_CASE, k, out);
        return assertion(c, attr, "=", "", v, n, "", reads_all, true, R_FIRST, -1, out);
    case S2L_MR_INTEGER:
        return canonical_integer(v, n) ? assertion(c, attr, "=", "", v, n, "", false, true, R_NUMBERS, k, out)
                                       : only_presence(c, attr, R_NUMBERS, k, out);
    case S2L_MR_UUID: {
        char lower[37];
        if (n != 36 || !s2l_is_uuid(v) || (ce && has_upper(v, n))) {
            /* UUIDs are stored as UUIDs and read in lower case (RFC 4122) */
            *out = s2l_mf_bconst(false);
            return 0;
        }
        for (size_t i = 0; i < n; i++)
            lower[i] = (char)(v[i] >= 'A' && v[i] <= 'F' ? v[i] - 'A' + 'a' : v[i]);
        lower[n] = 0;
        return assertion(c, attr, "=", "", lower, n, "", reads_all, true, R_FIRST, -1, out);
    }
    default:
        return only_presence(c, attr, k == S2L_MR_NONE ? R_NO_EQ : R_EQ_RULE, k == S2L_MR_NONE ? -1 : (int)k, out);
    }
}

/* Unicode normalisation composes a character with combining marks around
 * it ("e" + U+0301 is "é"), in the stored text as in a piece: where the
 * stored text continues after a piece, a last character that could compose
 * with what follows is left out (letters, "<=>", anything beyond ASCII,
 * together with the marks it carries); where it continues before, leading
 * characters beyond ASCII are (a mark there belongs to the stored character
 * before). Digits and other ASCII punctuation compose with nothing. */
static size_t cut_end(const char *s, size_t n)
{
    unsigned char last = (unsigned char)s[n - 1];
    if (last < 0x80 && !((last >= 'a' && last <= 'z') || (last >= 'A' && last <= 'Z') || last == '<' ||
                         last == '=' || last == '>'))
        return n;
    /* back over trailing non-ASCII code points, then one more character */
    while (n > 0 && (unsigned char)s[n - 1] >= 0x80)
        n--;
    return n > 0 ? n - 1 : 0;
}

static size_t cut_start(const char *s, size_t n)
{
    size_t b = 0;
    while (b < n && (unsigned char)s[b] >= 0x80)
        b++;
    return b;
}

static int str_sub(fctx *c, const char *attr, const s2l_ldap_caps *caps, bool ce, bool reads_all, s2l_cmp_op op,
                   const char *v, size_t n, bnd *out)
{
    s2l_mr_kind k = caps->sub;
    const char *pre = op == S2L_OP_SW ? "" : "*", *post = op == S2L_OP_EW ? "" : "*";

    if (cannot_hold(caps, v, n)) {
        *out = s2l_mf_bconst(false);
        return 0;
    }
    if (string_kind(k)) {
        if (!folding_kind(k) && !ce && has_letters(v, n))
            return only_presence(c, attr, R_CASE, k, out);
        if (!assertable(k, v, n))
            return only_presence(c, attr, R_INVALID, k, out);
        /* The directory drops leading and trailing spaces of a value, so a
         * piece is sent without its own; where it starts or ends the value
         * matters only when the rule is known to drop them (RFC 4518). */
        size_t b = 0, e = n;
        while (b < e && is_ws(v[b]))
            b++;
        while (e > b && is_ws(v[e - 1]))
            e--;
        if (op == S2L_OP_SW && !rfc4518_kind(k) && b > 0)
            pre = "*";
        if (op == S2L_OP_EW && !rfc4518_kind(k) && e < n)
            post = "*";
        bool trusted = canonical(v, n) && !(folding_kind(k) && ce);
        /* Unicode normalisation composes a letter with a combining mark that
         * follows it ("e" + U+0301 is "é"): where the stored text continues
         * after the piece, a last character that could compose is left out,
         * unless the syntax holds nothing but ASCII. */
        if (caps->syntax != S2L_SYN_IA5 && caps->syntax != S2L_SYN_PRINTABLE &&
            caps->syntax != S2L_SYN_NUMERIC_STRING) {
            size_t b2 = *pre == '*' && e > b ? b + cut_start(v + b, e - b) : b;
            size_t e2 = *post == '*' && e > b2 ? b2 + cut_end(v + b2, e - b2) : e;
            if (b2 != b || e2 != e) {
                b = b2;
                e = e2;
                trusted = false;
            }
        }
        if (e == b)
            return only_presence(c, attr, R_SHORT, -1, out);
        return assertion(c, attr, "=", pre, v + b, e - b, post, false, trusted, trusted ? R_SPACES : R_SUBSTR, k, out);
    }
    if (phone_kind(k)) {
        if (has_letters(v, n))
            return only_presence(c, attr, R_LETTERS, k, out);
        if (!assertable(k, v, n) || phone_significant(v, n, k == S2L_MR_TELEPHONE) == 0)
            return only_presence(c, attr, R_INVALID, k, out);
        /* the rule ignores spaces (and hyphens) in the stored value and in the piece alike */
        return assertion(c, attr, "=", pre, v, n, post, false, false, k == S2L_MR_TELEPHONE ? R_PHONE : R_NUMERIC, k,
                         out);
    }
    if (k == S2L_MR_OCTET_STRING) {
        if (!ce && has_letters(v, n))
            return only_presence(c, attr, R_CASE, k, out);
        return assertion(c, attr, "=", pre, v, n, post, reads_all, true, R_FIRST, -1, out);
    }
    return only_presence(c, attr, k == S2L_MR_NONE ? R_NO_SUB : R_SUB_RULE, k == S2L_MR_NONE ? -1 : (int)k, out);
}

/* attr >= / <= / > / < text, for rules ordering values the way SCIM does. */
static int ordered(fctx *c, const char *attr, const s2l_ldap_caps *caps, bool reads_all, s2l_cmp_op op,
                   const char *text, size_t n, bnd *out)
{
    const char *rel = op == S2L_OP_GT || op == S2L_OP_GE ? ">=" : "<=";
    lf ge, ge2, eq, strict;

    if (s2l_mf_leaf(c, attr, rel, "", text, n, "", &ge) < 0)
        return -1;
    if (op == S2L_OP_GE || op == S2L_OP_LE) {
        if (reads_all)
            return s2l_mf_exact(c, ge, out);
        return s2l_mf_upper(c, ge, true, attr, R_FIRST, -1, out);
    }
    /* LDAP has only >= and <=: "> x" is ">= x and not = x" for one value;
     * with several, one may equal x while another is greater */
    ge2.k = LF_TEXT;
    if ((ge2.s = strdup(ge.s)) == NULL) {
        s2l_mf_free(&ge);
        return s2l_mf_oom(c);
    }
    if (s2l_mf_leaf(c, attr, "=", "", text, n, "", &eq) < 0 || s2l_mf_not(c, eq, &eq) < 0 ||
        s2l_mf_join(c, '&', ge2, eq, &strict) < 0) {
        s2l_mf_free(&ge);
        return -1;
    }
    if (caps->single_value) {
        s2l_mf_free(&ge);
        return s2l_mf_exact(c, strict, out);
    }
    if (!reads_all)
        s2l_mf_free(&strict); /* only the first value counts: no subset known */
    return s2l_mf_bounds(c, ge, reads_all ? strict : s2l_mf_const(false), false, attr, R_MULTI_GT, -1, out);
}

static int str_ord(fctx *c, const char *attr, const s2l_ldap_caps *caps, bool ce, bool reads_all, s2l_cmp_op op,
                   const char *v, size_t n, bnd *out)
{
    if (caps->ord == S2L_MR_UUID && n == 36 && s2l_is_uuid(v) && !(ce && has_upper(v, n))) {
        /* lower-case UUIDs sort like the 16 bytes UUIDOrderingMatch compares */
        char lower[37];
        for (size_t i = 0; i < n; i++)
            lower[i] = (char)(v[i] >= 'A' && v[i] <= 'F' ? v[i] - 'A' + 'a' : v[i]);
        lower[n] = 0;
        return ordered(c, attr, caps, reads_all, op, lower, n, out);
    }
    if (caps->ord == S2L_MR_NONE)
        return only_presence(c, attr, R_NO_ORD, -1, out);
    return only_presence(c, attr, R_ORD_RULE, caps->ord, out);
}

/* ---- numbers ---- */

/* The integer a filter value stands for (a JSON integer, an integral real, a
 * string holding one). */
static bool integer_of(const json_t *v, long long *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d >= -9e18 && d <= 9e18 && d == (double)(long long)d) {
            *out = (long long)d;
            return true;
        }
        return false;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (*s && !errno && *end == 0 && !is_ws(*s)) {
            *out = x;
            return true;
        }
    }
    return false;
}

static int number_cmp(fctx *c, const char *attr, const s2l_ldap_caps *caps, const s2l_attr_def *def, bool reads_all,
                      const s2l_filter *f, bnd *out)
{
    long long n;
    char text[32];

    if (f->op == S2L_OP_CO || f->op == S2L_OP_SW || f->op == S2L_OP_EW)
        return only_presence(c, attr, R_TEXT, -1, out);
    if (def->type != S2L_T_INTEGER || !integer_of(f->value, &n))
        return only_presence(c, attr, R_NOT_INT, -1, out);
    snprintf(text, sizeof text, "%lld", n);
    if (f->op == S2L_OP_EQ) {
        if (caps->eq != S2L_MR_INTEGER)
            return only_presence(c, attr, R_EQ_RULE, caps->eq, out);
        return assertion(c, attr, "=", "", text, strlen(text), "", reads_all, true, R_FIRST, -1, out);
    }
    if (caps->ord != S2L_MR_INTEGER || caps->eq != S2L_MR_INTEGER)
        return only_presence(c, attr, caps->ord == S2L_MR_NONE ? R_NO_ORD : R_ORD_RULE, caps->ord == S2L_MR_NONE ? -1 : (int)caps->ord, out);
    return ordered(c, attr, caps, reads_all, f->op, text, strlen(text), out);
}

/* ---- entry point ---- */

int s2l_mf_split_cmp(fctx *c, const char *attr, const s2l_ldap_caps *caps, const s2l_attr_def *def, bool reads_all,
                     const s2l_filter *f, bnd *out)
{
    s2l_attr_type t = def ? def->type : S2L_T_STRING;
    bool ce = def && def->case_exact;
    char *v = NULL;
    size_t n = 0;
    int rc;

    if (f->kind == S2L_F_PRESENT)
        return presence(c, attr, caps, t, out);
    if (t == S2L_T_COMPLEX)
        return INVALID(c, "%s: compare one of its sub-attributes", f->path.attr);
    if (t == S2L_T_BOOLEAN) {
        /* a boolean held as plain text: only the gateway reads it */
        if (f->op == S2L_OP_GT || f->op == S2L_OP_GE || f->op == S2L_OP_LT || f->op == S2L_OP_LE)
            return INVALID(c, "%s: gt, ge, lt and le cannot compare booleans (RFC 7644 3.4.2.2)", f->path.attr);
        return only_presence(c, attr, "a boolean held as text", -1, out);
    }
    if (!caps->known || caps->eq == S2L_MR_UNKNOWN) {
        /* nothing is known about its rules: at most "has a value" */
        if (f->op == S2L_OP_EQ && json_is_string(f->value) && json_string_length(f->value) == 0) {
            *out = s2l_mf_bconst(false);
            return 0;
        }
        return only_presence(c, attr, caps->known ? R_EQ_RULE : R_UNKNOWN, -1, out);
    }
    if (t == S2L_T_INTEGER || t == S2L_T_DECIMAL) {
        if (!json_is_number(f->value) && !json_is_string(f->value))
            return INVALID(c, "%s: compared with a value of the wrong type", f->path.sub ? f->path.sub : f->path.attr);
        return number_cmp(c, attr, caps, def, reads_all, f, out);
    }
    if (t == S2L_T_DATETIME) {
        if (!json_is_string(f->value))
            return INVALID(c, "%s: a dateTime is compared with a string", f->path.sub ? f->path.sub : f->path.attr);
        if (f->op == S2L_OP_CO || f->op == S2L_OP_SW || f->op == S2L_OP_EW)
            return only_presence(c, attr, R_TEXT, -1, out);
        if (s2l_mf_value_text(c, f, t, &v, &n) < 0)
            return -1;
        if (f->op == S2L_OP_EQ)
            rc = caps->eq == S2L_MR_GENERALIZED_TIME
                     ? assertion(c, attr, "=", "", v, n, "", reads_all, true, R_FIRST, -1, out)
                     : only_presence(c, attr, caps->eq == S2L_MR_NONE ? R_NO_EQ : R_EQ_RULE, caps->eq, out);
        else
            rc = caps->ord == S2L_MR_GENERALIZED_TIME && caps->eq == S2L_MR_GENERALIZED_TIME
                     ? ordered(c, attr, caps, reads_all, f->op, v, n, out)
                     : only_presence(c, attr, caps->ord == S2L_MR_NONE ? R_NO_ORD : R_ORD_RULE, caps->ord, out);
        free(v);
        return rc;
    }
    /* strings (and references held as plain text) */
    if (s2l_mf_value_text(c, f, S2L_T_STRING, &v, &n) < 0)
        return -1;
    if (n == 0) {
        /* every stored value is non-empty: it contains "", starts with it,
         * sorts after it; none equals it or sorts before it */
        free(v);
        switch (f->op) {
        case S2L_OP_EQ: case S2L_OP_LT: case S2L_OP_LE:
            *out = s2l_mf_bconst(false);
            return 0;
        default:
            return presence(c, attr, caps, t, out);
        }
    }
    switch (f->op) {
    case S2L_OP_EQ:
        rc = str_eq(c, attr, caps, ce, reads_all, v, n, out);
        break;
    case S2L_OP_CO: case S2L_OP_SW: case S2L_OP_EW:
        rc = str_sub(c, attr, caps, ce, reads_all, f->op, v, n, out);
        break;
    default:
        rc = str_ord(c, attr, caps, ce, reads_all, f->op, v, n, out);
        break;
    }
    free(v);
    return rc;
}

/* ---- booleans ---- */

/* "the first value reads as repr" (bool_value in mapping_read.c compares
 * case-insensitively, GeneralizedTimes as instants). */
static int bool_is(fctx *c, const s2l_mentry *me, const char *repr, bnd *out)
{
    s2l_mr_kind k = me->caps.eq;
    size_t n = strlen(repr);
    bool exact_rule = k == S2L_MR_BOOLEAN || k == S2L_MR_GENERALIZED_TIME;
    if (!me->caps.known || !(exact_rule || folding_kind(k) || ((k == S2L_MR_CASE_EXACT || k == S2L_MR_CASE_EXACT_IA5 ||
                                                               k == S2L_MR_OCTET_STRING) && !has_letters(repr, n))))
        return only_presence(c, me->ldap, me->caps.known ? R_EQ_RULE : R_UNKNOWN, me->caps.known ? (int)k : -1, out);
    /* one value read: exact when it is the only one and the rule compares as the reader does */
    return assertion(c, me->ldap, "=", "", repr, n, "", exact_rule && me->caps.single_value, canonical(repr, n),
                     exact_rule ? R_FIRST : R_SPACES, exact_rule ? -1 : (int)k, out);
}

static int present_exact(fctx *c, const char *attr, bnd *out)
{
    lf p;
    if (s2l_mf_present(c, attr, &p) < 0)
        return -1;
    return s2l_mf_exact(c, p, out);
}

/* `active` carried out by the type's deprovision policy (mapping_deprovision.c):
 * always rendered; false where the policy's marks are. Marks are read from
 * the first value the way the gateway writes them (case-insensitive text,
 * AD's bit flags): exact on trust. A policy that also moves entries marks
 * them by their place, which a filter cannot say: then only the gateway
 * decides. */
static int split_policy_bool(fctx *c, const s2l_mentry *me, int want, bnd *out)
{
    if (c->rm->dp_inactive.move_to != NULL)
        return s2l_mf_upper(c, s2l_mf_const(true), false, NULL, "inactive entries are also told by where they are",
                            -1, out);
    lf inactive = {LF_TEXT, s2l_dp_inactive_filter(c->rm, c->err)};
    if (inactive.s == NULL)
        return -1;
    bnd in;
    if (s2l_mf_upper(c, inactive, true, me->attr, "read from the first value, as the gateway writes it", -1, &in) < 0)
        return -1;
    return want ? s2l_mf_bnot(c, in, out) : (*out = in, 0);
}

int s2l_mf_split_bool(fctx *c, const s2l_mentry *me, const s2l_filter *f, bnd *out)
{
    const s2l_me_bool *b = &me->boolean;
    const json_t *v = f->value;
    int want;
    bnd r = s2l_mf_bconst(false), piece;

    if (me->by_policy && f->kind == S2L_F_PRESENT) {
        *out = s2l_mf_bconst(true);
        return 0;
    }
    if (f->kind == S2L_F_PRESENT) {
        if (b->absent >= 0) {
            *out = s2l_mf_bconst(true);
            return 0;
        }
        lf p;
        if (s2l_mf_present(c, me->ldap, &p) < 0)
            return -1;
        if (b->other >= 0)
            return s2l_mf_exact(c, p, out);
        return s2l_mf_upper(c, p, true, me->ldap, "a value may read as neither true nor false", -1, out);
    }
    if (f->op == S2L_OP_GT || f->op == S2L_OP_GE || f->op == S2L_OP_LT || f->op == S2L_OP_LE)
        return INVALID(c, "%s: gt, ge, lt and le cannot compare booleans (RFC 7644 3.4.2.2)", me->attr);
    if (f->op != S2L_OP_EQ) {
        *out = s2l_mf_bconst(false); /* co/sw/ew: a boolean is not text */
        return 0;
    }
    if (json_is_boolean(v))
        want = json_is_true(v);
    else if (json_is_string(v) && strcasecmp(json_string_value(v), "true") == 0)
        want = 1;
    else if (json_is_string(v) && strcasecmp(json_string_value(v), "false") == 0)
        want = 0;
    else
        return INVALID(c, "%s: a boolean is compared with true or false", me->attr);
    if (me->by_policy)
        return split_policy_bool(c, me, want, out);

    const char *repr = want ? b->when_true : b->when_false;
    const char *other_repr = want ? b->when_false : b->when_true;
    if (b->absent == want && b->other == want && other_repr) {
        /* everything but the opposite value reads as wanted (active ↔ not locked) */
        if (bool_is(c, me, other_repr, &piece) < 0)
            return -1;
        return s2l_mf_bnot(c, piece, out);
    }
    /* the first value is wanted's; or there is none and absent reads so; or
     * it is neither representation and others read so */
    if (repr && (bool_is(c, me, repr, &piece) < 0 || s2l_mf_bor(c, r, piece, &r) < 0))
        return -1; /* r is consumed or still a constant */
    if (b->absent == want) {
        if (present_exact(c, me->ldap, &piece) < 0 || s2l_mf_bnot(c, piece, &piece) < 0)
            goto fail;
        if (s2l_mf_bor(c, r, piece, &r) < 0)
            return -1;
    }
    if (b->other == want) {
        bnd o;
        if (present_exact(c, me->ldap, &o) < 0)
            goto fail;
        for (int i = 0; i < 2; i++) {
            const char *x = i ? b->when_true : b->when_false;
            if (x == NULL)
                continue;
            if (bool_is(c, me, x, &piece) < 0 || s2l_mf_bnot(c, piece, &piece) < 0) {
                s2l_mf_bfree(&o);
                goto fail;
            }
            if (s2l_mf_band(c, o, piece, &o) < 0)
                goto fail;
        }
        if (s2l_mf_bor(c, r, o, &r) < 0)
            return -1;
    }
    *out = r;
    return 0;
fail:
    s2l_mf_bfree(&r);
    return -1;
}

/* ---- references ---- */

int s2l_mf_split_has(fctx *c, const s2l_mentry *me, bnd *out)
{
    lf x = s2l_mf_const(false);
    bool end = false;
    for (size_t k = 0; !end; k++) {
        const char *a = s2l_mf_entry_attr(me, k, &end);
        lf p;
        if (a == NULL)
            continue;
        if (s2l_mf_present(c, a, &p) < 0 || s2l_mf_join(c, '|', x, p, &x) < 0)
            return -1;
    }
    if (me->kind != S2L_ME_REFERENCE) {
        const s2l_attr_def *vd = me->top->type == S2L_T_COMPLEX ? s2l_attr_find_sub(me->top, "value") : me->top;
        if (me->ldap && vd && (vd->type == S2L_T_INTEGER || vd->type == S2L_T_DECIMAL))
            return s2l_mf_upper(c, x, true, me->ldap, R_NUMBER_READ, -1, out);
        return s2l_mf_exact(c, x, out);
    }
    /* a reference renders when it names an entry the gateway finds: a
     * dangling one does not, nor does the empty-group placeholder */
    return s2l_mf_upper(c, x, !me->has_placeholder, me->ldap ? me->ldap : NULL,
                        me->has_placeholder ? "an empty group holds the placeholder value"
                                            : "a reference to a deleted entry is not shown",
                        -1, out);
}

int s2l_mf_split_ref(fctx *c, const s2l_mentry *me, const s2l_filter *f, bnd *out)
{
    if (me->virtual_attr)
        return s2l_mf_upper(c, s2l_mf_const(true), false, NULL, "groups are found by a search, not held by the entry",
                            -1, out);
    if (f->kind == S2L_F_PRESENT)
        return s2l_mf_split_has(c, me, out);
    if (!json_is_string(f->value))
        return INVALID(c, "%s.value: compared with a value of the wrong type", me->attr);
    if (f->op != S2L_OP_EQ) {
        bnd has;
        if (s2l_mf_split_has(c, me, &has) < 0)
            return -1;
        s2l_mf_free(&has.lo);
        return s2l_mf_upper(c, has.up, false, me->ldap, "ids are compared once the references are resolved", -1, out);
    }
    const char *id = json_string_value(f->value);
    const char *dn = json_string_value(json_object_get(c->ids, id));
    const s2l_attr_def *vd = s2l_attr_find_sub(me->top, "value");
    if (dn == NULL) {
        *out = s2l_mf_bconst(false); /* no such resource: nothing refers to it */
        return 0;
    }
    /* the id was found by the id attribute's own rule (UUIDs in any case) */
    bool exact = !(vd && vd->case_exact && has_upper(id, strlen(id)));
    int rc;
    if (!me->ref_rdn) {
        rc = assertion(c, me->ldap, "=", "", dn, strlen(dn), "", exact, true, "the id is caseExact", -1, out);
        out->has_value = rc == 0; /* only an entry listing u1 (shown: it resolves) passes */
        return rc;
    }
    /* RDN values (memberUid): the stored text may differ from the RDN in case
     * where the member attribute compares case and the RDN attribute does not */
    char *rattr = NULL, *val = NULL;
    size_t len = 0;
    if (s2l_dn_first_rdn(dn, &rattr, &val, &len) < 0)
        return s2l_mf_oom(c);
    if (folding_kind(me->caps.eq) || me->caps.eq == S2L_MR_DN || !has_letters(val, len)) {
        rc = assertion(c, me->ldap, "=", "", val, len, "", false, true, "holds RDN values", me->caps.eq, out);
        out->has_value = rc == 0;
    } else
        rc = only_presence(c, me->ldap, "compares case, the RDN attribute may not", me->caps.eq, out);
    free(rattr);
    free(val);
    return rc;
}
