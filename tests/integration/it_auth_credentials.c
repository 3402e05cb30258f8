/* it_auth_credentials.c — auth.credentials against a real gateway and slapd:
 * Basic right / wrong / unknown / expired (PBKDF2 and scrypt hashes made by
 * `scim2ldap hash-secret`), bearer expired, tokens from a file and from the
 * environment, read_only and resource_types (403, LDAP unchanged),
 * allow_from, Okta's scheme-less "Header" token, per-credential rate limits
 * and failed attempts per source (429 + Retry-After), the credential name in
 * the access log, SIGHUP reloading credentials, and a scan of the log and every
 * response body for secrets. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "it_auth_common.h"

#define OKTA_PASSWORD "Okta-Pa55word with spaces:and colons"
#define OLD_PASSWORD "old-okta-password-0123"
#define EXPIRED_TOKEN "expired-token-0123456789abcdef"
#define READER_TOKEN "reader-token-from-env-0123456789"
#define USERS_TOKEN "users-only-token-from-file-0123"
#define ELSEWHERE_TOKEN "elsewhere-token-0123456789abcdef"
#define LOOPBACK_TOKEN "loopback-token-0123456789abcdef"
#define LIMITED_TOKEN "limited-token-0123456789abcdef"
#define ROTATED_TOKEN "rotated-token-after-sighup-0123"

static char okta_hash[512], old_hash[512];

static void test_hash_secret_cli(const char *dir)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "printf '%%s\\n' '%s' | %s hash-secret > %s/okta.hash && head -n 1 %s/okta.hash",
             OKTA_PASSWORD, S2L_BINARY, dir, dir);
    char *h = ia_run(cmd);
    H_REQUIRE(h != NULL);
    H_CHECK(strncmp(h, "$pbkdf2-sha256$i=600000$", 24) == 0);
    snprintf(okta_hash, sizeof okta_hash, "%s", h);
    free(h);
    snprintf(cmd, sizeof cmd, "printf '%%s' '%s' | %s hash-secret --scrypt", OLD_PASSWORD, S2L_BINARY);
    h = ia_run(cmd);
    H_REQUIRE(h != NULL);
    H_CHECK(strncmp(h, "$scrypt$ln=15,r=8,p=3$", 22) == 0);
    snprintf(old_hash, sizeof old_hash, "%s", h);
    free(h);
    /* --generate: a random secret, then its hash */
    snprintf(cmd, sizeof cmd, "%s hash-secret --generate --iterations 20000 | tr '\\n' ' '", S2L_BINARY);
    h = ia_run(cmd);
    H_CHECK(h != NULL && strlen(h) > 44 && h[43] == ' ' && strncmp(h + 44, "$pbkdf2-sha256$i=20000$", 23) == 0);
    free(h);
    snprintf(cmd, sizeof cmd, "echo x | %s hash-secret --iterations 10 2>&1 >/dev/null; test $? -ne 0", S2L_BINARY);
    h = ia_run(cmd);
    H_CHECK(h != NULL && strstr(h, "iterations") != NULL);
    free(h);
}

static void expect(h_gw *g, const char *method, const char *path, const char *body, const char *authz, int status,
                   const char *detail_part, int line)
{
    h_resp r = ia_http(g, method, path, body, authz);
    h_check_status_(&r, status, __FILE__, line);
    if (status >= 400) {
        char want[16];
        snprintf(want, sizeof want, "%d", status);
        h_check_str_(h_jstr(r.json, "status"), want, "status", __FILE__, line);
    }
    if (detail_part) {
        const char *d = h_jstr(r.json, "detail");
        h_check_(d && strstr(d, detail_part), __FILE__, line, "detail \"%s\" lacks \"%s\"", d ? d : "(none)",
                 detail_part);
    }
    h_resp_free(&r);
}
#define EXPECT(g, m, p, b, a, s, d) expect(g, m, p, b, a, s, d, __LINE__)

