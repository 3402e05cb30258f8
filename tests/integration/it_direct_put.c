/* it_direct_put.c — PUT as one LDAP operation (update.c, s2l/put_direct.h):
 * a PUT on a cached id whose body needs nothing of the stored entry is one
 * modify with the assertion control, checked against slapd's own operation
 * counts (cn=Monitor) and the LDAP state, next to a gateway with
 * "behaviour.direct_put": false (the reading path) given the same requests.
 *
 *  - Okta's profile push: exactly one modify and no search; the response from
 *    the post-read control; attributes left out of the body are removed;
 *  - the same sequence of PUTs (lock, unlock, attributes coming and going)
 *    leaves the directory as the reading path leaves it;
 *  - a failed-bind lockout (another pwdAccountLockedTime) survives a PUT and
 *    a PATCH with active: true, on both paths (the direct PATCH used to
 *    replace the attribute with nothing);
 *  - the reading path where the body needs it: a rename, a manager, items
 *    the keep attribute holds (and the kept items of an earlier PUT are
 *    removed by the next one, whose direct attempt the assertion refuses);
 *  - If-Match current / stale (412, unchanged), an entry recreated under the
 *    cached DN (404, untouched), a body without userName (400, no LDAP
 *    operation at all);
 *  - the documented difference: a value the resource does not show (a
 *    second cn) goes with a direct PUT, stays with the reading path;
 *  - a deprovision policy with a plain item written without reading (PUT
 *    and PATCH), re-enabling by PUT through the reading path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "it_idp_common.h"

static it_env env;
static h_gw *reading; /* "behaviour.direct_put": false */

typedef it_counted counted;

static counted put(h_gw *g, const char *id, const char *body, const char *if_match)
{
    char *path = it_user_path(id);
    counted c = it_request_counted(env.s, g, "PUT", path, body, if_match);
    free(path);
    return c;
}

#define CHECK_ONE_MODIFY(c) IT_CHECK_ONE_MODIFY(c)

/* An Okta-shaped full user (IDP-QUIRKS.md: profile updates are PUT);
 * extra: ",\"key\":value,..." whose keys replace the base ones. */
static char *okta_body(const char *user_name, const char *given, const char *family, const char *title,
                       const char *extra)
{
    json_t *b = json_pack("{s:[s], s:s, s:{s:s, s:s}, s:[{s:b, s:s+, s:s}], s:s++, s:s, s:s+, s:[], s:b}",
                          "schemas", IT_URN_USER, "userName", user_name, "name", "givenName", given, "familyName",
                          family, "emails", "primary", 1, "value", user_name, "@example.org", "type", "work",
                          "displayName", given, " ", family, "locale", "en-US", "externalId", "00u-", user_name,
                          "groups", "active", 1);
    H_REQUIRE(b != NULL);
    if (title)
        json_object_set_new(b, "title", json_string(title));
    if (extra && *extra) {
        char *text = malloc(strlen(extra) + 2);
        H_REQUIRE(text != NULL);
        sprintf(text, "{%s}", extra + 1);
        json_error_t je;
        json_t *x = json_loads(text, 0, &je);
        if (x == NULL)
            fprintf(stderr, "bad test JSON: %s (%s)\n", text, je.text);
        H_REQUIRE(x != NULL);
        json_object_update(b, x);
        json_decref(x);
        free(text);
    }
    char *out = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    H_REQUIRE(out != NULL);
    return out;
}

/* PUT /Users/<id> of okta_body(user_name, given, family, title, extra). */
static counted put_okta(h_gw *g, const char *id, const char *if_match, const char *user_name, const char *given,
                        const char *family, const char *title, const char *extra)
{
    char *body = okta_body(user_name, given, family, title, extra);
    counted c = put(g, id, body, if_match);
    free(body);
    return c;
}

static char *create(h_gw *g, const char *user_name, const char *title)
{
    char *body = okta_body(user_name, "Pat", "Put", title, NULL);
    char *id = IT_CREATE(g, body);
    free(body);
    return id;
}

