import Foundation
import HSCore
import Testing

@testable import HSControl

/// `logtail.enabled` and `auto_update.enabled` as they appear in encoded maps.
@Suite struct ClientTogglesTests {
    static func fullMap(_ settings: MapSettings) throws -> [String: Any] {
        let encoder = MapEncoder(settings: settings)
        return try MapEncoderTests.decode(
            MapMessages.fullMap(
                selfNode: encoder.selfJSON(MapEncoderTests.sampleNode(), now: Date()),
                peers: [encoder.peerJSON(MapEncoderTests.sampleNode(), now: Date())],
                userProfiles: encoder.userProfilesJSON([], includeTagged: false),
                settings: settings,
                packetFilter: TailnetSettings.allowAllFilter,
                sshPolicy: nil,
                now: Date()
            )
        )
    }

    @Test func logTailOffByDefault() throws {
        let map = try Self.fullMap(MapEncoderTests.settings)
        let debug = try #require(map["Debug"] as? [String: Any])
        #expect(debug["DisableLogTail"] as? Bool == true)
    }

    @Test func logTailEnabledOmitsDebug() throws {
        var settings = MapEncoderTests.settings
        settings.logTailEnabled = true
        let map = try Self.fullMap(settings)
        #expect(map["Debug"] == nil)
        #expect(map["Node"] != nil)
    }

    @Test func autoUpdateDefaultsToFalse() throws {
        let map = try Self.fullMap(MapEncoderTests.settings)
        let node = try #require(map["Node"] as? [String: Any])
        let caps = try #require(node["CapMap"] as? [String: Any])
        #expect(caps["default-auto-update"] as? [Bool] == [false])
        let peer = try #require((map["Peers"] as? [[String: Any]])?.first)
        let peerCaps = try #require(peer["CapMap"] as? [String: Any])
        #expect(peerCaps["default-auto-update"] as? [Bool] == [false])
    }

    @Test func autoUpdateEnabledSendsTrue() throws {
        var settings = MapEncoderTests.settings
        settings.defaultAutoUpdate = true
        let encoder = MapEncoder(settings: settings)
        let text = String(decoding: encoder.selfJSON(MapEncoderTests.sampleNode(), now: Date()), as: UTF8.self)
        #expect(text.contains(#""default-auto-update":[true]"#))
    }

    @Test func policyAttributeWinsOverConfig() throws {
        var settings = MapEncoderTests.settings
        settings.defaultAutoUpdate = true
        let extras = NodeExtras(capabilities: ["default-auto-update": [.bool(false)]])
        let node = try MapEncoderTests.decode(
            MapEncoder(settings: settings).selfJSON(MapEncoderTests.sampleNode(), extras: extras, now: Date())
        )
        let caps = try #require(node["CapMap"] as? [String: Any])
        #expect(caps["default-auto-update"] as? [Bool] == [false])
    }
}
