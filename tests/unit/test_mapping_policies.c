/* test_mapping_policies.c — what the mapping does with content it has no
 * place for, and the pieces around it (gateway/core/mapping_keep.c,
 * mapping_write.c, mapping_errors.c, resource.c, patch.c):
 *
 *  - normalisation and PATCH under keep / ignore / reject, with notes;
 *  - the keep attribute: items written, merged back on read, unchanged
 *    items never rewritten, member items following member changes;
 *  - "type": "*" values kept as JSON, the co/c country pair, Postal Address;
 *  - adoption of entries lacking the mapping's object classes;
 *  - unknown members (skip/reject), SCIM paths in LDAP errors, syntax checks.
 */
#include "s2l/ldap_errors.h"
#include "s2l/mapping.h"
#include "s2l/resource.h"
#include "mapping_fixture.h"
#include "unit.h"

#include <ldap.h>

static mapping_fixture fx;

static const s2l_rmap *user_of(const s2l_mapping *m) { return s2l_mapping_find(m, "User"); }

static json_t *parse(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (j == NULL)
        fprintf(stderr, "bad test JSON at %d: %s\n%s\n", je.column, je.text, text);
    return j;
}

static bool notes_have(const json_t *notes, const char *key, const char *text)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(notes, key), i, e) {
        if (strcmp(json_string_value(e), text) == 0)
            return true;
    }
    return false;
}

static json_t *norm(const s2l_rmap *rm, const char *body, json_t *notes, s2l_error *err)
{
    json_t *b = parse(body);
    s2l_norm_opts o = {.policies = s2l_rmap_policies(rm), .notes = notes};
    json_t *r = s2l_resource_normalize(s2l_rmap_rtype(rm), b, S2L_NORM_CREATE, &o, err);
    json_decref(b);
    return r;
}

static const char custom[] =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"urn:example:x:1.0:User\"],\"userName\":\"u\","
    "\"favouriteColour\":\"blue\",\"name\":{\"givenName\":\"G\",\"shoeSize\":44},\"honorificPrefix\":null,"
    "\"roles\":[],\"photos\":{},\"urn:example:x:1.0:User\":{\"badge\":\"B\"},\"emails\":[{\"value\":\"a@b\",\"colour\":\"red\"}]}";

static void test_normalize_policies(void)
{
    s2l_error err = {0};
    json_t *notes = json_object();

    /* keep (the default mapping): everything stays, as sent */
    json_t *r = norm(user_of(fx.openldap), custom, notes, &err);
    CHECK(r != NULL);
    CHECK_STR(json_string_value(json_object_get(r, "favouriteColour")), "blue");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r, "name"), "shoeSize")), 44);
    CHECK_STR(json_string_value(json_object_get(json_object_get(r, "urn:example:x:1.0:User"), "badge")), "B");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(r, "emails"), 0), "colour")), "red");
    CHECK_INT(json_array_size(json_object_get(r, "schemas")), 2);
    CHECK(json_object_get(r, "honorificPrefix") == NULL && json_object_get(r, "roles") == NULL &&
          json_object_get(r, "photos") == NULL);
    CHECK(notes_have(notes, "kept", "favouriteColour") && notes_have(notes, "kept", "name.shoeSize") &&
          notes_have(notes, "kept", "emails.colour") && notes_have(notes, "kept_schemas", "urn:example:x:1.0:User"));
    /* unassigned things are never noted */
    CHECK(!notes_have(notes, "kept", "honorificPrefix") && !notes_have(notes, "kept", "roles"));
    json_decref(r);
    json_decref(notes);

    /* ignore (posix mapping, no keep attribute): dropped and noted; unmapped
     * (in the schema, not mapped) is told from unknown only by the note key */
    notes = json_object();
    r = norm(user_of(fx.posix), "{\"userName\":\"u\",\"nickName\":\"N\",\"shoe\":1,\"schemas\":[\"urn:x:y\"]}", notes,
             &err);
    CHECK(r != NULL);
    CHECK(json_object_get(r, "nickName") == NULL && json_object_get(r, "shoe") == NULL);
    CHECK_INT(json_array_size(json_object_get(r, "schemas")), 0);
    CHECK(notes_have(notes, "ignored", "nickName") && notes_have(notes, "ignored", "shoe") &&
          notes_have(notes, "ignored_schemas", "urn:x:y"));
    json_decref(r);
    json_decref(notes);

    /* reject: 400 invalidSyntax naming the path; unassigned values still pass */
    static const struct {
        const char *body, *detail;
    } bad[] = {
        {"{\"userName\":\"u\",\"favouriteColour\":\"blue\"}", "favouriteColour"},
        {"{\"userName\":\"u\",\"name\":{\"shoeSize\":1}}", "name.shoeSize"},
        {"{\"userName\":\"u\",\"urn:example:x:1.0:User\":{\"badge\":\"B\"}}", "urn:example:x:1.0:User"},
        {"{\"userName\":\"u\",\"schemas\":[\"urn:example:x:1.0:User\"]}", "urn:example:x:1.0:User"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        notes = json_object();
        s2l_error_clear(&err);
        r = norm(user_of(fx.strict), bad[i].body, notes, &err);
        CHECK(r == NULL);
        CHECK_INT(err.status, 400);
        CHECK_STR(err.scim_type, S2L_SCIM_INVALID_SYNTAX);
        CHECK(strstr(err.detail, bad[i].detail) != NULL);
        CHECK(json_object_size(notes) == 1); /* "rejected" or "rejected_schemas" */
        json_decref(r);
        json_decref(notes);
    }
    r = norm(user_of(fx.strict), "{\"userName\":\"u\",\"favouriteColour\":null,\"roles\":[],\"shoe\":{}}", NULL, &err);
    CHECK(r != NULL);
    json_decref(r);
}