static void test_okta_push(void)
{
    char *id = create(env.g, "put.one", "T0");
    H_REQUIRE(id != NULL);
    counted c = put_okta(env.g, id, NULL, "put.one", "Patricia", "Putnam", "T1", NULL);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    CHECK_ONE_MODIFY(&c);
    H_CHECK_STR(h_jstr(c.r.json, "title"), "T1");
    H_CHECK_STR(h_jstr(c.r.json, "displayName"), "Patricia Putnam");
    H_CHECK_STR(h_jstr(c.r.json, "id"), id);
    H_CHECK(json_is_true(json_object_get(c.r.json, "active")));
    H_CHECK(h_header(&c.r, "ETag") != NULL);
    json_t *e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "title"), "T1");
    H_CHECK_STR(h_ldap_attr(e, "cn"), "Patricia Putnam"); /* cn's fallback from the new name */
    H_CHECK_STR(h_ldap_attr(e, "sn"), "Putnam");
    H_CHECK_STR(h_ldap_attr(e, "givenname"), "Patricia");
    H_CHECK_STR(h_ldap_attr(e, "mail"), "put.one@example.org");
    H_CHECK_STR(h_ldap_attr(e, "uid"), "put.one");
    H_CHECK(it_nvals(e, "cn") == 1);
    json_decref(e);
    h_resp_free(&c.r);

    /* title left out of the body: removed from the entry, still one modify */
    c = put_okta(env.g, id, NULL, "put.one", "Patricia", "Putnam", NULL, NULL);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    CHECK_ONE_MODIFY(&c);
    H_CHECK(json_object_get(c.r.json, "title") == NULL);
    e = it_entry_by_id(env.s, id);
    H_CHECK(h_ldap_attr(e, "title") == NULL);
    json_decref(e);
    h_resp_free(&c.r);

    /* active given as a list: refused (400) before anything is written */
    c = put_okta(env.g, id, NULL,
                 "put.one", "Patricia", "Putnam", NULL, ",\"password\":\"Put-Secret-9\",\"active\":[1,2]");
    it_check_error_(&c.r, 400, NULL, __FILE__, __LINE__);
    H_CHECK_INT(c.d.modify, 0);
    h_resp_free(&c.r);
    /* a password and active: false in a PUT: still one modify; the lock is set */
    c = put_okta(env.g, id, NULL,
                 "put.one", "Patricia", "Putnam", NULL, ",\"password\":\"Put-Secret-9\",\"active\":false");
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    CHECK_ONE_MODIFY(&c);
    H_CHECK(json_is_false(json_object_get(c.r.json, "active")));
    H_CHECK(json_object_get(c.r.json, "password") == NULL);
    e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "pwdaccountlockedtime"), IT_LOCKED);
    H_CHECK(h_ldap_attr(e, "userpassword") != NULL && strncmp(h_ldap_attr(e, "userpassword"), "{CRYPT}", 7) == 0);
    json_decref(e);
    h_resp_free(&c.r);

    /* active: true on the locked account: the assertion says "not locked by
     * the gateway", so the reading path unlocks it (the password stays) */
    c = put_okta(env.g, id, NULL, "put.one", "Patricia", "Putnam", NULL, NULL);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    H_CHECK(c.d.search >= 1);
    H_CHECK(json_is_true(json_object_get(c.r.json, "active")));
    e = it_entry_by_id(env.s, id);
    H_CHECK(h_ldap_attr(e, "pwdaccountlockedtime") == NULL);
    H_CHECK(h_ldap_attr(e, "userpassword") != NULL);
    json_decref(e);
    h_resp_free(&c.r);
    free(id);
}

/* The attributes a PUT can change, as the directory holds them (sorted values). */
static json_t *user_state(const char *id)
{
    static const char *const attrs[] = {"cn", "sn", "givenname", "displayname", "mail", "title", "telephonenumber",
                                        "mobile", "scimexternalid", "pwdaccountlockedtime", "scimkept", "ou",
                                        "employeenumber", "preferredlanguage", "scimlocale", "scimhomeemail",
                                        "scimmiddlename", "street", "l", "postalcode", "c", "co", NULL};
    json_t *e = it_entry_by_id(env.s, id);
    json_t *out = json_object();
    for (size_t i = 0; e && attrs[i]; i++) {
        json_t *v = json_object_get(json_object_get(e, "attrs"), attrs[i]);
        if (v)
            json_object_set(out, attrs[i], v);
    }
    json_decref(e);
    return out;
}

/* Both answers have key alike (or neither has it). */
static bool same_member(const json_t *a, const json_t *b, const char *key)
{
    const json_t *x = json_object_get(a, key), *y = json_object_get(b, key);
    return (x == NULL && y == NULL) || (x && y && json_equal(x, y));
}

