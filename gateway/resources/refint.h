/* refint.h — references to a renamed or deleted entry, fixed by the gateway
 * when the directory does not (mapping "referential_integrity": "gateway").
 *
 * Runs as LDAP ops of the request after the primary write succeeded: the
 * request's answer reports that write; a failed fix-up is logged, not turned
 * into an error for a write LDAP accepted. */
#ifndef S2L_RESOURCES_REFINT_H
#define S2L_RESOURCES_REFINT_H

#include "../http/request.h"

/* new_dn NULL = deleted. done(req) runs once, when every fix-up has finished. */
void s2l_refint_fix(s2l_req *req, const char *old_dn, const char *new_dn, void (*done)(s2l_req *req));

#endif
