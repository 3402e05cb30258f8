/* test_escape.c — RFC 4515 filter-value and RFC 4514 DN-value escaping with
 * tricky inputs, reading an RDN back, and the small conversions the mapping
 * relies on (GeneralizedTime <-> RFC 3339, UUID syntax). */
#include "s2l/mapping.h"
#include "../../gateway/core/mapping_internal.h"
#include "unit.h"

static void filter_case(const char *in, size_t len, const char *want)
{
    char *got = s2l_ldap_escape_filter_value(in, len);
    CHECK_STR(got, want);
    free(got);
}

static void dn_case(const char *in, size_t len, const char *want)
{
    char *got = s2l_ldap_escape_dn_value(in, len);
    CHECK_STR(got, want);
    free(got);
}

static void test_filter_escape(void)
{
    filter_case("plain", 5, "plain");
    filter_case("", 0, "");
    filter_case("*", 1, "\\2a");
    filter_case("(uid=*)", 7, "\\28uid=\\2a\\29");
    filter_case("a\\b", 3, "a\\5cb");
    filter_case("\\2a", 3, "\\5c2a"); /* an escape typed by a client stays literal */
    filter_case("x\0y", 3, "x\\00y");
    filter_case("\0", 1, "\\00");
    filter_case("*)(|(objectClass=*", 18, "\\2a\\29\\28|\\28objectClass=\\2a");
    filter_case("J\xc3\xbcrgen", 7, "J\xc3\xbcrgen"); /* UTF-8 passes */
    filter_case("a=b,c+d\"<>;#", 12, "a=b,c+d\"<>;#"); /* DN specials mean nothing in filters */
    filter_case("all*special()\\", 14, "all\\2aspecial\\28\\29\\5c");
}

static void test_dn_escape(void)
{
    dn_case("jdoe", 4, "jdoe");
    dn_case("", 0, "");
    dn_case("doe, john", 9, "doe\\, john");
    dn_case("a+b", 3, "a\\+b");
    dn_case("\"q\"", 3, "\\\"q\\\"");
    dn_case("<a>;b", 5, "\\<a\\>\\;b");
    dn_case("back\\slash", 10, "back\\\\slash");
    dn_case("#hash", 5, "\\#hash");
    dn_case("a#b", 3, "a#b"); /* only a leading # is special */
    dn_case(" lead", 5, "\\ lead");
    dn_case("trail ", 6, "trail\\ ");
    dn_case(" ", 1, "\\ ");
    dn_case("mid dle", 7, "mid dle");
    dn_case("n\0ul", 4, "n\\00ul");
    dn_case("a=b", 3, "a=b");
    dn_case("*()", 3, "*()"); /* filter specials mean nothing in DNs */
    dn_case("J\xc3\xbcrgen", 7, "J\xc3\xbcrgen");
    dn_case("uid=x,ou=admins", 15, "uid=x\\,ou=admins");
}

static void rdn_case(const char *dn, const char *want_attr, const char *want_val, size_t want_len)
{
    char *a = NULL, *v = NULL;
    size_t len = 0;
    int rc = s2l_dn_first_rdn(dn, &a, &v, &len);
    CHECK_INT(rc, 0);
    CHECK_STR(a, want_attr);
    CHECK(v != NULL && len == want_len && memcmp(v, want_val, want_len) == 0);
    free(a);
    free(v);
}

static void test_first_rdn(void)
{
    rdn_case("uid=jdoe,ou=people,dc=example,dc=org", "uid", "jdoe", 4);
    rdn_case("uid=doe\\, john,ou=people", "uid", "doe, john", 9);
    rdn_case("cn=a\\2ab\\2C,ou=x", "cn", "a*b,", 4);
    rdn_case("uid=x+cn=y,ou=z", "uid", "x", 1);
    rdn_case("uid=n\\00ul,ou=z", "uid", "n\0ul", 4);
    rdn_case("uid=only", "uid", "only", 4);
    /* what the DN escaper writes reads back as the original value */
    const char *values[] = {" #lead, trail ", "a+b\"c<d>e;f\\g", "plain", NULL};
    for (size_t i = 0; values[i]; i++) {
        char *esc = s2l_ldap_escape_dn_value(values[i], strlen(values[i]));
        size_t n = strlen(esc) + 16;
        char *dn = malloc(n);
        snprintf(dn, n, "uid=%s,ou=x", esc);
        rdn_case(dn, "uid", values[i], strlen(values[i]));
        free(dn);
        free(esc);
    }
    char *a = NULL, *v = NULL;
    CHECK(s2l_dn_first_rdn("no-equals", &a, &v, NULL) < 0 && a == NULL && v == NULL);
    CHECK(s2l_dn_first_rdn("=x", &a, &v, NULL) < 0);
    CHECK(s2l_dn_first_rdn("uid=x\\", &a, &v, NULL) < 0);
}

