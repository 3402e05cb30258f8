/* fuzz_resource_write.c — libFuzzer target for the write path of a request
 * against the default mapping (mappings/openldap.json): request normalisation
 * (gateway/core/resource.c, json_limits.c), the entry to add, the update plan
 * and group member deltas (mapping_write.c), DN building and escaping
 * (ldap_escape.c).
 *
 * One input is used every way it can be:
 *  - as a POST and a PUT body for User and Group (with the mapping's
 *    policies, as the handlers pass them, and with every policy "reject");
 *    each canonical resource is turned into the entry to add and into the
 *    plan that would update a stored resource to it;
 *  - as a PATCH request against a stored User and Group, whose result is
 *    planned the same way (member deltas, checked against the
 *    unknown_members policy, included);
 *  - as raw bytes, escaped as a DN value and as a filter value.
 * Checks, besides memory safety:
 *  - errors are 400 with a scimType, 413 (size limits) or 500 for lack of memory;
 *  - the entry's DN is "<rdn attr>=<value>,<base DN>", its RDN value (read back)
 *    is one of the entry's values of that attribute, the RDN fits the default
 *    limits.max_rdn_bytes, every value is a string, objectClass is set;
 *  - a plan is {"newrdn": null|string, "mods": [{"op","attr","values":[strings]}]};
 *  - a PUT body planned as one modify (s2l/put_direct.h) on the stored
 *    user's entry, under the name the body gives: never touches objectClass,
 *    the id or the RDN attribute; and where its assumptions ("requires")
 *    hold on that entry, leaves it exactly as the reading path's plan does;
 *  - escaping round-trips: any bytes (NUL included) escaped into a DN come back
 *    as the same bytes; an escaped filter value holds no '*', '(', ')' or NUL
 *    and decodes to the input;
 *  - inputs are never modified.
 * Seeds: tests/fuzz/corpus/resource_write.
 */
#include "s2l/json_limits.h"
#include "s2l/mapping.h"
#include "s2l/put_direct.h"
#include "s2l/resource.h"
#include "../../gateway/core/mapping_internal.h"
#include "../unit/mapping_fixture.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static s2l_mapping *mapping;
static const s2l_rmap *users, *groups;
static json_t *stored_user, *stored_group;
static json_t *stored_user_attrs; /* the stored user's entry as the gateway wrote it (attrs), for PUTs */

static json_t *resolve(const s2l_rmap *rm, const json_t *resource);

static const char user_text[] =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"bjensen\","
    "\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"Jensen\"},\"displayName\":\"Babs\",\"active\":true,"
    "\"emails\":[{\"value\":\"b@example.com\",\"type\":\"work\",\"primary\":true}],"
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"employeeNumber\":\"7\","
    "\"manager\":{\"value\":\"m1\"}}}";
static const char group_text[] =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"Staff\","
    "\"members\":[{\"value\":\"u1\"}]}";

static json_t *canonical(const s2l_rmap *rm, const char *text)
{
    json_t *body = json_loads(text, 0, NULL);
    s2l_error err;
    json_t *r = body ? s2l_resource_normalize(s2l_rmap_rtype(rm), body, S2L_NORM_CREATE, NULL, &err) : NULL;
    json_decref(body);
    return r;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char root[4096], path[4200], schemas[4200], err[1024];
    const char *env = getenv("S2L_SOURCE_DIR");
    if (env != NULL) {
        snprintf(root, sizeof root, "%s", env);
    } else {
        /* Three levels above this file; a relative __FILE__ means the working directory. */
        snprintf(root, sizeof root, "%s", __FILE__);
        for (int up = 0; up < 3; up++) {
            char *slash = strrchr(root, '/');
            if (slash == NULL) {
                snprintf(root, sizeof root, ".");
                break;
            }
            *slash = '\0';
        }
        if (root[0] == '\0')
            snprintf(root, sizeof root, "/");
    }
    snprintf(path, sizeof path, "%s/mappings/openldap.json", root);
    snprintf(schemas, sizeof schemas, "%s/schemas/scim", root);
    mapping = s2l_mapping_load(path, schemas, err, sizeof err);
    if (mapping == NULL) {
        fprintf(stderr, "fuzz_resource_write: %s\n", err);
        abort();
    }
    users = s2l_mapping_find(mapping, "User");
    groups = s2l_mapping_find(mapping, "Group");
    stored_user = users ? canonical(users, user_text) : NULL;
    stored_group = groups ? canonical(groups, group_text) : NULL;
    if (stored_user == NULL || stored_group == NULL)
        abort();
    json_t *ids = resolve(users, stored_user);
    s2l_error e;
    s2l_error_clear(&e);
    json_t *entry = s2l_rmap_to_ldap(users, stored_user, ids, &e);
    json_decref(ids);
    if (entry == NULL)
        abort();
    stored_user_attrs = json_incref(json_object_get(entry, "attrs"));
    json_decref(entry);
    return 0;
}

