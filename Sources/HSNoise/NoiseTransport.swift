import HSCrypto

/// One side of an established Noise channel: seals outgoing bytes into records and opens
/// incoming records, with no I/O of its own.
///
/// Record layout: `0x04`, the big-endian u16 ciphertext length, then the ChaCha20-Poly1305
/// ciphertext and its 16-byte tag, with empty associated data. A record is at most 4096 bytes on
/// the wire, so it carries at most 4077 plaintext bytes. Each direction has its own key and its
/// own nonce counter starting at 0. The 12-byte nonce is four zero bytes, then the counter as a
/// big-endian u64, which differs from the Noise specification's little-endian counter.
///
/// A value is not thread-safe; confine it to the connection's serial queue. After a failure the
/// failed direction stays failed and every later call in that direction throws the same error.
public struct NoiseTransport: Sendable {
    // The counter value 2^64-1 is reserved, so a direction fails permanently once its
    // counter reaches it.
    static let nonceLimit = UInt64.max

    // Internal rather than private because NoiseTransport+Open.swift uses the receive state
    // and tests set the send nonce.
    private let sendKey: [UInt8]
    let receiveKey: [UInt8]
    var sendNonce: UInt64 = 0
    var receiveNonce: UInt64 = 0
    /// Bytes of an incomplete record, always fewer than one full record.
    var pending: [UInt8] = []
    private var sendFailure: NoiseError?
    var receiveFailure: NoiseError?

    /// The handshake hash `h` of the handshake that created this transport.
    public let handshakeHash: [UInt8]

    init(sendKey: [UInt8], receiveKey: [UInt8], handshakeHash: [UInt8]) {
        self.sendKey = sendKey
        self.receiveKey = receiveKey
        self.handshakeHash = handshakeHash
    }

    /// Number of received bytes held back because their record is not complete yet.
    public var bufferedByteCount: Int { pending.count }

    /// Encrypts `plaintext` into as many records as it needs, each carrying at most 4077 bytes.
    ///
    /// Empty input produces no records.
    /// - Throws: ``NoiseError`` when the send nonce is exhausted or encryption fails. The send
    ///   direction is then permanently failed.
    public mutating func seal(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        if let sendFailure { throw sendFailure }
        var output: [UInt8] = []
        let recordCount = (plaintext.count + NoiseFrame.maxPlaintextByteCount - 1) / NoiseFrame.maxPlaintextByteCount
        output.reserveCapacity(plaintext.count + recordCount * (NoiseFrame.headerByteCount + 16))
        var offset = 0
        while offset < plaintext.count {
            let end = min(offset + NoiseFrame.maxPlaintextByteCount, plaintext.count)
            do {
                output += try sealRecord(Array(plaintext[offset..<end]))
            } catch {
                sendFailure = error
                throw error
            }
            offset = end
        }
        return output
    }

    /// Encrypts exactly one record, which may be empty. Receivers skip empty records.
    mutating func sealRecord(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard sendNonce < Self.nonceLimit else {
            throw NoiseError(step: "sealing record", "send nonce exhausted after 2^64-1 records; reconnect")
        }
        let ciphertext: [UInt8]
        do {
            ciphertext = try ChaChaPoly.seal(
                key: sendKey,
                nonce: NoiseNonce.encode(sendNonce),
                plaintext: plaintext,
                aad: []
            )
        } catch {
            throw NoiseError(step: "sealing record \(sendNonce)", error.message)
        }
        sendNonce += 1
        return NoiseFrame.header(type: NoiseFrame.recordType, length: ciphertext.count) + ciphertext
    }
}
