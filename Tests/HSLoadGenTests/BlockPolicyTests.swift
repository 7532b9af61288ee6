import Foundation
import HSLoadGen
import Testing

@Suite struct BlockPolicyTests {
    @Test func blocksFollowSequentialAddresses() throws {
        let policy = try BlockPolicy(addressCount: 100, blockSize: 16, hops: [1], markerPort: 65001)
        #expect(policy.blockCount == 7)
        #expect(policy.block(of: "100.64.0.1") == 0)
        #expect(policy.block(of: "100.64.0.16") == 1)
        #expect(policy.block(of: "100.64.1.0") == 16)
        #expect(policy.block(of: "100.65.0.0") == 4096)
        #expect(policy.block(of: "10.0.0.1") == nil)
        #expect(policy.block(of: "fd7a:115c:a1e0::1") == nil)
    }

    @Test func visibilityGoesBothWays() throws {
        let policy = try BlockPolicy(addressCount: 160, blockSize: 16, hops: [2], markerPort: 65001)
        // Block 0 reaches block 2, so both see each other; block 1 is neither.
        #expect(policy.isVisible("100.64.0.40", to: "100.64.0.3"))
        #expect(policy.isVisible("100.64.0.3", to: "100.64.0.40"))
        #expect(policy.isVisible("100.64.0.9", to: "100.64.0.3"))
        #expect(!policy.isVisible("100.64.0.20", to: "100.64.0.3"))
        // Block 9 reaches block 1 by wrapping around.
        #expect(policy.isVisible("100.64.0.150", to: "100.64.0.20"))
    }

    @Test func textHasOneRulePerBlock() throws {
        let policy = try BlockPolicy(addressCount: 64, blockSize: 32, hops: [1], markerPort: 65002)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(policy.text().utf8)) as? [String: Any]
        )
        let acls = try #require(object["acls"] as? [[String: Any]])
        #expect(acls.count == 2)
        #expect(acls[0]["src"] as? [String] == ["100.64.0.0/27"])
        #expect(acls[0]["dst"] as? [String] == ["100.64.0.0/27:1-65002", "100.64.0.32/27:1-65002"])
        #expect(acls[1]["dst"] as? [String] == ["100.64.0.32/27:1-65002", "100.64.0.0/27:1-65002"])
        #expect(policy.marker == "\"Last\":65002")
    }

    @Test func invalidBlockSizeIsRejected() {
        #expect(throws: LoadGenError.self) {
            try BlockPolicy(addressCount: 10, blockSize: 24, hops: [1], markerPort: 65001)
        }
    }

    @Test func selfAddressFromFullMap() {
        let json = Array(
            #"{"Node":{"ID":3,"Addresses":["fd7a:115c:a1e0::3/128","100.64.0.3/32"]},"Peers":[{"Addresses":["100.64.0.9/32"]}]}"#
                .utf8
        )
        #expect(SelfAddressScanner.ipv4(in: json) == "100.64.0.3")
        #expect(SelfAddressScanner.ipv4(in: Array(#"{"Peers":[]}"#.utf8)) == nil)
    }
}
