/* common.h — the shape of a resource operation, and what the verbs share
 * (internal to gateway/resources).
 *
 * One operation = one typed state and one step enum, advanced by one function
 * (the model: SSSD's tevent send/done/recv, and our own ldap/conn.c):
 *
 *   typedef struct get_op {
 *       res_op base;                      // first: the shared part
 *       enum { GET_FETCH, GET_FETCHED } step;
 *       ...                               // what this verb's steps keep
 *   } get_op;
 *
 *   static void get_advance(res_op *base, const s2l_ldap_result *res)
 *   {
 *       get_op *op = (get_op *)base;
 *       for (;; res = NULL) {
 *           switch (op->step) {
 *           case GET_FETCH:               // start async work: set the next step, start, return
 *               op->step = GET_FETCHED;
 *               res_fetch_by_id(base, attrs);
 *               return;
 *           case GET_FETCHED:             // a completion: res is its result
 *               ...
 *               break;                    // synchronous: go on with the next step
 *           }
 *       }
 *   }
 *
 * Rules:
 *  - A step that starts asynchronous work sets op->step to the step that
 *    handles its completion *before* starting it, then returns. Every
 *    completion calls the advance function again with its result; only the
 *    step right after a start sees `res` (LDAP results: always set; a
 *    sub-operation: NULL = success). Nothing completes inside a start call.
 *  - Sub-operation start functions return 1 (started: the completion advances
 *    the op later), 0 (nothing to do: go on at once, res = NULL) or -1 (the
 *    request has been answered, e.g. out of memory: return at once).
 *  - Fan-out steps (one LDAP op per item) count base.pending down in their
 *    per-item callbacks and advance when it reaches 0.
 *  - The state is the request's (req->state): it owns everything a step
 *    allocates, so however the request ends (reply, deadline, error) the state
 *    is freed exactly once, after the request cancelled its pending LDAP ops.
 *  - A step that replies returns at once: after a reply the op is gone.
 */
#ifndef S2L_RESOURCES_COMMON_H
#define S2L_RESOURCES_COMMON_H

#include <stdbool.h>
#include <jansson.h>

#include "../http/request.h"
#include "s2l/ldap_text.h"
#include "s2l/mapping.h"
#include "s2l/resource.h"

typedef struct res_op res_op;

/* Runs an operation's steps from op->step; res: see the rules above. */
typedef void res_advance_fn(res_op *op, const s2l_ldap_result *res);

/* Sub-operation: the DNs that entries hold in reference attributes resolved
 * into op->refs (users' groups found by search first, big groups through
 * memberOf). Its state, inside every op. */
typedef struct res_refs {
    int step;
    res_advance_fn *done;        /* the op's advance function to continue with */
    json_t *entries;             /* the entries being resolved (a reference of ours) */
    json_t *dns;                 /* DNs left after the memberOf search */
    struct refs_group_search *groups; /* one per entry, for users' groups by search */
    unsigned pending;
} res_refs;

/* Sub-operation that ends the request with one resource: read it back (when
 * a write gave no post-read entry), resolve its references, render, reply. */
typedef struct res_reply {
    int step;
    int status;
    json_t *entry;               /* a reference of ours */
    char *dn;                    /* read back from here */
} res_reply;

struct res_op {
    s2l_req *req;
    const s2l_rmap *rm;          /* the routed resource type */
    res_advance_fn *advance;     /* the verb's state machine */
    void (*fini)(res_op *op);    /* frees the verb's own fields (not the op) */
    s2l_projection *proj;        /* attributes / excludedAttributes, or NULL (defaults) */
    char **read_attrs;           /* LDAP attributes for proj (res_output_attrs), or NULL */
    json_t *refs;                /* DN → {"id","type","display"}; NULL until a look-up fills it */
    json_t *ids;                 /* SCIM id → DN; NULL until a look-up fills it */
    unsigned pending;            /* fan-out: completions the current step waits for */
    res_refs refs_op;
    res_reply reply_op;
};

/* Allocates an operation of `size` bytes (a struct starting with res_op) for
 * the routed request and makes it the request's state. NULL (after a 503
 * reply) when out of memory. */
void *res_op_create(s2l_req *req, size_t size, res_advance_fn *advance, void (*fini)(res_op *op));

