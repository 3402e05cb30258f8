/* update.c — PUT and PATCH /{Resource}/{id}: rename first when the RDN
 * changes, then one modify, so an update is all or nothing.
 *
 *   UP_FETCH          search by id (the stored attributes, without member lists),
 *                     skipping protected entries (403; protect.h)
 *   UP_FETCHED        404 / 412 (If-Match)
 *   UP_REFS           the DNs it refers to → ids
 *   UP_BUILD          the stored resource as SCIM; the wanted one: PUT's body, or
 *                     PATCH applied to the stored one; member changes as deltas
 *   UP_RESOLVE        ids the new resource and the deltas refer to → DNs, in
 *                     parallel with (PATCH) the empty-group placeholder probe
 *   UP_PLAN           the LDAP change: a new RDN and modifications
 *   UP_RENAME         modrdn (with a new superior when the deprovisioning policy
 *                     moves the entry: "move_to", and back on active: true)
 *   UP_RENAMED        32: the entry moved meanwhile → start over once
 *   UP_MODIFY         the modify, asking for the entry back (post-read)
 *   UP_MODIFIED       32 → start over once (before a rename only); a policy
 *                     flag (userAccountControl) changed since it was read
 *                     (16/20 on its delete) → plan again once, then 409; 16 (or
 *                     Samba's 53 "already deleted") → probe the deleted
 *                     values; 65 → again with the placeholder; any
 *                     other error after a rename → roll the rename back
 *   UP_PROBE_ABSENT   one probe per value the modify deletes
 *   UP_ABSENT_PROBED  drop the absent ones → UP_MODIFY (once)
 *   UP_ROLLBACK       modrdn back to the old name (and container)
 *   UP_ROLLED_BACK    answer with the modify's failure
 *   UP_WRITTEN        after a rename: fix references to the old DN
 *   UP_REPLY          204, or 200 with the resource
 *
 * One LDAP operation instead: when the id's DN is cached and the request
 * does not depend on the stored values (PATCH: s2l/patch_direct.h; PUT:
 * s2l/put_direct.h, behaviour.direct_put), it starts at
 *   UP_DIRECT_RESOLVE  member changes (OpenLDAP only) and a PUT's references
 *                      (manager): their ids → DNs (one search; the id cache
 *                      is not trusted for them: a stale DN could not be
 *                      caught in the modify)
 *   UP_DIRECT_PLAN     a PUT waiting for its references planned now (or the
 *                      reading path); the planned mods, plus the member values
 *   UP_DIRECT_MODIFY   the modify on the cached DN with the assertion control
 *                      (the type's filter for the id, not protected, and the
 *                      If-Match version; s2l_rmap_patch_assertion adds the
 *                      mapping's classes and, with member values, the
 *                      members memberof modifies, "no placeholder" when
 *                      adding, no kept items of those members), asking for
 *                      the entry back
 *   UP_DIRECT_MODIFIED success → UP_REPLY; a member add refused by the
 *                      assertion: once more deleting the placeholder (it may
 *                      be what failed it) → UP_DIRECT_MODIFY; a refusal (stale DN 32, the
 *                      assertion 122 — If-Match, a recreated entry —, absent
 *                      values 16, a class to adopt 65, ...) changed nothing:
 *                      forget the DN and take the path above from UP_FETCH,
 *                      which answers 404 / 412 / 403 or writes.
 */
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "lookup.h"
#include "policy_report.h"
#include "protect.h"
#include "refint.h"
#include "s2l/log.h"
#include "s2l/patch_direct.h"
#include "s2l/put_direct.h"
#include "s2l/write_assertion.h"

typedef struct update_op update_op;

/* A value the modify deletes, probed for presence. */
typedef struct absent_probe {
    update_op *op;
    size_t mod, val;             /* which mod and which of its values */
} absent_probe;

struct update_op {
    res_op base;
    enum {
        UP_FETCH,
        UP_FETCHED,
        UP_REFS,
        UP_BUILD,
        UP_RESOLVE,
        UP_PLAN,
        UP_RENAME,
        UP_RENAMED,
        UP_MODIFY,
        UP_MODIFIED,
        UP_PROBE_ABSENT,
        UP_ABSENT_PROBED,
        UP_ROLLBACK,
        UP_ROLLED_BACK,
        UP_WRITTEN,
        UP_REPLY,
        UP_DIRECT_RESOLVE,
        UP_DIRECT_PLAN,
        UP_DIRECT_MODIFY,
        UP_DIRECT_MODIFIED,
    } step;
    char *assertion;             /* direct path: the assertion filter, or NULL */
    char *widened;               /* direct path: the assertion for its mods (s2l_rmap_patch_assertion) */
    char *own_assertion;         /* direct PUT: the type's assertion, before what the plan assumes */
    bool put_pending;            /* direct PUT: planned once the body's references are looked up */
    json_t *direct_notes;        /* direct path: policy notes on members, reported once it wrote */
    bool patch;                  /* PATCH (else PUT) */
    bool reply_body;             /* 200 with the resource (else 204) */
    unsigned restarts;           /* times the update started over (the entry moved meanwhile) */

