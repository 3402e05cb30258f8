/* it_hostile_clients.c — the gateway under hostile HTTP clients (issue 11,
 * item 11), on raw loopback sockets, bounded in count and time, with short
 * limits so that it takes seconds:
 *   limits.max_connections 40, header_timeout_ms 1000, body_timeout_ms 1000,
 *   idle_timeout_ms 1500, max_body_bytes 64 KiB.
 * Scenarios, one after another, each with a normal client served meanwhile:
 *  1. slowloris headers: 12 connections trickle header lines → each gets a
 *     SCIM 408 once limits.header_timeout_ms has passed, and is closed;
 *  2. slowloris bodies: 12 connections send a head, then trickle the body →
 *     SCIM 408 after limits.body_timeout_ms, closed;
 *  3. huge headers (100 KB, fast) → 431; a chunked body streamed past the
 *     body limit → 413 before the client has sent it all, closed;
 *  4. idle connections up to the cap → the normal client still gets in while
 *     a slot is free; over the cap → 503 + Retry-After, closed at once; idle
 *     ones are closed after limits.idle_timeout_ms;
 *  5. garbage, pipelined junk after a valid request (the valid one answered
 *     200 first), half-closed sockets (mid-headers, and after a whole request);
 * and after all: the gateway still answers, its descriptors are back to the
 * baseline, the directory is unchanged, and it stops cleanly (no sanitizer
 * report). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <dirent.h>

#include "it_users_common.h"

#define MAX_CONN 40
#define SLOW 12

static it_env env;
static char *user_path;        /* "/Users/<id>" */
static double normal_worst_ms; /* slowest normal request during the attacks */

typedef struct raw {
    int fd;
    char in[16384];
    size_t in_len;
    bool closed;               /* the server closed (EOF or reset) */
} raw;

static int raw_connect(raw *c)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    H_REQUIRE(c->fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)h_gw_port(env.g))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "connect: %s\n", strerror(errno));
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    return 0;
}

/* Sends what the socket takes now; false once the server is gone. */
static bool raw_send(raw *c, const void *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK;
        p = (const char *)p + w;
        n -= (size_t)w;
    }
    return true;
}

static void raw_read(raw *c)
{
    while (!c->closed) {
        char buf[4096];
        ssize_t r = recv(c->fd, buf, sizeof buf, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            c->closed = true;
            break;
        }
        if (r < 0)
            break;
        size_t take = (size_t)r < sizeof c->in - 1 - c->in_len ? (size_t)r : sizeof c->in - 1 - c->in_len;
        memcpy(c->in + c->in_len, buf, take);
        c->in_len += take;
        c->in[c->in_len] = 0;
    }
}

/* Reads until the server closes or ms pass; whether it closed. */
static bool raw_wait_closed(raw *c, int ms)
{
    double end = h_now_ms() + ms;
    while (!c->closed && h_now_ms() < end) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        poll(&p, 1, 50);
        raw_read(c);
    }
    return c->closed;
}

