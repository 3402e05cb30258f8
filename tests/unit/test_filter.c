/* test_filter.c — SCIM filter parser and canonical text form.
 * Data-driven cases live in tests/data/filter/{valid,invalid}.txt; the cases
 * here are the ones a text file cannot hold (raw bytes, limits, tree shape). */
#include "s2l/filter.h"
#include "unit.h"

#include <stdint.h>

static char *load_data(const char *name)
{
    const char *root = getenv("S2L_SOURCE_DIR");
    char path[4096];
    char *buf = NULL;
    long size;
    FILE *fp;

    snprintf(path, sizeof path, "%s/tests/data/filter/%s", root ? root : ".", name);
    fp = fopen(path, "rb");
    if (fp == NULL) {
        fprintf(stderr, "cannot open %s (is S2L_SOURCE_DIR set?)\n", path);
        return NULL;
    }
    if (fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)size + 1)) != NULL) {
        if (fread(buf, 1, (size_t)size, fp) != (size_t)size) {
            free(buf);
            buf = NULL;
        } else
            buf[size] = '\0';
    }
    fclose(fp);
    return buf;
}

static s2l_filter *parse_str(const char *text, s2l_error *err)
{
    s2l_error_clear(err);
    return s2l_filter_parse(text, strlen(text), NULL, err);
}

static unsigned height(const s2l_filter *f)
{
    unsigned l, r;
    if (f == NULL || f->kind == S2L_F_CMP || f->kind == S2L_F_PRESENT)
        return 0;
    l = height(f->left);
    r = height(f->right);
    return 1 + (l > r ? l : r);
}

/* Each line: filter TAB canonical. Also checks that the canonical form is a fixed point. */
static void test_valid_file(void)
{
    char *data = load_data("valid.txt");
    int cases = 0;

    CHECK(data != NULL);
    for (char *line = data, *next; data != NULL && *line; line = next) {
        next = strchr(line, '\n');
        next = next ? (*next = '\0', next + 1) : line + strlen(line);
        if (*line == '#' || *line == '\0')
            continue;
        char *tab = strchr(line, '\t');
        CHECK(tab != NULL);
        if (tab == NULL)
            continue;
        *tab = '\0';
        cases++;
        s2l_error err;
        s2l_filter *f = parse_str(line, &err);
        if (f == NULL)
            fprintf(stderr, "valid.txt: [%s] failed: %s\n", line, err.detail);
        CHECK(f != NULL);
        char *text = s2l_filter_to_string(f);
        CHECK_STR(text, tab + 1);
        s2l_filter *again = text ? parse_str(text, &err) : NULL;
        char *text2 = s2l_filter_to_string(again);
        CHECK_STR(text2, tab + 1);
        free(text);
        free(text2);
        s2l_filter_destroy(f);
        s2l_filter_destroy(again);
    }
    CHECK(cases >= 100);
    free(data);
}

/* Each line: expected detail TAB filter. */
static void test_invalid_file(void)
{
    char *data = load_data("invalid.txt");
    int cases = 0;

    CHECK(data != NULL);
    for (char *line = data, *next; data != NULL && *line; line = next) {
        next = strchr(line, '\n');
        next = next ? (*next = '\0', next + 1) : line + strlen(line);
        if (*line == '#' || *line == '\0')
            continue;
        char *tab = strchr(line, '\t');
        CHECK(tab != NULL);
        if (tab == NULL)
            continue;
        *tab = '\0';
        cases++;
        s2l_error err;
        s2l_filter *f = parse_str(tab + 1, &err);
        if (f != NULL)
            fprintf(stderr, "invalid.txt: [%s] parsed\n", tab + 1);
        CHECK(f == NULL);
        CHECK_INT(err.status, 400);
        CHECK_STR(err.scim_type, S2L_SCIM_INVALID_FILTER);
        CHECK_STR(err.detail, line);
        s2l_filter_destroy(f);
    }
    CHECK(cases >= 50);
    free(data);
}

