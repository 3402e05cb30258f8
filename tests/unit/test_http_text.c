/* test_http_text.c — URI decoding, query parsing, If-Match and Content-Type
 * (gateway/core/http_text.c), including the lenient forms IdPs send. */
#include "s2l/http_text.h"

#include <stdlib.h>
#include <string.h>

#include "unit.h"

static void check_decode(const char *in, bool plus, const char *want)
{
    char *s = s2l_uri_decode(in, plus);
    CHECK_STR(s, want);
    free(s);
}

static void test_uri_decode(void)
{
    check_decode("/Users/abc", false, "/Users/abc");
    check_decode("/Users/a%20b%2Fc", false, "/Users/a b/c");
    check_decode("a+b", false, "a+b");  /* paths keep '+' */
    check_decode("a+b", true, "a b");
    check_decode("%41%4a%4A", true, "AJJ");
    check_decode("100%", true, "100%");   /* a lone '%' stays */
    check_decode("%4", true, "%4");
    check_decode("%zz%4g", true, "%zz%4g");
    check_decode("%2B", true, "+");      /* an encoded '+' is a plus sign */
    check_decode("a%00b", true, "a%00b"); /* a NUL stays encoded: never a shorter string */
    check_decode("%00", false, "%00");
    check_decode("%2500", false, "%00");  /* the text "%00" */
    check_decode("", true, "");
}

static void test_query(void)
{
    s2l_query q;
    CHECK_INT(s2l_query_parse(NULL, &q), 0);
    CHECK_INT(q.n, 0);
    CHECK(s2l_query_get(&q, "filter") == NULL);
    s2l_query_fini(&q);

    /* Entra ID: a bare feature flag, then '+' for spaces. */
    CHECK_INT(s2l_query_parse("aadOptscim062020&filter=userName+eq+%22a%2Bb%40x.org%22", &q), 0);
    CHECK_INT(q.n, 2);
    CHECK_STR(s2l_query_get(&q, "aadOptscim062020"), "");
    CHECK_STR(s2l_query_get(&q, "filter"), "userName eq \"a+b@x.org\"");
    CHECK_STR(s2l_query_get(&q, "FILTER"), "userName eq \"a+b@x.org\""); /* names are case-insensitive */
    CHECK(s2l_query_get(&q, "count") == NULL);
    s2l_query_fini(&q);

    /* Empty parts and empty names are skipped; the first of a repeated name wins;
     * only the first '=' separates. */
    CHECK_INT(s2l_query_parse("&&=x&count=5&&count=7&attributes=a=b&x=&", &q), 0);
    CHECK_INT(q.n, 4);
    CHECK_STR(s2l_query_get(&q, "count"), "5");
    CHECK_STR(s2l_query_get(&q, "attributes"), "a=b");
    CHECK_STR(s2l_query_get(&q, "x"), "");
    CHECK_STR(q.params[0].name, "count");
    CHECK_STR(q.params[1].value, "7");
    s2l_query_fini(&q);

    /* Encoded names and separators inside values. */
    CHECK_INT(s2l_query_parse("start%49ndex=2&filter=a%26b%3Dc", &q), 0);
    CHECK_STR(s2l_query_get(&q, "startIndex"), "2");
    CHECK_STR(s2l_query_get(&q, "filter"), "a&b=c");
    s2l_query_fini(&q);

    CHECK_INT(s2l_query_parse("%00=1&k", &q), 0); /* a NUL name stays encoded, and is flagged */
    CHECK_INT(q.n, 2);
    CHECK_STR(q.params[1].name, "k");
    CHECK_STR(q.nul_name, "%00");
    s2l_query_fini(&q);
    s2l_query_fini(&q); /* twice is harmless */
}

