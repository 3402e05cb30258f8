/* bulk.h — a SCIM BulkRequest (RFC 7644 §3.7), pure: parsing and checks, the
 * bulkId references between operations and the order they run in, an
 * operation's path and data with references resolved, the BulkResponse items.
 * The handler (gateway/resources/bulk.c) runs each operation as a local
 * request through exactly the path of a direct one.
 *
 * References: an operation refers to the resource a POST of the same request
 * creates with "bulkId:<bulkId>" (RFC 7644 §3.7.2) as
 *   - a whole string value anywhere in its data ("members": [{"value":
 *     "bulkId:qwerty"}], "manager": {"value": "bulkId:boss"}),
 *   - a quoted value inside a PATCH operation's path
 *     ("members[value eq \"bulkId:qwerty\"]"),
 *   - the last segment of its own path ("/Groups/bulkId:ytrewq").
 * Each is replaced by the id of the created resource when the operation runs.
 *
 * Order: operations run one at a time in the order given, except that one
 * referring to a later POST waits until that POST has run (the earliest
 * operation whose references are all satisfied goes next). Operations on a
 * cycle of references (A's data names B's bulkId and B's names A's, or a POST
 * naming its own bulkId) — and those that wait on them — are refused with 409
 * (RFC 7644 §3.7.1 allows refusing circular references), as is one whose
 * referenced POST failed. A reference to a bulkId no POST defines is 400.
 *
 * Ownership: s2l_bulk_parse returns an object owned by the caller
 * (s2l_bulk_destroy) that holds its own references to the request's data;
 * returned strings and JSON are new, owned by the caller.
 */
#ifndef S2L_BULK_H
#define S2L_BULK_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "s2l/error.h"

#define S2L_URN_BULK_REQUEST "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
#define S2L_URN_BULK_RESPONSE "urn:ietf:params:scim:api:messages:2.0:BulkResponse"

typedef struct s2l_bulk_op {
    size_t index;                /* position in the request's Operations */
    const char *method;          /* "POST", "PUT", "PATCH", "DELETE" (static), or NULL when invalid */
    char *bulk_id;               /* or NULL */
    char *version;               /* or NULL: sent as If-Match */
    char *path;                  /* as given, e.g. "/Groups/bulkId:g1" (NULL when invalid) */
    json_t *data;                /* the operation's body (a reference), or NULL */
    char **refs;                 /* bulkIds it refers to, each once (NULL-terminated) */
    s2l_error error;             /* status != 0: answered with this error without running */
} s2l_bulk_op;

typedef struct s2l_bulk {
    s2l_bulk_op *ops;
    size_t n;
    long fail_on_errors;         /* stop after this many errors; 0 = never */
    size_t *order;               /* n indexes into ops: the order to run them in */
} s2l_bulk;

/* Parses and checks a BulkRequest. NULL + *err for the request as a whole:
 * not an object or no "Operations" array (400 invalidSyntax), "schemas" not
 * listing the BulkRequest URN (400 invalidSyntax), more than max_operations
 * operations (413), failOnErrors not an integer >= 0 (400 invalidValue), out
 * of memory (500). Problems of one operation (method, path, data, a bulkId
 * used twice, references) are left in its error. Member names are
 * case-insensitive ("operations" is taken). */
s2l_bulk *s2l_bulk_parse(const json_t *body, size_t max_operations, s2l_error *err);
void s2l_bulk_destroy(s2l_bulk *b);

/* ids maps bulkId → id of the resources created so far. The operation's path
 * and data with every reference replaced (malloc'd / new reference); NULL +
 * *err 409 when a referenced bulkId has no id (its POST failed). data NULL
 * stays NULL (*out_data NULL). 0 or -1. */
int s2l_bulk_resolve(const s2l_bulk_op *op, const json_t *ids, char **out_path, json_t **out_data, s2l_error *err);

/* The BulkResponse item of an operation (RFC 7644 §3.7.3): method, bulkId,
 * version, location (when known), status as a string, and the error body as
 * "response" for a status >= 400. */
json_t *s2l_bulk_result(const s2l_bulk_op *op, int status, const json_t *error_body, const char *location,
                        const char *version);

#endif
