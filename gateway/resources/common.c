/* common.c — what the resource verbs share (see common.h): the op state's
 * life, checks, fetching by id, resolving references, and the reply with a
 * resource. The pure modules do the thinking (resource.h normalises and
 * patches, mapping.h turns resources into entries, plans and filters); this
 * layer only sequences I/O around them. */
#include "common.h"
#include "policy_report.h"

#include <ldap.h>
#include <stdlib.h>
#include <string.h>

#include "lookup.h"
#include "ranges.h"
#include "s2l/id_cache.h"
#include "s2l/log.h"
#include "s2l/patch_direct.h"

/* ---- the op ---- */

static void res_op_free(void *p)
{
    res_op *op = p;
    if (op->fini)
        op->fini(op);
    s2l_projection_destroy(op->proj);
    s2l_strv_free(op->read_attrs);
    json_decref(op->refs);
    json_decref(op->ids);
    json_decref(op->refs_op.entries);
    json_decref(op->refs_op.dns);
    free(op->refs_op.groups);
    json_decref(op->reply_op.entry);
    free(op->reply_op.dn);
    free(op);
}

void *res_op_create(s2l_req *req, size_t size, res_advance_fn *advance, void (*fini)(res_op *op))
{
    res_op *op = calloc(1, size);
    if (op == NULL) {
        s2l_req_fail(req, 503, NULL, "out of memory");
        return NULL;
    }
    op->req = req;
    op->rm = req->route_data;
    op->advance = advance;
    op->fini = fini;
    req->state = op;
    req->state_free = res_op_free;
    return op;
}

void res_on_ldap(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    res_op *op = arg;
    op->advance(op, res);
}

void res_on_lookup(void *arg, const s2l_ldap_result *err)
{
    res_op *op = arg;
    op->advance(op, err);
}

const s2l_rmap_info *res_info(const res_op *op)
{
    return s2l_rmap_info_of(op->rm);
}

const s2l_resource_type *res_rtype(const res_op *op)
{
    return s2l_rmap_rtype(op->rm);
}

bool res_is_group_like(const res_op *op)
{
    const char *const *d = s2l_rmap_delta_attrs(op->rm);
    return d && d[0];
}

void res_oom(res_op *op)
{
    s2l_req_fail(op->req, 503, NULL, "out of memory");
}

void res_fail(res_op *op, s2l_error *err, int status, const char *scim_type, const char *detail)
{
    if (err->status == 0)
        s2l_error_set(err, status, scim_type, "%s", detail);
    s2l_req_reply_error(op->req, err);
}

/* ---- checks ---- */

bool res_directory_up(res_op *op)
{
    if (s2l_pool_is_up(op->req->gw->pool))
        return true;
    s2l_error err;
    s2l_error_set(&err, 503, NULL, "the directory is unavailable; retry later");
    err.retry_after = (int)s2l_pool_retry_after(op->req->gw->pool);
    s2l_req_reply_error(op->req, &err);
    return false;
}

bool res_parse_projection(res_op *op)
{
    const char *attributes = s2l_req_query(op->req, "attributes");
    const char *excluded = s2l_req_query(op->req, "excludedAttributes");
    /* Neither: the defaults, whose LDAP attribute list the mapping computed
     * at load (res_output_attrs); an empty projection would rebuild it for
     * every request. */
    if (attributes == NULL && excluded == NULL)
        return true;
    s2l_error err;
    s2l_error_clear(&err);
    op->proj = s2l_projection_parse(res_rtype(op), attributes, excluded, &err);
    if (op->proj == NULL && err.status) {
        s2l_req_reply_error(op->req, &err);
        return false;
    }
    return true;
}

bool res_if_match(res_op *op, const json_t *entry)
{
    const char *im = s2l_req_header(op->req, "If-Match");
    if (im == NULL)
        return true;
    char *version = s2l_rmap_version(op->rm, entry);
    bool ok = s2l_if_match(im, version);
    free(version);
    if (!ok)
        s2l_req_fail(op->req, 412, NULL, "the resource has changed (If-Match does not match its version)");
    return ok;
}

