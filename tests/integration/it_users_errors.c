/* it_users_errors.c — bad input to /Users: every case gets the right SCIM
 * error (status, "status" as a string, scimType where RFC 7644 §3.12 defines
 * one) and leaves the directory exactly as it was (h_ldap_snapshot before and
 * after each request).
 *
 * Cases are a table; "{id}" in a path stands for an existing user's id. Where
 * the RFC leaves the scimType open (a value of the wrong JSON type can be read
 * as invalidSyntax or invalidValue) the table lists the acceptable ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_users_common.h"

static it_env env;

typedef struct bad_case {
    const char *what;
    const char *method;
    const char *path;            /* under the base path; "{id}" = the user's id */
    const char *body;            /* NULL: none */
    const char *const *headers;  /* NULL-terminated extra headers or NULL */
    int status;
    const char *scim_types;      /* '|'-separated; NULL: not checked; "": none */
} bad_case;

#define PATCH_BODY(ops) "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":" ops "}"

static const char *const no_auth[] = {"Authorization:", NULL};
static const char *const bad_token[] = {"Authorization: Bearer not-the-token-0123456789", NULL};
static const char *const token_prefix[] = {"Authorization: Bearer test-token-0123456789abcde", NULL};
static const char *const empty_bearer[] = {"Authorization: Bearer ", NULL};
static const char *const basic_auth[] = {"Authorization: Basic dGVzdDp0ZXN0LXRva2VuLTAxMjM0NTY3ODlhYmNkZWY=", NULL};

