/* oauth_token.h — the OAuth 2.0 token endpoint (client credentials grant) as
 * an HTTP handler (shell). The grant itself is decided by the pure auth module
 * (s2l_auth_issue_token); this file reads the request and sends the answer
 * with the OAuth content type and no-store caching headers.
 *
 * The endpoint lives outside the SCIM base path (auth.token_endpoint.path,
 * default /oauth/token) and exists only while auth.token_endpoint.signing_key_file
 * is configured.
 */
#ifndef S2L_HTTP_OAUTH_TOKEN_H
#define S2L_HTTP_OAUTH_TOKEN_H

#include <stdbool.h>

#include "request.h"

/* Whether the decoded request path is the token endpoint. */
bool s2l_oauth_token_path_is(const s2l_gateway *gw, const char *path);
/* Answers the token request; ends req. */
void s2l_oauth_token_handle(s2l_req *req);

#endif