static char *extra_config(const char *dir, const char *loopback_digest)
{
    char *buf = malloc(8192);
    snprintf(buf, 8192,
             "{\"auth\":{\"credentials\":["
             "{\"name\":\"okta-basic\",\"kind\":\"basic\",\"username\":\"okta\",\"password_hash_file\":\"%s/okta.hash\"},"
             "{\"name\":\"okta-old\",\"kind\":\"basic\",\"username\":\"okta-old\",\"password_hash\":\"%s\","
             "\"not_after\":\"2020-01-01\"},"
             "{\"name\":\"expired-bearer\",\"kind\":\"bearer\",\"token\":\"" EXPIRED_TOKEN "\","
             "\"not_after\":\"2020-06-30T12:00:00Z\"},"
             "{\"name\":\"reader\",\"kind\":\"bearer\",\"token_env\":\"S2L_IT_READER_TOKEN\",\"read_only\":true},"
             "{\"name\":\"users-only\",\"kind\":\"bearer\",\"token_file\":\"%s/users.token\","
             "\"resource_types\":[\"Users\"]},"
             "{\"name\":\"elsewhere\",\"kind\":\"bearer\",\"token\":\"" ELSEWHERE_TOKEN "\","
             "\"allow_from\":[\"192.0.2.0/24\",\"2001:db8::/32\"]},"
             "{\"name\":\"loopback\",\"kind\":\"bearer\",\"token\":\"sha256:%s\",\"allow_from\":[\"127.0.0.0/8\",\"::1\"]},"
             "{\"name\":\"limited\",\"kind\":\"bearer\",\"token\":\"" LIMITED_TOKEN "\","
             "\"rate_limit\":{\"per_second\":0.2,\"burst\":2}}"
             "]}}",
             dir, old_hash, dir, loopback_digest);
    return buf;
}

