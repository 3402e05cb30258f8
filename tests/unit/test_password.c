/* test_password.c — password schemes: SHA-512 crypt against the vectors of
 * its specification (and libxcrypt for the empty and a long key), {SSHA*}
 * round trips and fixed vectors, AD's unicodePwd bytes, scheme names, and
 * that random salts differ. */
#include "s2l/password.h"
#include "unit.h"

#include <stdint.h>

static void crypt_vectors(void)
{
    static const struct {
        const char *setting, *key, *want;
    } v[] = {
        {"$6$saltstring", "Hello world!",
         "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
        {"$6$rounds=10000$saltstringsaltstring", "Hello world!",
         "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/"
         "YTBmSK6H9qs/y3RnOaw5v."},
        {"$6$rounds=5000$toolongsaltstring", "This is just a test",
         "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/"
         "e1JSbq3y6JMxxl8audkUEm0"},
        /* the specification clamps the rounds to 1000 */
        {"$6$rounds=10$roundstoolow", "the minimum number is still observed",
         "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBY"
         "YBaHHrsX."},
        {"$6$abc", "",
         "$6$abc$mJP3a6FyA8uCnzRtlnNypPwjnvpi5TP9qOrInzrfDmwxUQG38PkpCPdqfTb8JQfAngapMxeim4AZ..hSdRRzD."},
        {"$6$abcdefgh", NULL, /* 200 x "x": key longer than a digest */
         "$6$abcdefgh$tpP3/LI4wMLKhgKp8bTwVQweEEM46u1QVpxJ4s7//kd/n92pnKvxNc51RM.csWa9OlZn10Z4pRopwomQmhBXx1"},
    };
    char longkey[201];
    memset(longkey, 'x', 200);
    longkey[200] = 0;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        const char *key = v[i].key ? v[i].key : longkey;
        char *h = s2l_sha512_crypt(key, strlen(key), v[i].setting);
        CHECK_STR(h, v[i].want);
        free(h);
    }
    CHECK(s2l_sha512_crypt("x", 1, "$6$rounds=x$salt") == NULL);
}

static void crypt_scheme(void)
{
    size_t n = 0;
    char *v = s2l_pw_encode_salted(S2L_PW_CRYPT_SHA512, "Hello world!", 12, (const unsigned char *)"saltstring", 10, &n);
    CHECK_STR(v, "{CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfa"
                 "S35inz1");
    CHECK_INT(n, v ? strlen(v) : 0);
    CHECK(v && s2l_pw_verify(v, n, "Hello world!", 12));
    CHECK(v && !s2l_pw_verify(v, n, "Hello world?", 12));
    s2l_pw_free(v, n);
    /* a salt character outside the crypt alphabet is refused */
    CHECK(s2l_pw_encode_salted(S2L_PW_CRYPT_SHA512, "x", 1, (const unsigned char *)"a$b", 3, &n) == NULL);

    char *a = s2l_pw_encode(S2L_PW_CRYPT_SHA512, "S3cret!", 7, &n);
    size_t m = 0;
    char *b = s2l_pw_encode(S2L_PW_CRYPT_SHA512, "S3cret!", 7, &m);
    CHECK(a && strncmp(a, "{CRYPT}$6$", 10) == 0 && strlen(a) == 7 + 3 + 16 + 1 + 86);
    CHECK(a && b && strcmp(a, b) != 0); /* fresh salts */
    CHECK(a && s2l_pw_verify(a, n, "S3cret!", 7) && !s2l_pw_verify(a, n, "S3cret", 6));
    CHECK(a && strstr(a, "S3cret!") == NULL);
    s2l_pw_free(a, n);
    s2l_pw_free(b, m);
}

