/* harness_http.c — a small blocking HTTP/1.1 client over plain sockets, for
 * driving the gateway the way an IdP does (and the way no IdP should), plus
 * JSON path and URL-encoding helpers. See harness.h for the contract. */
#include "harness_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

static int timeout_ms_(void)
{
    const char *v = getenv("S2L_HTTP_TIMEOUT_MS");
    long ms = v ? strtol(v, NULL, 10) : 0;

    return ms > 0 && ms < 24L * 3600 * 1000 ? (int)ms : (int)(60000 * h_deadline_scale_());
}

static int remaining_(double deadline)
{
    double left = deadline - h_now_ms();

    return left <= 0 ? 0 : (int)left + 1;
}

static void set_err_(h_resp *r, const char *what, int err)
{
    if (!r->err[0])
        snprintf(r->err, sizeof r->err, "%s%s%s", what, err ? ": " : "", err ? strerror(err) : "");
}

/* Non-blocking connect bounded by the deadline; the socket stays non-blocking. */
static int connect_(const h_gw *g, double deadline, h_resp *r)
{
    struct sockaddr_in a = {0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct pollfd pfd;
    int err = 0;
    socklen_t elen = sizeof err;

    if (fd < 0) {
        set_err_(r, "socket", errno);
        return -1;
    }
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)g->port);
    if (inet_pton(AF_INET, g->host, &a.sin_addr) != 1) {
        set_err_(r, "bad IPv4 address", 0);
        goto fail;
    }
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
        return fd;
    if (errno != EINPROGRESS) {
        set_err_(r, "connect", errno);
        goto fail;
    }
    pfd.fd = fd;
    pfd.events = POLLOUT;
    if (poll(&pfd, 1, remaining_(deadline)) <= 0) {
        set_err_(r, "connect timed out", 0);
        goto fail;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err) {
        set_err_(r, "connect", err ? err : errno);
        goto fail;
    }
    return fd;
fail:
    close(fd);
    return -1;
}

/* Sends everything or stops at the first error (the server may answer early,
 * e.g. 413, and close: the caller still reads that answer). The reason goes to
 * err, reported only if no answer comes. */
