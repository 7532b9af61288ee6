internal import COpenSSL

/// BLAKE2s-256 (RFC 7693) and HMAC-BLAKE2s (RFC 2104), the hash functions of the Noise protocol
/// instance `Noise_IK_25519_ChaChaPoly_BLAKE2s`.
public enum BLAKE2s {
    /// Output length in bytes.
    public static let outputByteCount = 32
    /// Input block length in bytes, which is also HMAC's block length.
    public static let blockByteCount = 64

    /// Returns the 32-byte BLAKE2s-256 digest of `data` (unkeyed).
    public static func hash(_ data: [UInt8]) -> [UInt8] {
        digest(OpenSSLAlgorithms.shared.blake2s, parts: [data])
    }

    /// Returns the BLAKE2s-256 digest of the concatenation of `parts`, without building it.
    public static func hash(concatenating parts: [[UInt8]]) -> [UInt8] {
        digest(OpenSSLAlgorithms.shared.blake2s, parts: parts)
    }

    /// Returns HMAC-BLAKE2s of `data` under `key`: RFC 2104 with a 64-byte block, as Noise
    /// requires, and not BLAKE2s's built-in keyed mode. Keys longer than 64 bytes are hashed first.
    public static func hmac(key: [UInt8], data: [UInt8]) -> [UInt8] {
        hmac(key: key, parts: [data])
    }

    static func hmac(key: [UInt8], parts: [[UInt8]]) -> [UInt8] {
        var blockKey = key.count > blockByteCount ? hash(key) : key
        blockKey += [UInt8](repeating: 0, count: blockByteCount - blockKey.count)
        let innerPad = blockKey.map { $0 ^ 0x36 }
        let outerPad = blockKey.map { $0 ^ 0x5c }
        let inner = hash(concatenating: [innerPad] + parts)
        return hash(concatenating: [outerPad, inner])
    }
}

/// SHA-256 (FIPS 180-4).
public enum SHA256 {
    /// Returns the 32-byte SHA-256 digest of `data`.
    public static func hash(_ data: [UInt8]) -> [UInt8] {
        digest(OpenSSLAlgorithms.shared.sha256, parts: [data])
    }
}

/// Hashes the concatenation of `parts` with an OpenSSL digest.
///
/// A digest over memory can only fail when OpenSSL cannot allocate, so failure stops the process
/// instead of making every hash call site handle an error that does not occur in practice.
private func digest(_ algorithm: OpaquePointer, parts: [[UInt8]]) -> [UInt8] {
    guard let context = EVP_MD_CTX_new() else {
        preconditionFailure("\(CryptoError.openSSL("allocating a digest context"))")
    }
    defer { EVP_MD_CTX_free(context) }
    guard EVP_DigestInit_ex2(context, algorithm, nil) == 1 else {
        preconditionFailure("\(CryptoError.openSSL("initialising a digest"))")
    }
    for part in parts where !part.isEmpty {
        let status = part.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
        precondition(status == 1, "\(CryptoError.openSSL("hashing"))")
    }
    var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    guard EVP_DigestFinal_ex(context, &output, &length) == 1 else {
        preconditionFailure("\(CryptoError.openSSL("finishing a digest"))")
    }
    return Array(output[..<Int(length)])
}
