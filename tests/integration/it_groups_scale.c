/* it_groups_scale.c — member changes on a 20,000-member group cost what they
 * cost on a 1-member group.
 *
 * The test builds both groups itself over LDAP (pipelined adds), then sends
 * the same SCIM requests to each: Entra's look-ups (GET by id and filter by
 * displayName, both excluding members), one member added, removed with a value
 * array, added and removed by a members[value eq] path, removed while absent,
 * and Okta's remove+add in one request. For every request:
 *
 *   - the LDAP operations slapd counted (cn=Monitor) must be the same for
 *     both groups: nothing scales with the member list;
 *   - slapd's stats log must show no search that could return the big group
 *     with `member` (asked by name, or as all user attributes);
 *   - LDAP must hold exactly the expected members afterwards (the new member
 *     present or absent, the 20,000 others all still there).
 *
 * Response size or time is printed, never asserted: only the operation counts
 * and the log prove that the member list was not read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "it_groups_common.h"

#define BIG_MEMBERS 20000
#define PREFIX "scale"
#define BIG_CN "scale-big"
#define SMALL_CN "scale-small"

enum { SMALL, BIG };
static const char *const group_cn[2] = {SMALL_CN, BIG_CN};

static ig_env env;
static char *gid[2];  /* SCIM ids of the two groups */
static char *gdn[2];  /* their DNs */
static char *new_id;  /* a user in neither group: the member added and removed */
static char *new_dn;

/* ------------------------------------------------------------------ stats log */

/* One search as slapd's "-d stats" log shows it: a "SRCH base=..." line and,
 * only when the client named attributes, a "SRCH attr=..." line. */
typedef struct logged_search {
    long conn, op;
    char *base;
    char *attrs; /* NULL: no attribute list (all user attributes) */
} logged_search;

typedef struct log_scan {
    logged_search *s;
    size_t n, cap;
    long modifies_of_big; /* "MOD dn=<big group>" */
    bool oom;
} log_scan;

static long log_size(void)
{
    struct stat st;

    return stat(h_slapd_log_path(env.s), &st) == 0 ? (long)st.st_size : -1;
}

static logged_search *find_search(log_scan *ls, long conn, long op, bool create)
{
    for (size_t i = ls->n; i-- > 0;)
        if (ls->s[i].conn == conn && ls->s[i].op == op)
            return &ls->s[i];
    if (!create)
        return NULL;
    if (ls->n == ls->cap) {
        size_t cap = ls->cap ? ls->cap * 2 : 16;
        logged_search *p = realloc(ls->s, cap * sizeof *p);

        if (p == NULL) {
            ls->oom = true;
            return NULL;
        }
        ls->s = p;
        ls->cap = cap;
    }
    ls->s[ls->n] = (logged_search){conn, op, NULL, NULL};
    return &ls->s[ls->n++];
}

/* The text after key up to end (malloc'd): base="<dn>" scope=... ends at
 * "\" scope=", not at the filter's last quote; NULL if either is missing. */
static char *text_between(const char *line, const char *key, const char *end)
{
    const char *p = strstr(line, key), *e;

    if (p == NULL)
        return NULL;
    p += strlen(key);
    e = strstr(p, end);
    return e ? strndup(p, (size_t)(e - p)) : NULL;
}

static void scan_line(log_scan *ls, const char *line)
{
    const char *c = strstr(line, "conn=");
    long conn, op;
    int used = 0;
    const char *rest;
    logged_search *s;

    if (c == NULL || sscanf(c, "conn=%ld op=%ld %n", &conn, &op, &used) != 2 || used == 0)
        return;
    rest = c + used;
    if (strncmp(rest, "SRCH base=", 10) == 0) {
        s = find_search(ls, conn, op, true);
        if (s && s->base == NULL && (s->base = text_between(rest, "base=\"", "\" scope=")) == NULL)
            ls->oom = true;
    } else if (strncmp(rest, "SRCH attr=", 10) == 0) {
        s = find_search(ls, conn, op, true);
        if (s && s->attrs == NULL && (s->attrs = strdup(rest + 10)) == NULL)
            ls->oom = true;
    } else if (strncmp(rest, "MOD dn=", 7) == 0) {
        char *dn = text_between(rest, "dn=\"", "\"");

        if (dn && strcasecmp(dn, gdn[BIG]) == 0)
            ls->modifies_of_big++;
        free(dn);
    }
}

