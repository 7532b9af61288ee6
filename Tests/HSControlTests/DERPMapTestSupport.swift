import Foundation
import HSCore
import HSPosix
import HSTLS
import Synchronization
import Testing

/// A local HTTP(S) server on 127.0.0.1 that responds to every request with the next canned response
/// (the last one repeats) and closes the connection, recording the request heads.
final class CannedHTTPServer: Sendable {
    let listener: TCPListener
    private let responses: Mutex<[[UInt8]]>
    private let heads = Mutex<[String]>([])
    let scheme: String

    init(responses: [[UInt8]], tls: TLSServerContext? = nil) throws {
        self.responses = Mutex(responses)
        scheme = tls == nil ? "http" : "https"
        listener = try TCPListener(host: "127.0.0.1", port: 0, logger: Logger(label: "canned", minimumLevel: .critical))
        listener.start { [self] raw in
            let stream = tls.map { TLSStream.wrap(raw, context: $0) } ?? raw
            let connection = CannedConnection(server: self)
            stream.queue.async { stream.setHandler(connection) }
        }
    }

    deinit { listener.stop() }

    func url(_ path: String = "/derpmap.json") -> String {
        "\(scheme)://127.0.0.1:\(listener.localPort)\(path)"
    }

    var requestHeads: [String] { heads.withLock { $0 } }

    /// Builds a response with `body` and `Content-Length`.
    static func ok(_ body: String, status: String = "200 OK") -> [UInt8] {
        Array(
            "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                .utf8
        )
    }

    fileprivate func nextResponse(for head: String) -> [UInt8] {
        heads.withLock { $0.append(head) }
        return responses.withLock { queue in queue.count > 1 ? queue.removeFirst() : queue[0] }
    }
}

private final class CannedConnection: ByteStreamHandler, @unchecked Sendable {
    let server: CannedHTTPServer
    var received: [UInt8] = []
    var answered = false

    init(server: CannedHTTPServer) {
        self.server = server
    }

    func stream(_ stream: any ByteStream, didRead bytes: [UInt8]) {
        received += bytes
        guard !answered, let text = String(bytes: received, encoding: .utf8), text.contains("\r\n\r\n") else { return }
        answered = true
        stream.write(server.nextResponse(for: text))
        stream.close()
    }

    func streamDidClose(_ stream: any ByteStream) {}
}

/// A temporary directory with certificates made by the `openssl` command line tool.
struct TestCertificates {
    let directory: String

    init() throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("hs-derpmap-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// Writes a self-signed certificate `name.pem` with key `name.key` for the given subjectAltName.
    func selfSigned(_ name: String, altName: String = "IP:127.0.0.1") throws -> (certificate: String, key: String) {
        let certificate = "\(directory)/\(name).pem"
        let key = "\(directory)/\(name).key"
        try Self.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=\(name)", "-addext", "subjectAltName=\(altName)", "-keyout", key, "-out", certificate,
        ])
        return (certificate, key)
    }

    /// Writes a leaf `name.pem`/`name.key` for 127.0.0.1 signed by the self-signed CA `ca`.
    func signed(_ name: String, by ca: (certificate: String, key: String)) throws -> (certificate: String, key: String)
    {
        let certificate = "\(directory)/\(name).pem"
        let key = "\(directory)/\(name).key"
        let request = "\(directory)/\(name).csr"
        try Self.openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-subj", "/CN=\(name)", "-keyout", key, "-out", request,
        ])
        try Self.openssl([
            "x509", "-req", "-in", request, "-CA", ca.certificate, "-CAkey", ca.key, "-CAcreateserial",
            "-days", "2", "-out", certificate,
        ])
        return (certificate, key)
    }

    /// SHA-256 of the certificate's DER encoding, computed by `openssl`.
    func derSHA256(_ certificate: String) throws -> String {
        let der = "\(certificate).der"
        try Self.openssl(["x509", "-in", certificate, "-outform", "DER", "-out", der])
        let output = try Self.run("/usr/bin/env", ["sha256sum", der])
        return String(output.prefix { $0 != " " })
    }

    static func openssl(_ arguments: [String]) throws {
        _ = try run("/usr/bin/env", ["openssl"] + arguments)
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(arguments.joined(separator: " ")) failed")
        return String(decoding: data, as: UTF8.self)
    }
}

/// Runs blocking work (socket fetches, `openssl` runs) on a Dispatch queue and awaits it, so it
/// does not occupy a thread of the small cooperative pool that the other async tests need.
func runBlocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try work() })
        }
    }
}
