/* list.c — GET /{Resource}: filter, sortBy/sortOrder, startIndex, count,
 * attributes/excludedAttributes (RFC 7644 §3.4.2).
 *
 * How a page is found depends on the request and on what the directory can do
 * (its root DSE's supportedControl):
 *
 *   inline  a filter, startIndex 1, no sortBy, and the whole result fits on
 *           the page: one plain search with a small size limit. IdP look-ups by
 *           userName or externalId stay exactly one search, without any control.
 *   vlv     the directory sorts and has VLV (slapd's sssvlv, AD, 389-DS): one
 *           search with the sort control (sortBy, else ldap.sort_attribute, so
 *           the order is stable across pages) and a VLV window at startIndex.
 *           totalResults is the VLV content count: exact, nothing scanned here.
 *   walk    paged results only (slapd without sssvlv): the result is walked a
 *           page at a time (RFC 2696), reading DNs only, with a cursor
 *           (s2l/list_cursor.h) that the next page of a sequential pager
 *           resumes; the page's entries are then read by DN. Memory O(count);
 *           work O(count) per page when resumed, else the walk to startIndex,
 *           at most limits.max_list_scan entries (400 tooMany past it).
 *           totalResults: counted when the walk starts (at most max_list_scan
 *           entries, exact below that) and exact once the walk reaches the end.
 *   scan    neither control: one plain search counting everything and keeping
 *           only the page (the pool's window), at most max_list_scan entries.
 *
 * Steps:
 *   LIST_RESOLVE_IDS  ids the filter compares references with → DNs
 *   LIST_PLAN         the LDAP filter and the sort key; inline or ordered
 *   LIST_INLINE_DONE  the whole result fits on the page, or ordered after all
 *   LIST_ORDERED      vlv, walk or scan
 *   LIST_VLV_DONE     the page and the total (one retry when sssvlv is busy)
 *   LIST_WALK         take a cursor (or wait for one)
 *   LIST_COUNTED      a new walk's count (the total until the walk ends)
 *   LIST_WALK_PAGE    the next page of the walk, on the cursor's connection
 *   LIST_WALK_PAGED   the page's DNs kept; more pages, or done
 *   LIST_SCANNED      the page and the total of a plain search
 *   LIST_FETCH        walk: read the page's entries by DN
 *   LIST_FETCHED      drop entries deleted meanwhile
 *   LIST_REFS         resolve the page's references
 *   LIST_REPLY        the ListResponse
 *
 * Post-filter (filters LDAP cannot decide exactly, s2l_rmap_split_filter in
 * s2l/mapping.h): the LDAP filter is then a superset of the answer and the
 * gateway evaluates the complete SCIM filter on each candidate (rendered with
 * s2l_rmap_to_scim, references resolved, s2l_rmap_filter_match):
 *   inline  as above, reading the attributes the filter needs too: when every
 *           candidate fits, the matches are the answer (one search still).
 *   walk    otherwise, whatever the directory offers beyond paged results (VLV
 *           positions count candidates, not matches): the candidates are
 *           walked a page at a time (RFC 2696; sorted by sortBy when given)
 *           with the attributes the filter needs, each page's references
 *           resolved, matched, and the DNs of the matches at the requested
 *           positions kept; the walk always goes to the end, so totalResults
 *           is exact; then the page's entries are read by DN as above.
 *           Candidates examined are bounded by limits.max_list_scan: past it,
 *           400 tooMany naming what LDAP could not decide. Such walks are
 *           never parked for a later request (the position of the next page
 *           is in matches, and every request counts them all anyway).
 *   scan    no paging control: one search reading every candidate (at most
 *           max_list_scan), matched in memory.
 *   LIST_MATCH_REFS  resolve the references of a batch of candidates
 *   LIST_MATCH       match them; keep the matches of the page (walk: DNs)
 */
#include <event2/event.h>
#include <ldap.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "lookup.h"
#include "s2l/list_cursor.h"
#include "s2l/log.h"

/* The inline search's size limit (and the most entries it answers with). */
#define LIST_INLINE_LIMIT 50
/* Entries per page of a walk; below slapd's default size limit (500) for
 * ordinary binds, and AD's MaxPageSize (1000). */
#define WALK_PAGE 500
/* A parked walk is resumed only this soon after its last page. */
#define CURSOR_IDLE_US (10ULL * 60 * 1000 * 1000)
/* Every cursor taken: look again this much later (bounded by the request's deadline). */
#define CURSOR_WAIT_MS 20