static int send_all_(int fd, const char *p, size_t n, double deadline, char *err, size_t errlen)
{
    while (n) {
        struct pollfd pfd = {fd, POLLOUT, 0};
        ssize_t w;

        if (poll(&pfd, 1, remaining_(deadline)) <= 0) {
            snprintf(err, errlen, "send timed out");
            return -1;
        }
        w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            snprintf(err, errlen, "send: %s", strerror(errno));
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ------------------------------------------------------------------ response parsing */

static int add_header_(h_resp *r, const char *name, size_t nlen, const char *value, size_t vlen)
{
    h_header_kv *p = realloc(r->headers, (r->n_headers + 1) * sizeof *p);

    if (!p)
        return -1;
    r->headers = p;
    while (vlen && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
        vlen--;
    while (vlen && (*value == ' ' || *value == '\t')) {
        value++;
        vlen--;
    }
    p[r->n_headers].name = strndup(name, nlen);
    p[r->n_headers].value = strndup(value, vlen);
    if (!p[r->n_headers].name || !p[r->n_headers].value) {
        free(p[r->n_headers].name);
        free(p[r->n_headers].value);
        return -1;
    }
    r->n_headers++;
    return 0;
}

static void free_headers_(h_resp *r)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    r->headers = NULL;
    r->n_headers = 0;
}

/* Parses the status line and headers in buf[0, head_len). */
static int parse_head_(h_resp *r, const char *buf, size_t head_len)
{
    const char *p = buf, *end = buf + head_len;
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    int status = 0;

    free_headers_(r);
    if (!eol || (size_t)(eol - p) < 12 || strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
        !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) || !isdigit((unsigned char)p[11])) {
        set_err_(r, "malformed status line", 0);
        return -1;
    }
    status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    for (p = eol + 1; p < end; p = eol + 1) {
        const char *colon;
        size_t len;

        eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        len = (size_t)(eol - p);
        if (len && p[len - 1] == '\r')
            len--;
        if (len == 0)
            break;
        colon = memchr(p, ':', len);
        if (!colon) {
            set_err_(r, "malformed header line", 0);
            return -1;
        }
        if (add_header_(r, p, (size_t)(colon - p), colon + 1, len - (size_t)(colon - p) - 1)) {
            set_err_(r, "out of memory", 0);
            return -1;
        }
    }
    r->status = status;
    return 0;
}

/* Decodes a chunked body from in[0, n). 1 = complete (out holds the body),
 * 0 = need more bytes, -1 = malformed. */
static int dechunk_(const char *in, size_t n, h_buf *out)
{
    size_t pos = 0;

    out->len = 0;
    for (;;) {
        const char *eol = memchr(in + pos, '\n', n - pos);
        char *endp;
        unsigned long long size;

        if (!eol)
            return 0;
        errno = 0;
        size = strtoull(in + pos, &endp, 16);
        if (endp == in + pos || errno)
            return -1;
        pos = (size_t)(eol - in) + 1;
        if (size == 0) {
            /* Trailers, then an empty line. */
            for (;;) {
                const char *t = memchr(in + pos, '\n', n - pos);

                if (!t)
                    return 0;
                if (t == in + pos || (t == in + pos + 1 && in[pos] == '\r'))
                    return 1;
                pos = (size_t)(t - in) + 1;
            }
        }
        if (size > n - pos)
            return 0;
        if (h_buf_add_(out, in + pos, (size_t)size))
            return -1;
        pos += (size_t)size;
        if (n - pos < 2)
            return 0;
        if (in[pos] == '\r')
            pos++;
        if (in[pos] != '\n')
            return -1;
        pos++;
    }
}

/* Reads until one full response is in (or EOF / deadline). */
static void read_response_(int fd, h_resp *r, bool head_request, double deadline)
{
    h_buf in = {0}, body = {0};
    size_t head_len = 0;
    bool have_head = false, eof = false, done = false;
    const char *te, *cl;
    char chunk[65536];

    while (!done) {
        if (!eof) {
            struct pollfd pfd = {fd, POLLIN, 0};
            ssize_t got;
            int pr = poll(&pfd, 1, remaining_(deadline));

            if (pr == 0) {
                set_err_(r, "timed out waiting for the response", 0);
                break;
            }
            if (pr < 0 && errno != EINTR) {
                set_err_(r, "poll", errno);
                break;
            }
            got = recv(fd, chunk, sizeof chunk, 0);
            if (got < 0) {
                if (errno == EINTR || errno == EAGAIN)
                    continue;
                /* A reset after a complete response (server closed with unread input) is fine. */
                if (errno != ECONNRESET || !in.len) {
                    set_err_(r, "recv", errno);
                    break;
                }
                eof = true;
            } else if (got == 0) {
                eof = true;
            } else if (h_buf_add_(&in, chunk, (size_t)got)) {
                set_err_(r, "response too large", 0);
                break;
            }
        }
        if (!have_head) {
            char *sep = in.len ? strstr(in.p, "\r\n\r\n") : NULL;
            size_t sep_len = 4;

            if (!sep && in.len) {
                sep = strstr(in.p, "\n\n");
                sep_len = 2;
            }
            if (!sep) {
                if (eof) {
                    set_err_(r, in.len ? "connection closed inside the response head"
                                       : "connection closed without a response", 0);
                    break;
                }
                continue;
            }
            head_len = (size_t)(sep - in.p) + sep_len;
            if (parse_head_(r, in.p, head_len))
                break;
            if (r->status >= 100 && r->status < 200) {
                /* Interim response (100 Continue): drop it and wait for the real one. */
                memmove(in.p, in.p + head_len, in.len - head_len + 1);
                in.len -= head_len;
                r->status = 0;
                continue;
            }
            have_head = true;
        }
        te = h_header(r, "Transfer-Encoding");
        cl = h_header(r, "Content-Length");
        if (head_request || r->status == 204 || r->status == 304) {
            done = true;
        } else if (te && h_strcasestr_(te, "chunked")) {
            int d = dechunk_(in.p + head_len, in.len - head_len, &body);

            if (d < 0) {
                set_err_(r, "malformed chunked body", 0);
                break;
            }
            if (d == 1) {
                done = true;
                break;
            }
        } else if (cl) {
            char *endp;
            unsigned long long want = strtoull(cl, &endp, 10);

            if (endp == cl || *endp) {
                set_err_(r, "malformed Content-Length", 0);
                break;
            }
            if (in.len - head_len >= want) {
                if (in.len - head_len > want)
                    set_err_(r, "more bytes than Content-Length", 0);
                h_buf_add_(&body, in.p + head_len, (size_t)want);
                done = true;
                break;
            }
        } else if (eof) {
            h_buf_add_(&body, in.p + head_len, in.len - head_len);
            done = true;
            break;
        }
        if (eof && !done) {
            set_err_(r, "connection closed inside the body", 0);
            break;
        }
    }
    if (!done) {
        /* A partial answer is no answer: tests compare statuses. */
        r->status = 0;
    }
    if (h_buf_add_(&body, "", 0) == 0) {
        r->body = body.p;
        r->body_len = body.len;
        body.p = NULL;
    }
    if (done && r->body_len)
        r->json = json_loadb(r->body, r->body_len, 0, NULL);
    h_buf_fini_(&body);
    h_buf_fini_(&in);
}

/* ------------------------------------------------------------------ requests */

static const char *given_header_(const char *const *extra, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; extra && extra[i]; i++) {
        if (strncasecmp(extra[i], name, n) == 0 && extra[i][n] == ':')
            return extra[i] + n + 1;
    }
    return NULL;
}

