/* request_auth.h — authentication and access control of a request (shell).
 *
 * The decisions are made by the pure auth module (include/s2l/auth.h); these
 * functions hand it the request's Authorization header, client address and
 * the clock, and send the refusal through the one reply path (request.c).
 * The router (route.c) calls them: s2l_http_authenticate for every route
 * that needs a credential, then s2l_http_permit once the matched row names
 * its resource type.
 */
#ifndef S2L_HTTP_REQUEST_AUTH_H
#define S2L_HTTP_REQUEST_AUTH_H

#include <stdbool.h>

#include "request.h"
#include "s2l/cidr.h"
#include "s2l/mapping.h"

/* true: req->auth and req->cred are set, carry on. false: a 401, 403 or 429
 * has been sent and req is gone. */
bool s2l_http_authenticate(s2l_req *req);

/* read_only and resource_types of req->cred for the resource type rm and
 * req->method (POST, PUT, PATCH and DELETE write). true: allowed. false: a
 * 403 has been sent and req is gone. */
bool s2l_http_permit(s2l_req *req, const s2l_rmap *rm);

/* The client's address (from the transport); false when unknown. */
bool s2l_req_peer_ip(const s2l_req *req, s2l_ip *out);
/* Wall clock in milliseconds since the epoch (expiry, rate limits). */
int64_t s2l_wall_ms(void);

#endif
