import Foundation
import HSCore
import HSCrypto
import HSDERP

#if canImport(Glibc)
import Glibc
#endif

/// A DERP client on a blocking TCP socket, for measuring the relay from outside the server.
final class BlockingDERPClient: @unchecked Sendable {
    // Each client is used by one thread at a time: the sender and the receiver of a pair each own
    // one client, so the socket and the reader need no lock.
    let socket: Int32
    let key: NodePublicKey
    private var reader = DERPFrameReader()
    private var buffer = [UInt8](repeating: 0, count: 256 * 1024)

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Connects to `host:port`, upgrades `/derp` and completes the DERP handshake.
    init(host: String, port: UInt16) throws {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "connect to \(host):\(port) failed: errno \(errno)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        socket = fd
        let privateKey = NaClBox.makePrivateKey()
        key = NodePublicKey(bytes: NaClBox.publicKey(forPrivateKey: privateKey))!
        try handshake(privateKey: privateKey, host: host)
    }

    deinit {
        close(socket)
    }

    private func handshake(privateKey: [UInt8], host: String) throws {
        try sendAll(Array("GET /derp HTTP/1.1\r\nHost: \(host)\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\n".utf8))
        var head: [UInt8] = []
        while !head.ends(with: Array("\r\n\r\n".utf8)) {
            var byte: UInt8 = 0
            guard read(socket, &byte, 1) == 1 else { throw Failure(description: "connection closed during the upgrade") }
            head.append(byte)
        }
        guard String(decoding: head, as: UTF8.self).hasPrefix("HTTP/1.1 101") else {
            throw Failure(description: "upgrade rejected: \(String(decoding: head.prefix(80), as: UTF8.self))")
        }
        guard let serverKeyFrame = try nextFrame() else { throw Failure(description: "no ServerKey frame") }
        guard serverKeyFrame.type == .serverKey, serverKeyFrame.payload.count >= 40 else {
            throw Failure(description: "expected ServerKey, got \(serverKeyFrame.type)")
        }
        let serverKey = Array(serverKeyFrame.payload[8..<40])
        let nonce = NaClBox.randomBytes(24)
        let box = try NaClBox.seal(
            Array(#"{"version":2,"CanAckPings":true}"#.utf8),
            nonce: nonce,
            recipientPublicKey: serverKey,
            senderPrivateKey: privateKey
        )
        try send(DERPFrame(type: .clientInfo, payload: key.bytes + nonce + box))
        guard try nextFrame()?.type == .serverInfo else { throw Failure(description: "expected ServerInfo") }
    }

    func send(_ frame: DERPFrame) throws {
        try sendAll(frame.encoded())
    }

    /// Writes all of `bytes`, in one system call when the socket buffer has room for them.
    func sendAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try sendAll($0) }
    }

    func sendAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = write(socket, bytes.baseAddress! + offset, bytes.count - offset)
            guard written > 0 else { throw Failure(description: "write failed: errno \(errno)") }
            offset += written
        }
    }

    /// Reads whatever has arrived, up to 256 KiB, and passes it to `body` without copying it.
    /// Returns false when the receive timeout passed first.
    func readRaw(_ body: (UnsafeRawBufferPointer) -> Void) throws -> Bool {
        let count = buffer.withUnsafeMutableBytes { read(socket, $0.baseAddress!, $0.count) }
        if count < 0, errno == EAGAIN || errno == EWOULDBLOCK { return false }
        guard count > 0 else { throw Failure(description: "connection closed") }
        buffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        return true
    }

    /// Reads the next frame, skipping keep-alives. Returns nil when the receive timeout set with
    /// ``setReceiveTimeout(seconds:)`` passes first.
    func nextFrame() throws -> DERPFrame? {
        while true {
            if let frame = try reader.nextFrame() {
                if frame.type == .keepAlive { continue }
                return frame
            }
            let count = buffer.withUnsafeMutableBytes { read(socket, $0.baseAddress!, $0.count) }
            if count < 0, errno == EAGAIN || errno == EWOULDBLOCK { return nil }
            guard count > 0 else { throw Failure(description: "connection closed") }
            reader.feed(Array(buffer[0..<count]))
        }
    }

    /// Makes ``nextFrame()`` give up after `seconds` without data.
    func setReceiveTimeout(seconds: Double) {
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1e6))
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}
