/* search.c — POST /{Resource}/.search and POST /.search (RFC 7644 §3.4.3).
 *
 * A SearchRequest carries in its body what a list request carries in its
 * query (s2l/search_request.h turns one into the other), so a .search runs the
 * equivalent GET as a local request (s2l_req_run_local) with the caller's
 * credential: the same router (access to the type), list handler, paging,
 * sorting and errors, hence the same results.
 *
 * The root /.search searches every resource type of the mapping, in the
 * mapping's order (Users, then Groups in the shipped mappings): the result is
 * their concatenation, each type in its own order (sortBy sorts within each
 * type), totalResults the sum of the types' totals, and startIndex/count
 * apply to the concatenation. Types the credential may not read are left out;
 * a type that cannot take the request (a filter or sortBy attribute it does
 * not map: 400) contributes nothing, unless no type can (then that 400).
 *
 *   SEARCH_NEXT   start the GET of the next type (root) or the only one
 *   SEARCH_GOT    one GET answered: relay it (one type), or add it up (root)
 *   SEARCH_REPLY  the root's ListResponse
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "s2l/search_request.h"

typedef struct search_op {
    res_op base;
    enum { SEARCH_NEXT, SEARCH_GOT, SEARCH_REPLY } step;
    s2l_search_params params;
    bool root;
    size_t type;                 /* root: the next type to search */
    long start, count;           /* root: the request's window, defaults applied */
    unsigned long total, got;    /* root: the types' totals so far, resources collected */
    bool any_ok;
    json_t *resources;
    s2l_req *child;              /* the GET in flight (aborted when this request ends first) */
    /* the GET's answer */
    int status;
    json_t *body;
    char retry_after[16];
    /* root: the first 400 or 403 of a type, answered when no type could answer */
    int err_status;
    json_t *err_body;
} search_op;

static void search_fini(res_op *base)
{
    search_op *op = (search_op *)base;
    s2l_req_abort(op->child);
    s2l_search_params_fini(&op->params);
    json_decref(op->resources);
    json_decref(op->body);
    json_decref(op->err_body);
}

static void search_advance(res_op *base, const s2l_ldap_result *res);

static void on_child(void *arg, const s2l_reply *reply)
{
    search_op *op = arg;
    op->child = NULL; /* gone for us from here on */
    op->status = reply->status;
    json_decref(op->body);
    op->body = reply->body ? json_incref(reply->body) : NULL;
    op->retry_after[0] = 0;
    for (size_t i = 0; reply->headers && reply->headers[i] && reply->headers[i + 1]; i += 2)
        if (strcasecmp(reply->headers[i], "Retry-After") == 0)
            snprintf(op->retry_after, sizeof op->retry_after, "%s", reply->headers[i + 1]);
    search_advance(&op->base, NULL);
}

/* Answers with what the GET answered. */
static void relay(search_op *op, int status, json_t *body)
{
    const char *hdr[] = {"Retry-After", op->retry_after, NULL};
    s2l_req_reply_json(op->base.req, status, json_incref(body), op->retry_after[0] ? hdr : NULL);
}

/* Starts GET <endpoint>?<query> as a local request of the caller. */
static int start_get(search_op *op, const s2l_rmap *rm, long start, long count)
{
    s2l_req *req = op->base.req;
    char *query = s2l_search_params_query(&op->params, start, count);
    if (query == NULL) {
        res_oom(&op->base);
        return -1;
    }
    s2l_local_req lr = {.method = S2L_GET,
                        .path = s2l_rmap_info_of(rm)->endpoint,
                        .query = query,
                        .base_url = req->base_url,
                        .authenticated = true,
                        .auth = req->auth,
                        .cred = req->cred};
    op->child = s2l_req_run_local(req->gw, &lr, on_child, op);
    free(query);
    if (op->child == NULL) {
        res_oom(&op->base);
        return -1;
    }
    return 1;
}

static void reply_root(search_op *op)
{
    if (!op->any_ok && op->err_body) {
        relay(op, op->err_status, op->err_body);
        return;
    }
    json_t *body = json_pack("{s:[s], s:I, s:I, s:I, s:O}", "schemas", S2L_URN_LIST, "totalResults",
                             (json_int_t)op->total, "startIndex", (json_int_t)op->start, "itemsPerPage",
                             (json_int_t)op->got, "Resources", op->resources);
    if (body == NULL) {
        res_oom(&op->base);
        return;
    }
    s2l_req_reply_json(op->base.req, 200, body, NULL);
}

static void search_advance(res_op *base, const s2l_ldap_result *res)
{
    search_op *op = (search_op *)base;
    const s2l_mapping *m = base->req->gw->mapping;
    for (;;) {
        switch (op->step) {
        case SEARCH_NEXT: {
            if (!op->root) {
                op->step = SEARCH_GOT;
                start_get(op, base->rm, -1, -1);
                return;
            }
            if (op->type >= s2l_mapping_count(m)) {
                op->step = SEARCH_REPLY;
                break;
            }
            /* The first position not served yet, in this type's own numbering. */
            long next = op->start + (long)op->got;
            long local = next > (long)op->total ? next - (long)op->total : 1;
            op->step = SEARCH_GOT;
            start_get(op, s2l_mapping_at(m, op->type), local, op->count - (long)op->got);
            return;
        }
        case SEARCH_GOT: {
            if (!op->root) {
                relay(op, op->status, op->body);
                return;
            }
            op->type++;
            if (op->status == 200) {
                json_t *items = json_object_get(op->body, "Resources");
                op->any_ok = true;
                op->total += (unsigned long)json_integer_value(json_object_get(op->body, "totalResults"));
                op->got += json_array_size(items);
                json_array_extend(op->resources, items);
            } else if (op->status == 400 || op->status == 403) {
                if (op->err_body == NULL) {
                    op->err_status = op->status;
                    op->err_body = json_incref(op->body);
                }
            } else {
                relay(op, op->status, op->body);
                return;
            }
            op->step = SEARCH_NEXT;
            break;
        }
        case SEARCH_REPLY:
            reply_root(op);
            return;
        }
    }
    (void)res;
}

static void search_start(s2l_req *req, bool root)
{
    search_op *op = res_op_create(req, sizeof *op, search_advance, search_fini);
    if (op == NULL)
        return;
    op->root = root;
    s2l_error err;
    s2l_error_clear(&err);
    json_t *empty = req->body ? NULL : json_object();
    int rc = s2l_search_params_parse(req->body ? req->body : empty, &op->params, &err);
    json_decref(empty);
    if (rc < 0) {
        res_fail(&op->base, &err, 400, S2L_SCIM_INVALID_SYNTAX, "invalid SearchRequest");
        return;
    }
    if (root) {
        /* The window over all types, as the list handler would apply it to one. */
        const s2l_config *cfg = req->gw->cfg;
        op->start = op->params.start_index ? strtol(op->params.start_index, NULL, 10) : 1;
        op->count = op->params.count ? strtol(op->params.count, NULL, 10) : (long)cfg->limits.default_count;
        if (op->start < 1)
            op->start = 1;
        if (op->count < 0)
            op->count = 0;
        if (op->count > (long)cfg->limits.max_results)
            op->count = (long)cfg->limits.max_results;
        if ((op->resources = json_array()) == NULL) {
            res_oom(&op->base);
            return;
        }
    }
    search_advance(&op->base, NULL);
}

void s2l_res_search(s2l_req *req)
{
    search_start(req, false);
}

void s2l_res_search_root(s2l_req *req)
{
    search_start(req, true);
}