static const bad_case cases[] = {
    /* ---- authentication ---- */
    {"no token", "GET", "/Users/{id}", NULL, no_auth, 401, NULL},
    {"wrong token", "GET", "/Users/{id}", NULL, bad_token, 401, NULL},
    {"a prefix of the token", "GET", "/Users/{id}", NULL, token_prefix, 401, NULL},
    {"empty bearer", "GET", "/Users/{id}", NULL, empty_bearer, 401, NULL},
    {"basic auth", "GET", "/Users/{id}", NULL, basic_auth, 401, NULL},
    {"token in the query, not the header", "GET", "/Users?access_token=" H_TOKEN, NULL, no_auth, 401,
     NULL},
    {"create with a wrong token", "POST", "/Users", "{\"userName\":\"intruder\"}", bad_token, 401, NULL},
    {"delete without a token", "DELETE", "/Users/{id}", NULL, no_auth, 401, NULL},
    {"patch with a wrong token", "PATCH", "/Users/{id}",
     PATCH_BODY("[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"x\"}]"), bad_token, 401, NULL},

    /* ---- POST bodies ---- */
    {"invalid JSON", "POST", "/Users", "{\"userName\": \"broken\"", NULL, 400, "invalidSyntax"},
    {"trailing garbage", "POST", "/Users", "{\"userName\":\"trailing\"} x", NULL, 400, "invalidSyntax"},
    {"empty body", "POST", "/Users", "", NULL, 400, "invalidSyntax"},
    {"invalid UTF-8", "POST", "/Users", "{\"userName\":\"bad\xff\xfe\"}", NULL, 400, "invalidSyntax|invalidValue"},
    {"not an object", "POST", "/Users", "[{\"userName\":\"array\"}]", NULL, 400, "invalidSyntax|invalidValue"},
    {"a string", "POST", "/Users", "\"userName\"", NULL, 400, "invalidSyntax|invalidValue"},
    {"missing userName", "POST", "/Users",
     "{\"schemas\":[\"" IT_URN_USER "\"],\"name\":{\"givenName\":\"No\",\"familyName\":\"Name\"}}", NULL, 400,
     "invalidValue"},
    {"empty userName", "POST", "/Users", "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"\"}", NULL, 400,
     "invalidValue"},
    {"null userName", "POST", "/Users", "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":null}", NULL, 400,
     "invalidValue"},
    {"userName a number", "POST", "/Users", "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":42}", NULL, 400,
     "invalidValue|invalidSyntax"},
    {"userName an array", "POST", "/Users", "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":[\"a\",\"b\"]}", NULL,
     400, "invalidValue|invalidSyntax"},
    {"active not a boolean", "POST", "/Users",
     "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"typed.active\",\"active\":\"perhaps\"}", NULL, 400,
     "invalidValue|invalidSyntax"},
    {"active a number", "POST", "/Users",
     "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"typed.active2\",\"active\":1}", NULL, 400,
     "invalidValue|invalidSyntax"},
    {"name a string", "POST", "/Users",
     "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"typed.name\",\"name\":\"Jane Doe\"}", NULL, 400,
     "invalidValue|invalidSyntax"},
    {"emails a number", "POST", "/Users",
     "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"typed.emails\",\"emails\":7}", NULL, 400,
     "invalidValue|invalidSyntax"},
    {"email value an object", "POST", "/Users",
     "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"typed.email\",\"emails\":[{\"type\":\"work\",\"value\":{\"a\":1}}]}",
     NULL, 400, "invalidValue|invalidSyntax"},
    {"unknown attribute", "POST", "/Users",
     "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"unknown.attr\",\"favouriteColour\":\"blue\"}", NULL, 400,
     "invalidValue|invalidSyntax"},
    {"unknown sub-attribute", "POST", "/Users",
     "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"unknown.sub\",\"name\":{\"givenName\":\"A\",\"shoeSize\":\"9\"}}",
     NULL, 400, "invalidValue|invalidSyntax"},
    {"unknown enterprise attribute", "POST", "/Users",
     "{\"schemas\":[\"" IT_URN_USER "\",\"" IT_URN_ENT "\"],\"userName\":\"unknown.ent\",\"" IT_URN_ENT
     "\":{\"shoeSize\":\"9\"}}",
     NULL, 400, "invalidValue|invalidSyntax"},
    {"manager that does not exist", "POST", "/Users",
     "{\"schemas\":[\"" IT_URN_USER "\",\"" IT_URN_ENT "\"],\"userName\":\"orphan\",\"" IT_URN_ENT
     "\":{\"manager\":{\"value\":\"7c9e6679-7425-40de-944b-e07fc1f90ae7\"}}}",
     NULL, 400, "invalidValue"},
    {"duplicate userName in another case", "POST", "/Users",
     "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"ERR.USER\"}", NULL, 409, "uniqueness"},

    /* ---- unknown resources ---- */
    {"GET unknown id", "GET", "/Users/7c9e6679-7425-40de-944b-e07fc1f90ae7", NULL, NULL, 404, NULL},
    {"GET malformed id", "GET", "/Users/not-a-uuid", NULL, NULL, 404, NULL},
    {"GET id with filter characters", "GET", "/Users/%2A", NULL, NULL, 404, NULL},
    {"GET id that is a DN", "GET", "/Users/uid%3Derr.user%2Cou%3Dpeople%2Cdc%3Dexample%2Cdc%3Dorg", NULL, NULL, 404,
     NULL},
    {"PUT unknown id", "PUT", "/Users/7c9e6679-7425-40de-944b-e07fc1f90ae7",
     "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"ghost\"}", NULL, 404, NULL},
    {"PATCH unknown id", "PATCH", "/Users/7c9e6679-7425-40de-944b-e07fc1f90ae7",
     PATCH_BODY("[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"x\"}]"), NULL, 404, NULL},
    {"DELETE unknown id", "DELETE", "/Users/7c9e6679-7425-40de-944b-e07fc1f90ae7", NULL, NULL, 404, NULL},
    {"DELETE malformed id", "DELETE", "/Users/xyz", NULL, NULL, 404, NULL},
    {"unknown resource type", "GET", "/Widgets", NULL, NULL, 404, NULL},

    /* ---- filters ---- */
    {"filter without a value", "GET", "/Users?filter=userName%20eq", NULL, NULL, 400, "invalidFilter"},
    {"filter with an unknown operator", "GET", "/Users?filter=userName%20zz%20%22x%22", NULL, NULL, 400,
     "invalidFilter"},
    {"filter with an open parenthesis", "GET", "/Users?filter=%28userName%20eq%20%22x%22", NULL, NULL, 400,
     "invalidFilter"},
    {"filter with an unterminated string", "GET", "/Users?filter=userName%20eq%20%22x", NULL, NULL, 400,
     "invalidFilter"},
    {"filter on an unknown attribute", "GET", "/Users?filter=favouriteColour%20eq%20%22blue%22", NULL, NULL, 400,
     "invalidFilter"},
    {"filter with a dangling and", "GET", "/Users?filter=userName%20eq%20%22x%22%20and", NULL, NULL, 400,
     "invalidFilter"},
    {"filter that is only garbage", "GET", "/Users?filter=%29%28%2A%29", NULL, NULL, 400, "invalidFilter"},

    /* ---- PUT ---- */
    {"PUT invalid JSON", "PUT", "/Users/{id}", "{\"userName\":", NULL, 400, "invalidSyntax"},
    {"PUT without userName", "PUT", "/Users/{id}", "{\"schemas\":[\"" IT_URN_USER "\"],\"displayName\":\"x\"}",
     NULL, 400, "invalidValue"},
    {"PUT with a wrong type", "PUT", "/Users/{id}",
     "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"err.user\",\"active\":\"sometimes\"}", NULL, 400,
     "invalidValue|invalidSyntax"},
    {"PUT onto another user's userName", "PUT", "/Users/{id}",
     "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"Other.User\"}", NULL, 409, "uniqueness"},

    /* ---- PATCH ---- */
    {"PATCH invalid JSON", "PATCH", "/Users/{id}", "{\"Operations\":[", NULL, 400, "invalidSyntax"},
    {"PATCH without Operations", "PATCH", "/Users/{id}", "{\"schemas\":[\"" IT_URN_PATCH "\"]}", NULL, 400,
     "invalidSyntax|invalidValue"},
    {"PATCH Operations not an array", "PATCH", "/Users/{id}",
     "{\"schemas\":[\"" IT_URN_PATCH "\"],\"Operations\":{\"op\":\"replace\"}}", NULL, 400,
     "invalidSyntax|invalidValue"},
    {"PATCH unknown op", "PATCH", "/Users/{id}", PATCH_BODY("[{\"op\":\"frobnicate\",\"path\":\"title\",\"value\":\"x\"}]"),
     NULL, 400, "invalidSyntax|invalidValue"},
    {"PATCH op missing", "PATCH", "/Users/{id}", PATCH_BODY("[{\"path\":\"title\",\"value\":\"x\"}]"), NULL, 400,
     "invalidSyntax|invalidValue"},
    {"PATCH unknown attribute", "PATCH", "/Users/{id}",
     PATCH_BODY("[{\"op\":\"replace\",\"path\":\"favouriteColour\",\"value\":\"blue\"}]"), NULL, 400, "invalidPath"},
    {"PATCH malformed path", "PATCH", "/Users/{id}",
     PATCH_BODY("[{\"op\":\"replace\",\"path\":\"emails[type eq \\\"work\\\"\",\"value\":\"x\"}]"), NULL, 400,
     "invalidPath|invalidFilter"},
    {"PATCH remove without path", "PATCH", "/Users/{id}", PATCH_BODY("[{\"op\":\"remove\"}]"), NULL, 400, "noTarget"},
    {"PATCH replace id", "PATCH", "/Users/{id}",
     PATCH_BODY("[{\"op\":\"replace\",\"path\":\"id\",\"value\":\"7c9e6679-7425-40de-944b-e07fc1f90ae7\"}]"), NULL,
     400, "mutability"},
    {"PATCH replace meta.created", "PATCH", "/Users/{id}",
     PATCH_BODY("[{\"op\":\"replace\",\"path\":\"meta.created\",\"value\":\"2001-01-01T00:00:00Z\"}]"), NULL, 400,
     "mutability"},
    {"PATCH add groups (read-only)", "PATCH", "/Users/{id}",
     PATCH_BODY("[{\"op\":\"add\",\"path\":\"groups\",\"value\":[{\"value\":\"7c9e6679-7425-40de-944b-e07fc1f90ae7\"}]}]"),
     NULL, 400, "mutability"},
    {"PATCH active not a boolean", "PATCH", "/Users/{id}",
     PATCH_BODY("[{\"op\":\"replace\",\"path\":\"active\",\"value\":\"maybe\"}]"), NULL, 400,
     "invalidValue|invalidSyntax"},
    {"PATCH remove userName (required)", "PATCH", "/Users/{id}",
     PATCH_BODY("[{\"op\":\"remove\",\"path\":\"userName\"}]"), NULL, 400, "invalidValue|mutability"},
    {"PATCH no-path value not an object", "PATCH", "/Users/{id}",
     PATCH_BODY("[{\"op\":\"replace\",\"value\":\"title\"}]"), NULL, 400, "invalidValue|invalidSyntax"},
    {"PATCH no-path value with an unknown key", "PATCH", "/Users/{id}",
     PATCH_BODY("[{\"op\":\"replace\",\"value\":{\"title\":\"ok\",\"favouriteColour\":\"blue\"}}]"), NULL, 400,
     "invalidPath|invalidValue|invalidSyntax"},
    /* All or nothing: a good first op does not survive a bad second one. */
    {"PATCH good op then bad op", "PATCH", "/Users/{id}",
     PATCH_BODY("[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"Half done\"},"
                "{\"op\":\"replace\",\"path\":\"favouriteColour\",\"value\":\"blue\"}]"),
     NULL, 400, "invalidPath"},
    {"PATCH good op then removing without path", "PATCH", "/Users/{id}",
     PATCH_BODY("[{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"Half done\"},{\"op\":\"remove\"}]"), NULL,
     400, "noTarget"},
    {"PATCH rename onto another user", "PATCH", "/Users/{id}",
     PATCH_BODY("[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"Half done\"},"
                "{\"op\":\"replace\",\"path\":\"userName\",\"value\":\"other.user\"}]"),
     NULL, 409, "uniqueness"},
};

