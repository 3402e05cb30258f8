/* it_subschema_reader.c — the gateway reads the directory's subschema when its
 * pool binds and again after reconnecting (gateway/subschema_reader.c), and
 * the filter split uses it.
 *
 * The mapping is the default one with nickName stored in `drink` (cosine's
 * favouriteDrink: caseIgnoreMatch), an attribute the built-in schema does not
 * describe. With the built-in schema `nickName eq "x"` would be post-filtered
 * ("drink: not in the directory's schema", sent as (drink=*)); with slapd's
 * subschema it is one exact comparison. Checked in the gateway's debug log
 * (event=list_post_filter), and by the result against LDAP.
 * Then slapd restarts: the pool reconnects and the subschema is read again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_users_common.h"

static char *read_log(h_gw *g)
{
    FILE *fp = fopen(h_gw_log_path(g), "rb");
    if (fp == NULL)
        return strdup("");
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *t = malloc((size_t)n + 1);
    size_t got = t ? fread(t, 1, (size_t)n, fp) : 0;
    fclose(fp);
    if (t)
        t[got] = '\0';
    return t;
}

static size_t count_in_log(h_gw *g, const char *needle)
{
    char *t = read_log(g);
    size_t n = 0;
    for (const char *p = t; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    free(t);
    return n;
}

int main(void)
{
    it_env env = {0};
    char *mapping = NULL;
    {
        /* the default mapping with nickName in `drink` */
        json_error_t jerr;
        json_t *m = json_load_file(S2L_SOURCE_DIR "/mappings/openldap.json", 0, &jerr);
        H_REQUIRE(m != NULL);
        size_t i, j;
        json_t *rt, *a;
        json_array_foreach(json_object_get(m, "resource_types"), i, rt) {
            json_array_foreach(json_object_get(rt, "attributes"), j, a) {
                const char *scim = json_string_value(json_object_get(a, "scim"));
                if (scim && strcmp(scim, "nickName") == 0)
                    json_object_set_new(a, "ldap", json_string("drink"));
            }
        }
        const char *tmp = getenv("TMPDIR");
        mapping = malloc(4096);
        snprintf(mapping, 4096, "%s/s2l-drink-XXXXXX.json", tmp && *tmp ? tmp : "/tmp");
        int fd = mkstemps(mapping, 5);
        H_REQUIRE(fd >= 0);
        close(fd);
        H_REQUIRE(json_dump_file(m, mapping, 0) == 0);
        json_decref(m);
    }
    char cfg[4300];
    snprintf(cfg, sizeof cfg, "{\"mapping\": \"%s\", \"log_level\": \"debug\"}", mapping);
    if (!it_env_start(&env, cfg)) {
        unlink(mapping);
        free(mapping);
        return H_DONE();
    }

    /* read once the pool bound, and logged as the directory's */
    H_CHECK(h_gw_log_wait(env.g, "event=subschema source=directory", 1, 20000));
    H_CHECK_INT(count_in_log(env.g, "event=subschema source=builtin"), 0);
    {
        char *t = read_log(env.g);
        const char *p = strstr(t, "event=subschema source=directory");
        long n = p && strstr(p, "attribute_types=") ? strtol(strstr(p, "attribute_types=") + 16, NULL, 10) : 0;
        H_CHECK(n > 300); /* core, cosine, inetorgperson, nis, scim2ldap and slapd's own */
        free(t);
    }

    /* a user whose nickName (drink) the directory holds: written directly, as
     * inetOrgPerson does not allow it, with extensibleObject */
    H_REQUIRE(h_ldap_ldif(env.s, "dn: uid=ss1," H_PEOPLE "\nobjectClass: inetOrgPerson\nobjectClass: extensibleObject\n"
                                 "uid: ss1\ncn: ss1\nsn: One\ndrink: Tea\n") == 1);
    H_REQUIRE(h_ldap_ldif(env.s, "dn: uid=ss2," H_PEOPLE "\nobjectClass: inetOrgPerson\nobjectClass: extensibleObject\n"
                                 "uid: ss2\ncn: ss2\nsn: Two\ndrink: Coffee\n") == 1);
    size_t before = count_in_log(env.g, "event=list_post_filter");
    char *id = NULL;
    H_CHECK_INT(IT_LIST_COUNT(env.g, "nickName eq \"tea\"", &id), 1);
    json_t *e = h_ldap_entry(env.s, "uid=ss1," H_PEOPLE);
    H_CHECK_STR(id, h_ldap_attr(e, "entryuuid"));
    json_decref(e);
    free(id);
    /* decided by LDAP: no post-filter */
    H_CHECK_INT(count_in_log(env.g, "event=list_post_filter"), before);
    H_CHECK_INT(count_in_log(env.g, "not in the directory's schema"), 0);
    /* a comparison LDAP cannot decide still is post-filtered (the log line exists) */
    H_CHECK_INT(IT_LIST_COUNT(env.g, "nickName gt \"d\"", NULL), 1);
    H_CHECK(h_gw_log_wait(env.g, "event=list_post_filter", (int)before + 1, 5000));

    /* slapd restarts: the pool reconnects and reads it again */
    H_REQUIRE(h_slapd_restart(env.s) == 0);
    H_CHECK(h_gw_log_wait(env.g, "event=subschema source=directory", 2, 30000));
    H_CHECK_INT(IT_LIST_COUNT(env.g, "nickName eq \"coffee\"", NULL), 1);

    it_env_stop(&env);
    unlink(mapping);
    free(mapping);
    return H_DONE();
}
