/* it_filter_split.c — the filter split against a real slapd: the subschema is
 * read from the running server (what the gateway does at start), random users
 * (tests/unit/filter_model.h, with double/leading/trailing spaces, phone
 * formats, decomposed Unicode, several emails, entries the gateway would not
 * write) are added and read back, and for random filters the LDAP filter of
 * s2l_rmap_split_filter is sent to slapd. Checked per user and filter:
 *   - slapd's answer is the model's (the evaluator the unit property test
 *     relies on is OpenLDAP's behaviour, not a guess);
 *   - slapd's answer contains every user the SCIM filter selects (superset);
 *   - without a residue (strict mode) slapd's answer is the truth; in the
 *     default mode, the truth of the directory holding the gateway's writes.
 * No gateway: the list handler that will use the split is wired separately.
 * Bounded: 1500 filters or 120 s. */
#include "harness.h"

#include "../unit/filter_model.h"
#include "../unit/mapping_fixture.h"

#include <time.h>

/* The subschema as the gateway will read it: the subentry's values. */
static s2l_subschema *live_subschema(h_slapd *s)
{
    json_t *e = h_ldap_entry(s, "cn=Subschema");
    s2l_subschema *ss = s2l_subschema_create();
    size_t bad = 0;
    s2l_error err = {0};
    long added = e && ss ? s2l_subschema_add_entry(ss, e, &bad, &err) : -1;
    if (bad)
        fprintf(stderr, "%zu descriptions of cn=Subschema refused, first: %s\n", bad, err.detail);
    H_CHECK_INT(bad, 0);
    H_CHECK(added > 400); /* attribute types, object classes, matching rules */
    json_decref(e);
    if (added < 0 || s2l_subschema_finish(ss) < 0) {
        s2l_subschema_destroy(ss);
        return NULL;
    }
    return ss;
}

/* Adds the users without memberOf (the overlay writes it) and groups whose
 * members they were, then reads everything back as slapd stores it. */
static bool load_directory(h_slapd *s, fm_world *w)
{
    json_t *members[3] = {json_array(), json_array(), json_array()};
    for (size_t i = 0; i < w->n_users; i++) {
        json_t *attrs = json_object_get(w->users[i].entry, "attrs");
        const char *k;
        json_t *v, *tmp;
        json_object_foreach_safe(attrs, tmp, k, v) {
            if (strcasecmp(k, "memberOf") != 0)
                continue;
            size_t j;
            json_t *dn;
            json_array_foreach(v, j, dn) {
                for (size_t g = 0; g < 3; g++)
                    if (strcmp(json_string_value(dn),
                               json_string_value(json_object_get(json_array_get(w->groups, g), "dn"))) == 0)
                        json_array_append_new(members[g], json_string(w->users[i].dn));
            }
            json_object_del(attrs, k);
        }
        /* the directory assigns these */
        json_object_del(attrs, "entryUUID");
        json_object_del(attrs, "createTimestamp");
        json_object_del(attrs, "modifyTimestamp");
        int rc = h_ldap_add_entry(s, w->users[i].entry);
        if (rc != 0) {
            char *t = json_dumps(w->users[i].entry, JSON_COMPACT);
            fprintf(stderr, "adding %s: LDAP %d\n", t, rc);
            free(t);
            return false;
        }
    }
    for (size_t g = 0; g < 3; g++) {
        json_t *gr = json_array_get(w->groups, g);
        if (json_array_size(members[g]) == 0)
            json_array_append_new(members[g], json_string(""));
        char cn[16];
        snprintf(cn, sizeof cn, "group%zu", g);
        json_t *e = json_pack("{s:O,s:{s:[s],s:[s],s:o}}", "dn", json_object_get(gr, "dn"), "attrs", "objectClass",
                              "groupOfNames", "cn", cn, "member", members[g]);
        int rc = h_ldap_add_entry(s, e);
        json_decref(e);
        if (rc != 0) {
            fprintf(stderr, "adding group %zu: LDAP %d\n", g, rc);
            return false;
        }
    }
    /* read back: entryUUIDs, timestamps and memberOf as slapd made them */
    json_t *refs = json_object();
    for (size_t g = 0; g < 3; g++) {
        json_t *gr = json_array_get(w->groups, g);
        json_t *e = h_ldap_entry(s, json_string_value(json_object_get(gr, "dn")));
        const char *id = e ? h_ldap_attr(e, "entryuuid") : NULL;
        if (id == NULL) {
            json_decref(e);
            json_decref(refs);
            return false;
        }
        json_object_set_new(gr, "id", json_string(id));
        json_object_set_new(refs, json_string_value(json_object_get(gr, "dn")), json_pack("{s:s,s:s}", "id", id,
                                                                                           "type", "Group"));
        json_decref(e);
    }
    for (size_t i = 0; i < w->n_users; i++) {
        fm_user *u = &w->users[i];
        json_t *e = h_ldap_entry(s, u->dn);
        const char *id = e ? h_ldap_attr(e, "entryuuid") : NULL;
        if (id == NULL) {
            json_decref(e);
            json_decref(refs);
            return false;
        }
        free(u->id);
        u->id = strdup(id);
        json_decref(u->entry);
        u->entry = e;
        /* slapd's own spelling of the DN ("uid=user2\20,..." for "uid=user2\ ,..."),
         * which is how other entries' references show it */
        free(u->dn);
        u->dn = strdup(json_string_value(json_object_get(e, "dn")));
        json_object_set_new(refs, u->dn, json_pack("{s:s,s:s}", "id", u->id, "type", "User"));
    }
    json_decref(w->refs);
    w->refs = refs;
    return fm_world_render(w);
}

