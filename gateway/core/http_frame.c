/* http_frame.c — HTTP/1.1 request framing checks (see include/s2l/http_frame.h). */
#include "s2l/http_frame.h"

#include <string.h>
#include <strings.h>

/* A chunk size line with extensions longer than this is refused. */
#define CHUNK_LINE_MAX 4096

/* The methods evhttp parses (http.c, evhttp_parse_request_line); any other
 * would get its HTML 501. HEAD and TRACE are read without a body. */
static const struct {
    const char *name;
    bool no_body;
} methods[] = {{"GET", false},    {"POST", false},    {"PUT", false},   {"PATCH", false}, {"DELETE", false},
               {"OPTIONS", false}, {"CONNECT", false}, {"HEAD", true},    {"TRACE", true}};

static void reset_request(s2l_frame *f)
{
    s2l_frame_limits lim = f->lim;
    unsigned requests = f->requests;
    bool http10 = f->last_http10, close = f->last_close;
    *f = (s2l_frame){.lim = lim, .requests = requests, .state = S2L_FRAME_REQUEST_LINE, .last_http10 = http10,
                     .last_close = close};
}

void s2l_frame_init(s2l_frame *f, const s2l_frame_limits *lim)
{
    *f = (s2l_frame){.lim = *lim};
    reset_request(f);
}

bool s2l_frame_wants_data(const s2l_frame *f, uint64_t *n)
{
    if (f->state == S2L_FRAME_BODY || f->state == S2L_FRAME_CHUNK_DATA) {
        *n = f->remaining;
        return true;
    }
    *n = 0;
    return false;
}

bool s2l_frame_in_head(const s2l_frame *f, size_t pending)
{
    return f->state == S2L_FRAME_HEADER || (f->state == S2L_FRAME_REQUEST_LINE && (pending > 0 || f->head_bytes > 0));
}

bool s2l_frame_in_body(const s2l_frame *f)
{
    return f->state == S2L_FRAME_BODY || f->state == S2L_FRAME_CHUNK_SIZE || f->state == S2L_FRAME_CHUNK_DATA ||
           f->state == S2L_FRAME_CHUNK_END || f->state == S2L_FRAME_TRAILER;
}

static int fail(s2l_frame *f, s2l_error *err, int status, const char *scim_type, const char *what)
{
    f->state = S2L_FRAME_FAILED;
    s2l_error_set(err, status, scim_type, "%s", what);
    return -1;
}

static int too_long(s2l_frame *f, s2l_error *err)
{
    if (f->state == S2L_FRAME_REQUEST_LINE)
        return fail(f, err, 414, NULL, "the request line is longer than limits.max_header_bytes");
    if (f->state == S2L_FRAME_TRAILER)
        return fail(f, err, 431, NULL, "the trailer section is longer than limits.max_header_bytes");
    return fail(f, err, 431, NULL, "the request headers are longer than limits.max_header_bytes");
}

int s2l_frame_partial(s2l_frame *f, size_t pending, s2l_error *err)
{
    switch (f->state) {
    case S2L_FRAME_REQUEST_LINE:
    case S2L_FRAME_HEADER:
    case S2L_FRAME_TRAILER:
        if (pending > f->lim.max_head || f->head_bytes + pending > f->lim.max_head)
            return too_long(f, err);
        return 0;
    case S2L_FRAME_CHUNK_SIZE:
    case S2L_FRAME_CHUNK_END:
        if (pending > CHUNK_LINE_MAX)
            return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "malformed chunked body: a chunk size line is too long");
        return 0;
    default:
        return 0;
    }
}

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Checks the bytes of a line (without LF): a final CR is removed from *len;
 * NUL, another CR and control bytes other than HTAB are errors. */
static int check_bytes(s2l_frame *f, const char *line, size_t *len, s2l_error *err)
{
    if (*len > 0 && line[*len - 1] == '\r')
        (*len)--;
    for (size_t i = 0; i < *len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c == 0)
            return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "the request line or a header holds a NUL byte");
        if (c == '\r')
            return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "a CR byte that does not end a line");
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX,
                        "the request line or a header holds a control character");
    }
    return 0;
}

static bool eq_ci(const char *a, size_t alen, const char *b)
{
    return alen == strlen(b) && strncasecmp(a, b, alen) == 0;
}

