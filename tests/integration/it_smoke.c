/* it_smoke.c — the first integration test and the harness's own test.
 *
 * A private slapd with every overlay: base entries, the ppolicy lock facts the
 * gateway relies on (a locked account really cannot bind), memberof/refint/
 * sssvlv, LDIF and bulk helpers, snapshots, cn=Monitor operation counts, and
 * data surviving a crash and a restart. The HTTP client is checked against a
 * scripted server in a thread (lengths, chunked, close-delimited, interim
 * responses). Finally the gateway binary answers GET /ServiceProviderConfig
 * (skipped with a message while it cannot run; fails under S2L_REQUIRE_GATEWAY=1).
 *
 * S2L_SMOKE_BULK=N changes the bulk size (default 3000), e.g. 100000 to time
 * the bulk helpers. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ldap.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#define USER_DN "uid=smoke.user," H_PEOPLE

static void check_base_entries(h_slapd *s)
{
    static const char *const dns[] = {H_SUFFIX, H_PEOPLE, H_GROUPS, ("ou=policies," H_SUFFIX), H_POLICY};
    json_t *policy;

    for (size_t i = 0; i < sizeof dns / sizeof dns[0]; i++) {
        json_t *e = h_ldap_entry(s, dns[i]);

        H_CHECK(e != NULL);
        H_CHECK(h_ldap_attr(e, "entryUUID") != NULL);
        json_decref(e);
    }
    policy = h_ldap_entry(s, H_POLICY);
    H_CHECK(h_ldap_has_value(policy, "objectClass", "pwdPolicy", true));
    H_CHECK_STR(h_ldap_attr(policy, "pwdAttribute"), "userPassword");
    H_CHECK_STR(h_ldap_attr(policy, "pwdLockout"), "TRUE");
    json_decref(policy);
    H_CHECK(h_ldap_entry(s, "cn=nothing-here," H_PEOPLE) == NULL);
}

static void check_ppolicy_lock(h_slapd *s)
{
    json_t *e;

    H_CHECK_INT(h_ldap_ldif(s, "dn: " USER_DN "\n"
                               "objectClass: inetOrgPerson\n"
                               "uid: smoke.user\n"
                               "cn: Smoke User\n"
                               "sn: User\n"
                               "userPassword: Smoke-pass-1\n"),
                1);
    H_CHECK(h_ldap_bind_ok(s, USER_DN, "Smoke-pass-1"));
    H_CHECK_INT(h_ldap_bind_rc(s, USER_DN, "wrong"), LDAP_INVALID_CREDENTIALS);

    /* The lock the gateway writes for active=false. */
    H_CHECK_INT(h_ldap_ldif(s, "dn: " USER_DN "\nchangetype: modify\n"
                               "replace: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n-\n"),
                1);
    e = h_ldap_entry(s, USER_DN);
    H_CHECK_STR(h_ldap_attr(e, "pwdAccountLockedTime"), "000001010000Z");
    json_decref(e);
    H_CHECK_INT(h_ldap_bind_rc(s, USER_DN, "Smoke-pass-1"), LDAP_INVALID_CREDENTIALS);

    H_CHECK_INT(h_ldap_ldif(s, "dn: " USER_DN "\nchangetype: modify\ndelete: pwdAccountLockedTime\n-\n"), 1);
    H_CHECK(h_ldap_bind_ok(s, USER_DN, "Smoke-pass-1"));
    e = h_ldap_entry(s, USER_DN);
    H_CHECK(h_ldap_attr(e, "pwdAccountLockedTime") == NULL);
    /* ppolicy_hash_cleartext: no clear-text password at rest. */
    H_CHECK(h_ldap_attr(e, "userPassword") && strncmp(h_ldap_attr(e, "userPassword"), "{", 1) == 0);
    json_decref(e);
}

