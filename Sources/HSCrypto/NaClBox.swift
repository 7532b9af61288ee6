internal import CSodium

/// NaCl `crypto_box` (Curve25519-XSalsa20-Poly1305) through libsodium, as DERP uses it for the
/// ClientInfo and ServerInfo frames.
///
/// Keys are raw 32-byte Curve25519 keys, nonces are 24 bytes, and a sealed box is the 16-byte
/// Poly1305 tag followed by the ciphertext (libsodium's "easy" layout, the same bytes Go's
/// `nacl/box.Seal` appends). Every function is thread-safe.
public enum NaClBox {
    /// Length of a Curve25519 public or private key.
    public static let keyLength = 32
    /// Length of a box nonce.
    public static let nonceLength = 24
    /// Bytes a sealed box adds to its message: the Poly1305 tag.
    public static let overheadLength = 16

    /// The result of `sodium_init`, run once per process because Swift initialises a static `let`
    /// lazily with `swift_once`, which is safe under concurrent first use.
    private static let isInitialized: Bool = sodium_init() >= 0

    private static func ensureInitialized() {
        // A failed sodium_init leaves libsodium's random generator unusable, so no key or nonce
        // generated afterwards could be trusted.
        precondition(isInitialized, "sodium_init failed: libsodium found no usable random source")
    }

    /// Encrypts and authenticates `message` from the sender to the recipient.
    ///
    /// - Returns: `message.count + 16` bytes: the tag, then the ciphertext.
    /// - Throws: ``NaClBoxError`` when a key or the nonce has the wrong length, or when libsodium
    ///   rejects the recipient key (a low-order point).
    public static func seal(
        _ message: [UInt8],
        nonce: [UInt8],
        recipientPublicKey: [UInt8],
        senderPrivateKey: [UInt8]
    ) throws(NaClBoxError) -> [UInt8] {
        ensureInitialized()
        try checkLength(nonce, nonceLength, "nonce")
        try checkLength(recipientPublicKey, keyLength, "recipient public key")
        try checkLength(senderPrivateKey, keyLength, "sender private key")

        var box = [UInt8](repeating: 0, count: message.count + overheadLength)
        let status = crypto_box_easy(
            &box,
            message,
            UInt64(message.count),
            nonce,
            recipientPublicKey,
            senderPrivateKey
        )
        guard status == 0 else {
            throw NaClBoxError(message: "crypto_box_easy failed: the recipient public key is a low-order point")
        }
        return box
    }

    /// Verifies and decrypts a box sealed by ``seal(_:nonce:recipientPublicKey:senderPrivateKey:)``.
    ///
    /// - Throws: ``NaClBoxError`` when a length is wrong, the box is shorter than its tag, or the tag
    ///   does not verify (wrong keys, wrong nonce or tampered bytes).
    public static func open(
        _ box: [UInt8],
        nonce: [UInt8],
        senderPublicKey: [UInt8],
        recipientPrivateKey: [UInt8]
    ) throws(NaClBoxError) -> [UInt8] {
        ensureInitialized()
        try checkLength(nonce, nonceLength, "nonce")
        try checkLength(senderPublicKey, keyLength, "sender public key")
        try checkLength(recipientPrivateKey, keyLength, "recipient private key")
        guard box.count >= overheadLength else {
            throw NaClBoxError(message: "box of \(box.count) bytes is shorter than its \(overheadLength)-byte tag")
        }

        var message = [UInt8](repeating: 0, count: box.count - overheadLength)
        let status = crypto_box_open_easy(
            &message,
            box,
            UInt64(box.count),
            nonce,
            senderPublicKey,
            recipientPrivateKey
        )
        guard status == 0 else {
            throw NaClBoxError(
                message: "box of \(box.count) bytes failed authentication: wrong keys or nonce, or tampered bytes"
            )
        }
        return message
    }

    /// Derives the Curve25519 public key of a 32-byte private key (X25519 with the base point).
    ///
    /// - Precondition: `privateKey` is 32 bytes. Private keys come from the server's own key file,
    ///   which its loader validates, never from the network.
    public static func publicKey(forPrivateKey privateKey: [UInt8]) -> [UInt8] {
        ensureInitialized()
        precondition(privateKey.count == keyLength, "a Curve25519 private key is 32 bytes, not \(privateKey.count)")
        var publicKey = [UInt8](repeating: 0, count: keyLength)
        // crypto_scalarmult_base fails only for a result of all zeros, which no clamped scalar gives.
        _ = crypto_scalarmult_base(&publicKey, privateKey)
        return publicKey
    }

    /// Returns `count` bytes from libsodium's cryptographically secure generator.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        ensureInitialized()
        var bytes = [UInt8](repeating: 0, count: max(count, 0))
        randombytes_buf(&bytes, bytes.count)
        return bytes
    }

    /// Returns a fresh random 32-byte Curve25519 private key.
    public static func makePrivateKey() -> [UInt8] {
        randomBytes(keyLength)
    }

    private static func checkLength(_ bytes: [UInt8], _ expected: Int, _ name: String) throws(NaClBoxError) {
        guard bytes.count == expected else {
            throw NaClBoxError(message: "invalid \(name): expected \(expected) bytes, got \(bytes.count)")
        }
    }
}

/// A failure of ``NaClBox``: the message names the input that was wrong.
public struct NaClBoxError: Error, Sendable, CustomStringConvertible {
    /// The failure and the value involved.
    public let message: String

    public var description: String { message }
}