/* LDAP completion for ops whose argument is the op: advances it with res. */
void res_on_ldap(s2l_req *req, const s2l_ldap_result *res, void *arg);
/* Lookup completion (lookup.h) whose argument is the op: advances it. */
void res_on_lookup(void *arg, const s2l_ldap_result *err);

const s2l_rmap_info *res_info(const res_op *op);
const s2l_resource_type *res_rtype(const res_op *op);
/* Whether the type has delta attributes (group members). */
bool res_is_group_like(const res_op *op);

/* ---- replies ---- */

void res_oom(res_op *op);
/* Replies with *err, or with a fallback when the pure module that failed did
 * not say why (it always should; this keeps a bug from becoming a 500). */
void res_fail(res_op *op, s2l_error *err, int status, const char *scim_type, const char *detail);
/* Ends the request with the resource for entry (a borrowed entry; NULL: read
 * it back from dn first), references resolved, with status; ETag and, for
 * 201, Location. */
void res_reply_resource(res_op *op, const json_t *entry, const char *dn, int status);

/* ---- checks (each replies and returns false when the request must end) ---- */

/* Fails fast while no LDAP connection is up: the IdP retries after Retry-After. */
bool res_directory_up(res_op *op);
/* attributes / excludedAttributes into op->proj. */
bool res_parse_projection(res_op *op);
/* The request's If-Match against the entry's version (412 when stale). */
bool res_if_match(res_op *op, const json_t *entry);
/* The body normalised (POST / PUT) into a new reference in *out. */
bool res_normalize_body(res_op *op, s2l_norm_mode mode, json_t **out);

/* ---- LDAP steps ---- */

/* LDAP attributes to read for the response: the mapping's precomputed list
 * when the request has no projection, else built for it. NULL when out of memory. */
char *const *res_output_attrs(res_op *op);
/* Starts the search for the entry with the request's id, reading attrs; the
 * op advances with its result (res_fetched reads it). -1 when the request was
 * answered (a malformed id is 404, out of memory 503). */
int res_fetch_by_id(res_op *op, char *const *attrs);
/* The entry found (borrowed from res), or NULL after replying 404 / the LDAP error. */
json_t *res_fetched(res_op *op, const s2l_ldap_result *res);
/* A base-scope search for (attr=value) on dn, answered by cb(arg): "is this
 * value there?" without reading the attribute (a group's member list). */
int res_probe_value(res_op *op, const char *dn, const char *attr, const char *value, s2l_req_ldap_cb *cb,
                    void *arg);

/* Sub-operation: resolve the references the entries (a JSON array) hold;
 * then done(op, NULL). 1 / 0 / -1 as above. */
int res_refs_start(res_op *op, const json_t *entries, res_advance_fn *done);

/* ---- id -> DN hints (s2l/id_cache.h): writes by id without a look-up ---- */

/* The cached DN of the request's id (a copy, malloc'd) when it is in the
 * type's scope and the directory takes the assertion control; else NULL. */
char *res_cached_dn(res_op *op);
/* Remembers the entry's id -> DN (id: the request's when NULL, else read from the entry). */
void res_cache_entry(res_op *op, const json_t *entry, const char *id);
/* Remembers the request's id -> dn. */
void res_cache_put_dn(res_op *op, const char *dn);
/* Forgets the request's id. */
void res_cache_drop(res_op *op);
/* Whether an LDAP failure of a write sent to a cached DN may come from a
 * stale or incomplete guess (then the full path is taken; nothing was
 * written): anything but transport failures and overload. */
bool res_direct_may_retry(const s2l_ldap_result *res);

/* ---- the verbs' entry points (route handlers) ---- */

void s2l_res_get(s2l_req *req);
void s2l_res_list(s2l_req *req);
void s2l_res_create(s2l_req *req);
void s2l_res_replace(s2l_req *req);
void s2l_res_patch(s2l_req *req);
void s2l_res_delete(s2l_req *req);
/* POST /{Resource}/.search and POST /.search (search.c). */
void s2l_res_search(s2l_req *req);
void s2l_res_search_root(s2l_req *req);
/* POST /Bulk (bulk.c). */
void s2l_res_bulk(s2l_req *req);
/* Discovery (discovery.c): /ServiceProviderConfig, /Schemas[/urn], /ResourceTypes[/name]. */
void s2l_res_service_provider_config(s2l_req *req);
void s2l_res_schemas(s2l_req *req);
void s2l_res_resource_types(s2l_req *req);

#endif
