/* pool-internal.h — the LDAP pool's private types, shared by pool.c (the pool,
 * its queue and dispatch), conn.c (one connection's state machine), op.c (an
 * operation's lifecycle) and encode.c (JSON <-> libldap structures).
 *
 * Connection states (conn.c):
 *
 *   DOWN --start--> CONNECTING --(fd writable)--> [STARTTLS] --> BINDING --> ROOTDSE --> UP
 *     ^                 |              |               |             |          |
 *     +--- BACKOFF <----+--------------+---------------+-------------+----------+  (any failure)
 *
 *   CONNECTING: libldap's async connect (LDAP_OPT_CONNECT_ASYNC) returned
 *     LDAP_X_CONNECTING; we wait for the fd to become writable and send again.
 *   STARTTLS / BINDING / ROOTDSE: one handshake request in flight (hs_msgid),
 *     all bounded by connect_timeout_ms (the conn timer).
 *   UP: takes ops. BACKOFF: the conn timer fires the next attempt.
 *   recycle (a flag on UP): after vlv_per_conn VLV searches the connection
 *     takes no new ops; once idle it is closed and reopened at once (DOWN,
 *     timer 0, `recycling` until UP again), freeing slapd's sssvlv sessions.
 *
 * Servers (pool.c): the pool has a list of server URIs and one current server
 * (pool->srv). Every attempt connects to the current server and remembers it
 * (conn->srv). A connection is *usable* when it is UP on the current server;
 * ops are dispatched only to usable connections. A connection UP on another
 * server is *draining*: it finishes its ops, takes no new ones and, once idle,
 * is retired (closed and restarted on the current server).
 *
 *   failover: an attempt or connection on the current server fails while no
 *     connection is usable → the next server in the list becomes current and
 *     every connection that is not UP restarts on it at once; after a whole
 *     round of servers failed, the next round waits a jittered exponential
 *     backoff (pool->tried counts failovers since the last success).
 *   failback: failback_after_ms after the pool came up on a server other than
 *     the first, a probe connection (pool->probe, never carries ops) connects
 *     and binds to the first server; if it succeeds the first server becomes
 *     current and the others drain; if not, the probe is tried again later.
 *
 * Op states (op.c) and where the op lives — every live op is on exactly one
 * list, except while its callback runs:
 *
 *   QUEUED    pool->queue       waiting for a connection slot
 *             conn->pinned      ... of one connection (s2l_search_req.pin)
 *   SENT      conn->ops + hash  on the wire, keyed by msgid
 *   FINISHING pool->finishing   result decided; completion scheduled with
 *                               event_active on the op's timer (next loop turn)
 *   CALLBACK  (no list)         its callback is running; freed when it returns
 *
 * Callbacks run only from event callbacks (read handler, op timer), never from
 * a public entry point, so user code is never re-entered from its own calls.
 */
#ifndef S2L_POOL_INTERNAL_H
#define S2L_POOL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>
#include <ldap.h>

#include "s2l/ldap_pool.h"
#include "s2l/ldap_text.h"

typedef struct s2l_conn s2l_conn;

typedef struct op_list {
    s2l_ldap_op *head, *tail;
    unsigned count;
} op_list;

typedef enum { OP_SEARCH, OP_ADD, OP_MODIFY, OP_RENAME, OP_DELETE } op_kind;
typedef enum { OP_QUEUED, OP_SENT, OP_FINISHING, OP_CALLBACK } op_state;

struct s2l_ldap_op {
    s2l_pool *pool;
    op_kind kind;
    op_state state;
    s2l_ldap_op *prev, *next;   /* membership of *list */
    op_list *list;
    s2l_ldap_op *hnext;         /* conn's msgid hash chain (SENT) */
    s2l_conn *conn;             /* SENT */
    int msgid;
    int conn_id;                /* for logs: the connection it was sent on, or -1 */
    struct event *timer;        /* deadline; also event_active'd for deferred completion */
    uint64_t start_us;
    s2l_ldap_done_fn *cb;
    void *arg;

    /* The request, owned copies (inputs may be gone after the start call). */
    char *dn;
    char *filter;               /* search */
    char **attrs;               /* search; NULL = all user attributes */
    int scope, size_limit;
    char *sort_attr;
    unsigned long vlv_offset, vlv_count;
    unsigned long page_size;    /* paged results (RFC 2696) when > 0 */
    struct berval cookie;       /* its request cookie (owned copy) */
    s2l_conn_pin pin;           /* conn 0: any */
    bool window;                /* keep only entries [keep_from, keep_from + keep_count) */
    size_t keep_from, keep_count;
    size_t n_seen;              /* entries received so far */
    struct berval resp_cookie;  /* the paged response's cookie (owned; res.cookie points here) */
    LDAPMod **mods;             /* add / modify */
    char *newrdn, *new_superior;
    bool delete_old_rdn;
    bool permissive;            /* modify: send the permissive-modify control */
    bool relax;                 /* modify: send the Relax Rules control */
    char **post_read;           /* add / modify: post-read control attributes, or NULL */
    char *assertion;            /* modify / delete: assertion control filter (RFC 4528), or NULL */

