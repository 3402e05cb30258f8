/* loadgen.c — the SCIM HTTP/1.1 load generator of the benchmarks.
 *
 * Closed loop: C keep-alive connections, each sending its next request as soon
 * as the previous answer is complete, so C requests are outstanding at all
 * times. All connections are open before the clock starts. A run ends when
 * `count` requests were issued or `duration` passed (then the outstanding ones
 * are awaited, at most `timeout`), whichever comes first; every loop here is
 * bounded by both. Loopback only.
 *
 * Output: one tab-separated row appended to --out (the columns are in
 * print_row) and a readable summary on stderr. With --pid, the gateway's CPU
 * time (utime+stime delta over the measured window) and VmHWM/VmRSS after it
 * are part of the row; with --slapd-pid, slapd's CPU time too.
 *
 * Scenarios (the request number i picks the entry):
 *   post-users   POST /Users userName=<prefix>-<i> (name, displayName, a work email, externalId,
 *                active; bench_scim.h); writes "<userName>\t<id>" lines to --ids
 *   get-filter   GET /Users?filter=userName eq "<name i>"         (names from --ids)
 *   get-id       GET /Users/<id i>
 *   patch-user   PATCH /Users/<id i>, replace displayName and name.givenName (cn's fallback
 *                uses both: the gateway reads the entry first)
 *   patch-title  PATCH /Users/<id i>, replace title and employeeNumber (no stored value
 *                matters: one modify on the cached DN, update.c)
 *   put-user     PUT /Users/<id i>: the user's whole profile as post-users created it (same
 *                userName: no rename; id and "groups": [] as Okta sends them), with displayName
 *                and title carrying i, so every PUT changes something; the answer must be 200
 *                (Okta and OneLogin update profiles this way: full replace)
 *   patch-group  PATCH /Groups/<--group-id>, add member <id i> (each id once)
 *   delete-user  DELETE /Users/<id i> (each id once)
 *   get-path     GET --path (as given, query included), again and again: e.g. one list page
 *   request      one request (--method, --path, --body); prints the status and body
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <jansson.h>

#include "bench_hist.h"
#include "bench_http.h"
#include "bench_proc.h"
#include "bench_scim.h"

#define MAX_CONCURRENCY 4096ul
#define MAX_COUNT 100000000ul
#define MAX_IDS 10000000ul
#define MAX_NAME 256u            /* userName / id length accepted from the ids file */
#define MAX_BODY 4096u           /* request body */
#define MAX_ERRORS_SHOWN 5u
#define TICK_MS 100

typedef enum {
    SC_POST_USERS,
    SC_GET_FILTER,
    SC_GET_ID,
    SC_PATCH_USER,
    SC_PATCH_TITLE,
    SC_PUT_USER,
    SC_PATCH_GROUP,
    SC_DELETE_USER,
    SC_GET_PATH,
    SC_REQUEST,
    SC_GET_PAGE,
} scenario;

static const struct {
    const char *name;
    scenario sc;
    bool needs_ids;
    bool ids_once;   /* each id used by at most one request */
} scenarios[] = {
    {"post-users", SC_POST_USERS, false, false},
    {"get-filter", SC_GET_FILTER, true, false},
    {"get-id", SC_GET_ID, true, false},
    {"patch-user", SC_PATCH_USER, true, false},
    {"patch-title", SC_PATCH_TITLE, true, false},
    {"put-user", SC_PUT_USER, true, false},
    {"patch-group", SC_PATCH_GROUP, true, true},
    {"delete-user", SC_DELETE_USER, true, true},
    {"get-path", SC_GET_PATH, false, false},
    {"request", SC_REQUEST, false, false},
    {"get-page", SC_GET_PAGE, false, false},
};

typedef enum { C_CONNECTING, C_BUSY, C_IDLE, C_DEAD } conn_state;

struct lg;

typedef struct lg_conn {
    struct lg *lg;
    struct bufferevent *bev;
    s2l_bench_http_resp resp;
    conn_state state;
    size_t idx;          /* request in flight */
    uint64_t t0_us;
} lg_conn;

typedef struct lg_opts {
    const char *host;
    unsigned long port;
    const char *base_path;
    const char *token;
    unsigned long concurrency;
    unsigned long count;
    double duration_s;
    double timeout_s;
    const char *prefix;
    const char *ids_path;
    const char *group_id;
    long pid, slapd_pid;
    const char *tag, *label, *out_path;
    const char *method, *path, *body;
    unsigned long items;     /* get-page: entries the page must hold */
    bool verify;
    bool quiet;
} lg_opts;

