/* audit.h — the audit record: one JSON line per write attempt.
 *
 * Pure: an event in, one line of text out; where it goes (a file reopened on
 * SIGHUP for logrotate, or stderr) is the shell's business. Every POST, PUT,
 * PATCH and DELETE of a resource gets a line, whether it succeeded, was
 * refused by the gateway before LDAP saw it, or was refused by LDAP.
 *
 *   {"time":"2026-11-23T20:12:00.123Z","request_id":42,"credential":"okta",
 *    "source":"192.0.2.7:51234","operation":"patch","resource_type":"User",
 *    "id":"2819c223-...","user_name":"jdoe","external_id":"00u1ab...",
 *    "dn":"uid=jdoe,ou=people,dc=example,dc=org",
 *    "new_dn":"uid=jane,ou=people,dc=example,dc=org",
 *    "changes":[{"op":"replace","attr":"mail","values":["jane@example.org"]},
 *               {"op":"replace","attr":"userPassword","secret":true,"count":1}],
 *    "status":200,"ldap_result":0,"outcome":"success"}
 *
 * Keys with no value (no id for a refused create, no new_dn without a
 * rename, no ldap_result when nothing reached LDAP, no scim_type on success)
 * are left out; the order of the keys is as above.
 *
 * Secrets: the values of a secret attribute are never written, only its name
 * with "secret": true and how many values there were. Secret are the
 * attributes in the caller's list (s2l_mapping_secret_attrs: write-only
 * attributes such as the password, and the mapping's "secret_attributes") and
 * always userPassword, authPassword, unicodePwd, sambaNTPassword,
 * sambaLMPassword and clearPassword; names compare case-insensitively and
 * without options (userPassword;binary is userPassword). The event carries
 * no request body, header, token or LDAP diagnostic text, so nothing else can
 * leak one.
 *
 * Ownership: the event and everything it points to are borrowed;
 * s2l_audit_line returns a malloc'd string.
 */
#ifndef S2L_AUDIT_H
#define S2L_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <jansson.h>

typedef struct s2l_audit_event {
    struct timespec time;          /* when the request arrived (CLOCK_REALTIME) */
    unsigned long long request_id; /* the request's id as in the gateway log (req=...) */
    const char *credential;        /* the credential's name, or "token #n"; NULL: not authenticated */
    const char *source;            /* the client, e.g. "192.0.2.7:51234" */
    const char *operation;         /* "create" | "replace" | "patch" | "delete" */
    const char *resource_type;     /* "User" */
    const char *id;                /* SCIM id, NULL when there is none yet */
    const char *user_name;         /* userName (User) or displayName (Group) as sent or stored, or NULL */
    const char *external_id;       /* externalId, or NULL */
    const char *dn;                /* the entry's DN (before a rename), NULL when unknown */
    const char *new_dn;            /* the DN after a rename, else NULL */
    /* What was sent to LDAP, in the forms of mapping.h (either may be NULL):
     * add_attrs for a create ({"attr": ["v", ...]}), mods for a modify
     * ([{"op","attr","values"}]). */
    const json_t *add_attrs;
    const json_t *mods;
    int status;                    /* HTTP status answered */
    const char *scim_type;         /* scimType of an error answer, or NULL */
    int ldap_result;               /* result code of the (last) LDAP write; -1: none was sent */
} s2l_audit_event;

/* One line: the JSON object described above followed by "\n", so that one
 * write(2) to a file opened with O_APPEND adds it whole. secret_attrs:
 * NULL-terminated extra secret attribute names (may be NULL). *len (when not
 * NULL) gets the length. NULL on allocation failure. */
char *s2l_audit_line(const s2l_audit_event *ev, const char *const *secret_attrs, size_t *len);

/* Whether attr is secret (see above). */
bool s2l_audit_is_secret(const char *attr, const char *const *secret_attrs);

/* "2026-11-23T20:12:00.123Z" (UTC, milliseconds) into buf (at least 25 bytes). */
void s2l_audit_time(const struct timespec *t, char *buf, size_t buflen);

#endif
