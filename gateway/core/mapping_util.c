/* mapping_util.c — small helpers shared by the mapping_*.c files
 * (see gateway/core/mapping_internal.h). */
#include "mapping_internal.h"
#include "s2l/resource.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- JSON access ---- */

void s2l_map_del_ci(json_t *obj, const char *key)
{
    const char *k;
    json_t *v;
    void *tmp;

    if (!json_is_object(obj))
        return;
    json_object_foreach_safe(obj, tmp, k, v) {
        if (strcasecmp(k, key) == 0)
            json_object_del(obj, k);
    }
}

json_t *s2l_map_get_ci(const json_t *obj, const char *key)
{
    return s2l_json_get_ci(obj, key);
}

static _Thread_local s2l_map_fold_index *fold_top;

bool s2l_map_fold_index_begin(s2l_map_fold_index *idx, const json_t *attrs)
{
    if (!json_is_object(attrs) || (idx->folded = json_object()) == NULL)
        return false;
    idx->complete = true;
    const char *k;
    json_t *v;
    char buf[256];
    json_object_foreach((json_t *)attrs, k, v) {
        size_t n = strlen(k);
        if (n >= sizeof buf) {
            idx->complete = false; /* found by a scan instead */
            continue;
        }
        for (size_t i = 0; i <= n; i++)
            buf[i] = (char)tolower((unsigned char)k[i]);
        /* the first spelling wins, as in s2l_json_get_ci's scan; an exact match is tried first anyway */
        if (json_object_get(idx->folded, buf) == NULL && json_object_set(idx->folded, buf, v) < 0) {
            json_decref(idx->folded);
            return false;
        }
    }
    idx->attrs = attrs;
    idx->prev = fold_top;
    fold_top = idx;
    return true;
}

void s2l_map_fold_index_end(s2l_map_fold_index *idx)
{
    fold_top = idx->prev;
    json_decref(idx->folded);
}

/* s2l_map_get_ci on an entry's attrs, through the active fold index when it is this one. */
static const json_t *attrs_get(const json_t *attrs, const char *name)
{
    if (fold_top == NULL || fold_top->attrs != attrs || name == NULL)
        return s2l_map_get_ci(attrs, name);
    const json_t *v = json_object_get(attrs, name);
    if (v != NULL)
        return v;
    char buf[256];
    size_t n = strlen(name);
    if (n >= sizeof buf)
        return s2l_map_get_ci(attrs, name);
    for (size_t i = 0; i <= n; i++)
        buf[i] = (char)tolower((unsigned char)name[i]);
    v = json_object_get(fold_top->folded, buf);
    /* names longer than the buffer were not indexed: they are rare, scan for them */
    return v != NULL || fold_top->complete ? v : s2l_map_get_ci(attrs, name);
}

const json_t *s2l_map_entry_values(const json_t *entry, const char *name)
{
    const json_t *v = attrs_get(json_object_get(entry, "attrs"), name);
    if (json_is_string(v))
        return v; /* a lone string stands for one value; callers use json_array_foreach only on arrays */
    if (!json_is_array(v) || json_array_size(v) == 0)
        return NULL;
    return v;
}

const char *s2l_map_entry_first(const json_t *entry, const char *name)
{
    const json_t *v = s2l_map_entry_values(entry, name);
    if (json_is_string(v))
        return json_string_value(v);
    return json_string_value(json_array_get(v, 0));
}

const json_t *s2l_map_container(const json_t *resource, const s2l_schema *schema, bool in_ext)
{
    if (!in_ext)
        return resource;
    const json_t *c = s2l_map_get_ci(resource, schema->id);
    return json_is_object(c) ? c : NULL;
}

