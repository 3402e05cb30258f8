/* preview.c — `scim2ldap preview`: reads the mapping and a SCIM request
 * from files and prints the LDIF the gateway would send (or the LDAP filter
 * of a list request). No directory, no network: the thinking is done by the
 * pure module s2l_preview (include/s2l/preview.h), the same functions the
 * handlers call; this file only reads files and prints. */
#include "commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "s2l/config.h"
#include "s2l/mapping.h"
#include "s2l/preview.h"

static void usage(FILE *out)
{
    fputs("usage: scim2ldap preview (--config FILE | --mapping FILE [--schemas DIR])\n"
          "                         [--type TYPE] REQUEST [--dn DN] [--ref ID=DN]... [--show-secrets]\n"
          "\n"
          "Prints the LDIF (add / modify / modrdn) the gateway would send to LDAP for a\n"
          "SCIM request, or the LDAP filter of a list request. Offline: no directory is\n"
          "contacted. The output can be checked with `ldapmodify -n -v -f FILE`.\n"
          "\n"
          "REQUEST, one of:\n"
          "  --post FILE                  POST: FILE is the new resource\n"
          "  --put FILE --current FILE    PUT: the new resource, and the stored one as GET returns it\n"
          "  --patch FILE --current FILE  PATCH: a PatchOp request, and the stored resource\n"
          "  --filter EXPR                GET ?filter=EXPR: print the LDAP search filter\n"
          "FILE may be - for standard input (for one of them).\n"
          "\n"
          "  --config FILE   the gateway configuration (mapping, schemas, limits)\n"
          "  --mapping FILE  a mapping file instead (schemas default to <mapping dir>/../schemas/scim)\n"
          "  --type TYPE     resource type name or endpoint (User, Users, Group, ...); default:\n"
          "                  the type whose core schema is in the resource's \"schemas\"\n"
          "  --dn DN         the stored entry's DN (default: what the RDN template makes of --current)\n"
          "  --ref ID=DN     the DN of a referenced SCIM id (manager, members); repeatable\n"
          "  --show-secrets  print secret values (passwords) as they would be sent, hashed with a\n"
          "                  fresh salt, instead of a marker such as {CRYPT}(hashed when sent; not shown)\n"
          "\n"
          "Referenced ids need a directory look-up, so without --ref an id X is shown as\n"
          "the symbolic DN scimId=X (member: scimId=X); where LDAP holds the referenced\n"
          "entry's RDN value rather than its DN (memberUid), as X itself. A PATCH of a\n"
          "group whose --current has no members treats the group as holding the\n"
          "empty-group placeholder. Steps LDIF cannot express (the retry with the\n"
          "placeholder, reference fix-ups after a rename) are shown as # comments.\n"
          "\n"
          "Exit status: 0 printed, 1 the gateway would refuse the request (the SCIM\n"
          "error is printed with the file and JSON path) or an input cannot be read,\n"
          "2 bad usage.\n",
          out);
}

/* A JSON file, or standard input for "-". Errors: "file:line:column: text". */
static json_t *read_json(const char *path)
{
    json_error_t je;
    json_t *j = strcmp(path, "-") == 0 ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &je)
                                       : json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) {
        if (je.line > 0)
            fprintf(stderr, "scim2ldap preview: %s:%d:%d: %s\n", path, je.line, je.column, je.text);
        else
            fprintf(stderr, "scim2ldap preview: %s: %s\n", path, je.text);
    }
    return j;
}

/* The type whose core schema the resource names in "schemas". */
static const s2l_rmap *type_from_schemas(const s2l_mapping *m, const json_t *res)
{
    size_t i;
    const json_t *urn;
    json_array_foreach(json_object_get(res, "schemas"), i, urn) {
        for (size_t k = 0; json_is_string(urn) && k < s2l_mapping_count(m); k++) {
            const s2l_rmap *rm = s2l_mapping_at(m, k);
            const s2l_resource_type *rt = s2l_rmap_rtype(rm);
            if (rt->core && strcasecmp(rt->core->id, json_string_value(urn)) == 0)
                return rm;
        }
    }
    return NULL;
}

