/* test_auth_formats.c — the pure text and arithmetic pieces of authentication:
 * base64 / base64url, the Authorization header, Basic credentials, form
 * bodies, CIDR matching (IPv4, IPv6, mapped) and token buckets with a clock
 * passed in. */
#include <string.h>

#include "s2l/base64.h"
#include "s2l/cidr.h"
#include "s2l/http_auth.h"
#include "s2l/rate_limit.h"
#include "unit.h"

static void b64_case(const char *raw, const char *std, const char *url)
{
    char out[128];
    unsigned char back[128];
    size_t n = strlen(raw), len = 0;
    s2l_b64_encode((const unsigned char *)raw, n, out);
    CHECK_STR(out, std);
    s2l_b64url_encode((const unsigned char *)raw, n, out);
    CHECK_STR(out, url);
    CHECK_INT(s2l_b64_encoded_len(n), strlen(url));
    CHECK(s2l_b64url_decode(url, strlen(url), back, &len) == 0);
    CHECK_INT(len, n);
    CHECK(memcmp(back, raw, n) == 0);
    CHECK(s2l_b64_decode(std, strlen(std), back, &len) == 0);
    CHECK_INT(len, n);
}

static void test_base64(void)
{
    /* RFC 4648 §10 vectors (no padding) and characters that differ between alphabets. */
    b64_case("", "", "");
    b64_case("f", "Zg", "Zg");
    b64_case("fo", "Zm8", "Zm8");
    b64_case("foo", "Zm9v", "Zm9v");
    b64_case("foob", "Zm9vYg", "Zm9vYg");
    b64_case("fooba", "Zm9vYmE", "Zm9vYmE");
    b64_case("foobar", "Zm9vYmFy", "Zm9vYmFy");
    b64_case("\xfb\xff\xbf", "+/+/", "-_-_");
    unsigned char out[64];
    size_t len;
    CHECK(s2l_b64_decode("Zm9vYg==", 8, out, &len) == 0 && len == 4); /* padded */
    CHECK(s2l_b64_decode("Zm9vYg=", 7, out, &len) < 0);               /* half a pad */
    CHECK(s2l_b64url_decode("Zm9vYg==", 8, out, &len) < 0);           /* JWS: no padding */
    CHECK(s2l_b64url_decode("Zm9v+g", 6, out, &len) < 0);             /* wrong alphabet */
    CHECK(s2l_b64_decode("Zm9v-g", 6, out, &len) < 0);
    CHECK(s2l_b64url_decode("Z", 1, out, &len) < 0);                  /* impossible length */
    CHECK(s2l_b64url_decode("Zm 9", 4, out, &len) < 0);
}

static void authz_case(const char *value, s2l_authz_scheme scheme, const char *cred)
{
    s2l_authz z;
    s2l_authz_parse(value, &z);
    CHECK_INT(z.scheme, scheme);
    if (cred) {
        CHECK_INT(z.cred_len, strlen(cred));
        CHECK(z.cred != NULL && strncmp(z.cred, cred, z.cred_len) == 0);
    }
}

static void test_authorization_header(void)
{
    authz_case(NULL, S2L_AUTHZ_NONE, NULL);
    authz_case("", S2L_AUTHZ_NONE, NULL);
    authz_case("   ", S2L_AUTHZ_NONE, NULL);
    authz_case("Bearer abc.def-ghi", S2L_AUTHZ_BEARER, "abc.def-ghi");
    authz_case("bearer   tok  ", S2L_AUTHZ_BEARER, "tok"); /* scheme case-insensitive, spaces trimmed */
    authz_case("BEARER\ttok", S2L_AUTHZ_BEARER, "tok");
    authz_case("Basic dXNlcjpwdw==", S2L_AUTHZ_BASIC, "dXNlcjpwdw==");
    authz_case("a-bare-token-0123456789", S2L_AUTHZ_RAW, "a-bare-token-0123456789"); /* Okta "Header" */
    authz_case("Bearer", S2L_AUTHZ_MALFORMED, NULL);
    authz_case("Basic", S2L_AUTHZ_MALFORMED, NULL);
    authz_case("Bearer two words", S2L_AUTHZ_MALFORMED, NULL);
    authz_case("Negotiate YIIx", S2L_AUTHZ_OTHER, "YIIx");
    authz_case("Bearertok", S2L_AUTHZ_RAW, "Bearertok");
}