static void check_overlays(h_slapd *s)
{
    json_t *dse = h_ldap_entry(s, ""), *u, *g;

    /* sssvlv: server-side sort and virtual list view. */
    H_CHECK(h_ldap_has_value(dse, "supportedControl", LDAP_CONTROL_SORTREQUEST, false));
    H_CHECK(h_ldap_has_value(dse, "supportedControl", LDAP_CONTROL_VLVREQUEST, false));
    json_decref(dse);

    H_CHECK_INT(h_ldap_ldif(s, "dn: uid=smoke.two," H_PEOPLE "\nobjectClass: inetOrgPerson\nuid: smoke.two\n"
                               "cn: Two\nsn: Two\n\n"
                               "dn: cn=smokers," H_GROUPS "\nobjectClass: groupOfNames\ncn: smokers\n"
                               "member: " USER_DN "\nmember: uid=smoke.two," H_PEOPLE "\n"),
                2);
    /* memberof */
    u = h_ldap_entry(s, USER_DN);
    H_CHECK(h_ldap_has_value(u, "memberOf", "cn=smokers," H_GROUPS, true));
    json_decref(u);
    /* refint: deleting a member removes it from the group (in the background,
     * after the delete has been answered). */
    H_CHECK_INT(h_ldap_ldif(s, "dn: uid=smoke.two," H_PEOPLE "\nchangetype: delete\n"), 1);
    H_CHECK(h_ldap_wait_value(s, "cn=smokers," H_GROUPS, "member", "uid=smoke.two," H_PEOPLE, false, 5000));
    g = h_ldap_entry(s, "cn=smokers," H_GROUPS);
    H_CHECK(h_ldap_has_value(g, "member", USER_DN, true));
    H_CHECK(!h_ldap_has_value(g, "member", "uid=smoke.two," H_PEOPLE, true));
    json_decref(g);
    /* ...and a group losing its last member keeps the empty-DN placeholder. */
    H_CHECK_INT(h_ldap_ldif(s, "dn: uid=smoke.three," H_PEOPLE "\nobjectClass: inetOrgPerson\nuid: smoke.three\n"
                               "cn: Three\nsn: Three\n\n"
                               "dn: cn=lonely," H_GROUPS "\nobjectClass: groupOfNames\ncn: lonely\n"
                               "member: uid=smoke.three," H_PEOPLE "\n\n"
                               "dn: uid=smoke.three," H_PEOPLE "\nchangetype: delete\n"),
                3);
    H_CHECK(h_ldap_wait_value(s, "cn=lonely," H_GROUPS, "member", "", true, 5000));
    g = h_ldap_entry(s, "cn=lonely," H_GROUPS);
    H_CHECK_INT(json_array_size(json_object_get(json_object_get(g, "attrs"), "member")), 1);
    H_CHECK(h_ldap_has_value(g, "member", "", false));
    json_decref(g);
}

static void check_ldif_and_snapshot(h_slapd *s)
{
    char *before, *after;
    json_t *e;

    before = h_ldap_snapshot(s);
    H_CHECK(before != NULL && strstr(before, "dn: " USER_DN "\n") != NULL);
    /* A failed add (no sn: objectClass violation) leaves the directory as it was. */
    H_CHECK_INT(h_ldap_ldif_rc(s, "dn: uid=bad," H_PEOPLE "\nobjectClass: inetOrgPerson\nuid: bad\ncn: Bad\n"),
                LDAP_OBJECT_CLASS_VIOLATION);
    after = h_ldap_snapshot(s);
    H_CHECK(h_snapshot_same(before, after));
    free(after);

    /* base64 values, folded lines, comments, several operations in one text. */
    H_CHECK_INT(h_ldap_ldif(s, "# a comment\n"
                               "dn: " USER_DN "\n"
                               "changetype: modify\n"
                               "replace: description\n"
                               "description:: w6lsw6h2ZQ==\n"
                               "-\n"
                               "add: mail\n"
                               "mail: smoke@exa\n"
                               " mple.org\n"
                               "-\n"),
                1);
    e = h_ldap_entry(s, USER_DN);
    H_CHECK_STR(h_ldap_attr(e, "description"), "\xc3\xa9l\xc3\xa8ve");
    H_CHECK_STR(h_ldap_attr(e, "mail"), "smoke@example.org");
    json_decref(e);
    after = h_ldap_snapshot(s);
    H_CHECK(after && strcmp(before, after) != 0);
    free(before);
    free(after);

    H_CHECK_INT(h_ldap_ldif(s, "dn: uid=smoke.r," H_PEOPLE "\nobjectClass: inetOrgPerson\nuid: smoke.r\ncn: R\nsn: R\n\n"
                               "dn: uid=smoke.r," H_PEOPLE "\nchangetype: modrdn\nnewrdn: uid=smoke.r2\n"
                               "deleteoldrdn: 1\n"),
                2);
    H_CHECK_INT(h_ldap_count(s, H_PEOPLE, "(uid=smoke.r2)"), 1);
    H_CHECK_INT(h_ldap_count(s, H_PEOPLE, "(uid=smoke.r)"), 0);
    {
        char *dn = h_ldap_find_dn(s, H_PEOPLE, "(uid=smoke.r2)");

        H_CHECK_STR(dn, "uid=smoke.r2," H_PEOPLE);
        free(dn);
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long len;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)len + 1)) != NULL) {
        buf[fread(buf, 1, (size_t)len, f)] = '\0';
    }
    fclose(f);
    return buf;
}