static void print_types(const s2l_mapping *m)
{
    fputs("scim2ldap preview: the mapping has:", stderr);
    for (size_t k = 0; k < s2l_mapping_count(m); k++)
        fprintf(stderr, " %s (%s)", s2l_rmap_info_of(s2l_mapping_at(m, k))->name,
                s2l_rmap_info_of(s2l_mapping_at(m, k))->endpoint);
    fputc('\n', stderr);
}

static void print_error(const s2l_preview_err *e, const char *file)
{
    const char *scim_type = e->err.scim_type;
    if (e->input == S2L_PREVIEW_IN_FILTER)
        fprintf(stderr, "scim2ldap preview: --filter: %s", e->err.detail);
    else {
        /* the path already names the operation: "Operations[2]: " need not repeat it */
        const char *detail = e->err.detail;
        size_t idx;
        int used = 0;
        if (strncmp(e->path, "$.Operations[", 13) == 0 && sscanf(detail, "Operations[%zu]: %n", &idx, &used) >= 1 &&
            used > 0)
            detail += used;
        fprintf(stderr, "scim2ldap preview: %s: %s: %s", file, e->path[0] ? e->path : "$", detail);
    }
    fprintf(stderr, " (the gateway answers %d%s%s)\n", e->err.status, scim_type ? " " : "",
            scim_type ? scim_type : "");
}