    json_t *entry;               /* the entry as read */
    char *dn;                    /* its DN */
    json_t *old_res;             /* the stored resource as SCIM */
    json_t *new_res;             /* the wanted resource as SCIM */
    json_t *deltas;              /* value-level member changes, or NULL */
    json_t *plan_mods;           /* the plan's modifications */
    json_t *mods;                /* what the modify sends: plan_mods + delta mods */
    char *newrdn;                /* rename target, or NULL */
    char *newsuperior;           /* move target (deprovisioning policy), or NULL */
    char *new_dn;                /* the DN after the rename, once it succeeded */
    unsigned ph_flags;           /* S2L_PH_*: what is known of the empty-group placeholder */
    bool ph_retried;             /* a removal refused with 65 was retried with the placeholder */
    bool mods_retried;           /* a modify refused for absent values was retried without them */
    bool conflict;               /* the modify failed on a concurrently changed policy flag */
    absent_probe *probes;
    json_t *post_entry;          /* the entry the modify returned (post-read), or NULL */
    s2l_ldap_result failure;     /* the modify's failure while rolling back (diag: failure_diag) */
    char *failure_diag;
};

/* What one attempt built; freed before starting over and at the end. */
static void update_clear(update_op *op)
{
    json_decref(op->entry);
    free(op->dn);
    json_decref(op->old_res);
    json_decref(op->deltas);
    json_decref(op->plan_mods);
    json_decref(op->mods);
    free(op->newrdn);
    free(op->newsuperior);
    free(op->new_dn);
    free(op->probes);
    json_decref(op->post_entry);
    op->entry = op->old_res = op->deltas = op->plan_mods = op->mods = op->post_entry = NULL;
    op->dn = op->newrdn = op->newsuperior = op->new_dn = NULL;
    op->probes = NULL;
    op->ph_flags = 0;
    op->ph_retried = op->mods_retried = false;
}

static void update_fini(res_op *base)
{
    update_op *op = (update_op *)base;
    update_clear(op);
    json_decref(op->new_res);
    free(op->failure_diag);
    free(op->assertion);
    free(op->widened);
    free(op->own_assertion);
    json_decref(op->direct_notes);
}

/* A value to delete is not there: LDAP 16, or, on Samba AD with the
 * permissive-modify control, 53 "Attribute member already deleted for
 * target GUID ..." for a linked attribute (member) removed earlier. */
static bool absent_value_refused(const s2l_ldap_result *res)
{
    return res->rc == LDAP_NO_SUCH_ATTRIBUTE ||
           (res->rc == LDAP_UNWILLING_TO_PERFORM && res->diag && strstr(res->diag, "already deleted") != NULL);
}

static const char *current_dn(const update_op *op)
{
    return op->new_dn ? op->new_dn : op->dn;
}

/* The wanted resource from the body (PUT); PATCH derives it in UP_BUILD. */
static bool take_body(update_op *op)
{
    json_decref(op->new_res);
    op->new_res = NULL;
    return op->patch || res_normalize_body(&op->base, S2L_NORM_REPLACE, &op->new_res);
}

/* The entry was renamed by someone else between our read and our write
 * (LDAP 32 on its old DN): start over, once, from the look-up by id, which
 * finds it under its new name. Nothing was written yet. */
static bool can_restart(const update_op *op, const s2l_ldap_result *res)
{
    return res->rc == LDAP_NO_SUCH_OBJECT && op->restarts == 0 && op->new_dn == NULL;
}

static bool restart(update_op *op, const char *reason)
{
    op->restarts++;
    s2l_log(S2L_LOG_INFO, "event=update_restart req=%llu reason=%s", (unsigned long long)op->base.req->id, reason);
    update_clear(op);
    json_object_clear(op->base.refs);
    json_object_clear(op->base.ids);
    op->step = UP_FETCH;
    return take_body(op);
}

/* The stored resource as SCIM, with references rendered as ids; the ids map
 * learns old references too, so unchanged ones need no second look-up. */
static bool build_old(update_op *op)
{
    res_op *base = &op->base;
    s2l_error err;
    s2l_error_clear(&err);
    op->old_res = s2l_rmap_to_scim(base->rm, op->entry, base->refs, base->req->base_url, &err);
    if (op->old_res == NULL) {
        res_fail(base, &err, 502, NULL, "the directory entry cannot be rendered");
        return false;
    }
    if (json_object_size(base->refs) > 0 && base->ids == NULL && (base->ids = json_object()) == NULL) {
        res_oom(base);
        return false;
    }
    const char *dn;
    json_t *ref;
    json_object_foreach(base->refs, dn, ref) {
        const char *id = json_string_value(json_object_get(ref, "id"));
        if (id)
            json_object_set_new(base->ids, id, json_string(dn));
    }
    return true;
}

/* PUT: members (delta attributes) are replaced wholesale by what the body says. */
static bool build_put(update_op *op)
{
    const char *const *delta = s2l_rmap_delta_attrs(op->base.rm);
    for (size_t i = 0; delta && delta[i]; i++) {
        json_t *vals = s2l_json_get_ci(op->new_res, delta[i]);
        json_t *add = vals ? json_incref(vals) : json_array();
        json_t *d = add ? json_pack("{s:s, s:o, s:[], s:b}", "attr", delta[i], "add", add, "remove",
                                    "replace_all", 1)
                        : NULL;
        if (d == NULL || (op->deltas == NULL && (op->deltas = json_array()) == NULL)) {
            json_decref(d);
            res_oom(&op->base);
            return false;
        }
        json_array_append_new(op->deltas, d);
        json_object_del(op->new_res, delta[i]);
        json_object_del(op->old_res, delta[i]);
    }
    return true;
}

