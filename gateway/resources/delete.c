/* delete.c — DELETE /{Resource}/{id}.
 *
 *   DEL_FETCH    search by id (its version only, for If-Match)
 *   DEL_FETCHED  404 / 412, or delete the entry
 *   DEL_DELETED  the LDAP error, or fix references to it (mapping
 *                "referential_integrity": "gateway"): a deleted user leaves no
 *                member or manager values behind
 *   DEL_REPLY    204
 */
#include <ldap.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "refint.h"

typedef struct delete_op {
    res_op base;
    enum { DEL_FETCH, DEL_FETCHED, DEL_DELETED, DEL_REPLY } step;
    char *read_attrs[2];         /* borrowed strings: the version attribute or "1.1" */
    char *dn;
} delete_op;

static void delete_fini(res_op *base)
{
    delete_op *op = (delete_op *)base;
    free(op->dn);
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
            if (s2l_refint_fix(req, base->rm, op->dn, NULL, res_on_lookup, op) != 0)
                return;
            break;
        case DEL_REPLY:
            s2l_req_reply_json(req, 204, NULL, NULL);
            return;
        }
    }
}

void s2l_res_delete(s2l_req *req)
{
    delete_op *op = res_op_create(req, sizeof *op, delete_advance, delete_fini);
    if (op == NULL || !res_directory_up(&op->base))
        return;
    delete_advance(&op->base, NULL);
}
