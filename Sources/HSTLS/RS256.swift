import COpenSSL
import CShims

/// Checks JWS `RS256` signatures (RSASSA-PKCS1-v1_5 with SHA-256), as OpenID providers sign ID tokens.
public enum RS256 {
    /// Returns whether `signature` over `message` verifies with the RSA key (`n`, `e`) given as
    /// big-endian bytes, the form a JSON Web Key carries. A key OpenSSL cannot build, such as
    /// one shorter than 2048 bits, never verifies.
    public static func verify(signature: [UInt8], message: [UInt8], modulus: [UInt8], exponent: [UInt8]) -> Bool {
        guard modulus.count >= 256, modulus.count <= 1024, !exponent.isEmpty, exponent.count <= 8 else { return false }
        ERR_clear_error()
        let result = CShims_OIDC_verify_rs256(
            modulus,
            modulus.count,
            exponent,
            exponent.count,
            message,
            message.count,
            signature,
            signature.count
        )
        ERR_clear_error()
        return result == 1
    }
}
