/* create.c — POST /{Resource}: one LDAP add (with the stored entry back
 * through post-read), after the look-ups it needs.
 *
 *   CR_RESOLVE_IDS     the SCIM ids the resource refers to (manager, members) → DNs
 *   CR_TRANSLATE       the resource as an LDAP entry; a uniqueness search if the
 *                      DN does not already guarantee it
 *   CR_UNIQUE_CHECKED  409 uniqueness when taken
 *   CR_ADD             the add, asking for the entry back (post-read)
 *   CR_ADDED           the LDAP error; an AD user with a password was added disabled
 *                      with it: enable it now (s2l_rmap_enable_after_password)
 *   CR_ENABLED         refused → the create is undone (CR_UNDONE); else the mapping's
 *                      provisioning.default_groups:
 *                      the new entry added to each (one modify per group, in parallel)
 *   CR_GROUPS_ADDED    all joined → 201 with the resource read back (its groups);
 *                      one refused → the create is undone: the entry is deleted
 *   CR_UNDONE          (references to it removed unless the directory does that)
 *   CR_UNDONE_REFS     → the group's error
 *   CR_REPLY           201 with the resource (reply sub-operation)
 */
#include <ldap.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "lookup.h"
#include "policy_report.h"
#include "refint.h"
#include "s2l/log.h"

typedef struct create_op create_op;

/* One default group's modify. */
typedef struct group_join {
    create_op *op;
    const char *dn;              /* borrowed from op->groups */
    int rc;
    char *diag;
} group_join;

struct create_op {
    res_op base;
    enum {
        CR_RESOLVE_IDS,
        CR_TRANSLATE,
        CR_UNIQUE_CHECKED,
        CR_ADD,
        CR_ADDED,
        CR_ENABLED,
        CR_JOIN,
        CR_GROUPS_ADDED,
        CR_UNDONE,
        CR_UNDONE_REFS,
        CR_REPLY,
    } step;
    json_t *new_res;             /* the resource as normalised */
    json_t *add_entry;           /* {"dn","attrs"} */
    const char *dn;              /* borrowed from add_entry */
    json_t *post_entry;          /* the entry the add returned, or NULL */
    json_t *enable_mods;         /* AD: the modify enabling the account after its password */
    s2l_ldap_result undo_cause;  /* why the create is undone (enable refused); diag: undo_diag */
    char *undo_diag;
    bool undo_enable;            /* undoing because the enable was refused (else a group) */
    json_t *groups;              /* s2l_rmap_default_group_adds */
    group_join *joins;
    const group_join *failed;    /* the first join refused */
};

static void create_fini(res_op *base)
{
    create_op *op = (create_op *)base;
    json_decref(op->new_res);
    json_decref(op->add_entry);
    json_decref(op->post_entry);
    json_decref(op->enable_mods);
    free(op->undo_diag);
    json_decref(op->groups);
    for (size_t i = 0; op->joins && i < json_array_size(op->groups); i++)
        free(op->joins[i].diag);
    free(op->joins);
}

static void create_advance(res_op *base, const s2l_ldap_result *res);

static void on_group_joined(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    group_join *j = arg;
    (void)req;
    j->rc = res->rc;
    if (res->rc != LDAP_SUCCESS && res->diag)
        j->diag = strdup(res->diag);
    if (--j->op->base.pending == 0)
        create_advance(&j->op->base, NULL);
}

/* The new entry joins every default group: 1 (started), 0 (none), -1 (answered). */
static int join_default_groups(create_op *op)
{
    s2l_error err;
    s2l_error_clear(&err);
    if ((op->groups = s2l_rmap_default_group_adds(op->base.rm, op->dn, &err)) == NULL) {
        res_fail(&op->base, &err, 500, NULL, "the default groups cannot be planned");
        return -1;
    }
    size_t n = json_array_size(op->groups);
    if (n == 0)
        return 0;
    if ((op->joins = calloc(n, sizeof *op->joins)) == NULL) {
        res_oom(&op->base);
        return -1;
    }
    op->base.pending = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *g = json_array_get(op->groups, i);
        op->joins[i] = (group_join){.op = op, .dn = json_string_value(json_object_get(g, "dn"))};
        if (s2l_req_ldap_modify(op->base.req, op->joins[i].dn, json_object_get(g, "mods"), NULL, on_group_joined,
                                &op->joins[i]) < 0) {
            res_oom(&op->base);
            return -1;
        }
        op->base.pending++;
    }
    return 1;
}

