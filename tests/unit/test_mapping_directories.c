/* test_mapping_directories.c — the directory-specific parts of the mapping
 * engine: objectGUID and nsUniqueId ids, deprovisioning policies (reading,
 * creating, planning, filtering, DELETE plans), the provisioning scope,
 * derived-value transforms (sAMAccountName), password schemes in entries,
 * and the DN / LDAP-filter checks the loader uses. Runs against the shipped
 * mappings/active-directory.json and mappings/389ds.json and the test mapping
 * tests/data/mapping/directories.json (every policy component). */
#include "s2l/mapping.h"
#include "s2l/password.h"
#include "mapping_fixture.h"
#include "unit.h"

#include <openssl/evp.h>

#include "../../gateway/core/mapping_internal.h"

static s2l_mapping *ad, *ds, *dirs, *ol;
static json_t *EMPTY; /* {} for ids and refs */

/* Administrator's objectGUID on a Samba DC, as the pool hands it over. */
#define ADMIN_GUID_B64 "sAn2BSEBM0qqKSCcJu5Jcw=="
#define ADMIN_GUID "05f609b0-0121-4a33-aa29-209c26ee4973"
#define ADMIN_GUID_FILTER "(objectGUID=\\b0\\09\\f6\\05\\21\\01\\33\\4a\\aa\\29\\20\\9c\\26\\ee\\49\\73)"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
    if (j == NULL)
        fprintf(stderr, "bad test JSON: %s: %s\n", e.text, text);
    return j;
}

static bool json_is(const json_t *got, const char *want_text)
{
    json_t *want = J(want_text);
    bool ok = got && want && json_equal(got, want);
    if (!ok)
        mf_show("json", want_text, got, want);
    json_decref(want);
    return ok;
}

static const s2l_rmap *T(s2l_mapping *m, const char *name)
{
    return s2l_mapping_find(m, name);
}

/* ---- ids ---- */

static void guid_ids(void)
{
    unsigned char b[16], raw[18];
    char s[37];
    CHECK_INT(EVP_DecodeBlock(raw, (const unsigned char *)ADMIN_GUID_B64, 24), 18);
    s2l_guid_format(raw, s);
    CHECK_STR(s, ADMIN_GUID);
    CHECK(s2l_guid_parse("05F609B0-0121-4A33-AA29-209C26EE4973", b) && memcmp(b, raw, 16) == 0);
    CHECK(!s2l_guid_parse("05f609b0-0121-4a33-aa29-209c26ee497", b));
    CHECK(!s2l_guid_parse("05f609b0-0121-4a33-aa29-209c26ee497g", b));
    CHECK(!s2l_guid_parse("{05f609b0-0121-4a33-aa29-209c26ee4973}", b));

    const s2l_rmap *u = T(ad, "User");
    json_t *e = J("{\"dn\":\"CN=a,OU=People,DC=example,DC=test\",\"attrs\":{\"objectGUID;base64\":[\"" ADMIN_GUID_B64
                  "\"]}}");
    char *id = s2l_rmap_entry_id(u, e);
    CHECK_STR(id, ADMIN_GUID);
    free(id);
    json_decref(e);
    /* 16 bytes that are valid UTF-8 come as text */
    e = J("{\"dn\":\"CN=a\",\"attrs\":{\"objectGUID\":[\"ABCDEFGHIJKLMNOP\"]}}");
    id = s2l_rmap_entry_id(u, e);
    CHECK_STR(id, "44434241-4645-4847-494a-4b4c4d4e4f50");
    free(id);
    json_decref(e);
    e = J("{\"dn\":\"CN=a\",\"attrs\":{\"objectGUID;base64\":[\"AAAA\"]}}");
    CHECK(s2l_rmap_entry_id(u, e) == NULL); /* not 16 bytes */
    s2l_error err = {0};
    CHECK(s2l_rmap_to_scim(u, e, NULL, NULL, &err) == NULL && err.status == 500);
    json_decref(e);

    char *f = s2l_rmap_id_assertion(u, ADMIN_GUID);
    CHECK_STR(f, ADMIN_GUID_FILTER);
    free(f);
    f = s2l_rmap_id_assertion(u, "05F609B0-0121-4A33-AA29-209C26EE4973");
    CHECK_STR(f, ADMIN_GUID_FILTER);
    free(f);
    CHECK(s2l_rmap_id_assertion(u, "jdoe") == NULL);
    f = s2l_rmap_id_filter(u, ADMIN_GUID);
    CHECK_STR(f, "(&(objectClass=user)(!(objectClass=computer))" ADMIN_GUID_FILTER ")");
    free(f);

    /* SCIM filters on id */
    s2l_filter *flt = s2l_filter_parse("id eq \"" ADMIN_GUID "\"", strlen("id eq \"" ADMIN_GUID "\""), NULL, &err);
    CHECK(flt != NULL);
    f = flt ? s2l_rmap_ldap_filter(u, flt, NULL, &err) : NULL;
    CHECK_STR(f, "(&(objectClass=user)(!(objectClass=computer))" ADMIN_GUID_FILTER ")");
    free(f);
    s2l_filter_destroy(flt);
    flt = s2l_filter_parse("id eq \"x*\"", strlen("id eq \"x*\""), NULL, &err);
    f = flt ? s2l_rmap_ldap_filter(u, flt, NULL, &err) : NULL;
    CHECK(f && strstr(f, "objectGUID") == NULL); /* matches nothing, asks nothing */
    free(f);
    s2l_filter_destroy(flt);

    /* 389-DS */
    const s2l_rmap *du = T(ds, "User");
    f = s2l_rmap_id_assertion(du, "d4246819-ed9d11f1-896fcaba-561021a1");
    CHECK_STR(f, "(nsUniqueId=d4246819-ed9d11f1-896fcaba-561021a1)");
    free(f);
    CHECK(s2l_rmap_id_assertion(du, "d4246819-ed9d-11f1-896f-caba561021a1") == NULL);
    CHECK(s2l_rmap_id_assertion(du, "d4246819-ed9d11f1-896fcaba-561021a*") == NULL);
    e = J("{\"dn\":\"uid=a,ou=people,dc=example,dc=org\",\"attrs\":{\"nsuniqueid\":[\"d4246819-ed9d11f1-896fcaba-561021a1\"],"
          "\"uid\":[\"a\"]}}");
    json_t *res = s2l_rmap_to_scim(du, e, NULL, NULL, &err);
    CHECK_STR(res ? json_string_value(json_object_get(res, "id")) : NULL, "d4246819-ed9d11f1-896fcaba-561021a1");
    json_decref(res);
    json_decref(e);
}

