/* it_direct_writes.c — one LDAP operation per PATCH / DELETE by id (update.c,
 * delete.c "one LDAP operation instead"): the id -> DN cache and the
 * assertion control, checked against slapd's own operation counts
 * (cn=Monitor) and the LDAP state.
 *
 *  - a PATCH whose operations do not depend on the stored values (title,
 *    active, an extension attribute) on a cached id: exactly one modify, no
 *    search; the response body from the post-read control;
 *  - a PATCH that does (displayName feeds cn's fallback): the fetch first;
 *  - If-Match: a matching ETag stays one modify; a stale one answers 412 and
 *    the entry is unchanged; a missing id answers 404 (PATCH and DELETE);
 *  - the cache going stale behind the gateway's back: a rename (the write
 *    follows the entry to its new DN) and a delete + recreate under the same
 *    DN (404, and the new entry is not touched: the assertion on entryUUID);
 *  - DELETE on a cached id: one delete; members added to a group: no fetch
 *    (the member id look-up and one modify);
 *  - ldap.id_cache_entries 0: every write looks the id up first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "it_users_common.h"

static it_env env;

static const char user_body[] =
    "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"%s\","
    "\"name\":{\"givenName\":\"Dee\",\"familyName\":\"Rect\"},\"displayName\":\"Dee Rect\",\"title\":\"T0\"}";

static char *create_user(h_gw *g, const char *user_name)
{
    char body[512];
    snprintf(body, sizeof body, user_body, user_name);
    return IT_CREATE(g, body);
}

typedef it_counted counted;

static counted request(h_gw *g, const char *method, const char *path, const char *body, const char *if_match)
{
    return it_request_counted(env.s, g, method, path, body, if_match);
}

static counted patch(h_gw *g, const char *type_path, const char *id, const char *ops, const char *if_match)
{
    char path[256];
    char *body = malloc(strlen(ops) + 128);
    H_REQUIRE(body != NULL);
    snprintf(path, sizeof path, "%s/%s", type_path, id);
    sprintf(body, "{\"schemas\":[\"%s\"],\"Operations\":%s}", IT_URN_PATCH, ops);
    counted c = request(g, "PATCH", path, body, if_match);
    free(body);
    return c;
}

#define CHECK_ONE_MODIFY(c) IT_CHECK_ONE_MODIFY(c)

static void test_direct_patch(const char *id)
{
    /* title, an extension attribute and active in one request: one modify */
    counted c = patch(env.g, "/Users", id,
                      "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"T1\"},"
                      "{\"op\":\"replace\",\"path\":\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
                      "department\",\"value\":\"Ops\"},"
                      "{\"op\":\"Replace\",\"value\":{\"active\":false}}]",
                      NULL);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    CHECK_ONE_MODIFY(&c);
    H_CHECK_STR(h_jstr(c.r.json, "title"), "T1");
    H_CHECK_STR(h_jstr(c.r.json, "userName"), "direct.one");
    H_CHECK(json_is_false(json_object_get(c.r.json, "active")));
    H_CHECK(h_header(&c.r, "ETag") != NULL);
    json_t *e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "title"), "T1");
    H_CHECK_STR(h_ldap_attr(e, "ou"), "Ops");
    H_CHECK_STR(h_ldap_attr(e, "pwdaccountlockedtime"), IT_LOCKED);
    H_CHECK_STR(h_ldap_attr(e, "cn"), "Dee Rect"); /* untouched */
    json_decref(e);
    h_resp_free(&c.r);

    /* active back: still one modify */
    c = patch(env.g, "/Users", id, "[{\"op\":\"replace\",\"path\":\"active\",\"value\":true}]", NULL);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    CHECK_ONE_MODIFY(&c);
    e = it_entry_by_id(env.s, id);
    H_CHECK(h_ldap_attr(e, "pwdaccountlockedtime") == NULL);
    json_decref(e);
    h_resp_free(&c.r);

    /* displayName feeds cn's fallback ({name.givenName} {name.familyName} first,
     * then {displayName}): the new cn depends on what is stored, so fetch first */
    c = patch(env.g, "/Users", id, "[{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"D. Rect\"}]", NULL);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    H_CHECK(c.d.search >= 1 && c.d.modify == 1);
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "displayname"), "D. Rect");
    json_decref(e);
    h_resp_free(&c.r);
}

