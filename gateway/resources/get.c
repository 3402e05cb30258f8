/* get.c — GET /{Resource}/{id}: find the entry by id, reply with it.
 *
 *   GET_FETCH    search by id for the attributes the response needs
 *   GET_FETCHED  404 or the entry → the reply sub-operation (references, render)
 */
#include <ldap.h>

#include "common.h"

typedef struct get_op {
    res_op base;
    enum { GET_FETCH, GET_FETCHED } step;
} get_op;

static void get_advance(res_op *base, const s2l_ldap_result *res)
{
    get_op *op = (get_op *)base;
    switch (op->step) {
    case GET_FETCH: {
        char *const *attrs = res_output_attrs(base);
        if (attrs == NULL) {
            res_oom(base);
            return;
        }
        op->step = GET_FETCHED;
        res_fetch_by_id(base, attrs);
        return;
    }
    case GET_FETCHED: {
        json_t *entry = res_fetched(base, res);
        if (entry)
            res_reply_resource(base, entry, NULL, 200);
        return;
    }
    }
}

void s2l_res_get(s2l_req *req)
{
    get_op *op = res_op_create(req, sizeof *op, get_advance, NULL);
    if (op == NULL || !res_parse_projection(&op->base) || !res_directory_up(&op->base))
        return;
    get_advance(&op->base, NULL);
}
