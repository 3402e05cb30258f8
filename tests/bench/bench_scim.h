/* bench_scim.h — the user profile that the benchmark's SCIM bodies and their
 * raw LDAP twins share.
 *
 * post-users creates user i of a run as userName "<prefix>-<i, 6 digits>".
 * put-user later sends that user's whole profile again, as Okta and OneLogin
 * update a profile (PUT: full replace), with only displayName and title
 * changed; s2l_rawldap's modify-profile writes the LDAP attributes the default
 * mapping derives from the same profile. The values are made here, in one
 * place, so that the three agree. Pure: no I/O, no allocation.
 */
#ifndef S2L_BENCH_SCIM_H
#define S2L_BENCH_SCIM_H

#include <stdbool.h>
#include <stddef.h>

#define S2L_BENCH_PROFILE_MAX 160u   /* each value, NUL included */

typedef struct s2l_bench_profile {
    char user_name[S2L_BENCH_PROFILE_MAX];
    char external_id[S2L_BENCH_PROFILE_MAX];
    char given_name[S2L_BENCH_PROFILE_MAX];
    char family_name[S2L_BENCH_PROFILE_MAX];
    char formatted[S2L_BENCH_PROFILE_MAX];      /* "<given> <family>": what the mapping makes cn of */
    char display_name[S2L_BENCH_PROFILE_MAX];
    char email[S2L_BENCH_PROFILE_MAX];
    char title[S2L_BENCH_PROFILE_MAX];          /* "" when the profile has none (as created) */
} s2l_bench_profile;

/* The profile post-users creates with request i. -1 when a value does not fit. */
int s2l_bench_profile_created(s2l_bench_profile *p, const char *prefix, size_t i);

/* The profile put-user sends, change number `change`, for the user created as
 * user_name: everything as created (the creation number is read back from
 * user_name's "-<digits>" suffix) but displayName and title, which carry
 * `change`, so that two different change numbers always differ there.
 * -1 when user_name is not "<prefix>-<digits>" or a value does not fit. */
int s2l_bench_profile_changed(s2l_bench_profile *p, const char *user_name, size_t change);

/* The creation number in "<prefix>-<digits>", or false. */
bool s2l_bench_user_index(const char *user_name, size_t *index);

/* The SCIM User body of p into buf (NUL-terminated): schemas, id (when not
 * NULL: Okta sends it in a PUT), userName, externalId, name, displayName, one
 * work email (primary), title (when p has one), active true and, with
 * okta_groups, the read-only "groups": [] Okta puts in its PUT bodies. Values
 * are written as they are: the caller gives JSON-safe ones (the load
 * generator's names and ids are URL-safe). Its length, or -1 if it does not fit. */
int s2l_bench_user_json(char *buf, size_t cap, const s2l_bench_profile *p, const char *id, bool okta_groups);

/* The LDAP attributes the default mapping (mappings/openldap.json) writes for
 * p's user body, each with its one value, other than objectClass and the RDN
 * attribute (uid, unchanged: no rename): scimExternalId, cn (name.formatted's
 * fallback "<givenName> <familyName>"), sn, givenName, displayName, mail (the
 * primary work email), title when p has one; "active": true writes nothing
 * (the lock policy only acts on a change). What a full replace of the profile
 * is at the LDAP level; test_bench_scim checks it against the mapping itself.
 * Returns how many were filled (at most S2L_BENCH_PROFILE_LDAP_MAX); the
 * strings point into p. */
#define S2L_BENCH_PROFILE_LDAP_MAX 8u
typedef struct s2l_bench_ldap_value {
    const char *attr;
    const char *value;
} s2l_bench_ldap_value;
size_t s2l_bench_profile_ldap(const s2l_bench_profile *p, s2l_bench_ldap_value out[S2L_BENCH_PROFILE_LDAP_MAX]);

#endif