#define OID_SORT "1.2.840.113556.1.4.473"
#define OID_VLV "2.16.840.1.113730.3.4.9"
#define OID_PAGED "1.2.840.113556.1.4.319"

typedef struct list_op list_op;

typedef struct page_slot {
    list_op *op;
    size_t idx;                  /* position in the page */
} page_slot;

struct list_op {
    res_op base;
    enum {
        LIST_RESOLVE_IDS,
        LIST_PLAN,
        LIST_INLINE_DONE,
        LIST_ORDERED,
        LIST_VLV_DONE,
        LIST_WALK,
        LIST_COUNTED,
        LIST_WALK_PAGE,
        LIST_WALK_PAGED,
        LIST_SCANNED,
        LIST_MATCH_REFS,
        LIST_MATCH,
        LIST_FETCH,
        LIST_FETCHED,
        LIST_REFS,
        LIST_REPLY,
    } step;
    unsigned long start_index, count, total;
    s2l_filter *filter;          /* NULL: all */
    const char *sort_by;         /* the request's sortBy (borrowed from the query), or NULL */
    bool descending;
    char *ldap_filter;
    char *sort_key;              /* "[-]attr[:rule]" for the sort control */
    json_t *page;                /* the page's entries, in order (walk: first their DNs) */
    page_slot *slots;            /* LIST_FETCH: one per page entry */
    bool vlv_retried;
    /* walk */
    s2l_cursor *cur;             /* taken from gw->cursors; given back when the request ends */
    char *walk_key;
    bool restarted;              /* the walk was started again once (its connection was lost) */
    struct event *wait;          /* waiting for a free cursor */
    /* post-filter (residue) */
    bool residue;                /* the gateway evaluates the filter on LDAP's candidates */
    char *not_pushed;            /* what LDAP cannot decide (for logs and 400 tooMany) */
    char **match_attrs;          /* LDAP attributes the candidates are read with */
    json_t *cands;               /* the batch of candidates being matched */
    unsigned long scanned;       /* candidates examined so far */
    unsigned long matched;       /* matches so far (positions in the answer) */
    bool inline_match;           /* the batch is the inline search's result */
    bool refs_resolved;          /* inline: the batch's references are resolved (for the reply too) */
};

static void list_fini(res_op *base)
{
    list_op *op = (list_op *)base;
    if (op->cur) {
        /* The request ended in the middle of a walk: where the walk stands
         * (a page may be in flight) is unknown, so nobody resumes it. */
        s2l_cursor_reset(op->cur);
        s2l_cursors_release(base->req->gw->cursors, op->cur, s2l_now_us());
    }
    if (op->wait)
        event_free(op->wait);
    s2l_filter_destroy(op->filter);
    free(op->not_pushed);
    s2l_strv_free(op->match_attrs);
    json_decref(op->cands);
    free(op->ldap_filter);
    free(op->sort_key);
    free(op->walk_key);
    json_decref(op->page);
    free(op->slots);
}

static void list_advance(res_op *base, const s2l_ldap_result *res);
static bool list_sort_key(list_op *op);

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
        /* an IdP's look-up by filter is followed by writes by id: remember the DN */
        res_cache_entry(base, e, json_string_value(json_object_get(r, "id")));
        json_array_append_new(resources, r);
    }
    json_object_set_new(body, "itemsPerPage", json_integer((json_int_t)json_array_size(resources)));
    s2l_req_reply_json(base->req, 200, body, NULL);
}

/* Starts a search of the type's base for the op's LDAP filter; the op
 * advances with its result. -1 when the request was answered (out of memory). */
static int list_search(list_op *op, s2l_search_req *sr)
{
    const s2l_rmap_info *in = res_info(&op->base);
    sr->base = in->base_dn;
    sr->scope = s2l_ldap_scope(in->scope);
    sr->filter = op->ldap_filter;
    if (s2l_req_ldap_search(op->base.req, sr, res_on_ldap, op) < 0) {
        res_oom(&op->base);
        return -1;
    }
    return 1;
}

static char *no_attrs[] = {LDAP_NO_ATTRS, NULL};

/* A sort the directory refused: the client's sortBy (400), or the mapping's
 * sort_attribute (the operator's to fix). */
