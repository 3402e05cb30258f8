/* test_mapping_limits.c — the limits the mapping enforces (include/s2l/mapping.h,
 * s2l_mapping_set_limits): entry names longer than the directory stores are
 * refused before anything is sent, on add and on rename; and the JSON bounds
 * reach request normalisation and PATCH through the resource type views. */
#include "s2l/mapping.h"
#include "s2l/resource.h"
#include "mapping_fixture.h"
#include "unit.h"

static mapping_fixture fx;

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memset(s, c, n);
        s[n] = '\0';
    }
    return s;
}

/* The canonical resource of a User with this userName (or a Group with this
 * displayName). */
static json_t *resource(const s2l_rmap *rm, const char *key, const char *value)
{
    json_t *body = json_pack("{s:s}", key, value);
    s2l_error err;
    s2l_norm_opts opts = {0};
    json_t *r = s2l_resource_normalize(s2l_rmap_rtype(rm), body, S2L_NORM_CREATE, &opts, &err);
    if (r == NULL)
        fprintf(stderr, "normalize: %s\n", err.detail);
    json_decref(body);
    return r;
}

/* s2l_rmap_to_ldap for a name value: 0 when accepted, else the status. */
static int add_status(const s2l_rmap *rm, const char *key, const char *value, s2l_error *err)
{
    json_t *r = resource(rm, key, value);
    json_t *ids = json_object();
    json_t *e = r ? s2l_rmap_to_ldap(rm, r, ids, err) : NULL;
    int status = e ? 0 : err->status;
    json_decref(e);
    json_decref(ids);
    json_decref(r);
    return r ? status : -1;
}

static void test_rdn_size_on_add(void)
{
    const s2l_rmap *users = s2l_mapping_find(fx.openldap, "User");
    const s2l_rmap *groups = s2l_mapping_find(fx.openldap, "Group");
    s2l_error err;
    CHECK_INT(s2l_mapping_limits_of(fx.openldap)->max_rdn_bytes, S2L_MAX_RDN_BYTES_DEFAULT);

    /* "uid=" + 241 = 245 bytes: the longest back-mdb stores (checked against
     * slapd 2.5: 242 fails with LDAP 80). */
    char *v = repeat('a', 241);
    CHECK_INT(add_status(users, "userName", v, &err), 0);
    free(v);
    v = repeat('a', 242);
    CHECK_INT(add_status(users, "userName", v, &err), 400);
    CHECK_STR(err.scim_type, S2L_SCIM_INVALID_VALUE);
    CHECK(strstr(err.detail, "userName is too long") != NULL);
    CHECK(strstr(err.detail, "246 bytes") != NULL);
    CHECK(strstr(err.detail, "at most 245") != NULL);
    CHECK(strstr(err.detail, "limits.max_rdn_bytes") != NULL);
    free(v);

    /* "cn=" + 242 = 245; the 500-character displayName fails. */
    v = repeat('g', 242);
    CHECK_INT(add_status(groups, "displayName", v, &err), 0);
    free(v);
    v = repeat('g', 500);
    CHECK_INT(add_status(groups, "displayName", v, &err), 400);
    CHECK(strstr(err.detail, "displayName is too long") != NULL);
    free(v);

    /* A special character is stored as "\XX": 3 bytes. 4 + 240 + 3 > 245. */
    v = repeat('a', 241);
    v[238] = ',';
    v[239] = '\0';
    CHECK_INT(add_status(users, "userName", v, &err), 0); /* 4 + 238 + 3 = 245 */
    v[239] = 'a';
    v[240] = '\0';
    CHECK_INT(add_status(users, "userName", v, &err), 400); /* 246 */
    free(v);

    /* 0 turns the check off (the directory then answers for itself). */
    s2l_mapping_limits lim = *s2l_mapping_limits_of(fx.openldap);
    lim.max_rdn_bytes = 0;
    s2l_mapping_set_limits(fx.openldap, &lim);
    v = repeat('a', 1000);
    CHECK_INT(add_status(users, "userName", v, &err), 0);
    free(v);
    lim.max_rdn_bytes = 12;
    s2l_mapping_set_limits(fx.openldap, &lim);
    CHECK_INT(add_status(users, "userName", "12345678", &err), 0);  /* uid=12345678: 12 */
    CHECK_INT(add_status(users, "userName", "123456789", &err), 400);
    lim.max_rdn_bytes = S2L_MAX_RDN_BYTES_DEFAULT;
    s2l_mapping_set_limits(fx.openldap, &lim);
}