/* Reads the log from offset on. Searches slapd had not logged yet when the
 * reply came are unlikely (the SRCH lines are written as the request is
 * read, before it is answered) but the read waits until the size is stable. */
static bool scan_log(long offset, log_scan *ls)
{
    FILE *f;
    char *line = NULL;
    size_t cap = 0;
    long last = -1;

    memset(ls, 0, sizeof *ls);
    for (int i = 0; i < 50; i++) {
        long now = log_size();
        struct timespec ts = {0, 10 * 1000000L};

        if (now == last)
            break;
        last = now;
        nanosleep(&ts, NULL);
    }
    f = fopen(h_slapd_log_path(env.s), "r");
    if (f == NULL || fseek(f, offset, SEEK_SET) != 0) {
        if (f)
            fclose(f);
        return false;
    }
    while (getline(&line, &cap, f) >= 0) {
        line[strcspn(line, "\r\n")] = 0;
        scan_line(ls, line);
    }
    free(line);
    fclose(f);
    return !ls->oom;
}

static void log_scan_free(log_scan *ls)
{
    for (size_t i = 0; i < ls->n; i++) {
        free(ls->s[i].base);
        free(ls->s[i].attrs);
    }
    free(ls->s);
}

/* Whether a space-separated attribute list names attr (case-insensitively). */
static bool attrs_name(const char *attrs, const char *attr)
{
    size_t n = strlen(attr);

    for (const char *p = attrs; *p;) {
        size_t l;

        while (*p == ' ')
            p++;
        l = strcspn(p, " ");
        if (l == n && strncasecmp(p, attr, n) == 0)
            return true;
        p += l;
    }
    return false;
}

/* Whether a search based at base can return the big group: its own DN, a DN
 * above it (ou=groups, the suffix) or the root. */
static bool can_reach_big(const char *base)
{
    size_t bl = strlen(base), gl = strlen(gdn[BIG]);

    if (bl == 0)
        return true;
    return bl <= gl && strcasecmp(gdn[BIG] + gl - bl, base) == 0 && (bl == gl || gdn[BIG][gl - bl - 1] == ',');
}

/* The searches in ls that could have brought the big group's member list. */
static size_t member_reads(const log_scan *ls, const char *what)
{
    size_t bad = 0;

    for (size_t i = 0; i < ls->n; i++) {
        const logged_search *s = &ls->s[i];

        if (s->base == NULL || !can_reach_big(s->base))
            continue;
        if (s->attrs == NULL || attrs_name(s->attrs, "member") || attrs_name(s->attrs, "*")) {
            fprintf(stderr, "%s: conn=%ld op=%ld searched base \"%s\" for %s\n", what, s->conn, s->op, s->base,
                    s->attrs ? s->attrs : "all user attributes");
            bad++;
        }
    }
    return bad;
}

/* ------------------------------------------------------------------ measuring */

typedef h_resp request_fn(size_t g);

typedef struct measured {
    h_op_counts ops;
    size_t member_reads;
    long modifies_of_big;
    double ms;
    size_t body_len;
} measured;

/* Runs one request on group g with the op counts read around it and the
 * stats log scanned; checks its status. */
static measured measure_(request_fn *fn, size_t g, int want_status, const char *what, const char *file, int line)
{
    measured m;
    ig_ops o;
    long offset;
    log_scan ls;
    h_resp r;
    char label[160];

    memset(&m, 0, sizeof m);
    snprintf(label, sizeof label, "%s on %s", what, group_cn[g]);
    ig_ops_begin(env.s, &o);
    offset = log_size();
    r = fn(g);
    h_check_status_(&r, want_status, file, line);
    m.ms = r.ms;
    m.body_len = r.body_len;
    h_check_(offset >= 0 && scan_log(offset, &ls), file, line, "%s: cannot read slapd's stats log", label);
    m.member_reads = member_reads(&ls, label);
    m.modifies_of_big = ls.modifies_of_big;
    log_scan_free(&ls);
    m.ops = ig_ops_end(env.s, &o);
    h_check_(o.ok, file, line, "%s: cannot read cn=Monitor", label);
    fprintf(stderr, "%-44s %6.1f ms  %6zu bytes  search %ld modify %ld\n", label, m.ms, m.body_len, m.ops.search,
            m.ops.modify);
    h_resp_free(&r);
    return m;
}

