/* test_ldap_encode.c — JSON <-> libldap structures of the pool
 * (gateway/ldap/encode.c): modifications from JSON, the post-read request
 * control, and entries read back from a post-read response control
 * (text vs. binary values, strict UTF-8). */
#include <lber.h>
#include <ldap.h>
#include <stdlib.h>
#include <string.h>

#include "../../../gateway/ldap/pool-internal.h"
#include "unit.h"

static json_t *j(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, 0, &err);
    if (v == NULL)
        fprintf(stderr, "bad test JSON: %s: %s\n", text, err.text);
    return v;
}

static const LDAPMod *find_mod(LDAPMod **mods, const char *type)
{
    for (size_t i = 0; mods && mods[i]; i++)
        if (strcmp(mods[i]->mod_type, type) == 0)
            return mods[i];
    return NULL;
}

static size_t n_values(const LDAPMod *m)
{
    size_t n = 0;
    while (m && m->mod_bvalues && m->mod_bvalues[n])
        n++;
    return n;
}

static bool value_is(const LDAPMod *m, size_t i, const char *want)
{
    return m && i < n_values(m) && m->mod_bvalues[i]->bv_len == strlen(want) &&
           memcmp(m->mod_bvalues[i]->bv_val, want, strlen(want)) == 0;
}

static void test_mods_from_attrs(void)
{
    int rc = LDAP_SUCCESS;
    json_t *attrs = j("{\"cn\":[\"A\",\"B\"], \"empty\":[], \"gone\":null, \"uidNumber\":[1001],"
                      " \"flag\":[true, false], \"sn\":\"single\"}");
    LDAPMod **mods = s2l_mods_from_attrs_(attrs, &rc);
    CHECK(mods != NULL);
    size_t n = 0;
    while (mods && mods[n])
        n++;
    CHECK_INT(n, 4); /* empty and null attributes mean "absent" */
    const LDAPMod *cn = find_mod(mods, "cn");
    CHECK(cn && cn->mod_op == (LDAP_MOD_ADD | LDAP_MOD_BVALUES) && n_values(cn) == 2);
    CHECK(value_is(cn, 0, "A") && value_is(cn, 1, "B"));
    CHECK(value_is(find_mod(mods, "uidNumber"), 0, "1001"));
    CHECK(value_is(find_mod(mods, "flag"), 0, "TRUE") && value_is(find_mod(mods, "flag"), 1, "FALSE"));
    CHECK(value_is(find_mod(mods, "sn"), 0, "single") && n_values(find_mod(mods, "sn")) == 1);
    CHECK(find_mod(mods, "empty") == NULL && find_mod(mods, "gone") == NULL);
    s2l_mods_free_(mods);
    json_decref(attrs);

    /* A value LDAP cannot carry is the caller's bug: PARAM_ERROR, nothing leaks. */
    attrs = j("{\"cn\":[\"ok\", {\"x\":1}]}");
    rc = LDAP_SUCCESS;
    CHECK(s2l_mods_from_attrs_(attrs, &rc) == NULL);
    CHECK_INT(rc, LDAP_PARAM_ERROR);
    json_decref(attrs);
    attrs = j("[1]");
    rc = LDAP_SUCCESS;
    CHECK(s2l_mods_from_attrs_(attrs, &rc) == NULL);
    CHECK_INT(rc, LDAP_PARAM_ERROR);
    json_decref(attrs);

    /* Values may hold NUL bytes: the length, not strlen, counts. */
    json_t *bin = json_object();
    json_object_set_new(bin, "x", json_pack("[s%]", "a\0b", (size_t)3));
    rc = LDAP_SUCCESS;
    mods = s2l_mods_from_attrs_(bin, &rc);
    CHECK(mods && mods[0] && mods[0]->mod_bvalues[0]->bv_len == 3 &&
          memcmp(mods[0]->mod_bvalues[0]->bv_val, "a\0b", 3) == 0);
    s2l_mods_free_(mods);
    json_decref(bin);
}

static void test_mods_from_json(void)
{
    int rc = LDAP_SUCCESS;
    json_t *list = j("[{\"op\":\"add\",\"attr\":\"member\",\"values\":[\"uid=a\"]},"
                     " {\"op\":\"delete\",\"attr\":\"member\",\"values\":[\"uid=b\",\"uid=c\"]},"
                     " {\"op\":\"replace\",\"attr\":\"mail\",\"values\":[]},"
                     " {\"op\":\"delete\",\"attr\":\"title\"},"
                     " {\"op\":\"replace\",\"attr\":\"sn\",\"values\":\"x\"}]");
    LDAPMod **mods = s2l_mods_from_json_(list, &rc);
    CHECK(mods != NULL);
    if (mods) {
        CHECK(mods[0]->mod_op == (LDAP_MOD_ADD | LDAP_MOD_BVALUES) && value_is(mods[0], 0, "uid=a"));
        CHECK(mods[1]->mod_op == (LDAP_MOD_DELETE | LDAP_MOD_BVALUES) && n_values(mods[1]) == 2);
        CHECK(mods[2]->mod_op == (LDAP_MOD_REPLACE | LDAP_MOD_BVALUES) && mods[2]->mod_bvalues == NULL);
        CHECK(mods[3]->mod_op == (LDAP_MOD_DELETE | LDAP_MOD_BVALUES) && mods[3]->mod_bvalues == NULL);
        CHECK(value_is(mods[4], 0, "x"));
        CHECK(mods[5] == NULL);
    }
    s2l_mods_free_(mods);
    json_decref(list);

    const char *bad[] = {
        "[{\"op\":\"add\",\"attr\":\"cn\"}]",                   /* add needs values */
        "[{\"op\":\"add\",\"attr\":\"cn\",\"values\":[]}]",
        "[{\"op\":\"increment\",\"attr\":\"n\",\"values\":[1]}]", /* unknown op */
        "[{\"op\":\"add\",\"attr\":\"\",\"values\":[\"x\"]}]",   /* no attribute */
        "[{\"attr\":\"cn\",\"values\":[\"x\"]}]",
        "[{\"op\":\"add\",\"attr\":\"cn\",\"values\":[1.5]}]",   /* a real is no LDAP value */
        "{\"op\":\"add\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *b = j(bad[i]);
        rc = LDAP_SUCCESS;
        CHECK(s2l_mods_from_json_(b, &rc) == NULL);
        CHECK_INT(rc, LDAP_PARAM_ERROR);
        json_decref(b);
    }
}

