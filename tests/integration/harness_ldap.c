/* harness_ldap.c — direct LDAP checks for integration tests: entries as JSON,
 * LDIF, pipelined bulk adds, binds, snapshots and cn=Monitor operation counts.
 * See harness.h for the contract. */
#include "harness_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/evp.h>

/* Synchronous operations give up after this long: a hung slapd fails the test
 * instead of hanging it until the ctest timeout. */
#define H_LDAP_TIMEOUT_S 120
/* Pipelined operations in flight on the one connection. */
#define H_PIPE_WINDOW 256

/* ------------------------------------------------------------------ connection */

static void set_common_options_(LDAP *ld)
{
    int version = LDAP_VERSION3;
    struct timeval net = {5, 0}, op = {H_LDAP_TIMEOUT_S, 0};

    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &op);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
}

static int simple_bind_(LDAP *ld, const char *dn, const char *password)
{
    struct berval cred;

    cred.bv_val = (char *)password;
    cred.bv_len = strlen(password);
    return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
}

LDAP *h_ldap_conn_(h_slapd *s)
{
    LDAP *ld = NULL;
    int rc;

    if (s->ld)
        return s->ld;
    if (!s->pid) {
        fprintf(stderr, "harness: slapd is not running\n");
        return NULL;
    }
    rc = ldap_initialize(&ld, s->uri);
    if (rc != LDAP_SUCCESS) {
        fprintf(stderr, "harness: ldap_initialize(%s): %s\n", s->uri, ldap_err2string(rc));
        return NULL;
    }
    set_common_options_(ld);
    h_ldap_tls_(s, ld);
    const char *dn = s->bind_dn ? s->bind_dn : H_ROOTDN;
    rc = simple_bind_(ld, dn, s->bind_pw ? s->bind_pw : H_ROOTPW);
    if (rc != LDAP_SERVER_DOWN && rc != LDAP_CONNECT_ERROR)
        s->own.bind++;
    if (rc != LDAP_SUCCESS) {
        fprintf(stderr, "harness: bind as %s to %s: %s\n", dn, s->uri, ldap_err2string(rc));
        ldap_unbind_ext_s(ld, NULL, NULL);
        return NULL;
    }
    s->ld = ld;
    return ld;
}

void h_ldap_drop_(h_slapd *s)
{
    if (s->ld) {
        ldap_unbind_ext_s(s->ld, NULL, NULL);
        s->ld = NULL;
    }
}

/* A dead connection (slapd killed behind our back) is dropped so the next call reconnects. */
static void note_rc_(h_slapd *s, int rc)
{
    if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT)
        h_ldap_drop_(s);
}

/* ------------------------------------------------------------------ entries as JSON */

static bool is_utf8_text_(const unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = p[i];
        size_t extra;

        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0 && c >= 0xC2)
            extra = 1;
        else if ((c & 0xF0) == 0xE0)
            extra = 2;
        else if ((c & 0xF8) == 0xF0 && c <= 0xF4)
            extra = 3;
        else
            return false;
        if (i + extra >= n)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
        }
        i += extra + 1;
    }
    return true;
}

static json_t *value_json_(const struct berval *bv)
{
    if (is_utf8_text_((const unsigned char *)bv->bv_val, bv->bv_len))
        return json_stringn(bv->bv_val, bv->bv_len);
    {
        size_t cap = 4 * ((bv->bv_len + 2) / 3) + 1;
        char *b64 = malloc(7 + cap);
        json_t *j = NULL;

        if (!b64)
            return NULL;
        memcpy(b64, "base64:", 7);
        EVP_EncodeBlock((unsigned char *)b64 + 7, (const unsigned char *)bv->bv_val, (int)bv->bv_len);
        j = json_string(b64);
        free(b64);
        return j;
    }
}

