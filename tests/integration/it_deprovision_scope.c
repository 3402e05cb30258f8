/* it_deprovision_scope.c — deprovisioning policies and the provisioning scope
 * on OpenLDAP, end to end (mappings/README.md, "Deprovisioning policies" and
 * "Provisioning scope"), every write checked over LDAP:
 *
 *  - active_false "move_to" (with a flag, shadowFlag bit 2): active false
 *    moves the entry (modrdn with new superior) into ou=disabled, still found
 *    by its id, active true moves it back; group members follow, by the
 *    gateway's refint (slapd without memberof/refint) and by slapd's refint
 *    overlay ("referential_integrity": "directory"); a modify refused after
 *    the move puts the entry back;
 *  - a flag changed concurrently (between the gateway's read and its modify,
 *    made certain by a loopback forwarder holding the modify): planned again
 *    once, then 409, the directory keeping the concurrent value;
 *  - DELETE with a policy (lock + move out of the scope): the entry is kept,
 *    locked, in ou=deleted; the resource answers 404 afterwards;
 *  - provisioning.protected: writes answer 403 and change nothing, reads work;
 *  - provisioning.default_groups: a created user joins them; when one cannot
 *    be joined the create is undone.
 */
#include "it_idp_common.h"

#include <pthread.h>
#include <unistd.h>

#define TAG_MODIFY 0x66
#define DISABLED_OU "ou=disabled," H_PEOPLE
#define DELETED_OU "ou=deleted," H_SUFFIX
#define STAFF_DN "cn=staff," H_GROUPS

/* The default mapping with the policies under test. */
static char *write_mapping(const char *refint, bool missing_group)
{
    json_t *m = it_default_mapping();
    json_object_set_new(m, "referential_integrity", json_string(refint));
    json_t *rt = json_array_get(json_object_get(m, "resource_types"), 0);
    H_REQUIRE(strcmp(json_string_value(json_object_get(rt, "name")), "User") == 0);
    json_t *ldap = json_object_get(rt, "ldap");
    json_object_set_new(ldap, "scope", json_string("sub"));
    json_array_append_new(json_object_get(ldap, "object_classes"), json_string("shadowAccount"));
    it_mapping_drop(m, "User", "active");
    json_array_append_new(it_mapping_attrs(m, "User"), json_pack("{s:s}", "scim", "active"));
    /* a value slapd refuses for these entries (homeDirectory needs posixAccount):
     * a modify that fails after the move */
    it_mapping_drop(m, "User", "title");
    json_array_append_new(it_mapping_attrs(m, "User"), json_pack("{s:s, s:s}", "scim", "title", "ldap", "homeDirectory"));
    json_object_set_new(rt, "deprovision",
                        json_pack("{s:{s:[{s:s, s:i, s:i}], s:s}, s:{s:b, s:s}}", "active_false", "set", "ldap",
                                  "shadowFlag", "flag", 2, "initial", 0, "move_to", DISABLED_OU, "delete", "lock", 1,
                                  "move_to", DELETED_OU));
    json_t *groups = missing_group ? json_pack("[s, s]", STAFF_DN, "cn=nosuch," H_GROUPS) : json_pack("[s]", STAFF_DN);
    json_object_set_new(rt, "provisioning", json_pack("{s:s, s:o, s:s}", "protected", "(employeeType=admin)",
                                                      "default_groups", groups, "boundary", H_SUFFIX));
    char *path = it_mapping_write(m);
    json_decref(m);
    return path;
}

static h_gw *start_gw(h_slapd *s, const char *mapping, const char *uri)
{
    char extra[5000];
    if (uri)
        snprintf(extra, sizeof extra, "{\"mapping\":\"%s\",\"ldap\":{\"uri\":\"%s\"}}", mapping, uri);
    else
        snprintf(extra, sizeof extra, "{\"mapping\":\"%s\"}", mapping);
    h_gw *g = h_gw_start(s, extra);
    H_REQUIRE(g != NULL);
    return g;
}