static void test_tree_shape(void)
{
    s2l_error err;
    s2l_filter *f = parse_str("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"x\"", &err);

    CHECK(f != NULL);
    if (f != NULL) {
        CHECK_INT(f->kind, S2L_F_CMP);
        CHECK_INT(f->op, S2L_OP_EQ);
        CHECK_STR(f->path.urn, S2L_URN_ENTERPRISE);
        CHECK_STR(f->path.attr, "manager");
        CHECK_STR(f->path.sub, "value");
        CHECK(json_is_string(f->value));
        CHECK_STR(json_string_value(f->value), "x");
    }
    s2l_filter_destroy(f);

    f = parse_str("Emails[Type eq \"work\"] or not (a GE 1.5) and b lE 7", &err);
    CHECK(f != NULL);
    if (f != NULL) {
        CHECK_INT(f->kind, S2L_F_OR);
        CHECK_INT(f->left->kind, S2L_F_VALUEPATH);
        CHECK_STR(f->left->path.attr, "Emails");
        CHECK(f->left->path.urn == NULL && f->left->path.sub == NULL);
        CHECK_INT(f->left->left->kind, S2L_F_CMP);
        CHECK_STR(f->left->left->path.attr, "Type");
        CHECK_INT(f->right->kind, S2L_F_AND);
        CHECK_INT(f->right->left->kind, S2L_F_NOT);
        CHECK_INT(f->right->left->left->op, S2L_OP_GE);
        CHECK(json_is_real(f->right->left->left->value));
        CHECK_INT(f->right->right->op, S2L_OP_LE);
        CHECK(json_is_integer(f->right->right->value));
        CHECK_INT(json_integer_value(f->right->right->value), 7);
        CHECK(f->right->right->right == NULL);
    }
    s2l_filter_destroy(f);

    f = parse_str("title pr", &err);
    CHECK(f != NULL && f->kind == S2L_F_PRESENT && f->value == NULL && f->left == NULL);
    s2l_filter_destroy(f);

    f = parse_str("a eq null", &err);
    CHECK(f != NULL && json_is_null(f->value));
    s2l_filter_destroy(f);
}

/* Inputs with bytes a line-oriented data file cannot carry. */
static void test_raw_bytes(void)
{
    static const struct {
        const char *text;
        size_t len;
        const char *detail;
    } bad[] = {
        { "a eq \"x\0y\"", 10, "control character 0x00 in string at offset 7" },
        { "a eq \"x\ty\"", 10, "control character 0x09 in string at offset 7" },
        { "a eq \"\xff\"", 8, "invalid UTF-8 in string at offset 6" },
        { "a eq \"\xc3\"", 8, "invalid UTF-8 in string at offset 6" },
        { "a eq \"\xc0\xaf\"", 9, "invalid UTF-8 in string at offset 6" },          /* overlong '/' */
        { "a eq \"\xe0\x80\xaf\"", 10, "invalid UTF-8 in string at offset 6" },     /* overlong */
        { "a eq \"\xed\xa0\x80\"", 10, "invalid UTF-8 in string at offset 6" },     /* surrogate */
        { "a eq \"\xf4\x90\x80\x80\"", 11, "invalid UTF-8 in string at offset 6" }, /* > U+10FFFF */
        { "a eq \"\xe2\x82\"", 9, "invalid UTF-8 in string at offset 6" },          /* truncated */
        { "a\0 pr", 5, "unexpected '\\x00' at offset 1 (expected '.' or the end of the attribute path)" },
        { "\xc3\xa9 pr", 5, "unexpected '\\xc3' at offset 0 (expected an attribute name)" },
        { "a pr\0", 5, "unexpected 'pr\\x00' at offset 2 (expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) or '[')" },
        { "a pr \0", 6, "unexpected '\\x00' at offset 5 (expected 'and', 'or' or end of filter)" },
    };
    s2l_error err;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s2l_error_clear(&err);
        s2l_filter *f = s2l_filter_parse(bad[i].text, bad[i].len, NULL, &err);
        CHECK(f == NULL);
        CHECK_INT(err.status, 400);
        CHECK_STR(err.detail, bad[i].detail);
        s2l_filter_destroy(f);
    }

    /* Valid multi-byte text is kept byte for byte. */
    s2l_filter *f = parse_str("a eq \"\xe2\x82\xac \xf0\x9f\x98\x80\"", &err);
    CHECK(f != NULL);
    CHECK_STR(f ? json_string_value(f->value) : NULL, "\xe2\x82\xac \xf0\x9f\x98\x80");
    s2l_filter_destroy(f);

    /* len, not a terminator, bounds the input. */
    const char *longer = "userName eq \"x\" and garbage(";
    f = s2l_filter_parse(longer, 15, NULL, &err);
    CHECK(f != NULL);
    s2l_filter_destroy(f);
    s2l_error_clear(&err);
    f = s2l_filter_parse(longer, 14, NULL, &err);
    CHECK(f == NULL);
    CHECK_STR(err.detail, "unterminated string starting at offset 12");

    s2l_error_clear(&err);
    CHECK(s2l_filter_parse(NULL, 0, NULL, &err) == NULL);
    CHECK_STR(err.detail, "filter is empty");
    s2l_error_clear(&err);
    CHECK(s2l_filter_parse("", 0, NULL, &err) == NULL);
    CHECK_STR(err.scim_type, S2L_SCIM_INVALID_FILTER);
    /* A NULL error pointer is allowed. */
    CHECK(s2l_filter_parse("(", 1, NULL, NULL) == NULL);
}