/* ---- Active Directory ---- */

static void ad_users(void)
{
    const s2l_rmap *u = T(ad, "User");
    s2l_error err = {0};
    json_t *r = J("{\"userName\":\"jane.doe@contoso.example\",\"displayName\":\"Jane Doe\",\"password\":\"Ab1!\","
                  "\"active\":true,\"name\":{\"givenName\":\"Jane\",\"familyName\":\"Doe\"}}");
    json_t *e = s2l_rmap_to_ldap(u, r, EMPTY, &err);
    CHECK(e != NULL);
    CHECK_STR(json_string_value(json_object_get(e, "dn")), "CN=jane.doe@contoso.example,OU=People,DC=example,DC=test");
    json_t *a = json_object_get(e, "attrs");
    CHECK(json_is(s2l_map_get_ci(a, "userAccountControl"), "[\"512\"]"));
    CHECK(json_is(s2l_map_get_ci(a, "sAMAccountName"), "[\"jane.doe\"]"));
    CHECK(json_is(s2l_map_get_ci(a, "userPrincipalName"), "[\"jane.doe@contoso.example\"]"));
    /* "\"Ab1!\"" as UTF-16LE, base64: the pool sends the bytes */
    CHECK(json_is(s2l_map_get_ci(a, "unicodePwd;base64"), "[\"IgBBAGIAMQAhACIA\"]"));
    CHECK(s2l_map_get_ci(a, "unicodePwd") == NULL);
    CHECK(json_is(s2l_map_get_ci(a, "cn"), "[\"jane.doe@contoso.example\"]"));
    json_decref(e);
    json_object_set_new(r, "active", json_false());
    e = s2l_rmap_to_ldap(u, r, EMPTY, &err);
    CHECK(e && json_is(s2l_map_get_ci(json_object_get(e, "attrs"), "userAccountControl"), "[\"514\"]"));
    json_decref(e);
    json_decref(r);

    /* reading: only bit 0x2 decides */
    const char *uacs[] = {"512", "514", "66048", "66050", "546"};
    const bool active[] = {true, false, true, false, false};
    for (size_t i = 0; i < 5; i++) {
        char text[256];
        snprintf(text, sizeof text, "{\"dn\":\"CN=x,OU=People,DC=example,DC=test\",\"attrs\":{\"objectGUID;base64\":"
                                    "[\"" ADMIN_GUID_B64 "\"],\"userAccountControl\":[\"%s\"]}}", uacs[i]);
        e = J(text);
        json_t *res = s2l_rmap_to_scim(u, e, NULL, NULL, &err);
        CHECK(res && json_is_boolean(json_object_get(res, "active")) &&
              json_is_true(json_object_get(res, "active")) == active[i]);
        json_decref(res);
        json_decref(e);
    }
    /* what an update reads includes the flag, never the password */
    char *const *ra = s2l_rmap_update_read_attrs(u);
    bool has_uac = false, has_pwd = false;
    for (size_t i = 0; ra[i]; i++) {
        has_uac = has_uac || strcasecmp(ra[i], "userAccountControl") == 0;
        has_pwd = has_pwd || strncasecmp(ra[i], "unicodePwd", 10) == 0;
    }
    CHECK(has_uac && !has_pwd);
}

static json_t *ad_entry(const char *uac)
{
    char text[512];
    snprintf(text, sizeof text, "{\"dn\":\"CN=jane,OU=People,DC=example,DC=test\",\"attrs\":{\"objectGUID;base64\":"
                                "[\"" ADMIN_GUID_B64 "\"],\"cn\":[\"jane\"],\"userPrincipalName\":[\"jane\"],"
                                "\"userAccountControl\":[\"%s\"]}}", uac);
    return J(text);
}

static json_t *plan(const s2l_rmap *rm, const json_t *entry, const char *new_text, s2l_error *err)
{
    json_t *old = s2l_rmap_to_scim(rm, entry, EMPTY, NULL, err);
    json_t *nw = J(new_text);
    json_t *p = old && nw ? s2l_rmap_plan_update_entry(rm, entry, old, nw, EMPTY, err) : NULL;
    json_decref(old);
    json_decref(nw);
    return p;
}

