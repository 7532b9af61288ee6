import Foundation
import HSCore
import HSCrypto
import HSPosix
import HSTestSupport
import Testing

@testable import HSDERP

#if canImport(Glibc)
    import Glibc
#endif

/// Helpers for the poll loop attack tests: numbered packets, waits and a count of the server's
/// open sockets.
enum PollLoopAttack {
    static let logger = Logger(label: "derp-poll-attack", minimumLevel: .critical)

    /// Starts a relay whose clients are read by `pollThreads` loop threads after the handshake.
    static func relay(
        pollThreads: Int = 3,
        configure: (inout DERPServerLimits) -> Void = { _ in }
    ) throws -> DERPSocketServer {
        var limits = DERPServerLimits()
        limits.pollThreads = pollThreads
        configure(&limits)
        return try DERPSocketServer(limits: limits)
    }

    /// Starts a relay whose read pauses and write stalls never time out, so only a drain or a
    /// close ends a pause.
    static func relayWithoutTimeouts(pollThreads: Int) throws -> DERPSocketServer {
        try relay(pollThreads: pollThreads) {
            $0.readPauseLimitMilliseconds = 600_000
            $0.writeStallTimeoutMilliseconds = 600_000
        }
    }

    /// Builds a packet of `length` bytes (at least 5) that carries `index` big-endian, then `tag`.
    static func packet(_ index: Int, tag: UInt8, length: Int = 64) -> [UInt8] {
        var bytes = [UInt8](repeating: tag, count: max(length, 5))
        withUnsafeBytes(of: UInt32(index).bigEndian) { bytes.replaceSubrange(0..<4, with: $0) }
        return bytes
    }

    /// Returns the index and tag of a RecvPacket frame built by ``packet(_:tag:length:)``.
    static func numbered(_ frame: DERPFrame) -> (index: Int, tag: UInt8)? {
        guard frame.type == .recvPacket, frame.payload.count >= 32 + 5 else { return nil }
        let index = frame.payload[32..<36].reduce(0) { $0 << 8 | Int($1) }
        return (index, frame.payload[36])
    }

    /// Returns whether a client error means the server closed or reset the connection, as
    /// opposed to a receive timeout (the client sockets time out after 10 s).
    static func isClosedByPeer(_ error: any Error) -> Bool {
        let text = String(describing: error)
        return text.hasPrefix("recv returned 0") || text.contains("errno \(ECONNRESET)")
            || text.contains("errno \(EPIPE)")
    }

    /// Counts the sockets of this process whose local port is `port` and that are not listening,
    /// which are the server's side of its accepted connections. It reads /proc, so descriptors
    /// that tests running in parallel open on other ports do not count.
    static func acceptedSocketCount(port: UInt16) -> Int {
        var inodes: Set<String> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 9, let colon = fields[1].lastIndex(of: ":") else { continue }
                let localPort = UInt16(fields[1][fields[1].index(after: colon)...], radix: 16)
                // State 0A is LISTEN.
                if localPort == port, fields[3] != "0A" { inodes.insert(String(fields[9])) }
            }
        }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return -1 }
        var count = 0
        for name in names {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name),
                target.hasPrefix("socket:[")
            else { continue }
            if inodes.contains(String(target.dropFirst(8).dropLast())) { count += 1 }
        }
        return count
    }
}

/// A DERP client inside WebSocket binary messages on a blocking TCP socket, written from RFC 6455
/// independently of the server. Each call blocks, so tests run it through ``onThread(_:)``.
final class WebSocketDERPClient: @unchecked Sendable {
    let fd: Int32
    let privateKey: [UInt8]
    let key: NodePublicKey
    /// Raw bytes from the socket, not yet decoded as WebSocket frames.
    private var wire: [UInt8] = []
    /// DERP bytes from the messages' payloads, not yet returned as frames.
    private var stream: [UInt8] = []

