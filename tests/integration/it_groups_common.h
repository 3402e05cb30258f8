/* it_groups_common.h — helpers shared by the Groups integration suites
 * (it_groups_*.c), on top of harness.h and it_users_common.h.
 *
 * Header-only (static inline) for the same reason as it_users_common.h: every
 * it_*.c is its own executable linked only with the harness.
 *
 * The point of these suites is the `member` attribute as LDAP holds it, so the
 * central checks (IG_CHECK_MEMBERS, IG_CHECK_SCIM_MEMBERS) read the group
 * straight from slapd or over SCIM and compare the whole value set, not just
 * one value. Checks report the CALLER's file and line. Returned char * and
 * json_t * are owned by the caller (free / json_decref).
 */
#ifndef S2L_IT_GROUPS_COMMON_H
#define S2L_IT_GROUPS_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "harness.h"
#include "it_users_common.h"

#define IG_URN_GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"
/* Entra adds this to every group it creates; it must not be an error. */
#define IG_URN_ADSCIM "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"

/* ------------------------------------------------------------------ text */

/* printf into a fresh buffer (malloc'd); NULL when out of memory. */
static inline char *ig_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *ig_fmt(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *out;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || (out = malloc((size_t)n + 1)) == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(out, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return out;
}

/* ------------------------------------------------------------------ environment */

typedef struct ig_env {
    h_slapd *s;
    h_gw *g;
} ig_env;

/* Starts a private slapd with opts (NULL = h_slapd_defaults()); false when
 * the suite has to skip because the gateway binary cannot run yet (a failure
 * with S2L_REQUIRE_GATEWAY=1). Infrastructure failures end the test. */
static inline bool ig_env_start_slapd(ig_env *env, const h_slapd_opts *opts)
{
    char why[512] = "";
    const char *req = getenv("S2L_REQUIRE_GATEWAY");

    env->g = NULL;
    env->s = h_slapd_start(opts);
    H_REQUIRE(env->s != NULL);
    if (!h_gw_can_run(env->s, why, sizeof why)) {
        if (req && strcmp(req, "1") == 0)
            h_check_(false, __FILE__, __LINE__, "the gateway cannot run: %s", why);
        else
            H_SKIP("the gateway cannot run yet (%s)", why);
        return false;
    }
    return true;
}

/* Starts the real gateway on env->s with extra_config (JSON object text or
 * NULL) and waits until it reaches the directory. */
static inline void ig_env_start_gw(ig_env *env, const char *extra_config)
{
    env->g = h_gw_start(env->s, extra_config);
    H_REQUIRE(env->g != NULL);
}

static inline bool ig_env_start(ig_env *env, const h_slapd_opts *opts, const char *extra_config)
{
    if (!ig_env_start_slapd(env, opts))
        return false;
    ig_env_start_gw(env, extra_config);
    return true;
}

/* A mapping derived from the one at src (repo-relative): edit(mapping, arg)
 * changes the loaded JSON in place (false = failed). Written as
 * <slapd folder>/mapping-<name>.json; returns the gateway extra config that
 * selects it (malloc'd), NULL on failure (printed). */
typedef bool ig_mapping_edit_fn(json_t *mapping, const void *arg);

static inline char *ig_mapping_variant(h_slapd *s, const char *src, const char *name, ig_mapping_edit_fn *edit,
                                       const void *arg)
{
    char *in = ig_fmt("%s/%s", S2L_SOURCE_DIR, src);
    char *out = ig_fmt("%s/mapping-%s.json", h_slapd_dir(s), name);
    json_error_t jerr;
    json_t *m = in ? json_load_file(in, 0, &jerr) : NULL;
    json_t *cfg = NULL;
    char *extra = NULL;

    if (m == NULL || out == NULL || !edit(m, arg) || json_dump_file(m, out, JSON_INDENT(2)) != 0) {
        fprintf(stderr, "cannot derive mapping %s from %s\n", out ? out : name, in ? in : src);
        goto done;
    }
    cfg = json_pack("{s:s}", "mapping", out);
    extra = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
done:
    json_decref(cfg);
    json_decref(m);
    free(in);
    free(out);
    return extra;
}

/* The attribute entry of resource type rtype whose "scim" is scim (borrowed),
 * or NULL. */
static inline json_t *ig_mapping_attr(json_t *mapping, const char *rtype, const char *scim)
{
    size_t i, k;
    json_t *rt, *a;

    json_array_foreach(json_object_get(mapping, "resource_types"), i, rt) {
        if (!json_is_string(json_object_get(rt, "name")) ||
            strcmp(json_string_value(json_object_get(rt, "name")), rtype) != 0)
            continue;
        json_array_foreach(json_object_get(rt, "attributes"), k, a) {
            const char *v = json_string_value(json_object_get(a, "scim"));
            if (v && strcmp(v, scim) == 0)
                return a;
        }
    }
    return NULL;
}

static inline void ig_env_stop(ig_env *env)
{
    if (env->g)
        h_gw_stop(env->g);
    env->g = NULL;
    h_slapd_destroy(env->s);
    env->s = NULL;
}

/* "/Groups?filter=<percent-encoded filter>" followed by "&extra" when given. */
static inline char *ig_filter_path(const char *filter, const char *extra)
{
    char *enc = h_urlencode(filter);
    char *out = enc ? ig_fmt("/Groups?filter=%s%s%s", enc, extra ? "&" : "", extra ? extra : "") : NULL;

    free(enc);
    return out;
}

/* ------------------------------------------------------------------ SCIM calls */

/* POSTs a minimal User (userName, given/family name); returns its id or NULL
 * (the failure is counted). */
static inline char *ig_user_(h_gw *g, const char *user_name, const char *file, int line)
{
    json_t *body = json_pack("{s:[s], s:s, s:{s:s, s:s}}", "schemas", IT_URN_USER, "userName", user_name, "name",
                             "givenName", user_name, "familyName", "Member");
    char *id = body ? it_create_json_(g, body, file, line) : NULL;

    json_decref(body);
    return id;
}
#define IG_USER(g, name) ig_user_((g), (name), __FILE__, __LINE__)

/* POSTs a Group given as JSON text; checks 201 and returns the new id or NULL. */
/* n users "<fmt with %zu>" created over SCIM: their ids in uid[], their DNs
 * as LDAP holds them in udn[]. Ends the test if one cannot be made. */
static inline void ig_make_users(ig_env *env, const char *name_fmt, size_t n, char **uid, char **udn)
{
    for (size_t i = 0; i < n; i++) {
        char name[128];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(name, sizeof name, name_fmt, i);
#pragma GCC diagnostic pop
        uid[i] = IG_USER(env->g, name);
        H_REQUIRE(uid[i] != NULL);
        udn[i] = it_dn_by_id(env->s, uid[i]);
        H_REQUIRE(udn[i] != NULL);
    }
}

static inline char *ig_group_(h_gw *g, const char *body, const char *file, int line)
{
    h_resp r = h_http(g, "POST", "/Groups", body, NULL);
    char *id = NULL;

    h_check_status_(&r, 201, file, line);
    if (r.status == 201) {
        const char *s = h_jstr(r.json, "id");
        h_check_(s != NULL, file, line, "POST /Groups: 201 without an id: %.300s", r.body);
        if (s)
            id = strdup(s);
    }
    h_resp_free(&r);
    return id;
}
#define IG_GROUP(g, body) ig_group_((g), (body), __FILE__, __LINE__)

/* "/Groups/<id>" plus "?query" when given (malloc'd). */
static inline char *ig_group_path(const char *id, const char *query)
{
    return ig_fmt("/Groups/%s%s%s", id, query ? "?" : "", query ? query : "");
}

/* Sends a PatchOp to /Groups/<id>[?query] with the given Operations array.
 * operations NULL (a caller's allocation failed) gives status 0, which any
 * status check reports. */
static inline h_resp ig_patch(h_gw *g, const char *id, const char *query, const char *operations)
{
    char *body = operations ? ig_fmt("{\"schemas\":[\"%s\"],\"Operations\":%s}", IT_URN_PATCH, operations)
                            : NULL;
    char *path = ig_group_path(id, query);
    h_resp r;

    if (body == NULL || path == NULL) {
        memset(&r, 0, sizeof r);
        snprintf(r.err, sizeof r.err, "out of memory");
    } else {
        r = h_http(g, "PATCH", path, body, NULL);
    }
    free(body);
    free(path);
    return r;
}

/* A group PATCH that must answer 204 with no body (the default, and what
 * Entra expects). */
static inline void ig_patch_204_(h_gw *g, const char *id, const char *operations, const char *file, int line)
{
    h_resp r = ig_patch(g, id, NULL, operations);

    h_check_status_(&r, 204, file, line);
    h_check_(r.body_len == 0, file, line, "PATCH /Groups/%s answered 204 with a body: %.200s", id,
             r.body ? r.body : "");
    h_resp_free(&r);
}
#define IG_PATCH_204(g, id, ops) ig_patch_204_((g), (id), (ops), __FILE__, __LINE__)

/* ------------------------------------------------------------------ LDAP checks */

/* Whether an entry exists at dn (read directly from slapd). */
static inline bool ig_ldap_exists(h_slapd *s, const char *dn)
{
    json_t *e = dn ? h_ldap_entry(s, dn) : NULL;
    bool found = e != NULL;

    json_decref(e);
    return found;
}

/* Whether list (NULL-terminated) holds s, compared case-insensitively as LDAP
 * compares these DNs. */
static inline bool ig_in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcasecmp(list[i], s) == 0)
            return true;
    return false;
}

