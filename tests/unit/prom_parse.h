/* prom_parse.h — a strict parser of the Prometheus text exposition format
 * 0.0.4, for tests: it validates what /metrics (s2l_metrics_render) produces
 * and gives the samples back for assertions. Header-only (static), usable by
 * unit tests and integration tests alike (#include "../unit/prom_parse.h").
 *
 * Checked: every line ends with '\n'; "# HELP name text" and "# TYPE name
 * type" at most once per family, TYPE before the family's first sample; a
 * family's lines form one group; metric and label names are valid; label
 * values are quoted with only \\ \" \n escapes; values are floats (or +Inf,
 * -Inf, NaN) with an optional integer timestamp; no series twice; counters
 * are not negative; histograms: name_bucket with an "le" label, bounds
 * increasing, cumulative counts not decreasing, a +Inf bucket equal to
 * name_count, name_sum and name_count present for every label set.
 *
 * Result (jansson):
 *   {"<family>": {"type": "counter", "help": "...",
 *                 "samples": [{"name": "<sample name>", "labels": {"k": "v"}, "value": 1.5}, ...]}}
 *
 *   json_t *p = prom_parse(text, err, sizeof err);     // NULL + message on the first problem
 *   double v = prom_value(p, "scim2ldap_requests_total", "method", "GET", "status", "200", NULL);
 *                                                       // NAN when there is no such sample
 */
#ifndef S2L_PROM_PARSE_H
#define S2L_PROM_PARSE_H

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

static bool prom_name_char_(char c, bool first, bool colon)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
           (!first && c >= '0' && c <= '9');
}

/* Reads a name at *p; its length (0 when there is none). */
static size_t prom_name_(const char *p, bool colon)
{
    size_t n = 0;
    while (prom_name_char_(p[n], n == 0, colon))
        n++;
    return n;
}

