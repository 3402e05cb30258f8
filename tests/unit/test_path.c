/* test_path.c — PATCH paths (RFC 7644 §3.5.2): every shape in
 * shared/docs/IDP-QUIRKS.md and the RFC, plus the errors (400 invalidPath). */
#include "s2l/filter.h"
#include "unit.h"

#define ENT "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define CORE "urn:ietf:params:scim:schemas:core:2.0:User"

/* Expected parts; NULL means "absent". filter is the canonical text of the value filter. */
typedef struct path_case {
    const char *text;
    const char *urn, *attr, *sub, *filter, *filter_sub;
} path_case;

static const path_case valid[] = {
    /* plain attributes (Entra, Okta, OneLogin) */
    { "members", NULL, "members", NULL, NULL, NULL },
    { "active", NULL, "active", NULL, NULL, NULL },
    { "nickName", NULL, "nickName", NULL, NULL, NULL },
    { "userName", NULL, "userName", NULL, NULL, NULL },
    { "displayName", NULL, "displayName", NULL, NULL, NULL },
    { "externalId", NULL, "externalId", NULL, NULL, NULL },
    { "name.givenName", NULL, "name", "givenName", NULL, NULL },
    { "name.familyName", NULL, "name", "familyName", NULL, NULL },
    { "members.$ref", NULL, "members", "$ref", NULL, NULL },
    /* Entra filtered paths */
    { "emails[type eq \"work\"].value", NULL, "emails", NULL, "type eq \"work\"", "value" },
    { "phoneNumbers[type eq \"mobile\"].value", NULL, "phoneNumbers", NULL, "type eq \"mobile\"", "value" },
    { "addresses[type eq \"work\"].streetAddress", NULL, "addresses", NULL, "type eq \"work\"", "streetAddress" },
    { "addresses[type eq \"other\"].formatted", NULL, "addresses", NULL, "type eq \"other\"", "formatted" },
    { "emails[type eq \"work\" and primary eq true].value", NULL, "emails", NULL,
      "(type eq \"work\" and primary eq true)", "value" },
    /* RFC 7644 §3.5.2 examples */
    { "addresses[type eq \"work\"]", NULL, "addresses", NULL, "type eq \"work\"", NULL },
    { "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]", NULL, "members", NULL,
      "value eq \"2819c223-7f76-453a-919d-413861904646\"", NULL },
    { "members[value eq \"2819c223-7f76-453a-919d-413861904646\"].displayName", NULL, "members", NULL,
      "value eq \"2819c223-7f76-453a-919d-413861904646\"", "displayName" },
    { "emails[type eq \"work\" and value ew \"example.com\"]", NULL, "emails", NULL,
      "(type eq \"work\" and value ew \"example.com\")", NULL },
    /* URN-qualified (Entra manager and enterprise attributes) */
    { ENT ":manager", ENT, "manager", NULL, NULL, NULL },
    { ENT ":manager.value", ENT, "manager", "value", NULL, NULL },
    { ENT ":employeeNumber", ENT, "employeeNumber", NULL, NULL, NULL },
    { CORE ":name.familyName", CORE, "name", "familyName", NULL, NULL },
    { CORE ":emails[type eq \"work\"].value", CORE, "emails", NULL, "type eq \"work\"", "value" },
    /* a bare extension URN splits at its last ':'; the PATCH engine recognises
     * it with s2l_rtype_split_urn on the whole text */
    { ENT, "urn:ietf:params:scim:schemas:extension:enterprise:2.0", "User", NULL, NULL, NULL },
    /* case is kept as written; leniency with spaces */
    { "Emails[Type EQ \"Work\"].Value", NULL, "Emails", NULL, "Type eq \"Work\"", "Value" },
    { "  members  ", NULL, "members", NULL, NULL, NULL },
    { "emails[ type  eq  \"work\" ] .value", NULL, "emails", NULL, "type eq \"work\"", "value" },
    { "members[value eq \"a\\\"b\"]", NULL, "members", NULL, "value eq \"a\\\"b\"", NULL },
    { "members[not (value eq \"x\")]", NULL, "members", NULL, "not (value eq \"x\")", NULL },
};

