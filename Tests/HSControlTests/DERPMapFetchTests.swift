import Foundation
import HSCore
import HSPosix
import HSTLS
import Testing

@testable import HSControl

@Suite(.serialized) struct DERPMapFetchTests {
    static let body = #"{"Regions":{"7":{"RegionID":7,"Nodes":[{"Name":"7a","RegionID":7,"HostName":"relay.test"}]}}}"#

    @Test func plainHTTPFetchReturnsBody() async throws {
        let server = try CannedHTTPServer(responses: [CannedHTTPServer.ok(Self.body)])
        let body = try await runBlocking { try HTTPFetcher().get(server.url()) }
        #expect(String(decoding: body, as: UTF8.self) == Self.body)
        let head = try #require(server.requestHeads.first)
        #expect(head.hasPrefix("GET /derpmap.json HTTP/1.1\r\n"))
        #expect(head.contains("Host: 127.0.0.1:\(server.listener.localPort)\r\n"))
    }

    @Test func ipv6TargetUsesBrackets() throws {
        let target = try FetchTarget(url: "http://[::1]:8080/map?x=1")
        #expect(target.host == "::1")
        #expect(target.port == 8080)
        #expect(
            String(decoding: target.requestHead, as: UTF8.self).hasPrefix(
                "GET /map?x=1 HTTP/1.1\r\nHost: [::1]:8080\r\n"
            )
        )
    }

    @Test func invalidURLIsNamed() {
        #expect {
            try FetchTarget(url: "ftp://example.com/map")
        } throws: { error in
            "\(error)".contains("ftp://example.com/map")
        }
    }

    @Test func chunkedBodyIsDecoded() async throws {
        let response =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"Reg\r\n"
            + "10\r\nions\":{}}       \r\n0\r\n\r\n"
        let server = try CannedHTTPServer(responses: [Array(response.utf8)])
        let body = try await runBlocking { try HTTPFetcher().get(server.url()) }
        #expect(String(decoding: body, as: UTF8.self) == "{\"Regions\":{}}       ")
    }

    @Test func errorStatusNamesStatusAndURL() async throws {
        let server = try CannedHTTPServer(responses: [CannedHTTPServer.ok("no", status: "503 Service Unavailable")])
        await #expect {
            try await runBlocking { try HTTPFetcher().get(server.url()) }
        } throws: { error in
            "\(error)".contains("status 503") && "\(error)".contains(server.url())
        }
    }

    @Test func oversizedBodyIsRejected() async throws {
        let server = try CannedHTTPServer(responses: [CannedHTTPServer.ok(String(repeating: "x", count: 5000))])
        var fetcher = HTTPFetcher()
        fetcher.maxBodyBytes = 1000
        await #expect {
            try await runBlocking { [fetcher] in try fetcher.get(server.url()) }
        } throws: { error in
            "\(error)".contains("limit of 1000") || "\(error)".contains("larger than 1000")
        }
    }

    @Test func refusedConnectionIsReported() async throws {
        // Nothing listens on port 1 of the loopback address.
        await #expect {
            try await runBlocking { try HTTPFetcher().get("http://127.0.0.1:1/map") }
        } throws: { error in
            "\(error)".contains("connecting to 127.0.0.1 port 1") && "\(error)".contains("http://127.0.0.1:1/map")
        }
    }

    @Test func httpsFetchVerifiesTrustedCertificate() async throws {
        let certificates = try TestCertificates()
        let pair = try await runBlocking { try certificates.selfSigned("server") }
        let server = try CannedHTTPServer(
            responses: [CannedHTTPServer.ok(Self.body)],
            tls: try TLSServerContext(certificatePath: pair.certificate, keyPath: pair.key)
        )
        var fetcher = HTTPFetcher()
        fetcher.trustedCertificatesPath = pair.certificate
        let body = try await runBlocking { [fetcher] in try fetcher.get(server.url()) }
        #expect(String(decoding: body, as: UTF8.self) == Self.body)
    }

    @Test func httpsRejectsUntrustedCertificate() async throws {
        let certificates = try TestCertificates()
        let pair = try await runBlocking { try certificates.selfSigned("server") }
        let other = try await runBlocking { try certificates.selfSigned("other") }
        let server = try CannedHTTPServer(
            responses: [CannedHTTPServer.ok(Self.body)],
            tls: try TLSServerContext(certificatePath: pair.certificate, keyPath: pair.key)
        )
        var fetcher = HTTPFetcher()
        fetcher.trustedCertificatesPath = other.certificate
        await #expect {
            try await runBlocking { [fetcher] in try fetcher.get(server.url()) }
        } throws: { error in
            "\(error)".contains("certificate verify failed") || "\(error)".contains("self-signed")
        }
    }

    @Test func httpsRejectsWrongHostName() async throws {
        let certificates = try TestCertificates()
        let pair = try await runBlocking { try certificates.selfSigned("server", altName: "DNS:other.example") }
        let server = try CannedHTTPServer(
            responses: [CannedHTTPServer.ok(Self.body)],
            tls: try TLSServerContext(certificatePath: pair.certificate, keyPath: pair.key)
        )
        var fetcher = HTTPFetcher()
        fetcher.trustedCertificatesPath = pair.certificate
        await #expect {
            try await runBlocking { [fetcher] in try fetcher.get(server.url()) }
        } throws: { error in
            "\(error)".contains("mismatch") || "\(error)".contains("verify failed")
        }
    }

    @Test func httpsUsesSSLCertFileForSystemRoots() async throws {
        let certificates = try TestCertificates()
        let pair = try await runBlocking { try certificates.selfSigned("server") }
        let server = try CannedHTTPServer(
            responses: [CannedHTTPServer.ok(Self.body)],
            tls: try TLSServerContext(certificatePath: pair.certificate, keyPath: pair.key)
        )
        let previous = ProcessInfo.processInfo.environment["SSL_CERT_FILE"]
        setenv("SSL_CERT_FILE", pair.certificate, 1)
        defer {
            if let previous { setenv("SSL_CERT_FILE", previous, 1) } else { unsetenv("SSL_CERT_FILE") }
        }
        let body = try await runBlocking { try HTTPFetcher().get(server.url()) }
        #expect(String(decoding: body, as: UTF8.self) == Self.body)
    }
}
