/* mapping_deprovision.c — what `active: false` and DELETE do to an entry
 * (the "deprovision" block of a resource type, mappings/README.md):
 *
 *   "deprovision": {
 *     "active_false": "lock" | {"lock": true, "set": [ITEM, ...], "move_to": "DN"},
 *     "delete":       "delete" | {"lock": true, "set": [ITEM, ...], "move_to": "DN"}
 *   }
 *   ITEM = {"ldap": "userAccountControl", "flag": 2, "initial": 512}     bits in an integer
 *        | {"ldap": "nsAccountLock", "value": "TRUE", "active_value": null}
 *
 * The components combine; `active: true` undoes each of them. An entry reads
 * as inactive when any component says so (locked, the flag set, the value
 * present, or its parent is the move target). Planning compares each
 * component with the entry as read and changes only what differs, so
 * repeating a request changes nothing. A flag changes only its own bits, as a
 * delete of the old value and an add of the new one in one modify: if anyone
 * changed the attribute since it was read, LDAP refuses the modify (16 or, on
 * single-valued attributes, 19/20) instead of the gateway overwriting it.
 */
#include "mapping_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOCK_ATTR "pwdAccountLockedTime"
#define LOCK_VALUE "000001010000Z"
#define BIT_AND_RULE "1.2.840.113556.1.4.803" /* LDAP_MATCHING_RULE_BIT_AND (AD, OpenLDAP, 389) */

/* ---- loading ---- */