bool res_normalize_body(res_op *op, s2l_norm_mode mode, json_t **out)
{
    if (op->req->body == NULL) {
        s2l_req_fail(op->req, 400, S2L_SCIM_INVALID_SYNTAX, "a JSON request body is required");
        return false;
    }
    s2l_error err;
    s2l_error_clear(&err);
    json_t *notes = json_object();
    if (notes == NULL) {
        res_oom(op);
        return false;
    }
    s2l_norm_opts opts = {.policies = s2l_rmap_policies(op->rm), .notes = notes};
    *out = s2l_resource_normalize(res_rtype(op), op->req->body, mode, &opts, &err);
    /* reported whether or not it succeeded: rejections are counted too */
    s2l_policy_report(op->req, op->rm, notes);
    json_decref(notes);
    if (*out == NULL) {
        res_fail(op, &err, 400, S2L_SCIM_INVALID_VALUE, "invalid resource");
        return false;
    }
    return true;
}

/* ---- LDAP steps ---- */

char *const *res_output_attrs(res_op *op)
{
    if (op->proj == NULL)
        return s2l_rmap_default_read_attrs(op->rm);
    if (op->read_attrs == NULL)
        op->read_attrs = s2l_rmap_read_attrs(op->rm, op->proj);
    return op->read_attrs;
}

int res_fetch_by_id(res_op *op, char *const *attrs)
{
    s2l_req *req = op->req;
    char *f = s2l_rmap_id_filter(op->rm, req->param);
    if (f == NULL) {
        s2l_req_fail(req, 404, NULL, "%s %s not found", res_info(op)->name, req->param);
        return -1;
    }
    s2l_search_req sr = {.base = res_info(op)->base_dn, .scope = s2l_ldap_scope(res_info(op)->scope),
                         .filter = f, .attrs = attrs, .size_limit = 2};
    int rc = s2l_req_ldap_search(req, &sr, res_on_ldap, op);
    free(f);
    if (rc < 0) {
        res_oom(op);
        return -1;
    }
    return 1;
}

json_t *res_fetched(res_op *op, const s2l_ldap_result *res)
{
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        s2l_req_fail_ldap(op->req, res, "resource");
        return NULL;
    }
    json_t *e = json_array_get(res->entries, 0);
    if (res->rc == LDAP_NO_SUCH_OBJECT || e == NULL || !json_is_string(json_object_get(e, "dn"))) {
        res_cache_drop(op);
        s2l_req_fail(op->req, 404, NULL, "%s %s not found", res_info(op)->name, op->req->param);
        return NULL;
    }
    res_cache_entry(op, e, op->req->param);
    return e;
}

/* ---- id -> DN hints ---- */

char *res_cached_dn(res_op *op)
{
    s2l_gateway *gw = op->req->gw;
    if (gw->id_cache == NULL || op->req->param == NULL || !s2l_pool_supports_control(gw->pool, LDAP_CONTROL_ASSERT))
        return NULL;
    char *dn = s2l_id_cache_copy(gw->id_cache, res_info(op)->name, op->req->param);
    if (dn != NULL && !s2l_rmap_dn_in_scope(op->rm, dn)) {
        free(dn);
        return NULL;
    }
    return dn;
}

void res_cache_entry(res_op *op, const json_t *entry, const char *id)
{
    s2l_gateway *gw = op->req->gw;
    const char *dn = json_string_value(json_object_get(entry, "dn"));
    if (gw->id_cache == NULL || dn == NULL)
        return;
    char *own = id ? NULL : s2l_rmap_entry_id(op->rm, entry);
    if (id || own)
        s2l_id_cache_put(gw->id_cache, res_info(op)->name, id ? id : own, dn); /* a hint: OOM just skips it */
    free(own);
}

void res_cache_put_dn(res_op *op, const char *dn)
{
    s2l_id_cache_put(op->req->gw->id_cache, res_info(op)->name, op->req->param, dn);
}