static void test_basic(void)
{
    char buf[S2L_BASIC_MAX + 8];
    const char *u, *p;
    /* "okta:pa:ss word" — the password may contain colons and spaces */
    CHECK(s2l_basic_decode("b2t0YTpwYTpzcyB3b3Jk", 20, buf, sizeof buf, &u, &p) == 0);
    CHECK_STR(u, "okta");
    CHECK_STR(p, "pa:ss word");
    CHECK(s2l_basic_decode("OnB3", 4, buf, sizeof buf, &u, &p) == 0); /* ":pw": empty user */
    CHECK_STR(u, "");
    CHECK(s2l_basic_decode("bm9jb2xvbg", 10, buf, sizeof buf, &u, &p) < 0);   /* "nocolon" */
    CHECK(s2l_basic_decode("dQB4OnB3", 8, buf, sizeof buf, &u, &p) < 0);     /* "u\0x:pw" */
    CHECK(s2l_basic_decode("dQp4OnB3", 8, buf, sizeof buf, &u, &p) < 0);     /* "u\nx:pw" */
    CHECK(s2l_basic_decode("!!!!", 4, buf, sizeof buf, &u, &p) < 0);
    char big[2000];
    memset(big, 'Q', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK(s2l_basic_decode(big, strlen(big), buf, sizeof buf, &u, &p) < 0); /* too long */
    char small[16];
    CHECK(s2l_basic_decode("dTpw", 4, small, sizeof small, &u, &p) < 0); /* buffer too small */
}

static void test_form(void)
{
    const char *why = NULL;
    const char body[] = "grant_type=client_credentials&client_id=m%2Dfiles&client_secret=a+b%2Bc&scope=";
    json_t *f = s2l_form_parse(body, strlen(body), &why);
    CHECK(f != NULL);
    CHECK_STR(json_string_value(json_object_get(f, "grant_type")), "client_credentials");
    CHECK_STR(json_string_value(json_object_get(f, "client_id")), "m-files");
    CHECK_STR(json_string_value(json_object_get(f, "client_secret")), "a b+c");
    CHECK_STR(json_string_value(json_object_get(f, "scope")), "");
    json_decref(f);
    f = s2l_form_parse("a=1&&b", 6, &why);
    CHECK(f != NULL && json_object_size(f) == 2);
    CHECK_STR(json_string_value(json_object_get(f, "b")), "");
    json_decref(f);
    f = s2l_form_parse("", 0, &why);
    CHECK(f != NULL && json_object_size(f) == 0);
    json_decref(f);
    struct { const char *body; const char *why; } bad[] = {
        {"a=1&a=2", "more than once"}, {"a=%zz", "percent"}, {"a=%4", "percent"},
        {"a=%00", "percent"},          {"=x", "without a name"}, {"a=%ff", "UTF-8"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        f = s2l_form_parse(bad[i].body, strlen(bad[i].body), &why);
        CHECK(f == NULL);
        CHECK(why != NULL && strstr(why, bad[i].why) != NULL);
        json_decref(f);
    }
    char many[400] = "";
    for (int i = 0; i < 40; i++) {
        char part[16];
        snprintf(part, sizeof part, "%sp%d=1", i ? "&" : "", i);
        strcat(many, part);
    }
    f = s2l_form_parse(many, strlen(many), &why);
    CHECK(f == NULL);
    char *d = s2l_form_decode("a%20b+c", 7, false);
    CHECK_STR(d, "a b+c");
    free(d);
}

static bool cidr_has(const char *cidr, const char *ip)
{
    s2l_cidr c;
    s2l_ip a;
    const char *why;
    return s2l_cidr_parse(cidr, &c, &why) == 0 && s2l_ip_parse(ip, &a) == 0 && s2l_cidr_match(&c, &a);
}

static void test_cidr(void)
{
    CHECK(cidr_has("10.0.0.0/8", "10.255.1.2"));
    CHECK(!cidr_has("10.0.0.0/8", "11.0.0.1"));
    CHECK(cidr_has("192.0.2.128/25", "192.0.2.200"));
    CHECK(!cidr_has("192.0.2.128/25", "192.0.2.127"));
    CHECK(cidr_has("192.0.2.7", "192.0.2.7"));
    CHECK(!cidr_has("192.0.2.7", "192.0.2.8"));
    CHECK(cidr_has("0.0.0.0/0", "203.0.113.9"));
    CHECK(!cidr_has("0.0.0.0/0", "2001:db8::1")); /* families do not mix */
    CHECK(cidr_has("2001:db8::/32", "2001:db8:ffff::1"));
    CHECK(!cidr_has("2001:db8::/32", "2001:db9::1"));
    CHECK(cidr_has("::1", "::1"));
    CHECK(cidr_has("2001:db8::/127", "2001:db8::1"));
    /* A dual-stack listener reports IPv4 clients as mapped addresses. */
    CHECK(cidr_has("127.0.0.0/8", "::ffff:127.0.0.1"));
    CHECK(cidr_has("::ffff:10.0.0.0/104", "10.1.2.3"));
    s2l_cidr c;
    const char *why = NULL;
    CHECK(s2l_cidr_parse("10.1.0.0/8", &c, &why) < 0 && strstr(why, "beyond the prefix") != NULL);
    CHECK(s2l_cidr_parse("10.0.0.0/33", &c, &why) < 0);
    CHECK(s2l_cidr_parse("10.0.0.0/", &c, &why) < 0);
    CHECK(s2l_cidr_parse("10.0.0.0/-1", &c, &why) < 0);
    CHECK(s2l_cidr_parse("2001:db8::/129", &c, &why) < 0);
    CHECK(s2l_cidr_parse("example.org", &c, &why) < 0);
    CHECK(s2l_cidr_parse("", &c, &why) < 0);
    s2l_ip ip;
    char text[S2L_IP_TEXT_MAX];
    CHECK(s2l_ip_parse("::ffff:192.0.2.1", &ip) == 0 && ip.family == 4);
    s2l_ip_format(&ip, text, sizeof text);
    CHECK_STR(text, "192.0.2.1");
    CHECK(s2l_ip_parse("2001:db8::1", &ip) == 0 && ip.family == 6);
    s2l_ip_format(&ip, text, sizeof text);
    CHECK_STR(text, "2001:db8::1");
}

static void test_bucket(void)
{
    s2l_rate r = {.per_second = 2, .burst = 3};
    s2l_bucket b;
    int retry = 0;
    s2l_bucket_init(&b, &r, 1000);
    CHECK(s2l_bucket_take(&b, &r, 1000, &retry) == 0);
    CHECK(s2l_bucket_take(&b, &r, 1000, &retry) == 0);
    CHECK(s2l_bucket_take(&b, &r, 1000, &retry) == 0);
    CHECK(s2l_bucket_take(&b, &r, 1000, &retry) < 0); /* burst used up */
    CHECK_INT(retry, 1);
    CHECK(s2l_bucket_take(&b, &r, 1400, &retry) < 0); /* 0.8 tokens */
    CHECK(s2l_bucket_take(&b, &r, 1500, &retry) == 0); /* 1.0 */
    CHECK(s2l_bucket_take(&b, &r, 100000, &retry) == 0); /* refilled, capped at burst */
    CHECK(s2l_bucket_take(&b, &r, 100000, &retry) == 0);
    CHECK(s2l_bucket_take(&b, &r, 100000, &retry) == 0);
    CHECK(s2l_bucket_take(&b, &r, 100000, &retry) < 0);
    CHECK(s2l_bucket_take(&b, &r, 50000, &retry) < 0); /* the clock went back: no refill */
    /* slow refill: retry-after rounds up */
    s2l_rate slow = {.per_second = 0.1, .burst = 1};
    s2l_bucket_init(&b, &slow, 0);
    CHECK(s2l_bucket_take(&b, &slow, 0, &retry) == 0);
    CHECK(s2l_bucket_take(&b, &slow, 1, &retry) < 0);
    CHECK_INT(retry, 10);
    CHECK(s2l_bucket_take(&b, &slow, 9999, &retry) < 0);
    CHECK_INT(retry, 1);
    CHECK(s2l_bucket_take(&b, &slow, 10001, &retry) == 0);
}

static void test_source_limiter(void)
{
    s2l_rate r = {.per_second = 6 / 60.0, .burst = 3};
    s2l_source_limiter *l = s2l_source_limiter_create(&r, 16);
    s2l_ip a, b;
    int retry = 0;
    CHECK(l != NULL);
    s2l_ip_parse("192.0.2.1", &a);
    s2l_ip_parse("2001:db8::1", &b);
    CHECK(s2l_source_limiter_check(l, &a, 0, &retry) == 0);
    s2l_source_limiter_fail(l, &a, 0);
    s2l_source_limiter_fail(l, &a, 0);
    CHECK(s2l_source_limiter_check(l, &a, 0, &retry) == 0);
    s2l_source_limiter_fail(l, &a, 0);
    CHECK(s2l_source_limiter_check(l, &a, 0, &retry) < 0);
    CHECK_INT(retry, 10);
    CHECK(s2l_source_limiter_check(l, &b, 0, &retry) == 0); /* another source is unaffected */
    CHECK(s2l_source_limiter_check(l, &a, 10000, &retry) == 0); /* one attempt back after 10 s */
    s2l_source_limiter_fail(l, &a, 10000);
    CHECK(s2l_source_limiter_check(l, &a, 10000, &retry) < 0);
    /* Many sources: the table stays bounded and a busy source keeps its record
     * (recovered entries are reused first). */
    for (int i = 0; i < 1000; i++) {
        s2l_ip x;
        char t[32];
        snprintf(t, sizeof t, "10.0.%d.%d", i / 250, i % 250);
        s2l_ip_parse(t, &x);
        s2l_source_limiter_fail(l, &x, 10000 + 200000 * (i + 1));
    }
    s2l_source_limiter_destroy(l);
}

int main(void)
{
    test_base64();
    test_authorization_header();
    test_basic();
    test_form();
    test_cidr();
    test_bucket();
    test_source_limiter();
    return UNIT_DONE();
}