static bool attr_name_ok(const char *s)
{
    if (s == NULL || !isalpha((unsigned char)*s))
        return false;
    for (s++; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-')
            return false;
    return true;
}

void s2l_dp_fini(s2l_dp_policy *p)
{
    for (size_t i = 0; i < p->n_set; i++) {
        free(p->set[i].ldap);
        free(p->set[i].value);
        free(p->set[i].active_value);
    }
    free(p->set);
    free(p->move_to);
    memset(p, 0, sizeof *p);
}

static bool oom_err(s2l_load_err *e, const char *where)
{
    s2l_load_err_set(e, where, "out of memory");
    return false;
}

static bool parse_int(const json_t *v, unsigned long long *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (unsigned long long)json_integer_value(v);
    return true;
}

static bool parse_item(s2l_dp_set *it, const json_t *j, const char *where, s2l_load_err *e)
{
    static const char *const keys[] = {"ldap", "flag", "initial", "value", "active_value", "description", NULL};
    const char *k;
    json_t *v;

    if (!json_is_object(j)) {
        s2l_load_err_set(e, where, "must be an object");
        return false;
    }
    json_object_foreach((json_t *)j, k, v) {
        bool known = false;
        for (size_t i = 0; keys[i]; i++)
            known = known || strcmp(keys[i], k) == 0;
        if (!known) {
            s2l_load_err_set(e, where, "unknown key \"%s\"", k);
            return false;
        }
    }
    const json_t *l = json_object_get(j, "ldap");
    if (!json_is_string(l) || !attr_name_ok(json_string_value(l))) {
        s2l_load_err_set(e, where, "\"ldap\" must name an LDAP attribute");
        return false;
    }
    if ((it->ldap = strdup(json_string_value(l))) == NULL)
        return oom_err(e, where);
    const json_t *flag = json_object_get(j, "flag"), *val = json_object_get(j, "value");
    if ((flag == NULL) == (val == NULL)) {
        s2l_load_err_set(e, where, "needs exactly one of \"flag\" (bits of an integer) or \"value\"");
        return false;
    }
    if (flag != NULL) {
        it->is_flag = true;
        if (!parse_int(flag, &it->flag) || it->flag == 0) {
            s2l_load_err_set(e, where, "\"flag\" must be a positive integer (the bits set while inactive)");
            return false;
        }
        if (json_object_get(j, "active_value") != NULL) {
            s2l_load_err_set(e, where, "\"active_value\" goes with \"value\", not \"flag\"");
            return false;
        }
        if (json_object_get(j, "initial") != NULL) {
            if (!parse_int(json_object_get(j, "initial"), &it->initial)) {
                s2l_load_err_set(e, where, "\"initial\" must be a non-negative integer");
                return false;
            }
            it->has_initial = true;
        }
        return true;
    }
    if (json_object_get(j, "initial") != NULL) {
        s2l_load_err_set(e, where, "\"initial\" goes with \"flag\", not \"value\"");
        return false;
    }
    if (!json_is_string(val) || json_string_length(val) == 0) {
        s2l_load_err_set(e, where, "\"value\" must be a non-empty string");
        return false;
    }
    if ((it->value = strdup(json_string_value(val))) == NULL)
        return oom_err(e, where);
    const json_t *av = json_object_get(j, "active_value");
    if (av != NULL && !json_is_null(av)) {
        if (!json_is_string(av) || json_string_length(av) == 0 ||
            strcasecmp(json_string_value(av), it->value) == 0) {
            s2l_load_err_set(e, where, "\"active_value\" must be null (attribute removed) or a string other than "
                                       "\"value\"");
            return false;
        }
        if ((it->active_value = strdup(json_string_value(av))) == NULL)
            return oom_err(e, where);
    }
    return true;
}

static bool parse_policy(s2l_dp_policy *p, const json_t *j, const char *where, bool on_delete, s2l_load_err *e)
{
    static const char *const keys[] = {"lock", "set", "move_to", "description", NULL};
    char w[256];

    p->configured = true;
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        if (!on_delete && strcmp(s, "lock") == 0) {
            p->lock = true;
            return true;
        }
        if (on_delete && strcmp(s, "delete") == 0) {
            p->hard_delete = true;
            p->configured = false; /* the default */
            return true;
        }
        s2l_load_err_set(e, where, on_delete ? "must be \"delete\" or an object with \"move_to\" (and \"set\", \"lock\")"
                                             : "must be \"lock\" or an object with \"lock\", \"set\" or \"move_to\"");
        return false;
    }
    if (!json_is_object(j)) {
        s2l_load_err_set(e, where, "must be a string or an object");
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)j, k, v) {
        bool known = false;
        for (size_t i = 0; keys[i]; i++)
            known = known || strcmp(keys[i], k) == 0;
        if (!known) {
            s2l_load_err_set(e, where, "unknown key \"%s\"", k);
            return false;
        }
    }
    const json_t *lock = json_object_get(j, "lock");
    if (lock != NULL && !json_is_boolean(lock)) {
        s2l_load_err_set(e, where, "\"lock\" must be true or false");
        return false;
    }
    p->lock = json_is_true(lock);
    const json_t *set = json_object_get(j, "set");
    if (set != NULL) {
        if (!json_is_array(set) || json_array_size(set) == 0) {
            s2l_load_err_set(e, where, "\"set\" must be a non-empty array");
            return false;
        }
        p->set = calloc(json_array_size(set), sizeof *p->set);
        if (p->set == NULL)
            return oom_err(e, where);
        for (size_t i = 0; i < json_array_size(set); i++) {
            snprintf(w, sizeof w, "%s.set[%zu]", where, i);
            p->n_set = i + 1;
            if (!parse_item(&p->set[i], json_array_get(set, i), w, e))
                return false;
            for (size_t k2 = 0; k2 < i; k2++) {
                if (strcasecmp(p->set[k2].ldap, p->set[i].ldap) == 0) {
                    s2l_load_err_set(e, w, "%s is already set by set[%zu]", p->set[i].ldap, k2);
                    return false;
                }
            }
            if (p->lock && strcasecmp(p->set[i].ldap, LOCK_ATTR) == 0) {
                s2l_load_err_set(e, w, "%s is what \"lock\" sets", LOCK_ATTR);
                return false;
            }
        }
    }
    const json_t *mv = json_object_get(j, "move_to");
    if (mv != NULL) {
        if (!json_is_string(mv) || !s2l_dn_syntax_ok(json_string_value(mv))) {
            s2l_load_err_set(e, where, "\"move_to\" must be a DN (the container entries are moved to)");
            return false;
        }
        if ((p->move_to = strdup(json_string_value(mv))) == NULL)
            return oom_err(e, where);
    }
    if (!p->lock && p->n_set == 0 && p->move_to == NULL) {
        s2l_load_err_set(e, where, "needs \"lock\": true, \"set\" or \"move_to\"");
        return false;
    }
    if (on_delete && p->move_to == NULL) {
        /* RFC 7644 §3.6: a deleted resource must answer 404 afterwards, so a
         * soft delete has to take the entry out of the type's search scope. */
        s2l_load_err_set(e, where, "a DELETE that keeps the entry needs \"move_to\": a container outside the search "
                                   "scope, so that the resource is gone for SCIM clients (RFC 7644 section 3.6)");
        return false;
    }
    return true;
}

