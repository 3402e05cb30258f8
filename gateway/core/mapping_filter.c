/* mapping_filter.c — SCIM filters → LDAP filters: the split into what LDAP
 * decides and the residue the gateway evaluates (s2l_rmap_split_filter), the
 * legacy translation (s2l_rmap_ldap_filter), the id filter, the
 * group-membership filter and the reference ids a filter needs resolved (see
 * include/s2l/mapping.h and mapping_filter_internal.h for the bounds).
 *
 * Every value from the client goes through s2l_ldap_escape_filter_value, so
 * nothing a client sends can become filter syntax. Results are built as
 * "always true", "always false" or text, and folded as they are combined, so
 * that comparisons the mapping can decide by itself (emails.type eq "work",
 * an unknown member id, a malformed UUID) leave no trace in the LDAP filter.
 * This file resolves names and combines; mapping_filter_leaf.c decides one
 * comparison from the LDAP attribute's matching rules.
 */
#include "mapping_filter_internal.h"
#include "ldap_syntax.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const lf LF_T = {LF_TRUE, NULL};
static const lf LF_F = {LF_FALSE, NULL};

void s2l_mf_free(lf *x)
{
    free(x->s);
    x->s = NULL;
}

int s2l_mf_oom(fctx *c)
{
    s2l_error_set(c->err, 500, NULL, "out of memory");
    return -1;
}

/* ---- building and folding ---- */

int s2l_mf_leaf(fctx *c, const char *attr, const char *op, const char *pre, const char *val, size_t len,
                const char *post, lf *out)
{
    s2l_strbuf b = {0};
    char *esc = val ? s2l_ldap_escape_filter_value(val, len) : NULL;
    if (val && esc == NULL)
        return s2l_mf_oom(c);
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
    return out->s ? 0 : s2l_mf_oom(c);
}

int s2l_mf_present(fctx *c, const char *attr, lf *out)
{
    return s2l_mf_leaf(c, attr, "=*", "", NULL, 0, "", out);
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

int s2l_mf_join(fctx *c, char op, lf a, lf b, lf *out)
{
    lf_kind absorb = op == '&' ? LF_FALSE : LF_TRUE;   /* x&false = false, x|true = true */
    lf_kind neutral = op == '&' ? LF_TRUE : LF_FALSE;

    if (a.k == absorb || b.k == absorb) {
        s2l_mf_free(&a);
        s2l_mf_free(&b);
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
    if (strcmp(a.s, b.s) == 0) {
        /* x&x = x|x = x: the bounds of an exact part are the same text */
        s2l_mf_free(&b);
        *out = a;
        return 0;
    }
    s2l_strbuf sb = {0};
    char head[3] = {'(', op, 0};
    s2l_sb_adds(&sb, head);
    splice(&sb, a.s, op);
    splice(&sb, b.s, op);
    s2l_sb_adds(&sb, ")");
    s2l_mf_free(&a);
    s2l_mf_free(&b);
    out->k = LF_TEXT;
    out->s = s2l_sb_take(&sb);
    return out->s ? 0 : s2l_mf_oom(c);
}

int s2l_mf_not(fctx *c, lf a, lf *out)
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
    s2l_mf_free(&a);
    out->k = LF_TEXT;
    out->s = s2l_sb_take(&sb);
    return out->s ? 0 : s2l_mf_oom(c);
}

lf s2l_mf_const(bool v)
{
    return v ? LF_T : LF_F;
}

static int lf_dup(fctx *c, const lf *x, lf *out)
{
    out->k = x->k;
    out->s = NULL;
    if (x->k == LF_TEXT && (out->s = strdup(x->s)) == NULL)
        return s2l_mf_oom(c);
    return 0;
}

static bool lf_same(const lf *a, const lf *b)
{
    return a->k == b->k && (a->k != LF_TEXT || strcmp(a->s, b->s) == 0);
}

/* ---- bounds ---- */

void s2l_mf_bfree(bnd *b)
{
    s2l_mf_free(&b->up);
    s2l_mf_free(&b->lo);
}

static const nlist NL_NONE = {-1, -1};

/* Bounds that came out equal are exact whatever produced them (and need no notes). */
static void settle(bnd *b)
{
    if (lf_same(&b->up, &b->lo))
        b->exact = b->trusted = true;
    b->trusted |= b->exact;
    if (b->exact)
        b->why = b->why_trust = NL_NONE;
    else if (b->trusted)
        b->why = NL_NONE;
}

int s2l_mf_exact(fctx *c, lf x, bnd *out)
{
    out->up = x;
    out->exact = out->trusted = true;
    out->elem = out->has_value = false;
    out->why = out->why_trust = NL_NONE;
    if (lf_dup(c, &x, &out->lo) < 0) {
        s2l_mf_free(&out->up);
        return -1;
    }
    return 0;
}

bnd s2l_mf_bconst(bool v)
{
    bnd b = {s2l_mf_const(v), s2l_mf_const(v), true, true, false, !v, {-1, -1}, {-1, -1}};
    return b;
}

/* a followed by b (both consumed: a note belongs to one list at a time). */
static nlist nl_cat(fctx *c, nlist a, nlist b)
{
    if (a.head < 0)
        return b;
    if (b.head < 0)
        return a;
    c->notes->v[a.tail].next = b.head;
    a.tail = b.tail;
    return a;
}

static nlist nl_one(fctx *c, const char *attr, const char *why, int kind)
{
    fnotes *ns = c->notes;
    if (ns == NULL || c->mode != MODE_SPLIT)
        return NL_NONE;
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 16;
        fnote *v = realloc(ns->v, cap * sizeof *v);
        if (v == NULL)
            return NL_NONE; /* a note lost to memory pressure only shortens a message */
        ns->v = v;
        ns->cap = cap;
    }
    ns->v[ns->n] = (fnote){c->cur, attr, why, kind, -1};
    nlist l = {(int)ns->n, (int)ns->n};
    ns->n++;
    return l;
}

int s2l_mf_upper(fctx *c, lf up, bool trusted, const char *attr, const char *why, int kind, bnd *out)
{
    return s2l_mf_bounds(c, up, LF_F, trusted, attr, why, kind, out);
}

int s2l_mf_bounds(fctx *c, lf up, lf lo, bool trusted, const char *attr, const char *why, int kind, bnd *out)
{
    out->up = up;
    out->lo = lo;
    out->exact = false;
    out->trusted = trusted;
    out->elem = out->has_value = false;
    out->why = out->why_trust = NL_NONE;
    settle(out);
    if (!out->exact) {
        nlist n = nl_one(c, attr ? attr : c->cur_attr, why, kind);
        if (out->trusted)
            out->why_trust = n;
        else
            out->why = n;
    }
    return 0;
}

