import Foundation
import Testing

@testable import HSControl

@Suite struct DNSConfigTests {
    @Test func cgnatPrefixHasSixtyFourZones() {
        let zones = ReverseZones.zones(for: "100.64.0.0/10")
        #expect(zones.count == 64)
        #expect(zones.first == "64.100.in-addr.arpa.")
        #expect(zones.last == "127.100.in-addr.arpa.")
    }

    @Test func octetAlignedPrefixHasOneZone() {
        #expect(ReverseZones.zones(for: "10.1.0.0/16") == ["1.10.in-addr.arpa."])
    }

    @Test func ipv6PrefixUsesNibbles() {
        #expect(ReverseZones.zones(for: "fd7a:115c:a1e0::/48") == ["0.e.1.a.c.5.1.1.a.7.d.f.ip6.arpa."])
        #expect(ReverseZones.zones(for: "fd7a:115c:a1e0::/46").count == 4)
    }

    @Test func malformedPrefixHasNoZones() {
        #expect(ReverseZones.zones(for: "100.64.0.0").isEmpty)
        #expect(ReverseZones.zones(for: "fd7a::zz/48").isEmpty)
    }

    static func decode(_ options: ServerOptions.DNS) throws -> [String: Any] {
        let json = DNSConfigEncoder(options: options, prefixes: ["100.64.0.0/10"]).encode()
        return try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
    }

    @Test func overrideSelectsResolvers() throws {
        var options = ServerOptions.DNS()
        options.baseDomain = "tail.test"
        options.nameservers = ["1.1.1.1"]
        options.overrideLocalDNS = true
        #expect((try Self.decode(options)["Resolvers"] as? [[String: Any]])?.first?["Addr"] as? String == "1.1.1.1")
        options.overrideLocalDNS = false
        let fallback = try Self.decode(options)
        #expect(fallback["Resolvers"] == nil)
        #expect((fallback["FallbackResolvers"] as? [[String: Any]])?.count == 1)
    }

    @Test func magicDNSRoutesBaseAndReverseZones() throws {
        var options = ServerOptions.DNS()
        options.baseDomain = "tail.test"
        options.searchDomains = ["corp.test"]
        options.splitNameservers = [("internal.test", ["10.0.0.53"])]
        let config = try Self.decode(options)
        let routes = try #require(config["Routes"] as? [String: Any])
        #expect((routes["tail.test."] as? [Any])?.isEmpty == true)
        #expect((routes["64.100.in-addr.arpa."] as? [Any])?.isEmpty == true)
        #expect((routes["internal.test."] as? [[String: Any]])?.first?["Addr"] as? String == "10.0.0.53")
        #expect(config["Domains"] as? [String] == ["tail.test", "corp.test"])
        #expect(config["Proxied"] as? Bool == true)
    }

    @Test func extraRecordsEncoded() throws {
        var options = ServerOptions.DNS()
        options.extraRecords = [("grafana.tail.test", "A", "100.64.0.9")]
        let records = try #require(try Self.decode(options)["ExtraRecords"] as? [[String: Any]])
        #expect(records.first?["Name"] as? String == "grafana.tail.test")
        #expect(records.first?["Type"] as? String == "A")
        #expect(records.first?["Value"] as? String == "100.64.0.9")
    }
}