bool s2l_dp_parse(s2l_rmap *rm, const json_t *j, const char *where, s2l_load_err *e)
{
    static const char *const keys[] = {"active_false", "delete", "description", NULL};
    char w[256];

    rm->dp_delete.hard_delete = true;
    if (j == NULL)
        return true;
    snprintf(w, sizeof w, "%s.deprovision", where);
    if (!json_is_object(j)) {
        s2l_load_err_set(e, w, "must be an object");
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)j, k, v) {
        bool known = false;
        for (size_t i = 0; keys[i]; i++)
            known = known || strcmp(keys[i], k) == 0;
        if (!known) {
            s2l_load_err_set(e, w, "unknown key \"%s\"", k);
            return false;
        }
    }
    const json_t *af = json_object_get(j, "active_false"), *del = json_object_get(j, "delete");
    if (af != NULL) {
        char aw[288];
        snprintf(aw, sizeof aw, "%s.active_false", w);
        if (rm->deprovision == S2L_DEPROVISION_LOCK) {
            s2l_load_err_set(e, aw, "\"active\" is already mapped with \"deprovision\": \"lock\"; map it as "
                                    "{\"scim\": \"active\"} to use this policy");
            return false;
        }
        if (!parse_policy(&rm->dp_inactive, af, aw, false, e))
            return false;
    }
    if (del != NULL) {
        char dw[288];
        snprintf(dw, sizeof dw, "%s.delete", w);
        rm->dp_delete.hard_delete = false;
        if (!parse_policy(&rm->dp_delete, del, dw, true, e))
            return false;
    }
    return true;
}

/* Whether an entry created (or moved) directly below container is inside the
 * type's search scope. */
static bool container_in_scope(const s2l_rmap *rm, const char *container)
{
    return rm->info.scope == S2L_SCOPE_SUB ? s2l_dn_under(container, rm->base_dn, true)
                                           : s2l_dn_under(container, rm->base_dn, true) &&
                                                 s2l_dn_under(rm->base_dn, container, true);
}

static bool check_policy(const s2l_rmap *rm, const s2l_dp_policy *p, const char *where, bool on_delete,
                         s2l_load_err *e)
{
    for (size_t i = 0; i < p->n_set; i++) {
        for (size_t k = 0; k < rm->n_entries; k++) {
            const s2l_mentry *me = &rm->entries[k];
            bool same = me->ldap && strcasecmp(me->ldap, p->set[i].ldap) == 0;
            for (size_t s = 0; s < me->n_subs; s++)
                same = same || strcasecmp(me->subs[s].ldap, p->set[i].ldap) == 0;
            if (same) {
                s2l_load_err_set(e, where, "%s is set by the policy and mapped at %s as well", p->set[i].ldap,
                                 me->where);
                return false;
            }
        }
    }
    if (p->move_to == NULL)
        return true;
    if (!s2l_dn_under(p->move_to, rm->boundary, true)) {
        s2l_load_err_set(e, where, "\"move_to\": %s is outside the provisioning boundary %s", p->move_to,
                         rm->boundary);
        return false;
    }
    bool inside = container_in_scope(rm, p->move_to);
    if (!on_delete && !inside) {
        s2l_load_err_set(e, where, "\"move_to\": %s must lie within the search scope (base_dn %s with \"scope\": "
                                   "\"sub\"), so that a disabled user stays readable by its id",
                         p->move_to, rm->base_dn);
        return false;
    }
    if (on_delete && inside) {
        s2l_load_err_set(e, where, "\"move_to\": %s must lie outside the search scope, so that a deleted resource "
                                   "answers 404", p->move_to);
        return false;
    }
    if (s2l_dn_under(p->move_to, rm->base_dn, true) && s2l_dn_under(rm->base_dn, p->move_to, true)) {
        s2l_load_err_set(e, where, "\"move_to\" is the base DN itself");
        return false;
    }
    return true;
}

