/* test_discovery_required.c — /Schemas and /ResourceTypes say exactly what is
 * enforced. For every resource type of every shipped mapping, the discovery
 * documents are derived (s2l_mapping_schemas_json /
 * s2l_mapping_resource_types_json) and a resource is built from them:
 *
 *  - with only the attributes and extensions marked required, it is accepted
 *    by normalisation and can be written (s2l_rmap_to_ldap): nothing else is
 *    required in effect;
 *  - without any one of them, normalisation refuses it with 400 naming it:
 *    every required attribute is required in effect.
 *
 * (Group.displayName is the case that was wrong: required by RFC 7643 §4.2
 * and by the gateway, while the §8.7.1 schema said "required": false.)
 */
#include "s2l/mapping.h"
#include "s2l/resource.h"
#include "mapping_fixture.h"
#include "unit.h"

static mapping_fixture fx;

/* A value of the type an attribute definition (discovery JSON) announces. */
static json_t *value_for(const json_t *def, bool element);

static json_t *complex_for(const json_t *def)
{
    json_t *obj = json_object();
    size_t i;
    json_t *sub;
    bool any = false;

    json_array_foreach(json_object_get(def, "subAttributes"), i, sub) {
        const char *mut = json_string_value(json_object_get(sub, "mutability"));
        if (json_is_true(json_object_get(sub, "required")) || (!any && strcmp(mut, "readOnly") != 0 &&
                                                                strcmp(json_string_value(json_object_get(sub, "name")), "value") == 0)) {
            json_object_set_new(obj, json_string_value(json_object_get(sub, "name")), value_for(sub, true));
            any = true;
        }
    }
    json_array_foreach(json_object_get(def, "subAttributes"), i, sub) {
        if (!any && strcmp(json_string_value(json_object_get(sub, "mutability")), "readOnly") != 0 &&
            strcmp(json_string_value(json_object_get(sub, "type")), "string") == 0) {
            json_object_set_new(obj, json_string_value(json_object_get(sub, "name")), value_for(sub, true));
            any = true;
        }
    }
    return obj;
}

static json_t *value_for(const json_t *def, bool element)
{
    const char *type = json_string_value(json_object_get(def, "type"));

    if (!element && json_is_true(json_object_get(def, "multiValued"))) {
        json_t *arr = json_array();
        json_array_append_new(arr, value_for(def, true));
        return arr;
    }
    if (strcmp(type, "boolean") == 0)
        return json_true();
    if (strcmp(type, "integer") == 0)
        return json_integer(1000);
    if (strcmp(type, "decimal") == 0)
        return json_real(1.5);
    if (strcmp(type, "dateTime") == 0)
        return json_string("2026-11-23T20:12:00Z");
    if (strcmp(type, "binary") == 0)
        return json_string("QUJD");
    if (strcmp(type, "complex") == 0)
        return complex_for(def);
    return json_string("required-value");
}

static const json_t *schema_json(const json_t *schemas, const char *urn)
{
    size_t i;
    json_t *s;
    json_array_foreach(schemas, i, s) {
        if (strcmp(json_string_value(json_object_get(s, "id")), urn) == 0)
            return s;
    }
    return NULL;
}

/* Adds the required attributes of schema s to container c; returns how many. */
static size_t add_required(const json_t *s, json_t *c)
{
    size_t i, n = 0;
    json_t *a;
    json_array_foreach(json_object_get(s, "attributes"), i, a) {
        if (!json_is_true(json_object_get(a, "required")))
            continue;
        json_object_set_new(c, json_string_value(json_object_get(a, "name")), value_for(a, false));
        n++;
    }
    return n;
}

