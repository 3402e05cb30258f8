/* resource_handlers.c — GET/POST/PUT/PATCH/DELETE for any mapped resource type.
 *
 * Each handler is a chain of small steps; each step either starts LDAP work
 * (continuing in its completion) or ends the request with one reply. The pure
 * modules do the thinking: resource.h normalises and patches, mapping.h turns
 * resources into entries, plans and filters. This file only sequences I/O.
 *
 * Writes: one LDAP modify per request (plus a modrdn first when the RDN
 * changes, undone if the modify is refused), so a PATCH is all or nothing.
 */
#include "handlers.h"

#include <ldap.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lookup.h"
#include "policy_report.h"
#include "refint.h"
#include "s2l/log.h"
#include "s2l/resource.h"

typedef struct hstate {
    s2l_projection *proj;
    char **read_attrs;      /* what to read for output (projection); see output_attrs() */
    s2l_filter *filter;
    char *ldap_filter;
    json_t *entry;          /* the entry as read (fetch) */
    json_t *refs;           /* DN → {"id","type","display"} */
    json_t *ids;            /* id → DN */
    json_t *old_res;        /* canonical resource as stored */
    json_t *new_res;        /* canonical resource as wanted */
    json_t *deltas;         /* PATCH value-level changes (delta attributes) */
    json_t *mods;           /* LDAP modifications to apply */
    json_t *add_entry;      /* POST: {"dn","attrs"} */
    json_t *post_entry;     /* the entry a write returned through post-read */
    json_t *pending_dns;    /* reference DNs still to resolve after the memberOf search */
    char *dn;               /* current DN */
    char *new_dn;           /* DN after a rename */
    char *newrdn;           /* rename target RDN, or NULL */
    int reply_status;       /* status of the final read-back reply */
    bool patch_body;        /* PATCH: answer with the resource (200) or 204 */
    /* list */
    unsigned long start_index, count, total;
    json_t *page;           /* entries of the page, in order */
    json_t *page_dns;       /* phase B: DNs of the page */
    size_t page_pending;
    json_t *plan_mods;      /* mods from plan_update (delta mods are added per attempt) */
    unsigned ph_flags;      /* S2L_PH_*: what is known of the empty-group placeholder */
    bool ph_probe_pending;  /* the placeholder probe has not answered yet */
    bool plan_waiting;      /* planning waits for that probe */
    bool ph_retried;        /* a removal refused with 65 was retried with the placeholder */
    bool mods_retried;      /* a modify refused with 16 was re-planned once */
    size_t probes_pending;
    void (*after_refs)(s2l_req *req);
    void (*after_fetch)(s2l_req *req);
    void (*after_update_fetch)(s2l_req *req);
} hstate;

static void hstate_free(void *p)
{
    hstate *st = p;
    if (st == NULL)
        return;
    s2l_projection_destroy(st->proj);
    s2l_strv_free(st->read_attrs);
    s2l_filter_destroy(st->filter);
    free(st->ldap_filter);
    json_decref(st->entry);
    json_decref(st->refs);
    json_decref(st->ids);
    json_decref(st->old_res);
    json_decref(st->new_res);
    json_decref(st->deltas);
    json_decref(st->mods);
    json_decref(st->plan_mods);
    json_decref(st->add_entry);
    json_decref(st->post_entry);
    json_decref(st->pending_dns);
    json_decref(st->page);
    json_decref(st->page_dns);
    free(st->dn);
    free(st->new_dn);
    free(st->newrdn);
    free(st);
}

static hstate *state_of(s2l_req *req)
{
    if (req->state == NULL) {
        hstate *st = calloc(1, sizeof *st);
        if (st == NULL)
            return NULL;
        st->refs = json_object();
        st->ids = json_object();
        if (st->refs == NULL || st->ids == NULL) {
            hstate_free(st);
            return NULL;
        }
        req->state = st;
        req->state_free = hstate_free;
    }
    return req->state;
}

static const s2l_rmap_info *info(s2l_req *req)
{
    return s2l_rmap_info_of(req->rm);
}

static const s2l_resource_type *rtype(s2l_req *req)
{
    return s2l_rmap_rtype(req->rm);
}

static void oom(s2l_req *req)
{
    s2l_req_fail(req, 503, NULL, "out of memory");
}

/* Replies with *err, or with a fallback when the pure module that failed did
 * not say why (it always should; this keeps a bug from becoming a 500). */
static void reply_error_or(s2l_req *req, s2l_error *err, int status, const char *scim_type, const char *detail)
{
    if (err->status == 0)
        s2l_error_set(err, status, scim_type, "%s", detail);
    s2l_req_reply_error(req, err);
}

static bool is_group_like(s2l_req *req)
{
    const char *const *d = s2l_rmap_delta_attrs(req->rm);
    return d && d[0];
}

/* ---- small helpers ---- */

/* The parent of a DN: everything after the first unescaped ','. */
static const char *dn_parent(const char *dn)
{
    for (const char *p = dn; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == ',')
            return p + 1;
    }
    return NULL;
}

static char *dn_rdn(const char *dn)
{
    const char *parent = dn_parent(dn);
    return parent ? strndup(dn, (size_t)(parent - 1 - dn)) : strdup(dn);
}

static char *join_dn(const char *rdn, const char *parent)
{
    size_t n = strlen(rdn) + strlen(parent) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s,%s", rdn, parent);
    return out;
}

/* If-Match (RFC 7232 §3.1) against the entry's version; "*" matches any. */
static bool if_match_ok(s2l_req *req, const json_t *entry)
{
    const char *im = s2l_req_header(req, "If-Match");
    if (im == NULL)
        return true;
    char *version = s2l_rmap_version(req->rm, entry);
    bool ok = false;
    const char *p = im;
    while (*p && !ok) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        bool quoted = false;
        while (*e && (quoted || *e != ',')) {
            if (*e == '"')
                quoted = !quoted;
            e++;
        }
        size_t len = (size_t)(e - p);
        while (len && p[len - 1] == ' ')
            len--;
        if (len == 1 && *p == '*')
            ok = true;
        else if (version) {
            /* Weak comparison: W/"x" matches "x" and W/"x". */
            const char *a = p, *b = version;
            size_t al = len, bl = strlen(version);
            if (al > 2 && strncmp(a, "W/", 2) == 0)
                a += 2, al -= 2;
            if (bl > 2 && strncmp(b, "W/", 2) == 0)
                b += 2, bl -= 2;
            ok = al == bl && strncmp(a, b, al) == 0;
        }
        p = e;
    }
    free(version);
    return ok;
}

