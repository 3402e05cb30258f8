/* refint.h — references to a renamed or deleted entry, fixed by the gateway
 * when the directory does not (mapping "referential_integrity": "gateway").
 *
 * Runs as LDAP ops of the request after the primary write succeeded: the
 * request's answer reports that write; a failed fix-up is logged, not turned
 * into an error for a write LDAP accepted. */
#ifndef S2L_RESOURCES_REFINT_H
#define S2L_RESOURCES_REFINT_H

#include "../http/request.h"
#include "s2l/mapping.h"

/* Called once every fix-up has finished; err is always NULL (failures are
 * logged), the shape of s2l_lookup_done_fn. */
typedef void s2l_refint_done_fn(void *arg, const s2l_ldap_result *err);

/* References to the entry of type rm renamed from old_dn to new_dn (NULL =
 * deleted). 1 when fix-ups started: done(arg, NULL) runs once, later (never
 * inside this call), unless the request ends first; 0 when there is nothing
 * to do (the directory does it, nothing may refer to it, or nothing could be
 * started: logged): done is not called. */
int s2l_refint_fix(s2l_req *req, const s2l_rmap *rm, const char *old_dn, const char *new_dn,
                   s2l_refint_done_fn *done, void *arg);

#endif
