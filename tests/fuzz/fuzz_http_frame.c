/* fuzz_http_frame.c — libFuzzer target for the HTTP request framing checks
 * that run on every byte a client sends (gateway/core/http_frame.c), fed the
 * way gateway/http/conn_guard.c feeds them: whole lines, body bytes as the
 * scanner asks for them, in pieces of a size the input's first byte picks.
 *
 * Checks, besides memory safety:
 *  - an error has a status the guard can answer (400 408 413 414 417 431 501
 *    505) and a detail;
 *  - the piece size changes nothing: byte by byte gives the same verdict,
 *    requests and output as all at once;
 *  - what would reach evhttp is a fixed point: scanning it again passes it on
 *    unchanged, with as many complete requests (so evhttp and the scanner
 *    agree on where each request ends);
 *  - no NUL byte and no bare CR ever reaches evhttp in a head.
 */
#include "s2l/http_frame.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct out {
    char *p;
    size_t len, cap;
    bool head_nul;
} out;

static void put(out *o, const char *p, size_t n)
{
    if (o->len + n > o->cap) {
        size_t cap = (o->len + n) * 2 + 64;
        char *q = realloc(o->p, cap);
        if (q == NULL)
            abort();
        o->p = q;
        o->cap = cap;
    }
    memcpy(o->p + o->len, p, n);
    o->len += n;
}

typedef struct verdict {
    int status;
    unsigned requests;
} verdict;

static verdict scan(const char *in, size_t len, size_t step, size_t max_head, uint64_t max_body, out *o)
{
    s2l_frame f;
    s2l_frame_limits lim = {.max_head = max_head, .max_body = max_body};
    s2l_frame_init(&f, &lim);
    out head = {0};
    size_t pos = 0, avail = 0;
    s2l_error err;
    verdict v = {0, 0};
    while (pos + avail < len || avail > 0) {
        size_t more = len - pos - avail < step ? len - pos - avail : step;
        avail += more;
        bool progress = false;
        for (;;) {
            uint64_t want;
            if (s2l_frame_wants_data(&f, &want)) {
                size_t take = avail < want ? avail : (size_t)want;
                if (take == 0)
                    break;
                put(o, in + pos, take);
                pos += take;
                avail -= take;
                s2l_frame_data(&f, take);
                progress = true;
                continue;
            }
            const char *lf = avail ? memchr(in + pos, '\n', avail) : NULL;
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
            if (action == S2L_FRAME_HOLD) {
                put(&head, in + pos, line_len + 1);
            } else if (action == S2L_FRAME_CHUNK) {
                char hex[32];
                int n = snprintf(hex, sizeof hex, "%llx\r\n", (unsigned long long)f.chunk_size);
                put(o, hex, (size_t)n);
            } else if (action == S2L_FRAME_CRLF) {
                put(o, "\r\n", 2);
            }
            pos += line_len + 1;
            avail -= line_len + 1;
            progress = true;
            if (ev & S2L_FRAME_HEAD_DONE) {
                for (size_t i = 0; i < head.len; i++)
                    if (head.p[i] == 0 || (head.p[i] == '\r' && (i + 1 >= head.len || head.p[i + 1] != '\n')))
                        o->head_nul = true;
                put(o, head.p, head.len);
                if (f.last_http10)
                    put(o, "Connection: keep-alive\r\n", 24);
                put(o, "\r\n", 2);
                head.len = 0;
            }
        }
        if (!progress && pos + avail >= len)
            break; /* all received, nothing more to do */
    }
    v.requests = f.requests;
    free(head.p);
    return v;
failed:
    free(head.p);
    v.status = err.status;
    v.requests = f.requests;
    if (err.detail[0] == 0)
        abort();
    switch (err.status) {
    case 400: case 408: case 413: case 414: case 417: case 431: case 501: case 505:
        break;
    default:
        fprintf(stderr, "unexpected status %d (%s)\n", err.status, err.detail);
        abort();
    }
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)(data[0] % 16) + 1;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    const size_t max_head = 512;
    const uint64_t max_body = 256;

    out a = {0}, b = {0}, c = {0};
    verdict va = scan(in, len, len ? len : 1, max_head, max_body, &a);
    verdict vb = scan(in, len, step, max_head, max_body, &b);
    if (va.status != vb.status || va.requests != vb.requests || a.len != b.len ||
        (a.len && memcmp(a.p, b.p, a.len) != 0)) {
        fprintf(stderr, "piece size %zu changes the verdict: %d/%u vs %d/%u\n", step, va.status, va.requests,
                vb.status, vb.requests);
        abort();
    }
    if (a.head_nul)
        abort();
    if (va.status == 0) {
        /* the normalised text is a fixed point (a head may grow by the
         * keep-alive line: more room) */
        verdict vc = scan(a.p ? a.p : "", a.len, a.len ? a.len : 1, max_head + 64, max_body, &c);
        if (vc.status != 0 || vc.requests != va.requests || c.len != a.len || (a.len && memcmp(a.p, c.p, a.len) != 0)) {
            fprintf(stderr, "not a fixed point: %d, %u vs %u requests, %zu vs %zu bytes\n", vc.status, vc.requests,
                    va.requests, c.len, a.len);
            abort();
        }
    }
    free(a.p);
    free(b.p);
    free(c.p);
    return 0;
}
