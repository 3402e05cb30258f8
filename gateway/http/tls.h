/* tls.h — the HTTPS side's OpenSSL context from the configuration (shell):
 * certificate and key, tls.min_version, tls.ciphers / tls.ciphersuites and,
 * with tls.client_ca_file, required client certificates (mTLS).
 *
 * Ownership: the caller frees the context with SSL_CTX_free.
 */
#ifndef S2L_HTTP_TLS_H
#define S2L_HTTP_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "s2l/config.h"

/* NULL with a message naming the setting and OpenSSL's reason in errbuf. */
SSL_CTX *s2l_tls_server_ctx(const s2l_config *cfg, char *errbuf, size_t errlen);

#endif
