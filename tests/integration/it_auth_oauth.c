/* it_auth_oauth.c — the OAuth 2.0 token endpoint (client credentials,
 * RFC 6749 §4.4) on a real gateway: a token for form and for HTTP Basic
 * client authentication, used on /Users (LDAP checked); a second gateway with
 * the same key (HS256, RS256 and ES256 in turn) accepts it, one with another
 * key does not; every RFC 6749 §5.2 error with its status and headers; the
 * endpoint's own failed-attempt limit (429); the endpoint off without a key,
 * turned on and off again by a SIGHUP reload, and only at exactly its path;
 * tokens and secrets never in the log. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/jose_fixture.h"
#include "it_auth_common.h"

#define CLIENT_SECRET "m-files/secret+with=specials"
#define CLIENT_SECRET_FORM "m-files%2Fsecret%2Bwith%3Dspecials"

static const char *const form_ct[] = {"Authorization:", "Content-Type: application/x-www-form-urlencoded", NULL};

static char client_hash[512];
static char *secrets_seen[16];
static size_t n_secrets;

/* Error bodies are kept for the secret scan; a 200 carries the token by design. */
static h_resp token_request(h_gw *g, const char *body, const char *const *headers)
{
    h_resp r = h_http_at(g, "POST", "/oauth/token", body, headers ? headers : form_ct);
    if (r.status != 200)
        ia_keep_body(&r);
    return r;
}

static char *get_token(h_gw *g, int line)
{
    h_resp r = token_request(g, "grant_type=client_credentials&client_id=m-files&client_secret=" CLIENT_SECRET_FORM,
                             NULL);
    h_check_status_(&r, 200, __FILE__, line);
    char *tok = h_jstr(r.json, "access_token") ? strdup(h_jstr(r.json, "access_token")) : NULL;
    h_check_str_(h_jstr(r.json, "token_type"), "Bearer", "token_type", __FILE__, line);
    h_check_int_(h_jint(r.json, "expires_in", -1), 900, "expires_in", __FILE__, line);
    const char *ct = h_header(&r, "Content-Type");
    h_check_(ct && strncmp(ct, "application/json", 16) == 0, __FILE__, line, "Content-Type %s", ct ? ct : "-");
    h_check_str_(h_header(&r, "Cache-Control"), "no-store", "Cache-Control", __FILE__, line);
    h_resp_free(&r);
    if (tok && n_secrets < 16)
        secrets_seen[n_secrets++] = strdup(tok);
    return tok;
}

static char *config_for(const char *key_file, const char *extra_cred)
{
    char *buf = malloc(4096);
    snprintf(buf, 4096,
             "{\"auth\":{\"token_endpoint\":{\"signing_key_file\":\"%s\",\"lifetime_s\":900,"
             "\"failed_attempts\":{\"burst\":3,\"per_minute\":1}},"
             "\"credentials\":[{\"name\":\"m-files\",\"kind\":\"oauth_client\",\"client_id\":\"m-files\","
             "\"secret_hash\":\"%s\"}%s]}}",
             key_file, client_hash, extra_cred);
    return buf;
}

static h_gw *start(h_slapd *s, const char *key_file, const char *extra_cred)
{
    char *cfg = config_for(key_file, extra_cred);
    h_gw *g = h_gw_start(s, cfg);
    free(cfg);
    H_REQUIRE(g != NULL);
    return g;
}

static void expect_oauth_error(h_gw *g, const char *body, const char *const *headers, int status, const char *error,
                               int line)
{
    h_resp r = token_request(g, body, headers);
    h_check_status_(&r, status, __FILE__, line);
    h_check_str_(h_jstr(r.json, "error"), error, "error", __FILE__, line);
    h_check_(h_jstr(r.json, "error_description") != NULL, __FILE__, line, "no error_description");
    h_check_str_(h_header(&r, "Cache-Control"), "no-store", "Cache-Control", __FILE__, line);
    if (status == 401)
        h_check_str_(h_header(&r, "WWW-Authenticate"), "Basic realm=\"scim2ldap\", charset=\"UTF-8\"",
                     "WWW-Authenticate", __FILE__, line);
    h_resp_free(&r);
}
#define OAUTH_ERROR(g, body, headers, status, error) expect_oauth_error(g, body, headers, status, error, __LINE__)

