import HSCrypto
import Testing

@testable import HSNoise

@Suite struct NoiseTransportTests {
    @Test func recordsFlowBothWays() throws {
        var pair = try HandshakePair()
        for round in 0..<5 {
            let request = Array("request \(round)".utf8)
            #expect(try pair.server.transport.open(pair.client.seal(request)) == request)
            let reply = Array("reply \(round)".utf8)
            #expect(try pair.client.open(pair.server.transport.seal(reply)) == reply)
        }
    }

    @Test func largeWriteSplitsIntoRecords() throws {
        var pair = try HandshakePair()
        let plaintext = SecureRandom.bytes(4077 * 2 + 10)
        let wire = try pair.server.transport.seal(plaintext)
        #expect(wire.count == plaintext.count + 3 * (3 + 16))
        // First record: type 4, length 4093 (0x0ffd), so exactly 4096 bytes on the wire.
        #expect(Array(wire.prefix(3)) == [0x04, 0x0f, 0xfd])
        #expect(Array(wire[4096..<4099]) == [0x04, 0x0f, 0xfd])
        #expect(Array(wire[8192..<8195]) == [0x04, 0x00, 26])
        #expect(try pair.client.open(wire) == plaintext)
    }

    @Test func exactRecordSizeNotSplit() throws {
        var pair = try HandshakePair()
        let wire = try pair.client.seal([UInt8](repeating: 7, count: 4077))
        #expect(wire.count == 4096)
        #expect(try pair.server.transport.open(wire) == [UInt8](repeating: 7, count: 4077))
    }

    @Test func emptyWriteProducesNothing() throws {
        var pair = try HandshakePair()
        #expect(try pair.client.seal([]) == [])
    }

    @Test func emptyRecordSkipped() throws {
        var pair = try HandshakePair()
        let empty = try pair.client.sealRecord([])
        #expect(empty.count == 19)
        let data = try pair.client.seal([1, 2, 3])
        #expect(try pair.server.transport.open(empty) == [])
        #expect(try pair.server.transport.open(data) == [1, 2, 3])
    }

    @Test func oneByteAtATime() throws {
        var pair = try HandshakePair()
        let first = Array("first".utf8)
        let second = SecureRandom.bytes(5000)
        let wire = try pair.client.seal(first) + pair.client.seal(second)
        var received: [UInt8] = []
        for byte in wire {
            received += try pair.server.transport.open([byte])
        }
        #expect(received == first + second)
        #expect(pair.server.transport.bufferedByteCount == 0)
    }

    @Test func partialRecordBuffered() throws {
        var pair = try HandshakePair()
        let wire = try pair.client.seal(Array("hello".utf8)) + pair.client.seal(Array("world".utf8))
        let split = 24 + 5
        #expect(try pair.server.transport.open(Array(wire[..<split])) == Array("hello".utf8))
        #expect(pair.server.transport.bufferedByteCount == 5)
        #expect(try pair.server.transport.open(Array(wire[split...])) == Array("world".utf8))
    }

    @Test func nonceIsBigEndianCounter() throws {
        let key = SecureRandom.bytes(32)
        var transport = NoiseTransport(sendKey: key, receiveKey: SecureRandom.bytes(32), handshakeHash: [])
        _ = try transport.seal([0])
        let second = try transport.seal(Array("second".utf8))
        let nonceOne = hexBytes("00000000 0000000000000001")
        let expected = try ChaChaPoly.seal(key: key, nonce: nonceOne, plaintext: Array("second".utf8), aad: [])
        #expect(Array(second.dropFirst(3)) == expected)
        #expect(NoiseNonce.encode(0x0102_0304_0506_0708) == hexBytes("00000000 0102030405060708"))
    }

    @Test func tamperedRecordFailsPermanently() throws {
        var pair = try HandshakePair()
        var wire = try pair.client.seal(Array("payload".utf8))
        wire[5] ^= 0x01
        let error = #expect(throws: NoiseError.self) { try pair.server.transport.open(wire) }
        #expect(error?.message.hasPrefix("opening record 0") == true)
        let valid = try pair.client.seal(Array("later".utf8))
        #expect(throws: NoiseError.self) { try pair.server.transport.open(valid) }
    }

    @Test func replayedRecordRejected() throws {
        var pair = try HandshakePair()
        let wire = try pair.client.seal(Array("once".utf8))
        #expect(try pair.server.transport.open(wire) == Array("once".utf8))
        #expect(throws: NoiseError.self) { try pair.server.transport.open(wire) }
    }

    @Test func wrongDirectionKeyRejected() throws {
        var pair = try HandshakePair()
        // The client's own record must not open on the client, because each direction has its own key.
        let wire = try pair.client.seal(Array("loop".utf8))
        #expect(throws: NoiseError.self) { try pair.client.open(wire) }
    }

    @Test func malformedHeadersRejected() throws {
        var pair = try HandshakePair()
        let cases: [(bytes: [UInt8], fragment: String)] = [
            ([0x03, 0x00, 0x10], "unexpected frame type 3"),
            ([0x04, 0x0f, 0xfe], "record length 4094 exceeds"),
            ([0x04, 0x00, 0x0f], "record length 15 is shorter"),
        ]
        for testCase in cases {
            var transport = pair.server.transport
            let error = #expect(throws: NoiseError.self) { try transport.open(testCase.bytes) }
            #expect(error?.message.contains(testCase.fragment) == true, "header \(testCase.bytes)")
        }
        #expect(try pair.server.transport.open(pair.client.seal([9])) == [9])
    }

    @Test func exhaustedNonceRejected() throws {
        var transport = NoiseTransport(
            sendKey: SecureRandom.bytes(32),
            receiveKey: SecureRandom.bytes(32),
            handshakeHash: []
        )
        transport.sendNonce = UInt64.max - 1
        _ = try transport.seal([1])
        let error = #expect(throws: NoiseError.self) { try transport.seal([2]) }
        #expect(error?.message.contains("nonce exhausted") == true)
    }
}