static void test_if_match(const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/Users/%s", id);
    h_resp g = h_http(env.g, "GET", path, NULL, NULL);
    h_check_status_(&g, 200, __FILE__, __LINE__);
    char *etag = h_header(&g, "ETag") ? strdup(h_header(&g, "ETag")) : NULL;
    h_resp_free(&g);
    H_REQUIRE(etag != NULL);

    /* the current version: one modify, with the version in the assertion */
    counted c = patch(env.g, "/Users", id, "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"T2\"}]", etag);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    CHECK_ONE_MODIFY(&c);
    h_resp_free(&c.r);

    /* now stale: 412, nothing written */
    json_t *before = it_entry_by_id(env.s, id);
    c = patch(env.g, "/Users", id, "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"T3\"}]", etag);
    it_check_error_(&c.r, 412, NULL, __FILE__, __LINE__);
    json_t *after = it_entry_by_id(env.s, id);
    H_CHECK(before && after && json_equal(before, after));
    H_CHECK_STR(h_ldap_attr(after, "title"), "T2");
    json_decref(before);
    json_decref(after);
    h_resp_free(&c.r);

    /* DELETE with the stale version: 412, the entry stays */
    c = request(env.g, "DELETE", path, NULL, etag);
    it_check_error_(&c.r, 412, NULL, __FILE__, __LINE__);
    char *still = it_dn_by_id(env.s, id);
    H_CHECK(still != NULL);
    free(still);
    h_resp_free(&c.r);
    free(etag);
}

static void test_missing(void)
{
    const char *ghost = "0badc0de-0000-4000-8000-000000000000";
    counted c = patch(env.g, "/Users", ghost, "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"X\"}]", NULL);
    it_check_error_(&c.r, 404, NULL, __FILE__, __LINE__);
    H_CHECK_INT(c.d.modify, 0);
    h_resp_free(&c.r);
    c = request(env.g, "DELETE", "/Users/0badc0de-0000-4000-8000-000000000000", NULL, NULL);
    it_check_error_(&c.r, 404, NULL, __FILE__, __LINE__);
    H_CHECK_INT(c.d.del, 0);
    h_resp_free(&c.r);
}

/* Renamed behind the gateway's back: the cached DN is gone (32); the write
 * looks the id up and lands on the entry under its new name. */
static void test_renamed_behind(const char *id)
{
    char *dn = it_dn_by_id(env.s, id);
    H_REQUIRE(dn != NULL);
    char ldif[512];
    snprintf(ldif, sizeof ldif, "dn: %s\nchangetype: modrdn\nnewrdn: uid=direct.moved\ndeleteoldrdn: 1\n", dn);
    H_REQUIRE(h_ldap_ldif(env.s, ldif) == 1);
    counted c = patch(env.g, "/Users", id, "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"T4\"}]", NULL);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    H_CHECK(c.d.search >= 1); /* the look-up after the stale DN */
    json_t *e = it_entry_by_id(env.s, id);
    H_CHECK(e && it_dn_is(h_jstr(e, "dn"), "uid", "direct.moved", "ou=people," H_SUFFIX));
    H_CHECK_STR(h_ldap_attr(e, "title"), "T4");
    json_decref(e);
    h_resp_free(&c.r);
    /* and the new DN is cached: one modify again */
    c = patch(env.g, "/Users", id, "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"T5\"}]", NULL);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    CHECK_ONE_MODIFY(&c);
    h_resp_free(&c.r);
    free(dn);
}

/* Deleted and recreated under the same DN behind the gateway's back: the
 * cached DN now names another entry; the assertion on entryUUID keeps the
 * write off it and the old id answers 404. */