/* s with every "{id}" replaced by id (malloc'd). */
static char *with_id(const char *s, const char *id)
{
    size_t n = strlen(s) + 1;
    char *out, *o;

    for (const char *p = strstr(s, "{id}"); p; p = strstr(p + 4, "{id}"))
        n += strlen(id);
    out = malloc(n);
    if (out == NULL)
        return NULL;
    o = out;
    while (*s) {
        if (strncmp(s, "{id}", 4) == 0) {
            memcpy(o, id, strlen(id));
            o += strlen(id);
            s += 4;
        } else {
            *o++ = *s++;
        }
    }
    *o = 0;
    return out;
}

static void run_cases(const char *id)
{
    char *before = h_ldap_snapshot(env.s);

    H_REQUIRE(before != NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *c = &cases[i];
        char *path = with_id(c->path, id);
        h_resp r;
        char *after;

        H_REQUIRE(path != NULL);
        fprintf(stderr, "-- %s: %s %s\n", c->what, c->method, path);
        r = h_http(env.g, c->method, path, c->body, c->headers);
        IT_CHECK_ERROR(r, c->status, c->scim_types);
        if (c->status == 401) {
            const char *www = h_header(&r, "WWW-Authenticate");
            h_check_(www && strncasecmp(www, "Bearer", 6) == 0, __FILE__, __LINE__,
                     "%s: 401 without WWW-Authenticate: Bearer (got %s)", c->what, www ? www : "none");
        }
        h_resp_free(&r);
        after = h_ldap_snapshot(env.s);
        h_check_(h_snapshot_same(before, after), __FILE__, __LINE__, "%s: the directory changed", c->what);
        free(after);
        free(path);
    }
    free(before);
}

