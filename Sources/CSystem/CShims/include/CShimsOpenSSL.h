#ifndef CSHIMS_OPENSSL_H
#define CSHIMS_OPENSSL_H
#include <openssl/ssl.h>

/// Wraps SSL_CTX_set_min_proto_version, a macro in OpenSSL 3.
int CShims_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
#endif