static void ad_plans(void)
{
    const s2l_rmap *u = T(ad, "User");
    s2l_error err = {0};
    /* one bit, race-safe: delete the value read, add the new one */
    json_t *e = ad_entry("66048");
    json_t *p = plan(u, e, "{\"userName\":\"jane\",\"active\":false}", &err);
    CHECK(json_is(p, "{\"newrdn\":null,\"mods\":[{\"op\":\"delete\",\"attr\":\"userAccountControl\",\"values\":"
                     "[\"66048\"]},{\"op\":\"add\",\"attr\":\"userAccountControl\",\"values\":[\"66050\"]}]}"));
    json_decref(p);
    /* already active: nothing */
    p = plan(u, e, "{\"userName\":\"jane\",\"active\":true}", &err);
    CHECK(json_is(p, "{\"newrdn\":null,\"mods\":[]}"));
    json_decref(p);
    /* a PUT without active leaves it alone */
    p = plan(u, e, "{\"userName\":\"jane\"}", &err);
    CHECK(json_is(p, "{\"newrdn\":null,\"mods\":[]}"));
    json_decref(p);
    json_decref(e);
    /* password and enable together: the password first */
    e = ad_entry("514");
    p = plan(u, e, "{\"userName\":\"jane\",\"active\":true,\"password\":\"x\"}", &err);
    CHECK(json_is(p, "{\"newrdn\":null,\"mods\":[{\"op\":\"replace\",\"attr\":\"unicodePwd;base64\",\"values\":"
                     "[\"IgB4ACIA\"]},{\"op\":\"delete\",\"attr\":\"userAccountControl\",\"values\":[\"514\"]},"
                     "{\"op\":\"add\",\"attr\":\"userAccountControl\",\"values\":[\"512\"]}]}"));
    json_decref(p);
    /* without the entry, a flag cannot be planned */
    json_t *old = s2l_rmap_to_scim(u, e, EMPTY, NULL, &err), *nw = J("{\"userName\":\"jane\",\"active\":true}");
    s2l_error_clear(&err);
    CHECK(s2l_rmap_plan_update(u, old, nw, EMPTY, &err) == NULL && err.status == 500);
    json_decref(old);
    json_decref(nw);
    json_decref(e);
    /* a flag that is not a number is the directory's problem */
    e = ad_entry("many");
    s2l_error_clear(&err);
    p = plan(u, e, "{\"userName\":\"jane\",\"active\":false}", &err);
    CHECK(p == NULL && err.status == 502);
    json_decref(e);

    /* filters: the bit-and matching rule */
    const char *cases[][2] = {
        {"active eq false", "(&(objectClass=user)(!(objectClass=computer))(userAccountControl:1.2.840.113556.1.4.803:=2))"},
        {"active eq true", "(&(objectClass=user)(!(objectClass=computer))(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"},
        {"active ne true", "(&(objectClass=user)(!(objectClass=computer))(userAccountControl:1.2.840.113556.1.4.803:=2))"},
        {"active pr", "(&(objectClass=user)(!(objectClass=computer)))"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s2l_filter *f = s2l_filter_parse(cases[i][0], strlen(cases[i][0]), NULL, &err);
        char *lf = f ? s2l_rmap_ldap_filter(u, f, NULL, &err) : NULL;
        CHECK_STR(lf, cases[i][1]);
        free(lf);
        s2l_filter_destroy(f);
    }
    CHECK(s2l_mapping_needs_tls(ad) && !s2l_mapping_needs_tls(ds) && !s2l_mapping_needs_tls(ol));

    /* groups: sAMAccountName from displayName, on create only */
    const s2l_rmap *g = T(ad, "Group");
    json_t *r = J("{\"displayName\":\"Sales: EMEA/North\"}");
    e = s2l_rmap_to_ldap(g, r, EMPTY, &err);
    CHECK(e && json_is(s2l_map_get_ci(json_object_get(e, "attrs"), "sAMAccountName"), "[\"Sales_ EMEA_North\"]"));
    CHECK_STR(e ? json_string_value(json_object_get(e, "dn")) : NULL, "CN=Sales: EMEA/North,OU=Groups,DC=example,DC=test");
    json_decref(e);
    json_decref(r);
    e = J("{\"dn\":\"CN=Sales,OU=Groups,DC=example,DC=test\",\"attrs\":{\"objectGUID;base64\":[\"" ADMIN_GUID_B64 "\"],"
          "\"cn\":[\"Sales\"]}}");
    p = plan(g, e, "{\"displayName\":\"Sales Team\"}", &err);
    CHECK(json_is(p, "{\"newrdn\":\"CN=Sales Team\",\"mods\":[]}"));
    json_decref(p);
    json_decref(e);
}

/* ---- 389-DS ---- */

static void ds_users(void)
{
    const s2l_rmap *u = T(ds, "User");
    s2l_error err = {0};
    json_t *r = J("{\"userName\":\"amy\",\"password\":\"S3cret!\",\"active\":false}");
    json_t *e = s2l_rmap_to_ldap(u, r, EMPTY, &err);
    json_t *a = e ? json_object_get(e, "attrs") : NULL;
    CHECK(json_is(s2l_map_get_ci(a, "nsAccountLock"), "[\"TRUE\"]"));
    /* "directory": 389 hashes it with its storage scheme */
    CHECK(json_is(s2l_map_get_ci(a, "userPassword"), "[\"S3cret!\"]"));
    json_decref(e);
    json_object_set_new(r, "active", json_true());
    e = s2l_rmap_to_ldap(u, r, EMPTY, &err);
    CHECK(e && s2l_map_get_ci(json_object_get(e, "attrs"), "nsAccountLock") == NULL);
    json_decref(e);
    json_decref(r);

    e = J("{\"dn\":\"uid=amy,ou=people,dc=example,dc=org\",\"attrs\":{\"nsUniqueId\":[\"d4246819-ed9d11f1-896fcaba-561021a1\"],"
          "\"uid\":[\"amy\"],\"nsAccountLock\":[\"true\"]}}");
    json_t *res = s2l_rmap_to_scim(u, e, NULL, NULL, &err);
    CHECK(res && json_is_false(json_object_get(res, "active")));
    json_decref(res);
    json_t *p = plan(u, e, "{\"userName\":\"amy\",\"active\":true}", &err);
    CHECK(json_is(p, "{\"newrdn\":null,\"mods\":[{\"op\":\"delete\",\"attr\":\"nsAccountLock\",\"values\":[]}]}"));
    json_decref(p);
    json_decref(e);
    e = J("{\"dn\":\"uid=amy,ou=people,dc=example,dc=org\",\"attrs\":{\"nsUniqueId\":[\"d4246819-ed9d11f1-896fcaba-561021a1\"],"
          "\"uid\":[\"amy\"]}}");
    p = plan(u, e, "{\"userName\":\"amy\",\"active\":false}", &err);
    CHECK(json_is(p, "{\"newrdn\":null,\"mods\":[{\"op\":\"replace\",\"attr\":\"nsAccountLock\",\"values\":[\"TRUE\"]}]}"));
    json_decref(p);
    json_decref(e);

    s2l_filter *f = s2l_filter_parse("active eq false", 15, NULL, &err);
    char *lf = f ? s2l_rmap_ldap_filter(u, f, NULL, &err) : NULL;
    CHECK_STR(lf, "(&(objectClass=inetOrgPerson)(nsAccountLock=TRUE))");
    free(lf);
    s2l_filter_destroy(f);
}

/* ---- every component: lock, value with active_value, flag with initial, move ---- */

static void policy_components(void)
{
    const s2l_rmap *u = T(dirs, "User");
    s2l_error err = {0};
    s2l_dp_info info;
    s2l_rmap_deprovision_info(u, false, &info);
    CHECK(info.configured && info.lock && info.n_set == 2 && !info.hard_delete);
    CHECK_STR(info.move_to, "ou=disabled,ou=people,dc=example,dc=org");
    s2l_rmap_deprovision_info(u, true, &info);
    CHECK(info.configured && !info.hard_delete && info.n_set == 1);
    CHECK_STR(info.move_to, "ou=deleted,dc=example,dc=org");
    s2l_rmap_deprovision_info(T(ol, "User"), true, &info);
    CHECK(!info.configured && info.hard_delete);
    s2l_rmap_deprovision_info(T(ol, "User"), false, &info);
    CHECK(info.configured && info.lock); /* the "deprovision": "lock" shorthand */

    /* create: inactive lands in the move target, with every component */
    json_t *r = J("{\"userName\":\"bo\",\"active\":false}");
    json_t *e = s2l_rmap_to_ldap(u, r, EMPTY, &err);
    CHECK(e && json_is(e, "{\"dn\":\"uid=bo,ou=disabled,ou=people,dc=example,dc=org\",\"attrs\":{\"objectClass\":"
                          "[\"inetOrgPerson\"],\"uid\":[\"bo\"],\"sn\":[\"bo\"],\"cn\":[\"bo\"],\"pwdAccountLockedTime\":"
                          "[\"000001010000Z\"],\"employeeType\":[\"disabled\"],\"x-flags\":[\"7\"]}}"));
    json_decref(e);
    json_object_set_new(r, "active", json_true());
    e = s2l_rmap_to_ldap(u, r, EMPTY, &err);
    CHECK(e && json_is(e, "{\"dn\":\"uid=bo,ou=people,dc=example,dc=org\",\"attrs\":{\"objectClass\":[\"inetOrgPerson\"],"
                          "\"uid\":[\"bo\"],\"sn\":[\"bo\"],\"cn\":[\"bo\"],\"employeeType\":[\"enabled\"],"
                          "\"x-flags\":[\"1\"]}}"));
    json_decref(e);
    json_decref(r);

    /* reading: any component says inactive */
    const char *entries[] = {
        "{\"dn\":\"uid=bo,ou=people,dc=example,dc=org\",\"attrs\":{\"entryUUID\":[\"11111111-2222-3333-4444-555555555555\"],\"uid\":[\"bo\"]}}",
        "{\"dn\":\"uid=bo,ou=Disabled, ou=People,dc=example,dc=org\",\"attrs\":{\"entryUUID\":[\"11111111-2222-3333-4444-555555555555\"],\"uid\":[\"bo\"]}}",
        "{\"dn\":\"uid=bo,ou=people,dc=example,dc=org\",\"attrs\":{\"entryUUID\":[\"11111111-2222-3333-4444-555555555555\"],\"uid\":[\"bo\"],\"pwdAccountLockedTime\":[\"000001010000Z\"]}}",
        "{\"dn\":\"uid=bo,ou=people,dc=example,dc=org\",\"attrs\":{\"entryUUID\":[\"11111111-2222-3333-4444-555555555555\"],\"uid\":[\"bo\"],\"pwdAccountLockedTime\":[\"20260101000000Z\"]}}",
        "{\"dn\":\"uid=bo,ou=people,dc=example,dc=org\",\"attrs\":{\"entryUUID\":[\"11111111-2222-3333-4444-555555555555\"],\"uid\":[\"bo\"],\"employeeType\":[\"Disabled\"]}}",
        "{\"dn\":\"uid=bo,ou=people,dc=example,dc=org\",\"attrs\":{\"entryUUID\":[\"11111111-2222-3333-4444-555555555555\"],\"uid\":[\"bo\"],\"x-flags\":[\"5\"]}}",
        "{\"dn\":\"uid=bo,ou=people,dc=example,dc=org\",\"attrs\":{\"entryUUID\":[\"11111111-2222-3333-4444-555555555555\"],\"uid\":[\"bo\"],\"x-flags\":[\"7\"]}}",
    };
    const bool active[] = {true, false, false, true, false, true, false};
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        e = J(entries[i]);
        json_t *res = s2l_rmap_to_scim(u, e, NULL, NULL, &err);
        bool ok = res && json_is_true(json_object_get(res, "active")) == active[i];
        if (!ok)
            fprintf(stderr, "entry %zu: active should be %d\n", i, active[i]);
        CHECK(ok);
        json_decref(res);
        json_decref(e);
    }

    /* deactivating an active entry: every component, and the move */
    e = J("{\"dn\":\"uid=bo,ou=people,dc=example,dc=org\",\"attrs\":{\"entryUUID\":[\"11111111-2222-3333-4444-555555555555\"],"
          "\"uid\":[\"bo\"],\"sn\":[\"bo\"],\"employeeType\":[\"enabled\"],\"x-flags\":[\"9\"]}}");
    json_t *p = plan(u, e, "{\"userName\":\"bo\",\"active\":false}", &err);
    CHECK(json_is(p, "{\"newrdn\":null,\"newsuperior\":\"ou=disabled,ou=people,dc=example,dc=org\",\"mods\":["
                     "{\"op\":\"replace\",\"attr\":\"pwdAccountLockedTime\",\"values\":[\"000001010000Z\"]},"
                     "{\"op\":\"replace\",\"attr\":\"employeeType\",\"values\":[\"disabled\"]},"
                     "{\"op\":\"delete\",\"attr\":\"x-flags\",\"values\":[\"9\"]},"
                     "{\"op\":\"add\",\"attr\":\"x-flags\",\"values\":[\"15\"]}]}"));
    json_decref(p);
    /* DELETE: disabled and moved out of the scope */
    p = s2l_rmap_plan_delete(u, e, &err);
    CHECK(json_is(p, "{\"delete\":false,\"newsuperior\":\"ou=deleted,dc=example,dc=org\",\"mods\":["
                     "{\"op\":\"replace\",\"attr\":\"employeeType\",\"values\":[\"deleted\"]}]}"));
    json_decref(p);
    p = s2l_rmap_plan_delete(T(ol, "User"), e, &err);
    CHECK(json_is(p, "{\"delete\":true}"));
    json_decref(p);
    json_decref(e);

    /* what DELETE reads first: the version (If-Match) and the policy's attributes */
    char **ra = s2l_rmap_delete_read_attrs(u);
    CHECK(ra && s2l_strv_len(ra) == 2 && strcmp(ra[0], "entryCSN") == 0 && strcmp(ra[1], "employeeType") == 0);
    s2l_strv_free(ra);
    /* the default policy: the version attribute only */
    ra = s2l_rmap_delete_read_attrs(T(ol, "User"));
    CHECK(ra && s2l_strv_len(ra) == 1 && strcmp(ra[0], "entryCSN") == 0);
    s2l_strv_free(ra);
    /* AD: the version (uSNChanged), nothing for the default DELETE */
    ra = s2l_rmap_delete_read_attrs(T(ad, "User"));
    CHECK(ra && s2l_strv_len(ra) == 1 && strcasecmp(ra[0], "uSNChanged") == 0);
    s2l_strv_free(ra);
    /* flags (a conflict on them is planned again, then 409) versus values */
    CHECK(s2l_rmap_is_policy_flag(u, "x-flags") && s2l_rmap_is_policy_flag(u, "X-FLAGS"));
    CHECK(!s2l_rmap_is_policy_flag(u, "employeeType") && !s2l_rmap_is_policy_flag(u, "uid"));
    CHECK(s2l_rmap_is_policy_flag(T(ad, "User"), "userAccountControl"));
    CHECK(!s2l_rmap_is_policy_flag(T(ds, "User"), "nsAccountLock"));
    CHECK(!s2l_rmap_is_policy_flag(T(ol, "User"), "pwdAccountLockedTime"));

    /* reactivating undoes each: our lock value only, the flag bits only, back to base_dn */
    e = J("{\"dn\":\"uid=bo,ou=disabled,ou=people,dc=example,dc=org\",\"attrs\":{\"entryUUID\":"
          "[\"11111111-2222-3333-4444-555555555555\"],\"uid\":[\"bo\"],\"sn\":[\"bo\"],\"pwdAccountLockedTime\":"
          "[\"000001010000Z\"],\"employeeType\":[\"disabled\"],\"x-flags\":[\"15\"]}}");
    p = plan(u, e, "{\"userName\":\"bo\",\"active\":true}", &err);
    CHECK(json_is(p, "{\"newrdn\":null,\"newsuperior\":\"ou=people,dc=example,dc=org\",\"mods\":["
                     "{\"op\":\"delete\",\"attr\":\"pwdAccountLockedTime\",\"values\":[\"000001010000Z\"]},"
                     "{\"op\":\"replace\",\"attr\":\"employeeType\",\"values\":[\"enabled\"]},"
                     "{\"op\":\"delete\",\"attr\":\"x-flags\",\"values\":[\"15\"]},"
                     "{\"op\":\"add\",\"attr\":\"x-flags\",\"values\":[\"9\"]}]}"));
    json_decref(p);
    /* renamed and reactivated at once: one modrdn with both */
    p = plan(u, e, "{\"userName\":\"bob\",\"active\":true}", &err);
    CHECK(p && json_is(json_object_get(p, "newrdn"), "\"uid=bob\"") &&
          json_is(json_object_get(p, "newsuperior"), "\"ou=people,dc=example,dc=org\""));
    json_decref(p);
    json_decref(e);

    /* filters: the conditions that can be searched (not the move) */
    s2l_filter *f = s2l_filter_parse("active eq false", 15, NULL, &err);
    char *lf = f ? s2l_rmap_ldap_filter(u, f, NULL, &err) : NULL;
    CHECK_STR(lf, "(&(objectClass=inetOrgPerson)(|(pwdAccountLockedTime=000001010000Z)(employeeType=disabled)"
                  "(x-flags:1.2.840.113556.1.4.803:=6)))");
    free(lf);
    /* a move alone cannot be searched: 400 */
    s2l_error_clear(&err);
    lf = f ? s2l_rmap_ldap_filter(T(dirs, "Contractor"), f, NULL, &err) : NULL;
    CHECK(lf == NULL && err.status == 400 && strcmp(err.scim_type, S2L_SCIM_INVALID_FILTER) == 0);
    s2l_filter_destroy(f);
    /* a Contractor's password: the default scheme, {CRYPT} */
    r = J("{\"userName\":\"c1\",\"password\":\"pw-1\"}");
    e = s2l_rmap_to_ldap(T(dirs, "Contractor"), r, EMPTY, &err);
    const char *pw = e ? json_string_value(json_array_get(s2l_map_get_ci(json_object_get(e, "attrs"), "userPassword"), 0)) : NULL;
    CHECK(pw && strncmp(pw, "{CRYPT}$6$", 10) == 0 && s2l_pw_verify(pw, strlen(pw), "pw-1", 4));
    json_decref(e);
    json_decref(r);
    r = J("{\"userName\":\"u1\",\"password\":\"pw-1\"}");
    e = s2l_rmap_to_ldap(u, r, EMPTY, &err);
    pw = e ? json_string_value(json_array_get(s2l_map_get_ci(json_object_get(e, "attrs"), "userPassword"), 0)) : NULL;
    CHECK(pw && strncmp(pw, "{SSHA}", 6) == 0 && s2l_pw_verify(pw, strlen(pw), "pw-1", 4));
    json_decref(e);
    json_decref(r);
}

