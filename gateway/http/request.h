/* request.h — one request's life inside the gateway, whatever carried it.
 *
 * A request comes from a transport: the HTTP server (server.c, evhttp) or a
 * local caller (s2l_req_run_local: a test, or a Bulk operation running through
 * exactly the code path of a direct request). It is routed through the route
 * table (route.h) to one handler and ends in exactly one place:
 * s2l_req_reply_json / s2l_req_reply_error (both funnel into one function that
 * cancels what is pending, logs the access line, hands the reply to the
 * transport and frees the request). After a reply call the s2l_req pointer is
 * gone. Handlers see no evhttp type: headers, query and body come through here.
 *
 * LDAP: handlers start operations through s2l_req_ldap_* so the request knows
 * every op it has pending; a reply (or the deadline) cancels whatever is still
 * pending, so a completion can never run against a freed request.
 * Deadline: each request has a timer (limits.request_timeout_ms); on expiry the
 * client gets 503 + Retry-After.
 *
 * Ownership: the request owns its path, query, body, param, its handler state
 * (req->state, freed by req->state_free when the request ends, however it ends),
 * whatever was handed to it with s2l_req_adopt, and one reference to the auth
 * state it authenticated with (req->auth, released when it ends).
 */
#ifndef S2L_HTTP_REQUEST_H
#define S2L_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "../gateway.h"
#include "s2l/auth.h"
#include "s2l/cidr.h"
#include "s2l/error.h"
#include "s2l/http_text.h"
#include "s2l/ldap_pool.h"

typedef struct s2l_req s2l_req;
typedef struct s2l_route s2l_route;
typedef struct s2l_req_op s2l_req_op;
typedef struct s2l_req_adopted s2l_req_adopted;

/* Methods, as bits so that a route can hold a set of them. */
typedef enum s2l_method {
    S2L_GET = 1u << 0,
    S2L_POST = 1u << 1,
    S2L_PUT = 1u << 2,
    S2L_PATCH = 1u << 3,
    S2L_DELETE = 1u << 4,
    S2L_HEAD = 1u << 5,
    S2L_OPTIONS = 1u << 6,
    S2L_TRACE = 1u << 7,
    S2L_CONNECT = 1u << 8,
} s2l_method;
#define S2L_ANY_METHOD 0x1ffu

/* "GET", ...; "?" for anything else. */
const char *s2l_method_name(s2l_method m);

/* The one reply of a request, as handed to its transport. Everything in it is
 * borrowed for the duration of the transport's reply call. */
typedef struct s2l_reply {
    int status;
    json_t *body;                /* NULL for no body (204) */
    const char *const *headers;  /* NULL-terminated name/value pairs, or NULL */
    const char *text;            /* with body NULL: a body sent as is (e.g. /metrics), text_len bytes */
    size_t text_len;
} s2l_reply;

/* What a transport provides (see server.c and the local transport in
 * request.c). header, body and peer read the request; reply delivers the one
 * reply: it runs once, while req is still valid, and req is freed right after
 * it. A reply whose headers name a Content-Type keeps it; otherwise a body is
 * sent as application/scim+json. */
typedef struct s2l_req_transport {
    const char *(*header)(const s2l_req *req, const char *name); /* or NULL */
    const char *(*body)(const s2l_req *req, size_t *len);        /* raw bytes; NULL, 0 when none */
    bool (*peer)(const s2l_req *req, s2l_ip *out);               /* the client's address; NULL or false:
                                                                    unknown (allow_from then fails) */
    void (*reply)(s2l_req *req, const s2l_reply *reply);
    void *arg;                   /* the transport's own state (e.g. the server) */
} s2l_req_transport;

struct s2l_req {
    s2l_gateway *gw;
    uint64_t id;                 /* for logs */
    uint64_t start_us;           /* s2l_now_us() at creation */
    s2l_method method;
    const char *method_name;
    char *path;                  /* decoded; below base_path for SCIM routes ("/Users/abc"), else the
                                    whole path; NULL when the request URI was malformed */
    s2l_query query;             /* decoded query parameters */
    char *base_url;              /* "http(s)://host[:port]/scim/v2" for Location and $ref */
    json_t *body;                /* the parsed JSON body (routes that take one), or NULL */
    bool authenticated;          /* a route's authentication is already satisfied (local requests) */
    s2l_auth *auth;              /* the auth state the request authenticated with (held), or NULL */
    const s2l_auth_cred *cred;   /* its credential (borrowed from auth), or NULL; named in the access
                                    log and checked for access to the route's resource type */

    /* Set by the router before the handler runs. */
    const s2l_route *route;
    const void *route_data;      /* route->data */
    const char *param;           /* what the route's "{}" or "*" matched ("/Users/{}" → the id), or NULL;
                                    it points into path when it ends the path, else into param_copy */
    char *param_copy;

    /* Handler state: freed by state_free(state) when the request ends. */
    void *state;
    void (*state_free)(void *state);

    /* Internal to request.c / the transports. */
    const s2l_req_transport *transport;
    void *transport_ctx;         /* per request (the evhttp request, a local request's data) */
    struct event *deadline;
    s2l_req_op *ops;             /* pending LDAP ops, cancelled when the request ends */
    s2l_req_adopted *adopted;    /* freed when the request ends (s2l_req_adopt) */
    int ldap_ops_done;           /* counted for the access log */
    bool path_nul;               /* the request path held "%00" (left encoded in path): refused (route.c) */
    struct s2l_req_audit *audit; /* what it wrote, for the audit log (ops/audit_log.h), or NULL */
};