    /* The result being built. */
    json_t *entries;
    bool entries_oom;           /* an entry could not be stored: completes with LDAP_NO_MEMORY */
    s2l_ldap_result res;
    char *diag, *matched;       /* owned; res points at them */
};

typedef enum {
    CONN_DOWN,
    CONN_CONNECTING,
    CONN_STARTTLS,
    CONN_BINDING,
    CONN_ROOTDSE,
    CONN_UP,
    CONN_BACKOFF,
} conn_state;

struct s2l_conn {
    s2l_pool *pool;
    unsigned id;
    conn_state state;
    LDAP *ld;
    evutil_socket_t fd;
    struct event *rev;          /* EV_READ|EV_PERSIST on fd (after connect) */
    struct event *wev;          /* EV_WRITE one-shot: connect completion / write backpressure */
    struct event *timer;        /* handshake deadline, or backoff delay */
    unsigned gen;               /* bumped on every teardown: detects a conn dying under a loop */
    int hs_msgid;               /* STARTTLS / BINDING / ROOTDSE request */
    char **rootdse;             /* supportedControl values being read (NULL-terminated) */
    size_t n_rootdse;
    bool rootdse_seen;
    bool write_blocked;         /* libldap holds a partly written request */
    bool was_up;                /* has been UP before: the next UP counts as a reconnect */
    bool recycle;               /* UP but takes no new ops: closed and reopened once idle */
    bool recycling;             /* reopening after a recycle (counts as up for callers) */
    unsigned vlv_sent;          /* VLV searches sent in this session */
    bool probe;                 /* the pool's failback probe: connects and binds, never carries ops */
    unsigned srv;               /* index of the server of the current attempt / session */
    unsigned failures;          /* consecutive failed attempts (backoff exponent) */
    uint64_t next_attempt_us;   /* BACKOFF: when the next attempt is due */
    unsigned up_epoch;          /* BACKOFF: s2l_pool_up_epoch_() when it began */
    uint64_t attempt_start_us;

    op_list ops;                /* SENT ops */
    op_list pinned;             /* QUEUED ops that must go out on this connection */
    s2l_ldap_op **buckets;      /* msgid hash, nbuckets is a power of two */
    unsigned nbuckets;
};

struct s2l_pool {
    struct event_base *base;
    char **uris;                /* the servers, in order of preference (NULL-terminated) */
    unsigned nservers;
    unsigned srv;               /* the current server: every new attempt connects to it */
    unsigned tried;             /* failovers since a connection last came up on the current server */
    char *bind_dn, *bind_password, *tls_ca_file;
    unsigned timeout_ms, connect_timeout_ms, backoff_min_ms, backoff_max_ms, max_ops_per_conn, vlv_per_conn;
    unsigned failback_after_ms; /* UINT_MAX = never */
    bool starttls, tls_verify;
    struct event *failback_timer;
    s2l_conn probe;             /* failback probe to uris[0] (probe.probe = true) */

    s2l_conn *conns;
    unsigned nconns;
    op_list queue;              /* QUEUED ops, FIFO */
    unsigned queue_max;
    op_list finishing;          /* FINISHING ops */
    bool dispatching;

    char **controls;            /* supportedControl OIDs of the root DSE (NULL-terminated) */
    s2l_pool_up_fn *up_fn;      /* s2l_pool_set_up_hook */
    void *up_arg;
    struct event *up_ev;        /* runs up_fn on the next loop turn */
    char down_reason[160];      /* why no connection is up, for results' diag */
    uint64_t rng;
    s2l_pool_stats stats;       /* connections_up is derived when read */
};

/* ---- pool.c ---- */
uint64_t s2l_pool_random_(s2l_pool *pool);
/* Connections UP, or reopening after a recycle (they will be back at once). */
unsigned s2l_pool_up_count_(const s2l_pool *pool);
/* Sends queued ops on UP connections with free slots (pinned ops on their
 * own connection) and recycles idle connections marked for it. Never runs
 * callbacks. */
void s2l_pool_dispatch_(s2l_pool *pool);
/* A connection went down: if none is up any more, queued ops fail (deferred). */
void s2l_pool_conn_lost_(s2l_pool *pool);
/* An attempt or a session of c failed (c is torn down, its ops failed): picks
 * the server and delay of c's next attempt, failing over when the current
 * server has no usable connection left. */