static void provisioning_scope(void)
{
    const s2l_rmap *u = T(dirs, "User");
    s2l_error err = {0};
    CHECK_STR(s2l_rmap_protected_filter(u), "(|(uid=admin)(employeeType=service))");
    CHECK(s2l_rmap_protected_filter(T(ol, "User")) == NULL);
    char *f = s2l_rmap_write_id_filter(u, "11111111-2222-3333-4444-555555555555");
    CHECK_STR(f, "(&(objectClass=inetOrgPerson)(entryUUID=11111111-2222-3333-4444-555555555555)"
                 "(!(|(uid=admin)(employeeType=service))))");
    free(f);
    f = s2l_rmap_write_id_filter(T(ol, "User"), "11111111-2222-3333-4444-555555555555");
    CHECK_STR(f, "(&(objectClass=inetOrgPerson)(entryUUID=11111111-2222-3333-4444-555555555555))");
    free(f);
    CHECK(s2l_rmap_write_id_filter(u, "bad") == NULL);

    json_t *adds = s2l_rmap_default_group_adds(u, "uid=bo,ou=people,dc=example,dc=org", &err);
    CHECK(json_is(adds, "[{\"dn\":\"cn=staff,ou=groups,dc=example,dc=org\",\"mods\":[{\"op\":\"add\",\"attr\":\"member\","
                        "\"values\":[\"uid=bo,ou=people,dc=example,dc=org\"]}]}]"));
    json_decref(adds);
    adds = s2l_rmap_default_group_adds(T(ol, "User"), "uid=bo,ou=people,dc=example,dc=org", &err);
    CHECK(json_is(adds, "[]"));
    json_decref(adds);

    CHECK_STR(s2l_rmap_boundary(u), "dc=example,dc=org");
    CHECK_STR(s2l_rmap_boundary(T(ol, "User")), "ou=people,dc=example,dc=org"); /* the base DN */
    CHECK(s2l_rmap_dn_in_boundary(u, "uid=x,ou=deleted,dc=example,dc=org"));
    CHECK(s2l_rmap_dn_in_boundary(u, "UID=x, OU=Deleted, DC=Example, DC=Org"));
    CHECK(!s2l_rmap_dn_in_boundary(u, "uid=x,dc=other,dc=org"));
    CHECK(!s2l_rmap_dn_in_boundary(u, "uid=x,dc=example\\,dc=org"));
    CHECK(!s2l_rmap_dn_in_boundary(T(ol, "User"), "uid=x,ou=groups,dc=example,dc=org"));
}

