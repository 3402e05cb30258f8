/* test_ldap_errors.c — the LDAP result code → SCIM error table. */
#include "unit.h"

#include <ldap.h>

#include "s2l/ldap_errors.h"

static s2l_error map(int rc, const char *diag, const char *what, unsigned retry)
{
    s2l_error e;
    memset(&e, 0x5a, sizeof e);
    s2l_ldap_error_to_scim(rc, diag, what, retry, &e);
    return e;
}

static void test_conflict_and_not_found(void)
{
    s2l_error e = map(LDAP_ALREADY_EXISTS, NULL, "user \"jdoe\"", 7);
    CHECK_INT(e.status, 409);
    CHECK_STR(e.scim_type, S2L_SCIM_UNIQUENESS);
    CHECK_INT(e.retry_after, 0);
    CHECK(strstr(e.detail, "user \"jdoe\"") != NULL);
    CHECK(strstr(e.detail, "already exists") != NULL);

    e = map(LDAP_NO_SUCH_OBJECT, "", "group \"admins\"", 7);
    CHECK_INT(e.status, 404);
    CHECK(e.scim_type == NULL);
    CHECK_STR(e.detail, "group \"admins\" not found");

    /* what == NULL still gives a sentence */
    e = map(LDAP_NO_SUCH_OBJECT, NULL, NULL, 0);
    CHECK_INT(e.status, 404);
    CHECK(e.detail[0] != '\0');
}

