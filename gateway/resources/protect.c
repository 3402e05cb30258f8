/* protect.c — writes skip protected entries (see protect.h). */
#include "protect.h"

#include <ldap.h>
#include <stdlib.h>

#include "s2l/log.h"

static void on_protected_probe(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    res_op *op = arg;
    const char *type = res_info(op)->name;
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        s2l_req_fail_ldap(req, res, type);
        return;
    }
    if (json_array_size(res->entries) == 0) {
        s2l_req_fail(req, 404, NULL, "%s %s not found", type, req->param);
        return;
    }
    s2l_log(S2L_LOG_INFO, "event=protected_refused req=%llu type=%s", (unsigned long long)req->id, type);
    s2l_req_fail(req, 403, NULL,
                 "%s %s is protected (the mapping's provisioning.protected filter): the gateway does not modify, "
                 "rename, disable or delete it",
                 type, req->param);
}

static void on_write_fetch(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    res_op *op = arg;
    if (res->rc != LDAP_SUCCESS || json_array_size(res->entries) > 0) {
        op->advance(op, res);
        return;
    }
    /* a miss: protected, or not there at all */
    static char *no_attrs[] = {LDAP_NO_ATTRS, NULL};
    char *f = s2l_rmap_id_filter(op->rm, req->param);
    s2l_search_req sr = {.base = res_info(op)->base_dn, .scope = s2l_ldap_scope(res_info(op)->scope),
                         .filter = f, .attrs = no_attrs, .size_limit = 1};
    int rc = f ? s2l_req_ldap_search(req, &sr, on_protected_probe, op) : -1;
    free(f);
    if (rc < 0)
        res_oom(op);
}

int res_fetch_for_write(res_op *op, char *const *attrs)
{
    if (s2l_rmap_protected_filter(op->rm) == NULL)
        return res_fetch_by_id(op, attrs);
    s2l_req *req = op->req;
    char *f = s2l_rmap_write_id_filter(op->rm, req->param);
    if (f == NULL) {
        s2l_req_fail(req, 404, NULL, "%s %s not found", res_info(op)->name, req->param);
        return -1;
    }
    s2l_search_req sr = {.base = res_info(op)->base_dn, .scope = s2l_ldap_scope(res_info(op)->scope),
                         .filter = f, .attrs = attrs, .size_limit = 2};
    int rc = s2l_req_ldap_search(req, &sr, on_write_fetch, op);
    free(f);
    if (rc < 0) {
        res_oom(op);
        return -1;
    }
    return 1;
}
