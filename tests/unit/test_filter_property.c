/* test_filter_property.c — property test of the filter split: random filters
 * over random users (tests/unit/filter_model.h), checking for every pair
 *   1. superset: every user the SCIM filter selects (s2l_rmap_filter_match on
 *      the rendered user, the reference) is in the LDAP result (the LDAP
 *      filter evaluated by the model of OpenLDAP's matching rules) — in both
 *      modes, for any directory content, also content the gateway would not
 *      write (mutated entries);
 *   2. strict exactness: when S2L_SPLIT_STRICT says "no residue", the LDAP
 *      result is exactly the truth, for every user;
 *   3. trusted exactness: when the default mode says "no residue", the LDAP
 *      result is the truth for the directory holding the gateway's own writes
 *      — the user as stored, rendered after the directory's insignificant
 *      spaces are squeezed (what "trusting the directory" means, mapping.h);
 *   4. both modes send the same LDAP filter, except where trust narrows it:
 *      a value filter pinning a type and a value that the typed attribute
 *      holds (emails[type eq "work" and value eq ...]) leaves out the JSON
 *      catch-all, which the gateway does not write such a value to; then the
 *      strict filter is checked as the superset for every user, and the
 *      default one for the canonical users (the gateway's own writes).
 * Deterministic: the seed is fixed (S2L_PROP_SEED overrides it to explore);
 * bounded in count (S2L_PROP_FILTERS, default 3000) and in time (60 s). */
#include "filter_model.h"
#include "mapping_fixture.h"
#include "unit.h"

#include <time.h>

/* The directory the model plays: the fixture's schema plus what the mapping
 * file declares in "ldap_attribute_types" (the directory must know those
 * attributes too). */
static s2l_subschema *load_subschema(const char *mapping_rel);

static s2l_subschema *load_fixture(void)
{
    return load_subschema(NULL);
}

static s2l_subschema *load_subschema(const char *mapping_rel)
{
    size_t got = 0;
    char *text = mf_read_file("tests/data/subschema/openldap-2.5.ldif", &got);
    if (text == NULL)
        return NULL;
    s2l_subschema *ss = s2l_subschema_create();
    s2l_error err = {0};
    size_t skipped = 0;
    if (s2l_subschema_add_ldif(ss, text, got, &skipped, &err) <= 0) {
        s2l_subschema_destroy(ss);
        free(text);
        return NULL;
    }
    free(text);
    json_t *m = mapping_rel ? mf_load_json(mapping_rel) : NULL;
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(m, "ldap_attribute_types"), i, d) {
        if (s2l_subschema_add_attribute_type(ss, json_string_value(d), json_string_length(d), &err) < 0)
            CHECK(false);
    }
    json_decref(m);
    if (s2l_subschema_finish(ss) < 0) {
        s2l_subschema_destroy(ss);
        return NULL;
    }
    return ss;
}

typedef struct stats {
    long filters, refused, pairs, truths, residue_trusting, residue_strict, slack, failures, narrowed;
} stats;

static void show_failure(stats *st, const char *what, const char *text, const s2l_filter_split *sp,
                         const fm_user *u, bool truth, bool ldap)
{
    if (++st->failures > 10)
        return;
    char *entry = json_dumps(u->entry, JSON_COMPACT | JSON_SORT_KEYS);
    char *res = json_dumps(u->resource, JSON_COMPACT | JSON_SORT_KEYS);
    fprintf(stderr, "FAIL %s\n  filter: %s\n  ldap:   %s (residue %d)\n  truth %d, ldap %d\n  entry: %s\n  scim:  %s\n",
            what, text, sp->ldap_filter, sp->residue, truth, ldap, entry, res);
    free(entry);
    free(res);
}

