/* mapping_write.c — SCIM → LDAP: the entry to add, the plan for an update,
 * group-member deltas, and the reference ids a resource needs resolved
 * (see include/s2l/mapping.h).
 *
 * One function (s2l_map_ldap_attrs) computes the LDAP attribute set of a
 * resource; creating uses it once, updating runs it on both the old and the new
 * resource and compares, so an LDAP attribute fed by several SCIM attributes
 * (cn from a template) is always computed from the whole resource.
 */
#include "mapping_internal.h"

#include <ctype.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Stands in for a reference of the old resource that could not be resolved:
 * it never equals a real value, so the attribute is rewritten rather than
 * silently kept. Control characters cannot appear in a DN from LDAP. */
#define UNRESOLVED_MARK "\x01unresolved"

/* The values array of LDAP attribute name in attrs, created when missing. */
static json_t *values_of(json_t *attrs, const char *name)
{
    json_t *v = s2l_map_get_ci(attrs, name);
    if (v != NULL)
        return v;
    v = json_array();
    if (v == NULL || json_object_set_new(attrs, name, v) < 0)
        return NULL;
    return v;
}

/* Values a linear scan checks for duplicates as they are added; a longer
 * list is de-duplicated once when complete (s2l_map_dedupe_strings), so
 * 20,000 emails cost linear time instead of 200 million comparisons. */
#define SCAN_MAX 16

/* Adds one value (not empty: LDAP has no empty values) unless already there
 * (past SCAN_MAX values: removed later by s2l_map_ldap_attrs). */
static int add_value(json_t *attrs, const char *name, const char *val, size_t len)
{
    json_t *arr, *e;
    size_t i;

    if (len == 0)
        return 0;
    if ((arr = values_of(attrs, name)) == NULL)
        return -1;
    if (json_array_size(arr) < SCAN_MAX) {
        json_array_foreach(arr, i, e) {
            if (json_string_length(e) == len && memcmp(json_string_value(e), val, len) == 0)
                return 0;
        }
    }
    return json_array_append_new(arr, json_stringn(val, len));
}

/* The LDAP form of a text for attribute `name`: Postal Address lines are
 * separated by '$' (RFC 4517 §3.3.28), where SCIM "formatted" has newlines;
 * a country code is upper case. malloc'd, *len set. */
static char *ldap_form(const char *name, const char *text, size_t *len)
{
    s2l_ldap_syntax syn = s2l_ldap_syntax_of(name);
    s2l_strbuf b = {0};

    if (syn == S2L_LSYN_COUNTRY && *len == 2) {
        char *c = malloc(3);
        if (c) {
            c[0] = (char)toupper((unsigned char)text[0]);
            c[1] = (char)toupper((unsigned char)text[1]);
            c[2] = '\0';
        }
        return c;
    }
    if (syn != S2L_LSYN_POSTAL) {
        char *c = malloc(*len + 1);
        if (c) {
            memcpy(c, text, *len);
            c[*len] = '\0';
        }
        return c;
    }
    for (size_t i = 0; i < *len; i++) {
        if (text[i] == '\\')
            s2l_sb_adds(&b, "\\5C");
        else if (text[i] == '$')
            s2l_sb_adds(&b, "\\24");
        else if (text[i] == '\n')
            s2l_sb_adds(&b, "$");
        else if (!(text[i] == '\r' && i + 1 < *len && text[i + 1] == '\n'))
            s2l_sb_add(&b, &text[i], 1);
    }
    if (b.len == 0 && !b.failed)
        s2l_sb_adds(&b, "");
    *len = b.len;
    return s2l_sb_take(&b);
}

static int add_text(json_t *attrs, const char *name, const char *text, size_t len)
{
    char *f = ldap_form(name, text, &len);
    if (f == NULL)
        return -1;
    int rc = add_value(attrs, name, f, len);
    free(f);
    return rc;
}

static int add_scalar(json_t *attrs, const char *name, const json_t *v)
{
    size_t len = 0;
    if (!json_is_string(v) && !json_is_integer(v) && !json_is_real(v))
        return 0;
    char *text = s2l_map_scalar_text(v, &len);
    if (text == NULL)
        return -1;
    int rc = add_text(attrs, name, text, len);
    free(text);
    return rc;
}

/* Whether a scalar SCIM value fits LDAP attribute name (unknown syntaxes: yes). */
static bool scalar_fits(const char *name, const json_t *v)
{
    size_t len = 0;
    if (!json_is_string(v) && !json_is_integer(v) && !json_is_real(v))
        return true;
    char *text = s2l_map_scalar_text(v, &len);
    bool ok = text == NULL || len == 0 || s2l_ldap_value_fits(s2l_ldap_syntax_of(name), text, len);
    free(text);
    return ok;
}

static int add_template(json_t *attrs, const s2l_mentry *me, const json_t *resource, bool *done)
{
    bool oom = false;
    *done = false;
    for (size_t i = 0; i < me->n_templates; i++) {
        char *v = s2l_template_eval(&me->templates[i], resource, &oom);
        if (oom)
            return -1;
        if (v != NULL && me->transform.on) {
            char *t = s2l_transform_apply(&me->transform, v);
            free(v);
            if (t == NULL)
                return -1;
            v = t;
        }
        if (v == NULL || *v == 0) {
            free(v);
            continue;
        }
        int rc = add_value(attrs, me->ldap, v, strlen(v));
        free(v);
        *done = true;
        return rc;
    }
    return 0;
}

static const json_t *scim_value(const s2l_mentry *me, const json_t *resource)
{
    const json_t *v = s2l_map_get_ci(s2l_map_container(resource, me->schema, me->in_ext), me->attr);
    if (me->sub != NULL)
        v = s2l_map_get_ci(v, me->sub);
    return json_is_null(v) ? NULL : v;
}

/* The password as the scheme says: hashed, encoded for AD (binary, sent as
 * "<attr>;base64"), or as sent. The cleartext is never kept. */
static int password_attrs(json_t *attrs, const s2l_mentry *me, const json_t *v)
{
    size_t n = 0;
    int rc = -1;
    if (!json_is_string(v) || json_string_length(v) == 0)
        return 0;
    char *enc = s2l_pw_encode(me->pw_scheme, json_string_value(v), json_string_length(v), &n);
    if (enc == NULL)
        return -1;
    if (me->write_key == NULL) {
        rc = add_value(attrs, me->ldap, enc, n);
    } else {
        char *b64 = n <= (size_t)1 << 20 ? malloc((n + 2) / 3 * 4 + 1) : NULL;
        if (b64 != NULL) {
            EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)enc, (int)n);
            rc = add_value(attrs, me->write_key, b64, strlen(b64));
            s2l_pw_free(b64, strlen(b64));
        }
    }
    s2l_pw_free(enc, n);
    return rc;
}

/* ---- one write: LDAP attributes plus what no entry stores ---- */

typedef struct wctx {
    const s2l_rmap *rm;
    const json_t *ids;
    bool lenient;               /* the old side of a plan: nothing is refused or noted */
    json_t *notes;              /* NULL on the old side */
    s2l_error *err;
    json_t *rest;               /* the residual: a copy of the resource minus what is stored (copy on write) */
} wctx;

