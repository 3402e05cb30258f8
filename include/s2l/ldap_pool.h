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

typedef struct s2l_pool_config {
    const char *uri;                 /* ldap://host:port, ldaps://, ldapi:// */
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
} s2l_pool_config;

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
} s2l_search_req;

/* Creates the pool and starts connecting (asynchronously; returns at once).
 * NULL with a message in errbuf on bad configuration. */
s2l_pool *s2l_pool_create(struct event_base *base, const s2l_pool_config *cfg, char *errbuf, size_t errlen);
/* Cancels pending ops silently (callbacks not called), unbinds, frees. */
void s2l_pool_destroy(s2l_pool *pool);

bool s2l_pool_is_up(const s2l_pool *pool);          /* at least one connection bound */
unsigned s2l_pool_retry_after(const s2l_pool *pool); /* seconds until the next reconnect attempt, >= 1 */
/* Whether the server's root DSE listed this control OID (read once per bind). */
bool s2l_pool_supports_control(const s2l_pool *pool, const char *oid);

typedef struct s2l_pool_stats {
    unsigned connections_up;
    uint64_t ops_started, ops_done, ops_failed, ops_timed_out, reconnects;
    unsigned ops_pending;
    /* Added by pool: ops_done counts callbacks delivered; ops_failed those with
     * rc != LDAP_SUCCESS (incl. timeouts); reconnects counts connections that
     * came back UP after having been lost; ops_cancelled ops ended by
     * s2l_ldap_cancel (no callback); write_stalls times a connection's socket
     * was full and the pool waited for it to drain (backpressure). */
    uint64_t ops_cancelled;
    uint64_t write_stalls;
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
typedef struct s2l_write_opts {
    bool permissive;
    char *const *post_read;
    bool relax;
} s2l_write_opts;
s2l_ldap_op *s2l_ldap_add_ext(s2l_pool *pool, const char *dn, const json_t *attrs, const s2l_write_opts *opts,
                              unsigned timeout_ms, s2l_ldap_done_fn *cb, void *arg);
s2l_ldap_op *s2l_ldap_modify_ext(s2l_pool *pool, const char *dn, const json_t *mods, const s2l_write_opts *opts,
                                 unsigned timeout_ms, s2l_ldap_done_fn *cb, void *arg);
s2l_ldap_op *s2l_ldap_rename(s2l_pool *pool, const char *dn, const char *newrdn, const char *new_superior,
                             bool delete_old_rdn, unsigned timeout_ms, s2l_ldap_done_fn *cb, void *arg);
s2l_ldap_op *s2l_ldap_delete(s2l_pool *pool, const char *dn, unsigned timeout_ms,
                             s2l_ldap_done_fn *cb, void *arg);

/* Abandons a pending op (ldap_abandon_ext if it reached the server); its callback
 * will not be called. Safe to call from inside another op's callback. */
void s2l_ldap_cancel(s2l_ldap_op *op);

#endif
