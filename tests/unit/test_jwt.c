/* test_jwt.c — JWS/JWT: RFC 7515 Appendix A known answers (HS256, RS256,
 * ES256), tokens made independently with OpenSSL (jose_fixture.h), algorithm
 * confusion (alg none, HS256 keyed with an RSA public key), claims, key sets,
 * PEM and signing keys, ECDSA signature form conversion. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jose_fixture.h"
#include "s2l/base64.h"
#include "s2l/jwt.h"
#include "unit.h"

static char dir[] = "/tmp/s2l-jwt-XXXXXX";
static json_t *vectors;

static const char *tmp_path(const char *name)
{
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static bool verifies(const char *token, const s2l_jwk *key)
{
    s2l_jwt t;
    const char *why;
    if (s2l_jwt_parse(token, strlen(token), &t, &why) < 0)
        return false;
    bool ok = s2l_jwt_verify(&t, token, key);
    s2l_jwt_fini(&t);
    return ok;
}

static void load_vectors(void)
{
    const char *src = getenv("S2L_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/auth/rfc7515.json", src ? src : ".");
    json_error_t jerr;
    vectors = json_load_file(path, 0, &jerr);
    if (vectors == NULL)
        fprintf(stderr, "%s: %s\n", path, jerr.text);
}

static void test_rfc7515(void)
{
    CHECK(vectors != NULL);
    if (vectors == NULL)
        return;
    const char *why = NULL;
    char err[256];

    /* A.1 HS256 with the RFC's octet key. */
    const char *k = json_string_value(json_object_get(json_object_get(vectors, "hs256"), "k"));
    const char *hs = json_string_value(json_object_get(json_object_get(vectors, "hs256"), "token"));
    s2l_jwk hkey = {.alg = S2L_JWS_HS256};
    hkey.secret = malloc(s2l_b64_decoded_max(strlen(k)));
    CHECK(s2l_b64url_decode(k, strlen(k), hkey.secret, &hkey.secret_len) == 0 && hkey.secret_len == 64);
    CHECK(verifies(hs, &hkey));
    s2l_jwt t;
    CHECK(s2l_jwt_parse(hs, strlen(hs), &t, &why) == 0);
    CHECK_STR(s2l_jwt_claim_str(&t, "iss"), "joe");
    CHECK(json_is_true(json_object_get(t.claims, "http://example.com/is_root")));
    CHECK_INT(t.alg, S2L_JWS_HS256);
    s2l_jwt_fini(&t);

    /* A.2 RS256: the RFC's public key as a JWK. */
    s2l_jwk rkey;
    const char *skipped = NULL;
    CHECK(s2l_jwk_from_json(json_object_get(json_object_get(vectors, "rs256"), "jwk"), &rkey, &skipped, err,
                            sizeof err) == 0);
    const char *rs = json_string_value(json_object_get(json_object_get(vectors, "rs256"), "token"));
    CHECK_INT(rkey.alg, S2L_JWS_RS256);
    CHECK(verifies(rs, &rkey));
    /* One changed payload character breaks it. */
    char *tampered = strdup(rs);
    char *dot = strchr(tampered, '.');
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    CHECK(!verifies(tampered, &rkey));
    free(tampered);
    /* The RS256 token does not verify with the HS256 key, nor the HS256 token with the RSA key. */
    CHECK(!verifies(rs, &hkey));
    CHECK(!verifies(hs, &rkey));

    /* A.3 ES256. */
    s2l_jwk ekey;
    CHECK(s2l_jwk_from_json(json_object_get(json_object_get(vectors, "es256"), "jwk"), &ekey, &skipped, err,
                            sizeof err) == 0);
    const char *es = json_string_value(json_object_get(json_object_get(vectors, "es256"), "token"));
    CHECK_INT(ekey.alg, S2L_JWS_ES256);
    CHECK(verifies(es, &ekey));
    CHECK(!verifies(es, &rkey));
    /* Claims of the RFC's token: expired long ago, valid when it was made. */
    CHECK(s2l_jwt_parse(es, strlen(es), &t, &why) == 0);
    const char *iss[] = {"joe"}, *aud[] = {"anyone"};
    s2l_jwt_expect e = {iss, 1, aud, 1, 1300819000, 0};
    CHECK_INT(s2l_jwt_check_claims(&t, &e), S2L_JWT_WRONG_AUDIENCE); /* it has no aud */
    s2l_jwt_fini(&t);
    s2l_jwk_fini(&hkey);
    s2l_jwk_fini(&rkey);
    s2l_jwk_fini(&ekey);
}

