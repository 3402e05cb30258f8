/* id_cache.h — a bounded map SCIM id → DN per resource type, so a write by id
 * can go straight to the entry's DN (pure: no libevent, no LDAP).
 *
 * The cache is a hint, never trusted: every write sent to a cached DN carries
 * the assertion control on the entry's id (update.c, delete.c), so a stale
 * DN (the entry renamed, deleted and recreated, moved out of scope behind the
 * gateway's back) makes the write fail harmlessly and the caller drops the
 * pair, looks the id up and goes on. Filled by every read and write that
 * sees an entry's id and DN; least recently used pairs go first past
 * `capacity`. One per configuration generation, shared by the event-loop
 * workers (reference counted; every call takes the cache's lock).
 *
 * Ownership: keys and DNs are copied in; s2l_id_cache_copy returns a malloc'd
 * DN. s2l_id_cache_get returns a pointer into the cache, valid until the next
 * put/drop on it by any thread: for a cache no other thread uses (tests).
 */
#ifndef S2L_ID_CACHE_H
#define S2L_ID_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct s2l_id_cache s2l_id_cache;

typedef struct s2l_id_cache_stats {
    size_t size, capacity;
    uint64_t hits, misses, evictions;
} s2l_id_cache_stats;

/* capacity 0: a cache that holds nothing (get always misses). NULL on OOM.
 * One reference. */
s2l_id_cache *s2l_id_cache_create(size_t capacity);
s2l_id_cache *s2l_id_cache_hold(s2l_id_cache *c);
/* Drops a reference; the last one frees the cache. */
void s2l_id_cache_destroy(s2l_id_cache *c);

/* type: the resource type's name; ids compare exactly (callers pass the id
 * as the directory renders it). */
const char *s2l_id_cache_get(s2l_id_cache *c, const char *type, const char *id);
/* The DN (malloc'd), or NULL: what a shared cache's users call. */
char *s2l_id_cache_copy(s2l_id_cache *c, const char *type, const char *id);
/* Adds or refreshes; -1 on OOM (the cache is unchanged). */
int s2l_id_cache_put(s2l_id_cache *c, const char *type, const char *id, const char *dn);
void s2l_id_cache_drop(s2l_id_cache *c, const char *type, const char *id);
void s2l_id_cache_get_stats(s2l_id_cache *c, s2l_id_cache_stats *out);

#endif
