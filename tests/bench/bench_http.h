/* bench_http.h — an incremental HTTP/1.1 response parser for the load generator.
 *
 * It reads from a libevent evbuffer as bytes arrive (any split, one byte at a
 * time included) and consumes exactly one response, leaving the bytes of the
 * next one in the buffer. Bodies: Content-Length, chunked, or until the
 * connection closes; none for 1xx/204/304 and answers to HEAD. Interim 1xx
 * responses are skipped. Only what a benchmark needs is kept: the status, the
 * keep-alive decision and, on request, the body.
 *
 * Ownership: the parser owns `body` (created by _init, freed by _fini).
 */
#ifndef S2L_BENCH_HTTP_H
#define S2L_BENCH_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct evbuffer;

#define S2L_BENCH_HTTP_MAX_HEADER 65536u   /* a header block past this is an error */

typedef enum {
    S2L_BENCH_HTTP_MORE = 0,     /* need more bytes */
    S2L_BENCH_HTTP_DONE = 1,     /* one whole response consumed */
    S2L_BENCH_HTTP_ERROR = -1,   /* malformed: drop the connection */
} s2l_bench_http_rc;

typedef struct s2l_bench_http_resp {
    int state;                /* private */
    size_t remaining;         /* private: body or chunk bytes still expected */
    bool head_request;        /* private: set by _start */
    bool keep_body;           /* private: set by _start */

    int status;               /* e.g. 201 */
    bool close;               /* the connection cannot be reused after this response */
    size_t body_len;          /* bytes of body seen (kept or not) */
    struct evbuffer *body;    /* the body when keep_body was asked for; emptied by _start */
    char error[96];           /* why S2L_BENCH_HTTP_ERROR */
} s2l_bench_http_resp;

/* 0, or -1 when out of memory. */
int s2l_bench_http_init(s2l_bench_http_resp *r);
void s2l_bench_http_fini(s2l_bench_http_resp *r);

/* Prepares for the response to the next request. */
void s2l_bench_http_start(s2l_bench_http_resp *r, bool head_request, bool keep_body);

/* Consumes bytes from `in`. */
s2l_bench_http_rc s2l_bench_http_parse(s2l_bench_http_resp *r, struct evbuffer *in);

/* The peer closed the connection: DONE when the response was delimited by the
 * close (a body without length), else ERROR (truncated). */
s2l_bench_http_rc s2l_bench_http_eof(s2l_bench_http_resp *r);

#endif
