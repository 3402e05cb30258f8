/* ldap_pool.h — asynchronous libldap connections inside the libevent loop.
 *
 * One pattern for every LDAP operation: s2l_ldap_<verb>() starts it on a bound
 * connection and returns an op handle; its completion callback is called exactly
 * once, always from the event loop and never from inside the start call (errors
 * found while starting are delivered on the next loop turn). Each op has a
 * deadline; on expiry it is abandoned (ldap_abandon_ext) and completes with
 * LDAP_TIMEOUT. s2l_ldap_cancel() abandons an op; its callback is then never
 * called. When a connection breaks, all its pending ops complete at once with
 * LDAP_SERVER_DOWN and the connection reconnects with exponential backoff
 * (connect, optional StartTLS, one simple bind; never a bind per request).
 * While no connection is up, new ops complete quickly with LDAP_SERVER_DOWN.
 *
 * Ownership: the pool owns its connections and ops. An op handle is valid until
 * its callback has returned or until s2l_ldap_cancel() returns. The result passed
 * to the callback (and everything in it, incl. entries) is borrowed for the
 * duration of the callback; json_incref what you keep. Inputs (DNs, attrs,
 * mods, filters) are copied or encoded before the start call returns.
 *
 * Notes (added by pool):
 *  - Entries: values that are UTF-8 text (no NUL) appear under the attribute
 *    name as the server spells it; other (binary) values are base64-encoded
 *    under "<name>;base64", e.g. "jpegPhoto;base64": ["/9j/4AAQ..."].
 *  - Values sent: JSON strings; integers are sent in decimal and true/false as
 *    "TRUE"/"FALSE"; other JSON types make the op complete with LDAP_PARAM_ERROR.
 *    Binary values go the way they come: under "<name>;base64" as base64
 *    strings, sent as the decoded bytes of <name> (AD's unicodePwd).
 *    The pool clears its own copies of sent values when it frees them (they
 *    may be passwords).
 *    In add, attributes with an empty array are left out; in modify, "delete" or
 *    "replace" without values clear the attribute, "add" needs values.
 *  - Ops wait in a queue when every connection has max_ops_per_conn in flight;
 *    past 16 x connections x max_ops_per_conn queued ops, new ops complete with
 *    LDAP_BUSY (503). Writes never block: when a socket is full the connection
 *    waits for EV_WRITE.
 *  - The process must ignore SIGPIPE (libldap writes with plain write(2)).
 *  - s2l_pool_destroy must not be called from inside an op callback.
 *
 * Several servers (uri = "ldap://a ldap://b ..."), e.g. an OpenLDAP
 * multi-provider pair:
 *  - All connections of the pool use ONE server at a time, the current one:
 *    first the first server in the list. When an attempt or a connection to the
 *    current server fails while no connection to it is up (slapd stopped, host
 *    gone, bind refused), the pool fails over: the next server in the list
 *    becomes current and every connection reconnects to it at once. After a
 *    whole round of the list failed, rounds wait the backoff (backoff_min_ms
 *    doubling to backoff_max_ms, with jitter). One connection dropping while
 *    others to the same server stay up only reconnects that one, to that server.
 *  - Ops in flight on a lost connection complete with LDAP_SERVER_DOWN (→ 503 +
 *    Retry-After); an op is never re-sent to another server by the pool, since
 *    the pool cannot know whether the lost server applied a write. While no
 *    connection is up, new ops complete quickly with LDAP_SERVER_DOWN.
 *  - Failback: failback_after_ms after the pool came up on a server other than
 *    the first, a probe connection (connect + bind, no ops) tries the first
 *    server; if it binds, the first server becomes current: new ops wait (in the
 *    queue, never failed) for a connection to it while connections to the other
 *    server finish their ops and then move over. If the probe fails, it is
 *    tried again failback_after_ms later; nothing else is disturbed.
 *  - Why one server at a time: with replication, a write is on the server that
 *    took it at once and on the others only after replication (milliseconds to
 *    seconds; longer after an outage). Spreading a request's operations over
 *    several servers could read back an entry before its write arrived, or miss
 *    a member added a moment ago. The price: the other servers serve no reads
 *    from this gateway — scale reads out with more gateways in front of
 *    different first servers (the order of each gateway's list), not by
 *    spreading one pool. At a switch (failover or failback), a request whose
 *    operations straddle it may still read from the new server before its write
 *    was replicated there.
 *  - A server that accepts connections but does not answer (hung, SIGSTOP) is
 *    not failed over from: its ops time out (LDAP_TIMEOUT) while its
 *    connections stay up. TCP keepalive finds a vanished peer on idle
 *    connections.
 *
 * VLV sessions: OpenLDAP's sssvlv overlay keeps the sorted result of every VLV
 * search (a "session", for a later request with its context id) until the
 * connection closes; past sssvlv-maxperconn sessions on a connection or
 * sssvlv-max in all it answers 51 "Other sort requests already in progress".
 * So a connection that has sent vlv_per_conn VLV searches takes no new ops
 * and, once its ops are done, is closed and reopened at once (no backoff; ops
 * wait in the queue meanwhile, they are never failed for it); a VLV search
 * answered 51 marks its connection the same way. Other servers (AD, 389-DS)
 * keep no such state: for them it is a cheap reconnect every vlv_per_conn
 * listed pages per connection.
 */
