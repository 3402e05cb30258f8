/* it_preview.c — `scim2ldap preview` cannot drift from the gateway.
 *
 * Two private slapds with the same layout. Every request goes to the real
 * gateway on the first; the preview of the same request (s2l_preview_write,
 * what the subcommand prints, with the ids the gateway knows passed as known
 * DNs and the current resource taken from a GET just before) is applied as
 * LDIF to the second. After each step both directories must hold the same
 * users and groups: same DNs, same attribute values (userPassword, hashed
 * with a random salt by ppolicy, is compared by a bind), same lock.
 *
 * Covered: POST users (UTF-8, a leading space, a manager, a password) and
 * groups (empty: placeholder; with members), PATCH of a user (rename, lock,
 * e-mail, manager removed), PATCH of groups (first member deletes the
 * placeholder, removing the last members takes the placeholder retry), PUT of
 * a group (members replaced) and of a user, a group rename.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "s2l/mapping.h"
#include "s2l/preview.h"

static h_slapd *s1, *s2;
static h_gw *g;
static s2l_mapping *mapping;
static json_t *known; /* SCIM id (on s1) -> DN */

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

/* printf into a new string (ends the test when out of memory). */
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    H_REQUIRE(n >= 0);
    char *s = malloc((size_t)n + 1);
    H_REQUIRE(s != NULL);
    va_start(ap, f);
    vsnprintf(s, (size_t)n + 1, f, ap);
    va_end(ap);
    return s;
}

/* Users and groups of a directory in a comparable form: entries by DN,
 * attribute names lower case, values sorted; userPassword only as "present". */
static json_t *state(h_slapd *s)
{
    static const char *const attrs[] = {"*", "pwdAccountLockedTime", NULL};
    json_t *out = json_object();
    const char *bases[] = {H_PEOPLE, H_GROUPS};
    for (size_t b = 0; b < 2; b++) {
        json_t *list = h_ldap_search(s, bases[b], "(objectClass=*)", attrs);
        size_t i;
        json_t *e;
        H_REQUIRE(list != NULL);
        json_array_foreach(list, i, e) {
            const char *dn = json_string_value(json_object_get(e, "dn"));
            json_t *a = json_object_get(e, "attrs");
            if (json_object_get(a, "userpassword"))
                json_object_set_new(a, "userpassword", json_string("(present)"));
            const char *name;
            json_t *vals;
            json_object_foreach(a, name, vals) {
                if (!json_is_array(vals))
                    continue;
                /* sort values: the order LDAP returns them in is not part of the state */
                size_t n = json_array_size(vals);
                for (size_t x = 1; x < n; x++)
                    for (size_t y = x; y > 0 && strcmp(json_string_value(json_array_get(vals, y - 1)),
                                                       json_string_value(json_array_get(vals, y))) > 0;
                         y--) {
                        json_t *t = json_incref(json_array_get(vals, y));
                        json_array_set(vals, y, json_array_get(vals, y - 1));
                        json_array_set_new(vals, y - 1, t);
                    }
            }
            json_object_set(out, dn, a);
        }
        json_decref(list);
    }
    return out;
}

static void check_same(const char *step)
{
    json_t *a = state(s1), *b = state(s2);
    bool same = json_equal(a, b);
    if (!same) {
        char *ta = json_dumps(a, JSON_INDENT(1) | JSON_SORT_KEYS), *tb = json_dumps(b, JSON_INDENT(1) | JSON_SORT_KEYS);
        fprintf(stderr, "%s: the gateway's directory:\n%s\nthe preview's directory:\n%s\n", step, ta, tb);
        free(ta);
        free(tb);
    }
    h_check_(same, __FILE__, __LINE__, "%s: directories differ", step);
    json_decref(a);
    json_decref(b);
}

