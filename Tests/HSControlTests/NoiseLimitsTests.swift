import Foundation
import HSCore
import HSLoadGen
import HSStore
import Testing

@testable import HSControl

@Suite(.serialized) struct NoiseLimitsTests {
    private func registered(_ fixture: PlaneFixture, _ name: String) throws -> FakeClient {
        let client = FakeClient(hostname: name)
        _ = fixture.plane.register(
            try client.registerRequest(authKey: try fixture.makeKey()),
            machineKey: client.machineKey
        )
        return client
    }

    @Test func silentConnectionClosedWhenIdle() async throws {
        let fixture = try PlaneFixture()
        let client = try registered(fixture, "quiet")
        let pair = try NoiseSessionPair(
            fixture: fixture,
            machineKey: client.machineKey,
            limits: NoiseLimits(idleTimeout: .milliseconds(200))
        )
        #expect(await eventually { pair.server.isClosed })
    }

    @Test func idleAfterLastStreamClosed() async throws {
        let fixture = try PlaneFixture()
        let client = try registered(fixture, "brief")
        let pair = try NoiseSessionPair(
            fixture: fixture,
            machineKey: client.machineKey,
            limits: NoiseLimits(idleTimeout: .milliseconds(300))
        )
        let id = try pair.client.send(method: "GET", path: "/no-such-path", body: [])
        #expect(await eventually { pair.client.events.contains(.response(streamID: id, status: 404)) })
        #expect(await eventually { pair.server.isClosed })
    }

    @Test func openMapStreamKeepsConnection() async throws {
        let fixture = try PlaneFixture()
        let client = try registered(fixture, "streaming")
        let pair = try NoiseSessionPair(
            fixture: fixture,
            machineKey: client.machineKey,
            limits: NoiseLimits(idleTimeout: .seconds(1))
        )
        let id = try pair.client.send(method: "POST", path: "/machine/map", body: try client.streamingMapRequestBody())
        #expect(await eventually(seconds: 60) { pair.client.events.contains(.response(streamID: id, status: 200)) })
        #expect(await eventually(seconds: 60) { pair.client.mapMessageCount >= 1 })
        // Several idle timeouts pass with the stream open.
        try await Task.sleep(for: .milliseconds(3500))
        #expect(!pair.server.isClosed)
    }

    @Test func unreadMapStreamDisconnected() async throws {
        let fixture = try PlaneFixture()
        let stalled = try registered(fixture, "stalled")
        let reader = try registered(fixture, "reader")
        let limits = NoiseLimits(idleTimeout: .seconds(60), maxPendingMapBytes: 64 << 10)
        let stalledPair = try NoiseSessionPair(fixture: fixture, machineKey: stalled.machineKey, limits: limits)
        let readerPair = try NoiseSessionPair(fixture: fixture, machineKey: reader.machineKey, limits: limits)
        for (pair, client) in [(stalledPair, stalled), (readerPair, reader)] {
            _ = try pair.client.send(method: "POST", path: "/machine/map", body: try client.streamingMapRequestBody())
            #expect(await eventually(seconds: 60) { pair.client.mapMessageCount >= 1 })
        }
        let readerBefore = readerPair.client.mapMessageCount
        stalledPair.server.pause()

        // Random record names keep each message several KiB after compression, so the 40 pass 64 KiB.
        var options = ServerOptions()
        options.prefixV4 = "100.64.0.0/10"
        let rounds = 40
        for round in 0..<rounds {
            let records = (0..<200).map { index in
                DNSExtraRecord(
                    name: "r\(round)-\(index)-\(UInt64.random(in: 0...UInt64.max)).example.com",
                    type: "A",
                    value: "100.64.0.1"
                )
            }
            fixture.plane.replaceDNSConfig(DNSConfigEncoder.encode(options: options, fileRecords: records))
        }

        #expect(await eventually(seconds: 60) { stalledPair.server.isClosed })
        let stalledID = try #require(try fixture.store.node(nodeKey: stalled.nodeKey)?.id)
        #expect(await eventually(seconds: 60) { fixture.plane.node(id: stalledID)?.isOnline == false })
        // Every DNS update, plus the patch that marks the stalled node offline.
        #expect(await eventually(seconds: 60) { readerPair.client.mapMessageCount == readerBefore + rounds + 1 })
        #expect(!readerPair.server.isClosed)
    }
}
