/* it_host_header.c — the Host header a client sends becomes part of every URL
 * the gateway renders (Location, meta.location, $ref) unless public_url is
 * configured. A Host that is not a plain host[:port] — bytes that are not
 * UTF-8, text beyond ASCII, quotes, spaces — used to break the reply: the
 * URL could not become JSON text, so discovery answered 503 "out of memory"
 * and POST /Users created the user, then answered 500. Such a Host is now
 * replaced by the gateway's listen address; a valid one is still used.
 * Checked on a real slapd: one request creates exactly one user. */
#include "it_users_common.h"

static it_env env;

/* A request with the given Host header (raw bytes). */
static h_resp with_host(const char *method, const char *path, const char *body, const char *host)
{
    char hdr[512];
    snprintf(hdr, sizeof hdr, "Host: %s", host);
    const char *headers[] = {hdr, NULL};
    return h_http(env.g, method, path, body, headers);
}

/* The base URL the gateway falls back to: its listen address. */
static char *listen_base(void)
{
    char *s = malloc(128);
    H_REQUIRE(s != NULL);
    snprintf(s, 128, "http://127.0.0.1:%d%s", h_gw_port(env.g), h_gw_base_path(env.g));
    return s;
}

static bool starts_with(const char *s, const char *prefix)
{
    return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void bad_hosts(void)
{
    static const char *const hosts[] = {
        "\xff\xfe\xfd",              /* not UTF-8 */
        "h\xc3\xb4te.example",        /* UTF-8, not ASCII */
        "evil\"><x y",                /* quotes, angle brackets, a space */
        "a.example:80x",              /* not a port */
    };
    char *base = listen_base();
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        /* discovery: rendered with meta.location */
        h_resp r = with_host("GET", "/ServiceProviderConfig", NULL, hosts[i]);
        H_CHECK_STATUS(r, 200);
        const char *loc = h_jstr(json_object_get(r.json, "meta"), "location");
        H_CHECK(starts_with(loc, base));
        h_resp_free(&r);
        r = with_host("GET", "/Schemas", NULL, hosts[i]);
        H_CHECK_STATUS(r, 200);
        h_resp_free(&r);

        /* POST: one user, 201 with a Location under the listen address */
        char name[64], body[256];
        snprintf(name, sizeof name, "host.user%zu", i);
        snprintf(body, sizeof body, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"%s\"}", name);
        r = with_host("POST", "/Users", body, hosts[i]);
        H_CHECK_STATUS(r, 201);
        const char *id = h_jstr(r.json, "id");
        H_CHECK(starts_with(h_header(&r, "Location"), base));
        H_CHECK(starts_with(h_jstr(json_object_get(r.json, "meta"), "location"), base));
        char filter[96];
        snprintf(filter, sizeof filter, "(uid=%s)", name);
        H_CHECK_INT(h_ldap_count(env.s, H_PEOPLE, filter), 1);

        /* GET by id and a list: rendered under the listen address too */
        if (id != NULL) {
            char *path = it_user_path(id);
            h_resp g = with_host("GET", path, NULL, hosts[i]);
            H_CHECK_STATUS(g, 200);
            H_CHECK(starts_with(h_jstr(json_object_get(g.json, "meta"), "location"), base));
            h_resp_free(&g);
            free(path);
        }
        h_resp_free(&r);
        r = with_host("GET", "/Users?count=5", NULL, hosts[i]);
        H_CHECK_STATUS(r, 200);
        h_resp_free(&r);
    }
    free(base);
}

static void good_host(void)
{
    h_resp r = with_host("POST", "/Users", "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"host.good\"}",
                         "scim.example.org:8443");
    H_CHECK_STATUS(r, 201);
    H_CHECK(starts_with(h_header(&r, "Location"), "http://scim.example.org:8443/scim/v2/Users/"));
    h_resp_free(&r);
    r = with_host("GET", "/ServiceProviderConfig", NULL, "[::1]:8080");
    H_CHECK_STATUS(r, 200);
    H_CHECK(starts_with(h_jstr(json_object_get(r.json, "meta"), "location"), "http://[::1]:8080/scim/v2/"));
    h_resp_free(&r);
}

int main(void)
{
    if (!it_env_start(&env, NULL))
        return H_DONE();
    bad_hosts();
    good_host();
    it_env_stop(&env);
    return H_DONE();
}
