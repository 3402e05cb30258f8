/* mapping_filter.c — SCIM filters → LDAP filters (RFC 4515), the id filter,
 * the group-membership filter, and the reference ids a filter needs resolved
 * (see include/s2l/mapping.h).
 *
 * Every value from the client goes through s2l_ldap_escape_filter_value, so
 * nothing a client sends can become filter syntax. Results are built as
 * "always true", "always false" or text, and folded as they are combined, so
 * that comparisons the mapping can decide by itself (emails.type eq "work",
 * an unknown member id, a malformed UUID) leave no trace in the LDAP filter.
 */
#include "mapping_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { LF_FALSE, LF_TRUE, LF_TEXT } lf_kind;

typedef struct lf {
    lf_kind k;
    char *s;        /* LF_TEXT: one parenthesised filter (owned) */
} lf;

typedef struct fctx {
    const s2l_rmap *rm;
    const json_t *ids;
    s2l_error *err;
    const s2l_mentry *slot;          /* inside attr[...] of a multi-valued attribute: the entry evaluated */
    const s2l_attr_def *slot_view;   /* that attribute in the view */
    const s2l_attr_def *vp_top;      /* inside attr[...] of a single-valued complex attribute */
    const s2l_schema *vp_view;       /* the view vp_top belongs to */
} fctx;

static const lf LF_T = {LF_TRUE, NULL};
static const lf LF_F = {LF_FALSE, NULL};

static void lf_free(lf *x)
{
    free(x->s);
    x->s = NULL;
}

static int oom(fctx *c)
{
    s2l_error_set(c->err, 500, NULL, "out of memory");
    return -1;
}

/* 400 invalidFilter; evaluates to -1 so that callers can "return INVALID(...)". */
#define INVALID(c, ...) (s2l_error_set((c)->err, 400, S2L_SCIM_INVALID_FILTER, __VA_ARGS__), -1)

/* ---- building and folding ---- */

/* "(<attr><op><escaped value><suffix>)" with optional "*" around the value. */
static int leaf(fctx *c, const char *attr, const char *op, const char *pre, const char *val, size_t len,
                const char *post, lf *out)
{
    s2l_strbuf b = {0};
    char *esc = val ? s2l_ldap_escape_filter_value(val, len) : NULL;
    if (val && esc == NULL)
        return oom(c);
    s2l_sb_adds(&b, "(");
    s2l_sb_adds(&b, attr);
    s2l_sb_adds(&b, op);
    s2l_sb_adds(&b, pre);
    if (esc)
        s2l_sb_adds(&b, esc);
    s2l_sb_adds(&b, post);
    s2l_sb_adds(&b, ")");
    free(esc);
    out->k = LF_TEXT;
    out->s = s2l_sb_take(&b);
    return out->s ? 0 : oom(c);
}

static int present(fctx *c, const char *attr, lf *out)
{
    return leaf(c, attr, "=*", "", NULL, 0, "", out);
}

/* Appends x to an "(&" / "(|" list, splicing x's own operands when it is the same operator. */
static void splice(s2l_strbuf *b, const char *s, char op)
{
    size_t n = strlen(s);
    if (s[0] == '(' && s[1] == op)
        s2l_sb_add(b, s + 2, n - 3);
    else
        s2l_sb_add(b, s, n);
}

/* Combines a and b (both consumed) with & or |. */
static int lf_join(fctx *c, char op, lf a, lf b, lf *out)
{
    lf_kind absorb = op == '&' ? LF_FALSE : LF_TRUE;   /* x&false = false, x|true = true */
    lf_kind neutral = op == '&' ? LF_TRUE : LF_FALSE;

    if (a.k == absorb || b.k == absorb) {
        lf_free(&a);
        lf_free(&b);
        out->k = absorb;
        out->s = NULL;
        return 0;
    }
    if (a.k == neutral) {
        *out = b;
        return 0;
    }
    if (b.k == neutral) {
        *out = a;
        return 0;
    }
    s2l_strbuf sb = {0};
    char head[3] = {'(', op, 0};
    s2l_sb_adds(&sb, head);
    splice(&sb, a.s, op);
    splice(&sb, b.s, op);
    s2l_sb_adds(&sb, ")");
    lf_free(&a);
    lf_free(&b);
    out->k = LF_TEXT;
    out->s = s2l_sb_take(&sb);
    return out->s ? 0 : oom(c);
}

static int lf_not(fctx *c, lf a, lf *out)
{
    if (a.k != LF_TEXT) {
        out->k = a.k == LF_TRUE ? LF_FALSE : LF_TRUE;
        out->s = NULL;
        return 0;
    }
    s2l_strbuf sb = {0};
    size_t n = strlen(a.s);
    if (a.s[1] == '!') {
        s2l_sb_add(&sb, a.s + 2, n - 3); /* (!(!x)) is x */
    } else {
        s2l_sb_adds(&sb, "(!");
        s2l_sb_adds(&sb, a.s);
        s2l_sb_adds(&sb, ")");
    }
    lf_free(&a);
    out->k = LF_TEXT;
    out->s = s2l_sb_take(&sb);
    return out->s ? 0 : oom(c);
}