extern char **environ;

/* Runs an ldap-utils tool as an outside client would (stdout discarded). */
static int run_tool(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status = -1;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) == 0)
        waitpid(pid, &status, 0);
    posix_spawn_file_actions_destroy(&fa);
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void check_op_counts(h_slapd *s)
{
    h_op_counts a, b;
    char file[4096];
    char *log;
    json_t *e;

    H_CHECK_INT(h_slapd_op_counts(s, &a), 0);
    /* The harness's own operations are not counted. */
    e = h_ldap_entry(s, USER_DN);
    json_decref(e);
    H_CHECK_INT(h_ldap_count(s, H_PEOPLE, "(objectClass=*)") > 0, 1);
    H_CHECK_INT(h_slapd_op_counts(s, &b), 0);
    H_CHECK_INT(b.search - a.search, 0);
    H_CHECK_INT(b.bind - a.bind, 0);

    /* Someone else's operations are: ldapsearch and ldapmodify as that someone. */
    snprintf(file, sizeof file, "%s/ops.ldif", h_slapd_dir(s));
    {
        FILE *f = fopen(file, "w");

        H_REQUIRE(f != NULL);
        fputs("dn: uid=smoke.ext," H_PEOPLE "\nchangetype: add\nobjectClass: inetOrgPerson\nuid: smoke.ext\n"
              "cn: Ext\nsn: Ext\n\n"
              "dn: uid=smoke.ext," H_PEOPLE "\nchangetype: modify\nreplace: sn\nsn: External\n-\n\n"
              "dn: uid=smoke.ext," H_PEOPLE "\nchangetype: modrdn\nnewrdn: uid=smoke.ext2\ndeleteoldrdn: 1\n\n"
              "dn: uid=smoke.ext2," H_PEOPLE "\nchangetype: delete\n",
              f);
        fclose(f);
    }
    {
        char *modify[] = {"ldapmodify", "-x", "-o", "nettimeout=10", "-H", (char *)h_slapd_uri(s),
                          "-D", H_ROOTDN, "-w", H_ROOTPW, "-f", file, NULL};
        char *search[] = {"ldapsearch", "-x", "-o", "nettimeout=10", "-H", (char *)h_slapd_uri(s),
                          "-D", H_ROOTDN, "-w", H_ROOTPW, "-b", H_SUFFIX, "-s", "base", NULL};

        H_CHECK_INT(run_tool(modify), 0);
        H_CHECK_INT(run_tool(search), 0);
    }
    H_CHECK_INT(h_slapd_op_counts(s, &b), 0);
    H_CHECK_INT(b.add - a.add, 1);
    H_CHECK_INT(b.modify - a.modify, 1);
    H_CHECK_INT(b.modrdn - a.modrdn, 1);
    H_CHECK_INT(b.del - a.del, 1);
    H_CHECK_INT(b.search - a.search, 1);
    H_CHECK_INT(b.bind - a.bind, 2);
    /* stats_log: one line per operation in slapd's log. */
    log = slurp(h_slapd_log_path(s));
    H_CHECK(log && strstr(log, " MODRDN dn=\"uid=smoke.ext," H_PEOPLE "\""));
    free(log);
}