static void test_patch_policies(void)
{
    const s2l_rmap *rm = user_of(fx.openldap);
    json_t *res = parse("{\"userName\":\"u\",\"favouriteColour\":\"blue\",\"urn:example:x:1.0:User\":{\"badge\":\"B\"}}");
    json_t *req = parse("{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":["
                        "{\"op\":\"replace\",\"path\":\"favouriteColour\",\"value\":\"red\"},"
                        "{\"op\":\"add\",\"path\":\"pets\",\"value\":[\"cat\"]},"
                        "{\"op\":\"add\",\"path\":\"pets\",\"value\":\"dog\"},"
                        "{\"op\":\"replace\",\"value\":{\"urn:example:x:1.0:User:badge\":\"C\",\"shoe\":null}},"
                        "{\"op\":\"add\",\"path\":\"name.shoeSize\",\"value\":45},"
                        "{\"op\":\"remove\",\"path\":\"gone\"}]}");
    json_t *notes = json_object(), *deltas = NULL;
    s2l_error err = {0};
    s2l_patch_opts o = {.policies = s2l_rmap_policies(rm), .notes = notes};

    CHECK_INT(s2l_patch_apply(s2l_rmap_rtype(rm), res, req, &o, &deltas, &err), 0);
    CHECK_STR(json_string_value(json_object_get(res, "favouriteColour")), "red");
    CHECK_INT(json_array_size(json_object_get(res, "pets")), 2);
    CHECK_STR(json_string_value(json_object_get(json_object_get(res, "urn:example:x:1.0:User"), "badge")), "C");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(res, "name"), "shoeSize")), 45);
    CHECK(notes_have(notes, "kept", "favouriteColour") && notes_have(notes, "kept", "pets"));
    json_decref(req);
    json_decref(notes);

    /* reject on an explicit path: invalidPath */
    req = parse("{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":["
                "{\"op\":\"replace\",\"path\":\"favouriteColour\",\"value\":\"red\"}]}");
    o.policies = s2l_rmap_policies(user_of(fx.strict));
    o.notes = NULL;
    CHECK_INT(s2l_patch_apply(s2l_rmap_rtype(user_of(fx.strict)), res, req, &o, &deltas, &err), -1);
    CHECK_STR(err.scim_type, S2L_SCIM_INVALID_PATH);
    json_decref(req);
    json_decref(res);

    /* members: unknown sub-attributes kept with the member id (Azure's displayName) */
    const s2l_rmap *g = s2l_mapping_find(fx.openldap, "Group");
    const char *const names[] = {"members", NULL};
    res = parse("{\"displayName\":\"g\"}");
    req = parse("{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":["
                "{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"id1\",\"displayName\":\"new User\","
                "\"display\":\"ignored: rendered by the server\"}]}]}");
    o = (s2l_patch_opts){.delta_attrs = names, .policies = s2l_rmap_policies(g)};
    CHECK_INT(s2l_patch_apply(s2l_rmap_rtype(g), res, req, &o, &deltas, &err), 0);
    json_t *added = json_array_get(json_object_get(json_array_get(deltas, 0), "add"), 0);
    CHECK_STR(json_string_value(json_object_get(added, "displayName")), "new User");
    CHECK(json_object_get(added, "display") == NULL);
    json_decref(deltas);
    json_decref(req);
    json_decref(res);
}

static json_t *entry_of(const s2l_rmap *rm, const json_t *resource, const char *uuid)
{
    s2l_error err = {0};
    json_t *e = s2l_rmap_to_ldap(rm, resource, NULL, &err);
    if (e == NULL) {
        fprintf(stderr, "to_ldap: %s\n", err.detail);
        return NULL;
    }
    json_object_set_new(json_object_get(e, "attrs"), "entryUUID", json_pack("[s]", uuid));
    return e;
}

static const json_t *attr_vals(const json_t *entry, const char *name)
{
    return json_object_get(json_object_get(entry, "attrs"), name);
}

/* What to_ldap writes reads back as it was sent, and a plan from the read
 * back resource to itself changes nothing. */
static void test_keep_round_trip(void)
{
    const s2l_rmap *rm = user_of(fx.openldap);
    s2l_error err = {0};
    json_t *sent = norm(rm,
                        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"urn:example:x:1.0:User\"],"
                        "\"userName\":\"rt\",\"favouriteColour\":\"blue\",\"urn:example:x:1.0:User\":{\"badge\":\"B\"},"
                        "\"emails\":[{\"value\":\"w@x\",\"type\":\"work\",\"primary\":true},"
                        "{\"value\":\"o@x\",\"type\":\"other\",\"display\":\"Other\"},{\"value\":\"j\xc3\xbc@x\",\"type\":\"work\"}],"
                        "\"phoneNumbers\":[{\"value\":\"+1 555 0100 #2\",\"type\":\"work\"}],"
                        "\"roles\":[{\"value\":\"admin\",\"type\":\"app\",\"primary\":true,\"display\":\"Admin\"}],"
                        "\"addresses\":[{\"type\":\"work\",\"country\":\"de\",\"formatted\":\"a$b\\\\c\\nd\"},"
                        "{\"type\":\"work\",\"locality\":\"Second\"},{\"type\":\"home\",\"country\":\"Germany\"}],"
                        "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"manager\":{\"value\":\"Jane\"}}}",
                        NULL, &err);
    json_t *e = sent ? entry_of(rm, sent, "11111111-2222-3333-4444-555555555555") : NULL;
    json_t *back, *plan;

    CHECK(e != NULL);
    if (e == NULL) {
        json_decref(sent);
        return;
    }
    /* typed attributes, JSON for the rest, country as sent plus its ISO code */
    CHECK_STR(json_string_value(json_array_get(attr_vals(e, "mail"), 0)), "w@x");
    CHECK_INT(json_array_size(attr_vals(e, "mail")), 1); /* the non-ASCII one does not fit IA5 */
    CHECK_INT(json_array_size(attr_vals(e, "scimEmail")), 2);
    CHECK_STR(json_string_value(json_array_get(attr_vals(e, "scimEmail"), 0)),
              "{\"value\":\"o@x\",\"display\":\"Other\",\"type\":\"other\"}");
    CHECK_STR(json_string_value(json_array_get(attr_vals(e, "scimPhoneNumber"), 0)),
              "{\"value\":\"+1 555 0100 #2\",\"type\":\"work\"}");
    CHECK(attr_vals(e, "telephoneNumber") == NULL);
    CHECK_STR(json_string_value(json_array_get(attr_vals(e, "scimRole"), 0)),
              "{\"value\":\"admin\",\"display\":\"Admin\",\"primary\":true,\"type\":\"app\"}");
    CHECK_STR(json_string_value(json_array_get(attr_vals(e, "co"), 0)), "de");
    CHECK_STR(json_string_value(json_array_get(attr_vals(e, "c"), 0)), "DE");
    CHECK_STR(json_string_value(json_array_get(attr_vals(e, "postalAddress"), 0)), "a\\24b\\5Cc$d");
    CHECK_INT(json_array_size(attr_vals(e, "scimAddress")), 2);
    CHECK(attr_vals(e, "manager") == NULL);
    CHECK_INT(json_array_size(attr_vals(e, "scimKept")), 4); /* favouriteColour, the extension, its URN, manager */

    back = s2l_rmap_to_scim(rm, e, NULL, NULL, &err);
    CHECK(back != NULL);
    CHECK_STR(json_string_value(json_object_get(back, "favouriteColour")), "blue");
    CHECK_STR(json_string_value(json_object_get(json_object_get(back, "urn:example:x:1.0:User"), "badge")), "B");
    CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(
                  back, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"), "manager"), "value")),
              "Jane");
    CHECK_INT(json_array_size(json_object_get(back, "emails")), 3);
    CHECK_INT(json_array_size(json_object_get(back, "addresses")), 3);
    CHECK_INT(json_array_size(json_object_get(back, "schemas")), 3);
    const json_t *addr = json_array_get(json_object_get(back, "addresses"), 0);
    CHECK_STR(json_string_value(json_object_get(addr, "country")), "de");
    CHECK_STR(json_string_value(json_object_get(addr, "formatted")), "a$b\\c\nd");
    /* roles read back exactly, primary included */
    CHECK(json_equal(json_object_get(back, "roles"), json_object_get(sent, "roles")));

    plan = back ? s2l_rmap_plan_update(rm, back, back, NULL, &err) : NULL;
    CHECK(plan != NULL && json_array_size(json_object_get(plan, "mods")) == 0);
    json_decref(plan);

    /* one kept item changes: just that item is deleted and added */
    json_t *changed = json_deep_copy(back);
    json_object_set_new(changed, "favouriteColour", json_string("red"));
    plan = s2l_rmap_plan_update(rm, back, changed, NULL, &err);
    json_t *mods = json_object_get(plan, "mods");
    CHECK_INT(json_array_size(mods), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(mods, 0), "op")), "delete");
    CHECK_STR(json_string_value(json_array_get(json_object_get(json_array_get(mods, 0), "values"), 0)),
              "{\"favouriteColour\":\"blue\"}");
    CHECK_STR(json_string_value(json_array_get(json_object_get(json_array_get(mods, 1), "values"), 0)),
              "{\"favouriteColour\":\"red\"}");
    json_decref(plan);
    json_decref(changed);
    json_decref(back);
    json_decref(e);
    json_decref(sent);

    /* an entry with only c (written by another tool) reads its country from c;
     * a keep value that is not ours is ignored */
    e = parse("{\"dn\":\"uid=x,ou=people,dc=example,dc=org\",\"attrs\":{\"entryUUID\":[\"11111111-2222-3333-4444-555555555555\"],"
              "\"uid\":[\"x\"],\"c\":[\"FR\"],\"scimKept\":[\"not json\",\"{\\\"a\\\":1,\\\"b\\\":2}\"],"
              "\"scimEmail\":[\"plain@text\"],\"postalAddress\":[\"l1$l2\"]}}");
    back = s2l_rmap_to_scim(rm, e, NULL, NULL, &err);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(back, "addresses"), 0), "country")), "FR");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(back, "addresses"), 0), "formatted")),
              "l1\nl2");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(back, "emails"), 0), "value")),
              "plain@text");
    CHECK(json_object_get(back, "a") == NULL);
    json_decref(back);
    json_decref(e);
}

