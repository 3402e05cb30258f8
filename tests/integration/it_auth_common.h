/* it_auth_common.h — helpers shared by the authentication suites (it_auth_*.c,
 * it_tls_options.c): Authorization headers, repeated headers, shell commands,
 * a users body, and the secret scan over the log and every error body.
 * Header-only like it_users_common.h. */
#ifndef S2L_IT_AUTH_COMMON_H
#define S2L_IT_AUTH_COMMON_H

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "it_users_common.h"

/* "Authorization: Basic <base64(user:password)>" (malloc'd), encoded with OpenSSL. */
static inline char *ia_basic_header(const char *user, const char *password)
{
    char raw[512];
    unsigned char b64[800];
    snprintf(raw, sizeof raw, "%s:%s", user, password);
    EVP_EncodeBlock(b64, (const unsigned char *)raw, (int)strlen(raw));
    size_t n = strlen((char *)b64) + 32;
    char *out = malloc(n);
    snprintf(out, n, "Authorization: Basic %s", (char *)b64);
    return out;
}

/* "Authorization: Bearer <token>" in a static buffer (one at a time). */
static inline const char *ia_bearer(const char *token)
{
    static char buf[8192];
    snprintf(buf, sizeof buf, "Authorization: Bearer %s", token);
    return buf;
}

/* The values of every header called name, in order; the count. */
static inline size_t ia_headers(const h_resp *r, const char *name, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_headers && n < max; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            out[n++] = r->headers[i].value;
    return n;
}

/* Runs a shell command; its first output line (malloc'd), or NULL when it fails. */
static inline char *ia_run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return NULL;
    char line[8192] = "";
    char *ok = fgets(line, sizeof line, p);
    int rc = pclose(p);
    if (ok == NULL || rc != 0)
        return NULL;
    line[strcspn(line, "\r\n")] = 0;
    return strdup(line);
}

static inline char *ia_user_body(const char *user_name)
{
    char *b = malloc(512);
    snprintf(b, 512,
             "{\"schemas\":[\"" IT_URN_USER "\"],\"userName\":\"%s\",\"name\":{\"givenName\":\"A\",\"familyName\":\"B\"}}",
             user_name);
    return b;
}

/* A whole file (malloc'd, NUL-terminated) or NULL. */
static inline char *ia_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            char *grown = realloc(buf, cap * 2 + 1);
            if (grown == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = 0;
    return buf;
}

/* Every body the suite received, so that the final scan covers error bodies too. */
static char *ia_bodies;
static size_t ia_bodies_len;

static inline void ia_keep_body(const h_resp *r)
{
    if (r->body == NULL)
        return;
    char *grown = realloc(ia_bodies, ia_bodies_len + r->body_len + 2);
    if (grown == NULL)
        return;
    ia_bodies = grown;
    memcpy(ia_bodies + ia_bodies_len, r->body, r->body_len);
    ia_bodies_len += r->body_len;
    ia_bodies[ia_bodies_len++] = '\n';
    ia_bodies[ia_bodies_len] = 0;
}

/* A request whose body is kept for the secret scan. */
static inline h_resp ia_http(h_gw *g, const char *method, const char *path, const char *body, const char *authz)
{
    const char *hdr[] = {authz, NULL};
    h_resp r = h_http(g, method, path, body, authz ? hdr : NULL);
    ia_keep_body(&r);
    return r;
}

static inline h_resp ia_http_at(h_gw *g, const char *method, const char *path, const char *body,
                                const char *const *headers)
{
    h_resp r = h_http_at(g, method, path, body, headers);
    ia_keep_body(&r);
    return r;
}

/* Counts one assertion per secret: it occurs neither in text nor in the kept bodies. */
static inline void ia_check_no_secrets_(const char *what, const char *text, const char *const *secrets,
                                        const char *file, int line)
{
    for (size_t i = 0; secrets[i]; i++) {
        bool in_text = text && strstr(text, secrets[i]) != NULL;
        bool in_bodies = ia_bodies && strstr(ia_bodies, secrets[i]) != NULL;
        h_check_(!in_text && !in_bodies, file, line, "secret #%zu appears in %s", i, in_text ? what : "a response body");
    }
}
#define ia_check_no_secrets(what, text, secrets) ia_check_no_secrets_(what, text, secrets, __FILE__, __LINE__)

#endif