static int bjoin(fctx *c, char op, bnd a, bnd b, bnd *out)
{
    out->exact = a.exact && b.exact;
    out->trusted = a.trusted && b.trusted;
    out->elem = a.elem || b.elem;
    out->has_value = op == '&' ? a.has_value || b.has_value : a.has_value && b.has_value;
    out->why = nl_cat(c, a.why, b.why);
    out->why_trust = nl_cat(c, a.why_trust, b.why_trust);
    lf lo_b = b.lo;
    if (s2l_mf_join(c, op, a.up, b.up, &out->up) < 0) {
        s2l_mf_free(&a.lo);
        s2l_mf_free(&lo_b);
        return -1;
    }
    if (s2l_mf_join(c, op, a.lo, lo_b, &out->lo) < 0) {
        s2l_mf_free(&out->up);
        return -1;
    }
    settle(out);
    return 0;
}

int s2l_mf_band(fctx *c, bnd a, bnd b, bnd *out)
{
    return bjoin(c, '&', a, b, out);
}

int s2l_mf_bor(fctx *c, bnd a, bnd b, bnd *out)
{
    return bjoin(c, '|', a, b, out);
}

int s2l_mf_bnot(fctx *c, bnd a, bnd *out)
{
    /* the superset of "not x" is "not (subset of x)": trust does not carry over */
    out->exact = out->trusted = a.exact;
    out->elem = a.elem;
    out->has_value = false;
    out->why = nl_cat(c, a.why, a.why_trust);
    out->why_trust = NL_NONE;
    lf up = a.up;
    if (s2l_mf_not(c, a.lo, &out->up) < 0) {
        s2l_mf_free(&up);
        return -1;
    }
    if (s2l_mf_not(c, up, &out->lo) < 0) {
        s2l_mf_free(&out->up);
        return -1;
    }
    settle(out);
    return 0;
}

/* ---- values ---- */

int s2l_mf_value_text(fctx *c, const s2l_filter *f, s2l_attr_type t, char **out, size_t *len)
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
    return *out ? 0 : s2l_mf_oom(c);
}

/* attr op value for an attribute whose values LDAP compares (t is the SCIM type):
 * the legacy translation, which takes LDAP's matching for SCIM's. */
static int legacy_cmp_leaf(fctx *c, const char *attr, s2l_attr_type t, const s2l_filter *f, lf *out)
{
    char *v = NULL;
    size_t len = 0;
    int rc = -1;
    lf a = LF_F, b = LF_F;

    if (f->kind == S2L_F_PRESENT)
        return s2l_mf_present(c, attr, out);
    if (json_is_null(f->value)) {
        if (f->op != S2L_OP_EQ && f->op != S2L_OP_NE)
            return INVALID(c, "%s: null can only be compared with eq or ne", f->path.attr);
        if (s2l_mf_present(c, attr, &a) < 0)
            return -1;
        if (f->op == S2L_OP_NE) {
            *out = a;
            return 0;
        }
        return s2l_mf_not(c, a, out);
    }
    if (t == S2L_T_BOOLEAN || t == S2L_T_COMPLEX)
        return INVALID(c, "%s: operator not supported for this attribute", f->path.attr);
    bool ordered_only = t == S2L_T_INTEGER || t == S2L_T_DECIMAL || t == S2L_T_DATETIME;
    if (ordered_only && (f->op == S2L_OP_CO || f->op == S2L_OP_SW || f->op == S2L_OP_EW))
        return INVALID(c, "%s: \"%s\" needs a string attribute", f->path.sub ? f->path.sub : f->path.attr,
                       s2l_cmp_op_name(f->op));
    if (s2l_mf_value_text(c, f, t, &v, &len) < 0)
        return -1;
    if (len == 0) {
        /* LDAP holds no empty values: eq "" matches nothing, co/sw/ew "" match any value */
        switch (f->op) {
        case S2L_OP_EQ: *out = LF_F; rc = 0; goto out;
        case S2L_OP_NE: *out = LF_T; rc = 0; goto out;
        case S2L_OP_CO: case S2L_OP_SW: case S2L_OP_EW: rc = s2l_mf_present(c, attr, out); goto out;
        default: break;
        }
    }
    switch (f->op) {
    case S2L_OP_EQ: rc = s2l_mf_leaf(c, attr, "=", "", v, len, "", out); break;
    case S2L_OP_NE:
        rc = s2l_mf_leaf(c, attr, "=", "", v, len, "", &a);
        rc = rc < 0 ? rc : s2l_mf_not(c, a, out);
        break;
    case S2L_OP_CO: rc = s2l_mf_leaf(c, attr, "=", "*", v, len, "*", out); break;
    case S2L_OP_SW: rc = s2l_mf_leaf(c, attr, "=", "", v, len, "*", out); break;
    case S2L_OP_EW: rc = s2l_mf_leaf(c, attr, "=", "*", v, len, "", out); break;
    case S2L_OP_GE: rc = s2l_mf_leaf(c, attr, ">=", "", v, len, "", out); break;
    case S2L_OP_LE: rc = s2l_mf_leaf(c, attr, "<=", "", v, len, "", out); break;
    case S2L_OP_GT:
    case S2L_OP_LT:
        /* LDAP has only >= and <=: strict is "and not equal" */
        rc = s2l_mf_leaf(c, attr, f->op == S2L_OP_GT ? ">=" : "<=", "", v, len, "", &a);
        if (rc == 0)
            rc = s2l_mf_leaf(c, attr, "=", "", v, len, "", &b);
        if (rc == 0)
            rc = s2l_mf_not(c, b, &b);
        if (rc == 0) {
            rc = s2l_mf_join(c, '&', a, b, out);
            break;
        }
        s2l_mf_free(&a);
        s2l_mf_free(&b);
        break;
    }
out:
    free(v);
    return rc;
}

static bool contains_fold(const char *hay, const char *needle, bool exact)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if ((exact ? strncmp(hay, needle, n) : strncasecmp(hay, needle, n)) == 0)
            return true;
    return n == 0;
}

int s2l_mf_const_cmp(fctx *c, const char *have, bool case_exact, const s2l_filter *f, bool *res)
{
    if (f->kind == S2L_F_PRESENT) {
        *res = have != NULL;
        return 0;
    }
    if (json_is_null(f->value)) {
        *res = (f->op == S2L_OP_EQ) == (have == NULL);
        return 0;
    }
    if (json_is_boolean(f->value)) {
        *res = f->op == S2L_OP_NE; /* text is never a boolean */
        return 0;
    }
    char num[64];
    const char *v;
    if (json_is_integer(f->value))
        v = (snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(f->value)), num);
    else if (json_is_real(f->value))
        v = (snprintf(num, sizeof num, "%.17g", json_real_value(f->value)), num); /* as the matcher reads 42 as "42" */
    else if (json_is_string(f->value))
        v = json_string_value(f->value);
    else
        return INVALID(c, "%s: compared with a value of the wrong type", f->path.attr);
    if (have == NULL) {
        *res = f->op == S2L_OP_NE;
        return 0;
    }
    size_t hl = strlen(have), vl = strlen(v);
    int cmp = case_exact ? strcmp(have, v) : strcasecmp(have, v);
    switch (f->op) {
    case S2L_OP_EQ: *res = cmp == 0; break;
    case S2L_OP_NE: *res = cmp != 0; break;
    case S2L_OP_CO: *res = contains_fold(have, v, case_exact); break;
    case S2L_OP_SW: *res = (case_exact ? strncmp(have, v, vl) : strncasecmp(have, v, vl)) == 0; break;
    case S2L_OP_EW:
        *res = hl >= vl && (case_exact ? strcmp(have + hl - vl, v) : strcasecmp(have + hl - vl, v)) == 0;
        break;
    case S2L_OP_GT: *res = cmp > 0; break;
    case S2L_OP_GE: *res = cmp >= 0; break;
    case S2L_OP_LT: *res = cmp < 0; break;
    case S2L_OP_LE: *res = cmp <= 0; break;
    }
    return 0;
}

