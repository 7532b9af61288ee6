import HSCrypto
import Testing

@Suite struct ChaChaPolyTests {
    /// RFC 8439 section 2.8.2: AEAD_CHACHA20_POLY1305 sample.
    static let key = (0x80...0x9f).map { UInt8($0) }
    static let nonce = hexBytes("07000000 40414243 44454647")
    static let aad = hexBytes("50515253 c0c1c2c3 c4c5c6c7")
    static let plaintext = Array(
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
            .utf8
    )
    static let ciphertext = hexBytes(
        """
        d31a8d34648e60db7b86afbc53ef7ec2 a4aded51296e08fea9e2b5a736ee62d6 3dbea45e8ca9671282fafb69da92728b
        1a71de0a9e060b2905d6a5b67ecd3b36 92ddbd7f2d778b8c9803aee328091b58 fab324e4fad675945585808b4831d7bc
        3ff4def08e4b7a9de576d26586cec64b 6116
        """
    )
    static let tag = hexBytes("1ae10b594f09e26a7e902ecbd0600691")

    @Test func rfc8439Seal() throws {
        let sealed = try ChaChaPoly.seal(key: Self.key, nonce: Self.nonce, plaintext: Self.plaintext, aad: Self.aad)
        #expect(sealed == Self.ciphertext + Self.tag)
    }

    @Test func rfc8439Open() throws {
        let opened = try ChaChaPoly.open(
            key: Self.key,
            nonce: Self.nonce,
            ciphertext: Self.ciphertext + Self.tag,
            aad: Self.aad
        )
        #expect(opened == Self.plaintext)
    }

    @Test func emptyPlaintextRoundTrip() throws {
        let sealed = try ChaChaPoly.seal(key: Self.key, nonce: Self.nonce, plaintext: [], aad: [])
        #expect(sealed.count == 16)
        #expect(try ChaChaPoly.open(key: Self.key, nonce: Self.nonce, ciphertext: sealed, aad: []) == [])
    }

    @Test func tamperedInputRejected() throws {
        let sealed = Self.ciphertext + Self.tag
        for index in [0, 57, sealed.count - 1] {
            var tampered = sealed
            tampered[index] ^= 0x01
            #expect(throws: CryptoError.self) {
                try ChaChaPoly.open(key: Self.key, nonce: Self.nonce, ciphertext: tampered, aad: Self.aad)
            }
        }
        var otherAAD = Self.aad
        otherAAD[0] ^= 0x80
        #expect(throws: CryptoError.self) {
            try ChaChaPoly.open(key: Self.key, nonce: Self.nonce, ciphertext: sealed, aad: otherAAD)
        }
        var otherNonce = Self.nonce
        otherNonce[11] ^= 0x01
        #expect(throws: CryptoError.self) {
            try ChaChaPoly.open(key: Self.key, nonce: otherNonce, ciphertext: sealed, aad: Self.aad)
        }
    }

    @Test func malformedArgumentsRejected() throws {
        #expect(throws: CryptoError.self) {
            try ChaChaPoly.seal(key: [UInt8](repeating: 0, count: 16), nonce: Self.nonce, plaintext: [], aad: [])
        }
        #expect(throws: CryptoError.self) {
            try ChaChaPoly.seal(key: Self.key, nonce: [UInt8](repeating: 0, count: 8), plaintext: [], aad: [])
        }
        #expect(throws: CryptoError.self) {
            try ChaChaPoly.open(key: Self.key, nonce: Self.nonce, ciphertext: [1, 2, 3], aad: [])
        }
    }
}