static void fail(const char *what, const s2l_error *e)
{
    fprintf(stderr, "fuzz_resource_write: %s (status %d, %s)\n", what, e ? e->status : 0, e ? e->detail : "");
    abort();
}

static void check_error(const s2l_error *e)
{
    bool ok = e->detail[0] != '\0' &&
              ((e->status == 400 && e->scim_type != NULL) || (e->status == 413 && e->scim_type == NULL) ||
               (e->status == 500 && strstr(e->detail, "out of memory") != NULL));
    if (!ok)
        fail("unexpected error", e);
}

/* SCIM id -> DN for every reference the resource holds, as the handlers'
 * look-ups would answer: people for users, groups for groups. */
static json_t *resolve(const s2l_rmap *rm, const json_t *resource)
{
    json_t *ids = json_object(), *refs = s2l_rmap_ref_ids(rm, resource);
    size_t i;
    json_t *v;
    json_array_foreach(refs, i, v) {
        const char *id = json_string_value(v);
        if (id == NULL)
            fail("a reference id that is not a string", NULL);
        char *esc = s2l_ldap_escape_dn_value(id, strlen(id));
        size_t n = strlen(esc) + 64;
        char *dn = malloc(n);
        snprintf(dn, n, "%s=%s,%s", i % 2 ? "cn" : "uid", esc, i % 2 ? "ou=groups,dc=example,dc=org"
                                                                     : "ou=people,dc=example,dc=org");
        json_object_set_new(ids, id, json_string(dn));
        free(dn);
        free(esc);
    }
    json_decref(refs);
    return ids;
}

static void check_values(const json_t *attrs)
{
    const char *k;
    json_t *vals;
    json_object_foreach((json_t *)attrs, k, vals) {
        size_t i;
        json_t *v;
        if (!json_is_array(vals))
            fail("an attribute whose values are not an array", NULL);
        json_array_foreach(vals, i, v) {
            if (!json_is_string(v))
                fail("a value that is not a string", NULL);
        }
    }
}