/* PATCH: the operations applied to a copy of the stored resource; member
 * changes come out as deltas. */
static bool build_patch(update_op *op)
{
    res_op *base = &op->base;
    if ((op->new_res = json_deep_copy(op->old_res)) == NULL) {
        res_oom(base);
        return false;
    }
    s2l_error err;
    s2l_error_clear(&err);
    json_t *notes = json_object();
    if (notes == NULL) {
        res_oom(base);
        return false;
    }
    s2l_patch_opts opts = {.delta_attrs = s2l_rmap_delta_attrs(base->rm),
                           .max_operations = base->req->gw->cfg->limits.max_patch_operations,
                           .policies = s2l_rmap_policies(base->rm), .notes = notes};
    int rc = s2l_patch_apply(res_rtype(base), op->new_res, base->req->body, &opts, &op->deltas, &err);
    /* reported whether or not it succeeded: rejections are counted too */
    s2l_policy_report(base->req, base->rm, notes);
    json_decref(notes);
    if (rc < 0) {
        res_fail(base, &err, 400, S2L_SCIM_INVALID_VALUE, "invalid PATCH request");
        return false;
    }
    return true;
}

/* Ids the new resource and the deltas refer to (known ones are skipped by the look-up). */
static json_t *ids_to_resolve(update_op *op)
{
    /* the direct path has no new resource, only deltas */
    json_t *ids = op->new_res ? s2l_rmap_ref_ids(op->base.rm, op->new_res) : json_array();
    size_t i;
    json_t *d;
    json_array_foreach(op->deltas, i, d) {
        const char *lists[] = {"add", "remove"};
        for (size_t l = 0; ids && l < 2; l++) {
            size_t j;
            json_t *v;
            json_array_foreach(json_object_get(d, lists[l]), j, v) {
                json_t *id = json_object_get(v, "value");
                if (json_is_string(id))
                    json_array_append(ids, id);
            }
        }
    }
    return ids;
}

static void update_advance(res_op *base, const s2l_ldap_result *res);

/* UP_RESOLVE's two parallel branches join here. */
static void join(update_op *op)
{
    if (--op->base.pending == 0)
        update_advance(&op->base, NULL);
}

static void on_ids_resolved(void *arg, const s2l_ldap_result *err)
{
    update_op *op = arg;
    if (err) {
        s2l_req_fail_ldap(op->base.req, err, "a referenced entry");
        return;
    }
    join(op);
}

static void on_placeholder_probe(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    update_op *op = arg;
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        s2l_req_fail_ldap(req, res, res_info(&op->base)->name);
        return;
    }
    op->ph_flags = json_array_size(res->entries) ? S2L_PH_DELETE_ON_ADD : 0;
    join(op);
}

/* Member changes must know whether the group holds the empty-group
 * placeholder (to delete it on add) without reading the member list: a
 * base-scope search for (member=<placeholder>) answers that. 1 / 0 / -1. */
static int probe_placeholder(update_op *op)
{
    if (!op->patch || json_array_size(op->deltas) == 0)
        return 0;
    char *f = s2l_rmap_placeholder_filter(op->base.rm);
    if (f == NULL)
        return 0;
    static char *no_attrs[] = {LDAP_NO_ATTRS, NULL};
    s2l_search_req sr = {.base = op->dn, .scope = LDAP_SCOPE_BASE, .filter = f, .attrs = no_attrs,
                         .size_limit = 1};
    int rc = s2l_req_ldap_search(op->base.req, &sr, on_placeholder_probe, op);
    free(f);
    if (rc < 0) {
        res_oom(&op->base);
        return -1;
    }
    return 1;
}

/* op->mods = the plan's mods + the delta mods for the placeholder state. */
static bool build_mods(update_op *op)
{
    res_op *base = &op->base;
    json_decref(op->mods);
    op->mods = op->plan_mods ? json_deep_copy(op->plan_mods) : json_array();
    if (op->mods == NULL) {
        res_oom(base);
        return false;
    }
    s2l_error err;
    s2l_error_clear(&err);
    if (op->deltas && (s2l_rmap_delta_mods(base->rm, op->deltas, base->ids, op->ph_flags, op->mods, &err) < 0 ||
                       s2l_rmap_delta_kept_mods(base->rm, op->deltas, op->entry, op->mods, &err) < 0)) {
        res_fail(base, &err, 400, S2L_SCIM_INVALID_VALUE, "invalid member change");
        return false;
    }
    /* An entry made by another tool gets the mapping's object classes it lacks. */
    if (s2l_rmap_adopt_mods(base->rm, op->entry, op->mods) < 0) {
        res_oom(base);
        return false;
    }
    return true;
}

static bool is_delete(const json_t *mod)
{
    return strcmp(json_string_value(json_object_get(mod, "op")), "delete") == 0;
}