static void test_rdn_size_on_rename(void)
{
    const s2l_rmap *users = s2l_mapping_find(fx.openldap, "User");
    s2l_error err;
    json_t *ids = json_object();
    char *longname = repeat('b', 300);
    json_t *old = resource(users, "userName", "short");
    json_t *renamed = resource(users, "userName", longname);
    CHECK(old && renamed);

    s2l_error_clear(&err);
    json_t *plan = s2l_rmap_plan_update(users, old, renamed, ids, &err);
    CHECK(plan == NULL);
    CHECK_INT(err.status, 400);
    CHECK(strstr(err.detail, "userName is too long") != NULL);
    json_decref(plan);

    /* An entry already named beyond a lowered limit can still be modified
     * when its name does not change. */
    s2l_mapping_limits lim = *s2l_mapping_limits_of(fx.openldap);
    lim.max_rdn_bytes = 8;
    s2l_mapping_set_limits(fx.openldap, &lim);
    json_t *changed = json_deep_copy(old);
    json_object_set_new(changed, "title", json_string("Boss"));
    plan = s2l_rmap_plan_update(users, old, changed, ids, &err);
    CHECK(plan != NULL);
    CHECK(json_is_null(json_object_get(plan, "newrdn")));
    json_decref(plan);
    lim.max_rdn_bytes = S2L_MAX_RDN_BYTES_DEFAULT;
    s2l_mapping_set_limits(fx.openldap, &lim);

    json_decref(changed);
    json_decref(old);
    json_decref(renamed);
    json_decref(ids);
    free(longname);
}

/* The configured JSON bounds reach normalisation and PATCH. */
static void test_json_limits_reach_the_views(void)
{
    const s2l_rmap *users = s2l_mapping_find(fx.openldap, "User");
    const s2l_resource_type *rt = s2l_rmap_rtype(users);
    s2l_mapping_limits lim = *s2l_mapping_limits_of(fx.openldap);
    CHECK(rt->json_limits == &s2l_mapping_limits_of(fx.openldap)->json);
    lim.json.max_values = 2;
    s2l_mapping_set_limits(fx.openldap, &lim);

    s2l_error err;
    s2l_norm_opts opts = {0};
    json_t *body = json_loads("{\"userName\":\"u\",\"emails\":[{\"value\":\"a@x\"},{\"value\":\"b@x\"},"
                              "{\"value\":\"c@x\"}]}", 0, NULL);
    json_t *r = s2l_resource_normalize(rt, body, S2L_NORM_CREATE, &opts, &err);
    CHECK(r == NULL);
    CHECK_INT(err.status, 413);
    CHECK(strstr(err.detail, "\"emails\" has 3 values") != NULL);
    json_decref(body);

    /* Case variants, in a POST body and in a PATCH value. */
    body = json_loads("{\"userName\":\"u\",\"UserName\":\"v\"}", 0, NULL);
    r = s2l_resource_normalize(rt, body, S2L_NORM_CREATE, &opts, &err);
    CHECK(r == NULL);
    CHECK_INT(err.status, 400);
    CHECK_STR(err.scim_type, S2L_SCIM_INVALID_SYNTAX);
    json_decref(body);

    json_t *res = resource(users, "userName", "u");
    json_t *patch = json_loads("{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],"
                               "\"Operations\":[{\"op\":\"replace\",\"value\":{\"title\":\"a\",\"Title\":\"b\"}}]}",
                               0, NULL);
    json_t *deltas = NULL;
    CHECK_INT(s2l_patch_apply(rt, res, patch, NULL, &deltas, &err), -1);
    CHECK_INT(err.status, 400);
    CHECK(strstr(err.detail, "Operations[0].value.title") != NULL);
    json_decref(patch);
    json_decref(res);

    lim.json.max_values = S2L_JSON_MAX_VALUES_DEFAULT;
    s2l_mapping_set_limits(fx.openldap, &lim);
}

int main(void)
{
    if (!mf_init(&fx)) {
        fprintf(stderr, "cannot load the mappings\n");
        return 1;
    }
    test_rdn_size_on_add();
    test_rdn_size_on_rename();
    test_json_limits_reach_the_views();
    mf_fini(&fx);
    return UNIT_DONE();
}
