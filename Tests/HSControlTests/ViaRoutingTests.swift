import Foundation
import HSCore
import HSPolicy
import HSStore
import Synchronization
import Testing

@testable import HSControl

/// A control plane whose sources of a `via` grant see the granted prefix on the tagged router.
@Suite struct ViaRoutingTests {
    static let prefix = "10.9.0.0/24"

    /// `tag:src` nodes reach the prefix through `tag:a` routers; `tag:plain` nodes through any
    /// router. Both may reach the untagged nodes on port 22, so they see the untagged router too.
    static let viaPolicy = #"""
        {"tagOwners": {"tag:a": ["alice@"], "tag:src": ["alice@"], "tag:plain": ["alice@"]},
         "grants": [
           {"src": ["tag:src"], "dst": ["10.9.0.0/24"], "ip": ["*"], "via": ["tag:a"]},
           {"src": ["tag:plain"], "dst": ["10.9.0.0/24"], "ip": ["*"]},
           {"src": ["tag:src", "tag:plain"], "dst": ["autogroup:member"], "ip": ["tcp:22"]}
         ]}
        """#

    /// The same tailnet without the `via` grant: `tag:src` nodes reach the prefix like `tag:plain`.
    static let plainPolicy = #"""
        {"tagOwners": {"tag:a": ["alice@"], "tag:src": ["alice@"], "tag:plain": ["alice@"]},
         "grants": [
           {"src": ["tag:src", "tag:plain"], "dst": ["10.9.0.0/24"], "ip": ["*"]},
           {"src": ["tag:src", "tag:plain"], "dst": ["autogroup:member"], "ip": ["tcp:22"]}
         ]}
        """#

    struct Member {
        var id: UInt64
        var client: FakeClient
        var token: MapStreamToken
        var sink: RecordingSink
    }

    /// Routers r1 (untagged, the primary) and r2 (`tag:a`) for the prefix, a `tag:src` viewer and a
    /// `tag:plain` viewer, with `viaPolicy` in force.
    struct Tailnet {
        let fixture: PlaneFixture
        var members: [String: Member] = [:]

        init() throws {
            fixture = try PlaneFixture()
            for name in ["r1", "r2"] {
                members[name] = try join(name, routes: [ViaRoutingTests.prefix])
                _ = try fixture.plane.setApprovedRoutes(id: members[name]!.id, to: [ViaRoutingTests.prefix])
            }
            members["viewer"] = try join("viewer")
            members["plain"] = try join("plain")
            _ = try fixture.plane.setTags(id: members["r2"]!.id, to: ["tag:a"])
            _ = try fixture.plane.setTags(id: members["viewer"]!.id, to: ["tag:src"])
            _ = try fixture.plane.setTags(id: members["plain"]!.id, to: ["tag:plain"])
            try setPolicy(ViaRoutingTests.viaPolicy)
        }

        func join(_ hostname: String, routes: [String] = []) throws -> Member {
            let client = FakeClient(hostname: hostname)
            _ = fixture.plane.register(
                try client.registerRequest(authKey: fixture.makeKey()),
                machineKey: client.machineKey
            )
            let sink = RecordingSink()
            let (token, _) = try fixture.plane.openMapStream(
                try RouteDeliveryTests.mapRequest(client, routes: routes),
                machineKey: client.machineKey,
                sink: sink
            )
            return Member(id: token.nodeID, client: client, token: token, sink: sink)
        }

        func setPolicy(_ text: String) throws {
            let compiler = PolicyEngineCompiler(policy: try Policy.parse(text), serverURL: "http://127.0.0.1:8080")
            fixture.plane.setPolicy(compiler)
        }

        /// Opens another stream of `name` and returns the peers of its full map.
        func fullMapPeers(of name: String) throws -> [[String: Any]] {
            let member = try #require(members[name])
            let (_, framed) = try fixture.plane.openMapStream(
                try RouteDeliveryTests.mapRequest(member.client, routes: []),
                machineKey: member.client.machineKey,
                sink: RecordingSink()
            )
            return try MapStreamDecoding.decode(framed: framed)["Peers"] as? [[String: Any]] ?? []
        }

        /// Returns every peer entry that `name`'s first stream received in deltas, oldest first,
        /// leaving out the first `skipped` messages.
        func changedPeers(of name: String, skipping skipped: Int = 0) throws -> [[String: Any]] {
            try #require(members[name]).sink.decoded().dropFirst(skipped).flatMap {
                ($0["PeersChanged"] as? [[String: Any]]) ?? []
            }
        }

        /// Returns how many messages `name`'s first stream has received.
        func messageCount(of name: String) throws -> Int {
            try #require(members[name]).sink.decoded().count
        }
    }

    static func routes(_ entry: [String: Any]?) -> (allowed: Bool, primary: [String]?) {
        let allowed = (entry?["AllowedIPs"] as? [String])?.contains(prefix) ?? false
        return (allowed, entry?["PrimaryRoutes"] as? [String])
    }

    @Test func viaSourceSeesTaggedRouter() throws {
        let tailnet = try Tailnet()
        let peers = try tailnet.fullMapPeers(of: "viewer")
        let r1 = try #require(RouteDeliveryTests.peer("r1", in: peers))
        let r2 = try #require(RouteDeliveryTests.peer("r2", in: peers))
        #expect(Self.routes(r2).allowed)
        #expect(Self.routes(r2).primary == [Self.prefix])
        #expect(!Self.routes(r1).allowed)
        #expect(Self.routes(r1).primary == nil)
    }

    @Test func plainSourceSeesPrimary() throws {
        let tailnet = try Tailnet()
        let peers = try tailnet.fullMapPeers(of: "plain")
        let r1 = try #require(RouteDeliveryTests.peer("r1", in: peers))
        let r2 = try #require(RouteDeliveryTests.peer("r2", in: peers))
        #expect(Self.routes(r1).allowed)
        #expect(Self.routes(r1).primary == [Self.prefix])
        #expect(!Self.routes(r2).allowed)
    }

    @Test func policyChangeMovesRoute() throws {
        let tailnet = try Tailnet()
        let before = try tailnet.changedPeers(of: "viewer")
        #expect(Self.routes(RouteDeliveryTests.peer("r2", in: before)).allowed)

        var seen = try tailnet.messageCount(of: "viewer")
        try tailnet.setPolicy(Self.plainPolicy)
        var changed = try tailnet.changedPeers(of: "viewer", skipping: seen)
        #expect(Self.routes(RouteDeliveryTests.peer("r1", in: changed)).allowed)
        #expect(!Self.routes(RouteDeliveryTests.peer("r2", in: changed)).allowed)
        #expect(Self.routes(RouteDeliveryTests.peer("r2", in: changed)).primary == nil)

        seen = try tailnet.messageCount(of: "viewer")
        try tailnet.setPolicy(Self.viaPolicy)
        changed = try tailnet.changedPeers(of: "viewer", skipping: seen)
        #expect(Self.routes(RouteDeliveryTests.peer("r2", in: changed)).allowed)
        #expect(!Self.routes(RouteDeliveryTests.peer("r1", in: changed)).allowed)
    }

    @Test func newlyVisibleRouterIsSteered() throws {
        let tailnet = try Tailnet()
        try tailnet.setPolicy(
            #"""
            {"tagOwners": {"tag:a": ["alice@"], "tag:src": ["alice@"], "tag:plain": ["alice@"]},
             "grants": [{"src": ["tag:src", "tag:plain"], "dst": ["autogroup:member"], "ip": ["tcp:22"]}]}
            """#
        )
        #expect(RouteDeliveryTests.peer("r2", in: try tailnet.fullMapPeers(of: "viewer")) == nil)
        let seen = try tailnet.messageCount(of: "viewer")

        try tailnet.setPolicy(Self.viaPolicy)
        let changed = try tailnet.changedPeers(of: "viewer", skipping: seen)
        #expect(Self.routes(RouteDeliveryTests.peer("r2", in: changed)).allowed)
        #expect(Self.routes(RouteDeliveryTests.peer("r2", in: changed)).primary == [Self.prefix])
        #expect(!Self.routes(RouteDeliveryTests.peer("r1", in: changed)).allowed)
    }

    @Test func viaRouterFailsOver() throws {
        var tailnet = try Tailnet()
        let r3 = try tailnet.join("r3", routes: [Self.prefix])
        tailnet.members["r3"] = r3
        _ = try tailnet.fixture.plane.setApprovedRoutes(id: r3.id, to: [Self.prefix])
        _ = try tailnet.fixture.plane.setTags(id: r3.id, to: ["tag:a"])
        #expect(!Self.routes(RouteDeliveryTests.peer("r3", in: try tailnet.fullMapPeers(of: "viewer"))).allowed)

        tailnet.fixture.plane.closeMapStream(try #require(tailnet.members["r2"]).token)
        let changed = try tailnet.changedPeers(of: "viewer")
        #expect(Self.routes(RouteDeliveryTests.peer("r3", in: changed)).allowed)
        #expect(Self.routes(RouteDeliveryTests.peer("r3", in: changed)).primary == [Self.prefix])
        #expect(!Self.routes(RouteDeliveryTests.peer("r2", in: changed)).allowed)
        let plain = try tailnet.fullMapPeers(of: "plain")
        #expect(Self.routes(RouteDeliveryTests.peer("r1", in: plain)).allowed)
        #expect(!Self.routes(RouteDeliveryTests.peer("r3", in: plain)).allowed)
    }

    @Test func routerUpdateKeepsSteeredRoute() throws {
        let tailnet = try Tailnet()
        let r2 = try #require(tailnet.members["r2"])
        _ = try tailnet.fixture.plane.renameNode(id: r2.id, to: "r2-renamed")
        let changed = try tailnet.changedPeers(of: "viewer")
        let renamed = try #require(RouteDeliveryTests.peer("r2-renamed", in: changed))
        #expect(Self.routes(renamed).allowed)
        #expect(Self.routes(renamed).primary == [Self.prefix])
        let plainChanged = try tailnet.changedPeers(of: "plain")
        #expect(!Self.routes(RouteDeliveryTests.peer("r2-renamed", in: plainChanged)).allowed)
    }

    @Test func exitRoutesOnlyOnTaggedExit() throws {
        var tailnet = try Tailnet()
        for (name, tags) in [("x1", [String]()), ("x2", ["tag:a"])] {
            let member = try tailnet.join(name, routes: ["0.0.0.0/0", "::/0"])
            tailnet.members[name] = member
            _ = try tailnet.fixture.plane.setApprovedRoutes(id: member.id, to: ["0.0.0.0/0", "::/0"])
            if !tags.isEmpty { _ = try tailnet.fixture.plane.setTags(id: member.id, to: tags) }
        }
        try tailnet.setPolicy(
            #"""
            {"tagOwners": {"tag:a": ["alice@"], "tag:src": ["alice@"], "tag:plain": ["alice@"]},
             "grants": [
               {"src": ["tag:src"], "dst": ["autogroup:internet"], "ip": ["*"], "via": ["tag:a"]},
               {"src": ["tag:plain"], "dst": ["autogroup:internet"], "ip": ["*"]},
               {"src": ["tag:src", "tag:plain"], "dst": ["autogroup:member"], "ip": ["tcp:22"]}
             ]}
            """#
        )
        func exitRoutes(_ name: String, in peers: [[String: Any]]) -> Bool {
            let allowed = RouteDeliveryTests.peer(name, in: peers)?["AllowedIPs"] as? [String] ?? []
            return allowed.contains("0.0.0.0/0") && allowed.contains("::/0")
        }
        let viewer = try tailnet.fullMapPeers(of: "viewer")
        #expect(RouteDeliveryTests.peer("x1", in: viewer) != nil)
        #expect(!exitRoutes("x1", in: viewer))
        #expect(exitRoutes("x2", in: viewer))
        let plain = try tailnet.fullMapPeers(of: "plain")
        #expect(exitRoutes("x1", in: plain))
        #expect(exitRoutes("x2", in: plain))
        let changed = try tailnet.changedPeers(of: "viewer")
        #expect(!exitRoutes("x1", in: changed))
    }

    @Test func noViaGrantLeavesPlaneIdle() throws {
        let tailnet = try Tailnet()
        #expect(!tailnet.fixture.plane.state.withLock { $0.routes.via.isIdle })
        try tailnet.setPolicy(Self.plainPolicy)
        tailnet.fixture.plane.deliverRouteChanges([], now: Date())
        #expect(tailnet.fixture.plane.state.withLock { $0.routes.via.isIdle })
        let active = tailnet.fixture.plane.viaActive.load(ordering: .relaxed)
        #expect(!active)
    }
}