static void test_same_as_reading(void)
{
    char *a = create(env.g, "put.direct", NULL), *b = create(env.g, "put.reading", NULL);
    H_REQUIRE(a != NULL && b != NULL);
    const char *extras[] = {
        ",\"title\":\"Eng\",\"phoneNumbers\":[{\"value\":\"+1 555 0100\",\"type\":\"work\",\"primary\":true},"
        "{\"value\":\"+1 555 0101\",\"type\":\"mobile\"}],\"" IT_URN_ENT "\":{\"department\":\"R&D\","
        "\"employeeNumber\":\"42\"}",
        ",\"active\":false,\"emails\":[{\"value\":\"home@example.org\",\"type\":\"home\"}],\"preferredLanguage\":\"fr\"",
        ",\"addresses\":[{\"type\":\"work\",\"primary\":true,\"streetAddress\":\"1 Main St\",\"locality\":\"Town\","
        "\"postalCode\":\"12345\",\"country\":\"US\"}],\"name\":{\"givenName\":\"Sam\",\"familyName\":\"Same\","
        "\"middleName\":\"Q\"}",
        "",
    };
    for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++) {
        char *ba = okta_body("put.direct", "Sam", "Same", NULL, extras[i]);
        char *bb = okta_body("put.reading", "Sam", "Same", NULL, extras[i]);
        counted ca = put(env.g, a, ba, NULL), cb = put(reading, b, bb, NULL);
        h_check_status_(&ca.r, 200, __FILE__, __LINE__);
        h_check_status_(&cb.r, 200, __FILE__, __LINE__);
        H_CHECK(cb.d.search >= 1); /* the reading path reads */
        /* the direct one does not, except to unlock (PUT 2 after PUT 1's lock) */
        if (i == 2)
            H_CHECK(ca.d.search >= 1);
        else
            CHECK_ONE_MODIFY(&ca);
        json_t *sa = user_state(a), *sb = user_state(b);
        /* the same but for the names made from userName */
        json_t *ma = json_object_get(sa, "mail"), *mb = json_object_get(sb, "mail");
        if (ma && mb && json_array_size(ma) == 1 && json_array_size(mb) == 1 &&
            strstr(json_string_value(json_array_get(ma, 0)), "put.direct") &&
            strstr(json_string_value(json_array_get(mb, 0)), "put.reading")) {
            json_object_del(sa, "mail");
            json_object_del(sb, "mail");
        }
        json_object_del(sa, "scimexternalid");
        json_object_del(sb, "scimexternalid");
        bool same = json_equal(sa, sb);
        char *ta = json_dumps(sa, JSON_COMPACT | JSON_SORT_KEYS), *tb = json_dumps(sb, JSON_COMPACT | JSON_SORT_KEYS);
        h_check_(same, __FILE__, __LINE__, "PUT %zu: direct %s\n  reading %s", i, ta, tb);
        free(ta);
        free(tb);
        /* and the two answers agree */
        H_CHECK(same_member(ca.r.json, cb.r.json, "name"));
        H_CHECK(same_member(ca.r.json, cb.r.json, "active"));
        H_CHECK(same_member(ca.r.json, cb.r.json, "phoneNumbers"));
        H_CHECK(same_member(ca.r.json, cb.r.json, "addresses"));
        H_CHECK(same_member(ca.r.json, cb.r.json, IT_URN_ENT));
        json_decref(sa);
        json_decref(sb);
        h_resp_free(&ca.r);
        h_resp_free(&cb.r);
        free(ba);
        free(bb);
    }
    free(a);
    free(b);
}

/* ppolicy's lockout after failed binds writes its own time: IdPs must not
 * see it as a deprovisioning (it reads as active) nor lift it. */
