/* it_audit.c — the audit log (audit.enabled, audit.file) and the JSON access
 * log (access_log: "json") against a real slapd:
 *
 *  - one JSON line per write attempt, with the credential's name: create,
 *    PATCH with a rename (dn and new_dn), a password change, a write refused
 *    by LDAP (a second create of the same userName: 68 -> 409 uniqueness), one
 *    refused by the gateway before LDAP (400: no ldap_result, no changes), one
 *    refused by access control (403, read-only credential) and delete, each with resource type,
 *    id, userName, externalId, status, LDAP result and outcome; the LDAP DN is
 *    checked against the directory; an operation inside /Bulk gets its own line;
 *  - no secret anywhere: not the password (the mapping's write-only
 *    attribute), not the value of an attribute listed in the mapping's
 *    secret_attributes (title here), not a token — in the audit file or the
 *    gateway's log;
 *  - logrotate: after the file is moved away and SIGHUP, lines go to a new
 *    file at the configured path;
 *  - access_log "json": every access line on stderr is a JSON object.
 */
#include <signal.h>
#include <unistd.h>

#include "it_idp_common.h"

#define OKTA_TOKEN "okta-token-0123456789abcdef"
#define READER_TOKEN "reader-token-0123456789abcdef"
#define PASSWORD "Pa55-word-Never-Logged!"
#define SECRET_TITLE "Title-Never-Logged-42"

static const char *const okta[] = {"Authorization: Bearer " OKTA_TOKEN, NULL};
static const char *const reader[] = {"Authorization: Bearer " READER_TOKEN, NULL};

/* The audit file's lines as a JSON array (each line must parse). */
static json_t *audit_lines(const char *path)
{
    char *text = it_read_file(path);
    json_t *out = json_array();
    if (text == NULL)
        return out;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        h_check_(j != NULL, __FILE__, __LINE__, "audit line is not JSON: %s", line);
        if (j)
            json_array_append_new(out, j);
    }
    free(text);
    return out;
}

/* The first line with this operation and status. */
static json_t *find(json_t *lines, const char *operation, int status)
{
    json_t *found = NULL;
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l) {
        if (strcmp(h_jstr(l, "operation") ? h_jstr(l, "operation") : "", operation) == 0 &&
            h_jint(l, "status", 0) == status && found == NULL)
            found = l;
    }
    if (found == NULL)
        fprintf(stderr, "no audit line for %s %d\n", operation, status);
    return found;
}

/* Whether l's changes name attr (case-insensitively), and whether with a value. */
static const json_t *change_of(const json_t *l, const char *attr)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(l, "changes"), i, c) {
        if (strcasecmp(h_jstr(c, "attr") ? h_jstr(c, "attr") : "", attr) == 0)
            return c;
    }
    return NULL;
}

static void check_no_secrets(const char *what, const char *text)
{
    const char *secrets[] = {PASSWORD, SECRET_TITLE, OKTA_TOKEN, READER_TOKEN, H_TOKEN, NULL};
    for (size_t i = 0; secrets[i]; i++)
        h_check_(text && strstr(text, secrets[i]) == NULL, __FILE__, __LINE__, "%s holds the secret %s", what,
                 secrets[i]);
}

