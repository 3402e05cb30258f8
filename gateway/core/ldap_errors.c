/* ldap_errors.c — the one table from LDAP result codes to SCIM errors
 * (see include/s2l/ldap_errors.h).
 *
 * Pure: <ldap.h> is included for the result-code constants only; nothing here
 * links against libldap, so the unit tests and fuzzers can use it. That is also
 * why each row carries the RFC 4511 name instead of calling ldap_err2string().
 *
 * Principles behind the rows:
 *  - a request the directory rejected because of its content is the client's
 *    mistake: 4xx, never 500;
 *  - problems with the gateway's own bind (48/49/7/8/13) are server-side
 *    configuration: 503, not 401 — the IdP's credentials were fine;
 *  - transient directory conditions (busy, unavailable, timeouts, lost
 *    connection) are 503 with Retry-After so IdPs retry;
 *  - a result that the same request would get again on every attempt is a
 *    4xx, even when its code is a generic one: a 503 would make the IdP
 *    retry forever a request that can never succeed;
 *  - codes we cannot explain are 502: the upstream said something unexpected.
 *
 * Two codes mean either, and the diagnostic tells which (diag_rules below):
 *  - 80 "other". From OpenLDAP's back-mdb every transient or storage failure
 *    carries a text ("txn_commit failed" when the database is full or a disk
 *    write fails, "internal error", "entry store failed", "index generation
 *    failed"): those stay 503 — the request is fine and succeeds once the
 *    directory's operator has acted. The one 80 without a text on an add, and
 *    "DN index add failed" on a rename, is the DN index refusing the entry's
 *    RDN (MDB_BAD_VALSIZE: RDN + normalised RDN + 20 bytes > 511, i.e. an RDN
 *    over about 245 bytes): permanent for that input, so 400. The mapping
 *    checks RDN sizes before sending (limits.max_rdn_bytes), so this row is
 *    the fallback for directories whose limit is lower than configured.
 *  - 53 unwillingToPerform. Usually the directory judging this request
 *    (Active Directory's password rules, renaming a system object): 400 with
 *    its diagnostic. When the diagnostic names a state of the server itself
 *    (read-only, restricted, shadow copy without update referral, no naming
 *    context for the DN), the request is not at fault and can pass once the
 *    operator has fixed it: 503, like the gateway's own bind failures.
 */
#include "s2l/ldap_errors.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include <ldap.h>

enum {
    ROW_RETRY = 1 << 0,         /* 503: fill Retry-After */
    ROW_BREAKS = 1 << 1,        /* the connection, not the request, is broken */
    ROW_DIAG = 1 << 2,          /* append the server's diagnostic to the detail */
};

typedef struct ldap_error_row {
    int rc;
    const char *name;           /* RFC 4511 / libldap name */
    int status;                 /* HTTP status */
    const char *scim_type;      /* S2L_SCIM_* or NULL */
    /* Detail templates; tokens: {what} {attr} {name} {code}. `detail_attr`
     * is used when an attribute could be named from the diagnostic. */
    const char *detail;
    const char *detail_attr;
    unsigned flags;
    /* When the diagnostic contains `hint`, the result is 409 uniqueness
     * instead (slapd's unique overlay answers 19 "some attributes not unique"). */
    const char *uniqueness_hint;
} ldap_error_row;

#define BIND_DETAIL "the gateway could not authenticate to the directory ({name}); check its bind configuration"
#define UNAVAILABLE_DETAIL "the directory is unavailable ({name}); retry later"
#define INVALID_DETAIL "{what}: rejected by the directory ({name})"
#define INVALID_ATTR_DETAIL "{what}: invalid value for attribute \"{attr}\" ({name})"
#define UPSTREAM_DETAIL "LDAP error {code} {name}"