static void test_member_items(void)
{
    const s2l_rmap *g = s2l_mapping_find(fx.openldap, "Group");
    s2l_error err = {0};
    json_t *entry = parse("{\"dn\":\"cn=g,ou=groups,dc=example,dc=org\",\"attrs\":{\"entryUUID\":[\"u\"],"
                          "\"scimKept\":[\"{\\\"members\\\":{\\\"displayName\\\":\\\"Old\\\",\\\"value\\\":\\\"ID1\\\"}}\","
                          "\"{\\\"members\\\":{\\\"displayName\\\":\\\"Two\\\",\\\"value\\\":\\\"id2\\\"}}\","
                          "\"{\\\"other\\\":1}\"]}}");
    json_t *mods = json_array();

    /* id1 re-added with another displayName, id2 removed, id3 added plain */
    json_t *deltas = parse("[{\"attr\":\"members\",\"add\":[{\"value\":\"id1\",\"displayName\":\"New\"},{\"value\":\"id3\"}],"
                           "\"remove\":[{\"value\":\"id2\"}],\"replace_all\":false}]");
    CHECK_INT(s2l_rmap_delta_kept_mods(g, deltas, entry, mods, &err), 0);
    CHECK_INT(json_array_size(mods), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(mods, 0), "op")), "delete");
    CHECK_INT(json_array_size(json_object_get(json_array_get(mods, 0), "values")), 2);
    CHECK_STR(json_string_value(json_array_get(json_object_get(json_array_get(mods, 1), "values"), 0)),
              "{\"members\":{\"displayName\":\"New\",\"value\":\"id1\"}}");
    json_decref(deltas);
    json_decref(mods);

    /* replace_all with the same extras: nothing to do */
    mods = json_array();
    deltas = parse("[{\"attr\":\"members\",\"add\":[{\"value\":\"id2\",\"displayName\":\"Two\"}],\"remove\":[],"
                   "\"replace_all\":true}]");
    CHECK_INT(s2l_rmap_delta_kept_mods(g, deltas, entry, mods, &err), 0);
    CHECK_INT(json_array_size(mods), 1); /* only ID1's item goes */
    json_decref(deltas);
    json_decref(mods);

    /* GET: kept sub-attributes join the rendered member with that id */
    json_object_set_new(json_object_get(entry, "attrs"), "member", json_pack("[s]", "uid=two,ou=people,dc=example,dc=org"));
    json_t *refs = parse("{\"uid=two,ou=people,dc=example,dc=org\":{\"id\":\"id2\",\"type\":\"User\",\"display\":\"T\"}}");
    json_t *res = s2l_rmap_to_scim(g, entry, refs, NULL, &err);
    const json_t *m0 = json_array_get(json_object_get(res, "members"), 0);
    CHECK_STR(json_string_value(json_object_get(m0, "displayName")), "Two");
    CHECK_STR(json_string_value(json_object_get(m0, "display")), "T");
    CHECK_INT(json_array_size(json_object_get(res, "members")), 1);
    json_decref(res);
    json_decref(refs);
    json_decref(entry);
}

