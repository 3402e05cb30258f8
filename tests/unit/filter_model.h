/* filter_model.h — a model of the directory for testing the filter split
 * (s2l_rmap_split_filter) against the truth (s2l_rmap_filter_match):
 *
 *   - a deterministic PRNG;
 *   - an RFC 4515 filter parser and a three-valued evaluator (TRUE, FALSE,
 *     Undefined) that applies the matching rules of each attribute as
 *     OpenLDAP 2.5 does (measured: insignificant spaces per RFC 4518 with
 *     OpenLDAP's substring quirks, Unicode case folding and composition for
 *     the characters the generators use, telephoneNumberMatch ignoring spaces
 *     and hyphens but not case, no rule ⇒ Undefined, an assertion value the
 *     rule's syntax refuses ⇒ Undefined);
 *   - generators of users (SCIM resources with the values that break naive
 *     translations: double, leading and trailing spaces, phone formats, mixed
 *     case, decomposed Unicode, several emails, missing attributes), of LDAP
 *     entries the gateway would not write itself (a second value for a
 *     single-valued attribute, a lock time written differently, a dangling
 *     manager), and of random filters over them.
 *
 * Header-only (static functions) so each test executable stays one file; the
 * unit test tests/unit/test_filter_property.c and the integration test
 * tests/integration/it_filter_split.c share it (the latter checks the
 * evaluator itself against a real slapd).
 */
#ifndef S2L_FILTER_MODEL_H
#define S2L_FILTER_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "s2l/filter.h"
#include "s2l/mapping.h"
#include "s2l/subschema.h"

/* ------------------------------------------------------------------ PRNG */

typedef struct fm_rng {
    uint64_t s;
} fm_rng;

static inline uint64_t fm_next(fm_rng *r)
{
    /* xorshift64* */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}

static inline size_t fm_below(fm_rng *r, size_t n)
{
    return n ? (size_t)(fm_next(r) % n) : 0;
}

static inline bool fm_chance(fm_rng *r, unsigned pct)
{
    return fm_below(r, 100) < pct;
}

#define FM_PICK(r, arr) ((arr)[fm_below((r), sizeof(arr) / sizeof((arr)[0]))])

/* ------------------------------------------------------------------ strings */

typedef struct fm_buf {
    char *s;
    size_t n, cap;
} fm_buf;

static inline void fm_put(fm_buf *b, const char *s, size_t n)
{
    if (n > ((size_t)1 << 30))
        abort();
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        b->s = realloc(b->s, cap);
        if (b->s == NULL)
            abort();
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static inline void fm_puts(fm_buf *b, const char *s)
{
    fm_put(b, s, strlen(s));
}

static inline void fm_putc(fm_buf *b, char c)
{
    fm_put(b, &c, 1);
}

/* ------------------------------------------------------------------ LDAP filters */

typedef enum { FM_AND, FM_OR, FM_NOT, FM_EQ, FM_GE, FM_LE, FM_PRESENT, FM_SUB } fm_kind;

typedef struct fm_node fm_node;
struct fm_node {
    fm_kind k;
    fm_node **kids;
    size_t n_kids;
    char *attr;
    char *value;               /* EQ, GE, LE */
    char *initial, *final;     /* SUB (NULL when absent) */
    char **any;
    size_t n_any;
};

static inline void fm_node_free(fm_node *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->n_kids; i++)
        fm_node_free(n->kids[i]);
    free(n->kids);
    free(n->attr);
    free(n->value);
    free(n->initial);
    free(n->final);
    for (size_t i = 0; i < n->n_any; i++)
        free(n->any[i]);
    free(n->any);
    free(n);
}

static inline int fm_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* An assertion value up to one of the stop characters, unescaped (\XX). */
static inline char *fm_value(const char **p, const char *stops)
{
    fm_buf b = {0};
    fm_puts(&b, "");
    while (**p && !strchr(stops, **p)) {
        if (**p == '\\' && fm_hex((*p)[1]) >= 0 && fm_hex((*p)[2]) >= 0) {
            fm_putc(&b, (char)(fm_hex((*p)[1]) * 16 + fm_hex((*p)[2])));
            *p += 3;
        } else {
            fm_putc(&b, **p);
            (*p)++;
        }
    }
    return b.s;
}

static inline fm_node *fm_parse_at(const char **p)
{
    if (**p != '(')
        return NULL;
    (*p)++;
    fm_node *n = calloc(1, sizeof *n);
    if (n == NULL)
        abort();
    if (**p == '&' || **p == '|' || **p == '!') {
        n->k = **p == '&' ? FM_AND : **p == '|' ? FM_OR : FM_NOT;
        (*p)++;
        while (**p == '(') {
            fm_node *kid = fm_parse_at(p);
            if (kid == NULL) {
                fm_node_free(n);
                return NULL;
            }
            n->kids = realloc(n->kids, (n->n_kids + 1) * sizeof *n->kids);
            n->kids[n->n_kids++] = kid;
        }
        if (**p != ')' || (n->k == FM_NOT && n->n_kids != 1)) {
            fm_node_free(n);
            return NULL;
        }
        (*p)++;
        return n;
    }
    const char *a = *p;
    while (**p && **p != '=' && **p != '>' && **p != '<' && **p != ')')
        (*p)++;
    n->attr = strndup(a, (size_t)(*p - a));
    if (**p == '>' || **p == '<') {
        n->k = **p == '>' ? FM_GE : FM_LE;
        if ((*p)[1] != '=') {
            fm_node_free(n);
            return NULL;
        }
        *p += 2;
        n->value = fm_value(p, ")");
    } else if (**p == '=') {
        (*p)++;
        if ((*p)[0] == '*' && (*p)[1] == ')') {
            n->k = FM_PRESENT;
            (*p)++;
        } else {
            /* pieces separated by unescaped '*' */
            char *pieces[64];
            size_t np = 0;
            for (;;) {
                pieces[np++] = fm_value(p, "*)");
                if (**p != '*' || np == 64)
                    break;
                (*p)++;
            }
            if (np == 1) {
                n->k = FM_EQ;
                n->value = pieces[0];
            } else {
                n->k = FM_SUB;
                if (*pieces[0])
                    n->initial = pieces[0];
                else
                    free(pieces[0]);
                if (*pieces[np - 1])
                    n->final = pieces[np - 1];
                else
                    free(pieces[np - 1]);
                for (size_t i = 1; i + 1 < np; i++) {
                    n->any = realloc(n->any, (n->n_any + 1) * sizeof *n->any);
                    n->any[n->n_any++] = pieces[i];
                }
            }
        }
    } else {
        fm_node_free(n);
        return NULL;
    }
    if (**p != ')') {
        fm_node_free(n);
        return NULL;
    }
    (*p)++;
    return n;
}

static inline fm_node *fm_parse(const char *text)
{
    const char *p = text;
    fm_node *n = fm_parse_at(&p);
    if (n != NULL && *p != 0) {
        fm_node_free(n);
        return NULL;
    }
    return n;
}

/* ------------------------------------------------------------------ matching rules */

typedef enum { FM_F = 0, FM_T = 1, FM_U = 2 } fm_tv;

/* Unicode composition and case folding, for the characters the generators
 * use: "e"/"u" + combining acute/diaeresis, and Latin-1 letters. */