static int w_oom(wctx *w)
{
    s2l_error_set(w->err, 500, NULL, "out of memory");
    return -1;
}

/* The container of me's attribute in the residual, made private to it (the
 * residual shares values with the resource until it changes them). */
static json_t *rest_container(wctx *w, const s2l_mentry *me)
{
    if (!me->in_ext)
        return w->rest;
    json_t *c = s2l_map_get_ci(w->rest, me->schema->id);
    return json_is_object(c) ? c : NULL; /* made private by rest_start */
}

/* The residual starts as a shallow copy of the resource, with private copies
 * of its extension objects (entries delete their parts from them). */
static json_t *rest_start(const s2l_rmap *rm, const json_t *resource)
{
    json_t *rest = json_is_object(resource) ? json_copy((json_t *)resource) : json_object();

    for (size_t i = 0; rest != NULL && i < rm->n_ext; i++) {
        json_t *c = s2l_map_get_ci(rest, rm->ext[i]->id);
        if (!json_is_object(c))
            continue;
        json_t *copy = json_copy(c);
        if (copy == NULL || json_object_set_new(rest, rm->ext[i]->id, copy) < 0) {
            json_decref(rest);
            return NULL;
        }
    }
    return rest;
}

/* Removes me's attribute (or me->sub of it) from the residual. */
static int rest_drop(wctx *w, const s2l_mentry *me)
{
    json_t *c = rest_container(w, me);
    if (c == NULL)
        return 0;
    json_t *v = s2l_map_get_ci(c, me->attr);
    if (v == NULL)
        return 0;
    if (me->sub == NULL || !json_is_object(v)) {
        s2l_map_del_ci(c, me->attr);
        return 0;
    }
    json_t *copy = json_copy(v);
    if (copy == NULL)
        return w_oom(w);
    s2l_map_del_ci(copy, me->sub);
    s2l_map_del_ci(c, me->attr);
    if (json_object_size(copy) == 0) {
        json_decref(copy);
        return 0;
    }
    return json_object_set_new(c, me->attr, copy) < 0 ? w_oom(w) : 0;
}

/* Sets the residual of me's (top-level) attribute to v (stolen; NULL removes it). */
static int rest_set(wctx *w, const s2l_mentry *me, json_t *v)
{
    json_t *c = rest_container(w, me);
    if (c == NULL) {
        json_decref(v);
        return 0;
    }
    s2l_map_del_ci(c, me->attr);
    if (v == NULL)
        return 0;
    return json_object_set_new(c, me->attr, v) < 0 ? w_oom(w) : 0;
}

static void scim_path(const s2l_mentry *me, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s%s%s%s", me->in_ext ? me->schema->id : "", me->in_ext ? ":" : "", me->attr,
             me->sub ? "." : "", me->sub ? me->sub : "");
}

static int simple_attrs(wctx *w, json_t *attrs, const s2l_mentry *me, const json_t *resource)
{
    const json_t *v = scim_value(me, resource);
    bool done = false;

    if (v != NULL && rest_drop(w, me) < 0)
        return -1;
    if (me->by_policy)
        return 0; /* written by the deprovision policy (s2l_dp_create_attrs, s2l_dp_plan) */
    if (me->is_password)
        return password_attrs(attrs, me, v);

    if (me->is_bool) {
        const char *repr = json_is_true(v) ? me->boolean.when_true : json_is_false(v) ? me->boolean.when_false : NULL;
        return repr ? add_value(attrs, me->ldap, repr, strlen(repr)) : 0;
    }
    if (me->leaf->type == S2L_T_DATETIME && json_is_string(v)) {
        /* stored as GeneralizedTime, so LDAP can order it (read back as RFC 3339) */
        char *gt = s2l_rfc3339_to_gtime(json_string_value(v));
        if (gt != NULL) {
            int rc = add_value(attrs, me->ldap, gt, strlen(gt));
            free(gt);
            return rc;
        }
    }
    if (v != NULL && !(json_is_string(v) && json_string_length(v) == 0)) {
        if (!w->lenient && !scalar_fits(me->ldap, v)) {
            char path[512];
            scim_path(me, path, sizeof path);
            s2l_error_set(w->err, 400, S2L_SCIM_INVALID_VALUE,
                          "%s: the value cannot be stored: LDAP attribute %s takes a %s", path, me->ldap,
                          s2l_ldap_syntax_name(s2l_ldap_syntax_of(me->ldap)));
            return -2;
        }
        return add_scalar(attrs, me->ldap, v);
    }
    return add_template(attrs, me, resource, &done);
}

/* Sub-attributes a split entry cannot hold make the catch-all the better home
 * for the whole value (RFC 7643 §2.4 "display" is server-rendered, "type" and
 * "primary" are the entry's own). */
static bool subs_all_stored(const s2l_mentry *me, const json_t *elem)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)elem, k, v) {
        bool ok = json_is_null(v) || strcasecmp(k, "type") == 0 || strcasecmp(k, "primary") == 0 ||
                  strcasecmp(k, "display") == 0;
        for (size_t i = 0; !ok && i < me->n_subs; i++)
            ok = strcasecmp(k, me->subs[i].scim) == 0;
        if (!ok && me->ldap != NULL)
            ok = strcasecmp(k, "value") == 0;
        if (!ok)
            return false;
    }
    return true;
}

/* Whether entry me can store value elem (its type matched already). n_taken:
 * values of this attribute me took so far. */
static bool entry_accepts(const s2l_mentry *me, const json_t *elem, size_t n_taken, bool have_catch_all)
{
    if (me->ldap != NULL) {
        const json_t *val = json_is_object(elem) ? s2l_map_get_ci(elem, "value") : elem;
        if (!scalar_fits(me->ldap, val))
            return false;
        return !have_catch_all || !json_is_object(elem) || subs_all_stored(me, elem);
    }
    /* Sub-attributes spread over several LDAP attributes cannot keep two
     * values apart, so only the first value of this type is stored there. */
    if (n_taken > 0)
        return false;
    for (size_t k = 0; k < me->n_subs; k++) {
        const json_t *sv = s2l_map_get_ci(elem, me->subs[k].scim);
        if (sv == NULL || json_is_null(sv))
            continue;
        if (!scalar_fits(me->subs[k].ldap, sv) && !(me->subs[k].also && scalar_fits(me->subs[k].also, sv)))
            return false;
    }
    return !have_catch_all || subs_all_stored(me, elem);
}

/* Whether a value of a multi-valued complex attribute belongs to entry me by
 * its type: the type matches, or it has none and me is the preferred
 * (primary) type; an untyped entry takes every value. */
static bool value_is_mine(const s2l_mentry *me, const json_t *elem)
{
    if (me->type == NULL)
        return true;
    if (!json_is_object(elem))
        return me->primary;
    const json_t *t = s2l_map_get_ci(elem, "type");
    if (json_is_string(t) && json_string_length(t) > 0)
        return strcasecmp(json_string_value(t), me->type) == 0;
    return me->primary;
}

