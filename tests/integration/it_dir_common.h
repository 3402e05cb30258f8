/* it_dir_common.h — shared by the suites against other directories
 * (it_ad_*.c: Samba AD DC, it_389ds_*.c: 389-DS), on top of harness.h and
 * it_users_common.h.
 *
 * Each suite starts its server once (provisioning costs seconds) and runs
 * every case against it. When the server cannot run on this machine (not
 * root, packages missing) the suite is skipped — unless
 * S2L_REQUIRE_DIRECTORIES=1 (tests/run.sh), where that is a failure.
 */
#ifndef S2L_IT_DIR_COMMON_H
#define S2L_IT_DIR_COMMON_H

#include "it_users_common.h"
#include "s2l/mapping.h"

typedef struct dir_env {
    h_slapd *s;
    h_gw *g;
} dir_env;

/* Starts the server (start) and a gateway on it; false when the suite must
 * skip. The printed timings are what the suite adds to CI. */
static inline bool dir_env_start(dir_env *env, h_slapd *(*start)(void), const char *(*unavailable)(void),
                                 const char *what)
{
    const char *why = unavailable();
    double t0 = h_now_ms();

    env->s = NULL;
    env->g = NULL;
    if (why != NULL) {
        if (h_require_directories()) {
            h_check_(false, __FILE__, __LINE__, "%s cannot run here: %s", what, why);
            return false;
        }
        H_SKIP("%s cannot run here: %s", what, why);
        return false;
    }
    env->s = start();
    H_REQUIRE(env->s != NULL);
    fprintf(stderr, "%s: ready after %.1f s at %s\n", what, (h_now_ms() - t0) / 1000, h_slapd_uri(env->s));
    /* debug logging: the most the gateway ever writes, checked for passwords at the end */
    env->g = h_gw_start(env->s, "{\"log_level\":\"debug\"}");
    H_REQUIRE(env->g != NULL);
    return true;
}

/* Checks that none of the NULL-terminated secrets appear in the gateway's log. */
static inline void dir_check_log_clean(dir_env *env, const char *const *secrets)
{
    FILE *f = env->g ? fopen(h_gw_log_path(env->g), "rb") : NULL;
    char *log = NULL;
    size_t len = 0;
    if (f) {
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        log = n >= 0 ? calloc((size_t)n + 1, 1) : NULL;
        len = log ? fread(log, 1, (size_t)n, f) : 0;
        fclose(f);
    }
    H_CHECK(log == NULL || len > 0); /* debug logging writes something */
    H_CHECK(log != NULL);
    for (size_t i = 0; log && secrets[i]; i++) {
        bool clean = strstr(log, secrets[i]) == NULL;
        if (!clean)
            fprintf(stderr, "the gateway log holds the password \"%s\"\n", secrets[i]);
        H_CHECK(clean);
    }
    free(log);
}

static inline void dir_env_stop(dir_env *env)
{
    if (env->g)
        h_gw_stop(env->g);
    env->g = NULL;
    h_slapd_destroy(env->s);
    env->s = NULL;
}

/* The LDAP filter finding the entry with SCIM id `id` the way the directory
 * keeps it: objectGUID as escaped bytes (AD), else nsUniqueId (389-DS). */
static inline char *dir_id_filter(h_slapd *s, const char *id)
{
    if (h_dir_kind_of(s) == H_DIR_SAMBA) {
        unsigned char g[16];
        char *f = malloc(16 * 3 + 16);
        size_t o = 0;
        if (f == NULL || !s2l_guid_parse(id, g)) {
            free(f);
            return NULL;
        }
        o += (size_t)sprintf(f, "(objectGUID=");
        for (size_t i = 0; i < 16; i++)
            o += (size_t)sprintf(f + o, "\\%02x", g[i]);
        sprintf(f + o, ")");
        return f;
    }
    return it_ldap_eq("nsUniqueId", id);
}