static unsigned retry_after(s2l_req *req)
{
    return s2l_pool_retry_after(req->gw->pool);
}

/* Fails fast while no LDAP connection is up: the IdP retries after Retry-After. */
static bool directory_up(s2l_req *req)
{
    if (s2l_pool_is_up(req->gw->pool))
        return true;
    s2l_error err;
    s2l_error_set(&err, 503, NULL, "the directory is unavailable; retry later");
    err.retry_after = (int)retry_after(req);
    s2l_req_reply_error(req, &err);
    return false;
}

static bool parse_projection(s2l_req *req, hstate *st)
{
    s2l_error err;
    s2l_error_clear(&err);
    st->proj = s2l_projection_parse(rtype(req), s2l_req_query(req, "attributes"),
                                    s2l_req_query(req, "excludedAttributes"), &err);
    if (st->proj == NULL && err.status) {
        s2l_req_reply_error(req, &err);
        return false;
    }
    return true;
}

/* LDAP attributes to read for the response: the mapping's precomputed list
 * when the request has no attributes/excludedAttributes, else built for it.
 * NULL only when out of memory. */
static char *const *output_attrs(s2l_req *req)
{
    hstate *st = req->state;
    if (st->proj == NULL)
        return s2l_rmap_default_read_attrs(req->rm);
    if (st->read_attrs == NULL)
        st->read_attrs = s2l_rmap_read_attrs(req->rm, st->proj);
    return st->read_attrs;
}

/* ---- rendering ---- */

static void reply_resource(s2l_req *req, const json_t *entry, int status)
{
    hstate *st = req->state;
    s2l_error err;
    s2l_error_clear(&err);
    json_t *res = s2l_rmap_to_scim(req->rm, entry, st->refs, req->base_url, &err);
    if (res == NULL) {
        reply_error_or(req, &err, 502, NULL, "the directory entry cannot be rendered");
        return;
    }
    s2l_projection_apply(st->proj, rtype(req), res);
    char *version = s2l_rmap_version(req->rm, entry);
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
    s2l_req_reply_json(req, status, res, hdr);
    json_decref(res);
    free(version);
}

static void on_refs_then_continue(s2l_req *req, void *arg, const s2l_ldap_result *err)
{
    if (err) {
        s2l_req_fail_ldap(req, err, "a referenced entry");
        return;
    }
    hstate *st = req->state;
    st->after_refs(req);
}

static void resolve_entry_refs_now(s2l_req *req, const json_t *entries, void (*next)(s2l_req *req));

/* A user's read-only groups found by searching the groups (mapping "source":
 * "search", for directories without memberOf): one search per entry, whose
 * DNs are put into the entry under the mapping's attribute before rendering. */
typedef struct groups_search {
    json_t *entries;         /* the entries being rendered */
    json_t *entry;           /* the one this search is for (borrowed from entries) */
    unsigned *pending;
    void (*next)(s2l_req *req);
} groups_search;

typedef struct groups_batch {
    json_t *entries;
    unsigned pending;
    groups_search *searches;
} groups_batch;

static void groups_batch_free(void *p)
{
    groups_batch *b = p;
    json_decref(b->entries);
    free(b->searches);
    free(b);
}

static void on_groups_found(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    groups_search *gs = arg;
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        s2l_req_fail_ldap(req, res, "groups");
        return;
    }
    const s2l_rmap_groups *g = s2l_rmap_groups_of(req->rm);
    json_t *dns = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(res->entries, i, e) json_array_append(dns, json_object_get(e, "dn"));
    json_object_set_new(json_object_get(gs->entry, "attrs"), g->attr, dns);
    if (--*gs->pending == 0)
        resolve_entry_refs_now(req, gs->entries, gs->next);
}

/* Resolves the DNs that entries hold in reference attributes, then continues. */
static void resolve_entry_refs(s2l_req *req, const json_t *entries, void (*next)(s2l_req *req))
{
    hstate *st = req->state;
    const s2l_rmap_groups *g = s2l_rmap_groups_of(req->rm);
    const s2l_rmap *group_rm = g && g->source == S2L_GROUPS_SEARCH
                                   ? s2l_mapping_find(req->gw->mapping, g->group_type) : NULL;
    size_t n = json_array_size(entries);
    if (group_rm == NULL || n == 0 || !s2l_projection_wants(st->proj, rtype(req), NULL, "groups")) {
        resolve_entry_refs_now(req, entries, next);
        return;
    }
    groups_batch *b = calloc(1, sizeof *b);
    if (b == NULL || s2l_req_adopt(req, b, groups_batch_free) < 0 ||
        (b->searches = calloc(n, sizeof *b->searches)) == NULL) {
        oom(req);
        return;
    }
    b->entries = json_incref((json_t *)entries);
    b->pending = (unsigned)n;
    static char *no_attrs[] = {LDAP_NO_ATTRS, NULL};
    const s2l_rmap_info *gi = s2l_rmap_info_of(group_rm);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(entries, i);
        char *f = s2l_rmap_member_filter(group_rm, json_string_value(json_object_get(e, "dn")));
        b->searches[i] = (groups_search){b->entries, e, &b->pending, next};
        s2l_search_req sr = {.base = gi->base_dn,
                             .scope = gi->scope == S2L_SCOPE_SUB ? LDAP_SCOPE_SUBTREE : LDAP_SCOPE_ONELEVEL,
                             .filter = f, .attrs = no_attrs};
        int rc = f ? s2l_req_ldap_search(req, &sr, on_groups_found, &b->searches[i]) : -1;
        free(f);
        if (rc < 0) {
            oom(req);
            return;
        }
    }
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

/* Past this many member DNs, a group's members are resolved with one memberOf
 * search per type rather than one base search per member. */
#define MEMBERS_VIA_MEMBEROF 32

static void on_members_of_resolved(s2l_req *req, void *arg, const s2l_ldap_result *err)
{
    hstate *st = req->state;
    if (err) {
        s2l_req_fail_ldap(req, err, "group members");
        return;
    }
    /* Whatever memberOf did not cover (DNs written in another form, entries
     * outside the overlay's reach) is resolved one by one; known DNs are skipped. */
    json_t *dns = st->pending_dns;
    st->pending_dns = NULL;
    s2l_lookup_dns(req, dns, st->refs, on_refs_then_continue, NULL);
    json_decref(dns);
}

