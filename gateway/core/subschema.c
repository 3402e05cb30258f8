/* subschema.c — RFC 4512 schema descriptions: parsing, SUP resolution,
 * lookups, what matching rules and syntaxes mean (see include/s2l/subschema.h).
 *
 * A description is tokenised (parentheses, "$", quoted strings, bare words),
 * then read as "( oid KEYWORD value ... )". Unknown keywords are skipped with
 * their value, so extensions and server quirks cost nothing. Lookups go
 * through name indexes sorted once by s2l_subschema_finish.
 */
#include "s2l/subschema.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One name (or OID) → position in the descriptions array. */
typedef struct name_ix {
    const char *name;
    size_t pos;
} name_ix;

typedef struct name_index {
    name_ix *v;
    size_t n;
} name_index;

struct s2l_subschema {
    void **attrs;               /* s2l_ldap_attr_type * (void * so one add_desc serves all three) */
    size_t n_attrs, cap_attrs;
    void **classes;             /* s2l_ldap_object_class * */
    size_t n_classes, cap_classes;
    void **rules;               /* s2l_ldap_matching_rule * */
    size_t n_rules, cap_rules;
    name_index attr_ix, class_ix, rule_ix;
    bool finished;
    bool any_rule;              /* some attribute type declares a matching rule */
};

/* ---- tokens ---- */

typedef enum { T_END, T_LPAREN, T_RPAREN, T_DOLLAR, T_QSTRING, T_WORD, T_BAD } tok_kind;

typedef struct lexer {
    const char *s;
    size_t n, pos;
    tok_kind kind;
    size_t start, len;          /* the token's text (inside the quotes for T_QSTRING) */
} lexer;

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void next(lexer *lx)
{
    while (lx->pos < lx->n && is_space(lx->s[lx->pos]))
        lx->pos++;
    lx->start = lx->pos;
    lx->len = 0;
    if (lx->pos >= lx->n) {
        lx->kind = T_END;
        return;
    }
    char c = lx->s[lx->pos];
    if (c == 0) {
        lx->kind = T_BAD;
        return;
    }
    if (c == '(' || c == ')' || c == '$') {
        lx->kind = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : T_DOLLAR;
        lx->len = 1;
        lx->pos++;
        return;
    }
    if (c == '\'') {
        size_t e = lx->pos + 1;
        while (e < lx->n && lx->s[e] != '\'')
            e++;
        if (e >= lx->n) {
            lx->kind = T_BAD;
            return;
        }
        lx->kind = T_QSTRING;
        lx->start = lx->pos + 1;
        lx->len = e - lx->start;
        lx->pos = e + 1;
        return;
    }
    size_t e = lx->pos;
    while (e < lx->n && lx->s[e] != 0 && !is_space(lx->s[e]) && lx->s[e] != '(' && lx->s[e] != ')' &&
           lx->s[e] != '$' && lx->s[e] != '\'')
        e++;
    lx->kind = T_WORD;
    lx->len = e - lx->pos;
    lx->pos = e;
}

static bool tok_is(const lexer *lx, const char *kw)
{
    return lx->kind == T_WORD && strlen(kw) == lx->len && strncasecmp(lx->s + lx->start, kw, lx->len) == 0;
}

