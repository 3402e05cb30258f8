/* auth_token.c — the OAuth 2.0 token endpoint, client credentials grant
 * (RFC 6749 §4.4, errors per §5.2), issuing JWT access tokens (RFC 7519). */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_internal.h"
#include "s2l/base64.h"
#include "s2l/http_auth.h"

static void oauth_error(s2l_token_reply *out, int status, const char *error, const char *reason, const char *fmt,
                        ...) __attribute__((format(printf, 5, 6)));

static void oauth_error(s2l_token_reply *out, int status, const char *error, const char *reason, const char *fmt,
                        ...)
{
    char desc[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    out->status = status;
    out->reason = reason;
    out->body = json_pack("{s:s, s:s}", "error", error, "error_description", desc);
}

/* invalid_client: 401 with a Basic challenge (RFC 6749 §5.2). Counts as a failed attempt. */
static void invalid_client(s2l_auth *a, const s2l_token_request *r, s2l_token_reply *out, const char *reason,
                           const char *desc)
{
    if (r->source)
        s2l_auth_limits_fail_(a->limits, true, r->source, r->now_ms);
    oauth_error(out, 401, "invalid_client", reason, "%s", desc);
    snprintf(out->challenge, sizeof out->challenge, "%s", a->basic_challenge);
}

static bool media_type_is(const char *ct, const char *want)
{
    if (ct == NULL)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; \t");
    return n == strlen(want) && strncasecmp(ct, want, n) == 0;
}

/* The request's parameters as a JSON object of strings: a form body, or a
 * JSON object (not in RFC 6749, but some clients send one). */
static json_t *read_params(const s2l_token_request *r, const char **why)
{
    if (r->content_type == NULL || media_type_is(r->content_type, "application/x-www-form-urlencoded"))
        return s2l_form_parse(r->body ? r->body : "", r->body_len, why);
    if (media_type_is(r->content_type, "application/json")) {
        json_error_t jerr;
        json_t *j = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &jerr);
        const char *k;
        json_t *v;
        if (!json_is_object(j)) {
            json_decref(j);
            *why = "the body is not a JSON object";
            return NULL;
        }
        json_object_foreach(j, k, v) {
            if (!json_is_string(v)) {
                json_decref(j);
                *why = "parameters must be strings";
                return NULL;
            }
        }
        return j;
    }
    *why = "the Content-Type must be application/x-www-form-urlencoded";
    return NULL;
}

static char *random_id(void)
{
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return NULL;
    return s2l_b64url_encode_alloc(raw, sizeof raw);
}