static void check_bulk(h_slapd *s, size_t n)
{
    double t0 = h_now_ms(), t1, t2;
    char mail[64];
    char *dn;
    json_t *u;

    H_CHECK_INT(h_ldap_add_users(s, "bulk", 0, n), 0);
    t1 = h_now_ms();
    H_CHECK_INT(h_ldap_add_group(s, "big", "bulk", 0, n), 0);
    t2 = h_now_ms();
    fprintf(stderr, "bulk: %zu users in %.0f ms (%.0f/s), one %zu-member group in %.0f ms\n", n, t1 - t0,
            (double)n * 1000.0 / (t1 - t0 + 1e-9), n, t2 - t1);
    H_CHECK_INT(h_ldap_count(s, H_PEOPLE, "(uid=bulk*)"), (long)n);
    dn = h_ldap_user_dn("bulk", n / 2);
    u = h_ldap_entry(s, dn);
    snprintf(mail, sizeof mail, "bulk%06zu@example.org", n / 2);
    H_CHECK_STR(h_ldap_attr(u, "mail"), mail);
    H_CHECK(h_ldap_has_value(u, "memberOf", "cn=big," H_GROUPS, true));
    json_decref(u);
    free(dn);
    /* A duplicate makes the bulk add fail (and say so). */
    H_CHECK_INT(h_ldap_add_users(s, "bulk", n - 1, 2), -1);
    H_CHECK_INT(h_ldap_count(s, H_PEOPLE, "(uid=bulk*)"), (long)n + 1);
}

static void check_restart(h_slapd *s, size_t n)
{
    int port = h_slapd_port(s);
    h_op_counts c;

    H_CHECK_INT(h_slapd_kill(s), 0);
    H_CHECK(!h_slapd_running(s));
    H_CHECK_INT(h_slapd_restart(s), 0);
    H_CHECK_INT(h_slapd_port(s), port);
    H_CHECK_INT(h_ldap_count(s, H_PEOPLE, "(uid=bulk*)"), (long)n + 1);
    H_CHECK(h_ldap_bind_ok(s, USER_DN, "Smoke-pass-1"));
    /* Counters start again with the process. */
    H_CHECK_INT(h_slapd_op_counts(s, &c), 0);
    H_CHECK_INT(c.add, 0);
    H_CHECK_INT(c.search, 0);

    H_CHECK_INT(h_slapd_stop(s), 0);
    H_CHECK_INT(h_slapd_restart(s), 0);
    H_CHECK_INT(h_ldap_count(s, H_GROUPS, "(cn=big)"), 1);
    H_CHECK_INT(h_ldap_delete_children(s, H_GROUPS), 3);
    H_CHECK_INT(h_ldap_count(s, H_GROUPS, "(objectClass=groupOfNames)"), 0);
}

/* ------------------------------------------------------------------ HTTP client vs a scripted server */

typedef struct script {
    int fd;
    const char *const *replies; /* one per connection; NULL entry = close without answering */
    size_t n;
    char *requests[8];
} script;

static void *serve(void *arg)
{
    script *sc = arg;

    for (size_t i = 0; i < sc->n; i++) {
        struct pollfd pfd = {sc->fd, POLLIN, 0};
        char buf[8192];
        size_t len = 0;
        int c;

        if (poll(&pfd, 1, 10000) <= 0)
            break;
        c = accept(sc->fd, NULL, NULL);
        if (c < 0)
            break;
        /* Read the head and a Content-Length body. */
        for (;;) {
            struct pollfd cp = {c, POLLIN, 0};
            ssize_t got;
            char *end, *cl;

            if (poll(&cp, 1, 5000) <= 0 || len == sizeof buf - 1)
                break;
            got = recv(c, buf + len, sizeof buf - 1 - len, 0);
            if (got <= 0)
                break;
            len += (size_t)got;
            buf[len] = '\0';
            end = strstr(buf, "\r\n\r\n");
            if (!end)
                continue;
            cl = strstr(buf, "Content-Length: ");
            if (!cl || len >= (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10))
                break;
        }
        buf[len] = '\0';
        sc->requests[i] = strdup(buf);
        if (sc->replies[i])
            (void)!send(c, sc->replies[i], strlen(sc->replies[i]), MSG_NOSIGNAL);
        close(c);
    }
    return NULL;
}

