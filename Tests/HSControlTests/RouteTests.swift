import Foundation
import HSCore
import HSStore
import Testing

@testable import HSControl

@Suite struct RouteTableTests {
    static func router(_ id: UInt64, online: Bool = true, routes: [String]) -> ControlNode {
        var node = MapEncoderTests.sampleNode(online: online)
        node.id = id
        node.hostinfo = .object([("RoutableIPs", .array(routes.map { .string($0) }))])
        node.approvedRoutes = routes
        return node
    }

    @Test func oldestOnlineRouterIsPrimary() {
        var table = RouteTable()
        let changed = table.elect(nodes: [Self.router(3, routes: ["10.0.0.0/24"]), Self.router(2, routes: ["10.0.0.0/24"])])
        #expect(table.primaries["10.0.0.0/24"] == 2)
        #expect(changed == [2])
    }

    @Test func primaryStaysWhileOnline() {
        var table = RouteTable()
        _ = table.elect(nodes: [Self.router(5, routes: ["10.0.0.0/24"])])
        let changed = table.elect(nodes: [Self.router(5, routes: ["10.0.0.0/24"]), Self.router(1, routes: ["10.0.0.0/24"])])
        #expect(table.primaries["10.0.0.0/24"] == 5)
        #expect(changed.isEmpty)
    }

    @Test func offlinePrimaryFailsOver() {
        var table = RouteTable()
        _ = table.elect(nodes: [Self.router(1, routes: ["10.0.0.0/24"]), Self.router(2, routes: ["10.0.0.0/24"])])
        let changed = table.elect(nodes: [
            Self.router(1, online: false, routes: ["10.0.0.0/24"]), Self.router(2, routes: ["10.0.0.0/24"]),
        ])
        #expect(table.primaries["10.0.0.0/24"] == 2)
        #expect(changed == [1, 2])
    }

    @Test func unapprovedAndExitRoutesHaveNoPrimary() {
        var table = RouteTable()
        var pending = Self.router(1, routes: ["10.1.0.0/24"])
        pending.approvedRoutes = []
        _ = table.elect(nodes: [pending, Self.router(2, routes: ["0.0.0.0/0", "::/0"])])
        #expect(table.primaries.isEmpty)
    }
}

@Suite struct RouteDeliveryTests {
    static func mapRequest(_ client: FakeClient, routes: [String]) throws -> MapRequest {
        let body: [String: Any] = [
            "Version": 130, "Compress": "zstd", "KeepAlive": true, "NodeKey": client.nodeKey.text,
            "DiscoKey": client.discoKey.text, "Stream": true, "OmitPeers": false, "Endpoints": ["127.0.0.1:1"],
            "Hostinfo": ["Hostname": client.hostname, "RoutableIPs": routes],
        ]
        return try JSONDecoder().decode(MapRequest.self, from: JSONSerialization.data(withJSONObject: body))
    }

    /// Registers `hostname` and opens its stream advertising `routes`.
    static func join(
        _ fixture: PlaneFixture,
        _ hostname: String,
        routes: [String] = []
    ) throws -> (UInt64, MapStreamToken, RecordingSink, [String: Any]) {
        let client = FakeClient(hostname: hostname)
        _ = fixture.plane.register(try client.registerRequest(authKey: fixture.makeKey()), machineKey: client.machineKey)
        let sink = RecordingSink()
        let (token, first) = try fixture.plane.openMapStream(
            try mapRequest(client, routes: routes),
            machineKey: client.machineKey,
            sink: sink
        )
        return (token.nodeID, token, sink, try MapStreamDecoding.decode(framed: first))
    }

    static func peer(_ name: String, in nodes: [[String: Any]]) -> [String: Any]? {
        nodes.last { $0["Name"] as? String == name + ".tail.test." }
    }

    @Test func approvedRouteReachesPeersAndFailsOver() throws {
        let fixture = try PlaneFixture()
        let (r1, token1, _, _) = try Self.join(fixture, "r1", routes: ["10.9.0.0/24"])
        let (r2, _, _, _) = try Self.join(fixture, "r2", routes: ["10.9.0.0/24"])
        let (_, _, viewer, full) = try Self.join(fixture, "viewer")
        let before = try #require(Self.peer("r1", in: full["Peers"] as? [[String: Any]] ?? []))
        #expect(before["PrimaryRoutes"] == nil)

        _ = try fixture.plane.setApprovedRoutes(id: r1, to: ["10.9.0.0/24"])
        _ = try fixture.plane.setApprovedRoutes(id: r2, to: ["10.9.0.0/24"])
        var changed = try viewer.decoded().flatMap { ($0["PeersChanged"] as? [[String: Any]]) ?? [] }
        let primary = try #require(Self.peer("r1", in: changed))
        #expect(primary["PrimaryRoutes"] as? [String] == ["10.9.0.0/24"])
        #expect((primary["AllowedIPs"] as? [String])?.contains("10.9.0.0/24") == true)
        #expect(Self.peer("r2", in: changed)?["PrimaryRoutes"] == nil)

        fixture.plane.closeMapStream(token1)
        changed = try viewer.decoded().flatMap { ($0["PeersChanged"] as? [[String: Any]]) ?? [] }
        #expect(Self.peer("r2", in: changed)?["PrimaryRoutes"] as? [String] == ["10.9.0.0/24"])
        #expect(Self.peer("r1", in: changed)?["PrimaryRoutes"] == nil)
    }

    @Test func exitRoutesInAllowedIPs() throws {
        let fixture = try PlaneFixture()
        let (exit, _, _, _) = try Self.join(fixture, "exit", routes: ["0.0.0.0/0", "::/0"])
        let (_, _, viewer, _) = try Self.join(fixture, "viewer")
        _ = try fixture.plane.setApprovedRoutes(id: exit, to: ["0.0.0.0/0", "::/0"])
        let changed = try viewer.decoded().flatMap { ($0["PeersChanged"] as? [[String: Any]]) ?? [] }
        let entry = try #require(Self.peer("exit", in: changed))
        let allowed = try #require(entry["AllowedIPs"] as? [String])
        #expect(allowed.contains("0.0.0.0/0"))
        #expect(allowed.contains("::/0"))
        #expect(entry["PrimaryRoutes"] == nil)
    }

    @Test func autoApproversApproveAdvertisedRoutes() throws {
        let fixture = try PlaneFixture()
        let policy = #"""
            {"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}],
             "autoApprovers": {"routes": {"10.20.0.0/16": ["alice@"]}, "exitNode": ["alice@"]}}
            """#
        let path = fixture.directory + "/policy.hujson"
        try policy.write(toFile: path, atomically: true, encoding: .utf8)
        PolicyManagerTests.manager(fixture, path: path).loadAtStart()

        let (router, _, _, _) = try Self.join(fixture, "router", routes: ["10.20.1.0/24", "10.30.0.0/24", "0.0.0.0/0"])
        fixture.plane.writeQueue.sync {}
        let stored = try #require(try fixture.store.node(id: router))
        #expect(stored.approvedRoutes.sorted() == ["0.0.0.0/0", "10.20.1.0/24"])
        let (_, _, _, full) = try Self.join(fixture, "viewer")
        let entry = try #require(Self.peer("router", in: full["Peers"] as? [[String: Any]] ?? []))
        #expect(entry["PrimaryRoutes"] as? [String] == ["10.20.1.0/24"])
    }
}
