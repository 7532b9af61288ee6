import HSCrypto

extension NoiseTransport {
    /// Feeds received bytes and returns the plaintext of every record they complete, in order.
    ///
    /// `incoming` may hold any part of the stream: partial records are kept until the rest
    /// arrives, and empty records add nothing to the output.
    /// - Throws: ``NoiseError`` for a frame type other than `0x04`, a length over 4093 or under
    ///   16, or a record that fails to decrypt. The receive direction is then permanently failed,
    ///   and the caller should close the connection.
    public mutating func open(_ incoming: [UInt8]) throws(NoiseError) -> [UInt8] {
        if let receiveFailure { throw receiveFailure }
        pending += incoming
        var output: [UInt8] = []
        var offset = 0
        do {
            while let record = try nextRecord(at: offset) {
                output += try openRecord(Array(pending[record]))
                offset = record.upperBound
            }
        } catch {
            receiveFailure = error
            pending = []
            throw error
        }
        pending.removeFirst(offset)
        return output
    }

    /// Returns the ciphertext range of the record that starts at `offset`, or nil when the
    /// record is not complete yet.
    private func nextRecord(at offset: Int) throws(NoiseError) -> Range<Int>? {
        guard pending.count - offset >= NoiseFrame.headerByteCount else { return nil }
        let type = pending[offset]
        guard type == NoiseFrame.recordType else {
            throw NoiseError(
                step: "reading record header",
                "unexpected frame type \(type), expected \(NoiseFrame.recordType) (transport record)"
            )
        }
        let length = NoiseFrame.readUInt16(pending, at: offset + 1)
        guard length <= NoiseFrame.maxCiphertextByteCount else {
            throw NoiseError(
                step: "reading record header",
                "record length \(length) exceeds the maximum \(NoiseFrame.maxCiphertextByteCount)"
            )
        }
        guard length >= ChaChaPoly.tagByteCount else {
            throw NoiseError(
                step: "reading record header",
                "record length \(length) is shorter than the \(ChaChaPoly.tagByteCount)-byte tag"
            )
        }
        let start = offset + NoiseFrame.headerByteCount
        guard pending.count - start >= length else { return nil }
        return start..<(start + length)
    }

    private mutating func openRecord(_ ciphertext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard receiveNonce < Self.nonceLimit else {
            throw NoiseError(step: "opening record", "receive nonce exhausted after 2^64-1 records; reconnect")
        }
        let plaintext: [UInt8]
        do {
            plaintext = try ChaChaPoly.open(
                key: receiveKey,
                nonce: NoiseNonce.encode(receiveNonce),
                ciphertext: ciphertext,
                aad: []
            )
        } catch {
            throw NoiseError(step: "opening record \(receiveNonce)", error.message)
        }
        receiveNonce += 1
        return plaintext
    }
}
