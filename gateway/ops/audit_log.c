/* audit_log.c — the audit log sink, a request's notes of its LDAP writes, and
 * the JSON access line (see audit_log.h). */
#include "audit_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../http/request_auth.h"
#include "ops-internal.h"
#include "s2l/audit.h"
#include "s2l/ldap_text.h"
#include "s2l/log.h"

/* ---- the sink ---- */

int s2l_ops_audit_open(s2l_ops *ops, const s2l_config *cfg, char *errbuf, size_t errlen)
{
    if (ops == NULL)
        return 0;
    if (!cfg->audit.enabled) {
        pthread_mutex_lock(&ops->lock);
        if (ops->audit_fd > 2)
            close(ops->audit_fd);
        ops->audit_fd = -1;
        pthread_mutex_unlock(&ops->lock);
        return 0;
    }
    int fd = 2;
    if (cfg->audit.file) {
        fd = open(cfg->audit.file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0) {
            snprintf(errbuf, errlen, "audit.file %s: %s", cfg->audit.file, strerror(errno));
            return -1;
        }
    }
    /* Under the lock: another worker may be writing a line to the old file. */
    pthread_mutex_lock(&ops->lock);
    if (ops->audit_fd > 2)
        close(ops->audit_fd);
    ops->audit_fd = fd;
    pthread_mutex_unlock(&ops->lock);
    return 0;
}

bool s2l_ops_audit_on(const s2l_ops *ops)
{
    return ops && ops->audit_fd >= 0;
}

static void write_line(s2l_ops *ops, const char *line, size_t len)
{
    /* One write: O_APPEND makes it land whole after whatever is there. */
    ssize_t n;
    int err = 0;
    pthread_mutex_lock(&ops->lock); /* the fd may be swapped by a reopen on another worker */
    do
        n = ops->audit_fd >= 0 ? write(ops->audit_fd, line, len) : (ssize_t)len;
    while (n < 0 && errno == EINTR);
    if (n < 0)
        err = errno;
    s2l_counter_inc(s2l_metric_with(ops->audit_lines, n == (ssize_t)len ? "written" : "failed"));
    pthread_mutex_unlock(&ops->lock);
    if (n != (ssize_t)len)
        s2l_log(S2L_LOG_ERROR, "event=audit_write_failed error=\"%s\"", n < 0 ? strerror(err) : "short write");
}

/* ---- a request's notes ---- */

typedef struct audit_write {
    s2l_ops_ldap kind;
    char *dn;
    char *new_dn;                /* rename */
    json_t *payload;             /* add attrs / modify mods */
} audit_write;

struct s2l_req_audit {
    audit_write *w;
    size_t n, cap;
    int ldap_result;             /* of the last write; -1: none answered */
    const s2l_rmap *type;        /* for a refusal before the handler */
};

static struct s2l_req_audit *notes(s2l_req *req)
{
    if (!s2l_ops_audit_on(req->gw->ops))
        return NULL;
    if (req->audit == NULL && (req->audit = calloc(1, sizeof *req->audit)) != NULL)
        req->audit->ldap_result = -1;
    return req->audit;
}

void s2l_audit_note_write(s2l_req *req, s2l_ops_ldap kind, const char *dn, const char *arg, const json_t *payload)
{
    struct s2l_req_audit *a = notes(req);
    if (a == NULL || dn == NULL)
        return;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4;
        audit_write *w = realloc(a->w, cap * sizeof *w);
        if (w == NULL)
            return;
        a->w = w;
        a->cap = cap;
    }
    audit_write *w = &a->w[a->n];
    *w = (audit_write){.kind = kind, .dn = strdup(dn)};
    if (kind == S2L_OPS_RENAME && arg)
        w->new_dn = s2l_dn_with_rdn(dn, arg);
    if (payload)
        w->payload = json_deep_copy(payload); /* the caller may change or free its own */
    if (w->dn == NULL) {
        free(w->new_dn);
        json_decref(w->payload);
        return;
    }
    a->n++;
}

