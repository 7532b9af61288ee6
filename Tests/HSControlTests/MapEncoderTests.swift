import Foundation
import HSCore
import Testing

@testable import HSControl

@Suite struct MapEncoderTests {
    static let settings = MapSettings(
        baseDomain: "tail.example",
        derpMap: TailnetSettings.derpMapJSON([]),
        dnsConfig: nil,
        fileSharing: false
    )

    static func sampleNode(online: Bool = true, expiry: Date? = nil) -> ControlNode {
        ControlNode(
            id: 7,
            machineKey: MachinePublicKey(bytes: [UInt8](repeating: 1, count: 32))!,
            nodeKey: NodePublicKey(bytes: [UInt8](repeating: 2, count: 32))!,
            discoKey: DiscoPublicKey(bytes: [UInt8](repeating: 3, count: 32))!,
            endpoints: ["127.0.0.1:41641"],
            hostinfo: .object([("Hostname", .string("box")), ("NetInfo", .object([("PreferredDERP", .integer(900))]))]),
            ipv4: "100.64.0.7",
            ipv6: "fd7a:115c:a1e0::7",
            hostname: "box",
            givenName: "box",
            userID: 1,
            tags: [],
            expiry: expiry,
            lastSeen: Date(timeIntervalSince1970: 1_700_000_000),
            createdAt: Date(timeIntervalSince1970: 1_600_000_000),
            authKeyID: 1,
            isEphemeral: false,
            capabilityVersion: 130,
            isOnline: online
        )
    }

    static func decode(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func peerCarriesWhatClientsNeed() throws {
        let peer = try Self.decode(MapEncoder(settings: Self.settings).peerJSON(Self.sampleNode(), now: Date()))
        #expect(peer["ID"] as? Int == 7)
        #expect(peer["StableID"] as? String == "7")
        #expect(peer["Name"] as? String == "box.tail.example.")
        #expect(peer["Addresses"] as? [String] == ["100.64.0.7/32", "fd7a:115c:a1e0::7/128"])
        #expect(peer["DiscoKey"] as? String == "discokey:" + String(repeating: "03", count: 32))
        #expect(peer["HomeDERP"] as? Int == 900)
        #expect(peer["Endpoints"] as? [String] == ["127.0.0.1:41641"])
        #expect(peer["MachineAuthorized"] as? Bool == true)
        #expect(peer["KeyExpiry"] as? String == "0001-01-01T00:00:00Z")
        #expect(peer["LastSeen"] == nil)
        let caps = try #require(peer["CapMap"] as? [String: Any])
        #expect(caps["disable-captive-portal-detection"] == nil)
    }

    @Test func selfNodeDisablesCaptivePortalChecks() throws {
        let node = try Self.decode(MapEncoder(settings: Self.settings).selfJSON(Self.sampleNode(), now: Date()))
        let caps = try #require(node["CapMap"] as? [String: Any])
        #expect(caps.keys.contains("disable-captive-portal-detection"))
    }

    @Test func offlinePeerHasLastSeen() throws {
        let peer = try Self.decode(MapEncoder(settings: Self.settings).peerJSON(Self.sampleNode(online: false), now: Date()))
        #expect(peer["Online"] as? Bool == false)
        #expect(peer["LastSeen"] as? String == "2023-11-14T22:13:20Z")
    }

    @Test func expiredNodeNotAuthorized() throws {
        let node = Self.sampleNode(expiry: Date(timeIntervalSince1970: 1_000))
        let peer = try Self.decode(MapEncoder(settings: Self.settings).peerJSON(node, now: Date()))
        #expect(peer["MachineAuthorized"] as? Bool == false)
        #expect(peer["Expired"] as? Bool == true)
        #expect(peer["KeyExpiry"] as? String == "1970-01-01T00:16:40Z")
    }

    @Test func fullMapOmitsEmptyPeers() throws {
        let encoder = MapEncoder(settings: Self.settings)
        let map = try Self.decode(
            MapMessages.fullMap(
                selfNode: encoder.selfJSON(Self.sampleNode(), now: Date()),
                peers: [],
                userProfiles: encoder.userProfilesJSON([], includeTagged: false),
                settings: Self.settings,
                packetFilter: TailnetSettings.allowAllFilter,
                sshPolicy: nil,
                now: Date()
            )
        )
        #expect(map["Peers"] == nil)
        #expect(map["Node"] != nil)
        #expect(map["DERPMap"] != nil)
        let filter = try #require(map["PacketFilter"] as? [[String: Any]])
        #expect(filter.first?["SrcIPs"] as? [String] == ["*"])
    }
}
