/* it_users_patch.c — PATCH /Users beyond the IdP flows: several operations
 * on different and on the same attributes (applied in order, sent as ONE
 * LDAP modify), remove forms (whole attribute, typed value, sub-attribute,
 * absent attribute), replacing a whole multi-valued attribute, op names in
 * any case, ETag / If-Match (412 on a stale version for PATCH, PUT and
 * DELETE, nothing written), and behaviour.user_patch_returns_body=false (204).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_users_common.h"

static it_env env;

static const char full_user[] =
    "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"patch.user\","
    "\"name\":{\"givenName\":\"Pat\",\"familyName\":\"Cher\"},"
    "\"displayName\":\"Pat Cher\",\"nickName\":\"Patty\",\"title\":\"Tester\","
    "\"emails\":[{\"type\":\"work\",\"value\":\"pat@work.example\",\"primary\":true},"
    "{\"type\":\"home\",\"value\":\"pat@home.example\"}],"
    "\"phoneNumbers\":[{\"type\":\"work\",\"value\":\"+1 555 0300\"},{\"type\":\"mobile\",\"value\":\"+1 555 0301\"}],"
    "\"addresses\":[{\"type\":\"work\",\"streetAddress\":\"3 Long Rd\",\"locality\":\"Austin\",\"region\":\"TX\","
    "\"postalCode\":\"73301\",\"country\":\"US\"}]}";

/* PATCH expecting 200 and exactly one LDAP modify (and no add/delete/modrdn). */
static void patch_ok_(const char *id, const char *ops, const char *file, int line)
{
    h_op_counts a, b;
    h_resp r;
    bool counted = h_slapd_op_counts(env.s, &a) == 0;

    r = it_patch(env.g, id, ops);
    counted = counted && h_slapd_op_counts(env.s, &b) == 0;
    h_check_status_(&r, 200, file, line);
    h_check_(r.json && h_header(&r, "ETag") && h_jstr(r.json, "meta.version") &&
                 strcmp(h_header(&r, "ETag"), h_jstr(r.json, "meta.version")) == 0,
             file, line, "PATCH: ETag header missing or different from meta.version");
    h_check_(counted && b.modify - a.modify == 1 && b.add == a.add && b.del == a.del && b.modrdn == a.modrdn, file,
             line, "PATCH %s: %ld modify, %ld add, %ld delete, %ld modrdn; want exactly one modify", ops,
             b.modify - a.modify, b.add - a.add, b.del - a.del, b.modrdn - a.modrdn);
    h_resp_free(&r);
}
#define PATCH_OK(id, ops) patch_ok_((id), (ops), __FILE__, __LINE__)

static void test_multiple_ops(const char *id)
{
    json_t *e;

    /* Different attributes, op names in several cases. */
    PATCH_OK(id, "[{\"op\":\"REPLACE\",\"path\":\"title\",\"value\":\"Senior Tester\"},"
                 "{\"op\":\"Replace\",\"path\":\"nickName\",\"value\":\"P.\"},"
                 "{\"op\":\"aDd\",\"path\":\"phoneNumbers\",\"value\":[{\"type\":\"fax\",\"value\":\"+1 555 0302\"}]},"
                 "{\"op\":\"replace\",\"path\":\"name.givenName\",\"value\":\"Patricia\"}]");
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "title"), "Senior Tester");
    H_CHECK_STR(h_ldap_attr(e, "scimnickname"), "P.");
    H_CHECK_STR(h_ldap_attr(e, "facsimiletelephonenumber"), "+1 555 0302");
    H_CHECK_STR(h_ldap_attr(e, "telephonenumber"), "+1 555 0300");
    H_CHECK_STR(h_ldap_attr(e, "givenname"), "Patricia");
    json_decref(e);

    /* The same attribute several times: applied in order. */
    PATCH_OK(id, "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"A\"},"
                 "{\"op\":\"replace\",\"path\":\"title\",\"value\":\"B\"},"
                 "{\"op\":\"add\",\"path\":\"displayName\",\"value\":\"Gone Soon\"},"
                 "{\"op\":\"remove\",\"path\":\"displayName\"},"
                 "{\"op\":\"add\",\"path\":\"emails\",\"value\":[{\"type\":\"work\",\"value\":\"second@work.example\"}]},"
                 "{\"op\":\"remove\",\"path\":\"emails[value eq \\\"pat@work.example\\\"]\"}]");
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "title"), "B");
    H_CHECK_INT(it_nvals(e, "title"), 1);
    H_CHECK(h_ldap_attr(e, "displayname") == NULL);
    H_CHECK(h_ldap_has_value(e, "mail", "second@work.example", false));
    H_CHECK(!h_ldap_has_value(e, "mail", "pat@work.example", false));
    H_CHECK_STR(h_ldap_attr(e, "scimhomeemail"), "pat@home.example");
    json_decref(e);
}