int s2l_cmd_preview(int argc, char **argv)
{
    enum { O_POST = 1000, O_PUT, O_PATCH, O_CURRENT, O_FILTER, O_MAPPING, O_SCHEMAS, O_TYPE, O_DN, O_REF, O_SHOW_SECRETS };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"mapping", required_argument, NULL, O_MAPPING},
        {"schemas", required_argument, NULL, O_SCHEMAS}, {"type", required_argument, NULL, O_TYPE},
        {"post", required_argument, NULL, O_POST},   {"put", required_argument, NULL, O_PUT},
        {"patch", required_argument, NULL, O_PATCH}, {"current", required_argument, NULL, O_CURRENT},
        {"filter", required_argument, NULL, O_FILTER}, {"dn", required_argument, NULL, O_DN},
        {"ref", required_argument, NULL, O_REF},     {"help", no_argument, NULL, 'h'},
        {"show-secrets", no_argument, NULL, O_SHOW_SECRETS},
        {NULL, 0, NULL, 0}};
    const char *config = NULL, *mapping_path = NULL, *schemas = NULL, *type = NULL, *body_file = NULL;
    const char *current_file = NULL, *filter = NULL, *dn = NULL;
    int requests = 0, c, rc = 2;
    bool show_secrets = false;
    s2l_preview_kind kind = S2L_PREVIEW_CREATE;
    json_t *known = json_object(), *body = NULL, *current = NULL, *ops = NULL;
    s2l_config *cfg = NULL;
    s2l_mapping *m = NULL;
    char *schemas_default = NULL, *out = NULL;

    if (known == NULL)
        return 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case O_MAPPING: mapping_path = optarg; break;
        case O_SCHEMAS: schemas = optarg; break;
        case O_TYPE: type = optarg; break;
        case O_POST: kind = S2L_PREVIEW_CREATE, body_file = optarg, requests++; break;
        case O_PUT: kind = S2L_PREVIEW_REPLACE, body_file = optarg, requests++; break;
        case O_PATCH: kind = S2L_PREVIEW_PATCH, body_file = optarg, requests++; break;
        case O_FILTER: filter = optarg, requests++; break;
        case O_CURRENT: current_file = optarg; break;
        case O_DN: dn = optarg; break;
        case O_SHOW_SECRETS: show_secrets = true; break;
        case O_REF: {
            const char *eq = strchr(optarg, '=');
            if (eq == NULL || eq == optarg) {
                fprintf(stderr, "scim2ldap preview: --ref wants ID=DN, not \"%s\"\n", optarg);
                goto out;
            }
            char *id = strndup(optarg, (size_t)(eq - optarg));
            if (id == NULL || json_object_set_new(known, id, json_string(eq + 1)) < 0) {
                free(id);
                rc = 1;
                goto out;
            }
            free(id);
            break;
        }
        case 'h': usage(stdout); rc = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    if (optind != argc || requests != 1 || (config == NULL) == (mapping_path == NULL) || (config && schemas)) {
        usage(stderr);
        goto out;
    }
    if (filter == NULL && kind != S2L_PREVIEW_CREATE && current_file == NULL) {
        fprintf(stderr, "scim2ldap preview: --%s needs --current FILE (the resource as stored)\n",
                kind == S2L_PREVIEW_PATCH ? "patch" : "put");
        goto out;
    }
    if ((filter != NULL || kind == S2L_PREVIEW_CREATE) && (current_file || dn)) {
        fprintf(stderr, "scim2ldap preview: --current and --dn go with --put or --patch\n");
        goto out;
    }
    if (body_file && current_file && strcmp(body_file, "-") == 0 && strcmp(current_file, "-") == 0) {
        fprintf(stderr, "scim2ldap preview: only one input can be standard input\n");
        goto out;
    }

    /* ---- the mapping ---- */
    rc = 1;
    char err[1024] = "";
    if (config) {
        cfg = s2l_config_load(config, err, sizeof err);
        if (cfg == NULL) {
            fprintf(stderr, "scim2ldap preview: %s\n", err);
            goto out;
        }
        mapping_path = cfg->mapping_path;
        schemas = cfg->schemas_dir;
    } else if (schemas == NULL) {
        /* the configuration's default: schemas/scim beside the mappings folder */
        const char *slash = strrchr(mapping_path, '/');
        size_t dirlen = slash ? (size_t)(slash - mapping_path) : 1;
        const char *dir = slash ? mapping_path : ".";
        size_t n = dirlen + sizeof "/../schemas/scim";
        schemas_default = malloc(n);
        if (schemas_default == NULL)
            goto out;
        snprintf(schemas_default, n, "%.*s/../schemas/scim", (int)dirlen, dir);
        schemas = schemas_default;
    }
    m = s2l_mapping_load(mapping_path, schemas, err, sizeof err);
    if (m == NULL) {
        fprintf(stderr, "scim2ldap preview: %s\n", err);
        goto out;
    }
    if (cfg)
        s2l_mapping_set_config_limits(m, cfg); /* the body limits the gateway applies */

    /* ---- the request ---- */
    if (body_file && (body = read_json(body_file)) == NULL)
        goto out;
    if (current_file && (current = read_json(current_file)) == NULL)
        goto out;
    const s2l_rmap *rm = NULL;
    if (type) {
        rm = s2l_mapping_find(m, type);
        if (rm == NULL) {
            fprintf(stderr, "scim2ldap preview: --type %s: no such resource type\n", type);
            print_types(m);
            goto out;
        }
    } else {
        rm = kind == S2L_PREVIEW_PATCH ? NULL : type_from_schemas(m, body);
        if (rm == NULL)
            rm = type_from_schemas(m, current);
        if (rm == NULL) {
            fprintf(stderr, "scim2ldap preview: %s: say which resource type with --type\n",
                    filter ? "--filter" : "the resource names no schema of the mapping in \"schemas\"");
            print_types(m);
            goto out;
        }
    }

    s2l_preview_err perr;
    if (filter) {
        s2l_filter_limits lim = {0};
        if (cfg)
            lim = (s2l_filter_limits){.max_length = cfg->limits.max_filter_length,
                                      .max_depth = cfg->limits.max_filter_depth};
        out = s2l_preview_filter(rm, filter, &lim, known, &perr);
        if (out == NULL) {
            print_error(&perr, "--filter");
            goto out;
        }
        printf("%s\n", out);
        rc = 0;
        goto out;
    }
    s2l_preview_in in = {.mapping = m,
                         .rm = rm,
                         .kind = kind,
                         .body = body,
                         .current = current,
                         .current_dn = dn,
                         .known_ids = known,
                         .show_secrets = show_secrets,
                         .max_patch_operations = cfg ? cfg->limits.max_patch_operations : 0};
    ops = s2l_preview_write(&in, &perr);
    if (ops == NULL) {
        print_error(&perr, perr.input == S2L_PREVIEW_IN_CURRENT ? current_file : body_file);
        goto out;
    }
    out = s2l_preview_ldif(ops);
    if (out == NULL) {
        fprintf(stderr, "scim2ldap preview: the operations cannot be written as LDIF\n");
        goto out;
    }
    fputs(out, stdout);
    rc = fflush(stdout) == 0 ? 0 : 1;
out:
    free(out);
    json_decref(ops);
    json_decref(body);
    json_decref(current);
    json_decref(known);
    free(schemas_default);
    s2l_mapping_destroy(m);
    s2l_config_destroy(cfg);
    return rc;
}
