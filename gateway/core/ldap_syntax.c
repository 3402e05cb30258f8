/* ldap_syntax.c — syntaxes of well-known LDAP attributes and value checks
 * (see ldap_syntax.h).
 *
 * The table was taken from Debian's core, cosine, inetorgperson and nis
 * schemas (attributes inheriting from "name" are Directory Strings), plus
 * slapd's built-in attributes and scim2ldap.schema (every "scim*" attribute
 * is a Directory String except scimHomeEmail, which is IA5 like mail).
 */
#include "ldap_syntax.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct syn_row {
    const char *name;
    s2l_ldap_syntax syn;
} syn_row;

/* Sorted case-insensitively by name (bsearch). */
static const syn_row rows[] = {
    {"aRecord", S2L_LSYN_IA5},
    {"associatedDomain", S2L_LSYN_IA5},
    {"associatedName", S2L_LSYN_DN},
    {"audio", S2L_LSYN_OCTETS},
    {"authorityRevocationList", S2L_LSYN_OCTETS},
    {"bootFile", S2L_LSYN_IA5},
    {"buildingName", S2L_LSYN_DIRSTRING},
    {"businessCategory", S2L_LSYN_DIRSTRING},
    {"c", S2L_LSYN_COUNTRY},
    {"cACertificate", S2L_LSYN_OCTETS},
    {"carLicense", S2L_LSYN_DIRSTRING},
    {"certificateRevocationList", S2L_LSYN_OCTETS},
    {"cn", S2L_LSYN_DIRSTRING},
    {"cNAMERecord", S2L_LSYN_IA5},
    {"co", S2L_LSYN_DIRSTRING},
    {"commonName", S2L_LSYN_DIRSTRING},
    {"countryName", S2L_LSYN_COUNTRY},
    {"createTimestamp", S2L_LSYN_GENTIME},
    {"dc", S2L_LSYN_IA5},
    {"deltaRevocationList", S2L_LSYN_OCTETS},
    {"departmentNumber", S2L_LSYN_DIRSTRING},
    {"destinationIndicator", S2L_LSYN_PRINTABLE},
    {"displayName", S2L_LSYN_DIRSTRING},
    {"dITRedirect", S2L_LSYN_DN},
    {"dmdName", S2L_LSYN_DIRSTRING},
    {"dnQualifier", S2L_LSYN_PRINTABLE},
    {"documentAuthor", S2L_LSYN_DN},
    {"documentIdentifier", S2L_LSYN_DIRSTRING},
    {"documentLocation", S2L_LSYN_DIRSTRING},
    {"documentPublisher", S2L_LSYN_DIRSTRING},
    {"documentTitle", S2L_LSYN_DIRSTRING},
    {"documentVersion", S2L_LSYN_DIRSTRING},
    {"domainComponent", S2L_LSYN_IA5},
    {"drink", S2L_LSYN_DIRSTRING},
    {"email", S2L_LSYN_IA5},
    {"emailAddress", S2L_LSYN_IA5},
    {"employeeNumber", S2L_LSYN_DIRSTRING},
    {"employeeType", S2L_LSYN_DIRSTRING},
    {"facsimileTelephoneNumber", S2L_LSYN_TELEPHONE},
    {"favouriteDrink", S2L_LSYN_DIRSTRING},
    {"fax", S2L_LSYN_TELEPHONE},
    {"friendlyCountryName", S2L_LSYN_DIRSTRING},
    {"gecos", S2L_LSYN_IA5},
    {"generationQualifier", S2L_LSYN_DIRSTRING},
    {"gidNumber", S2L_LSYN_INTEGER},
    {"givenName", S2L_LSYN_DIRSTRING},
    {"gn", S2L_LSYN_DIRSTRING},
    {"homeDirectory", S2L_LSYN_IA5},
    {"homePhone", S2L_LSYN_TELEPHONE},
    {"homePostalAddress", S2L_LSYN_POSTAL},
    {"homeTelephoneNumber", S2L_LSYN_TELEPHONE},
    {"host", S2L_LSYN_DIRSTRING},
    {"houseIdentifier", S2L_LSYN_DIRSTRING},
    {"info", S2L_LSYN_DIRSTRING},
    {"initials", S2L_LSYN_DIRSTRING},
    {"internationaliSDNNumber", S2L_LSYN_NUMERIC},
    {"ipHostNumber", S2L_LSYN_IA5},
    {"ipNetmaskNumber", S2L_LSYN_IA5},
    {"ipNetworkNumber", S2L_LSYN_IA5},
    {"ipProtocolNumber", S2L_LSYN_INTEGER},
    {"ipServicePort", S2L_LSYN_INTEGER},
    {"ipServiceProtocol", S2L_LSYN_DIRSTRING},
    {"janetMailbox", S2L_LSYN_IA5},
    {"jpegPhoto", S2L_LSYN_OCTETS},
    {"knowledgeInformation", S2L_LSYN_DIRSTRING},
    {"l", S2L_LSYN_DIRSTRING},
    {"labeledURI", S2L_LSYN_DIRSTRING},
    {"localityName", S2L_LSYN_DIRSTRING},
    {"loginShell", S2L_LSYN_IA5},
    {"macAddress", S2L_LSYN_IA5},
    {"mail", S2L_LSYN_IA5},
    {"mailPreferenceOption", S2L_LSYN_INTEGER},
    {"manager", S2L_LSYN_DN},
    {"mDRecord", S2L_LSYN_IA5},
    {"member", S2L_LSYN_DN},
    {"memberNisNetgroup", S2L_LSYN_IA5},
    {"memberOf", S2L_LSYN_DN},
    {"memberUid", S2L_LSYN_IA5},
    {"mobile", S2L_LSYN_TELEPHONE},
    {"mobileTelephoneNumber", S2L_LSYN_TELEPHONE},
    {"modifyTimestamp", S2L_LSYN_GENTIME},
    {"mXRecord", S2L_LSYN_IA5},
    {"name", S2L_LSYN_DIRSTRING},
    {"nisMapEntry", S2L_LSYN_IA5},
    {"nisMapName", S2L_LSYN_DIRSTRING},
    {"nSRecord", S2L_LSYN_IA5},
    {"o", S2L_LSYN_DIRSTRING},
    {"oncRpcNumber", S2L_LSYN_INTEGER},
    {"organizationalStatus", S2L_LSYN_DIRSTRING},
    {"organizationalUnitName", S2L_LSYN_DIRSTRING},
    {"organizationName", S2L_LSYN_DIRSTRING},
    {"ou", S2L_LSYN_DIRSTRING},
    {"owner", S2L_LSYN_DN},
    {"pager", S2L_LSYN_TELEPHONE},
    {"pagerTelephoneNumber", S2L_LSYN_TELEPHONE},
    {"personalSignature", S2L_LSYN_OCTETS},
    {"personalTitle", S2L_LSYN_DIRSTRING},
    {"photo", S2L_LSYN_OCTETS},
    {"physicalDeliveryOfficeName", S2L_LSYN_DIRSTRING},
    {"pkcs9email", S2L_LSYN_IA5},
    {"postalAddress", S2L_LSYN_POSTAL},
    {"postalCode", S2L_LSYN_DIRSTRING},
    {"postOfficeBox", S2L_LSYN_DIRSTRING},
    {"preferredLanguage", S2L_LSYN_DIRSTRING},
    {"pseudonym", S2L_LSYN_DIRSTRING},
    {"pwdAccountLockedTime", S2L_LSYN_GENTIME},
    {"registeredAddress", S2L_LSYN_POSTAL},
    {"rfc822Mailbox", S2L_LSYN_IA5},
    {"roleOccupant", S2L_LSYN_DN},
    {"roomNumber", S2L_LSYN_DIRSTRING},
    {"scimExternalId", S2L_LSYN_DIRSTRING},
    {"scimHomeEmail", S2L_LSYN_IA5},
    {"scimNickName", S2L_LSYN_DIRSTRING},
    {"secretary", S2L_LSYN_DN},
    {"serialNumber", S2L_LSYN_PRINTABLE},
    {"shadowExpire", S2L_LSYN_INTEGER},
    {"shadowFlag", S2L_LSYN_INTEGER},
    {"shadowInactive", S2L_LSYN_INTEGER},
    {"shadowLastChange", S2L_LSYN_INTEGER},
    {"shadowMax", S2L_LSYN_INTEGER},
    {"shadowMin", S2L_LSYN_INTEGER},
    {"shadowWarning", S2L_LSYN_INTEGER},
    {"sn", S2L_LSYN_DIRSTRING},
    {"sOARecord", S2L_LSYN_IA5},
    {"st", S2L_LSYN_DIRSTRING},
    {"stateOrProvinceName", S2L_LSYN_DIRSTRING},
    {"street", S2L_LSYN_DIRSTRING},
    {"streetAddress", S2L_LSYN_DIRSTRING},
    {"surname", S2L_LSYN_DIRSTRING},
    {"telephoneNumber", S2L_LSYN_TELEPHONE},
    {"textEncodedORAddress", S2L_LSYN_DIRSTRING},
    {"title", S2L_LSYN_DIRSTRING},
    {"uid", S2L_LSYN_DIRSTRING},
    {"uidNumber", S2L_LSYN_INTEGER},
    {"uniqueIdentifier", S2L_LSYN_DIRSTRING},
    {"uniqueMember", S2L_LSYN_DN},
    {"userCertificate", S2L_LSYN_OCTETS},
    {"userClass", S2L_LSYN_DIRSTRING},
    {"userid", S2L_LSYN_DIRSTRING},
    {"userPassword", S2L_LSYN_OCTETS},
    {"userPKCS12", S2L_LSYN_OCTETS},
    {"userSMIMECertificate", S2L_LSYN_OCTETS},
    {"x121Address", S2L_LSYN_NUMERIC},
};