/* Values the modify deletes. */
static size_t deleted_values(const update_op *op)
{
    size_t n = 0, m;
    json_t *mod;
    json_array_foreach(op->mods, m, mod) {
        if (is_delete(mod))
            n += json_array_size(json_object_get(mod, "values"));
    }
    return n;
}

/* A removal emptied a group whose class requires members (65): worth one more
 * modify with the empty-group placeholder added in it. */
static bool placeholder_may_help(const update_op *op)
{
    if (op->deltas == NULL || op->ph_retried || (op->ph_flags & S2L_PH_ADD_ON_REMOVE))
        return false;
    char *f = s2l_rmap_placeholder_filter(op->base.rm);
    free(f);
    return f != NULL;
}

static void on_absent_probe(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    absent_probe *p = arg;
    update_op *op = p->op;
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        s2l_req_fail_ldap(req, res, res_info(&op->base)->name);
        return;
    }
    if (json_array_size(res->entries) == 0) {
        /* absent: marked for removal from the retried modify */
        json_t *vals = json_object_get(json_array_get(op->mods, p->mod), "values");
        json_array_set_new(vals, p->val, json_null());
    }
    if (--op->base.pending == 0)
        update_advance(&op->base, NULL);
}

/* One probe per value the modify deletes: "is this value there?" without
 * reading the attribute, which on a group is the member list. 1 or -1. */
static int probe_absent_values(update_op *op)
{
    if ((op->probes = calloc(deleted_values(op), sizeof *op->probes)) == NULL) {
        res_oom(&op->base);
        return -1;
    }
    size_t k = 0, m;
    json_t *mod;
    json_array_foreach(op->mods, m, mod) {
        if (!is_delete(mod))
            continue;
        const char *attr = json_string_value(json_object_get(mod, "attr"));
        size_t v;
        json_t *val;
        json_array_foreach(json_object_get(mod, "values"), v, val) {
            const char *text = json_string_value(val);
            op->probes[k] = (absent_probe){op, m, v};
            if (text == NULL) {
                res_oom(&op->base);
                return -1;
            }
            if (res_probe_value(&op->base, current_dn(op), attr, text, on_absent_probe, &op->probes[k++]) < 0)
                return -1;
            op->base.pending++;
        }
    }
    return 1;
}

/* Drops the values found absent, and delete mods left without values. */
static void drop_absent_values(update_op *op)
{
    for (size_t m = json_array_size(op->mods); m-- > 0;) {
        json_t *mod = json_array_get(op->mods, m);
        json_t *vals = json_object_get(mod, "values");
        if (!is_delete(mod) || json_array_size(vals) == 0)
            continue;
        for (size_t v = json_array_size(vals); v-- > 0;)
            if (json_is_null(json_array_get(vals, v)))
                json_array_remove(vals, v);
        if (json_array_size(vals) == 0)
            json_array_remove(op->mods, m);
    }
    free(op->probes);
    op->probes = NULL;
}

/* The modify deleted the value of a deprovisioning flag as read
 * (userAccountControl) and LDAP refused that: someone changed the attribute
 * since the read (16 on the delete, AD and slapd; 20 when the add meets a
 * value that came meanwhile). Not 19: that is AD refusing a password sent in
 * the same request (0000052D), which answers 400 as it is. */
static bool flag_conflict(const update_op *op, const s2l_ldap_result *res)
{
    if (res->rc != LDAP_NO_SUCH_ATTRIBUTE && res->rc != LDAP_TYPE_OR_VALUE_EXISTS)
        return false;
    size_t i;
    json_t *mod;
    json_array_foreach(op->mods, i, mod) {
        if (is_delete(mod) && json_array_size(json_object_get(mod, "values")) > 0 &&
            s2l_rmap_is_policy_flag(op->base.rm, json_string_value(json_object_get(mod, "attr"))))
            return true;
    }
    return false;
}

static void fail_conflict(update_op *op)
{
    s2l_req_fail(op->base.req, 409, NULL,
                 "%s %s changed in the directory while it was being updated (a deprovisioning flag); nothing was "
                 "written: retry the request",
                 res_info(&op->base)->name, op->base.req->param);
}

/* Keeps the modify's failure (the op owns the copy) while the rename is undone. */
static bool keep_failure(update_op *op, const s2l_ldap_result *res)
{
    op->failure = (s2l_ldap_result){.rc = res->rc, .msgid = res->msgid};
    if (res->diag && (op->failure_diag = strdup(res->diag)) == NULL)
        return false;
    op->failure.diag = op->failure_diag;
    return true;
}

/* PATCH on a cached DN whose operations do not depend on the stored values:
 * start at UP_DIRECT_RESOLVE (else the op stays at UP_FETCH). */