static int request_line(s2l_frame *f, const char *line, size_t len, s2l_error *err)
{
    const char *sp1 = memchr(line, ' ', len);
    if (sp1 == NULL || sp1 == line)
        return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "malformed request line");
    size_t mlen = (size_t)(sp1 - line);
    for (size_t i = 0; i < mlen; i++)
        if (!is_tchar((unsigned char)line[i]))
            return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "malformed request line");
    const char *target = sp1 + 1, *end = line + len;
    const char *sp2 = memchr(target, ' ', (size_t)(end - target));
    if (sp2 == NULL || sp2 == target)
        return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "malformed request line");
    const char *version = sp2 + 1;
    size_t vlen = (size_t)(end - version);
    if (memchr(version, ' ', vlen) != NULL || memchr(version, '\t', vlen) != NULL ||
        memchr(target, '\t', (size_t)(sp2 - target)) != NULL)
        return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "malformed request line");
    if (!(vlen == 8 && (memcmp(version, "HTTP/1.1", 8) == 0 || memcmp(version, "HTTP/1.0", 8) == 0))) {
        if (vlen >= 5 && memcmp(version, "HTTP/", 5) == 0)
            return fail(f, err, 505, NULL, "only HTTP/1.0 and HTTP/1.1 are supported");
        return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "malformed request line");
    }
    f->http10 = version[7] == '0';
    size_t tlen = (size_t)(sp2 - target);
    bool origin = target[0] == '/';
    bool asterisk = tlen == 1 && target[0] == '*';
    bool absolute = (tlen > 7 && strncasecmp(target, "http://", 7) == 0) ||
                    (tlen > 8 && strncasecmp(target, "https://", 8) == 0);
    if (!origin && !asterisk && !absolute)
        return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "malformed request target");
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        if (mlen == strlen(methods[i].name) && memcmp(line, methods[i].name, mlen) == 0) {
            f->known_method = true;
            f->no_body = methods[i].no_body;
            f->head_method = strcmp(methods[i].name, "HEAD") == 0;
        }
    }
    if (!f->known_method)
        return fail(f, err, 501, NULL, "the request method is not supported");
    f->state = S2L_FRAME_HEADER;
    return 0;
}

/* "name: value" into its parts; -1 when malformed. */
static int split_field(const char *line, size_t len, const char **value, size_t *vlen, size_t *nlen)
{
    const char *colon = memchr(line, ':', len);
    if (colon == NULL || colon == line)
        return -1;
    *nlen = (size_t)(colon - line);
    for (size_t i = 0; i < *nlen; i++)
        if (!is_tchar((unsigned char)line[i]))
            return -1;
    const char *v = colon + 1, *e = line + len;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *value = v;
    *vlen = (size_t)(e - v);
    return 0;
}

/* The tokens of a Connection header that matter here. */
static void connection_tokens(s2l_frame *f, const char *v, size_t vlen)
{
    const char *p = v, *end = v + vlen;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        const char *t = p;
        while (p < end && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        if (eq_ci(t, (size_t)(p - t), "close"))
            f->conn_close = true;
        else if (eq_ci(t, (size_t)(p - t), "keep-alive"))
            f->conn_keep_alive = true;
    }
}

/* 0: pass the line on, 1: drop it (Connection), -1: error. */
static int header_line(s2l_frame *f, const char *line, size_t len, s2l_error *err)
{
    if (line[0] == ' ' || line[0] == '\t')
        return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "a header is continued on a second line (obs-fold)");
    const char *v;
    size_t vlen, nlen;
    if (split_field(line, len, &v, &vlen, &nlen) < 0)
        return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "malformed header line");
    if (eq_ci(line, nlen, "Content-Length")) {
        if (++f->n_content_length > 1)
            return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "more than one Content-Length header");
        if (vlen == 0 || vlen > 18)
            return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "Content-Length is not a plain number");
        uint64_t n = 0;
        for (size_t i = 0; i < vlen; i++) {
            if (v[i] < '0' || v[i] > '9')
                return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "Content-Length is not a plain number");
            n = n * 10 + (uint64_t)(v[i] - '0');
        }
        f->content_length = n;
    } else if (eq_ci(line, nlen, "Transfer-Encoding")) {
        if (++f->n_transfer_encoding > 1)
            return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "more than one Transfer-Encoding header");
        if (!eq_ci(v, vlen, "chunked"))
            return fail(f, err, 501, NULL, "the only transfer coding supported is chunked");
        f->chunked = true;
    } else if (eq_ci(line, nlen, "Authorization")) {
        if (++f->n_authorization > 1)
            return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "more than one Authorization header");
    } else if (eq_ci(line, nlen, "Host")) {
        if (++f->n_host > 1)
            return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "more than one Host header");
    } else if (eq_ci(line, nlen, "Expect")) {
        if (!eq_ci(v, vlen, "100-continue"))
            return fail(f, err, 417, NULL, "the only expectation supported is 100-continue");
    } else if (eq_ci(line, nlen, "Connection")) {
        connection_tokens(f, v, vlen);
        return 1;
    }
    return 0;
}

/* The empty line after the headers: how the body is framed. */
static int head_done(s2l_frame *f, s2l_error *err)
{
    if (f->chunked && f->n_content_length)
        return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "both Content-Length and Transfer-Encoding");
    if (f->no_body && (f->chunked || f->content_length > 0))
        return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "a HEAD or TRACE request cannot have a body");
    if (f->content_length > f->lim.max_body)
        return fail(f, err, 413, NULL, "the request body is larger than the limit");
    f->last_http10 = f->http10;
    f->last_close = f->conn_close || (f->http10 && !f->conn_keep_alive);
    f->head_bytes = 0;
    f->body_bytes = 0;
    if (f->chunked) {
        f->state = S2L_FRAME_CHUNK_SIZE;
        return S2L_FRAME_HEAD_DONE;
    }
    if (f->content_length > 0) {
        f->state = S2L_FRAME_BODY;
        f->remaining = f->content_length;
        return S2L_FRAME_HEAD_DONE;
    }
    f->requests++;
    reset_request(f);
    return S2L_FRAME_HEAD_DONE | S2L_FRAME_REQUEST_DONE;
}