static lf lf_const(bool v)
{
    return v ? LF_T : LF_F;
}

/* ---- values ---- */

/* The comparison value as text for an attribute of type t. */
static int value_text(fctx *c, const s2l_filter *f, s2l_attr_type t, char **out, size_t *len)
{
    const json_t *v = f->value;
    const char *name = f->path.sub ? f->path.sub : f->path.attr;

    *out = NULL;
    if (t == S2L_T_DATETIME) {
        if (!json_is_string(v))
            return INVALID(c, "%s: a dateTime is compared with a string", name);
        /* dateTimes are stored as GeneralizedTime (see mapping_write.c) */
        *out = s2l_rfc3339_to_gtime(json_string_value(v));
        if (*out == NULL)
            return INVALID(c, "%s: \"%s\" is not an RFC 3339 dateTime", name, json_string_value(v));
        *len = strlen(*out);
        return 0;
    }
    if (t == S2L_T_INTEGER && !json_is_integer(v) && !json_is_string(v))
        return INVALID(c, "%s: an integer is compared with a number", name);
    if (t == S2L_T_DECIMAL && !json_is_number(v) && !json_is_string(v))
        return INVALID(c, "%s: a decimal is compared with a number", name);
    if (!json_is_string(v) && !json_is_number(v))
        return INVALID(c, "%s: compared with a value of the wrong type", name);
    *out = s2l_map_scalar_text(v, len);
    return *out ? 0 : oom(c);
}

/* attr op value for an attribute whose values LDAP compares (t is the SCIM type). */
static int cmp_leaf(fctx *c, const char *attr, s2l_attr_type t, const s2l_filter *f, lf *out)
{
    char *v = NULL;
    size_t len = 0;
    int rc = -1;
    lf a = LF_F, b = LF_F;

    if (f->kind == S2L_F_PRESENT)
        return present(c, attr, out);
    if (json_is_null(f->value)) {
        if (f->op != S2L_OP_EQ && f->op != S2L_OP_NE)
            return INVALID(c, "%s: null can only be compared with eq or ne", f->path.attr);
        if (present(c, attr, &a) < 0)
            return -1;
        if (f->op == S2L_OP_NE) {
            *out = a;
            return 0;
        }
        return lf_not(c, a, out);
    }
    if (t == S2L_T_BOOLEAN || t == S2L_T_COMPLEX)
        return INVALID(c, "%s: operator not supported for this attribute", f->path.attr);
    bool ordered_only = t == S2L_T_INTEGER || t == S2L_T_DECIMAL || t == S2L_T_DATETIME;
    if (ordered_only && (f->op == S2L_OP_CO || f->op == S2L_OP_SW || f->op == S2L_OP_EW))
        return INVALID(c, "%s: \"%s\" needs a string attribute", f->path.sub ? f->path.sub : f->path.attr,
                       s2l_cmp_op_name(f->op));
    if (value_text(c, f, t, &v, &len) < 0)
        return -1;
    if (len == 0) {
        /* LDAP holds no empty values: eq "" matches nothing, co/sw/ew "" match any value */
        switch (f->op) {
        case S2L_OP_EQ: *out = LF_F; rc = 0; goto out;
        case S2L_OP_NE: *out = LF_T; rc = 0; goto out;
        case S2L_OP_CO: case S2L_OP_SW: case S2L_OP_EW: rc = present(c, attr, out); goto out;
        default: break;
        }
    }
    switch (f->op) {
    case S2L_OP_EQ: rc = leaf(c, attr, "=", "", v, len, "", out); break;
    case S2L_OP_NE:
        rc = leaf(c, attr, "=", "", v, len, "", &a);
        rc = rc < 0 ? rc : lf_not(c, a, out);
        break;
    case S2L_OP_CO: rc = leaf(c, attr, "=", "*", v, len, "*", out); break;
    case S2L_OP_SW: rc = leaf(c, attr, "=", "", v, len, "*", out); break;
    case S2L_OP_EW: rc = leaf(c, attr, "=", "*", v, len, "", out); break;
    case S2L_OP_GE: rc = leaf(c, attr, ">=", "", v, len, "", out); break;
    case S2L_OP_LE: rc = leaf(c, attr, "<=", "", v, len, "", out); break;
    case S2L_OP_GT:
    case S2L_OP_LT:
        /* LDAP has only >= and <=: strict is "and not equal" */
        rc = leaf(c, attr, f->op == S2L_OP_GT ? ">=" : "<=", "", v, len, "", &a);
        if (rc == 0)
            rc = leaf(c, attr, "=", "", v, len, "", &b);
        if (rc == 0)
            rc = lf_not(c, b, &b);
        if (rc == 0) {
            rc = lf_join(c, '&', a, b, out);
            break;
        }
        lf_free(&a);
        lf_free(&b);
        break;
    }
out:
    free(v);
    return rc;
}

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return n == 0;
}

