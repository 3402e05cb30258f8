/* harness.h — blocking helpers for integration tests (tests/integration/it_*.c):
 * a private slapd, the gateway binary, a plain-socket HTTP client, direct LDAP
 * checks and counting assertions.
 *
 * Everything here is synchronous and single-threaded: a test reads top to
 * bottom. Failures inside helpers are printed to stderr with the reason (log
 * tails of slapd / the gateway included) and reported through the return value;
 * helpers that check something on the test's behalf (h_gw_stop) also count a
 * failed assertion.
 *
 * Processes: slapd and the gateway run as foreground children. They are killed
 * when the test process exits (atexit), is interrupted (SIGINT/SIGTERM/SIGHUP/
 * SIGQUIT) or dies in any other way (PR_SET_PDEATHSIG), so nothing lingers.
 * Temporary folders (mkdtemp under $TMPDIR or /tmp) are removed by
 * h_slapd_destroy (and at exit) unless S2L_KEEP_TMP=1 is set (then their path
 * is printed); a test killed by a signal leaves its folder behind.
 *
 * Ownership: h_slapd_start/h_gw_start return objects owned by the caller
 * (h_slapd_destroy, h_gw_stop/h_gw_kill free them). Destroy gateways before
 * the slapd they use. Returned strings (char *) and json_t * are owned by the
 * caller (free / json_decref) unless documented as borrowed (const char *
 * returns are borrowed from the object and live as long as it). h_resp owns
 * its fields: release with h_resp_free.
 *
 * A test, in short:
 *
 *   int main(void)
 *   {
 *       h_slapd *s = h_slapd_start(NULL);          // ppolicy, memberof, sssvlv, monitor
 *       H_REQUIRE(s != NULL);
 *       h_gw *g = h_gw_start(s, NULL);             // or extra JSON: "{\"limits\":{...}}"
 *       H_REQUIRE(g != NULL);
 *       h_resp r = h_http(g, "POST", "/Users", "{\"userName\":\"jdoe\", ...}", NULL);
 *       H_CHECK_STATUS(r, 201);
 *       json_t *e = h_ldap_entry(s, "uid=jdoe," H_PEOPLE);
 *       H_CHECK_STR(h_ldap_attr(e, "entryUUID"), h_jstr(r.json, "id"));
 *       json_decref(e);
 *       h_resp_free(&r);
 *       h_gw_stop(g);                              // counts: clean exit, no sanitizer report
 *       h_slapd_destroy(s);
 *       return H_DONE();
 *   }
 *
 * Environment:
 *   S2L_KEEP_TMP=1          keep temporary folders (slapd db, configs, logs)
 *   S2L_SLAPD_DEBUG         slapd's -d level instead of "none"/"stats", for
 *                           diagnosis (e.g. "stats,sync" for replication);
 *                           keep "stats" in it for tests that read that log
 *   S2L_GATEWAY_WRAPPER     command prefix for the gateway, e.g. "valgrind -q"
 *                           (start and stop deadlines are multiplied by 10)
 *   S2L_HTTP_TIMEOUT_MS     per-request deadline of the HTTP client (default 60000)
 *   S2L_REQUIRE_GATEWAY=1   tests that would skip because the gateway binary
 *                           cannot run yet fail instead (tests/run.sh sets it)
 */
#ifndef S2L_HARNESS_H
#define S2L_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#define H_SUFFIX "dc=example,dc=org"
#define H_ROOTDN "cn=admin,dc=example,dc=org"
#define H_ROOTPW "secret"
#define H_PEOPLE "ou=people,dc=example,dc=org"
#define H_GROUPS "ou=groups,dc=example,dc=org"
#define H_POLICY "cn=default,ou=policies,dc=example,dc=org"
#define H_TOKEN "test-token-0123456789abcdef"

/* ------------------------------------------------------------------ assertions */

/* Counters shared by the macros and by helpers that check on the test's behalf. */
extern int h_passed_, h_failed_;

