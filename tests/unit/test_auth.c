/* test_auth.c — the auth state built from a configuration and its decisions:
 * every credential kind and option, 401/403/429 shapes, failed attempts per
 * source, the token endpoint (RFC 6749 §4.4 and §5.2), a second state with
 * the same key accepting its tokens, external JWTs and their negative cases,
 * and configuration errors. The clock and the client address are values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jose_fixture.h"
#include "s2l/auth.h"
#include "s2l/base64.h"
#include "s2l/secret_hash.h"
#include "unit.h"

#define NOW_MS 1900000000000LL /* 2030-03-17T17:46:40Z */

static char dir[] = "/tmp/s2l-auth-XXXXXX";
static char basic_hash[S2L_SECRET_HASH_TEXT_MAX], client_hash[S2L_SECRET_HASH_TEXT_MAX];
static EVP_PKEY *idp_rsa, *idp_ec, *other_rsa;

static const char *tmp_path(const char *name)
{
    static char path[8][512];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static void write_text(const char *name, const char *text)
{
    FILE *f = fopen(tmp_path(name), "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static const char *const types[] = {"User", "/Users", "Group", "/Groups", NULL};

/* Loads a config whose auth section is auth_json; NULL with err. */
static s2l_auth *auth_from(const char *auth_json, char *err, size_t errlen)
{
    char *text = malloc(strlen(auth_json) + 256);
    sprintf(text, "{\"auth\":%s,\"ldap\":{\"uri\":\"ldap://127.0.0.1\"},\"mapping\":\"m.json\"}", auth_json);
    write_text("c.json", text);
    free(text);
    err[0] = 0;
    s2l_config *cfg = s2l_config_load(tmp_path("c.json"), err, errlen);
    if (cfg == NULL)
        return NULL;
    s2l_auth *a = s2l_auth_create(cfg, types, err, errlen);
    s2l_config_destroy(cfg);
    return a;
}

static s2l_ip ip(const char *text)
{
    s2l_ip out;
    s2l_ip_parse(text, &out);
    return out;
}

static s2l_auth_decision decide(s2l_auth *a, const char *authz, const char *src, int64_t now_ms)
{
    s2l_ip addr = ip(src ? src : "192.0.2.10");
    s2l_auth_input in = {.authorization = authz, .source = src && !src[0] ? NULL : &addr, .now_ms = now_ms};
    s2l_auth_decision d;
    s2l_auth_authenticate(a, &in, &d);
    return d;
}

static char *basic_header(const char *user, const char *pw)
{
    char raw[256], b64[400];
    snprintf(raw, sizeof raw, "%s:%s", user, pw);
    s2l_b64_encode((const unsigned char *)raw, strlen(raw), b64);
    char *out = malloc(strlen(b64) + 8);
    sprintf(out, "Basic %s", b64);
    return out;
}

static void check_decision(const s2l_auth_decision *d, int status, const char *reason, const char *cred, int line)
{
    bool ok = d->status == status && d->reason && strcmp(d->reason, reason) == 0 &&
              ((cred == NULL && d->cred == NULL) || (cred && d->cred && strcmp(s2l_auth_cred_name(d->cred), cred) == 0));
    if (!ok)
        fprintf(stderr, "line %d: got status %d reason %s cred %s; want %d %s %s\n", line, d->status,
                d->reason ? d->reason : "(null)", d->cred ? s2l_auth_cred_name(d->cred) : "(none)", status, reason,
                cred ? cred : "(none)");
    CHECK(ok);
}
#define DECISION(d, status, reason, cred) check_decision(&(d), status, reason, cred, __LINE__)

static const char *main_auth(void)
{
    static char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"bearer_tokens\":[\"legacy-token-0123456789\"],"
             "\"failed_attempts\":{\"burst\":3,\"per_minute\":6},"
             "\"credentials\":["
             "{\"name\":\"entra\",\"kind\":\"bearer\",\"token\":\"entra-token-0123456789abc\"},"
             "{\"name\":\"old\",\"kind\":\"bearer\",\"token_file\":\"old.token\",\"not_after\":\"2029-12-31\"},"
             "{\"name\":\"reader\",\"kind\":\"bearer\",\"token_env\":\"S2L_TEST_READER\",\"read_only\":true,"
             "\"resource_types\":[\"User\"]},"
             "{\"name\":\"lan\",\"kind\":\"bearer\",\"token\":\"lan-token-0123456789abcd\","
             "\"allow_from\":[\"10.0.0.0/8\",\"2001:db8::/32\"]},"
             "{\"name\":\"slow\",\"kind\":\"bearer\",\"token\":\"slow-token-0123456789abc\","
             "\"rate_limit\":{\"per_second\":1,\"burst\":2}},"
             "{\"name\":\"okta\",\"kind\":\"basic\",\"username\":\"okta\",\"password_hash\":\"%s\"},"
             "{\"name\":\"okta-expired\",\"kind\":\"basic\",\"username\":\"old-okta\",\"password_hash\":\"%s\","
             "\"not_after\":\"2030-01-01T00:00:00+01:00\"}"
             "]}",
             basic_hash, basic_hash);
    return buf;
}

static void test_credentials(void)
{
    char err[512];
    write_text("old.token", "old-token-0123456789abcd\n");
    setenv("S2L_TEST_READER", "reader-token-0123456789ab", 1);
    s2l_auth *a = auth_from(main_auth(), err, sizeof err);
    CHECK(a != NULL);
    if (a == NULL) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK_INT(s2l_auth_count(a), 8);
    CHECK(s2l_auth_has_basic(a));
    CHECK(s2l_auth_token_path(a) == NULL);
    s2l_auth_decision d;

    d = decide(a, "Bearer entra-token-0123456789abc", NULL, NOW_MS);
    DECISION(d, 0, "ok", "entra");
    d = decide(a, "bearer  legacy-token-0123456789 ", NULL, NOW_MS);
    DECISION(d, 0, "ok", "bearer_tokens[0]");
    d = decide(a, "entra-token-0123456789abc", NULL, NOW_MS); /* Okta "Header" mode: no scheme */
    DECISION(d, 0, "ok", "entra");

    /* no credentials: both challenges, no error attribute (RFC 6750 §3.1) */
    d = decide(a, NULL, NULL, NOW_MS);
    DECISION(d, 401, "no_credentials", NULL);
    CHECK_INT(d.n_challenges, 2);
    CHECK_STR(d.challenges[0], "Bearer realm=\"scim2ldap\"");
    CHECK_STR(d.challenges[1], "Basic realm=\"scim2ldap\", charset=\"UTF-8\"");
    d = decide(a, "Bearer wrong-token-0123456789abc", NULL, NOW_MS);
    DECISION(d, 401, "unknown_token", NULL);
    CHECK(strstr(d.challenges[0], "error=\"invalid_token\"") != NULL);
    CHECK_STR(d.detail, "the credentials are not valid");

    /* expiry: date-only not_after is valid through that day (UTC) */
    d = decide(a, "Bearer old-token-0123456789abcd", NULL, 1893455999000LL); /* 2029-12-31T23:59:59Z */
    DECISION(d, 0, "ok", "old");
    d = decide(a, "Bearer old-token-0123456789abcd", NULL, 1893456000000LL);
    DECISION(d, 401, "credential_expired", "old");
    CHECK_STR(d.detail, "the credential has expired");
    CHECK(strstr(d.detail, "old") == NULL);

    /* environment secret, read-only and resource types */
    d = decide(a, "Bearer reader-token-0123456789ab", NULL, NOW_MS);
    DECISION(d, 0, "ok", "reader");
    s2l_error e;
    CHECK(s2l_auth_permit(d.cred, "User", "/Users", false, &e) == 0);
    CHECK(s2l_auth_permit(d.cred, "User", "/Users", true, &e) < 0 && e.status == 403);
    CHECK_STR(e.detail, "this credential is read-only");
    CHECK(s2l_auth_permit(d.cred, "Group", "/Groups", false, &e) < 0 && e.status == 403);
    CHECK_STR(e.detail, "this credential may not access /Groups");
    d = decide(a, "Bearer entra-token-0123456789abc", NULL, NOW_MS);
    CHECK(s2l_auth_permit(d.cred, "Group", "/Groups", true, &e) == 0);
    CHECK(s2l_auth_permit(NULL, "Group", "/Groups", false, &e) < 0);

    /* allow_from */
    d = decide(a, "Bearer lan-token-0123456789abcd", "10.1.2.3", NOW_MS);
    DECISION(d, 0, "ok", "lan");
    d = decide(a, "Bearer lan-token-0123456789abcd", "2001:db8::7", NOW_MS);
    DECISION(d, 0, "ok", "lan");
    d = decide(a, "Bearer lan-token-0123456789abcd", "192.0.2.1", NOW_MS);
    DECISION(d, 403, "source_not_allowed", "lan");
    d = decide(a, "Bearer lan-token-0123456789abcd", "", NOW_MS); /* address unknown */
    DECISION(d, 403, "source_not_allowed", "lan");

    /* rate limit: burst 2, 1/s */
    d = decide(a, "Bearer slow-token-0123456789abc", NULL, NOW_MS);
    DECISION(d, 0, "ok", "slow");
    d = decide(a, "Bearer slow-token-0123456789abc", NULL, NOW_MS);
    DECISION(d, 0, "ok", "slow");
    d = decide(a, "Bearer slow-token-0123456789abc", NULL, NOW_MS + 10);
    DECISION(d, 429, "rate_limited", "slow");
    CHECK_INT(d.retry_after, 1);
    d = decide(a, "Bearer entra-token-0123456789abc", NULL, NOW_MS + 10); /* others are not limited */
    DECISION(d, 0, "ok", "entra");
    d = decide(a, "Bearer slow-token-0123456789abc", NULL, NOW_MS + 1010);
    DECISION(d, 0, "ok", "slow");

    /* Basic */
    char *h = basic_header("okta", "okta-password");
    d = decide(a, h, NULL, NOW_MS);
    DECISION(d, 0, "ok", "okta");
    d = decide(a, h, NULL, NOW_MS); /* second time from the verified cache */
    DECISION(d, 0, "ok", "okta");
    free(h);
    h = basic_header("okta", "wrong");
    d = decide(a, h, "192.0.2.50", NOW_MS);
    DECISION(d, 401, "wrong_password", NULL);
    CHECK(strstr(d.challenges[0], "invalid_token") == NULL); /* no bearer token was presented */
    free(h);
    h = basic_header("nobody", "okta-password");
    d = decide(a, h, "192.0.2.51", NOW_MS);
    DECISION(d, 401, "unknown_user", NULL);
    free(h);
    h = basic_header("old-okta", "okta-password");
    d = decide(a, h, NULL, 1893452399000LL); /* 2029-12-31T23:59:59+01:00 */
    DECISION(d, 0, "ok", "okta-expired");
    d = decide(a, h, NULL, 1893452400000LL);
    DECISION(d, 401, "credential_expired", "okta-expired");
    free(h);
    h = basic_header("old-okta", "wrong");
    d = decide(a, h, "192.0.2.52", 1893452400000LL); /* wrong AND expired: nothing about expiry */
    DECISION(d, 401, "wrong_password", NULL);
    free(h);
    d = decide(a, "Basic !!!", "192.0.2.53", NOW_MS);
    DECISION(d, 401, "malformed_basic", NULL);
    d = decide(a, "Negotiate abc", NULL, NOW_MS);
    DECISION(d, 401, "unsupported_scheme", NULL);
    s2l_auth_release(a);
    unsetenv("S2L_TEST_READER");
}

static void test_failed_attempts(void)
{
    char err[512];
    setenv("S2L_TEST_READER", "reader-token-0123456789ab", 1);
    write_text("old.token", "old-token-0123456789abcd\n");
    s2l_auth *a = auth_from(main_auth(), err, sizeof err);
    CHECK(a != NULL);
    if (a == NULL)
        return;
    s2l_auth_decision d;
    for (int i = 0; i < 3; i++) {
        d = decide(a, "Bearer guess-0123456789abcdef", "198.51.100.7", NOW_MS);
        DECISION(d, 401, "unknown_token", NULL);
    }
    /* used up: 429 before anything is checked, even the right token */
    d = decide(a, "Bearer entra-token-0123456789abc", "198.51.100.7", NOW_MS);
    DECISION(d, 429, "too_many_failures", NULL);
    CHECK_INT(d.retry_after, 10);
    CHECK(strstr(d.detail, "retry after 10 seconds") != NULL);
    /* another source is not affected; missing credentials do not count */
    d = decide(a, "Bearer entra-token-0123456789abc", "198.51.100.8", NOW_MS);
    DECISION(d, 0, "ok", "entra");
    for (int i = 0; i < 5; i++) {
        d = decide(a, NULL, "198.51.100.9", NOW_MS);
        DECISION(d, 401, "no_credentials", NULL);
    }
    d = decide(a, "Bearer entra-token-0123456789abc", "198.51.100.9", NOW_MS);
    DECISION(d, 0, "ok", "entra");
    /* 6 per minute: one attempt back after 10 s */
    d = decide(a, "Bearer entra-token-0123456789abc", "198.51.100.7", NOW_MS + 10000);
    DECISION(d, 0, "ok", "entra");
    s2l_auth_release(a);
    unsetenv("S2L_TEST_READER");
}

static json_t *post_token(s2l_auth *a, const char *authz, const char *ctype, const char *body, const char *src,
                          int64_t now_ms, int *status, char *challenge, int *retry)
{
    s2l_ip addr = ip(src ? src : "192.0.2.10");
    s2l_token_request r = {authz, ctype, body, strlen(body), &addr, now_ms};
    s2l_token_reply rep;
    s2l_auth_issue_token(a, &r, &rep);
    *status = rep.status;
    if (challenge)
        strcpy(challenge, rep.challenge);
    if (retry)
        *retry = rep.retry_after;
    return rep.body;
}

static const char *oauth_auth(const char *key_file, const char *extra)
{
    static char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"token_endpoint\":{\"signing_key_file\":\"%s\",\"lifetime_s\":600,"
             "\"failed_attempts\":{\"burst\":2,\"per_minute\":1}},"
             "\"credentials\":["
             "{\"name\":\"m-files\",\"kind\":\"oauth_client\",\"client_id\":\"m-files\",\"secret_hash\":\"%s\"%s},"
             "{\"name\":\"entra\",\"kind\":\"bearer\",\"token\":\"entra-token-0123456789abc\"}]}",
             key_file, client_hash, extra);
    return buf;
}

static void test_token_endpoint(const char *key_file, const char *alg)
{
    char err[512], challenge[S2L_AUTH_CHALLENGE_MAX];
    int status = 0, retry = 0;
    s2l_auth *a = auth_from(oauth_auth(key_file, ",\"read_only\":true"), err, sizeof err);
    s2l_auth *b = auth_from(oauth_auth(key_file, ""), err, sizeof err); /* a second gateway, same key */
    CHECK(a != NULL && b != NULL);
    if (a == NULL || b == NULL) {
        fprintf(stderr, "%s\n", err);
        s2l_auth_release(a);
        s2l_auth_release(b);
        return;
    }
    CHECK_STR(s2l_auth_token_path(a), "/oauth/token");
    const char *form = "grant_type=client_credentials&client_id=m-files&client_secret=client%2Fsecret%2B1";
    json_t *r = post_token(a, NULL, "application/x-www-form-urlencoded", form, NULL, NOW_MS, &status, NULL, NULL);
    CHECK_INT(status, 200);
    CHECK_STR(json_string_value(json_object_get(r, "token_type")), "Bearer");
    CHECK_INT(json_integer_value(json_object_get(r, "expires_in")), 600);
    char *token = strdup(json_string_value(json_object_get(r, "access_token")));
    json_decref(r);
    /* the token's header names the algorithm of the key */
    char hdr[256];
    size_t hl = 0;
    CHECK(s2l_b64url_decode(token, strcspn(token, "."), (unsigned char *)hdr, &hl) == 0);
    hdr[hl] = 0;
    CHECK(strstr(hdr, alg) != NULL);

    char bearer[2048];
    snprintf(bearer, sizeof bearer, "Bearer %s", token);
    s2l_auth_decision d = decide(a, bearer, NULL, NOW_MS + 1000);
    DECISION(d, 0, "ok", "m-files");
    CHECK(s2l_auth_cred_read_only(d.cred)); /* the client's settings apply to its tokens */
    d = decide(b, bearer, NULL, NOW_MS + 1000);
    DECISION(d, 0, "ok", "m-files");
    CHECK(!s2l_auth_cred_read_only(d.cred));
    d = decide(a, bearer, NULL, NOW_MS + 600000 + 60000);
    DECISION(d, 401, "token_expired", NULL);
    CHECK_STR(d.detail, "the access token has expired");
    CHECK(strstr(d.challenges[0], "error=\"invalid_token\"") != NULL);
    /* Basic client authentication, id and secret form-encoded first (RFC 6749 §2.3.1) */
    char *basic = basic_header("m-files", "client%2Fsecret%2B1");
    r = post_token(a, basic, "application/x-www-form-urlencoded", "grant_type=client_credentials", NULL, NOW_MS,
                   &status, NULL, NULL);
    CHECK_INT(status, 200);
    json_decref(r);
    /* a JSON body is tolerated */
    r = post_token(a, NULL, "application/json",
                   "{\"grant_type\":\"client_credentials\",\"client_id\":\"m-files\",\"client_secret\":\"client/secret+1\"}",
                   NULL, NOW_MS, &status, NULL, NULL);
    CHECK_INT(status, 200);
    json_decref(r);

    /* RFC 6749 §5.2 errors */
    struct { const char *authz, *ctype, *body; int status; const char *error; } cases[] = {
        {NULL, "application/x-www-form-urlencoded", "client_id=m-files&client_secret=x", 400, "invalid_request"},
        {NULL, "application/x-www-form-urlencoded", "grant_type=password&username=a&password=b", 400,
         "unsupported_grant_type"},
        {NULL, "text/plain", "grant_type=client_credentials", 400, "invalid_request"},
        {NULL, NULL, "grant_type=client_credentials&grant_type=client_credentials", 400, "invalid_request"},
        {basic, NULL, "grant_type=client_credentials&client_secret=client%2Fsecret%2B1", 400, "invalid_request"},
        {NULL, NULL, "grant_type=client_credentials", 401, "invalid_client"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r = post_token(a, cases[i].authz, cases[i].ctype, cases[i].body, "192.0.2.77", NOW_MS, &status, challenge,
                       NULL);
        CHECK_INT(status, cases[i].status);
        CHECK_STR(json_string_value(json_object_get(r, "error")), cases[i].error);
        CHECK(json_string_value(json_object_get(r, "error_description")) != NULL);
        if (status == 401)
            CHECK_STR(challenge, "Basic realm=\"scim2ldap\", charset=\"UTF-8\"");
        json_decref(r);
    }
    free(basic);
    /* wrong secret → invalid_client; the endpoint's own failed-attempt limit (burst 2) then answers 429 */
    r = post_token(a, NULL, NULL, "grant_type=client_credentials&client_id=m-files&client_secret=nope", "192.0.2.88",
                   NOW_MS, &status, challenge, NULL);
    CHECK_INT(status, 401);
    CHECK_STR(json_string_value(json_object_get(r, "error")), "invalid_client");
    json_decref(r);
    r = post_token(a, NULL, NULL, "grant_type=client_credentials&client_id=x&client_secret=nope", "192.0.2.88",
                   NOW_MS, &status, challenge, NULL);
    CHECK_INT(status, 401);
    json_decref(r);
    r = post_token(a, NULL, NULL, form, "192.0.2.88", NOW_MS, &status, NULL, &retry);
    CHECK_INT(status, 429);
    CHECK_INT(retry, 60);
    json_decref(r);
    /* ...which is separate from the SCIM side's limit */
    d = decide(a, "Bearer entra-token-0123456789abc", "192.0.2.88", NOW_MS);
    DECISION(d, 0, "ok", "entra");

    /* A token signed with another key, or a forged one, is refused. */
    char *forged = strdup(token);
    char *last = strrchr(forged, '.') + 3;
    *last = *last == 'A' ? 'B' : 'A';
    snprintf(bearer, sizeof bearer, "Bearer %s", forged);
    d = decide(b, bearer, "192.0.2.99", NOW_MS + 1000);
    CHECK_INT(d.status, 401);
    free(forged);
    free(token);
    s2l_auth_release(a);
    s2l_auth_release(b);
}

static void test_client_limits(void)
{
    char err[512];
    int status = 0;
    s2l_auth *a = auth_from(oauth_auth("hs.key", ",\"not_after\":\"2030-03-17T17:50:00Z\",\"allow_from\":[\"10.0.0.0/8\"]"),
                            err, sizeof err);
    CHECK(a != NULL);
    if (a == NULL) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    const char *form = "grant_type=client_credentials&client_id=m-files&client_secret=client%2Fsecret%2B1";
    json_t *r = post_token(a, NULL, NULL, form, "192.0.2.1", NOW_MS, &status, NULL, NULL);
    CHECK_INT(status, 400);
    CHECK_STR(json_string_value(json_object_get(r, "error")), "unauthorized_client");
    json_decref(r);
    /* a token never outlives the client's not_after (NOW is 2030-03-17T17:46:40Z) */
    r = post_token(a, NULL, NULL, form, "10.0.0.1", NOW_MS, &status, NULL, NULL);
    CHECK_INT(status, 200);
    CHECK_INT(json_integer_value(json_object_get(r, "expires_in")), 200);
    char bearer[2048];
    snprintf(bearer, sizeof bearer, "Bearer %s", json_string_value(json_object_get(r, "access_token")));
    json_decref(r);
    s2l_auth_decision d = decide(a, bearer, "192.0.2.1", NOW_MS); /* its token honours allow_from too */
    DECISION(d, 403, "source_not_allowed", "m-files");
    r = post_token(a, NULL, NULL, form, "10.0.0.1", 1900400000000LL, &status, NULL, NULL);
    CHECK_INT(status, 401);
    CHECK(strstr(json_string_value(json_object_get(r, "error_description")), "expired") != NULL);
    json_decref(r);
    s2l_auth_release(a);
}

/* External JWTs: Entra-like RS256 via JWKS (kid), ES256 via PEM. */
static void test_external_jwt(void)
{
    char err[512];
    json_t *jwks = json_pack("{s:[o,o]}", "keys", jf_public_jwk(idp_rsa, "kid-1"), jf_public_jwk(idp_ec, "kid-ec"));
    json_dump_file(jwks, tmp_path("idp.jwks"), 0);
    json_decref(jwks);
    jf_write_pem(idp_ec, tmp_path("idp-ec.pub.pem"), 0);
    jf_write_pem(idp_rsa, tmp_path("idp-rsa.pub.pem"), 0);
    s2l_auth *a = auth_from(
        "{\"credentials\":["
        "{\"name\":\"entra-jwt\",\"kind\":\"jwt\",\"issuer\":\"https://sts.windows.net/t1/\","
        "\"audience\":\"8adf8e6e-67b2-4cf2-a259-e3dc5476c621\",\"jwks_file\":\"idp.jwks\",\"algorithms\":[\"RS256\"]},"
        "{\"name\":\"oidc\",\"kind\":\"jwt\",\"issuer\":[\"https://oidc.example\"],\"audience\":[\"scim\"],"
        "\"public_key_file\":\"idp-ec.pub.pem\",\"clock_skew_s\":30,\"read_only\":true}]}",
        err, sizeof err);
    CHECK(a != NULL);
    if (a == NULL) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK(!s2l_auth_has_basic(a));
    int64_t now = NOW_MS / 1000;
    char payload[512], bearer[4096];
    const char *aud = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621";
    struct { const char *alg, *header; const char *iss, *audience; int64_t exp, nbf; int key; int status;
             const char *reason; const char *cred; } cases[] = {
        {"RS256", "{\"alg\":\"RS256\",\"kid\":\"kid-1\",\"typ\":\"JWT\"}", "https://sts.windows.net/t1/", aud, 3600, 0, 0,
         0, "ok", "entra-jwt"},
        {"RS256", "{\"alg\":\"RS256\"}", "https://sts.windows.net/t1/", aud, 3600, 0, 0, 0, "ok", "entra-jwt"},
        {"ES256", "{\"alg\":\"ES256\",\"kid\":\"whatever\"}", "https://oidc.example", "scim", 3600, 0, 1, 0, "ok",
         "oidc"},
        /* bad signature: signed by another RSA key under the right kid */
        {"RS256", "{\"alg\":\"RS256\",\"kid\":\"kid-1\"}", "https://sts.windows.net/t1/", aud, 3600, 0, 2, 401,
         "jwt_bad_signature", NULL},
        {"none", "{\"alg\":\"none\",\"kid\":\"kid-1\"}", "https://sts.windows.net/t1/", aud, 3600, 0, 0, 401,
         "unknown_token", NULL},
        {"none", "{\"alg\":\"none\"}", "https://sts.windows.net/t1/", aud, 3600, 0, 3, 401, "jwt_alg_not_allowed", NULL},
        {"HS256", "{\"alg\":\"HS256\",\"kid\":\"kid-1\"}", "https://sts.windows.net/t1/", aud, 3600, 0, 4, 401,
         "jwt_alg_not_allowed", NULL},
        /* ES256 is not among entra-jwt's algorithms even with the EC key's kid */
        {"ES256", "{\"alg\":\"ES256\",\"kid\":\"kid-ec\"}", "https://sts.windows.net/t1/", aud, 3600, 0, 1, 401,
         "jwt_alg_not_allowed", NULL},
        {"RS256", "{\"alg\":\"RS256\",\"kid\":\"kid-1\"}", "https://sts.windows.net/t2/", aud, 3600, 0, 0, 401,
         "jwt_unknown_issuer", NULL},
        {"RS256", "{\"alg\":\"RS256\",\"kid\":\"kid-1\"}", "https://sts.windows.net/t1/", "someone-else", 3600, 0, 0,
         401, "jwt_wrong_audience", NULL},
        {"RS256", "{\"alg\":\"RS256\",\"kid\":\"kid-1\"}", "https://sts.windows.net/t1/", aud, -61, 0, 0, 401,
         "token_expired", NULL},
        {"RS256", "{\"alg\":\"RS256\",\"kid\":\"kid-1\"}", "https://sts.windows.net/t1/", aud, -59, 0, 0, 0, "ok",
         "entra-jwt"}, /* within the default 60 s skew */
        {"RS256", "{\"alg\":\"RS256\",\"kid\":\"kid-1\"}", "https://sts.windows.net/t1/", aud, 3600, 120, 0, 401,
         "jwt_not_yet_valid", NULL},
        {"RS256", "{\"alg\":\"RS256\",\"kid\":\"kid-9\"}", "https://sts.windows.net/t1/", aud, 3600, 0, 0, 401,
         "jwt_unknown_kid", NULL},
        {"ES256", "{\"alg\":\"ES256\"}", "https://oidc.example", "scim", -31, 0, 1, 401, "token_expired", NULL},
    };
    /* key 4: the RSA public key's PEM text as an HMAC secret */
    FILE *f = fopen(tmp_path("idp-rsa.pub.pem"), "r");
    unsigned char pem[4096];
    size_t pem_len = f ? fread(pem, 1, sizeof pem, f) : 0;
    if (f)
        fclose(f);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(payload, sizeof payload, "{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":%lld,\"iat\":%lld%s%lld}",
                 cases[i].iss, cases[i].audience, (long long)(now + cases[i].exp), (long long)now,
                 cases[i].nbf ? ",\"nbf\":" : ",\"x\":", (long long)(now + cases[i].nbf));
        EVP_PKEY *keys[] = {idp_rsa, idp_ec, other_rsa, NULL, NULL};
        char *tok = jf_sign(cases[i].alg, cases[i].header, payload, keys[cases[i].key], pem, pem_len);
        if (cases[i].key == 3) { /* "alg":"none" but with some signature bytes */
            size_t l = strlen(tok);
            tok = realloc(tok, l + 8);
            strcat(tok, "AAAA");
        }
        snprintf(bearer, sizeof bearer, "Bearer %s", tok);
        s2l_auth_decision d = decide(a, bearer, "203.0.113.1", NOW_MS);
        if (d.status != cases[i].status || strcmp(d.reason, cases[i].reason) != 0) {
            fprintf(stderr, "jwt case %zu: got %d %s, want %d %s\n", i, d.status, d.reason, cases[i].status,
                    cases[i].reason);
            CHECK(0);
        } else {
            CHECK(1);
        }
        if (cases[i].cred)
            CHECK_STR(s2l_auth_cred_name(d.cred), cases[i].cred);
        if (d.status == 401 && strcmp(cases[i].reason, "token_expired") == 0)
            CHECK_STR(d.detail, "the access token has expired");
        free(tok);
    }
    /* A verified token is recognised again without the signature check, but
     * only inside its own validity. */
    snprintf(payload, sizeof payload, "{\"iss\":\"https://sts.windows.net/t1/\",\"aud\":\"%s\",\"exp\":%lld,\"nbf\":%lld}",
             aud, (long long)(now + 600), (long long)(now + 100));
    char *tok = jf_sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"kid-1\"}", payload, idp_rsa, NULL, 0);
    snprintf(bearer, sizeof bearer, "Bearer %s", tok);
    s2l_auth_decision d = decide(a, bearer, NULL, NOW_MS + 30000);
    DECISION(d, 401, "jwt_not_yet_valid", NULL);
    d = decide(a, bearer, NULL, NOW_MS + 40000 + 1000); /* nbf - skew */
    DECISION(d, 0, "ok", "entra-jwt");
    d = decide(a, bearer, NULL, NOW_MS + 200000);
    DECISION(d, 0, "ok", "entra-jwt");
    d = decide(a, bearer, NULL, NOW_MS + 39000); /* before the window: not from the cache */
    DECISION(d, 401, "jwt_not_yet_valid", NULL);
    d = decide(a, bearer, NULL, NOW_MS + 300000);
    DECISION(d, 0, "ok", "entra-jwt");
    d = decide(a, bearer, NULL, NOW_MS + 660000); /* exp + skew */
    DECISION(d, 401, "token_expired", NULL);
    free(tok);
    s2l_auth_release(a);
}