/* The attribute is named from slapd's real diagnostics. */
static void test_invalid_value_names_attribute(void)
{
    static const struct {
        int rc;
        const char *diag;
        const char *attr;
    } cases[] = {
        {LDAP_OBJECT_CLASS_VIOLATION, "object class 'inetOrgPerson' requires attribute 'sn'", "sn"},
        {LDAP_OBJECT_CLASS_VIOLATION, "attribute 'fooBar' not allowed", "fooBar"},
        {LDAP_INVALID_SYNTAX, "mail: value #0 invalid per syntax", "mail"},
        {LDAP_TYPE_OR_VALUE_EXISTS, "modify/add: mail: value #0 already exists", "mail"},
        {LDAP_NO_SUCH_ATTRIBUTE, "modify/delete: telephoneNumber: no such value", "telephoneNumber"},
        {LDAP_UNDEFINED_TYPE, "employeeNumberX: attribute type undefined", "employeeNumberX"},
        {LDAP_NAMING_VIOLATION, "value of naming attribute 'uid' is not present in entry", "uid"},
        {LDAP_CONSTRAINT_VIOLATION, "displayName: attribute value too long", "displayName"},
        {LDAP_INAPPROPRIATE_MATCHING, "description: no equality matching rule", "description"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s2l_error e = map(cases[i].rc, cases[i].diag, "user \"jdoe\"", 3);
        CHECK_INT(e.status, 400);
        CHECK_STR(e.scim_type, S2L_SCIM_INVALID_VALUE);
        CHECK_INT(e.retry_after, 0);
        char quoted[96];
        snprintf(quoted, sizeof quoted, "\"%s\"", cases[i].attr);
        if (strstr(e.detail, quoted) == NULL)
            fprintf(stderr, "case %zu: detail \"%s\" lacks %s\n", i, e.detail, quoted);
        CHECK(strstr(e.detail, quoted) != NULL);
        CHECK(strstr(e.detail, "user \"jdoe\"") != NULL);
    }

    /* Every code of the invalidValue family maps to 400 invalidValue, even
     * without a diagnostic to name the attribute from. */
    static const int family[] = {LDAP_OBJECT_CLASS_VIOLATION, LDAP_CONSTRAINT_VIOLATION, LDAP_INVALID_SYNTAX,
                                 LDAP_UNDEFINED_TYPE, LDAP_INAPPROPRIATE_MATCHING, LDAP_TYPE_OR_VALUE_EXISTS,
                                 LDAP_NO_SUCH_ATTRIBUTE, LDAP_NAMING_VIOLATION, LDAP_NOT_ALLOWED_ON_RDN,
                                 LDAP_NO_OBJECT_CLASS_MODS};
    for (size_t i = 0; i < sizeof family / sizeof family[0]; i++) {
        s2l_error e = map(family[i], NULL, "x", 3);
        CHECK_INT(e.status, 400);
        CHECK_STR(e.scim_type, S2L_SCIM_INVALID_VALUE);
        CHECK(strstr(e.detail, "\"\"") == NULL); /* no empty attribute name */
    }

    /* A diagnostic that names no attribute is still shown, not invented. */
    s2l_error e = map(LDAP_CONSTRAINT_VIOLATION, "password fails quality checking policy", "user \"a\"", 0);
    CHECK_INT(e.status, 400);
    CHECK(strstr(e.detail, "password fails quality checking policy") != NULL);
}

static void test_unique_overlay_is_uniqueness(void)
{
    /* slapd's unique overlay answers constraintViolation. */
    s2l_error e = map(LDAP_CONSTRAINT_VIOLATION, "some attributes not unique", "user \"jdoe\"", 0);
    CHECK_INT(e.status, 409);
    CHECK_STR(e.scim_type, S2L_SCIM_UNIQUENESS);
}

/* Active Directory (Samba 4.17) and 389-DS diagnostics, as the servers send them. */
static void test_directory_diagnostics(void)
{
    s2l_error e = map(LDAP_CONSTRAINT_VIOLATION,
                      "0000052D: Constraint violation - check_password_restrictions: the password is too short. It "
                      "should be equal or longer than 7 characters!",
                      "User \"jdoe\"", 5);
    CHECK_INT(e.status, 400);
    CHECK_STR(e.scim_type, S2L_SCIM_INVALID_VALUE);
    CHECK(strstr(e.detail, "password policy") != NULL);
    CHECK(strstr(e.detail, "too short") != NULL);
    CHECK_INT(e.retry_after, 0);

    /* Windows AD answers some password refusals with 53 */
    e = map(LDAP_UNWILLING_TO_PERFORM, "0000052D: SvcErr: DSID-031A1248, problem 5003 (WILL_NOT_PERFORM), data 0",
            "User \"jdoe\"", 5);
    CHECK_INT(e.status, 400);
    CHECK(strstr(e.detail, "password policy") != NULL);
    /* ... while other 53s are the request's (400 with the directory's reason),
     * unless they name a state of the server (tested with the 53 rules) */
    e = map(LDAP_UNWILLING_TO_PERFORM, "00002077: something else", "User \"jdoe\"", 5);
    CHECK_INT(e.status, 400);
    CHECK(strstr(e.detail, "password policy") == NULL);
    CHECK(strstr(e.detail, "00002077: something else") != NULL);

    e = map(LDAP_CONSTRAINT_VIOLATION, "0000202F: samldb: userPrincipalName 'a@example.test' is already in use ",
            "User \"a\"", 0);
    CHECK_INT(e.status, 409);
    CHECK_STR(e.scim_type, S2L_SCIM_UNIQUENESS);

    e = map(LDAP_CONSTRAINT_VIOLATION, "invalid password syntax - password must be at least 8 characters long",
            "User \"a\"", 0);
    CHECK_INT(e.status, 400);
    CHECK(strstr(e.detail, "password policy") != NULL);
}

static void test_service_unavailable(void)
{
    static const int codes[] = {LDAP_BUSY,          LDAP_UNAVAILABLE,        LDAP_OTHER,
                                LDAP_SERVER_DOWN,   LDAP_CONNECT_ERROR,      LDAP_TIMEOUT,
                                LDAP_LOCAL_ERROR,   LDAP_NOT_SUPPORTED,      LDAP_TIMELIMIT_EXCEEDED,
                                LDAP_INVALID_CREDENTIALS, LDAP_INAPPROPRIATE_AUTH};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        s2l_error e = map(codes[i], "secret server detail", "user \"x\"", 9);
        CHECK_INT(e.status, 503);
        CHECK_INT(e.retry_after, 9);
        CHECK(e.scim_type == NULL);
    }
    /* Retry-After is at least one second. */
    s2l_error e = map(LDAP_SERVER_DOWN, NULL, NULL, 0);
    CHECK_INT(e.retry_after, 1);

    /* Bind failures are the gateway's configuration, not the client's credentials. */
    e = map(LDAP_INVALID_CREDENTIALS, NULL, NULL, 2);
    CHECK_INT(e.status, 503);
    CHECK(strstr(e.detail, "gateway") != NULL);
    CHECK(strstr(e.detail, "bind") != NULL);
}

/* Each class of result, with the diagnostics slapd 2.5 really sends: what
 * can pass on a later attempt is 503 + Retry-After, what the same request
 * would get every time is 4xx without Retry-After. */