    /// Connects and completes the upgrade and the DERP handshake, as a new node unless
    /// `privateKey` names an existing one.
    init(port: UInt16, privateKey: [UInt8] = NaClBox.makePrivateKey()) throws {
        self.privateKey = privateKey
        key = NodePublicKey(bytes: NaClBox.publicKey(forPrivateKey: privateKey))!
        fd = try connectLoopback(port: port)
        try handshake()
    }

    deinit { close(fd) }

    private func handshake() throws {
        let request =
            "GET /derp HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            + "Sec-WebSocket-Protocol: derp\r\n\r\n"
        try sendRaw(Array(request.utf8))
        let headEnd = Array("\r\n\r\n".utf8)
        while wire.firstRange(of: headEnd) == nil {
            try receive()
        }
        let range = wire.firstRange(of: headEnd)!
        let head = String(decoding: wire[..<range.lowerBound], as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 101") else { throw SocketDERPClient.Failure(description: "rejected: \(head)") }
        wire.removeFirst(range.upperBound)
        let serverKey = try readFrame()
        guard serverKey.type == .serverKey else { throw SocketDERPClient.Failure(description: "no ServerKey") }
        let nonce = NaClBox.randomBytes(24)
        let box = try NaClBox.seal(
            Array(#"{"version":2}"#.utf8),
            nonce: nonce,
            recipientPublicKey: Array(serverKey.payload.suffix(32)),
            senderPrivateKey: privateKey
        )
        try send(DERPFrame(type: .clientInfo, payload: key.bytes + nonce + box).encoded())
        guard try readFrame().type == .serverInfo else { throw SocketDERPClient.Failure(description: "no ServerInfo") }
    }

    /// Sends DERP bytes as one masked binary message.
    func send(_ bytes: [UInt8]) throws {
        try sendRaw(WebSocketBridge.maskedFrame(opcode: 0x2, payload: bytes))
    }

    /// Reads the next DERP frame other than KeepAlive and Health (which duplicates of a key get).
    func readFrame() throws -> DERPFrame {
        while true {
            try fillStream(DERPFrame.headerLength)
            let length = stream[1...4].reduce(0) { $0 << 8 | Int($1) }
            try fillStream(DERPFrame.headerLength + length)
            let frame = DERPFrame(
                type: DERPFrameType(rawValue: stream[0]),
                payload: Array(stream[DERPFrame.headerLength..<DERPFrame.headerLength + length])
            )
            stream.removeFirst(DERPFrame.headerLength + length)
            if frame.type != .keepAlive, frame.type != .health { return frame }
        }
    }

    private func sendRaw(_ bytes: [UInt8]) throws {
        try sendAll(fd, bytes)
    }

    /// Decodes server messages (unmasked) until `count` DERP bytes are buffered.
    private func fillStream(_ count: Int) throws {
        while stream.count < count {
            try fillWire(2)
            var length = Int(wire[1] & 0x7F)
            var offset = 2
            if length == 126 {
                try fillWire(4)
                length = wire[2...3].reduce(0) { $0 << 8 | Int($1) }
                offset = 4
            } else if length == 127 {
                try fillWire(10)
                length = wire[2...9].reduce(0) { $0 << 8 | Int($1) }
                offset = 10
            }
            try fillWire(offset + length)
            let opcode = wire[0] & 0x0F
            guard opcode == 0x2 || opcode == 0x0 else {
                throw SocketDERPClient.Failure(description: "unexpected WebSocket opcode \(opcode)")
            }
            stream += wire[offset..<offset + length]
            wire.removeFirst(offset + length)
        }
    }

    private func fillWire(_ count: Int) throws {
        while wire.count < count {
            try receive()
        }
    }

    private func receive() throws {
        var chunk = [UInt8](repeating: 0, count: 256 << 10)
        let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard received > 0 else {
            throw SocketDERPClient.Failure(description: "recv returned \(received), errno \(errno)")
        }
        wire += chunk.prefix(received)
    }
}