/* Past limits.max_body_bytes (1 MiB by default): 413, nothing written. */
static void test_oversized(void)
{
    size_t pad = (1u << 20) + 4096;
    const char head[] = "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"huge.body\",\"displayName\":\"";
    const char tail[] = "\"}";
    char *body = malloc(sizeof head + pad + sizeof tail);
    char *before = h_ldap_snapshot(env.s), *after;
    h_resp r;

    H_REQUIRE(body != NULL && before != NULL);
    memcpy(body, head, sizeof head - 1);
    memset(body + sizeof head - 1, 'x', pad);
    memcpy(body + sizeof head - 1 + pad, tail, sizeof tail);
    r = h_http(env.g, "POST", "/Users", body, NULL);
    IT_CHECK_ERROR(r, 413, NULL);
    h_resp_free(&r);
    after = h_ldap_snapshot(env.s);
    H_CHECK(h_snapshot_same(before, after));
    free(after);
    free(before);
    free(body);
    H_CHECK_INT(h_ldap_count(env.s, H_PEOPLE, "(uid=huge.body)"), 0);
}

/* Filters past limits.max_filter_length / max_filter_depth: 400, not a crash. */
static void test_filter_limits(void)
{
    size_t depth = 64, len = 5000;
    char *deep = malloc(2 * depth + 32);
    char *longf = malloc(len + 32);
    char *p;

    H_REQUIRE(deep != NULL && longf != NULL);
    p = deep;
    for (size_t i = 0; i < depth; i++)
        *p++ = '(';
    p += snprintf(p, 32, "userName eq \"x\"");
    for (size_t i = 0; i < depth; i++)
        *p++ = ')';
    *p = 0;
    p = longf;
    p += snprintf(p, 32, "userName eq \"");
    memset(p, 'a', len);
    p += len;
    snprintf(p, 4, "\"");
    {
        const char *filters[] = {deep, longf};
        for (size_t i = 0; i < 2; i++) {
            char *path = it_filter_path(filters[i], NULL);
            h_resp r = h_http(env.g, "GET", path, NULL, NULL);

            IT_CHECK_ERROR(r, 400, "invalidFilter|tooMany");
            h_resp_free(&r);
            free(path);
        }
    }
    free(deep);
    free(longf);
}

