/* audit_log.h — the audit log and the JSON access log (shell).
 *
 * The audit log gets one line (s2l/audit.h) per write attempt on a resource
 * type: POST, PUT, PATCH and DELETE of a route that names one, whether it
 * succeeded, was refused by the gateway (400, 403, 409, ...) or by LDAP.
 * Requests that fail authentication have no credential and no resource: they
 * are in the gateway log (event=auth_denied), not here. The request path
 * notes what it sends to LDAP (s2l_audit_note_*, called by request.c for every
 * write), and the line is written when the request is answered.
 *
 * What goes in: the entry's DN (the DN of the add, delete or rename if there
 * was one, else of the first modify), the new DN after a rename, the changes
 * sent to that entry (adds and modifies; values of secret attributes never,
 * only their name and count), the last LDAP write's result code, the HTTP
 * status, the SCIM id (from the reply, else the path), userName (or a group's
 * displayName) and externalId (from the reply, else the request body), the
 * credential's name and the client's address. Writes to other entries made
 * on the request's behalf (group memberships kept consistent) are not listed.
 *
 * Destination: audit.file (opened O_APPEND, one write(2) per line, so lines
 * from several processes never interleave; reopened on SIGHUP for
 * logrotate), or stderr without audit.file. access_log "json" writes the
 * access line of every request as one JSON object to stderr instead of the
 * event=request text line.
 *
 * Ownership: the sink belongs to s2l_ops; a request's notes to the request.
 */
#ifndef S2L_OPS_AUDIT_LOG_H
#define S2L_OPS_AUDIT_LOG_H

#include <jansson.h>

#include "../http/request.h"
#include "ops.h"

/* Opens (or reopens) the sink for cfg. At start a failure is fatal (-1, errbuf);
 * on SIGHUP the caller logs it and the previous file stays in use. */
int s2l_ops_audit_open(s2l_ops *ops, const s2l_config *cfg, char *errbuf, size_t errlen);
bool s2l_ops_audit_on(const s2l_ops *ops);

/* Notes of a write sent to LDAP on behalf of req (no-ops when the audit is
 * off). payload: add attrs, modify mods, rename: NULL; arg: rename's new RDN. */
void s2l_audit_note_write(s2l_req *req, s2l_ops_ldap kind, const char *dn, const char *arg, const json_t *payload);
/* A modrdn with a new superior (deprovisioning move): the new DN is newrdn,new_superior. */
void s2l_audit_note_move(s2l_req *req, const char *dn, const char *newrdn, const char *new_superior);
void s2l_audit_note_result(s2l_req *req, s2l_ops_ldap kind, int rc);
/* The resource type a refused request was for (403 before its handler ran). */
void s2l_audit_note_type(s2l_req *req, const s2l_rmap *rm);
/* At the reply: the audit line (write methods) and the JSON access line. */
void s2l_audit_request_done(s2l_req *req, const s2l_reply *reply);
/* Frees req's notes. */
void s2l_audit_free(s2l_req *req);

#endif