static inline void fm_compose(fm_buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i + 2 < n && (unsigned char)s[i + 1] == 0xcc && ((unsigned char)s[i + 2] == 0x81 ||
                                                             (unsigned char)s[i + 2] == 0x88)) {
            bool acute = (unsigned char)s[i + 2] == 0x81;
            const char *comp = NULL;
            switch (s[i]) {
            case 'e': comp = acute ? "\xc3\xa9" : "\xc3\xab"; break;
            case 'E': comp = acute ? "\xc3\x89" : "\xc3\x8b"; break;
            case 'u': comp = acute ? "\xc3\xba" : "\xc3\xbc"; break;
            case 'U': comp = acute ? "\xc3\x9a" : "\xc3\x9c"; break;
            default: break;
            }
            if (comp) {
                fm_puts(out, comp);
                i += 2;
                continue;
            }
        }
        fm_putc(out, s[i]);
    }
}

static inline void fm_fold(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            s[i] = (char)(c + 32);
        else if (c == 0xc3 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9e &&
                 (unsigned char)s[i + 1] != 0x97) {
            s[i + 1] = (char)((unsigned char)s[i + 1] + 0x20);
            i++;
        }
    }
}

static inline bool fm_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

typedef enum { FM_WHOLE, FM_INITIAL, FM_ANY, FM_FINAL } fm_part;

/* RFC 4518 string preparation as OpenLDAP applies it: compose, fold (ci),
 * spaces: a value loses leading and trailing ones and keeps one of each run;
 * substring pieces keep one space where they border the rest of the value
 * (measured: (sn=TRAIL *) does not match "Trail", (sn=*l  ) matches it). */
static inline char *fm_prep(const char *s, size_t n, bool ci, fm_part part)
{
    fm_buf c = {0}, out = {0};
    fm_puts(&c, "");
    fm_compose(&c, s, n);
    if (ci)
        fm_fold(c.s, c.n);
    fm_puts(&out, "");
    size_t i = 0;
    bool keep_lead = part == FM_ANY || part == FM_FINAL;
    bool keep_trail = part == FM_ANY || part == FM_INITIAL;
    while (i < c.n && fm_space(c.s[i]))
        i++;
    if (i > 0 && keep_lead)
        fm_putc(&out, ' ');
    while (i < c.n) {
        if (fm_space(c.s[i])) {
            size_t j = i;
            while (j < c.n && fm_space(c.s[j]))
                j++;
            if (j < c.n || keep_trail)
                fm_putc(&out, ' ');
            i = j;
        } else {
            fm_putc(&out, c.s[i++]);
        }
    }
    free(c.s);
    return out.s;
}

/* Telephone numbers / numeric strings: without spaces (and hyphens). */
static inline char *fm_strip(const char *s, bool hyphens)
{
    fm_buf b = {0};
    fm_puts(&b, "");
    for (; *s; s++)
        if (*s != ' ' && !(hyphens && *s == '-'))
            fm_putc(&b, *s);
    return b.s;
}

static inline bool fm_printable(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(" '()+,-./:?=", c)))
            return false;
    }
    return true;
}

static inline bool fm_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* A GeneralizedTime as seconds + fraction digits; false when malformed. */
static inline bool fm_gtime(const char *s, long long *secs, double *frac)
{
    int y, mo, d, h, mi = 0, se = 0;
    size_t n = strlen(s), i;
    if (n < 11)
        return false;
    for (i = 0; i < 10; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    y = atoi((char[5]){s[0], s[1], s[2], s[3], 0});
    mo = atoi((char[3]){s[4], s[5], 0});
    d = atoi((char[3]){s[6], s[7], 0});
    h = atoi((char[3]){s[8], s[9], 0});
    i = 10;
    if (s[i] >= '0' && s[i] <= '9' && s[i + 1] >= '0' && s[i + 1] <= '9') {
        mi = (s[i] - '0') * 10 + (s[i + 1] - '0');
        i += 2;
        if (s[i] >= '0' && s[i] <= '9' && s[i + 1] >= '0' && s[i + 1] <= '9') {
            se = (s[i] - '0') * 10 + (s[i + 1] - '0');
            i += 2;
        }
    }
    *frac = 0;
    if (s[i] == '.' || s[i] == ',') {
        double scale = 0.1;
        i++;
        if (s[i] < '0' || s[i] > '9')
            return false;
        while (s[i] >= '0' && s[i] <= '9') {
            *frac += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
    }
    long long off = 0;
    if (s[i] == 'Z' && s[i + 1] == 0) {
    } else if ((s[i] == '+' || s[i] == '-') && strlen(s + i) == 5) {
        off = ((s[i + 1] - '0') * 10 + (s[i + 2] - '0')) * 3600 + ((s[i + 3] - '0') * 10 + (s[i + 4] - '0')) * 60;
        if (s[i] == '-')
            off = -off;
    } else {
        return false;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31)
        return false;
    long yy = y - (mo <= 2), era = yy / 400, yoe = yy - era * 400;
    long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long days = (long long)era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *secs = days * 86400 + h * 3600LL + mi * 60LL + se - off;
    return true;
}

static inline bool fm_uuid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (fm_hex(s[i]) < 0) {
            return false;
        }
    }
    return true;
}

static inline bool fm_integer(const char *s, long long *v)
{
    char *end;
    if (*s == 0)
        return false;
    *v = strtoll(s, &end, 10);
    return *end == 0;
}

/* DN equality for the simple DNs of the tests: case and blanks around
 * separators do not count (distinguishedNameMatch on caseIgnore RDNs). */
static inline char *fm_dn_norm(const char *s)
{
    fm_buf b = {0};
    fm_puts(&b, "");
    for (; *s; s++) {
        if (*s == ' ' && (b.n == 0 || b.s[b.n - 1] == ',' || b.s[b.n - 1] == '=' || s[1] == ',' || s[1] == '=' ||
                          s[1] == 0))
            continue;
        fm_putc(&b, (char)((*s >= 'A' && *s <= 'Z') ? *s + 32 : *s));
    }
    return b.s;
}

/* Three-way comparison of one stored value with an assertion value under
 * rule kind k; *undefined when the assertion is not valid for the rule. */
