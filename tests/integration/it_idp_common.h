/* it_idp_common.h — helpers for the suites that replay what identity providers
 * really send (it_idp_*.c): the payloads under tests/data/idp, a check that a
 * resource read back holds every value that was sent, and the gateway's log
 * lines about policies (attributes ignored, members skipped, ...).
 *
 * Header-only (static inline), like it_users_common.h, which it builds on.
 * Returned json_t * and char * are owned by the caller.
 */
#ifndef S2L_IT_IDP_COMMON_H
#define S2L_IT_IDP_COMMON_H

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "it_users_common.h"

/* tests/data/idp/<name>.json (the test ends when it cannot be read). */
static inline json_t *it_idp_load(const char *name)
{
    char path[4096];
    json_error_t jerr;
    json_t *j;

    snprintf(path, sizeof path, "%s/tests/data/idp/%s.json", S2L_SOURCE_DIR, name);
    j = json_load_file(path, 0, &jerr);
    if (j == NULL)
        fprintf(stderr, "%s:%d: %s\n", path, jerr.line, jerr.text);
    H_REQUIRE(j != NULL);
    return j;
}

/* A deep copy of v with every string equal to `from` replaced by `to`. */
static inline json_t *it_subst(const json_t *v, const char *from, const char *to)
{
    json_t *out;

    if (json_is_string(v))
        return json_string(strcmp(json_string_value(v), from) == 0 ? to : json_string_value(v));
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        out = json_array();
        json_array_foreach(v, i, e) json_array_append_new(out, it_subst(e, from, to));
        return out;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *e;
        out = json_object();
        json_object_foreach((json_t *)v, k, e) json_object_set_new(out, k, it_subst(e, from, to));
        return out;
    }
    return json_deep_copy(v);
}

static inline json_t *it_get_ci(const json_t *obj, const char *key)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (strcasecmp(k, key) == 0)
            return v;
    }
    return NULL;
}

static inline bool it_unassigned(const json_t *v)
{
    return v == NULL || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0) ||
           (json_is_object(v) && json_object_size(v) == 0);
}

/* Whether got holds sent as the server must keep it: every assigned value,
 * object keys compared case-insensitively, "True"/"False" as booleans; what
 * a server never returns is skipped (schemas, id, meta, password, groups, the
 * read-only manager.displayName), and "primary" (rendered by the mapping,
 * not stored). An array element of sent matches any element of got holding
 * it. *where receives the first path that differs. */
static inline bool it_holds(const json_t *sent, const json_t *got, const char *path, char *where, size_t n)
{
    if (it_unassigned(sent))
        return true;
    if (json_is_object(sent) && json_is_array(got)) {
        /* one value where an array is due (OneLogin's emails) */
        json_t *one = json_pack("[O]", sent);
        bool ok = one && it_holds(one, got, path, where, n);
        json_decref(one);
        return ok;
    }
    if (json_is_object(sent)) {
        const char *k;
        json_t *v;
        if (!json_is_object(got)) {
            snprintf(where, n, "%s (not an object)", path);
            return false;
        }
        json_object_foreach((json_t *)sent, k, v) {
            char sub[512];
            if (strcasecmp(k, "schemas") == 0 || strcasecmp(k, "id") == 0 || strcasecmp(k, "meta") == 0 ||
                strcasecmp(k, "password") == 0 || strcasecmp(k, "groups") == 0 || strcasecmp(k, "primary") == 0 ||
                (strcasecmp(k, "displayName") == 0 && strstr(path, "manager") != NULL))
                continue;
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
            if (!it_holds(v, it_get_ci(got, k), sub, where, n))
                return false;
        }
        return true;
    }
    if (json_is_array(sent)) {
        size_t i, j;
        json_t *e, *g;
        if (!json_is_array(got)) {
            snprintf(where, n, "%s (not an array)", path);
            return false;
        }
        json_array_foreach(sent, i, e) {
            bool found = it_unassigned(e);
            char tmp[8];
            json_array_foreach(got, j, g) {
                found = found || it_holds(e, g, path, tmp, sizeof tmp);
            }
            if (!found) {
                char *text = json_dumps(e, JSON_COMPACT);
                snprintf(where, n, "%s: no value like %s", path, text ? text : "?");
                free(text);
                return false;
            }
        }
        return true;
    }
    if (json_is_string(sent) && json_is_boolean(got) &&
        (strcasecmp(json_string_value(sent), "true") == 0 || strcasecmp(json_string_value(sent), "false") == 0)) {
        if ((strcasecmp(json_string_value(sent), "true") == 0) == json_is_true(got))
            return true;
    } else if (json_equal((json_t *)sent, (json_t *)got)) {
        return true;
    }
    {
        char *a = json_dumps(sent, JSON_ENCODE_ANY), *b = got ? json_dumps(got, JSON_ENCODE_ANY) : NULL;
        snprintf(where, n, "%s: sent %s, got %s", path, a ? a : "?", b ? b : "nothing");
        free(a);
        free(b);
    }
    return false;
}
#define IT_CHECK_HOLDS(sent, got)                                                                      \
    do {                                                                                               \
        char where_[600] = "";                                                                         \
        bool ok_ = it_holds((sent), (got), "", where_, sizeof where_);                                 \
        h_check_(ok_, __FILE__, __LINE__, "the resource read back lacks what was sent: %s", where_);   \
    } while (0)