int main(void)
{
    h_slapd *s = h_slapd_start(NULL);
    H_REQUIRE(s != NULL);
    const char *dir = h_slapd_dir(s);
    char cmd[1024], path[600];
    test_hash_secret_cli(dir);

    snprintf(path, sizeof path, "%s/users.token", dir);
    FILE *f = fopen(path, "w");
    H_REQUIRE(f != NULL);
    fputs(USERS_TOKEN "\n", f);
    fclose(f);
    setenv("S2L_IT_READER_TOKEN", READER_TOKEN, 1);
    snprintf(cmd, sizeof cmd, "printf '%%s' '%s' | sha256sum | cut -d' ' -f1", LOOPBACK_TOKEN);
    char *digest = ia_run(cmd);
    H_REQUIRE(digest != NULL && strlen(digest) == 64);
    /* The loopback credential holds only the token's SHA-256. */
    char *extra = extra_config(dir, digest);
    free(digest);

    h_gw *g = h_gw_start(s, extra);
    free(extra);
    H_REQUIRE(g != NULL);
    const char *filter = "/Users?filter=userName%20eq%20%22nobody%22";

    /* ---- Basic ---- */
    char *okta = ia_basic_header("okta", OKTA_PASSWORD);
    EXPECT(g, "GET", filter, NULL, okta, 200, NULL);
    char *body = ia_user_body("basic.user");
    EXPECT(g, "POST", "/Users", body, okta, 201, NULL);
    free(body);
    json_t *e = h_ldap_entry(s, "uid=basic.user," H_PEOPLE);
    H_CHECK(e != NULL);
    json_decref(e);

    char *wrong = ia_basic_header("okta", "not-the-password");
    h_resp r = ia_http(g, "GET", filter, NULL, wrong);
    H_CHECK_STATUS(r, 401);
    const char *challenges[4];
    size_t n = ia_headers(&r, "WWW-Authenticate", challenges, 4);
    H_CHECK_INT(n, 2);
    H_CHECK(n == 2 && strncmp(challenges[0], "Bearer realm=\"scim2ldap\"", 24) == 0);
    H_CHECK(n == 2 && strcmp(challenges[1], "Basic realm=\"scim2ldap\", charset=\"UTF-8\"") == 0);
    H_CHECK_STR(h_jstr(r.json, "schemas[0]"), IT_URN_ERROR);
    h_resp_free(&r);
    free(wrong);
    char *unknown = ia_basic_header("mallory", OKTA_PASSWORD);
    EXPECT(g, "GET", filter, NULL, unknown, 401, "not valid");
    free(unknown);
    /* right password, expired credential (scrypt hash): 401 naming expiry, not the credential */
    char *old = ia_basic_header("okta-old", OLD_PASSWORD);
    r = ia_http(g, "GET", filter, NULL, old);
    H_CHECK_STATUS(r, 401);
    H_CHECK_STR(h_jstr(r.json, "detail"), "the credential has expired");
    h_resp_free(&r);
    free(old);

    /* ---- bearer: expired, Okta's scheme-less header, a sha256: digest in the config ---- */
    r = ia_http(g, "GET", filter, NULL, ia_bearer(EXPIRED_TOKEN));
    H_CHECK_STATUS(r, 401);
    H_CHECK_STR(h_jstr(r.json, "detail"), "the credential has expired");
    n = ia_headers(&r, "WWW-Authenticate", challenges, 4);
    H_CHECK(n >= 1 && strstr(challenges[0], "error=\"invalid_token\"") != NULL);
    h_resp_free(&r);
    EXPECT(g, "GET", filter, NULL, "Authorization: " USERS_TOKEN, 200, NULL);

    /* ---- /ServiceProviderConfig names both schemes a basic credential allows ---- */
    r = ia_http(g, "GET", "/ServiceProviderConfig", NULL, "Authorization: Bearer " READER_TOKEN);
    H_CHECK_STATUS(r, 200);
    {
        const json_t *schemes = h_jget(r.json, "authenticationSchemes");
        bool has_bearer = false, has_basic = false;
        size_t k;
        const json_t *sc;
        json_array_foreach(schemes, k, sc) {
            const char *t = json_string_value(json_object_get(sc, "type"));
            has_bearer |= t && strcmp(t, "oauthbearertoken") == 0;
            has_basic |= t && strcmp(t, "httpbasic") == 0;
        }
        H_CHECK(has_bearer && has_basic);
    }
    h_resp_free(&r);

    /* ---- read_only: reads pass, writes are 403 and LDAP is unchanged ---- */
    char *snap = h_ldap_snapshot(s);
    const char *reader = "Authorization: Bearer " READER_TOKEN;
    EXPECT(g, "GET", filter, NULL, reader, 200, NULL);
    r = ia_http(g, "GET", "/Users?filter=userName%20eq%20%22basic.user%22", NULL, reader);
    H_CHECK_STATUS(r, 200);
    char id[128] = "";
    snprintf(id, sizeof id, "%s", h_jstr(r.json, "Resources[0].id") ? h_jstr(r.json, "Resources[0].id") : "");
    h_resp_free(&r);
    char user_path[256];
    snprintf(user_path, sizeof user_path, "/Users/%s", id);
    body = ia_user_body("reader.write");
    EXPECT(g, "POST", "/Users", body, reader, 403, "read-only");
    free(body);
    EXPECT(g, "PATCH", user_path,
           "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"x\"}]}",
           reader, 403, "read-only");
    EXPECT(g, "DELETE", user_path, NULL, reader, 403, "read-only");
    EXPECT(g, "POST", "/Groups", "{\"displayName\":\"g\"}", reader, 403, "read-only");
    char *after = h_ldap_snapshot(s);
    H_CHECK(h_snapshot_same(snap, after));
    free(after);

    /* ---- resource_types ---- */
    const char *users_only = "Authorization: Bearer " USERS_TOKEN;
    EXPECT(g, "GET", filter, NULL, users_only, 200, NULL);
    EXPECT(g, "GET", "/Groups?filter=displayName%20eq%20%22x%22", NULL, users_only, 403, "/Groups");
    EXPECT(g, "POST", "/Groups", "{\"displayName\":\"not.allowed\"}", users_only, 403, "/Groups");
    after = h_ldap_snapshot(s);
    H_CHECK(h_snapshot_same(snap, after));
    free(after);
    free(snap);

    /* ---- allow_from ---- */
    EXPECT(g, "GET", filter, NULL, ia_bearer(ELSEWHERE_TOKEN), 403, "address");
    EXPECT(g, "GET", filter, NULL, ia_bearer(LOOPBACK_TOKEN), 200, NULL);

    /* ---- per-credential rate limit: burst 2, one more every 5 s ---- */
    EXPECT(g, "GET", filter, NULL, ia_bearer(LIMITED_TOKEN), 200, NULL);
    EXPECT(g, "GET", filter, NULL, ia_bearer(LIMITED_TOKEN), 200, NULL);
    r = ia_http(g, "GET", filter, NULL, ia_bearer(LIMITED_TOKEN));
    H_CHECK_STATUS(r, 429);
    H_CHECK_STR(h_jstr(r.json, "status"), "429");
    const char *ra = h_header(&r, "Retry-After");
    H_CHECK(ra != NULL && atoi(ra) >= 1 && atoi(ra) <= 5);
    h_resp_free(&r);
    EXPECT(g, "GET", filter, NULL, NULL, 200, NULL); /* the default token is not limited */

    /* ---- SIGHUP: credentials reload from the file; a broken file is refused ---- */
    char *cfg_text = ia_slurp(h_gw_config_path(g));
    json_t *cfg = json_loads(cfg_text, 0, NULL);
    free(cfg_text);
    H_REQUIRE(cfg != NULL);
    json_t *creds = json_object_get(json_object_get(cfg, "auth"), "credentials");
    json_array_append_new(creds, json_pack("{s:s, s:s, s:s}", "name", "rotated", "kind", "bearer", "token",
                                           ROTATED_TOKEN));
    json_array_remove(creds, 3); /* "reader" */
    H_REQUIRE(json_dump_file(cfg, h_gw_config_path(g), JSON_INDENT(2)) == 0);
    EXPECT(g, "GET", filter, NULL, ia_bearer(ROTATED_TOKEN), 401, NULL);
    H_CHECK(h_gw_signal(g, SIGHUP) == 0);
    H_CHECK(h_gw_log_wait(g, "event=reloaded what=config", 1, 10000));
    EXPECT(g, "GET", filter, NULL, ia_bearer(ROTATED_TOKEN), 200, NULL);
    EXPECT(g, "GET", filter, NULL, reader, 401, NULL);
    json_array_append_new(creds, json_pack("{s:s, s:s, s:s, s:s}", "name", "broken", "kind", "bearer", "token",
                                           "0123456789abcdef0123", "tokn", "typo"));
    H_REQUIRE(json_dump_file(cfg, h_gw_config_path(g), JSON_INDENT(2)) == 0);
    H_CHECK(h_gw_signal(g, SIGHUP) == 0);
    H_CHECK(h_gw_log_wait(g, "event=reload_failed what=config", 1, 10000));
    EXPECT(g, "GET", filter, NULL, ia_bearer(ROTATED_TOKEN), 200, NULL);
    json_decref(cfg);

    /* ---- the access log names the credential, never a secret ---- */
    char *log = ia_slurp(h_gw_log_path(g));
    H_CHECK(log && strstr(log, "status=201 cred=okta-basic") != NULL);
    H_CHECK(log && strstr(log, "status=403 cred=reader") != NULL);
    H_CHECK(log && strstr(log, "status=403 cred=users-only") != NULL);
    H_CHECK(log && strstr(log, "reason=credential_expired cred=okta-old") != NULL);
    H_CHECK(log && strstr(log, "reason=wrong_password cred=- source=127.0.0.1") != NULL);
    H_CHECK(log && strstr(log, "status=429 cred=limited") != NULL);
    H_CHECK(log && strstr(log, "status=200 cred=rotated") != NULL);
    H_CHECK(log && strstr(log, "event=reload_failed what=config reason=\"") != NULL);
    H_CHECK(log && strstr(log, "tokn: unknown key") != NULL);
    const char *secrets[] = {OKTA_PASSWORD, "Okta-Pa55word", OLD_PASSWORD, EXPIRED_TOKEN, READER_TOKEN, USERS_TOKEN,
                             ELSEWHERE_TOKEN, LOOPBACK_TOKEN, LIMITED_TOKEN, ROTATED_TOKEN, H_TOKEN,
                             okta_hash + 24, old_hash + 22, "not-the-password", "Authorization", "Basic b2t0", NULL};
    ia_check_no_secrets("the gateway log", log, secrets);
    free(log);
    H_CHECK(h_gw_stop(g));

    /* ---- failed attempts per source: 429 + Retry-After, even for the right token ---- */
    g = h_gw_start(s, "{\"auth\":{\"failed_attempts\":{\"burst\":3,\"per_minute\":1}}}");
    H_REQUIRE(g != NULL);
    for (int i = 0; i < 3; i++)
        EXPECT(g, "GET", filter, NULL, ia_bearer("guessing-0123456789abcdef"), 401, NULL);
    r = ia_http(g, "GET", filter, NULL, NULL);
    H_CHECK_STATUS(r, 429);
    H_CHECK_STR(h_jstr(r.json, "status"), "429");
    H_CHECK_STR(h_jstr(r.json, "schemas[0]"), IT_URN_ERROR);
    ra = h_header(&r, "Retry-After");
    H_CHECK(ra != NULL && atoi(ra) >= 50 && atoi(ra) <= 60);
    h_resp_free(&r);
    log = ia_slurp(h_gw_log_path(g));
    H_CHECK(log && strstr(log, "reason=too_many_failures") != NULL);
    ia_check_no_secrets("the second gateway's log", log, secrets);
    free(log);
    H_CHECK(h_gw_stop(g));

    free(okta);
    free(ia_bodies);
    h_slapd_destroy(s);
    return H_DONE();
}