static void test_parse_errors(void)
{
    s2l_jwt t;
    const char *why = NULL;
    struct { const char *token; const char *why; } bad[] = {
        {"abc", "three"},
        {"a.b", "three"},
        {"a.b.c.d", "three"},
        {"!!.e30.", "header"},
        {"e30.e30.", "alg"},                                        /* {} header */
        {"WzFd.e30.", "header"},                                    /* [1] header */
        {"eyJhbGciOiJIUzI1NiJ9.WzFd.", "payload"},                  /* [1] payload */
        {"eyJhbGciOiJIUzI1NiJ9.e30.a=", "signature"},               /* padding */
        {"eyJhbGciOiJIUzI1NiIsImNyaXQiOlsiZXhwIl19.e30.", "crit"},  /* {"alg":"HS256","crit":["exp"]} */
        {"eyJhbGciOjF9.e30.", "alg"},                               /* {"alg":1} */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        CHECK(s2l_jwt_parse(bad[i].token, strlen(bad[i].token), &t, &why) < 0);
        if (why == NULL || strstr(why, bad[i].why) == NULL) {
            fprintf(stderr, "case %zu: why \"%s\" lacks \"%s\"\n", i, why ? why : "(null)", bad[i].why);
            CHECK(0);
        }
    }
    char *big = malloc(S2L_JWT_MAX_LEN + 10);
    memset(big, 'a', S2L_JWT_MAX_LEN + 9);
    big[10] = '.';
    big[20] = '.';
    big[S2L_JWT_MAX_LEN + 9] = 0;
    CHECK(s2l_jwt_parse(big, strlen(big), &t, &why) < 0);
    CHECK(!s2l_jwt_shaped(big, strlen(big)));
    free(big);
    CHECK(s2l_jwt_shaped("a.b.c", 5));
    CHECK(!s2l_jwt_shaped("a.b.", 4));
    CHECK(!s2l_jwt_shaped("a..c", 4));
    CHECK(!s2l_jwt_shaped("a.b.c.d", 7));
    CHECK(!s2l_jwt_shaped("a.b+.c", 6));
    /* alg none parses, as UNSUPPORTED, and verifies with nothing */
    CHECK(s2l_jwt_parse("eyJhbGciOiJub25lIn0.e30.", 24, &t, &why) == 0);
    CHECK_INT(t.alg, S2L_JWS_UNSUPPORTED);
    s2l_jwt_fini(&t);
    CHECK_INT(s2l_jws_alg_from_name("none"), S2L_JWS_UNSUPPORTED);
    CHECK_INT(s2l_jws_alg_from_name("HS512"), S2L_JWS_UNSUPPORTED);
    CHECK_INT(s2l_jws_alg_from_name("rs256"), S2L_JWS_UNSUPPORTED);
}

