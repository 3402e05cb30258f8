/* check_live.c — `scim2ldap check [--live] --config FILE`: the configuration
 * and mapping as a reload would load them, and with --live the mapping
 * against the configured directory's own schema.
 *
 * A command, not the server: it binds once with the configured credentials
 * over a plain synchronous libldap connection, reads the root DSE
 * (supportedControl, subschemaSubentry) and the subschema subentry, checks
 * that every type's base DN exists, and hands the rest to the pure check
 * (s2l_mapping_check_directory, gateway/core/mapping_check.c). One line per
 * finding; exit 0 (no errors; warnings allowed), 1 (errors found), 2 (bad
 * usage, a configuration that does not load, or a directory that cannot be
 * reached or read).
 */
#include <getopt.h>
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../generation.h"
#include "commands.h"
#include "s2l/mapping.h"
#include "s2l/subschema.h"

static void usage(FILE *out)
{
    fputs("usage: scim2ldap check [--live] --config FILE\n"
          "\n"
          "Loads the configuration, mapping, credentials and TLS certificate exactly as\n"
          "a reload (SIGHUP) would. With --live it also binds to the directory with the\n"
          "configured credentials and checks the mapping against the directory's schema:\n"
          "object classes and attributes it lacks or does not allow, MUST attributes the\n"
          "mapping never writes, SINGLE-VALUE attributes fed by multi-valued SCIM ones,\n"
          "syntax mismatches, memberOf, missing base DNs and the controls the gateway\n"
          "uses. One line per finding. Exit status: 0 no errors (warnings allowed),\n"
          "1 errors, 2 the check could not be made.\n",
          out);
}

/* Binds to the first server of ldap.uri that answers; NULL + message. */
static LDAP *connect_bind(const s2l_config *cfg, char *why, size_t whylen)
{
    char *uris = strdup(cfg->ldap.uri);
    LDAP *ld = NULL;
    char *save = NULL;
    for (char *u = uris ? strtok_r(uris, " ", &save) : NULL; u; u = strtok_r(NULL, " ", &save)) {
        if (ldap_initialize(&ld, u) != LDAP_SUCCESS) {
            snprintf(why, whylen, "%s: cannot use this URI", u);
            ld = NULL;
            continue;
        }
        int v3 = LDAP_VERSION3;
        ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
        struct timeval tv = {cfg->ldap.connect_timeout_ms / 1000, (cfg->ldap.connect_timeout_ms % 1000) * 1000};
        ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
        struct timeval op = {cfg->ldap.timeout_ms / 1000, (cfg->ldap.timeout_ms % 1000) * 1000};
        ldap_set_option(ld, LDAP_OPT_TIMEOUT, &op);
        ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
        int req = cfg->ldap.tls_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
        ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &req);
        if (cfg->ldap.tls_ca_file)
            ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, cfg->ldap.tls_ca_file);
        int zero = 0;
        ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
        int rc = LDAP_SUCCESS;
        if (cfg->ldap.starttls && strncasecmp(u, "ldaps:", 6) != 0)
            rc = ldap_start_tls_s(ld, NULL, NULL);
        if (rc == LDAP_SUCCESS) {
            struct berval pw = {strlen(cfg->ldap.bind_password), cfg->ldap.bind_password};
            rc = ldap_sasl_bind_s(ld, cfg->ldap.bind_dn, LDAP_SASL_SIMPLE, &pw, NULL, NULL, NULL);
        }
        if (rc == LDAP_SUCCESS)
            break;
        snprintf(why, whylen, "%s: %s", u, ldap_err2string(rc));
        ldap_unbind_ext_s(ld, NULL, NULL);
        ld = NULL;
    }
    free(uris);
    return ld;
}

/* One entry read with a base search as {"dn", "attrs": {name: [values]}}; NULL + message. */
static json_t *read_entry(LDAP *ld, const char *dn, const char *filter, char **attrs, char *why, size_t whylen)
{
    LDAPMessage *res = NULL;
    int rc = ldap_search_ext_s(ld, dn, LDAP_SCOPE_BASE, filter, attrs, 0, NULL, NULL, NULL, 0, &res);
    LDAPMessage *e = rc == LDAP_SUCCESS ? ldap_first_entry(ld, res) : NULL;
    if (e == NULL) {
        snprintf(why, whylen, "reading \"%s\": %s", dn, rc == LDAP_SUCCESS ? "no such entry" : ldap_err2string(rc));
        ldap_msgfree(res);
        return NULL;
    }
    json_t *vals = json_object();
    BerElement *ber = NULL;
    for (char *a = ldap_first_attribute(ld, e, &ber); a; a = ldap_next_attribute(ld, e, ber)) {
        struct berval **bv = ldap_get_values_len(ld, e, a);
        json_t *arr = json_array();
        for (size_t i = 0; bv && bv[i]; i++)
            json_array_append_new(arr, json_stringn(bv[i]->bv_val, bv[i]->bv_len));
        json_object_set_new(vals, a, arr);
        ldap_value_free_len(bv);
        ldap_memfree(a);
    }
    ber_free(ber, 0);
    ldap_msgfree(res);
    return json_pack("{s:s, s:o}", "dn", dn, "attrs", vals);
}

