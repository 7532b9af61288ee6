import Foundation
import HSCore
import Testing

@testable import HSControl

@Suite struct PeerPatchTests {
    @Test func endpointChangeIsPatch() throws {
        let before = MapEncoderTests.sampleNode()
        var after = before
        after.endpoints = ["10.0.0.1:41641"]
        after.hostinfo = .object([("Hostname", .string("box")), ("NetInfo", .object([("PreferredDERP", .integer(901))]))])
        let patch = try #require(PeerPatch(before: before, after: after))
        #expect(patch.endpoints == ["10.0.0.1:41641"])
        #expect(patch.homeDERP == 901)
        #expect(patch.discoKey == nil)
        let message = patch.message(now: Date())
        #expect(message.count < 300)
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(message)) as? [String: Any])
        let entry = try #require((decoded["PeersChangedPatch"] as? [[String: Any]])?.first)
        #expect(entry["NodeID"] as? Int == 7)
        #expect(entry["DERPRegion"] as? Int == 901)
    }

    @Test func hostinfoChangeNeedsFullEntry() {
        let before = MapEncoderTests.sampleNode()
        var after = before
        after.endpoints = ["10.0.0.1:41641"]
        after.hostinfo = .object([("Hostname", .string("renamed"))])
        #expect(PeerPatch(before: before, after: after) == nil)
    }

    @Test func unchangedNodeHasNoPatch() {
        let node = MapEncoderTests.sampleNode()
        #expect(PeerPatch(before: node, after: node) == nil)
    }
}
