/* it_users_common.h — helpers shared by the Users integration suites
 * (it_users_*.c, it_discovery.c), on top of harness.h.
 *
 * Header-only (static inline) because CMake builds every it_*.c as its own
 * executable and links only the harness library; an unused helper costs
 * nothing and does not warn.
 *
 * Conventions: checks report the CALLER's file and line (the IT_* macros pass
 * them), so a failure points at the test step, not at this file. Returned
 * char * and json_t * are owned by the caller (free / json_decref).
 */
#ifndef S2L_IT_USERS_COMMON_H
#define S2L_IT_USERS_COMMON_H

#include <ldap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "harness.h"

#define IT_URN_USER "urn:ietf:params:scim:schemas:core:2.0:User"
#define IT_URN_ENT "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define IT_URN_PATCH "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define IT_URN_LIST "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define IT_URN_ERROR "urn:ietf:params:scim:api:messages:2.0:Error"
#define IT_LOCKED "000001010000Z"

/* ------------------------------------------------------------------ environment */

typedef struct it_env {
    h_slapd *s;
    h_gw *g;
} it_env;

/* Starts a private slapd (ppolicy, sssvlv, monitor) and the real gateway with
 * extra_config (JSON object text or NULL). Returns false when the suite has to
 * skip because the gateway binary cannot run yet; with S2L_REQUIRE_GATEWAY=1
 * that counts as a failure instead. Infrastructure failures end the test. */
static inline bool it_env_start(it_env *env, const char *extra_config)
{
    char why[512] = "";
    const char *req = getenv("S2L_REQUIRE_GATEWAY");

    env->g = NULL;
    env->s = h_slapd_start(NULL);
    H_REQUIRE(env->s != NULL);
    if (!h_gw_can_run(env->s, why, sizeof why)) {
        if (req && strcmp(req, "1") == 0) {
            h_check_(false, __FILE__, __LINE__, "the gateway cannot run: %s", why);
            return false;
        }
        H_SKIP("the gateway cannot run yet (%s)", why);
        return false;
    }
    env->g = h_gw_start(env->s, extra_config);
    H_REQUIRE(env->g != NULL);
    return true;
}

/* A copy of the default mapping with top-level keys replaced by those of
 * settings (JSON object text, e.g. the policies), written to a temporary file.
 * Returns its path (malloc'd; unlink and free it when done) or NULL. */
static inline char *it_mapping_variant(const char *settings)
{
    json_error_t jerr;
    json_t *m = json_load_file(S2L_SOURCE_DIR "/mappings/openldap.json", 0, &jerr);
    json_t *set = json_loads(settings, 0, &jerr);
    const char *tmp = getenv("TMPDIR");
    char *path = malloc(4096);
    int fd = -1;

    if (m == NULL || !json_is_object(set) || path == NULL || json_object_update(m, set) != 0)
        goto fail;
    snprintf(path, 4096, "%s/s2l-mapping-XXXXXX.json", tmp && *tmp ? tmp : "/tmp");
    fd = mkstemps(path, 5);
    if (fd < 0)
        goto fail;
    close(fd);
    if (json_dump_file(m, path, JSON_INDENT(2)) != 0) {
        unlink(path);
        goto fail;
    }
    json_decref(m);
    json_decref(set);
    return path;
fail:
    fprintf(stderr, "it_mapping_variant: cannot write a mapping with %s\n", settings);
    json_decref(m);
    json_decref(set);
    free(path);
    return NULL;
}

/* "{\"mapping\": \"<path>\"}" for it_env_start (malloc'd). */
static inline char *it_mapping_config(const char *path)
{
    json_t *j = json_pack("{s:s}", "mapping", path);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return text;
}

/* Stops the gateway (one assertion: clean exit, no sanitizer report) and slapd. */
static inline void it_env_stop(it_env *env)
{
    if (env->g)
        h_gw_stop(env->g);
    env->g = NULL;
    h_slapd_destroy(env->s);
    env->s = NULL;
}

/* ------------------------------------------------------------------ text */

/* A SCIM filter string literal for v: double-quoted with JSON escapes, as
 * RFC 7644 §3.4.2.2 defines compValue strings. */
static inline char *it_scim_quote(const char *v)
{
    json_t *s = json_string(v);
    char *out = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
    json_decref(s);
    return out;
}