void h_check_(bool ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void h_check_int_(long long got, long long want, const char *expr, const char *file, int line);
void h_check_str_(const char *got, const char *want, const char *expr, const char *file, int line);
struct h_resp;
void h_check_status_(const struct h_resp *r, int want, const char *file, int line);
void h_require_(bool ok, const char *expr, const char *file, int line);
int h_done_(void);

#define H_CHECK(cond) h_check_((cond), __FILE__, __LINE__, "CHECK failed: %s", #cond)
#define H_CHECK_INT(got, want) h_check_int_((long long)(got), (long long)(want), #got, __FILE__, __LINE__)
#define H_CHECK_STR(got, want) h_check_str_((got), (want), #got, __FILE__, __LINE__)
/* resp is an h_resp (not a pointer); prints the method, path, status, err and body on mismatch. */
#define H_CHECK_STATUS(resp, want) h_check_status_(&(resp), (want), __FILE__, __LINE__)
/* Counts a failure and ends the test at once (prints the summary, exits 1). */
#define H_REQUIRE(cond) h_require_((cond), #cond, __FILE__, __LINE__)
/* Prints "SKIP: ..." (no counter changes). */
#define H_SKIP(...) (fprintf(stderr, "SKIP: "), fprintf(stderr, __VA_ARGS__), fputc('\n', stderr))
/* Last statement of main(): prints "N passed, N failed", cleans up, exit status. */
#define H_DONE() h_done_()

/* Milliseconds on a monotonic clock, for timing and deadlines. */
double h_now_ms(void);

/* ------------------------------------------------------------------ slapd */

typedef struct h_slapd h_slapd;

typedef struct h_slapd_opts {
    bool ppolicy;   /* ppolicy overlay + default policy cn=default,ou=policies (pwdLockout TRUE) */
    bool memberof;  /* memberof overlay: groupOfNames/member -> memberOf */
    bool refint;    /* refint overlay on member and manager */
    bool sssvlv;    /* server-side sort + VLV (also takes over paged results) */
    bool monitor;   /* cn=Monitor, needed by h_slapd_op_counts */
    bool dbnosync;  /* no fsync per write: ~10x faster adds; data survives SIGKILL, not a power cut */
    bool stats_log; /* "-d stats": one line per operation in h_slapd_log_path (slower) */
    bool no_base;   /* start with an empty database (no base entries) */
    int port;       /* listen on this loopback port (0 = a free one) */
    /* Multi-provider replication (syncprov + syncrepl, "multiprovider on", see
     * tests/slapd/slapd.conf.in): this provider's serverID (0 = no replication),
     * the peer's serverID and URI. The peer may start later: syncrepl retries
     * every second. Start the second provider with no_base: it gets the base
     * entries (and everything else) from the first. */
    int server_id;
    int peer_id;
    const char *peer_uri;
} h_slapd_opts;

/* Gateway tests' default: ppolicy, memberof (the default mapping reads a user's
 * groups from memberOf), sssvlv, monitor and dbnosync on; refint and the rest off. */
h_slapd_opts h_slapd_defaults(void);
/* Every overlay (ppolicy, memberof, refint, sssvlv), monitor and dbnosync. */
h_slapd_opts h_slapd_all(void);

/* Renders tests/slapd/slapd.conf.in (the schema schemas/ldap/scim2ldap.schema is
 * included when it exists), checks it with slaptest, starts slapd on a free
 * loopback port, waits until it answers and loads the base entries
 * (tests/slapd/base.ldif.in). o NULL = h_slapd_defaults(). NULL on failure. */
h_slapd *h_slapd_start(const h_slapd_opts *o);
/* SIGTERM and wait (bounded; SIGKILL past it). 0 on a clean exit. */
int h_slapd_stop(h_slapd *s);
/* SIGKILL and wait: a crash. */
int h_slapd_kill(h_slapd *s);
/* Sends sig (e.g. SIGSTOP / SIGCONT: a hung server) to slapd; 0 if it runs and got it. */
int h_slapd_signal(h_slapd *s, int sig);
/* Starts slapd again with the same folder and port (stops it first if it runs).
 * 0 once it answers. */
int h_slapd_restart(h_slapd *s);
bool h_slapd_running(const h_slapd *s);
/* Stops slapd and removes its folder (see S2L_KEEP_TMP). NULL is fine. */
void h_slapd_destroy(h_slapd *s);

const char *h_slapd_uri(const h_slapd *s);      /* "ldap://127.0.0.1:PORT/" */
/* A loopback TCP port nobody listens on right now (for h_slapd_opts.port). */
int h_free_port(void);
int h_slapd_port(const h_slapd *s);
const char *h_slapd_dir(const h_slapd *s);      /* the temporary folder */
const char *h_slapd_log_path(const h_slapd *s); /* slapd's stderr */

/* Operations slapd started since it last (re)started, read from cn=Monitor
 * (needs opts.monitor), NOT counting the harness's own operations (h_ldap_*,
 * readiness probes, these reads). Compare two readings around a gateway
 * request to count what it sent. 0, or -1 with a message. */
typedef struct h_op_counts {
    long search, add, modify, del, modrdn, bind, compare;
} h_op_counts;
int h_slapd_op_counts(h_slapd *s, h_op_counts *out);

/* ------------------------------------------------------------------ other directories */

/* Throwaway Samba AD DC and 389 Directory Server instances from Debian's
 * packages (samba-ad-dc samba-ad-provision ldb-tools; 389-ds-base), run as
 * root, on loopback, with all state in a temporary folder (recipes in
 * ../shared/docs/DIRECTORY-SERVERS.md). They come back as h_slapd handles, so
 * every h_ldap_* check works on them (binding as their administrator), and
 * h_gw_start points the gateway at them with their mapping
 * (mappings/active-directory.json, mappings/389ds.json). h_slapd_destroy stops
 * them and removes the folder; so does the exit of the test process, and a
 * killed test takes them along (PR_SET_PDEATHSIG, process groups).
 * h_slapd_restart and h_slapd_op_counts are for slapd only.
 *
 * Provisioning costs seconds (Samba ~5 s, 389-DS ~8 s): start one instance
 * per test executable and share it between the test's cases. */

typedef enum { H_DIR_SLAPD = 0, H_DIR_SAMBA, H_DIR_389DS } h_dir_kind;

/* Samba AD DC: realm EXAMPLE.TEST on its own address 127.0.0.N (its ports are
 * fixed: 389, 636), LDAPS with a certificate of a test CA (h_slapd_uri is
 * "ldaps://127.0.0.N"), the domain's default password policy, and the
 * containers of the mapping, OU=People and OU=Groups. */
#define H_AD_SUFFIX "DC=example,DC=test"
#define H_AD_PEOPLE "OU=People,DC=example,DC=test"
#define H_AD_GROUPS "OU=Groups,DC=example,DC=test"
#define H_AD_ADMIN "CN=Administrator,CN=Users,DC=example,DC=test"
#define H_AD_ADMINPW "Adm1n-Passw0rd!"
h_slapd *h_ad_start(void);

/* 389-DS 2.x: suffix dc=example,dc=org (H_SUFFIX) with ou=people and ou=groups
 * (H_PEOPLE, H_GROUPS), on 127.0.0.1 and a free port, plain LDAP, the MemberOf
 * and USN plugins on, schemas/ldap/scim2ldap-389ds.ldif loaded. */
#define H_389_ADMIN "cn=Directory Manager"
#define H_389_ADMINPW "Dm-Secret123!"
h_slapd *h_389ds_start(void);

/* NULL when this machine can run that server; otherwise why not (packages
 * missing, not root), for a SKIP. Tests fail instead when
 * S2L_REQUIRE_DIRECTORIES=1 (tests/run.sh sets it). */
const char *h_ad_unavailable(void);
const char *h_389ds_unavailable(void);
bool h_require_directories(void);

h_dir_kind h_dir_kind_of(const h_slapd *s);
const char *h_dir_suffix(const h_slapd *s);   /* the naming context */
const char *h_dir_ca_file(const h_slapd *s);  /* PEM trust anchor for ldaps://, or NULL */

/* objectGUID of an entry from h_ldap_entry/h_ldap_search as the SCIM id
 * string (malloc'd), NULL if absent. */
char *h_ldap_guid(const json_t *entry);

/* ------------------------------------------------------------------ LDAP checks */

/* All run as the rootdn over one synchronous connection per slapd (reopened
 * after a restart). Entries use the JSON shape of mapping.h:
 *   {"dn": "...", "attrs": {"<name>": ["value", ...], ...}}
 * with attribute names in LOWER CASE (LDAP names are case-insensitive; this
 * makes lookups predictable) and values as strings; a value that is not
 * UTF-8 text is given as "base64:<base64>". */

/* One entry with user ("*") and operational ("+") attributes: entryUUID,
 * entryCSN, memberOf, pwdAccountLockedTime, createTimestamp, ...
 * NULL if it does not exist (or on error, printed). dn "" is the root DSE. */
json_t *h_ldap_entry(h_slapd *s, const char *dn);
/* Subtree search; attrs NULL-terminated or NULL for "*" and "+". Array of
 * entries sorted by DN; NULL on error (printed). */
json_t *h_ldap_search(h_slapd *s, const char *base, const char *filter, const char *const *attrs);
/* Number of entries matching filter under base (subtree); -1 on error. */
long h_ldap_count(h_slapd *s, const char *base, const char *filter);
/* DN of the only entry matching filter under base (malloc'd); NULL if none or several. */
char *h_ldap_find_dn(h_slapd *s, const char *base, const char *filter);
/* First value of attr in entry (borrowed from entry), NULL if absent. */
const char *h_ldap_attr(const json_t *entry, const char *attr);
/* Whether entry holds value for attr (values compared exactly, or case-insensitively if nocase). */
bool h_ldap_has_value(const json_t *entry, const char *attr, const char *value, bool nocase);

/* Polls (every 20 ms, up to timeout_ms) until entry dn has (present) or lacks
 * (!present) value for attr; whether that happened. For effects slapd applies
 * after answering, such as refint's clean-up of references to a deleted entry. */
bool h_ldap_wait_value(h_slapd *s, const char *dn, const char *attr, const char *value, bool present,
                       int timeout_ms);

/* Applies LDIF records in order: changetype add (default), modify (add:/delete:/
 * replace: sections ended by "-"), delete. "attr:: base64" and folded lines are
 * understood; "attr:< url" is not. Number of records applied, or -1 at the first
 * failure (printed with the LDAP error). */
int h_ldap_ldif(h_slapd *s, const char *ldif);
/* Like h_ldap_ldif for one record, returning its LDAP result code (0 = success) so
 * a test can expect a specific failure. */
int h_ldap_ldif_rc(h_slapd *s, const char *ldif);
/* Adds one entry given as {"dn","attrs"}; LDAP result code. */
int h_ldap_add_entry(h_slapd *s, const json_t *entry);
/* Deletes every entry below base (not base itself), deepest first. Number
 * deleted or -1. */
long h_ldap_delete_children(h_slapd *s, const char *base);

/* Bulk add: gen(i, ctx) returns a new {"dn","attrs"} entry for i in [0, n)
 * (NULL = stop with an error). Adds are pipelined (many in flight on one
 * connection), which gives thousands of adds per second. 0 when all n succeeded. */
typedef json_t *h_entry_gen(size_t i, void *ctx);
int h_ldap_add_gen(h_slapd *s, size_t n, h_entry_gen *gen, void *ctx);
/* n inetOrgPerson users uid=<prefix><6-digit i>,ou=people for i in
 * [first, first+n): cn "<prefix> User <i>", sn "User<i>", givenName <prefix>,
 * mail <uid>@example.org. 0 on success. */
int h_ldap_add_users(h_slapd *s, const char *prefix, size_t first, size_t n);
/* DN of such a user (malloc'd). */
char *h_ldap_user_dn(const char *prefix, size_t i);
/* groupOfNames cn=<cn>,ou=groups whose members are the users <prefix>[first, first+n)
 * added in one operation (n >= 1: groupOfNames needs a member). 0 on success. */
int h_ldap_add_group(h_slapd *s, const char *cn, const char *prefix, size_t first, size_t n);

/* Simple bind as dn on a fresh connection: the LDAP result code (49 = invalid
 * credentials, which is also what a ppolicy lock answers); -1 if no connection. */
int h_ldap_bind_rc(h_slapd *s, const char *dn, const char *password);
bool h_ldap_bind_ok(h_slapd *s, const char *dn, const char *password);

/* Canonical text of the whole DIT below the suffix: entries sorted by DN,
 * attributes by name, values sorted; user attributes plus entryUUID, entryCSN,
 * memberOf and pwdAccountLockedTime, so any write shows (even rewriting a value
 * with itself changes entryCSN). Compare two snapshots with strcmp to assert
 * "directory unchanged"; h_snapshot_same shows the first difference. malloc'd. */
char *h_ldap_snapshot(h_slapd *s);
/* true if equal; otherwise prints the first differing line of each and returns false. */
bool h_snapshot_same(const char *before, const char *after);

/* ------------------------------------------------------------------ gateway */

typedef struct h_gw h_gw;

/* Writes a config (listen on a free loopback port, base_path /scim/v2, token
 * H_TOKEN, ldap = s as rootdn, mapping = <repo>/mappings/openldap.json, schemas
 * = <repo>/schemas/scim) merged with extra_config_json (an object; nested
 * objects merge key by key, other values replace; NULL = none), starts
 * S2L_BINARY --config FILE (prefixed by S2L_GATEWAY_WRAPPER) with stdout and
 * stderr in a log file, and waits until the port accepts connections and,
 * while the directory runs, until the gateway's LDAP pool has bound (its log
 * says "event=up"; 20 s, scaled) and has read the directory's subschema
 * ("event=subschema"), so that the first directory request does not meet a
 * 503 from a pool still binding, nor counts the subschema's searches. The wait needs log_level info or
 * debug (the default); above that it is skipped. NULL on failure (the log tail
 * is printed), also when a running directory never got a bound connection. */
h_gw *h_gw_start(h_slapd *s, const char *extra_config_json);
/* h_gw_start without the wait for the pool: for a gateway pointed at a
 * directory that is down or refuses it (it answers 503 until it binds). */
h_gw *h_gw_start_unbound(h_slapd *s, const char *extra_config_json);
/* SIGTERM, wait (bounded), then free. Counts one assertion: it fails on a
 * non-zero exit, a signal, a timeout or a sanitizer/valgrind report in the log
 * (whose tail is then printed). Returns whether that assertion passed. NULL
 * counts as a failure; an attached handle is just freed. */
bool h_gw_stop(h_gw *g);
/* SIGKILL, wait, free; no checks. */
void h_gw_kill(h_gw *g);
/* A handle for a server that is already running (e.g. started by hand), so the
 * HTTP client can talk to it. host_port "127.0.0.1:8080"; token NULL = H_TOKEN. */
h_gw *h_gw_attach(const char *host_port, const char *base_path, const char *token);

const char *h_gw_base_url(const h_gw *g);   /* "http://127.0.0.1:PORT/scim/v2" */
const char *h_gw_base_path(const h_gw *g);  /* "/scim/v2" */
const char *h_gw_token(const h_gw *g);
int h_gw_port(const h_gw *g);
/* The gateway's process id (for /proc/<pid>/status); 0 for attached handles. */
int h_gw_pid(const h_gw *g);
const char *h_gw_config_path(const h_gw *g); /* NULL for attached handles */
const char *h_gw_log_path(const h_gw *g);    /* NULL for attached handles */
/* Sends sig to the running gateway (SIGHUP: reload). 0 or -1. */
int h_gw_signal(h_gw *g, int sig);
/* Polls the gateway's log (every 20 ms, up to timeout_ms) until needle occurs
 * at least `count` times; whether it did. */
bool h_gw_log_wait(h_gw *g, const char *needle, int count, int timeout_ms);
/* Whether `S2L_BINARY --check-config` accepts the configuration h_gw_start would
 * write: lets a test skip gateway parts while the binary is not there yet. */
bool h_gw_can_run(h_slapd *s, char *why, size_t whylen);

/* ------------------------------------------------------------------ LDAP proxy */

/* A loopback TCP forwarder in front of a server (a thread of the test
 * process), for putting the gateway between a real slapd and a fault: it
 * counts LDAP requests by protocolOp tag (0x63 search, 0x66 modify, 0x68 add,
 * 0x4a delete, 0x6c modDN, 0x50 abandon) and can hold one back — that request
 * and everything after it on its connection wait, unanswered, until released.
 * Server-to-client bytes pass unchanged. Point the gateway's ldap.uri at
 * h_proxy_uri. */
typedef struct h_proxy h_proxy;

/* Forwards to 127.0.0.1:target_port; NULL on failure (printed). */
h_proxy *h_proxy_start(int target_port);
const char *h_proxy_uri(const h_proxy *p); /* "ldap://127.0.0.1:PORT/" */
/* Holds the nth request with this tag from now on (nth = 1: the next one). */
void h_proxy_hold_at(h_proxy *p, int tag, int nth);
/* Requests with this tag forwarded or held so far. */
int h_proxy_count(h_proxy *p, int tag);
/* Whether a request is being held. */
bool h_proxy_holding(h_proxy *p);
/* Forwards what is held (waits until it has been sent) and stops holding. */
void h_proxy_release(h_proxy *p);
/* h_proxy_release, arming h_proxy_hold_at(p, tag, nth) in the same step, so
 * that a request the released one causes cannot slip through before it. */
void h_proxy_release_then_hold(h_proxy *p, int tag, int nth);
/* Closes every connection and frees p. NULL is fine. */
void h_proxy_stop(h_proxy *p);

/* ------------------------------------------------------------------ HTTP client */

typedef struct h_header_kv {
    char *name;
    char *value;
} h_header_kv;

typedef struct h_resp {
    int status;            /* 0: no (complete) response; err says why */
    char err[192];
    char *method;          /* what was sent, for messages */
    char *target;
    h_header_kv *headers;  /* in arrival order */
    size_t n_headers;
    char *body;            /* NUL-terminated (the body may hold NULs: use body_len) */
    size_t body_len;
    json_t *json;          /* parsed body, NULL if empty or not JSON */
    double ms;             /* time from connect to the complete response */
} h_resp;

/* One request on a fresh connection ("Connection: close"). path_and_query is
 * appended to the gateway's base path ("/Users?filter=..."; encode values with
 * h_urlencode). extra_headers: NULL-terminated "Name: value" strings, or NULL.
 * "Authorization: Bearer <token>" is added unless an Authorization header is
 * given; "Authorization:" with an empty value sends none. With a body,
 * "Content-Type: application/scim+json" is added unless given. Responses with
 * Content-Length, chunked encoding or ending at close are read. */
h_resp h_http(h_gw *g, const char *method, const char *path_and_query, const char *body,
              const char *const *extra_headers);
/* Same, with path_and_query used as is (not under the base path). */
h_resp h_http_at(h_gw *g, const char *method, const char *path_and_query, const char *body,
                 const char *const *extra_headers);
/* Serialises body (borrowed) and sends it with h_http. */
h_resp h_http_json(h_gw *g, const char *method, const char *path_and_query, const json_t *body);
/* Sends bytes exactly as given and reads whatever comes back (status 0 if the
 * server closes without a response). For malformed requests. */
h_resp h_http_raw(h_gw *g, const void *request, size_t len);
/* Header value by name (case-insensitive), borrowed from r; NULL if absent. */
const char *h_header(const h_resp *r, const char *name);
void h_resp_free(h_resp *r);

/* Percent-encodes everything but RFC 3986 unreserved characters (malloc'd). */
char *h_urlencode(const char *s);

/* JSON path lookup: "name.givenName", "Resources[0].id", "emails[1].value".
 * Borrowed; NULL if any step is missing. */
json_t *h_jget(const json_t *j, const char *path);
const char *h_jstr(const json_t *j, const char *path); /* NULL unless a string */
long long h_jint(const json_t *j, const char *path, long long missing);

#endif