static void add_containers(h_slapd *s)
{
    H_REQUIRE(h_ldap_ldif(s, "dn: " DISABLED_OU "\nobjectClass: organizationalUnit\nou: disabled\n\n"
                             "dn: " DELETED_OU "\nobjectClass: organizationalUnit\nou: deleted\n") == 2);
}

static char *create_user(h_gw *g, const char *name)
{
    char body[512];
    snprintf(body, sizeof body, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"%s\",\"active\":true}", name);
    return IT_CREATE(g, body);
}

static char *create_group(h_gw *g, const char *name)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"%s\"}", name);
    h_resp r = h_http(g, "POST", "/Groups", body, NULL);
    H_CHECK_STATUS(r, 201);
    char *id = r.status == 201 && h_jstr(r.json, "id") ? strdup(h_jstr(r.json, "id")) : NULL;
    h_resp_free(&r);
    return id;
}

static char *user_dn(const char *name, const char *parent)
{
    char *dn = malloc(strlen(name) + strlen(parent) + 8);
    sprintf(dn, "uid=%s,%s", name, parent);
    return dn;
}

static const char *flag_of(const json_t *e)
{
    return e ? h_ldap_attr(e, "shadowflag") : NULL;
}

static h_resp patch_path(h_gw *g, const char *endpoint, const char *id, const char *ops)
{
    char *path = malloc(strlen(endpoint) + strlen(id) + 2), *body = malloc(strlen(ops) + 128);
    sprintf(path, "%s/%s", endpoint, id);
    sprintf(body, "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":%s}", ops);
    h_resp r = h_http(g, "PATCH", path, body, NULL);
    free(path);
    free(body);
    return r;
}

static h_resp get_path(h_gw *g, const char *endpoint, const char *id)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", endpoint, id);
    return h_http(g, "GET", path, NULL, NULL);
}

static bool members_hold(h_gw *g, const char *gid, const char *uid)
{
    h_resp r = get_path(g, "/Groups", gid);
    bool found = false;
    const json_t *ms = h_jget(r.json, "members");
    for (size_t i = 0; i < json_array_size(ms); i++) {
        const char *v = h_jstr(json_array_get(ms, i), "value");
        found = found || (v && strcmp(v, uid) == 0);
    }
    h_resp_free(&r);
    return found;
}

/* ---- active_false: move (and flag), references following ---- */