static int row_cmp(const void *key, const void *elem)
{
    return strcasecmp((const char *)key, ((const syn_row *)elem)->name);
}

s2l_ldap_syntax s2l_ldap_syntax_of(const char *attr)
{
    char name[128];
    const char *semi;
    size_t n;
    const syn_row *r;

    if (attr == NULL)
        return S2L_LSYN_UNKNOWN;
    semi = strchr(attr, ';');
    n = semi ? (size_t)(semi - attr) : strlen(attr);
    if (n == 0 || n >= sizeof name)
        return S2L_LSYN_UNKNOWN;
    memcpy(name, attr, n);
    name[n] = '\0';
    r = bsearch(name, rows, sizeof rows / sizeof rows[0], sizeof rows[0], row_cmp);
    if (r != NULL)
        return r->syn;
    if (strcasecmp(name, "scimHomeEmail") == 0)
        return S2L_LSYN_IA5;
    if (strncasecmp(name, "scim", 4) == 0)
        return S2L_LSYN_DIRSTRING;
    return S2L_LSYN_UNKNOWN;
}

const char *s2l_ldap_syntax_name(s2l_ldap_syntax syn)
{
    switch (syn) {
    case S2L_LSYN_DIRSTRING: return "Directory String";
    case S2L_LSYN_IA5: return "IA5 String";
    case S2L_LSYN_PRINTABLE: return "Printable String";
    case S2L_LSYN_TELEPHONE: return "Telephone Number";
    case S2L_LSYN_COUNTRY: return "Country String";
    case S2L_LSYN_NUMERIC: return "Numeric String";
    case S2L_LSYN_INTEGER: return "INTEGER";
    case S2L_LSYN_BOOLEAN: return "Boolean";
    case S2L_LSYN_DN: return "DN";
    case S2L_LSYN_GENTIME: return "Generalized Time";
    case S2L_LSYN_POSTAL: return "Postal Address";
    case S2L_LSYN_OCTETS: return "Octet String";
    case S2L_LSYN_UNKNOWN:
    default: return "unknown";
    }
}

