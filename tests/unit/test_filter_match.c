/* test_filter_match.c — evaluating filters against JSON (s2l_filter_match).
 * tests/data/filter/match.txt holds resource-level cases against user.json,
 * each evaluated without a schema and with the real User resource type; the
 * cases here cover evaluation inside one value of a multi-valued attribute
 * (`within`), which is how the PATCH engine uses value paths. */
#include "s2l/filter.h"
#include "unit.h"

static char *source_path(const char *rel, char *buf, size_t cap)
{
    const char *root = getenv("S2L_SOURCE_DIR");
    snprintf(buf, cap, "%s/%s", root ? root : ".", rel);
    return buf;
}

static json_t *load_json(const char *rel)
{
    char path[4096];
    json_error_t je;
    json_t *j = json_load_file(source_path(rel, path, sizeof path), 0, &je);
    if (j == NULL)
        fprintf(stderr, "%s:%d: %s (is S2L_SOURCE_DIR set?)\n", path, je.line, je.text);
    return j;
}

static s2l_schema *schema_from(const json_t *j)
{
    s2l_error err;
    s2l_error_clear(&err);
    s2l_schema *s = j ? s2l_schema_from_json(j, &err) : NULL;
    if (s == NULL)
        fprintf(stderr, "schema: %s\n", err.detail);
    return s;
}

static s2l_schema *load_schema(const char *rel)
{
    json_t *j = load_json(rel);
    s2l_schema *s = schema_from(j);
    json_decref(j);
    return s;
}

static int match_text(const char *text, const json_t *value, const s2l_resource_type *rt,
                      const s2l_attr_def *within)
{
    s2l_error err;
    s2l_error_clear(&err);
    s2l_filter *f = s2l_filter_parse(text, strlen(text), NULL, &err);
    if (f == NULL) {
        fprintf(stderr, "[%s] does not parse: %s\n", text, err.detail);
        return -1;
    }
    int r = s2l_filter_match(f, value, rt, within) ? 1 : 0;
    s2l_filter_destroy(f);
    return r;
}

static void test_match_file(const s2l_resource_type *rt)
{
    char path[4096];
    char line[4096];
    json_t *user = load_json("tests/data/filter/user.json");
    FILE *fp = fopen(source_path("tests/data/filter/match.txt", path, sizeof path), "r");
    int cases = 0, lineno = 0;

    CHECK(user != NULL && fp != NULL);
    while (user != NULL && fp != NULL && fgets(line, sizeof line, fp) != NULL) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *tab = strchr(line, '\t');
        CHECK(tab != NULL && tab - line == 3 && strchr("01", line[0]) && strchr("01", line[2]));
        if (tab == NULL || tab - line != 3)
            continue;
        cases++;
        int plain = match_text(tab + 1, user, NULL, NULL);
        int typed = match_text(tab + 1, user, rt, NULL);
        if (plain != line[0] - '0' || typed != line[2] - '0')
            fprintf(stderr, "match.txt:%d: [%s] gave %d %d, want %c %c\n", lineno, tab + 1, plain, typed,
                    line[0], line[2]);
        CHECK_INT(plain, line[0] - '0');
        CHECK_INT(typed, line[2] - '0');
    }
    CHECK(cases >= 150);
    if (fp != NULL)
        fclose(fp);
    json_decref(user);
}

/* A custom multi-valued complex attribute with a caseExact and a dateTime sub-attribute. */
static const char *const keys_schema =
    "{\"id\":\"urn:example:params:scim:schemas:Test\",\"name\":\"Test\",\"attributes\":[{"
    "\"name\":\"keys\",\"type\":\"complex\",\"multiValued\":true,\"required\":false,\"caseExact\":false,"
    "\"mutability\":\"readWrite\",\"returned\":\"default\",\"uniqueness\":\"none\",\"subAttributes\":["
    "{\"name\":\"value\",\"type\":\"string\",\"multiValued\":false,\"required\":false,\"caseExact\":true,"
    "\"mutability\":\"readWrite\",\"returned\":\"default\",\"uniqueness\":\"none\"},"
    "{\"name\":\"type\",\"type\":\"string\",\"multiValued\":false,\"required\":false,\"caseExact\":false,"
    "\"mutability\":\"readWrite\",\"returned\":\"default\",\"uniqueness\":\"none\"},"
    "{\"name\":\"label\",\"type\":\"string\",\"multiValued\":false,\"required\":false,\"caseExact\":false,"
    "\"mutability\":\"readWrite\",\"returned\":\"default\",\"uniqueness\":\"none\"},"
    "{\"name\":\"since\",\"type\":\"dateTime\",\"multiValued\":false,\"required\":false,\"caseExact\":false,"
    "\"mutability\":\"readWrite\",\"returned\":\"default\",\"uniqueness\":\"none\"}]}]}";

