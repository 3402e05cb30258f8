/* scim_fixture.h — resource types built from the RFC 7643 schema files
 * (schemas/scim) for the resource / projection / PATCH unit tests, plus
 * helpers to read the data-driven cases under tests/data.
 *
 *   User      core User + enterprise extension (everything)
 *   Group     core Group
 *   UserView  a mapped view: only some attributes, as the gateway passes it
 *
 * Header-only (static inline) so each test executable stays one file.
 */
#ifndef S2L_SCIM_FIXTURE_H
#define S2L_SCIM_FIXTURE_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "s2l/schema.h"

typedef struct scim_fixture {
    s2l_schema *user, *ent, *group, *user_view, *ent_view;
    const s2l_schema *user_ext[1], *view_ext[1];
    bool ext_req[1];
    s2l_resource_type user_rt, group_rt, view_rt;
} scim_fixture;

/* Attributes of the UserView: "attr" keeps the attribute, "attr.sub" a sub-attribute. */
static const char *const scim_fixture_view_names[] = {
    "userName", "name", "name.givenName", "name.familyName", "displayName", "active", "password",
    "emails", "emails.value", "emails.type", "emails.primary", "employeeNumber", "manager",
    "manager.value", NULL,
};

static inline bool scim_fixture_keep(const s2l_attr_def *def, void *arg)
{
    (void)arg;
    for (const char *const *n = scim_fixture_view_names; *n != NULL; n++) {
        const char *dot = strchr(*n, '.');
        if (def->parent == NULL && dot == NULL && strcasecmp(*n, def->name) == 0)
            return true;
        if (def->parent != NULL && dot != NULL && strncasecmp(*n, def->parent->name, (size_t)(dot - *n)) == 0 &&
            strlen(def->parent->name) == (size_t)(dot - *n) && strcasecmp(dot + 1, def->name) == 0)
            return true;
    }
    return false;
}

/* Reads $S2L_SOURCE_DIR/<rel> as JSON; NULL (with a message) on failure. */
static inline json_t *scim_fixture_load(const char *rel)
{
    const char *root = getenv("S2L_SOURCE_DIR");
    char path[4096];
    json_error_t je;
    json_t *j;

    if (root == NULL)
        root = ".";
    if ((size_t)snprintf(path, sizeof path, "%s/%s", root, rel) >= sizeof path) {
        fprintf(stderr, "path too long: %s/%s\n", root, rel);
        return NULL;
    }
    j = json_load_file(path, 0, &je);
    if (j == NULL)
        fprintf(stderr, "%s:%d:%d: %s\n", path, je.line, je.column, je.text);
    return j;
}

static inline s2l_schema *scim_fixture_schema(const char *rel)
{
    json_t *j = scim_fixture_load(rel);
    s2l_error err = {0};
    s2l_schema *s = j ? s2l_schema_from_json(j, &err) : NULL;

    if (j != NULL && s == NULL)
        fprintf(stderr, "%s: %s\n", rel, err.detail);
    json_decref(j);
    return s;
}

static inline void scim_fixture_fini(scim_fixture *f)
{
    s2l_schema_destroy(f->user);
    s2l_schema_destroy(f->ent);
    s2l_schema_destroy(f->group);
    s2l_schema_destroy(f->user_view);
    s2l_schema_destroy(f->ent_view);
    memset(f, 0, sizeof *f);
}

