import Foundation
import HSCore
import HSStore
import Synchronization
import Testing

@testable import HSControl

/// Records what the control plane delivers to one map stream.
final class RecordingSink: MapStreamSink, Sendable {
    private let messages = Mutex<[[UInt8]]>([])
    private let terminated = Mutex(false)

    func deliver(_ framedMessage: [UInt8]) {
        messages.withLock { $0.append(framedMessage) }
    }

    func terminate() {
        terminated.withLock { $0 = true }
    }

    var wasTerminated: Bool { terminated.withLock { $0 } }

    /// Every delivered message, decompressed and decoded.
    func decoded() throws -> [[String: Any]] {
        try messages.withLock { $0 }.map { try MapStreamDecoding.decode(framed: $0) }
    }
}

enum MapStreamDecoding {
    static func decode(framed: [UInt8]) throws -> [String: Any] {
        let parts = try #require(MapFraming.split(framed))
        #expect(parts.count == 1)
        let json = try #require(Zstd.decompress(parts[0]))
        return try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
    }
}

/// A control plane on a real SQLite file in a fresh temporary directory.
struct PlaneFixture {
    let directory: String
    let store: Store
    let plane: ControlPlane
    let userID: UInt64

    init(directory: String? = nil) throws {
        let directory = directory ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("hs-plane-\(UUID().uuidString)").path
        self.directory = directory
        store = try Store(path: directory + "/db.sqlite", bcryptCost: 4)
        let pool = try AddressPool(v4Prefix: "100.64.0.0/10", v6Prefix: "fd7a:115c:a1e0::/48")
        let settings = MapSettings(
            baseDomain: "tail.test",
            derpMap: TailnetSettings.derpMapJSON([]),
            dnsConfig: nil,
            fileSharing: false
        )
        userID = try store.user(name: "alice")?.id ?? store.createUser(name: "alice").id
        plane = try ControlPlane(
            storage: StoreAdapter(store: store, pool: pool),
            settings: settings,
            logger: Logger(label: "test", minimumLevel: .critical)
        )
    }

    func makeKey(reusable: Bool = true, expiration: Date? = nil) throws -> String {
        try store.createPreAuthKey(userID: userID, reusable: reusable, ephemeral: false, expiration: expiration, tags: [])
            .secret
    }
}

/// A simulated client: its keys and the requests it sends.
struct FakeClient {
    let machineKey = MachinePublicKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) })!
    var nodeKey = NodePublicKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) })!
    let discoKey = DiscoPublicKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) })!
    let hostname: String

    func registerRequest(authKey: String?) throws -> RegisterRequest {
        var body: [String: Any] = [
            "Version": 130, "NodeKey": nodeKey.text, "Hostinfo": ["Hostname": hostname, "OS": "linux"],
        ]
        if let authKey { body["Auth"] = ["AuthKey": authKey] }
        return try JSONDecoder().decode(RegisterRequest.self, from: JSONSerialization.data(withJSONObject: body))
    }

    func mapRequest(stream: Bool, endpoints: [String] = ["127.0.0.1:41641"]) throws -> MapRequest {
        let body: [String: Any] = [
            "Version": 130, "Compress": "zstd", "KeepAlive": true, "NodeKey": nodeKey.text,
            "DiscoKey": discoKey.text, "Stream": stream, "OmitPeers": !stream, "Endpoints": endpoints,
            "Hostinfo": ["Hostname": hostname, "NetInfo": ["PreferredDERP": 999]],
        ]
        return try JSONDecoder().decode(MapRequest.self, from: JSONSerialization.data(withJSONObject: body))
    }
}

func decodeRegister(_ outcome: RegisterOutcome) throws -> [String: Any] {
    guard case .response(let json) = outcome else {
        Issue.record("expected a RegisterResponse, got \(outcome)")
        return [:]
    }
    return try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
}

@Suite struct ControlPlaneTests {
    @Test func registerWithKeyAuthorizes() throws {
        let fixture = try PlaneFixture()
        let client = FakeClient(hostname: "laptop")
        let reply = try decodeRegister(
            fixture.plane.register(try client.registerRequest(authKey: fixture.makeKey()), machineKey: client.machineKey)
        )
        #expect(reply["Error"] == nil)
        #expect(reply["MachineAuthorized"] as? Bool == true)
        let node = try #require(try fixture.store.nodes().first)
        #expect(node.ipv4 == "100.64.0.1")
        #expect(node.ipv6 == "fd7a:115c:a1e0::1")
        #expect(node.givenName == "laptop")
    }