static int store_value(json_t *attrs, const s2l_mentry *me, const json_t *elem)
{
    int rc = 0;
    if (me->catch_all) {
        char *text = s2l_map_json_value_text(elem);
        if (text == NULL)
            return -1;
        rc = add_value(attrs, me->ldap, text, strlen(text));
        free(text);
        return rc;
    }
    if (!json_is_object(elem))
        return add_scalar(attrs, me->ldap, elem);
    if (me->ldap)
        return add_scalar(attrs, me->ldap, s2l_map_get_ci(elem, "value"));
    for (size_t k = 0; k < me->n_subs && rc == 0; k++) {
        const json_t *sv = s2l_map_get_ci(elem, me->subs[k].scim);
        if (sv == NULL || json_is_null(sv))
            continue;
        if (scalar_fits(me->subs[k].ldap, sv))
            rc = add_scalar(attrs, me->subs[k].ldap, sv);
        if (rc == 0 && me->subs[k].also && scalar_fits(me->subs[k].also, sv))
            rc = add_scalar(attrs, me->subs[k].also, sv);
    }
    return rc;
}

/* Every MULTI entry of the attribute `first` maps, together: each value goes
 * to the first entry of its type that can store it, else to the "type": "*"
 * entry, else it is left over (policy for unmapped content). */
static int multi_group(wctx *w, json_t *attrs, const s2l_mentry *first, const json_t *resource)
{
    const s2l_rmap *rm = w->rm;
    const json_t *v = scim_value(first, resource), *elem;
    json_t *list = json_is_array(v) ? json_incref((json_t *)v) : v ? json_pack("[O]", v) : NULL;
    json_t *left = json_array();
    size_t *taken = calloc(rm->n_entries, sizeof *taken);
    const s2l_mentry *catch_all = NULL;
    size_t i;
    int rc = 0;

    if (v == NULL) {
        rc = 0; /* nothing sent: nothing to place */
        goto out;
    }
    if (list == NULL || left == NULL || taken == NULL) {
        rc = w_oom(w);
        goto out;
    }
    for (size_t e = 0; e < rm->n_entries; e++)
        if (rm->entries[e].kind == S2L_ME_MULTI && rm->entries[e].top == first->top && rm->entries[e].catch_all &&
            !rm->entries[e].read_only)
            catch_all = &rm->entries[e];
    json_array_foreach(list, i, elem) {
        const s2l_mentry *owner = NULL;
        for (size_t e = 0; e < rm->n_entries && owner == NULL; e++) {
            const s2l_mentry *me = &rm->entries[e];
            if (me->kind != S2L_ME_MULTI || me->top != first->top || me->catch_all || me->read_only)
                continue;
            if (value_is_mine(me, elem) && entry_accepts(me, elem, taken[e], catch_all != NULL)) {
                owner = me;
                taken[e]++;
            }
        }
        if (owner == NULL && catch_all != NULL && json_is_object(elem))
            owner = catch_all;
        if (owner != NULL) {
            if (store_value(attrs, owner, elem) < 0) {
                rc = w_oom(w);
                goto out;
            }
            continue;
        }
        /* nowhere to store it */
        if (!w->lenient) {
            const json_t *t = json_is_object(elem) ? s2l_map_get_ci(elem, "type") : NULL;
            char path[512];
            snprintf(path, sizeof path, "%s%s%s%s%s", first->in_ext ? first->schema->id : "",
                     first->in_ext ? ":" : "", first->attr, json_is_string(t) ? "[type eq \"" : "",
                     json_is_string(t) ? json_string_value(t) : "");
            if (json_is_string(t))
                strncat(path, "\"]", sizeof path - strlen(path) - 1);
            s2l_attr_policy p = rm->policies.unmapped;
            if (p == S2L_POLICY_REJECT) {
                s2l_notes_add(w->notes, "rejected", path);
                s2l_error_set(w->err, 400, S2L_SCIM_INVALID_SYNTAX, "this server does not store %s", path);
                rc = -2;
                goto out;
            }
            s2l_notes_add(w->notes, p == S2L_POLICY_KEEP ? "kept" : "ignored", path);
            if (p != S2L_POLICY_KEEP)
                continue;
        }
        if (json_array_append(left, (json_t *)elem) < 0) {
            rc = w_oom(w);
            goto out;
        }
    }
    rc = rest_set(w, first, json_array_size(left) ? json_incref(left) : NULL);
out:
    json_decref(list);
    json_decref(left);
    free(taken);
    return rc;
}

/* The LDAP form of a referenced id: its DN, or its RDN value. NULL + *err when
 * id is unknown (unless lenient) or on allocation failure. */
static char *ref_ldap_value(const s2l_rmap *rm, const s2l_mentry *me, const char *id, const json_t *ids,
                            bool lenient, s2l_error *err)
{
    const char *dn = json_string_value(json_object_get(ids, id));
    char *attr = NULL, *val = NULL;

    if (dn == NULL) {
        if (lenient)
            return strdup(UNRESOLVED_MARK);
        s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "%s: no %s with id \"%s\"", me->attr,
                      me->n_ref_types == 1 ? me->ref_types[0] : "resource", id);
        return NULL;
    }
    if (!me->ref_rdn) {
        char *copy = strdup(dn);
        if (copy == NULL)
            s2l_error_set(err, 500, NULL, "out of memory");
        return copy;
    }
    if (s2l_dn_first_rdn(dn, &attr, &val, NULL) < 0) {
        s2l_error_set(err, 500, NULL, "%s: cannot read the RDN of \"%s\" (%s)", rm->name, dn, me->attr);
        return NULL;
    }
    free(attr);
    return val;
}

/* Sub-attributes of a reference value beyond what the reference renders
 * (value, $ref, type, display): present only when the unknown-attributes
 * policy kept them (Azure's members[].displayName). */
static json_t *ref_extras(const json_t *elem, const char *id)
{
    const char *k;
    json_t *v;
    json_t *out = NULL;

    if (!json_is_object(elem))
        return NULL;
    json_object_foreach((json_t *)elem, k, v) {
        if (strcasecmp(k, "value") == 0 || strcasecmp(k, "$ref") == 0 || strcasecmp(k, "type") == 0 ||
            strcasecmp(k, "display") == 0 || json_is_null(v))
            continue;
        if (out == NULL && (out = json_pack("{s:s}", "value", id)) == NULL)
            return NULL;
        json_object_set(out, k, v);
    }
    return out;
}

/* The kept item of one member: {"<attr>": {...}} as mapping_keep.c writes it. */
static char *item_text_of(const char *attr, json_t *value)
{
    json_t *o = json_object();
    char *text = NULL;

    if (o != NULL && json_object_set(o, attr, value) == 0)
        text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return text;
}

