/* subschema_reader.h — the directory's own LDAP schema, read over the pool
 * and applied to the mapping (shell), so that the filter split
 * (s2l_rmap_split_filter) knows which comparisons the directory's matching
 * rules decide exactly (issue 14).
 *
 * When: whenever the pool has a usable connection again after having none
 * (s2l_pool_set_up_hook: the first bind, after an outage, after a failover or
 * failback to another server), and when s2l_subschema_reader_refresh is
 * called (after a mapping reload).
 * How: with the pool's op pattern, two searches: the root DSE's
 * subschemaSubentry (base "", scope base), then that entry's attributeTypes
 * and matchingRules (scope base, "(objectClass=subschema)"), parsed with
 * s2l_subschema_add_entry and applied with s2l_mapping_apply_subschema. When
 * the subschema cannot be read (refused, no subschemaSubentry, nothing
 * parsable, the search failed) the built-in standard schema is applied
 * instead (s2l_subschema_builtin), so the split stays a superset either way.
 * One log line says which:
 *   event=subschema source=directory dn="cn=Subschema" attribute_types=N skipped=M
 *   event=subschema source=builtin reason="..."
 * The subschema read last is kept: a mapping loaded later gets it at once.
 *
 * Threads: s2l_mapping_apply_subschema must not run while the mapping
 * translates filters elsewhere; the reader runs on the loop that serves the
 * requests (one loop today). With several loops sharing a mapping, refresh
 * must be called where no request uses that mapping.
 *
 * Ownership: the reader borrows the pool and the mapping (until refresh names
 * another one); destroy it before the pool.
 */
#ifndef S2L_SUBSCHEMA_READER_H
#define S2L_SUBSCHEMA_READER_H

#include "s2l/ldap_pool.h"
#include "s2l/mapping.h"

typedef struct s2l_subschema_reader s2l_subschema_reader;

/* Registers the pool's up hook; nothing is read before the pool binds. The
 * mapping keeps what it was loaded with (the built-in schema) until then.
 * NULL when out of memory. */
s2l_subschema_reader *s2l_subschema_reader_create(s2l_pool *pool, s2l_mapping *mapping);
/* Cancels a read in flight, removes the hook. NULL is fine. */
void s2l_subschema_reader_destroy(s2l_subschema_reader *r);

/* The entry point after a mapping reload: mapping (NULL: the current one)
 * becomes the reader's, gets the subschema read last at once (the built-in one
 * when none was read yet), and the directory's is read again (unless a read
 * is in flight), to be applied when it arrives. Also what the up hook runs.
 * Call it before the previous mapping is freed: from then on a read in flight
 * applies to the new one only.
 * 0, or -1 when it could not be applied (out of memory, logged; the mapping
 * keeps what it had). */
int s2l_subschema_reader_refresh(s2l_subschema_reader *r, s2l_mapping *mapping);

/* "directory" once a subschema was read and applied, else "builtin". */
const char *s2l_subschema_reader_source(const s2l_subschema_reader *r);

#endif
