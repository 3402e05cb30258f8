/* rawldap.c — the raw-libldap baseline of the benchmarks, and the populator.
 *
 * The LDAP operation each SCIM request needs at the very least, issued
 * asynchronously and pipelined over K bound connections (the gateway's pool
 * size) with a window of C outstanding operations in total (the HTTP
 * concurrency): the closest a client can get to slapd's own limit. One thread,
 * poll() over the K sockets, ldap_result() with a zero timeout until drained.
 * A run ends when `count` operations were issued or `duration` passed; the
 * outstanding ones are awaited at most `timeout` more. Loopback only.
 *
 * Scenarios (operation i picks the entry <prefix>-<i>, zero-padded like the
 * load generator's userNames):
 *   add            add <rdn>=<prefix>-<i>,<base> from --template
 *   search-filter  one-level search (&<object filter>(<rdn>=<name>)), all user attributes + meta
 *   search-id      the same by (entryUUID=<uuid>), uuids read once before the clock starts
 *                  (all <prefix>-* entries' entryUUIDs, or the second column of --uuids FILE)
 *   modify         replace displayName and givenName
 *   modify-profile the LDAP side of put-user (PUT /Users/<id>, the whole profile): one modify
 *                  replacing every attribute the default mapping writes for that body (scimExternalId,
 *                  cn, sn, givenName, displayName, mail, title; bench_scim.h), displayName and
 *                  title carrying i as the load generator's do
 *   group-add      add the entry's DN as a member of --group-dn (each entry once)
 *   delete         delete the entry (each entry once)
 *   populate-group add --members dummy member DNs to --group-dn in batches (not timed per op)
 *
 * Output: a row in the same columns as the load generator (side "raw"; the CPU
 * column is this client's own CPU), appended to --out.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <lber.h>
#include <ldap.h>

#include "bench_hist.h"
#include "bench_proc.h"
#include "bench_scim.h"

#define MAX_CONNECTIONS 64ul
#define MAX_CONCURRENCY 4096ul
#define MAX_COUNT 100000000ul
#define MAX_TEMPLATE_ATTRS 64u
#define MAX_TEMPLATE_VALUES 64u
#define MAX_LINE 1024u
#define MAX_DN 1024u
#define POPULATE_BATCH 2000ul
#define MAX_ERRORS_SHOWN 5u
#define POLL_MS 50

typedef enum {
    SC_ADD,
    SC_SEARCH_FILTER,
    SC_SEARCH_ID,
    SC_MODIFY,
    SC_MODIFY_PROFILE,
    SC_GROUP_ADD,
    SC_DELETE,
    SC_POPULATE,
    SC_VLV
} scenario;

static const struct {
    const char *name;
    scenario sc;
} scenarios[] = {
    {"add", SC_ADD},         {"search-filter", SC_SEARCH_FILTER}, {"search-id", SC_SEARCH_ID},
    {"modify", SC_MODIFY},   {"group-add", SC_GROUP_ADD},         {"delete", SC_DELETE},
    {"populate-group", SC_POPULATE}, {"vlv-page", SC_VLV},        {"modify-profile", SC_MODIFY_PROFILE},
};

/* vlv-page: a connection that has sent this many VLV searches is reopened
 * once idle, as the gateway does (ldap.vlv_per_connection): slapd's sssvlv
 * keeps every VLV search's sorted result until its connection closes. */
#define VLV_PER_CONN 2

/* The entry an add creates: attribute names with value patterns in which
 * "{name}" stands for the entry's name. */
typedef struct tmpl_attr {
    char *name;
    char *values[MAX_TEMPLATE_VALUES];
    size_t n;
} tmpl_attr;

typedef struct rl_op {
    size_t conn;
    int msgid;
    size_t idx;
    uint64_t t0_us;
    unsigned entries;
    bool in_use;
} rl_op;

typedef struct rl_conn {
    LDAP *ld;
    int fd;
    size_t *pending;    /* op slots outstanding on this connection */
    size_t n_pending;
    bool dead;
    unsigned vlv_sent;  /* vlv-page: searches sent since it was opened */
} rl_conn;

typedef struct rl_opts {
    const char *uri, *bind_dn, *password;
    unsigned long connections, concurrency, count, items, members;
    double duration_s, timeout_s;
    const char *prefix, *member_prefix, *base, *rdn_attr, *object_filter;
    const char *template_path, *group_dn;
    const char *sort_key;   /* vlv-page: "[-]attr[:rule]" */
    unsigned long offset;   /* vlv-page: the page's first position (1-based) */
    const char *uuids_path;    /* search-id: "<anything>\t<uuid>" lines instead of a search */
    long slapd_pid;
    const char *tag, *label, *out_path;
} rl_opts;

typedef struct rl {
    rl_opts o;
    scenario sc;
    const char *sc_name;
    tmpl_attr tmpl[MAX_TEMPLATE_ATTRS];
    size_t n_tmpl;
    char **uuids;           /* search-id */
    size_t n_uuids;
    rl_conn *conns;
    rl_op *ops;             /* the window: concurrency slots */
    size_t *free_slots;
    size_t n_free;
    size_t inflight;
    size_t next;
    uint64_t ok, errors;
    unsigned errors_shown;
    s2l_bench_hist hist;
    uint64_t t_start_us, t_last_us;
} rl;

static char *search_attrs[] = {"*", "entryUUID", "createTimestamp", "modifyTimestamp", "entryCSN", NULL};
/* A list page reads what the gateway reads for a user: the same plus memberOf. */
static char *vlv_attrs[] = {"*", "entryUUID", "createTimestamp", "modifyTimestamp", "entryCSN", "memberOf", NULL};

/* ---------- template ---------- */

