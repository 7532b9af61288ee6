import Foundation
import HSHTTP
import HSPosix
import HSTLS
import Testing

@Suite struct TLSTests {
    /// An HTTPS server on an ephemeral port with a fresh self-signed certificate.
    struct Fixture {
        let directory: String
        let certificate: String
        let key: String
        let context: TLSServerContext
        let listener: TCPListener

        init() throws {
            directory = NSTemporaryDirectory() + "hs-tls-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            (certificate, key) = try OpenSSLTool.makeCertificate(in: directory, commonName: "first")
            let context = try TLSServerContext(certificatePath: certificate, keyPath: key)
            let server = HTTPServer(
                handler: ClosureHandler { request, responder in
                    if request.path == "/large" {
                        responder.respond(HTTPResponse(status: 200, body: [UInt8](repeating: 0x78, count: 200_000)))
                        return
                    }
                    responder.respond(.text(200, "secure=\(request.isSecure) path=\(request.path)"))
                },
                logger: testLogger
            )
            listener = try TCPListener(host: "127.0.0.1", port: 0, logger: testLogger)
            listener.start { stream in
                server.serve(TLSStream.wrap(stream, context: context, logger: testLogger), isSecure: true)
            }
            self.context = context
        }

        func tearDown() {
            listener.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    let closingRequest = "GET /tls HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"

    @Test func httpsRequestAnswered() throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }

        let output = try OpenSSLTool.connect(port: fixture.listener.localPort, request: closingRequest)
        #expect(output.stdout.contains("HTTP/1.1 200 OK"))
        #expect(output.stdout.contains("secure=true path=/tls"))
        #expect(output.stdout.contains("subject=CN = first"))
    }

    @Test func largeBodyOverManyRecords() throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }

        let request = "GET /large HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        let output = try OpenSSLTool.connect(port: fixture.listener.localPort, request: request, extra: ["-quiet"])
        #expect(output.stdout.contains("Content-Length: 200000"))
        #expect(output.stdout.filter { $0 == "x" }.count == 200_000)
    }

    @Test func alpnSelectsHTTP11() throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }

        let offered = try OpenSSLTool.connect(
            port: fixture.listener.localPort,
            request: closingRequest,
            extra: ["-alpn", "h2,http/1.1"]
        )
        #expect(offered.stdout.contains("ALPN protocol: http/1.1"))
        let onlyH2 = try OpenSSLTool.connect(
            port: fixture.listener.localPort,
            request: closingRequest,
            extra: ["-alpn", "h2"]
        )
        #expect(onlyH2.stdout.contains("No ALPN negotiated"))
        #expect(onlyH2.stdout.contains("HTTP/1.1 200 OK"))
    }

    @Test func tls12StillAccepted() throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }

        let output = try OpenSSLTool.connect(
            port: fixture.listener.localPort,
            request: closingRequest,
            extra: ["-tls1_2"]
        )
        #expect(output.stdout.contains("Protocol  : TLSv1.2"))
        #expect(output.stdout.contains("secure=true"))
    }

    @Test func tls11Rejected() throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }

        // SECLEVEL=0 lets the client itself offer TLS 1.1, so the refusal must come from the server.
        let output = try OpenSSLTool.connect(
            port: fixture.listener.localPort,
            request: closingRequest,
            extra: ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]
        )
        #expect(output.status != 0)
        #expect(!output.stdout.contains("secure=true"))
        #expect(output.stderr.contains("alert protocol version"))
    }

    @Test func reloadServesNewCertificate() throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }

        let before = try OpenSSLTool.connect(port: fixture.listener.localPort, request: closingRequest)
        #expect(before.stdout.contains("subject=CN = first"))
        let replacement = try OpenSSLTool.makeCertificate(in: fixture.directory, commonName: "second", name: "next")
        try FileManager.default.removeItem(atPath: fixture.certificate)
        try FileManager.default.removeItem(atPath: fixture.key)
        try FileManager.default.moveItem(atPath: replacement.certificate, toPath: fixture.certificate)
        try FileManager.default.moveItem(atPath: replacement.key, toPath: fixture.key)
        try fixture.context.reload()

        let after = try OpenSSLTool.connect(port: fixture.listener.localPort, request: closingRequest)
        #expect(after.stdout.contains("subject=CN = second"))
        #expect(after.stdout.contains("secure=true"))
    }

    @Test func failedReloadKeepsOldCertificate() throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }

        try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: fixture.certificate))
        #expect(throws: TLSError.self) { try fixture.context.reload() }
        let output = try OpenSSLTool.connect(port: fixture.listener.localPort, request: closingRequest)
        #expect(output.stdout.contains("subject=CN = first"))
    }

    @Test func garbageClosesConnection() throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }

        let client = try TestClient(port: fixture.listener.localPort, timeout: 5)
        try client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        // Whatever alert OpenSSL sends, the connection must end instead of waiting for a handshake.
        _ = try client.receiveUntilClose()
    }

    @Test func certificateFingerprintMatchesOpenSSL() throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }

        let output = try OpenSSLTool.run(["x509", "-in", fixture.certificate, "-noout", "-fingerprint", "-sha256"])
        let expected = try #require(output.stdout.split(separator: "=").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: ":", with: "")
            .lowercased()
        let fingerprint = try certificateSHA256(path: fixture.certificate)
        #expect(fingerprint.count == 64)
        #expect(fingerprint == expected)
    }

    @Test func missingKeyNamed() throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }

        let missing = fixture.directory + "/absent.key"
        #expect {
            _ = try TLSServerContext(certificatePath: fixture.certificate, keyPath: missing)
        } throws: { error in
            "\(error)".contains(missing) && "\(error)".contains("does not exist")
        }
    }

    @Test func mismatchedKeyRejected() throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }

        let other = try OpenSSLTool.makeCertificate(in: fixture.directory, commonName: "other", name: "other")
        #expect {
            _ = try TLSServerContext(certificatePath: fixture.certificate, keyPath: other.key)
        } throws: { error in
            "\(error)".contains(other.key) && "\(error)".contains("does not belong")
        }
    }

    @Test func nonPEMCertificateRejected() throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }

        let bogus = fixture.directory + "/bogus.crt"
        try Data("hello".utf8).write(to: URL(fileURLWithPath: bogus))
        #expect {
            _ = try TLSServerContext(certificatePath: bogus, keyPath: fixture.key)
        } throws: { error in
            "\(error)".contains(bogus) && "\(error)".contains("PEM")
        }
        #expect(throws: TLSError.self) { _ = try certificateSHA256(path: bogus) }
    }
}