static void check_entry(const s2l_rmap *rm, const json_t *entry)
{
    const s2l_rmap_info *info = s2l_rmap_info_of(rm);
    const char *dn = json_string_value(json_object_get(entry, "dn"));
    const json_t *attrs = json_object_get(entry, "attrs");
    if (dn == NULL || !json_is_object(attrs))
        fail("an entry without dn or attrs", NULL);
    check_values(attrs);
    if (s2l_map_get_ci(attrs, "objectClass") == NULL)
        fail("an entry without objectClass", NULL);

    size_t dl = strlen(dn), bl = strlen(info->base_dn);
    if (dl <= bl + 1 || dn[dl - bl - 1] != ',' || strcmp(dn + dl - bl, info->base_dn) != 0)
        fail("a DN outside the base DN", NULL);
    if (dl - bl - 1 > S2L_MAX_RDN_BYTES_DEFAULT)
        fail("an RDN longer than limits.max_rdn_bytes", NULL);

    char *attr = NULL, *value = NULL;
    size_t vlen = 0;
    if (s2l_dn_first_rdn(dn, &attr, &value, &vlen) < 0)
        fail("a DN whose first RDN cannot be read back", NULL);
    if (strcasecmp(attr, info->rdn_attr) != 0)
        fail("an RDN of the wrong attribute", NULL);
    /* The whole first RDN is the one attribute value: no ',' or '+' leaked. */
    char *esc = s2l_ldap_escape_dn_value(value, vlen);
    if (strlen(attr) + 1 + strlen(esc) != dl - bl - 1)
        fail("an RDN that is more than one escaped value", NULL);
    free(esc);
    const json_t *vals = s2l_map_get_ci(attrs, info->rdn_attr);
    bool found = false;
    size_t i;
    json_t *v;
    json_array_foreach(vals, i, v) {
        found = found || (json_string_length(v) == vlen && memcmp(json_string_value(v), value, vlen) == 0);
    }
    if (!found)
        fail("an RDN value missing from the entry's values", NULL);
    free(attr);
    free(value);
}

static void check_plan(const json_t *plan)
{
    const json_t *newrdn = json_object_get(plan, "newrdn"), *mods = json_object_get(plan, "mods");
    if (!(json_is_null(newrdn) || json_is_string(newrdn)) || !json_is_array(mods))
        fail("a malformed plan", NULL);
    if (json_is_string(newrdn) && json_string_length(newrdn) > S2L_MAX_RDN_BYTES_DEFAULT)
        fail("a rename to an RDN longer than limits.max_rdn_bytes", NULL);
    size_t i;
    json_t *m;
    json_array_foreach(mods, i, m) {
        const char *op = json_string_value(json_object_get(m, "op"));
        const json_t *values = json_object_get(m, "values");
        if (op == NULL || json_string_value(json_object_get(m, "attr")) == NULL ||
            (strcmp(op, "replace") && strcmp(op, "add") && strcmp(op, "delete")))
            fail("a malformed modification", NULL);
        if (values != NULL) {
            json_t *wrap = json_pack("{s:O}", "a", values);
            check_values(wrap);
            json_decref(wrap);
        }
    }
}

static void plan_to(const s2l_rmap *rm, const json_t *old, const json_t *res)
{
    s2l_error err;
    s2l_error_clear(&err);
    json_t *ids = resolve(rm, res);
    json_t *old_ids = resolve(rm, old);
    json_object_update(ids, old_ids);
    json_decref(old_ids);
    json_t *plan = s2l_rmap_plan_update(rm, old, res, ids, &err);
    if (plan == NULL)
        check_error(&err);
    else
        check_plan(plan);
    json_decref(plan);
    json_decref(ids);
}

/* A PUT of res (canonical) as one modify on an entry holding the stored
 * user under the name res gives, against the reading path's plan. */