/* A copy of pattern with every "{name}" replaced by name; NULL when out of memory. */
static char *subst(const char *pattern, const char *name)
{
    static const char key[] = "{name}";
    size_t kl = sizeof key - 1, nl = strlen(name), len = 0;
    for (const char *p = pattern; *p;) {
        if (strncmp(p, key, kl) == 0) {
            len += nl;
            p += kl;
        } else {
            len++;
            p++;
        }
    }
    char *out = malloc(len + 1), *w = out;
    if (out == NULL)
        return NULL;
    for (const char *p = pattern; *p;) {
        if (strncmp(p, key, kl) == 0) {
            memcpy(w, name, nl);
            w += nl;
            p += kl;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return out;
}

static int tmpl_add(rl *r, const char *name, const char *value)
{
    tmpl_attr *a = NULL;
    for (size_t i = 0; i < r->n_tmpl; i++)
        if (strcasecmp(r->tmpl[i].name, name) == 0)
            a = &r->tmpl[i];
    if (a == NULL) {
        if (r->n_tmpl == MAX_TEMPLATE_ATTRS) {
            fprintf(stderr, "rawldap: template: more than %u attributes\n", MAX_TEMPLATE_ATTRS);
            return -1;
        }
        a = &r->tmpl[r->n_tmpl];
        a->name = strdup(name);
        if (a->name == NULL)
            return -1;
        r->n_tmpl++;
    }
    if (a->n == MAX_TEMPLATE_VALUES) {
        fprintf(stderr, "rawldap: template: more than %u values of %s\n", MAX_TEMPLATE_VALUES, name);
        return -1;
    }
    a->values[a->n] = strdup(value);
    if (a->values[a->n] == NULL)
        return -1;
    a->n++;
    return 0;
}

/* What the load generator's POST /Users body holds, as inetOrgPerson; used
 * until a template taken from an entry the gateway wrote is given. */
static int tmpl_default(rl *r)
{
    static const char *const def[][2] = {
        {"objectClass", "inetOrgPerson"}, {"uid", "{name}"},
        {"cn", "Display {name}"},         {"sn", "Family {name}"},
        {"givenName", "Given"},           {"displayName", "Display {name}"},
        {"mail", "{name}@example.org"},
    };
    for (size_t i = 0; i < sizeof def / sizeof def[0]; i++)
        if (tmpl_add(r, def[i][0], def[i][1]) != 0)
            return -1;
    return 0;
}

/* "attr: value" lines (LDIF without folding or base64); '#' comments, "dn:" ignored. */
static int tmpl_load(rl *r, const char *path)
{
    int rc = -1;
    char line[MAX_LINE];
    unsigned lineno = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "rawldap: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            fprintf(stderr, "rawldap: %s:%u: line too long\n", path, lineno);
            goto out;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        char *colon = strchr(line, ':');
        if (colon == NULL || colon == line || colon[1] == ':' || colon[1] == '<') {
            fprintf(stderr, "rawldap: %s:%u: expected \"attr: value\"\n", path, lineno);
            goto out;
        }
        *colon = '\0';
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        if (strcasecmp(line, "dn") == 0)
            continue;
        if (tmpl_add(r, line, v) != 0)
            goto out;
    }
    rc = 0;
out:
    fclose(f);
    return rc;
}

static void tmpl_free(rl *r)
{
    for (size_t i = 0; i < r->n_tmpl; i++) {
        free(r->tmpl[i].name);
        for (size_t j = 0; j < r->tmpl[i].n; j++)
            free(r->tmpl[i].values[j]);
    }
    r->n_tmpl = 0;
}

/* ---------- operations ---------- */

static void entry_name(const rl *r, size_t i, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s-%06zu", r->o.prefix, i);
}

static int entry_dn(const rl *r, size_t i, char *buf, size_t cap)
{
    char name[128];
    entry_name(r, i, name, sizeof name);
    int n = snprintf(buf, cap, "%s=%s,%s", r->o.rdn_attr, name, r->o.base);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Starts the add of entry i; the LDAPMod arrays only live until libldap has encoded them. */
static int start_add(rl *r, LDAP *ld, size_t i, int *msgid)
{
    int rc = LDAP_NO_MEMORY;
    char dn[MAX_DN], name[128];
    LDAPMod mods[MAX_TEMPLATE_ATTRS];
    LDAPMod *modp[MAX_TEMPLATE_ATTRS + 1];
    char *vals[MAX_TEMPLATE_ATTRS][MAX_TEMPLATE_VALUES + 1];
    memset(vals, 0, sizeof vals);
    if (entry_dn(r, i, dn, sizeof dn) != 0)
        return LDAP_PARAM_ERROR;
    entry_name(r, i, name, sizeof name);
    for (size_t a = 0; a < r->n_tmpl; a++) {
        for (size_t v = 0; v < r->tmpl[a].n; v++)
            if ((vals[a][v] = subst(r->tmpl[a].values[v], name)) == NULL)
                goto out;
        mods[a].mod_op = LDAP_MOD_ADD;
        mods[a].mod_type = r->tmpl[a].name;
        mods[a].mod_values = vals[a];
        modp[a] = &mods[a];
    }
    modp[r->n_tmpl] = NULL;
    rc = ldap_add_ext(ld, dn, modp, NULL, NULL, msgid);
out:
    for (size_t a = 0; a < r->n_tmpl; a++)
        for (size_t v = 0; v < r->tmpl[a].n; v++)
            free(vals[a][v]);
    return rc;
}

/* put-user's LDAP twin: entry i % items gets profile change number i, every
 * attribute replaced (what a full replace of the profile writes). */
static int start_modify_profile(rl *r, LDAP *ld, size_t i, int *msgid)
{
    char dn[MAX_DN], name[128];
    s2l_bench_profile p;
    s2l_bench_ldap_value v[S2L_BENCH_PROFILE_LDAP_MAX];
    LDAPMod mods[S2L_BENCH_PROFILE_LDAP_MAX];
    LDAPMod *modp[S2L_BENCH_PROFILE_LDAP_MAX + 1];
    char *vals[S2L_BENCH_PROFILE_LDAP_MAX][2];
    size_t e = i % r->o.items;
    entry_name(r, e, name, sizeof name);
    if (entry_dn(r, e, dn, sizeof dn) != 0 || s2l_bench_profile_changed(&p, name, i) != 0)
        return LDAP_PARAM_ERROR;
    size_t n = s2l_bench_profile_ldap(&p, v);
    for (size_t k = 0; k < n; k++) {
        vals[k][0] = (char *)v[k].value;
        vals[k][1] = NULL;
        mods[k] = (LDAPMod){.mod_op = LDAP_MOD_REPLACE, .mod_type = (char *)v[k].attr, .mod_values = vals[k]};
        modp[k] = &mods[k];
    }
    modp[n] = NULL;
    return ldap_modify_ext(ld, dn, modp, NULL, NULL, msgid);
}

static int start_op(rl *r, LDAP *ld, size_t i, int *msgid)
{
    char dn[MAX_DN], buf[MAX_DN], buf2[MAX_DN];
    switch (r->sc) {
    case SC_ADD:
        return start_add(r, ld, i, msgid);
    case SC_SEARCH_FILTER: {
        char name[128];
        entry_name(r, i % r->o.items, name, sizeof name);
        int n = snprintf(buf, sizeof buf, "(&%s(%s=%s))", r->o.object_filter, r->o.rdn_attr, name);
        if (n < 0 || (size_t)n >= sizeof buf)
            return LDAP_PARAM_ERROR;
        return ldap_search_ext(ld, r->o.base, LDAP_SCOPE_ONELEVEL, buf, search_attrs, 0, NULL, NULL, NULL, 0,
                               msgid);
    }
    case SC_SEARCH_ID: {
        int n = snprintf(buf, sizeof buf, "(&%s(entryUUID=%s))", r->o.object_filter, r->uuids[i % r->n_uuids]);
        if (n < 0 || (size_t)n >= sizeof buf)
            return LDAP_PARAM_ERROR;
        return ldap_search_ext(ld, r->o.base, LDAP_SCOPE_ONELEVEL, buf, search_attrs, 0, NULL, NULL, NULL, 0,
                               msgid);
    }
    case SC_MODIFY: {
        if (entry_dn(r, i % r->o.items, dn, sizeof dn) != 0)
            return LDAP_PARAM_ERROR;
        snprintf(buf, sizeof buf, "Patched %zu", i);
        snprintf(buf2, sizeof buf2, "Given%zu", i);
        char *v1[] = {buf, NULL}, *v2[] = {buf2, NULL};
        LDAPMod m1 = {.mod_op = LDAP_MOD_REPLACE, .mod_type = "displayName", .mod_values = v1};
        LDAPMod m2 = {.mod_op = LDAP_MOD_REPLACE, .mod_type = "givenName", .mod_values = v2};
        LDAPMod *mods[] = {&m1, &m2, NULL};
        return ldap_modify_ext(ld, dn, mods, NULL, NULL, msgid);
    }
    case SC_MODIFY_PROFILE:
        return start_modify_profile(r, ld, i, msgid);
    case SC_GROUP_ADD: {
        if (entry_dn(r, i, buf, sizeof buf) != 0)
            return LDAP_PARAM_ERROR;
        char *v[] = {buf, NULL};
        LDAPMod m = {.mod_op = LDAP_MOD_ADD, .mod_type = "member", .mod_values = v};
        LDAPMod *mods[] = {&m, NULL};
        return ldap_modify_ext(ld, r->o.group_dn, mods, NULL, NULL, msgid);
    }
    case SC_DELETE:
        if (entry_dn(r, i, dn, sizeof dn) != 0)
            return LDAP_PARAM_ERROR;
        return ldap_delete_ext(ld, dn, NULL, NULL, msgid);
    case SC_VLV: {
        /* The gateway's list page: sorted, a window of --items at --offset. */
        LDAPSortKey **keys = NULL;
        LDAPControl *ctrls[3] = {NULL, NULL, NULL};
        LDAPVLVInfo vi = {.ldvlv_version = 1, .ldvlv_after_count = (ber_int_t)r->o.items - 1,
                          .ldvlv_offset = (ber_int_t)r->o.offset};
        int rc = ldap_create_sort_keylist(&keys, (char *)r->o.sort_key);
        if (rc == LDAP_SUCCESS)
            rc = ldap_create_sort_control(ld, keys, 1, &ctrls[0]);
        if (rc == LDAP_SUCCESS)
            rc = ldap_create_vlv_control(ld, &vi, &ctrls[1]);
        if (rc == LDAP_SUCCESS)
            rc = ldap_search_ext(ld, r->o.base, LDAP_SCOPE_ONELEVEL, r->o.object_filter, vlv_attrs, 0, ctrls, NULL,
                                 NULL, 0, msgid);
        ldap_control_free(ctrls[0]);
        ldap_control_free(ctrls[1]);
        if (keys)
            ldap_free_sort_keylist(keys);
        return rc;
    }
    default:
        return LDAP_PARAM_ERROR;
    }
}

/* Decodes an entry the way any client must before using it. */
static void walk_entry(LDAP *ld, LDAPMessage *e)
{
    BerElement *ber = NULL;
    for (char *a = ldap_first_attribute(ld, e, &ber); a; a = ldap_next_attribute(ld, e, ber)) {
        struct berval **vals = ldap_get_values_len(ld, e, a);
        ldap_value_free_len(vals);
        ldap_memfree(a);
    }
    ber_free(ber, 0);
}

/* ---------- the window ---------- */

static void show_error(rl *r, size_t i, int rc, const char *why)
{
    if (r->errors_shown >= MAX_ERRORS_SHOWN)
        return;
    r->errors_shown++;
    fprintf(stderr, "rawldap: %s op %zu: %s (%d)%s%s\n", r->sc_name, i, ldap_err2string(rc), rc,
            why ? ": " : "", why ? why : "");
}

static LDAP *connect_bind(const rl *r);

/* vlv-page: reopens an idle connection (see VLV_PER_CONN). */
static void reopen(rl *r, size_t ci)
{
    rl_conn *c = &r->conns[ci];
    ldap_unbind_ext_s(c->ld, NULL, NULL);
    c->vlv_sent = 0;
    c->ld = connect_bind(r);
    if (c->ld == NULL || ldap_get_option(c->ld, LDAP_OPT_DESC, &c->fd) != LDAP_OPT_SUCCESS || c->fd < 0)
        c->dead = true;
}

static void op_complete(rl *r, size_t slot, int rc, const char *why)
{
    rl_op *op = &r->ops[slot];
    uint64_t now = s2l_bench_now_us();
    r->t_last_us = now;
    bool is_search = r->sc == SC_SEARCH_FILTER || r->sc == SC_SEARCH_ID;
    if (rc == LDAP_SUCCESS && is_search && op->entries != 1) {
        rc = LDAP_NO_SUCH_OBJECT;
        why = "search did not find exactly one entry";
    }
    if (rc == LDAP_SUCCESS && r->sc == SC_VLV && op->entries != r->o.items) {
        rc = LDAP_NO_SUCH_OBJECT;
        why = "the page does not hold --items entries";
    }
    if (rc == LDAP_SUCCESS) {
        r->ok++;
        s2l_bench_hist_record(&r->hist, now - op->t0_us);
    } else {
        r->errors++;
        show_error(r, op->idx, rc, why);
    }
    rl_conn *c = &r->conns[op->conn];
    for (size_t k = 0; k < c->n_pending; k++)
        if (c->pending[k] == slot) {
            c->pending[k] = c->pending[--c->n_pending];
            break;
        }
    op->in_use = false;
    r->free_slots[r->n_free++] = slot;
    r->inflight--;
    if (r->sc == SC_VLV && c->vlv_sent >= VLV_PER_CONN && c->n_pending == 0 && !c->dead)
        reopen(r, op->conn);
}

/* The connection is unusable: everything on it fails at once. */
static void conn_fail(rl *r, size_t ci, int rc)
{
    rl_conn *c = &r->conns[ci];
    c->dead = true;
    while (c->n_pending)
        op_complete(r, c->pending[0], rc, "connection lost");
}

static size_t pick_conn(const rl *r)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < r->o.connections; i++) {
        /* vlv-page: one waiting to be reopened takes nothing new (unless all do). */
        bool used_up = r->sc == SC_VLV && r->conns[i].vlv_sent >= VLV_PER_CONN;
        bool best_used_up = best != SIZE_MAX && r->sc == SC_VLV && r->conns[best].vlv_sent >= VLV_PER_CONN;
        if (r->conns[i].dead)
            continue;
        if (best == SIZE_MAX || (best_used_up && !used_up) ||
            (used_up == best_used_up && r->conns[i].n_pending < r->conns[best].n_pending))
            best = i;
    }
    return best;
}

