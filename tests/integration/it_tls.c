/* it_tls.c — HTTPS (tls.cert_file / tls.key_file): the gateway serves SCIM over
 * TLS through bufferevent_openssl, builds https:// Location URLs, refuses
 * plain HTTP on the TLS port, and writes to LDAP as over HTTP.
 *
 * The harness's client speaks plain HTTP only, so this test drives curl (as an
 * operator would) and checks LDAP directly. A self-signed certificate is made
 * with the openssl command in the slapd's temporary folder. SIGHUP reloads the
 * certificate (new connections get the new one; a key that does not match is
 * refused and the last good certificate stays). */
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>

#include "harness.h"

/* Runs a shell command, returns its first output line (malloc'd) or NULL. */
static char *run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return NULL;
    char line[4096] = "";
    char *ok = fgets(line, sizeof line, p);
    int rc = pclose(p);
    if (ok == NULL || rc != 0)
        return NULL;
    line[strcspn(line, "\r\n")] = 0;
    return strdup(line);
}

int main(void)
{
    if (system("command -v curl >/dev/null && command -v openssl >/dev/null") != 0) {
        H_SKIP("curl or openssl is not installed");
        return H_DONE();
    }
    h_slapd *s = h_slapd_start(NULL);
    H_REQUIRE(s != NULL);
    const char *dir = h_slapd_dir(s);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
             "-keyout %s/tls.key -out %s/tls.crt >/dev/null 2>&1 && echo made",
             dir, dir);
    char *made = run(cmd);
    H_REQUIRE(made != NULL);
    free(made);

    char extra[2048];
    snprintf(extra, sizeof extra, "{\"tls\":{\"cert_file\":\"%s/tls.crt\",\"key_file\":\"%s/tls.key\"}}", dir, dir);
    h_gw *g = h_gw_start(s, extra);
    H_REQUIRE(g != NULL);
    int port = h_gw_port(g);

    snprintf(cmd, sizeof cmd,
             "curl -sk -o /dev/null -w '%%{http_code}' -H 'Authorization: Bearer %s' "
             "'https://127.0.0.1:%d/scim/v2/Users?filter=userName%%20eq%%20%%22nobody%%22'",
             H_TOKEN, port);
    char *status = run(cmd);
    H_CHECK_STR(status, "200");
    free(status);

    /* POST over TLS: 201, an https:// Location, the entry in LDAP. */
    snprintf(cmd, sizeof cmd,
             "curl -sk -D - -o /dev/null -H 'Authorization: Bearer %s' -H 'Content-Type: application/scim+json' "
             "-d '{\"userName\":\"tls.user\",\"name\":{\"givenName\":\"T\",\"familyName\":\"L\"}}' "
             "https://127.0.0.1:%d/scim/v2/Users | tr -d '\\r' | grep -i '^location:'",
             H_TOKEN, port);
    char *loc = run(cmd);
    H_CHECK(loc != NULL);
    char want[256];
    snprintf(want, sizeof want, "https://127.0.0.1:%d/scim/v2/Users/", port);
    H_CHECK(loc != NULL && strstr(loc, want) != NULL);
    free(loc);
    json_t *e = h_ldap_entry(s, "uid=tls.user," H_PEOPLE);
    H_CHECK(e != NULL);
    H_CHECK_STR(h_ldap_attr(e, "sn"), "L");
    json_decref(e);

    /* A wrong token is still 401 over TLS. */
    snprintf(cmd, sizeof cmd,
             "curl -sk -o /dev/null -w '%%{http_code}' -H 'Authorization: Bearer wrong-token-0000000000' "
             "https://127.0.0.1:%d/scim/v2/Users",
             port);
    char *unauth = run(cmd);
    H_CHECK_STR(unauth, "401");
    free(unauth);

    /* Plain HTTP to the TLS port gets no HTTP answer (the handshake fails). */
    snprintf(cmd, sizeof cmd, "curl -s -m 5 -o /dev/null -w '%%{http_code}' http://127.0.0.1:%d/scim/v2/Users",
             port);
    char *plain = run(cmd);
    H_CHECK(plain == NULL || strcmp(plain, "000") == 0);
    free(plain);

    /* SIGHUP reloads the certificate: new connections get the new one. */
    snprintf(cmd, sizeof cmd,
             "openssl s_client -connect 127.0.0.1:%d </dev/null 2>/dev/null | openssl x509 -noout -subject", port);
    char *subject = run(cmd);
    H_CHECK(subject && strstr(subject, "127.0.0.1") != NULL);
    free(subject);
    char cmd2[4096];
    snprintf(cmd2, sizeof cmd2,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=reloaded.test "
             "-keyout %s/tls2.key -out %s/tls2.crt >/dev/null 2>&1 && mv %s/tls2.key %s/tls.key && "
             "mv %s/tls2.crt %s/tls.crt && echo made",
             dir, dir, dir, dir, dir, dir);
    made = run(cmd2);
    H_REQUIRE(made != NULL);
    free(made);
    H_CHECK(h_gw_signal(g, SIGHUP) == 0);
    H_CHECK(h_gw_log_wait(g, "event=reloaded what=config", 1, 10000));
    subject = run(cmd);
    H_CHECK(subject && strstr(subject, "reloaded.test") != NULL);
    free(subject);
    /* A key that does not match the certificate: refused, the last good one stays. */
    snprintf(cmd2, sizeof cmd2,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other.test "
             "-keyout %s/tls.key -out /dev/null >/dev/null 2>&1 && echo made",
             dir);
    made = run(cmd2);
    H_REQUIRE(made != NULL);
    free(made);
    H_CHECK(h_gw_signal(g, SIGHUP) == 0);
    H_CHECK(h_gw_log_wait(g, "event=reload_failed what=config", 1, 10000));
    H_CHECK(h_gw_log_wait(g, "tls.key_file", 1, 1000));
    subject = run(cmd);
    H_CHECK(subject && strstr(subject, "reloaded.test") != NULL);
    free(subject);

    H_CHECK(h_gw_stop(g));
    h_slapd_destroy(s);
    return H_DONE();
}
