/* fuzz_path.c — libFuzzer target for PATCH paths (s2l_path_parse).
 *
 * Checks, besides memory safety: errors are 400 invalidPath (or 500); an
 * accepted path is consistent (filter_sub only with a filter, no sub before
 * a filter), and rebuilding its text from the parsed parts yields the same parts.
 */
#include "s2l/filter.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* [urn:]attr[.sub] or [urn:]attr[filter][.sub] from the parts; NULL on OOM. */
static char *rebuild(const s2l_path *p)
{
    char *filter = p->filter ? s2l_filter_to_string(p->filter) : NULL;
    size_t cap = (p->attr.urn ? strlen(p->attr.urn) : 0) + strlen(p->attr.attr) +
                 (p->attr.sub ? strlen(p->attr.sub) : 0) + (filter ? strlen(filter) : 0) +
                 (p->filter_sub ? strlen(p->filter_sub) : 0) + 8;
    char *text = (p->filter == NULL || filter != NULL) ? malloc(cap) : NULL;

    if (text != NULL)
        snprintf(text, cap, "%s%s%s%s%s%s%s%s%s", p->attr.urn ? p->attr.urn : "", p->attr.urn ? ":" : "",
                 p->attr.attr, p->attr.sub ? "." : "", p->attr.sub ? p->attr.sub : "", filter ? "[" : "",
                 filter ? filter : "", filter ? "]" : "", p->filter_sub ? "." : "");
    if (text != NULL && p->filter_sub != NULL) {
        size_t len = strlen(text);
        snprintf(text + len, cap - len, "%s", p->filter_sub);
    }
    free(filter);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s2l_error err;
    s2l_path *p, *q = NULL;
    char *text = NULL;

    s2l_error_clear(&err);
    p = s2l_path_parse((const char *)data, size, &err);
    if (p == NULL) {
        if (!((err.status == 400 && err.scim_type != NULL && strcmp(err.scim_type, "invalidPath") == 0) ||
              err.status == 500) || err.detail[0] == '\0')
            abort();
        return 0;
    }
    if (p->attr.attr == NULL || p->attr.attr[0] == '\0' || (p->filter_sub != NULL && p->filter == NULL) ||
        (p->filter != NULL && p->attr.sub != NULL))
        abort();
    text = rebuild(p);
    if (text == NULL)
        goto out;
    q = s2l_path_parse(text, strlen(text), &err);
    /* The rebuilt filter is canonical text (more parentheses), which may exceed
     * the default depth or length; only those complaints are acceptable then. */
    if (q == NULL) {
        if (strstr(err.detail, "nests deeper") == NULL && strstr(err.detail, "is longer than") == NULL) {
            fprintf(stderr, "rebuilt path does not parse: [%s]: %s\n", text, err.detail);
            abort();
        }
        goto out;
    }
    if (!same(p->attr.urn, q->attr.urn) || !same(p->attr.attr, q->attr.attr) || !same(p->attr.sub, q->attr.sub) ||
        !same(p->filter_sub, q->filter_sub) || (p->filter == NULL) != (q->filter == NULL)) {
        fprintf(stderr, "rebuilt path differs: [%s]\n", text);
        abort();
    }
out:
    free(text);
    s2l_path_destroy(p);
    s2l_path_destroy(q);
    return 0;
}