char *s2l_map_scalar_text(const json_t *v, size_t *len)
{
    char buf[64];
    int n;

    if (json_is_string(v)) {
        size_t l = json_string_length(v);
        char *s = malloc(l + 1);
        if (s == NULL)
            return NULL;
        memcpy(s, json_string_value(v), l + 1);
        if (len)
            *len = l;
        return s;
    }
    if (json_is_integer(v))
        n = snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        n = snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
    else
        return NULL;
    if (n < 0 || (size_t)n >= sizeof buf)
        return NULL;
    if (len)
        *len = (size_t)n;
    return strdup(buf);
}

/* ---- templates ---- */

void s2l_template_fini(s2l_template *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n_parts; i++) {
        free(t->parts[i].literal);
        free(t->parts[i].attr);
        free(t->parts[i].sub);
    }
    free(t->parts);
    free(t->text);
    memset(t, 0, sizeof *t);
}

/* The text of a placeholder, or NULL when it has no usable value. */
static const json_t *placeholder_value(const s2l_tpart *p, const json_t *resource)
{
    const json_t *c = s2l_map_container(resource, p->schema, p->in_ext);
    const json_t *v = s2l_map_get_ci(c, p->attr);
    if (p->sub != NULL)
        v = s2l_map_get_ci(v, p->sub);
    if (json_is_string(v) && json_string_length(v) > 0)
        return v;
    if (json_is_integer(v))
        return v;
    return NULL;
}

char *s2l_template_eval(const s2l_template *t, const json_t *resource, bool *oom)
{
    s2l_strbuf b = {0};

    for (size_t i = 0; i < t->n_parts; i++) {
        const s2l_tpart *p = &t->parts[i];
        if (p->literal != NULL) {
            s2l_sb_adds(&b, p->literal);
            continue;
        }
        const json_t *v = placeholder_value(p, resource);
        if (v == NULL) {
            free(b.s);
            return NULL;
        }
        size_t len = 0;
        char *text = s2l_map_scalar_text(v, &len);
        if (text == NULL) {
            b.failed = true;
            break;
        }
        s2l_sb_add(&b, text, len);
        free(text);
    }
    if (b.failed) {
        *oom = true;
        free(b.s);
        return NULL;
    }
    return s2l_sb_take(&b);
}

