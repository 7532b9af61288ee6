import Foundation
import HSCore
import HSStore
import Testing

@testable import HSControl

/// A stand-in policy: nodes see and reach only nodes of their own user.
struct SameUserPolicy: PolicyCompiling {
    struct Compiled: CompiledPolicy {
        var owners: [UInt64: UInt64?]
        var addresses: [UInt64: [String]]

        var allowsAll: Bool { false }

        func visiblePeers(of nodeID: UInt64) -> Set<UInt64>? {
            Set(owners.filter { $0.key != nodeID && $0.value == owners[nodeID] ?? nil }.map(\.key))
        }

        func packetFilter(for nodeID: UInt64) -> [UInt8] {
            let sources = (visiblePeers(of: nodeID) ?? []).sorted().flatMap { addresses[$0] ?? [] }
            var writer = JSONWriter()
            writer.beginArray()
            writer.beginObject()
            writer.key("SrcIPs")
            writer.strings(sources)
            writer.endObject()
            writer.endArray()
            return writer.bytes
        }

        func sshPolicy(for nodeID: UInt64) -> [UInt8]? { nil }
    }

    func compile(nodes: [ControlNode], users: [ControlUser]) -> any CompiledPolicy {
        Compiled(
            owners: Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0.userID) }),
            addresses: Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0.ipv4.map { [$0] } ?? []) })
        )
    }
}

@Suite struct PolicyDeliveryTests {
    /// Registers a node of `userID` and opens its map stream.
    static func join(
        _ fixture: PlaneFixture,
        hostname: String,
        userID: UInt64
    ) throws -> (FakeClient, RecordingSink, [String: Any]) {
        let client = FakeClient(hostname: hostname)
        let key = try fixture.store.createPreAuthKey(
            userID: userID,
            reusable: false,
            ephemeral: false,
            expiration: nil,
            tags: []
        ).secret
        _ = fixture.plane.register(try client.registerRequest(authKey: key), machineKey: client.machineKey)
        let sink = RecordingSink()
        let (_, first) = try fixture.plane.openMapStream(
            try client.mapRequest(stream: true),
            machineKey: client.machineKey,
            sink: sink
        )
        return (client, sink, try MapStreamDecoding.decode(framed: first))
    }

    static func peerNames(_ message: [String: Any], key: String = "Peers") -> [String] {
        ((message[key] as? [[String: Any]]) ?? []).compactMap { $0["Name"] as? String }
    }

    @Test func peersLimitedToVisibleNodes() throws {
        let fixture = try PlaneFixture()
        let bob = try fixture.store.createUser(name: "bob").id
        try fixture.plane.reloadUsers()
        fixture.plane.setPolicy(SameUserPolicy())
        let (_, sinkA1, _) = try Self.join(fixture, hostname: "a1", userID: fixture.userID)
        let (_, sinkB1, _) = try Self.join(fixture, hostname: "b1", userID: bob)
        let (_, _, fullA2) = try Self.join(fixture, hostname: "a2", userID: fixture.userID)

        #expect(Self.peerNames(fullA2) == ["a1.tail.test."])
        let filter = try #require(fullA2["PacketFilter"] as? [[String: Any]])
        #expect(filter.first?["SrcIPs"] as? [String] == ["100.64.0.1"])
        let seenByA1 = try sinkA1.decoded().flatMap { Self.peerNames($0, key: "PeersChanged") }
        #expect(seenByA1.contains("a2.tail.test."))
        #expect(!seenByA1.contains("b1.tail.test."))
        let seenByB1 = try sinkB1.decoded().flatMap { Self.peerNames($0, key: "PeersChanged") }
        #expect(seenByB1.isEmpty)
    }

    @Test func policyChangeSendsOnlyDifferences() throws {
        let fixture = try PlaneFixture()
        let bob = try fixture.store.createUser(name: "bob").id
        try fixture.plane.reloadUsers()
        fixture.plane.setPolicy(SameUserPolicy())
        let (_, sinkA, _) = try Self.join(fixture, hostname: "a", userID: fixture.userID)
        let (_, sinkB, _) = try Self.join(fixture, hostname: "b", userID: bob)
        let before = try sinkA.decoded().count

        fixture.plane.setPolicy(AllowAllPolicy())
        let delta = try #require(try sinkA.decoded().dropFirst(before).last)
        #expect(Self.peerNames(delta, key: "PeersChanged") == ["b.tail.test."])
        let filter = try #require(delta["PacketFilter"] as? [[String: Any]])
        #expect(filter.first?["SrcIPs"] as? [String] == ["*"])
        #expect(Self.peerNames(try #require(try sinkB.decoded().last), key: "PeersChanged") == ["a.tail.test."])

        let countA = try sinkA.decoded().count
        fixture.plane.setPolicy(AllowAllPolicy())
        #expect(try sinkA.decoded().count == countA)

        fixture.plane.setPolicy(SameUserPolicy())
        let isolated = try #require(try sinkA.decoded().last)
        #expect(isolated["PeersRemoved"] as? [Int] == [2])
    }
}