/* ---- helpers the loader uses ---- */

static void transforms(void)
{
    s2l_transform t = {.on = true, .cut_at = "@", .invalid_chars = "\"/\\[]:;|=,+*?<> ", .replacement = "_",
                       .max_length = 20};
    const char *cases[][2] = {
        {"jane.doe@contoso.example", "jane.doe"},
        {"christopher.montgomery-smith@x", "christopher.montgome"},
        {"a\"b/c[d]e:f;g|h=i@x", "a_b_c_d_e_f_g_h_i"},
        {"ends.with.dot.@x", "ends.with.dot"},
        {"no-at-sign", "no-at-sign"},
        {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
         "\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
         "\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"}, /* 21 characters cut to 20, never mid-sequence */
        {"@x", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *v = s2l_transform_apply(&t, cases[i][0]);
        CHECK_STR(v, cases[i][1]);
        free(v);
    }
    s2l_transform drop = {.on = true, .invalid_chars = " ", .replacement = "", .lower_case = true};
    char *v = s2l_transform_apply(&drop, "Jane Q Doe");
    CHECK_STR(v, "janeqdoe");
    free(v);
}

static void syntax_checks(void)
{
    const char *good[] = {"(uid=a)", "(&(uid=a)(|(cn=b*)(!(sn=c))))", "(userAccountControl:1.2.840.113556.1.4.803:=2)",
                          "(cn:dn:2.5.13.5:=x)", "(memberOf=CN=Domain Admins,CN=Users,DC=example,DC=test)",
                          "(cn=a\\2ab)", "(createTimestamp>=20260101000000Z)", "(cn~=jon)", "(&)", "(adminCount=1)"};
    const char *bad[] = {"uid=a", "(uid=a", "(uid=a))", "(=a)", "(uid a)", "(cn=a\\2)", "(cn=a(b)", "(&(uid=a)x)",
                         "", "(cn>=a*)"};
    const char *why;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        bool ok = s2l_ldap_filter_syntax_ok(good[i], &why);
        if (!ok)
            fprintf(stderr, "refused %s: %s\n", good[i], why);
        CHECK(ok);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bool ok = !s2l_ldap_filter_syntax_ok(bad[i], &why) && why != NULL;
        if (!ok)
            fprintf(stderr, "accepted %s\n", bad[i]);
        CHECK(ok);
    }
    CHECK(s2l_dn_syntax_ok("ou=disabled,dc=example,dc=org"));
    CHECK(s2l_dn_syntax_ok("CN=Smith\\, John,OU=People,DC=example,DC=test"));
    CHECK(s2l_dn_syntax_ok("2.5.4.3=x"));
    CHECK(!s2l_dn_syntax_ok("disabled"));
    CHECK(!s2l_dn_syntax_ok("ou=,dc=x"));
    CHECK(!s2l_dn_syntax_ok("ou=a,,dc=x"));
    CHECK(!s2l_dn_syntax_ok(""));
    CHECK(s2l_dn_under("uid=a,ou=People, dc=Example,dc=org", "ou=people,dc=example,dc=org", false));
    CHECK(!s2l_dn_under("ou=people,dc=example,dc=org", "ou=people,dc=example,dc=org", false));
    CHECK(s2l_dn_under("ou=people,dc=example,dc=org", "OU=People,DC=Example,DC=Org", true));
    CHECK(!s2l_dn_under("uid=a,ou=peoplex,dc=example,dc=org", "ou=people,dc=example,dc=org", false));
    CHECK(!s2l_dn_under("uid=a,xou=people,dc=example,dc=org", "ou=people,dc=example,dc=org", false));
    CHECK_STR(s2l_dn_parent("uid=a\\,b, ou=x,dc=y"), "ou=x,dc=y");
    CHECK(s2l_dn_parent("dc=org") == NULL);
}