/* The token's text, with RFC 4512 qdstring escapes (\27 \5C) undone in quoted strings. */
static char *tok_dup(const lexer *lx)
{
    char *out = malloc(lx->len + 1);
    size_t o = 0;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < lx->len; i++) {
        const char *p = lx->s + lx->start + i;
        if (lx->kind == T_QSTRING && p[0] == '\\' && i + 2 < lx->len && isxdigit((unsigned char)p[1]) &&
            isxdigit((unsigned char)p[2])) {
            char hex[3] = {p[1], p[2], 0};
            out[o++] = (char)strtol(hex, NULL, 16);
            i += 2;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = 0;
    return out;
}

/* ---- parse state ---- */

typedef struct parse {
    lexer lx;
    s2l_error *err;
    const char *what;           /* "attribute type", for messages */
    bool oom;
} parse;

static int fail(parse *p, const char *expected)
{
    if (p->oom) {
        s2l_error_set(p->err, 500, NULL, "out of memory");
        return -1;
    }
    const char *got = p->lx.kind == T_END ? "end of text" : p->lx.kind == T_BAD ? "an unterminated or empty token"
                                                                                 : NULL;
    if (got)
        s2l_error_set(p->err, 400, NULL, "%s description: %s at offset %zu (expected %s)", p->what, got,
                      p->lx.start, expected);
    else
        s2l_error_set(p->err, 400, NULL, "%s description: unexpected '%.*s' at offset %zu (expected %s)", p->what,
                      (int)(p->lx.len > 40 ? 40 : p->lx.len), p->lx.s + p->lx.start, p->lx.start, expected);
    return -1;
}

static int push_str(parse *p, char ***v, size_t *n)
{
    char **nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (nv == NULL) {
        p->oom = true;
        return -1;
    }
    *v = nv;
    if ((nv[*n] = tok_dup(&p->lx)) == NULL) {
        p->oom = true;
        return -1;
    }
    (*n)++;
    return 0;
}

/* A single value: a word or a quoted string (Samba quotes OIDs). */
static int one(parse *p, char **out, const char *expected)
{
    if (p->lx.kind != T_WORD && p->lx.kind != T_QSTRING)
        return fail(p, expected);
    free(*out);
    if ((*out = tok_dup(&p->lx)) == NULL) {
        p->oom = true;
        return fail(p, expected);
    }
    next(&p->lx);
    return 0;
}

/* oid / "(" oid *( "$" oid ) ")"; also qdescrs: 'a' / "(" 'a' 'b' ")". Separators are optional. */
static int list(parse *p, char ***v, size_t *n, const char *expected)
{
    if (p->lx.kind == T_WORD || p->lx.kind == T_QSTRING) {
        if (push_str(p, v, n) < 0)
            return fail(p, expected);
        next(&p->lx);
        return 0;
    }
    if (p->lx.kind != T_LPAREN)
        return fail(p, expected);
    next(&p->lx);
    while (p->lx.kind != T_RPAREN) {
        if (p->lx.kind == T_DOLLAR) {
            next(&p->lx);
            continue;
        }
        if (p->lx.kind != T_WORD && p->lx.kind != T_QSTRING)
            return fail(p, expected);
        if (push_str(p, v, n) < 0)
            return fail(p, expected);
        next(&p->lx);
    }
    next(&p->lx);
    return 0;
}

/* Skips the value of an unknown keyword: nothing (a flag), one token or a list. */
static int skip_value(parse *p)
{
    if (p->lx.kind == T_QSTRING) {
        next(&p->lx);
        return 0;
    }
    if (p->lx.kind == T_LPAREN) {
        int depth = 0;
        do {
            if (p->lx.kind == T_LPAREN)
                depth++;
            else if (p->lx.kind == T_RPAREN)
                depth--;
            else if (p->lx.kind == T_END || p->lx.kind == T_BAD)
                return fail(p, "')'");
            next(&p->lx);
        } while (depth > 0);
    }
    /* a bare word after an unknown keyword is taken as the next keyword */
    return 0;
}

/* Starts a description: "(" oid. */
static int open_desc(parse *p, const char *text, size_t len, s2l_error *err, const char *what, char **oid)
{
    memset(p, 0, sizeof *p);
    p->lx.s = text;
    p->lx.n = len;
    p->err = err;
    p->what = what;
    next(&p->lx);
    if (p->lx.kind != T_LPAREN)
        return fail(p, "'('");
    next(&p->lx);
    return one(p, oid, "an OID");
}

static int close_desc(parse *p)
{
    /* after ")" only blanks may follow */
    next(&p->lx);
    if (p->lx.kind != T_END)
        return fail(p, "end of text");
    return 0;
}

/* An OID or a descriptor: RFC 4512 keystrings and numericoids, with the "_"
 * and "." real servers also use; what else a name holds (";" starts
 * attribute options) would make it impossible to look up. */
static bool valid_name(const char *s)
{
    if (s == NULL || *s == 0)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_' || *s == '.'))
            return false;
    return true;
}

/* The OID and names of a description must be names (see valid_name). */
static int check_names(parse *p, const char *oid, char *const *names, size_t n)
{
    if (!valid_name(oid)) {
        s2l_error_set(p->err, 400, NULL, "%s description: \"%.40s\" at offset 0 is not an OID", p->what, oid);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!valid_name(names[i])) {
            s2l_error_set(p->err, 400, NULL, "%s description: NAME \"%.40s\" at offset 0 is not a name", p->what,
                          names[i]);
            return -1;
        }
    return 0;
}

/* ---- descriptions ---- */

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void attr_free(s2l_ldap_attr_type *a)
{
    if (a == NULL)
        return;
    free(a->oid);
    strv_free(a->names, a->n_names);
    free(a->desc);
    free(a->sup);
    free(a->equality);
    free(a->ordering);
    free(a->substr);
    free(a->syntax);
    free(a);
}

static void class_free(s2l_ldap_object_class *c)
{
    if (c == NULL)
        return;
    free(c->oid);
    strv_free(c->names, c->n_names);
    free(c->desc);
    strv_free(c->sups, c->n_sups);
    strv_free(c->must, c->n_must);
    strv_free(c->may, c->n_may);
    free(c);
}

static void rule_free(s2l_ldap_matching_rule *r)
{
    if (r == NULL)
        return;
    free(r->oid);
    strv_free(r->names, r->n_names);
    free(r->syntax);
    free(r);
}

/* "1.3.6.1.4.1.1466.115.121.1.15{256}" → OID and bound. */
static void split_noidlen(char *syntax, unsigned *len)
{
    char *b = syntax ? strchr(syntax, '{') : NULL;
    *len = 0;
    if (b == NULL)
        return;
    *b = 0;
    unsigned long v = strtoul(b + 1, NULL, 10);
    *len = v > UINT32_MAX ? UINT32_MAX : (unsigned)v;
}

static int parse_attr(const char *text, size_t len, s2l_error *err, s2l_ldap_attr_type **out)
{
    parse p;
    s2l_ldap_attr_type *a = calloc(1, sizeof *a);
    *out = NULL;
    if (a == NULL) {
        s2l_error_set(err, 500, NULL, "out of memory");
        return -1;
    }
    if (open_desc(&p, text, len, err, "attribute type", &a->oid) < 0)
        goto bad;
    while (p.lx.kind != T_RPAREN) {
        int rc = 0;
        if (p.lx.kind != T_WORD) {
            fail(&p, "a keyword or ')'");
            goto bad;
        }
        if (tok_is(&p.lx, "NAME")) {
            next(&p.lx);
            rc = list(&p, &a->names, &a->n_names, "a name");
        } else if (tok_is(&p.lx, "DESC")) {
            next(&p.lx);
            rc = one(&p, &a->desc, "a quoted description");
        } else if (tok_is(&p.lx, "OBSOLETE")) {
            next(&p.lx);
            a->obsolete = true;
        } else if (tok_is(&p.lx, "SUP")) {
            next(&p.lx);
            rc = one(&p, &a->sup, "a supertype");
        } else if (tok_is(&p.lx, "EQUALITY")) {
            next(&p.lx);
            rc = one(&p, &a->equality, "a matching rule");
        } else if (tok_is(&p.lx, "ORDERING")) {
            next(&p.lx);
            rc = one(&p, &a->ordering, "a matching rule");
        } else if (tok_is(&p.lx, "SUBSTR")) {
            next(&p.lx);
            rc = one(&p, &a->substr, "a matching rule");
        } else if (tok_is(&p.lx, "SYNTAX")) {
            next(&p.lx);
            rc = one(&p, &a->syntax, "a syntax OID");
            split_noidlen(a->syntax, &a->syntax_len);
        } else if (tok_is(&p.lx, "SINGLE-VALUE")) {
            next(&p.lx);
            a->single_value = true;
        } else if (tok_is(&p.lx, "COLLECTIVE")) {
            next(&p.lx);
            a->collective = true;
        } else if (tok_is(&p.lx, "NO-USER-MODIFICATION")) {
            next(&p.lx);
            a->no_user_modification = true;
        } else if (tok_is(&p.lx, "USAGE")) {
            next(&p.lx);
            if (tok_is(&p.lx, "userApplications"))
                a->usage = S2L_AT_USER_APPLICATIONS;
            else if (tok_is(&p.lx, "directoryOperation"))
                a->usage = S2L_AT_DIRECTORY_OPERATION;
            else if (tok_is(&p.lx, "distributedOperation"))
                a->usage = S2L_AT_DISTRIBUTED_OPERATION;
            else if (tok_is(&p.lx, "dSAOperation"))
                a->usage = S2L_AT_DSA_OPERATION;
            else {
                fail(&p, "a usage");
                goto bad;
            }
            next(&p.lx);
        } else {
            next(&p.lx);
            rc = skip_value(&p);
        }
        if (rc < 0)
            goto bad;
    }
    if (close_desc(&p) < 0 || check_names(&p, a->oid, a->names, a->n_names) < 0)
        goto bad;
    *out = a;
    return 0;
bad:
    attr_free(a);
    return -1;
}

static int parse_class(const char *text, size_t len, s2l_error *err, s2l_ldap_object_class **out)
{
    parse p;
    s2l_ldap_object_class *c = calloc(1, sizeof *c);
    *out = NULL;
    if (c == NULL) {
        s2l_error_set(err, 500, NULL, "out of memory");
        return -1;
    }
    c->kind = S2L_OC_STRUCTURAL;
    if (open_desc(&p, text, len, err, "object class", &c->oid) < 0)
        goto bad;
    while (p.lx.kind != T_RPAREN) {
        int rc = 0;
        if (p.lx.kind != T_WORD) {
            fail(&p, "a keyword or ')'");
            goto bad;
        }
        if (tok_is(&p.lx, "NAME")) {
            next(&p.lx);
            rc = list(&p, &c->names, &c->n_names, "a name");
        } else if (tok_is(&p.lx, "DESC")) {
            next(&p.lx);
            rc = one(&p, &c->desc, "a quoted description");
        } else if (tok_is(&p.lx, "OBSOLETE")) {
            next(&p.lx);
            c->obsolete = true;
        } else if (tok_is(&p.lx, "SUP")) {
            next(&p.lx);
            rc = list(&p, &c->sups, &c->n_sups, "a superclass");
        } else if (tok_is(&p.lx, "ABSTRACT")) {
            next(&p.lx);
            c->kind = S2L_OC_ABSTRACT;
        } else if (tok_is(&p.lx, "STRUCTURAL")) {
            next(&p.lx);
            c->kind = S2L_OC_STRUCTURAL;
        } else if (tok_is(&p.lx, "AUXILIARY")) {
            next(&p.lx);
            c->kind = S2L_OC_AUXILIARY;
        } else if (tok_is(&p.lx, "MUST")) {
            next(&p.lx);
            rc = list(&p, &c->must, &c->n_must, "attribute types");
        } else if (tok_is(&p.lx, "MAY")) {
            next(&p.lx);
            rc = list(&p, &c->may, &c->n_may, "attribute types");
        } else {
            next(&p.lx);
            rc = skip_value(&p);
        }
        if (rc < 0)
            goto bad;
    }
    if (close_desc(&p) < 0 || check_names(&p, c->oid, c->names, c->n_names) < 0)
        goto bad;
    *out = c;
    return 0;
bad:
    class_free(c);
    return -1;
}

static int parse_rule(const char *text, size_t len, s2l_error *err, s2l_ldap_matching_rule **out)
{
    parse p;
    s2l_ldap_matching_rule *r = calloc(1, sizeof *r);
    *out = NULL;
    if (r == NULL) {
        s2l_error_set(err, 500, NULL, "out of memory");
        return -1;
    }
    if (open_desc(&p, text, len, err, "matching rule", &r->oid) < 0)
        goto bad;
    while (p.lx.kind != T_RPAREN) {
        int rc = 0;
        if (p.lx.kind != T_WORD) {
            fail(&p, "a keyword or ')'");
            goto bad;
        }
        if (tok_is(&p.lx, "NAME")) {
            next(&p.lx);
            rc = list(&p, &r->names, &r->n_names, "a name");
        } else if (tok_is(&p.lx, "SYNTAX")) {
            next(&p.lx);
            unsigned ignored;
            rc = one(&p, &r->syntax, "a syntax OID");
            split_noidlen(r->syntax, &ignored);
        } else {
            next(&p.lx);
            rc = skip_value(&p);
        }
        if (rc < 0)
            goto bad;
    }
    if (close_desc(&p) < 0 || check_names(&p, r->oid, r->names, r->n_names) < 0)
        goto bad;
    *out = r;
    return 0;
bad:
    rule_free(r);
    return -1;
}

/* ---- the collection ---- */

s2l_subschema *s2l_subschema_create(void)
{
    return calloc(1, sizeof(s2l_subschema));
}

void s2l_subschema_destroy(s2l_subschema *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_attrs; i++)
        attr_free(s->attrs[i]);
    for (size_t i = 0; i < s->n_classes; i++)
        class_free(s->classes[i]);
    for (size_t i = 0; i < s->n_rules; i++)
        rule_free(s->rules[i]);
    free(s->attrs);
    free(s->classes);
    free(s->rules);
    free(s->attr_ix.v);
    free(s->class_ix.v);
    free(s->rule_ix.v);
    free(s);
}