/* The entry with SCIM id `id`, read over LDAP (not through the gateway); NULL if none. */
static inline json_t *dir_entry(h_slapd *s, const char *id)
{
    char *f = id ? dir_id_filter(s, id) : NULL;
    json_t *all = f ? h_ldap_search(s, h_dir_suffix(s), f, NULL) : NULL;
    json_t *e = json_array_size(all) == 1 ? json_incref(json_array_get(all, 0)) : NULL;
    json_decref(all);
    free(f);
    return e;
}

static inline char *dir_dn(h_slapd *s, const char *id)
{
    json_t *e = dir_entry(s, id);
    char *dn = e && h_jstr(e, "dn") ? strdup(h_jstr(e, "dn")) : NULL;
    json_decref(e);
    return dn;
}

/* Lists on this directory (server-side sort + VLV): 9 users created through
 * the gateway, listed in pages of 4 sorted by userName both ways and in the
 * mapping's default order; every user once, exact totals, an empty page past
 * the end. */
static inline void dir_list_paging(dir_env *env)
{
    char *ids[9];
    for (int i = 0; i < 9; i++) {
        char body[256];
        snprintf(body, sizeof body, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"pager%02d@example.com\"}",
                 i + 1);
        ids[i] = IT_CREATE(env->g, body);
        H_REQUIRE(ids[i] != NULL);
    }
    static const char *const orders[] = {"&sortBy=userName", "&sortBy=userName&sortOrder=descending", ""};
    for (size_t o = 0; o < 3; o++) {
        json_t *seen = json_object();
        for (int start = 1; start <= 13; start += 4) {
            char path[256];
            snprintf(path, sizeof path,
                     "/Users?filter=userName%%20sw%%20%%22pager%%22&startIndex=%d&count=4&attributes=userName%s",
                     start, orders[o]);
            h_resp r = h_http(env->g, "GET", path, NULL, NULL);
            H_CHECK_STATUS(r, 200);
            H_CHECK_INT(h_jint(r.json, "totalResults", -1), 9);
            long want = start > 9 ? 0 : start + 3 > 9 ? 9 - start + 1 : 4;
            H_CHECK_INT(h_jint(r.json, "itemsPerPage", -1), want);
            const json_t *res = h_jget(r.json, "Resources");
            for (size_t i = 0; i < json_array_size(res); i++) {
                const char *un = h_jstr(json_array_get(res, i), "userName");
                h_check_(un != NULL && json_object_get(seen, un) == NULL, __FILE__, __LINE__, "%s: %s twice", path,
                         un ? un : "?");
                if (o < 2 && un) {
                    /* sorted: pager01..pager09, or the reverse */
                    int n = start + (int)i;
                    char want_un[64];
                    snprintf(want_un, sizeof want_un, "pager%02d@example.com", o == 0 ? n : 10 - n);
                    h_check_(strcasecmp(un, want_un) == 0, __FILE__, __LINE__, "%s: %s at %d, want %s", path, un, n,
                             want_un);
                }
                json_object_set_new(seen, un ? un : "?", json_true());
            }
            h_resp_free(&r);
        }
        H_CHECK_INT(json_object_size(seen), 9);
        json_decref(seen);
    }
    for (int i = 0; i < 9; i++)
        free(ids[i]);
}

/* "/Groups/<id>" or "/Users/<id>" (malloc'd). */
static inline char *dir_path(const char *endpoint, const char *id)
{
    size_t n = strlen(endpoint) + strlen(id) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", endpoint, id);
    return p;
}

/* A PatchOp on endpoint/id. */
static inline h_resp dir_patch(h_gw *g, const char *endpoint, const char *id, const char *operations)
{
    size_t n = strlen(operations) + strlen(IT_URN_PATCH) + 64;
    char *body = malloc(n), *path = dir_path(endpoint, id);
    h_resp r;
    snprintf(body, n, "{\"schemas\":[\"%s\"],\"Operations\":%s}", IT_URN_PATCH, operations);
    r = h_http(g, "PATCH", path, body, NULL);
    free(body);
    free(path);
    return r;
}