static int ref_attrs(wctx *w, json_t *attrs, const s2l_mentry *me, const json_t *resource)
{
    const s2l_rmap *rm = w->rm;
    const json_t *v = scim_value(me, resource), *elem;
    json_t *list = json_is_array(v) ? json_incref((json_t *)v) : v ? json_pack("[O]", v) : json_array();
    json_t *seen = json_object(); /* duplicates by hash: member lists can be long */
    json_t *extras = json_array();
    bool keep_unresolved = false;
    size_t i, added = 0;
    int rc = -1;

    if (list == NULL || seen == NULL || extras == NULL) {
        w_oom(w);
        goto out;
    }
    json_array_foreach(list, i, elem) {
        const json_t *idv = json_is_object(elem) ? s2l_map_get_ci(elem, "value") : elem;
        const char *id = json_string_value(idv);
        if (id == NULL || *id == 0)
            continue;
        bool known = json_object_get(w->ids, id) != NULL;
        if (!known && me->top->multi_valued && rm->mapping->skip_unknown_members && !w->lenient) {
            /* a member whose create failed at the IdP: the others still go in */
            s2l_notes_add(w->notes, "skipped_members", id);
            continue;
        }
        if (!known && !me->top->multi_valued && rm->unknown_manager == S2L_POLICY_KEEP) {
            /* not a User id (Okta's free-text managerId): kept and read back as sent */
            if (!w->lenient) {
                char note[512];
                snprintf(note, sizeof note, "%s%s%s=%s", me->in_ext ? me->schema->id : "", me->in_ext ? ":" : "",
                         me->attr, id);
                s2l_notes_add(w->notes, "kept_references", note);
            }
            keep_unresolved = true;
            continue;
        }
        char *lv = ref_ldap_value(rm, me, id, w->ids, w->lenient, w->err);
        if (lv == NULL)
            goto out;
        int arc = 0;
        if (*lv && json_object_get(seen, lv) == NULL) {
            arc = json_object_set_new(seen, lv, json_true());
            if (arc == 0)
                arc = json_array_append_new(values_of(attrs, me->ldap), json_string(lv));
        }
        free(lv);
        json_t *x = known && rm->keep_attr ? ref_extras(elem, id) : NULL;
        if (arc < 0 || (x != NULL && json_array_append_new(extras, x) < 0)) {
            w_oom(w);
            goto out;
        }
        added++;
    }
    if (added == 0 && me->has_placeholder) {
        /* not add_value: the placeholder may be the empty DN, which add_value would drop */
        json_t *arr = values_of(attrs, me->ldap);
        if (arr == NULL || json_array_append_new(arr, json_string(me->placeholder)) < 0) {
            w_oom(w);
            goto out;
        }
    }
    if (keep_unresolved || v == NULL)
        rc = 0; /* the whole value stays in the residual (or there is none) */
    else if (me->top->multi_valued && json_array_size(extras) > 0)
        rc = rest_set(w, me, json_incref(extras));
    else
        rc = rest_drop(w, me);
out:
    json_decref(list);
    json_decref(seen);
    json_decref(extras);
    return rc;
}

/* The residual without what is never stored: the server's own attributes,
 * the type's schema URNs and empty containers. */
static void rest_finish(const s2l_rmap *rm, json_t *rest)
{
    const char *k;
    json_t *v;
    void *tmp;

    json_object_foreach_safe(rest, tmp, k, v) {
        if (strcasecmp(k, "id") == 0 || strcasecmp(k, "meta") == 0) {
            json_object_del(rest, k);
        } else if (strcasecmp(k, "schemas") == 0) {
            json_t *kept = json_array();
            size_t i;
            json_t *u;
            json_array_foreach(v, i, u) {
                const char *urn = json_string_value(u);
                bool own = urn == NULL || s2l_schema_is(rm->core, urn);
                for (size_t e = 0; !own && e < rm->n_ext; e++)
                    own = s2l_schema_is(rm->ext[e], urn);
                if (!own)
                    json_array_append(kept, u);
            }
            if (kept != NULL && json_array_size(kept) > 0)
                json_object_set_new(rest, k, kept);
            else {
                json_decref(kept);
                json_object_del(rest, k);
            }
        } else if ((json_is_object(v) && json_object_size(v) == 0) || json_is_null(v) ||
                   (json_is_array(v) && json_array_size(v) == 0)) {
            json_object_del(rest, k);
        }
    }
}

json_t *s2l_map_ldap_attrs_noted(const s2l_rmap *rm, const json_t *resource, const json_t *ids, bool lenient,
                                 json_t *notes, s2l_error *err)
{
    json_t *attrs = json_object();
    const s2l_attr_def **done = calloc(rm->n_entries + 1, sizeof *done);
    s2l_error scratch;
    wctx w = {.rm = rm, .ids = ids, .lenient = lenient, .notes = lenient ? NULL : notes, .err = err};
    int rc = 0;

    if (err == NULL)
        w.err = err = &scratch;
    s2l_error_clear(err);

    w.rest = rest_start(rm, resource);
    if (attrs == NULL || done == NULL || w.rest == NULL) {
        s2l_error_set(err, 500, NULL, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < rm->n_entries && rc == 0; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->read_only) {
            if (me->attr != NULL && scim_value(me, resource) != NULL)
                rc = rest_drop(&w, me);
            continue;
        }
        switch (me->kind) {
        case S2L_ME_SIMPLE:
            rc = simple_attrs(&w, attrs, me, resource);
            break;
        case S2L_ME_MULTI: {
            bool seen = false;
            size_t n = 0;
            for (; done[n] != NULL; n++)
                seen = seen || done[n] == me->top;
            if (!seen) {
                done[n] = me->top;
                rc = multi_group(&w, attrs, me, resource);
            }
            break;
        }
        case S2L_ME_REFERENCE:
            rc = ref_attrs(&w, attrs, me, resource);
            break;
        case S2L_ME_DERIVED: {
            bool d;
            rc = add_template(attrs, me, resource, &d);
            const json_t *vals = s2l_map_get_ci(attrs, me->ldap);
            const char *text = json_string_value(json_array_get(vals, json_array_size(vals) - 1));
            if (rc == 0 && d && !lenient && text != NULL &&
                !s2l_ldap_value_fits(s2l_ldap_syntax_of(me->ldap), text, strlen(text))) {
                s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE,
                              "the value of LDAP attribute %s made from template \"%s\" is not a valid %s; "
                              "change the attributes it uses", me->ldap, me->templates[0].text,
                              s2l_ldap_syntax_name(s2l_ldap_syntax_of(me->ldap)));
                rc = -2;
            }
            break;
        }
        case S2L_ME_CONSTANT:
            for (size_t k = 0; k < me->n_constants && rc == 0; k++)
                rc = add_value(attrs, me->ldap, me->constants[k], strlen(me->constants[k]));
            break;
        }
    }
    if (rc < 0 && err->status != 0)
        goto fail;
    if (rc < 0) {
        s2l_error_set(err, 500, NULL, "out of memory");
        goto fail;
    }
    /* What no entry stores goes to the keep attribute, as JSON texts. */
    rest_finish(rm, w.rest);
    if (rm->keep_attr != NULL && json_object_size(w.rest) > 0) {
        json_t *vals = values_of(attrs, rm->keep_attr);
        if (vals == NULL || s2l_keep_serialize(rm, w.rest, vals) < 0) {
            s2l_error_set(err, 500, NULL, "out of memory");
            goto fail;
        }
    }
    /* attributes that ended up without values are "absent" */
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(attrs, tmp, k, v) {
        if (json_array_size(v) == 0)
            json_object_del(attrs, k);
        else if (json_array_size(v) > SCAN_MAX && s2l_map_dedupe_strings(v) < 0)
            goto oom;
    }
    json_decref(w.rest);
    free(done);
    return attrs;
