/* it_direct_members.c — member changes and deletes under
 * "referential_integrity": "directory" with the assertion widened for slapd's
 * memberof overlay (s2l/write_assertion.h; update.c, delete.c "one LDAP
 * operation instead"), checked against slapd's own operation counts
 * (cn=Monitor), its stats log and the LDAP state read with libldap.
 *
 * slapd here: memberof with memberof-refint (the directory removes a deleted
 * entry from its groups and a deleted group from its members' memberOf within
 * the delete), monitor, the stats log.
 *
 *  - PATCH add / remove members of a cached group: the id look-up and one
 *    modify, no read of the group; member and memberOf exactly right;
 *  - the first add to a group holding the empty-group placeholder: the
 *    assertion says "no placeholder", fails, and the read path deletes it;
 *  - DELETE of a user and of a group: one delete, nothing else; the groups
 *    and members follow;
 *  - the overlay never failed on the assertion (no "memberof_value_modify ...
 *    err=122" in slapd's log), which it would with the type's plain assertion;
 *  - a member's kept sub-attributes (scimKept) go with it: the read path;
 *    other kept items do not stop the one-modify path;
 *  - with slapd's refint overlay too: still one delete; manager and member follow;
 *  - stale: a group / user deleted and recreated under the same DN behind the
 *    gateway's back answers 404 and the new entry (and its members) are not
 *    touched; an If-Match that no longer matches answers 412, nothing changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "it_users_common.h"

static h_slapd *slapd;
static h_gw *gw;

typedef it_counted counted;

static counted request(const char *method, const char *path, const char *body, const char *if_match)
{
    return it_request_counted(slapd, gw, method, path, body, if_match);
}

static counted patch_group(const char *gid, const char *ops, const char *if_match)
{
    char path[256], body[2048];
    snprintf(path, sizeof path, "/Groups/%s", gid);
    snprintf(body, sizeof body, "{\"schemas\":[\"%s\"],\"Operations\":%s}", IT_URN_PATCH, ops);
    return request("PATCH", path, body, if_match);
}

static void check_counts_(const counted *c, long search, long modify, long del, const char *what, const char *file,
                          int line)
{
    h_check_(c->d.search == search && c->d.modify == modify && c->d.del == del && c->d.add == 0 &&
                 c->d.modrdn == 0,
             file, line, "%s: want %ld search, %ld modify, %ld delete; got %ld search, %ld modify, %ld add, %ld delete",
             what, search, modify, del, c->d.search, c->d.modify, c->d.add, c->d.del);
}
#define CHECK_COUNTS(c, s, m, d, what) check_counts_((c), (s), (m), (d), (what), __FILE__, __LINE__)

static char *create_user(const char *name)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"%s\",\"name\":{\"givenName\":\"M\","
             "\"familyName\":\"%s\"},\"displayName\":\"M %s\"}",
             name, name, name);
    return IT_CREATE(gw, body);
}

static char *create_group(const char *name)
{
    char body[256];
    snprintf(body, sizeof body, "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"%s\"}",
             name);
    h_resp r = h_http(gw, "POST", "/Groups", body, NULL);
    h_check_status_(&r, 201, __FILE__, __LINE__);
    char *id = h_jstr(r.json, "id") ? strdup(h_jstr(r.json, "id")) : NULL;
    h_resp_free(&r);
    return id;
}

/* Entry dn holds exactly the n values of attr in want (DNs compared without case). */
static void check_exact_(const char *dn, const char *attr, const char *const *want, size_t n, const char *file,
                         int line)
{
    json_t *e = dn ? h_ldap_entry(slapd, dn) : NULL;
    char lower[64];
    size_t k;
    for (k = 0; attr[k] && k + 1 < sizeof lower; k++)
        lower[k] = (char)(attr[k] >= 'A' && attr[k] <= 'Z' ? attr[k] + 32 : attr[k]);
    lower[k] = '\0';
    size_t got = it_nvals(e, lower);
    bool ok = e != NULL && got == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = want[i] && h_ldap_has_value(e, lower, want[i], true);
    char *text = e ? json_dumps(json_object_get(json_object_get(e, "attrs"), lower), JSON_COMPACT) : NULL;
    h_check_(ok, file, line, "%s of %s: want %zu values, got %s", attr, dn ? dn : "(null)", n,
             text ? text : "(none)");
    free(text);
    json_decref(e);
}
#define CHECK_EXACT(dn, attr, ...)                                                                            \
    do {                                                                                                      \
        const char *const want_[] = {NULL, __VA_ARGS__};                                                      \
        check_exact_((dn), (attr), want_ + 1, sizeof want_ / sizeof want_[0] - 1, __FILE__, __LINE__);        \
    } while (0)
