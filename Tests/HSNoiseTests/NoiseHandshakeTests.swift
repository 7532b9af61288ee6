import HSCore
import HSCrypto
import Testing

@testable import HSNoise

/// A completed handshake between our initiator and our responder.
struct HandshakePair {
    let serverKey = Curve25519PrivateKey()
    let machineKey = Curve25519PrivateKey()
    var client: NoiseTransport
    var server: NoiseHandshakeResult

    init(version: UInt16 = 130) throws {
        let serverPublic = try #require(MachinePublicKey(bytes: serverKey.publicKeyBytes))
        let initiator = try NoiseInitiator(
            machineKey: machineKey,
            serverPublicKey: serverPublic,
            protocolVersion: version
        )
        server = try NoiseHandshake.respond(to: initiator.initiation, serverKey: serverKey)
        client = try initiator.complete(response: server.response)
    }
}

@Suite struct NoiseHandshakeTests {
    @Test func handshakeCompletesBothSides() throws {
        let pair = try HandshakePair(version: 130)
        #expect(pair.server.response.count == 51)
        #expect(Array(pair.server.response.prefix(3)) == [0x02, 0x00, 0x30])
        #expect(pair.server.protocolVersion == 130)
        #expect(pair.server.peerMachineKey.bytes == pair.machineKey.publicKeyBytes)
        #expect(pair.server.handshakeHash.count == 32)
        #expect(pair.server.handshakeHash == pair.client.handshakeHash)
        #expect(pair.server.transport.handshakeHash == pair.server.handshakeHash)
    }

    @Test func initiationLayout() throws {
        let serverKey = Curve25519PrivateKey()
        let ephemeral = Curve25519PrivateKey()
        let initiator = try NoiseInitiator(
            machineKey: Curve25519PrivateKey(),
            serverPublicKey: try #require(MachinePublicKey(bytes: serverKey.publicKeyBytes)),
            protocolVersion: 0x1234,
            ephemeralKey: ephemeral
        )
        let message = initiator.initiation
        #expect(message.count == 101)
        #expect(Array(message[0..<5]) == [0x12, 0x34, 0x01, 0x00, 0x60])
        #expect(Array(message[5..<37]) == ephemeral.publicKeyBytes)
    }

    @Test func prologueUsesDecimalVersion() {
        #expect(NoiseHandshake.prologue(version: 130) == Array("Tailscale Control Protocol v130".utf8))
        #expect(NoiseHandshake.prologue(version: 7) == Array("Tailscale Control Protocol v7".utf8))
    }