static void test_permanent_or_retryable(void)
{
    static const struct {
        int rc;
        const char *diag;
        int status;
        const char *scim_type;
        const char *in_detail;
    } cases[] = {
        /* Can pass: the directory is busy, down, slow, or the connection broke. */
        {LDAP_BUSY, "too many directory operations waiting", 503, NULL, NULL},
        {LDAP_UNAVAILABLE, NULL, 503, NULL, NULL},
        {LDAP_SERVER_DOWN, "no directory connection is up", 503, NULL, NULL},
        {LDAP_TIMEOUT, NULL, 503, NULL, NULL},
        {LDAP_TIMELIMIT_EXCEEDED, NULL, 503, NULL, NULL},
        /* 80 with a text: back-mdb's storage failures (database full = MDB_MAP_FULL
         * at commit, transaction or cursor failures). The request is fine. */
        {LDAP_OTHER, "txn_commit failed", 503, NULL, "txn_commit failed"},
        {LDAP_OTHER, "internal error", 503, NULL, NULL},
        {LDAP_OTHER, "entry store failed", 503, NULL, NULL},
        {LDAP_OTHER, "index generation failed", 503, NULL, NULL},
        /* 80 from the DN index (MDB_BAD_VALSIZE, an RDN over ~245 bytes): add
         * sends no text, modrdn "DN index add failed". Never passes. */
        {LDAP_OTHER, NULL, 400, S2L_SCIM_INVALID_VALUE, "too long"},
        {LDAP_OTHER, "", 400, S2L_SCIM_INVALID_VALUE, "too long"},
        {LDAP_OTHER, "DN index add failed", 400, S2L_SCIM_INVALID_VALUE, "too long"},
        /* 53 naming a state of the server: can pass once the operator acts. */
        {LDAP_UNWILLING_TO_PERFORM, "operation restricted", 503, NULL, "operation restricted"},
        {LDAP_UNWILLING_TO_PERFORM, "shadow context; no update referral", 503, NULL, NULL},
        {LDAP_UNWILLING_TO_PERFORM, "no global superior knowledge", 503, NULL, NULL},
        {LDAP_UNWILLING_TO_PERFORM, "database is read-only", 503, NULL, NULL},
        /* 53 judging the request itself (Active Directory's password rules). */
        {LDAP_UNWILLING_TO_PERFORM, "0000001F: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM), data 0", 400,
         S2L_SCIM_INVALID_VALUE, "WILL_NOT_PERFORM"},
        {LDAP_UNWILLING_TO_PERFORM, NULL, 400, S2L_SCIM_INVALID_VALUE, NULL},
        /* Too big for one record: permanent. */
        {LDAP_ADMINLIMIT_EXCEEDED, "entry is too big", 400, S2L_SCIM_INVALID_VALUE, "too big"},
        /* Over-long values and the like: permanent. */
        {LDAP_CONSTRAINT_VIOLATION, "cn: value #0 too long", 400, S2L_SCIM_INVALID_VALUE, NULL},
        {LDAP_INVALID_DN_SYNTAX, "invalid DN", 400, S2L_SCIM_INVALID_VALUE, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s2l_error e = map(cases[i].rc, cases[i].diag, "user \"jdoe\"", 4);
        if (e.status != cases[i].status)
            fprintf(stderr, "case %zu (rc %d, \"%s\"): status %d, detail \"%s\"\n", i, cases[i].rc,
                    cases[i].diag ? cases[i].diag : "(none)", e.status, e.detail);
        CHECK_INT(e.status, cases[i].status);
        CHECK_INT(e.retry_after, cases[i].status == 503 ? 4 : 0);
        if (cases[i].scim_type)
            CHECK_STR(e.scim_type, cases[i].scim_type);
        else
            CHECK(e.scim_type == NULL);
        CHECK(strstr(e.detail, "user \"jdoe\"") != NULL || cases[i].status == 503);
        if (cases[i].in_detail && strstr(e.detail, cases[i].in_detail) == NULL)
            fprintf(stderr, "case %zu: detail \"%s\" lacks \"%s\"\n", i, e.detail, cases[i].in_detail);
        CHECK(cases[i].in_detail == NULL || strstr(e.detail, cases[i].in_detail) != NULL);
    }
}

static void test_other_statuses(void)
{
    s2l_error e = map(LDAP_INSUFFICIENT_ACCESS, NULL, "user \"a\"", 0);
    CHECK_INT(e.status, 403);

    e = map(LDAP_NOT_ALLOWED_ON_NONLEAF, NULL, "group \"g\"", 0);
    CHECK_INT(e.status, 400);
    CHECK(strstr(e.detail, "group \"g\"") != NULL);

    e = map(LDAP_SIZELIMIT_EXCEEDED, NULL, NULL, 0);
    CHECK_INT(e.status, 400);
    CHECK_STR(e.scim_type, S2L_SCIM_TOO_MANY);
    e = map(LDAP_ADMINLIMIT_EXCEEDED, NULL, NULL, 0);
    CHECK_INT(e.status, 400);
    CHECK_STR(e.scim_type, S2L_SCIM_TOO_MANY);

    e = map(LDAP_FILTER_ERROR, NULL, NULL, 0);
    CHECK_INT(e.status, 400);
    CHECK_STR(e.scim_type, S2L_SCIM_INVALID_FILTER);

    e = map(LDAP_ASSERTION_FAILED, NULL, "user \"a\"", 0);
    CHECK_INT(e.status, 412);
}

static void test_unknown_codes(void)
{
    s2l_error e = map(4242, NULL, NULL, 5);
    CHECK_INT(e.status, 502);
    CHECK_INT(e.retry_after, 0);
    CHECK(strstr(e.detail, "LDAP error 4242") != NULL);

    e = map(-77, NULL, NULL, 5);
    CHECK_INT(e.status, 502);
    CHECK(strstr(e.detail, "LDAP error -77") != NULL);

    /* Known but unexpected codes carry their RFC 4511 name. */
    e = map(LDAP_PROTOCOL_ERROR, NULL, NULL, 0);
    CHECK_INT(e.status, 502);
    CHECK(strstr(e.detail, "protocolError") != NULL);
    CHECK(strstr(e.detail, "LDAP error 2") != NULL);
}

/* No LDAP code may turn into a 500 unless it is the gateway's own fault. */
static void test_never_500_for_server_answers(void)
{
    int count_500 = 0;
    for (int rc = 1; rc <= 0x4110; rc++) {
        s2l_error e = map(rc, "x: y", "r", 1);
        CHECK(e.status >= 400 && e.status <= 599);
        if (e.status == 500)
            count_500++;
        CHECK(e.detail[0] != '\0');
    }
    CHECK_INT(count_500, 0);
    /* Only encoding/parameter bugs and "success" are internal errors. */
    CHECK_INT(map(LDAP_ENCODING_ERROR, NULL, NULL, 0).status, 500);
    CHECK_INT(map(LDAP_PARAM_ERROR, NULL, NULL, 0).status, 500);
    CHECK_INT(map(LDAP_SUCCESS, NULL, NULL, 0).status, 500);
}

static void test_breaks_connection(void)
{
    CHECK(s2l_ldap_rc_breaks_connection(LDAP_SERVER_DOWN));
    CHECK(s2l_ldap_rc_breaks_connection(LDAP_CONNECT_ERROR));
    CHECK(s2l_ldap_rc_breaks_connection(LDAP_DECODING_ERROR));
    CHECK(s2l_ldap_rc_breaks_connection(LDAP_UNAVAILABLE));
    CHECK(!s2l_ldap_rc_breaks_connection(LDAP_SUCCESS));
    CHECK(!s2l_ldap_rc_breaks_connection(LDAP_TIMEOUT));
    CHECK(!s2l_ldap_rc_breaks_connection(LDAP_BUSY));
    CHECK(!s2l_ldap_rc_breaks_connection(LDAP_ALREADY_EXISTS));
    CHECK(!s2l_ldap_rc_breaks_connection(LDAP_NO_SUCH_OBJECT));
    CHECK(!s2l_ldap_rc_breaks_connection(4242));
}

static void test_long_inputs_truncate(void)
{
    char what[600], diag[600];
    memset(what, 'w', sizeof what - 1);
    what[sizeof what - 1] = '\0';
    memset(diag, 'd', sizeof diag - 1);
    diag[sizeof diag - 1] = '\0';
    s2l_error e = map(LDAP_INVALID_SYNTAX, diag, what, 0);
    CHECK_INT(e.status, 400);
    CHECK(strlen(e.detail) == S2L_ERROR_DETAIL_MAX - 1);
    /* An over-long "attribute" in the diagnostic is not taken as a name. */
    char diag2[300];
    memset(diag2, 'a', 200);
    memcpy(diag2 + 200, ": value #0 invalid per syntax", 30);
    e = map(LDAP_INVALID_SYNTAX, diag2, "u", 0);
    CHECK_INT(e.status, 400);
    CHECK(strstr(e.detail, "invalid value for attribute") == NULL);

    /* NULL err is tolerated. */
    s2l_ldap_error_to_scim(LDAP_BUSY, NULL, NULL, 1, NULL);
    CHECK(1);
}

int main(void)
{
    test_conflict_and_not_found();
    test_invalid_value_names_attribute();
    test_unique_overlay_is_uniqueness();
    test_directory_diagnostics();
    test_service_unavailable();
    test_permanent_or_retryable();
    test_other_statuses();
    test_unknown_codes();
    test_never_500_for_server_answers();
    test_breaks_connection();
    test_long_inputs_truncate();
    return UNIT_DONE();
}