#ifndef S2L_LDAP_POOL_H
#define S2L_LDAP_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct event_base;

typedef struct s2l_pool s2l_pool;
typedef struct s2l_ldap_op s2l_ldap_op;

/* failback_after_ms value: stay on whichever server works. */
#define S2L_POOL_NO_FAILBACK 0xffffffffu

typedef struct s2l_pool_config {
    const char *uri;                 /* ldap://host:port, ldaps://, ldapi://; several separated by
                                        whitespace, in order of preference (at most 16) */
    const char *bind_dn;             /* NULL/"" = anonymous */
    const char *bind_password;
    unsigned connections;            /* default 4 */
    unsigned timeout_ms;             /* default per-op deadline; default 5000 */
    unsigned connect_timeout_ms;     /* connect + StartTLS + bind; default 3000 */
    unsigned backoff_min_ms;         /* first reconnect delay; default 100 */
    unsigned backoff_max_ms;         /* cap; default 5000 */
    unsigned max_ops_per_conn;       /* outstanding ops per connection before using another / queueing; default 256 */
    bool starttls;                   /* StartTLS on ldap:// */
    const char *tls_ca_file;         /* NULL = system default */
    bool tls_verify;                 /* default true (in the config file; here false means no verification) */
    unsigned vlv_per_conn;           /* VLV searches a connection carries before it is closed and reopened
                                        once idle (0 = never); see "VLV sessions" above */
    unsigned failback_after_ms;      /* back to the first server this long after leaving it; default
                                        300000 (5 min); S2L_POOL_NO_FAILBACK = never */
} s2l_pool_config;

/* A connection of the pool, as results name it: conn is 1-based (0 = none),
 * gen identifies its session (it changes whenever the connection is closed). */
typedef struct s2l_conn_pin {
    unsigned conn;
    unsigned gen;
} s2l_conn_pin;

typedef struct s2l_ldap_result {
    int rc;                          /* LDAP result code; local failures use libldap's negative codes
                                        (LDAP_SERVER_DOWN, LDAP_TIMEOUT, LDAP_NO_MEMORY, ...) */
    const char *diag;                /* diagnostic message or NULL (for LDAP_SERVER_DOWN while no connection
                                        is up: why, e.g. "... last failure: bind: Invalid credentials") */
    const char *matched_dn;          /* or NULL */
    json_t *entries;                 /* searches: array of {"dn":..,"attrs":{name:[values]}}; else NULL */
    bool has_vlv;                    /* a VLV response control came back */
    unsigned long vlv_target;        /* its target position (1-based) */
    unsigned long vlv_count;         /* its content count (total matching entries) */
    int vlv_rc;                      /* its result code */
    bool has_sort;                   /* a sort response control came back (added by pool) */
    int sort_rc;                     /* its result code (0 = sorted) */
    size_t n_entries;                /* searches: entries received, kept in entries or not (window) */
    bool has_paged;                  /* a paged-results response control came back (RFC 2696) */
    unsigned long paged_size;        /* its size: the server's estimate of the total, 0 = none */
    const unsigned char *cookie;     /* its cookie (borrowed); cookie_len 0 = that was the last page */
    size_t cookie_len;
    s2l_conn_pin conn;               /* the connection the op ran on ({0, 0} when never sent) */
    uint64_t latency_us;             /* from start to completion */
    int msgid;                       /* for logs */
} s2l_ldap_result;

