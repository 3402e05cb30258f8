/* fuzz_mapping_filter.c — libFuzzer target for SCIM filter → LDAP filter
 * translation through the default mapping (mappings/openldap.json).
 *
 * Input: filter text (parsed by s2l_filter_parse; rejects are skipped). For
 * every accepted filter, each resource type of the mapping must either refuse
 * it with 400 invalidFilter or produce an LDAP filter that
 *   - is one balanced parenthesised filter with nothing after it (so no value
 *     could close it early: values are escaped),
 *   - holds no raw NUL, and
 *   - starts with the type's object filter conjunction;
 * through the legacy translation and the split (s2l_rmap_split_filter), whose
 * two modes must also agree on the LDAP filter and on refusing, with a residue
 * explained exactly when there is one.
 * Run from the repository root or with S2L_SOURCE_DIR set:
 *   ./fuzz_mapping_filter tests/fuzz/corpus/filter
 */
#include "s2l/filter.h"
#include "s2l/mapping.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static s2l_mapping *mapping;
static json_t *ids;

static void load_once(void)
{
    const char *root = getenv("S2L_SOURCE_DIR");
    char path[4096], schemas[4096], err[1024];

    if (mapping != NULL)
        return;
    snprintf(path, sizeof path, "%s/mappings/openldap.json", root ? root : ".");
    snprintf(schemas, sizeof schemas, "%s/schemas/scim", root ? root : ".");
    mapping = s2l_mapping_load(path, schemas, err, sizeof err);
    if (mapping == NULL) {
        fprintf(stderr, "fuzz_mapping_filter: %s\n", err);
        abort();
    }
    /* ids that filters in the corpus use, with DNs full of characters to escape */
    ids = json_pack("{s:s, s:s, s:s}", "m1", "uid=m*1\\29,ou=people,dc=example,dc=org", "u1",
                    "uid=u1,ou=people,dc=example,dc=org", "2819c223-7f76-453a-919d-413861904646",
                    "cn=a\\28b\\29,ou=groups,dc=example,dc=org");
}

/* A translation's output, or its refusal, is acceptable. */
static void check_output(const char *ldap, const s2l_error *e, const char *obj);

/* One balanced filter, nothing after it. */
static int well_formed(const char *s)
{
    int depth = 0;
    if (s[0] != '(')
        return 0;
    for (const char *p = s; *p; p++) {
        if (depth == 0 && p != s)
            return 0;
        if (*p == '(')
            depth++;
        else if (*p == ')' && --depth < 0)
            return 0;
    }
    return depth == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s2l_error err = {0};
    s2l_filter *f;

    load_once();
    f = s2l_filter_parse((const char *)data, size, NULL, &err);
    if (f == NULL)
        return 0;
    for (size_t i = 0; i < s2l_mapping_count(mapping); i++) {
        const s2l_rmap *rm = s2l_mapping_at(mapping, i);
        const char *obj = s2l_rmap_info_of(rm)->object_filter;
        s2l_error e2 = {0};
        char *ldap = s2l_rmap_ldap_filter(rm, f, ids, &e2);
        json_t *refs = s2l_rmap_filter_ref_ids(rm, f);
        if (refs == NULL)
            abort();
        json_decref(refs);
        check_output(ldap, &e2, obj);
        free(ldap);

        s2l_filter_split tr, st;
        s2l_error e3 = {0}, e4 = {0};
        int r1 = s2l_rmap_split_filter(rm, f, ids, 0, &tr, &e3);
        int r2 = s2l_rmap_split_filter(rm, f, ids, S2L_SPLIT_STRICT, &st, &e4);
        if ((r1 < 0) != (r2 < 0))
            abort();
        if (r1 < 0) {
            check_output(NULL, &e3, obj);
            if (e3.status != 500 && e4.status != 500 && strcmp(e3.detail, e4.detail) != 0)
                abort();
            continue;
        }
        check_output(tr.ldap_filter, NULL, obj);
        /* trust may leave out a JSON catch-all (mapping_filter.c,
         * catch_all_excluded): then the strict mode post-filters */
        if ((strcmp(tr.ldap_filter, st.ldap_filter) != 0 && !st.residue) || (tr.residue && !st.residue) ||
            tr.residue != (tr.not_pushed != NULL) || st.residue != (st.not_pushed != NULL))
            abort();
        s2l_filter_split_fini(&tr);
        s2l_filter_split_fini(&st);
    }
    s2l_filter_destroy(f);
    return 0;
}

static void check_output(const char *ldap, const s2l_error *e, const char *obj)
{
    if (ldap == NULL) {
        if (!(e->status == 400 && e->scim_type && strcmp(e->scim_type, S2L_SCIM_INVALID_FILTER) == 0) &&
            e->status != 500)
            abort();
        if (e->detail[0] == 0)
            abort();
        return;
    }
    if (!well_formed(ldap))
        abort();
    /* "(&<object filter>...)" or exactly the object filter */
    if (strcmp(ldap, obj) != 0 && (strncmp(ldap, "(&", 2) != 0 || strstr(ldap, obj + 1) == NULL))
        abort();
}
