/* audit.c — the audit record (see include/s2l/audit.h).
 *
 * Built as a jansson object and dumped compact: jansson escapes every control
 * character, so a value can never break the one-line format. Text that is not
 * valid UTF-8 (jansson refuses it) is written with U+FFFD in place of each
 * bad byte rather than dropped.
 */
#include "s2l/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Always secret, whatever the mapping says: the password attributes of
 * OpenLDAP, Active Directory / Samba and RFC 3112. */
static const char *const builtin_secrets[] = {"userPassword",    "authPassword",    "unicodePwd",
                                              "sambaNTPassword", "sambaLMPassword", "clearPassword", NULL};

/* Compares attribute names ignoring case and options (";binary"). */
static bool same_attr(const char *a, const char *b)
{
    size_t la = strcspn(a, ";"), lb = strcspn(b, ";");
    return la == lb && strncasecmp(a, b, la) == 0;
}

bool s2l_audit_is_secret(const char *attr, const char *const *secret_attrs)
{
    if (attr == NULL)
        return false;
    for (size_t i = 0; builtin_secrets[i]; i++)
        if (same_attr(attr, builtin_secrets[i]))
            return true;
    for (size_t i = 0; secret_attrs && secret_attrs[i]; i++)
        if (same_attr(attr, secret_attrs[i]))
            return true;
    return false;
}

void s2l_audit_time(const struct timespec *t, char *buf, size_t buflen)
{
    struct tm tm;
    time_t sec = t->tv_sec;
    long ms = t->tv_nsec / 1000000;
    if (ms < 0 || ms > 999)
        ms = 0;
    if (gmtime_r(&sec, &tm) == NULL) {
        snprintf(buf, buflen, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(buf, buflen, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned cp;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

/* A JSON string for text of length n, invalid UTF-8 bytes replaced by U+FFFD. */
static json_t *text(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j != NULL || s == NULL)
        return j;
    char *buf = malloc(n * 3 + 1);
    size_t o = 0;
    if (buf == NULL)
        return NULL;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq((const unsigned char *)s + i, n - i);
        if (k == 0) {
            memcpy(buf + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        } else {
            memcpy(buf + o, s + i, k);
            o += k;
            i += k;
        }
    }
    j = json_stringn(buf, o);
    free(buf);
    return j;
}

static int set_text(json_t *obj, const char *key, const char *s)
{
    if (s == NULL)
        return 0;
    json_t *v = text(s, strlen(s));
    return v ? json_object_set_new(obj, key, v) : -1;
}

/* {"op":..., "attr":..., "values":[...]} or, for a secret, "secret":true,"count":n. */
static int add_change(json_t *changes, const char *op, const char *attr, const json_t *values,
                      const char *const *secrets)
{
    json_t *c = json_object();
    size_t n = json_is_array(values) ? json_array_size(values) : json_is_string(values) ? 1 : 0;
    if (c == NULL || json_object_set_new(c, "op", json_string(op)) < 0 || set_text(c, "attr", attr) < 0)
        goto fail;
    if (s2l_audit_is_secret(attr, secrets)) {
        if (json_object_set_new(c, "secret", json_true()) < 0 ||
            json_object_set_new(c, "count", json_integer((json_int_t)n)) < 0)
            goto fail;
    } else if (n > 0) {
        json_t *vals = json_array();
        if (vals == NULL || json_object_set_new(c, "values", vals) < 0)
            goto fail;
        for (size_t i = 0; i < n; i++) {
            const json_t *v = json_is_array(values) ? json_array_get(values, i) : values;
            json_t *t = json_is_string(v) ? text(json_string_value(v), json_string_length(v)) : json_null();
            if (t == NULL || json_array_append_new(vals, t) < 0)
                goto fail;
        }
    }
    return json_array_append_new(changes, c);
fail:
    json_decref(c);
    return -1;
}

char *s2l_audit_line(const s2l_audit_event *ev, const char *const *secrets, size_t *len)
{
    char when[40];
    json_t *o = json_object(), *changes = json_array();
    char *line = NULL;
    if (o == NULL || changes == NULL || ev == NULL)
        goto out;
    s2l_audit_time(&ev->time, when, sizeof when);
    if (json_object_set_new(o, "time", json_string(when)) < 0 ||
        json_object_set_new(o, "request_id", json_integer((json_int_t)ev->request_id)) < 0 ||
        set_text(o, "credential", ev->credential) < 0 || set_text(o, "source", ev->source) < 0 ||
        set_text(o, "operation", ev->operation) < 0 || set_text(o, "resource_type", ev->resource_type) < 0 ||
        set_text(o, "id", ev->id) < 0 || set_text(o, "user_name", ev->user_name) < 0 ||
        set_text(o, "external_id", ev->external_id) < 0 || set_text(o, "dn", ev->dn) < 0 || set_text(o, "new_dn", ev->new_dn) < 0)
        goto out;
    if (json_is_object(ev->add_attrs)) {
        const char *attr;
        json_t *vals;
        json_object_foreach((json_t *)ev->add_attrs, attr, vals) {
            if (add_change(changes, "add", attr, vals, secrets) < 0)
                goto out;
        }
    }
    size_t i;
    const json_t *m;
    json_array_foreach(ev->mods, i, m) {
        const char *op = json_string_value(json_object_get(m, "op"));
        const char *attr = json_string_value(json_object_get(m, "attr"));
        if (add_change(changes, op ? op : "?", attr ? attr : "?", json_object_get(m, "values"), secrets) < 0)
            goto out;
    }
    if (json_array_size(changes) > 0 && json_object_set(o, "changes", changes) < 0)
        goto out;
    bool success = ev->status >= 200 && ev->status < 300 && ev->ldap_result <= 0;
    if (json_object_set_new(o, "status", json_integer(ev->status)) < 0 ||
        set_text(o, "scim_type", ev->scim_type) < 0 ||
        (ev->ldap_result >= 0 && json_object_set_new(o, "ldap_result", json_integer(ev->ldap_result)) < 0) ||
        json_object_set_new(o, "outcome", json_string(success ? "success" : "failure")) < 0)
        goto out;
    char *body = json_dumps(o, JSON_COMPACT);
    if (body == NULL)
        goto out;
    size_t n = strlen(body);
    line = malloc(n + 2);
    if (line) {
        memcpy(line, body, n);
        line[n] = '\n';
        line[n + 1] = 0;
        if (len)
            *len = n + 1;
    }
    free(body);
out:
    json_decref(o);
    json_decref(changes);
    return line;
}
