/* bench_http.c — see bench_http.h. */
#include "bench_http.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <event2/buffer.h>

enum {
    ST_HEADERS,
    ST_BODY_LEN,
    ST_BODY_EOF,
    ST_CHUNK_SIZE,
    ST_CHUNK_DATA,
    ST_CHUNK_CRLF,
    ST_TRAILERS,
    ST_DONE,
};

#define MAX_CHUNK_LINE 1024u

int s2l_bench_http_init(s2l_bench_http_resp *r)
{
    memset(r, 0, sizeof *r);
    r->body = evbuffer_new();
    return r->body ? 0 : -1;
}

void s2l_bench_http_fini(s2l_bench_http_resp *r)
{
    if (r->body)
        evbuffer_free(r->body);
    r->body = NULL;
}

void s2l_bench_http_start(s2l_bench_http_resp *r, bool head_request, bool keep_body)
{
    r->state = ST_HEADERS;
    r->remaining = 0;
    r->head_request = head_request;
    r->keep_body = keep_body;
    r->status = 0;
    r->close = false;
    r->body_len = 0;
    r->error[0] = '\0';
    evbuffer_drain(r->body, evbuffer_get_length(r->body));
}

static s2l_bench_http_rc fail(s2l_bench_http_resp *r, const char *why)
{
    snprintf(r->error, sizeof r->error, "%s", why);
    return S2L_BENCH_HTTP_ERROR;
}

/* Case-insensitive search for a token in a comma-separated header value. */
static bool has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < n && v[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (end - start == tl && strncasecmp(v + start, tok, tl) == 0)
            return true;
    }
    return false;
}

static bool parse_decimal(const char *v, size_t n, size_t *out)
{
    size_t x = 0;
    while (n > 0 && (*v == ' ' || *v == '\t'))
        v++, n--;
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        if (x > (SIZE_MAX - 9) / 10)
            return false;
        x = x * 10 + (size_t)(v[i] - '0');
    }
    *out = x;
    return true;
}

/* The header block is h[0..len), ending in CRLF CRLF. Sets status, close and
 * what delimits the body. */
static s2l_bench_http_rc parse_head(s2l_bench_http_resp *r, const char *h, size_t len,
                                    bool *chunked, bool *has_len, size_t *clen)
{
    const char *end = h + len;
    const char *eol = memchr(h, '\r', len);
    /* "HTTP/1.1 200" is the shortest acceptable status line. */
    if (eol == NULL || eol - h < 12 || memcmp(h, "HTTP/1.", 7) != 0 || h[8] != ' ')
        return fail(r, "bad status line");
    if (h[7] != '0' && h[7] != '1')
        return fail(r, "unsupported HTTP version");
    bool http10 = h[7] == '0';
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (h[i] < '0' || h[i] > '9')
            return fail(r, "bad status code");
        status = status * 10 + (h[i] - '0');
    }
    if (eol - h > 12 && h[12] != ' ')
        return fail(r, "bad status code");
    r->status = status;
    bool keep_alive_token = false, close_token = false;
    *chunked = false;
    *has_len = false;

    const char *p = eol + 2;
    while (p < end) {
        const char *le = memchr(p, '\r', (size_t)(end - p));
        if (le == NULL || le + 1 >= end || le[1] != '\n')
            return fail(r, "bad header line");
        if (le == p)
            break;   /* the empty line */
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (colon == NULL || colon == p)
            return fail(r, "header without name");
        size_t nlen = (size_t)(colon - p);
        const char *v = colon + 1;
        size_t vlen = (size_t)(le - v);
        if (nlen == 14 && strncasecmp(p, "content-length", 14) == 0) {
            size_t x;
            if (!parse_decimal(v, vlen, &x))
                return fail(r, "bad Content-Length");
            if (*has_len && x != *clen)
                return fail(r, "conflicting Content-Length");
            *has_len = true;
            *clen = x;
        } else if (nlen == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
            if (has_token(v, vlen, "chunked"))
                *chunked = true;
            else
                return fail(r, "unsupported Transfer-Encoding");
        } else if (nlen == 10 && strncasecmp(p, "connection", 10) == 0) {
            if (has_token(v, vlen, "close"))
                close_token = true;
            if (has_token(v, vlen, "keep-alive"))
                keep_alive_token = true;
        }
        p = le + 2;
    }
    r->close = close_token || (http10 && !keep_alive_token);
    return S2L_BENCH_HTTP_DONE;
}

static void take_body(s2l_bench_http_resp *r, struct evbuffer *in, size_t n)
{
    if (r->keep_body)
        evbuffer_remove_buffer(in, r->body, n);
    else
        evbuffer_drain(in, n);
    r->body_len += n;
}

/* Position of the first CRLF in `in`, or -1. */
static ssize_t find_crlf(struct evbuffer *in)
{
    struct evbuffer_ptr pos = evbuffer_search(in, "\r\n", 2, NULL);
    return pos.pos;
}