/* false when no connection is left. */
static bool issue(rl *r)
{
    size_t ci = pick_conn(r);
    if (ci == SIZE_MAX)
        return false;
    size_t i = r->next++;
    size_t slot = r->free_slots[--r->n_free];
    rl_op *op = &r->ops[slot];
    rl_conn *c = &r->conns[ci];
    memset(op, 0, sizeof *op);
    op->conn = ci;
    op->idx = i;
    op->in_use = true;
    op->t0_us = s2l_bench_now_us();
    c->pending[c->n_pending++] = slot;
    r->inflight++;
    int rc = start_op(r, c->ld, i, &op->msgid);
    if (rc == LDAP_SUCCESS && r->sc == SC_VLV)
        c->vlv_sent++;
    if (rc != LDAP_SUCCESS) {
        op_complete(r, slot, rc, "could not start");
        if (rc == LDAP_SERVER_DOWN)
            conn_fail(r, ci, rc);
    }
    return true;
}

static void drain(rl *r, size_t ci)
{
    rl_conn *c = &r->conns[ci];
    int zeros = 0;
    /* A zero answer may only mean bytes were read without a whole message: try twice. */
    while (zeros < 2 && !c->dead) {
        LDAPMessage *msg = NULL;
        struct timeval zero = {0, 0};
        int t = ldap_result(c->ld, LDAP_RES_ANY, LDAP_MSG_ONE, &zero, &msg);
        if (t == 0) {
            zeros++;
            continue;
        }
        if (t < 0) {
            int err = LDAP_SERVER_DOWN;
            ldap_get_option(c->ld, LDAP_OPT_RESULT_CODE, &err);
            conn_fail(r, ci, err);
            break;
        }
        zeros = 0;
        int msgid = ldap_msgid(msg);
        size_t slot = SIZE_MAX;
        for (size_t k = 0; k < c->n_pending; k++)
            if (r->ops[c->pending[k]].msgid == msgid) {
                slot = c->pending[k];
                break;
            }
        if (slot != SIZE_MAX) {
            if (t == LDAP_RES_SEARCH_ENTRY) {
                r->ops[slot].entries++;
                walk_entry(c->ld, msg);
            } else if (t != LDAP_RES_SEARCH_REFERENCE && t != LDAP_RES_INTERMEDIATE) {
                int err = LDAP_OTHER;
                char *diag = NULL;
                if (ldap_parse_result(c->ld, msg, &err, NULL, &diag, NULL, NULL, 0) != LDAP_SUCCESS)
                    err = LDAP_DECODING_ERROR;
                op_complete(r, slot, err, diag);
                ldap_memfree(diag);
            }
        }
        ldap_msgfree(msg);
    }
}

