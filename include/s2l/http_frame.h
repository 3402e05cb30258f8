/* http_frame.h — HTTP/1.1 request framing, checked before evhttp sees a byte.
 *
 * evhttp (libevent 2.1) answers framing errors itself with an HTML page (a bad
 * chunk size, a body past its hard cap: 413), reads conflicting framing
 * headers its own way (the first Content-Length wins, Transfer-Encoding other
 * than "chunked" falls back to Content-Length, HEAD and TRACE bodies become the
 * next request) and cuts header values at a NUL byte. This scanner reads the
 * same bytes first (gateway/http/conn_guard.c feeds it from a filtering
 * bufferevent), so that every request evhttp parses is one whose framing has
 * a single meaning, and everything else ends in a SCIM error it describes:
 *   400  NUL or another control byte in the request line or a header, a
 *        malformed request line or header, obs-fold, Content-Length that is
 *        not one plain number, two Content-Length headers, Content-Length
 *        with Transfer-Encoding, two Transfer-Encoding headers, a body on
 *        HEAD or TRACE, two Authorization or two Host headers, a bad chunk
 *        size line or chunk end
 *   413  a body longer than max_body (declared, or as chunks arrive)
 *   414  a request line longer than max_head
 *   417  an Expect other than 100-continue
 *   431  request line + headers (or trailers) longer than max_head
 *   501  a method evhttp does not know, a transfer coding other than chunked
 *   505  an HTTP version other than 1.0 and 1.1
 *
 * Connection management stays with the caller: Connection headers are not
 * passed on (S2L_FRAME_DROP), and the scanner says whether the client wants
 * the connection closed after the request (last_close) and whether it spoke
 * HTTP/1.0 (last_http10), so that the caller can tell evhttp "keep-alive"
 * and close the connection itself once the answer has left (evhttp behind a
 * filter would otherwise free the socket before its answer is written).
 *
 * Incremental and line-based: the caller asks what the scanner wants next
 * (a whole line, or up to n body bytes), and hands it over. Pipelined
 * requests follow one another. Lines end at LF; one CR before it is part of
 * the line ending, any other CR is an error.
 *
 * Pure: no I/O, no allocation. A scanner is a plain value.
 */
#ifndef S2L_HTTP_FRAME_H
#define S2L_HTTP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2l/error.h"

typedef struct s2l_frame_limits {
    size_t max_head;      /* request line + headers, and trailers (bytes, line endings included) */
    uint64_t max_body;    /* body bytes (chunked: the data, not the framing) */
} s2l_frame_limits;

typedef enum s2l_frame_state {
    S2L_FRAME_REQUEST_LINE = 0, /* between requests, or inside the request line */
    S2L_FRAME_HEADER,
    S2L_FRAME_BODY,             /* Content-Length data: wants `remaining` bytes */
    S2L_FRAME_CHUNK_SIZE,
    S2L_FRAME_CHUNK_DATA,       /* wants `remaining` bytes */
    S2L_FRAME_CHUNK_END,        /* the empty line after a chunk's data */
    S2L_FRAME_TRAILER,
    S2L_FRAME_FAILED,           /* after an error: nothing more is accepted */
} s2l_frame_state;

/* What the caller does with a line it handed over. */
typedef enum s2l_frame_action {
    S2L_FRAME_HOLD = 0,   /* part of the head: keep it; pass the whole head on at S2L_FRAME_HEAD_DONE,
                             followed by "Connection: keep-alive\r\n" when last_http10, then "\r\n" */
    S2L_FRAME_DROP,       /* not passed on (an empty line before a request, a Connection header, the
                             empty line that ends the head, a trailer) */
    S2L_FRAME_CHUNK,      /* a chunk size line: pass on "<chunk_size in hex>\r\n" instead (extensions gone) */
    S2L_FRAME_CRLF,       /* pass on "\r\n" instead (the end of a chunk, the end of the trailers) */
} s2l_frame_action;

/* Events of one call (bits). */
#define S2L_FRAME_HEAD_DONE 0x1u    /* the head ended and is valid */
#define S2L_FRAME_REQUEST_DONE 0x2u /* the request (head and body) ended */

typedef struct s2l_frame {
    s2l_frame_limits lim;
    s2l_frame_state state;
    size_t head_bytes;        /* of the current head or trailer section */
    uint64_t body_bytes;      /* data bytes of the current request so far */
    uint64_t remaining;       /* BODY, CHUNK_DATA: bytes still expected */
    uint64_t chunk_size;      /* after S2L_FRAME_CHUNK */
    uint64_t content_length;
    unsigned n_content_length, n_transfer_encoding, n_authorization, n_host;
    bool chunked;             /* Transfer-Encoding: chunked */
    bool no_body;             /* HEAD, TRACE: evhttp reads no body */
    bool known_method;
    bool http10;              /* HTTP/1.0 request line */
    bool head_method;         /* HEAD: an answer to it has no body (also an error answer) */
    bool conn_close, conn_keep_alive; /* Connection header tokens */
    unsigned requests;        /* completed so far */
    bool last_http10;         /* of the last head completed (kept until the next one) */
    bool last_close;          /* its client wants the connection closed after it */
} s2l_frame;

void s2l_frame_init(s2l_frame *f, const s2l_frame_limits *lim);

/* true: the scanner wants body bytes, at most *n of them; false: a line. */
bool s2l_frame_wants_data(const s2l_frame *f, uint64_t *n);

/* Whether bytes of a request have been seen and the request is not complete
 * (for timeouts): pending = bytes the caller holds that are not yet a whole
 * line. */
bool s2l_frame_in_head(const s2l_frame *f, size_t pending);
bool s2l_frame_in_body(const s2l_frame *f);

/* One line (line[0, len), without its LF; a final CR is allowed). Returns the
 * events (0 or S2L_FRAME_* bits) and sets *action; -1 with *err on a framing
 * error (the scanner is then FAILED). */
int s2l_frame_line(s2l_frame *f, const char *line, size_t len, s2l_frame_action *action, s2l_error *err);

/* n body bytes (n <= what s2l_frame_wants_data allowed). Returns the events. */
int s2l_frame_data(s2l_frame *f, uint64_t n);

/* No LF yet in the `pending` bytes the caller holds for the current line: -1
 * with *err when the line can no longer fit the limits, else 0. */
int s2l_frame_partial(s2l_frame *f, size_t pending, s2l_error *err);

#endif