/* "/Users?filter=<percent-encoded filter>" followed by "&extra" when given. */
static inline char *it_filter_path(const char *filter, const char *extra)
{
    char *enc = h_urlencode(filter);
    char *out = NULL;
    size_t n;

    if (enc == NULL)
        return NULL;
    n = strlen(enc) + (extra ? strlen(extra) : 0) + 32;
    out = malloc(n);
    if (out)
        snprintf(out, n, "/Users?filter=%s%s%s", enc, extra ? "&" : "", extra ? extra : "");
    free(enc);
    return out;
}

/* `<attr> eq "<value>"` with the value quoted as SCIM wants it. */
static inline char *it_eq_filter(const char *attr, const char *value)
{
    char *q = it_scim_quote(value);
    char *out = NULL;
    size_t n;

    if (q == NULL)
        return NULL;
    n = strlen(attr) + strlen(q) + 8;
    out = malloc(n);
    if (out)
        snprintf(out, n, "%s eq %s", attr, q);
    free(q);
    return out;
}

/* ------------------------------------------------------------------ HTTP checks */

static inline bool it_is_scim_json(const h_resp *r)
{
    const char *ct = h_header(r, "Content-Type");
    return ct && strncasecmp(ct, "application/scim+json", 21) == 0;
}

/* Whether `word` is one of the '|'-separated alternatives in `alts`. */
static inline bool it_one_of(const char *word, const char *alts)
{
    size_t wl;

    if (word == NULL || alts == NULL)
        return false;
    wl = strlen(word);
    for (const char *p = alts; *p;) {
        const char *e = strchr(p, '|');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == wl && strncmp(p, word, l) == 0)
            return true;
        p += l + (e ? 1 : 0);
    }
    return false;
}

/* A SCIM Error (RFC 7644 §3.12): the status, the Error schema, "status" as a
 * string equal to the HTTP status, a detail, scim+json, and scimType one of
 * scim_types ('|'-separated; NULL = not checked, "" = must be absent). */
static inline void it_check_error_(const h_resp *r, int status, const char *scim_types, const char *file,
                                   int line)
{
    char want[16];
    const char *st;
    const char *type;
    const json_t *schemas;
    bool has_urn = false;
    size_t i;
    json_t *v;

    h_check_status_(r, status, file, line);
    if (r->status != status)
        return;
    h_check_(r->json != NULL, file, line, "%s %s: error body is not JSON: %.300s", r->method, r->target,
             r->body ? r->body : "");
    if (r->json == NULL)
        return;
    h_check_(it_is_scim_json(r), file, line, "%s %s: error Content-Type is %s", r->method, r->target,
             h_header(r, "Content-Type") ? h_header(r, "Content-Type") : "(none)");
    schemas = h_jget(r->json, "schemas");
    json_array_foreach(schemas, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), IT_URN_ERROR) == 0)
            has_urn = true;
    }
    h_check_(has_urn, file, line, "%s %s: error lacks the Error schema: %.300s", r->method, r->target, r->body);
    snprintf(want, sizeof want, "%d", status);
    st = h_jstr(r->json, "status");
    h_check_(st && strcmp(st, want) == 0, file, line, "%s %s: error \"status\" is %s, want the string \"%s\"",
             r->method, r->target, st ? st : "(not a string)", want);
    h_check_(h_jstr(r->json, "detail") != NULL, file, line, "%s %s: error has no detail", r->method,
             r->target);
    if (scim_types == NULL)
        return;
    type = h_jstr(r->json, "scimType");
    if (scim_types[0] == 0)
        h_check_(type == NULL, file, line, "%s %s: unexpected scimType %s", r->method, r->target, type);
    else
        h_check_(it_one_of(type, scim_types), file, line, "%s %s: scimType %s, want %s (body %.300s)",
                 r->method, r->target, type ? type : "(none)", scim_types, r->body);
}
#define IT_CHECK_ERROR(resp, status, types) it_check_error_(&(resp), (status), (types), __FILE__, __LINE__)

/* POSTs a User given as JSON text; checks 201 and returns the new id (NULL if
 * the create failed: the failure is counted and printed). */
static inline char *it_create_(h_gw *g, const char *body, const char *file, int line)
{
    h_resp r = h_http(g, "POST", "/Users", body, NULL);
    char *id = NULL;

    h_check_status_(&r, 201, file, line);
    if (r.status == 201) {
        const char *s = h_jstr(r.json, "id");
        h_check_(s != NULL, file, line, "POST /Users: 201 without an id: %.300s", r.body);
        if (s)
            id = strdup(s);
    }
    h_resp_free(&r);
    return id;
}
#define IT_CREATE(g, body) it_create_((g), (body), __FILE__, __LINE__)