static bool is_blank_(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '\0';
}

static h_resp exchange_(h_gw *g, const char *method, const char *target, const char *req, size_t req_len,
                        bool head_request)
{
    h_resp r = {0};
    double start = h_now_ms(), deadline = start + timeout_ms_();
    char send_err[96] = "";
    int fd;

    r.method = h_strdup_(method);
    r.target = h_strdup_(target);
    fd = connect_(g, deadline, &r);
    if (fd < 0)
        return r;
    /* On a send error the server may still have answered (413, 400): read it. */
    if (send_all_(fd, req, req_len, deadline, send_err, sizeof send_err) != 0)
        shutdown(fd, SHUT_WR);
    read_response_(fd, &r, head_request, deadline);
    if (!r.status && send_err[0])
        snprintf(r.err, sizeof r.err, "%s", send_err);
    close(fd);
    r.ms = h_now_ms() - start;
    return r;
}

h_resp h_http_at(h_gw *g, const char *method, const char *path_and_query, const char *body,
                 const char *const *extra_headers)
{
    h_buf req = {0};
    const char *v;
    size_t body_len = body ? strlen(body) : 0;
    bool wants_body = body || strcasecmp(method, "POST") == 0 || strcasecmp(method, "PUT") == 0 ||
                      strcasecmp(method, "PATCH") == 0;
    h_resp r;

    h_buf_printf_(&req, "%s %s HTTP/1.1\r\n", method, path_and_query);
    if (!given_header_(extra_headers, "Host"))
        h_buf_printf_(&req, "Host: %s:%d\r\n", g->host, g->port);
    v = given_header_(extra_headers, "Authorization");
    if (!v)
        h_buf_printf_(&req, "Authorization: Bearer %s\r\n", g->token);
    if (body && !given_header_(extra_headers, "Content-Type"))
        h_buf_str_(&req, "Content-Type: application/scim+json\r\n");
    if (wants_body && !given_header_(extra_headers, "Content-Length") &&
        !given_header_(extra_headers, "Transfer-Encoding"))
        h_buf_printf_(&req, "Content-Length: %zu\r\n", body_len);
    if (!given_header_(extra_headers, "Connection"))
        h_buf_str_(&req, "Connection: close\r\n");
    for (size_t i = 0; extra_headers && extra_headers[i]; i++) {
        const char *colon = strchr(extra_headers[i], ':');

        /* "Name:" with nothing after it suppresses that header. */
        if (colon && is_blank_(colon + 1))
            continue;
        h_buf_printf_(&req, "%s\r\n", extra_headers[i]);
    }
    h_buf_str_(&req, "\r\n");
    if (body)
        h_buf_add_(&req, body, body_len);
    if (req.oom) {
        h_resp fail = {0};

        snprintf(fail.err, sizeof fail.err, "out of memory building the request");
        h_buf_fini_(&req);
        return fail;
    }
    r = exchange_(g, method, path_and_query, req.p, req.len, strcasecmp(method, "HEAD") == 0);
    h_buf_fini_(&req);
    return r;
}