/* ---- times ---- */

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* Seconds of a GeneralizedTime from 0000-03-01 (a proleptic Gregorian day
 * count, H. Hinnant's days_from_civil shifted to stay non-negative) and its
 * fraction digits without trailing zeros; false when malformed. */
static bool gtime_instant(const char *gt, long long *secs, const char **frac, size_t *frac_len)
{
    const char *p = gt;
    int mm = 0, ss = 0;

    if (gt == NULL || strlen(gt) < 11 || !digits(p, 10))
        return false;
    int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
    int mo = (p[4] - '0') * 10 + (p[5] - '0'), d = (p[6] - '0') * 10 + (p[7] - '0');
    int h = (p[8] - '0') * 10 + (p[9] - '0');
    p += 10;
    if (digits(p, 2)) {
        mm = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
        if (digits(p, 2)) {
            ss = (p[0] - '0') * 10 + (p[1] - '0');
            p += 2;
        }
    }
    *frac = p;
    *frac_len = 0;
    if (*p == '.' || *p == ',') {
        *frac = ++p;
        while (isdigit((unsigned char)*p))
            p++;
        *frac_len = (size_t)(p - *frac);
        if (*frac_len == 0)
            return false;
        while (*frac_len > 0 && (*frac)[*frac_len - 1] == '0')
            (*frac_len)--;
    }
    long long off = 0;
    if (strcmp(p, "Z") != 0) {
        if (!((p[0] == '+' || p[0] == '-') && strlen(p) == 5 && digits(p + 1, 4)))
            return false;
        off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600LL + ((p[3] - '0') * 10 + (p[4] - '0')) * 60LL;
        if (p[0] == '-')
            off = -off;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31)
        return false;
    long yy = y - (mo <= 2);
    long era = yy / 400, yoe = yy - era * 400;
    long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long days = (long long)era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *secs = days * 86400 + h * 3600LL + mm * 60LL + ss - off;
    return true;
}

bool s2l_gtime_same_instant(const char *a, const char *b)
{
    long long sa, sb;
    const char *fa, *fb;
    size_t na, nb;
    return gtime_instant(a, &sa, &fa, &na) && gtime_instant(b, &sb, &fb, &nb) && sa == sb && na == nb &&
           memcmp(fa, fb, na) == 0;
}

char *s2l_gtime_to_rfc3339(const char *gt)
{
    /* YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|(+|-)HHMM) — RFC 4517 §3.3.13 */
    char mm[3] = "00", ss[3] = "00";
    const char *p = gt, *frac = NULL, *zone;
    size_t frac_len = 0;
    s2l_strbuf b = {0};

    if (gt == NULL || strlen(gt) < 11 || !digits(p, 10))
        return NULL;
    p += 10;
    if (digits(p, 2)) {
        memcpy(mm, p, 2);
        p += 2;
        if (digits(p, 2)) {
            memcpy(ss, p, 2);
            p += 2;
        }
    }
    if (*p == '.' || *p == ',') {
        frac = ++p;
        while (isdigit((unsigned char)*p))
            p++;
        frac_len = (size_t)(p - frac);
        if (frac_len == 0)
            return NULL;
    }
    zone = p;
    if (!(strcmp(zone, "Z") == 0 ||
          ((zone[0] == '+' || zone[0] == '-') && strlen(zone) == 5 && digits(zone + 1, 4))))
        return NULL;
    s2l_sb_add(&b, gt, 4);
    s2l_sb_adds(&b, "-");
    s2l_sb_add(&b, gt + 4, 2);
    s2l_sb_adds(&b, "-");
    s2l_sb_add(&b, gt + 6, 2);
    s2l_sb_adds(&b, "T");
    s2l_sb_add(&b, gt + 8, 2);
    s2l_sb_adds(&b, ":");
    s2l_sb_adds(&b, mm);
    s2l_sb_adds(&b, ":");
    s2l_sb_adds(&b, ss);
    if (frac) {
        s2l_sb_adds(&b, ".");
        s2l_sb_add(&b, frac, frac_len);
    }
    if (zone[0] == 'Z') {
        s2l_sb_adds(&b, "Z");
    } else {
        s2l_sb_add(&b, zone, 3);
        s2l_sb_adds(&b, ":");
        s2l_sb_add(&b, zone + 3, 2);
    }
    return s2l_sb_take(&b);
}

char *s2l_rfc3339_to_gtime(const char *ts)
{
    /* YYYY-MM-DD(T|t| )HH:MM:SS[.frac](Z|z|(+|-)HH:MM) — RFC 3339 §5.6 */
    const char *p;
    s2l_strbuf b = {0};

    if (ts == NULL || strlen(ts) < 20 || !digits(ts, 4) || ts[4] != '-' || !digits(ts + 5, 2) ||
        ts[7] != '-' || !digits(ts + 8, 2) || !(ts[10] == 'T' || ts[10] == 't' || ts[10] == ' ') ||
        !digits(ts + 11, 2) || ts[13] != ':' || !digits(ts + 14, 2) || ts[16] != ':' || !digits(ts + 17, 2))
        return NULL;
    s2l_sb_add(&b, ts, 4);
    s2l_sb_add(&b, ts + 5, 2);
    s2l_sb_add(&b, ts + 8, 2);
    s2l_sb_add(&b, ts + 11, 2);
    s2l_sb_add(&b, ts + 14, 2);
    s2l_sb_add(&b, ts + 17, 2);
    p = ts + 19;
    if (*p == '.') {
        const char *f = ++p;
        while (isdigit((unsigned char)*p))
            p++;
        if (p == f) {
            free(b.s);
            return NULL;
        }
        s2l_sb_adds(&b, ".");
        s2l_sb_add(&b, f, (size_t)(p - f));
    }
    if ((p[0] == 'Z' || p[0] == 'z') && p[1] == 0) {
        s2l_sb_adds(&b, "Z");
    } else if ((p[0] == '+' || p[0] == '-') && digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2) &&
               p[6] == 0) {
        s2l_sb_add(&b, p, 3);
        s2l_sb_add(&b, p + 4, 2);
    } else {
        free(b.s);
        return NULL;
    }
    return s2l_sb_take(&b);
}

