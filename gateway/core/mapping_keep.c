/* mapping_keep.c — the keep attribute: content that no mapping entry stores,
 * kept as sent (mappings/README.md, "Policies").
 *
 * A resource type with "ldap.keep_attribute" stores its residual (what is
 * left of a resource after every entry took its part: unknown or unmapped
 * attributes kept by policy, values of types no entry stores, a manager that
 * is not a User id, sub-attributes of members the reference cannot render)
 * in that multi-valued LDAP attribute, one JSON text per item:
 *
 *   {"<top-level key>": <value>}         one per key ("adreses", an extension URN, ...)
 *   {"<delta attribute>": {"value": id, ...}}   one per member, so member changes
 *                                        add and delete just their own item
 *
 * Texts are compact with sorted keys, so the same residual always gives the
 * same texts and an update compares them as a set. Reading merges the items
 * back into the rendered resource.
 */
#include "mapping_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_delta_attr(const s2l_rmap *rm, const char *name)
{
    for (size_t i = 0; rm->delta_attrs && rm->delta_attrs[i]; i++)
        if (strcasecmp(rm->delta_attrs[i], name) == 0)
            return true;
    return false;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *s2l_map_json_value_text(const json_t *value)
{
    json_t *o;
    const char **keys = NULL;
    size_t n = 0;
    const char *k;
    json_t *v;
    char *text = NULL;

    if (!json_is_object(value))
        return json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    o = json_object();
    keys = calloc(json_object_size(value) + 1, sizeof *keys);
    if (o == NULL || keys == NULL)
        goto out;
    /* "value" first: "value eq x" becomes the prefix {"value":"x" */
    v = s2l_map_get_ci(value, "value");
    if (v != NULL && !json_is_null(v) && json_object_set(o, "value", v) < 0)
        goto out;
    json_object_foreach((json_t *)value, k, v) {
        if (strcasecmp(k, "value") != 0 && !json_is_null(v))
            keys[n++] = k;
    }
    qsort(keys, n, sizeof *keys, key_cmp);
    for (size_t i = 0; i < n; i++)
        if (json_object_set(o, keys[i], json_object_get(value, keys[i])) < 0)
            goto out;
    text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
    json_decref(o);
    free(keys);
    return text;
}

static int add_text_unique(json_t *vals, char *text)
{
    size_t i;
    json_t *e;

    if (text == NULL)
        return -1;
    json_array_foreach(vals, i, e) {
        if (strcmp(json_string_value(e), text) == 0) {
            free(text);
            return 0;
        }
    }
    int rc = json_array_append_new(vals, json_string(text));
    free(text);
    return rc;
}

static char *item_text(const char *key, json_t *value)
{
    json_t *o = json_object();
    char *text = NULL;

    if (o != NULL && json_object_set(o, key, value) == 0)
        text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return text;
}

int s2l_keep_serialize(const s2l_rmap *rm, const json_t *residual, json_t *vals)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)residual, k, v) {
        if (is_delta_attr(rm, k) && json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) {
                if (add_text_unique(vals, item_text(k, e)) < 0)
                    return -1;
            }
            continue;
        }
        if (add_text_unique(vals, item_text(k, v)) < 0)
            return -1;
    }
    return 0;
}

/* The only member of a kept item (borrowed from item), or NULL. */
static const char *item_key(const json_t *item, json_t **value)
{
    const char *k;
    json_t *v;

    if (!json_is_object(item) || json_object_size(item) != 1)
        return NULL;
    json_object_foreach((json_t *)item, k, v) {
        *value = v;
        return k;
    }
    return NULL;
}

bool s2l_keep_item_is_delta(const s2l_rmap *rm, const char *text, const char **attr_out, json_t **item_out)
{
    json_t *item = text ? json_loads(text, 0, NULL) : NULL;
    json_t *v = NULL;
    const char *k = item_key(item, &v);
    bool yes = false;

    if (k != NULL && is_delta_attr(rm, k) && json_is_object(v)) {
        yes = true;
        if (attr_out != NULL) {
            for (size_t i = 0; rm->delta_attrs[i]; i++)
                if (strcasecmp(rm->delta_attrs[i], k) == 0)
                    *attr_out = rm->delta_attrs[i];
        }
    }
    if (yes && item_out != NULL)
        *item_out = json_incref(v);
    json_decref(item);
    return yes;
}

static bool same_id(const json_t *a, const json_t *b)
{
    return json_is_string(a) && json_is_string(b) && strcasecmp(json_string_value(a), json_string_value(b)) == 0;
}

/* Extra sub-attributes of one member go into the rendered member with that id. */
static int merge_delta_item(json_t *resource, const char *attr, const json_t *v)
{
    json_t *arr = s2l_map_get_ci(resource, attr);
    const json_t *id = s2l_map_get_ci(v, "value");
    size_t i;
    json_t *e;

    json_array_foreach(arr, i, e) {
        if (!same_id(s2l_map_get_ci(e, "value"), id))
            continue;
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            if (s2l_map_get_ci(e, k) == NULL && json_object_set(e, k, x) < 0)
                return -1;
        }
        return 0;
    }
    return 0; /* not a member (any more): nothing to show */
}

static int merge_value(json_t *cont, const char *key, json_t *v)
{
    json_t *cur = s2l_map_get_ci(cont, key);

    if (cur == NULL)
        return json_object_set(cont, key, v);
    if (json_is_object(cur) && json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            if (merge_value(cur, k, x) < 0)
                return -1;
        }
        return 0;
    }
    if (json_is_array(cur) && json_is_array(v))
        return json_array_extend(cur, v);
    return 0; /* what the mapping renders wins */
}

static int add_schema_urn(json_t *resource, const char *urn)
{
    json_t *schemas = json_object_get(resource, "schemas");
    size_t i;
    json_t *e;

    if (!json_is_array(schemas))
        return 0;
    json_array_foreach(schemas, i, e) {
        if (strcasecmp(json_string_value(e), urn) == 0)
            return 0;
    }
    return json_array_append_new(schemas, json_string(urn));
}

int s2l_keep_merge(const s2l_rmap *rm, const json_t *entry, json_t *resource)
{
    const json_t *vals;
    json_t *list;
    size_t i;
    json_t *t;
    int rc = 0;

    if (rm->keep_attr == NULL || (vals = s2l_map_entry_values(entry, rm->keep_attr)) == NULL)
        return 0;
    list = json_is_string(vals) ? json_pack("[O]", vals) : json_incref((json_t *)vals);
    if (list == NULL)
        return -1;
    json_array_foreach(list, i, t) {
        json_t *item = json_is_string(t) ? json_loads(json_string_value(t), 0, NULL) : NULL;
        json_t *v = NULL;
        const char *k = item_key(item, &v);
        if (k == NULL) {
            json_decref(item); /* not ours: another tool wrote it */
            continue;
        }
        if (strcmp(k, "schemas") == 0) {
            size_t j;
            json_t *u;
            json_array_foreach(v, j, u) {
                if (json_is_string(u))
                    rc |= add_schema_urn(resource, json_string_value(u));
            }
        } else if (is_delta_attr(rm, k) && json_is_object(v)) {
            rc |= merge_delta_item(resource, k, v);
        } else {
            rc |= merge_value(resource, k, v);
            if (strncasecmp(k, "urn:", 4) == 0 && json_is_object(v))
                rc |= add_schema_urn(resource, k);
        }
        json_decref(item);
        if (rc < 0)
            break;
    }
    json_decref(list);
    return rc < 0 ? -1 : 0;
}