typedef struct lg {
    lg_opts o;
    scenario sc;
    const char *sc_name;
    struct event_base *base;
    struct event *tick;
    struct sockaddr_storage addr;
    int addrlen;
    char host_header[128];

    char **names, **ids;     /* from --ids (read) */
    size_t n_ids;
    char **new_ids;          /* post-users: id of request i, or NULL */

    lg_conn *conns;
    size_t n_conns;
    size_t live;             /* conns CONNECTING or BUSY */
    size_t connected;        /* during the connect phase */
    size_t connect_failures;
    unsigned long reconnects, reconnect_budget;
    bool running, stopping, finished;

    size_t next;             /* next request number */
    uint64_t t_start_us, t_last_us, t_connect_deadline_us, t_stop_us, t_abort_us;
    uint64_t ok, errors, timeouts;
    unsigned errors_shown;
    unsigned long status_counts[6];   /* by status class 0 (no answer), 1xx .. 5xx */
    s2l_bench_hist hist;
    s2l_bench_proc_sample gw0, gw1, sl0, sl1;
    char body_scratch[MAX_BODY];
    bool verify_failed;
    int request_status;      /* SC_REQUEST */
} lg;

static void conn_issue(lg_conn *c);
static void conn_open(lg_conn *c);
static void check_finished(lg *g);

/* ---------- ids file ---------- */

static void free_strv(char **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Names and ids go into request paths unescaped: only RFC 3986 unreserved characters. */
static bool url_safe(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '.' || c == '_' || c == '~'))
            return false;
    }
    return true;
}

/* Reads "<name>\t<id>" lines. Bounded by MAX_IDS lines of MAX_NAME bytes. */
static int load_ids(lg *g, const char *path)
{
    int rc = -1;
    size_t cap = 0;
    char line[2 * MAX_NAME + 4];
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            fprintf(stderr, "loadgen: %s: line %zu too long\n", path, g->n_ids + 1);
            goto out;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        char *tab = strchr(line, '\t');
        if (tab == NULL || tab == line || tab[1] == '\0') {
            fprintf(stderr, "loadgen: %s: line %zu is not <name>TAB<id>\n", path, g->n_ids + 1);
            goto out;
        }
        *tab = '\0';
        if (!url_safe(line) || !url_safe(tab + 1)) {
            fprintf(stderr, "loadgen: %s: line %zu: names and ids must be URL-safe\n", path, g->n_ids + 1);
            goto out;
        }
        if (g->n_ids == cap) {
            if (cap >= MAX_IDS) {
                fprintf(stderr, "loadgen: %s: more than %lu lines\n", path, MAX_IDS);
                goto out;
            }
            size_t ncap = cap ? cap * 2 : 1024;
            char **nn = realloc(g->names, ncap * sizeof *nn);
            if (nn == NULL)
                goto oom;
            g->names = nn;
            char **ni = realloc(g->ids, ncap * sizeof *ni);
            if (ni == NULL)
                goto oom;
            g->ids = ni;
            cap = ncap;
        }
        g->names[g->n_ids] = strdup(line);
        g->ids[g->n_ids] = strdup(tab + 1);
        if (g->names[g->n_ids] == NULL || g->ids[g->n_ids] == NULL) {
            free(g->names[g->n_ids]);
            free(g->ids[g->n_ids]);
            goto oom;
        }
        g->n_ids++;
    }
    if (ferror(f)) {
        fprintf(stderr, "loadgen: %s: read error\n", path);
        goto out;
    }
    rc = 0;
    goto out;
oom:
    fprintf(stderr, "loadgen: out of memory reading %s\n", path);
out:
    fclose(f);
    return rc;
}