static void move_flow(h_slapd *s, h_gw *g, const char *label)
{
    char name[64], gname[64];
    snprintf(name, sizeof name, "mover-%s", label);
    snprintf(gname, sizeof gname, "movers-%s", label);
    char *gid = create_group(g, gname), *uid = create_user(g, name);
    H_REQUIRE(gid != NULL && uid != NULL);
    char *dn_active = user_dn(name, H_PEOPLE), *dn_disabled = user_dn(name, DISABLED_OU);
    char gdn[256];
    snprintf(gdn, sizeof gdn, "cn=%s,%s", gname, H_GROUPS);
    char ops[512];
    snprintf(ops, sizeof ops, "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]", uid);
    h_resp r = patch_path(g, "/Groups", gid, ops);
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    json_t *e = it_entry_by_id(s, uid);
    H_CHECK_STR(e ? h_jstr(e, "dn") : NULL, dn_active);
    H_CHECK_STR(flag_of(e), "0"); /* "initial" */
    json_decref(e);

    /* active false: moved and flagged, in one request */
    r = it_patch(g, uid, "[{\"op\":\"replace\",\"path\":\"active\",\"value\":false}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    e = it_entry_by_id(s, uid);
    H_CHECK_STR(e ? h_jstr(e, "dn") : NULL, dn_disabled);
    H_CHECK_STR(flag_of(e), "2");
    json_decref(e);
    H_CHECK(h_ldap_entry(s, dn_active) == NULL);
    /* the group's member value follows the entry */
    H_CHECK(h_ldap_wait_value(s, gdn, "member", dn_disabled, true, 5000));
    H_CHECK(h_ldap_wait_value(s, gdn, "member", dn_active, false, 5000));
    /* still readable by its id, inactive, and found as such */
    r = get_path(g, "/Users", uid);
    H_CHECK_STATUS(r, 200);
    H_CHECK(json_is_false(h_jget(r.json, "active")));
    h_resp_free(&r);
    H_CHECK(members_hold(g, gid, uid));
    char filter[256], *got = NULL;
    snprintf(filter, sizeof filter, "userName eq \"%s\" and active eq false", name);
    H_CHECK_INT(IT_LIST_COUNT(g, filter, &got), 1);
    H_CHECK_STR(got, uid);
    free(got);
    /* again: nothing changes */
    e = it_entry_by_id(s, uid);
    r = it_patch(g, uid, "[{\"op\":\"replace\",\"path\":\"active\",\"value\":false}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    json_t *e2 = it_entry_by_id(s, uid);
    H_CHECK(e && e2 && strcmp(h_ldap_attr(e, "entrycsn"), h_ldap_attr(e2, "entrycsn")) == 0);
    H_CHECK_STR(e2 ? h_jstr(e2, "dn") : NULL, dn_disabled);
    json_decref(e);
    json_decref(e2);

    /* active true: back, unflagged, references back too */
    r = it_patch(g, uid, "[{\"op\":\"replace\",\"path\":\"active\",\"value\":true}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    e = it_entry_by_id(s, uid);
    H_CHECK_STR(e ? h_jstr(e, "dn") : NULL, dn_active);
    H_CHECK_STR(flag_of(e), "0");
    json_decref(e);
    H_CHECK(h_ldap_wait_value(s, gdn, "member", dn_active, true, 5000));
    H_CHECK(h_ldap_wait_value(s, gdn, "member", dn_disabled, false, 5000));
    snprintf(filter, sizeof filter, "userName eq \"%s\" and active eq true", name);
    H_CHECK_INT(IT_LIST_COUNT(g, filter, NULL), 1);

    /* moved and refused after the move (homeDirectory): put back, unchanged */
    e = it_entry_by_id(s, uid);
    r = it_patch(g, uid, "[{\"op\":\"replace\",\"path\":\"active\",\"value\":false},"
                         "{\"op\":\"replace\",\"path\":\"title\",\"value\":\"Refused\"}]");
    IT_CHECK_ERROR(r, 400, "invalidValue");
    h_resp_free(&r);
    e2 = it_entry_by_id(s, uid);
    H_CHECK_STR(e2 ? h_jstr(e2, "dn") : NULL, dn_active);
    H_CHECK_STR(flag_of(e2), "0");
    H_CHECK(h_ldap_entry(s, dn_disabled) == NULL);
    H_CHECK(e2 && h_ldap_attr(e2, "homedirectory") == NULL);
    json_decref(e);
    json_decref(e2);

    /* created inactive: straight into the container */
    snprintf(name, sizeof name, "born-off-%s", label);
    char body[256];
    snprintf(body, sizeof body, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"%s\",\"active\":false}", name);
    char *off = IT_CREATE(g, body);
    e = off ? it_entry_by_id(s, off) : NULL;
    char *want = user_dn(name, DISABLED_OU);
    H_CHECK_STR(e ? h_jstr(e, "dn") : NULL, want);
    H_CHECK_STR(flag_of(e), "2");
    json_decref(e);
    free(want);
    free(off);
    free(gid);
    free(uid);
    free(dn_active);
    free(dn_disabled);
}

/* ---- a flag changed concurrently ---- */

typedef struct bg_patch {
    h_gw *g;
    const char *id;
    const char *ops;
    h_resp r;
    pthread_t t;
} bg_patch;

static void *bg_run(void *arg)
{
    bg_patch *b = arg;
    b->r = it_patch(b->g, b->id, b->ops);
    return NULL;
}

static bool wait_holding(h_proxy *px)
{
    for (int i = 0; i < 1000; i++) {
        if (h_proxy_holding(px))
            return true;
        usleep(10000);
    }
    return false;
}

static void set_flag(h_slapd *s, const char *dn, const char *v)
{
    char ldif[512];
    snprintf(ldif, sizeof ldif, "dn: %s\nchangetype: modify\nreplace: shadowFlag\nshadowFlag: %s\n-\n", dn, v);
    H_CHECK_INT(h_ldap_ldif_rc(s, ldif), 0);
}

static void flag_conflicts(h_slapd *s, h_gw *g, h_proxy *px)
{
    char *uid = create_user(g, "racer");
    H_REQUIRE(uid != NULL);
    char *dn_active = user_dn("racer", H_PEOPLE), *dn_disabled = user_dn("racer", DISABLED_OU);

    /* 1. changed once between read and write: planned again from the new value */
    h_proxy_hold_at(px, TAG_MODIFY, 1);
    bg_patch b = {.g = g, .id = uid, .ops = "[{\"op\":\"replace\",\"path\":\"active\",\"value\":false}]"};
    H_REQUIRE(pthread_create(&b.t, NULL, bg_run, &b) == 0);
    H_CHECK(wait_holding(px));
    /* the modify waits, after the move: someone sets bit 4 meanwhile */
    set_flag(s, dn_disabled, "4");
    h_proxy_release(px);
    pthread_join(b.t, NULL);
    H_CHECK(b.r.status == 200 || b.r.status == 204);
    h_resp_free(&b.r);
    json_t *e = it_entry_by_id(s, uid);
    H_CHECK_STR(e ? h_jstr(e, "dn") : NULL, dn_disabled);
    H_CHECK_STR(flag_of(e), "6"); /* ours and theirs */
    json_decref(e);
    H_CHECK(h_gw_log_wait(g, "reason=flag_changed", 1, 5000));

    /* 2. changed on both attempts: 409, nothing of ours written */
    h_proxy_hold_at(px, TAG_MODIFY, 1);
    bg_patch b2 = {.g = g, .id = uid, .ops = "[{\"op\":\"replace\",\"path\":\"active\",\"value\":true}]"};
    H_REQUIRE(pthread_create(&b2.t, NULL, bg_run, &b2) == 0);
    H_CHECK(wait_holding(px));
    set_flag(s, dn_active, "14"); /* moved back to people before its modify */
    h_proxy_release_then_hold(px, TAG_MODIFY, 1);
    H_CHECK(wait_holding(px));
    set_flag(s, dn_active, "30");
    h_proxy_release(px);
    pthread_join(b2.t, NULL);
    IT_CHECK_ERROR(b2.r, 409, NULL);
    h_resp_free(&b2.r);
    e = it_entry_by_id(s, uid);
    H_CHECK_STR(e ? h_jstr(e, "dn") : NULL, dn_disabled); /* the move undone */
    H_CHECK_STR(flag_of(e), "30");                      /* theirs stands */
    json_decref(e);
    free(uid);
    free(dn_active);
    free(dn_disabled);
}

/* ---- DELETE: lock and move out of the scope ---- */

static void soft_delete(h_slapd *s, h_gw *g, const char *staff_id)
{
    char *uid = create_user(g, "leaver");
    H_REQUIRE(uid != NULL);
    char *dn_active = user_dn("leaver", H_PEOPLE), *dn_deleted = user_dn("leaver", DELETED_OU);
    H_CHECK(members_hold(g, staff_id, uid)); /* default group */
    char path[256];
    snprintf(path, sizeof path, "/Users/%s", uid);
    h_resp r = h_http(g, "DELETE", path, NULL, NULL);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    json_t *e = it_entry_by_id(s, uid);
    H_CHECK_STR(e ? h_jstr(e, "dn") : NULL, dn_deleted);
    H_CHECK_STR(e ? h_ldap_attr(e, "pwdaccountlockedtime") : NULL, IT_LOCKED);
    json_decref(e);
    /* gone for SCIM clients (RFC 7644 §3.6) */
    r = h_http(g, "GET", path, NULL, NULL);
    H_CHECK_STATUS(r, 404);
    h_resp_free(&r);
    r = h_http(g, "DELETE", path, NULL, NULL);
    H_CHECK_STATUS(r, 404);
    h_resp_free(&r);
    r = it_patch(g, uid, "[{\"op\":\"replace\",\"path\":\"active\",\"value\":true}]");
    H_CHECK_STATUS(r, 404);
    h_resp_free(&r);
    H_CHECK_INT(IT_LIST_COUNT(g, "userName eq \"leaver\"", NULL), 0);
    H_CHECK(!members_hold(g, staff_id, uid));
    /* the group's value followed the entry (the gateway's refint) */
    H_CHECK(h_ldap_wait_value(s, STAFF_DN, "member", dn_deleted, true, 5000));
    H_CHECK(h_ldap_wait_value(s, STAFF_DN, "member", dn_active, false, 5000));
    /* the userName is free again */
    char *again = create_user(g, "leaver");
    H_CHECK(again != NULL && strcmp(again, uid) != 0);
    free(again);
    free(uid);
    free(dn_active);
    free(dn_deleted);
}

/* ---- protected entries ---- */

static void protected_entries(h_slapd *s, h_gw *g)
{
    H_REQUIRE(h_ldap_ldif(s, "dn: uid=svc-backup," H_PEOPLE "\nobjectClass: inetOrgPerson\nuid: svc-backup\n"
                             "cn: Backup\nsn: Backup\nemployeeType: admin\n") == 1);
    json_t *e = h_ldap_entry(s, "uid=svc-backup," H_PEOPLE);
    H_REQUIRE(e != NULL && h_ldap_attr(e, "entryuuid") != NULL);
    char *id = strdup(h_ldap_attr(e, "entryuuid"));
    char *before = h_ldap_snapshot(s);

    h_resp r = get_path(g, "/Users", id);
    H_CHECK_STATUS(r, 200); /* readable */
    h_resp_free(&r);
    H_CHECK_INT(IT_LIST_COUNT(g, "userName eq \"svc-backup\"", NULL), 1);
    r = it_patch(g, id, "[{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"Mine now\"}]");
    IT_CHECK_ERROR(r, 403, NULL);
    H_CHECK(r.body && strstr(r.body, "protected") != NULL);
    h_resp_free(&r);
    r = it_patch(g, id, "[{\"op\":\"replace\",\"path\":\"active\",\"value\":false}]");
    IT_CHECK_ERROR(r, 403, NULL);
    h_resp_free(&r);
    r = it_patch(g, id, "[{\"op\":\"replace\",\"path\":\"userName\",\"value\":\"svc-renamed\"}]");
    IT_CHECK_ERROR(r, 403, NULL);
    h_resp_free(&r);
    char path[256];
    snprintf(path, sizeof path, "/Users/%s", id);
    r = h_http(g, "PUT", path, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"svc-backup\",\"active\":false}", NULL);
    IT_CHECK_ERROR(r, 403, NULL);
    h_resp_free(&r);
    r = h_http(g, "DELETE", path, NULL, NULL);
    IT_CHECK_ERROR(r, 403, NULL);
    h_resp_free(&r);
    char *after = h_ldap_snapshot(s);
    H_CHECK(h_snapshot_same(before, after));
    /* an id that is nowhere: still 404 */
    r = it_patch(g, "0b7e3f3c-2f5a-4c58-8d8e-4b9e7f2a1c3d",
                 "[{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"x\"}]");
    IT_CHECK_ERROR(r, 404, NULL);
    h_resp_free(&r);
    r = h_http(g, "DELETE", "/Users/0b7e3f3c-2f5a-4c58-8d8e-4b9e7f2a1c3d", NULL, NULL);
    IT_CHECK_ERROR(r, 404, NULL);
    h_resp_free(&r);
    free(before);
    free(after);
    free(id);
    json_decref(e);
}

/* ---- default groups ---- */

static void default_groups(h_slapd *s, h_gw *g, h_gw *g_missing, const char *staff_id)
{
    char *uid = create_user(g, "joiner");
    H_REQUIRE(uid != NULL);
    char *dn = user_dn("joiner", H_PEOPLE);
    json_t *ge = h_ldap_entry(s, STAFF_DN);
    H_CHECK(ge && h_ldap_has_value(ge, "member", dn, true));
    json_decref(ge);
    H_CHECK(members_hold(g, staff_id, uid));
    free(dn);
    free(uid);

    /* one of them cannot be joined: the create is undone */
    h_resp r = h_http(g_missing, "POST", "/Users",
                      "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"joiner2\",\"active\":true}", NULL);
    IT_CHECK_ERROR(r, 500, NULL);
    H_CHECK(r.body && strstr(r.body, "cn=nosuch") != NULL);
    h_resp_free(&r);
    dn = user_dn("joiner2", H_PEOPLE);
    H_CHECK(h_ldap_entry(s, dn) == NULL);
    H_CHECK(h_ldap_wait_value(s, STAFF_DN, "member", dn, false, 5000));
    free(dn);
}

/* slapd's memberOf in the answer: the created user shows its default group. */
static void default_groups_in_answer(h_gw *g, const char *staff_id)
{
    h_resp r = h_http(g, "POST", "/Users", "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"greeted\"}", NULL);
    H_CHECK_STATUS(r, 201);
    bool found = false;
    const json_t *gs = h_jget(r.json, "groups");
    for (size_t i = 0; i < json_array_size(gs); i++) {
        const char *v = h_jstr(json_array_get(gs, i), "value");
        found = found || (v && strcmp(v, staff_id) == 0);
    }
    H_CHECK(found);
    h_resp_free(&r);
}

int main(void)
{
    /* A: the gateway fixes references (no memberof / refint overlays) */
    h_slapd_opts o = h_slapd_defaults();
    o.memberof = false;
    o.refint = false;
    h_slapd *s = h_slapd_start(&o);
    H_REQUIRE(s != NULL);
    char why[256];
    if (!h_gw_can_run(s, why, sizeof why)) {
        const char *require = getenv("S2L_REQUIRE_GATEWAY");
        if (require && strcmp(require, "1") == 0)
            H_CHECK(!"the gateway binary must run (S2L_REQUIRE_GATEWAY=1)");
        H_SKIP("%s", why);
        h_slapd_destroy(s);
        return H_DONE();
    }
    add_containers(s);
    h_proxy *px = h_proxy_start(h_slapd_port(s));
    H_REQUIRE(px != NULL);
    char *mapping = write_mapping("gateway", false), *mapping_missing = write_mapping("gateway", true);
    h_gw *g = start_gw(s, mapping, h_proxy_uri(px)), *g_missing = start_gw(s, mapping_missing, NULL);
    char *staff = create_group(g, "staff");
    H_REQUIRE(staff != NULL);

    move_flow(s, g, "a");
    flag_conflicts(s, g, px);
    soft_delete(s, g, staff);
    protected_entries(s, g);
    default_groups(s, g, g_missing, staff);
    h_gw_stop(g);
    h_gw_stop(g_missing);
    h_proxy_stop(px);
    h_slapd_destroy(s);
    unlink(mapping);
    unlink(mapping_missing);
    free(mapping);
    free(mapping_missing);
    free(staff);

    /* B: slapd's refint and memberof overlays keep references */
    o = h_slapd_all();
    s = h_slapd_start(&o);
    H_REQUIRE(s != NULL);
    add_containers(s);
    mapping = write_mapping("directory", false);
    g = start_gw(s, mapping, NULL);
    staff = create_group(g, "staff");
    H_REQUIRE(staff != NULL);
    move_flow(s, g, "b");
    default_groups_in_answer(g, staff);
    h_gw_stop(g);
    h_slapd_destroy(s);
    unlink(mapping);
    free(mapping);
    free(staff);
    return H_DONE();
}
