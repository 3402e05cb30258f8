/* test_ldap_schema.c — schemas/ldap/scim2ldap.schema (slapd.conf form) and
 * schemas/ldap/scim2ldap.ldif (cn=config form) define the same attribute
 * types and object classes, and they hold every scim* attribute the default
 * mapping writes: an attribute added to one file and forgotten in the other,
 * or to the mapping and not to the auxiliary classes, fails here instead of
 * at a user's ldapadd.
 *
 * (That slapd accepts both files is checked by the integration tests, which
 * load the .schema, and was checked by hand for the .ldif with slapadd -n0.)
 */
#include <ctype.h>
#include <stdbool.h>
#include <jansson.h>

#include "unit.h"

static char *read_file(const char *rel)
{
    char path[4096];
    const char *root = getenv("S2L_SOURCE_DIR");
    FILE *f;
    char *buf = NULL;
    long n;

    snprintf(path, sizeof path, "%s/%s", root ? root : ".", rel);
    f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL)
        buf[fread(buf, 1, (size_t)n, f)] = '\0';
    fclose(f);
    return buf;
}

/* Collapses whitespace runs to one space and trims: the two forms wrap lines differently. */
static char *squeeze(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t k = 0;
    bool space = false;

    for (size_t i = 0; i < n; i++) {
        if (isspace((unsigned char)s[i])) {
            space = k > 0;
            continue;
        }
        if (space)
            out[k++] = ' ';
        space = false;
        out[k++] = s[i];
    }
    out[k] = '\0';
    return out;
}

/* The parenthesised definition starting at p ("( ... )"), squeezed. */
static char *definition(const char *p, const char **end)
{
    int depth = 0;
    const char *q = p;
    for (; *q; q++) {
        if (*q == '\'') {
            const char *c = strchr(q + 1, '\'');
            if (c == NULL)
                break;
            q = c;
        } else if (*q == '(') {
            depth++;
        } else if (*q == ')' && --depth == 0) {
            break;
        }
    }
    *end = *q ? q + 1 : q;
    return squeeze(p, (size_t)(*end - p));
}

/* Definitions after each keyword (attributetype / objectclass, or the LDIF
 * attribute names), in order. Comment lines are dropped first; LDIF folded
 * lines are unfolded. */
static json_t *definitions(const char *text, const char *kw_attr, const char *kw_class, bool ldif)
{
    json_t *out = json_pack("{s:[], s:[]}", "attributes", "classes");
    char *clean = malloc(strlen(text) + 1);
    size_t k = 0;

    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (line[0] != '#') {
            if (ldif && k > 0 && line[0] == ' ')
                k--; /* unfold: drop the newline, keep one space */
            memcpy(clean + k, line, n);
            k += n;
            clean[k++] = '\n';
        }
        line += n + (nl ? 1 : 0);
    }
    clean[k] = '\0';
    for (const char *p = clean; *p;) {
        const char *a = strstr(p, kw_attr), *c = strstr(p, kw_class), *hit;
        const char *key;
        if (a == NULL && c == NULL)
            break;
        hit = a && (!c || a < c) ? a : c;
        key = hit == a ? "attributes" : "classes";
        const char *open = strchr(hit, '(');
        const char *end;
        if (open == NULL)
            break;
        char *def = definition(open, &end);
        json_array_append_new(json_object_get(out, key), json_string(def));
        free(def);
        p = end;
    }
    free(clean);
    return out;
}

static bool has_attr(const json_t *defs, const char *name)
{
    char needle[128];
    size_t i;
    json_t *d;
    snprintf(needle, sizeof needle, "NAME '%s'", name);
    json_array_foreach(json_object_get(defs, "attributes"), i, d) {
        if (strstr(json_string_value(d), needle))
            return true;
    }
    return false;
}

static bool class_may(const json_t *defs, const char *cls, const char *attr)
{
    char needle[128], word[128];
    size_t i;
    json_t *d;
    snprintf(needle, sizeof needle, "NAME '%s'", cls);
    snprintf(word, sizeof word, " %s ", attr);
    json_array_foreach(json_object_get(defs, "classes"), i, d) {
        const char *s = json_string_value(d);
        if (strstr(s, needle) && strstr(s, "MAY (") && strstr(strstr(s, "MAY ("), word))
            return true;
    }
    return false;
}

int main(void)
{
    char *schema = read_file("schemas/ldap/scim2ldap.schema");
    char *ldif = read_file("schemas/ldap/scim2ldap.ldif");
    char *mapping_text = read_file("mappings/openldap.json");
    json_t *a, *b, *mapping;

    CHECK(schema != NULL && ldif != NULL && mapping_text != NULL);
    if (schema == NULL || ldif == NULL || mapping_text == NULL)
        return UNIT_DONE();
    a = definitions(schema, "attributetype", "objectclass", false);
    b = definitions(ldif, "olcAttributeTypes:", "olcObjectClasses:", true);
    CHECK(json_array_size(json_object_get(a, "attributes")) >= 19);
    CHECK_INT(json_array_size(json_object_get(a, "classes")), 2);
    if (!json_equal(a, b)) {
        char *x = json_dumps(a, JSON_INDENT(1)), *y = json_dumps(b, JSON_INDENT(1));
        fprintf(stderr, "the .schema and the .ldif differ:\n.schema: %s\n.ldif: %s\n", x, y);
        free(x);
        free(y);
    }
    CHECK(json_equal(a, b));

    /* every scim* attribute the default mapping names is defined and allowed */
    mapping = json_loads(mapping_text, 0, NULL);
    CHECK(mapping != NULL);
    size_t i, j;
    json_t *rt, *e;
    json_array_foreach(json_object_get(mapping, "resource_types"), i, rt) {
        const char *cls = strcmp(json_string_value(json_object_get(rt, "name")), "User") == 0 ? "scimUser" : "scimGroup";
        json_t *names = json_array();
        json_array_append(names, json_object_get(json_object_get(rt, "ldap"), "keep_attribute"));
        json_array_foreach(json_object_get(rt, "attributes"), j, e) {
            json_t *l = json_object_get(e, "ldap");
            if (json_is_string(l))
                json_array_append(names, l);
            const char *k;
            json_t *v;
            json_object_foreach(json_is_object(l) ? l : NULL, k, v) {
                if (json_is_string(v))
                    json_array_append(names, v);
                else
                    json_array_extend(names, v);
            }
        }
        size_t n;
        json_t *name;
        json_array_foreach(names, n, name) {
            const char *s = json_string_value(name);
            if (s == NULL || (strncmp(s, "scim", 4) != 0 && strcmp(s, "c") != 0 && strcmp(s, "co") != 0))
                continue;
            if (strncmp(s, "scim", 4) == 0 && !has_attr(a, s)) {
                fprintf(stderr, "%s is not defined in scim2ldap.schema\n", s);
                CHECK(false);
            }
            if (!class_may(a, cls, s)) {
                fprintf(stderr, "%s may not hold %s\n", cls, s);
                CHECK(false);
            }
        }
        json_decref(names);
    }
    json_decref(mapping);
    json_decref(a);
    json_decref(b);
    free(schema);
    free(ldif);
    free(mapping_text);
    return UNIT_DONE();
}