static void test_failed_bind_lockout(void)
{
    char *id = create(env.g, "put.lockout", NULL);
    H_REQUIRE(id != NULL);
    char *dn = it_dn_by_id(env.s, id);
    H_REQUIRE(dn != NULL);
    char ldif[512];
    snprintf(ldif, sizeof ldif, "dn: %s\nchangetype: modify\nreplace: pwdAccountLockedTime\n"
                                "pwdAccountLockedTime: 20261201000000Z\n-\n", dn);
    H_REQUIRE(h_ldap_ldif(env.s, ldif) == 1);
    counted c = put_okta(env.g, id, NULL, "put.lockout", "Pat", "Put", "Locked out", NULL);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    CHECK_ONE_MODIFY(&c);
    H_CHECK(json_is_true(json_object_get(c.r.json, "active")));
    json_t *e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "pwdaccountlockedtime"), "20261201000000Z");
    H_CHECK_STR(h_ldap_attr(e, "title"), "Locked out");
    json_decref(e);
    h_resp_free(&c.r);
    /* a PATCH active: true, on both paths */
    h_gw *gws[] = {env.g, reading};
    for (size_t i = 0; i < 2; i++) {
        h_resp r = it_patch(gws[i], id, "[{\"op\":\"replace\",\"value\":{\"active\":true}}]");
        H_CHECK(r.status == 200 || r.status == 204);
        h_resp_free(&r);
        e = it_entry_by_id(env.s, id);
        H_CHECK_STR(h_ldap_attr(e, "pwdaccountlockedtime"), "20261201000000Z");
        json_decref(e);
    }
    free(dn);
    free(id);
}

static void test_reading_path_cases(void)
{
    char *id = create(env.g, "put.read", NULL), *boss = create(env.g, "put.boss", NULL);
    H_REQUIRE(id != NULL && boss != NULL);
    /* a rename */
    counted c = put_okta(env.g, id, NULL, "put.renamed", "Pat", "Put", NULL, NULL);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    H_CHECK(c.d.search >= 1 && c.d.modrdn == 1);
    char *dn = it_dn_by_id(env.s, id);
    H_CHECK(dn && it_dn_is(dn, "uid", "put.renamed", "ou=people," H_SUFFIX));
    free(dn);
    h_resp_free(&c.r);
    /* and the new name is cached: one modify */
    c = put_okta(env.g, id, NULL, "put.renamed", "Pat", "Put", "After", NULL);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    CHECK_ONE_MODIFY(&c);
    h_resp_free(&c.r);

    /* a manager: its id is looked up (one search, the cache is not trusted
     * for references), then the one modify */
    char extra[256];
    snprintf(extra, sizeof extra, ",\"" IT_URN_ENT "\":{\"manager\":{\"value\":\"%s\"}}", boss);
    c = put_okta(env.g, id, NULL, "put.renamed", "Pat", "Put", NULL, extra);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    h_check_(c.d.search == 1 && c.d.modify == 1, __FILE__, __LINE__, "PUT with a manager: %ld search, %ld modify",
             c.d.search, c.d.modify);
    H_CHECK_STR(h_jstr(json_object_get(json_object_get(c.r.json, IT_URN_ENT), "manager"), "value"), boss);
    {
        /* rendered as a GET renders it (displayName, $ref) */
        char *path = it_user_path(id);
        h_resp g = h_http(env.g, "GET", path, NULL, NULL);
        const json_t *mg = json_object_get(json_object_get(g.json, IT_URN_ENT), "manager");
        const json_t *mp = json_object_get(json_object_get(c.r.json, IT_URN_ENT), "manager");
        H_CHECK(mg && mp && json_equal(mg, mp));
        H_CHECK(h_jstr(mp, "displayName") != NULL);
        h_resp_free(&g);
        free(path);
    }
    json_t *e = it_entry_by_id(env.s, id);
    char *boss_dn = it_dn_by_id(env.s, boss);
    H_CHECK(boss_dn && h_ldap_has_value(e, "manager", boss_dn, true));
    free(boss_dn);
    json_decref(e);
    h_resp_free(&c.r);

    /* an attribute the keep attribute holds: the reading path stores it */
    c = put_okta(env.g, id, NULL, "put.renamed", "Pat", "Put", NULL, ",\"shoeSize\":44");
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    H_CHECK(c.d.search >= 1);
    e = it_entry_by_id(env.s, id);
    H_CHECK(it_nvals(e, "scimkept") == 1);
    H_CHECK(h_ldap_attr(e, "manager") == NULL); /* gone with the body that left it out */
    json_decref(e);
    h_resp_free(&c.r);
    /* the next PUT, without it: the direct modify is refused by the assertion
     * (kept items), nothing is written, the reading path removes the item */
    c = put_okta(env.g, id, NULL, "put.renamed", "Pat", "Put", "Plain", NULL);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    H_CHECK(c.d.search >= 1 && c.d.modify == 2);
    H_CHECK(json_object_get(c.r.json, "shoeSize") == NULL);
    e = it_entry_by_id(env.s, id);
    H_CHECK(it_nvals(e, "scimkept") == 0);
    H_CHECK_STR(h_ldap_attr(e, "title"), "Plain");
    json_decref(e);
    h_resp_free(&c.r);
    /* and then one modify again */
    c = put_okta(env.g, id, NULL, "put.renamed", "Pat", "Put", "Plain 2", NULL);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    CHECK_ONE_MODIFY(&c);
    h_resp_free(&c.r);

    /* no userName: 400 before any LDAP operation */
    c = put(env.g, id, "{\"schemas\":[\"" IT_URN_USER "\"],\"displayName\":\"x\"}", NULL);
    it_check_error_(&c.r, 400, NULL, __FILE__, __LINE__);
    H_CHECK(c.d.search == 0 && c.d.modify == 0);
    h_resp_free(&c.r);

    /* with direct_put off, every PUT reads */
    c = put_okta(reading, id, NULL, "put.renamed", "Pat", "Put", "Off", NULL);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    H_CHECK(c.d.search >= 1 && c.d.modify == 1);
    h_resp_free(&c.r);
    free(boss);
    free(id);
}