static int write_ids(const lg *g, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < g->o.count; i++)
        if (g->new_ids[i])
            fprintf(f, "%s-%06zu\t%s\n", g->o.prefix, i, g->new_ids[i]);
    if (fclose(f) != 0) {
        fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---------- requests ---------- */

/* The body of request i into g->body_scratch; its length, or -1 if it does not fit. */
static int format_body(lg *g, size_t i, const char *id)
{
    int n = 0;
    s2l_bench_profile p;
    switch (g->sc) {
    case SC_POST_USERS:
        if (s2l_bench_profile_created(&p, g->o.prefix, i) != 0)
            return -1;
        return s2l_bench_user_json(g->body_scratch, sizeof g->body_scratch, &p, NULL, false);
    case SC_PUT_USER:
        if (s2l_bench_profile_changed(&p, g->names[i % g->n_ids], i) != 0)
            return -1;
        return s2l_bench_user_json(g->body_scratch, sizeof g->body_scratch, &p, id, true);
    case SC_PATCH_USER:
        n = snprintf(g->body_scratch, sizeof g->body_scratch,
                     "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],"
                     "\"Operations\":[{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"Patched %zu\"},"
                     "{\"op\":\"replace\",\"path\":\"name.givenName\",\"value\":\"Given%zu\"}]}",
                     i, i);
        break;
    case SC_PATCH_TITLE:
        n = snprintf(g->body_scratch, sizeof g->body_scratch,
                     "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],"
                     "\"Operations\":[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"Title %zu\"},"
                     "{\"op\":\"replace\",\"path\":\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
                     "employeeNumber\",\"value\":\"E%zu\"}]}",
                     i, i);
        break;
    case SC_PATCH_GROUP:
        n = snprintf(g->body_scratch, sizeof g->body_scratch,
                     "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],"
                     "\"Operations\":[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]}",
                     id);
        break;
    case SC_REQUEST:
        n = snprintf(g->body_scratch, sizeof g->body_scratch, "%s", g->o.body ? g->o.body : "");
        break;
    default:
        return 0;
    }
    return n >= 0 && (size_t)n < sizeof g->body_scratch ? n : -1;
}

/* Writes request i; -1 when it cannot be formed. */
static int write_request(lg *g, size_t i, struct evbuffer *out)
{
    const char *method = "GET";
    const char *name = g->n_ids ? g->names[i % g->n_ids] : NULL;
    const char *id = g->n_ids ? g->ids[i % g->n_ids] : NULL;
    const char *bp = g->o.base_path;
    int blen = 0;
    int rc;

    switch (g->sc) {
    case SC_POST_USERS:
        method = "POST";
        rc = evbuffer_add_printf(out, "POST %s/Users HTTP/1.1\r\n", bp);
        break;
    case SC_GET_FILTER:
        /* Names are URL-safe (checked when loaded): only the space and the quotes need escaping. */
        rc = evbuffer_add_printf(out, "GET %s/Users?filter=userName%%20eq%%20%%22%s%%22 HTTP/1.1\r\n", bp, name);
        break;
    case SC_GET_ID:
        rc = evbuffer_add_printf(out, "GET %s/Users/%s HTTP/1.1\r\n", bp, id);
        break;
    case SC_PATCH_USER:
    case SC_PATCH_TITLE:
        method = "PATCH";
        rc = evbuffer_add_printf(out, "PATCH %s/Users/%s HTTP/1.1\r\n", bp, id);
        break;
    case SC_PUT_USER:
        method = "PUT";
        rc = evbuffer_add_printf(out, "PUT %s/Users/%s HTTP/1.1\r\n", bp, id);
        break;
    case SC_PATCH_GROUP:
        method = "PATCH";
        rc = evbuffer_add_printf(out, "PATCH %s/Groups/%s HTTP/1.1\r\n", bp, g->o.group_id);
        break;
    case SC_DELETE_USER:
        method = "DELETE";
        rc = evbuffer_add_printf(out, "DELETE %s/Users/%s HTTP/1.1\r\n", bp, id);
        break;
    case SC_GET_PATH:
        rc = evbuffer_add_printf(out, "GET %s HTTP/1.1\r\n", g->o.path);
        break;
    case SC_REQUEST:
        method = g->o.method;
        rc = evbuffer_add_printf(out, "%s %s HTTP/1.1\r\n", g->o.method, g->o.path);
        break;
    case SC_GET_PAGE:
        rc = evbuffer_add_printf(out, "GET %s HTTP/1.1\r\n", g->o.path);
        break;
    default:
        return -1;
    }
    if (rc < 0)
        return -1;
    bool with_body = strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0 ||
                     strcmp(method, "PUT") == 0;
    if (with_body) {
        blen = format_body(g, i, id);
        if (blen < 0)
            return -1;
    }
    if (evbuffer_add_printf(out, "Host: %s\r\nAccept: application/scim+json\r\n", g->host_header) < 0)
        return -1;
    if (g->o.token && evbuffer_add_printf(out, "Authorization: Bearer %s\r\n", g->o.token) < 0)
        return -1;
    if (with_body) {
        if (evbuffer_add_printf(out, "Content-Type: application/scim+json\r\nContent-Length: %d\r\n\r\n",
                                blen) < 0 ||
            evbuffer_add(out, g->body_scratch, (size_t)blen) != 0)
            return -1;
    } else if (evbuffer_add(out, "\r\n", 2) != 0) {
        return -1;
    }
    return 0;
}

/* ---------- responses ---------- */

/* The body as a NUL-terminated string (malloc'd), or NULL. */
static char *body_string(struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    if (s == NULL)
        return NULL;
    evbuffer_copyout(b, s, n);
    s[n] = '\0';
    return s;
}

static void show_error(lg *g, size_t i, int status, const char *why, struct evbuffer *body)
{
    if (g->errors_shown >= MAX_ERRORS_SHOWN)
        return;
    g->errors_shown++;
    char snippet[301] = "";
    if (body) {
        ev_ssize_t n = evbuffer_copyout(body, snippet, sizeof snippet - 1);
        snippet[n > 0 ? n : 0] = '\0';
        for (char *p = snippet; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
    }
    fprintf(stderr, "loadgen: %s request %zu: status %d %s%s%s\n", g->sc_name, i, status, why ? why : "",
            snippet[0] ? " body: " : "", snippet);
}

/* Checks a successful answer where the scenario has something to check. */
static bool check_answer(lg *g, size_t i, struct evbuffer *body)
{
    bool ok = true;
    json_t *j = NULL;
    char *s = NULL;
    bool need_json = g->sc == SC_POST_USERS || g->sc == SC_GET_PAGE ||
                     (g->o.verify && (g->sc == SC_GET_FILTER || g->sc == SC_GET_ID || g->sc == SC_PUT_USER));
    if (!need_json)
        return true;
    s = body_string(body);
    if (s == NULL)
        return false;
    j = json_loads(s, 0, NULL);
    if (!json_is_object(j)) {
        ok = false;
        goto out;
    }
    if (g->sc == SC_POST_USERS) {
        const char *id = json_string_value(json_object_get(j, "id"));
        if (id == NULL || strlen(id) >= MAX_NAME || !url_safe(id)) {
            ok = false;
            goto out;
        }
        g->new_ids[i] = strdup(id);
        ok = g->new_ids[i] != NULL;
    } else if (g->sc == SC_GET_FILTER) {
        json_t *res = json_object_get(j, "Resources");
        ok = json_integer_value(json_object_get(j, "totalResults")) == 1 && json_array_size(res) == 1 &&
             json_is_string(json_object_get(json_array_get(res, 0), "userName")) &&
             strcasecmp(json_string_value(json_object_get(json_array_get(res, 0), "userName")),
                        g->names[i % g->n_ids]) == 0;
    } else if (g->sc == SC_GET_ID) {
        const char *id = json_string_value(json_object_get(j, "id"));
        ok = id && strcmp(id, g->ids[i % g->n_ids]) == 0;
    } else if (g->sc == SC_PUT_USER) {
        /* The user as replaced: same id and userName, the displayName and title just sent. */
        s2l_bench_profile p;
        const char *id = json_string_value(json_object_get(j, "id"));
        const char *un = json_string_value(json_object_get(j, "userName"));
        const char *dn = json_string_value(json_object_get(j, "displayName"));
        const char *ti = json_string_value(json_object_get(j, "title"));
        ok = s2l_bench_profile_changed(&p, g->names[i % g->n_ids], i) == 0 && id &&
             strcmp(id, g->ids[i % g->n_ids]) == 0 && un && strcasecmp(un, p.user_name) == 0 && dn &&
             strcmp(dn, p.display_name) == 0 && ti && strcmp(ti, p.title) == 0;
    } else if (g->sc == SC_GET_PAGE) {
        /* A list page is parsed whole, as any client must. */
        json_t *res = json_object_get(j, "Resources");
        json_int_t items = json_integer_value(json_object_get(j, "itemsPerPage"));
        ok = json_is_array(res) && items == (json_int_t)json_array_size(res) &&
             (g->o.items == 0 || json_array_size(res) == g->o.items);
    }
out:
    json_decref(j);
    free(s);
    return ok;
}

static void conn_close(lg_conn *c)
{
    if (c->bev)
        bufferevent_free(c->bev);
    c->bev = NULL;
}

/* Whether the request that just ended on c should be followed by another one. */
static bool more_work(const lg *g)
{
    return !g->stopping && g->next < g->o.count;
}

static void conn_done(lg_conn *c, int status, const char *why)
{
    lg *g = c->lg;
    uint64_t now = s2l_bench_now_us();
    uint64_t lat = now - c->t0_us;
    g->t_last_us = now;
    g->status_counts[status >= 100 && status < 600 ? status / 100 : 0]++;
    if (g->sc == SC_REQUEST)
        g->request_status = status;
    if (status >= 200 && status < 300) {
        /* A PUT answers the replaced resource: 200 (RFC 7644 §3.5.1), not 204. */
        if ((g->sc != SC_PUT_USER || status == 200) && check_answer(g, c->idx, c->resp.body)) {
            g->ok++;
            s2l_bench_hist_record(&g->hist, lat);
        } else {
            g->errors++;
            g->verify_failed = true;
            show_error(g, c->idx, status, "unexpected answer", c->resp.body);
        }
    } else {
        g->errors++;
        show_error(g, c->idx, status, why, status ? c->resp.body : NULL);
    }
    if (g->sc == SC_REQUEST && !g->o.quiet) {
        char *s = body_string(c->resp.body);
        printf("%d\n%s\n", status, s ? s : "");
        free(s);
    }
    c->state = C_IDLE;
    g->live--;
}

/* After a response or a failure: the next request, a reconnect, or rest. */
static void conn_continue(lg_conn *c, bool reusable)
{
    lg *g = c->lg;
    if (!more_work(g)) {
        if (!reusable)
            conn_close(c);
        check_finished(g);
        return;
    }
    if (reusable) {
        conn_issue(c);
        return;
    }
    conn_close(c);
    if (g->reconnects >= g->reconnect_budget) {
        c->state = C_DEAD;
        check_finished(g);
        return;
    }
    g->reconnects++;
    conn_open(c);
    check_finished(g);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    lg_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (c->state != C_BUSY) {
        /* Nothing was asked: an unsolicited answer means the stream is out of step. */
        evbuffer_drain(in, evbuffer_get_length(in));
        conn_close(c);
        c->state = C_DEAD;
        check_finished(c->lg);
        return;
    }
    s2l_bench_http_rc rc = s2l_bench_http_parse(&c->resp, in);
    if (rc == S2L_BENCH_HTTP_MORE)
        return;
    if (rc == S2L_BENCH_HTTP_ERROR) {
        conn_done(c, 0, c->resp.error);
        conn_continue(c, false);
        return;
    }
    bool reusable = !c->resp.close && evbuffer_get_length(in) == 0;
    conn_done(c, c->resp.status, NULL);
    conn_continue(c, reusable);
}

static void set_nodelay(struct bufferevent *bev)
{
    int one = 1;
    evutil_socket_t fd = bufferevent_getfd(bev);
    if (fd >= 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void start_run(lg *g)
{
    g->running = true;
    s2l_bench_proc_read((pid_t)g->o.pid, &g->gw0);
    s2l_bench_proc_read((pid_t)g->o.slapd_pid, &g->sl0);
    g->t_start_us = s2l_bench_now_us();
    g->t_last_us = g->t_start_us;
    g->t_stop_us = g->t_start_us + (uint64_t)(g->o.duration_s * 1e6);
    g->t_abort_us = g->t_stop_us + (uint64_t)(g->o.timeout_s * 1e6);
    for (size_t i = 0; i < g->n_conns; i++) {
        lg_conn *c = &g->conns[i];
        if (c->state == C_IDLE && c->bev) {
            if (more_work(g))
                conn_issue(c);
        }
    }
    check_finished(g);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    lg_conn *c = arg;
    lg *g = c->lg;
    if (what & BEV_EVENT_CONNECTED) {
        set_nodelay(bev);
        c->state = C_IDLE;
        g->live--;
        if (!g->running) {
            g->connected++;
            if (g->connected + g->connect_failures == g->n_conns)
                start_run(g);
        } else if (more_work(g)) {
            conn_issue(c);
        } else {
            check_finished(g);
        }
        return;
    }
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
        return;
    if (c->state == C_CONNECTING) {
        int err = EVUTIL_SOCKET_ERROR();
        conn_close(c);
        c->state = C_DEAD;
        g->live--;
        if (!g->running) {
            g->connect_failures++;
            if (g->connect_failures <= MAX_ERRORS_SHOWN)
                fprintf(stderr, "loadgen: connect to %s failed: %s\n", g->host_header,
                        evutil_socket_error_to_string(err));
            if (g->connected + g->connect_failures == g->n_conns)
                start_run(g);
        } else {
            check_finished(g);
        }
        return;
    }
    if (c->state == C_BUSY) {
        /* A body delimited by the close completes here; anything else was cut off. */
        if (s2l_bench_http_eof(&c->resp) == S2L_BENCH_HTTP_DONE)
            conn_done(c, c->resp.status, NULL);
        else
            conn_done(c, 0, c->resp.error);
        conn_continue(c, false);
        return;
    }
    /* The server closed an idle keep-alive connection. */
    conn_close(c);
    if (more_work(g) && g->reconnects < g->reconnect_budget) {
        g->reconnects++;
        conn_open(c);
    } else {
        c->state = C_DEAD;
    }
    check_finished(g);
}

static void conn_open(lg_conn *c)
{
    lg *g = c->lg;
    c->state = C_CONNECTING;
    g->live++;
    c->bev = bufferevent_socket_new(g->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL)
        goto fail;
    bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
    if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) != 0)
        goto fail;
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&g->addr, g->addrlen) != 0)
        goto fail;
    return;
fail:
    conn_close(c);
    c->state = C_DEAD;
    g->live--;
    if (!g->running)
        g->connect_failures++;
}

