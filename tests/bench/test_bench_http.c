/* test_bench_http.c — the load generator's response parser, fed whole and
 * byte by byte, on the framings a SCIM server may use. */
#include "bench_http.h"
#include "unit.h"

#include <event2/buffer.h>

typedef struct {
    int rc;           /* last parse result */
    int status;
    bool close;
    size_t body_len;
    char body[256];
    size_t left;      /* bytes left in the input buffer after DONE */
} outcome;

/* Feeds `wire` in pieces of `step` bytes (0 = all at once); stops at DONE or ERROR.
 * at_eof: signal the peer's close after the last byte. */
static outcome run(const char *wire, size_t step, bool head, bool at_eof)
{
    outcome o;
    memset(&o, 0, sizeof o);
    s2l_bench_http_resp r;
    struct evbuffer *in = evbuffer_new();
    if (in == NULL || s2l_bench_http_init(&r) != 0) {
        o.rc = -2;
        goto out_nofini;
    }
    s2l_bench_http_start(&r, head, true);
    size_t len = strlen(wire), off = 0;
    o.rc = S2L_BENCH_HTTP_MORE;
    while (off < len && o.rc == S2L_BENCH_HTTP_MORE) {
        size_t n = step ? step : len;
        if (n > len - off)
            n = len - off;
        evbuffer_add(in, wire + off, n);
        off += n;
        o.rc = s2l_bench_http_parse(&r, in);
    }
    if (o.rc == S2L_BENCH_HTTP_MORE && at_eof)
        o.rc = s2l_bench_http_eof(&r);
    o.status = r.status;
    o.close = r.close;
    o.body_len = r.body_len;
    size_t bl = evbuffer_get_length(r.body);
    if (bl >= sizeof o.body)
        bl = sizeof o.body - 1;
    evbuffer_copyout(r.body, o.body, bl);
    o.body[bl] = '\0';
    o.left = evbuffer_get_length(in) + (len - off);
    s2l_bench_http_fini(&r);
out_nofini:
    if (in)
        evbuffer_free(in);
    return o;
}

static void each_split(const char *wire, bool head, int want_rc, int want_status, bool want_close,
                       const char *want_body, size_t want_left)
{
    static const size_t steps[] = {0, 1, 2, 3, 7, 64};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        outcome o = run(wire, steps[i], head, false);
        CHECK_INT(o.rc, want_rc);
        if (want_rc != S2L_BENCH_HTTP_DONE)
            continue;
        CHECK_INT(o.status, want_status);
        CHECK_INT(o.close, want_close);
        CHECK_STR(o.body, want_body);
        CHECK_INT(o.body_len, strlen(want_body));
        CHECK_INT(o.left, want_left);
    }
}

static void test_content_length(void)
{
    each_split("HTTP/1.1 201 Created\r\nContent-Type: application/scim+json\r\n"
               "Content-Length: 11\r\n\r\n{\"id\":\"x1\"}",
               false, S2L_BENCH_HTTP_DONE, 201, false, "{\"id\":\"x1\"}", 0);
    /* Pipelined: the next response's bytes stay in the buffer. */
    each_split("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n",
               false, S2L_BENCH_HTTP_DONE, 200, false, "ok", 17);
    /* No body for 204 even without a length, nor for HEAD. */
    each_split("HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n", false, S2L_BENCH_HTTP_DONE, 204, false, "", 0);
    each_split("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", true, S2L_BENCH_HTTP_DONE, 200, false, "", 0);
    /* A body still incomplete is not done. */
    each_split("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort", false, S2L_BENCH_HTTP_MORE, 0, false, "", 0);
}

static void test_chunked(void)
{
    each_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\n",
               false, S2L_BENCH_HTTP_DONE, 200, false, "hello 0123456789", 0);
    each_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX", false,
               S2L_BENCH_HTTP_ERROR, 0, false, "", 0);
    each_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false,
               S2L_BENCH_HTTP_ERROR, 0, false, "", 0);
}

