internal import COpenSSL
import HSCore

/// An X25519 private key (RFC 7748) with its public key.
///
/// Machine keys, the Noise server key, the DERP server key and ephemeral handshake keys are all
/// of this kind. The type prints as `Curve25519PrivateKey(redacted)`, so a secret cannot end up
/// in a log. It has no `==`; ``isEqual(to:)`` compares keys in constant time.
public struct Curve25519PrivateKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// Length of private keys, public keys and shared secrets in bytes.
    public static let byteCount = 32

    private let scalar: [UInt8]

    /// The 32-byte X25519 public key.
    public let publicKeyBytes: [UInt8]

    /// Generates a new random key.
    ///
    /// The random bytes are clamped as RFC 7748 section 5 and OpenSSL's own key generation do,
    /// so the stored key equals the scalar actually used.
    public init() {
        var bytes = SecureRandom.bytes(Self.byteCount)
        bytes[0] &= 248
        bytes[31] &= 127
        bytes[31] |= 64
        do {
            try self.init(rawBytes: bytes)
        } catch {
            preconditionFailure("deriving the public key of a new X25519 key failed: \(error)")
        }
    }

    /// Creates a key from its 32 raw bytes, as stored in key files. The bytes need not be clamped.
    /// - Throws: ``CryptoError`` when `rawBytes` is not 32 bytes long or OpenSSL rejects it.
    public init(rawBytes: [UInt8]) throws(CryptoError) {
        guard rawBytes.count == Self.byteCount else {
            throw CryptoError("invalid X25519 private key length \(rawBytes.count): expected 32 bytes")
        }
        let key = try Self.makePrivateKey(rawBytes)
        defer { EVP_PKEY_free(key) }
        var publicKey = [UInt8](repeating: 0, count: Self.byteCount)
        var length = publicKey.count
        guard EVP_PKEY_get_raw_public_key(key, &publicKey, &length) == 1, length == Self.byteCount else {
            throw CryptoError.openSSL("deriving an X25519 public key")
        }
        self.scalar = rawBytes
        self.publicKeyBytes = publicKey
    }

    /// The 32 raw private key bytes. Handle them as a secret.
    public var rawBytes: [UInt8] { scalar }

    public var description: String { "Curve25519PrivateKey(redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [:]) }

    /// Returns whether both keys hold the same bytes, comparing in constant time.
    public func isEqual(to other: Curve25519PrivateKey) -> Bool {
        scalar.withUnsafeBytes { lhs in
            other.scalar.withUnsafeBytes { rhs in CRYPTO_memcmp(lhs.baseAddress, rhs.baseAddress, lhs.count) == 0 }
        }
    }

    /// Computes the X25519 shared secret with a peer's 32-byte public key.
    /// - Throws: ``CryptoError`` when the public key is not 32 bytes long, or when the result is
    ///   all zeros, which happens for low-order peer keys and must abort the exchange.
    public func sharedSecret(with publicKey: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard publicKey.count == Self.byteCount else {
            throw CryptoError("invalid X25519 public key length \(publicKey.count): expected 32 bytes")
        }
        let privateKey = try Self.makePrivateKey(scalar)
        defer { EVP_PKEY_free(privateKey) }
        guard let peerKey = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nil, publicKey, publicKey.count) else {
            throw CryptoError.openSSL("loading an X25519 peer public key")
        }
        defer { EVP_PKEY_free(peerKey) }
        let secret = try Self.derive(privateKey: privateKey, peerKey: peerKey)
        guard secret.contains(where: { $0 != 0 }) else {
            throw CryptoError("X25519 with peer public key \(Hex.encode(publicKey)) gave an all-zero secret")
        }
        return secret
    }

    private static func makePrivateKey(_ bytes: [UInt8]) throws(CryptoError) -> OpaquePointer {
        guard let key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nil, bytes, bytes.count) else {
            throw CryptoError.openSSL("loading an X25519 private key")
        }
        return key
    }

    private static func derive(privateKey: OpaquePointer, peerKey: OpaquePointer) throws(CryptoError) -> [UInt8] {
        guard let context = EVP_PKEY_CTX_new(privateKey, nil) else {
            throw CryptoError.openSSL("allocating an X25519 context")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_derive_init(context) == 1, EVP_PKEY_derive_set_peer(context, peerKey) == 1 else {
            throw CryptoError.openSSL("setting up X25519 key agreement")
        }
        var secret = [UInt8](repeating: 0, count: byteCount)
        var length = secret.count
        // OpenSSL itself fails the derivation when the result is all zeros (a low-order peer key).
        guard EVP_PKEY_derive(context, &secret, &length) == 1, length == byteCount else {
            let reasons = CryptoError.drainOpenSSLErrors().joined(separator: "; ")
            throw CryptoError("X25519 key agreement failed (a low-order peer public key causes this): \(reasons)")
        }
        return secret
    }
}
