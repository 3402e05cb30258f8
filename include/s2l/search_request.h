/* search_request.h — a SCIM SearchRequest (RFC 7644 §3.4.3, POST .search) as
 * the query string of the equivalent GET (pure).
 *
 * POST /{Resource}/.search answers exactly what GET /{Resource}?<query> does,
 * so the gateway turns the body into that query and runs the GET.
 */
#ifndef S2L_SEARCH_REQUEST_H
#define S2L_SEARCH_REQUEST_H

#include <jansson.h>

#include "s2l/error.h"

#define S2L_URN_SEARCH_REQUEST "urn:ietf:params:scim:api:messages:2.0:SearchRequest"

/* The parameters of a SearchRequest, each a string as it would appear in a
 * query (attributes lists joined with ','), NULL when absent. */
typedef struct s2l_search_params {
    char *attributes, *excluded_attributes, *filter, *sort_by, *sort_order;
    char *start_index, *count;
} s2l_search_params;

/* Reads body: "schemas" (when present) must list the SearchRequest URN
 * (400 invalidSyntax); "attributes"/"excludedAttributes" are arrays of
 * strings (a comma-separated string is taken too); "filter", "sortBy",
 * "sortOrder" strings; "startIndex", "count" integers (400 invalidValue
 * otherwise). Member names are case-insensitive; other members are ignored.
 * 0, or -1 + *err (500 when out of memory). Free with s2l_search_params_fini. */
int s2l_search_params_parse(const json_t *body, s2l_search_params *out, s2l_error *err);
void s2l_search_params_fini(s2l_search_params *p);

/* The query string ("filter=...&count=10", percent-encoded) for p, with
 * start_index / count replaced when override_start / override_count are not
 * negative. malloc'd; NULL when out of memory. */
char *s2l_search_params_query(const s2l_search_params *p, long override_start, long override_count);

#endif