void s2l_audit_note_move(s2l_req *req, const char *dn, const char *newrdn, const char *new_superior)
{
    s2l_audit_note_write(req, S2L_OPS_RENAME, dn, NULL, NULL);
    struct s2l_req_audit *a = req->audit;
    if (a == NULL || a->n == 0 || newrdn == NULL || new_superior == NULL || strcmp(a->w[a->n - 1].dn, dn) != 0)
        return;
    size_t n = strlen(newrdn) + 1 + strlen(new_superior) + 1;
    char *nd = malloc(n);
    if (nd)
        snprintf(nd, n, "%s,%s", newrdn, new_superior);
    free(a->w[a->n - 1].new_dn);
    a->w[a->n - 1].new_dn = nd;
}

void s2l_audit_note_result(s2l_req *req, s2l_ops_ldap kind, int rc)
{
    if (kind != S2L_OPS_SEARCH && req->audit)
        req->audit->ldap_result = rc;
}

void s2l_audit_note_type(s2l_req *req, const s2l_rmap *rm)
{
    struct s2l_req_audit *a = notes(req);
    if (a)
        a->type = rm;
}

void s2l_audit_free(s2l_req *req)
{
    struct s2l_req_audit *a = req->audit;
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->n; i++) {
        free(a->w[i].dn);
        free(a->w[i].new_dn);
        json_decref(a->w[i].payload);
    }
    free(a->w);
    free(a);
    req->audit = NULL;
}

static bool same_dn(const char *a, const char *b)
{
    return a && b && strcasecmp(a, b) == 0;
}

/* The entry the request was about: the DN of its add, delete or rename, else
 * of its first modify; its last name after renames (a rolled back rename ends
 * where it started: no new DN). */
static void primary(const struct s2l_req_audit *a, const char **dn, const char **new_dn)
{
    *dn = *new_dn = NULL;
    for (size_t i = 0; i < a->n && *dn == NULL; i++)
        if (a->w[i].kind != S2L_OPS_MODIFY)
            *dn = a->w[i].dn;
    if (*dn == NULL && a->n > 0)
        *dn = a->w[0].dn;
    const char *cur = *dn;
    for (size_t i = 0; i < a->n; i++)
        if (a->w[i].kind == S2L_OPS_RENAME && same_dn(a->w[i].dn, cur) && a->w[i].new_dn)
            cur = a->w[i].new_dn;
    if (cur != *dn && !same_dn(cur, *dn))
        *new_dn = cur;
}

static const char *operation_of(s2l_method m)
{
    switch (m) {
    case S2L_POST: return "create";
    case S2L_PUT: return "replace";
    case S2L_PATCH: return "patch";
    case S2L_DELETE: return "delete";
    default: return NULL;
    }
}