/* ---- per mapping entry ---- */

const char *s2l_mf_entry_attr(const s2l_mentry *me, size_t i, bool *end)
{
    *end = i > 2 * me->n_subs;
    if (*end)
        return NULL;
    if (i == 2 * me->n_subs)
        return me->ldap;
    return i % 2 ? me->subs[i / 2].also : me->subs[i / 2].ldap;
}

/* Holds at least one value of entry me (legacy). */
static int entry_present(fctx *c, const s2l_mentry *me, lf *out)
{
    bool end = false;
    *out = LF_F;
    for (size_t k = 0; !end; k++) {
        const char *a = s2l_mf_entry_attr(me, k, &end);
        lf p;
        if (a == NULL)
            continue;
        if (s2l_mf_present(c, a, &p) < 0 || s2l_mf_join(c, '|', *out, p, out) < 0)
            return -1;
    }
    return 0;
}

/* A boolean per its LDAP representation: the conditions under which the
 * entry reads as the compared value (see bool_value in mapping_read.c). */
static int legacy_bool_leaf(fctx *c, const s2l_mentry *me, const s2l_filter *f, lf *out)
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
        return s2l_mf_not(c, inactive, out);
    }

    if (f->kind == S2L_F_PRESENT) {
        if (b->absent >= 0) {
            *out = LF_T;
            return 0;
        }
        return s2l_mf_present(c, me->ldap, out);
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
        if (s2l_mf_leaf(c, me->ldap, "=", "", other_repr, strlen(other_repr), "", &piece) < 0 ||
            s2l_mf_not(c, piece, &r) < 0)
            return -1;
    } else {
        if (repr && (s2l_mf_leaf(c, me->ldap, "=", "", repr, strlen(repr), "", &piece) < 0 ||
                     s2l_mf_join(c, '|', r, piece, &r) < 0))
            return -1;
        if (b->absent == want) {
            if (s2l_mf_present(c, me->ldap, &piece) < 0 || s2l_mf_not(c, piece, &piece) < 0 ||
                s2l_mf_join(c, '|', r, piece, &r) < 0)
                return -1;
        }
        if (b->other == want) {
            lf o;
            if (s2l_mf_present(c, me->ldap, &o) < 0)
                return -1;
            for (int i = 0; i < 2; i++) {
                const char *x = i ? b->when_true : b->when_false;
                if (x && (s2l_mf_leaf(c, me->ldap, "=", "", x, strlen(x), "", &piece) < 0 ||
                          s2l_mf_not(c, piece, &piece) < 0 || s2l_mf_join(c, '&', o, piece, &o) < 0))
                    return -1;
            }
            if (s2l_mf_join(c, '|', r, o, &r) < 0)
                return -1;
        }
    }
    if (f->op == S2L_OP_NE)
        return s2l_mf_not(c, r, out);
    *out = r;
    return 0;
}

static int legacy_ref_leaf(fctx *c, const s2l_mentry *me, const s2l_filter *f, lf *out)
{
    if (me->virtual_attr)
        return INVALID(c, "%s: cannot be filtered (groups are found by a search)", me->attr);
    if (f->kind == S2L_F_PRESENT)
        return s2l_mf_present(c, me->ldap, out);
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
            return s2l_mf_oom(c);
        int rc = s2l_mf_leaf(c, me->ldap, "=", "", val, len, "", &r);
        free(attr);
        free(val);
        if (rc < 0)
            return -1;
    } else if (s2l_mf_leaf(c, me->ldap, "=", "", dn, strlen(dn), "", &r) < 0) {
        return -1;
    }
    if (f->op == S2L_OP_NE)
        return s2l_mf_not(c, r, out);
    *out = r;
    return 0;
}

/* "(attr=[*]p0*p1*...[*])": a substring assertion of literal parts, each escaped. */
static int legacy_subs_leaf(fctx *c, const char *attr, const char *const *parts, size_t n, bool lead, bool trail, lf *out)
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
            return s2l_mf_oom(c);
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
    return out->s ? 0 : s2l_mf_oom(c);
}

/* Legacy: values a "type": "*" entry keeps as JSON text ({"value":"x","type":"other"},
 * keys sorted after "value"): comparisons become substring assertions on the
 * text, `"sub":"x"` followed by ',' or '}'. eq and sw are exact; co and ew
 * may also match text of a later sub-attribute of the same value. */
