/* it_auth_jwt.c — JWTs issued elsewhere (Entra ID's own token when the secret
 * token is left blank, any OIDC provider) on a real gateway: RS256 from a
 * JWKS file selected by kid, ES256 from a PEM key; every negative case (bad
 * signature, alg none, HS256 keyed with the RSA public key, wrong iss, wrong
 * aud, expired, nbf in the future, unknown kid) is 401 and writes nothing;
 * SIGHUP picks up a rotated key set. Tokens are made with OpenSSL directly
 * (jose_fixture.h), not with the gateway's code. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../unit/jose_fixture.h"
#include "it_auth_common.h"

#define ISSUER "https://sts.windows.net/5d9f2b1c-0000-4000-8000-00000000c0de/"
#define AUDIENCE "8adf8e6e-67b2-4cf2-a259-e3dc5476c621"

static EVP_PKEY *k1, *k2, *ec, *intruder;
static unsigned char pem[8192];
static size_t pem_len;
static char *tokens[32];
static size_t n_tokens;

/* A token with the given header and claims; remembered for the log scan. */
static const char *token(const char *alg, const char *kid, EVP_PKEY *key, const char *iss, const char *aud,
                         long exp_delta, long nbf_delta)
{
    char header[256], payload[1024];
    long now = (long)time(NULL);
    snprintf(header, sizeof header, "{\"typ\":\"JWT\",\"alg\":\"%s\"%s%s%s}", alg, kid ? ",\"kid\":\"" : "",
             kid ? kid : "", kid ? "\"" : "");
    snprintf(payload, sizeof payload,
             "{\"aud\":\"%s\",\"iss\":\"%s\",\"iat\":%ld,\"nbf\":%ld,\"exp\":%ld,\"appid\":\"00000014-0000-0000-c000-"
             "000000000000\",\"tid\":\"5d9f2b1c-0000-4000-8000-00000000c0de\",\"ver\":\"1.0\"}",
             aud, iss, now, now + nbf_delta, now + exp_delta);
    char *t = jf_sign(alg, header, payload, key, pem, pem_len);
    if (t && strcmp(alg, "none") == 0 && key == NULL && kid && strcmp(kid, "sig") == 0) {
        /* "alg":"none" with some signature bytes, so that it looks like a JWS */
        t = realloc(t, strlen(t) + 8);
        strcat(t, "c2ln");
    }
    if (n_tokens < 32)
        tokens[n_tokens++] = t;
    return t;
}

static void write_jwks(const char *path, EVP_PKEY *a, const char *kid_a, EVP_PKEY *b, const char *kid_b)
{
    json_t *keys = json_array();
    json_array_append_new(keys, jf_public_jwk(a, kid_a));
    if (b)
        json_array_append_new(keys, jf_public_jwk(b, kid_b));
    /* What Microsoft's key set also holds: keys for other uses are skipped. */
    json_t *enc = jf_public_jwk(ec, "enc-key");
    json_object_set_new(enc, "use", json_string("enc"));
    json_array_append_new(keys, enc);
    json_t *doc = json_pack("{s:o}", "keys", keys);
    json_dump_file(doc, path, JSON_INDENT(2));
    json_decref(doc);
}

static void expect(h_gw *g, const char *method, const char *path, const char *body, const char *tok, int status,
                   const char *detail, int line)
{
    h_resp r = ia_http(g, method, path, body, ia_bearer(tok));
    h_check_status_(&r, status, __FILE__, line);
    if (status == 401) {
        const char *www = h_header(&r, "WWW-Authenticate");
        h_check_(www && strstr(www, "Bearer realm=\"scim2ldap\", error=\"invalid_token\""), __FILE__, line,
                 "WWW-Authenticate: %s", www ? www : "(none)");
        h_check_str_(h_jstr(r.json, "status"), "401", "status", __FILE__, line);
    }
    if (detail)
        h_check_str_(h_jstr(r.json, "detail"), detail, "detail", __FILE__, line);
    h_resp_free(&r);
}
#define EXPECT(g, m, p, b, t, s, d) expect(g, m, p, b, t, s, d, __LINE__)