static const char *str_of(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* For a request refused before its route was taken (403): the id in
 * "<endpoint>/<id>", or NULL. */
static const char *path_id(const s2l_req *req, const s2l_rmap *rm)
{
    const char *ep = s2l_rmap_info_of(rm)->endpoint;
    size_t n = strlen(ep);
    if (req->path == NULL || strncasecmp(req->path, ep, n) != 0 || req->path[n] != '/' || req->path[n + 1] == 0 ||
        strchr(req->path + n + 1, '/') != NULL)
        return NULL;
    return req->path + n + 1;
}

static void audit_line(s2l_req *req, const s2l_reply *reply)
{
    struct s2l_req_audit *a = req->audit;
    const s2l_rmap *rm = req->route && req->route->resource ? req->route->resource : a ? a->type : NULL;
    const char *op = operation_of(req->method);
    if (rm == NULL || op == NULL)
        return;
    const json_t *res = reply->body && json_is_object(reply->body) && str_of(reply->body, "id") ? reply->body : NULL;
    const json_t *sent = json_is_object(req->body) ? req->body : NULL;
    const char *dn = NULL, *new_dn = NULL;
    json_t *adds = NULL, *mods = json_array();
    if (a)
        primary(a, &dn, &new_dn);
    for (size_t i = 0; a && i < a->n; i++) {
        const audit_write *w = &a->w[i];
        bool on_entry = same_dn(w->dn, dn) || same_dn(w->dn, new_dn);
        if (!on_entry || w->payload == NULL)
            continue;
        if (w->kind == S2L_OPS_ADD && adds == NULL)
            adds = w->payload;
        else if (w->kind == S2L_OPS_MODIFY && mods)
            json_array_extend(mods, w->payload);
    }
    /* userName; a type without one (Group) is named by its displayName */
    const char *user_name = str_of(res, "userName") ? str_of(res, "userName") : str_of(sent, "userName");
    if (user_name == NULL)
        user_name = str_of(res, "displayName") ? str_of(res, "displayName") : str_of(sent, "displayName");
    const char *external_id = str_of(res, "externalId") ? str_of(res, "externalId") : str_of(sent, "externalId");
    char source[S2L_IP_TEXT_MAX] = "";
    s2l_ip ip;
    if (s2l_req_peer_ip(req, &ip))
        s2l_ip_format(&ip, source, sizeof source);
    const char *scim_type = reply->status >= 400 ? str_of(reply->body, "scimType") : NULL;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t age_us = s2l_now_us() - req->start_us; /* the event's time is the request's arrival */
    now.tv_sec -= (time_t)(age_us / 1000000);
    long ns = now.tv_nsec - (long)(age_us % 1000000) * 1000;
    if (ns < 0) {
        ns += 1000000000L;
        now.tv_sec--;
    }
    now.tv_nsec = ns;
    s2l_audit_event ev = {.time = now,
                          .request_id = (unsigned long long)req->id,
                          .credential = req->cred ? s2l_auth_cred_name(req->cred) : NULL,
                          .source = source[0] ? source : NULL,
                          .operation = op,
                          .resource_type = s2l_rmap_info_of(rm)->name,
                          .id = str_of(res, "id") ? str_of(res, "id") : req->param ? req->param : path_id(req, rm),
                          .user_name = user_name,
                          .external_id = external_id,
                          .dn = dn,
                          .new_dn = new_dn,
                          .add_attrs = adds,
                          .mods = json_array_size(mods) ? mods : NULL,
                          .status = reply->status,
                          .scim_type = scim_type,
                          .ldap_result = a ? a->ldap_result : -1};
    size_t len = 0;
    char *line = s2l_audit_line(&ev, s2l_mapping_secret_attrs(req->gw->mapping), &len);
    if (line)
        write_line(req->gw->ops, line, len);
    else
        s2l_log(S2L_LOG_ERROR, "event=audit_write_failed req=%llu error=\"out of memory\"",
                (unsigned long long)req->id);
    free(line);
    json_decref(mods);
}

/* The access line as one JSON object (access_log: "json"). */
static void access_json(s2l_req *req, int status)
{
    char when[40], source[S2L_IP_TEXT_MAX] = "";
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    s2l_audit_time(&now, when, sizeof when);
    s2l_ip ip;
    if (s2l_req_peer_ip(req, &ip))
        s2l_ip_format(&ip, source, sizeof source);
    const s2l_rmap *rm = req->route ? req->route->resource : NULL;
    json_t *o = json_object();
    if (o == NULL)
        return;
    json_object_set_new(o, "time", json_string(when));
    json_object_set_new(o, "event", json_string("request"));
    json_object_set_new(o, "request_id", json_integer((json_int_t)req->id));
    json_object_set_new(o, "method", json_string(req->method_name ? req->method_name : "?"));
    /* the client's path may hold any byte: jansson refuses invalid UTF-8, then it is left out */
    if (req->path)
        json_object_set_new(o, "path", json_string(req->path));
    if (rm)
        json_object_set_new(o, "resource_type", json_string(s2l_rmap_info_of(rm)->name));
    json_object_set_new(o, "status", json_integer(status));
    if (req->cred)
        json_object_set_new(o, "credential", json_string(s2l_auth_cred_name(req->cred)));
    if (source[0])
        json_object_set_new(o, "source", json_string(source));
    json_object_set_new(o, "ldap_ops", json_integer(req->ldap_ops_done));
    json_object_set_new(o, "latency_us", json_integer((json_int_t)(s2l_now_us() - req->start_us)));
    json_object_set_new(o, "worker", json_integer(req->gw->worker));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text == NULL)
        return;
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the NUL: one write of n + 1 bytes */
    ssize_t w;
    do
        w = write(2, text, n + 1);
    while (w < 0 && errno == EINTR);
    free(text);
}

void s2l_audit_request_done(s2l_req *req, const s2l_reply *reply)
{
    if (strcmp(req->gw->cfg->access_log, "json") == 0)
        access_json(req, reply->status);
    if (s2l_ops_audit_on(req->gw->ops))
        audit_line(req, reply);
}