static int legacy_json_leaf(fctx *c, const s2l_mentry *me, const char *sub, const s2l_filter *f, lf *out)
{
    const s2l_attr_def *sd = s2l_attr_find_sub(me->top, sub ? sub : "value");
    const char *name = sd ? sd->name : sub ? sub : "value";
    char key[300], *lit = NULL, *a = NULL, *b = NULL;
    lf x = LF_F, y = LF_F;
    int rc = -1;

    snprintf(key, sizeof key, "\"%s\":", name);
    if (f->kind == S2L_F_PRESENT || json_is_null(f->value)) {
        const char *parts[] = {key};
        if (legacy_subs_leaf(c, me->ldap, parts, 1, true, true, &x) < 0)
            return -1;
        if (f->kind == S2L_F_PRESENT || f->op == S2L_OP_NE) {
            *out = x;
            return 0;
        }
        if (f->op != S2L_OP_EQ)
            return INVALID(c, "%s.%s: null can only be compared with eq or ne", me->attr, name);
        return s2l_mf_not(c, x, out);
    }
    if (!json_is_string(f->value) && !json_is_number(f->value) && !json_is_boolean(f->value))
        return INVALID(c, "%s.%s: compared with a value of the wrong type", me->attr, name);
    lit = json_dumps(f->value, JSON_ENCODE_ANY | JSON_COMPACT);
    if (lit == NULL)
        return s2l_mf_oom(c);
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
        rc = s2l_mf_oom(c);
        goto out;
    }
    switch (f->op) {
    case S2L_OP_EQ:
    case S2L_OP_NE: {
        snprintf(a, n, "%s%s%s,", key, lit, str ? "\"" : "");
        snprintf(b, n, "%s%s%s}", key, lit, str ? "\"" : "");
        const char *pa[] = {a}, *pb[] = {b};
        if (legacy_subs_leaf(c, me->ldap, pa, 1, true, true, &x) < 0 || legacy_subs_leaf(c, me->ldap, pb, 1, true, false, &y) < 0 ||
            s2l_mf_join(c, '|', x, y, &x) < 0)
            goto out;
        y = LF_F;
        rc = f->op == S2L_OP_EQ ? (*out = x, 0) : s2l_mf_not(c, x, out);
        x = LF_F;
        break;
    }
    case S2L_OP_SW: {
        snprintf(a, n, "%s%s", key, lit);
        const char *pa[] = {a};
        rc = legacy_subs_leaf(c, me->ldap, pa, 1, true, true, out);
        break;
    }
    case S2L_OP_CO: {
        snprintf(a, n, "%s\"", key);
        const char *pa[] = {a, lit + 1};
        rc = lit[1] ? legacy_subs_leaf(c, me->ldap, pa, 2, true, true, out) : legacy_subs_leaf(c, me->ldap, pa, 1, true, true, out);
        break;
    }
    case S2L_OP_EW: {
        snprintf(a, n, "%s\"", key);
        char *e1 = malloc(strlen(lit) + 3), *e2 = malloc(strlen(lit) + 3);
        if (e1 == NULL || e2 == NULL) {
            free(e1);
            free(e2);
            rc = s2l_mf_oom(c);
            goto out;
        }
        snprintf(e1, strlen(lit) + 3, "%s\",", lit + 1);
        snprintf(e2, strlen(lit) + 3, "%s\"}", lit + 1);
        const char *p1[] = {a, e1}, *p2[] = {a, e2};
        rc = legacy_subs_leaf(c, me->ldap, p1, 2, true, true, &x);
        if (rc == 0)
            rc = legacy_subs_leaf(c, me->ldap, p2, 2, true, false, &y);
        if (rc == 0) {
            rc = s2l_mf_join(c, '|', x, y, out);
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
    s2l_mf_free(&x);
    s2l_mf_free(&y);
    free(lit);
    free(a);
    free(b);
    return rc;
}

/* An lf result of the legacy translation as (exact) bounds. */
static int legacy(fctx *c, int rc, lf x, bnd *out)
{
    if (rc < 0)
        return -1;
    return s2l_mf_exact(c, x, out);
}

/* "This entry holds a value": exact presence in the legacy translation. */
static int has_values(fctx *c, const s2l_mentry *me, bnd *out)
{
    if (c->mode == MODE_SPLIT)
        return s2l_mf_split_has(c, me, out);
    lf x = LF_F;
    int rc = me->kind == S2L_ME_REFERENCE ? s2l_mf_present(c, me->ldap, &x) : entry_present(c, me, &x);
    return legacy(c, rc, x, out);
}

/* The type a reference value of me renders with (see render_ref in
 * mapping_read.c), when all its values share it; NULL when it varies. */
static const char *ref_rendered_type(const s2l_mentry *me, const s2l_attr_def *type_sub, bool *varies)
{
    *varies = false;
    if (type_sub == NULL)
        return NULL;
    if (me->n_ref_types != 1) {
        *varies = true;
        return NULL;
    }
    const char *type = me->ref_types[0];
    for (size_t i = 0; i < type_sub->n_canonical; i++)
        if (strcasecmp(type_sub->canonical_values[i], type) == 0)
            return type;
    if (type_sub->n_canonical == 0)
        return type;
    for (size_t i = 0; i < type_sub->n_canonical; i++)
        if (strcasecmp(type_sub->canonical_values[i], "direct") == 0)
            return "direct";
    return NULL;
}

/* A sub-attribute held in two LDAP attributes ("country": ["co", "c"]): it
 * reads from the first, or from the second when the first is absent (see
 * mapping_read.c), so the value satisfies f where
 *   first satisfies f, or (second satisfies f and there is no first),
 * built from the bounds of each. */
static int split_two(fctx *c, const s2l_me_sub *two, const s2l_attr_def *sd, const s2l_filter *f, bnd *out)
{
    bnd a, b, has;
    lf p;
    if (s2l_mf_split_cmp(c, two->ldap, &two->caps, sd, two->caps.single_value, f, &a) < 0)
        return -1;
    if (s2l_mf_split_cmp(c, two->also, &two->also_caps, sd, two->also_caps.single_value, f, &b) < 0) {
        s2l_mf_bfree(&a);
        return -1;
    }
    if (s2l_mf_present(c, two->ldap, &p) < 0 || s2l_mf_exact(c, p, &has) < 0 || s2l_mf_bnot(c, has, &has) < 0) {
        s2l_mf_bfree(&a);
        s2l_mf_bfree(&b);
        return -1;
    }
    if (s2l_mf_band(c, b, has, &b) < 0) {
        s2l_mf_bfree(&a);
        return -1;
    }
    return s2l_mf_bor(c, a, b, out);
}

/* Comparison f on sub-attribute sub (NULL = the value) of entry me. in_slot:
 * inside attr[...], where "type eq work" is a fact about this entry rather than
 * "the resource has a work value". */
static int entry_leaf(fctx *c, const s2l_mentry *me, const char *sub, const s2l_filter *f, bool in_slot, bnd *out)
{
    bool cst;
    bool split = c->mode == MODE_SPLIT;
    lf x = LF_F;

    switch (me->kind) {
    case S2L_ME_SIMPLE:
        if (me->is_bool)
            return split ? s2l_mf_split_bool(c, me, f, out) : legacy(c, legacy_bool_leaf(c, me, f, &x), x, out);
        if (split)
            return s2l_mf_split_cmp(c, me->ldap, &me->caps, me->leaf, me->caps.single_value, f, out);
        return legacy(c, legacy_cmp_leaf(c, me->ldap, me->leaf->type, f, &x), x, out);
    case S2L_ME_REFERENCE:
        if ((sub == NULL || strcasecmp(sub, "value") == 0) && !split)
            return legacy(c, legacy_ref_leaf(c, me, f, &x), x, out);
        if (sub == NULL || strcasecmp(sub, "value") == 0) {
            if (s2l_mf_split_ref(c, me, f, out) < 0)
                return -1;
            out->elem = in_slot; /* one member is u1, another is not */
            out->has_value &= in_slot;
            return 0;
        }
        if (!split) {
            if (strcasecmp(sub, "type") != 0 || me->n_ref_types != 1)
                return INVALID(c, "%s.%s: not supported in filters", me->attr, sub);
            if (s2l_mf_const_cmp(c, me->ref_types[0], false, f, &cst) < 0)
                return -1;
            break;
        }
        if (me->virtual_attr)
            return s2l_mf_split_ref(c, me, f, out); /* says why it cannot be pushed down */
        if (strcasecmp(sub, "type") == 0) {
            const s2l_attr_def *type_sub = s2l_attr_find_sub(me->top, "type");
            bool varies;
            const char *t = ref_rendered_type(me, type_sub, &varies);
            if (!varies) {
                if (s2l_mf_const_cmp(c, t, type_sub && type_sub->case_exact, f, &cst) < 0)
                    return -1;
                break;
            }
        }
        /* display, $ref, a type that varies: known once rendered */
        if (has_values(c, me, out) < 0)
            return -1;
        lf up = out->up;
        s2l_mf_free(&out->lo);
        if (s2l_mf_upper(c, up, false, me->ldap, "known once the references are resolved", -1, out) < 0)
            return -1;
        out->elem = true;
        return 0;
    case S2L_ME_MULTI:
        if (me->catch_all && !(sub == NULL && f->kind == S2L_F_PRESENT)) {
            if (!split)
                return legacy(c, legacy_json_leaf(c, me, sub, f, &x), x, out);
            /* Values kept as JSON text, each as sent (type, primary, sub-attributes
             * in any case): a caseExact substring of the text cannot stand for a
             * SCIM comparison (caseExact false), nor can a text another tool wrote.
             * LDAP is asked for entries that have such values; the gateway decides. */
            lf p;
            if (s2l_mf_present(c, me->ldap, &p) < 0 ||
                s2l_mf_upper(c, p, false, me->ldap, "values kept as JSON are compared by the gateway", -1, out) < 0)
                return -1;
            out->elem = true;
            out->has_value = true;
            return 0;
        }
        if (sub == NULL && f->kind == S2L_F_PRESENT) {
            cst = true; /* "emails pr": any value of this entry */
        } else if (sub != NULL && strcasecmp(sub, "type") == 0) {
            const s2l_attr_def *td = s2l_attr_find_sub(me->top, "type");
            if (s2l_mf_const_cmp(c, me->type, split && td && td->case_exact, f, &cst) < 0)
                return -1;
        } else if (sub != NULL && strcasecmp(sub, "primary") == 0) {
            if (!split && f->kind != S2L_F_PRESENT &&
                !(json_is_boolean(f->value) && (f->op == S2L_OP_EQ || f->op == S2L_OP_NE)))
                return INVALID(c, "%s.primary: compared with true or false, eq or ne", me->attr);
            int want = 1;
            if (split && f->kind == S2L_F_CMP) {
                if (f->op == S2L_OP_GT || f->op == S2L_OP_GE || f->op == S2L_OP_LT || f->op == S2L_OP_LE)
                    return INVALID(c, "%s.primary: gt, ge, lt and le cannot compare booleans (RFC 7644 3.4.2.2)",
                                   me->attr);
                if (json_is_boolean(f->value))
                    want = json_is_true(f->value);
                else if (json_is_string(f->value) && strcasecmp(json_string_value(f->value), "true") == 0)
                    want = 1;
                else if (json_is_string(f->value) && strcasecmp(json_string_value(f->value), "false") == 0)
                    want = 0;
                else if (json_is_string(f->value) || json_is_number(f->value))
                    want = -1; /* text or a number is never a boolean */
                else
                    return INVALID(c, "%s.primary: compared with true or false", me->attr);
                if (f->op != S2L_OP_EQ)
                    want = -1; /* co/sw/ew: a boolean is not text */
            }
            if (!split) {
                if (f->kind == S2L_F_PRESENT)
                    cst = me->primary;
                else
                    cst = (me->primary == json_is_true(f->value)) == (f->op == S2L_OP_EQ);
                break;
            }
            /* Only the first value of the primary type carries "primary": true;
             * the others carry no "primary" at all (render_multi), so "eq false"
             * is true of no value. "pr" and "eq true" hold for exactly one value,
             * the first: some value has it when the entry has a value. */
            if (!me->primary || want != 1) {
                cst = false;
                break;
            }
            if (has_values(c, me, out) < 0)
                return -1;
            out->elem = out->has_value = in_slot;
            return 0;
        } else {
            const char *attr = NULL;
            const s2l_me_sub *two = NULL; /* a sub-attribute held in two LDAP attributes */
            const s2l_ldap_caps *caps = NULL;
            const s2l_attr_def *sd = me->top;
            bool reads_all = true;
            if (sub == NULL || strcasecmp(sub, "value") == 0) {
                attr = me->ldap;
                caps = &me->caps;
                if (me->top->type == S2L_T_COMPLEX)
                    sd = s2l_attr_find_sub(me->top, "value");
            } else {
                for (size_t k = 0; k < me->n_subs; k++)
                    if (strcasecmp(me->subs[k].scim, sub) == 0) {
                        attr = me->subs[k].ldap;
                        caps = &me->subs[k].caps;
                        two = me->subs[k].also ? &me->subs[k] : NULL;
                        /* one rendered value per type, from the first LDAP value of each sub */
                        reads_all = me->subs[k].caps.single_value;
                    }
                sd = s2l_attr_find_sub(me->top, sub);
            }
            if (attr == NULL) {
                *out = s2l_mf_bconst(false); /* this type does not store that sub-attribute */
                return 0;
            }
            if (!split && two != NULL) {
                /* "country": ["co", "c"]: the value is in either */
                lf a, b2;
                s2l_attr_type t = sd ? sd->type : S2L_T_STRING;
                if (legacy_cmp_leaf(c, attr, t, f, &a) < 0)
                    return -1;
                if (legacy_cmp_leaf(c, two->also, t, f, &b2) < 0) {
                    s2l_mf_free(&a);
                    return -1;
                }
                if (s2l_mf_join(c, f->op == S2L_OP_NE && f->kind == S2L_F_CMP ? '&' : '|', a, b2, &x) < 0)
                    return -1;
                return legacy(c, 0, x, out);
            }
            if (!split) {
                int rc = legacy_cmp_leaf(c, attr, sd ? sd->type : S2L_T_STRING, f, &x);
                return legacy(c, rc, x, out);
            }
            if (two != NULL) {
                if (split_two(c, two, sd, f, out) < 0)
                    return -1;
            } else if (s2l_mf_split_cmp(c, attr, caps, sd, reads_all, f, out) < 0)
                return -1;
            /* a positive assertion on this entry's attribute: only an entry
             * with such a value (rendered: strings always are) passes */
            out->elem = true;
            out->has_value = out->up.k != LF_TRUE;
            if (sd && (sd->type == S2L_T_INTEGER || sd->type == S2L_T_DECIMAL))
                out->has_value = out->up.k == LF_FALSE;
            return 0;
        }
        break;
    default:
        *out = s2l_mf_bconst(false);
        return 0;
    }
    if (in_slot || !cst) {
        *out = s2l_mf_bconst(cst);
        return 0;
    }
    return has_values(c, me, out);
}

/* ---- resolving names ---- */

static int meta_leaf(fctx *c, const s2l_filter *f, const char *sub, bnd *out)
{
    const s2l_rmap *rm = c->rm;
    bool cst;
    lf x = LF_F;

    if (sub == NULL)
        return INVALID(c, "meta: compare a sub-attribute (meta.created, meta.lastModified)");
    const s2l_attr_def *def = s2l_attr_find_sub(s2l_rtype_find(&rm->rt, NULL, "meta", NULL, NULL), sub);
    if (strcasecmp(sub, "resourceType") == 0) {
        /* caseExact (RFC 7643 §3.1): "USER" is not "User" */
        if (s2l_mf_const_cmp(c, rm->name, def ? def->case_exact : true, f, &cst) < 0)
            return -1;
        *out = s2l_mf_bconst(cst);
        return 0;
    }
    bool created = strcasecmp(sub, "created") == 0;
    const char *attr = created ? rm->created_attr : strcasecmp(sub, "lastModified") == 0 ? rm->modified_attr : NULL;
    if (c->mode == MODE_LEGACY) {
        if (attr == NULL)
            return INVALID(c, "meta.%s: not supported in filters", sub);
        return legacy(c, legacy_cmp_leaf(c, attr, S2L_T_DATETIME, f, &x), x, out);
    }
    if (def == NULL)
        return INVALID(c, "meta.%s: no such attribute", sub);
    if (attr != NULL)
        return s2l_mf_split_cmp(c, attr, created ? &rm->created_caps : &rm->modified_caps, def, true, f, out);
    if (created || strcasecmp(sub, "lastModified") == 0) {
        *out = s2l_mf_bconst(false); /* turned off in the mapping: never rendered */
        return 0;
    }
    /* location and version: rendered from the id and entryCSN */
    return s2l_mf_upper(c, s2l_mf_const(true), false, NULL, "rendered by the gateway", -1, out);
}

static int id_leaf(fctx *c, const s2l_filter *f, bnd *out)
{
    const s2l_rmap *rm = c->rm;
    if (f->kind == S2L_F_PRESENT) {
        *out = s2l_mf_bconst(true);
        return 0;
    }
    if (c->mode == MODE_SPLIT) {
        if (f->op == S2L_OP_EQ && json_is_string(f->value) &&
            (json_string_length(f->value) == 0 || (rm->info.id_is_uuid && !s2l_is_uuid(json_string_value(f->value))))) {
            *out = s2l_mf_bconst(false); /* no entry can have a malformed id: don't ask LDAP */
            return 0;
        }
        if (rm->id_syntax == S2L_IDSYN_GUID || rm->id_syntax == S2L_IDSYN_NSUNIQUEID) {
            /* ids rendered from the directory's own form (objectGUID bytes,
             * nsUniqueId): equality as the look-up by id asks it, the rest
             * decided once rendered */
            if (f->op != S2L_OP_EQ || !json_is_string(f->value))
                return s2l_mf_upper(c, s2l_mf_const(true), false, rm->id_attr, "ids are compared once rendered", -1,
                                    out);
            lf r = LF_F;
            const char *id = json_string_value(f->value);
            if (strlen(id) == json_string_length(f->value) && (r.s = s2l_rmap_id_assertion(rm, id)) != NULL)
                r.k = LF_TEXT;
            return s2l_mf_exact(c, r, out);
        }
        const s2l_attr_def *def = s2l_rtype_find(&rm->rt, NULL, "id", NULL, NULL);
        return s2l_mf_split_cmp(c, rm->id_attr, &rm->id_caps, def, true, f, out);
    }
    if (f->op != S2L_OP_EQ && f->op != S2L_OP_NE)
        return INVALID(c, "id: supports eq, ne and pr only");
    if (!json_is_string(f->value))
        return INVALID(c, "id: compared with a value of the wrong type");
    const char *id = json_string_value(f->value);
    lf r = LF_F; /* no entry can have a malformed id: don't ask LDAP */
    if (strlen(id) == json_string_length(f->value) && (r.s = s2l_rmap_id_assertion(rm, id)) != NULL)
        r.k = LF_TEXT;
    if (f->op == S2L_OP_NE && s2l_mf_not(c, r, &r) < 0)
        return -1;
    return s2l_mf_exact(c, r, out);
}

static int tr(fctx *c, const s2l_filter *f, bnd *out);

static int tr_cmp(fctx *c, const s2l_filter *f, bnd *out)
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
    full = s2l_attr_is_common(top) ? c->rm->core : s2l_rmap_full_schema(c->rm, view);
    *out = s2l_mf_bconst(false);
    for (size_t i = 0; i < c->rm->n_entries; i++) {
        const s2l_mentry *me = &c->rm->entries[i];
        if (!s2l_mentry_stores(me, full, top))
            continue;
        if (me->write_only)
            return INVALID(c, "%s: write-only attributes cannot be filtered", top->name);
        if (me->kind == S2L_ME_SIMPLE && sub != NULL && (me->sub == NULL || strcasecmp(me->sub, sub) != 0))
            continue;
        if (me->kind == S2L_ME_SIMPLE && sub == NULL && me->sub != NULL && f->kind != S2L_F_PRESENT)
            continue;
        bnd one;
        matched = true;
        if (entry_leaf(c, me, sub, f, false, &one) < 0) {
            s2l_mf_bfree(out);
            return -1;
        }
        if (s2l_mf_bor(c, *out, one, out) < 0)
            return -1;
    }
    if (!matched) {
        s2l_mf_bfree(out);
        return INVALID(c, "%s: attribute not supported in filters (not mapped)", f->path.attr);
    }
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
        const char *a = s2l_mf_entry_attr(me, k, &end);
        size_t n = a ? strlen(a) : 0;
        if (a == NULL || strncasecmp(x->s + 1, a, n) != 0)
            continue;
        const char *op = x->s + 1 + n;
        if (*op == '=' || ((*op == '>' || *op == '<') && op[1] == '='))
            return true;
    }
    return false;
}