static const ldap_error_row rows[] = {
    /* Success is not an error; reaching here is a gateway bug. */
    {LDAP_SUCCESS, "success", 500, NULL, "internal error: LDAP success reported as an error", NULL, 0, NULL},
    {LDAP_OPERATIONS_ERROR, "operationsError", 502, NULL, UPSTREAM_DETAIL, NULL, ROW_DIAG, NULL},
    {LDAP_PROTOCOL_ERROR, "protocolError", 502, NULL, UPSTREAM_DETAIL, NULL, ROW_DIAG, NULL},
    {LDAP_TIMELIMIT_EXCEEDED, "timeLimitExceeded", 503, NULL, UNAVAILABLE_DETAIL, NULL, ROW_RETRY, NULL},
    /* The directory refused to return that many entries: narrow the query. */
    {LDAP_SIZELIMIT_EXCEEDED, "sizeLimitExceeded", 400, S2L_SCIM_TOO_MANY,
     "the query matches more resources than the directory will return; narrow the filter", NULL, 0, NULL},
    {LDAP_COMPARE_FALSE, "compareFalse", 502, NULL, UPSTREAM_DETAIL, NULL, 0, NULL},
    {LDAP_COMPARE_TRUE, "compareTrue", 502, NULL, UPSTREAM_DETAIL, NULL, 0, NULL},
    {LDAP_AUTH_METHOD_NOT_SUPPORTED, "authMethodNotSupported", 503, NULL, BIND_DETAIL, NULL, ROW_RETRY, NULL},
    {LDAP_STRONG_AUTH_REQUIRED, "strongerAuthRequired", 503, NULL, BIND_DETAIL, NULL, ROW_RETRY, NULL},
    {LDAP_REFERRAL, "referral", 502, NULL, "{what}: the directory answered with a referral, which the gateway does not follow",
     NULL, 0, NULL},
    {LDAP_ADMINLIMIT_EXCEEDED, "adminLimitExceeded", 400, S2L_SCIM_TOO_MANY,
     "the query exceeds a directory administrative limit; narrow the filter", NULL, 0, NULL},
    /* The gateway sent a control the server lacks (e.g. sort/VLV without sssvlv). */
    {LDAP_UNAVAILABLE_CRITICAL_EXTENSION, "unavailableCriticalExtension", 502, NULL, UPSTREAM_DETAIL, NULL, ROW_DIAG,
     NULL},
    {LDAP_CONFIDENTIALITY_REQUIRED, "confidentialityRequired", 503, NULL, BIND_DETAIL, NULL, ROW_RETRY, NULL},
    {LDAP_SASL_BIND_IN_PROGRESS, "saslBindInProgress", 502, NULL, UPSTREAM_DETAIL, NULL, 0, NULL},
    {LDAP_NO_SUCH_ATTRIBUTE, "noSuchAttribute", 400, S2L_SCIM_INVALID_VALUE, INVALID_DETAIL, INVALID_ATTR_DETAIL,
     ROW_DIAG, NULL},
    {LDAP_UNDEFINED_TYPE, "undefinedAttributeType", 400, S2L_SCIM_INVALID_VALUE, INVALID_DETAIL,
     "{what}: attribute \"{attr}\" is not defined in the directory schema ({name})", ROW_DIAG, NULL},
    {LDAP_INAPPROPRIATE_MATCHING, "inappropriateMatching", 400, S2L_SCIM_INVALID_VALUE, INVALID_DETAIL,
     INVALID_ATTR_DETAIL, ROW_DIAG, NULL},
    {LDAP_CONSTRAINT_VIOLATION, "constraintViolation", 400, S2L_SCIM_INVALID_VALUE, INVALID_DETAIL,
     INVALID_ATTR_DETAIL, ROW_DIAG, "not unique"},
    {LDAP_TYPE_OR_VALUE_EXISTS, "attributeOrValueExists", 400, S2L_SCIM_INVALID_VALUE, INVALID_DETAIL,
     "{what}: attribute \"{attr}\" already has this value ({name})", ROW_DIAG, NULL},
    {LDAP_INVALID_SYNTAX, "invalidAttributeSyntax", 400, S2L_SCIM_INVALID_VALUE, INVALID_DETAIL,
     INVALID_ATTR_DETAIL, ROW_DIAG, NULL},
    {LDAP_NO_SUCH_OBJECT, "noSuchObject", 404, NULL, "{what} not found", NULL, 0, NULL},
    {LDAP_ALIAS_PROBLEM, "aliasProblem", 502, NULL, UPSTREAM_DETAIL, NULL, 0, NULL},
    /* DNs are built from client input (ids, names): a malformed one is the client's. */
    {LDAP_INVALID_DN_SYNTAX, "invalidDNSyntax", 400, S2L_SCIM_INVALID_VALUE,
     "{what}: the value does not form a valid directory name ({name})", NULL, 0, NULL},
    {LDAP_IS_LEAF, "isLeaf", 502, NULL, UPSTREAM_DETAIL, NULL, 0, NULL},
    {LDAP_ALIAS_DEREF_PROBLEM, "aliasDereferencingProblem", 502, NULL, UPSTREAM_DETAIL, NULL, 0, NULL},
    {LDAP_X_PROXY_AUTHZ_FAILURE, "proxyAuthzFailure", 503, NULL, BIND_DETAIL, NULL, ROW_RETRY, NULL},
    {LDAP_INAPPROPRIATE_AUTH, "inappropriateAuthentication", 503, NULL, BIND_DETAIL, NULL, ROW_RETRY, NULL},
    {LDAP_INVALID_CREDENTIALS, "invalidCredentials", 503, NULL, BIND_DETAIL, NULL, ROW_RETRY, NULL},
    {LDAP_INSUFFICIENT_ACCESS, "insufficientAccessRights", 403, NULL,
     "{what}: the directory does not allow the gateway to do this ({name})", NULL, 0, NULL},
    {LDAP_BUSY, "busy", 503, NULL, UNAVAILABLE_DETAIL, NULL, ROW_RETRY, NULL},
    /* Also the result code of a Notice of Disconnection (RFC 4511 §4.4.1). */
    {LDAP_UNAVAILABLE, "unavailable", 503, NULL, UNAVAILABLE_DETAIL, NULL, ROW_RETRY | ROW_BREAKS, NULL},
    /* The server-state cases are in diag_rules. */
    {LDAP_UNWILLING_TO_PERFORM, "unwillingToPerform", 400, S2L_SCIM_INVALID_VALUE,
     "{what}: the directory refuses this request ({name})", NULL, ROW_DIAG, NULL},
    {LDAP_LOOP_DETECT, "loopDetect", 502, NULL, UPSTREAM_DETAIL, NULL, 0, NULL},
    {LDAP_NAMING_VIOLATION, "namingViolation", 400, S2L_SCIM_INVALID_VALUE, INVALID_DETAIL, INVALID_ATTR_DETAIL,
     ROW_DIAG, NULL},
    {LDAP_OBJECT_CLASS_VIOLATION, "objectClassViolation", 400, S2L_SCIM_INVALID_VALUE, INVALID_DETAIL,
     "{what}: missing or disallowed attribute \"{attr}\" ({name})", ROW_DIAG, NULL},
    {LDAP_NOT_ALLOWED_ON_NONLEAF, "notAllowedOnNonLeaf", 400, NULL,
     "{what} has entries below it in the directory and cannot be removed or renamed ({name})", NULL, 0, NULL},
    {LDAP_NOT_ALLOWED_ON_RDN, "notAllowedOnRDN", 400, S2L_SCIM_INVALID_VALUE, INVALID_DETAIL, INVALID_ATTR_DETAIL,
     ROW_DIAG, NULL},
    {LDAP_ALREADY_EXISTS, "entryAlreadyExists", 409, S2L_SCIM_UNIQUENESS, "{what} already exists", NULL, 0, NULL},
    {LDAP_NO_OBJECT_CLASS_MODS, "objectClassModsProhibited", 400, S2L_SCIM_INVALID_VALUE, INVALID_DETAIL,
     INVALID_ATTR_DETAIL, ROW_DIAG, NULL},
    {LDAP_RESULTS_TOO_LARGE, "resultsTooLarge", 400, S2L_SCIM_TOO_MANY,
     "the query result is too large for the directory; narrow the filter", NULL, 0, NULL},
    {LDAP_AFFECTS_MULTIPLE_DSAS, "affectsMultipleDSAs", 502, NULL, UPSTREAM_DETAIL, NULL, 0, NULL},
    {LDAP_VLV_ERROR, "virtualListViewError", 400, S2L_SCIM_INVALID_VALUE,
     "the requested page cannot be served by the directory ({name})", NULL, ROW_DIAG, NULL},
    /* Permanent cases (an over-long RDN) are in diag_rules. */
    {LDAP_OTHER, "other", 503, NULL, UNAVAILABLE_DETAIL, NULL, ROW_RETRY | ROW_DIAG, NULL},
    {LDAP_CANCELLED, "canceled", 502, NULL, UPSTREAM_DETAIL, NULL, 0, NULL},
    {LDAP_NO_SUCH_OPERATION, "noSuchOperation", 502, NULL, UPSTREAM_DETAIL, NULL, 0, NULL},
    {LDAP_TOO_LATE, "tooLate", 502, NULL, UPSTREAM_DETAIL, NULL, 0, NULL},
    {LDAP_CANNOT_CANCEL, "cannotCancel", 502, NULL, UPSTREAM_DETAIL, NULL, 0, NULL},
    /* An assertion control (If-Match) failed: the resource changed meanwhile. */
    {LDAP_ASSERTION_FAILED, "assertionFailed", 412, NULL, "{what} was modified by someone else (version mismatch)",
     NULL, 0, NULL},
    {LDAP_X_NO_OPERATION, "noOperation", 502, NULL, UPSTREAM_DETAIL, NULL, 0, NULL},

    /* libldap's local (negative) codes. */
    {LDAP_SERVER_DOWN, "serverDown", 503, NULL, "the directory is unreachable; retry later", NULL,
     ROW_RETRY | ROW_BREAKS, NULL},
    /* libldap reports a garbled response stream as a local error. */
    {LDAP_LOCAL_ERROR, "localError", 503, NULL, UNAVAILABLE_DETAIL, NULL, ROW_RETRY | ROW_BREAKS, NULL},
    /* Encoding fails only on our own bad input or lack of memory: the gateway's fault. */
    {LDAP_ENCODING_ERROR, "encodingError", 500, NULL, "internal error: could not encode the LDAP request", NULL, 0,
     NULL},
    {LDAP_DECODING_ERROR, "decodingError", 502, NULL, "the directory sent a response the gateway cannot decode",
     NULL, ROW_BREAKS, NULL},
    {LDAP_TIMEOUT, "timeout", 503, NULL, "the directory did not answer in time; retry later", NULL, ROW_RETRY, NULL},
    {LDAP_AUTH_UNKNOWN, "authUnknown", 503, NULL, BIND_DETAIL, NULL, ROW_RETRY, NULL},
    {LDAP_FILTER_ERROR, "filterError", 400, S2L_SCIM_INVALID_FILTER,
     "the filter cannot be expressed as a directory query", NULL, 0, NULL},
    {LDAP_USER_CANCELLED, "userCancelled", 503, NULL, UNAVAILABLE_DETAIL, NULL, ROW_RETRY, NULL},
    {LDAP_PARAM_ERROR, "paramError", 500, NULL, "internal error: invalid LDAP request parameters", NULL, 0, NULL},
    {LDAP_NO_MEMORY, "noMemory", 503, NULL, "the gateway is out of memory; retry later", NULL, ROW_RETRY, NULL},
    {LDAP_CONNECT_ERROR, "connectError", 503, NULL, "the directory is unreachable; retry later", NULL,
     ROW_RETRY | ROW_BREAKS, NULL},
    {LDAP_NOT_SUPPORTED, "notSupported", 503, NULL, UNAVAILABLE_DETAIL, NULL, ROW_RETRY, NULL},
    {LDAP_CONTROL_NOT_FOUND, "controlNotFound", 502, NULL, UPSTREAM_DETAIL, NULL, 0, NULL},
    {LDAP_NO_RESULTS_RETURNED, "noResultsReturned", 502, NULL, UPSTREAM_DETAIL, NULL, 0, NULL},
    {LDAP_MORE_RESULTS_TO_RETURN, "moreResultsToReturn", 502, NULL, UPSTREAM_DETAIL, NULL, 0, NULL},
    {LDAP_CLIENT_LOOP, "clientLoop", 502, NULL, UPSTREAM_DETAIL, NULL, 0, NULL},
    {LDAP_REFERRAL_LIMIT_EXCEEDED, "referralLimitExceeded", 502, NULL, UPSTREAM_DETAIL, NULL, 0, NULL},
    {LDAP_X_CONNECTING, "connecting", 503, NULL, "the directory connection is not ready yet; retry later", NULL,
     ROW_RETRY, NULL},
};