static void check_http_client(void)
{
    static const char json_body[] =
        "{\"id\":\"x\",\"name\":{\"givenName\":\"Ann\"},"
        "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"employeeNumber\":\"7\"},"
        "\"emails\":[{\"value\":\"a@b\"},{\"value\":\"c@d\"}],\"n\":42}";
    char first[512];
    const char *replies[6];
    script sc = {0};
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof a;
    pthread_t th;
    h_gw *g;
    h_resp r;
    char hp[32];

    snprintf(first, sizeof first,
             "HTTP/1.1 201 Created\r\nContent-Type: application/scim+json\r\nETag:  W/\"abc\" \r\n"
             "Content-Length: %zu\r\n\r\n%s",
             strlen(json_body), json_body);
    replies[0] = first;
    replies[1] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n";
    replies[2] = "HTTP/1.0 200 OK\r\nX-Kind: close-delimited\r\n\r\nuntil close";
    replies[3] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n";
    replies[4] = NULL;
    replies[5] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort";
    sc.replies = replies;
    sc.n = 6;
    sc.fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    H_REQUIRE(sc.fd >= 0 && bind(sc.fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(sc.fd, 8) == 0 &&
              getsockname(sc.fd, (struct sockaddr *)&a, &alen) == 0);
    snprintf(hp, sizeof hp, "127.0.0.1:%d", ntohs(a.sin_port));
    H_REQUIRE(pthread_create(&th, NULL, serve, &sc) == 0);
    g = h_gw_attach(hp, "/scim/v2", "client-token-0123456789");
    H_REQUIRE(g != NULL);

    r = h_http(g, "POST", "/Users", "{\"userName\":\"a\"}", NULL);
    H_CHECK_STATUS(r, 201);
    H_CHECK_STR(h_header(&r, "etag"), "W/\"abc\"");
    H_CHECK_STR(h_jstr(r.json, "name.givenName"), "Ann");
    H_CHECK_STR(h_jstr(r.json, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.employeeNumber"), "7");
    H_CHECK_STR(h_jstr(r.json, "emails[1].value"), "c@d");
    H_CHECK(h_jget(r.json, "emails[2]") == NULL);
    H_CHECK_INT(h_jint(r.json, "n", -1), 42);
    h_resp_free(&r);

    r = h_http(g, "GET", "/Users?filter=x", NULL, (const char *const[]){"Authorization:", "X-Test: yes", NULL});
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(r.body_len, 11);
    H_CHECK_STR(r.body, "hello world");
    H_CHECK(r.json == NULL);
    h_resp_free(&r);

    r = h_http_at(g, "DELETE", "/elsewhere", NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(r.body, "until close");
    H_CHECK_STR(h_header(&r, "X-Kind"), "close-delimited");
    h_resp_free(&r);

    r = h_http(g, "PATCH", "/Groups/1", "{}", NULL);
    H_CHECK_STATUS(r, 204);
    H_CHECK_STR(h_header(&r, "x-a"), "1");
    H_CHECK_INT(r.body_len, 0);
    h_resp_free(&r);

    r = h_http_raw(g, "GARBAGE\r\n\r\n", 11);
    H_CHECK_INT(r.status, 0);
    H_CHECK(strstr(r.err, "without a response") != NULL);
    h_resp_free(&r);

    r = h_http(g, "GET", "/short", NULL, NULL);
    H_CHECK_INT(r.status, 0);
    H_CHECK(strstr(r.err, "inside the body") != NULL);
    h_resp_free(&r);

    pthread_join(th, NULL);
    close(sc.fd);
    /* What the client sent. */
    H_CHECK(sc.requests[0] && strncmp(sc.requests[0], "POST /scim/v2/Users HTTP/1.1\r\n", 30) == 0);
    H_CHECK(sc.requests[0] && strstr(sc.requests[0], "\r\nAuthorization: Bearer client-token-0123456789\r\n"));
    H_CHECK(sc.requests[0] && strstr(sc.requests[0], "\r\nContent-Type: application/scim+json\r\n"));
    H_CHECK(sc.requests[0] && strstr(sc.requests[0], "\r\nContent-Length: 16\r\n"));
    H_CHECK(sc.requests[0] && strstr(sc.requests[0], "\r\n\r\n{\"userName\":\"a\"}"));
    H_CHECK(sc.requests[1] && strncmp(sc.requests[1], "GET /scim/v2/Users?filter=x ", 28) == 0);
    H_CHECK(sc.requests[1] && !strstr(sc.requests[1], "Authorization"));
    H_CHECK(sc.requests[1] && strstr(sc.requests[1], "\r\nX-Test: yes\r\n"));
    H_CHECK(sc.requests[1] && !strstr(sc.requests[1], "Content-Length"));
    H_CHECK(sc.requests[2] && strncmp(sc.requests[2], "DELETE /elsewhere ", 18) == 0);
    H_CHECK(sc.requests[4] && strcmp(sc.requests[4], "GARBAGE\r\n\r\n") == 0);
    for (size_t i = 0; i < sc.n; i++)
        free(sc.requests[i]);
    h_gw_stop(g);

    {
        char *e = h_urlencode("userName eq \"a@b.c\"&x=1/\xc3\xbc");

        H_CHECK_STR(e, "userName%20eq%20%22a%40b.c%22%26x%3D1%2F%C3%BC");
        free(e);
    }
}

/* ------------------------------------------------------------------ the gateway */

static void check_gateway(h_slapd *s)
{
    char why[512];
    const char *require = getenv("S2L_REQUIRE_GATEWAY");
    h_gw *g;
    h_resp r;

    if (!h_gw_can_run(s, why, sizeof why)) {
        if (require && strcmp(require, "1") == 0)
            H_CHECK(!"the gateway binary must run (S2L_REQUIRE_GATEWAY=1)");
        H_SKIP("gateway part: %s", why);
        return;
    }
    g = h_gw_start(s, "{\"log_level\": \"debug\"}");
    H_REQUIRE(g != NULL);
    r = h_http(g, "GET", "/ServiceProviderConfig", NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK(r.json != NULL);
    H_CHECK(h_header(&r, "Content-Type") && strstr(h_header(&r, "Content-Type"), "json"));
    h_resp_free(&r);

    /* Discovery may be public; resources are not. (The pool may still be
     * connecting: 503 until it is, bounded.) */
    for (double t0 = h_now_ms();;) {
        r = h_http(g, "GET", "/Users?count=1", NULL, NULL);
        if (r.status != 503 || h_now_ms() - t0 > 10000)
            break;
        h_resp_free(&r);
        nanosleep(&(struct timespec){0, 20 * 1000000L}, NULL);
    }
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    r = h_http(g, "GET", "/Users?count=1", NULL, (const char *const[]){"Authorization: Bearer nope-nope-nope-nope", NULL});
    H_CHECK_STATUS(r, 401);
    h_resp_free(&r);
    h_gw_stop(g);
}

int main(void)
{
    h_slapd_opts o = h_slapd_all();
    const char *bulk = getenv("S2L_SMOKE_BULK");
    size_t n = bulk ? strtoul(bulk, NULL, 10) : 3000;
    h_slapd *s;

    if (n < 2)
        n = 2;
    check_http_client();

    o.stats_log = true;
    s = h_slapd_start(&o);
    H_REQUIRE(s != NULL);
    fprintf(stderr, "slapd at %s (%s)\n", h_slapd_uri(s), h_slapd_dir(s));
    check_base_entries(s);
    check_ppolicy_lock(s);
    check_overlays(s);
    check_ldif_and_snapshot(s);
    check_op_counts(s);
    check_bulk(s, n);
    check_restart(s, n);
    check_gateway(s);
    h_slapd_destroy(s);
    return H_DONE();
}