bool s2l_ldap_syntax_narrow(s2l_ldap_syntax syn)
{
    switch (syn) {
    case S2L_LSYN_IA5:
    case S2L_LSYN_PRINTABLE:
    case S2L_LSYN_TELEPHONE:
    case S2L_LSYN_COUNTRY:
    case S2L_LSYN_NUMERIC:
    case S2L_LSYN_INTEGER:
    case S2L_LSYN_BOOLEAN:
    case S2L_LSYN_DN:
    case S2L_LSYN_GENTIME:
        return true;
    default:
        return false;
    }
}

/* RFC 4517 §3.2 PrintableCharacter */
static bool printable_char(unsigned char c)
{
    return isalnum(c) || strchr("'()+,-./:? ", c) != NULL;
}

/* ISO 3166-1 alpha-2, officially assigned codes (249), two letters each. */
static const char iso3166[] =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBE"
    "BFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCD"
    "CFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDM"
    "DODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGF"
    "GGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHU"
    "IDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKN"
    "KPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDME"
    "MFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNA"
    "NCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPM"
    "PNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSI"
    "SJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTK"
    "TLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVI"
    "VNVUWFWSYEYTZAZMZW";

size_t s2l_iso3166_count(void)
{
    return (sizeof iso3166 - 1) / 2;
}

bool s2l_iso3166_alpha2(const char *value, size_t len)
{
    char code[3];

    if (value == NULL || len != 2 || !isalpha((unsigned char)value[0]) || !isalpha((unsigned char)value[1]))
        return false;
    code[0] = (char)toupper((unsigned char)value[0]);
    code[1] = (char)toupper((unsigned char)value[1]);
    code[2] = '\0';
    for (size_t i = 0; i + 1 < sizeof iso3166; i += 2)
        if (iso3166[i] == code[0] && iso3166[i + 1] == code[1])
            return true;
    return false;
}

bool s2l_ldap_value_fits(s2l_ldap_syntax syn, const char *value, size_t len)
{
    if (value == NULL || len == 0)
        return false;
    switch (syn) {
    case S2L_LSYN_IA5:
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)value[i] >= 0x80 || value[i] == '\0')
                return false;
        return true;
    case S2L_LSYN_PRINTABLE:
    case S2L_LSYN_TELEPHONE:
        for (size_t i = 0; i < len; i++)
            if (!printable_char((unsigned char)value[i]))
                return false;
        return true;
    case S2L_LSYN_COUNTRY:
        return s2l_iso3166_alpha2(value, len);
    case S2L_LSYN_NUMERIC:
        for (size_t i = 0; i < len; i++)
            if (!isdigit((unsigned char)value[i]) && value[i] != ' ')
                return false;
        return true;
    case S2L_LSYN_INTEGER: {
        size_t i = value[0] == '-' ? 1 : 0;
        if (i == len || (value[i] == '0' && len > i + 1) || (value[0] == '-' && value[1] == '0'))
            return false;
        for (; i < len; i++)
            if (!isdigit((unsigned char)value[i]))
                return false;
        return true;
    }
    case S2L_LSYN_BOOLEAN:
        return (len == 4 && memcmp(value, "TRUE", 4) == 0) || (len == 5 && memcmp(value, "FALSE", 5) == 0);
    default:
        return true;
    }
}