static void test_recreated_behind(void)
{
    char *id = create_user(env.g, "direct.twin");
    H_REQUIRE(id != NULL);
    char *dn = it_dn_by_id(env.s, id);
    H_REQUIRE(dn != NULL);
    char ldif[1024];
    snprintf(ldif, sizeof ldif, "dn: %s\nchangetype: delete\n", dn);
    H_REQUIRE(h_ldap_ldif(env.s, ldif) == 1);
    snprintf(ldif, sizeof ldif,
             "dn: %s\nobjectClass: inetOrgPerson\nuid: direct.twin\ncn: Other Twin\nsn: Twin\ntitle: Other\n", dn);
    H_REQUIRE(h_ldap_ldif(env.s, ldif) == 1);

    counted c = patch(env.g, "/Users", id, "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"Hijack\"}]", NULL);
    it_check_error_(&c.r, 404, NULL, __FILE__, __LINE__);
    h_resp_free(&c.r);
    json_t *e = h_ldap_entry(env.s, dn);
    H_CHECK_STR(h_ldap_attr(e, "title"), "Other");
    json_decref(e);

    char path[128];
    snprintf(path, sizeof path, "/Users/%s", id);
    c = request(env.g, "DELETE", path, NULL, NULL);
    it_check_error_(&c.r, 404, NULL, __FILE__, __LINE__);
    h_resp_free(&c.r);
    e = h_ldap_entry(env.s, dn);
    H_CHECK(e != NULL); /* the other entry is still there */
    json_decref(e);
    free(dn);
    free(id);
}

/* DELETE of a member of a group, user cached: the delete goes straight to the
 * DN with the assertion widened to the groups listing the user (slapd's
 * memberof-refint repeats the assertion in its modify of each group:
 * s2l/write_assertion.h), so the directory drops the member within the
 * delete. On the default mapping (the gateway keeps references) the
 * gateway's reference clean-up searches afterwards and finds nothing left;
 * with "referential_integrity": "directory" the delete is all. In both, the
 * group loses the member. (it_direct_members covers "directory" further.) */
static char *keeper_id;

static void delete_member_(h_gw *g, const char *user_name, bool cleanup)
{
    char *id = create_user(g, user_name);
    H_REQUIRE(id != NULL);
    char *udn = it_dn_by_id(env.s, id);
    char gbody[256];
    snprintf(gbody, sizeof gbody,
             "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"g-%s\"}", user_name);
    h_resp gr = h_http(env.g, "POST", "/Groups", gbody, NULL);
    h_check_status_(&gr, 201, __FILE__, __LINE__);
    char *gid = h_jstr(gr.json, "id") ? strdup(h_jstr(gr.json, "id")) : NULL;
    h_resp_free(&gr);
    H_REQUIRE(gid != NULL);
    char ops[512];
    /* a second member, so that removing the first leaves the group valid for memberof-refint */
    snprintf(ops, sizeof ops, "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"},{\"value\":\"%s\"}]}]",
             id, keeper_id);
    counted m = patch(env.g, "/Groups", gid, ops, NULL);
    h_resp_free(&m.r);
    char *gdn = it_dn_by_id(env.s, gid);
    H_CHECK(gdn && udn && h_ldap_wait_value(env.s, gdn, "member", udn, true, 3000));

    char *path = it_user_path(id);
    counted c = request(g, "DELETE", path, NULL, NULL);
    h_check_status_(&c.r, 204, __FILE__, __LINE__);
    /* the delete, then (gateway) its searches for references (member,
     * manager), which find nothing: memberof-refint already removed it */
    h_check_(c.d.del == 1 && c.d.search == (cleanup ? 2 : 0) && c.d.modify == 0, __FILE__, __LINE__,
             "DELETE (%s): got %ld search, %ld delete, %ld modify", cleanup ? "gateway" : "directory", c.d.search,
             c.d.del, c.d.modify);
    char *gone = it_dn_by_id(env.s, id);
    H_CHECK(gone == NULL);
    free(gone);
    H_CHECK(gdn && udn && h_ldap_wait_value(env.s, gdn, "member", udn, false, 3000));
    h_resp_free(&c.r);
    /* again: 404 (the pair was forgotten) */
    c = request(g, "DELETE", path, NULL, NULL);
    it_check_error_(&c.r, 404, NULL, __FILE__, __LINE__);
    H_CHECK_INT(c.d.del, 0);
    h_resp_free(&c.r);
    free(path);
    free(gdn);
    free(udn);
    free(gid);
    free(id);
}