static void raw_close(raw *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static int raw_status(const raw *c)
{
    int st = 0;
    if (c->in_len >= 12 && strncmp(c->in, "HTTP/1.", 7) == 0)
        st = atoi(c->in + 9);
    return st;
}

/* The first answer is a SCIM error with this status. */
static void check_scim_answer(const raw *c, int status, const char *what)
{
    int st = raw_status(c);
    if (st != status)
        fprintf(stderr, "%s: answer %d, want %d: [%.200s]\n", what, st, status, c->in);
    H_CHECK_INT(st, status);
    const char *body = strstr(c->in, "\r\n\r\n");
    json_t *j = body ? json_loads(body + 4, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
    H_CHECK(j != NULL);
    H_CHECK(body != NULL && strstr(body, IT_URN_ERROR) != NULL);
    H_CHECK(strstr(c->in, "application/scim+json") != NULL);
    json_decref(j);
}

/* A normal client: GET the user, and a list; both 200. */
static void normal_client(const char *when)
{
    h_resp r = h_http(env.g, "GET", user_path, NULL, NULL);
    if (r.status != 200)
        fprintf(stderr, "normal client %s: %d %s\n", when, r.status, r.err);
    H_CHECK_STATUS(r, 200);
    if (r.ms > normal_worst_ms)
        normal_worst_ms = r.ms;
    h_resp_free(&r);
    r = h_http(env.g, "GET", "/Users?filter=userName%20eq%20%22hostile.victim%22", NULL, NULL);
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(h_jint(r.json, "totalResults", -1), 1);
    if (r.ms > normal_worst_ms)
        normal_worst_ms = r.ms;
    h_resp_free(&r);
}

static int open_fds(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", h_gw_pid(env.g));
    DIR *d = opendir(path);
    int n = 0;
    if (d == NULL)
        return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static int baseline_fds;

/* Polls the gateway's descriptors until at most `want` (or ms pass); the last count. */
static int wait_fds(int want, int ms)
{
    int now = -1;
    for (double end = h_now_ms() + ms; h_now_ms() < end; usleep(50 * 1000))
        if ((now = open_fds()) <= want)
            break;
    return now;
}

static void slowloris_headers(void)
{
    raw c[SLOW];
    char line[256];
    for (int i = 0; i < SLOW; i++) {
        H_REQUIRE(raw_connect(&c[i]) == 0);
        snprintf(line, sizeof line, "GET %s%s HTTP/1.1\r\nHost: x\r\n", h_gw_base_path(env.g), user_path);
        raw_send(&c[i], line, strlen(line));
    }
    /* One header line every 150 ms for up to 4 s: past the 1 s limit. */
    double start = h_now_ms();
    int open = SLOW;
    for (int tick = 0; open > 0 && h_now_ms() - start < 4000; tick++) {
        snprintf(line, sizeof line, "X-Slow-%d: %d\r\n", tick, tick);
        open = 0;
        for (int i = 0; i < SLOW; i++) {
            raw_read(&c[i]);
            if (!c[i].closed && raw_send(&c[i], line, strlen(line)))
                open++;
        }
        if (tick == 3)
            normal_client("during slow headers");
        usleep(150 * 1000);
    }
    for (int i = 0; i < SLOW; i++) {
        H_CHECK(raw_wait_closed(&c[i], 3000));
        check_scim_answer(&c[i], 408, "slow headers");
        raw_close(&c[i]);
    }
    /* not before the limit (1 s) */
    H_CHECK(h_now_ms() - start >= 900);
}

static void slowloris_bodies(void)
{
    raw c[SLOW];
    char head[512];
    for (int i = 0; i < SLOW; i++) {
        H_REQUIRE(raw_connect(&c[i]) == 0);
        snprintf(head, sizeof head,
                 "POST %s/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: "
                 "application/scim+json\r\nContent-Length: 4000\r\n\r\n{\"userName\":\"",
                 h_gw_base_path(env.g), H_TOKEN);
        raw_send(&c[i], head, strlen(head));
    }
    double start = h_now_ms();
    int open = SLOW;
    for (int tick = 0; open > 0 && h_now_ms() - start < 4000; tick++) {
        open = 0;
        for (int i = 0; i < SLOW; i++) {
            raw_read(&c[i]);
            if (!c[i].closed && raw_send(&c[i], "aaaaaaaa", 8))
                open++;
        }
        if (tick == 3)
            normal_client("during slow bodies");
        usleep(150 * 1000);
    }
    for (int i = 0; i < SLOW; i++) {
        H_CHECK(raw_wait_closed(&c[i], 3000));
        check_scim_answer(&c[i], 408, "slow body");
        raw_close(&c[i]);
    }
}

static void too_large(void)
{
    /* 100 KB of headers, sent as fast as the socket takes them */
    size_t n = 100 * 1024;
    char *big = malloc(n + 512);
    H_REQUIRE(big != NULL);
    size_t o = (size_t)snprintf(big, n + 512, "GET %s%s HTTP/1.1\r\nHost: x\r\n", h_gw_base_path(env.g), user_path);
    while (o < n)
        o += (size_t)snprintf(big + o, n + 512 - o, "X-Big-%08zu: %0200d\r\n", o, 0);
    o += (size_t)snprintf(big + o, n + 512 - o, "\r\n");
    for (int k = 0; k < 4; k++) {
        raw c;
        H_REQUIRE(raw_connect(&c) == 0);
        for (size_t sent = 0; sent < o && !c.closed;) {
            size_t chunk = o - sent < 8192 ? o - sent : 8192;
            if (!raw_send(&c, big + sent, chunk))
                break;
            sent += chunk;
            raw_read(&c);
        }
        H_CHECK(raw_wait_closed(&c, 5000));
        check_scim_answer(&c, 431, "huge headers");
        raw_close(&c);
    }
    free(big);

    /* a chunked body streamed past limits.max_body_bytes (64 KiB): 413
     * before the client is done (it would send 4 MiB), then closed */
    raw c;
    H_REQUIRE(raw_connect(&c) == 0);
    char head[512];
    snprintf(head, sizeof head,
             "POST %s/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/scim+json\r\n"
             "Transfer-Encoding: chunked\r\n\r\n",
             h_gw_base_path(env.g), H_TOKEN);
    raw_send(&c, head, strlen(head));
    char chunk[4096 + 16];
    int hl = snprintf(chunk, sizeof chunk, "1000\r\n");
    memset(chunk + hl, ' ', 4096);
    memcpy(chunk + hl + 4096, "\r\n", 2);
    size_t sent = 0;
    double start = h_now_ms();
    while (sent < 4u << 20 && !c.closed && c.in_len == 0 && h_now_ms() - start < 10000) {
        if (!raw_send(&c, chunk, (size_t)hl + 4098))
            break;
        sent += 4096;
        raw_read(&c);
        if (sent % (256 * 1024) == 0)
            usleep(1000);
    }
    H_CHECK(raw_wait_closed(&c, 5000));
    check_scim_answer(&c, 413, "streamed chunked body");
    H_CHECK(sent < 4u << 20);
    raw_close(&c);
}

static void connection_cap(void)
{
    static raw idle[MAX_CONN + 10];
    int n_idle = MAX_CONN - 4; /* room left for the normal client */
    /* connections the guard ended are kept up to 2 s (its linger): all gone first */
    H_CHECK(wait_fds(baseline_fds, 5000) <= baseline_fds);
    for (int i = 0; i < n_idle; i++)
        H_REQUIRE(raw_connect(&idle[i]) == 0);
    usleep(200 * 1000);
    normal_client("below the cap");
    /* the normal client's connections are gone on the gateway's side too */
    H_CHECK(wait_fds(baseline_fds + n_idle, 3000) <= baseline_fds + n_idle);
    /* fill up and go past the cap */
    int n = MAX_CONN + 10;
    for (int i = n_idle; i < n; i++)
        H_REQUIRE(raw_connect(&idle[i]) == 0);
    /* the refused ones are answered at once: read them all for 500 ms
     * (well before the idle timeout closes any of the others) */
    for (double end = h_now_ms() + 500; h_now_ms() < end; usleep(20 * 1000))
        for (int i = n_idle; i < n; i++)
            raw_read(&idle[i]);
    int refused = 0;
    for (int i = n_idle; i < n; i++) {
        if (idle[i].closed) {
            refused++;
            check_scim_answer(&idle[i], 503, "over the cap");
            H_CHECK(strstr(idle[i].in, "Retry-After: ") != NULL);
        }
    }
    /* 40 open at most: the 41st to 50th are refused, the ones below are not */
    fprintf(stderr, "connections refused over the cap: %d\n", refused);
    H_CHECK_INT(refused, 10);
    /* idle ones are closed by limits.idle_timeout_ms (1.5 s) */
    int closed = 0;
    for (int i = 0; i < n_idle; i++)
        closed += raw_wait_closed(&idle[i], 4000);
    H_CHECK_INT(closed, n_idle);
    for (int i = 0; i < n; i++)
        raw_close(&idle[i]);
    usleep(200 * 1000);
    normal_client("after the cap");
}

static void junk(void)
{
    /* deterministic garbage: each connection gets an answer or is closed */
    unsigned seed = 12345;
    for (int k = 0; k < 16; k++) {
        raw c;
        H_REQUIRE(raw_connect(&c) == 0);
        char buf[2048];
        for (size_t i = 0; i < sizeof buf; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (char)(seed >> 16);
        }
        if (k % 4 == 1)
            memcpy(buf, "GET / HTTP/1.1\r\n", 16); /* a valid line, then junk headers */
        raw_send(&c, buf, sizeof buf);
        H_CHECK(raw_wait_closed(&c, 5000));
        int st = raw_status(&c);
        H_CHECK(st == 0 || (st >= 400 && st < 600));
        raw_close(&c);
    }
    /* a valid request pipelined with junk: 200 first, then 400, then closed */
    raw c;
    H_REQUIRE(raw_connect(&c) == 0);
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET %s%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n"
                     "GET %s%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n"
                     "\x01\x02 junk junk\r\n\r\n",
                     h_gw_base_path(env.g), user_path, H_TOKEN, h_gw_base_path(env.g), user_path, H_TOKEN);
    raw_send(&c, req, (size_t)n);
    H_CHECK(raw_wait_closed(&c, 5000));
    H_CHECK_INT(raw_status(&c), 200);
    const char *second = strstr(c.in + 1, "HTTP/1.1 200");
    H_CHECK(second != NULL);
    const char *third = second ? strstr(second + 1, "HTTP/1.1 400") : NULL;
    H_CHECK(third != NULL);
    if (third == NULL)
        fprintf(stderr, "pipelined answers: [%.600s]\n", c.in);
    raw_close(&c);

    /* half-closed: mid-headers, and after a whole request */
    for (int k = 0; k < 8; k++) {
        H_REQUIRE(raw_connect(&c) == 0);
        n = snprintf(req, sizeof req, "GET %s%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n%s",
                     h_gw_base_path(env.g), user_path, H_TOKEN, k % 2 ? "\r\n" : "X-Partial: ");
        raw_send(&c, req, (size_t)n);
        shutdown(c.fd, SHUT_WR);
        H_CHECK(raw_wait_closed(&c, 5000));
        raw_close(&c);
    }
    normal_client("after junk");
}

int main(void)
{
    if (!it_env_start(&env, "{\"limits\":{\"max_connections\":40,\"header_timeout_ms\":1000,"
                            "\"body_timeout_ms\":1000,\"idle_timeout_ms\":1500,\"max_body_bytes\":65536,"
                            "\"bulk_max_payload_bytes\":65536}}"))
        return H_DONE();
    char *id = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"hostile.victim\"}");
    H_REQUIRE(id != NULL);
    user_path = it_user_path(id);
    normal_client("before");
    usleep(300 * 1000);
    int fds = baseline_fds = open_fds();
    char *before = h_ldap_snapshot(env.s);

    slowloris_headers();
    slowloris_bodies();
    too_large();
    connection_cap();
    junk();

    /* still up, descriptors back to the baseline, directory unchanged */
    normal_client("at the end");
    fprintf(stderr, "slowest normal request during the attacks: %.0f ms\n", normal_worst_ms);
    H_CHECK(normal_worst_ms < 3000);
    int now = wait_fds(fds, 5000);
    fprintf(stderr, "gateway descriptors: %d before, %d after\n", fds, now);
    H_CHECK(now >= 0 && now <= fds);
    char *after = h_ldap_snapshot(env.s);
    H_CHECK(h_snapshot_same(before, after));
    H_CHECK(h_gw_log_wait(env.g, "event=connection_refused", 1, 1000));
    free(before);
    free(after);
    /* connections still open when the gateway stops (one idle, one
     * mid-headers): freed after the server, without a sanitizer report */
    raw left[2];
    H_REQUIRE(raw_connect(&left[0]) == 0 && raw_connect(&left[1]) == 0);
    raw_send(&left[1], "GET / HTTP/1.1\r\nX-Half: ", 25);
    usleep(100 * 1000);
    free(user_path);
    free(id);
    it_env_stop(&env);
    raw_close(&left[0]);
    raw_close(&left[1]);
    return H_DONE();
}