static const ldap_error_row unknown_row = {0, "unknown", 502, NULL, UPSTREAM_DETAIL, NULL, ROW_DIAG, NULL};

/* Results whose meaning depends on the server's diagnostic; checked before the
 * row of the code. `match` is a case-insensitive substring of the diagnostic,
 * or "" for "no diagnostic at all". The first matching rule wins. */
typedef struct diag_rule {
    int rc;
    const char *match;
    int status;
    const char *scim_type;
    const char *detail;         /* template as in ldap_error_row */
    unsigned flags;             /* ROW_RETRY, ROW_DIAG */
} diag_rule;

#define RDN_TOO_LONG_DETAIL                                                                               \
    "{what}: the name is too long for the directory (its DN index refused the entry's RDN, LDAP 80 other)"
#define SERVER_STATE_DETAIL "{what}: the directory does not accept changes now ({name}); retry later"

static const diag_rule diag_rules[] = {
    /* Directory-specific diagnostics that say more than the result code: a
     * password policy refusal is the client's (400), not a server problem,
     * and Samba/AD report unique values in use as constraint violations. The
     * server's diagnostic is appended (it never holds the password). */
    /* AD / Samba: ERROR_PASSWORD_RESTRICTION (length, complexity, history, age) */
    {LDAP_CONSTRAINT_VIOLATION, "0000052D", 400, S2L_SCIM_INVALID_VALUE,
     "{what}: the password does not meet the directory's password policy (length, complexity or history)", ROW_DIAG},
    {LDAP_UNWILLING_TO_PERFORM, "0000052D", 400, S2L_SCIM_INVALID_VALUE,
     "{what}: the password does not meet the directory's password policy (length, complexity or history)", ROW_DIAG},
    /* Samba: userPrincipalName / sAMAccountName already used by another account */
    {LDAP_CONSTRAINT_VIOLATION, "already in use", 409, S2L_SCIM_UNIQUENESS,
     "{what}: a unique attribute value is already in use", ROW_DIAG},
    /* 389-DS password policy */
    {LDAP_CONSTRAINT_VIOLATION, "invalid password syntax", 400, S2L_SCIM_INVALID_VALUE,
     "{what}: the password does not meet the directory's password policy", ROW_DIAG},
    /* back-mdb: mdb_add answers 80 with no text only when the DN index
     * refuses the record; mdb_modrdn says so. */
    {LDAP_OTHER, "", 400, S2L_SCIM_INVALID_VALUE, RDN_TOO_LONG_DETAIL, 0},
    {LDAP_OTHER, "DN index add failed", 400, S2L_SCIM_INVALID_VALUE, RDN_TOO_LONG_DETAIL, 0},
    /* back-mdb on a write: the entry exceeds what one record may hold. */
    {LDAP_ADMINLIMIT_EXCEEDED, "entry is too big", 400, S2L_SCIM_INVALID_VALUE,
     "{what}: the entry is too big for the directory ({name})", ROW_DIAG},
    /* 53 for a state of the server, not of the request. */
    {LDAP_UNWILLING_TO_PERFORM, "read-only", 503, NULL, SERVER_STATE_DETAIL, ROW_RETRY | ROW_DIAG},
    {LDAP_UNWILLING_TO_PERFORM, "readonly", 503, NULL, SERVER_STATE_DETAIL, ROW_RETRY | ROW_DIAG},
    {LDAP_UNWILLING_TO_PERFORM, "read only", 503, NULL, SERVER_STATE_DETAIL, ROW_RETRY | ROW_DIAG},
    {LDAP_UNWILLING_TO_PERFORM, "operation restricted", 503, NULL, SERVER_STATE_DETAIL, ROW_RETRY | ROW_DIAG},
    {LDAP_UNWILLING_TO_PERFORM, "shadow context", 503, NULL, SERVER_STATE_DETAIL, ROW_RETRY | ROW_DIAG},
    {LDAP_UNWILLING_TO_PERFORM, "no global superior knowledge", 503, NULL, SERVER_STATE_DETAIL,
     ROW_RETRY | ROW_DIAG},
    {LDAP_UNWILLING_TO_PERFORM, "shutting down", 503, NULL, SERVER_STATE_DETAIL, ROW_RETRY | ROW_DIAG},
};

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

