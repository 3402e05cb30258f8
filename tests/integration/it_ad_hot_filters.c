/* it_ad_hot_filters.c — the IdPs' look-ups on Samba AD's own subschema and
 * mappings/active-directory.json: one LDAP equality each, no post-filter
 * (it_hot_filters.h) — but externalId, caseExact in SCIM on attributes AD
 * compares without case: one equality, whose answer the gateway checks. */
#include "it_hot_filters.h"

int main(void)
{
    const char *why = h_ad_unavailable();
    if (why != NULL) {
        if (h_require_directories())
            h_check_(false, __FILE__, __LINE__, "Samba AD cannot run here: %s", why);
        else
            H_SKIP("Samba AD cannot run here: %s", why);
        return H_DONE();
    }
    h_slapd *s = h_ad_start();
    H_REQUIRE(s != NULL);
    hf_check(s, "mappings/active-directory.json", "05f609b0-0121-4a33-aa29-209c26ee4973",
             "CN=u1,OU=People,DC=example,DC=test", 1);
    h_slapd_destroy(s);
    return H_DONE();
}
