/* mapping_discovery.c — /Schemas and /ResourceTypes from the mapping
 * (see include/s2l/mapping.h). Only what the mapping maps is advertised, with
 * the characteristics the views carry (mapping overrides included), so an IdP
 * never sees an attribute it could send but we could not store. */
#include "mapping_internal.h"

#include <stdlib.h>
#include <string.h>

#define URN_RESOURCE_TYPE "urn:ietf:params:scim:schemas:core:2.0:ResourceType"

/* Appends view's JSON unless a schema with the same id is listed already
 * (two resource types may share an extension). */
static int add_schema(json_t *arr, const s2l_schema *view, const char *base_url)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        if (s2l_schema_is(view, json_string_value(json_object_get(e, "id"))))
            return 0;
    }
    json_t *j = s2l_schema_to_json(view, base_url);
    return j ? json_array_append_new(arr, j) : -1;
}

json_t *s2l_mapping_schemas_json(const s2l_mapping *m, const char *base_url)
{
    json_t *arr = json_array();

    for (size_t r = 0; arr && r < m->n_rmaps; r++) {
        const s2l_rmap *rm = &m->rmaps[r];
        if (add_schema(arr, rm->core_view, base_url) < 0)
            goto fail;
        for (size_t i = 0; i < rm->n_ext; i++)
            if (add_schema(arr, rm->ext_views[i], base_url) < 0)
                goto fail;
    }
    return arr;
fail:
    json_decref(arr);
    return NULL;
}

static json_t *resource_type_json(const s2l_rmap *rm, const char *base_url)
{
    json_t *j = json_pack("{s:[s], s:s, s:s, s:s, s:s}", "schemas", URN_RESOURCE_TYPE, "id", rm->name, "name",
                          rm->name, "endpoint", rm->endpoint, "schema", rm->core->id);
    json_t *exts = json_array(), *meta = json_pack("{s:s}", "resourceType", "ResourceType");
    s2l_strbuf b = {0};
    char *loc = NULL;

    if (j == NULL || exts == NULL || meta == NULL)
        goto fail;
    if (rm->description && json_object_set_new(j, "description", json_string(rm->description)) < 0)
        goto fail;
    for (size_t i = 0; i < rm->n_ext; i++) {
        json_t *e = json_pack("{s:s, s:b}", "schema", rm->ext[i]->id, "required", rm->ext_required[i]);
        if (e == NULL || json_array_append_new(exts, e) < 0)
            goto fail;
    }
    if (rm->n_ext > 0 && json_object_set(j, "schemaExtensions", exts) < 0)
        goto fail;
    if (base_url != NULL) {
        s2l_sb_adds(&b, base_url);
        s2l_sb_adds(&b, "/ResourceTypes/");
        s2l_sb_adds(&b, rm->name);
        if ((loc = s2l_sb_take(&b)) == NULL || json_object_set_new(meta, "location", json_string(loc)) < 0)
            goto fail;
    }
    if (json_object_set(j, "meta", meta) < 0)
        goto fail;
    json_decref(exts);
    json_decref(meta);
    free(loc);
    return j;
fail:
    json_decref(j);
    json_decref(exts);
    json_decref(meta);
    free(loc);
    return NULL;
}

json_t *s2l_mapping_resource_types_json(const s2l_mapping *m, const char *base_url)
{
    json_t *arr = json_array();
    for (size_t r = 0; arr && r < m->n_rmaps; r++) {
        json_t *j = resource_type_json(&m->rmaps[r], base_url);
        if (j == NULL || json_array_append_new(arr, j) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}
