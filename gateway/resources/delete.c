/* delete.c — DELETE /{Resource}/{id}.
 *
 *   DEL_FETCH    search by id (its version only, for If-Match)
 *   DEL_FETCHED  404 / 412, or delete the entry
 *   DEL_DELETED  the LDAP error, or fix references to it (mapping
 *                "referential_integrity": "gateway"): a deleted user leaves no
 *                member or manager values behind
 *   DEL_REPLY    204
 *
 * One LDAP operation instead: when the id's DN is cached and the type's
 * delete policy is a plain delete, it starts at
 *   DEL_DIRECT       delete the cached DN with the assertion control (the
 *                    type's filter for the id, not protected, If-Match version)
 *   DEL_DIRECT_DONE  success → references fixed as in DEL_DELETED; a
 *                    refusal (stale DN 32, assertion 122, ...) deleted
 *                    nothing: forget the DN, go to DEL_FETCH
 */
#include <ldap.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "refint.h"
#include "s2l/log.h"
#include "s2l/patch_direct.h"

typedef struct delete_op {
    res_op base;
    enum { DEL_FETCH, DEL_FETCHED, DEL_DELETED, DEL_REPLY, DEL_DIRECT, DEL_DIRECT_DONE } step;
    char *assertion;             /* direct path: the assertion filter */
    char *read_attrs[2];         /* borrowed strings: the version attribute or "1.1" */
    char *dn;
} delete_op;

static void delete_fini(res_op *base)
{
    delete_op *op = (delete_op *)base;
    free(op->dn);
    free(op->assertion);
}

static void delete_advance(res_op *base, const s2l_ldap_result *res)
{
    delete_op *op = (delete_op *)base;
    s2l_req *req = base->req;
    for (;; res = NULL) {
        switch (op->step) {
        case DEL_FETCH: {
            const char *version_attr = res_info(base)->version_attr;
            op->read_attrs[0] = (char *)(version_attr ? version_attr : LDAP_NO_ATTRS);
            op->step = DEL_FETCHED;
            res_fetch_by_id(base, op->read_attrs);
            return;
        }
        case DEL_FETCHED: {
            json_t *entry = res_fetched(base, res);
            if (entry == NULL || !res_if_match(base, entry))
                return;
            if ((op->dn = strdup(json_string_value(json_object_get(entry, "dn")))) == NULL) {
                res_oom(base);
                return;
            }
            op->step = DEL_DELETED;
            if (s2l_req_ldap_delete(req, op->dn, res_on_ldap, op) < 0)
                res_oom(base);
            return;
        }
        case DEL_DELETED:
            if (res->rc != LDAP_SUCCESS) {
                s2l_req_fail_ldap(req, res, res_info(base)->name);
                return;
            }
            op->step = DEL_REPLY;
            res_cache_drop(base);
            if (s2l_refint_fix(req, base->rm, op->dn, NULL, res_on_lookup, op) != 0)
                return;
            break;
        case DEL_DIRECT:
            op->step = DEL_DIRECT_DONE;
            if (s2l_req_ldap_delete_assert(req, op->dn, op->assertion, res_on_ldap, op) < 0)
                res_oom(base);
            return;
        case DEL_DIRECT_DONE:
            res_cache_drop(base);
            if (res->rc == LDAP_SUCCESS) {
                op->step = DEL_REPLY;
                if (s2l_refint_fix(req, base->rm, op->dn, NULL, res_on_lookup, op) != 0)
                    return;
                break;
            }
            if (!res_direct_may_retry(res)) {
                s2l_req_fail_ldap(req, res, res_info(base)->name);
                return;
            }
            s2l_log(S2L_LOG_INFO, "event=delete_direct_fallback req=%llu rc=%d", (unsigned long long)req->id, res->rc);
            free(op->dn);
            free(op->assertion);
            op->dn = op->assertion = NULL;
            op->step = DEL_FETCH;
            break;
        case DEL_REPLY:
            s2l_req_reply_json(req, 204, NULL, NULL);
            return;
        }
    }
}

/* A cached DN and a plain delete of an entry that is not a group: start at
 * DEL_DIRECT (else the op stays at DEL_FETCH). Groups are not deleted with the
 * assertion: slapd's memberof overlay repeats the request's controls in its
 * own modify of every member (to drop memberOf), where (entryUUID=<group>)
 * fails, and the members would keep memberOf (measured: it_groups_okta).
 * For the same reason only where the gateway keeps references
 * ("referential_integrity": "gateway", the default): a user's delete makes
 * memberof-refint modify its groups with the assertion, which fails there,
 * and the gateway's own clean-up (DEL_REPLY's refint fix) removes the
 * member instead; with "directory" nothing would (it_direct_writes). */
static void try_direct(delete_op *op)
{
    res_op *base = &op->base;
    s2l_dp_info dp;
    s2l_rmap_deprovision_info(base->rm, true, &dp);
    if (!dp.hard_delete || dp.configured || res_is_group_like(base) ||
        !s2l_mapping_refint_by_gateway(base->req->gw->mapping))
        return;
    char *dn = res_cached_dn(base);
    char *a = dn ? s2l_rmap_write_assertion(base->rm, base->req->param, s2l_req_header(base->req, "If-Match")) : NULL;
    if (a == NULL) {
        free(dn);
        return;
    }
    op->dn = dn;
    op->assertion = a;
    op->step = DEL_DIRECT;
}

void s2l_res_delete(s2l_req *req)
{
    delete_op *op = res_op_create(req, sizeof *op, delete_advance, delete_fini);
    if (op == NULL || !res_directory_up(&op->base))
        return;
    try_direct(op);
    delete_advance(&op->base, NULL);
}