static void resolve_entry_refs_now(s2l_req *req, const json_t *entries, void (*next)(s2l_req *req))
{
    hstate *st = req->state;
    json_t *dns = json_array();
    if (dns == NULL) {
        oom(req);
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e) {
        json_t *d = s2l_rmap_ref_dns(req->rm, e);
        json_array_extend(dns, d);
        json_decref(d);
    }
    st->after_refs = next;
    const char *mo = memberof_attr(req->gw->mapping);
    if (json_array_size(entries) == 1 && json_array_size(dns) > MEMBERS_VIA_MEMBEROF && mo && is_group_like(req)) {
        st->pending_dns = dns;
        s2l_lookup_members_of(req, json_string_value(json_object_get(json_array_get(entries, 0), "dn")), mo,
                              st->refs, on_members_of_resolved, NULL);
        return;
    }
    s2l_lookup_dns(req, dns, st->refs, on_refs_then_continue, NULL);
    json_decref(dns);
}

/* The same for one entry. */
static void resolve_one_entry_refs(s2l_req *req, json_t *entry, void (*next)(s2l_req *req))
{
    json_t *one = json_pack("[O]", entry);
    if (one == NULL) {
        oom(req);
        return;
    }
    resolve_entry_refs(req, one, next);
    json_decref(one);
}

/* ---- fetching one entry by id ---- */

static void on_fetched(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    hstate *st = req->state;
    void (*next)(s2l_req *) = st->after_fetch;
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        s2l_req_fail_ldap(req, res, "resource");
        return;
    }
    json_t *e = json_array_get(res->entries, 0);
    if (res->rc == LDAP_NO_SUCH_OBJECT || e == NULL) {
        s2l_req_fail(req, 404, NULL, "%s %s not found", info(req)->name, req->resource_id);
        return;
    }
    st->entry = json_incref(e);
    st->dn = strdup(json_string_value(json_object_get(e, "dn")));
    if (st->dn == NULL) {
        oom(req);
        return;
    }
    next(req);
}

/* Finds the entry for req->resource_id with attrs (NULL = defaults), then next(req). */
static void fetch_by_id(s2l_req *req, char *const *attrs, void (*next)(s2l_req *req))
{
    char *f = s2l_rmap_id_filter(req->rm, req->resource_id);
    if (f == NULL) {
        s2l_req_fail(req, 404, NULL, "%s %s not found", info(req)->name, req->resource_id);
        return;
    }
    s2l_search_req sr = {.base = info(req)->base_dn,
                         .scope = info(req)->scope == S2L_SCOPE_SUB ? LDAP_SCOPE_SUBTREE : LDAP_SCOPE_ONELEVEL,
                         .filter = f, .attrs = attrs, .size_limit = 2};
    ((hstate *)req->state)->after_fetch = next;
    int rc = s2l_req_ldap_search(req, &sr, on_fetched, NULL);
    free(f);
    if (rc < 0)
        oom(req);
}

/* ---- GET /R/{id} ---- */

static void get_render(s2l_req *req)
{
    hstate *st = req->state;
    reply_resource(req, st->entry, 200);
}

static void get_fetched(s2l_req *req)
{
    hstate *st = req->state;
    resolve_one_entry_refs(req, st->entry, get_render);
}

void s2l_handle_get(s2l_req *req)
{
    hstate *st = state_of(req);
    if (st == NULL) {
        oom(req);
        return;
    }
    if (!parse_projection(req, st) || !directory_up(req))
        return;
    char *const *attrs = output_attrs(req);
    if (attrs == NULL) {
        oom(req);
        return;
    }
    fetch_by_id(req, attrs, get_fetched);
}

/* ---- read back after a write ---- */

static void readback_render(s2l_req *req)
{
    hstate *st = req->state;
    reply_resource(req, st->entry, st->reply_status);
}

static void on_readback(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    hstate *st = req->state;
    json_t *e = json_array_get(res->entries, 0);
    if (res->rc != LDAP_SUCCESS || e == NULL) {
        /* The write succeeded; only the read-back failed. Saying so beats a 5xx
         * that would make the IdP retry a write that is already done. */
        if (st->reply_status == 201) {
            s2l_log(S2L_LOG_WARN, "event=readback_failed req=%llu rc=%d", (unsigned long long)req->id, res->rc);
        }
        s2l_req_fail_ldap(req, res, "the written entry");
        return;
    }
    json_decref(st->entry);
    st->entry = json_incref(e);
    resolve_one_entry_refs(req, e, readback_render);
}

static void read_back(s2l_req *req, const char *dn, int status)
{
    hstate *st = req->state;
    st->reply_status = status;
    char *const *attrs = output_attrs(req);
    if (attrs == NULL) {
        oom(req);
        return;
    }
    s2l_search_req sr = {.base = dn, .scope = LDAP_SCOPE_BASE, .filter = "(objectClass=*)", .attrs = attrs,
                         .size_limit = 1};
    if (s2l_req_ldap_search(req, &sr, on_readback, NULL) < 0)
        oom(req);
}

/* ---- POST /R ---- */

/* After a write: render the entry the post-read control returned (e), or read it back. */
static void written(s2l_req *req, json_t *e, const char *dn, int status)
{
    hstate *st = req->state;
    if (e == NULL) {
        read_back(req, dn, status);
        return;
    }
    st->reply_status = status;
    json_decref(st->entry);
    st->entry = json_incref(e);
    resolve_one_entry_refs(req, e, readback_render);
}

static void on_added(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    hstate *st = req->state;
    if (res->rc != LDAP_SUCCESS) {
        s2l_req_fail_ldap(req, res, info(req)->name);
        return;
    }
    written(req, json_array_get(res->entries, 0), st->dn, 201);
}

static void create_add(s2l_req *req)
{
    hstate *st = req->state;
    char *const *attrs = output_attrs(req);
    if (attrs == NULL || s2l_req_ldap_add(req, st->dn, json_object_get(st->add_entry, "attrs"), attrs, on_added,
                                          NULL) < 0)
        oom(req);
}

