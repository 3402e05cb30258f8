/* test_subschema.c — RFC 4512 schema descriptions (s2l_subschema_*): the real
 * subschema of the tests' slapd (tests/data/subschema/openldap-2.5.ldif) and of
 * a Samba AD DC (samba-4.17.ldif), SUP inheritance, object classes with their
 * superclasses, what matching rules and syntaxes mean, the built-in table,
 * and descriptions that must be refused or tolerated. */
#include "s2l/subschema.h"
#include "unit.h"

#include <strings.h>

static char *read_file(const char *rel, size_t *len)
{
    char path[4096];
    const char *root = getenv("S2L_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/%s", root ? root : ".", rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s (is S2L_SOURCE_DIR set?)\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        *len = (size_t)n;
    }
    return buf;
}

static s2l_subschema *load(const char *rel, long *added, size_t *skipped)
{
    size_t len = 0;
    char *text = read_file(rel, &len);
    s2l_subschema *s = s2l_subschema_create();
    s2l_error err = {0};
    *added = -1;
    if (text && s) {
        *added = s2l_subschema_add_ldif(s, text, len, skipped, &err);
        if (*skipped)
            fprintf(stderr, "%s: %zu skipped, first: %s\n", rel, *skipped, err.detail);
        CHECK_INT(s2l_subschema_finish(s), 0);
    }
    free(text);
    return s;
}

static bool str_eq(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static bool list_has(const char **v, const char *name)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcasecmp(v[i], name) == 0)
            return true;
    return false;
}

