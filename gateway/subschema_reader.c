/* subschema_reader.c — reads the directory's subschema over the pool and
 * applies it to the mapping (see subschema_reader.h).
 *
 *   READ_IDLE      nothing in flight
 *   READ_ROOTDSE   the root DSE's subschemaSubentry
 *   READ_SUBENTRY  the subentry's attributeTypes and matchingRules
 * A refresh while a read is in flight is remembered and starts one more read
 * when the current one ends (the directory may have changed meanwhile).
 */
#include "subschema_reader.h"

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s2l/log.h"

/* The subschema entry of a big directory (AD: ~1500 attribute types) is read
 * once per connection outage: give it time. */
#define READ_TIMEOUT_MS 30000

struct s2l_subschema_reader {
    s2l_pool *pool;
    s2l_mapping *mapping;
    enum { READ_IDLE, READ_ROOTDSE, READ_SUBENTRY } step;
    s2l_ldap_op *op;
    bool again;                  /* a refresh came while reading */
    s2l_subschema *last;         /* the directory's, read last (NULL: none yet) */
    bool from_directory;         /* what the mapping has now */
};

static void start_read(s2l_subschema_reader *r);

/* Applies ss (NULL: the built-in schema) to the mapping; logs the outcome. */
static int apply(s2l_subschema_reader *r, const s2l_subschema *ss)
{
    char err[256] = "";
    if (s2l_mapping_apply_subschema(r->mapping, ss, err, sizeof err) < 0) {
        char q[300];
        s2l_log_quote(q, sizeof q, err, strlen(err));
        s2l_log(S2L_LOG_ERROR, "event=subschema_apply_failed reason=%s", q);
        return -1;
    }
    r->from_directory = ss != NULL;
    return 0;
}

static void use_builtin(s2l_subschema_reader *r, const char *why, int rc, const char *diag)
{
    char q[300], d[300];
    s2l_log_quote(q, sizeof q, why, strlen(why));
    s2l_log_quote(d, sizeof d, diag ? diag : "", diag ? strlen(diag) : 0);
    /* A subschema read before (another server of the list, an earlier session)
     * beats the built-in one: keep applying it. */
    if (r->last != NULL) {
        s2l_log(S2L_LOG_WARN, "event=subschema source=previous reason=%s rc=%d diag=%s", q, rc, d);
        apply(r, r->last);
        return;
    }
    s2l_log(S2L_LOG_WARN, "event=subschema source=builtin reason=%s rc=%d diag=%s", q, rc, d);
    apply(r, NULL);
}

static void read_done(s2l_subschema_reader *r)
{
    r->op = NULL;
    r->step = READ_IDLE;
    if (r->again) {
        r->again = false;
        start_read(r);
    }
}

static void on_subentry(const s2l_ldap_result *res, void *arg)
{
    s2l_subschema_reader *r = arg;
    json_t *e = json_array_get(res->entries, 0);
    if (res->rc != LDAP_SUCCESS || e == NULL) {
        use_builtin(r, "the subschema entry cannot be read", res->rc, res->diag);
        read_done(r);
        return;
    }
    s2l_subschema *ss = s2l_subschema_create();
    s2l_error err;
    s2l_error_clear(&err);
    size_t skipped = 0;
    long added = ss ? s2l_subschema_add_entry(ss, e, &skipped, &err) : -1;
    size_t n_at = ss ? s2l_subschema_attr_count(ss) : 0;
    if (added < 0 || s2l_subschema_finish(ss) < 0) {
        s2l_subschema_destroy(ss);
        s2l_log(S2L_LOG_ERROR, "event=subschema_failed reason=\"out of memory\"");
        read_done(r);
        return;
    }
    if (n_at == 0) {
        s2l_subschema_destroy(ss);
        use_builtin(r, "the subschema entry holds no attribute type the gateway can read", 0, err.detail);
        read_done(r);
        return;
    }
    const char *dn = json_string_value(json_object_get(e, "dn"));
    char qdn[300], first[300];
    s2l_log_quote(qdn, sizeof qdn, dn ? dn : "", dn ? strlen(dn) : 0);
    s2l_log_quote(first, sizeof first, err.detail, strlen(err.detail));
    if (apply(r, ss) == 0) {
        s2l_subschema_destroy(r->last);
        r->last = ss;
        s2l_log(S2L_LOG_INFO,
                "event=subschema source=directory dn=%s attribute_types=%zu skipped=%zu first_skipped=%s "
                "rules_published=%d",
                qdn, n_at, skipped, first, !s2l_subschema_rules_unpublished(ss));
    } else {
        s2l_subschema_destroy(ss);
    }
    read_done(r);
}