/* A comparison the mapping answers itself (a fixed type, a resource type name). */
static int const_cmp(fctx *c, const char *have, const s2l_filter *f, bool *res)
{
    if (f->kind == S2L_F_PRESENT) {
        *res = have != NULL;
        return 0;
    }
    if (json_is_null(f->value)) {
        *res = (f->op == S2L_OP_EQ) == (have == NULL);
        return 0;
    }
    if (!json_is_string(f->value))
        return INVALID(c, "%s: compared with a value of the wrong type", f->path.attr);
    const char *v = json_string_value(f->value);
    if (have == NULL) {
        *res = f->op == S2L_OP_NE;
        return 0;
    }
    size_t hl = strlen(have), vl = strlen(v);
    int cmp = strcasecmp(have, v);
    switch (f->op) {
    case S2L_OP_EQ: *res = cmp == 0; break;
    case S2L_OP_NE: *res = cmp != 0; break;
    case S2L_OP_CO: *res = contains_ci(have, v); break;
    case S2L_OP_SW: *res = strncasecmp(have, v, vl) == 0; break;
    case S2L_OP_EW: *res = hl >= vl && strcasecmp(have + hl - vl, v) == 0; break;
    case S2L_OP_GT: *res = cmp > 0; break;
    case S2L_OP_GE: *res = cmp >= 0; break;
    case S2L_OP_LT: *res = cmp < 0; break;
    case S2L_OP_LE: *res = cmp <= 0; break;
    }
    return 0;
}

/* ---- per mapping entry ---- */

/* LDAP attribute i of entry me (its own, then each sub-attribute's one or
 * two); NULL past the end or for an absent slot. */
static const char *entry_attr(const s2l_mentry *me, size_t i, bool *end)
{
    *end = i > 2 * me->n_subs;
    if (*end)
        return NULL;
    if (i == 2 * me->n_subs)
        return me->ldap;
    return i % 2 ? me->subs[i / 2].also : me->subs[i / 2].ldap;
}

/* Holds at least one value of entry me. */
static int entry_present(fctx *c, const s2l_mentry *me, lf *out)
{
    bool end = false;
    *out = LF_F;
    for (size_t k = 0; !end; k++) {
        const char *a = entry_attr(me, k, &end);
        lf p;
        if (a == NULL)
            continue;
        if (present(c, a, &p) < 0 || lf_join(c, '|', *out, p, out) < 0)
            return -1;
    }
    return 0;
}

/* A boolean per its LDAP representation: the conditions under which the
 * entry reads as the compared value (see bool_value in mapping_read.c). */
static int bool_leaf(fctx *c, const s2l_mentry *me, const s2l_filter *f, lf *out)
{
    const s2l_me_bool *b = &me->boolean;
    const json_t *v = f->value;
    int want;
    lf r = LF_F, piece;

    if (me->by_policy) {
        /* active under a deprovision policy: always present, false where the policy shows */
        if (f->kind == S2L_F_PRESENT) {
            *out = LF_T;
            return 0;
        }
        if (f->op != S2L_OP_EQ && f->op != S2L_OP_NE)
            return INVALID(c, "%s: a boolean supports eq, ne and pr only", me->attr);
        if (json_is_boolean(v))
            want = json_is_true(v);
        else if (json_is_string(v) && (strcasecmp(json_string_value(v), "true") == 0 ||
                                       strcasecmp(json_string_value(v), "false") == 0))
            want = strcasecmp(json_string_value(v), "true") == 0;
        else
            return INVALID(c, "%s: a boolean is compared with true or false", me->attr);
        lf inactive = {LF_TEXT, s2l_dp_inactive_filter(c->rm, c->err)};
        if (inactive.s == NULL)
            return -1;
        if (want == (f->op == S2L_OP_NE)) {
            *out = inactive;
            return 0;
        }
        return lf_not(c, inactive, out);
    }

    if (f->kind == S2L_F_PRESENT) {
        if (b->absent >= 0) {
            *out = LF_T;
            return 0;
        }
        return present(c, me->ldap, out);
    }
    if (f->op != S2L_OP_EQ && f->op != S2L_OP_NE)
        return INVALID(c, "%s: a boolean supports eq, ne and pr only", me->attr);
    if (json_is_boolean(v))
        want = json_is_true(v);
    else if (json_is_string(v) && strcasecmp(json_string_value(v), "true") == 0)
        want = 1;
    else if (json_is_string(v) && strcasecmp(json_string_value(v), "false") == 0)
        want = 0;
    else
        return INVALID(c, "%s: a boolean is compared with true or false", me->attr);

    const char *repr = want ? b->when_true : b->when_false;
    const char *other_repr = want ? b->when_false : b->when_true;
    if (b->absent == want && b->other == want && other_repr) {
        /* everything but the opposite value reads as wanted (active ↔ not locked) */
        if (leaf(c, me->ldap, "=", "", other_repr, strlen(other_repr), "", &piece) < 0 || lf_not(c, piece, &r) < 0)
            return -1;
    } else {
        if (repr && (leaf(c, me->ldap, "=", "", repr, strlen(repr), "", &piece) < 0 ||
                     lf_join(c, '|', r, piece, &r) < 0))
            return -1;
        if (b->absent == want) {
            if (present(c, me->ldap, &piece) < 0 || lf_not(c, piece, &piece) < 0 || lf_join(c, '|', r, piece, &r) < 0)
                return -1;
        }
        if (b->other == want) {
            lf o;
            if (present(c, me->ldap, &o) < 0)
                return -1;
            for (int i = 0; i < 2; i++) {
                const char *x = i ? b->when_true : b->when_false;
                if (x && (leaf(c, me->ldap, "=", "", x, strlen(x), "", &piece) < 0 || lf_not(c, piece, &piece) < 0 ||
                          lf_join(c, '&', o, piece, &o) < 0))
                    return -1;
            }
            if (lf_join(c, '|', r, o, &r) < 0)
                return -1;
        }
    }
    if (f->op == S2L_OP_NE)
        return lf_not(c, r, out);
    *out = r;
    return 0;
}