typedef void s2l_ldap_done_fn(const s2l_ldap_result *res, void *arg);

typedef struct s2l_search_req {
    const char *base;
    int scope;                       /* LDAP_SCOPE_BASE / ONELEVEL / SUBTREE */
    const char *filter;
    char *const *attrs;              /* NULL-terminated; NULL = all user attributes */
    int size_limit;                  /* 0 = none */
    const char *sort_attr;           /* server-side sort (RFC 2891) or NULL: a key "[-]attr[:orderingRule]";
                                        slapd needs an ordering rule, e.g. "sn:caseIgnoreOrderingMatch"
                                        (attributes like createTimestamp or entryUUID have one). The sort
                                        and VLV controls are critical; requires sort_attr when VLV is used */
    unsigned long vlv_offset;        /* with vlv_count > 0: VLV by offset (1-based) */
    unsigned long vlv_count;         /* entries wanted; 0 = no VLV */
    /* Simple Paged Results (RFC 2696): page_size > 0 sends the control (critical)
     * for that many entries, continuing after cookie (cookie_len bytes; none:
     * the first page). The next cookie comes back in the result; an empty one
     * ends the search. Servers keep a paged search per connection (slapd: one
     * per connection at a time), so later pages go to the same connection
     * (pin = the result's conn). Not with VLV. */
    unsigned long page_size;
    const void *cookie;
    size_t cookie_len;
    /* Run on this connection (conn 0: any). gen 0: whichever session it has
     * now. The op completes with LDAP_SERVER_DOWN when that connection is not
     * up, or has been closed since session gen. */
    s2l_conn_pin pin;
    /* Streaming: with window, every entry is counted (res->n_entries) but only
     * those at positions [keep_from, keep_from + keep_count) of this op's
     * results (0-based) are kept in res->entries: a search over many entries
     * costs O(keep_count) memory. */
    bool window;
    size_t keep_from, keep_count;
} s2l_search_req;

/* Creates the pool and starts connecting (asynchronously; returns at once).
 * NULL with a message in errbuf on bad configuration. */
s2l_pool *s2l_pool_create(struct event_base *base, const s2l_pool_config *cfg, char *errbuf, size_t errlen);
/* Cancels pending ops silently (callbacks not called), unbinds, frees. */
void s2l_pool_destroy(s2l_pool *pool);

bool s2l_pool_is_up(const s2l_pool *pool);          /* at least one connection bound */
/* The URI of the current server (borrowed; valid until the pool is destroyed). */
const char *s2l_pool_server_uri(const s2l_pool *pool);
unsigned s2l_pool_retry_after(const s2l_pool *pool); /* seconds until the next reconnect attempt, >= 1 */
/* Whether the server's root DSE listed this control OID (read once per bind; with several
 * servers, the one bound last, which is the current one). */
bool s2l_pool_supports_control(const s2l_pool *pool, const char *oid);
/* The pool's connections (1..count as in s2l_conn_pin.conn) and whether one
 * is up on the current server now (a pinned op sent to it would go out and it
 * is not about to be retired after a failback). */
unsigned s2l_pool_conn_count(const s2l_pool *pool);
bool s2l_pool_conn_is_up(const s2l_pool *pool, unsigned conn);

/* A hook for what must be read from the directory whenever the pool has a
 * usable connection again after having none: the first bind, after an outage
 * and after a failover or failback (the current server changed). Called from
 * the event loop on the turn after that connection came up (never from inside
 * a pool call), with a usable connection: ops started there go out at once.
 * One hook per pool; fn NULL removes it. The gateway reads the directory's
 * subschema with it (gateway/subschema_reader.h). */
typedef void s2l_pool_up_fn(s2l_pool *pool, void *arg);
void s2l_pool_set_up_hook(s2l_pool *pool, s2l_pool_up_fn *fn, void *arg);