static void test_members_unknown(void)
{
    json_t *deltas = parse("[{\"attr\":\"members\",\"add\":[{\"value\":\"known\"},{\"value\":\"ghost\"}],\"remove\":[]}]");
    json_t *ids = parse("{\"known\":\"uid=k,ou=people,dc=example,dc=org\"}");
    json_t *notes = json_object(), *mods = json_array();
    s2l_error err = {0};

    CHECK_INT(s2l_rmap_check_deltas(s2l_mapping_find(fx.openldap, "Group"), deltas, ids, notes, &err), 0);
    CHECK(notes_have(notes, "skipped_members", "ghost") && !notes_have(notes, "skipped_members", "known"));
    CHECK_INT(s2l_rmap_delta_mods(s2l_mapping_find(fx.openldap, "Group"), deltas, ids, 0, mods, &err), 0);
    CHECK_INT(json_array_size(json_object_get(json_array_get(mods, 0), "values")), 1);
    CHECK_INT(s2l_rmap_check_deltas(s2l_mapping_find(fx.strict, "Group"), deltas, ids, NULL, &err), -1);
    CHECK(strstr(err.detail, "ghost") != NULL);
    json_decref(deltas);
    json_decref(ids);
    json_decref(notes);
    json_decref(mods);
}

static void test_adopt(void)
{
    const s2l_rmap *rm = user_of(fx.openldap);
    json_t *entry = parse("{\"dn\":\"uid=a,ou=people,dc=example,dc=org\",\"attrs\":{\"objectClass\":[\"INETORGPERSON\",\"uidObject\"]}}");
    json_t *mods = parse("[{\"op\":\"replace\",\"attr\":\"scimExternalId\",\"values\":[\"x\"]}]");

    CHECK_INT(s2l_rmap_adopt_mods(rm, entry, mods), 0);
    CHECK_INT(json_array_size(mods), 2);
    json_t *add = json_array_get(mods, 0);
    CHECK_STR(json_string_value(json_object_get(add, "attr")), "objectClass");
    CHECK_STR(json_string_value(json_object_get(add, "op")), "add");
    CHECK_INT(json_array_size(json_object_get(add, "values")), 4); /* top, person, organizationalPerson, scimUser */
    json_decref(mods);
    /* nothing to write: nothing added; all classes there: nothing added */
    mods = json_array();
    CHECK_INT(s2l_rmap_adopt_mods(rm, entry, mods), 0);
    CHECK_INT(json_array_size(mods), 0);
    json_decref(mods);
    json_decref(entry);
    entry = parse("{\"attrs\":{\"objectclass\":[\"top\",\"person\",\"organizationalPerson\",\"inetOrgPerson\",\"scimUser\"]}}");
    mods = parse("[{\"op\":\"replace\",\"attr\":\"title\",\"values\":[\"x\"]}]");
    CHECK_INT(s2l_rmap_adopt_mods(rm, entry, mods), 0);
    CHECK_INT(json_array_size(mods), 1);
    json_decref(mods);
    json_decref(entry);
    /* the update reads objectClass, so the handler can decide */
    bool found = false;
    for (char *const *a = s2l_rmap_update_read_attrs(rm); *a; a++)
        found = found || strcmp(*a, "objectClass") == 0;
    CHECK(found);
}