static int ref_leaf(fctx *c, const s2l_mentry *me, const s2l_filter *f, lf *out)
{
    if (me->virtual_attr)
        return INVALID(c, "%s: cannot be filtered (groups are found by a search)", me->attr);
    if (f->kind == S2L_F_PRESENT)
        return present(c, me->ldap, out);
    if (f->op != S2L_OP_EQ && f->op != S2L_OP_NE)
        return INVALID(c, "%s.value: a reference supports eq, ne and pr only", me->attr);
    if (!json_is_string(f->value))
        return INVALID(c, "%s.value: compared with a value of the wrong type", me->attr);
    const char *dn = json_string_value(json_object_get(c->ids, json_string_value(f->value)));
    lf r;
    if (dn == NULL) {
        r = LF_F; /* no such resource: nothing refers to it */
    } else if (me->ref_rdn) {
        char *attr = NULL, *val = NULL;
        size_t len = 0;
        if (s2l_dn_first_rdn(dn, &attr, &val, &len) < 0)
            return oom(c);
        int rc = leaf(c, me->ldap, "=", "", val, len, "", &r);
        free(attr);
        free(val);
        if (rc < 0)
            return -1;
    } else if (leaf(c, me->ldap, "=", "", dn, strlen(dn), "", &r) < 0) {
        return -1;
    }
    if (f->op == S2L_OP_NE)
        return lf_not(c, r, out);
    *out = r;
    return 0;
}

/* "(attr=[*]p0*p1*...[*])": a substring assertion of literal parts, each escaped. */
static int subs_leaf(fctx *c, const char *attr, const char *const *parts, size_t n, bool lead, bool trail, lf *out)
{
    s2l_strbuf b = {0};

    s2l_sb_adds(&b, "(");
    s2l_sb_adds(&b, attr);
    s2l_sb_adds(&b, "=");
    if (lead)
        s2l_sb_adds(&b, "*");
    for (size_t i = 0; i < n; i++) {
        char *esc = s2l_ldap_escape_filter_value(parts[i], strlen(parts[i]));
        if (esc == NULL) {
            free(s2l_sb_take(&b));
            return oom(c);
        }
        if (i > 0)
            s2l_sb_adds(&b, "*");
        s2l_sb_adds(&b, esc);
        free(esc);
    }
    if (trail)
        s2l_sb_adds(&b, "*");
    s2l_sb_adds(&b, ")");
    out->k = LF_TEXT;
    out->s = s2l_sb_take(&b);
    return out->s ? 0 : oom(c);
}

/* Values a "type": "*" entry keeps as JSON text ({"value":"x","type":"other"},
 * keys sorted after "value"): comparisons become substring assertions on the
 * text, `"sub":"x"` followed by ',' or '}'. eq and sw are exact; co and ew
 * may also match text of a later sub-attribute of the same value. */