/* Whether the values of entry me are read one each (a type stored in single
 * LDAP attributes, or a SINGLE-VALUE attribute): then "some value of this
 * entry is x and y" is "x and y". */
static bool single_element(const s2l_mentry *me)
{
    return me->ldap == NULL || me->caps.single_value;
}

/* Combining inside attr[...] of a multi-valued attribute, where the question
 * is "does SOME value satisfy the whole inner filter": "or" distributes over
 * "some"; "and" and "not" only when a side is the same for every value or the
 * entry has a single value. (Legacy: as at the top level.) b is NULL for not. */
static int slot_combine(fctx *c, s2l_filter_kind k, bnd a, bnd *b, bnd *out)
{
    bool single = single_element(c->slot);

    if (k == S2L_F_OR)
        return s2l_mf_bor(c, a, *b, out);
    if (k == S2L_F_AND) {
        if (c->mode == MODE_LEGACY || !a.elem || !b->elem || single)
            return s2l_mf_band(c, a, *b, out);
        /* some value is a and some value is b: a superset of "some value is both" */
        s2l_mf_free(&a.lo);
        s2l_mf_free(&b->lo);
        lf up;
        bool has_value = a.has_value || b->has_value;
        if (s2l_mf_join(c, '&', a.up, b->up, &up) < 0)
            return -1;
        if (s2l_mf_upper(c, up, false, NULL, "\"and\" of two conditions on one value of a multi-valued attribute",
                         -1, out) < 0)
            return -1;
        out->elem = true;
        out->has_value = has_value;
        return 0;
    }
    if (c->mode == MODE_LEGACY || !a.elem || single)
        return s2l_mf_bnot(c, a, out);
    /* "some value is not x" when values differ: LDAP cannot ask it, unless x
     * holds for no value (then every value qualifies) */
    bool never = a.up.k == LF_FALSE;
    s2l_mf_bfree(&a);
    if (never) {
        *out = s2l_mf_bconst(true);
    } else if (s2l_mf_upper(c, s2l_mf_const(true), false, NULL,
                            "\"not\" inside the value filter of a multi-valued attribute", -1, out) < 0) {
        return -1;
    }
    out->elem = true; /* the caller adds "holds a value" */
    return 0;
}

