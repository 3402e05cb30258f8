/* projection.c — attributes / excludedAttributes (RFC 7644 §3.9).
 *
 * A projection is two lists of resolved names. Entries compare by schema id
 * and attribute name rather than by pointer, so a projection parsed against
 * one view of a resource type still works with another view of it.
 */
#include "s2l/resource.h"
#include "s2l/filter.h"
#include "resource_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct proj_item {
    const s2l_schema *schema;   /* schema of the attribute, or the whole schema when def is NULL */
    const s2l_attr_def *def;    /* top-level attribute, or NULL for "every attribute of schema" */
    const s2l_attr_def *sub;    /* sub-attribute or NULL for the whole attribute */
    s2l_filter *filter;         /* attributes=emails[type eq "work"]: only the values matching (owned) */
} proj_item;

typedef struct proj_list {
    proj_item *items;
    size_t n, cap;
} proj_list;

struct s2l_projection {
    proj_list incl;   /* attributes= (empty: defaults) */
    proj_list excl;   /* excludedAttributes= */
};

/* How much of one top-level attribute is returned. */
typedef enum { WANT_NONE, WANT_SOME, WANT_ALL } want;

static int list_push(proj_list *l, const proj_item *it)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        if (cap > SIZE_MAX / sizeof *l->items)
            return -1;
        proj_item *p = realloc(l->items, cap * sizeof *p);
        if (p == NULL)
            return -1;
        l->items = p;
        l->cap = cap;
    }
    l->items[l->n++] = *it;
    return 0;
}

/* End of one comma-separated name at p: commas inside brackets or quotes
 * (attributes=emails[value eq "a,b"]) do not split. */
static const char *name_end(const char *p)
{
    int depth = 0;
    bool quoted = false;

    for (; *p; p++) {
        if (quoted) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                quoted = false;
        } else if (*p == '"') {
            quoted = true;
        } else if (*p == '[') {
            depth++;
        } else if (*p == ']') {
            depth--;
        } else if (*p == ',' && depth <= 0) {
            return p;
        }
    }
    return NULL;
}

/* "attr[filter]" or "attr[filter].sub": RFC 7644 §3.9 allows only attribute
 * names, but clients (the Azure reference suite) ask for emails[type eq
 * "work"]; the values the filter selects are returned. name is modified. */
static int parse_filtered(const s2l_resource_type *rt, char *name, const char *param, proj_item *it,
                          s2l_error *err)
{
    char *open = strchr(name, '[');
    char *close = NULL;
    bool quoted = false;
    s2l_res_ref ref;

    for (char *q = open + 1; *q && close == NULL; q++) {
        if (quoted && *q == '\\' && q[1])
            q++;
        else if (*q == '"')
            quoted = !quoted;
        else if (!quoted && *q == ']')
            close = q;
    }
    if (close == NULL || (close[1] != '\0' && close[1] != '.') || open == name) {
        s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "%s: malformed attribute '%s'", param, name);
        return -1;
    }
    *open = '\0';
    if (s2l_res_resolve(rt, NULL, name, &ref) != S2L_RES_ATTR || ref.sub != NULL || !ref.def->multi_valued ||
        ref.def->type != S2L_T_COMPLEX) {
        s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "%s: '%s' is not a multi-valued complex attribute", param,
                      name);
        return -1;
    }
    *it = (proj_item){ref.schema, ref.def, NULL, NULL};
    if (close[1] == '.') {
        it->sub = s2l_attr_find_sub(ref.def, close + 2);
        if (it->sub == NULL) {
            s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "%s: unknown attribute '%s.%s'", param, name, close + 2);
            return -1;
        }
    }
    it->filter = s2l_filter_parse(open + 1, (size_t)(close - open - 1), NULL, err);
    if (it->filter == NULL) {
        err->status = err->status == 500 ? 500 : 400;
        return -1;
    }
    return 0;
}

