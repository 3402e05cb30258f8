/* ldap_syntax.h — what the gateway knows of LDAP attribute syntaxes, so that
 * a value LDAP would refuse is caught (and routed elsewhere, or refused with
 * the SCIM path named) before it is sent.
 *
 * Pure. The table covers the attributes of the schemas a directory admin
 * maps to (core, cosine, inetorgperson, nis, scim2ldap); an attribute it does
 * not list is S2L_LSYN_UNKNOWN and is not checked.
 *
 * Internal to gateway/core (mapping_*.c and the unit tests).
 */
#ifndef S2L_LDAP_SYNTAX_H
#define S2L_LDAP_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    S2L_LSYN_UNKNOWN,     /* not in the table: not checked */
    S2L_LSYN_DIRSTRING,   /* Directory String (1.3.6.1.4.1.1466.115.121.1.15): any non-empty UTF-8 */
    S2L_LSYN_IA5,         /* IA5 String (.26): ASCII only (mail, homeDirectory, gecos) */
    S2L_LSYN_PRINTABLE,   /* Printable String (.44) */
    S2L_LSYN_TELEPHONE,   /* Telephone Number (.50) / Facsimile (.22): printable characters */
    S2L_LSYN_COUNTRY,     /* Country String (.11): taken here as an ISO 3166-1 alpha-2 code */
    S2L_LSYN_NUMERIC,     /* Numeric String (.36): digits and spaces */
    S2L_LSYN_INTEGER,     /* INTEGER (.27) */
    S2L_LSYN_BOOLEAN,     /* Boolean (.7): TRUE or FALSE */
    S2L_LSYN_DN,          /* DN (.12) / Name and Optional UID (.34) */
    S2L_LSYN_GENTIME,     /* Generalized Time (.24) */
    S2L_LSYN_POSTAL,      /* Postal Address (.41): lines separated by '$' */
    S2L_LSYN_OCTETS,      /* Octet String (.40): anything (userPassword) */
} s2l_ldap_syntax;

/* The syntax of a well-known attribute (name compared case-insensitively,
 * options such as ";binary" ignored). */
s2l_ldap_syntax s2l_ldap_syntax_of(const char *attr);

/* "Country String" etc., for messages. */
const char *s2l_ldap_syntax_name(s2l_ldap_syntax syn);

/* Whether a value of len bytes is acceptable in that syntax. UNKNOWN,
 * DIRSTRING, DN, GENTIME, POSTAL and OCTETS accept every non-empty value
 * (the gateway builds DNs and times itself). */
bool s2l_ldap_value_fits(s2l_ldap_syntax syn, const char *value, size_t len);

/* Whether a SCIM string (any text) may not fit: true for syntaxes narrower
 * than Directory String. */
bool s2l_ldap_syntax_narrow(s2l_ldap_syntax syn);

/* An ISO 3166-1 alpha-2 country code, case-insensitively ("de", "US"). */
bool s2l_iso3166_alpha2(const char *value, size_t len);

/* Number of codes in the ISO 3166-1 table (for tests). */
size_t s2l_iso3166_count(void);

#endif
