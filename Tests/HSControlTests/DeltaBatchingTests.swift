import Foundation
import HSCore
import HSStore
import Synchronization
import Testing

@testable import HSControl

/// A control plane whose deltas wait for an explicit flush (a window of one hour).
private func batchedPlane() throws -> (PlaneFixture, MapDeltaBatcher) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hs-batch-\(UUID().uuidString)").path
    let base = try PlaneFixture(directory: directory)
    let plane = try ControlPlane(
        storage: StoreAdapter(store: base.store, pool: try AddressPool(v4Prefix: "100.64.0.0/10", v6Prefix: nil)),
        settings: MapSettings(
            baseDomain: "tail.test",
            derpMap: TailnetSettings.derpMapJSON([]),
            dnsConfig: nil,
            fileSharing: false
        ),
        logger: Logger(label: "test", minimumLevel: .critical),
        deltaBatchWindow: .seconds(3600)
    )
    let fixture = PlaneFixture(directory: directory, store: base.store, plane: plane, userID: base.userID)
    return (fixture, try #require(plane.batcher))
}

@Suite struct DeltaBatchingTests {
    @Test func threeChangesMakeOneMessage() throws {
        let (fixture, batcher) = try batchedPlane()
        let key = try fixture.makeKey()
        let observer = FakeClient(hostname: "observer")
        _ = fixture.plane.register(try observer.registerRequest(authKey: key), machineKey: observer.machineKey)
        let sink = RecordingSink()
        _ = try fixture.plane.openMapStream(
            try observer.mapRequest(stream: true),
            machineKey: observer.machineKey,
            sink: sink
        )
        var others: [FakeClient] = []
        for name in ["b", "c", "d"] {
            let client = FakeClient(hostname: name)
            _ = fixture.plane.register(try client.registerRequest(authKey: key), machineKey: client.machineKey)
            _ = try fixture.plane.openMapStream(
                try client.mapRequest(stream: true),
                machineKey: client.machineKey,
                sink: RecordingSink()
            )
            others.append(client)
        }
        batcher.flush()
        let joins = try sink.decoded()
        #expect(joins.count == 1)
        let joined = try #require(joins.first?["PeersChanged"] as? [[String: Any]])
        #expect(Set(joined.compactMap { $0["Name"] as? String }) == ["b.tail.test.", "c.tail.test.", "d.tail.test."])

        for (index, client) in others.enumerated() {
            _ = try fixture.plane.applyMapUpdate(
                try client.mapRequest(stream: false, endpoints: ["127.0.0.1:\(50000 + index)"]),
                machineKey: client.machineKey
            )
        }
        #expect(try sink.decoded().count == 1)
        batcher.flush()
        let messages = try sink.decoded()
        #expect(messages.count == 2)
        let patches = try #require(messages.last?["PeersChangedPatch"] as? [[String: Any]])
        #expect(patches.count == 3)
        let endpoints = patches.compactMap { ($0["Endpoints"] as? [String])?.first }
        #expect(Set(endpoints) == ["127.0.0.1:50000", "127.0.0.1:50001", "127.0.0.1:50002"])
    }

    @Test func sameDeltasCompressedOnce() throws {
        let (fixture, batcher) = try batchedPlane()
        let key = try fixture.makeKey()
        var sinks: [FrameKeepingSink] = []
        for index in 0..<20 {
            let client = FakeClient(hostname: "n\(index)")
            _ = fixture.plane.register(try client.registerRequest(authKey: key), machineKey: client.machineKey)
            let sink = FrameKeepingSink()
            _ = try fixture.plane.openMapStream(
                try client.mapRequest(stream: true),
                machineKey: client.machineKey,
                sink: sink
            )
            sinks.append(sink)
        }
        batcher.flush()
        for name in ["x", "y"] {
            let client = FakeClient(hostname: name)
            _ = fixture.plane.register(try client.registerRequest(authKey: key), machineKey: client.machineKey)
            _ = try fixture.plane.openMapStream(
                try client.mapRequest(stream: true),
                machineKey: client.machineKey,
                sink: FrameKeepingSink()
            )
        }
        batcher.flush()
        let frames = try sinks.map { try #require($0.last) }
        let addresses = Set(frames.map { $0.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } })
        #expect(addresses.count == 1)
        let delta = try MapStreamDecoding.decode(framed: frames[0])
        let names = (delta["PeersChanged"] as? [[String: Any]])?.compactMap { $0["Name"] as? String }
        #expect(names == ["x.tail.test.", "y.tail.test."])
    }
}

