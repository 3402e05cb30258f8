/* bulk.c — POST /Bulk (RFC 7644 §3.7).
 *
 * The request is parsed and planned by the pure module (s2l/bulk.h: checks,
 * bulkId references, run order); each operation then runs as a local request
 * (s2l_req_run_local) with the caller's credential, through exactly the
 * router, handler, LDAP operations, errors and access log of a direct request.
 *
 * One operation at a time, in the request's order (an operation that refers to
 * a later POST's bulkId waits for it): an operation sees what the ones before
 * it did (a PATCH of a group created two operations earlier, a member created
 * just before), the outcome is what the client would get sending them one by
 * one, failOnErrors counts errors in that order, and two operations never race
 * on the same entry (a group's member list). There is no rollback: an
 * operation that fails leaves the ones before it done, and the rest still run
 * until failOnErrors errors have happened (RFC 7644 §3.7.3).
 *
 *   BULK_NEXT   answer a refused operation at once, or resolve its bulkId
 *               references and start it
 *   BULK_DONE   its answer: the BulkResponse item, the new id of a POST's bulkId
 *   BULK_REPLY  200 with the BulkResponse (the operations run, in that order)
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "s2l/bulk.h"

typedef struct bulk_run {
    res_op base;
    enum { BULK_NEXT, BULK_DONE, BULK_REPLY } step;
    json_t *request;             /* the parsed body */
    s2l_bulk *bulk;
    size_t k;                    /* next position in bulk->order */
    unsigned long errors;
    json_t *ids;                 /* bulkId → id of what the request created */
    json_t *results;             /* the BulkResponse items */
    s2l_req *child;              /* the operation running (aborted if this request ends first) */
    const s2l_bulk_op *op;       /* ... and which one it is */
    char *path;                  /* its path, references resolved */
    int status;                  /* its answer */
    json_t *body;
    char *location, *etag;
} bulk_run;

static void bulk_fini(res_op *base)
{
    bulk_run *b = (bulk_run *)base;
    s2l_req_abort(b->child);
    json_decref(b->request);
    s2l_bulk_destroy(b->bulk);
    json_decref(b->ids);
    json_decref(b->results);
    free(b->path);
    json_decref(b->body);
    free(b->location);
    free(b->etag);
}

static void bulk_advance(res_op *base, const s2l_ldap_result *res);

static void on_operation(void *arg, const s2l_reply *reply)
{
    bulk_run *b = arg;
    b->child = NULL;
    b->status = reply->status;
    b->body = reply->body ? json_incref(reply->body) : NULL;
    for (size_t i = 0; reply->headers && reply->headers[i] && reply->headers[i + 1]; i += 2) {
        if (strcasecmp(reply->headers[i], "Location") == 0 && b->location == NULL)
            b->location = strdup(reply->headers[i + 1]);
        else if (strcasecmp(reply->headers[i], "ETag") == 0 && b->etag == NULL)
            b->etag = strdup(reply->headers[i + 1]);
    }
    bulk_advance(&b->base, NULL);
}

static s2l_method method_of(const char *m)
{
    return strcmp(m, "POST") == 0 ? S2L_POST : strcmp(m, "PUT") == 0 ? S2L_PUT : strcmp(m, "PATCH") == 0 ? S2L_PATCH
                                                                                                       : S2L_DELETE;
}

/* Adds an operation's item; false after replying 503 (out of memory). */
static bool add_result(bulk_run *b, const s2l_bulk_op *op, int status, const json_t *error_body,
                       const char *location, const char *version)
{
    json_t *item = s2l_bulk_result(op, status, error_body, location, version);
    if (item == NULL || json_array_append_new(b->results, item) != 0) {
        res_oom(&b->base);
        return false;
    }
    if (status >= 400)
        b->errors++;
    return true;
}

/* An operation answered without running (refused when parsed, or a
 * reference that did not resolve). */
static bool add_refused(bulk_run *b, const s2l_bulk_op *op, const s2l_error *err)
{
    json_t *body = s2l_error_to_json(err);
    char loc[2048];
    /* RFC 7644 §3.7.3: a location, except for a POST that failed. */
    bool has_loc = op->path && op->method && strcmp(op->method, "POST") != 0 &&
                   snprintf(loc, sizeof loc, "%s%s", b->base.req->base_url, op->path) < (int)sizeof loc;
    bool ok = add_result(b, op, err->status, body, has_loc ? loc : NULL, NULL);
    json_decref(body);
    return ok;
}

/* The running operation answered: its item, and the id its bulkId now means. */
static bool operation_done(bulk_run *b)
{
    const s2l_bulk_op *op = b->op;
    const json_t *meta = json_object_get(b->body, "meta");
    const char *location = b->location ? b->location : json_string_value(json_object_get(meta, "location"));
    const char *version = b->etag ? b->etag : json_string_value(json_object_get(meta, "version"));
    char loc[2048];
    if (location == NULL && strcmp(op->method, "POST") != 0 &&
        snprintf(loc, sizeof loc, "%s%s", b->base.req->base_url, b->path) < (int)sizeof loc)
        location = loc;
    if (b->status < 300 && strcmp(op->method, "POST") == 0 && op->bulk_id) {
        const char *id = json_string_value(json_object_get(b->body, "id"));
        if (id && json_object_set_new(b->ids, op->bulk_id, json_string(id)) != 0) {
            res_oom(&b->base);
            return false;
        }
    }
    bool ok = add_result(b, op, b->status, b->body, location, b->status < 400 ? version : NULL);
    free(b->path);
    json_decref(b->body);
    free(b->location);
    free(b->etag);
    b->path = NULL;
    b->body = NULL;
    b->location = b->etag = NULL;
    return ok;
}