/* The same request on both groups: same LDAP work, no member list read for
 * the big one. Returns the big group's measurement. */
static measured compare_(request_fn *fn, int want_status, long want_modify, const char *what, const char *file,
                         int line)
{
    measured s = measure_(fn, SMALL, want_status, what, file, line);
    measured b = measure_(fn, BIG, want_status, what, file, line);

    h_check_(s.ops.search == b.ops.search && s.ops.modify == b.ops.modify && s.ops.add == b.ops.add &&
                 s.ops.del == b.ops.del && s.ops.modrdn == b.ops.modrdn && s.ops.compare == b.ops.compare,
             file, line,
             "%s: LDAP work differs: 1 member: %ld search %ld modify %ld add %ld delete %ld modrdn %ld compare; "
             "%d members: %ld search %ld modify %ld add %ld delete %ld modrdn %ld compare",
             what, s.ops.search, s.ops.modify, s.ops.add, s.ops.del, s.ops.modrdn, s.ops.compare, BIG_MEMBERS,
             b.ops.search, b.ops.modify, b.ops.add, b.ops.del, b.ops.modrdn, b.ops.compare);
    h_check_(b.member_reads == 0, file, line, "%s: %zu searches could return the %d-member list (see above)", what,
             b.member_reads, BIG_MEMBERS);
    if (want_modify >= 0) {
        h_check_(b.ops.modify == want_modify, file, line, "%s: %ld LDAP modifies, want %ld", what, b.ops.modify,
                 want_modify);
        h_check_(b.modifies_of_big == want_modify, file, line, "%s: the stats log shows %ld modifies of %s, want %ld",
                 what, b.modifies_of_big, gdn[BIG], want_modify);
    }
    return b;
}
#define COMPARE(fn, status, nmod, what) compare_((fn), (status), (nmod), (what), __FILE__, __LINE__)

/* ------------------------------------------------------------------ the requests */

static h_resp get_excluding(size_t g)
{
    char *path = ig_group_path(gid[g], "excludedAttributes=members");
    h_resp r = h_http(env.g, "GET", path, NULL, (const char *const[]){"ADSCIMVersion: 2.0", NULL});

    free(path);
    return r;
}

static h_resp filter_excluding(size_t g)
{
    char *path = ig_fmt("/Groups?excludedAttributes=members&filter=displayName+eq+%%22%s%%22", group_cn[g]);
    h_resp r = h_http(env.g, "GET", path, NULL, NULL);

    free(path);
    return r;
}

static h_resp filter_by_member(size_t g)
{
    char *f = ig_fmt("displayName eq \"%s\" and members[value eq \"%s\"]", group_cn[g], new_id);
    char *path = f ? ig_filter_path(f, "excludedAttributes=members") : NULL;
    h_resp r = h_http(env.g, "GET", path, NULL, NULL);

    free(path);
    free(f);
    return r;
}

static h_resp attributes_without_members(size_t g)
{
    char *path = ig_group_path(gid[g], "attributes=displayName,externalId");
    h_resp r = h_http(env.g, "GET", path, NULL, NULL);

    free(path);
    return r;
}

/* The member changes IdPs send, each naming new_id. */
typedef enum { CH_ADD, CH_REMOVE, CH_REMOVE_PATH, CH_OKTA } change;

static h_resp patch_with(size_t g, change c)
{
    char *ops = NULL;
    h_resp r;

    switch (c) {
    case CH_ADD:
        ops = ig_fmt("[{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"$ref\":null,\"value\":\"%s\"}]}]", new_id);
        break;
    case CH_REMOVE:
        ops = ig_fmt("[{\"op\":\"Remove\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]", new_id);
        break;
    case CH_REMOVE_PATH:
        ops = ig_fmt("[{\"op\":\"remove\",\"path\":\"members[value eq \\\"%s\\\"]\"}]", new_id);
        break;
    case CH_OKTA:
        ops = ig_fmt("[{\"op\":\"remove\",\"path\":\"members[value eq \\\"%s\\\"]\"},"
                     "{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]",
                     new_id, new_id);
        break;
    }
    r = ig_patch(env.g, gid[g], NULL, ops);
    free(ops);
    return r;
}

