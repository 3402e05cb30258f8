/* patch_delta.c — PATCH operations on delta attributes (group members).
 *
 * The handler never reads a group's member list to change it (rewriting
 * 2,000 members to add one is what other SCIM-on-LDAP servers got wrong), so
 * operations on such an attribute become value-level deltas instead of edits
 * of the JSON resource. Only what can be decided without the current list is
 * accepted: add/remove of listed ids, removal by `value eq` filters, and
 * replacement of (or clearing) the whole list.
 *
 * Operations combine in order: a later replace/clear discards earlier deltas,
 * and the last word on an id wins (add after remove → added; remove after add
 * → removed). Adding a present member or removing an absent one is the
 * caller's success case, so no state needs to be known here.
 */
#include "s2l/resource.h"
#include "resource_internal.h"
#include "patch_internal.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool s2l_patch_is_delta(const s2l_patch_ctx *c, const s2l_attr_def *def)
{
    if (c->delta_names == NULL || def == NULL || def->parent != NULL)
        return false;
    for (const char *const *n = c->delta_names; *n != NULL; n++)
        if (strcasecmp(*n, def->name) == 0)
            return true;
    return false;
}

static int nomem(s2l_patch_ctx *c)
{
    s2l_error_set(c->err, 500, NULL, "out of memory");
    return -1;
}

static s2l_patch_delta_state *state_for(s2l_patch_ctx *c, const s2l_attr_def *def)
{
    s2l_patch_delta_state *st;

    for (size_t i = 0; i < c->n_deltas; i++)
        if (c->deltas[i].def == def)
            return &c->deltas[i];
    if (c->n_deltas == c->cap_deltas) {
        size_t cap = c->cap_deltas ? c->cap_deltas * 2 : 2;
        if (cap > SIZE_MAX / sizeof *st)
            return NULL;
        st = realloc(c->deltas, cap * sizeof *st);
        if (st == NULL)
            return NULL;
        c->deltas = st;
        c->cap_deltas = cap;
    }
    st = &c->deltas[c->n_deltas];
    *st = (s2l_patch_delta_state){.def = def, .add = json_object(), .remove = json_object()};
    if (st->add == NULL || st->remove == NULL) {
        json_decref(st->add);
        json_decref(st->remove);
        return NULL;
    }
    c->n_deltas++;
    return st;
}

/* The key an id is tracked under: ids of a caseExact=false "value"
 * (RFC 7643 members.value) are folded so "ABC" and "abc" are one member. */
static char *id_key(const s2l_attr_def *def, const char *id)
{
    const s2l_attr_def *vsub = s2l_attr_find_sub(def, "value");
    char *k = strdup(id);

    if (k != NULL && (vsub == NULL || !vsub->case_exact))
        for (char *p = k; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    return k;
}

static int check_id(s2l_patch_ctx *c, const s2l_attr_def *def, const json_t *id)
{
    /* An embedded NUL would make two different ids collide as C strings. */
    if (!json_is_string(id) || json_string_length(id) == 0 ||
        strlen(json_string_value(id)) != json_string_length(id)) {
        s2l_error_set(c->err, 400, S2L_SCIM_INVALID_VALUE, "each '%s' value needs a non-empty string \"value\"",
                      def->name);
        return -1;
    }
    return 0;
}

/* One member as given ({"value":id, "type":..., "$ref":null, "display":...} or a
 * bare id) → {"value": id[, "type": t]}. */
static int member_of(s2l_patch_ctx *c, const s2l_attr_def *def, const json_t *in, json_t **out)
{
    const json_t *id = json_is_string(in) ? in : s2l_json_get_ci(in, "value");
    const json_t *type = json_is_object(in) ? s2l_json_get_ci(in, "type") : NULL;

    *out = NULL;
    if (!json_is_string(in) && !json_is_object(in)) {
        s2l_error_set(c->err, 400, S2L_SCIM_INVALID_VALUE, "each '%s' value must be an object", def->name);
        return -1;
    }
    if (check_id(c, def, id) != 0)
        return -1;
    if (type != NULL && !json_is_null(type) && !json_is_string(type)) {
        s2l_error_set(c->err, 400, S2L_SCIM_INVALID_VALUE, "'%s.type' must be a string", def->name);
        return -1;
    }
    *out = json_is_string(type) ? json_pack("{s:O,s:O}", "value", id, "type", type)
                                : json_pack("{s:O}", "value", id);
    if (*out == NULL)
        return nomem(c);
    /* Sub-attributes beyond the view's (Azure sends "displayName") follow the
     * policy for unknown attributes; KEEP carries them along with the id. */
    if (json_is_object(in)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)in, k, v) {
            if (s2l_attr_find_sub(def, k) != NULL || s2l_res_is_unassigned(v) || strcasecmp(k, "value") == 0 ||
                strcasecmp(k, "type") == 0 || strcasecmp(k, "display") == 0 || strcasecmp(k, "$ref") == 0 ||
                strcasecmp(k, "primary") == 0)
                continue;
            char path[256];
            snprintf(path, sizeof path, "%s.%s", def->name, k);
            const s2l_attr_def *full = s2l_res_full_def(&c->pol, def);
            s2l_attr_policy p = s2l_res_pol_apply(&c->pol, full && s2l_attr_find_sub(full, k), path, c->err);
            if (p == S2L_POLICY_REJECT) {
                json_decref(*out);
                *out = NULL;
                return -1;
            }
            if (p == S2L_POLICY_KEEP && json_object_set_new(*out, k, json_deep_copy(v)) != 0)
                return nomem(c);
        }
    }
    return 0;
}