/* The string value of an "eq" on sub-attribute `sub` among the and-ed
 * conditions of a value filter, or NULL. */
static const char *pinned_eq(const s2l_filter *f, const char *sub)
{
    if (f == NULL)
        return NULL;
    if (f->kind == S2L_F_AND) {
        const char *v = pinned_eq(f->left, sub);
        return v ? v : pinned_eq(f->right, sub);
    }
    if (f->kind == S2L_F_CMP && f->op == S2L_OP_EQ && f->path.urn == NULL && f->path.sub == NULL &&
        f->path.attr && strcasecmp(f->path.attr, sub) == 0 && json_is_string(f->value))
        return json_string_value(f->value);
    return NULL;
}

/* On trust, whether the "type": "*" entry (values kept as JSON) can hold no
 * value that inner selects: inner requires "type eq T" and "value eq V",
 * another entry of the attribute stores type T in one LDAP attribute, and V
 * fits that attribute's syntax. The gateway writes such a value there
 * (mapping_write.c, multi_group), keeping a value of type T as JSON only when
 * the attribute cannot hold it (its syntax: then it never equals V, SCIM
 * folding ASCII only) or when it carries sub-attributes of its own (kept by
 * the unknown_attributes policy; README.md "Filters" says so). So the IdPs'
 * look-up emails[type eq "work" and value eq ...] stays (mail=...). */