static inline h_resp dir_get(h_gw *g, const char *endpoint, const char *id)
{
    char *path = dir_path(endpoint, id);
    h_resp r = h_http(g, "GET", path, NULL, NULL);
    free(path);
    return r;
}

static inline h_resp dir_delete(h_gw *g, const char *endpoint, const char *id)
{
    char *path = dir_path(endpoint, id);
    h_resp r = h_http(g, "DELETE", path, NULL, NULL);
    free(path);
    return r;
}

/* Whether a SCIM multi-valued reference (members, groups) holds id. */
static inline bool dir_refs_hold(const json_t *arr, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *x = json_string_value(json_object_get(v, "value"));
        if (x && strcmp(x, id) == 0)
            return true;
    }
    return false;
}

/* Whether entry holds DN value dn for attr, compared as DNs (case-insensitively). */
static inline bool dir_has_dn(const json_t *entry, const char *attr, const char *dn)
{
    return h_ldap_has_value(entry, attr, dn, true);
}

/* ---- deprovisioning policies and the provisioning scope on this directory ---- */

/* What differs between the directories for dir_policies_flow. */
typedef struct dir_policy_case {
    const char *mapping;         /* "mappings/active-directory.json" */
    const char *rdn_attr;        /* the groups' RDN attribute: "CN" / "cn" */
    const char *people;          /* the users' base DN */
    const char *groups;          /* the groups' base DN */
    const char *suffix;
    bool (*inactive)(const json_t *entry); /* the policy's mark (flag bit, nsAccountLock) */
} dir_policy_case;

/* Writes mapping m to a temporary file: its path (malloc'd; unlink and free it). */
static inline char *dir_write_mapping(const json_t *m)
{
    const char *tmp = getenv("TMPDIR");
    char *out = malloc(4096);
    H_REQUIRE(out != NULL);
    snprintf(out, 4096, "%s/s2l-mapping-XXXXXX.json", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemps(out, 5);
    H_REQUIRE(fd >= 0);
    close(fd);
    H_REQUIRE(json_dump_file(m, out, JSON_INDENT(2)) == 0);
    return out;
}

/* The directory's mapping with move_to for active: false (inside the users'
 * OU), a DELETE policy (the same mark, moved out of the scope), protected
 * entries (title "Protected Account") and a default group ("All Staff").
 * Writes the two OUs. Path of the mapping (malloc'd). */
static inline char *dir_policy_mapping(dir_env *env, const dir_policy_case *c, char *disabled, char *deleted,
                                       char *staff, size_t len)
{
    const char *ou = h_dir_kind_of(env->s) == H_DIR_SAMBA ? "OU" : "ou";
    snprintf(disabled, len, "%s=Disabled,%s", ou, c->people);
    snprintf(deleted, len, "%s=Deleted,%s", ou, c->suffix);
    snprintf(staff, len, "%s=All Staff,%s", c->rdn_attr, c->groups);
    char ldif[1024];
    snprintf(ldif, sizeof ldif, "dn: %s\nobjectClass: organizationalUnit\n%s: Disabled\n\n"
                                "dn: %s\nobjectClass: organizationalUnit\n%s: Deleted\n", disabled, ou, deleted, ou);
    H_REQUIRE(h_ldap_ldif(env->s, ldif) == 2);

    char path[4096];
    json_error_t jerr;
    snprintf(path, sizeof path, "%s/%s", S2L_SOURCE_DIR, c->mapping);
    json_t *m = json_load_file(path, 0, &jerr);
    H_REQUIRE(m != NULL);
    json_t *rt = json_array_get(json_object_get(m, "resource_types"), 0);
    H_REQUIRE(strcmp(json_string_value(json_object_get(rt, "name")), "User") == 0);
    json_object_set_new(json_object_get(rt, "ldap"), "scope", json_string("sub"));
    json_t *af = json_object_get(json_object_get(rt, "deprovision"), "active_false");
    H_REQUIRE(json_is_object(af));
    json_object_set_new(af, "move_to", json_string(disabled));
    json_t *del = json_pack("{s:O, s:s}", "set", json_object_get(af, "set"), "move_to", deleted);
    json_object_set_new(json_object_get(rt, "deprovision"), "delete", del);
    json_object_set_new(rt, "provisioning", json_pack("{s:s, s:[s], s:s}", "protected", "(title=Protected Account)",
                                                      "default_groups", staff, "boundary", c->suffix));
    char *out = dir_write_mapping(m);
    json_decref(m);
    return out;
}

/* Whether dn's parent is `parent` (compared case-insensitively, as written). */
static inline bool dir_parent_is(const char *dn, const char *parent)
{
    for (const char *p = dn; p && *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == ',')
            return strcasecmp(p + 1 + strspn(p + 1, " "), parent) == 0;
    }
    return false;
}

