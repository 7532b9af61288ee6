import Foundation
import HSCore
import HSCrypto
import HSLoadGen
import HSNoise

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking Noise control client for attack tests, from a chosen loopback source address.
///
/// It performs the `/ts2021` upgrade and the Noise handshake, then either speaks HTTP/2 through
/// HSLoadGen's nghttp2 client (``request(_:body:)``) or lets the test write raw HTTP/2 frames and
/// raw Noise records. Every receive has a timeout, so a server that stops responding fails the
/// test instead of hanging it.
final class AttackNoiseClient {
    let fd: Int32
    let machineKey: Curve25519PrivateKey
    var transport: NoiseTransport
    /// The sealed initiation this client sent, for replay tests.
    let initiation: [UInt8]
    private var inbound: [UInt8] = []
    private var plaintext: [UInt8] = []
    private var earlyPayloadDone = false
    private var http2: HTTP2Client?

    /// Connects from `source`, upgrades and completes the handshake.
    init(
        port: UInt16,
        serverKey: MachinePublicKey,
        source: String = "127.0.0.1",
        machineKey: Curve25519PrivateKey = Curve25519PrivateKey(),
        version: UInt16 = 130
    ) throws {
        self.machineKey = machineKey
        let descriptor = try connectSocket(port: port, source: source)
        fd = descriptor
        let initiator = try NoiseInitiator(machineKey: machineKey, serverPublicKey: serverKey, protocolVersion: version)
        initiation = initiator.initiation
        let head = Self.upgradeHead(port: port, initiation: initiator.initiation)
        _ = head.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        let separator = Array("\r\n\r\n".utf8)
        while received.firstRange(of: separator) == nil || received.count < Self.upgradeEnd(received) {
            received += try Self.receiveSome(descriptor)
        }
        let headEnd = received.firstRange(of: separator)!.upperBound
        let parts = String(decoding: received[..<headEnd], as: UTF8.self).split(separator: " ")
        let status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        guard status == 101 else {
            Glibc.close(descriptor)
            throw FixtureError("POST /ts2021 returned \(status), expected 101")
        }
        let responseEnd = headEnd + NoiseFrame.responseByteCount
        transport = try initiator.complete(response: Array(received[headEnd..<responseEnd]))
        inbound = Array(received[responseEnd...])
    }

    /// Returns where the Noise response after the upgrade head ends, or 0 while the head is incomplete.
    /// A non-101 head has no Noise response after it.
    private static func upgradeEnd(_ received: [UInt8]) -> Int {
        guard let head = received.firstRange(of: Array("\r\n\r\n".utf8)) else { return 0 }
        guard String(decoding: received.prefix(12), as: UTF8.self).hasSuffix("101") else { return 0 }
        return head.upperBound + NoiseFrame.responseByteCount
    }

    deinit {
        Glibc.close(fd)
    }

    static func upgradeHead(port: UInt16, initiation: [UInt8], upgrade: String = "tailscale-control-protocol")
        -> [UInt8]
    {
        let handshake = Data(initiation).base64EncodedString()
        let head =
            "POST /ts2021 HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: \(upgrade)\r\nConnection: upgrade\r\n"
            + "X-Tailscale-Handshake: \(handshake)\r\nContent-Length: 0\r\n\r\n"
        return Array(head.utf8)
    }

    // MARK: Raw bytes