static int json_leaf(fctx *c, const s2l_mentry *me, const char *sub, const s2l_filter *f, lf *out)
{
    const s2l_attr_def *sd = s2l_attr_find_sub(me->top, sub ? sub : "value");
    const char *name = sd ? sd->name : sub ? sub : "value";
    char key[300], *lit = NULL, *a = NULL, *b = NULL;
    lf x = LF_F, y = LF_F;
    int rc = -1;

    snprintf(key, sizeof key, "\"%s\":", name);
    if (f->kind == S2L_F_PRESENT || json_is_null(f->value)) {
        const char *parts[] = {key};
        if (subs_leaf(c, me->ldap, parts, 1, true, true, &x) < 0)
            return -1;
        if (f->kind == S2L_F_PRESENT || f->op == S2L_OP_NE) {
            *out = x;
            return 0;
        }
        if (f->op != S2L_OP_EQ)
            return INVALID(c, "%s.%s: null can only be compared with eq or ne", me->attr, name);
        return lf_not(c, x, out);
    }
    if (!json_is_string(f->value) && !json_is_number(f->value) && !json_is_boolean(f->value))
        return INVALID(c, "%s.%s: compared with a value of the wrong type", me->attr, name);
    lit = json_dumps(f->value, JSON_ENCODE_ANY | JSON_COMPACT);
    if (lit == NULL)
        return oom(c);
    bool str = json_is_string(f->value);
    if (str) {
        lit[strlen(lit) - 1] = '\0'; /* drop the closing quote: `"sub":"x` */
    } else if (f->op != S2L_OP_EQ && f->op != S2L_OP_NE) {
        rc = INVALID(c, "%s.%s: only eq and ne compare numbers and booleans here", me->attr, name);
        goto out;
    }
    size_t n = strlen(key) + strlen(lit) + 4;
    a = malloc(n);
    b = malloc(n);
    if (a == NULL || b == NULL) {
        rc = oom(c);
        goto out;
    }
    switch (f->op) {
    case S2L_OP_EQ:
    case S2L_OP_NE: {
        snprintf(a, n, "%s%s%s,", key, lit, str ? "\"" : "");
        snprintf(b, n, "%s%s%s}", key, lit, str ? "\"" : "");
        const char *pa[] = {a}, *pb[] = {b};
        if (subs_leaf(c, me->ldap, pa, 1, true, true, &x) < 0 || subs_leaf(c, me->ldap, pb, 1, true, false, &y) < 0 ||
            lf_join(c, '|', x, y, &x) < 0)
            goto out;
        y = LF_F;
        rc = f->op == S2L_OP_EQ ? (*out = x, 0) : lf_not(c, x, out);
        x = LF_F;
        break;
    }
    case S2L_OP_SW: {
        snprintf(a, n, "%s%s", key, lit);
        const char *pa[] = {a};
        rc = subs_leaf(c, me->ldap, pa, 1, true, true, out);
        break;
    }
    case S2L_OP_CO: {
        snprintf(a, n, "%s\"", key);
        const char *pa[] = {a, lit + 1};
        rc = lit[1] ? subs_leaf(c, me->ldap, pa, 2, true, true, out) : subs_leaf(c, me->ldap, pa, 1, true, true, out);
        break;
    }
    case S2L_OP_EW: {
        snprintf(a, n, "%s\"", key);
        char *e1 = malloc(strlen(lit) + 3), *e2 = malloc(strlen(lit) + 3);
        if (e1 == NULL || e2 == NULL) {
            free(e1);
            free(e2);
            rc = oom(c);
            goto out;
        }
        snprintf(e1, strlen(lit) + 3, "%s\",", lit + 1);
        snprintf(e2, strlen(lit) + 3, "%s\"}", lit + 1);
        const char *p1[] = {a, e1}, *p2[] = {a, e2};
        rc = subs_leaf(c, me->ldap, p1, 2, true, true, &x);
        if (rc == 0)
            rc = subs_leaf(c, me->ldap, p2, 2, true, false, &y);
        if (rc == 0) {
            rc = lf_join(c, '|', x, y, out);
            x = y = LF_F;
        }
        free(e1);
        free(e2);
        break;
    }
    default:
        rc = INVALID(c, "%s.%s: \"%s\" is not supported on values kept as JSON", me->attr, name,
                     s2l_cmp_op_name(f->op));
        break;
    }
out:
    lf_free(&x);
    lf_free(&y);
    free(lit);
    free(a);
    free(b);
    return rc;
}

/* Comparison f on sub-attribute sub (NULL = the value) of entry me. in_slot:
 * inside attr[...], where "type eq work" is a fact about this entry rather than
 * "the resource has a work value". */
static int entry_leaf(fctx *c, const s2l_mentry *me, const char *sub, const s2l_filter *f, bool in_slot, lf *out)
{
    bool cst;

    switch (me->kind) {
    case S2L_ME_SIMPLE:
        if (me->is_bool)
            return bool_leaf(c, me, f, out);
        return cmp_leaf(c, me->ldap, me->leaf->type, f, out);
    case S2L_ME_REFERENCE:
        if (sub == NULL || strcasecmp(sub, "value") == 0)
            return ref_leaf(c, me, f, out);
        if (strcasecmp(sub, "type") != 0 || me->n_ref_types != 1)
            return INVALID(c, "%s.%s: not supported in filters", me->attr, sub);
        if (const_cmp(c, me->ref_types[0], f, &cst) < 0)
            return -1;
        break;
    case S2L_ME_MULTI:
        if (me->catch_all && !(sub == NULL && f->kind == S2L_F_PRESENT))
            return json_leaf(c, me, sub, f, out);
        if (sub == NULL && f->kind == S2L_F_PRESENT) {
            cst = true; /* "emails pr": any value of this entry */
        } else if (sub != NULL && strcasecmp(sub, "type") == 0) {
            if (const_cmp(c, me->type, f, &cst) < 0)
                return -1;
        } else if (sub != NULL && strcasecmp(sub, "primary") == 0) {
            if (f->kind == S2L_F_PRESENT)
                cst = me->primary;
            else if (json_is_boolean(f->value) && (f->op == S2L_OP_EQ || f->op == S2L_OP_NE))
                cst = (me->primary == json_is_true(f->value)) == (f->op == S2L_OP_EQ);
            else
                return INVALID(c, "%s.primary: compared with true or false, eq or ne", me->attr);
        } else {
            const char *attr = NULL, *also = NULL;
            const s2l_attr_def *sd = me->top;
            if (sub == NULL || strcasecmp(sub, "value") == 0) {
                attr = me->ldap;
                if (me->top->type == S2L_T_COMPLEX)
                    sd = s2l_attr_find_sub(me->top, "value");
            } else {
                for (size_t k = 0; k < me->n_subs; k++)
                    if (strcasecmp(me->subs[k].scim, sub) == 0) {
                        attr = me->subs[k].ldap;
                        also = me->subs[k].also;
                    }
                sd = s2l_attr_find_sub(me->top, sub);
            }
            if (attr == NULL) {
                *out = LF_F; /* this type does not store that sub-attribute */
                return 0;
            }
            if (also != NULL) {
                /* "country": ["co", "c"]: the value is in either */
                lf a, b;
                if (cmp_leaf(c, attr, sd ? sd->type : S2L_T_STRING, f, &a) < 0)
                    return -1;
                if (cmp_leaf(c, also, sd ? sd->type : S2L_T_STRING, f, &b) < 0) {
                    lf_free(&a);
                    return -1;
                }
                return lf_join(c, f->op == S2L_OP_NE && f->kind == S2L_F_CMP ? '&' : '|', a, b, out);
            }
            return cmp_leaf(c, attr, sd ? sd->type : S2L_T_STRING, f, out);
        }
        break;
    default:
        *out = LF_F;
        return 0;
    }
    if (in_slot || !cst) {
        *out = lf_const(cst);
        return 0;
    }
    return entry_present(c, me, out);
}