static int parse_list(const s2l_resource_type *rt, const char *text, const char *param, proj_list *l,
                      s2l_error *err)
{
    const char *p = text;
    char *name = NULL;
    int rc = -1;

    while (p != NULL && *p != '\0') {
        const char *end = name_end(p);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *s = p;
        s2l_res_ref ref;
        proj_item it = {0};

        p = end ? end + 1 : NULL;
        while (len > 0 && (*s == ' ' || *s == '\t')) {
            s++;
            len--;
        }
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        if (len == 0)
            continue;
        free(name);
        name = strndup(s, len);
        if (name == NULL) {
            s2l_error_set(err, 500, NULL, "out of memory");
            goto out;
        }
        if (strchr(name, '[') != NULL) {
            if (strcmp(param, "attributes") != 0) {
                s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "%s: value filters are not supported here ('%s')",
                              param, name);
                goto out;
            }
            if (parse_filtered(rt, name, param, &it, err) != 0)
                goto out;
        } else {
            switch (s2l_res_resolve(rt, NULL, name, &ref)) {
            case S2L_RES_SCHEMA:
                it.schema = ref.schema;
                break;
            case S2L_RES_ATTR:
                it = (proj_item){ref.schema, ref.def, ref.sub, NULL};
                break;
            case S2L_RES_UNKNOWN:
            default:
                s2l_error_set(err, 400, S2L_SCIM_INVALID_VALUE, "%s: unknown attribute '%s'", param, name);
                goto out;
            }
        }
        if (list_push(l, &it) != 0) {
            s2l_filter_destroy(it.filter);
            s2l_error_set(err, 500, NULL, "out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    free(name);
    return rc;
}

s2l_projection *s2l_projection_parse(const s2l_resource_type *rt, const char *attributes,
                                     const char *excluded, s2l_error *err)
{
    s2l_projection *p = calloc(1, sizeof *p);

    if (p == NULL) {
        s2l_error_set(err, 500, NULL, "out of memory");
        return NULL;
    }
    if (parse_list(rt, attributes, "attributes", &p->incl, err) != 0 ||
        parse_list(rt, excluded, "excludedAttributes", &p->excl, err) != 0) {
        s2l_projection_destroy(p);
        return NULL;
    }
    return p;
}

void s2l_projection_destroy(s2l_projection *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->incl.n; i++)
        s2l_filter_destroy(p->incl.items[i].filter);
    for (size_t i = 0; i < p->excl.n; i++)
        s2l_filter_destroy(p->excl.items[i].filter);
    free(p->incl.items);
    free(p->excl.items);
    free(p);
}

static bool same_schema(const s2l_schema *a, const s2l_schema *b)
{
    return a == b || (a != NULL && b != NULL && strcasecmp(a->id, b->id) == 0);
}

static bool same_def(const s2l_attr_def *a, const s2l_attr_def *b)
{
    return a == b || (a != NULL && b != NULL && strcasecmp(a->name, b->name) == 0);
}

/* Does item name (part of) attribute def of schema? *whole: the whole attribute. */
static bool item_names(const proj_item *it, const s2l_schema *schema, const s2l_attr_def *def, bool *whole)
{
    if (!same_schema(it->schema, schema))
        return false;
    if (it->def == NULL) {
        *whole = true;
        return true;
    }
    if (!same_def(it->def, def))
        return false;
    *whole = it->sub == NULL;
    return true;
}

static want attr_want(const s2l_projection *p, const s2l_schema *schema, const s2l_attr_def *def)
{
    want w = WANT_NONE;
    bool whole = false;

    if (def->returned == S2L_RET_NEVER)
        return WANT_NONE;
    if (def->returned == S2L_RET_ALWAYS)
        return WANT_ALL;
    if (p != NULL && p->incl.n > 0) {
        for (size_t i = 0; i < p->incl.n && w != WANT_ALL; i++) {
            if (item_names(&p->incl.items[i], schema, def, &whole))
                w = whole ? WANT_ALL : WANT_SOME;
        }
    } else {
        w = def->returned == S2L_RET_REQUEST ? WANT_NONE : WANT_ALL;
    }
    /* Exclusions also trim an explicit attributes= list; they never touch "always". */
    for (size_t i = 0; p != NULL && w != WANT_NONE && i < p->excl.n; i++) {
        if (item_names(&p->excl.items[i], schema, def, &whole))
            w = whole ? WANT_NONE : WANT_SOME;
    }
    return w;
}

static bool sub_want(const s2l_projection *p, const s2l_schema *schema, const s2l_attr_def *def,
                     const s2l_attr_def *sub, want w)
{
    bool named = false;
    bool whole = false;

    if (sub->returned == S2L_RET_NEVER)
        return false;
    if (sub->returned == S2L_RET_ALWAYS)
        return true;
    for (size_t i = 0; p != NULL && i < p->incl.n && !named; i++) {
        const proj_item *it = &p->incl.items[i];
        named = item_names(it, schema, def, &whole) && !whole && same_def(it->sub, sub);
    }
    for (size_t i = 0; p != NULL && i < p->excl.n; i++) {
        const proj_item *it = &p->excl.items[i];
        if (item_names(it, schema, def, &whole) && !whole && same_def(it->sub, sub))
            return false;
    }
    if (named)
        return true;
    if (sub->returned == S2L_RET_REQUEST)
        return false;
    /* WANT_SOME from attributes=a.b keeps only the named subs; from
     * excludedAttributes=a.b it keeps everything not excluded. */
    return w == WANT_ALL || p == NULL || p->incl.n == 0;
}

bool s2l_projection_wants(const s2l_projection *p, const s2l_resource_type *rt, const s2l_schema *schema,
                          const char *name)
{
    const s2l_schema *where = NULL;
    const s2l_attr_def *def;

    if (rt == NULL || name == NULL)
        return false;
    def = s2l_rtype_find(rt, schema ? schema->id : rt->core->id, name, NULL, &where);
    if (def == NULL)
        return false;
    return attr_want(p, where, def) != WANT_NONE;
}

/* Trims one complex value to the wanted sub-attributes. */
static void trim_complex(const s2l_projection *p, const s2l_schema *schema, const s2l_attr_def *def,
                         json_t *obj, want w)
{
    const char *k;
    json_t *v;
    void *tmp;

    if (!json_is_object(obj))
        return;
    json_object_foreach_safe(obj, tmp, k, v) {
        const s2l_attr_def *sub = s2l_attr_find_sub(def, k);
        bool keep = sub ? sub_want(p, schema, def, sub, w) : w == WANT_ALL;
        if (!keep)
            json_object_del(obj, k);
    }
}

/* Whether value el of def is returned: when attributes= names def only with
 * value filters, el must match one of them; otherwise every value is. */
static bool value_selected(const s2l_projection *p, const s2l_resource_type *rt, const s2l_schema *schema,
                           const s2l_attr_def *def, const json_t *el)
{
    bool filtered = false, whole = false;

    for (size_t i = 0; p != NULL && i < p->incl.n; i++) {
        const proj_item *it = &p->incl.items[i];
        if (!item_names(it, schema, def, &whole))
            continue;
        if (it->filter == NULL)
            return true; /* the attribute is asked for as such too */
        filtered = true;
        if (s2l_filter_match(it->filter, el, rt, def))
            return true;
    }
    return !filtered;
}

static void apply_attr(const s2l_projection *p, const s2l_resource_type *rt, const s2l_schema *schema,
                       const s2l_attr_def *def, json_t *cont, const char *key)
{
    json_t *v = json_object_get(cont, key);
    want w = attr_want(p, schema, def);

    if (w == WANT_NONE) {
        json_object_del(cont, key);
        return;
    }
    if (def->type != S2L_T_COMPLEX)
        return;
    if (json_is_array(v)) {
        for (size_t i = json_array_size(v); i-- > 0;)
            if (!value_selected(p, rt, schema, def, json_array_get(v, i)))
                json_array_remove(v, i);
    }
    if (json_is_array(v)) {
        for (size_t i = json_array_size(v); i-- > 0;) {
            json_t *el = json_array_get(v, i);
            trim_complex(p, schema, def, el, w);
            if (json_is_object(el) && json_object_size(el) == 0)
                json_array_remove(v, i);
        }
        if (json_array_size(v) == 0)
            json_object_del(cont, key);
    } else if (json_is_object(v)) {
        trim_complex(p, schema, def, v, w);
        if (json_object_size(v) == 0)
            json_object_del(cont, key);
    }
}

static void apply_container(const s2l_projection *p, const s2l_resource_type *rt, const s2l_schema *schema,
                            json_t *cont)
{
    const char *k;
    json_t *v;
    void *tmp;

    json_object_foreach_safe(cont, tmp, k, v) {
        const s2l_schema *where = NULL;
        const s2l_attr_def *def;

        if (schema == rt->core) {
            if (strcasecmp(k, "schemas") == 0)
                continue;
            const s2l_schema *ext = NULL;
            for (size_t i = 0; i < rt->n_ext && ext == NULL; i++)
                if (s2l_schema_is(rt->ext[i], k))
                    ext = rt->ext[i];
            if (ext != NULL) {
                if (json_is_object(v)) {
                    apply_container(p, rt, ext, v);
                    if (json_object_size(v) == 0)
                        json_object_del(cont, k);
                }
                continue;
            }
        }
        def = s2l_rtype_find(rt, schema->id, k, NULL, &where);
        if (def == NULL) {
            /* Not in the view: nothing we know to return when a list was asked for. */
            if (p != NULL && p->incl.n > 0)
                json_object_del(cont, k);
            continue;
        }
        apply_attr(p, rt, where, def, cont, k);
    }
}

void s2l_projection_apply(const s2l_projection *p, const s2l_resource_type *rt, json_t *resource)
{
    if (rt == NULL || rt->core == NULL || !json_is_object(resource))
        return;
    apply_container(p, rt, rt->core, resource);
}