/* Starts op with its references resolved; 1 started, 0 answered without
 * running (a reference did not resolve), -1 replied (out of memory). */
static int start_operation(bulk_run *b, const s2l_bulk_op *op)
{
    s2l_req *req = b->base.req;
    s2l_error err;
    s2l_error_clear(&err);
    json_t *data = NULL;
    if (s2l_bulk_resolve(op, b->ids, &b->path, &data, &err) < 0) {
        if (err.status >= 500) {
            res_oom(&b->base);
            return -1;
        }
        return add_refused(b, op, &err) ? 0 : -1;
    }
    const char *headers[] = {"If-Match", op->version, NULL};
    s2l_local_req lr = {.method = method_of(op->method),
                        .path = b->path,
                        .headers = op->version ? headers : NULL,
                        .body = data,
                        .base_url = req->base_url,
                        .authenticated = true,
                        .auth = req->auth,
                        .cred = req->cred};
    b->op = op;
    b->child = s2l_req_run_local(req->gw, &lr, on_operation, b);
    json_decref(data);
    if (b->child == NULL) {
        res_oom(&b->base);
        return -1;
    }
    return 1;
}

static void bulk_advance(res_op *base, const s2l_ldap_result *res)
{
    bulk_run *b = (bulk_run *)base;
    (void)res;
    for (;;) {
        switch (b->step) {
        case BULK_NEXT: {
            bool stop = b->bulk->fail_on_errors > 0 && b->errors >= (unsigned long)b->bulk->fail_on_errors;
            if (stop || b->k >= b->bulk->n) {
                b->step = BULK_REPLY;
                break;
            }
            const s2l_bulk_op *op = &b->bulk->ops[b->bulk->order[b->k++]];
            if (op->error.status) {
                if (!add_refused(b, op, &op->error))
                    return;
                break;
            }
            b->step = BULK_DONE;
            int rc = start_operation(b, op);
            if (rc != 0)
                return;
            b->step = BULK_NEXT;
            break;
        }
        case BULK_DONE:
            if (!operation_done(b))
                return;
            b->step = BULK_NEXT;
            break;
        case BULK_REPLY: {
            json_t *body = json_pack("{s:[s], s:O}", "schemas", S2L_URN_BULK_RESPONSE, "Operations", b->results);
            if (body == NULL) {
                res_oom(base);
                return;
            }
            s2l_req_reply_json(base->req, 200, body, NULL);
            return;
        }
        }
    }
}

/* The BulkRequest: a local caller's JSON, or the raw HTTP body, read here
 * because Bulk has its own size limit (maxPayloadSize). NULL after replying. */
static json_t *read_request(s2l_req *req)
{
    const s2l_config *cfg = req->gw->cfg;
    if (req->body)
        return json_incref(req->body);
    size_t len = 0;
    const char *data = s2l_req_body_raw(req, &len);
    if (len > cfg->limits.bulk_max_payload_bytes) {
        s2l_req_fail(req, 413, NULL, "The size of the bulk operation (%zu bytes) exceeds the maxPayloadSize (%zu).",
                     len, cfg->limits.bulk_max_payload_bytes);
        return NULL;
    }
    if (data == NULL || len == 0) {
        s2l_req_fail(req, 400, S2L_SCIM_INVALID_SYNTAX, "a BulkRequest body is required");
        return NULL;
    }
    if (!s2l_content_type_is_json(s2l_req_header(req, "Content-Type"))) {
        s2l_req_fail(req, 415, NULL, "Content-Type must be application/scim+json or application/json");
        return NULL;
    }
    json_error_t jerr;
    json_t *body = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (body == NULL)
        s2l_req_fail(req, 400, S2L_SCIM_INVALID_SYNTAX, "request body is not valid JSON: %s at line %d column %d",
                     jerr.text, jerr.line, jerr.column);
    return body;
}

void s2l_res_bulk(s2l_req *req)
{
    bulk_run *b = res_op_create(req, sizeof *b, bulk_advance, bulk_fini);
    if (b == NULL)
        return;
    json_t *request = read_request(req);
    if (request == NULL)
        return; /* answered: b is gone */
    b->request = request;
    const s2l_config *cfg = req->gw->cfg;
    s2l_error err;
    s2l_error_clear(&err);
    b->bulk = s2l_bulk_parse(b->request, cfg->limits.bulk_max_operations, &err);
    if (b->bulk == NULL) {
        res_fail(&b->base, &err, 400, S2L_SCIM_INVALID_SYNTAX, "invalid BulkRequest");
        return;
    }
    if ((b->ids = json_object()) == NULL || (b->results = json_array()) == NULL) {
        res_oom(&b->base);
        return;
    }
    if (!res_directory_up(&b->base))
        return;
    /* Every operation has its own deadline (limits.request_timeout_ms); this
     * one only stops a Bulk that would outlive all of them. */
    unsigned long long ms = (unsigned long long)cfg->limits.request_timeout_ms * (b->bulk->n + 1);
    s2l_req_set_deadline(req, ms > UINT_MAX ? UINT_MAX : (unsigned)ms);
    bulk_advance(&b->base, NULL);
}
