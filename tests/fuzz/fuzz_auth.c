/* fuzz_auth.c — libFuzzer target for what an unauthenticated client controls:
 * the Authorization header, Basic credentials, JWT (JWS compact) parsing and
 * verification, JWK objects, token request bodies and the whole authentication
 * decision.
 *
 * The first byte picks the part; the rest is the input. Beyond "no crash, no
 * leak, no UB" it checks:
 *   - parsed credentials lie inside the header value;
 *   - a decoded Basic user name has no ':' and no control character;
 *   - a parsed JWT has a header and claims object, and an "alg" it does not
 *     implement never verifies;
 *   - a decision is 401 or 429 with a detail and, for 401, a Bearer challenge
 *     (no input can authenticate: the fuzzer does not know the token or key).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s2l/auth.h"
#include "s2l/cidr.h"
#include "s2l/http_auth.h"
#include "s2l/jwt.h"
#include "s2l/secret_hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static s2l_auth *auth;
static s2l_jwk hs_key, ec_key;

/* An auth state with a bearer token, an external-JWT credential (a JWKS with
 * one EC key) and the token endpoint (HS256), from files in a temporary folder. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static char dir[] = "/tmp/s2l-fuzz-auth-XXXXXX";
    char path[256], err[512];
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(path, sizeof path, "%s/hs.key", dir);
    FILE *f = fopen(path, "w");
    fputs("fuzz-signing-secret-0123456789abcdef0123456789\n", f);
    fclose(f);
    if (s2l_jwk_load_signing_file(&hs_key, path, err, sizeof err) < 0)
        abort();
    snprintf(path, sizeof path, "%s/idp.jwks", dir);
    f = fopen(path, "w");
    fputs("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k1\","
          "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
          "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}",
          f);
    fclose(f);
    json_t *doc = json_load_file(path, 0, NULL);
    s2l_jwks set = {0};
    if (doc == NULL || s2l_jwks_add_json(&set, doc, err, sizeof err) != 1)
        abort();
    ec_key = set.keys[0];
    free(set.keys);
    json_decref(doc);

    s2l_config cfg = {0};
    char cfg_path[256], hs_path[256];
    snprintf(cfg_path, sizeof cfg_path, "%s/config.json", dir);
    snprintf(hs_path, sizeof hs_path, "%s/hs.key", dir);
    cfg.path = cfg_path;
    unsigned char digests[1][S2L_TOKEN_DIGEST_LEN];
    const char *why;
    if (s2l_config_token_digest("fuzz-bearer-token-0123456789", digests[0], &why) < 0)
        abort();
    cfg.token_digests = digests;
    cfg.n_tokens = 1;
    cfg.auth.credentials = json_pack("[{s:s, s:s, s:s, s:s, s:s}]", "name", "idp", "kind", "jwt", "issuer",
                                     "https://idp.example", "audience", "scim", "jwks_file", "idp.jwks");
    cfg.auth.realm = "scim2ldap";
    cfg.auth.failed_burst = 0; /* no lock-out: every input reaches the parsers */
    cfg.auth.token.path = "/oauth/token";
    cfg.auth.token.signing_key_file = hs_path;
    cfg.auth.token.issuer = "scim2ldap";
    cfg.auth.token.audience = "scim2ldap";
    cfg.auth.token.lifetime_s = 3600;
    auth = s2l_auth_create(&cfg, NULL, err, sizeof err);
    json_decref(cfg.auth.credentials);
    if (auth == NULL) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    return 0;
}

static void fuzz_header(const char *text)
{
    s2l_authz z;
    s2l_authz_parse(text, &z);
    size_t len = strlen(text);
    bool has_cred = z.scheme != S2L_AUTHZ_NONE && z.scheme != S2L_AUTHZ_MALFORMED;
    if (has_cred ? (z.cred < text || z.cred + z.cred_len > text + len || z.cred_len == 0) : z.cred != NULL)
        abort();
    if (z.scheme == S2L_AUTHZ_BASIC) {
        char buf[S2L_BASIC_MAX + 8];
        const char *user, *pw;
        if (s2l_basic_decode(z.cred, z.cred_len, buf, sizeof buf, &user, &pw) == 0) {
            if (strchr(user, ':') != NULL)
                abort();
            for (const char *p = user; *p; p++)
                if ((unsigned char)*p < 0x20)
                    abort();
        }
    }
}

