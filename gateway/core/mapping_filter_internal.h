/* mapping_filter_internal.h — what mapping_filter.c (the translator: names,
 * value paths, and/or/not) and mapping_filter_leaf.c (one comparison on one
 * LDAP attribute, per its matching rules) share. Not a public interface.
 *
 * A translated (sub)filter is a pair of bounds on the set of entries the SCIM
 * filter selects:
 *   up  a superset: what LDAP is asked (never narrower than the truth);
 *   lo  a subset: what a negation of it asks (not lo is a superset of not x);
 * with two flags: exact (up = lo for any directory content) and trusted (up
 * is exact for a directory holding values the way the gateway writes them,
 * see S2L_SPLIT_STRICT in mapping.h). and/or combine bounds pointwise; not
 * swaps them, so "trusted" never survives a negation. The legacy translation
 * (s2l_rmap_ldap_filter) builds every leaf as exact, which makes up its old
 * output unchanged.
 *
 * Ownership: an lf owns its text; functions taking an lf or bnd by value
 * consume it (also on failure).
 */
#ifndef S2L_MAPPING_FILTER_INTERNAL_H
#define S2L_MAPPING_FILTER_INTERNAL_H

#include "mapping_internal.h"

typedef enum { LF_FALSE, LF_TRUE, LF_TEXT } lf_kind;

typedef struct lf {
    lf_kind k;
    char *s;                    /* LF_TEXT: one parenthesised filter (owned) */
} lf;

/* A list of notes (indexes into fnotes.v, -1 = none). */
typedef struct nlist {
    int head, tail;
} nlist;

typedef struct bnd {
    lf up, lo;
    bool exact, trusted;
    bool elem;                  /* inside attr[...]: depends on which value is looked at (not a constant) */
    bool has_value;             /* inside attr[...]: up holds only for entries with a value of the entry evaluated */
    nlist why;                  /* what keeps it from being exact even on trust */
    nlist why_trust;            /* what keeps it from being exact on any directory content */
} bnd;

typedef enum { MODE_LEGACY, MODE_SPLIT } tr_mode;

/* Why a comparison is not decided exactly by LDAP: the comparison, the LDAP
 * attribute and a reason (all borrowed: the filter, the mapping, static text). */
typedef struct fnote {
    const s2l_filter *f;
    const char *attr;
    const char *why;
    int kind;                   /* an s2l_mr_kind to name, or -1 */
    int next;
} fnote;

typedef struct fnotes {
    fnote *v;
    size_t n, cap;
} fnotes;

typedef struct fctx {
    const s2l_rmap *rm;
    const json_t *ids;
    s2l_error *err;
    tr_mode mode;
    bool strict;                     /* S2L_SPLIT_STRICT: nothing trusted (see tr_valuepath) */
    const s2l_filter *cur;           /* the comparison being translated (for notes) */
    fnotes *notes;                   /* shared by the copies made for value paths; NULL: none kept */
    const char *cur_attr;            /* the LDAP attribute being compared (for notes) */
    const s2l_mentry *slot;          /* inside attr[...] of a multi-valued attribute: the entry evaluated */
    const s2l_attr_def *slot_view;   /* that attribute in the view */
    const s2l_attr_def *vp_top;      /* inside attr[...] of a single-valued complex attribute */
    const s2l_schema *vp_view;       /* the view vp_top belongs to */
} fctx;

/* 400 invalidFilter; evaluates to -1 so that callers can "return INVALID(...)". */
#define INVALID(c, ...) (s2l_error_set((c)->err, 400, S2L_SCIM_INVALID_FILTER, __VA_ARGS__), -1)

int s2l_mf_oom(fctx *c);

/* ---- LDAP filter text ---- */

/* "(<attr><op><pre><escaped value><post>)"; val NULL: no value. */
int s2l_mf_leaf(fctx *c, const char *attr, const char *op, const char *pre, const char *val, size_t len,
                const char *post, lf *out);
int s2l_mf_present(fctx *c, const char *attr, lf *out);
int s2l_mf_join(fctx *c, char op, lf a, lf b, lf *out);
int s2l_mf_not(fctx *c, lf a, lf *out);
lf s2l_mf_const(bool v);
void s2l_mf_free(lf *x);

/* ---- bounds ---- */

/* up = lo = x (consumed). */
int s2l_mf_exact(fctx *c, lf x, bnd *out);
/* A constant: exact. */
bnd s2l_mf_bconst(bool v);
/* Only up is known: lo is false; trusted says whether up is exact on trust.
 * why (static text) says why, about LDAP attribute attr (may be NULL); kind,
 * when not -1, is the matching rule to name. */
int s2l_mf_upper(fctx *c, lf up, bool trusted, const char *attr, const char *why, int kind, bnd *out);
/* Both bounds known, not exact (noted like s2l_mf_upper). */
int s2l_mf_bounds(fctx *c, lf up, lf lo, bool trusted, const char *attr, const char *why, int kind, bnd *out);
int s2l_mf_band(fctx *c, bnd a, bnd b, bnd *out);
int s2l_mf_bor(fctx *c, bnd a, bnd b, bnd *out);
int s2l_mf_bnot(fctx *c, bnd a, bnd *out);
void s2l_mf_bfree(bnd *b);

/* ---- shared helpers ---- */

/* LDAP attribute i of entry me (each sub-attribute's one or two, then its
 * own); NULL for an absent slot; *end once past the last. */
const char *s2l_mf_entry_attr(const s2l_mentry *me, size_t i, bool *end);

/* The comparison value as LDAP text for an attribute of type t (dateTimes
 * become GeneralizedTime); 400 for a value of the wrong type. */
int s2l_mf_value_text(fctx *c, const s2l_filter *f, s2l_attr_type t, char **out, size_t *len);

/* A comparison the mapping answers itself (a fixed type, a resource type name),
 * honouring caseExact. */
int s2l_mf_const_cmp(fctx *c, const char *have, bool case_exact, const s2l_filter *f, bool *res);

/* ---- one comparison on one LDAP attribute, by its capabilities (mapping_filter_leaf.c) ----
 * The split hands these functions "pr" and eq/co/sw/ew/gt/ge/lt/le with a
 * non-null value only: "ne x" is "not (eq x)" and "eq null" is "not pr", built
 * by the caller where the negation belongs (the resource, or one value). */

/* f on the values of LDAP attribute attr with capabilities
 * caps, holding SCIM leaf def (type, caseExact). reads_all: every LDAP value
 * is a SCIM value (a multi-valued attribute), else only the first is. */
int s2l_mf_split_cmp(fctx *c, const char *attr, const s2l_ldap_caps *caps, const s2l_attr_def *def, bool reads_all,
                     const s2l_filter *f, bnd *out);
/* A boolean per its LDAP representation (me->boolean). */
int s2l_mf_split_bool(fctx *c, const s2l_mentry *me, const s2l_filter *f, bnd *out);
/* value eq/ne of a reference (ids resolved to DNs), presence, other operators. */
int s2l_mf_split_ref(fctx *c, const s2l_mentry *me, const s2l_filter *f, bnd *out);
/* "this entry holds at least one value" for multi-valued entry me. */
int s2l_mf_split_has(fctx *c, const s2l_mentry *me, bnd *out);

#endif