static inline size_t ig_list_len(const char *const *list)
{
    size_t n = 0;

    while (list && list[n])
        n++;
    return n;
}

/* The group's `member` values as LDAP holds them, the placeholder excluded,
 * must be exactly want (NULL-terminated DNs): nothing missing, nothing extra,
 * no value twice. *placeholder (optional) tells whether the empty DN was
 * there. The group is found by entryUUID, as the gateway does. */
static inline void ig_check_members_(h_slapd *s, const char *gid, const char *const *want, bool *placeholder,
                                     const char *file, int line)
{
    json_t *e = it_entry_by_id(s, gid);
    const json_t *vals = json_object_get(json_object_get(e, "attrs"), "member");
    size_t i, real = 0;
    json_t *v;

    if (placeholder)
        *placeholder = false;
    h_check_(e != NULL, file, line, "group %s is not in LDAP", gid);
    if (e == NULL)
        return;
    json_array_foreach(vals, i, v) {
        const char *dn = json_string_value(v);

        if (dn == NULL)
            continue;
        if (dn[0] == 0) {
            if (placeholder)
                *placeholder = true;
            continue;
        }
        real++;
        h_check_(ig_in_list(want, dn), file, line, "group %s: unexpected member %s", h_jstr(e, "dn"), dn);
    }
    for (size_t k = 0; want && want[k]; k++)
        h_check_(h_ldap_has_value(e, "member", want[k], true), file, line, "group %s: member %s missing",
                 h_jstr(e, "dn"), want[k]);
    h_check_(real == ig_list_len(want), file, line, "group %s: %zu real member values, want %zu", h_jstr(e, "dn"),
             real, ig_list_len(want));
    json_decref(e);
}
#define IG_CHECK_MEMBERS(s, gid, ...) \
    ig_check_members_((s), (gid), (const char *const[]){__VA_ARGS__, NULL}, NULL, __FILE__, __LINE__)