/* ---- resolving names ---- */

static const s2l_schema *full_of(const s2l_rmap *rm, const s2l_schema *view)
{
    if (view == rm->core_view)
        return rm->core;
    for (size_t i = 0; i < rm->n_ext; i++)
        if (view == rm->ext_views[i])
            return rm->ext[i];
    return NULL;
}

static bool entry_is(const s2l_mentry *me, const s2l_schema *full, const s2l_attr_def *top)
{
    if (me->attr == NULL || me->kind == S2L_ME_DERIVED || me->kind == S2L_ME_CONSTANT)
        return false;
    if (s2l_attr_is_common(top))
        return me->top == top;
    return me->schema == full && strcmp(me->attr, top->name) == 0;
}

static int meta_leaf(fctx *c, const s2l_filter *f, const char *sub, lf *out)
{
    const s2l_rmap *rm = c->rm;
    bool cst;

    if (sub == NULL)
        return INVALID(c, "meta: compare a sub-attribute (meta.created, meta.lastModified)");
    if (strcasecmp(sub, "resourceType") == 0) {
        if (const_cmp(c, rm->name, f, &cst) < 0)
            return -1;
        *out = lf_const(cst);
        return 0;
    }
    const char *attr = strcasecmp(sub, "created") == 0 ? rm->created_attr
                       : strcasecmp(sub, "lastModified") == 0 ? rm->modified_attr : NULL;
    if (attr == NULL)
        return INVALID(c, "meta.%s: not supported in filters", sub);
    return cmp_leaf(c, attr, S2L_T_DATETIME, f, out);
}

static int id_leaf(fctx *c, const s2l_filter *f, lf *out)
{
    const s2l_rmap *rm = c->rm;
    if (f->kind == S2L_F_PRESENT) {
        *out = LF_T;
        return 0;
    }
    if (f->op != S2L_OP_EQ && f->op != S2L_OP_NE)
        return INVALID(c, "id: supports eq, ne and pr only");
    if (!json_is_string(f->value))
        return INVALID(c, "id: compared with a value of the wrong type");
    const char *id = json_string_value(f->value);
    lf r = LF_F; /* no entry can have a malformed id: don't ask LDAP */
    if (strlen(id) == json_string_length(f->value) && (r.s = s2l_rmap_id_assertion(rm, id)) != NULL)
        r.k = LF_TEXT;
    if (f->op == S2L_OP_NE)
        return lf_not(c, r, out);
    *out = r;
    return 0;
}

static int tr(fctx *c, const s2l_filter *f, lf *out);

