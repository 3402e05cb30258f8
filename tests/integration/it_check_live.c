/* it_check_live.c — `scim2ldap check --live` against a private slapd:
 *
 *  - the default mapping on the test slapd (the quick start's overlays):
 *    exit 0 and no error line;
 *  - a mapping with planted mistakes: exit 1 and one line for each — an
 *    object class and an attribute the directory does not have, an attribute
 *    the classes do not allow, a MUST attribute never written, a SINGLE-VALUE
 *    attribute fed by a multi-valued SCIM attribute, free text into c
 *    (Country String), text into INTEGER, a base DN that does not exist;
 *  - the default mapping on a slapd without the memberof overlay: memberOf
 *    is reported;
 *  - a directory that refuses the bind: exit 2 with the reason;
 *  - `check` without --live loads what a reload loads (exit 0 / 2).
 */
#include <sys/wait.h>
#include <unistd.h>

#include "it_idp_common.h"

/* Runs the binary with args; its output (malloc'd) and exit status. */
static char *run(const char *args, int *status)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", S2L_BINARY, args);
    FILE *p = popen(cmd, "r");
    H_REQUIRE(p != NULL);
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    H_REQUIRE(out != NULL);
    size_t got;
    while (n + 1 < cap && (got = fread(out + n, 1, cap - 1 - n, p)) > 0)
        n += got;
    out[n] = 0;
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

/* Writes the config of a gateway for s with extra JSON, returns its path (malloc'd). */
static char *config_for(h_slapd *s, const char *extra)
{
    h_gw *g = h_gw_start_unbound(s, extra);
    H_REQUIRE(g != NULL);
    char *path = malloc(4096);
    snprintf(path, 4096, "%s.check.json", h_gw_config_path(g));
    char *text = it_read_file(h_gw_config_path(g));
    FILE *f = fopen(path, "w");
    H_REQUIRE(text && f);
    fputs(text, f);
    fclose(f);
    free(text);
    h_gw_kill(g);
    return path;
}

static void expect_line(const char *out, const char *a, const char *b)
{
    const char *p = out;
    bool found = false;
    while (p && *p && !found) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char *line = strndup(p, n);
        found = strncmp(line, "error: ", 7) == 0 && strstr(line, a) && (b == NULL || strstr(line, b));
        free(line);
        p = end ? end + 1 : NULL;
    }
    h_check_(found, __FILE__, __LINE__, "no error line with \"%s\" and \"%s\" in:\n%s", a, b ? b : "", out);
}

int main(void)
{
    h_slapd *s = h_slapd_start(NULL);
    H_REQUIRE(s != NULL);
    int st;
    char args[8192];

    /* the default mapping: clean */
    char *cfg = config_for(s, NULL);
    snprintf(args, sizeof args, "check --live --config %s", cfg);
    char *out = run(args, &st);
    H_CHECK_INT(st, 0);
    H_CHECK(strstr(out, "error:") == NULL && strstr(out, "warning:") == NULL);
    H_CHECK(strstr(out, " 0 errors, 0 warnings") != NULL);
    fprintf(stderr, "---- default mapping:\n%s", out);
    free(out);
    snprintf(args, sizeof args, "check --config %s", cfg);
    out = run(args, &st);
    H_CHECK_INT(st, 0);
    free(out);
    unlink(cfg);
    free(cfg);

    /* planted mistakes */
    json_t *m = it_default_mapping();
    json_t *rts = json_object_get(m, "resource_types");
    json_t *user = NULL;
    size_t i;
    json_t *rt;
    json_array_foreach(rts, i, rt) {
        if (strcmp(json_string_value(json_object_get(rt, "name")), "User") == 0)
            user = rt;
    }
    H_REQUIRE(user != NULL);
    json_t *ldap = json_object_get(user, "ldap");
    json_t *ocs = json_object_get(ldap, "object_classes");
    H_REQUIRE(json_is_array(ocs));
    json_array_append_new(ocs, json_string("noSuchClass"));
    json_array_append_new(ocs, json_string("groupOfNames")); /* MUST member: never written */
    json_t *attrs = it_mapping_attrs(m, "User");
    it_mapping_drop(m, "User", "title");
    it_mapping_drop(m, "User", "nickName");
    it_mapping_drop(m, "User", "userType");
    it_mapping_drop(m, "User", "roles");
    it_mapping_drop(m, "User", "locale");
    json_array_append_new(attrs, json_pack("{s:s, s:s}", "scim", "title", "ldap", "homeDirectory"));
    json_array_append_new(attrs, json_pack("{s:s, s:s}", "scim", "nickName", "ldap", "noSuchAttribute"));
    json_array_append_new(attrs, json_pack("{s:s, s:s}", "scim", "userType", "ldap", "uidNumber"));
    json_array_append_new(attrs, json_pack("{s:s, s:s}", "scim", "roles", "ldap", "preferredLanguage"));
    json_array_append_new(attrs, json_pack("{s:s, s:s}", "scim", "locale", "ldap", "c"));
    json_object_set_new(ldap, "base_dn", json_string("ou=nowhere,dc=example,dc=org"));
    char *mapping = it_mapping_write(m);
    json_decref(m);
    char extra[4500];
    snprintf(extra, sizeof extra, "{\"mapping\":\"%s\"}", mapping);
    cfg = config_for(s, extra);
    snprintf(args, sizeof args, "check --live --config %s", cfg);
    out = run(args, &st);
    fprintf(stderr, "---- planted mistakes:\n%s", out);
    H_CHECK_INT(st, 1);
    expect_line(out, "object class noSuchClass", "no such object class");
    expect_line(out, "noSuchAttribute", "no such attribute type");
    expect_line(out, "homeDirectory (from SCIM title)", "not allowed");
    expect_line(out, "object class groupOfNames requires member", NULL);
    expect_line(out, "preferredLanguage is SINGLE-VALUE", "roles");
    expect_line(out, "LDAP attribute c takes a two-letter country code", "locale");
    expect_line(out, "uidNumber is INTEGER", "userType");
    expect_line(out, "base DN ou=nowhere,dc=example,dc=org does not exist", NULL);
    free(out);
    unlink(cfg);
    free(cfg);

    /* a wrong bind password: exit 2 with the reason */
    cfg = config_for(s, "{\"ldap\":{\"bind_password\":\"wrong\"}}");
    snprintf(args, sizeof args, "check --live --config %s", cfg);
    out = run(args, &st);
    H_CHECK_INT(st, 2);
    H_CHECK(strstr(out, "Invalid credentials") != NULL);
    free(out);
    unlink(cfg);
    free(cfg);
    /* a configuration that does not load */
    out = run("check --config /nonexistent/config.json", &st);
    H_CHECK_INT(st, 2);
    free(out);
    h_slapd_destroy(s);

    /* no memberof overlay: the user's groups cannot be read */
    h_slapd_opts o = h_slapd_defaults();
    o.memberof = false;
    s = h_slapd_start(&o);
    H_REQUIRE(s != NULL);
    cfg = config_for(s, NULL);
    snprintf(args, sizeof args, "check --live --config %s", cfg);
    out = run(args, &st);
    H_CHECK_INT(st, 1);
    expect_line(out, "memberOf (the user's groups)", "memberof overlay");
    free(out);
    unlink(cfg);
    free(cfg);
    unlink(mapping);
    free(mapping);
    h_slapd_destroy(s);
    return H_DONE();
}