static void test_direct_delete(void)
{
    keeper_id = create_user(env.g, "direct.keeper");
    H_REQUIRE(keeper_id != NULL);
    delete_member_(env.g, "direct.gone", true);

    char *mapping = it_mapping_variant("{\"referential_integrity\": \"directory\"}");
    H_REQUIRE(mapping != NULL);
    char *cfg = it_mapping_config(mapping);
    H_REQUIRE(cfg != NULL);
    h_gw *g2 = h_gw_start(env.s, cfg);
    free(cfg);
    H_REQUIRE(g2 != NULL);
    delete_member_(g2, "direct.gone2", false);
    h_gw_stop(g2);
    unlink(mapping);
    free(mapping);
    free(keeper_id);
}

/* The DN of the entry with entryUUID id (static buffer, for one call at a time). */
static const char *gdn_of(const char *id)
{
    static char buf[512];
    char *dn = it_dn_by_id(env.s, id);
    if (dn == NULL)
        return NULL;
    snprintf(buf, sizeof buf, "%s", dn);
    free(dn);
    return buf;
}

static void test_group_members(const char *user_id)
{
    h_resp r = h_http(env.g, "POST", "/Groups",
                      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"direct-g\"}",
                      NULL);
    h_check_status_(&r, 201, __FILE__, __LINE__);
    char *gid = h_jstr(r.json, "id") ? strdup(h_jstr(r.json, "id")) : NULL;
    h_resp_free(&r);
    H_REQUIRE(gid != NULL);
    char ops[256];
    snprintf(ops, sizeof ops, "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]", user_id);
    counted c = patch(env.g, "/Groups", gid, ops, NULL);
    H_CHECK(c.r.status == 200 || c.r.status == 204);
    /* the first add to a new group: it holds the empty-group placeholder, the
     * direct modify's assertion says it must not (122), then the full path */
    H_CHECK(c.d.search >= 1 && c.d.modify == 2);
    char *gdn = NULL;
    json_t *ge = NULL;
    {
        char *f = it_ldap_eq("entryUUID", gid);
        json_t *all = h_ldap_search(env.s, H_SUFFIX, f, NULL);
        ge = json_incref(json_array_get(all, 0));
        json_decref(all);
        free(f);
    }
    char *udn = it_dn_by_id(env.s, user_id);
    H_CHECK(ge && udn && h_ldap_has_value(ge, "member", udn, true));
    H_CHECK(ge && !h_ldap_has_value(ge, "member", "", false)); /* the placeholder went */
    /* the memberof overlay's own modify of the member (which inherits the
     * request's controls inside slapd) happened too */
    H_CHECK(udn && h_ldap_wait_value(env.s, udn, "memberOf", h_jstr(ge, "dn"), true, 3000));
    json_decref(ge);
    h_resp_free(&c.r);
    /* a group attribute that is no member: one modify */
    c = patch(env.g, "/Groups", gid, "[{\"op\":\"replace\",\"path\":\"externalId\",\"value\":\"ext-g\"}]", NULL);
    H_CHECK(c.r.status == 200 || c.r.status == 204);
    CHECK_ONE_MODIFY(&c);
    H_CHECK(udn && h_ldap_wait_value(env.s, udn, "memberOf", gdn_of(gid), true, 3000));
    h_resp_free(&c.r);
    /* removal of the last member: the direct modify would empty the group
     * (65), the full path adds the placeholder; same result */
    snprintf(ops, sizeof ops, "[{\"op\":\"remove\",\"path\":\"members[value eq \\\"%s\\\"]\"}]", user_id);
    c = patch(env.g, "/Groups", gid, ops, NULL);
    H_CHECK(c.r.status == 200 || c.r.status == 204);
    {
        char *f = it_ldap_eq("entryUUID", gid);
        json_t *all = h_ldap_search(env.s, H_SUFFIX, f, NULL);
        ge = json_incref(json_array_get(all, 0));
        json_decref(all);
        free(f);
    }
    H_CHECK(ge && udn && !h_ldap_has_value(ge, "member", udn, true));
    H_CHECK(udn && h_ldap_wait_value(env.s, udn, "memberOf", h_jstr(ge, "dn"), false, 3000));
    json_decref(ge);
    h_resp_free(&c.r);
    /* DELETE of a group: one delete, the assertion widened to its members
     * (memberOf) and the groups listing it; members lose memberOf */
    char gpath[128];
    snprintf(gpath, sizeof gpath, "/Groups/%s", gid);
    snprintf(ops, sizeof ops, "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]", user_id);
    c = patch(env.g, "/Groups", gid, ops, NULL);
    h_resp_free(&c.r);
    char *gdn_now = gdn_of(gid) ? strdup(gdn_of(gid)) : NULL;
    H_CHECK(udn && gdn_now && h_ldap_wait_value(env.s, udn, "memberOf", gdn_now, true, 3000));
    c = request(env.g, "DELETE", gpath, NULL, NULL);
    h_check_status_(&c.r, 204, __FILE__, __LINE__);
    h_check_(c.d.del == 1 && c.d.modify == 0, __FILE__, __LINE__, "DELETE group: got %ld search, %ld delete, %ld modify",
             c.d.search, c.d.del, c.d.modify);
    H_CHECK(udn && gdn_now && h_ldap_wait_value(env.s, udn, "memberOf", gdn_now, false, 3000));
    h_resp_free(&c.r);
    free(gdn_now);
    free(gdn);
    free(udn);
    free(gid);
}

