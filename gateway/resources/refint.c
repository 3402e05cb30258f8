/* refint.c — see refint.h. One search per reference attribute that may point
 * at the entry (indexed equality), then one modify per referencing entry:
 * add the new value, delete the old, in one operation. */
#include "refint.h"

#include <ldap.h>
#include <stdlib.h>
#include <string.h>

#include "s2l/log.h"

typedef struct fix_state fix_state;

typedef struct fix_mod {
    fix_state *fs;
    json_t *item;            /* borrowed from fs->items */
    char *dn;                /* the referencing entry */
    bool placeholder_added;  /* retried with the empty-group placeholder */
} fix_mod;

struct fix_state {
    json_t *items;
    unsigned pending;
    bool started_all;
    s2l_refint_done_fn *done;
    void *arg;
};

static void fix_state_free(void *p)
{
    fix_state *fs = p;
    json_decref(fs->items);
    free(fs);
}

static void fix_mod_free(void *p)
{
    fix_mod *fm = p;
    free(fm->dn);
    free(fm);
}

static void finish_one(s2l_req *req, fix_state *fs)
{
    if (--fs->pending == 0 && fs->started_all)
        fs->done(fs->arg, NULL);
}

static int start_modify(s2l_req *req, fix_mod *fm);

static void on_fix_modified(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    fix_mod *fm = arg;
    fix_state *fs = fm->fs;
    /* 16: the old value is already gone (refint got there first, or a
     * concurrent change): nothing left to do. */
    if (res->rc == LDAP_OBJECT_CLASS_VIOLATION && !fm->placeholder_added &&
        json_object_get(fm->item, "placeholder")) {
        fm->placeholder_added = true;
        if (start_modify(req, fm) == 0)
            return;
    }
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_ATTRIBUTE && res->rc != LDAP_NO_SUCH_OBJECT) {
        /* DNs hold client values (a userName): quoted and escaped */
        char dn[1024];
        s2l_log_quote(dn, sizeof dn, fm->dn, strlen(fm->dn));
        s2l_log(S2L_LOG_ERROR, "event=refint_fix_failed req=%llu dn=%s attr=%s rc=%d", (unsigned long long)req->id, dn,
                json_string_value(json_object_get(fm->item, "attr")), res->rc);
    }
    finish_one(req, fs);
}

static int start_modify(s2l_req *req, fix_mod *fm)
{
    const char *attr = json_string_value(json_object_get(fm->item, "attr"));
    json_t *newv = json_object_get(fm->item, "new");
    json_t *mods = json_array();
    if (mods == NULL)
        return -1;
    if (fm->placeholder_added)
        json_array_append_new(mods, json_pack("{s:s, s:s, s:[O]}", "op", "add", "attr", attr, "values",
                                              json_object_get(fm->item, "placeholder")));
    if (json_is_string(newv))
        json_array_append_new(mods, json_pack("{s:s, s:s, s:[O]}", "op", "add", "attr", attr, "values", newv));
    json_array_append_new(mods, json_pack("{s:s, s:s, s:[O]}", "op", "delete", "attr", attr, "values",
                                          json_object_get(fm->item, "old")));
    int rc = s2l_req_ldap_modify(req, fm->dn, mods, NULL, on_fix_modified, fm);
    json_decref(mods);
    return rc;
}

typedef struct fix_search {
    fix_state *fs;
    json_t *item;            /* borrowed from fs->items */
} fix_search;

static void on_fix_found(s2l_req *req, const s2l_ldap_result *res, void *arg)
{
    fix_search *sr = arg;
    fix_state *fs = sr->fs;
    if (res->rc != LDAP_SUCCESS && res->rc != LDAP_NO_SUCH_OBJECT) {
        const char *f = json_string_value(json_object_get(sr->item, "filter"));
        char filter[1024];
        s2l_log_quote(filter, sizeof filter, f ? f : "", f ? strlen(f) : 0);
        s2l_log(S2L_LOG_ERROR, "event=refint_search_failed req=%llu filter=%s rc=%d", (unsigned long long)req->id,
                filter, res->rc);
        finish_one(req, fs);
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(res->entries, i, e) {
        const char *dn = json_string_value(json_object_get(e, "dn"));
        fix_mod *fm = calloc(1, sizeof *fm);
        if (fm == NULL || s2l_req_adopt(req, fm, fix_mod_free) < 0 || dn == NULL || (fm->dn = strdup(dn)) == NULL)
            continue; /* adopt frees fm on failure */
        fm->fs = fs;
        fm->item = sr->item;
        fs->pending++;
        if (start_modify(req, fm) < 0)
            fs->pending--;
    }
    finish_one(req, fs);
}

int s2l_refint_fix(s2l_req *req, const s2l_rmap *rm, const char *old_dn, const char *new_dn,
                   s2l_refint_done_fn *done, void *arg)
{
    const s2l_mapping *m = req->gw->mapping;
    if (!s2l_mapping_refint_by_gateway(m))
        return 0;
    fix_state *fs = calloc(1, sizeof *fs);
    if (fs == NULL || s2l_req_adopt(req, fs, fix_state_free) < 0) {
        s2l_log(S2L_LOG_ERROR, "event=refint_skipped req=%llu reason=out_of_memory", (unsigned long long)req->id);
        return 0;
    }
    fs->done = done;
    fs->arg = arg;
    fs->items = s2l_mapping_reference_fixups(m, rm, old_dn, new_dn);
    size_t n = json_array_size(fs->items);
    fix_search *searches = n ? calloc(n, sizeof *searches) : NULL;
    if (n && (searches == NULL || s2l_req_adopt(req, searches, free) < 0))
        return 0;
    static char *no_attrs[] = {LDAP_NO_ATTRS, NULL};
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(fs->items, i);
        searches[i] = (fix_search){fs, item};
        s2l_search_req sr = {.base = json_string_value(json_object_get(item, "base")),
                             .scope = (int)json_integer_value(json_object_get(item, "scope")),
                             .filter = json_string_value(json_object_get(item, "filter")),
                             .attrs = no_attrs};
        if (s2l_req_ldap_search(req, &sr, on_fix_found, &searches[i]) == 0)
            fs->pending++;
    }
    /* Completions never run inside a start call, so none has counted down yet. */
    fs->started_all = true;
    return fs->pending ? 1 : 0;
}