oom:
    s2l_error_set(err, 500, NULL, "out of memory");
fail:
    json_decref(w.rest);
    json_decref(attrs);
    free(done);
    return NULL;
}

json_t *s2l_map_ldap_attrs(const s2l_rmap *rm, const json_t *resource, const json_t *ids, bool lenient,
                           s2l_error *err)
{
    return s2l_map_ldap_attrs_noted(rm, resource, ids, lenient, NULL, err);
}

json_t *s2l_rmap_to_ldap(const s2l_rmap *rm, const json_t *resource, const json_t *ids, s2l_error *err)
{
    json_t *attrs = NULL, *oc = NULL, *out = NULL, *notes = json_object();
    char *rdn = NULL, *raw = NULL, *dn = NULL;
    s2l_strbuf b = {0};

    const char *container = rm->base_dn;
    attrs = notes ? s2l_map_ldap_attrs_noted(rm, resource, ids, false, notes, err) : NULL;
    if (attrs == NULL) {
        if (notes == NULL)
            s2l_error_set(err, 500, NULL, "out of memory");
        goto out;
    }
    if (s2l_dp_create_attrs(rm, resource, attrs, &container, err) < 0)
        goto fail;
    rdn = s2l_map_rdn(rm, resource, &raw, err);
    if (rdn == NULL || s2l_map_check_rdn(rm, rdn, err) < 0)
        goto fail;
    /* LDAP refuses an entry whose naming value is not among its attribute values. */
    if (add_value(attrs, rm->rdn_attr, raw, strlen(raw)) < 0)
        goto oom;
    oc = json_array();
    if (oc == NULL)
        goto oom;
    for (size_t i = 0; i < rm->n_object_classes; i++)
        if (json_array_append_new(oc, json_string(rm->object_classes[i])) < 0)
            goto oom;
    s2l_sb_adds(&b, rdn);
    s2l_sb_adds(&b, ",");
    s2l_sb_adds(&b, container);
    if ((dn = s2l_sb_take(&b)) == NULL)
        goto oom;
    /* objectClass first: easier to read in logs and LDIF dumps */
    json_t *ordered = json_object();
    if (ordered == NULL || json_object_set(ordered, "objectClass", oc) < 0 ||
        json_object_update(ordered, attrs) < 0) {
        json_decref(ordered);
        goto oom;
    }
    out = json_pack("{s:s, s:o}", "dn", dn, "attrs", ordered);
    if (out == NULL || (json_object_size(notes) > 0 && json_object_set(out, "notes", notes) < 0))
        goto oom;
    goto out;
oom:
    s2l_error_set(err, 500, NULL, "out of memory");
fail:
    json_decref(out);
    out = NULL;
out:
    json_decref(attrs);
    json_decref(notes);
    json_decref(oc);
    free(rdn);
    free(raw);
    free(dn);
    return out;
}

/* ---- updates ---- */

static bool same_set(const json_t *a, const json_t *b)
{
    size_t i, k;
    const json_t *x, *y;

    if (json_array_size(a) != json_array_size(b))
        return false;
    /* Long lists of strings (what LDAP values are) by hashing, not n². */
    if (json_array_size(a) > SCAN_MAX) {
        int within = s2l_map_strings_within(a, b);
        if (within >= 0)
            return within == 1;
    }
    json_array_foreach(a, i, x) {
        bool found = false;
        json_array_foreach(b, k, y) {
            if (json_equal(x, y)) {
                found = true;
                break;
            }
        }
        if (!found)
            return false;
    }
    return true;
}

static bool is_server_attr(const s2l_rmap *rm, const char *a)
{
    const char *const fixed[] = {"objectClass", rm->id_attr, rm->created_attr, rm->modified_attr,
                                 rm->version_attr, rm->rdn_attr};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (fixed[i] && strcasecmp(fixed[i], a) == 0)
            return true;
    return false;
}

/* Every LDAP attribute the mapping writes, in mapping order, each once
 * (computed once at load: rm->written_names). */
int s2l_map_written_attrs(const s2l_rmap *rm, json_t *names)
{
    for (size_t i = 0; i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->read_only)
            continue;
        for (size_t k = 0; k <= 2 * me->n_subs; k++) {
            const char *a = k == 2 * me->n_subs ? (me->write_key ? me->write_key : me->ldap)
                            : k % 2 ? me->subs[k / 2].also : me->subs[k / 2].ldap;
            if (a == NULL)
                continue;
            bool seen = false;
            size_t j;
            json_t *e;
            json_array_foreach(names, j, e) {
                seen = seen || strcasecmp(json_string_value(e), a) == 0;
            }
            if (!seen && json_array_append_new(names, json_string(a)) < 0)
                return -1;
        }
    }
    if (rm->keep_attr != NULL && json_array_append_new(names, json_string(rm->keep_attr)) < 0)
        return -1;
    return 0;
}

/* The keep attribute changes item by item (the plan never sees the items
 * of delta attributes, which member changes manage): delete what went, add
 * what came. */
static int keep_mods(const s2l_rmap *rm, const json_t *ov, const json_t *nv, json_t *mods)
{
    json_t *del = json_array(), *add = json_array();
    size_t i, k;
    json_t *x, *y;
    int rc = -1;

    if (del == NULL || add == NULL)
        goto out;
    for (int side = 0; side < 2; side++) {
        const json_t *from = side ? nv : ov, *other = side ? ov : nv;
        json_array_foreach((json_t *)from, i, x) {
            bool found = false;
            if (s2l_keep_item_is_delta(rm, json_string_value(x), NULL, NULL))
                continue;
            json_array_foreach((json_t *)other, k, y) {
                found = found || json_equal(x, y);
            }
            if (!found && json_array_append(side ? add : del, x) < 0)
                goto out;
        }
    }
    if (json_array_size(del) > 0) {
        json_t *mod = json_pack("{s:s, s:s, s:O}", "op", "delete", "attr", rm->keep_attr, "values", del);
        if (mod == NULL || json_array_append_new(mods, mod) < 0)
            goto out;
    }
    if (json_array_size(add) > 0) {
        json_t *mod = json_pack("{s:s, s:s, s:O}", "op", "add", "attr", rm->keep_attr, "values", add);
        if (mod == NULL || json_array_append_new(mods, mod) < 0)
            goto out;
    }
    rc = 0;
out:
    json_decref(del);
    json_decref(add);
    return rc;
}

