#ifndef CSHIMS_OIDC_H
#define CSHIMS_OIDC_H
#include <stddef.h>

/// Verifies an RSASSA-PKCS1-v1_5 SHA-256 signature (JWS `RS256`) over `message` with the RSA
/// public key given by its big-endian modulus and exponent. Returns 1 when the signature is
/// valid, 0 when it is not, and -1 when the key cannot be built.
int CShims_OIDC_verify_rs256(const unsigned char *modulus, size_t modulus_len, const unsigned char *exponent,
                             size_t exponent_len, const unsigned char *message, size_t message_len,
                             const unsigned char *signature, size_t signature_len);
#endif