static void put_direct_check(const s2l_rmap *rm, const json_t *res, const json_t *ids)
{
    s2l_error err;
    s2l_error_clear(&err);
    char *rdn = s2l_map_rdn(rm, res, NULL, &err);
    if (rdn == NULL)
        return;
    size_t n = strlen(rdn) + strlen(s2l_rmap_info_of(rm)->base_dn) + 2;
    char *dn = malloc(n);
    snprintf(dn, n, "%s,%s", rdn, s2l_rmap_info_of(rm)->base_dn);
    free(rdn);
    s2l_put_direct d;
    int rc = s2l_put_plan_direct(rm, res, dn, NULL, &d);
    if (rc == 0 && d.needs_ids) {
        s2l_put_direct_fini(&d);
        rc = s2l_put_plan_direct(rm, res, dn, ids, &d);
    }
    free(dn);
    if (rc == 0 && (d.why_not == NULL || d.mods != NULL || d.requires != NULL))
        fail("a direct PUT refused without a reason, or with a plan", NULL);
    if (rc == 1) {
        json_t *plan = json_pack("{s:n, s:O}", "newrdn", "mods", d.mods);
        check_plan(plan);
        json_decref(plan);
        const s2l_rmap_info *info = s2l_rmap_info_of(rm);
        size_t i;
        json_t *m;
        json_array_foreach(d.mods, i, m) {
            const char *a = json_string_value(json_object_get(m, "attr"));
            if (strcasecmp(a, "objectClass") == 0 || strcasecmp(a, info->id_attr) == 0 ||
                strcasecmp(a, info->rdn_attr) == 0)
                fail("a direct PUT touching objectClass, the id or the RDN attribute", NULL);
        }
        if (d.requires == NULL)
            fail("a direct PUT without its assumptions", NULL);
        if (rm == users && mf_requires_hold(d.requires, stored_user_attrs)) {
            s2l_error_clear(&err);
            /* the handler knows the stored entry's references too (build_old) */
            json_t *all = resolve(rm, stored_user);
            json_object_update(all, (json_t *)ids);
            json_t *read = s2l_rmap_plan_update(rm, stored_user, res, all, &err);
            json_decref(all);
            if (read != NULL) {
                json_t *a = json_deep_copy(stored_user_attrs), *b = json_deep_copy(stored_user_attrs);
                mf_apply_mods(a, json_object_get(read, "mods"));
                mf_apply_mods(b, d.mods);
                /* a password is hashed with a new salt each time: compare its presence */
                if ((json_object_get(a, "userPassword") == NULL) != (json_object_get(b, "userPassword") == NULL))
                    fail("a direct PUT that sets the password unlike the reading path", NULL);
                json_object_del(a, "userPassword");
                json_object_del(b, "userPassword");
                if (!mf_same_attrs(a, b)) {
                    mf_show("direct PUT vs reading path", "fuzz input", b, a);
                    fail("a direct PUT that leaves the entry unlike the reading path", NULL);
                }
                json_decref(a);
                json_decref(b);
            }
            json_decref(read);
        }
    }
    s2l_put_direct_fini(&d);
}

static void write_body(const s2l_rmap *rm, const json_t *body, s2l_norm_mode mode, bool strict)
{
    s2l_policies reject = *s2l_rmap_policies(rm);
    reject.unknown = reject.unmapped = reject.schemas = S2L_POLICY_REJECT;
    json_t *notes = json_object();
    s2l_norm_opts opts = {.policies = strict ? &reject : s2l_rmap_policies(rm), .notes = notes};
    s2l_error err;
    s2l_error_clear(&err);
    json_t *res = s2l_resource_normalize(s2l_rmap_rtype(rm), body, mode, &opts, &err);
    json_decref(notes);
    if (res == NULL) {
        check_error(&err);
        return;
    }
    json_t *ids = resolve(rm, res);
    s2l_error_clear(&err);
    json_t *entry = s2l_rmap_to_ldap(rm, res, ids, &err);
    if (entry == NULL)
        check_error(&err);
    else
        check_entry(rm, entry);
    json_decref(entry);
    if (mode == S2L_NORM_REPLACE && !strict)
        put_direct_check(rm, res, ids);
    json_decref(ids);
    plan_to(rm, rm == users ? stored_user : stored_group, res);
    json_decref(res);
}

