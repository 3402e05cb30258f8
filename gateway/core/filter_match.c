/* filter_match.c — evaluating a SCIM filter against JSON (RFC 7644 §3.4.2.2).
 *
 * Used by the PATCH engine for value paths ("emails[type eq \"work\"]") and by
 * anything that must test a resource in memory. Semantics:
 *   - attribute names match case-insensitively; strings compare case-insensitively
 *     unless the definition says caseExact (ASCII folding only: SCIM itself does
 *     not define Unicode case folding and LDAP matching rules differ anyway);
 *   - a multi-valued attribute matches when any of its values matches;
 *   - a complex value compared without a sub-attribute stands for its "value"
 *     sub-attribute ("emails co \"@x\"");
 *   - dateTime values compare chronologically, other strings lexicographically
 *     (by UTF-8 bytes, which is code point order);
 *   - "ne" is the negation of "eq", so an absent attribute is "ne" anything;
 *     "eq null" is "not pr" (null, "" and [] all mean unassigned);
 *   - a number compared with a string attribute compares as its text (42 is
 *     "42"); a string compared with a number compares as the number it spells,
 *     else as text; "true"/"false" in any case compare with booleans (what
 *     IdPs send, and what the LDAP translation does);
 *   - operators that make no sense for a type (ordering booleans) simply do
 *     not match: evaluation has no error channel.
 * Recursion follows the filter tree, whose depth the parser bounds (filter.h).
 */
#include "s2l/filter.h"
#include "s2l/resource.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Where the names in a filter are resolved. */
typedef struct scope {
    const s2l_resource_type *rt;
    const s2l_attr_def *within;   /* definition of the complex attribute being examined */
    bool nested;                  /* inside a complex value, even when `within` is unknown */
} scope;

/* A point in time from an xsd:dateTime, comparable field by field. */
typedef struct instant {
    int64_t seconds;              /* since 1970-01-01T00:00:00Z */
    long nanos;
} instant;

static bool match_in(const s2l_filter *f, const json_t *value, const scope *sc);

static char fold(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    return c;
}

static bool name_eq(const char *a, const char *b)
{
    while (*a != '\0' && *b != '\0' && fold(*a) == fold(*b)) {
        a++;
        b++;
    }
    return *a == '\0' && *b == '\0';
}

/* ---- strings ---- */

static int cmp_bytes(const char *a, size_t na, const char *b, size_t nb, bool exact)
{
    size_t n = na < nb ? na : nb;

    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)(exact ? a[i] : fold(a[i]));
        unsigned char y = (unsigned char)(exact ? b[i] : fold(b[i]));
        if (x != y)
            return x < y ? -1 : 1;
    }
    return na == nb ? 0 : na < nb ? -1 : 1;
}

static bool has_at(const char *h, const char *needle, size_t n, bool exact)
{
    return cmp_bytes(h, n, needle, n, exact) == 0;
}

static bool contains(const char *h, size_t nh, const char *needle, size_t nn, bool exact)
{
    if (nn > nh)
        return false;
    for (size_t i = 0; i + nn <= nh; i++)
        if (has_at(h + i, needle, nn, exact))
            return true;
    return false;
}

/* ---- dateTime ---- */

static bool digits(const char *s, size_t n, long *out)
{
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(long y, long m, long d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int64_t)era * 146097 + doe - 719468;
}

/* Parses YYYY-MM-DDThh:mm:ss[.fff…][Z|±hh:mm] (xsd:dateTime, RFC 7643 §2.3.5;
 * RFC 3339's blank instead of "T" too, as the LDAP translation accepts it).
 * A missing zone is taken as UTC, which is what the IdPs mean by it. */