bool s2l_is_uuid(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

/* ---- references and DNs ---- */

const s2l_rmap *s2l_map_ref_target(const s2l_rmap *rm, const char *type_name)
{
    const s2l_mapping *m = rm->mapping;
    for (size_t i = 0; type_name && i < m->n_rmaps; i++)
        if (strcasecmp(m->rmaps[i].name, type_name) == 0)
            return &m->rmaps[i];
    return NULL;
}

char *s2l_map_rdn_to_dn(const s2l_mentry *me, const s2l_rmap *rm, const char *value)
{
    const s2l_rmap *target = me->n_ref_types ? s2l_map_ref_target(rm, me->ref_types[0]) : NULL;
    s2l_strbuf b = {0};

    if (target == NULL)
        return NULL;
    char *esc = s2l_ldap_escape_dn_value(value, strlen(value));
    if (esc == NULL)
        return NULL;
    s2l_sb_adds(&b, target->rdn_attr);
    s2l_sb_adds(&b, "=");
    s2l_sb_adds(&b, esc);
    s2l_sb_adds(&b, ",");
    s2l_sb_adds(&b, target->base_dn);
    free(esc);
    return s2l_sb_take(&b);
}

char *s2l_map_rdn(const s2l_rmap *rm, const json_t *resource, char **raw_out, s2l_error *err)
{
    bool oom = false;

    for (size_t i = 0; i < rm->n_rdn; i++) {
        char *v = s2l_template_eval(&rm->rdn[i], resource, &oom);
        if (oom)
            break;
        if (v == NULL)
            continue;
        s2l_strbuf b = {0};
        char *esc = s2l_ldap_escape_dn_value(v, strlen(v));
        if (esc == NULL) {
            free(v);
            oom = true;
            break;
        }
        s2l_sb_adds(&b, rm->rdn_attr);
        s2l_sb_adds(&b, "=");
        s2l_sb_adds(&b, esc);
        free(esc);
        char *rdn = s2l_sb_take(&b);
        if (rdn == NULL) {
            free(v);
            oom = true;
            break;
        }
        if (raw_out != NULL)
            *raw_out = v;
        else
            free(v);
        return rdn;
    }
    if (oom)
        s2l_error_set(err, 500, NULL, "out of memory");
    else
        s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "%s: the attributes naming the entry (%s=%s) are missing",
                      rm->name, rm->rdn_attr, rm->n_rdn ? rm->rdn[0].text : "");
    return NULL;
}

/* Bytes of an RDN built by s2l_map_rdn as the directory stores it: OpenLDAP
 * keeps every escaped character in hex form ("\," is stored as "\2C"), and
 * control bytes too, so each counts 3. */
static size_t stored_rdn_size(const char *rdn)
{
    size_t n = 0;
    for (const char *p = rdn; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\\' && p[1] != '\0') {
            bool hex = isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2]);
            p += hex ? 2 : 1;
            n += 3;
        } else {
            n += c < 0x20 || c == 0x7f ? 3 : 1;
        }
    }
    return n;
}

int s2l_map_check_rdn(const s2l_rmap *rm, const char *rdn, s2l_error *err)
{
    unsigned max = rm->mapping ? rm->mapping->limits.max_rdn_bytes : 0;
    size_t n = stored_rdn_size(rdn);
    if (max == 0 || n <= max)
        return 0;
    /* Name what the IdP sent: "{userName}" -> userName. */
    const char *what = rm->n_rdn ? rm->rdn[0].text : rm->rdn_attr;
    size_t wl = strlen(what);
    if (wl > 2 && what[0] == '{' && what[wl - 1] == '}' && memchr(what + 1, '{', wl - 2) == NULL) {
        what++;
        wl -= 2;
    }
    s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE,
                  "%s: %.*s is too long for the directory: the entry name (%s=...) would be %zu bytes, at most %u "
                  "are accepted (limits.max_rdn_bytes)",
                  rm->name, (int)wl, what, rm->rdn_attr, n, max);
    return -1;
}

