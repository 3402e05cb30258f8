/* oauth_token.c — POST /oauth/token: reads the request, asks the auth module, answers. */
#include "oauth_token.h"

#include <stdio.h>
#include <string.h>

#include "request_auth.h"
#include "s2l/log.h"

/* Token requests are a few hundred bytes; anything near this is not one. */
#define TOKEN_BODY_MAX 16384

int s2l_oauth_token_register(s2l_routes *rt, const s2l_config *cfg, char *errbuf, size_t errlen)
{
    const char *path = cfg->auth.token.path; /* a plain path: the configuration checked it */
    /* Every method: this handler answers 405 in OAuth's error format. */
    s2l_route row = {.pattern = path,
                     .methods = S2L_ANY_METHOD,
                     .handler = s2l_oauth_token_handle,
                     .auth = S2L_AUTH_NONE,
                     .flags = S2L_ROUTE_ROOT | S2L_ROUTE_RAW_BODY};
    if (s2l_routes_add(rt, &row) < 0) {
        snprintf(errbuf, errlen, "auth.token_endpoint.path: %s cannot be routed", path);
        return -1;
    }
    return 0;
}

/* The row matches case-insensitively and with a trailing '/'; the endpoint
 * answers at exactly its path, and only while the auth state has it on. */
static bool token_path_is(const s2l_gateway *gw, const char *path)
{
    const char *tp = gw->auth ? s2l_auth_token_path(gw->auth) : NULL;
    return tp != NULL && strcmp(path, tp) == 0;
}

static void reply(s2l_req *req, int status, json_t *body, const char *challenge, int retry_after)
{
    char ra[16];
    const char *hdr[12];
    size_t n = 0;
    hdr[n++] = "Content-Type";
    hdr[n++] = "application/json; charset=utf-8";
    /* RFC 6749 §5.1: responses carrying tokens must not be cached. */
    hdr[n++] = "Cache-Control";
    hdr[n++] = "no-store";
    hdr[n++] = "Pragma";
    hdr[n++] = "no-cache";
    if (challenge && challenge[0]) {
        hdr[n++] = "WWW-Authenticate";
        hdr[n++] = challenge;
    }
    if (retry_after > 0) {
        snprintf(ra, sizeof ra, "%d", retry_after);
        hdr[n++] = "Retry-After";
        hdr[n++] = ra;
    }
    if (status == 405) {
        hdr[n++] = "Allow";
        hdr[n++] = "POST";
    }
    hdr[n] = NULL;
    s2l_req_reply_json(req, status, body, hdr);
}

void s2l_oauth_token_handle(s2l_req *req)
{
    if (!token_path_is(req->gw, req->path)) {
        const char *bp = req->gw->cfg->base_path;
        s2l_req_fail(req, 404, NULL, "no such endpoint %s (the SCIM base path is %s)", req->path,
                     bp[0] ? bp : "/");
        return;
    }
    if (req->method != S2L_POST) {
        reply(req, 405,
              json_pack("{s:s, s:s}", "error", "invalid_request", "error_description",
                        "the token endpoint accepts POST only"),
              NULL, 0);
        return;
    }
    size_t len = 0;
    const char *body = s2l_req_body_raw(req, &len);
    if (len > TOKEN_BODY_MAX) {
        reply(req, 400,
              json_pack("{s:s, s:s}", "error", "invalid_request", "error_description", "the request body is too large"),
              NULL, 0);
        return;
    }
    s2l_auth *auth = req->gw->auth;
    s2l_ip src;
    bool have_src = s2l_req_peer_ip(req, &src);
    s2l_token_request tr = {.authorization = s2l_req_header(req, "Authorization"),
                            .content_type = s2l_req_header(req, "Content-Type"),
                            .body = body && len ? body : "",
                            .body_len = len,
                            .source = have_src ? &src : NULL,
                            .now_ms = s2l_wall_ms()};
    s2l_token_reply rep;
    s2l_auth_issue_token(auth, &tr, &rep);
    if (rep.cred) {
        req->auth = s2l_auth_hold(auth);
        req->cred = rep.cred;
    }
    char addr[S2L_IP_TEXT_MAX] = "-";
    if (have_src)
        s2l_ip_format(&src, addr, sizeof addr);
    s2l_log(S2L_LOG_INFO, "event=token req=%llu status=%d reason=%s cred=%s source=%s",
            (unsigned long long)req->id, rep.status, rep.reason ? rep.reason : "-",
            rep.cred ? s2l_auth_cred_name(rep.cred) : "-", addr);
    if (rep.body == NULL) {
        s2l_req_fail(req, 503, NULL, "out of memory");
        return;
    }
    reply(req, rep.status, rep.body, rep.challenge, rep.retry_after);
}
