/* policy_report.h — what the mapping's policies did to requests: one log line
 * per kind per request, and counters.
 *
 * The counters live here, in one struct, so that a metrics endpoint can
 * export them (s2l_policy_counters_get); until it exists they are visible in
 * the log lines, each of which carries the running total.
 *
 * Ownership: notes are borrowed; the counters are static and live for the
 * process. Single-threaded (one event loop); the fields are atomic so that
 * more loops may share them later.
 */
#ifndef S2L_RESOURCES_POLICY_REPORT_H
#define S2L_RESOURCES_POLICY_REPORT_H

#include <jansson.h>
#include <stdatomic.h>

#include "../http/request.h"
#include "s2l/mapping.h"

typedef struct s2l_policy_counters {
    atomic_ullong attributes_ignored;   /* attribute paths dropped by "ignore" (unknown or unmapped) */
    atomic_ullong attributes_kept;      /* attribute paths kept as sent by "keep" */
    atomic_ullong attributes_rejected;  /* attribute paths refused by "reject" (400) */
    atomic_ullong schemas_ignored;      /* schema URNs dropped by "unknown_schemas": "ignore" */
    atomic_ullong schemas_kept;
    atomic_ullong schemas_rejected;
    atomic_ullong members_skipped;      /* member ids left out by "unknown_members": "skip" */
    atomic_ullong references_kept;      /* manager values kept as sent ("unknown_manager": "keep") */
} s2l_policy_counters;

/* The process-wide counters (for a metrics exporter). */
const s2l_policy_counters *s2l_policy_counters_get(void);

/* Logs and counts the notes of one request for resource type rm (s2l_notes_add
 * format, may be NULL or empty): a warn line for what was dropped or refused, info for
 * what was kept, e.g.
 *   event=attributes_ignored req=42 resource=User count=2 total=17 attributes="adreses,roles[type eq 'x']" */
void s2l_policy_report(s2l_req *req, const s2l_rmap *rm, const json_t *notes);

#endif