    @Test func wrongLengthRejected() throws {
        let error = #expect(throws: NoiseError.self) {
            try NoiseHandshake.respond(to: [UInt8](repeating: 0, count: 12), serverKey: Curve25519PrivateKey())
        }
        #expect(error?.message == "reading initiation header: wrong length 12, expected 101")
        #expect(error?.errorFrameText != nil)
    }

    @Test func wrongTypeAndLengthRejected() throws {
        let serverKey = Curve25519PrivateKey()
        let initiation = try makeInitiation(serverKey: serverKey)
        var wrongType = initiation
        wrongType[2] = 0x02
        let typeError = #expect(throws: NoiseError.self) {
            try NoiseHandshake.respond(to: wrongType, serverKey: serverKey)
        }
        #expect(typeError?.message.contains("unexpected message type 2") == true)
        var wrongLength = initiation
        wrongLength[4] = 0x61
        let lengthError = #expect(throws: NoiseError.self) {
            try NoiseHandshake.respond(to: wrongLength, serverKey: serverKey)
        }
        #expect(lengthError?.message.contains("wrong payload length 97") == true)
    }

    @Test func everyTamperedInitiationByteRejected() throws {
        let serverKey = Curve25519PrivateKey()
        let initiation = try makeInitiation(serverKey: serverKey)
        // Bytes 0-1 are the version, which only changes the prologue, so flipping them must fail too.
        for index in initiation.indices {
            var tampered = initiation
            tampered[index] ^= 0x01
            #expect(throws: NoiseError.self, "flipped byte \(index)") {
                try NoiseHandshake.respond(to: tampered, serverKey: serverKey)
            }
        }
    }

    @Test func decryptFailureSendsNoErrorFrame() throws {
        let serverKey = Curve25519PrivateKey()
        var initiation = try makeInitiation(serverKey: serverKey)
        initiation[100] ^= 0x80
        let error = #expect(throws: NoiseError.self) {
            try NoiseHandshake.respond(to: initiation, serverKey: serverKey)
        }
        #expect(error?.errorFrameText == nil)
        #expect(error?.message.hasPrefix("verifying initiation payload tag") == true)
    }

    @Test func wrongServerKeyRejected() throws {
        let initiation = try makeInitiation(serverKey: Curve25519PrivateKey())
        #expect(throws: NoiseError.self) {
            try NoiseHandshake.respond(to: initiation, serverKey: Curve25519PrivateKey())
        }
    }

    @Test func tamperedResponseRejected() throws {
        let serverKey = Curve25519PrivateKey()
        let initiator = try NoiseInitiator(
            machineKey: Curve25519PrivateKey(),
            serverPublicKey: try #require(MachinePublicKey(bytes: serverKey.publicKeyBytes)),
            protocolVersion: 130
        )
        let response = try NoiseHandshake.respond(to: initiator.initiation, serverKey: serverKey).response
        for index in response.indices {
            var tampered = response
            tampered[index] ^= 0x01
            #expect(throws: NoiseError.self, "flipped byte \(index)") { try initiator.complete(response: tampered) }
        }
    }

    @Test func initiatorReportsErrorFrame() throws {
        let initiator = try NoiseInitiator(
            machineKey: Curve25519PrivateKey(),
            serverPublicKey: try #require(MachinePublicKey(bytes: Curve25519PrivateKey().publicKeyBytes)),
            protocolVersion: 130
        )
        let error = #expect(throws: NoiseError.self) {
            try initiator.complete(response: NoiseHandshake.errorFrame("unsupported client version"))
        }
        #expect(error?.message.contains("server error: \"unsupported client version\"") == true)
    }

    @Test func errorFrameLayout() {
        #expect(NoiseHandshake.errorFrame("no") == [0x03, 0x00, 0x02, 0x6e, 0x6f])
        let long = NoiseHandshake.errorFrame(String(repeating: "é", count: 3000))
        // 4093 bytes fit, but a 2-byte character must not be split, so 4092 remain.
        #expect(long.count == 3 + 4092)
        #expect(Array(long.prefix(3)) == [0x03, 0x0f, 0xfc])
        #expect(String(validating: long.dropFirst(3), as: UTF8.self) != nil)
    }

    @Test func earlyPayloadLayout() throws {
        let challenge = try #require(ChallengePublicKey(bytes: [UInt8](repeating: 0xab, count: 32)))
        let payload = NoiseHandshake.earlyPayload(challenge: challenge)
        let json = "{\"nodeKeyChallenge\":\"chalpub:" + String(repeating: "ab", count: 32) + "\"}"
        #expect(Array(payload.prefix(5)) == [0xFF, 0xFF, 0xFF, 0x54, 0x53])
        #expect(Array(payload[5..<9]) == [0, 0, 0, UInt8(json.utf8.count)])
        #expect(String(decoding: payload.dropFirst(9), as: UTF8.self) == json)
    }

    private func makeInitiation(serverKey: Curve25519PrivateKey) throws -> [UInt8] {
        try NoiseInitiator(
            machineKey: Curve25519PrivateKey(),
            serverPublicKey: try #require(MachinePublicKey(bytes: serverKey.publicKeyBytes)),
            protocolVersion: 130
        ).initiation
    }
}
