/* test_config.c — the configuration table: defaults, ranges, unknown keys,
 * relative paths, secrets from files and environment, token digests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s2l/config.h"
#include "unit.h"

static char dir[] = "/tmp/s2l-config-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

static s2l_config *load_text(const char *text, char *err, size_t errlen)
{
    err[0] = 0;
    return s2l_config_load(write_file("c.json", text), err, errlen);
}

/* a minimal configuration whose token endpoint path is p */
#define WITH_TOKEN_PATH(p) \
    "{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"],\"token_endpoint\":{\"path\":\"" p "\"}}," \
    "\"ldap\":{\"uri\":\"ldap://127.0.0.1:389\"},\"mapping\":\"m.json\"}"

#define MIN_OK "{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"ldap\":{\"uri\":\"ldap://127.0.0.1:389\"},\"mapping\":\"m.json\""

static void test_defaults(void)
{
    char err[512];
    s2l_config *c = load_text(MIN_OK "}", err, sizeof err);
    CHECK(c != NULL);
    if (c == NULL) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK_STR(c->listen_host, "127.0.0.1");
    CHECK_INT(c->listen_port, 8080);
    CHECK_STR(c->base_path, "/scim/v2");
    CHECK_INT(c->ldap.connections, 4);
    CHECK_INT(c->ldap.timeout_ms, 5000);
    CHECK_STR(c->ldap.uri, "ldap://127.0.0.1:389");
    CHECK_INT(c->ldap.n_uris, 1);
    CHECK_INT(c->ldap.failback_after_ms, 300000);
    CHECK_INT(c->limits.max_body_bytes, 1048576);
    CHECK_INT(c->limits.bulk_max_operations, 1000);
    CHECK_INT(c->limits.bulk_max_payload_bytes, 1048576);
    CHECK_INT(c->limits.max_list_scan, 200000);
    CHECK_INT(c->ldap.vlv_per_connection, 2);
    CHECK_INT(c->ldap.id_cache_entries, 32768);
    CHECK(c->behaviour.user_patch_returns_body);
    CHECK(!c->behaviour.exact_filters);
    CHECK(!c->behaviour.group_patch_returns_body);
    /* relative mapping path resolves against the config's folder */
    char want[600];
    snprintf(want, sizeof want, "%s/m.json", dir);
    CHECK_STR(c->mapping_path, want);
    snprintf(want, sizeof want, "%s/../schemas/scim", dir);
    CHECK_STR(c->schemas_dir, want);
    CHECK_STR(c->ldap.bind_password, "");
    CHECK(s2l_config_token_ok(c, "0123456789abcdef0123", 20));
    CHECK(!s2l_config_token_ok(c, "0123456789abcdef0124", 20));
    CHECK(!s2l_config_token_ok(c, "", 0));
    CHECK_STR(c->auth.token.path, "/oauth/token");
    s2l_config_destroy(c);
    /* plain paths, a trailing '/' included, are fine */
    const char *fine[] = {WITH_TOKEN_PATH("/token"), WITH_TOKEN_PATH("/oauth/v2/token"),
                          WITH_TOKEN_PATH("/oauth/token/"), WITH_TOKEN_PATH("/o*/{x}")};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        c = load_text(fine[i], err, sizeof err);
        CHECK(c != NULL);
        if (c == NULL)
            fprintf(stderr, "case %zu: %s\n", i, err);
        s2l_config_destroy(c);
    }
}

