/* test_audit.c — the audit record: one JSON line per write attempt with the
 * fields in order, secrets (built in, write-only attributes of the mapping,
 * the mapping's "secret_attributes") never with their values, refused writes,
 * hostile text kept on one line; and the mapping's secret list itself. */
#include <unistd.h>

#include "s2l/audit.h"
#include "mapping_fixture.h"
#include "unit.h"

static json_t *parse_line(const char *line)
{
    CHECK(line != NULL);
    if (line == NULL)
        return NULL;
    size_t n = strlen(line);
    CHECK(n > 0 && line[n - 1] == '\n');
    CHECK(strchr(line, '\n') == line + n - 1); /* exactly one line */
    json_error_t je;
    json_t *j = json_loads(line, 0, &je);
    if (j == NULL)
        fprintf(stderr, "not JSON: %s: %s", je.text, line);
    CHECK(j != NULL);
    return j;
}

static void test_time(void)
{
    char buf[40];
    struct timespec t = {0, 0};
    s2l_audit_time(&t, buf, sizeof buf);
    CHECK_STR(buf, "1970-01-01T00:00:00.000Z");
    t = (struct timespec){1700000000, 987654321};
    s2l_audit_time(&t, buf, sizeof buf);
    CHECK_STR(buf, "2023-11-14T22:13:20.987Z");
}

static void test_secret_names(void)
{
    const char *const extra[] = {"x-apiKey", NULL};
    CHECK(s2l_audit_is_secret("userPassword", NULL));
    CHECK(s2l_audit_is_secret("USERPASSWORD", NULL));
    CHECK(s2l_audit_is_secret("userPassword;binary", NULL));
    CHECK(s2l_audit_is_secret("unicodePwd", NULL));
    CHECK(s2l_audit_is_secret("sambaNTPassword", NULL));
    CHECK(s2l_audit_is_secret("x-apikey", extra));
    CHECK(!s2l_audit_is_secret("x-apiKeyId", extra));
    CHECK(!s2l_audit_is_secret("mail", extra));
    CHECK(!s2l_audit_is_secret("userPasswordHint", NULL));
    CHECK(!s2l_audit_is_secret(NULL, NULL));
}

static void test_create(const s2l_mapping *m)
{
    json_t *attrs = json_pack("{s:[s,s], s:[s], s:[s], s:[s], s:[s,s]}", "objectClass", "top", "inetOrgPerson", "uid",
                              "jdoe", "userPassword", "Sup3r-Secret!", "x-apiKey", "key-0123456789",
                              "userPassword;binary", "Sup3r-Secret!", "second");
    s2l_audit_event ev = {.time = {1700000000, 5000000},
                          .request_id = 42,
                          .credential = "okta",
                          .source = "192.0.2.7:51234",
                          .operation = "create",
                          .resource_type = "User",
                          .id = "2819c223-7f76-453a-919d-413861904646",
                          .user_name = "jdoe",
                          .external_id = "00u1ab",
                          .dn = "uid=jdoe,ou=people,dc=example,dc=org",
                          .add_attrs = attrs,
                          .status = 201,
                          .ldap_result = 0};
    const char *const secrets[] = {"x-apiKey", NULL};
    size_t len = 0;
    char *line = s2l_audit_line(&ev, secrets, &len);
    CHECK(line && strlen(line) == len);
    /* no secret anywhere in the line, in any form */
    CHECK(line && strstr(line, "Sup3r") == NULL && strstr(line, "key-0123") == NULL && strstr(line, "second") == NULL);
    CHECK_STR(line, "{\"time\":\"2023-11-14T22:13:20.005Z\",\"request_id\":42,\"credential\":\"okta\","
                    "\"source\":\"192.0.2.7:51234\",\"operation\":\"create\",\"resource_type\":\"User\","
                    "\"id\":\"2819c223-7f76-453a-919d-413861904646\",\"user_name\":\"jdoe\","
                    "\"external_id\":\"00u1ab\",\"dn\":\"uid=jdoe,ou=people,dc=example,dc=org\","
                    "\"changes\":[{\"op\":\"add\",\"attr\":\"objectClass\",\"values\":[\"top\",\"inetOrgPerson\"]},"
                    "{\"op\":\"add\",\"attr\":\"uid\",\"values\":[\"jdoe\"]},"
                    "{\"op\":\"add\",\"attr\":\"userPassword\",\"secret\":true,\"count\":1},"
                    "{\"op\":\"add\",\"attr\":\"x-apiKey\",\"secret\":true,\"count\":1},"
                    "{\"op\":\"add\",\"attr\":\"userPassword;binary\",\"secret\":true,\"count\":2}],"
                    "\"status\":201,\"ldap_result\":0,\"outcome\":\"success\"}\n");
    free(line);

    /* the mapping's list (write-only password) is what the gateway passes */
    json_t *a2 = json_pack("{s:[s]}", "userpassword", "Sup3r-Secret!");
    ev.add_attrs = a2;
    line = s2l_audit_line(&ev, s2l_mapping_secret_attrs(m), NULL);
    CHECK(line && strstr(line, "Sup3r") == NULL && strstr(line, "\"secret\":true") != NULL);
    free(line);
    json_decref(a2);
    json_decref(attrs);
}

