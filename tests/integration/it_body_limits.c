/* it_body_limits.c — what one request body may hold (issue 11, items 7 and
 * 12), through the real gateway on a real slapd:
 *  - case-variant duplicate keys ("userName" and "UserName") are 400
 *    invalidSyntax naming the attribute, at the top, nested, in a
 *    multi-valued attribute's value, in PATCH operations and their values;
 *  - more values in one attribute than limits.max_values_per_attribute, more
 *    JSON values than limits.max_json_nodes: 413; nesting deeper than
 *    limits.max_json_depth: 400 invalidSyntax — with the defaults and with a
 *    configuration that lowers them;
 *  - every refused request leaves the directory exactly as it was, and bodies
 *    within the limits still work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_users_common.h"

#define URN_GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"

typedef struct body_case {
    const char *what;
    const char *method;
    const char *path;      /* "{id}" = the user's id, "{gid}" = the group's */
    const char *body;
    int status;
    const char *scim_type; /* NULL: none */
    const char *in_detail;
} body_case;

#define PATCH(ops) "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":" ops "}"

static const body_case case_variants[] = {
    {"userName and UserName", "POST", "/Users",
     "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"first\",\"UserName\":\"second\"}", 400, "invalidSyntax",
     "\"userName\" is given twice"},
    {"in name", "POST", "/Users",
     "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"n1\",\"name\":{\"givenName\":\"A\",\"GIVENNAME\":\"B\"}}", 400,
     "invalidSyntax", "\"name.givenName\""},
    {"in an email", "POST", "/Users",
     "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"n2\","
     "\"emails\":[{\"value\":\"a@x.org\",\"Value\":\"b@x.org\"}]}",
     400, "invalidSyntax", "\"emails[0].value\""},
    {"in the enterprise extension", "POST", "/Users",
     "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"n3\","
     "\"" IT_URN_ENT "\":{\"department\":\"a\",\"Department\":\"b\"}}",
     400, "invalidSyntax", "department"},
    {"PUT", "PUT", "/Users/{id}",
     "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"limits.user\",\"title\":\"a\",\"TITLE\":\"b\"}", 400,
     "invalidSyntax", "\"title\""},
    {"PATCH value", "PATCH", "/Users/{id}", PATCH("[{\"op\":\"replace\",\"value\":{\"title\":\"a\",\"Title\":\"b\"}}]"),
     400, "invalidSyntax", "\"Operations[0].value.title\""},
    {"PATCH operation", "PATCH", "/Users/{id}",
     PATCH("[{\"op\":\"replace\",\"Op\":\"add\",\"path\":\"title\",\"value\":\"x\"}]"), 400, "invalidSyntax",
     "\"Operations[0].op\""},
    {"PATCH envelope", "PATCH", "/Users/{id}",
     "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":[],\"operations\":[{\"op\":\"replace\",\"path\":\"title\","
     "\"value\":\"x\"}]}",
     400, "invalidSyntax", "\"Operations\""},
    {"group members", "PATCH", "/Groups/{gid}",
     PATCH("[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"{id}\",\"VALUE\":\"{id}\"}]}]"), 400,
     "invalidSyntax", "value"},
    {"group create", "POST", "/Groups",
     "{\"schemas\":[\"" URN_GROUP "\"],\"displayName\":\"g1\",\"DisplayName\":\"g2\"}", 400, "invalidSyntax",
     "\"displayName\""},
};