static int tr_cmp(fctx *c, const s2l_filter *f, lf *out)
{
    const s2l_attr_def *top;
    const s2l_schema *view = NULL, *full;
    const char *sub;
    bool matched = false;

    if (c->slot != NULL) {
        /* inside attr[...]: names are sub-attributes of attr */
        if (f->path.sub != NULL || f->path.urn != NULL || s2l_attr_find_sub(c->slot_view, f->path.attr) == NULL)
            return INVALID(c, "%s[%s]: no such sub-attribute", c->slot_view->name, f->path.attr);
        return entry_leaf(c, c->slot, f->path.attr, f, true, out);
    }
    if (c->vp_top != NULL) {
        top = c->vp_top;
        sub = f->path.attr;
        if (f->path.sub != NULL || f->path.urn != NULL)
            return INVALID(c, "%s[%s]: no such sub-attribute", top->name, f->path.attr);
        view = c->vp_view;
    } else {
        top = s2l_rtype_find(&c->rm->rt, f->path.urn, f->path.attr, NULL, &view);
        sub = f->path.sub;
        if (top != NULL && s2l_attr_is_common(top)) {
            if (strcmp(top->name, "id") == 0)
                return sub ? INVALID(c, "id.%s: no such attribute", sub) : id_leaf(c, f, out);
            if (strcmp(top->name, "meta") == 0)
                return meta_leaf(c, f, sub, out);
        }
    }
    if (top == NULL)
        return INVALID(c, "%s: attribute not supported in filters (not mapped)", f->path.attr);
    if (sub != NULL && s2l_attr_find_sub(top, sub) == NULL)
        return INVALID(c, "%s.%s: attribute not supported in filters (not mapped)", top->name, sub);
    if (sub == NULL && top->type == S2L_T_COMPLEX && f->kind == S2L_F_CMP && !top->multi_valued &&
        s2l_attr_find_sub(top, "value") == NULL)
        return INVALID(c, "%s: compare one of its sub-attributes", top->name);
    full = s2l_attr_is_common(top) ? c->rm->core : full_of(c->rm, view);
    *out = LF_F;
    for (size_t i = 0; i < c->rm->n_entries; i++) {
        const s2l_mentry *me = &c->rm->entries[i];
        if (!entry_is(me, full, top))
            continue;
        if (me->write_only)
            return INVALID(c, "%s: write-only attributes cannot be filtered", top->name);
        if (me->kind == S2L_ME_SIMPLE && sub != NULL && (me->sub == NULL || strcasecmp(me->sub, sub) != 0))
            continue;
        if (me->kind == S2L_ME_SIMPLE && sub == NULL && me->sub != NULL && f->kind != S2L_F_PRESENT)
            continue;
        lf one;
        matched = true;
        if (entry_leaf(c, me, sub, f, false, &one) < 0 || lf_join(c, '|', *out, one, out) < 0) {
            lf_free(out);
            return -1;
        }
    }
    if (!matched)
        return INVALID(c, "%s: attribute not supported in filters (not mapped)", f->path.attr);
    return 0;
}

/* Whether x is a single positive assertion "(a=...)", "(a>=...)" or "(a<=...)"
 * on one of me's LDAP attributes, which only an entry with such a value matches. */
static bool implies_value(const s2l_mentry *me, const lf *x)
{
    bool end = false;
    if (x->k != LF_TEXT)
        return false;
    for (size_t k = 0; !end; k++) {
        const char *a = entry_attr(me, k, &end);
        size_t n = a ? strlen(a) : 0;
        if (a == NULL || strncasecmp(x->s + 1, a, n) != 0)
            continue;
        const char *op = x->s + 1 + n;
        if (*op == '=' || ((*op == '>' || *op == '<') && op[1] == '='))
            return true;
    }
    return false;
}

static int tr_valuepath(fctx *c, const s2l_filter *f, lf *out)
{
    const s2l_schema *view = NULL;
    const s2l_attr_def *top;

    if (c->slot != NULL || c->vp_top != NULL)
        return INVALID(c, "%s: value filters cannot be nested", f->path.attr);
    top = s2l_rtype_find(&c->rm->rt, f->path.urn, f->path.attr, NULL, &view);
    if (top == NULL || top->type != S2L_T_COMPLEX || s2l_attr_is_common(top))
        return INVALID(c, "%s: not a mapped complex attribute", f->path.attr);
    if (!top->multi_valued) {
        fctx c2 = *c;
        c2.vp_top = top;
        c2.vp_view = view;
        return tr(&c2, f->left, out);
    }
    const s2l_schema *full = full_of(c->rm, view);
    *out = LF_F;
    for (size_t i = 0; i < c->rm->n_entries; i++) {
        const s2l_mentry *me = &c->rm->entries[i];
        fctx c2 = *c;
        lf inner, has;
        if (!entry_is(me, full, top))
            continue;
        c2.slot = me;
        c2.slot_view = top;
        if (tr(&c2, f->left, &inner) < 0)
            goto fail;
        /* a value of this entry must exist, unless the inner filter already
         * asserts a value of one of its attributes */
        if (implies_value(me, &inner)) {
            has = LF_T;
        } else if (me->kind == S2L_ME_REFERENCE ? present(c, me->ldap, &has) < 0 : entry_present(c, me, &has) < 0) {
            lf_free(&inner);
            goto fail;
        }
        if (lf_join(c, '&', has, inner, &inner) < 0 || lf_join(c, '|', *out, inner, out) < 0)
            goto fail;
    }
    return 0;
fail:
    lf_free(out);
    return -1;
}

static int tr(fctx *c, const s2l_filter *f, lf *out)
{
    lf a = LF_F, b = LF_F;

    switch (f->kind) {
    case S2L_F_AND:
    case S2L_F_OR:
        if (tr(c, f->left, &a) < 0)
            return -1;
        if (tr(c, f->right, &b) < 0) {
            lf_free(&a);
            return -1;
        }
        return lf_join(c, f->kind == S2L_F_AND ? '&' : '|', a, b, out);
    case S2L_F_NOT:
        if (tr(c, f->left, &a) < 0)
            return -1;
        return lf_not(c, a, out);
    case S2L_F_CMP:
    case S2L_F_PRESENT:
        return tr_cmp(c, f, out);
    case S2L_F_VALUEPATH:
        return tr_valuepath(c, f, out);
    }
    return INVALID(c, "unknown filter node");
}

