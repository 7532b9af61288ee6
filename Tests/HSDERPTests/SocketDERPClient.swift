import Foundation
import HSCore
import HSCrypto
import HSHTTP
import HSPosix
import HSTestSupport
import Testing

@testable import HSDERP

#if canImport(Glibc)
    import Glibc
#endif

/// Routes every request to the DERP server's upgrade handler, as the control server does for `/derp`.
struct DERPUpgradeHandler: HTTPHandler {
    let server: DERPServer

    func handle(_ request: HTTPRequest, responder: any HTTPResponder) {
        server.handleUpgrade(request, responder: responder)
    }
}

/// A DERP server behind a real HTTP server on a 127.0.0.1 TCP port.
struct DERPSocketServer {
    let server: DERPServer
    let listener: TCPListener

    init(limits: DERPServerLimits = DERPServerLimits()) throws {
        let logger = Logger(label: "derp-socket-test", minimumLevel: .critical)
        server = DERPServer(privateKey: NaClBox.makePrivateKey(), logger: logger, admitClient: nil, limits: limits)
        let http = HTTPServer(handler: DERPUpgradeHandler(server: server), logger: logger)
        listener = try TCPListener(host: "127.0.0.1", port: 0, logger: logger)
        listener.start { stream in http.serve(stream, isSecure: false) }
    }

    func stop() {
        listener.stop()
        server.shutdown()
    }
}

/// A DERP client on a blocking TCP socket, written from the wire format independently of the
/// server. Each call blocks, so tests run it through ``onThread(_:)``.
final class SocketDERPClient: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let fd: Int32
    let privateKey = NaClBox.makePrivateKey()
    let key: NodePublicKey
    private var buffered: [UInt8] = []

    /// Connects and completes the upgrade and the DERP handshake. A `receiveBufferBytes` value
    /// shrinks the socket's receive buffer before connecting, to make the server's sends block.
    /// A `sendBufferBytes` value shrinks the send buffer, so that this client's own sends block sooner.
    init(port: UInt16, receiveBufferBytes: Int32? = nil, sendBufferBytes: Int32? = nil) throws {
        key = NodePublicKey(bytes: NaClBox.publicKey(forPrivateKey: privateKey))!
        fd = try connectLoopback(port: port) { fd in
            if var size = receiveBufferBytes {
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
            if var size = sendBufferBytes {
                setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
        }
        try handshake()
    }

    deinit { close(fd) }

    private func handshake() throws {
        try send(Array("GET /derp HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\n".utf8))
        let headEnd: [UInt8] = Array("\r\n\r\n".utf8)
        while buffered.firstRange(of: headEnd) == nil {
            try fill(buffered.count + 1)
        }
        let range = buffered.firstRange(of: headEnd)!
        let head = String(decoding: buffered[..<range.lowerBound], as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 101") else { throw Failure(description: "upgrade rejected: \(head)") }
        buffered.removeFirst(range.upperBound)
        let serverKey = try readFrame()
        guard serverKey.type == .serverKey, serverKey.payload.count == 40 else {
            throw Failure(description: "expected ServerKey, got \(serverKey.type)")
        }
        let nonce = NaClBox.randomBytes(24)
        let box = try NaClBox.seal(
            Array(#"{"version":2}"#.utf8),
            nonce: nonce,
            recipientPublicKey: Array(serverKey.payload.suffix(32)),
            senderPrivateKey: privateKey
        )
        try send(DERPFrame(type: .clientInfo, payload: key.bytes + nonce + box).encoded())
        guard try readFrame().type == .serverInfo else { throw Failure(description: "expected ServerInfo") }
    }

    /// Sends all of `bytes` with as few `send` calls as the kernel allows.
    func send(_ bytes: [UInt8]) throws {
        try sendAll(fd, bytes)
    }

    /// Sends from `bytes[offset...]` until the kernel takes no more without blocking; returns the
    /// new offset.
    func sendWithoutBlocking(_ bytes: [UInt8], from offset: Int) throws -> Int {
        var offset = offset
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if sent < 0, errno == EAGAIN || errno == EWOULDBLOCK { return offset }
            guard sent > 0 else { throw Failure(description: "send failed: errno \(errno)") }
            offset += sent
        }
        return offset
    }

    /// Reads the next frame other than KeepAlive.
    func readFrame() throws -> DERPFrame {
        while true {
            try fill(DERPFrame.headerLength)
            let length =
                Int(buffered[1]) << 24 | Int(buffered[2]) << 16 | Int(buffered[3]) << 8 | Int(buffered[4])
            try fill(DERPFrame.headerLength + length)
            let frame = DERPFrame(
                type: DERPFrameType(rawValue: buffered[0]),
                payload: Array(buffered[DERPFrame.headerLength..<DERPFrame.headerLength + length])
            )
            buffered.removeFirst(DERPFrame.headerLength + length)
            if frame.type != .keepAlive { return frame }
        }
    }

    private func fill(_ count: Int) throws {
        var chunk = [UInt8](repeating: 0, count: 256 << 10)
        while buffered.count < count {
            let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard received > 0 else { throw Failure(description: "recv returned \(received), errno \(errno)") }
            buffered += chunk.prefix(received)
        }
    }
}

/// Runs blocking socket work on its own thread, so that it never holds a thread of the
/// cooperative pool that Swift Testing runs tests on.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.start()
    }
}