static char *lower_dup_(const char *s)
{
    char *p = h_strdup_(s);

    for (char *q = p; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    return p;
}

static json_t *entry_json_(LDAP *ld, LDAPMessage *e)
{
    json_t *entry = NULL, *attrs = json_object();
    BerElement *ber = NULL;
    char *dn = ldap_get_dn(ld, e);

    if (!attrs || !dn)
        goto out;
    for (char *a = ldap_first_attribute(ld, e, &ber); a; a = ldap_next_attribute(ld, e, ber)) {
        struct berval **vals = ldap_get_values_len(ld, e, a);
        json_t *arr = json_array();
        char *name = lower_dup_(a);

        for (size_t i = 0; vals && vals[i] && arr; i++)
            json_array_append_new(arr, value_json_(vals[i]));
        if (arr)
            json_object_set_new(attrs, name, arr);
        free(name);
        ldap_value_free_len(vals);
        ldap_memfree(a);
    }
    entry = json_pack("{s:s,s:O}", "dn", dn, "attrs", attrs);
out:
    ber_free(ber, 0);
    ldap_memfree(dn);
    json_decref(attrs);
    return entry;
}

static int cmp_dn_(const void *a, const void *b)
{
    const json_t *const *x = a, *const *y = b;

    return strcasecmp(json_string_value(json_object_get(*x, "dn")), json_string_value(json_object_get(*y, "dn")));
}

/* Searches and returns the entries as a JSON array sorted by DN. */
static int search_(h_slapd *s, const char *base, int scope, const char *filter, const char *const *attrs,
                   json_t **out)
{
    static const char *const all[] = {"*", "+", NULL};
    LDAP *ld = h_ldap_conn_(s);
    LDAPMessage *res = NULL;
    struct timeval tv = {H_LDAP_TIMEOUT_S, 0};
    json_t *arr = NULL;
    json_t **items = NULL;
    size_t n = 0;
    int rc;

    *out = NULL;
    if (!ld)
        return LDAP_SERVER_DOWN;
    rc = ldap_search_ext_s(ld, base, scope, filter, (char **)(attrs ? attrs : all), 0, NULL, NULL, &tv, 0, &res);
    s->own.search++;
    note_rc_(s, rc);
    if (rc != LDAP_SUCCESS)
        goto out;
    n = (size_t)ldap_count_entries(ld, res);
    items = calloc(n ? n : 1, sizeof *items);
    arr = json_array();
    if (!items || !arr) {
        rc = LDAP_NO_MEMORY;
        goto out;
    }
    n = 0;
    for (LDAPMessage *e = ldap_first_entry(ld, res); e; e = ldap_next_entry(ld, e)) {
        items[n] = entry_json_(ld, e);
        if (!items[n]) {
            rc = LDAP_NO_MEMORY;
            goto out;
        }
        n++;
    }
    qsort(items, n, sizeof *items, cmp_dn_);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, items[i]);
        items[i] = NULL;
    }
    *out = arr;
    arr = NULL;
out:
    for (size_t i = 0; items && i < n; i++)
        json_decref(items[i]);
    free(items);
    json_decref(arr);
    ldap_msgfree(res);
    return rc;
}

json_t *h_ldap_entry(h_slapd *s, const char *dn)
{
    json_t *arr = NULL, *e = NULL;
    int rc = search_(s, dn, LDAP_SCOPE_BASE, "(objectClass=*)", NULL, &arr);

    if (rc == LDAP_SUCCESS && json_array_size(arr) == 1)
        e = json_incref(json_array_get(arr, 0));
    else if (rc != LDAP_NO_SUCH_OBJECT && rc != LDAP_SUCCESS)
        fprintf(stderr, "harness: reading %s: %s\n", dn, ldap_err2string(rc));
    json_decref(arr);
    return e;
}

json_t *h_ldap_search(h_slapd *s, const char *base, const char *filter, const char *const *attrs)
{
    json_t *arr = NULL;
    int rc = search_(s, base, LDAP_SCOPE_SUBTREE, filter, attrs, &arr);

    if (rc != LDAP_SUCCESS)
        fprintf(stderr, "harness: search %s %s: %s\n", base, filter, ldap_err2string(rc));
    return arr;
}

long h_ldap_count(h_slapd *s, const char *base, const char *filter)
{
    LDAP *ld = h_ldap_conn_(s);
    LDAPMessage *res = NULL;
    struct timeval tv = {H_LDAP_TIMEOUT_S, 0};
    char *attrs[] = {LDAP_NO_ATTRS, NULL};
    long n = -1;
    int rc;

    if (!ld)
        return -1;
    rc = ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 1, NULL, NULL, &tv, 0, &res);
    s->own.search++;
    note_rc_(s, rc);
    if (rc == LDAP_SUCCESS)
        n = ldap_count_entries(ld, res);
    else if (rc == LDAP_NO_SUCH_OBJECT)
        n = 0;
    else
        fprintf(stderr, "harness: count %s %s: %s\n", base, filter, ldap_err2string(rc));
    ldap_msgfree(res);
    return n;
}

char *h_ldap_find_dn(h_slapd *s, const char *base, const char *filter)
{
    static const char *const attrs[] = {LDAP_NO_ATTRS, NULL};
    json_t *arr = h_ldap_search(s, base, filter, attrs);
    char *dn = NULL;

    if (json_array_size(arr) == 1)
        dn = h_strdup_(json_string_value(json_object_get(json_array_get(arr, 0), "dn")));
    json_decref(arr);
    return dn;
}

static json_t *attr_values_(const json_t *entry, const char *attr)
{
    char *name = lower_dup_(attr);
    json_t *v = json_object_get(json_object_get(entry, "attrs"), name);

    free(name);
    return v;
}

const char *h_ldap_attr(const json_t *entry, const char *attr)
{
    return json_string_value(json_array_get(attr_values_(entry, attr), 0));
}

bool h_ldap_has_value(const json_t *entry, const char *attr, const char *value, bool nocase)
{
    const json_t *vals = attr_values_(entry, attr);
    size_t i;
    json_t *v;

    json_array_foreach(vals, i, v) {
        const char *s = json_string_value(v);

        if (s && (nocase ? strcasecmp(s, value) : strcmp(s, value)) == 0)
            return true;
    }
    return false;
}

