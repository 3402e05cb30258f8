/* fuzz_discovery.c — libFuzzer target for discovery rendering
 * (gateway/core/mapping_discovery.c, schema.c: GET /Schemas, /ResourceTypes)
 * and resource rendering (mapping_read.c: meta.location), for the default
 * and the example mapping.
 *
 * What a request controls there is the base URL: the gateway builds it from
 * the Host header when no public_url is configured, and every location in a
 * response starts with it. The input is that base URL. Checks, besides memory
 * safety:
 *  - for a base URL that is valid UTF-8 without NUL (what the HTTP layer must
 *    hand over), rendering succeeds, serialises, and every meta.location
 *    starts with the base URL followed by "/";
 *  - for any other input, rendering fails cleanly (NULL) or succeeds: no crash;
 *  - a stored entry rendered as a User has meta.location = base URL + /Users/<id>.
 * Seeds: tests/fuzz/corpus/discovery.
 */
#include "s2l/mapping.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static s2l_mapping *mappings[2];
static json_t *entry;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char root[4096], path[4200], schemas[4200], err[1024];
    const char *env = getenv("S2L_SOURCE_DIR");
    if (env != NULL) {
        snprintf(root, sizeof root, "%s", env);
    } else {
        snprintf(root, sizeof root, "%s", __FILE__);
        for (int up = 0; up < 3; up++) {
            char *slash = strrchr(root, '/');
            if (slash == NULL) {
                snprintf(root, sizeof root, ".");
                break;
            }
            *slash = '\0';
        }
        if (root[0] == '\0')
            snprintf(root, sizeof root, "/");
    }
    static const char *const files[] = {"mappings/openldap.json", "mappings/posix-rfc2307bis.json"};
    snprintf(schemas, sizeof schemas, "%s/schemas/scim", root);
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", root, files[i]);
        mappings[i] = s2l_mapping_load(path, schemas, err, sizeof err);
        if (mappings[i] == NULL) {
            fprintf(stderr, "fuzz_discovery: %s\n", err);
            abort();
        }
    }
    entry = json_loads("{\"dn\":\"uid=bjensen,ou=people,dc=example,dc=org\",\"attrs\":{"
                       "\"uid\":[\"bjensen\"],\"entryUUID\":[\"2819c223-7f76-453a-919d-413861904646\"],"
                       "\"cn\":[\"Barbara Jensen\"],\"sn\":[\"Jensen\"],\"mail\":[\"b@example.com\"],"
                       "\"createTimestamp\":[\"20260101000000Z\"],\"modifyTimestamp\":[\"20260102000000Z\"],"
                       "\"entryCSN\":[\"20260102000000.000000Z#000000#000#000000\"]}}",
                       0, NULL);
    if (entry == NULL)
        abort();
    return 0;
}

static bool valid_text(const uint8_t *d, size_t n)
{
    if (memchr(d, 0, n) != NULL)
        return false;
    json_t *s = json_stringn((const char *)d, n); /* NULL unless valid UTF-8 */
    json_decref(s);
    return s != NULL;
}

static void check_locations(const json_t *items, const char *base, size_t bl)
{
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        const char *loc = json_string_value(json_object_get(json_object_get(it, "meta"), "location"));
        if (loc == NULL || strncmp(loc, base, bl) != 0 || loc[bl] != '/') {
            fprintf(stderr, "fuzz_discovery: location \"%s\" is not under the base URL\n", loc ? loc : "(none)");
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *base = malloc(size + 1);
    if (base == NULL)
        return 0;
    memcpy(base, data, size);
    base[size] = '\0';
    bool valid = valid_text(data, size);
    size_t bl = strlen(base); /* a NUL ends the C string the renderers see */

    for (int m = 0; m < 2; m++) {
        json_t *lists[2] = {s2l_mapping_schemas_json(mappings[m], base),
                            s2l_mapping_resource_types_json(mappings[m], base)};
        for (int l = 0; l < 2; l++) {
            if (lists[l] == NULL) {
                if (valid) {
                    fprintf(stderr, "fuzz_discovery: rendering failed for a valid base URL\n");
                    abort();
                }
                continue;
            }
            check_locations(lists[l], base, bl);
            char *text = json_dumps(lists[l], JSON_COMPACT);
            if (text == NULL && valid)
                abort();
            free(text);
            json_decref(lists[l]);
        }
    }

    s2l_error err;
    s2l_error_clear(&err);
    const s2l_rmap *users = s2l_mapping_find(mappings[0], "User");
    json_t *refs = json_object();
    json_t *res = s2l_rmap_to_scim(users, entry, refs, base, &err);
    if (res == NULL && valid) {
        fprintf(stderr, "fuzz_discovery: rendering a user failed: %s\n", err.detail);
        abort();
    }
    if (res != NULL) {
        const char *loc = json_string_value(json_object_get(json_object_get(res, "meta"), "location"));
        if (loc == NULL || strncmp(loc, base, bl) != 0 ||
            strcmp(loc + bl, "/Users/2819c223-7f76-453a-919d-413861904646") != 0) {
            fprintf(stderr, "fuzz_discovery: user location \"%s\"\n", loc ? loc : "(none)");
            abort();
        }
    }
    json_decref(res);
    json_decref(refs);
    free(base);
    return 0;
}