int main(void)
{
    h_slapd *s = h_slapd_start(NULL);
    H_REQUIRE(s != NULL);
    const char *dir = h_slapd_dir(s);
    char jwks[600], ecpem[600], rsapem[600], extra[4096];
    k1 = jf_rsa_key(2048);
    k2 = jf_rsa_key(2048);
    ec = jf_ec_key();
    intruder = jf_rsa_key(2048);
    H_REQUIRE(k1 && k2 && ec && intruder);
    snprintf(jwks, sizeof jwks, "%s/entra.jwks", dir);
    snprintf(ecpem, sizeof ecpem, "%s/oidc.pub.pem", dir);
    snprintf(rsapem, sizeof rsapem, "%s/k1.pub.pem", dir);
    write_jwks(jwks, k1, "k1", NULL, NULL);
    H_REQUIRE(jf_write_pem(ec, ecpem, 0) == 0 && jf_write_pem(k1, rsapem, 0) == 0);
    char *pem_text = ia_slurp(rsapem);
    H_REQUIRE(pem_text != NULL);
    pem_len = strlen(pem_text);
    memcpy(pem, pem_text, pem_len);
    free(pem_text);

    snprintf(extra, sizeof extra,
             "{\"auth\":{\"failed_attempts\":{\"burst\":1000,\"per_minute\":1000},\"credentials\":["
             "{\"name\":\"entra-jwt\",\"kind\":\"jwt\",\"issuer\":\"" ISSUER "\",\"audience\":\"" AUDIENCE "\","
             "\"jwks_file\":\"%s\"},"
             "{\"name\":\"oidc-es\",\"kind\":\"jwt\",\"issuer\":\"https://idp.example\",\"audience\":[\"scim2ldap\"],"
             "\"public_key_file\":\"%s\",\"algorithms\":[\"ES256\"],\"read_only\":true}]}}",
             jwks, ecpem);
    h_gw *g = h_gw_start(s, extra);
    H_REQUIRE(g != NULL);
    const char *filter = "/Users?filter=userName%20eq%20%22nobody%22";

    /* Entra-style RS256 token, key chosen by kid */
    const char *good = token("RS256", "k1", k1, ISSUER, AUDIENCE, 3600, 0);
    EXPECT(g, "GET", filter, NULL, good, 200, NULL);
    char *body = ia_user_body("entra.jwt.user");
    EXPECT(g, "POST", "/Users", body, good, 201, NULL);
    free(body);
    json_t *e = h_ldap_entry(s, "uid=entra.jwt.user," H_PEOPLE);
    H_CHECK(e != NULL);
    json_decref(e);
    /* ES256 from a PEM key; that credential is read-only */
    const char *es = token("ES256", NULL, ec, "https://idp.example", "scim2ldap", 600, 0);
    EXPECT(g, "GET", filter, NULL, es, 200, NULL);

    /* Negative cases: each is 401 and the directory stays as it is. */
    char *snap = h_ldap_snapshot(s);
    body = ia_user_body("jwt.intruder");
    struct { const char *what, *tok, *detail; } bad[] = {
        {"bad signature", token("RS256", "k1", intruder, ISSUER, AUDIENCE, 3600, 0), "the credentials are not valid"},
        {"alg none", token("none", "k1", NULL, ISSUER, AUDIENCE, 3600, 0), NULL},
        {"alg none with bytes", token("none", "sig", NULL, ISSUER, AUDIENCE, 3600, 0), NULL},
        {"HS256 keyed with the RSA public key", token("HS256", "k1", NULL, ISSUER, AUDIENCE, 3600, 0), NULL},
        {"wrong iss", token("RS256", "k1", k1, "https://sts.windows.net/someone-else/", AUDIENCE, 3600, 0), NULL},
        {"wrong aud", token("RS256", "k1", k1, ISSUER, "00000003-0000-0000-c000-000000000000", 3600, 0), NULL},
        {"expired", token("RS256", "k1", k1, ISSUER, AUDIENCE, -3600, -7200), "the access token has expired"},
        {"nbf in the future", token("RS256", "k1", k1, ISSUER, AUDIENCE, 7200, 3600), NULL},
        {"unknown kid", token("RS256", "k9", k1, ISSUER, AUDIENCE, 3600, 0), NULL},
        {"ES256 from the RS256 issuer", token("ES256", "k1", ec, ISSUER, AUDIENCE, 3600, 0), NULL},
        {"a token from another issuer's key", token("ES256", NULL, ec, ISSUER, AUDIENCE, 3600, 0), NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fprintf(stderr, "-- %s\n", bad[i].what);
        EXPECT(g, "POST", "/Users", body, bad[i].tok, 401, bad[i].detail);
        EXPECT(g, "GET", filter, NULL, bad[i].tok, 401, NULL);
    }
    free(body);
    EXPECT(g, "DELETE", "/Users/00000000-0000-4000-8000-000000000000", NULL, es, 403, "this credential is read-only");
    char *after = h_ldap_snapshot(s);
    H_CHECK(h_snapshot_same(snap, after));
    free(snap);
    free(after);

    /* Key rotation: the new set has only k2; SIGHUP picks it up. */
    write_jwks(jwks, k2, "k2", NULL, NULL);
    const char *rotated = token("RS256", "k2", k2, ISSUER, AUDIENCE, 3600, 0);
    EXPECT(g, "GET", filter, NULL, rotated, 401, NULL);
    H_CHECK(h_gw_signal(g, SIGHUP) == 0);
    H_CHECK(h_gw_log_wait(g, "event=reloaded what=config", 1, 10000));
    EXPECT(g, "GET", filter, NULL, rotated, 200, NULL);
    EXPECT(g, "GET", filter, NULL, good, 401, NULL);
    /* A broken key set is refused; the loaded keys keep working. */
    FILE *f = fopen(jwks, "w");
    H_REQUIRE(f != NULL);
    fputs("{\"keys\": [", f);
    fclose(f);
    H_CHECK(h_gw_signal(g, SIGHUP) == 0);
    H_CHECK(h_gw_log_wait(g, "event=reload_failed what=config", 1, 10000));
    EXPECT(g, "GET", filter, NULL, rotated, 200, NULL);

    char *log = ia_slurp(h_gw_log_path(g));
    H_CHECK(log && strstr(log, "status=201 cred=entra-jwt"));
    H_CHECK(log && strstr(log, "status=200 cred=oidc-es"));
    H_CHECK(log && strstr(log, "reason=jwt_bad_signature"));
    H_CHECK(log && strstr(log, "reason=jwt_unknown_kid"));
    H_CHECK(log && strstr(log, "reason=jwt_wrong_audience"));
    H_CHECK(log && strstr(log, "reason=token_expired"));
    H_CHECK(log && strstr(log, "reason=jwt_not_yet_valid"));
    H_CHECK(log && strstr(log, "reason=jwt_unknown_issuer"));
    H_CHECK(log && strstr(log, "reason=jwt_alg_not_allowed"));
    tokens[n_tokens] = NULL;
    /* no token, nor its signature part, in the log or an error body */
    const char *secrets[64];
    size_t n = 0;
    for (size_t i = 0; i < n_tokens; i++) {
        secrets[n++] = tokens[i];
        const char *sig = strrchr(tokens[i], '.');
        if (sig && strlen(sig) > 20)
            secrets[n++] = sig + 1;
    }
    secrets[n] = NULL;
    ia_check_no_secrets("the gateway log", log, secrets);
    free(log);
    H_CHECK(h_gw_stop(g));

    for (size_t i = 0; i < n_tokens; i++)
        free(tokens[i]);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(intruder);
    free(ia_bodies);
    h_slapd_destroy(s);
    return H_DONE();
}