/* Previews a request and applies the LDIF to s2. */
static void preview_apply(const char *step, const char *type, s2l_preview_kind kind, const json_t *body,
                          const json_t *current)
{
    s2l_preview_err err;
    s2l_preview_in in = {.mapping = mapping, .show_secrets = true,
                         .rm = s2l_mapping_find(mapping, type),
                         .kind = kind,
                         .body = body,
                         .current = current,
                         .known_ids = known};
    json_t *ops = s2l_preview_write(&in, &err);
    if (ops == NULL)
        fprintf(stderr, "%s: preview refused: %s: %s\n", step, err.path, err.err.detail);
    h_check_(ops != NULL, __FILE__, __LINE__, "%s: preview", step);
    char *ldif = ops ? s2l_preview_ldif(ops) : NULL;
    if (ldif) {
        int n = h_ldap_ldif(s2, ldif);
        if (n < 0)
            fprintf(stderr, "%s: LDIF refused by slapd:\n%s\n", step, ldif);
        h_check_(n >= 0, __FILE__, __LINE__, "%s: the preview's LDIF applies", step);
    }
    free(ldif);
    json_decref(ops);
}

static char *create(const char *step, const char *endpoint, const char *type, const char *body_text)
{
    json_error_t je;
    json_t *body = json_loads(body_text, 0, &je);
    H_REQUIRE(body != NULL);
    h_resp r = h_http(g, "POST", endpoint, body_text, NULL);
    H_CHECK_STATUS(r, 201);
    char *id = h_jstr(r.json, "id") ? strdup(h_jstr(r.json, "id")) : NULL;
    H_REQUIRE(id != NULL);
    h_resp_free(&r);
    preview_apply(step, type, S2L_PREVIEW_CREATE, body, NULL);
    char *f = fmt("(entryUUID=%s)", id);
    char *dn = h_ldap_find_dn(s1, H_SUFFIX, f);
    H_REQUIRE(dn != NULL);
    json_object_set_new(known, id, json_string(dn));
    free(dn);
    free(f);
    json_decref(body);
    check_same(step);
    return id;
}

static void update(const char *step, const char *endpoint, const char *type, const char *id, const char *method,
                   const char *body_fmt, ...) __attribute__((format(printf, 6, 7)));

static void update(const char *step, const char *endpoint, const char *type, const char *id, const char *method,
                   const char *body_fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, body_fmt);
    int n = vsnprintf(text, sizeof text, body_fmt, ap);
    va_end(ap);
    H_REQUIRE(n > 0 && (size_t)n < sizeof text);
    char *path = fmt("%s/%s", endpoint, id);
    h_resp cur = h_http(g, "GET", path, NULL, NULL);
    H_CHECK_STATUS(cur, 200);
    H_REQUIRE(cur.json != NULL);
    json_error_t je;
    json_t *body = json_loads(text, 0, &je);
    H_REQUIRE(body != NULL);
    h_resp r = h_http(g, method, path, text, NULL);
    H_CHECK(r.status == 200 || r.status == 204);
    if (r.status != 200 && r.status != 204)
        fprintf(stderr, "%s: %d %s\n", step, r.status, r.body ? r.body : "");
    h_resp_free(&r);
    preview_apply(step, type, strcmp(method, "PUT") == 0 ? S2L_PREVIEW_REPLACE : S2L_PREVIEW_PATCH, body, cur.json);
    /* a rename moves the id's DN */
    char *f = fmt("(entryUUID=%s)", id);
    char *dn = h_ldap_find_dn(s1, H_SUFFIX, f);
    if (dn)
        json_object_set_new(known, id, json_string(dn));
    free(dn);
    free(f);
    h_resp_free(&cur);
    json_decref(body);
    free(path);
    check_same(step);
}

