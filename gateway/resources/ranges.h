/* ranges.h — completes entries that came back with ranged attributes (AD's
 * range retrieval, "member;range=0-1499"): base-scope searches for the next
 * ranges until each ends in "*", the values merged under the plain name
 * (s2l_entry_merge_ranges). Runs as LDAP ops of the request.
 *
 * 1 when searches started: done(arg, err) runs once, later (err NULL on
 * success, else the LDAP failure to answer with), unless the request ends
 * first; 0 when nothing was ranged (entries are already complete, done is not
 * called); -1 when out of memory (the request has been answered). */
#ifndef S2L_RESOURCES_RANGES_H
#define S2L_RESOURCES_RANGES_H

#include "../http/request.h"
#include "lookup.h"

int s2l_ranges_complete(s2l_req *req, json_t *entries, s2l_lookup_done_fn *done, void *arg);

#endif
