/* request-internal.h — for the transports and the router in gateway/http only. */
#ifndef S2L_HTTP_REQUEST_INTERNAL_H
#define S2L_HTTP_REQUEST_INTERNAL_H

#include "request.h"

/* How a transport describes a request it hands over. */
typedef struct s2l_req_spec {
    s2l_method method;
    const char *path;            /* percent-encoded absolute path ("/scim/v2/Users/abc"); NULL = malformed */
    const char *query;           /* raw query string, or NULL */
    const char *base_url;        /* for Location and $ref; NULL = "" */
    const s2l_req_transport *transport;
    void *transport_ctx;
    bool authenticated;
    s2l_auth *auth;              /* with authenticated: the caller's credential (held by the request) */
    const s2l_auth_cred *cred;
    unsigned timeout_ms;         /* 0 = limits.request_timeout_ms */
} s2l_req_spec;

/* A new request with its path decoded, its query parsed and its deadline
 * armed; NULL when out of memory (the transport answers 503 itself). Route it
 * with s2l_routes_dispatch, or end it with a reply. */
s2l_req *s2l_req_create_(s2l_gateway *gw, const s2l_req_spec *spec);

#endif
