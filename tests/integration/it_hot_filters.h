/* it_hot_filters.h — the IdPs' look-ups on a real directory's own subschema
 * (it_389ds_hot_filters.c, it_ad_hot_filters.c): the subentry named by the
 * root DSE's subschemaSubentry is read as the gateway reads it
 * (gateway/subschema_reader.c), applied to the directory's default mapping,
 * and each look-up must split into one LDAP equality with no post-filter —
 * so the list handler sends it as one search, paged by the directory.
 * A control filter (an ordering on a string) must keep its post-filter. */
#ifndef IT_HOT_FILTERS_H
#define IT_HOT_FILTERS_H

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"
#include "../unit/mapping_fixture.h"

static inline s2l_subschema *hf_read_subschema(h_slapd *s)
{
    json_t *root = h_ldap_entry(s, "");
    const char *dn = root ? h_ldap_attr(root, "subschemasubentry") : NULL;
    H_CHECK(dn != NULL);
    static const char *const attrs[] = {"attributeTypes", "matchingRules", NULL};
    json_t *found = dn ? h_ldap_search(s, dn, "(objectClass=*)", attrs) : NULL;
    json_decref(root);
    json_t *e = json_array_get(found, 0);
    s2l_subschema *ss = s2l_subschema_create();
    s2l_error err = {0};
    size_t skipped = 0;
    long added = e && ss ? s2l_subschema_add_entry(ss, e, &skipped, &err) : -1;
    json_decref(found);
    H_CHECK(added > 300);
    if (added <= 0 || s2l_subschema_finish(ss) < 0) {
        s2l_subschema_destroy(ss);
        return NULL;
    }
    fprintf(stderr, "subschema: %ld descriptions, %zu skipped%s%s\n", added, skipped, skipped ? ": " : "",
            skipped ? err.detail : "");
    return ss;
}

/* want: 0 no residue, one equality; 1 a residue with one equality (caseExact
 * on a case-ignoring attribute: the gateway checks the case); 2 any residue;
 * 3 no residue (equalities or-ed over the typed attributes). */
static inline void hf_split(const s2l_rmap *rm, const char *text, const json_t *ids, int want)
{
    s2l_error err = {0};
    s2l_filter *f = s2l_filter_parse(text, strlen(text), NULL, &err);
    s2l_filter_split sp;
    H_CHECK(f != NULL);
    if (f == NULL)
        return;
    int rc = s2l_rmap_split_filter(rm, f, ids, 0, &sp, &err);
    H_CHECK_INT(rc, 0);
    if (rc == 0) {
        bool one = strstr(sp.ldap_filter, "(|") == NULL && strstr(sp.ldap_filter, "=*)") == NULL;
        bool ok = want == 0 ? !sp.residue && one : want == 1 ? sp.residue && one : want == 2 ? sp.residue : !sp.residue;
        h_check_(ok, __FILE__, __LINE__, "%s: LDAP %s residue %d (%s), want %d", text, sp.ldap_filter, sp.residue,
                 sp.not_pushed ? sp.not_pushed : "", want);
        s2l_filter_split_fini(&sp);
    }
    s2l_filter_destroy(f);
}

/* externalId_want: see hf_split. */
static inline void hf_check(h_slapd *s, const char *mapping_rel, const char *id, const char *member_dn,
                            int external_id_want)
{
    setenv("S2L_SOURCE_DIR", S2L_SOURCE_DIR, 0);
    s2l_subschema *ss = hf_read_subschema(s);
    s2l_mapping *m = mf_load_mapping(mapping_rel);
    H_REQUIRE(ss != NULL && m != NULL);
    char err[256];
    H_CHECK_INT(s2l_mapping_apply_subschema(m, ss, err, sizeof err), 0);
    const s2l_rmap *u = s2l_mapping_find(m, "User"), *g = s2l_mapping_find(m, "Group");
    H_REQUIRE(u && g);
    char idf[128];
    snprintf(idf, sizeof idf, "id eq \"%s\"", id);
    hf_split(u, "userName eq \"bjensen@example.com\"", NULL, 0);
    hf_split(u, "userName eq \"BJensen\"", NULL, 0);
    hf_split(u, "externalId eq \"0f2c7a4e-5d5b-4e8e-9a33-5d6c1b8e3e77\"", NULL, external_id_want);
    hf_split(u, idf, NULL, 0);
    hf_split(u, "emails[type eq \"work\" and value eq \"bjensen@example.com\"]", NULL, 0);
    hf_split(u, "emails.value eq \"bjensen@example.com\"", NULL, 3);
    json_t *ids = json_pack("{s:s}", "u1", member_dn);
    hf_split(g, "displayName eq \"Admins\"", ids, 0);
    hf_split(g, "externalId eq \"g-1\"", ids, external_id_want);
    hf_split(g, "members.value eq \"u1\"", ids, 0);
    hf_split(g, "members[value eq \"u1\"]", ids, 0);
    hf_split(g, idf, ids, 0);
    json_decref(ids);
    /* the control: no ORDERING rule on a name, or an unknown one */
    hf_split(u, "userName gt \"m\"", NULL, 2);
    s2l_mapping_destroy(m);
    s2l_subschema_destroy(ss);
}

#endif