#define CHECK_NONE(dn, attr) check_exact_((dn), (attr), NULL, 0, __FILE__, __LINE__)

static bool exists(const char *dn)
{
    json_t *e = h_ldap_entry(slapd, dn);
    json_decref(e);
    return e != NULL;
}

/* Lines of slapd's log where the memberof overlay's own modify failed on
 * the assertion. */
static long memberof_assertion_failures(void)
{
    FILE *f = fopen(h_slapd_log_path(slapd), "r");
    char line[4096];
    long n = 0;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "memberof_value_modify") && strstr(line, "err=122"))
            n++;
    fclose(f);
    return n;
}

static const char *ops_add(const char *const *ids, size_t n)
{
    static char buf[1024];
    size_t o = (size_t)snprintf(buf, sizeof buf, "[{\"op\":\"add\",\"path\":\"members\",\"value\":[");
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s{\"value\":\"%s\"}", i ? "," : "", ids[i]);
    snprintf(buf + o, sizeof buf - o, "]}]");
    return buf;
}

static const char *ops_remove(const char *id)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "[{\"op\":\"remove\",\"path\":\"members[value eq \\\"%s\\\"]\"}]", id);
    return buf;
}

static void test_flow(void)
{
    char *u1 = create_user("dm.one"), *u2 = create_user("dm.two"), *u3 = create_user("dm.three");
    char *gid = create_group("dm-group");
    H_REQUIRE(u1 && u2 && u3 && gid);
    char *d1 = it_dn_by_id(slapd, u1), *d2 = it_dn_by_id(slapd, u2), *d3 = it_dn_by_id(slapd, u3);
    char *gdn = it_dn_by_id(slapd, gid);
    H_REQUIRE(d1 && d2 && d3 && gdn);
    CHECK_EXACT(gdn, "member", ""); /* the empty-group placeholder */

    /* the first add: the group holds the placeholder, the assertion says it
     * must not (122); once more deleting it, the assertion saying it is there */
    const char *first[] = {u1, u2};
    counted c = patch_group(gid, ops_add(first, 2), NULL);
    H_CHECK(c.r.status == 204 || c.r.status == 200);
    CHECK_COUNTS(&c, 1, 2, 0, "PATCH first add (placeholder)");
    h_resp_free(&c.r);
    CHECK_EXACT(gdn, "member", d1, d2);
    CHECK_EXACT(d1, "memberOf", gdn);
    CHECK_EXACT(d2, "memberOf", gdn);

    /* add: the member id look-up and one modify; memberOf follows */
    const char *third[] = {u3};
    c = patch_group(gid, ops_add(third, 1), NULL);
    H_CHECK(c.r.status == 204 || c.r.status == 200);
    CHECK_COUNTS(&c, 1, 1, 0, "PATCH add member");
    h_resp_free(&c.r);
    CHECK_EXACT(gdn, "member", d1, d2, d3);
    CHECK_EXACT(d3, "memberOf", gdn);

    /* add of a present member (permissive) and an attribute with it: same path */
    char ops[512];
    snprintf(ops, sizeof ops,
             "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]},"
             "{\"op\":\"replace\",\"path\":\"externalId\",\"value\":\"dm-ext\"}]",
             u3);
    c = patch_group(gid, ops, NULL);
    H_CHECK(c.r.status == 204 || c.r.status == 200);
    CHECK_COUNTS(&c, 1, 1, 0, "PATCH add present member + externalId");
    h_resp_free(&c.r);
    CHECK_EXACT(gdn, "member", d1, d2, d3);
    CHECK_EXACT(gdn, "scimExternalId", "dm-ext");

    /* remove: one modify after the look-up; u1 loses memberOf */
    c = patch_group(gid, ops_remove(u1), NULL);
    H_CHECK(c.r.status == 204 || c.r.status == 200);
    CHECK_COUNTS(&c, 1, 1, 0, "PATCH remove member");
    h_resp_free(&c.r);
    CHECK_EXACT(gdn, "member", d2, d3);
    CHECK_NONE(d1, "memberOf");

    /* remove of a member that is not there (Entra does that): LDAP says 16,
     * nothing written, the read path answers as it always did */
    c = patch_group(gid, ops_remove(u1), NULL);
    H_CHECK(c.r.status == 204 || c.r.status == 200);
    h_resp_free(&c.r);
    CHECK_EXACT(gdn, "member", d2, d3);

    /* If-Match: the current version → the same one modify; a stale one → 412, nothing changed */
    char gpath[128];
    snprintf(gpath, sizeof gpath, "/Groups/%s", gid);
    h_resp g = h_http(gw, "GET", gpath, NULL, NULL);
    h_check_status_(&g, 200, __FILE__, __LINE__);
    char *etag = h_header(&g, "ETag") ? strdup(h_header(&g, "ETag")) : NULL;
    h_resp_free(&g);
    H_REQUIRE(etag != NULL);
    c = patch_group(gid, ops_add(first, 1), etag);
    H_CHECK(c.r.status == 204 || c.r.status == 200);
    CHECK_COUNTS(&c, 1, 1, 0, "PATCH add member with If-Match");
    h_resp_free(&c.r);
    CHECK_EXACT(gdn, "member", d1, d2, d3);
    CHECK_EXACT(d1, "memberOf", gdn);
    c = patch_group(gid, ops_remove(u2), etag); /* the version before that add */
    it_check_error_(&c.r, 412, NULL, __FILE__, __LINE__);
    H_CHECK_INT(c.d.modify, 1); /* the direct try, refused by the assertion */
    h_resp_free(&c.r);
    CHECK_EXACT(gdn, "member", d1, d2, d3);
    CHECK_EXACT(d2, "memberOf", gdn);
    free(etag);

    /* DELETE of a member: one delete; memberof-refint drops it from the group */
    char *upath = it_user_path(u2);
    c = request("DELETE", upath, NULL, NULL);
    h_check_status_(&c.r, 204, __FILE__, __LINE__);
    CHECK_COUNTS(&c, 0, 0, 1, "DELETE user");
    h_resp_free(&c.r);
    char *gone = it_dn_by_id(slapd, u2);
    H_CHECK(gone == NULL);
    free(gone);
    CHECK_EXACT(gdn, "member", d1, d3);
    c = request("DELETE", upath, NULL, NULL); /* forgotten: 404 */
    it_check_error_(&c.r, 404, NULL, __FILE__, __LINE__);
    H_CHECK_INT(c.d.del, 0);
    h_resp_free(&c.r);
    free(upath);

    /* DELETE of a group that is itself a member of another: one delete; its
     * members lose memberOf, the outer group loses it as a member */
    char *outer = create_group("dm-outer");
    H_REQUIRE(outer != NULL);
    char *odn = it_dn_by_id(slapd, outer);
    const char *inner[] = {gid, u3};
    c = patch_group(outer, ops_add(inner, 2), NULL);
    H_CHECK(c.r.status == 204 || c.r.status == 200);
    h_resp_free(&c.r);
    CHECK_EXACT(odn, "member", gdn, d3);
    CHECK_EXACT(gdn, "memberOf", odn);
    CHECK_EXACT(d3, "memberOf", gdn, odn);
    c = request("DELETE", gpath, NULL, NULL);
    h_check_status_(&c.r, 204, __FILE__, __LINE__);
    CHECK_COUNTS(&c, 0, 0, 1, "DELETE group");
    h_resp_free(&c.r);
    H_CHECK(!exists(gdn));
    CHECK_NONE(d1, "memberOf");
    CHECK_EXACT(d3, "memberOf", odn);
    CHECK_EXACT(odn, "member", d3);

    /* none of that made the overlay fail on the assertion */
    H_CHECK_INT(memberof_assertion_failures(), 0);

    free(odn);
    free(outer);
    free(d1);
    free(d2);
    free(d3);
    free(gdn);
    free(u1);
    free(u2);
    free(u3);
    free(gid);
}