static bool sort_refused(list_op *op, const s2l_ldap_result *res)
{
    bool refused = (res->has_sort && res->sort_rc != LDAP_SUCCESS) || res->rc == LDAP_INAPPROPRIATE_MATCHING ||
                   res->rc == LDAP_UNAVAILABLE_CRITICAL_EXTENSION ||
                   (op->sort_by && (res->rc == LDAP_NO_SUCH_ATTRIBUTE || res->rc == LDAP_UNWILLING_TO_PERFORM ||
                                    res->rc == LDAP_UNDEFINED_TYPE));
    if (!refused)
        return false;
    const char *diag = res->diag ? res->diag : ldap_err2string(res->has_sort && res->sort_rc ? res->sort_rc : res->rc);
    if (op->sort_by)
        s2l_req_fail(op->base.req, 400, S2L_SCIM_INVALID_VALUE,
                     "sortBy \"%s\": the directory cannot sort by %s (%s); see ldap.ordering_rules in the mapping",
                     op->sort_by, op->sort_key, diag);
    else
        s2l_req_fail(op->base.req, 500, NULL,
                     "the directory cannot sort %s by ldap.sort_attribute (%s: %s); fix the mapping's "
                     "sort_attribute or ordering_rules",
                     res_info(&op->base)->name, op->sort_key, diag);
    return true;
}

/* ---- walk ---- */

static bool conn_ok(void *arg, unsigned conn)
{
    return s2l_pool_conn_is_up(arg, conn);
}

static void on_cursor_wait(evutil_socket_t fd, short what, void *arg)
{
    list_op *op = arg;
    list_advance(&op->base, NULL);
}

/* First and one-past-last position of the page in the whole result. */
static unsigned long want_from(const list_op *op)
{
    return op->start_index - 1;
}

static unsigned long want_to(const list_op *op)
{
    return op->start_index - 1 + op->count;
}

/* One page of the walk arrived (res: its search, the pool kept only the
 * entries inside the wanted window): keep their DNs, advance the cursor.
 * A post-filter would run its matcher here (see the top of this file). */
static int walk_take(list_op *op, const s2l_ldap_result *res)
{
    size_t i;
    json_t *e;
    json_array_foreach(res->entries, i, e) {
        json_t *dn = json_object_get(e, "dn");
        if (json_is_string(dn) && json_array_append(op->page, dn) != 0)
            return -1;
    }
    return s2l_cursor_advance(op->cur, (unsigned long)res->n_entries, res->cookie, res->cookie_len);
}

/* The walk is over for this request: the total, and the cursor parked where
 * the page ended for the next page to resume. */
static void walk_finish(list_op *op)
{
    s2l_cursor *c = op->cur;
    if (c->ended)
        op->total = c->pos;
    else
        op->total = c->count > c->pos ? c->count : c->pos + 1; /* more is coming: say so */
    s2l_cursors_release(op->base.req->gw->cursors, c, s2l_now_us());
    op->cur = NULL;
}

/* The walk's connection or cookie is gone (the connection was reopened, or the
 * server forgot the paged search): once, start it again from the beginning. */
static bool walk_lost(list_op *op, const s2l_ldap_result *res)
{
    bool lost = res->rc == LDAP_SERVER_DOWN || res->rc == LDAP_UNWILLING_TO_PERFORM || res->rc == LDAP_PROTOCOL_ERROR;
    if (!lost || op->restarted)
        return false;
    s2l_log(S2L_LOG_DEBUG, "event=list_walk_restart req=%llu rc=%d pos=%lu", (unsigned long long)op->base.req->id,
            res->rc, op->cur->pos);
    op->restarted = true;
    s2l_cursor_reset(op->cur);
    s2l_cursors_release(op->base.req->gw->cursors, op->cur, s2l_now_us());
    op->cur = NULL;
    json_array_clear(op->page);
    op->scanned = op->matched = 0;
    return true;
}

/* ---- post-filter ---- */

/* Whether f compares attribute `name` anywhere (top level of the path). */
static bool filter_names(const s2l_filter *f, const char *name)
{
    if (f == NULL)
        return false;
    switch (f->kind) {
    case S2L_F_AND:
    case S2L_F_OR:
        return filter_names(f->left, name) || filter_names(f->right, name);
    case S2L_F_NOT:
        return filter_names(f->left, name);
    default:
        return f->path.attr && strcasecmp(f->path.attr, name) == 0;
    }
}

/* The attributes candidates are read with: those the filter needs, plus
 * extra (the response's, for the inline search). false when out of memory. */