static void try_direct(update_op *op)
{
    res_op *base = &op->base;
    s2l_req *req = base->req;
    char *dn = res_cached_dn(base);
    if (dn == NULL)
        return;
    s2l_patch_opts opts = {.delta_attrs = s2l_rmap_delta_attrs(base->rm),
                           .max_operations = req->gw->cfg->limits.max_patch_operations,
                           .policies = s2l_rmap_policies(base->rm)};
    s2l_patch_direct d;
    int rc = s2l_patch_plan_direct(base->rm, req->body, &opts, &d);
    /* Member changes need the assertion widened for slapd's memberof
     * overlay, which repeats the request's controls in its own modify of
     * every member (s2l/write_assertion.h): OpenLDAP only. */
    if (rc == 1 && d.deltas != NULL && !s2l_pool_supports_control(req->gw->pool, S2L_CONTROL_OPENLDAP_SUBENTRIES)) {
        rc = 0;
        d.why_not = "member changes on a directory other than OpenLDAP";
    }
    char *assertion = rc == 1 ? s2l_rmap_write_assertion(base->rm, req->param, s2l_req_header(req, "If-Match")) : NULL;
    if (assertion == NULL) {
        s2l_log(S2L_LOG_DEBUG, "event=update_path req=%llu path=fetch why=\"%s\"", (unsigned long long)req->id,
                rc == 1 ? "If-Match is not one ETag" : d.why_not ? d.why_not : "out of memory");
        s2l_patch_direct_fini(&d);
        free(dn);
        return;
    }
    s2l_log(S2L_LOG_DEBUG, "event=update_path req=%llu path=direct members=%s", (unsigned long long)req->id,
            d.deltas ? "yes" : "no");
    op->dn = dn;
    op->assertion = assertion;
    op->plan_mods = d.mods;
    op->deltas = d.deltas;
    op->step = UP_DIRECT_RESOLVE;
}

/* A direct PUT's plan: op->plan_mods, and op->assertion = the type's own
 * (op->own_assertion) with what the plan assumes of the entry. 1 planned,
 * 0 not direct (why logged), -1 out of memory; *needs_ids: plan again once
 * the body's references are looked up. */
static int plan_direct_put(update_op *op, const json_t *ids, bool *needs_ids)
{
    res_op *base = &op->base;
    s2l_put_direct d;
    int rc = s2l_put_plan_direct(base->rm, op->new_res, op->dn, ids, &d);
    *needs_ids = rc == 0 && d.needs_ids;
    if (rc != 1) {
        if (!*needs_ids)
            s2l_log(S2L_LOG_DEBUG, "event=update_path req=%llu path=fetch why=\"%s\"",
                    (unsigned long long)base->req->id, d.why_not ? d.why_not : "out of memory");
        s2l_put_direct_fini(&d);
        return rc;
    }
    size_t len = strlen(op->own_assertion) + strlen(d.requires) + sizeof "(&)";
    free(op->assertion);
    if ((op->assertion = malloc(len)) == NULL) {
        s2l_put_direct_fini(&d);
        return -1;
    }
    snprintf(op->assertion, len, d.requires[0] ? "(&%s%s)" : "%s%s", op->own_assertion, d.requires);
    json_decref(op->plan_mods);
    op->plan_mods = d.mods;
    d.mods = NULL;
    s2l_put_direct_fini(&d);
    s2l_log(S2L_LOG_DEBUG, "event=update_path req=%llu path=direct members=no", (unsigned long long)base->req->id);
    return 1;
}

/* PUT on a cached DN whose body needs nothing of the stored entry
 * (s2l/put_direct.h): one modify replacing every mapped attribute, the
 * assertion also saying what the plan assumed (no kept items, not locked).
 * Starts at UP_DIRECT_RESOLVE, which looks up the ids of the resources the
 * body names (manager) when there are any, then plans. */
static void try_direct_put(update_op *op)
{
    res_op *base = &op->base;
    s2l_req *req = base->req;
    if (!req->gw->cfg->behaviour.direct_put || (op->dn = res_cached_dn(base)) == NULL)
        return;
    op->own_assertion = s2l_rmap_write_assertion(base->rm, req->param, s2l_req_header(req, "If-Match"));
    bool needs_ids = false;
    int rc = op->own_assertion ? plan_direct_put(op, NULL, &needs_ids) : 0;
    if (rc == 1 || needs_ids) {
        op->put_pending = needs_ids;
        op->step = UP_DIRECT_RESOLVE;
        return;
    }
    if (op->own_assertion == NULL)
        s2l_log(S2L_LOG_DEBUG, "event=update_path req=%llu path=fetch why=\"If-Match is not one ETag\"",
                (unsigned long long)req->id);
    free(op->own_assertion);
    free(op->dn);
    op->own_assertion = NULL;
    op->dn = NULL;
}

/* The direct path gave up before writing anything: forget the DN and take
 * the path that reads the entry, which answers 404 / 412 / 403 or writes. */
static void direct_fallback(update_op *op, int rc)
{
    s2l_log(S2L_LOG_INFO, "event=update_direct_fallback req=%llu rc=%d", (unsigned long long)op->base.req->id, rc);
    res_cache_drop(&op->base);
    update_clear(op);
    free(op->assertion);
    free(op->widened);
    free(op->own_assertion);
    op->assertion = op->widened = op->own_assertion = NULL;
    op->put_pending = false;
    json_decref(op->direct_notes); /* the full path notes them itself */
    op->direct_notes = NULL;
    json_object_clear(op->base.refs);
    json_object_clear(op->base.ids);
    op->step = UP_FETCH;
}

/* UP_DIRECT_PLAN: the member ids checked against the policy ("unknown_members");
 * the notes are reported once the modify succeeded. false: fall back
 * (nothing was written; the full path decides, e.g. an id that "reject"
 * refuses answers 404 there when the group is gone too). */