static const diag_rule *find_diag_rule(int rc, const char *diag)
{
    for (size_t i = 0; i < sizeof diag_rules / sizeof diag_rules[0]; i++) {
        const diag_rule *r = &diag_rules[i];
        if (r->rc != rc)
            continue;
        if (r->match[0] == '\0' ? diag == NULL : diag != NULL && contains_ci(diag, r->match))
            return r;
    }
    return NULL;
}

static const ldap_error_row *find_row(int rc)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i].rc == rc)
            return &rows[i];
    return NULL;
}

/* Bounded appender: truncates silently, always NUL-terminates. */
typedef struct detail_buf {
    char *p;
    size_t cap, len;
} detail_buf;

static void put_n(detail_buf *b, const char *s, size_t n)
{
    if (b->len + 1 >= b->cap)
        return;
    size_t room = b->cap - 1 - b->len;
    if (n > room)
        n = room;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void put_s(detail_buf *b, const char *s)
{
    put_n(b, s, strlen(s));
}

static void put_int(detail_buf *b, int v)
{
    char tmp[16];
    size_t n = 0;
    unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u && n < sizeof tmp);
    if (v < 0)
        put_n(b, "-", 1);
    while (n)
        put_n(b, &tmp[--n], 1);
}

static bool is_attr_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == ';' || c == '.';
}