/* Keys made here, tokens signed by the fixture (independent code). */
static void test_independent_tokens(void)
{
    char err[512];
    EVP_PKEY *rsa = jf_rsa_key(2048), *ec = jf_ec_key();
    CHECK(rsa != NULL && ec != NULL);
    json_t *set = json_pack("{s:[o,o]}", "keys", jf_public_jwk(rsa, "r1"), jf_public_jwk(ec, "e1"));
    s2l_jwks keys = {0};
    CHECK(s2l_jwks_add_json(&keys, set, err, sizeof err) == 2);
    json_decref(set);
    const char *payload = "{\"iss\":\"https://idp.example\",\"aud\":\"scim\",\"exp\":4102444800}";
    char *rs = jf_sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"r1\"}", payload, rsa, NULL, 0);
    char *es = jf_sign("ES256", "{\"alg\":\"ES256\",\"kid\":\"e1\"}", payload, ec, NULL, 0);
    s2l_jwt t;
    const char *why;
    CHECK(s2l_jwt_parse(rs, strlen(rs), &t, &why) == 0);
    CHECK(s2l_jwk_matches(&keys.keys[0], &t) && !s2l_jwk_matches(&keys.keys[1], &t));
    CHECK(s2l_jwt_verify(&t, rs, &keys.keys[0]));
    s2l_jwt_fini(&t);
    CHECK(s2l_jwt_parse(es, strlen(es), &t, &why) == 0);
    CHECK(s2l_jwk_matches(&keys.keys[1], &t));
    CHECK(s2l_jwt_verify(&t, es, &keys.keys[1]));
    CHECK(!s2l_jwt_verify(&t, es, &keys.keys[0]));
    s2l_jwt_fini(&t);

    /* Algorithm confusion: HS256 "signed" with the RSA public key (PEM text)
     * as the HMAC secret must not verify with that RSA key. */
    CHECK(jf_write_pem(rsa, tmp_path("rsa.pub.pem"), 0) == 0);
    FILE *f = fopen(tmp_path("rsa.pub.pem"), "r");
    char pem[4096];
    size_t pem_len = f ? fread(pem, 1, sizeof pem, f) : 0;
    if (f)
        fclose(f);
    char *confused = jf_sign("HS256", "{\"alg\":\"HS256\",\"kid\":\"r1\"}", payload, NULL, (unsigned char *)pem,
                             pem_len);
    CHECK(s2l_jwt_parse(confused, strlen(confused), &t, &why) == 0);
    CHECK(!s2l_jwk_matches(&keys.keys[0], &t));
    CHECK(!s2l_jwt_verify(&t, confused, &keys.keys[0]));
    s2l_jwt_fini(&t);
    /* alg none with the right kid */
    char *none = jf_sign("none", "{\"alg\":\"none\",\"kid\":\"r1\"}", payload, NULL, NULL, 0);
    CHECK(s2l_jwt_parse(none, strlen(none), &t, &why) == 0);
    CHECK(!s2l_jwt_verify(&t, none, &keys.keys[0]) && !s2l_jwt_verify(&t, none, &keys.keys[1]));
    s2l_jwt_fini(&t);
    /* An RS256 header on an ES256 signature, and the reverse. */
    char *mixed = jf_sign("ES256", "{\"alg\":\"RS256\",\"kid\":\"r1\"}", payload, ec, NULL, 0);
    CHECK(s2l_jwt_parse(mixed, strlen(mixed), &t, &why) == 0);
    CHECK(!s2l_jwt_verify(&t, mixed, &keys.keys[0]) && !s2l_jwt_verify(&t, mixed, &keys.keys[1]));
    s2l_jwt_fini(&t);

    /* PEM public key and certificate-less PEM file as a key. */
    s2l_jwks pemset = {0};
    CHECK(s2l_jwks_add_pem_file(&pemset, tmp_path("rsa.pub.pem"), NULL, err, sizeof err) == 0);
    CHECK(pemset.n == 1 && pemset.keys[0].kid == NULL && pemset.keys[0].alg == S2L_JWS_RS256);
    CHECK(verifies(rs, &pemset.keys[0]));
    CHECK(s2l_jwks_add_pem_file(&pemset, tmp_path("missing.pem"), NULL, err, sizeof err) < 0);
    CHECK(strstr(err, "cannot read") != NULL);
    s2l_jwks_fini(&pemset);

    free(rs);
    free(es);
    free(confused);
    free(none);
    free(mixed);
    s2l_jwks_fini(&keys);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
}