static bool direct_check(update_op *op)
{
    res_op *base = &op->base;
    if (op->deltas == NULL)
        return true;
    s2l_error err;
    s2l_error_clear(&err);
    json_decref(op->direct_notes);
    op->direct_notes = json_object();
    return op->direct_notes != NULL &&
           s2l_rmap_check_deltas(base->rm, op->deltas, base->ids, op->direct_notes, &err) == 0;
}

/* op->mods = the planned mods + the member values for op->ph_flags, and
 * op->widened = the assertion for them (s2l_rmap_patch_assertion: the
 * mapping's classes, the members memberof modifies, ...). false: fall back. */
static bool direct_mods(update_op *op)
{
    res_op *base = &op->base;
    json_decref(op->mods);
    /* the plan as it is when nothing is added to it (a PUT's dozens of mods) */
    op->mods = op->deltas == NULL && op->plan_mods ? json_incref(op->plan_mods)
               : op->plan_mods                      ? json_deep_copy(op->plan_mods)
                                                    : json_array();
    if (op->mods == NULL)
        return false;
    s2l_error err;
    s2l_error_clear(&err);
    if (op->deltas && s2l_rmap_delta_mods(base->rm, op->deltas, base->ids, op->ph_flags, op->mods, &err) < 0)
        return false;
    free(op->widened);
    op->widened = NULL;
    if (json_array_size(op->mods) == 0)
        return true;
    op->widened = s2l_rmap_patch_assertion(base->rm, op->dn, op->assertion, op->mods, op->deltas);
    return op->widened != NULL;
}

/* A member add refused by the assertion (122) may have met the empty-group
 * placeholder (the first add to a new group, Entra's usual flow): once more
 * with the placeholder deleted and the assertion saying it is there. */
static bool direct_retry_placeholder(update_op *op, const s2l_ldap_result *res)
{
    if (res == NULL || res->rc != LDAP_ASSERTION_FAILED || op->deltas == NULL ||
        (op->ph_flags & S2L_PH_DELETE_ON_ADD))
        return false;
    size_t before = json_array_size(op->mods);
    op->ph_flags |= S2L_PH_DELETE_ON_ADD;
    return direct_mods(op) && json_array_size(op->mods) > before;
}