bool h_ldap_wait_value(h_slapd *s, const char *dn, const char *attr, const char *value, bool present,
                       int timeout_ms)
{
    double deadline = h_now_ms() + timeout_ms;

    for (;;) {
        json_t *e = h_ldap_entry(s, dn);
        bool has = e && h_ldap_has_value(e, attr, value, true);
        struct timespec ts = {0, 20 * 1000000L};

        json_decref(e);
        if (has == present)
            return true;
        if (h_now_ms() >= deadline)
            return false;
        nanosleep(&ts, NULL);
    }
}

/* ------------------------------------------------------------------ modification lists */

typedef struct modlist {
    LDAPMod **mods; /* NULL-terminated once non-empty */
    size_t n, cap;
} modlist;

static void mod_free_(LDAPMod *m)
{
    if (!m)
        return;
    for (size_t i = 0; m->mod_bvalues && m->mod_bvalues[i]; i++) {
        free(m->mod_bvalues[i]->bv_val);
        free(m->mod_bvalues[i]);
    }
    free(m->mod_bvalues);
    free(m->mod_type);
    free(m);
}

static void modlist_fini_(modlist *ml)
{
    for (size_t i = 0; i < ml->n; i++)
        mod_free_(ml->mods[i]);
    free(ml->mods);
    ml->mods = NULL;
    ml->n = ml->cap = 0;
}

/* The modification for (op, name): the last one if it matches and merge is set
 * (values of one attribute in an add arrive on separate lines), else a new one. */
static LDAPMod *modlist_get_(modlist *ml, int op, const char *name, bool merge)
{
    LDAPMod *m;

    if (merge) {
        for (size_t i = 0; i < ml->n; i++) {
            if ((ml->mods[i]->mod_op & ~LDAP_MOD_BVALUES) == op && strcasecmp(ml->mods[i]->mod_type, name) == 0)
                return ml->mods[i];
        }
    }
    if (ml->n + 2 > ml->cap) {
        size_t cap = ml->cap ? ml->cap * 2 : 8;
        LDAPMod **p = realloc(ml->mods, cap * sizeof *p);

        if (!p)
            return NULL;
        ml->mods = p;
        ml->cap = cap;
    }
    m = calloc(1, sizeof *m);
    if (!m || !(m->mod_type = strdup(name))) {
        free(m);
        return NULL;
    }
    m->mod_op = op | LDAP_MOD_BVALUES;
    ml->mods[ml->n++] = m;
    ml->mods[ml->n] = NULL;
    return m;
}

static int mod_add_value_(LDAPMod *m, const char *val, size_t len)
{
    size_t n = 0;
    struct berval **p, *bv;

    while (m->mod_bvalues && m->mod_bvalues[n])
        n++;
    /* The array holds n values and a NULL in the smallest power of two >= n + 1
     * slots, so it is full exactly when n + 1 is a power of two. Doubling keeps a
     * 100k-member group, added one value at a time, linear. */
    if (((n + 1) & n) == 0) {
        size_t cap = 2 * (n + 1);

        p = realloc(m->mod_bvalues, cap * sizeof *p);
        if (!p)
            return -1;
        m->mod_bvalues = p;
    }
    bv = malloc(sizeof *bv);
    if (!bv || !(bv->bv_val = malloc(len + 1))) {
        free(bv);
        return -1;
    }
    memcpy(bv->bv_val, val, len);
    bv->bv_val[len] = '\0';
    bv->bv_len = len;
    m->mod_bvalues[n] = bv;
    m->mod_bvalues[n + 1] = NULL;
    return 0;
}

/* {"dn","attrs"} → dn + add modifications. */
static int entry_mods_(const json_t *entry, const char **dn, modlist *ml)
{
    const json_t *attrs = json_object_get(entry, "attrs");
    const char *name;
    json_t *vals;

    *dn = json_string_value(json_object_get(entry, "dn"));
    if (!*dn || !json_is_object(attrs)) {
        fprintf(stderr, "harness: an entry needs \"dn\" (string) and \"attrs\" (object)\n");
        return -1;
    }
    json_object_foreach((json_t *)attrs, name, vals) {
        LDAPMod *m = modlist_get_(ml, LDAP_MOD_ADD, name, false);
        size_t i;
        json_t *v;

        if (!m)
            return -1;
        if (json_is_string(vals)) {
            if (mod_add_value_(m, json_string_value(vals), json_string_length(vals)))
                return -1;
            continue;
        }
        json_array_foreach(vals, i, v) {
            if (!json_is_string(v) || mod_add_value_(m, json_string_value(v), json_string_length(v))) {
                fprintf(stderr, "harness: %s: values of %s must be strings\n", *dn, name);
                return -1;
            }
        }
    }
    return 0;
}