static int delta_add(s2l_patch_ctx *c, s2l_patch_delta_state *st, json_t *member)
{
    char *k = id_key(st->def, json_string_value(json_object_get(member, "value")));
    int rc = -1;

    if (k == NULL) {
        json_decref(member);
        return nomem(c);
    }
    json_object_del(st->remove, k);
    rc = json_object_set_new(st->add, k, member) == 0 ? 0 : nomem(c);
    free(k);
    return rc;
}

static int delta_remove(s2l_patch_ctx *c, s2l_patch_delta_state *st, const json_t *id)
{
    char *k = id_key(st->def, json_string_value(id));
    int rc = 0;

    if (k == NULL)
        return nomem(c);
    json_object_del(st->add, k);
    /* Under replace_all the add list is the whole new list: nothing to remove. */
    if (!st->replace_all && json_object_set_new(st->remove, k, json_pack("{s:O}", "value", id)) != 0)
        rc = nomem(c);
    free(k);
    return rc;
}

/* Adds or removes every member given as value (array, one object or a bare id). */
static int each_member(s2l_patch_ctx *c, s2l_patch_delta_state *st, const json_t *value, bool add)
{
    size_t n = json_is_array(value) ? json_array_size(value) : 1;

    if (value == NULL || json_is_null(value))
        return 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *el = json_is_array(value) ? json_array_get(value, i) : value;
        json_t *m = NULL;
        if (json_is_null(el))
            continue;
        if (member_of(c, st->def, el, &m) != 0)
            return -1;
        int rc = add ? delta_add(c, st, m) : delta_remove(c, st, json_object_get(m, "value"));
        if (!add)
            json_decref(m);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* members[value eq "a" or value eq "b"]: the only filters that can be
 * evaluated without reading the list. */
static int filter_ids(s2l_patch_ctx *c, s2l_patch_delta_state *st, const s2l_filter *f)
{
    if (f != NULL && f->kind == S2L_F_OR)
        return filter_ids(c, st, f->left) == 0 && filter_ids(c, st, f->right) == 0 ? 0 : -1;
    if (f == NULL || f->kind != S2L_F_CMP || f->op != S2L_OP_EQ || f->path.urn != NULL ||
        f->path.sub != NULL || strcasecmp(f->path.attr, "value") != 0 || !json_is_string(f->value)) {
        s2l_error_set(c->err, 400, S2L_SCIM_INVALID_FILTER,
                      "'%s' values can only be selected by value eq \"<id>\" (joined by or); "
                      "other filters would need the whole list to be read", st->def->name);
        return -1;
    }
    if (check_id(c, st->def, f->value) != 0)
        return -1;
    return delta_remove(c, st, f->value);
}

static void clear(s2l_patch_delta_state *st)
{
    json_object_clear(st->add);
    json_object_clear(st->remove);
    st->replace_all = true;
}

int s2l_patch_delta_op(s2l_patch_ctx *c, s2l_patch_op op, const s2l_attr_def *def, const s2l_path *path,
                       const json_t *value)
{
    s2l_patch_delta_state *st = state_for(c, def);

    if (st == NULL)
        return nomem(c);
    if (path != NULL && (path->attr.sub != NULL || path->filter_sub != NULL)) {
        s2l_error_set(c->err, 400, S2L_SCIM_INVALID_PATH,
                      "sub-attributes of '%s' cannot be modified; add or remove whole values", def->name);
        return -1;
    }
    if (path != NULL && path->filter != NULL) {
        if (op != S2L_PATCH_REMOVE) {
            s2l_error_set(c->err, 400, S2L_SCIM_INVALID_PATH,
                          "a value filter on '%s' is only supported with remove", def->name);
            return -1;
        }
        return filter_ids(c, st, path->filter);
    }
    switch (op) {
    case S2L_PATCH_ADD:
        return each_member(c, st, value, true);
    case S2L_PATCH_REPLACE:
        clear(st);
        return each_member(c, st, value, true);
    case S2L_PATCH_REMOVE:
    default:
        /* No value: the whole list goes. With a value only the listed members
         * go — removing one member must never remove all (IDP-QUIRKS.md). */
        if (value == NULL || json_is_null(value)) {
            clear(st);
            return 0;
        }
        return each_member(c, st, value, false);
    }
}

static json_t *values_of(const json_t *set)
{
    json_t *arr = json_array();
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)set, k, v) {
        if (arr == NULL || json_array_append(arr, v) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

int s2l_patch_deltas_json(const s2l_patch_ctx *c, json_t **out)
{
    json_t *arr = NULL;

    *out = NULL;
    if (c->n_deltas == 0)
        return 0;
    arr = json_array();
    if (arr == NULL)
        return -1;
    for (size_t i = 0; i < c->n_deltas; i++) {
        const s2l_patch_delta_state *st = &c->deltas[i];
        json_t *d = json_pack("{s:s, s:o, s:o, s:b}", "attr", st->def->name, "add", values_of(st->add),
                              "remove", values_of(st->remove), "replace_all", st->replace_all);
        if (d == NULL || json_array_append_new(arr, d) != 0) {
            json_decref(arr);
            return -1;
        }
    }
    *out = arr;
    return 0;
}

void s2l_patch_ctx_fini(s2l_patch_ctx *c)
{
    for (size_t i = 0; i < c->n_deltas; i++) {
        json_decref(c->deltas[i].add);
        json_decref(c->deltas[i].remove);
    }
    free(c->deltas);
    c->deltas = NULL;
    c->n_deltas = c->cap_deltas = 0;
}