static void test_connection(void)
{
    each_split("HTTP/1.1 400 Bad Request\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n",
               false, S2L_BENCH_HTTP_DONE, 400, true, "", 0);
    each_split("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\na", false, S2L_BENCH_HTTP_DONE, 200, true, "a", 0);
    each_split("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\na", false,
               S2L_BENCH_HTTP_DONE, 200, false, "a", 0);
    /* Interim 100 Continue is skipped. */
    each_split("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n", false,
               S2L_BENCH_HTTP_DONE, 202, false, "", 0);
}

static void test_until_close(void)
{
    const char *wire = "HTTP/1.1 200 OK\r\n\r\nall of it";
    outcome o = run(wire, 3, false, false);
    CHECK_INT(o.rc, S2L_BENCH_HTTP_MORE);
    o = run(wire, 3, false, true);
    CHECK_INT(o.rc, S2L_BENCH_HTTP_DONE);
    CHECK_INT(o.close, true);
    CHECK_STR(o.body, "all of it");
    /* A close inside a delimited body is an error, as is one before any byte. */
    o = run("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", 0, false, true);
    CHECK_INT(o.rc, S2L_BENCH_HTTP_ERROR);
    o = run("", 0, false, true);
    CHECK_INT(o.rc, S2L_BENCH_HTTP_ERROR);
}

static void test_malformed(void)
{
    each_split("HTTP/2 200 OK\r\n\r\n", false, S2L_BENCH_HTTP_ERROR, 0, false, "", 0);
    each_split("HTTP/1.1 2x0 OK\r\n\r\n", false, S2L_BENCH_HTTP_ERROR, 0, false, "", 0);
    each_split("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", false,
               S2L_BENCH_HTTP_ERROR, 0, false, "", 0);
    each_split("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false, S2L_BENCH_HTTP_ERROR, 0, false, "", 0);
    each_split("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", false, S2L_BENCH_HTTP_ERROR, 0, false, "", 0);
    each_split("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", false,
               S2L_BENCH_HTTP_ERROR, 0, false, "", 0);

    /* A header block that never ends is cut off at the limit, not buffered forever. */
    struct evbuffer *in = evbuffer_new();
    s2l_bench_http_resp r;
    CHECK(in != NULL && s2l_bench_http_init(&r) == 0);
    if (in == NULL)
        return;
    s2l_bench_http_start(&r, false, false);
    evbuffer_add_printf(in, "HTTP/1.1 200 OK\r\n");
    int rc = S2L_BENCH_HTTP_MORE;
    for (int i = 0; i < 10000 && rc == S2L_BENCH_HTTP_MORE; i++) {
        evbuffer_add_printf(in, "X-Filler-%d: aaaaaaaaaa\r\n", i);
        rc = s2l_bench_http_parse(&r, in);
    }
    CHECK_INT(rc, S2L_BENCH_HTTP_ERROR);
    s2l_bench_http_fini(&r);
    evbuffer_free(in);
}

static void test_reuse(void)
{
    /* One parser, two responses in one buffer: the second parses after _start. */
    struct evbuffer *in = evbuffer_new();
    s2l_bench_http_resp r;
    CHECK(in != NULL && s2l_bench_http_init(&r) == 0);
    if (in == NULL)
        return;
    evbuffer_add_printf(in, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
                            "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n");
    s2l_bench_http_start(&r, false, false);
    CHECK_INT(s2l_bench_http_parse(&r, in), S2L_BENCH_HTTP_DONE);
    CHECK_INT(r.status, 200);
    CHECK_INT(evbuffer_get_length(r.body), 0);   /* not kept */
    CHECK_INT(r.body_len, 3);
    s2l_bench_http_start(&r, false, true);
    CHECK_INT(s2l_bench_http_parse(&r, in), S2L_BENCH_HTTP_DONE);
    CHECK_INT(r.status, 404);
    CHECK_INT(evbuffer_get_length(r.body), 3);
    CHECK_INT(evbuffer_get_length(in), 0);
    s2l_bench_http_fini(&r);
    evbuffer_free(in);
}

int main(void)
{
    test_content_length();
    test_chunked();
    test_connection();
    test_until_close();
    test_malformed();
    test_reuse();
    return UNIT_DONE();
}