static void fuzz_jwt(const char *text, size_t len)
{
    s2l_jwt t;
    const char *why = NULL;
    if (s2l_jwt_parse(text, len, &t, &why) < 0) {
        if (why == NULL)
            abort();
        return;
    }
    if (!json_is_object(t.header) || !json_is_object(t.claims) || t.signed_len >= len)
        abort();
    bool hs = s2l_jwt_verify(&t, text, &hs_key), ec = s2l_jwt_verify(&t, text, &ec_key);
    if ((hs || ec) && t.alg == S2L_JWS_UNSUPPORTED)
        abort();
    const char *iss[] = {"https://idp.example"}, *aud[] = {"scim"};
    s2l_jwt_expect e = {iss, 1, aud, 1, 1700000000, 60};
    (void)s2l_jwt_check_claims(&t, &e);
    s2l_jwt_fini(&t);
}

static void fuzz_decision(const char *text, const uint8_t *raw, size_t size)
{
    s2l_ip src;
    if (size >= 16)
        s2l_ip_from_bytes(raw, 16, &src);
    else if (size >= 4)
        s2l_ip_from_bytes(raw, 4, &src);
    else
        s2l_ip_parse("192.0.2.1", &src);
    s2l_auth_input in = {.authorization = text, .source = &src, .now_ms = 1700000000000LL};
    s2l_auth_decision d;
    s2l_auth_authenticate(auth, &in, &d);
    if (d.status != 401 && d.status != 429)
        abort();
    if (d.detail[0] == 0 || d.reason == NULL)
        abort();
    if (d.status == 401 && (d.n_challenges < 1 || strncmp(d.challenges[0], "Bearer realm=", 13) != 0))
        abort();
}

static void fuzz_token_request(const char *text, size_t len)
{
    const char *split = memchr(text, '\n', len);
    char authz[512] = "";
    if (split && (size_t)(split - text) < sizeof authz) {
        memcpy(authz, text, (size_t)(split - text));
        len -= (size_t)(split - text) + 1;
        text = split + 1;
    }
    s2l_ip src;
    s2l_ip_parse("2001:db8::1", &src);
    s2l_token_request r = {authz[0] ? authz : NULL, (len % 2) ? "application/json" : NULL, text, len, &src,
                           1700000000000LL};
    s2l_token_reply rep;
    s2l_auth_issue_token(auth, &r, &rep);
    if (rep.status != 400 && rep.status != 401 && rep.status != 429)
        abort();
    if (rep.body == NULL || json_string_value(json_object_get(rep.body, "error")) == NULL)
        abort();
    json_decref(rep.body);
}

static void fuzz_misc(const char *text, size_t len)
{
    json_error_t jerr;
    json_t *j = json_loadb(text, len, 0, &jerr);
    if (j) {
        s2l_jwk k;
        const char *why;
        char err[256];
        if (s2l_jwk_from_json(j, &k, &why, err, sizeof err) == 0)
            s2l_jwk_fini(&k);
        s2l_jwks set = {0};
        (void)s2l_jwks_add_json(&set, j, err, sizeof err);
        s2l_jwks_fini(&set);
        json_decref(j);
    }
    s2l_secret_hash h;
    char err[256];
    (void)s2l_secret_hash_parse(text, &h, err, sizeof err);
    s2l_cidr c;
    const char *why;
    (void)s2l_cidr_parse(text, &c, &why);
    const char *fwhy;
    json_decref(s2l_form_parse(text, len, &fwhy));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    /* The header value is a C string (evhttp hands over text up to a NUL). */
    size_t len = size - 1;
    char *text = malloc(len + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, len);
    text[len] = 0;
    switch (data[0] % 5) {
    case 0: fuzz_header(text); break;
    case 1: fuzz_jwt(text, len); break;
    case 2: fuzz_decision(text, data + 1, len); break;
    case 3: fuzz_token_request(text, len); break;
    default: fuzz_misc(text, len); break;
    }
    free(text);
    return 0;
}