static void on_unique_checked(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        s2l_req_fail_ldap(req, res, info(req)->name);
        return;
    }
    if (json_array_size(res->entries) > 0) {
        s2l_req_fail(req, 409, S2L_SCIM_UNIQUENESS, "a %s with this %s already exists", info(req)->name,
                     info(req)->unique_attr);
        return;
    }
    create_add(req);
}

/* The DN already guarantees uniqueness of the RDN attribute within a one-level
 * scope; a search is needed only when the unique attribute is something else
 * or entries may live in sub-containers. */
static void create_check_unique(s2l_req *req)
{
    hstate *st = req->state;
    const s2l_rmap_info *in = info(req);
    if (in->unique_attr == NULL ||
        (in->scope == S2L_SCOPE_ONE && in->rdn_attr && strcasecmp(in->unique_attr, in->rdn_attr) == 0)) {
        create_add(req);
        return;
    }
    json_t *vals = s2l_json_get_ci(json_object_get(st->add_entry, "attrs"), in->unique_attr);
    const char *v = json_string_value(json_array_get(vals, 0));
    if (v == NULL) {
        create_add(req);
        return;
    }
    char *esc = s2l_ldap_escape_filter_value(v, strlen(v));
    size_t n = esc ? strlen(esc) + strlen(in->unique_attr) + strlen(in->object_filter) + 16 : 0;
    char *f = esc ? malloc(n) : NULL;
    if (f)
        snprintf(f, n, "(&%s(%s=%s))", in->object_filter, in->unique_attr, esc);
    free(esc);
    static char *no_attrs[] = {LDAP_NO_ATTRS, NULL};
    s2l_search_req sr = {.base = in->base_dn, .scope = LDAP_SCOPE_SUBTREE, .filter = f, .attrs = no_attrs,
                         .size_limit = 1};
    int rc = f ? s2l_req_ldap_search(req, &sr, on_unique_checked, NULL) : -1;
    free(f);
    if (rc < 0)
        oom(req);
}

static void create_translate(s2l_req *req, void *arg, const s2l_ldap_result *lerr)
{
    hstate *st = req->state;
    if (lerr) {
        s2l_req_fail_ldap(req, lerr, "a referenced entry");
        return;
    }
    s2l_error err;
    s2l_error_clear(&err);
    st->add_entry = s2l_rmap_to_ldap(req->rm, st->new_res, st->ids, &err);
    if (st->add_entry == NULL) {
        reply_error_or(req, &err, 400, S2L_SCIM_INVALID_VALUE, "the resource cannot be stored");
        return;
    }
    s2l_policy_report(req, json_object_get(st->add_entry, "notes"));
    st->dn = strdup(json_string_value(json_object_get(st->add_entry, "dn")));
    if (st->dn == NULL) {
        oom(req);
        return;
    }
    create_check_unique(req);
}

static bool normalize_body(s2l_req *req, hstate *st, s2l_norm_mode mode)
{
    if (req->body == NULL) {
        s2l_req_fail(req, 400, S2L_SCIM_INVALID_SYNTAX, "a JSON request body is required");
        return false;
    }
    s2l_error err;
    s2l_error_clear(&err);
    json_t *notes = json_object();
    s2l_norm_opts opts = {.policies = s2l_rmap_policies(req->rm), .notes = notes};
    st->new_res = s2l_resource_normalize(rtype(req), req->body, mode, &opts, &err);
    s2l_policy_report(req, notes);
    json_decref(notes);
    if (st->new_res == NULL) {
        reply_error_or(req, &err, 400, S2L_SCIM_INVALID_VALUE, "invalid resource");
        return false;
    }
    return true;
}

void s2l_handle_create(s2l_req *req)
{
    hstate *st = state_of(req);
    if (st == NULL) {
        oom(req);
        return;
    }
    if (!parse_projection(req, st) || !normalize_body(req, st, S2L_NORM_CREATE) || !directory_up(req))
        return;
    json_t *ids = s2l_rmap_ref_ids(req->rm, st->new_res);
    if (ids == NULL) {
        oom(req);
        return;
    }
    s2l_lookup_ids(req, ids, st->ids, create_translate, NULL);
    json_decref(ids);
}

/* ---- updates (PUT and PATCH): rename first, then one modify ---- */

static void update_reply(s2l_req *req)
{
    hstate *st = req->state;
    if (!st->patch_body) {
        s2l_req_reply_json(req, 204, NULL, NULL);
        return;
    }
    written(req, st->post_entry, st->new_dn ? st->new_dn : st->dn, 200);
}

/* The write is done; after a rename, references to the old DN are fixed
 * (unless the directory does that) before answering. */
static void update_done(s2l_req *req, const s2l_ldap_result *res)
{
    hstate *st = req->state;
    json_t *e = res ? json_array_get(res->entries, 0) : NULL;
    if (e)
        st->post_entry = json_incref(e);
    if (st->new_dn) {
        s2l_refint_fix(req, st->dn, st->new_dn, update_reply);
        return;
    }
    update_reply(req);
}

static void on_rollback(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    s2l_ldap_result *orig = arg;
    if (res->rc != LDAP_SUCCESS)
        s2l_log(S2L_LOG_ERROR, "event=rename_rollback_failed req=%llu rc=%d", (unsigned long long)req->id,
                res->rc);
    s2l_req_fail_ldap(req, orig, info(req)->name);
    free((char *)orig->diag);
    free(orig);
}

static void update_modify(s2l_req *req);
static bool build_mods(s2l_req *req);

/* One probe per value deleted by the modify: a base search (attr=value) on the
 * entry answers "is this value there?" without reading the attribute, which on
 * a group is the member list. */
typedef struct probe {
    size_t mod, val;         /* which mod and which of its values */
} probe;

static void on_probe(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    hstate *st = req->state;
    probe *p = arg;
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        s2l_req_fail_ldap(req, res, info(req)->name);
        return;
    }
    if (json_array_size(res->entries) == 0) {
        /* absent: mark for removal from the retried modify */
        json_t *vals = json_object_get(json_array_get(st->mods, p->mod), "values");
        json_array_set_new(vals, p->val, json_null());
    }
    if (--st->probes_pending > 0)
        return;
    for (size_t m = json_array_size(st->mods); m-- > 0;) {
        json_t *mod = json_array_get(st->mods, m);
        json_t *vals = json_object_get(mod, "values");
        if (strcmp(json_string_value(json_object_get(mod, "op")), "delete") != 0 || json_array_size(vals) == 0)
            continue;
        for (size_t v = json_array_size(vals); v-- > 0;)
            if (json_is_null(json_array_get(vals, v)))
                json_array_remove(vals, v);
        if (json_array_size(vals) == 0)
            json_array_remove(st->mods, m);
    }
    update_modify(req);
}