int h_ldap_add_entry(h_slapd *s, const json_t *entry)
{
    modlist ml = {0};
    const char *dn = NULL;
    LDAP *ld = h_ldap_conn_(s);
    int rc = LDAP_OTHER;

    if (!ld)
        return LDAP_SERVER_DOWN;
    if (entry_mods_(entry, &dn, &ml))
        goto out;
    rc = ldap_add_ext_s(ld, dn, ml.mods, NULL, NULL);
    s->own.add++;
    note_rc_(s, rc);
out:
    modlist_fini_(&ml);
    return rc;
}

/* ------------------------------------------------------------------ LDIF */

typedef struct ldif_line {
    char *name;
    char *value; /* decoded, NUL-terminated */
    size_t len;
} ldif_line;

typedef struct ldif_rec {
    ldif_line *lines;
    size_t n, cap;
} ldif_rec;

static void rec_fini_(ldif_rec *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->lines[i].name);
        free(r->lines[i].value);
    }
    free(r->lines);
    r->lines = NULL;
    r->n = r->cap = 0;
}

static int base64_decode_(const char *in, char **out, size_t *outlen)
{
    size_t n = strlen(in), pad = 0;
    unsigned char *buf;
    int got;

    while (n && isspace((unsigned char)in[n - 1]))
        n--;
    if (n % 4) {
        fprintf(stderr, "harness: bad base64 value\n");
        return -1;
    }
    if (n && in[n - 1] == '=')
        pad++;
    if (n > 1 && in[n - 2] == '=')
        pad++;
    buf = malloc(n / 4 * 3 + 1);
    if (!buf)
        return -1;
    got = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)n);
    if (got < 0) {
        free(buf);
        fprintf(stderr, "harness: bad base64 value\n");
        return -1;
    }
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    *outlen = (size_t)got - pad;
    buf[*outlen] = '\0';
    *out = (char *)buf;
    return 0;
}

/* Parses one unfolded "name: value" / "name:: base64" line into the record. */
static int rec_add_(ldif_rec *r, const char *line)
{
    const char *colon = strchr(line, ':');
    ldif_line l = {0};

    if (strcmp(line, "-") == 0) {
        /* End of a modify section: kept as a line named "-". */
        colon = line + 1;
    } else if (!colon || colon == line) {
        fprintf(stderr, "harness: LDIF line without \"name:\": %s\n", line);
        return -1;
    }
    if (*colon && colon[1] == '<') {
        fprintf(stderr, "harness: LDIF \"name:< url\" values are not supported\n");
        return -1;
    }
    l.name = strndup(line, (size_t)(colon - line));
    if (!l.name)
        return -1;
    if (*colon && colon[1] == ':') {
        const char *v = colon + 2;

        while (*v == ' ')
            v++;
        if (base64_decode_(v, &l.value, &l.len)) {
            free(l.name);
            return -1;
        }
    } else {
        const char *v = *colon ? colon + 1 : colon;

        while (*v == ' ')
            v++;
        l.value = strdup(v);
        l.len = l.value ? strlen(l.value) : 0;
        if (!l.value) {
            free(l.name);
            return -1;
        }
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        ldif_line *p = realloc(r->lines, cap * sizeof *p);

        if (!p) {
            free(l.name);
            free(l.value);
            return -1;
        }
        r->lines = p;
        r->cap = cap;
    }
    r->lines[r->n++] = l;
    return 0;
}

/* Splits LDIF text into records of unfolded lines, calling apply on each.
 * Returns the number of records applied or -1. */
typedef int apply_fn(h_slapd *s, const ldif_rec *r, bool quiet);