static void test_within(void)
{
    json_error_t je;
    json_t *sj = json_loads(keys_schema, 0, &je);
    s2l_schema *s = schema_from(sj);
    const s2l_attr_def *keys = s2l_schema_find(s, "keys");
    json_t *elem = json_pack("{s:s, s:s, s:s, s:s}", "value", "AbC", "type", "Primary", "since",
                             "2020-01-01T00:00:00Z", "label", "2020-01-01T00:00:00Z");

    CHECK(keys != NULL && elem != NULL);
    /* caseExact sub-attribute: exact with the definition, folded without */
    CHECK_INT(match_text("value eq \"AbC\"", elem, NULL, keys), 1);
    CHECK_INT(match_text("value eq \"abc\"", elem, NULL, keys), 0);
    CHECK_INT(match_text("value eq \"abc\"", elem, NULL, NULL), 1);
    CHECK_INT(match_text("value sw \"a\"", elem, NULL, keys), 0);
    CHECK_INT(match_text("VALUE ew \"bC\"", elem, NULL, keys), 1);
    CHECK_INT(match_text("type eq \"PRIMARY\"", elem, NULL, keys), 1);
    CHECK_INT(match_text("type eq \"PRIMARY\" and value eq \"ABC\"", elem, NULL, keys), 0);
    CHECK_INT(match_text("type eq \"PRIMARY\" and not (value eq \"ABC\")", elem, NULL, keys), 1);
    /* dateTime sub-attribute compares chronologically: 23:00-02:00 is 01:00Z the next day */
    CHECK_INT(match_text("since gt \"2019-12-31T23:00:00-02:00\"", elem, NULL, keys), 0);
    CHECK_INT(match_text("since lt \"2019-12-31T23:00:00-02:00\"", elem, NULL, keys), 1);
    /* a string attribute holding the same text compares lexicographically... */
    CHECK_INT(match_text("label gt \"2019-12-31T23:00:00-02:00\"", elem, NULL, keys), 1);
    /* ...unless the definition is unknown: then dateTime-looking strings are dateTimes */
    CHECK_INT(match_text("label gt \"2019-12-31T23:00:00-02:00\"", elem, NULL, NULL), 0);
    /* `within` makes names relative to the value: a resource type does not interfere */
    CHECK_INT(match_text("missing pr", elem, NULL, keys), 0);
    CHECK_INT(match_text("since pr and label pr", elem, NULL, keys), 1);

    json_decref(elem);
    json_decref(sj);
    s2l_schema_destroy(s);
}

/* What the PATCH engine does for "emails[type eq \"work\"].value" and Entra's
 * "members[value eq \"...\"]": evaluate the path's filter on each value. */
static void test_patch_usage(const s2l_resource_type *rt, const s2l_resource_type *group_rt)
{
    json_t *user = load_json("tests/data/filter/user.json");
    s2l_error err;
    s2l_path *p = s2l_path_parse("emails[type eq \"work\"].value", 28, &err);
    const s2l_attr_def *emails = s2l_rtype_find(rt, p ? p->attr.urn : NULL, p ? p->attr.attr : "", NULL, NULL);
    json_t *list = json_object_get(user, "emails");
    size_t i, hits = 0, where = 99;
    json_t *elem;

    CHECK(p != NULL && emails != NULL && json_array_size(list) == 2);
    json_array_foreach(list, i, elem) {
        if (p != NULL && s2l_filter_match(p->filter, elem, rt, emails)) {
            hits++;
            where = i;
        }
    }
    CHECK_INT(hits, 1);
    CHECK_INT(where, 0);
    s2l_path_destroy(p);

    const char *member_path = "members[value eq \"9067729B-3A2E-4B7C-8C5F-1F5E2B0D3A11\"]";
    json_t *members = json_pack("[{s:n, s:s}, {s:s, s:s}, {s:s}]", "$ref", "value",
                                "9067729b-3a2e-4b7c-8c5f-1f5e2b0d3a11", "value", "other", "display", "Other",
                                "value", "third");
    const s2l_attr_def *mdef = s2l_rtype_find(group_rt, NULL, "members", NULL, NULL);
    p = s2l_path_parse(member_path, strlen(member_path), &err);
    CHECK(p != NULL && mdef != NULL && members != NULL);
    hits = 0;
    json_array_foreach(members, i, elem) {
        if (p != NULL && s2l_filter_match(p->filter, elem, group_rt, mdef))
            hits++;
    }
    /* members.value is not caseExact in RFC 7643, so the upper-case id matches. */
    const s2l_attr_def *mvalue = s2l_attr_find_sub(mdef, "value");
    CHECK(mvalue != NULL && !mvalue->case_exact);
    CHECK_INT(hits, 1);
    s2l_path_destroy(p);
    json_decref(members);
    json_decref(user);
}