/* The modify was refused because a value to delete is not there (LDAP 16; the
 * permissive-modify control covers only values that are added twice). An IdP
 * removing a member that is already gone expects success, so find the absent
 * values, drop them and modify once more. */
static bool retry_without_absent_values(s2l_req *req)
{
    hstate *st = req->state;
    const char *dn = st->new_dn ? st->new_dn : st->dn;
    size_t n = 0;
    size_t m;
    json_t *mod;
    json_array_foreach(st->mods, m, mod) {
        if (strcmp(json_string_value(json_object_get(mod, "op")), "delete") == 0)
            n += json_array_size(json_object_get(mod, "values"));
    }
    if (n == 0 || st->mods_retried)
        return false;
    st->mods_retried = true;
    probe *probes = calloc(n, sizeof *probes);
    if (probes == NULL || s2l_req_adopt(req, probes, free) < 0) {
        oom(req);
        return true;
    }
    static char *no_attrs[] = {LDAP_NO_ATTRS, NULL};
    size_t k = 0;
    json_array_foreach(st->mods, m, mod) {
        if (strcmp(json_string_value(json_object_get(mod, "op")), "delete") != 0)
            continue;
        const char *attr = json_string_value(json_object_get(mod, "attr"));
        size_t v;
        json_t *val;
        json_array_foreach(json_object_get(mod, "values"), v, val) {
            const char *text = json_string_value(val);
            char *esc = text ? s2l_ldap_escape_filter_value(text, strlen(text)) : NULL;
            size_t len = esc ? strlen(attr) + strlen(esc) + 4 : 0;
            char *f = esc ? malloc(len) : NULL;
            if (f)
                snprintf(f, len, "(%s=%s)", attr, esc);
            free(esc);
            probes[k] = (probe){m, v};
            s2l_search_req sr = {.base = dn, .scope = LDAP_SCOPE_BASE, .filter = f, .attrs = no_attrs,
                                 .size_limit = 1};
            int rc = f ? s2l_req_ldap_search(req, &sr, on_probe, &probes[k]) : -1;
            free(f);
            if (rc < 0) {
                oom(req);
                return true;
            }
            k++;
            st->probes_pending++;
        }
    }
    return true;
}

/* The entry was renamed by someone else between our read and our write
 * (LDAP 32 on its old DN): start the update over, once, from the look-up by
 * id, which finds it under its new name. Nothing was written yet. */
static bool restart_update(s2l_req *req, const s2l_ldap_result *res)
{
    hstate *st = req->state;
    if (res->rc != LDAP_NO_SUCH_OBJECT || req->restarts > 0 || st->new_dn != NULL)
        return false;
    req->restarts++;
    hstate_free(st);
    req->state = NULL;
    req->state_free = NULL;
    s2l_log(S2L_LOG_INFO, "event=update_restart req=%llu reason=entry_moved", (unsigned long long)req->id);
    if (req->method == EVHTTP_REQ_PATCH)
        s2l_handle_patch(req);
    else
        s2l_handle_replace(req);
    return true;
}

static void on_modified(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    hstate *st = req->state;
    if (restart_update(req, res))
        return;
    if (res->rc == LDAP_NO_SUCH_ATTRIBUTE && retry_without_absent_values(req))
        return;
    /* A removal emptied a group whose class requires members: once more, with
     * the empty-group placeholder added in the same modify. */
    if (res->rc == LDAP_OBJECT_CLASS_VIOLATION && st->deltas && !st->ph_retried &&
        !(st->ph_flags & S2L_PH_ADD_ON_REMOVE)) {
        char *f = s2l_rmap_placeholder_filter(req->rm);
        if (f) {
            free(f);
            st->ph_retried = true;
            st->ph_flags |= S2L_PH_ADD_ON_REMOVE;
            if (build_mods(req))
                update_modify(req);
            return;
        }
    }
    if (res->rc != LDAP_SUCCESS) {
        if (st->new_dn) {
            /* The rename went through but the modify did not: put the old name
             * back so the request is all or nothing. */
            s2l_ldap_result *copy = calloc(1, sizeof *copy);
            char *old_rdn = dn_rdn(st->dn);
            if (copy && old_rdn) {
                *copy = *res;
                copy->entries = NULL;
                copy->matched_dn = NULL;
                copy->diag = res->diag ? strdup(res->diag) : NULL;
                if (s2l_req_ldap_rename(req, st->new_dn, old_rdn, on_rollback, copy) == 0) {
                    free(old_rdn);
                    return;
                }
                free((char *)copy->diag);
            }
            free(copy);
            free(old_rdn);
        }
        s2l_req_fail_ldap(req, res, info(req)->name);
        return;
    }
    update_done(req, res);
}

static void update_modify(s2l_req *req)
{
    hstate *st = req->state;
    if (json_array_size(st->mods) == 0) {
        update_done(req, NULL);
        return;
    }
    const char *dn = st->new_dn ? st->new_dn : st->dn;
    char *const *post_read = NULL;
    if (st->patch_body && (post_read = output_attrs(req)) == NULL) {
        oom(req);
        return;
    }
    if (s2l_req_ldap_modify(req, dn, st->mods, post_read, on_modified, NULL) < 0)
        oom(req);
}

static void on_renamed(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    hstate *st = req->state;
    if (restart_update(req, res))
        return;
    if (res->rc != LDAP_SUCCESS) {
        s2l_req_fail_ldap(req, res, info(req)->name);
        return;
    }
    const char *parent = dn_parent(st->dn);
    st->new_dn = parent ? join_dn(st->newrdn, parent) : strdup(st->newrdn);
    if (st->new_dn == NULL) {
        oom(req);
        return;
    }
    update_modify(req);
}

static void update_apply(s2l_req *req)
{
    hstate *st = req->state;
    if (st->newrdn) {
        if (s2l_req_ldap_rename(req, st->dn, st->newrdn, on_renamed, NULL) < 0)
            oom(req);
        return;
    }
    update_modify(req);
}

