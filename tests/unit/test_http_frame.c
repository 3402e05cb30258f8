/* test_http_frame.c — HTTP request framing checks (gateway/core/http_frame.c):
 * what reaches evhttp (heads whole, chunk lines normalised, trailers and
 * Connection headers dropped) and the SCIM status of every framing error. */
#include "s2l/http_frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

typedef struct run {
    int status;          /* 0: no error */
    char detail[S2L_ERROR_DETAIL_MAX];
    unsigned requests;   /* complete requests */
    char out[8192];      /* what would reach evhttp */
    size_t out_len;
    bool last_close, last_http10;
} run;

static void put(run *r, const char *p, size_t n)
{
    if (r->out_len + n < sizeof r->out) {
        memcpy(r->out + r->out_len, p, n);
        r->out_len += n;
        r->out[r->out_len] = 0;
    }
}

/* Feeds in[0, len) the way conn_guard.c does, in pieces of `step` bytes
 * (lines are only handed over whole). */
static run feed(const char *in, size_t len, size_t step, size_t max_head, uint64_t max_body)
{
    run r = {0};
    s2l_frame f;
    s2l_frame_limits lim = {.max_head = max_head, .max_body = max_body};
    s2l_frame_init(&f, &lim);
    char head[8192];
    size_t head_len = 0, avail = 0, pos = 0;
    s2l_error err;
    while (pos < len) {
        avail = avail + step > len - pos ? len - pos : avail + step; /* bytes received, not consumed */
        for (;;) {
            uint64_t want;
            if (s2l_frame_wants_data(&f, &want)) {
                size_t take = avail < want ? avail : (size_t)want;
                if (take == 0)
                    break;
                put(&r, in + pos, take);
                pos += take;
                avail -= take;
                s2l_frame_data(&f, take);
                continue;
            }
            const char *lf = memchr(in + pos, '\n', avail);
            if (lf == NULL) {
                if (s2l_frame_partial(&f, avail, &err) < 0)
                    goto failed;
                break;
            }
            size_t line_len = (size_t)(lf - (in + pos));
            s2l_frame_action action;
            int ev = s2l_frame_line(&f, in + pos, line_len, &action, &err);
            if (ev < 0)
                goto failed;
            if (action == S2L_FRAME_HOLD && head_len + line_len + 1 < sizeof head) {
                memcpy(head + head_len, in + pos, line_len + 1);
                head_len += line_len + 1;
            } else if (action == S2L_FRAME_CHUNK) {
                char hex[32];
                int n = snprintf(hex, sizeof hex, "%llx\r\n", (unsigned long long)f.chunk_size);
                put(&r, hex, (size_t)n);
            } else if (action == S2L_FRAME_CRLF) {
                put(&r, "\r\n", 2);
            }
            pos += line_len + 1;
            avail -= line_len + 1;
            if (ev & S2L_FRAME_HEAD_DONE) {
                put(&r, head, head_len);
                if (f.last_http10)
                    put(&r, "Connection: keep-alive\r\n", 24);
                put(&r, "\r\n", 2);
                head_len = 0;
            }
        }
    }
    r.requests = f.requests;
    r.last_close = f.last_close;
    r.last_http10 = f.last_http10;
    return r;
failed:
    r.status = err.status;
    snprintf(r.detail, sizeof r.detail, "%s", err.detail);
    r.requests = f.requests;
    return r;
}

static run feed_s(const char *in)
{
    return feed(in, strlen(in), 1 << 20, 65536, 1 << 20);
}

static void check_status(const char *in, int want, const char *in_detail)
{
    /* Any split into pieces gives the same answer. */
    size_t steps[] = {1, 3, 7, 1 << 20};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        run r = feed(in, strlen(in), steps[i], 65536, 1 << 20);
        if (r.status != want)
            fprintf(stderr, "step %zu: [%s] -> %d (%s), want %d\n", steps[i], in, r.status, r.detail, want);
        CHECK_INT(r.status, want);
        if (in_detail && strstr(r.detail, in_detail) == NULL)
            fprintf(stderr, "detail [%s] lacks [%s]\n", r.detail, in_detail);
        CHECK(in_detail == NULL || strstr(r.detail, in_detail) != NULL);
    }
}