/* Things that look odd but are valid, so the cases above fail for the right
 * reason: application/json bodies, a lower-case auth scheme, unknown schema
 * URNs, read-only attributes in a create (ignored, RFC 7643 §2.2). */
static void test_valid_controls(void)
{
    h_resp r;
    char *id;

    r = h_http(env.g, "POST", "/Users", "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"plain.json\"}",
               (const char *const[]){"Content-Type: application/json", NULL});
    H_CHECK_STATUS(r, 201);
    h_resp_free(&r);
    r = h_http(env.g, "GET", "/Users?filter=userName%20eq%20%22plain.json%22", NULL,
               (const char *const[]){"Authorization: bearer " H_TOKEN, NULL});
    H_CHECK_STATUS(r, 200);
    H_CHECK_INT(h_jint(r.json, "totalResults", -1), 1);
    h_resp_free(&r);
    id = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\",\"urn:example:params:scim:schemas:unknown\"],"
                          "\"userName\":\"extra.schema\",\"id\":\"not-my-id\","
                          "\"meta\":{\"resourceType\":\"User\",\"created\":\"2001-01-01T00:00:00Z\"}}");
    H_CHECK(id && strcmp(id, "not-my-id") != 0);
    free(id);
}

int main(void)
{
    char *id, *other;
    /* The strict policies: what this suite checks is how refusals look.
     * (The default mapping keeps what it does not know: it_idp_*.c.) */
    char *mapping = it_mapping_variant("{\"unknown_attributes\": \"reject\", \"unmapped_attributes\": \"reject\","
                                       " \"unknown_schemas\": \"ignore\", \"unknown_manager\": \"reject\","
                                       " \"unknown_members\": \"reject\"}");
    char *config = mapping ? it_mapping_config(mapping) : NULL;

    H_REQUIRE(config != NULL);
    if (it_env_start(&env, config)) {
        id = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"err.user\","
                              "\"name\":{\"givenName\":\"Err\",\"familyName\":\"User\"},\"title\":\"Original\"}");
        other = IT_CREATE(env.g, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"other.user\"}");
        H_REQUIRE(id != NULL && other != NULL);
        run_cases(id);
        test_oversized();
        test_filter_limits();
        test_valid_controls();
        {
            /* The gateway is still serving after all that. */
            char *path = it_user_path(id);
            h_resp r = h_http(env.g, "GET", path, NULL, NULL);

            H_CHECK_STATUS(r, 200);
            H_CHECK_STR(h_jstr(r.json, "title"), "Original");
            h_resp_free(&r);
            free(path);
        }
        free(id);
        free(other);
    }
    it_env_stop(&env);
    unlink(mapping);
    free(mapping);
    free(config);
    return H_DONE();
}
