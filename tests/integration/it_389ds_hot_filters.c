/* it_389ds_hot_filters.c — the IdPs' look-ups on 389-DS's own subschema and
 * mappings/389ds.json: one LDAP equality each, no post-filter (it_hot_filters.h). */
#include "it_hot_filters.h"

int main(void)
{
    const char *why = h_389ds_unavailable();
    if (why != NULL) {
        if (h_require_directories())
            h_check_(false, __FILE__, __LINE__, "389-DS cannot run here: %s", why);
        else
            H_SKIP("389-DS cannot run here: %s", why);
        return H_DONE();
    }
    h_slapd *s = h_389ds_start();
    H_REQUIRE(s != NULL);
    hf_check(s, "mappings/389ds.json", "66446001-1dd211b2-8e0bd3a4-5a6c0000", "uid=u1,ou=people,dc=example,dc=org", 0);
    h_slapd_destroy(s);
    return H_DONE();
}