/* Whether two descriptions denote the same thing: same OID or a shared name. */
static bool same_thing(const char *oid_a, char *const *names_a, size_t na, const char *oid_b, char *const *names_b,
                       size_t nb)
{
    if (strcasecmp(oid_a, oid_b) == 0)
        return true;
    for (size_t i = 0; i < na; i++)
        for (size_t k = 0; k < nb; k++)
            if (strcasecmp(names_a[i], names_b[k]) == 0)
                return true;
    return false;
}

/* The OID and names of one description (attribute type, object class or rule). */
typedef const char *names_of_fn(const void *item, char *const **names, size_t *n_names);

static const char *attr_names(const void *item, char *const **names, size_t *n)
{
    const s2l_ldap_attr_type *a = item;
    *names = a->names;
    *n = a->n_names;
    return a->oid;
}

static const char *class_names(const void *item, char *const **names, size_t *n)
{
    const s2l_ldap_object_class *c = item;
    *names = c->names;
    *n = c->n_names;
    return c->oid;
}

static const char *rule_names(const void *item, char *const **names, size_t *n)
{
    const s2l_ldap_matching_rule *r = item;
    *names = r->names;
    *n = r->n_names;
    return r->oid;
}

/* Appends item to the array, or replaces the description it redefines (same
 * OID or a shared name). Takes item; -1 on out of memory (item freed). */
