/* mapping_fixture.h — the mappings the mapping tests run against and helpers
 * to read the data-driven cases under tests/data/mapping.
 *
 *   "openldap"  mappings/openldap.json (the default)
 *   "strict"    the default with every policy "reject"
 *   "posix"     mappings/posix-rfc2307bis.json (the example)
 *   "variants"  tests/data/mapping/variants.json (features the others do not use)
 *
 * Header-only (static inline) so each test executable stays one file.
 */
#ifndef S2L_MAPPING_FIXTURE_H
#define S2L_MAPPING_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <jansson.h>

#include "s2l/mapping.h"
#include "s2l/password.h"

typedef struct mapping_fixture {
    s2l_mapping *openldap, *posix, *variants, *strict;
} mapping_fixture;

static inline const char *mf_root(void)
{
    const char *root = getenv("S2L_SOURCE_DIR");
    return root ? root : ".";
}

/* A file of the source tree (rel to its root), NUL-terminated; *len its size.
 * NULL when it cannot be read. Caller frees. */
static inline char *mf_read_file(const char *rel, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", mf_root(), rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        *len = (size_t)n;
    }
    return buf;
}

static inline s2l_mapping *mf_load_mapping(const char *rel)
{
    char path[4096], schemas[4096], err[1024];
    snprintf(path, sizeof path, "%s/%s", mf_root(), rel);
    snprintf(schemas, sizeof schemas, "%s/schemas/scim", mf_root());
    s2l_mapping *m = s2l_mapping_load(path, schemas, err, sizeof err);
    if (m == NULL)
        fprintf(stderr, "cannot load %s: %s\n", rel, err);
    return m;
}

/* The default mapping with every policy strict ("reject"): written from
 * mappings/openldap.json to a temporary file, so it never drifts from it. */
static inline s2l_mapping *mf_load_strict(void)
{
    char path[4096], schemas[4096], err[1024], tmp[] = "/tmp/s2l-strict-XXXXXX.json";
    json_error_t je;
    s2l_mapping *m = NULL;
    int fd;

    snprintf(path, sizeof path, "%s/mappings/openldap.json", mf_root());
    snprintf(schemas, sizeof schemas, "%s/schemas/scim", mf_root());
    json_t *j = json_load_file(path, 0, &je);
    json_t *set = json_pack("{s:s, s:s, s:s, s:s, s:s}", "unknown_attributes", "reject", "unmapped_attributes",
                            "reject", "unknown_schemas", "reject", "unknown_manager", "reject", "unknown_members",
                            "reject");
    if (j == NULL || set == NULL || json_object_update(j, set) != 0 || (fd = mkstemps(tmp, 5)) < 0)
        goto out;
    close(fd);
    if (json_dump_file(j, tmp, 0) == 0)
        m = s2l_mapping_load(tmp, schemas, err, sizeof err);
    if (m == NULL)
        fprintf(stderr, "cannot load the strict variant of the default mapping: %s\n", err);
    unlink(tmp);
out:
    json_decref(j);
    json_decref(set);
    return m;
}

static inline bool mf_init(mapping_fixture *f)
{
    f->openldap = mf_load_mapping("mappings/openldap.json");
    f->posix = mf_load_mapping("mappings/posix-rfc2307bis.json");
    f->variants = mf_load_mapping("tests/data/mapping/variants.json");
    f->strict = mf_load_strict();
    return f->openldap && f->posix && f->variants && f->strict;
}

static inline void mf_fini(mapping_fixture *f)
{
    s2l_mapping_destroy(f->openldap);
    s2l_mapping_destroy(f->posix);
    s2l_mapping_destroy(f->variants);
    s2l_mapping_destroy(f->strict);
}

/* The resource type a case names: {"mapping": "openldap", "type": "User"}. */
static inline const s2l_rmap *mf_rmap(const mapping_fixture *f, const json_t *c)
{
    const char *m = json_string_value(json_object_get(c, "mapping"));
    const char *t = json_string_value(json_object_get(c, "type"));
    const s2l_mapping *map = m == NULL || strcmp(m, "openldap") == 0 ? f->openldap
                             : strcmp(m, "posix") == 0               ? f->posix
                             : strcmp(m, "variants") == 0            ? f->variants
                             : strcmp(m, "strict") == 0              ? f->strict
                                                                     : NULL;
    const s2l_rmap *rm = map ? s2l_mapping_find(map, t ? t : "User") : NULL;
    if (rm == NULL)
        fprintf(stderr, "case names an unknown mapping/type: %s/%s\n", m ? m : "openldap", t ? t : "User");
    return rm;
}

static inline json_t *mf_load_json(const char *rel)
{
    char path[4096];
    json_error_t je;
    snprintf(path, sizeof path, "%s/%s", mf_root(), rel);
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL)
        fprintf(stderr, "%s:%d:%d: %s\n", path, je.line, je.column, je.text);
    return j;
}

/* Equal values; an expected "{verify}<password>" matches the hash of that
 * password (hashes have random salts). */
static inline bool mf_same_value(const json_t *got, const json_t *want)
{
    const char *w = json_string_value(want);
    if (w && strncmp(w, "{verify}", 8) == 0 && json_is_string(got))
        return s2l_pw_verify(json_string_value(got), json_string_length(got), w + 8, strlen(w + 8));
    if (json_is_string(want) && json_is_string(got) && strncmp(json_string_value(got), "{verify}", 8) == 0)
        return mf_same_value(want, got);
    return json_equal(got, want);
}