void res_cache_drop(res_op *op)
{
    s2l_id_cache_drop(op->req->gw->id_cache, res_info(op)->name, op->req->param);
}

bool res_direct_may_retry(const s2l_ldap_result *res)
{
    return res->rc > 0 && res->rc != LDAP_BUSY && res->rc != LDAP_UNAVAILABLE && res->rc != LDAP_TIMELIMIT_EXCEEDED &&
           res->rc != LDAP_ADMINLIMIT_EXCEEDED;
}

int res_probe_value(res_op *op, const char *dn, const char *attr, const char *value, s2l_req_ldap_cb *cb,
                    void *arg)
{
    static char *no_attrs[] = {LDAP_NO_ATTRS, NULL};
    char *f = s2l_ldap_eq_filter(attr, value);
    s2l_search_req sr = {.base = dn, .scope = LDAP_SCOPE_BASE, .filter = f, .attrs = no_attrs, .size_limit = 1};
    int rc = f ? s2l_req_ldap_search(op->req, &sr, cb, arg) : -1;
    free(f);
    if (rc < 0) {
        res_oom(op);
        return -1;
    }
    return 1;
}

/* ---- sub-operation: resolve references ----
 *
 *   REFS_RANGES      AD range retrieval: ranged attributes ("member;range=0-1499")
 *                    read to the end (ranges.h)
 *   REFS_GROUPS      users' groups by search (mapping "source": "search"): one
 *                    search per entry, whose DNs go into the entry
 *   REFS_COLLECT     the DNs the entries hold; a big group's members through
 *                    memberOf first (one search per type instead of one per member)
 *   REFS_MEMBERS_OF  what memberOf did not cover, one base search per DN
 *   REFS_DONE        done(op, NULL)
 */
enum { REFS_RANGES, REFS_GROUPS, REFS_COLLECT, REFS_MEMBERS_OF, REFS_DONE };

/* Past this many member DNs, a group's members are resolved with one memberOf
 * search per type rather than one base search per member. */
#define MEMBERS_VIA_MEMBEROF 32

typedef struct refs_group_search {
    res_op *op;
    json_t *entry;               /* borrowed from refs_op.entries */
} refs_group_search;

/* 1: waiting; 0: finished; -1: answered (error). */
static int refs_run(res_op *op, const s2l_ldap_result *res);

static void refs_resume(res_op *op, const s2l_ldap_result *res)
{
    if (refs_run(op, res) == 0)
        op->refs_op.done(op, NULL);
}

static void on_refs_lookup(void *arg, const s2l_ldap_result *err)
{
    refs_resume(arg, err);
}

static void on_group_search(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    refs_group_search *gs = arg;
    res_op *op = gs->op;
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        s2l_req_fail_ldap(req, res, "groups");
        return;
    }
    json_t *dns = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(res->entries, i, e) json_array_append(dns, json_object_get(e, "dn"));
    json_object_set_new(json_object_get(gs->entry, "attrs"), s2l_rmap_groups_of(op->rm)->attr, dns);
    if (--op->refs_op.pending == 0)
        refs_resume(op, NULL);
}

/* The attribute the directory maintains on members (memberOf), if the mapping
 * reads users' groups from one. */
static const char *memberof_attr(const s2l_mapping *m)
{
    for (size_t i = 0; i < s2l_mapping_count(m); i++) {
        const s2l_rmap_groups *g = s2l_rmap_groups_of(s2l_mapping_at(m, i));
        if (g && g->source == S2L_GROUPS_ATTRIBUTE && g->attr)
            return g->attr;
    }
    return NULL;
}