static h_resp patch_add(size_t g)
{
    return patch_with(g, CH_ADD);
}

static h_resp patch_remove(size_t g)
{
    return patch_with(g, CH_REMOVE);
}

static h_resp patch_remove_path(size_t g)
{
    return patch_with(g, CH_REMOVE_PATH);
}

static h_resp patch_okta(size_t g)
{
    return patch_with(g, CH_OKTA);
}

/* ------------------------------------------------------------------ LDAP state */

/* Whether group g holds new_dn, asked with a filter (not by reading 20,000 values). */
static bool holds_new(size_t g)
{
    char *f = ig_fmt("(&(cn=%s)(member=%s))", group_cn[g], new_dn);
    long n = f ? h_ldap_count(env.s, H_GROUPS, f) : -1;

    free(f);
    return n == 1;
}

/* The whole member list of group g, read once at the end: exactly the first
 * want_from_bulk bulk users, none lost and nothing else. */
static void check_all_members(size_t g, size_t want_from_bulk)
{
    static const char *const attrs[] = {"member", NULL};
    char *f = ig_fmt("(cn=%s)", group_cn[g]);
    json_t *arr = f ? h_ldap_search(env.s, H_GROUPS, f, attrs) : NULL;
    const json_t *vals = json_object_get(json_object_get(json_array_get(arr, 0), "attrs"), "member");
    size_t missing = 0;

    H_CHECK_INT(json_array_size(arr), 1);
    H_CHECK_INT(json_array_size(vals), want_from_bulk);
    /* Values are not in any promised order: check membership via a set. */
    {
        json_t *set = json_object();
        size_t i;
        json_t *v;

        json_array_foreach(vals, i, v) {
            const char *dn = json_string_value(v);
            char *low = dn ? strdup(dn) : NULL;

            for (char *p = low; p && *p; p++)
                *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
            if (low)
                json_object_set_new(set, low, json_true());
            free(low);
        }
        for (size_t k = 0; k < want_from_bulk; k++) {
            char *dn = h_ldap_user_dn(PREFIX, k);

            for (char *p = dn; p && *p; p++)
                *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
            missing += dn == NULL || json_object_get(set, dn) == NULL;
            free(dn);
        }
        json_decref(set);
    }
    H_CHECK_INT(missing, 0);
    json_decref(arr);
    free(f);
}

/* ------------------------------------------------------------------ set-up */

static char *id_of(const char *base, const char *filter, char **dn_out)
{
    static const char *const attrs[] = {"entryUUID", NULL};
    json_t *arr = h_ldap_search(env.s, base, filter, attrs);
    const json_t *e = json_array_get(arr, 0);
    char *id = NULL;

    if (json_array_size(arr) == 1 && h_ldap_attr(e, "entryuuid")) {
        id = strdup(h_ldap_attr(e, "entryuuid"));
        if (dn_out)
            *dn_out = strdup(h_jstr(e, "dn"));
    }
    json_decref(arr);
    return id;
}

static void setup(void)
{
    double t0 = h_now_ms();

    /* BIG_MEMBERS users for the big group, one for the small group's member
     * and one (the last) that joins and leaves both. */
    H_REQUIRE(h_ldap_add_users(env.s, PREFIX, 0, BIG_MEMBERS + 1) == 0);
    fprintf(stderr, "added %d users in %.0f ms\n", BIG_MEMBERS + 1, h_now_ms() - t0);
    t0 = h_now_ms();
    H_REQUIRE(h_ldap_add_group(env.s, BIG_CN, PREFIX, 0, BIG_MEMBERS) == 0);
    H_REQUIRE(h_ldap_add_group(env.s, SMALL_CN, PREFIX, 0, 1) == 0);
    fprintf(stderr, "added the groups in %.0f ms\n", h_now_ms() - t0);
    for (size_t g = 0; g < 2; g++) {
        char *f = ig_fmt("(cn=%s)", group_cn[g]);

        gid[g] = f ? id_of(H_GROUPS, f, &gdn[g]) : NULL;
        H_REQUIRE(gid[g] != NULL && gdn[g] != NULL);
        free(f);
    }
    {
        char *f = ig_fmt("(uid=%s%06d)", PREFIX, BIG_MEMBERS);

        new_id = f ? id_of(H_PEOPLE, f, &new_dn) : NULL;
        H_REQUIRE(new_id != NULL && new_dn != NULL);
        free(f);
    }
}

