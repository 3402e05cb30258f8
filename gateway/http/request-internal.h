/* request-internal.h — creation of requests, for server.c only. */
#ifndef S2L_HTTP_REQUEST_INTERNAL_H
#define S2L_HTTP_REQUEST_INTERNAL_H

#include "request.h"

/* A new request for evreq with its deadline armed; NULL on allocation failure. */
s2l_req *s2l_req_create_(s2l_server *srv, s2l_gateway *gw, struct evhttp_request *evreq, uint64_t id,
                         uint64_t start_us);

#endif