static void conn_issue(lg_conn *c)
{
    lg *g = c->lg;
    size_t i = g->next++;
    s2l_bench_http_start(&c->resp, false, true);
    if (write_request(g, i, bufferevent_get_output(c->bev)) != 0) {
        fprintf(stderr, "loadgen: cannot form request %zu (too long or out of memory)\n", i);
        g->errors++;
        g->stopping = true;
        check_finished(g);
        return;
    }
    c->idx = i;
    c->state = C_BUSY;
    g->live++;
    c->t0_us = s2l_bench_now_us();
}

static void finish(lg *g)
{
    if (g->finished)
        return;
    g->finished = true;
    s2l_bench_proc_read((pid_t)g->o.pid, &g->gw1);
    s2l_bench_proc_read((pid_t)g->o.slapd_pid, &g->sl1);
    event_base_loopbreak(g->base);
}

static void check_finished(lg *g)
{
    if (!g->running || g->finished)
        return;
    if (g->live == 0)
        finish(g);
}

/* Deadlines: the measured window, each request's timeout, the connect phase. */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    lg *g = arg;
    uint64_t now = s2l_bench_now_us();
    if (!g->running) {
        /* Connections that failed at once (inside conn_open) never produce an event. */
        if (g->connected + g->connect_failures == g->n_conns) {
            start_run(g);
            return;
        }
        if (now > g->t_connect_deadline_us) {
            fprintf(stderr, "loadgen: only %zu of %zu connections opened in time\n", g->connected, g->n_conns);
            for (size_t i = 0; i < g->n_conns; i++)
                if (g->conns[i].state == C_CONNECTING) {
                    conn_close(&g->conns[i]);
                    g->conns[i].state = C_DEAD;
                    g->live--;
                    g->connect_failures++;
                }
            start_run(g);
        }
        return;
    }
    if (now >= g->t_stop_us)
        g->stopping = true;
    uint64_t limit = (uint64_t)(g->o.timeout_s * 1e6);
    for (size_t i = 0; i < g->n_conns && !g->finished; i++) {
        lg_conn *c = &g->conns[i];
        if (c->state == C_BUSY && (now - c->t0_us > limit || now >= g->t_abort_us)) {
            g->timeouts++;
            conn_done(c, 0, "timed out");
            conn_continue(c, false);
        }
    }
    check_finished(g);
}

