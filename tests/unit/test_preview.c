/* test_preview.c — the pure side of `scim2ldap preview`: operations produced
 * for each method, which input an error is blamed on and the JSON path named,
 * symbolic DNs for unresolved ids, filters, and the LDIF of the operations.
 * (The output against the gateway itself: tests/integration/it_preview.c;
 * the command line: tests/cli/preview_golden.sh.) */
#include "s2l/password.h"
#include "s2l/preview.h"
#include "mapping_fixture.h"
#include "unit.h"

static mapping_fixture fx;

static json_t *J(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (j == NULL)
        fprintf(stderr, "bad test JSON: %s: %s\n", je.text, text);
    return j;
}

static const s2l_rmap *users(void)
{
    return s2l_mapping_find(fx.openldap, "User");
}

static const s2l_rmap *groups(void)
{
    return s2l_mapping_find(fx.openldap, "Groups");
}

/* The default mapping with every policy "reject": unknown attributes are errors. */
static const s2l_rmap *strict_users(void)
{
    return s2l_mapping_find(fx.strict, "User");
}

/* Runs a preview and returns the error path ("" on success). */
static json_t *run(const s2l_rmap *rm, s2l_preview_kind kind, const char *body, const char *current,
                   s2l_preview_err *err)
{
    json_t *b = body ? J(body) : NULL, *c = current ? J(current) : NULL;
    s2l_preview_in in = {.mapping = rm == strict_users() ? fx.strict : fx.openldap, .rm = rm, .kind = kind,
                         .body = b, .current = c};
    json_t *ops = s2l_preview_write(&in, err);
    json_decref(b);
    json_decref(c);
    return ops;
}

static void error_case(const s2l_rmap *rm, s2l_preview_kind kind, const char *body, const char *current,
                       s2l_preview_input want_input, const char *want_path, int want_status)
{
    s2l_preview_err err;
    json_t *ops = run(rm, kind, body, current, &err);
    CHECK(ops == NULL);
    json_decref(ops);
    CHECK_INT(err.input, want_input);
    CHECK_STR(err.path, want_path);
    CHECK_INT(err.err.status, want_status);
}

static void test_symbolic(void)
{
    char *s = s2l_preview_symbolic_dn("2819c223-7f76-453a-919d-413861904646");
    CHECK_STR(s, "scimId=2819c223-7f76-453a-919d-413861904646");
    free(s);
    s = s2l_preview_symbolic_dn("a,b+c");
    CHECK_STR(s, "scimId=a\\,b\\+c");
    free(s);
    s = s2l_preview_symbolic_dn(" x ");
    CHECK_STR(s, "scimId=\\ x\\ ");
    free(s);
}

static void test_create(void)
{
    s2l_preview_err err;
    json_t *ops = run(groups(), S2L_PREVIEW_CREATE,
                      "{\"displayName\":\"G\",\"members\":[{\"value\":\"u1\"},{\"value\":\"u2\"}]}", NULL, &err);
    CHECK(ops != NULL);
    CHECK_INT(json_array_size(ops), 1);
    json_t *add = json_array_get(ops, 0);
    CHECK_STR(json_string_value(json_object_get(add, "op")), "add");
    CHECK_STR(json_string_value(json_object_get(add, "dn")), "cn=G,ou=groups,dc=example,dc=org");
    json_t *member = json_object_get(json_object_get(add, "attrs"), "member");
    CHECK_INT(json_array_size(member), 2);
    CHECK_STR(json_string_value(json_array_get(member, 0)), "scimId=u1");
    json_decref(ops);

    /* known ids win over the symbolic DN */
    json_t *body = J("{\"displayName\":\"G\",\"members\":[{\"value\":\"u1\"},{\"value\":\"u2\"}]}");
    json_t *known = J("{\"u2\":\"uid=bob,ou=people,dc=example,dc=org\"}");
    s2l_preview_in in = {.mapping = fx.openldap, .rm = groups(), .kind = S2L_PREVIEW_CREATE, .body = body,
                         .known_ids = known};
    ops = s2l_preview_write(&in, &err);
    member = json_object_get(json_object_get(json_array_get(ops, 0), "attrs"), "member");
    CHECK_STR(json_string_value(json_array_get(member, 1)), "uid=bob,ou=people,dc=example,dc=org");
    json_decref(ops);
    json_decref(body);
    json_decref(known);
}