bool s2l_dp_finish(s2l_rmap *rm, const char *where, s2l_load_err *e)
{
    const s2l_mentry *active = NULL;
    char w[256];

    for (size_t i = 0; i < rm->n_entries; i++)
        if (rm->entries[i].by_policy)
            active = &rm->entries[i];
    if (active != NULL && !rm->dp_inactive.configured) {
        s2l_load_err_set(e, active->where, "{\"scim\": \"active\"} without \"ldap\" is carried out by the type's "
                                           "\"deprovision\": {\"active_false\": ...} policy, which is missing");
        return false;
    }
    if (active == NULL && rm->dp_inactive.configured) {
        snprintf(w, sizeof w, "%s.deprovision.active_false", where);
        s2l_load_err_set(e, w, "needs {\"scim\": \"active\"} among the attributes");
        return false;
    }
    snprintf(w, sizeof w, "%s.deprovision.active_false", where);
    if (!check_policy(rm, &rm->dp_inactive, w, false, e))
        return false;
    snprintf(w, sizeof w, "%s.deprovision.delete", where);
    return check_policy(rm, &rm->dp_delete, w, true, e);
}

void s2l_rmap_deprovision_info(const s2l_rmap *rm, bool on_delete, s2l_dp_info *out)
{
    const s2l_dp_policy *p = on_delete ? &rm->dp_delete : &rm->dp_inactive;
    out->configured = p->configured || (!on_delete && rm->deprovision == S2L_DEPROVISION_LOCK);
    out->hard_delete = on_delete && p->hard_delete;
    out->lock = p->lock || (!on_delete && rm->deprovision == S2L_DEPROVISION_LOCK);
    out->n_set = p->n_set;
    out->move_to = p->move_to;
}

/* ---- reading ---- */

static bool int_value(const char *text, long long *out)
{
    char *end;
    if (text == NULL || *text == 0)
        return false;
    errno = 0;
    *out = strtoll(text, &end, 10);
    return errno == 0 && *end == 0;
}

static bool item_inactive(const s2l_dp_set *it, const json_t *entry)
{
    const char *cur = s2l_map_entry_first(entry, it->ldap);
    if (!it->is_flag)
        return cur && strcasecmp(cur, it->value) == 0;
    long long v;
    /* AD keeps flags as signed 32-bit integers (groupType can be negative) */
    return int_value(cur, &v) && ((unsigned long long)v & it->flag) == it->flag;
}

static bool locked(const json_t *entry)
{
    const char *cur = s2l_map_entry_first(entry, LOCK_ATTR);
    return cur && strcasecmp(cur, LOCK_VALUE) == 0;
}

static bool moved(const s2l_dp_policy *p, const json_t *entry)
{
    const char *dn = json_string_value(json_object_get(entry, "dn"));
    const char *parent = dn ? s2l_dn_parent(dn) : NULL;
    return p->move_to && parent && s2l_dn_under(parent, p->move_to, true) && s2l_dn_under(p->move_to, parent, true);
}

bool s2l_dp_entry_active(const s2l_rmap *rm, const json_t *entry)
{
    const s2l_dp_policy *p = &rm->dp_inactive;
    if (p->lock && locked(entry))
        return false;
    for (size_t i = 0; i < p->n_set; i++)
        if (item_inactive(&p->set[i], entry))
            return false;
    return !moved(p, entry);
}

int s2l_dp_read_attrs(const s2l_rmap *rm, int (*add)(void *ctx, const char *attr), void *ctx)
{
    const s2l_dp_policy *p = &rm->dp_inactive;
    if (p->lock && add(ctx, LOCK_ATTR) < 0)
        return -1;
    for (size_t i = 0; i < p->n_set; i++)
        if (add(ctx, p->set[i].ldap) < 0)
            return -1;
    return 0;
}

/* ---- writing ---- */

static int put(json_t *attrs, const char *name, const char *value)
{
    json_t *arr = json_pack("[s]", value);
    return arr ? json_object_set_new(attrs, name, arr) : -1;
}

static const s2l_mentry *active_entry(const s2l_rmap *rm)
{
    for (size_t i = 0; i < rm->n_entries; i++)
        if (rm->entries[i].by_policy)
            return &rm->entries[i];
    return NULL;
}