static inline int fm_order(s2l_mr_kind k, const char *have, const char *want, bool *undefined, bool *ok)
{
    *ok = true;
    switch (k) {
    case S2L_MR_INTEGER: {
        long long a, b;
        if (!fm_integer(want, &b)) {
            *undefined = true;
            return 0;
        }
        if (!fm_integer(have, &a)) {
            *ok = false;
            return 0;
        }
        return a < b ? -1 : a > b;
    }
    case S2L_MR_GENERALIZED_TIME: {
        long long a, b;
        double fa, fb;
        if (!fm_gtime(want, &b, &fb)) {
            *undefined = true;
            return 0;
        }
        if (!fm_gtime(have, &a, &fa)) {
            *ok = false;
            return 0;
        }
        if (a != b)
            return a < b ? -1 : 1;
        return fa < fb ? -1 : fa > fb;
    }
    case S2L_MR_UUID: {
        if (!fm_uuid(want)) {
            *undefined = true;
            return 0;
        }
        return strcasecmp(have, want) < 0 ? -1 : strcasecmp(have, want) > 0;
    }
    case S2L_MR_CASE_IGNORE:
    case S2L_MR_CASE_EXACT:
    case S2L_MR_CASE_IGNORE_IA5:
    case S2L_MR_CASE_EXACT_IA5: {
        bool ci = k == S2L_MR_CASE_IGNORE || k == S2L_MR_CASE_IGNORE_IA5;
        bool ia5 = k == S2L_MR_CASE_IGNORE_IA5 || k == S2L_MR_CASE_EXACT_IA5;
        if (*want == 0 || (ia5 && !fm_ascii(want))) {
            *undefined = true;
            return 0;
        }
        char *a = fm_prep(have, strlen(have), ci, FM_WHOLE), *b = fm_prep(want, strlen(want), ci, FM_WHOLE);
        int c = strcmp(a, b);
        free(a);
        free(b);
        return c < 0 ? -1 : c > 0;
    }
    case S2L_MR_TELEPHONE:
    case S2L_MR_NUMERIC_STRING: {
        bool tel = k == S2L_MR_TELEPHONE;
        if (!(tel ? fm_printable(want) : strspn(want, "0123456789 ") == strlen(want))) {
            *undefined = true;
            return 0;
        }
        char *a = fm_strip(have, tel), *b = fm_strip(want, tel);
        if (*b == 0)
            *undefined = true;
        int c = strcmp(a, b);
        free(a);
        free(b);
        return c < 0 ? -1 : c > 0;
    }
    case S2L_MR_DN: {
        char *a = fm_dn_norm(have), *b = fm_dn_norm(want);
        int c = strcmp(a, b);
        free(a);
        free(b);
        return c < 0 ? -1 : c > 0;
    }
    case S2L_MR_OID:
    case S2L_MR_BOOLEAN:
        return strcasecmp(have, want) < 0 ? -1 : strcasecmp(have, want) > 0;
    case S2L_MR_OCTET_STRING:
        return strcmp(have, want) < 0 ? -1 : strcmp(have, want) > 0;
    default:
        *undefined = true;
        return 0;
    }
}

/* Substring match of stored value have under rule kind k. */
static inline bool fm_substr(s2l_mr_kind k, const char *have, const fm_node *n, bool *undefined)
{
    bool tel = k == S2L_MR_TELEPHONE, num = k == S2L_MR_NUMERIC_STRING;
    bool ci = k == S2L_MR_CASE_IGNORE || k == S2L_MR_CASE_IGNORE_IA5;
    bool ia5 = k == S2L_MR_CASE_IGNORE_IA5 || k == S2L_MR_CASE_EXACT_IA5;
    bool str = ci || k == S2L_MR_CASE_EXACT || k == S2L_MR_CASE_EXACT_IA5;
    if (!str && !tel && !num) {
        *undefined = true;
        return false;
    }
    const char *pieces[66];
    fm_part parts[66];
    size_t np = 0;
    if (n->initial) {
        pieces[np] = n->initial;
        parts[np++] = FM_INITIAL;
    }
    for (size_t i = 0; i < n->n_any && np < 64; i++) {
        pieces[np] = n->any[i];
        parts[np++] = FM_ANY;
    }
    if (n->final) {
        pieces[np] = n->final;
        parts[np++] = FM_FINAL;
    }
    char *norm[66];
    for (size_t i = 0; i < np; i++) {
        if ((ia5 && !fm_ascii(pieces[i])) || (tel && !fm_printable(pieces[i])))
            *undefined = true;
        norm[i] = str ? fm_prep(pieces[i], strlen(pieces[i]), ci, parts[i]) : fm_strip(pieces[i], tel);
        if (*norm[i] == 0)
            *undefined = true; /* never sent by the gateway: flag it */
    }
    char *v = str ? fm_prep(have, strlen(have), ci, FM_WHOLE) : fm_strip(have, tel);
    size_t len = strlen(v), pos = 0;
    bool ok = true;
    for (size_t i = 0; i < np && ok; i++) {
        size_t pl = strlen(norm[i]);
        if (parts[i] == FM_INITIAL) {
            ok = strncmp(v, norm[i], pl) == 0;
            pos = pl;
        } else if (parts[i] == FM_FINAL) {
            ok = len >= pos + pl && strcmp(v + len - pl, norm[i]) == 0;
        } else {
            char *hit = len >= pos ? strstr(v + pos, norm[i]) : NULL;
            ok = hit != NULL;
            if (hit)
                pos = (size_t)(hit - v) + pl;
        }
    }
    for (size_t i = 0; i < np; i++)
        free(norm[i]);
    free(v);
    return ok;
}

/* The values of attribute `attr` in entry attrs (names compared through the
 * schema, so "surname" finds "sn"). */
static inline const json_t *fm_values(const json_t *attrs, const s2l_subschema *ss, const char *attr)
{
    const s2l_ldap_attr_type *at = s2l_subschema_attr(ss, attr);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)attrs, k, v) {
        if (strcasecmp(k, attr) == 0 || (at && s2l_ldap_attr_is(at, k)))
            return v;
    }
    return NULL;
}

static inline fm_tv fm_eval(const fm_node *n, const json_t *attrs, const s2l_subschema *ss)
{
    switch (n->k) {
    case FM_AND:
    case FM_OR: {
        bool any_u = false;
        for (size_t i = 0; i < n->n_kids; i++) {
            fm_tv t = fm_eval(n->kids[i], attrs, ss);
            if (t == FM_U)
                any_u = true;
            else if ((t == FM_T) == (n->k == FM_OR))
                return t;
        }
        return any_u ? FM_U : n->k == FM_AND ? FM_T : FM_F;
    }
    case FM_NOT: {
        fm_tv t = fm_eval(n->kids[0], attrs, ss);
        return t == FM_U ? FM_U : t == FM_T ? FM_F : FM_T;
    }
    default:
        break;
    }
    const json_t *vals = fm_values(attrs, ss, n->attr);
    if (n->k == FM_PRESENT)
        return json_array_size(vals) > 0 ? FM_T : FM_F;
    const s2l_ldap_attr_type *at = s2l_subschema_attr(ss, n->attr);
    if (at == NULL)
        return FM_U;
    s2l_mr_kind k = s2l_ldap_rule_kind_of(n->k == FM_EQ    ? at->eff_equality
                                          : n->k == FM_SUB ? at->eff_substr
                                                           : at->eff_ordering);
    bool undefined = false, hit = false;
    if (n->k == FM_SUB) {
        /* validity is per assertion, whatever the values */
        fm_substr(k, "", n, &undefined);
        if (undefined)
            return FM_U;
    } else {
        bool ok;
        fm_order(k, n->value, n->value, &undefined, &ok);
        if (undefined)
            return FM_U;
    }
    size_t i;
    json_t *v;
    json_array_foreach(vals, i, v) {
        const char *s = json_string_value(v);
        bool ok = true, u = false;
        if (s == NULL)
            continue;
        if (n->k == FM_SUB) {
            hit |= fm_substr(k, s, n, &u);
        } else {
            int c = fm_order(k, s, n->value, &u, &ok);
            if (ok && !u)
                hit |= n->k == FM_EQ ? c == 0 : n->k == FM_GE ? c >= 0 : c <= 0;
        }
    }
    return hit ? FM_T : FM_F;
}