static void test_config_errors(void)
{
    char err[512];
    char auth[2048];
    struct { const char *creds; const char *want; } cases[] = {
        {"[{\"kind\":\"bearer\",\"token\":\"0123456789abcdef0\"}]", "auth.credentials[0].name: is required"},
        {"[{\"name\":\"has space\",\"kind\":\"bearer\",\"token\":\"0123456789abcdef0\"}]", "credentials[0].name"},
        {"[{\"name\":\"a\",\"kind\":\"magic\"}]", "auth.credentials[0].kind: must be"},
        {"[{\"name\":\"a\",\"kind\":\"bearer\",\"token\":\"0123456789abcdef0\",\"pasword\":1}]",
         "auth.credentials[0].pasword: unknown key for a bearer credential"},
        {"[{\"name\":\"a\",\"kind\":\"bearer\",\"token\":\"0123456789abcdef0\",\"username\":\"x\"}]",
         "auth.credentials[0].username: unknown key"},
        {"[{\"name\":\"a\",\"kind\":\"bearer\"}]", "give exactly one of token, token_file and token_env"},
        {"[{\"name\":\"a\",\"kind\":\"bearer\",\"token\":\"short\"}]", "at least 16 characters"},
        {"[{\"name\":\"a\",\"kind\":\"bearer\",\"token_env\":\"S2L_UNSET_VARIABLE_X\"}]",
         "the environment variable S2L_UNSET_VARIABLE_X is not set"},
        {"[{\"name\":\"a\",\"kind\":\"bearer\",\"token_file\":\"missing.token\"}]", "token_file: cannot read"},
        {"[{\"name\":\"a\",\"kind\":\"bearer\",\"token\":\"0123456789abcdef0\"},"
         "{\"name\":\"a\",\"kind\":\"bearer\",\"token\":\"0123456789abcdef1\"}]", "two credentials are named \"a\""},
        {"[{\"name\":\"a\",\"kind\":\"bearer\",\"token\":\"0123456789abcdef0\"},"
         "{\"name\":\"b\",\"kind\":\"bearer\",\"token\":\"0123456789abcdef0\"}]", "have the same token"},
        {"[{\"name\":\"a\",\"kind\":\"basic\",\"username\":\"u\",\"password_hash\":\"plain-password\"}]",
         "auth.credentials[0].password_hash: not a password hash"},
        {"[{\"name\":\"a\",\"kind\":\"basic\",\"password_hash\":\"x\"}]", "auth.credentials[0].username: is required"},
        {"[{\"name\":\"a\",\"kind\":\"bearer\",\"token\":\"0123456789abcdef0\",\"not_after\":\"tomorrow\"}]",
         "not_after: must be an ISO 8601 date"},
        {"[{\"name\":\"a\",\"kind\":\"bearer\",\"token\":\"0123456789abcdef0\",\"not_after\":\"2030-01-01T10:00:00\"}]",
         "not_after: must be"},
        {"[{\"name\":\"a\",\"kind\":\"bearer\",\"token\":\"0123456789abcdef0\",\"allow_from\":[\"10.1.0.0/8\"]}]",
         "allow_from: [0] has address bits set beyond the prefix length"},
        {"[{\"name\":\"a\",\"kind\":\"bearer\",\"token\":\"0123456789abcdef0\",\"resource_types\":[\"Devices\"]}]",
         "\"Devices\" is not a resource type of the mapping"},
        {"[{\"name\":\"a\",\"kind\":\"bearer\",\"token\":\"0123456789abcdef0\",\"rate_limit\":{\"per_second\":0}}]",
         "per_second must be a number above 0"},
        {"[{\"name\":\"a\",\"kind\":\"bearer\",\"token\":\"0123456789abcdef0\",\"rate_limit\":{\"rps\":5}}]",
         "rps: unknown key"},
        {"[{\"name\":\"a\",\"kind\":\"oauth_client\",\"client_id\":\"c\",\"secret_hash\":\"CLIENT\"}]",
         "not a password hash"},
        {"[{\"name\":\"a\",\"kind\":\"jwt\",\"issuer\":\"i\",\"audience\":\"x\"}]", "give jwks_file or public_key_file"},
        {"[{\"name\":\"a\",\"kind\":\"jwt\",\"issuer\":\"i\",\"audience\":\"x\",\"jwks_file\":\"idp.jwks\","
         "\"algorithms\":[\"HS256\"]}]", "\"HS256\" is not allowed (RS256 and ES256 only)"},
        {"[{\"name\":\"a\",\"kind\":\"jwt\",\"audience\":\"x\",\"jwks_file\":\"idp.jwks\"}]", "issuer: is required"},
        {"[{\"name\":\"a\",\"kind\":\"jwt\",\"issuer\":\"i\",\"audience\":\"x\",\"public_key_file\":\"hs.key\"}]",
         "no PEM public key or certificate"},
        {"[{\"name\":\"a\",\"kind\":\"jwt\",\"issuer\":\"i\",\"audience\":[],\"jwks_file\":\"idp.jwks\"}]",
         "audience: must be a string or a non-empty array"},
        {"{}", "auth.credentials: must be an array"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(auth, sizeof auth, "{\"credentials\":%s}", cases[i].creds);
        s2l_auth *a = auth_from(auth, err, sizeof err);
        CHECK(a == NULL);
        s2l_auth_release(a);
        if (strstr(err, cases[i].want) == NULL) {
            fprintf(stderr, "config case %zu: error \"%s\" lacks \"%s\"\n", i, err, cases[i].want);
            CHECK(0);
        }
        CHECK(strstr(err, "c.json") != NULL);
        CHECK(strstr(err, "0123456789abcdef") == NULL); /* secrets are never quoted */
    }
    /* oauth_client needs the signing key; the key must be usable */
    snprintf(auth, sizeof auth,
             "{\"credentials\":[{\"name\":\"c\",\"kind\":\"oauth_client\",\"client_id\":\"c\",\"secret_hash\":\"%s\"}]}",
             client_hash);
    CHECK(auth_from(auth, err, sizeof err) == NULL);
    CHECK(strstr(err, "auth.token_endpoint.signing_key_file: is required") != NULL);
    write_text("weak.key", "short secret\n");
    CHECK(auth_from("{\"bearer_tokens\":[\"0123456789abcdef0\"],\"token_endpoint\":{\"signing_key_file\":\"weak.key\"}}",
                    err, sizeof err) == NULL);
    CHECK(strstr(err, "at least 32 bytes") != NULL && strstr(err, "short secret") == NULL);
    CHECK(auth_from("{\"bearer_tokens\":[\"0123456789abcdef0\"],\"token_endpoint\":{\"signing_key_file\":\"hs.key\","
                    "\"algorithm\":\"RS256\"}}",
                    err, sizeof err) == NULL);
    CHECK(strstr(err, "holds a HS256 key") != NULL);
    CHECK(auth_from("{\"bearer_tokens\":[\"0123456789abcdef0\"],\"realm\":\"a\\\"b\"}", err, sizeof err) == NULL);
    CHECK(strstr(err, "auth.realm") != NULL);
    /* ServiceProviderConfig's schemes follow the credentials */
    s2l_auth *a = auth_from("{\"bearer_tokens\":[\"0123456789abcdef0\"]}", err, sizeof err);
    json_t *schemes = a ? s2l_auth_schemes_json(a) : NULL;
    CHECK(json_array_size(schemes) == 1);
    json_decref(schemes);
    s2l_auth_release(a);
}

/* The README's "Connect ..." snippets are valid JSON with credentials of known kinds. */
static void test_readme_snippets(void)
{
    const char *src = getenv("S2L_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/README.md", src ? src : ".");
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    int snippets = 0;
    for (char *p = text; (p = strstr(p, "```json\n")) != NULL;) {
        p += 8;
        while (*p == ' ')
            p++;
        char *end = strstr(p, "```");
        if (end == NULL)
            break;
        if (strncmp(p, "\"auth\"", 6) != 0) {
            p = end + 3;
            continue;
        }
        size_t len = (size_t)(end - p);
        char *doc = malloc(len + 3);
        doc[0] = '{';
        memcpy(doc + 1, p, len);
        doc[len + 1] = '}';
        doc[len + 2] = 0;
        json_error_t jerr;
        json_t *j = json_loads(doc, 0, &jerr);
        if (j == NULL)
            fprintf(stderr, "README snippet %d: %s\n%s\n", snippets, jerr.text, doc);
        CHECK(j != NULL);
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(json_object_get(j, "auth"), "credentials"), i, c) {
            const char *kind = json_string_value(json_object_get(c, "kind"));
            CHECK(json_string_value(json_object_get(c, "name")) != NULL);
            CHECK(kind && (strcmp(kind, "bearer") == 0 || strcmp(kind, "basic") == 0 ||
                           strcmp(kind, "oauth_client") == 0 || strcmp(kind, "jwt") == 0));
        }
        json_decref(j);
        free(doc);
        snippets++;
        p = end + 3;
    }
    CHECK(snippets >= 6);
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    char err[256];
    s2l_hash_params p = {.kind = S2L_HASH_PBKDF2_SHA256, .iterations = 10000};
    if (s2l_secret_hash_make("okta-password", 13, &p, basic_hash, sizeof basic_hash, err, sizeof err) < 0 ||
        s2l_secret_hash_make("client/secret+1", 15, &p, client_hash, sizeof client_hash, err, sizeof err) < 0)
        return 1;
    idp_rsa = jf_rsa_key(2048);
    idp_ec = jf_ec_key();
    other_rsa = jf_rsa_key(2048);
    EVP_PKEY *sign_rsa = jf_rsa_key(2048), *sign_ec = jf_ec_key();
    jf_write_pem(sign_rsa, tmp_path("rs.key"), 1);
    jf_write_pem(sign_ec, tmp_path("es.key"), 1);
    write_text("hs.key", "an-hs256-secret-of-more-than-32-bytes-0123456789\n");

    test_credentials();
    test_failed_attempts();
    test_token_endpoint("hs.key", "HS256");
    test_token_endpoint("rs.key", "RS256");
    test_token_endpoint("es.key", "ES256");
    test_client_limits();
    test_external_jwt();
    test_config_errors();
    test_readme_snippets();

    EVP_PKEY_free(idp_rsa);
    EVP_PKEY_free(idp_ec);
    EVP_PKEY_free(other_rsa);
    EVP_PKEY_free(sign_rsa);
    EVP_PKEY_free(sign_ec);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return UNIT_DONE();
}