static bool match_attrs(list_op *op, char *const *extra)
{
    s2l_strv_free(op->match_attrs);
    op->match_attrs = s2l_rmap_filter_attrs(op->base.rm, op->filter);
    if (op->match_attrs == NULL)
        return false;
    for (size_t i = 0; extra && extra[i]; i++)
        if (s2l_strv_add(&op->match_attrs, extra[i], true) < 0)
            return false;
    return true;
}

/* 400 tooMany: the candidates LDAP returns for the filter are more than the
 * gateway examines for one request. */
static void too_many_candidates(list_op *op)
{
    s2l_req_fail(op->base.req, 400, S2L_SCIM_TOO_MANY,
                 "the filter matches more than limits.max_list_scan (%u) candidate entries in LDAP, and the "
                 "gateway must evaluate every one because the directory cannot decide: %s; narrow the filter "
                 "with a comparison the directory decides (see \"Filters\" in README.md)",
                 op->base.req->gw->cfg->limits.max_list_scan, op->not_pushed ? op->not_pushed : "(unknown)");
}

/* Resolves the references of op->cands when the filter needs them (a
 * reference compared otherwise than by DN, groups found by a search); 1
 * started, 0 nothing to do, -1 answered. */
static int match_refs_start(list_op *op)
{
    res_op *base = &op->base;
    const s2l_rmap_groups *g = s2l_rmap_groups_of(base->rm);
    bool groups = g && g->source == S2L_GROUPS_SEARCH && filter_names(op->filter, "groups");
    bool dns = false;
    size_t i;
    json_t *e;
    json_array_foreach(op->cands, i, e) {
        json_t *d = s2l_rmap_ref_dns(base->rm, e);
        dns = json_array_size(d) > 0;
        json_decref(d);
        if (dns)
            break;
    }
    if (!groups && !dns)
        return 0;
    /* The groups are searched for when the projection shows them: here the
     * filter needs them whatever the projection says. */
    s2l_projection *proj = base->proj;
    if (groups)
        base->proj = NULL;
    int rc = res_refs_start(base, op->cands, list_advance);
    base->proj = proj;
    op->refs_resolved = rc >= 0;
    return rc;
}

/* Matches op->cands (consumed): positions counted in matches; the matches
 * inside the page are kept in op->page (as DNs when walking, else whole). */
static int match_batch(list_op *op)
{
    res_op *base = &op->base;
    size_t i;
    json_t *e;
    json_array_foreach(op->cands, i, e) {
        json_t *r = s2l_rmap_to_scim(base->rm, e, base->refs, base->req->base_url, NULL);
        bool hit = r != NULL && s2l_rmap_filter_match(base->rm, op->filter, r);
        json_decref(r);
        if (!hit)
            continue;
        unsigned long pos = op->matched++;
        if (pos < want_from(op) || pos >= want_to(op))
            continue;
        json_t *keep = op->cur ? json_object_get(e, "dn") : e;
        if (keep && json_array_append(op->page, keep) != 0)
            return -1;
    }
    json_decref(op->cands);
    op->cands = NULL;
    return 0;
}

static void on_page_entry(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    page_slot *slot = arg;
    list_op *op = slot->op;
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        s2l_req_fail_ldap(req, res, "resource");
        return;
    }
    json_t *e = json_array_get(res->entries, 0);
    json_array_set(op->page, slot->idx, e ? e : json_null());
    if (--op->base.pending == 0)
        list_advance(&op->base, NULL);
}