/* The refused join's answer: the group missing is the mapping's mistake. */
static void fail_join(create_op *op)
{
    const group_join *j = op->failed;
    s2l_req *req = op->base.req;
    if (op->undo_enable) {
        s2l_req_fail_ldap(req, &op->undo_cause, res_info(&op->base)->name);
        return;
    }
    if (j->rc == LDAP_NO_SUCH_OBJECT) {
        s2l_req_fail(req, 500, NULL, "the default group %s (provisioning.default_groups) does not exist in the "
                                     "directory; the %s was not created", j->dn, res_info(&op->base)->name);
        return;
    }
    s2l_ldap_result r = {.rc = j->rc, .diag = j->diag};
    s2l_req_fail_ldap(req, &r, "default group");
}

/* The DN already guarantees uniqueness of the RDN attribute within a one-level
 * scope; a search is needed only when the unique attribute is something else
 * or entries may live in sub-containers. The value searched for, or NULL. */
static const char *unique_value(create_op *op)
{
    const s2l_rmap_info *in = res_info(&op->base);
    if (in->unique_attr == NULL ||
        (in->scope == S2L_SCOPE_ONE && in->rdn_attr && strcasecmp(in->unique_attr, in->rdn_attr) == 0))
        return NULL;
    json_t *vals = s2l_json_get_ci(json_object_get(op->add_entry, "attrs"), in->unique_attr);
    return json_string_value(json_array_get(vals, 0));
}

