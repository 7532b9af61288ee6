#include "CShimsOIDC.h"
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

static EVP_PKEY *rsa_public_key(const unsigned char *modulus, size_t modulus_len, const unsigned char *exponent,
                                size_t exponent_len) {
    EVP_PKEY *key = NULL;
    BIGNUM *n = BN_bin2bn(modulus, (int)modulus_len, NULL);
    BIGNUM *e = BN_bin2bn(exponent, (int)exponent_len, NULL);
    OSSL_PARAM_BLD *builder = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *context = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (n == NULL || e == NULL || builder == NULL || context == NULL) goto done;
    if (OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_N, n) != 1) goto done;
    if (OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_E, e) != 1) goto done;
    params = OSSL_PARAM_BLD_to_param(builder);
    if (params == NULL) goto done;
    if (EVP_PKEY_fromdata_init(context) != 1) goto done;
    if (EVP_PKEY_fromdata(context, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) key = NULL;
done:
    EVP_PKEY_CTX_free(context);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(builder);
    BN_free(n);
    BN_free(e);
    return key;
}

int CShims_OIDC_verify_rs256(const unsigned char *modulus, size_t modulus_len, const unsigned char *exponent,
                             size_t exponent_len, const unsigned char *message, size_t message_len,
                             const unsigned char *signature, size_t signature_len) {
    EVP_PKEY *key = rsa_public_key(modulus, modulus_len, exponent, exponent_len);
    if (key == NULL) return -1;
    int result = 0;
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    if (context != NULL && EVP_DigestVerifyInit(context, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestVerify(context, signature, signature_len, message, message_len) == 1) {
        result = 1;
    }
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(key);
    return result;
}
