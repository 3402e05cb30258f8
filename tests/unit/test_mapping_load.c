/* test_mapping_load.c — mapping files that must be refused, each with the file
 * name and the JSON path of the mistake in the message
 * (tests/data/mapping/bad_mappings.json: a valid base and edits to it), and a
 * schema folder holding a broken schema. */
#include "s2l/mapping.h"
#include "mapping_fixture.h"
#include "unit.h"

#include <unistd.h>

/* Follows path (strings: object keys, integers: array indexes) and sets or
 * deletes the last step. Returns false when the path does not exist. */
static bool edit(json_t *root, const json_t *path, json_t *value)
{
    json_t *cur = root;
    size_t n = json_array_size(path);
    for (size_t i = 0; i + 1 < n; i++) {
        const json_t *step = json_array_get(path, i);
        cur = json_is_string(step) ? json_object_get(cur, json_string_value(step))
                                   : json_array_get(cur, (size_t)json_integer_value(json_array_get(path, i)));
        if (cur == NULL)
            return false;
    }
    const json_t *last = json_array_get(path, n - 1);
    if (json_is_string(last))
        return value ? json_object_set(cur, json_string_value(last), value) == 0
                     : json_object_del(cur, json_string_value(last)) == 0;
    size_t idx = (size_t)json_integer_value(last);
    return value ? json_array_set(cur, idx, value) == 0 : json_array_remove(cur, idx) == 0;
}

static char *write_temp(const char *text)
{
    char tmpl[] = "/tmp/s2l-mapping-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return NULL;
    size_t len = strlen(text);
    bool ok = write(fd, text, len) == (ssize_t)len;
    close(fd);
    if (!ok) {
        unlink(tmpl);
        return NULL;
    }
    return strdup(tmpl);
}

static void run_case(const json_t *base, const json_t *c, const char *schemas)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    const char *raw = json_string_value(json_object_get(c, "raw"));
    json_t *doc = json_deep_copy(base);
    char *text = NULL, *path = NULL, err[1024] = "";
    const json_t *set = json_object_get(c, "set"), *del = json_object_get(c, "delete");

    if (set != NULL)
        CHECK(edit(doc, json_array_get(set, 0), json_array_get(set, 1)));
    /* "sets": several [path, value] edits, in order */
    size_t k;
    json_t *pair;
    json_array_foreach(json_object_get(c, "sets"), k, pair) {
        CHECK(edit(doc, json_array_get(pair, 0), json_array_get(pair, 1)));
    }
    if (del != NULL)
        CHECK(edit(doc, del, NULL));
    text = raw ? strdup(raw) : json_dumps(doc, JSON_INDENT(2));
    path = text ? write_temp(text) : NULL;
    CHECK(path != NULL);
    if (path == NULL)
        goto out;
    s2l_mapping *m = s2l_mapping_load(path, schemas, err, sizeof err);
    if (json_is_true(json_object_get(c, "valid"))) {
        if (m == NULL)
            fprintf(stderr, "\"%s\": unexpected error %s\n", name, err);
        CHECK(m != NULL);
    } else {
        CHECK(m == NULL);
        /* every message starts with the file it is about */
        bool named = strncmp(err, path, strlen(path)) == 0;
        bool all = true;
        size_t i;
        json_t *want;
        json_array_foreach(json_object_get(c, "error"), i, want) {
            all = all && strstr(err, json_string_value(want)) != NULL;
        }
        if (!named || !all)
            fprintf(stderr, "\"%s\": message \"%s\"\n", name, err);
        CHECK(named);
        CHECK(all);
    }
    s2l_mapping_destroy(m);
    unlink(path);
out:
    free(path);
    free(text);
    json_decref(doc);
}

static void test_bad_mappings(void)
{
    char schemas[4096];
    json_t *file = mf_load_json("tests/data/mapping/bad_mappings.json");
    size_t i;
    json_t *c;

    snprintf(schemas, sizeof schemas, "%s/schemas/scim", mf_root());
    CHECK(file != NULL);
    json_array_foreach(json_object_get(file, "cases"), i, c) {
        run_case(json_object_get(file, "base"), c, schemas);
    }
    json_decref(file);
}

/* Problems outside the mapping file: a missing file, a schema folder that
 * cannot be read, a broken schema file (named, with its JSON path). */
static void test_environment(void)
{
    char schemas[4096], mapping[4096], err[1024];
    snprintf(schemas, sizeof schemas, "%s/schemas/scim", mf_root());
    snprintf(mapping, sizeof mapping, "%s/mappings/openldap.json", mf_root());

    CHECK(s2l_mapping_load("/nonexistent/mapping.json", schemas, err, sizeof err) == NULL);
    CHECK(strstr(err, "/nonexistent/mapping.json") != NULL);

    CHECK(s2l_mapping_load(mapping, "/nonexistent/schemas", err, sizeof err) == NULL);
    CHECK(strstr(err, "/nonexistent/schemas") != NULL);

    char dir[] = "/tmp/s2l-schemas-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/broken.json", dir);
    FILE *fp = fopen(bad, "w");
    CHECK(fp != NULL);
    if (fp) {
        fputs("{\"id\": \"urn:x\", \"attributes\": [{\"name\": \"a\", \"type\": \"strin\"}]}", fp);
        fclose(fp);
    }
    CHECK(s2l_mapping_load(mapping, dir, err, sizeof err) == NULL);
    CHECK(strstr(err, bad) != NULL && strstr(err, "$.attributes[0].type") != NULL);
    if (strstr(err, "$.attributes[0].type") == NULL)
        fprintf(stderr, "schema error: %s\n", err);
    unlink(bad);
    rmdir(dir);

    /* a tiny error buffer truncates but never overflows */
    char tiny[8];
    CHECK(s2l_mapping_load("/nonexistent/mapping.json", schemas, tiny, sizeof tiny) == NULL);
    CHECK(strlen(tiny) < sizeof tiny);
}

int main(void)
{
    test_bad_mappings();
    test_environment();
    return UNIT_DONE();
}