static void test_if_match_and_stale(void)
{
    char *id = create(env.g, "put.etag", NULL);
    H_REQUIRE(id != NULL);
    char *path = it_user_path(id);
    h_resp g = h_http(env.g, "GET", path, NULL, NULL);
    char *etag = h_header(&g, "ETag") ? strdup(h_header(&g, "ETag")) : NULL;
    h_resp_free(&g);
    H_REQUIRE(etag != NULL);
    counted c = put_okta(env.g, id, etag, "put.etag", "Pat", "Put", "E1", NULL);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    CHECK_ONE_MODIFY(&c);
    h_resp_free(&c.r);
    json_t *before = it_entry_by_id(env.s, id);
    c = put_okta(env.g, id, etag, "put.etag", "Pat", "Put", "E2", NULL);
    it_check_error_(&c.r, 412, NULL, __FILE__, __LINE__);
    json_t *after = it_entry_by_id(env.s, id);
    H_CHECK(before && after && json_equal(before, after));
    json_decref(before);
    json_decref(after);
    h_resp_free(&c.r);
    free(etag);

    /* deleted and recreated under the same DN behind the gateway's back */
    char *dn = it_dn_by_id(env.s, id);
    H_REQUIRE(dn != NULL);
    char ldif[1024];
    snprintf(ldif, sizeof ldif, "dn: %s\nchangetype: delete\n", dn);
    H_REQUIRE(h_ldap_ldif(env.s, ldif) == 1);
    snprintf(ldif, sizeof ldif, "dn: %s\nobjectClass: inetOrgPerson\nuid: put.etag\ncn: Other\nsn: Other\ntitle: Theirs\n",
             dn);
    H_REQUIRE(h_ldap_ldif(env.s, ldif) == 1);
    c = put_okta(env.g, id, NULL, "put.etag", "Pat", "Put", "Hijack", NULL);
    it_check_error_(&c.r, 404, NULL, __FILE__, __LINE__);
    json_t *e = h_ldap_entry(env.s, dn);
    H_CHECK_STR(h_ldap_attr(e, "title"), "Theirs");
    H_CHECK_STR(h_ldap_attr(e, "cn"), "Other");
    json_decref(e);
    h_resp_free(&c.r);
    free(dn);
    free(path);
    free(id);
}

/* README "Scaling out": what a direct PUT does differently, pinned down. */
static void test_unshown_values(void)
{
    char *a = create(env.g, "put.extra.d", NULL), *b = create(env.g, "put.extra.r", NULL);
    H_REQUIRE(a != NULL && b != NULL);
    char *ids[] = {a, b};
    for (int i = 0; i < 2; i++) {
        char *dn = it_dn_by_id(env.s, ids[i]);
        H_REQUIRE(dn != NULL);
        char ldif[512];
        snprintf(ldif, sizeof ldif, "dn: %s\nchangetype: modify\nadd: cn\ncn: Alias %d\n-\n", dn, i);
        H_REQUIRE(h_ldap_ldif(env.s, ldif) == 1);
        free(dn);
    }
    counted ca = put_okta(env.g, a, NULL, "put.extra.d", "Pat", "Put", NULL, NULL);
    counted cb = put_okta(reading, b, NULL, "put.extra.r", "Pat", "Put", NULL, NULL);
    h_check_status_(&ca.r, 200, __FILE__, __LINE__);
    h_check_status_(&cb.r, 200, __FILE__, __LINE__);
    CHECK_ONE_MODIFY(&ca);
    json_t *ea = it_entry_by_id(env.s, a), *eb = it_entry_by_id(env.s, b);
    H_CHECK(it_nvals(ea, "cn") == 1 && h_ldap_has_value(ea, "cn", "Pat Put", false));
    H_CHECK(it_nvals(eb, "cn") == 2 && h_ldap_has_value(eb, "cn", "Alias 1", false));
    json_decref(ea);
    json_decref(eb);
    h_resp_free(&ca.r);
    h_resp_free(&cb.r);
    free(a);
    free(b);
}

