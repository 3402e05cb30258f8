/* route.h — the route table: endpoints register rows, the router dispatches.
 *
 * gateway/http never names a handler. Whoever owns an endpoint registers it
 * (resources/resources.c registers the SCIM resources and discovery; a new
 * endpoint is one more s2l_routes_add), and the router derives everything else
 * from the table: 404 for a path no row matches, 405 with an Allow header
 * listing the methods of the rows that match the path, authentication and
 * access control from the row, the JSON body parsed (or not) from the row.
 *
 * Patterns are '/'-separated segments, matched case-insensitively against the
 * decoded path:
 *   "Users"   a literal segment
 *   "{}"      exactly one non-empty segment (the id), captured as req->param
 *   "*"       last only: the rest of the path, zero or more segments, captured
 *             as req->param (NULL when empty)
 * A trailing '/' in the request path is ignored ("/Users/" is "/Users").
 * Patterns are relative to base_path unless the row says S2L_ROUTE_ROOT (an
 * absolute path such as "/oauth/token" or "/healthz"). When several patterns
 * match, the most specific wins: literal segments before "{}" before "*", from
 * the left; rows with the same pattern (one per handler) share the path, and
 * the union of their methods is the Allow header.
 *
 * Order of checks for a request (the same for HTTP and local requests):
 *   1. path outside base_path and no root row matches → 404
 *   2. the matched row needs authentication (or no row matched) and the
 *      request is not authenticated → s2l_http_authenticate (request_auth.h):
 *      401 + WWW-Authenticate, 403 or 429; on success req->auth, req->cred
 *   3. rows that take JSON (and unmatched paths): body → 413 / 415 / 400
 *   4. no row matched → 404
 *   5. the row names a resource type (.resource): the credential's access to
 *      it (read_only for writing methods, resource_types) → 403
 *   6. the method is in no matching row → 405 + Allow
 *   7. req->route, req->route_data, req->param set; the row's handler runs
 * Public rows (S2L_AUTH_NONE) skip 2, 3 and 5.
 *
 * Ownership: the table copies patterns; data is borrowed (it must outlive the
 * table). Register everything before the first request; the table is not
 * changed while requests run.
 */
#ifndef S2L_HTTP_ROUTE_H
#define S2L_HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "request.h"

/* A handler takes a routed request and ends it with exactly one reply, now or
 * later (from an LDAP completion). */
typedef void s2l_handler_fn(s2l_req *req);

typedef enum s2l_route_auth {
    S2L_AUTH_REQUIRED = 0,       /* the default: a valid credential (auth.credentials; 401 otherwise) */
    S2L_AUTH_NONE,               /* public (discovery, health checks, token endpoints) */
} s2l_route_auth;

/* Row flags. */
#define S2L_ROUTE_ROOT 0x1u      /* the pattern is an absolute path, not below base_path */
#define S2L_ROUTE_RAW_BODY 0x2u  /* the body is not parsed as JSON; read it with s2l_req_body_raw */

struct s2l_route {
    const char *pattern;         /* e.g. "/Users/{}"; see above for "*" */
    unsigned methods;            /* S2L_GET | ... (S2L_ANY_METHOD for all) */
    s2l_handler_fn *handler;
    const void *data;            /* for the handler, as req->route_data (e.g. the resource type) */
    const s2l_rmap *resource;    /* the resource type the row reads or writes, or NULL: the router
                                    checks the credential's access to it (step 5 above) */
    s2l_route_auth auth;
    unsigned flags;              /* S2L_ROUTE_* */
};

s2l_routes *s2l_routes_create(void);
void s2l_routes_destroy(s2l_routes *rt);
/* Adds a row (copied). -1 for a malformed pattern ("*" not last, empty
 * segment), no methods or no handler, or when out of memory. */
int s2l_routes_add(s2l_routes *rt, const s2l_route *row);

/* The route a request would take, without running it: the most specific row
 * for (path, method), where path is below base_path unless root. Sets *allow to
 * the methods of the rows matching the path (0: none matches) and *param to
 * the captured text (borrowed from path: *param_len bytes; NULL when none).
 * NULL when no row matches or the method is not allowed. For tests and tools. */
const s2l_route *s2l_routes_match(const s2l_routes *rt, const char *path, bool root, s2l_method method,
                                  unsigned *allow, const char **param, size_t *param_len);

/* "GET, POST, ..." for a method set, in a fixed order (buf holds at most len bytes). */
void s2l_methods_format(unsigned methods, char *buf, size_t len);

/* Routes req (its path, method and headers set by its transport): the checks
 * above, then the handler. The request may be over when this returns. */
void s2l_routes_dispatch(const s2l_routes *rt, s2l_req *req);

#endif