static void gt_case(const char *gt, const char *want)
{
    char *got = s2l_gtime_to_rfc3339(gt);
    if (want == NULL) {
        if (got)
            fprintf(stderr, "gtime \"%s\" unexpectedly gave \"%s\"\n", gt, got);
        CHECK(got == NULL);
    } else {
        CHECK_STR(got, want);
    }
    free(got);
}

static void ts_case(const char *ts, const char *want)
{
    char *got = s2l_rfc3339_to_gtime(ts);
    if (want == NULL) {
        if (got)
            fprintf(stderr, "rfc3339 \"%s\" unexpectedly gave \"%s\"\n", ts, got);
        CHECK(got == NULL);
    } else {
        CHECK_STR(got, want);
    }
    free(got);
}

static void test_times(void)
{
    gt_case("20261123201200Z", "2026-11-23T20:12:00Z");
    gt_case("202611232012Z", "2026-11-23T20:12:00Z");
    gt_case("2026112320Z", "2026-11-23T20:00:00Z");
    gt_case("20261123201200.123456Z", "2026-11-23T20:12:00.123456Z");
    gt_case("20261123201200,5Z", "2026-11-23T20:12:00.5Z");
    gt_case("20261123201200-0530", "2026-11-23T20:12:00-05:30");
    gt_case("000001010000Z", "0000-01-01T00:00:00Z");
    gt_case("20261123201200", NULL);   /* no zone */
    gt_case("2026112320120Z", NULL);   /* odd digits */
    gt_case("20261123201200.Z", NULL);
    gt_case("20261123201200+01", NULL);
    gt_case("2026-11-23", NULL);
    gt_case("", NULL);
    gt_case(NULL, NULL);

    ts_case("2026-11-23T20:12:00Z", "20261123201200Z");
    ts_case("2026-11-23t20:12:00z", "20261123201200Z");
    ts_case("2026-11-23T20:12:00.25+01:00", "20261123201200.25+0100");
    ts_case("2026-11-23 20:12:00-05:30", "20261123201200-0530");
    ts_case("2026-11-23T20:12:00", NULL);
    ts_case("2026-11-23T20:12Z", NULL);
    ts_case("2026-11-23T20:12:00.Z", NULL);
    ts_case("2026-11-23T20:12:00+0100", NULL);
    ts_case("yesterday", NULL);
    ts_case("2026-11-23T20:12:00Z*", NULL);
    ts_case(NULL, NULL);
    /* both ways */
    char *g = s2l_rfc3339_to_gtime("2010-01-23T04:56:22.5Z");
    char *back = g ? s2l_gtime_to_rfc3339(g) : NULL;
    CHECK_STR(back, "2010-01-23T04:56:22.5Z");
    free(g);
    free(back);
}

static void test_uuid(void)
{
    CHECK(s2l_is_uuid("2819c223-7f76-453a-919d-413861904646"));
    CHECK(s2l_is_uuid("2819C223-7F76-453A-919D-413861904646"));
    CHECK(!s2l_is_uuid("2819c223-7f76-453a-919d-41386190464"));
    CHECK(!s2l_is_uuid("2819c223-7f76-453a-919d-4138619046466"));
    CHECK(!s2l_is_uuid("2819c223x7f76-453a-919d-413861904646"));
    CHECK(!s2l_is_uuid("2819c223-7f76-453a-919d-41386190464g"));
    CHECK(!s2l_is_uuid("*"));
    CHECK(!s2l_is_uuid(""));
    CHECK(!s2l_is_uuid(NULL));
}

int main(void)
{
    test_filter_escape();
    test_dn_escape();
    test_first_rdn();
    test_times();
    test_uuid();
    return UNIT_DONE();
}