static bool base_exists(LDAP *ld, const char *dn)
{
    LDAPMessage *res = NULL;
    char *attrs[] = {"1.1", NULL};
    int rc = ldap_search_ext_s(ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL, NULL, 0, &res);
    ldap_msgfree(res);
    return rc == LDAP_SUCCESS;
}

static int check_live(const s2l_gen_parts *p)
{
    char why[1024] = "";
    LDAP *ld = connect_bind(p->cfg, why, sizeof why);
    if (ld == NULL) {
        fprintf(stderr, "scim2ldap: cannot bind to the directory: %s\n", why);
        return 2;
    }
    int rc = 2;
    s2l_subschema *schema = NULL;
    json_t *findings = NULL, *sub = NULL;
    char *dse_attrs[] = {"subschemaSubentry", "supportedControl", NULL};
    json_t *dse = read_entry(ld, "", "(objectClass=*)", dse_attrs, why, sizeof why);
    const char *sub_dn = dse ? json_string_value(json_array_get(json_object_get(json_object_get(dse, "attrs"),
                                                                                "subschemaSubentry"), 0))
                             : NULL;
    if (sub_dn == NULL) {
        fprintf(stderr, "scim2ldap: %s\n", dse ? "the root DSE names no subschemaSubentry" : why);
        goto out;
    }
    char *sub_attrs[] = {"attributeTypes", "objectClasses", "matchingRules", NULL};
    sub = read_entry(ld, sub_dn, "(objectClass=subschema)", sub_attrs, why, sizeof why);
    if (sub == NULL) {
        fprintf(stderr, "scim2ldap: the subschema: %s\n", why);
        goto out;
    }
    schema = s2l_subschema_create();
    size_t skipped = 0;
    s2l_error err;
    s2l_error_clear(&err);
    if (schema == NULL || s2l_subschema_add_entry(schema, sub, &skipped, &err) < 0 || s2l_subschema_finish(schema) < 0)
        goto out;
    if (skipped)
        printf("note: %zu schema descriptions of the directory could not be read (first: %s)\n", skipped,
               err.detail);
    json_t *ctl = json_object_get(json_object_get(dse, "attrs"), "supportedControl");
    const char **controls = calloc(json_array_size(ctl) + 1, sizeof *controls);
    if (controls == NULL)
        goto out;
    for (size_t i = 0; i < json_array_size(ctl); i++)
        controls[i] = json_string_value(json_array_get(ctl, i));
    findings = s2l_mapping_check_directory(p->mapping, schema, controls);
    free(controls);
    if (findings == NULL)
        goto out;
    size_t errors = 0, warnings = 0;
    for (size_t i = 0; i < s2l_mapping_count(p->mapping); i++) {
        const s2l_rmap_info *info = s2l_rmap_info_of(s2l_mapping_at(p->mapping, i));
        if (!base_exists(ld, info->base_dn)) {
            printf("error: %s: base DN %s does not exist in the directory (or the bind DN cannot read it)\n",
                   info->name, info->base_dn);
            errors++;
        }
    }
    size_t i;
    json_t *f;
    json_array_foreach(findings, i, f) {
        const char *level = json_string_value(json_object_get(f, "level"));
        const char *type = json_string_value(json_object_get(f, "type"));
        printf("%s: %s%s%s\n", level, type ? type : "", type ? ": " : "", json_string_value(json_object_get(f, "text")));
        if (strcmp(level, "error") == 0)
            errors++;
        else
            warnings++;
    }
    printf("%s: %s against %s (%s): %zu error%s, %zu warning%s\n", p->cfg->path, p->cfg->mapping_path,
           p->cfg->ldap.uri, sub_dn, errors, errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
    rc = errors ? 1 : 0;
out:
    json_decref(findings);
    json_decref(sub);
    json_decref(dse);
    s2l_subschema_destroy(schema);
    ldap_unbind_ext_s(ld, NULL, NULL);
    return rc;
}

int s2l_cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"live", no_argument, NULL, 'l'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config = NULL;
    bool live = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:lh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'l': live = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (config == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }
    s2l_gen_parts parts;
    char err[1024] = "";
    if (s2l_gen_parts_load(config, &parts, err, sizeof err) < 0) {
        fprintf(stderr, "scim2ldap: %s\n", err);
        return 2;
    }
    size_t wi;
    json_t *w;
    json_array_foreach(s2l_mapping_warnings(parts.mapping), wi, w) printf("warning: %s\n", json_string_value(w));
    int rc = 0;
    if (live)
        rc = check_live(&parts);
    else
        printf("%s: OK (%zu resource types, mapping %s; add --live to check it against the directory)\n", config,
               s2l_mapping_count(parts.mapping), parts.cfg->mapping_path);
    s2l_gen_parts_free(&parts);
    return rc;
}