    @Test func wrongKeyStoresNothing() throws {
        let fixture = try PlaneFixture()
        let client = FakeClient(hostname: "laptop")
        let reply = try decodeRegister(
            fixture.plane.register(
                try client.registerRequest(authKey: "hskey-auth-aaaaaaaaaaaa-" + String(repeating: "b", count: 64)),
                machineKey: client.machineKey
            )
        )
        #expect((reply["Error"] as? String)?.contains("pre-auth key") == true)
        #expect(try fixture.store.nodes().isEmpty)
    }

    @Test func usedSingleUseKeyRejected() throws {
        let fixture = try PlaneFixture()
        let key = try fixture.makeKey(reusable: false)
        let first = FakeClient(hostname: "one")
        let second = FakeClient(hostname: "two")
        _ = fixture.plane.register(try first.registerRequest(authKey: key), machineKey: first.machineKey)
        let reply = try decodeRegister(
            fixture.plane.register(try second.registerRequest(authKey: key), machineKey: second.machineKey)
        )
        #expect(reply["Error"] as? String == "pre-auth key already used")
        #expect(try fixture.store.nodes().count == 1)
    }

    @Test func expiredKeyRejected() throws {
        let fixture = try PlaneFixture()
        let key = try fixture.makeKey(expiration: Date(timeIntervalSinceNow: -60))
        let client = FakeClient(hostname: "late")
        let reply = try decodeRegister(
            fixture.plane.register(try client.registerRequest(authKey: key), machineKey: client.machineKey)
        )
        #expect(reply["Error"] as? String == "pre-auth key expired")
    }

    @Test func otherMachineCannotTakeNode() throws {
        let fixture = try PlaneFixture()
        let owner = FakeClient(hostname: "owner")
        _ = fixture.plane.register(try owner.registerRequest(authKey: fixture.makeKey()), machineKey: owner.machineKey)
        let intruder = FakeClient(hostname: "intruder")
        let reply = try decodeRegister(
            fixture.plane.register(try owner.registerRequest(authKey: nil), machineKey: intruder.machineKey)
        )
        #expect(reply["Error"] as? String == "node exists with a different machine key")
    }

    @Test func tooOldClientRejected() throws {
        let fixture = try PlaneFixture()
        let client = FakeClient(hostname: "old")
        var request = try client.registerRequest(authKey: fixture.makeKey())
        request.version = 100
        guard case .badRequest(let text) = fixture.plane.register(request, machineKey: client.machineKey) else {
            Issue.record("an old client was not rejected")
            return
        }
        #expect(text.contains("113"))
    }

    @Test func streamsGetFullMapThenDeltas() throws {
        let fixture = try PlaneFixture()
        let key = try fixture.makeKey()
        let a = FakeClient(hostname: "a")
        let b = FakeClient(hostname: "b")
        _ = fixture.plane.register(try a.registerRequest(authKey: key), machineKey: a.machineKey)
        let sinkA = RecordingSink()
        let (tokenA, firstA) = try fixture.plane.openMapStream(try a.mapRequest(stream: true), machineKey: a.machineKey, sink: sinkA)
        let fullA = try MapStreamDecoding.decode(framed: firstA)
        #expect(fullA["Node"] != nil)
        #expect(fullA["Peers"] == nil)

        _ = fixture.plane.register(try b.registerRequest(authKey: key), machineKey: b.machineKey)
        let sinkB = RecordingSink()
        let (tokenB, firstB) = try fixture.plane.openMapStream(try b.mapRequest(stream: true), machineKey: b.machineKey, sink: sinkB)
        let fullB = try MapStreamDecoding.decode(framed: firstB)
        let peersOfB = try #require(fullB["Peers"] as? [[String: Any]])
        #expect(peersOfB.map { $0["Name"] as? String } == ["a.tail.test."])

        let joinDeltas = try sinkA.decoded().compactMap { $0["PeersChanged"] as? [[String: Any]] }.flatMap { $0 }
        #expect(joinDeltas.contains { $0["Name"] as? String == "b.tail.test." && $0["Online"] as? Bool == true })

        _ = try fixture.plane.applyMapUpdate(
            try b.mapRequest(stream: false, endpoints: ["127.0.0.1:50000"]),
            machineKey: b.machineKey
        )
        // Only the endpoints changed, so peers get a patch rather than the whole node.
        let endpointDelta = try #require(try sinkA.decoded().last)
        #expect(endpointDelta["PeersChanged"] == nil)
        let endpointPatch = try #require(endpointDelta["PeersChangedPatch"] as? [[String: Any]])
        #expect(endpointPatch.first?["Endpoints"] as? [String] == ["127.0.0.1:50000"])
        #expect(endpointPatch.first?["DiscoKey"] == nil)
        #expect(endpointPatch.first?.keys.count == 2)

        fixture.plane.closeMapStream(tokenB)
        let patch = try #require(try sinkA.decoded().last?["PeersChangedPatch"] as? [[String: Any]])
        #expect(patch.first?["Online"] as? Bool == false)

        let idB = try #require(try fixture.store.node(nodeKey: b.nodeKey)?.id)
        try fixture.plane.deleteNode(id: idB)
        #expect(try sinkA.decoded().last?["PeersRemoved"] as? [Int] == [Int(idB)])
        fixture.plane.closeMapStream(tokenA)
    }

