internal import COpenSSL

/// Algorithm objects fetched from OpenSSL's default provider once per process.
///
/// Fetching explicitly avoids the implicit fetch that `EVP_chacha20_poly1305()` and friends
/// repeat on every `Init` call in OpenSSL 3.
// Safety: fetched EVP_MD and EVP_CIPHER objects are immutable after fetching, and OpenSSL 3
// documents them as safe to share between threads, so the unchecked Sendable is sound.
final class OpenSSLAlgorithms: @unchecked Sendable {
    static let shared = OpenSSLAlgorithms()

    /// BLAKE2s with a 32-byte output (OpenSSL name "BLAKE2S-256").
    let blake2s: OpaquePointer
    let sha256: OpaquePointer
    let chaCha20Poly1305: OpaquePointer

    private init() {
        blake2s = Self.fetchDigest("BLAKE2S-256")
        sha256 = Self.fetchDigest("SHA256")
        guard let cipher = EVP_CIPHER_fetch(nil, "ChaCha20-Poly1305", nil) else {
            // Without these primitives no connection can be served, so this is a setup fault,
            // such as a FIPS-only OpenSSL configuration, and not a runtime condition.
            preconditionFailure("\(CryptoError.openSSL("fetching cipher ChaCha20-Poly1305 from OpenSSL"))")
        }
        chaCha20Poly1305 = cipher
    }

    private static func fetchDigest(_ name: String) -> OpaquePointer {
        guard let digest = EVP_MD_fetch(nil, name, nil) else {
            preconditionFailure("\(CryptoError.openSSL("fetching digest \(name) from OpenSSL"))")
        }
        return digest
    }
}
