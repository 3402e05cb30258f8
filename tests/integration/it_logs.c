/* it_logs.c — the gateway's log cannot be forged or cut short by a client
 * (issue 11, items 1 and 8). Requests without a token, as an attacker would
 * send them, then the gateway's own log file is read:
 *  - the percent-decoded path goes into the access line quoted and escaped:
 *    a newline followed by a fake timestamped line, CR, an ANSI escape, a
 *    quote with a fake "status=200", bytes that are not UTF-8 — none starts a
 *    line or a field; the real status follows the path;
 *  - a path of 10,000 bytes is shortened with a marker, and the line still
 *    ends with status= and latency_us= and stays within 4,096 bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_users_common.h"

static const char *const no_auth[] = {"Authorization:", NULL};

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    H_REQUIRE(f != NULL);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    H_REQUIRE(buf != NULL);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 1024) {
            cap *= 2;
            buf = realloc(buf, cap);
            H_REQUIRE(buf != NULL);
        }
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

/* The access line of the request whose escaped path contains `needle`
 * (malloc'd), or NULL. */
static char *access_line(h_gw *g, const char *needle)
{
    char *log = read_file(h_gw_log_path(g)), *found = NULL;
    for (char *line = log, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strstr(line, "event=request") && strstr(line, needle)) {
            free(found);
            found = strdup(line);
        }
    }
    free(log);
    return found;
}

/* Every line of the log starts with the gateway's own timestamp and level. */
static void check_every_line_is_ours(h_gw *g)
{
    char *log = read_file(h_gw_log_path(g));
    int lines = 0, bad = 0;
    for (char *line = log, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lines++;
        if (strncmp(line, "2026-01-01T00:00:00.000Z", 24) == 0 || strstr(line, "event=forged") == line + 25) {
            fprintf(stderr, "forged line: %s\n", line);
            bad++;
        }
        /* "<date>T<time>.<ms>Z <level> " */
        if (strlen(line) < 26 || line[10] != 'T' || line[23] != 'Z' || line[24] != ' ') {
            fprintf(stderr, "a line that is not the gateway's: %.200s\n", line);
            bad++;
        }
        if (strlen(line) + 1 > 4096) {
            fprintf(stderr, "a line of %zu bytes\n", strlen(line));
            bad++;
        }
    }
    H_CHECK(lines > 0);
    H_CHECK_INT(bad, 0);
    free(log);
}

static void check_contains(const char *line, const char *want)
{
    if (line == NULL || strstr(line, want) == NULL)
        fprintf(stderr, "access line\n  %s\nlacks\n  %s\n", line ? line : "(none)", want);
    H_CHECK(line != NULL && strstr(line, want) != NULL);
}

/* The line ends with " status=N cred=C ldap_ops=N latency_us=N". */
static void check_fixed_tail(const char *line, int status)
{
    char want[64];
    snprintf(want, sizeof want, " status=%d cred=", status);
    const char *s = line ? strstr(line, want) : NULL;
    const char *ops = s ? strstr(s, " ldap_ops=") : NULL;
    const char *lat = ops ? strstr(ops, " latency_us=") : NULL;
    bool ok = lat != NULL;
    for (const char *p = lat ? lat + 12 : NULL; ok && p && *p; p++)
        ok = *p >= '0' && *p <= '9';
    if (!ok)
        fprintf(stderr, "access line does not end with status=%d ... latency_us=N: %.300s\n", status,
                line ? line : "(none)");
    H_CHECK(ok);
}

int main(void)
{
    it_env env;
    if (!it_env_start(&env, NULL))
        return H_DONE();
    h_gw *g = env.g;

    /* The reproducer (under the base path, as curl sends it unnormalised). */
    h_resp r = h_http_at(g, "GET", "/scim/v2/../x%0A2026-01-01T00:00:00.000Z%20error%20event=forged", NULL, no_auth);
    H_CHECK(r.status >= 400);
    int st1 = r.status;
    h_resp_free(&r);
    char *line = access_line(g, "event=forged");
    check_contains(line, "path=\"/../x\\n2026-01-01T00:00:00.000Z error event=forged\"");
    check_fixed_tail(line, st1);
    free(line);

    /* CR, an ANSI sequence that clears the screen, a quote ending the field
     * early with a fake status, a byte that is not UTF-8, a C1 CSI. */
    r = h_http_at(g, "GET", "/scim/v2/Users/%0D%1B%5B2J%22%20status=200%20x%FF%C2%9B", NULL, no_auth);
    H_CHECK(r.status >= 400);
    int st2 = r.status;
    h_resp_free(&r);
    line = access_line(g, "[2J");
    char want[128];
    snprintf(want, sizeof want, "path=\"/Users/\\r\\x1b[2J\\\" status=200 x\\xff\\u009b\" status=%d ", st2);
    check_contains(line, want);
    check_fixed_tail(line, st2);
    free(line);

    /* A path far longer than a line. */
    size_t n = 10000;
    char *target = malloc(n + 32);
    H_REQUIRE(target != NULL);
    int o = snprintf(target, n + 32, "/scim/v2/Users/");
    memset(target + o, 'L', n);
    target[o + (int)n] = '\0';
    r = h_http_at(g, "GET", target, NULL, no_auth);
    H_CHECK(r.status >= 400);
    int st3 = r.status;
    h_resp_free(&r);
    line = access_line(g, "LLLLLLLL");
    check_contains(line, "path=\"/Users/LLLL");
    check_contains(line, "...[+");
    check_fixed_tail(line, st3);
    H_CHECK(line != NULL && strlen(line) < 4096);
    free(line);
    free(target);

    check_every_line_is_ours(g);
    it_env_stop(&env);
    return H_DONE();
}
