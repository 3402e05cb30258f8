/* oauth_token.h — the OAuth 2.0 token endpoint (client credentials grant) as
 * a route handler (shell). The grant itself is decided by the pure auth module
 * (s2l_auth_issue_token); this file reads the request and sends the answer
 * with the OAuth content type and no-store caching headers.
 *
 * The endpoint is a public root row of the route table at
 * auth.token_endpoint.path (default /oauth/token), outside the SCIM base path,
 * with its raw form body. It answers while the current auth state has the
 * endpoint on (auth.token_endpoint.signing_key_file, which a SIGHUP reload may
 * turn on or off); the path itself is read at start.
 */
#ifndef S2L_HTTP_OAUTH_TOKEN_H
#define S2L_HTTP_OAUTH_TOKEN_H

#include <stddef.h>

#include "route.h"
#include "s2l/config.h"

/* Adds the endpoint's row for cfg's auth.token_endpoint.path. 0, or -1 with
 * a message in errbuf (out of memory). */
int s2l_oauth_token_register(s2l_routes *rt, const s2l_config *cfg, char *errbuf, size_t errlen);
/* Answers the token request; ends req. */
void s2l_oauth_token_handle(s2l_req *req);

#endif