int main(void)
{
    setenv("S2L_SOURCE_DIR", S2L_SOURCE_DIR, 0);
    h_slapd *s = h_slapd_start(NULL);
    H_REQUIRE(s != NULL);
    s2l_subschema *ss = live_subschema(s);
    H_REQUIRE(ss != NULL && s2l_subschema_attr_count(ss) > 300);
    /* the server's own schema says what the fixture says */
    const s2l_ldap_attr_type *fax = s2l_subschema_attr(ss, "facsimileTelephoneNumber");
    H_CHECK(fax != NULL && fax->eff_equality == NULL && fax->eff_substr == NULL);

    s2l_mapping *m = mf_load_mapping("mappings/openldap.json");
    H_REQUIRE(m != NULL);
    char errbuf[256];
    H_REQUIRE(s2l_mapping_apply_subschema(m, ss, errbuf, sizeof errbuf) == 0);
    const s2l_rmap *rm = s2l_mapping_find(m, "User");

    const char *seed_env = getenv("S2L_PROP_SEED"); /* to explore; fixed otherwise */
    fm_rng rng = {seed_env ? strtoull(seed_env, NULL, 0) : 0x14ab1eULL};
    fm_world w;
    H_REQUIRE(fm_world_build(&w, rm, ss, &rng, 80, 30, NULL, NULL));
    H_REQUIRE(load_directory(s, &w));

    json_t **canon = calloc(w.n_users, sizeof *canon);
    for (size_t i = 0; i < w.n_users; i++) {
        json_t *ce = fm_canonical_entry(w.users[i].entry, ss);
        s2l_error err = {0};
        canon[i] = w.users[i].mutated ? NULL : s2l_rmap_to_scim(rm, ce, w.refs, "https://scim.example.org/scim/v2", &err);
        json_decref(ce);
    }

    long filters = 0, pairs = 0, truths = 0, model_diff = 0, narrower = 0, strict_wrong = 0, trust_wrong = 0,
         residue = 0;
    double deadline = h_now_ms() + 120000;
    static const char *const dn_only[] = {"1.1", NULL};
    for (int k = 0; k < 1500 && h_now_ms() < deadline; k++) {
        fm_buf b = {0};
        fm_gen_filter(&rng, &w, 3, &b);
        s2l_error err = {0};
        s2l_filter *f = s2l_filter_parse(b.s, b.n, NULL, &err);
        H_CHECK(f != NULL);
        json_t *ids = f ? fm_resolve_ids(&w, f) : NULL;
        s2l_filter_split tr, st;
        s2l_error e1 = {0}, e2 = {0};
        if (f == NULL || s2l_rmap_split_filter(rm, f, ids, 0, &tr, &e1) < 0) {
            json_decref(ids);
            s2l_filter_destroy(f);
            free(b.s);
            continue;
        }
        if (s2l_rmap_split_filter(rm, f, ids, S2L_SPLIT_STRICT, &st, &e2) < 0) {
            H_CHECK(false);
            s2l_filter_split_fini(&tr);
            json_decref(ids);
            s2l_filter_destroy(f);
            free(b.s);
            continue;
        }
        filters++;
        residue += tr.residue;
        bool differ = strcmp(tr.ldap_filter, st.ldap_filter) != 0;
        H_CHECK(!differ || st.residue);
        json_t *found = h_ldap_search(s, H_PEOPLE, tr.ldap_filter, dn_only);
        H_CHECK(found != NULL);
        fm_node *model = fm_parse(tr.ldap_filter);
        H_CHECK(model != NULL);
        for (size_t i = 0; found && model && i < w.n_users; i++) {
            const fm_user *u = &w.users[i];
            bool in_slapd = false;
            size_t j;
            json_t *e;
            json_array_foreach(found, j, e) {
                in_slapd |= strcasecmp(json_string_value(json_object_get(e, "dn")), u->dn) == 0;
            }
            bool in_model = fm_eval(model, json_object_get(u->entry, "attrs"), ss) == FM_T;
            bool truth = s2l_rmap_filter_match(rm, f, u->resource);
            pairs++;
            truths += truth;
            const char *what = NULL;
            if (in_slapd != in_model) {
                model_diff++;
                what = "the model is not slapd";
            } else if (differ ? canon[i] && !in_slapd && s2l_rmap_filter_match(rm, f, canon[i]) : truth && !in_slapd) {
                /* a filter trust narrowed (mapping_filter.c, catch_all_excluded)
                 * is a superset of the gateway's own writes */
                narrower++;
                what = "slapd's answer is narrower than the truth";
            } else if (!st.residue && truth != in_slapd) {
                strict_wrong++;
                what = "strict: no residue, yet slapd's answer is not the truth";
            } else if (!tr.residue && canon[i] && s2l_rmap_filter_match(rm, f, canon[i]) != in_slapd) {
                trust_wrong++;
                what = "trusting: no residue, yet slapd's answer is not the canonical truth";
            }
            if (what && model_diff + narrower + strict_wrong + trust_wrong <= 10) {
                char *t = json_dumps(u->entry, JSON_COMPACT | JSON_SORT_KEYS);
                fprintf(stderr, "FAIL %s\n  filter: %s\n  ldap:   %s\n  slapd %d, model %d, truth %d\n  entry: %s\n",
                        what, b.s, tr.ldap_filter, in_slapd, in_model, truth, t);
                free(t);
            }
        }
        fm_node_free(model);
        json_decref(found);
        s2l_filter_split_fini(&tr);
        s2l_filter_split_fini(&st);
        json_decref(ids);
        s2l_filter_destroy(f);
        free(b.s);
    }
    H_CHECK_INT(model_diff, 0);
    H_CHECK_INT(narrower, 0);
    H_CHECK_INT(strict_wrong, 0);
    H_CHECK_INT(trust_wrong, 0);
    H_CHECK(filters >= 200);
    H_CHECK(truths > pairs / 50);
    H_CHECK(residue > 0 && residue < filters);
    printf("%ld filters x %zu users = %ld pairs on slapd (%ld matches, %ld filters with a residue)\n", filters,
           w.n_users, pairs, truths, residue);

    for (size_t i = 0; i < w.n_users; i++)
        json_decref(canon[i]);
    free(canon);
    fm_world_free(&w);
    s2l_mapping_destroy(m);
    s2l_subschema_destroy(ss);
    h_slapd_destroy(s);
    return H_DONE();
}