static void run_window(rl *r)
{
    struct pollfd *pfds = calloc(r->o.connections, sizeof *pfds);
    if (pfds == NULL) {
        fprintf(stderr, "rawldap: out of memory\n");
        r->errors++;
        return;
    }
    r->t_start_us = s2l_bench_now_us();
    r->t_last_us = r->t_start_us;
    uint64_t stop = r->t_start_us + (uint64_t)(r->o.duration_s * 1e6);
    uint64_t abort_at = stop + (uint64_t)(r->o.timeout_s * 1e6);
    bool stopping = false;
    for (;;) {
        uint64_t now = s2l_bench_now_us();
        if (now >= stop)
            stopping = true;
        while (!stopping && r->next < r->o.count && r->inflight < r->o.concurrency)
            if (!issue(r)) {
                stopping = true;
                break;
            }
        if (r->inflight == 0 && (stopping || r->next >= r->o.count))
            break;
        if (now >= abort_at) {
            fprintf(stderr, "rawldap: %zu operations still outstanding after the timeout\n", r->inflight);
            for (size_t ci = 0; ci < r->o.connections; ci++)
                conn_fail(r, ci, LDAP_TIMEOUT);
            break;
        }
        size_t np = 0;
        for (size_t ci = 0; ci < r->o.connections; ci++) {
            if (r->conns[ci].dead || r->conns[ci].n_pending == 0)
                continue;
            pfds[np].fd = r->conns[ci].fd;
            pfds[np].events = POLLIN;
            pfds[np].revents = 0;
            np++;
        }
        if (np == 0)
            continue;
        if (poll(pfds, np, POLL_MS) < 0 && errno != EINTR) {
            fprintf(stderr, "rawldap: poll: %s\n", strerror(errno));
            break;
        }
        for (size_t k = 0; k < np; k++) {
            if (pfds[k].revents == 0)
                continue;
            for (size_t ci = 0; ci < r->o.connections; ci++)
                if (!r->conns[ci].dead && r->conns[ci].fd == pfds[k].fd)
                    drain(r, ci);
        }
    }
    free(pfds);
}