/* Starts one groups search per entry; 1, 0 (not needed) or -1. */
static int refs_search_groups(res_op *op)
{
    res_refs *rs = &op->refs_op;
    const s2l_rmap_groups *g = s2l_rmap_groups_of(op->rm);
    const s2l_rmap *group_rm = g && g->source == S2L_GROUPS_SEARCH
                                   ? s2l_mapping_find(op->req->gw->mapping, g->group_type) : NULL;
    size_t n = json_array_size(rs->entries);
    if (group_rm == NULL || n == 0 || !s2l_projection_wants(op->proj, res_rtype(op), NULL, "groups"))
        return 0;
    if ((rs->groups = calloc(n, sizeof *rs->groups)) == NULL) {
        res_oom(op);
        return -1;
    }
    static char *no_attrs[] = {LDAP_NO_ATTRS, NULL};
    const s2l_rmap_info *gi = s2l_rmap_info_of(group_rm);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(rs->entries, i);
        char *f = s2l_rmap_member_filter(group_rm, json_string_value(json_object_get(e, "dn")));
        rs->groups[i] = (refs_group_search){op, e};
        s2l_search_req sr = {.base = gi->base_dn, .scope = s2l_ldap_scope(gi->scope), .filter = f,
                             .attrs = no_attrs};
        int rc = f ? s2l_req_ldap_search(op->req, &sr, on_group_search, &rs->groups[i]) : -1;
        free(f);
        if (rc < 0) {
            res_oom(op);
            return -1;
        }
        rs->pending++;
    }
    return 1;
}

static int refs_run(res_op *op, const s2l_ldap_result *res)
{
    res_refs *rs = &op->refs_op;
    s2l_req *req = op->req;
    for (;; res = NULL) {
        switch (rs->step) {
        case REFS_RANGES: {
            rs->step = REFS_GROUPS;
            int rc = s2l_rmap_range_size(op->rm) ? s2l_ranges_complete(req, rs->entries, on_refs_lookup, op) : 0;
            if (rc != 0)
                return rc;
            break;
        }
        case REFS_GROUPS: {
            if (res) {
                s2l_req_fail_ldap(req, res, "group members");
                return -1;
            }
            rs->step = REFS_COLLECT;
            int rc = refs_search_groups(op);
            if (rc != 0)
                return rc;
            break;
        }
        case REFS_COLLECT: {
            json_t *dns = json_array();
            if (dns == NULL) {
                res_oom(op);
                return -1;
            }
            size_t i;
            json_t *e;
            json_array_foreach(rs->entries, i, e) {
                json_t *d = s2l_rmap_ref_dns(op->rm, e);
                json_array_extend(dns, d);
                json_decref(d);
            }
            const char *mo = memberof_attr(req->gw->mapping);
            int rc;
            if (json_array_size(rs->entries) == 1 && json_array_size(dns) > MEMBERS_VIA_MEMBEROF && mo &&
                res_is_group_like(op)) {
                rs->dns = dns;
                rs->step = REFS_MEMBERS_OF;
                const char *group_dn = json_string_value(json_object_get(json_array_get(rs->entries, 0), "dn"));
                rc = s2l_lookup_members_of(req, group_dn, mo, &op->refs, on_refs_lookup, op);
            } else {
                rs->step = REFS_DONE;
                rc = s2l_lookup_dns(req, dns, &op->refs, on_refs_lookup, op);
                json_decref(dns);
            }
            if (rc != 0)
                return rc;
            break;
        }
        case REFS_MEMBERS_OF: {
            if (res) {
                s2l_req_fail_ldap(req, res, "group members");
                return -1;
            }
            /* Whatever memberOf did not cover (DNs written in another form,
             * entries outside the overlay's reach) is resolved one by one;
             * known DNs are skipped. */
            json_t *dns = rs->dns;
            rs->dns = NULL;
            rs->step = REFS_DONE;
            int rc = s2l_lookup_dns(req, dns, &op->refs, on_refs_lookup, op);
            json_decref(dns);
            if (rc != 0)
                return rc;
            break;
        }
        case REFS_DONE:
            if (res) {
                s2l_req_fail_ldap(req, res, "a referenced entry");
                return -1;
            }
            return 0;
        }
    }
}

int res_refs_start(res_op *op, const json_t *entries, res_advance_fn *done)
{
    res_refs *rs = &op->refs_op;
    json_decref(rs->entries);
    json_decref(rs->dns);
    free(rs->groups);
    *rs = (res_refs){.step = REFS_RANGES, .done = done, .entries = json_incref((json_t *)entries)};
    return refs_run(op, NULL);
}