/* ---------- results ---------- */

static double ms(uint64_t us)
{
    return (double)us / 1000.0;
}

static void print_row(lg *g)
{
    double elapsed = (double)(g->t_last_us - g->t_start_us) / 1e6;
    double ops = elapsed > 0 ? (double)g->ok / elapsed : 0.0;
    uint64_t done = g->ok + g->errors;
    double gw_cpu = -1, sl_cpu = -1;
    if (g->gw0.ok && g->gw1.ok && done)
        gw_cpu = (g->gw1.cpu_s - g->gw0.cpu_s) / (double)done * 1000.0;
    if (g->sl0.ok && g->sl1.ok && done)
        sl_cpu = (g->sl1.cpu_s - g->sl0.cpu_s) / (double)done * 1000.0;
    uint64_t p50 = s2l_bench_hist_percentile(&g->hist, 50), p99 = s2l_bench_hist_percentile(&g->hist, 99);

    fprintf(stderr,
            "loadgen: %-12s c=%-4lu ok=%" PRIu64 " err=%" PRIu64 " in %.2fs: %.0f/s p50=%.2fms p99=%.2fms "
            "max=%.2fms",
            g->sc_name, g->o.concurrency, g->ok, g->errors, elapsed, ops, ms(p50), ms(p99), ms(g->hist.max_us));
    if (gw_cpu >= 0)
        fprintf(stderr, " gw_cpu=%.3fs/1k hwm=%" PRIu64 "kB rss=%" PRIu64 "kB", gw_cpu, g->gw1.vmhwm_kb,
                g->gw1.vmrss_kb);
    if (g->reconnects)
        fprintf(stderr, " reconnects=%lu", g->reconnects);
    fputc('\n', stderr);

    if (g->o.out_path == NULL)
        return;
    FILE *f = fopen(g->o.out_path, "a");
    if (f == NULL) {
        fprintf(stderr, "loadgen: %s: %s\n", g->o.out_path, strerror(errno));
        return;
    }
    /* tag side scenario conc issued ok errors elapsed_s ops_s p50_ms p99_ms max_ms
     * proc_cpu_s_per_1k slapd_cpu_s_per_1k vmhwm_kb vmrss_kb */
    fprintf(f, "%s\tgw\t%s\t%lu\t%zu\t%" PRIu64 "\t%" PRIu64 "\t%.3f\t%.1f\t%.3f\t%.3f\t%.3f\t%.4f\t%.4f\t%" PRIu64
               "\t%" PRIu64 "\n",
            g->o.tag, g->o.label ? g->o.label : g->sc_name, g->o.concurrency, g->next, g->ok, g->errors, elapsed,
            ops, ms(p50), ms(p99), ms(g->hist.max_us), gw_cpu, sl_cpu, g->gw1.vmhwm_kb, g->gw1.vmrss_kb);
    fclose(f);
}