static void test_edges(void)
{
    json_t *str = json_string("Green");
    json_t *num = json_integer(3);
    json_t *obj = json_pack("{s:s}", "a", "b");
    s2l_error err;
    s2l_filter *f = s2l_filter_parse("a eq \"b\"", 8, NULL, &err);

    /* Elements of simple multi-valued attributes are called "value". */
    CHECK_INT(match_text("value eq \"green\"", str, NULL, NULL), 1);
    CHECK_INT(match_text("value pr", str, NULL, NULL), 1);
    CHECK_INT(match_text("value.x pr", str, NULL, NULL), 0);
    CHECK_INT(match_text("other eq \"green\"", str, NULL, NULL), 0);
    CHECK_INT(match_text("value gt 2 and value lt 4", num, NULL, NULL), 1);
    CHECK_INT(match_text("not (other pr)", num, NULL, NULL), 1);

    CHECK(f != NULL && s2l_filter_match(f, obj, NULL, NULL));
    CHECK(!s2l_filter_match(NULL, obj, NULL, NULL));
    CHECK(!s2l_filter_match(f, NULL, NULL, NULL));
    s2l_filter_destroy(f);

    /* Keys are matched case-insensitively even when no exact key exists. */
    json_t *mixed = json_pack("{s:s, s:{s:s}}", "UserName", "x", "NAME", "GivenName", "Y");
    CHECK_INT(match_text("username eq \"X\" and name.givenname eq \"y\"", mixed, NULL, NULL), 1);
    json_decref(mixed);

    /* Malformed dateTimes fall back to text comparison instead of failing. */
    json_t *times = json_pack("{s:s, s:s, s:s}", "a", "2011-13-01T00:00:00Z", "b", "2011-05-13T04:42:34+0200",
                              "c", "2011-05-13T24:00:00Z");
    CHECK_INT(match_text("a gt \"2011-12-31T00:00:00Z\"", times, NULL, NULL), 1);
    CHECK_INT(match_text("b lt \"2011-05-13T04:42:34+02:01\"", times, NULL, NULL), 1);
    CHECK_INT(match_text("c gt \"2011-05-13T23:59:59Z\"", times, NULL, NULL), 1);
    CHECK_INT(match_text("c lt \"2011-05-14T00:00:00Z\"", times, NULL, NULL), 1);
    json_decref(times);

    /* A long chain evaluates (the tree is balanced, so recursion stays shallow). */
    size_t n = 2000, len = 0;
    char *text = malloc(n * 16 + 16);
    CHECK(text != NULL);
    if (text != NULL) {
        for (size_t i = 0; i < n; i++)
            len += (size_t)snprintf(text + len, n * 16 + 16 - len, "%sa eq \"%zu\"", i ? " or " : "", i);
        s2l_filter_limits lim = { len + 1, 0 };
        f = s2l_filter_parse(text, len, &lim, &err);
        CHECK(f != NULL);
        json_t *v = json_pack("{s:s}", "a", "1999");
        CHECK(f != NULL && s2l_filter_match(f, v, NULL, NULL));
        json_object_set_new(v, "a", json_string("2000"));
        CHECK(f != NULL && !s2l_filter_match(f, v, NULL, NULL));
        json_decref(v);
        s2l_filter_destroy(f);
        free(text);
    }
    json_decref(str);
    json_decref(num);
    json_decref(obj);
}

int main(void)
{
    s2l_schema *core = load_schema("schemas/scim/user.json");
    s2l_schema *ent = load_schema("schemas/scim/enterprise_user.json");
    s2l_schema *group = load_schema("schemas/scim/group.json");
    const s2l_schema *exts[1] = { ent };
    const bool req[1] = { false };
    s2l_resource_type rt = { "User", "/Users", "User Account", core, exts, req, 1, NULL };
    s2l_resource_type group_rt = { "Group", "/Groups", "Group", group, NULL, NULL, 0, NULL };

    CHECK(core != NULL && ent != NULL && group != NULL);
    test_match_file(&rt);
    test_within();
    test_patch_usage(&rt, &group_rt);
    test_edges();
    s2l_schema_destroy(core);
    s2l_schema_destroy(ent);
    s2l_schema_destroy(group);
    return UNIT_DONE();
}