/* "(&<object filter><r>)" — every search is confined to the type's entries. */
static char *with_object_filter(fctx *c, lf r)
{
    lf obj = {LF_TEXT, strdup(c->rm->object_filter)};
    lf out;

    if (obj.s == NULL) {
        lf_free(&r);
        oom(c);
        return NULL;
    }
    if (r.k == LF_FALSE) {
        /* kept as a real filter: callers may still want to send it (Entra's keep-alive) */
        lf_free(&obj);
        s2l_strbuf b = {0};
        s2l_sb_adds(&b, "(&");
        s2l_sb_adds(&b, c->rm->object_filter);
        s2l_sb_adds(&b, "(!(objectClass=*)))");
        char *s = s2l_sb_take(&b);
        if (s == NULL)
            oom(c);
        return s;
    }
    if (lf_join(c, '&', obj, r, &out) < 0)
        return NULL;
    return out.s;
}

char *s2l_rmap_ldap_filter(const s2l_rmap *rm, const s2l_filter *f, const json_t *ids, s2l_error *err)
{
    fctx c = {.rm = rm, .ids = ids, .err = err};
    lf r = LF_T;

    if (f != NULL && tr(&c, f, &r) < 0)
        return NULL;
    return with_object_filter(&c, r);
}

char *s2l_rmap_id_filter(const s2l_rmap *rm, const char *id)
{
    s2l_error err = {0};
    fctx c = {.rm = rm, .err = &err};
    lf r = {LF_TEXT, s2l_rmap_id_assertion(rm, id)};

    if (r.s == NULL)
        return NULL;
    return with_object_filter(&c, r);
}

char *s2l_rmap_member_filter(const s2l_rmap *group_rm, const char *member_dn)
{
    s2l_error err = {0};
    fctx c = {.rm = group_rm, .err = &err};
    lf r = LF_F;
    bool any = false;

    for (size_t i = 0; i < group_rm->n_entries; i++) {
        const s2l_mentry *me = &group_rm->entries[i];
        lf one;
        if (me->kind != S2L_ME_REFERENCE || me->read_only || !me->top->multi_valued)
            continue;
        any = true;
        if (me->ref_rdn) {
            char *attr = NULL, *val = NULL;
            size_t len = 0;
            if (s2l_dn_first_rdn(member_dn, &attr, &val, &len) < 0) {
                lf_free(&r);
                return NULL;
            }
            int rc = leaf(&c, me->ldap, "=", "", val, len, "", &one);
            free(attr);
            free(val);
            if (rc < 0) {
                lf_free(&r);
                return NULL;
            }
        } else if (leaf(&c, me->ldap, "=", "", member_dn, strlen(member_dn), "", &one) < 0) {
            lf_free(&r);
            return NULL;
        }
        if (lf_join(&c, '|', r, one, &r) < 0)
            return NULL;
    }
    if (!any)
        return NULL;
    return with_object_filter(&c, r);
}

/* ---- reference ids in a filter ---- */

static bool is_reference(const s2l_rmap *rm, const s2l_attr_def *top, const s2l_schema *view)
{
    const s2l_schema *full = full_of(rm, view);
    for (size_t i = 0; top && full && i < rm->n_entries; i++)
        if (rm->entries[i].kind == S2L_ME_REFERENCE && entry_is(&rm->entries[i], full, top))
            return true;
    return false;
}

static int collect_ids(const s2l_rmap *rm, const s2l_filter *f, const s2l_attr_def *vp_top,
                       const s2l_schema *vp_view, json_t *out)
{
    const s2l_schema *view = NULL;
    const s2l_attr_def *top;
    const char *sub;

    switch (f->kind) {
    case S2L_F_AND:
    case S2L_F_OR:
        if (collect_ids(rm, f->left, vp_top, vp_view, out) < 0)
            return -1;
        return collect_ids(rm, f->right, vp_top, vp_view, out);
    case S2L_F_NOT:
        return collect_ids(rm, f->left, vp_top, vp_view, out);
    case S2L_F_VALUEPATH:
        top = s2l_rtype_find(&rm->rt, f->path.urn, f->path.attr, NULL, &view);
        return top ? collect_ids(rm, f->left, top, view, out) : 0;
    case S2L_F_PRESENT:
        return 0;
    case S2L_F_CMP:
        break;
    }
    if (vp_top) {
        top = vp_top;
        view = vp_view;
        sub = f->path.attr;
    } else {
        top = s2l_rtype_find(&rm->rt, f->path.urn, f->path.attr, NULL, &view);
        sub = f->path.sub;
    }
    if (!json_is_string(f->value) || !is_reference(rm, top, view) || (sub && strcasecmp(sub, "value") != 0))
        return 0;
    const char *id = json_string_value(f->value);
    for (size_t i = 0; i < json_array_size(out); i++)
        if (strcmp(json_string_value(json_array_get(out, i)), id) == 0)
            return 0;
    return json_array_append_new(out, json_string(id));
}

json_t *s2l_rmap_filter_ref_ids(const s2l_rmap *rm, const s2l_filter *f)
{
    json_t *out = json_array();
    if (out != NULL && f != NULL && collect_ids(rm, f, NULL, NULL, out) < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}