typedef struct s2l_pool_stats {
    unsigned connections_up;         /* up, or being reopened after vlv_per_conn VLV searches */
    uint64_t ops_started, ops_done, ops_failed, ops_timed_out, reconnects;
    unsigned ops_pending;
    /* Added by pool: ops_done counts callbacks delivered; ops_failed those with
     * rc != LDAP_SUCCESS (incl. timeouts); reconnects counts connections that
     * came back UP after having been lost; ops_cancelled ops ended by
     * s2l_ldap_cancel (no callback); write_stalls times a connection's socket
     * was full and the pool waited for it to drain (backpressure). */
    uint64_t ops_cancelled;
    uint64_t write_stalls;
    uint64_t recycles;               /* connections closed and reopened for VLV sessions */
    /* Servers: the index of the current one in the uri list; connections
     * that may take ops (up on the current server; connections_up also counts
     * those draining on the previous one after a failback); how often the pool
     * moved to the next server and back to the first. */
    unsigned server;
    unsigned connections_usable;
    uint64_t failovers, failbacks;
} s2l_pool_stats;
void s2l_pool_get_stats(const s2l_pool *pool, s2l_pool_stats *out);

/* timeout_ms 0 = the pool's default. Return NULL only on allocation failure. */
s2l_ldap_op *s2l_ldap_search(s2l_pool *pool, const s2l_search_req *req, unsigned timeout_ms,
                             s2l_ldap_done_fn *cb, void *arg);
/* Writes. add: attrs = {"attr": ["v", ...]};
 * modify: mods = [{"op":"add"|"delete"|"replace","attr":"a","values":[...]}].
 * Options of a write (opts may be NULL: none):
 * permissive: send the (non-critical) permissive-modify control
 *   (1.2.840.113556.1.4.1413): adding a value that is already present succeeds
 *   instead of failing the whole modify with 20. (slapd still answers 16 for
 *   deleting an absent value; callers handle that.)
 * post_read: attributes to have returned with the result through the
 *   post-read control (RFC 4527), so the stored entry comes back without a
 *   second round trip; it arrives as res->entries = [entry] (absent if the
 *   server did not send it). NULL-terminated, NULL = no control. */
/* relax: send OpenLDAP's Relax Rules control (non-critical), which lets a
 *   modify add a structural object class (adopting a "person" entry as
 *   inetOrgPerson). */
#define S2L_CONTROL_RELAX "1.3.6.1.4.1.4203.666.5.12"
/* assertion: an RFC 4515 filter sent as the (critical) assertion control
 *   (RFC 4528, 1.3.6.1.1.12): the server applies the write only when the
 *   entry matches it, else the op completes with LDAP_ASSERTION_FAILED (122)
 *   and nothing changed. NULL = no control. (Callers check
 *   s2l_pool_supports_control(pool, LDAP_CONTROL_ASSERT) first: AD lacks it.) */
typedef struct s2l_write_opts {
    bool permissive;
    char *const *post_read;
    bool relax;
    const char *assertion;
} s2l_write_opts;
s2l_ldap_op *s2l_ldap_add_ext(s2l_pool *pool, const char *dn, const json_t *attrs, const s2l_write_opts *opts,
                              unsigned timeout_ms, s2l_ldap_done_fn *cb, void *arg);
s2l_ldap_op *s2l_ldap_modify_ext(s2l_pool *pool, const char *dn, const json_t *mods, const s2l_write_opts *opts,
                                 unsigned timeout_ms, s2l_ldap_done_fn *cb, void *arg);
s2l_ldap_op *s2l_ldap_rename(s2l_pool *pool, const char *dn, const char *newrdn, const char *new_superior,
                             bool delete_old_rdn, unsigned timeout_ms, s2l_ldap_done_fn *cb, void *arg);
s2l_ldap_op *s2l_ldap_delete(s2l_pool *pool, const char *dn, unsigned timeout_ms,
                             s2l_ldap_done_fn *cb, void *arg);
/* Delete with options (only opts->assertion applies to a delete). */
s2l_ldap_op *s2l_ldap_delete_ext(s2l_pool *pool, const char *dn, const s2l_write_opts *opts, unsigned timeout_ms,
                                 s2l_ldap_done_fn *cb, void *arg);

/* Abandons a pending op (ldap_abandon_ext if it reached the server); its callback
 * will not be called. Safe to call from inside another op's callback. */
void s2l_ldap_cancel(s2l_ldap_op *op);

#endif