static void on_rootdse(const s2l_ldap_result *res, void *arg)
{
    s2l_subschema_reader *r = arg;
    json_t *e = json_array_get(res->entries, 0);
    const char *dn = NULL;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(e, "attrs"), k, v) {
        if (strcasecmp(k, "subschemaSubentry") == 0)
            dn = json_string_value(json_array_get(v, 0));
    }
    if (res->rc != LDAP_SUCCESS || dn == NULL || dn[0] == '\0') {
        use_builtin(r, "the root DSE names no subschemaSubentry", res->rc, res->diag);
        read_done(r);
        return;
    }
    static char *attrs[] = {"attributeTypes", "matchingRules", NULL};
    s2l_search_req sr = {.base = dn, .scope = LDAP_SCOPE_BASE, .filter = "(objectClass=subschema)",
                         .attrs = attrs, .size_limit = 1};
    r->step = READ_SUBENTRY;
    r->op = s2l_ldap_search(r->pool, &sr, READ_TIMEOUT_MS, on_subentry, r);
    if (r->op == NULL) {
        s2l_log(S2L_LOG_ERROR, "event=subschema_failed reason=\"out of memory\"");
        read_done(r);
    }
}

static void start_read(s2l_subschema_reader *r)
{
    static char *attrs[] = {"subschemaSubentry", NULL};
    s2l_search_req sr = {.base = "", .scope = LDAP_SCOPE_BASE, .filter = "(objectClass=*)", .attrs = attrs,
                         .size_limit = 1};
    r->step = READ_ROOTDSE;
    r->op = s2l_ldap_search(r->pool, &sr, READ_TIMEOUT_MS, on_rootdse, r);
    if (r->op == NULL) {
        s2l_log(S2L_LOG_ERROR, "event=subschema_failed reason=\"out of memory\"");
        r->step = READ_IDLE;
    }
}

static void on_pool_up(s2l_pool *pool, void *arg)
{
    (void)pool;
    s2l_subschema_reader_refresh(arg, NULL);
}

s2l_subschema_reader *s2l_subschema_reader_create(s2l_pool *pool, s2l_mapping *mapping)
{
    s2l_subschema_reader *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->pool = pool;
    r->mapping = mapping;
    s2l_pool_set_up_hook(pool, on_pool_up, r);
    return r;
}

void s2l_subschema_reader_destroy(s2l_subschema_reader *r)
{
    if (r == NULL)
        return;
    s2l_pool_set_up_hook(r->pool, NULL, NULL);
    if (r->op)
        s2l_ldap_cancel(r->op);
    s2l_subschema_destroy(r->last);
    free(r);
}

int s2l_subschema_reader_refresh(s2l_subschema_reader *r, s2l_mapping *mapping)
{
    int rc = 0;
    if (mapping != NULL && mapping != r->mapping) {
        r->mapping = mapping;
        rc = apply(r, r->last);
    }
    if (r->step != READ_IDLE)
        r->again = true;
    else
        start_read(r);
    return rc;
}

const char *s2l_subschema_reader_source(const s2l_subschema_reader *r)
{
    return r && r->from_directory ? "directory" : "builtin";
}