/* Same with a json_t body (borrowed). */
static inline char *it_create_json_(h_gw *g, const json_t *body, const char *file, int line)
{
    char *text = json_dumps(body, JSON_COMPACT);
    char *id = NULL;

    h_check_(text != NULL, file, line, "cannot serialise a request body");
    if (text)
        id = it_create_(g, text, file, line);
    free(text);
    return id;
}
#define IT_CREATE_JSON(g, body) it_create_json_((g), (body), __FILE__, __LINE__)

/* GET /Users?filter=... and checks the ListResponse shape (200, integers,
 * Resources consistent with itemsPerPage). Returns totalResults (-1 on error);
 * *first_id (optional) gets the first resource's id (malloc'd) or NULL. */
static inline long it_list_count_(h_gw *g, const char *filter, char **first_id, const char *file, int line)
{
    char *path = it_filter_path(filter, NULL);
    h_resp r;
    long total = -1;
    json_t *res;

    if (first_id)
        *first_id = NULL;
    if (path == NULL) {
        h_check_(false, file, line, "out of memory");
        return -1;
    }
    r = h_http(g, "GET", path, NULL, NULL);
    h_check_status_(&r, 200, file, line);
    if (r.status == 200 && r.json) {
        json_t *tr = h_jget(r.json, "totalResults");
        json_t *ipp = h_jget(r.json, "itemsPerPage");
        res = h_jget(r.json, "Resources");
        h_check_(json_is_integer(tr), file, line, "filter %s: totalResults is not an integer", filter);
        total = json_is_integer(tr) ? (long)json_integer_value(tr) : -1;
        /* RFC 7644 §3.4.2: Resources may be left out only when nothing matched. */
        h_check_(res ? json_is_array(res) : total == 0, file, line, "filter %s: Resources missing or not an array",
                 filter);
        if (ipp)
            h_check_(json_is_integer(ipp) && (size_t)json_integer_value(ipp) == json_array_size(res), file, line,
                     "filter %s: itemsPerPage does not match Resources", filter);
        if (first_id && json_array_size(res) > 0) {
            const char *id = h_jstr(json_array_get(res, 0), "id");
            *first_id = id ? strdup(id) : NULL;
        }
    }
    h_resp_free(&r);
    free(path);
    return total;
}
#define IT_LIST_COUNT(g, filter, first_id) it_list_count_((g), (filter), (first_id), __FILE__, __LINE__)

/* Sends a PatchOp with the given Operations array (JSON text). */
static inline h_resp it_patch(h_gw *g, const char *id, const char *operations)
{
    size_t n = strlen(operations) + strlen(IT_URN_PATCH) + 64;
    char *body = malloc(n);
    char *path = malloc(strlen(id) + 16);
    h_resp r;

    if (body == NULL || path == NULL) {
        memset(&r, 0, sizeof r);
        snprintf(r.err, sizeof r.err, "out of memory");
        free(body);
        free(path);
        return r;
    }
    snprintf(body, n, "{\"schemas\":[\"%s\"],\"Operations\":%s}", IT_URN_PATCH, operations);
    snprintf(path, strlen(id) + 16, "/Users/%s", id);
    r = h_http(g, "PATCH", path, body, NULL);
    free(body);
    free(path);
    return r;
}

/* "/Users/<id>" (malloc'd). */
static inline char *it_user_path(const char *id)
{
    size_t n = strlen(id) + 16;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "/Users/%s", id);
    return p;
}

/* ------------------------------------------------------------------ LDAP checks */

/* "(attr=<escaped value>)" (malloc'd). */
static inline char *it_ldap_eq(const char *attr, const char *value)
{
    struct berval in = {strlen(value), (char *)value};
    struct berval esc = {0, NULL};
    char *out = NULL;
    size_t n;

    if (ldap_bv2escaped_filter_value(&in, &esc) != 0)
        return NULL;
    n = strlen(attr) + esc.bv_len + 4;
    out = malloc(n);
    if (out)
        snprintf(out, n, "(%s=%s)", attr, esc.bv_val);
    ber_memfree(esc.bv_val);
    return out;
}

/* An HTTP request and what it cost slapd: the difference of its cn=Monitor
 * operation counts around the request (the direct-write suites). */
typedef struct it_counted {
    h_resp r;
    h_op_counts d;
} it_counted;