/* Deleted and recreated under the same DN behind the gateway's back: the
 * cached DN names another entry; the widened assertion is still false on it
 * (122), the look-up answers 404 and neither the new entry nor its members
 * change. */
static void test_stale(void)
{
    char *u = create_user("dm.stale"), *m = create_user("dm.member");
    char *gid = create_group("dm-stale"), *gid2 = create_group("dm-stale2");
    H_REQUIRE(u && m && gid && gid2);
    char *udn = it_dn_by_id(slapd, u), *mdn = it_dn_by_id(slapd, m);
    char *gdn = it_dn_by_id(slapd, gid), *gdn2 = it_dn_by_id(slapd, gid2);
    H_REQUIRE(udn && mdn && gdn && gdn2);
    const char *both[] = {u, m};
    counted c = patch_group(gid, ops_add(both, 2), NULL);
    h_resp_free(&c.r);
    c = patch_group(gid2, ops_add(both, 2), NULL);
    h_resp_free(&c.r);
    CHECK_EXACT(gdn, "member", udn, mdn);
    CHECK_EXACT(gdn2, "member", udn, mdn);

    /* both groups replaced by others listing only m */
    char ldif[2048];
    const char *const dns[] = {gdn, gdn2}, *const cns[] = {"dm-stale", "dm-stale2"};
    for (int i = 0; i < 2; i++) {
        snprintf(ldif, sizeof ldif, "dn: %s\nchangetype: delete\n", dns[i]);
        H_REQUIRE(h_ldap_ldif(slapd, ldif) == 1);
        snprintf(ldif, sizeof ldif, "dn: %s\nobjectClass: groupOfNames\ncn: %s\nmember: %s\n", dns[i], cns[i], mdn);
        H_REQUIRE(h_ldap_ldif(slapd, ldif) == 1);
    }
    /* PATCH: the direct modify is refused (122; and once more with the
     * placeholder variant), the look-up answers 404 */
    const char *one[] = {u};
    c = patch_group(gid, ops_add(one, 1), NULL);
    it_check_error_(&c.r, 404, NULL, __FILE__, __LINE__);
    H_CHECK_INT(c.d.modify, 2);
    h_resp_free(&c.r);
    c = patch_group(gid, ops_remove(m), NULL);
    it_check_error_(&c.r, 404, NULL, __FILE__, __LINE__);
    h_resp_free(&c.r);
    CHECK_EXACT(gdn, "member", mdn);
    /* DELETE: the same with the delete */
    char gpath[128];
    snprintf(gpath, sizeof gpath, "/Groups/%s", gid2);
    c = request("DELETE", gpath, NULL, NULL);
    it_check_error_(&c.r, 404, NULL, __FILE__, __LINE__);
    H_CHECK_INT(c.d.del, 1);
    h_resp_free(&c.r);
    CHECK_EXACT(gdn2, "member", mdn); /* the other group is still there */
    CHECK_EXACT(mdn, "memberOf", gdn, gdn2);
    CHECK_NONE(udn, "memberOf");

    /* the user replaced by another entry, which the group lists */
    snprintf(ldif, sizeof ldif, "dn: %s\nchangetype: delete\n", udn);
    H_REQUIRE(h_ldap_ldif(slapd, ldif) == 1);
    snprintf(ldif, sizeof ldif, "dn: %s\nobjectClass: inetOrgPerson\nuid: dm.stale\ncn: Other\nsn: Other\n", udn);
    H_REQUIRE(h_ldap_ldif(slapd, ldif) == 1);
    snprintf(ldif, sizeof ldif, "dn: %s\nchangetype: modify\nadd: member\nmember: %s\n", gdn, udn);
    H_REQUIRE(h_ldap_ldif(slapd, ldif) == 1);
    char *upath = it_user_path(u);
    c = request("DELETE", upath, NULL, NULL);
    it_check_error_(&c.r, 404, NULL, __FILE__, __LINE__);
    H_CHECK_INT(c.d.del, 1);
    h_resp_free(&c.r);
    H_CHECK(exists(udn));
    CHECK_EXACT(gdn, "member", mdn, udn);
    CHECK_EXACT(udn, "memberOf", gdn);
    free(upath);
    free(gdn2);
    free(gid2);
    free(udn);
    free(mdn);
    free(gdn);
    free(u);
    free(m);
    free(gid);
}