static void ssha_schemes(void)
{
    size_t n = 0;
    /* {SSHA} of "secret" with salt "salt": base64(sha1("secretsalt") + "salt"), as openssl computes it */
    char *v = s2l_pw_encode_salted(S2L_PW_SSHA, "secret", 6, (const unsigned char *)"salt", 4, &n);
    CHECK_STR(v, "{SSHA}gVK8WC9YyFT1gMsQHTGCgT3sSv5zYWx0");
    CHECK(v && s2l_pw_verify(v, n, "secret", 6) && !s2l_pw_verify(v, n, "Secret", 6));
    s2l_pw_free(v, n);

    const s2l_pw_scheme ss[] = {S2L_PW_SSHA, S2L_PW_SSHA256, S2L_PW_SSHA512};
    const char *prefixes[] = {"{SSHA}", "{SSHA256}", "{SSHA512}"};
    for (size_t i = 0; i < 3; i++) {
        v = s2l_pw_encode(ss[i], "pässwörd", strlen("pässwörd"), &n);
        CHECK(v && strncmp(v, prefixes[i], strlen(prefixes[i])) == 0);
        CHECK(v && s2l_pw_verify(v, n, "pässwörd", strlen("pässwörd")));
        CHECK(v && !s2l_pw_verify(v, n, "passwort", 8));
        s2l_pw_free(v, n);
    }
    CHECK(!s2l_pw_verify("{SSHA}!!!!", 10, "x", 1));
    CHECK(!s2l_pw_verify("{MD5}abc", 8, "x", 1));
    CHECK(!s2l_pw_verify("cleartext", 9, "cleartext", 9));
}

static void unicode_pwd(void)
{
    size_t n = 0;
    char *v = s2l_pw_encode(S2L_PW_UNICODEPWD, "Ab1!", 4, &n);
    static const unsigned char want[] = {'"', 0, 'A', 0, 'b', 0, '1', 0, '!', 0, '"', 0};
    CHECK_INT(n, sizeof want);
    CHECK(v && n == sizeof want && memcmp(v, want, n) == 0);
    s2l_pw_free(v, n);
    /* "é€😀": 2-, 3- and 4-byte UTF-8 → one unit, one unit, a surrogate pair */
    v = s2l_pw_encode(S2L_PW_UNICODEPWD, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, &n);
    static const unsigned char want2[] = {'"', 0, 0xe9, 0x00, 0xac, 0x20, 0x3d, 0xd8, 0x00, 0xde, '"', 0};
    CHECK(v && n == sizeof want2 && memcmp(v, want2, n) == 0);
    s2l_pw_free(v, n);
    CHECK(s2l_pw_encode(S2L_PW_UNICODEPWD, "\xff", 1, &n) == NULL);
    CHECK(s2l_pw_encode(S2L_PW_UNICODEPWD, "\xed\xa0\x80", 3, &n) == NULL); /* a lone surrogate */
    CHECK(s2l_pw_encode(S2L_PW_UNICODEPWD, "\xc3", 1, &n) == NULL);         /* cut short */
    CHECK(s2l_pw_scheme_binary(S2L_PW_UNICODEPWD) && !s2l_pw_scheme_binary(S2L_PW_CRYPT_SHA512));
}

static void names(void)
{
    s2l_pw_scheme s;
    CHECK(s2l_pw_scheme_parse("{crypt}", &s) && s == S2L_PW_CRYPT_SHA512);
    CHECK(s2l_pw_scheme_parse("{SSHA512}", &s) && s == S2L_PW_SSHA512);
    CHECK(s2l_pw_scheme_parse("directory", &s) && s == S2L_PW_DIRECTORY);
    CHECK(s2l_pw_scheme_parse("unicodePwd", &s) && s == S2L_PW_UNICODEPWD);
    CHECK(!s2l_pw_scheme_parse("{MD5}", &s));
    CHECK(!s2l_pw_scheme_parse(NULL, &s));
    CHECK_STR(s2l_pw_scheme_name(S2L_PW_SSHA256), "{SSHA256}");
    size_t n = 0;
    char *v = s2l_pw_encode(S2L_PW_DIRECTORY, "as is", 5, &n);
    CHECK_STR(v, "as is");
    s2l_pw_free(v, n);
}

int main(void)
{
    crypt_vectors();
    crypt_scheme();
    ssha_schemes();
    unicode_pwd();
    names();
    return UNIT_DONE();
}