static bool catch_all_excluded(const fctx *c, const s2l_schema *full, const s2l_attr_def *top,
                               const s2l_filter *inner)
{
    const char *t = pinned_eq(inner, "type"), *v = pinned_eq(inner, "value");
    if (c->strict || c->mode != MODE_SPLIT || t == NULL || v == NULL)
        return false;
    for (size_t i = 0; i < c->rm->n_entries; i++) {
        const s2l_mentry *me = &c->rm->entries[i];
        if (!s2l_mentry_stores(me, full, top) || me->kind != S2L_ME_MULTI || me->catch_all || me->read_only ||
            me->ldap == NULL || me->type == NULL || strcasecmp(me->type, t) != 0)
            continue;
        return s2l_ldap_value_fits(s2l_ldap_syntax_of(me->ldap), v, strlen(v));
    }
    return false;
}

static int tr_valuepath(fctx *c, const s2l_filter *f, bnd *out)
{
    const s2l_schema *view = NULL;
    const s2l_attr_def *top;

    if (c->slot != NULL || c->vp_top != NULL)
        return INVALID(c, "%s: value filters cannot be nested", f->path.attr);
    c->cur = f;
    top = s2l_rtype_find(&c->rm->rt, f->path.urn, f->path.attr, NULL, &view);
    if (top == NULL || top->type != S2L_T_COMPLEX || s2l_attr_is_common(top))
        return INVALID(c, "%s: not a mapped complex attribute", f->path.attr);
    if (!top->multi_valued) {
        fctx c2 = *c;
        c2.vp_top = top;
        c2.vp_view = view;
        return tr(&c2, f->left, out);
    }
    const s2l_schema *full = s2l_rmap_full_schema(c->rm, view);
    *out = s2l_mf_bconst(false);
    for (size_t i = 0; i < c->rm->n_entries; i++) {
        const s2l_mentry *me = &c->rm->entries[i];
        bnd inner, has;
        int rc;
        if (!s2l_mentry_stores(me, full, top) || (me->catch_all && catch_all_excluded(c, full, top, f->left)))
            continue;
        fctx c2 = *c;
        c2.slot = me;
        c2.slot_view = top;
        rc = tr(&c2, f->left, &inner);
        if (rc < 0)
            goto fail;
        c->cur = f;
        /* a value of this entry must exist, unless the inner filter already
         * asserts a value of one of its attributes */
        bool implied = c->mode == MODE_SPLIT ? inner.has_value
                                              : implies_value(me, &inner.up) &&
                                                    (inner.lo.k == LF_FALSE || implies_value(me, &inner.lo));
        if (!implied) {
            if (has_values(c, me, &has) < 0) {
                s2l_mf_bfree(&inner);
                goto fail;
            }
            if (s2l_mf_band(c, has, inner, &inner) < 0)
                goto fail;
        }
        inner.elem = false;
        if (s2l_mf_bor(c, *out, inner, out) < 0)
            return -1;
    }
    return 0;
fail:
    s2l_mf_bfree(out);
    return -1;
}

/* "not" of a, for the resource or (inside attr[...]) for one value. */
static int negate(fctx *c, bnd a, bnd *out)
{
    if (c->slot != NULL)
        return slot_combine(c, S2L_F_NOT, a, NULL, out);
    return s2l_mf_bnot(c, a, out);
}

/* A comparison. The split asks the leaves only positive questions: "ne x" is
 * "not (eq x)" and "eq null" is "not pr", negated where the negation belongs —
 * over every LDAP attribute holding the SCIM attribute (a number that is
 * neither the work nor the mobile nor the fax one), or per value inside
 * attr[...]. The legacy translation keeps its per-leaf forms. */
static int tr_leaf(fctx *c, const s2l_filter *f, bnd *out)
{
    c->cur = f;
    if (c->mode == MODE_LEGACY || f->kind == S2L_F_PRESENT)
        return tr_cmp(c, f, out);
    s2l_filter pos = *f;
    bool neg = false;
    if (f->value == NULL || json_is_null(f->value)) {
        if (f->op != S2L_OP_EQ && f->op != S2L_OP_NE)
            return INVALID(c, "%s: null can only be compared with eq or ne", f->path.attr);
        pos.kind = S2L_F_PRESENT;
        neg = f->op == S2L_OP_EQ;
    } else if (f->op == S2L_OP_NE) {
        pos.op = S2L_OP_EQ;
        neg = true;
    }
    bnd r;
    if (tr_cmp(c, &pos, &r) < 0)
        return -1;
    c->cur = f;
    return neg ? negate(c, r, out) : (*out = r, 0);
}

static int tr(fctx *c, const s2l_filter *f, bnd *out)
{
    bnd a, b;

    switch (f->kind) {
    case S2L_F_AND:
    case S2L_F_OR:
        if (tr(c, f->left, &a) < 0)
            return -1;
        if (tr(c, f->right, &b) < 0) {
            s2l_mf_bfree(&a);
            return -1;
        }
        if (c->slot != NULL)
            return slot_combine(c, f->kind, a, &b, out);
        return f->kind == S2L_F_AND ? s2l_mf_band(c, a, b, out) : s2l_mf_bor(c, a, b, out);
    case S2L_F_NOT:
        if (tr(c, f->left, &a) < 0)
            return -1;
        return negate(c, a, out);
    case S2L_F_CMP:
    case S2L_F_PRESENT:
        return tr_leaf(c, f, out);
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
        s2l_mf_free(&r);
        s2l_mf_oom(c);
        return NULL;
    }
    if (r.k == LF_FALSE) {
        /* kept as a real filter: callers may still want to send it (Entra's keep-alive) */
        s2l_mf_free(&obj);
        s2l_strbuf b = {0};
        s2l_sb_adds(&b, "(&");
        s2l_sb_adds(&b, c->rm->object_filter);
        s2l_sb_adds(&b, "(!(objectClass=*)))");
        char *s = s2l_sb_take(&b);
        if (s == NULL)
            s2l_mf_oom(c);
        return s;
    }
    if (s2l_mf_join(c, '&', obj, r, &out) < 0)
        return NULL;
    return out.s;
}

