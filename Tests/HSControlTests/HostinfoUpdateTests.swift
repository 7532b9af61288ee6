import Foundation
import HSCore
import Testing

@testable import HSControl

/// Clients re-send Hostinfo after every network check. These tests pin down which of those
/// updates reach peers.
@Suite struct HostinfoUpdateTests {
    static func update(_ client: FakeClient, hostinfo: [String: Any], omitPeers: Bool = true) throws -> MapRequest {
        let body: [String: Any] = [
            "Version": 130, "Compress": "zstd", "NodeKey": client.nodeKey.text, "DiscoKey": client.discoKey.text,
            "Stream": false, "OmitPeers": omitPeers, "Endpoints": ["127.0.0.1:41641"], "Hostinfo": hostinfo,
        ]
        return try JSONDecoder().decode(MapRequest.self, from: JSONSerialization.data(withJSONObject: body))
    }

    static func hostinfo(_ client: FakeClient, latency: Double, os: String = "linux") -> [String: Any] {
        [
            "Hostname": client.hostname, "OS": os,
            "NetInfo": ["PreferredDERP": 999, "DERPLatency": ["999-v4": latency]],
        ]
    }

    /// Two nodes with streams, A's opened first: the fixture, both clients, A's sink, B's stream.
    static func twoStreams() throws -> (PlaneFixture, FakeClient, FakeClient, RecordingSink, MapStreamToken) {
        let fixture = try PlaneFixture()
        let key = try fixture.makeKey()
        let a = FakeClient(hostname: "a")
        let b = FakeClient(hostname: "b")
        _ = fixture.plane.register(try a.registerRequest(authKey: key), machineKey: a.machineKey)
        _ = fixture.plane.register(try b.registerRequest(authKey: key), machineKey: b.machineKey)
        let sinkA = RecordingSink()
        _ = try fixture.plane.openMapStream(try a.mapRequest(stream: true), machineKey: a.machineKey, sink: sinkA)
        let (tokenB, _) = try fixture.plane.openMapStream(
            try b.mapRequest(stream: true),
            machineKey: b.machineKey,
            sink: RecordingSink()
        )
        return (fixture, a, b, sinkA, tokenB)
    }

    @Test func latencyOnlyUpdateSendsNoDelta() throws {
        let (fixture, a, b, sinkA, _) = try Self.twoStreams()
        _ = try fixture.plane.applyMapUpdate(
            try Self.update(b, hostinfo: Self.hostinfo(b, latency: 0.010)),
            machineKey: b.machineKey
        )
        let before = try sinkA.decoded().count
        _ = try fixture.plane.applyMapUpdate(
            try Self.update(b, hostinfo: Self.hostinfo(b, latency: 0.020)),
            machineKey: b.machineKey
        )
        #expect(try sinkA.decoded().count == before)

        // The new latency is stored and reaches A with its next full map.
        let framed = try #require(
            try fixture.plane.applyMapUpdate(
                try Self.update(a, hostinfo: ["Hostname": "a"], omitPeers: false),
                machineKey: a.machineKey
            )
        )
        let peers = try #require(try MapStreamDecoding.decode(framed: framed)["Peers"] as? [[String: Any]])
        let netInfo = try #require((peers.first?["Hostinfo"] as? [String: Any])?["NetInfo"] as? [String: Any])
        #expect((netInfo["DERPLatency"] as? [String: Any])?["999-v4"] as? Double == 0.020)
    }

    @Test func otherHostinfoChangeSendsWholeEntry() throws {
        let (fixture, _, b, sinkA, _) = try Self.twoStreams()
        _ = try fixture.plane.applyMapUpdate(
            try Self.update(b, hostinfo: Self.hostinfo(b, latency: 0.010, os: "freebsd")),
            machineKey: b.machineKey
        )
        let changed = try #require(try sinkA.decoded().last?["PeersChanged"] as? [[String: Any]])
        #expect((changed.first?["Hostinfo"] as? [String: Any])?["OS"] as? String == "freebsd")
    }

    @Test func peerChangeClassifiesNetInfo() {
        let before = MapEncoderTests.sampleNode()
        var latency = before
        latency.hostinfo = .object([
            ("Hostname", .string("box")),
            (
                "NetInfo",
                .object([("PreferredDERP", .integer(900)), ("DERPLatency", .object([("1-v4", .number(0.5))]))])
            ),
        ])
        var home = before
        home.hostinfo = .object([
            ("Hostname", .string("box")), ("NetInfo", .object([("PreferredDERP", .integer(902))])),
        ])
        var renamed = before
        renamed.hostinfo = .object([("Hostname", .string("renamed"))])
        guard case .none = PeerChange(before: before, after: latency) else {
            Issue.record("a latency-only change was sent to peers")
            return
        }
        guard case .patch(let patch) = PeerChange(before: before, after: home) else {
            Issue.record("a new home region was not a patch")
            return
        }
        #expect(patch.homeDERP == 902)
        guard case .wholeEntry = PeerChange(before: before, after: renamed) else {
            Issue.record("a new hostname was not sent as a whole entry")
            return
        }
    }
}
