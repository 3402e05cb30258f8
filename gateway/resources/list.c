/* list.c — GET /{Resource}: filter, startIndex, count, projection.
 *
 * Most list requests (IdP look-ups by userName or externalId) match a handful
 * of entries: one search with a small size limit answers them (phase A).
 * Larger results switch to phase B: enumerate the DNs only (at most
 * limits.max_list_scan), then fetch just the page's entries.
 *
 *   LIST_RESOLVE_IDS   ids the filter compares references with → DNs
 *   LIST_SEARCH        the LDAP filter; phase A search (or B at once for count=0)
 *   LIST_INLINE_DONE   small result: the page; too many: phase B
 *   LIST_SCAN          phase B: every matching DN
 *   LIST_SCANNED       400 tooMany past the scan limit; one base search per page entry
 *   LIST_PAGE_FETCHED  the page, in order, without entries deleted meanwhile
 *   LIST_REFS          resolve the page's references
 *   LIST_REPLY         the ListResponse
 */
#include <ldap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "lookup.h"

/* Phase A's size limit. */
#define LIST_INLINE_LIMIT 50

typedef struct list_op list_op;

typedef struct page_slot {
    list_op *op;
    size_t idx;                  /* position in the page */
} page_slot;

struct list_op {
    res_op base;
    enum {
        LIST_RESOLVE_IDS,
        LIST_SEARCH,
        LIST_INLINE_DONE,
        LIST_SCAN,
        LIST_SCANNED,
        LIST_PAGE_FETCHED,
        LIST_REFS,
        LIST_REPLY,
    } step;
    unsigned long start_index, count, total;
    s2l_filter *filter;          /* NULL: all */
    char *ldap_filter;
    json_t *page;                /* the page's entries, in order */
    page_slot *slots;            /* phase B: one per page entry */
};

static void list_fini(res_op *base)
{
    list_op *op = (list_op *)base;
    s2l_filter_destroy(op->filter);
    free(op->ldap_filter);
    json_decref(op->page);
    free(op->slots);
}

static void list_advance(res_op *base, const s2l_ldap_result *res);

static void on_page_entry(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    page_slot *slot = arg;
    list_op *op = slot->op;
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        s2l_req_fail_ldap(req, res, "resource");
        return;
    }
    json_t *e = json_array_get(res->entries, 0);
    if (e)
        json_array_set(op->page, slot->idx, e);
    if (--op->base.pending == 0)
        list_advance(&op->base, NULL);
}

