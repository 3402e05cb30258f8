/* tls.c — the server's SSL_CTX (see tls.h). */
#include "tls.h"

#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

static SSL_CTX *fail(SSL_CTX *ctx, char *errbuf, size_t errlen, const char *what, const char *arg)
{
    unsigned long e = ERR_get_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    snprintf(errbuf, errlen, "TLS setup failed: %s%s%s: %s", what, arg ? " " : "", arg ? arg : "",
             reason ? reason : "unknown error");
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

SSL_CTX *s2l_tls_server_ctx(const s2l_config *cfg, char *errbuf, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return fail(NULL, errbuf, errlen, "SSL_CTX_new", NULL);
    int min = cfg->tls_min_version && strcmp(cfg->tls_min_version, "1.3") == 0 ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (SSL_CTX_set_min_proto_version(ctx, min) != 1)
        return fail(ctx, errbuf, errlen, "tls.min_version", cfg->tls_min_version);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (cfg->tls_ciphers && SSL_CTX_set_cipher_list(ctx, cfg->tls_ciphers) != 1)
        return fail(ctx, errbuf, errlen, "tls.ciphers", cfg->tls_ciphers);
    if (cfg->tls_ciphersuites && SSL_CTX_set_ciphersuites(ctx, cfg->tls_ciphersuites) != 1)
        return fail(ctx, errbuf, errlen, "tls.ciphersuites", cfg->tls_ciphersuites);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert_file) != 1)
        return fail(ctx, errbuf, errlen, "tls.cert_file", cfg->tls_cert_file);
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        return fail(ctx, errbuf, errlen, "tls.key_file", cfg->tls_key_file);
    if (cfg->tls_client_ca_file) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->tls_client_ca_file);
        if (names == NULL || SSL_CTX_load_verify_locations(ctx, cfg->tls_client_ca_file, NULL) != 1) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            return fail(ctx, errbuf, errlen, "tls.client_ca_file", cfg->tls_client_ca_file);
        }
        /* Tells clients which CAs we accept (the list is owned by ctx now). */
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        SSL_CTX_set_verify_depth(ctx, 8);
    }
    return ctx;
}