static void list_advance(res_op *base, const s2l_ldap_result *res)
{
    list_op *op = (list_op *)base;
    s2l_req *req = base->req;
    const s2l_config *cfg = req->gw->cfg;
    s2l_pool *pool = req->gw->pool;
    for (;; res = NULL) {
        switch (op->step) {
        case LIST_RESOLVE_IDS: {
            json_t *ids = op->filter ? s2l_rmap_filter_ref_ids(base->rm, op->filter) : json_array();
            if (ids == NULL) {
                res_oom(base);
                return;
            }
            op->step = LIST_PLAN;
            int rc = s2l_lookup_ids(req, ids, &base->ids, res_on_lookup, op);
            json_decref(ids);
            if (rc != 0)
                return;
            break;
        }
        case LIST_PLAN: {
            if (res) {
                s2l_req_fail_ldap(req, res, "a referenced entry");
                return;
            }
            s2l_error err;
            s2l_error_clear(&err);
            s2l_filter_split sp;
            unsigned flags = req->gw->cfg->behaviour.exact_filters ? S2L_SPLIT_STRICT : 0;
            if (s2l_rmap_split_filter(base->rm, op->filter, base->ids, flags, &sp, &err) < 0) {
                res_fail(base, &err, 400, S2L_SCIM_INVALID_FILTER, "the filter cannot be translated");
                return;
            }
            op->ldap_filter = sp.ldap_filter;
            op->residue = sp.residue;
            op->not_pushed = sp.not_pushed;
            if ((op->page = json_array()) == NULL) {
                res_oom(base);
                return;
            }
            if (op->residue && s2l_log_enabled(S2L_LOG_DEBUG)) {
                char q[512];
                s2l_log_quote(q, sizeof q, op->not_pushed, strlen(op->not_pushed));
                s2l_log(S2L_LOG_DEBUG, "event=list_post_filter req=%llu not_pushed=%s",
                        (unsigned long long)req->id, q);
            }
            /* Without a filter the whole type is listed (an import): rarely a
             * handful, so no inline attempt. */
            if (op->start_index > 1 || op->count == 0 || op->sort_by || op->filter == NULL) {
                op->step = LIST_ORDERED;
                break;
            }
            unsigned long lim = op->count < LIST_INLINE_LIMIT ? op->count : LIST_INLINE_LIMIT;
            s2l_search_req sr = {.attrs = res_output_attrs(base), .size_limit = (int)lim + 1};
            if (op->residue) {
                /* every candidate read at once, with what the filter needs */
                if (!match_attrs(op, res_output_attrs(base))) {
                    res_oom(base);
                    return;
                }
                sr.attrs = op->match_attrs;
                if (lim > cfg->limits.max_list_scan) /* the bound holds here too */
                    sr.size_limit = (int)cfg->limits.max_list_scan + 1;
            }
            op->step = LIST_INLINE_DONE;
            list_search(op, &sr);
            return;
        }
        case LIST_INLINE_DONE: {
            unsigned long lim = op->count < LIST_INLINE_LIMIT ? op->count : LIST_INLINE_LIMIT;
            if (op->residue && lim > cfg->limits.max_list_scan)
                lim = cfg->limits.max_list_scan;
            if (res->rc == LDAP_SIZELIMIT_EXCEEDED || (res->rc == LDAP_SUCCESS && json_array_size(res->entries) > lim)) {
                /* More than fits: the page needs an order that holds across pages. */
                op->step = LIST_ORDERED;
                break;
            }
            if (res->rc != LDAP_SUCCESS) {
                s2l_req_fail_ldap(req, res, "resources");
                return;
            }
            if (op->residue) {
                /* all the candidates: their matches are the answer */
                op->cands = json_incref(res->entries);
                op->inline_match = true;
                op->step = LIST_MATCH_REFS;
                break;
            }
            json_array_extend(op->page, res->entries);
            op->total = json_array_size(op->page);
            op->step = LIST_REFS;
            break;
        }
        case LIST_ORDERED: {
            if (!list_sort_key(op))
                return;
            bool can_sort = s2l_pool_supports_control(pool, OID_SORT);
            if (op->sort_by && !can_sort) {
                s2l_req_fail(req, 400, S2L_SCIM_INVALID_VALUE,
                             "sortBy: the directory does not offer server-side sorting (slapd: the sssvlv overlay)");
                return;
            }
            if (op->residue) {
                /* candidates, not matches: VLV cannot place the page */
                json_array_clear(op->page);
                op->matched = op->scanned = 0;
                if (!match_attrs(op, NULL)) {
                    res_oom(base);
                    return;
                }
                if (s2l_pool_supports_control(pool, OID_PAGED)) {
                    op->step = LIST_WALK;
                    break;
                }
                s2l_search_req sr = {.attrs = op->match_attrs,
                                     .sort_attr = op->sort_by ? op->sort_key : NULL,
                                     .size_limit = (int)cfg->limits.max_list_scan};
                op->step = LIST_SCANNED;
                list_search(op, &sr);
                return;
            }
            if (can_sort && s2l_pool_supports_control(pool, OID_VLV)) {
                /* count 0 asks for the total only: a one-entry window gives it. */
                s2l_search_req sr = {.attrs = op->count ? res_output_attrs(base) : no_attrs,
                                     .sort_attr = op->sort_key,
                                     .vlv_offset = op->start_index,
                                     .vlv_count = op->count ? op->count : 1};
                op->step = LIST_VLV_DONE;
                list_search(op, &sr);
                return;
            }
            if (op->count > 0 && s2l_pool_supports_control(pool, OID_PAGED)) {
                op->step = LIST_WALK;
                break;
            }
            /* The total only, or no paging control: one counting search. */
            if (op->count > 0 && want_from(op) > cfg->limits.max_list_scan) {
                s2l_req_fail(req, 400, S2L_SCIM_TOO_MANY,
                             "startIndex %lu is past limits.max_list_scan (%u) and the directory cannot page",
                             op->start_index, cfg->limits.max_list_scan);
                return;
            }
            s2l_search_req sr = {.attrs = op->count ? res_output_attrs(base) : no_attrs,
                                 .size_limit = (int)cfg->limits.max_list_scan,
                                 .window = true,
                                 .keep_from = want_from(op),
                                 .keep_count = op->count};
            op->step = LIST_SCANNED;
            list_search(op, &sr);
            return;
        }
        case LIST_VLV_DONE: {
            if (res->rc == LDAP_BUSY && !op->vlv_retried) {
                /* sssvlv out of sessions: the pool reopens that connection. */
                op->vlv_retried = true;
                op->step = LIST_ORDERED;
                break;
            }
            if (sort_refused(op, res))
                return;
            bool beyond = res->has_vlv && op->start_index > res->vlv_count;
            if (res->rc != LDAP_SUCCESS && !(res->rc == LDAP_VLV_ERROR && beyond)) {
                s2l_req_fail_ldap(req, res, "resources");
                return;
            }
            if (!res->has_vlv) {
                s2l_req_fail(req, 502, NULL, "the directory answered a VLV search without its VLV response");
                return;
            }
            op->total = res->vlv_count;
            if (op->count > 0 && !beyond)
                json_array_extend(op->page, res->entries);
            op->step = LIST_REFS;
            break;
        }
        case LIST_WALK: {
            if (op->walk_key == NULL) {
                size_t n = strlen(res_info(base)->name) + strlen(op->ldap_filter) +
                           strlen(op->sort_key ? op->sort_key : "") + 3;
                if ((op->walk_key = malloc(n)) == NULL) {
                    res_oom(base);
                    return;
                }
                snprintf(op->walk_key, n, "%s\n%s\n%s", res_info(base)->name, op->ldap_filter,
                         op->sort_key ? op->sort_key : "");
                if (op->residue)
                    op->walk_key[0] = '\n'; /* never parked, never resumed: a key no plain walk has */
            }
            bool resumed = false;
            op->cur = s2l_cursors_take(req->gw->cursors, op->walk_key, op->residue ? ULONG_MAX : want_from(op),
                                       s2l_now_us(), CURSOR_IDLE_US, conn_ok, pool, &resumed);
            if (op->cur == NULL) {
                /* Every connection carries a walk: wait for one to finish. */
                if (op->wait == NULL && (op->wait = evtimer_new(req->gw->base, on_cursor_wait, op)) == NULL) {
                    res_oom(base);
                    return;
                }
                struct timeval tv = {0, CURSOR_WAIT_MS * 1000};
                evtimer_add(op->wait, &tv);
                return;
            }
            if (resumed) {
                op->step = LIST_WALK_PAGE;
                break;
            }
            if (op->residue) {
                /* every candidate is examined: no count first */
                if (s2l_cursor_begin(op->cur, op->walk_key, 0) < 0) {
                    res_oom(base);
                    return;
                }
                op->step = LIST_WALK_PAGE;
                break;
            }
            if (want_from(op) > cfg->limits.max_list_scan) {
                s2l_req_fail(req, 400, S2L_SCIM_TOO_MANY,
                             "startIndex %lu: without VLV the gateway walks at most limits.max_list_scan (%u) "
                             "entries to reach a page; page through in order, or let the directory sort "
                             "(slapd: the sssvlv overlay)",
                             op->start_index, cfg->limits.max_list_scan);
                return;
            }
            /* A new walk: its total first, counted without keeping anything. */
            s2l_search_req sr = {.attrs = no_attrs,
                                 .size_limit = (int)cfg->limits.max_list_scan,
                                 .window = true,
                                 .keep_count = 0};
            op->step = LIST_COUNTED;
            list_search(op, &sr);
            return;
        }
        case LIST_COUNTED: {
            if (res->rc != LDAP_SUCCESS && res->rc != LDAP_SIZELIMIT_EXCEEDED) {
                s2l_req_fail_ldap(req, res, "resources");
                return;
            }
            if (s2l_cursor_begin(op->cur, op->walk_key, 0) < 0) {
                res_oom(base);
                return;
            }
            op->cur->count = (unsigned long)res->n_entries;
            op->cur->count_exact = res->rc == LDAP_SUCCESS;
            op->step = LIST_WALK_PAGE;
            break;
        }
        case LIST_WALK_PAGE: {
            s2l_cursor *c = op->cur;
            if (op->residue) {
                if (c->ended) {
                    /* the whole result examined: the total is exact */
                    op->total = op->matched;
                    s2l_cursor_reset(c);
                    s2l_cursors_release(req->gw->cursors, c, s2l_now_us());
                    op->cur = NULL;
                    op->step = LIST_FETCH;
                    break;
                }
                s2l_search_req sr = {.attrs = op->match_attrs,
                                     .sort_attr = op->sort_by ? op->sort_key : NULL,
                                     .page_size = WALK_PAGE,
                                     .cookie = c->cookie,
                                     .cookie_len = c->cookie_len,
                                     .pin = {c->conn, c->gen}};
                op->step = LIST_WALK_PAGED;
                list_search(op, &sr);
                return;
            }
            if (c->ended || c->pos >= want_to(op)) {
                walk_finish(op);
                op->step = LIST_FETCH;
                break;
            }
            unsigned long left = want_to(op) - c->pos;
            unsigned long from = want_from(op) > c->pos ? want_from(op) - c->pos : 0;
            s2l_search_req sr = {.attrs = no_attrs,
                                 .sort_attr = op->sort_key && op->sort_by ? op->sort_key : NULL,
                                 .page_size = left < WALK_PAGE ? left : WALK_PAGE,
                                 .cookie = c->cookie,
                                 .cookie_len = c->cookie_len,
                                 .pin = {c->conn, c->gen},
                                 .window = true,
                                 .keep_from = from,
                                 .keep_count = left - from};
            op->step = LIST_WALK_PAGED;
            list_search(op, &sr);
            return;
        }
        case LIST_WALK_PAGED: {
            if (res->rc != LDAP_SUCCESS) {
                if (walk_lost(op, res)) {
                    op->step = LIST_WALK;
                    break;
                }
                if (sort_refused(op, res))
                    return;
                if (res->rc == LDAP_SIZELIMIT_EXCEEDED) {
                    s2l_req_fail(req, 400, S2L_SCIM_TOO_MANY,
                                 "the directory stopped the paged listing at its size limit after %lu entries (slapd: "
                                 "limits for the gateway's bind DN with size.prtotal=unlimited, or the sssvlv overlay)",
                                 op->cur->pos + (unsigned long)res->n_entries);
                    return;
                }
                s2l_req_fail_ldap(req, res, "resources");
                return;
            }
            if (!res->has_paged) {
                s2l_req_fail(req, 502, NULL, "the directory answered a paged search without its paged-results response");
                return;
            }
            if (op->cur->gen == 0)
                op->cur->gen = res->conn.gen; /* the session the walk's cookies belong to */
            if (op->residue) {
                op->scanned += (unsigned long)res->n_entries;
                if (op->scanned > cfg->limits.max_list_scan) {
                    too_many_candidates(op);
                    return;
                }
                if (s2l_cursor_advance(op->cur, (unsigned long)res->n_entries, res->cookie, res->cookie_len) < 0) {
                    res_oom(base);
                    return;
                }
                op->cands = json_incref(res->entries);
                op->step = LIST_MATCH_REFS;
                break;
            }
            if (walk_take(op, res) < 0) {
                res_oom(base);
                return;
            }
            op->step = LIST_WALK_PAGE;
            break;
        }
        case LIST_SCANNED: {
            if (op->residue) {
                if (sort_refused(op, res))
                    return;
                if (res->rc == LDAP_SIZELIMIT_EXCEEDED) {
                    too_many_candidates(op);
                    return;
                }
                if (res->rc != LDAP_SUCCESS) {
                    s2l_req_fail_ldap(req, res, "resources");
                    return;
                }
                op->cands = json_incref(res->entries);
                op->step = LIST_MATCH_REFS;
                break;
            }
            if (res->rc == LDAP_SIZELIMIT_EXCEEDED && op->count > 0) {
                s2l_req_fail(req, 400, S2L_SCIM_TOO_MANY, "the filter matches more than %u resources; narrow it",
                             cfg->limits.max_list_scan);
                return;
            }
            if (res->rc != LDAP_SUCCESS && res->rc != LDAP_SIZELIMIT_EXCEEDED) {
                s2l_req_fail_ldap(req, res, "resources");
                return;
            }
            /* count=0 past the limit: the total is at least what was counted. */
            op->total = (unsigned long)res->n_entries;
            json_array_extend(op->page, res->entries);
            op->step = LIST_REFS;
            break;
        }
        case LIST_MATCH_REFS: {
            op->step = LIST_MATCH;
            int rc = match_refs_start(op);
            if (rc != 0)
                return;
            break;
        }
        case LIST_MATCH:
            if (res) { /* a reference could not be resolved */
                s2l_req_fail_ldap(req, res, "a referenced entry");
                return;
            }
            if (match_batch(op) < 0) {
                res_oom(base);
                return;
            }
            if (op->cur) {
                op->step = LIST_WALK_PAGE;
                break;
            }
            /* inline or scan: every candidate was in this batch */
            op->total = op->matched;
            if (op->inline_match && op->matched > json_array_size(op->page)) {
                /* more matches than the page: they need an order across pages */
                op->inline_match = false;
                op->step = LIST_ORDERED;
                break;
            }
            /* inline: the references the reply needs may be resolved already */
            op->step = op->inline_match && op->refs_resolved ? LIST_REPLY : LIST_REFS;
            break;
        case LIST_FETCH: {
            size_t n = json_array_size(op->page);
            if (n == 0) {
                op->step = LIST_REFS;
                break;
            }
            if ((op->slots = calloc(n, sizeof *op->slots)) == NULL) {
                res_oom(base);
                return;
            }
            op->step = LIST_FETCHED;
            for (size_t i = 0; i < n; i++) {
                op->slots[i] = (page_slot){op, i};
                const char *dn = json_string_value(json_array_get(op->page, i));
                s2l_search_req sr = {.base = dn, .scope = LDAP_SCOPE_BASE, .filter = "(objectClass=*)",
                                     .attrs = res_output_attrs(base), .size_limit = 1};
                if (s2l_req_ldap_search(req, &sr, on_page_entry, &op->slots[i]) < 0) {
                    res_oom(base);
                    return;
                }
                base->pending++;
            }
            return;
        }
        case LIST_FETCHED:
            /* Entries deleted between the walk and the read leave null slots: drop them. */
            for (size_t i = json_array_size(op->page); i-- > 0;)
                if (!json_is_object(json_array_get(op->page, i)))
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

/* op->sort_key: the client's sortBy, else the type's stable order for
 * paging. false after replying (400 for what cannot be sorted). */
static bool list_sort_key(list_op *op)
{
    if (op->sort_key)
        return true;
    s2l_error err;
    s2l_error_clear(&err);
    op->sort_key = s2l_rmap_sort_key(op->base.rm, op->sort_by, op->descending, &err);
    if (op->sort_key == NULL) {
        res_fail(&op->base, &err, 400, S2L_SCIM_INVALID_VALUE, "sortBy cannot be sorted");
        return false;
    }
    return true;
}

/* sortBy / sortOrder (RFC 7644 §3.4.2.3). */
static bool parse_sort(list_op *op)
{
    s2l_req *req = op->base.req;
    const char *by = s2l_req_query(req, "sortBy");
    const char *order = s2l_req_query(req, "sortOrder");
    op->sort_by = by && by[0] ? by : NULL;
    if (op->sort_by && order && order[0]) {
        if (strcasecmp(order, "descending") == 0)
            op->descending = true;
        else if (strcasecmp(order, "ascending") != 0) {
            s2l_req_fail(req, 400, S2L_SCIM_INVALID_VALUE, "sortOrder must be \"ascending\" or \"descending\"");
            return false;
        }
    }
    /* The default key is made when a page needs an order (not for look-ups). */
    return op->sort_by == NULL || list_sort_key(op);
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
    if (op->start_index > INT32_MAX) {
        s2l_req_fail(req, 400, S2L_SCIM_INVALID_VALUE, "startIndex is too large");
        return;
    }
    if (!res_parse_projection(&op->base) || !parse_sort(op))
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