static bool prom_fail_(char *err, size_t errlen, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static bool prom_fail_(char *err, size_t errlen, int line, const char *fmt, ...)
{
    int n = snprintf(err, errlen, "line %d: ", line);
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* A float as the format allows: Go's ParseFloat forms plus +Inf/-Inf/NaN. */
static bool prom_float_(const char *s, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (strcmp(buf, "+Inf") == 0 || strcmp(buf, "Inf") == 0) {
        *out = INFINITY;
        return true;
    }
    if (strcmp(buf, "-Inf") == 0) {
        *out = -INFINITY;
        return true;
    }
    if (strcmp(buf, "NaN") == 0) {
        *out = NAN;
        return true;
    }
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789+-.eE", buf[i]))
            return false;
    char *end;
    *out = strtod(buf, &end);
    return *end == 0;
}

/* jansson has no NaN or infinities: those are kept as the strings "NaN", "+Inf", "-Inf". */
static json_t *prom_num_(double v)
{
    if (isnan(v))
        return json_string("NaN");
    if (isinf(v))
        return json_string(v > 0 ? "+Inf" : "-Inf");
    return json_real(v);
}

static double prom_num_value_(const json_t *j)
{
    const char *s = json_string_value(j);
    if (s == NULL)
        return json_number_value(j);
    return strcmp(s, "NaN") == 0 ? NAN : strcmp(s, "-Inf") == 0 ? -INFINITY : INFINITY;
}

/* The family a sample name belongs to, given the families declared so far. */
static const char *prom_family_of_(json_t *fams, const char *name, char *buf, size_t buflen)
{
    static const char *const sfx[] = {"_bucket", "_sum", "_count"};
    if (json_object_get(fams, name))
        return name;
    size_t n = strlen(name);
    for (size_t i = 0; i < 3; i++) {
        size_t k = strlen(sfx[i]);
        if (n > k && strcmp(name + n - k, sfx[i]) == 0 && n - k < buflen) {
            memcpy(buf, name, n - k);
            buf[n - k] = 0;
            json_t *f = json_object_get(fams, buf);
            if (f && strcmp(json_string_value(json_object_get(f, "type")), "histogram") == 0)
                return buf;
        }
    }
    return name;
}

/* Histogram consistency for one family. */
static bool prom_check_histogram_(const char *fam, json_t *f, char *err, size_t errlen)
{
    json_t *groups = json_object(); /* label set without le -> {"bounds":[...], "counts":[...], "sum", "count"} */
    size_t i;
    json_t *s;
    bool ok = true;
    char key[1024];
    json_array_foreach(json_object_get(f, "samples"), i, s) {
        const char *name = json_string_value(json_object_get(s, "name"));
        json_t *labels = json_deep_copy(json_object_get(s, "labels"));
        json_t *le = json_incref(json_object_get(labels, "le"));
        json_object_del(labels, "le");
        char *k = json_dumps(labels, JSON_SORT_KEYS | JSON_COMPACT);
        snprintf(key, sizeof key, "%s", k);
        free(k);
        json_decref(labels);
        json_t *g = json_object_get(groups, key);
        if (g == NULL) {
            g = json_pack("{s:[], s:[]}", "bounds", "counts");
            json_object_set_new(groups, key, g);
        }
        double v = prom_num_value_(json_object_get(s, "value"));
        size_t fl = strlen(fam);
        if (strcmp(name + fl, "_bucket") == 0) {
            double b;
            if (!json_is_string(le) || !prom_float_(json_string_value(le), json_string_length(le), &b)) {
                ok = prom_fail_(err, errlen, 0, "%s: a bucket without a valid le label", fam);
            } else {
                json_array_append_new(json_object_get(g, "bounds"), prom_num_(b));
                json_array_append_new(json_object_get(g, "counts"), prom_num_(v));
            }
        } else if (le) {
            ok = prom_fail_(err, errlen, 0, "%s: le on %s", fam, name);
        } else if (strcmp(name + fl, "_sum") == 0) {
            json_object_set_new(g, "sum", prom_num_(v));
        } else if (strcmp(name + fl, "_count") == 0) {
            json_object_set_new(g, "count", prom_num_(v));
        } else {
            ok = prom_fail_(err, errlen, 0, "%s: sample %s in a histogram", fam, name);
        }
        json_decref(le);
        if (!ok)
            break;
    }
    const char *k;
    json_t *g;
    json_object_foreach(groups, k, g) {
        if (!ok)
            break;
        json_t *b = json_object_get(g, "bounds"), *c = json_object_get(g, "counts");
        size_t n = json_array_size(b);
        if (n == 0 || !isinf(prom_num_value_(json_array_get(b, n - 1))))
            ok = prom_fail_(err, errlen, 0, "%s%s: no +Inf bucket", fam, k);
        for (size_t x = 1; ok && x < n; x++) {
            if (!(prom_num_value_(json_array_get(b, x)) > prom_num_value_(json_array_get(b, x - 1))))
                ok = prom_fail_(err, errlen, 0, "%s%s: bucket bounds not increasing", fam, k);
            else if (prom_num_value_(json_array_get(c, x)) < prom_num_value_(json_array_get(c, x - 1)))
                ok = prom_fail_(err, errlen, 0, "%s%s: bucket counts not cumulative", fam, k);
        }
        if (ok && (!json_object_get(g, "sum") || !json_object_get(g, "count")))
            ok = prom_fail_(err, errlen, 0, "%s%s: _sum or _count missing", fam, k);
        if (ok && prom_num_value_(json_object_get(g, "count")) != prom_num_value_(json_array_get(c, n - 1)))
            ok = prom_fail_(err, errlen, 0, "%s%s: _count differs from the +Inf bucket", fam, k);
    }
    json_decref(groups);
    return ok;
}

static json_t *prom_parse(const char *text, char *err, size_t errlen)
{
    json_t *fams = json_object(), *seen = json_object(), *done = json_object();
    const char *p = text, *cur_family = NULL;
    char cur_buf[256] = "";
    int line = 0;
    bool ok = true;

    while (ok && *p) {
        line++;
        const char *nl = strchr(p, '\n');
        if (nl == NULL) {
            ok = prom_fail_(err, errlen, line, "the last line does not end with a newline");
            break;
        }
        size_t len = (size_t)(nl - p);
        char *l = strndup(p, len);
        p = nl + 1;
        if (len == 0) {
            free(l);
            continue;
        }
        if (l[0] == '#') {
            const char *q = l + 1;
            while (*q == ' ' || *q == '\t')
                q++;
            bool help = strncmp(q, "HELP ", 5) == 0, type = strncmp(q, "TYPE ", 5) == 0;
            if (!help && !type) {
                free(l);
                continue; /* a comment */
            }
            q += 5;
            size_t n = prom_name_(q, true);
            if (n == 0 || (q[n] != ' ' && q[n] != 0) || n >= sizeof cur_buf) {
                ok = prom_fail_(err, errlen, line, "bad metric name in %s", help ? "HELP" : "TYPE");
                free(l);
                break;
            }
            char name[256];
            memcpy(name, q, n);
            name[n] = 0;
            const char *rest = q[n] ? q + n + 1 : q + n;
            if (json_object_get(done, name)) {
                ok = prom_fail_(err, errlen, line, "%s: lines of the family are not one group", name);
                free(l);
                break;
            }
            if (cur_family && strcmp(cur_family, name) != 0)
                json_object_set_new(done, cur_family, json_true());
            snprintf(cur_buf, sizeof cur_buf, "%s", name);
            cur_family = cur_buf;
            json_t *f = json_object_get(fams, name);
            if (f == NULL) {
                f = json_pack("{s:[]}", "samples");
                json_object_set_new(fams, name, f);
            }
            if (help) {
                if (json_object_get(f, "help")) {
                    ok = prom_fail_(err, errlen, line, "%s: a second HELP", name);
                } else {
                    /* only \\ and \n are escapes in HELP */
                    char *h = malloc(strlen(rest) + 1), *o = h;
                    for (const char *c = rest; ok && *c; c++) {
                        if (*c == '\\') {
                            c++;
                            if (*c == '\\')
                                *o++ = '\\';
                            else if (*c == 'n')
                                *o++ = '\n';
                            else
                                ok = prom_fail_(err, errlen, line, "%s: bad escape in HELP", name);
                        } else {
                            *o++ = *c;
                        }
                    }
                    *o = 0;
                    json_object_set_new(f, "help", json_string(h));
                    free(h);
                }
            } else {
                static const char *const types[] = {"counter", "gauge", "histogram", "summary", "untyped"};
                bool known = false;
                for (size_t t = 0; t < 5; t++)
                    known |= strcmp(rest, types[t]) == 0;
                if (json_object_get(f, "type"))
                    ok = prom_fail_(err, errlen, line, "%s: a second TYPE", name);
                else if (!known)
                    ok = prom_fail_(err, errlen, line, "%s: unknown type \"%s\"", name, rest);
                else if (json_array_size(json_object_get(f, "samples")) > 0)
                    ok = prom_fail_(err, errlen, line, "%s: TYPE after samples", name);
                else
                    json_object_set_new(f, "type", json_string(rest));
            }
            free(l);
            continue;
        }
        /* a sample */
        size_t n = prom_name_(l, true);
        if (n == 0 || n >= 256) {
            ok = prom_fail_(err, errlen, line, "bad metric name");
            free(l);
            break;
        }
        char name[256], fbuf[256];
        memcpy(name, l, n);
        name[n] = 0;
        const char *q = l + n;
        json_t *labels = json_object();
        if (*q == '{') {
            q++;
            while (ok && *q != '}') {
                size_t ln = prom_name_(q, false);
                if (ln == 0 || q[ln] != '=' || q[ln + 1] != '"') {
                    ok = prom_fail_(err, errlen, line, "bad label near \"%s\"", q);
                    break;
                }
                char lname[256];
                snprintf(lname, sizeof lname, "%.*s", (int)ln, q);
                q += ln + 2;
                char *v = malloc(strlen(q) + 1), *o = v;
                while (*q && *q != '"') {
                    if (*q == '\\') {
                        q++;
                        if (*q == '\\' || *q == '"')
                            *o++ = *q;
                        else if (*q == 'n')
                            *o++ = '\n';
                        else {
                            ok = prom_fail_(err, errlen, line, "bad escape in a label value");
                            break;
                        }
                        q++;
                    } else {
                        *o++ = *q++;
                    }
                }
                *o = 0;
                if (ok && *q != '"')
                    ok = prom_fail_(err, errlen, line, "unterminated label value");
                if (ok && json_object_get(labels, lname))
                    ok = prom_fail_(err, errlen, line, "label %s twice", lname);
                if (ok)
                    json_object_set_new(labels, lname, json_string(v));
                free(v);
                if (!ok)
                    break;
                q++;
                if (*q == ',')
                    q++;
                else if (*q != '}')
                    ok = prom_fail_(err, errlen, line, "',' or '}' expected after a label");
            }
            if (ok)
                q++;
        }
        double value = 0;
        if (ok) {
            if (*q != ' ') {
                ok = prom_fail_(err, errlen, line, "a space before the value expected");
            } else {
                q++;
                size_t vn = strcspn(q, " ");
                if (!prom_float_(q, vn, &value))
                    ok = prom_fail_(err, errlen, line, "bad value \"%.*s\"", (int)vn, q);
                q += vn;
                if (ok && *q == ' ') {
                    q++;
                    size_t tn = strspn(q, "-0123456789");
                    if (tn == 0 || q[tn] != 0)
                        ok = prom_fail_(err, errlen, line, "bad timestamp");
                } else if (ok && *q) {
                    ok = prom_fail_(err, errlen, line, "trailing text");
                }
            }
        }
        const char *fam = prom_family_of_(fams, name, fbuf, sizeof fbuf);
        json_t *f = json_object_get(fams, fam);
        if (ok && json_object_get(done, fam))
            ok = prom_fail_(err, errlen, line, "%s: lines of the family are not one group", fam);
        if (ok && f == NULL) {
            f = json_pack("{s:s, s:[]}", "type", "untyped", "samples");
            json_object_set_new(fams, fam, f);
        }
        if (ok && json_object_get(f, "type") == NULL)
            json_object_set_new(f, "type", json_string("untyped"));
        if (ok && cur_family && strcmp(cur_family, fam) != 0)
            json_object_set_new(done, cur_family, json_true());
        if (ok) {
            snprintf(cur_buf, sizeof cur_buf, "%s", fam);
            cur_family = cur_buf;
        }
        if (ok) {
            char *lk = json_dumps(labels, JSON_SORT_KEYS | JSON_COMPACT);
            char key[1024];
            snprintf(key, sizeof key, "%s%s", name, lk);
            free(lk);
            if (json_object_get(seen, key))
                ok = prom_fail_(err, errlen, line, "series %s twice", key);
            json_object_set_new(seen, key, json_true());
        }
        if (ok && strcmp(json_string_value(json_object_get(f, "type")), "counter") == 0 && value < 0)
            ok = prom_fail_(err, errlen, line, "%s: a negative counter", name);
        if (ok)
            json_array_append_new(json_object_get(f, "samples"),
                                  json_pack("{s:s, s:O, s:o}", "name", name, "labels", labels, "value", prom_num_(value)));
        json_decref(labels);
        free(l);
    }
    const char *fname;
    json_t *f;
    json_object_foreach(fams, fname, f) {
        if (!ok)
            break;
        if (strcmp(json_string_value(json_object_get(f, "type")), "histogram") == 0)
            ok = prom_check_histogram_(fname, f, err, errlen);
    }
    json_decref(seen);
    json_decref(done);
    if (!ok) {
        json_decref(fams);
        return NULL;
    }
    return fams;
}

/* The value of the sample `name` whose labels are exactly the given
 * NULL-terminated name/value pairs; NAN when there is none. */
static double prom_value(const json_t *parsed, const char *name, ...)
{
    json_t *want = json_object();
    va_list ap;
    va_start(ap, name);
    for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *))
        json_object_set_new(want, k, json_string(va_arg(ap, const char *)));
    va_end(ap);
    const char *fam;
    json_t *f;
    double out = NAN;
    json_object_foreach((json_t *)parsed, fam, f) {
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(f, "samples"), i, s) {
            if (strcmp(json_string_value(json_object_get(s, "name")), name) == 0 &&
                json_equal(json_object_get(s, "labels"), want))
                out = prom_num_value_(json_object_get(s, "value"));
        }
    }
    json_decref(want);
    return out;
}

#endif