static size_t list_len(const char **v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

static void test_openldap(void)
{
    long added;
    size_t skipped = 99;
    s2l_subschema *s = load("tests/data/subschema/openldap-2.5.ldif", &added, &skipped);
    if (s == NULL)
        return;
    /* 361 attributeTypes + 83 objectClasses + 38 matchingRules, nothing skipped */
    CHECK_INT(added, 361 + 83 + 38);
    CHECK_INT(skipped, 0);
    CHECK_INT(s2l_subschema_attr_count(s), 361);
    CHECK_INT(s2l_subschema_class_count(s), 83);
    CHECK(!s2l_subschema_rules_unpublished(s));

    /* several names, any case, the OID, options */
    const s2l_ldap_attr_type *uid = s2l_subschema_attr(s, "uid");
    CHECK(uid != NULL);
    CHECK(uid == s2l_subschema_attr(s, "userid"));
    CHECK(uid == s2l_subschema_attr(s, "UID"));
    CHECK(uid == s2l_subschema_attr(s, "0.9.2342.19200300.100.1.1"));
    CHECK(uid == s2l_subschema_attr(s, "uid;x-tag"));
    CHECK(s2l_subschema_attr(s, "nosuchattribute") == NULL);
    CHECK(s2l_subschema_attr(s, NULL) == NULL);
    if (uid) {
        CHECK_STR(s2l_ldap_attr_name(uid), "uid");
        CHECK_STR(uid->eff_equality, "caseIgnoreMatch");
        CHECK_STR(uid->eff_substr, "caseIgnoreSubstringsMatch");
        CHECK(uid->eff_ordering == NULL);
        CHECK_STR(uid->eff_syntax, "1.3.6.1.4.1.1466.115.121.1.15");
        CHECK_INT(uid->eff_syntax_len, 256);
        CHECK(!uid->single_value);
        CHECK(s2l_ldap_attr_is(uid, "USERID"));
        CHECK(s2l_ldap_attr_is(uid, "uid;binary"));
        CHECK(!s2l_ldap_attr_is(uid, "ui"));
    }

    /* SUP name: rules and syntax are inherited, the own syntax wins (c) */
    const s2l_ldap_attr_type *cn = s2l_subschema_attr(s, "commonName");
    const s2l_ldap_attr_type *name = s2l_subschema_attr(s, "name");
    CHECK(cn && name && cn->sup_type == name);
    if (cn) {
        CHECK(cn->equality == NULL && cn->syntax == NULL);
        CHECK_STR(cn->eff_equality, "caseIgnoreMatch");
        CHECK_STR(cn->eff_substr, "caseIgnoreSubstringsMatch");
        CHECK_STR(cn->eff_syntax, "1.3.6.1.4.1.1466.115.121.1.15");
        CHECK_INT(cn->eff_syntax_len, 32768);
    }
    const s2l_ldap_attr_type *c = s2l_subschema_attr(s, "c");
    if (c) {
        CHECK_STR(c->eff_equality, "caseIgnoreMatch");
        CHECK_STR(c->eff_syntax, "1.3.6.1.4.1.1466.115.121.1.11");
        CHECK(c->single_value);
    } else {
        CHECK(false);
    }
    const s2l_ldap_attr_type *title = s2l_subschema_attr(s, "title");
    CHECK(title && title->sup_type == name && str_eq(title->eff_equality, "caseIgnoreMatch"));
    const s2l_ldap_attr_type *member = s2l_subschema_attr(s, "member");
    CHECK(member && str_eq(member->eff_equality, "distinguishedNameMatch") &&
          member->sup_type == s2l_subschema_attr(s, "distinguishedName"));

    /* what the issue is about: fax has no rule at all, phones ignore spaces */
    const s2l_ldap_attr_type *fax = s2l_subschema_attr(s, "fax");
    CHECK(fax && fax->eff_equality == NULL && fax->eff_substr == NULL && fax->eff_ordering == NULL);
    CHECK(fax && str_eq(fax->eff_syntax, "1.3.6.1.4.1.1466.115.121.1.22"));
    const s2l_ldap_attr_type *tel = s2l_subschema_attr(s, "telephoneNumber");
    CHECK(tel && str_eq(tel->eff_equality, "telephoneNumberMatch") && tel->eff_syntax_len == 32);
    const s2l_ldap_attr_type *mail = s2l_subschema_attr(s, "rfc822Mailbox");
    CHECK(mail && str_eq(mail->eff_equality, "caseIgnoreIA5Match") && mail->eff_syntax_len == 256);

    /* operational attributes */
    const s2l_ldap_attr_type *uuid = s2l_subschema_attr(s, "entryUUID");
    CHECK(uuid && uuid->single_value && uuid->no_user_modification && uuid->usage == S2L_AT_DIRECTORY_OPERATION);
    CHECK(uuid && str_eq(uuid->eff_ordering, "UUIDOrderingMatch"));
    const s2l_ldap_attr_type *mo = s2l_subschema_attr(s, "memberOf");
    CHECK(mo && mo->usage == S2L_AT_DSA_OPERATION && mo->no_user_modification);
    const s2l_ldap_attr_type *ct = s2l_subschema_attr(s, "2.5.18.1");
    CHECK(ct && str_eq(s2l_ldap_attr_name(ct), "createTimestamp"));
    const s2l_ldap_attr_type *ext = s2l_subschema_attr(s, "scimExternalId");
    CHECK(ext && ext->single_value && str_eq(ext->eff_equality, "caseExactMatch") &&
          str_eq(ext->eff_ordering, "caseExactOrderingMatch") && ext->eff_syntax_len == 1024);
    CHECK(ext && str_eq(ext->desc, "SCIM externalId: identifier of the resource at the provisioning client"));

    /* object classes */
    const s2l_ldap_object_class *inet = s2l_subschema_class(s, "inetorgperson");
    CHECK(inet && inet->kind == S2L_OC_STRUCTURAL && inet->n_sups == 1);
    CHECK(s2l_subschema_class(s, "top") && s2l_subschema_class(s, "top")->kind == S2L_OC_ABSTRACT);
    CHECK(s2l_subschema_class(s, "scimUser") && s2l_subschema_class(s, "scimUser")->kind == S2L_OC_AUXILIARY);
    CHECK(s2l_subschema_class(s, "2.5.6.6") == s2l_subschema_class(s, "person"));
    const char **must = s2l_subschema_class_attrs(s, "inetOrgPerson", true);
    CHECK_INT(list_len(must), 3);
    CHECK(list_has(must, "objectClass") && list_has(must, "sn") && list_has(must, "cn"));
    free(must);
    const char **may = s2l_subschema_class_attrs(s, "inetOrgPerson", false);
    CHECK(list_has(may, "uid") && list_has(may, "mail") && list_has(may, "title") && list_has(may, "telephoneNumber") &&
          list_has(may, "facsimileTelephoneNumber") && !list_has(may, "scimExternalId") && !list_has(may, "sn"));
    free(may);
    must = s2l_subschema_class_attrs(s, "groupOfNames", true);
    CHECK(list_has(must, "member") && list_has(must, "cn") && list_has(must, "objectClass"));
    free(must);
    CHECK(s2l_subschema_class_attrs(s, "nosuchclass", true) == NULL);
    const char *user_classes[] = {"top", "inetOrgPerson", "scimUser", NULL};
    const char *plain[] = {"inetOrgPerson", NULL};
    const char *ext_obj[] = {"inetOrgPerson", "extensibleObject", NULL};
    CHECK(s2l_subschema_allows(s, user_classes, "scimExternalId"));
    CHECK(s2l_subschema_allows(s, user_classes, "surname"));
    CHECK(s2l_subschema_allows(s, user_classes, "c"));
    CHECK(!s2l_subschema_allows(s, plain, "scimExternalId"));
    CHECK(!s2l_subschema_allows(s, plain, "c"));
    CHECK(!s2l_subschema_allows(s, plain, "uidNumber"));
    CHECK(s2l_subschema_allows(s, ext_obj, "uidNumber"));

    /* matching rules */
    const s2l_ldap_matching_rule *r = s2l_subschema_rule(s, "caseignorematch");
    CHECK(r && str_eq(r->syntax, "1.3.6.1.4.1.1466.115.121.1.15") && str_eq(r->oid, "2.5.13.2"));

    /* the built-in table agrees with the server it was taken from */
    s2l_subschema *b = s2l_subschema_builtin();
    CHECK(b != NULL && s2l_subschema_attr_count(b) >= 50);
    for (size_t i = 0; b && i < s2l_subschema_attr_count(b); i++) {
        const s2l_ldap_attr_type *x = s2l_subschema_attr_at(b, i);
        const s2l_ldap_attr_type *y = s2l_subschema_attr(s, x->oid);
        bool same = y && x->n_names == y->n_names && str_eq(x->eff_equality, y->eff_equality) &&
                    str_eq(x->eff_ordering, y->eff_ordering) && str_eq(x->eff_substr, y->eff_substr) &&
                    str_eq(x->eff_syntax, y->eff_syntax) && x->eff_syntax_len == y->eff_syntax_len &&
                    x->single_value == y->single_value && x->usage == y->usage;
        if (!same)
            fprintf(stderr, "built-in %s differs from the dump\n", s2l_ldap_attr_name(x));
        CHECK(same);
    }
    s2l_subschema_destroy(b);
    s2l_subschema_destroy(s);
}

static void test_samba(void)
{
    long added;
    size_t skipped = 99;
    s2l_subschema *s = load("tests/data/subschema/samba-4.17.ldif", &added, &skipped);
    if (s == NULL)
        return;
    CHECK_INT(added, 1473 + 264);
    CHECK_INT(skipped, 0);
    /* Active Directory publishes syntaxes only */
    CHECK(s2l_subschema_rules_unpublished(s));
    const s2l_ldap_attr_type *cn = s2l_subschema_attr(s, "cn");
    CHECK(cn && cn->single_value && cn->eff_equality == NULL && str_eq(cn->eff_syntax, "1.3.6.1.4.1.1466.115.121.1.15"));
    const s2l_ldap_attr_type *guid = s2l_subschema_attr(s, "objectGUID");
    CHECK(guid && guid->no_user_modification && str_eq(guid->syntax, "1.3.6.1.4.1.1466.115.121.1.40"));
    const s2l_ldap_attr_type *sam = s2l_subschema_attr(s, "sAMAccountName");
    CHECK(sam && str_eq(sam->oid, "1.2.840.113556.1.4.221"));
    /* "(msDS-DeviceID $ ..." without a blank after "(" */
    const char **must = s2l_subschema_class_attrs(s, "msDS-Device", true);
    CHECK(list_has(must, "msDS-DeviceID") && list_has(must, "displayName") && list_has(must, "objectClass"));
    free(must);
    const char *classes[] = {"top", "person", "organizationalPerson", "user", NULL};
    CHECK(s2l_subschema_allows(s, classes, "givenName"));
    CHECK(s2l_subschema_allows(s, classes, "telephoneNumber"));
    CHECK(!s2l_subschema_allows(s, classes, "member"));
    s2l_subschema_destroy(s);
}

/* ---- single descriptions ---- */

static int add_at(s2l_subschema *s, const char *text, s2l_error *err)
{
    s2l_error_clear(err);
    return s2l_subschema_add_attribute_type(s, text, strlen(text), err);
}

static void test_descriptions(void)
{
    s2l_subschema *s = s2l_subschema_create();
    s2l_error err;

    /* tolerated: no blanks, quoted OIDs, descriptor OIDs, extensions with lists, escapes */
    CHECK_INT(add_at(s, "(1.2.3.1 NAME 'tight' SYNTAX '1.3.6.1.4.1.1466.115.121.1.15'SINGLE-VALUE)", &err), 0);
    CHECK_INT(add_at(s, "( nsUniqueId-oid NAME 'nsUniqueId' DESC 'Netscape defined attribute type' "
                        "EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE "
                        "NO-USER-MODIFICATION USAGE directoryOperation X-ORIGIN 'Netscape' )", &err), 0);
    CHECK_INT(add_at(s, "( 1.2.3.2 NAME ( 'two' 'deux' ) DESC 'it\\27s \\5C ok' X-ORDERED 'VALUES' "
                        "X-FOO ( 'p' 'q' ) OBSOLETE SUP tight COLLECTIVE )", &err), 0);
    CHECK_INT(add_at(s, "\n\t( 1.2.3.3 NAME 'loop1' SUP loop2 EQUALITY caseExactMatch )  ", &err), 0);
    CHECK_INT(add_at(s, "( 1.2.3.4 NAME 'loop2' SUP loop1 )", &err), 0);
    CHECK_INT(add_at(s, "( 1.2.3.5 NAME 'orphan' SUP nowhere ORDERING integerOrderingMatch )", &err), 0);
    CHECK_INT(s2l_subschema_finish(s), 0);
    const s2l_ldap_attr_type *t = s2l_subschema_attr(s, "tight");
    CHECK(t && t->single_value && str_eq(t->syntax, "1.3.6.1.4.1.1466.115.121.1.15"));
    const s2l_ldap_attr_type *ns = s2l_subschema_attr(s, "nsuniqueid-oid");
    CHECK(ns && ns == s2l_subschema_attr(s, "nsUniqueId") && ns->usage == S2L_AT_DIRECTORY_OPERATION);
    const s2l_ldap_attr_type *two = s2l_subschema_attr(s, "deux");
    CHECK(two && two->n_names == 2 && two->obsolete && two->collective && str_eq(two->desc, "it's \\ ok"));
    CHECK(two && two->sup_type == t && str_eq(two->eff_syntax, "1.3.6.1.4.1.1466.115.121.1.15"));
    /* a SUP cycle ends; each keeps at least its own rules */
    const s2l_ldap_attr_type *l1 = s2l_subschema_attr(s, "loop1"), *l2 = s2l_subschema_attr(s, "loop2");
    CHECK(l1 && l2 && str_eq(l1->eff_equality, "caseExactMatch"));
    CHECK(l1 && l2 && !(l1->sup_type == l2 && l2->sup_type == l1));
    const s2l_ldap_attr_type *orphan = s2l_subschema_attr(s, "orphan");
    CHECK(orphan && orphan->sup_type == NULL && str_eq(orphan->eff_ordering, "integerOrderingMatch"));

    /* redefining (mapping override): same name replaces, count unchanged */
    size_t before = s2l_subschema_attr_count(s);
    CHECK_INT(add_at(s, "( 9.9.9 NAME 'TIGHT' EQUALITY caseIgnoreIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{64} )",
                     &err), 0);
    CHECK_INT(s2l_subschema_finish(s), 0);
    CHECK_INT(s2l_subschema_attr_count(s), before);
    t = s2l_subschema_attr(s, "tight");
    CHECK(t && str_eq(t->oid, "9.9.9") && str_eq(t->eff_equality, "caseIgnoreIA5Match") && t->eff_syntax_len == 64);
    CHECK(s2l_subschema_attr(s, "1.2.3.1") == NULL);
    two = s2l_subschema_attr(s, "two");
    CHECK(two && two->sup_type == t && str_eq(two->eff_equality, "caseIgnoreIA5Match"));

    /* refused, with the offset */
    const char *bad[] = {
        "", "1.2.3 NAME 'x'", "(", "( 1.2.3 NAME )", "( 1.2.3 NAME 'x'", "( 1.2.3 NAME 'unterminated )",
        "( 1.2.3 USAGE sometimes )", "( 1.2.3 NAME 'x' ) trailing", "( 1.2.3 SUP ( a $ b ) )",
        "( 1.2.3 'x' )", "( 1.2.3 X-FOO ( 'a' )", "( 1.2.3 EQUALITY )",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = add_at(s, bad[i], &err);
        bool ok = rc < 0 && err.status == 400 && strstr(err.detail, "offset") != NULL;
        if (!ok)
            fprintf(stderr, "[%s] was not refused properly: rc %d, %d %s\n", bad[i], rc, err.status, err.detail);
        CHECK(ok);
    }
    /* a NUL inside is not a terminator */
    CHECK(s2l_subschema_add_attribute_type(s, "( 1.2\0.3 NAME 'x' )", 18, &err) < 0);
    CHECK_INT(s2l_subschema_attr_count(s), before);

    /* object classes and rules */
    s2l_error_clear(&err);
    const char *oc = "( 1.2.4.1 NAME 'thing' SUP ( top $ other ) AUXILIARY MUST ( a $ b ) MAY c X-ORIGIN 'x' )";
    CHECK_INT(s2l_subschema_add_object_class(s, oc, strlen(oc), &err), 0);
    const char *mr = "( 2.5.13.2 NAME 'caseIgnoreMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )";
    CHECK_INT(s2l_subschema_add_matching_rule(s, mr, strlen(mr), &err), 0);
    CHECK_INT(s2l_subschema_finish(s), 0);
    const s2l_ldap_object_class *th = s2l_subschema_class(s, "THING");
    CHECK(th && th->kind == S2L_OC_AUXILIARY && th->n_sups == 2 && th->n_must == 2 && th->n_may == 1);
    CHECK(s2l_subschema_class_at(s, 0) == th && s2l_subschema_class_at(s, 1) == NULL);
    CHECK(s2l_subschema_rule(s, "2.5.13.2") != NULL);
    s2l_subschema_destroy(s);
}

static void test_ldif(void)
{
    /* folded lines, a base64 value, CRLF, comments, options, an unreadable value */
    const char *text =
        "# comment\r\n"
        "dn: cn=Subschema\r\n"
        "attributeTypes: ( 1.1.1 NAME 'fol\r\n"
        " ded' EQUALITY caseIgnoreMatch )\r\n"
        "attributeTypes;x-opt:: KCAxLjEuMiBOQU1FICdiNjQnIFNVUCBmb2xkZWQgKQ==\r\n"
        "objectClasses: ( 1.1.3 NAME 'cls' MAY folded )\n"
        "attributeTypes: ( broken\n"
        "cn: Subschema\n";
    s2l_subschema *s = s2l_subschema_create();
    size_t skipped = 0;
    s2l_error err = {0};
    CHECK_INT(s2l_subschema_add_ldif(s, text, strlen(text), &skipped, &err), 3);
    CHECK_INT(skipped, 1);
    CHECK(err.status == 400);
    CHECK_INT(s2l_subschema_finish(s), 0);
    const s2l_ldap_attr_type *b64 = s2l_subschema_attr(s, "b64");
    CHECK(b64 && b64->sup_type == s2l_subschema_attr(s, "folded") && str_eq(b64->eff_equality, "caseIgnoreMatch"));
    CHECK(s2l_subschema_class(s, "cls") != NULL);
    s2l_subschema_destroy(s);
}

/* The subentry as the LDAP layer hands it over (names in any case, one value as a string). */
static void test_entry(void)
{
    json_t *e = json_pack("{s:s,s:{s:[s,s],s:s,s:[s],s:[i]}}", "dn", "cn=Subschema", "attrs", "attributetypes",
                          "( 1.1 NAME 'a' EQUALITY caseIgnoreMatch )", "( 1.2 NAME 'b' SUP a )", "objectClasses;x",
                          "( 1.3 NAME 'c' MUST b )", "cn", "Subschema", "matchingRules", 42);
    s2l_subschema *s = s2l_subschema_create();
    size_t skipped = 0;
    s2l_error err = {0};
    CHECK_INT(s2l_subschema_add_entry(s, e, &skipped, &err), 3);
    CHECK_INT(skipped, 1);
    CHECK_INT(s2l_subschema_finish(s), 0);
    const s2l_ldap_attr_type *b = s2l_subschema_attr(s, "b");
    CHECK(b && str_eq(b->eff_equality, "caseIgnoreMatch"));
    const char **must = s2l_subschema_class_attrs(s, "c", true);
    CHECK(list_has(must, "b"));
    free(must);
    s2l_subschema_destroy(s);
    json_decref(e);
}

static void test_rules_and_syntaxes(void)
{
    CHECK_INT(s2l_ldap_rule_kind_of(NULL), S2L_MR_NONE);
    CHECK_INT(s2l_ldap_rule_kind_of("caseIgnoreMatch"), S2L_MR_CASE_IGNORE);
    CHECK_INT(s2l_ldap_rule_kind_of("CASEIGNORESUBSTRINGSMATCH"), S2L_MR_CASE_IGNORE);
    CHECK_INT(s2l_ldap_rule_kind_of("2.5.13.6"), S2L_MR_CASE_EXACT);
    CHECK_INT(s2l_ldap_rule_kind_of("caseIgnoreIA5Match"), S2L_MR_CASE_IGNORE_IA5);
    CHECK_INT(s2l_ldap_rule_kind_of("caseExactIA5SubstringsMatch"), S2L_MR_CASE_EXACT_IA5);
    CHECK_INT(s2l_ldap_rule_kind_of("telephoneNumberSubstringsMatch"), S2L_MR_TELEPHONE);
    CHECK_INT(s2l_ldap_rule_kind_of("integerOrderingMatch"), S2L_MR_INTEGER);
    CHECK_INT(s2l_ldap_rule_kind_of("generalizedTimeMatch"), S2L_MR_GENERALIZED_TIME);
    CHECK_INT(s2l_ldap_rule_kind_of("uuidMatch"), S2L_MR_UUID);
    CHECK_INT(s2l_ldap_rule_kind_of("uniqueMemberMatch"), S2L_MR_DN);
    CHECK_INT(s2l_ldap_rule_kind_of("CSNOrderingMatch"), S2L_MR_CSN);
    CHECK_INT(s2l_ldap_rule_kind_of("caseIgnoreListMatch"), S2L_MR_CASE_IGNORE_LIST);
    CHECK_INT(s2l_ldap_rule_kind_of("certificateExactMatch"), S2L_MR_UNKNOWN);
    CHECK_STR(s2l_mr_kind_name(S2L_MR_TELEPHONE), "telephoneNumber");

    CHECK_INT(s2l_ldap_syntax_kind_of("1.3.6.1.4.1.1466.115.121.1.15"), S2L_SYN_DIRECTORY_STRING);
    CHECK_INT(s2l_ldap_syntax_kind_of("1.3.6.1.4.1.1466.115.121.1.50"), S2L_SYN_PRINTABLE);
    CHECK_INT(s2l_ldap_syntax_kind_of("1.3.6.1.4.1.1466.115.121.1.22"), S2L_SYN_UNKNOWN);
    CHECK_INT(s2l_ldap_syntax_kind_of(NULL), S2L_SYN_UNKNOWN);
    CHECK(s2l_ldap_syntax_allows(S2L_SYN_IA5, "a@b.c", 5));
    CHECK(!s2l_ldap_syntax_allows(S2L_SYN_IA5, "j\xc3\xbc@x", 5));
    CHECK(s2l_ldap_syntax_allows(S2L_SYN_PRINTABLE, "+1 (555) 010-0100 x12", 21));
    CHECK(!s2l_ldap_syntax_allows(S2L_SYN_PRINTABLE, "555#1", 5));
    CHECK(!s2l_ldap_syntax_allows(S2L_SYN_PRINTABLE, "a*b", 3));
    CHECK(s2l_ldap_syntax_allows(S2L_SYN_NUMERIC_STRING, "12 34", 5));
    CHECK(!s2l_ldap_syntax_allows(S2L_SYN_NUMERIC_STRING, "12-34", 5));
    CHECK(s2l_ldap_syntax_allows(S2L_SYN_DIRECTORY_STRING, "anything \xc3\xbc", 11));
}

/* Superclasses that name each other (a cycle, each twice): every class is
 * looked at once. The depth bound alone let 2^32 walks through; fuzz_subschema
 * found it as a timeout. Finishes at once and answers right. */
static void test_cyclic_superclasses(void)
{
    s2l_subschema *s = s2l_subschema_create();
    s2l_error err;
    s2l_error_clear(&err);
    const char *ocs[] = {
        "( 1.9.1 NAME 'a' SUP ( b $ b $ c ) MAY x )",
        "( 1.9.2 NAME 'b' SUP ( a $ a $ c ) MAY y )",
        "( 1.9.3 NAME 'c' SUP ( a $ b $ c ) MAY z )",
    };
    for (size_t i = 0; i < 3; i++)
        CHECK_INT(s2l_subschema_add_object_class(s, ocs[i], strlen(ocs[i]), &err), 0);
    CHECK_INT(s2l_subschema_finish(s), 0);
    const char *const classes[] = {"a", "b", "c", NULL};
    CHECK(!s2l_subschema_allows(s, classes, "nothere"));
    CHECK(s2l_subschema_allows(s, (const char *const[]){"a", NULL}, "z"));
    CHECK(s2l_subschema_allows(s, (const char *const[]){"b", NULL}, "x"));
    s2l_subschema_destroy(s);
}

int main(void)
{
    test_cyclic_superclasses();
    test_openldap();
    test_samba();
    test_descriptions();
    test_ldif();
    test_entry();
    test_rules_and_syntaxes();
    return UNIT_DONE();
}