/* Same strings, any order (LDAP value sets). */
static inline bool mf_same_values(const json_t *a, const json_t *b)
{
    size_t i, k;
    json_t *x, *y;
    if (json_array_size(a) != json_array_size(b))
        return false;
    json_array_foreach(a, i, x) {
        bool found = false;
        json_array_foreach(b, k, y) {
            found = found || mf_same_value(x, y);
        }
        if (!found)
            return false;
    }
    return true;
}

/* LDAP attribute sets: names case-insensitive, values as sets. */
static inline bool mf_same_attrs(const json_t *a, const json_t *b)
{
    const char *k, *k2;
    json_t *v, *v2;
    if (json_object_size(a) != json_object_size(b))
        return false;
    json_object_foreach((json_t *)a, k, v) {
        const json_t *match = NULL;
        json_object_foreach((json_t *)b, k2, v2) {
            if (strcasecmp(k, k2) == 0)
                match = v2;
        }
        if (match == NULL || !mf_same_values(v, match))
            return false;
    }
    return true;
}

/* Modification lists: same order, values as sets. */
static inline bool mf_same_mods(const json_t *a, const json_t *b)
{
    size_t i;
    json_t *x;
    if (json_array_size(a) != json_array_size(b))
        return false;
    json_array_foreach(a, i, x) {
        json_t *y = json_array_get(b, i);
        const json_t *vx = json_object_get(x, "values"), *vy = json_object_get(y, "values");
        if (!json_equal(json_object_get(x, "op"), json_object_get(y, "op")) ||
            strcasecmp(json_string_value(json_object_get(x, "attr")), json_string_value(json_object_get(y, "attr"))) != 0 ||
            !mf_same_values(vx, vy)) /* a missing list is an empty one */
            return false;
    }
    return true;
}

/* attrs ({"attr": [values]}) after mods ([{"op","attr","values"}]), with
 * the LDAP modify semantics the planners use (test_put_direct, fuzz_resource_write). */
static inline void mf_apply_mods(json_t *attrs, const json_t *mods)
{
    size_t i;
    const json_t *m;
    json_array_foreach(mods, i, m) {
        const char *op = json_string_value(json_object_get(m, "op"));
        const char *attr = json_string_value(json_object_get(m, "attr"));
        const json_t *vals = json_object_get(m, "values");
        json_t *cur = NULL;
        const char *k;
        json_t *v;
        json_object_foreach(attrs, k, v) {
            if (strcasecmp(k, attr) == 0) {
                cur = v;
                attr = k;
                break;
            }
        }
        if (strcmp(op, "replace") == 0) {
            if (json_array_size(vals) == 0)
                json_object_del(attrs, attr);
            else
                json_object_set_new(attrs, attr, json_deep_copy(vals));
        } else if (strcmp(op, "add") == 0) {
            if (cur == NULL)
                json_object_set_new(attrs, attr, cur = json_array());
            json_array_extend(cur, (json_t *)vals);
        } else if (cur != NULL) {
            size_t j;
            const json_t *dv;
            json_array_foreach(vals, j, dv) {
                for (size_t c = json_array_size(cur); c-- > 0;)
                    if (json_equal(json_array_get(cur, c), dv))
                        json_array_remove(cur, c);
            }
            if (json_array_size(vals) == 0 || json_array_size(cur) == 0)
                json_object_del(attrs, attr);
        }
    }
}

/* Whether the filter terms "(!(a=v))" / "(!(a=*))" one after the other in
 * requires (s2l_put_plan_direct's) all hold on attrs. */
static inline bool mf_requires_hold(const char *requires, const json_t *attrs)
{
    const char *p = requires;
    while (p && *p) {
        const char *eq = strchr(p, '='), *end = strstr(p, "))");
        if (strncmp(p, "(!(", 3) != 0 || eq == NULL || end == NULL)
            return false;
        char attr[64], val[128];
        snprintf(attr, sizeof attr, "%.*s", (int)(eq - p - 3), p + 3);
        snprintf(val, sizeof val, "%.*s", (int)(end - eq - 1), eq + 1);
        const char *k;
        const json_t *vs;
        json_object_foreach((json_t *)attrs, k, vs) {
            if (strcasecmp(k, attr) != 0)
                continue;
            size_t i;
            const json_t *v;
            json_array_foreach(vs, i, v) {
                if (strcmp(val, "*") == 0 || strcmp(json_string_value(v), val) == 0)
                    return false;
            }
        }
        p = end + 2;
    }
    return true;
}

static inline void mf_show(const char *what, const char *name, const json_t *got, const json_t *want)
{
    char *g = got ? json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    char *w = want ? json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    fprintf(stderr, "%s \"%s\":\n  got  %s\n  want %s\n", what, name, g ? g : "(null)", w ? w : "(null)");
    free(g);
    free(w);
}

/* An expected error {"status": 400, "scimType": "...", "detail": "substring"}. */
static inline bool mf_error_matches(const json_t *want, const s2l_error *err)
{
    const char *type = json_string_value(json_object_get(want, "scimType"));
    const char *detail = json_string_value(json_object_get(want, "detail"));
    if (err->status != json_integer_value(json_object_get(want, "status")))
        return false;
    if (type && (err->scim_type == NULL || strcmp(type, err->scim_type) != 0))
        return false;
    return detail == NULL || strstr(err->detail, detail) != NULL;
}

#endif