static void test_remove_forms(const char *id)
{
    json_t *e;
    h_resp r;

    /* A typed value's sub-attribute: only that value goes. */
    PATCH_OK(id, "[{\"op\":\"remove\",\"path\":\"phoneNumbers[type eq \\\"mobile\\\"].value\"}]");
    e = it_entry_by_id(env.s, id);
    H_CHECK(h_ldap_attr(e, "mobile") == NULL);
    H_CHECK_STR(h_ldap_attr(e, "telephonenumber"), "+1 555 0300");
    H_CHECK_STR(h_ldap_attr(e, "facsimiletelephonenumber"), "+1 555 0302");
    json_decref(e);

    /* A typed value. */
    PATCH_OK(id, "[{\"op\":\"Remove\",\"path\":\"emails[type eq \\\"home\\\"]\"}]");
    e = it_entry_by_id(env.s, id);
    H_CHECK(h_ldap_attr(e, "scimhomeemail") == NULL);
    H_CHECK(h_ldap_has_value(e, "mail", "second@work.example", false));
    json_decref(e);

    /* One address sub-attribute, then the whole attribute. */
    PATCH_OK(id, "[{\"op\":\"remove\",\"path\":\"addresses[type eq \\\"work\\\"].postalCode\"}]");
    e = it_entry_by_id(env.s, id);
    H_CHECK(h_ldap_attr(e, "postalcode") == NULL);
    H_CHECK_STR(h_ldap_attr(e, "l"), "Austin");
    json_decref(e);
    PATCH_OK(id, "[{\"op\":\"remove\",\"path\":\"addresses\"}]");
    e = it_entry_by_id(env.s, id);
    H_CHECK(h_ldap_attr(e, "street") == NULL);
    H_CHECK(h_ldap_attr(e, "l") == NULL);
    H_CHECK(h_ldap_attr(e, "st") == NULL);
    H_CHECK(h_ldap_attr(e, "c") == NULL);
    json_decref(e);

    /* A sub-attribute of name; a simple attribute. */
    PATCH_OK(id, "[{\"op\":\"remove\",\"path\":\"name.givenName\"},{\"op\":\"remove\",\"path\":\"nickName\"}]");
    e = it_entry_by_id(env.s, id);
    H_CHECK(h_ldap_attr(e, "givenname") == NULL);
    H_CHECK(h_ldap_attr(e, "scimnickname") == NULL);
    H_CHECK_STR(h_ldap_attr(e, "sn"), "Cher");
    json_decref(e);

    /* Removing what is not there is a success (IdPs retry), and writes nothing. */
    {
        char *before = h_ldap_snapshot(env.s), *after;

        r = it_patch(env.g, id, "[{\"op\":\"remove\",\"path\":\"nickName\"},"
                                "{\"op\":\"remove\",\"path\":\"emails[type eq \\\"home\\\"]\"}]");
        H_CHECK_STATUS(r, 200);
        h_resp_free(&r);
        after = h_ldap_snapshot(env.s);
        H_CHECK(h_snapshot_same(before, after));
        free(before);
        free(after);
    }
}

static void test_replace_multi(const char *id)
{
    json_t *e;

    /* Replacing emails replaces every value, of every type. */
    PATCH_OK(id, "[{\"op\":\"add\",\"path\":\"emails\",\"value\":[{\"type\":\"home\",\"value\":\"h@home.example\"}]},"
                 "{\"op\":\"replace\",\"path\":\"emails\",\"value\":[{\"type\":\"work\",\"value\":\"only@work.example\"}]}]");
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "mail"), "only@work.example");
    H_CHECK_INT(it_nvals(e, "mail"), 1);
    H_CHECK(h_ldap_attr(e, "scimhomeemail") == NULL);
    json_decref(e);

    /* A filtered value replace. */
    PATCH_OK(id, "[{\"op\":\"replace\",\"path\":\"emails[type eq \\\"work\\\"].value\",\"value\":\"new@work.example\"}]");
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "mail"), "new@work.example");
    H_CHECK_INT(it_nvals(e, "mail"), 1);
    json_decref(e);

    /* Entra's no-path value with a boolean as a string. */
    PATCH_OK(id, "[{\"op\":\"Replace\",\"value\":{\"active\":\"False\",\"title\":\"Paused\"}}]");
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "pwdaccountlockedtime"), IT_LOCKED);
    H_CHECK_STR(h_ldap_attr(e, "title"), "Paused");
    json_decref(e);
    PATCH_OK(id, "[{\"op\":\"Replace\",\"value\":{\"active\":\"True\"}}]");
    e = it_entry_by_id(env.s, id);
    H_CHECK(e && h_ldap_attr(e, "pwdaccountlockedtime") == NULL);
    json_decref(e);
}