/* A member's extra sub-attributes kept in scimKept (Azure's displayName)
 * go with it. The one-modify path cannot name them without reading: its
 * assertion says the group keeps no member items, fails (122) and the read
 * path removes member and item together. Other kept items (an unknown
 * schema, as Entra sends) do not stop the one-modify path. */
static void test_kept_items(void)
{
    char *u = create_user("dm.kept"), *v = create_user("dm.plain");
    H_REQUIRE(u && v);
    char body[1024];
    snprintf(body, sizeof body,
             "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\",\"urn:example:params:scim:x\"],"
             "\"displayName\":\"dm-kept\",\"members\":[{\"value\":\"%s\",\"displayName\":\"Kept Name\"}]}",
             u);
    h_resp r = h_http(gw, "POST", "/Groups", body, NULL);
    h_check_status_(&r, 201, __FILE__, __LINE__);
    char *gid = h_jstr(r.json, "id") ? strdup(h_jstr(r.json, "id")) : NULL;
    h_resp_free(&r);
    H_REQUIRE(gid != NULL);
    char *gdn = it_dn_by_id(slapd, gid), *udn = it_dn_by_id(slapd, u), *vdn = it_dn_by_id(slapd, v);
    H_REQUIRE(gdn && udn && vdn);
    json_t *e = h_ldap_entry(slapd, gdn);
    size_t kept = it_nvals(e, "scimkept");
    json_decref(e);
    H_CHECK(kept == 2); /* the schema and the member's displayName */

    /* adding another member: the kept schema is no member item, one modify */
    const char *plain[] = {v};
    counted c = patch_group(gid, ops_add(plain, 1), NULL);
    H_CHECK(c.r.status == 204 || c.r.status == 200);
    CHECK_COUNTS(&c, 1, 1, 0, "PATCH add member next to kept items");
    h_resp_free(&c.r);
    CHECK_EXACT(gdn, "member", udn, vdn);

    /* removing the member with the kept displayName: refused, then the read path */
    c = patch_group(gid, ops_remove(u), NULL);
    H_CHECK(c.r.status == 204 || c.r.status == 200);
    H_CHECK(c.d.modify == 2 && c.d.search >= 2);
    h_resp_free(&c.r);
    CHECK_EXACT(gdn, "member", vdn);
    CHECK_NONE(udn, "memberOf");
    e = h_ldap_entry(slapd, gdn);
    H_CHECK_INT((long)it_nvals(e, "scimkept"), 1);
    H_CHECK(e && !h_ldap_has_value(e, "scimkept", "Kept Name", false) &&
            strstr(h_ldap_attr(e, "scimkept") ? h_ldap_attr(e, "scimkept") : "", "members") == NULL);
    json_decref(e);
    free(gdn);
    free(udn);
    free(vdn);
    free(gid);
    free(u);
    free(v);
}