static bool parse_instant(const char *s, size_t n, instant *out)
{
    long y, mo, d, h, mi, sec, zh = 0, zm = 0, frac = 0;
    size_t i = 19;
    int sign = 0;

    if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
        s[16] != ':')
        return false;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
        !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    if (i < n && s[i] == '.') {
        long scale = 100000000;
        size_t start = ++i;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            frac += (s[i] - '0') * scale;   /* digits past nanoseconds are ignored */
            scale /= 10;
        }
        if (i == start)
            return false;
    }
    if (i < n && (s[i] == 'Z' || s[i] == 'z'))
        i++;
    else if (i < n && (s[i] == '+' || s[i] == '-')) {
        sign = s[i] == '-' ? -1 : 1;
        if (n - i != 6 || s[i + 3] != ':' || !digits(s + i + 1, 2, &zh) || !digits(s + i + 4, 2, &zm) ||
            zh > 23 || zm > 59)
            return false;
        i += 6;
    }
    if (i != n)
        return false;
    out->seconds = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
                   sign * (zh * 3600 + zm * 60);
    out->nanos = frac;
    return true;
}

static int cmp_instant(const instant *a, const instant *b)
{
    if (a->seconds != b->seconds)
        return a->seconds < b->seconds ? -1 : 1;
    return a->nanos == b->nanos ? 0 : a->nanos < b->nanos ? -1 : 1;
}

/* ---- comparing one value ---- */

static bool ordered(s2l_cmp_op op, int c)
{
    switch (op) {
    case S2L_OP_EQ: return c == 0;
    case S2L_OP_GT: return c > 0;
    case S2L_OP_GE: return c >= 0;
    case S2L_OP_LT: return c < 0;
    case S2L_OP_LE: return c <= 0;
    default: return false;
    }
}

static bool compare_strings(const json_t *have, const json_t *want, s2l_cmp_op op, const s2l_attr_def *def)
{
    const char *h = json_string_value(have), *w = json_string_value(want);
    size_t nh = json_string_length(have), nw = json_string_length(want);
    bool exact = def != NULL && def->case_exact;
    instant ih, iw;

    switch (op) {
    case S2L_OP_CO:
        return contains(h, nh, w, nw, exact);
    case S2L_OP_SW:
        return nw <= nh && has_at(h, w, nw, exact);
    case S2L_OP_EW:
        return nw <= nh && has_at(h + nh - nw, w, nw, exact);
    default:
        break;
    }
    /* Without a definition, two strings that both read as dateTimes are taken to
     * be dateTimes: that is what meta.lastModified filters mean. */
    if ((def == NULL || def->type == S2L_T_DATETIME) && parse_instant(h, nh, &ih) && parse_instant(w, nw, &iw))
        return ordered(op, cmp_instant(&ih, &iw));
    return ordered(op, cmp_bytes(h, nh, w, nw, exact));
}

static bool compare_numbers(const json_t *have, const json_t *want, s2l_cmp_op op)
{
    int c;

    if (json_is_integer(have) && json_is_integer(want)) {
        json_int_t a = json_integer_value(have), b = json_integer_value(want);
        c = a == b ? 0 : a < b ? -1 : 1;
    } else {
        double a = json_number_value(have), b = json_number_value(want);
        c = a == b ? 0 : a < b ? -1 : 1;
    }
    return ordered(op, c);
}

/* A number's text as LDAP stores it (s2l_map_scalar_text): a new string, or NULL. */
static json_t *number_text(const json_t *n)
{
    char buf[64];
    if (json_is_integer(n))
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(n));
    else
        snprintf(buf, sizeof buf, "%.17g", json_real_value(n));
    return json_string(buf);
}

/* The number a whole string spells ("42", "-7", "2.5"), as a new JSON number. */
static json_t *number_of(const json_t *s)
{
    const char *t = json_string_value(s);
    char *end;
    if (*t == 0 || *t == ' ' || *t == '\t')
        return NULL;
    errno = 0;
    long long i = strtoll(t, &end, 10);
    if (*end == 0 && errno == 0)
        return json_integer((json_int_t)i);
    errno = 0;
    double d = strtod(t, &end);
    if (*end == 0 && errno == 0 && d == d)
        return json_real(d);
    return NULL;
}

