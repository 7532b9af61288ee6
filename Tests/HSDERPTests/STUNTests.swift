import HSCore
import HSPosix
import Testing

@testable import HSDERP

/// CRC-32 (IEEE), bit by bit, written apart from the server's table-driven one.
func referenceCRC32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
        }
    }
    return ~crc
}

/// The 40-byte Binding Request a Tailscale client sends, assembled field by field.
func tailscaleBindingRequest(
    transactionID: [UInt8],
    software: String = "tailnode",
    fingerprintXOR: UInt32 = 0x5354_554E
) -> [UInt8] {
    var bytes: [UInt8] = [0x00, 0x01, 0x00, 0x14, 0x21, 0x12, 0xA4, 0x42] + transactionID
    bytes += [0x80, 0x22, 0x00, 0x08] + Array(software.utf8)
    let fingerprint = referenceCRC32(bytes) ^ fingerprintXOR
    bytes += [0x80, 0x28, 0x00, 0x04]
    bytes += [
        UInt8(fingerprint >> 24), UInt8(fingerprint >> 16 & 0xFF), UInt8(fingerprint >> 8 & 0xFF),
        UInt8(fingerprint & 0xFF),
    ]
    return bytes
}

/// Decodes the XOR-MAPPED-ADDRESS of a Binding Success response: (address bytes, port).
func decodeXORMappedAddress(_ response: [UInt8], transactionID: [UInt8]) -> (ip: [UInt8], port: UInt16)? {
    guard response.count >= 28, response[0] == 0x01, response[1] == 0x01,
        Array(response[4..<8]) == [0x21, 0x12, 0xA4, 0x42], Array(response[8..<20]) == transactionID,
        response[20] == 0x00, response[21] == 0x20
    else { return nil }
    let valueLength = Int(response[22]) << 8 | Int(response[23])
    guard Int(response[2]) << 8 | Int(response[3]) == 4 + valueLength, response.count == 24 + valueLength else {
        return nil
    }
    let value = Array(response[24...])
    let family = value[1]
    guard (family == 1 && valueLength == 8) || (family == 2 && valueLength == 20) else { return nil }
    let port = (UInt16(value[2]) << 8 | UInt16(value[3])) ^ 0x2112
    let mask: [UInt8] = [0x21, 0x12, 0xA4, 0x42] + transactionID
    let ip = value[4...].enumerated().map { $0.element ^ mask[$0.offset] }
    return (ip, port)
}

@Suite struct STUNTests {
    let transactionID: [UInt8] = Array(1...12)

    @Test func referenceCRCMatchesCheckValue() {
        #expect(referenceCRC32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func tailscaleRequestParses() {
        let request = tailscaleBindingRequest(transactionID: transactionID)
        #expect(request.count == 40)
        #expect(STUN.parseBindingRequest(request)?.bytes == transactionID)
    }