/* A plausible attribute description: starts with a letter (or digit for an
 * OID), made of descr characters only. */
static bool is_attr_name(const char *s, size_t n)
{
    if (n == 0 || n > 64 || !isalnum((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_attr_char(s[i]))
            return false;
    return true;
}

/* Names the attribute a server diagnostic is about, for the detail. Two shapes
 * cover slapd's messages:
 *   "... attribute 'sn' ..."                     (objectClass/naming violations)
 *   "mail: value #0 invalid per syntax",
 *   "modify/add: mail: value #0 already exists"  (the last "name:" prefix)
 * Returns false when neither matches. */
static bool attr_from_diag(const char *diag, char *out, size_t cap)
{
    if (diag == NULL || cap == 0)
        return false;
    const char *kw = strstr(diag, "attribute '");
    if (kw != NULL) {
        const char *start = kw + strlen("attribute '");
        const char *end = strchr(start, '\'');
        if (end != NULL && is_attr_name(start, (size_t)(end - start)) && (size_t)(end - start) < cap) {
            memcpy(out, start, (size_t)(end - start));
            out[end - start] = '\0';
            return true;
        }
    }
    bool found = false;
    const char *seg = diag;
    for (;;) {
        const char *colon = strstr(seg, ": ");
        if (colon == NULL)
            break;
        size_t n = (size_t)(colon - seg);
        if (is_attr_name(seg, n) && n < cap) {
            memcpy(out, seg, n);
            out[n] = '\0';
            found = true;
        } else if (found) {
            break;
        }
        seg = colon + 2;
    }
    return found;
}

static void expand(detail_buf *b, const char *tpl, const char *what, const char *attr, const ldap_error_row *row,
                   int rc)
{
    const char *p = tpl;
    while (*p) {
        const char *open = strchr(p, '{');
        if (open == NULL) {
            put_s(b, p);
            break;
        }
        put_n(b, p, (size_t)(open - p));
        const char *close = strchr(open, '}');
        if (close == NULL) {
            put_s(b, open);
            break;
        }
        size_t n = (size_t)(close - open - 1);
        if (n == 4 && strncmp(open + 1, "what", 4) == 0)
            put_s(b, what);
        else if (n == 4 && strncmp(open + 1, "attr", 4) == 0)
            put_s(b, attr ? attr : "");
        else if (n == 4 && strncmp(open + 1, "name", 4) == 0)
            put_s(b, row->name);
        else if (n == 4 && strncmp(open + 1, "code", 4) == 0)
            put_int(b, rc);
        else
            put_n(b, open, n + 2);
        p = close + 1;
    }
}

void s2l_ldap_error_to_scim(int rc, const char *diag, const char *what, unsigned retry_after, s2l_error *err)
{
    if (err == NULL)
        return;
    const ldap_error_row *row = find_row(rc);
    if (row == NULL)
        row = &unknown_row;
    if (what == NULL || what[0] == '\0')
        what = "the resource";
    if (diag != NULL && diag[0] == '\0')
        diag = NULL;

    int status = row->status;
    const char *scim_type = row->scim_type;
    const char *tpl = row->detail;
    unsigned flags = row->flags;
    char attr[72];
    bool have_attr = false;
    const diag_rule *rule = find_diag_rule(rc, diag);

    if (rule != NULL) {
        status = rule->status;
        scim_type = rule->scim_type;
        tpl = rule->detail;
        flags = rule->flags;
    } else if (row->uniqueness_hint != NULL && diag != NULL && strstr(diag, row->uniqueness_hint) != NULL) {
        status = 409;
        scim_type = S2L_SCIM_UNIQUENESS;
        tpl = "{what}: a unique attribute value is already in use";
    } else if (row->detail_attr != NULL) {
        have_attr = attr_from_diag(diag, attr, sizeof attr);
        if (have_attr)
            tpl = row->detail_attr;
    }

    char detail[S2L_ERROR_DETAIL_MAX];
    detail_buf b = {detail, sizeof detail, 0};
    detail[0] = '\0';
    expand(&b, tpl, what, have_attr ? attr : NULL, row, rc);
    if ((flags & ROW_DIAG) && diag != NULL) {
        put_s(&b, ": ");
        put_s(&b, diag);
    }

    s2l_error_set(err, status, scim_type, "%s", detail);
    err->retry_after = 0;
    if (status == 503 || (flags & ROW_RETRY))
        err->retry_after = retry_after ? (int)retry_after : 1;
}

bool s2l_ldap_rc_breaks_connection(int rc)
{
    const ldap_error_row *row = find_row(rc);
    return row != NULL && (row->flags & ROW_BREAKS) != 0;
}

bool s2l_ldap_diag_attr(const char *diag, char *out, size_t cap)
{
    return attr_from_diag(diag, out, cap);
}

const char *s2l_ldap_rc_name(int rc)
{
    const ldap_error_row *row = find_row(rc);
    return row ? row->name : unknown_row.name;
}