static void test_errors(void)
{
    const char *cur = "{\"id\":\"x\",\"userName\":\"jdoe\"}";
    /* the culprit among several values: only removing emails[2] makes the error go */
    error_case(users(), S2L_PREVIEW_CREATE,
               "{\"userName\":\"a\",\"emails\":[{\"value\":\"a@x\"},{\"value\":\"b@x\"},{\"value\":7}]}", NULL,
               S2L_PREVIEW_IN_BODY, "$.emails[2].value", 400);
    /* an attribute whose key is URN-qualified */
    error_case(users(), S2L_PREVIEW_CREATE,
               "{\"userName\":\"a\",\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department\":1}",
               NULL, S2L_PREVIEW_IN_BODY,
               "$[\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department\"]", 400);
    /* case-insensitive keys keep their spelling in the path */
    error_case(users(), S2L_PREVIEW_CREATE, "{\"USERNAME\":\"a\",\"Name\":{\"GivenName\":[1]}}", NULL,
               S2L_PREVIEW_IN_BODY, "$.Name.GivenName", 400);
    /* missing: nothing narrower than the document */
    error_case(users(), S2L_PREVIEW_CREATE, "{\"name\":{\"givenName\":\"x\"}}", NULL, S2L_PREVIEW_IN_BODY, "$",
               400);
    error_case(users(), S2L_PREVIEW_CREATE, "[1]", NULL, S2L_PREVIEW_IN_BODY, "$", 400);
    /* a PUT body is checked before the stored resource, as the handler does */
    error_case(users(), S2L_PREVIEW_REPLACE, "{\"userName\":5}", "{\"userName\":6}", S2L_PREVIEW_IN_BODY,
               "$.userName", 400);
    error_case(users(), S2L_PREVIEW_REPLACE, "{\"userName\":\"b\"}", "{\"userName\":6}", S2L_PREVIEW_IN_CURRENT,
               "$.userName", 400);
    /* PATCH: the operation, then the attribute inside its value, or its path */
    error_case(users(), S2L_PREVIEW_PATCH,
               "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":["
               "{\"op\":\"add\",\"path\":\"title\",\"value\":\"t\"},"
               "{\"op\":\"add\",\"value\":{\"title\":\"u\",\"name\":{\"familyName\":false}}}]}",
               cur, S2L_PREVIEW_IN_BODY, "$.Operations[1].value.name.familyName", 400);
    error_case(strict_users(), S2L_PREVIEW_PATCH,
               "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":["
               "{\"op\":\"replace\",\"path\":\"nosuch.attr\",\"value\":\"t\"}]}",
               cur, S2L_PREVIEW_IN_BODY, "$.Operations[0].path", 400);
    error_case(users(), S2L_PREVIEW_PATCH,
               "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":["
               "{\"op\":\"replace\",\"path\":\"title\",\"value\":{\"x\":1}}]}",
               cur, S2L_PREVIEW_IN_BODY, "$.Operations[0].value", 400);
    error_case(users(), S2L_PREVIEW_PATCH, "{\"Operations\":[]}", cur, S2L_PREVIEW_IN_BODY, "$.Operations", 400);
    /* the stored resource must be a resource of the type */
    error_case(users(), S2L_PREVIEW_PATCH,
               "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":["
               "{\"op\":\"add\",\"path\":\"title\",\"value\":\"t\"}]}",
               "{\"userName\":\"jdoe\",\"emails\":[{\"value\":\"a@x\",\"type\":[\"work\"]}]}", S2L_PREVIEW_IN_CURRENT,
               "$.emails[0].type", 400);
    /* no current for an update: the caller's mistake, 500 */
    error_case(users(), S2L_PREVIEW_PATCH, "{}", NULL, S2L_PREVIEW_IN_BODY, "$", 500);
}

static void test_update(void)
{
    s2l_preview_err err;
    const char *cur = "{\"id\":\"g\",\"displayName\":\"G\",\"members\":[{\"value\":\"u1\"}]}";
    /* nothing to do: one note, no LDAP operation */
    json_t *ops = run(groups(), S2L_PREVIEW_REPLACE, "{\"displayName\":\"G\",\"members\":[{\"value\":\"u1\"}]}",
                      cur, &err);
    CHECK_INT(json_array_size(ops), 1);
    /* a PUT always rewrites the member list as given: replace-all */
    CHECK_STR(json_string_value(json_object_get(json_array_get(ops, 0), "op")), "modify");
    json_decref(ops);

    ops = run(users(), S2L_PREVIEW_REPLACE, "{\"userName\":\"jdoe\"}", "{\"id\":\"x\",\"userName\":\"jdoe\"}", &err);
    CHECK_INT(json_array_size(ops), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(ops, 0), "op")), "note");
    json_decref(ops);

    /* rename: modrdn, the modify on the new DN, then the fix-up notes */
    ops = run(groups(), S2L_PREVIEW_PATCH,
              "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":["
              "{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"H\"},"
              "{\"op\":\"add\",\"path\":\"externalId\",\"value\":\"e\"}]}",
              cur, &err);
    CHECK(ops != NULL);
    CHECK_STR(json_string_value(json_object_get(json_array_get(ops, 0), "op")), "modrdn");
    CHECK_STR(json_string_value(json_object_get(json_array_get(ops, 0), "newrdn")), "cn=H");
    CHECK_STR(json_string_value(json_object_get(json_array_get(ops, 1), "op")), "modify");
    CHECK_STR(json_string_value(json_object_get(json_array_get(ops, 1), "dn")), "cn=H,ou=groups,dc=example,dc=org");
    CHECK_STR(json_string_value(json_object_get(json_array_get(ops, 2), "op")), "note");
    char *ldif = s2l_preview_ldif(ops);
    CHECK(ldif != NULL && strstr(ldif, "\n# After the rename") != NULL);
    CHECK(ldif != NULL && strstr(ldif, "changetype: modrdn\nnewrdn: cn=H\ndeleteoldrdn: 1\n") != NULL);
    free(ldif);
    json_decref(ops);

    /* the placeholder: an empty current group holds it, the first add deletes it */
    ops = run(groups(), S2L_PREVIEW_PATCH,
              "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":["
              "{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"u2\"}]}]}",
              "{\"id\":\"g\",\"displayName\":\"G\"}", &err);
    ldif = s2l_preview_ldif(ops);
    CHECK_STR(ldif, "dn: cn=G,ou=groups,dc=example,dc=org\n"
                    "changetype: modify\n"
                    "add: member\n"
                    "member: scimId=u2\n"
                    "-\n"
                    "delete: member\n"
                    "member:\n"
                    "-\n");
    free(ldif);
    json_decref(ops);
}

static void test_filter(void)
{
    s2l_preview_err err;
    char *f = s2l_preview_filter(users(), "userName eq \"x)(\"", NULL, NULL, &err);
    CHECK_STR(f, "(&(objectClass=inetOrgPerson)(uid=x\\29\\28))");
    free(f);
    f = s2l_preview_filter(users(), "", NULL, NULL, &err);
    CHECK_STR(f, "(objectClass=inetOrgPerson)");
    free(f);
    f = s2l_preview_filter(groups(), "members[value eq \"a,b\"]", NULL, NULL, &err);
    CHECK_STR(f, "(&(objectClass=groupOfNames)(member=scimId=a\\5c,b))");
    free(f);
    s2l_filter_limits lim = {.max_length = 16};
    f = s2l_preview_filter(users(), "userName eq \"0123456789\"", &lim, NULL, &err);
    CHECK(f == NULL);
    CHECK_INT(err.input, S2L_PREVIEW_IN_FILTER);
    CHECK_INT(err.err.status, 400);
    CHECK_STR(err.err.scim_type, S2L_SCIM_INVALID_FILTER);
    CHECK_STR(err.path, "");
    f = s2l_preview_filter(users(), "shoeSize gt 40", NULL, NULL, &err);
    CHECK(f == NULL);
    CHECK_STR(err.err.scim_type, S2L_SCIM_INVALID_FILTER);
}

static void test_ldif_ops(void)
{
    json_t *bad = J("[{\"op\":\"frobnicate\",\"dn\":\"cn=x\"}]");
    CHECK(s2l_preview_ldif(bad) == NULL);
    json_decref(bad);
    json_t *ops = J("[{\"op\":\"delete\",\"dn\":\"cn=x\"},{\"op\":\"note\",\"text\":\"a\\nb\"}]");
    char *s = s2l_preview_ldif(ops);
    CHECK_STR(s, "dn: cn=x\nchangetype: delete\n\n# a\n# b\n");
    free(s);
    json_decref(ops);
}

/* Passwords are never printed unless asked for; asked for, they are hashed
 * as the gateway would send them (and verify against the cleartext). */
static void test_secrets(void)
{
    const char *body = "{\"userName\":\"pw\",\"password\":\"S3cret-pass\"}";
    s2l_preview_err err;
    json_t *b = J(body);
    for (int show = 0; show < 2; show++) {
        s2l_preview_in in = {.mapping = fx.openldap, .rm = users(), .kind = S2L_PREVIEW_CREATE, .body = b,
                             .show_secrets = show};
        json_t *ops = s2l_preview_write(&in, &err);
        CHECK(ops != NULL);
        json_t *pw = json_object_get(json_object_get(json_array_get(ops, 0), "attrs"), "userPassword");
        const char *v = json_string_value(json_array_get(pw, 0));
        CHECK(v != NULL);
        if (v && !show)
            CHECK_STR(v, "{CRYPT}(hashed when sent; not shown)");
        if (v && show)
            CHECK(strncmp(v, "{CRYPT}$6$", 10) == 0 && s2l_pw_verify(v, strlen(v), "S3cret-pass", 11));
        char *ldif = ops ? s2l_preview_ldif(ops) : NULL;
        CHECK(ldif != NULL && strstr(ldif, "S3cret-pass") == NULL);
        free(ldif);
        json_decref(ops);
    }
    json_decref(b);
}

int main(void)
{
    if (!mf_init(&fx))
        return 1;
    test_symbolic();
    test_create();
    test_errors();
    test_update();
    test_filter();
    test_ldif_ops();
    test_secrets();
    mf_fini(&fx);
    return UNIT_DONE();
}