static void test_key_sets(void)
{
    char err[512];
    const char *why = NULL;
    s2l_jwks set = {0};
    EVP_PKEY *small = jf_rsa_key(1024), *ec = jf_ec_key();
    json_t *enc = jf_public_jwk(ec, "enc");
    json_object_set_new(enc, "use", json_string("enc"));
    json_t *doc = json_pack("{s:[o, o, {s:s, s:s}, {s:s, s:s, s:s, s:s}]}", "keys", jf_public_jwk(small, "short"), enc,
                            "kty", "oct", "k", "c2VjcmV0", "kty", "EC", "crv", "P-384", "x", "AA", "y", "AA");
    /* 1024-bit RSA, an encryption key, an HMAC secret and a P-384 key: nothing usable. */
    CHECK(s2l_jwks_add_json(&set, doc, err, sizeof err) < 0);
    CHECK(strstr(err, "no RSA or EC P-256 signature key") != NULL);
    json_decref(doc);
    /* A point that is not on the curve is refused (invalid-curve attacks). */
    json_t *off = jf_public_jwk(ec, "off");
    json_object_set_new(off, "y", json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"));
    s2l_jwk k;
    CHECK(s2l_jwk_from_json(off, &k, &why, err, sizeof err) < 0);
    json_decref(off);
    /* x of the wrong length */
    json_t *shortx = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", "AAAA", "y", "AAAA");
    CHECK(s2l_jwk_from_json(shortx, &k, &why, err, sizeof err) < 0);
    json_decref(shortx);
    /* alg that does not fit the key type: skipped */
    json_t *wrongalg = jf_public_jwk(ec, "w");
    json_object_set_new(wrongalg, "alg", json_string("RS256"));
    CHECK(s2l_jwk_from_json(wrongalg, &k, &why, err, sizeof err) == 1);
    json_decref(wrongalg);
    CHECK(s2l_jwks_add_file(&set, tmp_path("nope.json"), err, sizeof err) < 0);
    s2l_jwks_fini(&set);
    EVP_PKEY_free(small);
    EVP_PKEY_free(ec);
}

static void test_signing(void)
{
    char err[512];
    EVP_PKEY *rsa = jf_rsa_key(2048), *ec = jf_ec_key();
    CHECK(jf_write_pem(rsa, tmp_path("rsa.key"), 1) == 0);
    CHECK(jf_write_pem(ec, tmp_path("ec.key"), 1) == 0);
    FILE *f = fopen(tmp_path("hs.key"), "w");
    fputs("0123456789abcdef0123456789abcdef-hs256\n", f);
    fclose(f);
    f = fopen(tmp_path("short.key"), "w");
    fputs("too short\n", f);
    fclose(f);
    const char *files[] = {"rsa.key", "ec.key", "hs.key"};
    s2l_jws_alg algs[] = {S2L_JWS_RS256, S2L_JWS_ES256, S2L_JWS_HS256};
    json_t *claims = json_pack("{s:s, s:s, s:I}", "iss", "scim2ldap", "aud", "scim2ldap", "exp", (json_int_t)4102444800);
    for (int i = 0; i < 3; i++) {
        s2l_jwk key, again;
        CHECK(s2l_jwk_load_signing_file(&key, tmp_path(files[i]), err, sizeof err) == 0);
        CHECK_INT(key.alg, algs[i]);
        CHECK(key.kid != NULL && strlen(key.kid) == 16);
        /* The same file gives the same kid (two gateways agree). */
        CHECK(s2l_jwk_load_signing_file(&again, tmp_path(files[i]), err, sizeof err) == 0);
        CHECK_STR(again.kid, key.kid);
        char *tok = s2l_jwt_sign(&key, claims);
        CHECK(tok != NULL);
        s2l_jwt t;
        const char *why;
        CHECK(tok && s2l_jwt_parse(tok, strlen(tok), &t, &why) == 0);
        CHECK_STR(t.kid, key.kid);
        CHECK(s2l_jwt_verify(&t, tok, &again));
        CHECK_STR(json_string_value(json_object_get(t.header, "typ")), "JWT");
        s2l_jwt_fini(&t);
        free(tok);
        s2l_jwk_fini(&key);
        s2l_jwk_fini(&again);
    }
    /* The gateway's ES256 token checks out with OpenSSL directly: r||s → DER → EVP verify. */
    s2l_jwk eck;
    CHECK(s2l_jwk_load_signing_file(&eck, tmp_path("ec.key"), err, sizeof err) == 0);
    char *tok = s2l_jwt_sign(&eck, claims);
    const char *sig_txt = strrchr(tok, '.') + 1;
    unsigned char raw[80], der[80];
    size_t raw_len = 0, der_len = 0;
    CHECK(s2l_b64url_decode(sig_txt, strlen(sig_txt), raw, &raw_len) == 0 && raw_len == 64);
    ECDSA_SIG *es = ECDSA_SIG_new();
    ECDSA_SIG_set0(es, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL));
    unsigned char *p = der;
    der_len = (size_t)i2d_ECDSA_SIG(es, &p);
    ECDSA_SIG_free(es);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    CHECK(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, ec) == 1 &&
          EVP_DigestVerify(ctx, der, der_len, (const unsigned char *)tok, (size_t)(sig_txt - 1 - tok)) == 1);
    EVP_MD_CTX_free(ctx);
    free(tok);
    s2l_jwk_fini(&eck);
    s2l_jwk bad;
    CHECK(s2l_jwk_load_signing_file(&bad, tmp_path("short.key"), err, sizeof err) < 0);
    CHECK(strstr(err, "at least 32 bytes") != NULL);
    CHECK(strstr(err, "too short") == NULL); /* never quotes the secret */
    CHECK(s2l_jwk_load_signing_file(&bad, tmp_path("rsa.pub.pem"), err, sizeof err) < 0);
    json_decref(claims);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
}