int main(void)
{
    h_slapd *s = h_slapd_start(NULL);
    H_REQUIRE(s != NULL);
    json_t *m = it_default_mapping();
    json_object_set_new(m, "secret_attributes", json_pack("[s]", "title"));
    char *mapping = it_mapping_write(m);
    json_decref(m);
    char audit_path[1024], rotated[1100];
    snprintf(audit_path, sizeof audit_path, "%s/audit.log", h_slapd_dir(s));
    snprintf(rotated, sizeof rotated, "%s.1", audit_path);
    char extra[4096];
    snprintf(extra, sizeof extra,
             "{\"mapping\":\"%s\",\"audit\":{\"enabled\":true,\"file\":\"%s\"},\"access_log\":\"json\","
             "\"auth\":{\"credentials\":[{\"name\":\"okta\",\"kind\":\"bearer\",\"token\":\"%s\"},"
             "{\"name\":\"reader\",\"kind\":\"bearer\",\"token\":\"%s\",\"read_only\":true}]}}",
             mapping, audit_path, OKTA_TOKEN, READER_TOKEN);
    h_gw *g = h_gw_start(s, extra);
    H_REQUIRE(g != NULL);

    /* create */
    h_resp r = h_http(g, "POST", "/Users",
                      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"au.user\","
                      "\"externalId\":\"ext-77\",\"name\":{\"givenName\":\"A\",\"familyName\":\"U\"},"
                      "\"password\":\"" PASSWORD "\",\"title\":\"" SECRET_TITLE "\"}",
                      okta);
    H_CHECK_STATUS(r, 201);
    char *id = strdup(h_jstr(r.json, "id") ? h_jstr(r.json, "id") : "none");
    h_resp_free(&r);
    char path[256];
    snprintf(path, sizeof path, "/Users/%s", id);
    /* refused by the gateway: the same userName again */
    r = h_http(g, "POST", "/Users",
               "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"au.user\","
               "\"name\":{\"givenName\":\"A\",\"familyName\":\"U\"}}",
               okta);
    H_CHECK_STATUS(r, 409);
    h_resp_free(&r);
    /* refused by the gateway itself: a malformed path */
    r = h_http(g, "PATCH", path,
               "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],"
               "\"Operations\":[{\"op\":\"replace\",\"path\":\"name[\",\"value\":\"X\"}]}",
               okta);
    H_CHECK_STATUS(r, 400);
    h_resp_free(&r);
    /* refused by access control */
    r = h_http(g, "PATCH", path,
               "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],"
               "\"Operations\":[{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"X\"}]}",
               reader);
    H_CHECK_STATUS(r, 403);
    h_resp_free(&r);
    /* rename + password + secret attribute */
    r = h_http(g, "PATCH", path,
               "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],"
               "\"Operations\":[{\"op\":\"replace\",\"path\":\"userName\",\"value\":\"au.renamed\"},"
               "{\"op\":\"replace\",\"path\":\"password\",\"value\":\"" PASSWORD "2\"},"
               "{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"Renamed User\"}]}",
               okta);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    json_t *e = h_ldap_entry(s, "uid=au.renamed," H_PEOPLE);
    H_CHECK(e != NULL);
    json_decref(e);

    /* an operation inside /Bulk is audited like a direct request */
    r = h_http(g, "POST", "/Bulk",
               "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:BulkRequest\"],\"Operations\":[{"
               "\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"b1\",\"data\":{\"schemas\":"
               "[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"au.bulk\","
               "\"name\":{\"givenName\":\"B\",\"familyName\":\"K\"},\"password\":\"" PASSWORD "\"}}]}",
               okta);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);

    json_t *lines = audit_lines(audit_path);
    H_CHECK_INT(json_array_size(lines), 6);
    {
        json_t *b = json_array_get(lines, json_array_size(lines) - 1);
        H_CHECK_STR(h_jstr(b, "operation"), "create");
        H_CHECK_STR(h_jstr(b, "credential"), "okta");
        H_CHECK_STR(h_jstr(b, "user_name"), "au.bulk");
        H_CHECK_INT(h_jint(b, "status", 0), 201);
        H_CHECK(change_of(b, "userPassword") != NULL);
    }
    json_t *l = find(lines, "create", 201);
    H_CHECK_STR(h_jstr(l, "credential"), "okta");
    H_CHECK_STR(h_jstr(l, "resource_type"), "User");
    H_CHECK_STR(h_jstr(l, "id"), id);
    H_CHECK_STR(h_jstr(l, "user_name"), "au.user");
    H_CHECK_STR(h_jstr(l, "external_id"), "ext-77");
    H_CHECK_STR(h_jstr(l, "dn"), "uid=au.user," H_PEOPLE);
    H_CHECK_STR(h_jstr(l, "source"), "127.0.0.1");
    H_CHECK_STR(h_jstr(l, "outcome"), "success");
    H_CHECK_INT(h_jint(l, "ldap_result", -9), 0);
    H_CHECK(h_jint(l, "request_id", 0) > 0);
    H_CHECK(h_jstr(l, "time") && strlen(h_jstr(l, "time")) == 24);
    const json_t *c = change_of(l, "userPassword");
    H_CHECK(c && json_is_true(json_object_get(c, "secret")) && json_object_get(c, "values") == NULL);
    c = change_of(l, "title");
    H_CHECK(c && json_is_true(json_object_get(c, "secret")) && json_object_get(c, "values") == NULL);
    c = change_of(l, "sn");
    H_CHECK(c && json_array_size(json_object_get(c, "values")) == 1);

    l = find(lines, "create", 409);
    H_CHECK_STR(h_jstr(l, "outcome"), "failure");
    H_CHECK_STR(h_jstr(l, "scim_type"), "uniqueness");
    H_CHECK_STR(h_jstr(l, "user_name"), "au.user");
    H_CHECK_INT(h_jint(l, "ldap_result", -9), 68); /* slapd: entryAlreadyExists */
    H_CHECK_STR(h_jstr(l, "dn"), "uid=au.user," H_PEOPLE);

    l = find(lines, "patch", 400);
    H_CHECK_STR(h_jstr(l, "outcome"), "failure");
    H_CHECK_STR(h_jstr(l, "id"), id);
    H_CHECK(l && json_object_get(l, "ldap_result") == NULL); /* refused before LDAP */
    H_CHECK(l && json_object_get(l, "changes") == NULL);

    l = find(lines, "patch", 403);
    H_CHECK_STR(h_jstr(l, "credential"), "reader");
    H_CHECK_STR(h_jstr(l, "resource_type"), "User");
    H_CHECK_STR(h_jstr(l, "id"), id);
    H_CHECK_STR(h_jstr(l, "outcome"), "failure");

    l = find(lines, "patch", 200);
    H_CHECK_STR(h_jstr(l, "dn"), "uid=au.user," H_PEOPLE);
    H_CHECK_STR(h_jstr(l, "new_dn"), "uid=au.renamed," H_PEOPLE);
    H_CHECK_STR(h_jstr(l, "user_name"), "au.renamed");
    c = change_of(l, "userPassword");
    H_CHECK(c && json_is_true(json_object_get(c, "secret")));
    c = change_of(l, "displayName");
    H_CHECK(c && strcmp(json_string_value(json_array_get(json_object_get(c, "values"), 0)), "Renamed User") == 0);
    json_decref(lines);

    /* logrotate: moved away, SIGHUP, the next line goes to a new file */
    H_REQUIRE(rename(audit_path, rotated) == 0);
    H_CHECK(h_gw_signal(g, SIGHUP) == 0);
    H_CHECK(h_gw_log_wait(g, "event=reloaded what=config", 1, 10000));
    r = h_http(g, "DELETE", path, NULL, okta);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    lines = audit_lines(audit_path);
    H_CHECK_INT(json_array_size(lines), 1);
    l = find(lines, "delete", 204);
    H_CHECK_STR(h_jstr(l, "dn"), "uid=au.renamed," H_PEOPLE);
    H_CHECK_STR(h_jstr(l, "id"), id);
    H_CHECK_INT(h_jint(l, "ldap_result", -9), 0);
    json_decref(lines);
    lines = audit_lines(rotated);
    H_CHECK_INT(json_array_size(lines), 6);
    json_decref(lines);

    char *log = it_read_file(h_gw_log_path(g)); /* (complete: every request was answered) */
    H_CHECK(h_gw_stop(g));
    char *text = it_read_file(audit_path);
    check_no_secrets("the audit log", text);
    free(text);
    text = it_read_file(rotated);
    check_no_secrets("the rotated audit log", text);
    free(text);
    /* The gateway's stderr: no secret, and every access line is JSON. */
    text = log;
    check_no_secrets("the gateway log", text);
    int json_lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        H_CHECK(strstr(line, "event=request ") == NULL);
        if (line[0] == '{') {
            json_t *j = json_loads(line, 0, NULL);
            H_CHECK(j != NULL && strcmp(h_jstr(j, "event") ? h_jstr(j, "event") : "", "request") == 0);
            json_lines += j != NULL;
            json_decref(j);
        }
    }
    H_CHECK(json_lines >= 8);
    free(text);
    free(id);
    unlink(mapping);
    free(mapping);
    h_slapd_destroy(s);
    return H_DONE();
}