static int add_desc(s2l_subschema *s, void ***arr, size_t *n, size_t *cap, void *item, names_of_fn *names_of,
                    void (*free_fn)(void *), s2l_error *err)
{
    char *const *names;
    size_t nn;
    const char *oid = names_of(item, &names, &nn);

    s->finished = false;
    for (size_t i = 0; i < *n; i++) {
        char *const *names2;
        size_t nn2;
        const char *oid2 = names_of((*arr)[i], &names2, &nn2);
        if (same_thing(oid, names, nn, oid2, names2, nn2)) {
            free_fn((*arr)[i]);
            (*arr)[i] = item;
            return 0;
        }
    }
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        void **p = realloc(*arr, nc * sizeof *p);
        if (p == NULL) {
            free_fn(item);
            s2l_error_set(err, 500, NULL, "out of memory");
            return -1;
        }
        *arr = p;
        *cap = nc;
    }
    (*arr)[(*n)++] = item;
    return 0;
}

static void attr_free_v(void *p) { attr_free(p); }
static void class_free_v(void *p) { class_free(p); }
static void rule_free_v(void *p) { rule_free(p); }

int s2l_subschema_add_attribute_type(s2l_subschema *s, const char *text, size_t len, s2l_error *err)
{
    s2l_ldap_attr_type *a;
    if (parse_attr(text, len, err, &a) < 0)
        return -1;
    return add_desc(s, &s->attrs, &s->n_attrs, &s->cap_attrs, a, attr_names, attr_free_v, err);
}

int s2l_subschema_add_object_class(s2l_subschema *s, const char *text, size_t len, s2l_error *err)
{
    s2l_ldap_object_class *c;
    if (parse_class(text, len, err, &c) < 0)
        return -1;
    return add_desc(s, &s->classes, &s->n_classes, &s->cap_classes, c, class_names, class_free_v, err);
}

int s2l_subschema_add_matching_rule(s2l_subschema *s, const char *text, size_t len, s2l_error *err)
{
    s2l_ldap_matching_rule *r;
    if (parse_rule(text, len, err, &r) < 0)
        return -1;
    return add_desc(s, &s->rules, &s->n_rules, &s->cap_rules, r, rule_names, rule_free_v, err);
}