/* Runs n_filters random filters over n_users random users of type `type`. */
static void run(const char *label, s2l_mapping *m, const char *type, const s2l_subschema *ss,
                const s2l_subschema *model_ss, uint64_t seed, long n_filters, time_t deadline)
{
    stats st = {0};
    char errbuf[256];
    if (s2l_mapping_apply_subschema(m, ss, errbuf, sizeof errbuf) < 0) {
        CHECK(false);
        return;
    }
    ss = model_ss;
    const s2l_rmap *rm = s2l_mapping_find(m, type);
    fm_rng rng = {seed};
    fm_world w;
    if (!fm_world_build(&w, rm, ss, &rng, 80, 30, NULL, NULL) || !fm_world_render(&w)) {
        CHECK(false);
        fm_world_free(&w);
        return;
    }

    /* the same users as a directory of the gateway's own writes shows them */
    json_t **canon = calloc(w.n_users, sizeof *canon);
    size_t n_canonical = 0;
    for (size_t i = 0; i < w.n_users; i++) {
        json_t *ce = fm_canonical_entry(w.users[i].entry, ss);
        s2l_error err = {0};
        canon[i] = w.users[i].mutated ? NULL : s2l_rmap_to_scim(rm, ce, w.refs, "https://scim.example.org/scim/v2", &err);
        n_canonical += canon[i] != NULL;
        json_decref(ce);
    }

    for (long k = 0; k < n_filters && time(NULL) < deadline; k++) {
        fm_buf b = {0};
        fm_gen_filter(&rng, &w, 3, &b);
        s2l_error err = {0};
        s2l_filter *f = s2l_filter_parse(b.s, b.n, NULL, &err);
        if (f == NULL) {
            fprintf(stderr, "generated an unparsable filter: %s: %s\n", b.s, err.detail);
            CHECK(false);
            free(b.s);
            continue;
        }
        st.filters++;
        json_t *ids = fm_resolve_ids(&w, f);
        s2l_filter_split trusting, strict;
        s2l_error e1 = {0}, e2 = {0};
        int r1 = s2l_rmap_split_filter(rm, f, ids, 0, &trusting, &e1);
        int r2 = s2l_rmap_split_filter(rm, f, ids, S2L_SPLIT_STRICT, &strict, &e2);
        if (r1 < 0 || r2 < 0) {
            /* refused: only as a client's mistake, the same in both modes */
            bool ok = r1 < 0 && r2 < 0 && e1.status == 400 && e1.scim_type &&
                      strcmp(e1.scim_type, S2L_SCIM_INVALID_FILTER) == 0 && strcmp(e1.detail, e2.detail) == 0;
            if (!ok || getenv("S2L_PROP_SHOW_REFUSED"))
                fprintf(stderr, "refused: %s: %d %s / %d %s\n", b.s, e1.status, e1.detail, e2.status, e2.detail);
            CHECK(ok);
            st.refused++;
            if (r1 == 0)
                s2l_filter_split_fini(&trusting);
            if (r2 == 0)
                s2l_filter_split_fini(&strict);
        } else {
            bool differ = strcmp(trusting.ldap_filter, strict.ldap_filter) != 0;
            st.narrowed += differ;
            if (differ && !strstr(b.s, "type eq")) {
                fprintf(stderr, "modes differ: %s\n  %s\n  %s\n", b.s, trusting.ldap_filter, strict.ldap_filter);
                CHECK(false);
            }
            CHECK(!trusting.residue || strict.residue);
            CHECK(trusting.residue == (trusting.not_pushed != NULL));
            CHECK(strict.residue == (strict.not_pushed != NULL));
            st.residue_trusting += trusting.residue;
            st.residue_strict += strict.residue;
            fm_node *ldap = fm_parse(strict.ldap_filter);
            fm_node *tldap = differ ? fm_parse(trusting.ldap_filter) : NULL;
            if (ldap == NULL || (differ && tldap == NULL)) {
                fprintf(stderr, "the model cannot parse %s / %s\n", strict.ldap_filter, trusting.ldap_filter);
                CHECK(false);
            }
            for (size_t i = 0; ldap && i < w.n_users; i++) {
                const fm_user *u = &w.users[i];
                bool truth = s2l_rmap_filter_match(rm, f, u->resource);
                bool in_ldap = fm_eval(ldap, json_object_get(u->entry, "attrs"), ss) == FM_T;
                st.pairs++;
                st.truths += truth;
                st.slack += in_ldap && !truth;
                if (truth && !in_ldap)
                    show_failure(&st, "LDAP narrower than the truth", b.s, &strict, u, truth, in_ldap);
                if (!strict.residue && truth != in_ldap)
                    show_failure(&st, "strict: no residue, yet LDAP is not the truth", b.s, &strict, u, truth,
                                 in_ldap);
                if (differ && tldap) {
                    /* the default filter: judged on the gateway's own writes */
                    in_ldap = fm_eval(tldap, json_object_get(u->entry, "attrs"), ss) == FM_T;
                    if (canon[i] == NULL)
                        continue;
                    if (s2l_rmap_filter_match(rm, f, canon[i]) && !in_ldap)
                        show_failure(&st, "trusting: LDAP narrower than the truth of the canonical user", b.s,
                                     &trusting, u, true, in_ldap);
                }
                if (!trusting.residue && canon[i] != NULL) {
                    bool canon_truth = s2l_rmap_filter_match(rm, f, canon[i]);
                    if (canon_truth != in_ldap)
                        show_failure(&st, "trusting: no residue, yet LDAP is not the truth of the canonical user",
                                     b.s, &trusting, u, canon_truth, in_ldap);
                }
            }
            fm_node_free(ldap);
            fm_node_free(tldap);
            s2l_filter_split_fini(&trusting);
            s2l_filter_split_fini(&strict);
        }
        json_decref(ids);
        s2l_filter_destroy(f);
        free(b.s);
    }
    CHECK(st.failures == 0);
    /* the test means something: filters ran, many pairs matched, both
     * outcomes of the split occurred, few filters were refused */
    CHECK(st.filters >= (n_filters < 300 ? n_filters : 300));
    CHECK(st.truths > st.pairs / 50);
    CHECK(st.residue_trusting > 0 && st.residue_trusting < st.filters - st.refused);
    CHECK(st.refused < st.filters / 5);
    printf("%s, seed %#llx: %ld filters (%ld refused as invalid) x %zu users (%zu canonical) = %ld pairs; "
           "%ld matches; residue: %ld trusting, %ld strict; LDAP-only candidates %ld; narrowed by trust %ld\n",
           label, (unsigned long long)seed, st.filters, st.refused, w.n_users, n_canonical, st.pairs, st.truths,
           st.residue_trusting, st.residue_strict, st.slack, st.narrowed);
    for (size_t i = 0; i < w.n_users; i++)
        json_decref(canon[i]);
    free(canon);
    fm_world_free(&w);
}

int main(void)
{
    mapping_fixture fx;
    const char *seed_env = getenv("S2L_PROP_SEED"), *n_env = getenv("S2L_PROP_FILTERS");
    uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : 0x1427e57ULL;
    long n_filters = n_env ? atol(n_env) : 4000;

    if (!mf_init(&fx)) {
        CHECK(false);
        mf_fini(&fx);
        return UNIT_DONE();
    }
    s2l_subschema *ss = load_fixture();
    s2l_subschema *vss = load_subschema("tests/data/mapping/variants.json");
    CHECK(ss != NULL && vss != NULL);
    if (ss != NULL && vss != NULL) {
        time_t deadline = time(NULL) + 60;
        run("openldap.json User", fx.openldap, "User", ss, ss, seed, n_filters, deadline);
        run("posix-rfc2307bis.json User", fx.posix, "User", ss, ss, seed + 1, n_filters / 2, deadline);
        /* the directory under variants.json knows what its ldap_attribute_types declare */
        run("variants.json User", fx.variants, "User", ss, vss, seed + 2, n_filters / 2, deadline);
    }
    s2l_subschema_destroy(ss);
    s2l_subschema_destroy(vss);
    mf_fini(&fx);
    return UNIT_DONE();
}
