/* delete.c — DELETE /{Resource}/{id}: the entry is deleted, or, under a
 * "deprovision": {"delete": {...}} policy (mappings/README.md), disabled and
 * moved out of the type's search scope so that it answers 404 from now on
 * (RFC 7644 §3.6) while the directory keeps it.
 *
 *   DEL_FETCH     search by id, skipping protected entries (403; protect.h):
 *                 the version (If-Match) and what the policy reads
 *   DEL_FETCHED   404 / 412; the policy's plan: delete, or move then modify
 *   DEL_DELETED   the LDAP error, or fix references to it (mapping
 *                 "referential_integrity": "gateway"): a deleted user leaves no
 *                 member or manager values behind
 *   DEL_MOVED     soft delete: the move (modrdn with new superior) → modify
 *   DEL_MODIFIED  the policy's modify refused → move back (all or nothing)
 *   DEL_MOVED_BACK answer with the modify's failure
 *   DEL_REFINT    soft delete done: references follow the entry to its new DN
 *   DEL_REPLY     204
 *
 * One LDAP operation instead: when the id's DN is cached and the type's
 * delete policy is a plain delete (try_direct says where), it starts at
 *   DEL_DIRECT       delete the cached DN with the assertion control (the
 *                    type's filter for the id, not protected, If-Match version;
 *                    on OpenLDAP widened to the entries memberof modifies)
 *   DEL_DIRECT_DONE  success → references fixed as in DEL_DELETED; a
 *                    refusal (stale DN 32, assertion 122, ...) deleted
 *                    nothing: forget the DN, go to DEL_FETCH
 */
#include <ldap.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "protect.h"
#include "refint.h"
#include "s2l/log.h"
#include "s2l/patch_direct.h"
#include "s2l/write_assertion.h"

typedef struct delete_op {
    res_op base;
    enum { DEL_FETCH, DEL_FETCHED, DEL_DELETED, DEL_MOVED, DEL_MODIFIED, DEL_MOVED_BACK, DEL_REFINT, DEL_REPLY,
           DEL_DIRECT, DEL_DIRECT_DONE } step;
    char *assertion;             /* direct path: the assertion filter */
    char **read_attrs;           /* the version and the policy's attributes */
    char *dn;
    json_t *plan;                /* s2l_rmap_plan_delete's answer */
    char *new_dn;                /* after the move */
    s2l_ldap_result failure;     /* the modify's failure while moving back (diag: failure_diag) */
    char *failure_diag;
} delete_op;

static void delete_fini(res_op *base)
{
    delete_op *op = (delete_op *)base;
    s2l_strv_free(op->read_attrs);
    free(op->dn);
    json_decref(op->plan);
    free(op->new_dn);
    free(op->failure_diag);
    free(op->assertion);
}

static const char *plan_superior(const delete_op *op)
{
    return json_string_value(json_object_get(op->plan, "newsuperior"));
}