/* "{id}"/"{gid}" replaced. */
static char *fill(const char *text, const char *id, const char *gid)
{
    size_t n = strlen(text) + 8 * (strlen(id) + strlen(gid)) + 1;
    char *out = malloc(n), *o = out;
    H_REQUIRE(out != NULL);
    for (const char *p = text; *p;) {
        if (strncmp(p, "{id}", 4) == 0) {
            o += sprintf(o, "%s", id);
            p += 4;
        } else if (strncmp(p, "{gid}", 5) == 0) {
            o += sprintf(o, "%s", gid);
            p += 5;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

static void run_case(it_env *env, const body_case *c, const char *id, const char *gid)
{
    char *path = fill(c->path, id, gid), *body = fill(c->body, id, gid);
    char *before = h_ldap_snapshot(env->s);
    h_resp r = h_http(env->g, c->method, path, body, NULL);
    fprintf(stderr, "-- %s: %d\n", c->what, r.status);
    it_check_error_(&r, c->status, c->scim_type ? c->scim_type : "", __FILE__, __LINE__);
    const char *detail = h_jstr(r.json, "detail");
    if (c->in_detail && (detail == NULL || strstr(detail, c->in_detail) == NULL))
        fprintf(stderr, "%s: detail \"%s\" lacks %s\n", c->what, detail ? detail : "(none)", c->in_detail);
    H_CHECK(c->in_detail == NULL || (detail && strstr(detail, c->in_detail) != NULL));
    char *after = h_ldap_snapshot(env->s);
    H_CHECK(h_snapshot_same(before, after));
    free(before);
    free(after);
    h_resp_free(&r);
    free(path);
    free(body);
}

/* A user with n emails (JSON text, malloc'd). */
static char *user_with_emails(const char *user_name, size_t n)
{
    size_t cap = 128 + n * 40;
    char *b = malloc(cap);
    H_REQUIRE(b != NULL);
    size_t o =
        (size_t)snprintf(b, cap, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"%s\",\"emails\":[", user_name);
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(b + o, cap - o, "%s{\"value\":\"m%zu@x.org\"}", i ? "," : "", i);
    snprintf(b + o, cap - o, "]}");
    return b;
}

/* A user whose "name" holds `levels` nested objects below it. */
static char *user_nested(const char *user_name, int levels)
{
    size_t cap = 128 + (size_t)levels * 16;
    char *b = malloc(cap);
    H_REQUIRE(b != NULL);
    size_t o = (size_t)snprintf(b, cap, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"%s\",\"name\":", user_name);
    for (int i = 0; i < levels; i++)
        o += (size_t)snprintf(b + o, cap - o, "{\"x\":");
    o += (size_t)snprintf(b + o, cap - o, "1");
    for (int i = 0; i < levels; i++)
        o += (size_t)snprintf(b + o, cap - o, "}");
    snprintf(b + o, cap - o, "}");
    return b;
}

static void check_refused(it_env *env, h_gw *g, const char *body, int status, const char *type, const char *in_detail)
{
    char *before = h_ldap_snapshot(env->s);
    h_resp r = h_http(g, "POST", "/Users", body, NULL);
    it_check_error_(&r, status, type, __FILE__, __LINE__);
    const char *detail = h_jstr(r.json, "detail");
    if (detail == NULL || strstr(detail, in_detail) == NULL)
        fprintf(stderr, "detail \"%s\" lacks %s\n", detail ? detail : "(none)", in_detail);
    H_CHECK(detail != NULL && strstr(detail, in_detail) != NULL);
    char *after = h_ldap_snapshot(env->s);
    H_CHECK(h_snapshot_same(before, after));
    free(before);
    free(after);
    h_resp_free(&r);
}

static void default_limits(it_env *env)
{
    /* Past the default of 20,000 values in one attribute. */
    char *b = user_with_emails("limits.many", 20001);
    check_refused(env, env->g, b, 413, "", "\"emails\" has 20001 values");
    free(b);
    b = user_nested("limits.deep", 40);
    check_refused(env, env->g, b, 400, "invalidSyntax", "nested more than 32 levels");
    free(b);
    /* Within the defaults. */
    b = user_with_emails("limits.fine", 200);
    char *id = IT_CREATE(env->g, b);
    H_CHECK(id != NULL);
    free(id);
    free(b);
    json_t *e = h_ldap_entry(env->s, "uid=limits.fine," H_PEOPLE);
    H_CHECK(e != NULL);
    H_CHECK(it_nvals(e, "mail") + it_nvals(e, "scimhomeemail") >= 1);
    json_decref(e);
}

static void configured_limits(it_env *env)
{
    h_gw *g = h_gw_start(env->s, "{\"limits\":{\"max_values_per_attribute\":5,\"max_json_depth\":4,"
                                 "\"max_json_nodes\":40}}");
    H_REQUIRE(g != NULL);

    char *b = user_with_emails("small.six", 6);
    check_refused(env, g, b, 413, "", "at most 5");
    free(b);
    /* 5 emails: 1 + schemas 2 + userName 1 + emails 1 + 5 x 2 = 15 values, 3 levels. */
    b = user_with_emails("small.five", 5);
    char *id = IT_CREATE(g, b);
    H_CHECK(id != NULL);
    free(id);
    free(b);
    /* Depth: body 1, name 2, then 3 more levels = 5 > 4. */
    b = user_nested("small.deep", 4);
    check_refused(env, g, b, 400, "invalidSyntax", "nested more than 4 levels");
    free(b);
    /* Nodes: 5 emails of 9 values each, plus 5: past 40 values. */
    char big[4096];
    size_t o = (size_t)snprintf(big, sizeof big,
                                "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"small.nodes\",\"emails\":[");
    for (int i = 0; i < 5; i++)
        o += (size_t)snprintf(big + o, sizeof big - o,
                              "%s{\"value\":\"n%d@x.org\",\"type\":\"work\",\"primary\":false,\"display\":\"d\","
                              "\"a\":1,\"b\":2,\"c\":3,\"d\":4}",
                              i ? "," : "", i);
    snprintf(big + o, sizeof big - o, "]}");
    check_refused(env, g, big, 413, "", "more than 40 JSON values");
    h_gw_stop(g);
}

int main(void)
{
    it_env env;
    if (!it_env_start(&env, NULL))
        return H_DONE();
    char *id = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"limits.user\",\"title\":\"t\"}");
    H_REQUIRE(id != NULL);
    h_resp r = h_http(env.g, "POST", "/Groups", "{\"schemas\":[\"" URN_GROUP "\"],\"displayName\":\"limits.group\"}",
                      NULL);
    H_CHECK_STATUS(r, 201);
    char *gid = h_jstr(r.json, "id") ? strdup(h_jstr(r.json, "id")) : NULL;
    h_resp_free(&r);
    H_REQUIRE(gid != NULL);

    for (size_t i = 0; i < sizeof case_variants / sizeof case_variants[0]; i++)
        run_case(&env, &case_variants[i], id, gid);

    /* The same attribute spelt once still works, in any case. */
    r = it_patch(env.g, id, "[{\"op\":\"replace\",\"value\":{\"TITLE\":\"Boss\"}}]");
    H_CHECK(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    json_t *e = h_ldap_entry(env.s, "uid=limits.user," H_PEOPLE);
    H_CHECK_STR(h_ldap_attr(e, "title"), "Boss");
    json_decref(e);

    default_limits(&env);
    configured_limits(&env);
    free(id);
    free(gid);
    it_env_stop(&env);
    return H_DONE();
}