static void test_patch_rename(void)
{
    json_t *mods = json_pack("[{s:s, s:s, s:[s]}, {s:s, s:s}, {s:s, s:s, s:[s]}, {s:s, s:s, s:[s,s]}]", "op",
                             "replace", "attr", "mail", "values", "jane@example.org", "op", "replace", "attr",
                             "manager", "op", "replace", "attr", "userPassword", "values", "n3w-Secret", "op", "add",
                             "attr", "member", "values", "uid=a,ou=people,dc=x", "");
    s2l_audit_event ev = {.time = {1700000000, 0},
                          .request_id = 7,
                          .credential = "token #2",
                          .source = "[::1]:40000",
                          .operation = "patch",
                          .resource_type = "User",
                          .id = "abc",
                          .dn = "uid=jdoe,ou=people,dc=x",
                          .new_dn = "uid=jane,ou=people,dc=x",
                          .mods = mods,
                          .status = 200,
                          .ldap_result = 0};
    char *line = s2l_audit_line(&ev, NULL, NULL);
    json_t *j = parse_line(line);
    CHECK(line && strstr(line, "n3w-Secret") == NULL);
    CHECK_STR(json_string_value(json_object_get(j, "new_dn")), "uid=jane,ou=people,dc=x");
    CHECK_STR(json_string_value(json_object_get(j, "credential")), "token #2");
    json_t *ch = json_object_get(j, "changes");
    CHECK_INT(json_array_size(ch), 4);
    CHECK(json_object_get(json_array_get(ch, 1), "values") == NULL); /* replace with nothing */
    CHECK(json_is_true(json_object_get(json_array_get(ch, 2), "secret")));
    CHECK_INT(json_integer_value(json_object_get(json_array_get(ch, 2), "count")), 1);
    CHECK_STR(json_string_value(json_array_get(json_object_get(json_array_get(ch, 3), "values"), 1)), "");
    json_decref(j);
    free(line);
    json_decref(mods);
}

static void test_refused(void)
{
    /* refused by the gateway: nothing reached LDAP */
    s2l_audit_event ev = {.time = {1700000000, 0},
                          .request_id = 8,
                          .credential = "okta",
                          .source = "192.0.2.7:1",
                          .operation = "create",
                          .resource_type = "User",
                          .status = 400,
                          .scim_type = "invalidValue",
                          .ldap_result = -1};
    char *line = s2l_audit_line(&ev, NULL, NULL);
    CHECK_STR(line, "{\"time\":\"2023-11-14T22:13:20.000Z\",\"request_id\":8,\"credential\":\"okta\","
                    "\"source\":\"192.0.2.7:1\",\"operation\":\"create\",\"resource_type\":\"User\","
                    "\"status\":400,\"scim_type\":\"invalidValue\",\"outcome\":\"failure\"}\n");
    free(line);

    /* refused by LDAP: the result code, and a 2xx never pairs with a failed write */
    json_t *attrs = json_pack("{s:[s]}", "uid", "dup");
    ev.add_attrs = attrs;
    ev.status = 409;
    ev.scim_type = "uniqueness";
    ev.ldap_result = 68;
    line = s2l_audit_line(&ev, NULL, NULL);
    json_t *j = parse_line(line);
    CHECK_INT(json_integer_value(json_object_get(j, "ldap_result")), 68);
    CHECK_STR(json_string_value(json_object_get(j, "outcome")), "failure");
    json_decref(j);
    free(line);
    ev.status = 201;
    ev.scim_type = NULL;
    ev.ldap_result = 53;
    line = s2l_audit_line(&ev, NULL, NULL);
    CHECK(line && strstr(line, "\"outcome\":\"failure\"") != NULL);
    free(line);

    /* a delete: no changes, still a line */
    s2l_audit_event del = {.request_id = 9, .operation = "delete", .resource_type = "Group", .id = "g",
                           .dn = "cn=g,dc=x", .status = 204, .ldap_result = 0};
    line = s2l_audit_line(&del, NULL, NULL);
    j = parse_line(line);
    CHECK(json_object_get(j, "changes") == NULL);
    CHECK(json_object_get(j, "credential") == NULL);
    CHECK_STR(json_string_value(json_object_get(j, "outcome")), "success");
    json_decref(j);
    free(line);
    json_decref(attrs);
}