/* ---- sub-operation: reply with one resource ----
 *
 *   REPLY_READ_BACK  read the entry at dn (a write whose server sent no post-read entry)
 *   REPLY_READ       its result
 *   REPLY_REFS       resolve its references
 *   REPLY_RENDER     render, project, reply (ETag; Location on 201)
 */
enum { REPLY_READ_BACK, REPLY_READ, REPLY_REFS, REPLY_RENDER };

static void reply_render(res_op *op, const json_t *entry, int status)
{
    s2l_error err;
    s2l_error_clear(&err);
    json_t *res = s2l_rmap_to_scim(op->rm, entry, op->refs, op->req->base_url, &err);
    if (res == NULL) {
        res_fail(op, &err, 502, NULL, "the directory entry cannot be rendered");
        return;
    }
    s2l_projection_apply(op->proj, res_rtype(op), res);
    res_cache_entry(op, entry, NULL);
    char *version = s2l_rmap_version(op->rm, entry);
    const char *loc = json_string_value(json_object_get(json_object_get(res, "meta"), "location"));
    const char *hdr[5] = {NULL};
    size_t h = 0;
    if (version) {
        hdr[h++] = "ETag";
        hdr[h++] = version;
    }
    if (status == 201 && loc) {
        hdr[h++] = "Location";
        hdr[h++] = loc;
    }
    json_incref(res);
    s2l_req_reply_json(op->req, status, res, hdr);
    json_decref(res);
    free(version);
}

static void reply_advance(res_op *op, const s2l_ldap_result *res);

static void on_reply_ldap(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    reply_advance(arg, res);
}

static void reply_advance(res_op *op, const s2l_ldap_result *res)
{
    res_reply *rr = &op->reply_op;
    for (;; res = NULL) {
        switch (rr->step) {
        case REPLY_READ_BACK: {
            char *const *attrs = res_output_attrs(op);
            if (attrs == NULL) {
                res_oom(op);
                return;
            }
            rr->step = REPLY_READ;
            s2l_search_req sr = {.base = rr->dn, .scope = LDAP_SCOPE_BASE, .filter = "(objectClass=*)",
                                 .attrs = attrs, .size_limit = 1};
            if (s2l_req_ldap_search(op->req, &sr, on_reply_ldap, op) < 0)
                res_oom(op);
            return;
        }
        case REPLY_READ: {
            json_t *e = json_array_get(res->entries, 0);
            if (res->rc != LDAP_SUCCESS || e == NULL) {
                /* The write succeeded; only the read-back failed. Saying so
                 * beats a 5xx that would make the IdP retry a done write. */
                if (rr->status == 201)
                    s2l_log(S2L_LOG_WARN, "event=readback_failed req=%llu rc=%d",
                            (unsigned long long)op->req->id, res->rc);
                s2l_req_fail_ldap(op->req, res, "the written entry");
                return;
            }
            rr->entry = json_incref(e);
            rr->step = REPLY_REFS;
            break;
        }
        case REPLY_REFS: {
            json_t *one = json_pack("[O]", rr->entry);
            if (one == NULL) {
                res_oom(op);
                return;
            }
            rr->step = REPLY_RENDER;
            int rc = res_refs_start(op, one, reply_advance);
            json_decref(one);
            if (rc != 0)
                return;
            break;
        }
        case REPLY_RENDER:
            reply_render(op, rr->entry, rr->status);
            return;
        }
    }
}

void res_reply_resource(res_op *op, const json_t *entry, const char *dn, int status)
{
    res_reply *rr = &op->reply_op;
    rr->status = status;
    rr->step = entry ? REPLY_REFS : REPLY_READ_BACK;
    rr->entry = entry ? json_incref((json_t *)entry) : NULL;
    if (entry == NULL && (rr->dn = strdup(dn)) == NULL) {
        res_oom(op);
        return;
    }
    reply_advance(op, NULL);
}