/* ------------------------------------------------------------------ tests */

static void test_lookups(void)
{
    measured m;

    m = COMPARE(get_excluding, 200, 0, "GET /Groups/{id}?excludedAttributes=members");
    H_CHECK(m.body_len < 4096);
    m = COMPARE(filter_excluding, 200, 0, "GET /Groups?excludedAttributes=members&filter=displayName");
    H_CHECK(m.body_len < 4096);
    m = COMPARE(attributes_without_members, 200, 0, "GET /Groups/{id}?attributes=displayName,externalId");
    H_CHECK(m.body_len < 4096);
    /* And the bodies really are without members. */
    for (size_t g = 0; g < 2; g++) {
        h_resp r = get_excluding(g);

        H_CHECK_STATUS(r, 200);
        H_CHECK_STR(h_jstr(r.json, "id"), gid[g]);
        H_CHECK_STR(h_jstr(r.json, "displayName"), group_cn[g]);
        H_CHECK(h_jget(r.json, "members") == NULL);
        h_resp_free(&r);
        r = filter_excluding(g);
        H_CHECK_STATUS(r, 200);
        H_CHECK_INT(h_jint(r.json, "totalResults", -1), 1);
        H_CHECK_STR(h_jstr(r.json, "Resources[0].id"), gid[g]);
        H_CHECK(h_jget(r.json, "Resources[0].members") == NULL);
        h_resp_free(&r);
    }
}

static void test_member_changes(void)
{
    /* Entra: add one member (value array). The groups were made by ldapadd
     * without the mapping's scimGroup class: the one-modify path's assertion
     * (and its placeholder variant) refuses, the read path adopts them in
     * its one modify; the next writes go straight to them. */
    COMPARE(patch_add, 204, -1, "PATCH add one member (adopts)");
    COMPARE(patch_remove, 204, 1, "PATCH remove one member");
    COMPARE(patch_add, 204, 1, "PATCH add one member");
    H_CHECK(holds_new(SMALL));
    H_CHECK(holds_new(BIG));
    /* Already there: success, same work on both. */
    COMPARE(patch_add, 204, -1, "PATCH add a member already there");
    H_CHECK(holds_new(BIG));
    /* Membership filter answers without the member list. */
    {
        COMPARE(filter_by_member, 200, 0, "GET /Groups?filter=members[value eq]");
        for (size_t g = 0; g < 2; g++) {
            h_resp r = filter_by_member(g);
            H_CHECK_INT(h_jint(r.json, "totalResults", -1), 1);
            h_resp_free(&r);
        }
    }
    /* Entra: remove with a value array. */
    COMPARE(patch_remove, 204, 1, "PATCH remove one member (value array)");
    H_CHECK(!holds_new(SMALL));
    H_CHECK(!holds_new(BIG));
    /* Absent already: 204, and still the same work on both. */
    COMPARE(patch_remove, 204, -1, "PATCH remove a member not there");
    H_CHECK(!holds_new(BIG));
    /* Add, then remove by filtered path. */
    COMPARE(patch_add, 204, 1, "PATCH add one member again");
    COMPARE(patch_remove_path, 204, 1, "PATCH remove members[value eq]");
    H_CHECK(!holds_new(SMALL));
    H_CHECK(!holds_new(BIG));
    /* Okta: remove + add in one request = one modify. */
    COMPARE(patch_okta, 204, 1, "PATCH remove+add (Okta)");
    H_CHECK(holds_new(SMALL));
    H_CHECK(holds_new(BIG));
    COMPARE(patch_remove, 204, 1, "PATCH remove one member (value array)");
    H_CHECK(!holds_new(BIG));
}

int main(void)
{
    h_slapd_opts o = h_slapd_defaults();

    /* The stats log shows which attributes each search asked for. */
    o.stats_log = true;
    if (ig_env_start(&env, &o, NULL)) {
        setup();
        test_lookups();
        test_member_changes();
        /* Removing one member never removed the others. */
        check_all_members(BIG, BIG_MEMBERS);
        check_all_members(SMALL, 1);
    }
    for (size_t g = 0; g < 2; g++) {
        free(gid[g]);
        free(gdn[g]);
    }
    free(new_id);
    free(new_dn);
    ig_env_stop(&env);
    return H_DONE();
}