/* Whether entry attrs matches the filter text (TRUE only). -1 when the text does not parse. */
static inline int fm_matches(const char *filter, const json_t *attrs, const s2l_subschema *ss)
{
    fm_node *n = fm_parse(filter);
    if (n == NULL)
        return -1;
    int r = fm_eval(n, attrs, ss) == FM_T;
    fm_node_free(n);
    return r;
}

/* ------------------------------------------------------------------ users */

/* Values that break naive translations. Stored values respect the LDAP
 * syntaxes (IA5 mail, printable telephone numbers, two-letter countries):
 * the directory refuses the rest. */
static const char *const fm_first_names[] = {
    "Barbara", "barbara", "BARBARA", "Bar bara", "Bar  bara", " Barbara", "Barbara ", "J\xc3\xbcrgen",
    "J\xc3\x9cRGEN", "Jose\xcc\x81", "Jos\xc3\xa9", "Zo\xc3\xab", "Zoe\xcc\x88",
    ("Rene\xcc\x81" "e"), /* split: "\x81e" would be one escape */
    "O'Neil",
    "a*b", "(x)", "Trail", "",
};
static const char *const fm_last_names[] = {
    "Jensen", "jensen", "JENSEN", "Trail ", "Trail", "TRAIL", "Trailer", "  Lead", "Van  Dyke", "Van Dyke",
    "van dyke", "M\xc3\xbcller", "MULLER", "Smith", "smith-jones",
};
static const char *const fm_titles[] = {
    "ENGINEER II", "ENGINEER  II", "engineer ii", "Engineer", " Engineer", "Tour Guide", "Tour  Guide ", "Manager",
    "manager", "A", "a", "Z", "zz", "10", "9",
};
static const char *const fm_mail_locals[] = {"bjensen", "BJensen", "b.jensen", "babs", "x", "jose", "a+b", "Trail"};
static const char *const fm_mail_domains[] = {"example.com", "Example.COM", "example.org", "jensen.org"};
static const char *const fm_phones[] = {
    "+1-555-0100", "+1 555 0100", "+15550100", "555 0100", "555-0100", "+1 (555) 010-0100", "+49 30 1234",
    "+493012345", "555 0199", "0100", "+1 555 0100 x12", "+1 555 0100 X12", "555 ABC", "555-abc",
};
static const char *const fm_langs[] = {"en-US", "en-us", "EN-US", "de", "fr-CA", "en"};
static const char *const fm_depts[] = {"Sales", "sales", "R&D", "R & D", "R  &  D", "Tour Operations"};
static const char *const fm_numbers[] = {"42", "0042", "7", "701984", "x-1", "42 "};
static const char *const fm_externals[] = {"AbC", "abc", "ABC", "AbC ", "x1", "X1", "00ab-cd", "id with spaces"};
/* ISO codes (co and c with the default mapping) and free text (co alone) */
static const char *const fm_countries[] = {"US", "us", "DE", "FR", "United States", "Germany", "germany"};
static const char *const fm_cities[] = {"Hollywood", "hollywood", "New York", "New  York", "Berlin", "M\xc3\xbcnchen"};
static const char *const fm_postcodes[] = {"91608", "10115", " 91608", "9160 8", "ABC 123", "abc 123"};
static const char *const fm_formatted[] = {"Building 7", "building  7", "Room 101 ", "HQ"};
static const char *const fm_locales[] = {"en-US", "en-us", "de-DE", "fr  CA"};
/* values the typed LDAP attributes cannot hold: the default mapping keeps
 * them as JSON in its "type": "*" attribute (scimEmail, scimPhoneNumber) */
static const char *const fm_odd_mails[] = {"j\xc3\xbcrgen@x.org", "J\xc3\x9cRGEN@X.ORG", "zo\xc3\xab@example.com"};
static const char *const fm_odd_phones[] = {"555#1", "+1 555 0100 #2", "*31#"};

typedef struct fm_user {
    json_t *entry;           /* {"dn", "attrs"} as the directory holds it */
    json_t *resource;        /* as the gateway renders it (s2l_rmap_to_scim) */
    char *id;                /* entryUUID, lower case */
    char *dn;
    bool mutated;            /* holds what the gateway would not write (extra values, other forms) */
} fm_user;

typedef struct fm_world {
    const s2l_rmap *rm;
    const s2l_subschema *ss;
    fm_user *users;
    size_t n_users;
    json_t *refs;            /* DN -> {"id","type"} for every user and group */
    json_t *groups;          /* array of {"dn","id"} */
} fm_world;

static inline char *fm_uuid_new(fm_rng *r)
{
    char buf[37];
    uint64_t a = fm_next(r), b = fm_next(r);
    snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
             (unsigned)a & 0xffff, (unsigned)(b >> 48), (unsigned long long)(b & 0xffffffffffffULL));
    return strdup(buf);
}

static inline char *fm_gtime_new(fm_rng *r)
{
    char buf[32];
    snprintf(buf, sizeof buf, "2026%02u%02u%02u%02u%02uZ", (unsigned)(1 + fm_below(r, 12)),
             (unsigned)(1 + fm_below(r, 28)), (unsigned)fm_below(r, 24), (unsigned)fm_below(r, 60),
             (unsigned)fm_below(r, 60));
    return strdup(buf);
}

static inline json_t *fm_email(fm_rng *r, const char *type, bool primary)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s%s@%s", FM_PICK(r, fm_mail_locals), fm_chance(r, 30) ? "1" : "",
             FM_PICK(r, fm_mail_domains));
    json_t *e = json_pack("{s:s,s:s}", "value", buf, "type", type);
    if (primary)
        json_object_set_new(e, "primary", json_true());
    return e;
}

/* A random user resource (what an IdP might POST) with a unique userName
 * built around its index. */