static void create_advance(res_op *base, const s2l_ldap_result *res)
{
    create_op *op = (create_op *)base;
    s2l_req *req = base->req;
    const s2l_rmap_info *in = res_info(base);
    for (;; res = NULL) {
        switch (op->step) {
        case CR_RESOLVE_IDS: {
            json_t *ids = s2l_rmap_ref_ids(base->rm, op->new_res);
            if (ids == NULL) {
                res_oom(base);
                return;
            }
            op->step = CR_TRANSLATE;
            int rc = s2l_lookup_ids(req, ids, &base->ids, res_on_lookup, op);
            json_decref(ids);
            if (rc != 0)
                return;
            break;
        }
        case CR_TRANSLATE: {
            if (res) {
                s2l_req_fail_ldap(req, res, "a referenced entry");
                return;
            }
            s2l_error err;
            s2l_error_clear(&err);
            op->add_entry = s2l_rmap_to_ldap(base->rm, op->new_res, base->ids, &err);
            if (op->add_entry == NULL) {
                res_fail(base, &err, 400, S2L_SCIM_INVALID_VALUE, "the resource cannot be stored");
                return;
            }
            s2l_policy_report(req, base->rm, json_object_get(op->add_entry, "notes"));
            /* AD: the password first, then the enable */
            if ((op->enable_mods = s2l_rmap_enable_after_password(base->rm, op->add_entry, &err)) == NULL) {
                res_fail(base, &err, 500, NULL, "the resource cannot be stored");
                return;
            }
            if ((op->dn = json_string_value(json_object_get(op->add_entry, "dn"))) == NULL) {
                res_oom(base);
                return;
            }
            const char *v = unique_value(op);
            if (v == NULL) {
                op->step = CR_ADD;
                break;
            }
            static char *no_attrs[] = {LDAP_NO_ATTRS, NULL};
            char *f = s2l_ldap_and_eq_filter(in->object_filter, in->unique_attr, v);
            s2l_search_req sr = {.base = in->base_dn, .scope = LDAP_SCOPE_SUBTREE, .filter = f,
                                 .attrs = no_attrs, .size_limit = 1};
            op->step = CR_UNIQUE_CHECKED;
            int rc = f ? s2l_req_ldap_search(req, &sr, res_on_ldap, op) : -1;
            free(f);
            if (rc < 0)
                res_oom(base);
            return;
        }
        case CR_UNIQUE_CHECKED:
            if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
                s2l_req_fail_ldap(req, res, in->name);
                return;
            }
            if (json_array_size(res->entries) > 0) {
                s2l_req_fail(req, 409, S2L_SCIM_UNIQUENESS, "a %s with this %s already exists", in->name,
                             in->unique_attr);
                return;
            }
            op->step = CR_ADD;
            break;
        case CR_ADD: {
            char *const *attrs = res_output_attrs(base);
            op->step = CR_ADDED;
            if (attrs == NULL ||
                s2l_req_ldap_add(req, op->dn, json_object_get(op->add_entry, "attrs"), attrs, res_on_ldap, op) < 0)
                res_oom(base);
            return;
        }
        case CR_ADDED: {
            if (res->rc != LDAP_SUCCESS) {
                s2l_req_fail_ldap(req, res, in->name);
                return;
            }
            if (json_array_get(res->entries, 0))
                op->post_entry = json_incref(json_array_get(res->entries, 0));
            if (json_array_size(op->enable_mods) == 0) {
                op->step = CR_JOIN;
                break;
            }
            /* the post-read entry shows it disabled: read back at the end */
            json_decref(op->post_entry);
            op->post_entry = NULL;
            op->step = CR_ENABLED;
            if (s2l_req_ldap_modify(req, op->dn, op->enable_mods, NULL, res_on_ldap, op) < 0)
                res_oom(base);
            return;
        }
        case CR_ENABLED:
            if (res->rc != LDAP_SUCCESS) {
                /* a user that cannot be enabled was not created as asked: undone */
                op->undo_enable = true;
                op->undo_cause = (s2l_ldap_result){.rc = res->rc, .msgid = res->msgid};
                if (res->diag && (op->undo_diag = strdup(res->diag)) != NULL)
                    op->undo_cause.diag = op->undo_diag;
                s2l_log(S2L_LOG_WARN, "event=enable_after_password_failed req=%llu rc=%d",
                        (unsigned long long)req->id, res->rc);
                op->step = CR_UNDONE;
                if (s2l_req_ldap_delete(req, op->dn, res_on_ldap, op) < 0)
                    res_oom(base);
                return;
            }
            op->step = CR_JOIN;
            break;
        case CR_JOIN: {
            op->step = CR_GROUPS_ADDED;
            int rc = join_default_groups(op);
            if (rc != 0)
                return;
            op->step = CR_REPLY;
            break;
        }
        case CR_GROUPS_ADDED:
            for (size_t i = 0; i < json_array_size(op->groups) && op->failed == NULL; i++)
                if (op->joins[i].rc != LDAP_SUCCESS)
                    op->failed = &op->joins[i];
            if (op->failed == NULL) {
                /* read back: the post-read entry predates its groups (memberOf) */
                json_decref(op->post_entry);
                op->post_entry = NULL;
                op->step = CR_REPLY;
                break;
            }
            /* in the create's own sequence: without its groups there is no user */
            s2l_log(S2L_LOG_WARN, "event=default_group_failed req=%llu rc=%d", (unsigned long long)req->id,
                    op->failed->rc);
            op->step = CR_UNDONE;
            if (s2l_req_ldap_delete(req, op->dn, res_on_ldap, op) < 0)
                res_oom(base);
            return;
        case CR_UNDONE:
            if (res->rc != LDAP_SUCCESS)
                s2l_log(S2L_LOG_ERROR, "event=create_undo_failed req=%llu rc=%d", (unsigned long long)req->id,
                        res->rc);
            op->step = CR_UNDONE_REFS;
            /* the groups it did join */
            if (res->rc == LDAP_SUCCESS && s2l_refint_fix(req, base->rm, op->dn, NULL, res_on_lookup, op) != 0)
                return;
            break;
        case CR_UNDONE_REFS:
            fail_join(op);
            return;
        case CR_REPLY:
            res_reply_resource(base, op->post_entry, op->dn, 201);
            return;
        }
    }
}

void s2l_res_create(s2l_req *req)
{
    create_op *op = res_op_create(req, sizeof *op, create_advance, create_fini);
    if (op == NULL || !res_parse_projection(&op->base) ||
        !res_normalize_body(&op->base, S2L_NORM_CREATE, &op->new_res) || !res_directory_up(&op->base))
        return;
    create_advance(&op->base, NULL);
}
