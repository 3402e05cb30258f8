/* test_ldap_syntax.c — syntaxes of well-known LDAP attributes and the value
 * checks that keep values LDAP would refuse from being sent
 * (gateway/core/ldap_syntax.c). */
#include "../../gateway/core/ldap_syntax.h"
#include "unit.h"

static bool fits(const char *attr, const char *v)
{
    return s2l_ldap_value_fits(s2l_ldap_syntax_of(attr), v, strlen(v));
}

static void test_lookup(void)
{
    CHECK_INT(s2l_ldap_syntax_of("c"), S2L_LSYN_COUNTRY);
    CHECK_INT(s2l_ldap_syntax_of("countryName"), S2L_LSYN_COUNTRY);
    CHECK_INT(s2l_ldap_syntax_of("co"), S2L_LSYN_DIRSTRING);
    CHECK_INT(s2l_ldap_syntax_of("MAIL"), S2L_LSYN_IA5);
    CHECK_INT(s2l_ldap_syntax_of("telephoneNumber"), S2L_LSYN_TELEPHONE);
    CHECK_INT(s2l_ldap_syntax_of("facsimileTelephoneNumber"), S2L_LSYN_TELEPHONE);
    CHECK_INT(s2l_ldap_syntax_of("uidNumber"), S2L_LSYN_INTEGER);
    CHECK_INT(s2l_ldap_syntax_of("manager"), S2L_LSYN_DN);
    CHECK_INT(s2l_ldap_syntax_of("member"), S2L_LSYN_DN);
    CHECK_INT(s2l_ldap_syntax_of("postalAddress"), S2L_LSYN_POSTAL);
    CHECK_INT(s2l_ldap_syntax_of("userCertificate;binary"), S2L_LSYN_OCTETS);
    CHECK_INT(s2l_ldap_syntax_of("uid"), S2L_LSYN_DIRSTRING);
    CHECK_INT(s2l_ldap_syntax_of("cn"), S2L_LSYN_DIRSTRING);
    CHECK_INT(s2l_ldap_syntax_of("sn"), S2L_LSYN_DIRSTRING);
    CHECK_INT(s2l_ldap_syntax_of("gecos"), S2L_LSYN_IA5);
    CHECK_INT(s2l_ldap_syntax_of("scimHomeEmail"), S2L_LSYN_IA5);
    CHECK_INT(s2l_ldap_syntax_of("scimKept"), S2L_LSYN_DIRSTRING);
    CHECK_INT(s2l_ldap_syntax_of("x-site-attribute"), S2L_LSYN_UNKNOWN);
    CHECK_INT(s2l_ldap_syntax_of(""), S2L_LSYN_UNKNOWN);
    CHECK_INT(s2l_ldap_syntax_of(NULL), S2L_LSYN_UNKNOWN);
    CHECK_STR(s2l_ldap_syntax_name(S2L_LSYN_COUNTRY), "Country String");
    CHECK(s2l_ldap_syntax_narrow(S2L_LSYN_IA5) && s2l_ldap_syntax_narrow(S2L_LSYN_COUNTRY));
    CHECK(!s2l_ldap_syntax_narrow(S2L_LSYN_DIRSTRING) && !s2l_ldap_syntax_narrow(S2L_LSYN_UNKNOWN));
    CHECK(!s2l_ldap_syntax_narrow(S2L_LSYN_POSTAL) && !s2l_ldap_syntax_narrow(S2L_LSYN_OCTETS));
}

static void test_values(void)
{
    /* country: ISO 3166-1 alpha-2 only, in any case */
    CHECK(fits("c", "US") && fits("c", "de") && fits("c", "Gb"));
    CHECK(!fits("c", "United States") && !fits("c", "XX") && !fits("c", "U") && !fits("c", "USA") && !fits("c", "1A"));
    CHECK_INT(s2l_iso3166_count(), 249);
    CHECK(s2l_iso3166_alpha2("AD", 2) && s2l_iso3166_alpha2("ZW", 2) && !s2l_iso3166_alpha2("ZZ", 2));
    /* IA5: ASCII */
    CHECK(fits("mail", "a@b.example") && !fits("mail", "j\xc3\xbcrgen@b.example"));
    /* telephone: printable characters */
    CHECK(fits("telephoneNumber", "+1 (858) 555-0110") && fits("mobile", "312-320-1707"));
    CHECK(!fits("telephoneNumber", "+1 858 555 0110 #2") && !fits("telephoneNumber", "\xe2\x98\x8e 1"));
    /* integer */
    CHECK(fits("uidNumber", "0") && fits("uidNumber", "-12") && fits("uidNumber", "1000"));
    CHECK(!fits("uidNumber", "01") && !fits("uidNumber", "-0") && !fits("uidNumber", "1e3") && !fits("uidNumber", "-") &&
          !fits("uidNumber", "Bob"));
    /* everything else takes any non-empty text; nothing takes "" */
    CHECK(fits("cn", "J\xc3\xbcrgen") && fits("x-site-attribute", "anything") && fits("postalAddress", "a$b"));
    CHECK(!fits("cn", "") && !fits("x-site-attribute", ""));
    CHECK(s2l_ldap_value_fits(S2L_LSYN_BOOLEAN, "TRUE", 4) && !s2l_ldap_value_fits(S2L_LSYN_BOOLEAN, "true", 4));
    CHECK(s2l_ldap_value_fits(S2L_LSYN_NUMERIC, "12 34", 5) && !s2l_ldap_value_fits(S2L_LSYN_NUMERIC, "12a", 3));
    CHECK(s2l_ldap_value_fits(S2L_LSYN_PRINTABLE, "A-b", 3) && !s2l_ldap_value_fits(S2L_LSYN_PRINTABLE, "a@b", 3));
}

int main(void)
{
    test_lookup();
    test_values();
    return UNIT_DONE();
}
