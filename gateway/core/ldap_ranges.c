/* ldap_ranges.c — Active Directory's incremental retrieval of big
 * multi-valued attributes ("range retrieval"): a group's member values come
 * back at most MaxValRange (1500) at a time, under the attribute name
 * "member;range=0-1499"; the client asks for "member;range=1500-*" next, and
 * so on, until a range ends in "*". Pure: entries in, entries out; the
 * handlers (gateway/resources/ranges.c) run the searches. */
#include "mapping_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

unsigned s2l_rmap_range_size(const s2l_rmap *rm)
{
    return rm->range_size;
}

bool s2l_range_parse(const char *key, size_t *base_len, unsigned long *lo, unsigned long *hi, bool *last)
{
    const char *semi = key ? strchr(key, ';') : NULL;
    if (semi == NULL || semi == key || strncasecmp(semi, ";range=", 7) != 0)
        return false;
    const char *p = semi + 7;
    char *end;
    if (!isdigit((unsigned char)*p))
        return false;
    *lo = strtoul(p, &end, 10);
    if (*end != '-')
        return false;
    p = end + 1;
    if (p[0] == '*' && p[1] == 0) {
        *last = true;
        *hi = 0;
    } else {
        if (!isdigit((unsigned char)*p))
            return false;
        *hi = strtoul(p, &end, 10);
        if (*end != 0 || *hi < *lo)
            return false;
        *last = false;
    }
    *base_len = (size_t)(semi - key);
    return true;
}

json_t *s2l_entry_merge_ranges(json_t *entry)
{
    json_t *attrs = json_object_get(entry, "attrs"), *todo = json_array(), *keys = json_array();
    if (todo == NULL || keys == NULL)
        goto oom;
    const char *key;
    json_t *vals;
    /* the keys first: the object changes below */
    json_object_foreach(attrs, key, vals) {
        if (strchr(key, ';') && json_array_append_new(keys, json_string(key)) < 0)
            goto oom;
    }
    size_t ki;
    json_t *kj;
    json_array_foreach(keys, ki, kj) {
        key = json_string_value(kj);
        vals = key ? json_object_get(attrs, key) : NULL;
        if (vals == NULL)
            goto oom;
        size_t n;
        unsigned long lo, hi;
        bool last;
        if (!s2l_range_parse(key, &n, &lo, &hi, &last))
            continue;
        char base[256];
        if (n >= sizeof base)
            continue;
        memcpy(base, key, n);
        base[n] = 0;
        json_t *into = s2l_map_get_ci(attrs, base);
        if (into == NULL) {
            if ((into = json_array()) == NULL || json_object_set_new(attrs, base, into) < 0)
                goto oom;
        }
        if (json_array_extend(into, vals) < 0)
            goto oom;
        json_object_del(attrs, key); /* key and vals stay valid: keys holds the name */
        if (last)
            continue;
        char next[320];
        snprintf(next, sizeof next, "%s;range=%lu-*", base, hi + 1);
        json_t *item = json_pack("{s:s, s:s, s:I}", "attr", base, "next", next, "from", (json_int_t)(hi + 1));
        if (item == NULL || json_array_append_new(todo, item) < 0)
            goto oom;
    }
    json_decref(keys);
    return todo;
oom:
    json_decref(keys);
    json_decref(todo);
    return NULL;
}
