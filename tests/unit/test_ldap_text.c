/* test_ldap_text.c — growable capped text, filter pieces, DNs, scopes and
 * string vectors (gateway/core/ldap_text.c). */
#include "s2l/ldap_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static void test_buf(void)
{
    s2l_buf b = {0};
    char *s = s2l_buf_take(&b);
    CHECK_STR(s, ""); /* nothing added is the empty string, not NULL */
    free(s);

    s2l_buf_adds(&b, "ab");
    s2l_buf_add(&b, "cdef", 2);
    s2l_buf_add(&b, "", 0);
    CHECK_INT(b.len, 4);
    s = s2l_buf_take(&b);
    CHECK_STR(s, "abcd");
    free(s);
    CHECK(b.s == NULL && b.len == 0 && !b.failed);

    /* Growth past the first allocation keeps every byte. */
    for (int i = 0; i < 1000; i++)
        s2l_buf_add(&b, "0123456789", 10);
    CHECK_INT(b.len, 10000);
    CHECK(b.s[9999] == '9' && b.s[10000] == 0);
    s2l_buf_reset(&b);
    CHECK(b.s == NULL && b.len == 0);

    /* The cap: an append past it fails the buffer for good. */
    s2l_buf c = {.max = 8};
    s2l_buf_adds(&c, "12345678");
    CHECK(!c.failed);
    s2l_buf_adds(&c, "9");
    CHECK(c.failed);
    s2l_buf_adds(&c, "");
    CHECK(c.failed);
    CHECK(s2l_buf_take(&c) == NULL);
    CHECK(!c.failed && c.max == 8); /* reset keeps the cap */
    s2l_buf_adds(&c, "ok");
    s = s2l_buf_take(&c);
    CHECK_STR(s, "ok");
    free(s);

    s2l_buf huge = {.max = 4};
    s2l_buf_add(&huge, "x", SIZE_MAX); /* a length that would overflow is refused, not read */
    CHECK(huge.failed);
    s2l_buf_reset(&huge);
}

static void test_filters(void)
{
    char *f = s2l_ldap_eq_filter("uid", "a*b(c)d\\e");
    CHECK_STR(f, "(uid=a\\2ab\\28c\\29d\\5ce)");
    free(f);
    f = s2l_ldap_eq_filter("cn", "");
    CHECK_STR(f, "(cn=)");
    free(f);
    f = s2l_ldap_and_eq_filter("(objectClass=inetOrgPerson)", "uid", "*");
    CHECK_STR(f, "(&(objectClass=inetOrgPerson)(uid=\\2a))");
    free(f);

    s2l_buf b = {0};
    s2l_buf_add(&b, "(|", 2);
    s2l_buf_add_eq(&b, "entryUUID", "x)(uid=*");
    s2l_buf_add_escaped(&b, "a\0b", 3); /* NUL is escaped, not a terminator */
    s2l_buf_add(&b, ")", 1);
    f = s2l_buf_take(&b);
    CHECK_STR(f, "(|(entryUUID=x\\29\\28uid=\\2a)a\\00b)");
    free(f);

    s2l_buf c = {.max = 10};
    s2l_buf_add_eq(&c, "uid", "0123456789");
    CHECK(c.failed);
    CHECK(s2l_buf_take(&c) == NULL);
}

static void test_scope(void)
{
    CHECK_INT(s2l_ldap_scope(S2L_SCOPE_ONE), 1);
    CHECK_INT(s2l_ldap_scope(S2L_SCOPE_SUB), 2);
    CHECK_INT(S2L_LDAP_SCOPE_BASE, 0);
}