/* st->mods = the plan's mods + value-level delta mods for the placeholder state. */
static bool build_mods(s2l_req *req)
{
    hstate *st = req->state;
    s2l_error err;
    s2l_error_clear(&err);
    json_decref(st->mods);
    st->mods = st->plan_mods ? json_deep_copy(st->plan_mods) : json_array();
    if (st->mods == NULL) {
        oom(req);
        return false;
    }
    if (st->deltas && (s2l_rmap_delta_mods(req->rm, st->deltas, st->ids, st->ph_flags, st->mods, &err) < 0 ||
                       s2l_rmap_delta_kept_mods(req->rm, st->deltas, st->entry, st->mods, &err) < 0)) {
        reply_error_or(req, &err, 400, S2L_SCIM_INVALID_VALUE, "invalid member change");
        return false;
    }
    /* An entry made by another tool gets the mapping's object classes it lacks. */
    if (s2l_rmap_adopt_mods(req->rm, st->entry, st->mods) < 0) {
        oom(req);
        return false;
    }
    return true;
}

static void plan_and_apply(s2l_req *req)
{
    hstate *st = req->state;
    s2l_error err;
    s2l_error_clear(&err);
    json_t *plan = s2l_rmap_plan_update(req->rm, st->old_res, st->new_res, st->ids, &err);
    if (plan == NULL) {
        reply_error_or(req, &err, 400, S2L_SCIM_INVALID_VALUE, "the change cannot be stored");
        return;
    }
    /* Members that do not resolve: skipped (and logged) or refused, per policy. */
    json_t *notes = json_object_get(plan, "notes");
    if (notes == NULL && st->deltas)
        json_object_set_new(plan, "notes", notes = json_object());
    if (st->deltas && s2l_rmap_check_deltas(req->rm, st->deltas, st->ids, notes, &err) < 0) {
        json_decref(plan);
        reply_error_or(req, &err, 400, S2L_SCIM_INVALID_VALUE, "invalid member change");
        return;
    }
    s2l_policy_report(req, notes);
    st->plan_mods = json_incref(json_object_get(plan, "mods"));
    const char *newrdn = json_string_value(json_object_get(plan, "newrdn"));
    if (newrdn && (st->newrdn = strdup(newrdn)) == NULL) {
        json_decref(plan);
        oom(req);
        return;
    }
    json_decref(plan);
    if (build_mods(req))
        update_apply(req);
}

/* Both old and new references are known as ids by now (and the placeholder
 * probe, if any, has answered): plan and apply. */
static void update_plan(s2l_req *req, void *arg, const s2l_ldap_result *lerr)
{
    hstate *st = req->state;
    if (lerr) {
        s2l_req_fail_ldap(req, lerr, "a referenced entry");
        return;
    }
    if (st->ph_probe_pending) {
        st->plan_waiting = true;
        return;
    }
    plan_and_apply(req);
}

static void on_placeholder_probe(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    hstate *st = req->state;
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        s2l_req_fail_ldap(req, res, info(req)->name);
        return;
    }
    st->ph_probe_pending = false;
    st->ph_flags = json_array_size(res->entries) ? S2L_PH_DELETE_ON_ADD : 0;
    if (st->plan_waiting) {
        st->plan_waiting = false;
        plan_and_apply(req);
    }
}

/* Member changes must know whether the group holds the empty-group
 * placeholder (to delete it on add) without reading the member list: a
 * base-scope search for (member=<placeholder>) answers that, in parallel with
 * the id look-ups. */
static bool probe_placeholder(s2l_req *req)
{
    hstate *st = req->state;
    if (json_array_size(st->deltas) == 0)
        return true;
    char *f = s2l_rmap_placeholder_filter(req->rm);
    if (f == NULL)
        return true;
    static char *no_attrs[] = {LDAP_NO_ATTRS, NULL};
    s2l_search_req sr = {.base = st->dn, .scope = LDAP_SCOPE_BASE, .filter = f, .attrs = no_attrs, .size_limit = 1};
    int rc = s2l_req_ldap_search(req, &sr, on_placeholder_probe, NULL);
    free(f);
    if (rc < 0) {
        oom(req);
        return false;
    }
    st->ph_probe_pending = true;
    return true;
}

/* Ids the new resource and the deltas refer to, minus those already known. */
static void update_resolve_new_ids(s2l_req *req)
{
    hstate *st = req->state;
    json_t *ids = s2l_rmap_ref_ids(req->rm, st->new_res);
    if (ids == NULL) {
        oom(req);
        return;
    }
    size_t i;
    json_t *d;
    json_array_foreach(st->deltas, i, d) {
        const char *lists[] = {"add", "remove"};
        for (size_t l = 0; l < 2; l++) {
            size_t j;
            json_t *v;
            json_array_foreach(json_object_get(d, lists[l]), j, v) {
                json_t *id = json_object_get(v, "value");
                if (json_is_string(id))
                    json_array_append(ids, id);
            }
        }
    }
    s2l_lookup_ids(req, ids, st->ids, update_plan, NULL);
    json_decref(ids);
}

/* The stored resource as SCIM, with references rendered as ids; the ids map
 * learns old references too, so unchanged ones need no second look-up. */
static bool build_old(s2l_req *req)
{
    hstate *st = req->state;
    s2l_error err;
    s2l_error_clear(&err);
    st->old_res = s2l_rmap_to_scim(req->rm, st->entry, st->refs, req->base_url, &err);
    if (st->old_res == NULL) {
        reply_error_or(req, &err, 502, NULL, "the directory entry cannot be rendered");
        return false;
    }
    const char *dn;
    json_t *ref;
    json_object_foreach(st->refs, dn, ref) {
        const char *id = json_string_value(json_object_get(ref, "id"));
        if (id)
            json_object_set_new(st->ids, id, json_string(dn));
    }
    return true;
}


/* PUT and PATCH: the entry as stored (without delta attributes), checked
 * against If-Match, its references resolved to ids; then next(req). */
static void update_fetched(s2l_req *req)
{
    hstate *st = req->state;
    if (!if_match_ok(req, st->entry)) {
        s2l_req_fail(req, 412, NULL, "the resource has changed (If-Match does not match its version)");
        return;
    }
    resolve_one_entry_refs(req, st->entry, st->after_update_fetch);
}