typedef struct bad_case {
    const char *text;
    const char *detail;
} bad_case;

static const bad_case invalid[] = {
    { "", "unexpected end of path at offset 0 (expected an attribute path)" },
    { "   ", "unexpected end of path at offset 3 (expected an attribute path)" },
    { "(members)", "unexpected '(' at offset 0 (expected an attribute path)" },
    { "\"members\"", "unexpected string at offset 0 (expected an attribute path)" },
    { "1members", "unexpected '1' at offset 0 (expected an attribute name)" },
    { "name.givenName.x", "unexpected '.' at offset 14 (expected the end of the attribute path)" },
    { "name..x", "unexpected '.' at offset 5 (expected a sub-attribute name)" },
    { "members eq \"x\"", "unexpected 'eq' at offset 8 (expected end of path)" },
    { "members value", "unexpected 'value' at offset 8 (expected end of path)" },
    { "emails[", "unexpected end of path at offset 7 (expected an attribute path, '(' or 'not')" },
    { "emails[]", "unexpected ']' at offset 7 (expected an attribute path, '(' or 'not')" },
    { "emails[type eq \"work\"", "unexpected end of path at offset 21 (expected 'and', 'or' or ']')" },
    { "emails[type eq \"work\")", "unexpected ')' at offset 21 (expected 'and', 'or' or ']')" },
    { "emails[type eq pr]", "unexpected 'pr' at offset 15 (expected a string, number, true, false or null)" },
    { "emails[type eq \"work]", "unterminated string starting at offset 15" },
    { "emails[type eq \"work\"]value",
      "unexpected 'value' at offset 22 (expected '.' and a sub-attribute, or end of path)" },
    { "emails[type eq \"work\"].", "unexpected end of attribute path at offset 23 (expected a sub-attribute name)" },
    { "emails[type eq \"work\"].value.x", "unexpected '.' at offset 28 (expected end of path)" },
    { "emails[type eq \"work\"].1x", "unexpected '1' at offset 23 (expected a sub-attribute name)" },
    { "emails[type eq \"work\"] or x pr",
      "unexpected 'or' at offset 23 (expected '.' and a sub-attribute, or end of path)" },
    { "emails[type eq \"work\"][primary eq true]",
      "unexpected '[' at offset 22 (expected '.' and a sub-attribute, or end of path)" },
    { "emails[type eq \"work\"].value extra", "unexpected 'extra' at offset 29 (expected end of path)" },
    { "name.givenName[type eq \"x\"]",
      "unexpected '[' at offset 14 (a value filter needs an attribute, not a sub-attribute)" },
    { "members[value[x pr]]", "unexpected '[' at offset 13 (value filters cannot nest)" },
    { ENT ":", "unexpected end of attribute path at offset 59 (expected an attribute name)" },
    { "urn:manager", "unexpected 'm' at offset 4 (expected a schema URN followed by ':' and an attribute name)" },
    { "members[value eq \"\\u0000\"]", "\\u0000 is not allowed in string at offset 18" },
};

static void check_opt(const char *got, const char *want, const char *text)
{
    if (want == NULL) {
        if (got != NULL)
            fprintf(stderr, "path [%s]: expected NULL, got \"%s\"\n", text, got);
        CHECK(got == NULL);
    } else
        CHECK_STR(got, want);
}