/* ---- LDIF ---- */

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes base64 (blanks ignored) into a new buffer; NULL when malformed or out of memory. */
static char *b64_decode(const char *s, size_t n, size_t *out_len)
{
    char *out = malloc(n / 4 * 3 + 4);
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (is_space(s[i]))
            continue;
        if (s[i] == '=')
            break;
        int v = b64_value(s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = 0;
    *out_len = o;
    return out;
}

typedef int add_fn(s2l_subschema *s, const char *text, size_t len, s2l_error *err);

/* Which add function an LDIF attribute name calls (options ignored), or NULL. */
static add_fn *ldif_target(const char *name, size_t n)
{
    const char *semi = memchr(name, ';', n);
    if (semi)
        n = (size_t)(semi - name);
    if (n == 14 && strncasecmp(name, "attributeTypes", n) == 0)
        return s2l_subschema_add_attribute_type;
    if (n == 13 && strncasecmp(name, "objectClasses", n) == 0)
        return s2l_subschema_add_object_class;
    if (n == 13 && strncasecmp(name, "matchingRules", n) == 0)
        return s2l_subschema_add_matching_rule;
    return NULL;
}

/* One unfolded LDIF line "name: value" / "name:: base64". */
static int ldif_line(s2l_subschema *s, const char *line, size_t n, long *added, size_t *skipped, s2l_error *err,
                     bool *have_err)
{
    const char *colon = memchr(line, ':', n);
    if (n == 0 || line[0] == '#' || colon == NULL)
        return 0;
    add_fn *fn = ldif_target(line, (size_t)(colon - line));
    if (fn == NULL)
        return 0;
    const char *v = colon + 1;
    bool b64 = v < line + n && *v == ':';
    if (b64)
        v++;
    while (v < line + n && *v == ' ')
        v++;
    size_t vlen = (size_t)(line + n - v);
    char *decoded = NULL;
    if (b64) {
        decoded = b64_decode(v, vlen, &vlen);
        if (decoded == NULL) {
            (*skipped)++;
            return 0;
        }
        v = decoded;
    }
    s2l_error e = {0};
    int rc = fn(s, v, vlen, &e);
    free(decoded);
    if (rc < 0 && e.status == 500) {
        *err = e;
        return -1;
    }
    if (rc < 0) {
        (*skipped)++;
        if (!*have_err && err)
            *err = e;
        *have_err = true;
    } else {
        (*added)++;
    }
    return 0;
}

long s2l_subschema_add_ldif(s2l_subschema *s, const char *text, size_t len, size_t *skipped, s2l_error *err)
{
    size_t dummy = 0, i = 0;
    long added = 0;
    bool have_err = false;
    char *buf = NULL;
    size_t blen = 0, bcap = 0;
    s2l_error scratch = {0};

    if (skipped == NULL)
        skipped = &dummy;
    if (err == NULL)
        err = &scratch;
    *skipped = 0;
    while (i <= len) {
        size_t e = i;
        while (e < len && text[e] != '\n')
            e++;
        size_t ll = e - i;
        if (ll > 0 && text[i + ll - 1] == '\r')
            ll--;
        bool cont = ll > 0 && text[i] == ' ';
        if (!cont && blen > 0) {
            if (ldif_line(s, buf, blen, &added, skipped, err, &have_err) < 0) {
                free(buf);
                return -1;
            }
            blen = 0;
        }
        const char *piece = cont ? text + i + 1 : text + i;
        size_t plen = cont ? ll - 1 : ll;
        if (blen + plen + 1 > bcap) {
            size_t nc = bcap ? bcap : 256;
            while (nc < blen + plen + 1)
                nc *= 2;
            char *nb = realloc(buf, nc);
            if (nb == NULL) {
                free(buf);
                s2l_error_set(err, 500, NULL, "out of memory");
                return -1;
            }
            buf = nb;
            bcap = nc;
        }
        memcpy(buf + blen, piece, plen);
        blen += plen;
        buf[blen] = 0;
        if (e >= len)
            break;
        i = e + 1;
    }
    if (blen > 0 && ldif_line(s, buf, blen, &added, skipped, err, &have_err) < 0) {
        free(buf);
        return -1;
    }
    free(buf);
    return added;
}

long s2l_subschema_add_entry(s2l_subschema *s, const json_t *entry, size_t *skipped, s2l_error *err)
{
    size_t dummy = 0;
    long added = 0;
    bool have_err = false;
    const char *name;
    json_t *vals;
    s2l_error scratch = {0};

    if (skipped == NULL)
        skipped = &dummy;
    if (err == NULL)
        err = &scratch;
    *skipped = 0;
    json_object_foreach(json_object_get(entry, "attrs"), name, vals) {
        add_fn *fn = ldif_target(name, strlen(name));
        size_t i;
        json_t *v;
        if (fn == NULL)
            continue;
        if (json_is_string(vals))
            vals = json_pack("[O]", vals);
        else
            json_incref(vals);
        json_array_foreach(vals, i, v) {
            s2l_error e = {0};
            if (!json_is_string(v) || fn(s, json_string_value(v), json_string_length(v), &e) < 0) {
                if (e.status == 500) {
                    *err = e;
                    json_decref(vals);
                    return -1;
                }
                (*skipped)++;
                if (!have_err)
                    *err = e;
                have_err = true;
            } else {
                added++;
            }
        }
        json_decref(vals);
    }
    return added;
}

/* ---- indexes and resolution ---- */

static int ix_cmp(const void *a, const void *b)
{
    return strcasecmp(((const name_ix *)a)->name, ((const name_ix *)b)->name);
}

/* Builds a sorted (name|OID) → position index over n descriptions. */
static int build_index(name_index *ix, void *const *arr, size_t n, names_of_fn *names_of)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        char *const *names;
        size_t nn;
        names_of(arr[i], &names, &nn);
        total += 1 + nn;
    }
    name_ix *v = malloc((total ? total : 1) * sizeof *v);
    if (v == NULL)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char *const *names;
        size_t nn;
        v[k++] = (name_ix){names_of(arr[i], &names, &nn), i};
        for (size_t j = 0; j < nn; j++)
            if (valid_name(names[j]))
                v[k++] = (name_ix){names[j], i};
    }
    qsort(v, k, sizeof *v, ix_cmp);
    free(ix->v);
    ix->v = v;
    ix->n = k;
    return 0;
}