static void test_errors(void)
{
    const s2l_rmap *rm = user_of(fx.openldap);
    s2l_error err = {0};
    char *p;

    p = s2l_rmap_scim_path(rm, "c");
    CHECK_STR(p, "addresses[type eq \"work\"].country");
    free(p);
    p = s2l_rmap_scim_path(rm, "CO");
    CHECK_STR(p, "addresses[type eq \"work\"].country");
    free(p);
    p = s2l_rmap_scim_path(rm, "mail");
    CHECK_STR(p, "emails[type eq \"work\"]");
    free(p);
    p = s2l_rmap_scim_path(rm, "scimCostCenter");
    CHECK_STR(p, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter");
    free(p);
    p = s2l_rmap_scim_path(rm, "sn");
    CHECK_STR(p, "name.familyName");
    free(p);
    CHECK(s2l_rmap_scim_path(rm, "roomNumber") == NULL);

    s2l_rmap_ldap_error(rm, LDAP_INVALID_SYNTAX, "c: value #0 invalid per syntax", "User", 0, &err);
    CHECK_INT(err.status, 400);
    CHECK(strstr(err.detail, "addresses[type eq \"work\"].country") != NULL && strstr(err.detail, "\"c\"") != NULL);
    s2l_rmap_ldap_error(rm, LDAP_OBJECT_CLASS_VIOLATION, "attribute 'scimExternalId' not allowed", "User", 0, &err);
    CHECK(strstr(err.detail, "externalId") != NULL && strstr(err.detail, "objectClassViolation") != NULL);
    /* not about a value: the table's answer as it was */
    s2l_rmap_ldap_error(rm, LDAP_BUSY, NULL, "User", 3, &err);
    CHECK_INT(err.status, 503);
    s2l_rmap_ldap_error(NULL, LDAP_INVALID_SYNTAX, "c: value #0 invalid per syntax", "User", 0, &err);
    CHECK(strstr(err.detail, "addresses") == NULL);

    /* the gateway refuses what it knows LDAP would: posix homeDirectory is IA5 */
    const s2l_rmap *px = user_of(fx.posix);
    json_t *res = parse("{\"userName\":\"p\",\"urn:scim2ldap:schemas:extension:posix:1.0:User\":"
                        "{\"uidNumber\":1000,\"gidNumber\":1000,\"homeDirectory\":\"/home/j\xc3\xbcrgen\"}}");
    s2l_error_clear(&err);
    CHECK(s2l_rmap_to_ldap(px, res, NULL, &err) == NULL);
    CHECK_INT(err.status, 400);
    CHECK(strstr(err.detail, "homeDirectory") != NULL && strstr(err.detail, "IA5") != NULL);
    json_decref(res);
}

int main(void)
{
    if (!mf_init(&fx)) {
        CHECK(false);
        return UNIT_DONE();
    }
    test_normalize_policies();
    test_patch_policies();
    test_keep_round_trip();
    test_member_items();
    test_members_unknown();
    test_adopt();
    test_errors();
    mf_fini(&fx);
    return UNIT_DONE();
}
