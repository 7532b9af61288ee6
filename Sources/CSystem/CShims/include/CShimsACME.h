#ifndef CSHIMS_ACME_H
#define CSHIMS_ACME_H
#include <openssl/evp.h>

/// Builds a DER certificate signing request for one DNS name, signed with `key` (SHA-256).
/// The subject's common name and the single subjectAltName entry are both `hostname`.
/// Returns the DER length and sets `*out` to an OPENSSL_malloc'd buffer; returns -1 on failure
/// with the reason on OpenSSL's error queue.
int CShims_ACME_make_csr(EVP_PKEY *key, const char *hostname, unsigned char **out);

/// Converts a DER ECDSA signature to the fixed-width r||s form JWS uses, each half
/// `half_width` bytes. Returns 1 on success, 0 when the DER does not parse or a value is too wide.
int CShims_ACME_ecdsa_der_to_raw(const unsigned char *der, long der_len, unsigned char *raw, int half_width);

/// Seconds from now until the notAfter time of the first PEM certificate in `pem`; negative
/// when it has expired. Returns 0 and sets `*ok` to 0 when `pem` holds no certificate.
long long CShims_ACME_seconds_until_expiry(const char *pem, long pem_len, int *ok);
#endif
