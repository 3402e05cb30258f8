/* fuzz_http_text.c — libFuzzer target for the request text the shell
 * interprets (gateway/core/http_text.c): query strings, percent-decoding,
 * If-Match, Content-Type.
 *
 * Checks, besides memory safety: decoding never lengthens; every parsed
 * parameter has a non-empty name and is found again by that name; "*"
 * matches any version and a plain tag matches itself. */
#include "s2l/http_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = 0; /* the text up to a NUL: what a C string from the wire holds */
    size_t len = strlen(s);

    for (int plus = 0; plus < 2; plus++) {
        char *d = s2l_uri_decode(s, plus);
        if (d && strlen(d) > len)
            abort();
        free(d);
    }

    s2l_query q;
    if (s2l_query_parse(s, &q) == 0) {
        for (size_t i = 0; i < q.n; i++) {
            if (q.params[i].name[0] == 0 || q.params[i].value == NULL || s2l_query_get(&q, q.params[i].name) == NULL)
                abort();
            if (strlen(q.params[i].name) + strlen(q.params[i].value) > len)
                abort();
        }
        s2l_query_fini(&q);
    }

    (void)s2l_if_match(s, "W/\"20240101120000.000000Z#000000#000#000000\"");
    (void)s2l_if_match(s, NULL);
    /* A single tag (no list separators, spaces or quotes to parse) matches itself. */
    if (!s2l_if_match("*", s) || (len > 0 && strpbrk(s, ", \"") == NULL && !s2l_if_match(s, s)))
        abort();
    (void)s2l_content_type_is_json(s);
    free(s);
    return 0;
}