/* The resource's explicit `active`: 1, 0, or -1 when not given. */
static int wanted_active(const s2l_rmap *rm, const json_t *resource)
{
    const s2l_mentry *me = active_entry(rm);
    const json_t *v = me ? s2l_map_get_ci(s2l_map_container(resource, me->schema, me->in_ext), me->attr) : NULL;
    return json_is_boolean(v) ? json_is_true(v) : -1;
}

int s2l_dp_create_attrs(const s2l_rmap *rm, const json_t *resource, json_t *attrs, const char **container,
                        s2l_error *err)
{
    const s2l_dp_policy *p = &rm->dp_inactive;
    char num[32];
    *container = rm->base_dn;
    if (!p->configured)
        return 0;
    bool inactive = wanted_active(rm, resource) == 0; /* absent: a new account is active */
    if (p->lock && inactive && put(attrs, LOCK_ATTR, LOCK_VALUE) < 0)
        goto oom;
    for (size_t i = 0; i < p->n_set; i++) {
        const s2l_dp_set *it = &p->set[i];
        if (!it->is_flag) {
            const char *v = inactive ? it->value : it->active_value;
            if (v && put(attrs, it->ldap, v) < 0)
                goto oom;
            continue;
        }
        unsigned long long v = it->has_initial ? it->initial : 0;
        v = inactive ? v | it->flag : v & ~it->flag;
        if (!it->has_initial && !inactive)
            continue; /* nothing to say: the directory's default stands */
        snprintf(num, sizeof num, "%llu", v);
        if (put(attrs, it->ldap, num) < 0)
            goto oom;
    }
    if (inactive && p->move_to)
        *container = p->move_to;
    return 0;
oom:
    s2l_error_set(err, 500, NULL, "out of memory");
    return -1;
}

static int add_mod(json_t *mods, const char *op, const char *attr, const char *value)
{
    json_t *m = value ? json_pack("{s:s, s:s, s:[s]}", "op", op, "attr", attr, "values", value)
                      : json_pack("{s:s, s:s, s:[]}", "op", op, "attr", attr, "values");
    return m ? json_array_append_new(mods, m) : -1;
}

int s2l_dp_plan(const s2l_rmap *rm, const s2l_dp_policy *p, const json_t *entry, bool active, json_t *mods,
                const char **newsuperior, s2l_error *err)
{
    char num[32];
    *newsuperior = NULL;
    if (entry == NULL && (p->move_to || p->n_set)) {
        s2l_error_set(err, 500, NULL, "%s: changing active needs the entry as read", rm->name);
        return -1;
    }
    if (p->lock) {
        bool is_locked = entry && locked(entry);
        if (!active && !is_locked && add_mod(mods, "replace", LOCK_ATTR, LOCK_VALUE) < 0)
            goto oom;
        /* only our lock value: a lockout by failed binds is the directory's business */
        if (active && (is_locked || entry == NULL) && add_mod(mods, "delete", LOCK_ATTR, LOCK_VALUE) < 0)
            goto oom;
    }
    for (size_t i = 0; i < p->n_set; i++) {
        const s2l_dp_set *it = &p->set[i];
        bool now_inactive = item_inactive(it, entry);
        if (!it->is_flag) {
            if (!active && !now_inactive && add_mod(mods, "replace", it->ldap, it->value) < 0)
                goto oom;
            if (active && now_inactive &&
                (it->active_value ? add_mod(mods, "replace", it->ldap, it->active_value)
                                  : add_mod(mods, "delete", it->ldap, NULL)) < 0)
                goto oom;
            continue;
        }
        const char *cur = s2l_map_entry_first(entry, it->ldap);
        long long v;
        if (!int_value(cur, &v)) {
            if (cur != NULL) {
                s2l_error_set(err, 502, NULL, "%s: %s holds \"%s\", not an integer", rm->name, it->ldap, cur);
                return -1;
            }
            if (active)
                continue;
            snprintf(num, sizeof num, "%llu", (it->has_initial ? it->initial : 0) | it->flag);
            if (add_mod(mods, "add", it->ldap, num) < 0)
                goto oom;
            continue;
        }
        unsigned long long bits = (unsigned long long)v;
        long long nv = (long long)(active ? bits & ~it->flag : bits | it->flag);
        if (nv == v)
            continue;
        snprintf(num, sizeof num, "%lld", nv);
        /* the old value exactly as stored: the delete fails if it changed meanwhile */
        if (add_mod(mods, "delete", it->ldap, cur) < 0 || add_mod(mods, "add", it->ldap, num) < 0)
            goto oom;
    }
    if (p->move_to) {
        bool is_moved = moved(p, entry);
        if (!active && !is_moved)
            *newsuperior = p->move_to;
        else if (active && is_moved)
            *newsuperior = rm->base_dn;
    }
    return 0;
oom:
    s2l_error_set(err, 500, NULL, "out of memory");
    return -1;
}