#define IG_CHECK_NO_MEMBERS(s, gid, ph) ig_check_members_((s), (gid), NULL, (ph), __FILE__, __LINE__)

/* GET /Groups/<id> and compare members[].value with want (ids, NULL-terminated),
 * each with the right type ("User"/"Group") and a $ref naming it, and never
 * the placeholder. want_types parallels want (NULL = all "User"). */
static inline void ig_check_scim_members_(h_gw *g, const char *gid, const char *const *want,
                                          const char *const *want_types, const char *file, int line)
{
    char *path = ig_group_path(gid, NULL);
    h_resp r = h_http(g, "GET", path, NULL, NULL);
    json_t *members = h_jget(r.json, "members");
    size_t i, n = ig_list_len(want);
    json_t *m;

    h_check_status_(&r, 200, file, line);
    h_check_(members == NULL || json_is_array(members), file, line, "GET %s: members is not an array", path);
    h_check_(json_array_size(members) == n, file, line, "GET %s: %zu members, want %zu: %.400s", path,
             json_array_size(members), n, r.body ? r.body : "");
    json_array_foreach(members, i, m) {
        const char *value = h_jstr(m, "value"), *type = h_jstr(m, "type"), *ref = h_jstr(m, "$ref");
        size_t k = 0;

        h_check_(value && value[0], file, line, "GET %s: member %zu without a value (placeholder shown?)", path, i);
        if (value == NULL)
            continue;
        while (want && want[k] && strcmp(want[k], value) != 0)
            k++;
        h_check_(want && want[k], file, line, "GET %s: unexpected member %s", path, value);
        if (want == NULL || want[k] == NULL)
            continue;
        {
            const char *wt = want_types ? want_types[k] : "User";
            char *tail = ig_fmt("/%ss/%s", wt, value);

            h_check_(type && strcmp(type, wt) == 0, file, line, "GET %s: member %s has type %s, want %s", path, value,
                     type ? type : "(none)", wt);
            h_check_(ref && tail && strlen(ref) > strlen(tail) && strcmp(ref + strlen(ref) - strlen(tail), tail) == 0,
                     file, line, "GET %s: member %s has $ref %s, want .../%ss/%s", path, value, ref ? ref : "(none)",
                     wt, value);
            free(tail);
        }
    }
    /* Each wanted id is there (a duplicate cannot stand in for a missing one). */
    for (size_t k = 0; k < n; k++) {
        bool found = false;

        json_array_foreach(members, i, m) {
            const char *value = h_jstr(m, "value");
            found = found || (value && strcmp(value, want[k]) == 0);
        }
        h_check_(found, file, line, "GET %s: member %s missing", path, want[k]);
    }
    h_resp_free(&r);
    free(path);
}
#define IG_CHECK_SCIM_MEMBERS(g, gid, ...) \
    ig_check_scim_members_((g), (gid), (const char *const[]){__VA_ARGS__, NULL}, NULL, __FILE__, __LINE__)