h_resp h_http(h_gw *g, const char *method, const char *path_and_query, const char *body,
              const char *const *extra_headers)
{
    char *target = h_asprintf_("%s%s", g->base_path, path_and_query);
    h_resp r = h_http_at(g, method, target, body, extra_headers);

    free(target);
    return r;
}

h_resp h_http_json(h_gw *g, const char *method, const char *path_and_query, const json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    h_resp r;

    if (body && !text) {
        h_resp fail = {0};

        snprintf(fail.err, sizeof fail.err, "cannot serialise the JSON body");
        return fail;
    }
    r = h_http(g, method, path_and_query, text, NULL);
    free(text);
    return r;
}

h_resp h_http_raw(h_gw *g, const void *request, size_t len)
{
    const char *sp = memchr(request, ' ', len < 32 ? len : 32);
    char method[32] = "RAW";

    if (sp && (size_t)(sp - (const char *)request) < sizeof method)
        snprintf(method, sizeof method, "%.*s", (int)(sp - (const char *)request), (const char *)request);
    return exchange_(g, method, "(raw request)", request, len, strcmp(method, "HEAD") == 0);
}

const char *h_header(const h_resp *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    }
    return NULL;
}

void h_resp_free(h_resp *r)
{
    free_headers_(r);
    free(r->body);
    free(r->method);
    free(r->target);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------ helpers */

char *h_urlencode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1), *o = out;

    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

/* Object keys may hold dots ("urn:...:2.0:User"): at each step the longest key
 * that matches a prefix of the remaining path wins. */
json_t *h_jget(const json_t *j, const char *path)
{
    const char *p = path;

    while (j && *p) {
        if (*p == '[') {
            char *end;
            unsigned long idx = strtoul(p + 1, &end, 10);

            if (end == p + 1 || *end != ']')
                return NULL;
            j = json_array_get(j, idx);
            p = end + 1;
        } else {
            const char *stop = p + strlen(p);
            json_t *found = NULL;

            if (*p == '.')
                p++;
            for (;;) {
                char *key = strndup(p, (size_t)(stop - p));

                if (!key)
                    return NULL;
                found = json_object_get(j, key);
                free(key);
                if (found || stop == p)
                    break;
                /* Retry with a shorter key, cut at the previous '.' or '['. */
                do
                    stop--;
                while (stop > p && *stop != '.' && *stop != '[');
                if (stop == p)
                    break;
            }
            if (!found)
                return NULL;
            j = found;
            p = stop;
        }
    }
    return (json_t *)j;
}

const char *h_jstr(const json_t *j, const char *path)
{
    return json_string_value(h_jget(j, path));
}

long long h_jint(const json_t *j, const char *path, long long missing)
{
    const json_t *v = h_jget(j, path);

    return json_is_integer(v) ? (long long)json_integer_value(v) : missing;
}