    func sendRaw(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    /// Seals `bytes` into as many Noise records as needed and returns them without sending.
    func seal(_ bytes: [UInt8]) throws -> [UInt8] {
        var records: [UInt8] = []
        var offset = 0
        repeat {
            let end = min(bytes.count, offset + NoiseFrame.maxPlaintextByteCount)
            records += try transport.seal(Array(bytes[offset..<end]))
            offset = end
        } while offset < bytes.count
        return records
    }

    func sendSealed(_ bytes: [UInt8]) throws {
        sendRaw(try seal(bytes))
    }

    /// True when the server closed the connection, waiting at most `milliseconds`. Bytes that
    /// arrive first are read and dropped.
    func isClosedByServer(within milliseconds: Int32) -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(milliseconds))
        var chunk = [UInt8](repeating: 0, count: 65536)
        while ContinuousClock.now < deadline {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 200) > 0 else { continue }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count == 0 || (count < 0 && errno != EAGAIN) { return true }
        }
        return false
    }

    // MARK: HTTP/2 through nghttp2

    /// Sends one request and waits for its status and body. Starts the HTTP/2 session on first use.
    func request(_ path: String, body: [UInt8], timeout: Duration = .seconds(20)) throws -> (status: Int, body: [UInt8])
    {
        if http2 == nil { http2 = try HTTP2Client() }
        let client = http2!
        let streamID = try client.request(method: "POST", path: path, authority: "127.0.0.1", body: body)
        try sendSealed(client.takeOutput())
        var status = 0
        var received: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for event in try client.receive(try readPlaintext()) {
                switch event {
                case .response(streamID, let code): status = code
                case .data(streamID, let bytes): received += bytes
                case .closed(streamID, _): return (status, received)
                default: break
                }
            }
            let output = client.takeOutput()
            if !output.isEmpty { try sendSealed(output) }
        }
        throw FixtureError("no complete response to \(path) within \(timeout)")
    }

    /// Reads Noise records until some HTTP/2 plaintext is available, stripping the early payload.
    func readPlaintext() throws -> [UInt8] {
        while true {
            if let record = nextRecord() {
                plaintext += try transport.open(record)
                if !earlyPayloadDone { stripEarlyPayload() }
                if earlyPayloadDone, !plaintext.isEmpty {
                    defer { plaintext = [] }
                    return plaintext
                }
                continue
            }
            inbound += try receiveSome()
        }
    }

    private func stripEarlyPayload() {
        let magic: [UInt8] = [0xFF, 0xFF, 0xFF, 0x54, 0x53]
        guard plaintext.count >= 9 else { return }
        guard Array(plaintext[0..<5]) == magic else {
            earlyPayloadDone = true
            return
        }
        let length = Int(plaintext[5]) << 24 | Int(plaintext[6]) << 16 | Int(plaintext[7]) << 8 | Int(plaintext[8])
        guard plaintext.count >= 9 + length else { return }
        plaintext.removeFirst(9 + length)
        earlyPayloadDone = true
    }

    private func nextRecord() -> [UInt8]? {
        guard inbound.count >= NoiseFrame.headerByteCount else { return nil }
        let total = NoiseFrame.headerByteCount + (Int(inbound[1]) << 8 | Int(inbound[2]))
        guard inbound.count >= total else { return nil }
        defer { inbound.removeFirst(total) }
        return Array(inbound[0..<total])
    }

    // MARK: Socket reads

    private func receiveSome() throws -> [UInt8] {
        try Self.receiveSome(fd)
    }

    private static func receiveSome(_ fd: Int32) throws -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count == 0 { throw FixtureError("the server closed the connection") }
        if count < 0, errno == EAGAIN || errno == EWOULDBLOCK { throw FixtureError("recv timed out") }
        if count < 0 { throw FixtureError("recv failed: errno \(errno)") }
        return Array(chunk[..<count])
    }
}

/// Connects to 127.0.0.1:`port` from `source` with a 20-second receive timeout.
func connectSocket(port: UInt16, source: String) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw FixtureError("socket failed: errno \(errno)") }
    var local = sockaddr_in()
    local.sin_family = sa_family_t(AF_INET)
    local.sin_addr.s_addr = inet_addr(source)
    var remote = sockaddr_in()
    remote.sin_family = sa_family_t(AF_INET)
    remote.sin_port = port.bigEndian
    remote.sin_addr.s_addr = inet_addr("127.0.0.1")
    let length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &local) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    let connected = withUnsafePointer(to: &remote) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
    }
    guard bound == 0, connected == 0 else {
        let code = errno
        Glibc.close(fd)
        throw FixtureError("connecting from \(source) to port \(port) failed: errno \(code)")
    }
    var timeout = timeval(tv_sec: 20, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return fd
}