#define IG_CHECK_SCIM_NO_MEMBERS(g, gid) ig_check_scim_members_((g), (gid), NULL, NULL, __FILE__, __LINE__)

/* ------------------------------------------------------------------ LDAP work counts */

/* What one request cost in LDAP operations: reading cn=Monitor around it. */
typedef struct ig_ops {
    h_op_counts before, after;
    bool ok;
} ig_ops;

static inline void ig_ops_begin(h_slapd *s, ig_ops *o)
{
    o->ok = h_slapd_op_counts(s, &o->before) == 0;
}

/* The difference since ig_ops_begin, field by field; -1 everywhere if either
 * reading failed (so a comparison with a real count fails). */
static inline h_op_counts ig_ops_end(h_slapd *s, ig_ops *o)
{
    h_op_counts d = {-1, -1, -1, -1, -1, -1, -1};

    o->ok = o->ok && h_slapd_op_counts(s, &o->after) == 0;
    if (!o->ok)
        return d;
    d.search = o->after.search - o->before.search;
    d.add = o->after.add - o->before.add;
    d.modify = o->after.modify - o->before.modify;
    d.del = o->after.del - o->before.del;
    d.modrdn = o->after.modrdn - o->before.modrdn;
    d.bind = o->after.bind - o->before.bind;
    d.compare = o->after.compare - o->before.compare;
    return d;
}

#endif