static char *bearer(const char *tok)
{
    size_t n = strlen(tok) + 32;
    char *h = malloc(n);
    snprintf(h, n, "Authorization: Bearer %s", tok);
    return h;
}

/* Sets (key_file) or removes (NULL) auth.token_endpoint.signing_key_file in
 * the gateway's configuration file and reloads it with SIGHUP. */
static void reload_with_key(h_gw *g, const char *key_file, int reloads)
{
    json_error_t jerr;
    json_t *cfg = json_load_file(h_gw_config_path(g), 0, &jerr);
    H_REQUIRE(cfg != NULL);
    json_t *auth = json_object_get(cfg, "auth");
    if (key_file)
        json_object_set_new(auth, "token_endpoint", json_pack("{s:s}", "signing_key_file", key_file));
    else
        json_object_del(auth, "token_endpoint");
    H_REQUIRE(json_dump_file(cfg, h_gw_config_path(g), JSON_INDENT(2)) == 0);
    json_decref(cfg);
    H_CHECK(h_gw_signal(g, SIGHUP) == 0);
    H_CHECK(h_gw_log_wait(g, "event=reloaded what=config", reloads, 10000));
}

/* The endpoint is a route of its own: off without a key (404), on and off
 * again with a reload, and only at exactly its path (case and a trailing
 * '/' matter, as for any path outside base_path). */
static void test_endpoint_route(h_slapd *s, const char *key)
{
    h_gw *g = h_gw_start(s, NULL);
    H_REQUIRE(g != NULL);
    h_resp r = ia_http_at(g, "POST", "/oauth/token", "grant_type=client_credentials", form_ct);
    H_CHECK_STATUS(r, 404);
    h_resp_free(&r);

    reload_with_key(g, key, 1);
    OAUTH_ERROR(g, "grant_type=client_credentials", NULL, 401, "invalid_client"); /* on: no client given */
    r = ia_http_at(g, "POST", "/OAuth/Token", "grant_type=client_credentials", form_ct);
    H_CHECK_STATUS(r, 404);
    h_resp_free(&r);
    r = ia_http_at(g, "POST", "/oauth/token/", "grant_type=client_credentials", form_ct);
    H_CHECK_STATUS(r, 404);
    h_resp_free(&r);

    reload_with_key(g, NULL, 2);
    r = ia_http_at(g, "POST", "/oauth/token", "grant_type=client_credentials", form_ct);
    H_CHECK_STATUS(r, 404);
    h_resp_free(&r);
    H_CHECK(h_gw_stop(g));
}

