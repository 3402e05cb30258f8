/* fuzz_filter.c — libFuzzer target for the SCIM filter parser, printer and evaluator.
 *
 * Beyond "no crash, no leak, no UB", it checks properties that tie the three together:
 *   - a rejected filter carries a 400 invalidFilter (or 500) error with a detail;
 *   - the canonical text of an accepted filter parses again and prints identically;
 *   - the original and the re-parsed tree agree on every evaluation (without a
 *     schema, with a resource type, and inside one value via `within`).
 */
#include "s2l/filter.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char resource_text[] =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
    "\"id\":\"2819c223\",\"userName\":\"Bjensen@example.com\",\"active\":true,\"n\":42,\"r\":2.5,"
    "\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"\"},\"nothing\":null,\"tags\":[\"a\",\"B\"],"
    "\"emails\":[{\"value\":\"b@x.org\",\"type\":\"work\",\"primary\":true},{\"value\":\"c@y.org\"}],"
    "\"meta\":{\"lastModified\":\"2011-05-13T04:42:34Z\"},"
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"manager\":{\"value\":\"m1\"}}}";

#define ATTR(n, t, ce) "{\"name\":\"" n "\",\"type\":\"" t "\",\"multiValued\":false,\"required\":false," \
    "\"caseExact\":" ce ",\"mutability\":\"readWrite\",\"returned\":\"default\",\"uniqueness\":\"none\"}"

static const char schema_text[] =
    "{\"id\":\"urn:ietf:params:scim:schemas:core:2.0:User\",\"name\":\"User\",\"attributes\":["
    ATTR("userName", "string", "false") "," ATTR("n", "integer", "false") ","
    "{\"name\":\"emails\",\"type\":\"complex\",\"multiValued\":true,\"required\":false,\"caseExact\":false,"
    "\"mutability\":\"readWrite\",\"returned\":\"default\",\"uniqueness\":\"none\",\"subAttributes\":["
    ATTR("value", "string", "true") "," ATTR("type", "string", "false") "," ATTR("primary", "boolean", "false")
    "]}]}";

typedef struct world {
    json_t *resource;
    s2l_schema *schema;
    s2l_resource_type rt;
    const s2l_attr_def *emails;
    const json_t *email;
} world;

static const world *get_world(void)
{
    static world w;
    static int ready;

    if (!ready) {
        json_t *sj = json_loads(schema_text, 0, NULL);
        w.resource = json_loads(resource_text, 0, NULL);
        w.schema = sj ? s2l_schema_from_json(sj, NULL) : NULL;
        json_decref(sj);
        if (w.resource == NULL || w.schema == NULL)
            abort();
        w.rt.name = "User";
        w.rt.endpoint = "/Users";
        w.rt.core = w.schema;
        w.emails = s2l_schema_find(w.schema, "emails");
        w.email = json_array_get(json_object_get(w.resource, "emails"), 0);
        ready = 1;
    }
    return &w;
}

static void evaluate_same(const s2l_filter *a, const s2l_filter *b, const char *text)
{
    const world *w = get_world();
    bool r1 = s2l_filter_match(a, w->resource, NULL, NULL);
    bool r2 = s2l_filter_match(a, w->resource, &w->rt, NULL);
    bool r3 = s2l_filter_match(a, w->email, &w->rt, w->emails);

    if (r1 != s2l_filter_match(b, w->resource, NULL, NULL) || r2 != s2l_filter_match(b, w->resource, &w->rt, NULL) ||
        r3 != s2l_filter_match(b, w->email, &w->rt, w->emails)) {
        fprintf(stderr, "evaluation differs after reparsing [%s]\n", text);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s2l_filter_limits lim = { 1u << 16, 0 };
    s2l_filter *f, *g = NULL;
    char *text = NULL, *text2 = NULL;
    s2l_error err;

    s2l_error_clear(&err);
    f = s2l_filter_parse((const char *)data, size, &lim, &err);
    if (f == NULL) {
        if (!((err.status == 400 && err.scim_type != NULL && strcmp(err.scim_type, "invalidFilter") == 0) ||
              err.status == 500) || err.detail[0] == '\0')
            abort();
        return 0;
    }
    if (err.status != 0)
        abort();
    text = s2l_filter_to_string(f);
    if (text == NULL)
        goto out;   /* out of memory */
    /* Canonical text may nest a little deeper than the input (a run is
     * re-balanced as a whole), so it is re-read with the largest depth. */
    s2l_filter_limits big = { strlen(text) + 1, S2L_FILTER_DEPTH_CAP };
    g = s2l_filter_parse(text, strlen(text), &big, &err);
    if (g == NULL) {
        fprintf(stderr, "canonical form does not parse: [%s]: %s\n", text, err.detail);
        abort();
    }
    text2 = s2l_filter_to_string(g);
    if (text2 != NULL && strcmp(text, text2) != 0) {
        fprintf(stderr, "canonical form is not stable:\n[%s]\n[%s]\n", text, text2);
        abort();
    }
    evaluate_same(f, g, text);
out:
    free(text);
    free(text2);
    s2l_filter_destroy(f);
    s2l_filter_destroy(g);
    return 0;
}