static void test_errors(void)
{
    char err[512];
    struct { const char *text; const char *want; } cases[] = {
        {MIN_OK ",\"ldap2\":1}", "ldap2: unknown key"},
        {"{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"ldap\":{\"uri\":\"ldap://x\",\"conections\":2},\"mapping\":\"m\"}",
         "ldap.conections: unknown key"},
        {"{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"ldap\":{\"uri\":\"ldap://x\",\"connections\":0},\"mapping\":\"m\"}",
         "ldap.connections: 0 is out of range"},
        {"{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"ldap\":{\"uri\":\"ldap://x\",\"connections\":\"4\"},\"mapping\":\"m\"}",
         "ldap.connections: must be a non-negative integer"},
        {"{\"auth\":{\"bearer_tokens\":[\"short\"]},\"ldap\":{\"uri\":\"ldap://x\"},\"mapping\":\"m\"}",
         "auth.bearer_tokens[0]: a bearer token must be at least 16 characters"},
        {"{\"auth\":{\"bearer_tokens\":[\"sha256:abc\"]},\"ldap\":{\"uri\":\"ldap://x\"},\"mapping\":\"m\"}",
         "auth.bearer_tokens[0]: \"sha256:\" must be followed by 64 hex digits"},
        {"{\"auth\":{\"bearer_tokens\":[]},\"ldap\":{\"uri\":\"ldap://x\"},\"mapping\":\"m\"}",
         "auth: at least one credential is required"},
        {"{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"ldap\":{\"uri\":\"http://x\"},\"mapping\":\"m\"}",
         "ldap.uri: must start with ldap://"},
        {"{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"ldap\":{\"uri\":\"ldap://x\"}}", "mapping: is required"},
        {MIN_OK ",\"listen\":\"127.0.0.1\"}", "listen: must be \"host:port\""},
        {MIN_OK ",\"listen\":\"127.0.0.1:70000\"}", "listen: must be \"host:port\""},
        {MIN_OK ",\"limits\":{\"default_count\":5000,\"max_results\":100}}", "limits.default_count: must not exceed"},
        {MIN_OK ",\"log_level\":\"loud\"}", "log_level: must be one of"},
        {MIN_OK ",\"tls\":{\"cert_file\":\"a.pem\"}}", "tls: cert_file and key_file go together"},
        {MIN_OK ",\"limits\":[]}", "limits: must be an object"},
        {MIN_OK ",\"limits\":{\"bulk_max_operations\":0}}", "limits.bulk_max_operations: 0 is out of range"},
        {MIN_OK ",\"limits\":{\"bulk_max_payload_bytes\":100}}", "limits.bulk_max_payload_bytes: 100 is out of range"},
        {"{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"ldap\":{\"uri\":\"ldap://x\",\"vlv_per_connection\":-1},\"mapping\":\"m\"}",
         "ldap.vlv_per_connection: must be a non-negative integer"},
        {"{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"ldap\":{\"uri\":[]},\"mapping\":\"m\"}",
         "ldap.uri: needs at least one"},
        {"{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"ldap\":{\"uri\":\"  \"},\"mapping\":\"m\"}",
         "ldap.uri: needs at least one"},
        {"{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"ldap\":{\"uri\":[\"ldap://a\",\"http://b\"]},"
         "\"mapping\":\"m\"}",
         "ldap.uri[1]: must start with ldap://"},
        {"{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"ldap\":{\"uri\":[\"ldap://a\",7]},\"mapping\":\"m\"}",
         "ldap.uri[1]: must be a string"},
        {"{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"ldap\":{\"uri\":[\"ldap://a ldap://b\"]},"
         "\"mapping\":\"m\"}",
         "ldap.uri[0]: must be a URI without spaces"},
        {"{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"ldap\":{\"uri\":\"ldap://a ldapx://b\"},"
         "\"mapping\":\"m\"}",
         "ldap.uri: must start with ldap://"},
        {"{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"ldap\":{\"uri\":{}},\"mapping\":\"m\"}",
         "ldap.uri: must be a URI or an array of URIs"},
        {"{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"ldap\":{\"uri\":\"ldap://a\","
         "\"failback_after_ms\":-1},\"mapping\":\"m\"}",
         "ldap.failback_after_ms: must be a non-negative integer"},
        /* the token path becomes a route: one literal path */
        {WITH_TOKEN_PATH("oauth/token"), "auth.token_endpoint.path: must start"},
        {WITH_TOKEN_PATH("/oauth/*"), "auth.token_endpoint.path: must be a plain"},
        {WITH_TOKEN_PATH("/{}/token"), "auth.token_endpoint.path: must be a plain"},
        {WITH_TOKEN_PATH("/oauth//token"), "auth.token_endpoint.path: must be a plain"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s2l_config *c = load_text(cases[i].text, err, sizeof err);
        CHECK(c == NULL);
        s2l_config_destroy(c);
        if (strstr(err, cases[i].want) == NULL) {
            fprintf(stderr, "case %zu: error \"%s\" lacks \"%s\"\n", i, err, cases[i].want);
            CHECK(0);
        } else {
            CHECK(1);
        }
        CHECK(strstr(err, "c.json") != NULL); /* names the file */
    }
    /* syntax errors carry line and column */
    s2l_config *c = load_text("{\n  \"listen\": ,\n}", err, sizeof err);
    CHECK(c == NULL);
    CHECK(strstr(err, "c.json:2:") != NULL);
}

static void test_secrets(void)
{
    char err[512];
    write_file("pw", "s3cret\n");
    s2l_config *c = load_text("{\"auth\":{\"bearer_tokens\":[\"sha256:"
                              "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"]},"
                              "\"ldap\":{\"uri\":\"ldaps://h\",\"bind_password_file\":\"pw\"},\"mapping\":\"/abs/m.json\","
                              "\"base_path\":\"/scim/v2/\"}",
                              err, sizeof err);
    CHECK(c != NULL);
    if (c) {
        CHECK_STR(c->ldap.bind_password, "s3cret");
        CHECK_STR(c->mapping_path, "/abs/m.json");
        CHECK_STR(c->base_path, "/scim/v2");
        CHECK(s2l_config_token_ok(c, "test", 4)); /* sha256("test") */
        CHECK(!s2l_config_token_ok(c, "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", 71));
        s2l_config_destroy(c);
    } else {
        fprintf(stderr, "%s\n", err);
    }
    setenv("SCIM2LDAP_BIND_PASSWORD", "from-env", 1);
    setenv("SCIM2LDAP_BEARER_TOKENS", "aaaaaaaaaaaaaaaaaaaa,bbbbbbbbbbbbbbbbbbbb", 1);
    c = load_text(MIN_OK "}", err, sizeof err);
    CHECK(c != NULL);
    if (c) {
        CHECK_STR(c->ldap.bind_password, "from-env");
        CHECK(s2l_config_token_ok(c, "bbbbbbbbbbbbbbbbbbbb", 20));
        CHECK(!s2l_config_token_ok(c, "0123456789abcdef0123", 20)); /* replaced, not added */
        s2l_config_destroy(c);
    }
    unsetenv("SCIM2LDAP_BIND_PASSWORD");
    unsetenv("SCIM2LDAP_BEARER_TOKENS");
    c = load_text("{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"ldap\":{\"uri\":\"ldap://h\","
                  "\"bind_password\":\"x\",\"bind_password_file\":\"pw\"},\"mapping\":\"m\"}",
                  err, sizeof err);
    CHECK(c == NULL);
    CHECK(strstr(err, "not both") != NULL);
}

