import HSCrypto

/// Noise's `SymmetricState` with its embedded `CipherState`, fixed to
/// `Noise_IK_25519_ChaChaPoly_BLAKE2s`.
///
/// In the IK pattern every `MixKey` is followed by at most one encryption before the next
/// `MixKey`, so handshake encryptions always use nonce 0, where Tailscale's big-endian nonce and
/// the Noise specification's little-endian nonce agree.
struct SymmetricState: Sendable {
    static let protocolName = Array("Noise_IK_25519_ChaChaPoly_BLAKE2s".utf8)

    /// Chaining key `ck`.
    private(set) var chainingKey: [UInt8]
    /// Handshake hash `h`, also the associated data of every handshake encryption.
    private(set) var handshakeHash: [UInt8]
    /// Cipher key `k`, nil until the first `MixKey`.
    private var key: [UInt8]?
    private var nonce: UInt64 = 0

    /// Runs `InitializeSymmetric` with the protocol name, then `MixHash(prologue)`.
    init(prologue: [UInt8]) {
        // The 33-byte protocol name is longer than BLAKE2s's 32-byte output, so Noise hashes it.
        let initial = BLAKE2s.hash(Self.protocolName)
        chainingKey = initial
        handshakeHash = initial
        mixHash(prologue)
    }

    mutating func mixHash(_ data: [UInt8]) {
        handshakeHash = BLAKE2s.hash(concatenating: [handshakeHash, data])
    }

    mutating func mixKey(_ inputKeyMaterial: [UInt8]) {
        let outputs = HKDFBLAKE2s.derive(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial, outputCount: 2)
        chainingKey = outputs[0]
        key = outputs[1]
        nonce = 0
    }

    /// Runs `MixKey(DH(local, remote))`; `step` names the DH token for error messages.
    mutating func mixKey(
        diffieHellman local: Curve25519PrivateKey,
        _ remote: [UInt8],
        step: String
    ) throws(NoiseError) {
        do {
            mixKey(try local.sharedSecret(with: remote))
        } catch {
            throw NoiseError(step: step, error.message)
        }
    }

    mutating func encryptAndHash(_ plaintext: [UInt8], step: String) throws(NoiseError) -> [UInt8] {
        guard let key else { preconditionFailure("Noise pattern encrypts before MixKey") }
        let ciphertext: [UInt8]
        do {
            ciphertext = try ChaChaPoly.seal(
                key: key,
                nonce: NoiseNonce.encode(nonce),
                plaintext: plaintext,
                aad: handshakeHash
            )
        } catch {
            throw NoiseError(step: step, error.message)
        }
        nonce += 1
        mixHash(ciphertext)
        return ciphertext
    }

    mutating func decryptAndHash(_ ciphertext: [UInt8], step: String) throws(NoiseError) -> [UInt8] {
        guard let key else { preconditionFailure("Noise pattern decrypts before MixKey") }
        let plaintext: [UInt8]
        do {
            plaintext = try ChaChaPoly.open(
                key: key,
                nonce: NoiseNonce.encode(nonce),
                ciphertext: ciphertext,
                aad: handshakeHash
            )
        } catch {
            throw NoiseError(step: step, error.message)
        }
        nonce += 1
        mixHash(ciphertext)
        return plaintext
    }

    /// Runs `Split`: returns the initiator-to-responder key, then the responder-to-initiator key.
    func split() -> (initiatorToResponder: [UInt8], responderToInitiator: [UInt8]) {
        let outputs = HKDFBLAKE2s.derive(chainingKey: chainingKey, inputKeyMaterial: [], outputCount: 2)
        return (outputs[0], outputs[1])
    }
}

/// Tailscale's 12-byte ChaCha20-Poly1305 nonce: four zero bytes, then the counter as a
/// big-endian u64. The Noise specification puts a little-endian counter there instead.
enum NoiseNonce {
    static func encode(_ counter: UInt64) -> [UInt8] {
        var nonce = [UInt8](repeating: 0, count: 12)
        for index in 0..<8 {
            nonce[4 + index] = UInt8(truncatingIfNeeded: counter >> (56 - 8 * UInt64(index)))
        }
        return nonce
    }
}