static int ldif_each_(h_slapd *s, const char *text, apply_fn *apply, bool quiet, int *last_rc)
{
    ldif_rec rec = {0};
    h_buf cur = {0};
    bool in_comment = false;
    int applied = 0, rc = 0;
    const char *p = text;

    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        bool blank;

        if (len && p[len - 1] == '\r')
            len--;
        blank = len == 0;
        if (len && p[0] == ' ') {
            /* Continuation of the previous line (or of a comment). */
            if (!in_comment && h_buf_add_(&cur, p + 1, len - 1))
                goto fail;
        } else {
            if (cur.len) {
                if (rec_add_(&rec, cur.p))
                    goto fail;
                cur.len = 0;
                cur.p[0] = '\0';
            }
            in_comment = len && p[0] == '#';
            if (!blank && !in_comment && h_buf_add_(&cur, p, len))
                goto fail;
        }
        if (blank || !nl) {
            if (cur.len) {
                if (rec_add_(&rec, cur.p))
                    goto fail;
                cur.len = 0;
                cur.p[0] = '\0';
            }
            /* A leading "version: 1" stands alone. */
            if (rec.n == 1 && strcasecmp(rec.lines[0].name, "version") == 0)
                rec_fini_(&rec);
            if (rec.n) {
                rc = apply(s, &rec, quiet);
                rec_fini_(&rec);
                if (last_rc)
                    *last_rc = rc;
                if (rc != LDAP_SUCCESS) {
                    applied = -1;
                    goto out;
                }
                applied++;
            }
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    goto out;
fail:
    fprintf(stderr, "harness: LDIF parsing failed\n");
    applied = -1;
    if (last_rc)
        *last_rc = LDAP_OTHER;
out:
    rec_fini_(&rec);
    h_buf_fini_(&cur);
    return applied;
}

static int apply_record_(h_slapd *s, const ldif_rec *r, bool quiet)
{
    LDAP *ld = h_ldap_conn_(s);
    modlist ml = {0};
    const char *dn, *changetype = "add";
    size_t i = 1;
    int rc = LDAP_OTHER;

    if (!ld)
        return LDAP_SERVER_DOWN;
    if (strcasecmp(r->lines[0].name, "dn") != 0) {
        fprintf(stderr, "harness: an LDIF record must start with dn:, not %s:\n", r->lines[0].name);
        goto out;
    }
    dn = r->lines[0].value;
    if (r->n > 1 && strcasecmp(r->lines[1].name, "changetype") == 0) {
        changetype = r->lines[1].value;
        i = 2;
    }
    if (strcasecmp(changetype, "add") == 0) {
        for (; i < r->n; i++) {
            LDAPMod *m = modlist_get_(&ml, LDAP_MOD_ADD, r->lines[i].name, true);

            if (!m || mod_add_value_(m, r->lines[i].value, r->lines[i].len))
                goto oom;
        }
        rc = ldap_add_ext_s(ld, dn, ml.mods, NULL, NULL);
        s->own.add++;
    } else if (strcasecmp(changetype, "delete") == 0) {
        rc = ldap_delete_ext_s(ld, dn, NULL, NULL);
        s->own.del++;
    } else if (strcasecmp(changetype, "modify") == 0) {
        while (i < r->n) {
            const char *opname = r->lines[i].name, *attr = r->lines[i].value;
            int op;
            LDAPMod *m;

            if (strcasecmp(opname, "add") == 0)
                op = LDAP_MOD_ADD;
            else if (strcasecmp(opname, "delete") == 0)
                op = LDAP_MOD_DELETE;
            else if (strcasecmp(opname, "replace") == 0)
                op = LDAP_MOD_REPLACE;
            else {
                fprintf(stderr, "harness: %s: unknown modify operation %s:\n", dn, opname);
                goto out;
            }
            m = modlist_get_(&ml, op, attr, false);
            if (!m)
                goto oom;
            for (i++; i < r->n && strcmp(r->lines[i].name, "-") != 0; i++) {
                if (strcasecmp(r->lines[i].name, attr) != 0) {
                    fprintf(stderr, "harness: %s: value for %s inside the %s: %s section\n", dn,
                            r->lines[i].name, opname, attr);
                    goto out;
                }
                if (mod_add_value_(m, r->lines[i].value, r->lines[i].len))
                    goto oom;
            }
            i++; /* the "-" */
        }
        rc = ldap_modify_ext_s(ld, dn, ml.mods, NULL, NULL);
        s->own.modify++;
    } else if (strcasecmp(changetype, "modrdn") == 0 || strcasecmp(changetype, "moddn") == 0) {
        const char *newrdn = NULL, *superior = NULL;
        int deleteold = 1;

        for (; i < r->n; i++) {
            if (strcasecmp(r->lines[i].name, "newrdn") == 0)
                newrdn = r->lines[i].value;
            else if (strcasecmp(r->lines[i].name, "deleteoldrdn") == 0)
                deleteold = strcmp(r->lines[i].value, "0") != 0;
            else if (strcasecmp(r->lines[i].name, "newsuperior") == 0)
                superior = r->lines[i].value;
        }
        if (!newrdn) {
            fprintf(stderr, "harness: %s: modrdn without newrdn:\n", dn);
            goto out;
        }
        rc = ldap_rename_s(ld, dn, newrdn, superior, deleteold, NULL, NULL);
        s->own.modrdn++;
    } else {
        fprintf(stderr, "harness: %s: unknown changetype %s\n", dn, changetype);
        goto out;
    }
    note_rc_(s, rc);
    if (rc != LDAP_SUCCESS && !quiet) {
        char *msg = NULL;

        ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg);
        fprintf(stderr, "harness: LDIF %s %s: %s (%d)%s%s\n", changetype, dn, ldap_err2string(rc), rc,
                msg && *msg ? ": " : "", msg ? msg : "");
        ldap_memfree(msg);
    }
    goto out;
oom:
    fprintf(stderr, "harness: out of memory\n");
    rc = LDAP_NO_MEMORY;
out:
    modlist_fini_(&ml);
    return rc;
}

int h_ldap_ldif(h_slapd *s, const char *ldif)
{
    return ldif_each_(s, ldif, apply_record_, false, NULL);
}

int h_ldap_ldif_rc(h_slapd *s, const char *ldif)
{
    int rc = LDAP_OTHER;

    ldif_each_(s, ldif, apply_record_, true, &rc);
    return rc;
}

/* ------------------------------------------------------------------ pipelined operations */

/* Operations in flight on the harness connection; results are collected as
 * they come back and the first failure is kept for the report. */
typedef struct pipe_ {
    h_slapd *s;
    LDAP *ld;
    int msgids[H_PIPE_WINDOW];
    char *dns[H_PIPE_WINDOW];
    size_t inflight;
    int first_err;
    char *first_err_dn;
} pipe_;