static char *get_etag(const char *path)
{
    h_resp r = h_http(env.g, "GET", path, NULL, NULL);
    char *tag = h_header(&r, "ETag") ? strdup(h_header(&r, "ETag")) : NULL;

    H_CHECK_STATUS(r, 200);
    H_CHECK(tag != NULL);
    h_resp_free(&r);
    return tag;
}

static void test_etag(const char *id)
{
    char *path = it_user_path(id);
    char *tag1, *tag1b, *tag2;
    char hdr[256];
    const char *im[2] = {hdr, NULL};
    char *before, *after;
    h_resp r;

    H_REQUIRE(path != NULL);
    tag1 = get_etag(path);
    tag1b = get_etag(path);
    H_CHECK_STR(tag1b, tag1);
    H_REQUIRE(tag1 != NULL);

    snprintf(hdr, sizeof hdr, "If-Match: %s", tag1);
    r = h_http(env.g, "PATCH", path,
               "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"V2\"}]}",
               im);
    H_CHECK_STATUS(r, 200);
    H_CHECK(h_header(&r, "ETag") != NULL && strcmp(h_header(&r, "ETag"), tag1) != 0);
    h_resp_free(&r);
    tag2 = get_etag(path);
    H_CHECK(tag2 && strcmp(tag2, tag1) != 0);

    /* Stale If-Match: 412 for PATCH, PUT and DELETE; nothing written. */
    before = h_ldap_snapshot(env.s);
    r = h_http(env.g, "PATCH", path,
               "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"V3\"}]}",
               im);
    IT_CHECK_ERROR(r, 412, NULL);
    h_resp_free(&r);
    r = h_http(env.g, "PUT", path, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"patch.user\",\"title\":\"V3\"}",
               im);
    IT_CHECK_ERROR(r, 412, NULL);
    h_resp_free(&r);
    r = h_http(env.g, "DELETE", path, NULL, im);
    IT_CHECK_ERROR(r, 412, NULL);
    h_resp_free(&r);
    r = h_http(env.g, "DELETE", path, NULL, (const char *const[]){"If-Match: \"not-a-version\"", NULL});
    IT_CHECK_ERROR(r, 412, NULL);
    h_resp_free(&r);
    after = h_ldap_snapshot(env.s);
    H_CHECK(h_snapshot_same(before, after));
    free(before);
    free(after);

    /* The current version, or "*", is accepted. */
    snprintf(hdr, sizeof hdr, "If-Match: %s", tag2);
    r = h_http(env.g, "PUT", path,
               "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"patch.user\",\"title\":\"V3\","
               "\"name\":{\"familyName\":\"Cher\"},\"emails\":[{\"type\":\"work\",\"value\":\"new@work.example\"}]}",
               im);
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "title"), "V3");
    h_resp_free(&r);
    r = h_http(env.g, "PATCH", path,
               "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"V4\"}]}",
               (const char *const[]){"If-Match: *", NULL});
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    {
        json_t *e = it_entry_by_id(env.s, id);

        H_CHECK_STR(h_ldap_attr(e, "title"), "V4");
        json_decref(e);
    }
    free(tag1);
    free(tag1b);
    free(tag2);
    free(path);
}

/* behaviour.user_patch_returns_body=false: 204 and no body, change made. */
static void test_no_body(const char *id)
{
    h_gw *g2 = h_gw_start(env.s, "{\"behaviour\":{\"user_patch_returns_body\":false}}");
    h_resp r;
    json_t *e;

    H_REQUIRE(g2 != NULL);
    r = it_patch(g2, id, "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"Quiet\"}]");
    H_CHECK_STATUS(r, 204);
    H_CHECK_INT(r.body_len, 0);
    h_resp_free(&r);
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "title"), "Quiet");
    json_decref(e);
    h_gw_stop(g2);
}

int main(void)
{
    if (it_env_start(&env, NULL)) {
        char *id = IT_CREATE(env.g, full_user);

        H_REQUIRE(id != NULL);
        test_multiple_ops(id);
        test_remove_forms(id);
        test_replace_multi(id);
        test_etag(id);
        test_no_body(id);
        free(id);
    }
    it_env_stop(&env);
    return H_DONE();
}
