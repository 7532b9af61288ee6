import Foundation
import HSCore
import HSPosix
import HSTLS
import Testing

@testable import HSControl

@Suite(.serialized) struct DERPMapFetchTests {
    static let body = #"{"Regions":{"7":{"RegionID":7,"Nodes":[{"Name":"7a","RegionID":7,"HostName":"relay.test"}]}}}"#

    @Test func plainHTTPFetchReturnsBody() throws {
        let server = try CannedHTTPServer(responses: [CannedHTTPServer.ok(Self.body)])
        let body = try HTTPFetcher().get(server.url())
        #expect(String(decoding: body, as: UTF8.self) == Self.body)
        let head = try #require(server.requestHeads.first)
        #expect(head.hasPrefix("GET /derpmap.json HTTP/1.1\r\n"))
        #expect(head.contains("Host: 127.0.0.1:\(server.listener.localPort)\r\n"))
    }

    @Test func chunkedBodyIsDecoded() throws {
        let response =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"Reg\r\n"
            + "10\r\nions\":{}}       \r\n0\r\n\r\n"
        let server = try CannedHTTPServer(responses: [Array(response.utf8)])
        let body = try HTTPFetcher().get(server.url())
        #expect(String(decoding: body, as: UTF8.self) == "{\"Regions\":{}}       ")
    }

    @Test func errorStatusNamesStatusAndURL() throws {
        let server = try CannedHTTPServer(responses: [CannedHTTPServer.ok("no", status: "503 Service Unavailable")])
        #expect {
            try HTTPFetcher().get(server.url())
        } throws: { error in
            "\(error)".contains("status 503") && "\(error)".contains(server.url())
        }
    }

    @Test func oversizedBodyIsRejected() throws {
        let server = try CannedHTTPServer(responses: [CannedHTTPServer.ok(String(repeating: "x", count: 5000))])
        var fetcher = HTTPFetcher()
        fetcher.maxBodyBytes = 1000
        #expect {
            try fetcher.get(server.url())
        } throws: { error in
            "\(error)".contains("limit of 1000") || "\(error)".contains("larger than 1000")
        }
    }

    @Test func refusedConnectionIsReported() throws {
        // Nothing listens on port 1 of the loopback address.
        #expect {
            try HTTPFetcher().get("http://127.0.0.1:1/map")
        } throws: { error in
            "\(error)".contains("connecting to 127.0.0.1 port 1") && "\(error)".contains("http://127.0.0.1:1/map")
        }
    }

    @Test func httpsFetchVerifiesTrustedCertificate() throws {
        let certificates = try TestCertificates()
        let pair = try certificates.selfSigned("server")
        let server = try CannedHTTPServer(
            responses: [CannedHTTPServer.ok(Self.body)],
            tls: try TLSServerContext(certificatePath: pair.certificate, keyPath: pair.key)
        )
        var fetcher = HTTPFetcher()
        fetcher.trustedCertificatesPath = pair.certificate
        #expect(String(decoding: try fetcher.get(server.url()), as: UTF8.self) == Self.body)
    }

    @Test func httpsRejectsUntrustedCertificate() throws {
        let certificates = try TestCertificates()
        let pair = try certificates.selfSigned("server")
        let other = try certificates.selfSigned("other")
        let server = try CannedHTTPServer(
            responses: [CannedHTTPServer.ok(Self.body)],
            tls: try TLSServerContext(certificatePath: pair.certificate, keyPath: pair.key)
        )
        var fetcher = HTTPFetcher()
        fetcher.trustedCertificatesPath = other.certificate
        #expect {
            try fetcher.get(server.url())
        } throws: { error in
            "\(error)".contains("certificate verify failed") || "\(error)".contains("self-signed")
        }
    }

    @Test func httpsRejectsWrongHostName() throws {
        let certificates = try TestCertificates()
        let pair = try certificates.selfSigned("server", altName: "DNS:other.example")
        let server = try CannedHTTPServer(
            responses: [CannedHTTPServer.ok(Self.body)],
            tls: try TLSServerContext(certificatePath: pair.certificate, keyPath: pair.key)
        )
        var fetcher = HTTPFetcher()
        fetcher.trustedCertificatesPath = pair.certificate
        #expect {
            try fetcher.get(server.url())
        } throws: { error in
            "\(error)".contains("mismatch") || "\(error)".contains("verify failed")
        }
    }

    @Test func httpsUsesSSLCertFileForSystemRoots() throws {
        let certificates = try TestCertificates()
        let pair = try certificates.selfSigned("server")
        let server = try CannedHTTPServer(
            responses: [CannedHTTPServer.ok(Self.body)],
            tls: try TLSServerContext(certificatePath: pair.certificate, keyPath: pair.key)
        )
        let previous = ProcessInfo.processInfo.environment["SSL_CERT_FILE"]
        setenv("SSL_CERT_FILE", pair.certificate, 1)
        defer {
            if let previous { setenv("SSL_CERT_FILE", previous, 1) } else { unsetenv("SSL_CERT_FILE") }
        }
        #expect(String(decoding: try HTTPFetcher().get(server.url()), as: UTF8.self) == Self.body)
    }
}