void s2l_pool_conn_failed_(s2l_pool *pool, s2l_conn *c);
/* c came UP: resets the failover count and arms the failback timer. */
void s2l_pool_conn_up_(s2l_pool *pool, s2l_conn *c);
/* The failback probe bound (up) or failed (!up); it is already torn down. */
void s2l_pool_probe_done_(s2l_pool *pool, bool up);
/* Jittered exponential delay for the given number of consecutive failures. */
unsigned s2l_pool_backoff_ms_(s2l_pool *pool, unsigned failures);
/* Counts, process-wide, the moments a pool got its first usable connection
 * back: the other pools of the process (one per event-loop worker) then
 * leave their backoff at once instead of waiting it out (conn.c). */
unsigned s2l_pool_up_epoch_(void);
/* Whether c is UP on the current server (may take ops). */
bool s2l_pool_conn_usable_(const s2l_pool *pool, const s2l_conn *c);
/* c came UP (not after a recycle): when it is the only usable connection,
 * the pool was not usable before (first bind, outage, server switch) and the
 * up hook is scheduled. */
void s2l_pool_notify_up_(s2l_pool *pool, s2l_conn *c);
/* Replaces the remembered root DSE controls (takes ownership of list). */
void s2l_pool_set_controls_(s2l_pool *pool, char **list);

void s2l_op_list_push_(op_list *l, s2l_ldap_op *op);
void s2l_op_list_push_front_(op_list *l, s2l_ldap_op *op);
s2l_ldap_op *s2l_op_list_pop_(op_list *l);
void s2l_op_list_remove_(s2l_ldap_op *op);

/* ---- conn.c ---- */
int s2l_conn_init_(s2l_conn *c, s2l_pool *pool, unsigned id);
void s2l_conn_fini_(s2l_conn *c);
void s2l_conn_start_(s2l_conn *c);
/* Closes c without counting a failure (it must have no ops) and schedules its
 * next attempt in delay_ms; the attempt connects to the then current server. */
void s2l_conn_restart_(s2l_conn *c, unsigned delay_ms);
/* State BACKOFF, next attempt in delay_ms (c must be torn down). */
void s2l_conn_retry_in_(s2l_conn *c, unsigned delay_ms);
const char *s2l_conn_uri_(const s2l_conn *c);
/* Tears the connection down (unbind), fails its ops with rc (deferred) and
 * schedules a reconnect. */
void s2l_conn_fail_(s2l_conn *c, int rc, const char *why);
/* msgid table of SENT ops. */
void s2l_conn_track_(s2l_conn *c, s2l_ldap_op *op);
void s2l_conn_untrack_(s2l_conn *c, s2l_ldap_op *op);
/* Backpressure: libldap could not write everything; wait for EV_WRITE. */
void s2l_conn_block_writes_(s2l_conn *c);
/* Whether a tiny request (abandon) can be written without risk of a partial write. */
bool s2l_conn_can_write_small_(const s2l_conn *c);
/* Closes an idle connection marked `recycle` and reopens it at once. */
void s2l_conn_recycle_(s2l_conn *c);

/* ---- op.c ---- */
typedef enum { SEND_OK, SEND_BUSY, SEND_BROKEN, SEND_FAILED } send_status;
/* Sends op on c; on SEND_FAILED *rc holds the error for the op, on SEND_BROKEN
 * the connection's error. */
send_status s2l_op_send_(s2l_conn *c, s2l_ldap_op *op, int *rc);
/* Handles a response for a SENT op (takes msg). */
void s2l_op_handle_msg_(s2l_conn *c, s2l_ldap_op *op, LDAPMessage *msg);
/* Schedules completion with rc on the next loop turn (callers may be user code). */
void s2l_op_finish_later_(s2l_ldap_op *op, int rc, const char *diag);
/* Frees an op without calling its callback (destroy/cancel). */
void s2l_op_free_(s2l_ldap_op *op);

/* ---- encode.c ---- */
/* JSON → LDAPMod** (NULL-terminated, free with s2l_mods_free_); NULL + *rc on error. */
LDAPMod **s2l_mods_from_attrs_(const json_t *attrs, int *rc);
LDAPMod **s2l_mods_from_json_(const json_t *mods, int *rc);
void s2l_mods_free_(LDAPMod **mods);
/* One search entry as {"dn":..., "attrs":{...}} (new reference), NULL on error. */
json_t *s2l_entry_to_json_(LDAP *ld, LDAPMessage *entry);
/* The entry carried by a pre/post-read response control (RFC 4527), or NULL. */
json_t *s2l_entry_from_read_control_(const LDAPControl *ctrl);
/* The value of a post-read request control for attrs (malloc'd into *out). LDAP rc. */
int s2l_read_control_value_(char *const *attrs, struct berval *out);

#endif