void s2l_auth_issue_token(s2l_auth *a, const s2l_token_request *r, s2l_token_reply *out)
{
    memset(out, 0, sizeof *out);
    char basic_buf[S2L_BASIC_MAX + 8];
    char *header_id = NULL, *header_secret = NULL;
    json_t *params = NULL;
    int retry = 0;
    if (a->signing_key.alg == S2L_JWS_UNSUPPORTED) {
        oauth_error(out, 400, "invalid_request", "no_token_endpoint", "the token endpoint is not configured");
        return;
    }
    if (r->source && s2l_auth_limits_check_(a->limits, true, r->source, r->now_ms, &retry) < 0) {
        oauth_error(out, 429, "temporarily_unavailable", "too_many_failures",
                    "too many failed attempts from this address; retry after %d seconds", retry);
        out->retry_after = retry;
        return;
    }
    const char *why = NULL;
    params = read_params(r, &why);
    if (params == NULL) {
        oauth_error(out, 400, "invalid_request", "malformed_request", "%s", why);
        goto out;
    }
    const char *grant = json_string_value(json_object_get(params, "grant_type"));
    if (grant == NULL || grant[0] == 0) {
        oauth_error(out, 400, "invalid_request", "no_grant_type", "grant_type is required");
        goto out;
    }
    if (strcmp(grant, "client_credentials") != 0) {
        oauth_error(out, 400, "unsupported_grant_type", "unsupported_grant_type",
                    "only grant_type=client_credentials is supported");
        goto out;
    }

    /* Client authentication: HTTP Basic (client id and secret form-encoded
     * first, RFC 6749 §2.3.1) or client_id + client_secret in the body; not both. */
    const char *form_id = json_string_value(json_object_get(params, "client_id"));
    const char *form_secret = json_string_value(json_object_get(params, "client_secret"));
    s2l_authz z;
    s2l_authz_parse(r->authorization, &z);
    const char *id = form_id, *secret = form_secret;
    if (z.scheme != S2L_AUTHZ_NONE) {
        const char *u, *p;
        if (z.scheme != S2L_AUTHZ_BASIC ||
            s2l_basic_decode(z.cred, z.cred_len, basic_buf, sizeof basic_buf, &u, &p) < 0) {
            invalid_client(a, r, out, "malformed_client_authentication",
                           "client authentication must be HTTP Basic or client_id and client_secret in the body");
            goto out;
        }
        if (form_secret) {
            oauth_error(out, 400, "invalid_request", "two_client_authentications",
                        "use one client authentication method, not both");
            goto out;
        }
        header_id = s2l_form_decode(u, strlen(u), true);
        header_secret = s2l_form_decode(p, strlen(p), true);
        if (header_id == NULL || header_secret == NULL) {
            invalid_client(a, r, out, "malformed_client_authentication", "malformed client credentials");
            goto out;
        }
        if (form_id && strcmp(form_id, header_id) != 0) {
            oauth_error(out, 400, "invalid_request", "client_id_mismatch",
                        "client_id in the body differs from the authenticated client");
            goto out;
        }
        id = header_id;
        secret = header_secret;
    }
    if (id == NULL || secret == NULL || id[0] == 0) {
        invalid_client(a, r, out, "no_client_credentials", "client authentication is required");
        goto out;
    }
    s2l_auth_cred *c = s2l_auth_find_id_(a, CRED_OAUTH_CLIENT, id);
    if (c == NULL) {
        if (a->first_client)
            (void)s2l_secret_hash_verify(&a->first_client->secret, secret, strlen(secret));
        invalid_client(a, r, out, "unknown_client", "client authentication failed");
        goto out;
    }
    if (!s2l_auth_secret_ok_(a, c, secret, strlen(secret))) {
        invalid_client(a, r, out, "wrong_client_secret", "client authentication failed");
        goto out;
    }
    out->cred = c;
    int64_t now_s = r->now_ms / 1000;
    if (c->not_after_s > 0 && now_s >= c->not_after_s) {
        oauth_error(out, 401, "invalid_client", "credential_expired", "the client credentials have expired");
        snprintf(out->challenge, sizeof out->challenge, "%s", a->basic_challenge);
        goto out;
    }
    bool allowed = c->n_allow_from == 0;
    for (size_t i = 0; r->source && i < c->n_allow_from; i++)
        allowed = allowed || s2l_cidr_match(&c->allow_from[i], r->source);
    if (!allowed) {
        oauth_error(out, 400, "unauthorized_client", "source_not_allowed",
                    "this client may not get tokens from this address");
        goto out;
    }

    int64_t exp = now_s + a->lifetime_s;
    if (c->not_after_s > 0 && c->not_after_s < exp)
        exp = c->not_after_s; /* a token never outlives its client's credentials */
    char *jti = random_id();
    json_t *claims = jti ? json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "iss", a->issuer, "aud",
                                     a->audience, "sub", c->client_id, "client_id", c->client_id, "iat",
                                     (json_int_t)now_s, "nbf", (json_int_t)now_s, "exp", (json_int_t)exp, "jti", jti)
                         : NULL;
    char *token = claims ? s2l_jwt_sign(&a->signing_key, claims) : NULL;
    json_decref(claims);
    free(jti);
    if (token == NULL) {
        oauth_error(out, 500, "server_error", "signing_failed", "the token could not be signed");
        goto out;
    }
    out->status = 200;
    out->reason = "ok";
    out->body = json_pack("{s:s, s:s, s:I}", "access_token", token, "token_type", "Bearer", "expires_in",
                          (json_int_t)(exp - now_s));
    OPENSSL_cleanse(token, strlen(token));
    free(token);
out:
    OPENSSL_cleanse(basic_buf, sizeof basic_buf);
    if (header_secret) {
        OPENSSL_cleanse(header_secret, strlen(header_secret));
        free(header_secret);
    }
    free(header_id);
    json_decref(params);
}