/* Whether one attribute value satisfies "op want"; op is never NE (see leaves_match). */
static bool compare_one(const json_t *have, const json_t *want, s2l_cmp_op op, const s2l_attr_def *def)
{
    bool r;

    if (have == NULL || json_is_null(have))
        return false;
    if (json_is_string(want) && json_is_string(have))
        return compare_strings(have, want, op, def);
    if (json_is_number(want) && json_is_number(have))
        return compare_numbers(have, want, op);
    if (json_is_boolean(have)) {
        bool w;
        if (json_is_boolean(want))
            w = json_is_true(want);
        else if (json_is_string(want) && (strcasecmp(json_string_value(want), "true") == 0 ||
                                          strcasecmp(json_string_value(want), "false") == 0))
            w = strcasecmp(json_string_value(want), "true") == 0;
        else
            return false;
        return op == S2L_OP_EQ && json_is_true(have) == w;
    }
    if (json_is_number(want) && json_is_string(have)) {
        json_t *t = number_text(want);
        r = t != NULL && compare_strings(have, t, op, def);
        json_decref(t);
        return r;
    }
    if (json_is_string(want) && json_is_number(have)) {
        json_t *n = NULL;
        if (op != S2L_OP_CO && op != S2L_OP_SW && op != S2L_OP_EW && (n = number_of(want)) != NULL) {
            r = compare_numbers(have, n, op);
        } else {
            json_t *t = number_text(have);
            r = t != NULL && compare_strings(t, want, op, def);
            json_decref(t);
        }
        json_decref(n);
        return r;
    }
    return false;
}

/* ---- presence ---- */

/* "pr": not null, not "", not an empty array or object (RFC 7644: a complex
 * attribute must hold a non-empty node). Depth-bounded because the value is
 * client data; below the bound anything non-null counts as present. */
static bool present(const json_t *v, int depth)
{
    const char *k;
    json_t *m;
    size_t i;

    if (v == NULL || json_is_null(v))
        return false;
    if (depth > 4)
        return true;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    if (json_is_array(v)) {
        json_array_foreach(v, i, m)
            if (present(m, depth + 1))
                return true;
        return false;
    }
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, m)
            if (present(m, depth + 1))
                return true;
        return false;
    }
    return true;
}

/* ---- resolving a path ---- */

typedef struct target {
    const json_t *value;          /* the attribute's value, NULL when absent */
    const s2l_attr_def *def;      /* its definition, NULL when unknown */
} target;

static bool lists_schema(const json_t *obj, const char *urn)
{
    const json_t *schemas = s2l_json_get_ci(obj, "schemas"), *s;
    size_t i;

    json_array_foreach(schemas, i, s)
        if (json_is_string(s) && name_eq(json_string_value(s), urn))
            return true;
    return false;
}

static target resolve(const s2l_attrpath *a, const json_t *obj, const scope *sc)
{
    target t = { NULL, NULL };
    const json_t *container = obj;
    const s2l_schema *schema = NULL;

    /* Elements of a simple multi-valued attribute are bare values; RFC 7644
     * calls such an element "value" ("schemas[value eq ...]"). A non-object
     * cannot be a resource, so this holds even when the caller gave no `within`. */
    if (!json_is_object(obj)) {
        if (a->sub == NULL && name_eq(a->attr, "value"))
            t.value = obj;
        goto out;
    }
    if (sc->nested) {
        t.def = s2l_attr_find_sub(sc->within, a->attr);
        t.value = s2l_json_get_ci(obj, a->attr);
        goto out;
    }
    t.def = s2l_rtype_find(sc->rt, a->urn, a->attr, NULL, &schema);
    if (a->urn != NULL) {
        /* Canonical resources nest extension attributes under their URN; a
         * core-qualified name means the top level. Without a resource type the
         * core URN is recognised by being listed in "schemas" but not a key. */
        const json_t *ext = s2l_json_get_ci(obj, a->urn);
        if (json_is_object(ext))
            container = ext;
        else if (sc->rt != NULL ? !s2l_schema_is(sc->rt->core, a->urn) : !lists_schema(obj, a->urn))
            goto out;
    } else if (schema != NULL && sc->rt != NULL && schema != sc->rt->core) {
        const json_t *ext = s2l_json_get_ci(obj, schema->id);
        if (json_is_object(ext))
            container = ext;
    }
    t.value = s2l_json_get_ci(container, a->attr);
out:
    return t;
}

