/* request.h — one HTTP request's life inside the gateway (shell-internal).
 *
 * A request is created by the server when evhttp hands it over, routed to a
 * handler, and ends in exactly one place: s2l_req_reply_json / s2l_req_reply_error
 * (both funnel into one function that sends, logs the access line and frees the
 * request). After a reply call the s2l_req pointer is gone.
 *
 * LDAP: handlers start operations through s2l_req_ldap_* so the request knows
 * every op it has pending; a reply (or the deadline) cancels whatever is still
 * pending, so a completion can never run against a freed request.
 * Deadline: each request has a timer (limits.request_timeout_ms); on expiry the
 * client gets 503 + Retry-After.
 *
 * Ownership: the request owns body, query, path pieces, its arena of JSON values
 * (req->keep), its handler state (freed by state_free when set) and one
 * reference to the auth state it authenticated with (released at the reply).
 */
#ifndef S2L_HTTP_REQUEST_H
#define S2L_HTTP_REQUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "s2l/auth.h"
#include "s2l/config.h"
#include "s2l/error.h"
#include "s2l/ldap_pool.h"
#include "s2l/mapping.h"

typedef struct s2l_server s2l_server;
typedef struct s2l_req s2l_req;

/* What the whole gateway shares; owned by main. */
typedef struct s2l_gateway {
    const s2l_config *cfg;
    s2l_mapping *mapping;
    s2l_pool *pool;
    struct event_base *base;
    char *suffix;                /* common suffix of all base DNs: where id/DN look-ups search */
    s2l_auth *auth;              /* credentials; main holds one reference and may swap it (reload) */
} s2l_gateway;

typedef struct s2l_req_op s2l_req_op;

struct s2l_req {
    s2l_gateway *gw;
    s2l_server *srv;
    struct evhttp_request *evreq;
    uint64_t id;                 /* for logs */
    uint64_t start_us;
    enum evhttp_cmd_type method;
    const char *method_name;
    char *path;                  /* decoded path below base_path, e.g. "/Users/abc" */
    struct evkeyvalq query;      /* decoded query parameters */
    bool query_parsed;
    char *base_url;              /* "http(s)://host[:port]/scim/v2" for Location and $ref */
    json_t *body;                /* parsed JSON body or NULL */
    const s2l_rmap *rm;          /* routed resource type, or NULL */
    char *resource_id;           /* "/Users/{id}" → id, or NULL */
    struct event *deadline;
    s2l_req_op *ops;             /* pending LDAP ops (list), cancelled when the request ends */
    unsigned n_ops;
    struct s2l_req_adopted *adopted; /* freed when the request ends (s2l_req_adopt) */
    void *state;                 /* handler state */
    void (*state_free)(void *state);
    s2l_auth *auth;              /* the auth state the request authenticated with (held), or NULL */
    const s2l_auth_cred *cred;   /* its credential (borrowed from auth), or NULL; named in the access log */
    int ldap_ops_done;           /* counted for the access log */
    unsigned restarts;           /* times a handler started over (the entry moved meanwhile) */
};

/* Sends `body` (stolen reference; may be NULL for 204) with status and the SCIM
 * content type (unless the headers name another Content-Type), plus optional
 * headers (NULL-terminated name/value pairs). Frees req. */
void s2l_req_reply_json(s2l_req *req, int status, json_t *body, const char *const *headers);
/* Sends a SCIM Error for *err (status 0 → 500). Frees req. */
void s2l_req_reply_error(s2l_req *req, const s2l_error *err);
/* Shorthand for an error with a formatted detail. Frees req. */
void s2l_req_fail(s2l_req *req, int status, const char *scim_type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Hands ptr to the request: free_fn(ptr) runs when the request ends, however it
 * ends (reply, deadline). For state that pending LDAP callbacks point to. */
int s2l_req_adopt(s2l_req *req, void *ptr, void (*free_fn)(void *));

/* Query parameter (decoded) or NULL. */
const char *s2l_req_query(s2l_req *req, const char *name);
/* Request header or NULL. */
const char *s2l_req_header(s2l_req *req, const char *name);

/* LDAP operations on behalf of a request. cb runs once with the result (never
 * inside the start call) unless the request ended first. -1 only when the op
 * could not be allocated (the caller replies). timeout: the pool default. */
typedef void s2l_req_ldap_cb(s2l_req *req, const s2l_ldap_result *res, void *arg);
int s2l_req_ldap_search(s2l_req *req, const s2l_search_req *sr, s2l_req_ldap_cb *cb, void *arg);
/* Writes: post_read (NULL-terminated attributes, or NULL) asks for the stored
 * entry back with the result (res->entries, when the server supports it).
 * Modifies are permissive (adding a present value is success). */
int s2l_req_ldap_add(s2l_req *req, const char *dn, const json_t *attrs, char *const *post_read,
                     s2l_req_ldap_cb *cb, void *arg);
int s2l_req_ldap_modify(s2l_req *req, const char *dn, const json_t *mods, char *const *post_read,
                        s2l_req_ldap_cb *cb, void *arg);
int s2l_req_ldap_rename(s2l_req *req, const char *dn, const char *newrdn, s2l_req_ldap_cb *cb, void *arg);
int s2l_req_ldap_delete(s2l_req *req, const char *dn, s2l_req_ldap_cb *cb, void *arg);

/* 503 + Retry-After for an LDAP failure that means "directory unavailable",
 * or the mapped SCIM error for any other LDAP result; `what` names the object. Frees req. */
void s2l_req_fail_ldap(s2l_req *req, const s2l_ldap_result *res, const char *what);

#endif
