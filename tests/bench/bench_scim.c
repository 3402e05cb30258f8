/* bench_scim.c — see bench_scim.h. */
#include "bench_scim.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* snprintf into one field; false when it does not fit. */
static bool put(char *field, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool put(char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(field, S2L_BENCH_PROFILE_MAX, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < S2L_BENCH_PROFILE_MAX;
}

/* What every profile of user_name created with number i holds. */
static bool fill_created(s2l_bench_profile *p, const char *user_name, size_t i)
{
    return put(p->user_name, "%s", user_name) && put(p->external_id, "ext-%s", user_name) &&
           put(p->given_name, "Given") && put(p->family_name, "Family %zu", i) &&
           put(p->formatted, "%s %s", p->given_name, p->family_name) &&
           put(p->display_name, "Display %s", user_name) && put(p->email, "%s@example.org", user_name) &&
           put(p->title, "%s", "");
}

int s2l_bench_profile_created(s2l_bench_profile *p, const char *prefix, size_t i)
{
    char name[S2L_BENCH_PROFILE_MAX];
    memset(p, 0, sizeof *p);
    if (!put(name, "%s-%06zu", prefix, i))
        return -1;
    return fill_created(p, name, i) ? 0 : -1;
}

bool s2l_bench_user_index(const char *user_name, size_t *index)
{
    const char *dash = strrchr(user_name, '-');
    if (dash == NULL || dash == user_name || dash[1] == '\0')
        return false;
    size_t x = 0;
    for (const char *d = dash + 1; *d; d++) {
        if (*d < '0' || *d > '9' || x > (SIZE_MAX - 9) / 10)
            return false;
        x = x * 10 + (size_t)(*d - '0');
    }
    *index = x;
    return true;
}

int s2l_bench_profile_changed(s2l_bench_profile *p, const char *user_name, size_t change)
{
    size_t i;
    memset(p, 0, sizeof *p);
    if (!s2l_bench_user_index(user_name, &i) || !fill_created(p, user_name, i))
        return -1;
    return put(p->display_name, "Display %s v%zu", user_name, change) && put(p->title, "Title v%zu", change)
               ? 0
               : -1;
}

int s2l_bench_user_json(char *buf, size_t cap, const s2l_bench_profile *p, const char *id, bool okta_groups)
{
    int n = snprintf(buf, cap,
                     "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
                     "%s%s%s"
                     "\"userName\":\"%s\",\"externalId\":\"%s\","
                     "\"name\":{\"givenName\":\"%s\",\"familyName\":\"%s\"},"
                     "\"displayName\":\"%s\","
                     "\"emails\":[{\"primary\":true,\"value\":\"%s\",\"type\":\"work\"}],"
                     "%s%s%s"
                     "%s"
                     "\"active\":true}",
                     id ? "\"id\":\"" : "", id ? id : "", id ? "\"," : "", p->user_name, p->external_id,
                     p->given_name, p->family_name, p->display_name, p->email, p->title[0] ? "\"title\":\"" : "",
                     p->title, p->title[0] ? "\"," : "", okta_groups ? "\"groups\":[]," : "");
    return n >= 0 && (size_t)n < cap ? n : -1;
}

size_t s2l_bench_profile_ldap(const s2l_bench_profile *p, s2l_bench_ldap_value out[S2L_BENCH_PROFILE_LDAP_MAX])
{
    const s2l_bench_ldap_value all[] = {
        {"scimExternalId", p->external_id}, {"cn", p->formatted},      {"sn", p->family_name},
        {"givenName", p->given_name},       {"displayName", p->display_name}, {"mail", p->email},
        {"title", p->title},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0] && n < S2L_BENCH_PROFILE_LDAP_MAX; i++)
        if (all[i].value[0] != '\0')
            out[n++] = all[i];
    return n;
}
