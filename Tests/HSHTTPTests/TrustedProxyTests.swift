import HSHTTP
import Testing

/// `trusted_proxies`: client addresses from proxy headers, over real sockets on 127.0.0.1.
@Suite struct TrustedProxyTests {
    /// Serves one request whose response body is its `remoteAddress`, and returns that address.
    static func remoteAddress(trusted: [String], headers: [String]) throws -> String {
        var configuration = HTTPServerConfiguration()
        configuration.trustedProxies = try trusted.map { try #require(IPNetwork(cidr: $0)) }
        let server = try RunningServer(configuration: configuration) { request, responder in
            responder.respond(.text(200, request.remoteAddress))
        }
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        try client.send(httpRequest("/", headers: headers))
        let response = try client.readResponse()
        #expect(response.status == 200)
        return String(decoding: response.body, as: UTF8.self)
    }

    @Test func trustedPeerUsesForwardedAddress() throws {
        let address = try Self.remoteAddress(trusted: ["127.0.0.0/8"], headers: ["X-Forwarded-For: 203.0.113.9"])
        #expect(address == "203.0.113.9")
    }

    @Test func untrustedPeerKeepsOwnAddress() throws {
        let address = try Self.remoteAddress(trusted: ["10.0.0.0/8"], headers: ["X-Forwarded-For: 203.0.113.9"])
        #expect(address.hasPrefix("127.0.0.1:"))
    }

    @Test func forgedHeadersIgnoredWithoutTrust() throws {
        let address = try Self.remoteAddress(
            trusted: [],
            headers: ["True-Client-IP: 198.51.100.1", "X-Real-IP: 198.51.100.2", "X-Forwarded-For: 198.51.100.3"]
        )
        #expect(address.hasPrefix("127.0.0.1:"))
    }

    @Test func headerPrecedence() throws {
        let all = ["X-Forwarded-For: 198.51.100.3", "X-Real-IP: 198.51.100.2", "True-Client-IP: 198.51.100.1"]
        #expect(try Self.remoteAddress(trusted: ["127.0.0.1/32"], headers: all) == "198.51.100.1")
        let noTrueClient = Array(all.prefix(2))
        #expect(try Self.remoteAddress(trusted: ["127.0.0.1/32"], headers: noTrueClient) == "198.51.100.2")
        let invalidRealIP = ["X-Real-IP: not-an-address", "X-Forwarded-For: 198.51.100.3"]
        #expect(try Self.remoteAddress(trusted: ["127.0.0.1/32"], headers: invalidRealIP) == "198.51.100.3")
    }

    @Test func forwardedForTakesRightmostUntrusted() throws {
        // The client forged 192.0.2.66; the outer proxy 10.1.2.3 added the real client 203.0.113.9.
        let headers = ["X-Forwarded-For: 192.0.2.66, 203.0.113.9, 10.1.2.3"]
        let address = try Self.remoteAddress(trusted: ["127.0.0.0/8", "10.0.0.0/8"], headers: headers)
        #expect(address == "203.0.113.9")
    }

    @Test func forwardedForAcrossHeaderLines() throws {
        let headers = ["X-Forwarded-For: 2001:db8::7", "X-Forwarded-For: 10.9.9.9"]
        let address = try Self.remoteAddress(trusted: ["127.0.0.0/8", "10.0.0.0/8"], headers: headers)
        #expect(address == "2001:db8::7")
    }

    @Test func allTrustedTakesLeftmost() throws {
        let headers = ["X-Forwarded-For: 10.0.0.5, 10.0.0.6"]
        let address = try Self.remoteAddress(trusted: ["127.0.0.0/8", "10.0.0.0/8"], headers: headers)
        #expect(address == "10.0.0.5")
    }

    @Test func garbledForwardedForKeepsPeer() throws {
        let headers = ["X-Forwarded-For: 203.0.113.9, unknown"]
        let address = try Self.remoteAddress(trusted: ["127.0.0.0/8"], headers: headers)
        #expect(address.hasPrefix("127.0.0.1:"))
    }

    @Test func networkParsesAndMatches() throws {
        let v4 = try #require(IPNetwork(cidr: "10.1.0.0/16"))
        #expect(v4.description == "10.1.0.0/16")
        #expect(v4.contains([10, 1, 200, 3]))
        #expect(!v4.contains([10, 2, 0, 1]))
        let v6 = try #require(IPNetwork(cidr: "fd00::/8"))
        #expect(v6.description == "fd00::/8")
        #expect(v6.contains([0xfd] + [UInt8](repeating: 0, count: 14) + [1]))
        #expect(!v6.contains([10, 1, 0, 0]))
        #expect(IPNetwork(cidr: "10.0.0.0") == nil)
        #expect(IPNetwork(cidr: "10.0.0.0/33") == nil)
        #expect(IPNetwork(cidr: "10.0.0.0/-1") == nil)
        #expect(IPNetwork(cidr: "host/8") == nil)
    }
}