/* GET /Users/<id> (200 checked); the parsed resource, owned by the caller. */
static inline json_t *it_get_user_(h_gw *g, const char *id, const char *file, int line)
{
    char *path = it_user_path(id);
    h_resp r = h_http(g, "GET", path, NULL, NULL);
    json_t *out = NULL;

    h_check_status_(&r, 200, file, line);
    if (r.status == 200)
        out = json_incref(r.json);
    h_resp_free(&r);
    free(path);
    return out;
}
#define IT_GET_USER(g, id) it_get_user_((g), (id), __FILE__, __LINE__)

/* ---- mapping variants ---- */

/* The default mapping as JSON (to change and write with it_mapping_write). */
static inline json_t *it_default_mapping(void)
{
    json_error_t jerr;
    json_t *m = json_load_file(S2L_SOURCE_DIR "/mappings/openldap.json", 0, &jerr);
    H_REQUIRE(m != NULL);
    return m;
}

/* The attribute entries of resource type `type` in mapping m (borrowed). */
static inline json_t *it_mapping_attrs(json_t *m, const char *type)
{
    size_t i;
    json_t *rt;
    json_array_foreach(json_object_get(m, "resource_types"), i, rt) {
        if (strcmp(json_string_value(json_object_get(rt, "name")), type) == 0)
            return json_object_get(rt, "attributes");
    }
    return NULL;
}

/* Removes the entries mapping SCIM attribute `scim` from type's attributes. */
static inline void it_mapping_drop(json_t *m, const char *type, const char *scim)
{
    json_t *attrs = it_mapping_attrs(m, type);
    for (size_t i = json_array_size(attrs); i-- > 0;) {
        const char *s = json_string_value(json_object_get(json_array_get(attrs, i), "scim"));
        if (s && strcmp(s, scim) == 0)
            json_array_remove(attrs, i);
    }
}

/* Writes m to a temporary file: its path (malloc'd; unlink and free it). */
static inline char *it_mapping_write(const json_t *m)
{
    const char *tmp = getenv("TMPDIR");
    char *path = malloc(4096);
    int fd;

    H_REQUIRE(path != NULL);
    snprintf(path, 4096, "%s/s2l-mapping-XXXXXX.json", tmp && *tmp ? tmp : "/tmp");
    fd = mkstemps(path, 5);
    H_REQUIRE(fd >= 0);
    close(fd);
    H_REQUIRE(json_dump_file(m, path, JSON_INDENT(2)) == 0);
    return path;
}

/* ---- the gateway's log ---- */

static inline char *it_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        size_t got = fread(buf, 1, (size_t)n, f);
        buf[got] = '\0';
    }
    fclose(f);
    return buf;
}

/* The last log line containing `event=<event>` and every string of `also`
 * (NULL-terminated, may be NULL), malloc'd; NULL if there is none. */
static inline char *it_log_line(h_gw *g, const char *event, const char *const *also)
{
    char *log = it_read_file(h_gw_log_path(g));
    char needle[128];
    char *found = NULL;

    if (log == NULL)
        return NULL;
    snprintf(needle, sizeof needle, "event=%s ", event);
    for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
        bool all = strstr(line, needle) != NULL;
        for (size_t i = 0; all && also && also[i]; i++)
            all = strstr(line, also[i]) != NULL;
        if (all) {
            free(found);
            found = strdup(line);
        }
    }
    free(log);
    return found;
}

/* The value of `key=` in a log line (a number), or -1. */
static inline long long it_log_num(const char *line, const char *key)
{
    char k[64];
    const char *p;

    if (line == NULL)
        return -1;
    snprintf(k, sizeof k, " %s=", key);
    p = strstr(line, k);
    return p ? strtoll(p + strlen(k), NULL, 10) : -1;
}

#endif