static inline json_t *fm_resource(fm_rng *r, size_t i, const char *manager_id)
{
    static const char *const un_shapes[][2] = {
        {"user", ""}, {"User", ""}, {"USER", ""}, {"user", " "}, {" user", ""}, {"us er", ""}, {"us  er", ""},
        {"J\xc3\xbcrgen", ""}, {"u", ".jensen@example.com"},
    };
    char un[96];
    size_t shape = fm_below(r, sizeof un_shapes / sizeof un_shapes[0]);
    snprintf(un, sizeof un, "%s%zu%s", un_shapes[shape][0], i, un_shapes[shape][1]);
    json_t *res = json_pack("{s:[s,s],s:s}", "schemas", "urn:ietf:params:scim:schemas:core:2.0:User",
                            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "userName", un);
    json_t *name = json_object();
    if (fm_chance(r, 85))
        json_object_set_new(name, "givenName", json_string(FM_PICK(r, fm_first_names)));
    if (fm_chance(r, 85))
        json_object_set_new(name, "familyName", json_string(FM_PICK(r, fm_last_names)));
    if (fm_chance(r, 20))
        json_object_set_new(name, "formatted", json_string("Ms. Barbara J  Jensen III"));
    json_object_set_new(res, "name", name);
    if (fm_chance(r, 70)) {
        char dn[96];
        snprintf(dn, sizeof dn, "%s %s", FM_PICK(r, fm_first_names), FM_PICK(r, fm_last_names));
        json_object_set_new(res, "displayName", json_string(dn));
    }
    if (fm_chance(r, 30))
        json_object_set_new(res, "nickName", json_string(FM_PICK(r, fm_first_names)));
    if (fm_chance(r, 70))
        json_object_set_new(res, "title", json_string(FM_PICK(r, fm_titles)));
    if (fm_chance(r, 50))
        json_object_set_new(res, "preferredLanguage", json_string(FM_PICK(r, fm_langs)));
    if (fm_chance(r, 75))
        json_object_set_new(res, "externalId", json_string(FM_PICK(r, fm_externals)));
    if (fm_chance(r, 20))
        json_object_set_new(res, "locale", json_string(FM_PICK(r, fm_locales)));
    json_t *emails = json_array();
    size_t nw = fm_below(r, 4), nh = fm_below(r, 3);
    for (size_t k = 0; k < nw; k++)
        json_array_append_new(emails, fm_email(r, "work", k == 0));
    for (size_t k = 0; k < nh; k++)
        json_array_append_new(emails, fm_email(r, "home", false));
    if (fm_chance(r, 25)) /* a type no entry names: kept as JSON where the mapping keeps it */
        json_array_append_new(emails, fm_email(r, fm_chance(r, 50) ? "other" : "Other", false));
    if (fm_chance(r, 15)) /* a work email mail (IA5) cannot hold */
        json_array_append_new(emails, json_pack("{s:s,s:s}", "value", FM_PICK(r, fm_odd_mails), "type",
                                                fm_chance(r, 70) ? "work" : "Work"));
    json_object_set_new(res, "emails", emails);
    json_t *phones = json_array();
    static const char *const ptypes[] = {"work", "mobile", "fax", "home", "pager", "other"};
    for (size_t t = 0; t < 6; t++)
        if (fm_chance(r, t < 3 ? 50 : 15))
            json_array_append_new(phones, json_pack("{s:s,s:s}", "value", FM_PICK(r, fm_phones), "type", ptypes[t]));
    if (fm_chance(r, 15)) /* a work number telephoneNumber cannot hold */
        json_array_append_new(phones, json_pack("{s:s,s:s}", "value", FM_PICK(r, fm_odd_phones), "type", "work"));
    json_object_set_new(res, "phoneNumbers", phones);
    json_t *addrs = json_array();
    if (fm_chance(r, 60)) {
        json_t *a = json_pack("{s:s}", "type", "work");
        if (fm_chance(r, 70))
            json_object_set_new(a, "locality", json_string(FM_PICK(r, fm_cities)));
        if (fm_chance(r, 70))
            json_object_set_new(a, "postalCode", json_string(FM_PICK(r, fm_postcodes)));
        if (fm_chance(r, 60))
            json_object_set_new(a, "country", json_string(FM_PICK(r, fm_countries)));
        if (fm_chance(r, 40))
            json_object_set_new(a, "streetAddress", json_string("100 Universal  City Plaza"));
        json_array_append_new(addrs, a);
    }
    if (fm_chance(r, 25))
        json_array_append_new(addrs, json_pack("{s:s,s:s}", "type", "other", "formatted", FM_PICK(r, fm_formatted)));
    if (fm_chance(r, 15)) /* a type no split entry names: kept as JSON where the mapping keeps it */
        json_array_append_new(addrs, json_pack("{s:s,s:s,s:s}", "type", "home", "locality", FM_PICK(r, fm_cities),
                                               "country", FM_PICK(r, fm_countries)));
    json_object_set_new(res, "addresses", addrs);
    json_object_set_new(res, "active", json_boolean(fm_chance(r, 75)));
    json_t *ent = json_object();
    if (fm_chance(r, 60))
        json_object_set_new(ent, "employeeNumber", json_string(FM_PICK(r, fm_numbers)));
    if (fm_chance(r, 50))
        json_object_set_new(ent, "department", json_string(FM_PICK(r, fm_depts)));
    if (fm_chance(r, 30))
        json_object_set_new(ent, "organization", json_string(FM_PICK(r, fm_depts)));
    if (manager_id)
        json_object_set_new(ent, "manager", json_pack("{s:s}", "value", manager_id));
    json_object_set_new(res, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", ent);
    return res;
}

/* Adds a value to an LDAP attribute of entry (creating it). */
static inline void fm_add_value(json_t *entry, const char *attr, const char *value)
{
    json_t *attrs = json_object_get(entry, "attrs");
    json_t *vals = json_object_get(attrs, attr);
    if (vals == NULL) {
        const char *k;
        json_t *v;
        json_object_foreach(attrs, k, v) {
            if (strcasecmp(k, attr) == 0)
                vals = v;
        }
    }
    if (vals == NULL) {
        vals = json_array();
        json_object_set_new(attrs, attr, vals);
    }
    json_array_append_new(vals, json_string(value));
}

/* What the directory may hold that the gateway does not write itself. */
static inline void fm_mutate(fm_rng *r, json_t *entry)
{
    const char *name = FM_PICK(r, fm_first_names);
    json_t *attrs = json_object_get(entry, "attrs");
    /* the country in two attributes (co, c) is worth more tries when there */
    size_t pick = json_object_get(attrs, "co") != NULL && fm_chance(r, 40) ? 7 + fm_below(r, 2) : fm_below(r, 7);
    switch (pick) {
    case 6: /* a text that is not JSON in a JSON attribute: reads as its value */
        fm_add_value(entry, "scimEmail", FM_PICK(r, fm_mail_locals));
        break;
    case 7: /* a country code without the country name: reads from c */
        if (json_object_get(attrs, "co") != NULL) {
            json_object_del(attrs, "co");
            static const char *const codes[] = {"US", "us", "DE", "FR"};
            json_object_set_new(attrs, "c", json_pack("[s]", FM_PICK(r, codes)));
            break;
        }
        fm_add_value(entry, "title", FM_PICK(r, fm_titles));
        break;
    case 8: /* a country name and a different code */
        json_object_set_new(attrs, "co", json_pack("[s]", "Germany"));
        json_object_set_new(attrs, "c", json_pack("[s]", "US"));
        break;
    case 0: fm_add_value(entry, "uid", name[0] ? name : "x"); break;
    case 1: fm_add_value(entry, "title", FM_PICK(r, fm_titles)); break;
    case 2: fm_add_value(entry, "sn", FM_PICK(r, fm_last_names)); break;
    case 3: fm_add_value(entry, "postalCode", FM_PICK(r, fm_postcodes)); break;
    case 4:
        json_object_set_new(attrs, "pwdAccountLockedTime", json_pack("[s]", "00000101000000Z"));
        break;
    default: fm_add_value(entry, "manager", "uid=ghost,ou=people,dc=example,dc=org"); break;
    }
}

/* Drops values equal (by the attribute's equality rule) to an earlier one:
 * the directory refuses such duplicates ("mail: BJensen@x, bjensen@x"). */
static inline void fm_dedupe(json_t *entry, const s2l_subschema *ss)
{
    json_t *attrs = json_object_get(entry, "attrs");
    const char *k;
    json_t *vals;
    json_object_foreach(attrs, k, vals) {
        const s2l_ldap_attr_type *at = s2l_subschema_attr(ss, k);
        s2l_mr_kind kind = at ? s2l_ldap_rule_kind_of(at->eff_equality) : S2L_MR_NONE;
        for (size_t i = 1; i < json_array_size(vals);) {
            bool dup = false;
            for (size_t j = 0; j < i && !dup; j++) {
                bool undef = false, ok = true;
                const char *a = json_string_value(json_array_get(vals, i)), *b = json_string_value(json_array_get(vals, j));
                int c = fm_order(kind, a, b, &undef, &ok);
                dup = undef ? strcmp(a, b) == 0 : ok && c == 0;
            }
            if (dup)
                json_array_remove(vals, i);
            else
                i++;
        }
    }
}

/* Builds n users: resources written through the mapping (s2l_rmap_to_ldap),
 * operational attributes added as the directory would, some entries mutated,
 * groups (memberOf) attached, everything rendered back (s2l_rmap_to_scim).
 * dn_of(i, entry) may move an entry (the integration test keeps DNs apart);
 * NULL keeps the mapping's DN. */
typedef void fm_dn_fn(size_t i, json_t *entry, void *arg);

static inline bool fm_world_build(fm_world *w, const s2l_rmap *rm, const s2l_subschema *ss, fm_rng *r, size_t n,
                                  unsigned mutate_pct, fm_dn_fn *dn_fn, void *dn_arg)
{
    memset(w, 0, sizeof *w);
    w->rm = rm;
    w->ss = ss;
    w->users = calloc(n, sizeof *w->users);
    w->n_users = n;
    w->refs = json_object();
    w->groups = json_array();
    json_t *ids = json_object();
    for (size_t g = 0; g < 3; g++) {
        char dn[64];
        snprintf(dn, sizeof dn, "cn=group%zu,ou=groups,dc=example,dc=org", g);
        char *id = fm_uuid_new(r);
        json_object_set_new(w->refs, dn, json_pack("{s:s,s:s}", "id", id, "type", "Group"));
        json_array_append_new(w->groups, json_pack("{s:s,s:s}", "dn", dn, "id", id));
        free(id);
    }
    for (size_t i = 0; i < n; i++) {
        fm_user *u = &w->users[i];
        u->id = fm_uuid_new(r);
        const char *manager = i > 0 && fm_chance(r, 40) ? w->users[fm_below(r, i)].id : NULL;
        s2l_error err = {0};
        /* A resource the mapping refuses (a value its LDAP syntax cannot
         * hold, e.g. a non-ASCII name in posix gecos) never reaches the
         * directory: another one is drawn. */
        for (int tries = 0; tries < 20; tries++) {
            json_t *res = fm_resource(r, i, manager);
            memset(&err, 0, sizeof err);
            u->entry = s2l_rmap_to_ldap(rm, res, ids, &err);
            json_decref(res);
            if (u->entry != NULL || err.status != 400)
                break;
        }
        if (u->entry == NULL) {
            fprintf(stderr, "fm_world_build: user %zu: %s\n", i, err.detail);
            json_decref(ids);
            return false;
        }
        if (dn_fn)
            dn_fn(i, u->entry, dn_arg);
        u->dn = strdup(json_string_value(json_object_get(u->entry, "dn")));
        json_object_set_new(ids, u->id, json_string(u->dn));
        json_object_set_new(w->refs, u->dn, json_pack("{s:s,s:s}", "id", u->id, "type", "User"));
        json_t *attrs = json_object_get(u->entry, "attrs");
        json_object_set_new(attrs, "entryUUID", json_pack("[s]", u->id));
        char *ct = fm_gtime_new(r), *mt = fm_gtime_new(r);
        json_object_set_new(attrs, "createTimestamp", json_pack("[s]", ct));
        json_object_set_new(attrs, "modifyTimestamp", json_pack("[s]", strcmp(mt, ct) > 0 ? mt : ct));
        free(ct);
        free(mt);
        for (size_t g = 0; g < 3; g++)
            if (fm_chance(r, 30))
                fm_add_value(u->entry, "memberOf",
                             json_string_value(json_object_get(json_array_get(w->groups, g), "dn")));
        if (fm_chance(r, mutate_pct)) {
            fm_mutate(r, u->entry);
            u->mutated = true;
        }
        fm_dedupe(u->entry, ss);
    }
    json_decref(ids);
    return true;
}

/* (Re)renders every user from its entry (after the entries changed, e.g. read
 * back from a directory). */
static inline bool fm_world_render(fm_world *w)
{
    for (size_t i = 0; i < w->n_users; i++) {
        fm_user *u = &w->users[i];
        s2l_error err = {0};
        json_decref(u->resource);
        u->resource = s2l_rmap_to_scim(w->rm, u->entry, w->refs, "https://scim.example.org/scim/v2", &err);
        if (u->resource == NULL) {
            fprintf(stderr, "fm_world_render: %s: %s\n", u->dn, err.detail);
            return false;
        }
    }
    return true;
}

static inline void fm_world_free(fm_world *w)
{
    for (size_t i = 0; i < w->n_users; i++) {
        json_decref(w->users[i].entry);
        json_decref(w->users[i].resource);
        free(w->users[i].id);
        free(w->users[i].dn);
    }
    free(w->users);
    json_decref(w->refs);
    json_decref(w->groups);
    memset(w, 0, sizeof *w);
}

/* SCIM id -> DN for the references a filter names, found as the gateway
 * finds them (by the id attribute's rule: UUIDs in any case). */
static inline json_t *fm_resolve_ids(const fm_world *w, const s2l_filter *f)
{
    json_t *want = s2l_rmap_filter_ref_ids(w->rm, f), *out = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(want, i, v) {
        const char *id = json_string_value(v);
        for (size_t k = 0; k < w->n_users; k++)
            if (strcasecmp(w->users[k].id, id) == 0)
                json_object_set_new(out, id, json_string(w->users[k].dn));
        size_t g;
        json_t *gr;
        json_array_foreach(w->groups, g, gr) {
            if (strcasecmp(json_string_value(json_object_get(gr, "id")), id) == 0)
                json_object_set(out, id, json_object_get(gr, "dn"));
        }
    }
    json_decref(want);
    return out;
}

/* ------------------------------------------------------------------ filters */

/* A value seen in some rendered resource at path (attr[.sub]), or NULL. */
static inline const json_t *fm_seen(fm_rng *r, const fm_world *w, const char *urn, const char *attr,
                                    const char *sub)
{
    for (int tries = 0; tries < 8; tries++) {
        const json_t *res = w->users[fm_below(r, w->n_users)].resource;
        const json_t *c = urn ? json_object_get(res, urn) : res;
        const json_t *v = s2l_json_get_ci(c, attr);
        if (json_is_array(v))
            v = json_array_get(v, fm_below(r, json_array_size(v)));
        if (sub && json_is_object(v))
            v = s2l_json_get_ci(v, sub);
        if (v && !json_is_null(v) && !json_is_object(v))
            return v;
    }
    return NULL;
}

/* A variant of s that keeps it interesting: other case, other spaces, a piece. */
static inline char *fm_variant(fm_rng *r, const char *s, s2l_cmp_op op)
{
    size_t n = strlen(s);
    fm_buf b = {0};
    fm_puts(&b, "");
    size_t from = 0, to = n;
    const char *mark = strstr(s, "\xcc");
    if ((op == S2L_OP_CO || op == S2L_OP_SW) && mark != NULL && fm_chance(r, 50)) {
        /* up to a combining mark: where normalisation composes across the piece's end */
        to = (size_t)(mark - s);
        from = op == S2L_OP_SW ? 0 : fm_below(r, to);
    } else if ((op == S2L_OP_CO || op == S2L_OP_SW || op == S2L_OP_EW) && n > 0 && fm_chance(r, 70)) {
        /* a piece of it: start, end or middle */
        size_t len = 1 + fm_below(r, n);
        if (op == S2L_OP_SW)
            to = len;
        else if (op == S2L_OP_EW)
            from = n - len;
        else {
            from = fm_below(r, n - len + 1);
            to = from + len;
        }
        /* keep UTF-8 sequences whole */
        while (from > 0 && ((unsigned char)s[from] & 0xc0) == 0x80)
            from--;
        while (to < n && ((unsigned char)s[to] & 0xc0) == 0x80)
            to++;
    }
    if (to < from || to > n)
        to = from = 0;
    fm_put(&b, s + from, to - from);
    switch (fm_below(r, 8)) {
    case 0:
        for (size_t i = 0; i < b.n; i++)
            if (b.s[i] >= 'a' && b.s[i] <= 'z')
                b.s[i] = (char)(b.s[i] - 32);
        break;
    case 1:
        for (size_t i = 0; i < b.n; i++)
            if (b.s[i] >= 'A' && b.s[i] <= 'Z')
                b.s[i] = (char)(b.s[i] + 32);
        break;
    case 2: fm_putc(&b, ' '); break;
    case 3: {
        char *sp = strchr(b.s, ' ');
        if (sp) {
            size_t at = (size_t)(sp - b.s);
            fm_buf c = {0};
            fm_put(&c, b.s, at);
            fm_puts(&c, " ");
            fm_puts(&c, b.s + at);
            free(b.s);
            b = c;
        }
        break;
    }
    case 4: {
        fm_buf c = {0};
        fm_puts(&c, " ");
        fm_puts(&c, b.s);
        free(b.s);
        b = c;
        break;
    }
    default: break;
    }
    return b.s;
}

typedef struct fm_path {
    const char *urn, *attr, *sub;
    char type;                /* 's'tring, 'b'oolean, 'd'ateTime, 'r'eference id, 'i'd */
} fm_path;

#define FM_ENT "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
static const fm_path fm_paths[] = {
    {NULL, "userName", NULL, 's'}, {NULL, "name", "givenName", 's'}, {NULL, "name", "familyName", 's'},
    {NULL, "name", "formatted", 's'}, {NULL, "displayName", NULL, 's'}, {NULL, "nickName", NULL, 's'},
    {NULL, "title", NULL, 's'}, {NULL, "preferredLanguage", NULL, 's'}, {NULL, "externalId", NULL, 's'},
    {NULL, "id", NULL, 'i'}, {NULL, "locale", NULL, 's'}, {NULL, "emails", "value", 's'}, {NULL, "emails", "type", 's'},
    {NULL, "emails", "primary", 'b'}, {NULL, "emails", NULL, 's'}, {NULL, "phoneNumbers", "value", 's'},
    {NULL, "phoneNumbers", "type", 's'}, {NULL, "addresses", "postalCode", 's'},
    {NULL, "addresses", "locality", 's'}, {NULL, "addresses", "country", 's'},
    {NULL, "addresses", "formatted", 's'}, {NULL, "addresses", "streetAddress", 's'}, {NULL, "active", NULL, 'b'},
    {NULL, "meta", "created", 'd'}, {NULL, "meta", "lastModified", 'd'}, {NULL, "meta", "resourceType", 's'},
    {FM_ENT, "employeeNumber", NULL, 's'}, {FM_ENT, "department", NULL, 's'}, {FM_ENT, "organization", NULL, 's'},
    {FM_ENT, "manager", "value", 'r'}, {NULL, "groups", "value", 'r'}, {NULL, "groups", "type", 's'},
};

/* Sub-attributes usable inside attr[...]. */
static const fm_path fm_vp_subs[] = {
    {NULL, "emails", "value", 's'}, {NULL, "emails", "type", 's'}, {NULL, "emails", "primary", 'b'},
    {NULL, "phoneNumbers", "value", 's'}, {NULL, "phoneNumbers", "type", 's'},
    {NULL, "phoneNumbers", "primary", 'b'}, {NULL, "addresses", "type", 's'},
    {NULL, "addresses", "postalCode", 's'}, {NULL, "addresses", "locality", 's'},
    {NULL, "addresses", "country", 's'}, {NULL, "addresses", "formatted", 's'},
    {NULL, "addresses", "primary", 'b'}, {NULL, "groups", "value", 'r'}, {NULL, "groups", "type", 's'},
};

static inline void fm_json_string(fm_buf *b, const char *s)
{
    json_t *j = json_string(s);
    char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    fm_puts(b, t ? t : "\"\"");
    free(t);
    json_decref(j);
}

static const s2l_cmp_op fm_ops[] = {S2L_OP_EQ, S2L_OP_NE, S2L_OP_CO, S2L_OP_SW, S2L_OP_EW,
                                    S2L_OP_GT, S2L_OP_GE, S2L_OP_LT, S2L_OP_LE};

/* One comparison on path p (in a value path when in_vp: the sub-attribute alone). */
static inline void fm_gen_cmp(fm_rng *r, const fm_world *w, const fm_path *p, bool in_vp, fm_buf *b)
{
    if (in_vp) {
        fm_puts(b, p->sub);
    } else {
        if (p->urn && fm_chance(r, 50)) {
            fm_puts(b, p->urn);
            fm_puts(b, ":");
        }
        fm_puts(b, p->attr);
        if (p->sub) {
            fm_puts(b, ".");
            fm_puts(b, p->sub);
        }
    }
    if (fm_chance(r, 10)) {
        fm_puts(b, " pr");
        return;
    }
    /* equality most often, as clients ask it */
    s2l_cmp_op op = fm_chance(r, 30) ? S2L_OP_EQ : FM_PICK(r, fm_ops);
    if (p->type == 'b' && op != S2L_OP_NE && op != S2L_OP_CO && fm_chance(r, 95))
        op = S2L_OP_EQ;
    fm_puts(b, " ");
    fm_puts(b, s2l_cmp_op_name(op));
    fm_puts(b, " ");
    if (fm_chance(r, 4) && (op == S2L_OP_EQ || op == S2L_OP_NE)) {
        fm_puts(b, "null");
        return;
    }
    if (p->type == 'b') {
        static const char *const bools[] = {"true", "false", "\"True\"", "\"false\""};
        fm_puts(b, FM_PICK(r, bools));
        return;
    }
    if (p->type == 'd') {
        const json_t *seen = fm_seen(r, w, NULL, p->attr, p->sub);
        static const char *const times[] = {"2026-06-15T12:00:00Z", "2026-01-01T00:00:00+01:00",
                                            "2026-12-31T23:59:59.5Z", "2025-06-15T12:00:00Z"};
        const char *t = seen && json_is_string(seen) && fm_chance(r, 60) ? json_string_value(seen) : FM_PICK(r, times);
        fm_json_string(b, op == S2L_OP_CO || op == S2L_OP_SW || op == S2L_OP_EW ? "2026-0" : t);
        return;
    }
    if (p->type == 'i' || p->type == 'r') {
        const char *id = NULL;
        if (p->type == 'i' || strcmp(p->attr, "manager") == 0)
            id = w->users[fm_below(r, w->n_users)].id;
        else
            id = json_string_value(json_object_get(json_array_get(w->groups, fm_below(r, 3)), "id"));
        char *v = strdup(id);
        if (fm_chance(r, 30))
            for (char *q = v; *q; q++)
                *q = (char)(*q >= 'a' && *q <= 'f' ? *q - 32 : *q);
        if (fm_chance(r, 15))
            v[fm_below(r, strlen(v))] = 'x';
        if (op == S2L_OP_CO || op == S2L_OP_SW || op == S2L_OP_EW)
            v[1 + fm_below(r, 8)] = 0;
        fm_json_string(b, v);
        free(v);
        return;
    }
    const json_t *seen = fm_chance(r, 80) ? fm_seen(r, w, p->urn, p->attr, in_vp ? p->sub : p->sub) : NULL;
    if (seen && json_is_string(seen)) {
        char *v = fm_variant(r, json_string_value(seen), op);
        fm_json_string(b, v);
        free(v);
    } else if (fm_chance(r, 20)) {
        fm_puts(b, fm_chance(r, 50) ? "42" : "7");
    } else {
        static const char *const other[] = {"", " ", "a", "Z", "work", "WORK", "home", "fax", "mobile", "other",
                                            "j\xc3\xbcrgen@x.org", "555#1", "+1 5", "5", "-", "e\xcc\x81", "User",
                                            "USER", "direct", "Group", "Jose", "jos", "Trail ", "TRAIL", "trail",
                                            "ENGINEER  II", "engineer ii", "+1 555 0100", "+1-555-0100", "555-0100",
                                            "van dyke", "Van  Dyke ", "abc", "AbC ", "us er", "US  ER", "Zoe", "Rene", "x12", "abc"};
        fm_json_string(b, FM_PICK(r, other));
    }
}

static inline void fm_gen_filter(fm_rng *r, const fm_world *w, int depth, fm_buf *b);

/* attr[inner] over one multi-valued complex attribute. */
static inline void fm_gen_vp(fm_rng *r, const fm_world *w, const char *attr, int depth, fm_buf *b)
{
    const fm_path *subs[16];
    size_t n = 0;
    const s2l_resource_type *rt = s2l_rmap_rtype(w->rm);
    for (size_t i = 0; i < sizeof fm_vp_subs / sizeof fm_vp_subs[0]; i++)
        if (strcmp(fm_vp_subs[i].attr, attr) == 0 && s2l_rtype_find(rt, NULL, attr, fm_vp_subs[i].sub, NULL))
            subs[n++] = &fm_vp_subs[i];
    bool typed = s2l_rtype_find(rt, NULL, attr, "type", NULL) != NULL;
    if (n == 0) {
        fm_puts(b, "value pr");
        return;
    }
    switch (fm_below(r, depth > 0 ? 4 : 1)) {
    case 1:
    case 2: {
        bool neg = fm_chance(r, 30);
        if (neg)
            fm_puts(b, "not (");
        if (typed && strcmp(attr, "groups") != 0 && fm_chance(r, 50)) {
            /* the usual shape: one type, then a condition on its value */
            static const char *const types[] = {"work", "home", "mobile", "fax", "other", "Work"};
            fm_puts(b, "type eq ");
            fm_json_string(b, FM_PICK(r, types));
        } else {
            fm_gen_cmp(r, w, subs[fm_below(r, n)], true, b);
        }
        fm_puts(b, fm_chance(r, 70) ? " and " : " or ");
        fm_gen_cmp(r, w, subs[fm_below(r, n)], true, b);
        if (neg)
            fm_puts(b, ")");
        break;
    }
    case 3:
        fm_puts(b, "not (");
        fm_gen_cmp(r, w, subs[fm_below(r, n)], true, b);
        fm_puts(b, ")");
        break;
    default:
        fm_gen_cmp(r, w, subs[fm_below(r, n)], true, b);
        break;
    }
}

static inline void fm_gen_filter(fm_rng *r, const fm_world *w, int depth, fm_buf *b)
{
    unsigned pick = (unsigned)fm_below(r, 100);
    if (depth > 0 && pick < 30) {
        fm_puts(b, "(");
        fm_gen_filter(r, w, depth - 1, b);
        fm_puts(b, fm_chance(r, 55) ? " and " : " or ");
        fm_gen_filter(r, w, depth - 1, b);
        fm_puts(b, ")");
    } else if (depth > 0 && pick < 42) {
        fm_puts(b, "not (");
        fm_gen_filter(r, w, depth - 1, b);
        fm_puts(b, ")");
    } else if (pick < 58) {
        static const char *const vps[] = {"emails", "phoneNumbers", "addresses", "groups"};
        const char *attr = FM_PICK(r, vps);
        for (int tries = 0; tries < 10 && s2l_rtype_find(s2l_rmap_rtype(w->rm), NULL, attr, NULL, NULL) == NULL; tries++)
            attr = FM_PICK(r, vps);
        fm_puts(b, attr);
        fm_puts(b, "[");
        fm_gen_vp(r, w, attr, 1, b);
        fm_puts(b, "]");
    } else {
        const fm_path *p;
        int tries = 0;
        do {
            p = &FM_PICK(r, fm_paths);
        } while (++tries < 20 && s2l_rtype_find(s2l_rmap_rtype(w->rm), p->urn, p->attr, p->sub, NULL) == NULL);
        fm_gen_cmp(r, w, p, false, b);
    }
}

/* Squeezes spaces (and composes) in the values of attributes whose equality
 * rule ignores them, as the directory compares them: the values a
 * directory holding "the gateway's own writes" would show. A new entry. */
static inline json_t *fm_canonical_entry(const json_t *entry, const s2l_subschema *ss)
{
    json_t *copy = json_deep_copy(entry);
    json_t *attrs = json_object_get(copy, "attrs");
    const char *k;
    json_t *vals;
    json_object_foreach(attrs, k, vals) {
        const s2l_ldap_attr_type *at = s2l_subschema_attr(ss, k);
        s2l_mr_kind kind = at ? s2l_ldap_rule_kind_of(at->eff_equality) : S2L_MR_NONE;
        if (kind != S2L_MR_CASE_IGNORE && kind != S2L_MR_CASE_EXACT && kind != S2L_MR_CASE_IGNORE_IA5 &&
            kind != S2L_MR_CASE_EXACT_IA5)
            continue;
        size_t i;
        json_t *v;
        json_array_foreach(vals, i, v) {
            const char *s = json_string_value(v);
            char *p = fm_prep(s, strlen(s), false, FM_WHOLE);
            json_string_set(v, *p ? p : s);
            free(p);
        }
    }
    return copy;
}

#endif
