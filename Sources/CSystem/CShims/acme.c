#include "CShimsACME.h"
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

int CShims_ACME_make_csr(EVP_PKEY *key, const char *hostname, unsigned char **out) {
    int length = -1;
    X509_REQ *request = X509_REQ_new();
    X509_NAME *name = X509_NAME_new();
    STACK_OF(X509_EXTENSION) *extensions = sk_X509_EXTENSION_new_null();
    X509_EXTENSION *alternative = NULL;
    char san[300];
    if (request == NULL || name == NULL || extensions == NULL) goto done;
    if (strlen(hostname) > 253) goto done;
    snprintf(san, sizeof san, "DNS:%s", hostname);
    if (X509_REQ_set_version(request, 0) != 1) goto done;
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)hostname, -1, -1, 0) != 1)
        goto done;
    if (X509_REQ_set_subject_name(request, name) != 1) goto done;
    if (X509_REQ_set_pubkey(request, key) != 1) goto done;
    alternative = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
    if (alternative == NULL || sk_X509_EXTENSION_push(extensions, alternative) == 0) goto done;
    alternative = NULL;
    if (X509_REQ_add_extensions(request, extensions) != 1) goto done;
    if (X509_REQ_sign(request, key, EVP_sha256()) <= 0) goto done;
    *out = NULL;
    length = i2d_X509_REQ(request, out);
    if (length <= 0) length = -1;
done:
    X509_EXTENSION_free(alternative);
    sk_X509_EXTENSION_pop_free(extensions, X509_EXTENSION_free);
    X509_NAME_free(name);
    X509_REQ_free(request);
    return length;
}

int CShims_ACME_ecdsa_der_to_raw(const unsigned char *der, long der_len, unsigned char *raw, int half_width) {
    const unsigned char *cursor = der;
    ECDSA_SIG *signature = d2i_ECDSA_SIG(NULL, &cursor, der_len);
    if (signature == NULL) return 0;
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(signature, &r, &s);
    int ok = BN_bn2binpad(r, raw, half_width) == half_width && BN_bn2binpad(s, raw + half_width, half_width) == half_width;
    ECDSA_SIG_free(signature);
    return ok;
}

long long CShims_ACME_seconds_until_expiry(const char *pem, long pem_len, int *ok) {
    *ok = 0;
    BIO *input = BIO_new_mem_buf(pem, (int)pem_len);
    if (input == NULL) return 0;
    X509 *certificate = PEM_read_bio_X509(input, NULL, NULL, NULL);
    BIO_free(input);
    if (certificate == NULL) return 0;
    int days = 0, seconds = 0;
    int diffed = ASN1_TIME_diff(&days, &seconds, NULL, X509_get0_notAfter(certificate));
    X509_free(certificate);
    if (diffed != 1) return 0;
    *ok = 1;
    return (long long)days * 86400 + seconds;
}