static inline it_counted it_request_counted(h_slapd *s, h_gw *g, const char *method, const char *path,
                                            const char *body, const char *if_match)
{
    it_counted c;
    h_op_counts a, b;
    char hdr[256];
    snprintf(hdr, sizeof hdr, "If-Match: %s", if_match ? if_match : "");
    const char *hdrs[] = {hdr, NULL};
    memset(&c, 0, sizeof c);
    H_REQUIRE(h_slapd_op_counts(s, &a) == 0);
    c.r = h_http(g, method, path, body, if_match ? hdrs : NULL);
    H_REQUIRE(h_slapd_op_counts(s, &b) == 0);
    c.d = (h_op_counts){b.search - a.search, b.add - a.add, b.modify - a.modify, b.del - a.del,
                        b.modrdn - a.modrdn, 0, 0};
    return c;
}

/* The request was exactly one modify: no search, add, delete or modrdn. */
static inline void it_check_one_modify_(const it_counted *c, const char *file, int line)
{
    h_check_(c->d.search == 0 && c->d.modify == 1 && c->d.add == 0 && c->d.del == 0 && c->d.modrdn == 0, file,
             line, "want exactly one modify and no search; got %ld search, %ld modify, %ld add, %ld delete, %ld modrdn",
             c->d.search, c->d.modify, c->d.add, c->d.del, c->d.modrdn);
}
#define IT_CHECK_ONE_MODIFY(c) it_check_one_modify_((c), __FILE__, __LINE__)

/* The directory entry whose entryUUID is id (searched directly, not through
 * the gateway), or NULL if there is none. */
static inline json_t *it_entry_by_id(h_slapd *s, const char *id)
{
    char *f = id ? it_ldap_eq("entryUUID", id) : NULL;
    json_t *all = f ? h_ldap_search(s, H_SUFFIX, f, NULL) : NULL;
    json_t *e = NULL;

    if (json_array_size(all) == 1)
        e = json_incref(json_array_get(all, 0));
    json_decref(all);
    free(f);
    return e;
}

/* The DN of the entry with entryUUID id (malloc'd) or NULL. */
static inline char *it_dn_by_id(h_slapd *s, const char *id)
{
    json_t *e = it_entry_by_id(s, id);
    const char *dn = e ? h_jstr(e, "dn") : NULL;
    char *out = dn ? strdup(dn) : NULL;
    json_decref(e);
    return out;
}

/* Number of values of attr (lower-case name) in entry. */
static inline size_t it_nvals(const json_t *entry, const char *attr)
{
    return json_array_size(json_object_get(json_object_get(entry, "attrs"), attr));
}

/* Whether dn parses as <attr>=<value>,<parent> with exactly this (unescaped)
 * value and parent (compared case-insensitively, as LDAP does for these). */
static inline bool it_dn_is(const char *dn, const char *attr, const char *value, const char *parent)
{
    LDAPDN parsed = NULL;
    bool ok = false;
    const char *comma;

    if (dn == NULL || ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || parsed == NULL)
        return false;
    if (parsed[0] && parsed[0][0] && !parsed[0][1]) {
        const LDAPAVA *ava = parsed[0][0];
        ok = ava->la_attr.bv_len == strlen(attr) && strncasecmp(ava->la_attr.bv_val, attr, strlen(attr)) == 0 &&
             ava->la_value.bv_len == strlen(value) && memcmp(ava->la_value.bv_val, value, strlen(value)) == 0;
    }
    ldap_dnfree(parsed);
    /* The parent is what follows the first unescaped comma. */
    comma = NULL;
    for (const char *p = dn; *p && !comma; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == ',')
            comma = p;
    }
    return ok && comma && strcasecmp(comma + 1, parent) == 0;
}

/* Sets an LDAP password directly (as rootdn), for users created without one.
 * dn goes into LDIF as is: only for DNs without leading spaces, ':' or '<'
 * and without line breaks (LDIF would need base64 for those). */
static inline bool it_set_password(h_slapd *s, const char *dn, const char *pw)
{
    size_t n = strlen(dn) + strlen(pw) + 96;
    char *ldif = malloc(n);
    int rc;

    if (ldif == NULL)
        return false;
    snprintf(ldif, n, "dn: %s\nchangetype: modify\nreplace: userPassword\nuserPassword: %s\n-\n", dn, pw);
    rc = h_ldap_ldif_rc(s, ldif);
    free(ldif);
    return rc == 0;
}

#endif