/* The full protocol on one pair of gateways sharing an HS256 key. */
static void test_protocol(h_slapd *s, const char *key, const char *other_key)
{
    /* "auditor" reads its hash from client.hash, relative to the config file */
    h_gw *a = start(s, key, ",{\"name\":\"auditor\",\"kind\":\"oauth_client\",\"client_id\":\"auditor\","
                            "\"secret_hash_file\":\"client.hash\",\"read_only\":true}");
    h_gw *b = start(s, key, "");
    char *tok = get_token(a, __LINE__);
    H_REQUIRE(tok != NULL);
    char *auth = bearer(tok);

    /* the token works for SCIM on the gateway that issued it ... */
    char *body = ia_user_body("oauth.user");
    h_resp r = ia_http(a, "POST", "/Users", body, auth);
    free(body);
    H_CHECK_STATUS(r, 201);
    char id[128] = "";
    snprintf(id, sizeof id, "%s", h_jstr(r.json, "id") ? h_jstr(r.json, "id") : "?");
    h_resp_free(&r);
    json_t *e = h_ldap_entry(s, "uid=oauth.user," H_PEOPLE);
    H_CHECK(e != NULL);
    json_decref(e);
    /* ... and on the second gateway with the same key */
    char path[256];
    snprintf(path, sizeof path, "/Users/%s", id);
    r = ia_http(b, "GET", path, NULL, auth);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "userName"), "oauth.user");
    h_resp_free(&r);

    /* HTTP Basic client authentication (id and secret form-encoded, RFC 6749 §2.3.1) */
    char *basic = ia_basic_header("m-files", CLIENT_SECRET_FORM);
    const char *basic_hdr[] = {basic, "Content-Type: application/x-www-form-urlencoded", NULL};
    r = token_request(a, "grant_type=client_credentials", basic_hdr);
    H_CHECK_STATUS(r, 200);
    if (h_jstr(r.json, "access_token") && n_secrets < 16)
        secrets_seen[n_secrets++] = strdup(h_jstr(r.json, "access_token"));
    h_resp_free(&r);
    /* a read-only client's token reads but does not write */
    r = token_request(a, "grant_type=client_credentials&client_id=auditor&client_secret=" CLIENT_SECRET_FORM, NULL);
    H_CHECK_STATUS(r, 200);
    char *auditor = bearer(h_jstr(r.json, "access_token") ? h_jstr(r.json, "access_token") : "-");
    h_resp_free(&r);
    r = ia_http(a, "GET", path, NULL, auditor);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    char *snap = h_ldap_snapshot(s);
    r = ia_http(a, "DELETE", path, NULL, auditor);
    H_CHECK_STATUS(r, 403);
    h_resp_free(&r);
    char *after = h_ldap_snapshot(s);
    H_CHECK(h_snapshot_same(snap, after));
    free(snap);
    free(after);
    free(auditor);
    /* gateway b has no "auditor" client: its tokens mean nothing there */

    /* RFC 6749 §5.2 errors */
    h_resp m = ia_http_at(a, "GET", "/oauth/token", NULL, form_ct);
    H_CHECK_STATUS(m, 405);
    H_CHECK_STR(h_header(&m, "Allow"), "POST");
    H_CHECK_STR(h_jstr(m.json, "error"), "invalid_request");
    h_resp_free(&m);
    OAUTH_ERROR(a, "client_id=m-files&client_secret=" CLIENT_SECRET_FORM, NULL, 400, "invalid_request");
    OAUTH_ERROR(a, "grant_type=authorization_code&code=x&client_id=m-files&client_secret=" CLIENT_SECRET_FORM, NULL,
                400, "unsupported_grant_type");
    OAUTH_ERROR(a, "grant_type=client_credentials&grant_type=client_credentials", NULL, 400, "invalid_request");
    const char *text_ct[] = {"Authorization:", "Content-Type: text/plain", NULL};
    OAUTH_ERROR(a, "grant_type=client_credentials", text_ct, 400, "invalid_request");
    OAUTH_ERROR(a, "grant_type=client_credentials&client_secret=" CLIENT_SECRET_FORM, basic_hdr, 400,
                "invalid_request"); /* two client authentication methods */
    OAUTH_ERROR(a, "grant_type=client_credentials", NULL, 401, "invalid_client"); /* none at all */
    OAUTH_ERROR(a, "grant_type=client_credentials&client_id=m-files&client_secret=wrong-secret", NULL, 401,
                "invalid_client");
    OAUTH_ERROR(a, "grant_type=client_credentials&client_id=mallory&client_secret=wrong-secret", NULL, 401,
                "invalid_client");
    /* three failed attempts: the endpoint's own limit answers 429, even for the right secret */
    r = token_request(a, "grant_type=client_credentials&client_id=m-files&client_secret=" CLIENT_SECRET_FORM, NULL);
    H_CHECK_STATUS(r, 429);
    H_CHECK_STR(h_jstr(r.json, "error"), "temporarily_unavailable");
    const char *ra = h_header(&r, "Retry-After");
    H_CHECK(ra != NULL && atoi(ra) >= 1 && atoi(ra) <= 60);
    h_resp_free(&r);
    /* SCIM requests from the same address are not affected */
    r = ia_http(a, "GET", path, NULL, auth);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);

    /* a gateway with another key refuses the token */
    h_gw *c = start(s, other_key, "");
    r = ia_http(c, "GET", path, NULL, auth);
    H_CHECK_STATUS(r, 401);
    H_CHECK(h_header(&r, "WWW-Authenticate") && strstr(h_header(&r, "WWW-Authenticate"), "invalid_token"));
    h_resp_free(&r);

    char *log = ia_slurp(h_gw_log_path(a));
    H_CHECK(log && strstr(log, "event=token") && strstr(log, "status=200 reason=ok cred=m-files source=127.0.0.1"));
    H_CHECK(log && strstr(log, "path=\"/oauth/token\" status=200 cred=m-files"));
    H_CHECK(log && strstr(log, "reason=wrong_client_secret cred=-"));
    H_CHECK(log && strstr(log, "method=POST path=\"/Users\" status=201 cred=m-files"));
    const char *secrets[] = {tok, CLIENT_SECRET, CLIENT_SECRET_FORM, "wrong-secret", client_hash + 23, NULL};
    ia_check_no_secrets("the log of the issuing gateway", log, secrets);
    free(log);
    log = ia_slurp(h_gw_log_path(b));
    H_CHECK(log && strstr(log, "method=GET path=\"/Users/") && strstr(log, "status=200 cred=m-files"));
    ia_check_no_secrets("the log of the second gateway", log, secrets);
    free(log);
    free(basic);
    free(auth);
    free(tok);
    H_CHECK(h_gw_stop(a));
    H_CHECK(h_gw_stop(b));
    H_CHECK(h_gw_stop(c));
}