static inline int scim_fixture_init(scim_fixture *f)
{
    memset(f, 0, sizeof *f);
    f->user = scim_fixture_schema("schemas/scim/user.json");
    f->ent = scim_fixture_schema("schemas/scim/enterprise_user.json");
    f->group = scim_fixture_schema("schemas/scim/group.json");
    if (f->user == NULL || f->ent == NULL || f->group == NULL)
        goto fail;
    f->user_view = s2l_schema_filter(f->user, scim_fixture_keep, NULL);
    f->ent_view = s2l_schema_filter(f->ent, scim_fixture_keep, NULL);
    if (f->user_view == NULL || f->ent_view == NULL)
        goto fail;
    f->user_ext[0] = f->ent;
    f->view_ext[0] = f->ent_view;
    f->user_rt = (s2l_resource_type){.name = "User", .endpoint = "/Users", .core = f->user,
                                     .ext = f->user_ext, .ext_required = f->ext_req, .n_ext = 1};
    f->view_rt = (s2l_resource_type){.name = "User", .endpoint = "/Users", .core = f->user_view,
                                     .ext = f->view_ext, .ext_required = f->ext_req, .n_ext = 1};
    f->group_rt = (s2l_resource_type){.name = "Group", .endpoint = "/Groups", .core = f->group};
    return 0;
fail:
    scim_fixture_fini(f);
    return -1;
}

/* "User" | "Group" | "UserView" → resource type; NULL when unknown. */
static inline const s2l_resource_type *scim_fixture_rtype(const scim_fixture *f, const char *name)
{
    if (name == NULL || strcmp(name, "User") == 0)
        return &f->user_rt;
    if (strcmp(name, "Group") == 0)
        return &f->group_rt;
    if (strcmp(name, "UserView") == 0)
        return &f->view_rt;
    return NULL;
}

/* RFC 7386 JSON merge patch, for expectations written as "what changed". */
static inline json_t *scim_fixture_merge(const json_t *target, const json_t *patch)
{
    const char *k;
    json_t *v;
    json_t *out;

    if (!json_is_object(patch))
        return json_deep_copy(patch);
    out = json_is_object(target) ? json_deep_copy(target) : json_object();
    json_object_foreach((json_t *)patch, k, v) {
        if (json_is_null(v)) {
            json_object_del(out, k);
        } else {
            json_t *m = scim_fixture_merge(json_object_get(out, k), v);
            json_object_set_new(out, k, m);
        }
    }
    return out;
}

static inline int scim_fixture_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef void scim_fixture_case_fn(const json_t *file, const json_t *c, const char *fname, void *arg);

/* Calls fn for every case of every *.json file in $S2L_SOURCE_DIR/<dir>, in
 * file-name order. A file is {"bases": {...}, "cases": [...]}. Returns the
 * number of cases, -1 when the directory cannot be read. */
static inline int scim_fixture_each_case(const char *dir, scim_fixture_case_fn *fn, void *arg)
{
    const char *root = getenv("S2L_SOURCE_DIR");
    char path[4096];
    char **names = NULL;
    size_t n = 0, cap = 0;
    int count = 0;
    DIR *d;
    struct dirent *e;

    if (root == NULL)
        root = ".";
    if ((size_t)snprintf(path, sizeof path, "%s/%s", root, dir) >= sizeof path)
        return -1;
    d = opendir(path);
    if (d == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(names, cap * sizeof *p);
            if (p == NULL)
                break;
            names = p;
        }
        names[n] = strdup(e->d_name);
        if (names[n] != NULL)
            n++;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof *names, scim_fixture_cmp_names);
    for (size_t i = 0; i < n; i++) {
        char rel[4096];
        json_t *file;
        size_t j;
        json_t *c;

        snprintf(rel, sizeof rel, "%s/%s", dir, names[i]);
        file = scim_fixture_load(rel);
        if (file == NULL) {
            count = -1;
        } else {
            json_array_foreach(json_object_get(file, "cases"), j, c) {
                fn(file, c, names[i], arg);
                if (count >= 0)
                    count++;
            }
        }
        json_decref(file);
        free(names[i]);
    }
    free(names);
    return count;
}

/* A case's resource: either an object, or "@name" naming one of the file's "bases". */
static inline const json_t *scim_fixture_base(const json_t *file, const json_t *v)
{
    if (json_is_string(v) && json_string_value(v)[0] == '@')
        return json_object_get(json_object_get(file, "bases"), json_string_value(v) + 1);
    return v;
}

#endif