/* Position of name in ix, or SIZE_MAX; "cn;lang-de" is looked up as "cn". */
static size_t ix_find(const name_index *ix, const char *name)
{
    char buf[256];
    const char *semi;
    if (name == NULL || ix->v == NULL)
        return SIZE_MAX;
    if ((semi = strchr(name, ';')) != NULL) {
        size_t n = (size_t)(semi - name);
        if (n >= sizeof buf)
            return SIZE_MAX;
        memcpy(buf, name, n);
        buf[n] = 0;
        name = buf;
    }
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcasecmp(ix->v[mid].name, name);
        if (c == 0)
            return ix->v[mid].pos;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

/* Fills the effective fields of a (and its supertypes first). Each type is
 * resolved once (state: 0 not yet, 1 on the current chain, 2 done): a
 * supertype chain that loops back (a directory may send one) stops where it
 * would close, and a type resolved later never changes one resolved before,
 * so every effective field is the type's own or one of its supertypes'
 * along sup_type (fuzz_subschema checks exactly that). */
static void resolve_attr(s2l_subschema *s, s2l_ldap_attr_type *a, int depth, unsigned char *state, size_t self)
{
    if (state[self] == 2)
        return;
    state[self] = 1;
    const s2l_ldap_attr_type *sup = NULL;
    a->sup_type = NULL;
    if (a->sup != NULL && depth < 32) {
        size_t pos = ix_find(&s->attr_ix, a->sup);
        if (pos != SIZE_MAX && pos != self && state[pos] != 1) {
            s2l_ldap_attr_type *st = s->attrs[pos];
            resolve_attr(s, st, depth + 1, state, pos);
            sup = st;
        }
    }
    state[self] = 2;
    a->sup_type = sup;
    a->eff_equality = a->equality ? a->equality : sup ? sup->eff_equality : NULL;
    a->eff_ordering = a->ordering ? a->ordering : sup ? sup->eff_ordering : NULL;
    a->eff_substr = a->substr ? a->substr : sup ? sup->eff_substr : NULL;
    a->eff_syntax = a->syntax ? a->syntax : sup ? sup->eff_syntax : NULL;
    a->eff_syntax_len = a->syntax ? a->syntax_len : sup ? sup->eff_syntax_len : 0;
}

int s2l_subschema_finish(s2l_subschema *s)
{
    if (build_index(&s->attr_ix, s->attrs, s->n_attrs, attr_names) < 0 ||
        build_index(&s->class_ix, s->classes, s->n_classes, class_names) < 0 ||
        build_index(&s->rule_ix, s->rules, s->n_rules, rule_names) < 0)
        return -1;
    unsigned char *state = calloc(s->n_attrs ? s->n_attrs : 1, sizeof *state);
    if (state == NULL)
        return -1;
    s->any_rule = false;
    for (size_t i = 0; i < s->n_attrs; i++) {
        s2l_ldap_attr_type *a = s->attrs[i];
        resolve_attr(s, a, 0, state, i);
        s->any_rule |= a->equality || a->ordering || a->substr;
    }
    free(state);
    s->finished = true;
    return 0;
}

size_t s2l_subschema_attr_count(const s2l_subschema *s)
{
    return s ? s->n_attrs : 0;
}

size_t s2l_subschema_class_count(const s2l_subschema *s)
{
    return s ? s->n_classes : 0;
}

const s2l_ldap_attr_type *s2l_subschema_attr_at(const s2l_subschema *s, size_t i)
{
    return s && i < s->n_attrs ? s->attrs[i] : NULL;
}

const s2l_ldap_object_class *s2l_subschema_class_at(const s2l_subschema *s, size_t i)
{
    return s && i < s->n_classes ? s->classes[i] : NULL;
}

bool s2l_subschema_rules_unpublished(const s2l_subschema *s)
{
    return s != NULL && s->n_attrs > 0 && !s->any_rule;
}

const s2l_ldap_attr_type *s2l_subschema_attr(const s2l_subschema *s, const char *name_or_oid)
{
    size_t pos = s ? ix_find(&s->attr_ix, name_or_oid) : SIZE_MAX;
    return pos == SIZE_MAX ? NULL : s->attrs[pos];
}

const s2l_ldap_object_class *s2l_subschema_class(const s2l_subschema *s, const char *name_or_oid)
{
    size_t pos = s ? ix_find(&s->class_ix, name_or_oid) : SIZE_MAX;
    return pos == SIZE_MAX ? NULL : s->classes[pos];
}

const s2l_ldap_matching_rule *s2l_subschema_rule(const s2l_subschema *s, const char *name_or_oid)
{
    size_t pos = s ? ix_find(&s->rule_ix, name_or_oid) : SIZE_MAX;
    return pos == SIZE_MAX ? NULL : s->rules[pos];
}

bool s2l_ldap_attr_is(const s2l_ldap_attr_type *at, const char *name_or_oid)
{
    if (at == NULL || name_or_oid == NULL)
        return false;
    size_t n = strcspn(name_or_oid, ";");
    if (strlen(at->oid) == n && strncasecmp(at->oid, name_or_oid, n) == 0)
        return true;
    for (size_t i = 0; i < at->n_names; i++)
        if (strlen(at->names[i]) == n && strncasecmp(at->names[i], name_or_oid, n) == 0)
            return true;
    return false;
}

const char *s2l_ldap_attr_name(const s2l_ldap_attr_type *at)
{
    return at->n_names ? at->names[0] : at->oid;
}

/* ---- object classes with inheritance ---- */

typedef struct strset {
    const char **v;
    size_t n, cap;
    bool oom;
} strset;

static void set_add(strset *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcasecmp(st->v[i], name) == 0)
            return;
    if (st->n + 2 > st->cap) {
        size_t nc = st->cap ? st->cap * 2 : 32;
        const char **p = realloc(st->v, nc * sizeof *p);
        if (p == NULL) {
            st->oom = true;
            return;
        }
        st->v = p;
        st->cap = nc;
    }
    st->v[st->n++] = name;
    st->v[st->n] = NULL;
}