const char *s2l_map_bool_opposite(const s2l_mentry *me)
{
    if (me == NULL || !me->is_bool || me->boolean.absent == -1 || me->boolean.other != me->boolean.absent)
        return NULL;
    return me->boolean.absent ? me->boolean.when_false : me->boolean.when_true;
}

/* The attributes an update must not touch: delta attributes (members change
 * only through s2l_rmap_delta_mods, never by rewriting the list), and those
 * the new resource says nothing about: write-only attributes not sent again
 * (the password stays) and booleans whose LDAP form has no "absent" (an
 * omitted active must not unlock) — the entries in pa->cond. */
int s2l_map_put_attrs_build(s2l_rmap *rm)
{
    size_t n = json_array_size(rm->written_names), i;
    json_t *e;
    rm->n_put_attrs = 0;
    if ((rm->put_attrs = calloc(n ? n : 1, sizeof *rm->put_attrs)) == NULL)
        return -1;
    json_array_foreach(rm->written_names, i, e) {
        const char *a = json_string_value(e);
        if (is_server_attr(rm, a) || (rm->keep_attr != NULL && strcasecmp(a, rm->keep_attr) == 0))
            continue;
        s2l_put_attr *pa = &rm->put_attrs[rm->n_put_attrs];
        *pa = (s2l_put_attr){.attr = a};
        bool skip = false;
        for (size_t x = 0; x < rm->n_entries && !skip; x++) {
            const s2l_mentry *me = &rm->entries[x];
            const char *key = me->write_key ? me->write_key : me->ldap;
            if (key == NULL || me->read_only || strcasecmp(key, a) != 0)
                continue;
            skip = me->delta || me->create_only;
            if (!skip && (me->write_only || (me->is_bool && me->boolean.absent != -1))) {
                const s2l_mentry **more = realloc(pa->cond, (pa->n_cond + 1) * sizeof *more);
                if (more == NULL) {
                    free(pa->cond);
                    return -1;
                }
                pa->cond = more;
                pa->cond[pa->n_cond++] = me;
            }
            if (pa->opposite == NULL)
                pa->opposite = s2l_map_bool_opposite(me);
        }
        if (skip) {
            free(pa->cond);
            continue;
        }
        if ((pa->clear = json_pack("{s:s, s:s, s:[]}", "op", "replace", "attr", a, "values")) == NULL) {
            free(pa->cond);
            return -1;
        }
        rm->n_put_attrs++;
    }
    return 0;
}

void s2l_map_put_attrs_free(s2l_rmap *rm)
{
    for (size_t i = 0; i < rm->n_put_attrs; i++) {
        json_decref(rm->put_attrs[i].clear);
        free(rm->put_attrs[i].cond);
    }
    free(rm->put_attrs);
    rm->put_attrs = NULL;
    rm->n_put_attrs = 0;
}

/* Whether an update leaves pa alone for new_resource (see s2l_map_put_attrs_build). */
static bool put_attr_alone(const s2l_put_attr *pa, const json_t *new_resource)
{
    for (size_t c = 0; c < pa->n_cond; c++)
        if (scim_value(pa->cond[c], new_resource) == NULL)
            return true;
    return false;
}

/* What s2l_rmap_plan_update_entry sends for an attribute it finds changed,
 * for every one: a PUT planned without the stored entry (put_direct.c). */
int s2l_map_replace_all_mods(const s2l_rmap *rm, const json_t *a_new, const json_t *new_resource, json_t *mods)
{
    for (size_t i = 0; i < rm->n_put_attrs; i++) {
        const s2l_put_attr *pa = &rm->put_attrs[i];
        if (put_attr_alone(pa, new_resource))
            continue;
        json_t *nv = s2l_map_get_ci(a_new, pa->attr);
        const char *opposite = json_array_size(nv) == 0 ? pa->opposite : NULL;
        if (json_array_size(nv) == 0 && opposite == NULL) {
            if (json_array_append(mods, pa->clear) < 0)
                return -1;
            continue;
        }
        json_t *mod = opposite ? json_pack("{s:s, s:s, s:[s]}", "op", "delete", "attr", pa->attr, "values", opposite)
                               : json_pack("{s:s, s:s, s:O}", "op", "replace", "attr", pa->attr, "values", nv);
        if (mod == NULL || json_array_append_new(mods, mod) < 0)
            return -1;
    }
    return 0;
}

json_t *s2l_rmap_plan_update(const s2l_rmap *rm, const json_t *old_resource, const json_t *new_resource,
                             const json_t *ids, s2l_error *err)
{
    return s2l_rmap_plan_update_entry(rm, NULL, old_resource, new_resource, ids, err);
}

json_t *s2l_rmap_plan_update_entry(const s2l_rmap *rm, const json_t *entry, const json_t *old_resource,
                                   const json_t *new_resource, const json_t *ids, s2l_error *err)
{
    const char *newsuperior = NULL;
    json_t *a_old = NULL, *a_new = NULL, *mods = NULL, *plan = NULL, *empty = NULL;
    json_t *notes = json_object();
    char *rdn_old = NULL, *rdn_new = NULL;
    s2l_error ignored = {0};

    if (notes == NULL)
        goto oom;
    a_new = s2l_map_ldap_attrs_noted(rm, new_resource, ids, false, notes, err);
    if (a_new == NULL)
        goto out;
    a_old = s2l_map_ldap_attrs(rm, old_resource, ids, true, err);
    if (a_old == NULL)
        goto out;
    rdn_new = s2l_map_rdn(rm, new_resource, NULL, err);
    if (rdn_new == NULL)
        goto out;
    rdn_old = s2l_map_rdn(rm, old_resource, NULL, &ignored);
    /* Only a new name must fit: an entry the directory already holds keeps its own. */
    if ((rdn_old == NULL || strcmp(rdn_old, rdn_new) != 0) && s2l_map_check_rdn(rm, rdn_new, err) < 0)
        goto out;
    mods = json_array();
    empty = json_array();
    if (mods == NULL || empty == NULL)
        goto oom;
    /* every written attribute in mapping order (rm->put_attrs), the keep attribute last */
    for (size_t i = 0; i < rm->n_put_attrs; i++) {
        const s2l_put_attr *pa = &rm->put_attrs[i];
        if (put_attr_alone(pa, new_resource))
            continue;
        json_t *ov = s2l_map_get_ci(a_old, pa->attr), *nv = s2l_map_get_ci(a_new, pa->attr);
        if (same_set(ov ? ov : empty, nv ? nv : empty))
            continue;
        json_t *mod = json_pack("{s:s, s:s, s:O}", "op", "replace", "attr", pa->attr, "values", nv ? nv : empty);
        if (mod == NULL || json_array_append_new(mods, mod) < 0)
            goto oom;
    }
    if (rm->keep_attr != NULL) {
        json_t *ov = s2l_map_get_ci(a_old, rm->keep_attr), *nv = s2l_map_get_ci(a_new, rm->keep_attr);
        if (!same_set(ov ? ov : empty, nv ? nv : empty) && keep_mods(rm, ov ? ov : empty, nv ? nv : empty, mods) < 0)
            goto oom;
    }
    /* after the attributes: a password set in the same request comes before enabling */
    if (s2l_dp_plan_active(rm, entry, new_resource, mods, &newsuperior, err) < 0)
        goto out;
    plan = json_pack("{s:o, s:O}", "newrdn",
                     rdn_old && strcmp(rdn_old, rdn_new) == 0 ? json_null() : json_string(rdn_new), "mods", mods);
    if (plan == NULL || (newsuperior && json_object_set_new(plan, "newsuperior", json_string(newsuperior)) < 0) ||
        (json_object_size(notes) > 0 && json_object_set(plan, "notes", notes) < 0))
        goto oom;
    goto out;
oom:
    s2l_error_set(err, 500, NULL, "out of memory");
    json_decref(plan);
    plan = NULL;
out:
    json_decref(a_old);
    json_decref(a_new);
    json_decref(mods);
    json_decref(empty);
    json_decref(notes);
    free(rdn_old);
    free(rdn_new);
    return plan;
}