/* ---------- setup ---------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: s2l_loadgen --port N [options] SCENARIO\n"
            "scenarios: post-users get-filter get-id patch-user patch-title put-user patch-group delete-user\n"
            "           get-path request get-page\n"
            "  --host ADDR          loopback address (default 127.0.0.1)\n"
            "  --base PATH          SCIM base path (default /scim/v2)\n"
            "  --token T            bearer token\n"
            "  --concurrency C      connections, one request outstanding each (default 1)\n"
            "  --count N            requests at most (default 1000)\n"
            "  --duration S         seconds at most for issuing requests (default 10)\n"
            "  --timeout S          per-request timeout, also the drain limit (default 30)\n"
            "  --prefix P           post-users: userName prefix\n"
            "  --ids FILE           post-users writes <userName>TAB<id> lines; others read them\n"
            "                       (put-user: the userNames post-users made, <prefix>-<number>)\n"
            "  --group-id ID        patch-group target\n"
            "  --pid PID            gateway process: CPU and memory\n"
            "  --slapd-pid PID      slapd process: CPU\n"
            "  --tag T --label L --out FILE   append a result row to FILE\n"
            "  --verify             check answers (filter finds exactly the user, get returns the id,\n"
            "                       put returns the id, userName, displayName and title sent)\n"
            "  --method M --path P --body B   the request scenario (get-path: --path)\n"
            "  --path P --items N   get-page: GET P (a list page) must hold N resources\n"
            "  --quiet              request: print nothing\n");
}

static int parse_args(lg *g, int argc, char **argv)
{
    enum { O_HOST = 256, O_PORT, O_BASE, O_TOKEN, O_CONC, O_COUNT, O_DUR, O_TIMEOUT, O_PREFIX, O_IDS,
           O_GROUP, O_PID, O_SPID, O_TAG, O_LABEL, O_OUT, O_VERIFY, O_METHOD, O_PATH, O_BODY, O_QUIET, O_HELP,
           O_ITEMS };
    static const struct option longopts[] = {
        {"host", required_argument, NULL, O_HOST}, {"port", required_argument, NULL, O_PORT},
        {"base", required_argument, NULL, O_BASE}, {"token", required_argument, NULL, O_TOKEN},
        {"concurrency", required_argument, NULL, O_CONC}, {"count", required_argument, NULL, O_COUNT},
        {"duration", required_argument, NULL, O_DUR}, {"timeout", required_argument, NULL, O_TIMEOUT},
        {"prefix", required_argument, NULL, O_PREFIX}, {"ids", required_argument, NULL, O_IDS},
        {"group-id", required_argument, NULL, O_GROUP}, {"pid", required_argument, NULL, O_PID},
        {"slapd-pid", required_argument, NULL, O_SPID}, {"tag", required_argument, NULL, O_TAG},
        {"label", required_argument, NULL, O_LABEL}, {"out", required_argument, NULL, O_OUT},
        {"verify", no_argument, NULL, O_VERIFY}, {"method", required_argument, NULL, O_METHOD},
        {"path", required_argument, NULL, O_PATH}, {"body", required_argument, NULL, O_BODY},
        {"quiet", no_argument, NULL, O_QUIET}, {"help", no_argument, NULL, O_HELP},
        {"items", required_argument, NULL, O_ITEMS},
        {NULL, 0, NULL, 0},
    };
    lg_opts *o = &g->o;
    o->host = "127.0.0.1";
    o->base_path = "/scim/v2";
    o->concurrency = 1;
    o->count = 1000;
    o->duration_s = 10;
    o->timeout_s = 30;
    o->tag = "-";
    unsigned long v;
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case O_HOST: o->host = optarg; break;
        case O_PORT:
            if (!s2l_bench_parse_ulong(optarg, 1, 65535, &o->port))
                goto bad;
            break;
        case O_BASE: o->base_path = optarg; break;
        case O_TOKEN: o->token = optarg; break;
        case O_CONC:
            if (!s2l_bench_parse_ulong(optarg, 1, MAX_CONCURRENCY, &o->concurrency))
                goto bad;
            break;
        case O_COUNT:
            if (!s2l_bench_parse_ulong(optarg, 1, MAX_COUNT, &o->count))
                goto bad;
            break;
        case O_DUR:
            if (!s2l_bench_parse_double(optarg, 0.01, 86400, &o->duration_s))
                goto bad;
            break;
        case O_TIMEOUT:
            if (!s2l_bench_parse_double(optarg, 0.01, 3600, &o->timeout_s))
                goto bad;
            break;
        case O_PREFIX: o->prefix = optarg; break;
        case O_IDS: o->ids_path = optarg; break;
        case O_GROUP: o->group_id = optarg; break;
        case O_PID:
            if (!s2l_bench_parse_ulong(optarg, 1, INT_MAX, &v))
                goto bad;
            o->pid = (long)v;
            break;
        case O_SPID:
            if (!s2l_bench_parse_ulong(optarg, 1, INT_MAX, &v))
                goto bad;
            o->slapd_pid = (long)v;
            break;
        case O_TAG: o->tag = optarg; break;
        case O_LABEL: o->label = optarg; break;
        case O_OUT: o->out_path = optarg; break;
        case O_VERIFY: o->verify = true; break;
        case O_METHOD: o->method = optarg; break;
        case O_PATH: o->path = optarg; break;
        case O_BODY: o->body = optarg; break;
        case O_QUIET: o->quiet = true; break;
        case O_ITEMS:
            if (!s2l_bench_parse_ulong(optarg, 1, MAX_COUNT, &o->items))
                goto bad;
            break;
        case O_HELP: usage(stdout); exit(0);
        default: goto bad;
        }
    }
    if (optind != argc - 1 || o->port == 0)
        goto bad;
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (strcmp(argv[optind], scenarios[i].name) == 0) {
            g->sc = scenarios[i].sc;
            g->sc_name = scenarios[i].name;
        }
    if (g->sc_name == NULL) {
        fprintf(stderr, "loadgen: unknown scenario %s\n", argv[optind]);
        goto bad;
    }
    if (!s2l_bench_is_loopback(o->host)) {
        fprintf(stderr, "loadgen: %s is not a loopback address; the benchmark stays on loopback\n", o->host);
        return -1;
    }
    if ((g->sc == SC_POST_USERS && (o->prefix == NULL || o->ids_path == NULL)) ||
        (g->sc == SC_PATCH_GROUP && o->group_id == NULL) ||
        (g->sc == SC_REQUEST && (o->method == NULL || o->path == NULL)) ||
        (g->sc == SC_GET_PATH && o->path == NULL) || (g->sc == SC_GET_PAGE && o->path == NULL)) {
        fprintf(stderr, "loadgen: %s needs more options\n", g->sc_name);
        goto bad;
    }
    if (o->prefix && strlen(o->prefix) > 64) {
        fprintf(stderr, "loadgen: prefix too long\n");
        return -1;
    }
    /* It goes into JSON bodies unescaped. */
    if (o->prefix && !url_safe(o->prefix)) {
        fprintf(stderr, "loadgen: the prefix must be URL-safe (letters, digits, - . _ ~)\n");
        return -1;
    }
    if (g->sc == SC_REQUEST) {
        o->count = 1;
        o->concurrency = 1;
    }
    return 0;