/* ---- AD: the password before the enable ---- */

static void enable_after_password(void)
{
    const s2l_rmap *u = T(ad, "User");
    s2l_error err = {0};
    json_t *r = J("{\"userName\":\"pw@example.test\",\"password\":\"Pass-word-1!\",\"active\":true}");
    json_t *e = s2l_rmap_to_ldap(u, r, EMPTY, &err);
    CHECK(e && json_is(s2l_map_get_ci(json_object_get(e, "attrs"), "userAccountControl"), "[\"512\"]"));
    json_t *mods = e ? s2l_rmap_enable_after_password(u, e, &err) : NULL;
    /* added disabled, enabled after: only bit 0x2 changes */
    CHECK(json_is(s2l_map_get_ci(json_object_get(e, "attrs"), "userAccountControl"), "[\"514\"]"));
    CHECK(json_is(mods, "[{\"op\":\"delete\",\"attr\":\"userAccountControl\",\"values\":[\"514\"]},"
                        "{\"op\":\"add\",\"attr\":\"userAccountControl\",\"values\":[\"512\"]}]"));
    json_decref(mods);
    json_decref(e);
    json_decref(r);
    /* no password, or created inactive: one add, as planned */
    const char *as_is[] = {"{\"userName\":\"np@example.test\",\"active\":true}",
                           "{\"userName\":\"off@example.test\",\"password\":\"Pass-word-1!\",\"active\":false}"};
    const char *uac[] = {"[\"512\"]", "[\"514\"]"};
    for (size_t i = 0; i < 2; i++) {
        r = J(as_is[i]);
        e = s2l_rmap_to_ldap(u, r, EMPTY, &err);
        mods = e ? s2l_rmap_enable_after_password(u, e, &err) : NULL;
        CHECK(json_is(mods, "[]"));
        CHECK(e && json_is(s2l_map_get_ci(json_object_get(e, "attrs"), "userAccountControl"), uac[i]));
        json_decref(mods);
        json_decref(e);
        json_decref(r);
    }
    /* not AD: nothing */
    r = J("{\"userName\":\"ol\",\"password\":\"pw-1\",\"active\":true}");
    e = s2l_rmap_to_ldap(T(ol, "User"), r, EMPTY, &err);
    mods = e ? s2l_rmap_enable_after_password(T(ol, "User"), e, &err) : NULL;
    CHECK(json_is(mods, "[]"));
    json_decref(mods);
    json_decref(e);
    json_decref(r);
}