static void test_valid(void)
{
    run r = feed_s("GET /scim/v2/Users HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer x\r\n\r\n");
    CHECK_INT(r.status, 0);
    CHECK_INT(r.requests, 1);
    CHECK_STR(r.out, "GET /scim/v2/Users HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer x\r\n\r\n");
    CHECK(!r.last_close);

    /* A body by Content-Length, then a pipelined request; LF-only lines too. */
    r = feed_s("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /y HTTP/1.1\n\n");
    CHECK_INT(r.status, 0);
    CHECK_INT(r.requests, 2);
    CHECK_STR(r.out, "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /y HTTP/1.1\n\r\n");

    /* Chunked: extensions dropped, trailers dropped, sizes normalised. */
    r = feed_s("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
               "05;name=value\r\nhello\r\n0006\r\n world\r\n0\r\nX-Trailer: t\r\nAuthorization: no\r\n\r\n");
    CHECK_INT(r.status, 0);
    CHECK_INT(r.requests, 1);
    CHECK_STR(r.out, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");

    /* Connection is the guard's: dropped; close and HTTP/1.0 are reported. */
    r = feed_s("GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n");
    CHECK_INT(r.status, 0);
    CHECK_STR(r.out, "GET / HTTP/1.1\r\n\r\n");
    CHECK(r.last_close);
    r = feed_s("GET / HTTP/1.0\r\n\r\n");
    CHECK(r.last_close && r.last_http10);
    CHECK_STR(r.out, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    r = feed_s("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    CHECK(!r.last_close && r.last_http10);

    /* Empty lines before a request are dropped; absolute form and "*" are targets. */
    r = feed_s("\r\n\r\nOPTIONS * HTTP/1.1\r\n\r\nGET http://h/scim/v2/Users HTTP/1.1\r\n\r\n");
    CHECK_INT(r.status, 0);
    CHECK_INT(r.requests, 2);
    /* Bytes >= 0x80 in a header value are allowed (obs-text). */
    r = feed_s("GET / HTTP/1.1\r\nX-Name: J\xc3\xbcrgen\r\n\r\n");
    CHECK_INT(r.status, 0);
}

static void test_errors(void)
{
    /* NUL, bare CR and control bytes: in the request line and in headers */
    static const char nul_line[] = "GET /a\0b HTTP/1.1\r\n\r\n";
    run r = feed(nul_line, sizeof nul_line - 1, 1 << 20, 65536, 1 << 20);
    CHECK_INT(r.status, 400);
    CHECK(strstr(r.detail, "NUL") != NULL);
    static const char nul_header[] = "GET / HTTP/1.1\r\nAuthorization: Bearer tok\0junk\r\n\r\n";
    r = feed(nul_header, sizeof nul_header - 1, 2, 65536, 1 << 20);
    CHECK_INT(r.status, 400);
    CHECK(strstr(r.detail, "NUL") != NULL);
    CHECK_INT(r.out_len, 0); /* nothing of the head was passed on */
    check_status("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400, "CR");
    check_status("GET / HTTP/1.1\r\nX: a\x1b[2Jb\r\n\r\n", 400, "control");

    /* request line */
    check_status("GET /\r\n\r\n", 400, "request line");
    check_status("GET  / HTTP/1.1\r\n\r\n", 400, "request line");
    check_status("GET /a b HTTP/1.1\r\n\r\n", 400, "request line");
    check_status("GET / HTTP/2.0\r\n\r\n", 505, NULL);
    check_status("GET / FOO/1.1\r\n\r\n", 400, NULL);
    check_status("GET users HTTP/1.1\r\n\r\n", 400, "target");
    check_status("BREW / HTTP/1.1\r\n\r\n", 501, "method");
    check_status("get / HTTP/1.1\r\n\r\n", 501, "method");

    /* headers */
    check_status("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "header");
    check_status("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400, "header");
    check_status("GET / HTTP/1.1\r\n: x\r\n\r\n", 400, "header");
    check_status("GET / HTTP/1.1\r\nX: a\r\n  folded\r\n\r\n", 400, "obs-fold");
    check_status("GET / HTTP/1.1\r\nAuthorization: Bearer a\r\nauthorization: Bearer a\r\n\r\n", 400,
                 "Authorization");
    check_status("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "Host");
    check_status("GET / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", 417, NULL);
    check_status("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n", 0, NULL);

    /* body framing */
    check_status("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400, "Content-Length");
    check_status("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400, "Content-Length");
    check_status("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello", 400, "plain number");
    check_status("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello", 400, "plain number");
    check_status("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "plain number");
    check_status("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", 400, "plain number");
    check_status("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400, "plain number");
    check_status("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
                 "Transfer-Encoding");
    check_status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
                 "Transfer-Encoding");
    check_status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "chunked");
    check_status("HEAD / HTTP/1.1\r\nContent-Length: 3\r\n\r\nGET", 400, "HEAD");
    check_status("TRACE / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "TRACE");
    check_status("HEAD / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 0, NULL);

    /* chunks */
    const char *te = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    char buf[512];
    static const char *const bad_chunks[] = {"zz\r\n", "\r\n", "-5\r\nhello\r\n", "5 x\r\nhello\r\n",
                                             "3\r\nhello\r\n", "5\r\nhello0\r\n\r\n",
                                             "0\r\nbad trailer\r\n\r\n"};
    for (size_t i = 0; i < sizeof bad_chunks / sizeof bad_chunks[0]; i++) {
        snprintf(buf, sizeof buf, "%s%s", te, bad_chunks[i]);
        check_status(buf, 400, "chunked");
    }
    snprintf(buf, sizeof buf, "%s5 ;ext\r\nhello\r\n0\r\n\r\n", te);
    check_status(buf, 0, NULL);
}

static void test_limits(void)
{
    /* 413: declared, and as chunks arrive (the sum, and one huge size) */
    run r = feed_s("POST / HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n");
    CHECK_INT(r.status, 413);
    CHECK_INT(r.out_len, 0);
    r = feed_s("POST / HTTP/1.1\r\nContent-Length: 1048576\r\n\r\n");
    CHECK_INT(r.status, 0);
    const char *te = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    char buf[256];
    snprintf(buf, sizeof buf, "%sffffffffffffffffffff\r\n", te);
    check_status(buf, 413, NULL);
    snprintf(buf, sizeof buf, "%s100000\r\n", te); /* exactly 1 MiB: fine so far */
    check_status(buf, 0, NULL);
    snprintf(buf, sizeof buf, "%s100001\r\n", te);
    check_status(buf, 413, NULL);
    /* many small chunks past the limit */
    char *big = malloc(200000);
    CHECK(big != NULL);
    size_t o = (size_t)snprintf(big, 200000, "%s", te);
    for (int i = 0; i < 20; i++) {
        o += (size_t)snprintf(big + o, 200000 - o, "1000\r\n");
        memset(big + o, 'a', 4096);
        o += 4096;
        o += (size_t)snprintf(big + o, 200000 - o, "\r\n");
    }
    r = feed(big, o, 1000, 65536, 40000);
    CHECK_INT(r.status, 413);
    free(big);

    /* 414 / 431: head limits, whether or not a line has ended yet */
    char line[300];
    memset(line, 'a', sizeof line);
    memcpy(line, "GET /", 5);
    r = feed(line, sizeof line, 10, 256, 1024);
    CHECK_INT(r.status, 414);
    char hdrs[600];
    int n = snprintf(hdrs, sizeof hdrs, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 20; i++)
        n += snprintf(hdrs + n, sizeof hdrs - (size_t)n, "X-Header-%02d: value\r\n", i);
    r = feed(hdrs, (size_t)n, 5, 256, 1024);
    CHECK_INT(r.status, 431);
    r = feed(hdrs, (size_t)n, 5, 4096, 1024);
    CHECK_INT(r.status, 0);
    /* endless empty lines before a request count too */
    char blank[600];
    for (size_t i = 0; i + 1 < sizeof blank; i += 2)
        memcpy(blank + i, "\r\n", 2);
    r = feed(blank, sizeof blank, 7, 256, 1024);
    CHECK_INT(r.status, 414);
}

static void test_states(void)
{
    s2l_frame f;
    s2l_frame_limits lim = {.max_head = 1024, .max_body = 1024};
    s2l_frame_init(&f, &lim);
    CHECK(!s2l_frame_in_head(&f, 0));
    CHECK(s2l_frame_in_head(&f, 3));  /* "GET" arrived, no LF yet */
    s2l_frame_action a;
    s2l_error err;
    CHECK_INT(s2l_frame_line(&f, "POST / HTTP/1.1\r", 16, &a, &err), 0);
    CHECK(a == S2L_FRAME_HOLD);
    CHECK(s2l_frame_in_head(&f, 0));
    CHECK_INT(s2l_frame_line(&f, "Content-Length: 2", 17, &a, &err), 0);
    CHECK_INT(s2l_frame_line(&f, "", 0, &a, &err), S2L_FRAME_HEAD_DONE);
    CHECK(a == S2L_FRAME_DROP);
    CHECK(s2l_frame_in_body(&f) && !s2l_frame_in_head(&f, 0));
    uint64_t n;
    CHECK(s2l_frame_wants_data(&f, &n));
    CHECK_INT(n, 2);
    CHECK_INT(s2l_frame_data(&f, 1), 0);
    CHECK_INT(s2l_frame_data(&f, 1), S2L_FRAME_REQUEST_DONE);
    CHECK(!s2l_frame_in_body(&f) && !s2l_frame_in_head(&f, 0));
    CHECK_INT(f.requests, 1);
    /* after an error, nothing is accepted */
    CHECK_INT(s2l_frame_line(&f, "BAD", 3, &a, &err), -1);
    CHECK_INT(s2l_frame_line(&f, "GET / HTTP/1.1", 14, &a, &err), -1);
}

int main(void)
{
    test_valid();
    test_errors();
    test_limits();
    test_states();
    return UNIT_DONE();
}