/* Builds prefix x n + middle + suffix x n. */
static char *repeat3(const char *prefix, size_t n, const char *middle, const char *suffix)
{
    size_t lp = strlen(prefix), lm = strlen(middle), ls = strlen(suffix);
    char *s = malloc(n * (lp + ls) + lm + 1);
    char *o = s;
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++, o += lp)
        memcpy(o, prefix, lp);
    memcpy(o, middle, lm);
    o += lm;
    for (size_t i = 0; i < n; i++, o += ls)
        memcpy(o, suffix, ls);
    *o = '\0';
    return s;
}

static void test_depth_limit(void)
{
    s2l_error err;
    char *text;
    s2l_filter *f;
    s2l_filter_limits big = { 1u << 22, 0 };

    /* 32 levels of parentheses are fine, 33 are not. */
    text = repeat3("(", 32, "a pr", ")");
    f = parse_str(text, &err);
    CHECK(f != NULL && f->kind == S2L_F_PRESENT);
    s2l_filter_destroy(f);
    free(text);
    text = repeat3("(", 33, "a pr", ")");
    f = parse_str(text, &err);
    CHECK(f == NULL);
    CHECK_STR(err.detail, "filter nests deeper than 32");
    CHECK_STR(err.scim_type, S2L_SCIM_INVALID_FILTER);
    free(text);

    /* Same for "not (": the tree is as deep as the text. */
    text = repeat3("not (", 32, "a pr", ")");
    f = parse_str(text, &err);
    CHECK(f != NULL && height(f) == 32);
    s2l_filter_destroy(f);
    free(text);
    text = repeat3("not (", 33, "a pr", ")");
    CHECK(parse_str(text, &err) == NULL);
    CHECK_STR(err.detail, "filter nests deeper than 32");
    free(text);

    /* A fuzzer's favourite: a megabyte of '(' fails fast and without recursion trouble. */
    text = repeat3("(", 1000000, "", "");
    s2l_error_clear(&err);
    f = s2l_filter_parse(text, strlen(text), &big, &err);
    CHECK(f == NULL);
    CHECK_STR(err.detail, "filter nests deeper than 32");
    free(text);

    /* Custom and clamped limits. */
    s2l_filter_limits two = { 0, 2 };
    s2l_error_clear(&err);
    f = s2l_filter_parse("((a pr))", 8, &two, &err);
    CHECK(f != NULL);
    s2l_filter_destroy(f);
    s2l_error_clear(&err);
    CHECK(s2l_filter_parse("(((a pr)))", 10, &two, &err) == NULL);
    CHECK_STR(err.detail, "filter nests deeper than 2");
    s2l_error_clear(&err);
    CHECK(s2l_filter_parse("not (not (not (a pr)))", 22, &two, &err) == NULL);
    CHECK_STR(err.detail, "filter nests deeper than 2");
    s2l_error_clear(&err);
    CHECK(s2l_filter_parse("a[b[c pr]]", 10, &two, &err) == NULL);
    s2l_filter_limits huge = { 1u << 22, 1000000 };
    text = repeat3("(", S2L_FILTER_DEPTH_CAP + 1, "a pr", ")");
    s2l_error_clear(&err);
    CHECK(s2l_filter_parse(text, strlen(text), &huge, &err) == NULL);
    CHECK_STR(err.detail, "filter nests deeper than 256");
    free(text);

    /* Long and/or chains are balanced, so they cost log2(n) levels, not n. */
    text = repeat3("a eq 1 or ", 4000, "a eq 2", "");
    s2l_error_clear(&err);
    f = s2l_filter_parse(text, strlen(text), &big, &err);
    CHECK(f != NULL);
    CHECK(f != NULL && height(f) <= 12);
    char *canon = s2l_filter_to_string(f);
    CHECK(canon != NULL && canon[0] == '(' && strlen(canon) == strlen(text) + 2);
    free(canon);
    s2l_filter_destroy(f);
    free(text);
    text = repeat3("b pr and a eq 1 or ", 3000, "a eq 2", "");
    s2l_error_clear(&err);
    f = s2l_filter_parse(text, strlen(text), &big, &err);
    CHECK(f != NULL && height(f) <= 14);
    s2l_filter_destroy(f);
    free(text);

    /* With a depth limit of 3, a chain of 9 needs 4 levels and is refused. */
    s2l_filter_limits three = { 0, 3 };
    const char *nine = "a pr or a pr or a pr or a pr or a pr or a pr or a pr or a pr or a pr";
    s2l_error_clear(&err);
    CHECK(s2l_filter_parse(nine, strlen(nine), &three, &err) == NULL);
    CHECK_STR(err.detail, "filter nests deeper than 3");
    f = s2l_filter_parse(nine, 52, &three, &err);   /* the first 7 operands */
    CHECK(f != NULL && height(f) == 3);
    s2l_filter_destroy(f);
}

