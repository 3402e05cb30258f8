/* search_request.c — SearchRequest bodies as GET queries (see include/s2l/search_request.h). */
#include "s2l/search_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s2l/ldap_text.h"

/* A member by name, case-insensitively (RFC 7643 §2.1: attribute names are). */
static const json_t *member(const json_t *obj, const char *name)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (strcasecmp(k, name) == 0)
            return v;
    }
    return NULL;
}

static int fail(s2l_error *err, int status, const char *type, const char *what)
{
    s2l_error_set(err, status, type, "%s", what);
    return -1;
}

/* A list of attribute names: an array of strings, or one comma-separated string. */
static int names(const json_t *v, const char *key, char **out, s2l_error *err)
{
    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_string(v))
        return (*out = strdup(json_string_value(v))) ? 0 : fail(err, 500, NULL, "out of memory");
    if (!json_is_array(v)) {
        s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "%s must be an array of attribute names", key);
        return -1;
    }
    s2l_buf b = {0};
    size_t i;
    const json_t *s;
    json_array_foreach(v, i, s) {
        if (!json_is_string(s)) {
            s2l_buf_reset(&b);
            s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "%s must be an array of attribute names", key);
            return -1;
        }
        if (i)
            s2l_buf_adds(&b, ",");
        s2l_buf_adds(&b, json_string_value(s));
    }
    if ((*out = s2l_buf_take(&b)) == NULL)
        return fail(err, 500, NULL, "out of memory (or attribute list too long)");
    return 0;
}

static int text(const json_t *v, const char *key, char **out, s2l_error *err)
{
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "%s must be a string", key);
        return -1;
    }
    return (*out = strdup(json_string_value(v))) ? 0 : fail(err, 500, NULL, "out of memory");
}

static int integer(const json_t *v, const char *key, char **out, s2l_error *err)
{
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v)) {
        s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "%s must be an integer", key);
        return -1;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    return (*out = strdup(buf)) ? 0 : fail(err, 500, NULL, "out of memory");
}

int s2l_search_params_parse(const json_t *body, s2l_search_params *out, s2l_error *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(body))
        return fail(err, 400, S2L_SCIM_INVALID_SYNTAX, "a SearchRequest must be a JSON object");
    const json_t *schemas = member(body, "schemas");
    if (schemas) {
        bool found = false;
        size_t i;
        const json_t *s;
        json_array_foreach(schemas, i, s) found = found || (json_is_string(s) &&
                                                            strcmp(json_string_value(s), S2L_URN_SEARCH_REQUEST) == 0);
        if (!found)
            return fail(err, 400, S2L_SCIM_INVALID_SYNTAX, "schemas must list " S2L_URN_SEARCH_REQUEST);
    }
    if (names(member(body, "attributes"), "attributes", &out->attributes, err) < 0 ||
        names(member(body, "excludedAttributes"), "excludedAttributes", &out->excluded_attributes, err) < 0 ||
        text(member(body, "filter"), "filter", &out->filter, err) < 0 ||
        text(member(body, "sortBy"), "sortBy", &out->sort_by, err) < 0 ||
        text(member(body, "sortOrder"), "sortOrder", &out->sort_order, err) < 0 ||
        integer(member(body, "startIndex"), "startIndex", &out->start_index, err) < 0 ||
        integer(member(body, "count"), "count", &out->count, err) < 0) {
        s2l_search_params_fini(out);
        return -1;
    }
    return 0;
}

void s2l_search_params_fini(s2l_search_params *p)
{
    free(p->attributes);
    free(p->excluded_attributes);
    free(p->filter);
    free(p->sort_by);
    free(p->sort_order);
    free(p->start_index);
    free(p->count);
    memset(p, 0, sizeof *p);
}

/* name=percent-encoded(value), '&'-separated; everything but RFC 3986
 * unreserved characters is encoded. */
static void add_param(s2l_buf *b, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    if (value == NULL)
        return;
    if (b->len)
        s2l_buf_adds(b, "&");
    s2l_buf_adds(b, name);
    s2l_buf_adds(b, "=");
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '.' || *p == '_' || *p == '~') {
            char c[2] = {(char)*p, 0};
            s2l_buf_adds(b, c);
        } else {
            char e[4] = {'%', hex[*p >> 4], hex[*p & 15], 0};
            s2l_buf_adds(b, e);
        }
    }
}

char *s2l_search_params_query(const s2l_search_params *p, long override_start, long override_count)
{
    char start[32], count[32];
    snprintf(start, sizeof start, "%ld", override_start);
    snprintf(count, sizeof count, "%ld", override_count);
    s2l_buf b = {.max = 16u << 20};
    add_param(&b, "filter", p->filter);
    add_param(&b, "attributes", p->attributes);
    add_param(&b, "excludedAttributes", p->excluded_attributes);
    add_param(&b, "sortBy", p->sort_by);
    add_param(&b, "sortOrder", p->sort_order);
    add_param(&b, "startIndex", override_start >= 0 ? start : p->start_index);
    add_param(&b, "count", override_count >= 0 ? count : p->count);
    return s2l_buf_take(&b);
}