/* Issue 11: a NUL is refused, never cut at. */
static void test_nul(void)
{
    CHECK(s2l_uri_has_nul("/Users/abc%00junk"));
    CHECK(s2l_uri_has_nul("%00"));
    CHECK(!s2l_uri_has_nul("/Users/abc%2500"));
    CHECK(!s2l_uri_has_nul("/Users/%0"));
    CHECK(!s2l_uri_has_nul(NULL));

    s2l_query q;
    CHECK_INT(s2l_query_parse("count=1&filter=%00userName+eq+%22x%22", &q), 0);
    CHECK_STR(q.nul_name, "filter");
    CHECK_STR(s2l_query_get(&q, "filter"), "%00userName eq \"x\""); /* whole, not "" */
    s2l_query_fini(&q);
    CHECK_INT(s2l_query_parse("a%00b=1&filter=x", &q), 0);
    CHECK_STR(q.nul_name, "a%00b");
    s2l_query_fini(&q);
    CHECK_INT(s2l_query_parse("filter=50%2500&count=%0", &q), 0);
    CHECK(q.nul_name == NULL);
    CHECK_STR(s2l_query_get(&q, "filter"), "50%00");
    s2l_query_fini(&q);
    CHECK_INT(s2l_query_parse("filter=", &q), 0);
    CHECK(q.nul_name == NULL);
    CHECK_STR(s2l_query_get(&q, "filter"), "");
    s2l_query_fini(&q);
}

static void test_if_match(void)
{
    const char *v = "W/\"20240101120000.000000Z#000000#000#000000\"";
    CHECK(s2l_if_match("*", v));
    CHECK(s2l_if_match("*", NULL));
    CHECK(s2l_if_match(v, v));
    CHECK(s2l_if_match("\"20240101120000.000000Z#000000#000#000000\"", v)); /* weak comparison */
    CHECK(s2l_if_match("W/\"x\"", "\"x\""));
    CHECK(s2l_if_match("\"a\", W/\"b\" ,  \"20240101120000.000000Z#000000#000#000000\"  ", v));
    CHECK(s2l_if_match(" ,*", v));
    CHECK(!s2l_if_match("\"other\"", v));
    CHECK(!s2l_if_match("W/\"x\"", NULL));
    CHECK(!s2l_if_match("", v));
    CHECK(!s2l_if_match("\"x\"", "W/\"xy\""));
    CHECK(s2l_if_match("\"a,b\"", "W/\"a,b\"")); /* a comma inside quotes does not split */
    CHECK(!s2l_if_match("\"a", "W/\"a\""));
}

static void test_content_type(void)
{
    CHECK(s2l_content_type_is_json(NULL));
    CHECK(s2l_content_type_is_json("application/scim+json"));
    CHECK(s2l_content_type_is_json("application/json"));
    CHECK(s2l_content_type_is_json("  Application/SCIM+JSON; charset=utf-8"));
    CHECK(s2l_content_type_is_json("application/json\t;charset=utf-8"));
    CHECK(!s2l_content_type_is_json("text/plain"));
    CHECK(!s2l_content_type_is_json("application/jsonx"));
    CHECK(!s2l_content_type_is_json("application/x-www-form-urlencoded"));
    CHECK(!s2l_content_type_is_json(""));
}

static void test_host(void)
{
    CHECK(s2l_http_host_ok("scim.example.org"));
    CHECK(s2l_http_host_ok("127.0.0.1:8080"));
    CHECK(s2l_http_host_ok("gw_1.internal:443"));
    CHECK(s2l_http_host_ok("[::1]:8443"));
    CHECK(s2l_http_host_ok("[2001:db8::192.0.2.1]"));
    CHECK(!s2l_http_host_ok(NULL));
    CHECK(!s2l_http_host_ok(""));
    CHECK(!s2l_http_host_ok("h\xc3\xa9te"));       /* not ASCII */
    CHECK(!s2l_http_host_ok("\xff\xfe"));          /* not UTF-8 */
    CHECK(!s2l_http_host_ok("a b"));
    CHECK(!s2l_http_host_ok("evil\"><x"));
    CHECK(!s2l_http_host_ok("a/b"));
    CHECK(!s2l_http_host_ok("a:"));
    CHECK(!s2l_http_host_ok("a:123456"));
    CHECK(!s2l_http_host_ok("a:80x"));
    CHECK(!s2l_http_host_ok(":80"));
    CHECK(!s2l_http_host_ok("[]:80"));
    CHECK(!s2l_http_host_ok("[::1"));
    CHECK(!s2l_http_host_ok("user@host"));
    char longhost[300];
    memset(longhost, 'a', sizeof longhost - 1);
    longhost[sizeof longhost - 1] = '\0';
    CHECK(!s2l_http_host_ok(longhost));
}

int main(void)
{
    test_host();
    test_uri_decode();
    test_query();
    test_nul();
    test_if_match();
    test_content_type();
    return UNIT_DONE();
}