static void start_update(s2l_req *req, void (*next)(s2l_req *req))
{
    hstate *st = req->state;
    st->after_update_fetch = next;
    fetch_by_id(req, s2l_rmap_update_read_attrs(req->rm), update_fetched);
}

/* PUT: members (delta attributes) are replaced wholesale by what the body says. */
static void put_after_refs(s2l_req *req)
{
    hstate *st = req->state;
    if (!build_old(req))
        return;
    const char *const *delta = s2l_rmap_delta_attrs(req->rm);
    for (size_t i = 0; delta && delta[i]; i++) {
        json_t *vals = s2l_json_get_ci(st->new_res, delta[i]);
        json_t *add = vals ? json_incref(vals) : json_array();
        json_t *d = add ? json_pack("{s:s, s:o, s:[], s:b}", "attr", delta[i], "add", add, "remove",
                                    "replace_all", 1)
                        : NULL;
        if (d == NULL || (st->deltas == NULL && (st->deltas = json_array()) == NULL)) {
            json_decref(d);
            oom(req);
            return;
        }
        json_array_append_new(st->deltas, d);
        json_object_del(st->new_res, delta[i]);
        json_object_del(st->old_res, delta[i]);
    }
    update_resolve_new_ids(req);
}

void s2l_handle_replace(s2l_req *req)
{
    hstate *st = state_of(req);
    if (st == NULL) {
        oom(req);
        return;
    }
    if (!parse_projection(req, st) || !normalize_body(req, st, S2L_NORM_REPLACE) || !directory_up(req))
        return;
    st->patch_body = true;
    start_update(req, put_after_refs);
}

/* ---- PATCH ---- */

static void patch_after_refs(s2l_req *req)
{
    hstate *st = req->state;
    if (!build_old(req))
        return;
    st->new_res = json_deep_copy(st->old_res);
    if (st->new_res == NULL) {
        oom(req);
        return;
    }
    s2l_error err;
    s2l_error_clear(&err);
    json_t *notes = json_object();
    s2l_patch_opts opts = {.delta_attrs = s2l_rmap_delta_attrs(req->rm),
                           .max_operations = req->gw->cfg->limits.max_patch_operations,
                           .policies = s2l_rmap_policies(req->rm), .notes = notes};
    int prc = s2l_patch_apply(rtype(req), st->new_res, req->body, &opts, &st->deltas, &err);
    s2l_policy_report(req, notes);
    json_decref(notes);
    if (prc < 0) {
        reply_error_or(req, &err, 400, S2L_SCIM_INVALID_VALUE, "invalid PATCH request");
        return;
    }
    if (!probe_placeholder(req))
        return;
    update_resolve_new_ids(req);
}

void s2l_handle_patch(s2l_req *req)
{
    hstate *st = state_of(req);
    if (st == NULL) {
        oom(req);
        return;
    }
    if (!parse_projection(req, st))
        return;
    if (req->body == NULL) {
        s2l_req_fail(req, 400, S2L_SCIM_INVALID_SYNTAX, "a PatchOp request body is required");
        return;
    }
    if (!directory_up(req))
        return;
    bool asked = s2l_req_query(req, "attributes") || s2l_req_query(req, "excludedAttributes");
    st->patch_body = is_group_like(req) ? (req->gw->cfg->behaviour.group_patch_returns_body || asked)
                                        : (req->gw->cfg->behaviour.user_patch_returns_body || asked);
    start_update(req, patch_after_refs);
}

/* ---- DELETE ---- */

static void reply_no_content(s2l_req *req)
{
    s2l_req_reply_json(req, 204, NULL, NULL);
}

static void on_deleted(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    hstate *st = req->state;
    if (res->rc != LDAP_SUCCESS) {
        s2l_req_fail_ldap(req, res, info(req)->name);
        return;
    }
    /* A deleted user (or group) leaves no member or manager values behind. */
    s2l_refint_fix(req, st->dn, NULL, reply_no_content);
}

static void delete_fetched(s2l_req *req)
{
    hstate *st = req->state;
    if (!if_match_ok(req, st->entry)) {
        s2l_req_fail(req, 412, NULL, "the resource has changed (If-Match does not match its version)");
        return;
    }
    if (s2l_req_ldap_delete(req, st->dn, on_deleted, NULL) < 0)
        oom(req);
}

void s2l_handle_delete(s2l_req *req)
{
    hstate *st = state_of(req);
    if (st == NULL) {
        oom(req);
        return;
    }
    if (!directory_up(req))
        return;
    const char *version_attr = info(req)->version_attr;
    st->read_attrs = calloc(3, sizeof *st->read_attrs);
    if (st->read_attrs == NULL ||
        (st->read_attrs[0] = strdup(version_attr ? version_attr : LDAP_NO_ATTRS)) == NULL) {
        oom(req);
        return;
    }
    fetch_by_id(req, st->read_attrs, delete_fetched);
}

/* ---- GET /R (list) ---- */

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

static void list_reply(s2l_req *req)
{
    hstate *st = req->state;
    json_t *resources = json_array();
    json_t *body = json_pack("{s:[s], s:I, s:I, s:I, s:o}", "schemas", S2L_URN_LIST, "totalResults",
                             (json_int_t)st->total, "startIndex", (json_int_t)st->start_index, "itemsPerPage",
                             (json_int_t)json_array_size(st->page), "Resources", resources);
    if (body == NULL) {
        oom(req);
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(st->page, i, e) {
        json_t *res = s2l_rmap_to_scim(req->rm, e, st->refs, req->base_url, NULL);
        if (res == NULL)
            continue; /* an entry without an id attribute is not a SCIM resource */
        s2l_projection_apply(st->proj, rtype(req), res);
        json_array_append_new(resources, res);
    }
    json_object_set_new(body, "itemsPerPage", json_integer((json_int_t)json_array_size(resources)));
    s2l_req_reply_json(req, 200, body, NULL);
}

static void list_page_ready(s2l_req *req)
{
    hstate *st = req->state;
    resolve_entry_refs(req, st->page, list_reply);
}

/* Phase B: page entries fetched one by one by DN, kept in page order. */
static void on_page_entry(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    hstate *st = req->state;
    size_t idx = (size_t)(uintptr_t)arg;
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        s2l_req_fail_ldap(req, res, "resource");
        return;
    }
    json_t *e = json_array_get(res->entries, 0);
    if (e)
        json_array_set(st->page, idx, e);
    if (--st->page_pending > 0)
        return;
    /* Entries deleted between the two phases leave null slots: drop them. */
    for (size_t i = json_array_size(st->page); i-- > 0;)
        if (json_is_null(json_array_get(st->page, i)))
            json_array_remove(st->page, i);
    list_page_ready(req);
}

