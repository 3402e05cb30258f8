/* list_cursor.h — where paged listings stand between requests (pure: no
 * libevent, no LDAP handle; the caller passes the clock and the pool's view).
 *
 * A directory without VLV is listed with the Simple Paged Results control
 * (RFC 2696): a walk through the result, one page of entries per LDAP search,
 * each continuing from the cookie of the previous one. slapd keeps one paged
 * search per connection: a cookie is good on its connection only, and a new
 * paged search there invalidates it. A cursor is one such walk: the
 * connection, what is walked (a key: type, LDAP filter, sort), where it stands
 * (cookie, position = entries passed). The table has one cursor per pool
 * connection, so walks never share a connection.
 *
 * A list request takes a cursor (exclusively), walks, and releases it standing
 * where the request's page ended. The next request of a sequential pager
 * (Okta's import: startIndex 1, 101, 201, ... with count 100) asks for exactly
 * that key and position and resumes it, so each page costs one page of work
 * instead of a walk from the start. Anything else takes the least recently
 * used free cursor and walks from the start.
 *
 * Ownership: the table owns its cursors and their keys and cookies; a taken
 * cursor stays the table's (return it with s2l_cursors_release).
 */
#ifndef S2L_LIST_CURSOR_H
#define S2L_LIST_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct s2l_cursor {
    unsigned conn;               /* the pool connection (1-based), fixed per cursor */
    unsigned gen;                /* its session when the walk started (0: no walk) */
    char *key;                   /* what is walked, or NULL (no walk) */
    unsigned char *cookie;       /* the next page's cookie (NULL: the walk has not started or has ended) */
    size_t cookie_len;
    unsigned long pos;           /* entries the walk has passed */
    bool ended;                  /* the last page came: pos is the total */
    unsigned long count;         /* entries counted when the walk started (see count_exact) */
    bool count_exact;            /* count is the whole result, not a bound */
    uint64_t used_us;            /* when it was last released */
    bool busy;                   /* taken by a request */
} s2l_cursor;

typedef struct s2l_cursors s2l_cursors;

/* n cursors, for connections 1..n. NULL when out of memory. */
s2l_cursors *s2l_cursors_create(unsigned n);
void s2l_cursors_destroy(s2l_cursors *t);

/* May a walk use connection conn now (is it up)? */
typedef bool s2l_cursor_conn_ok_fn(void *arg, unsigned conn);

/* Takes a cursor for a walk of key that must stand at pos: a free cursor of
 * that key standing exactly at pos and released less than max_idle_us ago is
 * resumed (*resumed = true); otherwise the least recently used free cursor on
 * a connection conn_ok accepts is reset (*resumed = false; the caller starts a
 * walk with s2l_cursor_begin). NULL when none is free. now_us: a monotonic
 * clock. */
s2l_cursor *s2l_cursors_take(s2l_cursors *t, const char *key, unsigned long pos, uint64_t now_us,
                             uint64_t max_idle_us, s2l_cursor_conn_ok_fn *conn_ok, void *arg, bool *resumed);
/* Starts a walk of key on the cursor's connection (session gen). -1 when out
 * of memory (the cursor is then reset). */
int s2l_cursor_begin(s2l_cursor *c, const char *key, unsigned gen);
/* One page passed: n more entries, and the cookie of the next page (len 0:
 * this was the last page). -1 when out of memory (the cursor is then reset). */
int s2l_cursor_advance(s2l_cursor *c, unsigned long n, const unsigned char *cookie, size_t len);
/* Forgets the walk (a lost connection, an invalid cookie, a request that ended
 * mid-page). */
void s2l_cursor_reset(s2l_cursor *c);
/* Gives the cursor back, standing where it is, for a later resume. */
void s2l_cursors_release(s2l_cursors *t, s2l_cursor *c, uint64_t now_us);

#endif