static void list_reply(list_op *op)
{
    res_op *base = &op->base;
    json_t *resources = json_array();
    json_t *body = json_pack("{s:[s], s:I, s:I, s:I, s:o}", "schemas", S2L_URN_LIST, "totalResults",
                             (json_int_t)op->total, "startIndex", (json_int_t)op->start_index, "itemsPerPage",
                             (json_int_t)json_array_size(op->page), "Resources", resources);
    if (body == NULL) {
        res_oom(base);
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(op->page, i, e) {
        json_t *r = s2l_rmap_to_scim(base->rm, e, base->refs, base->req->base_url, NULL);
        if (r == NULL)
            continue; /* an entry without an id attribute is not a SCIM resource */
        s2l_projection_apply(base->proj, res_rtype(base), r);
        json_array_append_new(resources, r);
    }
    json_object_set_new(body, "itemsPerPage", json_integer((json_int_t)json_array_size(resources)));
    s2l_req_reply_json(base->req, 200, body, NULL);
}

/* Searches the type's base for the LDAP filter. */
static int list_search(list_op *op, char *const *attrs, int size_limit)
{
    const s2l_rmap_info *in = res_info(&op->base);
    s2l_search_req sr = {.base = in->base_dn, .scope = s2l_ldap_scope(in->scope), .filter = op->ldap_filter,
                         .attrs = attrs, .size_limit = size_limit};
    if (s2l_req_ldap_search(op->base.req, &sr, res_on_ldap, op) < 0) {
        res_oom(&op->base);
        return -1;
    }
    return 1;
}

static void list_advance(res_op *base, const s2l_ldap_result *res)
{
    list_op *op = (list_op *)base;
    s2l_req *req = base->req;
    const s2l_config *cfg = req->gw->cfg;
    for (;; res = NULL) {
        switch (op->step) {
        case LIST_RESOLVE_IDS: {
            json_t *ids = op->filter ? s2l_rmap_filter_ref_ids(base->rm, op->filter) : json_array();
            if (ids == NULL) {
                res_oom(base);
                return;
            }
            op->step = LIST_SEARCH;
            int rc = s2l_lookup_ids(req, ids, &base->ids, res_on_lookup, op);
            json_decref(ids);
            if (rc != 0)
                return;
            break;
        }
        case LIST_SEARCH: {
            if (res) {
                s2l_req_fail_ldap(req, res, "a referenced entry");
                return;
            }
            s2l_error err;
            s2l_error_clear(&err);
            op->ldap_filter = s2l_rmap_ldap_filter(base->rm, op->filter, base->ids, &err);
            if (op->ldap_filter == NULL) {
                res_fail(base, &err, 400, S2L_SCIM_INVALID_FILTER, "the filter cannot be translated");
                return;
            }
            if (op->count == 0) {
                op->step = LIST_SCAN;
                break;
            }
            op->step = LIST_INLINE_DONE;
            list_search(op, res_output_attrs(base), LIST_INLINE_LIMIT);
            return;
        }
        case LIST_INLINE_DONE: {
            if (res->rc == LDAP_SIZELIMIT_EXCEEDED) {
                op->step = LIST_SCAN;
                break;
            }
            if (res->rc != LDAP_SUCCESS) {
                s2l_req_fail_ldap(req, res, "resources");
                return;
            }
            size_t n = json_array_size(res->entries);
            op->total = n;
            if ((op->page = json_array()) == NULL) {
                res_oom(base);
                return;
            }
            for (size_t i = op->start_index - 1; i < n && json_array_size(op->page) < op->count; i++)
                json_array_append(op->page, json_array_get(res->entries, i));
            op->step = LIST_REFS;
            break;
        }
        case LIST_SCAN: {
            static char *no_attrs[] = {LDAP_NO_ATTRS, NULL};
            op->step = LIST_SCANNED;
            list_search(op, no_attrs, (int)cfg->limits.max_list_scan);
            return;
        }
        case LIST_SCANNED: {
            if (res->rc == LDAP_SIZELIMIT_EXCEEDED) {
                s2l_req_fail(req, 400, S2L_SCIM_TOO_MANY, "the filter matches more than %u resources; narrow it",
                             cfg->limits.max_list_scan);
                return;
            }
            if (res->rc != LDAP_SUCCESS) {
                s2l_req_fail_ldap(req, res, "resources");
                return;
            }
            size_t n = json_array_size(res->entries);
            op->total = n;
            size_t from = op->start_index - 1;
            size_t to = from + op->count < n ? from + op->count : n;
            if ((op->page = json_array()) == NULL) {
                res_oom(base);
                return;
            }
            if (from >= to) {
                op->step = LIST_REPLY;
                break;
            }
            if ((op->slots = calloc(to - from, sizeof *op->slots)) == NULL) {
                res_oom(base);
                return;
            }
            for (size_t i = from; i < to; i++)
                json_array_append_new(op->page, json_null());
            op->step = LIST_PAGE_FETCHED;
            for (size_t i = from; i < to; i++) {
                op->slots[i - from] = (page_slot){op, i - from};
                const char *dn = json_string_value(json_object_get(json_array_get(res->entries, i), "dn"));
                s2l_search_req sr = {.base = dn, .scope = LDAP_SCOPE_BASE, .filter = "(objectClass=*)",
                                     .attrs = res_output_attrs(base), .size_limit = 1};
                if (s2l_req_ldap_search(req, &sr, on_page_entry, &op->slots[i - from]) < 0) {
                    res_oom(base);
                    return;
                }
                base->pending++;
            }
            return;
        }
        case LIST_PAGE_FETCHED:
            /* Entries deleted between the two phases leave null slots: drop them. */
            for (size_t i = json_array_size(op->page); i-- > 0;)
                if (json_is_null(json_array_get(op->page, i)))
                    json_array_remove(op->page, i);
            op->step = LIST_REFS;
            break;
        case LIST_REFS:
            op->step = LIST_REPLY;
            if (res_refs_start(base, op->page, list_advance) != 0)
                return;
            break;
        case LIST_REPLY:
            list_reply(op);
            return;
        }
    }
}

static bool parse_index(s2l_req *req, const char *name, long dflt, long *out)
{
    const char *v = s2l_req_query(req, name);
    if (v == NULL || v[0] == 0) {
        *out = dflt;
        return true;
    }
    char *end;
    long n = strtol(v, &end, 10);
    if (*end) {
        s2l_req_fail(req, 400, S2L_SCIM_INVALID_VALUE, "%s must be an integer", name);
        return false;
    }
    *out = n;
    return true;
}

void s2l_res_list(s2l_req *req)
{
    list_op *op = res_op_create(req, sizeof *op, list_advance, list_fini);
    if (op == NULL)
        return;
    const s2l_config *cfg = req->gw->cfg;
    long start, count;
    if (!parse_index(req, "startIndex", 1, &start) ||
        !parse_index(req, "count", (long)cfg->limits.default_count, &count))
        return;
    /* RFC 7644 §3.4.2.4: startIndex < 1 is 1; negative count is 0; the server caps count. */
    op->start_index = start < 1 ? 1 : (unsigned long)start;
    op->count = count < 0 ? 0 : (unsigned long)count;
    if (op->count > cfg->limits.max_results)
        op->count = cfg->limits.max_results;
    if (!res_parse_projection(&op->base))
        return;
    const char *ftext = s2l_req_query(req, "filter");
    if (ftext && ftext[0]) {
        s2l_error err;
        s2l_error_clear(&err);
        s2l_filter_limits lim = {.max_length = cfg->limits.max_filter_length,
                                 .max_depth = cfg->limits.max_filter_depth};
        op->filter = s2l_filter_parse(ftext, strlen(ftext), &lim, &err);
        if (op->filter == NULL) {
            res_fail(&op->base, &err, 400, S2L_SCIM_INVALID_FILTER, "invalid filter");
            return;
        }
    }
    if (!res_directory_up(&op->base))
        return;
    if (res_output_attrs(&op->base) == NULL) {
        res_oom(&op->base);
        return;
    }
    list_advance(&op->base, NULL);
}