/* ldap.uri: a string with one or several URIs, or an array; one
 * space-separated list for the pool. */
static void test_ldap_servers(void)
{
    char err[512];
    static const char *const texts[] = {
        "{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"mapping\":\"m\","
        "\"ldap\":{\"uri\":[\"ldap://p1:389\", \"ldaps://p2:636\", \"ldapi://%2Frun%2Fs\"],\"failback_after_ms\":0}}",
        "{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"mapping\":\"m\","
        "\"ldap\":{\"uri\":\" ldap://p1:389\\tldaps://p2:636\\n  ldapi://%2Frun%2Fs \",\"failback_after_ms\":0}}",
    };
    for (size_t i = 0; i < 2; i++) {
        s2l_config *c = load_text(texts[i], err, sizeof err);
        CHECK(c != NULL);
        if (c == NULL) {
            fprintf(stderr, "%s\n", err);
            continue;
        }
        CHECK_STR(c->ldap.uri, "ldap://p1:389 ldaps://p2:636 ldapi://%2Frun%2Fs");
        CHECK_INT(c->ldap.n_uris, 3);
        CHECK_INT(c->ldap.failback_after_ms, 0);
        s2l_config_destroy(c);
    }
    /* At most S2L_MAX_LDAP_SERVERS. */
    char text[2048] = "{\"auth\":{\"bearer_tokens\":[\"0123456789abcdef0123\"]},\"mapping\":\"m\",\"ldap\":{\"uri\":[";
    for (int i = 0; i <= S2L_MAX_LDAP_SERVERS; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s\"ldap://h%d\"", i ? "," : "", i);
    snprintf(text + strlen(text), sizeof text - strlen(text), "]}}");
    s2l_config *c = load_text(text, err, sizeof err);
    CHECK(c == NULL);
    CHECK(strstr(err, "ldap.uri: at most 16 servers") != NULL);
    s2l_config_destroy(c);
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    test_defaults();
    test_errors();
    test_secrets();
    test_ldap_servers();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return UNIT_DONE();
}
