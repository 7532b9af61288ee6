import Foundation
import HSCore
import HSPolicy
import HSStore
import Synchronization
import Testing

@testable import HSControl

/// A control plane whose viewers see a router's subnet route only when their policy lets them
/// use it, as `headscale debug policy` prints it.
@Suite struct RouteReachTests {
    static let prefix = "10.9.0.0/24"

    /// `tag:ok` nodes may reach the subnet; `tag:no` nodes may reach only the routers' port 22,
    /// so they see the routers but not the subnet.
    static let restrictedPolicy = #"""
        {"tagOwners": {"tag:ok": ["alice@"], "tag:no": ["alice@"]},
         "grants": [
           {"src": ["tag:ok"], "dst": ["10.9.0.0/24"], "ip": ["*"]},
           {"src": ["tag:ok", "tag:no"], "dst": ["autogroup:member"], "ip": ["tcp:22"]}
         ]}
        """#

    /// The same tailnet where `tag:no` nodes may reach the subnet too.
    static let openPolicy = #"""
        {"tagOwners": {"tag:ok": ["alice@"], "tag:no": ["alice@"]},
         "grants": [
           {"src": ["tag:ok", "tag:no"], "dst": ["10.9.0.0/24"], "ip": ["*"]},
           {"src": ["tag:ok", "tag:no"], "dst": ["autogroup:member"], "ip": ["tcp:22"]}
         ]}
        """#

    /// Routers r1 (the primary) and r2 advertising the prefix, an `ok` and a `no` viewer, with
    /// `restrictedPolicy` in force and the routes approved last.
    struct Tailnet {
        var via: ViaRoutingTests.Tailnet

        init() throws {
            via = try ViaRoutingTests.Tailnet(routers: [])
            for name in ["r1", "r2"] {
                via.members[name] = try via.join(name, routes: [RouteReachTests.prefix])
            }
            via.members["ok"] = try via.join("ok")
            via.members["no"] = try via.join("no")
            _ = try via.fixture.plane.setTags(id: try #require(via.members["ok"]).id, to: ["tag:ok"])
            _ = try via.fixture.plane.setTags(id: try #require(via.members["no"]).id, to: ["tag:no"])
            try via.setPolicy(RouteReachTests.restrictedPolicy)
            for name in ["r1", "r2"] {
                let id = try #require(via.members[name]).id
                _ = try via.fixture.plane.setApprovedRoutes(id: id, to: [RouteReachTests.prefix])
            }
        }
    }

    /// True when any entry of `name` in `entries` routes the prefix.
    static func routesPrefix(_ name: String, in entries: [[String: Any]]) -> Bool {
        entries.contains { entry in
            entry["Name"] as? String == name + ".tail.test."
                && ((entry["AllowedIPs"] as? [String])?.contains(prefix) == true || entry["PrimaryRoutes"] != nil)
        }
    }

    @Test func fullMapsFollowPolicyReach() throws {
        let tailnet = try Tailnet()
        let ok = try tailnet.via.fullMapPeers(of: "ok")
        #expect(ViaRoutingTests.routes(RouteDeliveryTests.peer("r1", in: ok)).allowed)
        #expect(ViaRoutingTests.routes(RouteDeliveryTests.peer("r1", in: ok)).primary == [Self.prefix])
        let no = try tailnet.via.fullMapPeers(of: "no")
        let r1 = try #require(RouteDeliveryTests.peer("r1", in: no))
        #expect(!ViaRoutingTests.routes(r1).allowed)
        #expect(ViaRoutingTests.routes(r1).primary == nil)
    }

    @Test func approvalDeltasFollowPolicyReach() throws {
        let tailnet = try Tailnet()
        let ok = try tailnet.via.changedPeers(of: "ok")
        #expect(ViaRoutingTests.routes(RouteDeliveryTests.peer("r1", in: ok)).allowed)
        let no = try tailnet.via.changedPeers(of: "no")
        #expect(RouteDeliveryTests.peer("r1", in: no) != nil)
        #expect(!Self.routesPrefix("r1", in: no))
    }

    @Test func failoverDeltasFollowPolicyReach() throws {
        let tailnet = try Tailnet()
        let seen = (ok: try tailnet.via.messageCount(of: "ok"), no: try tailnet.via.messageCount(of: "no"))
        tailnet.via.fixture.plane.closeMapStream(try #require(tailnet.via.members["r1"]).token)
        let ok = try tailnet.via.changedPeers(of: "ok", skipping: seen.ok)
        #expect(ViaRoutingTests.routes(RouteDeliveryTests.peer("r2", in: ok)).primary == [Self.prefix])
        let no = try tailnet.via.changedPeers(of: "no", skipping: seen.no)
        #expect(RouteDeliveryTests.peer("r2", in: no) != nil)
        #expect(!Self.routesPrefix("r2", in: no))
        let full = try tailnet.via.fullMapPeers(of: "no")
        #expect(!ViaRoutingTests.routes(RouteDeliveryTests.peer("r2", in: full)).allowed)
    }

    @Test func routerHostinfoChangeKeepsReach() throws {
        let tailnet = try Tailnet()
        let seen = (ok: try tailnet.via.messageCount(of: "ok"), no: try tailnet.via.messageCount(of: "no"))
        let r1 = try #require(tailnet.via.members["r1"])
        _ = try tailnet.via.fixture.plane.applyMapUpdate(
            try RouteDeliveryTests.mapRequest(r1.client, routes: [Self.prefix, "10.99.0.0/24"]),
            machineKey: r1.client.machineKey
        )
        let ok = try tailnet.via.changedPeers(of: "ok", skipping: seen.ok)
        #expect(ViaRoutingTests.routes(RouteDeliveryTests.peer("r1", in: ok)).primary == [Self.prefix])
        let no = try tailnet.via.changedPeers(of: "no", skipping: seen.no)
        #expect(RouteDeliveryTests.peer("r1", in: no) != nil)
        #expect(!Self.routesPrefix("r1", in: no))
    }

    @Test func returningRouterRegainsRoute() throws {
        let tailnet = try Tailnet()
        tailnet.via.fixture.plane.closeMapStream(try #require(tailnet.via.members["r1"]).token)
        tailnet.via.fixture.plane.closeMapStream(try #require(tailnet.via.members["r2"]).token)
        let seen = (ok: try tailnet.via.messageCount(of: "ok"), no: try tailnet.via.messageCount(of: "no"))
        let r1 = try #require(tailnet.via.members["r1"])
        _ = try tailnet.via.fixture.plane.openMapStream(
            try RouteDeliveryTests.mapRequest(r1.client, routes: [Self.prefix]),
            machineKey: r1.client.machineKey,
            sink: RecordingSink()
        )
        let ok = try tailnet.via.changedPeers(of: "ok", skipping: seen.ok)
        #expect(ViaRoutingTests.routes(RouteDeliveryTests.peer("r1", in: ok)).primary == [Self.prefix])
        let no = try tailnet.via.changedPeers(of: "no", skipping: seen.no)
        #expect(!Self.routesPrefix("r1", in: no))
    }

    @Test func policyGrantSendsRoute() throws {
        let tailnet = try Tailnet()
        let seen = try tailnet.via.messageCount(of: "no")
        try tailnet.via.setPolicy(Self.openPolicy)
        let granted = try tailnet.via.changedPeers(of: "no", skipping: seen)
        #expect(ViaRoutingTests.routes(RouteDeliveryTests.peer("r1", in: granted)).allowed)
        #expect(ViaRoutingTests.routes(RouteDeliveryTests.peer("r1", in: granted)).primary == [Self.prefix])

        let again = try tailnet.via.messageCount(of: "no")
        try tailnet.via.setPolicy(Self.restrictedPolicy)
        let revoked = try tailnet.via.changedPeers(of: "no", skipping: again)
        #expect(RouteDeliveryTests.peer("r1", in: revoked) != nil)
        #expect(!ViaRoutingTests.routes(RouteDeliveryTests.peer("r1", in: revoked)).allowed)
    }

    @Test func reachingViewersShareEntries() throws {
        let tailnet = try Tailnet()
        try tailnet.via.setPolicy(Self.openPolicy)
        let overrides = tailnet.via.fixture.plane.state.withLock { $0.routes.views.overrides }
        #expect(overrides[try #require(tailnet.via.members["ok"]).id] == nil)
        #expect(overrides[try #require(tailnet.via.members["no"]).id] == nil)
        // The routers are untagged members that no grant lets into the subnet.
        let r2 = try #require(tailnet.via.members["r2"]).id
        let r1 = try #require(tailnet.via.members["r1"]).id
        #expect(overrides[r2]?[r1]?.primaryRoutes == [])
    }
}
