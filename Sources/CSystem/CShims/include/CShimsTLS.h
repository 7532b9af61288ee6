#ifndef CSHIMS_TLS_H
#define CSHIMS_TLS_H
#include <openssl/ssl.h>

/// Applies the server policy to a fresh SSL_CTX: TLS 1.2 minimum, ECDHE with AEAD ciphers for
/// TLS 1.2 (TLS 1.3 suites are all AEAD), no compression, no renegotiation, server cipher order,
/// released idle buffers, and ALPN that selects "http/1.1" and nothing else.
/// Returns 1 on success and 0 on failure, with the reason on OpenSSL's error queue.
int CShims_TLS_configure_server_context(SSL_CTX *ctx);

/// The SSL_FILETYPE_PEM constant, for SSL_CTX_use_PrivateKey_file.
int CShims_TLS_filetype_pem(void);
#endif
