/* request_auth.c — asks the auth module about a request and answers refusals. */
#include "request_auth.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../ops/audit_log.h"
#include "../ops/ops.h"
#include "s2l/log.h"

int64_t s2l_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool s2l_req_peer_ip(const s2l_req *req, s2l_ip *out)
{
    return req->transport->peer && req->transport->peer(req, out);
}

bool s2l_http_authenticate(s2l_req *req)
{
    s2l_auth *auth = req->gw->auth;
    s2l_ip src;
    bool have_src = s2l_req_peer_ip(req, &src);
    s2l_auth_input in = {.authorization = s2l_req_header(req, "Authorization"),
                         .source = have_src ? &src : NULL,
                         .now_ms = s2l_wall_ms()};
    s2l_auth_decision d;
    s2l_auth_authenticate(auth, &in, &d);
    if (d.cred) {
        /* Also on refusal, so that the access log names the credential. */
        req->auth = s2l_auth_hold(auth);
        req->cred = d.cred;
    }
    if (d.status == 0)
        return true;

    char addr[S2L_IP_TEXT_MAX] = "-";
    if (have_src)
        s2l_ip_format(&src, addr, sizeof addr);
    s2l_ops_auth_failure(req->gw->ops, d.reason);
    s2l_log(S2L_LOG_INFO, "event=auth_denied req=%llu status=%d reason=%s cred=%s source=%s",
            (unsigned long long)req->id, d.status, d.reason, d.cred ? s2l_auth_cred_name(d.cred) : "-", addr);
    s2l_error err;
    s2l_error_clear(&err);
    err.status = d.status;
    err.retry_after = d.retry_after;
    snprintf(err.detail, sizeof err.detail, "%s", d.detail);
    if (d.status != 401) {
        s2l_req_reply_error(req, &err);
        return false;
    }
    const char *hdr[] = {"WWW-Authenticate", d.challenges[0], "WWW-Authenticate", d.challenges[1], NULL};
    if (d.n_challenges < 2)
        hdr[2] = NULL;
    s2l_req_reply_json(req, 401, s2l_error_to_json(&err), hdr);
    return false;
}

bool s2l_http_permit(s2l_req *req, const s2l_rmap *rm)
{
    const s2l_rmap_info *info = s2l_rmap_info_of(rm);
    bool write = (req->method & (S2L_POST | S2L_PUT | S2L_PATCH | S2L_DELETE)) != 0;
    s2l_error err;
    s2l_error_clear(&err);
    if (s2l_auth_permit(req->cred, info->name, info->endpoint, write, &err) == 0)
        return true;
    s2l_ops_auth_failure(req->gw->ops, "forbidden_resource_type");
    s2l_audit_note_type(req, rm);
    s2l_log(S2L_LOG_INFO, "event=access_denied req=%llu status=403 cred=%s type=%s write=%d",
            (unsigned long long)req->id, req->cred ? s2l_auth_cred_name(req->cred) : "-", info->name, write);
    s2l_req_reply_error(req, &err);
    return false;
}