static void update_advance(res_op *base, const s2l_ldap_result *res)
{
    update_op *op = (update_op *)base;
    s2l_req *req = base->req;
    const char *type_name = res_info(base)->name;
    for (;; res = NULL) {
        switch (op->step) {
        case UP_FETCH:
            op->step = UP_FETCHED;
            res_fetch_for_write(base, s2l_rmap_update_read_attrs(base->rm));
            return;

        case UP_FETCHED: {
            json_t *entry = res_fetched(base, res);
            if (entry == NULL || !res_if_match(base, entry))
                return;
            op->entry = json_incref(entry);
            if ((op->dn = strdup(json_string_value(json_object_get(entry, "dn")))) == NULL) {
                res_oom(base);
                return;
            }
            op->step = UP_REFS;
            break;
        }

        case UP_REFS: {
            json_t *one = json_pack("[O]", op->entry);
            if (one == NULL) {
                res_oom(base);
                return;
            }
            op->step = UP_BUILD;
            int rc = res_refs_start(base, one, update_advance);
            json_decref(one);
            if (rc != 0)
                return;
            break;
        }

        case UP_BUILD:
            if (!build_old(op) || !(op->patch ? build_patch(op) : build_put(op)))
                return;
            op->step = UP_RESOLVE;
            break;

        case UP_RESOLVE: {
            json_t *ids = ids_to_resolve(op);
            if (ids == NULL) {
                res_oom(base);
                return;
            }
            op->step = UP_PLAN;
            base->pending = 0;
            int rc = probe_placeholder(op);
            if (rc > 0)
                base->pending++;
            if (rc >= 0 && (rc = s2l_lookup_ids(req, ids, &base->ids, on_ids_resolved, op)) > 0)
                base->pending++;
            json_decref(ids);
            if (rc < 0 || base->pending > 0)
                return;
            break;
        }

        case UP_PLAN: {
            s2l_error err;
            s2l_error_clear(&err);
            /* with the entry as read: deprovisioning flags change from their stored value */
            json_t *plan =
                s2l_rmap_plan_update_entry(base->rm, op->entry, op->old_res, op->new_res, base->ids, &err);
            if (plan == NULL) {
                res_fail(base, &err, 400, S2L_SCIM_INVALID_VALUE, "the change cannot be stored");
                return;
            }
            /* Members that do not resolve: skipped (and logged) or refused, per policy. */
            json_t *notes = json_object_get(plan, "notes");
            if (notes == NULL && op->deltas)
                json_object_set_new(plan, "notes", notes = json_object());
            if (op->deltas && s2l_rmap_check_deltas(base->rm, op->deltas, base->ids, notes, &err) < 0) {
                json_decref(plan);
                res_fail(base, &err, 400, S2L_SCIM_INVALID_VALUE, "invalid member change");
                return;
            }
            s2l_policy_report(req, base->rm, notes);
            op->plan_mods = json_incref(json_object_get(plan, "mods"));
            const char *newrdn = json_string_value(json_object_get(plan, "newrdn"));
            const char *newsup = json_string_value(json_object_get(plan, "newsuperior"));
            /* a move keeps the name unless the same request changes it */
            op->newrdn = newrdn ? strdup(newrdn) : newsup ? s2l_dn_rdn(op->dn) : NULL;
            op->newsuperior = newsup ? strdup(newsup) : NULL;
            json_decref(plan);
            if (((newrdn || newsup) && op->newrdn == NULL) || (newsup && op->newsuperior == NULL)) {
                res_oom(base);
                return;
            }
            if (!build_mods(op))
                return;
            op->step = op->newrdn ? UP_RENAME : UP_MODIFY;
            break;
        }

        case UP_RENAME: {
            op->step = UP_RENAMED;
            int rc = op->newsuperior
                         ? s2l_req_ldap_move(req, op->dn, op->newrdn, op->newsuperior, res_on_ldap, op)
                         : s2l_req_ldap_rename(req, op->dn, op->newrdn, res_on_ldap, op);
            if (rc < 0)
                res_oom(base);
            return;
        }

        case UP_RENAMED:
            if (can_restart(op, res)) {
                if (!restart(op, "entry_moved"))
                    return;
                break;
            }
            if (res->rc != LDAP_SUCCESS) {
                if (res->rc == LDAP_NO_SUCH_OBJECT && op->newsuperior)
                    s2l_log(S2L_LOG_ERROR, "event=deprovision_move_failed req=%llu type=%s rc=32 "
                                           "hint=\"does deprovision.active_false.move_to exist?\"",
                            (unsigned long long)req->id, type_name);
                s2l_req_fail_ldap(req, res, type_name);
                return;
            }
            op->new_dn = op->newsuperior ? s2l_dn_join(op->newrdn, op->newsuperior)
                                         : s2l_dn_with_rdn(op->dn, op->newrdn);
            if (op->new_dn == NULL) {
                res_oom(base);
                return;
            }
            res_cache_put_dn(base, op->new_dn);
            op->step = UP_MODIFY;
            break;

        case UP_MODIFY: {
            if (json_array_size(op->mods) == 0) {
                op->step = UP_WRITTEN;
                break;
            }
            char *const *post_read = NULL;
            if (op->reply_body && (post_read = res_output_attrs(base)) == NULL) {
                res_oom(base);
                return;
            }
            op->step = UP_MODIFIED;
            if (s2l_req_ldap_modify(req, current_dn(op), op->mods, post_read, res_on_ldap, op) < 0)
                res_oom(base);
            return;
        }

        case UP_MODIFIED:
            if (can_restart(op, res)) {
                if (!restart(op, "entry_moved"))
                    return;
                break;
            }
            if (flag_conflict(op, res)) {
                /* read again and plan from the new value, once */
                if (op->restarts == 0 && op->new_dn == NULL) {
                    if (!restart(op, "flag_changed"))
                        return;
                    break;
                }
                if (op->new_dn && keep_failure(op, res)) {
                    op->conflict = true;
                    op->step = UP_ROLLBACK;
                    break;
                }
                fail_conflict(op);
                return;
            }
            /* A value to delete is not there (the permissive-modify control
             * covers only values added twice). An IdP removing a member that is
             * already gone expects success: find the absent values, drop them,
             * modify once more. */
            if (absent_value_refused(res) && !op->mods_retried && deleted_values(op) > 0) {
                op->mods_retried = true;
                op->step = UP_PROBE_ABSENT;
                break;
            }
            /* 65: a removal emptied a group whose class requires members. */
            if (res->rc == LDAP_OBJECT_CLASS_VIOLATION && placeholder_may_help(op)) {
                op->ph_retried = true;
                op->ph_flags |= S2L_PH_ADD_ON_REMOVE;
                if (!build_mods(op))
                    return;
                op->step = UP_MODIFY;
                break;
            }
            if (res->rc != LDAP_SUCCESS) {
                /* The rename went through but the modify did not: put the old
                 * name back so the request is all or nothing. */
                if (op->new_dn && keep_failure(op, res)) {
                    op->step = UP_ROLLBACK;
                    break;
                }
                s2l_req_fail_ldap(req, res, type_name);
                return;
            }
            if (json_array_get(res->entries, 0))
                op->post_entry = json_incref(json_array_get(res->entries, 0));
            op->step = UP_WRITTEN;
            break;

        case UP_PROBE_ABSENT:
            op->step = UP_ABSENT_PROBED;
            probe_absent_values(op);
            return;

        case UP_ABSENT_PROBED:
            drop_absent_values(op);
            op->step = UP_MODIFY;
            break;

        case UP_ROLLBACK: {
            char *old_rdn = s2l_dn_rdn(op->dn);
            op->step = UP_ROLLED_BACK;
            /* a move goes back to the container it came from */
            const char *old_parent = op->newsuperior ? s2l_dn_parent(op->dn) : NULL;
            int rc = old_rdn == NULL ? -1
                     : old_parent ? s2l_req_ldap_move(req, op->new_dn, old_rdn, old_parent, res_on_ldap, op)
                                  : s2l_req_ldap_rename(req, op->new_dn, old_rdn, res_on_ldap, op);
            free(old_rdn);
            if (rc == 0)
                return;
            s2l_req_fail_ldap(req, &op->failure, type_name);
            return;
        }

        case UP_ROLLED_BACK:
            if (res->rc != LDAP_SUCCESS)
                s2l_log(S2L_LOG_ERROR, "event=rename_rollback_failed req=%llu rc=%d", (unsigned long long)req->id,
                        res->rc);
            if (op->conflict && res->rc == LDAP_SUCCESS && op->restarts == 0) {
                /* undone: read again and plan from the new value, once */
                op->conflict = false;
                free(op->failure_diag);
                op->failure_diag = NULL;
                if (!restart(op, "flag_changed"))
                    return;
                break;
            }
            if (op->conflict && res->rc == LDAP_SUCCESS) {
                fail_conflict(op);
                return;
            }
            s2l_req_fail_ldap(req, &op->failure, type_name);
            return;

        case UP_WRITTEN:
            /* After a rename, references to the old DN are fixed (unless the
             * directory does that) before answering. */
            op->step = UP_REPLY;
            if (op->new_dn && s2l_refint_fix(req, base->rm, op->dn, op->new_dn, res_on_lookup, op) != 0)
                return;
            break;

        case UP_REPLY:
            if (!op->reply_body) {
                s2l_req_reply_json(req, 204, NULL, NULL);
                return;
            }
            res_reply_resource(base, op->post_entry, current_dn(op), 200);
            return;

        case UP_DIRECT_RESOLVE: {
            op->step = UP_DIRECT_PLAN;
            if (op->deltas == NULL && !op->put_pending)
                break;
            json_t *ids = ids_to_resolve(op);
            base->pending = 0;
            /* a PUT's references: their display too, for the answer */
            int rc = ids ? s2l_lookup_ids_refs(req, ids, &base->ids, op->put_pending ? &base->refs : NULL,
                                               on_ids_resolved, op)
                         : -1;
            json_decref(ids);
            if (rc < 0) {
                if (ids == NULL)
                    res_oom(base);
                return;
            }
            if (rc > 0) {
                base->pending = 1;
                return;
            }
            break;
        }

        case UP_DIRECT_PLAN:
            if (op->put_pending) {
                bool again = false;
                op->put_pending = false;
                /* ids the look-up did not find stay out: the plan sees them missing */
                if (base->ids == NULL && (base->ids = json_object()) == NULL) {
                    res_oom(base);
                    return;
                }
                int rc = plan_direct_put(op, base->ids, &again);
                if (rc < 0) {
                    res_oom(base);
                    return;
                }
                if (rc == 0) {
                    direct_fallback(op, -1);
                    break;
                }
            }
            if (!direct_check(op) || !direct_mods(op)) {
                direct_fallback(op, -1);
                break;
            }
            op->step = json_array_size(op->mods) > 0 ? UP_DIRECT_MODIFY : UP_DIRECT_MODIFIED;
            break;

        case UP_DIRECT_MODIFY: {
            char *const *post_read = NULL;
            if (op->reply_body && (post_read = res_output_attrs(base)) == NULL) {
                res_oom(base);
                return;
            }
            op->step = UP_DIRECT_MODIFIED;
            if (s2l_req_ldap_modify_assert(req, op->dn, op->mods, post_read, op->widened ? op->widened : op->assertion,
                                           res_on_ldap, op) < 0)
                res_oom(base);
            return;
        }

        case UP_DIRECT_MODIFIED:
            if (res && res->rc == LDAP_SUCCESS) {
                if (op->direct_notes)
                    s2l_policy_report(req, base->rm, op->direct_notes);
                if (json_array_get(res->entries, 0))
                    op->post_entry = json_incref(json_array_get(res->entries, 0));
                op->step = UP_REPLY;
                break;
            }
            if (res && !res_direct_may_retry(res)) {
                s2l_req_fail_ldap(req, res, type_name);
                return;
            }
            if (direct_retry_placeholder(op, res)) {
                op->step = UP_DIRECT_MODIFY;
                break;
            }
            /* nothing was written: the full path decides */
            direct_fallback(op, res ? res->rc : -1);
            break;
        }
    }
}

static void start_update(s2l_req *req, bool patch)
{
    update_op *op = res_op_create(req, sizeof *op, update_advance, update_fini);
    if (op == NULL || !res_parse_projection(&op->base))
        return;
    op->patch = patch;
    if (patch && req->body == NULL) {
        s2l_req_fail(req, 400, S2L_SCIM_INVALID_SYNTAX, "a PatchOp request body is required");
        return;
    }
    if (!take_body(op) || !res_directory_up(&op->base))
        return;
    const s2l_config *cfg = req->gw->cfg;
    bool asked = s2l_req_query(req, "attributes") || s2l_req_query(req, "excludedAttributes");
    op->reply_body = !patch || (res_is_group_like(&op->base) ? cfg->behaviour.group_patch_returns_body || asked
                                                              : cfg->behaviour.user_patch_returns_body || asked);
    if (patch)
        try_direct(op);
    else
        try_direct_put(op);
    update_advance(&op->base, NULL);
}

void s2l_res_replace(s2l_req *req)
{
    start_update(req, false);
}

void s2l_res_patch(s2l_req *req)
{
    start_update(req, true);
}