extension DeltaBatchingTests {
    /// When every node changes in one window, each stream owes a different sequence, so the
    /// deltas go out one by one and each is compressed once for all streams.
    @Test func manySequencesSentUnmerged() throws {
        let (fixture, batcher) = try batchedPlane()
        let key = try fixture.makeKey()
        let count = MapDeltaBatcher.maxMergedGroups + 8
        var clients: [FakeClient] = []
        var sinks: [FrameListSink] = []
        for index in 0..<count {
            let client = FakeClient(hostname: "n\(index)")
            _ = fixture.plane.register(try client.registerRequest(authKey: key), machineKey: client.machineKey)
            let sink = FrameListSink()
            _ = try fixture.plane.openMapStream(
                try client.mapRequest(stream: true),
                machineKey: client.machineKey,
                sink: sink
            )
            clients.append(client)
            sinks.append(sink)
        }
        batcher.flush()
        let before = sinks.map(\.frames.count)
        for (index, client) in clients.enumerated() {
            _ = try fixture.plane.applyMapUpdate(
                try client.mapRequest(stream: false, endpoints: ["127.0.0.1:\(50000 + index)"]),
                machineKey: client.machineKey
            )
        }
        batcher.flush()
        let first = Array(sinks[0].frames.dropFirst(before[0]))
        let second = Array(sinks[1].frames.dropFirst(before[1]))
        #expect(first.count == count - 1)
        #expect(second.count == count - 1)
        // Stream 0 receives changes 1, 2, 3 … and stream 1 receives changes 0, 2, 3 …, so from
        // the second message on both hold the same buffers.
        let address = { (frame: [UInt8]) in frame.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } }
        #expect(address(first[1]) == address(second[1]))
        #expect(address(first.last ?? []) == address(second.last ?? []))
    }
}

/// Keeps every frame a stream receives, in order.
final class FrameListSink: MapStreamSink, Sendable {
    private let list = Mutex<[[UInt8]]>([])

    func deliver(_ framedMessage: [UInt8]) { list.withLock { $0.append(framedMessage) } }
    func terminate() {}
    var frames: [[UInt8]] { list.withLock { $0 } }
}

@Suite struct MapDeltaMergerTests {
    private func json(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func decode(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func laterPeerEntryWins() throws {
        let merged = MapDeltaMerger.merge([
            json(#"{"PeersChanged":[{"ID":1,"Name":"old"}],"ControlTime":"t1"}"#),
            json(#"{"PeersChangedPatch":[{"NodeID":1,"Online":true}],"ControlTime":"t2"}"#),
            json(#"{"PeersChanged":[{"ID":1,"Name":"new"},{"ID":2,"Name":"two"}],"ControlTime":"t3"}"#),
        ])
        #expect(merged.count == 1)
        let object = try decode(try #require(merged.first))
        let peers = try #require(object["PeersChanged"] as? [[String: Any]])
        #expect(peers.compactMap { $0["Name"] as? String } == ["new", "two"])
        #expect(object["PeersChangedPatch"] == nil)
        #expect(object["ControlTime"] as? String == "t3")
    }

    @Test func removalDropsEarlierChanges() throws {
        let merged = MapDeltaMerger.merge([
            json(#"{"PeersChanged":[{"ID":1,"Name":"one"},{"ID":2,"Name":"two"}]}"#),
            json(#"{"PeersChangedPatch":[{"NodeID":1,"Online":false}]}"#),
            json(#"{"PeersRemoved":[1]}"#),
        ])
        let object = try decode(try #require(merged.first))
        #expect((object["PeersChanged"] as? [[String: Any]])?.compactMap { $0["ID"] as? Int } == [2])
        #expect(object["PeersChangedPatch"] == nil)
        #expect(object["PeersRemoved"] as? [Int] == [1])
    }

    @Test func patchesAfterEntryKeptInOrder() throws {
        let merged = MapDeltaMerger.merge([
            json(#"{"PeersChanged":[{"ID":1,"Name":"one"}]}"#),
            json(#"{"PeersChangedPatch":[{"NodeID":1,"Online":true}]}"#),
            json(#"{"PeersChangedPatch":[{"NodeID":1,"Online":false}]}"#),
        ])
        let object = try decode(try #require(merged.first))
        let patches = try #require(object["PeersChangedPatch"] as? [[String: Any]])
        #expect(patches.compactMap { $0["Online"] as? Bool } == [true, false])
    }

    @Test func whollyReplacedFieldsLaterWins() throws {
        let merged = MapDeltaMerger.merge([
            json(#"{"DNSConfig":{"Domains":["a"]},"UserProfiles":[{"ID":1}]}"#),
            json(#"{"DNSConfig":{"Domains":["b"]},"UserProfiles":[{"ID":2}]}"#),
        ])
        #expect(merged.count == 1)
        let object = try decode(try #require(merged.first))
        #expect((object["DNSConfig"] as? [String: Any])?["Domains"] as? [String] == ["b"])
        #expect((object["UserProfiles"] as? [[String: Any]])?.count == 2)
    }

    @Test func unknownRepeatedFieldSplits() throws {
        let merged = MapDeltaMerger.merge([
            json(#"{"PacketFilters":{"a":[]}}"#),
            json(#"{"PeersRemoved":[3]}"#),
            json(#"{"PacketFilters":{"b":[]}}"#),
        ])
        #expect(merged.count == 2)
        let first = try decode(merged[0])
        #expect(first["PacketFilters"] != nil)
        #expect(first["PeersRemoved"] as? [Int] == [3])
        #expect((try decode(merged[1])["PacketFilters"] as? [String: Any])?["b"] != nil)
    }

    @Test func singleDeltaUnchanged() {
        let delta = json(#"{"PeersRemoved":[3],"ControlTime":"t"}"#)
        #expect(MapDeltaMerger.merge([delta]) == [delta])
    }
}

extension PlaneFixture {
    /// Wraps a plane built with settings the default fixture does not offer.
    init(directory: String, store: Store, plane: ControlPlane, userID: UInt64) {
        self.directory = directory
        self.store = store
        self.plane = plane
        self.userID = userID
    }
}