/* Sends `body` (stolen reference; may be NULL for 204) with status and the SCIM
 * content type (unless the headers name another Content-Type), plus optional
 * headers (NULL-terminated name/value pairs). Frees req. */
void s2l_req_reply_json(s2l_req *req, int status, json_t *body, const char *const *headers);
/* Sends text_len bytes of text as the body (not JSON: headers name its
 * Content-Type), e.g. the Prometheus exposition. Frees req. */
void s2l_req_reply_text(s2l_req *req, int status, const char *text, size_t len, const char *const *headers);
/* Sends a SCIM Error for *err (status 0 → 500). Frees req. */
void s2l_req_reply_error(s2l_req *req, const s2l_error *err);
/* Shorthand for an error with a formatted detail. Frees req. */
void s2l_req_fail(s2l_req *req, int status, const char *scim_type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 503 + Retry-After for an LDAP failure that means "directory unavailable",
 * or the mapped SCIM error for any other LDAP result; `what` names the object. Frees req. */
void s2l_req_fail_ldap(s2l_req *req, const s2l_ldap_result *res, const char *what);

/* Hands ptr to the request: free_fn(ptr) runs when the request ends, however it
 * ends (reply, deadline). For state that pending LDAP callbacks point to. -1
 * (after free_fn(ptr)) when out of memory. */
int s2l_req_adopt(s2l_req *req, void *ptr, void (*free_fn)(void *));

/* Re-arms the request's deadline to ms from now (a request that runs many
 * sub-requests one after another, each with its own deadline: Bulk). */
void s2l_req_set_deadline(s2l_req *req, unsigned ms);

/* Query parameter (decoded; name case-insensitive) or NULL. */
const char *s2l_req_query(const s2l_req *req, const char *name);
/* Request header or NULL. */
const char *s2l_req_header(const s2l_req *req, const char *name);
/* The raw request body (for routes that do not take JSON); NULL, 0 when none. */
const char *s2l_req_body_raw(const s2l_req *req, size_t *len);

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
/* A rename into another container (modrdn with newSuperior): deprovisioning moves. */
int s2l_req_ldap_move(s2l_req *req, const char *dn, const char *newrdn, const char *new_superior,
                      s2l_req_ldap_cb *cb, void *arg);
int s2l_req_ldap_delete(s2l_req *req, const char *dn, s2l_req_ldap_cb *cb, void *arg);
/* The same writes with the assertion control (RFC 4528, critical) carrying
 * `assertion` (an RFC 4515 filter): the entry must match it or nothing is
 * written (LDAP 122). Only where s2l_pool_supports_control(LDAP_CONTROL_ASSERT). */
int s2l_req_ldap_modify_assert(s2l_req *req, const char *dn, const json_t *mods, char *const *post_read,
                               const char *assertion, s2l_req_ldap_cb *cb, void *arg);
int s2l_req_ldap_delete_assert(s2l_req *req, const char *dn, const char *assertion, s2l_req_ldap_cb *cb,
                               void *arg);

/* ---- local requests: no HTTP connection ----
 *
 * A local request goes through the same router (404/405/authentication/body
 * checks), handler, LDAP ops, deadline, access log line and reply path as one
 * from the HTTP server; only its reply goes to done(arg, reply) instead of a
 * socket. done runs exactly once, never inside s2l_req_run_local (the request
 * starts on the next event-loop turn), unless the request is aborted first. */
typedef struct s2l_local_req {
    s2l_method method;
    const char *path;            /* below base_path, percent-encoded as in a URI: "/Users/abc" */
    const char *query;           /* raw query string without '?', or NULL */
    const char *const *headers;  /* NULL-terminated name/value pairs (copied), or NULL */
    const json_t *body;          /* the JSON body (the request takes a reference), or NULL */
    const char *base_url;        /* for Location and meta.location; NULL = "" */
    bool authenticated;          /* the caller vouches (a sub-request of an authenticated request):
                                    routes skip authentication */
    /* With authenticated: the parent's auth state and credential (the request
     * holds its own reference to auth). Access to resource types is checked
     * for cred; both NULL: a trusted caller, no access check. */
    s2l_auth *auth;
    const s2l_auth_cred *cred;
    unsigned timeout_ms;         /* the request's deadline; 0 = limits.request_timeout_ms */
} s2l_local_req;

/* The reply (borrowed: json_incref the body to keep it). The request is gone
 * for the caller from this moment on (do not abort it). */
typedef void s2l_local_done_fn(void *arg, const s2l_reply *reply);

/* Starts a local request; NULL when out of memory (done is then not called).
 * The handle is for s2l_req_abort only. */
s2l_req *s2l_req_run_local(s2l_gateway *gw, const s2l_local_req *lr, s2l_local_done_fn *done, void *arg);
/* Ends a request without a reply: pending LDAP ops are cancelled, its state
 * is freed, done is not called. For a parent whose own request ends first. */
void s2l_req_abort(s2l_req *req);

#endif