static void patch_body(const s2l_rmap *rm, const json_t *stored, const json_t *body)
{
    json_t *notes = json_object();
    s2l_patch_opts opts = {.delta_attrs = s2l_rmap_delta_attrs(rm), .max_operations = 64,
                           .policies = s2l_rmap_policies(rm), .notes = notes};
    s2l_error err;
    s2l_error_clear(&err);
    json_t *res = json_deep_copy(stored), *deltas = NULL;
    int prc = s2l_patch_apply(s2l_rmap_rtype(rm), res, body, &opts, &deltas, &err);
    json_decref(notes);
    if (prc != 0) {
        check_error(&err);
    } else {
        plan_to(rm, stored, res);
        if (deltas != NULL) {
            json_t *ids = json_object(), *mods = json_array();
            size_t i;
            json_t *d;
            /* Resolve every id a delta names. */
            json_array_foreach(deltas, i, d) {
                const char *lists[] = {"add", "remove"};
                for (int l = 0; l < 2; l++) {
                    size_t k;
                    json_t *v;
                    json_array_foreach(json_object_get(d, lists[l]), k, v) {
                        const char *id = json_string_value(json_object_get(v, "value"));
                        if (id && k % 3 != 2) { /* some stay unresolved: removals skip, adds fail */
                            char *esc = s2l_ldap_escape_dn_value(id, strlen(id));
                            size_t n = strlen(esc) + 40;
                            char *dn = malloc(n);
                            snprintf(dn, n, "uid=%s,ou=people,dc=example,dc=org", esc);
                            json_object_set_new(ids, id, json_string(dn));
                            free(dn);
                            free(esc);
                        }
                    }
                }
            }
            s2l_error_clear(&err);
            /* unresolved member ids: skipped (the default policy) and noted */
            json_t *dnotes = json_object();
            if (s2l_rmap_check_deltas(rm, deltas, ids, dnotes, &err) < 0)
                check_error(&err);
            json_decref(dnotes);
            s2l_error_clear(&err);
            for (unsigned ph = 0; ph < 4; ph++)
                if (s2l_rmap_delta_mods(rm, deltas, ids, ph, mods, &err) < 0)
                    check_error(&err);
            json_t *plan = json_pack("{s:n, s:O}", "newrdn", "mods", mods);
            check_plan(plan);
            json_decref(plan);
            json_decref(mods);
            json_decref(ids);
        }
    }
    json_decref(deltas);
    json_decref(res);
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void escape_bytes(const uint8_t *data, size_t size)
{
    /* DN value: "cn=<escaped>,dc=example" reads back as the same bytes. */
    char *esc = s2l_ldap_escape_dn_value((const char *)data, size);
    size_t n = strlen(esc) + 16;
    char *dn = malloc(n);
    snprintf(dn, n, "cn=%s,dc=example", esc);
    char *attr = NULL, *value = NULL;
    size_t vlen = 0;
    if (s2l_dn_first_rdn(dn, &attr, &value, &vlen) < 0 || strcmp(attr, "cn") != 0 || vlen != size ||
        (size && memcmp(value, data, size) != 0))
        fail("a DN value that does not round-trip", NULL);
    free(attr);
    free(value);
    free(dn);
    free(esc);

    /* Filter value: no filter syntax survives, and it decodes to the input. */
    esc = s2l_ldap_escape_filter_value((const char *)data, size);
    size_t o = 0;
    for (const char *p = esc; *p; p++) {
        if (*p == '*' || *p == '(' || *p == ')')
            fail("filter syntax in an escaped filter value", NULL);
        int c = (unsigned char)*p;
        if (*p == '\\') {
            int h = hexval((unsigned char)p[1]), l = h >= 0 ? hexval((unsigned char)p[2]) : -1;
            if (l < 0)
                fail("a broken escape in a filter value", NULL);
            c = h * 16 + l;
            p += 2;
        }
        if (o >= size || (unsigned char)data[o] != c)
            fail("a filter value that does not decode to the input", NULL);
        o++;
    }
    if (o != size)
        fail("a filter value that lost bytes", NULL);
    free(esc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    escape_bytes(data, size);

    /* As the gateway parses bodies. */
    json_t *in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    if (in == NULL)
        return 0;
    json_t *copy = json_deep_copy(in);
    const s2l_rmap *types[] = {users, groups};
    for (int t = 0; t < 2; t++) {
        write_body(types[t], in, S2L_NORM_CREATE, false);
        write_body(types[t], in, S2L_NORM_REPLACE, false);
        write_body(types[t], in, S2L_NORM_CREATE, true);
    }
    patch_body(users, stored_user, in);
    patch_body(groups, stored_group, in);
    if (copy == NULL || !json_equal(copy, in))
        fail("the request was modified", NULL);
    json_decref(copy);
    json_decref(in);
    return 0;
}