static int chunk_size_line(s2l_frame *f, const char *line, size_t len, s2l_error *err)
{
    uint64_t n = 0;
    size_t i = 0;
    for (; i < len; i++) {
        char c = line[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            break;
        if (n > (UINT64_MAX >> 4))
            return fail(f, err, 413, NULL, "the request body is larger than the limit");
        n = n * 16 + (uint64_t)d;
    }
    if (i == 0)
        return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "malformed chunked body: a chunk size is not a hex number");
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i < len && line[i] != ';')
        return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "malformed chunked body: a chunk size is not a hex number");
    if (n > f->lim.max_body - f->body_bytes)
        return fail(f, err, 413, NULL, "the request body is larger than the limit");
    f->chunk_size = n;
    f->body_bytes += n;
    if (n == 0) {
        f->state = S2L_FRAME_TRAILER;
        f->head_bytes = 0;
    } else {
        f->state = S2L_FRAME_CHUNK_DATA;
        f->remaining = n;
    }
    return 0;
}

int s2l_frame_line(s2l_frame *f, const char *line, size_t len, s2l_frame_action *action, s2l_error *err)
{
    *action = S2L_FRAME_DROP;
    if (f->state == S2L_FRAME_FAILED)
        return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "the connection had a framing error");
    if (f->state == S2L_FRAME_BODY || f->state == S2L_FRAME_CHUNK_DATA)
        return fail(f, err, 500, NULL, "a line where body data was expected"); /* the caller's mistake */
    size_t raw_len = len + 1; /* with its LF */
    bool head = f->state == S2L_FRAME_REQUEST_LINE || f->state == S2L_FRAME_HEADER || f->state == S2L_FRAME_TRAILER;
    if (head && (f->head_bytes + raw_len > f->lim.max_head))
        return too_long(f, err);
    if (f->state == S2L_FRAME_CHUNK_SIZE || f->state == S2L_FRAME_CHUNK_END) {
        if (raw_len > CHUNK_LINE_MAX)
            return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "malformed chunked body: a chunk size line is too long");
    }
    if (check_bytes(f, line, &len, err) < 0)
        return -1;
    if (head)
        f->head_bytes += raw_len;

    switch (f->state) {
    case S2L_FRAME_REQUEST_LINE:
        if (len == 0)
            return 0; /* an empty line before a request (RFC 9112 §2.2): dropped */
        *action = S2L_FRAME_HOLD;
        return request_line(f, line, len, err);
    case S2L_FRAME_HEADER: {
        if (len == 0)
            return head_done(f, err); /* DROP: the caller ends the head itself */
        int rc = header_line(f, line, len, err);
        if (rc == 0)
            *action = S2L_FRAME_HOLD;
        return rc < 0 ? -1 : 0;
    }
    case S2L_FRAME_CHUNK_SIZE:
        if (chunk_size_line(f, line, len, err) < 0)
            return -1;
        *action = S2L_FRAME_CHUNK;
        return 0;
    case S2L_FRAME_CHUNK_END:
        if (len != 0)
            return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "malformed chunked body: a chunk is longer than its size");
        *action = S2L_FRAME_CRLF;
        f->state = S2L_FRAME_CHUNK_SIZE;
        return 0;
    case S2L_FRAME_TRAILER: {
        if (len == 0) {
            *action = S2L_FRAME_CRLF;
            f->requests++;
            reset_request(f);
            return S2L_FRAME_REQUEST_DONE;
        }
        const char *v;
        size_t vlen, nlen;
        if (line[0] == ' ' || line[0] == '\t' || split_field(line, len, &v, &vlen, &nlen) < 0)
            return fail(f, err, 400, S2L_SCIM_INVALID_SYNTAX, "malformed chunked body: a malformed trailer");
        return 0; /* trailers are dropped: evhttp would add them to the request's headers */
    }
    default:
        return fail(f, err, 500, NULL, "unexpected framing state");
    }
}

int s2l_frame_data(s2l_frame *f, uint64_t n)
{
    if ((f->state != S2L_FRAME_BODY && f->state != S2L_FRAME_CHUNK_DATA) || n > f->remaining)
        return 0; /* the caller's mistake: ignored */
    f->remaining -= n;
    if (f->state == S2L_FRAME_BODY)
        f->body_bytes += n;
    if (f->remaining > 0)
        return 0;
    if (f->state == S2L_FRAME_CHUNK_DATA) {
        f->state = S2L_FRAME_CHUNK_END;
        return 0;
    }
    f->requests++;
    reset_request(f);
    return S2L_FRAME_REQUEST_DONE;
}