static void test_length_limit(void)
{
    s2l_error err;
    size_t n = S2L_FILTER_DEFAULT_MAX_LENGTH;
    char *text = malloc(n + 2);
    s2l_filter *f;

    CHECK(text != NULL);
    if (text == NULL)
        return;
    /* userName eq "xxxx...x" filling exactly the limit */
    memcpy(text, "userName eq \"", 13);
    memset(text + 13, 'x', n - 14);
    text[n - 1] = '"';
    text[n] = '\0';
    f = parse_str(text, &err);
    CHECK(f != NULL);
    CHECK_INT(f ? json_string_length(f->value) : 0, n - 14);
    s2l_filter_destroy(f);
    text[n - 1] = 'x';
    text[n] = '"';
    text[n + 1] = '\0';
    f = parse_str(text, &err);
    CHECK(f == NULL);
    CHECK_INT(err.status, 400);
    CHECK_STR(err.detail, "filter is longer than 4096 bytes");
    s2l_filter_limits more = { n + 1, 0 };
    s2l_error_clear(&err);
    f = s2l_filter_parse(text, n + 1, &more, &err);
    CHECK(f != NULL);
    s2l_filter_destroy(f);
    s2l_filter_limits less = { 10, 0 };
    s2l_error_clear(&err);
    CHECK(s2l_filter_parse("title pr and a pr", 17, &less, &err) == NULL);
    CHECK_STR(err.detail, "filter is longer than 10 bytes");
    free(text);
}

static void test_names(void)
{
    static const char *const names[] = { "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK_STR(s2l_cmp_op_name((s2l_cmp_op)i), names[i]);
    CHECK_STR(s2l_cmp_op_name((s2l_cmp_op)99), "?");
    s2l_filter_destroy(NULL);
}

int main(void)
{
    test_valid_file();
    test_invalid_file();
    test_tree_shape();
    test_raw_bytes();
    test_depth_limit();
    test_length_limit();
    test_names();
    return UNIT_DONE();
}