/* ---------- setup ---------- */

static LDAP *connect_bind(const rl *r)
{
    LDAP *ld = NULL;
    int v3 = LDAP_VERSION3;
    struct timeval nt = {3, 0};
    int rc = ldap_initialize(&ld, r->o.uri);
    if (rc != LDAP_SUCCESS) {
        fprintf(stderr, "rawldap: %s: %s\n", r->o.uri, ldap_err2string(rc));
        return NULL;
    }
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
    /* Synchronous calls (bind, the uuid read, populate) are bounded too. */
    struct timeval api = {r->o.timeout_s < 1 ? 1 : (time_t)r->o.timeout_s, 0};
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &nt);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &api);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    struct berval cred = {0, NULL};
    if (r->o.password) {
        cred.bv_val = (char *)r->o.password;
        cred.bv_len = strlen(r->o.password);
    }
    rc = ldap_sasl_bind_s(ld, r->o.bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    if (rc != LDAP_SUCCESS) {
        fprintf(stderr, "rawldap: bind to %s as %s: %s\n", r->o.uri, r->o.bind_dn ? r->o.bind_dn : "(anonymous)",
                ldap_err2string(rc));
        ldap_unbind_ext_s(ld, NULL, NULL);
        return NULL;
    }
    return ld;
}

static bool uri_is_loopback(const char *uri)
{
    LDAPURLDesc *u = NULL;
    bool ok = false;
    if (ldap_url_parse(uri, &u) != LDAP_URL_SUCCESS)
        return false;
    if (u->lud_scheme && strcmp(u->lud_scheme, "ldapi") == 0)
        ok = true;
    else
        ok = u->lud_host && s2l_bench_is_loopback(u->lud_host);
    ldap_free_urldesc(u);
    return ok;
}

/* entryUUIDs of the entries <prefix>-*, for search-id; read before the clock starts. */
/* search-id with --uuids: the second column of each line, in file order. */
static int load_uuids_file(rl *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "rawldap: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[MAX_LINE];
    size_t cap = 0;
    int ret = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        char *tab = strchr(line, '\t');
        if (tab == NULL)
            continue;
        char *u = tab + 1;
        u[strcspn(u, "\r\n")] = '\0';
        if (*u == '\0')
            continue;
        if (r->n_uuids == cap) {
            if (cap >= MAX_COUNT)
                goto out;
            size_t ncap = cap ? cap * 2 : 1024;
            char **nu = realloc(r->uuids, ncap * sizeof *nu);
            if (nu == NULL)
                goto out;
            r->uuids = nu;
            cap = ncap;
        }
        if ((r->uuids[r->n_uuids] = strdup(u)) == NULL)
            goto out;
        r->n_uuids++;
    }
    ret = r->n_uuids ? 0 : -1;
    if (ret)
        fprintf(stderr, "rawldap: %s: no uuids\n", path);
out:
    fclose(f);
    return ret;
}