    @Test func wrongFingerprintIgnored() {
        var request = tailscaleBindingRequest(transactionID: transactionID)
        request[39] ^= 0x01
        #expect(STUN.parseBindingRequest(request) == nil)
        // A plain RFC 5389 fingerprint without Tailscale's XOR constant is wrong as well.
        #expect(
            STUN.parseBindingRequest(tailscaleBindingRequest(transactionID: transactionID, fingerprintXOR: 0)) == nil
        )
    }

    @Test func otherSoftwareIgnored() {
        #expect(
            STUN.parseBindingRequest(tailscaleBindingRequest(transactionID: transactionID, software: "othernod")) == nil
        )
    }

    @Test func malformedHeadersIgnored() {
        let request = tailscaleBindingRequest(transactionID: transactionID)
        var topBits = request
        topBits[0] = 0x40
        var cookie = request
        cookie[5] = 0x13
        var type = request
        type[1] = 0x11
        var length = request
        length[3] = 0x18
        for (name, packet) in [("top bits", topBits), ("cookie", cookie), ("type", type), ("length", length)] {
            #expect(STUN.parseBindingRequest(packet) == nil, "\(name)")
        }
        #expect(STUN.parseBindingRequest(Array(request.prefix(19))) == nil)
        #expect(STUN.parseBindingRequest([]) == nil)
    }

    @Test func fingerprintMustBeLast() {
        var request = tailscaleBindingRequest(transactionID: transactionID)
        // An extra empty attribute after FINGERPRINT; the length field is fixed up to match.
        request += [0x00, 0x24, 0x00, 0x00]
        request[3] = 0x18
        #expect(STUN.parseBindingRequest(request) == nil)
    }

    @Test func overrunningAttributeIgnored() {
        var request = tailscaleBindingRequest(transactionID: transactionID)
        // SOFTWARE claims 200 bytes of value.
        request[22] = 0x00
        request[23] = 0xC8
        #expect(STUN.parseBindingRequest(request) == nil)
    }

    @Test func responseEncodesIPv4() throws {
        let id = try #require(STUN.TransactionID(bytes: transactionID))
        let sender = try #require(UDPAddress(host: "192.0.2.33", port: 41641))
        let response = STUN.bindingResponse(transactionID: id, address: sender)
        #expect(response.count == 32)
        let decoded = try #require(decodeXORMappedAddress(response, transactionID: transactionID))
        #expect(decoded.ip == [192, 0, 2, 33])
        #expect(decoded.port == 41641)
    }

    @Test func responseEncodesIPv6() throws {
        let id = try #require(STUN.TransactionID(bytes: transactionID))
        let sender = try #require(UDPAddress(host: "2001:db8::1234", port: 3478))
        let response = STUN.bindingResponse(transactionID: id, address: sender)
        #expect(response.count == 44)
        let decoded = try #require(decodeXORMappedAddress(response, transactionID: transactionID))
        #expect(decoded.ip == sender.ip)
        #expect(decoded.port == 3478)
    }

    @Test func mappedIPv4AnsweredAsIPv4() throws {
        let id = try #require(STUN.TransactionID(bytes: transactionID))
        let sender = try #require(UDPAddress(host: "::ffff:198.51.100.7", port: 5000))
        let decoded = try #require(
            decodeXORMappedAddress(
                STUN.bindingResponse(transactionID: id, address: sender),
                transactionID: transactionID
            )
        )
        #expect(decoded.ip == [198, 51, 100, 7])
    }
}

@Suite struct STUNServerTests {
    @Test func udpRoundTripReturnsSender() async throws {
        let server = try STUNServer(
            host: "127.0.0.1",
            port: 0,
            logger: Logger(label: "stun-test", minimumLevel: .critical)
        )
        server.start()
        defer { server.stop() }
        let client = try UDPSocket(host: "127.0.0.1", port: 0)
        defer { client.stop() }
        let replies = EventBuffer<[UInt8]>()
        client.start { bytes, _ in replies.push(bytes) }

        let serverAddress = try #require(UDPAddress(host: "127.0.0.1", port: server.localPort))
        let transactionID = Array(repeating: UInt8(0x5A), count: 12)
        #expect(client.send([0xDE, 0xAD, 0xBE, 0xEF], to: serverAddress))
        #expect(client.send(tailscaleBindingRequest(transactionID: transactionID), to: serverAddress))

        let reply = try #require(await replies.next(), "no STUN response within 5 s")
        let decoded = try #require(decodeXORMappedAddress(reply, transactionID: transactionID))
        #expect(decoded.ip == [127, 0, 0, 1])
        #expect(decoded.port == client.localPort)
        // The server counts a reply after send returns, which may be after the client read it.
        for _ in 0..<100 where server.statistics.requestsReplied == 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(server.statistics.requestsReplied == 1)
        #expect(server.statistics.packetsIgnored == 1)
    }

    @Test func invalidListenAddressNamed() {
        #expect {
            try STUNServer(host: "stun.example", port: 0, logger: Logger(label: "stun-test", minimumLevel: .critical))
        } throws: { error in
            "\(error)".contains("stun.example")
        }
    }
}

@Suite struct UDPAddressTests {
    @Test func parsesAndFormats() throws {
        #expect(UDPAddress(host: "127.0.0.1", port: 80)?.description == "127.0.0.1:80")
        #expect(UDPAddress(host: "[::1]", port: 3478)?.description == "[::1]:3478")
        #expect(UDPAddress(host: "::ffff:10.0.0.1", port: 1)?.ip == [10, 0, 0, 1])
        #expect(UDPAddress(host: "localhost", port: 1) == nil)
        #expect(UDPAddress(ip: [1, 2, 3], port: 1) == nil)
    }
}