static int pipe_collect_(pipe_ *p)
{
    LDAPMessage *msg = NULL;
    struct timeval tv = {H_LDAP_TIMEOUT_S, 0};
    int err = LDAP_OTHER, rc, id;
    size_t slot;

    rc = ldap_result(p->ld, LDAP_RES_ANY, LDAP_MSG_ONE, &tv, &msg);
    if (rc <= 0) {
        ldap_get_option(p->ld, LDAP_OPT_RESULT_CODE, &err);
        fprintf(stderr, "harness: waiting for pipelined results: %s\n",
                rc == 0 ? "timeout" : ldap_err2string(err));
        ldap_msgfree(msg);
        h_ldap_drop_(p->s);
        p->ld = NULL;
        return -1;
    }
    id = ldap_msgid(msg);
    rc = ldap_parse_result(p->ld, msg, &err, NULL, NULL, NULL, NULL, 1);
    if (rc != LDAP_SUCCESS)
        err = rc;
    for (slot = 0; slot < p->inflight && p->msgids[slot] != id; slot++)
        ;
    if (slot == p->inflight) {
        fprintf(stderr, "harness: unexpected LDAP message id %d\n", id);
        return -1;
    }
    if (err != LDAP_SUCCESS && !p->first_err) {
        p->first_err = err;
        p->first_err_dn = p->dns[slot];
        p->dns[slot] = NULL;
    }
    free(p->dns[slot]);
    p->inflight--;
    p->msgids[slot] = p->msgids[p->inflight];
    p->dns[slot] = p->dns[p->inflight];
    return 0;
}

static int pipe_drain_(pipe_ *p)
{
    int rc = 0;

    while (p->inflight && p->ld) {
        if (pipe_collect_(p)) {
            rc = -1;
            break;
        }
    }
    for (size_t i = 0; i < p->inflight; i++)
        free(p->dns[i]);
    p->inflight = 0;
    if (p->first_err) {
        fprintf(stderr, "harness: %s: %s (%d)\n", p->first_err_dn ? p->first_err_dn : "?",
                ldap_err2string(p->first_err), p->first_err);
        rc = -1;
    }
    free(p->first_err_dn);
    p->first_err_dn = NULL;
    return rc;
}

/* Makes room for one more operation; -1 once something failed. */
static int pipe_room_(pipe_ *p)
{
    while (p->inflight >= H_PIPE_WINDOW) {
        if (pipe_collect_(p))
            return -1;
    }
    return p->first_err ? -1 : 0;
}

int h_ldap_add_gen(h_slapd *s, size_t n, h_entry_gen *gen, void *ctx)
{
    pipe_ p = {0};
    int rc = 0;

    p.s = s;
    p.ld = h_ldap_conn_(s);
    if (!p.ld)
        return -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        modlist ml = {0};
        const char *dn = NULL;
        json_t *e;
        int id;

        if (pipe_room_(&p)) {
            rc = -1;
            break;
        }
        e = gen(i, ctx);
        if (!e) {
            fprintf(stderr, "harness: the entry generator failed at %zu\n", i);
            rc = -1;
            break;
        }
        if (entry_mods_(e, &dn, &ml) == 0) {
            int lrc = ldap_add_ext(p.ld, dn, ml.mods, NULL, NULL, &id);

            s->own.add++;
            if (lrc == LDAP_SUCCESS) {
                p.msgids[p.inflight] = id;
                p.dns[p.inflight] = h_strdup_(dn);
                p.inflight++;
            } else {
                fprintf(stderr, "harness: sending the add of %s: %s\n", dn, ldap_err2string(lrc));
                rc = -1;
            }
        } else {
            rc = -1;
        }
        modlist_fini_(&ml);
        json_decref(e);
    }
    if (pipe_drain_(&p))
        rc = -1;
    return rc;
}

char *h_ldap_user_dn(const char *prefix, size_t i)
{
    return h_asprintf_("uid=%s%06zu," H_PEOPLE, prefix, i);
}

typedef struct users_ctx {
    const char *prefix;
    size_t first;
} users_ctx;

static json_t *user_gen_(size_t i, void *ctx)
{
    const users_ctx *u = ctx;
    size_t k = u->first + i;
    char *uid = h_asprintf_("%s%06zu", u->prefix, k);
    char *dn = h_asprintf_("uid=%s," H_PEOPLE, uid);
    char *cn = h_asprintf_("%s User %06zu", u->prefix, k);
    char *sn = h_asprintf_("User%06zu", k);
    char *mail = h_asprintf_("%s@example.org", uid);
    json_t *e = json_pack("{s:s,s:{s:[s],s:[s],s:[s],s:[s],s:[s],s:[s]}}", "dn", dn, "attrs", "objectClass",
                          "inetOrgPerson", "uid", uid, "cn", cn, "sn", sn, "givenName", u->prefix, "mail", mail);

    free(uid);
    free(dn);
    free(cn);
    free(sn);
    free(mail);
    return e;
}