/* ---- deltas ---- */

static const s2l_mentry *delta_entry(const s2l_rmap *rm, const char *attr)
{
    for (size_t i = 0; attr && i < rm->n_entries; i++)
        if (rm->entries[i].delta && strcasecmp(rm->entries[i].attr, attr) == 0)
            return &rm->entries[i];
    return NULL;
}

static int append_mod(json_t *mods, const char *op, const char *attr, json_t *values)
{
    json_t *mod = json_pack("{s:s, s:s, s:O}", "op", op, "attr", attr, "values", values);
    return mod ? json_array_append_new(mods, mod) : -1;
}

/* LDAP values for the ids in list (objects with "value"); unknown ids are an
 * error when must_exist, else skipped. */
static json_t *delta_values(const s2l_rmap *rm, const s2l_mentry *me, const json_t *list, const json_t *ids,
                            bool must_exist, s2l_error *err)
{
    /* A full member list can hold 100,000 ids: duplicates via a hash set. */
    json_t *vals = json_array(), *seen = json_object(), *elem;
    size_t i;

    if (vals == NULL || seen == NULL)
        goto oom;
    json_array_foreach((json_t *)list, i, elem) {
        const json_t *idv = json_is_object(elem) ? s2l_map_get_ci(elem, "value") : elem;
        const char *id = json_string_value(idv);
        if (id == NULL || *id == 0) {
            s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "%s: a value without \"value\"", me->attr);
            goto fail;
        }
        if (!must_exist && json_object_get(ids, id) == NULL)
            continue;
        char *lv = ref_ldap_value(rm, me, id, ids, false, err);
        if (lv == NULL)
            goto fail;
        int rc = 0;
        if (json_object_get(seen, lv) == NULL) {
            rc = json_object_set_new(seen, lv, json_true());
            if (rc == 0)
                rc = json_array_append_new(vals, json_string(lv));
        }
        free(lv);
        if (rc < 0)
            goto oom;
    }
    json_decref(seen);
    return vals;
oom:
    s2l_error_set(err, 500, NULL, "out of memory");
fail:
    json_decref(vals);
    json_decref(seen);
    return NULL;
}

int s2l_rmap_delta_mods(const s2l_rmap *rm, const json_t *deltas, const json_t *ids, unsigned ph_flags,
                        json_t *mods, s2l_error *err)
{
    size_t i;
    json_t *d, *add = NULL, *rem = NULL, *ph = NULL;
    int rc = -1;

    json_array_foreach((json_t *)deltas, i, d) {
        const s2l_mentry *me = delta_entry(rm, json_string_value(json_object_get(d, "attr")));
        if (me == NULL) {
            s2l_error_set(err, 500, NULL, "%s: \"%s\" is not a delta attribute", rm->name,
                          json_string_value(json_object_get(d, "attr")) ? json_string_value(json_object_get(d, "attr")) : "?");
            goto out;
        }
        const json_t *jadd = json_object_get(d, "add"), *jrem = json_object_get(d, "remove");
        add = delta_values(rm, me, jadd, ids, !rm->mapping->skip_unknown_members, err);
        rem = add ? delta_values(rm, me, jrem, ids, false, err) : NULL;
        ph = me->has_placeholder ? json_pack("[s]", me->placeholder) : json_array();
        if (add == NULL || rem == NULL)
            goto out;
        if (ph == NULL)
            goto oom;
        if (json_is_true(json_object_get(d, "replace_all"))) {
            if (append_mod(mods, "replace", me->ldap, json_array_size(add) ? add : ph) < 0)
                goto oom;
        } else {
            /* placeholder first on removal, so the group is never left without a member */
            bool ph_add = json_array_size(rem) && json_array_size(ph) && (ph_flags & S2L_PH_ADD_ON_REMOVE);
            bool ph_del = json_array_size(add) && json_array_size(ph) && (ph_flags & S2L_PH_DELETE_ON_ADD);
            if (ph_add && append_mod(mods, "add", me->ldap, ph) < 0)
                goto oom;
            if (json_array_size(add) && append_mod(mods, "add", me->ldap, add) < 0)
                goto oom;
            if (json_array_size(rem) && append_mod(mods, "delete", me->ldap, rem) < 0)
                goto oom;
            if (ph_del && append_mod(mods, "delete", me->ldap, ph) < 0)
                goto oom;
        }
        json_decref(add);
        json_decref(rem);
        json_decref(ph);
        add = rem = ph = NULL;
    }
    rc = 0;
    goto out;
oom:
    s2l_error_set(err, 500, NULL, "out of memory");
out:
    json_decref(add);
    json_decref(rem);
    json_decref(ph);
    return rc;
}

/* ---- ids to resolve ---- */

/* seen is a hash set: a full member list can hold 100,000 ids. */
static int add_unique_string(json_t *arr, json_t *seen, const char *s)
{
    if (s == NULL || *s == 0 || json_object_get(seen, s))
        return 0;
    if (json_object_set_new(seen, s, json_true()) < 0)
        return -1;
    return json_array_append_new(arr, json_string(s));
}

json_t *s2l_rmap_ref_ids(const s2l_rmap *rm, const json_t *resource)
{
    json_t *out = json_array();
    json_t *seen = json_object();
    if (seen == NULL)
        goto fail;

    for (size_t i = 0; out && i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->kind != S2L_ME_REFERENCE || me->read_only)
            continue;
        const json_t *v = scim_value(me, resource), *elem;
        size_t k;
        if (json_is_array(v)) {
            json_array_foreach(v, k, elem) {
                const json_t *idv = json_is_object(elem) ? s2l_map_get_ci(elem, "value") : elem;
                if (add_unique_string(out, seen, json_string_value(idv)) < 0)
                    goto fail;
            }
        } else if (v != NULL) {
            const json_t *idv = json_is_object(v) ? s2l_map_get_ci(v, "value") : v;
            if (add_unique_string(out, seen, json_string_value(idv)) < 0)
                goto fail;
        }
    }
    json_decref(seen);
    return out;
fail:
    json_decref(out);
    json_decref(seen);
    return NULL;
}