/* The same key on two gateways: tokens cross over (RS256, ES256). */
static void test_pair(h_slapd *s, const char *key, const char *alg)
{
    h_gw *a = start(s, key, ""), *b = start(s, key, "");
    char *tok = get_token(a, __LINE__);
    H_REQUIRE(tok != NULL);
    /* the header names the algorithm */
    char *hdr_b64 = strndup(tok, strcspn(tok, "."));
    unsigned char hdr[512] = "";
    size_t len = strlen(hdr_b64);
    for (size_t i = 0; i < len; i++)
        hdr_b64[i] = hdr_b64[i] == '-' ? '+' : hdr_b64[i] == '_' ? '/' : hdr_b64[i];
    char padded[600];
    snprintf(padded, sizeof padded, "%s%s", hdr_b64, len % 4 == 2 ? "==" : len % 4 == 3 ? "=" : "");
    EVP_DecodeBlock(hdr, (const unsigned char *)padded, (int)strlen(padded));
    H_CHECK(strstr((char *)hdr, alg) != NULL);
    free(hdr_b64);
    char *auth = bearer(tok);
    h_resp r = ia_http(b, "GET", "/Users?filter=userName%20eq%20%22oauth.user%22", NULL, auth);
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(h_jint(r.json, "totalResults", -1), 1);
    h_resp_free(&r);
    free(auth);
    free(tok);
    H_CHECK(h_gw_stop(a));
    H_CHECK(h_gw_stop(b));
}

int main(void)
{
    h_slapd *s = h_slapd_start(NULL);
    H_REQUIRE(s != NULL);
    const char *dir = h_slapd_dir(s);
    char cmd[4096], path[4][600];
    snprintf(cmd, sizeof cmd, "printf '%%s\\n' '%s' | %s hash-secret --iterations 20000 | tee %s/client.hash",
             CLIENT_SECRET, S2L_BINARY, dir);
    char *h = ia_run(cmd);
    H_REQUIRE(h != NULL);
    snprintf(client_hash, sizeof client_hash, "%s", h);
    free(h);
    /* Keys made at run time: two HS256 secrets, an RSA and an EC private key. */
    for (int i = 0; i < 2; i++) {
        snprintf(path[i], sizeof path[i], "%s/hs%d.key", dir, i);
        snprintf(cmd, sizeof cmd, "openssl rand -hex 32 > %s && echo ok", path[i]);
        h = ia_run(cmd);
        H_REQUIRE(h != NULL);
        free(h);
    }
    snprintf(path[2], sizeof path[2], "%s/rs.key", dir);
    snprintf(path[3], sizeof path[3], "%s/es.key", dir);
    EVP_PKEY *rsa = jf_rsa_key(2048), *ec = jf_ec_key();
    H_REQUIRE(jf_write_pem(rsa, path[2], 1) == 0 && jf_write_pem(ec, path[3], 1) == 0);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);

    /* without a signing key there is no endpoint */
    h_gw *plain = h_gw_start(s, NULL);
    H_REQUIRE(plain != NULL);
    h_resp r = ia_http_at(plain, "POST", "/oauth/token", "grant_type=client_credentials", form_ct);
    H_CHECK_STATUS(r, 404);
    h_resp_free(&r);
    H_CHECK(h_gw_stop(plain));

    test_endpoint_route(s, path[0]);
    test_protocol(s, path[0], path[1]);
    test_pair(s, path[2], "RS256");
    test_pair(s, path[3], "ES256");

    for (size_t i = 0; i < n_secrets; i++)
        free(secrets_seen[i]);
    free(ia_bodies);
    h_slapd_destroy(s);
    return H_DONE();
}
