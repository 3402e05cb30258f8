/* value_index.c — the values of a multi-valued attribute indexed by what
 * s2l_res_value_equal compares (see resource_internal.h), so that a PATCH
 * adding or removing thousands of values costs linear time: without it,
 * adding 20,000 emails to 20,000 took a minute of the event loop.
 *
 * The hash covers exactly what equality requires: the "value" sub-attribute
 * (case-folded unless caseExact) for complex values that have one, every
 * sub-attribute for those that do not, the scalar itself for simple values.
 * The type is left out (values without a type equal typed ones), so values
 * differing only in type share a hash and s2l_res_value_equal decides.
 */
#include "s2l/resource.h"
#include "resource_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct s2l_value_index {
    const s2l_attr_def *def;
    const s2l_attr_def *vsub;   /* the "value" sub-attribute, or NULL */
    const json_t *arr;
    size_t *slots;              /* position + 1 in arr; 0 = empty */
    uint32_t *hashes;
    size_t cap, n;
};

static uint32_t mix(uint32_t h, unsigned char c)
{
    return (h ^ c) * 16777619u;
}

static uint32_t scalar_hash(uint32_t h, const s2l_attr_def *def, const json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        bool fold = def == NULL || !def->case_exact;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if (fold && c >= 'A' && c <= 'Z')
                c = (unsigned char)(c - 'A' + 'a');
            h = mix(h, c);
        }
        return mix(h, 0xff);
    }
    if (json_is_integer(v)) {
        uint64_t x = (uint64_t)json_integer_value(v);
        for (int i = 0; i < 8; i++)
            h = mix(h, (unsigned char)(x >> (8 * i)));
        return h;
    }
    /* Booleans, reals, null: few values; json_equal decides. */
    return mix(h, (unsigned char)json_typeof(v));
}

static uint32_t value_hash(const s2l_value_index *ix, const json_t *v)
{
    uint32_t h = 2166136261u;
    if (ix->def->type != S2L_T_COMPLEX)
        return scalar_hash(h, ix->def, v);
    if (!json_is_object(v))
        return 1;
    if (ix->vsub != NULL) {
        const json_t *k = s2l_json_get_ci(v, ix->vsub->name);
        if (k != NULL)
            return scalar_hash(h, ix->vsub, k);
    }
    /* Compared sub-attribute by sub-attribute: present ones in schema order. */
    for (size_t i = 0; i < ix->def->n_sub; i++) {
        const json_t *sv = s2l_json_get_ci(v, ix->def->sub[i].name);
        h = mix(h, sv != NULL);
        if (sv != NULL)
            h = scalar_hash(h, &ix->def->sub[i], sv);
    }
    return h;
}

static void put(s2l_value_index *ix, size_t pos, uint32_t h)
{
    size_t i = h & (ix->cap - 1);
    while (ix->slots[i] != 0)
        i = (i + 1) & (ix->cap - 1);
    ix->slots[i] = pos + 1;
    ix->hashes[i] = h;
    ix->n++;
}

static int grow(s2l_value_index *ix, size_t want)
{
    size_t cap = ix->cap ? ix->cap : 16;
    while (cap < 2 * want)
        cap *= 2;
    if (cap == ix->cap)
        return 0;
    size_t *old_slots = ix->slots, old_cap = ix->cap;
    uint32_t *old_hashes = ix->hashes;
    ix->slots = calloc(cap, sizeof *ix->slots);
    ix->hashes = calloc(cap, sizeof *ix->hashes);
    if (ix->slots == NULL || ix->hashes == NULL) {
        free(ix->slots);
        free(ix->hashes);
        ix->slots = old_slots;
        ix->hashes = old_hashes;
        return -1;
    }
    ix->cap = cap;
    ix->n = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old_slots[i] != 0)
            put(ix, old_slots[i] - 1, old_hashes[i]);
    free(old_slots);
    free(old_hashes);
    return 0;
}

s2l_value_index *s2l_value_index_create(const s2l_attr_def *def, const json_t *arr)
{
    s2l_value_index *ix = calloc(1, sizeof *ix);
    if (ix == NULL)
        return NULL;
    ix->def = def;
    ix->vsub = def->type == S2L_T_COMPLEX ? s2l_attr_find_sub(def, "value") : NULL;
    ix->arr = arr;
    size_t n = json_array_size(arr);
    if (grow(ix, n) < 0) {
        s2l_value_index_destroy(ix);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        put(ix, i, value_hash(ix, json_array_get(arr, i)));
    return ix;
}

int s2l_value_index_add(s2l_value_index *ix, size_t pos)
{
    if (grow(ix, ix->n + 1) < 0)
        return -1;
    put(ix, pos, value_hash(ix, json_array_get(ix->arr, pos)));
    return 0;
}

json_t *s2l_value_index_find(const s2l_value_index *ix, const json_t *v)
{
    uint32_t h = value_hash(ix, v);
    size_t best = 0;
    for (size_t i = h & (ix->cap - 1); ix->slots[i] != 0; i = (i + 1) & (ix->cap - 1)) {
        size_t pos = ix->slots[i];
        if (ix->hashes[i] != h || (best != 0 && pos >= best))
            continue;
        if (s2l_res_value_equal(ix->def, json_array_get(ix->arr, pos - 1), v))
            best = pos;
    }
    return best ? json_array_get(ix->arr, best - 1) : NULL;
}

void s2l_value_index_destroy(s2l_value_index *ix)
{
    if (ix == NULL)
        return;
    free(ix->slots);
    free(ix->hashes);
    free(ix);
}