static s2l_bench_http_rc step_headers(s2l_bench_http_resp *r, struct evbuffer *in)
{
    struct evbuffer_ptr pos = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    if (pos.pos < 0) {
        if (evbuffer_get_length(in) > S2L_BENCH_HTTP_MAX_HEADER)
            return fail(r, "header block too large");
        return S2L_BENCH_HTTP_MORE;
    }
    size_t hlen = (size_t)pos.pos + 4;
    if (hlen > S2L_BENCH_HTTP_MAX_HEADER)
        return fail(r, "header block too large");
    const char *h = (const char *)evbuffer_pullup(in, (ssize_t)hlen);
    if (h == NULL)
        return fail(r, "out of memory");
    bool chunked, has_len;
    size_t clen = 0;
    s2l_bench_http_rc rc = parse_head(r, h, hlen, &chunked, &has_len, &clen);
    evbuffer_drain(in, hlen);
    if (rc != S2L_BENCH_HTTP_DONE)
        return rc;

    if (r->status >= 100 && r->status < 200) {
        if (r->status == 101)
            return fail(r, "unexpected protocol switch");
        r->status = 0;   /* interim: the real answer follows */
        return S2L_BENCH_HTTP_MORE;
    }
    if (r->head_request || r->status == 204 || r->status == 304) {
        r->state = ST_DONE;
    } else if (chunked) {
        r->state = ST_CHUNK_SIZE;
    } else if (has_len) {
        r->remaining = clen;
        r->state = clen ? ST_BODY_LEN : ST_DONE;
    } else {
        r->close = true;
        r->state = ST_BODY_EOF;
    }
    return S2L_BENCH_HTTP_MORE;
}

static s2l_bench_http_rc step_chunk_size(s2l_bench_http_resp *r, struct evbuffer *in)
{
    ssize_t at = find_crlf(in);
    if (at < 0)
        return evbuffer_get_length(in) > MAX_CHUNK_LINE ? fail(r, "chunk size line too long")
                                                         : S2L_BENCH_HTTP_MORE;
    if ((size_t)at > MAX_CHUNK_LINE)
        return fail(r, "chunk size line too long");
    const char *line = (const char *)evbuffer_pullup(in, at + 2);
    if (line == NULL)
        return fail(r, "out of memory");
    size_t size = 0, digits = 0;
    for (ssize_t i = 0; i < at; i++) {
        char c = line[i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else if (c == ';' || c == ' ' || c == '\t')
            break;   /* chunk extensions are ignored */
        else
            return fail(r, "bad chunk size");
        if (size > (SIZE_MAX >> 4))
            return fail(r, "chunk size overflow");
        size = (size << 4) | (size_t)d;
        digits++;
    }
    if (digits == 0)
        return fail(r, "bad chunk size");
    evbuffer_drain(in, (size_t)at + 2);
    r->remaining = size;
    r->state = size ? ST_CHUNK_DATA : ST_TRAILERS;
    return S2L_BENCH_HTTP_MORE;
}

s2l_bench_http_rc s2l_bench_http_parse(s2l_bench_http_resp *r, struct evbuffer *in)
{
    for (;;) {
        size_t avail = evbuffer_get_length(in);
        s2l_bench_http_rc rc = S2L_BENCH_HTTP_MORE;
        switch (r->state) {
        case ST_HEADERS:
            if (avail == 0)
                return S2L_BENCH_HTTP_MORE;
            rc = step_headers(r, in);
            if (rc == S2L_BENCH_HTTP_ERROR)
                return rc;
            if (r->state == ST_HEADERS && r->status == 0 && evbuffer_get_length(in) < avail)
                continue;   /* an interim response was consumed */
            if (r->state == ST_HEADERS)
                return S2L_BENCH_HTTP_MORE;
            break;
        case ST_BODY_LEN: {
            size_t n = avail < r->remaining ? avail : r->remaining;
            if (n == 0)
                return S2L_BENCH_HTTP_MORE;
            take_body(r, in, n);
            r->remaining -= n;
            if (r->remaining == 0)
                r->state = ST_DONE;
            break;
        }
        case ST_BODY_EOF:
            if (avail)
                take_body(r, in, avail);
            return S2L_BENCH_HTTP_MORE;
        case ST_CHUNK_SIZE:
            rc = step_chunk_size(r, in);
            if (rc == S2L_BENCH_HTTP_ERROR)
                return rc;
            if (r->state == ST_CHUNK_SIZE)
                return S2L_BENCH_HTTP_MORE;
            break;
        case ST_CHUNK_DATA: {
            size_t n = avail < r->remaining ? avail : r->remaining;
            if (n == 0)
                return S2L_BENCH_HTTP_MORE;
            take_body(r, in, n);
            r->remaining -= n;
            if (r->remaining == 0)
                r->state = ST_CHUNK_CRLF;
            break;
        }
        case ST_CHUNK_CRLF: {
            if (avail < 2)
                return S2L_BENCH_HTTP_MORE;
            const char *p = (const char *)evbuffer_pullup(in, 2);
            if (p == NULL || p[0] != '\r' || p[1] != '\n')
                return fail(r, "missing CRLF after chunk");
            evbuffer_drain(in, 2);
            r->state = ST_CHUNK_SIZE;
            break;
        }
        case ST_TRAILERS: {
            ssize_t at = find_crlf(in);
            if (at < 0)
                return avail > S2L_BENCH_HTTP_MAX_HEADER ? fail(r, "trailer too large")
                                                         : S2L_BENCH_HTTP_MORE;
            evbuffer_drain(in, (size_t)at + 2);
            if (at == 0)
                r->state = ST_DONE;
            break;
        }
        case ST_DONE:
            return S2L_BENCH_HTTP_DONE;
        default:
            return fail(r, "parser state corrupted");
        }
    }
}

s2l_bench_http_rc s2l_bench_http_eof(s2l_bench_http_resp *r)
{
    if (r->state == ST_BODY_EOF || r->state == ST_DONE) {
        r->state = ST_DONE;
        r->close = true;
        return S2L_BENCH_HTTP_DONE;
    }
    return fail(r, r->state == ST_HEADERS ? "connection closed before a response"
                                          : "connection closed inside a response");
}