/* The definition of the leaf a comparison applies to. */
static const s2l_attr_def *leaf_def(const target *t, const char *sub)
{
    if (t->def == NULL)
        return NULL;
    if (sub != NULL)
        return s2l_attr_find_sub(t->def, sub);
    return t->def->type == S2L_T_COMPLEX ? s2l_attr_find_sub(t->def, "value") : t->def;
}

/* One value (an array element or a single value) → the leaf compared with:
 * its sub-attribute, its "value" when it is complex and no sub was named, or itself. */
static bool item_matches(const json_t *item, const char *sub, const json_t *want, s2l_cmp_op op,
                         const s2l_attr_def *def)
{
    const json_t *leaf = item;
    const json_t *m;
    size_t i;

    if (sub != NULL)
        leaf = s2l_json_get_ci(item, sub);
    else if (json_is_object(item))
        leaf = s2l_json_get_ci(item, "value");
    if (json_is_array(leaf)) {
        json_array_foreach(leaf, i, m)
            if (compare_one(m, want, op, def))
                return true;
        return false;
    }
    return compare_one(leaf, want, op, def);
}

static bool leaves_match(const target *t, const char *sub, const json_t *want, s2l_cmp_op op)
{
    const s2l_attr_def *def = leaf_def(t, sub);
    const json_t *item;
    size_t i;

    if (json_is_array(t->value)) {
        json_array_foreach(t->value, i, item)
            if (item_matches(item, sub, want, op, def))
                return true;
        return false;
    }
    return t->value != NULL && item_matches(t->value, sub, want, op, def);
}

static bool sub_present(const json_t *v, const char *sub)
{
    const json_t *item;
    size_t i;

    if (sub == NULL)
        return present(v, 0);
    if (json_is_array(v)) {
        json_array_foreach(v, i, item)
            if (present(s2l_json_get_ci(item, sub), 0))
                return true;
        return false;
    }
    return present(s2l_json_get_ci(v, sub), 0);
}

static bool match_cmp(const s2l_filter *f, const json_t *obj, const scope *sc)
{
    target t = resolve(&f->path, obj, sc);
    const json_t *want = f->value;

    if (want == NULL || json_is_null(want)) {
        /* null, "" and [] all mean "unassigned" (RFC 7643 §2.5), so "eq null"
         * is "not pr" and "ne null" is "pr". */
        bool assigned = sub_present(t.value, f->path.sub);
        if (f->op == S2L_OP_EQ)
            return !assigned;
        return f->op == S2L_OP_NE && assigned;
    }
    if (f->op == S2L_OP_NE)
        return !leaves_match(&t, f->path.sub, want, S2L_OP_EQ);
    return leaves_match(&t, f->path.sub, want, f->op);
}

/* attr[filter]: the inner filter applies to each value of attr. */
static bool match_valuepath(const s2l_filter *f, const json_t *obj, const scope *sc)
{
    target t = resolve(&f->path, obj, sc);
    scope inner = { sc->rt, t.def, true };
    const json_t *item;
    size_t i;

    if (json_is_array(t.value)) {
        json_array_foreach(t.value, i, item)
            if (match_in(f->left, item, &inner))
                return true;
        return false;
    }
    /* A single object where an array belongs (OneLogin sends emails that way). */
    return t.value != NULL && !json_is_null(t.value) && match_in(f->left, t.value, &inner);
}

static bool match_in(const s2l_filter *f, const json_t *value, const scope *sc)
{
    if (f == NULL || value == NULL)
        return false;
    switch (f->kind) {
    case S2L_F_AND:
        return match_in(f->left, value, sc) && match_in(f->right, value, sc);
    case S2L_F_OR:
        return match_in(f->left, value, sc) || match_in(f->right, value, sc);
    case S2L_F_NOT:
        return !match_in(f->left, value, sc);
    case S2L_F_PRESENT:
        return sub_present(resolve(&f->path, value, sc).value, f->path.sub);
    case S2L_F_CMP:
        return match_cmp(f, value, sc);
    case S2L_F_VALUEPATH:
        return match_valuepath(f, value, sc);
    }
    return false;
}

bool s2l_filter_match(const s2l_filter *f, const json_t *value, const s2l_resource_type *rt,
                      const s2l_attr_def *within)
{
    scope sc = { rt, within, within != NULL };
    return match_in(f, value, &sc);
}