static void check_type(const s2l_mapping *m, const char *mname, const json_t *rt_json, const json_t *schemas)
{
    const char *name = json_string_value(json_object_get(rt_json, "name"));
    const s2l_rmap *rm = s2l_mapping_find(m, name);
    const json_t *core = schema_json(schemas, json_string_value(json_object_get(rt_json, "schema")));
    json_t *minimal = json_object();
    json_t *schemas_list = json_pack("[O]", json_object_get(rt_json, "schema"));
    s2l_error err = {0};
    size_t n_required;
    size_t i;
    json_t *ext;

    CHECK(rm != NULL && core != NULL);
    if (rm == NULL || core == NULL) {
        json_decref(minimal);
        json_decref(schemas_list);
        return;
    }
    n_required = add_required(core, minimal);
    json_array_foreach(json_object_get(rt_json, "schemaExtensions"), i, ext) {
        if (!json_is_true(json_object_get(ext, "required")))
            continue;
        json_t *c = json_object();
        const json_t *es = schema_json(schemas, json_string_value(json_object_get(ext, "schema")));
        add_required(es, c);
        if (json_object_size(c) == 0) /* a required extension needs something in it */
            json_object_set_new(c, json_string_value(json_object_get(json_array_get(json_object_get(es, "attributes"), 0), "name")),
                                value_for(json_array_get(json_object_get(es, "attributes"), 0), false));
        json_object_set_new(minimal, json_string_value(json_object_get(ext, "schema")), c);
        json_array_append(schemas_list, json_object_get(ext, "schema"));
    }
    json_object_set_new(minimal, "schemas", schemas_list);
    /* something must identify the resource: the RDN comes from a required attribute */
    CHECK(n_required > 0);

    /* only the required ones: accepted and writable */
    json_t *res = s2l_resource_normalize(s2l_rmap_rtype(rm), minimal, S2L_NORM_CREATE, NULL, &err);
    if (res == NULL)
        fprintf(stderr, "%s/%s: the resource with only the required attributes is refused: %s\n", mname, name,
                err.detail);
    CHECK(res != NULL);
    json_t *entry = res ? s2l_rmap_to_ldap(rm, res, NULL, &err) : NULL;
    if (res != NULL && entry == NULL)
        fprintf(stderr, "%s/%s: cannot be written: %s\n", mname, name, err.detail);
    CHECK(entry != NULL);
    json_decref(entry);
    json_decref(res);

    /* each required one missing: refused, naming it */
    const char *k;
    json_t *v;
    json_object_foreach(minimal, k, v) {
        if (strcmp(k, "schemas") == 0)
            continue;
        json_t *less = json_deep_copy(minimal);
        json_object_del(less, k);
        s2l_error_clear(&err);
        res = s2l_resource_normalize(s2l_rmap_rtype(rm), less, S2L_NORM_CREATE, NULL, &err);
        if (res != NULL)
            fprintf(stderr, "%s/%s: \"%s\" is advertised as required but not enforced\n", mname, name, k);
        CHECK(res == NULL && err.status == 400 && strstr(err.detail, k) != NULL);
        json_decref(res);
        json_decref(less);
    }
    json_decref(minimal);
}

static void check_mapping(const s2l_mapping *m, const char *mname)
{
    json_t *schemas = s2l_mapping_schemas_json(m, NULL);
    json_t *types = s2l_mapping_resource_types_json(m, NULL);
    size_t i;
    json_t *rt;

    CHECK(json_array_size(types) > 0);
    json_array_foreach(types, i, rt) check_type(m, mname, rt, schemas);
    json_decref(schemas);
    json_decref(types);
}

int main(void)
{
    if (!mf_init(&fx)) {
        CHECK(false);
        return UNIT_DONE();
    }
    check_mapping(fx.openldap, "openldap");
    check_mapping(fx.posix, "posix");
    check_mapping(fx.variants, "variants");
    check_mapping(fx.strict, "strict");

    /* the case this test exists for */
    json_t *schemas = s2l_mapping_schemas_json(fx.openldap, NULL);
    const json_t *group = schema_json(schemas, S2L_URN_GROUP);
    size_t i;
    json_t *a;
    bool seen = false;
    json_array_foreach(json_object_get(group, "attributes"), i, a) {
        if (strcmp(json_string_value(json_object_get(a, "name")), "displayName") == 0)
            seen = json_is_true(json_object_get(a, "required"));
    }
    CHECK(seen);
    json_decref(schemas);
    mf_fini(&fx);
    return UNIT_DONE();
}