/* Visits oc and its superclasses once each (seen holds class positions). */
static void collect_class(const s2l_subschema *s, const s2l_ldap_object_class *oc, bool must, strset *out,
                          bool *seen, int depth)
{
    size_t pos = ix_find(&s->class_ix, oc->oid);
    if (pos == SIZE_MAX || seen[pos] || depth > 32)
        return;
    seen[pos] = true;
    char **list = must ? oc->must : oc->may;
    size_t n = must ? oc->n_must : oc->n_may;
    for (size_t i = 0; i < n; i++) {
        const s2l_ldap_attr_type *at = s2l_subschema_attr(s, list[i]);
        set_add(out, at ? s2l_ldap_attr_name(at) : list[i]);
    }
    for (size_t i = 0; i < oc->n_sups; i++) {
        const s2l_ldap_object_class *sup = s2l_subschema_class(s, oc->sups[i]);
        if (sup)
            collect_class(s, sup, must, out, seen, depth + 1);
    }
}

const char **s2l_subschema_class_attrs(const s2l_subschema *s, const char *oc_name, bool must)
{
    const s2l_ldap_object_class *oc = s2l_subschema_class(s, oc_name);
    if (oc == NULL)
        return NULL;
    strset out = {calloc(32, sizeof(const char *)), 0, 32, false};
    bool *seen = calloc(s->n_classes, sizeof *seen);
    if (seen == NULL || out.v == NULL) {
        free(seen);
        free(out.v);
        return NULL;
    }
    collect_class(s, oc, must, &out, seen, 0);
    free(seen);
    if (out.oom) {
        free(out.v);
        return NULL;
    }
    return out.v;
}

/* Each class is looked at once (seen, by its index): a directory may send
 * classes whose superclasses form a cycle or a diamond, which a walk that
 * only bounds the depth explores exponentially often (found by
 * fuzz_subschema: two classes each naming the other twice). */
static bool class_allows(const s2l_subschema *s, const s2l_ldap_object_class *oc, const s2l_ldap_attr_type *at,
                         const char *attr, bool *seen, int depth)
{
    size_t pos = ix_find(&s->class_ix, oc->oid);
    if (pos == SIZE_MAX || seen[pos] || depth > 32)
        return false;
    seen[pos] = true;
    for (int pass = 0; pass < 2; pass++) {
        char **list = pass ? oc->may : oc->must;
        size_t n = pass ? oc->n_may : oc->n_must;
        for (size_t i = 0; i < n; i++)
            if (at ? s2l_ldap_attr_is(at, list[i]) : strcasecmp(list[i], attr) == 0)
                return true;
    }
    for (size_t i = 0; i < oc->n_sups; i++) {
        const s2l_ldap_object_class *sup = s2l_subschema_class(s, oc->sups[i]);
        if (sup && sup != oc && class_allows(s, sup, at, attr, seen, depth + 1))
            return true;
    }
    return false;
}

bool s2l_subschema_allows(const s2l_subschema *s, const char *const *classes, const char *attr)
{
    const s2l_ldap_attr_type *at = s2l_subschema_attr(s, attr);
    bool *seen = calloc(s->n_classes ? s->n_classes : 1, sizeof *seen);
    bool allows = false;
    for (size_t i = 0; !allows && classes && classes[i]; i++) {
        if (strcasecmp(classes[i], "extensibleObject") == 0 || strcmp(classes[i], "1.3.6.1.4.1.1466.101.120.111") == 0) {
            allows = true;
            break;
        }
        const s2l_ldap_object_class *oc = s2l_subschema_class(s, classes[i]);
        /* out of memory: "not allowed" only makes the caller warn */
        if (oc && seen && class_allows(s, oc, at, attr, seen, 0))
            allows = true;
    }
    free(seen);
    return allows;
}

/* ---- matching rules and syntaxes ---- */

typedef struct rule_info {
    const char *name;
    const char *oid;
    s2l_mr_kind kind;
} rule_info;

