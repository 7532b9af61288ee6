import HSCrypto
import Testing

/// Expected values for HMAC and HKDF were computed with Python's `hmac` and `hashlib.blake2s`,
/// an implementation independent of OpenSSL.
@Suite struct DigestTests {
    @Test func blake2sAbcVector() {
        // RFC 7693 appendix B.
        #expect(
            BLAKE2s.hash(Array("abc".utf8))
                == hexBytes("508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982")
        )
    }

    @Test func blake2sEmptyInput() {
        #expect(BLAKE2s.hash([]) == hexBytes("69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9"))
    }

    @Test func blake2sConcatenationMatches() {
        let parts: [[UInt8]] = [Array("a".utf8), [], Array("bc".utf8)]
        #expect(BLAKE2s.hash(concatenating: parts) == BLAKE2s.hash(Array("abc".utf8)))
    }

    @Test func sha256AbcVector() {
        // FIPS 180-2 appendix B.1.
        #expect(
            SHA256.hash(Array("abc".utf8))
                == hexBytes("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        )
    }

    @Test func hmacShortKey() {
        let key = (0..<32).map { UInt8($0) }
        let mac = BLAKE2s.hmac(key: key, data: Array("Tailscale Control Protocol v130".utf8))
        #expect(mac == hexBytes("b4bdb5bec0609d21b36eb10f4e7b9b80cd9906ba721d7822ba9e0d0a9764d1a9"))
    }

    @Test func hmacKeyLongerThanBlock() {
        let key = (0..<100).map { UInt8($0) }
        let mac = BLAKE2s.hmac(key: key, data: Array("Tailscale Control Protocol v130".utf8))
        #expect(mac == hexBytes("b6423ad0cc737572ec298a02d9090b932087d604bfd958e51f66f9471fdf02cd"))
    }

    @Test func hkdfThreeOutputs() {
        let outputs = HKDFBLAKE2s.derive(
            chainingKey: [UInt8](repeating: 7, count: 32),
            inputKeyMaterial: (0..<32).map { UInt8($0) },
            outputCount: 3
        )
        #expect(outputs.count == 3)
        #expect(outputs[0] == hexBytes("c15d974fb97a3804e29279ba6e4bd523a7a8fe443369c94ceba40ae1ca6cf2b3"))
        #expect(outputs[1] == hexBytes("a3cb6c3dfaaa586ff411268cba5cd52e64a222b31a5ca4c88d6cfce1eeeaaef7"))
        #expect(outputs[2] == hexBytes("5e13e30346c784d3bafcf9df45b00b383b463c05fdff2d098d05fd685bb9745a"))
    }

    @Test func hkdfPrefixConsistent() {
        let chainingKey = BLAKE2s.hash(Array("chaining".utf8))
        let material = SecureRandom.bytes(32)
        let two = HKDFBLAKE2s.derive(chainingKey: chainingKey, inputKeyMaterial: material, outputCount: 2)
        let three = HKDFBLAKE2s.derive(chainingKey: chainingKey, inputKeyMaterial: material, outputCount: 3)
        #expect(two == Array(three.prefix(2)))
        let pseudoRandomKey = BLAKE2s.hmac(key: chainingKey, data: material)
        #expect(two[0] == BLAKE2s.hmac(key: pseudoRandomKey, data: [1]))
        #expect(two[1] == BLAKE2s.hmac(key: pseudoRandomKey, data: two[0] + [2]))
    }

    @Test func randomBytesDiffer() {
        let first = SecureRandom.bytes(32)
        #expect(first.count == 32)
        #expect(first != SecureRandom.bytes(32))
        #expect(SecureRandom.bytes(0).isEmpty)
    }
}