/* Called by s2l_rmap_plan_update_entry: nothing when the new resource says
 * nothing about active (a PUT without it leaves the account as it is). */
int s2l_dp_plan_active(const s2l_rmap *rm, const json_t *entry, const json_t *new_resource, json_t *mods,
                       const char **newsuperior, s2l_error *err)
{
    *newsuperior = NULL;
    int want = rm->dp_inactive.configured ? wanted_active(rm, new_resource) : -1;
    if (want < 0)
        return 0;
    return s2l_dp_plan(rm, &rm->dp_inactive, entry, want == 1, mods, newsuperior, err);
}

static void require_absent(s2l_buf *requires, const char *attr, const char *value)
{
    s2l_buf_adds(requires, "(!");
    s2l_buf_add_eq(requires, attr, value);
    s2l_buf_adds(requires, ")");
}

int s2l_dp_plan_active_blind(const s2l_rmap *rm, const json_t *new_resource, json_t *mods, s2l_buf *requires)
{
    const s2l_dp_policy *p = &rm->dp_inactive;
    if (p->move_to)
        return 0;
    for (size_t i = 0; i < p->n_set; i++)
        if (p->set[i].is_flag)
            return 0;
    int want = p->configured ? wanted_active(rm, new_resource) : -1;
    if (want < 0)
        return 1;
    if (p->lock) {
        if (!want && add_mod(mods, "replace", LOCK_ATTR, LOCK_VALUE) < 0)
            return -1;
        if (want && requires)
            require_absent(requires, LOCK_ATTR, LOCK_VALUE);
        else if (want && add_mod(mods, "delete", LOCK_ATTR, LOCK_VALUE) < 0)
            return -1;
    }
    for (size_t i = 0; i < p->n_set; i++) {
        const s2l_dp_set *it = &p->set[i];
        if (!want && add_mod(mods, "replace", it->ldap, it->value) < 0)
            return -1;
        if (want && requires) {
            require_absent(requires, it->ldap, it->value);
        } else if (want && (add_mod(mods, "delete", it->ldap, it->value) < 0 ||
                            (it->active_value && add_mod(mods, "add", it->ldap, it->active_value) < 0))) {
            return -1;
        }
    }
    return requires && requires->failed ? -1 : 1;
}

json_t *s2l_rmap_plan_delete(const s2l_rmap *rm, const json_t *entry, s2l_error *err)
{
    if (rm->dp_delete.hard_delete) {
        json_t *out = json_pack("{s:b}", "delete", 1);
        if (out == NULL)
            s2l_error_set(err, 500, NULL, "out of memory");
        return out;
    }
    json_t *mods = json_array();
    const char *sup = NULL;
    if (mods == NULL) {
        s2l_error_set(err, 500, NULL, "out of memory");
        return NULL;
    }
    if (s2l_dp_plan(rm, &rm->dp_delete, entry, false, mods, &sup, err) < 0) {
        json_decref(mods);
        return NULL;
    }
    json_t *out = json_pack("{s:b, s:o, s:s?}", "delete", 0, "mods", mods, "newsuperior", sup);
    if (out == NULL)
        s2l_error_set(err, 500, NULL, "out of memory");
    return out;
}

char **s2l_rmap_delete_read_attrs(const s2l_rmap *rm)
{
    const s2l_dp_policy *p = &rm->dp_delete;
    char **v = calloc(1, sizeof *v);
    bool ok = v != NULL;
    if (ok && rm->info.version_attr)
        ok = s2l_strv_add(&v, rm->info.version_attr, true) == 0;
    if (ok && p->lock)
        ok = s2l_strv_add(&v, LOCK_ATTR, true) == 0;
    for (size_t i = 0; ok && i < p->n_set; i++)
        ok = s2l_strv_add(&v, p->set[i].ldap, true) == 0;
    if (ok && v[0] == NULL)
        ok = s2l_strv_add(&v, "1.1", false) == 0; /* no attributes: just the DN */
    if (!ok) {
        s2l_strv_free(v);
        return NULL;
    }
    return v;
}

