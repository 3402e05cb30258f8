/* it_tls_options.c — HTTPS settings: tls.min_version (a TLS 1.2 client is
 * refused when 1.3 is the minimum), tls.ciphers and tls.ciphersuites (only the
 * listed ones are negotiated), tls.client_ca_file (mTLS: no certificate or one
 * from another CA is refused, one from the CA gets through to the usual token
 * check), and --check-config catching a cipher list OpenSSL does not know.
 *
 * Certificates are made with the openssl command in the slapd's temporary
 * folder; curl is the client (the harness speaks plain HTTP only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_auth_common.h"

static char dir[512];

/* curl's HTTP status for a GET /Users on port with extra curl options ("000" when TLS failed). */
static char *curl_status(int port, const char *opts, const char *token)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "curl -sk -m 10 -o /dev/null -w '%%{http_code}' %s -H 'Authorization: Bearer %s' "
             "'https://127.0.0.1:%d/scim/v2/Users?filter=userName%%20eq%%20%%22nobody%%22' 2>/dev/null; true",
             opts, token ? token : H_TOKEN, port);
    char *s = ia_run(cmd);
    return s ? s : strdup("(none)");
}

static void expect_status(int port, const char *opts, const char *want, int line)
{
    char *got = curl_status(port, opts, NULL);
    h_check_(strcmp(got, want) == 0, __FILE__, line, "curl %s: got %s, want %s", opts, got, want);
    free(got);
}
#define EXPECT_STATUS(port, opts, want) expect_status(port, opts, want, __LINE__)

static h_gw *start_tls(h_slapd *s, const char *tls_extra)
{
    char extra[2048];
    snprintf(extra, sizeof extra, "{\"tls\":{\"cert_file\":\"%s/tls.crt\",\"key_file\":\"%s/tls.key\"%s}}", dir, dir,
             tls_extra);
    h_gw *g = h_gw_start(s, extra);
    H_REQUIRE(g != NULL);
    return g;
}

int main(void)
{
    if (system("command -v curl >/dev/null && command -v openssl >/dev/null") != 0) {
        H_SKIP("curl or openssl is not installed");
        return H_DONE();
    }
    h_slapd *s = h_slapd_start(NULL);
    H_REQUIRE(s != NULL);
    snprintf(dir, sizeof dir, "%s", h_slapd_dir(s));
    char cmd[4096];
    /* server certificate (RSA, for the ECDHE-RSA ciphers), a CA, a client
     * certificate from that CA, and a self-signed client certificate */
    snprintf(cmd, sizeof cmd,
             "(cd %s && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout tls.key "
             "-out tls.crt && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=test-ca "
             "-keyout ca.key -out ca.crt && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=idp-client "
             "-keyout client.key -out client.csr && "
             "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -out client.crt && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=stranger "
             "-keyout other.key -out other.crt) >/dev/null 2>&1 && echo made",
             dir);
    char *made = ia_run(cmd);
    H_REQUIRE(made != NULL);
    free(made);

    /* ---- minimum version 1.3, one TLS 1.3 suite ---- */
    h_gw *g = start_tls(s, ",\"min_version\":\"1.3\",\"ciphersuites\":\"TLS_AES_256_GCM_SHA384\"");
    int port = h_gw_port(g);
    EXPECT_STATUS(port, "--tlsv1.3", "200");
    EXPECT_STATUS(port, "--tlsv1.2 --tls-max 1.2", "000");
    EXPECT_STATUS(port, "--tlsv1.3 --tls13-ciphers TLS_AES_128_GCM_SHA256", "000");
    EXPECT_STATUS(port, "--tlsv1.3 --tls13-ciphers TLS_AES_256_GCM_SHA384", "200");
    H_CHECK(h_gw_stop(g));

    /* ---- default minimum (1.2) and a TLS 1.2 cipher list ---- */
    g = start_tls(s, ",\"ciphers\":\"ECDHE-RSA-AES128-GCM-SHA256\"");
    port = h_gw_port(g);
    EXPECT_STATUS(port, "--tlsv1.2 --tls-max 1.2", "200");
    EXPECT_STATUS(port, "--tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256", "200");
    EXPECT_STATUS(port, "--tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES256-GCM-SHA384", "000");
    EXPECT_STATUS(port, "--tlsv1.3", "200");
    H_CHECK(h_gw_stop(g));

    /* ---- mTLS: client certificates from ca.crt only; the token is still checked ---- */
    char ca_extra[1024];
    snprintf(ca_extra, sizeof ca_extra, ",\"client_ca_file\":\"%s/ca.crt\"", dir);
    g = start_tls(s, ca_extra);
    port = h_gw_port(g);
    char opts[2048];
    snprintf(opts, sizeof opts, "--cert %s/client.crt --key %s/client.key", dir, dir);
    EXPECT_STATUS(port, opts, "200");
    char *st = curl_status(port, opts, "wrong-token-0123456789abcdef");
    H_CHECK_STR(st, "401");
    free(st);
    EXPECT_STATUS(port, "", "000");
    snprintf(opts, sizeof opts, "--cert %s/other.crt --key %s/other.key", dir, dir);
    EXPECT_STATUS(port, opts, "000");
    snprintf(opts, sizeof opts, "--tlsv1.2 --tls-max 1.2 --cert %s/other.crt --key %s/other.key", dir, dir);
    EXPECT_STATUS(port, opts, "000");
    snprintf(opts, sizeof opts, "--tlsv1.2 --tls-max 1.2 --cert %s/client.crt --key %s/client.key", dir, dir);
    EXPECT_STATUS(port, opts, "200");

    /* ---- --check-config catches what only OpenSSL can judge ---- */
    char *text = ia_slurp(h_gw_config_path(g));
    json_t *cfg = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    H_REQUIRE(cfg != NULL);
    json_object_set_new(json_object_get(cfg, "tls"), "ciphers", json_string("NO-SUCH-CIPHER"));
    char path[700];
    snprintf(path, sizeof path, "%s/bad-ciphers.json", dir);
    H_REQUIRE(json_dump_file(cfg, path, 0) == 0);
    json_decref(cfg);
    snprintf(cmd, sizeof cmd, "%s --check-config %s 2>&1; true", S2L_BINARY, path);
    char *out = ia_run(cmd);
    H_CHECK(out != NULL && strstr(out, "tls.ciphers NO-SUCH-CIPHER") != NULL);
    free(out);
    snprintf(cmd, sizeof cmd, "%s --check-config %s >/dev/null 2>&1 || echo refused", S2L_BINARY, path);
    out = ia_run(cmd);
    H_CHECK_STR(out, "refused");
    free(out);
    H_CHECK(h_gw_stop(g));
    h_slapd_destroy(s);
    return H_DONE();
}
