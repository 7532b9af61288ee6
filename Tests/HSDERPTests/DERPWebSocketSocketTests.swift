import Foundation
import HSCore
import HSCrypto
import HSHTTP
import HSPosix
import HSTestSupport
import Testing

@testable import HSDERP

/// Routes every request to the DERP server's upgrade handler, as the control server does for `/derp`.
private struct DERPOnlyHandler: HTTPHandler {
    let server: DERPServer

    func handle(_ request: HTTPRequest, responder: any HTTPResponder) {
        server.handleUpgrade(request, responder: responder)
    }
}

/// A blocking WebSocket client on a real TCP socket, written from RFC 6455 independently of the server.
private final class BlockingWebSocketClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: UInt16) throws {
        fd = try connectLoopback(port: port, receiveTimeoutSeconds: 5)
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until `count` bytes are buffered; false on timeout or close.
    private func fill(_ count: Int) -> Bool {
        while buffer.count < count {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard received > 0 else { return false }
            buffer += chunk.prefix(received)
        }
        return true
    }

    /// Reads the HTTP response head and returns it as text.
    func readHead() throws -> String {
        while true {
            if let end = String(decoding: buffer, as: UTF8.self).range(of: "\r\n\r\n") {
                let text = String(decoding: buffer, as: UTF8.self)
                let head = String(text[..<end.lowerBound])
                buffer.removeFirst(head.utf8.count + 4)
                return head
            }
            try #require(fill(buffer.count + 1), "no complete response head")
        }
    }

    /// Reads one unmasked server frame and returns its opcode and payload.
    func readFrame() throws -> (opcode: UInt8, payload: [UInt8]) {
        try #require(fill(2), "no frame header")
        var length = Int(buffer[1] & 0x7F)
        var offset = 2
        if length == 126 {
            try #require(fill(4))
            length = Int(buffer[2]) << 8 | Int(buffer[3])
            offset = 4
        }
        try #require(length != 127, "unexpectedly large frame")
        try #require(fill(offset + length), "frame payload incomplete")
        let frame = (buffer[0] & 0x0F, Array(buffer[offset..<offset + length]))
        buffer.removeFirst(offset + length)
        return frame
    }
}

@Suite struct DERPWebSocketSocketTests {
    @Test func handshakeOverRealSocket() throws {
        let logger = Logger(label: "derp-ws-socket", minimumLevel: .critical)
        let server = DERPServer(privateKey: NaClBox.makePrivateKey(), logger: logger)
        defer { server.shutdown() }
        let http = HTTPServer(handler: DERPOnlyHandler(server: server), logger: logger)
        let listener = try TCPListener(host: "127.0.0.1", port: 0, logger: logger)
        listener.start { stream in http.serve(stream, isSecure: false) }
        defer { listener.stop() }

        let client = try BlockingWebSocketClient(port: listener.localPort)
        let clientKey = NaClBox.makePrivateKey()
        let clientPublic = NaClBox.publicKey(forPrivateKey: clientKey)
        let request =
            "GET /derp HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            + "Sec-WebSocket-Protocol: derp\r\n\r\n"
        client.send(Array(request.utf8))
        let head = try client.readHead()
        #expect(head.hasPrefix("HTTP/1.1 101"))
        #expect(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))

        let serverKeyFrame = try client.readFrame()
        #expect(serverKeyFrame.opcode == 0x2)
        // One DERP frame per message: 5-byte header, 8-byte magic, 32-byte key.
        #expect(serverKeyFrame.payload.first == DERPFrameType.serverKey.rawValue)
        #expect(serverKeyFrame.payload.count == 45)
        #expect(Array(serverKeyFrame.payload.suffix(32)) == server.publicKey.bytes)

        let nonce = NaClBox.randomBytes(24)
        let box = try NaClBox.seal(
            Array(#"{"version":2,"CanAckPings":true}"#.utf8),
            nonce: nonce,
            recipientPublicKey: server.publicKey.bytes,
            senderPrivateKey: clientKey
        )
        let clientInfo = DERPFrame(type: .clientInfo, payload: clientPublic + nonce + box).encoded()
        client.send(WebSocketBridge.maskedFrame(opcode: 0x2, payload: clientInfo))
        let serverInfoFrame = try client.readFrame()
        #expect(serverInfoFrame.payload.first == DERPFrameType.serverInfo.rawValue)
        #expect(server.statistics.currentClients == 1)
    }
}