    @Test func restartKeepsNodesAndAddresses() throws {
        let fixture = try PlaneFixture()
        let client = FakeClient(hostname: "box")
        _ = fixture.plane.register(try client.registerRequest(authKey: fixture.makeKey()), machineKey: client.machineKey)
        let before = try #require(try fixture.store.nodes().first)

        let restarted = try PlaneFixture(directory: fixture.directory)
        let reply = try decodeRegister(
            restarted.plane.register(try client.registerRequest(authKey: nil), machineKey: client.machineKey)
        )
        #expect(reply["Error"] == nil)
        #expect(reply["MachineAuthorized"] as? Bool == true)
        let after = try #require(try restarted.store.nodes().first)
        #expect(after.id == before.id)
        #expect(after.ipv4 == before.ipv4)
        #expect(after.ipv6 == before.ipv6)
        #expect(try restarted.store.nodes().count == 1)
    }

    @Test func newNodeKeyKeepsAddresses() throws {
        let fixture = try PlaneFixture()
        let key = try fixture.makeKey()
        var client = FakeClient(hostname: "box")
        _ = fixture.plane.register(try client.registerRequest(authKey: key), machineKey: client.machineKey)
        let before = try #require(try fixture.store.nodes().first)
        client.nodeKey = NodePublicKey(bytes: [UInt8](repeating: 9, count: 32))!
        _ = fixture.plane.register(try client.registerRequest(authKey: key), machineKey: client.machineKey)
        let nodes = try fixture.store.nodes()
        #expect(nodes.count == 1)
        #expect(nodes.first?.ipv4 == before.ipv4)
        #expect(nodes.first?.nodeKey == client.nodeKey)
    }
}

/// Keeps the frames a stream receives, so a test can see whether streams share one buffer.
final class FrameKeepingSink: MapStreamSink, Sendable {
    private let frames = Mutex<[[UInt8]]>([])

    func deliver(_ framedMessage: [UInt8]) {
        frames.withLock { $0.append(framedMessage) }
    }

    func terminate() {}

    var last: [UInt8]? { frames.withLock { $0.last } }
}

@Suite struct FanOutTests {
    /// One node joining a tailnet of 200 streams is encoded and compressed once: every stream
    /// receives the very same buffer, not an equal copy.
    @Test func joinEncodedOncePerTailnet() throws {
        let fixture = try PlaneFixture()
        let key = try fixture.makeKey()
        var sinks: [FrameKeepingSink] = []
        for index in 0..<200 {
            let client = FakeClient(hostname: "n\(index)")
            _ = fixture.plane.register(try client.registerRequest(authKey: key), machineKey: client.machineKey)
            let sink = FrameKeepingSink()
            _ = try fixture.plane.openMapStream(try client.mapRequest(stream: true), machineKey: client.machineKey, sink: sink)
            sinks.append(sink)
        }
        let newcomer = FakeClient(hostname: "newcomer")
        _ = fixture.plane.register(try newcomer.registerRequest(authKey: key), machineKey: newcomer.machineKey)
        _ = try fixture.plane.openMapStream(
            try newcomer.mapRequest(stream: true),
            machineKey: newcomer.machineKey,
            sink: FrameKeepingSink()
        )

        let frames = try sinks.map { try #require($0.last) }
        let addresses = Set(frames.map { $0.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } })
        #expect(addresses.count == 1)
        let delta = try MapStreamDecoding.decode(framed: frames[0])
        let changed = try #require(delta["PeersChanged"] as? [[String: Any]])
        #expect(changed.first?["Name"] as? String == "newcomer.tail.test.")
    }
}