/* With slapd's refint overlay too (on member and manager): it runs its own
 * modifies without the client's controls, after the delete. Still one
 * delete from the gateway; the manager reference and the membership go. */
static void test_refint_overlay(const char *mapping_cfg)
{
    h_slapd_opts o = h_slapd_all();
    o.stats_log = true;
    h_slapd *s1 = slapd;
    h_gw *g1 = gw;
    slapd = h_slapd_start(&o);
    H_REQUIRE(slapd != NULL);
    gw = h_gw_start(slapd, mapping_cfg);
    H_REQUIRE(gw != NULL);

    char *boss = create_user("dm.boss"), *staff = create_user("dm.staff"), *gid = create_group("dm-refint");
    H_REQUIRE(boss && staff && gid);
    char *bdn = it_dn_by_id(slapd, boss), *sdn = it_dn_by_id(slapd, staff), *gdn = it_dn_by_id(slapd, gid);
    H_REQUIRE(bdn && sdn && gdn);
    char ops[512];
    snprintf(ops, sizeof ops,
             "[{\"op\":\"replace\",\"path\":\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager\","
             "\"value\":{\"value\":\"%s\"}}]",
             boss);
    char path[256], body[1024];
    snprintf(path, sizeof path, "/Users/%s", staff);
    snprintf(body, sizeof body, "{\"schemas\":[\"%s\"],\"Operations\":%s}", IT_URN_PATCH, ops);
    h_resp r = h_http(gw, "PATCH", path, body, NULL);
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    const char *both[] = {boss, staff};
    counted c = patch_group(gid, ops_add(both, 2), NULL);
    h_resp_free(&c.r);
    CHECK_EXACT(gdn, "member", bdn, sdn);
    CHECK_EXACT(sdn, "manager", bdn);

    char *bpath = it_user_path(boss);
    c = request("DELETE", bpath, NULL, NULL);
    h_check_status_(&c.r, 204, __FILE__, __LINE__);
    /* the gateway's one delete (refint's own modifies may show in cn=Monitor) */
    h_check_(c.d.del == 1 && c.d.search == 0 && c.d.add == 0, __FILE__, __LINE__,
             "DELETE with refint: got %ld search, %ld delete", c.d.search, c.d.del);
    h_resp_free(&c.r);
    H_CHECK(h_ldap_wait_value(slapd, sdn, "manager", bdn, false, 5000));
    H_CHECK(h_ldap_wait_value(slapd, gdn, "member", bdn, false, 5000));
    CHECK_EXACT(gdn, "member", sdn);
    CHECK_EXACT(sdn, "memberOf", gdn);
    H_CHECK_INT(memberof_assertion_failures(), 0);
    free(bpath);
    free(bdn);
    free(sdn);
    free(gdn);
    free(boss);
    free(staff);
    free(gid);
    h_gw_stop(gw);
    h_slapd_destroy(slapd);
    slapd = s1;
    gw = g1;
}

int main(void)
{
    h_slapd_opts o = h_slapd_defaults();
    o.stats_log = true;
    slapd = h_slapd_start(&o);
    H_REQUIRE(slapd != NULL);
    char why[512] = "";
    if (!h_gw_can_run(slapd, why, sizeof why)) {
        H_SKIP("the gateway cannot run yet (%s)", why);
        h_slapd_destroy(slapd);
        return H_DONE();
    }
    char *mapping = it_mapping_variant("{\"referential_integrity\": \"directory\"}");
    H_REQUIRE(mapping != NULL);
    char *cfg = it_mapping_config(mapping);
    H_REQUIRE(cfg != NULL);
    gw = h_gw_start(slapd, cfg);
    H_REQUIRE(gw != NULL);
    test_flow();
    test_kept_items();
    test_stale();
    test_refint_overlay(cfg);
    h_gw_stop(gw);
    free(cfg);
    unlink(mapping);
    free(mapping);
    h_slapd_destroy(slapd);
    return H_DONE();
}