/* ---- AD range retrieval ---- */

static bool strv_has(char *const *v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static void range_retrieval(void)
{
    size_t n;
    unsigned long lo, hi;
    bool last;
    CHECK(s2l_range_parse("member;range=0-1499", &n, &lo, &hi, &last) && n == 6 && lo == 0 && hi == 1499 && !last);
    CHECK(s2l_range_parse("Member;Range=1500-*", &n, &lo, &hi, &last) && n == 6 && lo == 1500 && last);
    const char *bad[] = {"member", "member;range=", "member;range=5-", "member;range=9-3", "member;range=a-9",
                         "member;range=0-9x", ";range=0-9", "objectGUID;base64", "member;range=0-*x", NULL};
    for (size_t i = 0; bad[i]; i++) {
        bool ok = !s2l_range_parse(bad[i], &n, &lo, &hi, &last);
        if (!ok)
            fprintf(stderr, "parsed %s\n", bad[i]);
        CHECK(ok);
    }

    /* a first range: values moved under the plain name, the next range asked */
    json_t *e = J("{\"dn\":\"CN=g,OU=Groups,DC=example,DC=test\",\"attrs\":{\"cn\":[\"g\"],"
                  "\"objectGUID;base64\":[\"AAAA\"],\"member;range=0-1\":[\"CN=a\",\"CN=b\"]}}");
    json_t *todo = s2l_entry_merge_ranges(e);
    CHECK(json_is(todo, "[{\"attr\":\"member\",\"next\":\"member;range=2-*\",\"from\":2}]"));
    CHECK(json_is(json_object_get(e, "attrs"), "{\"cn\":[\"g\"],\"objectGUID;base64\":[\"AAAA\"],"
                                               "\"member\":[\"CN=a\",\"CN=b\"]}"));
    json_decref(todo);
    /* the last range: appended, nothing left */
    json_object_set_new(json_object_get(e, "attrs"), "member;range=2-*", json_pack("[s]", "CN=c"));
    todo = s2l_entry_merge_ranges(e);
    CHECK(json_is(todo, "[]"));
    CHECK(json_is(s2l_map_get_ci(json_object_get(e, "attrs"), "member"), "[\"CN=a\",\"CN=b\",\"CN=c\"]"));
    json_decref(todo);
    /* a complete entry is left alone */
    todo = s2l_entry_merge_ranges(e);
    CHECK(json_is(todo, "[]") && json_object_size(json_object_get(e, "attrs")) == 3);
    json_decref(todo);
    json_decref(e);

    /* the AD mapping reads groups' member in ranges of 1500; others whole */
    const s2l_rmap *g = T(ad, "Group");
    CHECK_INT(s2l_rmap_range_size(g), 1500);
    CHECK(strv_has(s2l_rmap_default_read_attrs(g), "member;range=0-1499"));
    CHECK(!strv_has(s2l_rmap_default_read_attrs(g), "member"));
    CHECK(!strv_has(s2l_rmap_update_read_attrs(g), "member;range=0-1499")); /* updates never read members */
    CHECK_INT(s2l_rmap_range_size(T(ol, "Group")), 0);
    CHECK(strv_has(s2l_rmap_default_read_attrs(T(ol, "Group")), "member"));
    /* rendered after the merge: the members are there */
    e = J("{\"dn\":\"CN=g,OU=Groups,DC=example,DC=test\",\"attrs\":{\"cn\":[\"g\"],"
          "\"objectGUID;base64\":[\"sAn2BSEBM0qqKSCcJu5Jcw==\"],\"member;range=0-*\":[\"CN=a,OU=People,DC=example,DC=test\"]}}");
    todo = s2l_entry_merge_ranges(e);
    json_t *refs = J("{\"CN=a,OU=People,DC=example,DC=test\":{\"id\":\"u-1\",\"type\":\"User\"}}");
    s2l_error err = {0};
    json_t *r = s2l_rmap_to_scim(g, e, refs, NULL, &err);
    CHECK(r && json_array_size(json_object_get(r, "members")) == 1);
    json_decref(r);
    json_decref(refs);
    json_decref(todo);
    json_decref(e);
}

int main(void)
{
    EMPTY = json_object();
    ad = mf_load_mapping("mappings/active-directory.json");
    ds = mf_load_mapping("mappings/389ds.json");
    dirs = mf_load_mapping("tests/data/mapping/directories.json");
    ol = mf_load_mapping("mappings/openldap.json");
    CHECK(ad && ds && dirs && ol);
    if (ad && ds && dirs && ol) {
        guid_ids();
        ad_users();
        ad_plans();
        ds_users();
        policy_components();
        provisioning_scope();
        range_retrieval();
        enable_after_password();
    }
    transforms();
    syntax_checks();
    s2l_mapping_destroy(ad);
    s2l_mapping_destroy(ds);
    s2l_mapping_destroy(dirs);
    s2l_mapping_destroy(ol);
    json_decref(EMPTY);
    return UNIT_DONE();
}