int h_ldap_add_users(h_slapd *s, const char *prefix, size_t first, size_t n)
{
    users_ctx u = {prefix, first};

    return h_ldap_add_gen(s, n, user_gen_, &u);
}

int h_ldap_add_group(h_slapd *s, const char *cn, const char *prefix, size_t first, size_t n)
{
    json_t *members = json_array(), *e = NULL;
    char *dn = h_asprintf_("cn=%s," H_GROUPS, cn);
    int rc = -1;

    if (n == 0) {
        fprintf(stderr, "harness: a groupOfNames needs at least one member\n");
        goto out;
    }
    for (size_t i = 0; i < n && members; i++) {
        char *m = h_ldap_user_dn(prefix, first + i);

        if (json_array_append_new(members, json_string(m))) {
            free(m);
            goto out;
        }
        free(m);
    }
    e = json_pack("{s:s,s:{s:[s],s:[s],s:O}}", "dn", dn, "attrs", "objectClass", "groupOfNames", "cn", cn,
                  "member", members);
    if (!e)
        goto out;
    rc = h_ldap_add_entry(s, e);
    if (rc != LDAP_SUCCESS)
        fprintf(stderr, "harness: adding group %s: %s (%d)\n", dn, ldap_err2string(rc), rc);
out:
    json_decref(members);
    json_decref(e);
    free(dn);
    return rc == LDAP_SUCCESS ? 0 : -1;
}

/* Number of RDNs in a DN (separators escaped with a backslash do not count). */
static size_t dn_depth_(const char *dn)
{
    size_t d = 1;

    for (const char *p = dn; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == ',')
            d++;
    }
    return d;
}

static int cmp_depth_desc_(const void *a, const void *b)
{
    size_t x = dn_depth_(*(char *const *)a), y = dn_depth_(*(char *const *)b);

    return x < y ? 1 : x > y ? -1 : 0;
}

long h_ldap_delete_children(h_slapd *s, const char *base)
{
    static const char *const attrs[] = {LDAP_NO_ATTRS, NULL};
    json_t *arr = NULL;
    char **dns = NULL;
    size_t n = 0;
    long deleted = -1;
    pipe_ p = {0};
    int rc = search_(s, base, LDAP_SCOPE_SUBTREE, "(objectClass=*)", attrs, &arr);

    if (rc != LDAP_SUCCESS) {
        fprintf(stderr, "harness: listing %s: %s\n", base, ldap_err2string(rc));
        goto out;
    }
    dns = calloc(json_array_size(arr) + 1, sizeof *dns);
    if (!dns)
        goto out;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *dn = json_string_value(json_object_get(json_array_get(arr, i), "dn"));

        if (strcasecmp(dn, base) != 0)
            dns[n++] = (char *)dn;
    }
    /* Deepest first: leaves go before their parents. */
    qsort(dns, n, sizeof *dns, cmp_depth_desc_);
    p.s = s;
    p.ld = h_ldap_conn_(s);
    if (!p.ld)
        goto out;
    deleted = 0;
    for (size_t i = 0; i < n; i++) {
        int id;

        /* Entries of one depth are independent and go in flight together; a
         * level must be gone before the level above it is deleted. */
        if (i > 0 && dn_depth_(dns[i]) < dn_depth_(dns[i - 1]) && p.inflight) {
            if (pipe_drain_(&p)) {
                deleted = -1;
                goto out;
            }
        }
        if (pipe_room_(&p) || ldap_delete_ext(p.ld, dns[i], NULL, NULL, &id) != LDAP_SUCCESS) {
            deleted = -1;
            break;
        }
        s->own.del++;
        p.msgids[p.inflight] = id;
        p.dns[p.inflight] = h_strdup_(dns[i]);
        p.inflight++;
        deleted++;
    }
    if (pipe_drain_(&p))
        deleted = -1;
out:
    free(dns);
    json_decref(arr);
    return deleted;
}

/* ------------------------------------------------------------------ binds */

int h_ldap_bind_rc(h_slapd *s, const char *dn, const char *password)
{
    LDAP *ld = NULL;
    int rc;

    if (ldap_initialize(&ld, s->uri) != LDAP_SUCCESS)
        return -1;
    set_common_options_(ld);
    h_ldap_tls_(s, ld);
    rc = simple_bind_(ld, dn, password);
    ldap_unbind_ext_s(ld, NULL, NULL);
    if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT)
        return -1;
    s->own.bind++;
    return rc;
}

bool h_ldap_bind_ok(h_slapd *s, const char *dn, const char *password)
{
    return h_ldap_bind_rc(s, dn, password) == LDAP_SUCCESS;
}

/* ------------------------------------------------------------------ snapshots */