static const rule_info known_rules[] = {
    {"caseIgnoreMatch", "2.5.13.2", S2L_MR_CASE_IGNORE},
    {"caseIgnoreOrderingMatch", "2.5.13.3", S2L_MR_CASE_IGNORE},
    {"caseIgnoreSubstringsMatch", "2.5.13.4", S2L_MR_CASE_IGNORE},
    {"caseExactMatch", "2.5.13.5", S2L_MR_CASE_EXACT},
    {"caseExactOrderingMatch", "2.5.13.6", S2L_MR_CASE_EXACT},
    {"caseExactSubstringsMatch", "2.5.13.7", S2L_MR_CASE_EXACT},
    {"numericStringMatch", "2.5.13.8", S2L_MR_NUMERIC_STRING},
    {"numericStringOrderingMatch", "2.5.13.9", S2L_MR_NUMERIC_STRING},
    {"numericStringSubstringsMatch", "2.5.13.10", S2L_MR_NUMERIC_STRING},
    {"caseIgnoreListMatch", "2.5.13.11", S2L_MR_CASE_IGNORE_LIST},
    {"caseIgnoreListSubstringsMatch", "2.5.13.12", S2L_MR_CASE_IGNORE_LIST},
    {"booleanMatch", "2.5.13.13", S2L_MR_BOOLEAN},
    {"integerMatch", "2.5.13.14", S2L_MR_INTEGER},
    {"integerOrderingMatch", "2.5.13.15", S2L_MR_INTEGER},
    {"octetStringMatch", "2.5.13.17", S2L_MR_OCTET_STRING},
    {"octetStringOrderingMatch", "2.5.13.18", S2L_MR_OCTET_STRING},
    {"octetStringSubstringsMatch", "2.5.13.19", S2L_MR_OCTET_STRING},
    {"telephoneNumberMatch", "2.5.13.20", S2L_MR_TELEPHONE},
    {"telephoneNumberSubstringsMatch", "2.5.13.21", S2L_MR_TELEPHONE},
    {"uniqueMemberMatch", "2.5.13.23", S2L_MR_DN},
    {"generalizedTimeMatch", "2.5.13.27", S2L_MR_GENERALIZED_TIME},
    {"generalizedTimeOrderingMatch", "2.5.13.28", S2L_MR_GENERALIZED_TIME},
    {"distinguishedNameMatch", "2.5.13.1", S2L_MR_DN},
    {"objectIdentifierMatch", "2.5.13.0", S2L_MR_OID},
    {"caseExactIA5Match", "1.3.6.1.4.1.1466.109.114.1", S2L_MR_CASE_EXACT_IA5},
    {"caseIgnoreIA5Match", "1.3.6.1.4.1.1466.109.114.2", S2L_MR_CASE_IGNORE_IA5},
    {"caseIgnoreIA5SubstringsMatch", "1.3.6.1.4.1.1466.109.114.3", S2L_MR_CASE_IGNORE_IA5},
    {"caseExactIA5SubstringsMatch", "1.3.6.1.4.1.4203.1.2.1", S2L_MR_CASE_EXACT_IA5},
    {"UUIDMatch", "1.3.6.1.1.16.2", S2L_MR_UUID},
    {"UUIDOrderingMatch", "1.3.6.1.1.16.3", S2L_MR_UUID},
    {"CSNMatch", "1.3.6.1.4.1.4203.666.11.2.2", S2L_MR_CSN},
    {"CSNOrderingMatch", "1.3.6.1.4.1.4203.666.11.2.3", S2L_MR_CSN},
};

s2l_mr_kind s2l_ldap_rule_kind_of(const char *rule)
{
    if (rule == NULL || *rule == 0)
        return S2L_MR_NONE;
    for (size_t i = 0; i < sizeof known_rules / sizeof known_rules[0]; i++)
        if (strcasecmp(rule, known_rules[i].name) == 0 || strcmp(rule, known_rules[i].oid) == 0)
            return known_rules[i].kind;
    return S2L_MR_UNKNOWN;
}

const char *s2l_mr_kind_name(s2l_mr_kind k)
{
    static const char *const names[] = {
        "none", "unknown", "caseIgnore", "caseExact", "caseIgnoreIA5", "caseExactIA5", "caseIgnoreList",
        "telephoneNumber", "numericString", "octetString", "integer", "generalizedTime", "UUID",
        "distinguishedName", "boolean", "objectIdentifier", "CSN", "caseIgnore (inferred from the syntax)",
    };
    return (size_t)k < sizeof names / sizeof names[0] ? names[k] : "unknown";
}

typedef struct syntax_info {
    const char *oid;
    s2l_syntax_kind kind;
} syntax_info;

static const syntax_info known_syntaxes[] = {
    {"1.3.6.1.4.1.1466.115.121.1.15", S2L_SYN_DIRECTORY_STRING},
    {"1.3.6.1.4.1.1466.115.121.1.26", S2L_SYN_IA5},
    {"1.3.6.1.4.1.1466.115.121.1.44", S2L_SYN_PRINTABLE},
    {"1.3.6.1.4.1.1466.115.121.1.50", S2L_SYN_PRINTABLE},  /* Telephone Number */
    {"1.3.6.1.4.1.1466.115.121.1.11", S2L_SYN_PRINTABLE},  /* Country String */
    {"1.3.6.1.4.1.1466.115.121.1.36", S2L_SYN_NUMERIC_STRING},
    {"1.3.6.1.4.1.1466.115.121.1.27", S2L_SYN_INTEGER},
    {"1.3.6.1.4.1.1466.115.121.1.24", S2L_SYN_GENERALIZED_TIME},
    {"1.3.6.1.1.16.1", S2L_SYN_UUID},
    {"1.3.6.1.4.1.1466.115.121.1.12", S2L_SYN_DN},
    {"1.3.6.1.4.1.1466.115.121.1.7", S2L_SYN_BOOLEAN},
    {"1.3.6.1.4.1.1466.115.121.1.40", S2L_SYN_OCTET_STRING},
    {"1.3.6.1.4.1.1466.115.121.1.38", S2L_SYN_OID},
};

s2l_syntax_kind s2l_ldap_syntax_kind_of(const char *syntax_oid)
{
    for (size_t i = 0; syntax_oid && i < sizeof known_syntaxes / sizeof known_syntaxes[0]; i++)
        if (strcmp(syntax_oid, known_syntaxes[i].oid) == 0)
            return known_syntaxes[i].kind;
    return S2L_SYN_UNKNOWN;
}

static bool printable(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ' ||
           strchr("'()+,-./:?=", c) != NULL;
}

bool s2l_ldap_syntax_allows(s2l_syntax_kind k, const char *v, size_t n)
{
    switch (k) {
    case S2L_SYN_IA5:
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)v[i] > 0x7f || v[i] == 0)
                return false;
        return true;
    case S2L_SYN_PRINTABLE:
        for (size_t i = 0; i < n; i++)
            if (v[i] == 0 || !printable((unsigned char)v[i]))
                return false;
        return true;
    case S2L_SYN_NUMERIC_STRING:
        for (size_t i = 0; i < n; i++)
            if (!((v[i] >= '0' && v[i] <= '9') || v[i] == ' '))
                return false;
        return true;
    default:
        return true;
    }
}