static void test_valid(void)
{
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        const path_case *c = &valid[i];
        s2l_error err;
        s2l_error_clear(&err);
        s2l_path *p = s2l_path_parse(c->text, strlen(c->text), &err);
        if (p == NULL)
            fprintf(stderr, "path [%s] failed: %s\n", c->text, err.detail);
        CHECK(p != NULL);
        if (p == NULL)
            continue;
        check_opt(p->attr.urn, c->urn, c->text);
        check_opt(p->attr.attr, c->attr, c->text);
        check_opt(p->attr.sub, c->sub, c->text);
        char *filter = s2l_filter_to_string(p->filter);
        check_opt(p->filter ? filter : NULL, c->filter, c->text);
        free(filter);
        check_opt(p->filter_sub, c->filter_sub, c->text);
        CHECK_INT(err.status, 0);
        s2l_path_destroy(p);
    }
}

static void test_invalid(void)
{
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        const bad_case *c = &invalid[i];
        s2l_error err;
        s2l_error_clear(&err);
        s2l_path *p = s2l_path_parse(c->text, strlen(c->text), &err);
        if (p != NULL)
            fprintf(stderr, "path [%s] parsed\n", c->text);
        CHECK(p == NULL);
        CHECK_INT(err.status, 400);
        CHECK_STR(err.scim_type, S2L_SCIM_INVALID_PATH);
        CHECK_STR(err.detail, c->detail);
        s2l_path_destroy(p);
    }
}

static void test_limits_and_edges(void)
{
    s2l_error err;
    size_t n = S2L_FILTER_DEFAULT_MAX_LENGTH + 1;
    char *text = malloc(n + 1);

    CHECK(text != NULL);
    if (text != NULL) {
        memset(text, 'a', n);
        text[n] = '\0';
        s2l_error_clear(&err);
        CHECK(s2l_path_parse(text, n, &err) == NULL);
        CHECK_STR(err.detail, "path is longer than 4096 bytes");
        CHECK_STR(err.scim_type, S2L_SCIM_INVALID_PATH);
        s2l_path *p = s2l_path_parse(text, n - 1, &err);   /* a 4096-byte name is fine */
        CHECK(p != NULL && strlen(p->attr.attr) == n - 1);
        s2l_path_destroy(p);
        free(text);
    }

    /* The bracket is one level, so 31 more parentheses fit and 32 do not. */
    char deep[128];
    int len = snprintf(deep, sizeof deep, "x[%.*s%s%.*s]", 31, "((((((((((((((((((((((((((((((((", "a pr",
                       31, "))))))))))))))))))))))))))))))))");
    s2l_path *p = s2l_path_parse(deep, (size_t)len, &err);
    CHECK(p != NULL);
    s2l_path_destroy(p);
    len = snprintf(deep, sizeof deep, "x[%.*s%s%.*s]", 32, "((((((((((((((((((((((((((((((((", "a pr",
                   32, "))))))))))))))))))))))))))))))))");
    s2l_error_clear(&err);
    CHECK(s2l_path_parse(deep, (size_t)len, &err) == NULL);
    CHECK_STR(err.detail, "path nests deeper than 32");

    /* len bounds the text; NULL text and NULL err are tolerated. */
    p = s2l_path_parse("members[value eq \"x\"]", 7, &err);
    CHECK(p != NULL && p->filter == NULL && strcmp(p->attr.attr, "members") == 0);
    s2l_path_destroy(p);
    s2l_error_clear(&err);
    CHECK(s2l_path_parse(NULL, 0, &err) == NULL);
    CHECK_INT(err.status, 400);
    CHECK(s2l_path_parse("[", 1, NULL) == NULL);
    s2l_path_destroy(NULL);

    /* The value filter is a real filter tree. */
    p = s2l_path_parse("members[value eq \"abc\"]", 23, &err);
    CHECK(p != NULL && p->filter != NULL && p->filter->kind == S2L_F_CMP && p->filter->op == S2L_OP_EQ);
    CHECK_STR(p && p->filter ? p->filter->path.attr : NULL, "value");
    CHECK_STR(p && p->filter ? json_string_value(p->filter->value) : NULL, "abc");
    s2l_path_destroy(p);
}

int main(void)
{
    test_valid();
    test_invalid();
    test_limits_and_edges();
    return UNIT_DONE();
}
