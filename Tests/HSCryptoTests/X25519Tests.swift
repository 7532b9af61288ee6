import HSCore
import HSCrypto
import Testing

@Suite struct X25519Tests {
    /// RFC 7748 section 5.2: scalar, input u-coordinate, output u-coordinate.
    @Test(arguments: [
        (
            "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
            "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"
        ),
        (
            "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
            "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"
        ),
    ])
    func rfc7748ScalarMultiplication(scalar: String, point: String, expected: String) throws {
        let key = try Curve25519PrivateKey(rawBytes: hexBytes(scalar))
        #expect(try key.sharedSecret(with: hexBytes(point)) == hexBytes(expected))
    }

    /// RFC 7748 section 6.1: the Diffie-Hellman example between Alice and Bob.
    @Test func rfc7748DiffieHellman() throws {
        let alice = try Curve25519PrivateKey(
            rawBytes: hexBytes("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
        )
        let bob = try Curve25519PrivateKey(
            rawBytes: hexBytes("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
        )
        let shared = hexBytes("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
        #expect(alice.publicKeyBytes == hexBytes("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"))
        #expect(bob.publicKeyBytes == hexBytes("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"))
        #expect(try alice.sharedSecret(with: bob.publicKeyBytes) == shared)
        #expect(try bob.sharedSecret(with: alice.publicKeyBytes) == shared)
    }

    @Test func randomKeysAgree() throws {
        let first = Curve25519PrivateKey()
        let second = Curve25519PrivateKey()
        #expect(first.publicKeyBytes != second.publicKeyBytes)
        #expect(try first.sharedSecret(with: second.publicKeyBytes) == second.sharedSecret(with: first.publicKeyBytes))
    }

    @Test func randomKeyIsClamped() throws {
        let raw = Curve25519PrivateKey().rawBytes
        #expect(raw.count == 32)
        #expect(raw[0] & 7 == 0)
        #expect(raw[31] & 0x80 == 0)
        #expect(raw[31] & 0x40 == 0x40)
    }

    @Test func lowOrderPointRejected() throws {
        let key = Curve25519PrivateKey()
        // u = 0 and u = 1 have small order, so every scalar maps them to the all-zero output.
        #expect(throws: CryptoError.self) { try key.sharedSecret(with: [UInt8](repeating: 0, count: 32)) }
        #expect(throws: CryptoError.self) { try key.sharedSecret(with: [1] + [UInt8](repeating: 0, count: 31)) }
    }

    @Test func wrongLengthsRejected() throws {
        #expect(throws: CryptoError.self) { try Curve25519PrivateKey(rawBytes: [UInt8](repeating: 1, count: 31)) }
        let key = Curve25519PrivateKey()
        let error = #expect(throws: CryptoError.self) { try key.sharedSecret(with: [UInt8](repeating: 9, count: 33)) }
        #expect(error?.message.contains("33") == true)
    }

    @Test func privateKeyNeverPrinted() throws {
        let key = try Curve25519PrivateKey(rawBytes: [UInt8](repeating: 0xab, count: 32))
        var dumped = ""
        dump(key, to: &dumped)
        for text in [String(describing: key), String(reflecting: key), "\(key)", dumped] {
            #expect(!text.contains("abab"))
            #expect(!text.contains("171"))
        }
    }

    @Test func constantTimeEquality() throws {
        let key = Curve25519PrivateKey()
        let copy = try Curve25519PrivateKey(rawBytes: key.rawBytes)
        #expect(key.isEqual(to: copy))
        #expect(!key.isEqual(to: Curve25519PrivateKey()))
    }
}