/* Entra's flow: a GET by filter, then a PATCH by the id it returned: the
 * list filled the cache, the PATCH is one modify (a gateway started now,
 * so nothing else filled it). */
static void test_list_fills_cache(const char *id)
{
    h_gw *g2 = h_gw_start(env.s, NULL);
    H_REQUIRE(g2 != NULL);
    h_resp r = h_http(g2, "GET", "/Users?filter=userName%20eq%20%22direct.moved%22", NULL, NULL);
    h_check_status_(&r, 200, __FILE__, __LINE__);
    H_CHECK_STR(h_jstr(json_array_get(json_object_get(r.json, "Resources"), 0), "id"), id);
    h_resp_free(&r);
    counted c = patch(g2, "/Users", id, "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"T8\"}]", NULL);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    CHECK_ONE_MODIFY(&c);
    h_resp_free(&c.r);
    h_gw_stop(g2);
}

/* Without the cache, every write looks the id up first (and still works). */
static void test_no_cache(const char *id)
{
    h_gw *g2 = h_gw_start(env.s, "{\"ldap\":{\"id_cache_entries\":0}}");
    H_REQUIRE(g2 != NULL);
    counted c = patch(g2, "/Users", id, "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"T6\"}]", NULL);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    H_CHECK(c.d.search >= 1 && c.d.modify == 1);
    h_resp_free(&c.r);
    c = patch(g2, "/Users", id, "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"T7\"}]", NULL);
    H_CHECK(c.d.search >= 1 && c.d.modify == 1);
    json_t *e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "title"), "T7");
    json_decref(e);
    h_resp_free(&c.r);
    h_gw_stop(g2);
}

int main(void)
{
    if (it_env_start(&env, NULL)) {
        char *id = create_user(env.g, "direct.one"); /* the POST's post-read fills the cache */
        H_REQUIRE(id != NULL);
        test_direct_patch(id);
        test_if_match(id);
        test_missing();
        test_renamed_behind(id);
        test_recreated_behind();
        test_direct_delete();
        test_group_members(id);
        test_list_fills_cache(id);
        test_no_cache(id);
        free(id);
    }
    it_env_stop(&env);
    return H_DONE();
}