static int cmp_str_(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int dump_entry_(h_buf *b, const json_t *e)
{
    const json_t *attrs = json_object_get(e, "attrs");
    const char **names = calloc(json_object_size(attrs) + 1, sizeof *names);
    const char *name;
    json_t *vals;
    size_t n = 0;
    int rc = -1;

    if (!names)
        return -1;
    json_object_foreach((json_t *)attrs, name, vals)
        names[n++] = name;
    qsort(names, n, sizeof *names, cmp_str_);
    h_buf_printf_(b, "dn: %s\n", json_string_value(json_object_get(e, "dn")));
    for (size_t i = 0; i < n; i++) {
        const json_t *arr = json_object_get(attrs, names[i]);
        size_t nv = json_array_size(arr);
        const char **v = calloc(nv + 1, sizeof *v);

        if (!v)
            goto out;
        for (size_t k = 0; k < nv; k++)
            v[k] = json_string_value(json_array_get(arr, k));
        qsort(v, nv, sizeof *v, cmp_str_);
        for (size_t k = 0; k < nv; k++)
            h_buf_printf_(b, "%s: %s\n", names[i], v[k]);
        free(v);
    }
    h_buf_add_(b, "\n", 1);
    rc = b->oom ? -1 : 0;
out:
    free(names);
    return rc;
}

char *h_ldap_snapshot(h_slapd *s)
{
    static const char *const attrs[] = {"*", "entryUUID", "entryCSN", "memberOf", "pwdAccountLockedTime", NULL};
    json_t *arr = h_ldap_search(s, s->suffix ? s->suffix : H_SUFFIX, "(objectClass=*)", attrs);
    h_buf b = {0};
    char *text = NULL;

    if (!arr)
        return NULL;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        if (dump_entry_(&b, json_array_get(arr, i)))
            goto out;
    }
    if (h_buf_add_(&b, "", 0))
        goto out;
    text = b.p;
    b.p = NULL;
out:
    if (!text)
        fprintf(stderr, "harness: out of memory taking a snapshot\n");
    h_buf_fini_(&b);
    json_decref(arr);
    return text;
}

bool h_snapshot_same(const char *before, const char *after)
{
    const char *a = before, *b = after;
    int line = 1;

    if (!before || !after) {
        fprintf(stderr, "harness: snapshot missing\n");
        return false;
    }
    if (strcmp(before, after) == 0)
        return true;
    for (;;) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");

        if (la != lb || memcmp(a, b, la) != 0) {
            fprintf(stderr, "harness: directory changed at snapshot line %d:\n  before: %.*s\n  after:  %.*s\n",
                    line, (int)la, a, (int)lb, b);
            return false;
        }
        if (!a[la] || !b[lb])
            break;
        a += la + 1;
        b += lb + 1;
        line++;
    }
    fprintf(stderr, "harness: directory changed (snapshot length differs)\n");
    return false;
}

/* ------------------------------------------------------------------ cn=Monitor counts */

int h_slapd_op_counts(h_slapd *s, h_op_counts *out)
{
    static const char *const attrs[] = {"cn", "monitorOpInitiated", NULL};
    h_op_counts seen = {0};
    json_t *arr = NULL;
    size_t i;
    json_t *e;
    int rc;

    memset(out, 0, sizeof *out);
    if (!s->opts.monitor) {
        fprintf(stderr, "harness: h_slapd_op_counts needs the monitor option\n");
        return -1;
    }
    /* Connect first, so this call's own bind is already counted below. */
    if (!h_ldap_conn_(s))
        return -1;
    /* "Initiated" rather than "completed": an operation is counted as soon as
     * slapd reads it, so everything a client got an answer to is included, and
     * this search itself is counted exactly once (search_ counts it as ours). */
    rc = search_(s, "cn=Operations,cn=Monitor", LDAP_SCOPE_ONELEVEL, "(objectClass=*)", attrs, &arr);
    if (rc != LDAP_SUCCESS) {
        fprintf(stderr, "harness: reading cn=Monitor: %s\n", ldap_err2string(rc));
        json_decref(arr);
        return -1;
    }
    json_array_foreach(arr, i, e) {
        const char *cn = h_ldap_attr(e, "cn"), *v = h_ldap_attr(e, "monitorOpInitiated");
        long n = v ? strtol(v, NULL, 10) : 0;

        if (!cn)
            continue;
        if (strcasecmp(cn, "Search") == 0)
            seen.search = n;
        else if (strcasecmp(cn, "Add") == 0)
            seen.add = n;
        else if (strcasecmp(cn, "Modify") == 0)
            seen.modify = n;
        else if (strcasecmp(cn, "Delete") == 0)
            seen.del = n;
        else if (strcasecmp(cn, "Modrdn") == 0)
            seen.modrdn = n;
        else if (strcasecmp(cn, "Bind") == 0)
            seen.bind = n;
        else if (strcasecmp(cn, "Compare") == 0)
            seen.compare = n;
    }
    json_decref(arr);
    out->search = seen.search - s->own.search;
    out->add = seen.add - s->own.add;
    out->modify = seen.modify - s->own.modify;
    out->del = seen.del - s->own.del;
    out->modrdn = seen.modrdn - s->own.modrdn;
    out->bind = seen.bind - s->own.bind;
    out->compare = seen.compare - s->own.compare;
    return 0;
}