int main(void)
{
    char why[256];
    s1 = h_slapd_start(NULL);
    s2 = h_slapd_start(NULL);
    H_REQUIRE(s1 != NULL && s2 != NULL);
    if (!h_gw_can_run(s1, why, sizeof why)) {
        H_SKIP("the gateway cannot run: %s", why);
        H_REQUIRE(getenv("S2L_REQUIRE_GATEWAY") == NULL);
        h_slapd_destroy(s1);
        h_slapd_destroy(s2);
        return H_DONE();
    }
    g = h_gw_start(s1, NULL);
    H_REQUIRE(g != NULL);
    char err[512];
    mapping = s2l_mapping_load(S2L_SOURCE_DIR "/mappings/openldap.json", S2L_SOURCE_DIR "/schemas/scim", err,
                               sizeof err);
    if (mapping == NULL)
        fprintf(stderr, "%s\n", err);
    H_REQUIRE(mapping != NULL);
    known = json_object();
    check_same("the start");

    char *alice = create("POST alice", "/Users", "User",
                         "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"alice\","
                         "\"name\":{\"givenName\":\"Alice\",\"familyName\":\"Liddell\"},"
                         "\"emails\":[{\"value\":\"alice@example.org\",\"primary\":true}],\"active\":true}");
    char *bob_body = fmt("{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
                       "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],"
                       "\"userName\":\"bob\",\"externalId\":\"ext-bob\","
                       "\"name\":{\"givenName\":\"J\\u00fcrgen\",\"familyName\":\"Bob\"},"
                       "\"emails\":[{\"value\":\"bob@example.org\",\"type\":\"work\"},"
                       "{\"value\":\"bob@home.example\",\"type\":\"home\"}],"
                       "\"phoneNumbers\":[{\"value\":\"+1 555 0100\",\"type\":\"mobile\"}],"
                       "\"password\":\"Bob-pass-1234\",\"active\":true,"
                       "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
                       "{\"department\":\" R&D\",\"manager\":{\"value\":\"%s\"}}}",
                       alice);
    char *bob = create("POST bob", "/Users", "User", bob_body);
    free(bob_body);
    H_CHECK(h_ldap_bind_ok(s1, "uid=bob," H_PEOPLE, "Bob-pass-1234"));
    H_CHECK(h_ldap_bind_ok(s2, "uid=bob," H_PEOPLE, "Bob-pass-1234"));

    char *team_body = fmt("{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"Team\","
                       "\"members\":[{\"value\":\"%s\"}]}",
                       alice);
    char *team = create("POST group Team", "/Groups", "Group", team_body);
    free(team_body);
    char *empty = create("POST group Empty", "/Groups", "Group",
                         "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"Empty\"}");

    update("PATCH bob: rename, lock, e-mail, no manager", "/Users", "User", bob, "PATCH",
           "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":["
           "{\"op\":\"Replace\",\"path\":\"userName\",\"value\":\"bob.builder\"},"
           "{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"False\"},"
           "{\"op\":\"Add\",\"path\":\"emails[type eq \\\"work\\\"].value\",\"value\":\"bob.builder@example.org\"},"
           "{\"op\":\"Remove\",\"path\":\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager\"}]}");
    json_t *renamed = h_ldap_entry(s2, "uid=bob.builder," H_PEOPLE);
    H_CHECK(renamed != NULL);
    json_decref(renamed);

    update("PATCH Empty: first member", "/Groups", "Group", empty, "PATCH",
           "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":["
           "{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]}",
           bob);
    update("PATCH Team: add bob, remove alice", "/Groups", "Group", team, "PATCH",
           "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":["
           "{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]},"
           "{\"op\":\"remove\",\"path\":\"members[value eq \\\"%s\\\"]\"}]}",
           bob, alice);
    update("PATCH Team: remove the last member (placeholder retry)", "/Groups", "Group", team, "PATCH",
           "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":["
           "{\"op\":\"remove\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]}",
           bob);
    update("PUT Team: members replaced", "/Groups", "Group", team, "PUT",
           "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"Team\","
           "\"members\":[{\"value\":\"%s\"},{\"value\":\"%s\"}]}",
           alice, bob);
    update("PUT alice", "/Users", "User", alice, "PUT",
           "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"alice\","
           "\"name\":{\"givenName\":\"Alice\",\"familyName\":\"Liddell\",\"formatted\":\"Alice L.\"},"
           "\"title\":\"Queen\",\"emails\":[{\"value\":\"alice@example.org\",\"type\":\"work\"}],"
           "\"active\":false}");
    update("PATCH Empty: rename", "/Groups", "Group", empty, "PATCH",
           "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":["
           "{\"op\":\"replace\",\"value\":{\"displayName\":\"Not Empty\"}}]}");

    free(alice);
    free(bob);
    free(team);
    free(empty);
    json_decref(known);
    s2l_mapping_destroy(mapping);
    h_gw_stop(g);
    h_slapd_destroy(s1);
    h_slapd_destroy(s2);
    return H_DONE();
}