static void test_ecdsa_forms(void)
{
    unsigned char raw[64], back[64], der[80];
    size_t der_len;
    /* r with the high bit set (DER adds a 0x00) and s with leading zeros (DER drops them). */
    memset(raw, 0xff, 32);
    memset(raw + 32, 0, 31);
    raw[63] = 0x01;
    CHECK(s2l_ecdsa_raw_to_der(raw, der, sizeof der, &der_len) == 0);
    CHECK(der[0] == 0x30 && der[2] == 0x02 && der[3] == 33 && der[4] == 0x00);
    CHECK(s2l_ecdsa_der_to_raw(der, der_len, back) == 0);
    CHECK(memcmp(raw, back, 64) == 0);
    der[der_len] = 0;
    CHECK(s2l_ecdsa_der_to_raw(der, der_len + 1, back) < 0); /* trailing byte */
    CHECK(s2l_ecdsa_der_to_raw(der, der_len - 1, back) < 0); /* cut short */
    CHECK(s2l_ecdsa_raw_to_der(raw, der, 10, &der_len) < 0); /* no room */
}

static void test_claims(void)
{
    const char *iss[] = {"https://a.example", "https://b.example"}, *aud[] = {"scim", "other"};
    struct { const char *payload; int64_t now; unsigned skew; s2l_jwt_claims_result want; } cases[] = {
        {"{\"iss\":\"https://a.example\",\"aud\":\"scim\",\"exp\":1000}", 999, 0, S2L_JWT_VALID},
        {"{\"iss\":\"https://b.example\",\"aud\":[\"x\",\"other\"],\"exp\":1000}", 999, 0, S2L_JWT_VALID},
        {"{\"iss\":\"https://a.example\",\"aud\":\"scim\",\"exp\":1000}", 1000, 0, S2L_JWT_EXPIRED},
        {"{\"iss\":\"https://a.example\",\"aud\":\"scim\",\"exp\":1000}", 1059, 60, S2L_JWT_VALID},
        {"{\"iss\":\"https://a.example\",\"aud\":\"scim\",\"exp\":1000}", 1060, 60, S2L_JWT_EXPIRED},
        {"{\"iss\":\"https://a.example\",\"aud\":\"scim\",\"exp\":1000.5}", 1000, 0, S2L_JWT_VALID},
        {"{\"iss\":\"https://a.example\",\"aud\":\"scim\",\"exp\":2000,\"nbf\":1500}", 1000, 60, S2L_JWT_NOT_YET_VALID},
        {"{\"iss\":\"https://a.example\",\"aud\":\"scim\",\"exp\":2000,\"nbf\":1050}", 1000, 60, S2L_JWT_VALID},
        {"{\"iss\":\"https://a.example\",\"aud\":\"scim\",\"exp\":2000,\"nbf\":\"x\"}", 1000, 60, S2L_JWT_NOT_YET_VALID},
        {"{\"iss\":\"https://c.example\",\"aud\":\"scim\",\"exp\":2000}", 1000, 0, S2L_JWT_WRONG_ISSUER},
        {"{\"iss\":\"https://A.example\",\"aud\":\"scim\",\"exp\":2000}", 1000, 0, S2L_JWT_WRONG_ISSUER},
        {"{\"aud\":\"scim\",\"exp\":2000}", 1000, 0, S2L_JWT_WRONG_ISSUER},
        {"{\"iss\":\"https://a.example\",\"aud\":\"nope\",\"exp\":2000}", 1000, 0, S2L_JWT_WRONG_AUDIENCE},
        {"{\"iss\":\"https://a.example\",\"aud\":[],\"exp\":2000}", 1000, 0, S2L_JWT_WRONG_AUDIENCE},
        {"{\"iss\":\"https://a.example\",\"exp\":2000}", 1000, 0, S2L_JWT_WRONG_AUDIENCE},
        {"{\"iss\":\"https://a.example\",\"aud\":\"scim\"}", 1000, 0, S2L_JWT_NO_EXPIRY},
        {"{\"iss\":\"https://a.example\",\"aud\":\"scim\",\"exp\":\"2000\"}", 1000, 0, S2L_JWT_NO_EXPIRY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *tok = jf_sign("none", "{\"alg\":\"none\"}", cases[i].payload, NULL, NULL, 0);
        s2l_jwt t;
        const char *why;
        CHECK(s2l_jwt_parse(tok, strlen(tok), &t, &why) == 0);
        s2l_jwt_expect e = {iss, 2, aud, 2, cases[i].now, cases[i].skew};
        s2l_jwt_claims_result got = s2l_jwt_check_claims(&t, &e);
        if (got != cases[i].want) {
            fprintf(stderr, "claims case %zu: got %d, want %d\n", i, got, cases[i].want);
            CHECK(0);
        }
        s2l_jwt_fini(&t);
        free(tok);
    }
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    load_vectors();
    test_rfc7515();
    test_parse_errors();
    test_independent_tokens();
    test_key_sets();
    test_signing();
    test_ecdsa_forms();
    test_claims();
    json_decref(vectors);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return UNIT_DONE();
}