bad:
    usage(stderr);
    return -1;
}

static int resolve(lg *g)
{
    struct sockaddr_in *a4 = (struct sockaddr_in *)&g->addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&g->addr;
    const char *h = strcmp(g->o.host, "localhost") == 0 ? "127.0.0.1" : g->o.host;
    memset(&g->addr, 0, sizeof g->addr);
    if (inet_pton(AF_INET, h, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)g->o.port);
        g->addrlen = sizeof *a4;
        snprintf(g->host_header, sizeof g->host_header, "%s:%lu", h, g->o.port);
        return 0;
    }
    if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)g->o.port);
        g->addrlen = sizeof *a6;
        snprintf(g->host_header, sizeof g->host_header, "[%s]:%lu", h, g->o.port);
        return 0;
    }
    return -1;
}

int main(int argc, char **argv)
{
    int rc = 2;
    static lg g;   /* large (histogram, scratch): not on the stack */

    if (parse_args(&g, argc, argv) != 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    if (resolve(&g) != 0) {
        fprintf(stderr, "loadgen: bad host %s\n", g.o.host);
        return 2;
    }
    bool needs_ids = false, ids_once = false;
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (scenarios[i].sc == g.sc) {
            needs_ids = scenarios[i].needs_ids;
            ids_once = scenarios[i].ids_once;
        }
    if (needs_ids) {
        if (g.o.ids_path == NULL) {
            fprintf(stderr, "loadgen: %s needs --ids\n", g.sc_name);
            goto out;
        }
        if (load_ids(&g, g.o.ids_path) != 0)
            goto out;
        if (g.n_ids == 0) {
            fprintf(stderr, "loadgen: %s: no ids\n", g.o.ids_path);
            goto out;
        }
        if (ids_once && g.o.count > g.n_ids)
            g.o.count = g.n_ids;
        size_t index;
        for (size_t i = 0; g.sc == SC_PUT_USER && i < g.n_ids; i++)
            if (!s2l_bench_user_index(g.names[i], &index)) {
                fprintf(stderr, "loadgen: %s: %s is not a userName post-users made (<prefix>-<number>)\n",
                        g.o.ids_path, g.names[i]);
                goto out;
            }
    }
    if (g.sc == SC_POST_USERS) {
        g.new_ids = calloc(g.o.count, sizeof *g.new_ids);
        if (g.new_ids == NULL)
            goto oom;
    }
    /* More connections than requests would only measure idle sockets. */
    g.n_conns = g.o.concurrency < g.o.count ? g.o.concurrency : g.o.count;
    /* A server that closes after every answer still finishes the run (and shows as reconnects). */
    g.reconnect_budget = g.n_conns + g.o.count;
    g.conns = calloc(g.n_conns, sizeof *g.conns);
    g.base = event_base_new();
    if (g.conns == NULL || g.base == NULL)
        goto oom;
    for (size_t i = 0; i < g.n_conns; i++) {
        g.conns[i].lg = &g;
        g.conns[i].state = C_DEAD;
        if (s2l_bench_http_init(&g.conns[i].resp) != 0)
            goto oom;
    }
    g.tick = event_new(g.base, -1, EV_PERSIST, tick_cb, &g);
    if (g.tick == NULL)
        goto oom;
    struct timeval tv = {0, TICK_MS * 1000};
    event_add(g.tick, &tv);
    g.t_connect_deadline_us = s2l_bench_now_us() + (uint64_t)(g.o.timeout_s * 1e6);
    for (size_t i = 0; i < g.n_conns; i++)
        conn_open(&g.conns[i]);
    if (g.connect_failures == g.n_conns) {
        fprintf(stderr, "loadgen: no connection could be started\n");
        goto out;
    }
    event_base_dispatch(g.base);

    if (g.connected == 0) {
        fprintf(stderr, "loadgen: could not connect to %s\n", g.host_header);
        rc = 3;
        goto out;
    }
    if (g.sc != SC_REQUEST)
        print_row(&g);
    if (g.sc == SC_POST_USERS && write_ids(&g, g.o.ids_path) != 0)
        goto out;
    if (g.sc == SC_REQUEST)
        rc = g.request_status >= 200 && g.request_status < 300 ? 0 : 1;
    else
        rc = g.errors ? 1 : 0;
    goto out;
oom:
    fprintf(stderr, "loadgen: out of memory\n");
out:
    for (size_t i = 0; g.conns && i < g.n_conns; i++) {
        conn_close(&g.conns[i]);
        s2l_bench_http_fini(&g.conns[i].resp);
    }
    free(g.conns);
    if (g.tick)
        event_free(g.tick);
    if (g.base)
        event_base_free(g.base);
    free_strv(g.names, g.n_ids);
    free_strv(g.ids, g.n_ids);
    free_strv(g.new_ids, g.new_ids ? g.o.count : 0);
    return rc;
}