static void test_read_control_value(void)
{
    char *attrs[] = {"cn", "entryUUID", NULL};
    struct berval bv = {0, NULL};
    CHECK_INT(s2l_read_control_value_(attrs, &bv), LDAP_SUCCESS);
    /* AttributeSelection ::= SEQUENCE OF LDAPString, DER */
    static const unsigned char want[] = {0x30, 0x0f, 0x04, 0x02, 'c', 'n', 0x04, 0x09,
                                         'e',  'n',  't',  'r',  'y', 'U', 'U', 'I', 'D'};
    CHECK(bv.bv_len == sizeof want && memcmp(bv.bv_val, want, sizeof want) == 0);
    ber_memfree(bv.bv_val);
}

/* A post-read response control carrying a SearchResultEntry built with liblber. */
static LDAPControl *entry_control(const char *dn, int with_attrs)
{
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    static const char bin[] = {(char)0xff, 0x00, 0x01};
    struct berval binv = {sizeof bin, (char *)bin};
    struct berval nulv = {3, "a\0b"};
    int rc;
    if (with_attrs)
        rc = ber_printf(ber, "t{s{{s[ss]}{s[OO]}{s[s]}{s[s]}{s[s]}{s[]}}}", (ber_tag_t)LDAP_RES_SEARCH_ENTRY, dn,
                        "cn", "Anna", "Ann\xc3\xa9", "jpegPhoto", &binv, &nulv, "overlong", "\xc0\xaf",
                        "surrogate", "\xed\xa0\x80", "cn", "again", "typesOnly");
    else
        rc = ber_printf(ber, "t{s{}}", (ber_tag_t)LDAP_RES_SEARCH_ENTRY, dn);
    LDAPControl *c = calloc(1, sizeof *c);
    if (rc == -1 || c == NULL || ber_flatten2(ber, &c->ldctl_value, 1) == -1) {
        ber_free(ber, 1);
        free(c);
        return NULL;
    }
    ber_free(ber, 1);
    c->ldctl_oid = LDAP_CONTROL_POST_READ;
    return c;
}

static void free_control(LDAPControl *c)
{
    if (c) {
        ber_memfree(c->ldctl_value.bv_val);
        free(c);
    }
}

static void test_entry_from_read_control(void)
{
    LDAPControl *c = entry_control("uid=anna,ou=people,dc=example,dc=org", 1);
    CHECK(c != NULL);
    json_t *e = c ? s2l_entry_from_read_control_(c) : NULL;
    CHECK(e != NULL);
    json_t *want = j("{\"dn\":\"uid=anna,ou=people,dc=example,dc=org\", \"attrs\":{"
                     " \"cn\":[\"Anna\",\"Ann\\u00e9\",\"again\"],"
                     " \"jpegPhoto;base64\":[\"/wAB\",\"YQBi\"],"
                     " \"overlong;base64\":[\"wK8=\"], \"surrogate;base64\":[\"7aCA\"],"
                     " \"typesOnly\":[]}}");
    CHECK(e && want && json_equal(e, want));
    if (e && want && !json_equal(e, want)) {
        char *s = json_dumps(e, JSON_SORT_KEYS);
        fprintf(stderr, "got %s\n", s);
        free(s);
    }
    json_decref(want);
    json_decref(e);
    free_control(c);

    c = entry_control("cn=empty", 0);
    e = c ? s2l_entry_from_read_control_(c) : NULL;
    want = j("{\"dn\":\"cn=empty\",\"attrs\":{}}");
    CHECK(e && json_equal(e, want));
    json_decref(want);
    json_decref(e);
    free_control(c);

    /* A DN that is not UTF-8, and bytes that are not BER at all: no entry. */
    c = entry_control("cn=\xff", 0);
    CHECK(c && s2l_entry_from_read_control_(c) == NULL);
    free_control(c);
    LDAPControl junk = {.ldctl_oid = LDAP_CONTROL_POST_READ, .ldctl_value = {5, "\x30\x80\x04\xff\x00"}};
    CHECK(s2l_entry_from_read_control_(&junk) == NULL);
    LDAPControl empty = {.ldctl_oid = LDAP_CONTROL_POST_READ, .ldctl_value = {0, ""}};
    CHECK(s2l_entry_from_read_control_(&empty) == NULL);
}

int main(void)
{
    test_mods_from_attrs();
    test_mods_from_json();
    test_read_control_value();
    test_entry_from_read_control();
    return UNIT_DONE();
}