static void delete_advance(res_op *base, const s2l_ldap_result *res)
{
    delete_op *op = (delete_op *)base;
    s2l_req *req = base->req;
    const char *type = res_info(base)->name;
    for (;; res = NULL) {
        switch (op->step) {
        case DEL_FETCH:
            if ((op->read_attrs = s2l_rmap_delete_read_attrs(base->rm)) == NULL) {
                res_oom(base);
                return;
            }
            op->step = DEL_FETCHED;
            res_fetch_for_write(base, op->read_attrs);
            return;

        case DEL_FETCHED: {
            json_t *entry = res_fetched(base, res);
            if (entry == NULL || !res_if_match(base, entry))
                return;
            if ((op->dn = strdup(json_string_value(json_object_get(entry, "dn")))) == NULL) {
                res_oom(base);
                return;
            }
            s2l_error err;
            s2l_error_clear(&err);
            if ((op->plan = s2l_rmap_plan_delete(base->rm, entry, &err)) == NULL) {
                res_fail(base, &err, 502, NULL, "the deletion cannot be planned");
                return;
            }
            if (json_is_true(json_object_get(op->plan, "delete"))) {
                op->step = DEL_DELETED;
                if (s2l_req_ldap_delete(req, op->dn, res_on_ldap, op) < 0)
                    res_oom(base);
                return;
            }
            /* soft delete: out of the search scope first, so that a failed
             * modify can be undone by moving back */
            char *rdn = s2l_dn_rdn(op->dn);
            op->step = DEL_MOVED;
            int rc = rdn ? s2l_req_ldap_move(req, op->dn, rdn, plan_superior(op), res_on_ldap, op) : -1;
            free(rdn);
            if (rc < 0)
                res_oom(base);
            return;
        }

        case DEL_DELETED:
            if (res->rc != LDAP_SUCCESS) {
                s2l_req_fail_ldap(req, res, type);
                return;
            }
            res_cache_drop(base);
            op->step = DEL_REPLY;
            if (s2l_refint_fix(req, base->rm, op->dn, NULL, res_on_lookup, op) != 0)
                return;
            break;

        case DEL_MOVED: {
            if (res->rc == LDAP_NO_SUCH_OBJECT) /* the entry was just read: likely the container is missing */
                s2l_log(S2L_LOG_ERROR, "event=deprovision_move_failed req=%llu type=%s rc=32 "
                                       "hint=\"does deprovision.delete.move_to exist?\"",
                        (unsigned long long)req->id, type);
            if (res->rc != LDAP_SUCCESS) {
                s2l_req_fail_ldap(req, res, type);
                return;
            }
            res_cache_drop(base); /* out of the scope now */
            char *rdn = s2l_dn_rdn(op->dn);
            op->new_dn = rdn ? s2l_dn_join(rdn, plan_superior(op)) : NULL;
            free(rdn);
            if (op->new_dn == NULL) {
                res_oom(base);
                return;
            }
            const json_t *mods = json_object_get(op->plan, "mods");
            if (json_array_size(mods) == 0) {
                op->step = DEL_REFINT;
                break;
            }
            op->step = DEL_MODIFIED;
            if (s2l_req_ldap_modify(req, op->new_dn, mods, NULL, res_on_ldap, op) < 0)
                res_oom(base);
            return;
        }

        case DEL_MODIFIED: {
            if (res->rc == LDAP_SUCCESS) {
                op->step = DEL_REFINT;
                break;
            }
            /* all or nothing: the entry goes back where it was */
            op->failure = (s2l_ldap_result){.rc = res->rc, .msgid = res->msgid};
            if (res->diag && (op->failure_diag = strdup(res->diag)) != NULL)
                op->failure.diag = op->failure_diag;
            char *rdn = s2l_dn_rdn(op->dn);
            op->step = DEL_MOVED_BACK;
            int rc = rdn ? s2l_req_ldap_move(req, op->new_dn, rdn, s2l_dn_parent(op->dn), res_on_ldap, op) : -1;
            free(rdn);
            if (rc < 0)
                s2l_req_fail_ldap(req, &op->failure, type);
            return;
        }

        case DEL_MOVED_BACK:
            if (res->rc != LDAP_SUCCESS)
                s2l_log(S2L_LOG_ERROR, "event=rename_rollback_failed req=%llu rc=%d", (unsigned long long)req->id,
                        res->rc);
            s2l_req_fail_ldap(req, &op->failure, type);
            return;

        case DEL_REFINT:
            op->step = DEL_REPLY;
            if (s2l_refint_fix(req, base->rm, op->dn, op->new_dn, res_on_lookup, op) != 0)
                return;
            break;

        case DEL_REPLY:
            s2l_req_reply_json(req, 204, NULL, NULL);
            return;

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
                s2l_req_fail_ldap(req, res, type);
                return;
            }
            s2l_log(S2L_LOG_INFO, "event=delete_direct_fallback req=%llu rc=%d", (unsigned long long)req->id, res->rc);
            free(op->dn);
            free(op->assertion);
            op->dn = op->assertion = NULL;
            op->step = DEL_FETCH;
            break;
        }
    }
}

/* A cached DN and a plain delete: start at DEL_DIRECT (else the op stays at
 * DEL_FETCH). slapd's memberof overlay repeats the request's controls in its
 * own modifies within the delete (memberof-refint: the groups listing a
 * deleted entry; a deleted group's members' memberOf), where the type's
 * assertion (entryUUID=<id>) is false: they would fail and leave member /
 * memberOf values behind. On OpenLDAP the assertion is widened to exactly
 * those entries (s2l/write_assertion.h). Elsewhere only users under
 * "referential_integrity": "gateway" go direct (the gateway's own clean-up,
 * DEL_REPLY's refint fix, removes the member), as before; groups and
 * "directory" deletes read first. */
static void try_direct(delete_op *op)
{
    res_op *base = &op->base;
    s2l_gateway *gw = base->req->gw;
    s2l_dp_info dp;
    s2l_rmap_deprovision_info(base->rm, true, &dp);
    if (!dp.hard_delete || dp.configured)
        return;
    bool widen = s2l_pool_supports_control(gw->pool, S2L_CONTROL_OPENLDAP_SUBENTRIES);
    if (!widen && (res_is_group_like(base) || !s2l_mapping_refint_by_gateway(gw->mapping)))
        return;
    char *dn = res_cached_dn(base);
    char *a = dn ? s2l_rmap_write_assertion(base->rm, base->req->param, s2l_req_header(base->req, "If-Match")) : NULL;
    if (a && widen) {
        char *w = s2l_rmap_delete_assertion(base->rm, dn, a);
        free(a);
        a = w;
    }
    if (a == NULL) {
        free(dn);
        return;
    }
    s2l_log(S2L_LOG_DEBUG, "event=delete_path req=%llu path=direct", (unsigned long long)base->req->id);
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
