#include "CShimsTLS.h"
#include <string.h>

/* TLS 1.2 suites with forward secrecy and AEAD only; TLS 1.3 keeps OpenSSL's default suites. */
static const char *const kTLS12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/* The ALPN wire list the server supports: one length-prefixed protocol name. */
static const unsigned char kServerProtocols[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

/* Selects http/1.1 when the client offers it; otherwise the handshake goes on without ALPN. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg) {
    (void)ssl;
    (void)arg;
    unsigned char *selected = NULL;
    int result = SSL_select_next_proto(&selected, outlen, kServerProtocols, sizeof(kServerProtocols), in, inlen);
    if (result != OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_NOACK;
    }
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

int CShims_TLS_configure_server_context(SSL_CTX *ctx) {
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        return 0;
    }
    if (SSL_CTX_set_cipher_list(ctx, kTLS12Ciphers) != 1) {
        return 0;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
    return 1;
}

int CShims_TLS_filetype_pem(void) { return SSL_FILETYPE_PEM; }