/* A deprovision policy with a plain item ("set": description=deprovisioned)
 * on OpenLDAP: written without reading too. PUT active false sets it in the
 * one modify; PUT active true asserts it is not there (so re-enabling takes
 * the reading path, which removes it); PATCH active true deletes the value
 * (refused with 16 when it is not there, then the reading path). */
static void test_set_policy(void)
{
    json_t *m = it_default_mapping();
    json_t *rt = json_array_get(json_object_get(m, "resource_types"), 0);
    it_mapping_drop(m, "User", "active");
    json_array_append_new(it_mapping_attrs(m, "User"), json_pack("{s:s}", "scim", "active"));
    json_object_set_new(rt, "deprovision",
                        json_pack("{s:{s:[{s:s, s:s}]}}", "active_false", "set", "ldap", "description", "value",
                                  "deprovisioned"));
    char *mapping = it_mapping_write(m);
    json_decref(m);
    char *cfg = it_mapping_config(mapping);
    H_REQUIRE(cfg != NULL);
    h_gw *g = h_gw_start(env.s, cfg);
    free(cfg);
    H_REQUIRE(g != NULL);
    char *id = create(g, "put.policy", NULL);
    H_REQUIRE(id != NULL);

    counted c = put_okta(g, id, NULL, "put.policy", "Pat", "Put", "P1", ",\"active\":false");
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    CHECK_ONE_MODIFY(&c);
    H_CHECK(json_is_false(json_object_get(c.r.json, "active")));
    json_t *e = it_entry_by_id(env.s, id);
    H_CHECK_STR(h_ldap_attr(e, "description"), "deprovisioned");
    json_decref(e);
    h_resp_free(&c.r);

    /* re-enable by PUT: refused by the assertion, then the reading path */
    char *body = okta_body("put.policy", "Pat", "Put", "P2", NULL);
    c = put(g, id, body, NULL);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    H_CHECK(c.d.search >= 1);
    H_CHECK(json_is_true(json_object_get(c.r.json, "active")));
    e = it_entry_by_id(env.s, id);
    H_CHECK(h_ldap_attr(e, "description") == NULL);
    H_CHECK_STR(h_ldap_attr(e, "title"), "P2");
    json_decref(e);
    h_resp_free(&c.r);
    /* active already: one modify */
    c = put(g, id, body, NULL);
    free(body);
    h_check_status_(&c.r, 200, __FILE__, __LINE__);
    CHECK_ONE_MODIFY(&c);
    h_resp_free(&c.r);

    /* PATCH: disable and re-enable, one modify each */
    char path[256], pbody[256];
    snprintf(path, sizeof path, "/Users/%s", id);
    const char *vals[] = {"false", "true"};
    for (int i = 0; i < 2; i++) {
        snprintf(pbody, sizeof pbody,
                 "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":[{\"op\":\"replace\",\"value\":{\"active\":%s}}]}",
                 vals[i]);
        c = it_request_counted(env.s, g, "PATCH", path, pbody, NULL);
        H_CHECK(c.r.status == 200 || c.r.status == 204);
        CHECK_ONE_MODIFY(&c);
        e = it_entry_by_id(env.s, id);
        H_CHECK((h_ldap_attr(e, "description") != NULL) == (i == 0));
        json_decref(e);
        h_resp_free(&c.r);
    }
    h_gw_stop(g);
    unlink(mapping);
    free(mapping);
    free(id);
}

int main(void)
{
    if (it_env_start(&env, NULL)) {
        reading = h_gw_start(env.s, "{\"behaviour\":{\"direct_put\":false}}");
        H_REQUIRE(reading != NULL);
        test_okta_push();
        test_same_as_reading();
        test_failed_bind_lockout();
        test_reading_path_cases();
        test_if_match_and_stale();
        test_unshown_values();
        test_set_policy();
        h_gw_stop(reading);
    }
    it_env_stop(&env);
    return H_DONE();
}
