/* it_users_rollback.c — a PATCH that renames a user (modrdn) and then has its
 * modify refused puts the old name back, so the request is all or nothing;
 * and when the request deadline fires in the middle of that rollback, the
 * gateway answers 503, keeps serving and leaks nothing (ASan's leak check at
 * the gateway's exit, counted by h_gw_stop, under tests/run.sh --asan).
 *
 * The deadline is made to fire during the rollback without any LDAP mock: a
 * loopback forwarder between the gateway and the real slapd (h_proxy) holds
 * back the second ModifyDN request (the rollback) until the deadline has
 * answered the client, then lets it through. */
#include "it_idp_common.h"

#include <unistd.h>

#define TAG_MODDN 0x6c

static h_slapd *slapd;
static h_proxy *proxy;
static h_gw *gw;

/* A rename plus a value slapd refuses: the gateway runs with a mapping that
 * stores title in homeDirectory, which the entry's object classes do not
 * allow (the gateway cannot know; slapd answers objectClassViolation). The
 * rename goes through, the modify fails. (The default mapping leaves no
 * such value: what LDAP's syntaxes refuse goes to a JSON attribute.) */
static const char rename_and_fail[] =
    "[{\"op\":\"replace\",\"path\":\"userName\",\"value\":\"rb.renamed\"},"
    "{\"op\":\"replace\",\"path\":\"title\",\"value\":\"Refused\"}]";

static void test_rollback(const char *id)
{
    int before = h_proxy_count(proxy, TAG_MODDN);
    h_resp r = it_patch(gw, id, rename_and_fail);
    IT_CHECK_ERROR(r, 400, "invalidValue");
    h_resp_free(&r);
    H_CHECK_INT(h_proxy_count(proxy, TAG_MODDN) - before, 2); /* the rename and its undoing */

    json_t *e = h_ldap_entry(slapd, "uid=rb.user," H_PEOPLE), *gone = h_ldap_entry(slapd, "uid=rb.renamed," H_PEOPLE);
    H_CHECK(e != NULL);
    H_CHECK(gone == NULL);
    H_CHECK_STR(h_ldap_attr(e, "entryuuid"), id);
    H_CHECK_STR(h_ldap_attr(e, "mail"), "rb.user@example.org");
    json_decref(e);
    json_decref(gone);
}

static void test_deadline_during_rollback(const char *id)
{
    h_proxy_hold_at(proxy, TAG_MODDN, 2); /* the rename passes, its rollback waits */
    double t0 = h_now_ms();
    h_resp r = it_patch(gw, id, rename_and_fail);
    IT_CHECK_ERROR(r, 503, NULL);
    H_CHECK(h_header(&r, "Retry-After") != NULL);
    h_resp_free(&r);
    /* It was the rollback that was waiting when the deadline (1.5 s) fired. */
    H_CHECK(h_proxy_holding(proxy));
    H_CHECK(h_now_ms() - t0 >= 1000);
    h_proxy_release(proxy);
    H_CHECK(!h_proxy_holding(proxy));

    /* Still serving; the entry is found by its id whatever its name now. */
    char *path = it_user_path(id);
    for (int i = 0; i < 100; i++) { /* the released requests may still be in flight */
        r = h_http(gw, "GET", path, NULL, NULL);
        if (r.status == 200)
            break;
        h_resp_free(&r);
        usleep(20000);
    }
    H_CHECK_STATUS(r, 200);
    H_CHECK_STR(h_jstr(r.json, "id"), id);
    h_resp_free(&r);
    free(path);
}

int main(void)
{
    slapd = h_slapd_start(NULL);
    H_REQUIRE(slapd != NULL);
    char why[256];
    if (!h_gw_can_run(slapd, why, sizeof why)) {
        const char *require = getenv("S2L_REQUIRE_GATEWAY");
        if (require && strcmp(require, "1") == 0)
            H_CHECK(!"the gateway binary must run (S2L_REQUIRE_GATEWAY=1)");
        H_SKIP("%s", why);
        h_slapd_destroy(slapd);
        return H_DONE();
    }
    proxy = h_proxy_start(h_slapd_port(slapd));
    H_REQUIRE(proxy != NULL);
    /* The request deadline is short and the LDAP one long, so that the
     * request's deadline, not the operation's, ends the held rollback. */
    json_t *m = it_default_mapping();
    it_mapping_drop(m, "User", "title");
    json_array_append_new(it_mapping_attrs(m, "User"), json_pack("{s:s, s:s}", "scim", "title", "ldap", "homeDirectory"));
    char *mapping = it_mapping_write(m);
    json_decref(m);
    char extra[4500];
    snprintf(extra, sizeof extra,
             "{\"ldap\":{\"uri\":\"%s\",\"timeout_ms\":60000},\"limits\":{\"request_timeout_ms\":1500},"
             "\"mapping\":\"%s\"}",
             h_proxy_uri(proxy), mapping);
    gw = h_gw_start(slapd, extra);
    H_REQUIRE(gw != NULL);

    char *id = IT_CREATE(gw, "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"rb.user\","
                             "\"emails\":[{\"value\":\"rb.user@example.org\",\"type\":\"work\",\"primary\":true}]}");
    H_REQUIRE(id != NULL);
    test_rollback(id);
    test_deadline_during_rollback(id);
    free(id);

    h_gw_stop(gw); /* fails on a sanitizer report: the leak this test is about */
    unlink(mapping);
    free(mapping);
    h_proxy_stop(proxy);
    h_slapd_destroy(slapd);
    return H_DONE();
}
