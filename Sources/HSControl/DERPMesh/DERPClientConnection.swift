import Foundation
import HSCore
import HSCrypto
import HSDERP
import HSTLS

/// A blocking DERP client connection to a relay: the `/derp` upgrade over HTTP or HTTPS, the
/// handshake, then frames. The mesh links use it, with the mesh key in ClientInfo.
///
/// Threading: one thread at a time. Reads and writes block for at most the fetcher's timeout.
struct DERPClientConnection {
    /// A failure of the connection, naming the relay and what failed.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let url: String
    let fd: Int32
    let transport: any FetchTransport
    /// The other relay's public key from ServerKey.
    private(set) var serverKey: [UInt8] = []
    private var reader = DERPFrameReader()

    /// Connects to `url`, upgrades to DERP and completes the handshake with `privateKey`, sending
    /// `meshKey` in ClientInfo when given.
    ///
    /// - Throws: ``Failure`` or the fetcher's ``ServerError`` naming `url` and the step that failed.
    static func open(url: String, privateKey: [UInt8], meshKey: [UInt8]?, fetcher: HTTPFetcher) throws
        -> DERPClientConnection
    {
        let target = try FetchTarget(url: url)
        let fd = try fetcher.connect(host: target.host, port: target.port, url: url)
        let transport: any FetchTransport
        do {
            transport =
                target.isSecure
                ? try TLSClientConnection(
                    fileDescriptor: fd,
                    host: target.host,
                    trustedCertificatesPath: fetcher.trustedCertificatesPath
                )
                : PlainTransport(fd: fd)
        } catch {
            Glibc.close(fd)
            throw Failure(description: "TLS to the DERP relay \(url) failed: \(error)")
        }
        var connection = DERPClientConnection(url: url, fd: fd, transport: transport)
        do {
            try connection.upgrade(hostHeader: target.hostHeader)
            try connection.handshake(privateKey: privateKey, meshKey: meshKey)
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    private init(url: String, fd: Int32, transport: any FetchTransport) {
        self.url = url
        self.fd = fd
        self.transport = transport
    }

    func send(_ frame: DERPFrame) throws {
        try transport.send(frame.encoded())
    }

    /// Returns the next frame, reading from the relay when none is buffered.
    mutating func nextFrame() throws -> DERPFrame {
        while true {
            if let frame = try bufferedFrame() { return frame }
            try receive()
        }
    }

    /// Returns a frame already read, or nil.
    mutating func bufferedFrame() throws -> DERPFrame? {
        try reader.nextFrame()
    }

    /// Reads what the relay sent once; throws when it closed the connection.
    mutating func receive() throws {
        let bytes = try transport.receive()
        guard !bytes.isEmpty else { throw Failure(description: "the DERP relay \(url) closed the connection") }
        reader.feed(bytes)
    }

    func close() {
        transport.finish()
        Glibc.close(fd)
    }

    /// Sends the upgrade request and reads the response head; bytes after it are DERP frames.
    private mutating func upgrade(hostHeader: String) throws {
        let request = "GET /derp HTTP/1.1\r\nHost: \(hostHeader)\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\n"
        try transport.send(Array(request.utf8))
        var buffer: [UInt8] = []
        let end = Array("\r\n\r\n".utf8)
        while buffer.firstRange(of: end) == nil {
            guard buffer.count <= HTTPFetcher.maxHeadBytes else {
                throw Failure(
                    description: "the DERP relay \(url) sent an upgrade response over \(HTTPFetcher.maxHeadBytes) bytes"
                )
            }
            let bytes = try transport.receive()
            guard !bytes.isEmpty else {
                throw Failure(description: "the DERP relay \(url) closed the connection during the upgrade")
            }
            buffer += bytes
        }
        let range = buffer.firstRange(of: end)!
        let head = String(decoding: buffer[..<range.lowerBound], as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 101") || head.hasPrefix("HTTP/1.0 101") else {
            let status = head.split(separator: "\r\n").first.map(String.init) ?? ""
            throw Failure(description: "the DERP relay \(url) rejected the upgrade: \(status.prefix(100))")
        }
        reader.feed(Array(buffer[range.upperBound...]))
    }

    /// Reads ServerKey, sends ClientInfo sealed to that key and waits for ServerInfo.
    private mutating func handshake(privateKey: [UInt8], meshKey: [UInt8]?) throws {
        let first = try nextFrame()
        let keyEnd = DERP.magic.count + DERP.keyLength
        guard first.type == .serverKey, first.payload.count >= keyEnd, first.payload.starts(with: DERP.magic) else {
            throw Failure(description: "\(url) sent \(first.type) instead of ServerKey; it is not a DERP relay")
        }
        serverKey = Array(first.payload[DERP.magic.count..<keyEnd])
        let info = DERPClientInfo(version: DERP.protocolVersion, canAckPings: true, meshKey: meshKey.map(Hex.encode))
        let nonce = NaClBox.randomBytes(24)
        let box = try NaClBox.seal(
            Array(try JSONEncoder().encode(info)),
            nonce: nonce,
            recipientPublicKey: serverKey,
            senderPrivateKey: privateKey
        )
        try send(DERPFrame(type: .clientInfo, payload: NaClBox.publicKey(forPrivateKey: privateKey) + nonce + box))
        let reply = try nextFrame()
        guard reply.type == .serverInfo else {
            throw Failure(
                description: "the DERP relay \(url) sent \(reply.type) instead of ServerInfo; it rejected this client"
            )
        }
    }
}