static void on_list_dns(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    hstate *st = req->state;
    if (res->rc == LDAP_SIZELIMIT_EXCEEDED) {
        s2l_req_fail(req, 400, S2L_SCIM_TOO_MANY,
                     "the filter matches more than %u resources; narrow it",
                     req->gw->cfg->limits.max_list_scan);
        return;
    }
    if (res->rc != LDAP_SUCCESS) {
        s2l_req_fail_ldap(req, res, "resources");
        return;
    }
    size_t n = json_array_size(res->entries);
    st->total = n;
    size_t from = st->start_index - 1;
    size_t to = from + st->count < n ? from + st->count : n;
    st->page = json_array();
    if (st->page == NULL) {
        oom(req);
        return;
    }
    if (from >= to) {
        list_reply(req);
        return;
    }
    for (size_t i = from; i < to; i++)
        json_array_append_new(st->page, json_null());
    st->page_pending = to - from;
    for (size_t i = from; i < to; i++) {
        const char *dn = json_string_value(json_object_get(json_array_get(res->entries, i), "dn"));
        s2l_search_req sr = {.base = dn, .scope = LDAP_SCOPE_BASE, .filter = "(objectClass=*)",
                             .attrs = output_attrs(req), .size_limit = 1};
        if (s2l_req_ldap_search(req, &sr, on_page_entry, (void *)(uintptr_t)(i - from)) < 0) {
            oom(req);
            return;
        }
    }
}

static void list_phase_b(s2l_req *req)
{
    hstate *st = req->state;
    static char *no_attrs[] = {LDAP_NO_ATTRS, NULL};
    s2l_search_req sr = {.base = info(req)->base_dn,
                         .scope = info(req)->scope == S2L_SCOPE_SUB ? LDAP_SCOPE_SUBTREE : LDAP_SCOPE_ONELEVEL,
                         .filter = st->ldap_filter, .attrs = no_attrs,
                         .size_limit = (int)req->gw->cfg->limits.max_list_scan};
    if (s2l_req_ldap_search(req, &sr, on_list_dns, NULL) < 0)
        oom(req);
}

/* Phase A: most list requests (IdP look-ups by userName/externalId) match a
 * handful of entries; one search with a small size limit answers them. Larger
 * results switch to phase B: enumerate DNs only, then fetch just the page. */
#define LIST_INLINE_LIMIT 50

static void on_list_inline(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    hstate *st = req->state;
    if (res->rc == LDAP_SIZELIMIT_EXCEEDED) {
        list_phase_b(req);
        return;
    }
    if (res->rc != LDAP_SUCCESS) {
        s2l_req_fail_ldap(req, res, "resources");
        return;
    }
    size_t n = json_array_size(res->entries);
    st->total = n;
    st->page = json_array();
    if (st->page == NULL) {
        oom(req);
        return;
    }
    size_t from = st->start_index - 1;
    for (size_t i = from; i < n && json_array_size(st->page) < st->count; i++)
        json_array_append(st->page, json_array_get(res->entries, i));
    list_page_ready(req);
}

static void list_search(s2l_req *req, void *arg, const s2l_ldap_result *lerr)
{
    hstate *st = req->state;
    if (lerr) {
        s2l_req_fail_ldap(req, lerr, "a referenced entry");
        return;
    }
    s2l_error err;
    s2l_error_clear(&err);
    st->ldap_filter = s2l_rmap_ldap_filter(req->rm, st->filter, st->ids, &err);
    if (st->ldap_filter == NULL) {
        reply_error_or(req, &err, 400, S2L_SCIM_INVALID_FILTER, "the filter cannot be translated");
        return;
    }
    if (st->count == 0) {
        list_phase_b(req);
        return;
    }
    s2l_search_req sr = {.base = info(req)->base_dn,
                         .scope = info(req)->scope == S2L_SCOPE_SUB ? LDAP_SCOPE_SUBTREE : LDAP_SCOPE_ONELEVEL,
                         .filter = st->ldap_filter, .attrs = output_attrs(req), .size_limit = LIST_INLINE_LIMIT};
    if (s2l_req_ldap_search(req, &sr, on_list_inline, NULL) < 0)
        oom(req);
}

void s2l_handle_list(s2l_req *req)
{
    hstate *st = state_of(req);
    if (st == NULL) {
        oom(req);
        return;
    }
    const s2l_config *cfg = req->gw->cfg;
    long start, count;
    if (!parse_index(req, "startIndex", 1, &start) ||
        !parse_index(req, "count", (long)cfg->limits.default_count, &count))
        return;
    /* RFC 7644 §3.4.2.4: startIndex < 1 is 1; negative count is 0; the server caps count. */
    st->start_index = start < 1 ? 1 : (unsigned long)start;
    st->count = count < 0 ? 0 : (unsigned long)count;
    if (st->count > cfg->limits.max_results)
        st->count = cfg->limits.max_results;
    if (!parse_projection(req, st))
        return;
    const char *ftext = s2l_req_query(req, "filter");
    if (ftext && ftext[0]) {
        s2l_error err;
        s2l_error_clear(&err);
        s2l_filter_limits lim = {.max_length = cfg->limits.max_filter_length,
                                 .max_depth = cfg->limits.max_filter_depth};
        st->filter = s2l_filter_parse(ftext, strlen(ftext), &lim, &err);
        if (st->filter == NULL) {
            reply_error_or(req, &err, 400, S2L_SCIM_INVALID_FILTER, "invalid filter");
            return;
        }
    }
    if (!directory_up(req))
        return;
    if (output_attrs(req) == NULL) {
        oom(req);
        return;
    }
    json_t *ids = st->filter ? s2l_rmap_filter_ref_ids(req->rm, st->filter) : json_array();
    if (ids == NULL) {
        oom(req);
        return;
    }
    s2l_lookup_ids(req, ids, st->ids, list_search, NULL);
    json_decref(ids);
}
