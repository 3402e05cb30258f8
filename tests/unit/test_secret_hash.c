/* test_secret_hash.c — PBKDF2-SHA256 and scrypt hash strings: known answers
 * from RFC 7914 §11 (through the verify path), make → parse → verify, cost
 * limits, malformed strings. Costs are kept low so the test takes no time. */
#include <string.h>

#include "s2l/secret_hash.h"
#include "unit.h"

static void hex_to(const char *hex, unsigned char *out, size_t *len)
{
    *len = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        while (*hex == ' ')
            hex++;
        unsigned v;
        sscanf(hex, "%2x", &v);
        out[(*len)++] = (unsigned char)v;
    }
}

static void test_known_answers(void)
{
    /* RFC 7914 §11: PBKDF2-HMAC-SHA256 (P="passwd", S="salt", c=1, dkLen=64). */
    s2l_secret_hash h = {.params = {.kind = S2L_HASH_PBKDF2_SHA256, .iterations = 1}};
    memcpy(h.salt, "salt", 4);
    h.salt_len = 4;
    hex_to("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
           "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783",
           h.dk, &h.dk_len);
    CHECK_INT(h.dk_len, 64);
    CHECK(s2l_secret_hash_verify(&h, "passwd", 6));
    CHECK(!s2l_secret_hash_verify(&h, "passwe", 6));
    /* RFC 7914 §12: scrypt (P="password", S="NaCl", N=1024, r=8, p=16, dkLen=64). */
    s2l_secret_hash s = {.params = {.kind = S2L_HASH_SCRYPT, .ln = 10, .r = 8, .p = 16}};
    memcpy(s.salt, "NaCl", 4);
    s.salt_len = 4;
    hex_to("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
           "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640",
           s.dk, &s.dk_len);
    CHECK(s2l_secret_hash_verify(&s, "password", 8));
    CHECK(!s2l_secret_hash_verify(&s, "Password", 8));
}

static void roundtrip(const s2l_hash_params *p, const char *prefix)
{
    char text[S2L_SECRET_HASH_TEXT_MAX], again[S2L_SECRET_HASH_TEXT_MAX], err[256];
    s2l_secret_hash h;
    CHECK(s2l_secret_hash_make("correct horse", 13, p, text, sizeof text, err, sizeof err) == 0);
    CHECK(strncmp(text, prefix, strlen(prefix)) == 0);
    CHECK(strstr(text, "correct") == NULL);
    CHECK(s2l_secret_hash_parse(text, &h, err, sizeof err) == 0);
    CHECK_INT(h.salt_len, 16);
    CHECK_INT(h.dk_len, 32);
    CHECK(s2l_secret_hash_verify(&h, "correct horse", 13));
    CHECK(!s2l_secret_hash_verify(&h, "correct horsE", 13));
    CHECK(!s2l_secret_hash_verify(&h, "correct hors", 12));
    /* a fresh salt each time */
    CHECK(s2l_secret_hash_make("correct horse", 13, p, again, sizeof again, err, sizeof err) == 0);
    CHECK(strcmp(text, again) != 0);
}

static void test_roundtrip(void)
{
    s2l_hash_params pb = {.kind = S2L_HASH_PBKDF2_SHA256, .iterations = 10000};
    roundtrip(&pb, "$pbkdf2-sha256$i=10000$");
    s2l_hash_params sc = {.kind = S2L_HASH_SCRYPT, .ln = 10, .r = 8, .p = 1};
    roundtrip(&sc, "$scrypt$ln=10,r=8,p=1$");
    s2l_hash_params d = s2l_hash_defaults(S2L_HASH_PBKDF2_SHA256);
    CHECK_INT(d.iterations, 600000);
    d = s2l_hash_defaults(S2L_HASH_SCRYPT);
    CHECK(d.ln == 15 && d.r == 8 && d.p == 3);
}

static void test_errors(void)
{
    char text[S2L_SECRET_HASH_TEXT_MAX], err[256];
    s2l_secret_hash h;
    s2l_hash_params cheap = {.kind = S2L_HASH_PBKDF2_SHA256, .iterations = 1000};
    CHECK(s2l_secret_hash_make("x", 1, &cheap, text, sizeof text, err, sizeof err) < 0);
    CHECK(strstr(err, "iterations") != NULL);
    s2l_hash_params huge = {.kind = S2L_HASH_SCRYPT, .ln = 20, .r = 32, .p = 16};
    CHECK(s2l_secret_hash_make("x", 1, &huge, text, sizeof text, err, sizeof err) < 0);
    s2l_hash_params ok = {.kind = S2L_HASH_PBKDF2_SHA256, .iterations = 10000};
    CHECK(s2l_secret_hash_make("", 0, &ok, text, sizeof text, err, sizeof err) < 0);
    CHECK(s2l_secret_hash_make("x", 1, &ok, text, 20, err, sizeof err) < 0);
    const char *bad[] = {
        "plaintext",
        "$pbkdf2-sha256$i=10000$c2FsdHNhbHQ",                              /* no hash */
        "$pbkdf2-sha256$i=abc$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA",
        "$pbkdf2-sha256$i=10$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA",          /* too cheap */
        "$pbkdf2-sha256$i=10000$c2FsdA$c2FsdHNhbHRzYWx0c2FsdA",            /* 4-byte salt */
        "$pbkdf2-sha256$i=10000$c2FsdHNhbHQ$c2FsdA",                       /* 4-byte digest */
        "$pbkdf2-sha256$i=10000$c2Fs!HNhbHQ$c2FsdHNhbHRzYWx0c2FsdA",       /* bad base64 */
        "$scrypt$ln=10,r=8$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA",            /* no p */
        "$scrypt$ln=30,r=8,p=1$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA",        /* N too big */
        "$bcrypt$12$abc",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        CHECK(s2l_secret_hash_parse(bad[i], &h, err, sizeof err) < 0);
        CHECK(err[0] != 0);
    }
    CHECK(s2l_secret_hash_parse("$pbkdf2-sha256$i=10000$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA", &h, err,
                                sizeof err) == 0);
}

int main(void)
{
    test_known_answers();
    test_roundtrip();
    test_errors();
    return UNIT_DONE();
}