static int load_uuids(rl *r, LDAP *ld)
{
    if (r->o.uuids_path)
        return load_uuids_file(r, r->o.uuids_path);
    int ret = -1;
    LDAPMessage *res = NULL;
    char filter[MAX_DN];
    char *attrs[] = {"entryUUID", NULL};
    int n = snprintf(filter, sizeof filter, "(&%s(%s=%s-*))", r->o.object_filter, r->o.rdn_attr, r->o.prefix);
    if (n < 0 || (size_t)n >= sizeof filter)
        return -1;
    int rc = ldap_search_ext_s(ld, r->o.base, LDAP_SCOPE_ONELEVEL, filter, attrs, 0, NULL, NULL, NULL, 0, &res);
    if (rc != LDAP_SUCCESS) {
        fprintf(stderr, "rawldap: reading entryUUIDs: %s\n", ldap_err2string(rc));
        goto out;
    }
    int count = ldap_count_entries(ld, res);
    if (count <= 0) {
        fprintf(stderr, "rawldap: no entries %s-* under %s\n", r->o.prefix, r->o.base);
        goto out;
    }
    r->uuids = calloc((size_t)count, sizeof *r->uuids);
    if (r->uuids == NULL)
        goto out;
    for (LDAPMessage *e = ldap_first_entry(ld, res); e; e = ldap_next_entry(ld, e)) {
        struct berval **v = ldap_get_values_len(ld, e, "entryUUID");
        if (v && v[0] && r->n_uuids < (size_t)count) {
            r->uuids[r->n_uuids] = strndup(v[0]->bv_val, v[0]->bv_len);
            if (r->uuids[r->n_uuids])
                r->n_uuids++;
        }
        ldap_value_free_len(v);
    }
    ret = r->n_uuids ? 0 : -1;
out:
    ldap_msgfree(res);
    return ret;
}

/* Adds dummy member DNs in batches: a big group as an IdP would have built it.
 * The members need not exist: without refint/memberof slapd does not look. */
static int populate(rl *r, LDAP *ld)
{
    int ret = -1;
    char **vals = calloc(POPULATE_BATCH + 1, sizeof *vals);
    if (vals == NULL)
        return -1;
    uint64_t t0 = s2l_bench_now_us();
    size_t done = 0;
    while (done < r->o.members) {
        size_t n = r->o.members - done < POPULATE_BATCH ? r->o.members - done : POPULATE_BATCH;
        int rc = LDAP_NO_MEMORY;
        size_t k;
        for (k = 0; k < n; k++) {
            char dn[MAX_DN];
            int len = snprintf(dn, sizeof dn, "%s=%s-%07zu,%s", r->o.rdn_attr, r->o.member_prefix, done + k,
                               r->o.base);
            if (len < 0 || (size_t)len >= sizeof dn) {
                rc = LDAP_PARAM_ERROR;
                break;
            }
            if ((vals[k] = strdup(dn)) == NULL)
                break;
        }
        if (k == n) {
            LDAPMod m = {.mod_op = LDAP_MOD_ADD, .mod_type = "member", .mod_values = vals};
            LDAPMod *mods[] = {&m, NULL};
            rc = ldap_modify_ext_s(ld, r->o.group_dn, mods, NULL, NULL);
        }
        for (size_t j = 0; j < k; j++) {
            free(vals[j]);
            vals[j] = NULL;
        }
        if (rc != LDAP_SUCCESS) {
            fprintf(stderr, "rawldap: adding members %zu..%zu to %s: %s\n", done, done + n - 1, r->o.group_dn,
                    ldap_err2string(rc));
            goto out;
        }
        done += n;
    }
    fprintf(stderr, "rawldap: %lu members added to %s in %.1fs\n", r->o.members, r->o.group_dn,
            (double)(s2l_bench_now_us() - t0) / 1e6);
    ret = 0;
out:
    free(vals);
    return ret;
}

/* ---------- results ---------- */

static double ms(uint64_t us)
{
    return (double)us / 1000.0;
}

static void print_row(rl *r, const s2l_bench_proc_sample *me0, const s2l_bench_proc_sample *me1,
                      const s2l_bench_proc_sample *sl0, const s2l_bench_proc_sample *sl1)
{
    double elapsed = (double)(r->t_last_us - r->t_start_us) / 1e6;
    double ops = elapsed > 0 ? (double)r->ok / elapsed : 0.0;
    uint64_t done = r->ok + r->errors;
    double my_cpu = -1, sl_cpu = -1;
    if (me0->ok && me1->ok && done)
        my_cpu = (me1->cpu_s - me0->cpu_s) / (double)done * 1000.0;
    if (sl0->ok && sl1->ok && done)
        sl_cpu = (sl1->cpu_s - sl0->cpu_s) / (double)done * 1000.0;
    uint64_t p50 = s2l_bench_hist_percentile(&r->hist, 50), p99 = s2l_bench_hist_percentile(&r->hist, 99);
    fprintf(stderr, "rawldap: %-14s c=%-4lu k=%lu ok=%" PRIu64 " err=%" PRIu64 " in %.2fs: %.0f/s p50=%.2fms "
                    "p99=%.2fms max=%.2fms\n",
            r->sc_name, r->o.concurrency, r->o.connections, r->ok, r->errors, elapsed, ops, ms(p50), ms(p99),
            ms(r->hist.max_us));
    if (r->o.out_path == NULL)
        return;
    FILE *f = fopen(r->o.out_path, "a");
    if (f == NULL) {
        fprintf(stderr, "rawldap: %s: %s\n", r->o.out_path, strerror(errno));
        return;
    }
    fprintf(f, "%s\traw\t%s\t%lu\t%zu\t%" PRIu64 "\t%" PRIu64 "\t%.3f\t%.1f\t%.3f\t%.3f\t%.3f\t%.4f\t%.4f\t%" PRIu64
               "\t%" PRIu64 "\n",
            r->o.tag, r->o.label ? r->o.label : r->sc_name, r->o.concurrency, r->next, r->ok, r->errors, elapsed,
            ops, ms(p50), ms(p99), ms(r->hist.max_us), my_cpu, sl_cpu, me1->vmhwm_kb, me1->vmrss_kb);
    fclose(f);
}