static inline bool dir_members_hold(h_gw *g, const char *gid, const char *id)
{
    h_resp r = dir_get(g, "/Groups", gid);
    bool ok = r.json && dir_refs_hold(h_jget(r.json, "members"), id);
    h_resp_free(&r);
    return ok;
}

/* The policies end to end on this directory, through a second gateway with
 * dir_policy_mapping: a created user joins the default group (and shows it);
 * active false moves it into the disabled OU with the mark, its group's member
 * value following, still readable and found; active true brings it back; a
 * protected entry answers 403 to every write and stays as it was; DELETE
 * moves the entry out of the scope with the mark (404 afterwards). */
static inline void dir_policies_flow(dir_env *env, const dir_policy_case *c)
{
    char disabled[256], deleted[256], staff[256];
    char *mapping = dir_policy_mapping(env, c, disabled, deleted, staff, sizeof disabled);
    char extra[4200];
    snprintf(extra, sizeof extra, "{\"mapping\":\"%s\"}", mapping);
    h_gw *g = h_gw_start(env->s, extra);
    H_REQUIRE(g != NULL);

    h_resp r = h_http(g, "POST", "/Groups", "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],"
                                            "\"displayName\":\"All Staff\"}", NULL);
    H_CHECK_STATUS(r, 201);
    char *gid = r.status == 201 && h_jstr(r.json, "id") ? strdup(h_jstr(r.json, "id")) : NULL;
    h_resp_free(&r);
    H_REQUIRE(gid != NULL);

    /* default group, in the create */
    r = h_http(g, "POST", "/Users", "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"mover@example.com\","
                                    "\"displayName\":\"Mover\",\"active\":true}", NULL);
    H_CHECK_STATUS(r, 201);
    char *uid = r.status == 201 && h_jstr(r.json, "id") ? strdup(h_jstr(r.json, "id")) : NULL;
    H_CHECK(r.json && dir_refs_hold(h_jget(r.json, "groups"), gid)); /* memberOf, read back */
    h_resp_free(&r);
    H_REQUIRE(uid != NULL);
    char *dn1 = dir_dn(env->s, uid);
    H_REQUIRE(dn1 != NULL);
    H_CHECK(dir_parent_is(dn1, c->people));
    json_t *ge = h_ldap_entry(env->s, staff);
    H_CHECK(ge && dir_has_dn(ge, "member", dn1));
    json_decref(ge);

    /* active false: moved, marked, references following */
    r = dir_patch(g, "/Users", uid, "[{\"op\":\"replace\",\"path\":\"active\",\"value\":false}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    json_t *e = dir_entry(env->s, uid);
    char *dn2 = e && h_jstr(e, "dn") ? strdup(h_jstr(e, "dn")) : NULL;
    H_CHECK(dn2 && dir_parent_is(dn2, disabled));
    H_CHECK(e && c->inactive(e));
    json_decref(e);
    H_CHECK(dn2 && h_ldap_wait_value(env->s, staff, "member", dn2, true, 5000));
    r = dir_get(g, "/Users", uid);
    H_CHECK_STATUS(r, 200);
    H_CHECK(json_is_false(h_jget(r.json, "active")));
    h_resp_free(&r);
    H_CHECK(dir_members_hold(g, gid, uid));
    char *got = NULL;
    H_CHECK_INT(IT_LIST_COUNT(g, "userName eq \"mover@example.com\" and active eq false", &got), 1);
    H_CHECK_STR(got, uid);
    free(got);

    /* active true: back where it was, unmarked */
    r = dir_patch(g, "/Users", uid, "[{\"op\":\"replace\",\"path\":\"active\",\"value\":true}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    e = dir_entry(env->s, uid);
    H_CHECK(e && h_jstr(e, "dn") && strcasecmp(h_jstr(e, "dn"), dn1) == 0);
    H_CHECK(e && !c->inactive(e));
    json_decref(e);
    H_CHECK(h_ldap_wait_value(env->s, staff, "member", dn1, true, 5000));

    /* protected: readable, never written */
    r = h_http(g, "POST", "/Users", "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"guarded@example.com\","
                                    "\"title\":\"Protected Account\",\"active\":true}", NULL);
    H_CHECK_STATUS(r, 201);
    char *pid = r.status == 201 && h_jstr(r.json, "id") ? strdup(h_jstr(r.json, "id")) : NULL;
    h_resp_free(&r);
    H_REQUIRE(pid != NULL);
    json_t *pe = dir_entry(env->s, pid);
    r = dir_patch(g, "/Users", pid, "[{\"op\":\"replace\",\"path\":\"active\",\"value\":false}]");
    IT_CHECK_ERROR(r, 403, NULL);
    h_resp_free(&r);
    r = dir_patch(g, "/Users", pid, "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"Mine\"}]");
    IT_CHECK_ERROR(r, 403, NULL);
    h_resp_free(&r);
    r = dir_delete(g, "/Users", pid);
    IT_CHECK_ERROR(r, 403, NULL);
    h_resp_free(&r);
    r = dir_get(g, "/Users", pid);
    H_CHECK_STATUS(r, 200);
    h_resp_free(&r);
    json_t *pe2 = dir_entry(env->s, pid);
    const char *ver = h_dir_kind_of(env->s) == H_DIR_SAMBA ? "usnchanged" : "entryusn";
    H_CHECK(pe && pe2 && h_ldap_attr(pe, ver) && strcmp(h_ldap_attr(pe, ver), h_ldap_attr(pe2, ver)) == 0);
    H_CHECK(pe2 && strcasecmp(h_jstr(pe2, "dn"), h_jstr(pe, "dn")) == 0);
    json_decref(pe);
    json_decref(pe2);

    /* DELETE: out of the scope, marked, 404 from now on */
    r = dir_delete(g, "/Users", uid);
    H_CHECK_STATUS(r, 204);
    h_resp_free(&r);
    e = dir_entry(env->s, uid);
    H_CHECK(e && h_jstr(e, "dn") && dir_parent_is(h_jstr(e, "dn"), deleted));
    H_CHECK(e && c->inactive(e));
    json_decref(e);
    r = dir_get(g, "/Users", uid);
    H_CHECK_STATUS(r, 404);
    h_resp_free(&r);
    r = dir_delete(g, "/Users", uid);
    H_CHECK_STATUS(r, 404);
    h_resp_free(&r);
    H_CHECK_INT(IT_LIST_COUNT(g, "userName eq \"mover@example.com\"", NULL), 0);
    H_CHECK(!dir_members_hold(g, gid, uid));

    h_gw_stop(g);
    unlink(mapping);
    free(mapping);
    free(gid);
    free(uid);
    free(pid);
    free(dn1);
    free(dn2);
}

#endif
