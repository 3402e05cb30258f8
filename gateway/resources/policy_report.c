/* policy_report.c — log lines and counters for what the policies did
 * (see policy_report.h). */
#include "policy_report.h"

#include <stdio.h>
#include <string.h>

#include "s2l/log.h"
#include "s2l/mapping.h"

static s2l_policy_counters counters;

const s2l_policy_counters *s2l_policy_counters_get(void)
{
    return &counters;
}

/* The listed paths as one quoted log value (client text: s2l_log_quote
 * escapes it and caps it with a "...[+N]" marker). Double quotes of value
 * filters become single ones first, for a readable line:
 * attributes="roles[type eq 'x']". */
static void join_paths(const json_t *arr, char *out, size_t cap)
{
    char raw[2048];
    size_t n = 0, i;
    json_t *e;

    json_array_foreach(arr, i, e) {
        const char *s = json_string_value(e);
        if (s == NULL)
            continue;
        if (n > 0 && n + 1 < sizeof raw)
            raw[n++] = ',';
        for (; *s && n + 1 < sizeof raw; s++)
            raw[n++] = *s == '"' ? '\'' : *s;
    }
    s2l_log_quote(out, cap, raw, n);
}

typedef struct kind {
    const char *key;          /* notes key */
    const char *event;
    const char *what;         /* name of the listed items in the line */
    s2l_log_level level;
    atomic_ullong *counter;
} kind;

void s2l_policy_report(s2l_req *req, const s2l_rmap *rm, const json_t *notes)
{
    const kind kinds[] = {
        {"ignored", "attributes_ignored", "attributes", S2L_LOG_WARN, &counters.attributes_ignored},
        {"kept", "attributes_kept", "attributes", S2L_LOG_INFO, &counters.attributes_kept},
        {"rejected", "attributes_rejected", "attributes", S2L_LOG_WARN, &counters.attributes_rejected},
        {"ignored_schemas", "schemas_ignored", "schemas", S2L_LOG_WARN, &counters.schemas_ignored},
        {"kept_schemas", "schemas_kept", "schemas", S2L_LOG_INFO, &counters.schemas_kept},
        {"rejected_schemas", "schemas_rejected", "schemas", S2L_LOG_WARN, &counters.schemas_rejected},
        {"skipped_members", "members_skipped", "ids", S2L_LOG_WARN, &counters.members_skipped},
        {"kept_references", "references_kept", "values", S2L_LOG_INFO, &counters.references_kept},
    };
    char list[640];

    if (!json_is_object(notes))
        return;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        const json_t *arr = json_object_get(notes, kinds[k].key);
        size_t n = json_array_size(arr);
        if (n == 0)
            continue;
        unsigned long long total = atomic_fetch_add(kinds[k].counter, n) + n;
        join_paths(arr, list, sizeof list);
        s2l_log(kinds[k].level, "event=%s req=%llu resource=%s count=%zu total=%llu %s=%s", kinds[k].event,
                (unsigned long long)req->id, rm ? s2l_rmap_info_of(rm)->name : "-", n, total,
                kinds[k].what, list);
    }
}