/* ---------- main ---------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: s2l_rawldap --uri URI [options] SCENARIO\n"
            "scenarios: add search-filter search-id modify modify-profile group-add delete populate-group\n"
            "           vlv-page\n"
            "  --bind-dn DN --password PW\n"
            "  --connections K      LDAP connections (default 4, the gateway's pool)\n"
            "  --concurrency C      outstanding operations in total (default 1)\n"
            "  --count N            operations at most (default 1000)\n"
            "  --duration S         seconds at most for issuing (default 10)\n"
            "  --timeout S          drain limit after that (default 30)\n"
            "  --prefix P           entries are <rdn-attr>=<P>-<i>,<base>\n"
            "  --items N            how many such entries exist (search, modify, modify-profile,\n"
            "                       group-add, delete)\n"
            "  --base DN            default ou=people,dc=example,dc=org\n"
            "  --rdn-attr A         default uid\n"
            "  --object-filter F    default (objectClass=inetOrgPerson)\n"
            "  --template FILE      add: \"attr: value\" lines, {name} = the entry's name\n"
            "                       (modify-profile writes scimExternalId: add its entries with the\n"
            "                       template of an entry the gateway wrote, as run.sh does)\n"
            "  --uuids FILE         search-id: entryUUIDs from the 2nd column of FILE (TAB-separated)\n"
            "  --group-dn DN        group-add, populate-group\n"
            "  --members N --member-prefix P   populate-group\n"
            "  --sort-key K --offset N --items N   vlv-page: sorted window of N entries at N\n"
            "  --slapd-pid PID --tag T --label L --out FILE\n");
}

static int parse_args(rl *r, int argc, char **argv)
{
    enum { O_URI = 256, O_BINDDN, O_PW, O_CONNS, O_CONC, O_COUNT, O_DUR, O_TIMEOUT, O_PREFIX, O_ITEMS, O_BASE,
           O_RDN, O_OFILTER, O_TMPL, O_GROUP, O_MEMBERS, O_MPREFIX, O_SPID, O_TAG, O_LABEL, O_OUT, O_HELP,
           O_SORT, O_OFFSET, O_UUIDS };
    static const struct option longopts[] = {
        {"uri", required_argument, NULL, O_URI}, {"bind-dn", required_argument, NULL, O_BINDDN},
        {"password", required_argument, NULL, O_PW}, {"connections", required_argument, NULL, O_CONNS},
        {"concurrency", required_argument, NULL, O_CONC}, {"count", required_argument, NULL, O_COUNT},
        {"duration", required_argument, NULL, O_DUR}, {"timeout", required_argument, NULL, O_TIMEOUT},
        {"prefix", required_argument, NULL, O_PREFIX}, {"items", required_argument, NULL, O_ITEMS},
        {"base", required_argument, NULL, O_BASE}, {"rdn-attr", required_argument, NULL, O_RDN},
        {"object-filter", required_argument, NULL, O_OFILTER}, {"template", required_argument, NULL, O_TMPL},
        {"group-dn", required_argument, NULL, O_GROUP}, {"members", required_argument, NULL, O_MEMBERS},
        {"member-prefix", required_argument, NULL, O_MPREFIX}, {"slapd-pid", required_argument, NULL, O_SPID},
        {"tag", required_argument, NULL, O_TAG}, {"label", required_argument, NULL, O_LABEL},
        {"out", required_argument, NULL, O_OUT}, {"help", no_argument, NULL, O_HELP},
        {"sort-key", required_argument, NULL, O_SORT}, {"offset", required_argument, NULL, O_OFFSET},
        {"uuids", required_argument, NULL, O_UUIDS}, {NULL, 0, NULL, 0},
    };
    rl_opts *o = &r->o;
    o->connections = 4;
    o->concurrency = 1;
    o->count = 1000;
    o->duration_s = 10;
    o->timeout_s = 30;
    o->base = "ou=people,dc=example,dc=org";
    o->rdn_attr = "uid";
    o->object_filter = "(objectClass=inetOrgPerson)";
    o->member_prefix = "bench-member";
    o->tag = "-";
    unsigned long v;
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case O_URI: o->uri = optarg; break;
        case O_BINDDN: o->bind_dn = optarg; break;
        case O_PW: o->password = optarg; break;
        case O_CONNS:
            if (!s2l_bench_parse_ulong(optarg, 1, MAX_CONNECTIONS, &o->connections))
                goto bad;
            break;
        case O_CONC:
            if (!s2l_bench_parse_ulong(optarg, 1, MAX_CONCURRENCY, &o->concurrency))
                goto bad;
            break;
        case O_COUNT:
            if (!s2l_bench_parse_ulong(optarg, 1, MAX_COUNT, &o->count))
                goto bad;
            break;
        case O_DUR:
            if (!s2l_bench_parse_double(optarg, 0.01, 86400, &o->duration_s))
                goto bad;
            break;
        case O_TIMEOUT:
            if (!s2l_bench_parse_double(optarg, 0.01, 3600, &o->timeout_s))
                goto bad;
            break;
        case O_PREFIX: o->prefix = optarg; break;
        case O_ITEMS:
            if (!s2l_bench_parse_ulong(optarg, 1, MAX_COUNT, &o->items))
                goto bad;
            break;
        case O_BASE: o->base = optarg; break;
        case O_RDN: o->rdn_attr = optarg; break;
        case O_OFILTER: o->object_filter = optarg; break;
        case O_TMPL: o->template_path = optarg; break;
        case O_UUIDS: o->uuids_path = optarg; break;
        case O_GROUP: o->group_dn = optarg; break;
        case O_MEMBERS:
            if (!s2l_bench_parse_ulong(optarg, 1, MAX_COUNT, &o->members))
                goto bad;
            break;
        case O_MPREFIX: o->member_prefix = optarg; break;
        case O_SPID:
            if (!s2l_bench_parse_ulong(optarg, 1, INT_MAX, &v))
                goto bad;
            o->slapd_pid = (long)v;
            break;
        case O_TAG: o->tag = optarg; break;
        case O_LABEL: o->label = optarg; break;
        case O_OUT: o->out_path = optarg; break;
        case O_SORT: o->sort_key = optarg; break;
        case O_OFFSET:
            if (!s2l_bench_parse_ulong(optarg, 1, INT_MAX, &o->offset))
                goto bad;
            break;
        case O_HELP: usage(stdout); exit(0);
        default: goto bad;
        }
    }
    if (optind != argc - 1 || o->uri == NULL)
        goto bad;
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (strcmp(argv[optind], scenarios[i].name) == 0) {
            r->sc = scenarios[i].sc;
            r->sc_name = scenarios[i].name;
        }
    if (r->sc_name == NULL) {
        fprintf(stderr, "rawldap: unknown scenario %s\n", argv[optind]);
        goto bad;
    }
    if (!uri_is_loopback(o->uri)) {
        fprintf(stderr, "rawldap: %s is not on loopback; the benchmark stays on loopback\n", o->uri);
        return -1;
    }
    bool needs_prefix = r->sc != SC_POPULATE && r->sc != SC_VLV;
    bool needs_items = r->sc == SC_SEARCH_FILTER || r->sc == SC_MODIFY || r->sc == SC_MODIFY_PROFILE ||
                       r->sc == SC_GROUP_ADD || r->sc == SC_DELETE || r->sc == SC_VLV;
    bool needs_group = r->sc == SC_GROUP_ADD || r->sc == SC_POPULATE;
    if ((needs_prefix && o->prefix == NULL) || (needs_items && o->items == 0) || (needs_group && !o->group_dn) ||
        (r->sc == SC_POPULATE && o->members == 0) ||
        (r->sc == SC_VLV && (o->sort_key == NULL || o->offset == 0 || o->items > INT_MAX))) {
        fprintf(stderr, "rawldap: %s needs more options\n", r->sc_name);
        goto bad;
    }
    if (o->prefix && strlen(o->prefix) > 64) {
        fprintf(stderr, "rawldap: prefix too long\n");
        return -1;
    }
    /* Each entry is added to the group / deleted once. */
    if ((r->sc == SC_GROUP_ADD || r->sc == SC_DELETE) && o->count > o->items)
        o->count = o->items;
    return 0;
