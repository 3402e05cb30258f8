/* error.c — filling and rendering s2l_error (see include/s2l/error.h). */
#include "s2l/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void s2l_error_set(s2l_error *e, int status, const char *scim_type, const char *fmt, ...)
{
    if (e == NULL)
        return;
    e->status = status;
    e->scim_type = scim_type;
    e->retry_after = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->detail, sizeof e->detail, fmt, ap);
    va_end(ap);
}

void s2l_error_clear(s2l_error *e)
{
    if (e == NULL)
        return;
    memset(e, 0, sizeof *e);
}

/* Client input quoted in a detail may not be UTF-8; jansson refuses such
 * strings, so replace anything outside printable ASCII rather than lose the error. */
static void ascii_safe(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    dst[i] = 0;
}

json_t *s2l_error_to_json(const s2l_error *e)
{
    char safe[S2L_ERROR_DETAIL_MAX];
    char status[16];
    snprintf(status, sizeof status, "%d", e->status ? e->status : 500);
    json_t *j = json_pack("{s:[s], s:s, s:s}", "schemas", S2L_SCIM_ERROR_URN, "status", status,
                          "detail", e->detail[0] ? e->detail : "error");
    if (j == NULL) {
        ascii_safe(safe, sizeof safe, e->detail);
        j = json_pack("{s:[s], s:s, s:s}", "schemas", S2L_SCIM_ERROR_URN, "status", status,
                      "detail", safe[0] ? safe : "error");
    }
    if (j && e->scim_type)
        json_object_set_new(j, "scimType", json_string(e->scim_type));
    return j;
}