/* ---- string sets (long value lists: 20,000 emails must not cost n²) ---- */

static uint32_t bytes_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Open addressing over the strings of arr: slot = index + 1, 0 = empty. */
typedef struct str_set {
    size_t *slots;
    size_t cap;
    const json_t *arr;
} str_set;

static int set_init(str_set *set, const json_t *arr, size_t n)
{
    set->cap = 16;
    while (set->cap < 2 * n)
        set->cap *= 2;
    set->slots = calloc(set->cap, sizeof *set->slots);
    set->arr = arr;
    return set->slots ? 0 : -1;
}

/* The slot holding a string equal to (s, n), or the empty slot where it goes. */
static size_t *set_find(const str_set *set, const char *s, size_t n)
{
    size_t i = bytes_hash(s, n) & (set->cap - 1);
    for (;;) {
        size_t *slot = &set->slots[i];
        if (*slot == 0)
            return slot;
        const json_t *v = json_array_get(set->arr, *slot - 1);
        if (json_string_length(v) == n && memcmp(json_string_value(v), s, n) == 0)
            return slot;
        i = (i + 1) & (set->cap - 1);
    }
}

int s2l_map_dedupe_strings(json_t *arr)
{
    size_t n = json_array_size(arr);
    if (n < 2)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!json_is_string(json_array_get(arr, i)))
            return 0;
    str_set set;
    json_t *out = json_array();
    if (out == NULL || set_init(&set, out, n) < 0) {
        json_decref(out);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *v = json_array_get(arr, i);
        size_t *slot = set_find(&set, json_string_value(v), json_string_length(v));
        if (*slot != 0)
            continue;
        rc = json_array_append(out, v);
        *slot = json_array_size(out);
    }
    if (rc == 0 && json_array_size(out) != n)
        rc = json_array_clear(arr) < 0 || json_array_extend(arr, out) < 0 ? -1 : 0;
    free(set.slots);
    json_decref(out);
    return rc;
}

int s2l_map_strings_within(const json_t *a, const json_t *b)
{
    size_t nb = json_array_size(b);
    for (size_t i = 0; i < nb; i++)
        if (!json_is_string(json_array_get(b, i)))
            return -1;
    str_set set;
    if (set_init(&set, b, nb) < 0)
        return -1;
    for (size_t i = 0; i < nb; i++) {
        json_t *v = json_array_get(b, i);
        size_t *slot = set_find(&set, json_string_value(v), json_string_length(v));
        if (*slot == 0)
            *slot = i + 1;
    }
    int rc = 1;
    for (size_t i = 0; i < json_array_size(a) && rc == 1; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_string(v))
            rc = -1;
        else if (*set_find(&set, json_string_value(v), json_string_length(v)) == 0)
            rc = 0;
    }
    free(set.slots);
    return rc;
}

const s2l_schema *s2l_rmap_full_schema(const s2l_rmap *rm, const s2l_schema *view)
{
    if (view == rm->core_view)
        return rm->core;
    for (size_t i = 0; i < rm->n_ext; i++)
        if (view == rm->ext_views[i])
            return rm->ext[i];
    return NULL;
}

bool s2l_mentry_stores(const s2l_mentry *me, const s2l_schema *full, const s2l_attr_def *top)
{
    if (me->attr == NULL || me->kind == S2L_ME_DERIVED || me->kind == S2L_ME_CONSTANT)
        return false;
    if (s2l_attr_is_common(top))
        return me->top == top;
    return me->schema == full && strcasecmp(me->attr, top->name) == 0;
}