bad:
    usage(stderr);
    return -1;
}

int main(int argc, char **argv)
{
    int rc = 2;
    static rl r;   /* the histogram is large: not on the stack */
    s2l_bench_proc_sample me0, me1, sl0, sl1;

    if (parse_args(&r, argc, argv) != 0)
        return 2;
    if (r.sc == SC_ADD &&
        (r.o.template_path ? tmpl_load(&r, r.o.template_path) : tmpl_default(&r)) != 0)
        goto out;
    if (r.sc == SC_ADD && r.n_tmpl == 0) {
        fprintf(stderr, "rawldap: empty template\n");
        goto out;
    }
    if (r.sc == SC_POPULATE) {
        LDAP *ld = connect_bind(&r);
        if (ld == NULL)
            goto out;
        rc = populate(&r, ld) == 0 ? 0 : 1;
        ldap_unbind_ext_s(ld, NULL, NULL);
        goto out;
    }

    r.conns = calloc(r.o.connections, sizeof *r.conns);
    r.ops = calloc(r.o.concurrency, sizeof *r.ops);
    r.free_slots = calloc(r.o.concurrency, sizeof *r.free_slots);
    if (r.conns == NULL || r.ops == NULL || r.free_slots == NULL)
        goto oom;
    for (size_t s = 0; s < r.o.concurrency; s++)
        r.free_slots[r.n_free++] = r.o.concurrency - 1 - s;
    for (size_t ci = 0; ci < r.o.connections; ci++) {
        rl_conn *c = &r.conns[ci];
        c->pending = calloc(r.o.concurrency, sizeof *c->pending);
        if (c->pending == NULL)
            goto oom;
        if ((c->ld = connect_bind(&r)) == NULL)
            goto out;
        if (ldap_get_option(c->ld, LDAP_OPT_DESC, &c->fd) != LDAP_OPT_SUCCESS || c->fd < 0) {
            fprintf(stderr, "rawldap: no socket for connection %zu\n", ci);
            goto out;
        }
    }
    if (r.sc == SC_SEARCH_ID && load_uuids(&r, r.conns[0].ld) != 0)
        goto out;

    s2l_bench_proc_read(getpid(), &me0);
    s2l_bench_proc_read((pid_t)r.o.slapd_pid, &sl0);
    run_window(&r);
    s2l_bench_proc_read(getpid(), &me1);
    s2l_bench_proc_read((pid_t)r.o.slapd_pid, &sl1);
    print_row(&r, &me0, &me1, &sl0, &sl1);
    rc = r.errors ? 1 : 0;
    goto out;
oom:
    fprintf(stderr, "rawldap: out of memory\n");
out:
    for (size_t ci = 0; r.conns && ci < r.o.connections; ci++) {
        if (r.conns[ci].ld)
            ldap_unbind_ext_s(r.conns[ci].ld, NULL, NULL);
        free(r.conns[ci].pending);
    }
    free(r.conns);
    free(r.ops);
    free(r.free_slots);
    for (size_t i = 0; i < r.n_uuids; i++)
        free(r.uuids[i]);
    free(r.uuids);
    tmpl_free(&r);
    return rc;
}