static void test_hostile_text(void)
{
    /* newlines, quotes, control characters and invalid UTF-8 stay on one line */
    json_t *attrs = json_object();
    json_object_set_new(attrs, "description", json_pack("[s]", "line1\nline2\r\"quoted\"\t\x01"));
    s2l_audit_event ev = {.request_id = 1,
                          .credential = "evil\nname",
                          .source = "x",
                          .operation = "create",
                          .resource_type = "User",
                          .dn = "uid=\xff\xfe,dc=x",
                          .add_attrs = attrs,
                          .status = 201,
                          .ldap_result = 0};
    char *line = s2l_audit_line(&ev, NULL, NULL);
    json_t *j = parse_line(line);
    CHECK_STR(json_string_value(json_object_get(j, "credential")), "evil\nname");
    CHECK_STR(json_string_value(json_object_get(j, "dn")), "uid=\xef\xbf\xbd\xef\xbf\xbd,dc=x");
    CHECK_STR(json_string_value(json_array_get(json_object_get(json_array_get(json_object_get(j, "changes"), 0),
                                                               "values"),
                                               0)),
              "line1\nline2\r\"quoted\"\t\x01");
    json_decref(j);
    free(line);
    json_decref(attrs);
    CHECK(s2l_audit_line(NULL, NULL, NULL) == NULL);
}

/* Loads mappings/openldap.json with extra top-level keys merged in. */
static s2l_mapping *load_with(const char *extra_json, char *err, size_t errlen)
{
    char path[4096], schemas[4096];
    snprintf(path, sizeof path, "%s/mappings/openldap.json", mf_root());
    snprintf(schemas, sizeof schemas, "%s/schemas/scim", mf_root());
    json_t *m = json_load_file(path, 0, NULL);
    json_t *extra = json_loads(extra_json, 0, NULL);
    json_object_update(m, extra);
    char tmpl[] = "/tmp/s2l-audit-mapping-XXXXXX";
    int fd = mkstemp(tmpl);
    s2l_mapping *out = NULL;
    if (fd >= 0 && json_dumpfd(m, fd, 0) == 0)
        out = s2l_mapping_load(tmpl, schemas, err, errlen);
    if (fd >= 0) {
        close(fd);
        unlink(tmpl);
    }
    json_decref(m);
    json_decref(extra);
    return out;
}

static size_t strv_len(const char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

static void test_mapping_secrets(const s2l_mapping *openldap)
{
    const char *const *s = s2l_mapping_secret_attrs(openldap);
    CHECK_INT(strv_len(s), 1);
    CHECK_STR(s ? s[0] : NULL, "userPassword");

    char err[1024] = "";
    s2l_mapping *m = load_with("{\"secret_attributes\": [\"x-apiKey\", \"USERPASSWORD\", \"carLicense\"]}", err,
                               sizeof err);
    CHECK(m != NULL);
    s = m ? s2l_mapping_secret_attrs(m) : NULL;
    CHECK_INT(strv_len(s), 3); /* userPassword once */
    CHECK(s && s2l_audit_is_secret("carlicense", s));
    CHECK(s && !s2l_audit_is_secret("mail", s));
    s2l_mapping_destroy(m);

    m = load_with("{\"secret_attributes\": \"x-apiKey\"}", err, sizeof err);
    CHECK(m == NULL);
    CHECK(strstr(err, ": $.secret_attributes: must be an array") != NULL);
    s2l_mapping_destroy(m);
    m = load_with("{\"secret_attributes\": [\"ok\", \"not an attribute\"]}", err, sizeof err);
    CHECK(m == NULL);
    CHECK(strstr(err, ": $.secret_attributes[1]: must be an LDAP attribute name") != NULL);
    s2l_mapping_destroy(m);
}

int main(void)
{
    mapping_fixture fx;
    if (!mf_init(&fx))
        return 1;
    test_time();
    test_secret_names();
    test_create(fx.openldap);
    test_patch_rename();
    test_refused();
    test_hostile_text();
    test_mapping_secrets(fx.openldap);
    mf_fini(&fx);
    return UNIT_DONE();
}