char *s2l_rmap_placeholder_filter(const s2l_rmap *rm)
{
    for (size_t i = 0; i < rm->n_entries; i++) {
        const s2l_mentry *me = &rm->entries[i];
        if (me->kind != S2L_ME_REFERENCE || !me->has_placeholder)
            continue;
        return s2l_ldap_eq_filter(me->ldap, me->placeholder);
    }
    return NULL;
}

/* ---- policies around member changes ---- */

int s2l_rmap_check_deltas(const s2l_rmap *rm, const json_t *deltas, const json_t *ids, json_t *notes,
                          s2l_error *err)
{
    size_t i, k;
    json_t *d, *v;
    json_t *unknown = json_array();

    if (unknown == NULL) {
        s2l_error_set(err, 500, NULL, "out of memory");
        return -1;
    }
    json_array_foreach((json_t *)deltas, i, d) {
        json_array_foreach(json_object_get(d, "add"), k, v) {
            const json_t *id = json_is_object(v) ? s2l_map_get_ci(v, "value") : v;
            if (json_is_string(id) && json_object_get(ids, json_string_value(id)) == NULL)
                json_array_append(unknown, (json_t *)id);
        }
    }
    if (json_array_size(unknown) > 0 && !rm->mapping->skip_unknown_members) {
        s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "members: no resource with id \"%s\"%s",
                      json_string_value(json_array_get(unknown, 0)),
                      json_array_size(unknown) > 1 ? " (and others)" : "");
        json_decref(unknown);
        return -1;
    }
    json_array_foreach(unknown, i, v) s2l_notes_add(notes, "skipped_members", json_string_value(v));
    json_decref(unknown);
    return 0;
}

/* Kept member items of entry, by folded id: {"<id>": ["<text>", ...]}. */
static json_t *kept_member_items(const s2l_rmap *rm, const json_t *entry, const char *attr)
{
    json_t *out = json_object();
    const json_t *vals = rm->keep_attr ? s2l_map_entry_values(entry, rm->keep_attr) : NULL;
    json_t *list = json_is_string(vals) ? json_pack("[O]", vals) : json_incref((json_t *)vals);
    size_t i;
    json_t *t;

    json_array_foreach(list, i, t) {
        const char *a = NULL;
        json_t *item = NULL;
        if (!s2l_keep_item_is_delta(rm, json_string_value(t), &a, &item))
            continue;
        const char *id = json_string_value(s2l_map_get_ci(item, "value"));
        if (strcasecmp(a, attr) == 0 && id != NULL && out != NULL) {
            char *key = strdup(id);
            for (char *p = key; p && *p; p++)
                *p = (char)tolower((unsigned char)*p);
            json_t *arr = key ? json_object_get(out, key) : NULL;
            if (key && arr == NULL) {
                arr = json_array();
                json_object_set_new(out, key, arr);
            }
            json_array_append(arr, t);
            free(key);
        }
        json_decref(item);
    }
    json_decref(list);
    return out;
}

static int append_values_mod(json_t *mods, const char *op, const char *attr, json_t *values)
{
    if (json_array_size(values) == 0)
        return 0;
    json_t *mod = json_pack("{s:s, s:s, s:O}", "op", op, "attr", attr, "values", values);
    return mod ? json_array_append_new(mods, mod) : -1;
}

int s2l_rmap_delta_kept_mods(const s2l_rmap *rm, const json_t *deltas, const json_t *entry, json_t *mods,
                             s2l_error *err)
{
    size_t i;
    json_t *d;
    int rc = -1;

    if (rm->keep_attr == NULL)
        return 0;
    json_array_foreach((json_t *)deltas, i, d) {
        const char *attr = json_string_value(json_object_get(d, "attr"));
        json_t *old = attr ? kept_member_items(rm, entry, attr) : NULL;
        json_t *del = json_array(), *add = json_array();
        const char *key;
        json_t *texts, *v;
        size_t k;
        if (old == NULL || del == NULL || add == NULL)
            goto next_oom;
        /* replace_all: every kept item goes; otherwise those of the ids touched */
        json_object_foreach(old, key, texts) {
            bool touched = json_is_true(json_object_get(d, "replace_all"));
            const char *lists[] = {"add", "remove"};
            for (size_t l = 0; l < 2 && !touched; l++) {
                json_array_foreach(json_object_get(d, lists[l]), k, v) {
                    const char *id = json_string_value(json_is_object(v) ? s2l_map_get_ci(v, "value") : v);
                    touched = touched || (id && strcasecmp(id, key) == 0);
                }
            }
            if (touched)
                json_array_extend(del, texts);
        }
        json_array_foreach(json_object_get(d, "add"), k, v) {
            const char *id = json_string_value(json_is_object(v) ? s2l_map_get_ci(v, "value") : v);
            json_t *x = id ? ref_extras(v, id) : NULL;
            if (x == NULL)
                continue;
            char *text = item_text_of(attr, x);
            json_decref(x);
            if (text == NULL)
                goto next_oom;
            /* the same text deleted and added: leave it alone */
            bool same = false;
            for (size_t j = json_array_size(del); j-- > 0;) {
                if (strcmp(json_string_value(json_array_get(del, j)), text) == 0) {
                    json_array_remove(del, j);
                    same = true;
                }
            }
            if (!same)
                json_array_append_new(add, json_string(text));
            free(text);
        }
        if (append_values_mod(mods, "delete", rm->keep_attr, del) < 0 ||
            append_values_mod(mods, "add", rm->keep_attr, add) < 0)
            goto next_oom;
        json_decref(old);
        json_decref(del);
        json_decref(add);
        continue;
next_oom:
        json_decref(old);
        json_decref(del);
        json_decref(add);
        s2l_error_set(err, 500, NULL, "out of memory");
        goto out;
    }
    rc = 0;
out:
    return rc;
}

/* ---- adopting entries made by other tools ---- */

int s2l_rmap_adopt_mods(const s2l_rmap *rm, const json_t *entry, json_t *mods)
{
    const json_t *have = s2l_map_entry_values(entry, "objectClass");
    json_t *missing;
    size_t i;
    json_t *v;

    if (json_array_size(mods) == 0 || have == NULL)
        return 0; /* nothing written, or the classes were not read: nothing to decide */
    missing = json_array();
    if (missing == NULL)
        return -1;
    for (size_t c = 0; c < rm->n_object_classes; c++) {
        bool found = false;
        if (json_is_string(have))
            found = strcasecmp(json_string_value(have), rm->object_classes[c]) == 0;
        json_array_foreach((json_t *)have, i, v) {
            found = found || strcasecmp(json_string_value(v), rm->object_classes[c]) == 0;
        }
        if (!found && json_array_append_new(missing, json_string(rm->object_classes[c])) < 0) {
            json_decref(missing);
            return -1;
        }
    }
    int rc = 0;
    if (json_array_size(missing) > 0) {
        json_t *mod = json_pack("{s:s, s:s, s:O}", "op", "add", "attr", "objectClass", "values", missing);
        rc = mod ? json_array_insert_new(mods, 0, mod) : -1;
    }
    json_decref(missing);
    return rc;
}