static void test_dn(void)
{
    CHECK_STR(s2l_dn_parent("uid=a,ou=people,dc=x"), "ou=people,dc=x");
    CHECK_STR(s2l_dn_parent("uid=a\\,b,ou=people"), "ou=people");
    CHECK_STR(s2l_dn_parent("uid=a\\\\,ou=people"), "ou=people"); /* escaped backslash, then a real ',' */
    CHECK(s2l_dn_parent("dc=org") == NULL);
    CHECK(s2l_dn_parent("cn=a\\,b") == NULL);

    char *s = s2l_dn_rdn("uid=a\\,b,ou=people");
    CHECK_STR(s, "uid=a\\,b");
    free(s);
    s = s2l_dn_rdn("dc=org");
    CHECK_STR(s, "dc=org");
    free(s);

    s = s2l_dn_join("uid=b", "ou=people,dc=x");
    CHECK_STR(s, "uid=b,ou=people,dc=x");
    free(s);
    s = s2l_dn_join("dc=x", NULL);
    CHECK_STR(s, "dc=x");
    free(s);
    s = s2l_dn_with_rdn("uid=a,ou=people,dc=x", "uid=new\\,name");
    CHECK_STR(s, "uid=new\\,name,ou=people,dc=x");
    free(s);
    s = s2l_dn_with_rdn("dc=x", "dc=y");
    CHECK_STR(s, "dc=y");
    free(s);

    const char *parts[4];
    CHECK_INT(s2l_dn_split("", parts, 4), 0);
    CHECK_INT(s2l_dn_split("uid=a\\,b,ou=p,dc=x", parts, 4), 3);
    CHECK_STR(parts[0], "uid=a\\,b,ou=p,dc=x");
    CHECK_STR(parts[1], "ou=p,dc=x");
    CHECK_STR(parts[2], "dc=x");
    CHECK_INT(s2l_dn_split("a=1,b=2,c=3,d=4,e=5", parts, 2), 5); /* counts beyond max */
    CHECK_STR(parts[1], "b=2,c=3,d=4,e=5");

    CHECK(s2l_dn_is_below("uid=a,ou=People,dc=x", "ou=people,dc=x"));
    CHECK(s2l_dn_is_below("uid=a,ou=sub,ou=people,dc=x", "ou=people,dc=x"));
    CHECK(!s2l_dn_is_below("ou=people,dc=x", "ou=people,dc=x"));
    CHECK(!s2l_dn_is_below("uid=a,xou=people,dc=x", "ou=people,dc=x"));
    CHECK(!s2l_dn_is_below("uid=a\\,ou=people,dc=x", "ou=people,dc=x")); /* the ',' is part of a value */
    CHECK(s2l_dn_is_below("dc=x", ""));

    const char *bases[] = {"ou=people,dc=example,dc=org", "ou=groups,DC=Example,dc=org"};
    s = s2l_dn_common_suffix(bases, 2);
    CHECK_STR(s, "dc=example,dc=org");
    free(s);
    const char *one[] = {"ou=people,dc=example,dc=org"};
    s = s2l_dn_common_suffix(one, 1);
    CHECK_STR(s, "ou=people,dc=example,dc=org");
    free(s);
    const char *apart[] = {"ou=a,dc=one", "ou=a,dc=two"};
    s = s2l_dn_common_suffix(apart, 2);
    CHECK_STR(s, "");
    free(s);
    const char *nested[] = {"ou=people,dc=example,dc=org", "dc=example,dc=org"};
    s = s2l_dn_common_suffix(nested, 2);
    CHECK_STR(s, "dc=example,dc=org");
    free(s);
    const char *escaped[] = {"ou=a\\,dc=org,dc=org", "ou=b,dc=org"};
    s = s2l_dn_common_suffix(escaped, 2);
    CHECK_STR(s, "dc=org");
    free(s);
    s = s2l_dn_common_suffix(NULL, 0);
    CHECK_STR(s, "");
    free(s);
}

static void test_strv(void)
{
    char **v = NULL;
    CHECK_INT(s2l_strv_len(v), 0);
    CHECK(s2l_strv_dup(NULL) == NULL);
    CHECK_INT(s2l_strv_add(&v, "cn", true), 0);
    CHECK_INT(s2l_strv_add(&v, "CN", true), 0); /* already there, ignoring case */
    CHECK_INT(s2l_strv_add(&v, "CN", false), 0);
    CHECK_INT(s2l_strv_add(&v, "uid", true), 0);
    CHECK_INT(s2l_strv_len(v), 3);
    CHECK_STR(v[0], "cn");
    CHECK_STR(v[1], "CN");
    CHECK_STR(v[2], "uid");
    CHECK(v[3] == NULL);
    char **d = s2l_strv_dup(v);
    CHECK(d != NULL && d != v && s2l_strv_len(d) == 3 && strcmp(d[2], "uid") == 0 && d[2] != v[2]);
    s2l_strv_free(d);
    s2l_strv_free(v);
    char *empty[] = {NULL};
    d = s2l_strv_dup(empty);
    CHECK(d != NULL && d[0] == NULL);
    s2l_strv_free(d);
    s2l_strv_free(NULL);
}

int main(void)
{
    test_buf();
    test_filters();
    test_scope();
    test_dn();
    test_strv();
    return UNIT_DONE();
}