bool s2l_rmap_is_policy_flag(const s2l_rmap *rm, const char *attr)
{
    const s2l_dp_policy *ps[] = {&rm->dp_inactive, &rm->dp_delete};
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; attr && i < ps[k]->n_set; i++)
            if (ps[k]->set[i].is_flag && strcasecmp(ps[k]->set[i].ldap, attr) == 0)
                return true;
    return false;
}

/* The add attrs hold the value of a unicodePwd password entry. */
static bool adds_unicodepwd(const s2l_rmap *rm, const json_t *attrs)
{
    for (size_t i = 0; i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (!me->is_password || me->pw_scheme != S2L_PW_UNICODEPWD)
            continue;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)attrs, k, v) {
            size_t n = strlen(me->ldap);
            if (strncasecmp(k, me->ldap, n) == 0 && (k[n] == 0 || k[n] == ';') && json_array_size(v) > 0)
                return true;
        }
    }
    return false;
}

json_t *s2l_rmap_enable_after_password(const s2l_rmap *rm, json_t *add_entry, s2l_error *err)
{
    json_t *mods = json_array(), *attrs = json_object_get(add_entry, "attrs");
    char num[32], was[32];
    if (mods == NULL)
        goto oom;
    if (!adds_unicodepwd(rm, attrs))
        return mods;
    for (size_t i = 0; i < rm->dp_inactive.n_set; i++) {
        const s2l_dp_set *it = &rm->dp_inactive.set[i];
        json_t *vals = it->is_flag ? s2l_map_get_ci(attrs, it->ldap) : NULL;
        long long v;
        if (!int_value(json_string_value(json_array_get(vals, 0)), &v) || ((unsigned long long)v & it->flag) != 0)
            continue; /* not written, or created inactive anyway */
        /* added disabled; enabled by a modify once the password is in */
        snprintf(was, sizeof was, "%lld", v);
        snprintf(num, sizeof num, "%lld", (long long)((unsigned long long)v | it->flag));
        if (json_array_set_new(vals, 0, json_string(num)) < 0 || add_mod(mods, "delete", it->ldap, num) < 0 ||
            add_mod(mods, "add", it->ldap, was) < 0)
            goto oom;
    }
    return mods;
oom:
    json_decref(mods);
    s2l_error_set(err, 500, NULL, "out of memory");
    return NULL;
}

/* ---- filters ---- */

char *s2l_dp_inactive_filter(const s2l_rmap *rm, s2l_error *err)
{
    const s2l_dp_policy *p = &rm->dp_inactive;
    s2l_strbuf b = {0};
    size_t n = 0;

    s2l_sb_adds(&b, "(|");
    if (p->lock) {
        s2l_sb_adds(&b, "(" LOCK_ATTR "=" LOCK_VALUE ")");
        n++;
    }
    for (size_t i = 0; i < p->n_set; i++) {
        const s2l_dp_set *it = &p->set[i];
        char num[32];
        s2l_sb_adds(&b, "(");
        s2l_sb_adds(&b, it->ldap);
        if (it->is_flag) {
            snprintf(num, sizeof num, ":" BIT_AND_RULE ":=%llu", it->flag);
            s2l_sb_adds(&b, num);
        } else {
            char *esc = s2l_ldap_escape_filter_value(it->value, strlen(it->value));
            s2l_sb_adds(&b, "=");
            if (esc)
                s2l_sb_adds(&b, esc);
            else
                b.failed = true;
            free(esc);
        }
        s2l_sb_adds(&b, ")");
        n++;
    }
    s2l_sb_adds(&b, ")");
    char *f = s2l_sb_take(&b);
    if (f == NULL) {
        s2l_error_set(err, 500, NULL, "out of memory");
        return NULL;
    }
    if (n == 0) {
        free(f);
        s2l_error_set(err, 400, S2L_SCIM_INVALID_FILTER,
                      "active: cannot be filtered when deactivation only moves the entry");
        return NULL;
    }
    if (n == 1) { /* (|(x)) is (x) */
        memmove(f, f + 2, strlen(f + 2) + 1);
        f[strlen(f) - 1] = 0;
    }
    return f;
}