char *s2l_rmap_ldap_filter(const s2l_rmap *rm, const s2l_filter *f, const json_t *ids, s2l_error *err)
{
    fctx c = {.rm = rm, .ids = ids, .err = err, .mode = MODE_LEGACY};
    bnd r = s2l_mf_bconst(true);

    if (f != NULL && tr(&c, f, &r) < 0)
        return NULL;
    s2l_mf_free(&r.lo);
    return with_object_filter(&c, r.up);
}

void s2l_filter_split_fini(s2l_filter_split *s)
{
    if (s == NULL)
        return;
    free(s->ldap_filter);
    free(s->not_pushed);
    s->ldap_filter = s->not_pushed = NULL;
    s->residue = false;
}

/* "<comparison> (<attr>[, <rule>]: <why>); ..." for the notes in l, each
 * once, at most 4 (then "and N more"). */
static char *notes_text(const fnotes *ns, nlist l)
{
    s2l_strbuf b = {0};
    size_t shown = 0, more = 0;
    char tail[48];

    for (int i = l.head; i >= 0; i = ns->v[i].next) {
        const fnote *n = &ns->v[i];
        bool dup = false;
        for (int k = l.head; k != i; k = ns->v[k].next)
            dup |= ns->v[k].f == n->f && ns->v[k].attr == n->attr && ns->v[k].why == n->why;
        if (dup)
            continue;
        if (shown == 4) {
            more++;
            continue;
        }
        char *text = n->f ? s2l_filter_to_string(n->f) : NULL;
        if (shown++)
            s2l_sb_adds(&b, "; ");
        s2l_sb_adds(&b, text ? text : "a comparison");
        free(text);
        s2l_sb_adds(&b, " (");
        if (n->attr) {
            s2l_sb_adds(&b, n->attr);
            if (n->kind >= 0) {
                s2l_sb_adds(&b, ", ");
                s2l_sb_adds(&b, s2l_mr_kind_name((s2l_mr_kind)n->kind));
            }
            s2l_sb_adds(&b, ": ");
        }
        s2l_sb_adds(&b, n->why);
        s2l_sb_adds(&b, ")");
    }
    if (more) {
        snprintf(tail, sizeof tail, "; and %zu more", more);
        s2l_sb_adds(&b, tail);
    }
    return s2l_sb_take(&b);
}

int s2l_rmap_split_filter(const s2l_rmap *rm, const s2l_filter *f, const json_t *ids, unsigned flags,
                          s2l_filter_split *out, s2l_error *err)
{
    fnotes notes = {0};
    fctx c = {.rm = rm, .ids = ids, .err = err, .mode = MODE_SPLIT, .strict = (flags & S2L_SPLIT_STRICT) != 0,
              .notes = &notes};
    bnd r = s2l_mf_bconst(true);
    int rc = -1;

    memset(out, 0, sizeof *out);
    if (f != NULL && tr(&c, f, &r) < 0)
        goto done;
    out->residue = (flags & S2L_SPLIT_STRICT) ? !r.exact : !r.trusted;
    /* what keeps it from being exact: comparisons LDAP does not decide even on
     * trust, and, when strict, those it decides on trust only */
    nlist why = r.why;
    if (flags & S2L_SPLIT_STRICT)
        why = nl_cat(&c, why, r.why_trust);
    s2l_mf_free(&r.lo);
    out->ldap_filter = with_object_filter(&c, r.up);
    if (out->ldap_filter == NULL)
        goto done;
    if (out->residue && (out->not_pushed = notes_text(&notes, why)) == NULL) {
        s2l_mf_oom(&c);
        goto done;
    }
    rc = 0;
done:
    free(notes.v);
    if (rc < 0)
        s2l_filter_split_fini(out);
    return rc;
}

bool s2l_rmap_filter_match(const s2l_rmap *rm, const s2l_filter *f, const json_t *resource)
{
    return f == NULL || s2l_filter_match(f, resource, &rm->rt, NULL);
}

/* ---- attributes a filter needs ---- */

static void collect_names(const s2l_filter *f, bool in_vp, s2l_strbuf *b)
{
    if (f == NULL)
        return;
    switch (f->kind) {
    case S2L_F_AND:
    case S2L_F_OR:
        collect_names(f->left, in_vp, b);
        collect_names(f->right, in_vp, b);
        return;
    case S2L_F_NOT:
        collect_names(f->left, in_vp, b);
        return;
    case S2L_F_VALUEPATH:
    case S2L_F_CMP:
    case S2L_F_PRESENT:
        if (!in_vp) {
            if (b->len)
                s2l_sb_adds(b, ",");
            if (f->path.urn) {
                s2l_sb_adds(b, f->path.urn);
                s2l_sb_adds(b, ":");
            }
            s2l_sb_adds(b, f->path.attr);
        }
        if (f->kind == S2L_F_VALUEPATH)
            collect_names(f->left, true, b);
        return;
    }
}

char **s2l_rmap_filter_attrs(const s2l_rmap *rm, const s2l_filter *f)
{
    s2l_strbuf b = {0};
    s2l_error err;

    collect_names(f, false, &b);
    if (b.len == 0)
        s2l_sb_adds(&b, "id"); /* the id, meta and RDN attributes only */
    char *list = s2l_sb_take(&b);
    if (list == NULL)
        return NULL;
    s2l_projection *p = s2l_projection_parse(&rm->rt, list, NULL, &err);
    free(list);
    /* a name no projection knows is one the split refuses anyway */
    char **v = s2l_rmap_read_attrs(rm, p);
    s2l_projection_destroy(p);
    return v;
}

/* ---- the id and membership filters ---- */

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
                s2l_mf_free(&r);
                return NULL;
            }
            int rc = s2l_mf_leaf(&c, me->ldap, "=", "", val, len, "", &one);
            free(attr);
            free(val);
            if (rc < 0) {
                s2l_mf_free(&r);
                return NULL;
            }
        } else if (s2l_mf_leaf(&c, me->ldap, "=", "", member_dn, strlen(member_dn), "", &one) < 0) {
            s2l_mf_free(&r);
            return NULL;
        }
        if (s2l_mf_join(&c, '|', r, one, &r) < 0)
            return NULL;
    }
    if (!any)
        return NULL;
    return with_object_filter(&c, r);
}

/* ---- reference ids in a filter ---- */

static bool is_reference(const s2l_rmap *rm, const s2l_attr_def *top, const s2l_schema *view)
{
    const s2l_schema *full = s2l_rmap_full_schema(rm, view);
    for (size_t i = 0; top && full && i < rm->n_entries; i++)
        if (rm->entries[i].kind == S2L_ME_REFERENCE && s2l_mentry_stores(&rm->entries[i], full, top))
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
